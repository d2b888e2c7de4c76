/* Reading a REGISTER for the registrar (see reg-parse.h). */
#include "reg-parse.h"

#include <string.h>

#include "base/ims_err.h"

int scscf_reg_derive_impi(ims_str_t impu, ims_str_t realm, ims_arena_t *a, ims_str_t *out)
{
	ims_str_t v = impu;
	const char *colon = memchr(v.s, ':', v.len);
	if (colon) {
		v.len -= (uint32_t)(colon + 1 - v.s);
		v.s = colon + 1;
	}
	if (memchr(v.s, '@', v.len))
		*out = ims_arena_printf(a, "%.*s", IMS_STR_FMT(v));
	else
		*out = ims_arena_printf(a, "%.*s@%.*s", IMS_STR_FMT(v), IMS_STR_FMT(realm));
	return out->s ? 0 : IMS_ENOMEM;
}

static int parse_u32(ims_str_t v, uint32_t *out)
{
	uint64_t x;
	if (ims_str_to_u64(ims_str_trim(v), UINT32_MAX, &x) != 0)
		return IMS_EPARSE;
	*out = (uint32_t)x;
	return 0;
}

/* RFC 3261 §20.10 qvalue "0" / "0.x" / "1" / "1.0" -> 0..1000 */
static int parse_q(ims_str_t v, int *out)
{
	int q = 0, scale = 100;
	uint32_t i = 0;
	if (!v.len || (v.s[0] != '0' && v.s[0] != '1'))
		return IMS_EPARSE;
	q = (v.s[0] - '0') * 1000;
	i = 1;
	if (i < v.len) {
		if (v.s[i] != '.')
			return IMS_EPARSE;
		for (i++; i < v.len && scale; i++, scale /= 10) {
			if (v.s[i] < '0' || v.s[i] > '9')
				return IMS_EPARSE;
			q += (v.s[i] - '0') * scale;
		}
		if (i < v.len)
			return IMS_EPARSE;
	}
	if (q > 1000)
		return IMS_EPARSE;
	*out = q;
	return 0;
}

/* The Contact params we echo and store: every one but expires and q. */
static ims_str_t keep_params(const sip_param_t *p, ims_arena_t *a)
{
	size_t n = 0;
	char *buf, *w;
	const sip_param_t *x;
	for (x = p; x; x = x->next)
		n += x->name.len + x->value.len + 2;
	if (!n)
		return IMS_STR("");
	buf = ims_arena_alloc(a, n + 1);
	if (!buf)
		return IMS_STR_NULL;
	w = buf;
	for (x = p; x; x = x->next) {
		if (ims_str_caseeq_c(x->name, "expires") || ims_str_caseeq_c(x->name, "q"))
			continue;
		if (w != buf)
			*w++ = ';';
		memcpy(w, x->name.s, x->name.len);
		w += x->name.len;
		if (x->value.s) {
			*w++ = '=';
			memcpy(w, x->value.s, x->value.len);
			w += x->value.len;
		}
	}
	*w = '\0';
	return ims_str_from(buf, (size_t)(w - buf));
}

static ims_str_t join_values(sip_msg_t *m, sip_hdr_id_t id, ims_arena_t *a, int *bad)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v, out = IMS_STR("");
	int rc;
	while ((rc = sip_msg_next_value(m, id, &it, &v)) == 1) {
		if (!out.len)
			out = v;
		else
			out = ims_arena_printf(a, "%.*s, %.*s", IMS_STR_FMT(out), IMS_STR_FMT(v));
		if (!out.s) {
			*bad = IMS_ENOMEM;
			return IMS_STR("");
		}
	}
	if (rc < 0)
		*bad = IMS_EPARSE;
	return out;
}

static void pick_credentials(sip_msg_t *m, const scscf_cfg_t *cfg, ims_arena_t *a,
			     scscf_reg_req_t *out)
{
	sip_hdr_t *h;
	ims_str_t realm = ims_str_cstr(cfg->realm);
	int first = 1;
	for (h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION); h; h = sip_hdr_next_same(h)) {
		sip_auth_t c;
		if (sip_auth_parse(h->value, a, &c) != 0 || !ims_str_caseeq_c(c.scheme, "Digest"))
			continue;
		/* RFC 3261 §22.4: the credentials for our realm; else the first */
		if (first || ims_str_caseeq(c.realm, realm)) {
			out->cred = c;
			out->has_auth_hdr = 1;
			first = 0;
		}
	}
}

int scscf_reg_req_parse(sip_msg_t *m, const scscf_cfg_t *cfg, ims_str_t received, int64_t now,
			ims_arena_t *a, scscf_reg_req_t *out, const char **why)
{
	sip_hdr_t *to;
	sip_nameaddr_t to_na;
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	size_t cap = 0;
	int rc, bad = 0;
	int64_t hdr_exp = m->expires; /* -1 when absent */

	memset(out, 0, sizeof(*out));
	*why = "Bad Request";
	to = sip_msg_hdr(m, SIP_HDR_TO);
	if (!to || sip_nameaddr_parse(to->value, a, &to_na) != 0 ||
	    (to_na.uri.scheme != SIP_URI_SIP && to_na.uri.scheme != SIP_URI_SIPS &&
	     to_na.uri.scheme != SIP_URI_TEL) ||
	    sip_uri_aor(&to_na.uri, a, &out->impu) != 0) {
		*why = "Bad To URI";
		return IMS_EPARSE;
	}

	pick_credentials(m, cfg, a, out);
	out->scheme = cfg->auth_default;
	if (out->has_auth_hdr) {
		if (ims_str_caseeq_c(out->cred.algorithm, "MD5"))
			out->scheme = SCSCF_AUTH_MD5;
		else if (ims_str_caseeq_c(out->cred.algorithm, "AKAv1-MD5"))
			out->scheme = SCSCF_AUTH_AKA;
		out->has_response =
			out->cred.nonce.len && (out->cred.response.len || out->cred.auts.len);
		out->integrity_protected =
			ims_str_caseeq_c(out->cred.integrity_protected, "yes") ||
			ims_str_caseeq_c(out->cred.integrity_protected, "tls-yes") ||
			ims_str_caseeq_c(out->cred.integrity_protected, "ip-assoc-yes") ||
			ims_str_caseeq_c(out->cred.integrity_protected, "tls-connected");
	}
	if (out->has_auth_hdr && out->cred.username.len)
		out->impi = out->cred.username;
	else if (scscf_reg_derive_impi(out->impu, ims_str_cstr(cfg->realm), a, &out->impi) != 0)
		return IMS_ENOMEM;

	out->path = join_values(m, SIP_HDR_PATH, a, &bad);
	if (bad) {
		*why = "Bad Path";
		return bad;
	}

	/* count the values first to size the array */
	while ((rc = sip_msg_next_value(m, SIP_HDR_CONTACT, &it, &v)) == 1)
		cap++;
	if (rc < 0) {
		*why = "Bad Contact";
		return IMS_EPARSE;
	}
	if (cap) {
		out->contacts = ims_arena_zalloc(a, cap * sizeof(*out->contacts));
		if (!out->contacts)
			return IMS_ENOMEM;
	}
	memset(&it, 0, sizeof(it));
	while (sip_msg_next_value(m, SIP_HDR_CONTACT, &it, &v) == 1) {
		sip_nameaddr_t na;
		scscf_binding_t *c;
		uint32_t e;
		ims_str_t pv;
		if (sip_nameaddr_parse(v, a, &na) != 0) {
			*why = "Bad Contact";
			return IMS_EPARSE;
		}
		if (na.star) {
			out->star = 1;
			continue;
		}
		c = &out->contacts[out->n_contacts++];
		c->uri = na.uri.raw;
		c->q = -1;
		if (na.q.len && parse_q(na.q, &c->q) != 0) {
			*why = "Bad q-value";
			return IMS_EPARSE;
		}
		/* RFC 3261 §10.3 step 6: the expires param, else the Expires
		 * header, else the registrar's default */
		if (na.expires.len) {
			if (parse_u32(na.expires, &e) != 0) {
				*why = "Bad Contact expires";
				return IMS_EPARSE;
			}
		} else if (hdr_exp >= 0) {
			e = hdr_exp > UINT32_MAX ? UINT32_MAX : (uint32_t)hdr_exp;
		} else {
			e = cfg->default_expires;
		}
		/* RFC 3261 §10.3 step 6: shorter than we accept -> 423 */
		if (e > 0 && e < cfg->min_expires)
			out->min_expires = cfg->min_expires;
		if (e > cfg->max_expires)
			e = cfg->max_expires;
		c->expires = now + (int64_t)e;
		if (sip_param_find(na.param_list, "+sip.instance", &pv) == 1 && pv.s)
			c->instance = pv;
		if (sip_param_find(na.param_list, "reg-id", &pv) == 1 && pv.s &&
		    parse_u32(pv, &c->reg_id) != 0) {
			*why = "Bad reg-id";
			return IMS_EPARSE;
		}
		c->params = keep_params(na.param_list, a);
		if (!c->params.s)
			return IMS_ENOMEM;
		c->path = out->path;
		c->received = received;
		c->call_id = m->call_id;
		c->cseq = m->cseq;
		{
			sip_hdr_t *ua = sip_msg_hdr(m, SIP_HDR_USER_AGENT);
			if (ua)
				c->user_agent = ua->value;
		}
	}
	/* RFC 3261 §10.3 step 6: "*" only alone and with Expires: 0 */
	if (out->star && (out->n_contacts || hdr_exp != 0)) {
		*why = "Invalid Contact *";
		return IMS_EPARSE;
	}
	return 0;
}
