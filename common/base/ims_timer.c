/* Binary min-heap of embedded timer records (see ims_timer.h). Ordering is
 * (expire, seq) so timers with the same deadline fire in start order. */
#include <stdlib.h>

#include "base/ims_err.h"
#include "base/ims_timer.h"

static int before(const ims_timer_t *a, const ims_timer_t *b)
{
	return a->expire < b->expire || (a->expire == b->expire && a->seq < b->seq);
}

static void place(ims_timers_t *ts, uint32_t i, ims_timer_t *t)
{
	ts->heap[i] = t;
	t->idx = i + 1;
}

static void sift_up(ims_timers_t *ts, uint32_t i)
{
	ims_timer_t *t = ts->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!before(t, ts->heap[parent]))
			break;
		place(ts, i, ts->heap[parent]);
		i = parent;
	}
	place(ts, i, t);
}

static void sift_down(ims_timers_t *ts, uint32_t i)
{
	ims_timer_t *t = ts->heap[i];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const ims_timer_t *best = t;
		if (l < ts->n && before(ts->heap[l], best)) {
			m = l;
			best = ts->heap[l];
		}
		if (r < ts->n && before(ts->heap[r], best))
			m = r;
		if (m == i)
			break;
		place(ts, i, ts->heap[m]);
		i = m;
	}
	place(ts, i, t);
}

void ims_timers_init(ims_timers_t *ts, const ims_clock_t *clock)
{
	ts->clock = clock;
	ts->heap = NULL;
	ts->n = ts->cap = 0;
	ts->seq = 0;
}

void ims_timers_fini(ims_timers_t *ts)
{
	for (uint32_t i = 0; i < ts->n; i++)
		ts->heap[i]->idx = 0;
	free(ts->heap);
	ts->heap = NULL;
	ts->n = ts->cap = 0;
}

void ims_timer_init(ims_timer_t *t, ims_timer_cb cb, void *arg)
{
	t->expire = 0;
	t->seq = 0;
	t->idx = 0;
	t->cb = cb;
	t->arg = arg;
}

static void heap_remove(ims_timers_t *ts, ims_timer_t *t)
{
	uint32_t i = t->idx - 1;
	t->idx = 0;
	ts->n--;
	if (i == ts->n)
		return;
	ims_timer_t *last = ts->heap[ts->n];
	place(ts, i, last);
	if (i > 0 && before(last, ts->heap[(i - 1) / 2]))
		sift_up(ts, i);
	else
		sift_down(ts, i);
}

int ims_timer_start(ims_timers_t *ts, ims_timer_t *t, uint64_t delay_ms)
{
	if (t->idx)
		heap_remove(ts, t);
	if (ts->n == ts->cap) {
		uint32_t cap = ts->cap ? ts->cap * 2 : 64;
		ims_timer_t **h = realloc(ts->heap, (size_t)cap * sizeof(*h));
		if (!h)
			return IMS_ENOMEM;
		ts->heap = h;
		ts->cap = cap;
	}
	t->expire = ims_clock_now(ts->clock) + delay_ms;
	t->seq = ++ts->seq;
	ts->heap[ts->n] = t;
	t->idx = ++ts->n;
	sift_up(ts, ts->n - 1);
	return 0;
}

void ims_timer_stop(ims_timers_t *ts, ims_timer_t *t)
{
	if (t->idx)
		heap_remove(ts, t);
}

int64_t ims_timers_next(const ims_timers_t *ts)
{
	if (ts->n == 0)
		return -1;
	uint64_t now = ims_clock_now(ts->clock);
	uint64_t exp = ts->heap[0]->expire;
	return exp <= now ? 0 : (int64_t)(exp - now);
}

int ims_timers_run(ims_timers_t *ts)
{
	uint64_t now = ims_clock_now(ts->clock);
	/* Only timers started before this pass: a callback restarting its
	 * timer with delay 0 must not loop forever here. */
	uint64_t last_seq = ts->seq;
	int fired = 0;
	while (ts->n > 0) {
		ims_timer_t *t = ts->heap[0];
		if (t->expire > now || t->seq > last_seq)
			break;
		heap_remove(ts, t);
		fired++;
		t->cb(t, t->arg);
	}
	return fired;
}
