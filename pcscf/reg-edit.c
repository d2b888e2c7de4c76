/* P-CSCF registration-path edits: see reg-edit.h. */
#include "reg-edit.h"

#include <string.h>
#include <stdio.h>

#include "base/ims_err.h"
#include "base/ims_hex.h"
#include "auth/aka.h"
#include "route-edit.h"

int pcscf_icid_new(char out[33])
{
	uint8_t r[16];
	static const char hex[] = "0123456789abcdef";
	if (aka_random(r, sizeof(r)) != 0)
		return IMS_EIO;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[32] = 0;
	return 0;
}

/* 1 when the comma list of option tags in every `id` header holds `tag`. */
static int has_option_tag(const sip_msg_t *m, sip_hdr_id_t id, const char *tag)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (sip_msg_next_value(m, id, &it, &v) == 1)
		if (ims_str_caseeq_c(ims_str_trim(v), tag))
			return 1;
	return 0;
}

int pcscf_reg_prepare(sip_msg_t *m, const pcscf_reg_opts_t *o)
{
	pcscf_strip_untrusted(m);
	if (pcscf_strip_sec_agree(m) < 0)
		return IMS_ENOMEM;

	/* RFC 3327 §5: a proxy adds its Path value on top of any present. */
	if (!sip_msg_hdr_addf(m, SIP_HDR_PATH, SIP_POS_TOP, "<%.*s>", IMS_STR_FMT(o->path_uri)))
		return IMS_ENOMEM;
	/* TS 24.229 §5.2.2.1: the REGISTER carries "path" in Require (the
	 * S-CSCF must honour our Path) and Supported. */
	if (!has_option_tag(m, SIP_HDR_REQUIRE, "path") &&
	    !sip_msg_hdr_add(m, SIP_HDR_REQUIRE, IMS_STR_NULL, IMS_STR("path"), SIP_POS_BOTTOM))
		return IMS_ENOMEM;
	if (!has_option_tag(m, SIP_HDR_SUPPORTED, "path") &&
	    !sip_msg_hdr_add(m, SIP_HDR_SUPPORTED, IMS_STR_NULL, IMS_STR("path"), SIP_POS_BOTTOM))
		return IMS_ENOMEM;
	/* TS 24.229 §5.2.2.1 / RFC 7315 §4.3: our network, as the HSS sees it
	 * in the UAR. */
	if (o->visited_network_id.len &&
	    !sip_msg_hdr_add(m, SIP_HDR_P_VISITED_NETWORK_ID, IMS_STR_NULL, o->visited_network_id,
			     SIP_POS_BOTTOM))
		return IMS_ENOMEM;
	/* TS 24.229 §5.2.2.1 / RFC 7315 §4.6: a fresh icid for this REGISTER. */
	return pcscf_add_charging_vector(m, o);
}

int pcscf_add_charging_vector(sip_msg_t *m, const pcscf_reg_opts_t *o)
{
	char icid[33];
	if (pcscf_icid_new(icid) != 0)
		return IMS_EIO;
	sip_hdr_t *h;
	if (o->orig_ioi.len)
		h = sip_msg_hdr_addf(m, SIP_HDR_P_CHARGING_VECTOR, SIP_POS_BOTTOM,
				     "icid-value=%s;icid-generated-at=%.*s;orig-ioi=%.*s", icid,
				     IMS_STR_FMT(o->icid_host), IMS_STR_FMT(o->orig_ioi));
	else
		h = sip_msg_hdr_addf(m, SIP_HDR_P_CHARGING_VECTOR, SIP_POS_BOTTOM,
				     "icid-value=%s;icid-generated-at=%.*s", icid,
				     IMS_STR_FMT(o->icid_host));
	return h ? 0 : IMS_ENOMEM;
}

/* Splits one auth-param "name=value" (value maybe quoted) out of p..end,
 * starting after separators. Returns the end of the param, or NULL on an
 * unterminated quote. */
static const char *param_end(const char *p, const char *end)
{
	int inq = 0;
	while (p < end) {
		if (inq) {
			if (*p == '\\' && p + 1 < end) {
				p += 2;
				continue;
			}
			if (*p == '"')
				inq = 0;
		} else if (*p == '"') {
			inq = 1;
		} else if (*p == ',') {
			return p;
		}
		p++;
	}
	return inq ? NULL : p;
}

static ims_str_t unquote(ims_str_t v)
{
	v = ims_str_trim(v);
	if (v.len >= 2 && v.s[0] == '"' && v.s[v.len - 1] == '"')
		return ims_str_from(v.s + 1, v.len - 2);
	return v;
}

int pcscf_challenge_drop_params(ims_str_t in, ims_arena_t *a, ims_str_t *out, ims_str_t *ck,
				ims_str_t *ik)
{
	const char *p = in.s, *end = in.s + in.len;
	int removed = 0;
	/* auth-scheme, then LWS, then the auth-params (RFC 2617 §1.2). */
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *scheme = p;
	while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
		p++;
	/* Each kept param gains at most ", " over its own bytes. */
	size_t cap = (size_t)in.len * 2 + 4, n = 0;
	char *buf = ims_arena_alloc(a, cap);
	if (!buf)
		return IMS_ENOMEM;
	memcpy(buf, scheme, (size_t)(p - scheme));
	n = (size_t)(p - scheme);
	int first = 1;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n'))
			p++;
		if (p >= end)
			break;
		const char *pe = param_end(p, end);
		if (!pe)
			return IMS_EPARSE;
		ims_str_t param = ims_str_trim(ims_str_from(p, (size_t)(pe - p)));
		const char *eq = memchr(param.s, '=', param.len);
		ims_str_t name = ims_str_trim(
			ims_str_from(param.s, eq ? (size_t)(eq - param.s) : param.len));
		ims_str_t val = eq ? unquote(ims_str_from(eq + 1, param.len - (size_t)(eq + 1 - param.s)))
				   : IMS_STR_NULL;
		if (ims_str_caseeq_c(name, "ck") || ims_str_caseeq_c(name, "ik")) {
			ims_str_t *dst = ims_str_caseeq_c(name, "ck") ? ck : ik;
			if (dst && ims_arena_strdup(a, val, dst) != 0)
				return IMS_ENOMEM;
			removed = 1;
		} else {
			if (first) {
				buf[n++] = ' ';
				first = 0;
			} else {
				buf[n++] = ',';
				buf[n++] = ' ';
			}
			memcpy(buf + n, param.s, param.len);
			n += param.len;
		}
		p = pe;
	}
	buf[n] = 0;
	*out = ims_str_from(buf, n);
	return removed;
}

int pcscf_reg_strip_keys(sip_msg_t *resp, ims_arena_t *a, ims_str_t *ck, ims_str_t *ik)
{
	int changed = 0;
	if (ck)
		*ck = (ims_str_t){ "", 0 };
	if (ik)
		*ik = (ims_str_t){ "", 0 };
	for (sip_hdr_t *h = sip_msg_hdr(resp, SIP_HDR_WWW_AUTHENTICATE); h;
	     h = sip_hdr_next_same(h)) {
		ims_str_t nv;
		int rc = pcscf_challenge_drop_params(h->value, a, &nv, ck, ik);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (sip_msg_hdr_set_value(resp, h, nv) != 0)
				return IMS_ENOMEM;
			changed++;
		}
	}
	return changed;
}

int64_t pcscf_reg_requested_expiry(const sip_msg_t *req)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	if (sip_msg_next_value(req, SIP_HDR_CONTACT, &it, &v) == 1) {
		sip_nameaddr_t na;
		uint64_t e;
		if (sip_nameaddr_parse(v, NULL, &na) == 0 && na.expires.len &&
		    ims_str_to_u64(na.expires, 0xffffffffu, &e) == 0)
			return (int64_t)e;
	}
	if (req->expires >= 0)
		return req->expires;
	return 3600;
}

/* The expiry the 200 grants to contact `uri`: RFC 3261 §10.3 step 8 says
 * the registrar lists every current binding with its expires param. */
static int64_t granted_expiry(const sip_msg_t *ok, const sip_uri_t *uri, int64_t fallback)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (sip_msg_next_value(ok, SIP_HDR_CONTACT, &it, &v) == 1) {
		sip_nameaddr_t na;
		uint64_t e;
		if (sip_nameaddr_parse(v, NULL, &na) != 0 || na.star)
			continue;
		if (!sip_uri_equal(&na.uri, uri))
			continue;
		if (na.expires.len && ims_str_to_u64(na.expires, 0xffffffffu, &e) == 0)
			return (int64_t)e;
		break;
	}
	if (ok->expires >= 0)
		return ok->expires;
	return fallback;
}

int pcscf_reg_from_ok(const sip_msg_t *req, const sip_msg_t *ok, const pcscf_flow_t *flow, int64_t now,
		      ims_arena_t *a, pcscf_reg_t **out)
{
	pcscf_reg_t *r = ims_arena_zalloc(a, sizeof(*r));
	if (!r)
		return IMS_ENOMEM;
	r->flow = *flow;
	int64_t asked = pcscf_reg_requested_expiry(req), max_exp = 0;
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (sip_msg_next_value(req, SIP_HDR_CONTACT, &it, &v) == 1 &&
	       r->n_contacts < PCSCF_REG_MAX_LIST) {
		sip_nameaddr_t na;
		if (sip_nameaddr_parse(v, NULL, &na) != 0 || na.star)
			continue;
		uint64_t own;
		int64_t ask = asked;
		if (na.expires.len && ims_str_to_u64(na.expires, 0xffffffffu, &own) == 0)
			ask = (int64_t)own;
		int64_t g = granted_expiry(ok, &na.uri, ask);
		if (g <= 0)
			continue;
		if (g > max_exp)
			max_exp = g;
		if (ims_arena_strdup(a, na.uri.raw, &r->contacts[r->n_contacts]) != 0)
			return IMS_ENOMEM;
		r->n_contacts++;
	}
	if (r->n_contacts == 0)
		return asked == 0 || max_exp == 0 ? IMS_ENOENT : IMS_EPARSE;
	r->expires_at = now + max_exp;

	sip_hdr_t *to = sip_msg_hdr(req, SIP_HDR_TO);
	sip_nameaddr_t tna;
	if (!to || sip_nameaddr_parse(to->value, NULL, &tna) != 0)
		return IMS_EPARSE;
	if (ims_arena_strdup(a, tna.uri.raw, &r->impu) != 0)
		return IMS_ENOMEM;

	sip_hdr_t *auth = sip_msg_hdr(req, SIP_HDR_AUTHORIZATION);
	sip_auth_t au;
	r->impi = (ims_str_t){ "", 0 };
	if (auth && sip_auth_parse(auth->value, NULL, &au) == 0 && au.username.len &&
	    ims_arena_strdup(a, au.username, &r->impi) != 0)
		return IMS_ENOMEM;

	/* RFC 3608 §5: the Service-Route values, in order. */
	memset(&it, 0, sizeof(it));
	while (sip_msg_next_value(ok, SIP_HDR_SERVICE_ROUTE, &it, &v) == 1 &&
	       r->n_service_route < PCSCF_REG_MAX_LIST)
		if (ims_arena_strdup(a, ims_str_trim(v), &r->service_route[r->n_service_route++]) != 0)
			return IMS_ENOMEM;
	/* RFC 7315 §4.1: P-Associated-URI, the first is the default identity. */
	memset(&it, 0, sizeof(it));
	while (sip_msg_next_value(ok, SIP_HDR_P_ASSOCIATED_URI, &it, &v) == 1 &&
	       r->n_assoc < PCSCF_REG_MAX_LIST) {
		sip_nameaddr_t na;
		if (sip_nameaddr_parse(v, NULL, &na) != 0)
			continue;
		if (ims_arena_strdup(a, na.uri.raw, &r->assoc[r->n_assoc++]) != 0)
			return IMS_ENOMEM;
	}
	r->ck = r->ik = (ims_str_t){ "", 0 };
	*out = r;
	return 0;
}
