/* Timers bound to a request context (sip_proxy.h "context timers"): a
 * daemon's own deadlines on the worker's timer heap, e.g. the ring time of
 * one group of contacts in sequential forking (RFC 3261 §16.6: "the proxy
 * decides when to try the next target"). */
#include "sip/proxy/proxy-int.h"

#include "base/ims_err.h"

struct sip_proxy_timer {
	ims_timer_t t;
	sip_proxy_ctx_t *ctx;
	sip_proxy_timer_fn fn;
	void *arg;
	uint8_t armed;
};

static void timer_fire(ims_timer_t *it, void *arg)
{
	(void)it;
	sip_proxy_timer_t *t = arg;
	sip_proxy_ctx_t *ctx = t->ctx;
	t->armed = 0;
	if (!ctx->final_sent && !ctx->cancelled)
		t->fn(ctx, t->arg);
	sip_proxy__ctx_unref(ctx); /* the timer's reference; may free t */
}

int sip_proxy_ctx_timer(sip_proxy_ctx_t *ctx, uint32_t delay_ms, sip_proxy_timer_fn fn, void *arg,
			sip_proxy_timer_t **out)
{
	if (out)
		*out = NULL;
	if (!ctx || !fn)
		return IMS_EINVAL;
	sip_proxy_timer_t *t = ims_arena_zalloc(ctx->arena, sizeof(*t));
	if (!t)
		return IMS_ENOMEM;
	t->ctx = ctx;
	t->fn = fn;
	t->arg = arg;
	ims_timer_init(&t->t, timer_fire, t);
	if (ims_timer_start(&ctx->w->timers, &t->t, delay_ms))
		return IMS_ENOMEM;
	t->armed = 1;
	sip_proxy__ctx_ref(ctx);
	sip_proxy__rearm(ctx->w);
	if (out)
		*out = t;
	return 0;
}

void sip_proxy_timer_stop(sip_proxy_timer_t *t)
{
	if (!t || !t->armed)
		return;
	t->armed = 0;
	ims_timer_stop(&t->ctx->w->timers, &t->t);
	sip_proxy__ctx_unref(t->ctx); /* may free t */
}
