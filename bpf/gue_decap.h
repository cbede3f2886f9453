/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The backend's half of forward: gue (docs/GUE.md), included by
 * bpf/xlb_decap.bpf.c. A GUE packet for a VIP is decapsulated and passed to
 * the stack, unless it is a mid-connection TCP packet this host has no
 * socket for and it names an alternate with a hop left: then it goes on to
 * the alternate, outer header rewritten, by XDP_TX. A bad GUE header is
 * dropped, and nothing the program could not read in full is ever sent on.
 */
#ifndef XLB_GUE_DECAP_H
#define XLB_GUE_DECAP_H

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

#define GUE_AF_INET 2	/* AF_INET, for bpf_fib_lookup */
#define GUE_AF_INET6 10 /* AF_INET6 */
#define GUE_TCP_LISTEN 10 /* BPF_TCP_LISTEN */

/* UDP destination ports taken as GUE (host order). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, __u8);
	__uint(max_entries, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_decap_gue_ports SEC(".maps");

/*
 * Alternates whose MAC the kernel does not know yet. XDP cannot wait for
 * ARP/ND, so their packets are dropped (TCP sends them again) and xlb-decap
 * asks the kernel to resolve these addresses.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_decap_key);
	__type(value, __u64);
	__uint(max_entries, 256);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_decap_neigh_wanted SEC(".maps");

enum gue_result {
	GUE_PASS,    /* not GUE for a VIP: untouched */
	GUE_LOCAL,   /* decapsulate here */
	GUE_BAD,     /* drop */
	GUE_TX,	     /* sent on to the alternate */
	GUE_DROP,    /* dropped for now: the alternate's MAC is being resolved */
};

/* What gue_parse() found; pointers into the packet. */
struct gue_pkt {
	struct udphdr *udp;
	struct xlb_gue_hdr *gh;
	struct xlb_gue_priv *pd;
	void *inner;
	__u32 outer_len; /* outer IP + UDP + GUE: what decapsulation strips */
	__u8 inner_family;
};

static __always_inline bool gue_port(const struct udphdr *udp)
{
	__u16 port = bpf_ntohs(udp->dest);

	return bpf_map_lookup_elem(&xlb_decap_gue_ports, &port) != NULL;
}

/*
 * Checks the GUE header after the outer IP header (family, ip_hlen bytes,
 * payload bytes after it by its length field): version 0, a data message,
 * no flags, IPv4 or IPv6 inside, xlb's private data of a size that matches
 * its alternate's family, which must be the outer one, hops within bound,
 * and lengths that hold an inner IP header and fit in the frame. False:
 * bad GUE.
 */
static __always_inline bool gue_parse(void *l3, void *data_end, int family, __u32 ip_hlen,
				      __u32 payload, struct gue_pkt *p)
{
	__u32 hlen, udp_len, min_inner;

	p->udp = l3 + ip_hlen;
	p->gh = (void *)(p->udp + 1);
	p->pd = (void *)(p->gh + 1);
	if ((void *)(p->pd + 1) > data_end)
		return false;
	if (p->gh->ver_c_hlen >> 5) /* version 0 (2 bits), C 0: data */
		return false;
	if (p->gh->flags)
		return false;
	if (p->gh->proto == IPPROTO_IPIP) {
		p->inner_family = XLB_AF_INET;
		min_inner = sizeof(struct iphdr);
	} else if (p->gh->proto == IPPROTO_IPV6) {
		p->inner_family = XLB_AF_INET6;
		min_inner = sizeof(struct ipv6hdr);
	} else {
		return false;
	}
	hlen = p->gh->ver_c_hlen & 0x1f;
	if (p->pd->type != bpf_htons(XLB_GUE_PRIV_TYPE) || p->pd->hops > XLB_GUE_HOPS_MAX)
		return false;
	if (!(p->pd->alt_family == 0 && hlen == XLB_GUE_HLEN_NONE) &&
	    !(p->pd->alt_family == XLB_AF_INET && family == XLB_AF_INET &&
	      hlen == XLB_GUE_HLEN_ALT4) &&
	    !(p->pd->alt_family == XLB_AF_INET6 && family == XLB_AF_INET6 &&
	      hlen == XLB_GUE_HLEN_ALT6))
		return false;
	/* A frame shorter than its IP header says is cut: never sent on. */
	if (l3 + ip_hlen + payload > data_end)
		return false;
	udp_len = bpf_ntohs(p->udp->len);
	p->outer_len = ip_hlen + sizeof(struct udphdr) + sizeof(struct xlb_gue_hdr) + hlen * 4;
	if (udp_len > payload ||
	    udp_len < sizeof(struct udphdr) + sizeof(struct xlb_gue_hdr) + hlen * 4 + min_inner)
		return false;
	p->inner = l3 + p->outer_len;
	return p->inner + min_inner <= data_end;
}

/*
 * Does this host own the inner TCP packet? A SYN, anything not TCP (UDP
 * servers are rarely connected: no lookup tells), anything the program
 * cannot read in full (the stack will drop it), and a packet of a socket
 * here (established, a request in progress, time-wait) or an ACK that
 * completes a SYN cookie handshake with a listener here.
 */
static __always_inline bool gue_local(struct xdp_md *ctx, const struct gue_pkt *p,
				      void *data_end)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	struct tcphdr *th;
	__u32 tlen, iph_len;
	void *ip = p->inner;
	bool local;

	if (p->inner_family == XLB_AF_INET) {
		struct iphdr *iph = ip;

		if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_TCP || iph->ihl < 5)
			return true;
		th = ip + iph->ihl * 4;
		/* the helper reads the addresses only: the fixed part will do */
		iph_len = sizeof(*iph);
		t.ipv4.saddr = iph->saddr;
		t.ipv4.daddr = iph->daddr;
		tlen = sizeof(t.ipv4);
	} else {
		struct ipv6hdr *ip6h = ip;

		/* extension headers: no lookup, the stack decides */
		if ((void *)(ip6h + 1) > data_end || ip6h->nexthdr != IPPROTO_TCP)
			return true;
		iph_len = sizeof(*ip6h);
		th = (void *)(ip6h + 1);
		__builtin_memcpy(t.ipv6.saddr, &ip6h->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &ip6h->daddr, 16);
		tlen = sizeof(t.ipv6);
	}
	if ((void *)(th + 1) > data_end || th->syn)
		return true;
	if (p->inner_family == XLB_AF_INET) {
		t.ipv4.sport = th->source;
		t.ipv4.dport = th->dest;
	} else {
		t.ipv6.sport = th->source;
		t.ipv6.dport = th->dest;
	}
	sk = bpf_skc_lookup_tcp(ctx, &t, tlen, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	local = sk->state != GUE_TCP_LISTEN ||
		(th->ack && !bpf_tcp_check_syncookie(sk, ip, iph_len, th, sizeof(*th)));
	bpf_sk_release(sk);
	return local;
}

/* One's complement: the IPv4 checksum after a 32-bit word went from a to b. */
static __always_inline __u16 gue_csum_replace(__u16 check, __be32 a, __be32 b)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~(__u16)a + (__u16)~(__u16)(a >> 16);
	sum += (__u16)b + (__u16)(b >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline void gue_neigh_wanted(int family, const __be32 *addr)
{
	struct xlb_decap_key k = { .family = family };
	__u64 now = bpf_ktime_get_coarse_ns();

	k.addr[0] = addr[0];
	if (family == XLB_AF_INET6) {
		k.addr[1] = addr[1];
		k.addr[2] = addr[2];
		k.addr[3] = addr[3];
	}
	bpf_map_update_elem(&xlb_decap_neigh_wanted, &k, &now, BPF_ANY);
}

/*
 * Sends the packet on to its alternate: outer destination the alternate,
 * outer source this host (the address the packet came to), one hop less,
 * the MACs of the route the kernel has to the alternate, out of the
 * interface it came in by (XDP_TX can use no other). UDP checksum 0, as the
 * balancer sends it. GUE_LOCAL when the kernel has no such route.
 */
static __always_inline int gue_redirect(struct xdp_md *ctx, void *l3, void *data_end,
					int family, struct gue_pkt *p)
{
	struct bpf_fib_lookup fib = {};
	__be32 *alt = (void *)(p->pd + 1);
	struct ethhdr *eth = (void *)(long)ctx->data;
	int rc;

	if ((void *)(eth + 1) > data_end) /* for the verifier: l3 follows it */
		return GUE_LOCAL;
	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = p->udp->source;
	fib.dport = p->udp->dest;
	if (family == XLB_AF_INET) {
		struct iphdr *iph = l3;

		if ((void *)(alt + 1) > data_end)
			return GUE_LOCAL;
		fib.family = GUE_AF_INET;
		fib.tos = iph->tos;
		fib.tot_len = bpf_ntohs(iph->tot_len);
		fib.ipv4_src = iph->daddr;
		fib.ipv4_dst = alt[0];
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(alt + 4) > data_end)
			return GUE_LOCAL;
		fib.family = GUE_AF_INET6;
		fib.tot_len = bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h);
		__builtin_memcpy(fib.ipv6_src, &ip6h->daddr, 16);
		__builtin_memcpy(fib.ipv6_dst, alt, 16);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		gue_neigh_wanted(family, alt);
		return GUE_DROP;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS || fib.ifindex != ctx->ingress_ifindex)
		return GUE_LOCAL;
	if (family == XLB_AF_INET) {
		struct iphdr *iph = l3;
		__be32 was_src = iph->saddr;

		iph->saddr = iph->daddr;
		iph->daddr = alt[0];
		/* the old destination stays in the header: only src -> alt changed */
		iph->check = gue_csum_replace(iph->check, was_src, alt[0]);
	} else {
		struct ipv6hdr *ip6h = l3;

		__builtin_memcpy(&ip6h->saddr, &ip6h->daddr, 16);
		__builtin_memcpy(&ip6h->daddr, alt, 16);
	}
	p->udp->check = 0;
	p->pd->hops--;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return GUE_TX;
}

/*
 * A GUE packet: which of enum gue_result, counting its outcome in st. For
 * GUE_LOCAL *p tells what to strip. is_vip says whether the inner
 * destination is served here.
 */
static __always_inline int gue_decide(struct xdp_md *ctx, struct xlb_decap_stats *st, void *l3,
				      void *data_end, int family, __u32 ip_hlen, __u32 payload,
				      struct gue_pkt *p)
{
	struct xlb_decap_key key = {};
	int ret;

	if (!gue_parse(l3, data_end, family, ip_hlen, payload, p)) {
		st->gue_bad++;
		return GUE_BAD;
	}
	key.family = p->inner_family;
	if (p->inner_family == XLB_AF_INET) {
		key.addr[0] = ((struct iphdr *)p->inner)->daddr;
		if (((struct iphdr *)p->inner)->version != 4) {
			st->gue_bad++;
			return GUE_BAD;
		}
	} else {
		struct ipv6hdr *ip6h = p->inner;

		if ((void *)(ip6h + 1) > data_end || ip6h->version != 6) {
			st->gue_bad++;
			return GUE_BAD;
		}
		__builtin_memcpy(key.addr, &ip6h->daddr, 16);
	}
	if (!bpf_map_lookup_elem(&xlb_decap_vips, &key))
		return GUE_PASS;
	if (gue_local(ctx, p, data_end)) {
		st->gue_local++;
		return GUE_LOCAL;
	}
	if (!p->pd->alt_family) {
		st->gue_no_alt++;
		return GUE_LOCAL;
	}
	if (!p->pd->hops) {
		st->gue_hops_exhausted++;
		return GUE_LOCAL;
	}
	ret = gue_redirect(ctx, l3, data_end, family, p);
	if (ret == GUE_TX)
		st->gue_redirected++;
	else if (ret == GUE_DROP)
		st->gue_no_neigh++;
	else
		st->gue_no_route++;
	return ret;
}

#endif /* XLB_GUE_DECAP_H */
