/* P-CSCF registration (TS 24.229 §5.2.2): the REGISTER goes to an I-CSCF
 * of the home network (the next one on 503/timeout), the 401 loses ck/ik,
 * the 200 is remembered in the registration cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "reg-edit.h"
#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "sip/proxy/sip_proxy.h"

typedef struct reg_state {
	unsigned icscf;     /* index of the I-CSCF the current branch went to */
	pcscf_flow_t flow;  /* the UE's flow */
} reg_state_t;

static int forward_to_icscf(pcscf_ctx_t *c, sip_proxy_ctx_t *pctx, unsigned i, int later)
{
	sip_proxy_target_t t;
	memset(&t, 0, sizeof(t));
	t.next_hop = ims_str_cstr(c->cfg.icscf[i]);
	return later ? sip_proxy_add_branch(pctx, &t, NULL) : sip_proxy_forward(pctx, &t, NULL);
}

void pcscf__register(pcscf_ctx_t *c, sip_proxy_ctx_t *pctx)
{
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	reg_state_t *st = ims_arena_zalloc(a, sizeof(*st));
	if (!st) {
		sip_proxy_reply(pctx, 500, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
		return;
	}
	pcscf__flow_from_peer(sip_proxy_ctx_src(pctx), &st->flow);
	sip_proxy_ctx_set_data(pctx, st, NULL);
	int rc = pcscf_reg_prepare(m, &c->reg_opts);
	if (rc != 0) {
		sip_proxy_reply(pctx, 500, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
		return;
	}
	/* Route set from the UE is not ours to keep: the home network's entry
	 * point is the I-CSCF (TS 24.229 §5.2.2.1). */
	sip_msg_hdr_remove_all(m, SIP_HDR_ROUTE);
	LOG_DEBUG("pcscf", "reg.forward call_id=%.*s icscf=%s src=%s:%u", IMS_STR_FMT(m->call_id),
		  c->cfg.icscf[0], st->flow.ip, (unsigned)st->flow.port);
	if (forward_to_icscf(c, pctx, 0, 0) != 0)
		sip_proxy_reply(pctx, 500, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
}

static void registered(pcscf_ctx_t *c, sip_proxy_ctx_t *pctx, reg_state_t *st, sip_msg_t *rsp)
{
	const sip_msg_t *req = sip_proxy_ctx_received(pctx);
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	int64_t now = pcscf_now();
	pcscf_reg_t *reg, *old = NULL;
	int had = pcscf_reg_store_find_flow(c->store, st->flow.transport, st->flow.ip,
					    st->flow.port, now, a, &old) == 0;
	int rc = pcscf_reg_from_ok(req, rsp, &st->flow, now, a, &reg);
	if (rc == IMS_ENOENT) {
		/* De-registration (RFC 3261 §10.2.2, TS 24.229 §5.2.2.3). */
		pcscf_reg_store_remove_flow(c->store, st->flow.transport, st->flow.ip,
					    st->flow.port);
		pcscf__update_gauges(c);
		LOG_INFO("pcscf", "reg.removed src=%s:%u call_id=%.*s", st->flow.ip,
			 (unsigned)st->flow.port, IMS_STR_FMT(req->call_id));
		return;
	}
	if (rc != 0 || pcscf_reg_store_put(c->store, reg) != 0) {
		LOG_WARN("pcscf", "reg.store_failed rc=%d call_id=%.*s", rc,
			 IMS_STR_FMT(req->call_id));
		return;
	}
	pcscf__update_gauges(c);
	LOG_INFO("pcscf", "reg.stored impu=%.*s src=%s:%u expires_in=%lld routes=%u", IMS_STR_FMT(reg->impu),
		 st->flow.ip, (unsigned)st->flow.port, (long long)(reg->expires_at - now),
		 reg->n_service_route);
	/* TS 24.229 §5.2.3: subscribe to the reg event after the initial
	 * registration, and again on a re-registration when the earlier
	 * subscription is gone (refused, expired or terminated). */
	ims_str_t dflt = reg->n_assoc ? reg->assoc[0] : reg->impu;
	if (c->cfg.reg_event && (!had || !pcscf_subs_has_impu(c->subs, dflt, now)))
		pcscf__regevent_subscribe(c, sip_proxy_ctx_worker(pctx), reg);
}

int pcscf__register_response(pcscf_ctx_t *c, sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b,
			     sip_msg_t *rsp)
{
	reg_state_t *st = sip_proxy_ctx_data(pctx);
	if (!st)
		return SIP_PROXY_CONTINUE;
	int code = rsp->status;
	if ((code == 503 || code == 408) && st->icscf + 1 < c->cfg.n_icscf) {
		/* The I-CSCF did not answer: try the next one. */
		st->icscf++;
		LOG_NOTICE("pcscf", "reg.icscf_failover code=%d next=%s", code,
			   c->cfg.icscf[st->icscf]);
		if (forward_to_icscf(c, pctx, st->icscf, 1) == 0)
			return SIP_PROXY_ABSORB;
		return SIP_PROXY_CONTINUE;
	}
	if (code == 401) {
		/* TS 33.203 §7.1, TS 24.229 §5.2.2.1: keys stay with the P-CSCF
		 * (no IPsec here, so they are not used further). */
		ims_str_t ck, ik;
		int n = pcscf_reg_strip_keys(rsp, sip_proxy_ctx_arena(pctx), &ck, &ik);
		LOG_DEBUG("pcscf", "reg.challenge keys_removed=%d ck_len=%u", n, ck.len);
		return SIP_PROXY_CONTINUE;
	}
	if (code >= 200 && code < 300)
		registered(c, pctx, st, rsp);
	(void)b;
	return SIP_PROXY_CONTINUE;
}
