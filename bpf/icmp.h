/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ICMP "fragmentation needed" and ICMPv6 "packet too big" replies, built in
 * place of a client's packet that would not fit the MTU once encapsulated.
 * The frame goes back to the MAC it came from (with its VLAN tag), from the
 * VIP to the client, quoting the packet's first bytes (maps/xlb_maps.h,
 * XLB_TOO_BIG_QUOTE4/6). Only called for packets longer than the quote.
 */
#ifndef XLB_ICMP_H
#define XLB_ICMP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps/xlb_maps.h"
#include "bpf/parse.h"
#include "bpf/csum.h"

#define XLB_ICMP_TTL 64
#define XLB_ICMP_TOS 0xc0 /* precedence "internetwork control", as Linux sends errors */

static __always_inline __u16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return csum_fold32((__u32)sum);
}

/*
 * Grows the head by `head` bytes (the new IP and ICMP headers) and writes
 * the reply's L2 header from the received one, now at data + head and read
 * before anything overwrites it: to the sender's MAC from ours, the VLAN
 * tag kept. Returns where the new IP header goes, or NULL.
 */
static __always_inline void *reply_l2(struct xdp_md *ctx, const struct xlb_l2 *l2,
				      const struct xlb_lb_config *cfg, int head)
{
	struct ethhdr *eth, *old;
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -head))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	old = data + head; /* head > 18: the two L2 headers do not overlap */
	if ((void *)(old + 1) + sizeof(struct vlan_hdr) > data_end)
		return NULL;
	__builtin_memcpy(eth->h_dest, old->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, cfg->if_mac, ETH_ALEN);
	eth->h_proto = old->h_proto;
	if (l2->tpid) {
		struct vlan_hdr *vh = (void *)(eth + 1), *ovh = (void *)(old + 1);

		vh->tci = ovh->tci;
		vh->encap_proto = ovh->encap_proto;
		return vh + 1;
	}
	return eth + 1;
}

/* Cuts the frame after `len` bytes from `from`. */
static __always_inline int reply_trim(struct xdp_md *ctx, void *from, __u32 len)
{
	void *data_end = (void *)(long)ctx->data_end;

	return bpf_xdp_adjust_tail(ctx, (int)((from + len) - data_end)) ? -1 : XDP_TX;
}

/*
 * The IPv4 packet becomes an ICMP "fragmentation needed" (type 3 code 4)
 * with next-hop MTU mtu. XDP_TX, or -1 when the frame cannot be rewritten.
 */
static __always_inline int reply_too_big4(struct xdp_md *ctx, const struct xlb_l2 *l2,
					  const struct xlb_lb_config *cfg, __u16 mtu)
{
	const __u32 icmp_len = sizeof(struct icmphdr) + XLB_TOO_BIG_QUOTE4;
	struct iphdr *iph, *orig;
	struct icmphdr *ic;
	__s64 sum;

	iph = reply_l2(ctx, l2, cfg, sizeof(*iph) + sizeof(*ic));
	if (!iph)
		return -1;
	ic = (void *)(iph + 1);
	orig = (void *)(ic + 1); /* the client's packet, where it was */
	if ((void *)orig + XLB_TOO_BIG_QUOTE4 > (void *)(long)ctx->data_end)
		return -1;
	*(__u8 *)iph = 0x45;
	iph->tos = XLB_ICMP_TOS;
	iph->tot_len = bpf_htons(sizeof(*iph) + icmp_len);
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = XLB_ICMP_TTL;
	iph->protocol = IPPROTO_ICMP;
	iph->check = 0;
	iph->saddr = orig->daddr;
	iph->daddr = orig->saddr;
	iph->check = csum_ipv4_hdr(iph);
	ic->type = ICMP_DEST_UNREACH;
	ic->code = ICMP_FRAG_NEEDED;
	ic->checksum = 0;
	ic->un = bpf_htonl(mtu); /* 16 bits unused, then the next-hop MTU */
	sum = bpf_csum_diff(NULL, 0, (void *)ic, icmp_len, 0);
	if (sum < 0)
		return -1;
	ic->checksum = csum_fold64(sum);
	return reply_trim(ctx, ic, icmp_len);
}

/*
 * The IPv6 packet becomes an ICMPv6 "packet too big" (type 2) with MTU mtu.
 * XDP_TX, or -1 when the frame cannot be rewritten.
 */
static __always_inline int reply_too_big6(struct xdp_md *ctx, const struct xlb_l2 *l2,
					  const struct xlb_lb_config *cfg, __u32 mtu)
{
	const __u32 icmp_len = sizeof(struct icmp6hdr) + XLB_TOO_BIG_QUOTE6;
	struct ipv6hdr *ip6h, *orig;
	struct icmp6hdr *ic;
	__u64 pseudo = 0;
	__s64 sum;

	ip6h = reply_l2(ctx, l2, cfg, sizeof(*ip6h) + sizeof(*ic));
	if (!ip6h)
		return -1;
	ic = (void *)(ip6h + 1);
	orig = (void *)(ic + 1);
	if ((void *)orig + XLB_TOO_BIG_QUOTE6 > (void *)(long)ctx->data_end)
		return -1;
	*(__be32 *)ip6h = bpf_htonl(6U << 28);
	ip6h->payload_len = bpf_htons(icmp_len);
	ip6h->nexthdr = IPPROTO_ICMPV6;
	ip6h->hop_limit = XLB_ICMP_TTL;
	ip6h->saddr = orig->daddr;
	ip6h->daddr = orig->saddr;
	ic->icmp6_type = ICMPV6_PKT_TOOBIG;
	ic->icmp6_code = 0;
	ic->icmp6_cksum = 0;
	ic->icmp6_mtu = bpf_htonl(mtu);
	/* The pseudo-header: addresses, upper-layer length, next header. */
#pragma unroll
	for (int i = 0; i < 4; i++)
		pseudo += (__u64)ip6h->saddr.in6_u.u6_addr32[i] + ip6h->daddr.in6_u.u6_addr32[i];
	pseudo += bpf_htonl(icmp_len) + bpf_htonl(IPPROTO_ICMPV6);
	sum = bpf_csum_diff(NULL, 0, (void *)ic, icmp_len, 0);
	if (sum < 0)
		return -1;
	ic->icmp6_cksum = csum_fold64(pseudo + sum);
	return reply_trim(ctx, ic, icmp_len);
}

#endif /* XLB_ICMP_H */
