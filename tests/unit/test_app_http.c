/* HTTP server: /healthz (with the readiness hook), /metrics, a custom
 * handler with query, headers and body, body limits, bind errors.
 * A plain socket client talks to 127.0.0.1 on ports 19100-19109. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "base/ims_err.h"
#include "http/ims_http.h"
#include "metrics/ims_metrics.h"

#define PORT_A 19100
#define PORT_B 19101

typedef struct {
	int status;
	char head[2048];
	char body[8192];
	size_t body_len;
} reply_t;

/* Sends raw bytes to 127.0.0.1:port and reads the reply until EOF. */
static int http_raw(uint16_t port, const char *req, size_t len, reply_t *r)
{
	memset(r, 0, sizeof(*r));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server may answer and close early (413) */
		off += (size_t)w;
	}
	char buf[16384];
	size_t got = 0;
	for (;;) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[got] = '\0';
	char *sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	size_t hl = (size_t)(sep - buf);
	if (hl >= sizeof(r->head))
		hl = sizeof(r->head) - 1;
	memcpy(r->head, buf, hl);
	r->body_len = got - (size_t)(sep + 4 - buf);
	if (r->body_len >= sizeof(r->body))
		r->body_len = sizeof(r->body) - 1;
	memcpy(r->body, sep + 4, r->body_len);
	return 0;
}

static int http_get(uint16_t port, const char *path, reply_t *r)
{
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	return http_raw(port, req, (size_t)n, r);
}

static int ready_flag;

static int ready(void *ud, char *why, size_t whylen)
{
	(void)ud;
	if (!ready_flag)
		snprintf(why, whylen, "database not open");
	return ready_flag;
}

/* Echoes what it saw as JSON; /api/missing is left unhandled. */
static void handler(void *ud, const ims_http_req_t *req, ims_http_resp_t *resp)
{
	atomic_int *calls = ud;
	atomic_fetch_add(calls, 1);
	if (strcmp(req->path, "/api/missing") == 0)
		return;
	const char *x = ims_http_req_query(req, "x");
	const char *flag = ims_http_req_query(req, "flag");
	const char *hdr = ims_http_req_header(req, "x-test");
	json_error_t jerr;
	json_t *in = json_loadb(req->body, req->body_len, 0, &jerr);
	json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s,s:o*,s:I}", "method", req->method, "path",
			      req->path, "x", x, "flag", flag, "hdr", hdr, "peer", ims_http_req_peer(req),
			      "in", in, "len", (json_int_t)req->body_len);
	assert_non_null(o);
	assert_int_equal(ims_http_resp_header(resp, "Location", "/api/v1/things/1"), 0);
	assert_int_equal(ims_http_resp_json(resp, 201, o), 0);
	json_decref(o);
}

static void test_http_healthz_and_ready_hook(void **state)
{
	(void)state;
	atomic_int calls = 0;
	char err[200];
	ims_http_opts_t o = { .addr = "127.0.0.1", .port = PORT_A, .handler = handler, .ud = &calls, .ready = ready };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(ims_http_port(s), PORT_A);
	reply_t r;
	ready_flag = 0;
	assert_int_equal(http_get(PORT_A, "/healthz", &r), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "not ready: database not open\n");
	ready_flag = 1;
	assert_int_equal(http_get(PORT_A, "/healthz", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	static const char post[] = "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	assert_int_equal(http_raw(PORT_A, post, sizeof(post) - 1, &r), 0);
	assert_int_equal(r.status, 405);
	assert_int_equal(calls, 0);
	ims_http_stop(s);
}

static void test_http_metrics_endpoint(void **state)
{
	(void)state;
	ims_metrics_clear();
	ims_counter_add(ims_metrics_counter("http_test_total", "test counter", "kind", "a"), 7);
	char err[200];
	ims_http_opts_t o = { .addr = "127.0.0.1", .port = PORT_A };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	reply_t r;
	assert_int_equal(http_get(PORT_A, "/metrics", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "text/plain; version=0.0.4"));
	assert_non_null(strstr(r.body, "# TYPE http_test_total counter\nhttp_test_total{kind=\"a\"} 7\n"));
	/* no handler: anything else is 404 */
	assert_int_equal(http_get(PORT_A, "/api/v1/x", &r), 0);
	assert_int_equal(r.status, 404);
	ims_http_stop(s);
	ims_metrics_clear();
}

static void test_http_handler_sees_method_query_headers_body(void **state)
{
	(void)state;
	atomic_int calls = 0;
	char err[200];
	ims_http_opts_t o = { .addr = "127.0.0.1", .port = PORT_A, .handler = handler, .ud = &calls };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	static const char body[] = "{\"impi\":\"alice@ims\"}";
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "POST /api/v1/things?x=a%%20b&flag HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 strlen(body), body);
	reply_t r;
	assert_int_equal(http_raw(PORT_A, req, (size_t)n, &r), 0);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(r.head, "Content-Type: application/json"));
	assert_non_null(strstr(r.head, "Location: /api/v1/things/1"));
	json_error_t jerr;
	json_t *j = json_loads(r.body, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/api/v1/things");
	assert_string_equal(json_string_value(json_object_get(j, "x")), "a b");
	assert_string_equal(json_string_value(json_object_get(j, "flag")), "");
	assert_string_equal(json_string_value(json_object_get(j, "hdr")), "yes");
	assert_string_equal(json_string_value(json_object_get(j, "peer")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(j, "len")), strlen(body));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "in"), "impi")), "alice@ims");
	json_decref(j);

	/* GET without body or query */
	assert_int_equal(http_get(PORT_A, "/api/v1/things", &r), 0);
	assert_int_equal(r.status, 201);
	j = json_loads(r.body, 0, &jerr);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "x")));
	assert_int_equal(json_integer_value(json_object_get(j, "len")), 0);
	json_decref(j);

	/* unhandled path */
	assert_int_equal(http_get(PORT_A, "/api/missing", &r), 0);
	assert_int_equal(r.status, 404);
	assert_int_equal(calls, 3);
	ims_http_stop(s);
}

static void test_http_body_limit_413(void **state)
{
	(void)state;
	atomic_int calls = 0;
	char err[200];
	ims_http_opts_t o = { .addr = "127.0.0.1", .port = PORT_A, .max_body = 100, .handler = handler, .ud = &calls };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	char req[2048];
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	int n = snprintf(req, sizeof(req),
			 "POST /api/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 strlen(big), big);
	reply_t r;
	assert_int_equal(http_raw(PORT_A, req, (size_t)n, &r), 0);
	assert_int_equal(r.status, 413);
	/* chunked: the size is only known while reading */
	n = snprintf(req, sizeof(req),
		     "POST /api/v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
		     "%x\r\n%s\r\n0\r\n\r\n", (unsigned)strlen(big), big);
	assert_int_equal(http_raw(PORT_A, req, (size_t)n, &r), 0);
	assert_int_equal(r.status, 413);
	/* within the limit */
	n = snprintf(req, sizeof(req),
		     "POST /api/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]");
	assert_int_equal(http_raw(PORT_A, req, (size_t)n, &r), 0);
	assert_int_equal(r.status, 201);
	assert_int_equal(calls, 1);
	ims_http_stop(s);
}

static void test_http_bind_failure_names_address(void **state)
{
	(void)state;
	char err[200];
	ims_http_opts_t o = { .addr = "127.0.0.1", .port = PORT_B };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	ims_http_server_t *s2 = ims_http_start(&o, err, sizeof(err));
	assert_null(s2);
	assert_string_equal(err, "http: cannot listen on 127.0.0.1:19101: Address already in use");
	ims_http_stop(s);
	/* the port is free again after stop */
	s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	ims_http_stop(s);
	o.addr = "not-an-address";
	assert_null(ims_http_start(&o, err, sizeof(err)));
	assert_string_equal(err, "http: \"not-an-address\" is not an IPv4 or IPv6 address");
}

static void test_http_ephemeral_port(void **state)
{
	(void)state;
	char err[200];
	ims_http_opts_t o = { .port = 0 };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	uint16_t p = ims_http_port(s);
	assert_true(p != 0);
	reply_t r;
	assert_int_equal(http_get(p, "/healthz", &r), 0);
	assert_int_equal(r.status, 200);
	ims_http_stop(s);
	ims_http_stop(NULL);
}

static void test_http_ipv6_loopback(void **state)
{
	(void)state;
	char err[200];
	ims_http_opts_t o = { .addr = "::1", .port = 0 };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	if (!s) {
		/* a host without IPv6: the error still names the address */
		assert_non_null(strstr(err, "http: cannot listen on [::1]:0: "));
		skip();
	}
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(ims_http_port(s)) };
	inet_pton(AF_INET6, "::1", &sa.sin6_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
	char buf[512];
	size_t got = 0;
	ssize_t n;
	while ((n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "\r\n\r\nok\n"));
	ims_http_stop(s);
}

#define CLIENTS 4
#define REQS 40

static void *client(void *arg)
{
	long bad = 0;
	(void)arg;
	for (int i = 0; i < REQS; i++) {
		reply_t r;
		if (http_get(PORT_A, i % 2 ? "/healthz" : "/api/v1/things?x=1", &r) != 0 ||
		    r.status != (i % 2 ? 200 : 201))
			bad++;
	}
	return (void *)bad;
}

static void test_http_concurrent_clients(void **state)
{
	(void)state;
	atomic_int calls = 0;
	char err[200];
	ims_http_opts_t o = { .addr = "127.0.0.1", .port = PORT_A, .threads = 3, .handler = handler, .ud = &calls };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	pthread_t th[CLIENTS];
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, client, NULL), 0);
	long bad = 0;
	for (int i = 0; i < CLIENTS; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		bad += (long)rv;
	}
	assert_int_equal(bad, 0);
	assert_int_equal(calls, CLIENTS * REQS / 2);
	ims_http_stop(s);
}

static void test_http_keep_alive_two_requests(void **state)
{
	(void)state;
	atomic_int calls = 0;
	char err[200];
	ims_http_opts_t o = { .addr = "127.0.0.1", .port = PORT_A, .handler = handler, .ud = &calls };
	ims_http_server_t *s = ims_http_start(&o, err, sizeof(err));
	assert_non_null(s);
	static const char two[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
				  "GET /api/v1/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	reply_t r;
	assert_int_equal(http_raw(PORT_A, two, sizeof(two) - 1, &r), 0);
	assert_int_equal(r.status, 200);
	/* the second answer follows the first on the same connection */
	assert_non_null(strstr(r.body, "HTTP/1.1 201"));
	assert_non_null(strstr(r.body, "\"path\":\"/api/v1/a\""));
	assert_int_equal(calls, 1);
	ims_http_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_healthz_and_ready_hook),
		cmocka_unit_test(test_http_metrics_endpoint),
		cmocka_unit_test(test_http_handler_sees_method_query_headers_body),
		cmocka_unit_test(test_http_body_limit_413),
		cmocka_unit_test(test_http_bind_failure_names_address),
		cmocka_unit_test(test_http_ephemeral_port),
		cmocka_unit_test(test_http_ipv6_loopback),
		cmocka_unit_test(test_http_concurrent_clients),
		cmocka_unit_test(test_http_keep_alive_two_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
