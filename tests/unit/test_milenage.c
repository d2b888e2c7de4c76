/* Milenage against the TS 35.208 §4.3 conformance sets
 * (tests/data/auth/ts35208_sets.txt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/milenage.h"
#include "base/ims_hex.h"

typedef struct {
	int set;
	uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
	uint8_t f1[8], f1s[8], f2[8], f5[6], f3[16], f4[16], f5s[6];
} tset_t;

static tset_t sets[8];
static int nsets;

static void hexf(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(ims_hex_decode(s, strlen(s), out, n), 0);
}

static int load_sets(void **state)
{
	(void)state;
	FILE *f = fopen(IMS_TEST_DATA "/auth/ts35208_sets.txt", "r");
	if (!f)
		return -1;
	char line[1024];
	nsets = 0;
	while (fgets(line, sizeof(line), f) && nsets < 8) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char fld[14][40];
		int n = sscanf(line, "%39s %39s %39s %39s %39s %39s %39s %39s %39s %39s %39s %39s %39s %39s",
			       fld[0], fld[1], fld[2], fld[3], fld[4], fld[5], fld[6], fld[7], fld[8],
			       fld[9], fld[10], fld[11], fld[12], fld[13]);
		if (n != 14) {
			fclose(f);
			return -1;
		}
		tset_t *t = &sets[nsets++];
		t->set = atoi(fld[0]);
		hexf(fld[1], t->k, 16);
		hexf(fld[2], t->rand, 16);
		hexf(fld[3], t->sqn, 6);
		hexf(fld[4], t->amf, 2);
		hexf(fld[5], t->op, 16);
		hexf(fld[6], t->opc, 16);
		hexf(fld[7], t->f1, 8);
		hexf(fld[8], t->f1s, 8);
		hexf(fld[9], t->f2, 8);
		hexf(fld[10], t->f5, 6);
		hexf(fld[11], t->f3, 16);
		hexf(fld[12], t->f4, 16);
		hexf(fld[13], t->f5s, 6);
	}
	fclose(f);
	return nsets == 6 ? 0 : -1;
}

static void test_milenage_ts35208_opc(void **state)
{
	(void)state;
	for (int i = 0; i < nsets; i++) {
		uint8_t opc[16];
		assert_int_equal(milenage_opc(sets[i].k, sets[i].op, opc), 0);
		assert_memory_equal(opc, sets[i].opc, 16);
	}
}

static void test_milenage_ts35208_f1_f1star(void **state)
{
	(void)state;
	for (int i = 0; i < nsets; i++) {
		tset_t *t = &sets[i];
		uint8_t a[8], s[8];
		assert_int_equal(milenage_f1(t->k, t->opc, t->rand, t->sqn, t->amf, a, s), 0);
		assert_memory_equal(a, t->f1, 8);
		assert_memory_equal(s, t->f1s, 8);
		/* either output alone */
		memset(a, 0, 8);
		assert_int_equal(milenage_f1(t->k, t->opc, t->rand, t->sqn, t->amf, a, NULL), 0);
		assert_memory_equal(a, t->f1, 8);
	}
}

static void test_milenage_ts35208_f2345(void **state)
{
	(void)state;
	for (int i = 0; i < nsets; i++) {
		tset_t *t = &sets[i];
		uint8_t res[8], ck[16], ik[16], ak[6], aks[6];
		assert_int_equal(milenage_f2345(t->k, t->opc, t->rand, res, ck, ik, ak, aks), 0);
		assert_memory_equal(res, t->f2, 8);
		assert_memory_equal(ck, t->f3, 16);
		assert_memory_equal(ik, t->f4, 16);
		assert_memory_equal(ak, t->f5, 6);
		assert_memory_equal(aks, t->f5s, 6);
	}
}

static void test_milenage_outputs_optional(void **state)
{
	(void)state;
	tset_t *t = &sets[0];
	uint8_t aks[6], ck[16];
	assert_int_equal(milenage_f2345(t->k, t->opc, t->rand, NULL, NULL, NULL, NULL, aks), 0);
	assert_memory_equal(aks, t->f5s, 6);
	assert_int_equal(milenage_f2345(t->k, t->opc, t->rand, NULL, ck, NULL, NULL, NULL), 0);
	assert_memory_equal(ck, t->f3, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_milenage_ts35208_opc),
		cmocka_unit_test(test_milenage_ts35208_f1_f1star),
		cmocka_unit_test(test_milenage_ts35208_f2345),
		cmocka_unit_test(test_milenage_outputs_optional),
	};
	return cmocka_run_group_tests(tests, load_sets, NULL);
}
