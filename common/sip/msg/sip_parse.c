/* Bytes to model: sip_msg_parse (RFC 3261 §7, §18.3, §20, §25) and stream
 * framing. The start line and every header boundary are found in one pass
 * over the buffer; the fields transactions and framing need are parsed at
 * once, everything else on demand (sip_uri.c). The buffer is never
 * written. */
#include "sip/msg/sip_msg-int.h"
#include "base/ims_err.h"

#include <stdio.h>
#include <string.h>

int sip__parse_uint(ims_str_t v, uint64_t max, uint64_t *out)
{
	uint64_t r = 0;
	int big = 0;
	if (v.len == 0)
		return IMS_EPARSE;
	for (uint32_t i = 0; i < v.len; i++) {
		unsigned d = (unsigned char)v.s[i] - '0';
		if (d > 9)
			return IMS_EPARSE;
		if (!big) {
			if (r > (UINT64_MAX - d) / 10)
				big = 1;
			else
				r = r * 10 + d;
		}
	}
	if (big || r > max)
		return IMS_ETOOBIG;
	*out = r;
	return 0;
}

int sip__parse_cseq(ims_str_t v, uint32_t *num, ims_str_t *method)
{
	/* CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number must be
	 * below 2**31 (§8.1.1.5). */
	v = ims_str_trim(v);
	const char *p = v.s, *end = v.s + v.len;
	const char *ds = p;
	while (p < end && SIP_IS(*p, SIP_CT_DIGIT))
		p++;
	uint64_t n;
	if (p == ds || sip__parse_uint(ims_str_from(ds, (size_t)(p - ds)), 0x7fffffffu, &n))
		return IMS_EPARSE;
	const char *q = sip__skip_lws(p, end);
	if (q == p || q >= end)
		return IMS_EPARSE;
	const char *ms = q;
	while (q < end && SIP_IS(*q, SIP_CT_TOKEN))
		q++;
	if (q != end)
		return IMS_EPARSE;
	*num = (uint32_t)n;
	*method = ims_str_from(ms, (size_t)(q - ms));
	return 0;
}

int sip__split_next(ims_str_t v, uint32_t *pos, ims_str_t *out)
{
	const char *s = v.s, *end = v.s + v.len;
	const char *p = s + *pos;
	while (p < end && (sip__is_ws(*p) || *p == ','))
		p++;
	if (p >= end) {
		*pos = v.len;
		return 0;
	}
	const char *st = p;
	int angle = 0;
	while (p < end) {
		char c = *p;
		if (c == '"' && !angle) {
			const char *cq = sip__scan_quoted(p, end);
			if (!cq)
				return IMS_EPARSE;
			p = cq + 1;
			continue;
		}
		if (c == '<')
			angle = 1;
		else if (c == '>')
			angle = 0;
		else if (c == ',' && !angle)
			break;
		p++;
	}
	if (angle)
		return IMS_EPARSE;
	*out = ims_str_trim(ims_str_from(st, (size_t)(p - st)));
	*pos = p < end ? (uint32_t)(p - s + 1) : v.len;
	return 1;
}

/* RFC 3261 §25.1: CR appears only in CRLF (quoted-pair excludes it too). A
 * bare CR is refused because parsers that end lines on CR alone would see
 * a different message than we do. */
static int bare_cr(const char *p, const char *end)
{
	const char *cr;
	while ((cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		if (cr + 1 >= end || cr[1] != '\n')
			return 1;
		p = cr + 2;
	}
	return 0;
}

static int has_ws(ims_str_t v)
{
	for (uint32_t i = 0; i < v.len; i++)
		if (sip__is_ws(v.s[i]))
			return 1;
	return 0;
}

/* Parses one indexed header the moment it is met. Returns NULL or the
 * reason phrase of the fault. */
static const char *eager(sip_msg_t *m, sip_hdr_t *h, int first)
{
	uint64_t n;
	int r;
	switch (h->id) {
	case SIP_HDR_VIA:
		if (first) {
			uint32_t pos = 0;
			ims_str_t v;
			if (sip__split_next(h->value, &pos, &v) != 1 || sip_via_parse(v, NULL, &m->via1))
				return "Bad Via";
		}
		return NULL;
	case SIP_HDR_CALL_ID:
		/* RFC 3261 §20.8, §8.1.1: exactly one, a word with no LWS */
		if (!first)
			return "Duplicate Call-ID";
		if (h->value.len == 0 || has_ws(h->value))
			return "Bad Call-ID";
		m->call_id = h->value;
		return NULL;
	case SIP_HDR_CSEQ:
		if (!first)
			return "Duplicate CSeq";
		if (sip__parse_cseq(h->value, &m->cseq, &m->cseq_method))
			return "Bad CSeq";
		m->cseq_method_id = sip_method_from_str(m->cseq_method);
		return NULL;
	case SIP_HDR_FROM:
	case SIP_HDR_TO: {
		int is_from = h->id == SIP_HDR_FROM;
		if (!first)
			return is_from ? "Duplicate From" : "Duplicate To";
		sip_nameaddr_t na;
		if (sip_nameaddr_parse(h->value, NULL, &na) || na.star)
			return is_from ? "Bad From" : "Bad To";
		if (is_from)
			m->from_tag = na.tag;
		else
			m->to_tag = na.tag;
		return NULL;
	}
	case SIP_HDR_MAX_FORWARDS:
		/* RFC 3261 §20.22: 0..255 */
		if (!first)
			return "Duplicate Max-Forwards";
		if (sip__parse_uint(h->value, 255, &n))
			return "Bad Max-Forwards";
		m->max_forwards = (int)n;
		return NULL;
	case SIP_HDR_CONTENT_LENGTH:
		/* RFC 4475 §3.3.13 (mcl01): two values leave the framing unknown */
		if (!first)
			return "Duplicate Content-Length";
		if (sip__parse_uint(h->value, 0x7fffffffu, &n))
			return "Bad Content-Length";
		m->content_length = (int64_t)n;
		return NULL;
	case SIP_HDR_EXPIRES:
		if (!first)
			return NULL;
		r = sip__parse_uint(h->value, 0xffffffffu, &n);
		if (r == IMS_EPARSE)
			return "Bad Expires";
		/* RFC 4475 §3.1.2.4: an element may treat an out of range expiry
		 * as a maximal one; registrars cap it with their own maximum. */
		m->expires = r ? (int64_t)0xffffffffu : (int64_t)n;
		return NULL;
	default:
		return NULL;
	}
}

static int is_sip_version(ims_str_t v)
{
	/* "SIP/" 1*DIGIT "." 1*DIGIT */
	if (v.len < 7 || memcmp(v.s, "SIP/", 4) != 0)
		return 0;
	uint32_t i = 4, d1 = 0, d2 = 0;
	while (i < v.len && SIP_IS(v.s[i], SIP_CT_DIGIT))
		i++, d1++;
	if (i >= v.len || v.s[i] != '.')
		return 0;
	i++;
	while (i < v.len && SIP_IS(v.s[i], SIP_CT_DIGIT))
		i++, d2++;
	return i == v.len && d1 && d2;
}

static const char *parse_start(sip_msg_t *m, const char *p, const char *le, const char **fault,
			       uint16_t *status)
{
	static const ims_str_t v20 = { "SIP/2.0", 7 };
	*fault = p;
	if (le - p >= 5 && memcmp(p, "SIP/", 4) == 0) {
		/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
		const char *sp = memchr(p, ' ', (size_t)(le - p));
		if (!sp)
			return "Bad status line";
		m->version = ims_str_from(p, (size_t)(sp - p));
		const char *q = sp + 1;
		if (le - q < 3 || !SIP_IS(q[0], SIP_CT_DIGIT) || !SIP_IS(q[1], SIP_CT_DIGIT) ||
		    !SIP_IS(q[2], SIP_CT_DIGIT) || (le - q > 3 && q[3] != ' ')) {
			*fault = q;
			return "Bad status line";
		}
		int code = (q[0] - '0') * 100 + (q[1] - '0') * 10 + (q[2] - '0');
		if (code < 100 || code > 699) {
			*fault = q;
			return "Bad status line";
		}
		if (!ims_str_eq(m->version, v20)) {
			*status = 505;
			return "Version Not Supported";
		}
		m->status = code;
		/* RFC 4475 §3.1.1.13: the SP before an empty phrase may be missing */
		m->reason = le - q > 3 ? ims_str_from(q + 4, (size_t)(le - q - 4)) : ims_str_from(q + 3, 0);
		m->is_request = 0;
		return NULL;
	}
	/* Request-Line = Method SP Request-URI SP SIP-Version; exactly one SP
	 * between the elements (RFC 4475 §3.1.2.7-10 reject the rest). */
	const char *q = p;
	while (q < le && SIP_IS(*q, SIP_CT_TOKEN))
		q++;
	if (q == p || q >= le || *q != ' ')
		return "Bad request line";
	m->method = ims_str_from(p, (size_t)(q - p));
	m->method_id = sip_method_from_str(m->method);
	const char *us = q + 1;
	const char *ue = memchr(us, ' ', (size_t)(le - us));
	if (!ue || ue == us) {
		*fault = us;
		return "Bad request line";
	}
	m->ruri = ims_str_from(us, (size_t)(ue - us));
	m->version = ims_str_from(ue + 1, (size_t)(le - ue - 1));
	if (!ims_str_eq(m->version, v20)) {
		*fault = ue + 1;
		if (is_sip_version(m->version)) {
			*status = 505; /* RFC 4475 §3.1.2.16 (badvers) */
			return "Version Not Supported";
		}
		return "Bad request line";
	}
	/* RFC 3261 §19.1.1: a Request-URI carries no headers (RFC 4475
	 * §3.1.2.11); anything that does not parse is refused here too. */
	sip_uri_t u;
	if (sip_uri_parse(m->ruri, NULL, &u) ||
	    ((u.scheme == SIP_URI_SIP || u.scheme == SIP_URI_SIPS) && u.headers.s)) {
		*fault = us;
		return "Bad Request-URI";
	}
	m->is_request = 1;
	return NULL;
}

static void set_err(sip_parse_err_t *err, const char *buf, const char *at, int code, sip_hdr_id_t hdr,
		    uint16_t status, const char *reason)
{
	if (!err)
		return;
	uint32_t line = 1, col = 1;
	for (const char *p = buf; p < at; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	err->code = code;
	err->line = line;
	err->col = col;
	err->hdr = hdr;
	err->status = status;
	snprintf(err->reason, sizeof(err->reason), "%s", reason);
}

int sip_msg_parse(const char *buf, size_t len, ims_arena_t *a, sip_msg_t **out, sip_parse_err_t *err)
{
	const char *fault = buf;
	const char *reason = NULL;
	sip_hdr_id_t fhdr = SIP_HDR_OTHER;
	uint16_t status = 400;
	*out = NULL;
	if (!buf || !a || len > 0x7fffffffu) {
		set_err(err, buf, buf, IMS_EPARSE, SIP_HDR_OTHER, 400, "Bad message");
		return IMS_EPARSE;
	}
	const char *p = buf, *end = buf + len;
	/* RFC 3261 §7.5: CRLFs before the start line are ignored */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	sip_msg_t *m = ims_arena_zalloc(a, sizeof(*m));
	if (!m)
		goto nomem;
	m->arena = a;
	m->buf = p;
	m->max_forwards = -1;
	m->content_length = -1;
	m->expires = -1;

	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || nl - p > SIP_MAX_LINE) {
		fault = p;
		reason = nl ? "Start line too long" : "Bad start line";
		goto bad;
	}
	const char *le = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
	if (memchr(p, '\r', (size_t)(le - p))) {
		fault = p;
		reason = "Bad start line";
		goto bad;
	}
	reason = parse_start(m, p, le, &fault, &status);
	if (reason)
		goto bad;
	p = nl + 1;

	sip_hdr_t *last[SIP_HDR__COUNT];
	memset(last, 0, sizeof(last));
	const char *cl_at = NULL;
	unsigned nhdr = 0;
	for (;;) {
		if (p >= end) {
			fault = p;
			reason = "Missing end of headers";
			goto bad;
		}
		if (*p == '\r' && p + 1 < end && p[1] == '\n') {
			p += 2;
			break;
		}
		if (*p == '\n') {
			p++;
			break;
		}
		const char *ls = p;
		const char *q = p;
		while (q < end && SIP_IS(*q, SIP_CT_TOKEN))
			q++;
		ims_str_t name = ims_str_from(p, (size_t)(q - p));
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (name.len == 0 || q >= end || *q != ':') {
			fault = q < end ? q : ls;
			reason = "Bad header";
			goto bad;
		}
		q++;
		/* The field ends at a line break not followed by SP/HTAB
		 * (RFC 3261 §7.3.1 folding). */
		const char *e = q;
		for (;;) {
			const char *n2 = memchr(e, '\n', (size_t)(end - e));
			if (!n2) {
				fault = ls;
				reason = "Missing end of headers";
				goto bad;
			}
			e = n2 + 1;
			if (e < end && (*e == ' ' || *e == '\t'))
				continue;
			break;
		}
		if (e - ls > SIP_MAX_LINE) {
			fault = ls;
			reason = "Header too long";
			goto bad;
		}
		if (bare_cr(q, e)) {
			fault = ls;
			reason = "Bad header";
			goto bad;
		}
		if (++nhdr > SIP_MAX_HEADERS) {
			fault = ls;
			reason = "Too many headers";
			goto bad;
		}
		const char *vs = q, *ve = e - 1;
		while (vs < ve && sip__is_ws(*vs))
			vs++;
		while (ve > vs && sip__is_ws(ve[-1]))
			ve--;
		sip_hdr_t *h = ims_arena_alloc(a, sizeof(*h));
		if (!h)
			goto nomem;
		h->next = NULL;
		h->next_same = NULL;
		h->flags = 0;
		h->parsed = NULL;
		h->name = name;
		h->value = ims_str_from(vs, (size_t)(ve - vs));
		h->raw = ims_str_from(ls, (size_t)(e - ls));
		h->id = sip_hdr_id_from_name(name);
		if (m->hdrs_tail)
			m->hdrs_tail->next = h;
		else
			m->hdrs = h;
		m->hdrs_tail = h;
		if (h->id != SIP_HDR_OTHER) {
			int first = last[h->id] == NULL;
			if (first)
				m->h[h->id] = h;
			else
				last[h->id]->next_same = h;
			last[h->id] = h;
			if (h->id == SIP_HDR_CONTENT_LENGTH)
				cl_at = ls;
			reason = eager(m, h, first);
			if (reason) {
				fault = ls;
				fhdr = h->id;
				goto bad;
			}
		}
		p = e;
	}

	/* RFC 3261 §18.3: the body is Content-Length bytes; on a datagram a
	 * larger value is an error (RFC 4475 §3.1.2.2) and extra bytes are
	 * discarded (§3.1.1.8). Without the header the datagram's rest is the
	 * body. */
	size_t avail = (size_t)(end - p);
	if (m->content_length >= 0) {
		if ((uint64_t)m->content_length > avail) {
			fault = cl_at;
			fhdr = SIP_HDR_CONTENT_LENGTH;
			reason = "Bad Content-Length";
			goto bad;
		}
		m->body = ims_str_from(p, (size_t)m->content_length);
	} else {
		m->body = ims_str_from(p, avail);
	}
	m->len = (uint32_t)(p + m->body.len - m->buf);

	/* RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Via are mandatory. */
	static const struct {
		sip_hdr_id_t id;
		const char *reason;
	} mandatory[] = {
		{ SIP_HDR_CALL_ID, "Missing Call-ID" }, { SIP_HDR_CSEQ, "Missing CSeq" },
		{ SIP_HDR_FROM, "Missing From" },       { SIP_HDR_TO, "Missing To" },
		{ SIP_HDR_VIA, "Missing Via" },
	};
	for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
		if (!m->h[mandatory[i].id]) {
			fault = p;
			fhdr = mandatory[i].id;
			reason = mandatory[i].reason;
			goto bad;
		}
	}
	/* RFC 3261 §8.1.1.5 / RFC 4475 §3.1.2.19: the CSeq method matches */
	if (m->is_request && !ims_str_eq(m->cseq_method, m->method)) {
		fault = m->h[SIP_HDR_CSEQ]->raw.s;
		fhdr = SIP_HDR_CSEQ;
		reason = "CSeq method mismatch";
		goto bad;
	}
	*out = m;
	return 0;

bad:
	set_err(err, buf, fault ? fault : buf, IMS_EPARSE, fhdr, status, reason);
	return IMS_EPARSE;
nomem:
	set_err(err, buf, buf, IMS_ENOMEM, SIP_HDR_OTHER, 500, "Out of memory");
	return IMS_ENOMEM;
}

/* ---- stream framing ------------------------------------------------------ */

static int is_cl_name(const char *s, size_t n)
{
	return (n == 1 && (s[0] == 'l' || s[0] == 'L')) ||
	       (n == 14 && strncasecmp(s, "Content-Length", 14) == 0);
}

int sip_msg_frame(const char *buf, size_t len, size_t max, size_t *skip, size_t *msg_len)
{
	size_t i = 0;
	*msg_len = 0;
	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	*skip = i;
	const char *s = buf + i, *end = buf + len;
	const char *hend = NULL;
	const char *p = s;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '\n') {
			hend = p + 1;
			break;
		}
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hend = p + 2;
			break;
		}
	}
	if (!hend)
		return (size_t)(end - s) > max ? IMS_ETOOBIG : IMS_EAGAIN;

	/* RFC 3261 §18.3: Content-Length is mandatory on a stream */
	int64_t cl = -1;
	const char *ls = memchr(s, '\n', (size_t)(hend - s));
	ls = ls ? ls + 1 : hend;
	while (ls < hend) {
		const char *le = memchr(ls, '\n', (size_t)(hend - ls));
		le = le ? le + 1 : hend;
		if (*ls != ' ' && *ls != '\t') {
			const char *q = ls;
			while (q < le && SIP_IS(*q, SIP_CT_TOKEN))
				q++;
			size_t nlen = (size_t)(q - ls);
			while (q < le && (*q == ' ' || *q == '\t'))
				q++;
			if (q < le && *q == ':' && is_cl_name(ls, nlen)) {
				/* the value, with folded continuation lines */
				const char *ve = le;
				while (ve < hend && (*ve == ' ' || *ve == '\t')) {
					const char *n2 = memchr(ve, '\n', (size_t)(hend - ve));
					ve = n2 ? n2 + 1 : hend;
				}
				uint64_t v;
				ims_str_t val = ims_str_trim(ims_str_from(q + 1, (size_t)(ve - q - 1)));
				if (sip__parse_uint(val, 0x7fffffffu, &v))
					return IMS_EPARSE;
				if (cl >= 0 && (uint64_t)cl != v)
					return IMS_EPARSE;
				cl = (int64_t)v;
				le = ve;
			}
		}
		ls = le;
	}
	if (cl < 0)
		return IMS_EPARSE;
	size_t total = (size_t)(hend - s) + (size_t)cl;
	if (total > max)
		return IMS_ETOOBIG;
	if (i + total > len)
		return IMS_EAGAIN;
	*msg_len = total;
	return 0;
}
