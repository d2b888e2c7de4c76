/* hss-sim REST handler on a real listener (ephemeral port): RTR before a
 * DELETE of a registered user, PPR after a PUT, bearer token, and the
 * configuration rules (token required off loopback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/ims_err.h"
#include "cfg/ims_cfg.h"
#include "context.h"
#include "rest-handler.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define IMPI "001010000000001@" REALM
#define SCSCF "sip:scscf." REALM ":6060"

static const char SUB_BODY[] =
	"{\"impi\":\"" IMPI "\",\"impus\":[\"sip:001010000000001@" REALM "\",\"tel:+15550000001\"],"
	"\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"op\":\"cdc202d5123e20f62b6d676ac72cb318\"}}";
static const char SUB_BODY_NEW[] =
	"{\"impi\":\"" IMPI "\",\"impus\":[\"sip:001010000000001@" REALM "\",\"tel:+15550000777\"],"
	"\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"op\":\"cdc202d5123e20f62b6d676ac72cb318\"}}";

typedef struct calls {
	int rtr, ppr;
	int rtr_saw_record;   /* the record still existed when RTR went out */
	int rtr_rc;           /* what the fake RTR returns */
	char scscf[256];
	char ppr_impu2[128];  /* second identity in the pushed profile */
	unsigned rtr_impus;
} calls_t;

static calls_t calls;

static int fake_rtr(hss_ctx_t *ctx, const hss_sub_t *sub, const char *scscf_name)
{
	hss_sub_t *still = NULL;
	calls.rtr++;
	calls.rtr_saw_record = hss_store_get_by_impi(ctx->store, sub->impi, &still) == 0;
	hss_sub_free(still);
	calls.rtr_impus = sub->n_impus;
	snprintf(calls.scscf, sizeof(calls.scscf), "%s", scscf_name);
	return calls.rtr_rc;
}

static int fake_ppr(hss_ctx_t *ctx, const hss_sub_t *sub, const char *scscf_name)
{
	(void)ctx;
	calls.ppr++;
	snprintf(calls.scscf, sizeof(calls.scscf), "%s", scscf_name);
	snprintf(calls.ppr_impu2, sizeof(calls.ppr_impu2), "%s", sub->n_impus > 1 ? sub->impus[1].uri : "");
	return 0;
}

static int setup(void **state)
{
	char err[256];
	hss_ctx_t *ctx = hss_ctx_new();
	assert_non_null(ctx);
	free(ctx->cfg.db_path);
	ctx->cfg.db_path = strdup(":memory:");
	ctx->cfg.rest_port = 0; /* ephemeral */
	assert_int_equal(hss_ctx_open_store(ctx, err, sizeof(err)), 0);
	ctx->send_rtr = fake_rtr;
	ctx->send_ppr = fake_ppr;
	assert_int_equal(hss_rest_start(ctx, err, sizeof(err)), 0);
	memset(&calls, 0, sizeof(calls));
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	hss_ctx_t *ctx = *state;
	hss_rest_stop(ctx);
	hss_ctx_destroy(ctx);
	return 0;
}

/* One HTTP/1.1 exchange with Connection: close. Returns the status; the
 * body (NUL-terminated) goes to body. */
static int http(hss_ctx_t *ctx, const char *method, const char *path, const char *extra_hdr,
		const char *payload, char *body, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(ims_http_port(ctx->http)) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char req[4096];
	size_t plen = payload ? strlen(payload) : 0;
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 method, path, extra_hdr ? extra_hdr : "", extra_hdr ? "\r\n" : "", plen,
			 payload ? payload : "");
	assert_int_equal(write(fd, req, (size_t)n), n);
	char resp[16384];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	resp[got] = '\0';
	int status = 0;
	assert_int_equal(sscanf(resp, "HTTP/1.1 %d", &status), 1);
	const char *b = strstr(resp, "\r\n\r\n");
	snprintf(body, cap, "%s", b ? b + 4 : "");
	return status;
}

static void test_rest_delete_registered_sends_rtr_first(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	assert_int_equal(http(ctx, "POST", "/api/v1/subscribers", NULL, SUB_BODY, body, sizeof(body)), 201);
	assert_int_equal(hss_store_set_reg(ctx->store, IMPI, HSS_REG_REGISTERED, SCSCF), 0);
	assert_int_equal(http(ctx, "DELETE", "/api/v1/subscribers/" IMPI, NULL, NULL, body, sizeof(body)), 204);
	assert_int_equal(calls.rtr, 1);
	assert_true(calls.rtr_saw_record);
	assert_int_equal(calls.rtr_impus, 2);
	assert_string_equal(calls.scscf, SCSCF);
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers/" IMPI, NULL, NULL, body, sizeof(body)), 404);
	assert_non_null(strstr(body, "\"error\""));
}

static void test_rest_delete_when_rtr_fails_still_deletes(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	calls.rtr_rc = IMS_EUNREACH;
	assert_int_equal(http(ctx, "POST", "/api/v1/subscribers", NULL, SUB_BODY, body, sizeof(body)), 201);
	assert_int_equal(hss_store_set_reg(ctx->store, IMPI, HSS_REG_UNREGISTERED, SCSCF), 0);
	assert_int_equal(http(ctx, "DELETE", "/api/v1/subscribers/" IMPI, NULL, NULL, body, sizeof(body)), 204);
	assert_int_equal(calls.rtr, 1);
	hss_sub_t *s = NULL;
	assert_int_equal(hss_store_get_by_impi(ctx->store, IMPI, &s), IMS_ENOENT);
}

static void test_rest_delete_not_registered_sends_no_rtr(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	assert_int_equal(http(ctx, "POST", "/api/v1/subscribers", NULL, SUB_BODY, body, sizeof(body)), 201);
	assert_int_equal(http(ctx, "DELETE", "/api/v1/subscribers/" IMPI, NULL, NULL, body, sizeof(body)), 204);
	assert_int_equal(calls.rtr, 0);
}

static void test_rest_put_registered_sends_ppr_with_new_profile(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	assert_int_equal(http(ctx, "POST", "/api/v1/subscribers", NULL, SUB_BODY, body, sizeof(body)), 201);
	/* not registered: no PPR */
	assert_int_equal(http(ctx, "PUT", "/api/v1/subscribers/" IMPI, NULL, SUB_BODY_NEW, body, sizeof(body)), 200);
	assert_int_equal(calls.ppr, 0);
	assert_int_equal(hss_store_set_reg(ctx->store, IMPI, HSS_REG_REGISTERED, SCSCF), 0);
	assert_int_equal(http(ctx, "PUT", "/api/v1/subscribers/" IMPI, NULL, SUB_BODY, body, sizeof(body)), 200);
	assert_int_equal(calls.ppr, 1);
	assert_string_equal(calls.ppr_impu2, "tel:+15550000001");
	assert_string_equal(calls.scscf, SCSCF);
	/* the registration survived the replace */
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers/" IMPI "/registration", NULL, NULL, body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"state\":\"REGISTERED\""));
	assert_non_null(strstr(body, "\"scscf_name\":\"" SCSCF "\""));
}

static void test_rest_bearer_token(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	ctx->cfg.rest_api_token = strdup("tok-123");
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers", NULL, NULL, body, sizeof(body)), 401);
	assert_non_null(strstr(body, "authorization"));
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers", "Authorization: Bearer tok-12", NULL, body, sizeof(body)), 401);
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers", "Authorization: Bearer tok-1234", NULL, body, sizeof(body)), 401);
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers", "Authorization: Bearer tok-123", NULL, body, sizeof(body)), 200);
	/* probes need no token */
	assert_int_equal(http(ctx, "GET", "/healthz", NULL, NULL, body, sizeof(body)), 200);
}

static void test_rest_unknown_paths_and_methods(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	assert_int_equal(http(ctx, "GET", "/api/v2/things", NULL, NULL, body, sizeof(body)), 404);
	assert_int_equal(http(ctx, "DELETE", "/api/v1/subscribers", NULL, NULL, body, sizeof(body)), 405);
	assert_int_equal(http(ctx, "POST", "/api/v1/subscribers/" IMPI "/registration", NULL, NULL, body, sizeof(body)), 405);
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers/" IMPI "/other", NULL, NULL, body, sizeof(body)), 404);
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers?offset=-1", NULL, NULL, body, sizeof(body)), 400);
	assert_non_null(strstr(body, "offset: "));
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers?limit=1001", NULL, NULL, body, sizeof(body)), 400);
	assert_int_equal(http(ctx, "POST", "/api/v1/subscribers", NULL, "", body, sizeof(body)), 400);
	assert_non_null(strstr(body, "body: invalid JSON"));
}

#define BULK_K "\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"opc\":\"cd63cb71954a9f4e48a5994e37a02baf\"}"
#define BULK_REC(n) "{\"impi\":\"bulk" n "@" REALM "\",\"impus\":[\"sip:bulk" n "@" REALM "\"]," BULK_K "}"

static unsigned stored_count(hss_ctx_t *ctx)
{
	unsigned n = 0;
	assert_int_equal(hss_store_count(ctx->store, &n), 0);
	return n;
}

/* Issue 4: POST /api/v1/subscribers/bulk stores every record or none. */
static void test_rest_bulk_all_or_nothing(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	const char *path = "/api/v1/subscribers/bulk";

	/* an invalid third record: 400 naming [2].field, nothing stored */
	assert_int_equal(http(ctx, "POST", path, NULL,
			      "[" BULK_REC("1") "," BULK_REC("2") ",{\"impi\":\"bulk3@" REALM
			      "\",\"impus\":[\"sip:bulk3@" REALM "\"],\"auth\":{\"k\":\"zz\"}}]",
			      body, sizeof(body)), 400);
	assert_non_null(strstr(body, "[2].auth.k: "));
	assert_int_equal(stored_count(ctx), 0);

	/* the same impi twice in one request: 409 naming index 1 */
	assert_int_equal(http(ctx, "POST", path, NULL, "[" BULK_REC("1") "," BULK_REC("1") "]", body,
			      sizeof(body)), 409);
	assert_non_null(strstr(body, "[1]"));
	assert_int_equal(stored_count(ctx), 0);

	/* a valid batch: 201 {"created": 2}, both readable */
	assert_int_equal(http(ctx, "POST", path, NULL, "[" BULK_REC("1") "," BULK_REC("2") "]", body,
			      sizeof(body)), 201);
	assert_non_null(strstr(body, "\"created\": 2") ? strstr(body, "\"created\": 2")
						       : strstr(body, "\"created\":2"));
	assert_int_equal(stored_count(ctx), 2);
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers/bulk2@" REALM, NULL, NULL, body,
			      sizeof(body)), 200);
	assert_non_null(strstr(body, "sip:bulk2@" REALM));

	/* a record already in the store: 409 naming [1].impi, the new [0] is
	 * rolled back */
	assert_int_equal(http(ctx, "POST", path, NULL, "[" BULK_REC("3") "," BULK_REC("2") "]", body,
			      sizeof(body)), 409);
	assert_non_null(strstr(body, "[1].impi: bulk2@"));
	assert_int_equal(http(ctx, "GET", "/api/v1/subscribers/bulk3@" REALM, NULL, NULL, body,
			      sizeof(body)), 404);
	assert_int_equal(stored_count(ctx), 2);
}

static void test_rest_bulk_body_shape(void **state)
{
	hss_ctx_t *ctx = *state;
	char body[8192];
	const char *path = "/api/v1/subscribers/bulk";

	assert_int_equal(http(ctx, "POST", path, NULL, "{}", body, sizeof(body)), 400);
	assert_non_null(strstr(body, "body: must be an array"));
	assert_int_equal(http(ctx, "POST", path, NULL, "[]", body, sizeof(body)), 400);
	assert_non_null(strstr(body, "body: must hold at least one"));
	assert_int_equal(http(ctx, "POST", path, NULL, "[" BULK_REC("1") ",7]", body, sizeof(body)), 400);
	assert_non_null(strstr(body, "[1]: "));
	assert_int_equal(http(ctx, "POST", path, NULL, "[" BULK_REC("1") ",{\"impi\":\"x@y\",\"zzz\":1}]",
			      body, sizeof(body)), 400);
	assert_non_null(strstr(body, "[1]."));
	assert_int_equal(http(ctx, "POST", path, NULL, "[", body, sizeof(body)), 400);
	assert_non_null(strstr(body, "body: invalid JSON"));
	/* another impu already owned by a stored subscriber: [0].impus[0] */
	assert_int_equal(http(ctx, "POST", "/api/v1/subscribers", NULL, SUB_BODY, body, sizeof(body)), 201);
	assert_int_equal(http(ctx, "POST", path, NULL,
			      "[{\"impi\":\"other@" REALM "\",\"impus\":[\"tel:+15550000001\"]," BULK_K "}]",
			      body, sizeof(body)), 409);
	assert_non_null(strstr(body, "[0].impus[0]: tel:+15550000001 belongs to subscriber " IMPI));
	assert_int_equal(stored_count(ctx), 1);
	/* other methods on .../bulk are the per-subscriber calls */
	assert_int_equal(http(ctx, "GET", path, NULL, NULL, body, sizeof(body)), 404);
}

static void test_cfg_token_required_off_loopback(void **state)
{
	(void)state;
	static const struct {
		const char *yaml;
		int rc;
		const char *err;
	} cases[] = {
		{ "rest:\n  addr: 0.0.0.0\n", IMS_ECONFIG, "rest.api_token: required when rest.addr (0.0.0.0)" },
		{ "rest:\n  addr: \"::\"\n", IMS_ECONFIG, "rest.api_token: required" },
		{ "rest:\n  addr: 0.0.0.0\n  api_token: x\n", 0, "" },
		{ "rest:\n  addr: 127.0.0.2\n", 0, "" },
		{ "rest:\n  addr: \"::1\"\n", 0, "" },
		{ "rest:\n  port: 70000\n", IMS_ECONFIG, "rest.port: " },
		{ "diameter:\n  listen:\n    port: 0\n", IMS_ECONFIG, "diameter.listen.port: " },
		{ "diameter:\n  threads: 0\n", IMS_ECONFIG, "diameter.threads: " },
		{ "diameter:\n  threads: 65\n", IMS_ECONFIG, "diameter.threads: " },
		{ "diameter:\n  threads: 1\n", 0, "" },
		{ "scscf_name: scscf.example.org\n", IMS_ECONFIG, "scscf_name: \"scscf.example.org\" is not a sip: URI" },
		{ "scscf_name: sip:scscf.example.org:16060\n", 0, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		hss_cfg_t cfg;
		assert_int_equal(hss_cfg_defaults(&cfg), 0);
		ims_cfg_t *y = ims_cfg_parse(cases[i].yaml, strlen(cases[i].yaml), "t.yaml", err, sizeof(err));
		assert_non_null(y);
		int rc = hss_cfg_read(&cfg, y, err, sizeof(err));
		if (rc != cases[i].rc || strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: rc=%d err=\"%s\"", i, rc, err);
		ims_cfg_free(y);
		hss_cfg_free(&cfg);
	}
}

static void test_cfg_defaults_follow_realm(void **state)
{
	(void)state;
	char err[256] = "";
	hss_cfg_t cfg;
	const char *yaml = "realm: ims.example.org\n";
	assert_int_equal(hss_cfg_defaults(&cfg), 0);
	ims_cfg_t *y = ims_cfg_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	assert_int_equal(hss_cfg_read(&cfg, y, err, sizeof(err)), 0);
	assert_string_equal(cfg.dia_identity, "hss.ims.example.org");
	assert_string_equal(cfg.dia_realm, "ims.example.org");
	assert_int_equal(cfg.rest_port, 8080);
	assert_int_equal(cfg.dia_port, 3868);
	assert_int_equal(cfg.dia_threads, 4);
	assert_string_equal(cfg.rest_addr, "127.0.0.1");
	assert_null(cfg.rest_api_token);
	assert_null(cfg.dia_conf_path);
	assert_null(cfg.scscf_name);
	ims_cfg_free(y);
	hss_cfg_free(&cfg);
	assert_true(hss_addr_is_loopback("127.0.0.1"));
	assert_true(hss_addr_is_loopback("localhost"));
	assert_false(hss_addr_is_loopback("10.0.0.1"));
	assert_false(hss_addr_is_loopback("::"));
	assert_false(hss_addr_is_loopback("hss.example.org"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rest_delete_registered_sends_rtr_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_delete_when_rtr_fails_still_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_delete_not_registered_sends_no_rtr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_put_registered_sends_ppr_with_new_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_bearer_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_unknown_paths_and_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_bulk_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_bulk_body_shape, setup, teardown),
		cmocka_unit_test(test_cfg_token_required_off_loopback),
		cmocka_unit_test(test_cfg_defaults_follow_realm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
