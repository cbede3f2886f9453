// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lib/pkt.h"
#include "lib/pkt_gue.h"

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, (__u16)(v >> 16));
	put16(p + 2, (__u16)v);
}

size_t pkt_build_gue(const struct pkt_gue *g, const __u8 *inner, size_t inner_len, __u8 *buf)
{
	int af = g->outer_family == 4 ? AF_INET : AF_INET6;
	size_t l2, ip_len, outer_ip, alt_len, gue_len, n;
	__u8 s[16], d[16], alt[16], tos, proto;
	const __u8 *ip;
	__u8 tmp[PKT_MAX], *o;

	if (g->outer_family != 4 && g->outer_family != 6)
		return 0;
	if (inet_pton(af, g->saddr, s) != 1 || inet_pton(af, g->daddr, d) != 1)
		return 0;
	if (g->alt && inet_pton(af, g->alt, alt) != 1)
		return 0;
	l2 = pkt_l3_offset(inner, inner_len);
	if (!l2 || inner_len <= l2 + 20)
		return 0;
	ip = inner + l2;
	ip_len = inner_len - l2;
	if (ip[0] >> 4 == 4) {
		proto = IPPROTO_IPIP;
		tos = ip[1];
	} else {
		proto = IPPROTO_IPV6;
		tos = (__u8)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
	}
	outer_ip = g->outer_family == 4 ? 20 : 40;
	alt_len = g->alt ? (g->outer_family == 4 ? 4 : 16) : 0;
	gue_len = 4 + 8 + alt_len;
	n = l2 + outer_ip + 8 + gue_len + ip_len;
	if (n > PKT_MAX)
		return 0;
	memcpy(tmp, inner, inner_len); /* inner may alias buf */
	memset(buf, 0, n);
	memcpy(buf, g->dmac ? g->dmac : tmp, 6);
	memcpy(buf + 6, g->smac ? g->smac : tmp + 6, 6);
	if (l2 == 18)
		memcpy(buf + 12, tmp + 12, 4);
	put16(buf + l2 - 2, g->outer_family == 4 ? 0x0800 : 0x86dd);
	o = buf + l2;
	if (g->outer_family == 4) {
		o[0] = 0x45;
		o[1] = tos;
		put16(o + 2, (__u16)(outer_ip + 8 + gue_len + ip_len));
		put16(o + 6, 0x4000);
		o[8] = 64;
		o[9] = IPPROTO_UDP;
		memcpy(o + 12, s, 4);
		memcpy(o + 16, d, 4);
		{
			__u16 c = pkt_ipv4_csum(o);

			memcpy(o + 10, &c, 2);
		}
	} else {
		put32(o, (6U << 28) | ((__u32)tos << 20) | (g->flow_label & 0xfffff));
		put16(o + 4, (__u16)(8 + gue_len + ip_len));
		o[6] = IPPROTO_UDP;
		o[7] = 64;
		memcpy(o + 8, s, 16);
		memcpy(o + 24, d, 16);
	}
	o += outer_ip;
	put16(o, g->sport);
	put16(o + 2, g->dport);
	put16(o + 4, (__u16)(8 + gue_len + ip_len));
	/* o + 6: checksum 0 */
	o += 8;
	o[0] = (__u8)((gue_len - 4) / 4); /* version 0, C 0, Hlen */
	o[1] = proto;
	/* o + 2: flags 0 */
	put16(o + 4, 0x786c);
	o[6] = g->hops;
	o[7] = g->alt ? (__u8)g->outer_family : 0;
	put32(o + 8, g->table_gen);
	if (g->alt)
		memcpy(o + 12, alt, alt_len);
	memcpy(o + gue_len, ip, ip_len);
	return n;
}

size_t pkt_gue_offset(const __u8 *frame, size_t len)
{
	size_t l2 = pkt_l3_offset(frame, len);

	if (!l2 || len < l2 + 1)
		return 0;
	return l2 + ((frame[l2] >> 4) == 4 ? 20 : 40) + 8;
}
