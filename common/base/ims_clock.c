/* Monotonic, wall and virtual clocks (see ims_clock.h). */
#include <time.h>

#include "base/ims_clock.h"

uint64_t ims_clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ims_clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_now(const ims_clock_t *c)
{
	(void)c;
	return ims_clock_mono_ms();
}

static const ims_clock_t mono_clock = { mono_now };

const ims_clock_t *ims_clock_monotonic(void)
{
	return &mono_clock;
}

static uint64_t virt_now(const ims_clock_t *c)
{
	return ((const ims_vclock_t *)c)->now;
}

void ims_vclock_init(ims_vclock_t *v, uint64_t start_ms)
{
	v->clock.now_ms = virt_now;
	v->now = start_ms;
}

void ims_vclock_advance(ims_vclock_t *v, uint64_t delta_ms)
{
	v->now += delta_ms;
}

void ims_vclock_set(ims_vclock_t *v, uint64_t now_ms)
{
	v->now = now_ms;
}
