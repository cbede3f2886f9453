/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Brings one data path in line with a configuration: compares what the maps
 * hold with what the config asks for and changes only the VIPs that differ.
 * Used at start (adopting pinned state touches nothing that already
 * matches), for every change, and to roll a failed change back.
 */
#ifndef XLB_RECONCILE_H
#define XLB_RECONCILE_H

#include <stddef.h>

#include "userspace/lib/config.h"
#include "userspace/lib/dp.h"

/* Whether the data path can take a config (algorithms it knows, settings in
 * range): 0 or -EINVAL with a message naming the value. Changes nothing.
 */
int xlb_reconcile__check(const struct xlb_config *cfg, char *err, size_t errlen);

/* 0, or -errno with a message; the data path may be partly changed then
 * (callers roll back by reconciling to the previous config).
 */
int xlb_reconcile__apply(struct xlb_dp *dp, const struct xlb_config *cfg, char *err,
			 size_t errlen);

#endif /* XLB_RECONCILE_H */
