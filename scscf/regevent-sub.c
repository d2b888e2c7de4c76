/* reg event subscriptions and NOTIFYs (see regevent.h).
 *
 * A subscription is created when the 200 to the SUBSCRIBE leaves (the
 * core picks the To tag; on_final tells us). Every NOTIFY is built from a
 * snapshot of the subscription taken under the lock, then sent on a worker
 * with sip_proxy_uac_send; a final error to a NOTIFY (481, 408, ...) ends
 * the subscription (RFC 6665 §4.1.3). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "regevent.h"
#include "reg-handler.h"

#define MAX_ROUTES 8

typedef struct sub {
	struct sub *next;
	char *impu;                 /* watched AOR (Request-URI of the SUBSCRIBE) */
	char *call_id, *local_tag, *remote_tag;
	char *local_uri, *remote_uri; /* To / From URIs of the SUBSCRIBE */
	char *target;               /* subscriber's Contact URI */
	char *route[MAX_ROUTES];    /* route set (Record-Route, in order) */
	size_t n_route;
	uint32_t cseq, version;
	int64_t expires;
} sub_t;

struct scscf_regevent {
	pthread_mutex_t mu;
	sub_t *subs;
	size_t count;
	sqlite3 *db; /* NULL: memory only */
	sqlite3_stmt *q_put, *q_del; /* prepared on first use, kept */
};

/* Handed from on_subscribe to on_final through the proxy context. */
typedef struct sub_job {
	uint32_t magic;
	sub_t *fresh;       /* a new subscription (owned until linked) */
	char *call_id, *remote_tag, *local_tag; /* existing dialog */
	int64_t expires;    /* new expiry, 0 = unsubscribe */
} sub_job_t;
#define JOB_MAGIC 0x52454745u

static void sub_free(sub_t *s)
{
	if (!s)
		return;
	free(s->impu);
	free(s->call_id);
	free(s->local_tag);
	free(s->remote_tag);
	free(s->local_uri);
	free(s->remote_uri);
	free(s->target);
	for (size_t i = 0; i < s->n_route; i++)
		free(s->route[i]);
	free(s);
}

static void job_free(void *p)
{
	sub_job_t *j = p;
	if (!j)
		return;
	sub_free(j->fresh);
	free(j->call_id);
	free(j->remote_tag);
	free(j->local_tag);
	free(j);
}

/* Our Contact in reg-event dialogs: a URI the subscriber can reach. */
static const char *contact_uri(const scscf_ctx_t *ctx)
{
	return ctx->cfg.route_uri ? ctx->cfg.route_uri : ctx->cfg.own_uri;
}

static char *vdup(ims_str_t v)
{
	return strndup(v.s ? v.s : "", v.len);
}

/* ---- write-through (caller holds re->mu) ------------------------------ */

/* The statement *q, compiled on first use and kept (NULL, error logged,
 * if it cannot be); the caller resets it after its step. */
static sqlite3_stmt *stmt(scscf_regevent_t *re, sqlite3_stmt **q, const char *sql)
{
	if (!*q && sqlite3_prepare_v3(re->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL) !=
			   SQLITE_OK) {
		LOG_ERROR("scscf", "regsub.prepare_failed err=\"%s\"", sqlite3_errmsg(re->db));
		*q = NULL;
	}
	return *q;
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void db_put(scscf_regevent_t *re, const sub_t *s)
{
	sqlite3_stmt *st;
	char routes[4096] = "";
	size_t off = 0;
	if (!re->db)
		return;
	for (size_t i = 0; i < s->n_route; i++) {
		int n = snprintf(routes + off, sizeof(routes) - off, "%s\n", s->route[i]);
		if (n < 0 || (size_t)n >= sizeof(routes) - off)
			break;
		off += (size_t)n;
	}
	st = stmt(re, &re->q_put,
		  "INSERT OR REPLACE INTO regsub(call_id,local_tag,remote_tag,impu,"
		  "local_uri,remote_uri,target,routes,cseq,version,expires)"
		  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
	if (!st)
		return;
	sqlite3_bind_text(st, 1, s->call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->local_tag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->remote_tag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->impu, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, s->local_uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, s->remote_uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, s->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, routes, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, s->cseq);
	sqlite3_bind_int64(st, 10, s->version);
	sqlite3_bind_int64(st, 11, s->expires);
	if (sqlite3_step(st) != SQLITE_DONE)
		LOG_ERROR("scscf", "regsub.save_failed err=\"%s\"", sqlite3_errmsg(re->db));
	done(st);
}

static void db_del(scscf_regevent_t *re, const char *call_id, const char *local_tag)
{
	sqlite3_stmt *st;
	if (!re->db)
		return;
	st = stmt(re, &re->q_del, "DELETE FROM regsub WHERE call_id=?1 AND local_tag=?2");
	if (!st)
		return;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, local_tag, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		LOG_ERROR("scscf", "regsub.delete_failed err=\"%s\"", sqlite3_errmsg(re->db));
	done(st);
}

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return strdup(t ? (const char *)t : "");
}

static int db_load(scscf_regevent_t *re)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(re->db,
			       "SELECT call_id,local_tag,remote_tag,impu,local_uri,remote_uri,target,"
			       "routes,cseq,version,expires FROM regsub",
			       -1, &st, NULL) != SQLITE_OK)
		return IMS_EDB;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		sub_t *s = calloc(1, sizeof(*s));
		char *routes, *p;
		if (!s) {
			rc = IMS_ENOMEM;
			break;
		}
		s->call_id = col(st, 0);
		s->local_tag = col(st, 1);
		s->remote_tag = col(st, 2);
		s->impu = col(st, 3);
		s->local_uri = col(st, 4);
		s->remote_uri = col(st, 5);
		s->target = col(st, 6);
		routes = col(st, 7);
		s->cseq = (uint32_t)sqlite3_column_int64(st, 8);
		s->version = (uint32_t)sqlite3_column_int64(st, 9);
		s->expires = sqlite3_column_int64(st, 10);
		for (p = routes; p && *p && s->n_route < MAX_ROUTES;) {
			char *e = strchr(p, '\n');
			if (!e)
				break;
			s->route[s->n_route++] = strndup(p, (size_t)(e - p));
			p = e + 1;
		}
		free(routes);
		if (!s->call_id || !s->local_tag || !s->remote_tag || !s->impu || !s->local_uri ||
		    !s->remote_uri || !s->target) {
			sub_free(s);
			rc = IMS_ENOMEM;
			break;
		}
		s->next = re->subs;
		re->subs = s;
		re->count++;
	}
	sqlite3_finalize(st);
	return rc;
}

int scscf_regevent_create(const char *db_path, scscf_regevent_t **out)
{
	scscf_regevent_t *re = calloc(1, sizeof(*re));
	int rc = 0;
	if (!re)
		return IMS_ENOMEM;
	pthread_mutex_init(&re->mu, NULL);
	if (db_path && *db_path && strcmp(db_path, ":memory:") != 0) {
		char *msg = NULL;
		if (sqlite3_open_v2(db_path, &re->db,
				    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
				    NULL) != SQLITE_OK) {
			LOG_ERROR("scscf", "regsub.open_failed path=%s", db_path);
			rc = IMS_EDB;
		} else {
			sqlite3_busy_timeout(re->db, 2000);
			/* The registrations' own setting (reg-store.c): WAL is a
			 * property of the file, but synchronous is one of each
			 * connection, and FULL would fsync the WAL at every
			 * subscription write, on the worker's thread. */
			if (sqlite3_exec(re->db,
					 "PRAGMA journal_mode=WAL;"
					 "PRAGMA synchronous=NORMAL;"
					 "CREATE TABLE IF NOT EXISTS regsub("
					 " call_id TEXT NOT NULL, local_tag TEXT NOT NULL,"
					 " remote_tag TEXT NOT NULL, impu TEXT NOT NULL,"
					 " local_uri TEXT NOT NULL, remote_uri TEXT NOT NULL,"
					 " target TEXT NOT NULL, routes TEXT, cseq INTEGER,"
					 " version INTEGER, expires INTEGER,"
					 " PRIMARY KEY(call_id, local_tag))",
					 NULL, NULL, &msg) != SQLITE_OK) {
				LOG_ERROR("scscf", "regsub.schema_failed err=\"%s\"", msg ? msg : "?");
				sqlite3_free(msg);
				rc = IMS_EDB;
			} else {
				rc = db_load(re);
			}
		}
	}
	if (rc != 0) {
		scscf_regevent_destroy(re);
		return rc;
	}
	if (re->count)
		LOG_INFO("scscf", "regsub.loaded subscriptions=%zu", re->count);
	*out = re;
	return 0;
}

void scscf_regevent_destroy(scscf_regevent_t *re)
{
	sub_t *s, *n;
	if (!re)
		return;
	for (s = re->subs; s; s = n) {
		n = s->next;
		sub_free(s);
	}
	sqlite3_finalize(re->q_put);
	sqlite3_finalize(re->q_del);
	if (re->db)
		sqlite3_close(re->db);
	pthread_mutex_destroy(&re->mu);
	free(re);
}

size_t scscf_regevent_count(scscf_ctx_t *ctx)
{
	size_t n;
	pthread_mutex_lock(&ctx->regevent->mu);
	n = ctx->regevent->count;
	pthread_mutex_unlock(&ctx->regevent->mu);
	return n;
}

int scscf_regevent_is_reg_subscribe(const sip_msg_t *msg)
{
	sip_hdr_t *ev;
	ims_str_t v;
	const char *semi;
	if (msg->method_id != SIP_METHOD_SUBSCRIBE)
		return 0;
	ev = sip_msg_hdr(msg, SIP_HDR_EVENT);
	if (!ev)
		return 0;
	v = ev->value;
	semi = memchr(v.s, ';', v.len);
	if (semi)
		v.len = (uint32_t)(semi - v.s);
	return ims_str_caseeq_c(ims_str_trim(v), "reg");
}

/* ---- NOTIFY ------------------------------------------------------------- */

typedef struct notify_job {
	struct notify_job *next;
	scscf_ctx_t *ctx;
	ims_arena_t *a;
	sip_msg_t *req;
	char *call_id, *local_tag;
	int terminated;
} notify_job_t;

static void notify_job_free(notify_job_t *j)
{
	if (!j)
		return;
	ims_arena_destroy(j->a);
	free(j->call_id);
	free(j->local_tag);
	free(j);
}

static void remove_sub(scscf_regevent_t *re, const char *call_id, const char *local_tag)
{
	sub_t **pp;
	pthread_mutex_lock(&re->mu);
	for (pp = &re->subs; *pp; pp = &(*pp)->next) {
		sub_t *s = *pp;
		if (!strcmp(s->call_id, call_id) && !strcmp(s->local_tag, local_tag)) {
			*pp = s->next;
			db_del(re, s->call_id, s->local_tag);
			sub_free(s);
			re->count--;
			break;
		}
	}
	pthread_mutex_unlock(&re->mu);
}

static void on_notify_answer(void *ud, int code, sip_msg_t *rsp)
{
	notify_job_t *j = ud;
	(void)rsp;
	if (code >= 300 && !j->terminated) {
		/* RFC 6665 §4.1.3: 481, 408 and other failures end it */
		LOG_NOTICE("scscf", "regevent.notify_failed code=%d call_id=%s", code, j->call_id);
		remove_sub(j->ctx->regevent, j->call_id, j->local_tag);
	}
	notify_job_free(j);
}

static void notify_send(void *arg)
{
	notify_job_t *j = arg;
	int w = sip_tp_current_worker();
	int rc = sip_proxy_uac_send(j->ctx->proxy, w < 0 ? 0 : w, j->req, NULL, on_notify_answer, j);
	if (rc != 0) {
		ims_str_t txt = IMS_STR("");
		sip_msg_print_arena(j->req, j->a, &txt);
		LOG_WARN("scscf", "regevent.notify_send_failed err=%s call_id=%s", ims_strerror(rc),
			 j->call_id);
		LOG_DEBUG("scscf", "regevent.notify_unsent msg=\"%.*s\"", IMS_STR_FMT(txt));
		notify_job_free(j);
	}
}

/* Builds a NOTIFY in the dialog of s (snapshot: call under the lock) with
 * body xml. reason NULL = active. */
static notify_job_t *notify_build(scscf_ctx_t *ctx, sub_t *s, int64_t now, const char *reason,
				  const char *xml, size_t xlen)
{
	notify_job_t *j = calloc(1, sizeof(*j));
	sip_msg_t *m = NULL;
	char state[96];
	if (!j)
		return NULL;
	j->ctx = ctx;
	j->a = ims_arena_create(2048 + xlen);
	j->call_id = strdup(s->call_id);
	j->local_tag = strdup(s->local_tag);
	j->terminated = reason != NULL;
	if (!j->a || !j->call_id || !j->local_tag ||
	    sip_msg_new_request(j->a, IMS_STR("NOTIFY"), ims_str_cstr(s->target), &m) != 0)
		goto fail;
	/* RFC 3261 §12.2.1.1: the route set, then the remote target */
	for (size_t i = 0; i < s->n_route; i++)
		if (!sip_msg_hdr_addf(m, SIP_HDR_ROUTE, SIP_POS_BOTTOM, "%s", s->route[i]))
			goto fail;
	if (reason)
		snprintf(state, sizeof(state), "terminated;reason=%s", reason);
	else
		snprintf(state, sizeof(state), "active;expires=%lld",
			 (long long)(s->expires > now ? s->expires - now : 0));
	s->cseq++;
	if (!sip_msg_hdr_addf(m, SIP_HDR_FROM, SIP_POS_BOTTOM, "<%s>;tag=%s", s->local_uri,
			      s->local_tag) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_TO, SIP_POS_BOTTOM, "<%s>;tag=%s", s->remote_uri,
			      s->remote_tag) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_CALL_ID, SIP_POS_BOTTOM, "%s", s->call_id) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_CSEQ, SIP_POS_BOTTOM, "%" PRIu32 " NOTIFY", s->cseq) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_CONTACT, SIP_POS_BOTTOM, "<%s>", contact_uri(ctx)) ||
	    !sip_msg_hdr_addf(m, SIP_HDR_EVENT, SIP_POS_BOTTOM, "reg") ||
	    !sip_msg_hdr_addf(m, SIP_HDR_SUBSCRIPTION_STATE, SIP_POS_BOTTOM, "%s", state) ||
	    sip_msg_set_body(m, IMS_STR("application/reginfo+xml"), ims_str_from(xml, xlen)) != 0)
		goto fail;
	j->req = m;
	return j;
fail:
	notify_job_free(j);
	return NULL;
}

static void notify_dispatch(scscf_ctx_t *ctx, notify_job_t *j)
{
	if (!j)
		return;
	if (!ctx->proxy) {
		notify_job_free(j);
		return;
	}
	if (sip_tp_current_worker() >= 0) {
		notify_send(j);
		return;
	}
	if (sip_proxy_post(ctx->proxy, 0, notify_send, j) != 0)
		notify_job_free(j);
}

/* Full state of the registration holding s->impu (an empty, terminated
 * one when none does). Caller holds no lock. */
static int full_state(scscf_ctx_t *ctx, const char *impu, int64_t now, ims_arena_t *a,
		      scscf_reg_view_t *v)
{
	int rc = scscf_reg_store_lookup(ctx->store, ims_str_cstr(impu), now, a, v);
	if (rc == IMS_ENOENT) {
		memset(v, 0, sizeof(*v));
		v->impus = ims_arena_zalloc(a, sizeof(ims_str_t));
		if (!v->impus)
			return IMS_ENOMEM;
		ims_arena_strdup(a, ims_str_cstr(impu), &v->impus[0]);
		v->n_impus = 1;
		return 0;
	}
	return rc;
}

/* Sends the full-state NOTIFY of the subscription (call_id, local_tag);
 * reason != NULL terminates it. */
static void notify_full(scscf_ctx_t *ctx, const char *call_id, const char *local_tag,
			int64_t now, const char *reason)
{
	scscf_regevent_t *re = ctx->regevent;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_view_t v;
	char *impu = NULL, *xml = NULL;
	size_t xlen = 0;
	notify_job_t *j = NULL;
	sub_t *s;

	if (!a) {
		if (reason)
			remove_sub(re, call_id, local_tag);
		return;
	}
	pthread_mutex_lock(&re->mu);
	for (s = re->subs; s; s = s->next)
		if (!strcmp(s->call_id, call_id) && !strcmp(s->local_tag, local_tag))
			break;
	if (s)
		impu = strdup(s->impu);
	pthread_mutex_unlock(&re->mu);
	if (!impu || full_state(ctx, impu, now, a, &v) != 0)
		goto out;
	pthread_mutex_lock(&re->mu);
	for (s = re->subs; s; s = s->next)
		if (!strcmp(s->call_id, call_id) && !strcmp(s->local_tag, local_tag))
			break;
	if (s && scscf_reginfo_build(s->version, 1, v.impus, v.n_impus, v.bindings, v.n_bindings,
				     now, &xml, &xlen) == 0) {
		s->version++;
		j = notify_build(ctx, s, now, reason, xml, xlen);
		if (!reason)
			db_put(re, s); /* CSeq and version move on */
	}
	pthread_mutex_unlock(&re->mu);
	scscf_reg_view_release(&v);
	notify_dispatch(ctx, j);
out:
	/* a terminating NOTIFY ends the subscription even when it could not
	 * be built (the expiry sweep must not see it again) */
	if (reason)
		remove_sub(re, call_id, local_tag);
	free(xml);
	free(impu);
	ims_arena_destroy(a);
}

void scscf_regevent_notify(scscf_ctx_t *ctx, const scscf_reg_change_t *chg, int64_t now)
{
	scscf_regevent_t *re = ctx->regevent;
	char *xml = NULL;
	size_t xlen = 0;
	const char *reason = NULL;
	notify_job_t *jobs = NULL, *next;
	sub_t **pp;

	if (!re)
		return;
	if (chg->new_state == SCSCF_REG_NOT_REGISTERED) {
		/* RFC 3680 §4.4.2 / TS 24.229 §5.4.2.1.2: the registration is
		 * gone, so is the subscription */
		reason = "deactivated";
		for (size_t i = 0; i < chg->n_bindings; i++)
			if (chg->bindings[i].event == SCSCF_CEV_REJECTED)
				reason = "rejected";
	}
	pthread_mutex_lock(&re->mu);
	for (pp = &re->subs; *pp;) {
		sub_t *s = *pp;
		int match = ims_str_eq_c(chg->impu, s->impu);
		for (size_t i = 0; !match && i < chg->n_impus; i++)
			match = ims_str_eq_c(chg->impus[i], s->impu);
		if (!match) {
			pp = &s->next;
			continue;
		}
		if (scscf_reginfo_build(s->version, 0, chg->impus, chg->n_impus, chg->bindings,
					chg->n_bindings, now, &xml, &xlen) == 0) {
			notify_job_t *j = notify_build(ctx, s, now, reason, xml, xlen);
			s->version++;
			if (j) {
				j->next = jobs;
				jobs = j;
			}
			free(xml);
			xml = NULL;
		}
		if (reason) {
			*pp = s->next;
			db_del(re, s->call_id, s->local_tag);
			sub_free(s);
			re->count--;
		} else {
			db_put(re, s);
			pp = &s->next;
		}
	}
	pthread_mutex_unlock(&re->mu);
	/* sent outside the lock: an answer may come back synchronously */
	for (; jobs; jobs = next) {
		next = jobs->next;
		notify_dispatch(ctx, jobs);
	}
}

int scscf_regevent_expire(scscf_ctx_t *ctx, int64_t now)
{
	scscf_regevent_t *re = ctx->regevent;
	int n = 0;
	for (;;) {
		char *cid = NULL, *tag = NULL;
		sub_t *s;
		pthread_mutex_lock(&re->mu);
		for (s = re->subs; s; s = s->next)
			if (s->expires <= now)
				break;
		if (s) {
			cid = strdup(s->call_id);
			tag = strdup(s->local_tag);
		}
		pthread_mutex_unlock(&re->mu);
		if (!s)
			break;
		if (!cid || !tag) {
			free(cid);
			free(tag);
			break; /* out of memory: the next sweep tries again */
		}
		notify_full(ctx, cid, tag, now, "timeout");
		free(cid);
		free(tag);
		n++;
	}
	return n;
}

/* ---- SUBSCRIBE ------------------------------------------------------------ */

static void answer(sip_proxy_ctx_t *pctx, int code, const char *reason)
{
	sip_proxy_reply(pctx, code, ims_str_cstr(reason), IMS_STR(""), IMS_STR(""), IMS_STR(""));
}

/* The host of a URI inside a Path value "<sip:pcscf...;lr>". */
static int path_has_host(ims_str_t path, ims_str_t host, ims_arena_t *a)
{
	sip_hdr_t fake;
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	memset(&fake, 0, sizeof(fake));
	fake.id = SIP_HDR_PATH;
	fake.value = path;
	while (sip_hdr_next_value(&fake, &it, &v) == 1) {
		sip_nameaddr_t na;
		if (sip_nameaddr_parse(v, a, &na) == 0 && ims_str_caseeq(na.uri.host, host))
			return 1;
	}
	return 0;
}

/* TS 24.229 §5.4.2.1.1: the subscriber must be the user (one of the
 * identities of the set) or the P-CSCF on its Path. */
static int authorised(sip_msg_t *m, const scscf_reg_view_t *v, ims_arena_t *a)
{
	sip_hdr_t *h = sip_msg_hdr(m, SIP_HDR_P_ASSERTED_IDENTITY);
	sip_nameaddr_t na;
	ims_str_t who, aor;
	sip_val_iter_t it = { 0 };
	if (h) {
		if (sip_hdr_next_value(h, &it, &who) != 1)
			return 0;
	} else {
		h = sip_msg_hdr(m, SIP_HDR_FROM);
		if (!h)
			return 0;
		who = h->value;
	}
	if (sip_nameaddr_parse(who, a, &na) != 0 || sip_uri_aor(&na.uri, a, &aor) != 0)
		return 0;
	for (size_t i = 0; i < v->n_impus; i++)
		if (ims_str_eq(v->impus[i], aor))
			return 1;
	if (ims_str_eq(v->impu, aor))
		return 1;
	for (size_t i = 0; i < v->n_bindings; i++)
		if (v->bindings[i].path.len && path_has_host(v->bindings[i].path, na.uri.host, a))
			return 1;
	return 0;
}

void scscf_regevent_on_subscribe(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx)
{
	sip_msg_t *m = sip_proxy_ctx_msg(pctx);
	ims_arena_t *a = sip_proxy_ctx_arena(pctx);
	int64_t now = scscf_now();
	int64_t exp = m->expires;
	sub_job_t *j;
	ims_str_t hdrs;

	if (exp < 0)
		exp = ctx->cfg.sub_default_expires;
	if (exp > ctx->cfg.sub_max_expires)
		exp = ctx->cfg.sub_max_expires;
	j = calloc(1, sizeof(*j));
	if (!j) {
		answer(pctx, 500, "Server Internal Error");
		return;
	}
	j->magic = JOB_MAGIC;
	j->expires = exp ? now + exp : 0;

	if (m->to_tag.len) {
		/* refresh or unsubscribe inside an existing dialog */
		sub_t *s;
		pthread_mutex_lock(&ctx->regevent->mu);
		for (s = ctx->regevent->subs; s; s = s->next)
			if (ims_str_eq_c(m->call_id, s->call_id) &&
			    ims_str_eq_c(m->to_tag, s->local_tag) &&
			    ims_str_eq_c(m->from_tag, s->remote_tag))
				break;
		if (s && exp) {
			s->expires = now + exp;
			db_put(ctx->regevent, s);
		}
		pthread_mutex_unlock(&ctx->regevent->mu);
		if (!s) {
			job_free(j);
			answer(pctx, 481, "Subscription Does Not Exist");
			return;
		}
		j->call_id = vdup(m->call_id);
		j->local_tag = vdup(m->to_tag);
		j->remote_tag = vdup(m->from_tag);
	} else {
		const sip_uri_t *ru = sip_msg_ruri(m);
		sip_hdr_t *from = sip_msg_hdr(m, SIP_HDR_FROM), *to = sip_msg_hdr(m, SIP_HDR_TO);
		sip_hdr_t *contact = sip_msg_hdr(m, SIP_HDR_CONTACT);
		sip_nameaddr_t fna, tna, cna;
		ims_str_t aor, v;
		scscf_reg_view_t view;
		sip_val_iter_t it = { 0 };
		sub_t *s;

		if (!ru || sip_uri_aor(ru, a, &aor) != 0 || !from || !to || !contact ||
		    sip_nameaddr_parse(from->value, a, &fna) != 0 ||
		    sip_nameaddr_parse(to->value, a, &tna) != 0 ||
		    sip_hdr_next_value(contact, &it, &v) != 1 ||
		    sip_nameaddr_parse(v, a, &cna) != 0) {
			job_free(j);
			answer(pctx, 400, "Bad SUBSCRIBE");
			return;
		}
		if (scscf_reg_store_lookup(ctx->store, aor, now, a, &view) != 0) {
			job_free(j);
			LOG_NOTICE("scscf", "regevent.not_registered aor=%.*s", IMS_STR_FMT(aor));
			answer(pctx, 403, "Not Registered");
			return;
		}
		if (!authorised(m, &view, a)) {
			scscf_reg_view_release(&view);
			job_free(j);
			LOG_NOTICE("scscf", "regevent.forbidden aor=%.*s call_id=%.*s",
				   IMS_STR_FMT(aor), IMS_STR_FMT(m->call_id));
			answer(pctx, 403, "Forbidden");
			return;
		}
		scscf_reg_view_release(&view);
		if (!exp) {
			/* a fetch (RFC 6665 §4.4.3) is not worth a dialog here */
			job_free(j);
			answer(pctx, 200, "OK");
			return;
		}
		s = calloc(1, sizeof(*s));
		j->fresh = s;
		if (!s || !(s->impu = vdup(aor)) || !(s->call_id = vdup(m->call_id)) ||
		    !(s->remote_tag = vdup(m->from_tag)) || !(s->remote_uri = vdup(fna.uri.raw)) ||
		    !(s->local_uri = vdup(tna.uri.raw)) || !(s->target = vdup(cna.uri.raw))) {
			job_free(j);
			answer(pctx, 500, "Server Internal Error");
			return;
		}
		/* RFC 3261 §12.1.1: the UAS route set is the Record-Route list */
		memset(&it, 0, sizeof(it));
		while (s->n_route < MAX_ROUTES &&
		       sip_msg_next_value(m, SIP_HDR_RECORD_ROUTE, &it, &v) == 1)
			if (!(s->route[s->n_route++] = vdup(v))) {
				job_free(j);
				answer(pctx, 500, "Server Internal Error");
				return;
			}
		s->expires = j->expires;
		s->cseq = 0;
	}
	sip_proxy_ctx_set_data(pctx, j, job_free);
	hdrs = ims_arena_printf(a, "Expires: %lld\r\nContact: <%s>\r\n", (long long)exp,
				contact_uri(ctx));
	if (sip_proxy_reply(pctx, 200, IMS_STR("OK"), hdrs.s ? hdrs : IMS_STR(""), IMS_STR(""),
			    IMS_STR("")) != 0)
		LOG_WARN("scscf", "regevent.reply_failed call_id=%.*s", IMS_STR_FMT(m->call_id));
}

typedef struct later {
	scscf_ctx_t *ctx;
	char *call_id, *local_tag;
	const char *reason;
} later_t;

static void notify_later(void *arg)
{
	later_t *l = arg;
	notify_full(l->ctx, l->call_id, l->local_tag, scscf_now(), l->reason);
	free(l->call_id);
	free(l->local_tag);
	free(l);
}

/* on_final runs before the 200 leaves: the NOTIFY is posted behind it on
 * the same worker so the subscriber sees the 200 first. */
static void notify_after_final(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, const char *call_id,
			       const char *local_tag, const char *reason)
{
	later_t *l = calloc(1, sizeof(*l));
	if (l) {
		l->ctx = ctx;
		l->call_id = strdup(call_id);
		l->local_tag = strdup(local_tag);
		l->reason = reason;
	}
	if (!l || !l->call_id || !l->local_tag ||
	    sip_proxy_post(ctx->proxy, sip_proxy_ctx_worker(pctx), notify_later, l) != 0) {
		if (l) {
			free(l->call_id);
			free(l->local_tag);
			free(l);
		}
		notify_full(ctx, call_id, local_tag, scscf_now(), reason);
	}
}

void scscf_regevent_on_final(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, sip_msg_t *rsp)
{
	sub_job_t *j = sip_proxy_ctx_data(pctx);
	char *cid = NULL, *tag = NULL;

	if (!scscf_regevent_is_reg_subscribe(sip_proxy_ctx_received(pctx)) || !j ||
	    j->magic != JOB_MAGIC || rsp->status < 200 || rsp->status >= 300)
		return;
	if (j->fresh) {
		sub_t *s = j->fresh;
		ims_str_t tag_v = rsp->to_tag;
		if (!tag_v.len) {
			/* the builder may not have re-parsed the tag it added */
			sip_hdr_t *to = sip_msg_hdr(rsp, SIP_HDR_TO);
			sip_nameaddr_t na;
			if (to && sip_nameaddr_parse(to->value, sip_proxy_ctx_arena(pctx), &na) == 0)
				tag_v = na.tag;
		}
		if (!tag_v.len || !(s->local_tag = vdup(tag_v))) {
			LOG_WARN("scscf", "regevent.no_to_tag call_id=%s", s->call_id);
			return;
		}
		cid = strdup(s->call_id);
		tag = strdup(s->local_tag);
		j->fresh = NULL;
		pthread_mutex_lock(&ctx->regevent->mu);
		s->next = ctx->regevent->subs;
		ctx->regevent->subs = s;
		ctx->regevent->count++;
		db_put(ctx->regevent, s);
		pthread_mutex_unlock(&ctx->regevent->mu);
		LOG_INFO("scscf", "regevent.subscribed aor=%s call_id=%s", s->impu, cid);
		if (cid && tag)
			notify_after_final(ctx, pctx, cid, tag, NULL);
	} else if (j->call_id && j->local_tag) {
		/* RFC 6665 §4.2.1.2: a refresh gets a NOTIFY too; Expires 0
		 * ends the subscription with a terminated one */
		notify_after_final(ctx, pctx, j->call_id, j->local_tag,
				   j->expires ? NULL : "timeout");
	}
	free(cid);
	free(tag);
}
