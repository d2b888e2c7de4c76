/* The P-CSCF registration cache: see reg-store.h. */
#include "reg-store.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"

#define NBUCKETS 1024u

typedef struct entry {
	struct entry *next_flow;    /* chain in the flow index */
	struct entry *prev, *next;  /* list of every entry */
	ims_arena_t *arena;         /* owns reg's strings */
	pcscf_reg_t *reg;
	uint32_t flow_hash;
	uint32_t contact_hash[PCSCF_REG_MAX_LIST];
} entry_t;

typedef struct cnode {
	struct cnode *next;
	entry_t *e;
	unsigned idx; /* which contact */
} cnode_t;

struct pcscf_reg_store {
	pthread_mutex_t mu;
	entry_t *flows[NBUCKETS];
	cnode_t *contacts[NBUCKETS];
	entry_t *all;
	unsigned count;
};

static uint32_t flow_hash(pcscf_transport_t tp, const char *ip, uint16_t port)
{
	char key[96];
	int n = snprintf(key, sizeof(key), "%d|%s|%u", (int)tp, ip, (unsigned)port);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(key))
		n = (int)sizeof(key) - 1;
	return ims_str_hash(ims_str_from(key, (size_t)n));
}

/* Contacts are indexed by host and port only (what identifies the UE's
 * binding); equality is then decided by the full URI comparison. */
static uint32_t contact_hash(ims_str_t uri)
{
	sip_uri_t u;
	if (sip_uri_parse(uri, NULL, &u) != 0)
		return ims_str_casehash(uri);
	uint32_t h = ims_str_casehash(u.host);
	return h ^ (uint32_t)(u.port ? u.port : 5060) * 2654435761u;
}

static int uri_equal_str(ims_str_t a, ims_str_t b)
{
	sip_uri_t ua, ub;
	if (sip_uri_parse(a, NULL, &ua) != 0 || sip_uri_parse(b, NULL, &ub) != 0)
		return ims_str_eq(a, b);
	return sip_uri_equal(&ua, &ub);
}

static int same_host_port(ims_str_t a, ims_str_t b)
{
	sip_uri_t ua, ub;
	if (sip_uri_parse(a, NULL, &ua) != 0 || sip_uri_parse(b, NULL, &ub) != 0)
		return 0;
	return ims_str_caseeq(ua.host, ub.host) &&
	       (ua.port ? ua.port : 5060) == (ub.port ? ub.port : 5060);
}

pcscf_reg_store_t *pcscf_reg_store_create(void)
{
	pcscf_reg_store_t *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	pthread_mutex_init(&st->mu, NULL);
	return st;
}

static void unlink_entry(pcscf_reg_store_t *st, entry_t *e)
{
	entry_t **pp = &st->flows[e->flow_hash % NBUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->next_flow;
	if (*pp)
		*pp = e->next_flow;
	for (unsigned i = 0; i < e->reg->n_contacts; i++) {
		cnode_t **cp = &st->contacts[e->contact_hash[i] % NBUCKETS];
		while (*cp) {
			if ((*cp)->e == e) {
				cnode_t *dead = *cp;
				*cp = dead->next;
				free(dead);
			} else {
				cp = &(*cp)->next;
			}
		}
	}
	if (e->prev)
		e->prev->next = e->next;
	else
		st->all = e->next;
	if (e->next)
		e->next->prev = e->prev;
	st->count--;
	ims_arena_destroy(e->arena);
	free(e);
}

void pcscf_reg_store_destroy(pcscf_reg_store_t *st)
{
	if (!st)
		return;
	while (st->all)
		unlink_entry(st, st->all);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

static int dup_str(ims_arena_t *a, ims_str_t in, ims_str_t *out)
{
	if (!in.s || in.len == 0) {
		*out = (ims_str_t){ "", 0 };
		return 0;
	}
	return ims_arena_strdup(a, in, out);
}

int pcscf_reg_copy(const pcscf_reg_t *in, ims_arena_t *a, pcscf_reg_t **out)
{
	pcscf_reg_t *r = ims_arena_zalloc(a, sizeof(*r));
	if (!r)
		return IMS_ENOMEM;
	r->flow = in->flow;
	r->expires_at = in->expires_at;
	r->n_assoc = in->n_assoc > PCSCF_REG_MAX_LIST ? PCSCF_REG_MAX_LIST : in->n_assoc;
	r->n_service_route = in->n_service_route > PCSCF_REG_MAX_LIST ? PCSCF_REG_MAX_LIST
								      : in->n_service_route;
	r->n_contacts = in->n_contacts > PCSCF_REG_MAX_LIST ? PCSCF_REG_MAX_LIST : in->n_contacts;
	if (dup_str(a, in->impi, &r->impi) || dup_str(a, in->impu, &r->impu) ||
	    dup_str(a, in->ck, &r->ck) || dup_str(a, in->ik, &r->ik))
		return IMS_ENOMEM;
	for (unsigned i = 0; i < r->n_assoc; i++)
		if (dup_str(a, in->assoc[i], &r->assoc[i]))
			return IMS_ENOMEM;
	for (unsigned i = 0; i < r->n_service_route; i++)
		if (dup_str(a, in->service_route[i], &r->service_route[i]))
			return IMS_ENOMEM;
	for (unsigned i = 0; i < r->n_contacts; i++)
		if (dup_str(a, in->contacts[i], &r->contacts[i]))
			return IMS_ENOMEM;
	*out = r;
	return 0;
}

static int flow_match(const pcscf_reg_t *r, pcscf_transport_t tp, const char *ip, uint16_t port)
{
	return r->flow.transport == tp && r->flow.port == port && strcmp(r->flow.ip, ip) == 0;
}

static entry_t *find_flow_locked(pcscf_reg_store_t *st, pcscf_transport_t tp, const char *ip,
				 uint16_t port)
{
	for (entry_t *e = st->flows[flow_hash(tp, ip, port) % NBUCKETS]; e; e = e->next_flow)
		if (flow_match(e->reg, tp, ip, port))
			return e;
	return NULL;
}

int pcscf_reg_store_put(pcscf_reg_store_t *st, const pcscf_reg_t *reg)
{
	if (!reg || reg->n_contacts == 0 || (reg->n_assoc == 0 && reg->impu.len == 0))
		return IMS_EINVAL;
	entry_t *e = calloc(1, sizeof(*e));
	if (!e)
		return IMS_ENOMEM;
	e->arena = ims_arena_create(1024);
	if (!e->arena || pcscf_reg_copy(reg, e->arena, &e->reg) != 0) {
		ims_arena_destroy(e->arena);
		free(e);
		return IMS_ENOMEM;
	}
	cnode_t *nodes[PCSCF_REG_MAX_LIST] = { 0 };
	for (unsigned i = 0; i < e->reg->n_contacts; i++) {
		nodes[i] = malloc(sizeof(cnode_t));
		if (!nodes[i]) {
			for (unsigned j = 0; j < i; j++)
				free(nodes[j]);
			ims_arena_destroy(e->arena);
			free(e);
			return IMS_ENOMEM;
		}
		e->contact_hash[i] = contact_hash(e->reg->contacts[i]);
	}
	e->flow_hash = flow_hash(reg->flow.transport, reg->flow.ip, reg->flow.port);

	pthread_mutex_lock(&st->mu);
	entry_t *old = find_flow_locked(st, reg->flow.transport, reg->flow.ip, reg->flow.port);
	if (old)
		unlink_entry(st, old);
	e->next_flow = st->flows[e->flow_hash % NBUCKETS];
	st->flows[e->flow_hash % NBUCKETS] = e;
	for (unsigned i = 0; i < e->reg->n_contacts; i++) {
		nodes[i]->e = e;
		nodes[i]->idx = i;
		nodes[i]->next = st->contacts[e->contact_hash[i] % NBUCKETS];
		st->contacts[e->contact_hash[i] % NBUCKETS] = nodes[i];
	}
	e->next = st->all;
	if (st->all)
		st->all->prev = e;
	st->all = e;
	st->count++;
	pthread_mutex_unlock(&st->mu);
	return 0;
}

int pcscf_reg_store_find_flow(pcscf_reg_store_t *st, pcscf_transport_t tp, const char *ip,
			      uint16_t port, int64_t now, ims_arena_t *a, pcscf_reg_t **out)
{
	int rc = IMS_ENOENT;
	pthread_mutex_lock(&st->mu);
	entry_t *e = find_flow_locked(st, tp, ip, port);
	if (e && e->reg->expires_at > now)
		rc = pcscf_reg_copy(e->reg, a, out);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int pcscf_reg_store_find_contact(pcscf_reg_store_t *st, ims_str_t uri, int64_t now,
				 ims_arena_t *a, pcscf_reg_t **out)
{
	int rc = IMS_ENOENT;
	uint32_t h = contact_hash(uri);
	entry_t *loose = NULL;
	pthread_mutex_lock(&st->mu);
	for (cnode_t *n = st->contacts[h % NBUCKETS]; n; n = n->next) {
		if (n->e->contact_hash[n->idx] != h || n->e->reg->expires_at <= now)
			continue;
		if (uri_equal_str(n->e->reg->contacts[n->idx], uri)) {
			loose = NULL;
			rc = pcscf_reg_copy(n->e->reg, a, out);
			break;
		}
		if (!loose && same_host_port(n->e->reg->contacts[n->idx], uri))
			loose = n->e;
	}
	/* A dialog's remote target may differ from the registered contact in
	 * the user part or parameters; the same host and port still name the
	 * UE's binding. */
	if (loose)
		rc = pcscf_reg_copy(loose->reg, a, out);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int pcscf_reg_store_remove_flow(pcscf_reg_store_t *st, pcscf_transport_t tp, const char *ip,
				uint16_t port)
{
	int rc = IMS_ENOENT;
	pthread_mutex_lock(&st->mu);
	entry_t *e = find_flow_locked(st, tp, ip, port);
	if (e) {
		unlink_entry(st, e);
		rc = 0;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int pcscf_reg_has_impu(const pcscf_reg_t *reg, ims_str_t uri)
{
	for (unsigned i = 0; i < reg->n_assoc; i++)
		if (uri_equal_str(reg->assoc[i], uri))
			return 1;
	if (reg->n_assoc == 0 && reg->impu.len && uri_equal_str(reg->impu, uri))
		return 1;
	return 0;
}

int pcscf_reg_store_remove_impu(pcscf_reg_store_t *st, ims_str_t impu)
{
	int n = 0;
	pthread_mutex_lock(&st->mu);
	entry_t *e = st->all;
	while (e) {
		entry_t *next = e->next;
		if (pcscf_reg_has_impu(e->reg, impu) ||
		    (e->reg->impu.len && uri_equal_str(e->reg->impu, impu))) {
			unlink_entry(st, e);
			n++;
		}
		e = next;
	}
	pthread_mutex_unlock(&st->mu);
	return n;
}

int pcscf_reg_store_expire(pcscf_reg_store_t *st, int64_t now)
{
	int n = 0;
	pthread_mutex_lock(&st->mu);
	entry_t *e = st->all;
	while (e) {
		entry_t *next = e->next;
		if (e->reg->expires_at <= now) {
			unlink_entry(st, e);
			n++;
		}
		e = next;
	}
	pthread_mutex_unlock(&st->mu);
	return n;
}

unsigned pcscf_reg_store_count(pcscf_reg_store_t *st)
{
	pthread_mutex_lock(&st->mu);
	unsigned n = st->count;
	pthread_mutex_unlock(&st->mu);
	return n;
}
