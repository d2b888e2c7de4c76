/* I-CSCF configuration: defaults, the S-CSCF pool, and one error line
 * naming the key for each kind of mistake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "cfg/ims_cfg.h"
#include "context.h"

static int configure(const char *yaml, icscf_ctx_t **out, char *err, size_t errlen)
{
	char perr[256];
	ims_cfg_t *cfg = ims_cfg_parse(yaml, strlen(yaml), "icscf.yaml", perr, sizeof(perr));
	assert_non_null(cfg);
	int rc = ims_cfg_check_known(cfg, icscf_known_keys, err, errlen);
	void *ctx = NULL;
	if (rc == 0)
		rc = icscf_configure(cfg, &ctx, err, errlen);
	*out = ctx;
	ims_cfg_free(cfg);
	return rc;
}

static void test_defaults(void **state)
{
	(void)state;
	char err[256] = "";
	icscf_ctx_t *c;
	/* Strings point into the config, so read them before it is freed:
	 * parse again and keep it. */
	ims_cfg_t *cfg = ims_cfg_parse("", 0, "icscf.yaml", err, sizeof(err));
	assert_int_equal(icscf_configure(cfg, (void **)&c, err, sizeof(err)), 0);
	assert_string_equal(c->cfg.realm, "ims.mnc001.mcc001.3gppnetwork.org");
	assert_string_equal(c->cfg.dia_identity, "icscf.ims.mnc001.mcc001.3gppnetwork.org");
	assert_string_equal(c->cfg.hss_host, "hss.ims.mnc001.mcc001.3gppnetwork.org");
	assert_int_equal(c->cfg.hss_port, 3868);
	/* SPEC.md: 127.0.0.1:4060 UDP and TCP. */
	assert_int_equal(c->cfg.n_listen, 2);
	assert_int_equal(c->cfg.listen[0].port, 4060);
	assert_int_equal(c->cfg.listen[0].proto, SIP_TP_UDP);
	assert_int_equal(c->cfg.listen[1].proto, SIP_TP_TCP);
	assert_int_equal(c->pool.n, 1);
	assert_string_equal(c->pool.s[0].name, "sip:scscf.ims.mnc001.mcc001.3gppnetwork.org:6060");
	assert_string_equal(c->pool.s[0].uri, "sip:127.0.0.1:6060");
	icscf_destroy(c);
	ims_cfg_free(cfg);
}

static void test_pool_and_listeners(void **state)
{
	(void)state;
	char err[256] = "";
	static const char y[] =
		"realm: ims.test\n"
		"sip:\n  listen:\n    - {addr: 127.0.0.1, port: 14070, proto: tcp}\n"
		"diameter: {hss_port: 14130, timeout_ms: 500}\n"
		"scscf_pool:\n"
		"  - {name: \"sip:s1.ims.test:6060\", uri: \"sip:127.0.0.1:14100\", capabilities: [1, 7]}\n"
		"  - {name: \"sip:s2.ims.test:6060\"}\n";
	ims_cfg_t *cfg = ims_cfg_parse(y, strlen(y), "icscf.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_int_equal(ims_cfg_check_known(cfg, icscf_known_keys, err, sizeof(err)), 0);
	icscf_ctx_t *c;
	assert_int_equal(icscf_configure(cfg, (void **)&c, err, sizeof(err)), 0);
	assert_string_equal(c->cfg.dia_identity, "icscf.ims.test");
	assert_int_equal(c->cfg.n_listen, 1);
	assert_int_equal(c->cfg.listen[0].proto, SIP_TP_TCP);
	assert_int_equal(c->cfg.hss_port, 14130);
	assert_int_equal(c->cfg.cx_timeout_ms, 500);
	assert_int_equal(c->pool.n, 2);
	assert_int_equal(c->pool.s[0].n_caps, 2);
	assert_int_equal(c->pool.s[0].caps[1], 7);
	/* uri defaults to the name */
	assert_string_equal(c->pool.s[1].uri, "sip:s2.ims.test:6060");
	icscf_destroy(c);
	ims_cfg_free(cfg);
}

static void test_errors_name_the_key(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *needle;
	} t[] = {
		{ "scscf_pool:\n  - {uri: \"sip:1.2.3.4\"}\n", "scscf_pool[0].name" },
		{ "scscf_pool:\n  - {name: \"tel:+1\"}\n", "scscf_pool[0]" },
		{ "scscf_pool:\n  - {name: \"sip:a\", capabilities: [x]}\n", "scscf_pool[0].capabilities[0]" },
		{ "sip:\n  listen:\n    - {port: 70000}\n", "sip.listen[0].port" },
		{ "sip:\n  listen:\n    - {proto: sctp}\n", "sip.listen[0].proto" },
		{ "diameter: {hss_port: 0}\n", "diameter.hss_port" },
		{ "uar_retries: 0\n", "uar_retries" },
		{ "scscf_pol: []\n", "scscf_pol" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[256] = "";
		icscf_ctx_t *c = NULL;
		int rc = configure(t[i].yaml, &c, err, sizeof(err));
		if (rc == 0 || !strstr(err, t[i].needle))
			fail_msg("case %zu: rc=%d err=\"%s\" (want \"%s\")", i, rc, err, t[i].needle);
		assert_null(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_pool_and_listeners),
		cmocka_unit_test(test_errors_name_the_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
