/* AKA vectors, the UE side and SQN resynchronisation (TS 33.102 §6.3),
 * on the TS 35.208 test set 1 values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth/aka.h"
#include "auth/milenage.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"

#define HEX(s, buf) assert_int_equal(ims_hex_decode((s), strlen(s), (buf), sizeof(buf)), 0)

typedef struct {
	uint8_t k[16], opc[16], rand[16], sqn[6], amf[2];
} keys_t;

static void set1(keys_t *t)
{
	HEX("465b5ce8b199b49faa5f0a2ee238a6bc", t->k);
	HEX("cd63cb71954a9f4e48a5994e37a02baf", t->opc);
	HEX("23553cbe9637a89d218ae64dae47bf35", t->rand);
	HEX("ff9bb4d0b607", t->sqn);
	HEX("b9b9", t->amf);
}

static void test_aka_vector_ts35208_set1(void **state)
{
	(void)state;
	keys_t t;
	set1(&t);
	aka_vector_t v;
	assert_int_equal(aka_vector_make(t.k, t.opc, t.amf, t.sqn, t.rand, &v), 0);
	/* AUTN = (SQN xor AK) || AMF || MAC-A with AK = aa689c648370 and
	 * MAC-A = 4a9ffac354dfafb3 from the test set */
	uint8_t autn[16], xres[8], ck[16], ik[16];
	HEX("55f328b43577b9b94a9ffac354dfafb3", autn);
	HEX("a54211d5e3ba50bf", xres);
	HEX("b40ba9a3c58b2a05bbf0d987b21bf8cb", ck);
	HEX("f769bcd751044604127672711c6d3441", ik);
	assert_memory_equal(v.autn, autn, 16);
	assert_memory_equal(v.xres, xres, 8);
	assert_memory_equal(v.ck, ck, 16);
	assert_memory_equal(v.ik, ik, 16);
	assert_memory_equal(v.rand, t.rand, 16);
	assert_memory_equal(v.sqn, t.sqn, 6);
}

static void test_aka_ue_answer_accepts_network_vector(void **state)
{
	(void)state;
	keys_t t;
	set1(&t);
	aka_vector_t v;
	assert_int_equal(aka_vector_make(t.k, t.opc, t.amf, t.sqn, t.rand, &v), 0);
	uint8_t res[8], ck[16], ik[16], sqn[6];
	assert_int_equal(aka_ue_answer(t.k, t.opc, v.rand, v.autn, res, ck, ik, sqn), 0);
	assert_memory_equal(res, v.xres, 8);
	assert_memory_equal(ck, v.ck, 16);
	assert_memory_equal(ik, v.ik, 16);
	assert_memory_equal(sqn, t.sqn, 6);
	assert_int_equal(aka_ue_answer(t.k, t.opc, v.rand, v.autn, res, ck, ik, NULL), 0);
}

static void test_aka_ue_answer_rejects_bad_mac(void **state)
{
	(void)state;
	keys_t t;
	set1(&t);
	aka_vector_t v;
	assert_int_equal(aka_vector_make(t.k, t.opc, t.amf, t.sqn, t.rand, &v), 0);
	uint8_t res[8], ck[16], ik[16];
	for (int byte = 0; byte < 16; byte++) {
		uint8_t autn[16];
		memcpy(autn, v.autn, 16);
		autn[byte] ^= 0x01; /* SQN, AMF or MAC: all are covered by MAC-A */
		assert_int_equal(aka_ue_answer(t.k, t.opc, v.rand, autn, res, ck, ik, NULL), IMS_EAUTH);
	}
	uint8_t other_k[16];
	memcpy(other_k, t.k, 16);
	other_k[0] ^= 0x80;
	assert_int_equal(aka_ue_answer(other_k, t.opc, v.rand, v.autn, res, ck, ik, NULL), IMS_EAUTH);
}

static void test_aka_auts_roundtrip(void **state)
{
	(void)state;
	keys_t t;
	set1(&t);
	uint8_t sqn_ms[6], auts[14], got[6];
	aka_sqn_put(0x00000000a7c1ULL, sqn_ms);
	assert_int_equal(aka_auts_make(t.k, t.opc, t.rand, sqn_ms, auts), 0);
	/* AUTS = SQN_MS xor AK* || MAC-S; AK* of set 1 is 451e8beca43b */
	uint8_t aks[6];
	HEX("451e8beca43b", aks);
	for (int i = 0; i < 6; i++)
		assert_int_equal(auts[i], sqn_ms[i] ^ aks[i]);
	/* MAC-S uses AMF* = 0000 (TS 33.102 §6.3.3) */
	static const uint8_t zero_amf[2] = { 0, 0 };
	uint8_t mac_s[8];
	assert_int_equal(milenage_f1(t.k, t.opc, t.rand, sqn_ms, zero_amf, NULL, mac_s), 0);
	assert_memory_equal(auts + 6, mac_s, 8);

	assert_int_equal(aka_auts_check(t.k, t.opc, t.rand, auts, got), 0);
	assert_memory_equal(got, sqn_ms, 6);
	assert_int_equal(aka_sqn_get(got), 0xa7c1ULL);
}

static void test_aka_auts_rejects_tampering(void **state)
{
	(void)state;
	keys_t t;
	set1(&t);
	uint8_t sqn_ms[6], auts[14], got[6];
	aka_sqn_put(42, sqn_ms);
	assert_int_equal(aka_auts_make(t.k, t.opc, t.rand, sqn_ms, auts), 0);
	for (int byte = 0; byte < 14; byte++) {
		uint8_t bad[14];
		memcpy(bad, auts, 14);
		bad[byte] ^= 0x10;
		assert_int_equal(aka_auts_check(t.k, t.opc, t.rand, bad, got), IMS_EAUTH);
	}
	/* the same AUTS against another RAND does not verify */
	uint8_t rand2[16];
	memcpy(rand2, t.rand, 16);
	rand2[15] ^= 1;
	assert_int_equal(aka_auts_check(t.k, t.opc, rand2, auts, got), IMS_EAUTH);
}

static void test_aka_resync_flow(void **state)
{
	(void)state;
	/* The HSS is behind the USIM: the UE answers with AUTS, the HSS
	 * recovers SQN_MS, and the next vector (SQN_MS + 1) is accepted. */
	keys_t t;
	set1(&t);
	uint8_t rand[16], sqn_hss[6], res[8], ck[16], ik[16], sqn_seen[6];
	assert_int_equal(aka_random(rand, sizeof(rand)), 0);
	aka_sqn_put(5, sqn_hss);
	aka_vector_t v;
	assert_int_equal(aka_vector_make(t.k, t.opc, t.amf, sqn_hss, rand, &v), 0);
	assert_int_equal(aka_ue_answer(t.k, t.opc, v.rand, v.autn, res, ck, ik, sqn_seen), 0);
	uint64_t usim_sqn = 1000;
	assert_true(aka_sqn_get(sqn_seen) <= usim_sqn); /* USIM: not fresh */
	uint8_t sqn_ms[6], auts[14], recovered[6];
	aka_sqn_put(usim_sqn, sqn_ms);
	assert_int_equal(aka_auts_make(t.k, t.opc, v.rand, sqn_ms, auts), 0);
	assert_int_equal(aka_auts_check(t.k, t.opc, v.rand, auts, recovered), 0);
	uint8_t next[6];
	aka_sqn_put(aka_sqn_get(recovered) + 1, next);
	assert_int_equal(aka_vector_make(t.k, t.opc, t.amf, next, rand, &v), 0);
	assert_int_equal(aka_ue_answer(t.k, t.opc, v.rand, v.autn, res, ck, ik, sqn_seen), 0);
	assert_int_equal(aka_sqn_get(sqn_seen), usim_sqn + 1);
}

static void test_aka_sqn_encoding(void **state)
{
	(void)state;
	uint8_t s[6];
	aka_sqn_put(0x0123456789abULL, s);
	uint8_t want[6] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };
	assert_memory_equal(s, want, 6);
	assert_int_equal(aka_sqn_get(s), 0x0123456789abULL);
	aka_sqn_put(0xffffffffffffULL, s);
	assert_int_equal(aka_sqn_get(s), 0xffffffffffffULL);
	/* bits above 48 are dropped */
	aka_sqn_put(0x1000000000001ULL, s);
	assert_int_equal(aka_sqn_get(s), 1);
}

static void test_aka_random_fills(void **state)
{
	(void)state;
	uint8_t a[16], b[16];
	memset(a, 0, 16);
	memset(b, 0, 16);
	assert_int_equal(aka_random(a, 16), 0);
	assert_int_equal(aka_random(b, 16), 0);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(aka_random(a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aka_vector_ts35208_set1),
		cmocka_unit_test(test_aka_ue_answer_accepts_network_vector),
		cmocka_unit_test(test_aka_ue_answer_rejects_bad_mac),
		cmocka_unit_test(test_aka_auts_roundtrip),
		cmocka_unit_test(test_aka_auts_rejects_tampering),
		cmocka_unit_test(test_aka_resync_flow),
		cmocka_unit_test(test_aka_sqn_encoding),
		cmocka_unit_test(test_aka_random_fills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
