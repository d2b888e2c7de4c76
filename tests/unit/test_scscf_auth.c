/* S-CSCF challenges and response checks: RFC 2617 §3.5 digest example,
 * AKAv1-MD5 (RFC 3310 §3.4) with the TS 35.208 set 1 vector, replayed nc,
 * stale nonces, AUTS, and the challenge text for the P-CSCF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth-nonce.h"
#include "auth/aka.h"
#include "auth/digest.h"
#include "auth/milenage.h"
#include "base/ims_b64.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define IMPI "001010000000001@" REALM
#define IMPU "sip:001010000000001@" REALM
#define URI "sip:" REALM

static void hexf(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(ims_hex_decode(s, strlen(s), out, n), 0);
}

/* TS 35.208 §4.3 test set 1 */
static void set1_vector(scscf_auth_vec_t *v, uint8_t k[16], uint8_t opc[16])
{
	uint8_t op[16], rand[16], sqn[6], amf[2];
	aka_vector_t av;
	hexf("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
	hexf("cdc202d5123e20f62b6d676ac72cb318", op, 16);
	hexf("23553cbe9637a89d218ae64dae47bf35", rand, 16);
	hexf("ff9bb4d0b607", sqn, 6);
	hexf("b9b9", amf, 2);
	assert_int_equal(milenage_opc(k, op, opc), 0);
	assert_int_equal(aka_vector_make(k, opc, amf, sqn, rand, &av), 0);
	memset(v, 0, sizeof(*v));
	v->scheme = SCSCF_AUTH_AKA;
	memcpy(v->rand, av.rand, 16);
	memcpy(v->autn, av.autn, 16);
	memcpy(v->xres, av.xres, 8);
	v->xres_len = 8;
	memcpy(v->ck, av.ck, 16);
	memcpy(v->ik, av.ik, 16);
	v->has_ck_ik = 1;
}

/* The UE side: credentials a USIM-holding UE sends for this nonce. */
static void ue_credentials(const uint8_t k[16], const uint8_t opc[16], const char *nonce,
			   const char *opaque, const char *nc, sip_auth_t *cred, char resp[33],
			   uint8_t res_out[8])
{
	uint8_t raw[32], res[8], ck[16], ik[16];
	size_t n;
	char ha1[33];
	assert_int_equal(ims_b64_decode(nonce, strlen(nonce), raw, sizeof(raw), &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(aka_ue_answer(k, opc, raw, raw + 16, res, ck, ik, NULL), 0);
	if (res_out)
		memcpy(res_out, res, 8);
	digest_ha1(IMS_STR(IMPI), IMS_STR(REALM), res, 8, ha1);
	digest_response(ha1, IMS_STR("REGISTER"), IMS_STR(URI), ims_str_cstr(nonce),
			ims_str_cstr(nc), IMS_STR("0a4f113b"), IMS_STR("auth"), NULL, resp);
	memset(cred, 0, sizeof(*cred));
	cred->scheme = IMS_STR("Digest");
	cred->username = IMS_STR(IMPI);
	cred->realm = IMS_STR(REALM);
	cred->nonce = ims_str_cstr(nonce);
	cred->uri = IMS_STR(URI);
	cred->response = ims_str_cstr(resp);
	cred->algorithm = IMS_STR("AKAv1-MD5");
	cred->cnonce = IMS_STR("0a4f113b");
	cred->opaque = ims_str_cstr(opaque);
	cred->qop = IMS_STR("auth");
	cred->nc = ims_str_cstr(nc);
}

/* RFC 2617 §3.5: the "Mufasa" example, through our HA1-based path. */
static void test_digest_rfc2617_example(void **state)
{
	(void)state;
	scscf_auth_vec_t v = { .scheme = SCSCF_AUTH_MD5 };
	char out[33];
	digest_ha1(IMS_STR("Mufasa"), IMS_STR("testrealm@host.com"),
		   (const uint8_t *)"Circle Of Life", 14, v.ha1);
	assert_string_equal(v.ha1, "939e7578ed9e3c518a452acee763bce9");
	scscf_auth_expected(&v, IMS_STR("Mufasa"), IMS_STR("testrealm@host.com"), IMS_STR("GET"),
			    IMS_STR("/dir/index.html"), IMS_STR("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
			    IMS_STR("00000001"), IMS_STR("0a4f113b"), IMS_STR("auth"), out);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
}

static void test_aka_set1_xres_is_ts35208_res(void **state)
{
	(void)state;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16], want[8];
	set1_vector(&v, k, opc);
	hexf("a54211d5e3ba50bf", want, 8); /* TS 35.208 set 1 f2 (RES) */
	assert_memory_equal(v.xres, want, 8);
}

static void test_aka_response_accepted_then_nc_replay_refused(void **state)
{
	(void)state;
	scscf_auth_table_t *t;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16], raw[32], res[8];
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], resp[33], resp2[33];
	size_t n;
	sip_auth_t cred;
	scscf_auth_result_t r;

	set1_vector(&v, k, opc);
	assert_int_equal(scscf_auth_table_create(30, &t), 0);
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 1000, nonce, opaque), 0);
	/* TS 24.229 §5.4.1.2.1: nonce = base64(RAND || AUTN) */
	assert_int_equal(ims_b64_decode(nonce, strlen(nonce), raw, sizeof(raw), &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(raw, v.rand, 16);
	assert_memory_equal(raw + 16, v.autn, 16);

	ue_credentials(k, opc, nonce, opaque, "00000001", &cred, resp, res);
	assert_memory_equal(res, v.xres, 8);
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1005, &r), 0);
	assert_int_equal(r.nc, 1);
	assert_int_equal(r.scheme, SCSCF_AUTH_AKA);
	/* the same nc again is a replay: refused and the nonce burnt */
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1006, &r), IMS_EAUTH);
	ue_credentials(k, opc, nonce, opaque, "00000002", &cred, resp2, NULL);
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1007, &r), IMS_ENOENT);
	assert_int_equal(scscf_auth_table_count(t), 0);
	scscf_auth_table_destroy(t);
}

static void test_aka_higher_nc_reuses_nonce(void **state)
{
	(void)state;
	scscf_auth_table_t *t;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16];
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], resp[33];
	sip_auth_t cred;
	set1_vector(&v, k, opc);
	assert_int_equal(scscf_auth_table_create(30, &t), 0);
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque), 0);
	ue_credentials(k, opc, nonce, opaque, "00000001", &cred, resp, NULL);
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, NULL), 0);
	ue_credentials(k, opc, nonce, opaque, "00000002", &cred, resp, NULL);
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 2, NULL), 0);
	scscf_auth_table_destroy(t);
}

static void test_wrong_response_user_realm_refused(void **state)
{
	(void)state;
	scscf_auth_table_t *t;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16];
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], resp[33];
	sip_auth_t cred;
	set1_vector(&v, k, opc);
	assert_int_equal(scscf_auth_table_create(30, &t), 0);

	/* a flipped digit */
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque), 0);
	ue_credentials(k, opc, nonce, opaque, "00000001", &cred, resp, NULL);
	resp[0] = resp[0] == 'a' ? 'b' : 'a';
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, NULL), IMS_EAUTH);

	/* another user's name with a correct answer for ours */
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque),
			 0);
	ue_credentials(k, opc, nonce, opaque, "00000001", &cred, resp, NULL);
	cred.username = IMS_STR("001010000000002@" REALM);
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"),
						IMS_STR("001010000000002@" REALM), IMS_STR(REALM), 1,
						NULL),
			 IMS_EAUTH);

	/* a wrong realm */
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque),
			 0);
	ue_credentials(k, opc, nonce, opaque, "00000001", &cred, resp, NULL);
	cred.realm = IMS_STR("example.org");
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, NULL), IMS_EAUTH);

	/* qop without cnonce */
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque),
			 0);
	ue_credentials(k, opc, nonce, opaque, "00000001", &cred, resp, NULL);
	cred.cnonce = IMS_STR("");
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, NULL), IMS_EAUTH);
	assert_int_equal(scscf_auth_table_count(t), 0);
	scscf_auth_table_destroy(t);
}

static void test_expired_nonce_is_stale(void **state)
{
	(void)state;
	scscf_auth_table_t *t;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16];
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], resp[33];
	sip_auth_t cred;
	set1_vector(&v, k, opc);
	assert_int_equal(scscf_auth_table_create(30, &t), 0);
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 100, nonce, opaque), 0);
	ue_credentials(k, opc, nonce, opaque, "00000001", &cred, resp, NULL);
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 130, NULL), IMS_ETIMEDOUT);
	scscf_auth_table_destroy(t);
}

static void test_auts_gives_rand_for_resync(void **state)
{
	(void)state;
	scscf_auth_table_t *t;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16], sqn_ms[6], auts[14], back[6];
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], auts64[32];
	sip_auth_t cred;
	scscf_auth_result_t r;
	set1_vector(&v, k, opc);
	assert_int_equal(scscf_auth_table_create(30, &t), 0);
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque), 0);
	hexf("000000001234", sqn_ms, 6);
	assert_int_equal(aka_auts_make(k, opc, v.rand, sqn_ms, auts), 0);
	assert_int_equal(ims_b64_encode(auts, 14, auts64, sizeof(auts64), NULL), 0);
	memset(&cred, 0, sizeof(cred));
	cred.username = IMS_STR(IMPI);
	cred.realm = IMS_STR(REALM);
	cred.nonce = ims_str_cstr(nonce);
	cred.uri = IMS_STR(URI);
	cred.response = IMS_STR("");
	cred.auts = ims_str_cstr(auts64);
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, &r), IMS_EAGAIN);
	assert_true(r.has_auts);
	assert_memory_equal(r.rand, v.rand, 16);
	assert_memory_equal(r.auts, auts, 14);
	/* what the HSS will do with RAND || AUTS */
	assert_int_equal(aka_auts_check(k, opc, r.rand, r.auts, back), 0);
	assert_memory_equal(back, sqn_ms, 6);
	/* the challenge is used up */
	assert_int_equal(scscf_auth_table_count(t), 0);

	/* a broken auts */
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque), 0);
	cred.nonce = ims_str_cstr(nonce);
	cred.auts = IMS_STR("not*base64");
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, &r), IMS_EPARSE);
	scscf_auth_table_destroy(t);
}

static void test_md5_with_hss_ha1(void **state)
{
	(void)state;
	scscf_auth_table_t *t;
	scscf_auth_vec_t v = { .scheme = SCSCF_AUTH_MD5 };
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], resp[33], ha1[33];
	sip_auth_t cred;
	digest_ha1(IMS_STR(IMPI), IMS_STR(REALM), (const uint8_t *)"secret", 6, v.ha1);
	assert_int_equal(scscf_auth_table_create(30, &t), 0);
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 0, nonce, opaque), 0);
	assert_true(strlen(nonce) >= 32); /* 24 random bytes */
	digest_ha1(IMS_STR(IMPI), IMS_STR(REALM), (const uint8_t *)"secret", 6, ha1);
	digest_response(ha1, IMS_STR("REGISTER"), IMS_STR(URI), ims_str_cstr(nonce),
			IMS_STR("00000001"), IMS_STR("abcdef"), IMS_STR("auth"), NULL, resp);
	memset(&cred, 0, sizeof(cred));
	cred.username = IMS_STR(IMPI);
	cred.realm = IMS_STR(REALM);
	cred.nonce = ims_str_cstr(nonce);
	cred.uri = IMS_STR(URI);
	cred.response = ims_str_cstr(resp);
	cred.algorithm = IMS_STR("MD5");
	cred.cnonce = IMS_STR("abcdef");
	cred.qop = IMS_STR("auth");
	cred.nc = IMS_STR("00000001");
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, NULL), 0);
	/* an AKA algorithm against an MD5 challenge is refused */
	cred.nc = IMS_STR("00000002");
	cred.algorithm = IMS_STR("AKAv1-MD5");
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 1, NULL), IMS_EAUTH);
	scscf_auth_table_destroy(t);
}

static void test_challenge_text_carries_ck_ik(void **state)
{
	(void)state;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16];
	char buf[512], ck[33], ik[33], want[64];
	set1_vector(&v, k, opc);
	assert_true(scscf_auth_challenge_render(&v, IMS_STR(REALM), "Tk9OQ0U=", "0123", 1, buf,
						sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "Digest realm=\"" REALM "\""));
	assert_non_null(strstr(buf, "nonce=\"Tk9OQ0U=\""));
	assert_non_null(strstr(buf, "algorithm=AKAv1-MD5"));
	assert_non_null(strstr(buf, "qop=\"auth\""));
	assert_non_null(strstr(buf, "stale=true"));
	ims_hex_encode(v.ck, 16, ck);
	ims_hex_encode(v.ik, 16, ik);
	/* TS 35.208 set 1 f3/f4 */
	assert_string_equal(ck, "b40ba9a3c58b2a05bbf0d987b21bf8cb");
	assert_string_equal(ik, "f769bcd751044604127672711c6d3441");
	snprintf(want, sizeof(want), "ck=\"%s\"", ck);
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "ik=\"%s\"", ik);
	assert_non_null(strstr(buf, want));
	/* too small a buffer */
	assert_int_equal(scscf_auth_challenge_render(&v, IMS_STR(REALM), "x", "y", 0, buf, 20),
			 IMS_ENOSPC);
}

static int swept;
static void on_sweep(void *arg, const char *impi, const char *impu)
{
	(void)arg;
	assert_string_equal(impi, IMPI);
	assert_string_equal(impu, IMPU);
	swept++;
}

/* TS 24.229 §5.4.1.2.1 reg-await-auth: unanswered challenges reported once;
 * answered ones never. */
static void test_sweep_reports_unanswered_once(void **state)
{
	(void)state;
	scscf_auth_table_t *t;
	scscf_auth_vec_t v;
	uint8_t k[16], opc[16];
	char nonce[SCSCF_NONCE_MAX], opaque[SCSCF_OPAQUE_LEN + 1], resp[33];
	sip_auth_t cred;
	set1_vector(&v, k, opc);
	assert_int_equal(scscf_auth_table_create(30, &t), 0);
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 100, nonce, opaque), 0);
	v.rand[0] ^= 1; /* a second, answered challenge */
	assert_int_equal(scscf_auth_table_add(t, IMS_STR(IMPI), IMS_STR(IMPU), &v, 100, nonce, opaque), 0);
	/* answered with XRES directly (the flipped RAND no longer matches AUTN
	 * for a USIM, which does not matter to the S-CSCF's check) */
	{
		char ha1[33];
		digest_ha1(IMS_STR(IMPI), IMS_STR(REALM), v.xres, 8, ha1);
		digest_response(ha1, IMS_STR("REGISTER"), IMS_STR(URI), ims_str_cstr(nonce),
				IMS_STR("00000001"), IMS_STR("0a4f113b"), IMS_STR("auth"), NULL, resp);
	}
	memset(&cred, 0, sizeof(cred));
	cred.username = IMS_STR(IMPI);
	cred.realm = IMS_STR(REALM);
	cred.nonce = ims_str_cstr(nonce);
	cred.uri = IMS_STR(URI);
	cred.response = ims_str_cstr(resp);
	cred.algorithm = IMS_STR("AKAv1-MD5");
	cred.cnonce = IMS_STR("0a4f113b");
	cred.qop = IMS_STR("auth");
	cred.nc = IMS_STR("00000001");
	assert_int_equal(scscf_auth_table_check(t, &cred, IMS_STR("REGISTER"), IMS_STR(IMPI),
						IMS_STR(REALM), 101, NULL), 0);
	swept = 0;
	assert_int_equal(scscf_auth_table_sweep(t, 120, on_sweep, NULL), 0);
	assert_int_equal(scscf_auth_table_sweep(t, 130, on_sweep, NULL), 1);
	assert_int_equal(swept, 1);
	assert_int_equal(scscf_auth_table_sweep(t, 140, on_sweep, NULL), 0);
	assert_int_equal(scscf_auth_table_count(t), 2); /* kept for stale=true */
	scscf_auth_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_rfc2617_example),
		cmocka_unit_test(test_aka_set1_xres_is_ts35208_res),
		cmocka_unit_test(test_aka_response_accepted_then_nc_replay_refused),
		cmocka_unit_test(test_aka_higher_nc_reuses_nonce),
		cmocka_unit_test(test_wrong_response_user_realm_refused),
		cmocka_unit_test(test_expired_nonce_is_stale),
		cmocka_unit_test(test_auts_gives_rand_for_resync),
		cmocka_unit_test(test_md5_with_hss_ha1),
		cmocka_unit_test(test_challenge_text_carries_ck_ik),
		cmocka_unit_test(test_sweep_reports_unanswered_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
