/* The S-CSCF daemon context: configuration, the registrar store, the
 * nonce table, the Cx hooks and the handle of the SIP proxy core.
 *
 * Shared between the registration side (reg-*, auth-*, cx-*, regevent-*)
 * and the session side (session-*, ifc-*, isc-*, profile.*). One context
 * per process, built by configure() in main.c and read by every SIP
 * worker thread; the mutable parts (store, nonce table) have their own
 * locks, the rest is read-only after start. */
#ifndef SCSCF_CONTEXT_H
#define SCSCF_CONTEXT_H

#include <stdint.h>
#include <stddef.h>

#include "base/ims_str.h"
#include "cfg/ims_cfg.h"

struct sip_msg;
struct sip_proxy;     /* common/sip/proxy: the stateful proxy core */
struct sip_proxy_ctx; /* common/sip/proxy: one request context (sip_proxy_ctx_t) */
struct scscf_reg_store;
struct scscf_auth_table;
struct scscf_cx;
struct scscf_regevent;
struct scscf_ctx;

#define SCSCF_MAX_LISTENERS 8

/* How a REGISTER without credentials is challenged. */
typedef enum scscf_auth_scheme {
	SCSCF_AUTH_AKA = 0, /* Digest-AKAv1-MD5 (RFC 3310, TS 33.203) */
	SCSCF_AUTH_MD5,     /* SIP Digest MD5 with HA1 from the HSS (TS 29.228 §6.3.9) */
} scscf_auth_scheme_t;

typedef struct scscf_listener {
	const char *addr; /* "127.0.0.1" */
	uint16_t port;    /* 6060 */
	int udp, tcp;     /* which transports */
} scscf_listener_t;

/* Every setting from scscf.yaml (docs/scscf.md). Strings are owned by the
 * ims_cfg_t the context keeps. */
typedef struct scscf_cfg {
	const char *realm;       /* home domain, e.g. ims.mnc001.mcc001.3gppnetwork.org */
	const char *own_uri;     /* sip:scscf.<realm>:6060: our name (Server-Name in MAR/SAR) */
	const char *route_uri;   /* sip:<host>:<port> others can reach without DNS: Service-Route,
				  * reg-event Contact (and the odi Route); from `advertise`, else
				  * the first listener, else own_uri */
	scscf_listener_t listen[SCSCF_MAX_LISTENERS];
	unsigned n_listen;
	unsigned workers;        /* SIP worker threads; 0 = number of cores */

	const char *dia_identity; /* scscf.<realm> */
	const char *dia_realm;
	const char *hss_host;     /* hss.<realm> */
	const char *hss_addr;     /* 127.0.0.1 */
	uint16_t hss_port;       /* 3868 */
	uint16_t dia_port;       /* our Diameter listener, 0 = none */
	unsigned cx_timeout_ms;  /* answer timeout of MAR/SAR */

	const char *db_path;     /* SQLite file of the bindings; ":memory:" allowed */
	uint32_t default_expires, min_expires, max_expires; /* RFC 3261 §10.2.1.1 */
	uint32_t max_contacts;   /* live bindings per registration; 0 = no bound */
	uint32_t nonce_ttl;      /* seconds a challenge stays valid */
	uint32_t expiry_interval_ms; /* period of the expiry sweep */
	scscf_auth_scheme_t auth_default;
	uint32_t sub_default_expires, sub_max_expires; /* reg-event SUBSCRIBE */
} scscf_cfg_t;

/* Session side entry point, see scscf/session.h. Stored in the context as
 * a pointer so the registrar works (answers 501) before the session code
 * exists and tests can plug their own. Returns 0 when the request was
 * taken over (answered or forwarded), a negative IMS_E* otherwise (the
 * dispatcher then answers 500). */
typedef int (*scscf_session_fn)(struct scscf_ctx *ctx, struct sip_proxy_ctx *req,
				struct sip_msg *msg);

struct sip_proxy_branch;

/* Optional session-side hooks for responses on its branches and for a
 * CANCELled INVITE (the proxy's on_response / on_cancel are routed here
 * for every request the session side took). NULL = default processing. */
typedef int (*scscf_session_rsp_fn)(struct scscf_ctx *ctx, struct sip_proxy_ctx *req,
				    struct sip_proxy_branch *b, struct sip_msg *rsp);
typedef void (*scscf_session_cancel_fn)(struct scscf_ctx *ctx, struct sip_proxy_ctx *req);

typedef struct scscf_ctx {
	scscf_cfg_t cfg;
	ims_cfg_t *ycfg;                  /* not owned: the shared main frees it; the
					   * session side reads its own keys under
					   * "session." from it */
	struct sip_proxy *proxy;          /* set by start() */
	struct scscf_reg_store *store;    /* registrations (reg-store.h) */
	struct scscf_auth_table *auth;    /* open challenges (auth-nonce.h) */
	struct scscf_cx *cx;              /* Cx client side (cx-build.h) */
	struct scscf_regevent *regevent;  /* reg event subscriptions (regevent.h) */
	scscf_session_fn on_session;      /* non-REGISTER, non-reg-event requests */
	scscf_session_rsp_fn on_session_response;   /* may be NULL */
	scscf_session_cancel_fn on_session_cancel;  /* may be NULL */
	void (*on_tick)(struct scscf_ctx *ctx);     /* session side's periodic work, may be NULL */
	void *session;                    /* session side's own state (part 2) */
} scscf_ctx_t;

/* The daemon's life cycle for ims_app_main (common/app/ims_app.h):
 * configure reads scscf.yaml (keys in scscf_known_keys, documented in
 * docs/scscf.md) into a new context without opening anything; start opens
 * the SQLite store (reloading every registration), starts Diameter (peer:
 * the HSS; RTR/PPR handlers), the SIP proxy and the expiry timer; stop
 * undoes start; destroy frees the context. ready is the /healthz hook (not
 * ready while the HSS connection is down). Errors come back as IMS_E* with
 * one line in err naming the key or address. */
int scscf_configure(ims_cfg_t *cfg, void **ctx, char *err, size_t errlen);
int scscf_start(void *ctx, char *err, size_t errlen);
void scscf_stop(void *ctx);
void scscf_destroy(void *ctx);
int scscf_ready(void *ctx, char *why, size_t whylen);
extern const char *const scscf_known_keys[];

/* Wall-clock seconds: binding and subscription expiry times are absolute
 * so they survive a restart. */
int64_t scscf_now(void);

#endif
