/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* What the probes (health_probe.c) and the scheduler (health_sched.c) share. */
#ifndef XLB_HEALTH_INT_H
#define XLB_HEALTH_INT_H

#include <sys/time.h>

#include "userspace/lib/health.h"

/* A result's detail, with its terminating NUL. */
#define XLB_HEALTH_DETAIL_MAX 128

/* The loop the prober runs on, for the scheduler's timers. */
struct event_base *xlb_health__base(const struct xlb_health *h);

static inline struct timeval xlb_health__ms_tv(__u64 ms)
{
	struct timeval tv = {
	    .tv_sec = ms / 1000,
	    .tv_usec = (ms % 1000) * 1000,
	};

	return tv;
}

#endif /* XLB_HEALTH_INT_H */
