/* A small HTTP/1.1 server on libmicrohttpd for /healthz, /metrics and
 * REST APIs (the HSS provisioning API is built on it).
 *
 * The server runs its own threads (MHD internal polling thread with a
 * small thread pool); handlers are therefore called on server threads,
 * possibly several at once, and must be thread-safe.
 *
 * Built in:
 *   GET /healthz  200 "ok\n", or 503 "not ready: <why>\n" when the ready
 *                 hook says so.
 *   GET /metrics  the ims_metrics registry, text format 0.0.4.
 * Other methods on these two paths get 405. Everything else goes to the
 * handler (404 when there is none or it leaves the status at 0; 500 when
 * it sets a status outside 100..599). Request bodies above max_body get
 * 413 without calling the handler. Answers are counted in
 * http_responses_total{class="2xx"...}. */
#ifndef IMS_HTTP_H
#define IMS_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ims_http_server ims_http_server_t;

/* A request as the handler sees it. Every pointer is valid until the
 * handler returns and owned by the server. */
typedef struct ims_http_req {
	const char *method;   /* "GET", "POST", ... */
	const char *path;     /* decoded path without the query, e.g. "/api/v1/subscribers" */
	const char *body;     /* NUL-terminated (the NUL is not counted); "" when none */
	size_t body_len;
	void *priv;           /* server internals: use the accessors below */
} ims_http_req_t;

/* A query argument ("offset" in ?offset=10), decoded; NULL when absent.
 * "?secrets" without a value gives "". */
const char *ims_http_req_query(const ims_http_req_t *req, const char *name);

/* A request header, name case-insensitive; NULL when absent. */
const char *ims_http_req_header(const ims_http_req_t *req, const char *name);

/* The peer address as text ("127.0.0.1"), "" when unknown. */
const char *ims_http_req_peer(const ims_http_req_t *req);

#define IMS_HTTP_MAX_RESP_HEADERS 8

/* The answer a handler fills in. Use the setters: they copy the body. */
typedef struct ims_http_resp {
	int status;               /* 0 = not handled (404) */
	const char *content_type; /* static string, default "text/plain" */
	char *body;               /* malloc'ed, owned by the response */
	size_t body_len;
	int nheaders;
	char *headers[IMS_HTTP_MAX_RESP_HEADERS][2]; /* malloc'ed name/value */
} ims_http_resp_t;

/* Sets status, content type (a static string) and a copy of body (NULL
 * or len 0 = empty). Replaces an earlier body. Returns 0 or IMS_ENOMEM
 * (the server then answers 500). */
int ims_http_resp_set(ims_http_resp_t *resp, int status, const char *content_type,
		      const void *body, size_t len);

/* printf body. */
int ims_http_resp_printf(ims_http_resp_t *resp, int status, const char *content_type,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A JSON body from a jansson json_t (passed as void * so this header
 * does not pull jansson in); content type application/json. The json
 * value is not consumed. Returns 0, IMS_ENOMEM. */
int ims_http_resp_json(ims_http_resp_t *resp, int status, const void *json);

/* {"error": "<msg>"} with the given status (RFC 7807 is not attempted). */
int ims_http_resp_error(ims_http_resp_t *resp, int status, const char *msg);

/* Adds a response header (Location, WWW-Authenticate...); copies both.
 * Returns 0, IMS_ENOSPC past IMS_HTTP_MAX_RESP_HEADERS, IMS_ENOMEM. */
int ims_http_resp_header(ims_http_resp_t *resp, const char *name, const char *value);

typedef void (*ims_http_handler_fn)(void *ud, const ims_http_req_t *req, ims_http_resp_t *resp);

/* Readiness hook for /healthz: return 1 when ready, or 0 and a reason. */
typedef int (*ims_http_ready_fn)(void *ud, char *why, size_t whylen);

typedef struct ims_http_opts {
	const char *addr;            /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
	uint16_t port;               /* 0 = an ephemeral port (see ims_http_port) */
	size_t max_body;             /* 0 = 1 MiB */
	unsigned threads;            /* thread pool size; 0 = 2 */
	ims_http_handler_fn handler; /* may be NULL */
	ims_http_ready_fn ready;     /* may be NULL: always ready */
	void *ud;                    /* passed to handler and ready */
} ims_http_opts_t;

/* Binds and starts serving. Returns the server (stop with
 * ims_http_stop), or NULL with one line in err naming the address, e.g.
 * "http: cannot listen on 127.0.0.1:8080: Address already in use". */
ims_http_server_t *ims_http_start(const ims_http_opts_t *opts, char *err, size_t errlen);

/* The bound port (useful with port 0). */
uint16_t ims_http_port(const ims_http_server_t *srv);

/* Stops the threads, closes the socket and frees the server. Waits for
 * running handlers to finish. NULL is fine. */
void ims_http_stop(ims_http_server_t *srv);

#endif
