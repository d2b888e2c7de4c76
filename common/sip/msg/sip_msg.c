/* Access, editing, printing and building of SIP messages (RFC 3261 §7,
 * §8.2.6, §16.6). Edits never write the receive buffer: they flag headers
 * or link new ones allocated in the message arena, and the printer renders
 * untouched wire headers byte for byte. */
#include "sip/msg/sip_msg-int.h"
#include "base/ims_err.h"

#include <stdio.h>
#include <string.h>

/* ---- access ------------------------------------------------------------ */

sip_hdr_t *sip_msg_hdr(const sip_msg_t *m, sip_hdr_id_t id)
{
	if (!m || (int)id <= 0 || id >= SIP_HDR__COUNT)
		return NULL;
	sip_hdr_t *h = m->h[id];
	while (h && (h->flags & SIP_HDRF_DELETED))
		h = h->next_same;
	return h;
}

sip_hdr_t *sip_hdr_next_same(const sip_hdr_t *h)
{
	if (!h)
		return NULL;
	sip_hdr_t *n = h->next_same;
	while (n && (n->flags & SIP_HDRF_DELETED))
		n = n->next_same;
	return n;
}

sip_hdr_t *sip_msg_hdr_by_name(const sip_msg_t *m, ims_str_t name)
{
	sip_hdr_id_t id = sip_hdr_id_from_name(name);
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(m, id);
	for (sip_hdr_t *h = m->hdrs; h; h = h->next)
		if (!(h->flags & SIP_HDRF_DELETED) && ims_str_caseeq(h->name, name))
			return h;
	return NULL;
}

static int hdr_value_at(const sip_hdr_t *h, uint32_t *pos, ims_str_t *value)
{
	if (*pos >= h->value.len)
		return 0;
	if (!sip__hdr_is_list(h->id)) {
		*pos = h->value.len;
		*value = h->value;
		return 1;
	}
	return sip__split_next(h->value, pos, value);
}

int sip_hdr_next_value(const sip_hdr_t *h, sip_val_iter_t *it, ims_str_t *value)
{
	if (!h)
		return 0;
	if (!it->started || it->hdr != h) {
		it->hdr = h;
		it->pos = 0;
		it->started = 1;
	}
	return hdr_value_at(h, &it->pos, value);
}

int sip_msg_next_value(const sip_msg_t *m, sip_hdr_id_t id, sip_val_iter_t *it, ims_str_t *value)
{
	if (!it->started) {
		it->hdr = sip_msg_hdr(m, id);
		it->pos = 0;
		it->started = 1;
	}
	while (it->hdr) {
		int r = hdr_value_at(it->hdr, &it->pos, value);
		if (r != 0)
			return r;
		it->hdr = sip_hdr_next_same(it->hdr);
		it->pos = 0;
	}
	return 0;
}

const sip_uri_t *sip_msg_ruri(sip_msg_t *m)
{
	if (!m || !m->is_request)
		return NULL;
	if (m->ruri_parsed)
		return m->ruri_parsed;
	sip_uri_t *u = ims_arena_alloc(m->arena, sizeof(*u));
	if (!u || sip_uri_parse(m->ruri, m->arena, u))
		return NULL;
	m->ruri_parsed = u;
	return u;
}

/* ---- eager fields after edits ------------------------------------------- */

void sip__refresh(sip_msg_t *m, sip_hdr_id_t id)
{
	sip_hdr_t *h = sip_msg_hdr(m, id);
	uint64_t n;
	switch (id) {
	case SIP_HDR_VIA: {
		uint32_t pos = 0;
		ims_str_t v;
		if (!h || sip__split_next(h->value, &pos, &v) != 1 || sip_via_parse(v, NULL, &m->via1))
			memset(&m->via1, 0, sizeof(m->via1));
		break;
	}
	case SIP_HDR_FROM:
	case SIP_HDR_TO: {
		sip_nameaddr_t na;
		ims_str_t tag = IMS_STR_NULL;
		if (h && sip_nameaddr_parse(h->value, NULL, &na) == 0)
			tag = na.tag;
		if (id == SIP_HDR_FROM)
			m->from_tag = tag;
		else
			m->to_tag = tag;
		break;
	}
	case SIP_HDR_CALL_ID:
		m->call_id = h ? h->value : IMS_STR_NULL;
		break;
	case SIP_HDR_CSEQ:
		if (h && sip__parse_cseq(h->value, &m->cseq, &m->cseq_method) == 0) {
			m->cseq_method_id = sip_method_from_str(m->cseq_method);
		} else {
			m->cseq = 0;
			m->cseq_method = IMS_STR_NULL;
			m->cseq_method_id = SIP_METHOD_OTHER;
		}
		break;
	case SIP_HDR_MAX_FORWARDS:
		m->max_forwards = (h && sip__parse_uint(h->value, 255, &n) == 0) ? (int)n : -1;
		break;
	case SIP_HDR_EXPIRES:
		m->expires = (h && sip__parse_uint(h->value, 0xffffffffu, &n) == 0) ? (int64_t)n : -1;
		break;
	case SIP_HDR_CONTENT_LENGTH:
		m->content_length = (h && sip__parse_uint(h->value, 0x7fffffffu, &n) == 0) ? (int64_t)n : -1;
		break;
	default:
		break;
	}
}

/* ---- editing --------------------------------------------------------------- */

/* A value we print must not end the field early: a line feed only as
 * folding (followed by SP/HTAB), or a peer-supplied string could inject
 * headers. (A bare CR, which parsed values may carry, ends no line for a
 * SIP parser that frames on LF, as ours does.) */
static int value_ok(ims_str_t v)
{
	for (uint32_t i = 0; i < v.len; i++)
		if (v.s[i] == '\n' && (i + 1 >= v.len || (v.s[i + 1] != ' ' && v.s[i + 1] != '\t')))
			return 0;
	return 1;
}

static int name_ok(ims_str_t n)
{
	if (n.len == 0)
		return 0;
	for (uint32_t i = 0; i < n.len; i++)
		if (!SIP_IS(n.s[i], SIP_CT_TOKEN))
			return 0;
	return 1;
}

/* Rebuilds the next_same chain of one id from the wire list. */
static void reindex(sip_msg_t *m, sip_hdr_id_t id)
{
	sip_hdr_t *prev = NULL;
	m->h[id] = NULL;
	for (sip_hdr_t *h = m->hdrs; h; h = h->next) {
		if (h->id != id)
			continue;
		h->next_same = NULL;
		if (prev)
			prev->next_same = h;
		else
			m->h[id] = h;
		prev = h;
	}
}

sip_hdr_t *sip_msg_hdr_add(sip_msg_t *m, sip_hdr_id_t id, ims_str_t name, ims_str_t value,
			   sip_hdr_pos_t pos)
{
	if (!m || (int)id < 0 || id >= SIP_HDR__COUNT)
		return NULL;
	if (id == SIP_HDR_OTHER) {
		if (name.len == 0)
			return NULL;
		id = sip_hdr_id_from_name(name);
	}
	value = ims_str_trim(value);
	if ((name.len && !name_ok(name)) || !value_ok(value))
		return NULL;
	sip_hdr_t *h = ims_arena_zalloc(m->arena, sizeof(*h));
	if (!h)
		return NULL;
	h->id = id;
	h->flags = SIP_HDRF_NEW;
	if (name.len == 0)
		name = ims_str_cstr(sip_hdr_name(id));
	if (ims_arena_strdup(m->arena, name, &h->name) || ims_arena_strdup(m->arena, value, &h->value))
		return NULL;

	/* find the neighbour: the first (TOP) or last (BOTTOM) live header of
	 * this id; without one, the head or the tail of the list. */
	sip_hdr_t *prev = NULL, *anchor = NULL, *anchor_prev = NULL;
	for (sip_hdr_t *x = m->hdrs; x; prev = x, x = x->next) {
		if (id != SIP_HDR_OTHER && x->id == id && !(x->flags & SIP_HDRF_DELETED)) {
			if (pos == SIP_POS_TOP && !anchor) {
				anchor = x;
				anchor_prev = prev;
			} else if (pos == SIP_POS_BOTTOM) {
				anchor = x;
				anchor_prev = prev;
			}
		}
	}
	if (pos == SIP_POS_TOP) {
		sip_hdr_t *before = anchor ? anchor : m->hdrs;
		sip_hdr_t *bp = anchor ? anchor_prev : NULL;
		h->next = before;
		if (bp)
			bp->next = h;
		else
			m->hdrs = h;
		if (!before)
			m->hdrs_tail = h;
	} else {
		sip_hdr_t *after = anchor ? anchor : m->hdrs_tail;
		if (after) {
			h->next = after->next;
			after->next = h;
			if (m->hdrs_tail == after)
				m->hdrs_tail = h;
		} else {
			m->hdrs = m->hdrs_tail = h;
		}
	}
	if (id != SIP_HDR_OTHER) {
		reindex(m, id);
		sip__refresh(m, id);
	}
	return h;
}

sip_hdr_t *sip_msg_hdr_addf(sip_msg_t *m, sip_hdr_id_t id, sip_hdr_pos_t pos, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !m) {
		va_end(ap2);
		return NULL;
	}
	char *tmp = ims_arena_alloc(m->arena, (size_t)n + 1);
	if (!tmp) {
		va_end(ap2);
		return NULL;
	}
	vsnprintf(tmp, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	/* hdr_add copies again; the temporary stays in the arena, which is
	 * cheaper than a second formatting pass. */
	return sip_msg_hdr_add(m, id, IMS_STR_NULL, ims_str_from(tmp, (size_t)n), pos);
}

void sip_msg_hdr_remove(sip_msg_t *m, sip_hdr_t *h)
{
	if (!m || !h || (h->flags & SIP_HDRF_DELETED))
		return;
	h->flags |= SIP_HDRF_DELETED;
	if (h->id != SIP_HDR_OTHER)
		sip__refresh(m, h->id);
}

int sip_msg_hdr_remove_all(sip_msg_t *m, sip_hdr_id_t id)
{
	int n = 0;
	for (sip_hdr_t *h = sip_msg_hdr(m, id); h; h = sip_hdr_next_same(h)) {
		h->flags |= SIP_HDRF_DELETED;
		n++;
	}
	if (n)
		sip__refresh(m, id);
	return n;
}

int sip_msg_hdr_set_value(sip_msg_t *m, sip_hdr_t *h, ims_str_t value)
{
	ims_str_t v;
	if (!m || !h)
		return IMS_EINVAL;
	value = ims_str_trim(value);
	if (!value_ok(value))
		return IMS_EINVAL;
	if (ims_arena_strdup(m->arena, value, &v))
		return IMS_ENOMEM;
	h->value = v;
	h->flags |= SIP_HDRF_CHANGED;
	h->parsed = NULL;
	if (h->id != SIP_HDR_OTHER)
		sip__refresh(m, h->id);
	return 0;
}

int sip_msg_remove_first_value(sip_msg_t *m, sip_hdr_id_t id)
{
	sip_hdr_t *h = sip_msg_hdr(m, id);
	if (!h)
		return IMS_ENOENT;
	uint32_t pos = 0;
	ims_str_t v;
	int r = sip__split_next(h->value, &pos, &v);
	if (r < 0)
		return r;
	ims_str_t rest = ims_str_trim(ims_str_from(h->value.s + pos, h->value.len - pos));
	if (r == 0 || rest.len == 0) {
		sip_msg_hdr_remove(m, h);
		return 0;
	}
	return sip_msg_hdr_set_value(m, h, rest);
}

int sip_msg_set_ruri(sip_msg_t *m, ims_str_t uri)
{
	ims_str_t v;
	if (!m || !m->is_request || uri.len == 0)
		return IMS_EINVAL;
	for (uint32_t i = 0; i < uri.len; i++)
		if ((unsigned char)uri.s[i] <= ' ' || uri.s[i] == 0x7f)
			return IMS_EINVAL; /* would break the request line */
	if (ims_arena_strdup(m->arena, uri, &v))
		return IMS_ENOMEM;
	m->ruri = v;
	m->ruri_parsed = NULL;
	m->start_edited = 1;
	return 0;
}

int sip_msg_set_body(sip_msg_t *m, ims_str_t content_type, ims_str_t body)
{
	ims_str_t b = IMS_STR_NULL;
	if (!m)
		return IMS_EINVAL;
	if (body.len && ims_arena_strdup(m->arena, body, &b))
		return IMS_ENOMEM;
	if (!body.len)
		b = ims_str_from("", 0);
	m->body = b;
	m->body_edited = 1;
	if (content_type.len == 0) {
		sip_msg_hdr_remove_all(m, SIP_HDR_CONTENT_TYPE);
	} else {
		sip_hdr_t *ct = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);
		if (ct) {
			if (sip_msg_hdr_set_value(m, ct, content_type))
				return IMS_ENOMEM;
		} else if (!sip_msg_hdr_add(m, SIP_HDR_CONTENT_TYPE, IMS_STR_NULL, content_type,
					    SIP_POS_BOTTOM)) {
			return IMS_ENOMEM;
		}
	}
	m->content_length = b.len;
	return 0;
}

/* ---- printing ---------------------------------------------------------------- */

typedef struct {
	char *out;
	size_t cap, n;
} wbuf_t;

static void put(wbuf_t *w, const char *s, size_t n)
{
	if (n && w->n + n <= w->cap)
		memcpy(w->out + w->n, s, n);
	w->n += n;
}

static void put_str(wbuf_t *w, ims_str_t s)
{
	put(w, s.s, s.len);
}

static void put_c(wbuf_t *w, const char *c)
{
	put(w, c, strlen(c));
}

static void put_uint(wbuf_t *w, uint64_t v)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	put(w, tmp, (size_t)k);
}

static int untouched(const sip_msg_t *m)
{
	if (!m->buf || m->start_edited || m->body_edited)
		return 0;
	for (const sip_hdr_t *h = m->hdrs; h; h = h->next)
		if (h->flags)
			return 0;
	return 1;
}

static void render(const sip_msg_t *m, wbuf_t *w)
{
	if (untouched(m)) {
		put(w, m->buf, m->len);
		return;
	}
	/* start line */
	if (!m->start_edited && m->buf) {
		const char *nl = memchr(m->buf, '\n', m->len);
		put(w, m->buf, nl ? (size_t)(nl + 1 - m->buf) : m->len);
	} else if (m->is_request) {
		put_str(w, m->method);
		put(w, " ", 1);
		put_str(w, m->ruri);
		put_c(w, " SIP/2.0\r\n");
	} else {
		put_c(w, "SIP/2.0 ");
		put_uint(w, (uint64_t)m->status);
		put(w, " ", 1);
		put_str(w, m->reason);
		put(w, "\r\n", 2);
	}
	/* headers; Content-Length is rewritten when it does not describe the
	 * body we send (RFC 3261 §20.14) and added when missing. */
	int cl_done = 0;
	for (const sip_hdr_t *h = m->hdrs; h; h = h->next) {
		if (h->flags & SIP_HDRF_DELETED)
			continue;
		if (h->id == SIP_HDR_CONTENT_LENGTH) {
			if (cl_done)
				continue;
			cl_done = 1;
			uint64_t v;
			if (h->flags == 0 && h->raw.s && sip__parse_uint(h->value, 0x7fffffffu, &v) == 0 &&
			    v == m->body.len) {
				put_str(w, h->raw);
			} else {
				put_str(w, h->name);
				put(w, ": ", 2);
				put_uint(w, m->body.len);
				put(w, "\r\n", 2);
			}
			continue;
		}
		if (h->flags == 0 && h->raw.s) {
			put_str(w, h->raw);
		} else {
			put_str(w, h->name);
			put(w, ": ", 2);
			put_str(w, h->value);
			put(w, "\r\n", 2);
		}
	}
	if (!cl_done) {
		put_c(w, "Content-Length: ");
		put_uint(w, m->body.len);
		put(w, "\r\n", 2);
	}
	put(w, "\r\n", 2);
	put_str(w, m->body);
}

int sip_msg_print(const sip_msg_t *m, char *out, size_t cap, size_t *len)
{
	wbuf_t w = { out, cap, 0 };
	if (!m)
		return IMS_EINVAL;
	render(m, &w);
	*len = w.n;
	return w.n > cap ? IMS_ENOSPC : 0;
}

int sip_msg_print_arena(const sip_msg_t *m, ims_arena_t *a, ims_str_t *out)
{
	wbuf_t w = { NULL, 0, 0 };
	if (!m || !a)
		return IMS_EINVAL;
	render(m, &w);
	char *d = ims_arena_alloc(a, w.n + 1);
	if (!d)
		return IMS_ENOMEM;
	wbuf_t w2 = { d, w.n, 0 };
	render(m, &w2);
	d[w.n] = '\0';
	out->s = d;
	out->len = (uint32_t)w.n;
	return 0;
}

/* ---- building ------------------------------------------------------------------ */

static sip_msg_t *new_msg(ims_arena_t *a)
{
	sip_msg_t *m = ims_arena_zalloc(a, sizeof(*m));
	if (!m)
		return NULL;
	m->arena = a;
	m->version = IMS_STR("SIP/2.0");
	m->max_forwards = -1;
	m->content_length = -1;
	m->expires = -1;
	m->start_edited = 1;
	m->body_edited = 1;
	m->body = ims_str_from("", 0);
	return m;
}

int sip_msg_new_request(ims_arena_t *a, ims_str_t method, ims_str_t ruri, sip_msg_t **out)
{
	*out = NULL;
	if (!a || method.len == 0 || ruri.len == 0)
		return IMS_EINVAL;
	for (uint32_t i = 0; i < method.len; i++)
		if (!SIP_IS(method.s[i], SIP_CT_TOKEN))
			return IMS_EINVAL;
	for (uint32_t i = 0; i < ruri.len; i++)
		if ((unsigned char)ruri.s[i] <= ' ' || ruri.s[i] == 0x7f)
			return IMS_EINVAL;
	sip_msg_t *m = new_msg(a);
	if (!m || ims_arena_strdup(a, method, &m->method) || ims_arena_strdup(a, ruri, &m->ruri))
		return IMS_ENOMEM;
	m->is_request = 1;
	m->method_id = sip_method_from_str(m->method);
	*out = m;
	return 0;
}

static int copy_all(sip_msg_t *dst, const sip_msg_t *src, sip_hdr_id_t id)
{
	for (sip_hdr_t *h = sip_msg_hdr(src, id); h; h = sip_hdr_next_same(h))
		if (!sip_msg_hdr_add(dst, id, h->name, h->value, SIP_POS_BOTTOM))
			return IMS_ENOMEM;
	return 0;
}

int sip_msg_new_response(ims_arena_t *a, const sip_msg_t *req, int code, ims_str_t reason,
			 ims_str_t to_tag, sip_msg_t **out)
{
	*out = NULL;
	if (!a || !req || !req->is_request || code < 100 || code > 699)
		return IMS_EINVAL;
	sip_msg_t *m = new_msg(a);
	if (!m)
		return IMS_ENOMEM;
	m->status = code;
	if (!reason.s || reason.len == 0)
		reason = ims_str_cstr(sip_reason_phrase(code));
	if (ims_arena_strdup(a, reason, &m->reason))
		return IMS_ENOMEM;
	/* RFC 3261 §8.2.6.2: From, Call-ID, CSeq and every Via (same order)
	 * equal the request's; To too, with a tag added when the request had
	 * none (except 100 Trying, §8.2.6.1). */
	int r;
	if ((r = copy_all(m, req, SIP_HDR_VIA)) || (r = copy_all(m, req, SIP_HDR_FROM)))
		return r;
	sip_hdr_t *to = sip_msg_hdr(req, SIP_HDR_TO);
	if (to) {
		if (code > 100 && to_tag.len && req->to_tag.len == 0) {
			if (!sip_msg_hdr_addf(m, SIP_HDR_TO, SIP_POS_BOTTOM, "%.*s;tag=%.*s",
					      IMS_STR_FMT(to->value), IMS_STR_FMT(to_tag)))
				return IMS_ENOMEM;
		} else if (!sip_msg_hdr_add(m, SIP_HDR_TO, to->name, to->value, SIP_POS_BOTTOM)) {
			return IMS_ENOMEM;
		}
	}
	if ((r = copy_all(m, req, SIP_HDR_CALL_ID)) || (r = copy_all(m, req, SIP_HDR_CSEQ)))
		return r;
	*out = m;
	return 0;
}

int sip_msg_clone(const sip_msg_t *m, ims_arena_t *a, sip_msg_t **out)
{
	ims_str_t txt;
	*out = NULL;
	if (!m || !a)
		return IMS_EINVAL;
	int r = sip_msg_print_arena(m, a, &txt);
	if (r)
		return r;
	return sip_msg_parse(txt.s, txt.len, a, out, NULL);
}
