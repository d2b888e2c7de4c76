/* scscf redirect following (issue 9, RFC 3261 §16.5, §16.7 step 4, RFC
 * 4458): which 3xx the terminating S-CSCF recurses on, and where to. */
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
#include "../../scscf/redirect-follow.h"

#define REALM IMS_STR("ims.example")

typedef struct fx {
	ims_arena_t *a;
	char buf[2048];
} fx_t;

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->a = ims_arena_create(4096);
	*state = f;
	return f->a ? 0 : -1;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	ims_arena_destroy(f->a);
	free(f);
	return 0;
}

/* A response with the given status line code and Contact header lines. */
static sip_msg_t *rsp(fx_t *f, int code, const char *contacts)
{
	snprintf(f->buf, sizeof(f->buf),
		 "SIP/2.0 %d Moved\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bKabc\r\n"
		 "From: <sip:a@ims.example>;tag=1\r\n"
		 "To: <sip:b@ims.example>;tag=2\r\n"
		 "Call-ID: c1\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 code, contacts);
	sip_msg_t *m = NULL;
	assert_int_equal(sip_msg_parse(f->buf, strlen(f->buf), f->a, &m, NULL), 0);
	return m;
}

static int pick(fx_t *f, sip_msg_t *m, int mf, unsigned depth, const char *cur, ims_str_t *out)
{
	return scscf_redirect_pick(m, mf, depth, ims_str_cstr(cur), REALM, IMS_STR(""), f->a, out);
}

static void test_home_contact_followed(void **state)
{
	fx_t *f = *state;
	ims_str_t t;
	sip_msg_t *m = rsp(f, 302, "Contact: <sip:c@ims.example>\r\n");
	assert_int_equal(pick(f, m, 68, 0, "sip:b@ims.example", &t), 1);
	assert_true(ims_str_eq(t, IMS_STR("sip:c@ims.example;cause=302")));
	/* 301 too; the cause says which */
	m = rsp(f, 301, "Contact: sip:c@ims.example\r\n");
	assert_int_equal(pick(f, m, -1, 0, "sip:b@ims.example", &t), 1);
	assert_true(ims_str_eq(t, IMS_STR("sip:c@ims.example;cause=301")));
}

static void test_highest_q_home_first(void **state)
{
	fx_t *f = *state;
	ims_str_t t;
	sip_msg_t *m = rsp(f, 302,
			   "Contact: <sip:x@example.net>;q=1.0, <sip:c@ims.example>;q=0.3\r\n"
			   "Contact: <sip:d@ims.example>;q=0.7\r\n");
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example", &t), 1);
	assert_true(ims_str_eq(t, IMS_STR("sip:d@ims.example;cause=302")));
}

static void test_tel_home(void **state)
{
	fx_t *f = *state;
	ims_str_t t;
	sip_msg_t *m = rsp(f, 302, "Contact: <tel:+15550003>\r\n");
	/* no home prefixes configured: every tel: is tried at home */
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example", &t), 1);
	assert_true(ims_str_eq(t, IMS_STR("tel:+15550003;cause=302")));
	/* with prefixes, a number outside them is foreign */
	assert_int_equal(scscf_redirect_pick(m, 70, 0, IMS_STR("sip:b@ims.example"), REALM,
					     IMS_STR("+1666"), f->a, &t), 0);
}

static void test_not_followed(void **state)
{
	fx_t *f = *state;
	ims_str_t t;
	/* foreign domain */
	sip_msg_t *m = rsp(f, 302, "Contact: <sip:someone@example.net>\r\n");
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example", &t), 0);
	assert_null(t.s);
	/* a home Contact, but: already one recursion on this request */
	m = rsp(f, 302, "Contact: <sip:c@ims.example>\r\n");
	assert_int_equal(pick(f, m, 70, 1, "sip:b@ims.example", &t), 0);
	/* ... the request was redirected before (RFC 4458 cause on it) */
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example;cause=302", &t), 0);
	/* ... Max-Forwards would run out */
	assert_int_equal(pick(f, m, 1, 0, "sip:b@ims.example", &t), 0);
	assert_int_equal(pick(f, m, 0, 0, "sip:b@ims.example", &t), 0);
	/* ... the Contact is the current target (a loop) */
	assert_int_equal(pick(f, m, 70, 0, "sip:c@ims.example", &t), 0);
	/* no Contact, or Contact: * */
	m = rsp(f, 302, "");
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example", &t), 0);
	m = rsp(f, 302, "Contact: *\r\n");
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example", &t), 0);
	/* not a 3xx */
	m = rsp(f, 486, "Contact: <sip:c@ims.example>\r\n");
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example", &t), 0);
	assert_int_equal(pick(f, NULL, 70, 0, "sip:b@ims.example", &t), 0);
}

static void test_uri_with_headers_kept(void **state)
{
	fx_t *f = *state;
	ims_str_t t;
	sip_msg_t *m = rsp(f, 302, "Contact: <sip:c@ims.example?Subject=hi>\r\n");
	assert_int_equal(pick(f, m, 70, 0, "sip:b@ims.example", &t), 1);
	assert_true(ims_str_eq(t, IMS_STR("sip:c@ims.example?Subject=hi")));
}

static void test_out_of_memory(void **state)
{
	fx_t *f = *state;
	ims_str_t t;
	sip_msg_t *m = rsp(f, 302, "Contact: <sip:c@ims.example>\r\n");
	ims_arena_t *tiny = ims_arena_create(64);
	assert_non_null(tiny);
	ims_arena_fail_after(tiny, 1);
	assert_int_equal(scscf_redirect_pick(m, 70, 0, IMS_STR("sip:b@ims.example"), REALM, IMS_STR(""),
					     tiny, &t),
			 IMS_ENOMEM);
	ims_arena_destroy(tiny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_home_contact_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_highest_q_home_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tel_home, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uri_with_headers_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
