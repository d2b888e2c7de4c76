/* libFuzzer target: the registrar's reading of a REGISTER
 * (scscf_reg_req_parse: To AOR, credentials, Path, Contacts with q,
 * expires, reg-id and "*") after sip_msg_parse, then the reg-event
 * document the S-CSCF would NOTIFY for the bindings it read
 * (scscf_reginfo_build), which must be well-formed XML.
 *
 * Invariants (abort on failure): the result is 0, IMS_EPARSE with a
 * reason (the daemon answers "400 <reason>") or IMS_ENOMEM; accepted
 * bindings expire within [now, now + max_expires] with q in -1..1000;
 * "*" is only accepted alone. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "log/ims_log.h"
#include "reg-parse.h"
#include "regevent.h"
#include "sip/msg/sip_msg.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#define NOW 1700000000

static scscf_cfg_t cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ims_log_set_level(IMS_LOG_ERROR);
	cfg.realm = "ims.mnc001.mcc001.3gppnetwork.org";
	cfg.default_expires = 3600;
	cfg.min_expires = 60;
	cfg.max_expires = 7200;
	cfg.auth_default = SCSCF_AUTH_AKA;
	xmlInitParser();
	return 0;
}

static void check_reginfo(const scscf_reg_req_t *r)
{
	char *xml = NULL;
	size_t len = 0;
	ims_str_t impus[1] = { r->impu };
	/* full (live bindings) and partial (every binding, with its event) */
	for (int full = 0; full < 2; full++) {
		CHECK(scscf_reginfo_build(1, full, impus, 1, r->contacts, r->n_contacts, NOW, &xml,
					  &len) == 0);
		CHECK(len <= (size_t)INT32_MAX);
		xmlDoc *doc = xmlReadMemory(xml, (int)len, "reginfo.xml", NULL,
					    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		CHECK(doc); /* peer strings must come out escaped */
		xmlFreeDoc(doc);
		free(xml);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ims_arena_t *a = ims_arena_create(8192);
	CHECK(a);
	char *buf = ims_arena_alloc(a, size + 1);
	CHECK(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	sip_msg_t *m = NULL;
	if (sip_msg_parse(buf, size, a, &m, NULL) != 0)
		goto out;
	scscf_reg_req_t r;
	const char *why = NULL;
	int rc = scscf_reg_req_parse(m, &cfg, IMS_STR("sip:192.0.2.1:5060;transport=udp"), NOW, a,
				     &r, &why);
	CHECK(rc == 0 || rc == IMS_EPARSE || rc == IMS_ENOMEM);
	if (rc == IMS_EPARSE)
		CHECK(why && why[0]);
	if (rc != 0)
		goto out;
	CHECK(r.impu.len && r.impi.len);
	CHECK(!r.star || r.n_contacts == 0);
	for (size_t i = 0; i < r.n_contacts; i++) {
		const scscf_binding_t *b = &r.contacts[i];
		CHECK(b->expires >= NOW && b->expires <= NOW + (int64_t)cfg.max_expires);
		CHECK(b->q >= -1 && b->q <= 1000);
		CHECK(b->uri.len > 0 && b->params.s);
	}
	check_reginfo(&r);
out:
	ims_arena_destroy(a);
	return 0;
}
