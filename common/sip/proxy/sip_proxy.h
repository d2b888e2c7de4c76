/* The stateful proxy core (RFC 3261 §16) the three CSCFs are written on.
 *
 * A sip_proxy_t owns the transports (sip_tp), one transaction layer per
 * worker thread, and the request contexts. For every incoming request it
 * does what RFC 3261 §16.3-§16.4 asks of any proxy, then hands the request
 * to the daemon's on_request hook:
 *   - a malformed request is answered statelessly "400 <parser reason>" when
 *     its Via/From/To/Call-ID/CSeq can be found, else dropped and counted;
 *   - overload (more live transactions on the worker than the bound) ->
 *     stateless 503 with Retry-After;
 *   - a server transaction is created (not for ACK); INVITE gets 100 Trying
 *     at once (§16.2, §17.2.1);
 *   - §16.3: Max-Forwards 0 -> 483 (OPTIONS too), a loop (our Via with the
 *     same loop hash, §16.6 step 8) -> 482, an unsupported Proxy-Require ->
 *     420 with Unsupported;
 *   - §16.4: a Request-URI that is ours (a strict router before us) is
 *     replaced by the last Route value; a top Route that is ours is removed
 *     (see sip_proxy_ctx_removed_route: the S-CSCF reads its ;orig there);
 *   - CANCEL (§16.10): matched to its INVITE -> 200 to the CANCEL, the
 *     on_cancel hook, CANCEL sent on every pending branch (their 487 flows
 *     back as usual), 487 sent upstream when no branch exists (e.g. while
 *     suspended); unmatched -> 481 (RFC 3261 §9.2);
 *   - a response matching no transaction whose top Via is ours (a 2xx
 *     retransmission after the context ended, RFC 6026; an answer to a
 *     stateless relay) is forwarded by its next Via (§16.11, §18.2.2);
 *     others are dropped; so is a status outside 100-699.
 *
 * The on_request hook must end the request in one of these ways (before it
 * returns, or later after sip_proxy_suspend):
 *   sip_proxy_reply()                         answer (final, or provisional then more)
 *   sip_proxy_forward() / sip_proxy_fork()    proxy to one or several targets
 *   sip_proxy_relay_stateless()               forward with no transaction (ACK...)
 *   sip_proxy_suspend() ... sip_proxy_resume() continue later, from any thread
 * A hook that returns without any of these gets "500 No decision" sent (an
 * ACK is just dropped). Branches: each response on a branch goes to
 * on_response, which may inspect/modify it, absorb it (e.g. a 408/5xx from
 * an application server) and add a new branch (sequential forking, TS
 * 24.229 §5.4.3.3). Final responses are collected and the best one is sent
 * upstream (§16.7 step 6: 6xx first, else the lowest class, preferring
 * 401/407/415/420/484 in 4xx; 503 becomes 500); a 2xx is sent upstream at
 * once, and a 2xx or 6xx cancels the other pending branches. on_final sees
 * the response about to be sent upstream (sip_proxy_reply ones too).
 *
 * Threads: each context lives on one worker (sip_proxy_ctx_worker). Hooks
 * run there; every sip_proxy_ctx_* call must be made there, except
 * sip_proxy_resume() and sip_proxy_post(), which are safe from any thread
 * (e.g. a freeDiameter callback).
 *
 * Memory: a context has an arena (sip_proxy_ctx_arena) that lives until its
 * final response went upstream, every branch is done and it is not
 * suspended (then its transactions go on without it, shrunk, absorbing
 * retransmissions; a later 2xx retransmission is forwarded by Via without
 * hooks); the request given to
 * the hook (sip_proxy_ctx_msg) is a working copy the daemon may edit; each
 * branch forwards a copy of it with the target's changes.
 */
#ifndef SIP_PROXY_H
#define SIP_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "base/ims_arena.h"
#include "base/ims_clock.h"
#include "base/ims_str.h"
#include "sip/msg/sip_msg.h"
#include "sip/tp/sip_tp.h"
#include "sip/tsx/sip_tsx.h"

typedef struct sip_proxy sip_proxy_t;
typedef struct sip_proxy_ctx sip_proxy_ctx_t;
typedef struct sip_proxy_branch sip_proxy_branch_t;

/* Returned by on_response. */
enum {
	SIP_PROXY_CONTINUE = 0, /* default processing (forward 1xx, collect final) */
	SIP_PROXY_ABSORB = 1,   /* forget this response (the hook may have added a branch) */
};

typedef struct sip_proxy_hooks {
	/* Every request but CANCEL (and retransmissions), after the checks
	 * above. Required. */
	void (*on_request)(sip_proxy_ctx_t *ctx, void *ud);
	/* Each response on a branch, provisional and final, including the
	 * ones the core makes up: 408 (timer B/F/C), 503 (next hop
	 * unreachable, no route), 487 is never made up. `rsp` may be edited.
	 * NULL = always continue. */
	int (*on_response)(sip_proxy_ctx_t *ctx, sip_proxy_branch_t *b, sip_msg_t *rsp, void *ud);
	/* The final response about to go upstream (may be edited). May be NULL. */
	void (*on_final)(sip_proxy_ctx_t *ctx, sip_msg_t *rsp, void *ud);
	/* The INVITE of this context was cancelled by the UAC (after the core
	 * answered the CANCEL; before branches are cancelled). May be NULL. */
	void (*on_cancel)(sip_proxy_ctx_t *ctx, void *ud);
	void *ud;
} sip_proxy_hooks_t;

typedef struct sip_proxy_cfg {
	sip_tp_cfg_t tp;            /* listeners, workers, limits */
	uint32_t t1_ms, t2_ms, t4_ms; /* 0 = RFC defaults 500/4000/5000 */
	uint32_t timer_c_ms;        /* INVITE branch without a final (§16.6 step 11), default 180000 */
	/* Host names (or host:port) that also mean "this proxy" in Route and
	 * Request-URI (besides every listener address), e.g.
	 * "scscf.ims.mnc001.mcc001.3gppnetwork.org". NULL-terminated, copied. */
	const char *const *aliases;
	/* Option tags accepted in Proxy-Require (NULL-terminated, copied). */
	const char *const *supported;
	/* Transactions still waiting for their final response, per worker:
	 * above it a new request gets a stateless 503 (default 100000). */
	uint32_t max_tsx_per_worker;
	/* Transactions past their final (kept, shrunk, only to absorb
	 * retransmissions until timers J/K/L/M, ~1 KB each), per worker:
	 * above it new ones are refused the same way (default 500000). */
	uint32_t max_done_tsx_per_worker;
	const char *server;          /* Server header on local answers; NULL = none */
	/* Test mode: with test_send set no socket is opened and no thread is
	 * started; there is one worker (0) driven by sip_proxy_test_inject()
	 * and sip_proxy_test_run() on `test_clock` (NULL = monotonic). The
	 * listener list still gives the local addresses (not bound). */
	sip_tsx_send_fn test_send;
	void *test_send_ud;
	const ims_clock_t *test_clock;
	/* Static name -> numeric address map used before getaddrinfo, e.g.
	 * "scscf.ims.mnc001.mcc001.3gppnetwork.org=127.0.0.1" (NULL-terminated,
	 * copied). Lets a lab run with names that DNS does not know. */
	const char *const *hosts;
} sip_proxy_cfg_t;

/* Creates the proxy and binds its listeners (cfg and hooks copied).
 * Returns 0 and *out, IMS_ECONFIG / IMS_EIO with one line in err, or
 * IMS_ENOMEM. */
int sip_proxy_create(const sip_proxy_cfg_t *cfg, const sip_proxy_hooks_t *hooks,
		     sip_proxy_t **out /* out */, char *err, size_t errlen);
/* Starts the worker threads. Returns 0 or IMS_EIO. */
int sip_proxy_start(sip_proxy_t *p);
/* Stops and joins the workers (not from a worker thread). */
void sip_proxy_stop(sip_proxy_t *p);
/* Frees everything: functions posted after stop still run first, then
 * contexts still alive are released (their data free functions run). Stop
 * whatever may still call sip_proxy_resume/post (e.g. the Diameter stack)
 * before this. NULL is fine. */
void sip_proxy_destroy(sip_proxy_t *p);

int sip_proxy_nworkers(const sip_proxy_t *p);
/* The transport (NULL in test mode). */
sip_tp_t *sip_proxy_tp(sip_proxy_t *p);
/* Runs fn(arg) on a worker's thread (thread-safe). Returns 0, IMS_EINVAL
 * or IMS_ENOMEM (fn not called). */
int sip_proxy_post(sip_proxy_t *p, int worker, void (*fn)(void *arg), void *arg);

/* "sip:<advertised host>:<port>;transport=<tcp|udp>" of listener i, in a.
 * (.s NULL on a bad index or out-of-memory). */
ims_str_t sip_proxy_local_uri(const sip_proxy_t *p, int listener, ims_arena_t *a);
/* 1 when the URI's host[:port] is one of our listeners or aliases. */
int sip_proxy_is_local_uri(const sip_proxy_t *p, const sip_uri_t *u);

/* ---- the request context ------------------------------------------- */

/* The working copy of the request (editable: headers, Request-URI, body). */
sip_msg_t *sip_proxy_ctx_msg(sip_proxy_ctx_t *ctx);
/* The request as received (read-only; what responses are built from). */
const sip_msg_t *sip_proxy_ctx_received(const sip_proxy_ctx_t *ctx);
const sip_tp_peer_t *sip_proxy_ctx_src(const sip_proxy_ctx_t *ctx);
sip_method_t sip_proxy_ctx_method(const sip_proxy_ctx_t *ctx);
/* 1 when the request has a To tag (a mid-dialog request). */
int sip_proxy_ctx_in_dialog(const sip_proxy_ctx_t *ctx);
/* The Route value §16.4 removed because it was ours (e.g.
 * "<sip:scscf.ims.example:6060;lr;orig>"), empty when none; parsed form
 * (NULL when none). */
ims_str_t sip_proxy_ctx_removed_route(const sip_proxy_ctx_t *ctx);
const sip_nameaddr_t *sip_proxy_ctx_removed_route_parsed(const sip_proxy_ctx_t *ctx);
int sip_proxy_ctx_worker(const sip_proxy_ctx_t *ctx);
sip_proxy_t *sip_proxy_ctx_proxy(const sip_proxy_ctx_t *ctx);
/* Memory living as long as the context. */
ims_arena_t *sip_proxy_ctx_arena(sip_proxy_ctx_t *ctx);
/* The daemon's per-request pointer; free_fn (may be NULL) is called with
 * it when the context ends. */
void sip_proxy_ctx_set_data(sip_proxy_ctx_t *ctx, void *data, void (*free_fn)(void *data));
void *sip_proxy_ctx_data(const sip_proxy_ctx_t *ctx);
/* 1 once a final response went upstream (or the UAC cancelled). */
int sip_proxy_ctx_done(const sip_proxy_ctx_t *ctx);
/* 1 when the UAC cancelled this INVITE. */
int sip_proxy_ctx_cancelled(const sip_proxy_ctx_t *ctx);
/* Number of branches still waiting for a final response. */
int sip_proxy_ctx_pending(const sip_proxy_ctx_t *ctx);

/* Context timers (proxy-timer.c): fn(ctx, arg) runs on the context's
 * worker delay_ms from now, unless a final response went upstream or the
 * UAC cancelled meanwhile (e.g. the ring time of one group of contacts in
 * sequential forking, RFC 3261 §16.6). An armed timer holds a reference on
 * the context (it outlives the request by at most delay_ms); the record
 * lives in the context arena. Returns 0 and *out (may be NULL),
 * IMS_EINVAL, IMS_ENOMEM. sip_proxy_timer_stop: stops an armed timer
 * (harmless once fired or stopped); worker thread only. */
typedef struct sip_proxy_timer sip_proxy_timer_t;
typedef void (*sip_proxy_timer_fn)(sip_proxy_ctx_t *ctx, void *arg);
int sip_proxy_ctx_timer(sip_proxy_ctx_t *ctx, uint32_t delay_ms, sip_proxy_timer_fn fn, void *arg,
			sip_proxy_timer_t **out /* out, may be NULL */);
void sip_proxy_timer_stop(sip_proxy_timer_t *t);

/* ---- actions ---------------------------------------------------------- */

/* Answers the request statefully with a response built from the received
 * request (RFC 3261 §8.2.6): `reason` empty = default phrase, `hdrs`
 * (may be empty) extra header lines "Name: value\r\n...", `ctype`+`body`
 * an optional body. A provisional code may be followed by more actions; a
 * final one ends the request (pending branches are cancelled). ACK: no-op.
 * Returns 0, IMS_ESTATE (final already sent), IMS_ENOMEM or a send error. */
int sip_proxy_reply(sip_proxy_ctx_t *ctx, int code, ims_str_t reason, ims_str_t hdrs,
		    ims_str_t ctype, ims_str_t body);

/* One place to send a request. All fields optional (a zeroed target, or a
 * NULL target pointer, forwards by the request's own Route / Request-URI). */
typedef struct sip_proxy_target {
	ims_str_t ruri;           /* new Request-URI for this branch */
	/* Explicit next hop as a SIP URI, e.g. "sip:10.0.0.5:6060;transport=tcp"
	 * or "sip:icscf.ims.example" (resolved with getaddrinfo, cached); empty:
	 * the top Route after `routes` are pushed, else the Request-URI
	 * (§16.6 steps 6-7; maddr, port and ;transport honoured). */
	ims_str_t next_hop;
	const ims_str_t *routes;  /* Route values pushed on top, in this order */
	size_t nroutes;
	ims_str_t hdrs;           /* extra header lines for this branch "Name: v\r\n" */
	void *data;               /* per-branch user pointer */
	/* No response at all (not even 100) within this many ms: the branch
	 * ends with a made-up 408, reported through on_response like any final
	 * (an application server that is down, TS 24.229 §5.4.3.2; a device
	 * that does not answer its ring time). No CANCEL can be sent before a
	 * provisional response (RFC 3261 §9.1), so the client transaction is
	 * abandoned. 0: only the transaction timers apply. */
	uint32_t timeout_ms;
} sip_proxy_target_t;

/* Adds Record-Route with our URI (;lr, the listener the request came on,
 * `params` appended, e.g. ";orig") to every branch forwarded afterwards
 * (RFC 3261 §16.6 step 4). Returns 0 or IMS_ENOMEM. */
int sip_proxy_record_route(sip_proxy_ctx_t *ctx, ims_str_t params);

/* Proxies to one target (RFC 3261 §16.6): copy, Request-URI, Route push,
 * Max-Forwards decrement (70 when absent), Record-Route, our Via with a
 * unique branch, next-hop resolution, a client transaction. A next hop
 * that cannot be used (not a sip:/sips: URI, a name that does not resolve,
 * a send or connect failure) becomes a 503 on the branch, reported on the
 * next timer pass through on_response like any response. For ACK it is a
 * stateless relay. Returns 0 (the branch exists, or the ACK was sent),
 * IMS_ESTATE (final already sent or cancelled), IMS_EINVAL (the target's
 * Request-URI or header lines do not parse), IMS_ENOMEM. On 0 the answer
 * is guaranteed to come. *out_branch may be NULL. */
int sip_proxy_forward(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *target,
		      sip_proxy_branch_t **out_branch /* out, may be NULL */);

/* Parallel forking: one branch per target, all at once. Returns 0 when at
 * least one branch was created (the others got made-up 503s), else the
 * first error. */
int sip_proxy_fork(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *targets, size_t n);

/* Sequential forking: the same as sip_proxy_forward, allowed from
 * on_response (after absorbing a final) or any later time before the
 * final is sent. */
int sip_proxy_add_branch(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *target,
			 sip_proxy_branch_t **out_branch /* out, may be NULL */);

/* Cancels one pending INVITE branch (RFC 3261 §16.10 / §9.1); `reason` (may
 * be empty) becomes a Reason header. Its final (487) still comes. Returns 0
 * or IMS_ESTATE. */
int sip_proxy_cancel_branch(sip_proxy_branch_t *b, ims_str_t reason);
/* Cancels every pending branch. */
void sip_proxy_cancel_all(sip_proxy_ctx_t *ctx, ims_str_t reason);

/* Forwards the working copy with no client transaction (our Via is still
 * added, Max-Forwards decremented): ACK for 2xx, or when the
 * daemon wants no state. For a non-ACK request the server transaction is
 * closed (its retransmissions are absorbed) and responses to the relayed
 * request come back as stray responses. Returns 0 or an error. */
int sip_proxy_relay_stateless(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *target);

/* Keeps the context after the hook returns (an asynchronous step, e.g. a
 * Diameter round trip). INVITE retransmissions are absorbed meanwhile; a
 * CANCEL is answered (and 487 sent) at once. Returns 0. */
int sip_proxy_suspend(sip_proxy_ctx_t *ctx);
/* From ANY thread: runs fn(ctx, arg) on the context's worker, which then
 * acts on it as in the hook (reply, forward...; the "500 No decision" rule
 * applies when fn returns without acting or suspending again). If the
 * request was cancelled meanwhile, fn still runs (see
 * sip_proxy_ctx_cancelled) and actions become no-ops returning
 * IMS_ESTATE. Every suspend needs exactly one resume. Returns 0 or
 * IMS_ENOMEM (fn not called: the context stays suspended). */
int sip_proxy_resume(sip_proxy_ctx_t *ctx, void (*fn)(sip_proxy_ctx_t *ctx, void *arg), void *arg);

/* ---- branches -------------------------------------------------------- */

void *sip_proxy_branch_data(const sip_proxy_branch_t *b);
/* 0, 1, 2... in creation order. */
int sip_proxy_branch_index(const sip_proxy_branch_t *b);
/* The Request-URI this branch was sent to. */
ims_str_t sip_proxy_branch_ruri(const sip_proxy_branch_t *b);
/* Final code received (or made up) on the branch, 0 while pending. */
int sip_proxy_branch_code(const sip_proxy_branch_t *b);

/* ---- originating requests (UAC) --------------------------------------- */

/* Called once with the final response (provisional ones are not reported)
 * or with code 408 (timeout) / 503 (unreachable) and rsp NULL. rsp is only
 * valid during the call. */
typedef void (*sip_proxy_uac_cb)(void *ud, int code, sip_msg_t *rsp);

/* Sends a request this daemon originates (NOTIFY, third-party REGISTER,
 * SUBSCRIBE...; not INVITE: no timer C and no 2xx ACK are handled here). `req` carries Request-URI, From (with tag), To, Call-ID,
 * CSeq, and whatever else; the core adds our Via (with branch),
 * Max-Forwards 70 when absent and Content-Length. `target` as in
 * sip_proxy_forward (NULL = by Route / Request-URI). Must be called on a
 * worker thread (0..n-1; use sip_proxy_post to get there). Returns 0 (cb
 * will be called exactly once), or an error (cb is not called). */
int sip_proxy_uac_send(sip_proxy_t *p, int worker, const sip_msg_t *req,
		       const sip_proxy_target_t *target, sip_proxy_uac_cb cb, void *ud);

/* A random token (hex, 2*nbytes chars) in `a`, for tags and Call-IDs. */
ims_str_t sip_proxy_random_token(sip_proxy_t *p, ims_arena_t *a, size_t nbytes);

/* ---- counters --------------------------------------------------------- */

typedef struct sip_proxy_stats {
	uint64_t rx_requests, rx_responses;
	uint64_t tx_requests, tx_responses;
	uint64_t dropped;           /* unanswerable garbage */
	uint64_t stateless_replies; /* 400, 503 overload */
	uint64_t contexts;          /* live request contexts */
	uint64_t handoffs;          /* UDP messages passed to the worker owning their transaction */
} sip_proxy_stats_t;
void sip_proxy_get_stats(sip_proxy_t *p, sip_proxy_stats_t *out /* out */);

/* ---- test mode (cfg.test_send set) ------------------------------------ */

/* Feeds bytes as if received from `src` on worker 0. Returns 0. */
int sip_proxy_test_inject(sip_proxy_t *p, const char *buf, size_t len, const sip_tp_peer_t *src);
/* Runs posted functions and due timers (after the test moved its clock).
 * Returns how many ran. */
int sip_proxy_test_run(sip_proxy_t *p);

#endif
