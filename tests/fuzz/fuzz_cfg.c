/* libFuzzer target: the YAML configuration reader (ims_cfg_parse) and its
 * getters. Configs come from operators, not peers, but a typo must end in
 * one clear line, never a crash: every getter is called on the paths the
 * daemons use and on paths built from the document's own keys, and every
 * failure must leave a non-empty error line naming something.
 *
 * Invariants (abort on failure): a refused document has an error line;
 * getters return 0 or IMS_ECONFIG (never a crash), with an error line on
 * IMS_ECONFIG; list and map lengths are consistent with their items. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "cfg/ims_cfg.h"
#include "log/ims_log.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static const char *const fixed_paths[] = {
	"log_level", "realm", "sip.port", "sip.listen[0].addr", "sip.listen[0].port",
	"sip.listen[1].transport", "diameter.peers[0].host", "rest.port", "http.port",
	"registrar.min_expires", "a.b.c.d", "x[3]", "sip.hosts",
};

static const char *const sections[] = {
	"sip", "diameter", "rest", "registrar", "http", "a", "list", "session", "auth",
};

static const char *const known[] = {
	"log_level", "realm", "sip.*", "diameter.peers[].host", "diameter.peers[].port",
	"http.port", "rest.addr", "registrar.*", "list", NULL,
};

static void getters(ims_cfg_t *c, const char *path)
{
	const char *s = NULL;
	long l = 0;
	double d = 0;
	int b = 0, rc;
	rc = ims_cfg_str(c, path, "def", &s);
	CHECK(rc == 0 || rc == IMS_ECONFIG || rc == IMS_EINVAL);
	if (rc == 0)
		CHECK(s != NULL);
	else if (rc == IMS_ECONFIG)
		CHECK(ims_cfg_error(c)[0] != '\0');
	rc = ims_cfg_int(c, path, 5, 1, 65535, &l);
	CHECK(rc == 0 || rc == IMS_ECONFIG || rc == IMS_EINVAL);
	if (rc == 0)
		CHECK(l >= 1 && l <= 65535);
	else if (rc == IMS_ECONFIG)
		CHECK(ims_cfg_error(c)[0] != '\0');
	rc = ims_cfg_double(c, path, 1.5, 0.0, 1e6, &d);
	CHECK(rc == 0 || rc == IMS_ECONFIG || rc == IMS_EINVAL);
	if (rc == 0)
		CHECK(d >= 0.0 && d <= 1e6);
	rc = ims_cfg_bool(c, path, 1, &b);
	CHECK(rc == 0 || rc == IMS_ECONFIG || rc == IMS_EINVAL);
	if (rc == 0)
		CHECK(b == 0 || b == 1);
	(void)ims_cfg_has(c, path);
	/* lists and maps: lengths and items agree */
	int n = ims_cfg_list_len(c, path);
	CHECK(n >= 0 || n == IMS_ECONFIG || n == IMS_EINVAL);
	for (int i = 0; i < n && i < 8; i++) {
		char item[300];
		snprintf(item, sizeof item, "%s[%d]", path, i);
		CHECK(ims_cfg_has(c, item));
		(void)ims_cfg_str(c, item, NULL, &s);
	}
	int m = ims_cfg_map_len(c, path);
	CHECK(m >= 0 || m == IMS_ECONFIG || m == IMS_EINVAL);
	for (int i = 0; i < m; i++)
		CHECK(ims_cfg_map_key(c, path, i) != NULL);
	if (m >= 0)
		CHECK(ims_cfg_map_key(c, path, m) == NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ims_log_set_level(IMS_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	err[0] = '\0';
	ims_cfg_t *c = ims_cfg_parse((const char *)data, size, "fuzz.yaml", err, sizeof err);
	if (!c) {
		CHECK(err[0] != '\0'); /* refused: one line says why */
		return 0;
	}
	for (size_t i = 0; i < sizeof fixed_paths / sizeof fixed_paths[0]; i++)
		getters(c, fixed_paths[i]);
	/* the keys under each section, and one level below them (the root
	 * itself is not an addressable path) */
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
		int n = ims_cfg_map_len(c, sections[i]);
		for (int j = 0; n > 0 && j < n && j < 16; j++) {
			const char *k = ims_cfg_map_key(c, sections[i], j);
			char p[256];
			if (!k || strlen(k) > 100)
				continue;
			snprintf(p, sizeof p, "%s.%s", sections[i], k);
			getters(c, p);
		}
	}
	char kerr[256];
	int rc = ims_cfg_check_known(c, known, kerr, sizeof kerr);
	CHECK(rc == 0 || rc == IMS_ECONFIG);
	if (rc == IMS_ECONFIG)
		CHECK(kerr[0] != '\0');
	ims_cfg_free(c);
	return 0;
}
