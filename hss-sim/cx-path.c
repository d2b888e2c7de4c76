/* The HSS's Diameter side: start/stop, and the HSS-initiated requests
 * RTR (TS 29.228 §6.1.3) and PPR (§6.1.4 / §6.2.2). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "cx-handler.h"
#include "cx-int.h"
#include "dia/cx-client.h"
#include "dia/cx-core.h"
#include "dia/cx-dict.h"
#include "dia/cx-server.h"
#include "log/ims_log.h"
#include "userdata-build.h"

#define MOD "hss-cx"

static int cx_start(hss_ctx_t *ctx, char *err, size_t errlen)
{
	hss_cx_t *cx = ctx->cx;
	const char *realm = ctx->cfg.dia_realm ? ctx->cfg.dia_realm
			    : ctx->cfg.realm     ? ctx->cfg.realm
						 : HSS_DEFAULT_REALM;
	char identity[300];
	if (ctx->cfg.dia_identity)
		snprintf(identity, sizeof identity, "%s", ctx->cfg.dia_identity);
	else
		snprintf(identity, sizeof identity, "hss.%s", realm);
	/* SPEC.md lab default: the S-CSCF listens on 6060 (config: scscf_name) */
	if (ctx->cfg.scscf_name)
		snprintf(cx->default_scscf, sizeof cx->default_scscf, "%s", ctx->cfg.scscf_name);
	else
		snprintf(cx->default_scscf, sizeof cx->default_scscf, "sip:scscf.%s:6060",
			 ctx->cfg.realm ? ctx->cfg.realm : realm);

	cx_core_cfg_t c;
	memset(&c, 0, sizeof c);
	c.identity = identity;
	c.realm = realm;
	c.listen_addr = ctx->cfg.dia_addr;
	c.port = (uint16_t)(ctx->cfg.dia_port > 0 ? ctx->cfg.dia_port : HSS_DEFAULT_DIA_PORT);
	c.accept_realm_peers = 1; /* any CSCF of our realm may connect */
	c.app_threads = (unsigned)(ctx->cfg.dia_threads > 0 ? ctx->cfg.dia_threads : HSS_DEFAULT_DIA_THREADS);
	c.extra_conf = ctx->cfg.dia_conf_path;
	int rc = cx_core_start(&c);
	if (rc) {
		/* cx_core_start logged the details; fd_core_start fails mostly
		 * because the port is taken */
		snprintf(err, errlen, "diameter: cannot start on %s:%u (%s)",
			 c.listen_addr ? c.listen_addr : "*", (unsigned)c.port,
			 rc == IMS_EDIAMETER ? "port in use or not allowed?" : ims_strerror(rc));
		return rc;
	}
	if ((rc = cx_server_register(CX_CMD_UAR, hss_cx_uar, ctx)) ||
	    (rc = cx_server_register(CX_CMD_MAR, hss_cx_mar, ctx)) ||
	    (rc = cx_server_register(CX_CMD_SAR, hss_cx_sar, ctx)) ||
	    (rc = cx_server_register(CX_CMD_LIR, hss_cx_lir, ctx))) {
		snprintf(err, errlen, "diameter: cannot register the Cx handlers (%s)",
			 ims_strerror(rc));
		return rc;
	}
	cx->started = 1;
	LOG_INFO(MOD, "cx.started identity=%s realm=%s port=%u", identity, realm, (unsigned)c.port);
	return 0;
}

static void cx_stop(hss_ctx_t *ctx)
{
	hss_cx_t *cx = ctx->cx;
	if (!cx)
		return;
	/* also after a start that failed half-way */
	cx_server_unregister_all();
	/* answers waiting for a store commit go out while the core runs;
	 * the second sync catches a handler that was still running (its
	 * answer is dropped: the core is down) */
	if (ctx->store)
		hss_store_sync(ctx->store);
	cx_core_stop();
	if (ctx->store)
		hss_store_sync(ctx->store);
	cx->started = 0;
	pthread_mutex_destroy(&cx->mu);
	hss_cx__hosts_free(cx);
	free(cx);
	ctx->cx = NULL;
}

static int outcome(const cx_answer_t *ans, const char *what, const char *impi, const char *host)
{
	int rc = 0;
	switch (ans->status) {
	case CX_ANS_OK:
		rc = cx_answer_success(ans) ? 0 : IMS_EDIAMETER;
		break;
	case CX_ANS_TIMEOUT:
		rc = IMS_ETIMEDOUT;
		break;
	case CX_ANS_UNREACHABLE:
		rc = IMS_EUNREACH;
		break;
	default:
		rc = IMS_EDIAMETER;
	}
	LOG_INFO(MOD, "%s.done impi=%s host=%s status=%d code=%u", what, impi, host,
		 (int)ans->status, cx_answer_code(ans));
	return rc;
}

/* Fills the parts RTR and PPR share: User-Name, Destination-Host. */
static int prepare(hss_ctx_t *ctx, const hss_sub_t *sub, const char *scscf_name, cx_req_t *r,
		   char *host, size_t cap)
{
	if (!ctx->cx || !((hss_cx_t *)ctx->cx)->started)
		return IMS_ESTATE;
	if (hss_cx_scscf_host(ctx, sub->impi, scscf_name, host, cap)) {
		LOG_WARN(MOD, "request.no_host impi=%s scscf=%s", sub->impi,
			 scscf_name ? scscf_name : "");
		return IMS_ENOENT;
	}
	memset(r, 0, sizeof *r);
	r->user_name = ims_str_cstr(sub->impi);
	r->dest_host = ims_str_cstr(host);
	return 0;
}

/* TS 29.228 §6.1.3: de-register every identity of the subscriber at its
 * S-CSCF (Deregistration-Reason PERMANENT_TERMINATION: the subscription is
 * gone). Blocks until the RTA (or the timeout). */
static int send_rtr(hss_ctx_t *ctx, const hss_sub_t *sub, const char *scscf_name)
{
	char host[256];
	cx_req_t r;
	int rc = prepare(ctx, sub, scscf_name, &r, host, sizeof host);
	if (rc)
		return rc;
	r.cmd = CX_CMD_RTR;
	for (unsigned i = 0; i < sub->n_impus && i < CX_MAX_IMPU; i++)
		r.impu[r.n_impu++] = ims_str_cstr(sub->impus[i].uri);
	r.has_dereg = 1;
	r.dereg_code = CX_REASON_PERMANENT_TERMINATION;
	r.dereg_info = IMS_STR("subscription removed");
	ims_arena_t *a = ims_arena_create(2048);
	if (!a)
		return IMS_ENOMEM;
	cx_answer_t ans;
	rc = cx_client_call(&r, 0, a, &ans);
	if (!rc)
		rc = outcome(&ans, "rtr", sub->impi, host);
	if (!rc) {
		hss_store_set_reg(ctx->store, sub->impi, HSS_REG_NOT_REGISTERED, NULL);
		hss_cx__host_forget(ctx->cx, sub->impi);
	}
	ims_arena_destroy(a);
	return rc;
}

/* TS 29.228 §6.2.2: push the changed profile (User-Data) to the S-CSCF. */
static int send_ppr(hss_ctx_t *ctx, const hss_sub_t *sub, const char *scscf_name)
{
	char host[256];
	cx_req_t r;
	char *xml = NULL;
	int rc = prepare(ctx, sub, scscf_name, &r, host, sizeof host);
	if (rc)
		return rc;
	if ((rc = hss_userdata_build(sub, NULL, &xml)))
		return rc;
	r.cmd = CX_CMD_PPR;
	r.user_data = ims_str_cstr(xml);
	ims_arena_t *a = ims_arena_create(2048);
	if (!a) {
		free(xml);
		return IMS_ENOMEM;
	}
	cx_answer_t ans;
	rc = cx_client_call(&r, 0, a, &ans);
	if (!rc)
		rc = outcome(&ans, "ppr", sub->impi, host);
	ims_arena_destroy(a);
	free(xml);
	return rc;
}

int hss_cx_init(hss_ctx_t *ctx)
{
	hss_cx_t *cx = calloc(1, sizeof *cx);
	if (!cx)
		return IMS_ENOMEM;
	pthread_mutex_init(&cx->mu, NULL);
	ctx->cx = cx;
	ctx->cx_start = cx_start;
	ctx->cx_stop = cx_stop;
	ctx->send_rtr = send_rtr;
	ctx->send_ppr = send_ppr;
	return 0;
}
