/* The registrar end to end on the proxy core's test mode, with a scripted
 * HSS in place of Diameter (TS 24.229 §5.4.1): MAR -> 401 with AKA
 * vector, the UE's answer -> SAR REGISTRATION -> 200; re-registration;
 * AUTS -> MAR with RAND||AUTS; wrong answer -> 403; HSS timeout -> 504,
 * unreachable -> 500, unknown user -> 403; 423; out-of-order CSeq;
 * de-registration with SAR USER_DEREGISTRATION; MD5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth-nonce.h"
#include "auth/aka.h"
#include "auth/digest.h"
#include "auth/milenage.h"
#include "base/ims_b64.h"
#include "base/ims_clock.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"
#include "context.h"
#include "cx-build.h"
#include "cx-handler.h"
#include "profile.h"
#include "reg-handler.h"
#include "reg-store.h"
#include "regevent.h"
#include "sip/proxy/sip_proxy.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define USER "001010000000001"
#define IMPI USER "@" REALM
#define IMPU "sip:" USER "@" REALM

typedef enum { HSS_OK = 0, HSS_TIMEOUT, HSS_UNREACHABLE, HSS_UNKNOWN } hss_mode_t;

static struct {
	ims_vclock_t vc;
	sip_proxy_t *p;
	scscf_ctx_t ctx;
	struct scscf_cx cx;
	hss_mode_t mode;
	int md5;                 /* answer MARs with an HA1 */
	uint8_t k[16], opc[16];
	uint64_t sqn;
	/* what the S-CSCF asked */
	int n_mar, n_sar;
	uint32_t last_sat;
	uint8_t last_resync[30];
	int last_had_resync;
	char last_scheme[32];
	/* what it answered */
	char rsp[4096];
	char chal[4096];         /* the last 401 */
	char notify[8192];       /* the last NOTIFY sent */
	int n_notify;
	int status;
	int cseq;
} H;

static char *user_data;
static size_t user_data_len;

static void hexf(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(ims_hex_decode(s, strlen(s), out, n), 0);
}

/* The scripted HSS: answers at once (the callback then resumes the SIP
 * context through the proxy's post queue, as a freeDiameter thread would). */
static int fake_send(const cx_req_t *req, unsigned timeout_ms, cx_answer_cb_t cb, void *arg)
{
	cx_answer_t ans;
	aka_vector_t av;
	uint8_t rand[16], sqn[6], amf[2] = { 0x80, 0x00 }, authn[32];
	(void)timeout_ms;
	memset(&ans, 0, sizeof(ans));
	ans.cmd = req->cmd;
	if (H.mode == HSS_TIMEOUT) {
		ans.status = CX_ANS_TIMEOUT;
		cb(arg, &ans);
		return 0;
	}
	if (H.mode == HSS_UNREACHABLE) {
		ans.status = CX_ANS_UNREACHABLE;
		cb(arg, &ans);
		return 0;
	}
	if (H.mode == HSS_UNKNOWN) {
		ans.exp_vendor_id = 10415;
		ans.exp_result_code = CX_DIAMETER_ERROR_USER_UNKNOWN;
		cb(arg, &ans);
		return 0;
	}
	ans.result_code = CX_DIAMETER_SUCCESS;
	if (req->cmd == CX_CMD_MAR) {
		H.n_mar++;
		ims_str_to_c(req->auth_scheme, H.last_scheme, sizeof(H.last_scheme));
		H.last_had_resync = req->auth_authorization.len == 30;
		if (H.last_had_resync)
			memcpy(H.last_resync, req->auth_authorization.s, 30);
		ans.n_items = 1;
		if (H.md5) {
			static char ha1[33];
			digest_ha1(IMS_STR(IMPI), IMS_STR(REALM), (const uint8_t *)"secret", 6, ha1);
			ans.items[0].has_digest = 1;
			ans.items[0].digest_ha1 = ims_str_from(ha1, 32);
			ans.items[0].digest_realm = IMS_STR(REALM);
		} else {
			assert_int_equal(aka_random(rand, 16), 0);
			aka_sqn_put(++H.sqn, sqn);
			assert_int_equal(aka_vector_make(H.k, H.opc, amf, sqn, rand, &av), 0);
			memcpy(authn, av.rand, 16);
			memcpy(authn + 16, av.autn, 16);
			static uint8_t keep[32 + 8 + 32];
			memcpy(keep, authn, 32);
			memcpy(keep + 32, av.xres, 8);
			memcpy(keep + 40, av.ck, 16);
			memcpy(keep + 56, av.ik, 16);
			ans.items[0].authenticate = ims_str_from((const char *)keep, 32);
			ans.items[0].authorization = ims_str_from((const char *)keep + 32, 8);
			ans.items[0].ck = ims_str_from((const char *)keep + 40, 16);
			ans.items[0].ik = ims_str_from((const char *)keep + 56, 16);
		}
	} else if (req->cmd == CX_CMD_SAR) {
		H.n_sar++;
		H.last_sat = req->sat;
		if (req->sat == CX_SAT_REGISTRATION)
			ans.user_data = ims_str_from(user_data, user_data_len);
	}
	cb(arg, &ans);
	return 0;
}

static int tsend(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
	(void)to;
	if (len >= 7 && !memcmp(buf, "NOTIFY ", 7)) {
		assert_true(len < sizeof(H.notify));
		memcpy(H.notify, buf, len);
		H.notify[len] = '\0';
		H.n_notify++;
	}
	if (len >= 8 && !memcmp(buf, "SIP/2.0 ", 8)) {
		/* the wire buffer has no NUL: read the three digits only */
		int code = len >= 11 ? (buf[8] - '0') * 100 + (buf[9] - '0') * 10 + (buf[10] - '0') : 0;
		if (code >= 200) {
			assert_true(len < sizeof(H.rsp));
			memcpy(H.rsp, buf, len);
			H.rsp[len] = '\0';
			H.status = code;
			if (code == 401)
				memcpy(H.chal, H.rsp, len + 1);
		}
	}
	return 0;
}

static void profile_free_cb(struct scscf_profile *p)
{
	scscf_profile_free((scscf_profile_t *)p);
}

static int setup(void **state)
{
	(void)state;
	sip_tp_listen_t ls;
	char err[128];
	uint8_t op[16];
	memset(&H, 0, sizeof(H));
	ims_vclock_init(&H.vc, 0);
	hexf("465b5ce8b199b49faa5f0a2ee238a6bc", H.k, 16);
	hexf("cdc202d5123e20f62b6d676ac72cb318", op, 16);
	assert_int_equal(milenage_opc(H.k, op, H.opc), 0);

	scscf_cfg_t *c = &H.ctx.cfg;
	c->realm = REALM;
	c->own_uri = "sip:scscf." REALM ":6060";
	c->default_expires = 3600;
	c->min_expires = 60;
	c->max_expires = 7200;
	c->max_contacts = 3;
	c->nonce_ttl = 30;
	c->auth_default = SCSCF_AUTH_AKA;
	c->sub_default_expires = 600;
	c->sub_max_expires = 3600;
	H.cx.send = fake_send;
	H.cx.timeout_ms = 1000;
	H.ctx.cx = &H.cx;
	assert_int_equal(scscf_reg_store_open(":memory:", profile_free_cb, &H.ctx.store), 0);
	assert_int_equal(scscf_auth_table_create(30, &H.ctx.auth), 0);
	assert_int_equal(scscf_regevent_create(NULL, &H.ctx.regevent), 0);

	assert_int_equal(sip_tp_listen_parse("10.0.0.1:6060:udp", &ls), 0);
	static const char *const aliases[] = { "scscf." REALM, NULL };
	sip_proxy_cfg_t cfg = {
		.tp = { .listen = &ls, .nlisten = 1 },
		.aliases = aliases,
		.test_send = tsend,
		.test_clock = &H.vc.clock,
	};
	sip_proxy_hooks_t hooks = { scscf_on_request, scscf_on_response, scscf_on_final,
				    scscf_on_cancel, &H.ctx };
	assert_int_equal(sip_proxy_create(&cfg, &hooks, &H.p, err, sizeof(err)), 0);
	H.ctx.proxy = H.p;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_proxy_destroy(H.p);
	scscf_regevent_destroy(H.ctx.regevent);
	scscf_auth_table_destroy(H.ctx.auth);
	scscf_reg_store_close(H.ctx.store);
	return 0;
}

/* Sends one REGISTER from the UE and runs the worker until it is answered. */
static int reg(const char *auth, const char *contact, const char *call_id)
{
	char buf[2048];
	sip_tp_peer_t src;
	memset(&src, 0, sizeof(src));
	src.proto = SIP_TP_UDP;
	src.listener = 0;
	assert_int_equal(sip_tp_addr_set(&src.addr, IMS_STR("192.0.2.10"), 5070), 0);
	int cseq = ++H.cseq;
	static int branch;
	snprintf(buf, sizeof(buf),
		 "REGISTER sip:" REALM " SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKue%d;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <" IMPU ">;tag=ue1\r\n"
		 "To: <" IMPU ">\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: %d REGISTER\r\n"
		 "%s\r\n"
		 "Path: <sip:term@pcscf." REALM ":5060;lr>\r\n"
		 "%s%s"
		 "Content-Length: 0\r\n\r\n",
		 ++branch, call_id, cseq, contact, auth ? auth : "", auth ? "\r\n" : "");
	H.status = 0;
	H.rsp[0] = '\0';
	assert_int_equal(sip_proxy_test_inject(H.p, buf, strlen(buf), &src), 0);
	for (int i = 0; i < 10 && !H.status; i++)
		sip_proxy_test_run(H.p);
	return H.status;
}

static const char *param(const char *hdr_text, const char *name, char *out, size_t cap)
{
	char key[32];
	const char *p, *e;
	snprintf(key, sizeof(key), "%s=\"", name);
	p = strstr(hdr_text, key);
	assert_non_null(p);
	p += strlen(key);
	e = strchr(p, '"');
	assert_non_null(e);
	snprintf(out, cap, "%.*s", (int)(e - p), p);
	return out;
}

/* The UE's Authorization for the last 401 (nc given), AKA or MD5. */
static void ue_auth(char *out, size_t cap, const char *nc, int corrupt)
{
	char nonce[128], opaque[64], ha1[33], resp[33];
	uint8_t raw[32], res[8], ck[16], ik[16];
	size_t n;
	const char *www = strstr(H.chal, "WWW-Authenticate:");
	assert_non_null(www);
	param(www, "nonce", nonce, sizeof(nonce));
	param(www, "opaque", opaque, sizeof(opaque));
	if (H.md5) {
		digest_ha1(IMS_STR(IMPI), IMS_STR(REALM), (const uint8_t *)"secret", 6, ha1);
	} else {
		assert_int_equal(ims_b64_decode(nonce, strlen(nonce), raw, sizeof(raw), &n), 0);
		assert_int_equal(aka_ue_answer(H.k, H.opc, raw, raw + 16, res, ck, ik, NULL), 0);
		digest_ha1(IMS_STR(IMPI), IMS_STR(REALM), res, 8, ha1);
	}
	digest_response(ha1, IMS_STR("REGISTER"), IMS_STR("sip:" REALM), ims_str_cstr(nonce),
			ims_str_cstr(nc), IMS_STR("c0ffee"), IMS_STR("auth"), NULL, resp);
	if (corrupt)
		resp[5] = resp[5] == '0' ? '1' : '0';
	snprintf(out, cap,
		 "Authorization: Digest username=\"" IMPI "\", realm=\"" REALM "\", nonce=\"%s\", "
		 "uri=\"sip:" REALM "\", response=\"%s\", algorithm=%s, qop=auth, nc=%s, "
		 "cnonce=\"c0ffee\", opaque=\"%s\"",
		 nonce, resp, H.md5 ? "MD5" : "AKAv1-MD5", nc, opaque);
}

#define CONTACT "Contact: <sip:" USER "@192.0.2.10:5070>;expires=600"

static void load_user_data(void)
{
	FILE *f = fopen(IMS_TEST_DATA "/ifc/hss-generated.xml", "rb");
	static char buf[65536];
	assert_non_null(f);
	user_data_len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[user_data_len] = '\0';
	user_data = buf;
}

static void test_aka_register_reregister_deregister(void **state)
{
	(void)state;
	char auth[1024];
	load_user_data();
	/* TS 24.229 §5.4.1.2.1: no credentials -> MAR -> 401 */
	assert_int_equal(reg(NULL, CONTACT, "call-1"), 401);
	assert_int_equal(H.n_mar, 1);
	assert_string_equal(H.last_scheme, "Digest-AKAv1-MD5");
	assert_non_null(strstr(H.rsp, "algorithm=AKAv1-MD5"));
	assert_non_null(strstr(H.rsp, "ck=\""));
	assert_non_null(strstr(H.rsp, "ik=\""));
	assert_int_equal(H.n_sar, 0);

	/* the answer -> SAR REGISTRATION -> 200 */
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, CONTACT, "call-1"), 200);
	assert_int_equal(H.n_sar, 1);
	assert_int_equal(H.last_sat, CX_SAT_REGISTRATION);
	assert_non_null(strstr(H.rsp, "Service-Route: <sip:orig@scscf." REALM ":6060;lr;orig>"));
	assert_non_null(strstr(H.rsp, "P-Associated-URI: <" IMPU ">, <tel:+15550000001>"));
	assert_non_null(strstr(H.rsp, "Path: <sip:term@pcscf." REALM ":5060;lr>"));
	assert_non_null(strstr(H.rsp, "Contact: <sip:" USER "@192.0.2.10:5070>;expires=600"));
	assert_int_equal(scscf_reg_store_state(H.ctx.store, IMS_STR("tel:+15550000001"), scscf_now()),
			 SCSCF_REG_REGISTERED);
	/* the profile came from the SAA and is shared with the session side */
	ims_arena_t *a = ims_arena_create(2048);
	scscf_reg_view_t v;
	assert_int_equal(scscf_reg_store_lookup(H.ctx.store, IMS_STR(IMPU), scscf_now(), a, &v), 0);
	assert_non_null(v.profile);
	assert_true(ims_str_eq_c(v.bindings[0].received, "sip:192.0.2.10:5070;transport=udp"));
	scscf_reg_view_release(&v);
	ims_arena_destroy(a);

	/* the same nonce with the next nc: re-registration, SAR RE_REGISTRATION */
	ue_auth(auth, sizeof(auth), "00000002", 0);
	assert_int_equal(reg(auth, CONTACT, "call-1"), 200);
	assert_int_equal(H.last_sat, CX_SAT_RE_REGISTRATION);
	assert_non_null(strstr(H.rsp, "P-Associated-URI: <" IMPU ">"));
	/* replaying nc 2 is refused */
	assert_int_equal(reg(auth, CONTACT, "call-1"), 403);

	/* RFC 3261 §10.3 step 7: an older CSeq in the same Call-ID -> 500 */
	assert_int_equal(reg(NULL, CONTACT, "call-1"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	H.cseq = 1;
	assert_int_equal(reg(auth, CONTACT, "call-1"), 500);
	H.cseq = 100;

	/* de-registration: Expires 0 -> SAR USER_DEREGISTRATION -> 200 */
	assert_int_equal(reg(NULL, "Contact: *\r\nExpires: 0", "call-1"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, "Contact: *\r\nExpires: 0", "call-1"), 200);
	assert_int_equal(H.last_sat, CX_SAT_USER_DEREGISTRATION);
	assert_null(strstr(H.rsp, "Contact:"));
	assert_int_equal(scscf_reg_store_state(H.ctx.store, IMS_STR(IMPU), scscf_now()),
			 SCSCF_REG_NOT_REGISTERED);
}

static void test_auts_resync_and_wrong_answer(void **state)
{
	(void)state;
	char auth[1024], nonce[128], auts64[32];
	uint8_t raw[32], sqn_ms[6], auts[14];
	size_t n;
	load_user_data();
	assert_int_equal(reg(NULL, CONTACT, "call-2"), 401);
	param(strstr(H.rsp, "WWW-Authenticate:"), "nonce", nonce, sizeof(nonce));
	assert_int_equal(ims_b64_decode(nonce, strlen(nonce), raw, sizeof(raw), &n), 0);
	/* the USIM is ahead: it answers with AUTS for its SQN */
	aka_sqn_put(5000, sqn_ms);
	assert_int_equal(aka_auts_make(H.k, H.opc, raw, sqn_ms, auts), 0);
	assert_int_equal(ims_b64_encode(auts, 14, auts64, sizeof(auts64), NULL), 0);
	snprintf(auth, sizeof(auth),
		 "Authorization: Digest username=\"" IMPI "\", realm=\"" REALM "\", nonce=\"%s\", "
		 "uri=\"sip:" REALM "\", response=\"\", algorithm=AKAv1-MD5, auts=\"%s\"",
		 nonce, auts64);
	assert_int_equal(reg(auth, CONTACT, "call-2"), 401);
	/* TS 29.228 §6.3.3: the MAR carried RAND || AUTS */
	assert_int_equal(H.n_mar, 2);
	assert_true(H.last_had_resync);
	assert_memory_equal(H.last_resync, raw, 16);
	assert_memory_equal(H.last_resync + 16, auts, 14);
	uint8_t back[6];
	assert_int_equal(aka_auts_check(H.k, H.opc, H.last_resync, H.last_resync + 16, back), 0);
	assert_memory_equal(back, sqn_ms, 6);

	/* a wrong answer to the fresh challenge -> 403, and the HSS forgets
	 * us for this user (SAR AUTHENTICATION_FAILURE, TS 29.228 §6.1.2) */
	ue_auth(auth, sizeof(auth), "00000001", 1);
	assert_int_equal(reg(auth, CONTACT, "call-2"), 403);
	assert_int_equal(H.n_sar, 1);
	assert_int_equal(H.last_sat, CX_SAT_AUTHENTICATION_FAILURE);
	/* a nonce the S-CSCF never issued -> a fresh challenge */
	assert_int_equal(reg("Authorization: Digest username=\"" IMPI "\", realm=\"" REALM
			     "\", nonce=\"AAAA\", uri=\"sip:" REALM "\", response=\"0123456789abcdef"
			     "0123456789abcdef\", algorithm=AKAv1-MD5",
			     CONTACT, "call-2"),
			 401);
}

static void test_hss_failures_answer_at_once(void **state)
{
	(void)state;
	H.mode = HSS_TIMEOUT;
	assert_int_equal(reg(NULL, CONTACT, "call-3"), 504);
	H.mode = HSS_UNREACHABLE;
	assert_int_equal(reg(NULL, CONTACT, "call-3"), 500);
	H.mode = HSS_UNKNOWN;
	assert_int_equal(reg(NULL, CONTACT, "call-3"), 403);
	H.mode = HSS_OK;
	assert_int_equal(reg(NULL, CONTACT, "call-3"), 401);
}

static void test_unanswered_challenge_times_out(void **state)
{
	(void)state;
	assert_int_equal(reg(NULL, CONTACT, "call-11"), 401);
	assert_int_equal(H.n_sar, 0);
	assert_int_equal(scscf_reg_expire_run(&H.ctx, scscf_now() + 5), 0);
	assert_int_equal(H.n_sar, 0);
	/* after nonce_ttl (30 s): SAR AUTHENTICATION_TIMEOUT, once */
	scscf_reg_expire_run(&H.ctx, scscf_now() + 31);
	assert_int_equal(H.n_sar, 1);
	assert_int_equal(H.last_sat, CX_SAT_AUTHENTICATION_TIMEOUT);
	scscf_reg_expire_run(&H.ctx, scscf_now() + 40);
	assert_int_equal(H.n_sar, 1);
}

static void test_too_brief_and_bad_contact(void **state)
{
	(void)state;
	assert_int_equal(reg(NULL, "Contact: <sip:" USER "@192.0.2.10:5070>;expires=30", "call-4"),
			 423);
	assert_non_null(strstr(H.rsp, "Min-Expires: 60"));
	assert_int_equal(reg(NULL, "Contact: <sip:" USER "@192.0.2.10:5070>;expires=x", "call-4"),
			 400);
	assert_int_equal(reg(NULL, "Contact: *", "call-4"), 400); /* "*" needs Expires: 0 */
	assert_int_equal(H.n_mar, 0);
}

static void test_too_many_contacts(void **state)
{
	(void)state;
	char auth[1024];
	load_user_data();
	assert_int_equal(reg(NULL, CONTACT, "call-12"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth,
			     "Contact: <sip:a@192.0.2.10:5070>, <sip:b@192.0.2.10:5070>, "
			     "<sip:c@192.0.2.10:5070>",
			     "call-12"),
			 200);
	ue_auth(auth, sizeof(auth), "00000002", 0);
	assert_int_equal(reg(auth, "Contact: <sip:d@192.0.2.10:5070>", "call-12b"), 403);
	assert_non_null(strstr(H.rsp, "403 Too Many Registrations"));
	/* replacing one is fine */
	ue_auth(auth, sizeof(auth), "00000003", 0);
	assert_int_equal(reg(auth, "Contact: <sip:a@192.0.2.10:5070>;expires=0, <sip:d@192.0.2.10:5070>",
			     "call-12"),
			 200);
}

static void test_md5_register(void **state)
{
	(void)state;
	char auth[1024];
	load_user_data();
	H.md5 = 1;
	/* the algorithm of the (empty) credentials picks the scheme */
	assert_int_equal(reg("Authorization: Digest username=\"" IMPI "\", realm=\"" REALM
			     "\", nonce=\"\", uri=\"sip:" REALM "\", response=\"\", algorithm=MD5",
			     CONTACT, "call-5"),
			 401);
	assert_string_equal(H.last_scheme, "SIP Digest");
	assert_non_null(strstr(H.rsp, "algorithm=MD5"));
	assert_null(strstr(H.rsp, "ck="));
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, CONTACT, "call-5"), 200);
	assert_int_equal(H.last_sat, CX_SAT_REGISTRATION);
}

/* A SUBSCRIBE from the P-CSCF (its host is on the Path) or a stranger. */
static int subscribe(const char *pai, const char *expires, const char *to_tag, int cseq)
{
	char buf[2048];
	sip_tp_peer_t src;
	static int branch;
	memset(&src, 0, sizeof(src));
	src.proto = SIP_TP_UDP;
	assert_int_equal(sip_tp_addr_set(&src.addr, IMS_STR("10.0.0.9"), 5060), 0);
	snprintf(buf, sizeof(buf),
		 "SUBSCRIBE " IMPU " SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKsub%d\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:pcscf." REALM ":5060>;tag=p1\r\n"
		 "To: <" IMPU ">%s%s\r\n"
		 "Call-ID: sub-1\r\n"
		 "CSeq: %d SUBSCRIBE\r\n"
		 "P-Asserted-Identity: <%s>\r\n"
		 "Contact: <sip:10.0.0.9:5060>\r\n"
		 "Event: reg\r\n"
		 "Expires: %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 ++branch, to_tag ? ";tag=" : "", to_tag ? to_tag : "", cseq, pai, expires);
	H.status = 0;
	assert_int_equal(sip_proxy_test_inject(H.p, buf, strlen(buf), &src), 0);
	for (int i = 0; i < 10; i++)
		sip_proxy_test_run(H.p);
	return H.status;
}

static void test_reg_event_from_pcscf(void **state)
{
	(void)state;
	char auth[1024], tag[64];
	const char *t, *e;
	load_user_data();
	assert_int_equal(reg(NULL, CONTACT, "call-6"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, CONTACT, "call-6"), 200);

	/* TS 24.229 §5.4.2.1.1: neither the user nor its P-CSCF -> 403 */
	assert_int_equal(subscribe("sip:mallory@example.org", "600", NULL, 1), 403);
	assert_int_equal(scscf_regevent_count(&H.ctx), 0);

	/* the P-CSCF of the Path: 200, then the full state (version 0) */
	H.n_notify = 0;
	assert_int_equal(subscribe("sip:pcscf." REALM, "600", NULL, 2), 200);
	assert_non_null(strstr(H.rsp, "Expires: 600"));
	assert_int_equal(scscf_regevent_count(&H.ctx), 1);
	assert_int_equal(H.n_notify, 1);
	assert_non_null(strstr(H.notify, "NOTIFY sip:10.0.0.9:5060 SIP/2.0"));
	assert_non_null(strstr(H.notify, "Subscription-State: active;expires="));
	assert_non_null(strstr(H.notify, "Content-Type: application/reginfo+xml"));
	assert_non_null(strstr(H.notify, "version=\"0\" state=\"full\""));
	assert_non_null(strstr(H.notify, "aor=\"tel:+15550000001\""));

	/* the UE de-registers: partial NOTIFY v1, subscription terminated */
	t = strstr(H.rsp, "To: ");
	assert_non_null(t);
	t = strstr(t, "tag=");
	assert_non_null(t);
	e = strstr(t, "\r\n");
	snprintf(tag, sizeof(tag), "%.*s", (int)(e - t - 4), t + 4);
	assert_int_equal(reg(NULL, "Contact: *\r\nExpires: 0", "call-6"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, "Contact: *\r\nExpires: 0", "call-6"), 200);
	for (int i = 0; i < 5; i++)
		sip_proxy_test_run(H.p);
	assert_int_equal(H.n_notify, 2);
	assert_non_null(strstr(H.notify, "Subscription-State: terminated;reason=deactivated"));
	assert_non_null(strstr(H.notify, "version=\"1\" state=\"partial\""));
	assert_non_null(strstr(H.notify, "event=\"unregistered\""));
	assert_int_equal(scscf_regevent_count(&H.ctx), 0);
	/* a refresh of the ended dialog: 481 */
	assert_int_equal(subscribe("sip:pcscf." REALM, "600", tag, 3), 481);
}

static void test_reg_event_subscription_expires(void **state)
{
	(void)state;
	char auth[1024];
	load_user_data();
	assert_int_equal(reg(NULL, CONTACT, "call-7"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, CONTACT, "call-7"), 200);
	H.n_notify = 0;
	assert_int_equal(subscribe("sip:pcscf." REALM, "100", NULL, 1), 200);
	assert_int_equal(H.n_notify, 1);
	/* nothing before its time, then a terminated NOTIFY (RFC 6665 §4.2.2) */
	assert_int_equal(scscf_regevent_expire(&H.ctx, scscf_now() + 50), 0);
	assert_int_equal(scscf_regevent_expire(&H.ctx, scscf_now() + 101), 1);
	for (int i = 0; i < 5; i++)
		sip_proxy_test_run(H.p);
	assert_int_equal(H.n_notify, 2);
	assert_non_null(strstr(H.notify, "Subscription-State: terminated;reason=timeout"));
	assert_int_equal(scscf_regevent_count(&H.ctx), 0);
	/* binding expiry on the same (virtual) time line: SAR TIMEOUT_DEREGISTRATION */
	H.n_sar = 0;
	assert_int_equal(scscf_reg_expire_run(&H.ctx, scscf_now() + 601), 1);
	assert_int_equal(H.n_sar, 1);
	assert_int_equal(H.last_sat, CX_SAT_TIMEOUT_DEREGISTRATION);
	assert_int_equal(scscf_reg_store_state(H.ctx.store, IMS_STR(IMPU), scscf_now() + 601),
			 SCSCF_REG_NOT_REGISTERED);
}

/* Subscriptions written through to SQLite come back after a restart and
 * the dialog goes on (CSeq and version continue). */
static void test_reg_event_subscription_survives_restart(void **state)
{
	(void)state;
	char auth[1024], path[] = "/tmp/test_scscf_regsub_XXXXXX", side[64];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	scscf_regevent_destroy(H.ctx.regevent);
	assert_int_equal(scscf_regevent_create(path, &H.ctx.regevent), 0);
	load_user_data();
	assert_int_equal(reg(NULL, CONTACT, "call-9"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, CONTACT, "call-9"), 200);
	H.n_notify = 0;
	assert_int_equal(subscribe("sip:pcscf." REALM, "600", NULL, 1), 200);
	assert_int_equal(H.n_notify, 1);
	assert_non_null(strstr(H.notify, "CSeq: 1 NOTIFY"));

	/* "restart": a new table from the same file */
	scscf_regevent_destroy(H.ctx.regevent);
	H.ctx.regevent = NULL;
	assert_int_equal(scscf_regevent_create(path, &H.ctx.regevent), 0);
	assert_int_equal(scscf_regevent_count(&H.ctx), 1);

	assert_int_equal(reg(NULL, "Contact: *\r\nExpires: 0", "call-9"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, "Contact: *\r\nExpires: 0", "call-9"), 200);
	for (int i = 0; i < 5; i++)
		sip_proxy_test_run(H.p);
	assert_int_equal(H.n_notify, 2);
	assert_non_null(strstr(H.notify, "CSeq: 2 NOTIFY"));
	assert_non_null(strstr(H.notify, "version=\"1\" state=\"partial\""));
	assert_non_null(strstr(H.notify, "Call-ID: sub-1"));
	assert_non_null(strstr(H.notify, ";tag=p1"));
	/* ended, and gone from the file as well */
	scscf_regevent_destroy(H.ctx.regevent);
	H.ctx.regevent = NULL;
	assert_int_equal(scscf_regevent_create(path, &H.ctx.regevent), 0);
	assert_int_equal(scscf_regevent_count(&H.ctx), 0);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* TS 24.229 §5.4.1.2.1: a re-registration the P-CSCF marks integrity
 * protected needs no new challenge; an initial one does. */
static void test_integrity_protected_reregistration(void **state)
{
	(void)state;
	char auth[1024];
	const char *ip = "Authorization: Digest username=\"" IMPI "\", realm=\"" REALM "\", "
			 "nonce=\"\", uri=\"sip:" REALM "\", response=\"\", integrity-protected=\"yes\"";
	load_user_data();
	assert_int_equal(reg(ip, CONTACT, "call-8"), 401); /* not registered yet */
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, CONTACT, "call-8"), 200);
	int mars = H.n_mar;
	assert_int_equal(reg(ip, CONTACT, "call-8"), 200);
	assert_int_equal(H.n_mar, mars); /* no MAR */
	assert_int_equal(H.last_sat, CX_SAT_RE_REGISTRATION);
	/* "no" is not enough */
	const char *no = "Authorization: Digest username=\"" IMPI "\", realm=\"" REALM "\", "
			 "nonce=\"\", uri=\"sip:" REALM "\", response=\"\", integrity-protected=\"no\"";
	assert_int_equal(reg(no, CONTACT, "call-8"), 401);
}

/* TS 29.228 §6.1.3 / TS 24.229 §5.4.1.5: RTR removes the implicit set
 * named by User-Name (or by Public-Identity) and subscribers hear of it. */
static void test_rtr_and_ppr_handlers(void **state)
{
	(void)state;
	char auth[1024];
	cx_req_t req;
	cx_answer_t ans;
	ims_arena_t *a = ims_arena_create(4096);
	load_user_data();
	assert_int_equal(reg(NULL, CONTACT, "call-10"), 401);
	ue_auth(auth, sizeof(auth), "00000001", 0);
	assert_int_equal(reg(auth, CONTACT, "call-10"), 200);
	H.n_notify = 0;
	assert_int_equal(subscribe("sip:pcscf." REALM, "600", NULL, 1), 200);
	assert_int_equal(H.n_notify, 1);

	/* PPR with new User-Data for a registered user */
	memset(&req, 0, sizeof(req));
	memset(&ans, 0, sizeof(ans));
	req.user_name = IMS_STR(IMPI);
	req.user_data = ims_str_from(user_data, user_data_len);
	scscf_cx_on_ppr(&H.ctx, &req, &ans, a);
	assert_int_equal(ans.result_code, CX_DIAMETER_SUCCESS);
	/* ... and for someone we do not serve */
	memset(&ans, 0, sizeof(ans));
	req.user_name = IMS_STR("nobody@" REALM);
	scscf_cx_on_ppr(&H.ctx, &req, &ans, a);
	assert_int_equal(ans.exp_result_code, CX_DIAMETER_ERROR_USER_UNKNOWN);

	/* RTR by User-Name only, PERMANENT_TERMINATION */
	memset(&req, 0, sizeof(req));
	memset(&ans, 0, sizeof(ans));
	req.user_name = IMS_STR(IMPI);
	req.has_dereg = 1;
	req.dereg_code = CX_REASON_PERMANENT_TERMINATION;
	scscf_cx_on_rtr(&H.ctx, &req, &ans, a);
	assert_int_equal(ans.result_code, CX_DIAMETER_SUCCESS);
	assert_int_equal(scscf_reg_store_state(H.ctx.store, IMS_STR("tel:+15550000001"), scscf_now()),
			 SCSCF_REG_NOT_REGISTERED);
	for (int i = 0; i < 5; i++)
		sip_proxy_test_run(H.p);
	assert_int_equal(H.n_notify, 2);
	assert_non_null(strstr(H.notify, "Subscription-State: terminated;reason=rejected"));
	assert_non_null(strstr(H.notify, "event=\"rejected\""));
	assert_int_equal(scscf_regevent_count(&H.ctx), 0);
	ims_arena_destroy(a);
}

static void test_other_requests_without_session_side(void **state)
{
	(void)state;
	char buf[1024];
	sip_tp_peer_t src;
	memset(&src, 0, sizeof(src));
	src.proto = SIP_TP_UDP;
	assert_int_equal(sip_tp_addr_set(&src.addr, IMS_STR("192.0.2.10"), 5070), 0);
	snprintf(buf, sizeof(buf),
		 "MESSAGE sip:bob@" REALM " SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKm1\r\n"
		 "Max-Forwards: 70\r\nFrom: <" IMPU ">;tag=a\r\nTo: <sip:bob@" REALM ">\r\n"
		 "Call-ID: m1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n");
	H.status = 0;
	assert_int_equal(sip_proxy_test_inject(H.p, buf, strlen(buf), &src), 0);
	sip_proxy_test_run(H.p);
	assert_int_equal(H.status, 501);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aka_register_reregister_deregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auts_resync_and_wrong_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hss_failures_answer_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_challenge_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_brief_and_bad_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_contacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_md5_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_event_from_pcscf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_event_subscription_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_integrity_protected_reregistration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_event_subscription_survives_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rtr_and_ppr_handlers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_requests_without_session_side, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
