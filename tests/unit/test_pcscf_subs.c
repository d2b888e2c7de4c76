/* The P-CSCF's reg-event subscription table: only NOTIFYs in our own
 * subscription dialogs are believed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "regevent-subs.h"

static void test_add_has_remove(void **state)
{
	(void)state;
	pcscf_subs_t *s = pcscf_subs_create();
	assert_non_null(s);
	assert_int_equal(pcscf_subs_add(s, IMS_STR("abc@127.0.0.1"), IMS_STR("sip:a@ims.test"), 100), 0);
	assert_int_equal(pcscf_subs_add(s, IMS_STR("def@127.0.0.1"), IMS_STR("sip:b@ims.test"), 100), 0);
	assert_int_equal(pcscf_subs_count(s), 2);
	assert_true(pcscf_subs_has(s, IMS_STR("abc@127.0.0.1"), 50));
	/* Call-IDs are case-sensitive (RFC 3261 §20.8). */
	assert_false(pcscf_subs_has(s, IMS_STR("ABC@127.0.0.1"), 50));
	assert_false(pcscf_subs_has(s, IMS_STR("forged@evil"), 50));
	/* Expired is not live. */
	assert_false(pcscf_subs_has(s, IMS_STR("abc@127.0.0.1"), 100));
	/* Re-adding refreshes instead of duplicating. */
	assert_int_equal(pcscf_subs_add(s, IMS_STR("abc@127.0.0.1"), IMS_STR("sip:a@ims.test"), 300), 0);
	assert_int_equal(pcscf_subs_count(s), 2);
	assert_true(pcscf_subs_has(s, IMS_STR("abc@127.0.0.1"), 200));
	/* By public identity (the re-registration check). */
	assert_true(pcscf_subs_has_impu(s, IMS_STR("sip:a@ims.test"), 200));
	assert_false(pcscf_subs_has_impu(s, IMS_STR("sip:a@ims.test"), 300));
	assert_false(pcscf_subs_has_impu(s, IMS_STR("sip:c@ims.test"), 0));
	/* The notifier granted less. */
	assert_int_equal(pcscf_subs_set_expiry(s, IMS_STR("abc@127.0.0.1"), 150), 0);
	assert_false(pcscf_subs_has_impu(s, IMS_STR("sip:a@ims.test"), 150));
	assert_int_equal(pcscf_subs_set_expiry(s, IMS_STR("nope"), 150), IMS_ENOENT);
	assert_int_equal(pcscf_subs_remove(s, IMS_STR("abc@127.0.0.1")), 0);
	assert_int_equal(pcscf_subs_remove(s, IMS_STR("abc@127.0.0.1")), IMS_ENOENT);
	assert_false(pcscf_subs_has_impu(s, IMS_STR("sip:a@ims.test"), 0));
	assert_true(pcscf_subs_has_impu(s, IMS_STR("sip:b@ims.test"), 0));
	assert_false(pcscf_subs_has(s, IMS_STR("abc@127.0.0.1"), 0));
	pcscf_subs_destroy(s);
}

static void test_expire_and_limits(void **state)
{
	(void)state;
	pcscf_subs_t *s = pcscf_subs_create();
	char id[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "c%d@h", i);
		assert_int_equal(pcscf_subs_add(s, ims_str_cstr(id), IMS_STR("sip:x@y"), i < 500 ? 10 : 20), 0);
	}
	assert_int_equal(pcscf_subs_expire(s, 10), 500);
	assert_int_equal(pcscf_subs_count(s), 500);
	assert_true(pcscf_subs_has(s, IMS_STR("c999@h"), 15));
	assert_false(pcscf_subs_has(s, IMS_STR("c1@h"), 0));
	assert_true(pcscf_subs_has_impu(s, IMS_STR("sip:x@y"), 15));
	assert_int_equal(pcscf_subs_expire(s, 20), 500);
	assert_false(pcscf_subs_has_impu(s, IMS_STR("sip:x@y"), 0));
	assert_int_equal(pcscf_subs_count(s), 0);
	char big[300];
	memset(big, 'x', sizeof(big));
	assert_int_equal(pcscf_subs_add(s, ims_str_from(big, sizeof(big)), IMS_STR("sip:x@y"), 1), IMS_EINVAL);
	assert_int_equal(pcscf_subs_add(s, IMS_STR_NULL, IMS_STR("sip:x@y"), 1), IMS_EINVAL);
	assert_false(pcscf_subs_has(s, ims_str_from(big, sizeof(big)), 0));
	pcscf_subs_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_has_remove),
		cmocka_unit_test(test_expire_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
