/*
 * clock.c: the only caller of clock_gettime() (make lint checks it).
 * Wall-clock time is used for packet stamps because bindings and the
 * blacklist are saved with absolute expiry times and restored after a
 * restart; the monotonic clock is for measuring intervals only.
 */
#include <time.h>

#include "clock.h"

static uint64_t
ts_ns(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t
clock_now(void)
{
	return ts_ns(CLOCK_REALTIME);
}

uint64_t
clock_mono(void)
{
	return ts_ns(CLOCK_MONOTONIC);
}
