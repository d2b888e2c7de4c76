/* hss-sim User-Data: the IMSSubscription XML validates against the TS
 * 29.228 schema (CxDataType_Rel7.xsd) and carries what was provisioned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>

#include "base/ims_err.h"
#include "hss-store.h"
#include "json-sub.h"
#include "userdata-build.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"

static xmlSchemaPtr schema;

static const char *xsd_path(void)
{
	/* the shared copy beside the repo, else ours */
	static const char *const paths[] = {
		IMS_TEST_DATA "/../../../shared/data/CxDataType_Rel7.xsd",
		IMS_TEST_DATA "/hss/CxDataType_Rel7.xsd",
	};
	for (size_t i = 0; i < 2; i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return paths[1];
}

static int group_setup(void **state)
{
	(void)state;
	xmlInitParser();
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd_path());
	assert_non_null(pc);
	schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	assert_non_null(schema);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	xmlSchemaFree(schema);
	xmlCleanupParser();
	return 0;
}

static hss_sub_t *parse_text(const char *body)
{
	char err[256] = "";
	hss_sub_t *sub = NULL;
	if (hss_json_sub_parse(body, strlen(body), &sub, err, sizeof(err)) != 0)
		fail_msg("parse: %s", err);
	return sub;
}

static hss_sub_t *parse_file(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hss/%s", IMS_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	assert_true(n > 0);
	hss_sub_t *sub = parse_text(buf);
	free(buf);
	return sub;
}

/* Parses xml, validates it against the schema; returns the doc. */
static xmlDocPtr validate(const char *xml)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "userdata.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	assert_non_null(vc);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	if (rc != 0)
		fail_msg("schema validation failed (%d) for:\n%s", rc, xml);
	return doc;
}

/* The text of the first node matching an XPath, or NULL. Caller frees. */
static char *xpath_text(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	char *out = NULL;
	if (obj && obj->nodesetval && obj->nodesetval->nodeNr > 0) {
		xmlChar *c = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
		out = strdup((const char *)c);
		xmlFree(c);
	}
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return out;
}

static int xpath_count(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	int n = obj && obj->nodesetval ? obj->nodesetval->nodeNr : -1;
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return n;
}

static void expect_text(xmlDocPtr doc, const char *expr, const char *want)
{
	char *got = xpath_text(doc, expr);
	if (got == NULL)
		fail_msg("no node for %s", expr);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", expr, got, want);
	free(got);
}

static void test_userdata_every_spt_kind_validates(void **state)
{
	(void)state;
	hss_sub_t *sub = parse_file("sub_full.json");
	char *xml = NULL;
	assert_int_equal(hss_userdata_build(sub, "tel:+15550000001", &xml), 0);
	xmlDocPtr doc = validate(xml);

	expect_text(doc, "/IMSSubscription/PrivateID", "001010000000001@" REALM);
	assert_int_equal(xpath_count(doc, "//ServiceProfile/PublicIdentity"), 3);
	expect_text(doc, "//PublicIdentity[2]/Identity", "tel:+15550000001");
	assert_int_equal(xpath_count(doc, "//PublicIdentity[2]/BarringIndication"), 0);
	expect_text(doc, "//PublicIdentity[3]/BarringIndication", "1");
	/* iFCs in priority order; the first has all five SPT kinds */
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria"), 2);
	expect_text(doc, "//InitialFilterCriteria[1]/Priority", "10");
	expect_text(doc, "//InitialFilterCriteria[1]/TriggerPoint/ConditionTypeCNF", "0");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[1]/Method", "INVITE");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[1]/Group", "0");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[2]/SessionCase", "0");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[3]/ConditionNegated", "1");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[3]/SIPHeader/Header", "Subject");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[3]/SIPHeader/Content", "urgent");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[4]/RequestURI", "sip:voicemail@.*");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[4]/Group", "1");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[5]/SessionDescription/Line", "m");
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[5]/SessionDescription/Content", "video");
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria[1]//SPT[6]/SIPHeader/Content"), 0);
	expect_text(doc, "//InitialFilterCriteria[1]//SPT[7]/SessionCase", "2");
	expect_text(doc, "//InitialFilterCriteria[1]/ApplicationServer/ServerName",
		    "sip:as1." REALM ":5090");
	expect_text(doc, "//InitialFilterCriteria[1]/ApplicationServer/DefaultHandling", "1");
	expect_text(doc, "//InitialFilterCriteria[1]/ApplicationServer/ServiceInfo", "vm-profile-7");
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria[1]/ApplicationServer/Extension/IncludeRegisterRequest"), 1);
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria[1]/ApplicationServer/Extension/IncludeRegisterResponse"), 1);
	expect_text(doc, "//InitialFilterCriteria[1]/ProfilePartIndicator", "0");

	/* the no-trigger iFC: no TriggerPoint at all (always matches) */
	expect_text(doc, "//InitialFilterCriteria[2]/Priority", "20");
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria[2]/TriggerPoint"), 0);
	expect_text(doc, "//InitialFilterCriteria[2]/ApplicationServer/DefaultHandling", "0");
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria[2]/ApplicationServer/ServiceInfo"), 0);
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria[2]/ApplicationServer/Extension"), 0);
	/* sequential hunting travels in our IMSSubscription extension */
	expect_text(doc, "/IMSSubscription/Extension/HuntingPolicy", "sequential");
	xmlFreeDoc(doc);
	free(xml);
	hss_sub_free(sub);
}

static void test_userdata_no_ifc_and_empty_trigger(void **state)
{
	(void)state;
	char *xml = NULL;
	hss_sub_t *sub = parse_text(
		"{\"impi\":\"u@" REALM "\",\"impus\":[\"sip:u@" REALM "\"],"
		"\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"opc\":\"cd63cb71954a9f4e48a5994e37a02baf\"}}");
	assert_int_equal(hss_userdata_build(sub, NULL, &xml), 0);
	xmlDocPtr doc = validate(xml);
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria"), 0);
	assert_int_equal(xpath_count(doc, "/IMSSubscription/Extension"), 0); /* parallel */
	xmlFreeDoc(doc);
	free(xml);
	hss_sub_free(sub);

	/* a trigger with an empty spt list is the always-matching iFC */
	sub = parse_text(
		"{\"impi\":\"u@" REALM "\",\"impus\":[\"sip:u@" REALM "\"],"
		"\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"opc\":\"cd63cb71954a9f4e48a5994e37a02baf\"},"
		"\"ifcs\":[{\"priority\":0,\"trigger\":{\"cnf\":true,\"spt\":[]},"
		"\"application_server\":{\"server_name\":\"sip:as@x\"}}]}");
	assert_int_equal(hss_userdata_build(sub, "sip:u@" REALM, &xml), 0);
	doc = validate(xml);
	assert_int_equal(xpath_count(doc, "//InitialFilterCriteria"), 1);
	assert_int_equal(xpath_count(doc, "//TriggerPoint"), 0);
	xmlFreeDoc(doc);
	free(xml);
	hss_sub_free(sub);
}

static void test_userdata_escapes_text(void **state)
{
	(void)state;
	char *xml = NULL;
	hss_sub_t *sub = parse_text(
		"{\"impi\":\"u@" REALM "\",\"impus\":[\"sip:u@" REALM "\"],"
		"\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"opc\":\"cd63cb71954a9f4e48a5994e37a02baf\"},"
		"\"ifcs\":[{\"priority\":1,\"trigger\":{\"spt\":[{\"header\":{\"name\":\"Subject\",\"content\":\"a<b&c\"}}]},"
		"\"application_server\":{\"server_name\":\"sip:as@x\",\"service_info\":\"<x>&amp;\"}}]}");
	assert_int_equal(hss_userdata_build(sub, NULL, &xml), 0);
	xmlDocPtr doc = validate(xml);
	expect_text(doc, "//SIPHeader/Content", "a<b&c");
	expect_text(doc, "//ServiceInfo", "<x>&amp;");
	xmlFreeDoc(doc);
	free(xml);
	hss_sub_free(sub);
}

static void test_userdata_cdiv_session_case_is_4(void **state)
{
	(void)state;
	char *xml = NULL;
	hss_sub_t *sub = parse_text(
		"{\"impi\":\"u@" REALM "\",\"impus\":[\"sip:u@" REALM "\"],"
		"\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"opc\":\"cd63cb71954a9f4e48a5994e37a02baf\"},"
		"\"ifcs\":[{\"priority\":1,\"trigger\":{\"spt\":[{\"session_case\":\"ORIGINATING_CDIV\"}]},"
		"\"application_server\":{\"server_name\":\"sip:as@x\"}}]}");
	assert_int_equal(hss_userdata_build(sub, NULL, &xml), 0);
	/* Rel-8 added value 4 to tDirectionOfRequest; the Rel-7 schema stops
	 * at 3, so only check the value here. */
	assert_non_null(strstr(xml, "<SessionCase>4</SessionCase>"));
	free(xml);
	hss_sub_free(sub);
}

/* TS 29.228 Annex B: RegistrationType in the SPT's Extension; the JSON
 * form survives a dump and a parse again. */
static void test_userdata_registration_type(void **state)
{
	(void)state;
	char *xml = NULL, *again = NULL;
	static const char *const bad[] = { "[]", "[\"SOMETIMES\"]", "\"DE-REGISTRATION\"", "[1]" };
	char text[640];
	for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"impi\":\"u@" REALM "\",\"impus\":[\"sip:u@" REALM "\"],"
			 "\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"opc\":\"cd63cb71954a9f4e48a5994e37a02baf\"},"
			 "\"ifcs\":[{\"priority\":1,\"trigger\":{\"spt\":[{\"method\":\"REGISTER\","
			 "\"registration_type\":%s}]},\"application_server\":{\"server_name\":\"sip:as@x\"}}]}",
			 i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : "[\"INITIAL_REGISTRATION\",\"DE-REGISTRATION\"]");
		if (i < sizeof(bad) / sizeof(bad[0])) {
			char err[256] = "";
			hss_sub_t *s = NULL;
			assert_int_equal(hss_json_sub_parse(text, strlen(text), &s, err, sizeof(err)),
					 IMS_EINVAL);
			assert_non_null(strstr(err, "registration_type"));
			continue;
		}
	}
	hss_sub_t *sub = parse_text(text);
	assert_int_equal(hss_userdata_build(sub, NULL, &xml), 0);
	assert_non_null(strstr(xml, "<Method>REGISTER</Method><Extension><RegistrationType>0</RegistrationType>"
				    "<RegistrationType>2</RegistrationType></Extension>"));
	json_t *dumped = hss_json_sub_dump(sub, 1);
	char *json = json_dumps(dumped, 0);
	json_decref(dumped);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"registration_type\": [\"INITIAL_REGISTRATION\", \"DE-REGISTRATION\"]"));
	hss_sub_t *sub2 = parse_text(json);
	assert_int_equal(hss_userdata_build(sub2, NULL, &again), 0);
	assert_string_equal(xml, again);
	free(json);
	free(xml);
	free(again);
	hss_sub_free(sub);
	hss_sub_free(sub2);
}

static void test_userdata_unknown_impu_and_bad_args(void **state)
{
	(void)state;
	char *xml = (char *)"x";
	hss_sub_t *sub = parse_file("sub_min.json");
	assert_int_equal(hss_userdata_build(sub, "sip:stranger@" REALM, &xml), IMS_ENOENT);
	assert_null(xml);
	sub->n_impus = 0;
	assert_int_equal(hss_userdata_build(sub, NULL, &xml), IMS_EINVAL);
	hss_sub_free(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_userdata_every_spt_kind_validates),
		cmocka_unit_test(test_userdata_no_ifc_and_empty_trigger),
		cmocka_unit_test(test_userdata_escapes_text),
		cmocka_unit_test(test_userdata_cdiv_session_case_is_4),
		cmocka_unit_test(test_userdata_registration_type),
		cmocka_unit_test(test_userdata_unknown_impu_and_bad_args),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
