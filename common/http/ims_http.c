/* HTTP server on libmicrohttpd: our own listening socket (so a bind
 * failure can name the address and errno), MHD's internal polling thread
 * with a small pool, bounded request bodies, /healthz and /metrics built
 * in, and a handler for the rest. */
#include "http/ims_http.h"
#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (1024u * 1024u)

struct ims_http_server {
	struct MHD_Daemon *mhd;
	ims_http_opts_t opts;
	uint16_t port;
	ims_counter_t *responses[5]; /* http_responses_total by class 1xx..5xx */
};

/* Per-request state, from the first access callback to "completed". */
typedef struct req_ctx {
	ims_http_req_t pub;
	struct MHD_Connection *conn;
	char *body;
	size_t len, cap;
	int too_big;
	int answered; /* a response was queued early (413) */
	char peer[INET6_ADDRSTRLEN];
} req_ctx_t;

/* ---- responses ---- */

int ims_http_resp_set(ims_http_resp_t *resp, int status, const char *content_type,
		      const void *body, size_t len)
{
	char *copy = NULL;
	if (body && len) {
		copy = malloc(len);
		if (!copy)
			return IMS_ENOMEM;
		memcpy(copy, body, len);
	} else {
		len = 0;
	}
	free(resp->body);
	resp->body = copy;
	resp->body_len = len;
	resp->status = status;
	resp->content_type = content_type;
	return 0;
}

int ims_http_resp_printf(ims_http_resp_t *resp, int status, const char *content_type,
			 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return IMS_ENOMEM;
	free(resp->body);
	resp->body = s;
	resp->body_len = (size_t)n;
	resp->status = status;
	resp->content_type = content_type;
	return 0;
}

int ims_http_resp_json(ims_http_resp_t *resp, int status, const void *json)
{
	/* json_dumps' result is freed with free() (jansson documents it) */
	char *s = json_dumps((const json_t *)json, JSON_COMPACT);
	if (!s)
		return IMS_ENOMEM;
	free(resp->body);
	resp->body = s;
	resp->body_len = strlen(s);
	resp->status = status;
	resp->content_type = "application/json";
	return 0;
}

int ims_http_resp_error(ims_http_resp_t *resp, int status, const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg ? msg : "");
	if (!o)
		return IMS_ENOMEM;
	int rc = ims_http_resp_json(resp, status, o);
	json_decref(o);
	return rc;
}

int ims_http_resp_header(ims_http_resp_t *resp, const char *name, const char *value)
{
	if (resp->nheaders >= IMS_HTTP_MAX_RESP_HEADERS)
		return IMS_ENOSPC;
	char *n = strdup(name), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return IMS_ENOMEM;
	}
	resp->headers[resp->nheaders][0] = n;
	resp->headers[resp->nheaders][1] = v;
	resp->nheaders++;
	return 0;
}

static void resp_clear(ims_http_resp_t *resp)
{
	free(resp->body);
	for (int i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i][0]);
		free(resp->headers[i][1]);
	}
	memset(resp, 0, sizeof(*resp));
}

/* Hands resp to MHD (the body buffer moves into the MHD response) and
 * clears it. */
static enum MHD_Result send_resp(ims_http_server_t *srv, struct MHD_Connection *conn,
				 ims_http_resp_t *resp)
{
	if (resp->status >= 100 && resp->status <= 599)
		ims_counter_inc(srv->responses[resp->status / 100 - 1]);
	struct MHD_Response *r;
	if (resp->body_len) {
		r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
		if (r)
			resp->body = NULL;
	} else {
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!r) {
		resp_clear(resp);
		return MHD_NO;
	}
	if (resp->status != 204 && resp->status != 304)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					resp->content_type ? resp->content_type : "text/plain");
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i][0], resp->headers[i][1]);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	resp_clear(resp);
	return rc;
}

static enum MHD_Result send_text(ims_http_server_t *srv, struct MHD_Connection *conn, int status,
				 const char *text)
{
	ims_http_resp_t resp = { 0 };
	if (ims_http_resp_set(&resp, status, "text/plain", text, strlen(text)))
		return MHD_NO;
	return send_resp(srv, conn, &resp);
}

/* ---- request accessors ---- */

typedef struct {
	const char *name;
	const char *value;
	int found;
} find_t;

static enum MHD_Result find_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	(void)kind;
	find_t *f = cls;
	if (key && strcmp(key, f->name) == 0) {
		f->value = value ? value : "";
		f->found = 1;
		return MHD_NO; /* stop */
	}
	return MHD_YES;
}

const char *ims_http_req_query(const ims_http_req_t *req, const char *name)
{
	req_ctx_t *c = req->priv;
	find_t f = { name, NULL, 0 };
	MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, find_arg, &f);
	return f.found ? f.value : NULL;
}

const char *ims_http_req_header(const ims_http_req_t *req, const char *name)
{
	req_ctx_t *c = req->priv;
	return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

const char *ims_http_req_peer(const ims_http_req_t *req)
{
	req_ctx_t *c = req->priv;
	return c->peer;
}

/* ---- dispatch ---- */

static enum MHD_Result builtin_healthz(ims_http_server_t *srv, struct MHD_Connection *conn)
{
	if (srv->opts.ready) {
		char why[200] = "";
		if (!srv->opts.ready(srv->opts.ud, why, sizeof(why))) {
			ims_http_resp_t resp = { 0 };
			if (ims_http_resp_printf(&resp, 503, "text/plain", "not ready: %s\n",
						 why[0] ? why : "starting"))
				return MHD_NO;
			return send_resp(srv, conn, &resp);
		}
	}
	return send_text(srv, conn, 200, "ok\n");
}

static enum MHD_Result builtin_metrics(ims_http_server_t *srv, struct MHD_Connection *conn)
{
	char *text;
	size_t len;
	if (ims_metrics_render(&text, &len))
		return send_text(srv, conn, 500, "out of memory\n");
	ims_http_resp_t resp = { .status = 200,
				 .content_type = "text/plain; version=0.0.4; charset=utf-8",
				 .body = text,
				 .body_len = len };
	return send_resp(srv, conn, &resp);
}

static enum MHD_Result dispatch(ims_http_server_t *srv, req_ctx_t *c, const char *method,
				const char *url)
{
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(url, "/healthz") == 0)
		return is_get ? builtin_healthz(srv, c->conn) : send_text(srv, c->conn, 405, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return is_get ? builtin_metrics(srv, c->conn) : send_text(srv, c->conn, 405, "method not allowed\n");
	if (!srv->opts.handler)
		return send_text(srv, c->conn, 404, "not found\n");
	c->pub.method = method;
	c->pub.path = url;
	c->pub.body = c->body ? c->body : "";
	c->pub.body_len = c->len;
	ims_http_resp_t resp = { 0 };
	srv->opts.handler(srv->opts.ud, &c->pub, &resp);
	if (resp.status == 0) {
		resp_clear(&resp);
		return send_text(srv, c->conn, 404, "not found\n");
	}
	if (resp.status < 100 || resp.status > 599) {
		LOG_ERROR("http", "handler.bad_status status=%d path=%s", resp.status, url);
		resp_clear(&resp);
		return send_text(srv, c->conn, 500, "internal error\n");
	}
	return send_resp(srv, c->conn, &resp);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* URL unescaping for libmicrohttpd, which hands paths and query values
 * over as C strings: a %00 decoded there would cut "/x/a%00b" to "/x/a" and
 * act on another resource. Every escape is decoded but %00, which stays
 * as written and is refused in on_access. Returns the new length. */
static size_t unescape_no_nul(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
		    (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)version;
	ims_http_server_t *srv = cls;
	req_ctx_t *c = *con_cls;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return MHD_NO;
		c->conn = conn;
		c->pub.priv = c;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->peer,
					  sizeof(c->peer));
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
					  c->peer, sizeof(c->peer));
		}
		*con_cls = c;
		/* a declared body above the limit is refused before it is read */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || *end || n > srv->opts.max_body) {
				c->answered = 1;
				return send_text(srv, conn, 413, "request body too large\n");
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (c->answered || c->too_big)
			return MHD_YES;
		if (c->len + n > srv->opts.max_body) {
			c->too_big = 1; /* chunked upload over the limit: answer at the end */
			free(c->body);
			c->body = NULL;
			c->len = c->cap = 0;
			return MHD_YES;
		}
		if (c->len + n + 1 > c->cap) {
			size_t nc = c->cap ? c->cap : 1024;
			while (nc < c->len + n + 1)
				nc *= 2;
			char *nb = realloc(c->body, nc);
			if (!nb)
				return MHD_NO;
			c->body = nb;
			c->cap = nc;
		}
		memcpy(c->body + c->len, upload_data, n);
		c->len += n;
		c->body[c->len] = '\0';
		return MHD_YES;
	}
	if (c->answered)
		return MHD_YES;
	c->answered = 1;
	if (c->too_big)
		return send_text(srv, conn, 413, "request body too large\n");
	if (strstr(url, "%00")) {
		ims_http_resp_t resp = { 0 };
		if (ims_http_resp_error(&resp, 400, "path: a NUL byte (%00) is not allowed"))
			return MHD_NO;
		return send_resp(srv, conn, &resp);
	}
	return dispatch(srv, c, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	req_ctx_t *c = *con_cls;
	if (!c)
		return;
	free(c->body);
	free(c);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	LOG_WARN("http", "mhd %s", msg);
}

/* ---- life cycle ---- */

static int open_listener(const char *addr, uint16_t port, uint16_t *bound, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	int v6 = strchr(addr, ':') != NULL;
	if (!v6 && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
	} else if (v6 && inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	} else {
		snprintf(err, errlen, "http: \"%s\" is not an IPv4 or IPv6 address", addr);
		return IMS_EINVAL;
	}
	const char *fmt = v6 ? "http: cannot listen on [%s]:%u: %s" : "http: cannot listen on %s:%u: %s";
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, fmt, addr, port, strerror(errno));
		return IMS_EIO;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, fmt, addr, port, strerror(errno));
		close(fd);
		return IMS_EIO;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*bound = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
	return fd;
}

ims_http_server_t *ims_http_start(const ims_http_opts_t *opts, char *err, size_t errlen)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	ims_http_server_t *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "http: out of memory");
		return NULL;
	}
	srv->opts = *opts;
	if (!srv->opts.addr)
		srv->opts.addr = "127.0.0.1";
	if (!srv->opts.max_body)
		srv->opts.max_body = DEFAULT_MAX_BODY;
	if (!srv->opts.threads)
		srv->opts.threads = 2;
	static const char *const classes[5] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
	for (int i = 0; i < 5; i++)
		srv->responses[i] = ims_metrics_counter("http_responses_total",
							"HTTP responses sent, by status class",
							"class", classes[i]);
	int fd = open_listener(srv->opts.addr, opts->port, &srv->port, err, errlen);
	if (fd < 0) {
		free(srv);
		return NULL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, srv,
				    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
				    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				    MHD_OPTION_THREAD_POOL_SIZE, srv->opts.threads,
				    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				    MHD_OPTION_UNESCAPE_CALLBACK, unescape_no_nul, NULL,
				    MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(err, errlen, "http: cannot start the server on %s:%u", srv->opts.addr,
			 srv->port);
		close(fd);
		free(srv);
		return NULL;
	}
	LOG_INFO("http", "http.listen addr=%s port=%u", srv->opts.addr, srv->port);
	return srv;
}

uint16_t ims_http_port(const ims_http_server_t *srv)
{
	return srv ? srv->port : 0;
}

void ims_http_stop(ims_http_server_t *srv)
{
	if (!srv)
		return;
	/* MHD_stop_daemon joins its threads and closes the listening socket */
	MHD_stop_daemon(srv->mhd);
	free(srv);
}
