/*
 * clock.c — wall clock, monotonic clock and backoff (see clock.h).
 */
#include "config.h"

#include "util/clock.h"

#include <time.h>

int64_t wall_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double backoff_next(double last, double max)
{
	return last * 2 > max ? max : last * 2;
}
