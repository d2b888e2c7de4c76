/* Clocks: a millisecond monotonic time source that code takes as a
 * parameter, so tests can drive transactions and expiries on a virtual
 * clock (sofia-sip s2time idea) and never sleep.
 *
 *   const ims_clock_t *c = ims_clock_monotonic();   // real time
 *   ims_vclock_t v; ims_vclock_init(&v, 1000);       // virtual time
 *   ims_vclock_advance(&v, 500);
 *   ims_clock_now(&v.clock) == 1500
 */
#ifndef IMS_CLOCK_H
#define IMS_CLOCK_H

#include <stdint.h>

typedef struct ims_clock {
	/* Returns the current time in milliseconds (any fixed origin). */
	uint64_t (*now_ms)(const struct ims_clock *c);
} ims_clock_t;

/* Current time of `c`; c == NULL means the monotonic clock. */
static inline uint64_t ims_clock_now(const ims_clock_t *c);

/* The process-wide monotonic clock (CLOCK_MONOTONIC), never NULL. */
const ims_clock_t *ims_clock_monotonic(void);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t ims_clock_mono_ms(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME), for timestamps only. */
uint64_t ims_clock_wall_ms(void);

/* A virtual clock for tests: time moves only by ims_vclock_set/advance.
 * Embed it and pass &v->clock. Not thread-safe. */
typedef struct ims_vclock {
	ims_clock_t clock; /* first member: &v->clock can be cast back */
	uint64_t now;
} ims_vclock_t;

void ims_vclock_init(ims_vclock_t *v, uint64_t start_ms);
void ims_vclock_advance(ims_vclock_t *v, uint64_t delta_ms);
void ims_vclock_set(ims_vclock_t *v, uint64_t now_ms);

static inline uint64_t ims_clock_now(const ims_clock_t *c)
{
	return c ? c->now_ms(c) : ims_clock_mono_ms();
}

#endif
