/* Following home-domain redirections on the terminating side (RFC 3261
 * §16.5, §16.7 step 4; see redirect-follow.h). */
#include "redirect-follow.h"

#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "session-rules.h"

#define REDIRECT_MAX_DEPTH 1 /* recurse once */

/* /metrics: scscf_redirects_total{outcome="followed|passed"}, one per 3xx
 * a terminating S-CSCF context saw. */
static void count_outcome(const char *outcome)
{
	ims_counter_inc(ims_metrics_counter("scscf_redirects_total",
					    "3xx on the terminating side, followed or passed upstream",
					    "outcome", outcome));
}

/* q-value x1000 of a Contact (RFC 3261 §20.10), 1000 when absent or bad. */
static int contact_q(ims_str_t q)
{
	if (!q.len || q.len > 5)
		return 1000;
	char buf[8];
	memcpy(buf, q.s, q.len);
	buf[q.len] = 0;
	char *end;
	double v = strtod(buf, &end);
	if (*end || v < 0 || v > 1)
		return 1000;
	return (int)(v * 1000 + 0.5);
}

int scscf_redirect_pick(sip_msg_t *rsp, int max_forwards, unsigned depth, ims_str_t cur_target,
			ims_str_t realm, ims_str_t home_tel_prefixes, ims_arena_t *a, ims_str_t *target)
{
	*target = IMS_STR_NULL;
	if (!rsp || rsp->status < 300 || rsp->status >= 400 || depth >= REDIRECT_MAX_DEPTH)
		return 0;
	/* RFC 3261 §16.6 step 3: the new branch needs one more hop. */
	if (max_forwards >= 0 && max_forwards <= 1)
		return 0;
	sip_uri_t cur;
	int have_cur = cur_target.len && sip_uri_parse(cur_target, NULL, &cur) == 0;
	/* A request we already retargeted carries ;cause= (RFC 4458): its
	 * redirection was the one allowed, wherever the new target is served. */
	ims_str_t cause;
	if (have_cur && sip_params_find(cur.params, "cause", &cause))
		return 0;
	sip_val_iter_t it = { 0 };
	ims_str_t v, best = IMS_STR_NULL;
	int best_q = -1, rc;
	while ((rc = sip_msg_next_value(rsp, SIP_HDR_CONTACT, &it, &v)) == 1) {
		sip_nameaddr_t na;
		if (sip_nameaddr_parse(v, NULL, &na) != 0 || na.star)
			continue;
		if (scscf_session_target(na.uri.raw, realm, home_tel_prefixes) != SCSCF_TARGET_HOME)
			continue;
		if (have_cur && sip_uri_equal(&na.uri, &cur))
			continue;
		int q = contact_q(na.q);
		if (q > best_q) {
			best_q = q;
			best = na.uri.raw;
		}
	}
	if (!best.len)
		return 0;
	/* RFC 4458 §2: the retargeted Request-URI says why (the 3xx code);
	 * a URI with headers (?...) is taken as it is. */
	if (memchr(best.s, '?', best.len))
		return ims_arena_strdup(a, best, target) ? IMS_ENOMEM : 1;
	*target = ims_arena_printf(a, "%.*s;cause=%d", IMS_STR_FMT(best), rsp->status);
	return target->s ? 1 : IMS_ENOMEM;
}

int scscf_redirect_on_response(sip_proxy_ctx_t *pctx, sip_msg_t *rsp, ims_str_t realm,
			       ims_str_t home_tel_prefixes, ims_str_t icscf_uri, unsigned *depth)
{
	if (rsp->status < 300 || rsp->status >= 400 || sip_proxy_ctx_done(pctx) ||
	    sip_proxy_ctx_cancelled(pctx))
		return SIP_PROXY_CONTINUE;
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	ims_str_t target;
	if (scscf_redirect_pick(rsp, m->max_forwards, *depth, m->ruri, realm, home_tel_prefixes,
				sip_proxy_ctx_arena(pctx), &target) != 1) {
		LOG_INFO("scscf", "redirect.pass status=%d call_id=%.*s", rsp->status, IMS_STR_FMT(m->call_id));
		count_outcome("passed");
		return SIP_PROXY_CONTINUE;
	}
	sip_proxy_target_t t = { .ruri = target, .next_hop = icscf_uri };
	int rc = sip_proxy_add_branch(pctx, &t, NULL);
	if (rc) {
		LOG_WARN("scscf", "redirect.failed target=%.*s err=%s call_id=%.*s", IMS_STR_FMT(target),
			 ims_strerror(rc), IMS_STR_FMT(m->call_id));
		return SIP_PROXY_CONTINUE;
	}
	(*depth)++;
	count_outcome("followed");
	LOG_INFO("scscf", "redirect.follow status=%d target=%.*s call_id=%.*s", rsp->status,
		 IMS_STR_FMT(target), IMS_STR_FMT(m->call_id));
	return SIP_PROXY_ABSORB;
}
