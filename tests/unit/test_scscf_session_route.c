/* scscf/session.c on the proxy core in test mode (no sockets): the
 * dispatcher hands non-REGISTER requests to the session side, whose
 * routing decisions are read from what the core "sends" (TS 24.229
 * §5.4.3.2 originating, §5.4.3.3 terminating, iFC/AS chaining with odi). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_clock.h"
#include "base/ims_err.h"
#include "cfg/ims_cfg.h"
#include "auth-nonce.h"
#include "context.h"
#include "cx-build.h"
#include "isc-register.h"
#include "profile.h"
#include "reg-handler.h"
#include "reg-store.h"
#include "regevent.h"
#include "session.h"
#include "sip/proxy/sip_proxy.h"

#define REALM "ims.example"
#define OWN "sip:scscf.ims.example:6060"
#define ALICE "sip:alice@ims.example"
#define BOB "sip:bob@ims.example"
#define CAROL "sip:carol@ims.example"
#define DAVE "sip:dave@ims.example"

#define MAX_SENT 16
static struct {
	scscf_ctx_t ctx;
	struct scscf_cx cx;
	ims_cfg_t *ycfg;
	sip_proxy_t *p;
	ims_vclock_t vc;
	char sent[MAX_SENT][4096];
	char dest[MAX_SENT][64];
	int n_sent;
	int branch;
} H;

static int tsend(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	(void)ud;
	if (H.n_sent < MAX_SENT) {
		assert_true(len < sizeof(H.sent[0]));
		memcpy(H.sent[H.n_sent], buf, len);
		H.sent[H.n_sent][len] = '\0';
		sip_tp_addr_str(&to->addr, H.dest[H.n_sent], sizeof(H.dest[0]));
		H.n_sent++;
	}
	return 0;
}

static void profile_free_cb(struct scscf_profile *p)
{
	scscf_profile_free((scscf_profile_t *)p);
}

/* Alice: an originating iFC to an AS (INVITE, session case 0) and a
 * SESSION_TERMINATED one for MESSAGE; a barred second identity. */
static const char alice_xml[] =
	"<IMSSubscription><PrivateID>alice@ims.example</PrivateID><ServiceProfile>"
	"<PublicIdentity><Identity>" ALICE "</Identity></PublicIdentity>"
	"<PublicIdentity><BarringIndication>1</BarringIndication><Identity>sip:alice-barred@ims.example</Identity></PublicIdentity>"
	"<InitialFilterCriteria><Priority>1</Priority><TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF>"
	"<SPT><Group>0</Group><Method>INVITE</Method></SPT><SPT><Group>0</Group><SessionCase>0</SessionCase></SPT>"
	"</TriggerPoint><ApplicationServer><ServerName>sip:192.0.2.50:5090</ServerName>"
	"<DefaultHandling>0</DefaultHandling></ApplicationServer></InitialFilterCriteria>"
	"<InitialFilterCriteria><Priority>2</Priority><TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF>"
	"<SPT><Group>0</Group><Method>MESSAGE</Method></SPT></TriggerPoint>"
	"<ApplicationServer><ServerName>sip:192.0.2.51:5090</ServerName>"
	"<DefaultHandling>1</DefaultHandling></ApplicationServer></InitialFilterCriteria>"
	"</ServiceProfile></IMSSubscription>";

/* Bob: no iFCs, two contacts (one behind a P-CSCF Path). */
static const char bob_xml[] =
	"<IMSSubscription><PrivateID>bob@ims.example</PrivateID><ServiceProfile>"
	"<PublicIdentity><Identity>" BOB "</Identity></PublicIdentity>"
	"<PublicIdentity><BarringIndication>1</BarringIndication><Identity>sip:bob-barred@ims.example</Identity></PublicIdentity>"
	"<PublicIdentity><Identity>tel:+4930555</Identity></PublicIdentity>"
	"</ServiceProfile></IMSSubscription>";

/* Dave: one REGISTER iFC per RegistrationType (TS 29.228 Annex B,
 * 0 INITIAL, 1 RE, 2 DE-REGISTRATION), one for any REGISTER, one for
 * INVITE. The AS hosts say which fired: .71 initial, .72 re, .73 de,
 * .74 any. */
#define REGTYPE_IFC(prio, type, host)                                                          \
	"<InitialFilterCriteria><Priority>" prio "</Priority><TriggerPoint>"                   \
	"<ConditionTypeCNF>0</ConditionTypeCNF><SPT><Group>0</Group><Method>REGISTER</Method>" \
	"<Extension><RegistrationType>" type "</RegistrationType></Extension></SPT>"           \
	"</TriggerPoint><ApplicationServer><ServerName>sip:" host ":5090</ServerName>"        \
	"</ApplicationServer></InitialFilterCriteria>"
static const char dave_xml[] =
	"<IMSSubscription><PrivateID>dave@ims.example</PrivateID><ServiceProfile>"
	"<PublicIdentity><Identity>" DAVE "</Identity></PublicIdentity>"
	REGTYPE_IFC("1", "0", "192.0.2.71") REGTYPE_IFC("2", "1", "192.0.2.72")
	REGTYPE_IFC("3", "2", "192.0.2.73")
	"<InitialFilterCriteria><Priority>4</Priority><TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF>"
	"<SPT><Group>0</Group><Method>REGISTER</Method></SPT></TriggerPoint>"
	"<ApplicationServer><ServerName>sip:192.0.2.74:5090</ServerName></ApplicationServer>"
	"</InitialFilterCriteria>"
	"<InitialFilterCriteria><Priority>5</Priority><TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF>"
	"<SPT><Group>0</Group><Method>INVITE</Method></SPT></TriggerPoint>"
	"<ApplicationServer><ServerName>sip:192.0.2.75:5090</ServerName></ApplicationServer>"
	"</InitialFilterCriteria>"
	"</ServiceProfile></IMSSubscription>";

/* The HSS is out of reach (expiry sends a SAR nobody answers). */
static int no_hss(const cx_req_t *req, unsigned timeout_ms, cx_answer_cb_t cb, void *arg)
{
	(void)req;
	(void)timeout_ms;
	(void)cb;
	(void)arg;
	return IMS_EIO;
}

static void add_registration(const char *impi, const char *impu, const char *xml,
			     const scscf_binding_t *b, size_t nb, const ims_str_t *impus, size_t ni)
{
	scscf_profile_t *prof = NULL;
	assert_int_equal(scscf_profile_load(xml, strlen(xml), &prof, NULL), 0);
	ims_arena_t *a = ims_arena_create(4096);
	scscf_reg_update_t upd = {
		.impi = ims_str_cstr(impi),
		.impu = ims_str_cstr(impu),
		.impus = impus,
		.n_impus = ni,
		.user_data = ims_str_cstr(xml),
		.profile = (struct scscf_profile *)prof,
		.contacts = b,
		.n_contacts = nb,
	};
	scscf_reg_change_t chg;
	assert_int_equal(scscf_reg_store_apply(H.ctx.store, &upd, scscf_now(), 0, a, &chg), 0);
	ims_arena_destroy(a);
}

static int setup(void **state)
{
	(void)state;
	char err[160];
	sip_tp_listen_t ls;
	memset(&H, 0, sizeof(H));
	ims_vclock_init(&H.vc, 0);
	static const char yaml[] = "session:\n"
				   "  icscf_uri: \"sip:192.0.2.40:4060\"\n"
				   "  home_tel_prefixes: \"+1555\"\n";
	H.ycfg = ims_cfg_parse(yaml, sizeof(yaml) - 1, "test", err, sizeof(err));
	assert_non_null(H.ycfg);
	H.ctx.ycfg = H.ycfg;
	H.ctx.cfg.realm = REALM;
	H.ctx.cfg.own_uri = OWN;
	H.cx.send = no_hss;
	H.ctx.cx = &H.cx;
	assert_int_equal(scscf_auth_table_create(30, &H.ctx.auth), 0);
	assert_int_equal(scscf_regevent_create(NULL, &H.ctx.regevent), 0);
	assert_int_equal(scscf_reg_store_open(":memory:", profile_free_cb, &H.ctx.store), 0);
	assert_int_equal(scscf_session_init(&H.ctx, err, sizeof(err)), 0);

	assert_int_equal(sip_tp_listen_parse("10.0.0.1:6060:udp", &ls), 0);
	static const char *const aliases[] = { "scscf." REALM, "scscf." REALM ":6060", NULL };
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

	int64_t exp = scscf_now() + 3600;
	ims_str_t alice_ids[] = { IMS_STR(ALICE), IMS_STR("sip:alice-barred@ims.example") };
	scscf_binding_t ab = { .uri = IMS_STR("sip:alice@192.0.2.10:5070"),
			       .path = IMS_STR("<sip:term@pcscf.ims.example:5060;lr>"),
			       .q = -1, .expires = exp, .call_id = IMS_STR("ra"), .cseq = 1 };
	add_registration("alice@ims.example", ALICE, alice_xml, &ab, 1, alice_ids, 2);
	ims_str_t bob_ids[] = { IMS_STR(BOB), IMS_STR("sip:bob-barred@ims.example"), IMS_STR("tel:+4930555") };
	scscf_binding_t bb[2] = {
		{ .uri = IMS_STR("sip:bob@192.0.2.20:5070"),
		  .path = IMS_STR("<sip:term@192.0.2.30:5060;lr>"), .q = -1, .expires = exp,
		  .call_id = IMS_STR("rb1"), .cseq = 1 },
		{ .uri = IMS_STR("sip:bob@192.0.2.21:5072"),
		  .received = IMS_STR("sip:192.0.2.21:5072;transport=udp"), .q = -1, .expires = exp,
		  .call_id = IMS_STR("rb2"), .cseq = 1 },
	};
	add_registration("bob@ims.example", BOB, bob_xml, bb, 2, bob_ids, 3);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_proxy_destroy(H.p);
	scscf_session_destroy(&H.ctx);
	scscf_reg_store_close(H.ctx.store);
	scscf_auth_table_destroy(H.ctx.auth);
	scscf_regevent_destroy(H.ctx.regevent);
	ims_cfg_free(H.ycfg);
	return 0;
}

/* Feeds one request from host:port and runs the worker. */
static void inject(const char *host, uint16_t port, const char *text)
{
	sip_tp_peer_t src;
	memset(&src, 0, sizeof(src));
	src.proto = SIP_TP_UDP;
	src.listener = 0;
	assert_int_equal(sip_tp_addr_set(&src.addr, ims_str_cstr(host), port), 0);
	H.n_sent = 0;
	assert_int_equal(sip_proxy_test_inject(H.p, text, strlen(text), &src), 0);
	for (int i = 0; i < 5; i++)
		sip_proxy_test_run(H.p);
}

static const char *find_sent(const char *prefix)
{
	for (int i = 0; i < H.n_sent; i++)
		if (!strncmp(H.sent[i], prefix, strlen(prefix)))
			return H.sent[i];
	return NULL;
}

static const char *dest_of(const char *sent)
{
	return H.dest[(sent - H.sent[0]) / (ptrdiff_t)sizeof(H.sent[0])];
}

static int final_status(void)
{
	for (int i = 0; i < H.n_sent; i++)
		if (!strncmp(H.sent[i], "SIP/2.0 ", 8) && atoi(H.sent[i] + 8) >= 200)
			return atoi(H.sent[i] + 8);
	return 0;
}

static const char *request(char *buf, size_t cap, const char *method, const char *ruri,
			   const char *route, const char *pai, const char *from)
{
	int b = ++H.branch;
	snprintf(buf, cap,
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKt%d;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "%s%s%s"
		 "%s%s%s"
		 "From: <%s>;tag=f1\r\nTo: <%s>\r\n"
		 "Call-ID: c%d@test\r\nCSeq: 1 %s\r\n"
		 "Contact: <sip:x@192.0.2.10:5070>\r\nContent-Length: 0\r\n\r\n",
		 method, ruri, b, route ? "Route: " : "", route ? route : "", route ? "\r\n" : "",
		 pai ? "P-Asserted-Identity: <" : "", pai ? pai : "", pai ? ">\r\n" : "", from, ruri,
		 b, method);
	return buf;
}

#define ORIG_ROUTE "<sip:orig@scscf.ims.example:6060;lr;orig>"

/* Terminating: parallel fork to both contacts, Path as Route, the
 * Request-URI = contact, P-Called-Party-ID = the called identity. */
static void test_terminating_forks_to_contacts(void **state)
{
	(void)state;
	char buf[2048];
	inject("192.0.2.40", 4060, request(buf, sizeof(buf), "INVITE", BOB, NULL, ALICE, ALICE));
	const char *b1 = find_sent("INVITE sip:bob@192.0.2.20:5070 ");
	const char *b2 = find_sent("INVITE sip:bob@192.0.2.21:5072 ");
	assert_non_null(b1);
	assert_non_null(b2);
	assert_non_null(strstr(b1, "Route: <sip:term@192.0.2.30:5060;lr>"));
	assert_non_null(strstr(b1, "P-Called-Party-ID: <" BOB ">"));
	assert_non_null(strstr(b1, "Record-Route: "));
	assert_null(strstr(b2, "Route: <sip:term"));
	assert_non_null(strstr(b2, "P-Called-Party-ID: <" BOB ">"));
	int to_path = 0, to_recv = 0;
	for (int i = 0; i < H.n_sent; i++) {
		to_path |= !strcmp(H.dest[i], "192.0.2.30:5060");
		to_recv |= !strcmp(H.dest[i], "192.0.2.21:5072");
	}
	assert_true(to_path);
	assert_true(to_recv);
}

static void test_terminating_unknown_and_barred(void **state)
{
	(void)state;
	char buf[2048];
	inject("192.0.2.40", 4060, request(buf, sizeof(buf), "INVITE", CAROL, NULL, ALICE, ALICE));
	assert_int_equal(final_status(), 480);
	inject("192.0.2.40", 4060,
	       request(buf, sizeof(buf), "INVITE", "sip:bob-barred@ims.example", NULL, ALICE, ALICE));
	assert_int_equal(final_status(), 404);
}

static void test_originating_needs_asserted_identity(void **state)
{
	(void)state;
	char buf[2048];
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "INVITE", BOB, ORIG_ROUTE, NULL, ALICE));
	assert_int_equal(final_status(), 403);
	/* Not registered here. */
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "INVITE", BOB, ORIG_ROUTE, CAROL, CAROL));
	assert_int_equal(final_status(), 403);
	/* Barred identity may not originate. */
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "OPTIONS", BOB, ORIG_ROUTE,
					   "sip:alice-barred@ims.example", ALICE));
	assert_int_equal(final_status(), 403);
}

/* Originating INVITE: to the AS with the odi Route; back from the AS the
 * chain ends and the request goes to the I-CSCF. */
static void test_originating_as_chain_and_return(void **state)
{
	(void)state;
	char buf[2048];
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "INVITE", BOB, ORIG_ROUTE, ALICE, ALICE));
	const char *to_as = find_sent("INVITE " BOB " ");
	assert_non_null(to_as);
	assert_string_equal(dest_of(to_as), "192.0.2.50:5090");
	assert_non_null(strstr(to_as, "Route: <sip:192.0.2.50:5090;lr>"));
	const char *odi = strstr(to_as, ";odi=");
	assert_non_null(odi);
	char token[40] = { 0 };
	memcpy(token, odi + 5, 32);
	assert_int_equal(strspn(token, "0123456789abcdef"), 32);
	assert_int_equal(scscf_session__odi_count(&H.ctx), 1);

	static char first_leg[4096];
	snprintf(first_leg, sizeof(first_leg), "%s", to_as);

	/* The AS proxies it back with the remaining Route. */
	char route[128];
	snprintf(route, sizeof(route), "<sip:scscf.ims.example:6060;lr;odi=%s>", token);
	inject("192.0.2.50", 5090, request(buf, sizeof(buf), "INVITE", BOB, route, ALICE, ALICE));
	const char *onward = find_sent("INVITE " BOB " ");
	assert_non_null(onward);
	assert_null(strstr(onward, "odi="));
	int to_icscf = 0;
	for (int i = 0; i < H.n_sent; i++)
		to_icscf |= !strcmp(H.dest[i], "192.0.2.40:4060");
	assert_true(to_icscf);
	/* No second Record-Route of ours on the way back from the AS. */
	assert_null(strstr(onward, "Record-Route"));

	/* The far end fails with 503; the AS relays it on the first leg. That
	 * is not the AS failing: it goes to the caller, the chain is not run
	 * again (no second INVITE toward the I-CSCF). */
	const char *via = strstr(first_leg, "Via: ");
	char vline[256];
	size_t vn = strcspn(via, "\r");
	memcpy(vline, via, vn);
	vline[vn] = 0;
	const char *cid = strstr(first_leg, "Call-ID: ");
	char cline[128];
	size_t cn = strcspn(cid, "\r");
	memcpy(cline, cid, cn);
	cline[cn] = 0;
	char rsp[1024];
	snprintf(rsp, sizeof(rsp),
		 "SIP/2.0 503 Service Unavailable\r\n%s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKt%d;rport\r\n"
		 "From: <" ALICE ">;tag=f1\r\nTo: <" BOB ">;tag=far\r\n%s\r\n"
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		 vline, H.branch - 1, cline);
	inject("192.0.2.50", 5090, rsp);
	int st = final_status();
	assert_true(st == 500 || st == 503);
	assert_null(find_sent("INVITE "));

	/* An unknown token is refused. */
	inject("192.0.2.50", 5090,
	       request(buf, sizeof(buf), "INVITE", BOB,
		       "<sip:scscf.ims.example:6060;lr;odi=00000000000000000000000000000000>", ALICE, ALICE));
	assert_int_equal(final_status(), 404);

	/* The odi entry lives as long as the transaction that sent the
	 * request to the AS, not session.odi_ttl: once the transactions are
	 * over (64*T1 after the final response), none is left. */
	for (int i = 0; i < 70; i++) {
		ims_vclock_advance(&H.vc, 1000);
		sip_proxy_test_run(H.p);
	}
	assert_int_equal(scscf_session__odi_count(&H.ctx), 0);
}

/* A 503 from a SESSION_TERMINATED AS goes back to the caller. */
static void test_default_handling_terminated_relays_error(void **state)
{
	(void)state;
	char buf[2048];
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "MESSAGE", BOB, ORIG_ROUTE, ALICE, ALICE));
	const char *to_as = find_sent("MESSAGE " BOB " ");
	assert_non_null(to_as);
	assert_non_null(strstr(to_as, "Route: <sip:192.0.2.51:5090;lr>"));
	/* The AS answers 503 (our Via on top). */
	const char *via = strstr(to_as, "Via: ");
	char vline[256];
	size_t n = strcspn(via, "\r");
	memcpy(vline, via, n);
	vline[n] = 0;
	char rsp[1024];
	snprintf(rsp, sizeof(rsp),
		 "SIP/2.0 503 Service Unavailable\r\n%s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKt%d;rport\r\n"
		 "From: <" ALICE ">;tag=f1\r\nTo: <" BOB ">;tag=as\r\nCall-ID: c%d@test\r\n"
		 "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
		 vline, H.branch, H.branch);
	inject("192.0.2.51", 5090, rsp);
	int st = final_status();
	assert_true(st == 500 || st == 503);
}

/* Targets: tel: outside the home prefixes without a breakout -> 404;
 * a non-sip/tel scheme -> 416; a foreign sip: target goes by its URI. */
static void test_originating_targets(void **state)
{
	(void)state;
	char buf[2048];
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "OPTIONS", "tel:+4930123456", ORIG_ROUTE,
					   ALICE, ALICE));
	assert_int_equal(final_status(), 404);
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "OPTIONS", "tel:+15550000002", ORIG_ROUTE,
					   ALICE, ALICE));
	int home = 0;
	for (int i = 0; i < H.n_sent; i++)
		home |= !strcmp(H.dest[i], "192.0.2.40:4060");
	assert_true(home);
	/* Outside the prefixes but served here: home as well. */
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "OPTIONS", "tel:+4930555", ORIG_ROUTE,
					   ALICE, ALICE));
	home = 0;
	for (int i = 0; i < H.n_sent; i++)
		home |= !strcmp(H.dest[i], "192.0.2.40:4060");
	assert_true(home);
	inject("192.0.2.60", 5060, request(buf, sizeof(buf), "OPTIONS", "sip:dave@198.51.100.7:5080",
					   ORIG_ROUTE, ALICE, ALICE));
	int foreign = 0;
	for (int i = 0; i < H.n_sent; i++)
		foreign |= !strcmp(H.dest[i], "198.51.100.7:5080");
	assert_true(foreign);
}

/* OPTIONS to the S-CSCF itself is answered, not routed. */
static void test_options_to_self(void **state)
{
	(void)state;
	char buf[2048];
	inject("192.0.2.40", 4060, request(buf, sizeof(buf), "OPTIONS", "sip:10.0.0.1:6060", NULL, NULL,
					   "sip:icscf@ims.example"));
	assert_int_equal(final_status(), 200);
	const char *ok = find_sent("SIP/2.0 200");
	assert_non_null(ok);
	assert_non_null(strstr(ok, "Allow: INVITE"));
}


/* The AS hosts (see dave_xml) that got a REGISTER in what was sent,
 * e.g. "71 74", each checked for To = Dave and the Expires it carries. */
static const char *register_targets(char *out, size_t cap, const char *expires)
{
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < H.n_sent; i++) {
		if (strncmp(H.sent[i], "REGISTER sip:192.0.2.", 21) != 0)
			continue;
		assert_non_null(strstr(H.sent[i], "To: <" DAVE ">"));
		assert_non_null(strstr(H.sent[i], "From: <" OWN ">;tag="));
		assert_non_null(strstr(H.sent[i], expires));
		len += (size_t)snprintf(out + len, cap - len, "%s%.2s", len ? " " : "",
					H.sent[i] + 21);
	}
	return out;
}

static void add_dave(int64_t expires_at)
{
	ims_str_t ids[] = { IMS_STR(DAVE) };
	scscf_binding_t b = { .uri = IMS_STR("sip:dave@192.0.2.70:5070"), .q = -1,
			      .expires = expires_at, .call_id = IMS_STR("rd"), .cseq = 1 };
	add_registration("dave@ims.example", DAVE, dave_xml, &b, 1, ids, 1);
	scscf_isc_remember(&H.ctx, IMS_STR(DAVE), IMS_STR(dave_xml));
}

/* TS 24.229 §5.4.1.7 with TS 29.228 Annex B RegistrationType: an initial
 * registration, a refresh and a de-registration each reach the ASs whose
 * iFC names that kind, plus the one without RegistrationType. */
static void test_third_party_register_follows_registration_type(void **state)
{
	(void)state;
	static const char reg_text[] =
		"REGISTER sip:ims.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.70:5070;branch=z9hG4bK-d1\r\n"
		"From: <" DAVE ">;tag=d1\r\nTo: <" DAVE ">\r\nCall-ID: rd\r\nCSeq: 2 REGISTER\r\n"
		"Contact: <sip:dave@192.0.2.70:5070>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n";
	static const char ok_text[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.70:5070;branch=z9hG4bK-d1\r\n"
		"From: <" DAVE ">;tag=d1\r\nTo: <" DAVE ">;tag=s1\r\nCall-ID: rd\r\nCSeq: 2 REGISTER\r\n"
		"Contact: <sip:dave@192.0.2.70:5070>;expires=600\r\nContent-Length: 0\r\n\r\n";
	ims_arena_t *a = ims_arena_create(8192);
	sip_msg_t *req = NULL, *rsp = NULL;
	scscf_profile_t *prof = NULL;
	char got[64];
	assert_int_equal(sip_msg_parse(reg_text, strlen(reg_text), a, &req, NULL), 0);
	assert_int_equal(sip_msg_parse(ok_text, strlen(ok_text), a, &rsp, NULL), 0);
	assert_int_equal(scscf_profile_load(dave_xml, strlen(dave_xml), &prof, NULL), 0);

	static const struct {
		int type;
		const char *ases, *expires;
	} cases[] = {
		{ SCSCF_REGTYPE_INITIAL, "71 74", "Expires: 600" },
		{ SCSCF_REGTYPE_RE, "72 74", "Expires: 600" },
		{ SCSCF_REGTYPE_DE, "73 74", "Expires: 0" },
		{ 0, "71 72 73 74", "Expires: 600" }, /* unknown kind: not filtered */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		H.n_sent = 0;
		int n = scscf_isc_third_party_register(&H.ctx, 0, prof, req, rsp, cases[i].type);
		sip_proxy_test_run(H.p);
		assert_int_equal(n, (int)(strlen(cases[i].ases) + 1) / 3);
		assert_string_equal(register_targets(got, sizeof(got), cases[i].expires), cases[i].ases);
	}
	assert_string_equal(scscf_isc_reg_type_name(SCSCF_REGTYPE_RE), "RE-REGISTRATION");
	/* a served identity outside the profile has no services */
	static const char other_text[] =
		"REGISTER sip:ims.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.70:5070;branch=z9hG4bK-d2\r\n"
		"From: <sip:eve@ims.example>;tag=d1\r\nTo: <sip:eve@ims.example>\r\nCall-ID: re\r\n"
		"CSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n";
	sip_msg_t *other = NULL;
	assert_int_equal(sip_msg_parse(other_text, strlen(other_text), a, &other, NULL), 0);
	H.n_sent = 0;
	assert_int_equal(scscf_isc_third_party_register(&H.ctx, 0, prof, other, rsp,
							SCSCF_REGTYPE_INITIAL), 0);
	assert_int_equal(scscf_isc_third_party_register(&H.ctx, 0, prof, NULL, rsp, 0), IMS_EINVAL);
	scscf_profile_free(prof);
	ims_arena_destroy(a);
}

/* TS 24.229 §5.4.1.5/§5.4.1.7: an RTR from the HSS de-registers Dave and
 * the REGISTER-triggered ASs hear it as a de-registration (Expires: 0),
 * once. */
static void test_rtr_sends_third_party_deregister(void **state)
{
	(void)state;
	char got[64];
	add_dave(scscf_now() + 3600);
	H.n_sent = 0;
	assert_int_equal(scscf_reg_network_dereg(&H.ctx, IMS_STR(DAVE), SCSCF_CEV_DEACTIVATED), 0);
	for (int i = 0; i < 3; i++)
		sip_proxy_test_run(H.p);
	assert_string_equal(register_targets(got, sizeof(got), "Expires: 0"), "73 74");
	/* the remembered User-Data went with it: nothing twice */
	H.n_sent = 0;
	assert_int_equal(scscf_isc_network_dereg(&H.ctx, 0, IMS_STR(DAVE)), 0);
	assert_int_equal(scscf_isc_network_dereg(&H.ctx, 0, IMS_STR("")), IMS_EINVAL);
	sip_proxy_test_run(H.p);
	assert_string_equal(register_targets(got, sizeof(got), "Expires: 0"), "");
}

/* The last binding expiring is a network-initiated de-registration too;
 * a registration that keeps a binding is not. */
static void test_expiry_sends_third_party_deregister(void **state)
{
	(void)state;
	char got[64];
	int64_t now = scscf_now();
	add_dave(now + 100);
	H.n_sent = 0;
	scscf_reg_expire_run(&H.ctx, now + 50);
	sip_proxy_test_run(H.p);
	assert_string_equal(register_targets(got, sizeof(got), "Expires: 0"), "");
	scscf_reg_expire_run(&H.ctx, now + 101);
	sip_proxy_test_run(H.p);
	assert_int_equal(scscf_reg_store_state(H.ctx.store, IMS_STR(DAVE), now + 101),
			 SCSCF_REG_NOT_REGISTERED);
	assert_string_equal(register_targets(got, sizeof(got), "Expires: 0"), "73 74");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_terminating_forks_to_contacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminating_unknown_and_barred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_originating_needs_asserted_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_originating_as_chain_and_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_handling_terminated_relays_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_originating_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_to_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_third_party_register_follows_registration_type,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtr_sends_third_party_deregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_sends_third_party_deregister, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
