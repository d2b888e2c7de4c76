/* libFuzzer target: the S-CSCF User-Data parser and iFC compiler
 * (scscf_profile_load), then every compiled iFC is evaluated against a few
 * fixed requests in every session case, and identities are looked up. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ifc-eval.h"
#include "profile.h"

static const scscf_hdr_view_t hdrs[] = {
	{ IMS_STR("Subject"), IMS_STR("urgent") },
	{ IMS_STR("s"), IMS_STR("compact") },
	{ IMS_STR("P-Preferred-Service"), IMS_STR("urn:urn-7:3gpp-service.ims.icsi.mmtel") },
	{ IMS_STR("Accept-Contact"), IMS_STR("*;+g.3gpp.icsi-ref") },
};

static const char sdp[] = "v=0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\nc=IN IP4 1.2.3.4";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	scscf_profile_t *p = NULL;
	scscf_profile_err_t err;
	if (scscf_profile_load((const char *)data, size, &p, &err) != 0)
		return 0;
	scscf_ifc_req_t reqs[3] = {
		{ .method = IMS_STR("INVITE"), .ruri = IMS_STR("sip:voicemail@ims.example"), .hdrs = hdrs,
		  .n_hdrs = 4, .content_type = IMS_STR("application/sdp"),
		  .body = { sdp, sizeof(sdp) - 1 } },
		{ .method = IMS_STR("REGISTER"), .ruri = IMS_STR("sip:ims.example"), .reg_type = 1 },
		{ .method = IMS_STR("MESSAGE"), .ruri = IMS_STR("tel:+15550001"), .body = IMS_STR("m=x") },
	};
	for (unsigned i = 0; i < p->n_sps; i++) {
		const scscf_service_profile_t *sp = &p->sps[i];
		for (unsigned k = 1; k < sp->n_ifcs; k++)
			if (sp->ifcs[k - 1].priority > sp->ifcs[k].priority)
				abort(); /* must be sorted */
		for (unsigned r = 0; r < 3; r++)
			for (int sc = 0; sc < SCSCF_SC__COUNT; sc++)
				for (int reg = 0; reg < 2; reg++) {
					int at = 0;
					while ((at = scscf_ifc_next(sp, (unsigned)at, &reqs[r],
								    (scscf_session_case_t)sc, reg)) >= 0)
						at++;
				}
		for (unsigned k = 0; k < sp->n_impus; k++)
			if (!scscf_profile_find_impu(p, sp->impus[k].identity, NULL, NULL))
				abort(); /* every identity must be found */
	}
	scscf_profile_free(p);
	return 0;
}
