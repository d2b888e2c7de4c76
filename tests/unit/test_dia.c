/* common/dia: Cx dictionary, request/answer codec and the server path, in
 * memory (no sockets): build -> wire bytes -> parse -> decode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "dia/cx-avp.h"
#include "dia/cx-core.h"
#include "dia/cx-dict.h"
#include "dia/cx-msg.h"
#include "dia/cx-server.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define IMPI "001010000000001@" REALM
#define IMPU "sip:001010000000001@" REALM

/* Serialises m and parses the bytes back against the dictionary, as the
 * receiving peer would. Frees m. */
static struct msg *wire_roundtrip(struct msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct msg *back = NULL;
	assert_int_equal(fd_msg_bufferize(m, &buf, &len), 0);
	fd_msg_free(m);
	assert_int_equal(fd_msg_parse_buffer(&buf, len, &back), 0);
	struct fd_pei pei;
	memset(&pei, 0, sizeof pei);
	assert_int_equal(fd_msg_parse_dict(back, fd_g_config->cnf_dict, &pei), 0);
	return back;
}

static int setup(void **state)
{
	(void)state;
	return cx_core_dict_only("scscf." REALM, REALM);
}

static void test_dict_handles_resolved(void **state)
{
	struct dict_avp_data d;
	assert_non_null(cx_dict.app_cx);
	assert_non_null(cx_dict.cmd_mar);
	assert_int_equal(fd_dict_getval(cx_dict.sip_auth_data_item, &d), 0);
	assert_int_equal(d.avp_code, 612);
	assert_int_equal(d.avp_vendor, CX_VENDOR_3GPP);
	assert_int_equal(d.avp_basetype, AVP_TYPE_GROUPED);
	assert_int_equal(fd_dict_getval(cx_dict.server_assignment_type, &d), 0);
	assert_int_equal(d.avp_code, 614);
	/* A second init is a no-op and keeps the handles */
	struct dict_object *mar = cx_dict.cmd_mar;
	assert_int_equal(cx_dict_init(), 0);
	assert_ptr_equal(mar, cx_dict.cmd_mar);
}

static void test_mar_encode_decode_roundtrip(void **state)
{
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_MAR;
	r.user_name = IMS_STR(IMPI);
	r.impu[0] = IMS_STR(IMPU);
	r.n_impu = 1;
	r.server_name = IMS_STR("sip:scscf." REALM ":6060");
	r.n_auth_items = 3;
	r.auth_scheme = IMS_STR("Digest-AKAv1-MD5");
	uint8_t rand_auts[30];
	for (int i = 0; i < 30; i++)
		rand_auts[i] = (uint8_t)(i * 7);
	r.auth_authorization = ims_str_from((const char *)rand_auts, sizeof rand_auts);

	struct msg *m = NULL;
	assert_int_equal(cx_req_encode(&r, &m), 0);
	m = wire_roundtrip(m);

	struct msg_hdr *mh;
	assert_int_equal(fd_msg_hdr(m, &mh), 0);
	assert_int_equal(mh->msg_code, CX_CMD_MAR);
	assert_int_equal(mh->msg_appl, CX_APP_ID);
	assert_true(mh->msg_flags & CMD_FLAG_REQUEST);
	assert_true(mh->msg_flags & CMD_FLAG_PROXIABLE);

	ims_arena_t *a = ims_arena_create(1024);
	cx_req_t d;
	cx_answer_t ans;
	memset(&ans, 0, sizeof ans);
	assert_int_equal(cx_req_decode(m, a, &d, &ans), 0);
	assert_int_equal(d.cmd, CX_CMD_MAR);
	assert_true(ims_str_eq_c(d.user_name, IMPI));
	assert_int_equal(d.n_impu, 1);
	assert_true(ims_str_eq_c(d.impu[0], IMPU));
	assert_true(ims_str_eq_c(d.server_name, "sip:scscf." REALM ":6060"));
	assert_int_equal(d.n_auth_items, 3);
	assert_true(ims_str_eq_c(d.auth_scheme, "Digest-AKAv1-MD5"));
	assert_int_equal(d.auth_authorization.len, 30);
	assert_memory_equal(d.auth_authorization.s, rand_auts, 30);
	assert_true(ims_str_eq_c(d.origin_host, "scscf." REALM));
	assert_true(ims_str_eq_c(d.dest_realm, REALM));
	assert_true(d.session_id.len > 0);
	fd_msg_free(m);
	ims_arena_destroy(a);
}

static void test_request_without_identity_is_refused(void **state)
{
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_UAR;
	struct msg *m = NULL;
	assert_int_equal(cx_req_encode(&r, &m), IMS_EINVAL);
	/* MAR and SAR name the S-CSCF */
	r.cmd = CX_CMD_MAR;
	r.user_name = IMS_STR(IMPI);
	r.impu[0] = IMS_STR(IMPU);
	r.n_impu = 1;
	assert_int_equal(cx_req_encode(&r, &m), IMS_EINVAL);
	r.cmd = CX_CMD_SAR;
	assert_int_equal(cx_req_encode(&r, &m), IMS_EINVAL);
	r.cmd = 999;
	assert_int_equal(cx_req_encode(&r, &m), IMS_EINVAL);
	assert_null(m);
}

/* A handler that answers an MAA with two AKA items and checks the request */
static void maa_handler(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	int *calls = arg;
	(*calls)++;
	assert_int_equal(req->cmd, CX_CMD_MAR);
	ans->exp_result_code = 0;
	ans->result_code = CX_DIAMETER_SUCCESS;
	ans->user_name = req->user_name;
	ans->impu = req->impu[0];
	ans->n_items = 2;
	for (unsigned i = 0; i < 2; i++) {
		cx_auth_item_t *it = &ans->items[i];
		uint8_t *b = ims_arena_alloc(a, 32 + 8 + 16 + 16);
		for (int j = 0; j < 72; j++)
			b[j] = (uint8_t)(i * 100 + (unsigned)j);
		it->item_number = i + 1;
		it->scheme = IMS_STR("Digest-AKAv1-MD5");
		it->authenticate = ims_str_from((const char *)b, 32);
		it->authorization = ims_str_from((const char *)b + 32, 8);
		it->ck = ims_str_from((const char *)b + 40, 16);
		it->ik = ims_str_from((const char *)b + 56, 16);
	}
}

static void test_server_answers_mar_with_items(void **state)
{
	static int calls;
	assert_int_equal(cx_server_register(CX_CMD_MAR, maa_handler, &calls), 0);
	assert_int_equal(cx_server_register(CX_CMD_MAR, maa_handler, &calls), IMS_EEXIST);
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_MAR;
	r.user_name = IMS_STR(IMPI);
	r.impu[0] = IMS_STR(IMPU);
	r.n_impu = 1;
	r.server_name = IMS_STR("sip:scscf." REALM);
	r.n_auth_items = 2;
	r.auth_scheme = IMS_STR("Digest-AKAv1-MD5");
	struct msg *m = NULL;
	assert_int_equal(cx_req_encode(&r, &m), 0);
	m = wire_roundtrip(m);
	assert_int_equal(cx_server_process(&m), 0);
	assert_int_equal(calls, 1);
	m = wire_roundtrip(m);

	ims_arena_t *a = ims_arena_create(1024);
	cx_answer_t ans;
	assert_int_equal(cx_ans_decode(m, a, &ans), 0);
	assert_int_equal(ans.status, CX_ANS_OK);
	assert_int_equal(ans.cmd, CX_CMD_MAR);
	assert_int_equal(ans.result_code, CX_DIAMETER_SUCCESS);
	assert_true(cx_answer_success(&ans));
	assert_int_equal(ans.n_auth_items, 2);
	assert_int_equal(ans.n_items, 2);
	assert_int_equal(ans.items[1].item_number, 2);
	assert_int_equal(ans.items[1].authenticate.len, 32);
	assert_int_equal((uint8_t)ans.items[1].authenticate.s[0], 100);
	assert_int_equal(ans.items[1].ik.len, 16);
	assert_int_equal((uint8_t)ans.items[1].ik.s[15], (100 + 71) & 0xff);
	assert_true(ims_str_eq_c(ans.user_name, IMPI));
	assert_true(ims_str_eq_c(ans.impu, IMPU));
	assert_true(ans.session_id.len > 0);
	fd_msg_free(m);
	ims_arena_destroy(a);
}

/* A handler that defers its answer (the HSS waiting for a store commit):
 * resumed from another thread after the handler returned, or from the
 * handler itself before it returns; cx_server_process hands back the
 * answer as the resume left it. */
typedef struct lia_defer {
	int mode; /* 0: resume from a thread, 1: from inside the handler */
	int calls;
	int not_deferrable; /* cx_server_defer refused a foreign answer */
	pthread_t th;
	cx_deferred_t *d;
	cx_answer_t *ans;
} lia_defer_t;

static void *lia_resumer(void *arg)
{
	lia_defer_t *t = arg;
	usleep(20 * 1000); /* the handler has long returned */
	t->ans->result_code = CX_DIAMETER_SUCCESS;
	t->ans->server_name = IMS_STR("sip:late." REALM);
	cx_server_resume(t->d);
	return NULL;
}

static void lia_handler(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	(void)req;
	(void)a;
	lia_defer_t *t = arg;
	t->calls++;
	cx_answer_t other;
	memset(&other, 0, sizeof other);
	t->not_deferrable = cx_server_defer(&other) == NULL;
	t->d = cx_server_defer(ans);
	assert_non_null(t->d);
	assert_null(cx_server_defer(ans)); /* once */
	t->ans = ans;
	if (t->mode == 0) {
		assert_int_equal(pthread_create(&t->th, NULL, lia_resumer, t), 0);
		return;
	}
	ans->result_code = CX_DIAMETER_SUCCESS;
	ans->server_name = IMS_STR("sip:early." REALM);
	cx_server_resume(t->d);
}

static void test_server_deferred_answer(void **state)
{
	(void)state;
	static lia_defer_t t;
	assert_int_equal(cx_server_register(CX_CMD_LIR, lia_handler, &t), 0);
	const char *want[2] = { "sip:late." REALM, "sip:early." REALM };
	for (int mode = 0; mode < 2; mode++) {
		t.mode = mode;
		cx_req_t r;
		memset(&r, 0, sizeof r);
		r.cmd = CX_CMD_LIR;
		r.impu[0] = IMS_STR(IMPU);
		r.n_impu = 1;
		struct msg *m = NULL;
		assert_int_equal(cx_req_encode(&r, &m), 0);
		m = wire_roundtrip(m);
		assert_int_equal(cx_server_process(&m), 0);
		if (mode == 0)
			pthread_join(t.th, NULL);
		assert_int_equal(t.calls, mode + 1);
		assert_true(t.not_deferrable);
		m = wire_roundtrip(m);
		ims_arena_t *a = ims_arena_create(1024);
		cx_answer_t ans;
		assert_int_equal(cx_ans_decode(m, a, &ans), 0);
		assert_int_equal(ans.cmd, CX_CMD_LIR);
		assert_int_equal(ans.result_code, CX_DIAMETER_SUCCESS);
		assert_true(ims_str_eq_c(ans.server_name, want[mode]));
		fd_msg_free(m);
		ims_arena_destroy(a);
	}
}

static void uaa_handler(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	int *calls = arg;
	(*calls)++;
	ans->exp_result_code = CX_DIAMETER_FIRST_REGISTRATION;
	ans->has_caps = 1;
	ans->cap_mandatory[0] = 1;
	ans->n_cap_mandatory = 1;
	ans->cap_optional[0] = 7;
	ans->n_cap_optional = 1;
	ans->cap_server_name[0] = IMS_STR("sip:scscf." REALM ":6060");
	ans->n_cap_server_name = 1;
}

/* A UAR without Visited-Network-Identifier gets DIAMETER_MISSING_AVP with
 * that AVP in Failed-AVP (RFC 6733 §7.5), and the handler is not run. */
static void test_uar_missing_avp_answers_5005(void **state)
{
	static int calls;
	assert_int_equal(cx_server_register(CX_CMD_UAR, uaa_handler, &calls), 0);
	struct msg *m = NULL;
	assert_int_equal(fd_msg_new(cx_dict.cmd_uar, MSGFL_ALLOC_ETEID, &m), 0);
	assert_int_equal(cx_avp_add_str(m, cx_dict.session_id, IMS_STR("icscf;1;2")), 0);
	assert_int_equal(cx_avp_add_str(m, cx_dict.origin_host, IMS_STR("icscf." REALM)), 0);
	assert_int_equal(cx_avp_add_str(m, cx_dict.origin_realm, IMS_STR(REALM)), 0);
	assert_int_equal(cx_avp_add_str(m, cx_dict.destination_realm, IMS_STR(REALM)), 0);
	assert_int_equal(cx_avp_add_str(m, cx_dict.user_name, IMS_STR(IMPI)), 0);
	assert_int_equal(cx_avp_add_str(m, cx_dict.public_identity, IMS_STR(IMPU)), 0);
	m = wire_roundtrip(m);
	assert_int_equal(cx_server_process(&m), 0);
	assert_int_equal(calls, 0);
	m = wire_roundtrip(m);
	ims_arena_t *a = ims_arena_create(1024);
	cx_answer_t ans;
	assert_int_equal(cx_ans_decode(m, a, &ans), 0);
	assert_int_equal(ans.result_code, CX_DIAMETER_MISSING_AVP);
	assert_int_equal(ans.failed_avp_code, 600);
	assert_int_equal(ans.failed_avp_vendor, CX_VENDOR_3GPP);
	assert_false(cx_answer_success(&ans));
	fd_msg_free(m);
	ims_arena_destroy(a);

	/* The same UAR with the AVP and a bad User-Authorization-Type: 5004 */
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_UAR;
	r.user_name = IMS_STR(IMPI);
	r.impu[0] = IMS_STR(IMPU);
	r.n_impu = 1;
	r.has_auth_type = 1;
	r.auth_type = 9;
	assert_int_equal(cx_req_encode(&r, &m), 0);
	m = wire_roundtrip(m);
	assert_int_equal(cx_server_process(&m), 0);
	assert_int_equal(calls, 0);
	m = wire_roundtrip(m);
	a = ims_arena_create(1024);
	assert_int_equal(cx_ans_decode(m, a, &ans), 0);
	assert_int_equal(ans.result_code, CX_DIAMETER_INVALID_AVP_VALUE);
	assert_int_equal(ans.failed_avp_code, 623);
	fd_msg_free(m);
	ims_arena_destroy(a);

	/* And a good one reaches the handler: 2001 + Server-Capabilities */
	r.auth_type = CX_UAT_REGISTRATION_AND_CAPABILITIES;
	assert_int_equal(cx_req_encode(&r, &m), 0);
	m = wire_roundtrip(m);
	assert_int_equal(cx_server_process(&m), 0);
	assert_int_equal(calls, 1);
	m = wire_roundtrip(m);
	a = ims_arena_create(1024);
	assert_int_equal(cx_ans_decode(m, a, &ans), 0);
	assert_int_equal(ans.exp_result_code, CX_DIAMETER_FIRST_REGISTRATION);
	assert_int_equal(ans.exp_vendor_id, CX_VENDOR_3GPP);
	assert_int_equal(ans.result_code, 0);
	assert_true(ans.has_caps);
	assert_int_equal(ans.n_cap_mandatory, 1);
	assert_int_equal(ans.cap_optional[0], 7);
	assert_true(ims_str_eq_c(ans.cap_server_name[0], "sip:scscf." REALM ":6060"));
	fd_msg_free(m);
	ims_arena_destroy(a);
}

/* A User-Name whose header sets the V flag with Vendor-Id 0 (seen by the
 * fuzzer): the code is ours, but freeDiameter leaves the AVP unresolved
 * and without a value. The answer is 5004 naming User-Name by its code,
 * not a 5004 without Failed-AVP. */
static void test_unresolved_avp_is_named_in_failed_avp(void **state)
{
	(void)state;
	/* the UAR handler is the one test_uar_missing_avp_answers_5005
	 * registered (or none when run alone): it must not be reached */
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_UAR;
	r.user_name = IMS_STR(IMPI);
	r.impu[0] = IMS_STR(IMPU);
	r.n_impu = 1;
	struct msg *m = NULL;
	assert_int_equal(cx_req_encode(&r, &m), 0);
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(fd_msg_bufferize(m, &buf, &len), 0);
	fd_msg_free(m);

	/* find User-Name (code 1, no vendor) among the top-level AVPs */
	size_t off = 20, un = 0, un_len = 0;
	while (off + 8 <= len) {
		uint32_t code = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
				(uint32_t)buf[off + 2] << 8 | buf[off + 3];
		size_t alen = (size_t)buf[off + 5] << 16 | (size_t)buf[off + 6] << 8 | buf[off + 7];
		if (code == 1 && !(buf[off + 4] & 0x80)) {
			un = off;
			un_len = alen;
			break;
		}
		off += (alen + 3) & ~(size_t)3;
	}
	assert_true(un_len > 8);
	/* rewrite it with V set (M cleared) and a Vendor-Id of 0 */
	size_t pad = ((un_len + 3) & ~(size_t)3) - un_len;
	size_t nlen = len + 4;
	uint8_t *nb = malloc(nlen);
	assert_non_null(nb);
	memcpy(nb, buf, un);
	memcpy(nb + un, buf + un, 4);
	nb[un + 4] = 0x80;
	nb[un + 5] = (uint8_t)((un_len + 4) >> 16);
	nb[un + 6] = (uint8_t)((un_len + 4) >> 8);
	nb[un + 7] = (uint8_t)(un_len + 4);
	memset(nb + un + 8, 0, 4);
	memcpy(nb + un + 12, buf + un + 8, un_len - 8 + pad);
	memcpy(nb + un + 12 + un_len - 8 + pad, buf + un + un_len + pad,
	       len - (un + un_len + pad));
	nb[1] = (uint8_t)(nlen >> 16);
	nb[2] = (uint8_t)(nlen >> 8);
	nb[3] = (uint8_t)nlen;
	free(buf);

	assert_int_equal(fd_msg_parse_buffer(&nb, nlen, &m), 0);
	struct fd_pei pei;
	memset(&pei, 0, sizeof pei);
	assert_int_equal(fd_msg_parse_dict(m, fd_g_config->cnf_dict, &pei), 0);
	if (cx_server_process(&m) != 0) {
		/* run alone: no handler, so nothing decoded the request */
		static int calls;
		assert_int_equal(cx_server_register(CX_CMD_UAR, uaa_handler, &calls), 0);
		assert_int_equal(cx_server_process(&m), 0);
	}
	m = wire_roundtrip(m);
	ims_arena_t *a = ims_arena_create(1024);
	cx_answer_t ans;
	assert_int_equal(cx_ans_decode(m, a, &ans), 0);
	assert_int_equal(ans.result_code, CX_DIAMETER_INVALID_AVP_VALUE);
	assert_int_equal(ans.failed_avp_code, 1);
	assert_int_equal(ans.failed_avp_vendor, 0);
	fd_msg_free(m);
	ims_arena_destroy(a);
}

/* RTR carries Deregistration-Reason (grouped) and every IMPU */
static void test_rtr_encode_decode(void **state)
{
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_RTR;
	r.user_name = IMS_STR(IMPI);
	r.dest_host = IMS_STR("scscf." REALM);
	r.impu[0] = IMS_STR(IMPU);
	r.impu[1] = IMS_STR("tel:+15550000001");
	r.n_impu = 2;
	r.has_dereg = 1;
	r.dereg_code = CX_REASON_PERMANENT_TERMINATION;
	r.dereg_info = IMS_STR("deleted by provisioning");
	struct msg *m = NULL;
	assert_int_equal(cx_req_encode(&r, &m), 0);
	m = wire_roundtrip(m);
	ims_arena_t *a = ims_arena_create(1024);
	cx_req_t d;
	cx_answer_t ans;
	memset(&ans, 0, sizeof ans);
	assert_int_equal(cx_req_decode(m, a, &d, &ans), 0);
	assert_int_equal(d.n_impu, 2);
	assert_true(ims_str_eq_c(d.impu[1], "tel:+15550000001"));
	assert_true(d.has_dereg);
	assert_int_equal(d.dereg_code, CX_REASON_PERMANENT_TERMINATION);
	assert_true(ims_str_eq_c(d.dereg_info, "deleted by provisioning"));
	assert_true(ims_str_eq_c(d.dest_host, "scscf." REALM));
	fd_msg_free(m);
	ims_arena_destroy(a);
	/* Without Destination-Host an RTR cannot be built */
	r.dest_host = IMS_STR_NULL;
	assert_int_equal(cx_req_encode(&r, &m), IMS_EINVAL);
}

/* Decoding into an arena that runs out of memory fails cleanly at every
 * allocation (run under LeakSanitizer). */
static void test_decode_oom_every_allocation(void **state)
{
	cx_req_t r;
	memset(&r, 0, sizeof r);
	r.cmd = CX_CMD_MAR;
	r.user_name = IMS_STR(IMPI);
	r.impu[0] = IMS_STR(IMPU);
	r.n_impu = 1;
	r.server_name = IMS_STR("sip:scscf." REALM);
	r.n_auth_items = 2;
	r.auth_scheme = IMS_STR("Digest-AKAv1-MD5");
	struct msg *m = NULL;
	assert_int_equal(cx_req_encode(&r, &m), 0);
	m = wire_roundtrip(m);
	assert_int_equal(cx_server_process(&m), 0); /* the MAR handler from above */
	m = wire_roundtrip(m);
	int ok_seen = 0;
	for (long n = 1; n < 64 && !ok_seen; n++) {
		ims_arena_t *a = ims_arena_create(64);
		ims_arena_fail_after(a, n);
		cx_answer_t ans;
		int rc = cx_ans_decode(m, a, &ans);
		assert_true(rc == 0 || rc == IMS_ENOMEM);
		ok_seen = rc == 0;
		ims_arena_destroy(a);
	}
	assert_true(ok_seen);
	fd_msg_free(m);
}

static void test_conf_render(void **state)
{
	char buf[2048];
	cx_core_cfg_t c;
	memset(&c, 0, sizeof c);
	c.identity = "icscf." REALM;
	c.realm = REALM;
	c.port = 0;
	c.peers[0].host = "hss." REALM;
	c.peers[0].addr = "127.0.0.1";
	c.peers[0].port = 23868;
	c.n_peers = 1;
	int n = cx_core_conf_render(&c, "/x/c.pem", "/x/k.pem", NULL, buf, sizeof buf);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "Identity = \"icscf." REALM "\";"));
	assert_non_null(strstr(buf, "Port = 0;"));
	assert_non_null(strstr(buf, "ConnectPeer = \"hss." REALM "\" { No_TLS;"));
	assert_non_null(strstr(buf, "ConnectTo = \"127.0.0.1\"; Port = 23868;"));
	assert_non_null(strstr(buf, "TLS_Cred = \"/x/c.pem\", \"/x/k.pem\";"));
	assert_null(strstr(buf, "ListenOn"));
	assert_non_null(strstr(buf, "AppServThreads = 4;")); /* app_threads 0: default */
	c.app_threads = 1;
	assert_true(cx_core_conf_render(&c, "/x/c.pem", "/x/k.pem", NULL, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "AppServThreads = 1;"));
	assert_int_equal(cx_core_conf_render(&c, "/x/c.pem", "/x/k.pem", NULL, buf, 40),
			 IMS_ENOSPC);
	c.identity = NULL;
	assert_int_equal(cx_core_conf_render(&c, "/x/c.pem", "/x/k.pem", NULL, buf, sizeof buf),
			 IMS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dict_handles_resolved),
		cmocka_unit_test(test_mar_encode_decode_roundtrip),
		cmocka_unit_test(test_request_without_identity_is_refused),
		cmocka_unit_test(test_server_answers_mar_with_items),
		cmocka_unit_test(test_uar_missing_avp_answers_5005),
		cmocka_unit_test(test_server_deferred_answer),
		cmocka_unit_test(test_unresolved_avp_is_named_in_failed_avp),
		cmocka_unit_test(test_rtr_encode_decode),
		cmocka_unit_test(test_decode_oom_every_allocation),
		cmocka_unit_test(test_conf_render),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
