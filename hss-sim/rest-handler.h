/* The HSS provisioning REST API (SPEC.md "HSS REST API") on common/http:
 * /api/v1/subscribers CRUD, /registration, plus /healthz and /metrics. */
#ifndef HSS_REST_HANDLER_H
#define HSS_REST_HANDLER_H

#include <stddef.h>

#include "context.h"
#include "http/ims_http.h"

/* Starts the listener on cfg.rest_addr:cfg.rest_port serving ctx (whose
 * store must be open). Returns 0, or an IMS_E* code with one line naming
 * the address:port in err. Stop with hss_rest_stop. */
int hss_rest_start(hss_ctx_t *ctx, char *err, size_t errlen);

/* Stops the listener (waits for running requests). Safe when not started. */
void hss_rest_stop(hss_ctx_t *ctx);

/* The request handler (ud = hss_ctx_t *); exposed for tests. Every path
 * ends in an answer: 2xx, or 4xx/5xx with {"error": "<field>: <what>"}. */
void hss_rest_handle(void *ud, const ims_http_req_t *req, ims_http_resp_t *resp);

/* /healthz readiness: ready when the store is open. */
int hss_rest_ready(void *ud, char *why, size_t whylen);

#endif
