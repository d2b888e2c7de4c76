/* Session side of the S-CSCF (owned by "S-CSCF part 2"; this header was
 * created by the registrar side with the one entry point the dispatcher
 * needs: extend it freely).
 *
 * The dispatcher in main.c/context handles REGISTER and SUBSCRIBE with
 * Event: reg itself and hands every other request here. */
#ifndef SCSCF_SESSION_H
#define SCSCF_SESSION_H

#include "context.h"

struct sip_msg;
struct sip_proxy_ctx; /* common/sip/proxy: one request context (sip_proxy_ctx_t) */

/* Handles one incoming request that is neither REGISTER nor a reg-event
 * SUBSCRIBE (originating/terminating routing, iFC/AS chaining, in-dialog
 * requests). Runs on the SIP worker that received it; may keep `req` for
 * an asynchronous step as the proxy core allows. Returns 0 when the
 * request was taken over (answered or forwarded), or a negative IMS_E*
 * (the dispatcher then answers 500). */
int scscf_session_on_request(scscf_ctx_t *ctx, struct sip_proxy_ctx *req, struct sip_msg *msg);

/* Sets up the session side on a configured context: reads the "session."
 * keys of ctx->ycfg (session.icscf_uri, default sip:127.0.0.1:4060;
 * session.breakout_uri, default none; session.home_tel_prefixes, default
 * "" = every tel: is tried at home; session.odi_ttl seconds, default 300),
 * creates the odi table and installs ctx->on_session and
 * ctx->on_session_response. Needs ctx->cfg.own_uri and realm. Returns 0,
 * IMS_ECONFIG (one line in err naming the key) or IMS_ENOMEM. */
int scscf_session_init(scscf_ctx_t *ctx, char *err, size_t errlen);

/* Undoes scscf_session_init. NULL or an uninitialised ctx is fine. */
void scscf_session_destroy(scscf_ctx_t *ctx);

/* Drops expired odi entries (call it from the periodic expiry tick). */
void scscf_session_expire(scscf_ctx_t *ctx);

/* Session side internals shared with isc-register.c: the User-Data cache
 * for third-party de-registrations (NULL before scscf_session_init). */
struct scscf_isc_cache *scscf_session__isc_cache(scscf_ctx_t *ctx);
/* Number of odi entries held (tests; the tick also sets the
 * scscf_odi_entries gauge). */
size_t scscf_session__odi_count(scscf_ctx_t *ctx);

#endif
