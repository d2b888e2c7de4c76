/* The HSS daemon's state: configuration, the subscriber store, the REST
 * listener and the hooks the Cx side (hss-sim/cx-*.c) fills in. */
#ifndef HSS_CONTEXT_H
#define HSS_CONTEXT_H

#include <stddef.h>

#include "cfg/ims_cfg.h"
#include "hss-store.h"

#define HSS_DEFAULT_REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define HSS_DEFAULT_DB "hss.db"
#define HSS_DEFAULT_REST_ADDR "127.0.0.1"
#define HSS_DEFAULT_REST_PORT 8080
#define HSS_DEFAULT_DIA_ADDR "127.0.0.1"
#define HSS_DEFAULT_DIA_PORT 3868
#define HSS_DEFAULT_DIA_THREADS 4 /* freeDiameter AppServThreads */

/* Configuration as read from the YAML file (docs/hss.md lists the keys).
 * Strings are owned by the context (freed by hss_ctx_destroy). */
typedef struct hss_cfg {
	char *realm;            /* realm: home domain */
	char *db_path;          /* db */
	char *rest_addr;        /* rest.addr */
	int rest_port;          /* rest.port */
	char *rest_api_token;   /* rest.api_token, NULL when unset */
	int rest_threads;       /* rest.threads */
	char *dia_identity;     /* diameter.identity (default hss.<realm>) */
	char *dia_realm;        /* diameter.realm (default realm) */
	char *dia_addr;         /* diameter.listen.addr */
	int dia_port;           /* diameter.listen.port */
	int dia_threads;        /* diameter.threads: Cx handler threads */
	char *dia_conf_path;    /* diameter.conf: extra freeDiameter conf, NULL if unset */
	char *scscf_name;       /* scscf_name: the S-CSCF offered in Server-Capabilities
	                         * (UAA/LIA), NULL = sip:scscf.<realm>:6060 */
} hss_cfg_t;

typedef struct hss_ctx hss_ctx_t;

struct hss_ctx {
	hss_cfg_t cfg;
	hss_store_t *store;
	void *http;             /* REST listener (rest-handler.c) */

	/* Cx hooks, set by hss_cx_init() when the Diameter side is linked;
	 * NULL otherwise (then the HSS runs REST only). */

	/* Called from main at start after the store and REST are up; returns 0
	 * or an IMS_E* code with one line in err. */
	int (*cx_start)(hss_ctx_t *ctx, char *err, size_t errlen);
	/* Stops the Diameter side; called before the store closes. */
	void (*cx_stop)(hss_ctx_t *ctx);
	/* TS 29.228 §6.1.3: Registration-Termination-Request to scscf_name for
	 * every identity of sub (REST DELETE of a registered subscriber).
	 * Returns 0 when the S-CSCF answered success, else an IMS_E* code. */
	int (*send_rtr)(hss_ctx_t *ctx, const hss_sub_t *sub, const char *scscf_name);
	/* TS 29.228 §6.1.4: Push-Profile-Request with the new User-Data
	 * (REST PUT of a registered subscriber). Same return convention. */
	int (*send_ppr)(hss_ctx_t *ctx, const hss_sub_t *sub, const char *scscf_name);
	void *cx;               /* the Cx side's private state */
};

/* Fills cfg with the defaults above (strings strdup'ed). Returns 0 or
 * IMS_ENOMEM. */
int hss_cfg_defaults(hss_cfg_t *cfg);

/* Frees the strings of cfg. */
void hss_cfg_free(hss_cfg_t *cfg);

/* Reads the HSS keys (docs/hss.md) from y into cfg, which holds the
 * defaults. Returns 0 or IMS_ECONFIG/IMS_ENOMEM with one line naming the
 * key in err. Refuses a non-loopback rest.addr without rest.api_token. */
int hss_cfg_read(hss_cfg_t *cfg, ims_cfg_t *y, char *err, size_t errlen);

/* The config keys ims-hss accepts besides the common ones (NULL-terminated;
 * the diameter.* keys are read here into hss_cfg_t for the Cx side). */
extern const char *const hss_known_keys[];

/* 1 when addr is a loopback address (127/8, ::1, "localhost"), else 0. */
int hss_addr_is_loopback(const char *addr);

/* Allocates a context holding a copy of the defaults; NULL on ENOMEM.
 * Nothing is opened yet. */
hss_ctx_t *hss_ctx_new(void);

/* Opens the store (cfg.db_path). Returns 0 or IMS_EDB/IMS_ENOMEM with one
 * line in err. */
int hss_ctx_open_store(hss_ctx_t *ctx, char *err, size_t errlen);

/* Closes the store and frees the context (call the stop hooks first). */
void hss_ctx_destroy(hss_ctx_t *ctx);

#endif
