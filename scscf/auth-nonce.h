/* Open authentication challenges of the S-CSCF (TS 33.203 §6.1, RFC 3310,
 * RFC 2617 §3.2): for each nonce sent in a 401, the vector it came from
 * (AKA: RAND, AUTN, XRES, CK, IK; MD5: HA1), who it was for, when it was
 * issued and the highest nonce-count seen, so a response is checked
 * against exactly the challenge that was sent and a replay is refused.
 *
 * Thread-safe (one mutex); time comes from the caller (seconds). */
#ifndef SCSCF_AUTH_NONCE_H
#define SCSCF_AUTH_NONCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/ims_str.h"
#include "context.h"
#include "sip/msg/sip_msg.h"

typedef struct scscf_auth_table scscf_auth_table_t;

/* base64 of 32 bytes is 44 characters */
#define SCSCF_NONCE_MAX 64
#define SCSCF_OPAQUE_LEN 32

/* One authentication vector as the MAA delivered it. */
typedef struct scscf_auth_vec {
	scscf_auth_scheme_t scheme;
	uint8_t rand[16], autn[16];   /* AKA: SIP-Authenticate = RAND || AUTN */
	uint8_t xres[16];             /* AKA: SIP-Authorization (XRES, 4..16 bytes) */
	size_t xres_len;
	uint8_t ck[16], ik[16];       /* AKA: Confidentiality-Key, Integrity-Key */
	int has_ck_ik;
	char ha1[33];                 /* MD5: Digest-HA1 (hex) */
} scscf_auth_vec_t;

/* Creates a table; challenges live ttl seconds (then stale=true).
 * Returns 0 and *out, or IMS_ENOMEM. */
int scscf_auth_table_create(uint32_t ttl, scscf_auth_table_t **out /* out */);

/* Frees every entry and the table. NULL is fine. */
void scscf_auth_table_destroy(scscf_auth_table_t *t);

/* Stores a challenge for impi/impu. The nonce is base64(RAND || AUTN) for
 * AKA (TS 24.229 §5.4.1.2.1, RFC 3310 §3.2) and base64 of 24 random bytes
 * for MD5; the opaque is 32 random hex digits. Both come back
 * NUL-terminated. Expired entries are purged on the way. Returns 0,
 * IMS_EEXIST (same nonce already open: AKA vector reused by the HSS),
 * IMS_ENOSPC (too many open challenges: answer 503), IMS_EIO (no
 * randomness), IMS_ENOMEM. */
int scscf_auth_table_add(scscf_auth_table_t *t, ims_str_t impi, ims_str_t impu,
			 const scscf_auth_vec_t *vec, int64_t now,
			 char nonce[SCSCF_NONCE_MAX] /* out */,
			 char opaque[SCSCF_OPAQUE_LEN + 1] /* out */);

/* What a successful check (or an AUTS) tells the registrar. */
typedef struct scscf_auth_result {
	scscf_auth_scheme_t scheme;
	uint8_t rand[16];             /* AKA: RAND of the challenge (for a resync) */
	uint8_t auts[14];             /* AKA: AUTS sent by the UE */
	int has_auts;
	uint32_t nc;                  /* nonce-count accepted */
} scscf_auth_result_t;

/* Checks the credentials `cred` (an Authorization header) of a request
 * with method `method` for private identity impi and realm:
 *   0             the response matches (RFC 2617 §3.2.2, RFC 3310 §3.4 with
 *                 RES as password); nc recorded so the same nc is refused
 *                 next time
 *   IMS_ENOENT    no open challenge with this nonce (issue a new one)
 *   IMS_ETIMEDOUT the challenge expired (401 with stale=true)
 *   IMS_EAGAIN    AKA resynchronisation: cred carries auts; res->rand and
 *                 res->auts are filled and the challenge is consumed
 *   IMS_EAUTH     wrong response, wrong user/realm/opaque, nc replayed or
 *                 missing qop parameters (the challenge is consumed so it
 *                 cannot be guessed at)
 *   IMS_EPARSE    malformed parameters (bad auts, bad nc)
 * res may be NULL. */
int scscf_auth_table_check(scscf_auth_table_t *t, const sip_auth_t *cred, ims_str_t method,
			   ims_str_t impi, ims_str_t realm, int64_t now,
			   scscf_auth_result_t *res /* out */);

/* Challenges nobody answered within ttl (TS 24.229 §5.4.1.2.1 timer
 * reg-await-auth): cb(arg, impi, impu) is called once for each (outside
 * the lock; strings valid during the call) so the registrar can send SAR
 * AUTHENTICATION_TIMEOUT. The entries stay until 2 * ttl so a late answer
 * still gets stale=true. Returns how many were reported. */
typedef void (*scscf_auth_timeout_cb)(void *arg, const char *impi, const char *impu);
int scscf_auth_table_sweep(scscf_auth_table_t *t, int64_t now, scscf_auth_timeout_cb cb, void *arg);

/* Forgets the challenge with this nonce (after an AUTS, a failure). */
void scscf_auth_table_forget(scscf_auth_table_t *t, ims_str_t nonce);

/* Number of open challenges (metrics, tests). */
size_t scscf_auth_table_count(scscf_auth_table_t *t);

/* Renders the WWW-Authenticate value of a challenge into buf (cap bytes):
 *   Digest realm="R", nonce="N", algorithm=AKAv1-MD5, qop="auth",
 *          opaque="O"[, stale=true], ck="hex", ik="hex"
 * (ck/ik for the P-CSCF, TS 24.229 §5.4.1.2.1 / TS 33.203 §7.1) or the MD5
 * form without ck/ik. Returns the length, or IMS_ENOSPC. */
int scscf_auth_challenge_render(const scscf_auth_vec_t *vec, ims_str_t realm, const char *nonce,
				const char *opaque, int stale, char *buf /* out */, size_t cap);

/* The response a UE would compute (also used by the check): HA1 from the
 * vector (AKA: MD5(user:realm:XRES), RFC 3310 §3.4; MD5: the HSS's HA1)
 * and RFC 2617 §3.2.2.1. out gets 32 hex digits and a NUL. */
void scscf_auth_expected(const scscf_auth_vec_t *vec, ims_str_t user, ims_str_t realm,
			 ims_str_t method, ims_str_t uri, ims_str_t nonce, ims_str_t nc,
			 ims_str_t cnonce, ims_str_t qop, char out[33] /* out */);

#endif
