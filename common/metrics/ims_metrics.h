/* Prometheus metrics: counters, gauges and histograms with up to two
 * labels, in one process-wide registry rendered in the text exposition
 * format (version 0.0.4).
 *
 * Look a series up once (it is created on first use, under a mutex) and
 * keep the pointer: the hot path is then one relaxed atomic operation,
 * with no lock and no allocation. Series live until ims_metrics_clear()
 * (tests and shutdown only). Lookups and updates are thread-safe.
 *
 *   static ims_counter_t *c;
 *   if (!c) c = ims_metrics_counter("sip_requests_total", "SIP requests",
 *                                   "method", "INVITE");
 *   ims_counter_inc(c);
 *
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]*; label values are escaped when rendered. A
 * lookup with a bad name, or with a name already registered as another
 * type or with other label names, logs an error and returns a private
 * "sink" series that is never rendered, so callers never get NULL. */
#ifndef IMS_METRICS_H
#define IMS_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ims_counter ims_counter_t;
typedef struct ims_gauge ims_gauge_t;
typedef struct ims_histogram ims_histogram_t;

/* A counter with no label (l1 NULL), one label (l1/v1) or two. */
ims_counter_t *ims_metrics_counter(const char *name, const char *help, const char *l1,
				   const char *v1);
ims_counter_t *ims_metrics_counter2(const char *name, const char *help, const char *l1,
				    const char *v1, const char *l2, const char *v2);
void ims_counter_inc(ims_counter_t *c);
void ims_counter_add(ims_counter_t *c, uint64_t n);
uint64_t ims_counter_value(const ims_counter_t *c);

/* An integer gauge (current registrations, open connections...). */
ims_gauge_t *ims_metrics_gauge(const char *name, const char *help, const char *l1,
			       const char *v1);
ims_gauge_t *ims_metrics_gauge2(const char *name, const char *help, const char *l1,
				const char *v1, const char *l2, const char *v2);
void ims_gauge_set(ims_gauge_t *g, int64_t v);
void ims_gauge_add(ims_gauge_t *g, int64_t delta);
int64_t ims_gauge_value(const ims_gauge_t *g);

/* Default buckets for latencies in seconds (1 ms .. 10 s). */
extern const double ims_metrics_latency_buckets[];
extern const size_t ims_metrics_latency_nbuckets;

/* A histogram with fixed upper bounds (ascending, at most 32; +Inf is
 * implicit). buckets NULL means ims_metrics_latency_buckets. The bounds
 * are copied. All series of one name share the first call's bounds. */
ims_histogram_t *ims_metrics_histogram(const char *name, const char *help,
				       const double *buckets, size_t nbuckets, const char *l1,
				       const char *v1);
/* Records one observation (seconds for latencies): a few atomic adds. */
void ims_histogram_observe(ims_histogram_t *h, double v);
uint64_t ims_histogram_count(const ims_histogram_t *h);

/* Renders every registered series. *out is malloc'ed (caller frees),
 * *len its length without the NUL. Returns 0 or IMS_ENOMEM. */
int ims_metrics_render(char **out /* out */, size_t *len /* out */);

/* Frees every series. Only when no thread holds series pointers (tests,
 * the very end of main). */
void ims_metrics_clear(void);

#endif
