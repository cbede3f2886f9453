/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The balancer's maps. Definitions only; layouts live in maps/xlb_maps.h.
 * Everything here is pinned by name, so a restarted xlbd (or a newer program)
 * finds the same VIPs, tables, flows and counters.
 */
#ifndef XLB_BPF_MAPS_H
#define XLB_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps/xlb_maps.h"

/* VIPs by {address, port, protocol}. Not preallocated: an update swaps the
 * element under RCU, which is what makes a table flip atomic.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_vip4_key);
	__type(value, struct xlb_vip_meta);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vips4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_vip6_key);
	__type(value, struct xlb_vip_meta);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vips6 SEC(".maps");

/* A copy of each VIP's meta by vip_id, XLB_VIP_F_LIVE set, for established
 * packets: their flow names its backend, the backend its VIP, so an array
 * lookup replaces the VIP hash lookup. Written by userspace after the
 * hash on every change, zeroed before the VIP leaves the hash.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_meta);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vips_by_id SEC(".maps");

/* The {address, protocol} pairs that have a VIP, exactly (maps/xlb_maps.h):
 * only fragments read it. Derived from the VIPs and rebuilt at every open,
 * so not pinned.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_vip_addr_key);
	__type(value, __u32);
	__uint(max_entries, XLB_MAX_VIPS);
} xlb_vip_addrs SEC(".maps");
/* Each CPU's window of ICMP "too big" replies (XLB_TOO_BIG_PER_CPU). Not
 * pinned: a new program starts a new window.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_sw);
	__uint(max_entries, 1);
} xlb_too_big_window SEC(".maps");
/* What each address may be: a VIP's, a stateless VIP's (maps/xlb_maps.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_filter);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_filter SEC(".maps");

/* Which {address, port} pairs may be stateless VIPs (maps/xlb_maps.h).
 * Derived from the VIPs and rebuilt at every open, so not pinned.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_stateless_filter);
	__uint(max_entries, 1);
} xlb_stateless_filter SEC(".maps");

/* A Maglev table: slot -> backend id. BPF_F_INNER_MAP lets each VIP's
 * table have its own (prime) size.
 */
struct xlb_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, XLB_MAGLEV_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_INNER_MAP);
};

/* Two slots per VIP (2 * vip_id + table_slot): userspace fills the idle one
 * and then flips xlb_vip_meta.table_slot.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 2 * XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct xlb_table);
} xlb_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_backends SEC(".maps");

/*
 * Connection tables, one per family so an IPv4 key is 16 bytes, not 40.
 * Shared hash with per-CPU LRU lists (BPF_F_NO_COMMON_LRU): a flow is found
 * from any CPU (RSS changes, ICMP errors arriving elsewhere), while inserts
 * and evictions take only the local CPU's LRU lock, which is what makes a
 * new flow cheap under a SYN flood. Userspace sizes it at load time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow4_key);
	__type(value, struct xlb_flow);
	__uint(max_entries, XLB_CONNTRACK_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow6_key);
	__type(value, struct xlb_flow);
	__uint(max_entries, XLB_CONNTRACK_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_flows6 SEC(".maps");

/* The flow caches (maps/xlb_maps.h): CPU c's sets are entries
 * c * xlb_flow_cache_sets (xlb_flow_cache6_sets) onwards. Sized at load
 * time; not pinned.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_flow_cache_set);
	__uint(max_entries, 1);
} xlb_flow_cache4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_flow_cache_set6);
	__uint(max_entries, 1);
} xlb_flow_cache6 SEC(".maps");

/* Each CPU's hit count and bypass, per family (maps/xlb_maps.h). Not
 * pinned.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_flow_cache_state);
	__uint(max_entries, 2);
} xlb_flow_cache_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_lb_config);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_dp_stats);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_stats);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_stats SEC(".maps");

/*
 * Per-backend counters, one entry per CPU and backend id: entry
 * cpu * XLB_MAX_BACKENDS + id. A plain array rather than a per-CPU one so
 * that xlbd can mmap it and sum 100,000 backends' counters without a
 * syscall; each CPU writes only its own entries, and entries of different
 * CPUs are XLB_MAX_BACKENDS apart. Sized to the possible CPUs at load time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend_stats);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_backend_counters SEC(".maps");

/*
 * Rate limits. A VIP's bucket is shared by all CPUs under a spin lock; each
 * CPU spends a lease of a few tokens taken from it, so the clock and the lock
 * are paid once per lease, not per packet (maps/xlb_ratelimit.h, xlb.bpf.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_bucket);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_lease);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_leases SEC(".maps");

/* Per-source new-flow state by (VIP, client address). LRU, so a flood of
 * sources evicts the least recent ones instead of exhausting memory (an
 * evicted source starts again with a full bucket). Sized at load time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_src_key);
	__type(value, struct xlb_src_limit);
	__uint(max_entries, XLB_SRC_LIMIT_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_src_limits SEC(".maps");

/* LRU values cannot hold a bpf_spin_lock: a source's state is changed under
 * one of these, chosen by a hash of its key.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_src_lock);
	__uint(max_entries, XLB_SRC_LOCKS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_src_locks SEC(".maps");

/* The flood guard's count of new flows recorded, per CPU: a sliding window
 * (maps/xlb_ratelimit.h) of xlb_lb_config.flood_new_flows a second.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_sw);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_flood_guard SEC(".maps");

/* wrr/rr: each CPU's place in each VIP's sequence (by vip_id). Per CPU, so
 * every CPU deals out the smooth interleave by itself, without contention;
 * the CPUs together give each backend its weight's share.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_wrr_cursor);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_wrr_cursors SEC(".maps");

/* lc: active flows per backend id, shared by all CPUs (atomic adds). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend_load);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_backend_load SEC(".maps");

/* forward: gue: each VIP's port, previous table size and table generation
 * (by vip_id). An array updated in place: a packet may read a torn value
 * during a write, which at worst names a wrong alternate, and a wrong
 * alternate costs a connection nothing a missing one would not (docs/GUE.md).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_gue);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_gue SEC(".maps");

#endif /* XLB_BPF_MAPS_H */
