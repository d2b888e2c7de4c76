/* Cx client: send a request, get one callback with the answer, a timeout
 * or a transport failure (TS 29.229 over libfreeDiameter).
 *
 * Threading: the callback runs on a freeDiameter thread (answer) or on its
 * expiry thread (timeout), never on the caller's event loop. The answer and
 * every view in it are valid only during the callback: copy what you keep
 * and post it to your loop. */
#ifndef CX_CLIENT_H
#define CX_CLIENT_H

#include "dia/cx-msg.h"

typedef void (*cx_answer_cb_t)(void *arg, const cx_answer_t *ans);

/* Sends req (req->cmd selects the command) and arranges for cb(arg, ans)
 * to be called exactly once: with ans->status CX_ANS_OK and the decoded
 * answer, CX_ANS_TIMEOUT after timeout_ms (0: the configured default),
 * CX_ANS_UNREACHABLE when freeDiameter could not deliver it (no open peer
 * for the destination: Result-Code DIAMETER_UNABLE_TO_DELIVER), or
 * CX_ANS_ERROR. req is only read during the call.
 * Returns 0 (cb will be called), or IMS_EINVAL (bad request: see
 * cx_req_encode), IMS_ENOMEM, IMS_EUNREACH (could not even queue it);
 * cb is not called when an error is returned. */
int cx_client_send(const cx_req_t *req, unsigned timeout_ms, cx_answer_cb_t cb, void *arg);

/* The same with the command set for you (req->cmd is ignored). */
int cx_client_send_uar(const cx_req_t *req, cx_answer_cb_t cb, void *arg);
int cx_client_send_mar(const cx_req_t *req, cx_answer_cb_t cb, void *arg);
int cx_client_send_sar(const cx_req_t *req, cx_answer_cb_t cb, void *arg);
int cx_client_send_lir(const cx_req_t *req, cx_answer_cb_t cb, void *arg);
int cx_client_send_rtr(const cx_req_t *req, cx_answer_cb_t cb, void *arg);
int cx_client_send_ppr(const cx_req_t *req, cx_answer_cb_t cb, void *arg);

/* Blocking variant for threads that may wait (REST handlers, tools):
 * sends req and waits for the outcome, decoding the answer into *ans with
 * its strings in `arena` (caller-owned; not touched by anyone else during
 * the call). Returns 0 when ans->status was set (look at it and at the
 * codes), or the errors of cx_client_send. Should freeDiameter report
 * nothing at all (a core shutting down), it gives up 5 s after the timeout
 * with CX_ANS_TIMEOUT. Never call it from a freeDiameter callback (it
 * would wait for its own thread). */
int cx_client_call(const cx_req_t *req, unsigned timeout_ms, ims_arena_t *arena,
		   cx_answer_t *ans /* out */);

/* As cx_client_call for a message built by the caller (cx_req_encode, then
 * edited: tests drop or add AVPs this way). *m is consumed (NULL on
 * return, whatever the outcome). */
int cx_client_call_msg(struct msg **m, unsigned timeout_ms, ims_arena_t *arena,
		       cx_answer_t *ans /* out */);

#endif
