/* Printing, editing, building, cloning and stream framing of SIP messages:
 * byte-identical round trips of every valid message under tests/data/sip/,
 * proxy-style edits, RFC 3261 §8.2.6 responses, Content-Length upkeep and
 * RFC 3261 §18.3 framing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"

#define assert_str(view, lit) assert_true(ims_str_eq_c((view), (lit)))

static char *load_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static char *load(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/sip/%s", IMS_TEST_DATA, rel);
	return load_path(path, len);
}

static sip_msg_t *parse_file(const char *rel, ims_arena_t *a, char **buf)
{
	size_t n;
	*buf = load(rel, &n);
	sip_msg_t *m = NULL;
	sip_parse_err_t e;
	if (sip_msg_parse(*buf, n, a, &m, &e))
		fail_msg("%s: %s", rel, e.reason);
	return m;
}

static sip_msg_t *reparse(const sip_msg_t *m, ims_arena_t *a)
{
	ims_str_t txt;
	assert_int_equal(sip_msg_print_arena(m, a, &txt), 0);
	assert_int_equal(txt.s[txt.len], '\0');
	sip_msg_t *r = NULL;
	sip_parse_err_t e;
	if (sip_msg_parse(txt.s, txt.len, a, &r, &e))
		fail_msg("reparse: %s at %u:%u\n%s", e.reason, e.line, e.col, txt.s);
	return r;
}

static int count_values(sip_msg_t *m, sip_hdr_id_t id)
{
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	int n = 0;
	while (sip_msg_next_value(m, id, &it, &v) == 1)
		n++;
	return n;
}

/* Every message that parses prints back byte for byte, and its clone too. */
static void test_round_trip_every_valid_message(void **state)
{
	static const char *const dirs[] = { "rfc4475", "rfc3261", "ims" };
	int parsed = 0;
	for (size_t d = 0; d < 3; d++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/sip/%s", IMS_TEST_DATA, dirs[d]);
		DIR *dp = opendir(dir);
		assert_non_null(dp);
		struct dirent *de;
		while ((de = readdir(dp)) != NULL) {
			if (!strstr(de->d_name, ".sip"))
				continue;
			char path[1024];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			size_t n;
			char *b = load_path(path, &n);
			ims_arena_t *a = ims_arena_create(4096);
			sip_msg_t *m;
			if (sip_msg_parse(b, n, a, &m, NULL) == 0) {
				parsed++;
				char *out = malloc(m->len);
				size_t ol;
				assert_int_equal(sip_msg_print(m, out, m->len, &ol), 0);
				assert_int_equal(ol, m->len);
				if (memcmp(out, b + (m->buf - b), ol) != 0)
					fail_msg("%s does not round-trip", de->d_name);
				sip_msg_t *c;
				ims_arena_t *ca = ims_arena_create(1024);
				assert_int_equal(sip_msg_clone(m, ca, &c), 0);
				free(out);
				ims_arena_destroy(a);
				free(b);
				/* the clone owns its bytes: the original is gone */
				ims_str_t t2;
				assert_int_equal(sip_msg_print_arena(c, ca, &t2), 0);
				assert_int_equal(t2.len, ol);
				assert_true(c->call_id.s >= c->buf && c->call_id.s < c->buf + c->len);
				ims_arena_destroy(ca);
				continue;
			}
			ims_arena_destroy(a);
			free(b);
		}
		closedir(dp);
	}
	/* 29 RFC 4475 messages parse, plus 5 RFC 3261 and 7 IMS ones */
	assert_int_equal(parsed, 29 + 5 + 7);
}

/* What a proxy does (RFC 3261 §16.6): new Request-URI, Max-Forwards
 * decremented, Record-Route and Via added on top; on the response the top
 * Via goes. */
static void test_proxy_edits_print_and_reparse(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *m = parse_file("rfc3261/invite.sip", a, &buf);
	assert_int_equal(sip_msg_set_ruri(m, IMS_STR("sip:bob@192.0.2.4")), 0);
	sip_hdr_t *mf = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	assert_int_equal(sip_msg_hdr_set_value(m, mf, IMS_STR("69")), 0);
	assert_int_equal(m->max_forwards, 69);
	assert_non_null(sip_msg_hdr_add(m, SIP_HDR_RECORD_ROUTE, IMS_STR_NULL,
					IMS_STR("<sip:p1.example.com;lr>"), SIP_POS_TOP));
	assert_non_null(sip_msg_hdr_addf(m, SIP_HDR_VIA, SIP_POS_TOP, "SIP/2.0/UDP p1.example.com;branch=z9hG4bK%s",
					 "abc"));
	assert_str(m->via1.host, "p1.example.com");
	sip_msg_t *r = reparse(m, a);
	assert_str(r->ruri, "sip:bob@192.0.2.4");
	assert_int_equal(r->max_forwards, 69);
	assert_str(r->via1.branch, "z9hG4bKabc");
	assert_int_equal(count_values(r, SIP_HDR_VIA), 2);
	/* SIP_POS_TOP without a header of that id puts it first of all; with
	 * one, just before it */
	assert_str(r->hdrs->name, "Record-Route");
	assert_str(r->hdrs->next->name, "Via");
	assert_str(r->hdrs->next->value, "SIP/2.0/UDP p1.example.com;branch=z9hG4bKabc");
	assert_str(r->hdrs->next->next->name, "Via");
	assert_int_equal(count_values(r, SIP_HDR_RECORD_ROUTE), 1);
	assert_int_equal(r->body.len, m->body.len);
	assert_memory_equal(r->body.s, m->body.s, m->body.len);
	assert_str(r->call_id, "a84b4c76e66710");
	/* and back: drop our Via */
	assert_int_equal(sip_msg_remove_first_value(r, SIP_HDR_VIA), 0);
	assert_str(r->via1.host, "pc33.atlanta.com");
	sip_msg_t *r2 = reparse(r, a);
	assert_int_equal(count_values(r2, SIP_HDR_VIA), 1);
	/* the receive buffer was never written */
	size_t n;
	char *orig = load("rfc3261/invite.sip", &n);
	assert_memory_equal(orig, buf, n);
	free(orig);
	free(buf);
	ims_arena_destroy(a);
}

static void test_remove_first_value_of_a_list_header(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *m = parse_file("rfc3261/invite-proxied.sip", a, &buf);
	/* Record-Route: <sip:server10...;lr>, <sip:bigbox3...;lr> in one header */
	assert_int_equal(sip_msg_remove_first_value(m, SIP_HDR_RECORD_ROUTE), 0);
	sip_hdr_t *rr = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE);
	assert_non_null(rr);
	assert_str(rr->value, "<sip:bigbox3.site3.atlanta.com;lr>");
	assert_true(rr->flags & SIP_HDRF_CHANGED);
	assert_int_equal(sip_msg_remove_first_value(m, SIP_HDR_RECORD_ROUTE), 0);
	assert_null(sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE));
	assert_int_equal(sip_msg_remove_first_value(m, SIP_HDR_RECORD_ROUTE), IMS_ENOENT);
	/* three Via headers: remove the first whole header */
	assert_int_equal(sip_msg_remove_first_value(m, SIP_HDR_VIA), 0);
	assert_str(m->via1.host, "bigbox3.site3.atlanta.com");
	sip_msg_t *r = reparse(m, a);
	assert_int_equal(count_values(r, SIP_HDR_VIA), 2);
	assert_null(sip_msg_hdr(r, SIP_HDR_RECORD_ROUTE));
	assert_str(r->via1.received, "192.0.2.2");
	free(buf);
	ims_arena_destroy(a);
}

static void test_add_positions_and_remove_all(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *m = parse_file("rfc3261/register.sip", a, &buf);
	/* BOTTOM after the last Contact; TOP before the first */
	sip_hdr_t *c2 = sip_msg_hdr_add(m, SIP_HDR_CONTACT, IMS_STR_NULL, IMS_STR("<sip:bob@192.0.2.5>"),
					SIP_POS_BOTTOM);
	sip_hdr_t *c0 = sip_msg_hdr_add(m, SIP_HDR_CONTACT, IMS_STR("m"), IMS_STR("<sip:bob@192.0.2.3>"),
					SIP_POS_TOP);
	assert_non_null(c2);
	assert_non_null(c0);
	assert_ptr_equal(sip_msg_hdr(m, SIP_HDR_CONTACT), c0);
	assert_ptr_equal(sip_hdr_next_same(sip_hdr_next_same(c0)), c2);
	/* unknown header by name goes to the end; a known name given as OTHER is indexed */
	sip_hdr_t *x = sip_msg_hdr_add(m, SIP_HDR_OTHER, IMS_STR("X-Test"), IMS_STR("  1  "), SIP_POS_BOTTOM);
	assert_non_null(x);
	assert_str(x->value, "1");
	assert_ptr_equal(m->hdrs_tail, x);
	sip_hdr_t *pa = sip_msg_hdr_add(m, SIP_HDR_OTHER, IMS_STR("p-asserted-identity"),
					IMS_STR("<sip:bob@biloxi.com>"), SIP_POS_TOP);
	assert_int_equal(pa->id, SIP_HDR_P_ASSERTED_IDENTITY);
	assert_ptr_equal(sip_msg_hdr(m, SIP_HDR_P_ASSERTED_IDENTITY), pa);
	assert_ptr_equal(m->hdrs, pa); /* first ever of its id: head of the list */
	assert_null(sip_msg_hdr_add(m, SIP_HDR_OTHER, IMS_STR_NULL, IMS_STR("v"), SIP_POS_TOP));
	assert_ptr_equal(sip_msg_hdr_by_name(m, IMS_STR("x-test")), x);
	sip_msg_t *r = reparse(m, a);
	assert_int_equal(count_values(r, SIP_HDR_CONTACT), 3);
	assert_str(sip_msg_hdr(r, SIP_HDR_CONTACT)->name, "m");
	assert_int_equal(sip_msg_hdr_remove_all(m, SIP_HDR_CONTACT), 3);
	assert_null(sip_msg_hdr(m, SIP_HDR_CONTACT));
	sip_msg_hdr_remove(m, x);
	assert_null(sip_msg_hdr_by_name(m, IMS_STR("X-Test")));
	sip_msg_hdr_remove(m, sip_msg_hdr(m, SIP_HDR_EXPIRES));
	assert_int_equal(m->expires, -1);
	r = reparse(m, a);
	assert_null(sip_msg_hdr(r, SIP_HDR_CONTACT));
	assert_null(sip_msg_hdr_by_name(r, IMS_STR("X-Test")));
	assert_int_equal(r->expires, -1);
	free(buf);
	ims_arena_destroy(a);
}

static void test_body_edits_recompute_content_length(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *m = parse_file("rfc3261/invite.sip", a, &buf);
	assert_int_equal(sip_msg_set_body(m, IMS_STR("text/plain"), IMS_STR("hello")), 0);
	sip_msg_t *r = reparse(m, a);
	assert_int_equal(r->content_length, 5);
	assert_str(r->body, "hello");
	assert_str(sip_msg_hdr(r, SIP_HDR_CONTENT_TYPE)->value, "text/plain");
	assert_int_equal(sip_msg_set_body(m, IMS_STR_NULL, IMS_STR_NULL), 0);
	r = reparse(m, a);
	assert_int_equal(r->content_length, 0);
	assert_null(sip_msg_hdr(r, SIP_HDR_CONTENT_TYPE));
	free(buf);

	/* an edited RFC 2543 request gains the Content-Length it lacked */
	m = parse_file("rfc4475/inv2543.sip", a, &buf);
	sip_msg_hdr_addf(m, SIP_HDR_MAX_FORWARDS, SIP_POS_BOTTOM, "%d", 70);
	r = reparse(m, a);
	assert_int_equal(r->content_length, (int64_t)m->body.len);
	assert_int_equal(r->max_forwards, 70);
	free(buf);

	/* a message built from nothing */
	sip_msg_t *q;
	assert_int_equal(sip_msg_new_request(a, IMS_STR("MESSAGE"), IMS_STR("sip:bob@biloxi.com"), &q), 0);
	assert_int_equal(q->method_id, SIP_METHOD_MESSAGE);
	sip_msg_hdr_addf(q, SIP_HDR_VIA, SIP_POS_BOTTOM, "SIP/2.0/TCP h.example.com;branch=z9hG4bK%d", 1);
	sip_msg_hdr_addf(q, SIP_HDR_FROM, SIP_POS_BOTTOM, "<sip:alice@atlanta.com>;tag=%s", "t1");
	sip_msg_hdr_add(q, SIP_HDR_TO, IMS_STR_NULL, IMS_STR("<sip:bob@biloxi.com>"), SIP_POS_BOTTOM);
	sip_msg_hdr_add(q, SIP_HDR_CALL_ID, IMS_STR_NULL, IMS_STR("built-1"), SIP_POS_BOTTOM);
	sip_msg_hdr_addf(q, SIP_HDR_CSEQ, SIP_POS_BOTTOM, "%u MESSAGE", 7u);
	assert_int_equal(q->cseq, 7);
	assert_str(q->from_tag, "t1");
	assert_int_equal(sip_msg_set_body(q, IMS_STR("text/plain"), IMS_STR("hi")), 0);
	ims_str_t txt;
	assert_int_equal(sip_msg_print_arena(q, a, &txt), 0);
	assert_string_equal(txt.s, "MESSAGE sip:bob@biloxi.com SIP/2.0\r\n"
				   "Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\n"
				   "From: <sip:alice@atlanta.com>;tag=t1\r\n"
				   "To: <sip:bob@biloxi.com>\r\n"
				   "Call-ID: built-1\r\n"
				   "CSeq: 7 MESSAGE\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 2\r\n\r\nhi");
	ims_arena_destroy(a);
}

static void test_set_value_refreshes_eager_fields(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *m = parse_file("rfc3261/invite.sip", a, &buf);
	assert_int_equal(sip_msg_hdr_set_value(m, sip_msg_hdr(m, SIP_HDR_CSEQ), IMS_STR("314160 INVITE")), 0);
	assert_int_equal(m->cseq, 314160);
	assert_int_equal(sip_msg_hdr_set_value(m, sip_msg_hdr(m, SIP_HDR_CALL_ID), IMS_STR("new-id")), 0);
	assert_str(m->call_id, "new-id");
	sip_hdr_t *to = sip_msg_hdr(m, SIP_HDR_TO);
	assert_int_equal(sip_msg_hdr_set_value(m, to, IMS_STR("Bob <sip:bob@biloxi.com>;tag=xyz")), 0);
	assert_str(m->to_tag, "xyz");
	assert_int_equal(sip_msg_hdr_set_value(m, sip_msg_hdr(m, SIP_HDR_VIA),
					       IMS_STR("SIP/2.0/TCP [::1]:5070;branch=z9hG4bKq")),
			 0);
	assert_str(m->via1.host, "[::1]");
	assert_int_equal(m->via1.port, 5070);
	/* the Request-URI is parsed once and cached; a new one resets it */
	const sip_uri_t *u1 = sip_msg_ruri(m);
	assert_ptr_equal(sip_msg_ruri(m), u1);
	assert_int_equal(sip_msg_set_ruri(m, IMS_STR("sip:bob@192.0.2.4:5080")), 0);
	assert_int_equal(sip_msg_ruri(m)->port, 5080);
	sip_msg_t *r = reparse(m, a);
	assert_int_equal(r->cseq, 314160);
	assert_str(r->to_tag, "xyz");
	assert_str(r->via1.branch, "z9hG4bKq");
	free(buf);
	/* responses have no Request-URI */
	m = parse_file("rfc3261/register-200.sip", a, &buf);
	assert_null(sip_msg_ruri(m));
	assert_int_equal(sip_msg_set_ruri(m, IMS_STR("sip:x@y")), IMS_EINVAL);
	sip_val_iter_t it = { 0 };
	ims_str_t v;
	assert_int_equal(sip_hdr_next_value(sip_msg_hdr(m, SIP_HDR_VIA), &it, &v), 1);
	assert_str(v, "SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\r\n ;received=192.0.2.4");
	assert_int_equal(sip_hdr_next_value(sip_msg_hdr(m, SIP_HDR_VIA), &it, &v), 0);
	free(buf);
	ims_arena_destroy(a);
}

static void test_edits_refuse_header_injection(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *m = parse_file("rfc3261/invite.sip", a, &buf);
	assert_null(sip_msg_hdr_add(m, SIP_HDR_SUBJECT, IMS_STR_NULL, IMS_STR("hi\r\nVia: evil"), SIP_POS_BOTTOM));
	assert_null(sip_msg_hdr_add(m, SIP_HDR_SUBJECT, IMS_STR_NULL, IMS_STR("hi\nX: y"), SIP_POS_BOTTOM));
	assert_null(sip_msg_hdr_add(m, SIP_HDR_OTHER, IMS_STR("X Y"), IMS_STR("1"), SIP_POS_BOTTOM));
	assert_null(sip_msg_hdr_add(m, SIP_HDR_OTHER, IMS_STR("X:"), IMS_STR("1"), SIP_POS_BOTTOM));
	assert_non_null(sip_msg_hdr_add(m, SIP_HDR_SUBJECT, IMS_STR_NULL, IMS_STR("folded\r\n value"),
					SIP_POS_BOTTOM));
	assert_int_equal(sip_msg_hdr_set_value(m, sip_msg_hdr(m, SIP_HDR_CALL_ID), IMS_STR("x\r\nTo: y")),
			 IMS_EINVAL);
	assert_str(m->call_id, "a84b4c76e66710");
	assert_int_equal(sip_msg_set_ruri(m, IMS_STR("sip:a@b SIP/2.0\r\nX: y")), IMS_EINVAL);
	assert_int_equal(sip_msg_set_ruri(m, IMS_STR_NULL), IMS_EINVAL);
	sip_msg_t *q;
	assert_int_equal(sip_msg_new_request(a, IMS_STR("IN VITE"), IMS_STR("sip:a@b"), &q), IMS_EINVAL);
	assert_int_equal(sip_msg_new_request(a, IMS_STR("INVITE"), IMS_STR("sip:a@b c"), &q), IMS_EINVAL);
	sip_msg_t *r = reparse(m, a);
	assert_int_equal(r->method_id, SIP_METHOD_INVITE);
	assert_null(sip_msg_hdr_by_name(r, IMS_STR("X")));
	assert_int_equal(count_values(r, SIP_HDR_VIA), 1);
	free(buf);
	ims_arena_destroy(a);
}

static void test_print_reports_needed_size(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *m = parse_file("rfc3261/register.sip", a, &buf);
	char small[16];
	size_t n = 0;
	assert_int_equal(sip_msg_print(m, small, sizeof(small), &n), IMS_ENOSPC);
	assert_int_equal(n, m->len);
	sip_msg_hdr_remove(m, sip_msg_hdr(m, SIP_HDR_CONTACT));
	assert_int_equal(sip_msg_print(m, small, sizeof(small), &n), IMS_ENOSPC);
	assert_int_equal(n, m->len - strlen("Contact: <sip:bob@192.0.2.4>\r\n"));
	free(buf);
	ims_arena_destroy(a);
}

/* RFC 3261 §8.2.6: Vias in order, From, To (+tag), Call-ID, CSeq. */
static void test_new_response_copies_headers_and_adds_to_tag(void **state)
{
	ims_arena_t *a = ims_arena_create(4096);
	char *buf;
	sip_msg_t *req = parse_file("ims/invite-mt.sip", a, &buf);
	ims_arena_t *ra = ims_arena_create(1024);
	sip_msg_t *rsp;
	assert_int_equal(sip_msg_new_response(ra, req, 180, IMS_STR_NULL, IMS_STR("as8d7"), &rsp), 0);
	assert_int_equal(rsp->status, 180);
	assert_str(rsp->reason, "Ringing");
	assert_str(rsp->to_tag, "as8d7");
	sip_msg_t *r = reparse(rsp, ra);
	assert_int_equal(count_values(r, SIP_HDR_VIA), 6);
	assert_str(r->via1.branch, "z9hG4bK361k21.1");
	assert_str(r->from_tag, "171828");
	assert_str(r->to_tag, "as8d7");
	assert_str(r->call_id, "cb03a0s09a2sdfglkj490333");
	assert_int_equal(r->cseq, 127);
	assert_int_equal(r->cseq_method_id, SIP_METHOD_INVITE);
	assert_int_equal(r->content_length, 0);
	assert_null(sip_msg_hdr(r, SIP_HDR_RECORD_ROUTE));
	/* 100 Trying carries no To tag (§8.2.6.1) */
	assert_int_equal(sip_msg_new_response(ra, req, 100, IMS_STR_NULL, IMS_STR("zz"), &rsp), 0);
	assert_int_equal(rsp->to_tag.len, 0);
	/* explicit phrase */
	assert_int_equal(sip_msg_new_response(ra, req, 400, IMS_STR("Bad CSeq"), IMS_STR("t"), &rsp), 0);
	r = reparse(rsp, ra);
	assert_str(r->reason, "Bad CSeq");
	assert_int_equal(sip_msg_new_response(ra, req, 99, IMS_STR_NULL, IMS_STR_NULL, &rsp), IMS_EINVAL);
	free(buf);
	ims_arena_destroy(a); /* the response does not depend on the request */
	ims_str_t t;
	assert_int_equal(sip_msg_print_arena(r, ra, &t), 0);
	ims_arena_destroy(ra);

	/* an in-dialog request already has a To tag: it is kept, not doubled */
	a = ims_arena_create(4096);
	const char *bye = "BYE sip:alice@pc33.atlanta.com SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
			  "Max-Forwards: 70\r\nFrom: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
			  "To: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
			  "Call-ID: a84b4c76e66710\r\nCSeq: 231 BYE\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sip_msg_parse(bye, strlen(bye), a, &req, NULL), 0);
	assert_int_equal(sip_msg_new_response(a, req, 200, IMS_STR_NULL, IMS_STR("new"), &rsp), 0);
	assert_str(rsp->to_tag, "1928301774");
	r = reparse(rsp, a);
	assert_str(sip_msg_hdr(r, SIP_HDR_TO)->value, "Alice <sip:alice@atlanta.com>;tag=1928301774");
	ims_arena_destroy(a);
}

static void test_edits_and_builders_out_of_memory(void **state)
{
	size_t n;
	char *b = load("ims/invite-mt.sip", &n);
	int done = 0;
	for (long k = 1; k < 400 && !done; k++) {
		ims_arena_t *a = ims_arena_create(256);
		sip_msg_t *m;
		assert_int_equal(sip_msg_parse(b, n, a, &m, NULL), 0);
		ims_arena_fail_after(a, k);
		sip_msg_t *rsp = NULL, *cl = NULL;
		int r1 = sip_msg_new_response(a, m, 200, IMS_STR_NULL, IMS_STR("x"), &rsp);
		int r2 = r1 ? r1 : sip_msg_set_ruri(m, IMS_STR("sip:x@y"));
		int r3 = r2 ? r2 : sip_msg_remove_first_value(m, SIP_HDR_RECORD_ROUTE);
		int r4 = r3 ? r3 : sip_msg_clone(m, a, &cl);
		if (r4 == 0) {
			done = 1;
			assert_non_null(rsp);
			assert_non_null(cl);
		} else {
			assert_int_equal(r4, IMS_ENOMEM);
		}
		ims_arena_destroy(a);
	}
	assert_true(done);
	free(b);
}

/* ---- RFC 3261 §18.3 framing ------------------------------------------------- */

static void test_frame_stream_messages_and_keepalives(void **state)
{
	const char *one = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
			  "l: 3\r\n\r\nabc";
	size_t ol = strlen(one);
	char s[512];
	int n = snprintf(s, sizeof(s), "\r\n\r\n%s%s", one, one);
	size_t skip, len;
	assert_int_equal(sip_msg_frame(s, (size_t)n, 4096, &skip, &len), 0);
	assert_int_equal(skip, 4);
	assert_int_equal(len, ol);
	assert_int_equal(sip_msg_frame(s + skip + len, (size_t)n - skip - len, 4096, &skip, &len), 0);
	assert_int_equal(skip, 0);
	assert_int_equal(len, ol);
	/* every prefix asks for more bytes */
	for (size_t cut = 4; cut < 4 + ol; cut++)
		assert_int_equal(sip_msg_frame(s, cut, 4096, &skip, &len), IMS_EAGAIN);
	/* only keep-alives */
	assert_int_equal(sip_msg_frame("\r\n\r\n", 4, 4096, &skip, &len), IMS_EAGAIN);
	assert_int_equal(skip, 4);
	/* too large */
	assert_int_equal(sip_msg_frame(s, (size_t)n, 20, &skip, &len), IMS_ETOOBIG);
	char big[256];
	memset(big, 'a', sizeof(big));
	assert_int_equal(sip_msg_frame(big, sizeof(big), 100, &skip, &len), IMS_ETOOBIG);
	/* Content-Length is mandatory on streams; bad values refused */
	const char *nocl = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
	assert_int_equal(sip_msg_frame(nocl, strlen(nocl), 4096, &skip, &len), IMS_EPARSE);
	const char *neg = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n";
	assert_int_equal(sip_msg_frame(neg, strlen(neg), 4096, &skip, &len), IMS_EPARSE);
	const char *two = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
	assert_int_equal(sip_msg_frame(two, strlen(two), 4096, &skip, &len), IMS_EPARSE);
	const char *spaced = "OPTIONS sip:a@b SIP/2.0\r\ncontent-length  :\r\n  2\r\n\r\nab";
	assert_int_equal(sip_msg_frame(spaced, strlen(spaced), 4096, &skip, &len), 0);
	assert_int_equal(len, strlen(spaced));
	/* clerr over a stream: wait for the missing bytes */
	size_t cn;
	char *clerr = load("rfc4475/clerr.sip", &cn);
	assert_int_equal(sip_msg_frame(clerr, cn, 65536, &skip, &len), IMS_EAGAIN);
	free(clerr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_valid_message),
		cmocka_unit_test(test_proxy_edits_print_and_reparse),
		cmocka_unit_test(test_remove_first_value_of_a_list_header),
		cmocka_unit_test(test_add_positions_and_remove_all),
		cmocka_unit_test(test_body_edits_recompute_content_length),
		cmocka_unit_test(test_set_value_refreshes_eager_fields),
		cmocka_unit_test(test_edits_refuse_header_injection),
		cmocka_unit_test(test_print_reports_needed_size),
		cmocka_unit_test(test_new_response_copies_headers_and_adds_to_tag),
		cmocka_unit_test(test_edits_and_builders_out_of_memory),
		cmocka_unit_test(test_frame_stream_messages_and_keepalives),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
