/* iFC compile and evaluation (TS 29.228 Annex B.2.2, Annex C; TS 23.218
 * §6.4, §6.5). Unlike a checker that compiles regexes per request and
 * writes NULs into the message, everything costly happens once per
 * profile here, and matching reads length-delimited views. */
#include "ifc-eval.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/msg/sip_msg.h"

/* ---- compile ---------------------------------------------------------- */

/* Back-references (a glibc extension to ERE) make matching exponential in
 * the worst case; TS 29.228 trigger points have no use for them. */
static int has_backref(ims_str_t p)
{
	for (uint32_t i = 0; i + 1 < p.len; i++) {
		if (p.s[i] != '\\')
			continue;
		if (p.s[i + 1] >= '1' && p.s[i + 1] <= '9')
			return 1;
		i++; /* skip the escaped character */
	}
	return 0;
}

/* glibc's regcomp expands bounded repeats by copying the repeated
 * sub-tree, so "(x{200}){200}" or a long run of stacked quantifiers costs
 * memory exponential in the pattern length. Estimate the expanded size
 * (atoms times the repeat counts around them) and refuse what is beyond
 * any sensible trigger point. Stacked quantifiers ("a+*") are undefined in
 * POSIX ERE and refused too. */
#define RE_MAX_NEST 32
#define RE_MAX_REPEAT 255
#define RE_MAX_COST 8192

static size_t cost_mul(size_t a, size_t b)
{
	return (b && a > RE_MAX_COST / b) ? RE_MAX_COST + 1 : a * b;
}

static int regex_too_costly(ims_str_t p)
{
	size_t done[RE_MAX_NEST], last[RE_MAX_NEST];
	int depth = 0, prev_quant = 0;
	done[0] = last[0] = 0;
	for (uint32_t i = 0; i < p.len; i++) {
		char c = p.s[i];
		size_t mult = 0;
		if (c == '*' || c == '+' || c == '?') {
			mult = 2;
		} else if (c == '{') {
			unsigned long n = 0, m = 0;
			int have_m = 0, comma = 0;
			uint32_t j = i + 1;
			for (; j < p.len && p.s[j] != '}'; j++) {
				char d = p.s[j];
				if (d == ',') {
					comma = 1;
				} else if (d >= '0' && d <= '9') {
					unsigned long *t = comma ? &m : &n;
					*t = *t * 10 + (unsigned long)(d - '0');
					have_m |= comma;
					if (*t > RE_MAX_REPEAT)
						return 1;
				} else {
					break;
				}
			}
			if (j >= p.len || p.s[j] != '}')
				return 1; /* unterminated or odd bound: not worth guessing */
			mult = (have_m ? (m > n ? m : n) : n) + 1;
			i = j;
		}
		if (mult) {
			if (prev_quant)
				return 1;
			prev_quant = 1;
			last[depth] = cost_mul(last[depth], mult);
			continue;
		}
		prev_quant = 0;
		size_t atom = 1;
		if (c == '\\') {
			i++;
		} else if (c == '[') {
			uint32_t j = i + 1;
			if (j < p.len && p.s[j] == '^')
				j++;
			if (j < p.len && p.s[j] == ']')
				j++;
			while (j < p.len && p.s[j] != ']') {
				if (p.s[j] == '[' && j + 1 < p.len &&
				    (p.s[j + 1] == ':' || p.s[j + 1] == '.' || p.s[j + 1] == '=')) {
					char close = p.s[j + 1];
					j += 2;
					while (j + 1 < p.len && !(p.s[j] == close && p.s[j + 1] == ']'))
						j++;
					j += 2;
					continue;
				}
				j++;
			}
			i = j;
		} else if (c == '(') {
			if (depth + 1 >= RE_MAX_NEST)
				return 1;
			depth++;
			done[depth] = last[depth] = 0;
			continue;
		} else if (c == ')' && depth > 0) {
			atom = done[depth] + last[depth];
			depth--;
		} else if (c == '|') {
			done[depth] += last[depth];
			last[depth] = 0;
			continue;
		}
		done[depth] += last[depth];
		last[depth] = atom;
		if (done[depth] > RE_MAX_COST)
			return 1;
	}
	size_t total = 0;
	for (int d = 0; d <= depth; d++)
		total += done[d] + last[d];
	return total > RE_MAX_COST;
}

static int compile_re(ims_arena_t *a, ims_str_t pattern, void **out)
{
	if (has_backref(pattern) || regex_too_costly(pattern))
		return IMS_EINVAL;
	regex_t *re = ims_arena_alloc(a, sizeof(*re));
	if (!re)
		return IMS_ENOMEM;
	/* pattern.s is NUL-terminated: it was copied into the arena. */
	int rc = regcomp(re, pattern.s, REG_EXTENDED | REG_NOSUB);
	if (rc == REG_ESPACE)
		return IMS_ENOMEM;
	if (rc)
		return IMS_EINVAL;
	*out = re;
	return 0;
}

typedef struct gpair {
	int group;
	uint16_t spt;
} gpair_t;

static int cmp_gpair(const void *a, const void *b)
{
	const gpair_t *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return (int)x->spt - (int)y->spt;
}

/* Resolves Group ids into a member table: group g holds the SPTs whose
 * Group list contains that id (an SPT may sit in several groups). */
static int compile_groups(ims_arena_t *a, scscf_trigger_t *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->n_spt; i++)
		n += t->spt[i].n_groups;
	gpair_t *pairs = ims_arena_alloc(a, (n ? n : 1) * sizeof(gpair_t));
	t->members = ims_arena_alloc(a, (n ? n : 1) * sizeof(uint16_t));
	t->group_start = ims_arena_alloc(a, (n + 1) * sizeof(uint32_t));
	if (!pairs || !t->members || !t->group_start)
		return IMS_ENOMEM;
	unsigned k = 0;
	for (unsigned i = 0; i < t->n_spt; i++)
		for (unsigned g = 0; g < t->spt[i].n_groups; g++)
			pairs[k++] = (gpair_t){ t->spt[i].groups[g], (uint16_t)i };
	qsort(pairs, n, sizeof(gpair_t), cmp_gpair);
	t->n_groups = 0;
	unsigned m = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i > 0 && pairs[i].group == pairs[i - 1].group && pairs[i].spt == pairs[i - 1].spt)
			continue; /* the same Group listed twice in one SPT */
		if (i == 0 || pairs[i].group != pairs[i - 1].group)
			t->group_start[t->n_groups++] = m;
		t->members[m++] = pairs[i].spt;
	}
	t->group_start[t->n_groups] = m;
	return 0;
}

static int compile_ifc(ims_arena_t *a, scscf_ifc_t *f)
{
	int rc;
	if (!f->has_trigger)
		return 0;
	for (unsigned i = 0; i < f->trigger.n_spt; i++) {
		scscf_spt_t *s = &f->trigger.spt[i];
		rc = 0;
		if (s->kind == SCSCF_SPT_REQUEST_URI)
			rc = compile_re(a, s->value, &s->re_value);
		if (!rc && s->has_content &&
		    (s->kind == SCSCF_SPT_SIP_HEADER || s->kind == SCSCF_SPT_SESSION_DESC))
			rc = compile_re(a, s->content, &s->re_content);
		if (s->kind == SCSCF_SPT_SIP_HEADER)
			s->hdr_id = (int)sip_hdr_id_from_name(s->value);
		if (rc == IMS_ENOMEM)
			return rc;
		if (rc) {
			LOG_WARN("scscf", "ifc.bad_regex server_name=%.*s priority=%d spt=%u",
				 IMS_STR_FMT(f->as.server_name), f->priority, i);
			f->invalid = 1;
		}
	}
	return compile_groups(a, &f->trigger);
}

static int view_match(const void *re, ims_str_t v);

/* TS 23.003 §13.5: "sip:chatroom-!.*!@example.com" - the part between
 * the '!' delimiters is a regular expression, the rest is literal. Builds
 * an anchored ERE with the literal parts escaped. */
static int compile_wildcard(ims_arena_t *a, scscf_impu_t *u)
{
	ims_str_t w = u->wildcarded_psi.len ? u->wildcarded_psi : u->identity;
	const char *b1 = memchr(w.s, '!', w.len);
	const char *b2 = b1 ? memchr(b1 + 1, '!', (size_t)(w.s + w.len - b1 - 1)) : NULL;
	if (!b2)
		return 0; /* no wildcard part: exact matching only */
	char *re = ims_arena_alloc(a, 2 * w.len + 8);
	if (!re)
		return IMS_ENOMEM;
	size_t n = 0;
	re[n++] = '^';
	for (const char *c = w.s; c < w.s + w.len; c++) {
		if (c == b1) {
			re[n++] = '(';
			memcpy(re + n, b1 + 1, (size_t)(b2 - b1 - 1));
			n += (size_t)(b2 - b1 - 1);
			re[n++] = ')';
			c = b2;
			continue;
		}
		if (strchr(".[]()*+?{}|^$\\", *c))
			re[n++] = '\\';
		re[n++] = *c;
	}
	re[n++] = '$';
	re[n] = 0;
	int rc = compile_re(a, ims_str_from(re, n), &u->re_wildcard);
	if (rc == IMS_EINVAL) {
		LOG_WARN("scscf", "ifc.bad_wildcard identity=%.*s", IMS_STR_FMT(u->identity));
		return 0;
	}
	return rc;
}

int scscf_ifc_wildcard_match(const scscf_impu_t *u, ims_str_t uri)
{
	return u->re_wildcard && view_match(u->re_wildcard, uri);
}

int scscf_ifc_compile(scscf_profile_t *p)
{
	if (p->compiled)
		return 0;
	for (unsigned i = 0; i < p->n_sps; i++) {
		scscf_service_profile_t *sp = &p->sps[i];
		for (unsigned k = 0; k < sp->n_impus; k++) {
			if (sp->impus[k].identity_type != SCSCF_ID_WILDCARDED_PSI)
				continue;
			int rc = compile_wildcard(p->arena, &sp->impus[k]);
			if (rc) {
				p->compiled = 1;
				scscf_ifc_release(p);
				return rc;
			}
		}
		for (unsigned k = 0; k < sp->n_ifcs; k++) {
			int rc = compile_ifc(p->arena, &sp->ifcs[k]);
			if (rc) {
				/* Free what compiled so far; the caller frees p. */
				p->compiled = 1;
				scscf_ifc_release(p);
				return rc;
			}
		}
	}
	p->compiled = 1;
	return 0;
}

void scscf_ifc_release(scscf_profile_t *p)
{
	if (!p || !p->compiled)
		return;
	for (unsigned i = 0; i < p->n_sps; i++) {
		scscf_service_profile_t *sp = &p->sps[i];
		for (unsigned k = 0; k < sp->n_impus; k++) {
			if (sp->impus[k].re_wildcard)
				regfree(sp->impus[k].re_wildcard);
			sp->impus[k].re_wildcard = NULL;
		}
		for (unsigned k = 0; k < sp->n_ifcs; k++) {
			scscf_trigger_t *t = &sp->ifcs[k].trigger;
			for (unsigned j = 0; j < t->n_spt; j++) {
				if (t->spt[j].re_value)
					regfree(t->spt[j].re_value);
				if (t->spt[j].re_content)
					regfree(t->spt[j].re_content);
				t->spt[j].re_value = t->spt[j].re_content = NULL;
			}
		}
	}
	p->compiled = 0;
}

/* ---- evaluate --------------------------------------------------------- */

/* regexec over a view: REG_STARTEND bounds the match to [0, len) so the
 * message is never NUL-terminated; without it, a stack copy is used. */
static int view_match(const void *re, ims_str_t v)
{
#ifdef REG_STARTEND
	static const char empty[1] = "";
	regmatch_t pm[1];
	pm[0].rm_so = 0;
	pm[0].rm_eo = (regoff_t)v.len;
	return regexec(re, v.len ? v.s : empty, 1, pm, REG_STARTEND) == 0;
#else
	char buf[2048];
	if (v.len >= sizeof(buf))
		return 0;
	ims_str_to_c(v, buf, sizeof(buf));
	return regexec(re, buf, 0, NULL, 0) == 0;
#endif
}

typedef int (*hdr_visit_fn)(const scscf_spt_t *s, ims_str_t value);

static int hdr_name_match(const scscf_spt_t *s, ims_str_t name)
{
	if (ims_str_caseeq(s->value, name))
		return 1;
	/* "Subject" in the iFC also matches a compact "s:" on the wire. */
	if (s->hdr_id == SIP_HDR_OTHER)
		return 0;
	return (int)sip_hdr_id_from_name(name) == s->hdr_id;
}

static int hdr_value_match(const scscf_spt_t *s, ims_str_t value)
{
	if (!s->has_content)
		return 1; /* TS 29.228 Annex B.2.2: Header alone tests presence */
	return s->re_content && view_match(s->re_content, value);
}

static int eval_header(const scscf_spt_t *s, const scscf_ifc_req_t *r)
{
	if (r->msg) {
		for (const sip_hdr_t *h = r->msg->hdrs; h; h = h->next) {
			if (h->flags & SIP_HDRF_DELETED)
				continue;
			if (hdr_name_match(s, h->name) && hdr_value_match(s, h->value))
				return 1;
		}
		return 0;
	}
	for (unsigned i = 0; i < r->n_hdrs; i++)
		if (hdr_name_match(s, r->hdrs[i].name) && hdr_value_match(s, r->hdrs[i].value))
			return 1;
	return 0;
}

static int body_is_sdp(const scscf_ifc_req_t *r)
{
	if (r->body.len == 0)
		return 0;
	ims_str_t ct = r->content_type;
	if (ct.len == 0)
		return r->body.len >= 2 && r->body.s[0] == 'v' && r->body.s[1] == '=';
	uint32_t n = 0;
	while (n < ct.len && ct.s[n] != ';')
		n++;
	ims_str_t type = ims_str_trim(ims_str_from(ct.s, n));
	/* A multipart body is scanned line by line as well: SDP lines are
	 * recognisable ("x=...") and other parts rarely carry them. */
	return ims_str_caseeq_c(type, "application/sdp") ||
	       (type.len > 10 && strncasecmp(type.s, "multipart/", 10) == 0);
}

/* TS 29.228 Annex B.2.2 SessionDescription: Line names the SDP line type,
 * Content is a regex over the rest of that line. */
static int eval_sdp(const scscf_spt_t *s, const scscf_ifc_req_t *r)
{
	if (!body_is_sdp(r))
		return 0;
	const char *p = r->body.s, *end = r->body.s + r->body.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		ims_str_t line = ims_str_from(p, (size_t)(le - p));
		if (line.len && line.s[line.len - 1] == '\r')
			line.len--;
		const char *eq = memchr(line.s, '=', line.len);
		if (eq) {
			ims_str_t type = ims_str_trim(ims_str_from(line.s, (size_t)(eq - line.s)));
			ims_str_t rest = ims_str_from(eq + 1, line.len - (uint32_t)(eq + 1 - line.s));
			if (ims_str_eq(type, s->value)) {
				if (!s->has_content)
					return 1;
				if (s->re_content && view_match(s->re_content, rest))
					return 1;
			}
		}
		p = eol ? eol + 1 : end;
	}
	return 0;
}

/* One SPT before ConditionNegated is applied. */
static int eval_spt_raw(const scscf_spt_t *s, const scscf_ifc_req_t *r, scscf_session_case_t sc)
{
	switch (s->kind) {
	case SCSCF_SPT_REQUEST_URI:
		return s->re_value && view_match(s->re_value, r->ruri);
	case SCSCF_SPT_METHOD:
		/* RFC 3261 §7.1: method names are case-sensitive. */
		if (!ims_str_eq(s->value, r->method))
			return 0;
		/* TS 29.228 tSePoTriExtension: RegistrationType narrows a
		 * REGISTER trigger; an unknown registration type is not
		 * filtered out. */
		if (s->reg_type_mask && r->reg_type && ims_str_eq_c(r->method, "REGISTER"))
			return (s->reg_type_mask & r->reg_type) != 0;
		return 1;
	case SCSCF_SPT_SIP_HEADER:
		return eval_header(s, r);
	case SCSCF_SPT_SESSION_CASE:
		return s->session_case == sc;
	case SCSCF_SPT_SESSION_DESC:
		return eval_sdp(s, r);
	}
	return 0;
}

static int spt_result(const scscf_trigger_t *t, unsigned i, const scscf_ifc_req_t *r,
		      scscf_session_case_t sc, int8_t *cache)
{
	if (cache[i] < 0) {
		int v = eval_spt_raw(&t->spt[i], r, sc);
		cache[i] = (int8_t)(t->spt[i].negated ? !v : v);
	}
	return cache[i];
}

int scscf_ifc_match(const scscf_ifc_t *f, const scscf_ifc_req_t *req,
		    scscf_session_case_t sc, int registered)
{
	if (f->invalid)
		return 0;
	/* TS 29.228 Annex B.2.2 ProfilePartIndicator: an iFC of the registered
	 * part applies only while the served user is registered, and the
	 * unregistered part only while it is not. */
	if (f->ppi == SCSCF_PPI_REGISTERED && !registered)
		return 0;
	if (f->ppi == SCSCF_PPI_UNREGISTERED && registered)
		return 0;
	if (!f->has_trigger)
		return 1;
	const scscf_trigger_t *t = &f->trigger;
	if (t->n_groups == 0 || !t->group_start)
		return 0; /* not compiled */
	int8_t cache[SCSCF_IFC_MAX_SPT];
	memset(cache, -1, sizeof(cache));
	/* Annex C: CNF = AND of groups, each an OR of its SPTs;
	 *          DNF = OR of groups, each an AND of its SPTs. */
	for (unsigned g = 0; g < t->n_groups; g++) {
		int inner = t->cnf ? 0 : 1;
		for (uint32_t m = t->group_start[g]; m < t->group_start[g + 1]; m++) {
			int v = spt_result(t, t->members[m], req, sc, cache);
			if (t->cnf && v) {
				inner = 1;
				break;
			}
			if (!t->cnf && !v) {
				inner = 0;
				break;
			}
		}
		if (t->cnf && !inner)
			return 0;
		if (!t->cnf && inner)
			return 1;
	}
	return t->cnf ? 1 : 0;
}

int scscf_ifc_next(const scscf_service_profile_t *sp, unsigned start,
		   const scscf_ifc_req_t *req, scscf_session_case_t sc, int registered)
{
	if (!sp)
		return -1;
	for (unsigned i = start; i < sp->n_ifcs; i++)
		if (scscf_ifc_match(&sp->ifcs[i], req, sc, registered))
			return (int)i;
	return -1;
}

void scscf_ifc_req_from_msg(const sip_msg_t *m, scscf_ifc_req_t *out)
{
	memset(out, 0, sizeof(*out));
	out->method = m->method;
	out->ruri = m->ruri;
	out->msg = m;
	out->body = m->body;
	for (const sip_hdr_t *h = m->hdrs; h; h = h->next) {
		if (h->flags & SIP_HDRF_DELETED)
			continue;
		if (h->id == SIP_HDR_CONTENT_TYPE || ims_str_caseeq_c(h->name, "Content-Type") ||
		    ims_str_caseeq_c(h->name, "c")) {
			out->content_type = h->value;
			break;
		}
	}
}
