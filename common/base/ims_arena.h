/* Arena: a bump allocator for everything that lives and dies with one
 * object (a message, a transaction, a request). Freeing the arena frees
 * everything in one step. Not thread-safe; one owner at a time. */
#ifndef IMS_ARENA_H
#define IMS_ARENA_H

#include <stddef.h>
#include "base/ims_str.h"

typedef struct ims_arena_chunk ims_arena_chunk_t;

typedef struct ims_arena {
	ims_arena_chunk_t *head;    /* current chunk */
	size_t chunk_size;          /* size of the next chunk to allocate */
	size_t used_total;          /* bytes handed out */
	long fail_after;            /* tests: fail the Nth allocation (<0: never) */
} ims_arena_t;

/* Creates an arena whose first chunk holds at least `initial` bytes.
 * Returns NULL on out-of-memory. Release with ims_arena_destroy(). */
ims_arena_t *ims_arena_create(size_t initial);

/* Frees every chunk and the arena itself. NULL is fine. */
void ims_arena_destroy(ims_arena_t *a);

/* Forgets every allocation but keeps the first chunk for reuse. */
void ims_arena_reset(ims_arena_t *a);

/* Returns `n` bytes aligned to 16, or NULL when memory runs out (or the
 * test failure counter says so). The memory is not zeroed. */
void *ims_arena_alloc(ims_arena_t *a, size_t n);

/* As ims_arena_alloc, zeroed. */
void *ims_arena_zalloc(ims_arena_t *a, size_t n);

/* Copies n bytes (plus a NUL guard) into the arena. */
char *ims_arena_memdup(ims_arena_t *a, const void *p, size_t n);

/* Copies a view into the arena; the result's .s is NUL-terminated.
 * Returns 0 or IMS_ENOMEM. */
int ims_arena_strdup(ims_arena_t *a, ims_str_t in, ims_str_t *out /* out */);

/* printf into the arena. Returns a view with .s == NULL on failure. */
ims_str_t ims_arena_printf(ims_arena_t *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Tests only: the nth allocation from now (1 = next) fails; <0 disables. */
void ims_arena_fail_after(ims_arena_t *a, long n);

#endif
