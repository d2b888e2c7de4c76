/* S-CSCF session routing rules (see session-rules.h). */
#include "session-rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"

/* ---- helpers ---------------------------------------------------------- */

static int has_prefix_ci(ims_str_t v, const char *p)
{
	size_t n = strlen(p);
	return v.len >= n && strncasecmp(v.s, p, n) == 0;
}

static int is_sip_uri(ims_str_t v)
{
	return has_prefix_ci(v, "sip:") || has_prefix_ci(v, "sips:");
}

/* The URI without parameters and headers: for a sip/sips URI, up to the
 * first ';' or '?' after the host part; for tel:, up to the first ';'.
 * Enough to compare an address with the identities of a profile. */
static ims_str_t uri_base(ims_str_t v)
{
	uint32_t start = 0;
	if (is_sip_uri(v)) {
		const char *at = memchr(v.s, '@', v.len);
		if (at)
			start = (uint32_t)(at - v.s);
	}
	for (uint32_t i = start; i < v.len; i++)
		if (v.s[i] == ';' || v.s[i] == '?' || v.s[i] == '>')
			return ims_str_from(v.s, i);
	return v;
}

/* Does the raw ";a;b=c" parameter string of a URI contain `name`? */
static int uri_has_param(ims_str_t uri, const char *name, ims_str_t *value)
{
	size_t n = strlen(name);
	ims_str_t base = uri_base(uri);
	uint32_t i = base.len;
	while (i < uri.len && uri.s[i] != '?') {
		if (uri.s[i] != ';') {
			i++;
			continue;
		}
		uint32_t p = i + 1, e = p;
		while (e < uri.len && uri.s[e] != ';' && uri.s[e] != '?' && uri.s[e] != '=')
			e++;
		if (e - p == n && strncasecmp(uri.s + p, name, n) == 0) {
			if (value) {
				*value = IMS_STR_NULL;
				if (e < uri.len && uri.s[e] == '=') {
					uint32_t v = e + 1, ve = v;
					while (ve < uri.len && uri.s[ve] != ';' && uri.s[ve] != '?')
						ve++;
					*value = ims_str_from(uri.s + v, ve - v);
				}
			}
			return 1;
		}
		i = e;
	}
	return 0;
}

/* Is `u` (a parsed Route URI) the S-CSCF itself? Host case-insensitive;
 * ports equal, an absent port meaning 5060 (RFC 3263 default for UDP/TCP). */
static int is_own(const sip_uri_t *u, const sip_uri_t *own)
{
	if (!ims_str_caseeq(u->host, own->host))
		return 0;
	uint16_t a = u->port ? u->port : 5060, b = own->port ? own->port : 5060;
	return a == b;
}

static int aor_of(ims_str_t uri, ims_arena_t *a, ims_str_t *out)
{
	sip_uri_t u;
	if (sip_uri_parse(uri, NULL, &u))
		return IMS_EPARSE;
	if (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS && u.scheme != SIP_URI_TEL)
		return IMS_EPARSE;
	return sip_uri_aor(&u, a, out);
}

/* ---- classify ----------------------------------------------------------- */

static void read_own_params(const sip_nameaddr_t *na, scscf_classify_t *out)
{
	ims_str_t odi;
	out->own_route = 1;
	if (sip_params_find(na->uri.params, "odi", &odi) && odi.len) {
		out->arrival = SCSCF_ARRIVAL_ODI;
		out->odi = odi;
	} else if (sip_params_find(na->uri.params, "orig", NULL)) {
		out->arrival = SCSCF_ARRIVAL_ORIGINATING;
	}
}

int scscf_session_classify(sip_msg_t *m, const sip_nameaddr_t *own_route, ims_str_t own_uri,
			   ims_arena_t *a, scscf_classify_t *out)
{
	int rc;
	memset(out, 0, sizeof(*out));
	if (own_route) {
		read_own_params(own_route, out);
	} else {
		sip_uri_t own;
		if (sip_uri_parse(own_uri, NULL, &own))
			return IMS_EINVAL;
		sip_val_iter_t it = { 0 };
		ims_str_t top;
		rc = sip_msg_next_value(m, SIP_HDR_ROUTE, &it, &top);
		if (rc < 0)
			return IMS_EPARSE;
		if (rc == 1) {
			sip_nameaddr_t na;
			if (sip_nameaddr_parse(top, NULL, &na))
				return IMS_EPARSE;
			if (is_own(&na.uri, &own))
				read_own_params(&na, out);
		}
	}
	/* RFC 3261 §12.2: a request with a To tag belongs to a dialog and
	 * follows the Route set; no iFC is evaluated again (TS 24.229
	 * §5.4.3.2: iFCs apply to initial requests). */
	if (m->to_tag.len && out->arrival != SCSCF_ARRIVAL_ODI) {
		out->arrival = SCSCF_ARRIVAL_IN_DIALOG;
		return 0;
	}
	if (out->arrival == SCSCF_ARRIVAL_ODI)
		return 0;
	if (out->arrival == SCSCF_ARRIVAL_ORIGINATING) {
		/* TS 24.229 §5.4.3.2: the served user is the one the P-CSCF
		 * asserted; the first sip/sips/tel value. */
		sip_val_iter_t pi = { 0 };
		ims_str_t v;
		int got = 0;
		while ((rc = sip_msg_next_value(m, SIP_HDR_P_ASSERTED_IDENTITY, &pi, &v)) == 1) {
			sip_nameaddr_t na;
			if (sip_nameaddr_parse(v, NULL, &na))
				continue;
			if (na.uri.scheme == SIP_URI_OTHER)
				continue;
			if ((rc = sip_uri_aor(&na.uri, a, &out->served_user)))
				return rc;
			got = 1;
			break;
		}
		if (rc < 0)
			return IMS_EPARSE;
		return got ? 0 : IMS_ENOENT;
	}
	out->arrival = SCSCF_ARRIVAL_TERMINATING;
	return aor_of(m->ruri, a, &out->served_user);
}

/* ---- default handling ----------------------------------------------------- */

scscf_as_outcome_t scscf_session_as_failure(scscf_default_handling_t dh, int status,
					    int got_provisional)
{
	/* TS 24.229 §5.4.3.2 step 4 / §5.4.3.3 step 3 with TS 23.218 §6.4.4:
	 * an AS that does not answer, or answers 408 or 5xx before it sent
	 * any provisional response, is treated per the iFC's DefaultHandling.
	 * Once the AS showed it handles the request, its answer is final. */
	int failed = status == 0 || status == 408 || (status >= 500 && status <= 599);
	if (!failed || got_provisional)
		return SCSCF_AS_RELAY;
	return dh == SCSCF_DH_SESSION_TERMINATED ? SCSCF_AS_TERMINATE : SCSCF_AS_CONTINUE;
}

/* ---- resume after an AS ------------------------------------------------- */

static int is_identity_of(const scscf_service_profile_t *sp, ims_str_t uri)
{
	if (!sp)
		return 0;
	ims_str_t b = uri_base(uri);
	for (unsigned i = 0; i < sp->n_impus; i++) {
		ims_str_t id = sp->impus[i].identity;
		if (ims_str_eq(id, uri) || ims_str_eq(uri_base(id), b))
			return 1;
	}
	return 0;
}

void scscf_session_resume_point(scscf_session_case_t sc, unsigned next_ifc, ims_str_t sent_ruri,
				ims_str_t new_ruri, const scscf_service_profile_t *served_sp,
				scscf_resume_t *out)
{
	out->session_case = sc;
	out->next_ifc = next_ifc;
	out->retargeted = !ims_str_eq(uri_base(sent_ruri), uri_base(new_ruri));
	if (!out->retargeted)
		return;
	if (sc != SCSCF_SC_TERMINATING_REGISTERED && sc != SCSCF_SC_TERMINATING_UNREGISTERED)
		return; /* originating: the AS may change the target; go on */
	if (is_identity_of(served_sp, new_ruri))
		return; /* still the served user (another identity of the set) */
	/* TS 24.229 §5.4.3.3 step 5: the terminating AS retargeted the request
	 * away from the served user: originating services of the diverting
	 * (served) user apply, from the first iFC (ORIGINATING_CDIV). */
	out->session_case = SCSCF_SC_ORIGINATING_CDIV;
	out->next_ifc = 0;
}

/* ---- target ------------------------------------------------------------- */

scscf_target_t scscf_session_target(ims_str_t ruri, ims_str_t realm, ims_str_t home_tel_prefixes)
{
	if (has_prefix_ci(ruri, "tel:")) {
		ims_str_t num = uri_base(ims_str_from(ruri.s + 4, ruri.len - 4));
		if (home_tel_prefixes.len == 0)
			return SCSCF_TARGET_HOME;
		const char *p = home_tel_prefixes.s, *end = p + home_tel_prefixes.len;
		while (p < end) {
			const char *c = memchr(p, ',', (size_t)(end - p));
			ims_str_t pre = ims_str_trim(ims_str_from(p, (size_t)((c ? c : end) - p)));
			if (pre.len && num.len >= pre.len && memcmp(num.s, pre.s, pre.len) == 0)
				return SCSCF_TARGET_HOME;
			p = c ? c + 1 : end;
		}
		return SCSCF_TARGET_FOREIGN;
	}
	if (!is_sip_uri(ruri))
		return SCSCF_TARGET_INVALID;
	sip_uri_t u;
	ims_str_t host;
	if (sip_uri_parse(ruri, NULL, &u) == 0) {
		host = u.host;
	} else {
		/* Light fallback: the host is between '@' (or ':') and ';', ':', '?'. */
		ims_str_t b = uri_base(ruri);
		const char *at = memchr(b.s, '@', b.len);
		const char *h = at ? at + 1 : (const char *)memchr(b.s, ':', b.len) + 1;
		const char *e = h;
		while (e < b.s + b.len && *e != ':' && *e != ';' && *e != '?' && *e != '>')
			e++;
		host = ims_str_from(h, (size_t)(e - h));
	}
	return ims_str_caseeq(host, realm) ? SCSCF_TARGET_HOME : SCSCF_TARGET_FOREIGN;
}

/* ---- building ----------------------------------------------------------- */

int scscf_session_as_route(ims_arena_t *a, ims_str_t server_name, ims_str_t own_uri, ims_str_t odi,
			   ims_str_t out[2])
{
	server_name = ims_str_trim(server_name);
	if (server_name.len >= 2 && server_name.s[0] == '<' && server_name.s[server_name.len - 1] == '>')
		server_name = ims_str_from(server_name.s + 1, server_name.len - 2);
	if (!is_sip_uri(server_name) || !is_sip_uri(own_uri))
		return IMS_EINVAL;
	/* RFC 3261 §16.12.1.1: loose routing needs ;lr on every Route. */
	const char *as_lr = uri_has_param(server_name, "lr", NULL) ? "" : ";lr";
	const char *own_lr = uri_has_param(own_uri, "lr", NULL) ? "" : ";lr";
	out[0] = ims_arena_printf(a, "<%.*s%s>", IMS_STR_FMT(server_name), as_lr);
	out[1] = ims_arena_printf(a, "<%.*s%s;odi=%.*s>", IMS_STR_FMT(own_uri), own_lr, IMS_STR_FMT(odi));
	return out[0].s && out[1].s ? 0 : IMS_ENOMEM;
}

/* XML-escapes v into the arena. */
static int xml_escape(ims_arena_t *a, ims_str_t v, ims_str_t *out)
{
	size_t n = 0;
	for (uint32_t i = 0; i < v.len; i++) {
		char c = v.s[i];
		n += c == '&' ? 5 : c == '<' || c == '>' ? 4 : c == '"' ? 6 : 1;
	}
	char *p = ims_arena_alloc(a, n + 1);
	if (!p)
		return IMS_ENOMEM;
	size_t k = 0;
	for (uint32_t i = 0; i < v.len; i++) {
		const char *rep = NULL;
		switch (v.s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: p[k++] = v.s[i]; continue;
		}
		memcpy(p + k, rep, strlen(rep));
		k += strlen(rep);
	}
	p[k] = 0;
	*out = ims_str_from(p, k);
	return 0;
}

static int contains(ims_str_t hay, const char *needle)
{
	size_t n = strlen(needle);
	if (hay.len < n)
		return 0;
	for (uint32_t i = 0; i + n <= hay.len; i++)
		if (memcmp(hay.s + i, needle, n) == 0)
			return 1;
	return 0;
}

int scscf_session_service_info_xml(ims_arena_t *a, ims_str_t service_info, ims_str_t *out)
{
	ims_str_t esc;
	if (xml_escape(a, service_info, &esc))
		return IMS_ENOMEM;
	/* TS 24.229 §7.6: the IM CN subsystem XML body. */
	*out = ims_arena_printf(a,
				"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
				"<ims-3gpp version=\"1\"><service-info>%.*s</service-info></ims-3gpp>",
				IMS_STR_FMT(esc));
	return out->s ? 0 : IMS_ENOMEM;
}

int scscf_session_service_info_body(ims_arena_t *a, ims_str_t content_type, ims_str_t body,
				    ims_str_t service_info, ims_str_t *out_ctype, ims_str_t *out_body)
{
	ims_str_t xml;
	if (scscf_session_service_info_xml(a, service_info, &xml))
		return IMS_ENOMEM;
	/* RFC 2046 §5.1.1: the boundary must not occur in any part. */
	char boundary[48];
	for (unsigned n = 0;; n++) {
		snprintf(boundary, sizeof(boundary), "ims-scscf-boundary-%u", n);
		if (!contains(body, boundary) && !contains(service_info, boundary))
			break;
	}
	ims_str_t first = IMS_STR_NULL;
	if (body.len) {
		ims_str_t ct = content_type.len ? content_type : IMS_STR("application/octet-stream");
		first = ims_arena_printf(a, "--%s\r\nContent-Type: %.*s\r\n\r\n%.*s\r\n", boundary,
					 IMS_STR_FMT(ct), IMS_STR_FMT(body));
		if (!first.s)
			return IMS_ENOMEM;
	}
	*out_body = ims_arena_printf(a,
				     "%.*s--%s\r\nContent-Type: application/3gpp-ims+xml\r\n\r\n%.*s\r\n--%s--\r\n",
				     IMS_STR_FMT(first), boundary, IMS_STR_FMT(xml), boundary);
	*out_ctype = ims_arena_printf(a, "multipart/mixed;boundary=%s", boundary);
	if (!out_body->s || !out_ctype->s)
		return IMS_ENOMEM;
	return 0;
}
