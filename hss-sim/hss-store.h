/* HSS subscriber store: SQLite (WAL) behind one mutex-protected connection.
 *
 * Every function is thread-safe: the Cx handlers call it from freeDiameter
 * threads and the REST API from microhttpd threads. Each write runs as ONE
 * SQLite transaction (BEGIN IMMEDIATE ... COMMIT), so a crash leaves either
 * the old or the new record, never a mix. Provisioning writes are fsynced
 * (synchronous=FULL); SQN and registration-state writes use NORMAL (they
 * survive a daemon crash, not necessarily a power loss; docs/hss.md).
 *
 * A subscriber (hss_sub_t) owns one arena; every string and array in it
 * lives there and goes away with hss_sub_free(). All the public identities
 * of a subscriber form its implicit registration set (TS 23.228 §4.3.3.3:
 * we model one set per subscriber).
 */
#ifndef HSS_STORE_H
#define HSS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/ims_arena.h"

/* TS 29.228 §6.1.2 / §6.3.x: the registration state the HSS keeps for the
 * served user. Numeric values are ours (not the IMS-User-State AVP). */
typedef enum hss_reg_state {
	HSS_REG_NOT_REGISTERED = 0,
	HSS_REG_REGISTERED = 1,
	HSS_REG_UNREGISTERED = 2, /* unregistered state with a serving S-CSCF */
} hss_reg_state_t;

/* How the S-CSCF forks to several contacts of this user. */
typedef enum hss_hunting {
	HSS_HUNT_PARALLEL = 0,
	HSS_HUNT_SEQUENTIAL = 1,
} hss_hunting_t;

/* TS 29.228 Annex B.2.2 SessionCase values (tDirectionOfRequest). */
typedef enum hss_session_case {
	HSS_SC_ORIGINATING = 0,
	HSS_SC_TERMINATING_REGISTERED = 1,
	HSS_SC_TERMINATING_UNREGISTERED = 2,
	HSS_SC_ORIGINATING_UNREGISTERED = 3,
	HSS_SC_ORIGINATING_CDIV = 4,
} hss_session_case_t;

/* TS 29.228 Annex B.2.3 DefaultHandling (tDefaultHandling). */
typedef enum hss_default_handling {
	HSS_DH_SESSION_CONTINUED = 0,
	HSS_DH_SESSION_TERMINATED = 1,
} hss_default_handling_t;

/* TS 29.228 Annex B.2.2 ProfilePartIndicator; NONE = element absent. */
typedef enum hss_ppi {
	HSS_PPI_NONE = -1,
	HSS_PPI_REGISTERED = 0,
	HSS_PPI_UNREGISTERED = 1,
} hss_ppi_t;

/* The kinds of Service Point Trigger (TS 29.228 Annex B.2.2 tSePoTri). */
typedef enum hss_spt_kind {
	HSS_SPT_REQUEST_URI = 0,  /* value = regex on the Request-URI */
	HSS_SPT_METHOD,           /* value = method name */
	HSS_SPT_HEADER,           /* value = header name, content = regex or NULL (presence) */
	HSS_SPT_SESSION_CASE,     /* session_case */
	HSS_SPT_SDP_LINE,         /* value = SDP line type ("m"), content = regex or NULL */
} hss_spt_kind_t;

typedef struct hss_spt {
	hss_spt_kind_t kind;
	int group;        /* TS 29.228: SPTs with the same Group are combined */
	int negated;      /* ConditionNegated */
	const char *value;
	const char *content;
	hss_session_case_t session_case;
	unsigned reg_types; /* method REGISTER: bit 1 << RegistrationType (TS 29.228
			     * Annex B: 0 INITIAL, 1 RE-, 2 DE-REGISTRATION); 0 = any */
} hss_spt_t;

/* One Initial Filter Criteria. has_trigger = 0 means no TriggerPoint: the
 * iFC always matches (TS 29.228 Annex B.2.2). */
typedef struct hss_ifc {
	int priority;
	int has_trigger;
	int cnf;                  /* ConditionTypeCNF: 1 = CNF, 0 = DNF */
	hss_spt_t *spt;
	unsigned n_spt;
	const char *server_name;  /* ApplicationServer/ServerName (SIP URI) */
	hss_default_handling_t default_handling;
	const char *service_info; /* NULL or "" = absent */
	int include_register_request;
	int include_register_response;
	hss_ppi_t profile_part_indicator;
} hss_ifc_t;

typedef struct hss_impu {
	const char *uri;          /* "sip:..." or "tel:..." */
	int barred;               /* BarringIndication */
} hss_impu_t;

/* A subscriber record. Strings are NUL-terminated and live in `arena`. */
typedef struct hss_sub {
	ims_arena_t *arena;
	const char *impi;
	hss_impu_t *impus;
	unsigned n_impus;

	uint8_t k[16];
	uint8_t opc[16];
	uint8_t op[16];           /* kept only when OP was provisioned */
	int has_op;
	uint8_t amf[2];
	uint64_t sqn;             /* 48 bits: the last SQN handed out */
	int has_sqn;              /* replace: 0 keeps the stored SQN */
	const char *password;     /* NULL: no SIP Digest for this user */

	hss_ifc_t *ifcs;          /* sorted by priority (ascending) */
	unsigned n_ifcs;
	hss_hunting_t hunting;

	/* Filled in by the store on read; ignored on create/replace. */
	hss_reg_state_t reg_state;
	const char *scscf_name;   /* "" when none */
} hss_sub_t;

typedef struct hss_store hss_store_t;

#define HSS_SQN_MAX ((UINT64_C(1) << 48) - 1)
#define HSS_SCSCF_NAME_MAX 256

/* Allocates an empty subscriber with its own arena (hunting parallel,
 * NOT_REGISTERED). Returns NULL on out-of-memory. Free with hss_sub_free. */
hss_sub_t *hss_sub_new(void);

/* Frees a subscriber and everything in its arena. NULL is fine. */
void hss_sub_free(hss_sub_t *sub);

/* Frees an array returned by hss_store_list (each element and the array). */
void hss_sub_list_free(hss_sub_t **subs, unsigned n);

/* Returns the registration-state name ("NOT_REGISTERED", ...). */
const char *hss_reg_state_name(hss_reg_state_t st);

/* Opens (creating if needed) the database at `path` (":memory:" works),
 * sets WAL + busy_timeout (synchronous=FULL for provisioning commits, NORMAL
 * for the Cx writes), creates or migrates the
 * schema (table schema_version). On success *out owns the store; close it
 * with hss_store_close. Errors: IMS_EDB (message logged), IMS_ENOMEM. */
int hss_store_open(const char *path, hss_store_t **out /* out */);

/* Closes the connection and frees the store. NULL is fine. */
void hss_store_close(hss_store_t *st);

/* Returns the schema version of an open store. */
int hss_store_schema_version(hss_store_t *st);

/* The subscriber cache (docs/hss.md "Subscriber cache"): buckets chains, a
 * power of two, holding up to 4 x buckets parsed records; 0 turns it off. Empties
 * it. The default is 131,072. IMS_EINVAL when not a power of two. */
int hss_store_set_cache(hss_store_t *st, unsigned buckets);

/* How stale a cached record may be toward another connection's commit (the
 * sqlite3 shell): a read by IMPI within this many microseconds of the last
 * data version check is answered from the cache without a new check. This
 * process's own writes are seen at once, and every Cx write checks in its
 * own transaction. */
#define HSS_STORE_CACHE_CHECK_US 1000

typedef struct hss_store_cache_stats {
	unsigned records;      /* kept now */
	unsigned long hits;    /* reads by IMPI answered from the cache */
	unsigned long misses;  /* reads that went to the file */
	unsigned long flushes; /* emptied after another connection's commit */
	unsigned long writes;  /* Cx writes (SQN reservations, registration states) */
	unsigned long commits; /* the transactions they took (group commit) */
} hss_store_cache_stats_t;

void hss_store_cache_stats(hss_store_t *st, hss_store_cache_stats_t *out /* out */);

/* Inserts a new subscriber (impi, impus, keys, sqn, password, ifcs,
 * hunting); reg state starts NOT_REGISTERED. The caller keeps `sub`.
 * Errors: IMS_EEXIST (impi exists, or one impu belongs to another
 * subscriber), IMS_EINVAL (no impi), IMS_EDB. */
int hss_store_create(hss_store_t *st, const hss_sub_t *sub);

/* Inserts n (>= 1) new subscribers as by hss_store_create, all in ONE
 * transaction (one fsync): either every record is stored or none is.
 * The caller keeps subs. On error *bad_index (may be NULL) names the
 * record that failed. Errors: IMS_EEXIST (an impi or impu already exists,
 * in the store or earlier in the batch), IMS_EINVAL (n == 0 or a record
 * without impi), IMS_ENOMEM, IMS_EDB. */
int hss_store_create_bulk(hss_store_t *st, hss_sub_t *const *subs, unsigned n,
			  unsigned *bad_index /* out */);

/* Replaces the record of sub->impi: keys, identities, iFCs, password,
 * hunting; the SQN only when sub->has_sqn. Registration state and
 * S-CSCF name are kept. Errors: IMS_ENOENT, IMS_EEXIST (an impu belongs to
 * another subscriber), IMS_EDB. */
int hss_store_replace(hss_store_t *st, const hss_sub_t *sub);

/* Deletes the subscriber and its identities. Errors: IMS_ENOENT, IMS_EDB. */
int hss_store_delete(hss_store_t *st, const char *impi);

/* Reads a page of subscribers ordered by impi. *out is a malloc'ed array
 * of *n_out records (free with hss_sub_list_free); *total (may be NULL)
 * gets the number of subscribers. Errors: IMS_ENOMEM, IMS_EDB. */
int hss_store_list(hss_store_t *st, unsigned offset, unsigned limit,
		   hss_sub_t ***out /* out */, unsigned *n_out /* out */,
		   unsigned *total /* out */);

/* Returns the number of subscribers in *count. Errors: IMS_EDB. */
int hss_store_count(hss_store_t *st, unsigned *count /* out */);

/* Reads the subscriber with this private identity. The caller owns *out
 * (hss_sub_free). Errors: IMS_ENOENT, IMS_ENOMEM, IMS_EDB. */
int hss_store_get_by_impi(hss_store_t *st, const char *impi, hss_sub_t **out /* out */);

/* Reads the subscriber owning this public identity (exact match of the
 * stored URI). The caller owns *out. Errors: IMS_ENOENT, IMS_ENOMEM, IMS_EDB. */
int hss_store_find_impu(hss_store_t *st, const char *impu, hss_sub_t **out /* out */);

/* TS 29.228 §6.1.1 / §8.1.1 (UAR/MAR/SAR): does this private identity own
 * this public identity? Returns 1 yes, 0 both exist but are not associated
 * (DIAMETER_ERROR_IDENTITIES_DONT_MATCH), IMS_ENOENT if either is unknown
 * (DIAMETER_ERROR_USER_UNKNOWN), IMS_EDB. */
int hss_store_impi_owns_impu(hss_store_t *st, const char *impi, const char *impu);

/* Atomically reserves n (>= 1) sequence numbers for authentication
 * vectors. Our SQN scheme (TS 33.102 Annex C.1.1 allows any scheme the
 * USIM accepts): each vector takes the previous SQN + 1, modulo 2^48, so
 * the vectors get first, first+1, ... first+n-1 and the stored SQN becomes
 * the last one. One transaction: two concurrent callers never share a
 * value. Errors: IMS_EINVAL (n == 0), IMS_ENOENT, IMS_EDB. */
int hss_store_next_sqn(hss_store_t *st, const char *impi, unsigned n,
		       uint64_t *first_sqn /* out */);

/* As hss_store_next_sqn, and when scscf_name is not NULL sets the
 * registration state and serving S-CSCF name ("" clears it) in the same
 * transaction (a MAR naming a new S-CSCF: one write instead of two).
 * Errors: IMS_EINVAL (n == 0, bad state), IMS_ENOENT, IMS_EDB. */
int hss_store_next_sqn_assign(hss_store_t *st, const char *impi, unsigned n,
			      const char *scscf_name, hss_reg_state_t state,
			      uint64_t *first_sqn /* out */);

/* Sets the stored SQN (the last one used), e.g. to SQN_MS after a
 * resynchronisation (TS 33.102 §6.3.5). Errors: IMS_EINVAL (> 48 bits),
 * IMS_ENOENT, IMS_EDB. */
int hss_store_set_sqn(hss_store_t *st, const char *impi, uint64_t sqn);

/* Reads the registration state of the subscriber named by `id`, a private
 * or a public identity. scscf_name (may be NULL) receives the serving
 * S-CSCF name ("" when none), truncated to cap-1 bytes.
 * Errors: IMS_ENOENT, IMS_EDB. */
int hss_store_get_reg(hss_store_t *st, const char *id, hss_reg_state_t *state /* out */,
		      char *scscf_name /* out */, size_t cap);

/* Sets the registration state and serving S-CSCF name (NULL or "" clears
 * it) of the subscriber `impi`. Errors: IMS_EINVAL, IMS_ENOENT, IMS_EDB. */
int hss_store_set_reg(hss_store_t *st, const char *impi, hss_reg_state_t state,
		      const char *scscf_name);

/* The same two Cx writes without waiting: they are queued for the store's
 * writer thread, which calls done(arg, rc, first_sqn) on its own thread
 * once the write is committed (rc as the synchronous call would return;
 * first_sqn for an SQN reservation). Writes, queued or not, commit in the
 * order they were submitted. done must not submit a Cx write itself.
 * When HSS_STORE_QUEUE_MAX writes already wait, the call waits for room.
 * Returns 0 (done will be called) or IMS_EINVAL / IMS_ENOMEM (it will
 * not). */
typedef void (*hss_store_done_t)(void *arg, int rc, uint64_t first_sqn);
int hss_store_next_sqn_assign_async(hss_store_t *st, const char *impi, unsigned n,
				    const char *scscf_name, hss_reg_state_t state,
				    hss_store_done_t done, void *arg);
int hss_store_set_reg_async(hss_store_t *st, const char *impi, hss_reg_state_t state,
			    const char *scscf_name, hss_store_done_t done, void *arg);

/* Returns once every Cx write submitted before it is committed and its
 * callback has run. */
int hss_store_sync(hss_store_t *st);

/* At most this many Cx writes wait for the writer thread: past it, an
 * asynchronous submit waits for the writer to take them (backpressure on
 * the Diameter dispatch threads when the file is stuck). */
#define HSS_STORE_QUEUE_MAX 4096
int hss_store_set_queue_max(hss_store_t *st, unsigned n); /* IMS_EINVAL for 0 */

#endif
