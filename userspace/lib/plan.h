/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What applying a configuration would change: a readable list of changes
 * and, per VIP present before and after, what happens to its flows. A VIP
 * hashed by table before and after (maglev, source-hash) gets the share of
 * the hash space whose backend changes; a VIP balanced by per-host state
 * (wrr, rr, lc, before or after) has no such share: its new flows are
 * rebalanced and established ones keep their backend, which the plan says
 * when its backends, weights or algorithm change. Pure logic.
 */
#ifndef XLB_PLAN_H
#define XLB_PLAN_H

#include <stddef.h>
#include <jansson.h>

#include "userspace/lib/config.h"

struct xlb_plan_moved {
	char vip[XLB_VIP_NAME_MAX];
	double share; /* 0..1 */
};

/* A wrr/rr/lc VIP whose balance changes: no share, new flows rebalanced. */
struct xlb_plan_rebalanced {
	char vip[XLB_VIP_NAME_MAX];
	enum xlb_config_algo algorithm; /* the new one */
};

struct xlb_plan {
	char **changes;
	size_t n_changes;
	struct xlb_plan_moved *moved;
	size_t n_moved;
	struct xlb_plan_rebalanced *rebalanced;
	size_t n_rebalanced;
};

/* 0 or -ENOMEM. from may be NULL (everything is an addition). */
int xlb_plan__build(const struct xlb_config *from, const struct xlb_config *to,
		    struct xlb_plan *out);
void xlb_plan__free(struct xlb_plan *plan);
/* {"applied":..,"changes":[..],"moved":{vip: share},"rebalanced":{vip: algorithm}} */
json_t *xlb_plan__to_json(const struct xlb_plan *plan, bool applied);

#endif /* XLB_PLAN_H */
