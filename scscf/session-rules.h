/* The decisions of S-CSCF session routing, as pure functions over the
 * message model (TS 24.229 §5.4.3.2 originating, §5.4.3.3 terminating,
 * TS 23.218 §6). session.c strings them together with the proxy core;
 * keeping them here lets the unit tests check each rule alone.
 */
#ifndef SCSCF_SESSION_RULES_H
#define SCSCF_SESSION_RULES_H

#include <stdint.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "profile.h"
#include "sip/msg/sip_msg.h"

/* How a request reached the S-CSCF. */
typedef enum scscf_arrival {
	SCSCF_ARRIVAL_TERMINATING = 0, /* no own Route entry: Request-URI is the served user */
	SCSCF_ARRIVAL_ORIGINATING,     /* own Route entry with `orig` (the Service-Route) */
	SCSCF_ARRIVAL_ODI,             /* own Route entry with `odi`: back from an AS */
	SCSCF_ARRIVAL_IN_DIALOG,       /* has a To tag: follows its Route set */
} scscf_arrival_t;

typedef struct scscf_classify {
	scscf_arrival_t arrival;
	uint8_t own_route;   /* the top Route was ours (the caller removes it) */
	ims_str_t odi;       /* ODI: the token */
	ims_str_t served_user; /* ORIGINATING: AOR of P-Asserted-Identity (first sip/tel
				* value); TERMINATING: AOR of the Request-URI. In `a`. */
} scscf_classify_t;

/* Tells how the request arrived. `own_route` is the Route entry the proxy
 * core already removed because it was ours (sip_proxy_ctx_removed_route_
 * parsed), or NULL: then the top Route of `m` is compared with `own_uri`
 * (same host, same port with 5060 for none) and the caller removes it when
 * out->own_route says so. Returns 0 and *out, IMS_EPARSE when the Request-URI, the
 * top Route or (originating) P-Asserted-Identity does not parse, IMS_ENOENT
 * when an originating request has no P-Asserted-Identity, IMS_ENOMEM. */
int scscf_session_classify(struct sip_msg *m, const sip_nameaddr_t *own_route, ims_str_t own_uri,
			   ims_arena_t *a, scscf_classify_t *out /* out */);

/* The result of an AS leg (TS 24.229 §5.4.3.2 / §5.4.3.3, "default
 * handling"). */
typedef enum scscf_as_outcome {
	SCSCF_AS_RELAY = 0,   /* relay the response upstream as usual */
	SCSCF_AS_CONTINUE,    /* SESSION_CONTINUED: go on with the next iFC */
	SCSCF_AS_TERMINATE,   /* SESSION_TERMINATED: answer the caller with an error */
} scscf_as_outcome_t;

/* Decides what an AS failure means. status: the AS's final response, or 0
 * when the transaction to the AS timed out (no final response);
 * got_provisional: a 1xx other than 100 came from the AS. Only "no answer
 * or 408/5xx before the AS showed it was working on the request" invokes
 * default handling; anything else is relayed. */
scscf_as_outcome_t scscf_session_as_failure(scscf_default_handling_t dh, int status,
					    int got_provisional);

/* Where an AS's returned request continues (TS 24.229 §5.4.3.3 step 5 and
 * TS 24.604 §4.5.2.6.2: a terminating AS that changed the Request-URI to a
 * target that is not the served user has diverted the call; the S-CSCF
 * then runs the served user's ORIGINATING_CDIV iFCs from the start and
 * routes the request as an originating one). */
typedef struct scscf_resume {
	scscf_session_case_t session_case;
	unsigned next_ifc;
	uint8_t retargeted;   /* the Request-URI differs from what went to the AS */
} scscf_resume_t;

/* Given the stored odi state and the returned Request-URI, says where to
 * resume. `served_sp` is the served user's service profile (to tell if the
 * new target is still the served user, e.g. another identity of the same
 * set); may be NULL. */
void scscf_session_resume_point(scscf_session_case_t sc, unsigned next_ifc, ims_str_t sent_ruri,
				ims_str_t new_ruri, const scscf_service_profile_t *served_sp,
				scscf_resume_t *out /* out */);

/* Classification of an originating request's target (TS 24.229 §5.4.3.2
 * step 10). */
typedef enum scscf_target {
	SCSCF_TARGET_HOME = 0,  /* sip: in the home domain, or tel: served at home: to the I-CSCF */
	SCSCF_TARGET_FOREIGN,   /* another domain, or tel: not ours: breakout */
	SCSCF_TARGET_INVALID,   /* not a sip/sips/tel URI */
} scscf_target_t;

/* realm: the home domain. home_tel_prefixes: comma-separated prefixes of
 * tel: numbers that are home subscribers ("+1555,+1556"); empty means every
 * tel: is tried at home (the I-CSCF's LIR answers 404 for unknown ones). */
scscf_target_t scscf_session_target(ims_str_t ruri, ims_str_t realm, ims_str_t home_tel_prefixes);

/* Builds the two Route values that send a request to an AS and bring it
 * back (TS 24.229 §5.4.3.2 step 4 c): out[0] = "<AS;lr>", out[1] =
 * "<own;lr;odi=TOKEN>", to be pushed on top in this order. ";lr" is added
 * to a URI that lacks it. Returns 0 (strings in `a`), IMS_EINVAL when
 * server_name or own_uri is not a sip/sips URI, IMS_ENOMEM. */
int scscf_session_as_route(ims_arena_t *a, ims_str_t server_name, ims_str_t own_uri,
			   ims_str_t odi, ims_str_t out[2] /* out */);

/* TS 24.229 §5.4.3.2 step 4 / §7.6: when the iFC has ServiceInfo, the body
 * sent to the AS becomes multipart/mixed with the original body (if any)
 * and an application/3gpp-ims+xml part carrying <service-info>. Returns 0
 * with the new Content-Type and body in `a`, or IMS_ENOMEM.
 * scscf_session_service_info_xml gives the XML part alone (escaped). */
int scscf_session_service_info_xml(ims_arena_t *a, ims_str_t service_info, ims_str_t *out /* out */);

int scscf_session_service_info_body(ims_arena_t *a, ims_str_t content_type, ims_str_t body,
				    ims_str_t service_info, ims_str_t *out_ctype /* out */,
				    ims_str_t *out_body /* out */);

#endif
