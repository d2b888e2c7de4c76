/* Transaction state machines (RFC 3261 §17, RFC 6026) on a virtual clock
 * with a scripted transport: every packet the layer sends is recorded with
 * its virtual time; the test plays the peer by injecting (or not
 * injecting, or repeating) messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "sip/tsx/sip_tsx.h"

#define MAXPKT 128

typedef struct pkt {
	uint64_t at;
	sip_tp_peer_t to;
	char buf[4096];
	size_t len;
} pkt_t;

static struct {
	ims_vclock_t vc;
	ims_timers_t timers;
	sip_tsx_layer_t *l;
	pkt_t pkts[MAXPKT];
	int npkt;
	int send_fail;
	/* TU */
	int nreq;                 /* on_request calls */
	char last_req_method[16];
	int nstray;
	sip_tsx_t *uas;           /* created by the TU on request */
	int auto_uas;
	/* events of the transaction under test */
	int ev[64];
	int ev_code[64];
	int nev;
	int terminated;
} T;

static int tsend(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
	if (T.send_fail)
		return IMS_EUNREACH;
	assert_true(T.npkt < MAXPKT);
	pkt_t *p = &T.pkts[T.npkt++];
	p->at = T.vc.now;
	p->to = *to;
	assert_true(len < sizeof(p->buf));
	memcpy(p->buf, buf, len);
	p->buf[len] = '\0';
	p->len = len;
	return 0;
}

static void ev_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	(void)t;
	(void)ud;
	assert_true(T.nev < 64);
	T.ev[T.nev] = ev->type;
	T.ev_code[T.nev] = ev->msg ? ev->msg->status : ev->err;
	T.nev++;
	if (ev->type == SIP_TSX_EV_TERMINATED) {
		T.terminated++;
		if (t == T.uas)
			T.uas = NULL;
	}
}

static void on_request(void *ud, sip_tsx_layer_t *l, sip_msg_t *req, const sip_tp_peer_t *src,
		       ims_arena_t **arena)
{
	(void)ud;
	T.nreq++;
	snprintf(T.last_req_method, sizeof(T.last_req_method), "%.*s", IMS_STR_FMT(req->method));
	if (T.auto_uas && req->method_id != SIP_METHOD_ACK) {
		assert_int_equal(sip_tsx_uas_create(l, req, src, arena, ev_cb, NULL, &T.uas), 0);
		assert_null(*arena);
	}
}

static void on_stray(void *ud, sip_tsx_layer_t *l, sip_msg_t *rsp, const sip_tp_peer_t *src,
		     ims_arena_t **arena)
{
	(void)ud;
	(void)l;
	(void)rsp;
	(void)src;
	(void)arena;
	T.nstray++;
}

static int setup(void **state)
{
	(void)state;
	memset(&T, 0, sizeof(T));
	ims_vclock_init(&T.vc, 0);
	ims_timers_init(&T.timers, &T.vc.clock);
	sip_tsx_cfg_t cfg = {
		.t1_ms = 500, .t2_ms = 4000, .t4_ms = 5000, .worker = 3,
		.timers = &T.timers, .send = tsend,
		.on_request = on_request, .on_stray_response = on_stray,
	};
	assert_int_equal(sip_tsx_layer_create(&cfg, &T.l), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_tsx_layer_destroy(T.l);
	ims_timers_fini(&T.timers);
	return 0;
}

/* Moves virtual time forward, firing timers at their exact deadlines. */
static void advance(uint64_t ms)
{
	uint64_t end = T.vc.now + ms;
	for (;;) {
		ims_timers_run(&T.timers);
		int64_t next = ims_timers_next(&T.timers);
		if (next < 0 || T.vc.now + (uint64_t)next > end)
			break;
		ims_vclock_advance(&T.vc, next > 0 ? (uint64_t)next : 0);
		if (next == 0)
			continue;
	}
	ims_vclock_set(&T.vc, end);
	ims_timers_run(&T.timers);
}

static sip_tp_peer_t peer(sip_tp_proto_t proto)
{
	sip_tp_peer_t p;
	memset(&p, 0, sizeof(p));
	p.proto = proto;
	p.listener = 0;
	assert_int_equal(sip_tp_addr_set(&p.addr, IMS_STR("192.0.2.10"), 5070), 0);
	return p;
}

static void inject(const char *text, sip_tp_proto_t proto)
{
	size_t len = strlen(text);
	ims_arena_t *a = ims_arena_create(len + 4096);
	char *buf = ims_arena_memdup(a, text, len);
	sip_msg_t *m;
	sip_parse_err_t err;
	int rc = sip_msg_parse(buf, len, a, &m, &err);
	if (rc)
		fail_msg("parse: %s", err.reason);
	sip_tp_peer_t src = peer(proto);
	if (m->is_request)
		assert_int_equal(sip_tp_via_received(m, &src), 0);
	sip_tsx_layer_recv(T.l, m, &src, &a);
	assert_null(a);
}

static char *request(const char *method, const char *branch, const char *transport, int cseq,
		     const char *to_tag)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
		 "%s sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/%s 192.0.2.10:5070;branch=%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.com>;tag=a1\r\n"
		 "To: <sip:bob@example.com>%s%s\r\n"
		 "Call-ID: call-1@192.0.2.10\r\n"
		 "CSeq: %d %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, transport, branch, to_tag ? ";tag=" : "", to_tag ? to_tag : "", cseq,
		 method);
	return buf;
}

/* A response to the request in sent packet `i`, with the Via copied. */
static char *response_to(int i, int code, const char *to_tag)
{
	static char buf[4096];
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *req;
	assert_int_equal(sip_msg_parse(T.pkts[i].buf, T.pkts[i].len, a, &req, NULL), 0);
	sip_msg_t *rsp;
	assert_int_equal(sip_msg_new_response(a, req, code, IMS_STR_NULL,
					      to_tag ? ims_str_cstr(to_tag) : IMS_STR_NULL, &rsp),
			 0);
	size_t len;
	assert_int_equal(sip_msg_print(rsp, buf, sizeof(buf) - 1, &len), 0);
	buf[len] = '\0';
	ims_arena_destroy(a);
	return buf;
}

static sip_msg_t *parse_pkt(int i, ims_arena_t *a)
{
	sip_msg_t *m;
	assert_int_equal(sip_msg_parse(T.pkts[i].buf, T.pkts[i].len, a, &m, NULL), 0);
	return m;
}

static int uac_rc(const char *method, const char *transport, sip_tsx_t **out)
{
	ims_arena_t *a = ims_arena_create(4096);
	ims_str_t br = sip_tsx_branch_new(T.l, a, IMS_STR_NULL);
	char b[128];
	snprintf(b, sizeof(b), "%.*s", IMS_STR_FMT(br));
	const char *txt = request(method, b, transport, 1, NULL);
	sip_msg_t *m;
	assert_int_equal(sip_msg_parse(txt, strlen(txt), a, &m, NULL), 0);
	sip_tp_peer_t dest = peer(strcmp(transport, "TCP") ? SIP_TP_UDP : SIP_TP_TCP);
	int rc = sip_tsx_uac_create(T.l, m, &dest, ev_cb, NULL, out);
	ims_arena_destroy(a); /* the transaction has its own copy */
	return rc;
}

static sip_tsx_t *uac(const char *method, const char *transport)
{
	sip_tsx_t *t;
	assert_int_equal(uac_rc(method, transport, &t), 0);
	return t;
}

static int count_method(const char *method)
{
	int n = 0;
	size_t ml = strlen(method);
	for (int i = 0; i < T.npkt; i++)
		if (strncmp(T.pkts[i].buf, method, ml) == 0 && T.pkts[i].buf[ml] == ' ')
			n++;
	return n;
}

/* ---- client INVITE ---------------------------------------------------- */

static void test_uac_invite_timer_a_doubles_then_b_gives_408(void **state)
{
	(void)state;
	sip_tsx_t *t = uac("INVITE", "UDP");
	assert_int_equal(sip_tsx_state(t), SIP_TSX_CALLING);
	advance(40000);
	/* RFC 3261 §17.1.1.2: A = 500, 1000, 2000, 4000, 8000, 16000; B = 64*T1 */
	uint64_t want[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	assert_int_equal(T.npkt, 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(T.pkts[i].at, want[i]);
	assert_int_equal(T.nev, 2);
	assert_int_equal(T.ev[0], SIP_TSX_EV_TIMEOUT);
	assert_int_equal(T.ev[1], SIP_TSX_EV_TERMINATED);
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
}

static void test_uac_invite_over_tcp_never_retransmits(void **state)
{
	(void)state;
	uac("INVITE", "TCP");
	advance(40000);
	assert_int_equal(T.npkt, 1);
	assert_int_equal(T.ev[0], SIP_TSX_EV_TIMEOUT);
}

static void test_uac_invite_provisional_stops_retransmissions(void **state)
{
	(void)state;
	sip_tsx_t *t = uac("INVITE", "UDP");
	advance(600); /* one retransmission */
	inject(response_to(0, 180, "b1"), SIP_TP_UDP);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_PROCEEDING);
	advance(60000);
	assert_int_equal(T.npkt, 2);
	assert_int_equal(T.nev, 1); /* the 180, and no timeout in Proceeding */
	assert_int_equal(T.ev_code[0], 180);
}

static void test_uac_invite_non2xx_is_acked_hop_by_hop(void **state)
{
	(void)state;
	sip_tsx_t *t = uac("INVITE", "UDP");
	inject(response_to(0, 100, NULL), SIP_TP_UDP);
	inject(response_to(0, 486, "b1"), SIP_TP_UDP);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	assert_int_equal(count_method("ACK"), 1);
	/* §17.1.1.3: the ACK has the INVITE's branch, Request-URI, CSeq
	 * number and the response's To tag */
	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *inv = parse_pkt(0, a), *ack = parse_pkt(T.npkt - 1, a);
	assert_true(ims_str_eq(ack->via1.branch, inv->via1.branch));
	assert_true(ims_str_eq(ack->ruri, inv->ruri));
	assert_int_equal(ack->cseq, inv->cseq);
	assert_true(ims_str_eq_c(ack->cseq_method, "ACK"));
	assert_true(ims_str_eq_c(ack->to_tag, "b1"));
	ims_arena_destroy(a);
	/* a retransmitted 486 gets the ACK again and is not reported */
	inject(response_to(0, 486, "b1"), SIP_TP_UDP);
	assert_int_equal(count_method("ACK"), 2);
	int nev = T.nev;
	assert_int_equal(T.ev[nev - 1], SIP_TSX_EV_RESPONSE);
	assert_int_equal(T.ev_code[nev - 1], 486);
	/* a 2xx from another downstream fork is still reported */
	inject(response_to(0, 200, "b2"), SIP_TP_UDP);
	assert_int_equal(T.ev_code[T.nev - 1], 200);
	assert_int_equal(count_method("ACK"), 2);
	/* timer D = 32 s on UDP */
	advance(31999);
	assert_int_equal(T.terminated, 0);
	advance(1);
	assert_int_equal(T.terminated, 1);
}

static void test_uac_invite_2xx_accepted_passes_retransmissions(void **state)
{
	(void)state;
	sip_tsx_t *t = uac("INVITE", "UDP");
	inject(response_to(0, 200, "b1"), SIP_TP_UDP);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_ACCEPTED);
	inject(response_to(0, 200, "b1"), SIP_TP_UDP);
	/* RFC 6026 §7.2: both 2xx reach the TU; the tsx sends no ACK */
	assert_int_equal(T.nev, 2);
	assert_int_equal(T.ev_code[1], 200);
	assert_int_equal(count_method("ACK"), 0);
	advance(32000); /* timer M = 64*T1 */
	assert_int_equal(T.terminated, 1);
}

static void test_uac_cancel_waits_for_provisional(void **state)
{
	(void)state;
	sip_tsx_t *t = uac("INVITE", "UDP");
	assert_int_equal(sip_tsx_uac_cancel(t, IMS_STR("SIP;cause=487"), NULL, NULL), 0);
	assert_int_equal(count_method("CANCEL"), 0); /* RFC 3261 §9.1 */
	assert_int_equal(sip_tsx_uac_cancel(t, IMS_STR_NULL, NULL, NULL), IMS_ESTATE);
	inject(response_to(0, 180, "b1"), SIP_TP_UDP);
	assert_int_equal(count_method("CANCEL"), 1);
	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *inv = parse_pkt(0, a), *c = parse_pkt(T.npkt - 1, a);
	assert_true(ims_str_eq(c->via1.branch, inv->via1.branch));
	assert_true(ims_str_eq_c(c->cseq_method, "CANCEL"));
	assert_int_equal(c->cseq, inv->cseq);
	assert_non_null(sip_msg_hdr(c, SIP_HDR_REASON));
	ims_arena_destroy(a);
	/* 200 to the CANCEL goes to the CANCEL's transaction, 487 to the INVITE */
	inject(response_to(T.npkt - 1, 200, "b1"), SIP_TP_UDP);
	inject(response_to(0, 487, "b1"), SIP_TP_UDP);
	assert_int_equal(T.ev_code[T.nev - 1], 487);
	assert_int_equal(T.nstray, 0);
}

/* ---- client non-INVITE ------------------------------------------------ */

static void test_uac_nict_timer_e_caps_at_t2_then_f(void **state)
{
	(void)state;
	uac("OPTIONS", "UDP");
	advance(33000);
	/* E: 500, 1000, 2000, 4000, 4000, ... until F at 32000 */
	uint64_t want[] = { 0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 };
	assert_int_equal(T.npkt, 11);
	for (int i = 0; i < 11; i++)
		assert_int_equal(T.pkts[i].at, want[i]);
	assert_int_equal(T.ev[0], SIP_TSX_EV_TIMEOUT);
	assert_int_equal(T.ev_code[0], IMS_ETIMEDOUT);
}

static void test_uac_nict_proceeding_retransmits_at_t2(void **state)
{
	(void)state;
	uac("OPTIONS", "UDP");
	inject(response_to(0, 100, NULL), SIP_TP_UDP);
	advance(500); /* first E at 500, then T2 in Proceeding */
	advance(3999);
	assert_int_equal(T.npkt, 2); /* 0, 500; the next is at 4500 */
	advance(1);
	assert_int_equal(T.npkt, 3);
	inject(response_to(0, 200, "b"), SIP_TP_UDP);
	assert_int_equal(T.ev_code[T.nev - 1], 200);
	advance(4999); /* timer K = T4 */
	assert_int_equal(T.terminated, 0);
	advance(1);
	assert_int_equal(T.terminated, 1);
}

static void test_uac_send_failure_creates_nothing(void **state)
{
	(void)state;
	T.send_fail = 1;
	ims_arena_t *a = ims_arena_create(4096);
	const char *txt = request("OPTIONS", "z9hG4bK.w3.deadbeef", "UDP", 1, NULL);
	sip_msg_t *m;
	assert_int_equal(sip_msg_parse(txt, strlen(txt), a, &m, NULL), 0);
	sip_tp_peer_t dest = peer(SIP_TP_UDP);
	sip_tsx_t *t;
	assert_int_equal(sip_tsx_uac_create(T.l, m, &dest, ev_cb, NULL, &t), IMS_EUNREACH);
	assert_null(t);
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
	ims_arena_destroy(a);
}

static void test_uac_async_transport_error_reported(void **state)
{
	(void)state;
	uac("INVITE", "TCP");
	sip_tp_peer_t p = peer(SIP_TP_TCP);
	sip_tsx_layer_tp_error(T.l, &p, IMS_EUNREACH);
	assert_int_equal(T.ev[0], SIP_TSX_EV_TPERR);
	advance(0);
	assert_int_equal(T.terminated, 1);
}

/* A transport error concerns the live client transactions only: one that
 * has its final (now on the done list, kept for timer K) is left alone,
 * and the two still waiting both hear of it. */
static void test_tp_error_skips_finished_transactions(void **state)
{
	(void)state;
	(void)uac("OPTIONS", "UDP");
	sip_tsx_t *b = uac("OPTIONS", "UDP");
	(void)uac("OPTIONS", "UDP");
	assert_int_equal(T.npkt, 3);
	inject(response_to(1, 200, "t1"), SIP_TP_UDP); /* b gets its final */
	assert_int_equal(sip_tsx_state(b), SIP_TSX_COMPLETED);
	int before = T.nev;
	sip_tp_peer_t p = peer(SIP_TP_UDP);
	sip_tsx_layer_tp_error(T.l, &p, IMS_EUNREACH);
	int tperr = 0;
	for (int i = before; i < T.nev; i++)
		tperr += T.ev[i] == SIP_TSX_EV_TPERR;
	assert_int_equal(tperr, 2);
	advance(0);
	assert_int_equal(T.terminated, 2);
	assert_int_equal(sip_tsx_layer_count(T.l), 1);
	assert_int_equal(sip_tsx_state(b), SIP_TSX_COMPLETED);
	advance(6000); /* timer K (T4) ends b */
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
}

/* ---- server INVITE ------------------------------------------------------ */

static void test_uas_invite_retransmission_gets_last_response(void **state)
{
	(void)state;
	T.auto_uas = 1;
	const char *inv = request("INVITE", "z9hG4bKuas1", "UDP", 1, NULL);
	inject(inv, SIP_TP_UDP);
	assert_int_equal(T.nreq, 1);
	assert_non_null(T.uas);
	assert_int_equal(sip_tsx_state(T.uas), SIP_TSX_PROCEEDING);
	assert_int_equal(sip_tsx_reply(T.uas, 180, IMS_STR_NULL, IMS_STR_NULL), 0);
	assert_int_equal(T.npkt, 1);
	inject(inv, SIP_TP_UDP); /* repeated by the network */
	assert_int_equal(T.nreq, 1);
	assert_int_equal(T.npkt, 2);
	assert_int_equal(T.pkts[1].len, T.pkts[0].len);
	assert_memory_equal(T.pkts[1].buf, T.pkts[0].buf, T.pkts[0].len);
	/* responses go to received:port of the request (§18.2.2) */
	assert_int_equal(sip_tp_addr_port(&T.pkts[0].to.addr), 5070);
}

static void test_uas_invite_non2xx_timer_g_until_ack(void **state)
{
	(void)state;
	T.auto_uas = 1;
	inject(request("INVITE", "z9hG4bKuas2", "UDP", 1, NULL), SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_reply(t, 486, IMS_STR_NULL, IMS_STR_NULL), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	advance(3600);
	/* §17.2.1: G = 500, 1000, 2000 (doubling up to T2) */
	assert_int_equal(T.npkt, 4);
	assert_int_equal(T.pkts[1].at, 500);
	assert_int_equal(T.pkts[2].at, 1500);
	assert_int_equal(T.pkts[3].at, 3500);
	/* the ACK for the non-2xx is absorbed (Confirmed), not passed up */
	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *r = parse_pkt(0, a);
	char tag[64];
	snprintf(tag, sizeof(tag), "%.*s", IMS_STR_FMT(r->to_tag));
	ims_arena_destroy(a);
	inject(request("ACK", "z9hG4bKuas2", "UDP", 1, tag), SIP_TP_UDP);
	assert_int_equal(T.nreq, 1);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_CONFIRMED);
	advance(10000);
	assert_int_equal(T.npkt, 4);
	assert_int_equal(T.terminated, 1); /* timer I = T4 */
}

static void test_uas_invite_timer_h_without_ack(void **state)
{
	(void)state;
	T.auto_uas = 1;
	inject(request("INVITE", "z9hG4bKuas3", "UDP", 1, NULL), SIP_TP_UDP);
	assert_int_equal(sip_tsx_reply(T.uas, 500, IMS_STR_NULL, IMS_STR_NULL), 0);
	advance(31999);
	assert_int_equal(T.terminated, 0);
	advance(1);
	assert_int_equal(T.ev[0], SIP_TSX_EV_TIMEOUT);
	assert_int_equal(T.terminated, 1);
	/* G at 500 1500 3500 7500 11500 ... 31500: 10 retransmissions */
	assert_int_equal(T.npkt, 1 + 10);
}

static void test_uas_invite_2xx_accepted_and_ack_to_tu(void **state)
{
	(void)state;
	T.auto_uas = 1;
	const char *inv = request("INVITE", "z9hG4bKuas4", "UDP", 1, NULL);
	inject(inv, SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_reply(t, 200, IMS_STR_NULL, IMS_STR_NULL), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_ACCEPTED);
	/* RFC 6026 §7.1: INVITE retransmissions absorbed silently */
	inject(inv, SIP_TP_UDP);
	assert_int_equal(T.npkt, 1);
	assert_int_equal(T.nreq, 1);
	/* the TU may send the 2xx again; a non-2xx is refused */
	assert_int_equal(sip_tsx_reply(t, 200, IMS_STR_NULL, IMS_STR_NULL), 0);
	assert_int_equal(sip_tsx_reply(t, 486, IMS_STR_NULL, IMS_STR_NULL), IMS_ESTATE);
	/* the 2xx ACK (same branch here) goes to the TU */
	T.auto_uas = 0;
	inject(request("ACK", "z9hG4bKuas4", "UDP", 1, "x"), SIP_TP_UDP);
	assert_int_equal(T.nreq, 2);
	assert_string_equal(T.last_req_method, "ACK");
	advance(32000); /* timer L */
	assert_int_equal(T.terminated, 1);
}

static void test_uas_rfc2543_fallback_matching(void **state)
{
	(void)state;
	T.auto_uas = 1;
	/* no magic cookie: matched by Request-URI, tags, Call-ID, CSeq, Via */
	const char *inv = request("INVITE", "old-style-1", "UDP", 7, NULL);
	inject(inv, SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_reply(t, 404, IMS_STR_NULL, IMS_STR_NULL), 0);
	inject(inv, SIP_TP_UDP);
	assert_int_equal(T.nreq, 1);
	assert_int_equal(T.npkt, 2);
	/* an ACK with another To tag is not for this transaction */
	T.auto_uas = 0;
	inject(request("ACK", "old-style-1", "UDP", 7, "not-ours"), SIP_TP_UDP);
	assert_int_equal(T.nreq, 2);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	ims_str_t tag = sip_tsx_local_tag(t);
	char tg[64];
	snprintf(tg, sizeof(tg), "%.*s", IMS_STR_FMT(tag));
	inject(request("ACK", "old-style-1", "UDP", 7, tg), SIP_TP_UDP);
	assert_int_equal(T.nreq, 2);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_CONFIRMED);
}

static void test_uas_cancel_finds_its_invite(void **state)
{
	(void)state;
	T.auto_uas = 1;
	inject(request("INVITE", "z9hG4bKuas5", "UDP", 1, NULL), SIP_TP_UDP);
	sip_tsx_t *inv = T.uas;
	T.auto_uas = 0;
	const char *txt = request("CANCEL", "z9hG4bKuas5", "UDP", 1, NULL);
	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *c;
	assert_int_equal(sip_msg_parse(txt, strlen(txt), a, &c, NULL), 0);
	sip_tp_peer_t src = peer(SIP_TP_UDP);
	assert_ptr_equal(sip_tsx_find_invite(T.l, c, &src), inv);
	ims_arena_destroy(a);
	/* a CANCEL is its own transaction: passed to the TU */
	inject(txt, SIP_TP_UDP);
	assert_int_equal(T.nreq, 2);
	assert_string_equal(T.last_req_method, "CANCEL");
}

/* ---- server non-INVITE ------------------------------------------------- */

static void test_uas_nist_retransmission_and_timer_j(void **state)
{
	(void)state;
	T.auto_uas = 1;
	const char *req = request("OPTIONS", "z9hG4bKuas6", "UDP", 1, NULL);
	inject(req, SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_state(t), SIP_TSX_TRYING);
	inject(req, SIP_TP_UDP); /* nothing to resend yet */
	assert_int_equal(T.npkt, 0);
	assert_int_equal(sip_tsx_reply(t, 200, IMS_STR_NULL, IMS_STR("X-Test: 1\r\n")), 0);
	inject(req, SIP_TP_UDP);
	assert_int_equal(T.npkt, 2);
	assert_non_null(strstr(T.pkts[0].buf, "X-Test: 1\r\n"));
	assert_int_equal(T.nreq, 1);
	advance(31999);
	assert_int_equal(T.terminated, 0);
	advance(1);
	assert_int_equal(T.terminated, 1);
}

static void test_uas_nist_tcp_ends_at_once(void **state)
{
	(void)state;
	T.auto_uas = 1;
	inject(request("OPTIONS", "z9hG4bKuas7", "TCP", 1, NULL), SIP_TP_TCP);
	assert_int_equal(sip_tsx_reply(T.uas, 200, IMS_STR_NULL, IMS_STR_NULL), 0);
	advance(0); /* timer J = 0 on reliable transports */
	assert_int_equal(T.terminated, 1);
	assert_int_equal(T.pkts[0].to.proto, SIP_TP_TCP);
}

static void test_stray_response_goes_to_tu(void **state)
{
	(void)state;
	inject("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnone\r\n"
	       "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
	       "Content-Length: 0\r\n\r\n",
	       SIP_TP_UDP);
	assert_int_equal(T.nstray, 1);
}

static void test_branch_encodes_worker(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(512);
	ims_str_t b = sip_tsx_branch_new(T.l, a, IMS_STR("1a2b3c4d"));
	assert_int_equal(sip_tsx_branch_worker(b), 3);
	assert_true(ims_str_eq_c(sip_tsx_branch_tag(b), "1a2b3c4d"));
	ims_str_t b2 = sip_tsx_branch_new(T.l, a, IMS_STR_NULL);
	assert_false(ims_str_eq(b, b2));
	assert_int_equal(sip_tsx_branch_worker(b2), 3);
	assert_int_equal(sip_tsx_branch_tag(b2).len, 0);
	assert_int_equal(sip_tsx_branch_worker(IMS_STR("z9hG4bK776asdhds")), -1);
	ims_arena_destroy(a);
}


/* ---- shrunk transactions (no callback, final state) -------------------- */

/* The TU lets go of a transaction that has its final; on the next timer
 * pass it drops its request. */
static void let_go(sip_tsx_t *t)
{
	sip_tsx_set_cb(t, NULL, NULL);
	if (t == T.uas)
		T.uas = NULL;
	assert_non_null(sip_tsx_request(t)); /* still there in this call stack */
	advance(0);
	assert_null(sip_tsx_request(t));
	assert_null(sip_tsx_arena(t));
}

static void test_shrunk_uas_invite_non2xx_resends_and_absorbs_ack(void **state)
{
	(void)state;
	T.auto_uas = 1;
	const char *inv = request("INVITE", "z9hG4bKsh1", "UDP", 1, NULL);
	inject(inv, SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_reply(t, 486, IMS_STR_NULL, IMS_STR_NULL), 0);
	assert_int_equal(sip_tsx_layer_live(T.l), 0);
	let_go(t);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	assert_int_equal(sip_tsx_reply(t, 500, IMS_STR_NULL, IMS_STR_NULL), IMS_ESTATE);
	/* timer G still runs on the kept response */
	advance(600);
	assert_int_equal(T.npkt, 2);
	assert_memory_equal(T.pkts[1].buf, T.pkts[0].buf, T.pkts[0].len);
	/* a retransmitted INVITE gets the 486 again, the TU sees nothing */
	inject(inv, SIP_TP_UDP);
	assert_int_equal(T.npkt, 3);
	assert_int_equal(T.pkts[2].len, T.pkts[0].len);
	assert_memory_equal(T.pkts[2].buf, T.pkts[0].buf, T.pkts[0].len);
	assert_int_equal(T.nreq, 1);
	/* the ACK is absorbed: Confirmed, no more G, gone after timer I */
	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *r = parse_pkt(0, a);
	char tag[64];
	snprintf(tag, sizeof(tag), "%.*s", IMS_STR_FMT(r->to_tag));
	ims_arena_destroy(a);
	T.auto_uas = 0;
	inject(request("ACK", "z9hG4bKsh1", "UDP", 1, tag), SIP_TP_UDP);
	assert_int_equal(T.nreq, 1);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_CONFIRMED);
	inject(inv, SIP_TP_UDP); /* Confirmed: absorbed */
	assert_int_equal(T.npkt, 3);
	advance(5000);
	assert_int_equal(T.npkt, 3);
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
	assert_int_equal(T.terminated, 0); /* nobody listens any more */
}

static void test_shrunk_uas_rfc2543_keeps_the_to_tag(void **state)
{
	(void)state;
	T.auto_uas = 1;
	const char *inv = request("INVITE", "old-style-2", "UDP", 7, NULL);
	inject(inv, SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_reply(t, 404, IMS_STR_NULL, IMS_STR_NULL), 0);
	char tg[64];
	snprintf(tg, sizeof(tg), "%.*s", IMS_STR_FMT(sip_tsx_local_tag(t)));
	let_go(t);
	inject(inv, SIP_TP_UDP);
	assert_int_equal(T.npkt, 2);
	T.auto_uas = 0;
	inject(request("ACK", "old-style-2", "UDP", 7, "not-ours"), SIP_TP_UDP);
	assert_int_equal(T.nreq, 2);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	inject(request("ACK", "old-style-2", "UDP", 7, tg), SIP_TP_UDP);
	assert_int_equal(T.nreq, 2);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_CONFIRMED);
}

static void test_shrunk_uas_invite_accepted_absorbs_and_passes_ack(void **state)
{
	(void)state;
	T.auto_uas = 1;
	const char *inv = request("INVITE", "z9hG4bKsh3", "UDP", 1, NULL);
	inject(inv, SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_reply(t, 200, IMS_STR_NULL, IMS_STR_NULL), 0);
	let_go(t);
	inject(inv, SIP_TP_UDP); /* RFC 6026 §7.1: absorbed */
	assert_int_equal(T.npkt, 1);
	assert_int_equal(T.nreq, 1);
	T.auto_uas = 0;
	inject(request("ACK", "z9hG4bKsh3", "UDP", 1, "x"), SIP_TP_UDP);
	assert_int_equal(T.nreq, 2);
	advance(32000); /* timer L */
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
}

static void test_shrunk_uas_nist_resends_final_until_timer_j(void **state)
{
	(void)state;
	T.auto_uas = 1;
	const char *req = request("BYE", "z9hG4bKsh4", "UDP", 2, "b1");
	inject(req, SIP_TP_UDP);
	sip_tsx_t *t = T.uas;
	assert_int_equal(sip_tsx_reply(t, 200, IMS_STR_NULL, IMS_STR_NULL), 0);
	let_go(t);
	inject(req, SIP_TP_UDP);
	assert_int_equal(T.npkt, 2);
	assert_memory_equal(T.pkts[1].buf, T.pkts[0].buf, T.pkts[0].len);
	assert_int_equal(T.nreq, 1);
	advance(31999);
	assert_int_equal(sip_tsx_layer_count(T.l), 1);
	advance(1);
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
}

/* A server transaction made without callback (a proxy's CANCEL) shrinks
 * on its own once answered. */
static void test_uas_without_callback_shrinks_once_answered(void **state)
{
	(void)state;
	const char *txt = request("CANCEL", "z9hG4bKsh5", "UDP", 1, NULL);
	ims_arena_t *a = ims_arena_create(4096);
	char *buf = ims_arena_memdup(a, txt, strlen(txt));
	sip_msg_t *c;
	assert_int_equal(sip_msg_parse(buf, strlen(txt), a, &c, NULL), 0);
	sip_tp_peer_t src = peer(SIP_TP_UDP);
	sip_tsx_t *t;
	assert_int_equal(sip_tsx_uas_create(T.l, c, &src, &a, NULL, NULL, &t), 0);
	assert_null(a);
	assert_int_equal(sip_tsx_reply(t, 481, IMS_STR_NULL, IMS_STR_NULL), 0);
	advance(0);
	assert_null(sip_tsx_arena(t));
	inject(txt, SIP_TP_UDP);
	assert_int_equal(T.npkt, 2);
	assert_int_equal(T.nreq, 0);
}

static void test_shrunk_uac_invite_reacks_and_passes_2xx_as_stray(void **state)
{
	(void)state;
	sip_tsx_t *t = uac("INVITE", "UDP");
	inject(response_to(0, 487, "b1"), SIP_TP_UDP);
	assert_int_equal(count_method("ACK"), 1);
	let_go(t);
	/* the retransmitted final gets the same ACK, from the kept bytes */
	inject(response_to(0, 487, "b1"), SIP_TP_UDP);
	assert_int_equal(count_method("ACK"), 2);
	assert_int_equal(T.pkts[T.npkt - 1].len, T.pkts[1].len);
	assert_memory_equal(T.pkts[T.npkt - 1].buf, T.pkts[1].buf, T.pkts[1].len);
	/* a 2xx from another fork still reaches the TU, as a stray response */
	inject(response_to(0, 200, "b2"), SIP_TP_UDP);
	assert_int_equal(T.nstray, 1);
	assert_int_equal(T.nev, 1); /* only the 487, before letting go */
	advance(32000); /* timer D */
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
}

static void test_shrunk_uac_invite_accepted_passes_2xx_as_stray(void **state)
{
	(void)state;
	sip_tsx_t *t = uac("INVITE", "UDP");
	inject(response_to(0, 200, "b1"), SIP_TP_UDP);
	let_go(t);
	inject(response_to(0, 200, "b1"), SIP_TP_UDP);
	assert_int_equal(T.nstray, 1);
	assert_int_equal(T.nev, 1);
	inject(response_to(0, 180, "b1"), SIP_TP_UDP); /* late provisional: ignored */
	assert_int_equal(T.nstray, 1);
	advance(32000); /* timer M */
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
}

/* max_tsx bounds the live transactions, max_done the completed ones. */
static void test_limits_count_live_and_done_apart(void **state)
{
	(void)state;
	sip_tsx_layer_destroy(T.l);
	sip_tsx_cfg_t cfg = {
		.t1_ms = 500, .t2_ms = 4000, .t4_ms = 5000, .worker = 3,
		.timers = &T.timers, .send = tsend, .max_tsx = 1, .max_done = 1,
		.on_request = on_request, .on_stray_response = on_stray,
	};
	assert_int_equal(sip_tsx_layer_create(&cfg, &T.l), 0);
	sip_tsx_t *t1, *t2;
	assert_int_equal(uac_rc("INVITE", "UDP", &t1), 0);
	assert_int_equal(uac_rc("OPTIONS", "UDP", &t2), IMS_EAGAIN);
	inject(response_to(0, 486, "b1"), SIP_TP_UDP);
	assert_int_equal(sip_tsx_layer_live(T.l), 0);
	assert_int_equal(sip_tsx_layer_count(T.l), 1);
	/* live is free again, but completed ones are at their bound */
	assert_int_equal(uac_rc("OPTIONS", "UDP", &t2), IMS_EAGAIN);
	advance(32000); /* timer D ends t1 */
	assert_int_equal(sip_tsx_layer_count(T.l), 0);
	assert_int_equal(uac_rc("OPTIONS", "UDP", &t2), 0);
	assert_int_equal(sip_tsx_layer_live(T.l), 1);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_uac_invite_timer_a_doubles_then_b_gives_408),
		T_(test_uac_invite_over_tcp_never_retransmits),
		T_(test_uac_invite_provisional_stops_retransmissions),
		T_(test_uac_invite_non2xx_is_acked_hop_by_hop),
		T_(test_uac_invite_2xx_accepted_passes_retransmissions),
		T_(test_uac_cancel_waits_for_provisional),
		T_(test_uac_nict_timer_e_caps_at_t2_then_f),
		T_(test_uac_nict_proceeding_retransmits_at_t2),
		T_(test_uac_send_failure_creates_nothing),
		T_(test_uac_async_transport_error_reported),
		T_(test_tp_error_skips_finished_transactions),
		T_(test_uas_invite_retransmission_gets_last_response),
		T_(test_uas_invite_non2xx_timer_g_until_ack),
		T_(test_uas_invite_timer_h_without_ack),
		T_(test_uas_invite_2xx_accepted_and_ack_to_tu),
		T_(test_uas_rfc2543_fallback_matching),
		T_(test_uas_cancel_finds_its_invite),
		T_(test_uas_nist_retransmission_and_timer_j),
		T_(test_uas_nist_tcp_ends_at_once),
		T_(test_stray_response_goes_to_tu),
		T_(test_branch_encodes_worker),
		T_(test_shrunk_uas_invite_non2xx_resends_and_absorbs_ack),
		T_(test_shrunk_uas_rfc2543_keeps_the_to_tag),
		T_(test_shrunk_uas_invite_accepted_absorbs_and_passes_ack),
		T_(test_shrunk_uas_nist_resends_final_until_timer_j),
		T_(test_uas_without_callback_shrinks_once_answered),
		T_(test_shrunk_uac_invite_reacks_and_passes_2xx_as_stray),
		T_(test_shrunk_uac_invite_accepted_passes_2xx_as_stray),
		T_(test_limits_count_live_and_done_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
