/* The stateful proxy core in test mode: no sockets, one worker, a virtual
 * clock, and a scripted network that records what the proxy sends. The
 * test plays the upstream UAC (192.0.2.10:5070) and the downstream hops
 * (10.0.0.x). The proxy is 10.0.0.1:5060. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "metrics/ims_metrics.h"
#include "sip/proxy/sip_proxy.h"

#define MAXPKT 128

typedef struct pkt {
	sip_tp_peer_t to;
	char buf[4096];
	size_t len;
} pkt_t;

enum { M_FWD, M_FORK, M_REPLY, M_SUSPEND, M_NONE, M_RR_FWD };

static struct {
	ims_vclock_t vc;
	sip_proxy_t *p;
	pkt_t pkts[MAXPKT];
	int npkt;
	char unreachable[32]; /* "10.0.0.9" */
	int mode;
	const char *targets[4];
	int ntargets;
	int reply_code;
	sip_proxy_ctx_t *suspended;
	char removed_route[256];
	int branch_codes[16];
	int nbranch_codes;
	int absorb_code;       /* absorb this final and try `next_target` */
	const char *next_target;
	int cancels_seen;
	int finals_seen;
	int uac_code;
	int uac_calls;
	int resume_rc;
	uint32_t timeout_ms;   /* M_FORK targets' timeout_ms */
} H;

static int tsend(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
	char host[64];
	sip_tp_addr_host(&to->addr, host, sizeof(host));
	if (H.unreachable[0] && strcmp(host, H.unreachable) == 0)
		return IMS_EUNREACH;
	assert_true(H.npkt < MAXPKT);
	pkt_t *p = &H.pkts[H.npkt++];
	p->to = *to;
	assert_true(len < sizeof(p->buf));
	memcpy(p->buf, buf, len);
	p->buf[len] = '\0';
	p->len = len;
	return 0;
}

static void on_request(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ud;
	ims_str_t rr = sip_proxy_ctx_removed_route(ctx);
	snprintf(H.removed_route, sizeof(H.removed_route), "%.*s", IMS_STR_FMT(rr));
	switch (H.mode) {
	case M_RR_FWD:
		assert_int_equal(sip_proxy_record_route(ctx, IMS_STR_NULL), 0);
		/* fall through */
	case M_FWD:
		assert_int_equal(sip_proxy_forward(ctx, NULL, NULL), 0);
		break;
	case M_FORK: {
		sip_proxy_target_t t[4];
		memset(t, 0, sizeof(t));
		for (int i = 0; i < H.ntargets; i++) {
			t[i].ruri = ims_str_cstr(H.targets[i]);
			t[i].timeout_ms = H.timeout_ms;
		}
		assert_int_equal(sip_proxy_fork(ctx, t, (size_t)H.ntargets), 0);
		break;
	}
	case M_REPLY:
		assert_int_equal(sip_proxy_reply(ctx, H.reply_code, IMS_STR_NULL,
						 IMS_STR("X-Why: test\r\n"), IMS_STR_NULL,
						 IMS_STR_NULL),
				 0);
		break;
	case M_SUSPEND:
		assert_int_equal(sip_proxy_suspend(ctx), 0);
		H.suspended = ctx;
		break;
	case M_NONE:
		break;
	}
}

static int on_response(sip_proxy_ctx_t *ctx, sip_proxy_branch_t *b, sip_msg_t *rsp, void *ud)
{
	(void)ud;
	if (rsp->status < 200)
		return SIP_PROXY_CONTINUE;
	H.branch_codes[H.nbranch_codes++] = rsp->status;
	assert_int_equal(sip_proxy_branch_code(b), rsp->status);
	if (H.absorb_code && rsp->status == H.absorb_code && H.next_target) {
		sip_proxy_target_t t = { .ruri = ims_str_cstr(H.next_target) };
		H.next_target = NULL;
		assert_int_equal(sip_proxy_add_branch(ctx, &t, NULL), 0);
		return SIP_PROXY_ABSORB;
	}
	return SIP_PROXY_CONTINUE;
}

static void on_final(sip_proxy_ctx_t *ctx, sip_msg_t *rsp, void *ud)
{
	(void)ctx;
	(void)ud;
	(void)rsp;
	H.finals_seen++;
}

static void on_cancel(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ctx;
	(void)ud;
	H.cancels_seen++;
}

static int setup(void **state)
{
	(void)state;
	memset(&H, 0, sizeof(H));
	ims_vclock_init(&H.vc, 0);
	sip_tp_listen_t ls[2];
	assert_int_equal(sip_tp_listen_parse("10.0.0.1:5060:udp", &ls[0]), 0);
	assert_int_equal(sip_tp_listen_parse("10.0.0.1:5060:tcp", &ls[1]), 0);
	static const char *const supported[] = { "sec-agree", NULL };
	static const char *const hosts[] = { "scscf.ims.example=10.0.0.7", NULL };
	sip_proxy_cfg_t cfg = {
		.tp = { .listen = ls, .nlisten = 2 },
		.supported = supported,
		.test_send = tsend,
		.test_clock = &H.vc.clock,
		.hosts = hosts,
	};
	sip_proxy_hooks_t hooks = { on_request, on_response, on_final, on_cancel, NULL };
	char err[128];
	assert_int_equal(sip_proxy_create(&cfg, &hooks, &H.p, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_proxy_destroy(H.p);
	return 0;
}

static void advance(uint64_t ms)
{
	uint64_t end = H.vc.now + ms;
	while (H.vc.now < end) {
		uint64_t step = end - H.vc.now < 100 ? end - H.vc.now : 100;
		ims_vclock_advance(&H.vc, step);
		sip_proxy_test_run(H.p);
	}
	sip_proxy_test_run(H.p);
}

static sip_tp_peer_t from(const char *host, uint16_t port)
{
	sip_tp_peer_t p;
	memset(&p, 0, sizeof(p));
	p.proto = SIP_TP_UDP;
	p.listener = 0;
	assert_int_equal(sip_tp_addr_set(&p.addr, ims_str_cstr(host), port), 0);
	return p;
}

static void inject_from(const char *text, const char *host, uint16_t port)
{
	sip_tp_peer_t src = from(host, port);
	assert_int_equal(sip_proxy_test_inject(H.p, text, strlen(text), &src), 0);
	sip_proxy_test_run(H.p);
}

static void inject_up(const char *text)
{
	inject_from(text, "192.0.2.10", 5070);
}

static const char *req(const char *method, const char *ruri, const char *extra, int mf)
{
	static char buf[3][2048];
	static int k;
	char *b = buf[k++ % 3];
	snprintf(b, 2048,
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKup%s\r\n"
		 "Max-Forwards: %d\r\n"
		 "From: <sip:alice@example.com>;tag=a1\r\n"
		 "To: <sip:bob@example.com>\r\n"
		 "Call-ID: proxy-test@192.0.2.10\r\n"
		 "CSeq: 1 %s\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri,
		 strcmp(method, "CANCEL") && strcmp(method, "ACK") ? method : "INVITE", mf,
		 method, extra ? extra : "");
	return b;
}

/* Index of the n-th (0-based) packet sent to host:port, or -1. */
static int sent_to(const char *host, uint16_t port, int nth)
{
	for (int i = 0; i < H.npkt; i++) {
		char h[64];
		sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
		if (strcmp(h, host) == 0 && sip_tp_addr_port(&H.pkts[i].to.addr) == port &&
		    nth-- == 0)
			return i;
	}
	return -1;
}

static int last_to(const char *host, uint16_t port)
{
	int last = -1;
	for (int i = 0; i < H.npkt; i++) {
		char h[64];
		sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
		if (strcmp(h, host) == 0 && sip_tp_addr_port(&H.pkts[i].to.addr) == port)
			last = i;
	}
	return last;
}

static int status_of(int i)
{
	int code = 0;
	if (i >= 0 && sscanf(H.pkts[i].buf, "SIP/2.0 %d", &code) == 1)
		return code;
	return 0;
}

/* Final status the upstream UAC saw last. */
static int upstream_final(void)
{
	for (int i = H.npkt - 1; i >= 0; i--) {
		char h[64];
		sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
		int c = status_of(i);
		if (strcmp(h, "192.0.2.10") == 0 && c >= 200)
			return c;
	}
	return 0;
}

/* A downstream response to the request in packet i. */
static void respond(int i, int code, const char *to_tag)
{
	assert_true(i >= 0);
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *r, *rsp;
	assert_int_equal(sip_msg_parse(H.pkts[i].buf, H.pkts[i].len, a, &r, NULL), 0);
	assert_int_equal(sip_msg_new_response(a, r, code, IMS_STR_NULL,
					      to_tag ? ims_str_cstr(to_tag) : IMS_STR_NULL, &rsp),
			 0);
	ims_str_t out;
	assert_int_equal(sip_msg_print_arena(rsp, a, &out), 0);
	char h[64];
	sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
	inject_from(out.s, h, sip_tp_addr_port(&H.pkts[i].to.addr));
	ims_arena_destroy(a);
}

static sip_msg_t *parse(int i, ims_arena_t *a)
{
	sip_msg_t *m;
	assert_true(i >= 0);
	assert_int_equal(sip_msg_parse(H.pkts[i].buf, H.pkts[i].len, a, &m, NULL), 0);
	return m;
}

static void finish(void)
{
	advance(70000);
	sip_proxy_stats_t st;
	sip_proxy_get_stats(H.p, &st);
	assert_int_equal(st.contexts, 0);
}

/* ---- §16.3 validation ---------------------------------------------------- */

static void test_proxy_max_forwards_zero_gets_483(void **state)
{
	(void)state;
	inject_up(req("OPTIONS", "sip:bob@10.0.0.2", NULL, 0));
	assert_int_equal(H.npkt, 1);
	assert_int_equal(status_of(0), 483);
	finish();
}

static void test_proxy_loop_gets_482(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("OPTIONS", "sip:bob@10.0.0.2", NULL, 70));
	int fwd = sent_to("10.0.0.2", 5060, 0);
	assert_true(fwd >= 0);
	/* the same request comes back to us unchanged (but for our Via) */
	char copy[4096];
	memcpy(copy, H.pkts[fwd].buf, H.pkts[fwd].len + 1);
	inject_from(copy, "10.0.0.2", 5060);
	int r = last_to("10.0.0.2", 5060); /* answered by our Via's received */
	assert_int_equal(status_of(r), 482);
	respond(fwd, 200, "b");
	finish();
}

static void test_proxy_unsupported_proxy_require_gets_420(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("OPTIONS", "sip:bob@10.0.0.2", "Proxy-Require: sec-agree, foo\r\n", 70));
	assert_int_equal(status_of(0), 420);
	assert_non_null(strstr(H.pkts[0].buf, "Unsupported: foo"));
	finish();
}

static void test_proxy_unparsable_request_gets_400(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up("OPTIONS sip:bob@10.0.0.2 SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKbad\r\n"
		  "From: <sip:alice@example.com>;tag=a1\r\n"
		  "To: <sip:bob@example.com>\r\n"
		  "Call-ID: bad@192.0.2.10\r\n"
		  "CSeq: x1 OPTIONS\r\n"
		  "Content-Length: 0\r\n\r\n");
	assert_int_equal(H.npkt, 1);
	assert_int_equal(status_of(0), 400);
	/* garbage without the headers to answer is dropped and counted */
	inject_up("hello world\r\n\r\n");
	assert_int_equal(H.npkt, 1);
	sip_proxy_stats_t st;
	sip_proxy_get_stats(H.p, &st);
	assert_int_equal(st.dropped, 1);
	finish();
}

static void test_proxy_no_decision_gets_500(void **state)
{
	(void)state;
	H.mode = M_NONE;
	inject_up(req("OPTIONS", "sip:bob@10.0.0.2", NULL, 70));
	assert_int_equal(status_of(0), 500);
	finish();
}

static void test_proxy_local_reply_with_headers(void **state)
{
	(void)state;
	H.mode = M_REPLY;
	H.reply_code = 403;
	inject_up(req("REGISTER", "sip:example.com", NULL, 70));
	assert_int_equal(status_of(0), 403);
	assert_non_null(strstr(H.pkts[0].buf, "X-Why: test"));
	assert_int_equal(H.finals_seen, 1);
	/* counted for /metrics */
	assert_true(ims_counter_value(ims_metrics_counter("sip_responses_total", "", "code",
							  "403")) >= 1);
	assert_true(ims_counter_value(ims_metrics_counter("sip_requests_total", "", "method",
							  "REGISTER")) >= 1);
	finish();
}

/* ---- §16.4 route pre-processing -------------------------------------------- */

static void test_proxy_loose_route_ours_removed(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("OPTIONS", "sip:bob@example.com",
		      "Route: <sip:10.0.0.1:5060;lr;orig>, <sip:10.0.0.3:5080;lr>\r\n", 70));
	assert_non_null(strstr(H.removed_route, "orig"));
	int fwd = sent_to("10.0.0.3", 5080, 0);
	assert_true(fwd >= 0);
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *m = parse(fwd, a);
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	assert_int_equal(sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &v), 1);
	assert_true(ims_str_eq_c(v, "<sip:10.0.0.3:5080;lr>"));
	assert_int_equal(sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &v), 0);
	assert_true(ims_str_eq_c(m->ruri, "sip:bob@example.com"));
	ims_arena_destroy(a);
	respond(fwd, 200, "b");
	assert_int_equal(upstream_final(), 200);
	finish();
}

static void test_proxy_strict_router_request_uri_restored(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("OPTIONS", "sip:10.0.0.1:5060;lr",
		      "Route: <sip:10.0.0.3:5080;lr>, <sip:bob@10.0.0.4:5090>\r\n", 70));
	int fwd = sent_to("10.0.0.3", 5080, 0);
	assert_true(fwd >= 0);
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *m = parse(fwd, a);
	assert_true(ims_str_eq_c(m->ruri, "sip:bob@10.0.0.4:5090"));
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	assert_int_equal(sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &v), 1);
	assert_true(ims_str_eq_c(v, "<sip:10.0.0.3:5080;lr>"));
	assert_int_equal(sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &v), 0);
	ims_arena_destroy(a);
	respond(fwd, 200, "b");
	finish();
}

/* ---- forwarding an INVITE ---------------------------------------------------- */

static void test_proxy_invite_via_rr_maxforwards_and_responses(void **state)
{
	(void)state;
	H.mode = M_RR_FWD;
	inject_up(req("INVITE", "sip:bob@10.0.0.2", NULL, 70));
	assert_int_equal(status_of(0), 100); /* §16.2: 100 Trying at once */
	int fwd = sent_to("10.0.0.2", 5060, 0);
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *m = parse(fwd, a);
	assert_int_equal(m->max_forwards, 69);
	assert_true(ims_str_eq_c(m->via1.host, "10.0.0.1"));
	assert_int_equal(m->via1.port, 5060);
	assert_int_equal(sip_tsx_branch_worker(m->via1.branch), 0);
	sip_hdr_t *rr = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE);
	assert_non_null(rr);
	assert_true(ims_str_eq_c(rr->value, "<sip:10.0.0.1:5060;lr>"));
	/* the UAC's Via, with received/rport processing, is second */
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	sip_msg_next_value(m, SIP_HDR_VIA, &it, &v);
	assert_int_equal(sip_msg_next_value(m, SIP_HDR_VIA, &it, &v), 1);
	assert_non_null(memmem(v.s, v.len, "z9hG4bKupINVITE", 15));
	ims_arena_destroy(a);

	respond(fwd, 100, NULL); /* not forwarded (§16.7 step 5) */
	respond(fwd, 180, "b1");
	int up = last_to("192.0.2.10", 5070);
	assert_int_equal(status_of(up), 180);
	a = ims_arena_create(8192);
	m = parse(up, a);
	assert_non_null(memmem(m->via1.branch.s, m->via1.branch.len, "z9hG4bKupINVITE", 15));
	assert_null(memmem(H.pkts[up].buf, H.pkts[up].len, "10.0.0.1:5060;branch", 20));
	ims_arena_destroy(a);
	respond(fwd, 200, "b1");
	assert_int_equal(upstream_final(), 200);
	/* RFC 6026: a retransmitted 2xx is forwarded too */
	int before = H.npkt;
	respond(fwd, 200, "b1");
	assert_int_equal(H.npkt, before + 1);
	assert_int_equal(status_of(H.npkt - 1), 200);
	finish();
}

static void test_proxy_late_2xx_from_downstream_fork_still_forwarded(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("INVITE", "sip:bob@10.0.0.2", NULL, 70));
	int fwd = sent_to("10.0.0.2", 5060, 0);
	respond(fwd, 486, "f1");
	assert_int_equal(upstream_final(), 486);
	/* a forking proxy downstream lets a 2xx through after the 486 */
	respond(fwd, 200, "f2");
	assert_int_equal(upstream_final(), 200);
	assert_non_null(strstr(H.pkts[last_to("192.0.2.10", 5070)].buf, "tag=f2"));
	finish();
}

static void test_proxy_invite_timeout_gives_408(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("INVITE", "sip:bob@10.0.0.2", NULL, 70));
	advance(31000);
	assert_int_equal(upstream_final(), 0);
	advance(1100); /* timer B */
	assert_int_equal(upstream_final(), 408);
	assert_int_equal(H.branch_codes[0], 408);
	finish();
}

static void test_proxy_timer_c_cancels_then_gives_408(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("INVITE", "sip:bob@10.0.0.2", NULL, 70));
	int fwd = sent_to("10.0.0.2", 5060, 0);
	respond(fwd, 180, "b1");
	advance(179000);
	assert_int_equal(strncmp(H.pkts[last_to("10.0.0.2", 5060)].buf, "INVITE ", 7), 0);
	advance(1100); /* RFC 3261 §16.8: timer C (180 s) -> CANCEL */
	int c = last_to("10.0.0.2", 5060);
	assert_int_equal(strncmp(H.pkts[c].buf, "CANCEL ", 7), 0);
	assert_int_equal(upstream_final(), 0);
	respond(c, 200, "b1");
	advance(32100); /* no 487 within 64*T1: the branch is given up with 408 */
	assert_int_equal(upstream_final(), 408);
	finish();
}

/* A target's timeout_ms: a branch with no response at all ends with 408 on
 * time, without a CANCEL (RFC 3261 §9.1), while a branch that answered 100
 * keeps ringing. */
static void test_proxy_target_timeout_ends_silent_branch_with_408(void **state)
{
	(void)state;
	H.mode = M_FORK;
	H.ntargets = 2;
	H.targets[0] = "sip:a@10.0.0.2";
	H.targets[1] = "sip:b@10.0.0.3";
	H.timeout_ms = 2000;
	inject_up(req("INVITE", "sip:bob@example.com", NULL, 70));
	int f1 = sent_to("10.0.0.2", 5060, 0);
	assert_true(sent_to("10.0.0.3", 5060, 0) >= 0);
	respond(f1, 100, NULL);
	advance(1900);
	assert_int_equal(H.nbranch_codes, 0);
	advance(200);
	assert_int_equal(H.nbranch_codes, 1);
	assert_int_equal(H.branch_codes[0], 408);
	assert_int_equal(upstream_final(), 0); /* the other branch still rings */
	for (int i = 0; i < H.npkt; i++)
		assert_int_not_equal(strncmp(H.pkts[i].buf, "CANCEL ", 7), 0);
	respond(f1, 486, "a1");
	assert_int_equal(H.nbranch_codes, 2);
	assert_int_equal(upstream_final(), 408); /* §16.7: best of 408/486 */
	finish();
}

/* A silent first target absorbed on its 408 and the next one tried, as the
 * S-CSCF does with an application server (SESSION_CONTINUED). */
static void test_proxy_target_timeout_then_next_target(void **state)
{
	(void)state;
	H.mode = M_FORK;
	H.ntargets = 1;
	H.targets[0] = "sip:as@10.0.0.4";
	H.timeout_ms = 1000;
	H.absorb_code = 408;
	H.next_target = "sip:bob@10.0.0.2";
	inject_up(req("OPTIONS", "sip:bob@example.com", NULL, 70));
	advance(1100);
	int f2 = sent_to("10.0.0.2", 5060, 0);
	assert_true(f2 >= 0);
	respond(f2, 200, "b2");
	assert_int_equal(upstream_final(), 200);
	finish();
}

/* RFC 3261 §16.7 step 3: a response carrying only our Via is not forwarded;
 * a final one ends its branch as 502. */
static void test_proxy_response_with_only_our_via_not_forwarded(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("INVITE", "sip:bob@10.0.0.2", NULL, 70));
	int fwd = sent_to("10.0.0.2", 5060, 0);
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *r, *rsp;
	assert_int_equal(sip_msg_parse(H.pkts[fwd].buf, H.pkts[fwd].len, a, &r, NULL), 0);
	assert_int_equal(sip_msg_new_response(a, r, 486, IMS_STR_NULL, IMS_STR("x"), &rsp), 0);
	assert_true(sip_msg_hdr_remove_all(rsp, SIP_HDR_VIA) > 0);
	assert_non_null(sip_msg_hdr_add(rsp, SIP_HDR_VIA, IMS_STR_NULL, r->via1.raw, SIP_POS_TOP));
	ims_str_t out;
	assert_int_equal(sip_msg_print_arena(rsp, a, &out), 0);
	inject_from(out.s, "10.0.0.2", 5060);
	ims_arena_destroy(a);
	assert_int_equal(H.nbranch_codes, 1);
	assert_int_equal(H.branch_codes[0], 502);
	int up = last_to("192.0.2.10", 5070);
	assert_int_equal(status_of(up), 502);
	assert_null(strstr(H.pkts[up].buf, "486"));
	finish();
}

static void test_proxy_unreachable_next_hop_503_becomes_500(void **state)
{
	(void)state;
	H.mode = M_FWD;
	strcpy(H.unreachable, "10.0.0.9");
	inject_up(req("OPTIONS", "sip:bob@10.0.0.9", NULL, 70));
	advance(0);
	assert_int_equal(H.nbranch_codes, 1);
	assert_int_equal(H.branch_codes[0], 503); /* the branch saw 503 */
	assert_int_equal(upstream_final(), 500);  /* §16.7 step 6 */
	finish();
}

static void test_proxy_static_host_map(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("OPTIONS", "sip:bob@scscf.ims.example:6060", NULL, 70));
	int fwd = sent_to("10.0.0.7", 6060, 0);
	assert_true(fwd >= 0);
	respond(fwd, 200, "b");
	assert_int_equal(upstream_final(), 200);
	finish();
}

static void test_proxy_unresolvable_host_503(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("OPTIONS", "sip:bob@no-such-host.invalid", NULL, 70));
	advance(0);
	assert_int_equal(H.branch_codes[0], 503);
	assert_int_equal(upstream_final(), 500);
	finish();
}

/* ---- forking (§16.7) ------------------------------------------------------------ */

static void test_proxy_fork_best_response_prefers_401(void **state)
{
	(void)state;
	H.mode = M_FORK;
	H.targets[0] = "sip:b1@10.0.0.2";
	H.targets[1] = "sip:b2@10.0.0.3";
	H.targets[2] = "sip:b3@10.0.0.4";
	H.ntargets = 3;
	inject_up(req("INVITE", "sip:bob@example.com", NULL, 70));
	int f1 = sent_to("10.0.0.2", 5060, 0), f2 = sent_to("10.0.0.3", 5060, 0),
	    f3 = sent_to("10.0.0.4", 5060, 0);
	assert_true(f1 >= 0 && f2 >= 0 && f3 >= 0);
	respond(f1, 503, "x1");
	respond(f2, 486, "x2");
	assert_int_equal(upstream_final(), 0); /* waits for all */
	respond(f3, 401, "x3");
	assert_int_equal(upstream_final(), 401);
	assert_int_equal(H.finals_seen, 1);
	finish();
}

/* A downstream response with one extra header line (e.g. a challenge). */
static void respond_with(int i, int code, const char *to_tag, const char *hdr)
{
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *r, *rsp;
	assert_int_equal(sip_msg_parse(H.pkts[i].buf, H.pkts[i].len, a, &r, NULL), 0);
	assert_int_equal(sip_msg_new_response(a, r, code, IMS_STR_NULL, ims_str_cstr(to_tag), &rsp),
			 0);
	assert_int_equal(sip_tsx_add_hdr_lines(rsp, ims_str_cstr(hdr)), 0);
	ims_str_t out;
	assert_int_equal(sip_msg_print_arena(rsp, a, &out), 0);
	char h[64];
	sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
	inject_from(out.s, h, sip_tp_addr_port(&H.pkts[i].to.addr));
	ims_arena_destroy(a);
}

static void test_proxy_fork_401s_carry_every_challenge(void **state)
{
	(void)state;
	H.mode = M_FORK;
	H.targets[0] = "sip:b1@10.0.0.2";
	H.targets[1] = "sip:b2@10.0.0.3";
	H.targets[2] = "sip:b3@10.0.0.4";
	H.ntargets = 3;
	inject_up(req("MESSAGE", "sip:bob@example.com", NULL, 70));
	respond_with(sent_to("10.0.0.2", 5060, 0), 401, "x1",
		     "WWW-Authenticate: Digest realm=\"one\", nonce=\"1\"\r\n");
	respond_with(sent_to("10.0.0.3", 5060, 0), 407, "x2",
		     "Proxy-Authenticate: Digest realm=\"two\", nonce=\"2\"\r\n");
	respond(sent_to("10.0.0.4", 5060, 0), 486, "x3");
	int up = last_to("192.0.2.10", 5070);
	int code = status_of(up);
	assert_true(code == 401 || code == 407);
	/* RFC 3261 §16.7 step 7: both challenges, once each */
	const char *b = H.pkts[up].buf;
	assert_non_null(strstr(b, "realm=\"one\""));
	assert_non_null(strstr(b, "realm=\"two\""));
	assert_null(strstr(strstr(b, "realm=\"one\"") + 1, "realm=\"one\""));
	finish();
}

static void test_proxy_fork_all_503_gives_500(void **state)
{
	(void)state;
	H.mode = M_FORK;
	H.targets[0] = "sip:b1@10.0.0.2";
	H.targets[1] = "sip:b2@10.0.0.3";
	H.ntargets = 2;
	inject_up(req("OPTIONS", "sip:bob@example.com", NULL, 70));
	respond(sent_to("10.0.0.2", 5060, 0), 503, "x1");
	respond(sent_to("10.0.0.3", 5060, 0), 503, "x2");
	assert_int_equal(upstream_final(), 500);
	finish();
}

static void test_proxy_fork_6xx_cancels_others(void **state)
{
	(void)state;
	H.mode = M_FORK;
	H.targets[0] = "sip:b1@10.0.0.2";
	H.targets[1] = "sip:b2@10.0.0.3";
	H.ntargets = 2;
	inject_up(req("INVITE", "sip:bob@example.com", NULL, 70));
	int f1 = sent_to("10.0.0.2", 5060, 0), f2 = sent_to("10.0.0.3", 5060, 0);
	respond(f1, 180, "x1");
	respond(f2, 180, "x2");
	respond(f1, 603, "x1");
	/* §16.7 step 5: CANCEL to the pending branch, 6xx not yet forwarded */
	int c = last_to("10.0.0.3", 5060);
	assert_int_equal(strncmp(H.pkts[c].buf, "CANCEL ", 7), 0);
	assert_int_equal(upstream_final(), 0);
	respond(c, 200, "x2");
	respond(f2, 487, "x2");
	assert_int_equal(upstream_final(), 603);
	finish();
}

static void test_proxy_fork_2xx_forwarded_at_once_and_others_cancelled(void **state)
{
	(void)state;
	H.mode = M_FORK;
	H.targets[0] = "sip:b1@10.0.0.2";
	H.targets[1] = "sip:b2@10.0.0.3";
	H.ntargets = 2;
	inject_up(req("INVITE", "sip:bob@example.com", NULL, 70));
	int f1 = sent_to("10.0.0.2", 5060, 0), f2 = sent_to("10.0.0.3", 5060, 0);
	respond(f2, 180, "x2");
	respond(f1, 200, "x1");
	assert_int_equal(upstream_final(), 200);
	int c = last_to("10.0.0.3", 5060);
	assert_int_equal(strncmp(H.pkts[c].buf, "CANCEL ", 7), 0);
	respond(f2, 487, "x2");
	assert_int_equal(upstream_final(), 200); /* the 487 is not forwarded */
	finish();
}

static void test_proxy_sequential_branch_after_absorbed_final(void **state)
{
	(void)state;
	H.mode = M_FWD;
	H.absorb_code = 503;
	H.next_target = "sip:as2@10.0.0.3";
	inject_up(req("INVITE", "sip:as1@10.0.0.2", NULL, 70));
	respond(sent_to("10.0.0.2", 5060, 0), 503, "x1");
	assert_int_equal(upstream_final(), 0);
	int f2 = sent_to("10.0.0.3", 5060, 0);
	assert_true(f2 >= 0);
	respond(f2, 200, "x2");
	assert_int_equal(upstream_final(), 200);
	finish();
}

/* ---- CANCEL (§16.10) ------------------------------------------------------------- */

static void test_proxy_cancel_relayed_to_branches(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("INVITE", "sip:bob@10.0.0.2", NULL, 70));
	int fwd = sent_to("10.0.0.2", 5060, 0);
	respond(fwd, 180, "b1");
	inject_up(req("CANCEL", "sip:bob@10.0.0.2", NULL, 70));
	assert_int_equal(H.cancels_seen, 1);
	/* 200 for the CANCEL upstream, CANCEL downstream */
	int up = last_to("192.0.2.10", 5070);
	assert_int_equal(status_of(up), 200);
	assert_non_null(strstr(H.pkts[up].buf, "CANCEL"));
	int c = last_to("10.0.0.2", 5060);
	assert_int_equal(strncmp(H.pkts[c].buf, "CANCEL ", 7), 0);
	respond(c, 200, "b1");
	respond(fwd, 487, "b1");
	assert_int_equal(upstream_final(), 487);
	/* the 487 was ACKed downstream hop by hop */
	assert_int_equal(strncmp(H.pkts[last_to("10.0.0.2", 5060)].buf, "ACK ", 4), 0);
	finish();
}

static void test_proxy_unknown_cancel_gets_481(void **state)
{
	(void)state;
	inject_up(req("CANCEL", "sip:bob@10.0.0.2", NULL, 70));
	assert_int_equal(status_of(0), 481);
	finish();
}

/* ---- asynchronous steps --------------------------------------------------------- */

static void resume_reply(sip_proxy_ctx_t *ctx, void *arg)
{
	H.resume_rc = sip_proxy_reply(ctx, *(int *)arg, IMS_STR_NULL, IMS_STR_NULL,
				      IMS_STR_NULL, IMS_STR_NULL);
}

static void test_proxy_suspend_and_resume(void **state)
{
	(void)state;
	H.mode = M_SUSPEND;
	inject_up(req("REGISTER", "sip:example.com", NULL, 70));
	assert_int_equal(H.npkt, 0); /* nothing yet: waiting for "Diameter" */
	advance(1000);
	assert_int_equal(H.npkt, 0);
	static int code = 401;
	assert_int_equal(sip_proxy_resume(H.suspended, resume_reply, &code), 0);
	sip_proxy_test_run(H.p);
	assert_int_equal(H.resume_rc, 0);
	assert_int_equal(upstream_final(), 401);
	finish();
}

static void test_proxy_cancel_while_suspended(void **state)
{
	(void)state;
	H.mode = M_SUSPEND;
	inject_up(req("INVITE", "sip:bob@example.com", NULL, 70));
	inject_up(req("CANCEL", "sip:bob@example.com", NULL, 70));
	assert_int_equal(upstream_final(), 487);
	static int code = 200;
	assert_int_equal(sip_proxy_resume(H.suspended, resume_reply, &code), 0);
	sip_proxy_test_run(H.p);
	assert_int_equal(H.resume_rc, IMS_ESTATE);
	assert_int_equal(upstream_final(), 487);
	/* the upstream ACKs the 487 */
	inject_up(req("ACK", "sip:bob@example.com", NULL, 70));
	finish();
}

/* ---- stateless ACK, UAC ----------------------------------------------------- */

static void test_proxy_ack_for_2xx_relayed_statelessly(void **state)
{
	(void)state;
	H.mode = M_FWD;
	inject_up(req("ACK", "sip:bob@10.0.0.5:5062", "Route: <sip:10.0.0.1:5060;lr>\r\n", 70));
	int fwd = sent_to("10.0.0.5", 5062, 0);
	assert_true(fwd >= 0);
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *m = parse(fwd, a);
	assert_true(ims_str_eq_c(m->via1.host, "10.0.0.1"));
	assert_null(sip_msg_hdr(m, SIP_HDR_ROUTE));
	ims_arena_destroy(a);
	finish();
}

static void uac_done(void *ud, int code, sip_msg_t *rsp)
{
	(void)ud;
	H.uac_calls++;
	H.uac_code = code;
	if (code != 408)
		assert_non_null(rsp);
}

static void test_proxy_uac_request_final_and_timeout(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *m;
	assert_int_equal(sip_msg_new_request(a, IMS_STR("NOTIFY"), IMS_STR("sip:ue@10.0.0.6:5070"),
					     &m),
			 0);
	sip_msg_hdr_addf(m, SIP_HDR_FROM, SIP_POS_BOTTOM, "<sip:scscf@example.com>;tag=n1");
	sip_msg_hdr_addf(m, SIP_HDR_TO, SIP_POS_BOTTOM, "<sip:ue@example.com>;tag=u1");
	sip_msg_hdr_addf(m, SIP_HDR_CALL_ID, SIP_POS_BOTTOM, "notify-1");
	sip_msg_hdr_addf(m, SIP_HDR_CSEQ, SIP_POS_BOTTOM, "1 NOTIFY");
	assert_int_equal(sip_proxy_uac_send(H.p, 0, m, NULL, uac_done, NULL), 0);
	int f = sent_to("10.0.0.6", 5070, 0);
	assert_true(f >= 0);
	respond(f, 200, NULL);
	assert_int_equal(H.uac_calls, 1);
	assert_int_equal(H.uac_code, 200);
	/* and one nobody answers */
	assert_int_equal(sip_proxy_uac_send(H.p, 0, m, NULL, uac_done, NULL), 0);
	advance(33000);
	assert_int_equal(H.uac_calls, 2);
	assert_int_equal(H.uac_code, 408);
	ims_arena_destroy(a);
	finish();
}

static void test_proxy_request_above_udp_mtu_goes_over_tcp(void **state)
{
	(void)state;
	H.mode = M_FWD;
	/* RFC 3261 §18.1.1: within 200 bytes of the 1300-byte bound -> TCP */
	char extra[1600];
	char pad[1400];
	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(extra, sizeof(extra), "X-Pad: %s\r\n", pad);
	inject_up(req("MESSAGE", "sip:bob@10.0.0.2", extra, 70));
	int fwd = sent_to("10.0.0.2", 5060, 0);
	assert_true(fwd >= 0);
	assert_int_equal(H.pkts[fwd].to.proto, SIP_TP_TCP);
	assert_non_null(strstr(H.pkts[fwd].buf, "SIP/2.0/TCP 10.0.0.1:5060;branch="));
	/* a small one stays on UDP */
	inject_up(req("OPTIONS", "sip:bob@10.0.0.2", NULL, 70));
	int f2 = sent_to("10.0.0.2", 5060, 1);
	assert_int_equal(H.pkts[f2].to.proto, SIP_TP_UDP);
	respond(fwd, 200, "b");
	respond(f2, 200, "b");
	finish();
}

static void test_proxy_overload_gets_stateless_503(void **state)
{
	(void)state;
	sip_proxy_destroy(H.p);
	sip_tp_listen_t ls;
	assert_int_equal(sip_tp_listen_parse("10.0.0.1:5060:udp", &ls), 0);
	sip_proxy_cfg_t cfg = { .tp = { .listen = &ls, .nlisten = 1 }, .test_send = tsend,
				.test_clock = &H.vc.clock, .max_tsx_per_worker = 2 };
	sip_proxy_hooks_t hooks = { on_request, on_response, on_final, on_cancel, NULL };
	char err[128];
	assert_int_equal(sip_proxy_create(&cfg, &hooks, &H.p, err, sizeof(err)), 0);
	H.mode = M_FWD;
	/* one request: server + client transaction = 2, the limit */
	inject_up(req("OPTIONS", "sip:bob@10.0.0.2", NULL, 70));
	char other[2048];
	snprintf(other, sizeof(other), "%s", req("MESSAGE", "sip:bob@10.0.0.2", NULL, 70));
	inject_up(other);
	int up = last_to("192.0.2.10", 5070);
	assert_int_equal(status_of(up), 503);
	assert_non_null(strstr(H.pkts[up].buf, "Retry-After: 5"));
	sip_proxy_stats_t st;
	sip_proxy_get_stats(H.p, &st);
	assert_int_equal(st.stateless_replies, 1);
	respond(sent_to("10.0.0.2", 5060, 0), 200, "b");
	/* both transactions are completed now (kept for retransmissions):
	 * only live ones count against the bound */
	inject_up(other);
	assert_true(sent_to("10.0.0.2", 5060, 1) >= 0);
	assert_int_equal(status_of(sent_to("10.0.0.2", 5060, 1)), 0); /* forwarded */
	finish();
}

static int contexts(void)
{
	sip_proxy_stats_t st;
	sip_proxy_get_stats(H.p, &st);
	return (int)st.contexts;
}

/* Once the final went upstream and no branch is pending, the context is
 * freed at once; its transactions go on absorbing retransmissions. */
static void test_proxy_context_freed_at_final_2xx(void **state)
{
	(void)state;
	H.mode = M_RR_FWD;
	const char *inv = req("INVITE", "sip:bob@10.0.0.2", NULL, 70);
	char invite[2048];
	snprintf(invite, sizeof(invite), "%s", inv);
	inject_up(invite);
	int fwd = sent_to("10.0.0.2", 5060, 0);
	respond(fwd, 180, "b1");
	assert_int_equal(contexts(), 1);
	respond(fwd, 200, "b1");
	assert_int_equal(upstream_final(), 200);
	assert_int_equal(contexts(), 0);
	advance(0); /* the transactions shrink */
	/* RFC 6026: a retransmitted 2xx still goes upstream (by Via) */
	int before = H.npkt;
	respond(fwd, 200, "b1");
	assert_int_equal(H.npkt, before + 1);
	assert_int_equal(status_of(H.npkt - 1), 200);
	assert_int_equal(last_to("192.0.2.10", 5070), H.npkt - 1);
	assert_null(memmem(H.pkts[H.npkt - 1].buf, H.pkts[H.npkt - 1].len, "10.0.0.1:5060;branch",
			   20));
	/* a retransmitted INVITE is absorbed by the Accepted transaction */
	inject_up(invite);
	assert_int_equal(H.npkt, before + 1);
	assert_int_equal(contexts(), 0);
	finish();
}

static void test_proxy_context_freed_at_final_non2xx(void **state)
{
	(void)state;
	H.mode = M_FWD;
	char invite[2048];
	snprintf(invite, sizeof(invite), "%s", req("INVITE", "sip:bob@10.0.0.2", NULL, 70));
	inject_up(invite);
	int fwd = sent_to("10.0.0.2", 5060, 0);
	respond(fwd, 486, "b1");
	assert_int_equal(upstream_final(), 486);
	int up486 = last_to("192.0.2.10", 5070);
	assert_int_equal(contexts(), 0);
	assert_int_equal(sent_to("10.0.0.2", 5060, 1), fwd + 1); /* hop-by-hop ACK */
	advance(0);
	/* the downstream 486 again: the client transaction ACKs it again */
	respond(fwd, 486, "b1");
	int ack2 = sent_to("10.0.0.2", 5060, 2);
	assert_true(ack2 > 0);
	assert_int_equal(strncmp(H.pkts[ack2].buf, "ACK ", 4), 0);
	/* the INVITE again: the server transaction sends the same 486 */
	inject_up(invite);
	int again = last_to("192.0.2.10", 5070);
	assert_true(again > up486);
	assert_int_equal(H.pkts[again].len, H.pkts[up486].len);
	assert_memory_equal(H.pkts[again].buf, H.pkts[up486].buf, H.pkts[up486].len);
	/* the upstream ACK is absorbed (Confirmed): no more timer G, nothing
	 * forwarded downstream */
	int n = H.npkt;
	inject_up(req("ACK", "sip:bob@10.0.0.2", NULL, 70));
	advance(20000);
	assert_int_equal(H.npkt, n);
	finish();
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_proxy_max_forwards_zero_gets_483),
		T_(test_proxy_loop_gets_482),
		T_(test_proxy_unsupported_proxy_require_gets_420),
		T_(test_proxy_unparsable_request_gets_400),
		T_(test_proxy_no_decision_gets_500),
		T_(test_proxy_local_reply_with_headers),
		T_(test_proxy_loose_route_ours_removed),
		T_(test_proxy_strict_router_request_uri_restored),
		T_(test_proxy_invite_via_rr_maxforwards_and_responses),
		T_(test_proxy_late_2xx_from_downstream_fork_still_forwarded),
		T_(test_proxy_invite_timeout_gives_408),
		T_(test_proxy_timer_c_cancels_then_gives_408),
		T_(test_proxy_target_timeout_ends_silent_branch_with_408),
		T_(test_proxy_target_timeout_then_next_target),
		T_(test_proxy_response_with_only_our_via_not_forwarded),
		T_(test_proxy_unreachable_next_hop_503_becomes_500),
		T_(test_proxy_unresolvable_host_503),
		T_(test_proxy_static_host_map),
		T_(test_proxy_fork_best_response_prefers_401),
		T_(test_proxy_fork_all_503_gives_500),
		T_(test_proxy_fork_401s_carry_every_challenge),
		T_(test_proxy_fork_6xx_cancels_others),
		T_(test_proxy_fork_2xx_forwarded_at_once_and_others_cancelled),
		T_(test_proxy_sequential_branch_after_absorbed_final),
		T_(test_proxy_cancel_relayed_to_branches),
		T_(test_proxy_unknown_cancel_gets_481),
		T_(test_proxy_suspend_and_resume),
		T_(test_proxy_cancel_while_suspended),
		T_(test_proxy_ack_for_2xx_relayed_statelessly),
		T_(test_proxy_uac_request_final_and_timeout),
		T_(test_proxy_request_above_udp_mtu_goes_over_tcp),
		T_(test_proxy_overload_gets_stateless_503),
		T_(test_proxy_context_freed_at_final_2xx),
		T_(test_proxy_context_freed_at_final_non2xx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
