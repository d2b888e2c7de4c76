/* SIP transactions: RFC 3261 §17 state machines with RFC 6026's Accepted
 * state, as handler tables per state (see sip_tsx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/tsx/sip_tsx.h"

#define MAGIC_COOKIE "z9hG4bK"
#define MAGIC_LEN 7

struct sip_tsx {
	sip_tsx_layer_t *l;
	struct sip_tsx *hnext;       /* hash chain */
	struct sip_tsx *lnext, *lprev; /* in lists[live]: the live or the done list */
	uint32_t hash;
	ims_str_t key;
	ims_arena_t *arena;
	sip_tsx_role_t role;
	sip_method_t method;
	sip_tsx_state_t state;
	uint8_t reliable;
	uint8_t is_invite;
	uint8_t rfc2543;           /* UAS matched by the RFC 2543 rules */
	uint8_t cancel_pending;    /* UAC: CANCEL waits for a provisional */
	uint8_t cancelled;         /* UAC: CANCEL requested */
	uint8_t dying;             /* termination scheduled */
	uint8_t abandoned;         /* only TERMINATED is still reported */
	uint8_t live;              /* counted in l->live (no final yet) */
	sip_msg_t *req;
	ims_str_t req_bytes;       /* UAC: what is retransmitted */
	ims_str_t branch;
	sip_tp_peer_t peer;        /* UAS: source; UAC: destination */
	sip_tp_peer_t rsp_peer;    /* UAS: where responses go (§18.2.2) */
	char *last_rsp;            /* UAS: malloc'ed copy for retransmission */
	size_t last_rsp_len, last_rsp_cap;
	int last_code;
	ims_str_t to_tag_final;    /* UAS: To tag of the final sent (RFC 2543 ACK match) */
	ims_str_t local_tag;
	ims_str_t ack_bytes;       /* UAC INVITE: ACK for the non-2xx final */
	ims_timer_t t_retx;        /* A, E, G */
	ims_timer_t t_timeout;     /* B, F, H */
	ims_timer_t t_wait;        /* D, I, J, K, L, M, and "now" terminations */
	ims_timer_t t_shrink;      /* "now": drop what a final state no longer needs */
	char *keep;                /* after shrinking: key, branch, tags, ACK bytes */
	uint32_t retx_ms;
	sip_tsx_cb cb;
	void *ud;
	ims_str_t cancel_reason;
	sip_tsx_cb cancel_cb;
	void *cancel_ud;
};

struct sip_tsx_layer {
	sip_tsx_cfg_t cfg;
	sip_tsx_t **buckets;
	uint32_t nbuckets;
	uint32_t count;
	uint32_t live;             /* not yet Completed/Confirmed/Accepted */
	/* lists[1]: the live transactions, what a transport error can still
	 * concern; lists[0]: those past their final, kept for timers J/K/L/M.
	 * A transport error walks the first only, so its cost does not grow
	 * with the 32 s of history. iter_next: the walk's next element, moved
	 * on when that element leaves the list during the walk. */
	sip_tsx_t *lists[2];
	sip_tsx_t *iter_next;
	uint64_t rnd;
};

static const char *const state_names[SIP_TSX__NSTATES] = {
	"Null", "Calling", "Trying", "Proceeding", "Completed",
	"Confirmed", "Accepted", "Terminated",
};

const char *sip_tsx_state_name(sip_tsx_state_t s)
{
	return (unsigned)s < SIP_TSX__NSTATES ? state_names[s] : "?";
}

/* ---- random, tags, branches ------------------------------------------ */

static uint64_t rnd_next(sip_tsx_layer_t *l)
{
	/* xorshift64*: tags and branches need uniqueness, not secrecy */
	uint64_t x = l->rnd;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	l->rnd = x;
	return x * 0x2545F4914F6CDD1DULL;
}

ims_str_t sip_tsx_branch_new(sip_tsx_layer_t *l, ims_arena_t *a, ims_str_t tag)
{
	uint64_t r = rnd_next(l);
	if (tag.len)
		return ims_arena_printf(a, MAGIC_COOKIE ".w%d.%.*s.%016llx", l->cfg.worker,
					IMS_STR_FMT(tag), (unsigned long long)r);
	return ims_arena_printf(a, MAGIC_COOKIE ".w%d.%016llx", l->cfg.worker,
				(unsigned long long)r);
}

int sip_tsx_branch_worker(ims_str_t b)
{
	if (b.len < MAGIC_LEN + 4 || memcmp(b.s, MAGIC_COOKIE ".w", MAGIC_LEN + 2) != 0)
		return -1;
	int w = 0;
	uint32_t i = MAGIC_LEN + 2, start = i;
	while (i < b.len && b.s[i] >= '0' && b.s[i] <= '9' && i - start < 4)
		w = w * 10 + (b.s[i++] - '0');
	if (i == start || i >= b.len || b.s[i] != '.')
		return -1;
	return w;
}

ims_str_t sip_tsx_branch_tag(ims_str_t b)
{
	if (sip_tsx_branch_worker(b) < 0)
		return IMS_STR_NULL;
	const char *p = memchr(b.s + MAGIC_LEN + 2, '.', b.len - MAGIC_LEN - 2);
	if (!p)
		return IMS_STR_NULL;
	p++;
	const char *end = b.s + b.len;
	const char *q = memchr(p, '.', (size_t)(end - p));
	if (!q)
		return IMS_STR_NULL;
	return ims_str_from(p, (size_t)(q - p));
}

/* ---- keys and the table --------------------------------------------- */

static int has_cookie(ims_str_t branch)
{
	return branch.len > MAGIC_LEN && memcmp(branch.s, MAGIC_COOKIE, MAGIC_LEN) == 0;
}

static ims_str_t key_method(const sip_msg_t *m)
{
	ims_str_t meth = m->is_request ? m->method : m->cseq_method;
	if (m->is_request && m->method_id == SIP_METHOD_ACK)
		meth = IMS_STR("INVITE");
	return meth;
}

/* RFC 3261 §17.2.3: branch + sent-by + method (ACK matches INVITE). The
 * RFC 2543 fallback (§17.2.3 last paragraphs) keys on Request-URI, From
 * tag, Call-ID, CSeq number, top Via and, except for INVITE/ACK, the To
 * tag; the ACK's To tag is checked against the response afterwards. */
static ims_str_t server_key(ims_arena_t *a, const sip_msg_t *m, int *rfc2543)
{
	const sip_via_t *v = &m->via1;
	ims_str_t meth = key_method(m);
	if (has_cookie(v->branch)) {
		*rfc2543 = 0;
		char host[256];
		uint32_t hl = v->host.len < sizeof(host) ? v->host.len : sizeof(host) - 1;
		for (uint32_t i = 0; i < hl; i++) {
			char c = v->host.s[i];
			host[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		return ims_arena_printf(a, "S|%.*s|%.*s:%u|%.*s", IMS_STR_FMT(v->branch), (int)hl,
					host, v->port ? v->port : 5060, IMS_STR_FMT(meth));
	}
	*rfc2543 = 1;
	int inv = m->method_id == SIP_METHOD_INVITE || m->method_id == SIP_METHOD_ACK;
	ims_str_t via_id = ims_arena_printf(a, "%.*s:%u;%.*s", IMS_STR_FMT(v->host), v->port,
					    IMS_STR_FMT(v->branch));
	if (!via_id.s)
		return via_id;
	return ims_arena_printf(a, "R|%.*s|%.*s|%.*s|%u|%.*s|%.*s|%.*s", IMS_STR_FMT(m->ruri),
				IMS_STR_FMT(m->from_tag), IMS_STR_FMT(m->call_id), m->cseq,
				IMS_STR_FMT(via_id), inv ? 0 : (int)m->to_tag.len,
				inv ? "" : m->to_tag.s, IMS_STR_FMT(meth));
}

/* RFC 3261 §17.1.3: branch + CSeq method. */
static ims_str_t client_key(ims_arena_t *a, ims_str_t branch, ims_str_t meth)
{
	return ims_arena_printf(a, "C|%.*s|%.*s", IMS_STR_FMT(branch), IMS_STR_FMT(meth));
}

static int table_grow(sip_tsx_layer_t *l)
{
	uint32_t nb = l->nbuckets * 2;
	sip_tsx_t **b = calloc(nb, sizeof(*b));
	if (!b)
		return IMS_ENOMEM;
	for (uint32_t i = 0; i < l->nbuckets; i++) {
		sip_tsx_t *t = l->buckets[i];
		while (t) {
			sip_tsx_t *n = t->hnext;
			uint32_t j = t->hash & (nb - 1);
			t->hnext = b[j];
			b[j] = t;
			t = n;
		}
	}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = nb;
	return 0;
}

static sip_tsx_t *table_find(sip_tsx_layer_t *l, ims_str_t key)
{
	uint32_t h = ims_str_hash(key);
	for (sip_tsx_t *t = l->buckets[h & (l->nbuckets - 1)]; t; t = t->hnext)
		if (t->hash == h && ims_str_eq(t->key, key) && t->state != SIP_TSX_TERMINATED)
			return t;
	return NULL;
}

static void list_push(sip_tsx_layer_t *l, sip_tsx_t *t)
{
	sip_tsx_t **head = &l->lists[t->live];
	t->lnext = *head;
	t->lprev = NULL;
	if (*head)
		(*head)->lprev = t;
	*head = t;
}

static void list_unlink(sip_tsx_layer_t *l, sip_tsx_t *t)
{
	if (l->iter_next == t)
		l->iter_next = t->lnext;
	if (t->lprev)
		t->lprev->lnext = t->lnext;
	else
		l->lists[t->live] = t->lnext;
	if (t->lnext)
		t->lnext->lprev = t->lprev;
	t->lnext = t->lprev = NULL;
}

static int table_add(sip_tsx_layer_t *l, sip_tsx_t *t)
{
	if (l->count >= l->nbuckets * 2)
		(void)table_grow(l); /* a longer chain is fine if this fails */
	t->hash = ims_str_hash(t->key);
	uint32_t j = t->hash & (l->nbuckets - 1);
	t->hnext = l->buckets[j];
	l->buckets[j] = t;
	t->live = 1;
	list_push(l, t);
	l->count++;
	l->live++;
	return 0;
}

static void table_del(sip_tsx_layer_t *l, sip_tsx_t *t)
{
	sip_tsx_t **pp = &l->buckets[t->hash & (l->nbuckets - 1)];
	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
	list_unlink(l, t);
	l->count--;
	if (t->live)
		l->live--;
	t->live = 0;
}

/* ---- life cycle --------------------------------------------------------- */

static void on_retx(ims_timer_t *tm, void *arg);
static void on_timeout(ims_timer_t *tm, void *arg);
static void on_wait(ims_timer_t *tm, void *arg);
static void on_shrink(ims_timer_t *tm, void *arg);

static int state_is_final(sip_tsx_state_t s)
{
	return s == SIP_TSX_COMPLETED || s == SIP_TSX_CONFIRMED || s == SIP_TSX_ACCEPTED;
}

/* Once a transaction nobody listens to has its final, it keeps only what
 * absorbing retransmissions needs: done on the next timer pass, so a
 * caller still holding sip_tsx_request() in this call stack is safe. */
static void shrink_soon(sip_tsx_t *t)
{
	if (t->arena && !t->dying && !t->cb && state_is_final(t->state))
		ims_timer_start(t->l->cfg.timers, &t->t_shrink, 0);
}

/* Every state change goes here: a transaction leaves the live count (the
 * one max_tsx bounds) when it reaches a final state or ends. */
static void set_state(sip_tsx_t *t, sip_tsx_state_t s)
{
	t->state = s;
	if (t->live && (state_is_final(s) || s == SIP_TSX_TERMINATED)) {
		list_unlink(t->l, t);
		t->live = 0;
		list_push(t->l, t);
		t->l->live--;
	}
	shrink_soon(t);
}

static void emit(sip_tsx_t *t, sip_tsx_ev_type_t type, sip_msg_t *msg, ims_arena_t **arena,
		 int err)
{
	if (!t->cb || (t->abandoned && type != SIP_TSX_EV_TERMINATED))
		return;
	sip_tsx_event_t ev = { type, msg, arena, err };
	t->cb(t, &ev, t->ud);
}

static void stop_timers(sip_tsx_t *t)
{
	ims_timers_t *ts = t->l->cfg.timers;
	ims_timer_stop(ts, &t->t_retx);
	ims_timer_stop(ts, &t->t_timeout);
	ims_timer_stop(ts, &t->t_wait);
	ims_timer_stop(ts, &t->t_shrink);
}

static void destroy(sip_tsx_t *t)
{
	stop_timers(t);
	table_del(t->l, t);
	free(t->last_rsp);
	free(t->keep);
	ims_arena_destroy(t->arena);
	free(t);
}

/* Ends now: only from timer callbacks or the layer's receive path. */
static void terminate(sip_tsx_t *t)
{
	set_state(t, SIP_TSX_TERMINATED);
	stop_timers(t);
	emit(t, SIP_TSX_EV_TERMINATED, NULL, NULL, 0);
	destroy(t);
}

/* Ends on the next timer pass (safe inside TU calls). */
static void terminate_soon(sip_tsx_t *t)
{
	ims_timers_t *ts = t->l->cfg.timers;
	ims_timer_stop(ts, &t->t_retx);
	ims_timer_stop(ts, &t->t_timeout);
	ims_timer_stop(ts, &t->t_shrink);
	t->dying = 1;
	ims_timer_start(ts, &t->t_wait, 0);
}

static void start(sip_tsx_t *t, ims_timer_t *tm, uint64_t ms)
{
	ims_timer_start(t->l->cfg.timers, tm, ms);
}

static void stop(sip_tsx_t *t, ims_timer_t *tm)
{
	ims_timer_stop(t->l->cfg.timers, tm);
}

static uint32_t t1(const sip_tsx_t *t)
{
	return t->l->cfg.t1_ms;
}

static int tx(sip_tsx_t *t, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	return t->l->cfg.send(t->l->cfg.send_ud, to, buf, len);
}

static sip_tsx_t *tsx_new(sip_tsx_layer_t *l, ims_arena_t *arena, sip_tsx_role_t role)
{
	/* t is malloc'ed, not in the arena: the arena (the request) goes
	 * when the transaction shrinks, t stays until the end */
	sip_tsx_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->l = l;
	t->arena = arena;
	t->role = role;
	ims_timer_init(&t->t_retx, on_retx, t);
	ims_timer_init(&t->t_timeout, on_timeout, t);
	ims_timer_init(&t->t_wait, on_wait, t);
	ims_timer_init(&t->t_shrink, on_shrink, t);
	return t;
}

/* Appends a copy of *v to the keep buffer at *at and re-points *v there. */
static void keep_str(char **at, ims_str_t *v)
{
	if (!v->s)
		return;
	memcpy(*at, v->s, v->len);
	v->s = *at;
	*at += v->len;
}

/* Frees the arena (the request as received or sent, its parsed view, the
 * CANCEL reason): a transaction in Completed, Confirmed or Accepted only
 * needs its matching key, its branch, the To tags, the last response
 * (UAS, malloc'ed apart) and the ACK for a non-2xx (UAC INVITE). */
static void shrink(sip_tsx_t *t)
{
	if (!t->arena || t->dying || t->cb || !state_is_final(t->state))
		return;
	size_t n = (size_t)t->key.len + t->branch.len + t->to_tag_final.len + t->local_tag.len +
		   t->ack_bytes.len;
	char *k = malloc(n ? n : 1);
	if (!k)
		return; /* keeps the arena: correct, only bigger */
	char *at = k;
	keep_str(&at, &t->key);
	keep_str(&at, &t->branch);
	keep_str(&at, &t->to_tag_final);
	keep_str(&at, &t->local_tag);
	keep_str(&at, &t->ack_bytes);
	t->keep = k;
	t->req = NULL;
	t->req_bytes = IMS_STR_NULL;
	t->cancel_reason = IMS_STR_NULL;
	ims_arena_destroy(t->arena);
	t->arena = NULL;
}

/* max_tsx bounds the live transactions, max_done the ones that only wait
 * to absorb retransmissions. */
static int at_limit(const sip_tsx_layer_t *l)
{
	return (l->cfg.max_tsx && l->live >= l->cfg.max_tsx) ||
	       (l->cfg.max_done && l->count - l->live >= l->cfg.max_done);
}

/* ---- building ACK and CANCEL (RFC 3261 §17.1.1.3, §9.1) ---------------- */

static int copy_route_and_top_via(const sip_msg_t *req, sip_msg_t *out)
{
	sip_val_iter_t it = { 0 };
	ims_str_t via;
	if (sip_msg_next_value(req, SIP_HDR_VIA, &it, &via) != 1)
		return IMS_EINVAL;
	if (!sip_msg_hdr_add(out, SIP_HDR_VIA, IMS_STR_NULL, via, SIP_POS_BOTTOM))
		return IMS_ENOMEM;
	for (sip_hdr_t *h = sip_msg_hdr(req, SIP_HDR_ROUTE); h; h = sip_hdr_next_same(h))
		if (!sip_msg_hdr_add(out, SIP_HDR_ROUTE, IMS_STR_NULL, h->value, SIP_POS_BOTTOM))
			return IMS_ENOMEM;
	return 0;
}

static int add_copy(sip_msg_t *out, const sip_msg_t *from, sip_hdr_id_t id)
{
	sip_hdr_t *h = sip_msg_hdr(from, id);
	if (!h)
		return IMS_EINVAL;
	return sip_msg_hdr_add(out, id, IMS_STR_NULL, h->value, SIP_POS_BOTTOM) ? 0 : IMS_ENOMEM;
}

/* Builds ACK or CANCEL for t->req into t's arena; `to_from` gives the To
 * header (the response for ACK, the request for CANCEL). */
static int build_ack_cancel(sip_tsx_t *t, const char *method, const sip_msg_t *to_from,
			    ims_str_t reason, ims_str_t *bytes, sip_msg_t **msg_out)
{
	const sip_msg_t *req = t->req;
	sip_msg_t *m;
	int rc = sip_msg_new_request(t->arena, ims_str_cstr(method), req->ruri, &m);
	if (rc)
		return rc;
	if ((rc = copy_route_and_top_via(req, m)) || (rc = add_copy(m, req, SIP_HDR_FROM)) ||
	    (rc = add_copy(m, to_from, SIP_HDR_TO)) || (rc = add_copy(m, req, SIP_HDR_CALL_ID)))
		return rc;
	if (!sip_msg_hdr_addf(m, SIP_HDR_CSEQ, SIP_POS_BOTTOM, "%u %s", req->cseq, method) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_MAX_FORWARDS, SIP_POS_BOTTOM, "70"))
		return IMS_ENOMEM;
	if (reason.len && !sip_msg_hdr_add(m, SIP_HDR_REASON, IMS_STR_NULL, reason, SIP_POS_BOTTOM))
		return IMS_ENOMEM;
	if (!sip_msg_hdr_addf(m, SIP_HDR_CONTENT_LENGTH, SIP_POS_BOTTOM, "0"))
		return IMS_ENOMEM;
	if (msg_out)
		*msg_out = m;
	return bytes ? sip_msg_print_arena(m, t->arena, bytes) : 0;
}

/* ---- client transactions ------------------------------------------------ */

static void send_cancel_now(sip_tsx_t *t)
{
	sip_msg_t *c;
	t->cancel_pending = 0;
	if (build_ack_cancel(t, "CANCEL", t->req, t->cancel_reason, NULL, &c) != 0) {
		LOG_WARN("sip.tsx", "cancel.build_failed branch=%.*s", IMS_STR_FMT(t->branch));
		return;
	}
	int rc = sip_tsx_uac_create(t->l, c, &t->peer, t->cancel_cb, t->cancel_ud, NULL);
	if (rc)
		LOG_WARN("sip.tsx", "cancel.send_failed branch=%.*s err=%s", IMS_STR_FMT(t->branch),
			 ims_strerror(rc));
}

/* RFC 3261 §17.1.1: INVITE client transaction. */
static void uac_inv_rx_calling(sip_tsx_t *t, sip_msg_t *rsp, ims_arena_t **arena)
{
	int code = rsp->status;
	t->last_code = code;
	if (code < 200) {
		/* §17.1.1.2: Proceeding stops retransmissions (and timer B) */
		stop(t, &t->t_retx);
		stop(t, &t->t_timeout);
		set_state(t, SIP_TSX_PROCEEDING);
		emit(t, SIP_TSX_EV_RESPONSE, rsp, arena, 0);
		if (t->cancel_pending && t->state == SIP_TSX_PROCEEDING)
			send_cancel_now(t);
		return;
	}
	stop(t, &t->t_retx);
	stop(t, &t->t_timeout);
	t->cancel_pending = 0;
	if (code < 300) {
		/* RFC 6026 §7.2: Accepted, timer M = 64*T1; 2xx go to the TU */
		set_state(t, SIP_TSX_ACCEPTED);
		start(t, &t->t_wait, 64ull * t1(t));
		emit(t, SIP_TSX_EV_RESPONSE, rsp, arena, 0);
		return;
	}
	/* §17.1.1.3: ACK the non-2xx hop by hop; timer D >= 32 s on UDP */
	if (build_ack_cancel(t, "ACK", rsp, IMS_STR_NULL, &t->ack_bytes, NULL) == 0)
		(void)tx(t, &t->peer, t->ack_bytes.s, t->ack_bytes.len);
	set_state(t, SIP_TSX_COMPLETED);
	uint64_t d = 64ull * t1(t) > 32000 ? 64ull * t1(t) : 32000;
	start(t, &t->t_wait, t->reliable ? 0 : d);
	emit(t, SIP_TSX_EV_RESPONSE, rsp, arena, 0);
}

static void uac_inv_rx_completed(sip_tsx_t *t, sip_msg_t *rsp, ims_arena_t **arena)
{
	/* §17.1.1.2: a retransmitted final gets the ACK again, TU not told */
	if (rsp->status >= 300 && t->ack_bytes.s)
		(void)tx(t, &t->peer, t->ack_bytes.s, t->ack_bytes.len);
	/* a 2xx from another fork downstream still concerns the TU: a proxy
	 * forwards every 2xx to INVITE (§16.7 step 5) */
	else if (rsp->status >= 200 && rsp->status < 300)
		emit(t, SIP_TSX_EV_RESPONSE, rsp, arena, 0);
}

static void uac_inv_rx_accepted(sip_tsx_t *t, sip_msg_t *rsp, ims_arena_t **arena)
{
	/* RFC 6026 §7.2: every 2xx in Accepted goes to the TU */
	if (rsp->status >= 200 && rsp->status < 300)
		emit(t, SIP_TSX_EV_RESPONSE, rsp, arena, 0);
}

/* RFC 3261 §17.1.2: non-INVITE client transaction. */
static void uac_nict_rx_trying(sip_tsx_t *t, sip_msg_t *rsp, ims_arena_t **arena)
{
	int code = rsp->status;
	t->last_code = code;
	if (code < 200) {
		set_state(t, SIP_TSX_PROCEEDING);
		emit(t, SIP_TSX_EV_RESPONSE, rsp, arena, 0);
		return;
	}
	stop(t, &t->t_retx);
	stop(t, &t->t_timeout);
	set_state(t, SIP_TSX_COMPLETED);
	/* timer K = T4 on UDP, 0 on TCP */
	start(t, &t->t_wait, t->reliable ? 0 : t->l->cfg.t4_ms);
	emit(t, SIP_TSX_EV_RESPONSE, rsp, arena, 0);
}

static void rx_ignore(sip_tsx_t *t, sip_msg_t *rsp, ims_arena_t **arena)
{
	(void)t;
	(void)rsp;
	(void)arena;
}

typedef void (*rx_fn)(sip_tsx_t *t, sip_msg_t *rsp, ims_arena_t **arena);

static const rx_fn uac_inv_rx[SIP_TSX__NSTATES] = {
	[SIP_TSX_CALLING] = uac_inv_rx_calling,
	[SIP_TSX_PROCEEDING] = uac_inv_rx_calling,
	[SIP_TSX_COMPLETED] = uac_inv_rx_completed,
	[SIP_TSX_ACCEPTED] = uac_inv_rx_accepted,
	[SIP_TSX_TERMINATED] = rx_ignore,
};

static const rx_fn uac_nict_rx[SIP_TSX__NSTATES] = {
	[SIP_TSX_TRYING] = uac_nict_rx_trying,
	[SIP_TSX_PROCEEDING] = uac_nict_rx_trying,
	[SIP_TSX_COMPLETED] = rx_ignore,
	[SIP_TSX_TERMINATED] = rx_ignore,
};

int sip_tsx_uac_create(sip_tsx_layer_t *l, const sip_msg_t *req, const sip_tp_peer_t *dest,
		       sip_tsx_cb cb, void *ud, sip_tsx_t **out)
{
	if (out)
		*out = NULL;
	if (!req->is_request || req->method_id == SIP_METHOD_ACK)
		return IMS_EINVAL;
	if (at_limit(l))
		return IMS_EAGAIN;
	ims_arena_t *a = ims_arena_create(2048 + req->len);
	if (!a)
		return IMS_ENOMEM;
	int rc = IMS_ENOMEM;
	sip_tsx_t *t = tsx_new(l, a, SIP_TSX_UAC);
	if (!t)
		goto fail;
	if ((rc = sip_msg_print_arena(req, a, &t->req_bytes)) != 0)
		goto fail;
	if ((rc = sip_msg_parse(t->req_bytes.s, t->req_bytes.len, a, &t->req, NULL)) != 0)
		goto fail;
	t->branch = t->req->via1.branch;
	rc = IMS_EINVAL;
	if (!t->branch.len)
		goto fail;
	rc = IMS_ENOMEM;
	t->key = client_key(a, t->branch, t->req->method);
	if (!t->key.s)
		goto fail;
	rc = IMS_EEXIST;
	if (table_find(l, t->key))
		goto fail;
	t->method = t->req->method_id;
	t->is_invite = t->method == SIP_METHOD_INVITE;
	t->peer = *dest;
	t->reliable = dest->proto == SIP_TP_TCP;
	t->cb = cb;
	t->ud = ud;
	if ((rc = tx(t, &t->peer, t->req_bytes.s, t->req_bytes.len)) != 0)
		goto fail;
	table_add(l, t);
	t->retx_ms = t1(t);
	if (t->is_invite) {
		set_state(t, SIP_TSX_CALLING);
		if (!t->reliable) /* §17.1.1.2: timer A on unreliable transports */
			start(t, &t->t_retx, t->retx_ms);
		start(t, &t->t_timeout, 64ull * t1(t)); /* timer B */
	} else {
		set_state(t, SIP_TSX_TRYING);
		if (!t->reliable) /* §17.1.2.2: timer E */
			start(t, &t->t_retx, t->retx_ms);
		start(t, &t->t_timeout, 64ull * t1(t)); /* timer F */
	}
	if (out)
		*out = t;
	return 0;
fail:
	free(t);
	ims_arena_destroy(a);
	return rc;
}

int sip_tsx_uac_cancel(sip_tsx_t *t, ims_str_t reason, sip_tsx_cb cb, void *ud)
{
	if (t->role != SIP_TSX_UAC || !t->is_invite || t->cancelled ||
	    (t->state != SIP_TSX_CALLING && t->state != SIP_TSX_PROCEEDING))
		return IMS_ESTATE;
	t->cancelled = 1;
	t->cancel_cb = cb;
	t->cancel_ud = ud;
	if (reason.len && ims_arena_strdup(t->arena, reason, &t->cancel_reason) != 0)
		return IMS_ENOMEM;
	if (t->state == SIP_TSX_PROCEEDING)
		send_cancel_now(t);
	else
		t->cancel_pending = 1; /* §9.1: wait for a provisional response */
	return 0;
}

void sip_tsx_abandon(sip_tsx_t *t)
{
	t->abandoned = 1;
	t->cancel_pending = 0;
	if (!t->dying)
		terminate_soon(t);
}

/* ---- server transactions ------------------------------------------------ */

static int uas_send(sip_tsx_t *t)
{
	int rc = tx(t, &t->rsp_peer, t->last_rsp, t->last_rsp_len);
	if (rc) {
		/* §17.2.4: transport failure is reported to the TU */
		emit(t, SIP_TSX_EV_TPERR, NULL, NULL, rc);
		terminate_soon(t);
	}
	return rc;
}

/* RFC 3261 §17.2.1 (with RFC 6026 §7.1): INVITE server transaction. */
static int uas_inv_tu_proceeding(sip_tsx_t *t, int code)
{
	if (code < 200) {
		set_state(t, SIP_TSX_PROCEEDING);
		return uas_send(t);
	}
	if (code < 300) {
		set_state(t, SIP_TSX_ACCEPTED);
		start(t, &t->t_wait, 64ull * t1(t)); /* RFC 6026 timer L */
		return uas_send(t);
	}
	set_state(t, SIP_TSX_COMPLETED);
	t->retx_ms = t1(t);
	if (!t->reliable)
		start(t, &t->t_retx, t->retx_ms); /* timer G */
	start(t, &t->t_timeout, 64ull * t1(t)); /* timer H */
	return uas_send(t);
}

static int uas_inv_tu_accepted(sip_tsx_t *t, int code)
{
	/* RFC 6026 §7.1: the TU's 2xx retransmissions pass through */
	if (code >= 200 && code < 300)
		return uas_send(t);
	return IMS_ESTATE;
}

/* RFC 3261 §17.2.2: non-INVITE server transaction. */
static int uas_nist_tu_trying(sip_tsx_t *t, int code)
{
	if (code < 200) {
		set_state(t, SIP_TSX_PROCEEDING);
		return uas_send(t);
	}
	set_state(t, SIP_TSX_COMPLETED);
	start(t, &t->t_wait, t->reliable ? 0 : 64ull * t1(t)); /* timer J */
	return uas_send(t);
}

static int tu_bad_state(sip_tsx_t *t, int code)
{
	(void)t;
	(void)code;
	return IMS_ESTATE;
}

typedef int (*tu_fn)(sip_tsx_t *t, int code);

static const tu_fn uas_inv_tu[SIP_TSX__NSTATES] = {
	[SIP_TSX_NULL] = tu_bad_state,
	[SIP_TSX_PROCEEDING] = uas_inv_tu_proceeding,
	[SIP_TSX_COMPLETED] = tu_bad_state,
	[SIP_TSX_CONFIRMED] = tu_bad_state,
	[SIP_TSX_ACCEPTED] = uas_inv_tu_accepted,
	[SIP_TSX_TERMINATED] = tu_bad_state,
};

static const tu_fn uas_nist_tu[SIP_TSX__NSTATES] = {
	[SIP_TSX_NULL] = tu_bad_state,
	[SIP_TSX_TRYING] = uas_nist_tu_trying,
	[SIP_TSX_PROCEEDING] = uas_nist_tu_trying,
	[SIP_TSX_COMPLETED] = tu_bad_state,
	[SIP_TSX_TERMINATED] = tu_bad_state,
};

/* A request matching a server transaction. */
static void uas_rx_request(sip_tsx_t *t, sip_msg_t *req, const sip_tp_peer_t *src,
			   ims_arena_t **arena)
{
	sip_tsx_layer_t *l = t->l;
	if (req->method_id == SIP_METHOD_ACK) {
		if (t->rfc2543 && !ims_str_eq(req->to_tag, t->to_tag_final) &&
		    t->state != SIP_TSX_ACCEPTED) {
			/* RFC 2543 ACK whose To tag is not ours: not for us */
			if (l->cfg.on_request)
				l->cfg.on_request(l->cfg.tu_ud, l, req, src, arena);
			return;
		}
		switch (t->state) {
		case SIP_TSX_COMPLETED:
			/* §17.2.1: Confirmed, timer I = T4 (0 on TCP) */
			stop(t, &t->t_retx);
			stop(t, &t->t_timeout);
			set_state(t, SIP_TSX_CONFIRMED);
			start(t, &t->t_wait, t->reliable ? 0 : t->l->cfg.t4_ms);
			return;
		case SIP_TSX_ACCEPTED:
			/* RFC 6026 §7.1: the 2xx ACK goes to the TU */
			if (l->cfg.on_request)
				l->cfg.on_request(l->cfg.tu_ud, l, req, src, arena);
			return;
		default:
			return; /* absorbed */
		}
	}
	/* A retransmission: §17.2.1/§17.2.2 send the last response again;
	 * RFC 6026 §7.1: absorbed silently in Accepted. */
	if (t->state == SIP_TSX_ACCEPTED || !t->last_rsp)
		return;
	(void)tx(t, &t->rsp_peer, t->last_rsp, t->last_rsp_len);
}

int sip_tsx_uas_create(sip_tsx_layer_t *l, sip_msg_t *req, const sip_tp_peer_t *src,
		       ims_arena_t **arena, sip_tsx_cb cb, void *ud, sip_tsx_t **out)
{
	*out = NULL;
	if (!req->is_request || req->method_id == SIP_METHOD_ACK || !req->via1.raw.s)
		return IMS_EINVAL;
	if (at_limit(l))
		return IMS_EAGAIN;
	ims_arena_t *a = *arena;
	int rfc2543 = 0;
	ims_str_t key = server_key(a, req, &rfc2543);
	if (!key.s)
		return IMS_ENOMEM;
	if (table_find(l, key))
		return IMS_EEXIST;
	sip_tsx_t *t = tsx_new(l, a, SIP_TSX_UAS);
	if (!t)
		return IMS_ENOMEM;
	t->key = key;
	t->rfc2543 = (uint8_t)rfc2543;
	t->req = req;
	t->branch = req->via1.branch;
	t->method = req->method_id;
	t->is_invite = t->method == SIP_METHOD_INVITE;
	t->peer = *src;
	t->reliable = src->proto == SIP_TP_TCP;
	sip_tp_response_peer(&req->via1, src, &t->rsp_peer);
	t->cb = cb;
	t->ud = ud;
	/* §17.2.1: an INVITE server transaction starts in Proceeding */
	set_state(t, t->is_invite ? SIP_TSX_PROCEEDING : SIP_TSX_TRYING);
	table_add(l, t);
	*arena = NULL;
	*out = t;
	return 0;
}

int sip_tsx_respond(sip_tsx_t *t, const sip_msg_t *rsp)
{
	if (t->role != SIP_TSX_UAS || rsp->is_request || rsp->status < 100 || rsp->status > 699)
		return IMS_EINVAL;
	if (t->dying)
		return IMS_ESTATE;
	const tu_fn *tab = t->is_invite ? uas_inv_tu : uas_nist_tu;
	tu_fn fn = tab[t->state];
	if (!fn || fn == tu_bad_state)
		return IMS_ESTATE;
	if (t->is_invite && t->state == SIP_TSX_ACCEPTED &&
	    (rsp->status < 200 || rsp->status >= 300))
		return IMS_ESTATE;
	size_t need = 0;
	int rc = sip_msg_print(rsp, t->last_rsp, t->last_rsp_cap, &need);
	if (rc == IMS_ENOSPC) {
		char *nb = realloc(t->last_rsp, need + 1);
		if (!nb)
			return IMS_ENOMEM;
		t->last_rsp = nb;
		t->last_rsp_cap = need + 1;
		rc = sip_msg_print(rsp, t->last_rsp, t->last_rsp_cap, &need);
	}
	if (rc)
		return rc;
	t->last_rsp_len = need;
	t->last_code = rsp->status;
	if (rsp->status >= 200 && t->rfc2543 && t->arena)
		(void)ims_arena_strdup(t->arena, rsp->to_tag, &t->to_tag_final);
	return fn(t, rsp->status);
}

ims_str_t sip_tsx_local_tag(sip_tsx_t *t)
{
	if (!t->local_tag.s && t->arena)
		t->local_tag = ims_arena_printf(t->arena, "%016llx",
						(unsigned long long)rnd_next(t->l));
	return t->local_tag;
}

int sip_tsx_add_hdr_lines(sip_msg_t *m, ims_str_t lines)
{
	const char *p = lines.s, *end = lines.s + lines.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		ims_str_t line = ims_str_trim(ims_str_from(p, (size_t)(le - p)));
		p = eol ? eol + 1 : end;
		if (!line.len)
			continue;
		const char *colon = memchr(line.s, ':', line.len);
		if (!colon)
			return IMS_EINVAL;
		ims_str_t name = ims_str_trim(ims_str_from(line.s, (size_t)(colon - line.s)));
		ims_str_t val = ims_str_trim(
			ims_str_from(colon + 1, (size_t)(line.s + line.len - colon - 1)));
		sip_hdr_id_t id = sip_hdr_id_from_name(name);
		if (!sip_msg_hdr_add(m, id, id == SIP_HDR_OTHER ? name : IMS_STR_NULL, val,
				     SIP_POS_BOTTOM))
			return IMS_ENOMEM;
	}
	return 0;
}

int sip_tsx_reply(sip_tsx_t *t, int code, ims_str_t reason, ims_str_t hdrs)
{
	if (!t->req)
		return IMS_ESTATE; /* shrunk: a final was sent long ago */
	ims_arena_t *a = ims_arena_create(1024);
	if (!a)
		return IMS_ENOMEM;
	sip_msg_t *rsp;
	ims_str_t tag = code > 100 && !t->req->to_tag.len ? sip_tsx_local_tag(t) : IMS_STR_NULL;
	int rc = sip_msg_new_response(a, t->req, code, reason, tag, &rsp);
	if (!rc && hdrs.len)
		rc = sip_tsx_add_hdr_lines(rsp, hdrs);
	if (!rc)
		rc = sip_tsx_respond(t, rsp);
	ims_arena_destroy(a);
	return rc;
}

sip_tsx_t *sip_tsx_find_invite(sip_tsx_layer_t *l, const sip_msg_t *cancel,
			       const sip_tp_peer_t *src)
{
	(void)src;
	/* §9.2: the CANCEL matches the INVITE by the §17.2.3 rules with the
	 * method taken as INVITE. */
	ims_arena_t *a = ims_arena_create(512);
	if (!a)
		return NULL;
	sip_msg_t tmp = *cancel;
	tmp.method = IMS_STR("INVITE");
	tmp.method_id = SIP_METHOD_INVITE;
	tmp.cseq_method = tmp.method;
	int r;
	ims_str_t key = server_key(a, &tmp, &r);
	sip_tsx_t *t = key.s ? table_find(l, key) : NULL;
	ims_arena_destroy(a);
	if (t && (t->role != SIP_TSX_UAS || !t->is_invite))
		t = NULL;
	return t;
}

/* ---- timers --------------------------------------------------------------- */

static void on_retx(ims_timer_t *tm, void *arg)
{
	(void)tm;
	sip_tsx_t *t = arg;
	int rc;
	if (t->role == SIP_TSX_UAC) {
		if (t->is_invite) {
			if (t->state != SIP_TSX_CALLING)
				return;
			/* §17.1.1.2: timer A doubles each time */
			t->retx_ms *= 2;
		} else {
			if (t->state != SIP_TSX_TRYING && t->state != SIP_TSX_PROCEEDING)
				return;
			/* §17.1.2.2: E doubles up to T2; in Proceeding it is T2 */
			t->retx_ms = t->state == SIP_TSX_PROCEEDING ? t->l->cfg.t2_ms
				     : (t->retx_ms * 2 < t->l->cfg.t2_ms ? t->retx_ms * 2
									  : t->l->cfg.t2_ms);
		}
		rc = tx(t, &t->peer, t->req_bytes.s, t->req_bytes.len);
	} else {
		if (t->state != SIP_TSX_COMPLETED)
			return;
		/* §17.2.1: timer G doubles up to T2 */
		t->retx_ms = t->retx_ms * 2 < t->l->cfg.t2_ms ? t->retx_ms * 2 : t->l->cfg.t2_ms;
		rc = tx(t, &t->rsp_peer, t->last_rsp, t->last_rsp_len);
	}
	if (rc) {
		emit(t, SIP_TSX_EV_TPERR, NULL, NULL, rc);
		terminate(t);
		return;
	}
	start(t, &t->t_retx, t->retx_ms);
}

static void on_timeout(ims_timer_t *tm, void *arg)
{
	(void)tm;
	sip_tsx_t *t = arg;
	/* B, F (UAC) and H (UAS) */
	LOG_DEBUG("sip.tsx", "timeout role=%s state=%s branch=%.*s",
		  t->role == SIP_TSX_UAC ? "uac" : "uas", sip_tsx_state_name(t->state),
		  IMS_STR_FMT(t->branch));
	emit(t, SIP_TSX_EV_TIMEOUT, NULL, NULL, IMS_ETIMEDOUT);
	terminate(t);
}

static void on_wait(ims_timer_t *tm, void *arg)
{
	(void)tm;
	terminate(arg); /* D, I, J, K, L, M, or a deferred end */
}

static void on_shrink(ims_timer_t *tm, void *arg)
{
	(void)tm;
	shrink(arg);
}

/* ---- the layer ---------------------------------------------------------- */

int sip_tsx_layer_create(const sip_tsx_cfg_t *cfg, sip_tsx_layer_t **out)
{
	*out = NULL;
	if (!cfg->timers || !cfg->send)
		return IMS_EINVAL;
	sip_tsx_layer_t *l = calloc(1, sizeof(*l));
	if (!l)
		return IMS_ENOMEM;
	l->cfg = *cfg;
	if (!l->cfg.t1_ms)
		l->cfg.t1_ms = 500;
	if (!l->cfg.t2_ms)
		l->cfg.t2_ms = 4000;
	if (!l->cfg.t4_ms)
		l->cfg.t4_ms = 5000;
	l->nbuckets = 1024;
	l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
	if (!l->buckets) {
		free(l);
		return IMS_ENOMEM;
	}
	if (getrandom(&l->rnd, sizeof(l->rnd), 0) != (ssize_t)sizeof(l->rnd))
		l->rnd = (uint64_t)(uintptr_t)l ^ 0x9E3779B97F4A7C15ULL;
	l->rnd ^= (uint64_t)cfg->worker << 56;
	if (!l->rnd)
		l->rnd = 1;
	*out = l;
	return 0;
}

void sip_tsx_layer_destroy(sip_tsx_layer_t *l)
{
	if (!l)
		return;
	for (int k = 0; k < 2; k++)
		while (l->lists[k])
			terminate(l->lists[k]);
	free(l->buckets);
	free(l);
}

int sip_tsx_layer_recv(sip_tsx_layer_t *l, sip_msg_t *msg, const sip_tp_peer_t *src,
		       ims_arena_t **arena)
{
	int rc = 0;
	if (!msg->via1.raw.s || !msg->cseq_method.len) {
		rc = IMS_EINVAL;
		goto out;
	}
	if (msg->is_request) {
		int r;
		ims_str_t key = server_key(*arena, msg, &r);
		if (!key.s) {
			rc = IMS_ENOMEM;
			goto out;
		}
		sip_tsx_t *t = table_find(l, key);
		if (t && t->role == SIP_TSX_UAS && !t->dying)
			uas_rx_request(t, msg, src, arena);
		else if (l->cfg.on_request)
			l->cfg.on_request(l->cfg.tu_ud, l, msg, src, arena);
		goto out;
	}
	ims_str_t key = client_key(*arena, msg->via1.branch, msg->cseq_method);
	if (!key.s) {
		rc = IMS_ENOMEM;
		goto out;
	}
	sip_tsx_t *t = table_find(l, key);
	if (t && t->role == SIP_TSX_UAC && !t->dying && !t->cb && t->is_invite &&
	    state_is_final(t->state) && msg->status >= 200 && msg->status < 300) {
		/* RFC 6026 §7.2: a 2xx still goes to the TU; with nobody
		 * listening on this transaction, as a stray response */
		if (l->cfg.on_stray_response)
			l->cfg.on_stray_response(l->cfg.tu_ud, l, msg, src, arena);
	} else if (t && t->role == SIP_TSX_UAC && !t->dying) {
		const rx_fn *tab = t->is_invite ? uac_inv_rx : uac_nict_rx;
		rx_fn fn = tab[t->state];
		if (fn)
			fn(t, msg, arena);
	} else if (l->cfg.on_stray_response) {
		l->cfg.on_stray_response(l->cfg.tu_ud, l, msg, src, arena);
	}
out:
	if (*arena) {
		ims_arena_destroy(*arena);
		*arena = NULL;
	}
	return rc;
}

void sip_tsx_layer_tp_error(sip_tsx_layer_t *l, const sip_tp_peer_t *peer, int err)
{
	/* Calling, Trying and Proceeding are live states: the live list holds
	 * every candidate. The TU's callback may end or finish other
	 * transactions; list_unlink keeps iter_next valid. Not re-entrant. */
	sip_tsx_t *t = l->lists[1];
	while (t) {
		l->iter_next = t->lnext;
		if (t->role == SIP_TSX_UAC && !t->dying && t->peer.proto == peer->proto &&
		    sip_tp_addr_equal(&t->peer.addr, &peer->addr) &&
		    (t->state == SIP_TSX_CALLING || t->state == SIP_TSX_TRYING ||
		     t->state == SIP_TSX_PROCEEDING)) {
			emit(t, SIP_TSX_EV_TPERR, NULL, NULL, err);
			terminate_soon(t);
		}
		t = l->iter_next;
	}
	l->iter_next = NULL;
}

int sip_tsx_layer_send(sip_tsx_layer_t *l, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	return l->cfg.send(l->cfg.send_ud, to, buf, len);
}

int sip_tsx_send_response_stateless(sip_tsx_layer_t *l, const sip_msg_t *rsp,
				    const sip_tp_peer_t *req_src)
{
	sip_via_t via;
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	if (sip_msg_next_value(rsp, SIP_HDR_VIA, &it, &v) != 1 || sip_via_parse(v, NULL, &via))
		return IMS_EINVAL;
	sip_tp_peer_t to;
	sip_tp_response_peer(&via, req_src, &to);
	ims_arena_t *a = ims_arena_create(1024);
	if (!a)
		return IMS_ENOMEM;
	ims_str_t bytes;
	int rc = sip_msg_print_arena(rsp, a, &bytes);
	if (!rc)
		rc = l->cfg.send(l->cfg.send_ud, &to, bytes.s, bytes.len);
	ims_arena_destroy(a);
	return rc;
}

uint32_t sip_tsx_layer_count(const sip_tsx_layer_t *l)
{
	return l->count;
}

uint32_t sip_tsx_layer_live(const sip_tsx_layer_t *l)
{
	return l->live;
}

const sip_tsx_cfg_t *sip_tsx_layer_cfg(const sip_tsx_layer_t *l)
{
	return &l->cfg;
}

/* ---- accessors ------------------------------------------------------------ */

sip_tsx_state_t sip_tsx_state(const sip_tsx_t *t) { return t->state; }
sip_tsx_role_t sip_tsx_role(const sip_tsx_t *t) { return t->role; }
sip_method_t sip_tsx_method(const sip_tsx_t *t) { return t->method; }
sip_msg_t *sip_tsx_request(const sip_tsx_t *t) { return t->req; }
int sip_tsx_last_code(const sip_tsx_t *t) { return t->last_code; }
ims_str_t sip_tsx_branch(const sip_tsx_t *t) { return t->branch; }
const sip_tp_peer_t *sip_tsx_peer(const sip_tsx_t *t) { return &t->peer; }
sip_tsx_layer_t *sip_tsx_get_layer(const sip_tsx_t *t) { return t->l; }
ims_arena_t *sip_tsx_arena(const sip_tsx_t *t) { return t->arena; }

void *sip_tsx_get_ud(const sip_tsx_t *t)
{
	return t->ud;
}

void sip_tsx_set_cb(sip_tsx_t *t, sip_tsx_cb cb, void *ud)
{
	t->cb = cb;
	t->ud = ud;
	shrink_soon(t);
}
