/* HTTP Digest computations (RFC 2617 §3.2.2, RFC 2069, RFC 3310 for
 * AKAv1-MD5). Only the arithmetic lives here: parsing the Authorization
 * and WWW-Authenticate headers belongs to the SIP message layer.
 * Outputs are 32 lowercase hex digits plus a NUL. Thread-safe. */
#ifndef IMS_DIGEST_H
#define IMS_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include "base/ims_str.h"

#define DIGEST_HEX_LEN 32

/* RFC 2617 §3.2.2.2: HA1 = MD5(username ":" realm ":" password) for
 * algorithm MD5. The password is raw bytes: for AKAv1-MD5 (RFC 3310 §3.4)
 * pass the RES (or XRES) bytes with their length (8 for Milenage), not a
 * hex string. out receives 32 hex digits and a NUL. */
void digest_ha1(ims_str_t user, ims_str_t realm, const uint8_t *pw, size_t pwlen,
		char out[33] /* out */);

/* RFC 2617 §3.2.2.1: request-digest.
 *   qop empty (RFC 2069 form): MD5(HA1 ":" nonce ":" HA2)
 *   qop "auth" / "auth-int":   MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 * HA2 = MD5(method ":" uri), or MD5(method ":" uri ":" hentity) when qop
 * is "auth-int"; hentity is the hex MD5 of the body (digest_md5_hex()),
 * and NULL stands for the MD5 of an empty body. ha1 is 32 hex digits.
 * out receives 32 hex digits and a NUL. */
void digest_response(const char ha1[33], ims_str_t method, ims_str_t uri, ims_str_t nonce,
		     ims_str_t nc, ims_str_t cnonce, ims_str_t qop, const char hentity[33],
		     char out[33] /* out */);

/* Hex MD5 of n bytes (e.g. H(entity-body) for auth-int). */
void digest_md5_hex(const void *data, size_t n, char out[33] /* out */);

/* Compares n bytes in time independent of where they differ; returns 1
 * when equal, 0 otherwise. Letters compare case-insensitively so an
 * upper-case hex response from a UE still matches. */
int digest_eq(const char *a, const char *b, size_t n);

#endif
