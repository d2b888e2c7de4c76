/* hss-sim store: CRUD, duplicates, atomic SQN reservation, registration
 * state, the subscriber cache, persistence across reopen, schema_version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ims_err.h"
#include "hss-store.h"
#include "json-sub.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define IMPI1 "001010000000001@" REALM
#define IMPI2 "001010000000002@" REALM

typedef struct fx {
	char dir[64];
	char path[96];
	hss_store_t *st;
} fx_t;

static char *read_file(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hss/%s", IMS_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static hss_sub_t *sub_from_file(const char *name)
{
	char err[256] = "";
	hss_sub_t *sub = NULL;
	char *body = read_file(name);
	int rc = hss_json_sub_parse(body, strlen(body), &sub, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: %s", name, err);
	free(body);
	return sub;
}

/* A minimal subscriber built in code (impi + impus). */
static hss_sub_t *sub_make(const char *impi, const char *impu1, const char *impu2)
{
	hss_sub_t *s = hss_sub_new();
	assert_non_null(s);
	s->impi = impi;
	s->impus = ims_arena_zalloc(s->arena, 2 * sizeof(*s->impus));
	s->impus[0].uri = impu1;
	s->impus[1].uri = impu2;
	s->n_impus = impu2 ? 2 : 1;
	memset(s->k, 0x11, 16);
	memset(s->opc, 0x22, 16);
	s->amf[0] = 0x80;
	return s;
}

static int setup(void **state)
{
	fx_t *fx = calloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/hss_store_XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/hss.db", fx->dir);
	assert_int_equal(hss_store_open(fx->path, &fx->st), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fx_t *fx = *state;
	char p[128];
	hss_store_close(fx->st);
	const char *sfx[] = { "", "-wal", "-shm" };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", fx->path, sfx[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void test_store_create_get_roundtrip(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *in = sub_from_file("sub_full.json"), *out = NULL;
	assert_int_equal(hss_store_create(fx->st, in), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_string_equal(out->impi, IMPI1);
	assert_int_equal(out->n_impus, 3);
	assert_string_equal(out->impus[0].uri, "sip:001010000000001@" REALM);
	assert_string_equal(out->impus[1].uri, "tel:+15550000001");
	assert_false(out->impus[1].barred);
	assert_true(out->impus[2].barred);
	assert_memory_equal(out->k, in->k, 16);
	assert_memory_equal(out->opc, in->opc, 16);
	assert_true(out->has_op);
	assert_memory_equal(out->op, in->op, 16);
	assert_memory_equal(out->amf, "\x80\x00", 2);
	assert_string_equal(out->password, "secret");
	assert_int_equal(out->hunting, HSS_HUNT_SEQUENTIAL);
	assert_int_equal(out->reg_state, HSS_REG_NOT_REGISTERED);
	assert_string_equal(out->scscf_name, "");
	/* iFCs come back sorted by priority with every field */
	assert_int_equal(out->n_ifcs, 2);
	assert_int_equal(out->ifcs[0].priority, 10);
	assert_int_equal(out->ifcs[0].n_spt, 7);
	assert_int_equal(out->ifcs[0].spt[2].kind, HSS_SPT_HEADER);
	assert_true(out->ifcs[0].spt[2].negated);
	assert_string_equal(out->ifcs[0].spt[2].value, "Subject");
	assert_string_equal(out->ifcs[0].spt[2].content, "urgent");
	assert_null(out->ifcs[0].spt[5].content);
	assert_int_equal(out->ifcs[0].spt[6].session_case, HSS_SC_TERMINATING_UNREGISTERED);
	assert_int_equal(out->ifcs[0].default_handling, HSS_DH_SESSION_TERMINATED);
	assert_true(out->ifcs[0].include_register_request);
	assert_int_equal(out->ifcs[0].profile_part_indicator, HSS_PPI_REGISTERED);
	assert_int_equal(out->ifcs[1].priority, 20);
	assert_false(out->ifcs[1].has_trigger);

	/* the same record by any public identity */
	hss_sub_t *by_impu = NULL;
	assert_int_equal(hss_store_find_impu(fx->st, "tel:+15550000001", &by_impu), 0);
	assert_string_equal(by_impu->impi, IMPI1);
	hss_sub_free(by_impu);
	assert_int_equal(hss_store_find_impu(fx->st, "tel:+19999", &by_impu), IMS_ENOENT);
	assert_null(by_impu);
	hss_sub_free(out);
	hss_sub_free(in);
}

static void test_store_duplicates_are_eexist(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, "tel:+1");
	hss_sub_t *same_impi = sub_make(IMPI1, "sip:other@" REALM, NULL);
	hss_sub_t *taken_impu = sub_make(IMPI2, "sip:b@" REALM, "tel:+1");
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_create(fx->st, same_impi), IMS_EEXIST);
	assert_int_equal(hss_store_create(fx->st, taken_impu), IMS_EEXIST);
	/* the failed creates left nothing behind (one transaction each) */
	unsigned n = 0;
	assert_int_equal(hss_store_count(fx->st, &n), 0);
	assert_int_equal(n, 1);
	hss_sub_t *x = NULL;
	assert_int_equal(hss_store_find_impu(fx->st, "sip:b@" REALM, &x), IMS_ENOENT);
	assert_int_equal(hss_store_find_impu(fx->st, "sip:other@" REALM, &x), IMS_ENOENT);
	hss_sub_free(a);
	hss_sub_free(same_impi);
	hss_sub_free(taken_impu);
}

/* Issue 4: hss_store_create_bulk stores every record or none and names
 * the record that failed. */
static void test_store_bulk_all_or_nothing(void **state)
{
	fx_t *fx = *state;
	unsigned n = 99, bad = 99;
	hss_sub_t *b[3] = {
		sub_make(IMPI1, "sip:a@" REALM, "tel:+1"),
		sub_make(IMPI2, "sip:b@" REALM, NULL),
		sub_make("003@" REALM, "sip:c@" REALM, "tel:+1"), /* tel:+1 is [0]'s */
	};
	assert_int_equal(hss_store_create_bulk(fx->st, b, 3, &bad), IMS_EEXIST);
	assert_int_equal(bad, 2);
	assert_int_equal(hss_store_count(fx->st, &n), 0);
	assert_int_equal(n, 0); /* [0] and [1] were rolled back */
	assert_int_equal(hss_store_create_bulk(fx->st, b, 0, &bad), IMS_EINVAL);

	/* a valid batch goes in whole, with SQN, keys and identities */
	b[0]->sqn = 41;
	assert_int_equal(hss_store_create_bulk(fx->st, b, 2, &bad), 0);
	assert_int_equal(hss_store_count(fx->st, &n), 0);
	assert_int_equal(n, 2);
	hss_sub_t *got = NULL;
	assert_int_equal(hss_store_find_impu(fx->st, "tel:+1", &got), 0);
	assert_string_equal(got->impi, IMPI1);
	assert_int_equal(got->sqn, 41);
	assert_memory_equal(got->k, b[0]->k, 16);
	assert_int_equal(got->reg_state, HSS_REG_NOT_REGISTERED);
	hss_sub_free(got);

	/* an impi already stored: EEXIST on that index, nothing new stored */
	hss_sub_t *c[2] = { sub_make("004@" REALM, "sip:d@" REALM, NULL),
			    sub_make(IMPI2, "sip:e@" REALM, NULL) };
	assert_int_equal(hss_store_create_bulk(fx->st, c, 2, &bad), IMS_EEXIST);
	assert_int_equal(bad, 1);
	assert_int_equal(hss_store_get_by_impi(fx->st, "004@" REALM, &got), IMS_ENOENT);
	assert_int_equal(hss_store_count(fx->st, &n), 0);
	assert_int_equal(n, 2);
	for (int i = 0; i < 3; i++)
		hss_sub_free(b[i]);
	hss_sub_free(c[0]);
	hss_sub_free(c[1]);
}

static void test_store_replace_keeps_reg_and_sqn(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, "tel:+1"), *out = NULL;
	a->sqn = 100;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_set_reg(fx->st, IMPI1, HSS_REG_REGISTERED, "sip:scscf." REALM ":6060"), 0);

	hss_sub_t *b = sub_make(IMPI1, "sip:new@" REALM, NULL);
	memset(b->k, 0x33, 16);
	b->has_sqn = 0;
	b->sqn = 5;
	b->password = "pw2";
	assert_int_equal(hss_store_replace(fx->st, b), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->n_impus, 1);
	assert_string_equal(out->impus[0].uri, "sip:new@" REALM);
	assert_memory_equal(out->k, b->k, 16);
	assert_int_equal(out->sqn, 100); /* has_sqn = 0 kept it */
	assert_string_equal(out->password, "pw2");
	assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
	assert_string_equal(out->scscf_name, "sip:scscf." REALM ":6060");
	hss_sub_free(out);
	/* the old identities are gone, the new one resolves */
	assert_int_equal(hss_store_find_impu(fx->st, "tel:+1", &out), IMS_ENOENT);
	b->has_sqn = 1;
	assert_int_equal(hss_store_replace(fx->st, b), 0);
	assert_int_equal(hss_store_find_impu(fx->st, "sip:new@" REALM, &out), 0);
	assert_int_equal(out->sqn, 5);
	hss_sub_free(out);

	hss_sub_t *ghost = sub_make(IMPI2, "sip:g@" REALM, NULL);
	assert_int_equal(hss_store_replace(fx->st, ghost), IMS_ENOENT);
	hss_sub_free(ghost);
	hss_sub_free(a);
	hss_sub_free(b);
}

static void test_store_delete(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, "tel:+1"), *out = NULL;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_delete(fx->st, IMPI1), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), IMS_ENOENT);
	assert_int_equal(hss_store_find_impu(fx->st, "tel:+1", &out), IMS_ENOENT);
	assert_int_equal(hss_store_delete(fx->st, IMPI1), IMS_ENOENT);
	/* the identities are free again */
	assert_int_equal(hss_store_create(fx->st, a), 0);
	hss_sub_free(a);
}

static void test_store_list_pages(void **state)
{
	fx_t *fx = *state;
	char impi[64], impu[64];
	for (int i = 9; i >= 0; i--) { /* inserted out of order on purpose */
		snprintf(impi, sizeof(impi), "user%02d@" REALM, i);
		snprintf(impu, sizeof(impu), "sip:user%02d@" REALM, i);
		hss_sub_t *s = sub_make(impi, impu, NULL);
		assert_int_equal(hss_store_create(fx->st, s), 0);
		hss_sub_free(s);
	}
	hss_sub_t **page = NULL;
	unsigned n = 0, total = 0;
	assert_int_equal(hss_store_list(fx->st, 3, 4, &page, &n, &total), 0);
	assert_int_equal(n, 4);
	assert_int_equal(total, 10);
	assert_string_equal(page[0]->impi, "user03@" REALM);
	assert_string_equal(page[3]->impi, "user06@" REALM);
	assert_string_equal(page[3]->impus[0].uri, "sip:user06@" REALM);
	hss_sub_list_free(page, n);
	assert_int_equal(hss_store_list(fx->st, 8, 100, &page, &n, NULL), 0);
	assert_int_equal(n, 2);
	hss_sub_list_free(page, n);
	assert_int_equal(hss_store_list(fx->st, 50, 10, &page, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_int_equal(total, 10);
	hss_sub_list_free(page, n);
}

static void test_store_impi_owns_impu(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, "tel:+1");
	hss_sub_t *b = sub_make(IMPI2, "sip:b@" REALM, NULL);
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_create(fx->st, b), 0);
	assert_int_equal(hss_store_impi_owns_impu(fx->st, IMPI1, "tel:+1"), 1);
	assert_int_equal(hss_store_impi_owns_impu(fx->st, IMPI1, "sip:b@" REALM), 0);
	assert_int_equal(hss_store_impi_owns_impu(fx->st, IMPI1, "sip:nobody@" REALM), IMS_ENOENT);
	assert_int_equal(hss_store_impi_owns_impu(fx->st, "x@" REALM, "tel:+1"), IMS_ENOENT);
	hss_sub_free(a);
	hss_sub_free(b);
}

#define SQN_THREADS 4
#define SQN_ROUNDS 50

typedef struct sqn_arg {
	hss_store_t *st;
	uint64_t got[SQN_ROUNDS];
	int rc;
} sqn_arg_t;

static void *sqn_worker(void *p)
{
	sqn_arg_t *a = p;
	for (int i = 0; i < SQN_ROUNDS && a->rc == 0; i++)
		a->rc = hss_store_next_sqn(a->st, IMPI1, 2, &a->got[i]);
	return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

static void test_store_sqn_reservation_is_atomic(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, NULL), *out = NULL;
	a->sqn = 1000;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	uint64_t first = 0;
	assert_int_equal(hss_store_next_sqn(fx->st, IMPI1, 3, &first), 0);
	assert_int_equal(first, 1001); /* vectors get 1001, 1002, 1003 */
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, 1003);
	hss_sub_free(out);

	sqn_arg_t args[SQN_THREADS];
	pthread_t th[SQN_THREADS];
	memset(args, 0, sizeof(args));
	for (int i = 0; i < SQN_THREADS; i++) {
		args[i].st = fx->st;
		assert_int_equal(pthread_create(&th[i], NULL, sqn_worker, &args[i]), 0);
	}
	uint64_t all[SQN_THREADS * SQN_ROUNDS];
	for (int i = 0; i < SQN_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].rc, 0);
		memcpy(&all[i * SQN_ROUNDS], args[i].got, sizeof(args[i].got));
	}
	/* every reservation of 2 is disjoint: sorted firsts step by exactly 2 */
	qsort(all, SQN_THREADS * SQN_ROUNDS, sizeof(all[0]), cmp_u64);
	for (int i = 0; i < SQN_THREADS * SQN_ROUNDS; i++)
		assert_int_equal(all[i], 1004 + 2 * (uint64_t)i);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, 1003 + 2 * SQN_THREADS * SQN_ROUNDS);
	hss_sub_free(out);

	/* resync sets the last used value; 48-bit wrap */
	assert_int_equal(hss_store_set_sqn(fx->st, IMPI1, HSS_SQN_MAX), 0);
	assert_int_equal(hss_store_next_sqn(fx->st, IMPI1, 2, &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(hss_store_set_sqn(fx->st, IMPI1, HSS_SQN_MAX + 1), IMS_EINVAL);
	assert_int_equal(hss_store_next_sqn(fx->st, IMPI1, 0, &first), IMS_EINVAL);
	assert_int_equal(hss_store_next_sqn(fx->st, IMPI2, 1, &first), IMS_ENOENT);
	assert_int_equal(hss_store_set_sqn(fx->st, IMPI2, 1), IMS_ENOENT);
	hss_sub_free(a);
}

/* A MAR naming a new S-CSCF: the name and the SQNs in one transaction. */
static void test_store_sqn_assign(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, NULL), *out = NULL;
	a->sqn = 7;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	uint64_t first = 0;
	assert_int_equal(hss_store_next_sqn_assign(fx->st, IMPI1, 2, "sip:scscf1", HSS_REG_NOT_REGISTERED,
						   &first), 0);
	assert_int_equal(first, 8);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, 9);
	assert_string_equal(out->scscf_name, "sip:scscf1");
	assert_int_equal(out->reg_state, HSS_REG_NOT_REGISTERED);
	hss_sub_free(out);

	/* NULL name: the registration is left alone */
	assert_int_equal(hss_store_set_reg(fx->st, IMPI1, HSS_REG_REGISTERED, "sip:scscf1"), 0);
	assert_int_equal(hss_store_next_sqn_assign(fx->st, IMPI1, 1, NULL, HSS_REG_NOT_REGISTERED, &first), 0);
	assert_int_equal(first, 10);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
	assert_string_equal(out->scscf_name, "sip:scscf1");
	hss_sub_free(out);

	/* bad input changes nothing */
	assert_int_equal(hss_store_next_sqn_assign(fx->st, IMPI1, 1, "sip:x", (hss_reg_state_t)9, &first),
			 IMS_EINVAL);
	assert_int_equal(hss_store_next_sqn_assign(fx->st, IMPI1, 0, "sip:x", HSS_REG_REGISTERED, &first),
			 IMS_EINVAL);
	assert_int_equal(hss_store_next_sqn_assign(fx->st, IMPI2, 1, "sip:x", HSS_REG_REGISTERED, &first),
			 IMS_ENOENT);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, 10);
	assert_string_equal(out->scscf_name, "sip:scscf1");
	hss_sub_free(out);
	hss_sub_free(a);
}

/* Two connections on one file (as two processes would have): BEGIN
 * IMMEDIATE + busy timeout still hand out disjoint SQNs. */
static void test_store_sqn_disjoint_across_connections(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, NULL);
	assert_int_equal(hss_store_create(fx->st, a), 0);
	hss_store_t *other = NULL;
	assert_int_equal(hss_store_open(fx->path, &other), 0);

	sqn_arg_t args[2];
	pthread_t th[2];
	memset(args, 0, sizeof(args));
	args[0].st = fx->st;
	args[1].st = other;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, sqn_worker, &args[i]), 0);
	uint64_t all[2 * SQN_ROUNDS];
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].rc, 0);
		memcpy(&all[i * SQN_ROUNDS], args[i].got, sizeof(args[i].got));
	}
	qsort(all, 2 * SQN_ROUNDS, sizeof(all[0]), cmp_u64);
	for (int i = 0; i < 2 * SQN_ROUNDS; i++)
		assert_int_equal(all[i], 1 + 2 * (uint64_t)i);
	hss_store_close(other);
	hss_sub_free(a);
}

static void test_store_registration_state(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, "tel:+1");
	char name[HSS_SCSCF_NAME_MAX];
	hss_reg_state_t rs;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_get_reg(fx->st, IMPI1, &rs, name, sizeof(name)), 0);
	assert_int_equal(rs, HSS_REG_NOT_REGISTERED);
	assert_string_equal(name, "");
	assert_int_equal(hss_store_set_reg(fx->st, IMPI1, HSS_REG_REGISTERED, "sip:scscf1"), 0);
	/* by public identity too */
	assert_int_equal(hss_store_get_reg(fx->st, "tel:+1", &rs, name, sizeof(name)), 0);
	assert_int_equal(rs, HSS_REG_REGISTERED);
	assert_string_equal(name, "sip:scscf1");
	assert_int_equal(hss_store_set_reg(fx->st, IMPI1, HSS_REG_UNREGISTERED, "sip:scscf2"), 0);
	assert_int_equal(hss_store_get_reg(fx->st, IMPI1, &rs, NULL, 0), 0);
	assert_int_equal(rs, HSS_REG_UNREGISTERED);
	assert_int_equal(hss_store_set_reg(fx->st, IMPI1, HSS_REG_NOT_REGISTERED, NULL), 0);
	assert_int_equal(hss_store_get_reg(fx->st, "sip:a@" REALM, &rs, name, sizeof(name)), 0);
	assert_int_equal(rs, HSS_REG_NOT_REGISTERED);
	assert_string_equal(name, "");
	assert_int_equal(hss_store_get_reg(fx->st, "sip:none", &rs, name, sizeof(name)), IMS_ENOENT);
	assert_int_equal(hss_store_set_reg(fx->st, IMPI2, HSS_REG_REGISTERED, "x"), IMS_ENOENT);
	assert_int_equal(hss_store_set_reg(fx->st, IMPI1, (hss_reg_state_t)7, "x"), IMS_EINVAL);
	assert_string_equal(hss_reg_state_name(HSS_REG_UNREGISTERED), "UNREGISTERED");
	hss_sub_free(a);
}

/* Group commit (docs/hss.md): 8 threads mix SQN reservations and
 * registration-state writes over 3 users; every reservation is disjoint,
 * several writes share a COMMIT, and the file holds what the cache says. */
#define GC_THREADS 8
#define GC_ROUNDS 40
static const char *const gc_users[3] = { "gc0@" REALM, "gc1@" REALM, "gc2@" REALM };
static const char *const gc_impus[3] = { "sip:gc0@" REALM, "sip:gc1@" REALM, "sip:gc2@" REALM };

typedef struct gc_arg {
	hss_store_t *st;
	int id, rc;
	uint64_t got[GC_ROUNDS];
} gc_arg_t;

static void *gc_worker(void *p)
{
	gc_arg_t *a = p;
	for (int i = 0; i < GC_ROUNDS && a->rc == 0; i++) {
		const char *impi = gc_users[(a->id + i) % 3];
		if (i % 4 == 3)
			a->rc = hss_store_set_reg(a->st, impi, HSS_REG_REGISTERED, "sip:gc." REALM);
		else if (i % 4 == 2)
			a->rc = hss_store_next_sqn_assign(a->st, impi, 1, "sip:gc." REALM,
							  HSS_REG_REGISTERED, &a->got[i]);
		else
			a->rc = hss_store_next_sqn(a->st, impi, 1, &a->got[i]);
		if (i % 4 == 3)
			a->got[i] = UINT64_MAX;
		else
			a->got[i] = a->got[i] * 4 + (uint64_t)((a->id + i) % 3); /* user in low bits */
	}
	return NULL;
}

static void test_store_group_commit(void **state)
{
	fx_t *fx = *state;
	for (int u = 0; u < 3; u++) {
		hss_sub_t *s = sub_make(gc_users[u], gc_impus[u], NULL);
		assert_int_equal(hss_store_create(fx->st, s), 0);
		hss_sub_free(s);
	}
	gc_arg_t args[GC_THREADS];
	pthread_t th[GC_THREADS];
	memset(args, 0, sizeof(args));
	for (int i = 0; i < GC_THREADS; i++) {
		args[i].st = fx->st;
		args[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, gc_worker, &args[i]), 0);
	}
	uint64_t all[GC_THREADS * GC_ROUNDS];
	unsigned n = 0, per_user[3] = { 0, 0, 0 };
	for (int i = 0; i < GC_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].rc, 0);
		for (int k = 0; k < GC_ROUNDS; k++)
			if (args[i].got[k] != UINT64_MAX) {
				all[n++] = args[i].got[k];
				per_user[args[i].got[k] % 4]++;
			}
	}
	/* per user, the SQNs handed out are exactly 1..count */
	qsort(all, n, sizeof(all[0]), cmp_u64);
	for (unsigned k = 1; k < n; k++)
		assert_true(all[k] != all[k - 1]);
	hss_store_cache_stats_t cs;
	hss_store_cache_stats(fx->st, &cs);
	assert_int_equal(cs.writes, GC_THREADS * GC_ROUNDS);
	assert_true(cs.commits <= cs.writes);
	print_message("group commit: %lu writes in %lu commits\n", cs.writes, cs.commits);
	/* the file, read past the cache */
	assert_int_equal(hss_store_set_cache(fx->st, 0), 0);
	for (int u = 0; u < 3; u++) {
		hss_sub_t *out = NULL;
		assert_int_equal(hss_store_get_by_impi(fx->st, gc_users[u], &out), 0);
		assert_int_equal(out->sqn, per_user[u]);
		assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
		assert_string_equal(out->scscf_name, "sip:gc." REALM);
		hss_sub_free(out);
		for (unsigned k = 0, want = 1; k < n; k++)
			if (all[k] % 4 == (uint64_t)u)
				assert_int_equal(all[k] / 4, want++);
	}
}

/* The subscriber cache (docs/hss.md): a read after each kind of write of
 * this process, and after a commit by another connection, sees the write;
 * the copies handed out stay valid while the cache changes. */
static void test_store_cache_follows_every_write(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_from_file("sub_full.json"), *out = NULL, *held = NULL;
	const char *impi = a->impi;
	uint64_t first = 0;
	hss_store_cache_stats_t cs0, cs;
	hss_store_cache_stats(fx->st, &cs0);
	assert_int_equal(hss_store_create(fx->st, a), 0); /* kept as created */
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &held), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0); /* a copy each */
	hss_store_cache_stats(fx->st, &cs);
	assert_int_equal(cs.hits - cs0.hits, 2);
	assert_int_equal(cs.misses - cs0.misses, 0);
	assert_int_equal(cs.records, 1);
	assert_ptr_not_equal(out, held);
	assert_int_equal(out->n_ifcs, held->n_ifcs);
	assert_string_equal(out->ifcs[0].server_name, held->ifcs[0].server_name);
	assert_int_equal(out->n_impus, a->n_impus);
	hss_sub_free(out);

	/* SQN reservation */
	assert_int_equal(hss_store_next_sqn(fx->st, impi, 3, &first), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0);
	assert_int_equal(out->sqn, first + 2);
	hss_sub_free(out);
	/* registration state, alone and with an SQN reservation */
	assert_int_equal(hss_store_set_reg(fx->st, impi, HSS_REG_REGISTERED, "sip:s1." REALM), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0);
	assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
	assert_string_equal(out->scscf_name, "sip:s1." REALM);
	hss_sub_free(out);
	assert_int_equal(hss_store_next_sqn_assign(fx->st, impi, 1, "sip:s2." REALM,
						   HSS_REG_UNREGISTERED, &first), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0);
	assert_int_equal(out->reg_state, HSS_REG_UNREGISTERED);
	assert_string_equal(out->scscf_name, "sip:s2." REALM);
	assert_int_equal(out->sqn, first);
	hss_sub_free(out);
	/* resynchronisation's SQN */
	assert_int_equal(hss_store_set_sqn(fx->st, impi, 5000), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0);
	assert_int_equal(out->sqn, 5000);
	hss_sub_free(out);
	/* a copy handed out before is untouched by all that */
	assert_int_equal(held->reg_state, HSS_REG_NOT_REGISTERED);
	assert_string_equal(held->scscf_name, "");

	/* replace (REST PUT) */
	a->password = "changed";
	a->has_sqn = 0;
	assert_int_equal(hss_store_replace(fx->st, a), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0);
	assert_string_equal(out->password, "changed");
	assert_int_equal(out->sqn, 5000);
	hss_sub_free(out);

	/* another connection (the sqlite3 shell of docs/hss.md) */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "UPDATE subscriber SET password='shell', reg_state=1, scscf_name='sip:s3' "
		 "WHERE impi='%s'", impi);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0); /* cached again */
	hss_sub_free(out);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0); /* a hit, no check */
	hss_sub_free(out);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	/* past the window a read checks the data version again */
	usleep(2 * HSS_STORE_CACHE_CHECK_US);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0);
	hss_store_cache_stats(fx->st, &cs);
	assert_int_equal(cs.flushes - cs0.flushes, 1);
	assert_string_equal(out->password, "shell");
	assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
	assert_string_equal(out->scscf_name, "sip:s3");
	hss_sub_free(out);
	snprintf(sql, sizeof(sql), "DELETE FROM subscriber WHERE impi='%s'", impi);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	usleep(2 * HSS_STORE_CACHE_CHECK_US);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), IMS_ENOENT);
	sqlite3_close(db);

	/* delete (REST DELETE) */
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), 0);
	hss_sub_free(out);
	assert_int_equal(hss_store_delete(fx->st, impi), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, impi, &out), IMS_ENOENT);
	assert_int_equal(held->n_ifcs > 0, 1); /* still readable */
	hss_sub_free(held);
	hss_sub_free(a);
}

/* A record cached when created reads exactly as the one from the file. */
static void test_store_cache_created_record_reads_as_stored(void **state)
{
	fx_t *fx = *state;
	const char *files[] = { "sub_full.json", "sub_min.json" };
	for (unsigned f = 0; f < 2; f++) {
		hss_sub_t *a = sub_from_file(files[f]), *hit = NULL, *disk = NULL;
		assert_int_equal(hss_store_set_cache(fx->st, 1024), 0);
		assert_int_equal(hss_store_create(fx->st, a), 0);
		assert_int_equal(hss_store_get_by_impi(fx->st, a->impi, &hit), 0);
		assert_int_equal(hss_store_set_cache(fx->st, 0), 0); /* off: from the file */
		assert_int_equal(hss_store_get_by_impi(fx->st, a->impi, &disk), 0);
		json_t *jh = hss_json_sub_dump(hit, 1), *jd = hss_json_sub_dump(disk, 1);
		char *th = json_dumps(jh, JSON_SORT_KEYS), *td = json_dumps(jd, JSON_SORT_KEYS);
		assert_string_equal(th, td);
		assert_int_equal(hit->has_op, disk->has_op);
		assert_memory_equal(hit->op, disk->op, 16);
		free(th);
		free(td);
		json_decref(jh);
		json_decref(jd);
		assert_int_equal(hss_store_delete(fx->st, a->impi), 0);
		hss_sub_free(hit);
		hss_sub_free(disk);
		hss_sub_free(a);
	}
}

/* Many more subscribers than the cache holds: every read is still right
 * (the cache forgets, never mixes records up). */
static void test_store_cache_many_subscribers(void **state)
{
	fx_t *fx = *state;
	enum { N = 3000 };
	char impi[N][64], impu[N][72];
	hss_sub_t *subs[N];
	for (int i = 0; i < N; i++) {
		snprintf(impi[i], sizeof(impi[i]), "%015d@" REALM, i);
		snprintf(impu[i], sizeof(impu[i]), "sip:%015d@" REALM, i);
		subs[i] = sub_make(impi[i], impu[i], NULL);
		subs[i]->sqn = (uint64_t)i;
	}
	assert_int_equal(hss_store_create_bulk(fx->st, subs, N, NULL), 0);
	assert_int_equal(hss_store_set_cache(fx->st, 3), IMS_EINVAL);
	assert_int_equal(hss_store_set_cache(fx->st, 16), 0); /* 64 records at most */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			hss_sub_t *out = NULL;
			assert_int_equal(hss_store_get_by_impi(fx->st, impi[i], &out), 0);
			assert_string_equal(out->impi, impi[i]);
			assert_string_equal(out->impus[0].uri, impu[i]);
			assert_int_equal(out->sqn, (uint64_t)i + (uint64_t)round);
			hss_sub_free(out);
			uint64_t first = 0;
			if (round == 0)
				assert_int_equal(hss_store_next_sqn(fx->st, impi[i], 1, &first), 0);
		}
	for (int i = 0; i < N; i++)
		hss_sub_free(subs[i]);
}

/* A new file has 1 KiB pages (docs/hss.md); a file made with SQLite's
 * default 4 KiB pages is opened and used as it is. */
/* The asynchronous Cx writes (a deferred Cx answer): each callback comes
 * after its commit, on the writer thread, in submission order; an unknown
 * user gets IMS_ENOENT; hss_store_sync waits for all of them; closing the
 * store runs the ones still queued; what they wrote survives a reopen. */
#define ASYNC_N 40
typedef struct async_log {
	int n;
	int rc[ASYNC_N + 8];
	uint64_t first[ASYNC_N + 8];
	pthread_t thread[ASYNC_N + 8];
} async_log_t;

static void async_done(void *arg, int rc, uint64_t first)
{
	async_log_t *l = arg;
	l->rc[l->n] = rc;
	l->first[l->n] = first;
	l->thread[l->n] = pthread_self();
	l->n++;
}

static void test_store_async_writes(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, NULL), *out = NULL;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	static async_log_t l;
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < ASYNC_N; i++)
		assert_int_equal(hss_store_next_sqn_assign_async(fx->st, IMPI1, 1,
			i == 0 ? "sip:s1." REALM : NULL, HSS_REG_UNREGISTERED, async_done, &l), 0);
	assert_int_equal(hss_store_set_reg_async(fx->st, IMPI1, HSS_REG_REGISTERED, "sip:s2." REALM,
						 async_done, &l), 0);
	assert_int_equal(hss_store_set_reg_async(fx->st, "nobody@" REALM, HSS_REG_REGISTERED, "sip:x",
						 async_done, &l), 0);
	assert_int_equal(hss_store_set_reg_async(fx->st, IMPI1, 7, "sip:x", async_done, &l), IMS_EINVAL);
	assert_int_equal(hss_store_sync(fx->st), 0);
	assert_int_equal(l.n, ASYNC_N + 2);
	for (int i = 0; i < ASYNC_N; i++) {
		assert_int_equal(l.rc[i], 0);
		assert_int_equal(l.first[i], (uint64_t)i + 1); /* in order, none twice */
		assert_false(pthread_equal(l.thread[i], pthread_self()));
	}
	assert_int_equal(l.rc[ASYNC_N], 0);
	assert_int_equal(l.rc[ASYNC_N + 1], IMS_ENOENT);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, ASYNC_N);
	assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
	assert_string_equal(out->scscf_name, "sip:s2." REALM);
	hss_sub_free(out);

	/* queued at close: run before the store goes */
	for (int i = 0; i < 3; i++)
		assert_int_equal(hss_store_next_sqn_assign_async(fx->st, IMPI1, 2, NULL,
			HSS_REG_REGISTERED, async_done, &l), 0);
	hss_store_close(fx->st);
	assert_int_equal(l.n, ASYNC_N + 5);
	assert_int_equal(l.first[ASYNC_N + 4], ASYNC_N + 5);
	assert_int_equal(hss_store_open(fx->path, &fx->st), 0);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, ASYNC_N + 6);
	assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
	hss_sub_free(out);
	hss_sub_free(a);
}

/* The queue of asynchronous writes is bounded: while another connection
 * holds the write lock, a submitter waits once the queue is full, and
 * everything goes through once the lock is released. */
typedef struct bp_arg {
	hss_store_t *st;
	async_log_t *log;
	_Atomic int submitted;
} bp_arg_t;

static void *bp_submitter(void *arg)
{
	bp_arg_t *b = arg;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(hss_store_next_sqn_assign_async(b->st, IMPI1, 1, NULL,
			HSS_REG_REGISTERED, async_done, b->log), 0);
		b->submitted++;
	}
	return NULL;
}

static void test_store_async_queue_is_bounded(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, NULL), *out = NULL;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_set_queue_max(fx->st, 0), IMS_EINVAL);
	assert_int_equal(hss_store_set_queue_max(fx->st, 4), 0);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	static async_log_t l;
	memset(&l, 0, sizeof(l));
	bp_arg_t b = { .st = fx->st, .log = &l };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, bp_submitter, &b), 0);
	usleep(300 * 1000);
	int n = b.submitted;
	assert_true(n >= 4 && n < 20); /* the first batch is taken, the queue full */
	assert_int_equal(l.n, 0);      /* nothing committed */
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	pthread_join(th, NULL);
	assert_int_equal(hss_store_sync(fx->st), 0);
	assert_int_equal(l.n, 20);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(l.rc[i], 0);
		assert_int_equal(l.first[i], (uint64_t)i + 1);
	}
	usleep(2 * HSS_STORE_CACHE_CHECK_US);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, 20);
	hss_sub_free(out);
	hss_sub_free(a);
}

static void test_store_page_size(void **state)
{
	fx_t *fx = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1024);
	sqlite3_finalize(q);
	sqlite3_close(db);

	char old[128];
	snprintf(old, sizeof(old), "%s/old.db", fx->dir);
	assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA page_size=4096; CREATE TABLE t(x); DROP TABLE t;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	hss_store_t *st = NULL;
	assert_int_equal(hss_store_open(old, &st), 0);
	hss_sub_t *a = sub_make(IMPI1, "sip:a@" REALM, NULL), *out = NULL;
	uint64_t first = 0;
	assert_int_equal(hss_store_create(st, a), 0);
	assert_int_equal(hss_store_next_sqn(st, IMPI1, 1, &first), 0);
	hss_store_close(st);
	assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 4096);
	sqlite3_finalize(q);
	sqlite3_close(db);
	assert_int_equal(hss_store_open(old, &st), 0);
	assert_int_equal(hss_store_get_by_impi(st, IMPI1, &out), 0);
	assert_int_equal(out->sqn, first);
	hss_sub_free(out);
	hss_store_close(st);
	hss_sub_free(a);
	const char *sfx[] = { "", "-wal", "-shm" };
	for (int i = 0; i < 3; i++) {
		snprintf(old, sizeof(old), "%s/old.db%s", fx->dir, sfx[i]);
		unlink(old);
	}
}

static void test_store_reopen_keeps_data_and_schema_version(void **state)
{
	fx_t *fx = *state;
	hss_sub_t *a = sub_from_file("sub_min.json"), *out = NULL;
	assert_int_equal(hss_store_create(fx->st, a), 0);
	assert_int_equal(hss_store_set_reg(fx->st, IMPI2, HSS_REG_REGISTERED, "sip:s"), 0);
	uint64_t first;
	assert_int_equal(hss_store_next_sqn(fx->st, IMPI2, 1, &first), 0);
	int v = hss_store_schema_version(fx->st);
	assert_true(v >= 1);
	hss_store_close(fx->st);

	/* the schema_version table says the same as the store */
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), v);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);

	assert_int_equal(hss_store_open(fx->path, &fx->st), 0);
	assert_int_equal(hss_store_schema_version(fx->st), v);
	assert_int_equal(hss_store_get_by_impi(fx->st, IMPI2, &out), 0);
	assert_memory_equal(out->opc, a->opc, 16);
	assert_false(out->has_op);
	assert_int_equal(out->sqn, 1);
	assert_int_equal(out->reg_state, HSS_REG_REGISTERED);
	assert_string_equal(out->scscf_name, "sip:s");
	assert_null(out->password);
	hss_sub_free(out);
	hss_sub_free(a);
}

static void test_store_refuses_newer_schema(void **state)
{
	fx_t *fx = *state;
	hss_store_close(fx->st);
	fx->st = NULL;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version=999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	hss_store_t *st = NULL;
	assert_int_equal(hss_store_open(fx->path, &st), IMS_EDB);
	assert_null(st);
}

static void test_store_open_bad_path_fails(void **state)
{
	(void)state;
	hss_store_t *st = NULL;
	assert_int_equal(hss_store_open("/nonexistent-dir/x/hss.db", &st), IMS_EDB);
	assert_null(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_create_get_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_duplicates_are_eexist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_bulk_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_replace_keeps_reg_and_sqn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_impi_owns_impu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sqn_reservation_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sqn_assign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sqn_disjoint_across_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_registration_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_cache_follows_every_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_cache_many_subscribers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_cache_created_record_reads_as_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_async_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_async_queue_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_page_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_reopen_keeps_data_and_schema_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses_newer_schema, setup, teardown),
		cmocka_unit_test(test_store_open_bad_path_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
