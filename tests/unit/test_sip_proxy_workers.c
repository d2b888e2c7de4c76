/* The proxy core on real loopback sockets with two workers (ports
 * 15120-15159): twenty UACs (distinct source ports, so the kernel spreads
 * their requests over both workers' SO_REUSEPORT sockets) send through the
 * proxy to one UAS socket, whose answers all arrive on one worker. Every
 * response must still find its transaction on the worker that owns its
 * branch (handoff) and reach its UAC. One UAC socket alone (ports 15123,
 * 15124, 15151) has its transactions spread over both workers by branch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ims_err.h"
#include "sip/proxy/sip_proxy.h"

#define NUAC 20

static void on_request(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ud;
	sip_proxy_forward(ctx, NULL, NULL);
}

static int udp_bound(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static ssize_t recv_timeout(int fd, char *buf, size_t cap, struct sockaddr_in *from)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 3000) <= 0)
		return -1;
	socklen_t fl = sizeof(*from);
	return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &fl);
}

static void test_proxy_two_workers_responses_find_their_branch(void **state)
{
	(void)state;
	sip_tp_listen_t ls;
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15120:udp", &ls), 0);
	sip_proxy_cfg_t cfg = { .tp = { .listen = &ls, .nlisten = 1, .workers = 2 } };
	sip_proxy_hooks_t hooks = { .on_request = on_request };
	sip_proxy_t *p;
	char err[128];
	assert_int_equal(sip_proxy_create(&cfg, &hooks, &p, err, sizeof(err)), 0);
	assert_int_equal(sip_proxy_start(p), 0);

	int uas = udp_bound(15121);
	int uac[NUAC];
	struct sockaddr_in px;
	memset(&px, 0, sizeof(px));
	px.sin_family = AF_INET;
	px.sin_port = htons(15120);
	px.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < NUAC; i++) {
		uac[i] = udp_bound((uint16_t)(15130 + i));
		char m[1024];
		int n = snprintf(m, sizeof(m),
				 "OPTIONS sip:uas@127.0.0.1:15121 SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bKw%d\r\n"
				 "Max-Forwards: 70\r\nFrom: <sip:u%d@example.com>;tag=t%d\r\n"
				 "To: <sip:uas@example.com>\r\nCall-ID: workers-%d\r\n"
				 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
				 15130 + i, i, i, i, i);
		assert_int_equal(sendto(uac[i], m, (size_t)n, 0, (struct sockaddr *)&px, sizeof(px)),
				 n);
	}
	/* the UAS answers every forwarded request from its one socket */
	for (int i = 0; i < NUAC; i++) {
		char buf[4096];
		struct sockaddr_in from;
		ssize_t n = recv_timeout(uas, buf, sizeof(buf) - 1, &from);
		assert_true(n > 0);
		buf[n] = '\0';
		ims_arena_t *a = ims_arena_create(8192);
		sip_msg_t *req, *rsp;
		assert_int_equal(sip_msg_parse(buf, (size_t)n, a, &req, NULL), 0);
		assert_int_equal(sip_msg_new_response(a, req, 200, IMS_STR_NULL, IMS_STR("uas"), &rsp),
				 0);
		ims_str_t out;
		assert_int_equal(sip_msg_print_arena(rsp, a, &out), 0);
		sendto(uas, out.s, out.len, 0, (struct sockaddr *)&from, sizeof(from));
		ims_arena_destroy(a);
	}
	/* every UAC gets its 200 */
	for (int i = 0; i < NUAC; i++) {
		char buf[4096];
		struct sockaddr_in from;
		ssize_t n = recv_timeout(uac[i], buf, sizeof(buf) - 1, &from);
		assert_true(n > 12);
		assert_memory_equal(buf, "SIP/2.0 200 ", 12);
		close(uac[i]);
	}
	close(uas);
	sip_proxy_stats_t st;
	/* the counters are bumped right after the send: let them settle */
	for (int k = 0; k < 100; k++) {
		sip_proxy_get_stats(p, &st);
		if (st.tx_responses >= NUAC)
			break;
		usleep(10000);
	}
	/* with twenty source ports on two workers, some responses crossed */
	assert_true(st.handoffs > 0);
	assert_int_equal(st.tx_responses, NUAC);
	sip_proxy_stop(p);
	sip_proxy_destroy(p);
}

/* ---- one peer, both workers ------------------------------------------- */

#define NSPREAD 40
static int per_worker[2];

static void on_request_count(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ud;
	int w = sip_proxy_ctx_worker(ctx);
	if (w >= 0 && w < 2)
		__atomic_fetch_add(&per_worker[w], 1, __ATOMIC_RELAXED);
	sip_proxy_forward(ctx, NULL, NULL);
}

/* One UAC socket (one 4-tuple, so the kernel gives all its datagrams to
 * one worker): its INVITEs are spread over both workers by branch, and
 * the CANCEL of each (same branch) still finds its INVITE (200, not 481). */
static void test_proxy_one_peer_spread_by_branch(void **state)
{
	(void)state;
	sip_tp_listen_t ls;
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15123:udp", &ls), 0);
	sip_proxy_cfg_t cfg = { .tp = { .listen = &ls, .nlisten = 1, .workers = 2 } };
	sip_proxy_hooks_t hooks = { .on_request = on_request_count };
	sip_proxy_t *p;
	char err[128];
	assert_int_equal(sip_proxy_create(&cfg, &hooks, &p, err, sizeof(err)), 0);
	assert_int_equal(sip_proxy_start(p), 0);
	int uas = udp_bound(15124), uac = udp_bound(15151);
	struct sockaddr_in px;
	memset(&px, 0, sizeof(px));
	px.sin_family = AF_INET;
	px.sin_port = htons(15123);
	px.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < NSPREAD; i++) {
			const char *meth = k ? "CANCEL" : "INVITE";
			char m[1024];
			int n = snprintf(m, sizeof(m),
					 "%s sip:uas@127.0.0.1:15124 SIP/2.0\r\n"
					 "Via: SIP/2.0/UDP 127.0.0.1:15151;branch=z9hG4bKspread%d\r\n"
					 "Max-Forwards: 70\r\nFrom: <sip:u@example.com>;tag=t%d\r\n"
					 "To: <sip:uas@example.com>\r\nCall-ID: spread-%d\r\n"
					 "CSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
					 meth, i, i, i, meth);
			assert_int_equal(sendto(uac, m, (size_t)n, 0, (struct sockaddr *)&px,
						sizeof(px)),
					 n);
			if (!k) { /* the INVITE reaches the UAS before its CANCEL is sent */
				char buf[4096];
				struct sockaddr_in from;
				assert_true(recv_timeout(uas, buf, sizeof(buf), &from) > 0);
			}
		}
	int ok = 0, other = 0;
	for (int got = 0; got < NSPREAD;) {
		char buf[4096];
		struct sockaddr_in from;
		ssize_t n = recv_timeout(uac, buf, sizeof(buf) - 1, &from);
		assert_true(n > 0);
		buf[n] = '\0';
		if (!strstr(buf, "CANCEL\r\n"))
			continue; /* 100 Trying for the INVITEs */
		got++;
		if (strncmp(buf, "SIP/2.0 200 ", 12) == 0)
			ok++;
		else
			other++;
	}
	assert_int_equal(ok, NSPREAD);
	assert_int_equal(other, 0);
	assert_int_equal(per_worker[0] + per_worker[1], NSPREAD);
	assert_true(per_worker[0] > 0);
	assert_true(per_worker[1] > 0);
	close(uac);
	close(uas);
	sip_proxy_stop(p);
	sip_proxy_destroy(p);
}

static sip_proxy_ctx_t *volatile held;
static int resumed;

static void on_request_suspend(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ud;
	sip_proxy_suspend(ctx);
	__atomic_store_n(&held, ctx, __ATOMIC_RELEASE);
}

static void late_resume(sip_proxy_ctx_t *ctx, void *arg)
{
	(void)arg;
	resumed++;
	sip_proxy_reply(ctx, 200, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
}

/* A resume posted after the workers stopped (a late Diameter answer) still
 * runs at destroy, before the contexts are freed. */
static void test_proxy_resume_after_stop_runs_at_destroy(void **state)
{
	(void)state;
	sip_tp_listen_t ls;
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15122:udp", &ls), 0);
	sip_proxy_cfg_t cfg = { .tp = { .listen = &ls, .nlisten = 1, .workers = 1 } };
	sip_proxy_hooks_t hooks = { .on_request = on_request_suspend };
	sip_proxy_t *p;
	char err[128];
	assert_int_equal(sip_proxy_create(&cfg, &hooks, &p, err, sizeof(err)), 0);
	assert_int_equal(sip_proxy_start(p), 0);
	int uac = udp_bound(15150);
	struct sockaddr_in px;
	memset(&px, 0, sizeof(px));
	px.sin_family = AF_INET;
	px.sin_port = htons(15122);
	px.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	const char m[] = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:15150;branch=z9hG4bKlate\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\n"
			 "To: <sip:x@example.com>\r\nCall-ID: late\r\nCSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n";
	sendto(uac, m, sizeof(m) - 1, 0, (struct sockaddr *)&px, sizeof(px));
	for (int i = 0; i < 300 && !__atomic_load_n(&held, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	assert_non_null(held);
	sip_proxy_stop(p);
	assert_int_equal(sip_proxy_resume(held, late_resume, NULL), 0);
	assert_int_equal(resumed, 0);
	sip_proxy_destroy(p);
	assert_int_equal(resumed, 1);
	close(uac);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_two_workers_responses_find_their_branch),
		cmocka_unit_test(test_proxy_resume_after_stop_runs_at_destroy),
		cmocka_unit_test(test_proxy_one_peer_spread_by_branch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
