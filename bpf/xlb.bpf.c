/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlb balancer: XDP program on the load balancer's interface.
 *
 * Per packet: parse (Ethernet, one VLAN tag, IPv4 with options or IPv6 with
 * a bounded extension chain, TCP/UDP or an ICMP "too big" error), look up the
 * VIP, apply its rate limits, keep the flow on its backend through the
 * connection table or choose one by the VIP's algorithm (Maglev, source hash,
 * smooth weighted round robin, least connections), then forward by L2 DSR,
 * IPIP or GUE with XDP_TX.
 * Traffic that is not for a VIP, or in a frame not addressed to this
 * interface's MAC, passes untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "maps/xlb_maps.h"
#include "bpf/maps.h"
#include "bpf/parse.h"
#include "maps/xlb_hash.h"
#include "bpf/encap.h"
#include "bpf/icmp.h"
#include "maps/xlb_ratelimit.h"
#include "bpf/gue.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum xlb_path {
	XLB_PATH_NEW,
	XLB_PATH_ESTABLISHED,
	XLB_PATH_RECHOSEN,
	XLB_PATH_ICMP,
	XLB_PATH_STATELESS, /* a stateless VIP's packet that starts no flow */
	XLB_PATH_UNTRACKED, /* a new flow the flood guard leaves unrecorded */
};

/*
 * One packet on its way through the balancer: what parsing found, read by
 * every step after it. process_ipv4/6 and the ICMP paths fill it on their
 * stack and pass it by pointer; everything is inlined, so most of it stays
 * in registers.
 */
struct xlb_pkt {
	struct xdp_md *ctx;
	struct xlb_dp_stats *st;
	const struct xlb_lb_config *cfg;
	const struct xlb_l2 *l2;
	const void *key; /* the flow: struct xlb_flow4_key or xlb_flow6_key */
	__u64 bytes;	 /* the frame as received */
	__u32 ip_len;	 /* the IP packet's, for the encapsulation */
	__u32 entropy;	 /* per flow, for the outer header */
	int family;	 /* the IP packet's: XLB_AF_INET or XLB_AF_INET6 */
	__u8 tos;	 /* DSCP/ECN or traffic class, copied outward */
	__u8 tcp_flags;
	bool icmp; /* an ICMP error about the flow, not one of its packets */
	bool stateless_addr; /* the destination may have a stateless VIP */
};

static __always_inline int drop(struct xlb_dp_stats *st, __u32 vip_id, __u32 reason)
{
	struct xlb_vip_stats *vs;

	if (reason >= XLB_DROP_MAX) /* for the verifier: bounds the index */
		reason = XLB_DROP_MALFORMED;
	st->drops[reason]++;
	vs = bpf_map_lookup_elem(&xlb_vip_stats, &vip_id);
	if (vs)
		vs->drops[reason]++;
	return XDP_DROP;
}

/* Set by tests: read the time from xlb_test_now_ns instead of the clock. */
const volatile __u8 xlb_test_clock = 0;
__u64 xlb_test_now_ns = 0;

/* Sets a CPU in xlb_flow_cache4 and xlb_flow_cache6, powers of two (set by
 * xlbd at load).
 */
const volatile __u32 xlb_flow_cache_sets = 1;
const volatile __u32 xlb_flow_cache6_sets = 1;

static __always_inline __u64 now_ns(void)
{
	if (xlb_test_clock)
		return xlb_test_now_ns;
	return bpf_ktime_get_ns();
}

/*
 * Step 3, per VIP packets/s (only for a VIP with meta->rate_pps set). The
 * bucket is shared by all CPUs under a spin lock, but a packet normally
 * spends a token of its CPU's lease and touches neither the lock nor the
 * clock (~30 ns here); only when the lease is spent, or was taken under
 * other limits, does the CPU refill the bucket and take up to rl_lease
 * tokens from it. False when the bucket is empty. Over the limit (a flood)
 * every packet reads the clock, but until the bucket's next token is due
 * it drops without taking the lock.
 */
static __always_inline bool ratelimit_vip(struct xlb_dp_stats *st, const struct xlb_vip_meta *meta)
{
	__u32 id = meta->vip_id, got;
	struct xlb_vip_bucket *b;
	struct xlb_vip_lease *l;
	__u64 now;

	l = bpf_map_lookup_elem(&xlb_vip_leases, &id);
	if (!l) /* for the verifier: vip_id < XLB_MAX_VIPS */
		return true;
	if (l->tokens && l->gen == meta->rl_gen) {
		l->tokens--;
		st->rl_vip_pass++;
		return true;
	}
	b = bpf_map_lookup_elem(&xlb_vip_buckets, &id);
	if (!b) /* for the verifier, as above */
		return true;
	now = now_ns(); /* before the lock: no helper calls under it */
	l->gen = meta->rl_gen;
	if (b->dry_gen == meta->rl_gen && now < b->dry_until_ns) {
		l->tokens = 0;
		return false;
	}
	bpf_spin_lock(&b->lock);
	xlb_tb_refill(&b->tb, now, meta->rate_pps, meta->rate_burst);
	got = xlb_tb_take(&b->tb, meta->rl_lease ? meta->rl_lease : 1);
	if (!got) {
		b->dry_until_ns = xlb_tb_next_token_ns(&b->tb, meta->rate_pps);
		b->dry_gen = meta->rl_gen;
	}
	bpf_spin_unlock(&b->lock);
	st->rl_vip_leases++;
	if (!got) {
		l->tokens = 0;
		return false;
	}
	l->tokens = got - 1;
	st->rl_vip_pass++;
	return true;
}

/*
 * Step 3, per source new flows/s (only for a VIP with meta->src_rate set),
 * asked by the connection-table step when a packet would start a flow.
 * A source is its address's first src_prefix4/src_prefix6 bits. False when
 * the source is over its limit.
 */
static __always_inline bool ratelimit_source(struct xlb_dp_stats *st,
					     const struct xlb_vip_meta *meta, int family,
					     const __be32 *saddr)
{
	struct xlb_src_key k = { .vip_id = meta->vip_id };
	bool window = meta->flags & XLB_VIP_F_SRC_WINDOW, ok;
	struct xlb_src_limit *s, fresh = {};
	struct xlb_src_lock *lock;
	__u64 now = now_ns();
	__u32 stripe;

	if (family == XLB_AF_INET) {
		k.addr[0] = saddr[0];
		xlb_src_prefix(k.addr, family, meta->src_prefix4);
		stripe = xlb_hash_src4(k.addr[0]);
	} else {
		__builtin_memcpy(k.addr, saddr, sizeof(k.addr));
		xlb_src_prefix(k.addr, family, meta->src_prefix6);
		stripe = xlb_hash_src6(k.addr);
	}
	s = bpf_map_lookup_elem(&xlb_src_limits, &k);
	if (!s) {
		/* A source not seen lately: a fresh limit, less this flow. */
		fresh.window = window;
		if (window) {
			xlb_sw_init(&fresh.sw, now);
			fresh.sw.cur = 1;
		} else {
			xlb_tb_init(&fresh.tb, now, meta->src_burst);
			fresh.tb.units -= XLB_TB_SCALE; /* src_burst >= 1 */
		}
		if (!bpf_map_update_elem(&xlb_src_limits, &k, &fresh, BPF_NOEXIST)) {
			st->rl_src_pass++;
			return true;
		}
		/* Another CPU created it first: count against that one. */
		s = bpf_map_lookup_elem(&xlb_src_limits, &k);
		if (!s)
			return true;
	}
	stripe = (stripe ^ k.vip_id) & (XLB_SRC_LOCKS - 1);
	lock = bpf_map_lookup_elem(&xlb_src_locks, &stripe);
	if (!lock) /* for the verifier: the index is masked */
		return true;
	bpf_spin_lock(&lock->lock);
	if (s->window != window) { /* the VIP switched algorithms */
		s->window = window;
		if (window)
			xlb_sw_init(&s->sw, now);
		else
			xlb_tb_init(&s->tb, now, meta->src_burst);
	}
	if (window)
		ok = xlb_sw_admit(&s->sw, now, meta->src_rate);
	else
		ok = xlb_tb_admit(&s->tb, now, meta->src_rate, meta->src_burst);
	bpf_spin_unlock(&lock->lock);
	if (ok)
		st->rl_src_pass++;
	return ok;
}

/*
 * The flood guard, asked before a new flow is recorded: false when this CPU
 * has recorded xlb_lb_config.flood_new_flows in the last second (a sliding
 * window, per CPU so without a lock). The flow is then forwarded by the
 * table without an entry, and the LRU keeps the flows it has.
 */
static __always_inline bool flood_guard_allows(void)
{
	struct xlb_lb_config *cfg;
	struct xlb_sw *w;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&xlb_config, &zero);
	if (!cfg || !cfg->flood_new_flows)
		return true;
	w = bpf_map_lookup_elem(&xlb_flood_guard, &zero);
	if (!w) /* for the verifier: a single-entry array always hits */
		return true;
	return xlb_sw_admit(w, now_ns(), cfg->flood_new_flows);
}

/* A TCP SYN without ACK: a client opening a connection. */
static __always_inline bool starts_tcp(__u8 tcp_flags)
{
	return (tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN;
}

/* Would this packet, missing the connection table, start a flow? TCP: a SYN
 * without ACK; UDP: any packet.
 */
static __always_inline bool starts_flow(__u8 proto, __u8 tcp_flags)
{
	return proto == IPPROTO_UDP || starts_tcp(tcp_flags);
}

/* The VIP's live table map; NULL and *reason when it has none. */
static __always_inline void *vip_table(const struct xlb_vip_meta *meta, __u32 *reason)
{
	__u32 slot = meta->vip_id * 2 + (meta->table_slot & 1);
	void *table;

	if (!meta->table_size) {
		*reason = XLB_DROP_NO_BACKEND;
		return NULL;
	}
	table = bpf_map_lookup_elem(&xlb_tables, &slot);
	if (!table)
		*reason = XLB_DROP_NO_TABLE;
	return table;
}

/* The serving backend in entry idx of table; NULL and *reason if none. */
static __always_inline struct xlb_backend *table_backend(void *table, __u32 idx, __u32 *id,
							 __u32 *reason)
{
	struct xlb_backend *be;
	__u32 *entry;

	entry = bpf_map_lookup_elem(table, &idx);
	if (!entry) {
		*reason = XLB_DROP_NO_TABLE;
		return NULL;
	}
	*id = *entry;
	be = bpf_map_lookup_elem(&xlb_backends, id);
	if (!be || !(be->flags & XLB_BACKEND_F_SERVING)) {
		*reason = XLB_DROP_NO_BACKEND;
		return NULL;
	}
	return be;
}

/* Maglev: the entry the flow's hash falls on. */
static __always_inline struct xlb_backend *pick_maglev(const struct xlb_vip_meta *meta, void *table,
						       __u32 hash, __u32 *id, __u32 *reason)
{
	return table_backend(table, hash % meta->table_size, id, reason);
}

/*
 * wrr/rr: the next entry of the smooth weighted round-robin sequence that
 * follows the Maglev table (maps/xlb_maps.h), at this CPU's cursor. Per-CPU
 * cursors need no atomics and keep each CPU's choices interleaved (weights
 * 1:2:3 give C B A C B C, never A B B C C C); userspace starts the CPUs at
 * different places so they do not all begin with the same backend.
 */
static __always_inline struct xlb_backend *pick_wrr(const struct xlb_vip_meta *meta, void *table,
						    __u32 hash, __u32 *id, __u32 *reason)
{
	__u32 m = meta->table_size, vip_id = meta->vip_id, len, pos, idx, *lenp;
	struct xlb_wrr_cursor *c;

	lenp = bpf_map_lookup_elem(table, &m);
	c = bpf_map_lookup_elem(&xlb_wrr_cursors, &vip_id);
	if (!lenp || !c || !*lenp) /* a table published before the VIP turned wrr */
		return pick_maglev(meta, table, hash, id, reason);
	len = *lenp;
	pos = c->pos;
	if (pos >= len) /* a shorter sequence was published */
		pos %= len;
	c->pos = pos + 1 < len ? pos + 1 : 0;
	idx = m + 1 + pos;
	return table_backend(table, idx, id, reason);
}

static __always_inline __s64 backend_active(__u32 id)
{
	struct xlb_backend_load *l = bpf_map_lookup_elem(&xlb_backend_load, &id);

	return l && l->active > 0 ? l->active : 0;
}

static __always_inline void backend_load_add(__u32 id, __s64 delta)
{
	struct xlb_backend_load *l = bpf_map_lookup_elem(&xlb_backend_load, &id);

	if (l)
		__sync_fetch_and_add(&l->active, delta);
}

/*
 * lc: two candidates drawn by weight (two entries of the Maglev table, whose
 * shares are the weights: one by the flow's hash, one at random); the one
 * with fewer active flows per unit of weight wins. Comparing two random
 * candidates instead of scanning for the least loaded keeps the cost
 * constant and keeps CPUs deciding at the same moment, from the same
 * slightly stale counts, from all herding onto one backend.
 */
static __always_inline struct xlb_backend *pick_lc(const struct xlb_vip_meta *meta, void *table,
						   __u32 hash, __u32 *id, __u32 *reason)
{
	struct xlb_backend *a, *b;
	__u32 id_b;
	__u64 la, lb;

	a = pick_maglev(meta, table, hash, id, reason);
	if (!a)
		return NULL;
	b = pick_maglev(meta, table, bpf_get_prandom_u32(), &id_b, reason);
	if (!b || id_b == *id)
		return a;
	/* active / weight, cross-multiplied: counts stay below the connection
	 * table size (< 2^27), weights below 2^16: no overflow
	 */
	la = (__u64)backend_active(*id) * (b->weight ? b->weight : 1);
	lb = (__u64)backend_active(id_b) * (a->weight ? a->weight : 1);
	if (lb < la) {
		*id = id_b;
		return b;
	}
	return a;
}

static __always_inline __u32 flow_hash(int family, __u8 algo, const void *key)
{
	if (family == XLB_AF_INET) {
		const struct xlb_flow4_key *k = key;

		if (algo == XLB_ALGO_SOURCE_HASH)
			return xlb_hash_src4(k->saddr);
		return xlb_hash_flow4(k->saddr, k->daddr,
				      ((__u32)k->sport << 16) | k->dport, k->proto);
	} else {
		const struct xlb_flow6_key *k = key;

		if (algo == XLB_ALGO_SOURCE_HASH)
			return xlb_hash_src6(k->saddr);
		return xlb_hash_flow6(k->saddr, k->daddr,
				      ((__u32)k->sport << 16) | k->dport, k->proto);
	}
}

/* A connection-table key's 64-bit words: 2 for IPv4, 5 for IPv6. */
static __always_inline int flow_key_words(int family)
{
	return (family == XLB_AF_INET ? sizeof(struct xlb_flow4_key)
				      : sizeof(struct xlb_flow6_key)) /
	       sizeof(__u64);
}

/* Keys of the family compared whole: padding is zero in both. */
static __always_inline bool flow_key_equal(int family, const void *a, const void *b)
{
	const __u64 *x = a, *y = b;
	__u64 diff = 0;

#pragma unroll
	for (int i = 0; i < flow_key_words(family); i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

/*
 * This CPU's flow cache set for key: a multiplicative hash's top bits of
 * the key's words folded, one multiply (the full key is compared, so the
 * index needs spread, not strength).
 */
static __always_inline void *flow_cache_set(int family, const void *key)
{
	__u32 sets = family == XLB_AF_INET ? xlb_flow_cache_sets : xlb_flow_cache6_sets;
	const __u64 *w = key;
	__u64 folded = 0;
	__u32 idx;

#pragma unroll
	for (int i = 0; i < flow_key_words(family); i++)
		folded ^= w[i];
	idx = (__u32)folded ^ (__u32)(folded >> 32); /* the 32-bit words' xor */
	idx = ((idx * 0x9e3779b1U) >> 17) & (sets - 1);
	idx += bpf_get_smp_processor_id() * sets;
	if (family == XLB_AF_INET)
		return bpf_map_lookup_elem(&xlb_flow_cache4, &idx);
	return bpf_map_lookup_elem(&xlb_flow_cache6, &idx);
}

/* The way of set that holds key, or NULL. */
static __always_inline void *flow_cache_way(int family, void *set, const void *key)
{
	__u32 way_size = family == XLB_AF_INET ? sizeof(struct xlb_flow_cache_entry)
					       : sizeof(struct xlb_flow_cache_entry6);

	if (flow_key_equal(family, set, key))
		return set;
	if (flow_key_equal(family, set + way_size, key))
		return set + way_size;
	return NULL;
}

/*
 * Records what the table says of key's flow in its set: in e, the way that
 * already holds the key, or else in the first way, the older way's flow
 * leaving (the newest first).
 */
static __always_inline void flow_cache_put(int family, void *set, void *e, const void *key,
					   __u32 backend_id, __u32 backend_gen)
{
	__u32 key_size =
	    family == XLB_AF_INET ? sizeof(struct xlb_flow4_key) : sizeof(struct xlb_flow6_key);
	__u32 way_size = family == XLB_AF_INET ? sizeof(struct xlb_flow_cache_entry)
					       : sizeof(struct xlb_flow_cache_entry6);
	struct xlb_flow_cache_ref *ref;

	if (!e) {
		__builtin_memcpy(set + way_size, set, way_size);
		e = set;
		__builtin_memcpy(e, key, key_size);
	}
	ref = e + key_size;
	ref->backend_id = backend_id;
	ref->backend_gen = backend_gen;
	ref->uses = 0;
	ref->gue = 0; /* found again by the flow's next packet */
}

/*
 * Counts an established packet that read the cache in this CPU's sample,
 * hit when the cache held its flow. Packets of flows the table does not
 * know are not counted: no cache could have had them, and a burst of new
 * flows must not turn the cache off for the packets that follow.
 */
static __always_inline void flow_cache_sample(struct xlb_dp_stats *st,
					      struct xlb_flow_cache_state *cs, bool v4, bool hit)
{
	cs->hits += hit;
	if (++cs->lookups < XLB_FLOW_CACHE_SAMPLE)
		return;
	if (cs->hits < XLB_FLOW_CACHE_SAMPLE / 4) {
		cs->bypass = XLB_FLOW_CACHE_BYPASS;
		st->flow_cache_bypasses[!v4]++;
	}
	cs->lookups = 0;
	cs->hits = 0;
}

/*
 * A flow the table has just recorded goes into this CPU's cache too, so
 * that its second packet is sent from there (unless the CPU is skipping its
 * cache).
 */
static __always_inline void flow_cache_learn(int family, const void *key, const struct xlb_flow *f)
{
	__u32 slot = family != XLB_AF_INET;
	struct xlb_flow_cache_state *cs = bpf_map_lookup_elem(&xlb_flow_cache_state, &slot);
	void *set;

	if (!cs || cs->bypass)
		return;
	set = flow_cache_set(family, key);
	if (set)
		flow_cache_put(family, set, flow_cache_way(family, set, key), key, f->backend_id,
			       f->backend_gen);
}

/*
 * The connection-table step. A hit whose backend is still serving (same
 * generation) keeps its backend; otherwise the flow is chosen again and the
 * entry rewritten. A miss that starts a flow first passes the VIP's
 * per-source limit, if it has one, and is recorded unless the flood guard
 * says no. ICMP errors only read the table: they are not flows.
 *
 * A flow that starts and will be recorded is chosen by the VIP's algorithm;
 * everything else (ICMP errors, packets that miss the table mid-flow, flows
 * the flood guard leaves unrecorded, every packet of a stateless VIP) by the
 * Maglev hash, which every packet of a flow and every xlb host agree on
 * without state.
 */
static __always_inline struct xlb_backend *flow_backend(const struct xlb_pkt *p, void *flows,
							const struct xlb_vip_meta *meta, __u32 *id,
							int *path, __u32 *reason, __u64 *hashed)
{
	const struct xlb_flow4_key *k4 = p->key;
	const struct xlb_flow6_key *k6 = p->key;
	int family = p->family;
	const void *key = p->key;
	bool icmp = p->icmp;
	__u8 tcp_flags = p->tcp_flags;
	__u8 proto = family == XLB_AF_INET ? k4->proto : k6->proto;
	bool stateless = meta->flags & XLB_VIP_F_STATELESS;
	/* A stateless VIP's entries from before are not read (dp_vip.c makes them
	 * stale when it records flows again).
	 */
	struct xlb_flow *f = stateless ? NULL : bpf_map_lookup_elem(flows, key);
	bool lc = meta->algo == XLB_ALGO_LC, starts = starts_flow(proto, tcp_flags), track;
	struct xlb_backend *be;
	struct xlb_flow nf;
	__u32 hash;
	void *table;

	*path = XLB_PATH_NEW;
	if (f) {
		__u32 gen = f->backend_gen;
		bool closed = gen & XLB_FLOW_GEN_CLOSED;

		*id = f->backend_id;
		be = bpf_map_lookup_elem(&xlb_backends, id);
		if (be && (be->flags & XLB_BACKEND_F_SERVING) &&
		    be->gen == (gen & XLB_BACKEND_GEN_MASK)) {
			if (icmp) {
				*path = XLB_PATH_ICMP;
				return be;
			}
			if (!closed || !starts) {
				*path = XLB_PATH_ESTABLISHED;
				/* The client ends the flow: marked whatever the
				 * algorithm (a VIP may turn lc later, and xlbd's
				 * recount must not count it); lc counts it once.
				 */
				if (!closed && (tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST))) {
					f->backend_gen = gen | XLB_FLOW_GEN_CLOSED;
					if (lc)
						backend_load_add(*id, -1);
				}
				return be;
			}
			/* A new connection on the tuple of a closed one: a new flow. */
			f = NULL;
		} else {
			/* lc: the flow leaves a backend that left service. */
			if (lc && !closed && be && be->gen == (gen & XLB_BACKEND_GEN_MASK))
				backend_load_add(*id, -1);
			*path = XLB_PATH_RECHOSEN;
		}
	}
	if (!f && meta->src_rate && !icmp && starts &&
	    !ratelimit_source(p->st, meta, family,
			      family == XLB_AF_INET ? &k4->saddr : k6->saddr)) {
		*reason = XLB_DROP_RATE_SOURCE;
		return NULL;
	}
	table = vip_table(meta, reason);
	if (!table)
		return NULL;
	track = !icmp && !stateless && (*path != XLB_PATH_NEW || flood_guard_allows());
	hash = flow_hash(family, meta->algo, key);
	*hashed = XLB_HASHED | hash;
	if (track && starts && (meta->algo == XLB_ALGO_WRR || meta->algo == XLB_ALGO_RR))
		be = pick_wrr(meta, table, hash, id, reason);
	else if (track && starts && lc)
		be = pick_lc(meta, table, hash, id, reason);
	else
		be = pick_maglev(meta, table, hash, id, reason);
	if (!be)
		return NULL;
	if (icmp) {
		*path = XLB_PATH_ICMP;
		return be;
	}
	if (stateless) {
		if (!starts)
			*path = XLB_PATH_STATELESS;
		return be;
	}
	if (!track) {
		*path = XLB_PATH_UNTRACKED; /* counted once sent */
		return be;
	}
	nf.backend_id = *id;
	nf.backend_gen = be->gen & XLB_BACKEND_GEN_MASK;
	/* A full table evicts its least recently used flow; never fails then. */
	if (!bpf_map_update_elem(flows, key, &nf, BPF_ANY))
		flow_cache_learn(family, key, &nf);
	if (lc)
		backend_load_add(*id, 1);
	return be;
}

/* A packet sent to its backend, counted by what sent. */
static __always_inline void count_forward(struct xlb_dp_stats *st, __u32 vip_id, int family,
					  const struct xlb_sent *sent)
{
	__u8 path = sent->path, tcp_flags = sent->tcp_flags;
	__u64 bytes = sent->bytes;
	__u32 be_id = sent->id;
	struct xlb_backend_stats *bs;
	struct xlb_vip_stats *vs;
	bool new_flow = path == XLB_PATH_NEW || path == XLB_PATH_RECHOSEN ||
			path == XLB_PATH_UNTRACKED;

	st->flow_cache_hits[family != XLB_AF_INET] += sent->cached;
	switch (path) {
	case XLB_PATH_UNTRACKED:
		st->tx_untracked++;
		/* fall through: part of tx_new_flow */
	case XLB_PATH_NEW:
	case XLB_PATH_STATELESS: /* a table miss too, but not a new flow */
		st->tx_new_flow++;
		break;
	case XLB_PATH_ESTABLISHED:
		st->tx_established++;
		break;
	case XLB_PATH_RECHOSEN:
		st->tx_rechosen++;
		break;
	default:
		st->tx_icmp++;
		break;
	}
	vs = bpf_map_lookup_elem(&xlb_vip_stats, &vip_id);
	if (vs) {
		vs->packets++;
		vs->bytes += bytes;
		vs->new_flows += new_flow;
	}
	if (be_id >= XLB_MAX_BACKENDS)
		return;
	be_id += bpf_get_smp_processor_id() * XLB_MAX_BACKENDS; /* this CPU's entry */
	bs = bpf_map_lookup_elem(&xlb_backend_counters, &be_id);
	if (bs) {
		bs->packets++;
		bs->bytes += bytes;
		bs->new_flows += new_flow;
		/* A SYN for a flow we already sent somewhere: the client did not
		 * get an answer (the passive health signal).
		 */
		if (path == XLB_PATH_ESTABLISHED &&
		    (tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN)
			bs->syn_retransmits++;
	}
}

/*
 * forward: gue runs in a program of its own, xlb_gue, reached by a tail
 * call: inlined where forward() is, it would take the balancer past the
 * verifier's budget of instructions, and as a function it would share the
 * balancer's 512 bytes of stack, which the balancer uses up. Its arguments
 * wait in this CPU's xlb_gue_args. Not pinned: each object calls its own.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} xlb_gue_prog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_gue_args);
	__uint(max_entries, 1);
} xlb_gue_args SEC(".maps");

/* Keeps word as the alternate of key's flow in this CPU's flow cache. */
static __always_inline void gue_cache_store(int family, const void *key, __u32 word)
{
	__u32 key_size =
	    family == XLB_AF_INET ? sizeof(struct xlb_flow4_key) : sizeof(struct xlb_flow6_key);
	struct xlb_flow_cache_ref *ref;
	void *set, *e;

	set = flow_cache_set(family, key);
	if (!set)
		return;
	e = flow_cache_way(family, set, key);
	if (!e)
		return;
	ref = e + key_size;
	ref->gue = word;
}

/*
 * Encapsulates in GUE to be, with alt (NULL: none) as the alternate, and
 * counts the packet: sent, or dropped as encap. family is the inner
 * packet's; vip_id the VIP's; ip_len, tos and entropy as encap_gue4().
 */
static __always_inline int gue_send(struct xdp_md *ctx, struct xlb_dp_stats *st,
				    const struct xlb_l2 *l2, const struct xlb_lb_config *cfg,
				    const struct xlb_backend *be, const struct xlb_vip_gue *g,
				    const struct xlb_backend *alt, __u32 vip_id, int family,
				    __u32 ip_len, __u8 tos, __u32 entropy,
				    const struct xlb_sent *sent)
{
	int ret;

	if (be->family == XLB_AF_INET)
		ret = encap_gue4(ctx, l2, be, cfg, g, alt, ip_len, tos, entropy, gue_sport(entropy),
				 IPPROTO_IPIP);
	else
		ret = encap_gue6(ctx, l2, be, cfg, g, alt, ip_len, tos, entropy, gue_sport(entropy),
				 family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6);
	if (ret < 0)
		return drop(st, vip_id, XLB_DROP_ENCAP);
	count_forward(st, vip_id, family, sent);
	st->tx_gue++;
	if (alt)
		st->tx_gue_alt++;
	return ret;
}

/*
 * The backend, the VIP's GUE settings and the interface's config are looked
 * up again here. The alternate comes from the VIP's previous table at the
 * flow's slot (bpf/gue.h), for every packet, established or not: a flow
 * that reached this host mid-connection is recorded here pointing at the
 * new table's backend, and each of its packets must keep naming the
 * backend that holds its socket. A packet sent from the flow cache takes
 * the alternate its entry keeps, when it was found with the VIP's tables
 * as they are (the tag; maps/xlb_maps.h), and keeps there the one it finds
 * otherwise: the flow's hash and the previous table cost an established
 * packet about as much as the rest of GUE (docs/PERFORMANCE.md). The
 * packet is counted here, as sent or as dropped.
 */
SEC("xdp")
int xlb_gue(struct xdp_md *ctx)
{
	const struct xlb_backend *alt;
	struct xlb_lb_config *cfg;
	struct xlb_gue_args *a;
	struct xlb_dp_stats *st;
	struct xlb_backend *be;
	struct xlb_vip_gue *g;
	__u32 zero = 0, tag, alt_id = 0;
	int family;

	a = bpf_map_lookup_elem(&xlb_gue_args, &zero);
	cfg = bpf_map_lookup_elem(&xlb_config, &zero);
	st = bpf_map_lookup_elem(&xlb_stats, &zero);
	if (!a || !cfg || !st) /* for the verifier: single-entry arrays */
		return XDP_ABORTED;
	be = bpf_map_lookup_elem(&xlb_backends, &a->sent.id);
	g = bpf_map_lookup_elem(&xlb_vip_gue, &a->vip_id);
	if (!be || !g) /* for the verifier: the balancer found them */
		return drop(st, a->vip_id, XLB_DROP_ENCAP);
	family = a->family;
	if (be->family == XLB_AF_INET && family != XLB_AF_INET)
		return drop(st, a->vip_id, XLB_DROP_FAMILY);
	tag = gue_cache_tag(a->table_slot, g);
	if (a->sent.cached && (a->sent.gue & ~XLB_GUE_CACHE_ALT) == tag) {
		alt_id = (a->sent.gue & XLB_GUE_CACHE_ALT) - 1;
		alt = a->sent.gue & XLB_GUE_CACHE_ALT
			      ? gue_backend_alt(a->vip_id, a->sent.id, be, &alt_id)
			      : NULL;
	} else {
		alt = NULL;
		if (gue_has_alternates(a, g))
			alt = gue_alternate(a, g, be,
					    a->sent.hashed & XLB_HASHED
						    ? (__u32)a->sent.hashed
						    : flow_hash(family, a->algo, &a->key),
					    &alt_id);
		if (a->sent.cached && gue_has_alternates(a, g)) {
			tag |= alt ? alt_id + 1 : 0;
			/* a constant family: the key loops unroll */
			if (family == XLB_AF_INET)
				gue_cache_store(XLB_AF_INET, &a->key, tag);
			else
				gue_cache_store(XLB_AF_INET6, &a->key, tag);
		}
	}
	return gue_send(ctx, st, &a->l2, cfg, be, g, alt, a->vip_id, family, a->ip_len, a->tos,
			a->entropy, &a->sent);
}

/*
 * An established packet sent from the flow cache, whose entry knows the
 * flow's alternate under the VIP's tables as they are (the tag), is sent
 * here, without xlb_gue's tail call and the hand-over of its arguments:
 * that hand-over cost about as much as the GUE header (docs/PERFORMANCE.md).
 * -2 for every other packet: xlb_gue decides.
 */
static __always_inline int gue_cached(const struct xlb_pkt *p, const struct xlb_vip_meta *meta,
				      const struct xlb_backend *be, const struct xlb_sent *sent)
{
	const struct xlb_backend *alt = NULL;
	__u32 vip_id = meta->vip_id, alt_id;
	struct xlb_vip_gue *g;

	if (be->family == XLB_AF_INET && p->family != XLB_AF_INET)
		return -2; /* xlb_gue drops it */
	g = bpf_map_lookup_elem(&xlb_vip_gue, &vip_id);
	if (!g || (sent->gue & ~XLB_GUE_CACHE_ALT) != gue_cache_tag(meta->table_slot, g))
		return -2;
	if (sent->gue & XLB_GUE_CACHE_ALT) {
		alt_id = (sent->gue & XLB_GUE_CACHE_ALT) - 1;
		alt = gue_backend_alt(vip_id, sent->id, be, &alt_id);
	}
	return gue_send(p->ctx, p->st, p->l2, p->cfg, be, g, alt, vip_id, p->family, p->ip_len,
			p->tos, p->entropy, sent);
}

static __always_inline int fwd_gue(const struct xlb_pkt *p, const struct xlb_vip_meta *meta,
				   const struct xlb_backend *be, const struct xlb_sent *sent)
{
	struct xlb_gue_args *a;
	__u32 zero = 0;
	int ret;

	if (sent->cached) {
		ret = gue_cached(p, meta, be, sent);
		if (ret != -2)
			return ret;
	}
	a = bpf_map_lookup_elem(&xlb_gue_args, &zero);
	if (!a) /* for the verifier: a single-entry array always hits */
		return drop(p->st, meta->vip_id, XLB_DROP_ENCAP);
	a->l2 = *p->l2;
	a->sent = *sent;
	a->vip_id = meta->vip_id;
	a->ip_len = p->ip_len;
	a->entropy = p->entropy;
	a->family = p->family;
	a->tos = p->tos;
	a->algo = meta->algo;
	a->table_slot = meta->table_slot;
	if (p->family == XLB_AF_INET)
		__builtin_memcpy(&a->key, p->key, sizeof(struct xlb_flow4_key));
	else
		__builtin_memcpy(&a->key, p->key, sizeof(struct xlb_flow6_key));
	bpf_tail_call(p->ctx, &xlb_gue_prog, zero);
	return drop(p->st, meta->vip_id, XLB_DROP_ENCAP); /* xlb_gue is not in place */
}

/*
 * Sends the packet to be (sent->id) and counts it as sent: XDP_TX, or
 * XDP_DROP counted under its reason. The forwarding helpers return -1 for
 * every failure so that none drops uncounted, and a packet is counted as
 * sent only once sent. xlb_gue counts its own.
 */
static __always_inline int forward(const struct xlb_pkt *p, const struct xlb_vip_meta *meta,
				   const struct xlb_backend *be, const struct xlb_sent *sent)
{
	int family = p->family, ret;

	if (meta->forward == XLB_FWD_GUE)
		return fwd_gue(p, meta, be, sent);
	if (meta->forward == XLB_FWD_L2DSR) {
		if (be->family != family)
			return drop(p->st, meta->vip_id, XLB_DROP_FAMILY);
		ret = fwd_l2dsr(p->ctx, p->l2, be, p->cfg);
	} else if (be->family == XLB_AF_INET) {
		if (family != XLB_AF_INET)
			return drop(p->st, meta->vip_id, XLB_DROP_FAMILY);
		ret = encap_ipip4(p->ctx, p->l2, be, p->cfg, p->ip_len, p->tos, p->entropy);
	} else {
		ret = encap_ipip6(p->ctx, p->l2, be, p->cfg, p->ip_len, p->tos, p->entropy,
				  family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6);
	}
	if (ret < 0)
		return drop(p->st, meta->vip_id, XLB_DROP_ENCAP);
	count_forward(p->st, meta->vip_id, family, sent);
	return ret;
}

/*
 * The MTU to tell a client whose IP packet would not fit the interface's
 * once encapsulated for be (the MTU less the outer header), or 0 when it
 * fits or nothing grows.
 */
static __always_inline __u32 path_mtu_exceeded(const struct xlb_pkt *p,
					       const struct xlb_vip_meta *meta,
					       const struct xlb_backend *be)
{
	__u32 mtu = p->cfg->mtu, overhead;

	if (!mtu || meta->forward == XLB_FWD_L2DSR)
		return 0;
	if (meta->forward == XLB_FWD_GUE) /* with an alternate: one MTU per backend */
		overhead = be->family == XLB_AF_INET ? XLB_GUE_OUTER4 + 4 : XLB_GUE_OUTER6 + 16;
	else
		overhead = be->family == XLB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	return p->ip_len + overhead > mtu ? mtu - overhead : 0;
}

/*
 * A packet too big once encapsulated: xlb cannot fragment it (nor may it,
 * with DF), so the client is told the MTU it has, as a router on the path
 * would: an ICMP "fragmentation needed" / ICMPv6 "packet too big" from the
 * VIP, at most XLB_TOO_BIG_PER_CPU a second on this CPU. Past that, or for
 * an ICMP error (never answered with one), the packet is dropped.
 */
static __always_inline int too_big(const struct xlb_pkt *p, __u32 vip_id, __u32 mtu)
{
	struct xlb_sw *w;
	__u32 zero = 0;
	int ret;

	w = bpf_map_lookup_elem(&xlb_too_big_window, &zero);
	if (p->icmp || !w || !xlb_sw_admit(w, now_ns(), XLB_TOO_BIG_PER_CPU))
		return drop(p->st, vip_id, XLB_DROP_TOO_BIG);
	if (p->family == XLB_AF_INET)
		ret = reply_too_big4(p->ctx, p->l2, p->cfg, mtu);
	else /* IPv6 links carry at least 1280 */
		ret = reply_too_big6(p->ctx, p->l2, p->cfg,
				     mtu < XLB_IPV6_MIN_MTU ? XLB_IPV6_MIN_MTU : mtu);
	if (ret != XDP_TX)
		return drop(p->st, vip_id, XLB_DROP_TOO_BIG);
	p->st->tx_too_big++;
	return XDP_TX;
}

/* Sends to be unless the packet needs an ICMP "too big" instead. */
static __always_inline int send(const struct xlb_pkt *p, const struct xlb_vip_meta *meta,
				const struct xlb_backend *be, const struct xlb_sent *sent)
{
	__u32 mtu = path_mtu_exceeded(p, meta, be);

	if (mtu)
		return too_big(p, meta->vip_id, mtu);
	return forward(p, meta, be, sent);
}

/* The common end of every VIP packet: connection table or the VIP's
 * algorithm, then sent and counted.
 */
static __always_inline int steer(const struct xlb_pkt *p, const struct xlb_vip_meta *meta)
{
	void *flows = p->family == XLB_AF_INET ? (void *)&xlb_flows4 : (void *)&xlb_flows6;
	__u32 id, reason = 0;
	struct xlb_sent sent;
	struct xlb_backend *be;
	int path;

	sent.hashed = 0;
	be = flow_backend(p, flows, meta, &id, &path, &reason, &sent.hashed);
	if (!be)
		return drop(p->st, meta->vip_id, reason);
	sent.bytes = p->bytes;
	sent.id = id;
	sent.path = path;
	sent.tcp_flags = p->tcp_flags;
	sent.cached = false;
	sent.gue = 0;
	return send(p, meta, be, &sent);
}

/* A VIP's packet: its packets/s limit, then steer(). */
static __always_inline int vip_packet(const struct xlb_pkt *p, const struct xlb_vip_meta *meta)
{
	if (meta->rate_pps && !ratelimit_vip(p->st, meta))
		return drop(p->st, meta->vip_id, XLB_DROP_RATE_VIP);
	return steer(p, meta);
}

/*
 * Sends an established packet of a flow recorded as going to backend id of
 * generation gen, if that backend still serves it: the backend names the
 * VIP, and xlb_vips_by_id gives that VIP's meta by an array lookup instead
 * of the VIP hash lookup. A VIP's packets/s limit applies here as on the
 * full path, once the packet is known to be sent from here. -1 when this
 * does not apply (a backend gone, a VIP being removed, or stateless): the
 * packet then takes the full path, which decides exactly as before. Shared
 * by the connection table's hits and the flow cache's (ref, its entry), so
 * both are held to the same checks.
 */
static __always_inline int established_send(const struct xlb_pkt *p, __u32 id, __u32 gen,
					    const struct xlb_flow_cache_ref *ref)
{
	struct xlb_sent sent = {
		.bytes = p->bytes,
		.id = id,
		.path = XLB_PATH_ESTABLISHED,
		.tcp_flags = p->tcp_flags,
		.cached = ref != NULL,
		.gue = ref ? ref->gue : 0,
	};
	struct xlb_vip_meta *meta;
	struct xlb_backend *be;
	__u32 vip_id;

	be = bpf_map_lookup_elem(&xlb_backends, &id);
	if (!be || !(be->flags & XLB_BACKEND_F_SERVING) || be->gen != gen)
		return -1;
	vip_id = be->vip_id;
	meta = bpf_map_lookup_elem(&xlb_vips_by_id, &vip_id);
	if (!meta || !(meta->flags & XLB_VIP_F_LIVE) || (meta->flags & XLB_VIP_F_STATELESS))
		return -1;
	/* An array entry is rewritten in place, not swapped as the VIP hash's
	 * are: a packet racing a limits change may read some fields old and
	 * some new (a lease or one refill under mixed limits, both bounded by
	 * the bucket). A rate without its burst (never written: the burst is
	 * >= 1) would empty the bucket: that packet passes instead.
	 */
	if (meta->rate_pps && meta->rate_burst && !ratelimit_vip(p->st, meta))
		return drop(p->st, vip_id, XLB_DROP_RATE_VIP);
	return send(p, meta, be, &sent);
}

/*
 * Established fast path, tried before the VIP lookup: a flow in the table,
 * sent by established_send(); used gets the flow's entry. -1 on a miss, a
 * FIN or RST (a client's FIN or RST marks the flow closed, and lc counts
 * it: that is flow_backend()'s, on the full path), or what
 * established_send() refuses.
 */
static __always_inline int established_fast(const struct xlb_pkt *p, struct xlb_flow *used)
{
	void *flows = p->family == XLB_AF_INET ? (void *)&xlb_flows4 : (void *)&xlb_flows6;
	struct xlb_flow *f = bpf_map_lookup_elem(flows, p->key);

	if (!f || (p->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST)))
		return -1;
	*used = *f; /* a CLOSED mark never matches a backend's gen */
	return established_send(p, f->backend_id, f->backend_gen, NULL);
}

/*
 * Established packets try this CPU's flow cache (maps/xlb_maps.h) first:
 * one line instead of the connection table's bucket and element. An entry
 * is sent by established_send() like a table hit; anything else but a SYN
 * goes to established_fast(), and a table hit refills the entry (flow_backend()
 * fills it when the table records a flow). While the CPU's
 * cache of the family mostly misses, only SYN, FIN and RST read it (to drop
 * their flow's entry). -1 when neither applies.
 */
static __always_inline int established_cached(const struct xlb_pkt *p)
{
	int family = p->family;
	bool v4 = family == XLB_AF_INET;
	__u32 key_size = v4 ? sizeof(struct xlb_flow4_key) : sizeof(struct xlb_flow6_key);
	__u32 way_size =
	    v4 ? sizeof(struct xlb_flow_cache_entry) : sizeof(struct xlb_flow_cache_entry6);
	bool control = p->tcp_flags & (XLB_TCP_SYN | XLB_TCP_FIN | XLB_TCP_RST);
	struct xlb_flow_cache_state *cs;
	struct xlb_flow_cache_ref *ref;
	struct xlb_flow used = {};
	void *set = NULL, *e = NULL;
	__u32 slot = !v4;
	int ret;

	cs = bpf_map_lookup_elem(&xlb_flow_cache_state, &slot);
	if (cs && !control && cs->bypass) {
		cs->bypass--;
		cs = NULL; /* the table alone, no fill */
	}
	if (cs)
		set = flow_cache_set(family, p->key);
	if (set)
		e = flow_cache_way(family, set, p->key);
	/* A SYN may open a new connection on a closed flow's tuple, a FIN or
	 * RST closes one: the table decides, and the entry goes.
	 */
	if (cs && e && !control) {
		ref = e + key_size; /* an entry is its key, then its ref */
		if (++ref->uses % XLB_FLOW_CACHE_RECHECK) {
			ret = established_send(p, ref->backend_id, ref->backend_gen, ref);
			if (ret >= 0) {
				flow_cache_sample(p->st, cs, v4, true);
				return ret;
			}
		}
	}
	/* A SYN opens a flow far more often than it repeats one: the full
	 * path, which knows a repeated SYN's flow too, decides it without a
	 * table lookup here that would mostly miss.
	 */
	ret = starts_tcp(p->tcp_flags) ? -1 : established_fast(p, &used);
	if (!set)
		return ret;
	if (ret < 0 || control) {
		if (e)
			__builtin_memset(e, 0, way_size);
		return ret;
	}
	/* A recheck found the flow in the cache: for the sample, a hit (all
	 * of a cycle's flows recheck in the same cycle).
	 */
	flow_cache_sample(p->st, cs, v4, e != NULL);
	flow_cache_put(family, set, e, p->key, used.backend_id, used.backend_gen);
	return ret;
}

/*
 * What addr may be (XLB_VIP_FILTER_*): without XLB_VIP_FILTER_VIP it is
 * certainly not a VIP; p->stateless_addr gets XLB_VIP_FILTER_STATELESS.
 */
static __always_inline bool vip_filter_hit(struct xlb_pkt *p, const __u32 *addr, int family)
{
	__u32 zero = 0, slot = xlb_hash_vip_bit(addr, family), class;
	struct xlb_vip_filter *f = bpf_map_lookup_elem(&xlb_vip_filter, &zero);

	if (!f) /* for the verifier: a single-entry array always hits */
		return true;
	class = f->bits[XLB_VIP_FILTER_WORD(slot)] >> XLB_VIP_FILTER_SHIFT(slot);
	p->stateless_addr = class & XLB_VIP_FILTER_STATELESS;
	return class & XLB_VIP_FILTER_VIP;
}

static __always_inline bool stateless_pair_has(const struct xlb_stateless_filter *f, __u32 bit)
{
	return f->bits[(bit / 64) & (XLB_STATELESS_FILTER_BITS / 64 - 1)] & (1ULL << (bit % 64));
}

/*
 * False when no stateless VIP has addr with port, or addr with every port.
 * Read only for an address the VIP filter marks as a stateless VIP's.
 */
static __always_inline bool stateless_filter_hit(const struct xlb_pkt *p, const __u32 *addr,
						 __be16 port)
{
	__u32 zero = 0, any = p->family == XLB_AF_INET ? XLB_CFG_F_ANY_PORT4 : XLB_CFG_F_ANY_PORT6;
	struct xlb_stateless_filter *f = bpf_map_lookup_elem(&xlb_stateless_filter, &zero);

	if (!f) /* for the verifier: a single-entry array always hits */
		return true;
	return stateless_pair_has(f, xlb_hash_vip_port_bit(addr, p->family, port)) ||
	       ((p->cfg->flags & any) &&
		stateless_pair_has(f, xlb_hash_vip_port_bit(addr, p->family, 0)));
}

static __always_inline struct xlb_vip_meta *vip4_lookup(const struct xlb_lb_config *cfg,
							__be32 addr, __be16 port, __u8 proto)
{
	struct xlb_vip4_key k = { .addr = addr, .port = port, .proto = proto };
	struct xlb_vip_meta *meta = NULL;

	if (port)
		meta = bpf_map_lookup_elem(&xlb_vips4, &k);
	if (!meta && (cfg->flags & XLB_CFG_F_ANY_PORT4)) {
		k.port = 0;
		meta = bpf_map_lookup_elem(&xlb_vips4, &k);
	}
	return meta;
}

static __always_inline struct xlb_vip_meta *vip6_lookup(const struct xlb_lb_config *cfg,
							const __be32 *addr, __be16 port, __u8 proto)
{
	struct xlb_vip6_key k = { .port = port, .proto = proto };
	struct xlb_vip_meta *meta = NULL;

	__builtin_memcpy(k.addr, addr, sizeof(k.addr));
	if (port)
		meta = bpf_map_lookup_elem(&xlb_vips6, &k);
	if (!meta && (cfg->flags & XLB_CFG_F_ANY_PORT6)) {
		k.port = 0;
		meta = bpf_map_lookup_elem(&xlb_vips6, &k);
	}
	return meta;
}

/*
 * A TCP or UDP fragment no VIP claimed by its port (a later fragment has
 * none; a first one may be to another port). If a VIP has its address and
 * protocol it is dropped all the same: its first fragment to a VIP is
 * dropped, so the host's stack could only hold its pieces and never
 * reassemble them, and every fragment of a pair is treated alike. Else it
 * passes like any traffic to another address.
 */
static __always_inline int fragment_not_vip(struct xlb_dp_stats *st, int family,
					    const __be32 *daddr, __u8 proto)
{
	struct xlb_vip_addr_key k = { .family = family, .proto = proto };
	__u32 *vip_id;

	if (family == XLB_AF_INET)
		k.addr[0] = daddr[0];
	else
		__builtin_memcpy(k.addr, daddr, sizeof(k.addr));
	vip_id = bpf_map_lookup_elem(&xlb_vip_addrs, &k);
	if (vip_id)
		return drop(st, *vip_id, XLB_DROP_FRAGMENT);
	st->pass_not_vip++;
	return XDP_PASS;
}

/* Bytes of the IP packet from offset hlen on that are inside the frame. */
static __always_inline __u32 l4_room(__u32 ip_len, __u32 avail, __u32 hlen)
{
	__u32 end = ip_len < avail ? ip_len : avail;

	return end > hlen ? end - hlen : 0;
}

static __always_inline struct xlb_vip_meta *vip_lookup(const struct xlb_pkt *p,
						       const __be32 *daddr, __be16 port, __u8 proto)
{
	if (p->family == XLB_AF_INET)
		return vip4_lookup(p->cfg, daddr[0], port, proto);
	return vip6_lookup(p->cfg, daddr, port, proto);
}

/*
 * ICMP "fragmentation needed" about a VIP flow: a router on the backend's
 * direct path to the client answered the VIP. It quotes the backend's packet
 * (VIP -> client); the flow it belongs to is the reverse, client -> VIP.
 */
static __always_inline int process_icmp4(struct xlb_pkt *p, struct iphdr *iph, void *l4,
					 __u32 room, bool well_formed)
{
	void *data_end = (void *)(long)p->ctx->data_end;
	struct xlb_flow4_key key = {};
	struct icmphdr *ic = l4;
	struct xlb_vip_meta *meta;
	struct iphdr *inner;
	__be16 *ports;

	if ((void *)(ic + 1) > data_end || room < sizeof(*ic) ||
	    ic->type != ICMP_DEST_UNREACH || ic->code != ICMP_FRAG_NEEDED)
		goto pass;
	inner = (void *)(ic + 1);
	if ((void *)(inner + 1) > data_end || inner->version != 4 || inner->ihl < 5 ||
	    inner->saddr != iph->daddr)
		goto pass;
	if (inner->protocol != IPPROTO_TCP && inner->protocol != IPPROTO_UDP)
		goto pass;
	ports = (void *)inner + inner->ihl * 4;
	if ((void *)(ports + 2) > data_end)
		goto pass;
	meta = vip4_lookup(p->cfg, inner->saddr, ports[0], inner->protocol);
	if (!meta) {
		p->st->pass_not_vip++;
		return XDP_PASS;
	}
	if (!well_formed)
		return drop(p->st, meta->vip_id, XLB_DROP_MALFORMED);
	key.saddr = inner->daddr;
	key.daddr = inner->saddr;
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = inner->protocol;
	p->key = &key;
	p->icmp = true;
	p->entropy = bpf_ntohl(key.saddr) ^ bpf_ntohs(key.sport);
	return vip_packet(p, meta);
pass:
	p->st->pass_other_l4++;
	return XDP_PASS;
}

/*
 * The common end of process_ipv4/6 for TCP and UDP, p filled: the flow's
 * established path, else the VIP's. daddr is the packet's destination;
 * frag whether it is a fragment; well_formed whether its lengths hold.
 */
static __always_inline int process_l4(struct xlb_pkt *p, const __be32 *daddr, __u8 proto,
				      const struct xlb_l4 *l4, bool frag, bool well_formed)
{
	struct xlb_vip_meta *meta = NULL;
	bool looked_up = false;

	if (!frag && well_formed && l4->complete) {
		int ret = -1;

		/* The VIP first for what may be a stateless VIP's packet: it
		 * skips the flow cache and the table, two cold lines.
		 */
		if (p->stateless_addr && stateless_filter_hit(p, daddr, l4->dport)) {
			meta = vip_lookup(p, daddr, l4->dport, proto);
			looked_up = true;
		}
		if (!looked_up || (meta && !(meta->flags & XLB_VIP_F_STATELESS)))
			ret = established_cached(p);
		if (ret >= 0)
			return ret;
	}
	if (!looked_up)
		meta = vip_lookup(p, daddr, l4->have_ports ? l4->dport : 0, proto);
	if (!meta && frag)
		return fragment_not_vip(p->st, p->family, daddr, proto);
	if (!meta) {
		p->st->pass_not_vip++;
		return XDP_PASS;
	}
	if (frag)
		return drop(p->st, meta->vip_id, XLB_DROP_FRAGMENT);
	if (!well_formed || !l4->complete)
		return drop(p->st, meta->vip_id, XLB_DROP_MALFORMED);
	return vip_packet(p, meta);
}

static __always_inline int process_ipv4(struct xlb_pkt *p)
{
	void *data_end = (void *)(long)p->ctx->data_end;
	struct iphdr *iph = (void *)(long)p->ctx->data + p->l2->len;
	struct xlb_flow4_key key = {};
	__u32 hlen, avail, room;
	struct xlb_l4 l4 = {};
	bool frag, well_formed;

	if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5) {
		p->st->pass_not_ip++;
		return XDP_PASS;
	}
	if (!vip_filter_hit(p, &iph->daddr, XLB_AF_INET)) {
		p->st->pass_not_vip++;
		return XDP_PASS;
	}
	p->family = XLB_AF_INET;
	p->ip_len = bpf_ntohs(iph->tot_len);
	p->tos = iph->tos;
	hlen = iph->ihl * 4;
	avail = data_end - (void *)iph;
	well_formed = p->ip_len >= hlen && p->ip_len <= avail;
	room = l4_room(p->ip_len, avail, hlen);
	frag = iph->frag_off & bpf_htons(IP_MF | IP_OFFSET);

	if (iph->protocol == IPPROTO_ICMP)
		return process_icmp4(p, iph, (void *)iph + hlen, room, well_formed && !frag);
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP) {
		p->st->pass_other_l4++;
		return XDP_PASS;
	}
	/* Only a first fragment carries the ports. */
	if (!(iph->frag_off & bpf_htons(IP_OFFSET)))
		parse_l4((void *)iph + hlen, data_end, iph->protocol, room, &l4);
	/* in 64-bit words (flow_key_l4_word()): the addresses are adjacent */
	*(__u64 *)&key = *(const __u64 *)&iph->saddr;
	*((__u64 *)&key + 1) = flow_key_l4_word(l4.ports, iph->protocol);
	p->key = &key;
	p->tcp_flags = l4.tcp_flags;
	p->entropy = bpf_ntohl(iph->saddr) ^ bpf_ntohs(l4.sport);
	return process_l4(p, &iph->daddr, iph->protocol, &l4, frag, well_formed);
}

static __always_inline bool ipv6_addr_equal(const __be32 *a, const __be32 *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

static __always_inline __u8 ipv6_tclass(const struct ipv6hdr *ip6h)
{
	return (bpf_ntohl(*(const __be32 *)ip6h) >> 20) & 0xff;
}

/* ICMPv6 "packet too big" about a VIP flow; see process_icmp4. */
static __always_inline int process_icmp6(struct xlb_pkt *p, struct ipv6hdr *ip6h, void *l4,
					 __u32 room, bool well_formed)
{
	void *data_end = (void *)(long)p->ctx->data_end;
	struct xlb_flow6_key key = {};
	struct icmp6hdr *ic = l4;
	struct xlb_vip_meta *meta;
	struct ipv6hdr *inner;
	__be16 *ports;

	if ((void *)(ic + 1) > data_end || room < sizeof(*ic) || ic->icmp6_type != ICMPV6_PKT_TOOBIG)
		goto pass;
	inner = (void *)(ic + 1);
	ports = (void *)(inner + 1);
	if ((void *)(ports + 2) > data_end || inner->version != 6)
		goto pass;
	if (inner->nexthdr != IPPROTO_TCP && inner->nexthdr != IPPROTO_UDP)
		goto pass;
	if (!ipv6_addr_equal(inner->saddr.in6_u.u6_addr32, ip6h->daddr.in6_u.u6_addr32))
		goto pass;
	meta = vip6_lookup(p->cfg, inner->saddr.in6_u.u6_addr32, ports[0], inner->nexthdr);
	if (!meta) {
		p->st->pass_not_vip++;
		return XDP_PASS;
	}
	if (!well_formed)
		return drop(p->st, meta->vip_id, XLB_DROP_MALFORMED);
	__builtin_memcpy(key.saddr, &inner->daddr, sizeof(key.saddr));
	__builtin_memcpy(key.daddr, &inner->saddr, sizeof(key.daddr));
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = inner->nexthdr;
	p->key = &key;
	p->icmp = true;
	p->entropy = bpf_ntohl(key.saddr[3]) ^ bpf_ntohs(key.sport);
	return vip_packet(p, meta);
pass:
	p->st->pass_other_l4++;
	return XDP_PASS;
}

static __always_inline int process_ipv6(struct xlb_pkt *p)
{
	void *data_end = (void *)(long)p->ctx->data_end;
	struct ipv6hdr *ip6h = (void *)(long)p->ctx->data + p->l2->len;
	struct xlb_flow6_key key = {};
	struct xlb_vip_meta *meta;
	__u32 avail, room;
	struct xlb_l4 l4 = {};
	bool well_formed;
	int hlen, frag;
	__u8 proto = 0;

	if ((void *)(ip6h + 1) > data_end || ip6h->version != 6) {
		p->st->pass_not_ip++;
		return XDP_PASS;
	}
	if (!vip_filter_hit(p, ip6h->daddr.in6_u.u6_addr32, XLB_AF_INET6)) {
		p->st->pass_not_vip++;
		return XDP_PASS;
	}
	p->family = XLB_AF_INET6;
	hlen = skip_ipv6_ext(ip6h, data_end, &proto, &frag);
	if (hlen < 0) {
		/* Cannot reach the ports: only an any-port VIP can claim it. */
		meta = vip6_lookup(p->cfg, ip6h->daddr.in6_u.u6_addr32, 0, ip6h->nexthdr);
		if (!meta) {
			p->st->pass_not_vip++;
			return XDP_PASS;
		}
		return drop(p->st, meta->vip_id, XLB_DROP_MALFORMED);
	}
	hlen &= 0x3ff; /* for the verifier: an extension chain is short */
	p->ip_len = bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h);
	p->tos = ipv6_tclass(ip6h);
	avail = data_end - (void *)ip6h;
	well_formed = p->ip_len >= (__u32)hlen && p->ip_len <= avail;
	room = l4_room(p->ip_len, avail, hlen);

	if (proto == IPPROTO_ICMPV6)
		return process_icmp6(p, ip6h, (void *)ip6h + hlen, room, well_formed && !frag);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		p->st->pass_other_l4++;
		return XDP_PASS;
	}
	if (frag != 2) /* as in process_ipv4(): only a first fragment has the ports */
		parse_l4((void *)ip6h + hlen, data_end, proto, room, &l4);
	{
		/* in 64-bit words (flow_key_l4_word()): the addresses are adjacent */
		const __u64 *addrs = (const __u64 *)&ip6h->saddr;
		__u64 *k = (__u64 *)&key;

		k[0] = addrs[0];
		k[1] = addrs[1];
		k[2] = addrs[2];
		k[3] = addrs[3];
		k[4] = flow_key_l4_word(l4.ports, proto);
	}
	p->key = &key;
	p->tcp_flags = l4.tcp_flags;
	p->entropy = bpf_ntohl(ip6h->saddr.in6_u.u6_addr32[3]) ^ bpf_ntohs(l4.sport);
	return process_l4(p, ip6h->daddr.in6_u.u6_addr32, proto, &l4, frag, well_formed);
}

/*
 * Is the frame addressed to this interface? A promiscuous NIC (a bridge
 * port, tcpdump) or a switch flooding unknown unicast hands us frames for
 * other hosts: another xlb host on the segment balances those, and so
 * would we, twice. Broadcast and multicast are never VIP unicast traffic.
 * Six bytes as a 4- and a 2-byte load a side: no loop, no helper.
 */
static __always_inline bool eth_to_us(const struct ethhdr *eth, const struct xlb_lb_config *cfg)
{
	__u32 hi = *(const __u32 *)eth->h_dest ^ *(const __u32 *)cfg->if_mac;
	__u16 lo = *(const __u16 *)&eth->h_dest[4] ^ *(const __u16 *)&cfg->if_mac[4];

	return !(hi | lo);
}

SEC("xdp")
int xlb_balance(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlb_lb_config *cfg;
	struct xlb_dp_stats *st;
	struct xlb_pkt p = {};
	struct xlb_l2 l2;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&xlb_stats, &zero);
	cfg = bpf_map_lookup_elem(&xlb_config, &zero);
	if (!st || !cfg) /* for the verifier: single-entry arrays always hit */
		return XDP_PASS;
	st->rx++;
	if (parse_eth(data, data_end, &l2)) {
		st->pass_not_ip++;
		return XDP_PASS;
	}
	/* parse_eth() checked the Ethernet header is inside the frame. */
	if (!eth_to_us(data, cfg)) {
		if (((struct ethhdr *)data)->h_dest[0] & 1) /* the group bit */
			st->pass_multicast++;
		else
			st->pass_other_host++;
		return XDP_PASS;
	}
	p.ctx = ctx;
	p.st = st;
	p.cfg = cfg;
	p.l2 = &l2;
	p.bytes = data_end - data;
	if (l2.l3_proto == bpf_htons(ETH_P_IP))
		return process_ipv4(&p);
	return process_ipv6(&p);
}
