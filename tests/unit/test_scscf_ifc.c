/* scscf/ifc-eval: trigger point evaluation (TS 29.228 Annex B.2.2, Annex C).
 * Each case wraps a TriggerPoint in a one-iFC profile and evaluates it
 * against a request view. */
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
#include "../../scscf/ifc-eval.h"
#include "../../scscf/profile.h"

#define SPT(g, body) "<SPT><Group>" #g "</Group>" body "</SPT>"
#define NSPT(g, body) "<SPT><ConditionNegated>1</ConditionNegated><Group>" #g "</Group>" body "</SPT>"
#define TP(cnf, spts) "<TriggerPoint><ConditionTypeCNF>" #cnf "</ConditionTypeCNF>" spts "</TriggerPoint>"

static scscf_profile_t *profile_with(const char *ifcs)
{
	char *xml = malloc(64 * 1024);
	assert_non_null(xml);
	int n = snprintf(xml, 64 * 1024,
			 "<IMSSubscription><PrivateID>a@ims.example</PrivateID><ServiceProfile>"
			 "<PublicIdentity><Identity>sip:a@ims.example</Identity></PublicIdentity>"
			 "%s</ServiceProfile></IMSSubscription>",
			 ifcs);
	scscf_profile_t *p = NULL;
	scscf_profile_err_t err;
	int rc = scscf_profile_load(xml, (size_t)n, &p, &err);
	if (rc)
		fail_msg("load: %s: %s", err.where, err.reason);
	free(xml);
	return p;
}

static char ifc_buf[16 * 1024];
static const char *one_ifc(const char *trigger, const char *extra)
{
	snprintf(ifc_buf, sizeof(ifc_buf),
		 "<InitialFilterCriteria><Priority>0</Priority>%s"
		 "<ApplicationServer><ServerName>sip:as@ims.example</ServerName></ApplicationServer>%s"
		 "</InitialFilterCriteria>",
		 trigger, extra ? extra : "");
	return ifc_buf;
}

static const scscf_hdr_view_t hdrs_plain[] = {
	{ IMS_STR("Via"), IMS_STR("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1") },
	{ IMS_STR("Subject"), IMS_STR("an urgent call") },
	{ IMS_STR("P-Preferred-Service"), IMS_STR("urn:urn-7:3gpp-service.ims.icsi.mmtel") },
	{ IMS_STR("Accept-Contact"), IMS_STR("*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"") },
};

static const scscf_hdr_view_t hdrs_compact[] = {
	{ IMS_STR("s"), IMS_STR("casual") },
};

static const scscf_hdr_view_t hdrs_compact_urgent[] = {
	{ IMS_STR("s"), IMS_STR("urgent!") },
};

static const char sdp_audio_video[] =
	"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	"m=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\n";
static const char sdp_audio[] = "v=0\nm=audio 4000 RTP/AVP 0\n"; /* bare LF lines */

typedef struct ifc_case {
	const char *name;
	const char *trigger;
	const char *extra;              /* after ApplicationServer (ProfilePartIndicator) */
	const char *method, *ruri;
	const scscf_hdr_view_t *hdrs;
	unsigned n_hdrs;
	const char *ctype, *body;
	scscf_session_case_t sc;
	int registered;
	int reg_type;
	int want;
} ifc_case_t;

#define H(a) a, (unsigned)(sizeof(a) / sizeof(a[0]))
#define NOH NULL, 0

static const ifc_case_t cases[] = {
	/* Method: exact and case-sensitive (RFC 3261 §7.1). */
	{ "method_match", TP(0, SPT(0, "<Method>INVITE</Method>")), NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 1 },
	{ "method_other", TP(0, SPT(0, "<Method>INVITE</Method>")), NULL, "MESSAGE", "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 0 },
	{ "method_case", TP(0, SPT(0, "<Method>INVITE</Method>")), NULL, "invite", "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 0 },
	/* Request-URI regex (search, not full match). */
	{ "ruri_regex", TP(0, SPT(0, "<RequestURI>voicemail@.*example</RequestURI>")), NULL, "INVITE",
	  "sip:voicemail@ims.example", NOH, NULL, NULL, 0, 1, 0, 1 },
	{ "ruri_anchored_miss", TP(0, SPT(0, "<RequestURI>^tel:</RequestURI>")), NULL, "INVITE",
	  "sip:tel:@x", NOH, NULL, NULL, 0, 1, 0, 0 },
	{ "ruri_anchor_end", TP(0, SPT(0, "<RequestURI>example$</RequestURI>")), NULL, "INVITE",
	  "sip:b@ims.example", NOH, NULL, NULL, 0, 1, 0, 1 },
	/* SIP-Header: presence, content regex, compact name, absent header. */
	{ "hdr_presence", TP(0, SPT(0, "<SIPHeader><Header>P-Preferred-Service</Header></SIPHeader>")), NULL,
	  "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 1 },
	{ "hdr_presence_case", TP(0, SPT(0, "<SIPHeader><Header>p-preferred-service</Header></SIPHeader>")), NULL,
	  "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 1 },
	{ "hdr_absent", TP(0, SPT(0, "<SIPHeader><Header>Privacy</Header></SIPHeader>")), NULL,
	  "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 0 },
	{ "hdr_content", TP(0, SPT(0, "<SIPHeader><Header>Subject</Header><Content>urgent</Content></SIPHeader>")),
	  NULL, "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 1 },
	{ "hdr_content_miss", TP(0, SPT(0, "<SIPHeader><Header>Subject</Header><Content>^urgent</Content></SIPHeader>")),
	  NULL, "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 0 },
	{ "hdr_content_icsi", TP(0, SPT(0, "<SIPHeader><Header>Accept-Contact</Header><Content>3gpp-service\\.ims\\.icsi\\.mmtel</Content></SIPHeader>")),
	  NULL, "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 1 },
	{ "hdr_negated_absent", TP(0, NSPT(0, "<SIPHeader><Header>Privacy</Header></SIPHeader>")), NULL,
	  "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 1 },
	{ "hdr_negated_content", TP(0, NSPT(0, "<SIPHeader><Header>Subject</Header><Content>urgent</Content></SIPHeader>")),
	  NULL, "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 0 },
	/* Session-Case and its negation. */
	{ "sc_orig", TP(0, SPT(0, "<SessionCase>0</SessionCase>")), NULL, "INVITE", "sip:b@x", NOH, NULL, NULL,
	  SCSCF_SC_ORIGINATING, 1, 0, 1 },
	{ "sc_term_reg_vs_orig", TP(0, SPT(0, "<SessionCase>1</SessionCase>")), NULL, "INVITE", "sip:b@x", NOH,
	  NULL, NULL, SCSCF_SC_ORIGINATING, 1, 0, 0 },
	{ "sc_term_unreg", TP(0, SPT(0, "<SessionCase>2</SessionCase>")), NULL, "INVITE", "sip:b@x", NOH, NULL,
	  NULL, SCSCF_SC_TERMINATING_UNREGISTERED, 0, 0, 1 },
	{ "sc_orig_unreg", TP(0, SPT(0, "<SessionCase>3</SessionCase>")), NULL, "INVITE", "sip:b@x", NOH, NULL,
	  NULL, SCSCF_SC_ORIGINATING_UNREGISTERED, 0, 0, 1 },
	{ "sc_orig_cdiv", TP(0, SPT(0, "<SessionCase>4</SessionCase>")), NULL, "INVITE", "sip:b@x", NOH, NULL,
	  NULL, SCSCF_SC_ORIGINATING_CDIV, 1, 0, 1 },
	{ "sc_negated", TP(0, NSPT(0, "<SessionCase>0</SessionCase>")), NULL, "INVITE", "sip:b@x", NOH, NULL, NULL,
	  SCSCF_SC_TERMINATING_REGISTERED, 1, 0, 1 },
	/* Session-Description: line presence, content regex, CRLF and LF. */
	{ "sdp_video", TP(0, SPT(0, "<SessionDescription><Line>m</Line><Content>^video</Content></SessionDescription>")),
	  NULL, "INVITE", "sip:b@x", NOH, "application/sdp", sdp_audio_video, 0, 1, 0, 1 },
	{ "sdp_no_video", TP(0, SPT(0, "<SessionDescription><Line>m</Line><Content>^video</Content></SessionDescription>")),
	  NULL, "INVITE", "sip:b@x", NOH, "application/sdp", sdp_audio, 0, 1, 0, 0 },
	{ "sdp_line_presence", TP(0, SPT(0, "<SessionDescription><Line>c</Line></SessionDescription>")),
	  NULL, "INVITE", "sip:b@x", NOH, "application/SDP; charset=x", sdp_audio_video, 0, 1, 0, 1 },
	{ "sdp_lf_lines", TP(0, SPT(0, "<SessionDescription><Line>m</Line><Content>RTP/AVP 0$</Content></SessionDescription>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, sdp_audio, 0, 1, 0, 1 },
	{ "sdp_not_sdp_body", TP(0, SPT(0, "<SessionDescription><Line>m</Line></SessionDescription>")),
	  NULL, "MESSAGE", "sip:b@x", NOH, "text/plain", "m=audio 1 RTP/AVP 0\r\n", 0, 1, 0, 0 },
	{ "sdp_no_body", TP(0, SPT(0, "<SessionDescription><Line>m</Line></SessionDescription>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 0 },
	/* DNF: (INVITE AND ORIG) OR (MESSAGE). */
	{ "dnf_first_group", TP(0, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
				     SPT(1, "<Method>MESSAGE</Method>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, SCSCF_SC_ORIGINATING, 1, 0, 1 },
	{ "dnf_first_group_half", TP(0, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
					  SPT(1, "<Method>MESSAGE</Method>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, SCSCF_SC_TERMINATING_REGISTERED, 1, 0, 0 },
	{ "dnf_second_group", TP(0, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
				      SPT(1, "<Method>MESSAGE</Method>")),
	  NULL, "MESSAGE", "sip:b@x", NOH, NULL, NULL, SCSCF_SC_TERMINATING_REGISTERED, 1, 0, 1 },
	/* CNF with the same SPTs: (INVITE OR ORIG) AND (MESSAGE). */
	{ "cnf_needs_all_groups", TP(1, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
					  SPT(1, "<Method>MESSAGE</Method>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, SCSCF_SC_ORIGINATING, 1, 0, 0 },
	{ "cnf_or_inside_group", TP(1, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
					 SPT(1, "<Method>MESSAGE</Method>")),
	  NULL, "MESSAGE", "sip:b@x", NOH, NULL, NULL, SCSCF_SC_ORIGINATING, 1, 0, 1 },
	{ "cnf_or_inside_group_none", TP(1, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
					      SPT(1, "<Method>MESSAGE</Method>")),
	  NULL, "MESSAGE", "sip:b@x", NOH, NULL, NULL, SCSCF_SC_TERMINATING_REGISTERED, 1, 0, 0 },
	/* An SPT in two groups (CNF): (INVITE OR hdr) AND (hdr OR video). */
	{ "cnf_shared_spt", TP(1, SPT(0, "<Method>INVITE</Method>")
				     "<SPT><Group>0</Group><Group>1</Group><SIPHeader><Header>Subject</Header></SIPHeader></SPT>"
				     SPT(1, "<SessionDescription><Line>m</Line><Content>video</Content></SessionDescription>")),
	  NULL, "MESSAGE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 1 },
	{ "cnf_shared_spt_absent", TP(1, SPT(0, "<Method>INVITE</Method>")
					    "<SPT><Group>0</Group><Group>1</Group><SIPHeader><Header>Subject</Header></SIPHeader></SPT>"
					    SPT(1, "<SessionDescription><Line>m</Line><Content>video</Content></SessionDescription>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 0 },
	/* Groups need not be contiguous or ordered in the document. */
	{ "dnf_group_ids_sparse", TP(0, SPT(7, "<Method>INVITE</Method>") SPT(3, "<Method>BYE</Method>")
					SPT(7, "<RequestURI>@x$</RequestURI>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 1 },
	{ "dnf_group_ids_sparse_miss", TP(0, SPT(7, "<Method>INVITE</Method>") SPT(3, "<Method>BYE</Method>")
					     SPT(7, "<RequestURI>@y$</RequestURI>")),
	  NULL, "INVITE", "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 0 },
	/* The SPEC.md example: DNF, group 0 = INVITE, ORIG, NOT Subject~urgent. */
	{ "spec_example_urgent", TP(0, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
					   NSPT(0, "<SIPHeader><Header>Subject</Header><Content>urgent</Content></SIPHeader>")
					   SPT(1, "<RequestURI>sip:voicemail@.*</RequestURI>")),
	  NULL, "INVITE", "sip:b@x", H(hdrs_plain), NULL, NULL, 0, 1, 0, 0 },
	{ "spec_example_compact_subject", TP(0, SPT(0, "<Method>INVITE</Method>") SPT(0, "<SessionCase>0</SessionCase>")
						    NSPT(0, "<SIPHeader><Header>Subject</Header><Content>urgent</Content></SIPHeader>")),
	  NULL, "INVITE", "sip:b@x", H(hdrs_compact), NULL, NULL, 0, 1, 0, 1 },
	/* No TriggerPoint: always. */
	{ "no_trigger", "", NULL, "OPTIONS", "sip:b@x", NOH, NULL, NULL, SCSCF_SC_TERMINATING_UNREGISTERED, 0, 0, 1 },
	/* ProfilePartIndicator. */
	{ "ppi_registered_when_registered", "", "<ProfilePartIndicator>0</ProfilePartIndicator>", "INVITE", "sip:b@x",
	  NOH, NULL, NULL, 0, 1, 0, 1 },
	{ "ppi_registered_when_not", "", "<ProfilePartIndicator>0</ProfilePartIndicator>", "INVITE", "sip:b@x",
	  NOH, NULL, NULL, SCSCF_SC_TERMINATING_UNREGISTERED, 0, 0, 0 },
	{ "ppi_unregistered_when_not", "", "<ProfilePartIndicator>1</ProfilePartIndicator>", "INVITE", "sip:b@x",
	  NOH, NULL, NULL, SCSCF_SC_TERMINATING_UNREGISTERED, 0, 0, 1 },
	{ "ppi_unregistered_when_registered", "", "<ProfilePartIndicator>1</ProfilePartIndicator>", "INVITE",
	  "sip:b@x", NOH, NULL, NULL, 0, 1, 0, 0 },
	/* RegistrationType narrows a REGISTER trigger. */
	{ "regtype_initial", TP(0, SPT(0, "<Method>REGISTER</Method><Extension><RegistrationType>0</RegistrationType></Extension>")),
	  NULL, "REGISTER", "sip:ims.example", NOH, NULL, NULL, 0, 1, SCSCF_REGTYPE_INITIAL, 1 },
	{ "regtype_re_filtered", TP(0, SPT(0, "<Method>REGISTER</Method><Extension><RegistrationType>0</RegistrationType></Extension>")),
	  NULL, "REGISTER", "sip:ims.example", NOH, NULL, NULL, 0, 1, SCSCF_REGTYPE_RE, 0 },
	{ "regtype_any", TP(0, SPT(0, "<Method>REGISTER</Method>")),
	  NULL, "REGISTER", "sip:ims.example", NOH, NULL, NULL, 0, 1, SCSCF_REGTYPE_DE, 1 },
};

static void test_ifc_case_table(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const ifc_case_t *c = &cases[i];
		scscf_profile_t *p = profile_with(one_ifc(c->trigger, c->extra));
		scscf_ifc_req_t r = {
			.method = ims_str_cstr(c->method),
			.ruri = ims_str_cstr(c->ruri),
			.hdrs = c->hdrs,
			.n_hdrs = c->n_hdrs,
			.content_type = ims_str_cstr(c->ctype),
			.body = ims_str_cstr(c->body),
			.reg_type = c->reg_type,
		};
		int got = scscf_ifc_match(&p->sps[0].ifcs[0], &r, c->sc, c->registered);
		if (got != c->want) {
			fprintf(stderr, "case %s: got %d want %d\n", c->name, got, c->want);
			failed++;
		}
		scscf_profile_free(p);
	}
	assert_int_equal(failed, 0);
}

/* A compact header name on the wire ("s") matches the full name in the
 * iFC ("Subject") through the SIP header table. */
static void test_ifc_header_compact_form(void **state)
{
	(void)state;
	scscf_profile_t *p = profile_with(one_ifc(
		TP(0, SPT(0, "<SIPHeader><Header>Subject</Header><Content>urgent</Content></SIPHeader>")), NULL));
	scscf_ifc_req_t r = { .method = IMS_STR("INVITE"), .ruri = IMS_STR("sip:b@x"),
			      .hdrs = hdrs_compact_urgent, .n_hdrs = 1 };
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 1);
	r.hdrs = hdrs_compact;
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 0);
	scscf_profile_free(p);
}

/* Back-references are refused at compile time (worst-case exponential
 * matching); the iFC is marked invalid, an escaped backslash is fine. */
static void test_ifc_backref_is_invalid(void **state)
{
	(void)state;
	scscf_profile_t *p = profile_with(one_ifc(TP(0, SPT(0, "<RequestURI>(a)\\1</RequestURI>")), NULL));
	assert_int_equal(p->sps[0].ifcs[0].invalid, 1);
	scscf_profile_free(p);
	p = profile_with(one_ifc(TP(0, SPT(0, "<RequestURI>a\\\\1</RequestURI>")), NULL));
	assert_int_equal(p->sps[0].ifcs[0].invalid, 0);
	scscf_ifc_req_t r = { .method = IMS_STR("INVITE"), .ruri = IMS_STR("sip:a\\1@x") };
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 1);
	scscf_profile_free(p);
}

/* Patterns whose expansion would cost too much memory in regcomp are
 * refused; everyday ones pass. */
static void test_ifc_costly_regex_is_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *re;
		int invalid;
	} c[] = {
		{ "^sip:voicemail@.*\\.example$", 0 },
		{ "^tel:\\+1555[[:digit:]]{3,10}$", 0 },
		{ "^sip:(alice|bob|carol)@[^;]+(;.*)?$", 0 },
		{ "[]a-z]{2}x", 0 },
		{ "(a{200}){200}", 1 },
		{ "((a{20}){20}){20}", 1 },
		{ "a{1000}", 1 },
		{ "a++", 1 },
		{ "a*{2}", 1 },
		{ "a{2", 1 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char spt[256];
		snprintf(spt, sizeof(spt), TP(0, "<SPT><Group>0</Group><RequestURI>%s</RequestURI></SPT>"), c[i].re);
		scscf_profile_t *p = profile_with(one_ifc(spt, NULL));
		if (p->sps[0].ifcs[0].invalid != c[i].invalid)
			fail_msg("%s: invalid=%d", c[i].re, p->sps[0].ifcs[0].invalid);
		scscf_profile_free(p);
	}
	scscf_profile_t *p = profile_with(one_ifc(TP(0, SPT(0, "<RequestURI>^tel:\\+1555[[:digit:]]{3,10}$</RequestURI>")), NULL));
	scscf_ifc_req_t r = { .method = IMS_STR("INVITE"), .ruri = IMS_STR("tel:+15550001") };
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 1);
	scscf_profile_free(p);
}

/* The request view built from a parsed message: headers in wire order
 * (deleted ones skipped), the Content-Type and the SDP body. */
static void test_ifc_request_from_parsed_message(void **state)
{
	(void)state;
	static const char text[] =
		"INVITE sip:bob@ims.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
		"From: <sip:alice@ims.example>;tag=1\r\nTo: <sip:bob@ims.example>\r\n"
		"Call-ID: m1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
		"s: urgent call\r\n"
		"c: application/sdp\r\n"
		"Content-Length: 36\r\n\r\n"
		"v=0\r\nm=video 4002 RTP/AVP 96\r\nc=IN\r\n";
	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *m = NULL;
	assert_int_equal(sip_msg_parse(text, sizeof(text) - 1, a, &m, NULL), 0);
	scscf_ifc_req_t r;
	scscf_ifc_req_from_msg(m, &r);
	assert_true(ims_str_eq_c(r.method, "INVITE"));
	assert_true(ims_str_eq_c(r.ruri, "sip:bob@ims.example"));
	assert_true(ims_str_eq_c(r.content_type, "application/sdp"));
	scscf_profile_t *p = profile_with(one_ifc(
		TP(1, SPT(0, "<SIPHeader><Header>Subject</Header><Content>urgent</Content></SIPHeader>")
			      SPT(1, "<SessionDescription><Line>m</Line><Content>^video</Content></SessionDescription>")
				      SPT(2, "<RequestURI>^sip:bob@</RequestURI>")),
		NULL));
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 1);
	/* An edit that removes the header takes it out of the evaluation. */
	sip_msg_hdr_remove(m, sip_msg_hdr(m, SIP_HDR_SUBJECT));
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 0);
	scscf_profile_free(p);
	ims_arena_destroy(a);
}

/* Matching never reads past a view: the Request-URI is a slice of a
 * longer buffer whose tail would match. */
static void test_ifc_regex_respects_view_length(void **state)
{
	(void)state;
	scscf_profile_t *p = profile_with(one_ifc(TP(0, SPT(0, "<RequestURI>voicemail</RequestURI>")), NULL));
	const char buf[] = "sip:b@x SIP/2.0 voicemail";
	scscf_ifc_req_t r = { .method = IMS_STR("INVITE"), .ruri = ims_str_from(buf, 7) };
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 0);
	r.ruri = ims_str_from(buf, sizeof(buf) - 1);
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 1);
	/* Anchors apply to the view, not the buffer. */
	scscf_profile_free(p);
	p = profile_with(one_ifc(TP(0, SPT(0, "<RequestURI>x$</RequestURI>")), NULL));
	r.ruri = ims_str_from(buf, 7);
	assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 1);
	scscf_profile_free(p);
}

/* Priority order and continuation after a given iFC (the odi resume). */
static void test_ifc_priority_order_and_resume(void **state)
{
	(void)state;
	scscf_profile_t *p = profile_with(
		"<InitialFilterCriteria><Priority>30</Priority>"
		TP(0, SPT(0, "<Method>INVITE</Method>"))
		"<ApplicationServer><ServerName>sip:as30@x</ServerName></ApplicationServer></InitialFilterCriteria>"
		"<InitialFilterCriteria><Priority>10</Priority>"
		TP(0, SPT(0, "<Method>INVITE</Method>"))
		"<ApplicationServer><ServerName>sip:as10@x</ServerName></ApplicationServer></InitialFilterCriteria>"
		"<InitialFilterCriteria><Priority>20</Priority>"
		TP(0, SPT(0, "<Method>MESSAGE</Method>"))
		"<ApplicationServer><ServerName>sip:as20@x</ServerName></ApplicationServer></InitialFilterCriteria>"
		"<InitialFilterCriteria><Priority>40</Priority>"
		"<ApplicationServer><ServerName>sip:as40@x</ServerName></ApplicationServer></InitialFilterCriteria>");
	const scscf_service_profile_t *sp = &p->sps[0];
	scscf_ifc_req_t r = { .method = IMS_STR("INVITE"), .ruri = IMS_STR("sip:b@x") };
	int i = scscf_ifc_next(sp, 0, &r, SCSCF_SC_ORIGINATING, 1);
	assert_int_equal(i, 0);
	assert_true(ims_str_eq_c(sp->ifcs[i].as.server_name, "sip:as10@x"));
	i = scscf_ifc_next(sp, (unsigned)i + 1, &r, SCSCF_SC_ORIGINATING, 1);
	assert_true(ims_str_eq_c(sp->ifcs[i].as.server_name, "sip:as30@x"));
	i = scscf_ifc_next(sp, (unsigned)i + 1, &r, SCSCF_SC_ORIGINATING, 1);
	assert_true(ims_str_eq_c(sp->ifcs[i].as.server_name, "sip:as40@x"));
	assert_int_equal(scscf_ifc_next(sp, (unsigned)i + 1, &r, SCSCF_SC_ORIGINATING, 1), -1);
	assert_int_equal(scscf_ifc_next(sp, 99, &r, SCSCF_SC_ORIGINATING, 1), -1);
	assert_int_equal(scscf_ifc_next(NULL, 0, &r, SCSCF_SC_ORIGINATING, 1), -1);
	r.method = IMS_STR("MESSAGE");
	i = scscf_ifc_next(sp, 0, &r, SCSCF_SC_ORIGINATING, 1);
	assert_true(ims_str_eq_c(sp->ifcs[i].as.server_name, "sip:as20@x"));
	scscf_profile_free(p);
}

/* Equal priorities keep document order. */
static void test_ifc_equal_priority_is_stable(void **state)
{
	(void)state;
	scscf_profile_t *p = profile_with(
		"<InitialFilterCriteria><Priority>5</Priority>"
		"<ApplicationServer><ServerName>sip:first@x</ServerName></ApplicationServer></InitialFilterCriteria>"
		"<InitialFilterCriteria><Priority>5</Priority>"
		"<ApplicationServer><ServerName>sip:second@x</ServerName></ApplicationServer></InitialFilterCriteria>"
		"<InitialFilterCriteria><Priority>1</Priority>"
		"<ApplicationServer><ServerName>sip:zeroth@x</ServerName></ApplicationServer></InitialFilterCriteria>");
	assert_true(ims_str_eq_c(p->sps[0].ifcs[0].as.server_name, "sip:zeroth@x"));
	assert_true(ims_str_eq_c(p->sps[0].ifcs[1].as.server_name, "sip:first@x"));
	assert_true(ims_str_eq_c(p->sps[0].ifcs[2].as.server_name, "sip:second@x"));
	scscf_profile_free(p);
}

/* One compiled profile is evaluated by many threads: evaluation must not
 * write to it. Evaluate the same iFC many times and compare results. */
static void test_ifc_evaluation_is_repeatable(void **state)
{
	(void)state;
	scscf_profile_t *p = profile_with(one_ifc(
		TP(1, SPT(0, "<Method>INVITE</Method>") SPT(1, "<RequestURI>^sip:</RequestURI>")
			      NSPT(2, "<SIPHeader><Header>Privacy</Header></SIPHeader>")),
		NULL));
	scscf_ifc_req_t r = { .method = IMS_STR("INVITE"), .ruri = IMS_STR("sip:b@x"), .hdrs = hdrs_plain,
			      .n_hdrs = 4 };
	for (int i = 0; i < 1000; i++)
		assert_int_equal(scscf_ifc_match(&p->sps[0].ifcs[0], &r, 0, 1), 1);
	scscf_profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifc_case_table),
		cmocka_unit_test(test_ifc_header_compact_form),
		cmocka_unit_test(test_ifc_request_from_parsed_message),
		cmocka_unit_test(test_ifc_backref_is_invalid),
		cmocka_unit_test(test_ifc_costly_regex_is_invalid),
		cmocka_unit_test(test_ifc_regex_respects_view_length),
		cmocka_unit_test(test_ifc_priority_order_and_resume),
		cmocka_unit_test(test_ifc_equal_priority_is_stable),
		cmocka_unit_test(test_ifc_evaluation_is_repeatable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
