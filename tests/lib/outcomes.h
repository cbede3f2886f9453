/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Every packet the balancer sees is passed, sent or dropped under a named
 * reason, once. The packet tests and the packet fuzzer check that after
 * each run with these sums of the global counters.
 */
#ifndef XLB_TESTS_OUTCOMES_H
#define XLB_TESTS_OUTCOMES_H

#include <linux/types.h>
#include <stddef.h>

#include "maps/xlb_maps.h"

struct outcomes {
	__u64 rx, pass, tx, drop;
};

struct outcomes outcomes_of(const struct xlb_dp_stats *s);

/*
 * NULL when n packets moved rx by n and the three sums by n together, and,
 * when all n had one verdict (verdict >= 0), that verdict's sum by n and
 * the others not at all; else what is wrong, written to msg.
 */
const char *outcomes_unaccounted(const struct outcomes *before, const struct outcomes *after,
				 __u64 n, int verdict, char *msg, size_t len);

#endif /* XLB_TESTS_OUTCOMES_H */
