#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "base/ims_str.h"

static void test_arena_grows_past_first_chunk(void **state)
{
	ims_arena_t *a = ims_arena_create(256);
	assert_non_null(a);
	for (int i = 0; i < 1000; i++) {
		char *p = ims_arena_alloc(a, 100);
		assert_non_null(p);
		assert_int_equal(((uintptr_t)p) % 16, 0);
		p[99] = 'x';
	}
	ims_arena_reset(a);
	assert_non_null(ims_arena_alloc(a, 10));
	ims_arena_destroy(a);
}

static void test_arena_fail_after_injects_oom(void **state)
{
	ims_arena_t *a = ims_arena_create(256);
	ims_arena_fail_after(a, 2);
	assert_non_null(ims_arena_alloc(a, 8));
	assert_null(ims_arena_alloc(a, 8));
	assert_non_null(ims_arena_alloc(a, 8));
	ims_arena_destroy(a);
}

static void test_arena_printf_and_strdup(void **state)
{
	ims_arena_t *a = ims_arena_create(256);
	ims_str_t s = ims_arena_printf(a, "%s-%d", "branch", 42);
	assert_true(ims_str_eq_c(s, "branch-42"));
	ims_str_t d;
	assert_int_equal(ims_arena_strdup(a, IMS_STR("abc"), &d), 0);
	assert_string_equal(d.s, "abc");
	ims_arena_destroy(a);
}

static void test_str_to_u64_rejects_garbage(void **state)
{
	uint64_t v;
	assert_int_equal(ims_str_to_u64(IMS_STR("4294967295"), UINT32_MAX, &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(ims_str_to_u64(IMS_STR("4294967296"), UINT32_MAX, &v), IMS_EINVAL);
	assert_int_equal(ims_str_to_u64(IMS_STR("12a"), UINT32_MAX, &v), IMS_EINVAL);
	assert_int_equal(ims_str_to_u64(IMS_STR(""), UINT32_MAX, &v), IMS_EINVAL);
	assert_int_equal(ims_str_to_u64(IMS_STR("99999999999999999999999"), UINT64_MAX, &v), IMS_EINVAL);
}

static void test_str_case_and_trim(void **state)
{
	assert_true(ims_str_caseeq_c(IMS_STR("VIA"), "via"));
	assert_true(ims_str_eq_c(ims_str_trim(IMS_STR(" \t x y\r\n")), "x y"));
	assert_int_equal(ims_str_casehash(IMS_STR("Call-ID")), ims_str_casehash(IMS_STR("call-id")));
	assert_string_equal(ims_strerror(IMS_ENOMEM), "out of memory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_grows_past_first_chunk),
		cmocka_unit_test(test_arena_fail_after_injects_oom),
		cmocka_unit_test(test_arena_printf_and_strdup),
		cmocka_unit_test(test_str_to_u64_rejects_garbage),
		cmocka_unit_test(test_str_case_and_trim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
