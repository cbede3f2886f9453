/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Where one client flow goes and why (xlbctl explain), with the keys, hashes
 * and rate-limit arithmetic of the data path itself; a VIP's live table read
 * back, and its digest for comparing hosts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "userspace/lib/clock.h"
#include "userspace/lib/dp_int.h"
#include "userspace/lib/table_digest.h"
#include "maps/xlb_hash.h"
#include "maps/xlb_ratelimit.h"

/* The data path's clock: CLOCK_MONOTONIC is bpf_ktime_get_ns()'s. */
static __u64 dp_now_ns(const struct xlb_dp *dp)
{
	if (dp->test_clock && dp->skel->bss)
		return dp->skel->bss->xlb_test_now_ns;
	return xlb_clock__mono_ns();
}

/*
 * Would the rate limits let the flow's next packet through now? Works on
 * copies of the limits' state, refilled to now with the data path's own
 * arithmetic (maps/xlb_ratelimit.h); nothing is spent.
 */
static int explain_limits(struct xlb_dp *dp, const struct xlb_vip_meta *meta, __u8 family,
			  const __be32 saddr[4], struct xlb_dp_explain *out)
{
	__u32 id = meta->vip_id;
	__u64 now = dp_now_ns(dp);

	if (meta->rate_pps) {
		struct xlb_vip_lease *leases = calloc(dp->ncpus, sizeof(*leases));
		struct xlb_vip_bucket b;
		int ret = leases ? 0 : -ENOMEM;

		if (!ret && bpf_map_lookup_elem_flags(map_fd(dp->skel->maps.xlb_vip_buckets), &id,
						      &b, BPF_F_LOCK))
			ret = -errno;
		if (!ret && bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_vip_leases), &id, leases))
			ret = -errno;
		if (ret) {
			free(leases);
			return ret;
		}
		out->vip_limited = true;
		xlb_tb_refill(&b.tb, now, meta->rate_pps, meta->rate_burst);
		out->vip_tokens = b.tb.units / XLB_TB_SCALE;
		for (int cpu = 0; cpu < dp->ncpus; cpu++)
			if (leases[cpu].gen == meta->rl_gen)
				out->vip_tokens += leases[cpu].tokens;
		free(leases);
	}
	/* The per-source limit counts flows that miss the table (a TCP SYN, any
	 * UDP); a stateless VIP's flows all do.
	 */
	if (meta->src_rate && (!out->in_conntrack || (meta->flags & XLB_VIP_F_STATELESS))) {
		struct xlb_src_key k = { .vip_id = id };
		bool window = meta->flags & XLB_VIP_F_SRC_WINDOW;
		struct xlb_src_limit s;

		if (family == XLB_AF_INET)
			k.addr[0] = saddr[0];
		else
			memcpy(k.addr, saddr, sizeof(k.addr));
		xlb_src_prefix(k.addr, family,
			       family == XLB_AF_INET ? meta->src_prefix4 : meta->src_prefix6);
		out->source_limited = true;
		if (bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_src_limits), &k, &s) ||
		    s.window != window)
			out->source_admits = true; /* a fresh limit has room */
		else if (window)
			out->source_admits = xlb_sw_admit(&s.sw, now, meta->src_rate);
		else
			out->source_admits = xlb_tb_admit(&s.tb, now, meta->src_rate,
							  meta->src_burst);
	}
	return 0;
}

int xlb_dp__explain(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u8 family,
		    const __be32 saddr[4], __u16 sport, __u16 dport, struct xlb_dp_explain *out)
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;
	struct xlb_flow flow;
	__u32 *table;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOENT;
	if (family != vip->family)
		return -EAFNOSUPPORT;
	if (vip->port)
		dport = vip->port;
	/* The same key and hash the data path builds (bpf/xlb.bpf.c). */
	if (family == XLB_AF_INET) {
		struct xlb_flow4_key k = { .saddr = saddr[0], .daddr = vip->addr[0],
					   .sport = htons(sport), .dport = htons(dport),
					   .proto = vip->proto };

		out->in_conntrack =
			!bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_flows4), &k, &flow);
		out->hash = v->meta.algo == XLB_ALGO_SOURCE_HASH
				    ? xlb_hash_src4(k.saddr)
				    : xlb_hash_flow4(k.saddr, k.daddr,
						     ((__u32)k.sport << 16) | k.dport, k.proto);
	} else {
		struct xlb_flow6_key k = { .sport = htons(sport), .dport = htons(dport),
					   .proto = vip->proto };

		memcpy(k.saddr, saddr, sizeof(k.saddr));
		memcpy(k.daddr, vip->addr, sizeof(k.daddr));
		out->in_conntrack =
			!bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_flows6), &k, &flow);
		out->hash = v->meta.algo == XLB_ALGO_SOURCE_HASH
				    ? xlb_hash_src6(k.saddr)
				    : xlb_hash_flow6(k.saddr, k.daddr,
						     ((__u32)k.sport << 16) | k.dport, k.proto);
	}
	if (out->in_conntrack && flow.backend_id < XLB_MAX_BACKENDS) {
		out->conntrack_backend = dp->be_mirror[flow.backend_id];
		out->conntrack_live = (out->conntrack_backend.flags & XLB_BACKEND_F_SERVING) &&
				      out->conntrack_backend.gen == (flow.backend_gen & XLB_BACKEND_GEN_MASK);
	}
	ret = explain_limits(dp, &v->meta, family, saddr, out);
	if (ret)
		return ret;
	if (!v->meta.table_size) {
		out->table_empty = true;
		return 0;
	}
	out->slot = out->hash % v->meta.table_size;
	table = malloc(v->meta.table_size * sizeof(*table));
	if (!table)
		return -ENOMEM;
	ret = xlb_dp__read_table(dp, vip, table, v->meta.table_size);
	if (!ret && table[out->slot] < XLB_MAX_BACKENDS)
		out->table_backend = dp->be_mirror[table[out->slot]];
	free(table);
	return ret;
}

int xlb_dp__read_table(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u32 *table,
		       __u32 size)
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;
	__u32 slot, inner_id;
	int inner, ret = 0;

	if (!v)
		return -ENOENT;
	if (!v->meta.table_size || size != v->meta.table_size)
		return -EINVAL;
	slot = v->meta.vip_id * 2 + v->meta.table_slot;
	if (v->table_fd1[v->meta.table_slot])
		return read_array(v->table_fd1[v->meta.table_slot] - 1, table, sizeof(*table), size);
	/* A table an earlier xlbd made: by id (needs CAP_SYS_ADMIN). */
	if (bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_tables), &slot, &inner_id))
		return -errno;
	inner = bpf_map_get_fd_by_id(inner_id);
	if (inner < 0)
		return -errno;
	ret = read_array(inner, table, sizeof(*table), size);
	close(inner);
	return ret;
}

int xlb_dp__table_digest(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u64 *out)
{
	struct dp_vip *v = vip ? vip_find(dp, vip) : NULL;
	__u32 size, *table;
	__u64 d;
	int ret;

	if (!v)
		return -ENOENT;
	size = v->meta.table_size;
	if (!size)
		return -ENODATA;
	table = malloc((size_t)size * sizeof(*table));
	if (!table)
		return -ENOMEM;
	ret = xlb_dp__read_table(dp, vip, table, size);
	d = xlb_table_digest__begin(size);
	for (__u32 i = 0; i < size && !ret; i++) {
		const struct xlb_backend *be;

		/* this handle is the map's only writer: its copy is the map */
		be = table[i] < XLB_MAX_BACKENDS ? &dp->be_mirror[table[i]] : NULL;
		if (!be || (be->family != XLB_AF_INET && be->family != XLB_AF_INET6)) {
			ret = -EIO; /* a slot that names no backend */
			break;
		}
		d = xlb_table_digest__slot(d, be->family, be->addr);
	}
	free(table);
	if (!ret)
		*out = d;
	return ret;
}
