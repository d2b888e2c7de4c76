/* hss-sim Cx handlers (TS 29.228 §6) driven directly on an in-memory
 * store: result codes, AKA vectors checked with a simulated USIM, SQN
 * resynchronisation, SIP Digest HA1, registration state across SAR types,
 * LIR answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "auth/milenage.h"
#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"
#include "context.h"
#include "cx-handler.h"
#include "dia/cx-dict.h"
#include "hss-store.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define IMPI1 "001010000000001@" REALM
#define IMPU1 "sip:001010000000001@" REALM
#define TEL1 "tel:+15550000001"
#define IMPI2 "001010000000002@" REALM
#define IMPU2 "sip:001010000000002@" REALM
#define SCSCF "sip:scscf." REALM ":6060"

typedef struct fx {
	hss_ctx_t *ctx;
	ims_arena_t *a;
	uint8_t k[16], opc[16];
} fx_t;

static hss_sub_t *make_sub(const char *impi, const char *impu, const char *tel, const char *pw)
{
	hss_sub_t *s = hss_sub_new();
	assert_non_null(s);
	s->impi = impi;
	s->impus = ims_arena_zalloc(s->arena, 2 * sizeof(*s->impus));
	s->impus[0].uri = impu;
	s->impus[1].uri = tel;
	s->n_impus = tel ? 2 : 1;
	/* TS 35.208 test set 1 (SPEC.md demo keys) */
	assert_int_equal(ims_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", 32, s->k, 16), 0);
	uint8_t op[16];
	assert_int_equal(ims_hex_decode("cdc202d5123e20f62b6d676ac72cb318", 32, op, 16), 0);
	assert_int_equal(milenage_opc(s->k, op, s->opc), 0);
	s->amf[0] = 0x80;
	s->password = pw;
	return s;
}

static int setup(void **state)
{
	fx_t *fx = calloc(1, sizeof *fx);
	fx->ctx = hss_ctx_new();
	assert_non_null(fx->ctx);
	assert_int_equal(hss_store_open(":memory:", &fx->ctx->store), 0);
	assert_int_equal(hss_cx_init(fx->ctx), 0);
	hss_sub_t *s = make_sub(IMPI1, IMPU1, TEL1, "secret");
	memcpy(fx->k, s->k, 16);
	memcpy(fx->opc, s->opc, 16);
	assert_int_equal(hss_store_create(fx->ctx->store, s), 0);
	hss_sub_free(s);
	s = make_sub(IMPI2, IMPU2, NULL, NULL);
	assert_int_equal(hss_store_create(fx->ctx->store, s), 0);
	hss_sub_free(s);
	fx->a = ims_arena_create(4096);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fx_t *fx = *state;
	fx->ctx->cx_stop(fx->ctx);
	hss_ctx_destroy(fx->ctx);
	ims_arena_destroy(fx->a);
	free(fx);
	return 0;
}

static cx_req_t req_for(uint32_t cmd, const char *impi, const char *impu)
{
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = cmd;
	r.origin_host = IMS_STR("scscf." REALM);
	r.user_name = ims_str_cstr(impi);
	if (impu) {
		r.impu[0] = ims_str_cstr(impu);
		r.n_impu = 1;
	}
	r.server_name = IMS_STR(SCSCF);
	return r;
}

static cx_answer_t run(void (*h)(void *, const cx_req_t *, cx_answer_t *, ims_arena_t *), fx_t *fx,
		       const cx_req_t *r)
{
	cx_answer_t ans;
	memset(&ans, 0, sizeof ans);
	h(fx->ctx, r, &ans, fx->a);
	return ans;
}

static void test_uar_codes(void **state)
{
	fx_t *fx = *state;
	cx_req_t r = req_for(CX_CMD_UAR, "nobody@" REALM, "sip:nobody@" REALM);
	cx_answer_t a = run(hss_cx_uar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_USER_UNKNOWN);

	r = req_for(CX_CMD_UAR, IMPI1, IMPU2);
	a = run(hss_cx_uar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_IDENTITIES_DONT_MATCH);

	r = req_for(CX_CMD_UAR, IMPI1, TEL1);
	a = run(hss_cx_uar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_FIRST_REGISTRATION);
	assert_int_equal(a.exp_vendor_id, CX_VENDOR_3GPP);
	assert_true(a.has_caps);
	assert_int_equal(a.server_name.len, 0);

	/* de-registration of a user nobody serves */
	r.has_auth_type = 1;
	r.auth_type = CX_UAT_DE_REGISTRATION;
	a = run(hss_cx_uar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED);
}

static void test_mar_aka_vectors_verify_on_usim(void **state)
{
	fx_t *fx = *state;
	cx_req_t r = req_for(CX_CMD_MAR, IMPI1, IMPU1);
	r.auth_scheme = IMS_STR("Digest-AKAv1-MD5");
	r.n_auth_items = 9; /* capped */
	cx_answer_t a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_int_equal(a.n_items, HSS_CX_MAX_VECTORS);
	assert_int_equal(a.n_auth_items, HSS_CX_MAX_VECTORS);
	uint64_t prev = 0;
	for (unsigned i = 0; i < a.n_items; i++) {
		const cx_auth_item_t *it = &a.items[i];
		uint8_t res[8], ck[16], ik[16], sqn[6];
		assert_int_equal(it->item_number, i + 1);
		assert_true(ims_str_eq_c(it->scheme, "Digest-AKAv1-MD5"));
		assert_int_equal(it->authenticate.len, 32);
		assert_int_equal(aka_ue_answer(fx->k, fx->opc, (const uint8_t *)it->authenticate.s,
					       (const uint8_t *)it->authenticate.s + 16, res, ck, ik,
					       sqn),
				 0);
		assert_int_equal(it->authorization.len, 8);
		assert_memory_equal(res, it->authorization.s, 8);
		assert_memory_equal(ck, it->ck.s, 16);
		assert_memory_equal(ik, it->ik.s, 16);
		uint64_t v = aka_sqn_get(sqn);
		if (i)
			assert_int_equal(v, prev + 1);
		prev = v;
	}
	/* MAR stored the S-CSCF name (TS 29.228 §6.3.1) */
	hss_reg_state_t st;
	char name[256];
	assert_int_equal(hss_store_get_reg(fx->ctx->store, IMPI1, &st, name, sizeof name), 0);
	assert_int_equal(st, HSS_REG_NOT_REGISTERED);
	assert_string_equal(name, SCSCF);
	/* then UAR names it while not registered yet */
	cx_req_t u = req_for(CX_CMD_UAR, IMPI1, IMPU1);
	a = run(hss_cx_uar, fx, &u);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_FIRST_REGISTRATION);
	assert_true(ims_str_eq_c(a.server_name, SCSCF));
}

static void test_mar_resync_follows_sqn_ms(void **state)
{
	fx_t *fx = *state;
	cx_req_t r = req_for(CX_CMD_MAR, IMPI1, IMPU1);
	r.auth_scheme = IMS_STR("Digest-AKAv1-MD5");
	r.n_auth_items = 1;
	cx_answer_t a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.n_items, 1);
	/* The USIM is ahead: SQN_MS = 5000 */
	uint8_t buf[30], sqn_ms[6];
	memcpy(buf, a.items[0].authenticate.s, 16);
	aka_sqn_put(5000, sqn_ms);
	assert_int_equal(aka_auts_make(fx->k, fx->opc, buf, sqn_ms, buf + 16), 0);
	r.auth_authorization = ims_str_from((const char *)buf, 30);
	a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	uint8_t res[8], ck[16], ik[16], sqn[6];
	assert_int_equal(aka_ue_answer(fx->k, fx->opc, (const uint8_t *)a.items[0].authenticate.s,
				       (const uint8_t *)a.items[0].authenticate.s + 16, res, ck, ik, sqn),
			 0);
	assert_int_equal(aka_sqn_get(sqn), 5001);

	/* A malformed RAND||AUTS is an invalid AVP value */
	r.auth_authorization = ims_str_from((const char *)buf, 20);
	a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_INVALID_AVP_VALUE);
	assert_int_equal(a.failed_avp_code, 610);
}

static void test_mar_schemes(void **state)
{
	fx_t *fx = *state;
	cx_req_t r = req_for(CX_CMD_MAR, IMPI1, IMPU1);
	r.auth_scheme = IMS_STR("NTLM");
	cx_answer_t a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED);

	/* SIP Digest: HA1 = MD5(impi:realm:password) */
	r.auth_scheme = IMS_STR("SIP Digest");
	a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_int_equal(a.n_items, 1);
	assert_true(a.items[0].has_digest);
	char ha1[33];
	digest_ha1(IMS_STR(IMPI1), IMS_STR(REALM), (const uint8_t *)"secret", 6, ha1);
	assert_true(ims_str_eq_c(a.items[0].digest_ha1, ha1));
	assert_true(ims_str_eq_c(a.items[0].digest_realm, REALM));
	assert_true(ims_str_eq_c(a.items[0].digest_qop, "auth"));

	/* Digest-MD5 (Kamailio ims_auth's default, the FOKUS HSS's scheme): a
	 * 16-byte nonce and the password, no HA1 */
	r.auth_scheme = IMS_STR("Digest-MD5");
	a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_int_equal(a.n_items, 1);
	assert_false(a.items[0].has_digest);
	assert_true(ims_str_eq_c(a.items[0].scheme, "Digest-MD5"));
	assert_int_equal(a.items[0].authenticate.len, 16);
	assert_true(ims_str_eq_c(a.items[0].authorization, "secret"));
	cx_answer_t b = run(hss_cx_mar, fx, &r);
	assert_int_equal(b.items[0].authenticate.len, 16);
	assert_memory_not_equal(a.items[0].authenticate.s, b.items[0].authenticate.s, 16);

	/* a subscriber without a password cannot use Digest */
	r = req_for(CX_CMD_MAR, IMPI2, IMPU2);
	r.auth_scheme = IMS_STR("Digest-MD5");
	a = run(hss_cx_mar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
}

static void test_sar_registration_cycle(void **state)
{
	fx_t *fx = *state;
	cx_req_t r = req_for(CX_CMD_SAR, IMPI1, IMPU1);
	r.has_sat = 1;
	r.sat = CX_SAT_REGISTRATION;
	cx_answer_t a = run(hss_cx_sar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_true(a.user_data.len > 0);
	assert_non_null(strstr(a.user_data.s, "<IMSSubscription"));
	assert_non_null(strstr(a.user_data.s, IMPU1));
	assert_non_null(strstr(a.user_data.s, TEL1));
	assert_true(ims_str_eq_c(a.user_name, IMPI1));

	hss_reg_state_t st;
	char name[256];
	assert_int_equal(hss_store_get_reg(fx->ctx->store, IMPI1, &st, name, sizeof name), 0);
	assert_int_equal(st, HSS_REG_REGISTERED);
	assert_string_equal(name, SCSCF);
	/* the Diameter host of the SAR is what RTR will be sent to */
	char host[256];
	assert_int_equal(hss_cx_scscf_host(fx->ctx, IMPI1, name, host, sizeof host), 0);
	assert_string_equal(host, "scscf." REALM);
	/* re-registrations by the same S-CSCF: the profile each time, and no
	 * write, as nothing changes */
	hss_store_cache_stats_t c0, c1;
	hss_store_cache_stats(fx->ctx->store, &c0);
	cx_req_t re = r;
	re.sat = CX_SAT_RE_REGISTRATION;
	for (int i = 0; i < 2; i++) {
		a = run(hss_cx_sar, fx, i ? &re : &r);
		assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
		assert_non_null(strstr(a.user_data.s, "<IMSSubscription"));
	}
	hss_store_cache_stats(fx->ctx->store, &c1);
	assert_int_equal(c1.writes, c0.writes);
	assert_int_equal(hss_store_get_reg(fx->ctx->store, IMPI1, &st, name, sizeof name), 0);
	assert_int_equal(st, HSS_REG_REGISTERED);

	cx_req_t u = req_for(CX_CMD_UAR, IMPI1, TEL1);
	a = run(hss_cx_uar, fx, &u);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_SUBSEQUENT_REGISTRATION);
	assert_true(ims_str_eq_c(a.server_name, SCSCF));

	/* the I-CSCF asks for capabilities (the S-CSCF did not answer) */
	u.has_auth_type = 1;
	u.auth_type = CX_UAT_REGISTRATION_AND_CAPABILITIES;
	a = run(hss_cx_uar, fx, &u);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_SUBSEQUENT_REGISTRATION);
	assert_true(a.has_caps);
	/* a de-registration goes to the serving S-CSCF */
	u.auth_type = CX_UAT_DE_REGISTRATION;
	a = run(hss_cx_uar, fx, &u);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_true(ims_str_eq_c(a.server_name, SCSCF));

	cx_req_t l = req_for(CX_CMD_LIR, "", TEL1);
	a = run(hss_cx_lir, fx, &l);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_true(ims_str_eq_c(a.server_name, SCSCF));

	/* another S-CSCF may not take over with SAR (TS 29.228 §8.1) */
	cx_req_t other = r;
	other.server_name = IMS_STR("sip:other." REALM);
	a = run(hss_cx_sar, fx, &other);
	assert_int_equal(a.result_code, CX_DIAMETER_UNABLE_TO_COMPLY);

	/* NO_ASSIGNMENT from the serving S-CSCF: the profile, no change */
	r.sat = CX_SAT_NO_ASSIGNMENT;
	a = run(hss_cx_sar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_true(a.user_data.len > 0);

	r.sat = CX_SAT_USER_DEREGISTRATION;
	a = run(hss_cx_sar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_int_equal(a.user_data.len, 0);
	assert_int_equal(hss_store_get_reg(fx->ctx->store, IMPI1, &st, name, sizeof name), 0);
	assert_int_equal(st, HSS_REG_NOT_REGISTERED);
	assert_string_equal(name, "");

	a = run(hss_cx_lir, fx, &l);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED);
	/* originating on behalf of the unregistered user: capabilities */
	l.has_originating = 1;
	a = run(hss_cx_lir, fx, &l);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_UNREGISTERED_SERVICE);
	assert_true(a.has_caps);
	l.has_originating = 0;

	/* the host falls back to the S-CSCF URI's host part */
	assert_int_equal(hss_cx_scscf_host(fx->ctx, IMPI1, "sip:scscf2." REALM ":6060;lr", host,
					   sizeof host),
			 0);
	assert_string_equal(host, "scscf2." REALM);
	assert_int_equal(hss_cx_scscf_host(fx->ctx, IMPI1, "", host, sizeof host), IMS_ENOENT);
}

static void test_sar_unregistered_and_store_name(void **state)
{
	fx_t *fx = *state;
	cx_req_t r = req_for(CX_CMD_SAR, "", IMPU2);
	r.user_name = IMS_STR_NULL; /* terminating call to an unregistered user */
	r.has_sat = 1;
	r.sat = CX_SAT_UNREGISTERED_USER;
	cx_answer_t a = run(hss_cx_sar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_true(a.user_data.len > 0);
	hss_reg_state_t st;
	char name[256];
	assert_int_equal(hss_store_get_reg(fx->ctx->store, IMPI2, &st, name, sizeof name), 0);
	assert_int_equal(st, HSS_REG_UNREGISTERED);

	cx_req_t l = req_for(CX_CMD_LIR, "", IMPU2);
	a = run(hss_cx_lir, fx, &l);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_UNREGISTERED_SERVICE);
	assert_true(ims_str_eq_c(a.server_name, SCSCF));

	r.sat = CX_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME;
	a = run(hss_cx_sar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_int_equal(hss_store_get_reg(fx->ctx->store, IMPI2, &st, name, sizeof name), 0);
	assert_int_equal(st, HSS_REG_NOT_REGISTERED); /* no iFCs: no unregistered services */
	assert_string_equal(name, SCSCF);

	r.sat = CX_SAT_AUTHENTICATION_FAILURE;
	a = run(hss_cx_sar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_SUCCESS);
	assert_int_equal(hss_store_get_reg(fx->ctx->store, IMPI2, &st, name, sizeof name), 0);
	assert_string_equal(name, "");

	r.sat = CX_SAT_PGW_UPDATE;
	a = run(hss_cx_sar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_IN_ASSIGNMENT_TYPE);

	cx_req_t u = req_for(CX_CMD_SAR, "nobody@" REALM, NULL);
	u.has_sat = 1;
	u.sat = CX_SAT_REGISTRATION;
	a = run(hss_cx_sar, fx, &u);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_USER_UNKNOWN);

	cx_req_t lu = req_for(CX_CMD_LIR, "", "sip:nobody@" REALM);
	a = run(hss_cx_lir, fx, &lu);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_ERROR_USER_UNKNOWN);
}

/* TS 29.228 §6.1.1.1: a barred identity may not register unless another
 * identity of its implicit set is not barred; emergency registrations
 * (UAR-Flags bit 0) are not subject to barring. */
static void test_uar_barring(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *s = make_sub("barred@" REALM, "sip:barred@" REALM, "tel:+15559999999", NULL);
	s->impus[0].barred = 1;
	assert_int_equal(hss_store_create(fx->ctx->store, s), 0);
	cx_req_t r = req_for(CX_CMD_UAR, "barred@" REALM, "sip:barred@" REALM);
	cx_answer_t a = run(hss_cx_uar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_FIRST_REGISTRATION);
	s->impus[1].barred = 1;
	assert_int_equal(hss_store_replace(fx->ctx->store, s), 0);
	a = run(hss_cx_uar, fx, &r);
	assert_int_equal(a.result_code, CX_DIAMETER_AUTHORIZATION_REJECTED);
	assert_int_equal(a.exp_result_code, 0);
	r.has_uar_flags = 1;
	r.uar_flags = CX_UAR_FLAG_EMERGENCY_REGISTRATION;
	a = run(hss_cx_uar, fx, &r);
	assert_int_equal(a.exp_result_code, CX_DIAMETER_FIRST_REGISTRATION);
	hss_sub_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uar_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uar_barring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mar_aka_vectors_verify_on_usim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mar_resync_follows_sqn_ms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mar_schemes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sar_registration_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sar_unregistered_and_store_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
