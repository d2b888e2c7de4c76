/* User-Data (TS 29.228 Annex B, Annex E CxDataType_Rel7.xsd) -> profile.
 *
 * The document is walked by local element names, so a default namespace
 * or a prefix on the elements does not matter. Every value is copied into
 * the profile arena (trimmed, NUL-terminated) and the libxml2 tree is freed
 * before returning: the profile owns nothing of libxml2.
 */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/ims_err.h"
#include "ifc-eval.h"
#include "sip/msg/sip_msg.h"

typedef struct pctx {
	scscf_profile_t *p;
	scscf_profile_err_t *err;
	char where[64];
} pctx_t;

static int fail(pctx_t *c, int code, const char *reason)
{
	if (c->err) {
		snprintf(c->err->where, sizeof(c->err->where), "%s", c->where);
		snprintf(c->err->reason, sizeof(c->err->reason), "%s", reason);
	}
	return code;
}

static void set_where(pctx_t *c, const char *fmt, unsigned a, unsigned b, unsigned d)
{
	snprintf(c->where, sizeof(c->where), fmt, a, b, d);
}

static int is_elem(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *first_child(const xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

static unsigned count_children(const xmlNode *parent, const char *name)
{
	unsigned k = 0;
	for (xmlNode *n = parent->children; n; n = n->next)
		if (is_elem(n, name))
			k++;
	return k;
}

/* Copies the trimmed text content of `n` into the arena. */
static int text_of(pctx_t *c, const xmlNode *n, ims_str_t *out)
{
	xmlChar *t = xmlNodeGetContent(n);
	if (!t)
		return fail(c, IMS_ENOMEM, "out of memory");
	ims_str_t v = ims_str_trim(ims_str_cstr((const char *)t));
	int rc = ims_arena_strdup(c->p->arena, v, out);
	xmlFree(t);
	if (rc)
		return fail(c, IMS_ENOMEM, "out of memory");
	return 0;
}

/* Reads an integer element in [min, max]. */
static int int_of(pctx_t *c, const xmlNode *n, long min, long max, int *out)
{
	ims_str_t v;
	int rc = text_of(c, n, &v);
	if (rc)
		return rc;
	uint64_t u;
	if (ims_str_to_u64(v, (uint64_t)max, &u) || (long)u < min)
		return fail(c, IMS_EPARSE, "bad integer");
	*out = (int)u;
	return 0;
}

/* xs:boolean: "true", "false", "1", "0". */
static int bool_of(pctx_t *c, const xmlNode *n, uint8_t *out)
{
	ims_str_t v;
	int rc = text_of(c, n, &v);
	if (rc)
		return rc;
	if (ims_str_eq_c(v, "1") || ims_str_eq_c(v, "true"))
		*out = 1;
	else if (ims_str_eq_c(v, "0") || ims_str_eq_c(v, "false"))
		*out = 0;
	else
		return fail(c, IMS_EPARSE, "bad boolean");
	return 0;
}

static int parse_public_identity(pctx_t *c, const xmlNode *pi, scscf_impu_t *u)
{
	int rc;
	u->identity_type = SCSCF_ID_PUBLIC_USER;
	xmlNode *id = first_child(pi, "Identity");
	if (!id)
		return fail(c, IMS_EPARSE, "PublicIdentity without Identity");
	if ((rc = text_of(c, id, &u->identity)))
		return rc;
	if (u->identity.len == 0)
		return fail(c, IMS_EPARSE, "empty Identity");
	xmlNode *b = first_child(pi, "BarringIndication");
	if (b && (rc = bool_of(c, b, &u->barred)))
		return rc;
	xmlNode *ext = first_child(pi, "Extension");
	if (ext) {
		xmlNode *t = first_child(ext, "IdentityType");
		if (t) {
			int v;
			if ((rc = int_of(c, t, 0, 2, &v)))
				return rc;
			u->identity_type = (scscf_identity_type_t)v;
		}
		xmlNode *w = first_child(ext, "WildcardedPSI");
		if (w && (rc = text_of(c, w, &u->wildcarded_psi)))
			return rc;
		/* Rel-8 puts DisplayName in the nested Extension. */
		xmlNode *e2 = first_child(ext, "Extension");
		xmlNode *d = first_child(ext, "DisplayName");
		if (!d && e2)
			d = first_child(e2, "DisplayName");
		if (d && (rc = text_of(c, d, &u->display_name)))
			return rc;
	}
	return 0;
}

static int parse_spt(pctx_t *c, const xmlNode *x, scscf_spt_t *s)
{
	int rc;
	xmlNode *neg = first_child(x, "ConditionNegated");
	if (neg && (rc = bool_of(c, neg, &s->negated)))
		return rc;

	unsigned ng = count_children(x, "Group");
	if (ng == 0)
		return fail(c, IMS_EPARSE, "SPT without Group");
	if (ng > SCSCF_IFC_MAX_GROUPS_PER_SPT)
		return fail(c, IMS_ETOOBIG, "too many Group values");
	s->groups = ims_arena_alloc(c->p->arena, ng * sizeof(int));
	if (!s->groups)
		return fail(c, IMS_ENOMEM, "out of memory");
	for (xmlNode *n = x->children; n; n = n->next) {
		if (!is_elem(n, "Group"))
			continue;
		if ((rc = int_of(c, n, 0, 0x7fffffff, &s->groups[s->n_groups])))
			return rc;
		s->n_groups++;
	}

	/* Exactly one of the tSePoTri choice elements. */
	xmlNode *n;
	int kinds = 0;
	if ((n = first_child(x, "RequestURI"))) {
		kinds++;
		s->kind = SCSCF_SPT_REQUEST_URI;
		if ((rc = text_of(c, n, &s->value)))
			return rc;
	}
	if ((n = first_child(x, "Method"))) {
		kinds++;
		s->kind = SCSCF_SPT_METHOD;
		if ((rc = text_of(c, n, &s->value)))
			return rc;
		if (s->value.len == 0)
			return fail(c, IMS_EPARSE, "empty Method");
	}
	if ((n = first_child(x, "SIPHeader"))) {
		kinds++;
		s->kind = SCSCF_SPT_SIP_HEADER;
		xmlNode *h = first_child(n, "Header");
		if (!h)
			return fail(c, IMS_EPARSE, "SIPHeader without Header");
		if ((rc = text_of(c, h, &s->value)))
			return rc;
		if (s->value.len == 0)
			return fail(c, IMS_EPARSE, "empty Header");
		xmlNode *ct = first_child(n, "Content");
		if (ct) {
			s->has_content = 1;
			if ((rc = text_of(c, ct, &s->content)))
				return rc;
		}
	}
	if ((n = first_child(x, "SessionCase"))) {
		kinds++;
		s->kind = SCSCF_SPT_SESSION_CASE;
		int v;
		if ((rc = int_of(c, n, 0, SCSCF_SC__COUNT - 1, &v)))
			return rc;
		s->session_case = (scscf_session_case_t)v;
	}
	if ((n = first_child(x, "SessionDescription"))) {
		kinds++;
		s->kind = SCSCF_SPT_SESSION_DESC;
		xmlNode *l = first_child(n, "Line");
		if (!l)
			return fail(c, IMS_EPARSE, "SessionDescription without Line");
		if ((rc = text_of(c, l, &s->value)))
			return rc;
		if (s->value.len == 0)
			return fail(c, IMS_EPARSE, "empty Line");
		xmlNode *ct = first_child(n, "Content");
		if (ct) {
			s->has_content = 1;
			if ((rc = text_of(c, ct, &s->content)))
				return rc;
		}
	}
	if (kinds != 1)
		return fail(c, IMS_EPARSE, "SPT needs exactly one condition");

	/* TS 29.228 tSePoTriExtension: RegistrationType narrows a REGISTER
	 * method trigger to initial / re- / de-registrations. */
	xmlNode *ext = first_child(x, "Extension");
	if (ext) {
		for (xmlNode *r = ext->children; r; r = r->next) {
			if (!is_elem(r, "RegistrationType"))
				continue;
			int v;
			if ((rc = int_of(c, r, 0, 2, &v)))
				return rc;
			s->reg_type_mask |= (uint8_t)(1u << v);
		}
	}
	return 0;
}

/* ApplicationServer Extension (Rel-9 tApplicationServerExtension):
 * presence of the empty elements IncludeRegisterRequest/Response. Some
 * HSSs put them directly under ApplicationServer; accept both. */
static void parse_as_flags(const xmlNode *holder, scscf_as_t *as)
{
	if (!holder)
		return;
	if (first_child(holder, "IncludeRegisterRequest"))
		as->include_register_request = 1;
	if (first_child(holder, "IncludeRegisterResponse"))
		as->include_register_response = 1;
}

static int parse_ifc(pctx_t *c, const xmlNode *x, scscf_ifc_t *f)
{
	int rc;
	xmlNode *pr = first_child(x, "Priority");
	if (!pr)
		return fail(c, IMS_EPARSE, "InitialFilterCriteria without Priority");
	if ((rc = int_of(c, pr, 0, 0x7fffffff, &f->priority)))
		return rc;

	f->ppi = SCSCF_PPI_NONE;
	xmlNode *ppi = first_child(x, "ProfilePartIndicator");
	if (ppi) {
		int v;
		if ((rc = int_of(c, ppi, 0, 1, &v)))
			return rc;
		f->ppi = (scscf_ppi_t)v;
	}

	xmlNode *as = first_child(x, "ApplicationServer");
	if (!as)
		return fail(c, IMS_EPARSE, "InitialFilterCriteria without ApplicationServer");
	xmlNode *sn = first_child(as, "ServerName");
	if (!sn)
		return fail(c, IMS_EPARSE, "ApplicationServer without ServerName");
	if ((rc = text_of(c, sn, &f->as.server_name)))
		return rc;
	if (f->as.server_name.len == 0)
		return fail(c, IMS_EPARSE, "empty ServerName");
	xmlNode *dh = first_child(as, "DefaultHandling");
	if (dh) {
		int v;
		if ((rc = int_of(c, dh, 0, 1, &v)))
			return rc;
		f->as.default_handling = (scscf_default_handling_t)v;
	}
	xmlNode *si = first_child(as, "ServiceInfo");
	if (si) {
		if ((rc = text_of(c, si, &f->as.service_info)))
			return rc;
		f->as.has_service_info = f->as.service_info.len > 0;
	}
	parse_as_flags(as, &f->as);
	parse_as_flags(first_child(as, "Extension"), &f->as);

	xmlNode *tp = first_child(x, "TriggerPoint");
	if (!tp)
		return 0; /* TS 29.228 Annex B.2.2: no TriggerPoint = unconditional */
	f->has_trigger = 1;
	xmlNode *cnf = first_child(tp, "ConditionTypeCNF");
	if (!cnf)
		return fail(c, IMS_EPARSE, "TriggerPoint without ConditionTypeCNF");
	if ((rc = bool_of(c, cnf, &f->trigger.cnf)))
		return rc;
	unsigned n = count_children(tp, "SPT");
	if (n > SCSCF_IFC_MAX_SPT)
		return fail(c, IMS_ETOOBIG, "too many SPT");
	if (n == 0) {
		/* The schema wants at least one SPT; an empty trigger point is
		 * what some HSSs send for "always", which is how we read it. */
		f->has_trigger = 0;
		return 0;
	}
	f->trigger.spt = ims_arena_zalloc(c->p->arena, n * sizeof(scscf_spt_t));
	if (!f->trigger.spt)
		return fail(c, IMS_ENOMEM, "out of memory");
	size_t base = strlen(c->where);
	for (xmlNode *s = tp->children; s; s = s->next) {
		if (!is_elem(s, "SPT"))
			continue;
		if (base < sizeof(c->where))
			snprintf(c->where + base, sizeof(c->where) - base, "/SPT[%u]", f->trigger.n_spt);
		if ((rc = parse_spt(c, s, &f->trigger.spt[f->trigger.n_spt])))
			return rc;
		f->trigger.n_spt++;
	}
	return 0;
}

/* Stable insertion sort by Priority (n <= SCSCF_PROFILE_MAX_IFC): equal
 * priorities keep their document order. */
static void sort_ifcs(scscf_ifc_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		scscf_ifc_t x = v[i];
		unsigned j = i;
		while (j > 0 && v[j - 1].priority > x.priority) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static int parse_service_profile(pctx_t *c, const xmlNode *x, unsigned spi,
				 scscf_service_profile_t *sp)
{
	int rc;
	sp->media_profile_id = -1;
	unsigned ni = count_children(x, "PublicIdentity");
	unsigned nf = count_children(x, "InitialFilterCriteria");
	set_where(c, "ServiceProfile[%u]", spi, 0, 0);
	if (ni == 0)
		return fail(c, IMS_EPARSE, "ServiceProfile without PublicIdentity");
	if (ni > SCSCF_PROFILE_MAX_IMPU || nf > SCSCF_PROFILE_MAX_IFC)
		return fail(c, IMS_ETOOBIG, "too many identities or iFCs");
	sp->impus = ims_arena_zalloc(c->p->arena, ni * sizeof(scscf_impu_t));
	sp->ifcs = nf ? ims_arena_zalloc(c->p->arena, nf * sizeof(scscf_ifc_t)) : NULL;
	if (!sp->impus || (nf && !sp->ifcs))
		return fail(c, IMS_ENOMEM, "out of memory");

	for (xmlNode *n = x->children; n; n = n->next) {
		if (is_elem(n, "PublicIdentity")) {
			set_where(c, "ServiceProfile[%u]/PublicIdentity[%u]", spi, sp->n_impus, 0);
			if ((rc = parse_public_identity(c, n, &sp->impus[sp->n_impus])))
				return rc;
			sp->n_impus++;
		} else if (is_elem(n, "InitialFilterCriteria")) {
			set_where(c, "ServiceProfile[%u]/InitialFilterCriteria[%u]", spi, sp->n_ifcs, 0);
			if ((rc = parse_ifc(c, n, &sp->ifcs[sp->n_ifcs])))
				return rc;
			sp->n_ifcs++;
		} else if (is_elem(n, "CoreNetworkServicesAuthorization")) {
			xmlNode *m = first_child(n, "SubscribedMediaProfileId");
			set_where(c, "ServiceProfile[%u]/CoreNetworkServicesAuthorization", spi, 0, 0);
			if (m && (rc = int_of(c, m, 0, 0x7fffffff, &sp->media_profile_id)))
				return rc;
		}
	}
	/* TS 29.228 Annex B.2.2: lower Priority value = evaluated first. */
	sort_ifcs(sp->ifcs, sp->n_ifcs);
	return 0;
}

static void xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int scscf_profile_parse(const char *xml, size_t len, scscf_profile_t **out,
			scscf_profile_err_t *err)
{
	int rc = 0;
	xmlDoc *doc = NULL;
	pctx_t c = { 0 };
	*out = NULL;
	if (err) {
		err->where[0] = 0;
		err->reason[0] = 0;
	}
	c.err = err;
	if (!xml || len == 0)
		return fail(&c, IMS_EPARSE, "empty document");
	if (len > SCSCF_PROFILE_MAX_XML)
		return fail(&c, IMS_ETOOBIG, "document too large");

	c.p = calloc(1, sizeof(*c.p));
	if (!c.p)
		return fail(&c, IMS_ENOMEM, "out of memory");
	/* One arena per registered profile, so its size is memory per contact:
	 * the parsed form takes 60-90 % of the XML's length (a 360-byte
	 * profile without iFCs needs 320 bytes), a 4 KiB arena wasted ~3.7 KiB
	 * on most; a larger profile grows it by doubling. */
	c.p->arena = ims_arena_create(len < 4096 ? len : 4096);
	if (!c.p->arena) {
		rc = fail(&c, IMS_ENOMEM, "out of memory");
		goto out;
	}

	xmlSetGenericErrorFunc(NULL, xml_silent);
	/* No network, no entity substitution, no DTD loading: the document
	 * comes from a Diameter peer. */
	doc = xmlReadMemory(xml, (int)len, "user-data.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		rc = fail(&c, IMS_EPARSE, "not well-formed XML");
		goto out;
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!is_elem(root, "IMSSubscription")) {
		rc = fail(&c, IMS_EPARSE, "root is not IMSSubscription");
		goto out;
	}
	snprintf(c.where, sizeof(c.where), "PrivateID");
	xmlNode *pid = first_child(root, "PrivateID");
	if (!pid) {
		rc = fail(&c, IMS_EPARSE, "missing PrivateID");
		goto out;
	}
	if ((rc = text_of(&c, pid, &c.p->private_id)))
		goto out;
	if (c.p->private_id.len == 0) {
		rc = fail(&c, IMS_EPARSE, "empty PrivateID");
		goto out;
	}

	unsigned nsp = count_children(root, "ServiceProfile");
	snprintf(c.where, sizeof(c.where), "IMSSubscription");
	if (nsp == 0) {
		rc = fail(&c, IMS_EPARSE, "missing ServiceProfile");
		goto out;
	}
	if (nsp > SCSCF_PROFILE_MAX_SP) {
		rc = fail(&c, IMS_ETOOBIG, "too many ServiceProfile");
		goto out;
	}
	c.p->sps = ims_arena_zalloc(c.p->arena, nsp * sizeof(scscf_service_profile_t));
	if (!c.p->sps) {
		rc = fail(&c, IMS_ENOMEM, "out of memory");
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next) {
		if (!is_elem(n, "ServiceProfile"))
			continue;
		if ((rc = parse_service_profile(&c, n, c.p->n_sps, &c.p->sps[c.p->n_sps])))
			goto out;
		c.p->n_sps++;
	}
	/* Our HSS's forking policy (hunt-plan.h); readers of other HSSs never
	 * see it and keep parallel forking. */
	xmlNode *ext = first_child(root, "Extension");
	xmlNode *hp = ext ? first_child(ext, "HuntingPolicy") : NULL;
	if (hp) {
		xmlChar *t = xmlNodeGetContent(hp);
		if (!t) {
			rc = fail(&c, IMS_ENOMEM, "out of memory");
			goto out;
		}
		c.p->hunt_sequential = ims_str_caseeq(ims_str_trim(ims_str_cstr((const char *)t)),
						      IMS_STR("sequential"));
		xmlFree(t);
	}
out:
	if (doc)
		xmlFreeDoc(doc);
	if (rc) {
		scscf_profile_free(c.p);
		return rc;
	}
	*out = c.p;
	return 0;
}

int scscf_profile_load(const char *xml, size_t len, scscf_profile_t **out,
		       scscf_profile_err_t *err)
{
	scscf_profile_t *p = NULL;
	*out = NULL;
	int rc = scscf_profile_parse(xml, len, &p, err);
	if (rc)
		return rc;
	rc = scscf_ifc_compile(p);
	if (rc) {
		if (err) {
			snprintf(err->where, sizeof(err->where), "InitialFilterCriteria");
			snprintf(err->reason, sizeof(err->reason), "compile: %s", ims_strerror(rc));
		}
		scscf_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void scscf_profile_free(scscf_profile_t *p)
{
	if (!p)
		return;
	scscf_ifc_release(p);
	ims_arena_destroy(p->arena);
	free(p);
}

/* tel: numbers compare without visual separators (RFC 3966 §5.1.1). */
static int tel_equal(ims_str_t a, ims_str_t b)
{
	if (a.len < 4 || b.len < 4 || strncasecmp(a.s, "tel:", 4) || strncasecmp(b.s, "tel:", 4))
		return 0;
	uint32_t i = 4, j = 4;
	for (;;) {
		while (i < a.len && (a.s[i] == '-' || a.s[i] == '.' || a.s[i] == '(' || a.s[i] == ')'))
			i++;
		while (j < b.len && (b.s[j] == '-' || b.s[j] == '.' || b.s[j] == '(' || b.s[j] == ')'))
			j++;
		int ea = i >= a.len || a.s[i] == ';', eb = j >= b.len || b.s[j] == ';';
		if (ea || eb)
			return ea && eb;
		if (a.s[i] != b.s[j])
			return 0;
		i++;
		j++;
	}
}

static int uri_equal(ims_str_t a, ims_str_t b)
{
	if (tel_equal(a, b))
		return 1;
	sip_uri_t ua, ub;
	if (sip_uri_parse(a, NULL, &ua) || sip_uri_parse(b, NULL, &ub))
		return 0;
	return sip_uri_equal(&ua, &ub);
}

int scscf_profile_find_impu(const scscf_profile_t *p, ims_str_t uri,
			    const scscf_service_profile_t **sp, const scscf_impu_t **impu)
{
	if (!p)
		return 0;
	for (int pass = 0; pass < 3; pass++) {
		for (unsigned i = 0; i < p->n_sps; i++) {
			const scscf_service_profile_t *s = &p->sps[i];
			for (unsigned k = 0; k < s->n_impus; k++) {
				ims_str_t id = s->impus[k].identity;
				int hit = pass == 0   ? ims_str_eq(id, uri)
					  : pass == 1 ? uri_equal(id, uri)
						      : scscf_ifc_wildcard_match(&s->impus[k], uri);
				if (!hit)
					continue;
				if (sp)
					*sp = s;
				if (impu)
					*impu = &s->impus[k];
				return 1;
			}
		}
	}
	return 0;
}

const char *scscf_session_case_name(scscf_session_case_t sc)
{
	static const char *const names[SCSCF_SC__COUNT] = {
		"ORIGINATING", "TERMINATING_REGISTERED", "TERMINATING_UNREGISTERED",
		"ORIGINATING_UNREGISTERED", "ORIGINATING_CDIV",
	};
	if ((int)sc < 0 || sc >= SCSCF_SC__COUNT)
		return NULL;
	return names[sc];
}
