/*
 * clock.h: the one clock.  Live capture stamps each packet with
 * clock_now(); a replay uses the capture's timestamps.  Every other module
 * receives `now' (nanoseconds since the epoch) as an argument.
 */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

#include <stdint.h>

uint64_t	clock_now(void);		/* CLOCK_REALTIME, ns */
uint64_t	clock_mono(void);		/* CLOCK_MONOTONIC, ns */

#endif
