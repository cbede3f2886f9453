/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Packet builder for tests. Headers are written byte by byte at their wire
 * offsets, so the code does not depend on libc and uapi header structs
 * agreeing, and what a test expects is easy to check against an RFC.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pkt.h"

const __u8 PKT_CLIENT_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const __u8 PKT_LB_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

#define ETH_HLEN_ 14
#define VLAN_HLEN_ 4
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define QUOTE_L4 8 /* bytes of L4 header an ICMP error quotes */
#define IP_MAXLEN 65535

#define ETHERTYPE_IP4 0x0800
#define ETHERTYPE_IP6 0x86dd
#define TPID_8021Q 0x8100
#define TPID_8021AD 0x88a8

#define IPV4_DF 0x4000
#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1fff
#define TCP_ACK 0x10

#define ICMP4_DEST_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP6_PKT_TOOBIG 2

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* Stores a checksum as pkt_csum_fold() returns it (already in wire order). */
static void put_csum(__u8 *p, __u16 csum)
{
	memcpy(p, &csum, sizeof(csum));
}

static int addr_len(int family)
{
	return family == 4 ? 4 : family == 6 ? 16 : 0;
}

/* Returns the address length (4 or 16), or 0 for bad input. */
static int parse_addr(int family, const char *text, __u8 *out)
{
	if (!text || !addr_len(family))
		return 0;
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, text, out) != 1)
		return 0;
	return addr_len(family);
}

__u32 pkt_csum_partial(const void *data, size_t len, __u32 sum)
{
	const __u8 *p = data;
	uint64_t s = sum;
	__u16 w;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		memcpy(&w, p + i, sizeof(w));
		s += w;
	}
	if (len & 1) {
		__u8 last[2] = { p[len - 1], 0 };

		memcpy(&w, last, sizeof(w));
		s += w;
	}
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (__u32)s;
}

__u16 pkt_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Pseudo-header sum for the L4 checksum. l3 is the IP header. */
static __u32 pseudo_sum(int family, const __u8 *l3, __u8 proto, __u32 l4_len)
{
	__u8 ph[40] = {};

	if (family == 4) {
		memcpy(ph, l3 + 12, 8); /* saddr, daddr */
		ph[9] = proto;
		put16(ph + 10, (__u16)l4_len);
		return pkt_csum_partial(ph, 12, 0);
	}
	memcpy(ph, l3 + 8, 32); /* saddr, daddr */
	put32(ph + 32, l4_len);
	ph[39] = proto;
	return pkt_csum_partial(ph, 40, 0);
}

static __u8 *put_eth(__u8 *p, const __u8 *dmac, const __u8 *smac, __u16 tpid, __u16 tci,
		     __u16 ethertype)
{
	memcpy(p, dmac, 6);
	memcpy(p + 6, smac, 6);
	p += 12;
	if (tpid) {
		put16(p, tpid);
		put16(p + 2, tci);
		p += VLAN_HLEN_;
	}
	put16(p, ethertype);
	return p + 2;
}

static void put_ip4(__u8 *ip, size_t hlen, __u8 tos, size_t tot_len, __u16 frag_off, __u8 proto,
		    const __u8 *saddr, const __u8 *daddr)
{
	ip[0] = 0x40 | (__u8)(hlen / 4);
	ip[1] = tos;
	put16(ip + 2, (__u16)tot_len);
	put16(ip + 4, 0); /* id */
	put16(ip + 6, frag_off);
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, saddr, 4);
	memcpy(ip + 16, daddr, 4);
	put_csum(ip + 10, pkt_csum_fold(pkt_csum_partial(ip, hlen, 0)));
}

static void put_ip6(__u8 *ip, __u8 tc, __u32 flow_label, size_t payload_len, __u8 nexthdr,
		    const __u8 *saddr, const __u8 *daddr)
{
	put32(ip, 6U << 28 | (__u32)tc << 20 | (flow_label & 0xfffff));
	put16(ip + 4, (__u16)payload_len);
	ip[6] = nexthdr;
	ip[7] = 64;
	memcpy(ip + 8, saddr, 16);
	memcpy(ip + 24, daddr, 16);
}

/*
 * Writes the IP packet of flow f (header, L4 header, payload) at l3, which
 * has room for cap bytes. Returns its length, or 0 for bad input.
 */
static size_t build_ip(const struct pkt_flow *f, __u8 *l3, size_t cap)
{
	__u8 saddr[16], daddr[16];
	size_t l3_hlen, l4_hlen, l4_len, len, i;
	__u8 *l4;
	__u16 csum;

	if (!parse_addr(f->family, f->saddr, saddr) || !parse_addr(f->family, f->daddr, daddr))
		return 0;
	if (f->proto == IPPROTO_TCP)
		l4_hlen = TCP_HLEN;
	else if (f->proto == IPPROTO_UDP)
		l4_hlen = UDP_HLEN;
	else
		return 0;
	l3_hlen = f->family == 4 ? IP4_HLEN : IP6_HLEN;
	l4_len = l4_hlen + f->payload_len;
	len = l3_hlen + l4_len;
	if (f->payload_len > cap || len > cap || l4_len > IP_MAXLEN ||
	    (f->family == 4 && len > IP_MAXLEN))
		return 0;

	l4 = l3 + l3_hlen;
	for (i = 0; i < f->payload_len; i++)
		l4[l4_hlen + i] = (__u8)i;
	put16(l4, f->sport);
	put16(l4 + 2, f->dport);
	if (f->proto == IPPROTO_TCP) {
		put32(l4 + 4, f->seqs ? f->seq : 1); /* seq */
		put32(l4 + 8, f->seqs ? f->ack_seq : f->tcp_flags & TCP_ACK ? 1 : 0);
		l4[12] = (TCP_HLEN / 4) << 4;		       /* data offset */
		l4[13] = f->tcp_flags;
		put16(l4 + 14, 65535); /* window */
		put16(l4 + 16, 0);     /* checksum */
		put16(l4 + 18, 0);     /* urgent pointer */
	} else {
		put16(l4 + 4, (__u16)l4_len);
		put16(l4 + 6, 0);
	}

	if (f->family == 4)
		put_ip4(l3, IP4_HLEN, 0, len, IPV4_DF, f->proto, saddr, daddr);
	else
		put_ip6(l3, 0, 0, l4_len, f->proto, saddr, daddr);

	csum = pkt_csum_fold(pkt_csum_partial(l4, l4_len,
					      pseudo_sum(f->family, l3, f->proto, (__u32)l4_len)));
	if (f->proto == IPPROTO_UDP && csum == 0)
		csum = 0xffff; /* 0 means "no checksum" */
	put_csum(l4 + (f->proto == IPPROTO_TCP ? 16 : 6), csum);
	return len;
}

size_t pkt_build(const struct pkt_flow *f, __u8 *buf)
{
	size_t l2_len, len;
	__u8 *l3;

	if (!f || !buf || (f->family != 4 && f->family != 6) || f->vlan > 0xfff)
		return 0;
	l2_len = ETH_HLEN_ + (f->vlan ? VLAN_HLEN_ : 0);
	l3 = put_eth(buf, PKT_LB_MAC, PKT_CLIENT_MAC, f->vlan ? TPID_8021Q : 0, f->vlan,
		     f->family == 4 ? ETHERTYPE_IP4 : ETHERTYPE_IP6);
	len = build_ip(f, l3, PKT_MAX - l2_len);
	return len ? l2_len + len : 0;
}

size_t pkt_build_icmp_too_big(int family, const char *router, const char *vip, __u16 vport,
			      const char *client, __u16 cport, __u8 proto, __u32 mtu, __u8 *buf)
{
	struct pkt_flow orig = {
		.family = family,
		.saddr = vip,
		.daddr = client,
		.sport = vport,
		.dport = cport,
		.proto = proto,
		.tcp_flags = TCP_ACK,
	};
	__u8 raddr[16], vaddr[16];
	size_t l3_hlen, l4_hlen, orig_len, quote_len, icmp_len;
	__u8 *l3, *icmp, *scratch;
	__u32 sum;

	if (!buf || (family != 4 && family != 6) || (family == 4 && mtu > 0xffff))
		return 0;
	if (!parse_addr(family, router, raddr) || !parse_addr(family, vip, vaddr))
		return 0;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;

	/* The original packet: one byte larger than the MTU, when that fits. */
	l3_hlen = family == 4 ? IP4_HLEN : IP6_HLEN;
	l4_hlen = proto == IPPROTO_TCP ? TCP_HLEN : UDP_HLEN;
	orig_len = mtu < IP_MAXLEN ? (size_t)mtu + 1 : IP_MAXLEN;
	if (orig_len < l3_hlen + l4_hlen)
		orig_len = l3_hlen + l4_hlen;
	orig.payload_len = orig_len - l3_hlen - l4_hlen;
	scratch = malloc(orig_len);
	if (!scratch)
		return 0;
	if (build_ip(&orig, scratch, orig_len) != orig_len) {
		free(scratch);
		return 0;
	}

	quote_len = l3_hlen + QUOTE_L4;
	icmp_len = ICMP_HLEN + quote_len;
	l3 = put_eth(buf, PKT_LB_MAC, PKT_CLIENT_MAC, 0, 0,
		     family == 4 ? ETHERTYPE_IP4 : ETHERTYPE_IP6);
	icmp = l3 + l3_hlen;
	memcpy(icmp + ICMP_HLEN, scratch, quote_len);
	free(scratch);

	if (family == 4) {
		put_ip4(l3, IP4_HLEN, 0, l3_hlen + icmp_len, 0, IPPROTO_ICMP, raddr, vaddr);
		icmp[0] = ICMP4_DEST_UNREACH;
		icmp[1] = ICMP4_FRAG_NEEDED;
		put16(icmp + 2, 0);
		put16(icmp + 4, 0);
		put16(icmp + 6, (__u16)mtu);
		put_csum(icmp + 2, pkt_csum_fold(pkt_csum_partial(icmp, icmp_len, 0)));
	} else {
		put_ip6(l3, 0, 0, icmp_len, IPPROTO_ICMPV6, raddr, vaddr);
		icmp[0] = ICMP6_PKT_TOOBIG;
		icmp[1] = 0;
		put16(icmp + 2, 0);
		put32(icmp + 4, mtu);
		sum = pseudo_sum(6, l3, IPPROTO_ICMPV6, (__u32)icmp_len);
		put_csum(icmp + 2, pkt_csum_fold(pkt_csum_partial(icmp, icmp_len, sum)));
	}
	return ETH_HLEN_ + l3_hlen + icmp_len;
}

size_t pkt_l3_offset(const __u8 *frame, size_t len)
{
	__u16 type;

	if (!frame || len < ETH_HLEN_)
		return 0;
	type = get16(frame + 12);
	if (type == TPID_8021Q || type == TPID_8021AD)
		return len < ETH_HLEN_ + VLAN_HLEN_ ? 0 : ETH_HLEN_ + VLAN_HLEN_;
	return ETH_HLEN_;
}

size_t pkt_build_encap_ex(const struct pkt_encap *e, const __u8 *inner, size_t inner_len, __u8 *buf)
{
	__u8 saddr[16], daddr[16], dmac[6], smac[6];
	size_t l2_len, ip_len, outer_hlen, len;
	__u16 inner_type, tpid = 0, tci = 0;
	__u8 proto, tos;
	const __u8 *ip;
	__u8 *l3;

	if (!e || !buf || !inner)
		return 0;
	if (!parse_addr(e->outer_family, e->saddr, saddr) ||
	    !parse_addr(e->outer_family, e->daddr, daddr))
		return 0;
	if (e->ip4_opts_len % 4 || e->ip4_opts_len > 40 || (e->ip4_opts_len && !e->ip4_opts) ||
	    (e->ip4_opts_len && e->outer_family != 4))
		return 0;
	l2_len = pkt_l3_offset(inner, inner_len);
	if (!l2_len || inner_len <= l2_len)
		return 0;
	if (l2_len > ETH_HLEN_) {
		tpid = get16(inner + 12);
		tci = get16(inner + 14);
	}
	inner_type = get16(inner + l2_len - 2);
	ip = inner + l2_len;
	ip_len = inner_len - l2_len;
	if (inner_type == ETHERTYPE_IP4 && ip_len >= IP4_HLEN) {
		proto = IPPROTO_IPIP;
		tos = ip[1];
	} else if (inner_type == ETHERTYPE_IP6 && ip_len >= IP6_HLEN) {
		proto = IPPROTO_IPV6;
		tos = (__u8)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
	} else {
		return 0;
	}

	outer_hlen = e->outer_family == 4 ? IP4_HLEN + e->ip4_opts_len : IP6_HLEN;
	len = l2_len + outer_hlen + ip_len;
	if (len > PKT_MAX || (e->outer_family == 4 && outer_hlen + ip_len > IP_MAXLEN))
		return 0;
	/* inner may alias buf (encapsulation in place): read it all first. */
	memcpy(dmac, e->dmac ? e->dmac : inner, 6);
	memcpy(smac, e->smac ? e->smac : inner + 6, 6);
	memmove(buf + l2_len + outer_hlen, ip, ip_len);
	l3 = put_eth(buf, dmac, smac, tpid, tci,
		     e->outer_family == 4 ? ETHERTYPE_IP4 : ETHERTYPE_IP6);
	if (e->outer_family == 4) {
		if (e->ip4_opts_len)
			memcpy(l3 + IP4_HLEN, e->ip4_opts, e->ip4_opts_len);
		put_ip4(l3, outer_hlen, tos, outer_hlen + ip_len, IPV4_DF, proto, saddr, daddr);
	} else {
		put_ip6(l3, tos, e->flow_label, ip_len, proto, saddr, daddr);
	}
	return len;
}

size_t pkt_build_encap(int outer_family, const char *osaddr, const char *odaddr, const __u8 *inner,
		       size_t inner_len, __u8 *buf)
{
	struct pkt_encap e = {
		.outer_family = outer_family,
		.saddr = osaddr,
		.daddr = odaddr,
	};

	return pkt_build_encap_ex(&e, inner, inner_len, buf);
}

__u16 pkt_ipv4_csum(const void *iphdr)
{
	__u8 hdr[60];
	size_t hlen = (size_t)(((const __u8 *)iphdr)[0] & 0x0f) * 4;

	memcpy(hdr, iphdr, hlen);
	put16(hdr + 10, 0);
	return pkt_csum_fold(pkt_csum_partial(hdr, hlen, 0));
}

bool pkt_ipv4_csum_ok(const void *iphdr)
{
	const __u8 *ip = iphdr;
	size_t hlen;

	if (!ip || ip[0] >> 4 != 4)
		return false;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < IP4_HLEN)
		return false;
	return pkt_csum_fold(pkt_csum_partial(ip, hlen, 0)) == 0;
}

static bool l4_ok(int family, const __u8 *l3, __u8 proto, const __u8 *l4, size_t l4_len)
{
	__u32 sum = 0;

	switch (proto) {
	case IPPROTO_TCP:
		if (l4_len < TCP_HLEN)
			return false;
		break;
	case IPPROTO_UDP:
		if (l4_len < UDP_HLEN || get16(l4 + 4) < UDP_HLEN || get16(l4 + 4) > l4_len)
			return false;
		l4_len = get16(l4 + 4);
		if (get16(l4 + 6) == 0)
			return family == 4; /* optional over IPv4, mandatory over IPv6 */
		break;
	case IPPROTO_ICMP:
		if (family != 4 || l4_len < ICMP_HLEN)
			return false;
		return pkt_csum_fold(pkt_csum_partial(l4, l4_len, 0)) == 0;
	case IPPROTO_ICMPV6:
		if (family != 6 || l4_len < ICMP_HLEN)
			return false;
		break;
	default:
		return false;
	}
	sum = pseudo_sum(family, l3, proto, (__u32)l4_len);
	return pkt_csum_fold(pkt_csum_partial(l4, l4_len, sum)) == 0;
}

/* ip is an IPv4 or IPv6 packet (per family) of at most room bytes. */
static bool ip_l4_ok(int family, const __u8 *ip, size_t room, int depth)
{
	size_t hlen, len;
	__u8 proto;

	if (family == 4) {
		if (room < IP4_HLEN || ip[0] >> 4 != 4)
			return false;
		hlen = (size_t)(ip[0] & 0x0f) * 4;
		len = get16(ip + 2);
		if (hlen < IP4_HLEN || len < hlen || len > room || !pkt_ipv4_csum_ok(ip))
			return false;
		if (get16(ip + 6) & (IPV4_MF | IPV4_OFFSET))
			return false;
		proto = ip[9];
	} else {
		if (room < IP6_HLEN || ip[0] >> 4 != 6)
			return false;
		hlen = IP6_HLEN;
		len = IP6_HLEN + get16(ip + 4);
		if (len > room)
			return false;
		proto = ip[6];
	}
	if (proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) {
		if (depth > 0)
			return false;
		return ip_l4_ok(proto == IPPROTO_IPIP ? 4 : 6, ip + hlen, len - hlen, depth + 1);
	}
	return l4_ok(family, ip, proto, ip + hlen, len - hlen);
}

bool pkt_l4_csum_ok(const __u8 *frame, size_t len)
{
	size_t l3off = pkt_l3_offset(frame, len);
	__u16 type;

	if (!l3off)
		return false;
	type = get16(frame + l3off - 2);
	if (type == ETHERTYPE_IP4)
		return ip_l4_ok(4, frame + l3off, len - l3off, 0);
	if (type == ETHERTYPE_IP6)
		return ip_l4_ok(6, frame + l3off, len - l3off, 0);
	return false;
}

void pkt_hexdump(const char *title, const __u8 *buf, size_t len)
{
	size_t i, j;

	fprintf(stderr, "%s (%zu bytes):\n", title ? title : "packet", len);
	for (i = 0; i < len; i += 16) {
		fprintf(stderr, "  %04zx: ", i);
		for (j = i; j < i + 16; j++) {
			if (j < len)
				fprintf(stderr, "%02x ", buf[j]);
			else
				fprintf(stderr, "   ");
			if (j == i + 7)
				fputc(' ', stderr);
		}
		fputs(" |", stderr);
		for (j = i; j < i + 16 && j < len; j++)
			fputc(isprint(buf[j]) ? buf[j] : '.', stderr);
		fputs("|\n", stderr);
	}
}
