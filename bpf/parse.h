/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Header parsing for the balancer. Every read is preceded by a bounds check
 * against data_end; every loop has a named bound.
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps/xlb_maps.h"

#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#include <stdbool.h>

/* IPv4 frag_off bits (kernel-internal in <net/ip.h>). */
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

#define XLB_TCP_FIN 0x01
#define XLB_TCP_SYN 0x02
#define XLB_TCP_RST 0x04
#define XLB_TCP_ACK 0x10

/* From <linux/icmp.h>, which drags in libc socket headers. */
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 un; /* unused / next-hop MTU */
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* What forwarding needs to rebuild the link-layer header. */
struct xlb_l2 {
	__u16 len;	   /* 14, or 18 with one VLAN tag */
	__be16 tpid;	   /* tag protocol, when tagged */
	__be16 tci;	   /* tag control, when tagged */
	__be16 l3_proto;   /* ETH_P_IP or ETH_P_IPV6 */
};

/* Returns 0 when an IPv4/IPv6 header follows, -1 otherwise. */
static __always_inline int parse_eth(void *data, void *data_end, struct xlb_l2 *l2)
{
	struct ethhdr *eth = data;
	struct vlan_hdr *vh;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = eth->h_proto;
	l2->len = sizeof(*eth);
	l2->tpid = 0;
	l2->tci = 0;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > data_end)
			return -1;
		l2->tpid = proto;
		l2->tci = vh->tci;
		proto = vh->encap_proto;
		l2->len += sizeof(*vh);
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return -1;
	l2->l3_proto = proto;
	return 0;
}

/*
 * Writes the link-layer header at data (keeping the VLAN tag the packet came
 * with) and returns where the L3 header goes, or NULL if out of bounds.
 */
static __always_inline void *write_l2(void *data, void *data_end, const struct xlb_l2 *l2,
				      const __u8 *dmac, const __u8 *smac, __be16 l3_proto)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	if (l2->tpid) {
		struct vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return NULL;
		eth->h_proto = l2->tpid;
		vh->tci = l2->tci;
		vh->encap_proto = l3_proto;
		return vh + 1;
	}
	eth->h_proto = l3_proto;
	return eth + 1;
}

/* The L4 fields the balancer needs. */
struct xlb_l4 {
	union {
		struct {
			__be16 sport;
			__be16 dport;
		};
		__u32 ports; /* both, as on the wire: one load, one store */
	};
	__u8 tcp_flags;
	__u8 have_ports; /* the two ports could be read */
	__u8 complete;	 /* the whole TCP/UDP header is inside the IP packet */
};

/*
 * The last word of a flow key (maps/xlb_maps.h): the protocol, then three
 * bytes of padding, as a word. A key is read back in words (the flow
 * cache's hash and compare, the tables' hash): a word load over narrower
 * stores stalls the CPU until they drain, so keys are written in words.
 */
static __always_inline __u32 flow_key_proto_word(__u8 proto)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return proto;
#else
	return (__u32)proto << 24;
#endif
}

/*
 * The last 64-bit word of a flow key: the ports as on the wire, then the
 * protocol word. The flow cache reads keys in 64-bit words, and a load
 * wider than the stores it reads stalls the CPU (an established l2dsr
 * packet took 33 ns instead of 29 with the key stored in 32-bit words):
 * keys are stored in 64-bit words too.
 */
static __always_inline __u64 flow_key_l4_word(__u32 ports, __u8 proto)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u64)ports | (__u64)flow_key_proto_word(proto) << 32;
#else
	return (__u64)ports << 32 | flow_key_proto_word(proto);
#endif
}

/*
 * Reads TCP/UDP at l4; room is how many bytes of the IP packet remain from
 * l4 on (already clamped to the frame).
 */
static __always_inline void parse_l4(void *l4, void *data_end, __u8 proto, __u32 room,
				     struct xlb_l4 *out)
{
	__be16 *ports = l4;

	out->have_ports = 0;
	out->complete = 0;
	out->tcp_flags = 0;
	if ((void *)(ports + 2) > data_end || room < 4)
		return;
	out->ports = *(__u32 *)ports;
	out->have_ports = 1;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end || room < sizeof(*th))
			return;
		if (th->doff < 5 || (__u32)th->doff * 4 > room)
			return;
		out->tcp_flags = ((__u8 *)th)[13];
		out->complete = 1;
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end || room < sizeof(*uh))
			return;
		out->complete = 1;
	}
}

/*
 * Skips IPv6 extension headers. On return *nexthdr is the upper-layer
 * protocol and the result the offset of its header from ip6h, or -1 when
 * the chain is truncated or too long; *frag is set for a Fragment header:
 * 1 for a first fragment, 2 for a later one.
 */
static __always_inline int skip_ipv6_ext(struct ipv6hdr *ip6h, void *data_end, __u8 *nexthdr,
					 int *frag)
{
	__u32 off = sizeof(*ip6h);
	__u8 nh = ip6h->nexthdr;

	*frag = 0;
#pragma unroll
	for (int i = 0; i < XLB_IPV6_EXT_MAX; i++) {
		__u8 *ext = (__u8 *)ip6h + off;

		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(ext + 2) > data_end)
				return -1;
			nh = ext[0];
			off += ((__u32)ext[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(ext + 2) > data_end)
				return -1;
			nh = ext[0];
			off += ((__u32)ext[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(ext + 8) > data_end)
				return -1;
			/* 2: a later fragment (an offset), whose L4 header is elsewhere */
			*frag = (ext[2] | (ext[3] & 0xf8)) ? 2 : 1;
			nh = ext[0];
			off += 8;
			break;
		default:
			*nexthdr = nh;
			return off;
		}
	}
	/* More extension headers than we are willing to walk. */
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_FRAGMENT:
		return -1;
	}
	*nexthdr = nh;
	return off;
}

#endif /* XLB_PARSE_H */
