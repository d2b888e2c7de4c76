/* The P-CSCF's request handling on the proxy core's test mode (no
 * sockets, a scripted peer, a virtual clock): registration through the
 * I-CSCF with ck/ik removed, the stored registration, the reg-event
 * SUBSCRIBE, an INVITE from the UE with its identity asserted and the
 * Service-Route as Route, a stranger refused, a request along the Path
 * delivered to the UE's flow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_clock.h"
#include "base/ims_err.h"
#include "cfg/ims_cfg.h"
#include "sip/proxy/sip_proxy.h"
#include "context.h"

#define MAX_SENT 32

typedef struct sent {
	sip_tp_peer_t to;
	char buf[4096];
	size_t len;
} sent_t;

static struct {
	ims_vclock_t vc;
	ims_cfg_t *cfg;
	pcscf_ctx_t *c;
	sent_t sent[MAX_SENT];
	int nsent;
	ims_arena_t *a;
} H;

static int tsend(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
	assert_true(H.nsent < MAX_SENT);
	assert_true(len < sizeof(H.sent[0].buf));
	sent_t *s = &H.sent[H.nsent++];
	s->to = *to;
	memcpy(s->buf, buf, len);
	s->buf[len] = 0;
	s->len = len;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&H, 0, sizeof(H));
	ims_vclock_init(&H.vc, 1000);
	static const char y[] = "realm: ims.test\n"
				"sip:\n  listen:\n    - {addr: 10.0.0.1, port: 5060, proto: udp}\n"
				"icscf: [\"sip:10.0.0.2:4060\"]\n";
	char err[256];
	H.cfg = ims_cfg_parse(y, strlen(y), "pcscf.yaml", err, sizeof(err));
	assert_non_null(H.cfg);
	void *ctx;
	assert_int_equal(pcscf_configure(H.cfg, &ctx, err, sizeof(err)), 0);
	H.c = ctx;
	static const char *const supported[] = { "path", "sec-agree", NULL };
	sip_proxy_cfg_t pc = {
		.tp = { .listen = H.c->cfg.listen, .nlisten = H.c->cfg.n_listen },
		.supported = supported,
		.test_send = tsend,
		.test_clock = &H.vc.clock,
	};
	sip_proxy_hooks_t hooks = { .on_request = pcscf__on_request,
				    .on_response = pcscf__on_response,
				    .ud = H.c };
	assert_int_equal(sip_proxy_create(&pc, &hooks, &H.c->proxy, err, sizeof(err)), 0);
	H.a = ims_arena_create(8192);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pcscf_destroy(H.c); /* destroys the proxy too */
	ims_cfg_free(H.cfg);
	ims_arena_destroy(H.a);
	return 0;
}

static sip_tp_peer_t peer(const char *host, uint16_t port)
{
	sip_tp_peer_t p;
	memset(&p, 0, sizeof(p));
	p.proto = SIP_TP_UDP;
	p.listener = 0;
	assert_int_equal(sip_tp_addr_set(&p.addr, ims_str_cstr(host), port), 0);
	return p;
}

static void inject(const char *text, const char *host, uint16_t port)
{
	sip_tp_peer_t src = peer(host, port);
	assert_int_equal(sip_proxy_test_inject(H.c->proxy, text, strlen(text), &src), 0);
	sip_proxy_test_run(H.c->proxy);
}

/* The last message sent to host:port whose first line starts with `start`. */
static sent_t *find_sent(const char *host, uint16_t port, const char *start)
{
	for (int i = H.nsent - 1; i >= 0; i--) {
		char h[64];
		sip_tp_addr_host(&H.sent[i].to.addr, h, sizeof(h));
		if (strcmp(h, host) == 0 && sip_tp_addr_port(&H.sent[i].to.addr) == port &&
		    strncmp(H.sent[i].buf, start, strlen(start)) == 0)
			return &H.sent[i];
	}
	return NULL;
}

static sip_msg_t *parse(const sent_t *s)
{
	sip_msg_t *m;
	char *copy = ims_arena_memdup(H.a, s->buf, s->len);
	assert_int_equal(sip_msg_parse(copy, s->len, H.a, &m, NULL), 0);
	return m;
}

/* A response to a request we saw leave, with extra header lines. */
static void respond(const sent_t *req_sent, int code, const char *extra, const char *host,
		    uint16_t port)
{
	sip_msg_t *req = parse(req_sent), *rsp;
	assert_int_equal(sip_msg_new_response(H.a, req, code, IMS_STR_NULL, IMS_STR("peer-tag"), &rsp), 0);
	char *line = strdup(extra);
	for (char *save = NULL, *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(l, ':');
		assert_non_null(colon);
		ims_str_t name = ims_str_from(l, (size_t)(colon - l));
		ims_str_t value = ims_str_trim(ims_str_cstr(colon + 1));
		sip_hdr_id_t id = sip_hdr_id_from_name(name);
		assert_non_null(sip_msg_hdr_add(rsp, id, id == SIP_HDR_OTHER ? name : IMS_STR_NULL,
						value, SIP_POS_BOTTOM));
	}
	free(line);
	ims_str_t out;
	assert_int_equal(sip_msg_print_arena(rsp, H.a, &out), 0);
	inject(out.s, host, port);
}

static const char *reg_text(int cseq, const char *auth)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
		 "REGISTER sip:ims.test SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.100:5070;branch=z9hG4bK-reg%d;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@ims.test>;tag=a1\r\n"
		 "To: <sip:alice@ims.test>\r\n"
		 "Call-ID: reg@10.0.0.100\r\n"
		 "CSeq: %d REGISTER\r\n"
		 "Contact: <sip:alice@10.0.0.100:5070>;expires=600\r\n"
		 "%s"
		 "P-Asserted-Identity: <sip:boss@ims.test>\r\n"
		 "Security-Client: ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=3; port-s=4\r\n"
		 "Require: sec-agree\r\n"
		 "Proxy-Require: sec-agree\r\n"
		 "Content-Length: 0\r\n\r\n",
		 cseq, cseq, auth);
	return buf;
}

static void do_register(void)
{
	inject(reg_text(1, ""), "10.0.0.100", 5070);
	sent_t *fw = find_sent("10.0.0.2", 4060, "REGISTER");
	assert_non_null(fw);
	assert_non_null(strstr(fw->buf, "Path: <sip:term@10.0.0.1:5060;lr>"));
	assert_non_null(strstr(fw->buf, "P-Visited-Network-ID: \"ims.test\""));
	assert_non_null(strstr(fw->buf, "icid-value="));
	assert_null(strstr(fw->buf, "boss"));
	assert_null(strstr(fw->buf, "sec-agree"));
	assert_null(strstr(fw->buf, "Security-Client"));

	respond(fw, 401,
		"WWW-Authenticate: Digest realm=\"ims.test\", nonce=\"bm9uY2U=\", algorithm=AKAv1-MD5, "
		"ck=\"00112233445566778899aabbccddeeff\", ik=\"ffeeddccbbaa99887766554433221100\"",
		"10.0.0.2", 4060);
	sent_t *ch = find_sent("10.0.0.100", 5070, "SIP/2.0 401");
	assert_non_null(ch);
	assert_null(strstr(ch->buf, "ck="));
	assert_null(strstr(ch->buf, "ik="));
	assert_non_null(strstr(ch->buf, "nonce=\"bm9uY2U=\""));

	H.nsent = 0;
	inject(reg_text(2, "Authorization: Digest username=\"alice@ims.test\", realm=\"ims.test\", "
			   "nonce=\"bm9uY2U=\", uri=\"sip:ims.test\", response=\"0\"\r\n"),
	       "10.0.0.100", 5070);
	fw = find_sent("10.0.0.2", 4060, "REGISTER");
	assert_non_null(fw);
	respond(fw, 200,
		"Contact: <sip:alice@10.0.0.100:5070>;expires=300\n"
		"Service-Route: <sip:orig@10.0.0.3:6060;lr>\n"
		"P-Associated-URI: <sip:alice@ims.test>, <tel:+15551234>",
		"10.0.0.2", 4060);
	assert_non_null(find_sent("10.0.0.100", 5070, "SIP/2.0 200"));
	assert_int_equal(pcscf_reg_store_count(H.c->store), 1);
}

static void test_register_then_subscribe(void **state)
{
	(void)state;
	do_register();
	/* TS 24.229 §5.2.3: SUBSCRIBE to the S-CSCF of the Service-Route. */
	sent_t *sub = find_sent("10.0.0.3", 6060, "SUBSCRIBE sip:alice@ims.test");
	assert_non_null(sub);
	if (!sub) /* tells gcc -O3 what assert_non_null already made sure of */
		return;
	assert_non_null(strstr(sub->buf, "Event: reg"));
	assert_non_null(strstr(sub->buf, "P-Asserted-Identity: <sip:pcscf@10.0.0.1:5060>"));
	assert_int_equal(pcscf_subs_count(H.c->subs), 1);
	/* The S-CSCF's 200 keeps the subscription, with its expiry. */
	respond(sub, 200, "Expires: 100", "10.0.0.3", 6060);
	sip_msg_t *m = parse(sub);
	assert_true(pcscf_subs_has(H.c->subs, m->call_id, pcscf_now() + 50));
	assert_false(pcscf_subs_has(H.c->subs, m->call_id, pcscf_now() + 101));
}

static void test_invite_from_ue_and_stranger(void **state)
{
	(void)state;
	do_register();
	H.nsent = 0;
	static const char inv[] =
		"INVITE sip:bob@ims.test SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5070;branch=z9hG4bK-inv1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:10.0.0.1:5060;lr>\r\n"
		"From: <sip:alice@ims.test>;tag=i1\r\n"
		"To: <sip:bob@ims.test>\r\n"
		"Call-ID: inv@10.0.0.100\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:alice@10.0.0.100:5070>\r\n"
		"P-Preferred-Identity: <tel:+15551234>\r\n"
		"P-Asserted-Identity: <sip:boss@ims.test>\r\n"
		"Content-Length: 0\r\n\r\n";
	inject(inv, "10.0.0.100", 5070);
	sent_t *fw = find_sent("10.0.0.3", 6060, "INVITE");
	assert_non_null(fw);
	sip_msg_t *m = parse(fw);
	sip_hdr_t *pai = sip_msg_hdr(m, SIP_HDR_P_ASSERTED_IDENTITY);
	assert_non_null(pai);
	assert_true(ims_str_eq_c(pai->value, "<tel:+15551234>"));
	assert_null(sip_hdr_next_same(pai));
	assert_null(sip_msg_hdr(m, SIP_HDR_P_PREFERRED_IDENTITY));
	sip_hdr_t *route = sip_msg_hdr(m, SIP_HDR_ROUTE);
	assert_non_null(route);
	assert_true(ims_str_eq_c(route->value, "<sip:orig@10.0.0.3:6060;lr>"));
	assert_non_null(sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE));
	assert_non_null(sip_msg_hdr(m, SIP_HDR_P_CHARGING_VECTOR));

	/* The same INVITE (a new transaction) from an address that never
	 * registered: 403. */
	char stranger[sizeof(inv)];
	memcpy(stranger, inv, sizeof(inv));
	memcpy(strstr(stranger, "inv1"), "inv3", 4);
	H.nsent = 0;
	inject(stranger, "10.0.0.200", 5070);
	assert_non_null(find_sent("10.0.0.200", 5070, "SIP/2.0 403"));
	assert_null(find_sent("10.0.0.3", 6060, "INVITE"));

	/* From the registered flow but naming another contact: 403 too. */
	char other[sizeof(inv) + 16];
	snprintf(other, sizeof(other), "%s", inv);
	char *p = strstr(other, "Contact: <sip:alice@10.0.0.100:5070>");
	memcpy(p, "Contact: <sip:alice@10.0.0.100:5999>", 36);
	memcpy(strstr(other, "inv1"), "inv2", 4);
	H.nsent = 0;
	inject(other, "10.0.0.100", 5070);
	assert_non_null(find_sent("10.0.0.100", 5070, "SIP/2.0 403"));
}

static void test_request_along_path_reaches_ue(void **state)
{
	(void)state;
	do_register();
	H.nsent = 0;
	static const char msg[] = "MESSAGE sip:alice@10.0.0.100:5070 SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 10.0.0.3:6060;branch=z9hG4bK-m1\r\n"
				  "Max-Forwards: 70\r\n"
				  "Route: <sip:term@10.0.0.1:5060;lr>\r\n"
				  "From: <sip:bob@ims.test>;tag=b1\r\n"
				  "To: <sip:alice@ims.test>\r\n"
				  "Call-ID: m@10.0.0.3\r\n"
				  "CSeq: 1 MESSAGE\r\n"
				  "P-Charging-Vector: icid-value=x\r\n"
				  "Content-Length: 0\r\n\r\n";
	inject(msg, "10.0.0.3", 6060);
	sent_t *fw = find_sent("10.0.0.100", 5070, "MESSAGE");
	assert_non_null(fw);
	assert_null(strstr(fw->buf, "P-Charging-Vector"));
	assert_null(strstr(fw->buf, "Route: <sip:term"));

	/* The UE is gone after a de-registration: 480 along the Path. */
	pcscf_reg_store_remove_flow(H.c->store, PCSCF_TP_UDP, "10.0.0.100", 5070);
	H.nsent = 0;
	char again[sizeof(msg)];
	memcpy(again, msg, sizeof(msg));
	memcpy(strstr(again, "-m1"), "-m2", 3);
	inject(again, "10.0.0.3", 6060);
	assert_non_null(find_sent("10.0.0.3", 6060, "SIP/2.0 480"));
}

static void test_icscf_failover_on_503(void **state)
{
	(void)state;
	/* A second I-CSCF configured: the 503 of the first is absorbed. */
	H.c->cfg.icscf[1] = "sip:10.0.0.4:4060";
	H.c->cfg.n_icscf = 2;
	inject(reg_text(1, ""), "10.0.0.100", 5070);
	sent_t *fw = find_sent("10.0.0.2", 4060, "REGISTER");
	assert_non_null(fw);
	respond(fw, 503, "Retry-After: 30", "10.0.0.2", 4060);
	assert_null(find_sent("10.0.0.100", 5070, "SIP/2.0 5"));
	sent_t *fw2 = find_sent("10.0.0.4", 4060, "REGISTER");
	assert_non_null(fw2);
	respond(fw2, 401, "WWW-Authenticate: Digest realm=\"ims.test\", nonce=\"bm9uY2U=\"", "10.0.0.4", 4060);
	assert_non_null(find_sent("10.0.0.100", 5070, "SIP/2.0 401"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_then_subscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_from_ue_and_stranger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_along_path_reaches_ue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icscf_failover_on_503, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
