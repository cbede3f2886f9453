/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Forwarding: L2 direct server return (MAC rewrite) and IPIP encapsulation
 * (IPv4-in-IPv4, IPv6-in-IPv6, IPv4-in-IPv6). The outer source address
 * varies per flow so backends' NICs spread the flows over their RSS queues.
 */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps/xlb_maps.h"
#include "bpf/parse.h"
#include "bpf/csum.h"

#define XLB_OUTER_TTL 64

/* Set by tests: fill new headroom with 0xFF before writing the outer headers,
 * so a field the encapsulation forgets to write cannot pass as a zero.
 */
const volatile __u8 xlb_test_poison_headroom = 0;

static __always_inline int fwd_l2dsr(struct xdp_md *ctx, const struct xlb_l2 *l2,
				     const struct xlb_backend *be, const struct xlb_lb_config *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (!write_l2(data, data_end, l2, be->mac, cfg->if_mac, l2->l3_proto))
		return -1;
	return XDP_TX;
}

static __always_inline void poison(void *data, void *data_end, __u32 len)
{
	/* len is one of two constants; the loop unrolls to stores. */
	if (data + 80 > data_end)
		return;
#pragma unroll
	for (int i = 0; i < 80; i++)
		if (i < (int)len)
			((__u8 *)data)[i] = 0xff;
}

/*
 * The outer IPv4 header of every encapsulation (IPIP, GUE): tot_len and
 * protocol are the caller's; the source varies per flow within
 * cfg->ipip_src4's /16 (entropy) for the backends' RSS.
 */
static __always_inline void outer4_write(struct iphdr *iph, const struct xlb_lb_config *cfg,
					 const struct xlb_backend *be, __u32 tot_len, __u8 tos,
					 __u8 proto, __u32 entropy)
{
	__be16 ver_tos = bpf_htons(0x4500 | tos); /* version 4, 20-byte header */
	__be16 len = bpf_htons(tot_len);
	__be16 frag = bpf_htons(IP_DF); /* the decap side cannot reassemble */
	__be16 ttl_proto = bpf_htons(XLB_OUTER_TTL << 8 | proto);
	__be32 saddr = (cfg->ipip_src4 & bpf_htonl(0xffff0000)) | bpf_htonl(entropy & 0xffff);
	__be32 daddr = be->addr[0];
	__be32 *w = (__be32 *)iph;
	/* Summed from the values, not read back from the header: loads of
	 * what was just stored in other widths stall the CPU (14 % of an
	 * ipip packet's time in the balancer, docs/PERFORMANCE.md).
	 */
	__u16 check = csum_fold32((__u32)ver_tos + len + frag + ttl_proto + (saddr & 0xffff) +
				  (saddr >> 16) + (daddr & 0xffff) + (daddr >> 16));

	/* five words, each composed in wire order (id 0) */
	w[0] = bpf_htonl((__u32)bpf_ntohs(ver_tos) << 16 | tot_len);
	w[1] = bpf_htonl(IP_DF);
	w[2] = bpf_htonl((__u32)bpf_ntohs(ttl_proto) << 16 | bpf_ntohs(check));
	w[3] = saddr;
	w[4] = daddr;
}

/* The outer IPv6 header of every encapsulation; the flow label and the
 * source's last 32 bits carry entropy.
 */
static __always_inline void outer6_write(struct ipv6hdr *ip6h, const struct xlb_lb_config *cfg,
					 const struct xlb_backend *be, __u32 payload_len, __u8 tc,
					 __u8 nexthdr, __u32 entropy)
{
	/* version 6, traffic class, flow label from the flow (ECMP/RSS entropy) */
	*(__be32 *)ip6h = bpf_htonl((6U << 28) | ((__u32)tc << 20) | (entropy & 0xfffff));
	ip6h->payload_len = bpf_htons(payload_len);
	ip6h->nexthdr = nexthdr;
	ip6h->hop_limit = XLB_OUTER_TTL;
	ip6h->saddr.in6_u.u6_addr32[0] = cfg->ipip_src6[0];
	ip6h->saddr.in6_u.u6_addr32[1] = cfg->ipip_src6[1];
	ip6h->saddr.in6_u.u6_addr32[2] = cfg->ipip_src6[2];
	ip6h->saddr.in6_u.u6_addr32[3] = bpf_htonl(entropy);
	ip6h->daddr.in6_u.u6_addr32[0] = be->addr[0];
	ip6h->daddr.in6_u.u6_addr32[1] = be->addr[1];
	ip6h->daddr.in6_u.u6_addr32[2] = be->addr[2];
	ip6h->daddr.in6_u.u6_addr32[3] = be->addr[3];
}

/*
 * IPv4 outer header. ip_len is the inner IP packet's length, tos its
 * DSCP/ECN byte, entropy a per-flow value for the outer source.
 * Returns XDP_TX, or -1 if the headroom could not be grown or the headers
 * written (the caller drops and counts it: a drop is never anonymous).
 */
static __always_inline int encap_ipip4(struct xdp_md *ctx, const struct xlb_l2 *l2,
				       const struct xlb_backend *be,
				       const struct xlb_lb_config *cfg, __u32 ip_len, __u8 tos,
				       __u32 entropy)
{
	struct iphdr *iph;
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_test_poison_headroom)
		poison(data, data_end, l2->len + sizeof(struct iphdr));
	iph = write_l2(data, data_end, l2, be->mac, cfg->if_mac, bpf_htons(ETH_P_IP));
	if (!iph || (void *)(iph + 1) > data_end)
		return -1;
	outer4_write(iph, cfg, be, ip_len + sizeof(struct iphdr), tos, IPPROTO_IPIP, entropy);
	return XDP_TX;
}

/* IPv6 outer header; inner_proto is IPPROTO_IPV6 or IPPROTO_IPIP (4-in-6). */
static __always_inline int encap_ipip6(struct xdp_md *ctx, const struct xlb_l2 *l2,
				       const struct xlb_backend *be,
				       const struct xlb_lb_config *cfg, __u32 ip_len, __u8 tc,
				       __u32 entropy, __u8 inner_proto)
{
	struct ipv6hdr *ip6h;
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct ipv6hdr)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_test_poison_headroom)
		poison(data, data_end, l2->len + sizeof(struct ipv6hdr));
	ip6h = write_l2(data, data_end, l2, be->mac, cfg->if_mac, bpf_htons(ETH_P_IPV6));
	if (!ip6h || (void *)(ip6h + 1) > data_end)
		return -1;
	outer6_write(ip6h, cfg, be, ip_len, tc, inner_proto, entropy);
	return XDP_TX;
}

#endif /* XLB_ENCAP_H */
