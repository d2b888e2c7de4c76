/* SAR UNREGISTERED_USER for a terminating request (TS 29.228 §6.1.2,
 * TS 24.229 §5.4.3.3; see unreg-fetch.h). */
#include "unreg-fetch.h"

#include "base/ims_err.h"
#include "cx-build.h"
#include "log/ims_log.h"
#include "profile.h"
#include "reg-store.h"

typedef struct unreg_op {
	scscf_ctx_t *ctx;
	sip_proxy_ctx_t *pctx;
	ims_str_t impu;            /* in the context arena */
	scscf_unreg_done_fn done;
	void *arg;
	scscf_cx_result_t *res;    /* the SAA, owned until on_worker frees it */
	int send_rc;               /* the SAR could not be sent */
} unreg_op_t;

/* On the worker: keeps the profile the SAA brought. */
static int store_profile(unreg_op_t *op)
{
	const scscf_cx_result_t *res = op->res;
	if (op->send_rc)
		return IMS_EDIAMETER;
	if (!res || res->status != CX_ANS_OK) {
		LOG_WARN("scscf", "unreg.sar_failed impu=%.*s status=%d", IMS_STR_FMT(op->impu),
			 res ? (int)res->status : -1);
		return IMS_EDIAMETER;
	}
	if (!res->success || !res->user_data || !res->user_data_len) {
		LOG_INFO("scscf", "unreg.no_profile impu=%.*s code=%u", IMS_STR_FMT(op->impu), res->code);
		return IMS_ENOENT;
	}
	scscf_profile_t *prof = NULL;
	scscf_profile_err_t perr;
	int rc = scscf_profile_load(res->user_data, res->user_data_len, &prof, &perr);
	if (rc) {
		LOG_WARN("scscf", "unreg.bad_user_data impu=%.*s where=%s reason=%s", IMS_STR_FMT(op->impu),
			 perr.where, perr.reason);
		return rc == IMS_ENOMEM ? IMS_ENOMEM : IMS_EPARSE;
	}
	/* The implicit registration set: the identities of the service
	 * profile holding impu (TS 29.228 §6.1.2, "all the public identities
	 * of the set"). */
	const scscf_service_profile_t *sp = NULL;
	ims_str_t *impus = NULL;
	size_t n = 0;
	if (scscf_profile_find_impu(prof, op->impu, &sp, NULL) && sp->n_impus) {
		impus = ims_arena_alloc(sip_proxy_ctx_arena(op->pctx), sp->n_impus * sizeof(*impus));
		if (!impus) {
			scscf_profile_free(prof);
			return IMS_ENOMEM;
		}
		for (unsigned i = 0; i < sp->n_impus; i++)
			impus[n++] = sp->impus[i].identity;
	}
	/* impi and impus are copied before the profile is consumed */
	rc = scscf_reg_store_set_unregistered(op->ctx->store, prof->private_id, op->impu, impus, n,
					      ims_str_from(res->user_data, (uint32_t)res->user_data_len),
					      prof);
	if (rc == 0)
		LOG_INFO("scscf", "unreg.profile_stored impu=%.*s identities=%zu", IMS_STR_FMT(op->impu), n);
	return rc;
}

static void on_worker(sip_proxy_ctx_t *pctx, void *arg)
{
	unreg_op_t *op = arg;
	int rc = store_profile(op);
	scscf_cx_result_free(op->res);
	op->res = NULL;
	op->done(pctx, op->arg, rc);
}

/* freeDiameter's thread: hand the answer to the request's worker. */
static void on_saa(void *arg, scscf_cx_result_t *res)
{
	unreg_op_t *op = arg;
	op->res = res;
	if (sip_proxy_resume(op->pctx, on_worker, op) != 0) {
		/* the context stays suspended: nothing else can answer now */
		LOG_ERROR("scscf", "unreg.resume_failed impu=%.*s", IMS_STR_FMT(op->impu));
		scscf_cx_result_free(res);
	}
}

int scscf_unreg_fetch(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, ims_str_t impu,
		      scscf_unreg_done_fn done, void *arg)
{
	if (!ctx || !ctx->cx || !ctx->store || !done)
		return IMS_EUNREACH;
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	unreg_op_t *op = ims_arena_zalloc(a, sizeof(*op));
	if (!op || ims_arena_strdup(a, impu, &op->impu))
		return IMS_ENOMEM;
	op->ctx = ctx;
	op->pctx = pctx;
	op->done = done;
	op->arg = arg;
	sip_proxy_suspend(pctx);
	LOG_INFO("scscf", "unreg.sar impu=%.*s call_id=%.*s", IMS_STR_FMT(op->impu),
		 IMS_STR_FMT(sip_proxy_ctx_msg(pctx)->call_id));
	int rc = scscf_cx_send_sar(ctx, IMS_STR_NULL, op->impu, CX_SAT_UNREGISTERED_USER, 0, on_saa, op);
	if (rc) {
		LOG_WARN("scscf", "unreg.sar_send_failed impu=%.*s err=%s", IMS_STR_FMT(op->impu),
			 ims_strerror(rc));
		op->send_rc = rc;
		if (sip_proxy_resume(pctx, on_worker, op) != 0)
			LOG_ERROR("scscf", "unreg.resume_failed impu=%.*s", IMS_STR_FMT(op->impu));
	}
	return 0;
}
