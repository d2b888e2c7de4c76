/* The proxy core, request side: what RFC 3261 §16.3-§16.4 asks before the
 * daemon's hook sees a request (Max-Forwards, loops, Proxy-Require, Route
 * pre-processing), CANCEL (§16.10), stray responses, and the stateless
 * answers (400 for what does not parse, 503 under overload). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/proxy/proxy-int.h"

/* ---- incoming requests (RFC 3261 §16.3, §16.4) ----------------------------- */

static void st_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	(void)t;
	sip_proxy_ctx_t *ctx = ud;
	if (ev->type == SIP_TSX_EV_TERMINATED) {
		ctx->st = NULL;
		sip_proxy__ctx_unref(ctx);
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
		if (sip_proxy__is_local_hostport(ctx->p, via.host, via.port) &&
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
	sip_proxy__ctx_ref(ctx);
	ctx->decided = 0;
	ctx->p->hooks.on_request(ctx, ctx->p->hooks.ud);
	sip_proxy__after_decision(ctx);
	sip_proxy__ctx_unref(ctx);
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
		sip_proxy__count_stateless();
		sip_proxy__count_response(code);
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
	sip_proxy__ctx_ref(ctx);
	ctx->cancelled = 1;
	if (p->hooks.on_cancel)
		p->hooks.on_cancel(ctx, p->hooks.ud);
	if (ctx->pending > 0) {
		sip_proxy__cancel_pending_branches(ctx, IMS_STR_NULL);
	} else {
		sip_proxy__local_reply(ctx, 487, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
	}
	sip_proxy__ctx_unref(ctx);
}

/* The transaction layer's TU entry for requests no transaction absorbed. */
void sip_proxy__tu_request(void *ud, sip_tsx_layer_t *l, sip_msg_t *req, const sip_tp_peer_t *src,
		       ims_arena_t **arena)
{
	(void)l;
	px_worker_t *w = ud;
	sip_proxy_t *p = w->p;
	stat_inc(&p->st.rx_requests);
	sip_proxy__count_request(req->method_id);
	if (req->method_id == SIP_METHOD_CANCEL) {
		on_cancel_req(w, req, src, arena);
		return;
	}
	int is_ack = req->method_id == SIP_METHOD_ACK;
	if (!is_ack && p->cfg.max_tsx_per_worker &&
	    sip_tsx_layer_live(w->tsx) >= p->cfg.max_tsx_per_worker) {
		/* overload: answer without keeping state */
		stateless_reply(w, req, src, 503, "Service Unavailable", "Retry-After: 5\r\n");
		return;
	}
	sip_proxy_ctx_t *ctx = sip_proxy__ctx_new(w, src);
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
			sip_proxy__ctx_unref(ctx);
			return;
		}
		sip_proxy__ctx_ref(ctx); /* the server transaction */
		if (ctx->method == SIP_METHOD_INVITE) /* §16.2: 100 Trying at once */
			(void)sip_tsx_reply(ctx->st, 100, IMS_STR_NULL, IMS_STR_NULL);
	}
	ctx->loop_tag = loop_hash(ctx, req);
	ims_str_t bad;
	/* §16.3 step 3: Max-Forwards */
	if (req->max_forwards == 0) {
		if (!is_ack)
			sip_proxy__local_reply(ctx, 483, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
		goto out;
	}
	/* §16.3 step 4: loop detection */
	if (ctx->loop_tag.s && is_loop(ctx, req)) {
		if (!is_ack)
			sip_proxy__local_reply(ctx, 482, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
		goto out;
	}
	/* §16.3 step 5: Proxy-Require */
	if (!proxy_require_ok(p, req, &bad)) {
		if (!is_ack) {
			ims_str_t h = ims_arena_printf(ctx->arena, "Unsupported: %.*s\r\n",
						       IMS_STR_FMT(bad));
			sip_proxy__local_reply(ctx, 420, IMS_STR_NULL, h, IMS_STR_NULL, IMS_STR_NULL);
		}
		goto out;
	}
	if (sip_msg_clone(req, ctx->arena, &ctx->msg) != 0 || route_preprocess(ctx) != 0) {
		if (!is_ack)
			sip_proxy__local_reply(ctx, 500, IMS_STR("Out of Memory"), IMS_STR_NULL, IMS_STR_NULL,
				    IMS_STR_NULL);
		goto out;
	}
	run_hook(ctx);
out:
	sip_proxy__ctx_unref(ctx);
}

/* A response no client transaction matched: if the top Via is ours, it is
 * for a request we relayed statelessly or a 2xx retransmission after the
 * transaction ended (RFC 6026): forward it by the next Via. */
void sip_proxy__tu_stray(void *ud, sip_tsx_layer_t *l, sip_msg_t *rsp, const sip_tp_peer_t *src,
		     ims_arena_t **arena)
{
	(void)l;
	(void)src;
	(void)arena;
	px_worker_t *w = ud;
	stat_inc(&w->p->st.rx_responses);
	if (!sip_proxy__is_local_hostport(w->p, rsp->via1.host, rsp->via1.port))
		return;
	if (sip_msg_remove_first_value(rsp, SIP_HDR_VIA) != 0 || !sip_msg_hdr(rsp, SIP_HDR_VIA))
		return;
	(void)sip_proxy__send_by_via(w, rsp, NULL);
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

void sip_proxy__reply_400_raw(px_worker_t *w, const char *buf, size_t len,
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
	/* RFC 3261 §21.5.20 / RFC 4475 §3.1.2.16: another SIP version gets
	 * 505, as the parser suggests; everything else 400 */
	unsigned status = perr && perr->status == 505 ? 505u : 400u;
	ims_arena_t *a = ims_arena_create(2048);
	if (!a)
		goto drop;
	ims_str_t txt = ims_arena_printf(
		a, "SIP/2.0 %u %s\r\nVia: %.*s\r\nFrom: %.*s\r\nTo: %.*s%s\r\nCall-ID: %.*s\r\n"
		   "CSeq: %.*s\r\nContent-Length: 0\r\n\r\n",
		status, reason, IMS_STR_FMT(via), IMS_STR_FMT(from), IMS_STR_FMT(to),
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
			sip_proxy__count_stateless();
			sip_proxy__count_response((int)status);
			ims_arena_destroy(a);
			return;
		}
	}
	ims_arena_destroy(a);
drop:
	stat_inc(&p->st.dropped);
	sip_proxy__count_dropped();
}

