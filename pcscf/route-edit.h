/* P-CSCF edits on requests crossing the trust boundary (TS 24.229 §5.2.6,
 * RFC 3325 §5): header hygiene, identity assertion, Service-Route. */
#ifndef PCSCF_ROUTE_EDIT_H
#define PCSCF_ROUTE_EDIT_H

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "sip/msg/sip_msg.h"
#include "reg-store.h"

/* Removes every header a UE is not allowed to set, because only the network
 * vouches for it (TS 24.229 §5.2.6.3.1, §5.2.2.1; RFC 3325 §5 trust
 * domain; RFC 7315 §4 P-Charging-*): P-Asserted-Identity,
 * P-Charging-Vector, P-Charging-Function-Addresses, P-Visited-Network-ID,
 * P-Called-Party-ID, P-Served-User, P-Profile-Key, P-Asserted-Service.
 * Returns the number of headers removed. */
int pcscf_strip_untrusted(sip_msg_t *m);

/* RFC 3329 §2.3.1 / TS 24.229 §5.2.2.1: security agreement runs between
 * the UE and its P-CSCF only: removes Security-Client and Security-Verify
 * and the "sec-agree" option tag from Require and Proxy-Require (a header
 * left empty goes). Returns the number of headers changed or removed, or
 * IMS_ENOMEM. */
int pcscf_strip_sec_agree(sip_msg_t *m);

/* Asserts the UE's identity (TS 24.229 §5.2.6.3.1, RFC 3325 §6): removes
 * P-Preferred-Identity and any P-Asserted-Identity, then adds
 * P-Asserted-Identity with the preferred identity when it is one of the
 * registration's public identities, else the default one (the first
 * P-Associated-URI, else the registered impu). The chosen URI is returned
 * in *asserted (a view into reg or the message). Returns 0, IMS_ENOENT (the
 * registration has no identity), IMS_ENOMEM. */
int pcscf_assert_identity(sip_msg_t *m, const pcscf_reg_t *reg, ims_str_t *asserted /* out */);

/* Replaces the Route set of an initial request from a UE with the stored
 * Service-Route (TS 24.229 §5.2.6.3.1, RFC 3608 §5.2). Returns 0 or
 * IMS_ENOMEM. */
int pcscf_push_service_route(sip_msg_t *m, const pcscf_reg_t *reg);

/* TS 24.229 §5.2.6.3.1: an initial request from a registered flow must
 * also name a registered contact: 1 when the request's Contact has the
 * host and port of one of the registration's contacts, or is a GRUU
 * (RFC 5627 ";gr", not a host:port), or the request has no Contact
 * (MESSAGE, OPTIONS...); 0 otherwise. */
int pcscf_contact_is_registered(const sip_msg_t *m, const pcscf_reg_t *reg);

/* 1 when `route` (a Route value, "<sip:...;lr>") names our Path URI:
 * user part `user` (e.g. "term") at host:port of `self`. */
int pcscf_route_is_ours(ims_str_t route, ims_str_t self_host, uint16_t self_port,
			ims_str_t user);

/* 1 for a dialog-initiating request (no To tag; RFC 3261 §12.1). */
int pcscf_is_initial(const sip_msg_t *m);

#endif
