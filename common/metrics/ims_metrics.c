/* Prometheus registry: families of series, created under a mutex, updated
 * with relaxed atomics, rendered in the text exposition format 0.0.4. */
#include "metrics/ims_metrics.h"
#include "base/ims_err.h"
#include "log/ims_log.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS 32

enum { T_COUNTER, T_GAUGE, T_HISTOGRAM };

struct ims_counter {
	_Atomic uint64_t v;
};

struct ims_gauge {
	_Atomic int64_t v;
};

struct ims_histogram {
	size_t nb;
	const double *bounds;                 /* the family's bounds */
	_Atomic uint64_t buckets[MAX_BUCKETS + 1]; /* per bucket, +Inf last; cumulated at render */
	_Atomic uint64_t count;
	_Atomic uint64_t sum_bits;            /* a double, updated by CAS */
};

typedef struct series {
	struct series *next;
	char *v1, *v2;
	union {
		struct ims_counter c;
		struct ims_gauge g;
		struct ims_histogram h;
	} m;
} series_t;

typedef struct family {
	struct family *next;
	int type;
	char *name, *help, *l1, *l2;
	double bounds[MAX_BUCKETS];
	size_t nb;
	series_t *series, *last;
} family_t;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static family_t *families, *families_last;

/* returned on misuse so callers never hold NULL; never rendered */
static struct ims_counter sink_counter;
static struct ims_gauge sink_gauge;
static struct ims_histogram sink_histogram;

const double ims_metrics_latency_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					       0.1,   0.25,   0.5,   1,    2.5,   5, 10 };
const size_t ims_metrics_latency_nbuckets =
	sizeof(ims_metrics_latency_buckets) / sizeof(ims_metrics_latency_buckets[0]);

static int valid_name(const char *s, int allow_colon)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (allow_colon && c == ':') || (p != s && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

static int same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static char *dup_or_null(const char *s, int *fail)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*fail = 1;
	return d;
}

static void family_free(family_t *f)
{
	series_t *s = f->series;
	while (s) {
		series_t *n = s->next;
		free(s->v1);
		free(s->v2);
		free(s);
		s = n;
	}
	free(f->name);
	free(f->help);
	free(f->l1);
	free(f->l2);
	free(f);
}

/* Finds or creates the series; NULL on misuse or no memory (logged). */
static series_t *get_series(int type, const char *name, const char *help, const double *bounds,
			    size_t nb, const char *l1, const char *v1, const char *l2,
			    const char *v2)
{
	/* no label 1 means no label 2 either */
	if (!l1)
		l2 = NULL;
	if (!valid_name(name, 1) || (l1 && !valid_name(l1, 0)) || (l2 && !valid_name(l2, 0)) ||
	    (l1 && !v1) || (l2 && !v2) || (l1 && strcmp(l1, "le") == 0) ||
	    (l2 && strcmp(l2, "le") == 0)) {
		LOG_ERROR("metrics", "metric.bad_name name=%s", name ? name : "(null)");
		return NULL;
	}
	if (!l1)
		v1 = NULL;
	if (!l2)
		v2 = NULL;
	series_t *out = NULL;
	pthread_mutex_lock(&reg_lock);
	family_t *f = families;
	while (f && strcmp(f->name, name) != 0)
		f = f->next;
	if (f) {
		if (f->type != type || !same(f->l1, l1) || !same(f->l2, l2)) {
			LOG_ERROR("metrics", "metric.conflict name=%s (registered with another type or labels)",
				  name);
			goto out;
		}
	} else {
		if (type == T_HISTOGRAM) {
			if (!bounds) {
				bounds = ims_metrics_latency_buckets;
				nb = ims_metrics_latency_nbuckets;
			}
			int ok = nb >= 1 && nb <= MAX_BUCKETS;
			for (size_t i = 0; ok && i < nb; i++)
				ok = isfinite(bounds[i]) && (i == 0 || bounds[i] > bounds[i - 1]);
			if (!ok) {
				LOG_ERROR("metrics", "metric.bad_buckets name=%s", name);
				goto out;
			}
		}
		int fail = 0;
		f = calloc(1, sizeof(*f));
		if (!f)
			goto nomem;
		f->type = type;
		f->name = dup_or_null(name, &fail);
		f->help = dup_or_null(help ? help : "", &fail);
		f->l1 = dup_or_null(l1, &fail);
		f->l2 = dup_or_null(l2, &fail);
		if (fail) {
			family_free(f);
			goto nomem;
		}
		if (type == T_HISTOGRAM) {
			memcpy(f->bounds, bounds, nb * sizeof(double));
			f->nb = nb;
		}
		if (families_last)
			families_last->next = f;
		else
			families = f;
		families_last = f;
	}
	for (series_t *s = f->series; s; s = s->next) {
		if (same(s->v1, v1) && same(s->v2, v2)) {
			out = s;
			goto out;
		}
	}
	int fail = 0;
	series_t *s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->v1 = dup_or_null(v1, &fail);
	s->v2 = dup_or_null(v2, &fail);
	if (fail) {
		free(s->v1);
		free(s->v2);
		free(s);
		goto nomem;
	}
	if (type == T_HISTOGRAM) {
		s->m.h.nb = f->nb;
		s->m.h.bounds = f->bounds;
	}
	if (f->last)
		f->last->next = s;
	else
		f->series = s;
	f->last = s;
	out = s;
	goto out;
nomem:
	LOG_ERROR("metrics", "metric.nomem name=%s", name);
out:
	pthread_mutex_unlock(&reg_lock);
	return out;
}

ims_counter_t *ims_metrics_counter2(const char *name, const char *help, const char *l1,
				    const char *v1, const char *l2, const char *v2)
{
	series_t *s = get_series(T_COUNTER, name, help, NULL, 0, l1, v1, l2, v2);
	return s ? &s->m.c : &sink_counter;
}

ims_counter_t *ims_metrics_counter(const char *name, const char *help, const char *l1,
				   const char *v1)
{
	return ims_metrics_counter2(name, help, l1, v1, NULL, NULL);
}

void ims_counter_inc(ims_counter_t *c)
{
	atomic_fetch_add_explicit(&c->v, 1, memory_order_relaxed);
}

void ims_counter_add(ims_counter_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

uint64_t ims_counter_value(const ims_counter_t *c)
{
	return atomic_load_explicit(&((ims_counter_t *)c)->v, memory_order_relaxed);
}

ims_gauge_t *ims_metrics_gauge2(const char *name, const char *help, const char *l1,
				const char *v1, const char *l2, const char *v2)
{
	series_t *s = get_series(T_GAUGE, name, help, NULL, 0, l1, v1, l2, v2);
	return s ? &s->m.g : &sink_gauge;
}

ims_gauge_t *ims_metrics_gauge(const char *name, const char *help, const char *l1, const char *v1)
{
	return ims_metrics_gauge2(name, help, l1, v1, NULL, NULL);
}

void ims_gauge_set(ims_gauge_t *g, int64_t v)
{
	atomic_store_explicit(&g->v, v, memory_order_relaxed);
}

void ims_gauge_add(ims_gauge_t *g, int64_t delta)
{
	atomic_fetch_add_explicit(&g->v, delta, memory_order_relaxed);
}

int64_t ims_gauge_value(const ims_gauge_t *g)
{
	return atomic_load_explicit(&((ims_gauge_t *)g)->v, memory_order_relaxed);
}

ims_histogram_t *ims_metrics_histogram(const char *name, const char *help, const double *buckets,
				       size_t nbuckets, const char *l1, const char *v1)
{
	series_t *s = get_series(T_HISTOGRAM, name, help, buckets, nbuckets, l1, v1, NULL, NULL);
	return s ? &s->m.h : &sink_histogram;
}

void ims_histogram_observe(ims_histogram_t *h, double v)
{
	if (isnan(v))
		return;
	size_t i = 0;
	while (i < h->nb && v > h->bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	uint64_t old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed), upd;
	do {
		double d;
		memcpy(&d, &old, sizeof(d));
		d += v;
		memcpy(&upd, &d, sizeof(upd));
	} while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old, upd,
							memory_order_relaxed, memory_order_relaxed));
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

uint64_t ims_histogram_count(const ims_histogram_t *h)
{
	return atomic_load_explicit(&((ims_histogram_t *)h)->count, memory_order_relaxed);
}

/* ---- rendering ---- */

typedef struct {
	char *p;
	size_t len, cap;
	int oom;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf_t *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = b->cap * 2 + (size_t)n;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
}

/* Text format: label values escape backslash, double quote and newline;
 * HELP escapes backslash and newline. */
static void put_escaped(buf_t *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(b, "\\\\");
		else if (*s == '\n')
			put(b, "\\n");
		else if (quote && *s == '"')
			put(b, "\\\"");
		else
			put(b, "%c", *s);
	}
}

/* {l1="v1",l2="v2",le="x"}; nothing when there is no label */
static void put_labels(buf_t *b, const family_t *f, const series_t *s, const char *le)
{
	if (!f->l1 && !le)
		return;
	put(b, "{");
	int first = 1;
	if (f->l1) {
		put(b, "%s=\"", f->l1);
		put_escaped(b, s->v1, 1);
		put(b, "\"");
		first = 0;
	}
	if (f->l2) {
		put(b, ",%s=\"", f->l2);
		put_escaped(b, s->v2, 1);
		put(b, "\"");
	}
	if (le)
		put(b, "%sle=\"%s\"", first ? "" : ",", le);
	put(b, "}");
}

int ims_metrics_render(char **out, size_t *len)
{
	buf_t b = { .cap = 4096 };
	b.p = malloc(b.cap);
	if (!b.p)
		return IMS_ENOMEM;
	b.p[0] = '\0';
	static const char *tname[] = { "counter", "gauge", "histogram" };
	pthread_mutex_lock(&reg_lock);
	for (family_t *f = families; f; f = f->next) {
		put(&b, "# HELP %s ", f->name);
		put_escaped(&b, f->help, 0);
		put(&b, "\n# TYPE %s %s\n", f->name, tname[f->type]);
		for (series_t *s = f->series; s; s = s->next) {
			if (f->type == T_COUNTER) {
				put(&b, "%s", f->name);
				put_labels(&b, f, s, NULL);
				put(&b, " %llu\n", (unsigned long long)ims_counter_value(&s->m.c));
			} else if (f->type == T_GAUGE) {
				put(&b, "%s", f->name);
				put_labels(&b, f, s, NULL);
				put(&b, " %lld\n", (long long)ims_gauge_value(&s->m.g));
			} else {
				const ims_histogram_t *h = &s->m.h;
				uint64_t cum = 0;
				for (size_t i = 0; i <= h->nb; i++) {
					char le[40];
					if (i < h->nb)
						snprintf(le, sizeof(le), "%.15g", h->bounds[i]);
					else
						snprintf(le, sizeof(le), "+Inf");
					cum += atomic_load_explicit(&((ims_histogram_t *)h)->buckets[i],
								    memory_order_relaxed);
					put(&b, "%s_bucket", f->name);
					put_labels(&b, f, s, le);
					put(&b, " %llu\n", (unsigned long long)cum);
				}
				uint64_t bits = atomic_load_explicit(&((ims_histogram_t *)h)->sum_bits,
								     memory_order_relaxed);
				double sum;
				memcpy(&sum, &bits, sizeof(sum));
				put(&b, "%s_sum", f->name);
				put_labels(&b, f, s, NULL);
				put(&b, " %.15g\n", sum);
				put(&b, "%s_count", f->name);
				put_labels(&b, f, s, NULL);
				/* the +Inf bucket and _count agree: both come from the
				 * bucket sum read above, not from a second load of count */
				put(&b, " %llu\n", (unsigned long long)cum);
			}
		}
	}
	pthread_mutex_unlock(&reg_lock);
	if (b.oom) {
		free(b.p);
		return IMS_ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

void ims_metrics_clear(void)
{
	pthread_mutex_lock(&reg_lock);
	family_t *f = families;
	while (f) {
		family_t *n = f->next;
		family_free(f);
		f = n;
	}
	families = families_last = NULL;
	pthread_mutex_unlock(&reg_lock);
}
