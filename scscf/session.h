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

#endif
