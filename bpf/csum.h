/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Internet checksum of a fresh 20-byte IPv4 header (no options). */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The header's check field must be 0 when called. Unrolled: ten 16-bit words. */
static __always_inline __u16 csum_ipv4_hdr(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	return csum_fold32(sum);
}

#endif /* XLB_CSUM_H */
