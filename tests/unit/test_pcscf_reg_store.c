/* The P-CSCF registration cache: lookups by flow, contact and identity,
 * replacement on re-registration, expiry on a virtual clock, OOM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "reg-store.h"

static pcscf_reg_t make(const char *ip, uint16_t port, const char *contact, const char *impu,
			int64_t exp)
{
	pcscf_reg_t r;
	memset(&r, 0, sizeof(r));
	r.flow.transport = PCSCF_TP_UDP;
	snprintf(r.flow.ip, sizeof(r.flow.ip), "%s", ip);
	r.flow.port = port;
	r.impu = ims_str_cstr(impu);
	r.n_assoc = 2;
	r.assoc[0] = ims_str_cstr(impu);
	r.assoc[1] = IMS_STR("tel:+15550000001");
	r.n_contacts = 1;
	r.contacts[0] = ims_str_cstr(contact);
	r.n_service_route = 1;
	r.service_route[0] = IMS_STR("<sip:orig@127.0.0.1:6060;lr>");
	r.expires_at = exp;
	return r;
}

static void test_put_and_find_by_flow_contact(void **state)
{
	(void)state;
	pcscf_reg_store_t *st = pcscf_reg_store_create();
	ims_arena_t *a = ims_arena_create(1024);
	pcscf_reg_t r = make("127.0.0.1", 14061, "sip:ue1@127.0.0.1:14061", "sip:ue1@ims.test", 100);
	assert_int_equal(pcscf_reg_store_put(st, &r), 0);
	assert_int_equal(pcscf_reg_store_count(st), 1);

	pcscf_reg_t *got;
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_UDP, "127.0.0.1", 14061, 10, a, &got), 0);
	assert_true(ims_str_eq_c(got->impu, "sip:ue1@ims.test"));
	assert_true(ims_str_eq_c(got->service_route[0], "<sip:orig@127.0.0.1:6060;lr>"));
	/* The copy does not alias the caller's strings. */
	assert_ptr_not_equal(got->impu.s, r.impu.s);

	/* Port, transport and address must all match. */
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_UDP, "127.0.0.1", 14062, 10, a, &got), IMS_ENOENT);
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_TCP, "127.0.0.1", 14061, 10, a, &got), IMS_ENOENT);
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_UDP, "127.0.0.2", 14061, 10, a, &got), IMS_ENOENT);

	/* Contact lookup uses URI equality: host case and default port. */
	assert_int_equal(pcscf_reg_store_find_contact(st, IMS_STR("sip:ue1@127.0.0.1:14061"), 10, a, &got), 0);
	assert_int_equal(got->flow.port, 14061);
	/* Another user part at the same host:port is the same UE binding (a
	 * dialog's remote target); another port is not. */
	assert_int_equal(pcscf_reg_store_find_contact(st, IMS_STR("sip:127.0.0.1:14061"), 10, a, &got), 0);
	assert_int_equal(pcscf_reg_store_find_contact(st, IMS_STR("sip:ue1@127.0.0.1:14062"), 10, a, &got), IMS_ENOENT);
	assert_int_equal(pcscf_reg_store_find_contact(st, IMS_STR("sip:ue1@127.0.0.2:14061"), 10, a, &got), IMS_ENOENT);

	pcscf_reg_store_destroy(st);
	ims_arena_destroy(a);
}

static void test_reregistration_replaces(void **state)
{
	(void)state;
	pcscf_reg_store_t *st = pcscf_reg_store_create();
	ims_arena_t *a = ims_arena_create(1024);
	pcscf_reg_t r = make("127.0.0.1", 14061, "sip:ue1@127.0.0.1:14061", "sip:ue1@ims.test", 100);
	assert_int_equal(pcscf_reg_store_put(st, &r), 0);
	r.contacts[0] = IMS_STR("sip:ue1-new@127.0.0.1:14061");
	r.expires_at = 500;
	assert_int_equal(pcscf_reg_store_put(st, &r), 0);
	assert_int_equal(pcscf_reg_store_count(st), 1);
	pcscf_reg_t *got;
	assert_int_equal(pcscf_reg_store_find_contact(st, IMS_STR("sip:ue1-new@127.0.0.1:14061"), 10, a, &got), 0);
	assert_true(ims_str_eq_c(got->contacts[0], "sip:ue1-new@127.0.0.1:14061"));
	/* The old contact only finds the replacement through host:port. */
	assert_int_equal(pcscf_reg_store_find_contact(st, IMS_STR("sip:ue1@127.0.0.1:14061"), 10, a, &got), 0);
	assert_true(ims_str_eq_c(got->contacts[0], "sip:ue1-new@127.0.0.1:14061"));
	assert_int_equal(got->expires_at, 500);
	pcscf_reg_store_destroy(st);
	ims_arena_destroy(a);
}

static void test_expiry_on_virtual_clock(void **state)
{
	(void)state;
	pcscf_reg_store_t *st = pcscf_reg_store_create();
	ims_arena_t *a = ims_arena_create(1024);
	pcscf_reg_t r1 = make("127.0.0.1", 1, "sip:a@127.0.0.1:1", "sip:a@ims.test", 100);
	pcscf_reg_t r2 = make("127.0.0.1", 2, "sip:b@127.0.0.1:2", "sip:b@ims.test", 200);
	assert_int_equal(pcscf_reg_store_put(st, &r1), 0);
	assert_int_equal(pcscf_reg_store_put(st, &r2), 0);
	pcscf_reg_t *got;
	/* An expired entry is not found even before the sweep. */
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_UDP, "127.0.0.1", 1, 100, a, &got), IMS_ENOENT);
	assert_int_equal(pcscf_reg_store_expire(st, 99), 0);
	assert_int_equal(pcscf_reg_store_expire(st, 150), 1);
	assert_int_equal(pcscf_reg_store_count(st), 1);
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_UDP, "127.0.0.1", 2, 150, a, &got), 0);
	assert_int_equal(pcscf_reg_store_expire(st, 200), 1);
	assert_int_equal(pcscf_reg_store_count(st), 0);
	pcscf_reg_store_destroy(st);
	ims_arena_destroy(a);
}

static void test_remove_by_impu_and_flow(void **state)
{
	(void)state;
	pcscf_reg_store_t *st = pcscf_reg_store_create();
	pcscf_reg_t r1 = make("127.0.0.1", 1, "sip:a@127.0.0.1:1", "sip:a@ims.test", 100);
	pcscf_reg_t r2 = make("127.0.0.1", 2, "sip:b@127.0.0.1:2", "sip:b@ims.test", 100);
	pcscf_reg_t r3 = make("127.0.0.1", 3, "sip:a2@127.0.0.1:3", "sip:a@ims.test", 100);
	assert_int_equal(pcscf_reg_store_put(st, &r1), 0);
	assert_int_equal(pcscf_reg_store_put(st, &r2), 0);
	assert_int_equal(pcscf_reg_store_put(st, &r3), 0);
	/* Both flows of sip:a are dropped (a NOTIFY "terminated" for it). */
	assert_int_equal(pcscf_reg_store_remove_impu(st, IMS_STR("sip:a@ims.test")), 2);
	assert_int_equal(pcscf_reg_store_count(st), 1);
	assert_int_equal(pcscf_reg_store_remove_impu(st, IMS_STR("sip:nobody@ims.test")), 0);
	assert_int_equal(pcscf_reg_store_remove_flow(st, PCSCF_TP_UDP, "127.0.0.1", 2), 0);
	assert_int_equal(pcscf_reg_store_remove_flow(st, PCSCF_TP_UDP, "127.0.0.1", 2), IMS_ENOENT);
	assert_int_equal(pcscf_reg_store_count(st), 0);
	pcscf_reg_store_destroy(st);
}

static void test_put_rejects_empty(void **state)
{
	(void)state;
	pcscf_reg_store_t *st = pcscf_reg_store_create();
	pcscf_reg_t r = make("127.0.0.1", 1, "sip:a@127.0.0.1:1", "sip:a@ims.test", 100);
	r.n_contacts = 0;
	assert_int_equal(pcscf_reg_store_put(st, &r), IMS_EINVAL);
	assert_int_equal(pcscf_reg_store_put(st, NULL), IMS_EINVAL);
	pcscf_reg_store_destroy(st);
}

static void test_copy_out_of_memory(void **state)
{
	(void)state;
	pcscf_reg_t r = make("127.0.0.1", 1, "sip:a@127.0.0.1:1", "sip:a@ims.test", 100);
	for (long n = 1; n < 8; n++) {
		ims_arena_t *a = ims_arena_create(64);
		ims_arena_fail_after(a, n);
		pcscf_reg_t *out = NULL;
		int rc = pcscf_reg_copy(&r, a, &out);
		assert_true(rc == 0 || rc == IMS_ENOMEM);
		ims_arena_destroy(a);
	}
}

static void test_has_impu_tel_and_sip(void **state)
{
	(void)state;
	pcscf_reg_t r = make("127.0.0.1", 1, "sip:a@127.0.0.1:1", "sip:a@ims.test", 100);
	assert_true(pcscf_reg_has_impu(&r, IMS_STR("tel:+15550000001")));
	assert_true(pcscf_reg_has_impu(&r, IMS_STR("sip:a@IMS.TEST")));
	assert_false(pcscf_reg_has_impu(&r, IMS_STR("sip:b@ims.test")));
}

/* The identity index must find what URI equality finds: an escaped user
 * part, another host case, a tel number with visual separators, an
 * associated URI that is not the IMPU; and among many registrations it
 * removes exactly the ones named. */
static void test_remove_impu_by_equal_uri_among_many(void **state)
{
	(void)state;
	pcscf_reg_store_t *st = pcscf_reg_store_create();
	char contact[64], impu[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(contact, sizeof(contact), "sip:u%d@127.0.0.1:%d", i, 20000 + i);
		snprintf(impu, sizeof(impu), "sip:user%d@ims.test", i);
		pcscf_reg_t r = make("127.0.0.1", (uint16_t)(20000 + i), contact, impu, 100);
		r.n_assoc = 1; /* only the IMPU: the tel URI below is per entry */
		assert_int_equal(pcscf_reg_store_put(st, &r), 0);
	}
	pcscf_reg_t t = make("127.0.0.2", 1, "sip:t@127.0.0.2:1", "sip:tel-owner@ims.test", 100);
	t.assoc[1] = IMS_STR("tel:+1-555-000-0042");
	assert_int_equal(pcscf_reg_store_put(st, &t), 0);
	assert_int_equal(pcscf_reg_store_count(st), 3001);

	/* %75 is 'u'; the host compares without case */
	assert_int_equal(pcscf_reg_store_remove_impu(st, IMS_STR("sip:%75ser7@IMS.Test")), 1);
	assert_int_equal(pcscf_reg_store_remove_impu(st, IMS_STR("sip:user7@ims.test")), 0);
	/* user parts compare with case: not the same identity */
	assert_int_equal(pcscf_reg_store_remove_impu(st, IMS_STR("sip:USER8@ims.test")), 0);
	/* an associated tel URI, written with other separators */
	assert_int_equal(pcscf_reg_store_remove_impu(st, IMS_STR("tel:+1555(000)0042")), 1);
	assert_int_equal(pcscf_reg_store_remove_impu(st, IMS_STR("sip:user2999@ims.test")), 1);
	assert_int_equal(pcscf_reg_store_count(st), 2998);
	ims_arena_t *a = ims_arena_create(1024);
	pcscf_reg_t *got;
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_UDP, "127.0.0.1", 20008, 10, a, &got), 0);
	assert_int_equal(pcscf_reg_store_find_flow(st, PCSCF_TP_UDP, "127.0.0.1", 20007, 10, a, &got),
			 IMS_ENOENT);
	ims_arena_destroy(a);
	pcscf_reg_store_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_and_find_by_flow_contact),
		cmocka_unit_test(test_reregistration_replaces),
		cmocka_unit_test(test_expiry_on_virtual_clock),
		cmocka_unit_test(test_remove_by_impu_and_flow),
		cmocka_unit_test(test_put_rejects_empty),
		cmocka_unit_test(test_copy_out_of_memory),
		cmocka_unit_test(test_has_impu_tel_and_sip),
		cmocka_unit_test(test_remove_impu_by_equal_uri_among_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
