/* The proxy core, originating side: requests the daemons send themselves
 * (NOTIFY, SUBSCRIBE, third-party REGISTER), with one callback on the final
 * response or on timeout. */
#include <stdlib.h>

#include "base/ims_err.h"
#include "sip/proxy/proxy-int.h"

/* ---- originating requests ---------------------------------------------------- */

typedef struct px_uac {
	sip_proxy_uac_cb cb;
	void *ud;
	uint8_t reported;
} px_uac_t;

static void uac_cb(sip_tsx_t *t, const sip_tsx_event_t *ev, void *ud)
{
	(void)t;
	px_uac_t *u = ud;
	switch (ev->type) {
	case SIP_TSX_EV_RESPONSE:
		if (ev->msg->status >= 200 && !u->reported) {
			u->reported = 1;
			u->cb(u->ud, ev->msg->status, ev->msg);
		}
		break;
	case SIP_TSX_EV_TIMEOUT:
	case SIP_TSX_EV_TPERR:
		if (!u->reported) {
			u->reported = 1;
			u->cb(u->ud, ev->type == SIP_TSX_EV_TIMEOUT ? 408 : 503, NULL);
		}
		break;
	case SIP_TSX_EV_TERMINATED:
		if (!u->reported) /* cannot happen, but the contract is "exactly once" */
			u->cb(u->ud, 408, NULL);
		free(u);
		break;
	}
}

static int copy_request(const sip_msg_t *src, ims_arena_t *a, sip_msg_t **out)
{
	sip_msg_t *m;
	int rc = sip_msg_new_request(a, src->method, src->ruri, &m);
	if (rc)
		return rc;
	ims_str_t ctype = IMS_STR_NULL;
	for (const sip_hdr_t *h = src->hdrs; h; h = h->next) {
		if (h->flags & SIP_HDRF_DELETED || h->id == SIP_HDR_CONTENT_LENGTH)
			continue;
		if (h->id == SIP_HDR_CONTENT_TYPE) {
			ctype = h->value;
			continue;
		}
		if (!sip_msg_hdr_add(m, h->id, h->id == SIP_HDR_OTHER ? h->name : IMS_STR_NULL,
				     h->value, SIP_POS_BOTTOM))
			return IMS_ENOMEM;
	}
	if ((src->body.len || ctype.len) && (rc = sip_msg_set_body(m, ctype, src->body)))
		return rc;
	*out = m;
	return 0;
}

int sip_proxy_uac_send(sip_proxy_t *p, int worker, const sip_msg_t *req,
		       const sip_proxy_target_t *target, sip_proxy_uac_cb cb, void *ud)
{
	if (worker < 0 || worker >= p->nworkers || !cb || !req->is_request ||
	    req->method_id == SIP_METHOD_ACK)
		return IMS_EINVAL;
	px_worker_t *w = &p->w[worker];
	/* A short-lived context gives the branch builders their arena. */
	sip_tp_peer_t none;
	memset(&none, 0, sizeof(none));
	none.listener = -1;
	sip_proxy_ctx_t *ctx = sip_proxy__ctx_new(w, &none);
	if (!ctx)
		return IMS_ENOMEM;
	ctx->refs = 1;
	ctx->method = req->method_id;
	ctx->rcv = req;
	/* The daemon's request has no Via yet, so it is copied header by
	 * header (not cloned through the parser, which wants a Via). */
	sip_msg_t *m = NULL;
	sip_tp_peer_t dest;
	int li = -1;
	int rc = copy_request(req, ctx->arena, &m);
	if (!rc)
		rc = sip_proxy__apply_target(m, target);
	if (!rc && !sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS) &&
	    !sip_msg_hdr_addf(m, SIP_HDR_MAX_FORWARDS, SIP_POS_TOP, "70"))
		rc = IMS_ENOMEM;
	if (!rc)
		rc = sip_proxy__branch_dest(ctx, target, m, &dest);
	if (!rc)
		rc = sip_proxy__push_via(ctx, m, &dest, &li);
	px_uac_t *u = NULL;
	if (!rc) {
		u = calloc(1, sizeof(*u));
		rc = u ? 0 : IMS_ENOMEM;
	}
	if (!rc) {
		u->cb = cb;
		u->ud = ud;
		dest.listener = li;
		rc = sip_tsx_uac_create(w->tsx, m, &dest, uac_cb, u, NULL);
		if (rc)
			free(u);
		else
			stat_inc(&p->st.tx_requests);
	}
	sip_proxy__ctx_unref(ctx);
	sip_proxy__rearm(w);
	return rc;
}

