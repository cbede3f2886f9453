/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Shared by tests/bpf/ideal.bpf.c and tests/bench_dp.c. */
#ifndef XLB_TESTS_IDEAL_H
#define XLB_TESTS_IDEAL_H

#include <linux/types.h>

/* An ideal connection-table entry: the backend itself, so a hit is one lookup. */
struct ideal_flow {
	__u8 mac[6];
	__u8 pad[2];
	__be32 daddr; /* the backend's address (ipip) */
};

/* The same for IPv6 (ideal_est_ip6ip6). */
struct ideal_flow6 {
	__u8 mac[6];
	__u8 pad[2];
	__be32 daddr[4];
};

/*
 * Proof of the branch taken, per CPU, a cache line each: two CPUs running
 * a reference at once neither share a line nor lose counts. bench_dp sums
 * them.
 */
#define IDEAL_MAX_CPUS 64
struct ideal_counts {
	__u64 hits, misses, inserts, errors;
	__u64 pad[4];
};

#endif
