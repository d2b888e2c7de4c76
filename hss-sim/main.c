/* ims-hss: the HSS simulator daemon (SQLite store, REST provisioning and,
 * when the Cx side is linked, the Diameter Cx server). */
#include <stdio.h>

#include <jansson.h>
#include <libxml/parser.h>

#include "app/ims_app.h"
#include "base/ims_err.h"
#include "context.h"
#include "cx-handler.h"
#include "log/ims_log.h"
#include "rest-handler.h"

static int hss_configure(ims_cfg_t *cfg, void **out, char *err, size_t errlen)
{
	hss_ctx_t *ctx = hss_ctx_new();
	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	int rc = hss_cfg_read(&ctx->cfg, cfg, err, errlen);
	if (rc != 0) {
		hss_ctx_destroy(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/* REST first: it waits for running requests, which may still send RTR or
 * PPR through the Cx side; then the Cx side (which frees ctx->cx). */
static void hss_stop(void *p)
{
	hss_ctx_t *ctx = p;
	hss_rest_stop(ctx);
	if (ctx->cx_stop != NULL)
		ctx->cx_stop(ctx);
}

static int hss_start(void *p, char *err, size_t errlen)
{
	hss_ctx_t *ctx = p;
	/* libxml2 and jansson's hash seed are global: set them up once,
	 * before the REST and Diameter threads exist */
	xmlInitParser();
	json_object_seed(0);
	int rc = hss_ctx_open_store(ctx, err, errlen);
	if (rc != 0)
		return rc;
	/* The Cx side installs its hooks (cx_start/stop, send_rtr/ppr). */
	if ((rc = hss_cx_init(ctx)) != 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if ((rc = hss_rest_start(ctx, err, errlen)) != 0) {
		hss_stop(ctx);
		return rc;
	}
	if (ctx->cx_start != NULL && (rc = ctx->cx_start(ctx, err, errlen)) != 0) {
		hss_stop(ctx);
		return rc;
	}
	LOG_INFO("hss", "started realm=%s db=%s rest=%s:%d cx=%s", ctx->cfg.realm, ctx->cfg.db_path,
		 ctx->cfg.rest_addr, ctx->cfg.rest_port, ctx->cx_start ? "on" : "off");
	return 0;
}


static void hss_destroy(void *p)
{
	hss_ctx_destroy(p);
}

int main(int argc, char **argv)
{
	const ims_app_desc_t desc = {
		.name = "ims-hss",
		.summary = "IMS HSS simulator: subscriber store, REST provisioning, Diameter Cx",
		.default_config = NULL,
		.configure = hss_configure,
		.start = hss_start,
		.stop = hss_stop,
		.destroy = hss_destroy,
		.default_http_port = 0, /* REST (with /healthz, /metrics) is rest.port */
		.known_keys = hss_known_keys,
	};
	return ims_app_main(argc, argv, &desc);
}
