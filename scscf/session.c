/* S-CSCF session routing on the proxy core: originating and terminating
 * requests, iFC evaluation and AS chaining with odi (TS 24.229 §5.4.3.2,
 * §5.4.3.3; TS 23.218 §6), in-dialog requests by their Route set.
 *
 * One request context (sip_proxy_ctx_t) carries a sess_t in its data: the
 * served user, the session case, the registration snapshot (which holds a
 * reference on the profile) and, while an AS has the request, which iFC
 * sent it there. A request that comes back from an AS is a new server
 * transaction; its odi token finds the stored state (session-odi.h).
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/ims_err.h"
#include "hunt-plan.h"
#include "ifc-eval.h"
#include "isc-register.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "profile.h"
#include "redirect-follow.h"
#include "reg-store.h"
#include "session-odi.h"
#include "session-rules.h"
#include "unreg-fetch.h"
#include "sip/proxy/sip_proxy.h"

#define AS_BRANCH ((void *)1) /* branch data marking a leg to an AS */

typedef struct scscf_session {
	scscf_odi_table_t *odi;
	ims_str_t icscf_uri;          /* next hop for home targets */
	ims_str_t breakout_uri;       /* next hop for foreign targets; empty: none */
	ims_str_t home_tel_prefixes;
	ims_str_t own_uri;
	ims_str_t realm;
	scscf_isc_cache_t *isc_cache; /* User-Data for third-party de-registration */
	uint32_t as_timeout_ms;       /* no response from an AS within this: DefaultHandling */
	uint32_t hunt_ring_ms;        /* sequential hunting: ring time of one q group */
} scscf_session_t;

typedef struct sess {
	scscf_ctx_t *ctx;
	scscf_session_case_t sc;
	ims_str_t served_user;
	int registered;
	scscf_reg_view_t view;        /* released when the context ends */
	int have_view;
	const scscf_service_profile_t *sp;
	unsigned next_ifc;            /* first iFC still to evaluate */
	int as_ifc;                   /* iFC whose AS has the request, -1 none */
	int as_prov;                  /* a 1xx (not 100) came from that AS */
	char token[SCSCF_ODI_TOKEN_LEN + 1];
	ims_str_t orig_ruri;          /* Request-URI when the chain began */
	scscf_hunt_t *hunt;           /* sequential device hunting, NULL: parallel */
	unsigned redirects;           /* 3xx followed for this request (redirect-follow.h) */
	uint8_t unreg_fetched;        /* SAR UNREGISTERED_USER done for it (unreg-fetch.h) */
} sess_t;

/* /metrics: scscf_session_requests_total{arrival}, scscf_as_requests_total
 * {session_case}, scscf_as_failures_total{default_handling}. */
static void count(const char *name, const char *help, const char *label, const char *value)
{
	ims_counter_inc(ims_metrics_counter(name, help, label, value));
}

static void sess_free(void *data)
{
	sess_t *s = data;
	if (!s)
		return;
	if (s->have_view)
		scscf_reg_view_release(&s->view);
	/* The request this context sent to an AS is done with (its final
	 * response went upstream and the transaction is over): the AS cannot
	 * legitimately send it back any more, so its odi entry goes now
	 * rather than after session.odi_ttl (at 1,000 calls/s with 2 ASs the
	 * TTL alone kept 600,000 entries). */
	if (s->token[0] && s->ctx && s->ctx->session)
		scscf_odi_remove(((scscf_session_t *)s->ctx->session)->odi,
				 ims_str_from(s->token, SCSCF_ODI_TOKEN_LEN));
}

static int reply(sip_proxy_ctx_t *pctx, int code, const char *reason)
{
	int rc = sip_proxy_reply(pctx, code, ims_str_cstr(reason), IMS_STR_NULL, IMS_STR_NULL,
				 IMS_STR_NULL);
	return rc == IMS_ESTATE ? 0 : rc;
}

/* RFC 3261 §12.1: requests that create a dialog get our Record-Route so
 * the dialog's later requests come through the S-CSCF. */
static int dialog_forming(sip_method_t m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_SUBSCRIBE || m == SIP_METHOD_REFER ||
	       m == SIP_METHOD_NOTIFY;
}

/* Looks the served user up; fills s->view, s->registered, s->sp. */
static int load_user(sess_t *s, ims_arena_t *a)
{
	int rc = scscf_reg_store_lookup(s->ctx->store, s->served_user, scscf_now(), a, &s->view);
	if (rc)
		return rc;
	s->have_view = 1;
	s->registered = s->view.state == SCSCF_REG_REGISTERED;
	s->sp = NULL;
	if (s->view.profile &&
	    !scscf_profile_find_impu((const scscf_profile_t *)s->view.profile, s->served_user, &s->sp,
				     NULL))
		s->sp = s->view.profile->n_sps ? &s->view.profile->sps[0] : NULL;
	return 0;
}

static const scscf_impu_t *served_impu(const sess_t *s)
{
	const scscf_impu_t *u = NULL;
	if (s->view.profile)
		scscf_profile_find_impu(s->view.profile, s->served_user, NULL, &u);
	return u;
}

/* Splits a comma-separated list of name-addr values (a stored Path) into
 * at most max values. */
static size_t split_values(ims_str_t list, ims_str_t *out, size_t max)
{
	size_t n = 0;
	uint32_t start = 0;
	int in_angle = 0, in_quote = 0;
	for (uint32_t i = 0; i <= list.len && n < max; i++) {
		char c = i < list.len ? list.s[i] : ',';
		if (c == '"' && !in_angle)
			in_quote = !in_quote;
		else if (c == '<' && !in_quote)
			in_angle = 1;
		else if (c == '>' && !in_quote)
			in_angle = 0;
		if (c == ',' && !in_angle && !in_quote) {
			ims_str_t v = ims_str_trim(ims_str_from(list.s + start, i - start));
			if (v.len)
				out[n++] = v;
			start = i + 1;
		}
	}
	return n;
}

/* Sends (or adds, from on_response) one branch. */
static int send_branch(sip_proxy_ctx_t *pctx, const sip_proxy_target_t *t, int later)
{
	return later ? sip_proxy_add_branch(pctx, t, NULL) : sip_proxy_forward(pctx, t, NULL);
}

/* TS 24.229 §5.4.3.3 steps 9-10: to every registered contact of the served
 * user, through the stored Path, with P-Called-Party-ID. Parallel. */
static int route_to_contacts(sess_t *s, sip_proxy_ctx_t *pctx, int later)
{
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	if (!s->registered || s->view.n_bindings == 0) {
		LOG_INFO("scscf", "session.unavailable impu=%.*s call_id=%.*s", IMS_STR_FMT(s->served_user),
			 IMS_STR_FMT(m->call_id));
		return reply(pctx, 480, "Temporarily Unavailable");
	}
	ims_str_t pcpi = ims_arena_printf(a, "P-Called-Party-ID: <%.*s>\r\n", IMS_STR_FMT(m->ruri));
	if (!pcpi.s)
		return IMS_ENOMEM;
	size_t n = s->view.n_bindings;
	sip_proxy_target_t *targets = ims_arena_zalloc(a, n * sizeof(*targets));
	if (!targets)
		return IMS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const scscf_binding_t *b = &s->view.bindings[i];
		ims_str_t *routes = ims_arena_alloc(a, 8 * sizeof(ims_str_t));
		if (!routes)
			return IMS_ENOMEM;
		sip_proxy_target_t *t = &targets[i];
		t->ruri = b->uri;
		t->nroutes = split_values(b->path, routes, 8);
		t->routes = routes;
		/* Without a Path the contact is reached where its REGISTER came
		 * from (the received address). */
		if (t->nroutes == 0 && b->received.len)
			t->next_hop = b->received;
		t->hdrs = pcpi;
	}
	LOG_INFO("scscf", "session.terminating impu=%.*s contacts=%zu call_id=%.*s",
		 IMS_STR_FMT(s->served_user), n, IMS_STR_FMT(m->call_id));
	int rc = 0, sent = 0;
	/* Issue 9: the subscriber's HSS record asks for sequential hunting by
	 * q-value (RFC 3261 §16.6; hunt-plan.h). */
	if (s->view.profile && s->view.profile->hunt_sequential && n > 1) {
		scscf_hunt_plan_t *plan = ims_arena_zalloc(a, sizeof(*plan));
		if (!plan)
			return IMS_ENOMEM;
		if ((rc = scscf_hunt_plan_build(s->view.bindings, n, 1, a, plan)))
			return rc;
		const scscf_session_t *ss = s->ctx->session;
		for (size_t i = 0; i < n; i++)
			targets[i].timeout_ms = ss->hunt_ring_ms;
		rc = scscf_hunt_start(pctx, targets, plan, ss->hunt_ring_ms, later, &s->hunt);
		return rc == IMS_ESTATE ? 0 : rc;
	}
	if (!later) {
		/* RFC 3261 §16.6: parallel fork, one branch per contact. */
		rc = sip_proxy_fork(pctx, targets, n);
		return rc == IMS_ESTATE ? 0 : rc;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = sip_proxy_add_branch(pctx, &targets[i], NULL)) == 0)
			sent++;
	return sent ? 0 : rc;
}

/* TS 24.229 §5.4.3.2 step 10: after the originating services, to the
 * I-CSCF for a home target, else to the breakout (or by DNS for sip:). */
static int route_onward(sess_t *s, sip_proxy_ctx_t *pctx, int later)
{
	scscf_session_t *ss = s->ctx->session;
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	sip_proxy_target_t t = { 0 };
	scscf_target_t kind = scscf_session_target(m->ruri, ss->realm, ss->home_tel_prefixes);
	/* A tel: outside the configured prefixes is still home when this
	 * S-CSCF serves it (an identity of a stored registration). */
	if (kind == SCSCF_TARGET_FOREIGN && m->ruri.len > 4 && !strncasecmp(m->ruri.s, "tel:", 4)) {
		ims_str_t aor;
		const sip_uri_t *u = sip_msg_ruri(m);
		if (u && sip_uri_aor(u, sip_proxy_ctx_arena(pctx), &aor) == 0 &&
		    scscf_reg_store_state(s->ctx->store, aor, scscf_now()) != SCSCF_REG_NOT_REGISTERED)
			kind = SCSCF_TARGET_HOME;
	}
	switch (kind) {
	case SCSCF_TARGET_INVALID:
		return reply(pctx, 416, "Unsupported URI Scheme");
	case SCSCF_TARGET_HOME:
		t.next_hop = ss->icscf_uri;
		break;
	case SCSCF_TARGET_FOREIGN:
		if (ss->breakout_uri.len)
			t.next_hop = ss->breakout_uri;
		else if (ims_str_caseeq(ims_str_from(m->ruri.s, m->ruri.len < 4 ? m->ruri.len : 4),
					IMS_STR("tel:")))
			return reply(pctx, 404, "Not Found");
		break;
	}
	LOG_INFO("scscf", "session.onward impu=%.*s target=%.*s via=%.*s call_id=%.*s",
		 IMS_STR_FMT(s->served_user), IMS_STR_FMT(m->ruri),
		 IMS_STR_FMT(t.next_hop.len ? t.next_hop : IMS_STR("ruri")), IMS_STR_FMT(m->call_id));
	int rc = send_branch(pctx, &t, later);
	return rc == IMS_ESTATE ? 0 : rc;
}

static int is_originating(scscf_session_case_t sc)
{
	return sc == SCSCF_SC_ORIGINATING || sc == SCSCF_SC_ORIGINATING_UNREGISTERED ||
	       sc == SCSCF_SC_ORIGINATING_CDIV;
}

/* Evaluates the iFCs from s->next_ifc; the first match sends the request
 * to its AS with the odi Route; none left: the end of this side. */
static int run_chain(sess_t *s, sip_proxy_ctx_t *pctx, int later)
{
	scscf_session_t *ss = s->ctx->session;
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	scscf_ifc_req_t rv;
	scscf_ifc_req_from_msg(m, &rv);
	for (;;) {
		int i = scscf_ifc_next(s->sp, s->next_ifc, &rv, s->sc, s->registered);
		if (i < 0)
			break;
		const scscf_ifc_t *f = &s->sp->ifcs[i];
		scscf_odi_info_t info = {
			.served_user = s->served_user,
			.session_case = s->sc,
			.registered = s->registered,
			.next_ifc = (unsigned)i + 1,
			.ruri = m->ruri,
			.call_id = m->call_id,
			.orig_ruri = s->orig_ruri,
		};
		int rc = scscf_odi_put(ss->odi, &info, scscf_now(), s->token);
		if (rc) {
			LOG_WARN("scscf", "session.odi_failed err=%s", ims_strerror(rc));
			return reply(pctx, 500, "Server Internal Error");
		}
		ims_str_t routes[2];
		rc = scscf_session_as_route(a, f->as.server_name, ss->own_uri,
					    ims_str_from(s->token, SCSCF_ODI_TOKEN_LEN), routes);
		if (rc == IMS_EINVAL) {
			LOG_WARN("scscf", "session.as_bad_uri server_name=%.*s", IMS_STR_FMT(f->as.server_name));
			scscf_odi_remove(ss->odi, ims_str_from(s->token, SCSCF_ODI_TOKEN_LEN));
			s->next_ifc = (unsigned)i + 1;
			continue;
		}
		if (rc)
			return rc;
		/* TS 24.229 §5.4.3.2 step 4 d: ServiceInfo travels in the body
		 * to the AS only; the working copy gets its body back. */
		ims_str_t old_ct = rv.content_type, old_body = m->body;
		if (f->as.has_service_info) {
			ims_str_t ct, body;
			if ((rc = scscf_session_service_info_body(a, old_ct, old_body, f->as.service_info, &ct,
								  &body)) ||
			    (rc = sip_msg_set_body(m, ct, body)))
				return rc;
		}
		/* TS 24.229 §5.4.3.2: an AS that does not answer is handled as its
		 * DefaultHandling says, well before the transaction timers would */
		sip_proxy_target_t t = { .routes = routes, .nroutes = 2, .data = AS_BRANCH,
					 .timeout_ms = ss->as_timeout_ms };
		s->as_ifc = i;
		s->as_prov = 0;
		s->next_ifc = (unsigned)i + 1;
		LOG_INFO("scscf", "session.to_as impu=%.*s case=%s priority=%d as=%.*s odi=%s call_id=%.*s",
			 IMS_STR_FMT(s->served_user), scscf_session_case_name(s->sc), f->priority,
			 IMS_STR_FMT(f->as.server_name), s->token, IMS_STR_FMT(m->call_id));
		count("scscf_as_requests_total", "Requests sent to application servers", "session_case",
		      scscf_session_case_name(s->sc));
		rc = send_branch(pctx, &t, later);
		if (f->as.has_service_info) {
			int r2 = sip_msg_set_body(m, old_ct, old_body);
			if (!rc)
				rc = r2;
		}
		return rc == IMS_ESTATE ? 0 : rc;
	}
	s->as_ifc = -1;
	if (is_originating(s->sc))
		return route_onward(s, pctx, later);
	return route_to_contacts(s, pctx, later);
}

static sess_t *sess_new(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx)
{
	sess_t *s = ims_arena_zalloc(sip_proxy_ctx_arena(pctx), sizeof(*s));
	if (!s)
		return NULL;
	s->ctx = ctx;
	s->as_ifc = -1;
	sip_proxy_ctx_set_data(pctx, s, sess_free);
	return s;
}

static int start_originating(sess_t *s, sip_proxy_ctx_t *pctx)
{
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	int rc = load_user(s, a);
	if (rc == IMS_ENOENT || (rc == 0 && s->view.state == SCSCF_REG_NOT_REGISTERED))
		return reply(pctx, 403, "Served User Not Registered");
	if (rc)
		return rc;
	/* TS 24.229 §5.4.3.2 step 1: a barred identity cannot originate. */
	const scscf_impu_t *u = served_impu(s);
	if (u && u->barred)
		return reply(pctx, 403, "Forbidden - Barred Identity");
	s->sc = s->registered ? SCSCF_SC_ORIGINATING : SCSCF_SC_ORIGINATING_UNREGISTERED;
	return run_chain(s, pctx, 0);
}

static int start_terminating(sess_t *s, sip_proxy_ctx_t *pctx);

/* The profile of an unregistered user arrived (or not): start again. */
static void unreg_done(sip_proxy_ctx_t *pctx, void *arg, int rc)
{
	sess_t *s = arg;
	int r = rc ? reply(pctx, 480, "Temporarily Unavailable") : start_terminating(s, pctx);
	if (r)
		reply(pctx, 500, "Server Internal Error");
}

static int start_terminating(sess_t *s, sip_proxy_ctx_t *pctx)
{
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	int rc = load_user(s, a);
	/* TS 24.229 §5.4.3.3, TS 29.228 §6.1.2: a user this S-CSCF does not
	 * hold may have services for the unregistered state (the I-CSCF sent
	 * it here after LIA 2003): fetch the profile once, then start again. */
	if (rc == IMS_ENOENT && !s->unreg_fetched) {
		s->unreg_fetched = 1;
		if (scscf_unreg_fetch(s->ctx, pctx, s->served_user, unreg_done, s) == 0)
			return 0;
	}
	if (rc == IMS_ENOENT)
		return reply(pctx, 480, "Temporarily Unavailable");
	if (rc)
		return rc;
	/* TS 24.229 §5.4.3.3 step 1: a barred identity is not reachable. */
	const scscf_impu_t *u = served_impu(s);
	if (u && u->barred)
		return reply(pctx, 404, "Not Found");
	s->sc = s->registered ? SCSCF_SC_TERMINATING_REGISTERED : SCSCF_SC_TERMINATING_UNREGISTERED;
	return run_chain(s, pctx, 0);
}

static int resume_from_as(sess_t *s, sip_proxy_ctx_t *pctx, ims_str_t token)
{
	scscf_session_t *ss = s->ctx->session;
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	scscf_odi_info_t info;
	int rc = scscf_odi_get(ss->odi, token, scscf_now(), a, &info);
	if (rc == IMS_ENOENT) {
		LOG_NOTICE("scscf", "session.odi_unknown odi=%.*s call_id=%.*s", IMS_STR_FMT(token),
			   IMS_STR_FMT(m->call_id));
		return reply(pctx, 404, "Unknown Original Dialog");
	}
	if (rc)
		return rc;
	s->served_user = info.served_user;
	s->orig_ruri = info.orig_ruri;
	rc = load_user(s, a);
	if (rc == IMS_ENOENT) {
		/* The profile went away meanwhile: no more services. */
		s->have_view = 0;
		s->sp = NULL;
		s->registered = info.registered;
	} else if (rc) {
		return rc;
	}
	scscf_resume_t r;
	scscf_session_resume_point(info.session_case, info.next_ifc, info.ruri, m->ruri, s->sp, &r);
	s->sc = r.session_case;
	s->next_ifc = r.next_ifc;
	LOG_INFO("scscf", "session.from_as impu=%.*s case=%s next_ifc=%u retargeted=%d call_id=%.*s",
		 IMS_STR_FMT(s->served_user), scscf_session_case_name(s->sc), s->next_ifc, r.retargeted,
		 IMS_STR_FMT(m->call_id));
	/* A terminating request the AS sent on to the same user still goes to
	 * the contacts; if it is now for someone else the contacts are not
	 * the target any more (CDIV, or the retarget of an originating
	 * request): the chain ends with route_onward. */
	return run_chain(s, pctx, 0);
}

int scscf_session_on_request(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, sip_msg_t *m)
{
	scscf_session_t *ss = ctx->session;
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	/* RFC 3261 §11: OPTIONS addressed to the S-CSCF itself (no user
	 * part, no Route left) is a capability / keep-alive probe: answer it. */
	const sip_uri_t *ru = sip_msg_ruri(m);
	if (m->method_id == SIP_METHOD_OPTIONS && ru && ru->user.len == 0 && !m->to_tag.len &&
	    !sip_msg_hdr(m, SIP_HDR_ROUTE) && sip_proxy_is_local_uri(sip_proxy_ctx_proxy(pctx), ru))
		return sip_proxy_reply(pctx, 200, IMS_STR_NULL,
				       IMS_STR("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, "
					       "SUBSCRIBE, NOTIFY, PRACK, UPDATE, REFER, INFO, REGISTER\r\n"),
				       IMS_STR_NULL, IMS_STR_NULL);
	scscf_classify_t c;
	int rc = scscf_session_classify(m, sip_proxy_ctx_removed_route_parsed(pctx), ss->own_uri, a, &c);
	if (rc == IMS_ENOENT)
		return reply(pctx, 403, "Missing P-Asserted-Identity");
	if (rc == IMS_EPARSE)
		return reply(pctx, 400, "Bad Request-URI or Route");
	if (rc)
		return rc;
	if (c.own_route && !sip_proxy_ctx_removed_route_parsed(pctx))
		sip_msg_remove_first_value(m, SIP_HDR_ROUTE);

	static const char *const arrival_names[] = { "terminating", "originating", "from_as",
						      "in_dialog" };
	count("scscf_session_requests_total", "Session requests by how they arrived", "arrival",
	      arrival_names[c.arrival]);
	if (c.arrival == SCSCF_ARRIVAL_IN_DIALOG) {
		/* RFC 3261 §16.12: a mid-dialog request follows its Route set. */
		rc = sip_proxy_forward(pctx, NULL, NULL);
		return rc == IMS_ESTATE ? 0 : rc;
	}
	sess_t *s = sess_new(ctx, pctx);
	if (!s)
		return IMS_ENOMEM;
	s->orig_ruri = m->ruri;
	/* Record-Route once per side: a request back from an AS already
	 * carries the entry this S-CSCF added on its first pass. */
	if (c.arrival != SCSCF_ARRIVAL_ODI && dialog_forming(m->method_id) &&
	    (rc = sip_proxy_record_route(pctx, IMS_STR_NULL)))
		return rc;
	switch (c.arrival) {
	case SCSCF_ARRIVAL_ODI:
		return resume_from_as(s, pctx, c.odi);
	case SCSCF_ARRIVAL_ORIGINATING:
		s->served_user = c.served_user;
		return start_originating(s, pctx);
	default:
		s->served_user = c.served_user;
		return start_terminating(s, pctx);
	}
}

/* Responses on our branches: an AS leg that failed before it showed any
 * progress is handled as its iFC's DefaultHandling says. */
static int on_response(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b, sip_msg_t *rsp)
{
	sess_t *s = sip_proxy_ctx_data(pctx);
	/* Issue 9: on the terminating side a 3xx from a device or an AS is
	 * followed for a Contact in the home domain (redirect-follow.h). */
	if (s && rsp->status >= 300 && rsp->status < 400 && !is_originating(s->sc)) {
		scscf_session_t *ss = ctx->session;
		if (scscf_redirect_on_response(pctx, rsp, ss->realm, ss->home_tel_prefixes, ss->icscf_uri,
					       &s->redirects) == SIP_PROXY_ABSORB) {
			s->as_ifc = -1;
			return SIP_PROXY_ABSORB;
		}
	}
	if (s && s->hunt && sip_proxy_branch_data(b) != AS_BRANCH)
		return scscf_hunt_on_response(s->hunt, pctx, b, rsp);
	if (!s || sip_proxy_branch_data(b) != AS_BRANCH || s->as_ifc < 0 || !s->sp)
		return SIP_PROXY_CONTINUE;
	if (rsp->status < 200) {
		if (rsp->status > 100)
			s->as_prov = 1;
		return SIP_PROXY_CONTINUE;
	}
	const scscf_ifc_t *f = &s->sp->ifcs[s->as_ifc];
	scscf_session_t *ss = ctx->session;
	/* Once the AS has sent the request back (its odi came home), a 408 or
	 * 5xx on this leg is a downstream answer the AS relays: not the AS
	 * failing, so DefaultHandling does not apply. */
	if (scscf_odi_was_returned(ss->odi, ims_str_from(s->token, SCSCF_ODI_TOKEN_LEN)))
		return SIP_PROXY_CONTINUE;
	scscf_as_outcome_t o = scscf_session_as_failure(f->as.default_handling, rsp->status, s->as_prov);
	if (o == SCSCF_AS_RELAY)
		return SIP_PROXY_CONTINUE;
	scscf_odi_remove(ss->odi, ims_str_from(s->token, SCSCF_ODI_TOKEN_LEN));
	LOG_NOTICE("scscf", "session.as_failed as=%.*s status=%d default_handling=%s call_id=%.*s",
		   IMS_STR_FMT(f->as.server_name), rsp->status,
		   o == SCSCF_AS_CONTINUE ? "SESSION_CONTINUED" : "SESSION_TERMINATED",
		   IMS_STR_FMT(sip_proxy_ctx_msg(pctx)->call_id));
	count("scscf_as_failures_total", "AS legs handled by DefaultHandling", "default_handling",
	      o == SCSCF_AS_CONTINUE ? "SESSION_CONTINUED" : "SESSION_TERMINATED");
	if (o == SCSCF_AS_TERMINATE)
		return SIP_PROXY_CONTINUE; /* the failure goes to the caller */
	/* SESSION_CONTINUED: as if the AS had returned the request unchanged. */
	if (sip_proxy_ctx_cancelled(pctx))
		return SIP_PROXY_CONTINUE;
	s->as_ifc = -1;
	if (run_chain(s, pctx, 1) != 0)
		return SIP_PROXY_CONTINUE;
	return SIP_PROXY_ABSORB;
}

static int on_session(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, sip_msg_t *m)
{
	return scscf_session_on_request(ctx, pctx, m);
}

static int cfg_str(scscf_ctx_t *ctx, const char *key, const char *def, ims_str_t *out, char *err,
		   size_t errlen)
{
	const char *v = def;
	if (ctx->ycfg && ims_cfg_str(ctx->ycfg, key, def, &v) != 0) {
		snprintf(err, errlen, "%s", ims_cfg_error(ctx->ycfg));
		return IMS_ECONFIG;
	}
	*out = ims_str_cstr(v ? v : "");
	return 0;
}

int scscf_session_init(scscf_ctx_t *ctx, char *err, size_t errlen)
{
	scscf_session_t *ss = calloc(1, sizeof(*ss));
	if (!ss) {
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	int rc;
	long ttl = 300, as_timeout = 4000, ring = 20;
	if ((rc = cfg_str(ctx, "session.icscf_uri", "sip:127.0.0.1:4060", &ss->icscf_uri, err, errlen)) ||
	    (rc = cfg_str(ctx, "session.breakout_uri", "", &ss->breakout_uri, err, errlen)) ||
	    (rc = cfg_str(ctx, "session.home_tel_prefixes", "", &ss->home_tel_prefixes, err, errlen)))
		goto bad;
	if (ctx->ycfg && (ims_cfg_int(ctx->ycfg, "session.odi_ttl", 300, 1, 86400, &ttl) != 0 ||
			  ims_cfg_int(ctx->ycfg, "session.as_timeout_ms", 4000, 0, 180000,
				      &as_timeout) != 0 ||
			  ims_cfg_int(ctx->ycfg, "session.hunt_ring_time", 20, 1, 300, &ring) != 0)) {
		snprintf(err, errlen, "%s", ims_cfg_error(ctx->ycfg));
		rc = IMS_ECONFIG;
		goto bad;
	}
	ss->own_uri = ims_str_cstr(ctx->cfg.own_uri);
	ss->realm = ims_str_cstr(ctx->cfg.realm);
	ss->as_timeout_ms = (uint32_t)as_timeout;
	ss->hunt_ring_ms = (uint32_t)ring * 1000;
	if ((rc = scscf_odi_table_create((uint32_t)ttl, 0, &ss->odi))) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	if (!(ss->isc_cache = scscf_isc_cache_create())) {
		scscf_odi_table_destroy(ss->odi);
		snprintf(err, errlen, "out of memory");
		rc = IMS_ENOMEM;
		goto bad;
	}
	ctx->session = ss;
	ctx->on_session = on_session;
	ctx->on_session_response = on_response;
	return 0;
bad:
	free(ss);
	return rc;
}

void scscf_session_destroy(scscf_ctx_t *ctx)
{
	scscf_session_t *ss = ctx ? ctx->session : NULL;
	if (!ss)
		return;
	scscf_odi_table_destroy(ss->odi);
	scscf_isc_cache_destroy(ss->isc_cache);
	free(ss);
	ctx->session = NULL;
	ctx->on_session = NULL;
	ctx->on_session_response = NULL;
}

scscf_isc_cache_t *scscf_session__isc_cache(scscf_ctx_t *ctx)
{
	scscf_session_t *ss = ctx ? ctx->session : NULL;
	return ss ? ss->isc_cache : NULL;
}

void scscf_session_expire(scscf_ctx_t *ctx)
{
	scscf_session_t *ss = ctx ? ctx->session : NULL;
	if (!ss)
		return;
	scscf_odi_expire(ss->odi, scscf_now());
	ims_gauge_set(ims_metrics_gauge("scscf_odi_entries",
					"odi entries held for requests sent to an AS", NULL, NULL),
		      (int64_t)scscf_odi_count(ss->odi));
}

size_t scscf_session__odi_count(scscf_ctx_t *ctx)
{
	scscf_session_t *ss = ctx ? ctx->session : NULL;
	return ss ? scscf_odi_count(ss->odi) : 0;
}
