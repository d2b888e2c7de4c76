/* Prometheus registry: series identity, text exposition format (counter,
 * gauge, histogram, escaping), misuse, concurrent updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "metrics/ims_metrics.h"

static int clear_registry(void **state)
{
	(void)state;
	ims_metrics_clear();
	return 0;
}

static char *render(void)
{
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(ims_metrics_render(&out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static void test_metrics_same_labels_same_series(void **state)
{
	(void)state;
	ims_counter_t *a = ims_metrics_counter("sip_requests_total", "SIP requests", "method", "INVITE");
	ims_counter_t *b = ims_metrics_counter("sip_requests_total", "SIP requests", "method", "INVITE");
	ims_counter_t *c = ims_metrics_counter("sip_requests_total", "SIP requests", "method", "BYE");
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	ims_counter_inc(a);
	ims_counter_add(b, 4);
	assert_int_equal(ims_counter_value(a), 5);
	assert_int_equal(ims_counter_value(c), 0);
}

static void test_metrics_text_format_counter_gauge(void **state)
{
	(void)state;
	ims_counter_inc(ims_metrics_counter("up_events_total", "Events", NULL, NULL));
	ims_counter_t *c = ims_metrics_counter2("sip_responses_total", "SIP responses", "method",
						"REGISTER", "code", "401");
	ims_counter_add(c, 3);
	ims_gauge_t *g = ims_metrics_gauge("registrations", "Active contacts", NULL, NULL);
	ims_gauge_set(g, 10);
	ims_gauge_add(g, -3);
	assert_int_equal(ims_gauge_value(g), 7);
	ims_gauge_set(ims_metrics_gauge("temperature", "Below zero", "room", "cold"), -5);
	char *t = render();
	assert_string_equal(t,
			    "# HELP up_events_total Events\n"
			    "# TYPE up_events_total counter\n"
			    "up_events_total 1\n"
			    "# HELP sip_responses_total SIP responses\n"
			    "# TYPE sip_responses_total counter\n"
			    "sip_responses_total{method=\"REGISTER\",code=\"401\"} 3\n"
			    "# HELP registrations Active contacts\n"
			    "# TYPE registrations gauge\n"
			    "registrations 7\n"
			    "# HELP temperature Below zero\n"
			    "# TYPE temperature gauge\n"
			    "temperature{room=\"cold\"} -5\n");
	free(t);
}

static void test_metrics_histogram_buckets_sum_count(void **state)
{
	(void)state;
	static const double b[] = { 0.01, 0.1, 1 };
	ims_histogram_t *h = ims_metrics_histogram("cx_request_seconds", "Cx latency", b, 3, "cmd", "MAR");
	ims_histogram_observe(h, 0.005); /* le 0.01 */
	ims_histogram_observe(h, 0.01);  /* le 0.01: bounds are inclusive */
	ims_histogram_observe(h, 0.5);   /* le 1 */
	ims_histogram_observe(h, 3);     /* +Inf only */
	assert_int_equal(ims_histogram_count(h), 4);
	char *t = render();
	assert_string_equal(t,
			    "# HELP cx_request_seconds Cx latency\n"
			    "# TYPE cx_request_seconds histogram\n"
			    "cx_request_seconds_bucket{cmd=\"MAR\",le=\"0.01\"} 2\n"
			    "cx_request_seconds_bucket{cmd=\"MAR\",le=\"0.1\"} 2\n"
			    "cx_request_seconds_bucket{cmd=\"MAR\",le=\"1\"} 3\n"
			    "cx_request_seconds_bucket{cmd=\"MAR\",le=\"+Inf\"} 4\n"
			    "cx_request_seconds_sum{cmd=\"MAR\"} 3.515\n"
			    "cx_request_seconds_count{cmd=\"MAR\"} 4\n");
	free(t);
}

static void test_metrics_histogram_default_buckets_no_label(void **state)
{
	(void)state;
	ims_histogram_t *h = ims_metrics_histogram("tsx_seconds", "Transaction time", NULL, 0, NULL, NULL);
	ims_histogram_observe(h, 0.002);
	char *t = render();
	assert_non_null(strstr(t, "tsx_seconds_bucket{le=\"0.001\"} 0\n"));
	assert_non_null(strstr(t, "tsx_seconds_bucket{le=\"0.0025\"} 1\n"));
	assert_non_null(strstr(t, "tsx_seconds_bucket{le=\"10\"} 1\n"));
	assert_non_null(strstr(t, "tsx_seconds_bucket{le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(t, "tsx_seconds_count 1\n"));
	free(t);
}

static void test_metrics_escaping(void **state)
{
	(void)state;
	ims_counter_inc(ims_metrics_counter("odd_total", "Help with \\ and\nnewline", "v",
					    "a\"b\\c\nd"));
	char *t = render();
	assert_string_equal(t,
			    "# HELP odd_total Help with \\\\ and\\nnewline\n"
			    "# TYPE odd_total counter\n"
			    "odd_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
	free(t);
}

static void test_metrics_misuse_returns_sink(void **state)
{
	(void)state;
	ims_counter_t *ok = ims_metrics_counter("x_total", "x", "a", "1");
	/* same name, other labels or type: a private sink, never rendered */
	ims_counter_t *other = ims_metrics_counter("x_total", "x", "b", "1");
	ims_gauge_t *g = ims_metrics_gauge("x_total", "x", "a", "1");
	ims_counter_t *bad = ims_metrics_counter("9bad name", "x", NULL, NULL);
	ims_counter_t *badl = ims_metrics_counter("y_total", "x", "le", "1");
	static const double unsorted[] = { 1, 0.5 };
	ims_histogram_t *h = ims_metrics_histogram("h_seconds", "x", unsorted, 2, NULL, NULL);
	assert_non_null(other);
	assert_non_null(g);
	assert_non_null(bad);
	assert_ptr_not_equal(ok, other);
	ims_counter_inc(other);
	ims_counter_inc(bad);
	ims_counter_inc(badl);
	ims_gauge_set(g, 3);
	ims_histogram_observe(h, 1);
	ims_counter_inc(ok);
	char *t = render();
	assert_string_equal(t, "# HELP x_total x\n# TYPE x_total counter\nx_total{a=\"1\"} 1\n");
	free(t);
}

#define THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
	(void)arg;
	ims_counter_t *c = ims_metrics_counter("hammer_total", "h", NULL, NULL);
	ims_histogram_t *h = ims_metrics_histogram("hammer_seconds", "h", NULL, 0, NULL, NULL);
	for (int i = 0; i < PER_THREAD; i++) {
		ims_counter_inc(c);
		ims_histogram_observe(h, 0.5);
	}
	return NULL;
}

static void test_metrics_concurrent_updates(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ims_counter_value(ims_metrics_counter("hammer_total", "h", NULL, NULL)),
			 THREADS * PER_THREAD);
	ims_histogram_t *h = ims_metrics_histogram("hammer_seconds", "h", NULL, 0, NULL, NULL);
	assert_int_equal(ims_histogram_count(h), THREADS * PER_THREAD);
	char *t = render();
	assert_non_null(strstr(t, "hammer_seconds_sum 40000\n"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_same_labels_same_series, clear_registry, clear_registry),
		cmocka_unit_test_setup_teardown(test_metrics_text_format_counter_gauge, clear_registry, clear_registry),
		cmocka_unit_test_setup_teardown(test_metrics_histogram_buckets_sum_count, clear_registry, clear_registry),
		cmocka_unit_test_setup_teardown(test_metrics_histogram_default_buckets_no_label, clear_registry, clear_registry),
		cmocka_unit_test_setup_teardown(test_metrics_escaping, clear_registry, clear_registry),
		cmocka_unit_test_setup_teardown(test_metrics_misuse_returns_sink, clear_registry, clear_registry),
		cmocka_unit_test_setup_teardown(test_metrics_concurrent_updates, clear_registry, clear_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
