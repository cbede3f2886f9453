/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Reading the data path's counters: global, per VIP and per backend, summed
 * over CPUs; lc's active-flow estimates and their recount; the connection
 * tables' entry counts; the counter ids of VIPs and backends. Also the
 * batch reads of array maps that adoption and the table readers share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "userspace/lib/dp_int.h"
#include "userspace/lib/log.h"

/* ---- batch reads of array maps ------------------------------------------ */

/*
 * One BPF_MAP_LOOKUP_BATCH of up to *count entries into keys/vals, resuming
 * after *token (from the map's start when first). *count gets what came.
 * 1 when the map has no more, 0 when it may, or -errno.
 */
static int lookup_batch_step(int fd, bool first, __u32 *token, __u32 *keys, void *vals,
			     __u32 *count)
{
	if (bpf_map_lookup_batch(fd, first ? NULL : token, token, keys, vals, count, NULL))
		return errno == ENOENT ? 1 : -errno; /* ENOENT: the last batch */
	return !*count;
}

/* Reads entries 0..size-1 of an array map (values of vsize bytes each; for
 * per-CPU maps vsize covers all CPUs) in as few syscalls as the kernel allows.
 */
int read_array(int fd, void *vals, size_t vsize, __u32 size)
{
	__u32 *keys = malloc(size * sizeof(*keys)), done = 0, batch = 0;
	int ret = 0;

	if (!keys)
		return -ENOMEM;
	while (done < size && !ret) {
		__u32 count = size - done;

		ret = lookup_batch_step(fd, !done, &batch, keys + done,
					(char *)vals + (size_t)done * vsize, &count);
		done += count;
	}
	free(keys);
	if (ret < 0)
		return ret;
	return done == size ? 0 : -EIO;
}

/* ---- reading ---------------------------------------------------------------- */

void xlb_dp__backend_counters_add(const struct xlb_dp *dp, int id,
				  struct xlb_backend_stats *acc)
{
	__u64 *sum = (__u64 *)acc;

	if (id < 0 || id >= XLB_MAX_BACKENDS)
		return;
	for (int cpu = 0; cpu < dp->ncpus; cpu++) {
		const __u64 *v = (const __u64 *)&dp->be_ctr[(size_t)cpu * XLB_MAX_BACKENDS + id];

		for (size_t i = 0; i < sizeof(*acc) / sizeof(__u64); i++)
			sum[i] += v[i];
	}
}

/* Sums a per-CPU array entry of u64 counters into out. */
static int percpu_sum(struct xlb_dp *dp, struct bpf_map *map, __u32 idx, void *out, size_t len)
{
	size_t sz = (bpf_map__value_size(map) + 7) & ~7UL;
	__u64 *vals = calloc(dp->ncpus, sz), *sum = out;
	int ret = 0;

	if (!vals)
		return -ENOMEM;
	memset(out, 0, len);
	if (bpf_map_lookup_elem(map_fd(map), &idx, vals)) {
		ret = -errno;
		goto out;
	}
	for (int cpu = 0; cpu < dp->ncpus; cpu++) {
		__u64 *v = (__u64 *)((char *)vals + cpu * sz);

		for (size_t i = 0; i < len / sizeof(__u64); i++)
			sum[i] += v[i];
	}
out:
	free(vals);
	return ret;
}

const char *xlb_dp__drop_name(enum xlb_drop_reason r)
{
	static const char *const names[XLB_DROP_MAX] = {
		[XLB_DROP_MALFORMED] = "malformed",	[XLB_DROP_FRAGMENT] = "fragment",
		[XLB_DROP_NO_BACKEND] = "no_backend",	[XLB_DROP_NO_TABLE] = "no_table",
		[XLB_DROP_ENCAP] = "encap",		[XLB_DROP_FAMILY] = "family",
		[XLB_DROP_RATE_VIP] = "rate_vip",	[XLB_DROP_RATE_SOURCE] = "rate_source",
		[XLB_DROP_TOO_BIG] = "too_big",
	};

	return (unsigned)r < XLB_DROP_MAX ? names[r] : "unknown";
}

int xlb_dp__stats(struct xlb_dp *dp, struct xlb_dp_stats *out)
{
	return percpu_sum(dp, dp->skel->maps.xlb_stats, 0, out, sizeof(*out));
}

/* Counts the open flows of each marked backend id in one connection table. */
static int count_flows(const struct xlb_dp *dp, struct bpf_map *map, size_t ksize,
		       const __u8 *marked, __u32 *count)
{
	const __u32 chunk = 4096;
	char *keys = malloc(chunk * ksize);
	struct xlb_flow *vals = malloc(chunk * sizeof(*vals));
	__u64 in = 0, out = 0;
	bool first = true, done = false;
	int ret = 0;

	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done) {
		__u32 n = chunk;

		if (bpf_map_lookup_batch(bpf_map__fd(map), first ? NULL : &in, &out, keys, vals, &n,
					 NULL)) {
			if (errno != ENOENT) {
				ret = -errno;
				goto out;
			}
			done = true; /* the last batch, n entries of it */
		}
		first = false;
		in = out;
		for (__u32 i = 0; i < n; i++) {
			__u32 id = vals[i].backend_id;

			if (id < XLB_MAX_BACKENDS && marked[id] &&
			    vals[i].backend_gen == dp->be_mirror[id].gen) /* live, not closed */
				count[id]++;
		}
	}
out:
	free(keys);
	free(vals);
	return ret;
}

int xlb_dp__lc_recount(struct xlb_dp *dp, char *err, size_t errlen)
{
	int fd = map_fd(dp->skel->maps.xlb_backend_load), ret = 0;
	__u8 *marked = calloc(XLB_MAX_BACKENDS, 1);
	__u32 *count = calloc(XLB_MAX_BACKENDS, sizeof(*count)), n = 0, *ids = NULL;
	__s64 *before = NULL;

	if (!marked || !count) {
		ret = xlb_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < XLB_MAX_VIPS; i++)
		if (dp->vips[i].used && dp->vips[i].meta.algo == XLB_ALGO_LC)
			n += dp->vips[i].nids;
	if (!n)
		goto out;
	ids = calloc(n, sizeof(*ids));
	before = calloc(n, sizeof(*before));
	if (!ids || !before) {
		ret = xlb_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	n = 0;
	for (int i = 0; i < XLB_MAX_VIPS; i++) {
		const struct dp_vip *v = &dp->vips[i];

		if (!v->used || v->meta.algo != XLB_ALGO_LC)
			continue;
		for (__u32 j = 0; j < v->nids; j++) {
			struct xlb_backend_load l = {};

			bpf_map_lookup_elem(fd, &v->ids[j], &l);
			marked[v->ids[j]] = 1;
			ids[n] = v->ids[j];
			before[n++] = l.active;
		}
	}
	ret = count_flows(dp, dp->skel->maps.xlb_flows4, sizeof(struct xlb_flow4_key), marked,
			  count) ?:
	      count_flows(dp, dp->skel->maps.xlb_flows6, sizeof(struct xlb_flow6_key), marked,
			  count);
	if (ret) {
		xlb_err(err, errlen, ret, "reading the connection table: %s", strerror(-ret));
		goto out;
	}
	for (__u32 i = 0; i < n; i++) {
		struct xlb_backend_load l = {};
		__s64 active;

		/* What changed during the scan may or may not be in it: keep
		 * the change, an error of a few flows at most.
		 */
		bpf_map_lookup_elem(fd, &ids[i], &l);
		active = (__s64)count[ids[i]] + (l.active - before[i]);
		l.active = active > 0 ? active : 0;
		if (bpf_map_update_elem(fd, &ids[i], &l, BPF_ANY)) {
			ret = xlb_err(err, errlen, -errno, "writing active flows: %s",
				      strerror(errno));
			goto out;
		}
	}
out:
	free(marked);
	free(count);
	free(ids);
	free(before);
	return ret;
}

#define COUNTERS_BATCH 4096

/*
 * The sums over CPUs of a per-CPU array's first n values, into out (n
 * values of vsize bytes), read COUNTERS_BATCH at a time into dp's scratch.
 */
static int percpu_read_all(struct xlb_dp *dp, struct bpf_map *map, void *out, size_t vsize,
			   __u32 n)
{
	size_t slot = (vsize + 7) & ~7UL, stride = slot * dp->ncpus;
	__u32 done = 0, token = 0;
	int fd = map_fd(map), ret = 0;

	if (dp->ctr.raw_size < stride * COUNTERS_BATCH) {
		void *raw = realloc(dp->ctr.raw, stride * COUNTERS_BATCH);

		if (!raw)
			return -ENOMEM;
		dp->ctr.raw = raw;
		dp->ctr.raw_size = stride * COUNTERS_BATCH;
	}
	if (!dp->ctr.keys && !(dp->ctr.keys = malloc(COUNTERS_BATCH * sizeof(*dp->ctr.keys))))
		return -ENOMEM;
	while (done < n && !ret) {
		__u32 count = n - done < COUNTERS_BATCH ? n - done : COUNTERS_BATCH;

		ret = lookup_batch_step(fd, !done, &token, dp->ctr.keys, dp->ctr.raw, &count);
		if (ret < 0)
			return ret;
		for (__u32 k = 0; k < count; k++) {
			__u64 *sum = (__u64 *)((char *)out + (size_t)(done + k) * vsize);

			memset(sum, 0, vsize);
			for (int cpu = 0; cpu < dp->ncpus; cpu++) {
				const __u64 *v = (const __u64 *)((char *)dp->ctr.raw + k * stride +
								 cpu * slot);

				for (size_t i = 0; i < vsize / sizeof(__u64); i++)
					sum[i] += v[i];
			}
		}
		done += count;
	}
	return done < n ? -EIO : 0;
}

int xlb_dp__counters_read(struct xlb_dp *dp, struct xlb_dp_counters *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	if (!dp->ctr.vip)
		dp->ctr.vip = calloc(XLB_MAX_VIPS, sizeof(*dp->ctr.vip));
	if (!dp->ctr.vip)
		return -ENOMEM;
	ret = xlb_dp__stats(dp, &c->global) ?:
	      percpu_read_all(dp, dp->skel->maps.xlb_vip_stats, dp->ctr.vip, sizeof(*dp->ctr.vip),
			      XLB_MAX_VIPS);
	if (ret)
		return ret;
	c->vip = dp->ctr.vip;
	for (int i = 0; i < XLB_MAX_VIPS; i++) {
		if (!dp->vips[i].used || dp->vips[i].meta.algo != XLB_ALGO_LC)
			continue;
		/* lc's estimates, only read when some VIP uses them */
		if (!dp->ctr.load)
			dp->ctr.load = calloc(XLB_MAX_BACKENDS, sizeof(*dp->ctr.load));
		ret = dp->ctr.load ? read_array(map_fd(dp->skel->maps.xlb_backend_load),
						dp->ctr.load, sizeof(*dp->ctr.load),
						XLB_MAX_BACKENDS)
				   : -ENOMEM;
		if (ret) {
			xlb_dp__counters_free(c);
			return ret;
		}
		/* A backend out of the table has no flows; its entry is not
		 * recounted (xlb_dp__lc_recount()) until it comes back.
		 */
		for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++)
			if (dp->be_parked[id])
				dp->ctr.load[id].active = 0;
		c->load = dp->ctr.load;
		break;
	}
	return 0;
}

void xlb_dp__counters_free(struct xlb_dp_counters *c)
{
	/* The arrays are the handle's, kept for the next read. */
	c->vip = NULL;
	c->load = NULL;
}

int xlb_dp__conntrack_entries(struct xlb_dp *dp, __u64 counts[2])
{
	struct xlb_mapcount rec;
	ssize_t n;
	int fd, ret;

	counts[0] = counts[1] = 0;
	if (!dp->mapcount_link)
		return -EOPNOTSUPP;
	fd = bpf_iter_create(bpf_link__fd(dp->mapcount_link));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, &rec, sizeof(rec))) == sizeof(rec))
		for (int i = 0; i < 2; i++)
			if (rec.id == dp->flow_map_ids[i])
				counts[i] = rec.count > 0 ? (__u64)rec.count : 0;
	ret = n < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* ---- counter ids -------------------------------------------------------- */

void ids_changed(struct xlb_dp *dp)
{
	static unsigned long gen;

	dp->ids_gen = ++gen;
}

unsigned long xlb_dp__ids_gen(const struct xlb_dp *dp)
{
	return dp->ids_gen;
}

int xlb_dp__vip_id(struct xlb_dp *dp, const struct xlb_vip_addr *vip)
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;

	return v ? (int)v->meta.vip_id : -ENOENT;
}

int xlb_dp__backend_id(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u8 family,
		       const __be32 addr[4])
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;

	for (__u32 i = 0; v && i < v->nids; i++)
		if (backend_addr_equal(&dp->be_mirror[v->ids[i]], family, addr))
			return (int)v->ids[i];
	return -ENOENT;
}

int xlb_dp__counter_ids(struct xlb_dp *dp, const struct xlb_vip_addr *vip, size_t n,
			const struct xlb_dp_backend_key *keys, int *ids)
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;
	__u32 k = 0; /* where the next key is expected */

	if (!v)
		return -ENOENT;
	for (size_t j = 0; j < n; j++) {
		ids[j] = -ENOENT;
		if (k < v->nids &&
		    backend_addr_equal(&dp->be_mirror[v->ids[k]], keys[j].family, keys[j].addr)) {
			ids[j] = (int)v->ids[k++];
			continue;
		}
		for (__u32 i = 0; i < v->nids; i++) {
			if (backend_addr_equal(&dp->be_mirror[v->ids[i]], keys[j].family,
					       keys[j].addr)) {
				ids[j] = (int)v->ids[i];
				k = i + 1;
				break;
			}
		}
		if (ids[j] < 0) /* out of the table: the counters it left */
			ids[j] = parked_find(dp, v, keys[j].family, keys[j].addr);
	}
	return (int)v->meta.vip_id;
}
