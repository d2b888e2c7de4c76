/* Timers, transactions and the proxy core without sockets (one core):
 *  - timer heap: start+stop with 100,000 timers live;
 *  - 100,000 live client transactions: create (print + parse + table +
 *    timers), match a 200 to each, end them all;
 *  - the proxy core in test mode: request in, forwarded, 200 back,
 *    forwarded upstream (a whole non-INVITE proxy cycle).
 * Prints figures; never fails. Usage: bench_sip_tsx [N]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/ims_err.h"
#include "base/ims_timer.h"
#include "sip/proxy/sip_proxy.h"
#include "sip/tsx/sip_tsx.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void noop_cb(ims_timer_t *t, void *arg)
{
	(void)t;
	(void)arg;
}

static void bench_timers(int n)
{
	ims_vclock_t vc;
	ims_vclock_init(&vc, 0);
	ims_timers_t ts;
	ims_timers_init(&ts, &vc.clock);
	ims_timer_t *t = calloc((size_t)n, sizeof(*t));
	srand(1);
	for (int i = 0; i < n; i++) {
		ims_timer_init(&t[i], noop_cb, NULL);
		ims_timer_start(&ts, &t[i], (uint64_t)(rand() % 64000));
	}
	int ops = 2000000;
	double t0 = cpu_now();
	for (int k = 0; k < ops; k++) {
		ims_timer_t *x = &t[k % n];
		ims_timer_stop(&ts, x);
		ims_timer_start(&ts, x, (uint64_t)(k % 64000));
	}
	double dt = cpu_now() - t0;
	printf("timer stop+start, %d live: %.0f ns/op\n", n, dt / ops * 1e9);
	ims_vclock_set(&vc, 100000);
	t0 = cpu_now();
	int fired = ims_timers_run(&ts);
	dt = cpu_now() - t0;
	printf("timer fire %d: %.0f ns/timer\n", fired, dt / fired * 1e9);
	ims_timers_fini(&ts);
	free(t);
}

static int count_send(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)to;
	(void)buf;
	(void)len;
	(*(long *)ud)++;
	return 0;
}

static int nterm;
static void tsx_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	(void)t;
	(void)ud;
	if (ev->type == SIP_TSX_EV_TERMINATED)
		nterm++;
}

static void bench_tsx(int n)
{
	ims_vclock_t vc;
	ims_vclock_init(&vc, 0);
	ims_timers_t ts;
	ims_timers_init(&ts, &vc.clock);
	long sent = 0;
	sip_tsx_cfg_t cfg = { .timers = &ts, .send = count_send, .send_ud = &sent };
	sip_tsx_layer_t *l;
	sip_tsx_layer_create(&cfg, &l);
	ims_arena_t *a = ims_arena_create(1 << 16);
	char (*branches)[64] = malloc((size_t)n * 64);
	double t0 = cpu_now();
	for (int i = 0; i < n; i++) {
		ims_arena_reset(a);
		char buf[600];
		ims_str_t br = sip_tsx_branch_new(l, a, IMS_STR_NULL);
		snprintf(branches[i], 64, "%.*s", IMS_STR_FMT(br));
		int len = snprintf(buf, sizeof(buf),
				   "OPTIONS sip:bob@10.0.0.2 SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=%s\r\n"
				   "Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>\r\n"
				   "Call-ID: c%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
				   branches[i], i);
		sip_msg_t *m;
		sip_msg_parse(buf, (size_t)len, a, &m, NULL);
		sip_tp_peer_t to = { .proto = SIP_TP_UDP, .listener = 0 };
		sip_tp_addr_set(&to.addr, IMS_STR("10.0.0.2"), 5060);
		sip_tsx_uac_create(l, m, &to, tsx_cb, NULL, NULL);
	}
	double dt_create = cpu_now() - t0;
	printf("client transactions created: %u live, %.2f us each (%ld sends)\n",
	       sip_tsx_layer_count(l), dt_create / n * 1e6, sent);
	t0 = cpu_now();
	sip_tp_peer_t src = { .proto = SIP_TP_UDP, .listener = 0 };
	sip_tp_addr_set(&src.addr, IMS_STR("10.0.0.2"), 5060);
	for (int i = 0; i < n; i++) {
		ims_arena_t *ra = ims_arena_create(2048);
		char buf[600];
		int len = snprintf(buf, sizeof(buf),
				   "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=%s\r\n"
				   "From: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>;tag=2\r\nCall-ID: c%d\r\n"
				   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
				   branches[i], i);
		char *copy = ims_arena_memdup(ra, buf, (size_t)len);
		sip_msg_t *m;
		sip_msg_parse(copy, (size_t)len, ra, &m, NULL);
		sip_tsx_layer_recv(l, m, &src, &ra);
	}
	double dt_match = cpu_now() - t0;
	printf("200 matched to a live transaction: %.2f us each\n", dt_match / n * 1e6);
	ims_vclock_advance(&vc, 6000); /* timer K */
	t0 = cpu_now();
	ims_timers_run(&ts);
	double dt_end = cpu_now() - t0;
	printf("transactions ended by timer K: %d, %.2f us each\n", nterm, dt_end / n * 1e6);
	sip_tsx_layer_destroy(l);
	ims_timers_fini(&ts);
	ims_arena_destroy(a);
	free(branches);
}

static char last[4096];
static size_t last_len;
static int proxy_send(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
	(void)to;
	if (len < sizeof(last)) {
		memcpy(last, buf, len);
		last_len = len;
	}
	return 0;
}

static void on_request(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ud;
	sip_proxy_forward(ctx, NULL, NULL);
}

static void bench_proxy(int n)
{
	ims_vclock_t vc;
	ims_vclock_init(&vc, 0);
	sip_tp_listen_t ls;
	sip_tp_listen_parse("10.0.0.1:5060:udp", &ls);
	sip_proxy_cfg_t cfg = { .tp = { .listen = &ls, .nlisten = 1 }, .test_send = proxy_send,
				.test_clock = &vc.clock };
	sip_proxy_hooks_t hooks = { .on_request = on_request };
	sip_proxy_t *p;
	char err[128];
	if (sip_proxy_create(&cfg, &hooks, &p, err, sizeof(err)) != 0)
		return;
	sip_tp_peer_t up = { .proto = SIP_TP_UDP, .listener = 0 };
	sip_tp_addr_set(&up.addr, IMS_STR("192.0.2.10"), 5070);
	sip_tp_peer_t down = { .proto = SIP_TP_UDP, .listener = 0 };
	sip_tp_addr_set(&down.addr, IMS_STR("10.0.0.2"), 5060);
	double t0 = cpu_now();
	for (int i = 0; i < n; i++) {
		char buf[800];
		int len = snprintf(buf, sizeof(buf),
				   "MESSAGE sip:bob@10.0.0.2 SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP 192.0.2.10:5070;rport;branch=z9hG4bKb%d\r\n"
				   "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a%d\r\n"
				   "To: <sip:bob@example.com>\r\nCall-ID: m%d@192.0.2.10\r\n"
				   "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
				   "\r\nhello",
				   i, i, i);
		sip_proxy_test_inject(p, buf, (size_t)len, &up);
		/* the forwarded request is in `last`: answer it */
		ims_arena_t *a = ims_arena_create(4096);
		sip_msg_t *fw, *rsp;
		if (sip_msg_parse(last, last_len, a, &fw, NULL) == 0 &&
		    sip_msg_new_response(a, fw, 200, IMS_STR_NULL, IMS_STR("t"), &rsp) == 0) {
			ims_str_t out;
			sip_msg_print_arena(rsp, a, &out);
			sip_proxy_test_inject(p, out.s, out.len, &down);
		}
		ims_arena_destroy(a);
		if (i % 1000 == 999) {
			ims_vclock_advance(&vc, 1000);
			sip_proxy_test_run(p);
		}
	}
	double dt = cpu_now() - t0;
	printf("proxy cycle (MESSAGE in, forwarded, 200 back, 200 upstream; incl. the test's "
	       "own response building): %.2f us, %.0f cycles/s on one core\n",
	       dt / n * 1e6, n / dt);
	ims_vclock_advance(&vc, 70000);
	sip_proxy_test_run(p);
	sip_proxy_destroy(p);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	if (n <= 0)
		n = 100000;
	bench_timers(n);
	bench_tsx(n);
	bench_proxy(n / 2);
	return 0;
}
