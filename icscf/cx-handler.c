/* The I-CSCF's Cx steps: UAR for a REGISTER (TS 24.229 §5.3.1.2,
 * TS 29.228 §6.1.1) and LIR for an initial request (§5.3.2.1, TS 29.228
 * §6.1.4). The request context is suspended during the Diameter round
 * trip; the answer arrives on a freeDiameter thread, is copied into the
 * exchange's own arena and handed back to the SIP worker with
 * sip_proxy_resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "cx-decide.h"
#include "base/ims_err.h"
#include "dia/cx-client.h"
#include "dia/cx-dict.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "sip/proxy/sip_proxy.h"

typedef struct xstate {
	icscf_ctx_t *c;
	sip_proxy_ctx_t *pctx;
	int is_register;
	uint32_t tried;       /* pool entries that failed (bit per index) */
	int attempts;         /* branches sent */
	int cur;              /* pool index of the current branch, -1 */
	ims_arena_t *arena;   /* the copied answer; written by the Diameter thread only
			       * between send and resume */
	cx_answer_t ans;
} xstate_t;

static void xstate_free(void *p)
{
	xstate_t *x = p;
	ims_arena_destroy(x->arena);
	free(x);
}

static xstate_t *xstate_get(icscf_ctx_t *c, sip_proxy_ctx_t *pctx, int is_register)
{
	xstate_t *x = sip_proxy_ctx_data(pctx);
	if (x)
		return x;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->c = c;
	x->pctx = pctx;
	x->is_register = is_register;
	x->cur = -1;
	sip_proxy_ctx_set_data(pctx, x, xstate_free);
	return x;
}

static void count_cx(const char *cmd, const cx_answer_t *a)
{
	char code[16];
	if (a->status == CX_ANS_TIMEOUT)
		snprintf(code, sizeof(code), "timeout");
	else if (a->status != CX_ANS_OK)
		snprintf(code, sizeof(code), "error");
	else
		snprintf(code, sizeof(code), "%u", cx_answer_code(a));
	ims_counter_inc(ims_metrics_counter2("icscf_cx_answers_total", "Cx answers by command and code",
					     "cmd", cmd, "code", code));
}

/* Copies what the decision needs out of an answer that dies with the
 * callback. */
static int copy_answer(const cx_answer_t *in, ims_arena_t *a, cx_answer_t *out)
{
	*out = *in;
	out->session_id = out->origin_host = out->origin_realm = IMS_STR_NULL;
	out->error_message = out->failed_avp_data = out->user_name = out->impu = IMS_STR_NULL;
	out->user_data = IMS_STR_NULL;
	out->n_items = 0;
	out->n_assoc_impi = 0;
	if (in->server_name.len && ims_arena_strdup(a, in->server_name, &out->server_name) != 0)
		return IMS_ENOMEM;
	for (unsigned i = 0; i < in->n_cap_server_name && i < CX_MAX_CAPS; i++)
		if (ims_arena_strdup(a, in->cap_server_name[i], &out->cap_server_name[i]) != 0)
			return IMS_ENOMEM;
	return 0;
}

static void reply(sip_proxy_ctx_t *pctx, int code, const char *reason)
{
	sip_proxy_reply(pctx, code, ims_str_cstr(reason), IMS_STR_NULL, IMS_STR_NULL,
			IMS_STR_NULL);
}

/* ---- UAR ---------------------------------------------------------------- */

static void on_uaa(sip_proxy_ctx_t *pctx, void *arg)
{
	xstate_t *x = arg;
	icscf_ctx_t *c = x->c;
	const sip_msg_t *req = sip_proxy_ctx_received(pctx);
	if (sip_proxy_ctx_cancelled(pctx))
		return;
	icscf_decision_t d;
	icscf_uaa_decide(&x->ans, &c->pool, x->tried, &d);
	if (d.action == ICSCF_REPLY) {
		LOG_INFO("icscf", "uaa.reply code=%d cx=%u call_id=%.*s", d.code,
			 cx_answer_code(&x->ans), IMS_STR_FMT(req->call_id));
		reply(pctx, d.code, d.reason);
		return;
	}
	sip_proxy_target_t t;
	memset(&t, 0, sizeof(t));
	t.next_hop = d.target;
	x->cur = d.pool_index;
	LOG_INFO("icscf", "uaa.forward scscf=%.*s attempt=%d call_id=%.*s", IMS_STR_FMT(d.target),
		 x->attempts + 1, IMS_STR_FMT(req->call_id));
	int rc = x->attempts == 0 ? sip_proxy_forward(pctx, &t, NULL)
				  : sip_proxy_add_branch(pctx, &t, NULL);
	x->attempts++;
	if (rc != 0)
		reply(pctx, 500, "Server Internal Error");
}

static void uaa_cb(void *arg, const cx_answer_t *ans)
{
	xstate_t *x = arg;
	count_cx("UAA", ans);
	ims_arena_destroy(x->arena);
	x->arena = ims_arena_create(512);
	if (!x->arena || copy_answer(ans, x->arena, &x->ans) != 0) {
		memset(&x->ans, 0, sizeof(x->ans));
		x->ans.status = CX_ANS_ERROR;
	}
	if (sip_proxy_resume(x->pctx, on_uaa, x) != 0)
		LOG_ERROR("icscf", "uaa.resume_failed");
}

/* TS 33.203 §6.1 / TS 24.229 §5.4.1.2.1: without an Authorization the
 * private identity is the public one without its scheme. */
static ims_str_t private_identity(const sip_msg_t *m, const sip_uri_t *to, ims_arena_t *a)
{
	sip_hdr_t *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);
	sip_auth_t au;
	if (h && sip_auth_parse(h->value, NULL, &au) == 0 && au.username.len)
		return au.username;
	if (to->user.len)
		return ims_arena_printf(a, "%.*s@%.*s", IMS_STR_FMT(to->user), IMS_STR_FMT(to->host));
	return IMS_STR_NULL;
}

static ims_str_t unquote(ims_str_t v)
{
	v = ims_str_trim(v);
	if (v.len >= 2 && v.s[0] == '"' && v.s[v.len - 1] == '"')
		return ims_str_from(v.s + 1, v.len - 2);
	return v;
}

void icscf__send_uar(icscf_ctx_t *c, sip_proxy_ctx_t *pctx, uint32_t uat)
{
	const sip_msg_t *m = sip_proxy_ctx_received(pctx);
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	xstate_t *x = xstate_get(c, pctx, 1);
	if (!x) {
		reply(pctx, 500, "Server Internal Error");
		return;
	}
	sip_hdr_t *to = sip_msg_hdr(m, SIP_HDR_TO);
	sip_nameaddr_t tna;
	if (!to || sip_nameaddr_parse(to->value, NULL, &tna) != 0) {
		reply(pctx, 400, "Bad To");
		return;
	}
	cx_req_t r;
	memset(&r, 0, sizeof(r));
	r.user_name = private_identity(m, &tna.uri, a);
	r.impu[0] = tna.uri.raw;
	r.n_impu = 1;
	/* TS 29.228 §6.1.1: Visited-Network-Identifier from P-Visited-Network-ID
	 * (the P-CSCF's network); our own realm when absent (home access). */
	sip_hdr_t *pv = sip_msg_hdr(m, SIP_HDR_P_VISITED_NETWORK_ID);
	r.visited_network = pv ? unquote(pv->value) : ims_str_cstr(c->cfg.realm);
	r.has_auth_type = 1;
	r.auth_type = uat;
	if (!r.user_name.len) {
		reply(pctx, 403, "Forbidden");
		return;
	}
	int rc = cx_client_send_uar(&r, uaa_cb, x);
	if (rc != 0) {
		LOG_WARN("icscf", "uar.not_sent rc=%d impu=%.*s", rc, IMS_STR_FMT(r.impu[0]));
		reply(pctx, 480, "Temporarily Unavailable");
		return;
	}
	sip_proxy_suspend(pctx);
	LOG_DEBUG("icscf", "uar.sent impu=%.*s uat=%u call_id=%.*s", IMS_STR_FMT(r.impu[0]), uat,
		  IMS_STR_FMT(m->call_id));
}

/* ---- LIR ---------------------------------------------------------------- */

static void on_lia(sip_proxy_ctx_t *pctx, void *arg)
{
	xstate_t *x = arg;
	icscf_ctx_t *c = x->c;
	const sip_msg_t *req = sip_proxy_ctx_received(pctx);
	if (sip_proxy_ctx_cancelled(pctx))
		return;
	icscf_decision_t d;
	icscf_lia_decide(&x->ans, &c->pool, &d);
	if (d.action == ICSCF_REPLY) {
		LOG_INFO("icscf", "lia.reply code=%d cx=%u ruri=%.*s", d.code,
			 cx_answer_code(&x->ans), IMS_STR_FMT(req->ruri));
		reply(pctx, d.code, d.reason);
		return;
	}
	/* TS 24.229 §5.3.2.1: Route: <S-CSCF;lr> with no "orig", so the
	 * S-CSCF handles the request as terminating. */
	ims_str_t route = ims_arena_printf(sip_proxy_ctx_arena(pctx), "<%.*s;lr>",
					   IMS_STR_FMT(d.target));
	if (!route.s) {
		reply(pctx, 500, "Server Internal Error");
		return;
	}
	sip_proxy_target_t t;
	memset(&t, 0, sizeof(t));
	t.routes = &route;
	t.nroutes = 1;
	LOG_INFO("icscf", "lia.forward scscf=%.*s call_id=%.*s", IMS_STR_FMT(d.target),
		 IMS_STR_FMT(req->call_id));
	if (sip_proxy_forward(pctx, &t, NULL) != 0)
		reply(pctx, 500, "Server Internal Error");
}

static void lia_cb(void *arg, const cx_answer_t *ans)
{
	xstate_t *x = arg;
	count_cx("LIA", ans);
	x->arena = ims_arena_create(512);
	if (!x->arena || copy_answer(ans, x->arena, &x->ans) != 0) {
		memset(&x->ans, 0, sizeof(x->ans));
		x->ans.status = CX_ANS_ERROR;
	}
	if (sip_proxy_resume(x->pctx, on_lia, x) != 0)
		LOG_ERROR("icscf", "lia.resume_failed");
}

void icscf__send_lir(icscf_ctx_t *c, sip_proxy_ctx_t *pctx)
{
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	xstate_t *x = xstate_get(c, pctx, 0);
	if (!x) {
		reply(pctx, 500, "Server Internal Error");
		return;
	}
	const sip_uri_t *ru = sip_msg_ruri(m);
	if (!ru) {
		reply(pctx, 400, "Bad Request-URI");
		return;
	}
	cx_req_t r;
	memset(&r, 0, sizeof(r));
	ims_str_t impu;
	/* The Public-Identity is the target without URI parameters. */
	if (sip_uri_aor(ru, sip_proxy_ctx_arena(pctx), &impu) != 0)
		impu = ru->raw;
	r.impu[0] = impu;
	r.n_impu = 1;
	int rc = cx_client_send_lir(&r, lia_cb, x);
	if (rc != 0) {
		LOG_WARN("icscf", "lir.not_sent rc=%d impu=%.*s", rc, IMS_STR_FMT(impu));
		reply(pctx, 480, "Temporarily Unavailable");
		return;
	}
	sip_proxy_suspend(pctx);
	LOG_DEBUG("icscf", "lir.sent impu=%.*s call_id=%.*s", IMS_STR_FMT(impu),
		  IMS_STR_FMT(m->call_id));
}

/* ---- S-CSCF failure on a REGISTER --------------------------------------- */

int icscf__on_response(sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b, sip_msg_t *rsp, void *ud)
{
	icscf_ctx_t *c = ud;
	xstate_t *x = sip_proxy_ctx_data(pctx);
	if (!x || !x->is_register)
		return SIP_PROXY_CONTINUE;
	if ((rsp->status == 408 || rsp->status == 503) && x->attempts < c->cfg.uar_retries) {
		/* TS 24.229 §5.3.1.3 / TS 29.228 §6.1.1: the S-CSCF did not
		 * answer: ask the HSS again with capabilities and try another. */
		if (x->cur >= 0 && x->cur < 32)
			x->tried |= 1u << x->cur;
		LOG_NOTICE("icscf", "scscf.failed code=%d attempt=%d", rsp->status, x->attempts);
		icscf__send_uar(c, pctx, CX_UAT_REGISTRATION_AND_CAPABILITIES);
		return SIP_PROXY_ABSORB;
	}
	(void)b;
	return SIP_PROXY_CONTINUE;
}
