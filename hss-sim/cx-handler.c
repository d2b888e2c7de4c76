/* HSS Cx request handlers: TS 29.228 §6.1 (location management), §6.3
 * (authentication), §8 (errors). */
#include "cx-handler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "base/ims_err.h"
#include "cx-int.h"
#include "dia/cx-client.h"
#include "dia/cx-dict.h"
#include "dia/cx-server.h"
#include "log/ims_log.h"
#include "userdata-build.h"

#define MOD "hss-cx"

/* TS 33.203 §6.1 / TS 29.229 §6.3.9: the scheme names we serve */
#define SCHEME_AKA "Digest-AKAv1-MD5"

/* --- Diameter host of each served user (in memory, keyed by impi) --- */

/* The map IMPI -> Origin-Host of the serving S-CSCF, as a chained hash:
 * a SAR must not cost a scan of every registered user. Callers hold mu. */
static hss_cx_host_t **host_slot(hss_cx_t *cx, const char *impi)
{
	if (!cx->cap_hosts)
		return NULL;
	uint32_t h = ims_str_hash(ims_str_cstr(impi)) & (cx->cap_hosts - 1);
	hss_cx_host_t **pp = &cx->hosts[h];
	while (*pp && strcmp((*pp)->impi, impi) != 0)
		pp = &(*pp)->next;
	return pp;
}

static int hosts_grow(hss_cx_t *cx)
{
	unsigned cap = cx->cap_hosts ? cx->cap_hosts * 2 : 64;
	hss_cx_host_t **nb = calloc(cap, sizeof *nb);
	if (!nb)
		return IMS_ENOMEM;
	for (unsigned i = 0; i < cx->cap_hosts; i++) {
		hss_cx_host_t *e = cx->hosts[i];
		while (e) {
			hss_cx_host_t *next = e->next;
			uint32_t h = ims_str_hash(ims_str_cstr(e->impi)) & (cap - 1);
			e->next = nb[h];
			nb[h] = e;
			e = next;
		}
	}
	free(cx->hosts);
	cx->hosts = nb;
	cx->cap_hosts = cap;
	return 0;
}

int hss_cx__host_set(hss_cx_t *cx, const char *impi, ims_str_t host)
{
	int rc = 0;
	pthread_mutex_lock(&cx->mu);
	hss_cx_host_t **pp = host_slot(cx, impi);
	hss_cx_host_t *h = pp ? *pp : NULL;
	if (!h) {
		if (cx->n_hosts >= cx->cap_hosts && (rc = hosts_grow(cx)) != 0)
			goto out;
		h = calloc(1, sizeof *h);
		if (!h) {
			rc = IMS_ENOMEM;
			goto out;
		}
		snprintf(h->impi, sizeof h->impi, "%s", impi);
		pp = host_slot(cx, impi);
		*pp = h;
		cx->n_hosts++;
	}
	ims_str_to_c(host, h->host, sizeof h->host);
out:
	pthread_mutex_unlock(&cx->mu);
	return rc;
}

void hss_cx__host_forget(hss_cx_t *cx, const char *impi)
{
	pthread_mutex_lock(&cx->mu);
	hss_cx_host_t **pp = host_slot(cx, impi);
	if (pp && *pp) {
		hss_cx_host_t *e = *pp;
		*pp = e->next;
		free(e);
		cx->n_hosts--;
	}
	pthread_mutex_unlock(&cx->mu);
}

void hss_cx__hosts_free(hss_cx_t *cx)
{
	for (unsigned i = 0; i < cx->cap_hosts; i++) {
		hss_cx_host_t *e = cx->hosts[i];
		while (e) {
			hss_cx_host_t *next = e->next;
			free(e);
			e = next;
		}
	}
	free(cx->hosts);
	cx->hosts = NULL;
	cx->n_hosts = cx->cap_hosts = 0;
}

int hss_cx_scscf_host(hss_ctx_t *ctx, const char *impi, const char *scscf_name, char *buf,
		      size_t cap)
{
	hss_cx_t *cx = ctx->cx;
	int found = 0;
	if (cx) {
		pthread_mutex_lock(&cx->mu);
		hss_cx_host_t **pp = host_slot(cx, impi);
		if (pp && *pp) {
			snprintf(buf, cap, "%s", (*pp)->host);
			found = 1;
		}
		pthread_mutex_unlock(&cx->mu);
	}
	if (found)
		return 0;
	/* sip:scscf.realm:6060;transport=tcp -> scscf.realm */
	if (!scscf_name || !*scscf_name)
		return IMS_ENOENT;
	const char *p = scscf_name;
	if (strncasecmp(p, "sips:", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "sip:", 4) == 0)
		p += 4;
	const char *at = strchr(p, '@');
	if (at)
		p = at + 1;
	size_t n = strcspn(p, ":;>?");
	if (n == 0 || n >= cap)
		return IMS_ENOENT;
	memcpy(buf, p, n);
	buf[n] = 0;
	return 0;
}

/* --- shared helpers --- */

static void exp_result(cx_answer_t *ans, uint32_t code)
{
	ans->exp_result_code = code;
	ans->exp_vendor_id = CX_VENDOR_3GPP;
}

static void result(cx_answer_t *ans, uint32_t code)
{
	ans->result_code = code;
}

/* NUL-terminated copy of a view in the request's arena */
static const char *cstr(ims_arena_t *a, ims_str_t v)
{
	ims_str_t out;
	if (ims_arena_strdup(a, v, &out))
		return NULL;
	return out.s;
}

static void store_failed(cx_answer_t *ans, int rc, const char *what)
{
	LOG_ERROR(MOD, "store.failed op=%s err=%s", what, ims_strerror(rc));
	result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
}

static const hss_impu_t *find_impu(const hss_sub_t *sub, const char *impu)
{
	for (unsigned i = 0; i < sub->n_impus; i++)
		if (strcmp(sub->impus[i].uri, impu) == 0)
			return &sub->impus[i];
	return NULL;
}

/* TS 29.228 §6.1.1.1 / §6.3.1 steps 1-2: both identities exist and belong
 * together. Returns 1 and *sub (with its registration state) when fine,
 * else 0 with the answer set. One store read in the usual case; only an
 * impu outside the user's set costs a second one, to tell an unknown
 * identity from one of another user. */
static int check_identities(hss_ctx_t *ctx, const char *impi, const char *impu, cx_answer_t *ans,
			    hss_sub_t **sub)
{
	int rc = hss_store_get_by_impi(ctx->store, impi, sub);
	if (rc == 0 && find_impu(*sub, impu))
		return 1;
	if (rc == 0) {
		hss_sub_free(*sub);
		*sub = NULL;
		rc = hss_store_impi_owns_impu(ctx->store, impi, impu);
		if (rc == 0) {
			exp_result(ans, CX_DIAMETER_ERROR_IDENTITIES_DONT_MATCH);
			return 0;
		}
		if (rc == 1) /* provisioned in between: read it again */
			rc = hss_store_get_by_impi(ctx->store, impi, sub);
	}
	if (rc == 0)
		return 1;
	if (rc == IMS_ENOENT)
		exp_result(ans, CX_DIAMETER_ERROR_USER_UNKNOWN);
	else
		store_failed(ans, rc, "get_by_impi");
	return 0;
}

/* TS 29.228 §6.1.1.1: a barred identity may register only when another
 * identity of its implicit set is not barred. */
static int all_barred(const hss_sub_t *sub)
{
	for (unsigned i = 0; i < sub->n_impus; i++)
		if (!sub->impus[i].barred)
			return 0;
	return 1;
}

/* TS 29.228 §6.1.4.1: the user has services for the unregistered state
 * when an iFC applies to it (no ProfilePartIndicator, or UNREGISTERED). */
static int has_unregistered_services(const hss_sub_t *sub)
{
	for (unsigned i = 0; i < sub->n_ifcs; i++)
		if (sub->ifcs[i].profile_part_indicator != HSS_PPI_REGISTERED)
			return 1;
	return 0;
}

/* TS 29.228 §6.7 / TS 29.229 §6.3.4: what the I-CSCF needs to choose an
 * S-CSCF. We require nothing; the lab's S-CSCF is named for the I-CSCF to
 * pick when it has no list of its own. */
static void set_capabilities(hss_ctx_t *ctx, cx_answer_t *ans, ims_arena_t *a)
{
	hss_cx_t *cx = ctx->cx;
	ans->has_caps = 1;
	if (cx && cx->default_scscf[0]) {
		ims_arena_strdup(a, ims_str_cstr(cx->default_scscf), &ans->cap_server_name[0]);
		ans->n_cap_server_name = ans->cap_server_name[0].s ? 1 : 0;
	}
}

/* --- UAR: TS 29.228 §6.1.1 --- */

void hss_cx_uar(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	hss_ctx_t *ctx = arg;
	hss_sub_t *sub = NULL;
	const char *impi = cstr(a, req->user_name), *impu = cstr(a, req->impu[0]);
	if (!impi || !impu) {
		result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
		return;
	}
	if (!check_identities(ctx, impi, impu, ans, &sub))
		goto out;
	/* §6.1.1.1 step 2: barring, unless this is an emergency registration */
	const hss_impu_t *pi = find_impu(sub, impu);
	int emergency = req->has_uar_flags && (req->uar_flags & CX_UAR_FLAG_EMERGENCY_REGISTRATION);
	if (!emergency && pi && pi->barred && all_barred(sub)) {
		result(ans, CX_DIAMETER_AUTHORIZATION_REJECTED);
		goto out;
	}
	hss_reg_state_t st = sub->reg_state; /* read with the subscriber */
	const char *scscf = sub->scscf_name;
	uint32_t type = req->has_auth_type ? req->auth_type : CX_UAT_REGISTRATION;
	if (type == CX_UAT_DE_REGISTRATION) {
		/* §6.1.1.1: de-registration goes to the serving S-CSCF */
		if (st == HSS_REG_NOT_REGISTERED || !scscf[0]) {
			exp_result(ans, CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED);
			goto out;
		}
		result(ans, CX_DIAMETER_SUCCESS);
		ims_arena_strdup(a, ims_str_cstr(scscf), &ans->server_name);
		goto out;
	}
	if (type == CX_UAT_REGISTRATION_AND_CAPABILITIES) {
		/* §6.1.1.1: the I-CSCF asks for capabilities to pick a new
		 * S-CSCF (the assigned one did not answer) */
		exp_result(ans, st == HSS_REG_NOT_REGISTERED ? CX_DIAMETER_FIRST_REGISTRATION
							      : CX_DIAMETER_SUBSEQUENT_REGISTRATION);
		set_capabilities(ctx, ans, a);
		goto out;
	}
	if (st == HSS_REG_REGISTERED || st == HSS_REG_UNREGISTERED) {
		/* registered, or unregistered with a serving S-CSCF */
		exp_result(ans, CX_DIAMETER_SUBSEQUENT_REGISTRATION);
		ims_arena_strdup(a, ims_str_cstr(scscf), &ans->server_name);
	} else if (scscf[0]) {
		/* not registered but an S-CSCF name is kept (MAR done, or a
		 * *_STORE_SERVER_NAME de-registration) */
		exp_result(ans, CX_DIAMETER_FIRST_REGISTRATION);
		ims_arena_strdup(a, ims_str_cstr(scscf), &ans->server_name);
	} else {
		exp_result(ans, CX_DIAMETER_FIRST_REGISTRATION);
		set_capabilities(ctx, ans, a);
	}
out:
	LOG_INFO(MOD, "uar impi=%s impu=%s type=%u code=%u", impi ? impi : "", impu ? impu : "",
		 req->has_auth_type ? req->auth_type : 0, cx_answer_code(ans));
	hss_sub_free(sub);
}

/* --- MAR: TS 29.228 §6.3 --- */

static void old_rtr_done(void *arg, const cx_answer_t *ans)
{
	char *impi = arg;
	LOG_INFO(MOD, "rtr_old.done impi=%s status=%d code=%u", impi, (int)ans->status,
		 cx_answer_code(ans));
	free(impi);
}

/* TS 29.228 §8.1.1: a MAR names a new S-CSCF while the user is registered
 * at another one: de-register the user there (NEW_SERVER_ASSIGNED), unless
 * both names lead to the same Diameter client. Sent without waiting: we are
 * on a freeDiameter thread. */
static void cancel_old_scscf(hss_ctx_t *ctx, const hss_sub_t *sub, const char *old_name,
			     ims_str_t new_host)
{
	hss_cx_t *cx = ctx->cx;
	char host[256];
	if (!cx || !cx->started || hss_cx_scscf_host(ctx, sub->impi, old_name, host, sizeof host))
		return;
	if (ims_str_caseeq_c(new_host, host))
		return;
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_RTR;
	r.user_name = ims_str_cstr(sub->impi);
	r.dest_host = ims_str_cstr(host);
	for (unsigned i = 0; i < sub->n_impus && i < CX_MAX_IMPU; i++)
		r.impu[r.n_impu++] = ims_str_cstr(sub->impus[i].uri);
	r.has_dereg = 1;
	r.dereg_code = CX_REASON_NEW_SERVER_ASSIGNED;
	r.dereg_info = IMS_STR("new S-CSCF assigned");
	char *arg = strdup(sub->impi);
	if (!arg)
		return;
	int rc = cx_client_send(&r, 0, old_rtr_done, arg);
	if (rc) {
		LOG_WARN(MOD, "rtr_old.failed impi=%s host=%s err=%s", sub->impi, host,
			 ims_strerror(rc));
		free(arg);
		return;
	}
	hss_cx__host_forget(cx, sub->impi);
	LOG_INFO(MOD, "rtr_old.sent impi=%s host=%s", sub->impi, host);
}

typedef enum { SCHEME_IS_AKA, SCHEME_IS_DIGEST, SCHEME_IS_UNKNOWN } scheme_t;

static scheme_t scheme_of(ims_str_t s)
{
	/* TS 29.229 §6.3.9: "Unknown" lets the HSS choose (AKA here) */
	if (!s.len || ims_str_caseeq_c(s, SCHEME_AKA) || ims_str_caseeq_c(s, "Unknown"))
		return SCHEME_IS_AKA;
	if (ims_str_caseeq_c(s, "SIP Digest") || ims_str_caseeq_c(s, "Digest-MD5") ||
	    ims_str_caseeq_c(s, "Digest"))
		return SCHEME_IS_DIGEST;
	return SCHEME_IS_UNKNOWN;
}

/* TS 33.203 §6.3 / TS 33.102 §6.3.5: SIP-Authorization = RAND || AUTS.
 * A valid AUTS resets our SQN to SQN_MS so the next vector uses
 * SQN_MS + 1. Returns 0 (resynchronised or MAC-S wrong: vectors follow
 * from the current SQN either way), or IMS_EINVAL for a malformed value. */
static int resync(hss_ctx_t *ctx, const hss_sub_t *sub, ims_str_t authz)
{
	if (authz.len != 16 + AKA_AUTS_LEN)
		return IMS_EINVAL;
	const uint8_t *rand = (const uint8_t *)authz.s;
	const uint8_t *auts = rand + 16;
	uint8_t sqn_ms[6];
	int rc = aka_auts_check(sub->k, sub->opc, rand, auts, sqn_ms);
	if (rc == IMS_EAUTH) {
		/* TS 33.102 §6.3.5: MAC-S wrong: new vectors without reset */
		LOG_WARN(MOD, "mar.resync_mac_s_failed impi=%s", sub->impi);
		return 0;
	}
	if (rc)
		return rc;
	uint64_t v = aka_sqn_get(sqn_ms);
	rc = hss_store_set_sqn(ctx->store, sub->impi, v);
	LOG_INFO(MOD, "mar.resync impi=%s sqn_ms=%llu rc=%d", sub->impi, (unsigned long long)v, rc);
	return rc;
}

/* n vectors, from the SQNs reserved from `first` on. */
static int aka_items(const hss_sub_t *sub, unsigned n, uint64_t first, cx_answer_t *ans,
		     ims_arena_t *a)
{
	int rc;
	for (unsigned i = 0; i < n; i++) {
		aka_vector_t v;
		uint8_t rand[16], sqn[6];
		aka_sqn_put((first + i) & HSS_SQN_MAX, sqn);
		if ((rc = aka_random(rand, sizeof rand)) ||
		    (rc = aka_vector_make(sub->k, sub->opc, sub->amf, sqn, rand, &v)))
			return rc;
		uint8_t *b = ims_arena_alloc(a, 32 + 8 + 16 + 16);
		if (!b)
			return IMS_ENOMEM;
		/* TS 29.229 §6.3.10: SIP-Authenticate = RAND || AUTN */
		memcpy(b, v.rand, 16);
		memcpy(b + 16, v.autn, 16);
		memcpy(b + 32, v.xres, 8);
		memcpy(b + 40, v.ck, 16);
		memcpy(b + 56, v.ik, 16);
		cx_auth_item_t *it = &ans->items[i];
		it->item_number = i + 1;
		it->scheme = IMS_STR(SCHEME_AKA);
		it->authenticate = ims_str_from((const char *)b, 32);
		it->authorization = ims_str_from((const char *)b + 32, 8); /* XRES, §6.3.11 */
		it->ck = ims_str_from((const char *)b + 40, 16);
		it->ik = ims_str_from((const char *)b + 56, 16);
	}
	ans->n_items = n;
	ans->n_auth_items = n;
	return 0;
}

/* TS 29.228 §6.3.1 / TS 29.229 §6.3.36: SIP Digest: the HA1 for the
 * realm, the S-CSCF builds the challenge itself. */
/* "Digest-MD5", the scheme of the FOKUS HSS that Kamailio's ims_auth asks
 * for by default (not TS 29.229): SIP-Authenticate carries the nonce (the
 * S-CSCF sends it hex-encoded) and SIP-Authorization the password itself;
 * the S-CSCF computes HA1. Only for an S-CSCF that names this scheme. */
#define SCHEME_FOKUS_MD5 "Digest-MD5"
#define FOKUS_NONCE_LEN 16

static int fokus_md5_item(const hss_sub_t *sub, cx_auth_item_t *it, ims_arena_t *a)
{
	uint8_t *nonce = ims_arena_alloc(a, FOKUS_NONCE_LEN);
	if (!nonce)
		return IMS_ENOMEM;
	int rc = aka_random(nonce, FOKUS_NONCE_LEN);
	if (rc)
		return rc;
	it->scheme = IMS_STR(SCHEME_FOKUS_MD5);
	it->authenticate = ims_str_from((const char *)nonce, FOKUS_NONCE_LEN);
	return ims_arena_strdup(a, ims_str_cstr(sub->password), &it->authorization);
}

static int digest_item(hss_ctx_t *ctx, const hss_sub_t *sub, ims_str_t scheme, cx_answer_t *ans,
		       ims_arena_t *a)
{
	char ha1[33];
	const char *realm = ctx->cfg.realm ? ctx->cfg.realm : HSS_DEFAULT_REALM;
	cx_auth_item_t *it = &ans->items[0];
	it->item_number = 1;
	ans->n_items = 1;
	ans->n_auth_items = 1;
	if (ims_str_caseeq_c(scheme, SCHEME_FOKUS_MD5))
		return fokus_md5_item(sub, it, a);
	digest_ha1(ims_str_cstr(sub->impi), ims_str_cstr(realm), (const uint8_t *)sub->password,
		   strlen(sub->password), ha1);
	if (ims_arena_strdup(a, scheme, &it->scheme) ||
	    ims_arena_strdup(a, ims_str_cstr(realm), &it->digest_realm) ||
	    ims_arena_strdup(a, ims_str_from(ha1, 32), &it->digest_ha1))
		return IMS_ENOMEM;
	it->has_digest = 1;
	it->digest_algorithm = IMS_STR("MD5");
	it->digest_qop = IMS_STR("auth");
	return 0;
}

/* A MAR whose AKA vectors wait for their SQN reservation's commit (the
 * store's group commit); in the request's arena. */
typedef struct mar_wait {
	const cx_req_t *req;
	cx_answer_t *ans;
	ims_arena_t *a;
	hss_sub_t *sub;
	const char *impi, *impu;
	unsigned n;
	cx_deferred_t *d;
} mar_wait_t;

static void mar_log(const cx_req_t *req, const char *impi, const char *impu, const cx_answer_t *ans)
{
	LOG_INFO(MOD, "mar impi=%s impu=%s scheme=%.*s items=%u code=%u", impi ? impi : "",
		 impu ? impu : "", IMS_STR_FMT(req->auth_scheme), ans->n_items, cx_answer_code(ans));
}

/* On the store's writer thread once the SQNs are committed (or not). */
static void mar_aka_done(void *arg, int rc, uint64_t first)
{
	mar_wait_t *w = arg;
	cx_answer_t *ans = w->ans;
	if (!rc)
		rc = aka_items(w->sub, w->n, first, ans, w->a);
	if (rc) {
		store_failed(ans, rc, "vectors");
		ans->n_items = ans->n_auth_items = 0;
	} else {
		result(ans, CX_DIAMETER_SUCCESS);
		ans->user_name = w->req->user_name;
		ans->impu = w->req->impu[0];
	}
	mar_log(w->req, w->impi, w->impu, ans);
	hss_sub_free(w->sub);
	if (w->d)
		cx_server_resume(w->d); /* frees the arena, w with it */
}

void hss_cx_mar(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	hss_ctx_t *ctx = arg;
	hss_sub_t *sub = NULL;
	const char *impi = cstr(a, req->user_name), *impu = cstr(a, req->impu[0]);
	const char *server = cstr(a, req->server_name);
	int rc;
	if (!impi || !impu || !server) {
		result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
		return;
	}
	if (!check_identities(ctx, impi, impu, ans, &sub))
		goto out;
	/* §6.3.1 step 3: the scheme must be one we serve for this user */
	scheme_t sch = scheme_of(req->auth_scheme);
	if (sch == SCHEME_IS_UNKNOWN || (sch == SCHEME_IS_DIGEST && !sub->password)) {
		exp_result(ans, CX_DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
		goto out;
	}
	int is_resync = sch == SCHEME_IS_AKA && req->auth_authorization.len > 0;
	if (is_resync) {
		rc = resync(ctx, sub, req->auth_authorization);
		if (rc == IMS_EINVAL) {
			result(ans, CX_DIAMETER_INVALID_AVP_VALUE);
			ans->failed_avp_code = 610; /* SIP-Authorization */
			ans->failed_avp_vendor = CX_VENDOR_3GPP;
			ans->failed_avp_data = req->auth_authorization;
			goto out;
		}
		if (rc) {
			store_failed(ans, rc, "resync");
			goto out;
		}
	}
	/* §6.3.1 step 4 and §8.1: store the S-CSCF name; a different one
	 * overwrites the old (not on a resynchronisation). The state is the
	 * one read with the subscriber. */
	hss_reg_state_t st = sub->reg_state;
	const char *stored = sub->scscf_name, *assign = NULL;
	if (strcmp(stored, server) != 0 && !(is_resync && stored[0])) {
		if (stored[0] && st != HSS_REG_NOT_REGISTERED) {
			LOG_NOTICE(MOD, "mar.scscf_changed impi=%s old=%s new=%s", impi, stored, server);
			cancel_old_scscf(ctx, sub, stored, req->origin_host);
		}
		assign = server;
	}
	/* §6.3.1 step 5: the vectors; with AKA the new name is stored in the
	 * SQN reservation's transaction */
	if (sch == SCHEME_IS_AKA) {
		/* the answer waits for the commit of the reservation, the
		 * dispatch thread does not */
		mar_wait_t *w = ims_arena_alloc(a, sizeof *w);
		if (!w) {
			store_failed(ans, IMS_ENOMEM, "vectors");
			goto out;
		}
		*w = (mar_wait_t){ .req = req, .ans = ans, .a = a, .sub = sub, .impi = impi,
				   .impu = impu, .n = req->n_auth_items ? req->n_auth_items : 1 };
		if (w->n > HSS_CX_MAX_VECTORS)
			w->n = HSS_CX_MAX_VECTORS;
		uint64_t first = 0;
		if ((w->d = cx_server_defer(ans)) == NULL) /* called directly: wait */
			rc = hss_store_next_sqn_assign(ctx->store, sub->impi, w->n, assign,
						       sub->reg_state, &first);
		else
			rc = hss_store_next_sqn_assign_async(ctx->store, sub->impi, w->n, assign,
							     sub->reg_state, mar_aka_done, w);
		if (rc || !w->d)
			mar_aka_done(w, rc, first);
		return;
	} else if (assign && (rc = hss_store_set_reg(ctx->store, impi, st, server))) {
		store_failed(ans, rc, "set_reg");
		goto out;
	} else {
		rc = digest_item(ctx, sub, req->auth_scheme, ans, a);
	}
	if (rc) {
		store_failed(ans, rc, "vectors");
		ans->n_items = ans->n_auth_items = 0;
		goto out;
	}
	result(ans, CX_DIAMETER_SUCCESS);
	ans->user_name = req->user_name;
	ans->impu = req->impu[0];
out:
	mar_log(req, impi, impu, ans);
	hss_sub_free(sub);
}

/* --- SAR: TS 29.228 §6.1.2 --- */

/* The served user: by impi (checked against the impu when both come), or
 * by the first impu alone (§6.1.2: User-Name may be absent, e.g. for an
 * unregistered user's terminating call). */
static int sar_subscriber(hss_ctx_t *ctx, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a,
			  hss_sub_t **sub)
{
	const char *impi = req->user_name.len ? cstr(a, req->user_name) : NULL;
	const char *impu = req->n_impu ? cstr(a, req->impu[0]) : NULL;
	if (impi && impu)
		return check_identities(ctx, impi, impu, ans, sub);
	int rc = impi ? hss_store_get_by_impi(ctx->store, impi, sub)
		      : impu ? hss_store_find_impu(ctx->store, impu, sub) : IMS_ENOENT;
	if (rc == IMS_ENOENT) {
		exp_result(ans, CX_DIAMETER_ERROR_USER_UNKNOWN);
		return 0;
	}
	if (rc) {
		store_failed(ans, rc, "get");
		return 0;
	}
	return 1;
}

static int put_user_data(const hss_sub_t *sub, const cx_req_t *req, cx_answer_t *ans,
			 ims_arena_t *a)
{
	char *xml = NULL;
	const char *impu = req->n_impu ? cstr(a, req->impu[0]) : NULL;
	int rc = hss_userdata_build(sub, impu, &xml);
	if (rc)
		return rc;
	rc = ims_arena_strdup(a, ims_str_cstr(xml), &ans->user_data);
	free(xml);
	return rc;
}

/* A SAR whose answer waits for the commit of its registration state; in
 * the request's arena. */
typedef struct sar_wait {
	hss_ctx_t *ctx;
	const cx_req_t *req;
	cx_answer_t *ans;
	hss_sub_t *sub;
	const char *server;
	cx_deferred_t *d;
} sar_wait_t;

static void sar_log(const cx_req_t *req, const hss_sub_t *sub, const char *server,
		    const cx_answer_t *ans)
{
	LOG_INFO(MOD, "sar impi=%s sat=%u server=%s code=%u", sub ? sub->impi : "", req->sat,
		 server ? server : "", cx_answer_code(ans));
}

/* The answer already built, User-Data and all, becomes an error. */
static void sar_store_failed(cx_answer_t *ans, int rc)
{
	memset(&ans->user_data, 0, sizeof ans->user_data);
	memset(&ans->user_name, 0, sizeof ans->user_name);
	store_failed(ans, rc, "set_reg");
}

/* On the store's writer thread once the state is committed (or not): the
 * S-CSCF's Diameter host is remembered for RTR/PPR, and the answer built
 * beforehand goes out, or an error instead. */
static void sar_reg_done(void *arg, int rc, uint64_t first)
{
	(void)first;
	sar_wait_t *w = arg;
	cx_answer_t *ans = w->ans;
	if (!rc)
		rc = hss_cx__host_set(w->ctx->cx, w->sub->impi, w->req->origin_host);
	if (rc)
		sar_store_failed(ans, rc);
	sar_log(w->req, w->sub, w->server, ans);
	hss_sub_free(w->sub);
	if (w->d)
		cx_server_resume(w->d); /* frees the arena, w with it */
}

void hss_cx_sar(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	hss_ctx_t *ctx = arg;
	hss_sub_t *sub = NULL;
	const char *server = cstr(a, req->server_name);
	int rc, want_data = 0;
	/* the registration state to write once the answer is built (1), or
	 * only the S-CSCF host to remember (2) */
	int reg_write = 0;
	hss_reg_state_t reg_state = HSS_REG_REGISTERED;
	if (!server) {
		result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
		return;
	}
	if (!sar_subscriber(ctx, req, ans, a, &sub))
		goto out;
	/* the state read with the subscriber */
	hss_reg_state_t st = sub->reg_state;
	const char *stored = sub->scscf_name;
	int same_server = strcmp(stored, server) == 0;
	rc = 0;
	switch (req->sat) {
	case CX_SAT_REGISTRATION:
	case CX_SAT_RE_REGISTRATION:
	case CX_SAT_RESTORATION:
		/* §6.1.2.1: store the name, state registered, send User-Data.
		 * §8.1: another S-CSCF than the one MAR stored is an error. */
		if (stored[0] && !same_server && st == HSS_REG_REGISTERED) {
			result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
			goto out;
		}
		/* a re-registration with nothing to change writes nothing */
		reg_write = 1;
		reg_state = HSS_REG_REGISTERED;
		if (st == HSS_REG_REGISTERED && same_server)
			reg_write = 2; /* only the host */
		want_data = req->user_data_available != CX_USER_DATA_ALREADY_AVAILABLE ||
			    req->sat == CX_SAT_REGISTRATION;
		break;
	case CX_SAT_UNREGISTERED_USER:
		/* §6.1.2.1: a request for an unregistered user; the S-CSCF
		 * keeps serving it. A registered user stays registered. */
		if (stored[0] && !same_server) {
			result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
			goto out;
		}
		reg_write = st != HSS_REG_REGISTERED ? 1 : 2;
		reg_state = HSS_REG_UNREGISTERED;
		want_data = 1;
		break;
	case CX_SAT_TIMEOUT_DEREGISTRATION:
	case CX_SAT_USER_DEREGISTRATION:
	case CX_SAT_DEREGISTRATION_TOO_MUCH_DATA:
	case CX_SAT_ADMINISTRATIVE_DEREGISTRATION:
		/* §6.1.2.1: not registered any more, name cleared */
		rc = hss_store_set_reg(ctx->store, sub->impi, HSS_REG_NOT_REGISTERED, NULL);
		hss_cx__host_forget(ctx->cx, sub->impi);
		break;
	case CX_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME:
	case CX_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME:
		/* §6.1.2.1: the HSS keeps the name; with services for the
		 * unregistered state the user becomes unregistered */
		rc = hss_store_set_reg(ctx->store, sub->impi,
				       has_unregistered_services(sub) ? HSS_REG_UNREGISTERED
								      : HSS_REG_NOT_REGISTERED,
				       server);
		break;
	case CX_SAT_AUTHENTICATION_FAILURE:
	case CX_SAT_AUTHENTICATION_TIMEOUT:
		/* §6.1.2.1: a user that was not registered loses the name MAR
		 * stored; a registered one keeps its state */
		if (st == HSS_REG_NOT_REGISTERED)
			rc = hss_store_set_reg(ctx->store, sub->impi, HSS_REG_NOT_REGISTERED, NULL);
		break;
	case CX_SAT_NO_ASSIGNMENT:
		/* §6.1.2.1: only the serving S-CSCF may read the profile */
		if (!same_server) {
			result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
			goto out;
		}
		want_data = 1;
		break;
	default:
		/* AAA_USER_DATA_REQUEST, PGW_UPDATE: not Cx */
		exp_result(ans, CX_DIAMETER_ERROR_IN_ASSIGNMENT_TYPE);
		goto out;
	}
	if (rc) {
		store_failed(ans, rc, "set_reg");
		goto out;
	}
	if (want_data) {
		rc = put_user_data(sub, req, ans, a);
		if (rc == IMS_ENOENT) {
			exp_result(ans, CX_DIAMETER_ERROR_IDENTITIES_DONT_MATCH);
			goto out;
		}
		if (rc) {
			store_failed(ans, rc, "userdata");
			goto out;
		}
	}
	result(ans, CX_DIAMETER_SUCCESS);
	ims_arena_strdup(a, ims_str_cstr(sub->impi), &ans->user_name);
	if (reg_write == 2 && (rc = hss_cx__host_set(ctx->cx, sub->impi, req->origin_host)))
		sar_store_failed(ans, rc);
	if (reg_write == 1) {
		/* the answer waits for the commit, the dispatch thread does not */
		sar_wait_t *w = ims_arena_alloc(a, sizeof *w);
		if (!w) {
			sar_store_failed(ans, IMS_ENOMEM);
			goto out;
		}
		*w = (sar_wait_t){ .ctx = ctx, .req = req, .ans = ans, .sub = sub, .server = server };
		if ((w->d = cx_server_defer(ans)) == NULL) /* called directly: wait */
			rc = hss_store_set_reg(ctx->store, sub->impi, reg_state, server);
		else
			rc = hss_store_set_reg_async(ctx->store, sub->impi, reg_state, server,
						     sar_reg_done, w);
		if (rc || !w->d)
			sar_reg_done(w, rc, 0);
		return;
	}
out:
	sar_log(req, sub, server, ans);
	hss_sub_free(sub);
}

/* --- LIR: TS 29.228 §6.1.4 --- */

void hss_cx_lir(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	hss_ctx_t *ctx = arg;
	hss_sub_t *sub = NULL;
	const char *impu = cstr(a, req->impu[0]);
	if (!impu) {
		result(ans, CX_DIAMETER_UNABLE_TO_COMPLY);
		return;
	}
	int rc = hss_store_find_impu(ctx->store, impu, &sub);
	if (rc == IMS_ENOENT) {
		exp_result(ans, CX_DIAMETER_ERROR_USER_UNKNOWN);
		goto out;
	}
	if (rc) {
		store_failed(ans, rc, "lir");
		goto out;
	}
	hss_reg_state_t st = sub->reg_state; /* read with the subscriber */
	const char *scscf = sub->scscf_name;
	if (st == HSS_REG_REGISTERED && scscf[0]) {
		result(ans, CX_DIAMETER_SUCCESS);
		ims_arena_strdup(a, ims_str_cstr(scscf), &ans->server_name);
	} else if (st == HSS_REG_UNREGISTERED && scscf[0]) {
		/* an S-CSCF already keeps the unregistered user's profile */
		exp_result(ans, CX_DIAMETER_UNREGISTERED_SERVICE);
		ims_arena_strdup(a, ims_str_cstr(scscf), &ans->server_name);
	} else if (req->has_originating || has_unregistered_services(sub)) {
		/* §6.1.4.1: services for the unregistered state, or an
		 * originating request on behalf of an unregistered user
		 * (Originating-Request): the I-CSCF picks an S-CSCF with these
		 * capabilities (or the kept name) */
		exp_result(ans, CX_DIAMETER_UNREGISTERED_SERVICE);
		if (scscf[0])
			ims_arena_strdup(a, ims_str_cstr(scscf), &ans->server_name);
		else
			set_capabilities(ctx, ans, a);
	} else {
		exp_result(ans, CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED);
	}
out:
	LOG_INFO(MOD, "lir impu=%s code=%u server=%.*s", impu ? impu : "", cx_answer_code(ans),
		 IMS_STR_FMT(ans->server_name));
	hss_sub_free(sub);
}
