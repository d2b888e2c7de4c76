/* Reg-event subscription table: see regevent-subs.h. */
#include "regevent-subs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"

#define NBUCKETS 256u
#define MAX_CALL_ID 256u
#define MAX_IMPU 256u

typedef struct sub {
	struct sub *next;      /* chain by Call-ID */
	struct sub *next_impu; /* chain by public identity */
	int64_t expires_at;
	uint32_t hash, impu_hash;
	char call_id[MAX_CALL_ID];
	char impu[MAX_IMPU];
} sub_t;

struct pcscf_subs {
	pthread_mutex_t mu;
	sub_t *b[NBUCKETS];
	sub_t *bi[NBUCKETS];
	unsigned count;
};

pcscf_subs_t *pcscf_subs_create(void)
{
	pcscf_subs_t *s = calloc(1, sizeof(*s));
	if (s)
		pthread_mutex_init(&s->mu, NULL);
	return s;
}

void pcscf_subs_destroy(pcscf_subs_t *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < NBUCKETS; i++)
		while (s->b[i]) {
			sub_t *n = s->b[i]->next;
			free(s->b[i]);
			s->b[i] = n;
		}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void unlink_impu(pcscf_subs_t *s, sub_t *e)
{
	sub_t **pp = &s->bi[e->impu_hash % NBUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->next_impu;
	if (*pp)
		*pp = e->next_impu;
}

/* Call-IDs compare case-sensitively (RFC 3261 §20.8). */
static sub_t **find_locked(pcscf_subs_t *s, ims_str_t call_id, uint32_t h)
{
	sub_t **pp = &s->b[h % NBUCKETS];
	while (*pp && !((*pp)->hash == h && ims_str_eq_c(call_id, (*pp)->call_id)))
		pp = &(*pp)->next;
	return pp;
}

int pcscf_subs_add(pcscf_subs_t *s, ims_str_t call_id, ims_str_t impu, int64_t expires_at)
{
	if (!call_id.len || call_id.len >= MAX_CALL_ID || impu.len >= MAX_IMPU)
		return IMS_EINVAL;
	uint32_t h = ims_str_hash(call_id);
	pthread_mutex_lock(&s->mu);
	sub_t **pp = find_locked(s, call_id, h);
	if (*pp) {
		(*pp)->expires_at = expires_at;
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	sub_t *n = calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&s->mu);
		return IMS_ENOMEM;
	}
	memcpy(n->call_id, call_id.s, call_id.len);
	if (impu.len)
		memcpy(n->impu, impu.s, impu.len);
	n->hash = h;
	n->impu_hash = ims_str_casehash(impu);
	n->expires_at = expires_at;
	n->next = s->b[h % NBUCKETS];
	s->b[h % NBUCKETS] = n;
	n->next_impu = s->bi[n->impu_hash % NBUCKETS];
	s->bi[n->impu_hash % NBUCKETS] = n;
	s->count++;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int pcscf_subs_has(pcscf_subs_t *s, ims_str_t call_id, int64_t now)
{
	if (!call_id.len || call_id.len >= MAX_CALL_ID)
		return 0;
	uint32_t h = ims_str_hash(call_id);
	pthread_mutex_lock(&s->mu);
	sub_t *e = *find_locked(s, call_id, h);
	int live = e && e->expires_at > now;
	pthread_mutex_unlock(&s->mu);
	return live;
}

int pcscf_subs_remove(pcscf_subs_t *s, ims_str_t call_id)
{
	if (!call_id.len || call_id.len >= MAX_CALL_ID)
		return IMS_ENOENT;
	uint32_t h = ims_str_hash(call_id);
	pthread_mutex_lock(&s->mu);
	sub_t **pp = find_locked(s, call_id, h);
	int rc = IMS_ENOENT;
	if (*pp) {
		sub_t *dead = *pp;
		*pp = dead->next;
		unlink_impu(s, dead);
		free(dead);
		s->count--;
		rc = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int pcscf_subs_expire(pcscf_subs_t *s, int64_t now)
{
	int n = 0;
	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < NBUCKETS; i++) {
		sub_t **pp = &s->b[i];
		while (*pp) {
			if ((*pp)->expires_at <= now) {
				sub_t *dead = *pp;
				*pp = dead->next;
				unlink_impu(s, dead);
				free(dead);
				s->count--;
				n++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

int pcscf_subs_has_impu(pcscf_subs_t *s, ims_str_t impu, int64_t now)
{
	uint32_t h = ims_str_casehash(impu);
	int live = 0;
	pthread_mutex_lock(&s->mu);
	for (sub_t *e = s->bi[h % NBUCKETS]; e && !live; e = e->next_impu)
		live = e->impu_hash == h && e->expires_at > now && ims_str_caseeq_c(impu, e->impu);
	pthread_mutex_unlock(&s->mu);
	return live;
}

int pcscf_subs_set_expiry(pcscf_subs_t *s, ims_str_t call_id, int64_t expires_at)
{
	if (!call_id.len || call_id.len >= MAX_CALL_ID)
		return IMS_ENOENT;
	uint32_t h = ims_str_hash(call_id);
	pthread_mutex_lock(&s->mu);
	sub_t *e = *find_locked(s, call_id, h);
	if (e)
		e->expires_at = expires_at;
	pthread_mutex_unlock(&s->mu);
	return e ? 0 : IMS_ENOENT;
}

unsigned pcscf_subs_count(pcscf_subs_t *s)
{
	pthread_mutex_lock(&s->mu);
	unsigned n = s->count;
	pthread_mutex_unlock(&s->mu);
	return n;
}
