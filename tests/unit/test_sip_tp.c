/* Transports on real loopback sockets (ports 15100-15119): UDP and TCP
 * round trips, stream framing, a garbage connection closed without harm to
 * others, connection reuse, connect failures, post() across threads; and
 * the §18.2 helpers (received/rport, response address) on parsed
 * messages. Every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/ims_err.h"
#include "sip/tp/sip_tp.h"

#define MAXRX 32

typedef struct rx_rec {
	char buf[2048];
	size_t len;
	sip_tp_peer_t peer;
	int worker;
} rx_rec_t;

static struct {
	pthread_mutex_t mu;
	rx_rec_t rx[MAXRX];
	int nrx;
	int nerr;
	int last_err;
	int post_worker;
	int posted;
	int echo;
	sip_tp_t *tp;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void on_rx(void *ud, sip_tp_rx_t *rx)
{
	(void)ud;
	pthread_mutex_lock(&S.mu);
	if (S.nrx < MAXRX) {
		rx_rec_t *r = &S.rx[S.nrx++];
		r->len = rx->len < sizeof(r->buf) - 1 ? rx->len : sizeof(r->buf) - 1;
		memcpy(r->buf, rx->buf, r->len);
		r->buf[r->len] = '\0';
		r->peer = rx->peer;
		r->worker = rx->worker;
	}
	pthread_mutex_unlock(&S.mu);
	if (S.echo && rx->len >= 4 && memcmp(rx->buf, "PING", 4) == 0) {
		const char pong[] = "PONG / SIP/2.0\r\nContent-Length: 0\r\n\r\n";
		sip_tp_send(S.tp, &rx->peer, pong, sizeof(pong) - 1);
	}
}

static void on_err(void *ud, int worker, const sip_tp_peer_t *peer, int err)
{
	(void)ud;
	(void)worker;
	(void)peer;
	pthread_mutex_lock(&S.mu);
	S.nerr++;
	S.last_err = err;
	pthread_mutex_unlock(&S.mu);
}

static int wait_for(int *counter, int n)
{
	for (int i = 0; i < 200; i++) { /* at most 2 s */
		pthread_mutex_lock(&S.mu);
		int v = *counter;
		pthread_mutex_unlock(&S.mu);
		if (v >= n)
			return 1;
		usleep(10000);
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	pthread_mutex_lock(&S.mu);
	S.nrx = S.nerr = S.posted = S.echo = 0;
	S.post_worker = -1;
	pthread_mutex_unlock(&S.mu);
	sip_tp_listen_t ls[2];
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15100:udp", &ls[0]), 0);
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15100:tcp", &ls[1]), 0);
	sip_tp_cfg_t cfg = { .listen = ls, .nlisten = 2, .workers = 2, .max_msg = 4096,
			     .tcp_connect_ms = 500 };
	char err[128];
	assert_int_equal(sip_tp_create(&cfg, on_rx, on_err, NULL, &S.tp, err, sizeof(err)), 0);
	assert_int_equal(sip_tp_start(S.tp), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_tp_stop(S.tp);
	sip_tp_destroy(S.tp);
	S.tp = NULL;
	return 0;
}

static struct sockaddr_in lo(uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int tcp_client(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo(port);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static ssize_t read_timeout(int fd, char *buf, size_t cap)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 2000) <= 0)
		return -2;
	return read(fd, buf, cap);
}

static const char msg1[] = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 5\r\n\r\nhello";
static const char msg2[] = "MESSAGE sip:b SIP/2.0\r\nl: 3\r\n\r\nabc";

static void test_tp_udp_round_trip(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = lo(15110), to = lo(15100);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	sendto(fd, msg1, sizeof(msg1) - 1, 0, (struct sockaddr *)&to, sizeof(to));
	assert_true(wait_for(&S.nrx, 1));
	rx_rec_t *r = &S.rx[0];
	assert_int_equal(r->peer.proto, SIP_TP_UDP);
	assert_int_equal(sip_tp_addr_port(&r->peer.addr), 15110);
	assert_int_equal(r->peer.listener, 0);
	assert_string_equal(r->buf, msg1);
	/* answer from the listener's socket */
	assert_int_equal(sip_tp_send(S.tp, &r->peer, msg2, sizeof(msg2) - 1), 0);
	char buf[256];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct pollfd p = { fd, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 2000), 1);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	assert_int_equal(n, (ssize_t)sizeof(msg2) - 1);
	assert_int_equal(ntohs(from.sin_port), 15100);
	close(fd);
}

static void test_tp_tcp_framing_and_reply_on_same_connection(void **state)
{
	(void)state;
	int fd = tcp_client(15100);
	/* two messages and a keep-alive in one write, a third split in two */
	char both[512];
	int n = snprintf(both, sizeof(both), "%s\r\n\r\n%s", msg1, msg2);
	assert_int_equal(write(fd, both, (size_t)n), n);
	assert_int_equal(write(fd, msg1, 10), 10);
	assert_true(wait_for(&S.nrx, 2));
	usleep(50000);
	assert_int_equal(write(fd, msg1 + 10, sizeof(msg1) - 11), (ssize_t)sizeof(msg1) - 11);
	assert_true(wait_for(&S.nrx, 3));
	assert_string_equal(S.rx[0].buf, msg1);
	assert_string_equal(S.rx[1].buf, msg2);
	assert_string_equal(S.rx[2].buf, msg1);
	assert_int_equal(S.rx[0].peer.proto, SIP_TP_TCP);
	assert_true(S.rx[0].peer.conn_id != 0);
	assert_true(S.rx[0].peer.conn_id == S.rx[2].peer.conn_id);
	/* a reply by connection id (from this, a non-worker, thread) */
	sip_tp_peer_t back = S.rx[0].peer;
	assert_int_equal(sip_tp_send(S.tp, &back, msg2, sizeof(msg2) - 1), 0);
	char buf[256];
	assert_int_equal(read_timeout(fd, buf, sizeof(buf)), (ssize_t)sizeof(msg2) - 1);
	assert_memory_equal(buf, msg2, sizeof(msg2) - 1);
	close(fd);
}

static void test_tp_tcp_garbage_closes_only_that_connection(void **state)
{
	(void)state;
	S.echo = 1;
	int good = tcp_client(15100), bad = tcp_client(15100);
	const char garbage[] = "INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/TCP x\r\n\r\n";
	assert_int_equal(write(bad, garbage, sizeof(garbage) - 1), (ssize_t)sizeof(garbage) - 1);
	char buf[256];
	assert_int_equal(read_timeout(bad, buf, sizeof(buf)), 0); /* closed by the proxy */
	const char ping[] = "PING sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(write(good, ping, sizeof(ping) - 1), (ssize_t)sizeof(ping) - 1);
	ssize_t n = read_timeout(good, buf, sizeof(buf));
	assert_true(n > 4);
	assert_memory_equal(buf, "PONG", 4);
	sip_tp_stats_t st;
	sip_tp_get_stats(S.tp, &st);
	assert_int_equal(st.rx_garbage, 1);
	close(good);
	close(bad);
}

static void test_tp_tcp_oversize_message_closes_connection(void **state)
{
	(void)state;
	int fd = tcp_client(15100);
	char big[6000];
	int n = snprintf(big, sizeof(big), "MESSAGE sip:a SIP/2.0\r\nContent-Length: 5000\r\n\r\n");
	memset(big + n, 'x', sizeof(big) - (size_t)n);
	(void)!write(fd, big, sizeof(big));
	char buf[64];
	ssize_t r = read_timeout(fd, buf, sizeof(buf));
	assert_true(r == 0 || (r < 0 && r != -2)); /* closed (EOF or reset) */
	assert_int_equal(S.nrx, 0);
	close(fd);
}

static void test_tp_outgoing_tcp_is_reused(void **state)
{
	(void)state;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = lo(15111);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	sip_tp_peer_t to;
	memset(&to, 0, sizeof(to));
	to.proto = SIP_TP_TCP;
	to.listener = -1;
	sip_tp_addr_set(&to.addr, IMS_STR("127.0.0.1"), 15111);
	assert_int_equal(sip_tp_send(S.tp, &to, msg1, sizeof(msg1) - 1), 0);
	struct pollfd p = { lfd, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 2000), 1);
	int c = accept(lfd, NULL, NULL);
	char buf[512];
	assert_int_equal(read_timeout(c, buf, sizeof(buf)), (ssize_t)sizeof(msg1) - 1);
	/* the peer answers on that connection: delivered with its id */
	assert_int_equal(write(c, msg2, sizeof(msg2) - 1), (ssize_t)sizeof(msg2) - 1);
	assert_true(wait_for(&S.nrx, 1));
	assert_true(S.rx[0].peer.conn_id != 0);
	/* a second request to the same address uses the same connection */
	assert_int_equal(sip_tp_send(S.tp, &to, msg2, sizeof(msg2) - 1), 0);
	assert_int_equal(read_timeout(c, buf, sizeof(buf)), (ssize_t)sizeof(msg2) - 1);
	assert_int_equal(poll(&p, 1, 200), 0); /* no second connection */
	sip_tp_stats_t st;
	sip_tp_get_stats(S.tp, &st);
	assert_int_equal(st.conns_open, 1);
	close(c);
	close(lfd);
}

static void test_tp_connect_refused_is_reported(void **state)
{
	(void)state;
	sip_tp_peer_t to;
	memset(&to, 0, sizeof(to));
	to.proto = SIP_TP_TCP;
	to.listener = -1;
	sip_tp_addr_set(&to.addr, IMS_STR("127.0.0.1"), 15119); /* nobody listens */
	int rc = sip_tp_send(S.tp, &to, msg1, sizeof(msg1) - 1);
	if (rc == 0) {
		assert_true(wait_for(&S.nerr, 1));
		assert_int_equal(S.last_err, IMS_EUNREACH);
	} else {
		assert_int_equal(rc, IMS_EUNREACH);
	}
}

static void test_tp_udp_icmp_unreachable_is_reported(void **state)
{
	(void)state;
	sip_tp_peer_t to;
	memset(&to, 0, sizeof(to));
	to.proto = SIP_TP_UDP;
	to.listener = -1;
	sip_tp_addr_set(&to.addr, IMS_STR("127.0.0.1"), 15118); /* nobody listens */
	assert_int_equal(sip_tp_send(S.tp, &to, msg1, sizeof(msg1) - 1), 0);
	assert_true(wait_for(&S.nerr, 1));
	assert_int_equal(S.last_err, IMS_EUNREACH);
}

static void on_post(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&S.mu);
	S.post_worker = sip_tp_current_worker();
	S.posted++;
	pthread_mutex_unlock(&S.mu);
}

static void test_tp_post_runs_on_the_given_worker(void **state)
{
	(void)state;
	assert_int_equal(sip_tp_current_worker(), -1);
	assert_int_equal(sip_tp_post(S.tp, 1, on_post, NULL), 0);
	assert_true(wait_for(&S.posted, 1));
	assert_int_equal(S.post_worker, 1);
	assert_int_equal(sip_tp_post(S.tp, 0, on_post, NULL), 0);
	assert_true(wait_for(&S.posted, 2));
	assert_int_equal(S.post_worker, 0);
	assert_int_equal(sip_tp_post(S.tp, 2, on_post, NULL), IMS_EINVAL);
}

static void test_tp_ipv6_udp_and_tcp(void **state)
{
	(void)state;
	sip_tp_listen_t ls[2];
	assert_int_equal(sip_tp_listen_parse("[::1]:15102:udp", &ls[0]), 0);
	assert_int_equal(sip_tp_listen_parse("[::1]:15102:tcp", &ls[1]), 0);
	sip_tp_cfg_t cfg = { .listen = ls, .nlisten = 2, .workers = 1 };
	sip_tp_t *tp6;
	char err[128];
	if (sip_tp_create(&cfg, on_rx, on_err, NULL, &tp6, err, sizeof(err)) != 0)
		skip(); /* no IPv6 loopback here */
	assert_int_equal(sip_tp_start(tp6), 0);
	assert_int_equal(sip_tp_listener_find(tp6, SIP_TP_UDP, NULL), 0);
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 to;
	memset(&to, 0, sizeof(to));
	to.sin6_family = AF_INET6;
	to.sin6_port = htons(15102);
	to.sin6_addr = in6addr_loopback;
	sendto(fd, msg1, sizeof(msg1) - 1, 0, (struct sockaddr *)&to, sizeof(to));
	assert_true(wait_for(&S.nrx, 1));
	assert_true(sip_tp_addr_is_v6(&S.rx[0].peer.addr));
	char a[80];
	assert_non_null(strstr(sip_tp_addr_str(&S.rx[0].peer.addr, a, sizeof(a)), "[::1]:"));
	assert_int_equal(sip_tp_send(tp6, &S.rx[0].peer, msg2, sizeof(msg2) - 1), 0);
	char buf[256];
	assert_int_equal(read_timeout(fd, buf, sizeof(buf)), (ssize_t)sizeof(msg2) - 1);
	close(fd);
	int t = socket(AF_INET6, SOCK_STREAM, 0);
	assert_int_equal(connect(t, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(write(t, msg2, sizeof(msg2) - 1), (ssize_t)sizeof(msg2) - 1);
	assert_true(wait_for(&S.nrx, 2));
	assert_int_equal(S.rx[1].peer.proto, SIP_TP_TCP);
	assert_string_equal(S.rx[1].buf, msg2);
	close(t);
	sip_tp_stop(tp6);
	sip_tp_destroy(tp6);
}

static void test_tp_tcp_connection_bound_and_idle_timeout(void **state)
{
	(void)state;
	sip_tp_listen_t ls;
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15103:tcp", &ls), 0);
	sip_tp_cfg_t cfg = { .listen = &ls, .nlisten = 1, .workers = 1, .max_conns = 1,
			     .tcp_idle_s = 1 };
	sip_tp_t *tp;
	char err[128];
	assert_int_equal(sip_tp_create(&cfg, on_rx, on_err, NULL, &tp, err, sizeof(err)), 0);
	assert_int_equal(sip_tp_start(tp), 0);
	int a = tcp_client(15103);
	assert_int_equal(write(a, msg1, sizeof(msg1) - 1), (ssize_t)sizeof(msg1) - 1);
	assert_true(wait_for(&S.nrx, 1));
	/* the bound is reached: a second connection is closed at once */
	int b = tcp_client(15103);
	char buf[64];
	assert_int_equal(read_timeout(b, buf, sizeof(buf)), 0);
	/* the first one is closed after 1 s without traffic */
	struct pollfd p = { a, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 3000), 1);
	assert_int_equal(read(a, buf, sizeof(buf)), 0);
	sip_tp_stats_t st;
	sip_tp_get_stats(tp, &st);
	assert_int_equal(st.conns_open, 0);
	assert_int_equal(st.conns_closed, 1);
	close(a);
	close(b);
	sip_tp_stop(tp);
	sip_tp_destroy(tp);
}

static void test_tp_port_in_use_is_refused(void **state)
{
	(void)state;
	/* the fixture's transport holds 127.0.0.1:15100 udp and tcp */
	sip_tp_listen_t ls;
	sip_tp_t *tp2;
	char err[128];
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15100:udp", &ls), 0);
	sip_tp_cfg_t cfg = { .listen = &ls, .nlisten = 1, .workers = 2 };
	assert_int_equal(sip_tp_create(&cfg, on_rx, on_err, NULL, &tp2, err, sizeof(err)), IMS_EIO);
	assert_non_null(strstr(err, "127.0.0.1:15100"));
	assert_int_equal(sip_tp_listen_parse("127.0.0.1:15100:tcp", &ls), 0);
	assert_int_equal(sip_tp_create(&cfg, on_rx, on_err, NULL, &tp2, err, sizeof(err)), IMS_EIO);
	assert_non_null(strstr(err, "TCP 127.0.0.1:15100"));
}

/* ---- pure helpers -------------------------------------------------------- */

static void test_tp_listen_parse_table(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		int rc;
		const char *host;
		uint16_t port;
		sip_tp_proto_t proto;
	} cases[] = {
		{ "127.0.0.1:5060:udp", 0, "127.0.0.1", 5060, SIP_TP_UDP },
		{ "[::1]:5061:TCP", 0, "::1", 5061, SIP_TP_TCP },
		{ "0.0.0.0:0:tcp", 0, "0.0.0.0", 0, SIP_TP_TCP },
		{ "127.0.0.1:5060", IMS_ECONFIG, NULL, 0, 0 },
		{ "127.0.0.1:99999:udp", IMS_ECONFIG, NULL, 0, 0 },
		{ "example.com:5060:udp", IMS_ECONFIG, NULL, 0, 0 },
		{ "127.0.0.1:5060:sctp", IMS_ECONFIG, NULL, 0, 0 },
		{ "[::1:5060:udp", IMS_ECONFIG, NULL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sip_tp_listen_t l;
		assert_int_equal(sip_tp_listen_parse(cases[i].spec, &l), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_string_equal(l.host, cases[i].host);
			assert_int_equal(l.port, cases[i].port);
			assert_int_equal(l.proto, cases[i].proto);
		}
	}
}

static sip_msg_t *parse_req(ims_arena_t *a, const char *via)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "OPTIONS sip:b@example.com SIP/2.0\r\nVia: %s\r\nVia: SIP/2.0/UDP 10.9.9.9\r\n"
			 "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n", via);
	char *copy = ims_arena_memdup(a, buf, (size_t)n);
	sip_msg_t *m;
	assert_int_equal(sip_msg_parse(copy, (size_t)n, a, &m, NULL), 0);
	return m;
}

static void test_tp_via_received_and_rport(void **state)
{
	(void)state;
	sip_tp_peer_t src;
	memset(&src, 0, sizeof(src));
	src.proto = SIP_TP_UDP;
	sip_tp_addr_set(&src.addr, IMS_STR("192.0.2.7"), 40000);
	ims_arena_t *a = ims_arena_create(4096);

	/* same address, no rport: untouched (§18.2.1) */
	sip_msg_t *m = parse_req(a, "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1");
	assert_int_equal(sip_tp_via_received(m, &src), 0);
	assert_int_equal(m->via1.received.len, 0);

	/* a name in sent-by: received added, second Via kept */
	m = parse_req(a, "SIP/2.0/UDP ue.example.com;branch=z9hG4bK2");
	assert_int_equal(sip_tp_via_received(m, &src), 0);
	assert_true(ims_str_eq_c(m->via1.received, "192.0.2.7"));
	assert_true(ims_str_eq_c(m->via1.branch, "z9hG4bK2"));
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	int nvia = 0;
	while (sip_msg_next_value(m, SIP_HDR_VIA, &it, &v) == 1)
		nvia++;
	assert_int_equal(nvia, 2);

	/* RFC 3581: rport filled and received added even when equal */
	m = parse_req(a, "SIP/2.0/UDP 192.0.2.7:5060;rport;branch=z9hG4bK3");
	assert_int_equal(sip_tp_via_received(m, &src), 0);
	assert_true(ims_str_eq_c(m->via1.rport, "40000"));
	assert_true(ims_str_eq_c(m->via1.received, "192.0.2.7"));
	sip_tp_peer_t to;
	assert_int_equal(sip_tp_response_peer(&m->via1, &src, &to), 0);
	assert_int_equal(sip_tp_addr_port(&to.addr), 40000);

	/* no rport: the response goes to received : sent-by port */
	m = parse_req(a, "SIP/2.0/UDP ue.example.com:5070;branch=z9hG4bK4");
	assert_int_equal(sip_tp_via_received(m, &src), 0);
	assert_int_equal(sip_tp_response_peer(&m->via1, &src, &to), 0);
	char h[64];
	assert_string_equal(sip_tp_addr_host(&to.addr, h, sizeof(h)), "192.0.2.7");
	assert_int_equal(sip_tp_addr_port(&to.addr), 5070);

	/* TCP: the same connection */
	src.proto = SIP_TP_TCP;
	src.conn_id = 77;
	assert_int_equal(sip_tp_response_peer(&m->via1, &src, &to), 0);
	assert_int_equal(to.conn_id, 77);
	ims_arena_destroy(a);
}

static void test_tp_ipv6_addresses(void **state)
{
	(void)state;
	sip_tp_addr_t a, b;
	assert_int_equal(sip_tp_addr_set(&a, IMS_STR("[2001:db8::1]"), 5060), 0);
	assert_int_equal(sip_tp_addr_set(&b, IMS_STR("2001:db8::1"), 5060), 0);
	assert_true(sip_tp_addr_equal(&a, &b));
	assert_true(sip_tp_addr_is_v6(&a));
	char buf[80];
	assert_string_equal(sip_tp_addr_str(&a, buf, sizeof(buf)), "[2001:db8::1]:5060");
	assert_int_equal(sip_tp_addr_set(&a, IMS_STR("host.example"), 1), IMS_EINVAL);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_tp_udp_round_trip),
		T_(test_tp_tcp_framing_and_reply_on_same_connection),
		T_(test_tp_tcp_garbage_closes_only_that_connection),
		T_(test_tp_tcp_oversize_message_closes_connection),
		T_(test_tp_outgoing_tcp_is_reused),
		T_(test_tp_connect_refused_is_reported),
		T_(test_tp_udp_icmp_unreachable_is_reported),
		T_(test_tp_post_runs_on_the_given_worker),
		T_(test_tp_ipv6_udp_and_tcp),
		T_(test_tp_port_in_use_is_refused),
		T_(test_tp_tcp_connection_bound_and_idle_timeout),
		cmocka_unit_test(test_tp_listen_parse_table),
		cmocka_unit_test(test_tp_via_received_and_rport),
		cmocka_unit_test(test_tp_ipv6_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
