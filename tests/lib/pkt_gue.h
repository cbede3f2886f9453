/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * GUE frames as xlb's forward: gue emits them (docs/GUE.md), built from the
 * document, not from maps/xlb_maps.h: a test that compares with these
 * checks the data path against the layout on paper.
 */
#ifndef XLB_TESTS_PKT_GUE_H
#define XLB_TESTS_PKT_GUE_H

#include <linux/types.h>
#include <stddef.h>

struct pkt_gue {
	int outer_family;  /* 4 or 6 */
	const char *saddr; /* outer addresses */
	const char *daddr;
	const __u8 *dmac; /* NULL: the inner frame's */
	const __u8 *smac; /* NULL: the inner frame's */
	__u16 sport, dport; /* host order */
	__u8 hops;
	const char *alt; /* NULL: no alternate; else of the outer family */
	__u32 table_gen;
	__u32 flow_label; /* outer IPv6 */
};

/*
 * Ethernet (the inner frame's tag kept) + outer IPv4 (ttl 64, DF, id 0, tos
 * copied, correct checksum) or IPv6 (hop limit 64, traffic class copied) +
 * UDP (checksum 0) + GUE version 0, C 0, flags 0, proto 4 or 41, Hlen 2, 3
 * or 6 + private data (type 0x786c, hops, alternate family, generation,
 * alternate) + the inner IP packet. 0 on bad input.
 */
size_t pkt_build_gue(const struct pkt_gue *g, const __u8 *inner, size_t inner_len, __u8 *buf);

/* Offset of the GUE base header in a frame pkt_build_gue() built. */
size_t pkt_gue_offset(const __u8 *frame, size_t len);

#endif /* XLB_TESTS_PKT_GUE_H */
