/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * CLOCK_MONOTONIC, the one clock of xlb's timers, deadlines and breakers
 * (and the data path's: bpf_ktime_get_ns() reads the same clock).
 */
#ifndef XLB_CLOCK_H
#define XLB_CLOCK_H

#include <linux/types.h>

__u64 xlb_clock__mono_ns(void);
__u64 xlb_clock__mono_ms(void);

#endif /* XLB_CLOCK_H */
