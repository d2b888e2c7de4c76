/* On-demand value parsers: SIP/SIPS/tel URIs (RFC 3261 §19.1, RFC 3966),
 * name-addr / addr-spec (§20.10), via-parm (§20.42, RFC 3581), digest
 * credentials and challenges (RFC 2617, RFC 3310), URI comparison
 * (§19.1.4) and AoR keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"

#define assert_str(view, lit) assert_true(ims_str_eq_c((view), (lit)))

static void test_uri_sip_all_components_ipv6(void **state)
{
	ims_arena_t *a = ims_arena_create(1024);
	sip_uri_t u;
	ims_str_t in = IMS_STR("sip:alice:secret@[2001:db8::1]:5070;transport=tcp;lr;maddr=[2001:db8::2];ttl=5;"
			       "method=INVITE;user=phone?subject=hi%20there&x=y");
	assert_int_equal(sip_uri_parse(in, a, &u), 0);
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_str(u.user, "alice");
	assert_str(u.password, "secret");
	assert_str(u.host, "[2001:db8::1]");
	assert_true(u.host_is_ipv6);
	assert_int_equal(u.port, 5070);
	assert_str(u.transport, "tcp");
	assert_true(u.lr);
	assert_str(u.maddr, "[2001:db8::2]");
	assert_str(u.ttl, "5");
	assert_str(u.method, "INVITE");
	assert_str(u.user_param, "phone");
	assert_str(u.params, "transport=tcp;lr;maddr=[2001:db8::2];ttl=5;method=INVITE;user=phone");
	assert_str(u.headers, "subject=hi%20there&x=y");
	ims_str_t v;
	assert_true(sip_param_find(u.param_list, "LR", &v));
	assert_null(v.s);
	assert_true(sip_param_find(u.param_list, "ttl", &v));
	assert_str(v, "5");
	assert_false(sip_param_find(u.param_list, "foo", &v));
	/* without an arena only the well-known fields */
	assert_int_equal(sip_uri_parse(in, NULL, &u), 0);
	assert_null(u.param_list);
	assert_true(u.lr);
	ims_arena_destroy(a);
}

static void test_uri_host_only_sips_and_ipv4(void **state)
{
	sip_uri_t u;
	assert_int_equal(sip_uri_parse(IMS_STR("sips:registrar.example.com"), NULL, &u), 0);
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_int_equal(u.user.len, 0);
	assert_str(u.host, "registrar.example.com");
	assert_int_equal(u.port, 0);
	assert_int_equal(sip_uri_parse(IMS_STR("SIP:192.0.2.4:5060"), NULL, &u), 0);
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_str(u.host, "192.0.2.4");
	assert_int_equal(u.port, 5060);
}

static void test_uri_tel_with_params(void **state)
{
	ims_arena_t *a = ims_arena_create(512);
	sip_uri_t u;
	assert_int_equal(sip_uri_parse(IMS_STR("tel:+1-212-555-0101;phone-context=example.com"), a, &u), 0);
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_str(u.user, "+1-212-555-0101");
	assert_int_equal(u.host.len, 0);
	ims_str_t v;
	assert_true(sip_param_find(u.param_list, "phone-context", &v));
	assert_str(v, "example.com");
	assert_int_equal(sip_uri_parse(IMS_STR("tel:7042;phone-context=+1-212"), NULL, &u), 0);
	ims_arena_destroy(a);
}

static void test_uri_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "sip:", "sip:@example.com", "sip:user@", "sip:user@host:", "sip:user@host:70000",
		"sip:user@host:12ab", "sip:a%zz@host", "sip:a b@host", "sip:host;", "sip:host;;lr",
		"sip:host;a=", "sip:host?", "<sip:host>", "sip:[::1", "sip:[]", "sip:host>", "tel:",
		"tel:+1 212", "1sip:host", "sip:host x", "mailto:", "x:a b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sip_uri_t u;
		if (sip_uri_parse(ims_str_cstr(bad[i]), NULL, &u) != IMS_EPARSE)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_uri_oom_on_param_list(void **state)
{
	ims_arena_t *a = ims_arena_create(256);
	sip_uri_t u;
	ims_arena_fail_after(a, 2);
	assert_int_equal(sip_uri_parse(IMS_STR("sip:a@b;x=1;y=2;z"), a, &u), IMS_ENOMEM);
	ims_arena_destroy(a);
}

static void test_nameaddr_forms(void **state)
{
	ims_arena_t *a = ims_arena_create(1024);
	sip_nameaddr_t na;
	assert_int_equal(sip_nameaddr_parse(IMS_STR("*"), NULL, &na), 0);
	assert_true(na.star);
	assert_int_equal(sip_nameaddr_parse(IMS_STR("\"Bob \\\"B\\\"\" <sip:bob@biloxi.com>;tag=a6c85cf"), a, &na), 0);
	assert_str(na.display, "\"Bob \\\"B\\\"\"");
	assert_str(na.uri.host, "biloxi.com");
	assert_str(na.tag, "a6c85cf");
	assert_str(na.params, "tag=a6c85cf");
	assert_int_equal(sip_nameaddr_parse(IMS_STR("Bob Smith <sip:bob@biloxi.com;lr>;expires=60;q=0.7"), a, &na), 0);
	assert_str(na.display, "Bob Smith");
	assert_true(na.uri.lr);
	assert_str(na.expires, "60");
	assert_str(na.q, "0.7");
	assert_int_equal(sip_nameaddr_parse(IMS_STR("<tel:+12125551111>"), NULL, &na), 0);
	assert_int_equal(na.uri.scheme, SIP_URI_TEL);
	assert_int_equal(na.display.len, 0);
	/* addr-spec: params after the URI are header params */
	assert_int_equal(sip_nameaddr_parse(IMS_STR("sip:bob@biloxi.com;tag=x;transport=tcp"), a, &na), 0);
	assert_str(na.tag, "x");
	assert_int_equal(na.uri.transport.len, 0);
	assert_true(sip_param_find(na.param_list, "transport", NULL));
	static const char *const bad[] = {
		"", "\"open <sip:a@b>", "<sip:a@b", "<sip:a@b> x", "<sip:a@b>;;", "<sip:a@b>;tag=",
		"sip:a@b?x=y", "sip:a,b@c", "a, b <sip:a@b>", "< sip:a@b>", "<sip:a@b >", "\"x\" sip:a@b",
		"<>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sip_nameaddr_parse(ims_str_cstr(bad[i]), NULL, &na) != IMS_EPARSE)
			fail_msg("accepted '%s'", bad[i]);
	ims_arena_destroy(a);
}

static void test_via_ipv6_with_rport_received_maddr_ttl(void **state)
{
	ims_arena_t *a = ims_arena_create(1024);
	sip_via_t v;
	assert_int_equal(sip_via_parse(IMS_STR("SIP/2.0/UDP [2001:db8::10]:1357;branch=z9hG4bKnashds8;rport=1357;"
					     "received=[2001:db8::9];maddr=224.2.0.1;ttl=16;comp=sigcomp"),
				 a, &v),
			 0);
	assert_str(v.protocol, "SIP/2.0");
	assert_str(v.transport, "UDP");
	assert_str(v.host, "[2001:db8::10]");
	assert_int_equal(v.port, 1357);
	assert_str(v.branch, "z9hG4bKnashds8");
	assert_true(v.has_rport);
	assert_str(v.rport, "1357");
	assert_str(v.received, "[2001:db8::9]");
	assert_str(v.maddr, "224.2.0.1");
	assert_str(v.ttl, "16");
	ims_str_t pv;
	assert_true(sip_param_find(v.param_list, "comp", &pv));
	assert_str(pv, "sigcomp");
	ims_arena_destroy(a);
}

static void test_via_valueless_rport_and_lws(void **state)
{
	sip_via_t v;
	assert_int_equal(sip_via_parse(IMS_STR("SIP / 2.0 / TCP client.example.com : 5061 ; rport ; branch = z9hG4bK7"),
				 NULL, &v),
			 0);
	assert_str(v.transport, "TCP");
	assert_str(v.host, "client.example.com");
	assert_int_equal(v.port, 5061);
	assert_true(v.has_rport);
	assert_int_equal(v.rport.len, 0);
	assert_str(v.branch, "z9hG4bK7");
	assert_int_equal(sip_via_parse(IMS_STR("SIP/2.0/UDP host"), NULL, &v), 0);
	assert_false(v.has_rport);
	assert_null(v.branch.s);
	static const char *const bad[] = {
		"", "SIP/2.0", "SIP/2.0/UDP", "SIP/2.0/UDPhost", "SIP/2.0/UDP host;", "SIP/2.0/UDP host;;",
		"SIP/2.0/UDP host:99999", "SIP/2.0/UDP host extra", "/2.0/UDP host", "SIP/2.0/UDP [::1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sip_via_parse(ims_str_cstr(bad[i]), NULL, &v) != IMS_EPARSE)
			fail_msg("accepted '%s'", bad[i]);
}

static void test_auth_digest_quoted_unquoted_aka(void **state)
{
	ims_arena_t *a = ims_arena_create(1024);
	sip_auth_t au;
	assert_int_equal(sip_auth_parse(IMS_STR("Digest username=\"alice\",realm=\"ims.example.net\" , "
					      "nonce=\"dGVzdA==\", uri=\"sip:ims.example.net\", "
					      "response=\"0123\", algorithm=AKAv1-MD5, qop=auth-int, nc=00000002, "
					      "cnonce=\"c\\\"q\", opaque=\"o\", auts=\"YXV0cw==\""),
				  a, &au),
			 0);
	assert_str(au.scheme, "Digest");
	assert_str(au.username, "alice");
	assert_str(au.realm, "ims.example.net");
	assert_str(au.nonce, "dGVzdA==");
	assert_str(au.uri, "sip:ims.example.net");
	assert_str(au.response, "0123");
	assert_str(au.algorithm, "AKAv1-MD5");
	assert_str(au.qop, "auth-int");
	assert_str(au.nc, "00000002");
	assert_str(au.cnonce, "c\\\"q"); /* escapes left as written */
	assert_str(au.opaque, "o");
	assert_str(au.auts, "YXV0cw==");
	int n = 0;
	for (sip_param_t *p = au.param_list; p; p = p->next)
		n++;
	assert_int_equal(n, 11);
	assert_int_equal(sip_auth_parse(IMS_STR("Digest"), NULL, &au), 0);
	assert_str(au.scheme, "Digest");
	assert_int_equal(sip_auth_parse(IMS_STR("Digest realm=x,,nonce=y,"), NULL, &au), 0);
	assert_str(au.nonce, "y");
	static const char *const bad[] = {
		"", "Digest realm", "Digest realm=", "Digest realm=\"x", "Digest ,=x", "Digest realm=x nonce=y",
		"\"Digest\" realm=x", "Digest=x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sip_auth_parse(ims_str_cstr(bad[i]), NULL, &au) != IMS_EPARSE)
			fail_msg("accepted '%s'", bad[i]);
	ims_arena_destroy(a);
}

static int eq(const char *x, const char *y)
{
	sip_uri_t a, b;
	assert_int_equal(sip_uri_parse(ims_str_cstr(x), NULL, &a), 0);
	assert_int_equal(sip_uri_parse(ims_str_cstr(y), NULL, &b), 0);
	int r = sip_uri_equal(&a, &b);
	assert_int_equal(r, sip_uri_equal(&b, &a));
	return r;
}

static void test_uri_equal_rfc3261_19_1_4_examples(void **state)
{
	/* the equivalent pairs of RFC 3261 §19.1.4 */
	assert_true(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		       "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		       "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
	/* and the ones that are not */
	assert_false(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	assert_false(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
	assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	assert_false(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
	assert_false(eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
	assert_true(eq("tel:+1-212-555-0101", "tel:+12125550101"));
	assert_false(eq("tel:+12125550101", "tel:+12125550102"));
	assert_true(eq("urn:service:sos", "urn:service:sos"));
	/* a repeated parameter (found by fuzzing): the first occurrence counts */
	assert_true(eq("sip:user;par=u%49x;par=u%epm", "sip:user;par=u%49x;par=u%epm"));
	assert_true(eq("sip:host;p=1;p=2", "sip:host;p=1"));
	assert_false(eq("sip:host;p=1;p=2", "sip:host;p=2"));
	assert_false(eq("urn:service:sos", "urn:service:SOS"));
}

static void test_uri_equal_many_params_stays_linear(void **state)
{
	/* 2000 parameters: compared as one list, not pairwise */
	size_t cap = 2000 * 8 + 32;
	char *x = malloc(cap), *y = malloc(cap);
	size_t n = (size_t)sprintf(x, "sip:a@b");
	for (int i = 0; i < 2000; i++)
		n += (size_t)sprintf(x + n, ";p%d=1", i);
	memcpy(y, x, n + 1);
	sip_uri_t u, v;
	assert_int_equal(sip_uri_parse(ims_str_from(x, n), NULL, &u), 0);
	assert_int_equal(sip_uri_parse(ims_str_from(y, n), NULL, &v), 0);
	assert_true(sip_uri_equal(&u, &v));
	y[n - 1] = '2';
	assert_int_equal(sip_uri_parse(ims_str_from(y, n), NULL, &v), 0);
	assert_false(sip_uri_equal(&u, &v));
	free(x);
	free(y);
}

static void test_uri_aor_keys(void **state)
{
	ims_arena_t *a = ims_arena_create(512);
	sip_uri_t u;
	ims_str_t k;
	assert_int_equal(sip_uri_parse(IMS_STR("sip:Alice@Atlanta.COM:5070;transport=tcp?x=y"), NULL, &u), 0);
	assert_int_equal(sip_uri_aor(&u, a, &k), 0);
	assert_str(k, "sip:Alice@atlanta.com");
	assert_int_equal(k.s[k.len], '\0');
	assert_int_equal(sip_uri_parse(IMS_STR("tel:+1-212-555-0101;phone-context=x"), NULL, &u), 0);
	assert_int_equal(sip_uri_aor(&u, a, &k), 0);
	assert_str(k, "tel:+12125550101");
	assert_int_equal(sip_uri_parse(IMS_STR("sips:Example.COM"), NULL, &u), 0);
	assert_int_equal(sip_uri_aor(&u, a, &k), 0);
	assert_str(k, "sips:example.com");
	ims_arena_fail_after(a, 1);
	assert_int_equal(sip_uri_aor(&u, a, &k), IMS_ENOMEM);
	ims_arena_destroy(a);
}

static void test_params_find_raw(void **state)
{
	ims_str_t v;
	ims_str_t raw = IMS_STR("ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; q=\"a;b\"; lr ;port-s = 7");
	assert_true(sip_params_find(raw, "alg", &v));
	assert_str(v, "hmac-sha-1-96");
	assert_true(sip_params_find(raw, "Q", &v));
	assert_str(v, "\"a;b\"");
	assert_true(sip_params_find(raw, "lr", &v));
	assert_null(v.s);
	assert_true(sip_params_find(raw, "port-s", &v));
	assert_str(v, "7");
	assert_false(sip_params_find(raw, "spi", &v));
	assert_false(sip_params_find(IMS_STR_NULL, "x", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_sip_all_components_ipv6),
		cmocka_unit_test(test_uri_host_only_sips_and_ipv4),
		cmocka_unit_test(test_uri_tel_with_params),
		cmocka_unit_test(test_uri_rejects_malformed),
		cmocka_unit_test(test_uri_oom_on_param_list),
		cmocka_unit_test(test_nameaddr_forms),
		cmocka_unit_test(test_via_ipv6_with_rport_received_maddr_ttl),
		cmocka_unit_test(test_via_valueless_rport_and_lws),
		cmocka_unit_test(test_auth_digest_quoted_unquoted_aka),
		cmocka_unit_test(test_uri_equal_rfc3261_19_1_4_examples),
		cmocka_unit_test(test_uri_equal_many_params_stays_linear),
		cmocka_unit_test(test_uri_aor_keys),
		cmocka_unit_test(test_params_find_raw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
