/* ims-scscf: the Serving-CSCF (TS 24.229 §5.4) on the shared main. */
#include "app/ims_app.h"
#include "context.h"
#ifdef SCSCF_HAVE_SESSION
#include "session.h"
#endif

static int configure(ims_cfg_t *cfg, void **out, char *err, size_t errlen)
{
	int rc = scscf_configure(cfg, out, err, errlen);
#ifdef SCSCF_HAVE_SESSION
	/* the session side installs ctx->on_session and its hooks */
	if (rc == 0) {
		scscf_ctx_t *ctx = *out;
		rc = scscf_session_init(ctx, err, errlen);
		if (rc != 0) {
			scscf_destroy(ctx);
			*out = NULL;
			return rc;
		}
		ctx->on_tick = scscf_session_expire;
	}
#endif
	return rc;
}

static void destroy(void *ctx)
{
#ifdef SCSCF_HAVE_SESSION
	/* after stop: no worker runs session code any more */
	scscf_session_destroy(ctx);
#endif
	scscf_destroy(ctx);
}

int main(int argc, char **argv)
{
	static const ims_app_desc_t desc = {
		.name = "ims-scscf",
		.summary = "Serving-CSCF: registrar, IMS AKA / Digest authentication, "
			   "reg event, iFC service chaining",
		.default_config = "/etc/ims/scscf.yaml",
		.configure = configure,
		.start = scscf_start,
		.stop = scscf_stop,
		.destroy = destroy,
		.default_http_port = 9103,
		.ready = scscf_ready,
		.known_keys = scscf_known_keys,
	};
	return ims_app_main(argc, argv, &desc);
}
