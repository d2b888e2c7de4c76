/* The S-CSCF's Cx requests (see cx-build.h). */
#include "cx-build.h"

#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "log/ims_log.h"

typedef struct pending {
	scscf_cx_done_fn done;
	void *arg;
	uint32_t cmd;
} pending_t;

void scscf_cx_result_free(scscf_cx_result_t *res)
{
	if (!res)
		return;
	free(res->user_data);
	memset(&res->vec, 0, sizeof(res->vec));
	free(res);
}

int scscf_cx_item_to_vec(const cx_auth_item_t *it, scscf_auth_vec_t *vec)
{
	memset(vec, 0, sizeof(*vec));
	if (it->authenticate.len == 32 && it->authorization.len >= 4 &&
	    it->authorization.len <= 16) {
		/* TS 29.229 §6.3.10/§6.3.11: RAND || AUTN, and XRES */
		vec->scheme = SCSCF_AUTH_AKA;
		memcpy(vec->rand, it->authenticate.s, 16);
		memcpy(vec->autn, it->authenticate.s + 16, 16);
		memcpy(vec->xres, it->authorization.s, it->authorization.len);
		vec->xres_len = it->authorization.len;
		if (it->ck.len == 16 && it->ik.len == 16) {
			memcpy(vec->ck, it->ck.s, 16);
			memcpy(vec->ik, it->ik.s, 16);
			vec->has_ck_ik = 1;
		}
		return 0;
	}
	if (it->has_digest && it->digest_ha1.len == 32) {
		/* TS 29.229 §6.3.36 SIP-Digest-Authenticate: Digest-HA1 */
		vec->scheme = SCSCF_AUTH_MD5;
		memcpy(vec->ha1, it->digest_ha1.s, 32);
		vec->ha1[32] = '\0';
		return 0;
	}
	return IMS_EINVAL;
}

/* freeDiameter thread: copy what we keep, then hand over. */
static void on_answer(void *arg, const cx_answer_t *ans)
{
	pending_t *p = arg;
	scscf_cx_result_t *res = calloc(1, sizeof(*res));
	if (res) {
		res->status = ans->status;
		res->code = cx_answer_code(ans);
		res->success = cx_answer_success(ans);
		if (ans->status == CX_ANS_OK && p->cmd == CX_CMD_MAR) {
			for (unsigned i = 0; i < ans->n_items && !res->has_vec; i++)
				if (scscf_cx_item_to_vec(&ans->items[i], &res->vec) == 0)
					res->has_vec = 1;
		}
		if (ans->status == CX_ANS_OK && ans->user_data.len) {
			res->user_data = malloc((size_t)ans->user_data.len + 1);
			if (res->user_data) {
				memcpy(res->user_data, ans->user_data.s, ans->user_data.len);
				res->user_data[ans->user_data.len] = '\0';
				res->user_data_len = ans->user_data.len;
			} else {
				res->status = CX_ANS_ERROR;
				res->success = 0;
			}
		}
	} else {
		LOG_ERROR("scscf", "cx.answer_lost cmd=%s reason=oom", cx_cmd_name(p->cmd, 0));
	}
	p->done(p->arg, res);
	free(p);
}

static int send_req(scscf_ctx_t *ctx, const cx_req_t *req, scscf_cx_done_fn done, void *arg)
{
	pending_t *p = malloc(sizeof(*p));
	int rc;
	if (!p)
		return IMS_ENOMEM;
	p->done = done;
	p->arg = arg;
	p->cmd = req->cmd;
	rc = ctx->cx->send(req, ctx->cx->timeout_ms, on_answer, p);
	if (rc != 0)
		free(p);
	return rc;
}

int scscf_cx_send_mar(scscf_ctx_t *ctx, ims_str_t impi, ims_str_t impu,
		      scscf_auth_scheme_t scheme, const uint8_t *rand_auts,
		      scscf_cx_done_fn done, void *arg)
{
	cx_req_t req;
	memset(&req, 0, sizeof(req));
	req.cmd = CX_CMD_MAR;
	req.user_name = impi;
	req.impu[0] = impu;
	req.n_impu = 1;
	req.server_name = ims_str_cstr(ctx->cfg.own_uri);
	req.n_auth_items = 1;
	/* TS 29.229 §6.3.8 SIP-Authentication-Scheme */
	req.auth_scheme = scheme == SCSCF_AUTH_AKA ? IMS_STR("Digest-AKAv1-MD5")
						   : IMS_STR("SIP Digest");
	if (rand_auts)
		req.auth_authorization = ims_str_from((const char *)rand_auts, 30);
	return send_req(ctx, &req, done, arg);
}

int scscf_cx_send_sar(scscf_ctx_t *ctx, ims_str_t impi, ims_str_t impu, cx_sat_t sat,
		      int user_data_available, scscf_cx_done_fn done, void *arg)
{
	cx_req_t req;
	memset(&req, 0, sizeof(req));
	req.cmd = CX_CMD_SAR;
	req.user_name = impi;
	req.impu[0] = impu;
	req.n_impu = 1;
	req.server_name = ims_str_cstr(ctx->cfg.own_uri);
	req.has_sat = 1;
	req.sat = (uint32_t)sat;
	req.user_data_available = user_data_available ? CX_USER_DATA_ALREADY_AVAILABLE
						      : CX_USER_DATA_NOT_AVAILABLE;
	return send_req(ctx, &req, done, arg);
}
