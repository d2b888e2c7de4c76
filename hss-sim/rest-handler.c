/* HSS REST provisioning (SPEC.md "HSS REST API"). Runs on microhttpd
 * threads; everything it touches (store, metrics, jansson values it owns)
 * is thread-safe. */
#include "rest-handler.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/ims_err.h"
#include "json-sub.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

#define MOD "hss.rest"
#define PREFIX "/api/v1/subscribers"
#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 1000
/* Bulk provisioning (issue 4, docs/provisioning.md): clients send batches
 * of at most BULK_MAX_ITEMS records; the server accepts bodies up to
 * BULK_MAX_BODY for that path only, every other call keeps REST_MAX_BODY. */
#define BULK_PATH PREFIX "/bulk"
#define BULK_MAX_ITEMS 10000
#define BULK_MAX_BODY ((size_t)16 << 20)
#define REST_MAX_BODY ((size_t)1 << 20)

/* ---- small helpers ------------------------------------------------------ */

static void count_request(const char *method, int status)
{
	static const char *const known[] = { "GET", "POST", "PUT", "DELETE", NULL };
	char code[8];
	const char *label = "OTHER"; /* bounded label set: clients pick methods */
	for (int i = 0; known[i]; i++)
		if (strcmp(method, known[i]) == 0)
			label = known[i];
	snprintf(code, sizeof(code), "%d", status);
	ims_counter_inc(ims_metrics_counter2("hss_rest_requests_total",
					     "HSS REST API requests by method and status",
					     "method", label, "code", code));
}

static void update_sub_gauge(hss_ctx_t *ctx)
{
	unsigned n = 0;
	if (hss_store_count(ctx->store, &n) == 0)
		ims_gauge_set(ims_metrics_gauge("hss_subscribers", "Provisioned subscribers", NULL, NULL),
			      (int64_t)n);
}

static void error_reply(ims_http_resp_t *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_reply(ims_http_resp_t *resp, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ims_http_resp_error(resp, status, msg);
}

static void store_error(ims_http_resp_t *resp, int rc)
{
	if (rc == IMS_ENOMEM)
		error_reply(resp, 503, "out of memory");
	else
		error_reply(resp, 500, "store: %s", ims_strerror(rc));
}

/* Constant-time comparison: the token must not leak through timing. */
static int token_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

/* "1", "true", "yes" or a bare "?secrets" turn secrets on. */
static int flag_query(const ims_http_req_t *req, const char *name)
{
	const char *v = ims_http_req_query(req, name);
	if (v == NULL)
		return 0;
	return v[0] == '\0' || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	       strcasecmp(v, "yes") == 0;
}

static int query_uint(const ims_http_req_t *req, const char *name, unsigned def, unsigned max,
		      unsigned *out, ims_http_resp_t *resp)
{
	const char *v = ims_http_req_query(req, name);
	*out = def;
	if (v == NULL)
		return 0;
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n > max) {
		error_reply(resp, 400, "%s: must be an integer in 0..%u", name, max);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static void reply_json(ims_http_resp_t *resp, int status, json_t *j)
{
	if (j == NULL) {
		error_reply(resp, 503, "out of memory");
		return;
	}
	ims_http_resp_json(resp, status, j);
	json_decref(j);
}

static int is_registered(const hss_sub_t *sub)
{
	return sub->reg_state != HSS_REG_NOT_REGISTERED && sub->scscf_name != NULL &&
	       sub->scscf_name[0] != '\0';
}

/* Names the field behind an IMS_EEXIST from the store. */
static void conflict_reply(hss_ctx_t *ctx, const hss_sub_t *sub, int creating,
			   ims_http_resp_t *resp)
{
	hss_sub_t *other = NULL;
	if (creating && hss_store_get_by_impi(ctx->store, sub->impi, &other) == 0) {
		hss_sub_free(other);
		error_reply(resp, 409, "impi: %s already exists", sub->impi);
		return;
	}
	for (unsigned i = 0; i < sub->n_impus; i++) {
		if (hss_store_find_impu(ctx->store, sub->impus[i].uri, &other) == 0) {
			int mine = strcmp(other->impi, sub->impi) == 0;
			if (!mine) {
				error_reply(resp, 409, "impus[%u]: %s belongs to subscriber %s", i,
					    sub->impus[i].uri, other->impi);
				hss_sub_free(other);
				return;
			}
			hss_sub_free(other);
		}
	}
	error_reply(resp, 409, "impi: conflicts with an existing subscriber");
}

/* ---- handlers ----------------------------------------------------------- */

static void do_list(hss_ctx_t *ctx, const ims_http_req_t *req, ims_http_resp_t *resp)
{
	unsigned offset, limit, n = 0, total = 0;
	hss_sub_t **subs = NULL;
	if (query_uint(req, "offset", 0, 0x7fffffff, &offset, resp) != 0 ||
	    query_uint(req, "limit", LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, &limit, resp) != 0)
		return;
	int secrets = flag_query(req, "secrets");
	int rc = hss_store_list(ctx->store, offset, limit, &subs, &n, &total);
	if (rc != 0) {
		store_error(resp, rc);
		return;
	}
	json_t *items = json_array();
	int bad = items == NULL;
	for (unsigned i = 0; i < n && !bad; i++)
		bad = json_array_append_new(items, hss_json_sub_dump(subs[i], secrets)) != 0;
	hss_sub_list_free(subs, n);
	if (bad) {
		json_decref(items);
		reply_json(resp, 200, NULL);
		return;
	}
	reply_json(resp, 200, json_pack("{sIsIsIso}", "offset", (json_int_t)offset, "limit",
					(json_int_t)limit, "total", (json_int_t)total, "items", items));
}

/* Parses the body; on error answers 400 (or 5xx) and returns NULL. */
static hss_sub_t *parse_body(const ims_http_req_t *req, ims_http_resp_t *resp)
{
	char err[300] = "";
	hss_sub_t *sub = NULL;
	int rc = hss_json_sub_parse(req->body, req->body_len, &sub, err, sizeof(err));
	if (rc == IMS_EINVAL) {
		LOG_INFO(MOD, "request.invalid method=%s path=%s error=\"%s\"", req->method, req->path, err);
		ims_http_resp_error(resp, 400, err);
	} else if (rc != 0) {
		error_reply(resp, rc == IMS_ENOMEM ? 503 : 500, "%s", ims_strerror(rc));
	}
	return sub;
}

/* Answers with the stored record of impi. */
static void reply_record(hss_ctx_t *ctx, const char *impi, int status, int secrets,
			 ims_http_resp_t *resp)
{
	hss_sub_t *sub = NULL;
	int rc = hss_store_get_by_impi(ctx->store, impi, &sub);
	if (rc == IMS_ENOENT) {
		error_reply(resp, 404, "impi: no subscriber %s", impi);
		return;
	}
	if (rc != 0) {
		store_error(resp, rc);
		return;
	}
	reply_json(resp, status, hss_json_sub_dump(sub, secrets));
	hss_sub_free(sub);
}

static void do_create(hss_ctx_t *ctx, const ims_http_req_t *req, ims_http_resp_t *resp)
{
	hss_sub_t *sub = parse_body(req, resp);
	if (sub == NULL)
		return;
	if (!sub->has_sqn) {
		sub->sqn = 0;
		sub->has_sqn = 1;
	}
	int rc = hss_store_create(ctx->store, sub);
	if (rc == IMS_EEXIST)
		conflict_reply(ctx, sub, 1, resp);
	else if (rc != 0)
		store_error(resp, rc);
	else {
		char loc[600];
		snprintf(loc, sizeof(loc), PREFIX "/%s", sub->impi);
		reply_record(ctx, sub->impi, 201, flag_query(req, "secrets"), resp);
		ims_http_resp_header(resp, "Location", loc);
		update_sub_gauge(ctx);
	}
	hss_sub_free(sub);
}

static void do_replace(hss_ctx_t *ctx, const char *impi, const ims_http_req_t *req,
		       ims_http_resp_t *resp)
{
	hss_sub_t *now = NULL, *sub = parse_body(req, resp);
	if (sub == NULL)
		return;
	if (strcmp(sub->impi, impi) != 0) {
		error_reply(resp, 400, "impi: %s does not match the URL (%s)", sub->impi, impi);
		goto out;
	}
	int rc = hss_store_replace(ctx->store, sub);
	if (rc == IMS_ENOENT) {
		error_reply(resp, 404, "impi: no subscriber %s", impi);
		goto out;
	}
	if (rc == IMS_EEXIST) {
		conflict_reply(ctx, sub, 0, resp);
		goto out;
	}
	if (rc != 0) {
		store_error(resp, rc);
		goto out;
	}
	/* TS 29.228 §6.1.4: a served user's changed profile is pushed to the
	 * S-CSCF with PPR. The change is stored either way. */
	if (hss_store_get_by_impi(ctx->store, impi, &now) == 0 && is_registered(now)) {
		if (ctx->send_ppr == NULL)
			LOG_NOTICE(MOD, "ppr.unavailable impi=%s scscf=%s", impi, now->scscf_name);
		else if ((rc = ctx->send_ppr(ctx, now, now->scscf_name)) != 0)
			LOG_WARN(MOD, "ppr.failed impi=%s scscf=%s err=%s", impi, now->scscf_name,
				 ims_strerror(rc));
	}
	reply_record(ctx, impi, 200, flag_query(req, "secrets"), resp);
out:
	hss_sub_free(now);
	hss_sub_free(sub);
}

static void do_delete(hss_ctx_t *ctx, const char *impi, ims_http_resp_t *resp)
{
	hss_sub_t *sub = NULL;
	int rc = hss_store_get_by_impi(ctx->store, impi, &sub);
	if (rc == IMS_ENOENT) {
		error_reply(resp, 404, "impi: no subscriber %s", impi);
		return;
	}
	if (rc != 0) {
		store_error(resp, rc);
		return;
	}
	/* SPEC.md + TS 29.228 §6.1.3: a registered user is first de-registered
	 * from the network side with RTR to its S-CSCF. */
	if (is_registered(sub)) {
		if (ctx->send_rtr == NULL)
			LOG_NOTICE(MOD, "rtr.unavailable impi=%s scscf=%s", impi, sub->scscf_name);
		else if ((rc = ctx->send_rtr(ctx, sub, sub->scscf_name)) != 0)
			LOG_WARN(MOD, "rtr.failed impi=%s scscf=%s err=%s", impi, sub->scscf_name,
				 ims_strerror(rc));
	}
	rc = hss_store_delete(ctx->store, impi);
	if (rc == 0 || rc == IMS_ENOENT) /* ENOENT: a concurrent DELETE won */
		ims_http_resp_set(resp, 204, NULL, NULL, 0);
	else
		store_error(resp, rc);
	update_sub_gauge(ctx);
	hss_sub_free(sub);
}

static void do_registration(hss_ctx_t *ctx, const char *impi, ims_http_resp_t *resp)
{
	hss_sub_t *sub = NULL;
	int rc = hss_store_get_by_impi(ctx->store, impi, &sub);
	if (rc == IMS_ENOENT) {
		error_reply(resp, 404, "impi: no subscriber %s", impi);
		return;
	}
	if (rc != 0) {
		store_error(resp, rc);
		return;
	}
	json_t *impus = json_array();
	for (unsigned i = 0; impus && i < sub->n_impus; i++)
		json_array_append_new(impus, json_string(sub->impus[i].uri));
	json_t *j = impus ? json_pack("{ssssssso}", "impi", sub->impi, "state",
				      hss_reg_state_name(sub->reg_state), "scscf_name", sub->scscf_name,
				      "impus", impus) : NULL;
	reply_json(resp, 200, j);
	hss_sub_free(sub);
}

/* Names the record behind an IMS_EEXIST from hss_store_create_bulk.
 * Nothing of the batch is stored, so the store shows the old state. */
static void bulk_conflict_reply(hss_ctx_t *ctx, const hss_sub_t *sub, unsigned idx,
				ims_http_resp_t *resp)
{
	hss_sub_t *other = NULL;
	if (hss_store_get_by_impi(ctx->store, sub->impi, &other) == 0) {
		hss_sub_free(other);
		error_reply(resp, 409, "[%u].impi: %s already exists", idx, sub->impi);
		return;
	}
	for (unsigned i = 0; i < sub->n_impus; i++) {
		if (hss_store_find_impu(ctx->store, sub->impus[i].uri, &other) == 0) {
			error_reply(resp, 409, "[%u].impus[%u]: %s belongs to subscriber %s", idx, i,
				    sub->impus[i].uri, other->impi);
			hss_sub_free(other);
			return;
		}
	}
	error_reply(resp, 409, "[%u]: impi or an impu repeats an earlier record of this request",
		    idx);
}

/* POST /api/v1/subscribers/bulk: a JSON array of subscriber records, all
 * stored in one transaction or none (issue 4). */
static void do_bulk(hss_ctx_t *ctx, const ims_http_req_t *req, ims_http_resp_t *resp)
{
	char err[400] = "";
	hss_sub_t **subs = NULL;
	unsigned n = 0, bad = 0;
	int rc = hss_json_sub_parse_bulk(req->body, req->body_len, BULK_MAX_ITEMS, &subs, &n, err,
					 sizeof(err));
	if (rc == IMS_EINVAL) {
		LOG_INFO(MOD, "request.invalid method=%s path=%s error=\"%s\"", req->method, req->path,
			 err);
		ims_http_resp_error(resp, 400, err);
		return;
	}
	if (rc != 0) {
		error_reply(resp, rc == IMS_ENOMEM ? 503 : 500, "%s", ims_strerror(rc));
		return;
	}
	rc = hss_store_create_bulk(ctx->store, subs, n, &bad);
	if (rc == IMS_EEXIST)
		bulk_conflict_reply(ctx, subs[bad], bad, resp);
	else if (rc != 0)
		store_error(resp, rc);
	else {
		reply_json(resp, 201, json_pack("{sI}", "created", (json_int_t)n));
		update_sub_gauge(ctx);
	}
	hss_sub_list_free(subs, n);
}

static void method_not_allowed(ims_http_resp_t *resp, const char *allow)
{
	error_reply(resp, 405, "method: not allowed here (allowed: %s)", allow);
	ims_http_resp_header(resp, "Allow", allow);
}

/* ---- dispatch ----------------------------------------------------------- */

void hss_rest_handle(void *ud, const ims_http_req_t *req, ims_http_resp_t *resp)
{
	hss_ctx_t *ctx = ud;
	const char *m = req->method, *path = req->path;

	if (strncmp(path, "/api/", 5) != 0) {
		error_reply(resp, 404, "path: no such resource %s", path);
		goto done;
	}
	/* SPEC.md: with a token configured every API call must carry it */
	if (ctx->cfg.rest_api_token != NULL) {
		const char *h = ims_http_req_header(req, "Authorization");
		if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 ||
		    !token_eq(h + 7, ctx->cfg.rest_api_token)) {
			error_reply(resp, 401, "authorization: missing or wrong bearer token");
			ims_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"ims-hss\"");
			goto done;
		}
	}
	if (strcmp(path, BULK_PATH) == 0 && strcmp(m, "POST") == 0) {
		do_bulk(ctx, req, resp);
		goto done;
	}
	/* the server takes bodies up to BULK_MAX_BODY for the bulk path only */
	if (req->body_len > REST_MAX_BODY) {
		error_reply(resp, 413, "body: too large (more than %zu bytes)", REST_MAX_BODY);
		goto done;
	}
	if (strcmp(path, PREFIX) == 0 || strcmp(path, PREFIX "/") == 0) {
		if (strcmp(m, "GET") == 0)
			do_list(ctx, req, resp);
		else if (strcmp(m, "POST") == 0)
			do_create(ctx, req, resp);
		else
			method_not_allowed(resp, "GET, POST");
		goto done;
	}
	if (strncmp(path, PREFIX "/", sizeof(PREFIX)) != 0) {
		error_reply(resp, 404, "path: no such resource %s", path);
		goto done;
	}
	/* /api/v1/subscribers/{impi}[/registration]; the impi has no '/' */
	char impi[300];
	const char *rest = path + sizeof(PREFIX), *slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (len == 0 || len >= sizeof(impi)) {
		error_reply(resp, 404, "impi: no subscriber");
		goto done;
	}
	memcpy(impi, rest, len);
	impi[len] = '\0';
	if (slash != NULL) {
		if (strcmp(slash, "/registration") != 0) {
			error_reply(resp, 404, "path: no such resource %s", path);
		} else if (strcmp(m, "GET") != 0) {
			method_not_allowed(resp, "GET");
		} else {
			do_registration(ctx, impi, resp);
		}
		goto done;
	}
	if (strcmp(m, "GET") == 0)
		reply_record(ctx, impi, 200, flag_query(req, "secrets"), resp);
	else if (strcmp(m, "PUT") == 0)
		do_replace(ctx, impi, req, resp);
	else if (strcmp(m, "DELETE") == 0)
		do_delete(ctx, impi, resp);
	else
		method_not_allowed(resp, "GET, PUT, DELETE");
done:
	if (resp->status == 0) /* every path must end in an answer */
		error_reply(resp, 500, "internal: no answer produced");
	LOG_DEBUG(MOD, "request method=%s path=%s status=%d", m, path, resp->status);
	count_request(m, resp->status);
}

int hss_rest_ready(void *ud, char *why, size_t whylen)
{
	hss_ctx_t *ctx = ud;
	if (ctx->store == NULL) {
		snprintf(why, whylen, "store not open");
		return 0;
	}
	return 1;
}

int hss_rest_start(hss_ctx_t *ctx, char *err, size_t errlen)
{
	ims_http_opts_t o = {
		.addr = ctx->cfg.rest_addr,
		.port = (uint16_t)ctx->cfg.rest_port,
		.threads = (unsigned)ctx->cfg.rest_threads,
		.max_body = BULK_MAX_BODY,
		.handler = hss_rest_handle,
		.ready = hss_rest_ready,
		.ud = ctx,
	};
	ims_http_server_t *srv = ims_http_start(&o, err, errlen);
	if (srv == NULL)
		return IMS_EIO;
	ctx->http = srv;
	update_sub_gauge(ctx);
	LOG_INFO(MOD, "listening addr=%s port=%u auth=%s", ctx->cfg.rest_addr,
		 (unsigned)ims_http_port(srv), ctx->cfg.rest_api_token ? "bearer" : "none");
	return 0;
}

void hss_rest_stop(hss_ctx_t *ctx)
{
	if (ctx == NULL || ctx->http == NULL)
		return;
	ims_http_stop(ctx->http);
	ctx->http = NULL;
}
