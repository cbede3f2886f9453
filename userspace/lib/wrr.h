/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Smooth weighted round-robin sequence builder (pure logic, no I/O).
 *
 * The sequence is nginx's smooth WRR unrolled: each step adds every
 * backend's weight to its running score, picks the highest score (the first
 * on a tie) and takes the total weight off it. Over one cycle each backend
 * appears weight times, spread out: weights 1:2:3 give C B A C B C.
 */
#ifndef XLB_WRR_H
#define XLB_WRR_H

#include <linux/types.h>
#include <stddef.h>

/*
 * Fill seq with ids[] in the smooth order for weights[] (each 1..65535).
 * The cycle is sum(weights) / gcd(weights) long; when that exceeds cap the
 * weights are scaled down to fit (every backend keeps at least one turn).
 * cap must be >= n, n >= 1. Returns the length written (1..cap) or -EINVAL.
 * Cost: about O(length * log n) (a tournament tree; see wrr.c).
 */
int xlb_wrr__build(const __u32 *ids, const __u32 *weights, size_t n, __u32 cap, __u32 *seq);

#endif /* XLB_WRR_H */
