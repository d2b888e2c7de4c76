/* String views: a pointer and a length into a buffer someone else owns.
 * Nothing here allocates; a view is valid while its buffer lives. */
#ifndef IMS_STR_H
#define IMS_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

typedef struct ims_str {
	const char *s;
	uint32_t len;
} ims_str_t;

#define IMS_STR(lit) ((ims_str_t){ (lit), (uint32_t)(sizeof(lit) - 1) })
#define IMS_STR_NULL ((ims_str_t){ NULL, 0 })
/* printf("%.*s", IMS_STR_FMT(x)) */
#define IMS_STR_FMT(v) (int)(v).len, (v).s

static inline ims_str_t ims_str_from(const char *p, size_t n)
{
	return (ims_str_t){ p, (uint32_t)n };
}

static inline ims_str_t ims_str_cstr(const char *c)
{
	return (ims_str_t){ c, c ? (uint32_t)strlen(c) : 0 };
}

static inline int ims_str_eq(ims_str_t a, ims_str_t b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

static inline int ims_str_caseeq(ims_str_t a, ims_str_t b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.s, b.s, a.len) == 0);
}

static inline int ims_str_caseeq_c(ims_str_t a, const char *c)
{
	size_t n = strlen(c);
	return a.len == n && strncasecmp(a.s, c, n) == 0;
}

static inline int ims_str_eq_c(ims_str_t a, const char *c)
{
	size_t n = strlen(c);
	return a.len == n && memcmp(a.s, c, n) == 0;
}

/* Copies v into out (capacity cap, NUL-terminated, truncated if needed).
 * Returns out. */
char *ims_str_to_c(ims_str_t v, char *out, size_t cap);

/* Parses a decimal unsigned integer that fills the whole view.
 * Returns 0, or IMS_EINVAL when empty, not all digits, or above max. */
int ims_str_to_u64(ims_str_t v, uint64_t max, uint64_t *out /* out */);

/* Trims SP/HTAB/CR/LF on both sides. */
ims_str_t ims_str_trim(ims_str_t v);

/* FNV-1a hashes, the case-insensitive one folds ASCII letters. */
uint32_t ims_str_hash(ims_str_t v);
uint32_t ims_str_casehash(ims_str_t v);

#endif
