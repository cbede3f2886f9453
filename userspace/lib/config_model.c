/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Operations on the model: copy, free, compare, look up. Which fields own
 * text comes from config_keys.h (its STR rows).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/lib/config_int.h"

char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* Equal strings, NULL equal only to NULL. */
static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* ---- expansions over the text a section owns, and its equality ---- */

/* In scope: model *m (and bool *oom for DUP). */
#define NONE(...)
#define FREE_STR(T, k, ...)                                                                        \
	free(m->k);                                                                                \
	m->k = NULL;
#define DUP_STR(T, k, ...) m->k = dup_or_null(m->k, oom);
#define FREE_U32 NONE
#define FREE_U32W NONE
#define FREE_DBL NONE
#define FREE_BOOL NONE
#define FREE_ENUM NONE
#define FREE_ENUMN NONE
#define DUP_U32 NONE
#define DUP_U32W NONE
#define DUP_DBL NONE
#define DUP_BOOL NONE
#define DUP_ENUM NONE
#define DUP_ENUMN NONE

/* In scope: const model *a, *b. */
#define EQ_U32(T, k, ...) &&a->k == b->k
#define EQ_U32W EQ_U32
#define EQ_DBL EQ_U32
#define EQ_BOOL EQ_U32
#define EQ_ENUM EQ_U32
#define EQ_ENUMN EQ_U32
#define EQ_STR(T, k, ...) &&str_same(a->k, b->k)

/* free_X(m): frees the strings of a section; dup_X(m, oom): replaces them by copies. */
#define STR_FNS(sec, model_t, KEYS)                                                                \
	static void free_##sec(model_t *m)                                                         \
	{                                                                                          \
		KEYS(FREE, _)                                                                      \
		(void)m;                                                                           \
	}                                                                                          \
	static void dup_##sec(model_t *m, bool *oom)                                               \
	{                                                                                          \
		KEYS(DUP, _)                                                                       \
		(void)m, (void)oom;                                                                \
	}

STR_FNS(interface, struct xlb_config_interface, CFG_INTERFACE_KEYS)
STR_FNS(metrics, struct xlb_config_metrics, CFG_METRICS_KEYS)
STR_FNS(vip_keys, struct xlb_config_vip, CFG_VIP_KEYS)
STR_FNS(health_check, struct xlb_config_health_check, CFG_HEALTH_CHECK_KEYS)
STR_FNS(backend, struct xlb_config_backend, CFG_BACKEND_KEYS)
/* (conntrack, announce, rate_limit, circuit_breaker and passive own no
 * text: a STR row there needs its pair of calls below.)
 */

void xlb_config__hc_free(struct xlb_config_health_check *hc)
{
	free_health_check(hc);
}

bool xlb_config__hc_equal(const struct xlb_config_health_check *a,
			  const struct xlb_config_health_check *b)
{
	return true CFG_HEALTH_CHECK_KEYS(EQ, _);
}

static void free_vip(struct xlb_config_vip *v)
{
	free_vip_keys(v);
	free_health_check(&v->health_check);
	for (unsigned int j = 0; j < v->n_backends && v->backends; j++)
		free_backend(&v->backends[j]);
	free(v->backends);
}

void xlb_config__free(struct xlb_config *cfg)
{
	unsigned int i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_interfaces && cfg->interfaces; i++)
		free_interface(&cfg->interfaces[i]);
	free(cfg->interfaces);
	free_metrics(&cfg->metrics);
	for (i = 0; i < cfg->n_vips && cfg->vips; i++)
		free_vip(&cfg->vips[i]);
	free(cfg->vips);
	free(cfg);
}

int xlb_config__dup(const struct xlb_config *src, struct xlb_config **out)
{
	struct xlb_config *cfg;
	bool oom = false;
	unsigned int i, j;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	cfg->metrics = src->metrics;
	dup_metrics(&cfg->metrics, &oom);
	cfg->conntrack = src->conntrack;
	cfg->announce = src->announce;
	if (src->n_interfaces) {
		cfg->interfaces = calloc(src->n_interfaces, sizeof(*cfg->interfaces));
		if (!cfg->interfaces)
			goto oom;
		cfg->n_interfaces = src->n_interfaces;
		for (i = 0; i < src->n_interfaces; i++) {
			cfg->interfaces[i] = src->interfaces[i];
			dup_interface(&cfg->interfaces[i], &oom);
		}
	}
	if (src->n_vips) {
		cfg->vips = calloc(src->n_vips, sizeof(*cfg->vips));
		if (!cfg->vips)
			goto oom;
		cfg->n_vips = src->n_vips;
	}
	for (i = 0; i < src->n_vips; i++) {
		const struct xlb_config_vip *s = &src->vips[i];
		struct xlb_config_vip *d = &cfg->vips[i];

		*d = *s;
		dup_vip_keys(d, &oom);
		dup_health_check(&d->health_check, &oom);
		d->backends = NULL;
		d->n_backends = 0;
		if (!s->n_backends)
			continue;
		d->backends = calloc(s->n_backends, sizeof(*d->backends));
		if (!d->backends)
			goto oom;
		d->n_backends = s->n_backends;
		for (j = 0; j < s->n_backends; j++) {
			d->backends[j] = s->backends[j];
			dup_backend(&d->backends[j], &oom);
		}
	}
	if (oom)
		goto oom;
	*out = cfg;
	return 0;
oom:
	xlb_config__free(cfg);
	return -ENOMEM;
}

struct xlb_config_vip *xlb_config__find_vip(const struct xlb_config *cfg,
					    const struct xlb_vip_addr *addr)
{
	unsigned int i;

	for (i = 0; i < cfg->n_vips; i++)
		if (!xlb_vip_addr__cmp(&cfg->vips[i].addr, addr))
			return &cfg->vips[i];
	return NULL;
}
