/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend supervision: one health check and one circuit breaker per
 * (VIP, backend) of the running configuration, on xlbd's event loop, and the
 * effective backend set they imply: the configuration with ejected and
 * not-yet-healthy backends left out and slow-start weights applied. That
 * effective configuration is what the data path is reconciled to.
 */
#ifndef XLB_SUPERVISE_H
#define XLB_SUPERVISE_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "userspace/lib/breaker.h"
#include "userspace/lib/config.h"

struct event_base;
struct xlb_supervisor;

/* Called when the effective set changed and must be published; it ends
 * with xlb_supervisor__mark_published().
 */
typedef void (*xlb_supervisor_publish_fn)(void *arg);
/* At start: was this backend serving in the adopted data path? */
typedef bool (*xlb_supervisor_serving_fn)(void *arg, const struct xlb_config_vip *v,
					  const struct xlb_config_backend *b);

struct xlb_counters;
/* For the passive signal: the data path's counters and the config they
 * were read for (its VIP and backend order). NULL on failure.
 */
typedef const struct xlb_config *(*xlb_supervisor_counters_fn)(void *arg,
								struct xlb_counters *out);

/* base NULL: no checks run (tests of the API); backends stay as they start.
 * counters may be NULL (no passive signal).
 */
int xlb_supervisor__new(struct event_base *base, xlb_supervisor_publish_fn publish,
			xlb_supervisor_counters_fn counters, void *arg,
			struct xlb_supervisor **out);
void xlb_supervisor__free(struct xlb_supervisor *s);

/*
 * Whether every health check of cfg can start: 0, or -EINVAL with the
 * backend and the reason in err. A config is refused with this before it
 * is applied: a check that cannot start would leave its backend unchecked.
 */
int xlb_supervisor__check_config(const struct xlb_config *cfg, char *err, size_t errlen);

/*
 * Follow a new running config: start supervising new backends (in service
 * at once without a health check, or when serving() says the adopted data
 * path had them in service; else out until their first successful check),
 * stop supervising removed ones, take new check and breaker settings.
 */
int xlb_supervisor__sync(struct xlb_supervisor *s, const struct xlb_config *cfg,
			 xlb_supervisor_serving_fn serving, void *arg);

/*
 * cfg as the data path should see it (a new malloc()ed copy): backends out
 * of service removed, weights as slow start has them. Backends cfg has but
 * sync() has not seen yet count as new. 0 or -ENOMEM.
 */
int xlb_supervisor__effective(struct xlb_supervisor *s, const struct xlb_config *cfg,
			      struct xlb_config **out);

/* The data path now holds the effective set (ok), or failed to take it
 * (retried on the next tick).
 */
void xlb_supervisor__mark_published(struct xlb_supervisor *s, bool ok);

/*
 * How many of v's backends the data path's table holds by their own health:
 * published with a weight, not drained, not kept there only by panic mode.
 * 0 until a publish succeeded.
 */
unsigned int xlb_supervisor__healthy_in_table(struct xlb_supervisor *s,
					      const struct xlb_config_vip *v);

/* GET /v1/health: {"vips":[...]} for cfg (one VIP when only is not NULL). */
json_t *xlb_supervisor__health_json(struct xlb_supervisor *s, const struct xlb_config *cfg,
				    const struct xlb_config_vip *only);

/* The same with only one of only's backends (only_be points into only). */
json_t *xlb_supervisor__health_json_one(struct xlb_supervisor *s, const struct xlb_config *cfg,
					const struct xlb_config_vip *only,
					const struct xlb_config_backend *only_be);

/* One backend's health, as in xlb_supervisor__health_json(). */
json_t *xlb_supervisor__backend_json(struct xlb_supervisor *s, const struct xlb_config_vip *v,
				     const struct xlb_config_backend *b);

/* Prometheus families for health: up, circuit state, ejections, weight,
 * panic, and the check duration histogram.
 */
void xlb_supervisor__metrics(struct xlb_supervisor *s, const struct xlb_config *cfg, FILE *f);

#endif /* XLB_SUPERVISE_H */
