/* The S-CSCF registrar (TS 24.229 §5.4.1, RFC 3261 §10.3): REGISTER in,
 * MAR/401 challenge, response check, SAR, bindings, 200 OK; plus the
 * request dispatch and the periodic expiry. Runs on the SIP workers. */
#ifndef SCSCF_REG_HANDLER_H
#define SCSCF_REG_HANDLER_H

#include "context.h"
#include "reg-store.h"
#include "sip/proxy/sip_proxy.h"

/* Handles one REGISTER to the end (answers it, now or after Cx). */
void scscf_reg_on_register(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx);

/* The proxy's on_request hook for the S-CSCF: REGISTER and reg-event
 * SUBSCRIBE here, anything else to ctx->on_session (501 without one).
 * ud is the scscf_ctx_t. */
void scscf_on_request(sip_proxy_ctx_t *pctx, void *ud);

/* The proxy's on_final hook (reg-event dialogs learn their To tag). */
void scscf_on_final(sip_proxy_ctx_t *pctx, sip_msg_t *rsp, void *ud);

/* The proxy's on_response / on_cancel hooks: handed to the session side
 * (ctx->on_session_response / on_session_cancel) when it set them. */
int scscf_on_response(sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b, sip_msg_t *rsp, void *ud);
void scscf_on_cancel(sip_proxy_ctx_t *pctx, void *ud);

/* One expiry sweep at `now`: removes expired bindings, sends SAR
 * TIMEOUT_DEREGISTRATION for every registration that lost its last one,
 * NOTIFYs reg-event subscribers, ends expired subscriptions, and sends SAR
 * AUTHENTICATION_TIMEOUT for challenges nobody answered. Call on a worker
 * thread. Returns how many registrations changed. */
int scscf_reg_expire_run(scscf_ctx_t *ctx, int64_t now);

/* A registration ended by the network (RTR): bindings removed, reg-event
 * subscribers told (event deactivated/rejected). Thread-safe; NOTIFYs are
 * posted to worker 0. Returns 0 or IMS_ENOENT. */
int scscf_reg_network_dereg(scscf_ctx_t *ctx, ims_str_t impu, scscf_contact_event_t ev);

/* The "received" form of a request source: "sip:ip:port;transport=udp". */
ims_str_t scscf_src_uri(const sip_tp_peer_t *src, ims_arena_t *a);

#endif
