/* scscf/profile: TS 29.228 User-Data -> profile (tests/data/ifc/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "../../scscf/ifc-eval.h"
#include "../../scscf/profile.h"

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/ifc/%s", IMS_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static scscf_profile_t *load(const char *name)
{
	size_t len;
	char *xml = slurp(name, &len);
	scscf_profile_t *p = NULL;
	scscf_profile_err_t err;
	int rc = scscf_profile_load(xml, len, &p, &err);
	if (rc)
		fprintf(stderr, "%s: %s: %s\n", name, err.where, err.reason);
	assert_int_equal(rc, 0);
	free(xml);
	return p;
}

static void assert_str(ims_str_t v, const char *want)
{
	if (!ims_str_eq_c(v, want))
		fail_msg("got '%.*s' want '%s'", IMS_STR_FMT(v), want);
	/* Every value is NUL-terminated in the arena (regcomp needs it). */
	assert_int_equal(v.s[v.len], 0);
}

static void test_profile_full_document(void **state)
{
	(void)state;
	scscf_profile_t *p = load("full.xml");
	assert_str(p->private_id, "alice@ims.mnc001.mcc001.3gppnetwork.org");
	assert_int_equal(p->n_sps, 2);

	const scscf_service_profile_t *sp = &p->sps[0];
	assert_int_equal(sp->n_impus, 3);
	assert_str(sp->impus[0].identity, "sip:alice@ims.mnc001.mcc001.3gppnetwork.org");
	assert_int_equal(sp->impus[0].barred, 0);
	assert_int_equal(sp->impus[0].identity_type, SCSCF_ID_PUBLIC_USER);
	assert_str(sp->impus[0].display_name, "Alice");
	assert_int_equal(sp->impus[1].barred, 1);
	assert_str(sp->impus[2].identity, "tel:+1-555-000-0042");
	assert_int_equal(sp->media_profile_id, 7);

	/* Sorted by Priority whatever the document order. */
	assert_int_equal(sp->n_ifcs, 3);
	assert_int_equal(sp->ifcs[0].priority, 100);
	assert_int_equal(sp->ifcs[1].priority, 200);
	assert_int_equal(sp->ifcs[2].priority, 300);

	const scscf_ifc_t *f = &sp->ifcs[0];
	assert_int_equal(f->has_trigger, 1);
	assert_int_equal(f->trigger.cnf, 1);
	assert_int_equal(f->trigger.n_spt, 5);
	assert_int_equal(f->ppi, SCSCF_PPI_REGISTERED);
	assert_str(f->as.server_name, "sip:mmtel.example.net:5070;transport=tcp");
	assert_int_equal(f->as.default_handling, SCSCF_DH_SESSION_TERMINATED);
	assert_int_equal(f->as.has_service_info, 1);
	assert_str(f->as.service_info, "mmtel & more");
	assert_int_equal(f->trigger.spt[2].kind, SCSCF_SPT_SESSION_CASE);
	assert_int_equal(f->trigger.spt[2].negated, 1);
	assert_int_equal(f->trigger.spt[2].session_case, SCSCF_SC_TERMINATING_REGISTERED);
	assert_int_equal(f->trigger.spt[3].kind, SCSCF_SPT_SIP_HEADER);
	assert_int_equal(f->trigger.spt[3].has_content, 0);
	assert_int_equal(f->trigger.spt[3].n_groups, 2);
	assert_int_equal(f->trigger.spt[4].kind, SCSCF_SPT_SESSION_DESC);
	assert_str(f->trigger.spt[4].value, "m");
	assert_str(f->trigger.spt[4].content, "^audio");
	/* Compiled: groups 0,1,2,3 with SPT 3 in both 2 and 3. */
	assert_int_equal(f->trigger.n_groups, 4);
	assert_int_equal(f->trigger.group_start[1] - f->trigger.group_start[0], 2);
	assert_int_equal(f->trigger.group_start[4] - f->trigger.group_start[3], 2);
	assert_non_null(f->trigger.spt[4].re_content);

	f = &sp->ifcs[1];
	assert_int_equal(f->ppi, SCSCF_PPI_UNREGISTERED);
	assert_int_equal(f->trigger.spt[0].reg_type_mask, SCSCF_REGTYPE_INITIAL | SCSCF_REGTYPE_DE);
	assert_int_equal(f->as.include_register_request, 1);
	assert_int_equal(f->as.include_register_response, 0);
	assert_int_equal(f->as.default_handling, SCSCF_DH_SESSION_CONTINUED);
	assert_non_null(f->trigger.spt[1].re_value);

	f = &sp->ifcs[2];
	assert_int_equal(f->has_trigger, 0);
	assert_int_equal(f->ppi, SCSCF_PPI_NONE);
	assert_int_equal(f->as.default_handling, SCSCF_DH_SESSION_CONTINUED);
	assert_int_equal(f->as.has_service_info, 0);

	sp = &p->sps[1];
	assert_int_equal(sp->n_ifcs, 0);
	assert_int_equal(sp->impus[0].identity_type, SCSCF_ID_WILDCARDED_PSI);
	assert_str(sp->impus[0].wildcarded_psi, "sip:conf-!.*!@ims.mnc001.mcc001.3gppnetwork.org");
	assert_int_equal(sp->media_profile_id, -1);
	scscf_profile_free(p);
}

/* The document ims-hss builds (hss-sim/userdata-build.c) for the SPEC.md
 * example subscriber plus a REGISTER trigger and an unconditional iFC. */
static void test_profile_hss_generated(void **state)
{
	(void)state;
	scscf_profile_t *p = load("hss-generated.xml");
	assert_str(p->private_id, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
	assert_int_equal(p->n_sps, 1);
	const scscf_service_profile_t *sp = &p->sps[0];
	assert_int_equal(sp->n_impus, 2);
	assert_str(sp->impus[1].identity, "tel:+15550000001");
	assert_int_equal(sp->n_ifcs, 3);
	const scscf_ifc_t *f = &sp->ifcs[0];
	assert_int_equal(f->trigger.cnf, 0);
	assert_int_equal(f->trigger.n_spt, 5);
	assert_int_equal(f->trigger.n_groups, 2);
	assert_int_equal(f->trigger.spt[2].negated, 1);
	assert_str(f->trigger.spt[2].value, "Subject");
	assert_str(f->trigger.spt[2].content, "urgent");
	assert_int_equal(f->as.default_handling, SCSCF_DH_SESSION_TERMINATED);
	f = &sp->ifcs[1];
	assert_str(f->as.service_info, "reg-notify");
	assert_int_equal(f->as.include_register_request, 1);
	assert_int_equal(f->as.include_register_response, 1);
	assert_int_equal(sp->ifcs[2].has_trigger, 0);
	scscf_profile_free(p);
}

static void test_profile_find_impu(void **state)
{
	(void)state;
	scscf_profile_t *p = load("full.xml");
	const scscf_service_profile_t *sp = NULL;
	const scscf_impu_t *u = NULL;
	assert_int_equal(scscf_profile_find_impu(p, IMS_STR("sip:alice@ims.mnc001.mcc001.3gppnetwork.org"),
						 &sp, &u), 1);
	assert_ptr_equal(sp, &p->sps[0]);
	assert_ptr_equal(u, &p->sps[0].impus[0]);
	/* tel: ignores visual separators (RFC 3966 §5.1.1). */
	assert_int_equal(scscf_profile_find_impu(p, IMS_STR("tel:+15550000042"), NULL, &u), 1);
	assert_ptr_equal(u, &p->sps[0].impus[2]);
	assert_int_equal(scscf_profile_find_impu(p, IMS_STR("tel:+15550000043"), NULL, NULL), 0);
	assert_int_equal(scscf_profile_find_impu(p, IMS_STR("sip:bob@ims.mnc001.mcc001.3gppnetwork.org"),
						 NULL, NULL), 0);
	assert_int_equal(scscf_profile_find_impu(NULL, IMS_STR("sip:x@y"), NULL, NULL), 0);
	/* Wildcarded PSI (TS 23.003 §13.5): the !...! part is a regex. */
	assert_int_equal(scscf_profile_find_impu(p, IMS_STR("sip:conf-room42@ims.mnc001.mcc001.3gppnetwork.org"),
						 &sp, &u), 1);
	assert_ptr_equal(sp, &p->sps[1]);
	assert_ptr_equal(u, &p->sps[1].impus[0]);
	/* The literal parts are literal: '.' in the domain is not "any". */
	assert_int_equal(scscf_profile_find_impu(p, IMS_STR("sip:conf-room42@imsXmnc001.mcc001.3gppnetwork.org"),
						 NULL, NULL), 0);
	assert_int_equal(scscf_profile_find_impu(p, IMS_STR("sip:xconf-1@ims.mnc001.mcc001.3gppnetwork.org"),
						 NULL, NULL), 0);
	scscf_profile_free(p);
}

static const struct {
	const char *file;
	int rc;
	const char *reason_has;
} bad_cases[] = {
	{ "bad-no-private-id.xml", IMS_EPARSE, "PrivateID" },
	{ "bad-spt-two-kinds.xml", IMS_EPARSE, "exactly one" },
	{ "bad-session-case.xml", IMS_EPARSE, "integer" },
	{ "bad-not-xml.xml", IMS_EPARSE, "XML" },
	{ "bad-no-server-name.xml", IMS_EPARSE, "ServerName" },
	{ "bad-boolean.xml", IMS_EPARSE, "boolean" },
};

static void test_profile_rejects_bad_documents(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		size_t len;
		char *xml = slurp(bad_cases[i].file, &len);
		scscf_profile_t *p = (scscf_profile_t *)0x1;
		scscf_profile_err_t err;
		int rc = scscf_profile_load(xml, len, &p, &err);
		if (rc != bad_cases[i].rc || !strstr(err.reason, bad_cases[i].reason_has))
			fail_msg("%s: rc=%d reason='%s' where='%s'", bad_cases[i].file, rc, err.reason,
				 err.where);
		assert_null(p);
		free(xml);
	}
	/* Empty input and NULL. */
	scscf_profile_t *p;
	assert_int_equal(scscf_profile_parse("", 0, &p, NULL), IMS_EPARSE);
	assert_int_equal(scscf_profile_parse(NULL, 10, &p, NULL), IMS_EPARSE);
}

/* An external entity is never fetched: the document comes from a peer. */
static void test_profile_no_external_entity(void **state)
{
	(void)state;
	size_t len;
	char *xml = slurp("bad-entity.xml", &len);
	scscf_profile_t *p = NULL;
	int rc = scscf_profile_parse(xml, len, &p, NULL);
	if (rc == 0) {
		assert_null(strstr(p->private_id.s, "root:"));
		scscf_profile_free(p);
	} else {
		assert_int_equal(rc, IMS_EPARSE);
	}
	free(xml);
}

static void test_profile_bad_regex_marks_ifc_invalid(void **state)
{
	(void)state;
	static const char xml[] =
		"<IMSSubscription><PrivateID>a@b</PrivateID><ServiceProfile>"
		"<PublicIdentity><Identity>sip:a@b</Identity></PublicIdentity>"
		"<InitialFilterCriteria><Priority>1</Priority><TriggerPoint>"
		"<ConditionTypeCNF>0</ConditionTypeCNF><SPT><Group>0</Group>"
		"<RequestURI>sip:(unclosed</RequestURI></SPT></TriggerPoint>"
		"<ApplicationServer><ServerName>sip:as1@b</ServerName></ApplicationServer>"
		"</InitialFilterCriteria>"
		"<InitialFilterCriteria><Priority>2</Priority>"
		"<ApplicationServer><ServerName>sip:as2@b</ServerName></ApplicationServer>"
		"</InitialFilterCriteria></ServiceProfile></IMSSubscription>";
	scscf_profile_t *p = NULL;
	assert_int_equal(scscf_profile_load(xml, sizeof(xml) - 1, &p, NULL), 0);
	assert_int_equal(p->sps[0].ifcs[0].invalid, 1);
	assert_int_equal(p->sps[0].ifcs[1].invalid, 0);
	scscf_ifc_req_t r = { .method = IMS_STR("INVITE"), .ruri = IMS_STR("sip:(unclosed") };
	/* The broken iFC is skipped; the next one still applies. */
	assert_int_equal(scscf_ifc_next(&p->sps[0], 0, &r, SCSCF_SC_ORIGINATING, 1), 1);
	scscf_profile_free(p);
}

/* Bounds: more SPTs than SCSCF_IFC_MAX_SPT is refused, not truncated. */
static void test_profile_too_many_spt(void **state)
{
	(void)state;
	size_t cap = 64 * 1024, n = 0;
	char *xml = malloc(cap);
	assert_non_null(xml);
	n += (size_t)snprintf(xml + n, cap - n,
			      "<IMSSubscription><PrivateID>a@b</PrivateID><ServiceProfile>"
			      "<PublicIdentity><Identity>sip:a@b</Identity></PublicIdentity>"
			      "<InitialFilterCriteria><Priority>1</Priority><TriggerPoint>"
			      "<ConditionTypeCNF>0</ConditionTypeCNF>");
	for (int i = 0; i < SCSCF_IFC_MAX_SPT + 1; i++)
		n += (size_t)snprintf(xml + n, cap - n, "<SPT><Group>%d</Group><Method>INVITE</Method></SPT>", i);
	n += (size_t)snprintf(xml + n, cap - n,
			      "</TriggerPoint><ApplicationServer><ServerName>sip:as@b</ServerName>"
			      "</ApplicationServer></InitialFilterCriteria></ServiceProfile></IMSSubscription>");
	scscf_profile_t *p = NULL;
	scscf_profile_err_t err;
	assert_int_equal(scscf_profile_load(xml, n, &p, &err), IMS_ETOOBIG);
	assert_null(p);
	free(xml);
}

static void test_session_case_names(void **state)
{
	(void)state;
	assert_string_equal(scscf_session_case_name(SCSCF_SC_ORIGINATING), "ORIGINATING");
	assert_string_equal(scscf_session_case_name(SCSCF_SC_ORIGINATING_CDIV), "ORIGINATING_CDIV");
	assert_null(scscf_session_case_name(SCSCF_SC__COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_full_document),
		cmocka_unit_test(test_profile_hss_generated),
		cmocka_unit_test(test_profile_find_impu),
		cmocka_unit_test(test_profile_rejects_bad_documents),
		cmocka_unit_test(test_profile_no_external_entity),
		cmocka_unit_test(test_profile_bad_regex_marks_ifc_invalid),
		cmocka_unit_test(test_profile_too_many_spt),
		cmocka_unit_test(test_session_case_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
