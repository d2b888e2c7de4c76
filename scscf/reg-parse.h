/* Reading a REGISTER for the registrar (RFC 3261 §10.3, RFC 3327, RFC 5626,
 * TS 24.229 §5.4.1.2): the AOR, the private identity, the credentials and
 * the requested bindings with their expiry already resolved. */
#ifndef SCSCF_REG_PARSE_H
#define SCSCF_REG_PARSE_H

#include <stdint.h>

#include "base/ims_arena.h"
#include "context.h"
#include "reg-store.h"
#include "sip/msg/sip_msg.h"

typedef struct scscf_reg_req {
	ims_str_t impu;          /* AOR of the To URI (sip_uri_aor) */
	ims_str_t impi;          /* Authorization username, else derived from impu */
	int has_auth_hdr;        /* an Authorization header for our realm exists */
	int has_response;        /* ...and it carries a nonce and a response (or auts) */
	sip_auth_t cred;         /* that header, parsed */
	scscf_auth_scheme_t scheme; /* from its algorithm, else the configured default */
	int integrity_protected; /* TS 24.229 §5.4.1.1: "yes", "tls-yes", "ip-assoc-yes", "tls-connected" */
	scscf_binding_t *contacts; /* expires resolved to ABSOLUTE times (== now: remove) */
	size_t n_contacts;
	int star;                /* Contact: * */
	ims_str_t path;          /* every Path value, comma separated, as received */
	uint32_t min_expires;    /* non-zero: some expiry was too brief (answer 423) */
} scscf_reg_req_t;

/* Parses what the registrar needs from REGISTER `m`. `received` is the
 * source of the request as a SIP URI ("sip:ip:port;transport=udp"), stored
 * with each binding. Strings are views into m or copies in `a`.
 * Returns 0, or IMS_EPARSE with a short reason in *why (a static string)
 * for: a To that is not a SIP/TEL URI, an unparsable Contact, "*" mixed
 * with other contacts or with Expires other than 0 (RFC 3261 §10.3 step
 * 6), an expires value that is not a number. IMS_ENOMEM. */
int scscf_reg_req_parse(sip_msg_t *m, const scscf_cfg_t *cfg, ims_str_t received, int64_t now,
			ims_arena_t *a, scscf_reg_req_t *out /* out */, const char **why /* out */);

/* TS 23.003 §13.3 / TS 24.229 §5.4.1.2.1: without an Authorization
 * header the private identity is derived from the public one by dropping
 * the scheme ("sip:user@realm" -> "user@realm"; "tel:+1" -> "+1@realm").
 * Returns 0 or IMS_ENOMEM. */
int scscf_reg_derive_impi(ims_str_t impu, ims_str_t realm, ims_arena_t *a, ims_str_t *out /* out */);

#endif
