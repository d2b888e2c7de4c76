/* Typed values parsed on demand: SIP/SIPS/tel URIs (RFC 3261 §19.1,
 * RFC 3966), name-addr / addr-spec (§20.10, §25.1), via-parm (§20.42,
 * RFC 3581) and digest credentials/challenges (RFC 2617 §3.2, RFC 3310 §3).
 * Every result is a set of views into the input; only the optional split
 * parameter list is allocated, in the caller's arena. */
#include "sip/msg/sip_msg-int.h"
#include "base/ims_err.h"

#include <string.h>
#include <strings.h>

/* Case-insensitive equality with a lower-case literal of letters, digits
 * and '-' (the callers pass grammar-checked names). */
static inline int lit_eq(const char *s, size_t n, const char *lit, size_t ln)
{
	if (n != ln)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((char)(s[i] | 0x20) != lit[i] || (lit[i] == '-' && s[i] != '-'))
			return 0;
	return 1;
}
#define LIT_EQ(s, n, lit) lit_eq((s), (n), lit, sizeof(lit) - 1)

/* ---- generic parameters ---------------------------------------------- */

int sip__params(const char *p, const char *end, ims_arena_t *a, sip_param_t **list,
		sip__param_cb cb, void *ctx, unsigned flags, uint16_t ncls, uint16_t vcls,
		const char **stop)
{
	sip_param_t **tail = list;
	while (tail && *tail)
		tail = &(*tail)->next;
	int lws = (flags & SIP__P_LWS) != 0;
	for (;;) {
		const char *q = lws ? sip__skip_lws(p, end) : p;
		if (q >= end || *q != ';') {
			*stop = p;
			return 0;
		}
		q++;
		if (lws)
			q = sip__skip_lws(q, end);
		const char *ns = q;
		while (q < end && SIP_IS(*q, ncls))
			q++;
		if (q == ns)
			return IMS_EPARSE; /* ";;" or ";=" */
		ims_str_t name = ims_str_from(ns, (size_t)(q - ns));
		ims_str_t value = IMS_STR_NULL;
		const char *r = lws ? sip__skip_lws(q, end) : q;
		if (r < end && *r == '=') {
			r++;
			if (lws)
				r = sip__skip_lws(r, end);
			const char *vs = r;
			if ((flags & SIP__P_QUOTED) && r < end && *r == '"') {
				const char *cq = sip__scan_quoted(r, end);
				if (!cq)
					return IMS_EPARSE;
				r = cq + 1;
			} else {
				while (r < end && SIP_IS(*r, vcls))
					r++;
			}
			if (r == vs)
				return IMS_EPARSE;
			value = ims_str_from(vs, (size_t)(r - vs));
			q = r;
		}
		if (cb)
			cb(ctx, name, value);
		if (tail && a) {
			sip_param_t *np = ims_arena_alloc(a, sizeof(*np));
			if (!np)
				return IMS_ENOMEM;
			np->next = NULL;
			np->name = name;
			np->value = value;
			*tail = np;
			tail = &np->next;
		}
		p = q;
	}
}

int sip_param_find(const sip_param_t *list, const char *name, ims_str_t *value)
{
	for (; list; list = list->next) {
		if (ims_str_caseeq_c(list->name, name)) {
			if (value)
				*value = list->value;
			return 1;
		}
	}
	return 0;
}

int sip_params_find(ims_str_t raw, const char *name, ims_str_t *value)
{
	if (!raw.s)
		return 0;
	const char *p = raw.s, *end = raw.s + raw.len;
	size_t nl = strlen(name);
	while (p < end) {
		while (p < end && (sip__is_ws(*p) || *p == ';'))
			p++;
		const char *ns = p;
		while (p < end && *p != '=' && *p != ';' && !sip__is_ws(*p))
			p++;
		ims_str_t n = ims_str_from(ns, (size_t)(p - ns));
		p = sip__skip_lws(p, end);
		ims_str_t v = IMS_STR_NULL;
		if (p < end && *p == '=') {
			p = sip__skip_lws(p + 1, end);
			const char *vs = p;
			if (p < end && *p == '"') {
				const char *cq = sip__scan_quoted(p, end);
				p = cq ? cq + 1 : end;
			} else {
				while (p < end && *p != ';')
					p++;
			}
			v = ims_str_trim(ims_str_from(vs, (size_t)(p - vs)));
		}
		if (n.len == nl && nl && strncasecmp(n.s, name, nl) == 0) {
			if (value)
				*value = v;
			return 1;
		}
		while (p < end && *p != ';')
			p++;
	}
	return 0;
}

/* ---- URIs ------------------------------------------------------------- */

static int valid_escapes(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '%') {
			if (end - p < 3 || !SIP_IS(p[1], SIP_CT_HEX) || !SIP_IS(p[2], SIP_CT_HEX))
				return 0;
			p += 2;
		}
	}
	return 1;
}

static void uri_param_cb(void *ctx, ims_str_t name, ims_str_t value)
{
	sip_uri_t *u = ctx;
	switch (name.len) {
	case 2:
		if (LIT_EQ(name.s, name.len, "lr"))
			u->lr = 1;
		break;
	case 3:
		if (LIT_EQ(name.s, name.len, "ttl"))
			u->ttl = value;
		break;
	case 4:
		if (LIT_EQ(name.s, name.len, "user"))
			u->user_param = value;
		break;
	case 5:
		if (LIT_EQ(name.s, name.len, "maddr"))
			u->maddr = value;
		break;
	case 6:
		if (LIT_EQ(name.s, name.len, "method"))
			u->method = value;
		break;
	case 9:
		if (LIT_EQ(name.s, name.len, "transport"))
			u->transport = value;
		break;
	}
}

static int parse_port(const char **pp, const char *end, uint16_t *port)
{
	const char *p = *pp;
	uint32_t v = 0;
	const char *s = p;
	while (p < end && SIP_IS(*p, SIP_CT_DIGIT) && p - s < 6) {
		v = v * 10 + (uint32_t)(*p - '0');
		p++;
	}
	if (p == s || v > 65535 || (p < end && SIP_IS(*p, SIP_CT_DIGIT)))
		return IMS_EPARSE;
	*port = (uint16_t)v;
	*pp = p;
	return 0;
}

/* host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1). */
static int parse_host(const char **pp, const char *end, ims_str_t *host, uint8_t *is_v6)
{
	const char *p = *pp;
	if (p < end && *p == '[') {
		const char *q = p + 1;
		while (q < end && (SIP_IS(*q, SIP_CT_HEX) || *q == ':' || *q == '.'))
			q++;
		if (q >= end || *q != ']' || q == p + 1)
			return IMS_EPARSE;
		*host = ims_str_from(p, (size_t)(q + 1 - p));
		if (is_v6)
			*is_v6 = 1;
		*pp = q + 1;
		return 0;
	}
	const char *s = p;
	while (p < end && SIP_IS(*p, SIP_CT_HOST))
		p++;
	if (p == s)
		return IMS_EPARSE;
	*host = ims_str_from(s, (size_t)(p - s));
	*pp = p;
	return 0;
}

static int parse_tel(const char *p, const char *end, ims_arena_t *a, sip_uri_t *out)
{
	/* RFC 3966 §3: telephone-subscriber, then ;par. */
	const char *s = p;
	while (p < end && SIP_IS(*p, SIP_CT_TEL))
		p++;
	if (p == s)
		return IMS_EPARSE;
	out->user = ims_str_from(s, (size_t)(p - s));
	if (p < end && *p == ';') {
		const char *stop;
		int r = sip__params(p, end, a, &out->param_list, uri_param_cb, out, 0, SIP_CT_PARAM,
				    SIP_CT_PARAM, &stop);
		if (r)
			return r;
		out->params = ims_str_from(p + 1, (size_t)(stop - p - 1));
		p = stop;
	}
	return p == end ? 0 : IMS_EPARSE;
}

int sip_uri_parse(ims_str_t in, ims_arena_t *a, sip_uri_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!in.s || in.len == 0)
		return IMS_EPARSE;
	const char *p = in.s, *end = in.s + in.len;
	out->raw = in;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (!SIP_IS(*p, SIP_CT_ALPHA))
		return IMS_EPARSE;
	const char *s = p;
	while (p < end && SIP_IS(*p, SIP_CT_SCHEME))
		p++;
	if (p >= end || *p != ':')
		return IMS_EPARSE;
	size_t sl = (size_t)(p - s);
	p++;
	if (LIT_EQ(s, sl, "sip")) {
		out->scheme = SIP_URI_SIP;
	} else if (LIT_EQ(s, sl, "sips")) {
		out->scheme = SIP_URI_SIPS;
	} else if (LIT_EQ(s, sl, "tel")) {
		out->scheme = SIP_URI_TEL;
		return parse_tel(p, end, a, out);
	} else {
		/* absoluteURI we only carry: any visible characters that cannot
		 * end a header value or a name-addr. */
		out->scheme = SIP_URI_OTHER;
		if (p == end)
			return IMS_EPARSE;
		for (; p < end; p++) {
			unsigned char c = (unsigned char)*p;
			if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"')
				return IMS_EPARSE;
		}
		return 0;
	}

	/* userinfo: '@' appears nowhere else in a SIP-URI (escaped elsewhere). */
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *ue = colon ? colon : at;
		if (ue == p)
			return IMS_EPARSE;
		for (const char *q = p; q < ue; q++)
			if (!SIP_IS(*q, SIP_CT_USER))
				return IMS_EPARSE;
		if (!valid_escapes(p, ue))
			return IMS_EPARSE;
		out->user = ims_str_from(p, (size_t)(ue - p));
		if (colon) {
			for (const char *q = colon + 1; q < at; q++)
				if (!SIP_IS(*q, SIP_CT_PASS))
					return IMS_EPARSE;
			if (!valid_escapes(colon + 1, at))
				return IMS_EPARSE;
			out->password = ims_str_from(colon + 1, (size_t)(at - colon - 1));
		}
		p = at + 1;
	}
	if (parse_host(&p, end, &out->host, &out->host_is_ipv6))
		return IMS_EPARSE;
	if (p < end && *p == ':') {
		p++;
		if (parse_port(&p, end, &out->port))
			return IMS_EPARSE;
	}
	if (p < end && *p == ';') {
		const char *stop;
		int r = sip__params(p, end, a, &out->param_list, uri_param_cb, out, 0, SIP_CT_PARAM,
				    SIP_CT_PARAM, &stop);
		if (r)
			return r;
		out->params = ims_str_from(p + 1, (size_t)(stop - p - 1));
		p = stop;
	}
	if (p < end && *p == '?') {
		/* headers = "?" header *( "&" header ), header = hname "=" hvalue */
		const char *hs = ++p;
		while (p < end && (SIP_IS(*p, SIP_CT_HNV) || *p == '=' || *p == '&'))
			p++;
		if (p == hs)
			return IMS_EPARSE;
		out->headers = ims_str_from(hs, (size_t)(p - hs));
	}
	return p == end ? 0 : IMS_EPARSE;
}

/* ---- name-addr / addr-spec -------------------------------------------- */

static void hdr_param_cb(void *ctx, ims_str_t name, ims_str_t value)
{
	sip_nameaddr_t *na = ctx;
	if (LIT_EQ(name.s, name.len, "tag"))
		na->tag = value;
	else if (LIT_EQ(name.s, name.len, "expires"))
		na->expires = value;
	else if (name.len == 1 && (name.s[0] == 'q' || name.s[0] == 'Q'))
		na->q = value;
}

int sip_nameaddr_parse(ims_str_t in, ims_arena_t *a, sip_nameaddr_t *out)
{
	memset(out, 0, sizeof(*out));
	in = ims_str_trim(in);
	if (!in.s || in.len == 0)
		return IMS_EPARSE;
	out->raw = in;
	const char *p = in.s, *end = in.s + in.len;
	const char *after;
	int r;
	if (in.len == 1 && *p == '*') {
		out->star = 1; /* RFC 3261 §20.10: Contact: * */
		return 0;
	}
	if (*p == '"') {
		const char *cq = sip__scan_quoted(p, end);
		if (!cq)
			return IMS_EPARSE;
		out->display = ims_str_from(p, (size_t)(cq + 1 - p));
		p = sip__skip_lws(cq + 1, end);
		if (p >= end || *p != '<')
			return IMS_EPARSE;
	} else {
		/* display-name = *(token LWS); RFC 4475 §3.1.1.6 says accept
		 * a token glued to '<'. Anything else means addr-spec. */
		const char *q = p;
		while (q < end && (SIP_IS(*q, SIP_CT_TOKEN) || sip__is_ws(*q)))
			q++;
		if (q < end && *q == '<') {
			out->display = ims_str_trim(ims_str_from(p, (size_t)(q - p)));
			p = q;
		} else {
			/* addr-spec: RFC 3261 §20.10, parameters after it belong to
			 * the header, and a URI with ',', ';' or '?' must be in <>. */
			while (q < end && *q != ';')
				q++;
			const char *ue = q;
			while (ue > p && sip__is_ws(ue[-1]))
				ue--;
			r = sip_uri_parse(ims_str_from(p, (size_t)(ue - p)), a, &out->uri);
			if (r)
				return r;
			if (out->uri.scheme != SIP_URI_OTHER &&
			    (memchr(p, '?', (size_t)(ue - p)) || memchr(p, ',', (size_t)(ue - p))))
				return IMS_EPARSE;
			after = q;
			goto params;
		}
	}
	/* p at '<' */
	{
		const char *gt = memchr(p + 1, '>', (size_t)(end - p - 1));
		if (!gt)
			return IMS_EPARSE;
		r = sip_uri_parse(ims_str_from(p + 1, (size_t)(gt - p - 1)), a, &out->uri);
		if (r)
			return r;
		after = gt + 1;
	}
params:;
	const char *stop;
	r = sip__params(after, end, a, &out->param_list, hdr_param_cb, out, SIP__P_LWS | SIP__P_QUOTED,
			SIP_CT_TOKEN, SIP_CT_GVAL, &stop);
	if (r)
		return r;
	if (sip__skip_lws(stop, end) != end)
		return IMS_EPARSE;
	const char *semi = memchr(after, ';', (size_t)(end - after));
	if (semi)
		out->params = ims_str_trim(ims_str_from(semi + 1, (size_t)(end - semi - 1)));
	return 0;
}

/* ---- Via ---------------------------------------------------------------- */

static void via_param_cb(void *ctx, ims_str_t name, ims_str_t value)
{
	sip_via_t *v = ctx;
	switch (name.len) {
	case 3:
		if (LIT_EQ(name.s, name.len, "ttl"))
			v->ttl = value;
		break;
	case 5:
		if (LIT_EQ(name.s, name.len, "maddr"))
			v->maddr = value;
		else if (LIT_EQ(name.s, name.len, "rport")) {
			v->has_rport = 1; /* RFC 3581 §3: valueless in requests */
			v->rport = value;
		}
		break;
	case 6:
		if (LIT_EQ(name.s, name.len, "branch"))
			v->branch = value;
		break;
	case 8:
		if (LIT_EQ(name.s, name.len, "received"))
			v->received = value;
		break;
	}
}

static const char *scan_token(const char *p, const char *end)
{
	while (p < end && SIP_IS(*p, SIP_CT_TOKEN))
		p++;
	return p;
}

int sip_via_parse(ims_str_t in, ims_arena_t *a, sip_via_t *out)
{
	memset(out, 0, sizeof(*out));
	in = ims_str_trim(in);
	if (!in.s || in.len == 0)
		return IMS_EPARSE;
	out->raw = in;
	const char *p = in.s, *end = in.s + in.len;
	/* sent-protocol = protocol-name SLASH protocol-version SLASH transport,
	 * SLASH = SWS "/" SWS (RFC 3261 §25.1). */
	const char *ns = p;
	p = scan_token(p, end);
	if (p == ns)
		return IMS_EPARSE;
	p = sip__skip_lws(p, end);
	if (p >= end || *p != '/')
		return IMS_EPARSE;
	p = sip__skip_lws(p + 1, end);
	const char *vs = p;
	p = scan_token(p, end);
	if (p == vs)
		return IMS_EPARSE;
	out->protocol = ims_str_from(ns, (size_t)(p - ns));
	p = sip__skip_lws(p, end);
	if (p >= end || *p != '/')
		return IMS_EPARSE;
	p = sip__skip_lws(p + 1, end);
	const char *ts = p;
	p = scan_token(p, end);
	if (p == ts)
		return IMS_EPARSE;
	out->transport = ims_str_from(ts, (size_t)(p - ts));
	const char *q = sip__skip_lws(p, end);
	if (q == p)
		return IMS_EPARSE; /* LWS required before sent-by */
	p = q;
	if (parse_host(&p, end, &out->host, NULL))
		return IMS_EPARSE;
	q = sip__skip_lws(p, end);
	if (q < end && *q == ':') {
		p = sip__skip_lws(q + 1, end);
		if (parse_port(&p, end, &out->port))
			return IMS_EPARSE;
	}
	const char *stop;
	int r = sip__params(p, end, a, &out->param_list, via_param_cb, out, SIP__P_LWS | SIP__P_QUOTED,
			    SIP_CT_TOKEN, SIP_CT_GVAL, &stop);
	if (r)
		return r;
	return sip__skip_lws(stop, end) == end ? 0 : IMS_EPARSE;
}

/* ---- digest credentials and challenges -------------------------------- */

static void auth_set(sip_auth_t *o, ims_str_t n, ims_str_t v)
{
#define F(lit, field)                                                          \
	if (LIT_EQ(n.s, n.len, lit)) {                                         \
		o->field = v;                                                  \
		return;                                                        \
	}
	F("username", username)
	F("realm", realm)
	F("nonce", nonce)
	F("uri", uri)
	F("response", response)
	F("algorithm", algorithm)
	F("cnonce", cnonce)
	F("opaque", opaque)
	F("qop", qop)
	F("nc", nc)
	F("auts", auts)
	F("stale", stale)
	F("domain", domain)
	F("ck", ck)
	F("ik", ik)
	F("integrity-protected", integrity_protected)
#undef F
}

int sip_auth_parse(ims_str_t in, ims_arena_t *a, sip_auth_t *out)
{
	memset(out, 0, sizeof(*out));
	in = ims_str_trim(in);
	if (!in.s || in.len == 0)
		return IMS_EPARSE;
	const char *p = in.s, *end = in.s + in.len;
	const char *ss = p;
	p = scan_token(p, end);
	if (p == ss)
		return IMS_EPARSE;
	out->scheme = ims_str_from(ss, (size_t)(p - ss));
	if (p == end)
		return 0;
	if (!sip__is_ws(*p))
		return IMS_EPARSE;
	sip_param_t **tail = &out->param_list;
	for (;;) {
		/* auth-param *(COMMA auth-param); empty list elements skipped */
		p = sip__skip_lws(p, end);
		while (p < end && *p == ',')
			p = sip__skip_lws(p + 1, end);
		if (p >= end)
			break;
		const char *ns = p;
		p = scan_token(p, end);
		if (p == ns)
			return IMS_EPARSE;
		ims_str_t name = ims_str_from(ns, (size_t)(p - ns));
		p = sip__skip_lws(p, end);
		if (p >= end || *p != '=')
			return IMS_EPARSE;
		p = sip__skip_lws(p + 1, end);
		ims_str_t value;
		if (p < end && *p == '"') {
			const char *cq = sip__scan_quoted(p, end);
			if (!cq)
				return IMS_EPARSE;
			value = ims_str_from(p + 1, (size_t)(cq - p - 1));
			p = cq + 1;
		} else {
			const char *vs = p;
			while (p < end && !sip__is_ws(*p) && *p != ',' && *p != '"')
				p++;
			if (p == vs)
				return IMS_EPARSE;
			value = ims_str_from(vs, (size_t)(p - vs));
		}
		auth_set(out, name, value);
		if (a) {
			sip_param_t *np = ims_arena_alloc(a, sizeof(*np));
			if (!np)
				return IMS_ENOMEM;
			np->next = NULL;
			np->name = name;
			np->value = value;
			*tail = np;
			tail = &np->next;
		}
		p = sip__skip_lws(p, end);
		if (p < end) {
			if (*p != ',')
				return IMS_EPARSE;
			p++;
		}
	}
	return 0;
}

/* ---- comparison and AoR --------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = sip__lower(c);
	return c - 'a' + 10;
}

/* Next byte of an escaped string with %HH decoded. */
static int next_dec(const char **pp, const char *end)
{
	const char *p = *pp;
	int c = (unsigned char)*p;
	if (c == '%' && end - p >= 3 && SIP_IS(p[1], SIP_CT_HEX) && SIP_IS(p[2], SIP_CT_HEX)) {
		c = hexval(p[1]) * 16 + hexval(p[2]);
		p += 3;
	} else {
		p++;
	}
	*pp = p;
	return c;
}

static int esc_eq(ims_str_t x, ims_str_t y, int icase)
{
	if (!x.s || !y.s)
		return x.len == y.len;
	const char *p = x.s, *pe = x.s + x.len, *q = y.s, *qe = y.s + y.len;
	while (p < pe && q < qe) {
		int a = next_dec(&p, pe), b = next_dec(&q, qe);
		if (icase) {
			a = sip__lower((char)a);
			b = sip__lower((char)b);
		}
		if (a != b)
			return 0;
	}
	return p == pe && q == qe;
}

static int is_visual(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

static int tel_eq(ims_str_t x, ims_str_t y)
{
	/* RFC 3966 §4: visual separators do not count; hex digits any case. */
	uint32_t i = 0, j = 0;
	for (;;) {
		while (i < x.len && is_visual(x.s[i]))
			i++;
		while (j < y.len && is_visual(y.s[j]))
			j++;
		if (i == x.len || j == y.len)
			return i == x.len && j == y.len;
		if (sip__lower(x.s[i]) != sip__lower(y.s[j]))
			return 0;
		i++;
		j++;
	}
}

/* Walks the ';'-separated params of a raw list. */
static int next_param(const char **pp, const char *end, ims_str_t *name, ims_str_t *value)
{
	const char *p = *pp;
	while (p < end && *p == ';')
		p++;
	if (p >= end)
		return 0;
	const char *s = p;
	while (p < end && *p != ';')
		p++;
	ims_str_t item = ims_str_from(s, (size_t)(p - s));
	const char *eq = memchr(item.s, '=', item.len);
	if (eq) {
		*name = ims_str_from(item.s, (size_t)(eq - item.s));
		*value = ims_str_from(eq + 1, (size_t)(item.s + item.len - eq - 1));
	} else {
		*name = item;
		*value = IMS_STR_NULL;
	}
	*pp = p;
	return 1;
}

static int raw_param(ims_str_t raw, ims_str_t name, ims_str_t *value, int *found)
{
	ims_str_t n, v;
	*found = 0;
	if (!raw.s)
		return 0;
	const char *p = raw.s, *end = raw.s + raw.len;
	while (next_param(&p, end, &n, &v)) {
		if (esc_eq(n, name, 1)) {
			*value = v;
			*found = 1;
			return 1;
		}
	}
	return 0;
}

static int params_equal(ims_str_t pa, ims_str_t pb)
{
	/* RFC 3261 §19.1.4: user, ttl, method, maddr, transport must match
	 * when present in either; any other parameter only when in both. */
	static const char *const strict[] = { "user", "ttl", "method", "maddr", "transport" };
	for (size_t i = 0; i < sizeof(strict) / sizeof(strict[0]); i++) {
		ims_str_t va = IMS_STR_NULL, vb = IMS_STR_NULL;
		int fa, fb;
		raw_param(pa, ims_str_cstr(strict[i]), &va, &fa);
		raw_param(pb, ims_str_cstr(strict[i]), &vb, &fb);
		if (fa != fb || (fa && !esc_eq(va, vb, 1)))
			return 0;
	}
	if (!pa.s)
		return 1;
	const char *p = pa.s, *end = pa.s + pa.len;
	ims_str_t n, v;
	while (next_param(&p, end, &n, &v)) {
		/* a repeated name counts by its first occurrence on both sides */
		ims_str_t va = IMS_STR_NULL, vb = IMS_STR_NULL;
		int fa, fb;
		raw_param(pa, n, &va, &fa);
		raw_param(pb, n, &vb, &fb);
		if (fb && !esc_eq(va, vb, 1))
			return 0;
	}
	return 1;
}

static int count_items(ims_str_t s, char sep)
{
	int n = 0;
	for (uint32_t i = 0; i < s.len; i++)
		if (s.s[i] == sep)
			n++;
	return s.len ? n + 1 : 0;
}

static int headers_equal(ims_str_t ha, ims_str_t hb)
{
	int n = count_items(ha, '&');
	if (n != count_items(hb, '&'))
		return 0;
	if (n > 32)
		return esc_eq(ha, hb, 0);
	if (!ha.s)
		return 1;
	const char *p = ha.s, *end = ha.s + ha.len;
	while (p < end) {
		const char *s = p;
		while (p < end && *p != '&')
			p++;
		ims_str_t item = ims_str_from(s, (size_t)(p - s));
		const char *eq = memchr(item.s, '=', item.len);
		ims_str_t n = eq ? ims_str_from(item.s, (size_t)(eq - item.s)) : item;
		ims_str_t v = eq ? ims_str_from(eq + 1, (size_t)(item.s + item.len - eq - 1)) : IMS_STR_NULL;
		int found = 0;
		const char *q = hb.s, *qe = hb.s + hb.len;
		while (q < qe && !found) {
			const char *t = q;
			while (q < qe && *q != '&')
				q++;
			ims_str_t it2 = ims_str_from(t, (size_t)(q - t));
			const char *eq2 = memchr(it2.s, '=', it2.len);
			ims_str_t n2 = eq2 ? ims_str_from(it2.s, (size_t)(eq2 - it2.s)) : it2;
			ims_str_t v2 = eq2 ? ims_str_from(eq2 + 1, (size_t)(it2.s + it2.len - eq2 - 1))
					   : IMS_STR_NULL;
			if (esc_eq(n, n2, 1) && esc_eq(v, v2, 0))
				found = 1;
			if (q < qe)
				q++;
		}
		if (!found)
			return 0;
		if (p < end)
			p++;
	}
	return 1;
}

int sip_uri_equal(const sip_uri_t *a, const sip_uri_t *b)
{
	if (!a || !b || a->scheme != b->scheme)
		return 0;
	switch (a->scheme) {
	case SIP_URI_OTHER:
		return ims_str_eq(a->raw, b->raw);
	case SIP_URI_TEL: {
		if (!tel_eq(a->user, b->user))
			return 0;
		ims_str_t ca = IMS_STR_NULL, cb = IMS_STR_NULL;
		int fa, fb;
		raw_param(a->params, IMS_STR("phone-context"), &ca, &fa);
		raw_param(b->params, IMS_STR("phone-context"), &cb, &fb);
		return fa == fb && (!fa || esc_eq(ca, cb, 1));
	}
	default:
		break;
	}
	/* RFC 3261 §19.1.4: userinfo case-sensitive, host case-insensitive,
	 * escapes equal to the characters they encode, an absent port differs
	 * from an explicit 5060. */
	if (a->user.len != 0 || b->user.len != 0)
		if (!esc_eq(a->user, b->user, 0))
			return 0;
	if (a->password.len != 0 || b->password.len != 0)
		if (!esc_eq(a->password, b->password, 0))
			return 0;
	if (!esc_eq(a->host, b->host, 1) || a->port != b->port)
		return 0;
	/* the rule is quadratic in the parameter count: beyond a sane number
	 * (a peer could send thousands) only identical lists compare equal */
	if (count_items(a->params, ';') > 32 || count_items(b->params, ';') > 32) {
		if (!esc_eq(a->params, b->params, 1))
			return 0;
	} else if (!params_equal(a->params, b->params) || !params_equal(b->params, a->params)) {
		return 0;
	}
	return headers_equal(a->headers, b->headers);
}

int sip_uri_aor(const sip_uri_t *u, ims_arena_t *a, ims_str_t *out)
{
	if (!u || !a || !out)
		return IMS_EINVAL;
	const char *sch;
	switch (u->scheme) {
	case SIP_URI_SIP: sch = "sip:"; break;
	case SIP_URI_SIPS: sch = "sips:"; break;
	case SIP_URI_TEL: sch = "tel:"; break;
	default: return IMS_EINVAL;
	}
	size_t sl = strlen(sch);
	size_t n = sl + u->user.len + 1 + u->host.len;
	char *d = ims_arena_alloc(a, n + 1);
	if (!d)
		return IMS_ENOMEM;
	size_t k = 0;
	memcpy(d, sch, sl);
	k = sl;
	if (u->scheme == SIP_URI_TEL) {
		/* the number without visual separators (RFC 3966 §5.1.1) */
		for (uint32_t i = 0; i < u->user.len; i++)
			if (!is_visual(u->user.s[i]))
				d[k++] = u->user.s[i];
	} else {
		if (u->user.len) {
			memcpy(d + k, u->user.s, u->user.len);
			k += u->user.len;
			d[k++] = '@';
		}
		for (uint32_t i = 0; i < u->host.len; i++)
			d[k++] = sip__lower(u->host.s[i]);
	}
	d[k] = '\0';
	out->s = d;
	out->len = (uint32_t)k;
	return 0;
}
