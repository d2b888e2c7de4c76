/* The S-CSCF registrar store (see reg-store.h).
 *
 * Memory: one reg_t per registration (implicit registration set), a list
 * of bind_t per reg, every string malloc'ed. An index (chained hash,
 * doubling) maps each public identity of a set to its reg_t. One mutex
 * guards all of it and the SQLite handle (opened NOMUTEX: ours serialises
 * every use); the write-through to SQLite happens under that mutex so
 * memory and file never disagree in order.
 * Profiles are shared with readers through a small refcounted holder so a
 * PPR can replace a profile while a session still evaluates the old one. */
#include "reg-store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/msg/sip_msg.h"

typedef struct prof_ref {
	atomic_int refs;
	struct scscf_profile *p;
	scscf_profile_free_fn fr;
} prof_ref_t;

typedef struct bind {
	struct bind *next;
	uint64_t id;
	char *uri, *params, *path, *received, *instance, *call_id, *ua;
	uint32_t reg_id, cseq;
	int q;
	int64_t expires;
} bind_t;

typedef struct reg {
	struct reg *next_all, *prev_all;
	int64_t dbid;
	char *impi, *impu;
	char **impus;
	size_t n_impus;
	char *user_data;
	prof_ref_t *prof;
	int unregistered; /* kept for unregistered services (no bindings needed) */
	bind_t *binds;
} reg_t;

typedef struct idx {
	struct idx *next;
	const char *key; /* points into reg->impus[] or reg->impu */
	uint32_t len, hash;
	reg_t *r;
} idx_t;

/* Write statements, compiled once per connection (sqlite3_prepare_v3
 * with SQLITE_PREPARE_PERSISTENT) and reset after each use: compiling
 * them on every write was half of db_save's cost. */
enum { Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_DEL_BIND, Q_DEL_REG, Q_INS_REG, Q_INS_BIND, Q_COUNT };

static const char *const q_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_DEL_BIND] = "DELETE FROM binding WHERE reg=?1",
	[Q_DEL_REG] = "DELETE FROM reg WHERE id=?1",
	[Q_INS_REG] = "INSERT INTO reg(id,impi,impu,impus,user_data,unregistered)"
		      " VALUES(?1,?2,?3,?4,?5,?6)",
	[Q_INS_BIND] = "INSERT INTO binding(reg,id,uri,params,path,received,instance,"
		       "reg_id,q,expires,call_id,cseq,ua)"
		       " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
};

struct scscf_reg_store {
	pthread_mutex_t mu;
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	scscf_profile_free_fn profile_free;
	reg_t *all;
	size_t n_regs;
	idx_t **buckets;
	size_t n_buckets, n_idx;
	uint64_t next_bid;
	int64_t next_dbid;
};

/* ---- small helpers ---------------------------------------------------- */

static char *sdup(ims_str_t v)
{
	char *p = malloc((size_t)v.len + 1);
	if (!p)
		return NULL;
	if (v.len)
		memcpy(p, v.s, v.len);
	p[v.len] = '\0';
	return p;
}

static ims_str_t adup(ims_arena_t *a, const char *c, int *oom)
{
	ims_str_t out = IMS_STR_NULL;
	if (!c || !*c)
		return IMS_STR("");
	if (ims_arena_strdup(a, ims_str_cstr(c), &out) != 0)
		*oom = 1;
	return out;
}

static ims_str_t adupv(ims_arena_t *a, ims_str_t v, int *oom)
{
	ims_str_t out = IMS_STR_NULL;
	if (!v.s || !v.len)
		return IMS_STR("");
	if (ims_arena_strdup(a, v, &out) != 0)
		*oom = 1;
	return out;
}

static void prof_put(prof_ref_t *pr)
{
	if (!pr)
		return;
	if (atomic_fetch_sub(&pr->refs, 1) == 1) {
		if (pr->p && pr->fr)
			pr->fr(pr->p);
		free(pr);
	}
}

static prof_ref_t *prof_new(scscf_reg_store_t *st, struct scscf_profile *p)
{
	prof_ref_t *pr;
	if (!p)
		return NULL;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	atomic_init(&pr->refs, 1);
	pr->p = p;
	pr->fr = st->profile_free;
	return pr;
}

static void bind_free(bind_t *b)
{
	if (!b)
		return;
	free(b->uri);
	free(b->params);
	free(b->path);
	free(b->received);
	free(b->instance);
	free(b->call_id);
	free(b->ua);
	free(b);
}

static void reg_free(reg_t *r)
{
	bind_t *b, *n;
	size_t i;
	if (!r)
		return;
	for (b = r->binds; b; b = n) {
		n = b->next;
		bind_free(b);
	}
	for (i = 0; i < r->n_impus; i++)
		free(r->impus[i]);
	free(r->impus);
	free(r->impi);
	free(r->impu);
	free(r->user_data);
	prof_put(r->prof);
	free(r);
}

/* ---- index ------------------------------------------------------------ */

static int idx_grow(scscf_reg_store_t *st)
{
	size_t nb = st->n_buckets ? st->n_buckets * 2 : 1024, i;
	idx_t **b = calloc(nb, sizeof(*b));
	if (!b)
		return IMS_ENOMEM;
	for (i = 0; i < st->n_buckets; i++) {
		idx_t *e = st->buckets[i], *n;
		for (; e; e = n) {
			n = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(st->buckets);
	st->buckets = b;
	st->n_buckets = nb;
	return 0;
}

static reg_t *idx_find(const scscf_reg_store_t *st, ims_str_t key)
{
	uint32_t h;
	idx_t *e;
	if (!st->n_buckets || !key.len)
		return NULL;
	h = ims_str_hash(key);
	for (e = st->buckets[h & (st->n_buckets - 1)]; e; e = e->next)
		if (e->hash == h && e->len == key.len && memcmp(e->key, key.s, key.len) == 0)
			return e->r;
	return NULL;
}

static int idx_add(scscf_reg_store_t *st, const char *key, reg_t *r)
{
	idx_t *e;
	ims_str_t k = ims_str_cstr(key);
	if (idx_find(st, k) == r)
		return 0;
	if (st->n_idx + 1 > st->n_buckets && idx_grow(st) != 0)
		return IMS_ENOMEM;
	e = calloc(1, sizeof(*e));
	if (!e)
		return IMS_ENOMEM;
	e->key = key;
	e->len = k.len;
	e->hash = ims_str_hash(k);
	e->r = r;
	e->next = st->buckets[e->hash & (st->n_buckets - 1)];
	st->buckets[e->hash & (st->n_buckets - 1)] = e;
	st->n_idx++;
	return 0;
}

static void idx_remove_reg(scscf_reg_store_t *st, const reg_t *r)
{
	size_t i;
	const char *keys_one[1];
	const char *const *keys = (const char *const *)r->impus;
	size_t n = r->n_impus;
	if (!st->n_buckets)
		return;
	keys_one[0] = r->impu;
	for (size_t pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			keys = keys_one;
			n = 1;
		}
		for (i = 0; i < n; i++) {
			ims_str_t k = ims_str_cstr(keys[i]);
			uint32_t h = ims_str_hash(k);
			idx_t **pp = &st->buckets[h & (st->n_buckets - 1)];
			while (*pp) {
				idx_t *e = *pp;
				if (e->r == r) {
					*pp = e->next;
					free(e);
					st->n_idx--;
				} else {
					pp = &e->next;
				}
			}
		}
	}
}

static int idx_add_reg(scscf_reg_store_t *st, reg_t *r)
{
	size_t i;
	int rc = idx_add(st, r->impu, r);
	for (i = 0; rc == 0 && i < r->n_impus; i++)
		rc = idx_add(st, r->impus[i], r);
	return rc;
}

static void reg_link(scscf_reg_store_t *st, reg_t *r)
{
	r->next_all = st->all;
	r->prev_all = NULL;
	if (st->all)
		st->all->prev_all = r;
	st->all = r;
	st->n_regs++;
}

static void reg_unlink(scscf_reg_store_t *st, reg_t *r)
{
	if (r->prev_all)
		r->prev_all->next_all = r->next_all;
	else
		st->all = r->next_all;
	if (r->next_all)
		r->next_all->prev_all = r->prev_all;
	st->n_regs--;
}

/* ---- SQLite write-through --------------------------------------------- */

static const char *const schema =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS reg("
	" id INTEGER PRIMARY KEY, impi TEXT NOT NULL, impu TEXT NOT NULL,"
	" impus TEXT NOT NULL, user_data TEXT, unregistered INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS binding("
	" reg INTEGER NOT NULL, id INTEGER NOT NULL, uri TEXT NOT NULL, params TEXT,"
	" path TEXT, received TEXT, instance TEXT, reg_id INTEGER, q INTEGER,"
	" expires INTEGER NOT NULL, call_id TEXT, cseq INTEGER, ua TEXT);"
	"CREATE INDEX IF NOT EXISTS binding_reg ON binding(reg);";

static int db_exec(scscf_reg_store_t *st, const char *sql)
{
	char *msg = NULL;
	if (!st->db)
		return 0;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		LOG_ERROR("scscf", "regdb.error sql=\"%.40s\" err=\"%s\"", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return IMS_EDB;
	}
	return 0;
}

static char *join_impus(const reg_t *r)
{
	size_t n = 1, i;
	char *s, *p;
	for (i = 0; i < r->n_impus; i++)
		n += strlen(r->impus[i]) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	p = s;
	for (i = 0; i < r->n_impus; i++) {
		size_t l = strlen(r->impus[i]);
		memcpy(p, r->impus[i], l);
		p += l;
		*p++ = '\n';
	}
	*p = '\0';
	return s;
}

/* Runs one cached statement to completion with its bindings as set by the
 * caller, then resets it and clears the bindings (text is bound STATIC). */
static int q_run(scscf_reg_store_t *st, int which)
{
	sqlite3_stmt *s = st->q[which];
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : IMS_EDB;
}

static int q_prepare_all(scscf_reg_store_t *st)
{
	for (int i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->q[i],
				       NULL) != SQLITE_OK) {
			LOG_ERROR("scscf", "regdb.prepare_failed sql=\"%.40s\" err=\"%s\"", q_sql[i],
				  sqlite3_errmsg(st->db));
			return IMS_EDB;
		}
	return 0;
}

static int db_delete(scscf_reg_store_t *st, int64_t dbid)
{
	int rc = 0;
	if (!st->db)
		return 0;
	for (int i = Q_DEL_BIND; i <= Q_DEL_REG && rc == 0; i++) {
		sqlite3_bind_int64(st->q[i], 1, dbid);
		rc = q_run(st, i);
	}
	if (rc)
		LOG_ERROR("scscf", "regdb.delete_failed err=\"%s\"", sqlite3_errmsg(st->db));
	return rc;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Rewrites one registration (reg row + its bindings) in one transaction. */
static int db_save(scscf_reg_store_t *st, const reg_t *r)
{
	sqlite3_stmt *s;
	char *impus;
	int rc = 0;
	const bind_t *b;

	if (!st->db)
		return 0;
	impus = join_impus(r);
	if (!impus)
		return IMS_ENOMEM;
	if (q_run(st, Q_BEGIN) != 0) {
		LOG_ERROR("scscf", "regdb.begin_failed err=\"%s\"", sqlite3_errmsg(st->db));
		free(impus);
		return IMS_EDB;
	}
	rc = db_delete(st, r->dbid);
	if (rc == 0) {
		s = st->q[Q_INS_REG];
		sqlite3_bind_int64(s, 1, r->dbid);
		bind_text(s, 2, r->impi);
		bind_text(s, 3, r->impu);
		bind_text(s, 4, impus);
		bind_text(s, 5, r->user_data);
		sqlite3_bind_int(s, 6, r->unregistered);
		rc = q_run(st, Q_INS_REG);
	}
	s = st->q[Q_INS_BIND];
	for (b = r->binds; b && rc == 0; b = b->next) {
		sqlite3_bind_int64(s, 1, r->dbid);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)b->id);
		bind_text(s, 3, b->uri);
		bind_text(s, 4, b->params);
		bind_text(s, 5, b->path);
		bind_text(s, 6, b->received);
		bind_text(s, 7, b->instance);
		sqlite3_bind_int64(s, 8, b->reg_id);
		sqlite3_bind_int(s, 9, b->q);
		sqlite3_bind_int64(s, 10, b->expires);
		bind_text(s, 11, b->call_id);
		sqlite3_bind_int64(s, 12, b->cseq);
		bind_text(s, 13, b->ua);
		rc = q_run(st, Q_INS_BIND);
	}
	free(impus);
	if (rc == 0)
		rc = q_run(st, Q_COMMIT);
	if (rc != 0) {
		LOG_ERROR("scscf", "regdb.save_failed impu=%s err=\"%s\"", r->impu,
			  sqlite3_errmsg(st->db));
		q_run(st, Q_ROLLBACK);
	}
	return rc;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

static int split_impus(const char *joined, char ***out, size_t *n)
{
	size_t cnt = 0, i = 0;
	const char *p;
	char **v;
	for (p = joined; *p; p++)
		if (*p == '\n')
			cnt++;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v)
		return IMS_ENOMEM;
	p = joined;
	while (*p && i < cnt) {
		const char *e = strchr(p, '\n');
		v[i] = sdup(ims_str_from(p, (size_t)(e - p)));
		if (!v[i]) {
			while (i)
				free(v[--i]);
			free(v);
			return IMS_ENOMEM;
		}
		i++;
		p = e + 1;
	}
	*out = v;
	*n = i;
	return 0;
}

static int db_load(scscf_reg_store_t *st)
{
	sqlite3_stmt *s = NULL, *b = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT id,impi,impu,impus,user_data,unregistered FROM reg",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
			       "SELECT id,uri,params,path,received,instance,reg_id,q,expires,"
			       "call_id,cseq,ua FROM binding WHERE reg=?1 ORDER BY id",
			       -1, &b, NULL) != SQLITE_OK) {
		rc = IMS_EDB;
		goto out;
	}
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		reg_t *r = calloc(1, sizeof(*r));
		bind_t **tail;
		const unsigned char *impus = sqlite3_column_text(s, 3);
		if (!r) {
			rc = IMS_ENOMEM;
			break;
		}
		r->dbid = sqlite3_column_int64(s, 0);
		r->impi = col_dup(s, 1);
		r->impu = col_dup(s, 2);
		r->user_data = col_dup(s, 4);
		r->unregistered = sqlite3_column_int(s, 5);
		if (!r->impi || !r->impu ||
		    split_impus(impus ? (const char *)impus : "", &r->impus, &r->n_impus) != 0) {
			reg_free(r);
			rc = IMS_ENOMEM;
			break;
		}
		tail = &r->binds;
		sqlite3_reset(b);
		sqlite3_bind_int64(b, 1, r->dbid);
		while (sqlite3_step(b) == SQLITE_ROW) {
			bind_t *x = calloc(1, sizeof(*x));
			if (!x) {
				rc = IMS_ENOMEM;
				break;
			}
			x->id = (uint64_t)sqlite3_column_int64(b, 0);
			x->uri = col_dup(b, 1);
			x->params = col_dup(b, 2);
			x->path = col_dup(b, 3);
			x->received = col_dup(b, 4);
			x->instance = col_dup(b, 5);
			x->reg_id = (uint32_t)sqlite3_column_int64(b, 6);
			x->q = sqlite3_column_int(b, 7);
			x->expires = sqlite3_column_int64(b, 8);
			x->call_id = col_dup(b, 9);
			x->cseq = (uint32_t)sqlite3_column_int64(b, 10);
			x->ua = col_dup(b, 11);
			if (x->id >= st->next_bid)
				st->next_bid = x->id + 1;
			*tail = x;
			tail = &x->next;
		}
		if (r->dbid >= st->next_dbid)
			st->next_dbid = r->dbid + 1;
		reg_link(st, r);
		if (idx_add_reg(st, r) != 0)
			rc = IMS_ENOMEM;
	}
out:
	if (rc == IMS_EDB)
		LOG_ERROR("scscf", "regdb.load_failed err=\"%s\"", sqlite3_errmsg(st->db));
	sqlite3_finalize(s);
	sqlite3_finalize(b);
	return rc;
}

/* ---- open / close ----------------------------------------------------- */

int scscf_reg_store_open(const char *db_path, scscf_profile_free_fn profile_free,
			 scscf_reg_store_t **out)
{
	scscf_reg_store_t *st = calloc(1, sizeof(*st));
	int rc;
	if (!st)
		return IMS_ENOMEM;
	pthread_mutex_init(&st->mu, NULL);
	st->profile_free = profile_free;
	st->next_bid = 1;
	st->next_dbid = 1;
	if (idx_grow(st) != 0) {
		scscf_reg_store_close(st);
		return IMS_ENOMEM;
	}
	if (!db_path || !*db_path)
		db_path = ":memory:";
	if (sqlite3_open_v2(db_path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		LOG_ERROR("scscf", "regdb.open_failed path=%s err=\"%s\"", db_path,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		scscf_reg_store_close(st);
		return IMS_EDB;
	}
	sqlite3_busy_timeout(st->db, 2000);
	rc = db_exec(st, schema);
	if (rc == 0)
		rc = q_prepare_all(st);
	if (rc == 0)
		rc = db_load(st);
	if (rc != 0) {
		scscf_reg_store_close(st);
		return rc;
	}
	LOG_INFO("scscf", "regdb.loaded path=%s registrations=%zu", db_path, st->n_regs);
	*out = st;
	return 0;
}

void scscf_reg_store_close(scscf_reg_store_t *st)
{
	reg_t *r, *n;
	size_t i;
	if (!st)
		return;
	for (r = st->all; r; r = n) {
		n = r->next_all;
		reg_free(r);
	}
	for (i = 0; i < st->n_buckets; i++) {
		idx_t *e = st->buckets[i], *en;
		for (; e; e = en) {
			en = e->next;
			free(e);
		}
	}
	free(st->buckets);
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->q[i]);
	if (st->db)
		sqlite3_close(st->db);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* ---- snapshots -------------------------------------------------------- */

static void bind_view(const bind_t *b, ims_arena_t *a, scscf_binding_t *v, int *oom)
{
	memset(v, 0, sizeof(*v));
	v->id = b->id;
	v->uri = adup(a, b->uri, oom);
	v->params = adup(a, b->params, oom);
	v->path = adup(a, b->path, oom);
	v->received = adup(a, b->received, oom);
	v->instance = adup(a, b->instance, oom);
	v->reg_id = b->reg_id;
	v->q = b->q;
	v->expires = b->expires;
	v->call_id = adup(a, b->call_id, oom);
	v->cseq = b->cseq;
	v->user_agent = adup(a, b->ua, oom);
}

static int q_of(int q)
{
	return q < 0 ? 1000 : q; /* RFC 3261 §20.10: absent q ranks as 1.0 here */
}

static void sort_by_q(scscf_binding_t *v, size_t n)
{
	/* insertion sort: a handful of contacts, stable */
	for (size_t i = 1; i < n; i++) {
		scscf_binding_t t = v[i];
		size_t j = i;
		while (j > 0 && q_of(v[j - 1].q) < q_of(t.q)) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
}

static int fill_ids(ims_arena_t *a, char *const *impus, size_t n, ims_str_t **out, int *oom)
{
	*out = NULL;
	if (!n)
		return 0;
	*out = ims_arena_zalloc(a, n * sizeof(**out));
	if (!*out) {
		*oom = 1;
		return IMS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		(*out)[i] = adup(a, impus[i], oom);
	return 0;
}

int scscf_reg_store_lookup(scscf_reg_store_t *st, ims_str_t impu, int64_t now, ims_arena_t *a,
			   scscf_reg_view_t *out)
{
	reg_t *r;
	const bind_t *b;
	size_t n = 0;
	int oom = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->mu);
	r = idx_find(st, impu);
	if (!r) {
		pthread_mutex_unlock(&st->mu);
		return IMS_ENOENT;
	}
	for (b = r->binds; b; b = b->next)
		if (b->expires > now)
			n++;
	out->impi = adup(a, r->impi, &oom);
	out->impu = adup(a, r->impu, &oom);
	fill_ids(a, r->impus, r->n_impus, &out->impus, &oom);
	out->n_impus = out->impus ? r->n_impus : 0;
	out->user_data = adup(a, r->user_data, &oom);
	if (n) {
		out->bindings = ims_arena_zalloc(a, n * sizeof(*out->bindings));
		if (!out->bindings)
			oom = 1;
		else
			for (b = r->binds; b; b = b->next)
				if (b->expires > now)
					bind_view(b, a, &out->bindings[out->n_bindings++], &oom);
		if (out->bindings)
			sort_by_q(out->bindings, out->n_bindings);
	}
	out->state = n ? SCSCF_REG_REGISTERED
		       : (r->unregistered ? SCSCF_REG_UNREGISTERED : SCSCF_REG_NOT_REGISTERED);
	if (!oom && r->prof) {
		atomic_fetch_add(&r->prof->refs, 1);
		out->priv = r->prof;
		out->profile = r->prof->p;
	}
	pthread_mutex_unlock(&st->mu);
	if (oom) {
		memset(out, 0, sizeof(*out));
		return IMS_ENOMEM;
	}
	return 0;
}

void scscf_reg_view_release(scscf_reg_view_t *v)
{
	if (!v)
		return;
	prof_put(v->priv);
	v->priv = NULL;
	v->profile = NULL;
}

scscf_reg_state_t scscf_reg_store_state(scscf_reg_store_t *st, ims_str_t impu, int64_t now)
{
	scscf_reg_state_t s = SCSCF_REG_NOT_REGISTERED;
	reg_t *r;
	pthread_mutex_lock(&st->mu);
	r = idx_find(st, impu);
	if (r) {
		const bind_t *b;
		for (b = r->binds; b; b = b->next)
			if (b->expires > now)
				break;
		s = b ? SCSCF_REG_REGISTERED
		      : (r->unregistered ? SCSCF_REG_UNREGISTERED : SCSCF_REG_NOT_REGISTERED);
	}
	pthread_mutex_unlock(&st->mu);
	return s;
}

size_t scscf_reg_store_count(scscf_reg_store_t *st, size_t *n_bindings)
{
	size_t n, nb = 0;
	const reg_t *r;
	pthread_mutex_lock(&st->mu);
	n = st->n_regs;
	for (r = st->all; r && n_bindings; r = r->next_all)
		for (const bind_t *b = r->binds; b; b = b->next)
			nb++;
	pthread_mutex_unlock(&st->mu);
	if (n_bindings)
		*n_bindings = nb;
	return n;
}

/* ---- updates ---------------------------------------------------------- */

/* RFC 3261 §10.3 step 6 compares Contact URIs with §19.1.4 equality;
 * RFC 5626 §6 matches a binding by +sip.instance and reg-id instead. */
static int same_binding(const scscf_binding_t *have, const scscf_binding_t *want)
{
	if (want->instance.len && have->instance.len) {
		if (!ims_str_eq(want->instance, have->instance))
			return 0;
		return want->reg_id == have->reg_id;
	}
	if (ims_str_eq(have->uri, want->uri))
		return 1;
	{
		sip_uri_t ua, ub;
		if (sip_uri_parse(have->uri, NULL, &ua) == 0 &&
		    sip_uri_parse(want->uri, NULL, &ub) == 0)
			return sip_uri_equal(&ua, &ub);
	}
	return 0;
}

static int live_count(const scscf_binding_t *v, size_t n, int64_t now)
{
	int c = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].expires > now && v[i].event != SCSCF_CEV_UNREGISTERED &&
		    v[i].event != SCSCF_CEV_EXPIRED && v[i].event != SCSCF_CEV_DEACTIVATED &&
		    v[i].event != SCSCF_CEV_REJECTED)
			c++;
	return c;
}

static bind_t *bind_from_view(const scscf_binding_t *v)
{
	bind_t *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->id = v->id;
	b->uri = sdup(v->uri);
	b->params = v->params.len ? sdup(v->params) : NULL;
	b->path = v->path.len ? sdup(v->path) : NULL;
	b->received = v->received.len ? sdup(v->received) : NULL;
	b->instance = v->instance.len ? sdup(v->instance) : NULL;
	b->call_id = v->call_id.len ? sdup(v->call_id) : NULL;
	b->ua = v->user_agent.len ? sdup(v->user_agent) : NULL;
	b->reg_id = v->reg_id;
	b->cseq = v->cseq;
	b->q = v->q;
	b->expires = v->expires;
	if (!b->uri || (v->params.len && !b->params) || (v->path.len && !b->path) ||
	    (v->received.len && !b->received) || (v->instance.len && !b->instance) ||
	    (v->call_id.len && !b->call_id) || (v->user_agent.len && !b->ua)) {
		bind_free(b);
		return NULL;
	}
	return b;
}

static int set_impus(reg_t *r, const ims_str_t *impus, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	size_t i;
	if (!v)
		return IMS_ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = sdup(impus[i]);
		if (!v[i]) {
			while (i)
				free(v[--i]);
			free(v);
			return IMS_ENOMEM;
		}
	}
	for (i = 0; i < r->n_impus; i++)
		free(r->impus[i]);
	free(r->impus);
	r->impus = v;
	r->n_impus = n;
	return 0;
}

static void fill_change_ids(const reg_t *r, ims_arena_t *a, scscf_reg_change_t *chg, int *oom)
{
	chg->impi = adup(a, r->impi, oom);
	chg->impu = adup(a, r->impu, oom);
	fill_ids(a, r->impus, r->n_impus, &chg->impus, oom);
	chg->n_impus = chg->impus ? r->n_impus : 0;
}

/* Removes r from memory and file (caller holds the lock). */
static void reg_drop(scscf_reg_store_t *st, reg_t *r)
{
	idx_remove_reg(st, r);
	reg_unlink(st, r);
	db_delete(st, r->dbid);
	reg_free(r);
}

int scscf_reg_store_apply(scscf_reg_store_t *st, const scscf_reg_update_t *upd, int64_t now,
			  int dry_run, ims_arena_t *a, scscf_reg_change_t *chg)
{
	reg_t *r;
	const bind_t *b;
	scscf_binding_t *v;
	size_t n = 0, cap, i, j;
	int oom = 0, rc = 0, created = 0, prof_taken = 0;

	memset(chg, 0, sizeof(*chg));
	pthread_mutex_lock(&st->mu);
	r = idx_find(st, upd->impu);
	for (i = 0; !r && i < upd->n_impus; i++)
		r = idx_find(st, upd->impus[i]);

	/* Work on a copy in the arena: the dry run and the real run share
	 * every rule, and a failure half way leaves the store untouched. */
	cap = upd->n_contacts;
	for (b = r ? r->binds : NULL; b; b = b->next)
		cap++;
	v = ims_arena_zalloc(a, (cap ? cap : 1) * sizeof(*v));
	if (!v) {
		rc = IMS_ENOMEM;
		goto out;
	}
	chg->old_state = SCSCF_REG_NOT_REGISTERED;
	for (b = r ? r->binds : NULL; b; b = b->next) {
		bind_view(b, a, &v[n], &oom);
		if (b->expires <= now)
			v[n].event = SCSCF_CEV_EXPIRED; /* not swept yet */
		else
			chg->old_state = SCSCF_REG_REGISTERED;
		n++;
	}
	if (r && chg->old_state == SCSCF_REG_NOT_REGISTERED && r->unregistered)
		chg->old_state = SCSCF_REG_UNREGISTERED;

	if (upd->star) {
		/* RFC 3261 §10.3 step 6: "*" removes every binding of the AOR */
		for (i = 0; i < n; i++)
			if (v[i].event == SCSCF_CEV_NONE)
				v[i].event = SCSCF_CEV_UNREGISTERED;
	}
	for (j = 0; !upd->star && j < upd->n_contacts; j++) {
		const scscf_binding_t *c = &upd->contacts[j];
		scscf_binding_t *m = NULL;
		for (i = 0; i < n; i++)
			if (v[i].event != SCSCF_CEV_EXPIRED && v[i].event != SCSCF_CEV_UNREGISTERED &&
			    same_binding(&v[i], c)) {
				m = &v[i];
				break;
			}
		/* RFC 3261 §10.3 step 7: same Call-ID with a CSeq not higher
		 * than the stored one is an out-of-order request. */
		if (m && c->call_id.len && ims_str_eq(m->call_id, c->call_id) && c->cseq <= m->cseq) {
			rc = IMS_ESTATE;
			goto out;
		}
		if (c->expires <= now) {
			if (m)
				m->event = SCSCF_CEV_UNREGISTERED;
			continue;
		}
		if (m) {
			int64_t old = m->expires;
			uint64_t id = m->id;
			*m = *c;
			m->id = id;
			m->uri = adupv(a, c->uri, &oom);
			m->event = c->expires < old ? SCSCF_CEV_SHORTENED : SCSCF_CEV_REFRESHED;
		} else {
			v[n] = *c;
			v[n].id = dry_run ? 0 : st->next_bid++;
			v[n].event = SCSCF_CEV_REGISTERED;
			n++;
		}
	}
	if (oom) {
		rc = IMS_ENOMEM;
		goto out;
	}
	chg->bindings = v;
	chg->n_bindings = n;
	chg->n_live = (size_t)live_count(v, n, now);
	chg->new_state = chg->n_live ? SCSCF_REG_REGISTERED : SCSCF_REG_NOT_REGISTERED;

	if (dry_run) {
		if (r)
			fill_change_ids(r, a, chg, &oom);
		else {
			chg->impi = adupv(a, upd->impi, &oom);
			chg->impu = adupv(a, upd->impu, &oom);
		}
		rc = oom ? IMS_ENOMEM : 0;
		goto out;
	}

	if (!chg->n_live) {
		if (r) {
			fill_change_ids(r, a, chg, &oom);
			reg_drop(st, r);
			r = NULL;
		} else {
			chg->impi = adupv(a, upd->impi, &oom);
			chg->impu = adupv(a, upd->impu, &oom);
		}
		rc = oom ? IMS_ENOMEM : 0;
		goto out;
	}

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || !(r->impi = sdup(upd->impi)) || !(r->impu = sdup(upd->impu))) {
			reg_free(r);
			r = NULL;
			rc = IMS_ENOMEM;
			goto out;
		}
		r->dbid = st->next_dbid++;
		created = 1;
	} else {
		idx_remove_reg(st, r);
	}
	if (upd->n_impus)
		rc = set_impus(r, upd->impus, upd->n_impus);
	else if (!r->n_impus)
		rc = set_impus(r, &upd->impu, 1);
	if (rc == 0 && upd->user_data.len) {
		char *ud = sdup(upd->user_data);
		if (!ud)
			rc = IMS_ENOMEM;
		else {
			free(r->user_data);
			r->user_data = ud;
		}
	}
	if (rc == 0) {
		/* swap in the new binding list (live ones only) */
		bind_t *head = NULL, **tail = &head, *x, *nx;
		for (i = 0; i < n && rc == 0; i++) {
			if (v[i].expires <= now || v[i].event == SCSCF_CEV_UNREGISTERED ||
			    v[i].event == SCSCF_CEV_EXPIRED)
				continue;
			x = bind_from_view(&v[i]);
			if (!x) {
				rc = IMS_ENOMEM;
				break;
			}
			*tail = x;
			tail = &x->next;
		}
		if (rc != 0) {
			for (x = head; x; x = nx) {
				nx = x->next;
				bind_free(x);
			}
		} else {
			for (x = r->binds; x; x = nx) {
				nx = x->next;
				bind_free(x);
			}
			r->binds = head;
			r->unregistered = 0;
		}
	}
	if (rc == 0 && upd->profile) {
		prof_ref_t *pr = prof_new(st, upd->profile);
		if (pr) {
			prof_put(r->prof);
			r->prof = pr;
			prof_taken = 1;
		}
	}
	if (created && rc == 0)
		reg_link(st, r);
	if (rc == 0)
		rc = idx_add_reg(st, r);
	if (rc != 0) {
		if (created) {
			if (r->next_all || r->prev_all || st->all == r) {
				idx_remove_reg(st, r);
				reg_unlink(st, r);
			}
			reg_free(r);
		} else {
			idx_add_reg(st, r);
		}
		goto out;
	}
	fill_change_ids(r, a, chg, &oom);
	rc = db_save(st, r);
	if (oom && rc == 0)
		rc = IMS_ENOMEM;
out:
	pthread_mutex_unlock(&st->mu);
	if (!dry_run && upd->profile && !prof_taken && st->profile_free)
		st->profile_free(upd->profile);
	return rc;
}

typedef struct pending {
	struct pending *next;
	scscf_reg_change_t chg;
} pending_t;

int scscf_reg_store_expire(scscf_reg_store_t *st, int64_t now, scscf_reg_change_cb cb, void *arg)
{
	ims_arena_t *a = ims_arena_create(4096);
	pending_t *list = NULL, **tail = &list;
	reg_t *r, *rn;
	int count = 0;
	if (!a)
		return IMS_ENOMEM;
	pthread_mutex_lock(&st->mu);
	for (r = st->all; r; r = rn) {
		bind_t **pp, *b;
		size_t total = 0, gone = 0, k = 0;
		pending_t *p;
		int oom = 0;
		rn = r->next_all;
		for (b = r->binds; b; b = b->next) {
			total++;
			if (b->expires <= now)
				gone++;
		}
		if (!gone)
			continue;
		p = ims_arena_zalloc(a, sizeof(*p));
		if (p)
			p->chg.bindings = ims_arena_zalloc(a, total * sizeof(scscf_binding_t));
		if (!p || !p->chg.bindings)
			break; /* out of memory: the next sweep catches up */
		fill_change_ids(r, a, &p->chg, &oom);
		p->chg.old_state = SCSCF_REG_REGISTERED;
		for (b = r->binds; b; b = b->next) {
			bind_view(b, a, &p->chg.bindings[k], &oom);
			if (b->expires <= now)
				p->chg.bindings[k].event = SCSCF_CEV_EXPIRED;
			k++;
		}
		p->chg.n_bindings = k;
		p->chg.n_live = total - gone;
		p->chg.new_state = p->chg.n_live ? SCSCF_REG_REGISTERED : SCSCF_REG_NOT_REGISTERED;
		if (gone == total) {
			reg_drop(st, r);
		} else {
			for (pp = &r->binds; *pp;) {
				b = *pp;
				if (b->expires <= now) {
					*pp = b->next;
					bind_free(b);
				} else {
					pp = &b->next;
				}
			}
			db_save(st, r);
		}
		if (!oom) {
			*tail = p;
			tail = &p->next;
		}
		count++;
	}
	pthread_mutex_unlock(&st->mu);
	for (pending_t *p = list; p && cb; p = p->next)
		cb(arg, &p->chg);
	ims_arena_destroy(a);
	return count;
}

int scscf_reg_store_remove(scscf_reg_store_t *st, ims_str_t impu, scscf_contact_event_t ev,
			   int64_t now, ims_arena_t *a, scscf_reg_change_t *chg)
{
	reg_t *r;
	const bind_t *b;
	size_t n = 0, k = 0;
	int oom = 0;
	memset(chg, 0, sizeof(*chg));
	pthread_mutex_lock(&st->mu);
	r = idx_find(st, impu);
	if (!r) {
		pthread_mutex_unlock(&st->mu);
		return IMS_ENOENT;
	}
	for (b = r->binds; b; b = b->next)
		n++;
	fill_change_ids(r, a, chg, &oom);
	chg->bindings = ims_arena_zalloc(a, (n ? n : 1) * sizeof(*chg->bindings));
	if (!chg->bindings)
		oom = 1;
	for (b = r->binds; b && chg->bindings; b = b->next) {
		bind_view(b, a, &chg->bindings[k], &oom);
		chg->bindings[k].event = b->expires > now ? ev : SCSCF_CEV_EXPIRED;
		if (b->expires > now)
			chg->old_state = SCSCF_REG_REGISTERED;
		k++;
	}
	if (chg->old_state != SCSCF_REG_REGISTERED && r->unregistered)
		chg->old_state = SCSCF_REG_UNREGISTERED;
	chg->n_bindings = k;
	chg->new_state = SCSCF_REG_NOT_REGISTERED;
	reg_drop(st, r);
	pthread_mutex_unlock(&st->mu);
	return oom ? IMS_ENOMEM : 0;
}

int scscf_reg_store_set_profile(scscf_reg_store_t *st, ims_str_t impu, ims_str_t user_data,
				struct scscf_profile *profile)
{
	reg_t *r;
	prof_ref_t *pr = NULL;
	char *ud = NULL;
	int rc = 0;
	if (profile && !(pr = prof_new(st, profile))) {
		if (st->profile_free)
			st->profile_free(profile);
		return IMS_ENOMEM;
	}
	if (user_data.len && !(ud = sdup(user_data))) {
		prof_put(pr);
		return IMS_ENOMEM;
	}
	pthread_mutex_lock(&st->mu);
	r = idx_find(st, impu);
	if (!r) {
		rc = IMS_ENOENT;
	} else {
		if (ud) {
			free(r->user_data);
			r->user_data = ud;
			ud = NULL;
		}
		if (pr) {
			prof_put(r->prof);
			r->prof = pr;
			pr = NULL;
		}
		db_save(st, r);
	}
	pthread_mutex_unlock(&st->mu);
	free(ud);
	prof_put(pr);
	return rc;
}

int scscf_reg_store_set_unregistered(scscf_reg_store_t *st, ims_str_t impi, ims_str_t impu,
				     const ims_str_t *impus, size_t n_impus, ims_str_t user_data,
				     struct scscf_profile *profile)
{
	reg_t *r;
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	r = idx_find(st, impu);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || !(r->impi = sdup(impi)) || !(r->impu = sdup(impu)) ||
		    set_impus(r, n_impus ? impus : &impu, n_impus ? n_impus : 1) != 0) {
			reg_free(r);
			pthread_mutex_unlock(&st->mu);
			if (profile && st->profile_free)
				st->profile_free(profile);
			return IMS_ENOMEM;
		}
		r->dbid = st->next_dbid++;
		r->unregistered = 1;
		reg_link(st, r);
		if (idx_add_reg(st, r) != 0) {
			idx_remove_reg(st, r);
			reg_unlink(st, r);
			reg_free(r);
			pthread_mutex_unlock(&st->mu);
			if (profile && st->profile_free)
				st->profile_free(profile);
			return IMS_ENOMEM;
		}
		db_save(st, r);
	} else if (!r->binds) {
		r->unregistered = 1;
	}
	pthread_mutex_unlock(&st->mu);
	if (user_data.len || profile)
		rc = scscf_reg_store_set_profile(st, impu, user_data, profile);
	return rc;
}

int scscf_reg_store_find_impi(scscf_reg_store_t *st, ims_str_t impi, ims_arena_t *a,
			      ims_str_t **impus)
{
	const reg_t *r;
	size_t n = 0, k = 0;
	int oom = 0;
	*impus = NULL;
	pthread_mutex_lock(&st->mu);
	for (r = st->all; r; r = r->next_all)
		n += ims_str_eq(impi, ims_str_cstr(r->impi));
	if (n) {
		*impus = ims_arena_zalloc(a, n * sizeof(**impus));
		for (r = st->all; r && *impus; r = r->next_all)
			if (ims_str_eq(impi, ims_str_cstr(r->impi)))
				(*impus)[k++] = adup(a, r->impu, &oom);
	}
	pthread_mutex_unlock(&st->mu);
	if (n && (!*impus || oom))
		return IMS_ENOMEM;
	return (int)k;
}

const char *scscf_contact_event_name(scscf_contact_event_t ev)
{
	switch (ev) {
	case SCSCF_CEV_REGISTERED: return "registered";
	case SCSCF_CEV_CREATED: return "created";
	case SCSCF_CEV_REFRESHED: return "refreshed";
	case SCSCF_CEV_SHORTENED: return "shortened";
	case SCSCF_CEV_EXPIRED: return "expired";
	case SCSCF_CEV_DEACTIVATED: return "deactivated";
	case SCSCF_CEV_PROBATION: return "probation";
	case SCSCF_CEV_UNREGISTERED: return "unregistered";
	case SCSCF_CEV_REJECTED: return "rejected";
	case SCSCF_CEV_NONE: break;
	}
	return "none";
}

const char *scscf_reg_state_name(scscf_reg_state_t s)
{
	switch (s) {
	case SCSCF_REG_REGISTERED: return "REGISTERED";
	case SCSCF_REG_UNREGISTERED: return "UNREGISTERED";
	case SCSCF_REG_NOT_REGISTERED: break;
	}
	return "NOT_REGISTERED";
}
