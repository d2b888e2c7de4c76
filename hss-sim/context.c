/* The HSS daemon's state and its configuration keys (docs/hss.md). */
#include "context.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ims_err.h"
#include "log/ims_log.h"

static int set(char **dst, const char *v)
{
	char *c = v ? strdup(v) : NULL;
	if (v != NULL && c == NULL)
		return IMS_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

int hss_cfg_defaults(hss_cfg_t *cfg)
{
	char ident[300];
	memset(cfg, 0, sizeof(*cfg));
	snprintf(ident, sizeof(ident), "hss.%s", HSS_DEFAULT_REALM);
	cfg->rest_port = HSS_DEFAULT_REST_PORT;
	cfg->rest_threads = 4;
	cfg->dia_threads = HSS_DEFAULT_DIA_THREADS;
	cfg->dia_port = HSS_DEFAULT_DIA_PORT;
	if (set(&cfg->realm, HSS_DEFAULT_REALM) || set(&cfg->db_path, HSS_DEFAULT_DB) ||
	    set(&cfg->rest_addr, HSS_DEFAULT_REST_ADDR) || set(&cfg->dia_identity, ident) ||
	    set(&cfg->dia_realm, HSS_DEFAULT_REALM) || set(&cfg->dia_addr, HSS_DEFAULT_DIA_ADDR)) {
		hss_cfg_free(cfg);
		return IMS_ENOMEM;
	}
	return 0;
}

void hss_cfg_free(hss_cfg_t *cfg)
{
	free(cfg->realm);
	free(cfg->db_path);
	free(cfg->rest_addr);
	free(cfg->rest_api_token);
	free(cfg->dia_identity);
	free(cfg->dia_realm);
	free(cfg->dia_addr);
	free(cfg->dia_conf_path);
	free(cfg->scscf_name);
	memset(cfg, 0, sizeof(*cfg));
}

const char *const hss_known_keys[] = {
	"db", "realm", "scscf_name", "rest.addr", "rest.port", "rest.api_token", "rest.threads",
	"diameter.identity", "diameter.realm", "diameter.listen.addr",
	"diameter.listen.port", "diameter.threads", "diameter.conf", NULL
};

int hss_addr_is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (addr == NULL)
		return 1;
	if (strcmp(addr, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int hss_cfg_read(hss_cfg_t *cfg, ims_cfg_t *y, char *err, size_t errlen)
{
	const char *s;
	long n;
	int rc;
	char ident[300];

#define STR(path, def, dst)                                                     \
	do {                                                                    \
		if ((rc = ims_cfg_str(y, path, def, &s)) != 0)                  \
			goto bad;                                               \
		if ((rc = set(dst, s)) != 0)                                    \
			return rc;                                              \
	} while (0)

	STR("realm", HSS_DEFAULT_REALM, &cfg->realm);
	if (cfg->realm[0] == '\0') {
		snprintf(err, errlen, "realm: must not be empty");
		return IMS_ECONFIG;
	}
	STR("db", HSS_DEFAULT_DB, &cfg->db_path);
	STR("rest.addr", HSS_DEFAULT_REST_ADDR, &cfg->rest_addr);
	if ((rc = ims_cfg_int(y, "rest.port", HSS_DEFAULT_REST_PORT, 0, 65535, &n)) != 0)
		goto bad;
	cfg->rest_port = (int)n;
	if ((rc = ims_cfg_int(y, "rest.threads", 4, 1, 64, &n)) != 0)
		goto bad;
	cfg->rest_threads = (int)n;
	STR("rest.api_token", "", &cfg->rest_api_token);
	if (cfg->rest_api_token[0] == '\0') {
		free(cfg->rest_api_token);
		cfg->rest_api_token = NULL;
	}
	/* SPEC.md: a REST listener reachable from other hosts needs a token */
	if (cfg->rest_api_token == NULL && !hss_addr_is_loopback(cfg->rest_addr)) {
		snprintf(err, errlen, "rest.api_token: required when rest.addr (%s) is not a loopback address",
			 cfg->rest_addr);
		return IMS_ECONFIG;
	}
	snprintf(ident, sizeof(ident), "hss.%s", cfg->realm);
	STR("diameter.identity", ident, &cfg->dia_identity);
	STR("diameter.realm", cfg->realm, &cfg->dia_realm);
	STR("diameter.listen.addr", HSS_DEFAULT_DIA_ADDR, &cfg->dia_addr);
	if ((rc = ims_cfg_int(y, "diameter.listen.port", HSS_DEFAULT_DIA_PORT, 1, 65535, &n)) != 0)
		goto bad;
	cfg->dia_port = (int)n;
	if ((rc = ims_cfg_int(y, "diameter.threads", HSS_DEFAULT_DIA_THREADS, 1, 64, &n)) != 0)
		goto bad;
	cfg->dia_threads = (int)n;
	if ((rc = ims_cfg_str(y, "diameter.conf", "", &s)) != 0)
		goto bad;
	if ((rc = set(&cfg->dia_conf_path, s[0] ? s : NULL)) != 0)
		return rc;
	if ((rc = ims_cfg_str(y, "scscf_name", "", &s)) != 0)
		goto bad;
	if (s[0] != '\0' && strncmp(s, "sip:", 4) != 0 && strncmp(s, "sips:", 5) != 0) {
		snprintf(err, errlen, "scscf_name: \"%s\" is not a sip: URI", s);
		return IMS_ECONFIG;
	}
	if ((rc = set(&cfg->scscf_name, s[0] ? s : NULL)) != 0)
		return rc;
#undef STR
	return 0;
bad:
	snprintf(err, errlen, "%s", ims_cfg_error(y));
	return rc;
}

hss_ctx_t *hss_ctx_new(void)
{
	hss_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	if (hss_cfg_defaults(&ctx->cfg) != 0) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

int hss_ctx_open_store(hss_ctx_t *ctx, char *err, size_t errlen)
{
	/* name the usual cause (a missing or read-only directory) in the one
	 * error line; SQLite's own message only goes to the log */
	const char *path = ctx->cfg.db_path, *slash = strrchr(path, '/');
	if (strcmp(path, ":memory:") != 0) {
		char dir[1024];
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
		if (access(dir, W_OK | X_OK) != 0) {
			snprintf(err, errlen, "db: cannot open %s: directory %s: %s", path, dir, strerror(errno));
			return IMS_EDB;
		}
	}
	int rc = hss_store_open(path, &ctx->store);
	if (rc != 0)
		snprintf(err, errlen, "db: cannot open %s: %s (see the log)", path, ims_strerror(rc));
	return rc;
}

void hss_ctx_destroy(hss_ctx_t *ctx)
{
	if (ctx == NULL)
		return;
	hss_store_close(ctx->store);
	hss_cfg_free(&ctx->cfg);
	free(ctx);
}
