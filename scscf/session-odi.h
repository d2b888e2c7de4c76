/* The odi table: what the S-CSCF remembers while a request visits an AS
 * (TS 24.229 §5.4.3.2 step 4 / §5.4.3.3 step 3: "the S-CSCF ... shall
 * include ... an 'original dialog identifier' that it can later use to
 * identify the request ... when it returns from the AS").
 *
 * When an iFC sends a request to its AS, the S-CSCF stores the served
 * user, the session case, the index of the next iFC to evaluate and a few
 * facts about the original request under a random token, and puts the
 * token in the `odi` parameter of its own Route entry. When the request
 * comes back with that Route, the token finds the entry and evaluation
 * resumes. Entries expire after a TTL (an AS may keep a request a while).
 *
 * Thread-safe: one mutex; entries are copied in and out, so a caller never
 * holds a pointer into the table.
 */
#ifndef SCSCF_SESSION_ODI_H
#define SCSCF_SESSION_ODI_H

#include <stdint.h>
#include <stddef.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "profile.h"

#define SCSCF_ODI_TOKEN_LEN 32 /* 128 random bits in hex */
#define SCSCF_ODI_MAX_STR 1024 /* longest string field kept */

typedef struct scscf_odi_table scscf_odi_table_t;

/* The state an odi token stands for. */
typedef struct scscf_odi_info {
	ims_str_t served_user;     /* the public identity the iFCs belong to */
	scscf_session_case_t session_case;
	int registered;            /* served user's state when evaluation began */
	unsigned next_ifc;         /* index (priority order) to resume at */
	unsigned sp_index;         /* which ServiceProfile of the profile */
	ims_str_t ruri;            /* Request-URI as sent to the AS (retarget check) */
	ims_str_t call_id;         /* of the original request, for logs */
	ims_str_t orig_ruri;       /* Request-URI when the S-CSCF first saw it */
} scscf_odi_info_t;

/* Creates a table. ttl_s: seconds an entry lives (0 = 300); max_entries:
 * refuse new entries beyond it (0 = 262144; a full table looks for
 * expired entries at most once a second).
 * Returns 0 and *out, or IMS_ENOMEM. */
int scscf_odi_table_create(uint32_t ttl_s, size_t max_entries, scscf_odi_table_t **out /* out */);

/* Frees the table and every entry. NULL is fine. */
void scscf_odi_table_destroy(scscf_odi_table_t *t);

/* Stores a copy of *info under a fresh random token, written to
 * token[0..SCSCF_ODI_TOKEN_LEN] (NUL-terminated). `now` is in seconds.
 * Errors: IMS_ENOSPC (table full after expiring old entries), IMS_ETOOBIG
 * (a string longer than SCSCF_ODI_MAX_STR), IMS_EIO (no randomness),
 * IMS_ENOMEM. */
int scscf_odi_put(scscf_odi_table_t *t, const scscf_odi_info_t *info, int64_t now,
		  char token[SCSCF_ODI_TOKEN_LEN + 1] /* out */);

/* Looks a token up. On success the strings of *out are copied into `a`;
 * the entry stays (a request may legitimately come back more than once,
 * e.g. when the AS forks). Returns 0, IMS_ENOENT (unknown or expired),
 * IMS_ENOMEM. */
int scscf_odi_get(scscf_odi_table_t *t, ims_str_t token, int64_t now, ims_arena_t *a,
		  scscf_odi_info_t *out /* out */);

/* 1 when scscf_odi_get() has found this token (the AS sent the request
 * back), 0 when not or when the token is unknown. A failure response on
 * the AS leg after that comes from further downstream, not from the AS. */
int scscf_odi_was_returned(scscf_odi_table_t *t, ims_str_t token);

/* Removes a token (the transaction it belongs to ended). Returns 0 or
 * IMS_ENOENT. */
int scscf_odi_remove(scscf_odi_table_t *t, ims_str_t token);

/* Drops entries whose TTL has passed; returns how many. */
size_t scscf_odi_expire(scscf_odi_table_t *t, int64_t now);

/* Number of live entries (metrics). */
size_t scscf_odi_count(scscf_odi_table_t *t);

#endif
