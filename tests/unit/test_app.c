/* The shared main, driven with a fake daemon in a forked child: options,
 * -t, one-line errors, the HTTP listener with the daemon's handler,
 * SIGTERM -> stop -> destroy, and ims_app_request_stop from a thread.
 * Configs in tests/data/cfg/app_*.yaml; ports 19110-19112. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "app/ims_app.h"
#include "base/ims_err.h"

#define CFG(f) IMS_TEST_DATA "/cfg/" f

/* ---- the fake daemon: reports each step on stdout ---- */

typedef struct {
	const char *greeting;
	int fail_start;
	long self_stop_ms;
	pthread_t th;
	int th_started;
} fake_t;

static void say(const char *what)
{
	printf("step %s\n", what);
	fflush(stdout);
}

static int fake_configure(ims_cfg_t *cfg, void **ctx, char *err, size_t errlen)
{
	say("configure");
	int fail = 0;
	fake_t *f = calloc(1, sizeof(*f));
	if (!f)
		return IMS_ENOMEM;
	if (ims_cfg_str(cfg, "fake.greeting", "hello", &f->greeting) ||
	    ims_cfg_bool(cfg, "fake.fail_configure", 0, &fail) ||
	    ims_cfg_bool(cfg, "fake.fail_start", 0, &f->fail_start) ||
	    ims_cfg_int(cfg, "fake.self_stop_ms", 0, 0, 10000, &f->self_stop_ms)) {
		snprintf(err, errlen, "%s", ims_cfg_error(cfg));
		free(f);
		return IMS_ECONFIG;
	}
	if (fail) {
		snprintf(err, errlen, "fake.fail_configure: asked to fail");
		free(f);
		return IMS_ECONFIG;
	}
	*ctx = f;
	return 0;
}

static void *self_stop(void *arg)
{
	fake_t *f = arg;
	struct timespec ts = { f->self_stop_ms / 1000, (f->self_stop_ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	ims_app_request_stop();
	return NULL;
}

static int fake_start(void *ctx, char *err, size_t errlen)
{
	fake_t *f = ctx;
	say("start");
	if (f->fail_start) {
		snprintf(err, errlen, "sip: cannot listen on 127.0.0.1:5060: Permission denied");
		return IMS_EIO;
	}
	if (f->self_stop_ms) {
		if (pthread_create(&f->th, NULL, self_stop, f) != 0)
			return IMS_ENOMEM;
		f->th_started = 1;
	}
	return 0;
}

static void fake_stop(void *ctx)
{
	fake_t *f = ctx;
	if (f->th_started)
		pthread_join(f->th, NULL);
	say("stop");
}

static void fake_destroy(void *ctx)
{
	say("destroy");
	free(ctx);
}

static void fake_http(void *ud, const ims_http_req_t *req, ims_http_resp_t *resp)
{
	fake_t *f = ud;
	if (strcmp(req->path, "/greeting") == 0)
		ims_http_resp_printf(resp, 200, "text/plain", "%s\n", f->greeting);
}

static int fake_ready(void *ud, char *why, size_t whylen)
{
	(void)ud;
	(void)why;
	(void)whylen;
	return 1;
}

static const char *const fake_keys[] = { "fake.greeting", "fake.fail_configure", "fake.fail_start",
					 "fake.self_stop_ms", NULL };

static const ims_app_desc_t fake_desc = {
	.name = "ims-fake",
	.summary = "a daemon that only exists in tests",
	.default_config = "/nonexistent/ims-fake.yaml",
	.configure = fake_configure,
	.start = fake_start,
	.stop = fake_stop,
	.destroy = fake_destroy,
	.default_http_port = 0,
	.http_handler = fake_http,
	.ready = fake_ready,
	.known_keys = fake_keys,
};

/* ---- running it in a child ---- */

typedef struct {
	pid_t pid;
	int out_fd, err_fd;
	int status; /* exit code, or 128+signal */
	char out[8192], err[8192];
} child_t;

static void spawn(child_t *c, const char *const *args)
{
	int o[2], e[2];
	assert_int_equal(pipe(o), 0);
	assert_int_equal(pipe(e), 0);
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(o[0]);
		close(e[0]);
		alarm(20); /* never outlive a broken test */
		char *argv[16];
		int argc = 0;
		argv[argc++] = (char *)"ims-fake";
		for (; args[argc - 1] && argc < 15; argc++)
			argv[argc] = (char *)args[argc - 1];
		argv[argc] = NULL;
		int rc = ims_app_main(argc, argv, &fake_desc);
		fflush(stdout);
		fflush(stderr);
		exit(rc); /* not _exit: LeakSanitizer checks the child too */
	}
	close(o[1]);
	close(e[1]);
	c->out_fd = o[0];
	c->err_fd = e[0];
}

static void slurp(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == cap - 1)
			break;
	}
	buf[got] = '\0';
	close(fd);
}

static void finish(child_t *c)
{
	int st = 0;
	assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	slurp(c->out_fd, c->out, sizeof(c->out));
	slurp(c->err_fd, c->err, sizeof(c->err));
}

static void run(child_t *c, const char *const *args)
{
	spawn(c, args);
	finish(c);
}

/* only the lines of stderr that are not log events (those start with a year) */
static const char *plain_err(child_t *c, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
	for (char *line = c->err; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
		if (strncmp(line, "20", 2) != 0 && o + len < cap) {
			memcpy(buf + o, line, len);
			o += len;
			buf[o] = '\0';
		}
		line += len;
	}
	return buf;
}

static void test_app_version_and_help(void **state)
{
	(void)state;
	child_t c;
	run(&c, (const char *[]){ "--version", NULL });
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "ims-fake " IMS_VERSION "\n");
	run(&c, (const char *[]){ "--help", NULL });
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "Usage: ims-fake [-c FILE] [-t]"));
	assert_non_null(strstr(c.out, "a daemon that only exists in tests"));
	run(&c, (const char *[]){ "--bogus", NULL });
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "ims-fake: unknown option --bogus"));
	run(&c, (const char *[]){ "-c", NULL });
	assert_int_equal(c.status, 2);
}

static void test_app_check_config_ok(void **state)
{
	(void)state;
	child_t c;
	run(&c, (const char *[]){ "-c", CFG("app_ok.yaml"), "-t", NULL });
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "step configure\nconfig OK\nstep destroy\n");
	/* no -c and no default file: an empty config is fine too */
	run(&c, (const char *[]){ "-t", NULL });
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "config OK\n"));
}

static void test_app_config_errors_are_one_line(void **state)
{
	(void)state;
	child_t c;
	char buf[1024];
	run(&c, (const char *[]){ "-t", "-c", CFG("app_bad_port.yaml"), NULL });
	assert_int_equal(c.status, 1);
	assert_string_equal(plain_err(&c, buf, sizeof(buf)),
			    "ims-fake: http.port: 70000 is out of range 0..65535 (" CFG("app_bad_port.yaml") ":2)\n");
	assert_string_equal(c.out, ""); /* configure never ran */

	run(&c, (const char *[]){ "-t", "-c", CFG("app_typo.yaml"), NULL });
	assert_int_equal(c.status, 1);
	assert_string_equal(plain_err(&c, buf, sizeof(buf)),
			    "ims-fake: " CFG("app_typo.yaml") ":3: unknown key fake.greting\n");

	run(&c, (const char *[]){ "-t", "-c", CFG("app_bad_level.yaml"), NULL });
	assert_int_equal(c.status, 1);
	assert_string_equal(plain_err(&c, buf, sizeof(buf)),
			    "ims-fake: log_level: \"loud\" is not one of debug, info, notice, warn, error\n");

	run(&c, (const char *[]){ "-t", "-c", CFG("app_bad_addr.yaml"), NULL });
	assert_int_equal(c.status, 1);
	assert_string_equal(plain_err(&c, buf, sizeof(buf)),
			    "ims-fake: http.addr: \"localhost\" is not an IPv4 or IPv6 address\n");

	run(&c, (const char *[]){ "-t", "-c", CFG("app_fail_configure.yaml"), NULL });
	assert_int_equal(c.status, 1);
	assert_string_equal(plain_err(&c, buf, sizeof(buf)), "ims-fake: fake.fail_configure: asked to fail\n");
	assert_string_equal(c.out, "step configure\n");

	run(&c, (const char *[]){ "-c", CFG("missing.yaml"), NULL });
	assert_int_equal(c.status, 1);
	assert_non_null(strstr(c.err, "ims-fake: " CFG("missing.yaml") ": cannot open: No such file or directory\n"));
}

static void test_app_start_failure_exits_1(void **state)
{
	(void)state;
	child_t c;
	char buf[1024];
	run(&c, (const char *[]){ "-c", CFG("app_fail_start.yaml"), NULL });
	assert_int_equal(c.status, 1);
	assert_string_equal(plain_err(&c, buf, sizeof(buf)),
			    "ims-fake: sip: cannot listen on 127.0.0.1:5060: Permission denied\n");
	/* stop() is only for a started daemon; destroy() always follows configure() */
	assert_string_equal(c.out, "step configure\nstep start\nstep destroy\n");
}

static int listen_on(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_app_busy_http_port_names_it(void **state)
{
	(void)state;
	int fd = listen_on(19111);
	assert_true(fd >= 0);
	child_t c;
	char buf[1024];
	run(&c, (const char *[]){ "-c", CFG("app_port_busy.yaml"), NULL });
	close(fd);
	assert_int_equal(c.status, 1);
	assert_string_equal(plain_err(&c, buf, sizeof(buf)),
			    "ims-fake: http: cannot listen on 127.0.0.1:19111: Address already in use\n");
	assert_string_equal(c.out, "step configure\nstep start\nstep stop\nstep destroy\n");
}

/* GET path on 127.0.0.1:port; returns the status or -1, body in body */
static int http_get(uint16_t port, const char *path, char *body, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -1;
	}
	char buf[4096];
	size_t got = 0;
	ssize_t r;
	while ((r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	int status = -1;
	char *sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	snprintf(body, cap, "%s", sep + 4);
	return status;
}

static void test_app_runs_until_sigterm(void **state)
{
	(void)state;
	child_t c;
	spawn(&c, (const char *[]){ "-c", CFG("app_run.yaml"), NULL });
	char body[1024];
	int st = -1;
	for (int i = 0; i < 100 && st != 200; i++) { /* up to 5 s */
		st = http_get(19110, "/healthz", body, sizeof(body));
		if (st != 200) {
			struct timespec ts = { 0, 50000000L };
			nanosleep(&ts, NULL);
		}
	}
	assert_int_equal(st, 200);
	assert_string_equal(body, "ok\n");
	assert_int_equal(http_get(19110, "/greeting", body, sizeof(body)), 200);
	assert_string_equal(body, "hi there\n");
	assert_int_equal(http_get(19110, "/nothing", body, sizeof(body)), 404);
	assert_int_equal(http_get(19110, "/metrics", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "ims_build_info{daemon=\"ims-fake\",version=\"" IMS_VERSION "\"} 1\n"));
	assert_non_null(strstr(body, "# TYPE process_start_time_seconds gauge\n"));
	assert_non_null(strstr(body, "http_responses_total{class=\"2xx\"} "));
	assert_non_null(strstr(body, "http_responses_total{class=\"4xx\"} 1\n")); /* the /nothing above */
	/* SIGHUP is ignored, SIGTERM stops */
	kill(c.pid, SIGHUP);
	assert_int_equal(http_get(19110, "/healthz", body, sizeof(body)), 200);
	kill(c.pid, SIGTERM);
	finish(&c);
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "step configure\nstep start\nstep stop\nstep destroy\n");
	/* the listener is gone */
	assert_int_equal(http_get(19110, "/healthz", body, sizeof(body)), -1);
}

static void test_app_sigint_stops_too(void **state)
{
	(void)state;
	child_t c;
	spawn(&c, (const char *[]){ "-c", CFG("app_run.yaml"), NULL });
	char body[256];
	int st = -1;
	for (int i = 0; i < 100 && st != 200; i++) {
		st = http_get(19110, "/healthz", body, sizeof(body));
		if (st != 200) {
			struct timespec ts = { 0, 50000000L };
			nanosleep(&ts, NULL);
		}
	}
	assert_int_equal(st, 200);
	kill(c.pid, SIGINT);
	finish(&c);
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "step configure\nstep start\nstep stop\nstep destroy\n");
}

static void test_app_request_stop_from_thread(void **state)
{
	(void)state;
	child_t c;
	run(&c, (const char *[]){ "-c", CFG("app_self_stop.yaml"), NULL });
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "step configure\nstep start\nstep stop\nstep destroy\n");
	/* outside ims_app_main the request is ignored, not fatal */
	ims_app_request_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_version_and_help),
		cmocka_unit_test(test_app_check_config_ok),
		cmocka_unit_test(test_app_config_errors_are_one_line),
		cmocka_unit_test(test_app_start_failure_exits_1),
		cmocka_unit_test(test_app_busy_http_port_names_it),
		cmocka_unit_test(test_app_runs_until_sigterm),
		cmocka_unit_test(test_app_sigint_stops_too),
		cmocka_unit_test(test_app_request_stop_from_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
