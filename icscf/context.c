/* I-CSCF context: configuration, start and stop. */
#include "context.h"

#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "dia/cx-core.h"
#include "sip/proxy/sip_proxy.h"
#include "sip/tp/sip_tp_cfg.h"

#define DEFAULT_REALM "ims.mnc001.mcc001.3gppnetwork.org"

const char *const icscf_known_keys[] = {
	"realm", "sip.listen[].addr", "sip.listen[].port", "sip.listen[].proto",
	"sip.listen[].advertise", "sip.workers", "sip.hosts[]", "sip.hosts",
	"diameter.identity", "diameter.realm", "diameter.port", "diameter.hss_host",
	"diameter.hss_addr", "diameter.hss_port", "diameter.timeout_ms", "diameter.work_dir",
	"scscf_pool[].name", "scscf_pool[].uri", "scscf_pool[].capabilities[]",
	"scscf_pool[].capabilities",
	"uar_retries", NULL,
};

static char *dupf(const char *fmt, const char *a)
{
	size_t n = strlen(fmt) + strlen(a) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, fmt, a);
	return s;
}

/* Strings we compose ourselves (defaults derived from the realm) live
 * here so destroy can free them. */
typedef struct owned {
	char *identity, *hss_host, *scscf_name;
} owned_t;
static owned_t owned;

int icscf_configure(ims_cfg_t *cfg, void **out, char *err, size_t errlen)
{
	icscf_ctx_t *c = calloc(1, sizeof(*c));
	if (!c)
		return IMS_ENOMEM;
	icscf_cfg_t *k = &c->cfg;
	long v;
	char path[96];

	if (ims_cfg_str(cfg, "realm", DEFAULT_REALM, &k->realm) != 0)
		goto bad;
	if (sip_tp_listen_from_cfg(cfg, k->listen, ICSCF_MAX_LISTEN, &k->n_listen, 4060, err, errlen) != 0)
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

	free(owned.identity);
	free(owned.hss_host);
	free(owned.scscf_name);
	owned.identity = dupf("icscf.%s", k->realm);
	owned.hss_host = dupf("hss.%s", k->realm);
	owned.scscf_name = dupf("sip:scscf.%s:6060", k->realm);
	if (!owned.identity || !owned.hss_host || !owned.scscf_name) {
		snprintf(err, errlen, "out of memory");
		free(c);
		return IMS_ENOMEM;
	}
	if (ims_cfg_str(cfg, "diameter.identity", owned.identity, &k->dia_identity) != 0 ||
	    ims_cfg_str(cfg, "diameter.realm", k->realm, &k->dia_realm) != 0 ||
	    ims_cfg_str(cfg, "diameter.hss_host", owned.hss_host, &k->hss_host) != 0 ||
	    ims_cfg_str(cfg, "diameter.hss_addr", "127.0.0.1", &k->hss_addr) != 0 ||
	    ims_cfg_str(cfg, "diameter.work_dir", "", &k->dia_work_dir) != 0)
		goto bad;
	if (!k->dia_work_dir[0])
		k->dia_work_dir = NULL;
	if (ims_cfg_int(cfg, "diameter.hss_port", 3868, 1, 65535, &v) != 0)
		goto bad;
	k->hss_port = (uint16_t)v;
	if (ims_cfg_int(cfg, "diameter.port", 0, 0, 65535, &v) != 0)
		goto bad;
	k->dia_port = (uint16_t)v;
	if (ims_cfg_int(cfg, "diameter.timeout_ms", 3000, 100, 60000, &v) != 0)
		goto bad;
	k->cx_timeout_ms = (unsigned)v;
	if (ims_cfg_int(cfg, "uar_retries", 3, 1, ICSCF_MAX_SCSCF, &v) != 0)
		goto bad;
	k->uar_retries = (int)v;

	/* The S-CSCF pool (TS 24.229 §5.3.1.2: selection by capabilities). */
	n = ims_cfg_list_len(cfg, "scscf_pool");
	if (n < 0)
		goto bad;
	if (n > ICSCF_MAX_SCSCF) {
		snprintf(err, errlen, "scscf_pool: at most %d entries", ICSCF_MAX_SCSCF);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		icscf_scscf_t *s = &c->pool.s[i];
		const char *name, *uri;
		snprintf(path, sizeof(path), "scscf_pool[%d].name", i);
		if (ims_cfg_str(cfg, path, NULL, &name) != 0)
			goto bad;
		snprintf(path, sizeof(path), "scscf_pool[%d].uri", i);
		if (ims_cfg_str(cfg, path, name, &uri) != 0)
			goto bad;
		if (strncmp(name, "sip:", 4) != 0 || strncmp(uri, "sip:", 4) != 0) {
			snprintf(err, errlen, "scscf_pool[%d]: name and uri must be sip: URIs", i);
			goto fail;
		}
		snprintf(s->name, sizeof(s->name), "%s", name);
		snprintf(s->uri, sizeof(s->uri), "%s", uri);
		snprintf(path, sizeof(path), "scscf_pool[%d].capabilities", i);
		int nc = ims_cfg_list_len(cfg, path);
		if (nc < 0)
			goto bad;
		if (nc > ICSCF_MAX_CAPS) {
			snprintf(err, errlen, "%s: at most %d", path, ICSCF_MAX_CAPS);
			goto fail;
		}
		for (int j = 0; j < nc; j++) {
			snprintf(path, sizeof(path), "scscf_pool[%d].capabilities[%d]", i, j);
			if (ims_cfg_int(cfg, path, 0, 0, 0xffffffffL, &v) != 0)
				goto bad;
			s->caps[j] = (uint32_t)v;
		}
		s->n_caps = (unsigned)nc;
	}
	c->pool.n = (unsigned)n;
	if (n == 0) {
		snprintf(c->pool.s[0].name, sizeof(c->pool.s[0].name), "%s", owned.scscf_name);
		snprintf(c->pool.s[0].uri, sizeof(c->pool.s[0].uri), "sip:127.0.0.1:6060");
		c->pool.n = 1;
	}
	*out = c;
	return 0;
bad:
	snprintf(err, errlen, "%s", ims_cfg_error(cfg));
fail:
	free(c);
	free(owned.identity);
	free(owned.hss_host);
	free(owned.scscf_name);
	memset(&owned, 0, sizeof(owned));
	return IMS_ECONFIG;
}

int icscf_ready(void *ctx, char *why, size_t whylen)
{
	icscf_ctx_t *c = ctx;
	if (!cx_core_peer_is_open(c->cfg.hss_host)) {
		snprintf(why, whylen, "HSS %s not connected", c->cfg.hss_host);
		return 0;
	}
	return 1;
}

int icscf_start(void *ctx, char *err, size_t errlen)
{
	icscf_ctx_t *c = ctx;
	cx_core_cfg_t dc;
	memset(&dc, 0, sizeof(dc));
	dc.identity = c->cfg.dia_identity;
	dc.realm = c->cfg.dia_realm;
	dc.port = c->cfg.dia_port;
	dc.listen_addr = c->cfg.dia_port ? "127.0.0.1" : NULL;
	dc.work_dir = c->cfg.dia_work_dir;
	dc.peers[0].host = c->cfg.hss_host;
	dc.peers[0].addr = c->cfg.hss_addr;
	dc.peers[0].port = c->cfg.hss_port;
	dc.n_peers = 1;
	dc.request_timeout_ms = c->cfg.cx_timeout_ms;
	dc.tc_timer = 2;
	int rc = cx_core_start(&dc);
	if (rc != 0) {
		snprintf(err, errlen, "diameter: cannot start (%s)", ims_strerror(rc));
		return rc;
	}
	c->cx_started = 1;

	sip_proxy_cfg_t pc;
	memset(&pc, 0, sizeof(pc));
	pc.tp.listen = c->cfg.listen;
	pc.tp.nlisten = c->cfg.n_listen;
	pc.tp.workers = c->cfg.workers;
	pc.hosts = c->cfg.hosts;
	pc.server = "ims-icscf/" IMS_VERSION;
	static const char *const supported[] = { "path", NULL };
	pc.supported = supported;
	sip_proxy_hooks_t hooks = {
		.on_request = icscf__on_request,
		.on_response = icscf__on_response,
		.ud = c,
	};
	rc = sip_proxy_create(&pc, &hooks, &c->proxy, err, errlen);
	if (rc != 0)
		return rc;
	rc = sip_proxy_start(c->proxy);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the SIP workers");
		return rc;
	}
	LOG_INFO("icscf", "started identity=%s hss=%s:%u pool=%u", c->cfg.dia_identity,
		 c->cfg.hss_addr, (unsigned)c->cfg.hss_port, c->pool.n);
	return 0;
}

void icscf_stop(void *ctx)
{
	icscf_ctx_t *c = ctx;
	if (c->proxy)
		sip_proxy_stop(c->proxy);
	if (c->cx_started)
		cx_core_stop();
	c->cx_started = 0;
}

void icscf_destroy(void *ctx)
{
	icscf_ctx_t *c = ctx;
	if (!c)
		return;
	sip_proxy_destroy(c->proxy);
	free(c);
	free(owned.identity);
	free(owned.hss_host);
	free(owned.scscf_name);
	memset(&owned, 0, sizeof(owned));
}
