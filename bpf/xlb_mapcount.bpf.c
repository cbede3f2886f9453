/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Element counts of the connection tables, for the xlb_conntrack_entries
 * gauge. Walking a million-entry LRU from userspace would take a second
 * per scrape; the kernel keeps a per-CPU count of every hash map's
 * elements, which bpf_map_sum_elem_count() reads from a map iterator.
 *
 * The iterator visits every map on the host and writes one record per map
 * whose id xlbd asked for (the maps of one interface).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps/xlb_maps.h"

/* The kernel's own types, only the fields read; CO-RE finds them. */
struct seq_file;
struct bpf_map {
	__u32 id;
} __attribute__((preserve_access_index));
struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));
struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
} __attribute__((preserve_access_index));

extern __s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym;

/* Set before load: the ids of the maps to count. */
const volatile __u32 xlb_count_ids[XLB_MAPCOUNT_MAX] = {};

SEC("iter/bpf_map")
int xlb_count_elems(struct bpf_iter__bpf_map *ctx)
{
	struct xlb_mapcount rec = {};
	struct bpf_map *map = ctx->map;
	__u32 id;

	if (!map)
		return 0;
	id = map->id;
	for (int i = 0; i < XLB_MAPCOUNT_MAX; i++) {
		if (!xlb_count_ids[i] || xlb_count_ids[i] != id)
			continue;
		rec.id = id;
		rec.count = bpf_map_sum_elem_count(map);
		bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
		break;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
