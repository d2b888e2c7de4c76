/* The HSS's Cx server (TS 29.228 §6, result codes §8, TS 29.229): UAR,
 * MAR, SAR and LIR handlers on the subscriber store, and the HSS-initiated
 * RTR and PPR.
 *
 * The handlers run on freeDiameter threads (several at once); they only
 * touch the thread-safe store and the Cx state below (own mutex). */
#ifndef HSS_CX_HANDLER_H
#define HSS_CX_HANDLER_H

#include <stddef.h>

#include "context.h"
#include "dia/cx-msg.h"

/* TS 29.228 §6.3: we hand out at most this many vectors per MAR */
#define HSS_CX_MAX_VECTORS 5

/* Installs the Cx hooks into ctx (cx_start, cx_stop, send_rtr, send_ppr)
 * and allocates ctx->cx. main.c calls it once before cx_start.
 * Returns 0 or IMS_ENOMEM. */
int hss_cx_init(hss_ctx_t *ctx);

/* The request handlers (cx_handler_t shape, arg = hss_ctx_t *). Exposed so
 * unit tests can drive them without sockets; ctx->cx must come from
 * hss_cx_init. They always leave a result in ans. */
void hss_cx_uar(void *ctx, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena);
void hss_cx_mar(void *ctx, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena);
void hss_cx_sar(void *ctx, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena);
void hss_cx_lir(void *ctx, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena);

/* The Diameter host (Origin-Host of its SAR) of the S-CSCF serving impi,
 * copied into buf (cap bytes). Falls back to the host part of the stored
 * S-CSCF SIP URI (sip:scscf.realm:6060 -> scscf.realm) when the HSS has not
 * seen a SAR since it started. Returns 0 or IMS_ENOENT. */
int hss_cx_scscf_host(hss_ctx_t *ctx, const char *impi, const char *scscf_name, char *buf,
		      size_t cap);

#endif
