/* Following redirections (issue 9): a 3xx from a device of the served user
 * or from an application server on the terminating side.
 *
 * RFC 3261 §16.5 / §16.7 step 4: a proxy may recurse on the Contacts of a
 * 3xx instead of passing it upstream. The S-CSCF does so only for a
 * Contact in the home domain (scscf_session_target: sip: in the realm, or
 * a home tel: number), the highest q first, once per request (no redirect
 * chains), and only while Max-Forwards allows one more hop; the new branch
 * goes to the I-CSCF, which finds the S-CSCF of the new target (TS 24.229
 * §5.4.3.2 step 10), with ";cause=<3xx code>" on its Request-URI (RFC
 * 4458), which tells any S-CSCF on the way that this request was already
 * redirected once. Anything else (a foreign Contact, a second 3xx, no
 * Contact) goes back to the caller, whose UA decides (§8.1.3.4).
 */
#ifndef SCSCF_REDIRECT_FOLLOW_H
#define SCSCF_REDIRECT_FOLLOW_H

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "sip/msg/sip_msg.h"
#include "sip/proxy/sip_proxy.h"

/* Decides whether the final response `rsp` is a 3xx to follow.
 * max_forwards: of the request being proxied (-1 when absent, counts as
 * 70); depth: redirections already followed for it; cur_target: its
 * current Request-URI (a Contact equal to it is not followed: a loop).
 * Returns 1 with *target (the chosen Contact's URI with ";cause=<code>",
 * in `a`), 0 when the response goes upstream as it is (also when
 * cur_target already has a cause parameter), IMS_ENOMEM. */
int scscf_redirect_pick(sip_msg_t *rsp, int max_forwards, unsigned depth, ims_str_t cur_target,
			ims_str_t realm, ims_str_t home_tel_prefixes, ims_arena_t *a,
			ims_str_t *target /* out */);

/* For on_response: when scscf_redirect_pick says so, adds a branch to the
 * chosen Contact through icscf_uri (sip_proxy_add_branch), counts it in
 * *depth and returns SIP_PROXY_ABSORB; otherwise SIP_PROXY_CONTINUE (also
 * when the branch cannot be added: the 3xx then goes upstream). */
int scscf_redirect_on_response(sip_proxy_ctx_t *pctx, sip_msg_t *rsp, ims_str_t realm,
			       ims_str_t home_tel_prefixes, ims_str_t icscf_uri,
			       unsigned *depth /* in/out */);

#endif
