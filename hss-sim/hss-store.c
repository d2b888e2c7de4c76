/* HSS subscriber store on SQLite. See hss-store.h for the contract.
 *
 * One connection guarded by one mutex: this keeps every multi-statement
 * read consistent without relying on SQLite's own threading mode. Every
 * statement is prepared once, on first use, and reused (sqlite3_reset); a
 * read of a subscriber and its identities is one read transaction. Cx
 * requests mostly stay off that mutex (issue 4): a cache hit takes the
 * cache's own mutex, and the Cx writes are committed in batches by the
 * writer thread (see "Cx writes: group commit" below). Writes are BEGIN IMMEDIATE transactions so the write lock is
 * taken up front (no SQLITE_BUSY upgrade dead-ends when another process,
 * e.g. the sqlite3 shell, holds the file). */
#include "hss-store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/ims_err.h"
#include "base/ims_str.h"
#include "json-sub.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

#define MOD "hss.store"

/* The statements the store runs after start-up, prepared once each. */
typedef enum stmt_id {
	Q_BEGIN,
	Q_BEGIN_IMMEDIATE,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SYNC_FULL,
	Q_SYNC_NORMAL,
	Q_SUB_BY_IMPI,
	Q_SUB_BY_IMPU,
	Q_IMPUS_OF,
	Q_COUNT,
	Q_LIST,
	Q_OWNS,
	Q_SUB_INSERT,
	Q_IMPU_INSERT,
	Q_SUB_UPDATE_SQN,
	Q_SUB_UPDATE,
	Q_IMPUS_DELETE,
	Q_SUB_DELETE,
	Q_SQN_NEXT,
	Q_SQN_SET,
	Q_REG_GET,
	Q_REG_SET,
	Q_DATA_VERSION,
	Q_SQN_SET_ID,
	Q_REG_SET_ID,
	Q__COUNT
} stmt_id_t;

#define SUB_COLUMNS "id, impi, k, opc, op, amf, sqn, password, ifcs, hunting, reg_state, scscf_name"
/* bind_record() fills ?1..?10 of the two record writes */
#define RECORD_SET "k=?1, opc=?2, op=?3, amf=?4, password=?6, ifcs=?7, hunting=?8, updated_at=?9"

static const char *const stmt_sql[Q__COUNT] = {
	[Q_BEGIN] = "BEGIN",
	[Q_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SYNC_FULL] = "PRAGMA synchronous=FULL",
	[Q_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
	[Q_SUB_BY_IMPI] = "SELECT " SUB_COLUMNS " FROM subscriber WHERE impi=?1",
	[Q_SUB_BY_IMPU] = "SELECT " SUB_COLUMNS " FROM subscriber"
			  " WHERE id=(SELECT sub_id FROM impu WHERE uri=?1)",
	[Q_IMPUS_OF] = "SELECT uri, barred FROM impu WHERE sub_id=?1 ORDER BY pos",
	[Q_COUNT] = "SELECT count(*) FROM subscriber",
	[Q_LIST] = "SELECT " SUB_COLUMNS " FROM subscriber ORDER BY impi LIMIT ?1 OFFSET ?2",
	[Q_OWNS] = "SELECT (SELECT id FROM subscriber WHERE impi=?1),"
		   " (SELECT sub_id FROM impu WHERE uri=?2)",
	[Q_SUB_INSERT] = "INSERT INTO subscriber(k, opc, op, amf, sqn, password, ifcs, hunting,"
			 " created_at, updated_at, impi) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?9,?10)",
	[Q_IMPU_INSERT] = "INSERT INTO impu(uri, sub_id, barred, pos) VALUES (?1,?2,?3,?4)",
	[Q_SUB_UPDATE_SQN] = "UPDATE subscriber SET " RECORD_SET ", sqn=?5 WHERE impi=?10 RETURNING id",
	[Q_SUB_UPDATE] = "UPDATE subscriber SET " RECORD_SET " WHERE impi=?10 RETURNING id",
	[Q_IMPUS_DELETE] = "DELETE FROM impu WHERE sub_id=?1",
	/* impu rows go with it: ON DELETE CASCADE (foreign_keys=ON) */
	[Q_SUB_DELETE] = "DELETE FROM subscriber WHERE impi=?1",
	/* TS 33.102 Annex C: SQN is 48 bits; +1 per vector, wrapping at 2^48. */
	[Q_SQN_NEXT] = "UPDATE subscriber SET sqn=((sqn + ?2) & 281474976710655) WHERE impi=?1"
		       " RETURNING sqn",
	[Q_SQN_SET] = "UPDATE subscriber SET sqn=?2 WHERE impi=?1",
	[Q_REG_GET] = "SELECT reg_state, scscf_name FROM subscriber WHERE impi=?1"
		      " UNION ALL SELECT s.reg_state, s.scscf_name FROM subscriber s"
		      " JOIN impu u ON u.sub_id=s.id WHERE u.uri=?1 LIMIT 1",
	[Q_REG_SET] = "UPDATE subscriber SET reg_state=?2, scscf_name=?3 WHERE impi=?1",
	/* changes when another connection (the sqlite3 shell) commits */
	[Q_DATA_VERSION] = "PRAGMA data_version",
	/* the Cx writes of a cached subscriber: by row id, SQN computed here */
	[Q_SQN_SET_ID] = "UPDATE subscriber SET sqn=?2 WHERE id=?1",
	[Q_REG_SET_ID] = "UPDATE subscriber SET reg_state=?2, scscf_name=?3 WHERE id=?1",
};

/* The subscriber cache: the records Cx reads, parsed, by IMPI. See
 * "Subscriber cache" in docs/hss.md. */
#define CACHE_BUCKETS_DEFAULT (1u << 17)
#define CACHE_CHAIN_MAX 4 /* records per bucket on average: 524,288 by default */

typedef struct cache_ent {
	struct cache_ent *next;
	sqlite3_int64 id; /* the subscriber row */
	hss_sub_t *sub; /* own arena; sqn, reg_state and scscf_name kept current */
	char *scscf;    /* malloc'ed; sub->scscf_name points here */
} cache_ent_t;

/* Within CACHE_FRESH_NS of the last data version check, a read by IMPI is
 * answered from the cache without touching the connection (see
 * hss_store_get_by_impi). */
#define CACHE_FRESH_NS ((int64_t)HSS_STORE_CACHE_CHECK_US * 1000)

struct hss_store {
	sqlite3 *db;
	pthread_mutex_t lock;         /* the connection, its statements, the writes */
	int schema_version;
	sqlite3_stmt *stmt[Q__COUNT]; /* prepared on first use; under lock */
	/* The cache is changed only with both lock and cache_mu held, so a
	 * holder of either may read it; the cache hits of Cx take cache_mu
	 * only and never wait for a commit. */
	pthread_mutex_t cache_mu;
	cache_ent_t **cache;          /* cache_buckets chains (NULL: no cache) */
	unsigned cache_buckets;       /* a power of two */
	unsigned n_cached;
	sqlite3_int64 data_version;   /* as of the last check; under lock */
	int64_t checked_ns;           /* CLOCK_MONOTONIC of that check; under cache_mu */
	unsigned long cache_hits, cache_misses, cache_flushes; /* under cache_mu */
	/* /metrics: hss_store_cache_reads_total{result}, hss_store_cache_records */
	ims_counter_t *m_hits, *m_misses;
	ims_gauge_t *m_records;
	/* the Cx writes waiting for the next group commit (see submit) */
	pthread_mutex_t q_mu;
	pthread_cond_t q_cond;      /* a job was queued, or stop */
	pthread_cond_t q_done;      /* a batch of jobs was committed */
	struct wjob *q_head, **q_tail;
	pthread_t q_thread;         /* the writer (see writer_main) */
	int q_running, q_stop;
	unsigned q_len, q_max;      /* jobs waiting for the writer; their bound */
	unsigned long n_batches, n_jobs;
	/* the checkpointer thread (see ckpt_main) */
	char *path;
	pthread_t ck_thread;
	int ck_running, ck_stop;
	pthread_mutex_t ck_mu;
	pthread_cond_t ck_cond;
};

static void cache_flush(hss_store_t *st);
static int writer_start(hss_store_t *st);
static void writer_stop(hss_store_t *st);
static int cache_check(hss_store_t *st);

/* Schema migrations: entry i takes the database from version i to i+1.
 * Never edit a released entry; append a new one. */
static const char *const migrations[] = {
	/* 0 -> 1: subscribers and their public identities */
	"CREATE TABLE subscriber ("
	" id INTEGER PRIMARY KEY,"
	" impi TEXT NOT NULL UNIQUE,"
	" k BLOB NOT NULL,"
	" opc BLOB NOT NULL,"
	" op BLOB,"
	" amf BLOB NOT NULL,"
	" sqn INTEGER NOT NULL DEFAULT 0,"
	" password TEXT,"
	" ifcs TEXT NOT NULL DEFAULT '[]',"
	" hunting INTEGER NOT NULL DEFAULT 0,"
	" reg_state INTEGER NOT NULL DEFAULT 0,"
	" scscf_name TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE impu ("
	" uri TEXT PRIMARY KEY,"
	" sub_id INTEGER NOT NULL REFERENCES subscriber(id) ON DELETE CASCADE,"
	" barred INTEGER NOT NULL DEFAULT 0,"
	" pos INTEGER NOT NULL);",
	/* 1 -> 2: identities are read per subscriber on every Cx request */
	"CREATE INDEX impu_sub_id ON impu(sub_id, pos);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- helpers ---------------------------------------------------------- */

static int db_fail(hss_store_t *st, const char *what)
{
	LOG_ERROR(MOD, "sqlite.error op=%s err=\"%s\"", what, sqlite3_errmsg(st->db));
	return IMS_EDB;
}

static int exec(hss_store_t *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		LOG_ERROR(MOD, "sqlite.error op=exec err=\"%s\"", msg ? msg : "?");
		sqlite3_free(msg);
		return IMS_EDB;
	}
	return 0;
}

/* The cached statement id, ready to bind (NULL, error logged, when it
 * cannot be prepared). Give it back with done(). Caller holds the lock. */
static sqlite3_stmt *stmt(hss_store_t *st, stmt_id_t id)
{
	if (st->stmt[id] == NULL &&
	    sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
			       NULL) != SQLITE_OK) {
		LOG_ERROR(MOD, "sqlite.error op=prepare sql=\"%s\" err=\"%s\"", stmt_sql[id],
			  sqlite3_errmsg(st->db));
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

/* Ends a use of a cached statement: it releases its read snapshot and
 * its bound strings (which may point into the caller's memory). */
static void done(sqlite3_stmt *s)
{
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* Runs a cached statement that returns no row (transaction control,
 * PRAGMA). */
static int run(hss_store_t *st, stmt_id_t id, const char *what)
{
	sqlite3_stmt *s = stmt(st, id);
	if (s == NULL)
		return IMS_EDB;
	int r = sqlite3_step(s);
	done(s);
	return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : db_fail(st, what);
}

static int begin(hss_store_t *st)
{
	return run(st, Q_BEGIN_IMMEDIATE, "begin");
}

/* Durability per kind of write. Provisioning (create, replace, delete)
 * commits with synchronous=FULL: a 2xx means the record is on disk. The
 * per-registration Cx writes (SQN reservations, registration state) run on
 * every REGISTER, where an fsync per commit would cap the HSS at a few
 * hundred MAR/SAR a second; they commit with synchronous=NORMAL, the
 * connection's setting, which in WAL mode still survives a crash or kill -9
 * of the daemon and can lose only the last commits on power loss. A lost
 * SQN increment is recovered by the USIM's resynchronisation (TS 33.102
 * §6.3.5), a lost registration state by the next REGISTER. */
static void full_sync(hss_store_t *st, int on)
{
	(void)run(st, on ? Q_SYNC_FULL : Q_SYNC_NORMAL, "pragma.synchronous");
}

static int commit(hss_store_t *st)
{
	int rc = run(st, Q_COMMIT, "commit");
	if (rc != 0)
		(void)run(st, Q_ROLLBACK, "rollback");
	return rc;
}

static void rollback(hss_store_t *st)
{
	(void)run(st, Q_ROLLBACK, "rollback");
}

/* Ends a write transaction: COMMIT when rc is 0, else ROLLBACK. */
static int finish(hss_store_t *st, int rc)
{
	if (rc == 0)
		return commit(st);
	rollback(st);
	return rc;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static char *col_strdup(ims_arena_t *a, sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	int n = sqlite3_column_bytes(s, i);
	if (t == NULL)
		return NULL;
	return ims_arena_memdup(a, t, (size_t)n);
}

static int col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t n)
{
	const void *b = sqlite3_column_blob(s, i);
	if (b == NULL || (size_t)sqlite3_column_bytes(s, i) != n)
		return -1;
	memcpy(out, b, n);
	return 0;
}

/* ---- subscriber objects ----------------------------------------------- */

hss_sub_t *hss_sub_new(void)
{
	ims_arena_t *a = ims_arena_create(2048);
	if (a == NULL)
		return NULL;
	hss_sub_t *sub = ims_arena_zalloc(a, sizeof(*sub));
	if (sub == NULL) {
		ims_arena_destroy(a);
		return NULL;
	}
	sub->arena = a;
	sub->hunting = HSS_HUNT_PARALLEL;
	sub->reg_state = HSS_REG_NOT_REGISTERED;
	sub->scscf_name = "";
	return sub;
}

void hss_sub_free(hss_sub_t *sub)
{
	if (sub != NULL)
		ims_arena_destroy(sub->arena); /* sub itself lives in its arena */
}

void hss_sub_list_free(hss_sub_t **subs, unsigned n)
{
	if (subs == NULL)
		return;
	for (unsigned i = 0; i < n; i++)
		hss_sub_free(subs[i]);
	free(subs);
}

const char *hss_reg_state_name(hss_reg_state_t st)
{
	switch (st) {
	case HSS_REG_NOT_REGISTERED:
		return "NOT_REGISTERED";
	case HSS_REG_REGISTERED:
		return "REGISTERED";
	case HSS_REG_UNREGISTERED:
		return "UNREGISTERED";
	}
	return "NOT_REGISTERED";
}

/* ---- open / close / schema --------------------------------------------- */

/* A one-off statement (schema inspection at open). */
static int prepare(hss_store_t *st, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return db_fail(st, "prepare");
	return 0;
}

static int read_version(hss_store_t *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(st, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'", &s);
	if (rc != 0)
		return rc;
	int exists = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (!exists) {
		*version = 0;
		return 0;
	}
	rc = prepare(st, "SELECT max(version) FROM schema_version", &s);
	if (rc != 0)
		return rc;
	*version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return 0;
}

static int migrate(hss_store_t *st)
{
	int v = 0, rc = read_version(st, &v);
	if (rc != 0)
		return rc;
	if (v > SCHEMA_VERSION) {
		LOG_ERROR(MOD, "schema.too_new version=%d known=%d", v, SCHEMA_VERSION);
		return IMS_EDB;
	}
	while (v < SCHEMA_VERSION) {
		char upd[160];
		if ((rc = begin(st)) != 0)
			return rc;
		rc = exec(st, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
		if (rc == 0)
			rc = exec(st, migrations[v]);
		snprintf(upd, sizeof(upd), "DELETE FROM schema_version; INSERT INTO schema_version(version) VALUES (%d)", v + 1);
		if (rc == 0)
			rc = exec(st, upd);
		if ((rc = finish(st, rc)) != 0)
			return rc;
		LOG_INFO(MOD, "schema.migrated version=%d", v + 1);
		v++;
	}
	st->schema_version = v;
	return 0;
}

/* ---- checkpoints ------------------------------------------------------ */

/* Left to SQLite, the checkpoint runs inside the COMMIT that fills the WAL
 * past wal_autocheckpoint pages, under the store lock, and its two fsyncs
 * (the WAL, then the database file) cost about 30 us per dirty page on the
 * development machine: a 30 ms stall of every Cx request each thousand
 * writes. A thread with its own connection copies the WAL into the file
 * instead, without the lock, every CKPT_PERIOD_MS. The WAL only starts over
 * when a writer finds it wholly copied; so when there was work, the thread
 * copies the few frames written meanwhile under the lock (a short fsync).
 * If the thread falls behind, SQLite's own checkpoint at CKPT_SAFETY_PAGES
 * still bounds the WAL. Durability is unchanged: the same syncs happen,
 * on another thread. */
#define CKPT_PERIOD_MS 100
#define CKPT_FINISH_FRAMES 64
#define CKPT_SAFETY_PAGES "20000"

static void *ckpt_main(void *arg)
{
	hss_store_t *st = arg;
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(st->path, &db, flags, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous=NORMAL; SELECT count(*) FROM sqlite_master", NULL,
			 NULL, NULL) != SQLITE_OK) {
		LOG_ERROR(MOD, "checkpointer.failed path=%s err=\"%s\"", st->path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	pthread_mutex_lock(&st->ck_mu);
	while (!st->ck_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += CKPT_PERIOD_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&st->ck_cond, &st->ck_mu, &ts);
		if (st->ck_stop)
			break;
		pthread_mutex_unlock(&st->ck_mu);
		int frames = 0, copied = 0;
		int r = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
		if (r == SQLITE_OK && frames >= CKPT_FINISH_FRAMES) {
			pthread_mutex_lock(&st->lock);
			r = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
			pthread_mutex_unlock(&st->lock);
		}
		if (r != SQLITE_OK && r != SQLITE_BUSY)
			LOG_WARN(MOD, "checkpoint.failed err=\"%s\"", sqlite3_errmsg(db));
		pthread_mutex_lock(&st->ck_mu);
	}
	pthread_mutex_unlock(&st->ck_mu);
	sqlite3_close(db);
	return NULL;
}

static int ckpt_start(hss_store_t *st, const char *path)
{
	if ((st->path = strdup(path)) == NULL)
		return IMS_ENOMEM;
	if (exec(st, "PRAGMA wal_autocheckpoint=" CKPT_SAFETY_PAGES) != 0)
		return IMS_EDB;
	if (pthread_create(&st->ck_thread, NULL, ckpt_main, st) != 0)
		return IMS_ENOMEM;
	st->ck_running = 1;
	return 0;
}

static void ckpt_stop(hss_store_t *st)
{
	if (!st->ck_running)
		return;
	pthread_mutex_lock(&st->ck_mu);
	st->ck_stop = 1;
	pthread_cond_signal(&st->ck_cond);
	pthread_mutex_unlock(&st->ck_mu);
	pthread_join(st->ck_thread, NULL);
	st->ck_running = 0;
}

#define HSS_PAGE_SIZE "1024" /* bytes, for a new file */

int hss_store_open(const char *path, hss_store_t **out)
{
	*out = NULL;
	hss_store_t *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return IMS_ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->cache_mu, NULL);
	pthread_mutex_init(&st->ck_mu, NULL);
	pthread_cond_init(&st->ck_cond, NULL);
	pthread_mutex_init(&st->q_mu, NULL);
	pthread_cond_init(&st->q_cond, NULL);
	pthread_cond_init(&st->q_done, NULL);
	st->q_tail = &st->q_head;
	st->q_max = HSS_STORE_QUEUE_MAX;
	st->data_version = -1;
	const char *help = "HSS store reads by IMPI, answered from the subscriber cache or the file";
	st->m_hits = ims_metrics_counter("hss_store_cache_reads_total", help, "result", "hit");
	st->m_misses = ims_metrics_counter("hss_store_cache_reads_total", help, "result", "miss");
	st->m_records = ims_metrics_gauge("hss_store_cache_records",
					  "Subscriber records kept parsed in memory", NULL, NULL);
	if (!st->m_hits || !st->m_misses || !st->m_records) {
		hss_store_close(st);
		return IMS_ENOMEM;
	}
	if (hss_store_set_cache(st, CACHE_BUCKETS_DEFAULT) != 0) {
		hss_store_close(st);
		return IMS_ENOMEM;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		LOG_ERROR(MOD, "open.failed path=%s err=\"%s\"", path,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		hss_store_close(st);
		return IMS_EDB;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* WAL: readers (sqlite3 shell, backups) never block the daemon.
	 * synchronous=NORMAL is the Cx writes' setting; provisioning writes
	 * switch to FULL for their commit (full_sync). Not locking_mode=
	 * EXCLUSIVE: operators and tests use the sqlite3 shell on the live
	 * file (docs/hss.md). */
	/* A new file gets 1 KiB pages: a Cx write changes a few bytes of one
	 * row, and each commit writes its page to the WAL and, at the next
	 * checkpoint, to the file; with 4 KiB pages the kernel's writeback of
	 * those bytes cost the bench ~15 % of its MAR rate (docs/PERFORMANCE.md,
	 * "HSS Cx, round 4"). An existing file keeps its page size: SQLite
	 * ignores this then. */
	int rc = exec(st, "PRAGMA page_size=" HSS_PAGE_SIZE);
	if (rc == 0)
		rc = exec(st, "PRAGMA journal_mode=WAL");
	if (rc == 0)
		rc = exec(st, "PRAGMA synchronous=NORMAL");
	if (rc == 0)
		rc = exec(st, "PRAGMA foreign_keys=ON");
	if (rc == 0) {
		full_sync(st, 1);
		rc = migrate(st);
		full_sync(st, 0);
	}
	if (rc == 0) /* the data version the (empty) cache starts from */
		rc = cache_check(st);
	if (rc == 0)
		rc = writer_start(st);
	if (rc == 0 && path[0] != '\0' && strcmp(path, ":memory:") != 0) /* a file: it has a WAL */
		rc = ckpt_start(st, path);
	if (rc != 0) {
		LOG_ERROR(MOD, "open.failed path=%s", path);
		hss_store_close(st);
		return rc;
	}
	LOG_INFO(MOD, "open path=%s schema_version=%d", path, st->schema_version);
	*out = st;
	return 0;
}

void hss_store_close(hss_store_t *st)
{
	if (st == NULL)
		return;
	writer_stop(st);
	ckpt_stop(st);
	for (unsigned i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->cache != NULL)
		LOG_NOTICE(MOD, "cache records=%u hits=%lu misses=%lu flushes=%lu writes=%lu commits=%lu",
			 st->n_cached, st->cache_hits, st->cache_misses, st->cache_flushes, st->n_jobs,
			 st->n_batches);
	cache_flush(st);
	free(st->cache);
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->cache_mu);
	pthread_mutex_destroy(&st->ck_mu);
	pthread_cond_destroy(&st->ck_cond);
	pthread_mutex_destroy(&st->q_mu);
	pthread_cond_destroy(&st->q_cond);
	pthread_cond_destroy(&st->q_done);
	free(st->path);
	free(st);
}

int hss_store_schema_version(hss_store_t *st)
{
	return st->schema_version;
}

/* ---- the subscriber cache ---------------------------------------------- */

/* A Cx request reads its subscriber on every REGISTER; parsing the row,
 * its identities and its iFC JSON costs more than the rest of the answer.
 * The store keeps what it read, parsed, and hands out copies. It stays
 * right because every write of this process goes through the store
 * (which updates or drops the entry under the lock), and a commit by any
 * other connection (the sqlite3 shell, an operator's script) changes
 * PRAGMA data_version, which each read checks first: then the whole cache
 * goes. */

#define A16(n) (((n) + 15u) & ~(size_t)15u)

static size_t str_bytes(const char *s)
{
	return s ? A16(strlen(s) + 1) : 0;
}

/* The arena bytes a copy of sub takes (so that one chunk holds it). */
static size_t sub_bytes(const hss_sub_t *sub)
{
	size_t n = A16(sizeof(*sub)) + str_bytes(sub->impi) + str_bytes(sub->password) +
		   str_bytes(sub->scscf_name) + A16(sub->n_impus * sizeof(*sub->impus)) +
		   A16(sub->n_ifcs * sizeof(*sub->ifcs));
	for (unsigned i = 0; i < sub->n_impus; i++)
		n += str_bytes(sub->impus[i].uri);
	for (unsigned i = 0; i < sub->n_ifcs; i++) {
		const hss_ifc_t *f = &sub->ifcs[i];
		n += str_bytes(f->server_name) + str_bytes(f->service_info) +
		     A16(f->n_spt * sizeof(*f->spt));
		for (unsigned j = 0; j < f->n_spt; j++)
			n += str_bytes(f->spt[j].value) + str_bytes(f->spt[j].content);
	}
	return n;
}

/* A copy of s in a; sets *ok to 0 when out of memory (NULL stays NULL). */
static const char *adup(ims_arena_t *a, const char *s, int *ok)
{
	if (s == NULL)
		return NULL;
	const char *d = ims_arena_memdup(a, s, strlen(s) + 1);
	if (d == NULL)
		*ok = 0;
	return d;
}

static void *acopy(ims_arena_t *a, const void *p, size_t n, int *ok)
{
	if (n == 0)
		return NULL;
	void *d = ims_arena_memdup(a, p, n);
	if (d == NULL)
		*ok = 0;
	return d;
}

/* A deep copy of sub in an arena of its own (NULL when out of memory). */
static hss_sub_t *sub_clone(const hss_sub_t *src)
{
	ims_arena_t *a = ims_arena_create(sub_bytes(src));
	if (a == NULL)
		return NULL;
	int ok = 1;
	hss_sub_t *d = acopy(a, src, sizeof(*src), &ok);
	if (!ok)
		goto fail;
	d->arena = a;
	d->impi = adup(a, src->impi, &ok);
	d->password = adup(a, src->password, &ok);
	d->scscf_name = adup(a, src->scscf_name ? src->scscf_name : "", &ok);
	d->impus = acopy(a, src->impus, src->n_impus * sizeof(*src->impus), &ok);
	for (unsigned i = 0; ok && i < src->n_impus; i++)
		d->impus[i].uri = adup(a, src->impus[i].uri, &ok);
	d->ifcs = acopy(a, src->ifcs, src->n_ifcs * sizeof(*src->ifcs), &ok);
	for (unsigned i = 0; ok && i < src->n_ifcs; i++) {
		hss_ifc_t *f = &d->ifcs[i];
		f->server_name = adup(a, f->server_name, &ok);
		f->service_info = adup(a, f->service_info, &ok);
		f->spt = acopy(a, f->spt, f->n_spt * sizeof(*f->spt), &ok);
		for (unsigned j = 0; ok && j < f->n_spt; j++) {
			f->spt[j].value = adup(a, f->spt[j].value, &ok);
			f->spt[j].content = adup(a, f->spt[j].content, &ok);
		}
	}
	if (ok)
		return d;
fail:
	ims_arena_destroy(a);
	return NULL;
}

static void cache_gauge(hss_store_t *st)
{
	if (st->m_records != NULL)
		ims_gauge_set(st->m_records, st->n_cached);
}

static void cache_ent_free(cache_ent_t *e)
{
	hss_sub_free(e->sub);
	free(e->scscf);
	free(e);
}

static cache_ent_t **cache_slot(hss_store_t *st, const char *impi)
{
	if (st->cache == NULL)
		return NULL;
	uint32_t h = ims_str_hash(ims_str_cstr(impi)) & (st->cache_buckets - 1);
	cache_ent_t **pp = &st->cache[h];
	while (*pp != NULL && strcmp((*pp)->sub->impi, impi) != 0)
		pp = &(*pp)->next;
	return pp;
}

static cache_ent_t *cache_find(hss_store_t *st, const char *impi)
{
	cache_ent_t **pp = cache_slot(st, impi);
	return pp ? *pp : NULL;
}

static void cache_drop_locked(hss_store_t *st, const char *impi)
{
	cache_ent_t **pp = cache_slot(st, impi);
	if (pp == NULL || *pp == NULL)
		return;
	cache_ent_t *e = *pp;
	*pp = e->next;
	cache_ent_free(e);
	st->n_cached--;
	cache_gauge(st);
}

/* The cache's changes below are made with st->lock held; each takes
 * cache_mu for itself. */
static void cache_drop(hss_store_t *st, const char *impi)
{
	pthread_mutex_lock(&st->cache_mu);
	cache_drop_locked(st, impi);
	pthread_mutex_unlock(&st->cache_mu);
}

static void cache_flush_locked(hss_store_t *st)
{
	if (st->cache == NULL)
		return;
	for (unsigned i = 0; i < st->cache_buckets; i++) {
		while (st->cache[i] != NULL) {
			cache_ent_t *e = st->cache[i];
			st->cache[i] = e->next;
			cache_ent_free(e);
		}
	}
	st->n_cached = 0;
	cache_gauge(st);
}

static void cache_flush(hss_store_t *st)
{
	pthread_mutex_lock(&st->cache_mu);
	cache_flush_locked(st);
	pthread_mutex_unlock(&st->cache_mu);
}

static int cache_set_scscf(cache_ent_t *e, const char *name)
{
	char *c = strdup(name ? name : "");
	if (c == NULL)
		return IMS_ENOMEM;
	free(e->scscf);
	e->scscf = c;
	e->sub->scscf_name = c;
	return 0;
}

/* Keeps a copy of sub, just read in this snapshot. Best effort: a record
 * that cannot be kept is read again next time. */
static void cache_put(hss_store_t *st, const hss_sub_t *sub, sqlite3_int64 id)
{
	if (st->cache == NULL)
		return;
	cache_drop(st, sub->impi);
	uint32_t h = ims_str_hash(ims_str_cstr(sub->impi)) & (st->cache_buckets - 1);
	cache_ent_t *e = calloc(1, sizeof(*e));
	if (e == NULL || (e->sub = sub_clone(sub)) == NULL ||
	    cache_set_scscf(e, sub->scscf_name) != 0) {
		if (e != NULL)
			cache_ent_free(e);
		return;
	}
	pthread_mutex_lock(&st->cache_mu);
	e->id = id;
	e->next = st->cache[h];
	st->cache[h] = e;
	st->n_cached++;
	/* bounded: past CACHE_CHAIN_MAX records a bucket on average, the
	 * chain taking a new one loses its oldest */
	if (st->n_cached > CACHE_CHAIN_MAX * st->cache_buckets && e->next != NULL) {
		cache_ent_t **pp = &e->next;
		while ((*pp)->next != NULL)
			pp = &(*pp)->next;
		cache_ent_free(*pp);
		*pp = NULL;
		st->n_cached--;
	}
	cache_gauge(st);
	pthread_mutex_unlock(&st->cache_mu);
}

/* After a committed create: the record as a read would return it (a new
 * subscriber is read by its first MAR next). */
static void cache_put_created(hss_store_t *st, const hss_sub_t *sub, sqlite3_int64 id)
{
	hss_sub_t rec = *sub;
	rec.sqn = sub->sqn & HSS_SQN_MAX;
	rec.has_sqn = 1;
	rec.hunting = sub->hunting == HSS_HUNT_SEQUENTIAL ? HSS_HUNT_SEQUENTIAL : HSS_HUNT_PARALLEL;
	rec.reg_state = HSS_REG_NOT_REGISTERED;
	rec.scscf_name = "";
	if (!rec.has_op)
		memset(rec.op, 0, sizeof(rec.op));
	cache_put(st, &rec, id);
}

/* After a committed write of this process: the entry follows it, or goes
 * when it cannot. */
static void cache_note_sqn(hss_store_t *st, const char *impi, uint64_t sqn)
{
	cache_ent_t *e = cache_find(st, impi);
	if (e == NULL)
		return;
	pthread_mutex_lock(&st->cache_mu);
	e->sub->sqn = sqn & HSS_SQN_MAX;
	pthread_mutex_unlock(&st->cache_mu);
}

static void cache_note_reg(hss_store_t *st, const char *impi, hss_reg_state_t state,
			   const char *scscf_name)
{
	cache_ent_t *e = cache_find(st, impi);
	if (e == NULL)
		return;
	pthread_mutex_lock(&st->cache_mu);
	if (cache_set_scscf(e, scscf_name) != 0)
		cache_drop_locked(st, impi);
	else
		e->sub->reg_state = state;
	pthread_mutex_unlock(&st->cache_mu);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Inside a read or write transaction, before the cache is used: a commit
 * by another connection since the last check empties it. */
static int cache_check(hss_store_t *st)
{
	sqlite3_stmt *s = stmt(st, Q_DATA_VERSION);
	if (s == NULL)
		return IMS_EDB;
	int r = sqlite3_step(s);
	sqlite3_int64 v = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	done(s);
	if (r != SQLITE_ROW)
		return db_fail(st, "data_version");
	pthread_mutex_lock(&st->cache_mu);
	if (v != st->data_version) {
		if (st->n_cached > 0) {
			LOG_INFO(MOD, "cache.flushed records=%u why=other_connection_committed",
				 st->n_cached);
			st->cache_flushes++;
		}
		cache_flush_locked(st);
		st->data_version = v;
	}
	st->checked_ns = mono_ns();
	pthread_mutex_unlock(&st->cache_mu);
	return 0;
}

int hss_store_set_cache(hss_store_t *st, unsigned buckets)
{
	if (buckets & (buckets - 1))
		return IMS_EINVAL;
	cache_ent_t **c = NULL;
	if (buckets > 0 && (c = calloc(buckets, sizeof(*c))) == NULL)
		return IMS_ENOMEM;
	pthread_mutex_lock(&st->lock);
	pthread_mutex_lock(&st->cache_mu);
	cache_flush_locked(st);
	free(st->cache);
	st->cache = c;
	st->cache_buckets = buckets;
	pthread_mutex_unlock(&st->cache_mu);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

void hss_store_cache_stats(hss_store_t *st, hss_store_cache_stats_t *out)
{
	pthread_mutex_lock(&st->lock);
	pthread_mutex_lock(&st->cache_mu);
	out->records = st->n_cached;
	out->hits = st->cache_hits;
	out->misses = st->cache_misses;
	out->flushes = st->cache_flushes;
	out->writes = st->n_jobs;
	out->commits = st->n_batches;
	pthread_mutex_unlock(&st->cache_mu);
	pthread_mutex_unlock(&st->lock);
}

/* ---- reads ------------------------------------------------------------- */

/* Builds a subscriber from a row of SUB_COLUMNS plus its identities. */
static int load_row(hss_store_t *st, sqlite3_stmt *s, hss_sub_t **out)
{
	hss_sub_t *sub = hss_sub_new();
	sqlite3_stmt *q = NULL;
	int rc = IMS_ENOMEM;
	if (sub == NULL)
		return IMS_ENOMEM;
	ims_arena_t *a = sub->arena;
	sqlite3_int64 id = sqlite3_column_int64(s, 0);

	if ((sub->impi = col_strdup(a, s, 1)) == NULL)
		goto out;
	if (col_blob(s, 2, sub->k, 16) != 0 || col_blob(s, 3, sub->opc, 16) != 0 ||
	    col_blob(s, 5, sub->amf, 2) != 0) {
		LOG_ERROR(MOD, "row.corrupt impi=%s what=keys", sub->impi);
		rc = IMS_EDB;
		goto out;
	}
	sub->has_op = col_blob(s, 4, sub->op, 16) == 0;
	sub->sqn = (uint64_t)sqlite3_column_int64(s, 6) & HSS_SQN_MAX;
	sub->has_sqn = 1;
	if (sqlite3_column_type(s, 7) != SQLITE_NULL && (sub->password = col_strdup(a, s, 7)) == NULL)
		goto out;
	const char *ifcs = (const char *)sqlite3_column_text(s, 8);
	char err[200];
	rc = hss_json_ifcs_load(ifcs ? ifcs : "[]", a, &sub->ifcs, &sub->n_ifcs, err, sizeof(err));
	if (rc != 0) {
		LOG_ERROR(MOD, "row.corrupt impi=%s what=ifcs err=\"%s\"", sub->impi, err);
		rc = rc == IMS_ENOMEM ? rc : IMS_EDB;
		goto out;
	}
	rc = IMS_ENOMEM;
	sub->hunting = sqlite3_column_int(s, 9) == HSS_HUNT_SEQUENTIAL ? HSS_HUNT_SEQUENTIAL : HSS_HUNT_PARALLEL;
	int reg = sqlite3_column_int(s, 10);
	sub->reg_state = reg == HSS_REG_REGISTERED ? HSS_REG_REGISTERED
		       : reg == HSS_REG_UNREGISTERED ? HSS_REG_UNREGISTERED : HSS_REG_NOT_REGISTERED;
	if ((sub->scscf_name = col_strdup(a, s, 11)) == NULL)
		sub->scscf_name = "";

	if ((q = stmt(st, Q_IMPUS_OF)) == NULL) {
		rc = IMS_EDB;
		goto out;
	}
	sqlite3_bind_int64(q, 1, id);
	unsigned cap = 0;
	for (;;) {
		int r = sqlite3_step(q);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = db_fail(st, "impu.select");
			goto out;
		}
		if (sub->n_impus == cap) {
			unsigned ncap = cap ? cap * 2 : 4;
			hss_impu_t *n = ims_arena_alloc(a, ncap * sizeof(*n));
			rc = IMS_ENOMEM;
			if (n == NULL)
				goto out;
			if (cap)
				memcpy(n, sub->impus, cap * sizeof(*n));
			sub->impus = n;
			cap = ncap;
		}
		hss_impu_t *u = &sub->impus[sub->n_impus];
		rc = IMS_ENOMEM;
		if ((u->uri = col_strdup(a, q, 0)) == NULL)
			goto out;
		u->barred = sqlite3_column_int(q, 1) != 0;
		sub->n_impus++;
	}
	rc = 0;
out:
	done(q);
	if (rc != 0) {
		hss_sub_free(sub);
		return rc;
	}
	*out = sub;
	return 0;
}

/* Loads the subscriber of a one-row query (one text parameter): one read
 * transaction, so the record and its identities come from one snapshot. */
static int get_one(hss_store_t *st, stmt_id_t id, const char *arg, hss_sub_t **out)
{
	int rc = run(st, Q_BEGIN, "begin");
	if (rc != 0)
		return rc;
	if ((rc = cache_check(st)) != 0)
		goto out;
	cache_ent_t *e = id == Q_SUB_BY_IMPI ? cache_find(st, arg) : NULL;
	if (e != NULL) {
		pthread_mutex_lock(&st->cache_mu);
		st->cache_hits++;
		pthread_mutex_unlock(&st->cache_mu);
		ims_counter_inc(st->m_hits);
		*out = sub_clone(e->sub); /* nobody changes it: we hold the lock */
		rc = *out ? 0 : IMS_ENOMEM;
		goto out;
	}
	sqlite3_stmt *s = stmt(st, id);
	if (s == NULL) {
		rc = IMS_EDB;
	} else {
		bind_text(s, 1, arg);
		int r = sqlite3_step(s);
		sqlite3_int64 row = 0;
		if (r == SQLITE_ROW) {
			row = sqlite3_column_int64(s, 0);
			rc = load_row(st, s, out);
		} else if (r == SQLITE_DONE) {
			rc = IMS_ENOENT;
		} else {
			rc = db_fail(st, "select");
		}
		done(s);
		if (rc == 0) {
			pthread_mutex_lock(&st->cache_mu);
			st->cache_misses++;
			pthread_mutex_unlock(&st->cache_mu);
			ims_counter_inc(st->m_misses);
			cache_put(st, *out, row);
		}
	}
out:
	(void)run(st, Q_COMMIT, "commit"); /* a read: nothing to lose */
	return rc;
}

int hss_store_get_by_impi(hss_store_t *st, const char *impi, hss_sub_t **out)
{
	*out = NULL;
	if (impi == NULL)
		return IMS_EINVAL;
	/* The hit of a fresh cache: no read transaction, no wait behind a
	 * commit. Fresh means the data version was checked (by a read or a
	 * Cx write, which checks it in every transaction) within the last
	 * HSS_STORE_CACHE_CHECK_US; this process's own writes update the
	 * cache as they commit. */
	pthread_mutex_lock(&st->cache_mu);
	cache_ent_t *e = NULL;
	if (st->cache != NULL && mono_ns() - st->checked_ns < CACHE_FRESH_NS)
		e = cache_find(st, impi);
	if (e != NULL) {
		st->cache_hits++;
		*out = sub_clone(e->sub);
	}
	pthread_mutex_unlock(&st->cache_mu);
	if (e != NULL) {
		ims_counter_inc(st->m_hits);
		return *out ? 0 : IMS_ENOMEM;
	}
	pthread_mutex_lock(&st->lock);
	int rc = get_one(st, Q_SUB_BY_IMPI, impi, out);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int hss_store_find_impu(hss_store_t *st, const char *impu, hss_sub_t **out)
{
	*out = NULL;
	if (impu == NULL)
		return IMS_EINVAL;
	pthread_mutex_lock(&st->lock);
	int rc = get_one(st, Q_SUB_BY_IMPU, impu, out);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int count_locked(hss_store_t *st, unsigned *count)
{
	sqlite3_stmt *s = stmt(st, Q_COUNT);
	int rc = 0;
	if (s == NULL)
		return IMS_EDB;
	if (sqlite3_step(s) == SQLITE_ROW)
		*count = (unsigned)sqlite3_column_int64(s, 0);
	else
		rc = db_fail(st, "count");
	done(s);
	return rc;
}

int hss_store_count(hss_store_t *st, unsigned *count)
{
	pthread_mutex_lock(&st->lock);
	int rc = count_locked(st, count);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int hss_store_list(hss_store_t *st, unsigned offset, unsigned limit,
		   hss_sub_t ***out, unsigned *n_out, unsigned *total)
{
	sqlite3_stmt *s = NULL;
	hss_sub_t **arr = NULL;
	unsigned n = 0;
	int rc;

	*out = NULL;
	*n_out = 0;
	pthread_mutex_lock(&st->lock);
	/* One read transaction: the page and the total come from one snapshot. */
	if ((rc = run(st, Q_BEGIN, "begin")) != 0)
		goto unlock;
	if (total != NULL && (rc = count_locked(st, total)) != 0)
		goto out;
	if ((s = stmt(st, Q_LIST)) == NULL) {
		rc = IMS_EDB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, limit);
	sqlite3_bind_int64(s, 2, offset);
	if (limit > 0 && (arr = calloc(limit, sizeof(*arr))) == NULL) {
		rc = IMS_ENOMEM;
		goto out;
	}
	for (;;) {
		int r = sqlite3_step(s);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = db_fail(st, "list");
			goto out;
		}
		if (n >= limit)
			break;
		if ((rc = load_row(st, s, &arr[n])) != 0)
			goto out;
		n++;
	}
	rc = 0;
out:
	done(s);
	(void)run(st, Q_COMMIT, "commit");
unlock:
	pthread_mutex_unlock(&st->lock);
	if (rc != 0) {
		hss_sub_list_free(arr, n);
		return rc;
	}
	*out = arr;
	*n_out = n;
	return 0;
}

int hss_store_impi_owns_impu(hss_store_t *st, const char *impi, const char *impu)
{
	if (impi == NULL || impu == NULL)
		return IMS_EINVAL;
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *s = stmt(st, Q_OWNS);
	int rc = IMS_EDB;
	if (s != NULL) {
		bind_text(s, 1, impi);
		bind_text(s, 2, impu);
		if (sqlite3_step(s) != SQLITE_ROW)
			rc = db_fail(st, "owns");
		else if (sqlite3_column_type(s, 0) == SQLITE_NULL || sqlite3_column_type(s, 1) == SQLITE_NULL)
			rc = IMS_ENOENT;
		else
			rc = sqlite3_column_int64(s, 0) == sqlite3_column_int64(s, 1);
		done(s);
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* ---- writes ------------------------------------------------------------ */

/* Binds keys, sqn, password, ifcs JSON and hunting at ?1..?10 (sqn at ?5
 * and bound only when bind_sqn). */
static void bind_record(sqlite3_stmt *s, const hss_sub_t *sub, const char *ifcs_json, int bind_sqn)
{
	sqlite3_bind_blob(s, 1, sub->k, 16, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, sub->opc, 16, SQLITE_STATIC);
	if (sub->has_op)
		sqlite3_bind_blob(s, 3, sub->op, 16, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_blob(s, 4, sub->amf, 2, SQLITE_STATIC);
	if (bind_sqn)
		sqlite3_bind_int64(s, 5, (sqlite3_int64)(sub->sqn & HSS_SQN_MAX));
	bind_text(s, 6, sub->password);
	bind_text(s, 7, ifcs_json);
	sqlite3_bind_int(s, 8, sub->hunting == HSS_HUNT_SEQUENTIAL);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)time(NULL));
	bind_text(s, 10, sub->impi);
}

static char *ifcs_text(const hss_sub_t *sub)
{
	json_t *j = hss_json_ifcs_dump(sub->ifcs, sub->n_ifcs);
	if (j == NULL)
		return NULL;
	char *t = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return t;
}

/* Inserts the identities of subscriber row id, in order. Caller holds the
 * lock inside a write transaction. */
static int insert_impus(hss_store_t *st, sqlite3_int64 id, const hss_sub_t *sub)
{
	sqlite3_stmt *s = stmt(st, Q_IMPU_INSERT);
	int rc = s == NULL ? IMS_EDB : 0;
	for (unsigned i = 0; i < sub->n_impus && rc == 0; i++) {
		bind_text(s, 1, sub->impus[i].uri);
		sqlite3_bind_int64(s, 2, id);
		sqlite3_bind_int(s, 3, sub->impus[i].barred != 0);
		sqlite3_bind_int(s, 4, (int)i);
		int r = sqlite3_step(s);
		done(s);
		if (r == SQLITE_CONSTRAINT) {
			LOG_INFO(MOD, "impu.taken impu=%s impi=%s", sub->impus[i].uri, sub->impi);
			rc = IMS_EEXIST;
		} else if (r != SQLITE_DONE) {
			rc = db_fail(st, "impu.insert");
		}
	}
	return rc;
}

/* Inserts one subscriber and its identities. Caller holds the lock inside
 * a write transaction. */
static int insert_sub(hss_store_t *st, const hss_sub_t *sub, sqlite3_int64 *id)
{
	sqlite3_stmt *s = stmt(st, Q_SUB_INSERT);
	if (s == NULL)
		return IMS_EDB;
	char *ifcs = ifcs_text(sub);
	if (ifcs == NULL)
		return IMS_ENOMEM;
	bind_record(s, sub, ifcs, 1);
	int r = sqlite3_step(s);
	done(s);
	free(ifcs);
	if (r == SQLITE_CONSTRAINT) {
		LOG_INFO(MOD, "impi.taken impi=%s", sub->impi);
		return IMS_EEXIST;
	}
	if (r != SQLITE_DONE)
		return db_fail(st, "insert");
	*id = sqlite3_last_insert_rowid(st->db);
	return insert_impus(st, *id, sub);
}

int hss_store_create(hss_store_t *st, const hss_sub_t *sub)
{
	/* a batch of one: the bulk path only reads the records */
	hss_sub_t *one = (hss_sub_t *)sub;
	int rc = hss_store_create_bulk(st, &one, 1, NULL);
	if (rc == 0)
		LOG_INFO(MOD, "subscriber.created impi=%s impus=%u ifcs=%u", sub->impi, sub->n_impus,
			 sub->n_ifcs);
	return rc;
}

int hss_store_create_bulk(hss_store_t *st, hss_sub_t *const *subs, unsigned n,
			  unsigned *bad_index)
{
	unsigned i = 0;
	if (bad_index != NULL)
		*bad_index = 0;
	if (subs == NULL || n == 0)
		return IMS_EINVAL;
	for (unsigned j = 0; j < n; j++)
		if (subs[j] == NULL || subs[j]->impi == NULL || subs[j]->impi[0] == '\0') {
			if (bad_index != NULL)
				*bad_index = j;
			return IMS_EINVAL;
		}
	pthread_mutex_lock(&st->lock);
	full_sync(st, 1);
	/* One transaction for the whole batch (issue 4): all records or none,
	 * and a single fsync at COMMIT instead of one per subscriber. */
	int rc = begin(st);
	if (rc == 0) {
		for (i = 0; i < n && rc == 0; i++) {
			sqlite3_int64 id = 0;
			if ((rc = insert_sub(st, subs[i], &id)) != 0)
				break;
			cache_put_created(st, subs[i], id); /* taken back below on failure */
		}
		rc = finish(st, rc);
		for (unsigned j = 0; rc != 0 && j < i && j < n; j++)
			cache_drop(st, subs[j]->impi);
	}
	full_sync(st, 0);
	pthread_mutex_unlock(&st->lock);
	if (rc != 0 && bad_index != NULL && i < n)
		*bad_index = i;
	if (rc == 0 && n > 1)
		LOG_INFO(MOD, "subscriber.bulk_created count=%u", n);
	return rc;
}

int hss_store_replace(hss_store_t *st, const hss_sub_t *sub)
{
	sqlite3_stmt *s = NULL;
	if (sub == NULL || sub->impi == NULL)
		return IMS_EINVAL;
	char *ifcs = ifcs_text(sub);
	if (ifcs == NULL)
		return IMS_ENOMEM;
	pthread_mutex_lock(&st->lock);
	full_sync(st, 1);
	int rc = begin(st);
	if (rc != 0)
		goto unlock;
	if ((s = stmt(st, sub->has_sqn ? Q_SUB_UPDATE_SQN : Q_SUB_UPDATE)) == NULL) {
		rc = IMS_EDB;
		goto out;
	}
	bind_record(s, sub, ifcs, sub->has_sqn);
	int r = sqlite3_step(s);
	sqlite3_int64 id = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	done(s);
	if (r == SQLITE_DONE) {
		rc = IMS_ENOENT;
		goto out;
	}
	if (r != SQLITE_ROW) {
		rc = db_fail(st, "update");
		goto out;
	}
	if ((s = stmt(st, Q_IMPUS_DELETE)) == NULL) {
		rc = IMS_EDB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	r = sqlite3_step(s);
	done(s);
	if (r != SQLITE_DONE) {
		rc = db_fail(st, "impu.delete");
		goto out;
	}
	rc = insert_impus(st, id, sub);
out:
	rc = finish(st, rc);
unlock:
	full_sync(st, 0);
	cache_drop(st, sub->impi);
	pthread_mutex_unlock(&st->lock);
	free(ifcs);
	if (rc == 0)
		LOG_INFO(MOD, "subscriber.replaced impi=%s impus=%u ifcs=%u", sub->impi, sub->n_impus, sub->n_ifcs);
	return rc;
}

/* Runs one UPDATE/DELETE in its own transaction with ?1 = t1, ?2 = i2;
 * IMS_ENOENT when no row changed. Caller holds the lock. */
static int write_one(hss_store_t *st, stmt_id_t id, const char *what,
		     const char *t1, sqlite3_int64 i2)
{
	int rc = begin(st);
	if (rc != 0)
		return rc;
	sqlite3_stmt *s = stmt(st, id);
	if (s == NULL) {
		rc = IMS_EDB;
	} else {
		bind_text(s, 1, t1);
		sqlite3_bind_int64(s, 2, i2);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = db_fail(st, what);
		else if (sqlite3_changes(st->db) == 0)
			rc = IMS_ENOENT;
		done(s);
	}
	return finish(st, rc);
}

int hss_store_delete(hss_store_t *st, const char *impi)
{
	if (impi == NULL)
		return IMS_EINVAL;
	pthread_mutex_lock(&st->lock);
	full_sync(st, 1);
	int rc = write_one(st, Q_SUB_DELETE, "delete", impi, 0);
	full_sync(st, 0);
	cache_drop(st, impi);
	pthread_mutex_unlock(&st->lock);
	if (rc == 0)
		LOG_INFO(MOD, "subscriber.deleted impi=%s", impi);
	return rc;
}

/* Takes n SQNs inside the caller's write transaction. */
static int sqn_next_locked(hss_store_t *st, const char *impi, unsigned n, uint64_t *first_sqn)
{
	sqlite3_stmt *s = stmt(st, Q_SQN_NEXT);
	if (s == NULL)
		return IMS_EDB;
	bind_text(s, 1, impi);
	sqlite3_bind_int64(s, 2, n);
	int rc = 0, r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		uint64_t last = (uint64_t)sqlite3_column_int64(s, 0);
		*first_sqn = (last - (n - 1)) & HSS_SQN_MAX;
	} else if (r == SQLITE_DONE) {
		rc = IMS_ENOENT;
	} else {
		rc = db_fail(st, "sqn.next");
	}
	done(s); /* before COMMIT: a statement still running blocks it */
	return rc;
}

/* Sets the registration state inside the caller's write transaction. */
static int reg_set_locked(hss_store_t *st, const char *impi, hss_reg_state_t state,
			  const char *scscf_name)
{
	sqlite3_stmt *s = stmt(st, Q_REG_SET);
	if (s == NULL)
		return IMS_EDB;
	bind_text(s, 1, impi);
	sqlite3_bind_int(s, 2, (int)state);
	bind_text(s, 3, scscf_name ? scscf_name : "");
	int rc = 0;
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = db_fail(st, "reg.set");
	else if (sqlite3_changes(st->db) == 0)
		rc = IMS_ENOENT;
	done(s);
	return rc;
}

static int valid_state(hss_reg_state_t state)
{
	return state == HSS_REG_NOT_REGISTERED || state == HSS_REG_REGISTERED ||
	       state == HSS_REG_UNREGISTERED;
}

int hss_store_next_sqn(hss_store_t *st, const char *impi, unsigned n, uint64_t *first_sqn)
{
	return hss_store_next_sqn_assign(st, impi, n, NULL, HSS_REG_NOT_REGISTERED, first_sqn);
}

/* ---- Cx writes: group commit ------------------------------------------ */

/* Each SQN reservation and registration-state change of a Cx request is a
 * job, queued for the store's writer thread. The writer takes every job
 * queued so far, runs them in one write transaction, and completes them:
 * a synchronous caller wakes up, an asynchronous one (a Cx answer waiting
 * in cx_server_defer) gets its callback on the writer thread. A COMMIT
 * costs about 30 us (locks, WAL frame header, WAL index) and each job
 * under 10 us more; while one batch commits, the next fills up, so under
 * load many Cx requests share one COMMIT, and the dispatch threads never
 * wait for it. Every completion still comes only after its write is
 * committed: what a Cx answer says is on disk as before
 * (synchronous=NORMAL, see full_sync). */
typedef struct wjob {
	struct wjob *next;
	const char *impi;
	unsigned n_sqn;              /* SQNs to reserve (0: none) */
	const char *scscf_name;      /* with set_reg: the state to store */
	hss_reg_state_t state;
	int set_reg;
	uint64_t first_sqn;          /* out */
	int rc;                      /* out */
	int done;                    /* under q_mu */
	hss_store_done_t cb;         /* asynchronous: called, then the job freed */
	void *cb_arg;
} wjob_t;

static int changed_one(hss_store_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = 0;
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = db_fail(st, what);
	else if (sqlite3_changes(st->db) == 0)
		rc = IMS_ENOENT;
	done(s);
	return rc;
}

/* One job inside the leader's transaction; the cache follows at once (a
 * later job of the same batch may reserve SQNs of the same user) and is
 * dropped for every job of the batch if the transaction fails. */
static int job_run(hss_store_t *st, wjob_t *j)
{
	cache_ent_t *e = cache_find(st, j->impi);
	sqlite3_stmt *s;
	int rc = 0;
	if (j->set_reg) {
		if (e != NULL) {
			if ((s = stmt(st, Q_REG_SET_ID)) == NULL)
				return IMS_EDB;
			sqlite3_bind_int64(s, 1, e->id);
			sqlite3_bind_int(s, 2, (int)j->state);
			bind_text(s, 3, j->scscf_name ? j->scscf_name : "");
			rc = changed_one(st, s, "reg.set");
		} else {
			rc = reg_set_locked(st, j->impi, j->state, j->scscf_name);
		}
		if (rc != 0)
			goto out;
		cache_note_reg(st, j->impi, j->state, j->scscf_name);
		e = cache_find(st, j->impi); /* gone if it could not follow */
	}
	if (j->n_sqn == 0)
		goto out;
	if (e == NULL) {
		rc = sqn_next_locked(st, j->impi, j->n_sqn, &j->first_sqn);
		goto out;
	}
	/* the cached SQN is the stored one: this connection wrote it last,
	 * or read it after the data version check of this transaction */
	uint64_t last = (e->sub->sqn + j->n_sqn) & HSS_SQN_MAX;
	if ((s = stmt(st, Q_SQN_SET_ID)) == NULL)
		return IMS_EDB;
	sqlite3_bind_int64(s, 1, e->id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)last);
	if ((rc = changed_one(st, s, "sqn.next")) == 0) {
		pthread_mutex_lock(&st->cache_mu);
		e->sub->sqn = last;
		pthread_mutex_unlock(&st->cache_mu);
		j->first_sqn = (last - (j->n_sqn - 1)) & HSS_SQN_MAX;
	}
out:
	if (rc != 0)
		cache_drop(st, j->impi);
	return rc;
}

static void batch_run(hss_store_t *st, wjob_t *batch)
{
	pthread_mutex_lock(&st->lock);
	int began = 0, rc = begin(st);
	if (rc == 0) {
		began = 1;
		rc = cache_check(st); /* the cached SQNs are the stored ones */
	}
	for (wjob_t *j = batch; rc == 0 && j != NULL; j = j->next) {
		j->rc = job_run(st, j);
		if (j->rc != 0 && j->rc != IMS_ENOENT) /* ENOENT: that job wrote nothing */
			rc = j->rc;
	}
	if (rc == 0)
		rc = commit(st); /* rolls back itself when it fails */
	else if (began)
		rollback(st);
	for (wjob_t *j = batch; j != NULL; j = j->next) {
		if (rc != 0) {
			j->rc = rc;
			cache_drop(st, j->impi);
		}
		if (j->n_sqn || j->set_reg) /* not hss_store_sync's empty job */
			st->n_jobs++;
	}
	st->n_batches++;
	pthread_mutex_unlock(&st->lock);
}

static void *writer_main(void *arg)
{
	hss_store_t *st = arg;
	pthread_mutex_lock(&st->q_mu);
	for (;;) {
		if (st->q_head == NULL) {
			if (st->q_stop)
				break;
			pthread_cond_wait(&st->q_cond, &st->q_mu);
			continue;
		}
		wjob_t *batch = st->q_head;
		st->q_head = NULL;
		st->q_tail = &st->q_head;
		if (st->q_len >= st->q_max) /* an asynchronous caller may wait */
			pthread_cond_broadcast(&st->q_done);
		st->q_len = 0;
		pthread_mutex_unlock(&st->q_mu);
		batch_run(st, batch);
		/* asynchronous jobs first (their callbacks send answers), then
		 * the waiting threads: each of their jobs lives on its thread's
		 * stack, which may return as soon as it sees done */
		wjob_t *waiting = NULL, **wt = &waiting;
		for (wjob_t *j = batch, *next; j != NULL; j = next) {
			next = j->next;
			if (j->cb != NULL) {
				j->cb(j->cb_arg, j->rc, j->first_sqn);
				free(j);
			} else {
				*wt = j;
				wt = &j->next;
			}
		}
		*wt = NULL;
		pthread_mutex_lock(&st->q_mu);
		for (wjob_t *j = waiting, *next; j != NULL; j = next) {
			next = j->next;
			j->done = 1;
		}
		if (waiting != NULL)
			pthread_cond_broadcast(&st->q_done);
	}
	pthread_mutex_unlock(&st->q_mu);
	return NULL;
}

static int writer_start(hss_store_t *st)
{
	if (pthread_create(&st->q_thread, NULL, writer_main, st) != 0)
		return IMS_ENOMEM;
	st->q_running = 1;
	return 0;
}

/* Lets the writer finish every queued job, then stops it. */
static void writer_stop(hss_store_t *st)
{
	if (!st->q_running)
		return;
	pthread_mutex_lock(&st->q_mu);
	st->q_stop = 1;
	pthread_cond_signal(&st->q_cond);
	pthread_mutex_unlock(&st->q_mu);
	pthread_join(st->q_thread, NULL);
	st->q_running = 0;
}

static void enqueue(hss_store_t *st, wjob_t *j)
{
	j->next = NULL;
	j->done = 0;
	j->rc = IMS_EDB;
	*st->q_tail = j;
	st->q_tail = &j->next;
	st->q_len++;
	pthread_cond_signal(&st->q_cond);
}

static int submit(hss_store_t *st, wjob_t *j)
{
	j->cb = NULL;
	pthread_mutex_lock(&st->q_mu);
	enqueue(st, j);
	while (!j->done)
		pthread_cond_wait(&st->q_done, &st->q_mu);
	pthread_mutex_unlock(&st->q_mu);
	return j->rc;
}

/* Queues a heap copy of *tmpl (strings too) completed by cb. */
static int submit_async(hss_store_t *st, const wjob_t *tmpl, hss_store_done_t cb, void *arg)
{
	size_t li = strlen(tmpl->impi) + 1;
	size_t ls = tmpl->scscf_name ? strlen(tmpl->scscf_name) + 1 : 0;
	wjob_t *j = malloc(sizeof(*j) + li + ls);
	if (j == NULL)
		return IMS_ENOMEM;
	*j = *tmpl;
	char *p = (char *)(j + 1);
	memcpy(p, tmpl->impi, li);
	j->impi = p;
	if (ls) {
		memcpy(p + li, tmpl->scscf_name, ls);
		j->scscf_name = p + li;
	}
	j->cb = cb;
	j->cb_arg = arg;
	pthread_mutex_lock(&st->q_mu);
	/* bounded: when the file is stuck (a lock held elsewhere, a slow
	 * disk) the callers wait here, as the synchronous ones do, instead
	 * of piling up deferred requests without end */
	while (st->q_len >= st->q_max && !st->q_stop)
		pthread_cond_wait(&st->q_done, &st->q_mu);
	enqueue(st, j);
	pthread_mutex_unlock(&st->q_mu);
	return 0;
}

int hss_store_set_queue_max(hss_store_t *st, unsigned n)
{
	if (n == 0)
		return IMS_EINVAL;
	pthread_mutex_lock(&st->q_mu);
	st->q_max = n;
	pthread_cond_broadcast(&st->q_done);
	pthread_mutex_unlock(&st->q_mu);
	return 0;
}

int hss_store_sync(hss_store_t *st)
{
	wjob_t j = { .impi = "" }; /* writes nothing: done after every job before it */
	return submit(st, &j);
}

int hss_store_next_sqn_assign(hss_store_t *st, const char *impi, unsigned n,
			      const char *scscf_name, hss_reg_state_t state, uint64_t *first_sqn)
{
	if (impi == NULL || n == 0 || first_sqn == NULL || (scscf_name && !valid_state(state)))
		return IMS_EINVAL;
	wjob_t j = { .impi = impi, .n_sqn = n, .scscf_name = scscf_name, .state = state,
		     .set_reg = scscf_name != NULL };
	int rc = submit(st, &j);
	if (rc == 0)
		*first_sqn = j.first_sqn;
	if (rc == 0 && scscf_name != NULL)
		LOG_DEBUG(MOD, "reg.set impi=%s state=%s scscf=%s", impi, hss_reg_state_name(state),
			  scscf_name);
	return rc;
}

int hss_store_next_sqn_assign_async(hss_store_t *st, const char *impi, unsigned n,
				    const char *scscf_name, hss_reg_state_t state,
				    hss_store_done_t done, void *arg)
{
	if (impi == NULL || n == 0 || done == NULL || (scscf_name && !valid_state(state)))
		return IMS_EINVAL;
	wjob_t j = { .impi = impi, .n_sqn = n, .scscf_name = scscf_name, .state = state,
		     .set_reg = scscf_name != NULL };
	return submit_async(st, &j, done, arg);
}

int hss_store_set_reg_async(hss_store_t *st, const char *impi, hss_reg_state_t state,
			    const char *scscf_name, hss_store_done_t done, void *arg)
{
	if (impi == NULL || !valid_state(state) || done == NULL)
		return IMS_EINVAL;
	wjob_t j = { .impi = impi, .scscf_name = scscf_name, .state = state, .set_reg = 1 };
	return submit_async(st, &j, done, arg);
}

int hss_store_set_sqn(hss_store_t *st, const char *impi, uint64_t sqn)
{
	if (impi == NULL || sqn > HSS_SQN_MAX)
		return IMS_EINVAL;
	pthread_mutex_lock(&st->lock);
	int rc = write_one(st, Q_SQN_SET, "sqn.set", impi, (sqlite3_int64)sqn);
	if (rc == 0)
		cache_note_sqn(st, impi, sqn);
	else
		cache_drop(st, impi);
	pthread_mutex_unlock(&st->lock);
	if (rc == 0)
		LOG_INFO(MOD, "sqn.set impi=%s sqn=%llu", impi, (unsigned long long)sqn);
	return rc;
}

int hss_store_get_reg(hss_store_t *st, const char *id, hss_reg_state_t *state,
		      char *scscf_name, size_t cap)
{
	if (id == NULL || state == NULL)
		return IMS_EINVAL;
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *s = stmt(st, Q_REG_GET);
	int rc = IMS_EDB;
	if (s != NULL) {
		bind_text(s, 1, id);
		int r = sqlite3_step(s);
		rc = 0;
		if (r == SQLITE_ROW) {
			int v = sqlite3_column_int(s, 0);
			*state = v == HSS_REG_REGISTERED ? HSS_REG_REGISTERED
			       : v == HSS_REG_UNREGISTERED ? HSS_REG_UNREGISTERED : HSS_REG_NOT_REGISTERED;
			if (scscf_name != NULL && cap > 0) {
				const char *t = (const char *)sqlite3_column_text(s, 1);
				snprintf(scscf_name, cap, "%s", t ? t : "");
			}
		} else if (r == SQLITE_DONE) {
			rc = IMS_ENOENT;
		} else {
			rc = db_fail(st, "reg.get");
		}
		done(s);
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int hss_store_set_reg(hss_store_t *st, const char *impi, hss_reg_state_t state,
		      const char *scscf_name)
{
	if (impi == NULL || !valid_state(state))
		return IMS_EINVAL;
	wjob_t j = { .impi = impi, .scscf_name = scscf_name, .state = state, .set_reg = 1 };
	int rc = submit(st, &j);
	if (rc == 0)
		LOG_DEBUG(MOD, "reg.set impi=%s state=%s scscf=%s", impi, hss_reg_state_name(state),
			 scscf_name ? scscf_name : "");
	return rc;
}
