/* Third-party REGISTER (TS 24.229 §5.4.1.7). See isc-register.h. */
#include "isc-register.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "ifc-eval.h"
#include "log/ims_log.h"
#include "reg-store.h"
#include "session-rules.h"
#include "session.h"
#include "sip/proxy/sip_proxy.h"

static int is_sip(ims_str_t v)
{
	return (v.len > 4 && strncasecmp(v.s, "sip:", 4) == 0) ||
	       (v.len > 5 && strncasecmp(v.s, "sips:", 5) == 0);
}

/* Renders a message for a message/sip body part. */
static int msg_text(ims_arena_t *a, const sip_msg_t *m, ims_str_t *out)
{
	return sip_msg_print_arena(m, a, out);
}

int scscf_isc_build_register(ims_arena_t *a, ims_str_t own_uri, ims_str_t served_impu,
			     const scscf_as_t *as, const sip_msg_t *req, const sip_msg_t *rsp,
			     uint32_t expires, ims_str_t call_id, ims_str_t tag, sip_msg_t **out)
{
	int rc;
	ims_str_t ruri = ims_str_trim(as->server_name);
	if (ruri.len >= 2 && ruri.s[0] == '<' && ruri.s[ruri.len - 1] == '>')
		ruri = ims_str_from(ruri.s + 1, ruri.len - 2);
	if (!is_sip(ruri))
		return IMS_EINVAL;
	sip_msg_t *m = NULL;
	if ((rc = sip_msg_new_request(a, IMS_STR("REGISTER"), ruri, &m)))
		return rc;
	/* TS 24.229 §5.4.1.7: To = the served public identity, From and
	 * Contact = the S-CSCF, Expires = the registration's expiry. */
	if (!sip_msg_hdr_addf(m, SIP_HDR_FROM, SIP_POS_BOTTOM, "<%.*s>;tag=%.*s", IMS_STR_FMT(own_uri),
			      IMS_STR_FMT(tag)) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_TO, SIP_POS_BOTTOM, "<%.*s>", IMS_STR_FMT(served_impu)) ||
	    !sip_msg_hdr_add(m, SIP_HDR_CALL_ID, IMS_STR_NULL, call_id, SIP_POS_BOTTOM) ||
	    !sip_msg_hdr_add(m, SIP_HDR_CSEQ, IMS_STR_NULL, IMS_STR("1 REGISTER"), SIP_POS_BOTTOM) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_CONTACT, SIP_POS_BOTTOM, "<%.*s>", IMS_STR_FMT(own_uri)) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_EXPIRES, SIP_POS_BOTTOM, "%u", expires))
		return IMS_ENOMEM;

	/* The body parts the iFC asks for (TS 24.229 §5.4.1.7 a-c). */
	ims_str_t parts[3], types[3];
	size_t n = 0;
	if (as->include_register_request && req) {
		if ((rc = msg_text(a, req, &parts[n])))
			return rc;
		types[n++] = IMS_STR("message/sip");
	}
	if (as->include_register_response && rsp) {
		if ((rc = msg_text(a, rsp, &parts[n])))
			return rc;
		types[n++] = IMS_STR("message/sip");
	}
	if (as->has_service_info) {
		if ((rc = scscf_session_service_info_xml(a, as->service_info, &parts[n])))
			return rc;
		types[n++] = IMS_STR("application/3gpp-ims+xml");
	}
	if (n == 0) {
		*out = m;
		return 0;
	}
	if (n == 1) {
		if ((rc = sip_msg_set_body(m, types[0], parts[0])))
			return rc;
		*out = m;
		return 0;
	}
	/* RFC 2046 §5.1: several parts, a boundary none of them contains. */
	char boundary[40];
	for (unsigned k = 0;; k++) {
		snprintf(boundary, sizeof(boundary), "ims-isc-boundary-%u", k);
		int clash = 0;
		for (size_t i = 0; i < n; i++)
			clash |= memmem(parts[i].s, parts[i].len, boundary, strlen(boundary)) != NULL;
		if (!clash)
			break;
	}
	size_t cap = 64;
	for (size_t i = 0; i < n; i++)
		cap += parts[i].len + types[i].len + 2 * sizeof(boundary) + 32;
	char *buf = ims_arena_alloc(a, cap);
	if (!buf)
		return IMS_ENOMEM;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "--%s\r\nContent-Type: %.*s\r\n\r\n%.*s\r\n",
					boundary, IMS_STR_FMT(types[i]), IMS_STR_FMT(parts[i]));
	len += (size_t)snprintf(buf + len, cap - len, "--%s--\r\n", boundary);
	ims_str_t ct = ims_arena_printf(a, "multipart/mixed;boundary=%s", boundary);
	if (!ct.s)
		return IMS_ENOMEM;
	if ((rc = sip_msg_set_body(m, ct, ims_str_from(buf, len))))
		return rc;
	*out = m;
	return 0;
}

uint32_t scscf_isc_register_expires(const sip_msg_t *rsp, uint32_t def)
{
	int64_t best = -1;
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (sip_msg_next_value(rsp, SIP_HDR_CONTACT, &it, &v) == 1) {
		sip_nameaddr_t na;
		uint64_t e;
		if (sip_nameaddr_parse(v, NULL, &na) == 0 && na.expires.len &&
		    ims_str_to_u64(na.expires, UINT32_MAX, &e) == 0 && (int64_t)e > best)
			best = (int64_t)e;
	}
	if (best < 0 && rsp->expires >= 0)
		best = rsp->expires;
	return best < 0 ? def : (uint32_t)best;
}

typedef struct isc_ud {
	scscf_default_handling_t dh;
	char as[256];
	char impu[256];
} isc_ud_t;

static void on_third_party_answer(void *ud, int code, sip_msg_t *rsp)
{
	isc_ud_t *u = ud;
	(void)rsp;
	if (code >= 200 && code < 300) {
		LOG_INFO("scscf", "isc.register_ok as=%s impu=%s code=%d", u->as, u->impu, code);
	} else if (u->dh == SCSCF_DH_SESSION_TERMINATED) {
		/* TS 24.229 §5.4.1.7: SESSION_TERMINATED asks for a network-
		 * initiated de-registration of the served user. */
		LOG_WARN("scscf", "isc.register_failed as=%s impu=%s code=%d default_handling=SESSION_TERMINATED",
			 u->as, u->impu, code);
	} else {
		LOG_NOTICE("scscf", "isc.register_failed as=%s impu=%s code=%d default_handling=SESSION_CONTINUED",
			   u->as, u->impu, code);
	}
	free(u);
}

/* Evaluates the iFCs of the service profile holding impu against the
 * REGISTER view rv and sends one third-party REGISTER per match. req and
 * rsp (may be NULL) are only for the message/sip body parts. Returns how
 * many were sent, or a negative IMS_E*. */
static int send_third_party(scscf_ctx_t *ctx, int worker, const scscf_profile_t *profile,
			    ims_str_t impu, const scscf_ifc_req_t *rv, const sip_msg_t *req,
			    const sip_msg_t *rsp, uint32_t expires)
{
	const scscf_service_profile_t *sp = NULL;
	if (!scscf_profile_find_impu(profile, impu, &sp, NULL))
		return 0; /* not in the profile: no services */
	ims_arena_t *a = ims_arena_create(4096);
	if (!a)
		return IMS_ENOMEM;
	int rc = 0, sent = 0;
	ims_str_t own = ims_str_cstr(ctx->cfg.own_uri);
	for (int i = 0; (i = scscf_ifc_next(sp, (unsigned)i, rv, SCSCF_SC_ORIGINATING, 1)) >= 0; i++) {
		const scscf_ifc_t *f = &sp->ifcs[i];
		ims_str_t call_id = sip_proxy_random_token(ctx->proxy, a, 12);
		ims_str_t tag = sip_proxy_random_token(ctx->proxy, a, 6);
		sip_msg_t *m = NULL;
		if (!call_id.s || !tag.s) {
			rc = IMS_ENOMEM;
			break;
		}
		int r = scscf_isc_build_register(a, own, impu, &f->as, req, rsp, expires, call_id,
						 tag, &m);
		if (r) {
			LOG_WARN("scscf", "isc.register_build_failed as=%.*s err=%s",
				 IMS_STR_FMT(f->as.server_name), ims_strerror(r));
			continue;
		}
		isc_ud_t *u = calloc(1, sizeof(*u));
		if (!u) {
			rc = IMS_ENOMEM;
			break;
		}
		u->dh = f->as.default_handling;
		ims_str_to_c(f->as.server_name, u->as, sizeof(u->as));
		ims_str_to_c(impu, u->impu, sizeof(u->impu));
		r = sip_proxy_uac_send(ctx->proxy, worker, m, NULL, on_third_party_answer, u);
		if (r) {
			free(u);
			LOG_WARN("scscf", "isc.register_send_failed as=%.*s err=%s",
				 IMS_STR_FMT(f->as.server_name), ims_strerror(r));
			continue;
		}
		LOG_INFO("scscf", "isc.register as=%.*s impu=%.*s expires=%u priority=%d reg_type=%s",
			 IMS_STR_FMT(f->as.server_name), IMS_STR_FMT(impu), expires, f->priority,
			 scscf_isc_reg_type_name(rv->reg_type));
		sent++;
	}
	ims_arena_destroy(a);
	return rc ? rc : sent;
}

const char *scscf_isc_reg_type_name(int reg_type)
{
	switch (reg_type) {
	case SCSCF_REGTYPE_INITIAL:
		return "INITIAL_REGISTRATION";
	case SCSCF_REGTYPE_RE:
		return "RE-REGISTRATION";
	case SCSCF_REGTYPE_DE:
		return "DE-REGISTRATION";
	default:
		return "unknown";
	}
}

int scscf_isc_third_party_register(scscf_ctx_t *ctx, int worker, const scscf_profile_t *profile,
				   const sip_msg_t *register_req, const sip_msg_t *response,
				   int reg_type)
{
	if (!ctx || !ctx->proxy || !profile || !register_req || !response)
		return IMS_EINVAL;
	ims_arena_t *a = ims_arena_create(1024);
	if (!a)
		return IMS_ENOMEM;
	int rc;
	ims_str_t impu;
	const sip_hdr_t *to = sip_msg_hdr(register_req, SIP_HDR_TO);
	sip_nameaddr_t na;
	if (!to || sip_nameaddr_parse(to->value, NULL, &na) || sip_uri_aor(&na.uri, a, &impu)) {
		rc = IMS_EPARSE;
	} else {
		uint32_t expires = reg_type == SCSCF_REGTYPE_DE
					   ? 0
					   : scscf_isc_register_expires(response, 0);
		scscf_ifc_req_t rv;
		scscf_ifc_req_from_msg(register_req, &rv);
		rv.reg_type = reg_type;
		rc = send_third_party(ctx, worker, profile, impu, &rv, register_req, response,
				      expires);
	}
	ims_arena_destroy(a);
	return rc;
}

/* Does the 2xx still bind any contact (expires > 0)? */
static int has_live_contact(const sip_msg_t *rsp)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	while (sip_msg_next_value(rsp, SIP_HDR_CONTACT, &it, &v) == 1) {
		sip_nameaddr_t na;
		uint64_t e;
		if (sip_nameaddr_parse(v, NULL, &na) != 0)
			continue;
		if (!na.expires.len || (ims_str_to_u64(na.expires, UINT32_MAX, &e) == 0 && e > 0))
			return 1;
	}
	return 0;
}

/* ---- the User-Data cache for third-party de-registration -------------- */

#define ISC_CACHE_BUCKETS 16384 /* ISC_CACHE_MAX entries in chains of ~6 */
#define ISC_CACHE_MAX 100000

typedef struct isc_cached {
	struct isc_cached *next;
	char *impu;
	char *xml;
	size_t xml_len;
} isc_cached_t;

struct scscf_isc_cache {
	pthread_mutex_t lock;
	isc_cached_t *b[ISC_CACHE_BUCKETS];
	size_t n;
};

scscf_isc_cache_t *scscf_isc_cache_create(void)
{
	scscf_isc_cache_t *c = calloc(1, sizeof(*c));
	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void scscf_isc_cache_destroy(scscf_isc_cache_t *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < ISC_CACHE_BUCKETS; i++)
		for (isc_cached_t *e = c->b[i], *n; e; e = n) {
			n = e->next;
			free(e->impu);
			free(e->xml);
			free(e);
		}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Remembers the User-Data of impu (replacing an older one). */
static void cache_put(scscf_isc_cache_t *c, ims_str_t impu, ims_str_t xml)
{
	if (!c || !xml.len)
		return;
	unsigned h = ims_str_hash(impu) % ISC_CACHE_BUCKETS;
	pthread_mutex_lock(&c->lock);
	isc_cached_t *e = c->b[h];
	while (e && !ims_str_eq_c(impu, e->impu))
		e = e->next;
	if (!e && c->n < ISC_CACHE_MAX && (e = calloc(1, sizeof(*e)))) {
		e->impu = strndup(impu.s, impu.len);
		if (!e->impu) {
			free(e);
			e = NULL;
		} else {
			e->next = c->b[h];
			c->b[h] = e;
			c->n++;
		}
	}
	if (e && (e->xml_len != xml.len || memcmp(e->xml, xml.s, xml.len))) {
		char *x = malloc(xml.len);
		if (x) {
			memcpy(x, xml.s, xml.len);
			free(e->xml);
			e->xml = x;
			e->xml_len = xml.len;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void scscf_isc_remember(scscf_ctx_t *ctx, ims_str_t impu, ims_str_t user_data)
{
	if (ctx)
		cache_put(scscf_session__isc_cache(ctx), impu, user_data);
}

/* Takes the User-Data of impu out of the cache (parsed), or NULL. */
static scscf_profile_t *cache_take(scscf_isc_cache_t *c, ims_str_t impu)
{
	if (!c)
		return NULL;
	unsigned h = ims_str_hash(impu) % ISC_CACHE_BUCKETS;
	isc_cached_t *found = NULL;
	pthread_mutex_lock(&c->lock);
	for (isc_cached_t **pp = &c->b[h]; *pp; pp = &(*pp)->next) {
		if (ims_str_eq_c(impu, (*pp)->impu)) {
			found = *pp;
			*pp = found->next;
			c->n--;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (!found)
		return NULL;
	scscf_profile_t *p = NULL;
	if (found->xml && scscf_profile_load(found->xml, found->xml_len, &p, NULL) != 0)
		p = NULL;
	free(found->impu);
	free(found->xml);
	free(found);
	return p;
}

/* A parsed profile without any iFC has no AS to tell of a de-registration:
 * caching its User-Data would only add ~0.4 KiB to every registered contact.
 * Unparsed (NULL): not known, so it is kept. */
static int knows_no_ifc(const scscf_profile_t *p)
{
	if (!p)
		return 0;
	for (unsigned i = 0; i < p->n_sps; i++)
		if (p->sps[i].n_ifcs)
			return 0;
	return 1;
}

void scscf_isc_on_register_final(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, sip_msg_t *rsp)
{
	if (!ctx || !ctx->store || !rsp || rsp->status < 200 || rsp->status >= 300)
		return;
	const sip_msg_t *req = sip_proxy_ctx_received(pctx);
	if (!req || req->method_id != SIP_METHOD_REGISTER)
		return;
	ims_arena_t *a = ims_arena_create(2048);
	if (!a)
		return;
	scscf_isc_cache_t *cache = scscf_session__isc_cache(ctx);
	const sip_hdr_t *to = sip_msg_hdr(req, SIP_HDR_TO);
	sip_nameaddr_t na;
	ims_str_t impu;
	scscf_reg_view_t view;
	int live = has_live_contact(rsp);
	int worker = sip_proxy_ctx_worker(pctx);
	if (!to || sip_nameaddr_parse(to->value, NULL, &na) || sip_uri_aor(&na.uri, a, &impu))
		goto out;
	/* TS 29.228 Annex B RegistrationType: what the registrar noted for
	 * this REGISTER (scscf_isc_note_reg_type); a 2xx without live
	 * contacts is a de-registration whatever it noted. */
	const int *noted = sip_proxy_ctx_data(pctx);
	int reg_type = !live ? SCSCF_REGTYPE_DE : noted ? *noted : 0, sent = 0;
	if (scscf_reg_store_lookup(ctx->store, impu, scscf_now(), a, &view) == 0) {
		if (view.profile) {
			int n = scscf_isc_third_party_register(ctx, worker, view.profile, req, rsp, reg_type);
			if (n < 0)
				LOG_WARN("scscf", "isc.register_error impu=%.*s err=%s", IMS_STR_FMT(impu),
					 ims_strerror(n));
			sent = 1;
		}
		if (live && !knows_no_ifc(view.profile))
			scscf_isc_remember(ctx, impu, view.user_data);
		else if (live) /* none to tell any more: drop what an older profile left */
			scscf_profile_free(cache_take(cache, impu));
		scscf_reg_view_release(&view);
	}
	if (!live) {
		/* TS 24.229 §5.4.1.7: the ASs hear of the de-registration as well;
		 * when the registration (and its profile) is gone, the cache has
		 * the User-Data. */
		scscf_profile_t *p = cache_take(cache, impu);
		if (p && !sent)
			scscf_isc_third_party_register(ctx, worker, p, req, rsp, SCSCF_REGTYPE_DE);
		scscf_profile_free(p);
	}
out:
	ims_arena_destroy(a);
}

void scscf_isc_note_reg_type(struct sip_proxy_ctx *pctx, int reg_type)
{
	int *t = ims_arena_alloc(sip_proxy_ctx_arena(pctx), sizeof(*t));
	if (!t)
		return; /* unknown: RegistrationType is then not applied */
	*t = reg_type;
	sip_proxy_ctx_set_data(pctx, t, NULL);
}

int scscf_isc_network_dereg(scscf_ctx_t *ctx, int worker, ims_str_t impu)
{
	if (!ctx || !ctx->proxy || !impu.len)
		return IMS_EINVAL;
	scscf_profile_t *p = cache_take(scscf_session__isc_cache(ctx), impu);
	if (!p)
		return 0; /* never registered with a profile here (or told already) */
	ims_arena_t *a = ims_arena_create(512);
	if (!a) {
		scscf_profile_free(p);
		return IMS_ENOMEM;
	}
	/* No REGISTER was received: the iFCs see the one the UE would have
	 * sent to leave (TS 24.229 §5.4.1.7, Expires: 0, RegistrationType
	 * DE-REGISTRATION), addressed to the home domain, To/From = the user. */
	ims_str_t to = ims_arena_printf(a, "<%.*s>", IMS_STR_FMT(impu));
	ims_str_t ruri = ims_arena_printf(a, "sip:%s", ctx->cfg.realm);
	int rc;
	if (!to.s || !ruri.s) {
		rc = IMS_ENOMEM;
	} else {
		scscf_hdr_view_t hdrs[] = { { IMS_STR("To"), to },
					    { IMS_STR("From"), to },
					    { IMS_STR("Expires"), IMS_STR("0") } };
		scscf_ifc_req_t rv = { .method = IMS_STR("REGISTER"),
				       .ruri = ruri,
				       .hdrs = hdrs,
				       .n_hdrs = 3,
				       .reg_type = SCSCF_REGTYPE_DE };
		rc = send_third_party(ctx, worker, p, impu, &rv, NULL, NULL, 0);
	}
	LOG_INFO("scscf", "isc.network_dereg impu=%.*s sent=%d", IMS_STR_FMT(impu), rc);
	ims_arena_destroy(a);
	scscf_profile_free(p);
	return rc;
}
