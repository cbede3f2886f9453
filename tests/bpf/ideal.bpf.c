/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Ideal references for tests/bench_dp.c: the least a load balancer must do
 * on a path, written without any of xlb's features (no VIP lookup, no
 * backend table, no generations, no flow cache, no limits, no counters
 * beyond the ones proving the branch taken). Not part of the data path.
 *
 * ideal_est       parse Ethernet/IPv4/TCP, one hit in an LRU hash sized and
 *                 flagged like xlb's connection table (BPF_F_NO_COMMON_LRU,
 *                 max_entries set by userspace to xlb's size), write the
 *                 backend MAC stored in the entry, XDP_TX. For established
 *                 (l2dsr), and the rate-limited established paths.
 * ideal_est_ipip  the same plus the least IPIP encapsulation: grow the head
 *                 by 20 bytes, write Ethernet and the outer IPv4 header with
 *                 its checksum. For established (ipip).
 * ideal_new       a lookup that misses and an insert, then as ideal_est.
 *                 The key must be new on every packet: bench_dp runs it
 *                 under bench_restore with the same new-flow rewrite
 *                 (source address and port from a counter) as xlb's
 *                 new_flow, so both see the same packets.
 * ideal_new_ipip  ideal_new plus the encapsulation of ideal_est_ipip.
 * ideal_est_ip6ip6  ideal_est_ipip for IPv6: Ethernet/IPv6/TCP (no extension
 *                 headers), a hit in an IPv6 table of the same kind, grow
 *                 the head by 40 bytes, Ethernet and the outer IPv6 header
 *                 (no checksum in IPv6). For established (IP6IP6).
 *
 * The entry holds the backend's MAC and address itself, so a hit is one
 * lookup (xlb keeps a backend id and looks the backend up).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "maps/xlb_maps.h"
#include "tests/bpf/ideal.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow4_key);
	__type(value, struct ideal_flow);
	__uint(max_entries, XLB_CONNTRACK_DEFAULT_SIZE); /* userspace: xlb's size */
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} ideal_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow6_key);
	__type(value, struct ideal_flow6);
	__uint(max_entries, XLB_CONNTRACK_DEFAULT_SIZE); /* userspace: xlb's size */
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} ideal_flows6 SEC(".maps");

const volatile __be32 ipip_src6[4] = {};

/* What ideal_new records (userspace sets it before the run). */
struct ideal_flow new_backend;
const volatile __be32 ipip_src4 = 0;

/* Proof of the branch taken (tests/bpf/ideal.h): bench_dp checks that
 * they move by the repeat count. BPF_PROG_TEST_RUN runs on one CPU with
 * migration disabled.
 */
struct ideal_counts counts[IDEAL_MAX_CPUS];

static __always_inline struct ideal_counts *my_counts(void)
{
	return &counts[bpf_get_smp_processor_id() & (IDEAL_MAX_CPUS - 1)];
}

struct parsed {
	struct ethhdr *eth;
	struct iphdr *iph;
	struct xlb_flow4_key key;
};

static __always_inline int parse(struct xdp_md *ctx, struct parsed *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct tcphdr *th;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    iph->ihl != 5 || iph->protocol != IPPROTO_TCP)
		return -1;
	th = (void *)(iph + 1);
	if ((void *)(th + 1) > data_end)
		return -1;
	p->eth = eth;
	p->iph = iph;
	p->key.saddr = iph->saddr;
	p->key.daddr = iph->daddr;
	p->key.sport = th->source;
	p->key.dport = th->dest;
	p->key.proto = IPPROTO_TCP;
	p->key.pad[0] = p->key.pad[1] = p->key.pad[2] = 0;
	return 0;
}

/* Backend MAC as destination, the frame's destination (ours) as source. */
static __always_inline void write_macs(struct ethhdr *eth, const __u8 *mac)
{
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
}

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Grows the head by len bytes (an outer header) and writes Ethernet to mac,
 * from the frame's old destination (ours). Returns where the outer header
 * goes, with the old frame, its Ethernet header first, right after it and
 * at least len bytes of that in bounds; NULL otherwise.
 */
static __always_inline void *grow(struct xdp_md *ctx, __u32 len, const __u8 *mac, __be16 proto)
{
	void *data, *data_end;
	struct ethhdr *eth, *old;

	if (bpf_xdp_adjust_head(ctx, -(int)len))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	old = data + len;
	if ((void *)(old + 1) + len > data_end)
		return NULL;
	__builtin_memcpy(eth->h_source, old->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	eth->h_proto = proto;
	return eth + 1;
}

/* Grow by an IPv4 header: Ethernet to mac, outer header to f->daddr. */
static __always_inline int encap(struct xdp_md *ctx, const struct ideal_flow *f)
{
	struct iphdr *outer, *inner;
	__u16 *w;
	__u32 sum = 0;

	outer = grow(ctx, sizeof(*outer), f->mac, bpf_htons(ETH_P_IP));
	if (!outer)
		return XDP_ABORTED;
	inner = (void *)(outer + 1);
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = 0;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = 0;
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = ipip_src4;
	outer->daddr = f->daddr;
	w = (__u16 *)outer;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	outer->check = fold(sum);
	return XDP_TX;
}

static __always_inline struct ideal_flow *hit(struct xdp_md *ctx, struct parsed *p)
{
	struct ideal_counts *c = my_counts();
	struct ideal_flow *f;

	if (parse(ctx, p)) {
		c->errors++;
		return NULL;
	}
	f = bpf_map_lookup_elem(&ideal_flows, &p->key);
	if (!f) {
		c->misses++;
		return NULL;
	}
	c->hits++;
	return f;
}

static __always_inline int miss_insert(struct xdp_md *ctx, struct parsed *p)
{
	struct ideal_counts *c = my_counts();

	if (parse(ctx, p)) {
		c->errors++;
		return -1;
	}
	if (bpf_map_lookup_elem(&ideal_flows, &p->key)) {
		c->hits++;
		return -1;
	}
	c->misses++;
	if (bpf_map_update_elem(&ideal_flows, &p->key, &new_backend, BPF_NOEXIST)) {
		c->errors++;
		return -1;
	}
	c->inserts++;
	return 0;
}

SEC("xdp")
int ideal_est(struct xdp_md *ctx)
{
	struct ideal_flow *f;
	struct parsed p;

	f = hit(ctx, &p);
	if (!f)
		return XDP_PASS;
	write_macs(p.eth, f->mac);
	return XDP_TX;
}

SEC("xdp")
int ideal_est_ipip(struct xdp_md *ctx)
{
	struct ideal_flow *f;
	struct parsed p;

	f = hit(ctx, &p);
	if (!f)
		return XDP_PASS;
	return encap(ctx, f);
}

SEC("xdp")
int ideal_new(struct xdp_md *ctx)
{
	struct parsed p;

	if (miss_insert(ctx, &p))
		return XDP_PASS;
	write_macs(p.eth, new_backend.mac);
	return XDP_TX;
}

SEC("xdp")
int ideal_new_ipip(struct xdp_md *ctx)
{
	struct parsed p;

	if (miss_insert(ctx, &p))
		return XDP_PASS;
	return encap(ctx, &new_backend);
}

SEC("xdp")
int ideal_est_ip6ip6(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ideal_counts *c = my_counts();
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h = (void *)(eth + 1), *outer, *inner;
	struct xlb_flow6_key k = { .proto = IPPROTO_TCP };
	struct ideal_flow6 *f;
	struct tcphdr *th;

	th = (void *)(ip6h + 1);
	if ((void *)(th + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6) ||
	    ip6h->nexthdr != IPPROTO_TCP) {
		c->errors++;
		return XDP_PASS;
	}
	__builtin_memcpy(k.saddr, &ip6h->saddr, 16);
	__builtin_memcpy(k.daddr, &ip6h->daddr, 16);
	k.sport = th->source;
	k.dport = th->dest;
	f = bpf_map_lookup_elem(&ideal_flows6, &k);
	if (!f) {
		c->misses++;
		return XDP_PASS;
	}
	c->hits++;
	outer = grow(ctx, sizeof(*outer), f->mac, bpf_htons(ETH_P_IPV6));
	if (!outer)
		return XDP_ABORTED;
	inner = (void *)(outer + 1);
	*(__be32 *)outer = bpf_htonl(6U << 28);
	outer->payload_len = bpf_htons(bpf_ntohs(inner->payload_len) + sizeof(struct ipv6hdr));
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = 64;
	__builtin_memcpy(&outer->saddr, (const void *)ipip_src6, 16);
	__builtin_memcpy(&outer->daddr, f->daddr, 16);
	return XDP_TX;
}
