/* The P-CSCF registration cache: see reg-store.h. */
#include "reg-store.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"

#define NBUCKETS 16384u
#define MAX_IMPU_NODES (PCSCF_REG_MAX_LIST + 1) /* the IMPU, then each associated URI */

typedef struct entry {
	struct entry *next_flow;    /* chain in the flow index */
	struct entry *prev, *next;  /* list of every entry */
	ims_arena_t *arena;         /* owns reg's strings */
	pcscf_reg_t *reg;
	uint32_t flow_hash;
	uint32_t contact_hash[PCSCF_REG_MAX_LIST];
	uint32_t impu_hash[MAX_IMPU_NODES]; /* by index node idx (see cnode_t) */
} entry_t;

/* A node of the contact index (idx: which contact) or of the public
 * identity index (idx 0: reg->impu, idx i > 0: reg->assoc[i - 1]). */
typedef struct cnode {
	struct cnode *next;
	entry_t *e;
	unsigned idx;
} cnode_t;

struct pcscf_reg_store {
	pthread_mutex_t mu;
	entry_t *flows[NBUCKETS];
	cnode_t *contacts[NBUCKETS];
	cnode_t *impus[NBUCKETS];
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

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* FNV-1a over v with %XX escapes decoded, letters folded and the RFC 3966
 * visual separators skipped: coarser than every equality sip_uri_equal()
 * applies to a user part or host (escapes, host case, tel separators), so
 * two equal URIs always hash alike. */
static uint32_t norm_hash(ims_str_t v, uint32_t h)
{
	for (uint32_t i = 0; i < v.len; i++) {
		int c = (unsigned char)v.s[i];
		if (c == '%' && i + 2 < v.len && hexval(v.s[i + 1]) >= 0 &&
		    hexval(v.s[i + 2]) >= 0) {
			c = hexval(v.s[i + 1]) * 16 + hexval(v.s[i + 2]);
			i += 2;
		}
		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		h = (h ^ (uint32_t)c) * 16777619u;
	}
	return h;
}

/* Public identities are indexed by user and host, normalised so that
 * URIs sip_uri_equal() calls equal share a bucket; a string that does not
 * parse, or a URI of another scheme, is compared as it is and hashed so. */
static uint32_t impu_hash(ims_str_t uri)
{
	sip_uri_t u;
	if (sip_uri_parse(uri, NULL, &u) != 0 || u.scheme == SIP_URI_OTHER)
		return ims_str_casehash(uri);
	return norm_hash(u.host, norm_hash(u.user, 2166136261u) * 31u);
}

static ims_str_t impu_of(const entry_t *e, unsigned idx)
{
	return idx == 0 ? e->reg->impu : e->reg->assoc[idx - 1];
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

/* Frees every node of e in one bucket of an index. */
static void unlink_nodes(cnode_t **cp, const entry_t *e)
{
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

static void unlink_entry(pcscf_reg_store_t *st, entry_t *e)
{
	entry_t **pp = &st->flows[e->flow_hash % NBUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->next_flow;
	if (*pp)
		*pp = e->next_flow;
	for (unsigned i = 0; i < e->reg->n_contacts; i++)
		unlink_nodes(&st->contacts[e->contact_hash[i] % NBUCKETS], e);
	for (unsigned i = e->reg->impu.len ? 0 : 1; i <= e->reg->n_assoc; i++)
		unlink_nodes(&st->impus[e->impu_hash[i] % NBUCKETS], e);
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
	/* nodes[0 .. n_contacts): the contacts; then one per public identity */
	cnode_t *nodes[PCSCF_REG_MAX_LIST + MAX_IMPU_NODES] = { 0 };
	unsigned nc = e->reg->n_contacts, ni = 0;
	unsigned impu_idx[MAX_IMPU_NODES];
	if (e->reg->impu.len)
		impu_idx[ni++] = 0;
	for (unsigned i = 0; i < e->reg->n_assoc; i++)
		impu_idx[ni++] = i + 1;
	for (unsigned i = 0; i < nc + ni; i++) {
		nodes[i] = malloc(sizeof(cnode_t));
		if (!nodes[i]) {
			for (unsigned j = 0; j < i; j++)
				free(nodes[j]);
			ims_arena_destroy(e->arena);
			free(e);
			return IMS_ENOMEM;
		}
	}
	for (unsigned i = 0; i < nc; i++)
		e->contact_hash[i] = contact_hash(e->reg->contacts[i]);
	for (unsigned i = 0; i < ni; i++)
		e->impu_hash[impu_idx[i]] = impu_hash(impu_of(e, impu_idx[i]));
	e->flow_hash = flow_hash(reg->flow.transport, reg->flow.ip, reg->flow.port);

	pthread_mutex_lock(&st->mu);
	entry_t *old = find_flow_locked(st, reg->flow.transport, reg->flow.ip, reg->flow.port);
	if (old)
		unlink_entry(st, old);
	e->next_flow = st->flows[e->flow_hash % NBUCKETS];
	st->flows[e->flow_hash % NBUCKETS] = e;
	for (unsigned i = 0; i < nc; i++) {
		nodes[i]->e = e;
		nodes[i]->idx = i;
		nodes[i]->next = st->contacts[e->contact_hash[i] % NBUCKETS];
		st->contacts[e->contact_hash[i] % NBUCKETS] = nodes[i];
	}
	for (unsigned i = 0; i < ni; i++) {
		cnode_t *n = nodes[nc + i];
		n->e = e;
		n->idx = impu_idx[i];
		n->next = st->impus[e->impu_hash[n->idx] % NBUCKETS];
		st->impus[e->impu_hash[n->idx] % NBUCKETS] = n;
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

/* Through the identity index: a de-registration NOTIFY costs the length
 * of one bucket, not a pass over every registration. An entry matches
 * when its IMPU or one of its associated URIs equals impu; removing it
 * frees its nodes, so the bucket is searched again until none matches. */
int pcscf_reg_store_remove_impu(pcscf_reg_store_t *st, ims_str_t impu)
{
	int n = 0;
	uint32_t h = impu_hash(impu);
	pthread_mutex_lock(&st->mu);
	for (;;) {
		entry_t *hit = NULL;
		for (cnode_t *c = st->impus[h % NBUCKETS]; c && !hit; c = c->next)
			if (c->e->impu_hash[c->idx] == h && uri_equal_str(impu_of(c->e, c->idx), impu))
				hit = c->e;
		if (!hit)
			break;
		unlink_entry(st, hit);
		n++;
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
