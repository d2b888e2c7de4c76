/* Timers: a binary min-heap of caller-embedded timer records, driven by an
 * ims_clock_t. Start, stop and restart are O(log n), the next deadline is
 * O(1), and nothing is allocated per timer, so 100,000 live transactions
 * with two or three timers each stay cheap (the heap array grows by
 * doubling). One ims_timers_t belongs to one thread (one event loop); it
 * is not thread-safe.
 *
 *   ims_timer_init(&t->timer_a, on_timer_a, t);
 *   ims_timer_start(&w->timers, &t->timer_a, 500);   // fires in 500 ms
 *   ... in the loop: ims_timers_run(&w->timers);     // fires what is due
 */
#ifndef IMS_TIMER_H
#define IMS_TIMER_H

#include <stdint.h>

#include "base/ims_clock.h"

typedef struct ims_timer ims_timer_t;
typedef void (*ims_timer_cb)(ims_timer_t *t, void *arg);

/* Embed in the owning object; init once with ims_timer_init. */
struct ims_timer {
	uint64_t expire; /* absolute ms on the owner's clock */
	uint64_t seq;    /* insertion order: equal deadlines fire FIFO */
	uint32_t idx;    /* heap slot + 1; 0 when not running */
	ims_timer_cb cb;
	void *arg;
};

typedef struct ims_timers {
	const ims_clock_t *clock; /* NULL = monotonic */
	ims_timer_t **heap;
	uint32_t n, cap;
	uint64_t seq;
} ims_timers_t;

/* Prepares an empty timer set on `clock` (NULL = monotonic; the clock must
 * outlive the set). Nothing allocated until the first start. */
void ims_timers_init(ims_timers_t *ts, const ims_clock_t *clock);

/* Frees the heap array. Timers still in the set are simply forgotten
 * (their records belong to their owners). */
void ims_timers_fini(ims_timers_t *ts);

/* Sets a timer record's callback; the timer is not running afterwards. */
void ims_timer_init(ims_timer_t *t, ims_timer_cb cb, void *arg);

/* (Re)starts `t` to fire `delay_ms` from now. A running timer is moved.
 * Returns 0 or IMS_ENOMEM (heap growth failed; the timer is not running). */
int ims_timer_start(ims_timers_t *ts, ims_timer_t *t, uint64_t delay_ms);

/* Stops `t` if running; harmless otherwise. */
void ims_timer_stop(ims_timers_t *ts, ims_timer_t *t);

/* 1 when `t` is running. */
static inline int ims_timer_active(const ims_timer_t *t)
{
	return t->idx != 0;
}

/* Milliseconds until the earliest deadline (0 when one is due), or -1 when
 * no timer runs. */
int64_t ims_timers_next(const ims_timers_t *ts);

/* Fires every timer whose deadline has passed, earliest first. Callbacks
 * may start and stop timers (a timer restarted for "now" fires on the next
 * call, not in this one). Returns the number fired. */
int ims_timers_run(ims_timers_t *ts);

/* Number of running timers. */
static inline uint32_t ims_timers_count(const ims_timers_t *ts)
{
	return ts->n;
}

#endif
