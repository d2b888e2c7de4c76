/* Reading a REGISTER for the registrar: AOR, private identity, scheme,
 * contacts with resolved expiry (RFC 3261 §10.3 step 6), q, RFC 5626
 * instance/reg-id, Path list (RFC 3327), "*" rules, bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "reg-parse.h"

#define REALM "ims.example"

static scscf_cfg_t cfg;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.realm = REALM;
	cfg.default_expires = 3600;
	cfg.min_expires = 60;
	cfg.max_expires = 7200;
	cfg.auth_default = SCSCF_AUTH_AKA;
	return 0;
}

static int parse(const char *hdrs, ims_arena_t *a, scscf_reg_req_t *r, const char **why)
{
	char buf[4096];
	sip_msg_t *m;
	int n = snprintf(buf, sizeof(buf),
			 "REGISTER sip:" REALM " SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@" REALM ">;tag=1\r\n"
			 "To: \"Alice\" <sip:alice@" REALM ";transport=udp>\r\n"
			 "Call-ID: c1\r\n"
			 "CSeq: 7 REGISTER\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 hdrs);
	char *copy = ims_arena_memdup(a, buf, (size_t)n);
	assert_int_equal(sip_msg_parse(copy, (size_t)n, a, &m, NULL), 0);
	return scscf_reg_req_parse(m, &cfg, IMS_STR("sip:10.0.0.1:5060;transport=udp"), 1000, a, r,
				   why);
}

static void test_contacts_expiry_q_instance_path(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(8192);
	scscf_reg_req_t r;
	const char *why;
	assert_int_equal(
		parse("Contact: <sip:alice@10.0.0.1:5060>;q=0.5;expires=120, "
		      "<sip:alice@10.0.0.2>;+sip.instance=\"<urn:uuid:1>\";reg-id=2;+g.3gpp.smsip\r\n"
		      "Contact: <sip:alice@10.0.0.3>;expires=99999\r\n"
		      "Expires: 300\r\n"
		      "Path: <sip:p1." REALM ";lr>\r\n"
		      "Path: <sip:p2." REALM ";lr>\r\n"
		      "User-Agent: t/1\r\n",
		      a, &r, &why),
		0);
	/* the AOR drops display name and URI parameters */
	assert_true(ims_str_eq_c(r.impu, "sip:alice@" REALM));
	/* TS 24.229 §5.4.1.2.1: no Authorization -> derived private identity */
	assert_true(ims_str_eq_c(r.impi, "alice@" REALM));
	assert_false(r.has_auth_hdr);
	assert_int_equal(r.scheme, SCSCF_AUTH_AKA);
	assert_int_equal(r.n_contacts, 3);
	assert_int_equal(r.min_expires, 0);
	assert_true(ims_str_eq_c(r.contacts[0].uri, "sip:alice@10.0.0.1:5060"));
	assert_int_equal(r.contacts[0].q, 500);
	assert_int_equal(r.contacts[0].expires, 1120);    /* its own expires */
	assert_int_equal(r.contacts[1].expires, 1300);    /* the Expires header */
	assert_int_equal(r.contacts[2].expires, 1000 + 7200); /* capped at max */
	assert_true(ims_str_eq_c(r.contacts[1].instance, "\"<urn:uuid:1>\""));
	assert_int_equal(r.contacts[1].reg_id, 2);
	assert_int_equal(r.contacts[1].q, -1);
	assert_non_null(strstr(r.contacts[1].params.s, "+g.3gpp.smsip"));
	assert_null(strstr(r.contacts[0].params.s, "expires"));
	assert_true(ims_str_eq_c(r.path, "<sip:p1." REALM ";lr>, <sip:p2." REALM ";lr>"));
	assert_true(ims_str_eq(r.contacts[2].path, r.path));
	assert_true(ims_str_eq_c(r.contacts[0].received, "sip:10.0.0.1:5060;transport=udp"));
	assert_true(ims_str_eq_c(r.contacts[0].call_id, "c1"));
	assert_int_equal(r.contacts[0].cseq, 7);
	assert_true(ims_str_eq_c(r.contacts[0].user_agent, "t/1"));
	ims_arena_destroy(a);
}

static void test_credentials_pick_scheme_and_identity(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(8192);
	scscf_reg_req_t r;
	const char *why;
	assert_int_equal(parse("Authorization: Digest username=\"other@x\", realm=\"x\", nonce=\"n\", "
			       "uri=\"sip:x\", response=\"r\"\r\n"
			       "Authorization: Digest username=\"alice-priv@" REALM "\", realm=\"" REALM
			       "\", nonce=\"\", uri=\"sip:" REALM "\", response=\"\", algorithm=MD5, "
			       "integrity-protected=\"tls-yes\"\r\n"
			       "Contact: <sip:alice@10.0.0.1>\r\n",
			       a, &r, &why),
		0);
	/* RFC 3261 §22.4: the credentials for our realm */
	assert_true(ims_str_eq_c(r.impi, "alice-priv@" REALM));
	assert_int_equal(r.scheme, SCSCF_AUTH_MD5);
	assert_false(r.has_response);
	assert_true(r.integrity_protected);
	assert_int_equal(r.contacts[0].expires, 1000 + 3600); /* default */
	ims_arena_destroy(a);
}

static void test_star_and_bad_values(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(8192);
	scscf_reg_req_t r;
	const char *why;
	assert_int_equal(parse("Contact: *\r\nExpires: 0\r\n", a, &r, &why), 0);
	assert_true(r.star);
	assert_int_equal(r.n_contacts, 0);
	assert_int_equal(parse("Contact: *\r\nExpires: 10\r\n", a, &r, &why), IMS_EPARSE);
	assert_string_equal(why, "Invalid Contact *");
	assert_int_equal(parse("Contact: *, <sip:a@b>\r\nExpires: 0\r\n", a, &r, &why), IMS_EPARSE);
	assert_int_equal(parse("Contact: <sip:a@b>;q=2\r\n", a, &r, &why), IMS_EPARSE);
	assert_string_equal(why, "Bad q-value");
	assert_int_equal(parse("Contact: <sip:a@b>;expires=-1\r\n", a, &r, &why), IMS_EPARSE);
	assert_int_equal(parse("Contact: <sip:a@b>;reg-id=x\r\n", a, &r, &why), IMS_EPARSE);
	/* too brief: reported, the caller answers 423 */
	assert_int_equal(parse("Contact: <sip:a@b>;expires=30\r\n", a, &r, &why), 0);
	assert_int_equal(r.min_expires, 60);
	/* 0 is a removal, not too brief */
	assert_int_equal(parse("Contact: <sip:a@b>;expires=0\r\n", a, &r, &why), 0);
	assert_int_equal(r.min_expires, 0);
	assert_int_equal(r.contacts[0].expires, 1000);
	ims_arena_destroy(a);
}

static void test_derive_impi(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(1024);
	ims_str_t out;
	assert_int_equal(scscf_reg_derive_impi(IMS_STR("sip:bob@" REALM), IMS_STR(REALM), a, &out), 0);
	assert_true(ims_str_eq_c(out, "bob@" REALM));
	assert_int_equal(scscf_reg_derive_impi(IMS_STR("tel:+15551234"), IMS_STR(REALM), a, &out), 0);
	assert_true(ims_str_eq_c(out, "+15551234@" REALM));
	ims_arena_destroy(a);
}

/* Mutated REGISTERs (a byte changed, the message cut) never crash the
 * reader and always end in 0 or an error code (run under ASan/UBSan). */
static void test_mutations_are_answered_not_crashed(void **state)
{
	(void)state;
	static const char base[] =
		"REGISTER sip:" REALM " SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
		"From: <sip:alice@" REALM ">;tag=1\r\n"
		"To: <sip:alice@" REALM ">\r\n"
		"Call-ID: c1\r\nCSeq: 7 REGISTER\r\n"
		"Contact: <sip:a@10.0.0.1>;q=0.5;expires=120;+sip.instance=\"<urn:x>\";reg-id=1, *\r\n"
		"Path: <sip:p1;lr>, <sip:p2;lr>\r\n"
		"Authorization: Digest username=\"a@b\", realm=\"" REALM "\", nonce=\"n\", "
		"uri=\"sip:x\", response=\"r\", auts=\"AAAA\", integrity-protected=\"yes\"\r\n"
		"Expires: 60\r\nContent-Length: 0\r\n\r\n";
	static const char alphabet[] = "<>;,=\"*:@ \r\n0a9Z\\";
	uint32_t rng = 12345;
	int parsed = 0;
	for (int i = 0; i < 3000; i++) {
		char buf[sizeof(base)];
		size_t len = sizeof(base) - 1;
		ims_arena_t *a = ims_arena_create(8192);
		sip_msg_t *m;
		scscf_reg_req_t r;
		const char *why;
		memcpy(buf, base, len + 1);
		for (int k = 0; k < 1 + (i % 4); k++) {
			rng = rng * 1103515245u + 12345u;
			buf[(rng >> 8) % len] = alphabet[(rng >> 20) % (sizeof(alphabet) - 1)];
		}
		if (i % 7 == 0) {
			rng = rng * 1103515245u + 12345u;
			len = (rng >> 8) % len;
		}
		if (sip_msg_parse(buf, len, a, &m, NULL) == 0) {
			int rc = scscf_reg_req_parse(m, &cfg, IMS_STR("sip:10.0.0.1:5060"), 1000, a, &r,
						     &why);
			assert_true(rc == 0 || rc == IMS_EPARSE || rc == IMS_ENOMEM);
			if (rc == IMS_EPARSE)
				assert_non_null(why);
			parsed++;
		}
		ims_arena_destroy(a);
	}
	assert_true(parsed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_contacts_expiry_q_instance_path, setup),
		cmocka_unit_test_setup(test_credentials_pick_scheme_and_identity, setup),
		cmocka_unit_test_setup(test_star_and_bad_values, setup),
		cmocka_unit_test_setup(test_derive_impi, setup),
		cmocka_unit_test_setup(test_mutations_are_answered_not_crashed, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
