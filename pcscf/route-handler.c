/* P-CSCF request routing (TS 24.229 §5.2.6, §5.2.7): requests from a
 * registered UE go to its S-CSCF along the stored Service-Route with the
 * identity asserted; requests to a UE go to the address and transport its
 * REGISTER came from. */
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "route-edit.h"
#include "reg-edit.h"
#include "regevent-parse.h"
#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "sip/proxy/sip_proxy.h"

static void count(const char *what)
{
	ims_counter_inc(ims_metrics_counter("pcscf_requests_total",
					    "Requests handled by the P-CSCF, by decision", "route",
					    what));
}

static void reply(sip_proxy_ctx_t *pctx, int code, const char *reason)
{
	sip_proxy_reply(pctx, code, ims_str_cstr(reason), IMS_STR_NULL, IMS_STR_NULL,
			IMS_STR_NULL);
}

/* From a registered UE (TS 24.229 §5.2.6.3): hygiene, identity, Route. */
static void from_ue(pcscf_ctx_t *c, sip_proxy_ctx_t *pctx, const pcscf_reg_t *reg)
{
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	pcscf_strip_untrusted(m);
	if (pcscf_strip_sec_agree(m) < 0) {
		reply(pctx, 500, "Server Internal Error");
		return;
	}
	if (!sip_proxy_ctx_in_dialog(pctx) && sip_proxy_ctx_method(pctx) != SIP_METHOD_ACK) {
		ims_str_t asserted;
		if (!pcscf_contact_is_registered(m, reg)) {
			LOG_INFO("pcscf", "orig.reject reason=contact_not_registered call_id=%.*s",
				 IMS_STR_FMT(m->call_id));
			count("rejected");
			reply(pctx, 403, "Forbidden");
			return;
		}
		if (pcscf_assert_identity(m, reg, &asserted) != 0 ||
		    pcscf_push_service_route(m, reg) != 0 ||
		    pcscf_add_charging_vector(m, &c->reg_opts) != 0) {
			reply(pctx, 500, "Server Internal Error");
			return;
		}
		/* RFC 3261 §16.6 step 4: stay on the path of the dialog so
		 * later requests from the core find the UE's flow. */
		if (sip_proxy_ctx_method(pctx) != SIP_METHOD_OPTIONS)
			sip_proxy_record_route(pctx, IMS_STR_NULL);
		LOG_DEBUG("pcscf", "orig.forward call_id=%.*s pai=%.*s", IMS_STR_FMT(m->call_id),
			  IMS_STR_FMT(asserted));
	} else {
		/* RFC 3325 §5: the UE may not assert itself mid-dialog either. */
		sip_msg_hdr_remove_all(m, SIP_HDR_P_PREFERRED_IDENTITY);
	}
	count("orig");
	if (sip_proxy_forward(pctx, NULL, NULL) != 0)
		reply(pctx, 500, "Server Internal Error");
}

/* To a registered UE (TS 24.229 §5.2.7 / RFC 3327): to the flow its
 * REGISTER came on (the UE's TCP connection is reused by address). */
static void to_ue(pcscf_ctx_t *c, sip_proxy_ctx_t *pctx, const pcscf_reg_t *reg)
{
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	int v6 = strchr(reg->flow.ip, ':') != NULL;
	ims_str_t hop = ims_arena_printf(a, "sip:%s%s%s:%u;transport=%s", v6 ? "[" : "",
					 reg->flow.ip, v6 ? "]" : "", (unsigned)reg->flow.port,
					 reg->flow.transport == PCSCF_TP_TCP ? "tcp" : "udp");
	if (!hop.s) {
		reply(pctx, 500, "Server Internal Error");
		return;
	}
	/* RFC 7315 §5: charging information stays inside the network. */
	sip_msg_hdr_remove_all(m, SIP_HDR_P_CHARGING_VECTOR);
	sip_msg_hdr_remove_all(m, SIP_HDR_P_CHARGING_FUNCTION_ADDRESSES);
	if (!sip_proxy_ctx_in_dialog(pctx) && sip_proxy_ctx_method(pctx) != SIP_METHOD_ACK &&
	    sip_proxy_ctx_method(pctx) != SIP_METHOD_OPTIONS)
		sip_proxy_record_route(pctx, IMS_STR_NULL);
	sip_proxy_target_t t;
	memset(&t, 0, sizeof(t));
	t.next_hop = hop;
	count("term");
	LOG_DEBUG("pcscf", "term.forward call_id=%.*s hop=%s", IMS_STR_FMT(m->call_id), hop.s);
	if (sip_proxy_forward(pctx, &t, NULL) != 0)
		reply(pctx, 500, "Server Internal Error");
	(void)c;
}

/* 1 when the Request-URI is our own reg-event contact (sip:pcscf@us). */
static int ruri_is_self(pcscf_ctx_t *c, sip_msg_t *m)
{
	const sip_uri_t *u = sip_msg_ruri(m);
	return u && ims_str_eq_c(u->user, "pcscf") && sip_proxy_is_local_uri(c->proxy, u);
}

void pcscf__on_request(sip_proxy_ctx_t *pctx, void *ud)
{
	pcscf_ctx_t *c = ud;
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	sip_method_t method = sip_proxy_ctx_method(pctx);
	const sip_tp_peer_t *src = sip_proxy_ctx_src(pctx);
	pcscf_flow_t flow;
	pcscf__flow_from_peer(src, &flow);
	int64_t now = pcscf_now();

	if (method == SIP_METHOD_REGISTER) {
		pcscf__register(c, pctx);
		return;
	}
	pcscf_reg_t *reg = NULL;
	if (pcscf_reg_store_find_flow(c->store, flow.transport, flow.ip, flow.port, now, a, &reg) ==
	    0) {
		from_ue(c, pctx, reg);
		return;
	}
	if (method == SIP_METHOD_NOTIFY && ruri_is_self(c, m)) {
		pcscf__regevent_notify(c, pctx);
		return;
	}
	/* A request for a UE: its Request-URI is a registered contact (the
	 * S-CSCF sets it, RFC 3327 §5; in-dialog requests carry the UE's
	 * Contact as remote target). */
	if (pcscf_reg_store_find_contact(c->store, m->ruri, now, a, &reg) == 0) {
		to_ue(c, pctx, reg);
		return;
	}
	ims_str_t removed = sip_proxy_ctx_removed_route(pctx);
	if (removed.len && pcscf_route_is_ours(removed, ims_str_cstr(c->cfg.host), c->cfg.port,
					       IMS_STR("term"))) {
		/* Came along our Path but the UE is gone. */
		count("term_unknown");
		if (method != SIP_METHOD_ACK)
			reply(pctx, 480, "Temporarily Unavailable");
		return;
	}
	/* TS 24.229 §5.2.6.3.1: only registered UEs may send requests. */
	LOG_INFO("pcscf", "orig.reject reason=not_registered src=%s:%u method=%.*s call_id=%.*s",
		 flow.ip, (unsigned)flow.port, IMS_STR_FMT(m->method), IMS_STR_FMT(m->call_id));
	count("rejected");
	if (method != SIP_METHOD_ACK)
		reply(pctx, 403, "Forbidden");
}

int pcscf__on_response(sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b, sip_msg_t *rsp, void *ud)
{
	pcscf_ctx_t *c = ud;
	if (sip_proxy_ctx_method(pctx) == SIP_METHOD_REGISTER)
		return pcscf__register_response(c, pctx, b, rsp);
	return SIP_PROXY_CONTINUE;
}
