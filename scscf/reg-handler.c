/* The S-CSCF registrar (see reg-handler.h).
 *
 * One REGISTER walks through at most two Cx round trips:
 *   no/unknown credentials -> MAR -> 401 (TS 24.229 §5.4.1.2.1)
 *   AUTS                    -> MAR with RAND||AUTS -> 401 (§5.4.1.2.3)
 *   good response           -> SAR -> bindings -> 200 (§5.4.1.2.2)
 * While Diameter works the proxy context is suspended; the answer comes on
 * a freeDiameter thread and is carried back to the context's worker with
 * sip_proxy_resume(). The per-request state (reg_op_t) lives in the
 * context's arena, which only that worker touches. */
#include "reg-handler.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth-nonce.h"
#include "base/ims_err.h"
#include "cx-build.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "isc-register.h"
#include "profile.h"
#include "reg-parse.h"
#include "regevent.h"

int64_t scscf_now(void)
{
	return (int64_t)time(NULL);
}

typedef struct reg_op {
	scscf_ctx_t *ctx;
	sip_proxy_ctx_t *pctx;
	scscf_reg_req_t req;
	int64_t now;
	int stale;
	int dereg;           /* the SAR is a USER_DEREGISTRATION */
	cx_sat_t sat;
	scscf_cx_result_t *res;
} reg_op_t;

/* scscf_register_total{result}: each series is looked up once and kept
 * (the registry lookup takes a lock; the increment does not). */
static void count_result(const char *what)
{
	static const char *const names[] = { "challenged", "registered", "deregistered",
					     "auth_failed", "resync", "mar_failed", "sar_failed",
					     "bad_request", "too_brief", "out_of_order",
					     "expired", "overload", "cx_failed", "store_failed",
					     "too_many" };
	static ims_counter_t *_Atomic cache[sizeof(names) / sizeof(names[0])];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i], what) != 0)
			continue;
		ims_counter_t *c = atomic_load_explicit(&cache[i], memory_order_acquire);
		if (!c) {
			c = ims_metrics_counter("scscf_register_total",
						"REGISTER requests by outcome", "result", what);
			atomic_store_explicit(&cache[i], c, memory_order_release);
		}
		ims_counter_inc(c);
		return;
	}
	ims_counter_inc(ims_metrics_counter("scscf_register_total", "REGISTER requests by outcome",
					    "result", what));
}

ims_str_t scscf_src_uri(const sip_tp_peer_t *src, ims_arena_t *a)
{
	char host[64];
	sip_tp_addr_host(&src->addr, host, sizeof(host));
	return ims_arena_printf(a, "sip:%s%s%s:%u;transport=%s",
				sip_tp_addr_is_v6(&src->addr) ? "[" : "", host,
				sip_tp_addr_is_v6(&src->addr) ? "]" : "",
				sip_tp_addr_port(&src->addr),
				src->proto == SIP_TP_TCP ? "tcp" : "udp");
}

static void reply(reg_op_t *op, int code, const char *reason, ims_str_t hdrs)
{
	int rc = sip_proxy_reply(op->pctx, code, ims_str_cstr(reason), hdrs, IMS_STR(""),
				 IMS_STR(""));
	if (rc != 0 && rc != IMS_ESTATE)
		LOG_WARN("scscf", "register.reply_failed code=%d err=%s", code, ims_strerror(rc));
}

/* ---- Cx answers back on the worker -------------------------------------- */

static void resume_or_log(reg_op_t *op, void (*fn)(sip_proxy_ctx_t *, void *),
			  scscf_cx_result_t *res)
{
	op->res = res;
	if (sip_proxy_resume(op->pctx, fn, op) != 0) {
		/* the context stays suspended: nothing else can answer now */
		LOG_ERROR("scscf", "register.resume_failed impu=%.*s", IMS_STR_FMT(op->req.impu));
		scscf_cx_result_free(res);
	}
}

/* TS 29.228 §6.3 / §6.1.2 errors -> SIP (TS 24.229 §5.4.1.2.1). */
static int cx_fail_code(const scscf_cx_result_t *res, const char **reason)
{
	if (!res) {
		*reason = "Server Internal Error";
		return 500;
	}
	switch (res->status) {
	case CX_ANS_TIMEOUT:
		*reason = "HSS Timeout";
		return 504;
	case CX_ANS_UNREACHABLE:
		*reason = "HSS Unreachable";
		return 500;
	case CX_ANS_ERROR:
		*reason = "HSS Error";
		return 500;
	case CX_ANS_OK:
		break;
	}
	switch (res->code) {
	case CX_DIAMETER_ERROR_USER_UNKNOWN:
	case CX_DIAMETER_ERROR_IDENTITIES_DONT_MATCH:
	case CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED:
	case CX_DIAMETER_ERROR_ROAMING_NOT_ALLOWED:
	case CX_DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED:
		*reason = "Forbidden";
		return 403;
	case CX_DIAMETER_TOO_BUSY:
		*reason = "HSS Busy";
		return 503;
	default:
		*reason = "HSS Error";
		return 500;
	}
}

static void on_maa_worker(sip_proxy_ctx_t *pctx, void *arg)
{
	reg_op_t *op = arg;
	scscf_cx_result_t *res = op->res;
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], www[512];
	const char *reason;
	int code, n, rc;

	op->res = NULL;
	if (!res || !res->success || !res->has_vec) {
		code = (res && res->success) ? 403 : cx_fail_code(res, &reason);
		if (res && res->success)
			reason = "Authentication Scheme Unavailable";
		LOG_NOTICE("scscf", "register.mar_failed impi=%.*s code=%u status=%d sip=%d",
			   IMS_STR_FMT(op->req.impi), res ? res->code : 0,
			   res ? (int)res->status : -1, code);
		count_result("mar_failed");
		reply(op, code, reason, IMS_STR(""));
		scscf_cx_result_free(res);
		return;
	}
	rc = scscf_auth_table_add(op->ctx->auth, op->req.impi, op->req.impu, &res->vec, op->now,
				  nonce, opaque);
	if (rc == 0)
		n = scscf_auth_challenge_render(&res->vec, ims_str_cstr(op->ctx->cfg.realm), nonce,
						opaque, op->stale, www, sizeof(www));
	else
		n = rc;
	scscf_cx_result_free(res);
	if (n == IMS_ENOSPC && rc == IMS_ENOSPC) {
		LOG_WARN("scscf", "register.overload impi=%.*s open_challenges=%zu",
			 IMS_STR_FMT(op->req.impi), scscf_auth_table_count(op->ctx->auth));
		count_result("overload");
		reply(op, 503, "Service Unavailable", IMS_STR("Retry-After: 5\r\n"));
		return;
	}
	if (n < 0) {
		LOG_ERROR("scscf", "register.challenge_failed impi=%.*s err=%s",
			  IMS_STR_FMT(op->req.impi), ims_strerror(n));
		reply(op, 500, "Server Internal Error", IMS_STR(""));
		return;
	}
	LOG_INFO("scscf", "register.challenge impi=%.*s impu=%.*s stale=%d call_id=%.*s",
		 IMS_STR_FMT(op->req.impi), IMS_STR_FMT(op->req.impu), op->stale,
		 IMS_STR_FMT(sip_proxy_ctx_msg(pctx)->call_id));
	count_result("challenged");
	reply(op, 401, "Unauthorized", ims_arena_printf(a, "WWW-Authenticate: %s\r\n", www));
}

static void on_maa(void *arg, scscf_cx_result_t *res)
{
	resume_or_log(arg, on_maa_worker, res);
}

static void on_cx_send_failed(sip_proxy_ctx_t *pctx, void *arg)
{
	reg_op_t *op = arg;
	(void)pctx;
	count_result("cx_failed");
	reply(op, 500, "HSS Unreachable", IMS_STR(""));
}

/* Asks the HSS for a vector (and resyncs when rand_auts is given). */
static void challenge(reg_op_t *op, const uint8_t *rand_auts)
{
	int rc;
	sip_proxy_suspend(op->pctx);
	rc = scscf_cx_send_mar(op->ctx, op->req.impi, op->req.impu, op->req.scheme, rand_auts,
			       on_maa, op);
	if (rc != 0) {
		LOG_WARN("scscf", "register.mar_send_failed impi=%.*s err=%s",
			 IMS_STR_FMT(op->req.impi), ims_strerror(rc));
		if (sip_proxy_resume(op->pctx, on_cx_send_failed, op) != 0)
			LOG_ERROR("scscf", "register.resume_failed impi=%.*s",
				  IMS_STR_FMT(op->req.impi));
	}
}

/* ---- the 200 OK ---------------------------------------------------------- */

static ims_str_t cat(ims_arena_t *a, ims_str_t s, const char *fmt, ims_str_t v)
{
	ims_str_t add = ims_arena_printf(a, fmt, IMS_STR_FMT(v));
	if (!add.s || !s.s)
		return IMS_STR_NULL;
	return ims_arena_printf(a, "%.*s%.*s", IMS_STR_FMT(s), IMS_STR_FMT(add));
}

/* TS 24.229 §5.4.1.2.2: P-Associated-URI lists the non-barred identities
 * of the set, the default (first from the HSS) first. */
static ims_str_t assoc_uris(ims_arena_t *a, const scscf_profile_t *p, const ims_str_t *impus,
			    size_t n)
{
	ims_str_t out = IMS_STR("");
	int first = 1;
	if (p) {
		for (unsigned s = 0; s < p->n_sps; s++)
			for (unsigned i = 0; i < p->sps[s].n_impus; i++) {
				const scscf_impu_t *u = &p->sps[s].impus[i];
				if (u->barred || u->identity_type != SCSCF_ID_PUBLIC_USER)
					continue;
				out = cat(a, out, first ? "<%.*s>" : ", <%.*s>", u->identity);
				first = 0;
			}
		return out;
	}
	for (size_t i = 0; i < n; i++) {
		out = cat(a, out, first ? "<%.*s>" : ", <%.*s>", impus[i]);
		first = 0;
	}
	return out;
}

/* host:port of the routable URI (route_uri, else own_uri) */
static const char *route_hostport(const scscf_ctx_t *ctx)
{
	const char *u = ctx->cfg.route_uri ? ctx->cfg.route_uri : ctx->cfg.own_uri;
	return strncmp(u, "sip:", 4) == 0 ? u + 4 : u;
}

static ims_str_t ok_headers(reg_op_t *op, const scscf_reg_change_t *chg, ims_str_t assoc)
{
	ims_arena_t *a = sip_proxy_ctx_arena(op->pctx);
	ims_str_t h = IMS_STR("");
	for (size_t i = 0; i < chg->n_bindings && h.s; i++) {
		const scscf_binding_t *b = &chg->bindings[i];
		if (b->expires <= op->now || b->event == SCSCF_CEV_UNREGISTERED ||
		    b->event == SCSCF_CEV_EXPIRED)
			continue;
		/* RFC 3261 §10.3 step 8: every current binding with its expiry */
		char q[32] = "";
		if (b->q >= 0)
			snprintf(q, sizeof(q), ";q=%d.%03d", b->q / 1000, b->q % 1000);
		h = ims_arena_printf(a, "%.*sContact: <%.*s>;expires=%lld%s%s%.*s\r\n",
				     IMS_STR_FMT(h), IMS_STR_FMT(b->uri),
				     (long long)(b->expires - op->now), q, b->params.len ? ";" : "",
				     IMS_STR_FMT(b->params));
	}
	/* RFC 3327 §5.3: the Path as received goes back in the 200 */
	if (h.s && op->req.path.len)
		h = cat(a, h, "Path: %.*s\r\n", op->req.path);
	if (h.s && chg->n_live) {
		/* TS 24.229 §5.4.1.2.2: our URI with "orig" for the UE's
		 * originating requests (RFC 3608) */
		/* user part "orig" as well, for P-CSCFs that look there */
		h = ims_arena_printf(a, "%.*sService-Route: <sip:orig@%s;lr;orig>\r\n",
				     IMS_STR_FMT(h), route_hostport(op->ctx));
		if (h.s && assoc.len)
			h = cat(a, h, "P-Associated-URI: %.*s\r\n", assoc);
	}
	return h.s ? h : IMS_STR("");
}

/* ---- SAR and the bindings ------------------------------------------------ */

static int profile_impus(ims_arena_t *a, const scscf_profile_t *p, ims_str_t first,
			 ims_str_t **out, size_t *n)
{
	size_t cap = 1, k = 0;
	for (unsigned s = 0; p && s < p->n_sps; s++)
		cap += p->sps[s].n_impus;
	*out = ims_arena_zalloc(a, cap * sizeof(**out));
	if (!*out)
		return IMS_ENOMEM;
	(*out)[k++] = first;
	for (unsigned s = 0; p && s < p->n_sps; s++)
		for (unsigned i = 0; i < p->sps[s].n_impus; i++) {
			ims_str_t id = p->sps[s].impus[i].identity;
			int dup = 0;
			for (size_t j = 0; j < k; j++)
				dup |= ims_str_eq((*out)[j], id);
			if (!dup)
				(*out)[k++] = id;
		}
	*n = k;
	return 0;
}

static void on_saa_worker(sip_proxy_ctx_t *pctx, void *arg)
{
	reg_op_t *op = arg;
	scscf_ctx_t *ctx = op->ctx;
	scscf_cx_result_t *res = op->res;
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	scscf_profile_t *prof = NULL;
	scscf_reg_update_t upd;
	scscf_reg_change_t chg;
	ims_str_t assoc = IMS_STR(""), *impus = NULL;
	size_t n_impus = 0;
	const char *reason;
	int code, rc;

	op->res = NULL;
	if (!op->dereg && (!res || !res->success)) {
		code = cx_fail_code(res, &reason);
		LOG_NOTICE("scscf", "register.sar_failed impu=%.*s code=%u sip=%d",
			   IMS_STR_FMT(op->req.impu), res ? res->code : 0, code);
		count_result("sar_failed");
		reply(op, code, reason, IMS_STR(""));
		scscf_cx_result_free(res);
		return;
	}
	if (op->dereg && (!res || !res->success))
		/* the UE asked to leave: we let it go even if the HSS did not
		 * hear about it (it will see the TIMEOUT on its side) */
		LOG_WARN("scscf", "register.dereg_sar_failed impu=%.*s code=%u",
			 IMS_STR_FMT(op->req.impu), res ? res->code : 0);

	memset(&upd, 0, sizeof(upd));
	if (!op->dereg && res->user_data) {
		scscf_profile_err_t perr;
		rc = scscf_profile_load(res->user_data, res->user_data_len, &prof, &perr);
		if (rc != 0) {
			/* keep the raw XML: the session side sees no profile */
			LOG_WARN("scscf", "register.profile_bad impu=%.*s where=%s reason=\"%s\"",
				 IMS_STR_FMT(op->req.impu), perr.where, perr.reason);
			prof = NULL;
		}
		if (profile_impus(a, prof, op->req.impu, &impus, &n_impus) != 0) {
			scscf_profile_free(prof);
			scscf_cx_result_free(res);
			reply(op, 500, "Server Internal Error", IMS_STR(""));
			return;
		}
		upd.user_data = ims_str_from(res->user_data, res->user_data_len);
		assoc = assoc_uris(a, prof, impus, n_impus);
	} else if (!op->dereg) {
		/* re-registration without new User-Data: the stored set */
		scscf_reg_view_t view;
		if (scscf_reg_store_lookup(ctx->store, op->req.impu, op->now, a, &view) == 0) {
			assoc = assoc_uris(a, view.profile, view.impus, view.n_impus);
			scscf_reg_view_release(&view);
		} else {
			assoc = assoc_uris(a, NULL, &op->req.impu, 1);
		}
	}
	upd.impi = op->req.impi;
	upd.impu = op->req.impu;
	upd.impus = impus;
	upd.n_impus = n_impus;
	upd.profile = (struct scscf_profile *)prof;
	upd.star = op->req.star;
	upd.contacts = op->req.contacts;
	upd.n_contacts = op->req.n_contacts;
	rc = scscf_reg_store_apply(ctx->store, &upd, op->now, 0, a, &chg);
	scscf_cx_result_free(res);
	if (rc == IMS_ESTATE) {
		count_result("out_of_order");
		reply(op, 500, "Out of Order Request", IMS_STR(""));
		return;
	}
	if (rc != 0 && rc != IMS_EDB) {
		count_result("store_failed");
		reply(op, 500, "Server Internal Error", IMS_STR(""));
		return;
	}
	LOG_INFO("scscf", "register.ok impu=%.*s impi=%.*s sat=%d bindings=%zu call_id=%.*s",
		 IMS_STR_FMT(op->req.impu), IMS_STR_FMT(op->req.impi), (int)op->sat, chg.n_live,
		 IMS_STR_FMT(sip_proxy_ctx_msg(pctx)->call_id));
	count_result(op->dereg ? "deregistered" : "registered");
	reply(op, 200, "OK", ok_headers(op, &chg, assoc));
	scscf_regevent_notify(ctx, &chg, op->now);
}

static void on_saa(void *arg, scscf_cx_result_t *res)
{
	resume_or_log(arg, on_saa_worker, res);
}

/* The response checked out (or integrity protection vouches for the UE):
 * decide what the SAR says and send it. */
static void authenticated(reg_op_t *op)
{
	scscf_reg_update_t upd;
	scscf_reg_change_t chg;
	ims_arena_t *a = sip_proxy_ctx_arena(op->pctx);
	int rc;

	memset(&upd, 0, sizeof(upd));
	upd.impi = op->req.impi;
	upd.impu = op->req.impu;
	upd.star = op->req.star;
	upd.contacts = op->req.contacts;
	upd.n_contacts = op->req.n_contacts;
	rc = scscf_reg_store_apply(op->ctx->store, &upd, op->now, 1, a, &chg);
	if (rc == IMS_ESTATE) {
		count_result("out_of_order");
		reply(op, 500, "Out of Order Request", IMS_STR(""));
		return;
	}
	if (rc != 0) {
		reply(op, 500, "Server Internal Error", IMS_STR(""));
		return;
	}
	if (op->ctx->cfg.max_contacts && chg.n_live > op->ctx->cfg.max_contacts) {
		/* TS 24.229 §5.4.1.2.2: too many simultaneous registrations */
		LOG_NOTICE("scscf", "register.too_many impu=%.*s bindings=%zu max=%u",
			   IMS_STR_FMT(op->req.impu), chg.n_live, op->ctx->cfg.max_contacts);
		count_result("too_many");
		reply(op, 403, "Too Many Registrations", IMS_STR(""));
		return;
	}
	if (chg.new_state == SCSCF_REG_NOT_REGISTERED) {
		if (chg.old_state != SCSCF_REG_REGISTERED) {
			/* RFC 3261 §10.3: a query or a removal of nothing */
			reply(op, 200, "OK", ok_headers(op, &chg, IMS_STR("")));
			return;
		}
		op->dereg = 1;
		op->sat = CX_SAT_USER_DEREGISTRATION;
	} else {
		op->sat = chg.old_state == SCSCF_REG_REGISTERED ? CX_SAT_RE_REGISTRATION
								: CX_SAT_REGISTRATION;
	}
	/* for the iFC RegistrationType of the third-party REGISTERs */
	scscf_isc_note_reg_type(op->pctx, op->dereg ? SCSCF_REGTYPE_DE
				: op->sat == CX_SAT_REGISTRATION ? SCSCF_REGTYPE_INITIAL
								  : SCSCF_REGTYPE_RE);
	sip_proxy_suspend(op->pctx);
	rc = scscf_cx_send_sar(op->ctx, op->req.impi, op->req.impu, op->sat,
			       op->sat == CX_SAT_RE_REGISTRATION, on_saa, op);
	if (rc != 0) {
		LOG_WARN("scscf", "register.sar_send_failed impu=%.*s err=%s",
			 IMS_STR_FMT(op->req.impu), ims_strerror(rc));
		if (sip_proxy_resume(op->pctx, on_cx_send_failed, op) != 0)
			LOG_ERROR("scscf", "register.resume_failed impu=%.*s",
				  IMS_STR_FMT(op->req.impu));
	}
}

static void on_notice_saa(void *arg, scscf_cx_result_t *res)
{
	char *impu = arg;
	if (!res || !res->success)
		LOG_WARN("scscf", "cx.sar_failed impu=%s code=%u", impu, res ? res->code : 0);
	free(impu);
	scscf_cx_result_free(res);
}

/* A SAR whose answer changes nothing here (timeouts, failures): sent and
 * logged, never waited for. */
static void sar_notice(scscf_ctx_t *ctx, ims_str_t impi, ims_str_t impu, cx_sat_t sat)
{
	char *copy = strndup(impu.s, impu.len);
	if (!copy)
		return;
	LOG_INFO("scscf", "cx.sar impu=%s sat=%d", copy, (int)sat);
	if (scscf_cx_send_sar(ctx, impi, impu, sat, 0, on_notice_saa, copy) != 0) {
		LOG_WARN("scscf", "cx.sar_send_failed impu=%s sat=%d", copy, (int)sat);
		free(copy);
	}
}

void scscf_reg_on_register(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx)
{
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	reg_op_t *op = ims_arena_zalloc(a, sizeof(*op));
	scscf_auth_result_t ares;
	const char *why = NULL;
	int rc;

	if (!op) {
		sip_proxy_reply(pctx, 500, IMS_STR("Server Internal Error"), IMS_STR(""),
				IMS_STR(""), IMS_STR(""));
		return;
	}
	op->ctx = ctx;
	op->pctx = pctx;
	op->now = scscf_now();
	rc = scscf_reg_req_parse(m, &ctx->cfg, scscf_src_uri(sip_proxy_ctx_src(pctx), a), op->now,
				 a, &op->req, &why);
	if (rc != 0) {
		count_result("bad_request");
		LOG_NOTICE("scscf", "register.bad_request reason=\"%s\" call_id=%.*s",
			   why ? why : ims_strerror(rc), IMS_STR_FMT(m->call_id));
		reply(op, rc == IMS_ENOMEM ? 500 : 400, rc == IMS_ENOMEM ? "Server Internal Error" : why,
		      IMS_STR(""));
		return;
	}
	if (op->req.min_expires) {
		/* RFC 3261 §10.3 step 6 */
		count_result("too_brief");
		reply(op, 423, "Interval Too Brief",
		      ims_arena_printf(a, "Min-Expires: %u\r\n", op->req.min_expires));
		return;
	}
	if (!op->req.has_response) {
		/* TS 24.229 §5.4.1.2.1: a P-CSCF that protects the UE's
		 * messages vouches for re-registrations and de-registrations */
		if (op->req.integrity_protected &&
		    scscf_reg_store_state(ctx->store, op->req.impu, op->now) ==
			    SCSCF_REG_REGISTERED) {
			authenticated(op);
			return;
		}
		challenge(op, NULL);
		return;
	}
	rc = scscf_auth_table_check(ctx->auth, &op->req.cred, IMS_STR("REGISTER"), op->req.impi,
				    ims_str_cstr(ctx->cfg.realm), op->now, &ares);
	switch (rc) {
	case 0:
		authenticated(op);
		return;
	case IMS_ENOENT:
		challenge(op, NULL);
		return;
	case IMS_ETIMEDOUT:
		/* RFC 2617 §3.2.1: the UE needs only to retry with a new nonce */
		op->stale = 1;
		challenge(op, NULL);
		return;
	case IMS_EAGAIN: {
		/* TS 33.203 §6.1.2 / TS 29.228 §6.3.3: resync with RAND || AUTS */
		uint8_t *ra = ims_arena_alloc(a, 30);
		if (!ra) {
			reply(op, 500, "Server Internal Error", IMS_STR(""));
			return;
		}
		memcpy(ra, ares.rand, 16);
		memcpy(ra + 16, ares.auts, 14);
		LOG_INFO("scscf", "register.resync impi=%.*s", IMS_STR_FMT(op->req.impi));
		count_result("resync");
		challenge(op, ra);
		return;
	}
	default:
		LOG_NOTICE("scscf", "register.auth_failed impi=%.*s err=%s call_id=%.*s",
			   IMS_STR_FMT(op->req.impi), ims_strerror(rc), IMS_STR_FMT(m->call_id));
		count_result("auth_failed");
		/* TS 29.228 §6.1.2: a user that is not registered keeps no
		 * S-CSCF at the HSS after a failed authentication */
		if (scscf_reg_store_state(ctx->store, op->req.impu, op->now) != SCSCF_REG_REGISTERED)
			sar_notice(ctx, op->req.impi, op->req.impu, CX_SAT_AUTHENTICATION_FAILURE);
		reply(op, 403, "Authentication Failed", IMS_STR(""));
		return;
	}
}

/* ---- dispatch -------------------------------------------------------------- */

void scscf_on_request(sip_proxy_ctx_t *pctx, void *ud)
{
	scscf_ctx_t *ctx = ud;
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	int rc;

	if (m->method_id == SIP_METHOD_REGISTER) {
		scscf_reg_on_register(ctx, pctx);
		return;
	}
	if (m->method_id == SIP_METHOD_SUBSCRIBE && scscf_regevent_is_reg_subscribe(m)) {
		scscf_regevent_on_subscribe(ctx, pctx);
		return;
	}
	if (!ctx->on_session) {
		if (m->method_id != SIP_METHOD_ACK)
			sip_proxy_reply(pctx, 501, IMS_STR("Not Implemented"), IMS_STR(""),
					IMS_STR(""), IMS_STR(""));
		return;
	}
	rc = ctx->on_session(ctx, pctx, m);
	if (rc != 0 && m->method_id != SIP_METHOD_ACK && !sip_proxy_ctx_done(pctx))
		sip_proxy_reply(pctx, 500, IMS_STR("Server Internal Error"), IMS_STR(""),
				IMS_STR(""), IMS_STR(""));
}

void scscf_on_final(sip_proxy_ctx_t *pctx, sip_msg_t *rsp, void *ud)
{
	if (sip_proxy_ctx_method(pctx) == SIP_METHOD_SUBSCRIBE)
		scscf_regevent_on_final(ud, pctx, rsp);
	else if (sip_proxy_ctx_method(pctx) == SIP_METHOD_REGISTER)
		scscf_isc_on_register_final(ud, pctx, rsp); /* TS 24.229 §5.4.1.7 (isc-register.h) */
}

int scscf_on_response(sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b, sip_msg_t *rsp, void *ud)
{
	scscf_ctx_t *ctx = ud;
	if (ctx->on_session_response)
		return ctx->on_session_response(ctx, pctx, b, rsp);
	return SIP_PROXY_CONTINUE;
}

void scscf_on_cancel(sip_proxy_ctx_t *pctx, void *ud)
{
	scscf_ctx_t *ctx = ud;
	if (ctx->on_session_cancel)
		ctx->on_session_cancel(ctx, pctx);
}

/* ---- expiry and network de-registration ------------------------------------ */

static void on_expired(void *arg, const scscf_reg_change_t *chg)
{
	scscf_ctx_t *ctx = arg;
	int64_t now = scscf_now();
	LOG_INFO("scscf", "expiry.bindings impu=%.*s left=%zu", IMS_STR_FMT(chg->impu), chg->n_live);
	if (!chg->n_live) {
		/* TS 24.229 §5.4.1.4: the last binding went: tell the HSS */
		sar_notice(ctx, chg->impi, chg->impu, CX_SAT_TIMEOUT_DEREGISTRATION);
		count_result("expired");
		scscf_isc_network_dereg(ctx, 0, chg->impu); /* worker 0 runs the expiry */
	}
	scscf_regevent_notify(ctx, chg, now);
}

typedef struct sweep_arg {
	scscf_ctx_t *ctx;
	int64_t now;
} sweep_arg_t;

/* TS 24.229 §5.4.1.2.1 (reg-await-auth) / TS 29.228 §6.1.2: a challenge
 * nobody answered clears the S-CSCF name the MAR left at the HSS, unless
 * the user is registered here anyway. */
static void on_auth_timeout(void *arg, const char *impi, const char *impu)
{
	sweep_arg_t *sa = arg;
	LOG_INFO("scscf", "register.auth_timeout impi=%s impu=%s", impi, impu);
	if (scscf_reg_store_state(sa->ctx->store, ims_str_cstr(impu), sa->now) !=
	    SCSCF_REG_REGISTERED)
		sar_notice(sa->ctx, ims_str_cstr(impi), ims_str_cstr(impu),
			   CX_SAT_AUTHENTICATION_TIMEOUT);
}

int scscf_reg_expire_run(scscf_ctx_t *ctx, int64_t now)
{
	sweep_arg_t sa = { ctx, now };
	int n = scscf_reg_store_expire(ctx->store, now, on_expired, ctx);
	scscf_regevent_expire(ctx, now);
	scscf_auth_table_sweep(ctx->auth, now, on_auth_timeout, &sa);
	return n;
}

typedef struct dereg_job {
	scscf_ctx_t *ctx;
	ims_arena_t *a;
	scscf_reg_change_t chg;
} dereg_job_t;

static void dereg_notify(void *arg)
{
	dereg_job_t *j = arg;
	scscf_regevent_notify(j->ctx, &j->chg, scscf_now());
	scscf_isc_network_dereg(j->ctx, 0, j->chg.impu); /* posted to worker 0 */
	ims_arena_destroy(j->a);
	free(j);
}

int scscf_reg_network_dereg(scscf_ctx_t *ctx, ims_str_t impu, scscf_contact_event_t ev)
{
	dereg_job_t *j = calloc(1, sizeof(*j));
	int rc;
	if (!j || !(j->a = ims_arena_create(4096))) {
		free(j);
		return IMS_ENOMEM;
	}
	j->ctx = ctx;
	rc = scscf_reg_store_remove(ctx->store, impu, ev, scscf_now(), j->a, &j->chg);
	if (rc != 0) {
		ims_arena_destroy(j->a);
		free(j);
		return rc;
	}
	LOG_INFO("scscf", "dereg.network impu=%.*s bindings=%zu", IMS_STR_FMT(impu),
		 j->chg.n_bindings);
	if (!ctx->proxy || sip_proxy_post(ctx->proxy, 0, dereg_notify, j) != 0) {
		ims_arena_destroy(j->a);
		free(j);
	}
	return 0;
}
