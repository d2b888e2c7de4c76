/* The shared main: options, config, log level, HTTP listener, signals. */
#include "app/ims_app.h"
#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IMS_VERSION
#define IMS_VERSION "unknown"
#endif

const char *const ims_app_common_keys[] = { "log_level", "http.addr", "http.port", "http.max_body",
					    NULL };

/* set while ims_app_main waits for a signal, so a stray request_stop
 * outside a daemon (unit tests of daemon logic) cannot kill the process */
static atomic_int app_running;

void ims_app_request_stop(void)
{
	if (atomic_load(&app_running))
		kill(getpid(), SIGTERM); /* blocked everywhere: sigwait in main picks it up */
	else
		LOG_WARN("app", "app.stop_request_ignored reason=not_running");
}

static void usage(FILE *f, const ims_app_desc_t *d)
{
	fprintf(f,
		"Usage: %s [-c FILE] [-t] [--help] [--version]\n"
		"%s\n\n"
		"  -c, --config FILE  YAML configuration file%s%s%s\n"
		"  -t, --test         check the configuration and exit\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n\n"
		"Scalar keys can be overridden by IMS_CFG_<KEY> environment variables\n"
		"(e.g. IMS_CFG_HTTP_PORT=9100); see docs/configuration.md.\n",
		d->name, d->summary ? d->summary : "", d->default_config ? " (default " : "",
		d->default_config ? d->default_config : "", d->default_config ? ")" : "");
}

/* One error line on stderr, prefixed by the program name. */
static void fail_line(const ims_app_desc_t *d, const char *msg)
{
	fprintf(stderr, "%s: %s\n", d->name, msg);
	fflush(stderr);
}

typedef struct {
	const char *addr;
	long port;
	long max_body;
} common_t;

static int read_common(ims_cfg_t *cfg, const ims_app_desc_t *d, common_t *c, char *err, size_t errlen)
{
	const char *lvl;
	if (ims_cfg_str(cfg, "log_level", "info", &lvl) ||
	    ims_cfg_str(cfg, "http.addr", "127.0.0.1", &c->addr) ||
	    ims_cfg_int(cfg, "http.port", d->default_http_port, 0, 65535, &c->port) ||
	    ims_cfg_int(cfg, "http.max_body", 1048576, 1, 64L * 1048576, &c->max_body)) {
		snprintf(err, errlen, "%s", ims_cfg_error(cfg));
		return IMS_ECONFIG;
	}
	unsigned char a[16];
	if (inet_pton(AF_INET, c->addr, a) != 1 && inet_pton(AF_INET6, c->addr, a) != 1) {
		snprintf(err, errlen, "http.addr: \"%s\" is not an IPv4 or IPv6 address", c->addr);
		return IMS_ECONFIG;
	}
	if (ims_log_set_level_name(lvl)) {
		snprintf(err, errlen, "log_level: \"%s\" is not one of debug, info, notice, warn, error",
			 lvl);
		return IMS_ECONFIG;
	}
	/* a daemon that checks its keys itself need not list the common ones */
	ims_cfg_also_known(cfg, ims_app_common_keys);
	if (d->known_keys)
		return ims_cfg_check_known(cfg, d->known_keys, err, errlen);
	return 0;
}

static ims_cfg_t *load_config(const ims_app_desc_t *d, const char *path, char *err, size_t errlen)
{
	if (!path && d->default_config && access(d->default_config, F_OK) == 0)
		path = d->default_config;
	if (!path) {
		ims_cfg_t *c = ims_cfg_empty();
		if (!c)
			snprintf(err, errlen, "out of memory");
		return c;
	}
	return ims_cfg_load(path, err, errlen);
}

/* Waits for SIGINT/SIGTERM (blocked in every thread). SIGHUP is logged
 * and ignored: reloading is not supported. Returns the signal. */
static int wait_for_stop(const sigset_t *set)
{
	for (;;) {
		int sig = 0;
		int rc = sigwait(set, &sig);
		if (rc == EINTR)
			continue;
		if (rc != 0)
			return SIGTERM;
		if (sig == SIGHUP) {
			LOG_NOTICE("app", "app.sighup action=ignored reason=\"reload not supported\"");
			continue;
		}
		return sig;
	}
}

int ims_app_main(int argc, char **argv, const ims_app_desc_t *d)
{
	const char *cfg_path = NULL;
	int test_only = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: option %s needs a file name\n", d->name, a);
				usage(stderr, d);
				return 2;
			}
			cfg_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			cfg_path = a + 9;
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "--test") == 0) {
			test_only = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, d);
			fflush(stdout);
			return 0;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("%s %s\n", d->name, IMS_VERSION);
			fflush(stdout);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown option %s\n", d->name, a);
			usage(stderr, d);
			return 2;
		}
	}

	char err[512] = "";
	ims_cfg_t *cfg = load_config(d, cfg_path, err, sizeof(err));
	if (!cfg) {
		fail_line(d, err);
		return 1;
	}
	common_t common;
	if (read_common(cfg, d, &common, err, sizeof(err))) {
		fail_line(d, err);
		ims_cfg_free(cfg);
		return 1;
	}
	void *ctx = NULL;
	if (d->configure) {
		err[0] = '\0';
		int rc = d->configure(cfg, &ctx, err, sizeof(err));
		if (rc) {
			fail_line(d, err[0] ? err : ims_strerror(rc));
			ims_cfg_free(cfg);
			return 1;
		}
	}
	if (test_only) {
		printf("config OK\n");
		fflush(stdout);
		if (d->destroy)
			d->destroy(ctx);
		ims_cfg_free(cfg);
		return 0;
	}

	/* Every thread created from here on inherits this mask, so the
	 * signals stay pending until the sigwait below takes them. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);

	int status = 1;
	ims_http_server_t *http = NULL;
	int started = 0;
	/* from here a SIGTERM stays pending until sigwait, so a daemon thread
	 * may ask for a stop even while start() is still running */
	atomic_store(&app_running, 1);
	if (d->start) {
		err[0] = '\0';
		int rc = d->start(ctx, err, sizeof(err));
		if (rc) {
			fail_line(d, err[0] ? err : ims_strerror(rc));
			goto out;
		}
	}
	started = 1;
	if (common.port > 0) {
		ims_http_opts_t ho = { .addr = common.addr,
				       .port = (uint16_t)common.port,
				       .max_body = (size_t)common.max_body,
				       .handler = d->http_handler,
				       .ready = d->ready,
				       .ud = ctx };
		http = ims_http_start(&ho, err, sizeof(err));
		if (!http) {
			fail_line(d, err);
			goto out;
		}
	}
	ims_gauge_set(ims_metrics_gauge2("ims_build_info", "Daemon name and version (always 1)",
					 "daemon", d->name, "version", IMS_VERSION), 1);
	ims_gauge_set(ims_metrics_gauge("process_start_time_seconds",
					"Start time of the process since the Unix epoch", NULL, NULL),
		      (int64_t)time(NULL));
	LOG_INFO("app", "app.started name=%s version=%s config=%s", d->name, IMS_VERSION,
		 ims_cfg_name(cfg)[0] ? ims_cfg_name(cfg) : "(none)");
	int sig = wait_for_stop(&set);
	LOG_INFO("app", "app.stopping name=%s signal=%s", d->name, sig == SIGINT ? "SIGINT" : "SIGTERM");
	status = 0;
out:
	atomic_store(&app_running, 0);
	ims_http_stop(http);
	if (started && d->stop)
		d->stop(ctx);
	if (d->destroy)
		d->destroy(ctx);
	ims_cfg_free(cfg);
	/* drop a second SIGTERM/SIGINT still pending, so restoring the
	 * caller's mask does not kill the process on the way out */
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	sigaction(SIGPIPE, &old_pipe, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (status == 0)
		LOG_INFO("app", "app.stopped name=%s", d->name);
	return status;
}
