/* Open authentication challenges (see auth-nonce.h). */
#include "auth-nonce.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "base/ims_b64.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"

typedef struct entry {
	struct entry *next;
	uint32_t hash;
	char nonce[SCSCF_NONCE_MAX];
	uint32_t nonce_len;
	char opaque[SCSCF_OPAQUE_LEN + 1];
	char *impi, *impu;
	scscf_auth_vec_t vec;
	int64_t created;
	uint32_t last_nc;
	int used;
	int reported; /* swept as unanswered */
} entry_t;

#define NBUCKETS 4096u
/* Open challenges kept at most: a flood of unanswered REGISTERs must not
 * grow the table without bound (they live 2 * ttl at most anyway). */
#define MAX_OPEN 200000u

struct scscf_auth_table {
	pthread_mutex_t mu;
	uint32_t ttl;
	size_t count;
	int64_t last_purge;
	entry_t *b[NBUCKETS];
};

int scscf_auth_table_create(uint32_t ttl, scscf_auth_table_t **out)
{
	scscf_auth_table_t *t = calloc(1, sizeof(*t));
	if (!t)
		return IMS_ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	t->ttl = ttl ? ttl : 30;
	*out = t;
	return 0;
}

static void entry_free(entry_t *e)
{
	if (!e)
		return;
	free(e->impi);
	free(e->impu);
	/* keys and expected answers do not linger in freed memory */
	memset(&e->vec, 0, sizeof(e->vec));
	free(e);
}

void scscf_auth_table_destroy(scscf_auth_table_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		entry_t *e = t->b[i], *n;
		for (; e; e = n) {
			n = e->next;
			entry_free(e);
		}
	}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static entry_t **find_slot(scscf_auth_table_t *t, ims_str_t nonce)
{
	uint32_t h = ims_str_hash(nonce);
	entry_t **pp = &t->b[h % NBUCKETS];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->nonce_len == nonce.len &&
		    memcmp((*pp)->nonce, nonce.s, nonce.len) == 0)
			return pp;
	return NULL;
}

/* Drops challenges older than ttl; at most once a second. */
static void purge(scscf_auth_table_t *t, int64_t now)
{
	if (now == t->last_purge)
		return;
	t->last_purge = now;
	for (size_t i = 0; i < NBUCKETS; i++) {
		entry_t **pp = &t->b[i];
		while (*pp) {
			entry_t *e = *pp;
			/* keep expired entries one extra ttl so a late answer
			 * still gets stale=true instead of a plain re-challenge */
			if (e->created + 2 * (int64_t)t->ttl <= now) {
				*pp = e->next;
				entry_free(e);
				t->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static char *sdup(ims_str_t v)
{
	char *p = malloc((size_t)v.len + 1);
	if (p) {
		if (v.len)
			memcpy(p, v.s, v.len);
		p[v.len] = '\0';
	}
	return p;
}

int scscf_auth_table_add(scscf_auth_table_t *t, ims_str_t impi, ims_str_t impu,
			 const scscf_auth_vec_t *vec, int64_t now, char nonce[SCSCF_NONCE_MAX],
			 char opaque[SCSCF_OPAQUE_LEN + 1])
{
	uint8_t raw[32], op[SCSCF_OPAQUE_LEN / 2];
	size_t rawlen, nlen = 0;
	entry_t *e;

	if (vec->scheme == SCSCF_AUTH_AKA) {
		/* TS 24.229 §5.4.1.2.1 / RFC 3310 §3.2: nonce = base64(RAND || AUTN) */
		memcpy(raw, vec->rand, 16);
		memcpy(raw + 16, vec->autn, 16);
		rawlen = 32;
	} else {
		rawlen = 24;
		if (aka_random(raw, rawlen) != 0)
			return IMS_EIO;
	}
	if (ims_b64_encode(raw, rawlen, nonce, SCSCF_NONCE_MAX, &nlen) != 0)
		return IMS_EINVAL;
	if (aka_random(op, sizeof(op)) != 0)
		return IMS_EIO;
	ims_hex_encode(op, sizeof(op), opaque);

	e = calloc(1, sizeof(*e));
	if (!e)
		return IMS_ENOMEM;
	e->impi = sdup(impi);
	e->impu = sdup(impu);
	if (!e->impi || !e->impu) {
		entry_free(e);
		return IMS_ENOMEM;
	}
	memcpy(e->nonce, nonce, nlen + 1);
	e->nonce_len = (uint32_t)nlen;
	memcpy(e->opaque, opaque, SCSCF_OPAQUE_LEN + 1);
	e->vec = *vec;
	e->created = now;
	e->hash = ims_str_hash(ims_str_from(nonce, nlen));

	pthread_mutex_lock(&t->mu);
	purge(t, now);
	if (t->count >= MAX_OPEN) {
		pthread_mutex_unlock(&t->mu);
		entry_free(e);
		return IMS_ENOSPC;
	}
	if (find_slot(t, ims_str_from(nonce, nlen))) {
		pthread_mutex_unlock(&t->mu);
		entry_free(e);
		return IMS_EEXIST;
	}
	e->next = t->b[e->hash % NBUCKETS];
	t->b[e->hash % NBUCKETS] = e;
	t->count++;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

int scscf_auth_table_sweep(scscf_auth_table_t *t, int64_t now, scscf_auth_timeout_cb cb, void *arg)
{
	typedef struct rep {
		struct rep *next;
		char *impi, *impu;
	} rep_t;
	rep_t *list = NULL, *r, *n;
	int count = 0;
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < NBUCKETS; i++)
		for (entry_t *e = t->b[i]; e; e = e->next) {
			if (e->used || e->reported || e->created + (int64_t)t->ttl > now)
				continue;
			e->reported = 1;
			r = calloc(1, sizeof(*r));
			if (!r)
				continue;
			r->impi = strdup(e->impi);
			r->impu = strdup(e->impu);
			r->next = list;
			list = r;
		}
	pthread_mutex_unlock(&t->mu);
	for (r = list; r; r = n) {
		n = r->next;
		if (r->impi && r->impu && cb) {
			cb(arg, r->impi, r->impu);
			count++;
		}
		free(r->impi);
		free(r->impu);
		free(r);
	}
	return count;
}

void scscf_auth_table_forget(scscf_auth_table_t *t, ims_str_t nonce)
{
	entry_t **pp, *e;
	pthread_mutex_lock(&t->mu);
	pp = find_slot(t, nonce);
	if (pp) {
		e = *pp;
		*pp = e->next;
		entry_free(e);
		t->count--;
	}
	pthread_mutex_unlock(&t->mu);
}

size_t scscf_auth_table_count(scscf_auth_table_t *t)
{
	size_t n;
	pthread_mutex_lock(&t->mu);
	n = t->count;
	pthread_mutex_unlock(&t->mu);
	return n;
}

void scscf_auth_expected(const scscf_auth_vec_t *vec, ims_str_t user, ims_str_t realm,
			 ims_str_t method, ims_str_t uri, ims_str_t nonce, ims_str_t nc,
			 ims_str_t cnonce, ims_str_t qop, char out[33])
{
	char ha1[33];
	if (vec->scheme == SCSCF_AUTH_AKA)
		/* RFC 3310 §3.4: the password is RES itself (raw bytes) */
		digest_ha1(user, realm, vec->xres, vec->xres_len, ha1);
	else
		memcpy(ha1, vec->ha1, 33);
	digest_response(ha1, method, uri, nonce, nc, cnonce, qop, NULL, out);
}

/* nc is exactly 8 hex digits (RFC 2617 §3.2.2) */
static int parse_nc(ims_str_t nc, uint32_t *out)
{
	uint32_t v = 0;
	if (nc.len != 8)
		return IMS_EPARSE;
	for (uint32_t i = 0; i < 8; i++) {
		char c = nc.s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return IMS_EPARSE;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static void unlink_entry(scscf_auth_table_t *t, entry_t **pp)
{
	entry_t *e = *pp;
	*pp = e->next;
	entry_free(e);
	t->count--;
}

int scscf_auth_table_check(scscf_auth_table_t *t, const sip_auth_t *cred, ims_str_t method,
			   ims_str_t impi, ims_str_t realm, int64_t now, scscf_auth_result_t *res)
{
	entry_t **pp, *e;
	scscf_auth_result_t tmp;
	char expect[33];
	uint32_t nc = 0;
	int rc = 0;

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&t->mu);
	pp = find_slot(t, cred->nonce);
	if (!pp) {
		rc = IMS_ENOENT;
		goto out;
	}
	e = *pp;
	res->scheme = e->vec.scheme;
	if (e->created + (int64_t)t->ttl <= now) {
		unlink_entry(t, pp);
		rc = IMS_ETIMEDOUT;
		goto out;
	}
	if (cred->auts.len) {
		/* RFC 3310 §3.4: auts is base64 of the 14-byte AUTS */
		uint8_t buf[IMS_B64_DEC_MAX(64)];
		size_t n = 0;
		if (e->vec.scheme != SCSCF_AUTH_AKA || cred->auts.len > 64 ||
		    ims_b64_decode(cred->auts.s, cred->auts.len, buf, sizeof(buf), &n) != 0 ||
		    n != AKA_AUTS_LEN) {
			unlink_entry(t, pp);
			rc = IMS_EPARSE;
			goto out;
		}
		if (!ims_str_eq(cred->username, ims_str_cstr(e->impi))) {
			unlink_entry(t, pp);
			rc = IMS_EAUTH;
			goto out;
		}
		memcpy(res->auts, buf, AKA_AUTS_LEN);
		memcpy(res->rand, e->vec.rand, 16);
		res->has_auts = 1;
		unlink_entry(t, pp);
		rc = IMS_EAGAIN;
		goto out;
	}
	/* The challenge belongs to one private identity in one realm. */
	if (!ims_str_eq(cred->username, ims_str_cstr(e->impi)) ||
	    !ims_str_eq(impi, ims_str_cstr(e->impi)) || !ims_str_eq(cred->realm, realm) ||
	    (cred->opaque.len && !ims_str_eq(cred->opaque, ims_str_cstr(e->opaque))) ||
	    cred->response.len != DIGEST_HEX_LEN) {
		unlink_entry(t, pp);
		rc = IMS_EAUTH;
		goto out;
	}
	if (cred->algorithm.len &&
	    !ims_str_caseeq_c(cred->algorithm,
			      e->vec.scheme == SCSCF_AUTH_AKA ? "AKAv1-MD5" : "MD5")) {
		unlink_entry(t, pp);
		rc = IMS_EAUTH;
		goto out;
	}
	if (cred->qop.len) {
		/* We offered qop="auth" only (RFC 2617 §3.2.2: nc and cnonce
		 * are then mandatory). */
		if (!ims_str_caseeq_c(cred->qop, "auth") || !cred->cnonce.len ||
		    parse_nc(cred->nc, &nc) != 0) {
			unlink_entry(t, pp);
			rc = IMS_EAUTH;
			goto out;
		}
		/* RFC 2617 §3.2.2: a repeated nc is a replay */
		if (nc <= e->last_nc) {
			unlink_entry(t, pp);
			rc = IMS_EAUTH;
			goto out;
		}
	} else if (e->used) {
		/* RFC 2069 form has no nc: such a nonce is good once only */
		unlink_entry(t, pp);
		rc = IMS_EAUTH;
		goto out;
	}
	scscf_auth_expected(&e->vec, cred->username, realm, method, cred->uri, cred->nonce,
			    cred->nc, cred->cnonce, cred->qop, expect);
	if (!digest_eq(expect, cred->response.s, DIGEST_HEX_LEN)) {
		unlink_entry(t, pp);
		rc = IMS_EAUTH;
		goto out;
	}
	e->last_nc = nc;
	e->used = 1;
	res->nc = nc;
out:
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int scscf_auth_challenge_render(const scscf_auth_vec_t *vec, ims_str_t realm, const char *nonce,
				const char *opaque, int stale, char *buf, size_t cap)
{
	int n;
	if (vec->scheme == SCSCF_AUTH_AKA) {
		char ck[33], ik[33];
		ims_hex_encode(vec->ck, 16, ck);
		ims_hex_encode(vec->ik, 16, ik);
		/* TS 24.229 §5.4.1.2.1: CK and IK ride to the P-CSCF in the
		 * challenge; the P-CSCF removes them before the UE sees it. */
		n = snprintf(buf, cap,
			     "Digest realm=\"%.*s\", nonce=\"%s\", algorithm=AKAv1-MD5, "
			     "qop=\"auth\", opaque=\"%s\"%s%s%s%s%s%s",
			     IMS_STR_FMT(realm), nonce, opaque, stale ? ", stale=true" : "",
			     vec->has_ck_ik ? ", ck=\"" : "", vec->has_ck_ik ? ck : "",
			     vec->has_ck_ik ? "\", ik=\"" : "", vec->has_ck_ik ? ik : "",
			     vec->has_ck_ik ? "\"" : "");
	} else {
		n = snprintf(buf, cap,
			     "Digest realm=\"%.*s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\", "
			     "opaque=\"%s\"%s",
			     IMS_STR_FMT(realm), nonce, opaque, stale ? ", stale=true" : "");
	}
	if (n < 0 || (size_t)n >= cap)
		return IMS_ENOSPC;
	return n;
}
