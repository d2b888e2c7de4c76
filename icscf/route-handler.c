/* I-CSCF request dispatch (TS 24.229 §5.3): REGISTER -> UAR, an initial
 * request -> LIR, anything else follows its Route. */
#include <string.h>

#include "context.h"
#include "base/ims_err.h"
#include "dia/cx-dict.h"
#include "log/ims_log.h"
#include "sip/proxy/sip_proxy.h"

void icscf__on_request(sip_proxy_ctx_t *pctx, void *ud)
{
	icscf_ctx_t *c = ud;
	sip_method_t method = sip_proxy_ctx_method(pctx);
	const sip_msg_t *m = sip_proxy_ctx_received(pctx);

	if (method == SIP_METHOD_REGISTER) {
		/* TS 29.228 §6.1.1: Expires 0 (in the header or on every
		 * Contact) is a de-registration. */
		int64_t exp = m->expires;
		sip_val_iter_t it = { 0 };
		ims_str_t v;
		int contacts = 0, zero = 0;
		while (sip_msg_next_value(m, SIP_HDR_CONTACT, &it, &v) == 1) {
			sip_nameaddr_t na;
			uint64_t e;
			contacts++;
			if (sip_nameaddr_parse(v, NULL, &na) == 0 &&
			    (na.star || (na.expires.len && ims_str_to_u64(na.expires, 0xffffffffu, &e) == 0 && e == 0) ||
			     (!na.expires.len && exp == 0)))
				zero++;
		}
		uint32_t uat = contacts > 0 && zero == contacts ? CX_UAT_DE_REGISTRATION
								: CX_UAT_REGISTRATION;
		icscf__send_uar(c, pctx, uat);
		return;
	}
	if (!sip_proxy_ctx_in_dialog(pctx) && method != SIP_METHOD_ACK) {
		icscf__send_lir(c, pctx);
		return;
	}
	/* Mid-dialog requests do not normally reach the I-CSCF (it does not
	 * Record-Route); follow the Route set if one does. */
	if (sip_proxy_forward(pctx, NULL, NULL) != 0 && method != SIP_METHOD_ACK)
		sip_proxy_reply(pctx, 500, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL, IMS_STR_NULL);
}
