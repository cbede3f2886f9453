/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Flow hashing shared by the data path and userspace (xlbctl explain, tests).
 * Plain C, no helpers: a murmur3-style word mix with a fixed seed, so every
 * xlb host maps a flow to the same Maglev slot.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XLB_HASH_SEED 0x786c6231U /* "xlb1"; changing it remaps every flow */

static __always_inline __u32 xlb_rol32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static __always_inline __u32 xlb_hash_word(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51U;
	k = xlb_rol32(k, 15);
	k *= 0x1b873593U;
	h ^= k;
	h = xlb_rol32(h, 13);
	return h * 5 + 0xe6546b64U;
}

static __always_inline __u32 xlb_hash_final(__u32 h, __u32 nwords)
{
	h ^= nwords * 4;
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

/* Words are hashed as they sit in the packet (network order), so the result
 * does not depend on the host's byte order.
 */
static __always_inline __u32 xlb_hash_flow4(__u32 saddr, __u32 daddr, __u32 ports, __u8 proto)
{
	__u32 h = XLB_HASH_SEED;

	h = xlb_hash_word(h, saddr);
	h = xlb_hash_word(h, daddr);
	h = xlb_hash_word(h, ports);
	h = xlb_hash_word(h, proto);
	return xlb_hash_final(h, 4);
}

static __always_inline __u32 xlb_hash_flow6(const __u32 *saddr, const __u32 *daddr, __u32 ports,
					    __u8 proto)
{
	__u32 h = XLB_HASH_SEED;

	h = xlb_hash_word(h, saddr[0]);
	h = xlb_hash_word(h, saddr[1]);
	h = xlb_hash_word(h, saddr[2]);
	h = xlb_hash_word(h, saddr[3]);
	h = xlb_hash_word(h, daddr[0]);
	h = xlb_hash_word(h, daddr[1]);
	h = xlb_hash_word(h, daddr[2]);
	h = xlb_hash_word(h, daddr[3]);
	h = xlb_hash_word(h, ports);
	h = xlb_hash_word(h, proto);
	return xlb_hash_final(h, 10);
}

/* source-hash: client affinity, the source address only. */
static __always_inline __u32 xlb_hash_src4(__u32 saddr)
{
	return xlb_hash_final(xlb_hash_word(XLB_HASH_SEED, saddr), 1);
}

static __always_inline __u32 xlb_hash_src6(const __u32 *saddr)
{
	__u32 h = XLB_HASH_SEED;

	h = xlb_hash_word(h, saddr[0]);
	h = xlb_hash_word(h, saddr[1]);
	h = xlb_hash_word(h, saddr[2]);
	h = xlb_hash_word(h, saddr[3]);
	return xlb_hash_final(h, 4);
}

/* Slot of xlb_vip_filter for an address: IPv6 folded by xor, then a
 * multiplicative hash to 16 bits (XLB_VIP_FILTER_SLOTS).
 */
static __always_inline __u32 xlb_hash_vip_bit(const __u32 *addr, int family)
{
	__u32 folded = family == 4 ? addr[0] : addr[0] ^ addr[1] ^ addr[2] ^ addr[3];

	return (folded * 0x9e3779b1U) >> 16;
}

/* Bit of xlb_stateless_filter for an address and a port (network order;
 * 0 for a VIP of every port), hashed as xlb_hash_vip_bit().
 */
static __always_inline __u32 xlb_hash_vip_port_bit(const __u32 *addr, int family, __u16 port)
{
	__u32 folded = family == 4 ? addr[0] : addr[0] ^ addr[1] ^ addr[2] ^ addr[3];

	return ((folded ^ port) * 0x9e3779b1U) >> 16;
}

#endif /* XLB_HASH_H */
