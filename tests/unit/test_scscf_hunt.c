/* scscf device hunting (issue 9): the q-ordered plan (RFC 3261 §16.6) and
 * the HSS's HuntingPolicy extension read from User-Data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "../../scscf/hunt-plan.h"
#include "../../scscf/profile.h"

static scscf_binding_t bind_q(int q)
{
	scscf_binding_t b;
	memset(&b, 0, sizeof(b));
	b.q = q;
	return b;
}

static void test_default_q(void **state)
{
	(void)state;
	scscf_binding_t none = bind_q(-1), half = bind_q(500), zero = bind_q(0);
	assert_int_equal(scscf_hunt_q(&none), 1000);
	assert_int_equal(scscf_hunt_q(&half), 500);
	assert_int_equal(scscf_hunt_q(&zero), 0);
}

static void test_parallel_one_group(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(1024);
	assert_non_null(a);
	scscf_binding_t b[3] = { bind_q(100), bind_q(900), bind_q(-1) };
	scscf_hunt_plan_t p;
	assert_int_equal(scscf_hunt_plan_build(b, 3, 0, a, &p), 0);
	assert_int_equal(p.n_groups, 1);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.group_start[0], 0);
	assert_int_equal(p.group_start[1], 3);
	/* the given order is kept */
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(p.order[i], i);
	ims_arena_destroy(a);
}

static void test_sequential_groups_by_q(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(1024);
	assert_non_null(a);
	/* q: 0.5, none (1.0), 0.1, 0.5, 1.0 */
	scscf_binding_t b[5] = { bind_q(500), bind_q(-1), bind_q(100), bind_q(500), bind_q(1000) };
	scscf_hunt_plan_t p;
	assert_int_equal(scscf_hunt_plan_build(b, 5, 1, a, &p), 0);
	assert_int_equal(p.n_groups, 3);
	/* group 1: q 1.0 (binding 1 without q, then binding 4), stable */
	assert_int_equal(p.group_start[0], 0);
	assert_int_equal(p.group_start[1], 2);
	assert_int_equal(p.order[0], 1);
	assert_int_equal(p.order[1], 4);
	/* group 2: q 0.5, bindings 0 then 3 */
	assert_int_equal(p.group_start[2], 4);
	assert_int_equal(p.order[2], 0);
	assert_int_equal(p.order[3], 3);
	/* group 3: q 0.1 */
	assert_int_equal(p.group_start[3], 5);
	assert_int_equal(p.order[4], 2);
	ims_arena_destroy(a);
}

static void test_sequential_equal_q_is_parallel(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(1024);
	assert_non_null(a);
	scscf_binding_t b[2] = { bind_q(700), bind_q(700) };
	scscf_hunt_plan_t p;
	assert_int_equal(scscf_hunt_plan_build(b, 2, 1, a, &p), 0);
	assert_int_equal(p.n_groups, 1);
	assert_int_equal(p.group_start[1], 2);
	ims_arena_destroy(a);
}

static void test_plan_errors(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(1024);
	assert_non_null(a);
	scscf_binding_t b[1] = { bind_q(1000) };
	scscf_hunt_plan_t p;
	assert_int_equal(scscf_hunt_plan_build(b, 0, 1, a, &p), IMS_EINVAL);
	assert_int_equal(scscf_hunt_plan_build(NULL, 1, 1, a, &p), IMS_EINVAL);
	ims_arena_destroy(a);
	/* out of memory on the first allocation */
	ims_arena_t *tiny = ims_arena_create(64);
	assert_non_null(tiny);
	ims_arena_fail_after(tiny, 1);
	assert_int_equal(scscf_hunt_plan_build(b, 1, 1, tiny, &p), IMS_ENOMEM);
	ims_arena_destroy(tiny);
}

#define SUB_HEAD "<?xml version=\"1.0\"?><IMSSubscription><PrivateID>u@ims.example</PrivateID>" \
	"<ServiceProfile><PublicIdentity><Identity>sip:u@ims.example</Identity></PublicIdentity>" \
	"</ServiceProfile>"

static int hunting_of(const char *xml)
{
	scscf_profile_t *p = NULL;
	scscf_profile_err_t err;
	assert_int_equal(scscf_profile_parse(xml, strlen(xml), &p, &err), 0);
	int v = p->hunt_sequential;
	scscf_profile_free(p);
	return v;
}

static void test_profile_hunting_policy(void **state)
{
	(void)state;
	/* as hss-sim/userdata-build.c sends it */
	assert_int_equal(hunting_of(SUB_HEAD "<Extension><HuntingPolicy>sequential</HuntingPolicy>"
				    "</Extension></IMSSubscription>"), 1);
	assert_int_equal(hunting_of(SUB_HEAD "<Extension><HuntingPolicy> Sequential </HuntingPolicy>"
				    "</Extension></IMSSubscription>"), 1);
	assert_int_equal(hunting_of(SUB_HEAD "<Extension><HuntingPolicy>parallel</HuntingPolicy>"
				    "</Extension></IMSSubscription>"), 0);
	/* another HSS: no extension, or an extension of its own */
	assert_int_equal(hunting_of(SUB_HEAD "</IMSSubscription>"), 0);
	assert_int_equal(hunting_of(SUB_HEAD "<Extension><Other>x</Other></Extension></IMSSubscription>"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_q),
		cmocka_unit_test(test_parallel_one_group),
		cmocka_unit_test(test_sequential_groups_by_q),
		cmocka_unit_test(test_sequential_equal_q_is_parallel),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_profile_hunting_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
