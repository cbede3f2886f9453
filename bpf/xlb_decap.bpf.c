/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend-side IPIP decapsulation. xlb's balancer forwards in IPIP
 * (IPv4-in-IPv4, IPv6-in-IPv6, IPv4-in-IPv6); this kernel has no ipip
 * module, so a backend strips the outer header here, in XDP, and passes the
 * inner packet to its stack as if the client had sent it directly.
 *
 * Only packets whose inner destination is a VIP listed in xlb_decap_vips are
 * touched. The outer header is recognised when its fixed part is complete:
 * IPv4 protocol 4, IPv6 next header 41 or 4 (no extension headers; xlb never
 * emits them). From then on a truncated or inconsistent header is dropped
 * and counted, as the stack would only drop it later. Everything else passes
 * untouched, counted as "pass".
 *
 * GUE (forward: gue) to a port in xlb_decap_gue_ports is decapsulated the
 * same way, or sent on to the flow's alternate backend (bpf/gue_decap.h).
 *
 * Only frames addressed to the interface's MAC are looked at: a promiscuous
 * NIC or a switch flooding unknown unicast hands a backend the IPIP frames
 * of another backend serving the same VIP, and stripping those would hand a
 * bridge (or a packet capture) a rewritten copy of someone else's packet.
 *
 * The maps are pinned by name (xlb-decap keeps them under
 * /sys/fs/bpf/xlb-decap/<ifname>/, userspace/xlb-decap/decap.c), so a
 * restarted xlb-decap loads its program against the same VIPs, ports and
 * counters and replaces the attached one atomically. The MAC (.bss) is not pinned: every
 * load reads the interface's.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps/xlb_maps.h"
#include "bpf/parse.h" /* the link layer, read and written as the balancer does */

/* Inner destinations (VIPs) this host serves: strip the outer header. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_decap_key);
	__type(value, __u8);
	__uint(max_entries, XLB_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_decap_vips SEC(".maps");

#include "bpf/gue_decap.h" /* after xlb_decap_vips, which it reads */

/* The interface's MAC (userspace sets it, decap.c): frames to any other
 * address pass untouched. All zero: nothing is decapsulated.
 */
__u8 xlb_decap_if_mac[6] __attribute__((aligned(4)));

/* One counter per branch, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_decap_stats);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_decap_stats SEC(".maps");

enum decap_result {
	DECAP_PASS,	 /* not ours: untouched */
	DECAP_OTHER_MAC, /* a frame not addressed to the interface: untouched */
	DECAP_MALFORMED, /* IPIP with a truncated or inconsistent header */
	DECAP_DONE4,	 /* IPv4-in-IPv4 stripped */
	DECAP_DONE6,	 /* IPv6-in-IPv6 stripped */
	DECAP_DONE4IN6,	 /* IPv4-in-IPv6 stripped */
	DECAP_TX,	 /* GUE sent on to the alternate (counted) */
	DECAP_DROP,	 /* GUE dropped (counted) */
};

/* The link-layer header as received (one 802.1Q/802.1ad tag kept), saved
 * before the head moves.
 */
struct decap_l2 {
	struct xlb_l2 l2;
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
};

/*
 * Removes the outer_len bytes of outer IP header that follow the link-layer
 * header: the Ethernet header (and VLAN tag) moves forward by outer_len and
 * now announces inner_proto. Returns 0, or -1 if the packet could not be
 * rewritten (then it must be dropped: the head may already have moved).
 */
static __always_inline int strip_outer(struct xdp_md *ctx, const struct decap_l2 *l2,
				       __u32 outer_len, __be16 inner_proto)
{
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, (int)outer_len))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	/* NULL for the verifier only: the inner IP header follows the outer one. */
	return write_l2(data, data_end, &l2->l2, l2->dmac, l2->smac, inner_proto) ? 0 : -1;
}

static __always_inline bool is_vip(const struct xlb_decap_key *key)
{
	return bpf_map_lookup_elem(&xlb_decap_vips, key) != NULL;
}

/* The outer header is complete and says IPv4 follows at inner. */
static __always_inline int decap_inner4(struct xdp_md *ctx, const struct decap_l2 *l2,
					struct iphdr *inner, void *data_end, __u32 outer_len,
					int done)
{
	struct xlb_decap_key key = {};

	if ((void *)(inner + 1) > data_end)
		return DECAP_MALFORMED;
	if (inner->version != 4 || inner->ihl < 5)
		return DECAP_MALFORMED;
	key.addr[0] = inner->daddr;
	key.family = XLB_AF_INET;
	if (!is_vip(&key))
		return DECAP_PASS;
	if (strip_outer(ctx, l2, outer_len, bpf_htons(ETH_P_IP)))
		return DECAP_MALFORMED;
	return done;
}

/* The outer header is complete and says IPv6 follows at inner. */
static __always_inline int decap_inner6(struct xdp_md *ctx, const struct decap_l2 *l2,
					struct ipv6hdr *inner, void *data_end, __u32 outer_len)
{
	struct xlb_decap_key key = {};

	if ((void *)(inner + 1) > data_end)
		return DECAP_MALFORMED;
	if (inner->version != 6)
		return DECAP_MALFORMED;
	__builtin_memcpy(key.addr, &inner->daddr, sizeof(key.addr));
	key.family = XLB_AF_INET6;
	if (!is_vip(&key))
		return DECAP_PASS;
	if (strip_outer(ctx, l2, outer_len, bpf_htons(ETH_P_IPV6)))
		return DECAP_MALFORMED;
	return DECAP_DONE6;
}

/*
 * UDP after an outer header of ip_hlen bytes followed by payload bytes (its
 * length field's): GUE when the port is one of xlb_decap_gue_ports.
 */
static __always_inline int decap_gue(struct xdp_md *ctx, struct xlb_decap_stats *st,
				      const struct decap_l2 *l2, void *l3, void *data_end,
				      int family, __u32 ip_hlen, __u32 payload)
{
	struct udphdr *udp = l3 + ip_hlen;
	struct gue_pkt p = {};

	if ((void *)(udp + 1) > data_end || !gue_port(udp))
		return DECAP_PASS; /* cannot tell, or not GUE */
	switch (gue_decide(ctx, st, l3, data_end, family, ip_hlen, payload, &p)) {
	case GUE_LOCAL:
		if (strip_outer(ctx, l2, p.outer_len,
				bpf_htons(p.inner_family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6)))
			return DECAP_MALFORMED;
		if (p.inner_family == XLB_AF_INET6)
			return DECAP_DONE6;
		return family == XLB_AF_INET ? DECAP_DONE4 : DECAP_DONE4IN6;
	case GUE_TX:
		return DECAP_TX;
	case GUE_BAD:
	case GUE_DROP:
		return DECAP_DROP;
	default:
		return DECAP_PASS;
	}
}

static __always_inline int decap_outer4(struct xdp_md *ctx, struct xlb_decap_stats *st,
					const struct decap_l2 *l2, struct iphdr *outer,
					void *data_end)
{
	__u32 outer_len;

	if ((void *)(outer + 1) > data_end)
		return DECAP_PASS; /* cannot tell whether it is IPIP */
	if (outer->protocol != IPPROTO_IPIP && outer->protocol != IPPROTO_UDP)
		return DECAP_PASS;
	if (outer->version != 4 || outer->ihl < 5)
		return outer->protocol == IPPROTO_UDP ? DECAP_PASS : DECAP_MALFORMED;
	/* A fragment carries part of the inner packet: stripping it would
	 * hand the stack a truncated packet. Leave it to the stack.
	 */
	if (outer->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return DECAP_PASS;
	outer_len = outer->ihl * 4;
	if (outer->protocol == IPPROTO_UDP) {
		if (bpf_ntohs(outer->tot_len) < outer_len)
			return DECAP_PASS; /* the stack's to drop; not ours to judge */
		return decap_gue(ctx, st, l2, outer, data_end, XLB_AF_INET, outer_len,
				 bpf_ntohs(outer->tot_len) - outer_len);
	}
	if (bpf_ntohs(outer->tot_len) < outer_len + sizeof(struct iphdr))
		return DECAP_MALFORMED;
	return decap_inner4(ctx, l2, (void *)outer + outer_len, data_end, outer_len, DECAP_DONE4);
}

static __always_inline int decap_outer6(struct xdp_md *ctx, struct xlb_decap_stats *st,
					const struct decap_l2 *l2, struct ipv6hdr *outer,
					void *data_end)
{
	__u16 plen;

	if ((void *)(outer + 1) > data_end)
		return DECAP_PASS; /* cannot tell whether it is IPIP */
	if (outer->nexthdr == IPPROTO_UDP && outer->version == 6)
		return decap_gue(ctx, st, l2, outer, data_end, XLB_AF_INET6, sizeof(*outer),
				 bpf_ntohs(outer->payload_len));
	if (outer->nexthdr != IPPROTO_IPV6 && outer->nexthdr != IPPROTO_IPIP)
		return DECAP_PASS;
	if (outer->version != 6)
		return DECAP_MALFORMED;
	plen = bpf_ntohs(outer->payload_len);
	if (outer->nexthdr == IPPROTO_IPV6) {
		if (plen < sizeof(struct ipv6hdr))
			return DECAP_MALFORMED;
		return decap_inner6(ctx, l2, (void *)(outer + 1), data_end, sizeof(*outer));
	}
	if (plen < sizeof(struct iphdr))
		return DECAP_MALFORMED;
	return decap_inner4(ctx, l2, (void *)(outer + 1), data_end, sizeof(*outer), DECAP_DONE4IN6);
}

static __always_inline int decap(struct xdp_md *ctx, struct xlb_decap_stats *st)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct decap_l2 l2;
	void *l3;

	if ((void *)(eth + 1) > data_end)
		return DECAP_PASS;
	/* Six bytes as a 4- and a 2-byte load a side, as the balancer does. */
	if ((*(__u32 *)eth->h_dest ^ *(__u32 *)xlb_decap_if_mac) |
	    (*(__u16 *)&eth->h_dest[4] ^ *(__u16 *)&xlb_decap_if_mac[4]))
		return DECAP_OTHER_MAC;
	if (parse_eth(data, data_end, &l2.l2))
		return DECAP_PASS; /* not IP, or a cut tag */
	__builtin_memcpy(l2.dmac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(l2.smac, eth->h_source, ETH_ALEN);
	l3 = data + l2.l2.len;
	if (l2.l2.l3_proto == bpf_htons(ETH_P_IP))
		return decap_outer4(ctx, st, &l2, l3, data_end);
	return decap_outer6(ctx, st, &l2, l3, data_end);
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	struct xlb_decap_stats *st;
	__u32 zero = 0;
	int res;

	st = bpf_map_lookup_elem(&xlb_decap_stats, &zero);
	/* Verifier only: entry 0 of a one-entry array always exists. */
	if (!st)
		return XDP_PASS;
	st->rx++;
	res = decap(ctx, st);
	switch (res) {
	case DECAP_DONE4:
		st->decap4++;
		return XDP_PASS;
	case DECAP_DONE6:
		st->decap6++;
		return XDP_PASS;
	case DECAP_DONE4IN6:
		st->decap4in6++;
		return XDP_PASS;
	case DECAP_MALFORMED:
		st->drop_malformed++;
		return XDP_DROP;
	case DECAP_OTHER_MAC:
		st->pass_other_mac++;
		return XDP_PASS;
	case DECAP_TX:
		return XDP_TX;
	case DECAP_DROP:
		return XDP_DROP;
	default:
		st->pass++;
		return XDP_PASS;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
