/* SIP transactions (RFC 3261 §17, with RFC 6026's Accepted state).
 *
 * A transaction layer (sip_tsx_layer_t) lives on one worker thread: it
 * owns a table of client and server transactions, runs their timers A-M on
 * an ims_timers_t driven by an injectable clock, and sends through a
 * function the owner gives (the real transport, or a scripted test
 * transport). It is not thread-safe; other threads reach it with
 * sip_tp_post().
 *
 * Incoming messages enter by sip_tsx_layer_recv():
 *  - a request matching a server transaction is absorbed there
 *    (retransmission: the last response is sent again; ACK for a non-2xx
 *    final: Confirmed);
 *  - any other request (new requests, CANCEL, ACK for a 2xx) goes to the TU
 *    through cfg.on_request; the TU may create a server transaction with
 *    sip_tsx_uas_create() or answer statelessly;
 *  - a response matching a client transaction goes to that transaction's
 *    callback; a response matching none goes to cfg.on_stray_response
 *    (RFC 3261 §16.7: a proxy forwards stray 2xx to INVITE statelessly).
 *
 * Memory: each transaction has its own arena. A server transaction takes
 * the receive arena of its request (no copy); a client transaction prints
 * the request once into its arena (the bytes it retransmits) and keeps a
 * parsed view of them. A transaction without callback (sip_tsx_set_cb
 * with NULL, or created with none) that is in Completed, Confirmed or
 * Accepted shrinks on the next timer pass: the arena goes, and only the
 * matching key, branch, To tags, the last response (UAS) and the ACK for a
 * non-2xx (UAC INVITE) stay, which is all that absorbing retransmissions
 * until timers D/I/J/K/L/M needs. Transactions are freed only from timer callbacks (a
 * zero-delay timer when the RFC says "immediately"), after their callback
 * got SIP_TSX_EV_TERMINATED, so a TU never sees a transaction vanish under
 * a call it is making.
 *
 * Matching (RFC 3261 §17.1.3, §17.2.3): client by top-Via branch + CSeq
 * method; server by branch + sent-by + method (ACK matches INVITE) when the
 * branch has the magic cookie, else by the RFC 2543 rules (Request-URI,
 * From tag, Call-ID, CSeq, top Via, To tag; an ACK matches the INVITE whose
 * response carried its To tag).
 */
#ifndef SIP_TSX_H
#define SIP_TSX_H

#include <stddef.h>
#include <stdint.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "base/ims_timer.h"
#include "sip/msg/sip_msg.h"
#include "sip/tp/sip_tp.h"

typedef struct sip_tsx_layer sip_tsx_layer_t;
typedef struct sip_tsx sip_tsx_t;

typedef enum sip_tsx_state {
	SIP_TSX_NULL = 0,
	SIP_TSX_CALLING,    /* UAC INVITE, request sent */
	SIP_TSX_TRYING,     /* non-INVITE (UAC: sent, UAS: received) */
	SIP_TSX_PROCEEDING, /* provisional response seen / sent */
	SIP_TSX_COMPLETED,  /* final (non-2xx for INVITE) seen / sent */
	SIP_TSX_CONFIRMED,  /* UAS INVITE: ACK received */
	SIP_TSX_ACCEPTED,   /* INVITE 2xx seen / sent (RFC 6026 §7.1, §7.2) */
	SIP_TSX_TERMINATED,
	SIP_TSX__NSTATES
} sip_tsx_state_t;

const char *sip_tsx_state_name(sip_tsx_state_t s);

typedef enum sip_tsx_role {
	SIP_TSX_UAC = 1,
	SIP_TSX_UAS = 2,
} sip_tsx_role_t;

typedef enum sip_tsx_ev_type {
	/* UAC: a response (provisional, final, and in Accepted state each
	 * retransmitted 2xx, RFC 6026 §7.2). */
	SIP_TSX_EV_RESPONSE = 1,
	/* UAC: timer B or F fired (treat as 408, RFC 3261 §17.1.1.2,
	 * §17.1.2.2); UAS: timer H fired (no ACK came, §17.2.1). */
	SIP_TSX_EV_TIMEOUT,
	/* Sending failed (RFC 3261 §17.1.4, §17.2.4): UAC treat as 503. */
	SIP_TSX_EV_TPERR,
	/* Last event: the transaction is freed right after; drop pointers. */
	SIP_TSX_EV_TERMINATED,
} sip_tsx_ev_type_t;

typedef struct sip_tsx_event {
	sip_tsx_ev_type_t type;
	sip_msg_t *msg;      /* RESPONSE: the response */
	ims_arena_t **arena; /* RESPONSE: msg's arena; set *arena = NULL to keep
			      * msg (you then own and destroy the arena) */
	int err;             /* TIMEOUT: IMS_ETIMEDOUT; TPERR: the send error */
} sip_tsx_event_t;

/* A transaction's user callback. Runs on the layer's thread. */
typedef void (*sip_tsx_cb)(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud);

/* Sends bytes to a peer (sip_tp_send or a test double). Returns 0 or an
 * IMS_E* error (the transaction then reports SIP_TSX_EV_TPERR). */
typedef int (*sip_tsx_send_fn)(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len);

typedef struct sip_tsx_cfg {
	uint32_t t1_ms;         /* RTT estimate, default 500 (RFC 3261 §17.1.1.1) */
	uint32_t t2_ms;         /* max non-INVITE retransmit interval, default 4000 */
	uint32_t t4_ms;         /* max message lifetime, default 5000 */
	int worker;             /* encoded in generated branches (0..999) */
	ims_timers_t *timers;   /* required; the owner runs ims_timers_run() */
	sip_tsx_send_fn send;   /* required */
	void *send_ud;
	uint32_t max_tsx;       /* live (no final yet) transactions: uas/uac create fail
				 * with IMS_EAGAIN beyond it; 0 = no bound */
	uint32_t max_done;      /* the same for those in Completed/Confirmed/Accepted
				 * (only absorbing retransmissions); 0 = no bound */

	/* TU entry points (run on the layer's thread). `arena` holds msg: the
	 * TU may take it (*arena = NULL), e.g. by sip_tsx_uas_create(),
	 * otherwise the layer frees it after the call. */
	void (*on_request)(void *tu_ud, sip_tsx_layer_t *l, sip_msg_t *req,
			   const sip_tp_peer_t *src, ims_arena_t **arena);
	void (*on_stray_response)(void *tu_ud, sip_tsx_layer_t *l, sip_msg_t *rsp,
				  const sip_tp_peer_t *src, ims_arena_t **arena);
	void *tu_ud;
} sip_tsx_cfg_t;

/* Creates a layer (cfg copied). Returns 0 and *out, IMS_EINVAL (no timers
 * or send) or IMS_ENOMEM. */
int sip_tsx_layer_create(const sip_tsx_cfg_t *cfg, sip_tsx_layer_t **out /* out */);

/* Terminates every transaction (each callback gets TERMINATED), frees
 * them and the layer. NULL is fine. */
void sip_tsx_layer_destroy(sip_tsx_layer_t *l);

/* Feeds one received, parsed message. `*arena` holds msg and is consumed
 * (freed, or kept by a transaction or the TU); it is NULL on return.
 * Returns 0 (handled, absorbed or passed up), IMS_EINVAL (no usable top
 * Via/CSeq: the caller counts and drops it). */
int sip_tsx_layer_recv(sip_tsx_layer_t *l, sip_msg_t *msg, const sip_tp_peer_t *src,
		       ims_arena_t **arena);

/* Tells the layer that sending to `peer` failed asynchronously (see
 * sip_tp_error_fn): client transactions to that address still waiting for
 * a response report SIP_TSX_EV_TPERR and end. */
void sip_tsx_layer_tp_error(sip_tsx_layer_t *l, const sip_tp_peer_t *peer, int err);

/* Sends bytes through the layer's send function (stateless forwarding). */
int sip_tsx_layer_send(sip_tsx_layer_t *l, const sip_tp_peer_t *to, const char *buf, size_t len);

/* Prints `rsp` and sends it statelessly as RFC 3261 §18.2.2 says (to the
 * source of the request it answers, see sip_tp_response_peer()).
 * Returns 0, IMS_EINVAL (no top Via), IMS_ENOMEM or the send error. */
int sip_tsx_send_response_stateless(sip_tsx_layer_t *l, const sip_msg_t *rsp,
				    const sip_tp_peer_t *req_src);

/* Number of transactions in the table (any state). */
uint32_t sip_tsx_layer_count(const sip_tsx_layer_t *l);
/* Number of live ones: no final response yet (not Completed, Confirmed,
 * Accepted or Terminated). */
uint32_t sip_tsx_layer_live(const sip_tsx_layer_t *l);
const sip_tsx_cfg_t *sip_tsx_layer_cfg(const sip_tsx_layer_t *l);

/* A new branch: "z9hG4bK" (RFC 3261 §8.1.1.7) ".w<worker>." [tag "."]
 * <64 random bits in hex>, allocated in `a`. `tag` (may be empty) lets a
 * proxy embed its loop-detection hash (§16.6 step 8). Returns the view
 * (.s NULL on out-of-memory). */
ims_str_t sip_tsx_branch_new(sip_tsx_layer_t *l, ims_arena_t *a, ims_str_t tag);
/* The worker encoded in a branch made by sip_tsx_branch_new, or -1. */
int sip_tsx_branch_worker(ims_str_t branch);
/* The tag embedded by sip_tsx_branch_new (empty view when none). */
ims_str_t sip_tsx_branch_tag(ims_str_t branch);

/* ---- client transactions -------------------------------------------- */

/* Starts a client transaction for `req` (any method but ACK) towards
 * `dest`: the request must already carry its top Via with a branch (use
 * sip_tsx_branch_new); it is printed once into the transaction's arena and
 * sent at once. INVITE: timers A (UDP) and B; others: E (UDP) and F.
 * `cb` gets every response, TIMEOUT or TPERR, and finally TERMINATED.
 * Returns 0 and *out (may be NULL), IMS_EINVAL (ACK, no branch),
 * IMS_EEXIST (branch in use), IMS_EAGAIN (max_tsx reached), IMS_ENOMEM, or
 * the send error (then no transaction exists and cb is never called). */
int sip_tsx_uac_create(sip_tsx_layer_t *l, const sip_msg_t *req, const sip_tp_peer_t *dest,
		       sip_tsx_cb cb, void *ud, sip_tsx_t **out /* out, may be NULL */);

/* RFC 3261 §9.1: cancels a client INVITE transaction. Builds the CANCEL
 * (same Request-URI, Call-ID, From, To, CSeq number, top Via and Route) and
 * sends it in its own client transaction to the same destination; when no
 * provisional response has come yet, the CANCEL waits for one (and is
 * dropped if a final comes first). `reason` (may be empty) becomes a Reason
 * header (RFC 3326). `cb` (may be NULL) gets the CANCEL's own events.
 * Returns 0, IMS_ESTATE (not an INVITE client transaction, already
 * cancelled or final received) or IMS_ENOMEM. */
int sip_tsx_uac_cancel(sip_tsx_t *t, ims_str_t reason, sip_tsx_cb cb, void *ud);

/* Gives a transaction up (e.g. a proxy's timer C expired twice): no more
 * RESPONSE/TIMEOUT/TPERR events, it ends on the next timer pass and its
 * callback still gets TERMINATED. */
void sip_tsx_abandon(sip_tsx_t *t);

/* ---- server transactions -------------------------------------------- */

/* Creates the server transaction for `req` (not ACK) received from `src`,
 * taking `*arena` (which holds req; set to NULL). Returns 0 and *out,
 * IMS_EINVAL (ACK), IMS_EEXIST (one already matches), IMS_EAGAIN
 * (max_tsx), IMS_ENOMEM; on error *arena is left to the caller. */
int sip_tsx_uas_create(sip_tsx_layer_t *l, sip_msg_t *req, const sip_tp_peer_t *src,
		       ims_arena_t **arena, sip_tsx_cb cb, void *ud,
		       sip_tsx_t **out /* out */);

/* Sends a response in a server transaction (printed and kept for
 * retransmission) and moves the state machine: 1xx -> Proceeding; INVITE
 * 2xx -> Accepted (further 2xx are sent as given); INVITE 3xx-6xx ->
 * Completed with G/H; non-INVITE final -> Completed with J. Returns 0,
 * IMS_ESTATE (a final was already sent, other than 2xx in Accepted),
 * IMS_EINVAL, IMS_ENOMEM, or the send error (the transaction also gets
 * TPERR and terminates). */
int sip_tsx_respond(sip_tsx_t *t, const sip_msg_t *rsp);

/* Builds and sends a response with sip_msg_new_response (adds a To tag
 * derived from the transaction when code > 100 and To has none).
 * `hdrs` (may be empty) are extra header lines "Name: value\r\n...". */
int sip_tsx_reply(sip_tsx_t *t, int code, ims_str_t reason, ims_str_t hdrs);

/* Adds header lines "Name: value\r\n..." (CRLF or LF, blank lines
 * skipped) at the bottom of m. Returns 0, IMS_EINVAL (a line without ':')
 * or IMS_ENOMEM. */
int sip_tsx_add_hdr_lines(sip_msg_t *m, ims_str_t lines);

/* The INVITE server transaction a CANCEL targets (RFC 3261 §9.2), or
 * NULL. */
sip_tsx_t *sip_tsx_find_invite(sip_tsx_layer_t *l, const sip_msg_t *cancel,
			       const sip_tp_peer_t *src);

/* ---- accessors -------------------------------------------------------- */

sip_tsx_state_t sip_tsx_state(const sip_tsx_t *t);
sip_tsx_role_t sip_tsx_role(const sip_tsx_t *t);
sip_method_t sip_tsx_method(const sip_tsx_t *t);
/* The request (UAS: as received; UAC: as sent). Valid while the
 * transaction has a callback; NULL once a transaction without one has
 * shrunk (see Memory above). */
sip_msg_t *sip_tsx_request(const sip_tsx_t *t);
/* Last response code sent (UAS) or received (UAC), 0 when none. */
int sip_tsx_last_code(const sip_tsx_t *t);
ims_str_t sip_tsx_branch(const sip_tsx_t *t);
/* UAS: the source of the request; UAC: the destination. */
const sip_tp_peer_t *sip_tsx_peer(const sip_tsx_t *t);
sip_tsx_layer_t *sip_tsx_get_layer(const sip_tsx_t *t);
/* The transaction's arena: memory that lives as long as it does, or until
 * it shrinks (then NULL). */
ims_arena_t *sip_tsx_arena(const sip_tsx_t *t);
/* The callback argument given at creation (or by sip_tsx_set_cb). */
void *sip_tsx_get_ud(const sip_tsx_t *t);
/* Replaces the callback and its argument. cb NULL: no more events, not
 * even TERMINATED (the TU drops its pointer now); a final state then
 * shrinks the transaction, and a 2xx reaching an INVITE client
 * transaction in Completed/Accepted goes to cfg.on_stray_response. */
void sip_tsx_set_cb(sip_tsx_t *t, sip_tsx_cb cb, void *ud);
/* The To tag this UAS transaction puts in responses (made on first use). */
ims_str_t sip_tsx_local_tag(sip_tsx_t *t);

#endif
