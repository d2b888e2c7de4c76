/* Timer heap on a virtual clock: ordering, stop/restart, and 100,000 live
 * timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/ims_timer.h"

typedef struct rec {
	ims_timer_t t;
	uint64_t due;
	int fired;
} rec_t;

static uint64_t last_due;
static int order_ok;
static int nfired;
static ims_vclock_t vc;

static void on_fire(ims_timer_t *t, void *arg)
{
	rec_t *r = arg;
	(void)t;
	if (r->due < last_due)
		order_ok = 0;
	if (vc.now < r->due)
		order_ok = 0;
	last_due = r->due;
	r->fired++;
	nfired++;
}

static void reset(void)
{
	last_due = 0;
	order_ok = 1;
	nfired = 0;
}

static void test_timer_fires_in_order_and_not_early(void **state)
{
	(void)state;
	reset();
	ims_vclock_init(&vc, 1000);
	ims_timers_t ts;
	ims_timers_init(&ts, &vc.clock);
	rec_t r[5];
	uint64_t delays[5] = { 300, 100, 200, 100, 0 };
	for (int i = 0; i < 5; i++) {
		ims_timer_init(&r[i].t, on_fire, &r[i]);
		r[i].due = 1000 + delays[i];
		r[i].fired = 0;
		assert_int_equal(ims_timer_start(&ts, &r[i].t, delays[i]), 0);
	}
	assert_int_equal(ims_timers_next(&ts), 0);
	assert_int_equal(ims_timers_run(&ts), 1); /* only the 0 ms one */
	assert_int_equal(ims_timers_next(&ts), 100);
	ims_vclock_advance(&vc, 99);
	assert_int_equal(ims_timers_run(&ts), 0);
	ims_vclock_advance(&vc, 1);
	assert_int_equal(ims_timers_run(&ts), 2);
	ims_vclock_advance(&vc, 500);
	assert_int_equal(ims_timers_run(&ts), 2);
	assert_int_equal(ims_timers_next(&ts), -1);
	assert_true(order_ok);
	for (int i = 0; i < 5; i++)
		assert_int_equal(r[i].fired, 1);
	ims_timers_fini(&ts);
}

static void test_timer_stop_and_restart(void **state)
{
	(void)state;
	reset();
	ims_vclock_init(&vc, 0);
	ims_timers_t ts;
	ims_timers_init(&ts, &vc.clock);
	rec_t a, b;
	ims_timer_init(&a.t, on_fire, &a);
	ims_timer_init(&b.t, on_fire, &b);
	a.fired = b.fired = 0;
	ims_timer_start(&ts, &a.t, 100);
	ims_timer_start(&ts, &b.t, 200);
	ims_timer_stop(&ts, &a.t);
	ims_timer_stop(&ts, &a.t); /* harmless twice */
	assert_false(ims_timer_active(&a.t));
	/* restart moves b later */
	ims_timer_start(&ts, &b.t, 500);
	b.due = 500;
	assert_int_equal(ims_timers_count(&ts), 1);
	ims_vclock_set(&vc, 499);
	assert_int_equal(ims_timers_run(&ts), 0);
	ims_vclock_set(&vc, 500);
	assert_int_equal(ims_timers_run(&ts), 1);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	ims_timers_fini(&ts);
}

static ims_timers_t *rs_ts;
static void on_restart_zero(ims_timer_t *t, void *arg)
{
	int *n = arg;
	(*n)++;
	ims_timer_start(rs_ts, t, 0); /* must not loop within one run */
}

static void test_timer_zero_restart_waits_for_next_run(void **state)
{
	(void)state;
	ims_vclock_init(&vc, 0);
	ims_timers_t ts;
	ims_timers_init(&ts, &vc.clock);
	rs_ts = &ts;
	ims_timer_t t;
	int n = 0;
	ims_timer_init(&t, on_restart_zero, &n);
	ims_timer_start(&ts, &t, 0);
	assert_int_equal(ims_timers_run(&ts), 1);
	assert_int_equal(ims_timers_run(&ts), 1);
	assert_int_equal(n, 2);
	ims_timer_stop(&ts, &t);
	ims_timers_fini(&ts);
}

static void test_timer_100000_live_timers(void **state)
{
	(void)state;
	reset();
	enum { N = 100000 };
	ims_vclock_init(&vc, 0);
	ims_timers_t ts;
	ims_timers_init(&ts, &vc.clock);
	rec_t *r = calloc(N, sizeof(*r));
	assert_non_null(r);
	srand(42);
	for (int i = 0; i < N; i++) {
		uint64_t d = (uint64_t)(rand() % 64000);
		ims_timer_init(&r[i].t, on_fire, &r[i]);
		r[i].due = d;
		assert_int_equal(ims_timer_start(&ts, &r[i].t, d), 0);
	}
	assert_int_equal(ims_timers_count(&ts), N);
	/* stop every third, restart every fifth later */
	int expected = 0;
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0) {
			ims_timer_stop(&ts, &r[i].t);
		} else if (i % 5 == 0) {
			r[i].due = 64000 + (uint64_t)(i % 1000);
			ims_timer_start(&ts, &r[i].t, r[i].due);
			expected++;
		} else {
			expected++;
		}
	}
	assert_int_equal(ims_timers_count(&ts), expected);
	/* advance in 10 ms steps, like a busy worker loop */
	while (ims_timers_count(&ts) > 0) {
		ims_vclock_advance(&vc, 10);
		ims_timers_run(&ts);
	}
	assert_int_equal(nfired, expected);
	assert_true(order_ok);
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].fired, i % 3 == 0 ? 0 : 1);
	ims_timers_fini(&ts);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_fires_in_order_and_not_early),
		cmocka_unit_test(test_timer_stop_and_restart),
		cmocka_unit_test(test_timer_zero_restart_waits_for_next_run),
		cmocka_unit_test(test_timer_100000_live_timers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
