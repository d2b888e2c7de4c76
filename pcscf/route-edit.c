/* P-CSCF trust-boundary edits: see route-edit.h. */
#include "route-edit.h"

#include <string.h>

#include "base/ims_err.h"

static const char *const untrusted_other[] = {
	"P-Served-User",       /* RFC 5502 §6: set by the S-CSCF for ASs */
	"P-Profile-Key",       /* RFC 5002 §5: set by the I-CSCF */
	"P-Asserted-Service",  /* RFC 6050 §4.1: asserted by the network */
	NULL,
};

int pcscf_strip_untrusted(sip_msg_t *m)
{
	static const sip_hdr_id_t ids[] = {
		SIP_HDR_P_ASSERTED_IDENTITY,           /* RFC 3325 §5, TS 24.229 §5.2.6.3.1 */
		SIP_HDR_P_CHARGING_VECTOR,             /* RFC 7315 §4.6, TS 24.229 §5.2.6.3.1 */
		SIP_HDR_P_CHARGING_FUNCTION_ADDRESSES, /* RFC 7315 §4.5 */
		SIP_HDR_P_VISITED_NETWORK_ID,          /* TS 24.229 §5.2.2.1 */
		SIP_HDR_P_CALLED_PARTY_ID,             /* set by the S-CSCF only */
	};
	int n = 0;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		n += sip_msg_hdr_remove_all(m, ids[i]);
	for (size_t i = 0; untrusted_other[i]; i++) {
		sip_hdr_t *h;
		while ((h = sip_msg_hdr_by_name(m, ims_str_cstr(untrusted_other[i]))) != NULL) {
			sip_msg_hdr_remove(m, h);
			n++;
		}
	}
	return n;
}

/* Rewrites one option-tag header without "sec-agree". */
static int drop_tag(sip_msg_t *m, sip_hdr_t *h)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	int found = 0;
	/* ", " between kept tags may be longer than the separators written. */
	size_t cap = (size_t)h->value.len * 2 + 2, n = 0;
	char *buf = ims_arena_alloc(m->arena, cap);
	if (!buf)
		return IMS_ENOMEM;
	while (sip_hdr_next_value(h, &it, &v) == 1) {
		v = ims_str_trim(v);
		if (ims_str_caseeq_c(v, "sec-agree")) {
			found = 1;
			continue;
		}
		if (n) {
			buf[n++] = ',';
			buf[n++] = ' ';
		}
		memcpy(buf + n, v.s, v.len);
		n += v.len;
	}
	if (!found)
		return 0;
	if (n == 0) {
		sip_msg_hdr_remove(m, h);
		return 1;
	}
	return sip_msg_hdr_set_value(m, h, ims_str_from(buf, n)) == 0 ? 1 : IMS_ENOMEM;
}

int pcscf_strip_sec_agree(sip_msg_t *m)
{
	int n = sip_msg_hdr_remove_all(m, SIP_HDR_SECURITY_CLIENT);
	n += sip_msg_hdr_remove_all(m, SIP_HDR_SECURITY_VERIFY);
	static const sip_hdr_id_t ids[] = { SIP_HDR_REQUIRE, SIP_HDR_PROXY_REQUIRE };
	for (size_t i = 0; i < 2; i++) {
		sip_hdr_t *h = sip_msg_hdr(m, ids[i]);
		while (h) {
			sip_hdr_t *next = sip_hdr_next_same(h);
			int rc = drop_tag(m, h);
			if (rc < 0)
				return rc;
			n += rc;
			h = next;
		}
	}
	return n;
}

int pcscf_assert_identity(sip_msg_t *m, const pcscf_reg_t *reg, ims_str_t *asserted)
{
	ims_str_t chosen = IMS_STR_NULL;
	/* RFC 3325 §9.2: P-Preferred-Identity may carry one sip: and one tel:
	 * value; the first one the UE registered wins. */
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (!chosen.s && sip_msg_next_value(m, SIP_HDR_P_PREFERRED_IDENTITY, &it, &v) == 1) {
		sip_nameaddr_t na;
		if (sip_nameaddr_parse(v, NULL, &na) != 0)
			continue;
		for (unsigned i = 0; i < reg->n_assoc; i++) {
			sip_uri_t u;
			if (sip_uri_parse(reg->assoc[i], NULL, &u) == 0 && sip_uri_equal(&u, &na.uri)) {
				chosen = reg->assoc[i];
				break;
			}
		}
	}
	/* TS 24.229 §5.2.6.3.1: else the default public user identity, the
	 * first P-Associated-URI of the registration. */
	if (!chosen.s)
		chosen = reg->n_assoc ? reg->assoc[0] : reg->impu;
	if (!chosen.s || chosen.len == 0)
		return IMS_ENOENT;
	sip_msg_hdr_remove_all(m, SIP_HDR_P_PREFERRED_IDENTITY);
	sip_msg_hdr_remove_all(m, SIP_HDR_P_ASSERTED_IDENTITY);
	if (!sip_msg_hdr_addf(m, SIP_HDR_P_ASSERTED_IDENTITY, SIP_POS_BOTTOM, "<%.*s>",
			      IMS_STR_FMT(chosen)))
		return IMS_ENOMEM;
	if (asserted)
		*asserted = chosen;
	return 0;
}

int pcscf_push_service_route(sip_msg_t *m, const pcscf_reg_t *reg)
{
	sip_msg_hdr_remove_all(m, SIP_HDR_ROUTE);
	/* Added bottom-wise in stored order: the first Service-Route value
	 * becomes the top Route (RFC 3608 §6.1). */
	for (unsigned i = 0; i < reg->n_service_route; i++)
		if (!sip_msg_hdr_add(m, SIP_HDR_ROUTE, IMS_STR_NULL, reg->service_route[i],
				     SIP_POS_BOTTOM))
			return IMS_ENOMEM;
	return 0;
}

int pcscf_contact_is_registered(const sip_msg_t *m, const pcscf_reg_t *reg)
{
	sip_hdr_t *h = sip_msg_hdr(m, SIP_HDR_CONTACT);
	if (!h)
		return 1;
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	if (sip_hdr_next_value(h, &it, &v) != 1)
		return 0;
	sip_nameaddr_t na;
	if (sip_nameaddr_parse(v, NULL, &na) != 0 || na.star)
		return 0;
	ims_str_t gr;
	if (sip_params_find(na.uri.params, "gr", &gr) == 1)
		return 1;
	uint16_t port = na.uri.port ? na.uri.port : 5060;
	for (unsigned i = 0; i < reg->n_contacts; i++) {
		sip_uri_t u;
		if (sip_uri_parse(reg->contacts[i], NULL, &u) != 0)
			continue;
		if (ims_str_caseeq(u.host, na.uri.host) && (u.port ? u.port : 5060) == port)
			return 1;
	}
	return 0;
}

int pcscf_route_is_ours(ims_str_t route, ims_str_t self_host, uint16_t self_port, ims_str_t user)
{
	sip_nameaddr_t na;
	if (sip_nameaddr_parse(route, NULL, &na) != 0)
		return 0;
	if (na.uri.scheme != SIP_URI_SIP && na.uri.scheme != SIP_URI_SIPS)
		return 0;
	uint16_t port = na.uri.port ? na.uri.port : 5060;
	return ims_str_caseeq(na.uri.host, self_host) && port == (self_port ? self_port : 5060) &&
	       ims_str_eq(na.uri.user, user);
}

int pcscf_is_initial(const sip_msg_t *m)
{
	return m->to_tag.len == 0;
}
