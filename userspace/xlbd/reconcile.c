/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "userspace/lib/log.h"
#include "userspace/xlbd/reconcile.h"

static int dp_algo(enum xlb_config_algo a, enum xlb_algo *out)
{
	switch (a) {
	case XLB_CONFIG_ALGO_MAGLEV:
		*out = XLB_ALGO_MAGLEV;
		return 0;
	case XLB_CONFIG_ALGO_SOURCE_HASH:
		*out = XLB_ALGO_SOURCE_HASH;
		return 0;
	case XLB_CONFIG_ALGO_WRR:
		*out = XLB_ALGO_WRR;
		return 0;
	case XLB_CONFIG_ALGO_RR:
		*out = XLB_ALGO_RR;
		return 0;
	case XLB_CONFIG_ALGO_LC:
		*out = XLB_ALGO_LC;
		return 0;
	default:
		return -EINVAL;
	}
}

int xlb_reconcile__check(const struct xlb_config *cfg, char *err, size_t errlen)
{
	enum xlb_algo algo;

	for (unsigned int i = 0; i < cfg->n_vips; i++)
		if (dp_algo(cfg->vips[i].algorithm, &algo))
			return xlb_err(err, errlen, -EINVAL,
				       "vips[%u] (%s): unknown algorithm %d "
				       "(expected maglev, source-hash, wrr, rr or lc)",
				       i, cfg->vips[i].vip, (int)cfg->vips[i].algorithm);
	if (cfg->conntrack.flood_guard_new_flows_per_cpu > XLB_CONFIG_FLOOD_GUARD_MAX)
		return xlb_err(err, errlen, -EINVAL,
			       "conntrack.flood_guard_new_flows_per_cpu %u out of range 0..%u",
			       cfg->conntrack.flood_guard_new_flows_per_cpu,
			       XLB_CONFIG_FLOOD_GUARD_MAX);
	return 0;
}

/* A backend by address, for sorting and searching (IPv4: addr[0] only). */
struct be_key {
	__u8 family;
	__u8 pad[3];
	__be32 addr[4];
	__u16 weight;
	bool drain;
};

static void be_key_set(struct be_key *k, __u8 family, const __be32 *addr)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	memcpy(k->addr, addr, family == XLB_AF_INET ? 4 : 16);
}

static int be_key_cmp(const void *a, const void *b)
{
	const struct be_key *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/*
 * Same backend set, weights and drain marks as the config? Sorted, so a
 * health-driven publish of thousands of backends is O(n log n), not O(n^2).
 * -ENOMEM when it cannot tell.
 */
static int backends_match(const struct xlb_dp_vip_info *info, const struct xlb_config_vip *v)
{
	struct be_key *k, key;
	int match = 1;

	if (info->nbackends != v->n_backends)
		return 0;
	if (!v->n_backends)
		return 1;
	k = calloc(v->n_backends, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (unsigned int i = 0; i < v->n_backends; i++) {
		be_key_set(&k[i], v->backends[i].family, v->backends[i].addr);
		k[i].weight = (__u16)v->backends[i].weight;
		k[i].drain = v->backends[i].drain;
	}
	qsort(k, v->n_backends, sizeof(*k), be_key_cmp);
	for (size_t i = 0; i < info->nbackends && match; i++) {
		const struct xlb_backend *be = &info->backends[i];
		const struct be_key *b;

		be_key_set(&key, be->family, be->addr);
		b = bsearch(&key, k, v->n_backends, sizeof(*k), be_key_cmp);
		match = b && b->weight == be->weight &&
			b->drain == !!(be->flags & XLB_BACKEND_F_DRAINED);
	}
	free(k);
	return match;
}

static int set_backends(struct xlb_dp *dp, const struct xlb_config_vip *v, char *err,
			size_t errlen)
{
	struct xlb_dp_backend *b = calloc(v->n_backends + 1, sizeof(*b));
	int ret;

	if (!b)
		return xlb_err(err, errlen, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < v->n_backends; i++) {
		b[i].family = v->backends[i].family;
		memcpy(b[i].addr, v->backends[i].addr, sizeof(b[i].addr));
		b[i].weight = v->backends[i].weight;
		b[i].drain = v->backends[i].drain;
	}
	ret = xlb_dp__set_backends(dp, &v->addr, b, v->n_backends, err, errlen);
	free(b);
	return ret;
}

/* The VIP's rate limits, when they differ from what the data path has. */
static int sync_limits(struct xlb_dp *dp, const struct xlb_config_vip *v, char *err,
		       size_t errlen)
{
	struct xlb_dp_limits want = {
		.pps = v->rate_limit.pps,
		.burst = v->rate_limit.burst,
		.source_new_flows = v->rate_limit.source_new_flows,
		.source_burst = v->rate_limit.source_burst,
		.source_window =
			v->rate_limit.source_algorithm == XLB_CONFIG_SRC_SLIDING_WINDOW,
		.source_prefix4 = (__u8)v->rate_limit.source_prefix_v4,
		.source_prefix6 = (__u8)v->rate_limit.source_prefix_v6,
	};
	struct xlb_dp_limits have;

	if (!xlb_dp__vip_limits(dp, &v->addr, &have) && have.pps == want.pps &&
	    have.burst == want.burst && have.source_new_flows == want.source_new_flows &&
	    have.source_burst == want.source_burst && have.source_window == want.source_window &&
	    have.source_prefix4 == want.source_prefix4 && have.source_prefix6 == want.source_prefix6)
		return 0;
	pr_info("vip %s: rate limits %u/s burst %u, per source %u new flows/s burst %u", v->vip,
		want.pps, want.burst, want.source_new_flows, want.source_burst);
	return xlb_dp__vip_set_limits(dp, &v->addr, &want, err, errlen);
}

/* forward: gue: the port the data path sends to, when it differs. */
static int sync_gue_port(struct xlb_dp *dp, const struct xlb_config_vip *v, char *err,
			 size_t errlen)
{
	struct xlb_vip_gue have;

	if (!xlb_dp__vip_gue(dp, &v->addr, &have) && ntohs(have.port) == v->gue_port)
		return 0;
	if (v->forward == XLB_FWD_GUE)
		pr_info("vip %s: GUE to port %u", v->vip, v->gue_port);
	return xlb_dp__vip_set_gue_port(dp, &v->addr, (__u16)v->gue_port, err, errlen);
}

struct stale_ctx {
	const struct xlb_config *cfg;
	struct xlb_vip_addr *stale;
	size_t n;
};

static int collect_stale(const struct xlb_vip_addr *vip, void *arg)
{
	struct stale_ctx *c = arg;

	if (!xlb_config__find_vip(c->cfg, vip))
		c->stale[c->n++] = *vip;
	return 0;
}

int xlb_reconcile__apply(struct xlb_dp *dp, const struct xlb_config *cfg, char *err,
			 size_t errlen)
{
	struct stale_ctx stale = { .cfg = cfg };
	struct xlb_dp_vip_info *info = malloc(sizeof(*info));
	char name[XLB_VIP_NAME_MAX];
	int ret = 0;

	stale.stale = calloc(XLB_MAX_VIPS, sizeof(*stale.stale));
	if (!info || !stale.stale) {
		ret = xlb_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	ret = xlb_reconcile__check(cfg, err, errlen);
	if (ret)
		goto out;
	if (xlb_dp__flood_guard(dp) != cfg->conntrack.flood_guard_new_flows_per_cpu) {
		ret = xlb_dp__set_flood_guard(dp, cfg->conntrack.flood_guard_new_flows_per_cpu, err,
					      errlen);
		if (ret)
			goto out;
		pr_info("flood guard: %u new flows/s per CPU%s",
			cfg->conntrack.flood_guard_new_flows_per_cpu,
			cfg->conntrack.flood_guard_new_flows_per_cpu ? "" : " (off)");
	}

	/* Removals first: they free VIP and backend slots for additions. */
	xlb_dp__vip_foreach(dp, collect_stale, &stale);
	for (size_t i = 0; i < stale.n; i++) {
		ret = xlb_dp__vip_del(dp, &stale.stale[i], err, errlen);
		if (ret)
			goto out;
		xlb_vip_addr__format(&stale.stale[i], name, sizeof(name));
		pr_info("vip %s removed", name);
	}

	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];
		enum xlb_algo algo = XLB_ALGO_MAGLEV;
		bool exists = !xlb_dp__vip_info(dp, &v->addr, info), refresh = false;

		dp_algo(v->algorithm, &algo);
		if (exists && info->meta.table_size_cfg != v->table_size) {
			/* A new table size is a new VIP as far as the maps go. */
			ret = xlb_dp__vip_del(dp, &v->addr, err, errlen);
			if (ret)
				goto out;
			exists = false;
		}
		if (!exists) {
			ret = xlb_dp__vip_add(dp, &v->addr, algo, v->forward, v->table_size, err,
					      errlen);
			if (ret)
				goto out;
			pr_info("vip %s added (%s, %s)", v->vip, xlb_config__algo_name(v->algorithm),
				xlb_config__forward_name(v->forward));
		} else if (info->meta.algo != algo || info->meta.forward != v->forward) {
			/* l2dsr and ipip reach a backend through different MACs */
			refresh = info->meta.forward != v->forward;
			ret = xlb_dp__vip_update(dp, &v->addr, algo, v->forward, err, errlen);
			if (ret)
				goto out;
			pr_info("vip %s now %s, %s", v->vip, xlb_config__algo_name(v->algorithm),
				xlb_config__forward_name(v->forward));
		}
		ret = sync_limits(dp, v, err, errlen);
		if (ret)
			goto out;
		ret = sync_gue_port(dp, v, err, errlen);
		if (ret)
			goto out;
		if (!exists || !(info->meta.flags & XLB_VIP_F_STATELESS) != !v->stateless) {
			ret = xlb_dp__vip_set_stateless(dp, &v->addr, v->stateless, err, errlen);
			if (ret)
				goto out;
			if (exists || v->stateless)
				pr_info("vip %s: %s", v->vip,
					v->stateless ? "stateless (no connection table)"
						     : "records its flows again");
		}
		/* After adoption, the tables are rebuilt once whatever the entries
		 * say (a killed xlbd may have written them without the table);
		 * the same backends give the same table, so no flow moves. */
		if (exists && !refresh && backends_match(info, v) == 1 &&
		    !xlb_dp__tables_unverified(dp))
			continue;
		ret = set_backends(dp, v, err, errlen);
		if (ret)
			goto out;
		pr_debug("vip %s: %u backends published", v->vip, v->n_backends);
	}
	xlb_dp__tables_verified(dp);
out:
	free(info);
	free(stale.stale);
	return ret;
}
