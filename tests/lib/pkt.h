/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A small packet builder for tests: Ethernet [+ 802.1Q] + IPv4/IPv6 +
 * TCP/UDP with correct lengths and checksums, ICMP "too big" errors, IPIP
 * encapsulation as xlb emits it, and checksum verifiers.
 *
 * Builders write into buf (at least PKT_MAX bytes) and return the frame's
 * length, or 0 when the input is invalid (bad address text, family or
 * protocol, or a frame that would not fit in PKT_MAX).
 */
#ifndef XLB_TESTS_PKT_H
#define XLB_TESTS_PKT_H

#include <linux/types.h>
#include <stddef.h>
#include <stdbool.h>

#define PKT_MAX 2048

extern const __u8 PKT_CLIENT_MAC[6]; /* 02:00:00:00:00:01 */
extern const __u8 PKT_LB_MAC[6];     /* 02:00:00:00:00:02 */

struct pkt_flow {
	int family;	   /* 4 or 6 */
	const char *saddr; /* text form, e.g. "198.18.0.1" / "2001:2::1" */
	const char *daddr;
	__u16 sport, dport; /* host order */
	__u8 proto;	    /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 tcp_flags;	    /* e.g. 0x02 (SYN), 0x10 (ACK) */
	__u16 vlan;	    /* 0 = untagged, else 802.1Q VID */
	size_t payload_len; /* bytes of payload (filled with a pattern) */
	bool seqs;	    /* TCP: seq and ack_seq below, not 1 and 1 */
	__u32 seq, ack_seq;
};

/*
 * Ethernet (dst PKT_LB_MAC, src PKT_CLIENT_MAC) [+ 802.1Q] + IPv4 (ttl 64,
 * DF, id 0, correct checksum) or IPv6 (hop limit 64, no flow label) +
 * TCP (seq 1, ack 1 when ACK is set, unless f->seqs; window 65535, no
 * options) or UDP, with correct lengths and checksums, + payload: byte i
 * is (__u8)i.
 */
size_t pkt_build(const struct pkt_flow *f, __u8 *buf);

/*
 * ICMP error from `router` to the VIP about a packet the backend sent
 * (VIP:vport -> client:cport, proto TCP with ACK or UDP, whose IP length is
 * mtu + 1): IPv4 type 3 code 4 with next-hop MTU `mtu` (<= 65535); IPv6
 * ICMPv6 type 2 with MTU `mtu`. The quote is the original IP header + the
 * first 8 bytes of its L4 header. Untagged Ethernet as pkt_build; outer TTL
 * / hop limit 64; all checksums correct (including the quoted IPv4 header's).
 */
size_t pkt_build_icmp_too_big(int family, const char *router, const char *vip, __u16 vport,
			      const char *client, __u16 cport, __u8 proto, __u32 mtu, __u8 *buf);

/*
 * Wraps the IP packet of the Ethernet frame `inner` in an outer IPv4
 * (protocol 4 or 41) or IPv6 (next header 4 or 41) header, as xlb's IPIP
 * forwarding emits: outer IPv4 ttl 64, DF, id 0, tos copied from the inner
 * packet, correct checksum; outer IPv6 hop limit 64, traffic class copied,
 * flow label 0. The new Ethernet header keeps the inner frame's MACs (and
 * its 802.1Q tag, if it has one) and announces the outer family.
 */
size_t pkt_build_encap(int outer_family, const char *osaddr, const char *odaddr, const __u8 *inner,
		       size_t inner_len, __u8 *buf);

/* The same with more control. Zero/NULL fields take the defaults above. */
struct pkt_encap {
	int outer_family; /* 4 or 6 */
	const char *saddr;
	const char *daddr;
	const __u8 *dmac;     /* NULL: the inner frame's */
	const __u8 *smac;     /* NULL: the inner frame's */
	const __u8 *ip4_opts; /* outer IPv4 options, copied as given */
	size_t ip4_opts_len;  /* multiple of 4, <= 40 */
	__u32 flow_label;     /* outer IPv6 flow label (20 bits) */
};
size_t pkt_build_encap_ex(const struct pkt_encap *e, const __u8 *inner, size_t inner_len,
			  __u8 *buf);

/*
 * Internet checksum pieces, in the kernel's convention: sums of 16-bit words
 * as loaded from memory (host order), so the folded result is stored as is
 * (memcpy, or assigned to a __sum16 field) and is then right on the wire.
 * pkt_csum_partial adds len bytes to sum; pkt_csum_fold folds and inverts.
 */
__u32 pkt_csum_partial(const void *data, size_t len, __u32 sum);
__u16 pkt_csum_fold(__u32 sum);

/* The checksum an IPv4 header (ihl taken from it; its check field is
 * ignored) should carry, ready to assign: ip->check = pkt_ipv4_csum(ip).
 */
__u16 pkt_ipv4_csum(const void *iphdr);

/* The IPv4 header (ihl taken from it) checksums to zero. */
bool pkt_ipv4_csum_ok(const void *iphdr);

/*
 * The TCP, UDP, ICMP or ICMPv6 checksum of a frame (untagged or with one
 * 802.1Q tag; IPv6 without extension headers) verifies. For an IPIP frame
 * the outer IPv4 header checksum and the inner packet's L4 checksum are
 * checked. False for anything it cannot parse or that is truncated.
 */
bool pkt_l4_csum_ok(const __u8 *frame, size_t len);

/* Offset of the L3 header in a frame: 14, or 18 with one 802.1Q/802.1ad tag;
 * 0 when the frame is too short to tell.
 */
size_t pkt_l3_offset(const __u8 *frame, size_t len);

/* Hex and ASCII, 16 bytes a line, to stderr; for failing-test diagnostics. */
void pkt_hexdump(const char *title, const __u8 *buf, size_t len);

#endif /* XLB_TESTS_PKT_H */
