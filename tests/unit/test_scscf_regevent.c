/* reginfo documents (RFC 3680 §5): structure of full and partial state,
 * one registration per identity of the implicit set, contact states and
 * events, checked by parsing the output again with libxml2 and XPath. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "base/ims_err.h"
#include "regevent.h"

static const ims_str_t set2[2] = { IMS_STR("sip:alice@ims.example"), IMS_STR("tel:+15550000001") };

typedef struct {
	xmlDocPtr doc;
	xmlXPathContextPtr x;
} xdoc_t;

static void parse(const char *xml, size_t len, xdoc_t *d)
{
	d->doc = xmlReadMemory(xml, (int)len, "reginfo.xml", NULL, XML_PARSE_NONET);
	assert_non_null(d->doc);
	d->x = xmlXPathNewContext(d->doc);
	assert_non_null(d->x);
	assert_int_equal(xmlXPathRegisterNs(d->x, BAD_CAST "r",
					    BAD_CAST "urn:ietf:params:xml:ns:reginfo"), 0);
}

static void done(xdoc_t *d)
{
	xmlXPathFreeContext(d->x);
	xmlFreeDoc(d->doc);
}

static int count(xdoc_t *d, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, d->x);
	int n;
	assert_non_null(o);
	n = o->nodesetval ? o->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(o);
	return n;
}

static void assert_str(xdoc_t *d, const char *expr, const char *want)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, d->x);
	assert_non_null(o);
	xmlChar *s = xmlXPathCastToString(o);
	if (strcmp((const char *)s, want) != 0)
		fail_msg("%s = \"%s\", want \"%s\"", expr, s, want);
	xmlFree(s);
	xmlXPathFreeObject(o);
}

static scscf_binding_t binding(uint64_t id, const char *uri, int64_t expires,
			       scscf_contact_event_t ev)
{
	scscf_binding_t b;
	memset(&b, 0, sizeof(b));
	b.id = id;
	b.uri = ims_str_cstr(uri);
	b.expires = expires;
	b.event = ev;
	b.q = -1;
	b.call_id = IMS_STR("cid@ue");
	b.cseq = 7;
	return b;
}

static void test_full_state_lists_live_bindings_for_each_identity(void **state)
{
	(void)state;
	scscf_binding_t b[2] = { binding(1, "sip:ue@10.0.0.1:5060", 1600, SCSCF_CEV_NONE),
				 binding(2, "sip:ue@10.0.0.2:5060", 900, SCSCF_CEV_NONE) };
	char *xml;
	size_t len;
	xdoc_t d;
	b[0].q = 500;
	b[0].instance = IMS_STR("\"<urn:uuid:1>\"");
	assert_int_equal(scscf_reginfo_build(0, 1, set2, 2, b, 2, 1000, &xml, &len), 0);
	assert_int_equal(strlen(xml), len);
	parse(xml, len, &d);
	assert_str(&d, "name(/*)", "reginfo");
	assert_str(&d, "/r:reginfo/@version", "0");
	assert_str(&d, "/r:reginfo/@state", "full");
	assert_int_equal(count(&d, "/r:reginfo/r:registration"), 2);
	assert_str(&d, "/r:reginfo/r:registration[1]/@aor", "sip:alice@ims.example");
	assert_str(&d, "/r:reginfo/r:registration[2]/@aor", "tel:+15550000001");
	assert_str(&d, "/r:reginfo/r:registration[1]/@state", "active");
	assert_int_equal(count(&d, "//r:registration[@id]"), 2);
	/* binding 2 expired at 900: not in a full document */
	assert_int_equal(count(&d, "/r:reginfo/r:registration[1]/r:contact"), 1);
	assert_str(&d, "/r:reginfo/r:registration[1]/r:contact/@state", "active");
	assert_str(&d, "/r:reginfo/r:registration[1]/r:contact/@event", "registered");
	assert_str(&d, "/r:reginfo/r:registration[1]/r:contact/@expires", "600");
	assert_str(&d, "/r:reginfo/r:registration[1]/r:contact/@q", "0.500");
	assert_str(&d, "/r:reginfo/r:registration[1]/r:contact/@callid", "cid@ue");
	assert_str(&d, "/r:reginfo/r:registration[1]/r:contact/@cseq", "7");
	assert_str(&d, "/r:reginfo/r:registration[1]/r:contact/r:uri", "sip:ue@10.0.0.1:5060");
	assert_str(&d, "//r:registration[1]/r:contact/r:unknown-param[@name='+sip.instance']",
		   "\"<urn:uuid:1>\"");
	/* the registration ids are the same from one document to the next */
	char *xml2;
	size_t len2;
	xdoc_t d2;
	assert_int_equal(scscf_reginfo_build(1, 1, set2, 2, b, 1, 1001, &xml2, &len2), 0);
	parse(xml2, len2, &d2);
	xmlXPathObjectPtr o1 = xmlXPathEvalExpression(BAD_CAST "string(//r:registration[1]/@id)", d.x);
	xmlXPathObjectPtr o2 = xmlXPathEvalExpression(BAD_CAST "string(//r:registration[1]/@id)", d2.x);
	assert_string_equal((const char *)o1->stringval, (const char *)o2->stringval);
	xmlXPathFreeObject(o1);
	xmlXPathFreeObject(o2);
	assert_str(&d2, "/r:reginfo/@version", "1");
	done(&d2);
	free(xml2);
	done(&d);
	free(xml);
}

static void test_partial_state_only_changes(void **state)
{
	(void)state;
	scscf_binding_t b[3] = { binding(1, "sip:a@10.0.0.1", 1600, SCSCF_CEV_NONE),
				 binding(2, "sip:b@10.0.0.2", 1001, SCSCF_CEV_UNREGISTERED),
				 binding(3, "sip:c@10.0.0.3", 2000, SCSCF_CEV_REGISTERED) };
	char *xml;
	size_t len;
	xdoc_t d;
	assert_int_equal(scscf_reginfo_build(4, 0, set2, 1, b, 3, 1000, &xml, &len), 0);
	parse(xml, len, &d);
	assert_str(&d, "/r:reginfo/@state", "partial");
	assert_str(&d, "/r:reginfo/@version", "4");
	assert_int_equal(count(&d, "//r:contact"), 2);
	assert_str(&d, "//r:contact[@id='c2']/@state", "terminated");
	assert_str(&d, "//r:contact[@id='c2']/@event", "unregistered");
	assert_int_equal(count(&d, "//r:contact[@id='c2']/@expires"), 0);
	assert_str(&d, "//r:contact[@id='c3']/@state", "active");
	assert_str(&d, "//r:contact[@id='c3']/@event", "registered");
	assert_str(&d, "//r:registration/@state", "active");
	done(&d);
	free(xml);
}

static void test_deregistration_terminates_registration(void **state)
{
	(void)state;
	scscf_binding_t b[1] = { binding(9, "sip:a@10.0.0.1", 1600, SCSCF_CEV_REJECTED) };
	char *xml;
	size_t len;
	xdoc_t d;
	assert_int_equal(scscf_reginfo_build(2, 0, set2, 2, b, 1, 1000, &xml, &len), 0);
	parse(xml, len, &d);
	assert_int_equal(count(&d, "//r:registration[@state='terminated']"), 2);
	assert_str(&d, "//r:registration[2]/r:contact/@event", "rejected");
	assert_str(&d, "//r:registration[2]/r:contact/@state", "terminated");
	done(&d);
	free(xml);

	/* an empty full document for a user with no registration */
	assert_int_equal(scscf_reginfo_build(0, 1, set2, 1, NULL, 0, 1000, &xml, &len), 0);
	parse(xml, len, &d);
	assert_str(&d, "//r:registration/@state", "terminated");
	assert_int_equal(count(&d, "//r:contact"), 0);
	done(&d);
	free(xml);
}

static void test_markup_in_values_is_escaped(void **state)
{
	(void)state;
	scscf_binding_t b[1] = { binding(1, "sip:a@10.0.0.1;x=<&>", 1600, SCSCF_CEV_NONE) };
	static const ims_str_t odd[1] = { IMS_STR("sip:\"q\"&<x>@ims.example") };
	char *xml;
	size_t len;
	xdoc_t d;
	assert_int_equal(scscf_reginfo_build(0, 1, odd, 1, b, 1, 1000, &xml, &len), 0);
	parse(xml, len, &d);
	assert_str(&d, "//r:registration/@aor", "sip:\"q\"&<x>@ims.example");
	assert_str(&d, "//r:contact/r:uri", "sip:a@10.0.0.1;x=<&>");
	done(&d);
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_state_lists_live_bindings_for_each_identity),
		cmocka_unit_test(test_partial_state_only_changes),
		cmocka_unit_test(test_deregistration_terminates_registration),
		cmocka_unit_test(test_markup_in_values_is_escaped),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
