/* What the S-CSCF answers on Cx (TS 29.228 §6.5): RTR (network-initiated
 * de-registration) and PPR (a new profile). Handlers run on freeDiameter
 * threads; the store and reg-event code they call are thread-safe. */
#ifndef SCSCF_CX_HANDLER_H
#define SCSCF_CX_HANDLER_H

#include "context.h"
#include "dia/cx-msg.h"

/* Registers the RTR and PPR handlers with common/dia. Returns 0 or the
 * error of cx_server_register. */
int scscf_cx_handlers_register(scscf_ctx_t *ctx);

/* The handlers themselves (exposed for tests): fill ans. */
void scscf_cx_on_rtr(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena);
void scscf_cx_on_ppr(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena);

#endif
