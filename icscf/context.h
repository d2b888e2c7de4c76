/* The I-CSCF daemon context: configuration (icscf.yaml, docs/icscf.md),
 * the S-CSCF pool and the proxy core handle. The I-CSCF keeps no per-user
 * state (TS 23.228 §4.3.2): everything it needs per request travels in the
 * request context. */
#ifndef ICSCF_CONTEXT_H
#define ICSCF_CONTEXT_H

#include <stdint.h>
#include <stddef.h>

#include "cfg/ims_cfg.h"
#include "sip/tp/sip_tp.h"
#include "route-select.h"

struct sip_proxy;
struct sip_proxy_ctx;
struct sip_proxy_branch;

#define ICSCF_MAX_LISTEN 8

typedef struct icscf_cfg {
	const char *realm;
	sip_tp_listen_t listen[ICSCF_MAX_LISTEN];
	size_t n_listen;
	int workers;
	const char *hosts[17];             /* sip.hosts: "name=addr", NULL-terminated */
	const char *dia_identity;   /* icscf.<realm> */
	const char *dia_realm;
	const char *hss_host;       /* hss.<realm> */
	const char *hss_addr;       /* 127.0.0.1 */
	uint16_t hss_port;          /* 3868 */
	uint16_t dia_port;          /* our Diameter listener, 0 = none */
	unsigned cx_timeout_ms;
	const char *dia_work_dir;   /* NULL: a private temp dir */
	int uar_retries;            /* S-CSCFs tried for one REGISTER */
} icscf_cfg_t;

typedef struct icscf_ctx {
	icscf_cfg_t cfg;
	icscf_pool_t pool;
	struct sip_proxy *proxy;
	int cx_started;
} icscf_ctx_t;

extern const char *const icscf_known_keys[];

/* Reads the config into a new context. Returns 0 or IMS_ECONFIG /
 * IMS_ENOMEM with one line in err naming the key. */
int icscf_configure(ims_cfg_t *cfg, void **ctx /* out */, char *err, size_t errlen);
/* Starts Diameter (peer: the HSS) and the SIP workers. */
int icscf_start(void *ctx, char *err, size_t errlen);
void icscf_stop(void *ctx);
void icscf_destroy(void *ctx);
/* /healthz readiness: the HSS peer is connected. */
int icscf_ready(void *ctx, char *why, size_t whylen);

/* Proxy hooks (route-handler.c) and the Cx steps (cx-handler.c). */
void icscf__on_request(struct sip_proxy_ctx *pctx, void *ud);
int icscf__on_response(struct sip_proxy_ctx *pctx, struct sip_proxy_branch *b,
		       struct sip_msg *rsp, void *ud);
/* Sends the UAR for the REGISTER of pctx (suspending it); `uat` is the
 * User-Authorization-Type. On failure answers the request itself. */
void icscf__send_uar(icscf_ctx_t *c, struct sip_proxy_ctx *pctx, uint32_t uat);
/* Sends the LIR for an initial request (suspending it). */
void icscf__send_lir(icscf_ctx_t *c, struct sip_proxy_ctx *pctx);

#endif
