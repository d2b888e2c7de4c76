/* P-CSCF reg-event subscription (TS 24.229 §5.2.3, RFC 3680): after a
 * registration the P-CSCF subscribes to the user's registration state at
 * the S-CSCF, and forgets the registration when a NOTIFY says it ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "context.h"
#include "regevent-parse.h"
#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/proxy/sip_proxy.h"

typedef struct sub_ud {
	pcscf_ctx_t *c;
	char impu[256];
	char call_id[256];
} sub_ud_t;

static void on_subscribe_final(void *ud, int code, sip_msg_t *rsp)
{
	sub_ud_t *s = ud;
	if (code >= 200 && code < 300) {
		/* RFC 6665 §4.1.2.1: the notifier may shorten the expiry. */
		if (rsp && rsp->expires >= 0)
			pcscf_subs_set_expiry(s->c->subs, ims_str_cstr(s->call_id),
					      pcscf_now() + rsp->expires);
		LOG_INFO("pcscf", "regevent.subscribed impu=%s code=%d", s->impu, code);
	} else {
		/* No subscription: a NOTIFY for it would not be believed. */
		pcscf_subs_remove(s->c->subs, ims_str_cstr(s->call_id));
		LOG_WARN("pcscf", "regevent.subscribe_failed impu=%s code=%d", s->impu, code);
	}
	free(s);
}

void pcscf__regevent_subscribe(pcscf_ctx_t *c, int worker, const pcscf_reg_t *reg)
{
	if (reg->n_service_route == 0)
		return;
	ims_str_t impu = reg->n_assoc ? reg->assoc[0] : reg->impu;
	ims_arena_t *a = ims_arena_create(2048);
	sub_ud_t *s = calloc(1, sizeof(*s));
	sip_msg_t *m = NULL;
	int rc = IMS_ENOMEM;
	if (!a || !s)
		goto fail;
	/* TS 24.229 §5.2.3: Request-URI and To are the default public user
	 * identity; the request goes to the S-CSCF the Service-Route names
	 * (its address only: the ;orig Route is for the UE's own requests). */
	sip_nameaddr_t sr;
	if (sip_nameaddr_parse(reg->service_route[0], NULL, &sr) != 0)
		goto fail;
	ims_str_t hop = ims_arena_printf(a, "sip:%.*s:%u", IMS_STR_FMT(sr.uri.host),
					 (unsigned)(sr.uri.port ? sr.uri.port : 5060));
	ims_str_t tag = sip_proxy_random_token(c->proxy, a, 8);
	ims_str_t cid = sip_proxy_random_token(c->proxy, a, 12);
	if (!hop.s || !tag.s || !cid.s || sip_msg_new_request(a, IMS_STR("SUBSCRIBE"), impu, &m) != 0)
		goto fail;
	if (!sip_msg_hdr_addf(m, SIP_HDR_FROM, SIP_POS_BOTTOM, "<%s>;tag=%.*s", c->self_uri,
			      IMS_STR_FMT(tag)) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_TO, SIP_POS_BOTTOM, "<%.*s>", IMS_STR_FMT(impu)) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_CALL_ID, SIP_POS_BOTTOM, "%.*s@%s", IMS_STR_FMT(cid),
			      c->cfg.host) ||
	    !sip_msg_hdr_add(m, SIP_HDR_CSEQ, IMS_STR_NULL, IMS_STR("1 SUBSCRIBE"), SIP_POS_BOTTOM) ||
	    !sip_msg_hdr_add(m, SIP_HDR_EVENT, IMS_STR_NULL, IMS_STR("reg"), SIP_POS_BOTTOM) ||
	    !sip_msg_hdr_add(m, SIP_HDR_ACCEPT, IMS_STR_NULL, IMS_STR("application/reginfo+xml"),
			     SIP_POS_BOTTOM) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_EXPIRES, SIP_POS_BOTTOM, "%lld",
			      (long long)(reg->expires_at - pcscf_now())) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_CONTACT, SIP_POS_BOTTOM, "<%s>", c->self_uri) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_P_ASSERTED_IDENTITY, SIP_POS_BOTTOM, "<%s>",
			      c->self_uri))
		goto fail;
	ims_str_to_c(impu, s->impu, sizeof(s->impu));
	snprintf(s->call_id, sizeof(s->call_id), "%.*s@%s", IMS_STR_FMT(cid), c->cfg.host);
	s->c = c;
	/* RFC 6665 §4.1.2.4: a NOTIFY may come before the 200, so the dialog
	 * is known from the moment the SUBSCRIBE leaves. */
	rc = pcscf_subs_add(c->subs, ims_str_cstr(s->call_id), impu, reg->expires_at);
	if (rc != 0)
		goto fail;
	sip_proxy_target_t t;
	memset(&t, 0, sizeof(t));
	t.next_hop = hop;
	rc = sip_proxy_uac_send(c->proxy, worker, m, &t, on_subscribe_final, s);
	if (rc != 0) {
		pcscf_subs_remove(c->subs, ims_str_cstr(s->call_id));
		goto fail;
	}
	ims_arena_destroy(a);
	return;
fail:
	LOG_WARN("pcscf", "regevent.subscribe_not_sent impu=%.*s rc=%d", IMS_STR_FMT(impu), rc);
	free(s);
	ims_arena_destroy(a);
}

typedef struct notify_ud {
	pcscf_ctx_t *c;
	int removed;
} notify_ud_t;

static void on_registration(void *ud, ims_str_t aor, ims_str_t state)
{
	notify_ud_t *n = ud;
	/* RFC 3680 §5.3: "terminated" means no contact is bound any more. */
	if (ims_str_eq_c(state, "terminated")) {
		int k = pcscf_reg_store_remove_impu(n->c->store, aor);
		n->removed += k;
		LOG_INFO("pcscf", "regevent.terminated aor=%.*s flows_removed=%d", IMS_STR_FMT(aor), k);
	}
}

void pcscf__regevent_notify(pcscf_ctx_t *c, sip_proxy_ctx_t *pctx)
{
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	sip_hdr_t *ev = sip_msg_hdr(m, SIP_HDR_EVENT);
	if (!ev || ev->value.len < 3 || strncasecmp(ev->value.s, "reg", 3) != 0 ||
	    (ev->value.len > 3 && ev->value.s[3] != ';' && ev->value.s[3] != ' ')) {
		sip_proxy_reply(pctx, 489, IMS_STR("Bad Event"), IMS_STR_NULL, IMS_STR_NULL,
				IMS_STR_NULL);
		return;
	}
	/* RFC 6665 §4.1.3: a NOTIFY outside a subscription we made is 481;
	 * this also keeps UEs from forging a de-registration. */
	if (!pcscf_subs_has(c->subs, m->call_id, pcscf_now())) {
		LOG_NOTICE("pcscf", "regevent.notify_unknown call_id=%.*s", IMS_STR_FMT(m->call_id));
		sip_proxy_reply(pctx, 481, IMS_STR("Subscription Does Not Exist"), IMS_STR_NULL,
				IMS_STR_NULL, IMS_STR_NULL);
		return;
	}
	notify_ud_t n = { c, 0 };
	if (m->body.len && pcscf_reginfo_parse(m->body.s, m->body.len, on_registration, &n) < 0) {
		sip_proxy_reply(pctx, 400, IMS_STR("Bad reginfo"), IMS_STR_NULL, IMS_STR_NULL,
				IMS_STR_NULL);
		return;
	}
	sip_hdr_t *ss = sip_msg_hdr(m, SIP_HDR_SUBSCRIPTION_STATE);
	if (ss && ss->value.len >= 10 && strncasecmp(ss->value.s, "terminated", 10) == 0)
		pcscf_subs_remove(c->subs, m->call_id);
	pcscf__update_gauges(c);
	sip_proxy_reply(pctx, 200, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
}
