/* Digest arithmetic (RFC 2617, RFC 2069, RFC 3310) and the hex/base64
 * helpers it is used with. Expected values for the non-RFC cases were
 * computed independently with md5sum(1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "base/ims_b64.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"

#define S(lit) IMS_STR(lit)
static const char nonce2617[] = "dcd98b7102dd2f0e8b11d0f600bfb0c093";

static void mufasa_ha1(char ha1[33])
{
	static const char pw[] = "Circle Of Life";
	digest_ha1(S("Mufasa"), S("testrealm@host.com"), (const uint8_t *)pw, strlen(pw), ha1);
}

static void test_digest_rfc2617_example(void **state)
{
	(void)state;
	char ha1[33], resp[33];
	mufasa_ha1(ha1);
	assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
	/* RFC 2617 §3.5 */
	digest_response(ha1, S("GET"), S("/dir/index.html"), ims_str_cstr(nonce2617), S("00000001"),
			S("0a4f113b"), S("auth"), NULL, resp);
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
}

static void test_digest_qop_absent_rfc2069(void **state)
{
	(void)state;
	char ha1[33], resp[33];
	mufasa_ha1(ha1);
	/* nc and cnonce are ignored without qop */
	digest_response(ha1, S("GET"), S("/dir/index.html"), ims_str_cstr(nonce2617), S("00000001"),
			S("0a4f113b"), IMS_STR_NULL, NULL, resp);
	assert_string_equal(resp, "670fd8c2df070c60b045671b8b24ff02");
}

static void test_digest_qop_auth_int(void **state)
{
	(void)state;
	char ha1[33], resp[33], hbody[33];
	mufasa_ha1(ha1);
	/* an empty body: NULL and the explicit MD5("") agree */
	digest_response(ha1, S("GET"), S("/dir/index.html"), ims_str_cstr(nonce2617), S("00000001"),
			S("0a4f113b"), S("auth-int"), NULL, resp);
	assert_string_equal(resp, "5e6610ecf9ba3017a4870ad48e3ad30b");
	digest_md5_hex("", 0, hbody);
	assert_string_equal(hbody, "d41d8cd98f00b204e9800998ecf8427e");
	digest_response(ha1, S("GET"), S("/dir/index.html"), ims_str_cstr(nonce2617), S("00000001"),
			S("0a4f113b"), S("auth-int"), hbody, resp);
	assert_string_equal(resp, "5e6610ecf9ba3017a4870ad48e3ad30b");
	digest_md5_hex("hello body", 10, hbody);
	assert_string_equal(hbody, "ca3600eb668444890020c72bf0defaa1");
	digest_response(ha1, S("GET"), S("/dir/index.html"), ims_str_cstr(nonce2617), S("00000001"),
			S("0a4f113b"), S("auth-int"), hbody, resp);
	assert_string_equal(resp, "059afcd293fbb56240a8ba703617f703");
}

static void test_digest_akav1_md5_from_ts35208_set1(void **state)
{
	(void)state;
	/* RFC 3310 §3.4: the "password" is RES as raw bytes. RES, RAND and
	 * AUTN come from the TS 35.208 set 1 vector; nonce = base64(RAND || AUTN)
	 * (RFC 3310 §3.2). */
	uint8_t k[16], opc[16], rand[16], sqn[6], amf[2];
	assert_int_equal(ims_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", 32, k, 16), 0);
	assert_int_equal(ims_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", 32, opc, 16), 0);
	assert_int_equal(ims_hex_decode("23553cbe9637a89d218ae64dae47bf35", 32, rand, 16), 0);
	assert_int_equal(ims_hex_decode("ff9bb4d0b607", 12, sqn, 6), 0);
	assert_int_equal(ims_hex_decode("b9b9", 4, amf, 2), 0);
	aka_vector_t v;
	assert_int_equal(aka_vector_make(k, opc, amf, sqn, rand, &v), 0);
	uint8_t nb[32];
	memcpy(nb, v.rand, 16);
	memcpy(nb + 16, v.autn, 16);
	char nonce[IMS_B64_ENC_LEN(32) + 1];
	size_t nlen;
	assert_int_equal(ims_b64_encode(nb, 32, nonce, sizeof(nonce), &nlen), 0);
	assert_string_equal(nonce, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");

	ims_str_t user = S("001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
	ims_str_t realm = S("ims.mnc001.mcc001.3gppnetwork.org");
	char ha1[33], resp[33];
	digest_ha1(user, realm, v.xres, sizeof(v.xres), ha1);
	assert_string_equal(ha1, "da00069eb0de6587da7e09ef503c29db");
	digest_response(ha1, S("REGISTER"), S("sip:ims.mnc001.mcc001.3gppnetwork.org"),
			ims_str_from(nonce, nlen), S("00000001"), S("0a4f113b"), S("auth"), NULL, resp);
	assert_string_equal(resp, "402ab8df9f3a4d63a9f47c2f90e02938");

	/* the nonce decodes back to RAND and AUTN */
	uint8_t back[32];
	size_t blen;
	assert_int_equal(ims_b64_decode(nonce, nlen, back, sizeof(back), &blen), 0);
	assert_int_equal(blen, 32);
	assert_memory_equal(back, nb, 32);
}

static void test_digest_eq_constant_time_compare(void **state)
{
	(void)state;
	assert_true(digest_eq("6629fae49393a05397450978507c4ef1", "6629fae49393a05397450978507c4ef1", 32));
	assert_true(digest_eq("6629FAE49393A05397450978507C4EF1", "6629fae49393a05397450978507c4ef1", 32));
	assert_false(digest_eq("6629fae49393a05397450978507c4ef0", "6629fae49393a05397450978507c4ef1", 32));
	assert_false(digest_eq("7629fae49393a05397450978507c4ef1", "6629fae49393a05397450978507c4ef1", 32));
	/* case folding only applies to letters: '@' (0x40) vs '`' (0x60) differ */
	assert_false(digest_eq("@", "`", 1));
	assert_true(digest_eq("", "", 0));
}

static void test_hex_roundtrip_and_strict_decode(void **state)
{
	(void)state;
	uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4];
	char txt[9];
	assert_string_equal(ims_hex_encode(in, 4, txt), "00ab7fff");
	assert_int_equal(ims_hex_decode("00AB7fff", 8, out, 4), 0);
	assert_memory_equal(in, out, 4);
	assert_int_equal(ims_hex_decode("00ab7ff", 7, out, 4), IMS_EINVAL);   /* short */
	assert_int_equal(ims_hex_decode("00ab7fff00", 10, out, 4), IMS_EINVAL); /* long */
	assert_int_equal(ims_hex_decode("00ab7fgf", 8, out, 4), IMS_EINVAL);  /* not hex */
	assert_int_equal(ims_hex_decode(" 0ab7fff", 8, out, 4), IMS_EINVAL);
	assert_int_equal(ims_hex_decode(NULL, 0, out, 0), IMS_EINVAL);
	assert_int_equal(ims_hex_decode("", 0, out, 0), 0);
}

static void test_b64_rfc4648_vectors(void **state)
{
	(void)state;
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (int i = 0; i < 7; i++) {
		char out[16];
		size_t n;
		assert_int_equal(ims_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), out,
						sizeof(out), &n), 0);
		assert_string_equal(out, enc[i]);
		assert_int_equal(n, strlen(enc[i]));
		uint8_t dec[16];
		assert_int_equal(ims_b64_decode(enc[i], strlen(enc[i]), dec, sizeof(dec), &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(dec, plain[i], n);
	}
}

static void test_b64_strict_decode_errors(void **state)
{
	(void)state;
	static const char *bad[] = { "Zg=", "Zh==", "Zm9=", "Z===", "====", "Zm9v\n", "Zg==Zg==",
				     "Zm 9", "Zm9v!A==", "Zg=a" };
	uint8_t out[16];
	size_t n;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ims_b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n), IMS_EINVAL);
	assert_int_equal(ims_b64_decode("Zm9vYmFy", 8, out, 5, &n), IMS_ENOSPC);
	char small[8];
	assert_int_equal(ims_b64_encode((const uint8_t *)"foobar", 6, small, 8, &n), IMS_ENOSPC);
	char fit[9];
	assert_int_equal(ims_b64_encode((const uint8_t *)"foobar", 6, fit, 9, NULL), 0);
}

static void test_b64_random_roundtrip(void **state)
{
	(void)state;
	uint8_t in[100], out[100];
	char enc[IMS_B64_ENC_LEN(100) + 1];
	for (size_t n = 0; n <= sizeof(in); n++) {
		assert_int_equal(aka_random(in, n), 0);
		size_t el, dl;
		assert_int_equal(ims_b64_encode(in, n, enc, sizeof(enc), &el), 0);
		assert_int_equal(el, IMS_B64_ENC_LEN(n));
		assert_int_equal(ims_b64_decode(enc, el, out, sizeof(out), &dl), 0);
		assert_int_equal(dl, n);
		assert_memory_equal(in, out, n);
		assert_true(IMS_B64_DEC_MAX(el) >= n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_rfc2617_example),
		cmocka_unit_test(test_digest_qop_absent_rfc2069),
		cmocka_unit_test(test_digest_qop_auth_int),
		cmocka_unit_test(test_digest_akav1_md5_from_ts35208_set1),
		cmocka_unit_test(test_digest_eq_constant_time_compare),
		cmocka_unit_test(test_hex_roundtrip_and_strict_decode),
		cmocka_unit_test(test_b64_rfc4648_vectors),
		cmocka_unit_test(test_b64_strict_decode_errors),
		cmocka_unit_test(test_b64_random_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
