/* Device hunting for a terminating request (issue 9): which registered
 * contacts of the served user are tried, in which order and how long.
 *
 * RFC 3261 §16.6: a proxy may try targets in parallel or in sequence; with
 * q-values (§10.2.1.2, §20.10) the targets are tried from the highest q to
 * the lowest, those with equal q in parallel. The subscriber chooses in the
 * HSS record (`"hunting": "parallel" | "sequential"`, sent in User-Data as
 * <Extension><HuntingPolicy>): parallel rings every device at once;
 * sequential rings one q group at a time, each for session.hunt_ring_time
 * seconds, and moves on when the group has failed (3xx-5xx or no answer)
 * or its ring time is up. A 2xx or a 6xx (a human said no) ends the hunt
 * (§16.7 steps 5-6, done by the proxy core).
 *
 * scscf_hunt_plan_build is pure (unit tested); scscf_hunt_start and
 * scscf_hunt_on_response drive the proxy core for session.c.
 */
#ifndef SCSCF_HUNT_PLAN_H
#define SCSCF_HUNT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/ims_arena.h"
#include "reg-store.h"
#include "sip/proxy/sip_proxy.h"

/* The q-value x1000 a contact is hunted with: its own, or 1000 when it
 * gave none (RFC 3261 leaves the default to the proxy; 1.0 puts a device
 * that states no preference first, as most registrars do). */
int scscf_hunt_q(const scscf_binding_t *b);

typedef struct scscf_hunt_plan {
	size_t *order;       /* binding indexes, group after group */
	size_t *group_start; /* n_groups + 1 offsets into order */
	size_t n_groups;
	size_t n;            /* number of indexes in order */
} scscf_hunt_plan_t;

/* Orders the n bindings for hunting. sequential = 0: one group with every
 * binding (in the given order). sequential = 1: groups of equal q, highest
 * q first; inside a group the given order is kept (stable). Arrays in `a`.
 * Returns 0 and *out, IMS_EINVAL (n == 0), IMS_ENOMEM. */
int scscf_hunt_plan_build(const scscf_binding_t *b, size_t n, int sequential, ims_arena_t *a,
			  scscf_hunt_plan_t *out /* out */);

/* A running hunt (lives in the context arena). */
typedef struct scscf_hunt scscf_hunt_t;

/* Starts hunting: sends the first group of `targets` (targets[i] is the
 * branch to binding i of the plan) and, when more groups follow, arms the
 * ring timer (ring_ms, 0 = no limit: a group rings until it fails).
 * later = 0: from on_request (sip_proxy_fork); 1: from on_response
 * (sip_proxy_add_branch). targets and plan must live as long as the
 * context. Returns 0 and *out, or an error of the proxy core
 * (IMS_ESTATE: the request already ended, nothing sent). */
int scscf_hunt_start(sip_proxy_ctx_t *pctx, const sip_proxy_target_t *targets,
		     const scscf_hunt_plan_t *plan, uint32_t ring_ms, int later,
		     scscf_hunt_t **out /* out */);

/* For session.c's on_response, on a contact branch of a hunt: a final
 * 3xx-5xx that leaves the current group with no pending branch starts the
 * next group (the response is still collected for the best-response
 * choice, §16.7 step 6), except a 487 caused by our own ring-time CANCEL,
 * which is absorbed. A 2xx or 6xx ends the hunt. Returns
 * SIP_PROXY_CONTINUE or SIP_PROXY_ABSORB. */
int scscf_hunt_on_response(scscf_hunt_t *h, sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b,
			   const sip_msg_t *rsp);

/* The group now ringing (0-based) and the number of groups. */
size_t scscf_hunt_group(const scscf_hunt_t *h);
size_t scscf_hunt_groups(const scscf_hunt_t *h);

#endif
