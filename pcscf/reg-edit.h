/* P-CSCF edits on the registration path (TS 24.229 §5.2.2):
 * the REGISTER on its way to the I-CSCF, the 401 and the 200 on the way
 * back to the UE. Pure message logic: no I/O, no store access. */
#ifndef PCSCF_REG_EDIT_H
#define PCSCF_REG_EDIT_H

#include <stdint.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "sip/msg/sip_msg.h"
#include "reg-store.h"

typedef struct pcscf_reg_opts {
	ims_str_t path_uri;           /* our Path URI, e.g. "sip:term@127.0.0.1:5060;lr" */
	ims_str_t visited_network_id; /* P-Visited-Network-ID value (a token or quoted string) */
	ims_str_t icid_host;          /* icid-generated-at (our address) */
	ims_str_t orig_ioi;           /* orig-ioi (our network's domain); may be empty */
} pcscf_reg_opts_t;

/* Writes a fresh random IMS charging identifier (32 hex digits + NUL) for
 * P-Charging-Vector (TS 24.229 §7.2A.5, RFC 7315 §5.6). Returns 0 or IMS_EIO. */
int pcscf_icid_new(char out[33]);

/* Adds P-Charging-Vector with a fresh icid-value, icid-generated-at and
 * orig-ioi (TS 24.229 §5.2.6.3.1 for initial requests, §5.2.2.1 for
 * REGISTER; RFC 7315 §4.6). Returns 0, IMS_ENOMEM, IMS_EIO. */
int pcscf_add_charging_vector(sip_msg_t *m, const pcscf_reg_opts_t *o);

/* Prepares a REGISTER from a UE for the home network (TS 24.229 §5.2.2.1):
 * removes the headers a UE may not set (pcscf_strip_untrusted) and the
 * security-agreement ones (pcscf_strip_sec_agree), inserts
 * our Path at the top (RFC 3327 §5), adds "path" to Require and Supported,
 * sets P-Visited-Network-ID and a P-Charging-Vector with a new icid.
 * Everything is allocated in the message's arena. Returns 0, IMS_ENOMEM,
 * IMS_EIO (no randomness). */
int pcscf_reg_prepare(sip_msg_t *reg, const pcscf_reg_opts_t *o);

/* TS 33.203 §7.1 / TS 24.229 §5.2.2.1: on a 401 to a REGISTER the P-CSCF
 * takes the ck and ik parameters out of every WWW-Authenticate before the
 * response reaches the UE. Their values (without quotes) are returned in
 * *ck and *ik, copied into `a` (empty when absent; either may be NULL).
 * Returns the number of headers changed (>= 0), or IMS_ENOMEM /
 * IMS_EPARSE (an unterminated quoted string). */
int pcscf_reg_strip_keys(sip_msg_t *resp, ims_arena_t *a, ims_str_t *ck /* out */,
			 ims_str_t *ik /* out */);

/* Removes the auth-params named `drop` (NULL-terminated list, case-
 * insensitive) from one challenge value ("Digest a=1, ck=\"..\", ..."),
 * writing the rest into `a`. The removed values for "ck" and "ik" are
 * returned when the pointers are given. Returns 1 when something was
 * removed, 0 when nothing was, IMS_EPARSE, IMS_ENOMEM. Exposed for tests. */
int pcscf_challenge_drop_params(ims_str_t in, ims_arena_t *a, ims_str_t *out /* out */,
				ims_str_t *ck /* out, may be NULL */,
				ims_str_t *ik /* out, may be NULL */);

/* Builds the registration to store from a 200 (OK) to a REGISTER
 * (TS 24.229 §5.2.2.1): the contacts of the REGISTER the 200 confirms, with
 * the expiry the registrar granted (the Contact's expires param in the 200,
 * else its Expires header, else the request's), Service-Route values and
 * the P-Associated-URI set. `req` is the REGISTER as the UE sent it.
 * Result in arena `a`; expires_at = now + granted expiry. A 200 that grants
 * 0 (a de-registration) gives IMS_ENOENT. Returns 0, IMS_ENOENT,
 * IMS_EPARSE (no usable Contact or To), IMS_ENOMEM. */
int pcscf_reg_from_ok(const sip_msg_t *req, const sip_msg_t *ok, const pcscf_flow_t *flow, int64_t now,
		      ims_arena_t *a, pcscf_reg_t **out /* out */);

/* The expiry a REGISTER asks for (the first Contact's expires param, else
 * Expires, else 3600, RFC 3261 §10.2.1.1). 0 means de-registration. */
int64_t pcscf_reg_requested_expiry(const sip_msg_t *req);

#endif
