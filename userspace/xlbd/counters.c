/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/xlbd/counters.h"

/*
 * Where each VIP and backend of the config has its counters in one data
 * path. Finding them takes 100,000 address comparisons at 1,000 x 100, so
 * the map is kept until the config (d->cfg_gen) or the data path's ids
 * (xlb_dp__ids_gen()) change.
 */
struct xlb_counter_map {
	unsigned long cfg_gen, dp_gen;
	int *vip;     /* per config VIP: its counter id, or -ENOENT */
	int *backend; /* per config backend, in config order: id or -ENOENT */
};

void xlb_counters__map_free(struct xlb_counter_map *m)
{
	if (!m)
		return;
	free(m->vip);
	free(m->backend);
	free(m);
}

static int map_build(struct xlb_dp *dp, const struct xlb_config *cfg, size_t n_be,
		     struct xlb_counter_map *m)
{
	static struct xlb_dp_backend_key keys[XLB_MAX_BACKENDS_PER_VIP];
	int *vip = calloc(cfg->n_vips + 1, sizeof(*vip));
	int *backend = calloc(n_be + 1, sizeof(*backend));
	size_t off = 0;

	if (!vip || !backend) {
		free(vip);
		free(backend);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		for (unsigned int j = 0; j < v->n_backends; j++) {
			keys[j].family = v->backends[j].family;
			memcpy(keys[j].addr, v->backends[j].addr, sizeof(keys[j].addr));
		}
		vip[i] = xlb_dp__counter_ids(dp, &v->addr, v->n_backends, keys, backend + off);
		if (vip[i] < 0)
			for (unsigned int j = 0; j < v->n_backends; j++)
				backend[off + j] = -ENOENT;
		off += v->n_backends;
	}
	free(m->vip);
	free(m->backend);
	m->vip = vip;
	m->backend = backend;
	return 0;
}

/* The counter map of interface k for d's config: kept, or built anew. */
static const struct xlb_counter_map *counter_map(struct xlb_daemon *d, unsigned int k,
						 size_t n_be)
{
	struct xlb_counter_map *m = d->ifs[k].counter_map;
	unsigned long dp_gen = xlb_dp__ids_gen(d->ifs[k].dp);

	if (m && d->cfg_gen && m->cfg_gen == d->cfg_gen && m->dp_gen == dp_gen)
		return m;
	if (!m && !(m = d->ifs[k].counter_map = calloc(1, sizeof(*m))))
		return NULL;
	m->cfg_gen = m->dp_gen = 0;
	if (map_build(d->ifs[k].dp, d->cfg, n_be, m))
		return NULL;
	m->cfg_gen = d->cfg_gen;
	m->dp_gen = dp_gen;
	return m;
}

static void add_u64s(void *acc, const void *add, size_t len)
{
	__u64 *a = acc;
	const __u64 *b = add;

	for (size_t i = 0; i < len / sizeof(__u64); i++)
		a[i] += b[i];
}

/*
 * Empties out for d's config, allocating its arrays, or with keep reusing
 * them when they are large enough: a scrape at 100,000 backends sums into
 * 3.2 MB, and fresh memory of that size costs more to fault in than the
 * sums (glibc gives it back to the kernel on free and takes it again).
 */
static int counters_prepare(const struct xlb_config *cfg, struct xlb_counters *out, bool keep)
{
	size_t n_be = 0;

	for (unsigned int i = 0; i < cfg->n_vips; i++)
		n_be += cfg->vips[i].n_backends;
	for (unsigned int i = 0; out->vips && i < out->n_vips; i++) {
		free(out->vips[i].active);
		out->vips[i].active = NULL;
	}
	if (!keep || out->vips_cap < cfg->n_vips + 1 || out->backends_cap < n_be + 1) {
		xlb_counters__free(out);
		out->vips = calloc(cfg->n_vips + 1, sizeof(*out->vips));
		out->backends = calloc(n_be + 1, sizeof(*out->backends));
		if (!out->vips || !out->backends) {
			xlb_counters__free(out);
			return -ENOMEM;
		}
		out->vips_cap = cfg->n_vips + 1;
		out->backends_cap = n_be + 1;
	} else {
		memset(out->vips, 0, (cfg->n_vips + 1) * sizeof(*out->vips));
		memset(out->backends, 0, (n_be + 1) * sizeof(*out->backends));
	}
	memset(&out->global, 0, sizeof(out->global));
	out->conntrack_entries[0] = out->conntrack_entries[1] = 0;
	out->n_vips = cfg->n_vips;
	for (unsigned int i = 0, off = 0; i < cfg->n_vips; off += cfg->vips[i++].n_backends)
		out->vips[i].backend = out->backends + off;
	return 0;
}

static int counters_read(struct xlb_daemon *d, struct xlb_counters *out, bool keep)
{
	const struct xlb_config *cfg = d->cfg;
	size_t n_be = 0;
	int ret;

	ret = counters_prepare(cfg, out, keep);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		n_be += cfg->vips[i].n_backends;
	out->conntrack_known = d->n_ifs > 0;
	for (unsigned int k = 0; k < d->n_ifs && !ret; k++) {
		struct xlb_dp *dp = d->ifs[k].dp;
		const struct xlb_counter_map *m;
		struct xlb_dp_counters c;
		__u64 ct[2];

		if (xlb_dp__conntrack_entries(dp, ct)) {
			out->conntrack_known = false;
		} else {
			out->conntrack_entries[0] += ct[0];
			out->conntrack_entries[1] += ct[1];
		}
		m = counter_map(d, k, n_be);
		if (!m) {
			ret = -ENOMEM;
			break;
		}
		ret = xlb_dp__counters_read(dp, &c);
		if (ret)
			break;
		add_u64s(&out->global, &c.global, sizeof(c.global));
		for (unsigned int i = 0, off = 0; i < cfg->n_vips && !ret;
		     off += cfg->vips[i++].n_backends) {
			const struct xlb_config_vip *v = &cfg->vips[i];
			struct xlb_vip_counters *vc = &out->vips[i];
			const int *ids = m->backend + off;

			if (m->vip[i] < 0)
				continue;
			add_u64s(&vc->vip, &c.vip[m->vip[i]], sizeof(vc->vip));
			if (c.load && v->algorithm == XLB_CONFIG_ALGO_LC && !vc->active &&
			    !(vc->active = calloc(v->n_backends + 1, sizeof(__s64))))
				ret = -ENOMEM;
			for (unsigned int j = 0; j < v->n_backends && !ret; j++) {
				if (ids[j] < 0)
					continue;
				xlb_dp__backend_counters_add(dp, ids[j], &vc->backend[j]);
				if (vc->active && c.load[ids[j]].active > 0)
					vc->active[j] += c.load[ids[j]].active;
			}
		}
		xlb_dp__counters_free(&c);
	}
	if (ret)
		xlb_counters__free(out);
	return ret;
}

int xlb_counters__read(struct xlb_daemon *d, struct xlb_counters *out)
{
	memset(out, 0, sizeof(*out));
	return counters_read(d, out, false);
}

int xlb_counters__reread(struct xlb_daemon *d, struct xlb_counters *out)
{
	return counters_read(d, out, true);
}

void xlb_counters__free(struct xlb_counters *c)
{
	for (unsigned int i = 0; c->vips && i < c->n_vips; i++)
		free(c->vips[i].active);
	free(c->vips);
	free(c->backends);
	memset(c, 0, sizeof(*c));
}
