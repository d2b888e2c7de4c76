/* scscf session side: odi table, routing rules (TS 24.229 §5.4.3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"
#include "../../scscf/profile.h"
#include "../../scscf/session-odi.h"
#include "../../scscf/session-rules.h"
#include "../../scscf/isc-register.h"

/* ---- odi table ---------------------------------------------------------- */

static scscf_odi_info_t sample_info(void)
{
	scscf_odi_info_t in = {
		.served_user = IMS_STR("sip:alice@ims.example"),
		.session_case = SCSCF_SC_TERMINATING_REGISTERED,
		.registered = 1,
		.next_ifc = 2,
		.sp_index = 0,
		.ruri = IMS_STR("sip:alice@ims.example"),
		.call_id = IMS_STR("abc@host"),
		.orig_ruri = IMS_STR("tel:+15550001"),
	};
	return in;
}

static void test_odi_put_get_roundtrip(void **state)
{
	(void)state;
	scscf_odi_table_t *t;
	assert_int_equal(scscf_odi_table_create(60, 0, &t), 0);
	scscf_odi_info_t in = sample_info();
	char tok[SCSCF_ODI_TOKEN_LEN + 1], tok2[SCSCF_ODI_TOKEN_LEN + 1];
	assert_int_equal(scscf_odi_put(t, &in, 1000, tok), 0);
	assert_int_equal(strlen(tok), SCSCF_ODI_TOKEN_LEN);
	assert_int_equal(scscf_odi_put(t, &in, 1000, tok2), 0);
	assert_string_not_equal(tok, tok2); /* random, not a counter */
	assert_int_equal(scscf_odi_was_returned(t, ims_str_cstr(tok)), 0);
	assert_int_equal(scscf_odi_count(t), 2);

	ims_arena_t *a = ims_arena_create(512);
	scscf_odi_info_t out;
	assert_int_equal(scscf_odi_get(t, ims_str_cstr(tok), 1010, a, &out), 0);
	assert_true(ims_str_eq_c(out.served_user, "sip:alice@ims.example"));
	assert_int_equal(out.session_case, SCSCF_SC_TERMINATING_REGISTERED);
	assert_int_equal(out.next_ifc, 2);
	assert_int_equal(out.registered, 1);
	assert_true(ims_str_eq_c(out.call_id, "abc@host"));
	assert_true(ims_str_eq_c(out.orig_ruri, "tel:+15550001"));
	/* A second lookup works too (a forking AS returns twice). */
	assert_int_equal(scscf_odi_get(t, ims_str_cstr(tok), 1011, a, &out), 0);
	/* The lookup marks the token as come back; the other one is not. */
	assert_int_equal(scscf_odi_was_returned(t, ims_str_cstr(tok)), 1);
	assert_int_equal(scscf_odi_was_returned(t, ims_str_cstr(tok2)), 0);
	assert_int_equal(scscf_odi_was_returned(t, IMS_STR("nope")), 0);

	/* Unknown, wrong length, removed. */
	char bad[SCSCF_ODI_TOKEN_LEN + 1];
	memcpy(bad, tok, sizeof(bad));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	assert_int_equal(scscf_odi_get(t, ims_str_cstr(bad), 1010, a, &out), IMS_ENOENT);
	assert_int_equal(scscf_odi_get(t, IMS_STR("short"), 1010, a, &out), IMS_ENOENT);
	assert_int_equal(scscf_odi_remove(t, ims_str_cstr(tok)), 0);
	assert_int_equal(scscf_odi_remove(t, ims_str_cstr(tok)), IMS_ENOENT);
	assert_int_equal(scscf_odi_get(t, ims_str_cstr(tok), 1010, a, &out), IMS_ENOENT);
	ims_arena_destroy(a);
	scscf_odi_table_destroy(t);
}

static void test_odi_entries_expire(void **state)
{
	(void)state;
	scscf_odi_table_t *t;
	assert_int_equal(scscf_odi_table_create(30, 0, &t), 0);
	scscf_odi_info_t in = sample_info();
	char tok[SCSCF_ODI_TOKEN_LEN + 1];
	assert_int_equal(scscf_odi_put(t, &in, 100, tok), 0);
	ims_arena_t *a = ims_arena_create(512);
	scscf_odi_info_t out;
	assert_int_equal(scscf_odi_get(t, ims_str_cstr(tok), 129, a, &out), 0);
	/* At the TTL the entry is gone (lazy on lookup). */
	assert_int_equal(scscf_odi_get(t, ims_str_cstr(tok), 130, a, &out), IMS_ENOENT);
	assert_int_equal(scscf_odi_count(t), 0);
	/* The sweep. */
	assert_int_equal(scscf_odi_put(t, &in, 200, tok), 0);
	assert_int_equal(scscf_odi_put(t, &in, 210, tok), 0);
	assert_int_equal(scscf_odi_expire(t, 235), 1);
	assert_int_equal(scscf_odi_count(t), 1);
	ims_arena_destroy(a);
	scscf_odi_table_destroy(t);
}

static void test_odi_table_bounds(void **state)
{
	(void)state;
	scscf_odi_table_t *t;
	assert_int_equal(scscf_odi_table_create(10, 2, &t), 0);
	scscf_odi_info_t in = sample_info();
	char tok[SCSCF_ODI_TOKEN_LEN + 1];
	assert_int_equal(scscf_odi_put(t, &in, 0, tok), 0);
	assert_int_equal(scscf_odi_put(t, &in, 0, tok), 0);
	assert_int_equal(scscf_odi_put(t, &in, 5, tok), IMS_ENOSPC);
	/* Once old entries expire, room is made on put. */
	assert_int_equal(scscf_odi_put(t, &in, 10, tok), 0);
	assert_int_equal(scscf_odi_count(t), 1);
	char big[SCSCF_ODI_MAX_STR + 2];
	memset(big, 'x', sizeof(big));
	in.ruri = ims_str_from(big, sizeof(big));
	assert_int_equal(scscf_odi_put(t, &in, 10, tok), IMS_ETOOBIG);
	scscf_odi_table_destroy(t);
}

/* ---- default handling ----------------------------------------------------- */

static void test_default_handling_decisions(void **state)
{
	(void)state;
	static const struct {
		scscf_default_handling_t dh;
		int status, prov;
		scscf_as_outcome_t want;
	} c[] = {
		{ SCSCF_DH_SESSION_CONTINUED, 0, 0, SCSCF_AS_CONTINUE },   /* no answer */
		{ SCSCF_DH_SESSION_CONTINUED, 408, 0, SCSCF_AS_CONTINUE },
		{ SCSCF_DH_SESSION_CONTINUED, 500, 0, SCSCF_AS_CONTINUE },
		{ SCSCF_DH_SESSION_CONTINUED, 503, 0, SCSCF_AS_CONTINUE },
		{ SCSCF_DH_SESSION_TERMINATED, 0, 0, SCSCF_AS_TERMINATE },
		{ SCSCF_DH_SESSION_TERMINATED, 504, 0, SCSCF_AS_TERMINATE },
		/* After a provisional the AS owns the outcome. */
		{ SCSCF_DH_SESSION_CONTINUED, 503, 1, SCSCF_AS_RELAY },
		{ SCSCF_DH_SESSION_TERMINATED, 408, 1, SCSCF_AS_RELAY },
		/* Not a failure: relayed. */
		{ SCSCF_DH_SESSION_CONTINUED, 486, 0, SCSCF_AS_RELAY },
		{ SCSCF_DH_SESSION_TERMINATED, 404, 0, SCSCF_AS_RELAY },
		{ SCSCF_DH_SESSION_TERMINATED, 200, 0, SCSCF_AS_RELAY },
		{ SCSCF_DH_SESSION_CONTINUED, 603, 0, SCSCF_AS_RELAY },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (scscf_session_as_failure(c[i].dh, c[i].status, c[i].prov) != c[i].want)
			fail_msg("case %zu: dh=%d status=%d prov=%d", i, c[i].dh, c[i].status, c[i].prov);
}

/* ---- resume after an AS (odi continuation) ----------------------------- */

static const scscf_impu_t alice_ids[] = {
	{ .identity = IMS_STR("sip:alice@ims.example") },
	{ .identity = IMS_STR("tel:+15550001") },
};
static const scscf_service_profile_t alice_sp = { .impus = (scscf_impu_t *)alice_ids, .n_impus = 2 };

static void test_resume_point(void **state)
{
	(void)state;
	scscf_resume_t r;
	/* Same target: continue after the iFC that fired. */
	scscf_session_resume_point(SCSCF_SC_TERMINATING_REGISTERED, 3, IMS_STR("sip:alice@ims.example"),
				   IMS_STR("sip:alice@ims.example;user=phone"), &alice_sp, &r);
	assert_int_equal(r.session_case, SCSCF_SC_TERMINATING_REGISTERED);
	assert_int_equal(r.next_ifc, 3);
	assert_int_equal(r.retargeted, 0);
	/* Terminating, retargeted to another identity of the served user. */
	scscf_session_resume_point(SCSCF_SC_TERMINATING_REGISTERED, 3, IMS_STR("sip:alice@ims.example"),
				   IMS_STR("tel:+15550001"), &alice_sp, &r);
	assert_int_equal(r.session_case, SCSCF_SC_TERMINATING_REGISTERED);
	assert_int_equal(r.next_ifc, 3);
	assert_int_equal(r.retargeted, 1);
	/* Terminating, diverted away: originating CDIV from the first iFC. */
	scscf_session_resume_point(SCSCF_SC_TERMINATING_UNREGISTERED, 1, IMS_STR("sip:alice@ims.example"),
				   IMS_STR("sip:voicemail@ims.example"), &alice_sp, &r);
	assert_int_equal(r.session_case, SCSCF_SC_ORIGINATING_CDIV);
	assert_int_equal(r.next_ifc, 0);
	assert_int_equal(r.retargeted, 1);
	/* Originating: a changed target just continues. */
	scscf_session_resume_point(SCSCF_SC_ORIGINATING, 2, IMS_STR("sip:bob@ims.example"),
				   IMS_STR("sip:carol@ims.example"), &alice_sp, &r);
	assert_int_equal(r.session_case, SCSCF_SC_ORIGINATING);
	assert_int_equal(r.next_ifc, 2);
	assert_int_equal(r.retargeted, 1);
}

/* ---- target ------------------------------------------------------------- */

static void test_target_classification(void **state)
{
	(void)state;
	ims_str_t realm = IMS_STR("ims.mnc001.mcc001.3gppnetwork.org");
	assert_int_equal(scscf_session_target(IMS_STR("sip:bob@ims.mnc001.mcc001.3gppnetwork.org"), realm,
					      IMS_STR_NULL), SCSCF_TARGET_HOME);
	assert_int_equal(scscf_session_target(IMS_STR("sip:bob@IMS.mnc001.mcc001.3gppnetwork.org:5060;transport=tcp"),
					      realm, IMS_STR_NULL), SCSCF_TARGET_HOME);
	assert_int_equal(scscf_session_target(IMS_STR("sip:bob@example.com"), realm, IMS_STR_NULL),
			 SCSCF_TARGET_FOREIGN);
	assert_int_equal(scscf_session_target(IMS_STR("tel:+15550000002"), realm, IMS_STR_NULL),
			 SCSCF_TARGET_HOME);
	assert_int_equal(scscf_session_target(IMS_STR("tel:+15550000002"), realm, IMS_STR("+1444, +1555")),
			 SCSCF_TARGET_HOME);
	assert_int_equal(scscf_session_target(IMS_STR("tel:+4930123"), realm, IMS_STR("+1444,+1555")),
			 SCSCF_TARGET_FOREIGN);
	assert_int_equal(scscf_session_target(IMS_STR("mailto:bob@x"), realm, IMS_STR_NULL),
			 SCSCF_TARGET_INVALID);
}

/* ---- building ----------------------------------------------------------- */

static void test_as_route(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(1024);
	ims_str_t v[2];
	assert_int_equal(scscf_session_as_route(a, IMS_STR("sip:as1.ims.example:5090"),
						IMS_STR("sip:scscf.ims.example:6060"), IMS_STR("0123abcd"), v), 0);
	assert_true(ims_str_eq_c(v[0], "<sip:as1.ims.example:5090;lr>"));
	assert_true(ims_str_eq_c(v[1], "<sip:scscf.ims.example:6060;lr;odi=0123abcd>"));
	/* ;lr already there; brackets around the server name. */
	assert_int_equal(scscf_session_as_route(a, IMS_STR("<sip:as1.ims.example;transport=tcp;lr>"),
						IMS_STR("sip:scscf.ims.example;lr"), IMS_STR("ff"), v), 0);
	assert_true(ims_str_eq_c(v[0], "<sip:as1.ims.example;transport=tcp;lr>"));
	assert_true(ims_str_eq_c(v[1], "<sip:scscf.ims.example;lr;odi=ff>"));
	/* "lrx" is not "lr". */
	assert_int_equal(scscf_session_as_route(a, IMS_STR("sip:as;lrx"), IMS_STR("sip:s"), IMS_STR("1"), v), 0);
	assert_true(ims_str_eq_c(v[0], "<sip:as;lrx;lr>"));
	assert_int_equal(scscf_session_as_route(a, IMS_STR("tel:+1555"), IMS_STR("sip:s"), IMS_STR("1"), v),
			 IMS_EINVAL);
	ims_arena_destroy(a);
}

static void test_service_info_body(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(2048);
	ims_str_t ct, body;
	assert_int_equal(scscf_session_service_info_body(a, IMS_STR("application/sdp"), IMS_STR("v=0\r\n"),
							 IMS_STR("a<b & \"c\""), &ct, &body), 0);
	assert_true(ims_str_eq_c(ct, "multipart/mixed;boundary=ims-scscf-boundary-0"));
	assert_non_null(strstr(body.s, "--ims-scscf-boundary-0\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n"));
	assert_non_null(strstr(body.s, "Content-Type: application/3gpp-ims+xml\r\n\r\n"));
	assert_non_null(strstr(body.s, "<service-info>a&lt;b &amp; &quot;c&quot;</service-info>"));
	assert_non_null(strstr(body.s, "\r\n--ims-scscf-boundary-0--\r\n"));
	/* No original body: one part. A body that contains the boundary
	 * makes us pick another. */
	assert_int_equal(scscf_session_service_info_body(a, IMS_STR_NULL, IMS_STR_NULL, IMS_STR("x"), &ct, &body), 0);
	assert_null(strstr(body.s, "application/sdp"));
	assert_int_equal(scscf_session_service_info_body(a, IMS_STR("text/plain"),
							 IMS_STR("--ims-scscf-boundary-0"), IMS_STR("x"), &ct, &body), 0);
	assert_true(ims_str_eq_c(ct, "multipart/mixed;boundary=ims-scscf-boundary-1"));
	ims_arena_destroy(a);
}

/* ---- classify ----------------------------------------------------------- */

static sip_msg_t *parse(ims_arena_t *a, const char *text)
{
	sip_msg_t *m = NULL;
	sip_parse_err_t err;
	if (sip_msg_parse(text, strlen(text), a, &m, &err))
		fail_msg("parse: %s", err.reason);
	return m;
}

#define HDRS_COMMON                                                         \
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"              \
	"From: <sip:alice@ims.example>;tag=1\r\n"                           \
	"Call-ID: c1\r\nMax-Forwards: 70\r\n"

static void test_classify(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(8192);
	ims_str_t own = IMS_STR("sip:scscf.ims.example:6060");
	scscf_classify_t c;

	/* Originating: our Route with orig; served user from the first PAI. */
	sip_msg_t *m = parse(a, "INVITE sip:bob@ims.example SIP/2.0\r\n" HDRS_COMMON "CSeq: 1 INVITE\r\n"
				"To: <sip:bob@ims.example>\r\n"
				"Route: <sip:scscf.ims.example:6060;lr;orig>\r\n"
				"P-Asserted-Identity: \"Alice\" <sip:alice@ims.example;user=phone>, <tel:+15550001>\r\n"
				"Content-Length: 0\r\n\r\n");
	assert_int_equal(scscf_session_classify(m, NULL, own, a, &c), 0);
	assert_int_equal(c.arrival, SCSCF_ARRIVAL_ORIGINATING);
	assert_int_equal(c.own_route, 1);
	assert_true(ims_str_eq_c(c.served_user, "sip:alice@ims.example"));

	/* Originating without PAI: refused. */
	m = parse(a, "INVITE sip:bob@ims.example SIP/2.0\r\n" HDRS_COMMON "CSeq: 1 INVITE\r\n" "To: <sip:bob@ims.example>\r\n"
		     "Route: <sip:scscf.ims.example:6060;lr;orig>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(scscf_session_classify(m, NULL, own, a, &c), IMS_ENOENT);

	/* Back from an AS: odi in our Route. */
	m = parse(a, "INVITE sip:bob@ims.example SIP/2.0\r\n" HDRS_COMMON "CSeq: 1 INVITE\r\n" "To: <sip:bob@ims.example>\r\n"
		     "Route: <sip:scscf.ims.example:6060;lr;odi=deadbeef>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(scscf_session_classify(m, NULL, own, a, &c), 0);
	assert_int_equal(c.arrival, SCSCF_ARRIVAL_ODI);
	assert_true(ims_str_eq_c(c.odi, "deadbeef"));

	/* Terminating: no Route of ours (someone else's Route is not ours). */
	m = parse(a, "INVITE sip:bob@ims.example;user=phone SIP/2.0\r\n" HDRS_COMMON "CSeq: 1 INVITE\r\n"
		     "To: <sip:bob@ims.example>\r\n"
		     "Route: <sip:scscf.ims.example:7070;lr;orig>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(scscf_session_classify(m, NULL, own, a, &c), 0);
	assert_int_equal(c.arrival, SCSCF_ARRIVAL_TERMINATING);
	assert_int_equal(c.own_route, 0);
	assert_true(ims_str_eq_c(c.served_user, "sip:bob@ims.example"));

	/* In dialog: To tag. */
	m = parse(a, "BYE sip:bob@127.0.0.1:5070 SIP/2.0\r\n" HDRS_COMMON "CSeq: 2 BYE\r\n"
		     "To: <sip:bob@ims.example>;tag=99\r\nRoute: <sip:scscf.ims.example:6060;lr>\r\n"
		     "Content-Length: 0\r\n\r\n");
	assert_int_equal(scscf_session_classify(m, NULL, own, a, &c), 0);
	assert_int_equal(c.arrival, SCSCF_ARRIVAL_IN_DIALOG);
	assert_int_equal(c.own_route, 1);

	/* The proxy core already removed our Route: it is passed in. */
	m = parse(a, "MESSAGE sip:bob@ims.example SIP/2.0\r\n" HDRS_COMMON "CSeq: 1 MESSAGE\r\n" "To: <sip:bob@ims.example>\r\n"
		     "P-Asserted-Identity: <tel:+15550001>\r\nContent-Length: 0\r\n\r\n");
	sip_nameaddr_t removed;
	assert_int_equal(sip_nameaddr_parse(IMS_STR("<sip:scscf.ims.example:6060;lr;orig>"), a, &removed), 0);
	assert_int_equal(scscf_session_classify(m, &removed, own, a, &c), 0);
	assert_int_equal(c.arrival, SCSCF_ARRIVAL_ORIGINATING);
	assert_true(ims_str_eq_c(c.served_user, "tel:+15550001"));
	ims_arena_destroy(a);
}

/* ---- third-party REGISTER (TS 24.229 §5.4.1.7) -------------------------- */

static const char reg_text[] =
	"REGISTER sip:ims.example SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-r1\r\n"
	"From: <sip:alice@ims.example>;tag=r1\r\nTo: <sip:alice@ims.example>\r\n"
	"Call-ID: reg1\r\nCSeq: 3 REGISTER\r\nMax-Forwards: 70\r\n"
	"Contact: <sip:alice@127.0.0.1:5070>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n";
static const char ok_text[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-r1\r\n"
	"From: <sip:alice@ims.example>;tag=r1\r\nTo: <sip:alice@ims.example>;tag=s1\r\n"
	"Call-ID: reg1\r\nCSeq: 3 REGISTER\r\n"
	"Contact: <sip:alice@127.0.0.1:5070>;expires=300, <sip:alice@127.0.0.1:5080>;expires=120\r\n"
	"Content-Length: 0\r\n\r\n";

/* The core adds our Via when sending; add one so the text parses back. */
static sip_msg_t *reparse(ims_arena_t *a, sip_msg_t *m)
{
	ims_str_t text;
	assert_non_null(sip_msg_hdr_add(m, SIP_HDR_VIA, IMS_STR_NULL,
					IMS_STR("SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bK-x"), SIP_POS_TOP));
	assert_int_equal(sip_msg_print_arena(m, a, &text), 0);
	return parse(a, text.s);
}

static void test_isc_third_party_register_build(void **state)
{
	(void)state;
	ims_arena_t *a = ims_arena_create(16384);
	sip_msg_t *req = parse(a, reg_text), *rsp = parse(a, ok_text), *m = NULL;
	assert_int_equal(scscf_isc_register_expires(rsp, 0), 300);
	scscf_as_t as = { .server_name = IMS_STR("sip:as1.ims.example:5090") };
	ims_str_t own = IMS_STR("sip:scscf.ims.example:6060");

	/* No body asked for. */
	assert_int_equal(scscf_isc_build_register(a, own, IMS_STR("sip:alice@ims.example"), &as, req, rsp,
						  300, IMS_STR("cid1"), IMS_STR("t1"), &m), 0);
	sip_msg_t *p = reparse(a, m);
	assert_true(ims_str_eq_c(p->ruri, "sip:as1.ims.example:5090"));
	assert_true(ims_str_eq_c(sip_msg_hdr(p, SIP_HDR_FROM)->value, "<sip:scscf.ims.example:6060>;tag=t1"));
	assert_true(ims_str_eq_c(sip_msg_hdr(p, SIP_HDR_TO)->value, "<sip:alice@ims.example>"));
	assert_true(ims_str_eq_c(sip_msg_hdr(p, SIP_HDR_CONTACT)->value, "<sip:scscf.ims.example:6060>"));
	assert_int_equal(p->expires, 300);
	assert_int_equal(p->cseq, 1);
	assert_int_equal(p->body.len, 0);

	/* Only the request: a message/sip body that is the REGISTER. */
	as.include_register_request = 1;
	assert_int_equal(scscf_isc_build_register(a, own, IMS_STR("sip:alice@ims.example"), &as, req, rsp,
						  300, IMS_STR("cid2"), IMS_STR("t2"), &m), 0);
	p = reparse(a, m);
	assert_true(ims_str_eq_c(sip_msg_hdr(p, SIP_HDR_CONTENT_TYPE)->value, "message/sip"));
	assert_true(ims_str_eq_c(p->body, reg_text));

	/* Request, response and ServiceInfo: multipart/mixed, three parts. */
	as.include_register_response = 1;
	as.has_service_info = 1;
	as.service_info = IMS_STR("<gold>");
	assert_int_equal(scscf_isc_build_register(a, own, IMS_STR("sip:alice@ims.example"), &as, req, rsp,
						  0, IMS_STR("cid3"), IMS_STR("t3"), &m), 0);
	p = reparse(a, m);
	assert_true(ims_str_eq_c(sip_msg_hdr(p, SIP_HDR_CONTENT_TYPE)->value,
				 "multipart/mixed;boundary=ims-isc-boundary-0"));
	assert_int_equal(p->expires, 0);
	assert_non_null(strstr(p->body.s, "Content-Type: message/sip\r\n\r\nREGISTER sip:ims.example"));
	assert_non_null(strstr(p->body.s, "Content-Type: message/sip\r\n\r\nSIP/2.0 200 OK"));
	assert_non_null(strstr(p->body.s, "<service-info>&lt;gold&gt;</service-info>"));
	assert_non_null(strstr(p->body.s, "--ims-isc-boundary-0--\r\n"));

	/* A tel: ServerName cannot be a Request-URI for REGISTER here. */
	as.server_name = IMS_STR("tel:+1555");
	assert_int_equal(scscf_isc_build_register(a, own, IMS_STR("sip:alice@ims.example"), &as, req, rsp,
						  0, IMS_STR("cid4"), IMS_STR("t4"), &m), IMS_EINVAL);
	ims_arena_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odi_put_get_roundtrip),
		cmocka_unit_test(test_odi_entries_expire),
		cmocka_unit_test(test_odi_table_bounds),
		cmocka_unit_test(test_default_handling_decisions),
		cmocka_unit_test(test_resume_point),
		cmocka_unit_test(test_target_classification),
		cmocka_unit_test(test_as_route),
		cmocka_unit_test(test_service_info_body),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_isc_third_party_register_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
