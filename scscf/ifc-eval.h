/* Initial Filter Criteria: compile once per profile, evaluate per request
 * (TS 29.228 Annex B.2.2 and Annex C, TS 23.218 §6).
 *
 * scscf_ifc_compile() runs when the profile arrives (SAA/PPR): each
 * Request-URI / Content regex is compiled with POSIX regcomp
 * (REG_EXTENDED | REG_NOSUB) and each trigger point's SPTs are grouped by
 * Group id. Evaluation then only runs regexec over views of the request
 * (no NUL is ever written into the message) and touches no shared state,
 * so one compiled profile serves every worker thread.
 */
#ifndef SCSCF_IFC_EVAL_H
#define SCSCF_IFC_EVAL_H

#include "profile.h"

struct sip_msg;

/* A header as the evaluator sees it (tests and fuzzing build these). */
typedef struct scscf_hdr_view {
	ims_str_t name;
	ims_str_t value;
} scscf_hdr_view_t;

/* What an iFC looks at in one request. Headers come from `msg` when it is
 * set (every live header in wire order), else from hdrs[0..n_hdrs). */
typedef struct scscf_ifc_req {
	ims_str_t method;
	ims_str_t ruri;
	const struct sip_msg *msg;
	const scscf_hdr_view_t *hdrs;
	unsigned n_hdrs;
	ims_str_t content_type;   /* empty: the body is taken as SDP when it looks like SDP */
	ims_str_t body;
	int reg_type;             /* REGISTER: SCSCF_REGTYPE_* value, 0 when unknown */
} scscf_ifc_req_t;

/* Fills a request view from a parsed SIP request (views into it; valid as
 * long as the message). */
void scscf_ifc_req_from_msg(const struct sip_msg *m, scscf_ifc_req_t *out /* out */);

/* Compiles every trigger point of the profile. An iFC whose regex does not
 * compile is marked `invalid` (never matches) and logged with its server
 * name and priority; the rest of the profile stays usable.
 * Returns 0, or IMS_ENOMEM (the profile is then left uncompiled and must
 * be freed). Calling it twice is a no-op. */
int scscf_ifc_compile(scscf_profile_t *p);

/* 1 when `uri` matches the compiled wildcarded PSI of `u` (TS 23.003
 * §13.5), else 0 (also for identities that are not wildcarded). */
int scscf_ifc_wildcard_match(const scscf_impu_t *u, ims_str_t uri);

/* Frees the regexes of a compiled profile (scscf_profile_free calls it). */
void scscf_ifc_release(scscf_profile_t *p);

/* Does one iFC match the request in this session case? `registered` is the
 * served user's registration state, checked against ProfilePartIndicator.
 * Returns 1 or 0. */
int scscf_ifc_match(const scscf_ifc_t *f, const scscf_ifc_req_t *req,
		    scscf_session_case_t sc, int registered);

/* The first iFC of `sp`, in priority order, at index >= start that matches.
 * Returns its index, or -1 when none is left. TS 24.229 §5.4.3.2/§5.4.3.3:
 * after an AS returns the request, evaluation resumes at the index after
 * the iFC that sent it there. */
int scscf_ifc_next(const scscf_service_profile_t *sp, unsigned start,
		   const scscf_ifc_req_t *req, scscf_session_case_t sc, int registered);

#endif
