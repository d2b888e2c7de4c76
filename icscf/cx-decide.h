/* What the I-CSCF does with a UAA (TS 24.229 §5.3.1.2) or a LIA
 * (§5.3.2.1), from the Cx result codes (TS 29.228 §6.1.1, §6.1.4,
 * TS 29.229 §6.2). Pure decisions, no I/O. */
#ifndef ICSCF_CX_DECIDE_H
#define ICSCF_CX_DECIDE_H

#include "base/ims_str.h"
#include "dia/cx-msg.h"
#include "route-select.h"

typedef enum icscf_action {
	ICSCF_FORWARD = 1, /* to `target` (the S-CSCF's URI) */
	ICSCF_REPLY,       /* answer `code` / `reason` */
} icscf_action_t;

typedef struct icscf_decision {
	icscf_action_t action;
	int code;             /* ICSCF_REPLY */
	const char *reason;   /* static text */
	ims_str_t target;     /* ICSCF_FORWARD: a view into the answer or the pool */
	int pool_index;       /* the pool entry chosen, -1 when the target came from Server-Name outside the pool */
} icscf_decision_t;

/* Decides on a UAA for a REGISTER: a Server-Name means forward there (its
 * pool URI when the pool knows the name); Server-Capabilities (or a
 * success without either) means select from the pool, skipping `tried`;
 * 5001/5002/5004 and DIAMETER_AUTHORIZATION_REJECTED mean 403 Forbidden;
 * no answer (timeout, unreachable, other errors) means 480 Temporarily
 * Unavailable; no S-CSCF in the pool qualifies: 600 Busy Everywhere
 * (TS 24.229 §5.3.1.2). Returns 0. */
int icscf_uaa_decide(const cx_answer_t *uaa, const icscf_pool_t *pool, uint32_t tried,
		     icscf_decision_t *d /* out */);

/* Decides on a LIA for an initial request to a home user: a Server-Name
 * (registered, or unregistered with services: 2003) means forward there;
 * capabilities mean select from the pool; 5001 means 404 Not Found; 5003
 * (identity not registered) means 480 Temporarily Unavailable; no answer
 * means 480; TS 24.229 §5.3.2.1. Returns 0. */
int icscf_lia_decide(const cx_answer_t *lia, const icscf_pool_t *pool, icscf_decision_t *d /* out */);

#endif
