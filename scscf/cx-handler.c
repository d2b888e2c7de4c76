/* RTR and PPR at the S-CSCF (see cx-handler.h). */
#include "cx-handler.h"

#include "base/ims_err.h"
#include "dia/cx-dict.h"
#include "dia/cx-server.h"
#include "log/ims_log.h"
#include "profile.h"
#include "reg-handler.h"
#include "reg-store.h"

/* The registrations an RTR/PPR is about: the Public-Identity AVPs when
 * present, else every registration of User-Name (TS 29.228 §6.5.1.1). */
static int targets(scscf_ctx_t *ctx, const cx_req_t *req, ims_arena_t *arena, ims_str_t **out)
{
	if (req->n_impu) {
		*out = (ims_str_t *)req->impu;
		return (int)req->n_impu;
	}
	return scscf_reg_store_find_impi(ctx->store, req->user_name, arena, out);
}

void scscf_cx_on_rtr(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena)
{
	scscf_ctx_t *ctx = arg;
	ims_str_t *impus = NULL;
	int n = targets(ctx, req, arena, &impus), removed = 0;
	/* TS 24.229 §5.4.1.5: PERMANENT_TERMINATION -> the contacts are
	 * "rejected"; the other reasons ask the UE to register again
	 * ("deactivated") */
	scscf_contact_event_t ev = (req->has_dereg && req->dereg_code != CX_REASON_PERMANENT_TERMINATION)
					   ? SCSCF_CEV_DEACTIVATED
					   : SCSCF_CEV_REJECTED;
	for (int i = 0; i < n; i++)
		if (scscf_reg_network_dereg(ctx, impus[i], ev) == 0)
			removed++;
	LOG_INFO("scscf", "cx.rtr impi=%.*s identities=%d removed=%d reason=%u",
		 IMS_STR_FMT(req->user_name), n < 0 ? 0 : n, removed, req->dereg_code);
	ans->result_code = n < 0 ? CX_DIAMETER_UNABLE_TO_COMPLY : CX_DIAMETER_SUCCESS;
}

void scscf_cx_on_ppr(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *arena)
{
	scscf_ctx_t *ctx = arg;
	ims_str_t *impus = NULL;
	int n = targets(ctx, req, arena, &impus), updated = 0;

	if (!req->user_data.len) {
		/* TS 29.228 §6.5.2: PPR without User-Data changes only charging
		 * information, which we do not keep */
		ans->result_code = CX_DIAMETER_SUCCESS;
		return;
	}
	for (int i = 0; i < n; i++) {
		scscf_profile_t *p = NULL;
		scscf_profile_err_t perr;
		if (scscf_profile_load(req->user_data.s, req->user_data.len, &p, &perr) != 0) {
			LOG_WARN("scscf", "cx.ppr_bad_profile impi=%.*s where=%s reason=\"%s\"",
				 IMS_STR_FMT(req->user_name), perr.where, perr.reason);
			ans->result_code = CX_DIAMETER_UNABLE_TO_COMPLY;
			return;
		}
		if (scscf_reg_store_set_profile(ctx->store, impus[i], req->user_data,
						(struct scscf_profile *)p) == 0)
			updated++;
	}
	LOG_INFO("scscf", "cx.ppr impi=%.*s updated=%d", IMS_STR_FMT(req->user_name), updated);
	if (updated)
		ans->result_code = CX_DIAMETER_SUCCESS;
	else {
		ans->exp_vendor_id = CX_VENDOR_3GPP;
		ans->exp_result_code = CX_DIAMETER_ERROR_USER_UNKNOWN;
	}
}

int scscf_cx_handlers_register(scscf_ctx_t *ctx)
{
	int rc = cx_server_register(CX_CMD_RTR, scscf_cx_on_rtr, ctx);
	if (rc == 0)
		rc = cx_server_register(CX_CMD_PPR, scscf_cx_on_ppr, ctx);
	return rc;
}
