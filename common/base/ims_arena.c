#include "base/ims_arena.h"
#include "base/ims_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

struct ims_arena_chunk {
	ims_arena_chunk_t *prev;
	size_t cap;
	size_t used;
	_Alignas(16) unsigned char data[];
};

#define ALIGN16(n) (((n) + 15u) & ~(size_t)15u)

static ims_arena_chunk_t *chunk_new(size_t cap)
{
	ims_arena_chunk_t *c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->prev = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

ims_arena_t *ims_arena_create(size_t initial)
{
	if (initial < 256)
		initial = 256;
	ims_arena_t *a = malloc(sizeof(*a));
	if (!a)
		return NULL;
	a->head = chunk_new(initial);
	if (!a->head) {
		free(a);
		return NULL;
	}
	a->chunk_size = initial;
	a->used_total = 0;
	a->fail_after = -1;
	return a;
}

void ims_arena_destroy(ims_arena_t *a)
{
	if (!a)
		return;
	ims_arena_chunk_t *c = a->head;
	while (c) {
		ims_arena_chunk_t *p = c->prev;
		free(c);
		c = p;
	}
	free(a);
}

void ims_arena_reset(ims_arena_t *a)
{
	ims_arena_chunk_t *c = a->head;
	while (c->prev) {
		ims_arena_chunk_t *p = c->prev;
		free(c);
		c = p;
	}
	a->head = c;
	c->used = 0;
	a->used_total = 0;
}

void *ims_arena_alloc(ims_arena_t *a, size_t n)
{
	if (a->fail_after > 0 && --a->fail_after == 0) {
		a->fail_after = -1;
		return NULL;
	}
	n = ALIGN16(n ? n : 1);
	ims_arena_chunk_t *c = a->head;
	if (c->cap - c->used < n) {
		size_t cap = a->chunk_size * 2;
		if (cap < n)
			cap = ALIGN16(n);
		if (cap > (1u << 20) && n < (1u << 20))
			cap = 1u << 20;
		ims_arena_chunk_t *nc = chunk_new(cap);
		if (!nc)
			return NULL;
		/* keep the first chunk at the tail so reset can keep it */
		nc->prev = c;
		a->head = nc;
		a->chunk_size = cap;
		c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	a->used_total += n;
	return p;
}

void *ims_arena_zalloc(ims_arena_t *a, size_t n)
{
	void *p = ims_arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *ims_arena_memdup(ims_arena_t *a, const void *p, size_t n)
{
	char *d = ims_arena_alloc(a, n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

int ims_arena_strdup(ims_arena_t *a, ims_str_t in, ims_str_t *out)
{
	char *d = ims_arena_memdup(a, in.s, in.len);
	if (!d)
		return IMS_ENOMEM;
	out->s = d;
	out->len = in.len;
	return 0;
}

ims_str_t ims_arena_printf(ims_arena_t *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return IMS_STR_NULL;
	}
	char *d = ims_arena_alloc(a, (size_t)n + 1);
	if (!d) {
		va_end(ap2);
		return IMS_STR_NULL;
	}
	vsnprintf(d, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return (ims_str_t){ d, (uint32_t)n };
}

void ims_arena_fail_after(ims_arena_t *a, long n)
{
	a->fail_after = n;
}
