/* Base64 (RFC 4648 §4, the standard alphabet with '=' padding). */
#ifndef IMS_B64_H
#define IMS_B64_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length of n bytes, without the NUL. */
#define IMS_B64_ENC_LEN(n) ((((n) + 2u) / 3u) * 4u)
/* Upper bound of the decoded length of n characters. */
#define IMS_B64_DEC_MAX(n) (((n) / 4u) * 3u + 3u)

/* Encodes n bytes into out (cap bytes, room for IMS_B64_ENC_LEN(n) + 1
 * with the NUL). *outlen (may be NULL) gets the length without the NUL.
 * Returns 0 or IMS_ENOSPC. */
int ims_b64_encode(const uint8_t *in, size_t n, char *out /* out */, size_t cap,
		   size_t *outlen /* out */);

/* Strict decode: length a multiple of 4, only alphabet characters,
 * '=' only as the last one or two, unused bits of the last group zero
 * (RFC 4648 §3.5), no whitespace. Returns 0, IMS_EINVAL on bad input,
 * IMS_ENOSPC when cap is too small. */
int ims_b64_decode(const char *in, size_t n, uint8_t *out /* out */, size_t cap,
		   size_t *outlen /* out */);

#endif
