/* Hex encoding: lowercase out, strict in. */
#ifndef IMS_HEX_H
#define IMS_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2n lowercase hex digits and a NUL into out (2n+1 bytes).
 * Returns out. */
char *ims_hex_encode(const uint8_t *in, size_t n, char *out /* out */);

/* Decodes exactly n bytes from slen hex digits (either case). slen must
 * be 2n and every character a hex digit. Returns 0 or IMS_EINVAL (out is
 * then unspecified). */
int ims_hex_decode(const char *s, size_t slen, uint8_t *out /* out */, size_t n);

#endif
