/* P-CSCF configuration: defaults (SPEC.md lab values), the derived Path
 * URI, and one error line naming the key. */
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

static void test_defaults(void **state)
{
	(void)state;
	char err[256] = "";
	ims_cfg_t *cfg = ims_cfg_parse("", 0, "pcscf.yaml", err, sizeof(err));
	pcscf_ctx_t *c;
	assert_int_equal(pcscf_configure(cfg, (void **)&c, err, sizeof(err)), 0);
	assert_int_equal(c->cfg.n_listen, 2);
	assert_int_equal(c->cfg.listen[0].port, 5060);
	assert_string_equal(c->path_uri, "sip:term@127.0.0.1:5060;lr");
	assert_string_equal(c->self_uri, "sip:pcscf@127.0.0.1:5060");
	assert_string_equal(c->visited_quoted, "\"ims.mnc001.mcc001.3gppnetwork.org\"");
	assert_int_equal(c->cfg.n_icscf, 1);
	assert_string_equal(c->cfg.icscf[0], "sip:127.0.0.1:4060");
	assert_true(c->cfg.reg_event);
	pcscf_destroy(c);
	ims_cfg_free(cfg);
}

static void test_advertise_and_icscf_list(void **state)
{
	(void)state;
	char err[256] = "";
	static const char y[] =
		"sip:\n  listen:\n    - {addr: 127.0.0.1, port: 14060, proto: udp, advertise: pcscf.ims.test}\n"
		"  hosts: [\"scscf.ims.test=127.0.0.1\"]\n"
		"icscf: [\"sip:127.0.0.1:14062;transport=tcp\", \"sip:127.0.0.1:14063\"]\n"
		"visited_network_id: visited.test\nreg_event: off\n";
	ims_cfg_t *cfg = ims_cfg_parse(y, strlen(y), "pcscf.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_int_equal(ims_cfg_check_known(cfg, pcscf_known_keys, err, sizeof(err)), 0);
	pcscf_ctx_t *c;
	assert_int_equal(pcscf_configure(cfg, (void **)&c, err, sizeof(err)), 0);
	assert_int_equal(c->cfg.n_listen, 1);
	assert_string_equal(c->path_uri, "sip:term@pcscf.ims.test:14060;lr");
	assert_int_equal(c->cfg.n_icscf, 2);
	assert_string_equal(c->visited_quoted, "\"visited.test\"");
	assert_false(c->cfg.reg_event);
	assert_string_equal(c->cfg.hosts[0], "scscf.ims.test=127.0.0.1");
	assert_null(c->cfg.hosts[1]);
	pcscf_destroy(c);
	ims_cfg_free(cfg);
}

static void test_errors_name_the_key(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *needle;
	} t[] = {
		{ "icscf: [\"http://x\"]\n", "icscf[0]" },
		{ "sip:\n  listen:\n    - {port: 0}\n", "sip.listen[0].port" },
		{ "sip:\n  listen:\n    - {proto: ws}\n", "sip.listen[0].proto" },
		{ "expiry_interval_ms: 1\n", "expiry_interval_ms" },
		{ "reg_event: maybe\n", "reg_event" },
		{ "sip:\n  hosts: [\"no-equals\"]\n", "sip.hosts[0]" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[256] = "";
		ims_cfg_t *cfg = ims_cfg_parse(t[i].yaml, strlen(t[i].yaml), "pcscf.yaml", err, sizeof(err));
		assert_non_null(cfg);
		void *c = NULL;
		int rc = pcscf_configure(cfg, &c, err, sizeof(err));
		if (rc == 0 || !strstr(err, t[i].needle))
			fail_msg("case %zu: rc=%d err=\"%s\" (want \"%s\")", i, rc, err, t[i].needle);
		ims_cfg_free(cfg);
	}
	/* A typo is caught by the known-keys check. */
	char err[256] = "";
	ims_cfg_t *cfg = ims_cfg_parse("icsfc: []\n", 10, "pcscf.yaml", err, sizeof(err));
	assert_int_not_equal(ims_cfg_check_known(cfg, pcscf_known_keys, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "icsfc"));
	ims_cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_advertise_and_icscf_list),
		cmocka_unit_test(test_errors_name_the_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
