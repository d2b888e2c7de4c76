/* The P-CSCF daemon context: configuration (pcscf.yaml, docs/pcscf.md),
 * the registration cache and the proxy core handle. One per process;
 * read-only after start except the store (its own lock) and the counters
 * (atomic metrics). */
#ifndef PCSCF_CONTEXT_H
#define PCSCF_CONTEXT_H

#include <stdint.h>
#include <stddef.h>

#include "base/ims_str.h"
#include "cfg/ims_cfg.h"
#include "sip/tp/sip_tp.h"
#include "reg-store.h"
#include "reg-edit.h"
#include "regevent-subs.h"

struct sip_proxy;
struct sip_proxy_ctx;
struct sip_proxy_branch;
struct event;

#define PCSCF_MAX_LISTEN 8
#define PCSCF_MAX_ICSCF 8

typedef struct pcscf_cfg {
	const char *realm;                 /* home domain; orig-ioi */
	sip_tp_listen_t listen[PCSCF_MAX_LISTEN];
	size_t n_listen;
	int workers;
	const char *hosts[17];             /* sip.hosts: "name=addr", NULL-terminated */                       /* SIP worker threads, 0 = cores */
	const char *icscf[PCSCF_MAX_ICSCF];/* I-CSCF URIs, tried in order (503/timeout: next) */
	unsigned n_icscf;
	const char *visited_network_id;    /* P-Visited-Network-ID value */
	const char *host;                  /* our host in Path/Contact (default: first listener) */
	uint16_t port;                     /* our port in Path/Contact */
	int reg_event;                     /* SUBSCRIBE to the reg event after a registration */
	int expiry_interval_ms;            /* registration expiry sweep period */
} pcscf_cfg_t;

typedef struct pcscf_ctx {
	pcscf_cfg_t cfg;
	char path_uri[256];                /* sip:term@host:port;lr */
	char self_uri[256];                /* sip:pcscf@host:port (Contact, From of SUBSCRIBE) */
	char visited_quoted[256];          /* "realm" */
	pcscf_reg_opts_t reg_opts;
	pcscf_reg_store_t *store;
	pcscf_subs_t *subs;                /* our reg-event subscriptions */
	struct sip_proxy *proxy;
	struct event *expiry_ev;
} pcscf_ctx_t;

/* The daemon's config keys (for ims_app_desc_t.known_keys). */
extern const char *const pcscf_known_keys[];

/* Reads the config into a new context (shared main's configure()).
 * Returns 0 or IMS_ECONFIG / IMS_ENOMEM with one line in err. */
int pcscf_configure(ims_cfg_t *cfg, void **ctx /* out */, char *err, size_t errlen);
/* Binds the listeners and starts the workers. */
int pcscf_start(void *ctx, char *err, size_t errlen);
void pcscf_stop(void *ctx);
void pcscf_destroy(void *ctx);

/* Seconds on the monotonic clock (registration expiry). */
int64_t pcscf_now(void);

/* The proxy hooks (route-handler.c, reg-handler.c, regevent-handler.c). */
void pcscf__on_request(struct sip_proxy_ctx *pctx, void *ud);
int pcscf__on_response(struct sip_proxy_ctx *pctx, struct sip_proxy_branch *b, sip_msg_t *rsp,
		       void *ud);
void pcscf__register(pcscf_ctx_t *c, struct sip_proxy_ctx *pctx);
int pcscf__register_response(pcscf_ctx_t *c, struct sip_proxy_ctx *pctx,
			     struct sip_proxy_branch *b, sip_msg_t *rsp);
/* Sends SUBSCRIBE Event: reg for a new registration (TS 24.229 §5.2.3);
 * on the calling worker. */
void pcscf__regevent_subscribe(pcscf_ctx_t *c, int worker, const pcscf_reg_t *reg);
/* Handles a NOTIFY for our reg-event subscription; answers it. */
void pcscf__regevent_notify(pcscf_ctx_t *c, struct sip_proxy_ctx *pctx);

/* Sets the registration / subscription gauges from the tables. */
void pcscf__update_gauges(pcscf_ctx_t *c);

/* The flow a request came on. */
void pcscf__flow_from_peer(const sip_tp_peer_t *src, pcscf_flow_t *out /* out */);

#endif
