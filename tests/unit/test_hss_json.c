/* hss-sim subscriber JSON: every field is validated and a bad one is named
 * by its path; the dump round-trips; secrets stay hidden unless asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/ims_err.h"
#include "hss-store.h"
#include "json-sub.h"

static json_t *load_full(void)
{
	json_error_t je;
	json_t *j = json_load_file(IMS_TEST_DATA "/hss/sub_full.json", 0, &je);
	if (j == NULL)
		fail_msg("sub_full.json: %s", je.text);
	return j;
}

/* Sets (or with value NULL removes) the node at a '/'-separated path of
 * object keys and array indexes. */
static void set_at(json_t *root, const char *path, const char *value)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *cur = root;
	char *save = NULL, *tok = strtok_r(buf, "/", &save);
	while (tok) {
		char *next = strtok_r(NULL, "/", &save);
		int is_idx = tok[0] >= '0' && tok[0] <= '9';
		if (next == NULL) {
			json_t *v = NULL;
			if (value) {
				json_error_t je;
				v = json_loads(value, JSON_DECODE_ANY, &je);
				if (v == NULL)
					fail_msg("bad test value %s", value);
			}
			if (is_idx) {
				if (v)
					json_array_set_new(cur, (size_t)atoi(tok), v);
				else
					json_array_remove(cur, (size_t)atoi(tok));
			} else if (v) {
				json_object_set_new(cur, tok, v);
			} else {
				json_object_del(cur, tok);
			}
			return;
		}
		cur = is_idx ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
		if (cur == NULL)
			fail_msg("no node at %s (in %s)", tok, path);
		tok = next;
	}
}

static int parse_json(json_t *j, hss_sub_t **sub, char *err, size_t cap)
{
	char *text = json_dumps(j, 0);
	int rc = hss_json_sub_parse(text, strlen(text), sub, err, cap);
	free(text);
	return rc;
}

typedef struct bad_case {
	const char *path;     /* what to change in sub_full.json */
	const char *value;    /* new JSON value, NULL = remove */
	const char *err;      /* expected start of the error */
} bad_case_t;

static const bad_case_t bad_cases[] = {
	{ "impi", NULL, "impi: required" },
	{ "impi", "42", "impi: must be a string" },
	{ "impi", "\"\"", "impi: must not be empty" },
	{ "impi", "\"nouser\"", "impi: must be a NAI" },
	{ "impi", "\"a/b@realm\"", "impi: must not contain" },
	{ "impi", "\"a b@realm\"", "impi: contains a control character or a space" },
	{ "bogus", "1", "bogus: unknown field" },
	{ "impus", NULL, "impus: required" },
	{ "impus", "[]", "impus: needs at least one" },
	{ "impus", "{}", "impus: must be an array" },
	{ "impus/1", "\"mailto:x@y\"", "impus[1]: must be a sip: or tel: URI" },
	{ "impus/1", "\"tel:abc\"", "impus[1]: tel URI must start with + or a digit" },
	{ "impus/1", "\"sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org\"", "impus[1]: duplicate of impus[0]" },
	{ "impus/1", "7", "impus[1]: must be a URI string" },
	{ "impus/2/barred", "\"yes\"", "impus[2].barred: must be true or false" },
	{ "impus/2/color", "1", "impus[2].color: unknown field" },
	{ "auth", NULL, "auth: required" },
	{ "auth/k", NULL, "auth.k: required" },
	{ "auth/k", "\"465b5ce8b199b49faa5f0a2ee238a6b\"", "auth.k: must be 32 hex digits" },
	{ "auth/k", "\"465b5ce8b199b49faa5f0a2ee238a6bz\"", "auth.k: must be 32 hex digits" },
	{ "auth/op", NULL, "auth.op: required (or auth.opc)" },
	{ "auth/opc", "\"cd63cb71954a9f4e48a5994e37a02baf\"", "auth.opc: give either op or opc" },
	{ "auth/amf", "\"80\"", "auth.amf: must be 4 hex digits" },
	{ "auth/sqn", "\"00000000000g\"", "auth.sqn: must be 12 hex digits" },
	{ "auth/sqn", "5", "auth.sqn: must be a string" },
	{ "auth/password", "\"\"", "auth.password: must not be empty" },
	{ "auth/pin", "\"1\"", "auth.pin: unknown field" },
	{ "hunting", "\"random\"", "hunting: unknown value" },
	{ "ifcs", "{}", "ifcs: must be an array" },
	{ "ifcs/0/priority", NULL, "ifcs[0].priority: required" },
	{ "ifcs/0/priority", "1.5", "ifcs[0].priority: must be an integer" },
	{ "ifcs/0/priority", "-1", "ifcs[0].priority: must be in 0.." },
	{ "ifcs/0/priority", "10", "ifcs[1].priority: duplicate priority 10" },
	{ "ifcs/0/application_server", NULL, "ifcs[0].application_server: required" },
	{ "ifcs/0/application_server/server_name", "\"http://x\"", "ifcs[0].application_server.server_name: must be a sip: or sips: URI" },
	{ "ifcs/1/application_server/default_handling", "\"SESSION_MAYBE\"", "ifcs[1].application_server.default_handling: unknown value" },
	{ "ifcs/1/application_server/include_register_request", "1", "ifcs[1].application_server.include_register_request: must be true or false" },
	{ "ifcs/1/profile_part_indicator", "\"SOMETIMES\"", "ifcs[1].profile_part_indicator: unknown value" },
	{ "ifcs/1/trigger/cnf", "\"no\"", "ifcs[1].trigger.cnf: must be true or false" },
	{ "ifcs/1/trigger/spt", "{}", "ifcs[1].trigger.spt: must be an array" },
	{ "ifcs/1/trigger/spt/0/method", "\"IN VITE\"", "ifcs[1].trigger.spt[0].method: contains a control character or a space" },
	{ "ifcs/1/trigger/spt/0/method", "\"IN(VITE\"", "ifcs[1].trigger.spt[0].method: must be a SIP method" },
	{ "ifcs/1/trigger/spt/0/group", "-3", "ifcs[1].trigger.spt[0].group: must be in 0.." },
	{ "ifcs/1/trigger/spt/0/negated", "0", "ifcs[1].trigger.spt[0].negated: must be true or false" },
	{ "ifcs/1/trigger/spt/0/request_uri", "\"x\"", "ifcs[1].trigger.spt[0]: has both \"request_uri\" and \"method\"" },
	{ "ifcs/1/trigger/spt/1/session_case", "\"SIDEWAYS\"", "ifcs[1].trigger.spt[1].session_case: unknown value \"SIDEWAYS\"" },
	{ "ifcs/1/trigger/spt/2/header/name", "\"Sub:ject\"", "ifcs[1].trigger.spt[2].header.name: must be a header name" },
	{ "ifcs/1/trigger/spt/2/header/content", "\"(unclosed\"", "ifcs[1].trigger.spt[2].header.content: invalid regular expression" },
	{ "ifcs/1/trigger/spt/2/header/name", NULL, "ifcs[1].trigger.spt[2].header.name: required" },
	{ "ifcs/1/trigger/spt/3/request_uri", "\"sip:[a-\"", "ifcs[1].trigger.spt[3].request_uri: invalid regular expression" },
	{ "ifcs/1/trigger/spt/3/request_uri", "\"s+++++++++++++++++++++++++++++ip:x\"", "ifcs[1].trigger.spt[3].request_uri: regular expression too complex" },
	{ "ifcs/1/trigger/spt/3/request_uri", "\"((a{99}){99})\"", "ifcs[1].trigger.spt[3].request_uri: regular expression too complex" },
	{ "ifcs/1/trigger/spt/3/request_uri", "\"a*{2}\"", "ifcs[1].trigger.spt[3].request_uri: regular expression too complex" },
	{ "ifcs/1/trigger/spt/3/request_uri", "\"((((((((((((((((((x))))))))))))))))))\"", "ifcs[1].trigger.spt[3].request_uri: regular expression too complex" },
	{ "ifcs/1/trigger/spt/2/header/content", "\"(a*)*\\\\1\"", "ifcs[1].trigger.spt[2].header.content: regular expression too complex" },
	{ "ifcs/1/trigger/spt/2/header/content", "\"x{5000}\"", "ifcs[1].trigger.spt[2].header.content: regular expression too complex" },
	{ "ifcs/1/trigger/spt/4/sdp_line/line", "\"mm\"", "ifcs[1].trigger.spt[4].sdp_line.line: must be one SDP line type letter" },
	{ "ifcs/1/trigger/spt/4/sdp_line", "\"m\"", "ifcs[1].trigger.spt[4].sdp_line: must be an object" },
	{ "ifcs/1/trigger/spt/5", "{\"group\": 1}", "ifcs[1].trigger.spt[5]: needs one of" },
	{ "ifcs/1/trigger/spt/5", "[]", "ifcs[1].trigger.spt[5]: must be an object" },
	{ "ifcs/1/trigger/when", "1", "ifcs[1].trigger.when: unknown field" },
	{ "ifcs/1/trigger/spt/0/registration_type", "[\"INITIAL_REGISTRATION\"]", "ifcs[1].trigger.spt[0].registration_type: only with \"method\": \"REGISTER\"" },
	{ "ifcs/1/trigger/spt/1/registration_type", "[\"DE-REGISTRATION\"]", "ifcs[1].trigger.spt[1].registration_type: only with" },
};

static void test_json_bad_field_is_named(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const bad_case_t *c = &bad_cases[i];
		json_t *j = load_full();
		char err[300] = "";
		hss_sub_t *sub = NULL;
		set_at(j, c->path, c->value);
		int rc = parse_json(j, &sub, err, sizeof(err));
		json_decref(j);
		if (rc != IMS_EINVAL || strncmp(err, c->err, strlen(c->err)) != 0)
			fail_msg("case %zu (%s=%s): rc=%d err=\"%s\", want \"%s\"", i, c->path,
				 c->value ? c->value : "<removed>", rc, err, c->err);
		assert_null(sub);
	}
}

static void test_json_not_json_or_not_object(void **state)
{
	(void)state;
	char err[300];
	hss_sub_t *sub = NULL;
	assert_int_equal(hss_json_sub_parse("{\"impi\":", 8, &sub, err, sizeof(err)), IMS_EINVAL);
	assert_memory_equal(err, "body: invalid JSON", 18);
	assert_int_equal(hss_json_sub_parse("[1]", 3, &sub, err, sizeof(err)), IMS_EINVAL);
	assert_string_equal(err, "body: must be an object");
	/* duplicate keys are refused rather than silently picking one */
	const char *dup = "{\"impi\":\"a@b\",\"impi\":\"c@d\"}";
	assert_int_equal(hss_json_sub_parse(dup, strlen(dup), &sub, err, sizeof(err)), IMS_EINVAL);
	assert_memory_equal(err, "body: invalid JSON", 18);
	assert_null(sub);
	/* an unknown key with a newline is quoted without breaking the line */
	const char *nl = "{\"a\\nb\":1}";
	assert_int_equal(hss_json_sub_parse(nl, strlen(nl), &sub, err, sizeof(err)), IMS_EINVAL);
	assert_string_equal(err, "a?b: unknown field");
}

static void test_json_realistic_regexes_pass(void **state)
{
	(void)state;
	static const char *const ok_res[] = {
		"sip:voicemail@.*", "^sip:\\+?[0-9]{3,15}@[a-z0-9.-]+(;.*)?$", "(INVITE|MESSAGE)",
		"[[:alnum:]_.]+@ims\\.example\\.org", "a{2}b{3}c{4}d+e+f+g+h+i+j+", "[]a]x|[^]b]y",
	};
	for (size_t i = 0; i < sizeof(ok_res) / sizeof(ok_res[0]); i++) {
		json_t *j = load_full();
		char err[300] = "";
		hss_sub_t *sub = NULL;
		set_at(j, "ifcs/1/trigger/spt/3", NULL);
		json_array_append_new(json_object_get(json_object_get(json_array_get(json_object_get(j, "ifcs"), 1), "trigger"), "spt"),
				      json_pack("{ss}", "request_uri", ok_res[i]));
		int rc = parse_json(j, &sub, err, sizeof(err));
		json_decref(j);
		if (rc != 0)
			fail_msg("regex %s refused: %s", ok_res[i], err);
		hss_sub_free(sub);
	}
}

static void test_json_opc_derived_from_op(void **state)
{
	(void)state;
	/* TS 35.208 test set 1: OP cdc202d5... gives OPc cd63cb71... */
	static const uint8_t want[16] = { 0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
					  0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf };
	json_t *j = load_full();
	char err[300];
	hss_sub_t *sub = NULL;
	assert_int_equal(parse_json(j, &sub, err, sizeof(err)), 0);
	assert_memory_equal(sub->opc, want, 16);
	assert_true(sub->has_op);
	assert_true(sub->has_sqn);
	hss_sub_free(sub);
	/* no amf: 8000; no sqn: has_sqn = 0 (PUT keeps the stored one) */
	set_at(j, "auth/amf", NULL);
	set_at(j, "auth/sqn", NULL);
	assert_int_equal(parse_json(j, &sub, err, sizeof(err)), 0);
	assert_memory_equal(sub->amf, "\x80\x00", 2);
	assert_false(sub->has_sqn);
	hss_sub_free(sub);
	json_decref(j);
}

static void test_json_dump_roundtrip_and_secrets(void **state)
{
	(void)state;
	json_t *j = load_full();
	char err[300];
	hss_sub_t *sub = NULL, *again = NULL;
	set_at(j, "auth/sqn", "\"0000000004d2\"");
	assert_int_equal(parse_json(j, &sub, err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(sub->sqn, 1234);

	json_t *pub = hss_json_sub_dump(sub, 0);
	json_t *auth = json_object_get(pub, "auth");
	assert_null(json_object_get(auth, "k"));
	assert_null(json_object_get(auth, "op"));
	assert_null(json_object_get(auth, "opc"));
	assert_null(json_object_get(auth, "password"));
	assert_true(json_is_true(json_object_get(auth, "has_password")));
	assert_string_equal(json_string_value(json_object_get(auth, "sqn")), "0000000004d2");
	json_decref(pub);

	json_t *full = hss_json_sub_dump(sub, 1);
	auth = json_object_get(full, "auth");
	assert_string_equal(json_string_value(json_object_get(auth, "k")), "465b5ce8b199b49faa5f0a2ee238a6bc");
	assert_string_equal(json_string_value(json_object_get(auth, "op")), "cdc202d5123e20f62b6d676ac72cb318");
	assert_string_equal(json_string_value(json_object_get(auth, "password")), "secret");
	/* what we print parses back to the same dump */
	assert_int_equal(parse_json(full, &again, err, sizeof(err)), 0);
	json_t *full2 = hss_json_sub_dump(again, 1);
	assert_true(json_equal(full, full2));
	json_decref(full2);
	json_decref(full);
	hss_sub_free(again);
	hss_sub_free(sub);
}

static void test_json_ifcs_sorted_by_priority(void **state)
{
	(void)state;
	json_t *j = load_full();
	char err[300];
	hss_sub_t *sub = NULL;
	assert_int_equal(parse_json(j, &sub, err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(sub->n_ifcs, 2);
	assert_int_equal(sub->ifcs[0].priority, 10);
	assert_int_equal(sub->ifcs[1].priority, 20);
	assert_int_equal(sub->ifcs[0].spt[4].kind, HSS_SPT_SDP_LINE);
	assert_string_equal(sub->ifcs[0].spt[4].value, "m");
	assert_string_equal(sub->ifcs[0].spt[4].content, "video");
	assert_string_equal(hss_session_case_name(HSS_SC_ORIGINATING_CDIV), "ORIGINATING_CDIV");
	assert_null(hss_session_case_name(5));
	hss_sub_free(sub);
}

/* Every allocation failure while building the iFC list is reported as
 * IMS_ENOMEM (never a crash or a half-filled success). */
static void test_json_ifcs_parse_out_of_memory(void **state)
{
	(void)state;
	json_t *j = load_full();
	json_t *ifcs = json_object_get(j, "ifcs");
	int saw_enomem = 0, ok_at = -1;
	for (long n = 1; n < 200 && ok_at < 0; n++) {
		ims_arena_t *a = ims_arena_create(64);
		assert_non_null(a);
		ims_arena_fail_after(a, n);
		hss_ifc_t *out = NULL;
		unsigned cnt = 0;
		char err[300] = "";
		int rc = hss_json_ifcs_parse(ifcs, "ifcs", a, &out, &cnt, err, sizeof(err));
		if (rc == IMS_ENOMEM) {
			saw_enomem = 1;
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(cnt, 2);
			assert_string_equal(out[0].spt[2].content, "urgent");
			ok_at = (int)n;
		}
		ims_arena_destroy(a);
	}
	assert_true(saw_enomem);
	assert_true(ok_at > 1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_bad_field_is_named),
		cmocka_unit_test(test_json_not_json_or_not_object),
		cmocka_unit_test(test_json_realistic_regexes_pass),
		cmocka_unit_test(test_json_opc_derived_from_op),
		cmocka_unit_test(test_json_dump_roundtrip_and_secrets),
		cmocka_unit_test(test_json_ifcs_sorted_by_priority),
		cmocka_unit_test(test_json_ifcs_parse_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
