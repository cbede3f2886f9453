/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What applying a configuration would change: a readable list of changes
 * and, per VIP present before and after, the share of Maglev table slots
 * that would move to another backend. Pure logic.
 */
#ifndef XLB_PLAN_H
#define XLB_PLAN_H

#include <stddef.h>
#include <jansson.h>

#include "userspace/config.h"

struct xlb_plan_moved {
	char vip[XLB_VIP_NAME_MAX];
	double share; /* 0..1 */
};

struct xlb_plan {
	char **changes;
	size_t n_changes;
	struct xlb_plan_moved *moved;
	size_t n_moved;
};

/* 0 or -ENOMEM. from may be NULL (everything is an addition). */
int xlb_plan__build(const struct xlb_config *from, const struct xlb_config *to,
		    struct xlb_plan *out);
void xlb_plan__free(struct xlb_plan *plan);
/* {"applied":..,"changes":[..],"moved":{vip: share}} */
json_t *xlb_plan__to_json(const struct xlb_plan *plan, bool applied);

#endif /* XLB_PLAN_H */
