/* P-CSCF header manipulation: REGISTER preparation, ck/ik removal from the
 * 401, the registration built from the 200, hygiene at the trust boundary,
 * P-Asserted-Identity assertion and the Service-Route push. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"
#include "reg-edit.h"
#include "route-edit.h"

typedef struct fx {
	ims_arena_t *a;
	char *buf;
	sip_msg_t *m;
} fx_t;

static char *load(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/pcscf/%s", IMS_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *b = malloc(8192);
	assert_non_null(b);
	*len = fread(b, 1, 8191, f);
	b[*len] = 0;
	fclose(f);
	return b;
}

static sip_msg_t *parse_file(fx_t *x, const char *name)
{
	size_t len;
	x->buf = load(name, &len);
	sip_parse_err_t err;
	int rc = sip_msg_parse(x->buf, len, x->a, &x->m, &err);
	if (rc != 0)
		fail_msg("%s: %s", name, err.reason);
	return x->m;
}

static int setup(void **state)
{
	fx_t *x = calloc(1, sizeof(*x));
	x->a = ims_arena_create(4096);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_t *x = *state;
	ims_arena_destroy(x->a);
	free(x->buf);
	free(x);
	return 0;
}

static char *print(fx_t *x, sip_msg_t *m)
{
	ims_str_t out;
	assert_int_equal(sip_msg_print_arena(m, x->a, &out), 0);
	return (char *)out.s;
}

static const pcscf_reg_opts_t opts = {
	.path_uri = IMS_STR("sip:term@127.0.0.1:5060;lr"),
	.visited_network_id = IMS_STR("\"ims.mnc001.mcc001.3gppnetwork.org\""),
	.icid_host = IMS_STR("127.0.0.1"),
	.orig_ioi = IMS_STR("ims.mnc001.mcc001.3gppnetwork.org"),
};

static void test_register_gets_path_pvni_pcv_and_loses_forged_headers(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "register.sip");
	assert_int_equal(pcscf_reg_prepare(m, &opts), 0);

	/* Reparse the printed result: what the I-CSCF will see. */
	char *txt = print(x, m);
	sip_msg_t *r;
	assert_int_equal(sip_msg_parse(txt, strlen(txt), x->a, &r, NULL), 0);

	sip_hdr_t *path = sip_msg_hdr(r, SIP_HDR_PATH);
	assert_non_null(path);
	assert_true(ims_str_eq_c(path->value, "<sip:term@127.0.0.1:5060;lr>"));

	sip_hdr_t *pai = sip_msg_hdr(r, SIP_HDR_P_ASSERTED_IDENTITY);
	assert_null(pai);

	sip_hdr_t *pvni = sip_msg_hdr(r, SIP_HDR_P_VISITED_NETWORK_ID);
	assert_non_null(pvni);
	assert_true(ims_str_eq_c(pvni->value, "\"ims.mnc001.mcc001.3gppnetwork.org\""));
	assert_null(sip_hdr_next_same(pvni));

	sip_hdr_t *pcv = sip_msg_hdr(r, SIP_HDR_P_CHARGING_VECTOR);
	assert_non_null(pcv);
	assert_null(sip_hdr_next_same(pcv));
	assert_null(strstr(txt, "forged"));
	/* icid-value=<32 hex>; */
	assert_true(ims_str_eq(ims_str_from(pcv->value.s, 11), IMS_STR("icid-value=")));
	assert_int_equal(pcv->value.s[11 + 32], ';');
	for (int i = 11; i < 11 + 32; i++)
		assert_non_null(strchr("0123456789abcdef", pcv->value.s[i]));
	assert_true(strstr(txt, "icid-generated-at=127.0.0.1") != NULL);
	assert_true(strstr(txt, "orig-ioi=ims.mnc001.mcc001.3gppnetwork.org") != NULL);

	/* RFC 3327: "path" in Require and Supported, "timer" kept. */
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	int req_path = 0, sup_path = 0, sup_timer = 0;
	while (sip_msg_next_value(r, SIP_HDR_REQUIRE, &it, &v) == 1)
		req_path |= ims_str_eq_c(v, "path");
	memset(&it, 0, sizeof(it));
	while (sip_msg_next_value(r, SIP_HDR_SUPPORTED, &it, &v) == 1) {
		sup_path |= ims_str_eq_c(v, "path");
		sup_timer |= ims_str_eq_c(v, "timer");
	}
	assert_true(req_path);
	assert_true(sup_path);
	assert_true(sup_timer);
}

static void test_two_icids_differ(void **state)
{
	(void)state;
	char a[33], b[33];
	assert_int_equal(pcscf_icid_new(a), 0);
	assert_int_equal(pcscf_icid_new(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
}

static void test_401_loses_ck_ik_which_are_kept(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "401.sip");
	ims_str_t ck, ik;
	assert_int_equal(pcscf_reg_strip_keys(m, x->a, &ck, &ik), 1);
	assert_true(ims_str_eq_c(ck, "00112233445566778899aabbccddeeff"));
	assert_true(ims_str_eq_c(ik, "ffeeddccbbaa99887766554433221100"));

	char *txt = print(x, m);
	assert_null(strstr(txt, "ck="));
	assert_null(strstr(txt, "ik="));
	sip_msg_t *r;
	assert_int_equal(sip_msg_parse(txt, strlen(txt), x->a, &r, NULL), 0);
	sip_hdr_t *w = sip_msg_hdr(r, SIP_HDR_WWW_AUTHENTICATE);
	assert_non_null(w);
	sip_auth_t au;
	assert_int_equal(sip_auth_parse(w->value, x->a, &au), 0);
	assert_true(ims_str_eq_c(au.scheme, "Digest"));
	assert_true(ims_str_eq_c(au.algorithm, "AKAv1-MD5"));
	assert_true(ims_str_eq_c(au.qop, "auth"));
	assert_true(ims_str_eq_c(au.nonce, "q1BmYmZhMjQ0ZDU1MTY3OTBhYzY0YzJlM2Y5NzRjZjE="));
	assert_int_equal(au.ck.len, 0);
	assert_int_equal(au.ik.len, 0);
}

static void test_challenge_param_table(void **state)
{
	fx_t *x = *state;
	static const struct {
		const char *in, *out;
		int rc;
	} t[] = {
		{ "Digest realm=\"r\",ck=\"aa\",ik=\"bb\"", "Digest realm=\"r\"", 1 },
		{ "Digest ck=aa, realm=\"a,b\", ik=bb, qop=\"auth\"", "Digest realm=\"a,b\", qop=\"auth\"", 1 },
		{ "Digest realm=\"r\", nonce=\"n\"", "Digest realm=\"r\", nonce=\"n\"", 0 },
		{ "Digest realm=\"ck=\\\"x\\\"\"", "Digest realm=\"ck=\\\"x\\\"\"", 0 },
		{ "Digest realm=\"open", NULL, IMS_EPARSE },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ims_str_t out, ck = IMS_STR_NULL;
		int rc = pcscf_challenge_drop_params(ims_str_cstr(t[i].in), x->a, &out, &ck, NULL);
		assert_int_equal(rc, t[i].rc);
		if (t[i].out)
			assert_string_equal(out.s, t[i].out);
		if (rc == 1)
			assert_true(ims_str_eq_c(ck, "aa"));
	}
}

static void test_200_gives_registration(void **state)
{
	fx_t *x = *state;
	sip_msg_t *req = parse_file(x, "register.sip");
	char *b1 = x->buf;
	sip_msg_t *ok = parse_file(x, "200.sip");
	pcscf_flow_t flow = { .transport = PCSCF_TP_UDP, .port = 14061 };
	strcpy(flow.ip, "127.0.0.1");
	pcscf_reg_t *r;
	assert_int_equal(pcscf_reg_from_ok(req, ok, &flow, 1000, x->a, &r), 0);
	free(b1);
	/* Only the UE's own contact, with the expiry the registrar granted. */
	assert_int_equal(r->n_contacts, 1);
	assert_true(ims_str_eq_c(r->contacts[0], "sip:001010000000001@127.0.0.1:14061"));
	assert_int_equal(r->expires_at, 1300);
	assert_int_equal(r->n_service_route, 1);
	assert_true(ims_str_eq_c(r->service_route[0],
				 "<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>"));
	assert_int_equal(r->n_assoc, 2);
	assert_true(ims_str_eq_c(r->assoc[0], "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org"));
	assert_true(ims_str_eq_c(r->assoc[1], "tel:+15550000001"));
	assert_true(ims_str_eq_c(r->impu, "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org"));
	assert_true(ims_str_eq_c(r->impi, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"));
	assert_int_equal(r->flow.port, 14061);
}

static pcscf_reg_t *sample_reg(ims_arena_t *a)
{
	pcscf_reg_t *r = ims_arena_zalloc(a, sizeof(*r));
	r->n_assoc = 2;
	r->assoc[0] = IMS_STR("sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
	r->assoc[1] = IMS_STR("tel:+15550000001");
	r->impu = r->assoc[0];
	r->n_service_route = 2;
	r->service_route[0] = IMS_STR("<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>");
	r->service_route[1] = IMS_STR("<sip:as.example:5090;lr>");
	r->n_contacts = 1;
	r->contacts[0] = IMS_STR("sip:001010000000001@127.0.0.1:14061");
	return r;
}

static void test_invite_hygiene_pai_from_ppi_and_service_route(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "invite.sip");
	pcscf_reg_t *reg = sample_reg(x->a);
	assert_true(pcscf_is_initial(m));
	/* P-Served-User, P-Asserted-Identity, P-Charging-Function-Addresses,
	 * P-Called-Party-ID. */
	assert_int_equal(pcscf_strip_untrusted(m), 4);
	ims_str_t asserted;
	assert_int_equal(pcscf_assert_identity(m, reg, &asserted), 0);
	assert_true(ims_str_eq_c(asserted, "tel:+15550000001"));
	assert_int_equal(pcscf_push_service_route(m, reg), 0);

	char *txt = print(x, m);
	sip_msg_t *r;
	assert_int_equal(sip_msg_parse(txt, strlen(txt), x->a, &r, NULL), 0);
	assert_null(sip_msg_hdr(r, SIP_HDR_P_PREFERRED_IDENTITY));
	assert_null(sip_msg_hdr_by_name(r, IMS_STR("P-Served-User")));
	assert_null(sip_msg_hdr(r, SIP_HDR_P_CHARGING_FUNCTION_ADDRESSES));
	sip_hdr_t *pai = sip_msg_hdr(r, SIP_HDR_P_ASSERTED_IDENTITY);
	assert_non_null(pai);
	assert_true(ims_str_eq_c(pai->value, "<tel:+15550000001>"));
	assert_null(sip_hdr_next_same(pai));

	sip_val_iter_t it = { 0 };
	ims_str_t v;
	assert_int_equal(sip_msg_next_value(r, SIP_HDR_ROUTE, &it, &v), 1);
	assert_true(ims_str_eq_c(v, "<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>"));
	assert_int_equal(sip_msg_next_value(r, SIP_HDR_ROUTE, &it, &v), 1);
	assert_true(ims_str_eq_c(v, "<sip:as.example:5090;lr>"));
	assert_int_equal(sip_msg_next_value(r, SIP_HDR_ROUTE, &it, &v), 0);
}

static void test_pai_default_when_ppi_not_registered(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "invite.sip");
	sip_hdr_t *ppi = sip_msg_hdr(m, SIP_HDR_P_PREFERRED_IDENTITY);
	assert_int_equal(sip_msg_hdr_set_value(m, ppi, IMS_STR("<sip:boss@ims.mnc001.mcc001.3gppnetwork.org>")), 0);
	pcscf_strip_untrusted(m);
	pcscf_reg_t *reg = sample_reg(x->a);
	ims_str_t asserted;
	assert_int_equal(pcscf_assert_identity(m, reg, &asserted), 0);
	assert_true(ims_str_eq_c(asserted, "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org"));
	char *txt = print(x, m);
	assert_null(strstr(txt, "boss"));
	if (!strstr(txt, "P-Asserted-Identity: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>"))
		fail_msg("%s", txt);
}

static void test_pai_default_without_ppi(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "invite.sip");
	sip_msg_hdr_remove_all(m, SIP_HDR_P_PREFERRED_IDENTITY);
	pcscf_reg_t *reg = sample_reg(x->a);
	reg->n_assoc = 0; /* falls back to the registered impu */
	ims_str_t asserted;
	assert_int_equal(pcscf_assert_identity(m, reg, &asserted), 0);
	assert_true(ims_str_eq_c(asserted, "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org"));
	reg->impu = IMS_STR_NULL;
	assert_int_equal(pcscf_assert_identity(m, reg, &asserted), IMS_ENOENT);
}

static void test_route_is_ours(void **state)
{
	(void)state;
	ims_str_t host = IMS_STR("127.0.0.1");
	assert_true(pcscf_route_is_ours(IMS_STR("<sip:term@127.0.0.1:5060;lr>"), host, 5060, IMS_STR("term")));
	assert_true(pcscf_route_is_ours(IMS_STR("<sip:term@127.0.0.1;lr>"), host, 5060, IMS_STR("term")));
	assert_false(pcscf_route_is_ours(IMS_STR("<sip:term@127.0.0.1:5070;lr>"), host, 5060, IMS_STR("term")));
	assert_false(pcscf_route_is_ours(IMS_STR("<sip:orig@127.0.0.1:5060;lr>"), host, 5060, IMS_STR("term")));
	assert_false(pcscf_route_is_ours(IMS_STR("<sip:term@10.0.0.1:5060;lr>"), host, 5060, IMS_STR("term")));
}

static void test_sec_agree_stays_between_ue_and_pcscf(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "register.sip");
	assert_non_null(sip_msg_hdr_add(m, SIP_HDR_SECURITY_CLIENT, IMS_STR_NULL,
					IMS_STR("ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=3; port-s=4"),
					SIP_POS_BOTTOM));
	assert_non_null(sip_msg_hdr_add(m, SIP_HDR_REQUIRE, IMS_STR_NULL, IMS_STR("sec-agree"), SIP_POS_BOTTOM));
	assert_non_null(sip_msg_hdr_add(m, SIP_HDR_PROXY_REQUIRE, IMS_STR_NULL, IMS_STR("sec-agree, foo"),
					SIP_POS_BOTTOM));
	/* Security-Client, Require (emptied), Proxy-Require (rewritten) */
	assert_int_equal(pcscf_strip_sec_agree(m), 3);
	assert_int_equal(pcscf_strip_sec_agree(m), 0);
	char *txt = print(x, m);
	if (strstr(txt, "sec-agree"))
		fail_msg("%s", txt);
	assert_null(strstr(txt, "Security-Client"));
	assert_non_null(strstr(txt, "Proxy-Require: foo\r\n"));
	assert_null(strstr(txt, "Require: \r\n"));
}

static void test_contact_must_be_registered(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "invite.sip");
	pcscf_reg_t *reg = sample_reg(x->a);
	/* invite.sip: Contact <sip:001010000000001@127.0.0.1:14061> */
	assert_true(pcscf_contact_is_registered(m, reg));
	static const struct {
		const char *contact;
		int ok;
	} t[] = {
		{ "<sip:other@127.0.0.1:14061;ob>", 1 },          /* same binding, other user part */
		{ "<sip:001010000000001@127.0.0.1:14099>", 0 },   /* another port */
		{ "<sip:001010000000001@10.0.0.1:14061>", 0 },    /* another host */
		{ "<sip:001010000000001@ims.test;gr=urn:uuid:1>", 1 }, /* a GRUU */
		{ "*", 0 },
		{ "<garbage", 0 },
	};
	sip_hdr_t *c = sip_msg_hdr(m, SIP_HDR_CONTACT);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(sip_msg_hdr_set_value(m, c, ims_str_cstr(t[i].contact)), 0);
		if (pcscf_contact_is_registered(m, reg) != t[i].ok)
			fail_msg("case %zu (%s)", i, t[i].contact);
	}
	sip_msg_hdr_remove_all(m, SIP_HDR_CONTACT);
	assert_true(pcscf_contact_is_registered(m, reg));
}

static void test_requested_expiry(void **state)
{
	fx_t *x = *state;
	sip_msg_t *m = parse_file(x, "register.sip");
	assert_int_equal(pcscf_reg_requested_expiry(m), 600);
	sip_hdr_t *c = sip_msg_hdr(m, SIP_HDR_CONTACT);
	assert_int_equal(sip_msg_hdr_set_value(m, c, IMS_STR("<sip:a@1.2.3.4>;expires=0")), 0);
	assert_int_equal(pcscf_reg_requested_expiry(m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_gets_path_pvni_pcv_and_loses_forged_headers, setup, teardown),
		cmocka_unit_test(test_two_icids_differ),
		cmocka_unit_test_setup_teardown(test_401_loses_ck_ik_which_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_param_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_200_gives_registration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_hygiene_pai_from_ppi_and_service_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pai_default_when_ppi_not_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pai_default_without_ppi, setup, teardown),
		cmocka_unit_test(test_route_is_ours),
		cmocka_unit_test_setup_teardown(test_requested_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_must_be_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sec_agree_stays_between_ue_and_pcscf, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
