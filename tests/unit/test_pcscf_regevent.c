/* P-CSCF: reading reg-event NOTIFY bodies (RFC 3680 reginfo+xml). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "regevent-parse.h"

typedef struct seen {
	char aor[4][128];
	char state[4][32];
	int n;
} seen_t;

static void on_reg(void *ud, ims_str_t aor, ims_str_t state)
{
	seen_t *s = ud;
	if (s->n < 4) {
		ims_str_to_c(aor, s->aor[s->n], sizeof(s->aor[0]));
		ims_str_to_c(state, s->state[s->n], sizeof(s->state[0]));
	}
	s->n++;
}

static void test_terminated_and_active(void **state)
{
	(void)state;
	static const char xml[] =
		"<?xml version=\"1.0\"?>\n"
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"3\" state=\"partial\">\n"
		" <registration aor=\"sip:001010000000001@ims.test\" id=\"a1\" state=\"terminated\">\n"
		"  <contact id=\"c1\" state=\"terminated\" event=\"expired\"><uri>sip:ue@127.0.0.1:14061</uri></contact>\n"
		" </registration>\n"
		" <registration aor=\"tel:+15550000001\" id=\"a2\" state=\"active\"/>\n"
		"</reginfo>\n";
	seen_t s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(pcscf_reginfo_parse(xml, strlen(xml), on_reg, &s), 2);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.aor[0], "sip:001010000000001@ims.test");
	assert_string_equal(s.state[0], "terminated");
	assert_string_equal(s.aor[1], "tel:+15550000001");
	assert_string_equal(s.state[1], "active");
}

static void test_rejects_garbage_and_foreign_root(void **state)
{
	(void)state;
	seen_t s;
	memset(&s, 0, sizeof(s));
	static const char *bad[] = {
		"not xml at all",
		"<reginfo><registration aor=\"sip:a@b\" state=\"terminated\"/></reginfo>", /* no namespace */
		"<x xmlns=\"urn:ietf:params:xml:ns:reginfo\"/>",
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\"><registration",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pcscf_reginfo_parse(bad[i], strlen(bad[i]), on_reg, &s), IMS_EPARSE);
	assert_int_equal(s.n, 0);
	assert_int_equal(pcscf_reginfo_parse(NULL, 0, on_reg, &s), IMS_EPARSE);
	/* An element without aor is skipped, not reported. */
	static const char partial[] =
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"0\" state=\"full\">"
		"<registration state=\"active\"/></reginfo>";
	assert_int_equal(pcscf_reginfo_parse(partial, strlen(partial), on_reg, &s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terminated_and_active),
		cmocka_unit_test(test_rejects_garbage_and_foreign_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
