/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The data path's counters for the running configuration, summed over CPUs
 * and interfaces: one snapshot per scrape or stats request.
 */
#ifndef XLB_COUNTERS_H
#define XLB_COUNTERS_H

#include <stdbool.h>

#include "userspace/xlbd/daemon.h"

struct xlb_vip_counters {
	struct xlb_vip_stats vip;
	struct xlb_backend_stats *backend; /* one per backend of the config's VIP */
	__s64 *active; /* lc VIPs: active flows per backend, summed over
			* interfaces (negative estimates as 0); else NULL */
};

struct xlb_counters {
	struct xlb_dp_stats global;
	struct xlb_vip_counters *vips; /* one per VIP of d->cfg, same order */
	struct xlb_backend_stats *backends; /* every VIP's backend counters, one block */
	unsigned int n_vips;
	/* Connection-table entries (IPv4, IPv6) on every interface; a gauge. */
	__u64 conntrack_entries[2];
	bool conntrack_known; /* false when the kernel cannot count them */
	size_t vips_cap, backends_cap; /* what vips and backends hold */
};

int xlb_counters__read(struct xlb_daemon *d, struct xlb_counters *out);
/*
 * The same into out, which is zeroed or from an earlier read (of any
 * config), reusing its memory when large enough; for a caller that reads
 * often at scale (/metrics). On error out is freed (and zeroed).
 */
int xlb_counters__reread(struct xlb_daemon *d, struct xlb_counters *out);
void xlb_counters__free(struct xlb_counters *c);
/* The per-interface cache xlb_counters__read() keeps (xlb_daemon_if). */
void xlb_counters__map_free(struct xlb_counter_map *m);

#endif /* XLB_COUNTERS_H */
