/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * VIPs in the data path: adding, removing and changing them (algorithm,
 * forwarding, GUE port, stateless), their rate limits and the flood guard,
 * and what follows from the set of VIPs (the address filter, the fragments'
 * address set, the any-port and stateless flags). A VIP's backends and
 * table are dp_backends.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "userspace/lib/dp_int.h"
#include "userspace/lib/log.h"
#include "userspace/lib/maglev.h"
#include "maps/xlb_hash.h"
#include "maps/xlb_ratelimit.h"

/* ---- VIP bookkeeping ---------------------------------------------------- */

struct dp_vip *vip_find(struct xlb_dp *dp, const struct xlb_vip_addr *vip)
{
	for (int i = 0; i < XLB_MAX_VIPS; i++)
		if (dp->vips[i].used && !xlb_vip_addr__cmp(&dp->vips[i].addr, vip))
			return &dp->vips[i];
	return NULL;
}

/* The VIP's bookkeeping, its canonical name in name[64]; NULL and a message
 * in err when there is no such VIP.
 */
static struct dp_vip *vip_get(struct xlb_dp *dp, const struct xlb_vip_addr *vip, char *name,
			      char *err, size_t errlen)
{
	struct dp_vip *v;

	xlb_vip_addr__format(vip, name, 64);
	v = vip_find(dp, vip);
	if (!v)
		xlb_err(err, errlen, -ENOENT, "no VIP %s", name);
	return v;
}

static int check_vip(const struct xlb_vip_addr *vip, char *err, size_t errlen)
{
	if (!vip)
		return xlb_err(err, errlen, -EINVAL, "missing VIP");
	if (vip->family != XLB_AF_INET && vip->family != XLB_AF_INET6)
		return xlb_err(err, errlen, -EINVAL, "VIP family %u is neither IPv4 nor IPv6",
			       vip->family);
	if (vip->proto != IPPROTO_TCP && vip->proto != IPPROTO_UDP)
		return xlb_err(err, errlen, -EINVAL, "VIP protocol %u is neither TCP nor UDP",
			       vip->proto);
	return 0;
}

/* A live VIP by its address: check_vip(), then vip_get(); name gets its text. */
int vip_checked(struct xlb_dp *dp, const struct xlb_vip_addr *vip, char *name, char *err,
		size_t errlen, struct dp_vip **out)
{
	int ret = check_vip(vip, err, errlen);

	if (ret)
		return ret;
	*out = vip_get(dp, vip, name, err, errlen);
	return *out ? 0 : -ENOENT;
}

int vip_map_fd(struct xlb_dp *dp, __u8 family)
{
	return map_fd(family == XLB_AF_INET ? dp->skel->maps.xlb_vips4 : dp->skel->maps.xlb_vips6);
}

/* The VIP maps' key for vip; returns its size. */
static size_t vip_key(const struct xlb_vip_addr *vip, void *key)
{
	if (vip->family == XLB_AF_INET) {
		struct xlb_vip4_key *k = key;

		memset(k, 0, sizeof(*k));
		k->addr = vip->addr[0];
		k->port = htons(vip->port);
		k->proto = vip->proto;
		return sizeof(*k);
	} else {
		struct xlb_vip6_key *k = key;

		memset(k, 0, sizeof(*k));
		memcpy(k->addr, vip->addr, sizeof(k->addr));
		k->port = htons(vip->port);
		k->proto = vip->proto;
		return sizeof(*k);
	}
}

/* The established fast path's copy of a VIP's meta (xlb_vips_by_id). */
int vip_by_id_write(struct xlb_dp *dp, const struct xlb_vip_meta *meta)
{
	struct xlb_vip_meta live = *meta;

	live.flags |= XLB_VIP_F_LIVE;
	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_vips_by_id), &meta->vip_id, &live,
				BPF_ANY))
		return -errno;
	return 0;
}

int vip_meta_write(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
		   const struct xlb_vip_meta *meta, __u64 flags)
{
	union {
		struct xlb_vip4_key k4;
		struct xlb_vip6_key k6;
	} key;

	vip_key(vip, &key);
	if (bpf_map_update_elem(vip_map_fd(dp, vip->family), &key, meta, flags))
		return -errno;
	return vip_by_id_write(dp, meta);
}

int vip_gue_write(struct xlb_dp *dp, struct dp_vip *v, const struct xlb_vip_gue *g)
{
	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_vip_gue), &v->meta.vip_id, g, BPF_ANY))
		return -errno;
	v->gue = *g;
	return 0;
}

/* Keeps XLB_CFG_F_ANY_PORT* in step with the port-0 VIPs of the data path
 * (plus extra, being added).
 */
static int vip_flags_sync(struct xlb_dp *dp, const struct dp_vip *extra)
{
	struct xlb_lb_config cfg = dp->cfg;
	__u8 flags = 0;

	for (int i = 0; i <= XLB_MAX_VIPS; i++) {
		const struct dp_vip *v = i < XLB_MAX_VIPS ? &dp->vips[i] : extra;

		if (!v || (i < XLB_MAX_VIPS && !v->used) || v->addr.port)
			continue;
		flags |= v->addr.family == XLB_AF_INET ? XLB_CFG_F_ANY_PORT4 : XLB_CFG_F_ANY_PORT6;
	}
	if (flags == cfg.flags)
		return 0;
	cfg.flags = flags;
	return config_write(dp, &cfg);
}

/*
 * Rewrites the VIP filter's classes of the addresses (plus extra, being
 * added) and the stateless VIPs' {address, port} pairs, the pairs first. A
 * VIP's bit is only added before it exists and dropped after it is gone,
 * so a packet never misses a live VIP, whatever part of an update it sees;
 * a stateless bit seen too early or too late only sends a packet by the
 * other of two paths that both decide it the same.
 */
int vip_filter_sync(struct xlb_dp *dp, const struct dp_vip *extra)
{
	struct xlb_stateless_filter *pairs = calloc(1, sizeof(*pairs));
	struct xlb_vip_filter *f = calloc(1, sizeof(*f));
	__u32 zero = 0;
	int ret = 0;

	if (!f || !pairs) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i <= XLB_MAX_VIPS; i++) {
		const struct dp_vip *v = i < XLB_MAX_VIPS ? &dp->vips[i] : extra;
		__u64 class = XLB_VIP_FILTER_VIP;
		__u32 slot, bit;

		if (!v || (i < XLB_MAX_VIPS && !v->used))
			continue;
		if (v->meta.flags & XLB_VIP_F_STATELESS) {
			class |= XLB_VIP_FILTER_STATELESS;
			bit = xlb_hash_vip_port_bit(v->addr.addr, v->addr.family,
						    htons(v->addr.port));
			pairs->bits[bit / 64] |= 1ULL << (bit % 64);
		}
		slot = xlb_hash_vip_bit(v->addr.addr, v->addr.family);
		f->bits[XLB_VIP_FILTER_WORD(slot)] |= class << XLB_VIP_FILTER_SHIFT(slot);
	}
	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_stateless_filter), &zero, pairs,
				BPF_ANY) ||
	    bpf_map_update_elem(map_fd(dp->skel->maps.xlb_vip_filter), &zero, f, BPF_ANY))
		ret = -errno;
out:
	free(f);
	free(pairs);
	return ret;
}

/*
 * Keeps a's {address, protocol} entry of xlb_vip_addrs in step with the
 * VIPs: the id of its VIP of lowest port (an any-port VIP first), or no
 * entry once it has none. Fragments to the pair are dropped while it is
 * there.
 */
int vip_addrs_sync(struct xlb_dp *dp, const struct xlb_vip_addr *a)
{
	struct xlb_vip_addr_key k = { .family = a->family, .proto = a->proto };
	int fd = map_fd(dp->skel->maps.xlb_vip_addrs);
	const struct dp_vip *best = NULL;

	memcpy(k.addr, a->addr, a->family == XLB_AF_INET ? 4 : 16);
	for (int i = 0; i < XLB_MAX_VIPS; i++) {
		const struct dp_vip *v = &dp->vips[i];

		if (v->used && v->addr.family == a->family && v->addr.proto == a->proto &&
		    !memcmp(v->addr.addr, k.addr, sizeof(k.addr)) &&
		    (!best || v->addr.port < best->addr.port))
			best = v;
	}
	if (best)
		return bpf_map_update_elem(fd, &k, &best->meta.vip_id, BPF_ANY) ? -errno : 0;
	if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Zeroes one entry of a per-CPU array (a reused VIP or backend id). */
static int percpu_zero(struct xlb_dp *dp, struct bpf_map *map, __u32 idx)
{
	size_t sz = (bpf_map__value_size(map) + 7) & ~7UL;
	void *zeros = calloc(dp->ncpus, sz);
	int ret = 0;

	if (!zeros)
		return -ENOMEM;
	if (bpf_map_update_elem(map_fd(map), &idx, zeros, BPF_ANY))
		ret = -errno;
	free(zeros);
	return ret;
}

void table_fds_close(struct dp_vip *v)
{
	for (int s = 0; s < 2; s++) {
		if (v->table_fd1[s])
			close(v->table_fd1[s] - 1);
		v->table_fd1[s] = 0;
	}
}

/* Writes a VIP's shared bucket under its lock (the data path may hold it). */
static int vip_bucket_write(struct xlb_dp *dp, __u32 vip_id, const struct xlb_tb *tb)
{
	struct xlb_vip_bucket b = { .tb = *tb };

	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_vip_buckets), &vip_id, &b, BPF_F_LOCK))
		return -errno;
	return 0;
}

/* Forgets the per-source state of a deleted VIP: reads the keys in batches
 * (a full map is 65536 keys), deletes the VIP's.
 */
static int src_limits_purge(struct xlb_dp *dp, __u32 vip_id)
{
	int fd = map_fd(dp->skel->maps.xlb_src_limits);
	__u32 max = bpf_map__max_entries(dp->skel->maps.xlb_src_limits), n = 0, done = 0;
	struct xlb_src_key *keys = calloc(max, sizeof(*keys));
	struct xlb_src_limit *vals = calloc(max, sizeof(*vals));
	__u64 token = 0; /* a hash map's batch cursor (a bucket index) */
	int ret = 0;

	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < max) {
		__u32 count = max - done;
		int end = bpf_map_lookup_batch(fd, done ? &token : NULL, &token, keys + done,
					       vals + done, &count, NULL);

		if (end && errno != ENOENT) { /* ENOENT: the last batch */
			ret = -errno;
			goto out;
		}
		done += count;
		if (end || !count)
			break;
	}
	for (__u32 i = 0; i < done; i++)
		if (keys[i].vip_id == vip_id)
			keys[n++] = keys[i];
	for (__u32 i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]); /* gone already (evicted): fine */
out:
	free(keys);
	free(vals);
	return ret;
}

/* A VIP id taken by a new VIP: no bucket or lease of the last one (its
 * per-source state went when it was deleted).
 */
static int ratelimit_reset(struct xlb_dp *dp, __u32 vip_id)
{
	struct xlb_tb empty = {};

	return vip_bucket_write(dp, vip_id, &empty) ?:
	       percpu_zero(dp, dp->skel->maps.xlb_vip_leases, vip_id);
}

/* ---- VIPs ----------------------------------------------------------------- */

static int check_modes(enum xlb_algo algo, enum xlb_forward fwd, char *err, size_t errlen)
{
	if ((unsigned)algo >= XLB_ALGO_MAX)
		return xlb_err(err, errlen, -EINVAL, "unknown algorithm %d", algo);
	if ((unsigned)fwd >= XLB_FWD_MAX)
		return xlb_err(err, errlen, -EINVAL, "unknown forwarding mode %d", fwd);
	return 0;
}

/*
 * wrr/rr: spreads the CPUs' cursors over the sequence (taken modulo its
 * length), so that after a start the CPUs do not all send their first new
 * flow to the sequence's first backend. CPU 0 starts at the beginning.
 */
static int wrr_cursors_spread(struct xlb_dp *dp, __u32 vip_id)
{
	struct xlb_wrr_cursor *c = calloc(dp->ncpus, sizeof(*c));
	int ret = 0;

	if (!c)
		return -ENOMEM;
	for (int cpu = 0; cpu < dp->ncpus; cpu++)
		c[cpu].pos = (__u32)((__u64)cpu * XLB_WRR_SEQ_MAX / dp->ncpus);
	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_wrr_cursors), &vip_id, c, BPF_ANY))
		ret = -errno;
	free(c);
	return ret;
}

int xlb_dp__vip_add(struct xlb_dp *dp, const struct xlb_vip_addr *vip, enum xlb_algo algo,
		    enum xlb_forward fwd, __u32 table_size, char *err, size_t errlen)
{
	int fd_tables = map_fd(dp->skel->maps.xlb_tables);
	struct xlb_vip_meta meta = {};
	char name[64];
	struct dp_vip *v = NULL;
	int ret;

	ids_changed(dp);

	ret = check_vip(vip, err, errlen) ?: check_modes(algo, fwd, err, errlen);
	if (ret)
		return ret;
	if (!table_size)
		table_size = XLB_MAGLEV_DEFAULT_SIZE;
	if (table_size > XLB_MAGLEV_MAX_SIZE || !xlb_maglev__is_prime(table_size))
		return xlb_err(err, errlen, -EINVAL,
			       "table size %u must be a prime no larger than %u", table_size,
			       XLB_MAGLEV_MAX_SIZE);
	xlb_vip_addr__format(vip, name, sizeof(name));
	if (vip_find(dp, vip))
		return xlb_err(err, errlen, -EEXIST, "VIP %s already exists", name);
	for (int i = 0; i < XLB_MAX_VIPS; i++) {
		if (!dp->vips[i].used) {
			v = &dp->vips[i];
			meta.vip_id = i;
			break;
		}
	}
	if (!v)
		return xlb_err(err, errlen, -ENOSPC, "too many VIPs (limit %d)", XLB_MAX_VIPS);

	meta.algo = algo;
	meta.forward = fwd;
	meta.table_size_cfg = table_size;
	meta.src_prefix4 = XLB_SRC_PREFIX4_DEFAULT;
	meta.src_prefix6 = XLB_SRC_PREFIX6_DEFAULT;
	for (__u32 s = 0; s < 2; s++) {
		__u32 slot = meta.vip_id * 2 + s;

		bpf_map_delete_elem(fd_tables, &slot);
	}
	ret = percpu_zero(dp, dp->skel->maps.xlb_vip_stats, meta.vip_id) ?:
	      ratelimit_reset(dp, meta.vip_id) ?: wrr_cursors_spread(dp, meta.vip_id);
	if (ret)
		return xlb_err(err, errlen, ret, "resetting counters of %s: %s", name,
			       strerror(-ret));
	/* Port 0 VIPs need the second lookup switched on before they exist. */
	table_fds_close(v);
	memset(v, 0, sizeof(*v));
	v->addr = *vip;
	v->meta.vip_id = meta.vip_id;
	{
		struct xlb_vip_gue g = { .port = htons(XLB_GUE_DEFAULT_PORT) };

		ret = vip_gue_write(dp, v, &g);
		if (ret)
			return xlb_err(err, errlen, ret, "writing %s: %s", XLB_MAP_VIP_GUE,
				       strerror(-ret));
	}
	ret = vip_flags_sync(dp, v) ?: vip_filter_sync(dp, v);
	if (ret)
		return xlb_err(err, errlen, ret, "updating config maps: %s", strerror(-ret));
	ret = vip_meta_write(dp, vip, &meta, BPF_NOEXIST);
	if (ret) {
		vip_flags_sync(dp, NULL);
		vip_filter_sync(dp, NULL);
		return xlb_err(err, errlen, ret, "adding %s to the VIP map: %s", name,
			       strerror(-ret));
	}
	v->used = true;
	v->meta = meta;
	ret = vip_addrs_sync(dp, vip);
	if (ret) /* the VIP works; only its address's later fragments pass */
		pr_warn("vip %s: adding its address for fragments: %s", name, strerror(-ret));
	pr_debug("vip %s added (id %u)", name, meta.vip_id);
	return 0;
}

int xlb_dp__vip_del(struct xlb_dp *dp, const struct xlb_vip_addr *vip, char *err, size_t errlen)
{
	int fd_tables = map_fd(dp->skel->maps.xlb_tables);
	union {
		struct xlb_vip4_key k4;
		struct xlb_vip6_key k6;
	} key;
	struct dp_vip *v;
	char name[64];
	int ret;

	ids_changed(dp);

	ret = vip_checked(dp, vip, name, err, errlen, &v);
	if (ret)
		return ret;
	vip_key(vip, &key);
	{
		/* First out of the fast path, then out of the hash. */
		struct xlb_vip_meta gone = {};

		if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_vips_by_id), &v->meta.vip_id,
					&gone, BPF_ANY))
			return xlb_err(err, errlen, -errno, "removing %s: %s", name,
				       strerror(errno));
	}
	if (bpf_map_delete_elem(vip_map_fd(dp, vip->family), &key))
		return xlb_err(err, errlen, -errno, "removing %s: %s", name, strerror(errno));
	/* Packets no longer match the VIP; what it owned can go. */
	for (__u32 s = 0; s < 2; s++) {
		__u32 slot = v->meta.vip_id * 2 + s;

		bpf_map_delete_elem(fd_tables, &slot);
	}
	/* A deleted VIP's counters go with it: nothing stays parked. */
	for (__u32 i = 0; i < v->nids; i++) {
		backend_retire(dp, v->ids[i]);
		backend_forget(dp, v->ids[i]);
	}
	for (__u32 i = 0; i < v->nparked; i++)
		if (parked_valid(dp, v, v->parked[i]))
			backend_forget(dp, v->parked[i]);
	src_limits_purge(dp, v->meta.vip_id);
	{
		struct xlb_vip_gue none = {};

		vip_gue_write(dp, v, &none);
	}
	table_fds_close(v);
	free(v->parked);
	memset(v, 0, sizeof(*v));
	vip_flags_sync(dp, NULL);
	vip_filter_sync(dp, NULL);
	vip_addrs_sync(dp, vip);
	pr_debug("vip %s deleted", name);
	return 0;
}

int xlb_dp__vip_set_gue_port(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u16 port,
			     char *err, size_t errlen)
{
	struct xlb_vip_gue g;
	struct dp_vip *v;
	char name[64];
	int ret;

	ret = vip_checked(dp, vip, name, err, errlen, &v);
	if (ret)
		return ret;
	if (!port)
		return xlb_err(err, errlen, -EINVAL, "%s: GUE port 0", name);
	g = v->gue;
	g.port = htons(port);
	ret = vip_gue_write(dp, v, &g);
	if (ret)
		return xlb_err(err, errlen, ret, "%s: writing %s: %s", name, XLB_MAP_VIP_GUE,
			       strerror(-ret));
	return 0;
}

int xlb_dp__vip_gue(struct xlb_dp *dp, const struct xlb_vip_addr *vip, struct xlb_vip_gue *out)
{
	struct dp_vip *v = vip_find(dp, vip);

	if (!v)
		return -ENOENT;
	*out = v->gue;
	return 0;
}

int xlb_dp__vip_update(struct xlb_dp *dp, const struct xlb_vip_addr *vip, enum xlb_algo algo,
		       enum xlb_forward fwd, char *err, size_t errlen)
{
	struct xlb_vip_meta meta;
	struct dp_vip *v;
	char name[64];
	int ret;

	ret = check_modes(algo, fwd, err, errlen) ?: vip_checked(dp, vip, name, err, errlen, &v);
	if (ret)
		return ret;
	if (algo != v->meta.algo) {
		/* Prepare the new algorithm's state before packets use it. */
		if (algo == XLB_ALGO_LC)
			for (__u32 i = 0; i < v->nids && !ret; i++)
				ret = load_zero(dp, v->ids[i]);
		if (algo_wrr(algo) && !ret)
			ret = wrr_cursors_spread(dp, v->meta.vip_id);
		if (ret)
			return xlb_err(err, errlen, ret, "updating %s: %s", name, strerror(-ret));
	}
	if (v->meta.table_size && algo != v->meta.algo && (algo_wrr(algo) || algo_wrr(v->meta.algo))) {
		/* The table changes with the algorithm: publish both together. */
		__u8 old_algo = v->meta.algo, old_fwd = v->meta.forward;

		v->meta.algo = algo;
		v->meta.forward = fwd;
		ret = republish(dp, v, err, errlen);
		if (ret) {
			v->meta.algo = old_algo;
			v->meta.forward = old_fwd;
		}
		return ret;
	}
	meta = v->meta;
	meta.algo = algo;
	meta.forward = fwd;
	ret = vip_meta_write(dp, vip, &meta, BPF_EXIST);
	if (ret)
		return xlb_err(err, errlen, ret, "updating %s: %s", name, strerror(-ret));
	if (v->meta.forward != fwd) /* l2dsr and ipip use different MACs */
		for (__u32 j = 0; j < v->nids; j++)
			dp->mac_at[v->ids[j]] = 0;
	v->meta = meta;
	return 0;
}

int xlb_dp__vip_set_stateless(struct xlb_dp *dp, const struct xlb_vip_addr *vip, bool stateless,
			      char *err, size_t errlen)
{
	struct xlb_vip_meta meta;
	struct dp_vip *v;
	char name[64];
	int ret;

	ret = vip_checked(dp, vip, name, err, errlen, &v);
	if (ret)
		return ret;
	meta = v->meta;
	meta.flags = (meta.flags & ~XLB_VIP_F_STATELESS) | (stateless ? XLB_VIP_F_STATELESS : 0);
	if (meta.flags == v->meta.flags)
		return 0;
	/* Entries from before the VIP went stateless were left as they were
	 * (its packets skip the table): a new generation of its backends makes
	 * them stale, so a flow the hash has moved since is not sent back.
	 */
	for (__u32 i = 0; i < v->nids && !stateless && !ret; i++) {
		struct xlb_backend be;

		if (!backend_read(dp, v->ids[i], &be) && (be.flags & XLB_BACKEND_F_ALLOCATED)) {
			be.gen = (be.gen + 1) & XLB_BACKEND_GEN_MASK;
			ret = backend_write(dp, v->ids[i], &be);
		}
	}
	ret = ret ?: vip_meta_write(dp, vip, &meta, BPF_EXIST);
	if (!ret)
		v->meta = meta;
	ret = ret ?: vip_filter_sync(dp, NULL);
	if (ret)
		return xlb_err(err, errlen, ret, "making %s %s: %s", name,
			       stateless ? "stateless" : "stateful", strerror(-ret));
	return 0;
}

/* ---- rate limits ------------------------------------------------------------ */

static int check_limits(const struct xlb_dp_limits *l, char *err, size_t errlen)
{
	if (!l)
		return xlb_err(err, errlen, -EINVAL, "missing limits");
	if (l->pps && !l->burst)
		return xlb_err(err, errlen, -EINVAL,
			       "burst 0 with a rate of %u packets/s: the bucket would never pass a packet (burst must be >= 1)",
			       l->pps);
	if (!l->pps && l->burst)
		return xlb_err(err, errlen, -EINVAL, "burst %u set but the rate is 0 (off)",
			       l->burst);
	if (!l->pps && l->lease)
		return xlb_err(err, errlen, -EINVAL, "lease %u set but the rate is 0 (off)",
			       l->lease);
	if (l->lease > XLB_RL_LEASE_MAX || l->lease > l->burst)
		return xlb_err(err, errlen, -EINVAL,
			       "lease %u out of range 1..%u (at most the burst, %u, and %u)",
			       l->lease, l->burst < XLB_RL_LEASE_MAX ? l->burst : XLB_RL_LEASE_MAX,
			       l->burst, XLB_RL_LEASE_MAX);
	if (!l->source_window && l->source_new_flows && !l->source_burst)
		return xlb_err(err, errlen, -EINVAL,
			       "source burst 0 with a rate of %u new flows/s: the bucket would never pass a flow (source burst must be >= 1)",
			       l->source_new_flows);
	if (!l->source_new_flows && l->source_burst)
		return xlb_err(err, errlen, -EINVAL,
			       "source burst %u set but the source rate is 0 (off)", l->source_burst);
	if (!l->source_new_flows && l->source_window)
		return xlb_err(err, errlen, -EINVAL,
			       "sliding window asked for but the source rate is 0 (off)");
	if (l->source_prefix4 > 32 || l->source_prefix6 > 128)
		return xlb_err(err, errlen, -EINVAL,
			       "source prefix /%u (IPv4) or /%u (IPv6) out of range 1..32, 1..128",
			       l->source_prefix4, l->source_prefix6);
	return 0;
}

int xlb_dp__vip_set_limits(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
			   const struct xlb_dp_limits *l, char *err, size_t errlen)
{
	struct xlb_vip_meta meta;
	struct dp_vip *v;
	char name[64];
	int ret;

	ret = check_limits(l, err, errlen) ?: vip_checked(dp, vip, name, err, errlen, &v);
	if (ret)
		return ret;
	meta = v->meta;
	meta.rate_pps = l->pps;
	meta.rate_burst = l->burst;
	meta.rl_lease = !l->pps ? 0 : l->lease ? l->lease : xlb_rl_lease_auto(l->burst, dp->ncpus);
	meta.src_rate = l->source_new_flows;
	meta.src_burst = l->source_burst;
	meta.src_prefix4 = l->source_prefix4 ?: XLB_SRC_PREFIX4_DEFAULT;
	meta.src_prefix6 = l->source_prefix6 ?: XLB_SRC_PREFIX6_DEFAULT;
	meta.flags = (meta.flags & ~XLB_VIP_F_SRC_WINDOW) |
		     (l->source_window ? XLB_VIP_F_SRC_WINDOW : 0);
	if (!memcmp(&meta, &v->meta, sizeof(meta)))
		return 0; /* nothing changes: keep the CPUs' leases */
	meta.rl_gen = v->meta.rl_gen + 1;
	if (meta.rate_pps && !v->meta.rate_pps) {
		/* Switched on: the bucket starts full (capped to the burst at the
		 * first refill). No packet uses it until the entry below is in.
		 */
		struct xlb_tb full = { .units = (__u64)l->burst * XLB_TB_SCALE };

		ret = vip_bucket_write(dp, meta.vip_id, &full);
		if (ret)
			return xlb_err(err, errlen, ret, "resetting the bucket of %s: %s", name,
				       strerror(-ret));
	}
	ret = vip_meta_write(dp, vip, &meta, BPF_EXIST);
	if (ret)
		return xlb_err(err, errlen, ret, "updating the limits of %s: %s", name,
			       strerror(-ret));
	v->meta = meta;
	pr_debug("vip %s: limits %u/%u pps (lease %u), %u/%u new flows/s per source%s", name,
		 meta.rate_pps, meta.rate_burst, meta.rl_lease, meta.src_rate, meta.src_burst,
		 l->source_window ? " (sliding window)" : "");
	return 0;
}

int xlb_dp__vip_limits(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
		       struct xlb_dp_limits *out)
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;

	if (!v || !out)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->pps = v->meta.rate_pps;
	out->burst = v->meta.rate_burst;
	out->lease = v->meta.rl_lease;
	out->source_new_flows = v->meta.src_rate;
	out->source_burst = v->meta.src_burst;
	out->source_window = v->meta.flags & XLB_VIP_F_SRC_WINDOW;
	out->source_prefix4 = v->meta.src_prefix4;
	out->source_prefix6 = v->meta.src_prefix6;
	return 0;
}

int xlb_dp__set_flood_guard(struct xlb_dp *dp, __u32 new_flows_per_cpu, char *err,
			    size_t errlen)
{
	struct xlb_lb_config cfg = dp->cfg;
	int ret;

	if (cfg.flood_new_flows == new_flows_per_cpu)
		return 0;
	cfg.flood_new_flows = new_flows_per_cpu;
	ret = config_write(dp, &cfg);
	if (ret)
		return xlb_err(err, errlen, ret, "writing the flood guard: %s", strerror(-ret));
	return 0;
}

__u32 xlb_dp__flood_guard(const struct xlb_dp *dp)
{
	return dp->cfg.flood_new_flows;
}

/* ---- reading ------------------------------------------------------------ */

int xlb_dp__vip_info(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
		     struct xlb_dp_vip_info *out)
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;
	int ret;

	if (!v)
		return -ENOENT;
	out->meta = v->meta;
	out->nbackends = v->nids;
	for (__u32 i = 0; i < v->nids; i++) {
		out->ids[i] = v->ids[i];
		ret = backend_read(dp, v->ids[i], &out->backends[i]);
		if (ret)
			return ret;
	}
	return 0;
}

int xlb_dp__vip_foreach(struct xlb_dp *dp, int (*fn)(const struct xlb_vip_addr *vip, void *arg),
			void *arg)
{
	for (int i = 0; i < XLB_MAX_VIPS; i++) {
		int ret;

		if (!dp->vips[i].used)
			continue;
		ret = fn(&dp->vips[i].addr, arg);
		if (ret)
			return ret;
	}
	return 0;
}
