/* libFuzzer target: sip_msg_parse, then every on-demand parser on every
 * header value, print -> parse round trip, and a proxy-style edit
 * (remove top Via, add Via and Record-Route, new Request-URI) printed and
 * parsed again. Invariant failures abort. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"

#define CHECK(x)                    \
	do {                        \
		if (!(x))           \
			abort();    \
	} while (0)

static int is_nameaddr_hdr(sip_hdr_id_t id)
{
	switch (id) {
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_CONTACT:
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_PATH:
	case SIP_HDR_SERVICE_ROUTE:
	case SIP_HDR_P_ASSERTED_IDENTITY:
	case SIP_HDR_P_PREFERRED_IDENTITY:
	case SIP_HDR_P_ASSOCIATED_URI:
	case SIP_HDR_P_CALLED_PARTY_ID:
	case SIP_HDR_REFER_TO:
		return 1;
	default:
		return 0;
	}
}

static void typed_values(sip_msg_t *m, ims_arena_t *a)
{
	for (sip_hdr_t *h = m->hdrs; h; h = h->next) {
		sip_val_iter_t it = { 0 };
		ims_str_t v, pv;
		int guard = 0;
		if (h->id == SIP_HDR_AUTHORIZATION || h->id == SIP_HDR_PROXY_AUTHORIZATION ||
		    h->id == SIP_HDR_WWW_AUTHENTICATE || h->id == SIP_HDR_PROXY_AUTHENTICATE) {
			sip_auth_t au;
			(void)sip_auth_parse(h->value, a, &au);
			continue;
		}
		while (sip_hdr_next_value(h, &it, &v) == 1 && guard++ < 1000) {
			if (is_nameaddr_hdr(h->id)) {
				sip_nameaddr_t na;
				if (sip_nameaddr_parse(v, a, &na) == 0 && !na.star) {
					ims_str_t aor;
					CHECK(sip_uri_equal(&na.uri, &na.uri));
					(void)sip_uri_aor(&na.uri, a, &aor);
					(void)sip_param_find(na.param_list, "tag", &pv);
				}
			} else if (h->id == SIP_HDR_VIA) {
				sip_via_t via;
				(void)sip_via_parse(v, a, &via);
			} else {
				/* any value through every parser: none may misbehave */
				sip_nameaddr_t na;
				sip_via_t via;
				sip_auth_t au;
				sip_uri_t u;
				(void)sip_params_find(v, "q", &pv);
				(void)sip_nameaddr_parse(v, a, &na);
				(void)sip_via_parse(v, a, &via);
				(void)sip_auth_parse(v, a, &au);
				if (sip_uri_parse(v, a, &u) == 0)
					CHECK(sip_uri_equal(&u, &u));
			}
		}
	}
	const sip_uri_t *ru = sip_msg_ruri(m);
	if (ru) {
		ims_str_t aor;
		CHECK(sip_uri_equal(ru, ru));
		(void)sip_uri_aor(ru, a, &aor);
	}
}

static int live_count(const sip_msg_t *m)
{
	int n = 0;
	for (const sip_hdr_t *h = m->hdrs; h; h = h->next)
		if (!(h->flags & SIP_HDRF_DELETED))
			n++;
	return n;
}

static void same_message(const sip_msg_t *x, const sip_msg_t *y)
{
	CHECK(x->is_request == y->is_request);
	if (x->is_request) {
		CHECK(ims_str_eq(x->method, y->method));
		CHECK(ims_str_eq(x->ruri, y->ruri));
	} else {
		CHECK(x->status == y->status);
		CHECK(ims_str_eq(x->reason, y->reason));
	}
	CHECK(ims_str_eq(x->call_id, y->call_id));
	CHECK(x->cseq == y->cseq);
	CHECK(ims_str_eq(x->body, y->body));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t skip, flen;
	(void)sip_msg_frame(buf, size, 65536, &skip, &flen);

	ims_arena_t *a = ims_arena_create(4096);
	sip_msg_t *m;
	sip_parse_err_t err;
	if (sip_msg_parse(buf, size, a, &m, &err) != 0) {
		CHECK(err.reason[0] != '\0');
		goto out;
	}
	typed_values(m, a);

	/* unedited: prints exactly its input, and parses to the same thing */
	ims_str_t txt;
	CHECK(sip_msg_print_arena(m, a, &txt) == 0);
	CHECK(txt.len == m->len && memcmp(txt.s, m->buf, txt.len) == 0);
	sip_msg_t *m2;
	CHECK(sip_msg_parse(txt.s, txt.len, a, &m2, NULL) == 0);
	same_message(m, m2);
	CHECK(live_count(m) == live_count(m2));

	/* edited: still a valid message */
	CHECK(sip_msg_remove_first_value(m, SIP_HDR_VIA) == 0);
	CHECK(sip_msg_hdr_add(m, SIP_HDR_VIA, IMS_STR_NULL,
			      IMS_STR("SIP/2.0/UDP fuzz.example.com;branch=z9hG4bKfuzz;rport"), SIP_POS_TOP));
	CHECK(sip_msg_hdr_add(m, SIP_HDR_RECORD_ROUTE, IMS_STR_NULL, IMS_STR("<sip:fuzz.example.com;lr>"),
			      SIP_POS_TOP));
	if (m->is_request)
		CHECK(sip_msg_set_ruri(m, IMS_STR("sip:fuzz@example.com")) == 0);
	CHECK(sip_msg_print_arena(m, a, &txt) == 0);
	sip_msg_t *m3;
	CHECK(sip_msg_parse(txt.s, txt.len, a, &m3, NULL) == 0);
	same_message(m, m3);
	CHECK(ims_str_eq_c(m3->via1.branch, "z9hG4bKfuzz"));
	CHECK(live_count(m) + (sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH) ? 0 : 1) == live_count(m3));
	if (m->is_request) {
		sip_msg_t *rsp;
		CHECK(sip_msg_new_response(a, m3, 200, IMS_STR_NULL, IMS_STR("ft"), &rsp) == 0);
		CHECK(sip_msg_print_arena(rsp, a, &txt) == 0);
	}
out:
	ims_arena_destroy(a);
	free(buf);
	return 0;
}
