/* YAML config: tree, getters with defaults and ranges, one-line errors,
 * unknown keys, environment overrides. Files in tests/data/cfg/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "cfg/ims_cfg.h"

#define DATA(f) IMS_TEST_DATA "/cfg/" f

static ims_cfg_t *load_ok(const char *path)
{
	char err[256];
	ims_cfg_t *c = ims_cfg_load(path, err, sizeof(err));
	if (!c)
		fail_msg("load %s: %s", path, err);
	return c;
}

static void test_cfg_scalars_by_path(void **state)
{
	(void)state;
	ims_cfg_t *c = load_ok(DATA("good.yaml"));
	const char *s;
	long n;
	double d;
	int b;
	assert_int_equal(ims_cfg_str(c, "log_level", "info", &s), 0);
	assert_string_equal(s, "debug");
	assert_int_equal(ims_cfg_int(c, "sip.port", 1, 1, 65535, &n), 0);
	assert_int_equal(n, 5060);
	assert_int_equal(ims_cfg_double(c, "sip.timeout", 0, 0, 10, &d), 0);
	assert_true(d > 1.49 && d < 1.51);
	assert_int_equal(ims_cfg_bool(c, "sip.tcp", 0, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ims_cfg_str(c, "sip.listen[1].addr", NULL, &s), 0);
	assert_string_equal(s, "::1");
	assert_int_equal(ims_cfg_int(c, "sip.listen[1].port", 0, 1, 65535, &n), 0);
	assert_int_equal(n, 5061);
	assert_int_equal(ims_cfg_str(c, "sip.domains[1]", NULL, &s), 0);
	assert_string_equal(s, "example.org");
	assert_int_equal(ims_cfg_str(c, "name", "x", &s), 0);
	assert_string_equal(s, "");
	/* nulls take the default; a quoted "null" is a string */
	assert_int_equal(ims_cfg_str(c, "unset_a", "dflt", &s), 0);
	assert_string_equal(s, "dflt");
	assert_int_equal(ims_cfg_int(c, "unset_b", 42, 0, 100, &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(ims_cfg_bool(c, "unset_c", 1, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ims_cfg_str(c, "unset_c", NULL, &s), IMS_ECONFIG);
	assert_int_equal(ims_cfg_str(c, "quoted_null", "x", &s), 0);
	assert_string_equal(s, "null");
	assert_int_equal(ims_cfg_list_len(c, "sip.listen"), 2);
	assert_int_equal(ims_cfg_list_len(c, "sip.domains"), 2);
	assert_int_equal(ims_cfg_list_len(c, "empty_list"), 0);
	assert_int_equal(ims_cfg_list_len(c, "nothing.here"), 0);
	assert_int_equal(ims_cfg_map_len(c, "sip"), 5);
	assert_string_equal(ims_cfg_map_key(c, "sip", 0), "port");
	assert_string_equal(ims_cfg_map_key(c, "sip", 4), "domains");
	assert_null(ims_cfg_map_key(c, "sip", 5));
	assert_string_equal(ims_cfg_map_key(c, "sip.listen[1]", 1), "port");
	assert_int_equal(ims_cfg_map_len(c, "empty_map"), 0);
	assert_int_equal(ims_cfg_map_len(c, "absent"), 0);
	assert_int_equal(ims_cfg_map_len(c, "sip.listen"), IMS_ECONFIG);
	assert_int_equal(ims_cfg_map_len(c, "a..b"), IMS_EINVAL);
	assert_true(ims_cfg_has(c, "empty_map"));
	assert_false(ims_cfg_has(c, "sip.listen[2]"));
	ims_cfg_free(c);
}

static void test_cfg_defaults_when_missing(void **state)
{
	(void)state;
	ims_cfg_t *c = load_ok(DATA("good.yaml"));
	const char *s;
	long n;
	int b;
	double d;
	assert_int_equal(ims_cfg_str(c, "sip.realm", "ims.example", &s), 0);
	assert_string_equal(s, "ims.example");
	assert_int_equal(ims_cfg_int(c, "sip.listen[5].port", 77, 1, 100, &n), 0);
	assert_int_equal(n, 77);
	assert_int_equal(ims_cfg_bool(c, "sip.udp", 1, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ims_cfg_double(c, "x.y", 2.5, 0, 3, &d), 0);
	assert_true(d == 2.5);
	/* def NULL: required */
	assert_int_equal(ims_cfg_str(c, "sip.realm", NULL, &s), IMS_ECONFIG);
	assert_string_equal(ims_cfg_error(c), "sip.realm: required key is missing");
	ims_cfg_free(c);
}

static void test_cfg_error_lines_name_the_key(void **state)
{
	(void)state;
	ims_cfg_t *c = load_ok(DATA("out_of_range.yaml"));
	long n = 0;
	assert_int_equal(ims_cfg_int(c, "sip.port", 5060, 1, 65535, &n), IMS_ECONFIG);
	assert_string_equal(ims_cfg_error(c),
			    "sip.port: 70000 is out of range 1..65535 (" DATA("out_of_range.yaml") ":2)");
	ims_cfg_free(c);

	c = load_ok(DATA("good.yaml"));
	const char *s;
	int b;
	assert_int_equal(ims_cfg_int(c, "log_level", 0, 0, 10, &n), IMS_ECONFIG);
	assert_non_null(strstr(ims_cfg_error(c), "log_level: \"debug\" is not an integer"));
	assert_int_equal(ims_cfg_bool(c, "log_level", 0, &b), IMS_ECONFIG);
	assert_non_null(strstr(ims_cfg_error(c), "log_level: \"debug\" is not a boolean"));
	assert_int_equal(ims_cfg_str(c, "sip.listen", "", &s), IMS_ECONFIG);
	assert_non_null(strstr(ims_cfg_error(c), "sip.listen: expected a value, found a list"));
	assert_int_equal(ims_cfg_list_len(c, "sip"), IMS_ECONFIG);
	assert_non_null(strstr(ims_cfg_error(c), "sip: expected a list, found a mapping"));
	assert_int_equal(ims_cfg_str(c, "sip..port", "", &s), IMS_EINVAL);
	assert_int_equal(ims_cfg_str(c, "sip.listen[x]", "", &s), IMS_EINVAL);
	ims_cfg_free(c);
}

static void test_cfg_syntax_error_names_file_and_line(void **state)
{
	(void)state;
	char err[256];
	assert_null(ims_cfg_load(DATA("syntax_error.yaml"), err, sizeof(err)));
	assert_string_equal(err, DATA("syntax_error.yaml") ":4: mapping values are not allowed in this context");
	assert_null(ims_cfg_load(DATA("duplicate.yaml"), err, sizeof(err)));
	assert_string_equal(err, DATA("duplicate.yaml") ":3: duplicate key port (first at line 2)");
	assert_null(ims_cfg_load(DATA("not_a_map.yaml"), err, sizeof(err)));
	assert_string_equal(err, DATA("not_a_map.yaml") ":1: the top level must be a mapping of keys");
	assert_null(ims_cfg_load(DATA("no_such_file.yaml"), err, sizeof(err)));
	assert_non_null(strstr(err, "no_such_file.yaml: cannot open: No such file"));
	assert_null(ims_cfg_parse("a: *x\n", 6, "mem", err, sizeof(err)));
	assert_non_null(strstr(err, "mem:1:"));
	assert_null(ims_cfg_parse("a: 1\n---\nb: 2\n", 14, "mem", err, sizeof(err)));
	assert_string_equal(err, "mem:2: only one YAML document is allowed");
}

static void test_cfg_empty_file_is_empty_map(void **state)
{
	(void)state;
	ims_cfg_t *c = load_ok(DATA("empty.yaml"));
	long n;
	assert_int_equal(ims_cfg_int(c, "sip.port", 6060, 1, 65535, &n), 0);
	assert_int_equal(n, 6060);
	static const char *const none[] = { NULL };
	char err[128];
	assert_int_equal(ims_cfg_check_known(c, none, err, sizeof(err)), 0);
	ims_cfg_free(c);
	c = ims_cfg_empty();
	assert_non_null(c);
	assert_int_equal(ims_cfg_int(c, "a", 3, 1, 5, &n), 0);
	assert_int_equal(n, 3);
	ims_cfg_free(c);
}

static void test_cfg_unknown_key_rejected(void **state)
{
	(void)state;
	static const char *const known[] = { "log_level", "sip.port", NULL };
	ims_cfg_t *c = load_ok(DATA("typo.yaml"));
	char err[256];
	assert_int_equal(ims_cfg_check_known(c, known, err, sizeof(err)), IMS_ECONFIG);
	assert_string_equal(err, DATA("typo.yaml") ":4: unknown key sip.prot");
	assert_string_equal(ims_cfg_error(c), err);
	ims_cfg_free(c);

	static const char *const all[] = { "log_level",        "sip.port",  "sip.timeout",
					   "sip.tcp",          "sip.listen[].addr",
					   "sip.listen[].port", "sip.domains[]", "http.*",
					   "empty_map",        "empty_list", "name",
					   "unset_a", "unset_b", "unset_c", "quoted_null", NULL };
	c = load_ok(DATA("good.yaml"));
	assert_int_equal(ims_cfg_check_known(c, all, err, sizeof(err)), 0);
	/* a list named without [] accepts its scalar items, not its maps */
	static const char *const lists[] = { "log_level", "sip.port", "sip.timeout", "sip.tcp",
					     "sip.listen", "sip.domains", "http.*", "empty_map",
					     "empty_list", "name", "unset_a", "unset_b", "unset_c",
					     "quoted_null", NULL };
	assert_int_equal(ims_cfg_check_known(c, lists, err, sizeof(err)), IMS_ECONFIG);
	assert_non_null(strstr(err, "unknown key sip.listen[].addr"));
	static const char *const lists2[] = { "log_level", "sip.port", "sip.timeout", "sip.tcp",
					      "sip.listen[].addr", "sip.listen[].port", "sip.domains",
					      "http.*", "empty_map", "empty_list", "name", "unset_a",
					      "unset_b", "unset_c", "quoted_null", NULL };
	assert_int_equal(ims_cfg_check_known(c, lists2, err, sizeof(err)), 0);
	/* without the wildcard http.port is unknown */
	static const char *const partial[] = { "log_level", "sip.*", "empty_map", "empty_list",
					       "name", "unset_a", "unset_b", "unset_c", "quoted_null", NULL };
	assert_int_equal(ims_cfg_check_known(c, partial, err, sizeof(err)), IMS_ECONFIG);
	assert_non_null(strstr(err, "unknown key http.port"));
	ims_cfg_free(c);
}

static void test_cfg_also_known_keys(void **state)
{
	(void)state;
	static const char *const common[] = { "log_level", "http.*", NULL };
	static const char *const mine[] = { "sip.*", "empty_map", "empty_list", "name", "unset_a",
					    "unset_b", "unset_c", "quoted_null", NULL };
	ims_cfg_t *c = load_ok(DATA("good.yaml"));
	char err[256];
	assert_int_equal(ims_cfg_check_known(c, mine, err, sizeof(err)), IMS_ECONFIG);
	assert_non_null(strstr(err, "unknown key log_level"));
	ims_cfg_also_known(c, common);
	assert_int_equal(ims_cfg_check_known(c, mine, err, sizeof(err)), 0);
	ims_cfg_free(c);
}

static void test_cfg_env_override(void **state)
{
	(void)state;
	ims_cfg_t *c = load_ok(DATA("good.yaml"));
	long n;
	const char *s;
	setenv("IMS_CFG_SIP_PORT", "7070", 1);
	setenv("IMS_CFG_SIP_LISTEN_0_ADDR", "10.0.0.1", 1);
	setenv("IMS_CFG_HTTP_ADDR", "0.0.0.0", 1);
	assert_int_equal(ims_cfg_int(c, "sip.port", 1, 1, 65535, &n), 0);
	assert_int_equal(n, 7070);
	assert_int_equal(ims_cfg_str(c, "sip.listen[0].addr", NULL, &s), 0);
	assert_string_equal(s, "10.0.0.1");
	/* an override also supplies a key absent from the file */
	assert_true(ims_cfg_has(c, "http.addr"));
	assert_int_equal(ims_cfg_str(c, "http.addr", "127.0.0.1", &s), 0);
	assert_string_equal(s, "0.0.0.0");
	setenv("IMS_CFG_SIP_PORT", "99999", 1);
	assert_int_equal(ims_cfg_int(c, "sip.port", 1, 1, 65535, &n), IMS_ECONFIG);
	assert_string_equal(ims_cfg_error(c),
			    "sip.port: 99999 is out of range 1..65535 (from IMS_CFG_SIP_PORT)");
	unsetenv("IMS_CFG_SIP_PORT");
	unsetenv("IMS_CFG_SIP_LISTEN_0_ADDR");
	unsetenv("IMS_CFG_HTTP_ADDR");
	assert_int_equal(ims_cfg_int(c, "sip.port", 1, 1, 65535, &n), 0);
	assert_int_equal(n, 5060);
	ims_cfg_free(c);
}

static void test_cfg_parse_from_memory(void **state)
{
	(void)state;
	static const char y[] = "a:\n  b:\n    - {c: 1}\n    - {c: 2}\n";
	char err[128];
	ims_cfg_t *c = ims_cfg_parse(y, sizeof(y) - 1, "inline", err, sizeof(err));
	assert_non_null(c);
	long n;
	assert_int_equal(ims_cfg_int(c, "a.b[1].c", 0, 0, 9, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ims_cfg_name(c), "inline");
	ims_cfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_scalars_by_path),
		cmocka_unit_test(test_cfg_defaults_when_missing),
		cmocka_unit_test(test_cfg_error_lines_name_the_key),
		cmocka_unit_test(test_cfg_syntax_error_names_file_and_line),
		cmocka_unit_test(test_cfg_empty_file_is_empty_map),
		cmocka_unit_test(test_cfg_unknown_key_rejected),
		cmocka_unit_test(test_cfg_also_known_keys),
		cmocka_unit_test(test_cfg_env_override),
		cmocka_unit_test(test_cfg_parse_from_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
