/* The proxy core, forwarding side: next-hop resolution (RFC 3261 §16.6
 * steps 6-7), request contexts and their references, branches and the
 * response context (§16.7: best response, 2xx/6xx handling, timer C), and
 * the actions the daemons call (reply, forward, fork, suspend/resume).
 *
 * Life of a request context: it is referenced by its server transaction,
 * by each branch still waiting for a final response, by each live client
 * transaction, while a hook runs, and while suspended. It is freed when the
 * count drops to zero, so a late timer or response never finds it gone. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/proxy/proxy-int.h"

#define DNS_TTL_MS 60000

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

void sip_proxy__ctx_free(sip_proxy_ctx_t *ctx)
{
	sip_proxy_t *p = ctx->p;
	for (sip_proxy_branch_t *b = ctx->branches; b; b = b->next) {
		ims_timer_stop(&ctx->w->timers, &b->timer_c);
		ims_timer_stop(&ctx->w->timers, &b->t_fail);
		ims_timer_stop(&ctx->w->timers, &b->t_resp);
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

void sip_proxy__ctx_ref(sip_proxy_ctx_t *ctx)
{
	ctx->refs++;
}

/* The context is done once its final went upstream and no branch is
 * pending: its transactions only absorb retransmissions from then on, and
 * do it without it (a 2xx retransmission reaching a client INVITE
 * transaction is forwarded by Via as a stray response, RFC 6026). Letting
 * them go frees the context now and lets them shrink (sip_tsx.h), instead
 * of keeping both request copies for 64*T1. */
static void ctx_release(sip_proxy_ctx_t *ctx)
{
	ctx->released = 1;
	ctx->refs++; /* the references dropped below must not free it yet */
	if (ctx->st) {
		sip_tsx_set_cb(ctx->st, NULL, NULL);
		ctx->st = NULL;
		ctx->refs--; /* the server transaction's */
	}
	for (sip_proxy_branch_t *b = ctx->branches; b; b = b->next)
		if (b->ct) {
			sip_tsx_set_cb(b->ct, NULL, NULL);
			b->ct = NULL;
			ctx->refs--; /* the client transaction's */
		}
	sip_proxy__ctx_unref(ctx);
}

void sip_proxy__ctx_unref(sip_proxy_ctx_t *ctx)
{
	if (--ctx->refs == 0)
		sip_proxy__ctx_free(ctx);
	else if (!ctx->released && ctx->final_sent && ctx->pending == 0 && !ctx->suspended)
		ctx_release(ctx);
}

sip_proxy_ctx_t *sip_proxy__ctx_new(px_worker_t *w, const sip_tp_peer_t *src)
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
int sip_proxy__send_by_via(px_worker_t *w, sip_msg_t *rsp, const sip_tp_peer_t *hint)
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
			sip_proxy__count_response(rsp->status);
		ctx->final_sent = 1;
	}
	int rc = IMS_ESTATE;
	if (ctx->st)
		rc = sip_tsx_respond(ctx->st, rsp);
	if (rc == IMS_ESTATE && ctx->method == SIP_METHOD_INVITE && rsp->status >= 200 &&
	    rsp->status < 300)
		return sip_proxy__send_by_via(ctx->w, rsp, NULL);
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

void sip_proxy__cancel_pending_branches(sip_proxy_ctx_t *ctx, ims_str_t reason)
{
	for (sip_proxy_branch_t *b = ctx->branches; b; b = b->next)
		if (!b->done && b->ct)
			(void)sip_tsx_uac_cancel(b->ct, reason, NULL, NULL);
}

int sip_proxy__local_reply(sip_proxy_ctx_t *ctx, int code, ims_str_t reason, ims_str_t hdrs,
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
		sip_proxy__local_reply(ctx, 500, IMS_STR("No Usable Response"), IMS_STR_NULL, IMS_STR_NULL,
			    IMS_STR_NULL);
		return;
	}
	if (ctx->best_code == 503) {
		/* §16.7 step 6: a 503 is not passed on; 500 instead */
		sip_proxy__local_reply(ctx, 500, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
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
	ims_timer_stop(&ctx->w->timers, &b->t_resp);
	int verdict = SIP_PROXY_CONTINUE;
	if (p->hooks.on_response)
		verdict = p->hooks.on_response(ctx, b, rsp, p->hooks.ud);
	if (verdict == SIP_PROXY_CONTINUE) {
		(void)sip_msg_remove_first_value(rsp, SIP_HDR_VIA); /* §16.7 step 3 */
		if (code >= 200 && code < 300) {
			/* §16.7 step 5/9: 2xx go upstream at once; others are cancelled */
			if (!ctx->final_sent || ctx->method == SIP_METHOD_INVITE)
				send_upstream(ctx, rsp);
			sip_proxy__cancel_pending_branches(ctx, IMS_STR("SIP;cause=200;text=\"Call completed elsewhere\""));
		} else if (!ctx->final_sent) {
			if (code >= 600)
				sip_proxy__cancel_pending_branches(ctx, IMS_STR_NULL); /* §16.7 step 5 */
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
	sip_proxy__ctx_unref(ctx); /* the pending branch's reference */
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
		ims_timer_stop(&b->ctx->w->timers, &b->t_resp);
		maybe_finish(b->ctx);
		sip_proxy__ctx_unref(b->ctx);
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

/* The target's timeout_ms passed without any response on the branch. */
static void on_t_resp(ims_timer_t *t, void *arg)
{
	(void)t;
	sip_proxy_branch_t *b = arg;
	sip_proxy_ctx_t *ctx = b->ctx;
	if (b->done)
		return;
	LOG_INFO("sip.proxy", "branch.no_response call_id=%.*s ruri=%.*s",
		 IMS_STR_FMT(ctx->rcv->call_id), IMS_STR_FMT(b->req->ruri));
	sip_proxy__ctx_ref(ctx);
	if (b->ct)
		sip_tsx_abandon(b->ct);
	branch_fail(b, 408, "Request Timeout");
	sip_proxy__ctx_unref(ctx);
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
	sip_proxy__ctx_ref(ctx);
	if (b->ct)
		sip_tsx_abandon(b->ct);
	branch_fail(b, 408, "Request Timeout");
	sip_proxy__ctx_unref(ctx);
}

/* RFC 3261 §16.7 step 3: a response whose only Via is ours was meant for
 * this element and is not forwarded. On a proxied branch it cannot be
 * legitimate (the request carried the upstream Vias below ours): a
 * provisional one is dropped, a final one (which the client transaction
 * has already taken as final) ends the branch as 502 Bad Gateway. */
static int only_our_via(const sip_msg_t *rsp)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	int n = 0;
	while (n < 2 && sip_msg_next_value(rsp, SIP_HDR_VIA, &it, &v) == 1)
		n++;
	return n < 2;
}

static void ct_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	sip_proxy_branch_t *b = ud;
	sip_proxy_ctx_t *ctx = b->ctx;
	sip_proxy__ctx_ref(ctx);
	switch (ev->type) {
	case SIP_TSX_EV_RESPONSE:
		stat_inc(&ctx->p->st.rx_responses);
		if (only_our_via(ev->msg)) {
			stat_inc(&ctx->p->st.dropped);
			LOG_NOTICE("sip.proxy", "response.no_upstream_via call_id=%.*s code=%d",
				   IMS_STR_FMT(ctx->rcv->call_id), ev->msg->status);
			if (ev->msg->status >= 200)
				branch_fail(b, 502, "Bad Gateway");
			break;
		}
		ims_timer_stop(&ctx->w->timers, &b->t_resp);
		if (ev->msg->status < 200) {
			if (!b->done)
				branch_provisional(b, ev->msg);
		} else if (!b->done) {
			branch_final(b, ev->msg, ev->arena);
		} else if (ev->msg->status < 300 && ctx->method == SIP_METHOD_INVITE) {
			/* RFC 6026: a retransmitted 2xx goes upstream too, and
			 * so does a 2xx from a downstream fork after our final
			 * (§16.7 step 5: every 2xx to INVITE is forwarded) */
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
		sip_proxy__ctx_unref(ctx); /* the client transaction's reference */
		break;
	}
	sip_proxy__ctx_unref(ctx);
}

/* ---- forwarding (RFC 3261 §16.6) ------------------------------------------- */

int sip_proxy__push_via(sip_proxy_ctx_t *ctx, sip_msg_t *m, const sip_tp_peer_t *dest,
		    int *listener)
{
	sip_proxy_t *p = ctx->p;
	int li = sip_proxy__find_listener(p, dest->proto, &dest->addr);
	if (li < 0)
		li = sip_proxy__find_listener(p, dest->proto, NULL);
	if (li < 0)
		return IMS_EUNREACH;
	*listener = li;
	char hp[200];
	sip_proxy__listener_hostport(&p->listen[li], hp, sizeof(hp));
	ims_str_t branch = sip_tsx_branch_new(ctx->w->tsx, ctx->arena, ctx->loop_tag);
	if (!branch.s)
		return IMS_ENOMEM;
	if (!sip_msg_hdr_addf(m, SIP_HDR_VIA, SIP_POS_TOP, "SIP/2.0/%s %s;branch=%.*s",
			      sip_tp_proto_name(dest->proto), hp, IMS_STR_FMT(branch)))
		return IMS_ENOMEM;
	return 0;
}

/* Request-URI, pushed Routes and extra headers of a target. */
int sip_proxy__apply_target(sip_msg_t *m, const sip_proxy_target_t *tg)
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
int sip_proxy__build_branch_msg(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg,
			    sip_msg_t **out)
{
	sip_msg_t *m;
	int rc = sip_msg_clone(ctx->msg, ctx->arena, &m);
	if (rc || (rc = sip_proxy__apply_target(m, tg)))
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
			li = sip_proxy__find_listener(ctx->p, ctx->src.proto, &ctx->src.addr);
		if (li >= 0) {
			char hp[200];
			sip_proxy__listener_hostport(&ctx->p->listen[li], hp, sizeof(hp));
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
int sip_proxy__branch_dest(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg, sip_msg_t *m,
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
	int li, rc = sip_proxy__build_branch_msg(ctx, tg, &m);
	if (!rc)
		rc = sip_proxy__branch_dest(ctx, tg, m, &dest);
	if (!rc)
		rc = sip_proxy__push_via(ctx, m, &dest, &li);
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
	int rc = sip_proxy__build_branch_msg(ctx, tg, &b->req);
	if (rc)
		return rc;
	b->ctx = ctx;
	b->idx = ctx->nbranches++;
	b->data = tg ? tg->data : NULL;
	ims_timer_init(&b->timer_c, on_timer_c, b);
	ims_timer_init(&b->t_fail, on_t_fail, b);
	ims_timer_init(&b->t_resp, on_t_resp, b);
	if (ctx->btail)
		ctx->btail->next = b;
	else
		ctx->branches = b;
	ctx->btail = b;
	ctx->pending++;
	sip_proxy__ctx_ref(ctx); /* pending branch */
	ctx->decided = 1;
	if (out)
		*out = b;

	int li = -1;
	rc = sip_proxy__branch_dest(ctx, tg, b->req, &b->dest);
	if (!rc)
		rc = sip_proxy__push_via(ctx, b->req, &b->dest, &li);
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
	sip_proxy__ctx_ref(ctx); /* client transaction */
	if (ctx->method == SIP_METHOD_INVITE)
		ims_timer_start(&ctx->w->timers, &b->timer_c, ctx->p->cfg.timer_c_ms);
	if (tg && tg->timeout_ms)
		ims_timer_start(&ctx->w->timers, &b->t_resp, tg->timeout_ms);
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
		sip_proxy__cancel_pending_branches(ctx, IMS_STR_NULL);
	}
	return sip_proxy__local_reply(ctx, code, reason, hdrs, ctype, body);
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
	sip_proxy__cancel_pending_branches(ctx, reason);
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
		sip_proxy__ctx_ref(ctx);
	}
	return 0;
}

/* After a hook or resumed function: the "every request is answered" rule. */
void sip_proxy__after_decision(sip_proxy_ctx_t *ctx)
{
	if (ctx->decided || ctx->suspended || ctx->final_sent || ctx->method == SIP_METHOD_ACK)
		return;
	LOG_WARN("sip.proxy", "no_decision call_id=%.*s method=%.*s",
		 IMS_STR_FMT(ctx->rcv->call_id), IMS_STR_FMT(ctx->rcv->method));
	sip_proxy__local_reply(ctx, 500, IMS_STR("No decision"), IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
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
	sip_proxy__ctx_ref(ctx);
	ctx->suspended = 0;
	ctx->decided = 0;
	sip_proxy__ctx_unref(ctx); /* the suspension's reference (the hook's one holds) */
	r->fn(ctx, r->arg);
	sip_proxy__after_decision(ctx);
	maybe_finish(ctx);
	free(r);
	sip_proxy__ctx_unref(ctx);
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

