/* I-CSCF: S-CSCF selection by capabilities and the decisions on UAA/LIA
 * result codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "dia/cx-dict.h"
#include "route-select.h"
#include "cx-decide.h"

static void add(icscf_pool_t *p, const char *name, const char *uri, const uint32_t *caps, unsigned n)
{
	icscf_scscf_t *s = &p->s[p->n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->uri, sizeof(s->uri), "%s", uri);
	memcpy(s->caps, caps, n * sizeof(uint32_t));
	s->n_caps = n;
}

static icscf_pool_t pool3(void)
{
	icscf_pool_t p;
	memset(&p, 0, sizeof(p));
	static const uint32_t c0[] = { 1 }, c1[] = { 1, 2, 3 }, c2[] = { 2, 3, 4 };
	add(&p, "sip:scscf0.ims.test:6060", "sip:127.0.0.1:14100", c0, 1);
	add(&p, "sip:scscf1.ims.test:6060", "sip:127.0.0.1:14101", c1, 3);
	add(&p, "sip:scscf2.ims.test:6060", "sip:127.0.0.1:14102", c2, 3);
	return p;
}

static void test_select_table(void **state)
{
	(void)state;
	icscf_pool_t p = pool3();
	static const uint32_t m1[] = { 1 }, m2[] = { 2 }, m4[] = { 4 }, m9[] = { 9 }, o3[] = { 3 },
			      o34[] = { 3, 4 };
	ims_str_t names[] = { IMS_STR("sip:scscf2.ims.test:6060") };
	static const struct {
		const uint32_t *mand;
		unsigned nm;
		const uint32_t *opt;
		unsigned no;
		int use_names;
		uint32_t tried;
		int want;
	} t[] = {
		{ NULL, 0, NULL, 0, 0, 0, 0 },             /* no constraint: first in pool */
		{ m1, 1, NULL, 0, 0, 0, 0 },               /* mandatory 1: scscf0 and 1, pool order */
		{ m1, 1, o3, 1, 0, 0, 1 },                 /* optional 3 favours scscf1 */
		{ m2, 1, o34, 2, 0, 0, 2 },                /* 2 mandatory; 3+4 optional: scscf2 */
		{ m4, 1, NULL, 0, 0, 0, 2 },
		{ m9, 1, NULL, 0, 0, 0, IMS_ENOENT },       /* nobody has 9 */
		{ m1, 1, o3, 1, 0, 1u << 1, 0 },           /* scscf1 tried already */
		{ m1, 1, NULL, 0, 0, 3u, IMS_ENOENT },     /* all qualifying tried */
		{ NULL, 0, NULL, 0, 1, 0, 2 },             /* a name listed by the HSS wins */
		{ m1, 1, NULL, 0, 1, 0, 0 },               /* ...unless it lacks a mandatory cap */
		{ NULL, 0, NULL, 0, 1, 1u << 2, 0 },       /* ...or was tried */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		icscf_caps_req_t req = { t[i].mand, t[i].nm, t[i].opt, t[i].no,
					 t[i].use_names ? names : NULL, t[i].use_names ? 1u : 0u };
		int got = icscf_select_scscf(&p, &req, t[i].tried);
		if (got != t[i].want)
			fail_msg("case %zu: got %d want %d", i, got, t[i].want);
	}
}

static void test_pool_find_by_name_or_uri(void **state)
{
	(void)state;
	icscf_pool_t p = pool3();
	assert_int_equal(icscf_pool_find(&p, IMS_STR("sip:scscf1.ims.test:6060")), 1);
	assert_int_equal(icscf_pool_find(&p, IMS_STR("sip:SCSCF1.ims.test:6060")), 1);
	assert_int_equal(icscf_pool_find(&p, IMS_STR("sip:127.0.0.1:14102")), 2);
	assert_int_equal(icscf_pool_find(&p, IMS_STR("sip:scscf1.ims.test")), IMS_ENOENT);
}

static cx_answer_t ans(uint32_t rc, uint32_t exp)
{
	cx_answer_t a;
	memset(&a, 0, sizeof(a));
	a.status = CX_ANS_OK;
	a.result_code = rc;
	a.exp_result_code = exp;
	return a;
}

static void test_uaa_decisions(void **state)
{
	(void)state;
	icscf_pool_t p = pool3();
	icscf_decision_t d;

	/* 2002 with a known Server-Name: that S-CSCF's URI. */
	cx_answer_t a = ans(0, CX_DIAMETER_SUBSEQUENT_REGISTRATION);
	a.server_name = IMS_STR("sip:scscf2.ims.test:6060");
	icscf_uaa_decide(&a, &p, 0, &d);
	assert_int_equal(d.action, ICSCF_FORWARD);
	assert_true(ims_str_eq_c(d.target, "sip:127.0.0.1:14102"));
	assert_int_equal(d.pool_index, 2);

	/* A name outside the pool is used as it is. */
	a.server_name = IMS_STR("sip:elsewhere.test:6060");
	icscf_uaa_decide(&a, &p, 0, &d);
	assert_int_equal(d.action, ICSCF_FORWARD);
	assert_true(ims_str_eq_c(d.target, "sip:elsewhere.test:6060"));
	assert_int_equal(d.pool_index, -1);

	/* The named one failed already: select by capabilities instead. */
	a.server_name = IMS_STR("sip:scscf0.ims.test:6060");
	icscf_uaa_decide(&a, &p, 1u << 0, &d);
	assert_int_equal(d.action, ICSCF_FORWARD);
	assert_int_equal(d.pool_index, 1);

	/* 2001 with capabilities. */
	a = ans(0, CX_DIAMETER_FIRST_REGISTRATION);
	a.has_caps = 1;
	a.cap_mandatory[0] = 4;
	a.n_cap_mandatory = 1;
	icscf_uaa_decide(&a, &p, 0, &d);
	assert_int_equal(d.action, ICSCF_FORWARD);
	assert_int_equal(d.pool_index, 2);
	/* ... nobody left: 600. */
	icscf_uaa_decide(&a, &p, 1u << 2, &d);
	assert_int_equal(d.action, ICSCF_REPLY);
	assert_int_equal(d.code, 600);

	/* Negative answers: 403. */
	static const uint32_t neg[] = { CX_DIAMETER_ERROR_USER_UNKNOWN,
					CX_DIAMETER_ERROR_IDENTITIES_DONT_MATCH,
					CX_DIAMETER_ERROR_ROAMING_NOT_ALLOWED };
	for (size_t i = 0; i < 3; i++) {
		a = ans(0, neg[i]);
		icscf_uaa_decide(&a, &p, 0, &d);
		assert_int_equal(d.action, ICSCF_REPLY);
		assert_int_equal(d.code, 403);
	}
	a = ans(CX_DIAMETER_AUTHORIZATION_REJECTED, 0);
	icscf_uaa_decide(&a, &p, 0, &d);
	assert_int_equal(d.code, 403);

	/* No answer / busy: 480. */
	a = ans(0, 0);
	a.status = CX_ANS_TIMEOUT;
	icscf_uaa_decide(&a, &p, 0, &d);
	assert_int_equal(d.code, 480);
	a = ans(CX_DIAMETER_UNABLE_TO_DELIVER, 0);
	icscf_uaa_decide(&a, &p, 0, &d);
	assert_int_equal(d.code, 480);
}

static void test_lia_decisions(void **state)
{
	(void)state;
	icscf_pool_t p = pool3();
	icscf_decision_t d;
	cx_answer_t a = ans(CX_DIAMETER_SUCCESS, 0);
	a.server_name = IMS_STR("sip:scscf1.ims.test:6060");
	icscf_lia_decide(&a, &p, &d);
	assert_int_equal(d.action, ICSCF_FORWARD);
	assert_true(ims_str_eq_c(d.target, "sip:127.0.0.1:14101"));

	/* Unregistered service without an S-CSCF yet: choose one. */
	a = ans(0, CX_DIAMETER_UNREGISTERED_SERVICE);
	a.has_caps = 1;
	a.cap_optional[0] = 2;
	a.n_cap_optional = 1;
	icscf_lia_decide(&a, &p, &d);
	assert_int_equal(d.action, ICSCF_FORWARD);
	assert_int_equal(d.pool_index, 1);

	a = ans(0, CX_DIAMETER_ERROR_USER_UNKNOWN);
	icscf_lia_decide(&a, &p, &d);
	assert_int_equal(d.action, ICSCF_REPLY);
	assert_int_equal(d.code, 404);

	a = ans(0, CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED);
	icscf_lia_decide(&a, &p, &d);
	assert_int_equal(d.code, 480);

	a = ans(0, 0);
	a.status = CX_ANS_UNREACHABLE;
	icscf_lia_decide(&a, &p, &d);
	assert_int_equal(d.code, 480);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_table),
		cmocka_unit_test(test_pool_find_by_name_or_uri),
		cmocka_unit_test(test_uaa_decisions),
		cmocka_unit_test(test_lia_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
