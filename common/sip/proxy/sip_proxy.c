/* The stateful proxy core: RFC 3261 §16 on top of sip_tsx and sip_tp (see
 * sip_proxy.h for the contract with the daemons).
 *
 * Life of a request context: it is referenced by its server transaction,
 * by each branch still waiting for a final response, by each live client
 * transaction, while a hook runs, and while suspended. It is freed when the
 * count drops to zero, so a late timer or response never finds it gone. */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "base/ims_err.h"
#include "base/ims_timer.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "sip/proxy/sip_proxy.h"

#define DNS_TTL_MS 60000
#define DNS_MAX 256

typedef struct px_post {
	struct px_post *next;
	void (*fn)(void *arg);
	void *arg;
} px_post_t;

typedef struct px_worker {
	sip_proxy_t *p;
	int idx;
	ims_timers_t timers;
	sip_tsx_layer_t *tsx;
	struct event *tev;
	uint64_t rnd;
	struct sip_proxy_ctx *ctxs; /* live contexts (released at destroy) */
} px_worker_t;

typedef struct px_dns {
	char name[128];
	sip_tp_addr_t addr;
	uint64_t expires;
	int ok;
} px_dns_t;

struct sip_proxy {
	sip_proxy_cfg_t cfg;
	sip_proxy_hooks_t hooks;
	sip_tp_t *tp;
	int nworkers;
	px_worker_t *w;
	sip_tp_listen_t *listen;
	size_t nlisten;
	char **aliases;
	size_t naliases;
	char **supported;
	size_t nsupported;
	char **hosts; /* "name=addr" */
	size_t nhosts;
	int test_mode;
	pthread_mutex_t tmu; /* test-mode post queue */
	px_post_t *thead, *ttail;
	pthread_mutex_t dmu;
	px_dns_t dns[DNS_MAX];
	size_t ndns;
	sip_proxy_stats_t st;
};

struct sip_proxy_branch {
	sip_proxy_ctx_t *ctx;
	struct sip_proxy_branch *next;
	int idx;
	sip_tsx_t *ct;
	sip_msg_t *req;        /* what was (or would have been) sent */
	sip_tp_peer_t dest;
	void *data;
	int code;
	uint8_t done;
	uint8_t got_provisional;
	uint8_t timer_c_fired;
	int fail_code;         /* made-up final to report from t_fail */
	ims_timer_t timer_c;
	ims_timer_t t_fail;
};

struct sip_proxy_ctx {
	struct sip_proxy_ctx *wnext, *wprev;
	sip_proxy_t *p;
	px_worker_t *w;
	ims_arena_t *arena;
	ims_arena_t *rx_arena; /* ACK: the received message */
	sip_tsx_t *st;
	const sip_msg_t *rcv;
	sip_msg_t *msg;
	sip_tp_peer_t src;
	sip_method_t method;
	ims_str_t removed_route;
	sip_nameaddr_t *removed_route_parsed;
	ims_str_t loop_tag;
	uint8_t do_rr;
	ims_str_t rr_params;
	void *data;
	void (*data_free)(void *);
	uint8_t decided, suspended, final_sent, cancelled, best_is_local;
	int refs;
	sip_proxy_branch_t *branches, *btail;
	int nbranches, pending;
	sip_msg_t *best;
	ims_arena_t *best_arena;
	int best_code;
	struct px_challenge *challenges; /* from every 401/407 (§16.7 step 7) */
};

typedef struct px_challenge {
	struct px_challenge *next;
	sip_hdr_id_t id;
	ims_str_t value;
} px_challenge_t;

static void rearm(px_worker_t *w);

/* ---- metrics: series looked up once, then one atomic add ---------------- */

static ims_counter_t *m_requests[SIP_METHOD__COUNT];
static ims_counter_t *m_responses[700];
static ims_counter_t *m_dropped, *m_stateless;

static ims_counter_t *cached(ims_counter_t **slot, const char *name, const char *help,
			     const char *l1, const char *v1)
{
	ims_counter_t *c = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!c) {
		c = ims_metrics_counter(name, help, l1, v1);
		__atomic_store_n(slot, c, __ATOMIC_RELEASE);
	}
	return c;
}

static void count_request(sip_method_t m)
{
	if ((unsigned)m >= SIP_METHOD__COUNT)
		m = SIP_METHOD_OTHER;
	const char *name = m == SIP_METHOD_OTHER ? "OTHER" : sip_method_name(m);
	ims_counter_inc(cached(&m_requests[m], "sip_requests_total",
			       "SIP requests received (retransmissions excluded)", "method", name));
}

static void count_response(int code)
{
	if (code < 100 || code > 699)
		return;
	char v[8];
	snprintf(v, sizeof(v), "%d", code);
	ims_counter_inc(cached(&m_responses[code], "sip_responses_total",
			       "SIP final responses sent upstream by the proxy core", "code", v));
}

static void stat_inc(uint64_t *v)
{
	__atomic_fetch_add(v, 1, __ATOMIC_RELAXED);
}

static uint64_t rnd64(px_worker_t *w)
{
	uint64_t x = w->rnd;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rnd = x;
	return x * 0x2545F4914F6CDD1DULL;
}

ims_str_t sip_proxy_random_token(sip_proxy_t *p, ims_arena_t *a, size_t nbytes)
{
	int wi = p->test_mode ? 0 : sip_tp_current_worker();
	char *s = ims_arena_alloc(a, nbytes * 2 + 1);
	if (!s)
		return IMS_STR_NULL;
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < nbytes; i++) {
		uint8_t b;
		if (wi >= 0 && wi < p->nworkers)
			b = (uint8_t)rnd64(&p->w[wi]);
		else if (getrandom(&b, 1, 0) != 1)
			b = (uint8_t)i;
		s[2 * i] = hx[b >> 4];
		s[2 * i + 1] = hx[b & 15];
	}
	s[nbytes * 2] = '\0';
	return ims_str_from(s, nbytes * 2);
}

/* ---- local addresses ------------------------------------------------- */

static ims_str_t strip_brackets(ims_str_t h)
{
	if (h.len >= 2 && h.s[0] == '[' && h.s[h.len - 1] == ']')
		return ims_str_from(h.s + 1, h.len - 2);
	return h;
}

static int listener_has(const sip_tp_listen_t *ls, ims_str_t host, uint16_t port)
{
	host = strip_brackets(host);
	if (port != ls->port)
		return 0;
	if (ims_str_caseeq_c(host, ls->host))
		return 1;
	return ls->advertise[0] && ims_str_caseeq_c(host, ls->advertise);
}

static int is_local_hostport(const sip_proxy_t *p, ims_str_t host, uint16_t port)
{
	uint16_t pt = port ? port : 5060;
	for (size_t i = 0; i < p->nlisten; i++)
		if (listener_has(&p->listen[i], host, pt))
			return 1;
	host = strip_brackets(host);
	for (size_t i = 0; i < p->naliases; i++) {
		const char *a = p->aliases[i];
		const char *colon = strrchr(a, ':');
		if (colon && !strchr(colon, ']') && strchr(a, ':') == colon) {
			size_t n = (size_t)(colon - a);
			if (host.len == n && strncasecmp(host.s, a, n) == 0 &&
			    (uint16_t)atoi(colon + 1) == pt)
				return 1;
		} else if (ims_str_caseeq_c(host, a)) {
			return 1;
		}
	}
	return 0;
}

int sip_proxy_is_local_uri(const sip_proxy_t *p, const sip_uri_t *u)
{
	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return 0;
	return is_local_hostport(p, u->host, u->port);
}

static int find_listener(const sip_proxy_t *p, sip_tp_proto_t proto, const sip_tp_addr_t *fam)
{
	for (size_t i = 0; i < p->nlisten; i++) {
		if (p->listen[i].proto != proto)
			continue;
		sip_tp_addr_t la;
		if (fam && (sip_tp_addr_set(&la, ims_str_cstr(p->listen[i].host), 0) != 0 ||
			    la.ss.ss_family != fam->ss.ss_family))
			continue;
		return (int)i;
	}
	return -1;
}

static void listener_hostport(const sip_tp_listen_t *ls, char *buf, size_t cap)
{
	const char *h = ls->advertise[0] ? ls->advertise : ls->host;
	if (strchr(h, ':'))
		snprintf(buf, cap, "[%s]:%u", h, ls->port);
	else
		snprintf(buf, cap, "%s:%u", h, ls->port);
}

ims_str_t sip_proxy_local_uri(const sip_proxy_t *p, int listener, ims_arena_t *a)
{
	if (listener < 0 || (size_t)listener >= p->nlisten)
		return IMS_STR_NULL;
	char hp[200];
	listener_hostport(&p->listen[listener], hp, sizeof(hp));
	return ims_arena_printf(a, "sip:%s;transport=%s", hp,
				p->listen[listener].proto == SIP_TP_TCP ? "tcp" : "udp");
}

/* ---- next hop (RFC 3261 §16.6 steps 6-7, RFC 3263 simplified) ------------- */

static int resolve(sip_proxy_t *p, ims_str_t host, uint16_t port, sip_tp_addr_t *out)
{
	if (sip_tp_addr_set(out, host, port) == 0)
		return 0;
	char name[128];
	if (host.len == 0 || host.len >= sizeof(name))
		return IMS_EUNREACH;
	ims_str_to_c(host, name, sizeof(name));
	for (size_t i = 0; i < p->nhosts; i++) {
		const char *eq = strchr(p->hosts[i], '=');
		if (eq && (size_t)(eq - p->hosts[i]) == host.len &&
		    strncasecmp(p->hosts[i], name, host.len) == 0)
			return sip_tp_addr_set(out, ims_str_cstr(eq + 1), port) == 0 ? 0
											    : IMS_EUNREACH;
	}
	uint64_t now = ims_clock_mono_ms();
	pthread_mutex_lock(&p->dmu);
	for (size_t i = 0; i < p->ndns; i++) {
		if (strcasecmp(p->dns[i].name, name) == 0 && p->dns[i].expires > now) {
			int ok = p->dns[i].ok;
			*out = p->dns[i].addr;
			pthread_mutex_unlock(&p->dmu);
			if (!ok)
				return IMS_EUNREACH;
			if (out->ss.ss_family == AF_INET)
				((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
			else
				((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
			return 0;
		}
	}
	pthread_mutex_unlock(&p->dmu);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	int ok = getaddrinfo(name, NULL, &hints, &res) == 0 && res;
	px_dns_t e;
	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", name);
	e.expires = now + DNS_TTL_MS;
	e.ok = ok;
	if (ok) {
		memcpy(&e.addr.ss, res->ai_addr, res->ai_addrlen);
		e.addr.len = (socklen_t)res->ai_addrlen;
	}
	if (res)
		freeaddrinfo(res);
	pthread_mutex_lock(&p->dmu);
	size_t slot = p->ndns < DNS_MAX ? p->ndns++ : (size_t)(now % DNS_MAX);
	p->dns[slot] = e;
	pthread_mutex_unlock(&p->dmu);
	if (!ok) {
		LOG_NOTICE("sip.proxy", "dns.failed host=%s", name);
		return IMS_EUNREACH;
	}
	*out = e.addr;
	if (out->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
	return 0;
}

/* Destination of a URI: maddr, host, port (5060), ;transport (UDP unless
 * the message is larger than the UDP bound, RFC 3261 §18.1.1). */
static int uri_dest(sip_proxy_t *p, ims_str_t uri_text, size_t msg_len, sip_tp_peer_t *out)
{
	sip_uri_t u;
	ims_str_t t = ims_str_trim(uri_text);
	if (t.len && t.s[0] == '<') {
		sip_nameaddr_t na;
		if (sip_nameaddr_parse(t, NULL, &na) != 0)
			return IMS_EINVAL;
		u = na.uri;
	} else if (sip_uri_parse(t, NULL, &u) != 0) {
		return IMS_EINVAL;
	}
	if (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS)
		return IMS_EINVAL;
	memset(out, 0, sizeof(*out));
	out->listener = -1;
	out->proto = SIP_TP_UDP;
	if (u.transport.len) {
		out->proto = sip_tp_proto_from_str(u.transport);
		if (out->proto == SIP_TP_NONE)
			return IMS_EUNREACH;
	} else if (msg_len > (p->cfg.tp.udp_mtu ? p->cfg.tp.udp_mtu : 1300)) {
		out->proto = SIP_TP_TCP;
	}
	ims_str_t host = u.maddr.len ? u.maddr : u.host;
	return resolve(p, host, u.port ? u.port : 5060, &out->addr);
}

/* ---- context life -------------------------------------------------------- */

static void ctx_free(sip_proxy_ctx_t *ctx)
{
	sip_proxy_t *p = ctx->p;
	for (sip_proxy_branch_t *b = ctx->branches; b; b = b->next) {
		ims_timer_stop(&ctx->w->timers, &b->timer_c);
		ims_timer_stop(&ctx->w->timers, &b->t_fail);
	}
	if (ctx->wprev)
		ctx->wprev->wnext = ctx->wnext;
	else
		ctx->w->ctxs = ctx->wnext;
	if (ctx->wnext)
		ctx->wnext->wprev = ctx->wprev;
	if (ctx->data_free)
		ctx->data_free(ctx->data);
	ims_arena_destroy(ctx->best_arena);
	ims_arena_destroy(ctx->rx_arena);
	__atomic_fetch_sub(&p->st.contexts, 1, __ATOMIC_RELAXED);
	ims_arena_destroy(ctx->arena);
}

static void ctx_ref(sip_proxy_ctx_t *ctx)
{
	ctx->refs++;
}

static void ctx_unref(sip_proxy_ctx_t *ctx)
{
	if (--ctx->refs == 0)
		ctx_free(ctx);
}

static sip_proxy_ctx_t *ctx_new(px_worker_t *w, const sip_tp_peer_t *src)
{
	ims_arena_t *a = ims_arena_create(8192);
	if (!a)
		return NULL;
	sip_proxy_ctx_t *ctx = ims_arena_zalloc(a, sizeof(*ctx));
	if (!ctx) {
		ims_arena_destroy(a);
		return NULL;
	}
	ctx->p = w->p;
	ctx->w = w;
	ctx->arena = a;
	ctx->src = *src;
	ctx->wnext = w->ctxs;
	if (w->ctxs)
		w->ctxs->wprev = ctx;
	w->ctxs = ctx;
	__atomic_fetch_add(&w->p->st.contexts, 1, __ATOMIC_RELAXED);
	return ctx;
}

/* ---- upstream responses ------------------------------------------------------ */

/* Forwards a response statelessly by its Via (after ours was removed):
 * RFC 3261 §16.7 step 9 / §18.2.2. */
static int send_by_via(px_worker_t *w, sip_msg_t *rsp, const sip_tp_peer_t *hint)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	sip_via_t via;
	if (sip_msg_next_value(rsp, SIP_HDR_VIA, &it, &v) != 1 || sip_via_parse(v, NULL, &via))
		return IMS_EINVAL;
	sip_tp_peer_t src;
	memset(&src, 0, sizeof(src));
	src.listener = -1;
	src.proto = sip_tp_proto_from_str(via.transport);
	if (src.proto == SIP_TP_NONE)
		src.proto = SIP_TP_UDP;
	if (hint && hint->proto == src.proto)
		src = *hint;
	else {
		uint16_t port = via.port ? via.port : 5060;
		ims_str_t h = via.received.len ? via.received : via.host;
		if (sip_tp_addr_set(&src.addr, h, port) != 0 &&
		    resolve(w->p, h, port, &src.addr) != 0)
			return IMS_EUNREACH;
	}
	stat_inc(&w->p->st.tx_responses);
	return sip_tsx_send_response_stateless(w->tsx, rsp, &src);
}

static int add_body(sip_msg_t *m, ims_str_t ctype, ims_str_t body)
{
	if (!body.len && !ctype.len)
		return 0;
	return sip_msg_set_body(m, ctype, body);
}

/* Sends a final or provisional response upstream in the server transaction
 * (falls back to stateless for a late 2xx to INVITE). */
static int send_upstream(sip_proxy_ctx_t *ctx, sip_msg_t *rsp)
{
	sip_proxy_t *p = ctx->p;
	if (rsp->status >= 200 && p->hooks.on_final)
		p->hooks.on_final(ctx, rsp, p->hooks.ud);
	if (rsp->status >= 200) {
		if (!ctx->final_sent)
			count_response(rsp->status);
		ctx->final_sent = 1;
	}
	int rc = IMS_ESTATE;
	if (ctx->st)
		rc = sip_tsx_respond(ctx->st, rsp);
	if (rc == IMS_ESTATE && ctx->method == SIP_METHOD_INVITE && rsp->status >= 200 &&
	    rsp->status < 300)
		return send_by_via(ctx->w, rsp, NULL);
	if (rc && rc != IMS_ESTATE && rsp->status >= 200 && ctx->st &&
	    sip_tsx_last_code(ctx->st) < 200) {
		/* the response could not be printed or sent: the UAC still gets
		 * an answer, and the transaction still ends */
		LOG_WARN("sip.proxy", "upstream.failed call_id=%.*s code=%d err=%s",
			 IMS_STR_FMT(ctx->rcv->call_id), rsp->status, ims_strerror(rc));
		(void)sip_tsx_reply(ctx->st, 500, IMS_STR_NULL, IMS_STR_NULL);
	}
	if (!rc)
		stat_inc(&p->st.tx_responses);
	return rc;
}

static void cancel_pending_branches(sip_proxy_ctx_t *ctx, ims_str_t reason)
{
	for (sip_proxy_branch_t *b = ctx->branches; b; b = b->next)
		if (!b->done && b->ct)
			(void)sip_tsx_uac_cancel(b->ct, reason, NULL, NULL);
}

static int local_reply(sip_proxy_ctx_t *ctx, int code, ims_str_t reason, ims_str_t hdrs,
		       ims_str_t ctype, ims_str_t body)
{
	ims_arena_t *a = ims_arena_create(2048);
	if (!a)
		return IMS_ENOMEM;
	sip_msg_t *rsp;
	ims_str_t tag = IMS_STR_NULL;
	if (code > 100 && !ctx->rcv->to_tag.len && ctx->st)
		tag = sip_tsx_local_tag(ctx->st);
	int rc = sip_msg_new_response(a, ctx->rcv, code, reason, tag, &rsp);
	if (!rc && ctx->p->cfg.server)
		rc = sip_msg_hdr_add(rsp, SIP_HDR_SERVER, IMS_STR_NULL,
				     ims_str_cstr(ctx->p->cfg.server), SIP_POS_BOTTOM)
			     ? 0
			     : IMS_ENOMEM;
	if (!rc && hdrs.len)
		rc = sip_tsx_add_hdr_lines(rsp, hdrs);
	if (!rc)
		rc = add_body(rsp, ctype, body);
	if (!rc)
		rc = send_upstream(ctx, rsp);
	ims_arena_destroy(a);
	return rc;
}

/* RFC 3261 §16.7 step 6: 6xx first; else the lowest class, and in 4xx the
 * ones a UAC can act on. Lower is better. */
static int rank(int code)
{
	if (code >= 600)
		return 0;
	if (code >= 300 && code < 400)
		return 100 + code;
	if (code == 401 || code == 407 || code == 415 || code == 420 || code == 484)
		return 1000 + code;
	if (code >= 400 && code < 500)
		return 2000 + code;
	if (code == 503)
		return 4000;
	return 3000 + code;
}

static void collect_challenges(sip_proxy_ctx_t *ctx, const sip_msg_t *rsp)
{
	static const sip_hdr_id_t ids[] = { SIP_HDR_WWW_AUTHENTICATE, SIP_HDR_PROXY_AUTHENTICATE };
	for (size_t k = 0; k < 2; k++) {
		for (sip_hdr_t *h = sip_msg_hdr(rsp, ids[k]); h; h = sip_hdr_next_same(h)) {
			px_challenge_t *c = ims_arena_zalloc(ctx->arena, sizeof(*c));
			if (!c || ims_arena_strdup(ctx->arena, h->value, &c->value))
				return;
			c->id = ids[k];
			c->next = ctx->challenges;
			ctx->challenges = c;
		}
	}
}

/* RFC 3261 §16.7 step 7: a 401/407 going upstream carries the challenges
 * of every other 401/407 of this context, unmodified. */
static void add_challenges(sip_proxy_ctx_t *ctx, sip_msg_t *best)
{
	for (px_challenge_t *c = ctx->challenges; c; c = c->next) {
		int present = 0;
		for (sip_hdr_t *h = sip_msg_hdr(best, c->id); h && !present; h = sip_hdr_next_same(h))
			present = ims_str_eq(h->value, c->value);
		if (!present)
			(void)sip_msg_hdr_add(best, c->id, IMS_STR_NULL, c->value, SIP_POS_BOTTOM);
	}
}

static void send_best(sip_proxy_ctx_t *ctx)
{
	if (ctx->final_sent)
		return;
	if (!ctx->best) {
		local_reply(ctx, 500, IMS_STR("No Usable Response"), IMS_STR_NULL, IMS_STR_NULL,
			    IMS_STR_NULL);
		return;
	}
	if (ctx->best_code == 503) {
		/* §16.7 step 6: a 503 is not passed on; 500 instead */
		local_reply(ctx, 500, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
		return;
	}
	if (ctx->best_code == 401 || ctx->best_code == 407)
		add_challenges(ctx, ctx->best);
	send_upstream(ctx, ctx->best);
}

static void maybe_finish(sip_proxy_ctx_t *ctx)
{
	if (!ctx->final_sent && ctx->pending == 0 && !ctx->suspended && ctx->nbranches > 0)
		send_best(ctx);
}

/* A final response (real or made up) on a branch. `arena` may be NULL for
 * made-up responses living in the context arena. */
static void branch_final(sip_proxy_branch_t *b, sip_msg_t *rsp, ims_arena_t **arena)
{
	sip_proxy_ctx_t *ctx = b->ctx;
	sip_proxy_t *p = ctx->p;
	int code = rsp->status;
	b->code = code;
	b->done = 1;
	ctx->pending--;
	ims_timer_stop(&ctx->w->timers, &b->timer_c);
	int verdict = SIP_PROXY_CONTINUE;
	if (p->hooks.on_response)
		verdict = p->hooks.on_response(ctx, b, rsp, p->hooks.ud);
	if (verdict == SIP_PROXY_CONTINUE) {
		(void)sip_msg_remove_first_value(rsp, SIP_HDR_VIA); /* §16.7 step 3 */
		if (code >= 200 && code < 300) {
			/* §16.7 step 5/9: 2xx go upstream at once; others are cancelled */
			if (!ctx->final_sent || ctx->method == SIP_METHOD_INVITE)
				send_upstream(ctx, rsp);
			cancel_pending_branches(ctx, IMS_STR("SIP;cause=200;text=\"Call completed elsewhere\""));
		} else if (!ctx->final_sent) {
			if (code >= 600)
				cancel_pending_branches(ctx, IMS_STR_NULL); /* §16.7 step 5 */
			if (code == 401 || code == 407)
				collect_challenges(ctx, rsp);
			if (!ctx->best || rank(code) < rank(ctx->best_code)) {
				if (arena && *arena) {
					ims_arena_destroy(ctx->best_arena);
					ctx->best_arena = *arena;
					*arena = NULL;
					ctx->best = rsp;
				} else {
					sip_msg_t *copy;
					if (sip_msg_clone(rsp, ctx->arena, &copy) == 0)
						ctx->best = copy;
				}
				ctx->best_code = code;
			}
		}
	}
	ims_timer_stop(&ctx->w->timers, &b->t_fail);
	maybe_finish(ctx);
	ctx_unref(ctx); /* the pending branch's reference */
}

static void branch_provisional(sip_proxy_branch_t *b, sip_msg_t *rsp)
{
	sip_proxy_ctx_t *ctx = b->ctx;
	sip_proxy_t *p = ctx->p;
	b->got_provisional = 1;
	/* §16.7 step 2: a provisional response resets timer C */
	if (ims_timer_active(&b->timer_c) && !b->timer_c_fired)
		ims_timer_start(&ctx->w->timers, &b->timer_c, p->cfg.timer_c_ms);
	int verdict = SIP_PROXY_CONTINUE;
	if (p->hooks.on_response)
		verdict = p->hooks.on_response(ctx, b, rsp, p->hooks.ud);
	/* §16.7 step 5: provisional responses but 100 go upstream */
	if (verdict == SIP_PROXY_CONTINUE && rsp->status > 100 && !ctx->final_sent) {
		(void)sip_msg_remove_first_value(rsp, SIP_HDR_VIA);
		send_upstream(ctx, rsp);
	}
}

/* Builds a made-up final for a branch, as if from downstream. */
static sip_msg_t *made_up(sip_proxy_branch_t *b, int code, const char *reason)
{
	sip_proxy_ctx_t *ctx = b->ctx;
	sip_msg_t *rsp;
	ims_str_t tag = b->req->to_tag.len ? IMS_STR_NULL
					   : sip_proxy_random_token(ctx->p, ctx->arena, 8);
	if (sip_msg_new_response(ctx->arena, b->req, code, ims_str_cstr(reason), tag, &rsp))
		return NULL;
	return rsp;
}

static void branch_fail(sip_proxy_branch_t *b, int code, const char *reason)
{
	if (b->done)
		return;
	sip_msg_t *rsp = made_up(b, code, reason);
	if (!rsp) {
		/* no memory for the made-up response: count it as done */
		b->code = code;
		b->done = 1;
		b->ctx->pending--;
		ims_timer_stop(&b->ctx->w->timers, &b->timer_c);
		maybe_finish(b->ctx);
		ctx_unref(b->ctx);
		return;
	}
	branch_final(b, rsp, NULL);
}

static void on_t_fail(ims_timer_t *t, void *arg)
{
	(void)t;
	sip_proxy_branch_t *b = arg;
	branch_fail(b, b->fail_code, b->fail_code == 408 ? "Request Timeout"
							: "Service Unavailable");
}

/* RFC 3261 §16.8: timer C. First expiry: CANCEL a branch that had a
 * provisional response (else treat as 408); if it still has no final
 * 64*T1 later, give up with 408. */
static void on_timer_c(ims_timer_t *t, void *arg)
{
	(void)t;
	sip_proxy_branch_t *b = arg;
	sip_proxy_ctx_t *ctx = b->ctx;
	if (b->done)
		return;
	if (b->got_provisional && !b->timer_c_fired && b->ct) {
		b->timer_c_fired = 1;
		(void)sip_tsx_uac_cancel(b->ct, IMS_STR_NULL, NULL, NULL);
		ims_timer_start(&ctx->w->timers, &b->timer_c,
				64ull * (ctx->p->cfg.t1_ms ? ctx->p->cfg.t1_ms : 500));
		return;
	}
	ctx_ref(ctx);
	if (b->ct)
		sip_tsx_abandon(b->ct);
	branch_fail(b, 408, "Request Timeout");
	ctx_unref(ctx);
}

static void ct_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	sip_proxy_branch_t *b = ud;
	sip_proxy_ctx_t *ctx = b->ctx;
	ctx_ref(ctx);
	switch (ev->type) {
	case SIP_TSX_EV_RESPONSE:
		stat_inc(&ctx->p->st.rx_responses);
		if (ev->msg->status < 200) {
			if (!b->done)
				branch_provisional(b, ev->msg);
		} else if (!b->done) {
			branch_final(b, ev->msg, ev->arena);
		} else if (ev->msg->status < 300 && b->code < 300 &&
			   ctx->method == SIP_METHOD_INVITE) {
			/* RFC 6026: a retransmitted 2xx goes upstream too */
			(void)sip_msg_remove_first_value(ev->msg, SIP_HDR_VIA);
			send_upstream(ctx, ev->msg);
		}
		break;
	case SIP_TSX_EV_TIMEOUT:
		branch_fail(b, 408, "Request Timeout");
		break;
	case SIP_TSX_EV_TPERR:
		branch_fail(b, 503, "Service Unavailable");
		break;
	case SIP_TSX_EV_TERMINATED:
		(void)t;
		b->ct = NULL;
		ctx_unref(ctx); /* the client transaction's reference */
		break;
	}
	ctx_unref(ctx);
}

/* ---- forwarding (RFC 3261 §16.6) ------------------------------------------- */

static int push_via(sip_proxy_ctx_t *ctx, sip_msg_t *m, const sip_tp_peer_t *dest,
		    int *listener)
{
	sip_proxy_t *p = ctx->p;
	int li = find_listener(p, dest->proto, &dest->addr);
	if (li < 0)
		li = find_listener(p, dest->proto, NULL);
	if (li < 0)
		return IMS_EUNREACH;
	*listener = li;
	char hp[200];
	listener_hostport(&p->listen[li], hp, sizeof(hp));
	ims_str_t branch = sip_tsx_branch_new(ctx->w->tsx, ctx->arena, ctx->loop_tag);
	if (!branch.s)
		return IMS_ENOMEM;
	if (!sip_msg_hdr_addf(m, SIP_HDR_VIA, SIP_POS_TOP, "SIP/2.0/%s %s;branch=%.*s",
			      sip_tp_proto_name(dest->proto), hp, IMS_STR_FMT(branch)))
		return IMS_ENOMEM;
	return 0;
}

/* Request-URI, pushed Routes and extra headers of a target. */
static int apply_target(sip_msg_t *m, const sip_proxy_target_t *tg)
{
	int rc;
	if (!tg)
		return 0;
	if (tg->ruri.len && (rc = sip_msg_set_ruri(m, tg->ruri)))
		return rc;
	for (size_t i = tg->nroutes; i-- > 0;)
		if (!sip_msg_hdr_add(m, SIP_HDR_ROUTE, IMS_STR_NULL, tg->routes[i], SIP_POS_TOP))
			return IMS_ENOMEM;
	if (tg->hdrs.len && (rc = sip_tsx_add_hdr_lines(m, tg->hdrs)))
		return rc;
	return 0;
}

/* Builds the copy for one target: §16.6 steps 1-8 except the Via. */
static int build_branch_msg(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg,
			    sip_msg_t **out)
{
	sip_msg_t *m;
	int rc = sip_msg_clone(ctx->msg, ctx->arena, &m);
	if (rc || (rc = apply_target(m, tg)))
		return rc;
	/* step 3: Max-Forwards */
	sip_hdr_t *mf = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	if (mf) {
		int v = m->max_forwards > 0 ? m->max_forwards - 1 : 0;
		char buf[16];
		snprintf(buf, sizeof(buf), "%d", v);
		if ((rc = sip_msg_hdr_set_value(m, mf, ims_str_cstr(buf))))
			return rc;
	} else if (!sip_msg_hdr_addf(m, SIP_HDR_MAX_FORWARDS, SIP_POS_BOTTOM, "70")) {
		return IMS_ENOMEM;
	}
	/* step 4: Record-Route with our URI and ;lr */
	if (ctx->do_rr && ctx->method != SIP_METHOD_ACK) {
		int li = ctx->src.listener;
		if (li < 0 || (size_t)li >= ctx->p->nlisten)
			li = find_listener(ctx->p, ctx->src.proto, &ctx->src.addr);
		if (li >= 0) {
			char hp[200];
			listener_hostport(&ctx->p->listen[li], hp, sizeof(hp));
			if (!sip_msg_hdr_addf(m, SIP_HDR_RECORD_ROUTE, SIP_POS_TOP,
					      "<sip:%s%s;lr%.*s>", hp,
					      ctx->p->listen[li].proto == SIP_TP_TCP
						      ? ";transport=tcp" : "",
					      IMS_STR_FMT(ctx->rr_params)))
				return IMS_ENOMEM;
		}
	}
	*out = m;
	return 0;
}

/* Where the copy goes: explicit next hop, else the top Route, else the
 * Request-URI (§16.6 steps 6-7). */
static int branch_dest(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg, sip_msg_t *m,
		       sip_tp_peer_t *dest)
{
	size_t est = m->len + 512;
	if (tg && tg->next_hop.len)
		return uri_dest(ctx->p, tg->next_hop, est, dest);
	sip_val_iter_t it = { 0 };
	ims_str_t route;
	if (sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &route) == 1)
		return uri_dest(ctx->p, route, est, dest);
	return uri_dest(ctx->p, m->ruri, est, dest);
}

static int relay_stateless(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg)
{
	sip_msg_t *m;
	sip_tp_peer_t dest;
	int li, rc = build_branch_msg(ctx, tg, &m);
	if (!rc)
		rc = branch_dest(ctx, tg, m, &dest);
	if (!rc)
		rc = push_via(ctx, m, &dest, &li);
	ims_str_t bytes;
	if (!rc)
		rc = sip_msg_print_arena(m, ctx->arena, &bytes);
	if (!rc) {
		dest.listener = li;
		rc = sip_tsx_layer_send(ctx->w->tsx, &dest, bytes.s, bytes.len);
	}
	if (!rc)
		stat_inc(&ctx->p->st.tx_requests);
	return rc;
}

static int add_branch(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg,
		      sip_proxy_branch_t **out)
{
	if (out)
		*out = NULL;
	if (ctx->final_sent || ctx->cancelled || !ctx->st)
		return IMS_ESTATE;
	sip_proxy_branch_t *b = ims_arena_zalloc(ctx->arena, sizeof(*b));
	if (!b)
		return IMS_ENOMEM;
	int rc = build_branch_msg(ctx, tg, &b->req);
	if (rc)
		return rc;
	b->ctx = ctx;
	b->idx = ctx->nbranches++;
	b->data = tg ? tg->data : NULL;
	ims_timer_init(&b->timer_c, on_timer_c, b);
	ims_timer_init(&b->t_fail, on_t_fail, b);
	if (ctx->btail)
		ctx->btail->next = b;
	else
		ctx->branches = b;
	ctx->btail = b;
	ctx->pending++;
	ctx_ref(ctx); /* pending branch */
	ctx->decided = 1;
	if (out)
		*out = b;

	int li = -1;
	rc = branch_dest(ctx, tg, b->req, &b->dest);
	if (!rc)
		rc = push_via(ctx, b->req, &b->dest, &li);
	if (!rc) {
		b->dest.listener = li;
		rc = sip_tsx_uac_create(ctx->w->tsx, b->req, &b->dest, ct_cb, b, &b->ct);
	}
	if (rc) {
		/* Reported as a 503 from this branch, on the next timer pass so
		 * that a fork creates all its branches first. */
		char d[80];
		LOG_NOTICE("sip.proxy", "branch.unreachable call_id=%.*s dest=%s err=%s",
			   IMS_STR_FMT(ctx->rcv->call_id), sip_tp_addr_str(&b->dest.addr, d, sizeof(d)),
			   ims_strerror(rc));
		b->fail_code = 503;
		ims_timer_start(&ctx->w->timers, &b->t_fail, 0);
		return 0;
	}
	stat_inc(&ctx->p->st.tx_requests);
	ctx_ref(ctx); /* client transaction */
	if (ctx->method == SIP_METHOD_INVITE)
		ims_timer_start(&ctx->w->timers, &b->timer_c, ctx->p->cfg.timer_c_ms);
	return 0;
}

/* ---- actions ------------------------------------------------------------------ */

int sip_proxy_reply(sip_proxy_ctx_t *ctx, int code, ims_str_t reason, ims_str_t hdrs,
		    ims_str_t ctype, ims_str_t body)
{
	if (ctx->method == SIP_METHOD_ACK) {
		ctx->decided = 1;
		return 0;
	}
	if (ctx->final_sent || !ctx->st)
		return IMS_ESTATE;
	if (code < 100 || code > 699)
		return IMS_EINVAL;
	if (code >= 200) {
		ctx->decided = 1;
		cancel_pending_branches(ctx, IMS_STR_NULL);
	}
	return local_reply(ctx, code, reason, hdrs, ctype, body);
}

int sip_proxy_forward(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *target,
		      sip_proxy_branch_t **out_branch)
{
	if (out_branch)
		*out_branch = NULL;
	if (ctx->method == SIP_METHOD_ACK) {
		ctx->decided = 1;
		return relay_stateless(ctx, target);
	}
	return add_branch(ctx, target, out_branch);
}

int sip_proxy_add_branch(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *target,
			 sip_proxy_branch_t **out_branch)
{
	return sip_proxy_forward(ctx, target, out_branch);
}

int sip_proxy_fork(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *targets, size_t n)
{
	int first_err = IMS_EINVAL, made = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = sip_proxy_forward(ctx, &targets[i], NULL);
		if (!rc)
			made++;
		else if (first_err == IMS_EINVAL)
			first_err = rc;
	}
	return made ? 0 : first_err;
}

int sip_proxy_cancel_branch(sip_proxy_branch_t *b, ims_str_t reason)
{
	if (b->done || !b->ct)
		return IMS_ESTATE;
	return sip_tsx_uac_cancel(b->ct, reason, NULL, NULL);
}

void sip_proxy_cancel_all(sip_proxy_ctx_t *ctx, ims_str_t reason)
{
	cancel_pending_branches(ctx, reason);
}

int sip_proxy_relay_stateless(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *target)
{
	if (ctx->final_sent)
		return IMS_ESTATE;
	ctx->decided = 1;
	int rc = relay_stateless(ctx, target);
	if (ctx->st && ctx->method != SIP_METHOD_ACK) {
		/* no state kept: responses come back as stray ones */
		ctx->final_sent = 1;
		sip_tsx_abandon(ctx->st);
	}
	return rc;
}

int sip_proxy_record_route(sip_proxy_ctx_t *ctx, ims_str_t params)
{
	ctx->do_rr = 1;
	if (params.len)
		return ims_arena_strdup(ctx->arena, params, &ctx->rr_params);
	ctx->rr_params = IMS_STR_NULL;
	return 0;
}

int sip_proxy_suspend(sip_proxy_ctx_t *ctx)
{
	if (!ctx->suspended) {
		ctx->suspended = 1;
		ctx_ref(ctx);
	}
	return 0;
}

/* After a hook or resumed function: the "every request is answered" rule. */
static void after_decision(sip_proxy_ctx_t *ctx)
{
	if (ctx->decided || ctx->suspended || ctx->final_sent || ctx->method == SIP_METHOD_ACK)
		return;
	LOG_WARN("sip.proxy", "no_decision call_id=%.*s method=%.*s",
		 IMS_STR_FMT(ctx->rcv->call_id), IMS_STR_FMT(ctx->rcv->method));
	local_reply(ctx, 500, IMS_STR("No decision"), IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
}

typedef struct px_resume {
	sip_proxy_ctx_t *ctx;
	void (*fn)(sip_proxy_ctx_t *ctx, void *arg);
	void *arg;
} px_resume_t;

static void run_resume(void *arg)
{
	px_resume_t *r = arg;
	sip_proxy_ctx_t *ctx = r->ctx;
	ctx_ref(ctx);
	ctx->suspended = 0;
	ctx->decided = 0;
	ctx_unref(ctx); /* the suspension's reference (the hook's one holds) */
	r->fn(ctx, r->arg);
	after_decision(ctx);
	maybe_finish(ctx);
	free(r);
	ctx_unref(ctx);
}

int sip_proxy_resume(sip_proxy_ctx_t *ctx, void (*fn)(sip_proxy_ctx_t *ctx, void *arg), void *arg)
{
	px_resume_t *r = malloc(sizeof(*r));
	if (!r)
		return IMS_ENOMEM;
	r->ctx = ctx;
	r->fn = fn;
	r->arg = arg;
	int rc = sip_proxy_post(ctx->p, ctx->w->idx, run_resume, r);
	if (rc)
		free(r);
	return rc;
}

/* ---- accessors -------------------------------------------------------- */

sip_msg_t *sip_proxy_ctx_msg(sip_proxy_ctx_t *ctx) { return ctx->msg; }
const sip_msg_t *sip_proxy_ctx_received(const sip_proxy_ctx_t *ctx) { return ctx->rcv; }
const sip_tp_peer_t *sip_proxy_ctx_src(const sip_proxy_ctx_t *ctx) { return &ctx->src; }
sip_method_t sip_proxy_ctx_method(const sip_proxy_ctx_t *ctx) { return ctx->method; }
int sip_proxy_ctx_in_dialog(const sip_proxy_ctx_t *ctx) { return ctx->rcv->to_tag.len > 0; }
ims_str_t sip_proxy_ctx_removed_route(const sip_proxy_ctx_t *ctx) { return ctx->removed_route; }
const sip_nameaddr_t *sip_proxy_ctx_removed_route_parsed(const sip_proxy_ctx_t *ctx)
{
	return ctx->removed_route_parsed;
}
int sip_proxy_ctx_worker(const sip_proxy_ctx_t *ctx) { return ctx->w->idx; }
sip_proxy_t *sip_proxy_ctx_proxy(const sip_proxy_ctx_t *ctx) { return ctx->p; }
ims_arena_t *sip_proxy_ctx_arena(sip_proxy_ctx_t *ctx) { return ctx->arena; }
void *sip_proxy_ctx_data(const sip_proxy_ctx_t *ctx) { return ctx->data; }
int sip_proxy_ctx_done(const sip_proxy_ctx_t *ctx) { return ctx->final_sent; }
int sip_proxy_ctx_cancelled(const sip_proxy_ctx_t *ctx) { return ctx->cancelled; }
int sip_proxy_ctx_pending(const sip_proxy_ctx_t *ctx) { return ctx->pending; }

void sip_proxy_ctx_set_data(sip_proxy_ctx_t *ctx, void *data, void (*free_fn)(void *data))
{
	ctx->data = data;
	ctx->data_free = free_fn;
}

void *sip_proxy_branch_data(const sip_proxy_branch_t *b) { return b->data; }
int sip_proxy_branch_index(const sip_proxy_branch_t *b) { return b->idx; }
ims_str_t sip_proxy_branch_ruri(const sip_proxy_branch_t *b) { return b->req->ruri; }
int sip_proxy_branch_code(const sip_proxy_branch_t *b) { return b->code; }

/* ---- incoming requests (RFC 3261 §16.3, §16.4) ----------------------------- */

static void st_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	(void)t;
	sip_proxy_ctx_t *ctx = ud;
	if (ev->type == SIP_TSX_EV_TERMINATED) {
		ctx->st = NULL;
		ctx_unref(ctx);
	}
}

/* §16.6 step 8: a hash of what identifies this request at this hop, put
 * in our branch so that the request coming back unchanged is a loop. */
static ims_str_t loop_hash(sip_proxy_ctx_t *ctx, const sip_msg_t *m)
{
	uint32_t h = 2166136261u;
	ims_str_t parts[6] = { m->ruri, m->call_id, m->from_tag, m->to_tag, m->cseq_method,
			       IMS_STR_NULL };
	sip_hdr_t *r = sip_msg_hdr(m, SIP_HDR_ROUTE);
	if (r)
		parts[5] = r->value;
	for (int i = 0; i < 6; i++) {
		for (uint32_t j = 0; j < parts[i].len; j++) {
			h ^= (uint8_t)parts[i].s[j];
			h *= 16777619u;
		}
		h ^= '|';
		h *= 16777619u;
	}
	h ^= m->cseq;
	h *= 16777619u;
	for (sip_hdr_t *pr = sip_msg_hdr(m, SIP_HDR_PROXY_REQUIRE); pr; pr = sip_hdr_next_same(pr))
		for (uint32_t j = 0; j < pr->value.len; j++) {
			h ^= (uint8_t)pr->value.s[j];
			h *= 16777619u;
		}
	return ims_arena_printf(ctx->arena, "%08x", h);
}

static int is_loop(sip_proxy_ctx_t *ctx, const sip_msg_t *m)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (sip_msg_next_value(m, SIP_HDR_VIA, &it, &v) == 1) {
		sip_via_t via;
		if (sip_via_parse(v, NULL, &via) != 0)
			continue;
		if (is_local_hostport(ctx->p, via.host, via.port) &&
		    ims_str_eq(sip_tsx_branch_tag(via.branch), ctx->loop_tag))
			return 1;
	}
	return 0;
}

/* §16.3 step 5: every Proxy-Require option must be one we support.
 * Returns 0 or the first unsupported tag in *bad. */
static int proxy_require_ok(sip_proxy_t *p, const sip_msg_t *m, ims_str_t *bad)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (sip_msg_next_value(m, SIP_HDR_PROXY_REQUIRE, &it, &v) == 1) {
		v = ims_str_trim(v);
		int ok = 0;
		for (size_t i = 0; i < p->nsupported && !ok; i++)
			ok = ims_str_caseeq_c(v, p->supported[i]);
		if (!ok) {
			*bad = v;
			return 0;
		}
	}
	return 1;
}

/* §16.4: strict-router fix-up and removal of our own top Route. */
static int route_preprocess(sip_proxy_ctx_t *ctx)
{
	sip_msg_t *m = ctx->msg;
	sip_proxy_t *p = ctx->p;
	const sip_uri_t *ru = sip_msg_ruri(m);
	if (ru && ru->lr && sip_proxy_is_local_uri(p, ru) && sip_msg_hdr(m, SIP_HDR_ROUTE)) {
		/* The previous hop was a strict router: the Request-URI is the
		 * Record-Route value we inserted; the real one is the last Route. */
		ims_str_t vals[64];
		size_t n = 0;
		sip_val_iter_t it = { 0 };
		ims_str_t v;
		while (n < 64 && sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &v) == 1)
			if (ims_arena_strdup(ctx->arena, v, &vals[n++]))
				return IMS_ENOMEM;
		sip_nameaddr_t last;
		if (n && sip_nameaddr_parse(vals[n - 1], NULL, &last) == 0) {
			sip_msg_hdr_remove_all(m, SIP_HDR_ROUTE);
			for (size_t i = 0; i + 1 < n; i++)
				if (!sip_msg_hdr_add(m, SIP_HDR_ROUTE, IMS_STR_NULL, vals[i],
						     SIP_POS_BOTTOM))
					return IMS_ENOMEM;
			int rc = sip_msg_set_ruri(m, last.uri.raw);
			if (rc)
				return rc;
		}
	}
	sip_val_iter_t it = { 0 };
	ims_str_t top;
	if (sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &top) == 1) {
		sip_nameaddr_t *na = ims_arena_zalloc(ctx->arena, sizeof(*na));
		if (!na)
			return IMS_ENOMEM;
		ims_str_t copy;
		if (ims_arena_strdup(ctx->arena, top, &copy))
			return IMS_ENOMEM;
		if (sip_nameaddr_parse(copy, ctx->arena, na) == 0 &&
		    sip_proxy_is_local_uri(p, &na->uri)) {
			ctx->removed_route = copy;
			ctx->removed_route_parsed = na;
			return sip_msg_remove_first_value(m, SIP_HDR_ROUTE);
		}
	}
	return 0;
}

static void run_hook(sip_proxy_ctx_t *ctx)
{
	ctx_ref(ctx);
	ctx->decided = 0;
	ctx->p->hooks.on_request(ctx, ctx->p->hooks.ud);
	after_decision(ctx);
	ctx_unref(ctx);
}

static int stateless_reply(px_worker_t *w, const sip_msg_t *req, const sip_tp_peer_t *src,
			   int code, const char *reason, const char *extra)
{
	ims_arena_t *a = ims_arena_create(2048);
	if (!a)
		return IMS_ENOMEM;
	sip_msg_t *rsp;
	ims_str_t tag = code > 100 && !req->to_tag.len ? sip_proxy_random_token(w->p, a, 8)
						       : IMS_STR_NULL;
	int rc = sip_msg_new_response(a, req, code, ims_str_cstr(reason), tag, &rsp);
	if (!rc && extra)
		rc = sip_tsx_add_hdr_lines(rsp, ims_str_cstr(extra));
	if (!rc)
		rc = sip_tsx_send_response_stateless(w->tsx, rsp, src);
	if (!rc) {
		stat_inc(&w->p->st.stateless_replies);
		ims_counter_inc(cached(&m_stateless, "sip_stateless_replies_total",
				       "SIP responses sent without a transaction (400, 503)", NULL,
				       NULL));
		count_response(code);
	}
	ims_arena_destroy(a);
	return rc;
}

/* §16.10: CANCEL. */
static void on_cancel_req(px_worker_t *w, sip_msg_t *req, const sip_tp_peer_t *src,
			  ims_arena_t **arena)
{
	sip_proxy_t *p = w->p;
	sip_tsx_t *inv = sip_tsx_find_invite(w->tsx, req, src);
	sip_tsx_t *cst;
	if (sip_tsx_uas_create(w->tsx, req, src, arena, NULL, NULL, &cst) != 0)
		return;
	if (!inv) {
		/* §9.2: no matching transaction */
		(void)sip_tsx_reply(cst, 481, IMS_STR_NULL, IMS_STR_NULL);
		return;
	}
	(void)sip_tsx_reply(cst, 200, IMS_STR_NULL, IMS_STR_NULL);
	/* the INVITE's server transaction carries its context as callback data */
	sip_proxy_ctx_t *ctx = sip_tsx_get_ud(inv);
	if (!ctx || ctx->final_sent || ctx->cancelled)
		return;
	ctx_ref(ctx);
	ctx->cancelled = 1;
	if (p->hooks.on_cancel)
		p->hooks.on_cancel(ctx, p->hooks.ud);
	if (ctx->pending > 0) {
		cancel_pending_branches(ctx, IMS_STR_NULL);
	} else {
		local_reply(ctx, 487, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
	}
	ctx_unref(ctx);
}

/* The transaction layer's TU entry for requests no transaction absorbed. */
static void tu_request(void *ud, sip_tsx_layer_t *l, sip_msg_t *req, const sip_tp_peer_t *src,
		       ims_arena_t **arena)
{
	(void)l;
	px_worker_t *w = ud;
	sip_proxy_t *p = w->p;
	stat_inc(&p->st.rx_requests);
	count_request(req->method_id);
	if (req->method_id == SIP_METHOD_CANCEL) {
		on_cancel_req(w, req, src, arena);
		return;
	}
	int is_ack = req->method_id == SIP_METHOD_ACK;
	if (!is_ack && p->cfg.max_tsx_per_worker &&
	    sip_tsx_layer_count(w->tsx) >= p->cfg.max_tsx_per_worker) {
		/* overload: answer without keeping state */
		stateless_reply(w, req, src, 503, "Service Unavailable", "Retry-After: 5\r\n");
		return;
	}
	sip_proxy_ctx_t *ctx = ctx_new(w, src);
	if (!ctx)
		return;
	ctx->method = req->method_id;
	ctx->rcv = req;
	ctx->refs = 1; /* held until the end of this function */
	if (is_ack) {
		ctx->rx_arena = *arena;
		*arena = NULL;
	} else {
		int rc = sip_tsx_uas_create(w->tsx, req, src, arena, st_cb, ctx, &ctx->st);
		if (rc) {
			if (rc == IMS_EAGAIN)
				stateless_reply(w, req, src, 503, "Service Unavailable",
						"Retry-After: 5\r\n");
			ctx_unref(ctx);
			return;
		}
		ctx_ref(ctx); /* the server transaction */
		if (ctx->method == SIP_METHOD_INVITE) /* §16.2: 100 Trying at once */
			(void)sip_tsx_reply(ctx->st, 100, IMS_STR_NULL, IMS_STR_NULL);
	}
	ctx->loop_tag = loop_hash(ctx, req);
	ims_str_t bad;
	/* §16.3 step 3: Max-Forwards */
	if (req->max_forwards == 0) {
		if (!is_ack)
			local_reply(ctx, 483, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
		goto out;
	}
	/* §16.3 step 4: loop detection */
	if (ctx->loop_tag.s && is_loop(ctx, req)) {
		if (!is_ack)
			local_reply(ctx, 482, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
		goto out;
	}
	/* §16.3 step 5: Proxy-Require */
	if (!proxy_require_ok(p, req, &bad)) {
		if (!is_ack) {
			ims_str_t h = ims_arena_printf(ctx->arena, "Unsupported: %.*s\r\n",
						       IMS_STR_FMT(bad));
			local_reply(ctx, 420, IMS_STR_NULL, h, IMS_STR_NULL, IMS_STR_NULL);
		}
		goto out;
	}
	if (sip_msg_clone(req, ctx->arena, &ctx->msg) != 0 || route_preprocess(ctx) != 0) {
		if (!is_ack)
			local_reply(ctx, 500, IMS_STR("Out of Memory"), IMS_STR_NULL, IMS_STR_NULL,
				    IMS_STR_NULL);
		goto out;
	}
	run_hook(ctx);
out:
	ctx_unref(ctx);
}

/* A response no client transaction matched: if the top Via is ours, it is
 * for a request we relayed statelessly or a 2xx retransmission after the
 * transaction ended (RFC 6026): forward it by the next Via. */
static void tu_stray(void *ud, sip_tsx_layer_t *l, sip_msg_t *rsp, const sip_tp_peer_t *src,
		     ims_arena_t **arena)
{
	(void)l;
	(void)src;
	(void)arena;
	px_worker_t *w = ud;
	stat_inc(&w->p->st.rx_responses);
	if (!is_local_hostport(w->p, rsp->via1.host, rsp->via1.port))
		return;
	if (sip_msg_remove_first_value(rsp, SIP_HDR_VIA) != 0 || !sip_msg_hdr(rsp, SIP_HDR_VIA))
		return;
	(void)send_by_via(w, rsp, NULL);
}

/* ---- parse failures: "400 <reason>" when possible ------------------------- */

/* Finds the raw value of a header in an unparsable message (full or
 * compact name), or an empty view. */
static ims_str_t raw_header(const char *buf, size_t len, const char *name, char compact)
{
	const char *p = buf, *end = buf + len;
	size_t n = strlen(name);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if (le == p || (le == p + 1 && *p == '\r'))
			break; /* end of headers */
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (colon) {
			ims_str_t hn = ims_str_trim(ims_str_from(p, (size_t)(colon - p)));
			if ((hn.len == n && strncasecmp(hn.s, name, n) == 0) ||
			    (compact && hn.len == 1 && (hn.s[0] | 32) == compact))
				return ims_str_trim(ims_str_from(colon + 1, (size_t)(le - colon - 1)));
		}
		p = eol ? eol + 1 : end;
	}
	return IMS_STR_NULL;
}

static void reply_400_raw(px_worker_t *w, const char *buf, size_t len,
			  const sip_tp_peer_t *src, const sip_parse_err_t *perr)
{
	sip_proxy_t *p = w->p;
	if (len < 8 || memcmp(buf, "SIP/", 4) == 0 || (len >= 4 && memcmp(buf, "ACK ", 4) == 0))
		goto drop; /* responses and ACKs are never answered */
	ims_str_t via = raw_header(buf, len, "Via", 'v');
	ims_str_t from = raw_header(buf, len, "From", 'f');
	ims_str_t to = raw_header(buf, len, "To", 't');
	ims_str_t cid = raw_header(buf, len, "Call-ID", 'i');
	ims_str_t cseq = raw_header(buf, len, "CSeq", 0);
	if (!via.len || !from.len || !to.len || !cid.len || !cseq.len)
		goto drop;
	const char *reason = perr && perr->reason[0] ? perr->reason : "Bad Request";
	ims_arena_t *a = ims_arena_create(2048);
	if (!a)
		goto drop;
	ims_str_t txt = ims_arena_printf(
		a, "SIP/2.0 400 %s\r\nVia: %.*s\r\nFrom: %.*s\r\nTo: %.*s%s\r\nCall-ID: %.*s\r\n"
		   "CSeq: %.*s\r\nContent-Length: 0\r\n\r\n",
		reason, IMS_STR_FMT(via), IMS_STR_FMT(from), IMS_STR_FMT(to),
		memmem(to.s, to.len, "tag=", 4) ? "" : ";tag=400", IMS_STR_FMT(cid), IMS_STR_FMT(cseq));
	/* The answer is sent as text: its CSeq or From may be what did not
	 * parse. It goes to the source address (§18.2.2 with received). */
	const char *comma = memchr(via.s, ',', via.len);
	if (comma)
		via.len = (uint32_t)(comma - via.s);
	sip_via_t v;
	char ip[64];
	sip_tp_peer_t dst;
	if (txt.s && sip_via_parse(via, NULL, &v) == 0) {
		v.received = ims_str_cstr(sip_tp_addr_host(&src->addr, ip, sizeof(ip)));
		if (v.has_rport && !v.rport.len) {
			v.has_rport = 0;
			v.port = sip_tp_addr_port(&src->addr);
		}
		sip_tp_response_peer(&v, src, &dst);
		if (sip_tsx_layer_send(w->tsx, &dst, txt.s, txt.len) == 0) {
			stat_inc(&p->st.stateless_replies);
			ims_counter_inc(cached(&m_stateless, "sip_stateless_replies_total",
					       "SIP responses sent without a transaction (400, 503)",
					       NULL, NULL));
			count_response(400);
			ims_arena_destroy(a);
			return;
		}
	}
	ims_arena_destroy(a);
drop:
	stat_inc(&p->st.dropped);
	ims_counter_inc(cached(&m_dropped, "sip_dropped_total",
			       "SIP messages dropped as unparsable and unanswerable", NULL, NULL));
}

/* ---- receive path and workers ---------------------------------------------- */

typedef struct px_handoff {
	px_worker_t *w;
	sip_msg_t *msg;
	ims_arena_t *arena;
	sip_tp_peer_t peer;
} px_handoff_t;

static void handoff_run(void *arg)
{
	px_handoff_t *h = arg;
	ims_arena_t *a = h->arena;
	sip_tsx_layer_recv(h->w->tsx, h->msg, &h->peer, &a);
	rearm(h->w);
	free(h);
}

static void process(px_worker_t *w, const char *buf, size_t len, const sip_tp_peer_t *peer,
		    ims_arena_t **arena)
{
	sip_proxy_t *p = w->p;
	sip_msg_t *msg;
	sip_parse_err_t perr;
	memset(&perr, 0, sizeof(perr));
	if (sip_msg_parse(buf, len, *arena, &msg, &perr) != 0) {
		LOG_DEBUG("sip.proxy", "parse.failed reason=\"%s\" line=%u", perr.reason, perr.line);
		reply_400_raw(w, buf, len, peer, &perr);
		return;
	}
	if (msg->is_request) {
		if (sip_tp_via_received(msg, peer) != 0) {
			stat_inc(&p->st.dropped);
			return;
		}
	} else {
		/* RFC 3261 §7.2: a status is 100-699; anything else is garbage
		 * that no transaction could forward upstream. */
		if (msg->status < 100 || msg->status > 699) {
			stat_inc(&p->st.dropped);
			return;
		}
		/* A response goes to the worker whose branch it carries. */
		int owner = sip_tsx_branch_worker(msg->via1.branch);
		if (owner >= 0 && owner < p->nworkers && owner != w->idx && !p->test_mode) {
			px_handoff_t *h = malloc(sizeof(*h));
			if (!h)
				return;
			h->w = &p->w[owner];
			h->msg = msg;
			h->arena = *arena;
			h->peer = *peer;
			if (sip_tp_post(p->tp, owner, handoff_run, h) == 0) {
				*arena = NULL;
				stat_inc(&p->st.handoffs);
			} else {
				free(h);
			}
			return;
		}
	}
	if (sip_tsx_layer_recv(w->tsx, msg, peer, arena) != 0)
		stat_inc(&p->st.dropped);
}

static void tp_recv(void *ud, sip_tp_rx_t *rx)
{
	sip_proxy_t *p = ud;
	px_worker_t *w = &p->w[rx->worker];
	process(w, rx->buf, rx->len, &rx->peer, &rx->arena);
	rearm(w);
}

static void tp_error(void *ud, int worker, const sip_tp_peer_t *peer, int err)
{
	sip_proxy_t *p = ud;
	px_worker_t *w = &p->w[worker];
	sip_tsx_layer_tp_error(w->tsx, peer, err);
	rearm(w);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	px_worker_t *w = arg;
	ims_timers_run(&w->timers);
	rearm(w);
}

static void rearm(px_worker_t *w)
{
	if (!w->tev)
		return;
	int64_t next = ims_timers_next(&w->timers);
	if (next < 0) {
		evtimer_del(w->tev);
		return;
	}
	struct timeval tv = { (time_t)(next / 1000), (suseconds_t)((next % 1000) * 1000) };
	evtimer_add(w->tev, &tv);
}

static int px_send(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	px_worker_t *w = ud;
	sip_proxy_t *p = w->p;
	if (p->test_mode)
		return p->cfg.test_send(p->cfg.test_send_ud, to, buf, len);
	return sip_tp_send(p->tp, to, buf, len);
}

typedef struct px_post_job {
	px_worker_t *w;
	void (*fn)(void *arg);
	void *arg;
} px_post_job_t;

static void post_run(void *arg)
{
	px_post_job_t *j = arg;
	j->fn(j->arg);
	rearm(j->w);
	free(j);
}

int sip_proxy_post(sip_proxy_t *p, int worker, void (*fn)(void *arg), void *arg)
{
	if (worker < 0 || worker >= p->nworkers)
		return IMS_EINVAL;
	if (p->test_mode) {
		px_post_t *e = malloc(sizeof(*e));
		if (!e)
			return IMS_ENOMEM;
		e->next = NULL;
		e->fn = fn;
		e->arg = arg;
		pthread_mutex_lock(&p->tmu);
		if (p->ttail)
			p->ttail->next = e;
		else
			p->thead = e;
		p->ttail = e;
		pthread_mutex_unlock(&p->tmu);
		return 0;
	}
	px_post_job_t *j = malloc(sizeof(*j));
	if (!j)
		return IMS_ENOMEM;
	j->w = &p->w[worker];
	j->fn = fn;
	j->arg = arg;
	int rc = sip_tp_post(p->tp, worker, post_run, j);
	if (rc)
		free(j);
	return rc;
}

/* ---- originating requests ---------------------------------------------------- */

typedef struct px_uac {
	sip_proxy_uac_cb cb;
	void *ud;
	uint8_t reported;
} px_uac_t;

static void uac_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	(void)t;
	px_uac_t *u = ud;
	switch (ev->type) {
	case SIP_TSX_EV_RESPONSE:
		if (ev->msg->status >= 200 && !u->reported) {
			u->reported = 1;
			u->cb(u->ud, ev->msg->status, ev->msg);
		}
		break;
	case SIP_TSX_EV_TIMEOUT:
	case SIP_TSX_EV_TPERR:
		if (!u->reported) {
			u->reported = 1;
			u->cb(u->ud, ev->type == SIP_TSX_EV_TIMEOUT ? 408 : 503, NULL);
		}
		break;
	case SIP_TSX_EV_TERMINATED:
		if (!u->reported) /* cannot happen, but the contract is "exactly once" */
			u->cb(u->ud, 408, NULL);
		free(u);
		break;
	}
}

static int copy_request(const sip_msg_t *src, ims_arena_t *a, sip_msg_t **out)
{
	sip_msg_t *m;
	int rc = sip_msg_new_request(a, src->method, src->ruri, &m);
	if (rc)
		return rc;
	ims_str_t ctype = IMS_STR_NULL;
	for (const sip_hdr_t *h = src->hdrs; h; h = h->next) {
		if (h->flags & SIP_HDRF_DELETED || h->id == SIP_HDR_CONTENT_LENGTH)
			continue;
		if (h->id == SIP_HDR_CONTENT_TYPE) {
			ctype = h->value;
			continue;
		}
		if (!sip_msg_hdr_add(m, h->id, h->id == SIP_HDR_OTHER ? h->name : IMS_STR_NULL,
				     h->value, SIP_POS_BOTTOM))
			return IMS_ENOMEM;
	}
	if ((src->body.len || ctype.len) && (rc = sip_msg_set_body(m, ctype, src->body)))
		return rc;
	*out = m;
	return 0;
}

int sip_proxy_uac_send(sip_proxy_t *p, int worker, const sip_msg_t *req,
		       const sip_proxy_target_t *target, sip_proxy_uac_cb cb, void *ud)
{
	if (worker < 0 || worker >= p->nworkers || !cb || !req->is_request ||
	    req->method_id == SIP_METHOD_ACK)
		return IMS_EINVAL;
	px_worker_t *w = &p->w[worker];
	/* A short-lived context gives the branch builders their arena. */
	sip_tp_peer_t none;
	memset(&none, 0, sizeof(none));
	none.listener = -1;
	sip_proxy_ctx_t *ctx = ctx_new(w, &none);
	if (!ctx)
		return IMS_ENOMEM;
	ctx->refs = 1;
	ctx->method = req->method_id;
	ctx->rcv = req;
	/* The daemon's request has no Via yet, so it is copied header by
	 * header (not cloned through the parser, which wants a Via). */
	sip_msg_t *m = NULL;
	sip_tp_peer_t dest;
	int li = -1;
	int rc = copy_request(req, ctx->arena, &m);
	if (!rc)
		rc = apply_target(m, target);
	if (!rc && !sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS) &&
	    !sip_msg_hdr_addf(m, SIP_HDR_MAX_FORWARDS, SIP_POS_TOP, "70"))
		rc = IMS_ENOMEM;
	if (!rc)
		rc = branch_dest(ctx, target, m, &dest);
	if (!rc)
		rc = push_via(ctx, m, &dest, &li);
	px_uac_t *u = NULL;
	if (!rc) {
		u = calloc(1, sizeof(*u));
		rc = u ? 0 : IMS_ENOMEM;
	}
	if (!rc) {
		u->cb = cb;
		u->ud = ud;
		dest.listener = li;
		rc = sip_tsx_uac_create(w->tsx, m, &dest, uac_cb, u, NULL);
		if (rc)
			free(u);
		else
			stat_inc(&p->st.tx_requests);
	}
	ctx_unref(ctx);
	rearm(w);
	return rc;
}

/* ---- life cycle ------------------------------------------------------------------ */

static char **copy_list(const char *const *in, size_t *n)
{
	*n = 0;
	if (!in)
		return NULL;
	while (in[*n])
		(*n)++;
	char **out = calloc(*n + 1, sizeof(char *));
	if (!out)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		out[i] = strdup(in[i]);
	return out;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
}

int sip_proxy_create(const sip_proxy_cfg_t *cfg, const sip_proxy_hooks_t *hooks,
		     sip_proxy_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!hooks || !hooks->on_request) {
		if (err)
			snprintf(err, errlen, "sip proxy: no on_request hook");
		return IMS_EINVAL;
	}
	sip_proxy_t *p = calloc(1, sizeof(*p));
	if (!p)
		return IMS_ENOMEM;
	p->cfg = *cfg;
	p->hooks = *hooks;
	p->test_mode = cfg->test_send != NULL;
	pthread_mutex_init(&p->tmu, NULL);
	pthread_mutex_init(&p->dmu, NULL);
	if (!p->cfg.t1_ms)
		p->cfg.t1_ms = 500;
	if (!p->cfg.t2_ms)
		p->cfg.t2_ms = 4000;
	if (!p->cfg.t4_ms)
		p->cfg.t4_ms = 5000;
	if (!p->cfg.timer_c_ms)
		p->cfg.timer_c_ms = 180000;
	if (!p->cfg.max_tsx_per_worker)
		p->cfg.max_tsx_per_worker = 100000;
	p->cfg.server = cfg->server ? strdup(cfg->server) : NULL;
	p->aliases = copy_list(cfg->aliases, &p->naliases);
	p->supported = copy_list(cfg->supported, &p->nsupported);
	p->hosts = copy_list(cfg->hosts, &p->nhosts);
	p->cfg.aliases = NULL;
	p->cfg.supported = NULL;
	p->cfg.hosts = NULL;
	int rc;
	if (p->test_mode) {
		p->nworkers = 1;
		p->nlisten = cfg->tp.nlisten;
		p->listen = calloc(p->nlisten ? p->nlisten : 1, sizeof(*p->listen));
		if (!p->listen)
			goto nomem;
		memcpy(p->listen, cfg->tp.listen, p->nlisten * sizeof(*p->listen));
	} else {
		rc = sip_tp_create(&cfg->tp, tp_recv, tp_error, p, &p->tp, err, errlen);
		if (rc) {
			sip_proxy_destroy(p);
			return rc;
		}
		p->nworkers = sip_tp_nworkers(p->tp);
		p->nlisten = sip_tp_nlisteners(p->tp);
		p->listen = calloc(p->nlisten, sizeof(*p->listen));
		if (!p->listen)
			goto nomem;
		for (size_t i = 0; i < p->nlisten; i++)
			p->listen[i] = *sip_tp_listener(p->tp, i);
	}
	p->cfg.tp.listen = p->listen;
	p->w = calloc((size_t)p->nworkers, sizeof(*p->w));
	if (!p->w)
		goto nomem;
	for (int i = 0; i < p->nworkers; i++) {
		px_worker_t *w = &p->w[i];
		w->p = p;
		w->idx = i;
		if (getrandom(&w->rnd, sizeof(w->rnd), 0) != (ssize_t)sizeof(w->rnd) || !w->rnd)
			w->rnd = 0x9E3779B97F4A7C15ULL + (uint64_t)i;
		ims_timers_init(&w->timers, p->test_mode ? cfg->test_clock : NULL);
		sip_tsx_cfg_t tc = {
			.t1_ms = p->cfg.t1_ms, .t2_ms = p->cfg.t2_ms, .t4_ms = p->cfg.t4_ms,
			.worker = i, .timers = &w->timers, .send = px_send, .send_ud = w,
			.on_request = tu_request, .on_stray_response = tu_stray, .tu_ud = w,
		};
		if (sip_tsx_layer_create(&tc, &w->tsx) != 0)
			goto nomem;
		if (!p->test_mode) {
			w->tev = evtimer_new(sip_tp_base(p->tp, i), on_tick, w);
			if (!w->tev)
				goto nomem;
		}
	}
	*out = p;
	return 0;
nomem:
	if (err)
		snprintf(err, errlen, "sip proxy: out of memory");
	sip_proxy_destroy(p);
	return IMS_ENOMEM;
}

int sip_proxy_start(sip_proxy_t *p)
{
	return p->test_mode ? 0 : sip_tp_start(p->tp);
}

void sip_proxy_stop(sip_proxy_t *p)
{
	if (!p->test_mode && p->tp)
		sip_tp_stop(p->tp);
}

void sip_proxy_destroy(sip_proxy_t *p)
{
	if (!p)
		return;
	/* jobs posted after the loops stopped (resumes from Diameter
	 * threads...) still run while the contexts exist */
	if (p->tp)
		sip_tp_drain(p->tp);
	for (int i = 0; p->w && i < p->nworkers; i++) {
		px_worker_t *w = &p->w[i];
		if (w->tsx)
			sip_tsx_layer_destroy(w->tsx);
		w->tsx = NULL;
		/* contexts still referenced (suspended, pending branches) */
		while (w->ctxs)
			ctx_free(w->ctxs);
		ims_timers_fini(&w->timers);
		if (w->tev)
			event_free(w->tev);
	}
	/* test-mode posts still queued */
	px_post_t *e = p->thead;
	while (e) {
		px_post_t *n = e->next;
		e->fn(e->arg);
		free(e);
		e = n;
	}
	sip_tp_destroy(p->tp);
	free(p->w);
	free(p->listen);
	free_list(p->aliases, p->naliases);
	free_list(p->supported, p->nsupported);
	free_list(p->hosts, p->nhosts);
	free((char *)p->cfg.server);
	pthread_mutex_destroy(&p->tmu);
	pthread_mutex_destroy(&p->dmu);
	free(p);
}

int sip_proxy_nworkers(const sip_proxy_t *p)
{
	return p->nworkers;
}

sip_tp_t *sip_proxy_tp(sip_proxy_t *p)
{
	return p->tp;
}

void sip_proxy_get_stats(sip_proxy_t *p, sip_proxy_stats_t *out)
{
	out->rx_requests = __atomic_load_n(&p->st.rx_requests, __ATOMIC_RELAXED);
	out->rx_responses = __atomic_load_n(&p->st.rx_responses, __ATOMIC_RELAXED);
	out->tx_requests = __atomic_load_n(&p->st.tx_requests, __ATOMIC_RELAXED);
	out->tx_responses = __atomic_load_n(&p->st.tx_responses, __ATOMIC_RELAXED);
	out->dropped = __atomic_load_n(&p->st.dropped, __ATOMIC_RELAXED);
	out->stateless_replies = __atomic_load_n(&p->st.stateless_replies, __ATOMIC_RELAXED);
	out->contexts = __atomic_load_n(&p->st.contexts, __ATOMIC_RELAXED);
	out->handoffs = __atomic_load_n(&p->st.handoffs, __ATOMIC_RELAXED);
}

int sip_proxy_test_inject(sip_proxy_t *p, const char *buf, size_t len, const sip_tp_peer_t *src)
{
	ims_arena_t *a = ims_arena_create(len + 4096);
	if (!a)
		return IMS_ENOMEM;
	char *copy = ims_arena_memdup(a, buf, len);
	if (!copy) {
		ims_arena_destroy(a);
		return IMS_ENOMEM;
	}
	process(&p->w[0], copy, len, src, &a);
	ims_arena_destroy(a);
	return 0;
}

int sip_proxy_test_run(sip_proxy_t *p)
{
	int n = 0;
	for (;;) {
		pthread_mutex_lock(&p->tmu);
		px_post_t *e = p->thead;
		p->thead = p->ttail = NULL;
		pthread_mutex_unlock(&p->tmu);
		int ran = 0;
		while (e) {
			px_post_t *nx = e->next;
			e->fn(e->arg);
			free(e);
			e = nx;
			ran++;
		}
		ran += ims_timers_run(&p->w[0].timers);
		n += ran;
		if (!ran)
			return n;
	}
}
