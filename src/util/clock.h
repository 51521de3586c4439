/*
 * clock.h — the program's clocks and its one backoff rule.
 *
 * The core has no clock (SPEC: deterministic replay); everything that needs
 * the time of day (processed_at, runs) or an interval (progress, retries)
 * asks here, so that there is one definition of each.
 */
#ifndef TELEMETRA_CLOCK_H
#define TELEMETRA_CLOCK_H

#include <stdint.h>

/* Wall-clock now, microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t wall_clock_us(void);

/* Seconds on a clock that never jumps (CLOCK_MONOTONIC), for intervals. */
double monotonic_seconds(void);

/* The next wait of an exponential backoff: twice the last, at most max. */
double backoff_next(double last, double max);

#endif
