/* The S-CSCF context: configuration (scscf.yaml, docs/scscf.md), start and
 * stop of the store, the Diameter side, the SIP proxy and the expiry timer. */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "auth-nonce.h"
#include "base/ims_err.h"
#include "cx-build.h"
#include "cx-handler.h"
#include "dia/cx-core.h"
#include "dia/cx-server.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "profile.h"
#include "reg-handler.h"
#include "reg-store.h"
#include "regevent.h"
#include "sip/proxy/sip_proxy.h"

#define DEFAULT_REALM "ims.mnc001.mcc001.3gppnetwork.org"

const char *const scscf_known_keys[] = {
	"realm", "own_uri", "advertise",
	"sip.listen[].addr", "sip.listen[].port", "sip.listen[].proto", "sip.listen[].advertise",
	"sip.workers",
	"diameter.identity", "diameter.realm", "diameter.hss_host", "diameter.hss_addr",
	"diameter.hss_port", "diameter.port", "diameter.timeout_ms", "diameter.tc_timer",
	"diameter.work_dir",
	"db.path",
	"registrar.default_expires", "registrar.min_expires", "registrar.max_expires",
	"registrar.expiry_interval_ms", "registrar.max_contacts",
	"auth.default_scheme", "auth.nonce_ttl",
	"regevent.default_expires", "regevent.max_expires",
	"session.*",
	NULL,
};

/* Everything built at start; kept beside the context. */
typedef struct scscf_run {
	scscf_ctx_t ctx;
	struct scscf_cx cx;
	char own_uri_buf[256], identity_buf[256], hss_host_buf[256], route_uri_buf[300];
	sip_tp_listen_t listen[SCSCF_MAX_LISTENERS];
	size_t nlisten;
	char alias[2][256];
	struct event *expiry_ev;
	int cx_started, proxy_started;
} scscf_run_t;

#define CFGSTR(key, def, dst)                                                  \
	do {                                                                   \
		if ((rc = ims_cfg_str(y, key, def, dst)) != 0)                 \
			goto bad;                                              \
	} while (0)
#define CFGINT(key, def, lo, hi, dst)                                          \
	do {                                                                   \
		long v_;                                                       \
		if ((rc = ims_cfg_int(y, key, def, lo, hi, &v_)) != 0)         \
			goto bad;                                              \
		*(dst) = v_;                                                   \
	} while (0)

int scscf_configure(ims_cfg_t *y, void **out, char *err, size_t errlen)
{
	scscf_run_t *run = calloc(1, sizeof(*run));
	scscf_cfg_t *c;
	const char *s = NULL;
	long n;
	int rc = 0, nl;

	if (!run) {
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	c = &run->ctx.cfg;
	run->ctx.ycfg = y;
	CFGSTR("realm", DEFAULT_REALM, &c->realm);
	snprintf(run->own_uri_buf, sizeof(run->own_uri_buf), "sip:scscf.%s:6060", c->realm);
	CFGSTR("own_uri", run->own_uri_buf, &c->own_uri);
	if (strncmp(c->own_uri, "sip:", 4) != 0) {
		snprintf(err, errlen, "own_uri: \"%s\" is not a sip: URI", c->own_uri);
		free(run);
		return IMS_ECONFIG;
	}

	nl = ims_cfg_list_len(y, "sip.listen");
	if (nl < 0) {
		rc = nl;
		goto bad;
	}
	if (nl > SCSCF_MAX_LISTENERS) {
		snprintf(err, errlen, "sip.listen: at most %d listeners", SCSCF_MAX_LISTENERS);
		free(run);
		return IMS_ECONFIG;
	}
	if (nl == 0) {
		c->listen[0] = (scscf_listener_t){ "127.0.0.1", 6060, 1, 1 };
		c->n_listen = 1;
	}
	for (int i = 0; i < nl; i++) {
		char key[64];
		const char *proto;
		snprintf(key, sizeof(key), "sip.listen[%d].addr", i);
		CFGSTR(key, "127.0.0.1", &c->listen[i].addr);
		snprintf(key, sizeof(key), "sip.listen[%d].port", i);
		CFGINT(key, 6060, 1, 65535, &n);
		c->listen[i].port = (uint16_t)n;
		snprintf(key, sizeof(key), "sip.listen[%d].proto", i);
		CFGSTR(key, "both", &proto);
		c->listen[i].udp = !strcasecmp(proto, "udp") || !strcasecmp(proto, "both");
		c->listen[i].tcp = !strcasecmp(proto, "tcp") || !strcasecmp(proto, "both");
		if (!c->listen[i].udp && !c->listen[i].tcp) {
			snprintf(err, errlen, "%s: \"%s\" is not udp, tcp or both", key, proto);
			free(run);
			return IMS_ECONFIG;
		}
	}
	if (nl)
		c->n_listen = (unsigned)nl;
	CFGINT("sip.workers", 0, 0, 64, &n);
	c->workers = (unsigned)n;
	{
		/* A URI the P-CSCF and ASs can route to without DNS: the
		 * advertised host:port, else the first listener unless it is
		 * a wildcard, else own_uri. */
		const char *adv = NULL, *a0 = c->listen[0].addr;
		CFGSTR("advertise", "", &adv);
		if (*adv)
			snprintf(run->route_uri_buf, sizeof(run->route_uri_buf), "sip:%s", adv);
		else if (strcmp(a0, "0.0.0.0") && strcmp(a0, "::"))
			snprintf(run->route_uri_buf, sizeof(run->route_uri_buf), "sip:%s%s%s:%u",
				 strchr(a0, ':') ? "[" : "", a0, strchr(a0, ':') ? "]" : "",
				 c->listen[0].port);
		else
			snprintf(run->route_uri_buf, sizeof(run->route_uri_buf), "%s", c->own_uri);
		c->route_uri = run->route_uri_buf;
	}

	snprintf(run->identity_buf, sizeof(run->identity_buf), "scscf.%s", c->realm);
	snprintf(run->hss_host_buf, sizeof(run->hss_host_buf), "hss.%s", c->realm);
	CFGSTR("diameter.identity", run->identity_buf, &c->dia_identity);
	CFGSTR("diameter.realm", c->realm, &c->dia_realm);
	CFGSTR("diameter.hss_host", run->hss_host_buf, &c->hss_host);
	CFGSTR("diameter.hss_addr", "127.0.0.1", &c->hss_addr);
	CFGINT("diameter.hss_port", 3868, 1, 65535, &n);
	c->hss_port = (uint16_t)n;
	CFGINT("diameter.port", 0, 0, 65535, &n);
	c->dia_port = (uint16_t)n;
	CFGINT("diameter.timeout_ms", 3000, 100, 60000, &n);
	c->cx_timeout_ms = (unsigned)n;

	CFGSTR("db.path", "scscf.db", &c->db_path);
	CFGINT("registrar.default_expires", 3600, 1, 31536000, &n);
	c->default_expires = (uint32_t)n;
	CFGINT("registrar.min_expires", 60, 1, 31536000, &n);
	c->min_expires = (uint32_t)n;
	CFGINT("registrar.max_expires", 600000, 1, 31536000, &n);
	c->max_expires = (uint32_t)n;
	if (c->min_expires > c->max_expires || c->default_expires > c->max_expires) {
		snprintf(err, errlen,
			 "registrar.min_expires/default_expires: must not exceed max_expires (%u)",
			 c->max_expires);
		free(run);
		return IMS_ECONFIG;
	}
	CFGINT("registrar.max_contacts", 10, 0, 1000, &n);
	c->max_contacts = (uint32_t)n;
	CFGINT("registrar.expiry_interval_ms", 1000, 10, 600000, &n);
	c->expiry_interval_ms = (uint32_t)n;
	CFGSTR("auth.default_scheme", "aka", &s);
	if (!strcasecmp(s, "aka") || !strcasecmp(s, "AKAv1-MD5"))
		c->auth_default = SCSCF_AUTH_AKA;
	else if (!strcasecmp(s, "md5") || !strcasecmp(s, "digest"))
		c->auth_default = SCSCF_AUTH_MD5;
	else {
		snprintf(err, errlen, "auth.default_scheme: \"%s\" is not aka or md5", s);
		free(run);
		return IMS_ECONFIG;
	}
	CFGINT("auth.nonce_ttl", 30, 1, 3600, &n);
	c->nonce_ttl = (uint32_t)n;
	CFGINT("regevent.default_expires", 600000, 1, 31536000, &n);
	c->sub_default_expires = (uint32_t)n;
	CFGINT("regevent.max_expires", 600000, 1, 31536000, &n);
	c->sub_max_expires = (uint32_t)n;

	run->cx.send = cx_client_send;
	run->cx.timeout_ms = c->cx_timeout_ms;
	run->ctx.cx = &run->cx;
	*out = run;
	return 0;
bad:
	snprintf(err, errlen, "%s", ims_cfg_error(y));
	free(run);
	return rc ? rc : IMS_ECONFIG;
}

static void expiry_tick(evutil_socket_t fd, short what, void *arg)
{
	scscf_run_t *run = arg;
	size_t nb = 0, nr;
	(void)fd;
	(void)what;
	scscf_reg_expire_run(&run->ctx, scscf_now());
	if (run->ctx.on_tick)
		run->ctx.on_tick(&run->ctx);
	nr = scscf_reg_store_count(run->ctx.store, &nb);
	ims_gauge_set(ims_metrics_gauge("scscf_registrations", "Registrations held", NULL, NULL),
		      (int64_t)nr);
	ims_gauge_set(ims_metrics_gauge("scscf_bindings", "Contact bindings held", NULL, NULL),
		      (int64_t)nb);
	ims_gauge_set(ims_metrics_gauge("scscf_regevent_subscriptions",
					"reg event subscriptions", NULL, NULL),
		      (int64_t)scscf_regevent_count(&run->ctx));
}

/* Runs on worker 0: the expiry timer lives on its loop. */
static void expiry_arm(void *arg)
{
	scscf_run_t *run = arg;
	struct timeval tv = { run->ctx.cfg.expiry_interval_ms / 1000,
			      (run->ctx.cfg.expiry_interval_ms % 1000) * 1000 };
	struct event_base *base = sip_tp_base(sip_proxy_tp(run->ctx.proxy), 0);
	run->expiry_ev = event_new(base, -1, EV_PERSIST, expiry_tick, run);
	if (run->expiry_ev)
		event_add(run->expiry_ev, &tv);
	else
		LOG_ERROR("scscf", "expiry.timer_failed");
}

static void profile_free_cb(struct scscf_profile *p)
{
	scscf_profile_free((scscf_profile_t *)p);
}

int scscf_start(void *arg, char *err, size_t errlen)
{
	scscf_run_t *run = arg;
	scscf_ctx_t *ctx = &run->ctx;
	scscf_cfg_t *c = &ctx->cfg;
	cx_core_cfg_t dc;
	sip_proxy_cfg_t pc;
	sip_proxy_hooks_t hooks;
	const char *aliases[3];
	int rc;

	rc = scscf_reg_store_open(c->db_path, profile_free_cb, &ctx->store);
	if (rc != 0) {
		snprintf(err, errlen, "db.path: cannot open %s (%s)", c->db_path, ims_strerror(rc));
		return rc;
	}
	if ((rc = scscf_auth_table_create(c->nonce_ttl, &ctx->auth)) != 0 ||
	    (rc = scscf_regevent_create(c->db_path, &ctx->regevent)) != 0) {
		snprintf(err, errlen, "db.path: cannot keep reg-event subscriptions in %s (%s)",
			 c->db_path, ims_strerror(rc));
		return rc;
	}

	memset(&dc, 0, sizeof(dc));
	dc.identity = c->dia_identity;
	dc.realm = c->dia_realm;
	dc.port = c->dia_port;
	dc.listen_addr = c->dia_port ? "127.0.0.1" : NULL;
	dc.peers[0].host = c->hss_host;
	dc.peers[0].addr = c->hss_addr;
	dc.peers[0].port = c->hss_port;
	dc.n_peers = 1;
	dc.request_timeout_ms = c->cx_timeout_ms;
	dc.tc_timer = 2;
	rc = cx_core_start(&dc);
	if (rc != 0) {
		snprintf(err, errlen, "diameter: cannot start %s (%s)", c->dia_identity,
			 ims_strerror(rc));
		return rc;
	}
	run->cx_started = 1;
	if ((rc = scscf_cx_handlers_register(ctx)) != 0) {
		snprintf(err, errlen, "diameter: cannot register RTR/PPR handlers (%s)",
			 ims_strerror(rc));
		return rc;
	}

	memset(&pc, 0, sizeof(pc));
	run->nlisten = 0;
	for (unsigned i = 0; i < c->n_listen; i++) {
		for (int p = 0; p < 2; p++) {
			sip_tp_listen_t *l;
			if ((p == 0 && !c->listen[i].udp) || (p == 1 && !c->listen[i].tcp))
				continue;
			if (run->nlisten >= SCSCF_MAX_LISTENERS)
				break;
			l = &run->listen[run->nlisten++];
			memset(l, 0, sizeof(*l));
			snprintf(l->host, sizeof(l->host), "%s", c->listen[i].addr);
			l->port = c->listen[i].port;
			l->proto = p == 0 ? SIP_TP_UDP : SIP_TP_TCP;
		}
	}
	pc.tp.listen = run->listen;
	pc.tp.nlisten = run->nlisten;
	pc.tp.workers = (int)c->workers;
	{
		/* our own URI's host (and host:port) mean "this proxy" in Route */
		sip_uri_t u;
		ims_arena_t *a = ims_arena_create(512);
		int k = 0;
		if (a && sip_uri_parse(ims_str_cstr(c->own_uri), a, &u) == 0) {
			/* host alone only when the URI names no port: on a shared
			 * host (the lab) the other CSCFs use the same address with
			 * other ports, and those are not us */
			if (!u.port) {
				ims_str_to_c(u.host, run->alias[0], sizeof(run->alias[0]));
				aliases[k++] = run->alias[0];
			} else {
				snprintf(run->alias[1], sizeof(run->alias[1]), "%.*s:%u",
					 IMS_STR_FMT(u.host), u.port);
				aliases[k++] = run->alias[1];
			}
		}
		aliases[k] = NULL;
		ims_arena_destroy(a);
	}
	pc.aliases = aliases;
	pc.server = "ims-scscf";
	memset(&hooks, 0, sizeof(hooks));
	hooks.on_request = scscf_on_request;
	hooks.on_response = scscf_on_response;
	hooks.on_final = scscf_on_final;
	hooks.on_cancel = scscf_on_cancel;
	hooks.ud = ctx;
	rc = sip_proxy_create(&pc, &hooks, &ctx->proxy, err, errlen);
	if (rc != 0)
		return rc;
	rc = sip_proxy_start(ctx->proxy);
	run->proxy_started = rc == 0;
	if (rc != 0) {
		snprintf(err, errlen, "sip: cannot start the workers (%s)", ims_strerror(rc));
		return rc;
	}
	if (sip_proxy_post(ctx->proxy, 0, expiry_arm, run) != 0) {
		snprintf(err, errlen, "sip: cannot arm the expiry timer");
		return IMS_ENOMEM;
	}
	LOG_INFO("scscf", "started own_uri=%s realm=%s hss=%s:%u db=%s", c->own_uri, c->realm,
		 c->hss_addr, c->hss_port, c->db_path);
	return 0;
}

void scscf_stop(void *arg)
{
	scscf_run_t *run = arg;
	scscf_ctx_t *ctx = &run->ctx;
	if (ctx->proxy && run->proxy_started)
		sip_proxy_stop(ctx->proxy);
	run->proxy_started = 0;
	if (run->expiry_ev) {
		event_free(run->expiry_ev);
		run->expiry_ev = NULL;
	}
	if (run->cx_started) {
		cx_server_unregister_all();
		cx_core_stop();
		run->cx_started = 0;
	}
}

void scscf_destroy(void *arg)
{
	scscf_run_t *run = arg;
	scscf_ctx_t *ctx;
	if (!run)
		return;
	ctx = &run->ctx;
	scscf_stop(run); /* a start that failed half way left things running */
	sip_proxy_destroy(ctx->proxy);
	ctx->proxy = NULL;
	scscf_regevent_destroy(ctx->regevent);
	scscf_auth_table_destroy(ctx->auth);
	scscf_reg_store_close(ctx->store);
	free(run);
}

int scscf_ready(void *ud, char *why, size_t whylen)
{
	scscf_run_t *run = ud;
	if (!cx_core_peer_is_open(run->ctx.cfg.hss_host)) {
		snprintf(why, whylen, "HSS %s not connected", run->ctx.cfg.hss_host);
		return 0;
	}
	return 1;
}
