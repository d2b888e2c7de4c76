/* I-CSCF decisions on Cx answers: see cx-decide.h. */
#include "cx-decide.h"

#include "base/ims_err.h"
#include "dia/cx-dict.h"

static void reply(icscf_decision_t *d, int code, const char *reason)
{
	d->action = ICSCF_REPLY;
	d->code = code;
	d->reason = reason;
	d->target = IMS_STR_NULL;
	d->pool_index = -1;
}

/* Forward to the S-CSCF the HSS named: through the pool's URI when the
 * name is configured (the name may not resolve), else to the name. */
static void forward_named(icscf_decision_t *d, ims_str_t name, const icscf_pool_t *pool)
{
	int i = icscf_pool_find(pool, name);
	d->action = ICSCF_FORWARD;
	d->code = 0;
	d->reason = NULL;
	if (i >= 0) {
		d->target = ims_str_cstr(pool->s[i].uri);
		d->pool_index = i;
	} else {
		d->target = name;
		d->pool_index = -1;
	}
}

static void select_from_pool(icscf_decision_t *d, const cx_answer_t *a, const icscf_pool_t *pool,
			     uint32_t tried)
{
	icscf_caps_req_t req = {
		.mandatory = a->cap_mandatory,
		.n_mandatory = a->n_cap_mandatory,
		.optional = a->cap_optional,
		.n_optional = a->n_cap_optional,
		.names = a->cap_server_name,
		.n_names = a->n_cap_server_name,
	};
	int i = icscf_select_scscf(pool, &req, tried);
	if (i < 0) {
		/* TS 24.229 §5.3.1.2: no S-CSCF can be selected. */
		reply(d, 600, "Busy Everywhere");
		return;
	}
	d->action = ICSCF_FORWARD;
	d->code = 0;
	d->reason = NULL;
	d->target = ims_str_cstr(pool->s[i].uri);
	d->pool_index = i;
}

int icscf_uaa_decide(const cx_answer_t *uaa, const icscf_pool_t *pool, uint32_t tried,
		     icscf_decision_t *d)
{
	if (uaa->status != CX_ANS_OK) {
		reply(d, 480, "Temporarily Unavailable");
		return 0;
	}
	uint32_t code = cx_answer_code(uaa);
	if (cx_answer_success(uaa)) {
		/* A Server-Name is the S-CSCF already assigned (2002, or 2001
		 * with a name stored); it is retried only once: after it
		 * failed, a REGISTRATION_AND_CAPABILITIES UAR brings
		 * capabilities instead (TS 29.228 §6.1.1). */
		if (uaa->server_name.len) {
			int i = icscf_pool_find(pool, uaa->server_name);
			if (i < 0 || !(tried & (1u << i))) {
				forward_named(d, uaa->server_name, pool);
				return 0;
			}
		}
		select_from_pool(d, uaa, pool, tried);
		return 0;
	}
	if (uaa->exp_result_code) {
		switch (code) {
		case CX_DIAMETER_ERROR_USER_UNKNOWN:
		case CX_DIAMETER_ERROR_IDENTITIES_DONT_MATCH:
		case CX_DIAMETER_ERROR_ROAMING_NOT_ALLOWED:
		case CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED:
			/* TS 24.229 §5.3.1.2: a negative answer to the user
			 * registration status query gives 403 (Forbidden). */
			reply(d, 403, "Forbidden");
			return 0;
		default:
			break;
		}
	} else if (code == CX_DIAMETER_AUTHORIZATION_REJECTED) {
		reply(d, 403, "Forbidden");
		return 0;
	}
	reply(d, 480, "Temporarily Unavailable");
	return 0;
}

int icscf_lia_decide(const cx_answer_t *lia, const icscf_pool_t *pool, icscf_decision_t *d)
{
	if (lia->status != CX_ANS_OK) {
		reply(d, 480, "Temporarily Unavailable");
		return 0;
	}
	uint32_t code = cx_answer_code(lia);
	if (cx_answer_success(lia)) {
		if (lia->server_name.len)
			forward_named(d, lia->server_name, pool);
		else if (lia->has_caps || code == CX_DIAMETER_UNREGISTERED_SERVICE)
			/* TS 24.229 §5.3.2.1: no S-CSCF assigned yet but the
			 * user has unregistered services: select one. */
			select_from_pool(d, lia, pool, 0);
		else
			reply(d, 480, "Temporarily Unavailable");
		return 0;
	}
	if (lia->exp_result_code == CX_DIAMETER_ERROR_USER_UNKNOWN) {
		/* TS 24.229 §5.3.2.1: the public user identity is not allocated. */
		reply(d, 404, "Not Found");
		return 0;
	}
	if (lia->exp_result_code == CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED) {
		/* Not registered and no unregistered services. */
		reply(d, 480, "Temporarily Unavailable");
		return 0;
	}
	reply(d, 480, "Temporarily Unavailable");
	return 0;
}
