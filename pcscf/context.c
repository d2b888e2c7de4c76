/* P-CSCF context: configuration, start and stop. */
#include "context.h"

#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <event2/event.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "sip/proxy/sip_proxy.h"
#include "sip/tp/sip_tp_cfg.h"

#define DEFAULT_REALM "ims.mnc001.mcc001.3gppnetwork.org"

int64_t pcscf_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void pcscf__flow_from_peer(const sip_tp_peer_t *src, pcscf_flow_t *out)
{
	memset(out, 0, sizeof(*out));
	out->transport = src->proto == SIP_TP_TCP ? PCSCF_TP_TCP : PCSCF_TP_UDP;
	sip_tp_addr_host(&src->addr, out->ip, sizeof(out->ip));
	out->port = sip_tp_addr_port(&src->addr);
	out->conn_id = src->conn_id;
}

static int cfg_fail(ims_cfg_t *cfg, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", ims_cfg_error(cfg));
	return IMS_ECONFIG;
}

const char *const pcscf_known_keys[] = {
	"realm", "sip.listen[].addr", "sip.listen[].port", "sip.listen[].proto",
	"sip.listen[].advertise", "sip.workers", "sip.hosts[]", "sip.hosts", "icscf[]", "icscf",
	"visited_network_id", "reg_event", "expiry_interval_ms", NULL,
};

int pcscf_configure(ims_cfg_t *cfg, void **out, char *err, size_t errlen)
{
	pcscf_ctx_t *c = calloc(1, sizeof(*c));
	if (!c)
		return IMS_ENOMEM;
	pcscf_cfg_t *k = &c->cfg;
	long v;
	int rc = IMS_ECONFIG;
	char path[64];

	if (ims_cfg_str(cfg, "realm", DEFAULT_REALM, &k->realm) != 0)
		goto bad;
	if (sip_tp_listen_from_cfg(cfg, k->listen, PCSCF_MAX_LISTEN, &k->n_listen, 5060, err, errlen) != 0)
		goto fail;
	int n;
	if (ims_cfg_int(cfg, "sip.workers", 2, 0, 64, &v) != 0)
		goto bad;
	k->workers = (int)v;
	/* Names DNS does not know (lab): "scscf.<realm>=127.0.0.1". */
	int nh = ims_cfg_list_len(cfg, "sip.hosts");
	if (nh < 0)
		goto bad;
	if (nh > 16) {
		snprintf(err, errlen, "sip.hosts: at most 16 entries");
		goto fail;
	}
	for (int i = 0; i < nh; i++) {
		snprintf(path, sizeof(path), "sip.hosts[%d]", i);
		if (ims_cfg_str(cfg, path, NULL, &k->hosts[i]) != 0)
			goto bad;
		const char *eq = strchr(k->hosts[i], '=');
		if (!eq || eq == k->hosts[i] || !eq[1]) {
			snprintf(err, errlen, "%s: \"%s\" is not name=address", path, k->hosts[i]);
			goto fail;
		}
	}
	/* Path and Contact name the first listener (its advertised name). */
	k->host = k->listen[0].advertise[0] ? k->listen[0].advertise : k->listen[0].host;
	k->port = k->listen[0].port;

	n = ims_cfg_list_len(cfg, "icscf");
	if (n < 0)
		goto bad;
	if (n > PCSCF_MAX_ICSCF) {
		snprintf(err, errlen, "icscf: at most %d entries", PCSCF_MAX_ICSCF);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "icscf[%d]", i);
		if (ims_cfg_str(cfg, path, NULL, &k->icscf[i]) != 0)
			goto bad;
		if (strncmp(k->icscf[i], "sip:", 4) != 0) {
			snprintf(err, errlen, "%s: \"%s\" is not a sip: URI", path, k->icscf[i]);
			goto fail;
		}
	}
	k->n_icscf = (unsigned)n;
	if (n == 0) {
		k->icscf[0] = "sip:127.0.0.1:4060";
		k->n_icscf = 1;
	}
	if (ims_cfg_str(cfg, "visited_network_id", k->realm, &k->visited_network_id) != 0)
		goto bad;
	if (ims_cfg_bool(cfg, "reg_event", 1, &k->reg_event) != 0)
		goto bad;
	if (ims_cfg_int(cfg, "expiry_interval_ms", 1000, 10, 600000, &v) != 0)
		goto bad;
	k->expiry_interval_ms = (int)v;

	/* RFC 3327: a Path URI we recognise when a request comes back on it. */
	snprintf(c->path_uri, sizeof(c->path_uri), "sip:term@%s:%u;lr", k->host, (unsigned)k->port);
	snprintf(c->self_uri, sizeof(c->self_uri), "sip:pcscf@%s:%u", k->host, (unsigned)k->port);
	snprintf(c->visited_quoted, sizeof(c->visited_quoted), "\"%s\"", k->visited_network_id);
	c->reg_opts.path_uri = ims_str_cstr(c->path_uri);
	c->reg_opts.visited_network_id = ims_str_cstr(c->visited_quoted);
	c->reg_opts.icid_host = ims_str_cstr(k->host);
	c->reg_opts.orig_ioi = ims_str_cstr(k->realm);
	c->store = pcscf_reg_store_create();
	c->subs = pcscf_subs_create();
	if (!c->store || !c->subs) {
		rc = IMS_ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = c;
	return 0;
bad:
	cfg_fail(cfg, err, errlen);
fail:
	pcscf_reg_store_destroy(c->store);
	pcscf_subs_destroy(c->subs);
	free(c);
	return rc;
}

void pcscf__update_gauges(pcscf_ctx_t *c)
{
	static ims_gauge_t *regs, *subs;
	if (!regs)
		regs = ims_metrics_gauge("pcscf_registrations", "UE flows registered", NULL, NULL);
	if (!subs)
		subs = ims_metrics_gauge("pcscf_regevent_subscriptions",
					 "reg-event subscriptions the P-CSCF holds", NULL, NULL);
	ims_gauge_set(regs, pcscf_reg_store_count(c->store));
	ims_gauge_set(subs, pcscf_subs_count(c->subs));
}

static void expiry_tick(evutil_socket_t fd, short what, void *arg)
{
	pcscf_ctx_t *c = arg;
	int64_t now = pcscf_now();
	int n = pcscf_reg_store_expire(c->store, now);
	pcscf_subs_expire(c->subs, now);
	pcscf__update_gauges(c);
	if (n > 0)
		LOG_INFO("pcscf", "reg.expired count=%d left=%u", n, pcscf_reg_store_count(c->store));
}

int pcscf_start(void *ctx, char *err, size_t errlen)
{
	pcscf_ctx_t *c = ctx;
	static const char *const supported[] = { "path", "sec-agree", NULL };
	sip_proxy_cfg_t pc;
	memset(&pc, 0, sizeof(pc));
	pc.tp.listen = c->cfg.listen;
	pc.tp.nlisten = c->cfg.n_listen;
	pc.tp.workers = c->cfg.workers;
	pc.hosts = c->cfg.hosts;
	pc.supported = supported;
	pc.server = "ims-pcscf/" IMS_VERSION;
	/* An advertised name also means "us" (with our port only: on a
	 * shared host other daemons listen on the same address). */
	char alias[160];
	const char *aliases[2] = { NULL, NULL };
	if (c->cfg.listen[0].advertise[0]) {
		snprintf(alias, sizeof(alias), "%s:%u", c->cfg.host, (unsigned)c->cfg.port);
		aliases[0] = alias;
	}
	pc.aliases = aliases;
	sip_proxy_hooks_t hooks = {
		.on_request = pcscf__on_request,
		.on_response = pcscf__on_response,
		.ud = c,
	};
	int rc = sip_proxy_create(&pc, &hooks, &c->proxy, err, errlen);
	if (rc != 0)
		return rc;
	struct event_base *base = sip_tp_base(sip_proxy_tp(c->proxy), 0);
	c->expiry_ev = event_new(base, -1, EV_PERSIST, expiry_tick, c);
	if (!c->expiry_ev) {
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	struct timeval tv = { c->cfg.expiry_interval_ms / 1000,
			      (c->cfg.expiry_interval_ms % 1000) * 1000 };
	event_add(c->expiry_ev, &tv);
	rc = sip_proxy_start(c->proxy);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the SIP workers");
		return rc;
	}
	LOG_INFO("pcscf", "started path=%s icscf=%s workers=%d", c->path_uri, c->cfg.icscf[0],
		 sip_proxy_nworkers(c->proxy));
	return 0;
}

void pcscf_stop(void *ctx)
{
	pcscf_ctx_t *c = ctx;
	if (c->proxy)
		sip_proxy_stop(c->proxy);
}

void pcscf_destroy(void *ctx)
{
	pcscf_ctx_t *c = ctx;
	if (!c)
		return;
	if (c->expiry_ev)
		event_free(c->expiry_ev);
	sip_proxy_destroy(c->proxy);
	pcscf_reg_store_destroy(c->store);
	pcscf_subs_destroy(c->subs);
	free(c);
}
