/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Prometheus text exposition (format 0.0.4) of xlbd's state and counters. */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include "userspace/daemon.h"

/* malloc()ed text, or NULL. */
char *xlb_metrics__render(struct xlb_daemon *d);
/* Counts an API answer by HTTP status, for xlb_api_requests_total. */
void xlb_metrics__count_api(int status);

#endif /* XLB_METRICS_H */
