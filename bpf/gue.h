/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * forward: gue. The inner IP packet goes in UDP + GUE (variant 0) to the
 * backend, and the GUE private data names the flow's alternate: the backend
 * the VIP's previous table gave the flow's slot to. A backend that has no
 * socket for a mid-connection packet hands it to the alternate
 * (bpf/xlb_decap.bpf.c), so a connection survives a backend change even on
 * an xlb host that never saw it. Layout in maps/xlb_maps.h, docs/GUE.md.
 */
#ifndef XLB_GUE_H
#define XLB_GUE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps/xlb_maps.h"
#include "bpf/maps.h"
#include "bpf/parse.h"
#include "bpf/csum.h"
#include "bpf/encap.h"

/*
 * What the balancer counts once a packet is sent (count_forward() in
 * bpf/xlb.bpf.c): a packet is counted as sent only when it is, so xlb_gue
 * gets it across its tail call.
 */
struct xlb_sent {
	__u64 bytes;	/* the frame as received */
	__u32 id;	/* the backend */
	__u8 path;	/* enum xlb_path */
	__u8 tcp_flags;
	__u8 cached;	/* sent from this CPU's flow cache: a hit */
	__u32 gue;	/* cached: the entry's GUE alternate (maps/xlb_maps.h) */
	__u64 hashed;	/* the flow's hash for the VIP's algorithm | XLB_HASHED, or 0 */
};

/* xlb_sent.hashed holds a hash (the balancer computed it for the table). */
#define XLB_HASHED (1ULL << 32)

/* What xlb_gue (bpf/xlb.bpf.c) is called with, through xlb_gue_args. */
struct xlb_gue_args {
	struct xlb_l2 l2;
	struct xlb_sent sent;
	__u32 vip_id;
	__u32 ip_len;	/* the inner IP packet's */
	__u32 entropy;	/* per flow, for the outer source */
	__u32 slot;	/* gue_alternate()'s map keys */
	__u32 idx;
	__u8 family;	/* the inner packet's */
	__u8 tos;
	__u8 algo;	/* the VIP's */
	__u8 table_slot; /* the VIP's live slot */
	union {
		struct xlb_flow4_key k4;
		struct xlb_flow6_key k6;
	} key;
};

/* Outer headers before the private data's address, by outer family. */
#define XLB_GUE_OUTER4 (sizeof(struct iphdr) + sizeof(struct udphdr) + \
			sizeof(struct xlb_gue_hdr) + sizeof(struct xlb_gue_priv))
#define XLB_GUE_OUTER6 (sizeof(struct ipv6hdr) + sizeof(struct udphdr) + \
			sizeof(struct xlb_gue_hdr) + sizeof(struct xlb_gue_priv))
/* The most headroom poisoned: a tag, IPv6, and an IPv6 alternate. */
#define XLB_GUE_POISON_MAX 112

static __always_inline bool gue_has_alternates(const struct xlb_gue_args *a,
					       const struct xlb_vip_gue *g)
{
	return g->prev_table_size &&
	       (a->algo == XLB_ALGO_MAGLEV || a->algo == XLB_ALGO_SOURCE_HASH);
}

/*
 * Backend *id when it can be the alternate of a packet of VIP vip_id sent to
 * be (backend be_id): another backend of that VIP, allocated, of be's family.
 */
static __always_inline const struct xlb_backend *gue_backend_alt(__u32 vip_id, __u32 be_id,
								 const struct xlb_backend *be,
								 __u32 *id)
{
	struct xlb_backend *alt;

	if (*id == be_id)
		return NULL;
	alt = bpf_map_lookup_elem(&xlb_backends, id);
	if (!alt || !(alt->flags & XLB_BACKEND_F_ALLOCATED) || alt->vip_id != vip_id ||
	    alt->family != be->family)
		return NULL;
	return alt;
}

/*
 * The backend that held the flow's slot in the VIP's previous table (the
 * other slot of the double buffer) when that is another backend of this VIP
 * than the one the packet goes to (a->sent.id), still allocated to it and
 * of the same family; NULL otherwise. hash is the one the VIP's algorithm indexes
 * its table with. Only maglev and source-hash tables say where a flow was:
 * wrr, rr and lc record choices the table does not hold.
 * *alt_id gets the alternate's id.
 */
static __always_inline const struct xlb_backend *gue_alternate(struct xlb_gue_args *a,
							       const struct xlb_vip_gue *g,
							       const struct xlb_backend *be,
							       __u32 hash, __u32 *alt_id)
{
	const struct xlb_backend *alt;
	__u32 size = g->prev_table_size, *entry;
	void *table;

	if (!gue_has_alternates(a, g))
		return NULL;
	a->slot = a->vip_id * 2 + !(a->table_slot & 1);
	table = bpf_map_lookup_elem(&xlb_tables, &a->slot);
	if (!table)
		return NULL;
	a->idx = hash % size;
	entry = bpf_map_lookup_elem(table, &a->idx); /* NULL past a smaller table */
	if (!entry)
		return NULL;
	alt = gue_backend_alt(a->vip_id, a->sent.id, be, entry);
	if (alt)
		*alt_id = *entry;
	return alt;
}

/*
 * The flow cache's tag for what the VIP's tables are now (maps/xlb_maps.h):
 * table_slot is the VIP's live slot.
 */
static __always_inline __u32 gue_cache_tag(__u8 table_slot, const struct xlb_vip_gue *g)
{
	return XLB_GUE_CACHE_KNOWN |
	       (g->table_gen & XLB_GUE_CACHE_GEN_MASK) << XLB_GUE_CACHE_GEN_SHIFT |
	       (table_slot & 1 ? XLB_GUE_CACHE_SLOT : 0);
}

/* An ephemeral UDP source port from the flow (entropy, as the outer
 * source's low bits): the backend's NIC spreads flows over its queues by
 * it, and every xlb host picks the same.
 */
static __always_inline __be16 gue_sport(__u32 entropy)
{
	return bpf_htons(0xc000 | ((entropy ^ (entropy >> 16)) & 0x3fff));
}

static __always_inline void gue_poison(void *data, void *data_end, __u32 len)
{
	if (data + XLB_GUE_POISON_MAX > data_end)
		return;
#pragma unroll
	for (int i = 0; i < XLB_GUE_POISON_MAX; i++)
		if (i < (int)len)
			((__u8 *)data)[i] = 0xff;
}

/*
 * Writes UDP, the GUE base header and the private data (not the address),
 * in five 32-bit stores instead of eleven narrower ones (layout in
 * maps/xlb_maps.h; each word composed in wire order).
 */
static __always_inline void gue_write(struct udphdr *udp, __be16 sport, __be16 dport,
				      __u32 udp_len, __u8 hlen, __u8 inner_proto,
				      const struct xlb_vip_gue *g, __u8 alt_family)
{
	__be32 *w = (__be32 *)udp;

	_Static_assert(sizeof(struct udphdr) + sizeof(struct xlb_gue_hdr) +
			       sizeof(struct xlb_gue_priv) == 5 * 4,
		       "gue_write: five words");
	w[0] = bpf_htonl((__u32)bpf_ntohs(sport) << 16 | bpf_ntohs(dport));
	/* check 0: IPv4 none; IPv6: RFC 6935 tunnel exception, docs/GUE.md */
	w[1] = bpf_htonl(udp_len << 16);
	/* version 0, C 0, Hlen; the inner protocol; flags 0 */
	w[2] = bpf_htonl((__u32)hlen << 24 | (__u32)inner_proto << 16);
	w[3] = bpf_htonl((__u32)XLB_GUE_PRIV_TYPE << 16 | XLB_GUE_HOPS << 8 | alt_family);
	w[4] = bpf_htonl(g->table_gen);
}

/*
 * Outer IPv4 + UDP + GUE to be; alt (NULL: none) goes in the private data.
 * ip_len is the inner IP packet's length, tos its DSCP/ECN byte, entropy a
 * per-flow value for the outer source, as encap_ipip4(). XDP_TX, or -1
 * (the caller counts the drop) when the head could not move or a bound
 * failed after it moved.
 */
static __always_inline int encap_gue4(struct xdp_md *ctx, const struct xlb_l2 *l2,
				      const struct xlb_backend *be,
				      const struct xlb_lb_config *cfg, const struct xlb_vip_gue *g,
				      const struct xlb_backend *alt, __u32 ip_len, __u8 tos,
				      __u32 entropy, __be16 sport, __u8 inner_proto)
{
	__u32 len = XLB_GUE_OUTER4 + (alt ? 4 : 0);
	void *data, *data_end;
	struct udphdr *udp;
	struct iphdr *iph;

	if (bpf_xdp_adjust_head(ctx, -(int)len))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_test_poison_headroom)
		gue_poison(data, data_end, l2->len + len);
	iph = write_l2(data, data_end, l2, be->mac, cfg->if_mac, bpf_htons(ETH_P_IP));
	/* The private data's end: 4 more bytes when an alternate is carried. */
	if (!iph || (void *)iph + XLB_GUE_OUTER4 + 4 > data_end)
		return -1;
	outer4_write(iph, cfg, be, ip_len + len, tos, IPPROTO_UDP, entropy);
	udp = (void *)(iph + 1);
	gue_write(udp, sport, g->port, ip_len + len - sizeof(*iph),
		  alt ? XLB_GUE_HLEN_ALT4 : XLB_GUE_HLEN_NONE, inner_proto, g,
		  alt ? XLB_AF_INET : 0);
	if (alt)
		*(__be32 *)((void *)iph + XLB_GUE_OUTER4) = alt->addr[0];
	return XDP_TX;
}

/* Outer IPv6 + UDP + GUE; inner_proto IPPROTO_IPV6 or IPPROTO_IPIP (4-in-6). */
static __always_inline int encap_gue6(struct xdp_md *ctx, const struct xlb_l2 *l2,
				      const struct xlb_backend *be,
				      const struct xlb_lb_config *cfg, const struct xlb_vip_gue *g,
				      const struct xlb_backend *alt, __u32 ip_len, __u8 tc,
				      __u32 entropy, __be16 sport, __u8 inner_proto)
{
	__u32 len = XLB_GUE_OUTER6 + (alt ? 16 : 0);
	struct ipv6hdr *ip6h;
	void *data, *data_end;
	struct udphdr *udp;
	__be32 *a;

	if (bpf_xdp_adjust_head(ctx, -(int)len))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_test_poison_headroom)
		gue_poison(data, data_end, l2->len + len);
	ip6h = write_l2(data, data_end, l2, be->mac, cfg->if_mac, bpf_htons(ETH_P_IPV6));
	if (!ip6h || (void *)ip6h + XLB_GUE_OUTER6 + 16 > data_end)
		return -1;
	outer6_write(ip6h, cfg, be, ip_len + len - sizeof(*ip6h), tc, IPPROTO_UDP, entropy);
	udp = (void *)(ip6h + 1);
	gue_write(udp, sport, g->port, ip_len + len - sizeof(*ip6h),
		  alt ? XLB_GUE_HLEN_ALT6 : XLB_GUE_HLEN_NONE, inner_proto, g,
		  alt ? XLB_AF_INET6 : 0);
	if (alt) {
		a = (void *)ip6h + XLB_GUE_OUTER6;
		a[0] = alt->addr[0];
		a[1] = alt->addr[1];
		a[2] = alt->addr[2];
		a[3] = alt->addr[3];
	}
	return XDP_TX;
}

#endif /* XLB_GUE_H */
