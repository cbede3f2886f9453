/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/counters.h"

static void add_u64s(void *acc, const void *add, size_t len)
{
	__u64 *a = acc;
	const __u64 *b = add;

	for (size_t i = 0; i < len / sizeof(__u64); i++)
		a[i] += b[i];
}

int xlb_counters__read(struct xlb_daemon *d, struct xlb_counters *out)
{
	const struct xlb_config *cfg = d->cfg;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->vips = calloc(cfg->n_vips + 1, sizeof(*out->vips));
	if (!out->vips)
		return -ENOMEM;
	out->n_vips = cfg->n_vips;
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		out->vips[i].backend = calloc(cfg->vips[i].n_backends + 1,
					      sizeof(*out->vips[i].backend));
		if (!out->vips[i].backend) {
			xlb_counters__free(out);
			return -ENOMEM;
		}
	}
	out->conntrack_known = d->n_ifs > 0;
	for (unsigned int k = 0; k < d->n_ifs; k++) {
		struct xlb_dp *dp = d->ifs[k].dp;
		struct xlb_dp_counters c;
		__u64 ct[2];

		if (xlb_dp__conntrack_entries(dp, ct)) {
			out->conntrack_known = false;
		} else {
			out->conntrack_entries[0] += ct[0];
			out->conntrack_entries[1] += ct[1];
		}

		ret = xlb_dp__counters_read(dp, &c);
		if (ret)
			break;
		add_u64s(&out->global, &c.global, sizeof(c.global));
		for (unsigned int i = 0; i < cfg->n_vips; i++) {
			const struct xlb_config_vip *v = &cfg->vips[i];
			static struct xlb_dp_backend_key keys[XLB_MAX_BACKENDS_PER_VIP];
			static int ids[XLB_MAX_BACKENDS_PER_VIP];
			int id;

			for (unsigned int j = 0; j < v->n_backends; j++) {
				keys[j].family = v->backends[j].family;
				memcpy(keys[j].addr, v->backends[j].addr, sizeof(keys[j].addr));
			}
			id = xlb_dp__counter_ids(dp, &v->addr, v->n_backends, keys, ids);
			if (id < 0)
				continue;
			add_u64s(&out->vips[i].vip, &c.vip[id], sizeof(c.vip[id]));
			if (c.load && v->algorithm == XLB_CONFIG_ALGO_LC && !out->vips[i].active) {
				out->vips[i].active = calloc(v->n_backends + 1, sizeof(__s64));
				if (!out->vips[i].active) {
					ret = -ENOMEM;
					xlb_dp__counters_free(&c);
					break;
				}
			}
			for (unsigned int j = 0; j < v->n_backends; j++) {
				int bid = ids[j];

				if (bid < 0)
					continue;
				add_u64s(&out->vips[i].backend[j], &c.backend[bid],
					 sizeof(c.backend[bid]));
				if (out->vips[i].active && c.load && c.load[bid].active > 0)
					out->vips[i].active[j] += c.load[bid].active;
			}
		}
		if (ret)
			break;
		xlb_dp__counters_free(&c);
	}
	if (ret)
		xlb_counters__free(out);
	return ret;
}

void xlb_counters__free(struct xlb_counters *c)
{
	for (unsigned int i = 0; c->vips && i < c->n_vips; i++) {
		free(c->vips[i].backend);
		free(c->vips[i].active);
	}
	free(c->vips);
	memset(c, 0, sizeof(*c));
}
