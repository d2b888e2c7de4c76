/* sip-proxy-test: forwards every request by its Route / Request-URI (RFC
 * 3261 §16.6) with optional Record-Route, using the shared proxy core.
 *
 *   sip-proxy-test -l 127.0.0.1:15060:udp -l 127.0.0.1:15060:tcp
 *                  [-w workers] [--rr] [--t1 ms] [--timer-c ms]
 *
 * Runs until SIGINT/SIGTERM; prints its counters on exit. Tests only. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/proxy/sip_proxy.h"

static int record_route;

static void on_request(sip_proxy_ctx_t *ctx, void *ud)
{
	(void)ud;
	if (record_route && sip_proxy_ctx_method(ctx) != SIP_METHOD_ACK)
		sip_proxy_record_route(ctx, IMS_STR_NULL);
	int rc = sip_proxy_forward(ctx, NULL, NULL);
	if (rc && sip_proxy_ctx_method(ctx) != SIP_METHOD_ACK)
		sip_proxy_reply(ctx, 500, IMS_STR("Cannot Forward"), IMS_STR_NULL, IMS_STR_NULL,
				IMS_STR_NULL);
}

static void usage(void)
{
	fprintf(stderr, "usage: sip-proxy-test -l addr:port:proto [-l ...] [-w n] [--rr] "
			"[--t1 ms] [--timer-c ms] [--log level]\n");
}

int main(int argc, char **argv)
{
	sip_tp_listen_t ls[8];
	size_t nls = 0;
	sip_proxy_cfg_t cfg;
	memset(&cfg, 0, sizeof(cfg));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-l") && v && nls < 8) {
			if (sip_tp_listen_parse(v, &ls[nls]) != 0) {
				fprintf(stderr, "sip-proxy-test: bad listener %s\n", v);
				return 2;
			}
			nls++;
			i++;
		} else if (!strcmp(a, "-w") && v) {
			cfg.tp.workers = atoi(v);
			i++;
		} else if (!strcmp(a, "--t1") && v) {
			cfg.t1_ms = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(a, "--timer-c") && v) {
			cfg.timer_c_ms = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(a, "--log") && v) {
			ims_log_set_level_name(v);
			i++;
		} else if (!strcmp(a, "--rr")) {
			record_route = 1;
		} else {
			usage();
			return 2;
		}
	}
	if (!nls) {
		usage();
		return 2;
	}
	cfg.tp.listen = ls;
	cfg.tp.nlisten = nls;
	sip_proxy_hooks_t hooks = { .on_request = on_request };

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit the mask */
	signal(SIGPIPE, SIG_IGN);

	sip_proxy_t *p;
	char err[256];
	int rc = sip_proxy_create(&cfg, &hooks, &p, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "sip-proxy-test: %s\n", err[0] ? err : ims_strerror(rc));
		return 1;
	}
	if (sip_proxy_start(p) != 0) {
		fprintf(stderr, "sip-proxy-test: cannot start workers\n");
		sip_proxy_destroy(p);
		return 1;
	}
	LOG_INFO("proxy-test", "started workers=%d listeners=%zu", sip_proxy_nworkers(p), nls);
	int sig;
	sigwait(&set, &sig);
	sip_proxy_stop(p);
	sip_proxy_stats_t st;
	sip_proxy_get_stats(p, &st);
	sip_tp_stats_t ts;
	sip_tp_get_stats(sip_proxy_tp(p), &ts);
	printf("rx_requests=%llu rx_responses=%llu tx_requests=%llu tx_responses=%llu "
	       "dropped=%llu stateless=%llu contexts=%llu handoffs=%llu tcp_open=%llu "
	       "garbage=%llu\n",
	       (unsigned long long)st.rx_requests, (unsigned long long)st.rx_responses,
	       (unsigned long long)st.tx_requests, (unsigned long long)st.tx_responses,
	       (unsigned long long)st.dropped, (unsigned long long)st.stateless_replies,
	       (unsigned long long)st.contexts, (unsigned long long)st.handoffs,
	       (unsigned long long)ts.conns_open,
	       (unsigned long long)ts.rx_garbage);
	fflush(stdout);
	sip_proxy_destroy(p);
	return 0;
}
