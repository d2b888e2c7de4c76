/* Sequential device hunting (scscf/hunt-plan.c) driving the proxy core in
 * test mode: q groups one after the other, the ring-time CANCEL on the
 * proxy's context timer, 2xx/6xx ending the hunt, the caller's CANCEL
 * (RFC 3261 §16.6, §16.7, §16.10). The test plays the caller
 * (192.0.2.10:5070) and the devices (10.0.0.2, .3, .4 :5060). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "sip/proxy/sip_proxy.h"
#include "../../scscf/hunt-plan.h"

#define MAXPKT 64
#define RING_MS 2000

typedef struct pkt {
	sip_tp_peer_t to;
	char buf[4096];
	size_t len;
} pkt_t;

static struct {
	ims_vclock_t vc;
	sip_proxy_t *p;
	pkt_t pkts[MAXPKT];
	int npkt;
	int q[3];       /* q x1000 of the three devices, -1 none */
	scscf_hunt_t *hunt;
} H;

static int tsend(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
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
	ims_arena_t *a = sip_proxy_ctx_arena(ctx);
	scscf_binding_t *b = ims_arena_zalloc(a, 3 * sizeof(*b));
	sip_proxy_target_t *t = ims_arena_zalloc(a, 3 * sizeof(*t));
	scscf_hunt_plan_t *plan = ims_arena_zalloc(a, sizeof(*plan));
	assert_non_null(b);
	assert_non_null(t);
	assert_non_null(plan);
	static const char *const uris[] = { "sip:dev@10.0.0.2", "sip:dev@10.0.0.3", "sip:dev@10.0.0.4" };
	for (int i = 0; i < 3; i++) {
		b[i].q = H.q[i];
		b[i].uri = ims_str_cstr(uris[i]);
		t[i].ruri = b[i].uri;
	}
	assert_int_equal(scscf_hunt_plan_build(b, 3, 1, a, plan), 0);
	assert_int_equal(scscf_hunt_start(ctx, t, plan, RING_MS, 0, &H.hunt), 0);
}

static int on_response(sip_proxy_ctx_t *ctx, sip_proxy_branch_t *b, sip_msg_t *rsp, void *ud)
{
	(void)ud;
	return scscf_hunt_on_response(H.hunt, ctx, b, rsp);
}

static int setup(void **state)
{
	(void)state;
	memset(&H, 0, sizeof(H));
	ims_vclock_init(&H.vc, 0);
	sip_tp_listen_t ls;
	assert_int_equal(sip_tp_listen_parse("10.0.0.1:5060:udp", &ls), 0);
	sip_proxy_cfg_t cfg = {
		.tp = { .listen = &ls, .nlisten = 1 },
		.test_send = tsend,
		.test_clock = &H.vc.clock,
	};
	sip_proxy_hooks_t hooks = { on_request, on_response, NULL, NULL, NULL };
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

static void inject_from(const char *text, const char *host, uint16_t port)
{
	sip_tp_peer_t src;
	memset(&src, 0, sizeof(src));
	src.proto = SIP_TP_UDP;
	src.listener = 0;
	assert_int_equal(sip_tp_addr_set(&src.addr, ims_str_cstr(host), port), 0);
	assert_int_equal(sip_proxy_test_inject(H.p, text, strlen(text), &src), 0);
	sip_proxy_test_run(H.p);
}

static void caller_sends(const char *method)
{
	char b[1024];
	snprintf(b, sizeof(b),
		 "%s sip:carol@ims.example SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKhunt1\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@ims.example>;tag=a1\r\n"
		 "To: <sip:carol@ims.example>\r\n"
		 "Call-ID: hunt-test@192.0.2.10\r\n"
		 "CSeq: 1 %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, method);
	inject_from(b, "192.0.2.10", 5070);
}

/* Index of the n-th (0-based) packet to host starting with `start`, or -1. */
static int sent(const char *host, const char *start, int nth)
{
	for (int i = 0; i < H.npkt; i++) {
		char h[64];
		sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
		if (strcmp(h, host) == 0 && strncmp(H.pkts[i].buf, start, strlen(start)) == 0 &&
		    nth-- == 0)
			return i;
	}
	return -1;
}

static int count(const char *host, const char *start)
{
	int n = 0;
	while (sent(host, start, n) >= 0)
		n++;
	return n;
}

/* The device's response to the request in packet i. */
static void respond(int i, int code, const char *to_tag)
{
	assert_true(i >= 0);
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *r, *rsp;
	assert_int_equal(sip_msg_parse(H.pkts[i].buf, H.pkts[i].len, a, &r, NULL), 0);
	assert_int_equal(sip_msg_new_response(a, r, code, IMS_STR_NULL, ims_str_cstr(to_tag), &rsp), 0);
	ims_str_t out;
	assert_int_equal(sip_msg_print_arena(rsp, a, &out), 0);
	char h[64];
	sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
	inject_from(out.s, h, sip_tp_addr_port(&H.pkts[i].to.addr));
	ims_arena_destroy(a);
}

/* The last final status the caller got, 0 for none. */
static int caller_final(void)
{
	for (int i = H.npkt - 1; i >= 0; i--) {
		char h[64];
		int code = 0;
		sip_tp_addr_host(&H.pkts[i].to.addr, h, sizeof(h));
		if (strcmp(h, "192.0.2.10") == 0 && sscanf(H.pkts[i].buf, "SIP/2.0 %d", &code) == 1 &&
		    code >= 200 && !strstr(H.pkts[i].buf, "CSeq: 1 CANCEL"))
			return code;
	}
	return 0;
}

static void finish(void)
{
	advance(70000);
	sip_proxy_stats_t st;
	sip_proxy_get_stats(H.p, &st);
	assert_int_equal(st.contexts, 0);
}

/* q 1.0 rings alone; its ring time ends with CANCEL; the two q 0.5
 * devices ring together; one answers, the other is cancelled. */
static void test_ring_time_then_next_group(void **state)
{
	(void)state;
	H.q[0] = 1000, H.q[1] = 500, H.q[2] = 500;
	caller_sends("INVITE");
	int i1 = sent("10.0.0.2", "INVITE ", 0);
	assert_true(i1 >= 0);
	assert_int_equal(count("10.0.0.3", "INVITE "), 0);
	assert_int_equal(count("10.0.0.4", "INVITE "), 0);
	respond(i1, 180, "d1");
	advance(RING_MS - 200);
	assert_int_equal(count("10.0.0.2", "CANCEL "), 0);
	assert_int_equal(count("10.0.0.3", "INVITE "), 0);
	advance(400);
	int c1 = sent("10.0.0.2", "CANCEL ", 0);
	assert_true(c1 >= 0);
	assert_non_null(strstr(H.pkts[c1].buf, "Reason: SIP;cause=480"));
	respond(i1, 487, "d1");
	assert_int_equal(caller_final(), 0); /* our own 487 is not the answer */
	assert_int_equal(scscf_hunt_group(H.hunt), 1);
	int i2 = sent("10.0.0.3", "INVITE ", 0), i3 = sent("10.0.0.4", "INVITE ", 0);
	assert_true(i2 >= 0 && i3 >= 0);
	respond(i3, 180, "d3"); /* a CANCEL needs a provisional first (§9.1) */
	respond(i2, 200, "d2");
	assert_int_equal(caller_final(), 200);
	assert_true(sent("10.0.0.4", "CANCEL ", 0) >= 0);
	respond(i3, 487, "d3");
	assert_int_equal(caller_final(), 200);
	finish();
}

/* A busy group hands over at once; the best final of all groups wins. */
static void test_busy_groups(void **state)
{
	(void)state;
	H.q[0] = 900, H.q[1] = -1, H.q[2] = 100; /* order: .3 (1.0), .2 (0.9), .4 (0.1) */
	caller_sends("INVITE");
	int a = sent("10.0.0.3", "INVITE ", 0);
	assert_true(a >= 0);
	assert_int_equal(count("10.0.0.2", "INVITE "), 0);
	respond(a, 486, "x");
	int b = sent("10.0.0.2", "INVITE ", 0);
	assert_true(b >= 0);
	assert_int_equal(count("10.0.0.4", "INVITE "), 0);
	respond(b, 480, "y");
	int c = sent("10.0.0.4", "INVITE ", 0);
	assert_true(c >= 0);
	assert_int_equal(caller_final(), 0);
	respond(c, 404, "z");
	/* §16.7 step 6 over every group's answer: the proxy core ranks plain
	 * 4xx by code, so 404 beats 480 and 486 */
	assert_int_equal(caller_final(), 404);
	finish();
}

/* A 6xx ends the hunt: no next group. */
static void test_decline_ends_hunt(void **state)
{
	(void)state;
	H.q[0] = 1000, H.q[1] = 500, H.q[2] = 500;
	caller_sends("INVITE");
	int a = sent("10.0.0.2", "INVITE ", 0);
	respond(a, 603, "no");
	assert_int_equal(caller_final(), 603);
	advance(RING_MS * 2);
	assert_int_equal(count("10.0.0.3", "INVITE "), 0);
	assert_int_equal(count("10.0.0.4", "INVITE "), 0);
	finish();
}

/* An answer stops the ring timer: nothing more is sent later. */
static void test_answer_stops_timer(void **state)
{
	(void)state;
	H.q[0] = 1000, H.q[1] = 500, H.q[2] = 500;
	caller_sends("INVITE");
	int a = sent("10.0.0.2", "INVITE ", 0);
	respond(a, 180, "ok");
	respond(a, 200, "ok");
	assert_int_equal(caller_final(), 200);
	advance(RING_MS * 2);
	assert_int_equal(count("10.0.0.2", "CANCEL "), 0);
	assert_int_equal(count("10.0.0.3", "INVITE "), 0);
	finish();
}

/* The caller gives up while the first group rings: no next group. */
static void test_caller_cancel(void **state)
{
	(void)state;
	H.q[0] = 1000, H.q[1] = 500, H.q[2] = 500;
	caller_sends("INVITE");
	int a = sent("10.0.0.2", "INVITE ", 0);
	respond(a, 180, "r");
	caller_sends("CANCEL");
	assert_true(sent("10.0.0.2", "CANCEL ", 0) >= 0);
	respond(a, 487, "r");
	assert_int_equal(caller_final(), 487);
	advance(RING_MS * 2);
	assert_int_equal(count("10.0.0.3", "INVITE "), 0);
	finish();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_time_then_next_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decline_ends_hunt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_stops_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caller_cancel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
