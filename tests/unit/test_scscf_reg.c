/* The S-CSCF registrar store on a virtual clock: bindings per implicit
 * set, refresh/shorten, RFC 3261 §10.3 out-of-order CSeq, RFC 5626
 * instance matching, "*" removal, expiry, network removal, and reload of
 * every registration from SQLite after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "base/ims_err.h"
#include "reg-store.h"

#define IMPI "001010000000001@ims.example"
#define IMPU "sip:001010000000001@ims.example"
#define TEL "tel:+15550000001"

static const ims_str_t set2[2] = { { IMPU, sizeof(IMPU) - 1 }, { TEL, sizeof(TEL) - 1 } };

static scscf_binding_t contact(const char *uri, int64_t expires, const char *call_id,
			       uint32_t cseq)
{
	scscf_binding_t b;
	memset(&b, 0, sizeof(b));
	b.uri = ims_str_cstr(uri);
	b.expires = expires;
	b.call_id = ims_str_cstr(call_id);
	b.cseq = cseq;
	b.q = -1;
	b.path = IMS_STR("<sip:term@pcscf.ims.example:5060;lr>");
	b.received = IMS_STR("sip:127.0.0.1:5060;transport=udp");
	return b;
}

static int apply(scscf_reg_store_t *st, const scscf_binding_t *c, size_t n, int star, int64_t now,
		 int dry, ims_arena_t *a, scscf_reg_change_t *chg)
{
	scscf_reg_update_t u;
	memset(&u, 0, sizeof(u));
	u.impi = IMS_STR(IMPI);
	u.impu = IMS_STR(IMPU);
	u.impus = set2;
	u.n_impus = 2;
	u.user_data = IMS_STR("<IMSSubscription/>");
	u.contacts = c;
	u.n_contacts = n;
	u.star = star;
	return scscf_reg_store_apply(st, &u, now, dry, a, chg);
}

static void unlink_db(const char *path)
{
	char side[64];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static void test_register_whole_implicit_set(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_reg_view_t v;
	scscf_binding_t c = contact("sip:ue@10.0.0.1:5060", 1000 + 600, "cid1", 1);

	assert_int_equal(scscf_reg_store_open(":memory:", NULL, &st), 0);
	/* a dry run tells the outcome and changes nothing */
	assert_int_equal(apply(st, &c, 1, 0, 1000, 1, a, &chg), 0);
	assert_int_equal(chg.old_state, SCSCF_REG_NOT_REGISTERED);
	assert_int_equal(chg.new_state, SCSCF_REG_REGISTERED);
	assert_int_equal(scscf_reg_store_state(st, IMS_STR(IMPU), 1000), SCSCF_REG_NOT_REGISTERED);

	assert_int_equal(apply(st, &c, 1, 0, 1000, 0, a, &chg), 0);
	assert_int_equal(chg.n_live, 1);
	assert_int_equal(chg.bindings[0].event, SCSCF_CEV_REGISTERED);
	/* every identity of the set answers the lookup */
	assert_int_equal(scscf_reg_store_state(st, IMS_STR(TEL), 1000), SCSCF_REG_REGISTERED);
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR(TEL), 1000, a, &v), 0);
	assert_int_equal(v.state, SCSCF_REG_REGISTERED);
	assert_true(ims_str_eq_c(v.impi, IMPI));
	assert_int_equal(v.n_impus, 2);
	assert_int_equal(v.n_bindings, 1);
	assert_true(ims_str_eq_c(v.bindings[0].uri, "sip:ue@10.0.0.1:5060"));
	assert_true(ims_str_eq_c(v.bindings[0].path, "<sip:term@pcscf.ims.example:5060;lr>"));
	assert_true(ims_str_eq_c(v.bindings[0].received, "sip:127.0.0.1:5060;transport=udp"));
	assert_int_equal(v.bindings[0].expires, 1600);
	assert_true(ims_str_eq_c(v.user_data, "<IMSSubscription/>"));
	scscf_reg_view_release(&v);
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR("sip:other@ims.example"), 1000, a, &v),
			 IMS_ENOENT);
	scscf_reg_store_close(st);
	ims_arena_destroy(a);
}

static void test_refresh_shorten_and_out_of_order(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_binding_t c = contact("sip:ue@10.0.0.1:5060", 1600, "cid1", 5);

	assert_int_equal(scscf_reg_store_open(":memory:", NULL, &st), 0);
	assert_int_equal(apply(st, &c, 1, 0, 1000, 0, a, &chg), 0);
	uint64_t id = chg.bindings[0].id;
	/* RFC 3261 §10.3 step 7: same Call-ID, CSeq not higher -> refused */
	c.cseq = 5;
	assert_int_equal(apply(st, &c, 1, 0, 1001, 0, a, &chg), IMS_ESTATE);
	c.cseq = 6;
	c.expires = 2000;
	assert_int_equal(apply(st, &c, 1, 0, 1001, 0, a, &chg), 0);
	assert_int_equal(chg.old_state, SCSCF_REG_REGISTERED);
	assert_int_equal(chg.bindings[0].event, SCSCF_CEV_REFRESHED);
	assert_int_equal(chg.bindings[0].id, id); /* same binding */
	c.cseq = 7;
	c.expires = 1500;
	assert_int_equal(apply(st, &c, 1, 0, 1002, 0, a, &chg), 0);
	assert_int_equal(chg.bindings[0].event, SCSCF_CEV_SHORTENED);
	/* a new Call-ID may carry any CSeq */
	c.call_id = IMS_STR("cid2");
	c.cseq = 1;
	assert_int_equal(apply(st, &c, 1, 0, 1003, 0, a, &chg), 0);
	assert_int_equal(chg.n_bindings, 1);
	scscf_reg_store_close(st);
	ims_arena_destroy(a);
}

static void test_two_contacts_q_order_and_removal(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_reg_view_t v;
	scscf_binding_t c[2] = { contact("sip:a@10.0.0.1", 1600, "cid1", 1),
				 contact("sip:b@10.0.0.2", 1600, "cid2", 1) };
	c[0].q = 500;
	c[1].q = 900;
	assert_int_equal(scscf_reg_store_open(":memory:", NULL, &st), 0);
	assert_int_equal(apply(st, c, 2, 0, 1000, 0, a, &chg), 0);
	assert_int_equal(chg.n_live, 2);
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR(IMPU), 1000, a, &v), 0);
	assert_int_equal(v.n_bindings, 2);
	assert_true(ims_str_eq_c(v.bindings[0].uri, "sip:b@10.0.0.2")); /* q=0.9 first */
	scscf_reg_view_release(&v);

	/* Expires 0 on one contact removes only that one */
	c[0].expires = 1001;
	c[0].cseq = 2;
	assert_int_equal(apply(st, &c[0], 1, 0, 1001, 0, a, &chg), 0);
	assert_int_equal(chg.n_live, 1);
	assert_int_equal(chg.new_state, SCSCF_REG_REGISTERED);

	/* "*" removes the rest; the dry run says de-registration first */
	assert_int_equal(apply(st, NULL, 0, 1, 1002, 1, a, &chg), 0);
	assert_int_equal(chg.old_state, SCSCF_REG_REGISTERED);
	assert_int_equal(chg.new_state, SCSCF_REG_NOT_REGISTERED);
	assert_int_equal(scscf_reg_store_state(st, IMS_STR(IMPU), 1002), SCSCF_REG_REGISTERED);
	assert_int_equal(apply(st, NULL, 0, 1, 1002, 0, a, &chg), 0);
	assert_int_equal(chg.n_bindings, 1);
	assert_int_equal(chg.bindings[0].event, SCSCF_CEV_UNREGISTERED);
	assert_int_equal(scscf_reg_store_state(st, IMS_STR(TEL), 1002), SCSCF_REG_NOT_REGISTERED);
	assert_int_equal(scscf_reg_store_count(st, NULL), 0);
	scscf_reg_store_close(st);
	ims_arena_destroy(a);
}

static void test_instance_reg_id_replaces_binding(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_binding_t c = contact("sip:ue@10.0.0.1:5060", 1600, "cid1", 1);
	c.instance = IMS_STR("\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
	c.reg_id = 1;
	assert_int_equal(scscf_reg_store_open(":memory:", NULL, &st), 0);
	assert_int_equal(apply(st, &c, 1, 0, 1000, 0, a, &chg), 0);
	/* RFC 5626 §6: same instance and reg-id, new address (NAT rebinding) */
	c.uri = IMS_STR("sip:ue@10.0.0.99:6000");
	c.call_id = IMS_STR("cid9");
	assert_int_equal(apply(st, &c, 1, 0, 1001, 0, a, &chg), 0);
	assert_int_equal(chg.n_bindings, 1);
	assert_int_equal(chg.bindings[0].event, SCSCF_CEV_REFRESHED);
	assert_true(ims_str_eq_c(chg.bindings[0].uri, "sip:ue@10.0.0.99:6000"));
	/* another reg-id is another flow: a second binding */
	c.reg_id = 2;
	assert_int_equal(apply(st, &c, 1, 0, 1002, 0, a, &chg), 0);
	assert_int_equal(chg.n_live, 2);
	scscf_reg_store_close(st);
	ims_arena_destroy(a);
}

static int expired_calls, last_live;
static scscf_reg_state_t last_state;
static void on_change(void *arg, const scscf_reg_change_t *chg)
{
	(void)arg;
	expired_calls++;
	last_live = (int)chg->n_live;
	last_state = chg->new_state;
	for (size_t i = 0; i < chg->n_bindings; i++)
		if (chg->bindings[i].expires <= 1700)
			assert_int_equal(chg->bindings[i].event, SCSCF_CEV_EXPIRED);
}

static void test_expiry_on_virtual_clock(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_binding_t c[2] = { contact("sip:a@10.0.0.1", 1600, "cid1", 1),
				 contact("sip:b@10.0.0.2", 1800, "cid2", 1) };
	assert_int_equal(scscf_reg_store_open(":memory:", NULL, &st), 0);
	assert_int_equal(apply(st, c, 2, 0, 1000, 0, a, &chg), 0);
	expired_calls = 0;
	assert_int_equal(scscf_reg_store_expire(st, 1599, on_change, NULL), 0);
	assert_int_equal(expired_calls, 0);
	/* the first contact goes at its expiry time: still registered */
	assert_int_equal(scscf_reg_store_expire(st, 1600, on_change, NULL), 1);
	assert_int_equal(expired_calls, 1);
	assert_int_equal(last_live, 1);
	assert_int_equal(last_state, SCSCF_REG_REGISTERED);
	/* lookups never show an expired binding even before the sweep */
	scscf_reg_view_t v;
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR(IMPU), 1800, a, &v), 0);
	assert_int_equal(v.n_bindings, 0);
	assert_int_equal(v.state, SCSCF_REG_NOT_REGISTERED);
	scscf_reg_view_release(&v);
	/* the last one: NOT_REGISTERED (the caller sends SAR TIMEOUT_DEREGISTRATION) */
	assert_int_equal(scscf_reg_store_expire(st, 1800, on_change, NULL), 1);
	assert_int_equal(expired_calls, 2);
	assert_int_equal(last_state, SCSCF_REG_NOT_REGISTERED);
	assert_int_equal(scscf_reg_store_count(st, NULL), 0);
	scscf_reg_store_close(st);
	ims_arena_destroy(a);
}

static void test_network_removal(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	ims_str_t *keys;
	scscf_binding_t c = contact("sip:a@10.0.0.1", 1600, "cid1", 1);
	assert_int_equal(scscf_reg_store_open(":memory:", NULL, &st), 0);
	assert_int_equal(apply(st, &c, 1, 0, 1000, 0, a, &chg), 0);
	assert_int_equal(scscf_reg_store_find_impi(st, IMS_STR(IMPI), a, &keys), 1);
	assert_true(ims_str_eq_c(keys[0], IMPU));
	assert_int_equal(scscf_reg_store_remove(st, IMS_STR(TEL), SCSCF_CEV_REJECTED, 1001, a, &chg),
			 0);
	assert_int_equal(chg.old_state, SCSCF_REG_REGISTERED);
	assert_int_equal(chg.new_state, SCSCF_REG_NOT_REGISTERED);
	assert_int_equal(chg.bindings[0].event, SCSCF_CEV_REJECTED);
	assert_int_equal(chg.n_impus, 2);
	assert_int_equal(scscf_reg_store_remove(st, IMS_STR(IMPU), SCSCF_CEV_REJECTED, 1001, a, &chg),
			 IMS_ENOENT);
	assert_int_equal(scscf_reg_store_find_impi(st, IMS_STR(IMPI), a, &keys), 0);
	scscf_reg_store_close(st);
	ims_arena_destroy(a);
}

static void test_restart_reloads_bindings(void **state)
{
	(void)state;
	char path[] = "/tmp/test_scscf_reg_XXXXXX";
	int fd = mkstemp(path);
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_reg_view_t v;
	scscf_binding_t c[2] = { contact("sip:a@10.0.0.1", 1600, "cid1", 1),
				 contact("sip:b@10.0.0.2", 1700, "cid2", 3) };
	assert_true(fd >= 0);
	close(fd);
	c[1].q = 250;
	c[1].instance = IMS_STR("\"<urn:uuid:1>\"");
	c[1].reg_id = 1;
	assert_int_equal(scscf_reg_store_open(path, NULL, &st), 0);
	assert_int_equal(apply(st, c, 2, 0, 1000, 0, a, &chg), 0);
	scscf_reg_store_close(st);

	assert_int_equal(scscf_reg_store_open(path, NULL, &st), 0);
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR(TEL), 1000, a, &v), 0);
	assert_int_equal(v.n_bindings, 2);
	assert_int_equal(v.n_impus, 2);
	assert_true(ims_str_eq_c(v.impi, IMPI));
	assert_true(ims_str_eq_c(v.bindings[1].uri, "sip:b@10.0.0.2"));
	assert_int_equal(v.bindings[1].q, 250);
	assert_int_equal(v.bindings[1].reg_id, 1);
	assert_int_equal(v.bindings[1].expires, 1700);
	assert_int_equal(v.bindings[1].cseq, 3);
	assert_true(ims_str_eq_c(v.bindings[1].instance, "\"<urn:uuid:1>\""));
	assert_true(ims_str_eq_c(v.bindings[1].path, "<sip:term@pcscf.ims.example:5060;lr>"));
	scscf_reg_view_release(&v);
	/* still out-of-order protected after the restart */
	c[1].cseq = 3;
	assert_int_equal(apply(st, &c[1], 1, 0, 1001, 0, a, &chg), IMS_ESTATE);
	/* new bindings get fresh ids */
	scscf_binding_t c3 = contact("sip:c@10.0.0.3", 1700, "cid3", 1);
	assert_int_equal(apply(st, &c3, 1, 0, 1001, 0, a, &chg), 0);
	for (size_t i = 0; i + 1 < chg.n_bindings; i++)
		for (size_t j = i + 1; j < chg.n_bindings; j++)
			assert_true(chg.bindings[i].id != chg.bindings[j].id);
	/* a de-registration is persisted too */
	assert_int_equal(apply(st, NULL, 0, 1, 1002, 0, a, &chg), 0);
	scscf_reg_store_close(st);
	assert_int_equal(scscf_reg_store_open(path, NULL, &st), 0);
	assert_int_equal(scscf_reg_store_count(st, NULL), 0);
	scscf_reg_store_close(st);
	unlink_db(path);
	ims_arena_destroy(a);
}

/* A write that fails (the file is locked by another writer) is rolled back
 * and the store's reused statements work again on the next write. */
static void test_failed_write_then_next_write_persists(void **state)
{
	(void)state;
	char path[] = "/tmp/test_scscf_reg_XXXXXX";
	int fd = mkstemp(path);
	scscf_reg_store_t *st;
	sqlite3 *other;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_binding_t c1 = contact("sip:a@10.0.0.1", 1600, "cid1", 1);
	scscf_binding_t c2 = contact("sip:b@10.0.0.2", 1700, "cid2", 1);
	size_t nb = 0;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(scscf_reg_store_open(path, NULL, &st), 0);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	/* busy for the store's busy timeout, then refused */
	assert_int_equal(apply(st, &c1, 1, 0, 1000, 0, a, &chg), IMS_EDB);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(apply(st, &c2, 1, 0, 1001, 0, a, &chg), 0);
	assert_int_equal(chg.n_live, 2);
	sqlite3_close(other);
	scscf_reg_store_close(st);

	/* the second write carried both bindings (memory was ahead of the file) */
	assert_int_equal(scscf_reg_store_open(path, NULL, &st), 0);
	assert_int_equal(scscf_reg_store_count(st, &nb), 1);
	assert_int_equal(nb, 2);
	scscf_reg_store_close(st);
	unlink_db(path);
	ims_arena_destroy(a);
}

/* profiles are shared with readers and freed once */
static int frees;
static void count_free(struct scscf_profile *p)
{
	free(p);
	frees++;
}

static void test_profile_reference_outlives_replacement(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_reg_view_t v;
	scscf_reg_update_t u;
	scscf_binding_t c = contact("sip:a@10.0.0.1", 1600, "cid1", 1);
	struct scscf_profile *p1 = malloc(16), *p2 = malloc(16);
	frees = 0;
	assert_int_equal(scscf_reg_store_open(":memory:", count_free, &st), 0);
	memset(&u, 0, sizeof(u));
	u.impi = IMS_STR(IMPI);
	u.impu = IMS_STR(IMPU);
	u.contacts = &c;
	u.n_contacts = 1;
	u.profile = p1;
	assert_int_equal(scscf_reg_store_apply(st, &u, 1000, 0, a, &chg), 0);
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR(IMPU), 1000, a, &v), 0);
	assert_ptr_equal(v.profile, p1);
	/* PPR replaces it while the view still holds p1 */
	assert_int_equal(scscf_reg_store_set_profile(st, IMS_STR(IMPU), IMS_STR("<x/>"), p2), 0);
	assert_int_equal(frees, 0);
	scscf_reg_view_release(&v);
	assert_int_equal(frees, 1);
	scscf_reg_store_close(st);
	assert_int_equal(frees, 2);
	ims_arena_destroy(a);
}

static void test_unregistered_profile_then_registration(void **state)
{
	(void)state;
	scscf_reg_store_t *st;
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_change_t chg;
	scscf_reg_view_t v;
	struct scscf_profile *p = malloc(16);
	scscf_binding_t c = contact("sip:a@10.0.0.1", 1600, "cid1", 1);
	frees = 0;
	assert_int_equal(scscf_reg_store_open(":memory:", count_free, &st), 0);
	/* TS 29.228 §6.1.2: SAR UNREGISTERED_USER keeps the profile */
	assert_int_equal(scscf_reg_store_set_unregistered(st, IMS_STR(IMPI), IMS_STR(IMPU), set2, 2,
							  IMS_STR("<IMSSubscription/>"), p),
			 0);
	assert_int_equal(scscf_reg_store_state(st, IMS_STR(TEL), 1000), SCSCF_REG_UNREGISTERED);
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR(IMPU), 1000, a, &v), 0);
	assert_int_equal(v.state, SCSCF_REG_UNREGISTERED);
	assert_ptr_equal(v.profile, p);
	assert_int_equal(v.n_bindings, 0);
	scscf_reg_view_release(&v);
	/* the user registers: from UNREGISTERED to REGISTERED, profile kept */
	assert_int_equal(apply(st, &c, 1, 0, 1000, 1, a, &chg), 0);
	assert_int_equal(chg.old_state, SCSCF_REG_UNREGISTERED);
	assert_int_equal(apply(st, &c, 1, 0, 1000, 0, a, &chg), 0);
	assert_int_equal(scscf_reg_store_lookup(st, IMS_STR(IMPU), 1000, a, &v), 0);
	assert_int_equal(v.state, SCSCF_REG_REGISTERED);
	assert_ptr_equal(v.profile, p);
	scscf_reg_view_release(&v);
	assert_int_equal(frees, 0);
	scscf_reg_store_close(st);
	assert_int_equal(frees, 1);
	ims_arena_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_whole_implicit_set),
		cmocka_unit_test(test_refresh_shorten_and_out_of_order),
		cmocka_unit_test(test_two_contacts_q_order_and_removal),
		cmocka_unit_test(test_instance_reg_id_replaces_binding),
		cmocka_unit_test(test_expiry_on_virtual_clock),
		cmocka_unit_test(test_network_removal),
		cmocka_unit_test(test_restart_reloads_bindings),
		cmocka_unit_test(test_failed_write_then_next_write_persists),
		cmocka_unit_test(test_profile_reference_outlives_replacement),
		cmocka_unit_test(test_unregistered_profile_then_registration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
