/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <time.h>

#include "userspace/lib/clock.h"

__u64 xlb_clock__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

__u64 xlb_clock__mono_ms(void)
{
	return xlb_clock__mono_ns() / 1000000ULL;
}
