/* Device hunting: the q-ordered plan and the sequential fork over the
 * proxy core (RFC 3261 §16.6, §16.7; see hunt-plan.h). */
#include "hunt-plan.h"

#include <string.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

/* /metrics: scscf_hunt_steps_total{step="first|next|ring_timeout"}. */
static void count_step(const char *step)
{
	ims_counter_inc(ims_metrics_counter("scscf_hunt_steps_total",
					    "Sequential hunting: groups started and ring times up", "step",
					    step));
}

int scscf_hunt_q(const scscf_binding_t *b)
{
	return b->q < 0 ? 1000 : b->q;
}

int scscf_hunt_plan_build(const scscf_binding_t *b, size_t n, int sequential, ims_arena_t *a,
			  scscf_hunt_plan_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!b || n == 0)
		return IMS_EINVAL;
	size_t *order = ims_arena_alloc(a, n * sizeof(*order));
	size_t *start = ims_arena_alloc(a, (n + 1) * sizeof(*start));
	if (!order || !start)
		return IMS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	size_t ng = 0;
	if (!sequential) {
		start[ng++] = 0;
	} else {
		/* Stable insertion sort by q, highest first (n is small: the
		 * registrar bounds the contacts of one registration). */
		for (size_t i = 1; i < n; i++) {
			size_t v = order[i], j = i;
			while (j > 0 && scscf_hunt_q(&b[order[j - 1]]) < scscf_hunt_q(&b[v])) {
				order[j] = order[j - 1];
				j--;
			}
			order[j] = v;
		}
		for (size_t i = 0; i < n; i++)
			if (i == 0 || scscf_hunt_q(&b[order[i]]) != scscf_hunt_q(&b[order[i - 1]]))
				start[ng++] = i;
	}
	start[ng] = n;
	out->order = order;
	out->group_start = start;
	out->n_groups = ng;
	out->n = n;
	return 0;
}

struct scscf_hunt {
	const sip_proxy_target_t *targets;
	const scscf_hunt_plan_t *plan;
	uint32_t ring_ms;
	size_t group;               /* the group ringing now */
	uint8_t timed_out;          /* its ring time is up: we cancelled it */
	uint8_t over;               /* a 2xx or 6xx ended the hunt */
	sip_proxy_timer_t *timer;
};

static void ring_timeout(sip_proxy_ctx_t *pctx, void *arg);

/* Sends group g (and the following ones while a whole group cannot be
 * sent). Returns 0 when some branch went out, else the last error. */
static int send_group(scscf_hunt_t *h, sip_proxy_ctx_t *pctx, size_t g, int later)
{
	int rc = IMS_EINVAL;
	for (; g < h->plan->n_groups; g++) {
		size_t lo = h->plan->group_start[g], hi = h->plan->group_start[g + 1];
		int sent = 0;
		h->group = g;
		h->timed_out = 0;
		if (!later) {
			/* the proxy core wants one contiguous array for a fork */
			sip_proxy_target_t *t = ims_arena_alloc(sip_proxy_ctx_arena(pctx), (hi - lo) * sizeof(*t));
			if (!t)
				return IMS_ENOMEM;
			for (size_t i = lo; i < hi; i++)
				t[i - lo] = h->targets[h->plan->order[i]];
			rc = sip_proxy_fork(pctx, t, hi - lo);
			sent = rc == 0;
		} else {
			for (size_t i = lo; i < hi; i++) {
				int r = sip_proxy_add_branch(pctx, &h->targets[h->plan->order[i]], NULL);
				if (r == 0)
					sent = 1;
				else
					rc = r;
			}
		}
		if (rc == IMS_ESTATE)
			return rc;
		if (!sent)
			continue;
		LOG_INFO("scscf", "hunt.group group=%zu of=%zu contacts=%zu call_id=%.*s", g + 1,
			 h->plan->n_groups, hi - lo, IMS_STR_FMT(sip_proxy_ctx_msg(pctx)->call_id));
		count_step(g == 0 ? "first" : "next");
		/* RFC 3261 §16.6: each group rings for the ring time, the last
		 * one until it is answered, fails or times out (timer C). */
		if (h->ring_ms && g + 1 < h->plan->n_groups &&
		    sip_proxy_ctx_timer(pctx, h->ring_ms, ring_timeout, h, &h->timer) != 0)
			h->timer = NULL; /* no memory: the group rings until it fails */
		return 0;
	}
	return rc;
}

static void ring_timeout(sip_proxy_ctx_t *pctx, void *arg)
{
	scscf_hunt_t *h = arg;
	h->timer = NULL; /* fired: the record is the proxy's to forget */
	if (h->over || sip_proxy_ctx_pending(pctx) == 0)
		return;
	h->timed_out = 1;
	count_step("ring_timeout");
	LOG_INFO("scscf", "hunt.ring_timeout group=%zu call_id=%.*s", h->group + 1,
		 IMS_STR_FMT(sip_proxy_ctx_msg(pctx)->call_id));
	/* RFC 3326: tell the devices why they stop ringing. */
	sip_proxy_cancel_all(pctx, IMS_STR("SIP;cause=480;text=\"No answer\""));
}

int scscf_hunt_start(sip_proxy_ctx_t *pctx, const sip_proxy_target_t *targets,
		     const scscf_hunt_plan_t *plan, uint32_t ring_ms, int later, scscf_hunt_t **out)
{
	*out = NULL;
	if (!plan || plan->n_groups == 0)
		return IMS_EINVAL;
	scscf_hunt_t *h = ims_arena_zalloc(sip_proxy_ctx_arena(pctx), sizeof(*h));
	if (!h)
		return IMS_ENOMEM;
	h->targets = targets;
	h->plan = plan;
	h->ring_ms = ring_ms;
	int rc = send_group(h, pctx, 0, later);
	if (rc)
		return rc;
	*out = h;
	return 0;
}

int scscf_hunt_on_response(scscf_hunt_t *h, sip_proxy_ctx_t *pctx, sip_proxy_branch_t *b,
			   const sip_msg_t *rsp)
{
	(void)b;
	int code = rsp->status;
	if (!h || code < 200 || h->over)
		return SIP_PROXY_CONTINUE;
	if (code < 300 || code >= 600) {
		/* §16.7 steps 5-6: answered, or declined by a human: the core
		 * cancels the rest and the hunt is over. */
		h->over = 1;
		sip_proxy_timer_stop(h->timer);
		h->timer = NULL;
		return SIP_PROXY_CONTINUE;
	}
	int absorb = code == 487 && h->timed_out;
	if (sip_proxy_ctx_pending(pctx) > 0 || sip_proxy_ctx_cancelled(pctx) || sip_proxy_ctx_done(pctx) ||
	    h->group + 1 >= h->plan->n_groups)
		return absorb ? SIP_PROXY_ABSORB : SIP_PROXY_CONTINUE;
	/* The whole group failed or was not answered in time: the next q. */
	sip_proxy_timer_stop(h->timer);
	h->timer = NULL;
	LOG_INFO("scscf", "hunt.next after=%d group=%zu call_id=%.*s", code, h->group + 2,
		 IMS_STR_FMT(sip_proxy_ctx_msg(pctx)->call_id));
	if (send_group(h, pctx, h->group + 1, 1) != 0)
		return SIP_PROXY_CONTINUE; /* nothing more to try: this answer counts */
	return absorb ? SIP_PROXY_ABSORB : SIP_PROXY_CONTINUE;
}

size_t scscf_hunt_group(const scscf_hunt_t *h)
{
	return h ? h->group : 0;
}

size_t scscf_hunt_groups(const scscf_hunt_t *h)
{
	return h && h->plan ? h->plan->n_groups : 0;
}
