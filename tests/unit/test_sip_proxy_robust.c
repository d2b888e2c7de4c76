/* Robustness of the proxy receive path (in the manner of Redis's
 * protocol.tcl, with a deterministic mutator): valid requests and
 * responses are damaged (bytes flipped, spans cut or repeated, separators
 * inserted, truncation) and fed to the proxy core in test mode, from the
 * UAC side and from downstream, for many rounds with the clock moving.
 * Under ASan/UBSan this must neither crash nor leak, every context must
 * end once the timers have run out, and the proxy must still forward a
 * clean request afterwards. */
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

static ims_vclock_t vc;
static sip_proxy_t *px;
static char last[8192];
static size_t last_len;
static int nsent;
static uint64_t rng = 0x1234567887654321ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static int tsend(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
	(void)to;
	nsent++;
	if (len < sizeof(last)) {
		memcpy(last, buf, len);
		last_len = len;
	}
	return 0;
}

static void on_request(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ud;
	switch (rnd(4)) {
	case 0:
		sip_proxy_record_route(ctx, IMS_STR(";x"));
		/* fall through */
	case 1:
		sip_proxy_forward(ctx, NULL, NULL);
		break;
	case 2: {
		sip_proxy_target_t t[2] = { { .ruri = IMS_STR("sip:a@10.0.0.3") },
					    { .ruri = IMS_STR("sip:b@10.0.0.4;transport=tcp") } };
		sip_proxy_fork(ctx, t, 2);
		break;
	}
	default:
		sip_proxy_reply(ctx, 404, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
	}
}

static const char *const seeds[] = {
	"INVITE sip:bob@10.0.0.2 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5070;rport;branch=z9hG4bKr1@ID@\r\n"
	"Via: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKr0;received=192.0.2.1\r\n"
	"Route: <sip:10.0.0.1:5060;lr;orig>, <sip:10.0.0.5;lr>\r\n"
	"Max-Forwards: 70\r\nFrom: \"A\" <sip:alice@example.com>;tag=a1\r\n"
	"To: <sip:bob@example.com>\r\nCall-ID: r1@ID@@192.0.2.10\r\nCSeq: 1 INVITE\r\n"
	"Contact: <sip:alice@192.0.2.10:5070>\r\nProxy-Require: sec-agree\r\n"
	"Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
	"REGISTER sip:10.0.0.1:5060;lr SIP/2.0\r\n"
	"v: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKr2@ID@\r\n"
	"Route: <sip:10.0.0.6>, <sip:reg@10.0.0.7>\r\n"
	"f: <sip:alice@example.com>;tag=a2\r\nt: <sip:alice@example.com>\r\ni: r2@ID@\r\n"
	"CSeq: 2 REGISTER\r\nm: <sip:alice@192.0.2.10:5070>;expires=600\r\nl: 0\r\n\r\n",
	"ACK sip:bob@10.0.0.2 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKr3@ID@\r\nMax-Forwards: 1\r\n"
	"From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\n"
	"Call-ID: r1@ID@@192.0.2.10\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
	"CANCEL sip:bob@10.0.0.2 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5070;rport;branch=z9hG4bKr1@ID@\r\nMax-Forwards: 70\r\n"
	"From: \"A\" <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n"
	"Call-ID: r1@ID@@192.0.2.10\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK.w0.00000000.0000000000000001\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5070;rport=5070;branch=z9hG4bKr1;received=192.0.2.10\r\n"
	"From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\n"
	"Call-ID: r1@ID@@192.0.2.10\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
};

static size_t mutate(char *buf, size_t len, size_t cap)
{
	static const char ins[] = ";:<>,\"\r\n \t=@[]0";
	int n = 1 + (int)rnd(4);
	for (int k = 0; k < n && len > 0; k++) {
		size_t at = rnd((uint32_t)len);
		switch (rnd(6)) {
		case 0: /* flip a byte */
			buf[at] = (char)(buf[at] ^ (1u << rnd(8)));
			break;
		case 1: { /* cut a span */
			size_t span = 1 + rnd(16);
			if (at + span > len)
				span = len - at;
			memmove(buf + at, buf + at + span, len - at - span);
			len -= span;
			break;
		}
		case 2: { /* repeat a span */
			size_t span = 1 + rnd(32);
			if (at + span > len)
				span = len - at;
			if (len + span < cap) {
				memmove(buf + at + span, buf + at, len - at);
				len += span;
			}
			break;
		}
		case 3: /* insert a separator */
			if (len + 1 < cap) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = ins[rnd(sizeof(ins) - 1)];
				len++;
			}
			break;
		case 4: /* truncate */
			len = at;
			break;
		default: /* a digit somewhere becomes big */
			if (buf[at] >= '0' && buf[at] <= '9' && len + 9 < cap) {
				memmove(buf + at + 9, buf + at, len - at);
				memcpy(buf + at, "999999999", 9);
				len += 9;
			}
		}
	}
	return len;
}

static void test_proxy_survives_damaged_messages(void **state)
{
	(void)state;
	ims_vclock_init(&vc, 0);
	sip_tp_listen_t ls[2];
	sip_tp_listen_parse("10.0.0.1:5060:udp", &ls[0]);
	sip_tp_listen_parse("10.0.0.1:5060:tcp", &ls[1]);
	sip_proxy_cfg_t cfg = { .tp = { .listen = ls, .nlisten = 2 }, .test_send = tsend,
				.test_clock = &vc.clock };
	sip_proxy_hooks_t hooks = { .on_request = on_request };
	char err[128];
	assert_int_equal(sip_proxy_create(&cfg, &hooks, &px, err, sizeof(err)), 0);
	sip_tp_peer_t up = { .proto = SIP_TP_UDP, .listener = 0 };
	sip_tp_addr_set(&up.addr, IMS_STR("192.0.2.10"), 5070);
	sip_tp_peer_t down = { .proto = SIP_TP_UDP, .listener = 0 };
	sip_tp_addr_set(&down.addr, IMS_STR("10.0.0.2"), 5060);
	char buf[8192];
	for (int i = 0; i < 20000; i++) {
		size_t len;
		const sip_tp_peer_t *src = &up;
		if (rnd(4) == 0 && last_len && strncmp(last, "SIP/2.0", 7) != 0) {
			/* answer (a damaged answer to) the last forwarded request */
			ims_arena_t *a = ims_arena_create(8192);
			sip_msg_t *fw, *rsp;
			len = 0;
			if (sip_msg_parse(last, last_len, a, &fw, NULL) == 0 &&
			    sip_msg_new_response(a, fw, 100 + (int)rnd(600), IMS_STR_NULL,
						 IMS_STR("t"), &rsp) == 0)
				sip_msg_print(rsp, buf, sizeof(buf), &len);
			ims_arena_destroy(a);
			src = &down;
		} else {
			/* a small id space: some requests repeat (retransmissions),
			 * some CANCELs find their INVITE */
			const char *s = seeds[rnd(sizeof(seeds) / sizeof(seeds[0]))];
			char id[16];
			int idl = snprintf(id, sizeof(id), "%u", rnd(200));
			len = 0;
			for (const char *p = s; *p && len + 16 < sizeof(buf);) {
				if (strncmp(p, "@ID@", 4) == 0) {
					memcpy(buf + len, id, (size_t)idl);
					len += (size_t)idl;
					p += 4;
				} else {
					buf[len++] = *p++;
				}
			}
		}
		if (rnd(3))
			len = mutate(buf, len, sizeof(buf));
		sip_proxy_test_inject(px, buf, len, src);
		if (i % 50 == 0) {
			ims_vclock_advance(&vc, 1000);
			sip_proxy_test_run(px);
		}
	}
	ims_vclock_advance(&vc, 400000); /* timer C, B, H, L... all run out */
	for (int k = 0; k < 10; k++) {
		ims_vclock_advance(&vc, 40000);
		sip_proxy_test_run(px);
	}
	sip_proxy_stats_t st;
	sip_proxy_get_stats(px, &st);
	printf("rx_requests=%llu rx_responses=%llu tx_requests=%llu tx_responses=%llu dropped=%llu "
	       "stateless=%llu sent=%d\n",
	       (unsigned long long)st.rx_requests, (unsigned long long)st.rx_responses,
	       (unsigned long long)st.tx_requests, (unsigned long long)st.tx_responses,
	       (unsigned long long)st.dropped, (unsigned long long)st.stateless_replies, nsent);
	assert_int_equal(st.contexts, 0);
	assert_true(st.dropped > 0);
	assert_true(st.stateless_replies > 0);
	/* and it still proxies a clean request */
	int before = nsent;
	const char *ok = "OPTIONS sip:bob@10.0.0.2 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKfinal\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=f\r\n"
			 "To: <sip:bob@example.com>\r\nCall-ID: final\r\nCSeq: 9 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n";
	sip_proxy_test_inject(px, ok, strlen(ok), &up);
	assert_true(nsent > before);
	sip_proxy_destroy(px);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_survives_damaged_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
