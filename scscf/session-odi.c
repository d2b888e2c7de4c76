/* odi token table: a hash of random tokens to copied session state, with
 * a TTL. See session-odi.h. */
#include "session-odi.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/ims_err.h"

#define NBUCKETS 65536 /* chains of ~4 at the default 262,144 entries */

typedef struct odi_entry {
	struct odi_entry *next;
	char token[SCSCF_ODI_TOKEN_LEN + 1];
	int64_t expires;
	int returned;           /* scscf_odi_get found it: the AS sent the request back */
	scscf_odi_info_t info;  /* strings point into `strings` below */
	char strings[];         /* served_user, ruri, call_id, orig_ruri */
} odi_entry_t;

struct scscf_odi_table {
	pthread_mutex_t lock;
	odi_entry_t *buckets[NBUCKETS];
	size_t count, max;
	int64_t full_scan_at; /* when a put last scanned a full table */
	uint32_t ttl;
};

int scscf_odi_table_create(uint32_t ttl_s, size_t max_entries, scscf_odi_table_t **out)
{
	scscf_odi_table_t *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t)
		return IMS_ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->ttl = ttl_s ? ttl_s : 300;
	t->max = max_entries ? max_entries : 262144;
	t->full_scan_at = -1;
	*out = t;
	return 0;
}

void scscf_odi_table_destroy(scscf_odi_table_t *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < NBUCKETS; i++) {
		odi_entry_t *e = t->buckets[i];
		while (e) {
			odi_entry_t *n = e->next;
			free(e);
			e = n;
		}
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static unsigned bucket_of(ims_str_t token)
{
	return ims_str_hash(token) % NBUCKETS;
}

/* Unlinks expired entries; caller holds the lock. */
static size_t expire_locked(scscf_odi_table_t *t, int64_t now)
{
	size_t n = 0;
	for (unsigned i = 0; i < NBUCKETS; i++) {
		odi_entry_t **pp = &t->buckets[i];
		while (*pp) {
			odi_entry_t *e = *pp;
			if (e->expires <= now) {
				*pp = e->next;
				free(e);
				n++;
			} else {
				pp = &e->next;
			}
		}
	}
	t->count -= n;
	return n;
}

static char *put_str(char *p, ims_str_t in, ims_str_t *out)
{
	if (in.len)
		memcpy(p, in.s, in.len);
	p[in.len] = 0;
	*out = ims_str_from(p, in.len);
	return p + in.len + 1;
}

int scscf_odi_put(scscf_odi_table_t *t, const scscf_odi_info_t *info, int64_t now,
		  char token[SCSCF_ODI_TOKEN_LEN + 1])
{
	const ims_str_t *strs[] = { &info->served_user, &info->ruri, &info->call_id, &info->orig_ruri };
	size_t need = 0;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i]->len > SCSCF_ODI_MAX_STR)
			return IMS_ETOOBIG;
		need += strs[i]->len + 1;
	}
	unsigned char rnd[SCSCF_ODI_TOKEN_LEN / 2];
	/* The token is a capability: only the AS we sent the request to may
	 * resume the chain, so it must not be guessable. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return IMS_EIO;
	odi_entry_t *e = malloc(sizeof(*e) + need);
	if (!e)
		return IMS_ENOMEM;
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(rnd); i++) {
		e->token[2 * i] = hex[rnd[i] >> 4];
		e->token[2 * i + 1] = hex[rnd[i] & 15];
	}
	e->token[SCSCF_ODI_TOKEN_LEN] = 0;
	e->info = *info;
	e->returned = 0;
	char *p = e->strings;
	p = put_str(p, info->served_user, &e->info.served_user);
	p = put_str(p, info->ruri, &e->info.ruri);
	p = put_str(p, info->call_id, &e->info.call_id);
	put_str(p, info->orig_ruri, &e->info.orig_ruri);

	pthread_mutex_lock(&t->lock);
	e->expires = now + (int64_t)t->ttl;
	/* a full table is scanned for expired entries at most once a second
	 * (a scan under the lock for every refused put made a full table
	 * cost a core) */
	if (t->count >= t->max && t->full_scan_at != now) {
		t->full_scan_at = now;
		expire_locked(t, now);
	}
	if (t->count >= t->max) {
		pthread_mutex_unlock(&t->lock);
		free(e);
		return IMS_ENOSPC;
	}
	unsigned b = bucket_of(ims_str_from(e->token, SCSCF_ODI_TOKEN_LEN));
	e->next = t->buckets[b];
	t->buckets[b] = e;
	t->count++;
	pthread_mutex_unlock(&t->lock);
	memcpy(token, e->token, SCSCF_ODI_TOKEN_LEN + 1);
	return 0;
}

static odi_entry_t **find_locked(scscf_odi_table_t *t, ims_str_t token)
{
	if (token.len != SCSCF_ODI_TOKEN_LEN)
		return NULL;
	odi_entry_t **pp = &t->buckets[bucket_of(token)];
	for (; *pp; pp = &(*pp)->next)
		if (memcmp((*pp)->token, token.s, SCSCF_ODI_TOKEN_LEN) == 0)
			return pp;
	return NULL;
}

int scscf_odi_get(scscf_odi_table_t *t, ims_str_t token, int64_t now, ims_arena_t *a,
		  scscf_odi_info_t *out)
{
	int rc = IMS_ENOENT;
	pthread_mutex_lock(&t->lock);
	odi_entry_t **pp = find_locked(t, token);
	if (pp && (*pp)->expires <= now) {
		odi_entry_t *e = *pp;
		*pp = e->next;
		free(e);
		t->count--;
		pp = NULL;
	}
	if (pp) {
		(*pp)->returned = 1;
		const scscf_odi_info_t *in = &(*pp)->info;
		*out = *in;
		rc = 0;
		if (ims_arena_strdup(a, in->served_user, &out->served_user) ||
		    ims_arena_strdup(a, in->ruri, &out->ruri) ||
		    ims_arena_strdup(a, in->call_id, &out->call_id) ||
		    ims_arena_strdup(a, in->orig_ruri, &out->orig_ruri))
			rc = IMS_ENOMEM;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int scscf_odi_remove(scscf_odi_table_t *t, ims_str_t token)
{
	int rc = IMS_ENOENT;
	pthread_mutex_lock(&t->lock);
	odi_entry_t **pp = find_locked(t, token);
	if (pp) {
		odi_entry_t *e = *pp;
		*pp = e->next;
		free(e);
		t->count--;
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int scscf_odi_was_returned(scscf_odi_table_t *t, ims_str_t token)
{
	pthread_mutex_lock(&t->lock);
	odi_entry_t **pp = find_locked(t, token);
	int r = pp ? (*pp)->returned : 0;
	pthread_mutex_unlock(&t->lock);
	return r;
}

size_t scscf_odi_expire(scscf_odi_table_t *t, int64_t now)
{
	pthread_mutex_lock(&t->lock);
	size_t n = expire_locked(t, now);
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t scscf_odi_count(scscf_odi_table_t *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
