/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Rate-limit arithmetic shared by the data path and userspace tests: token
 * buckets and the weighted two-window (sliding window) counter. Plain C,
 * integers only, no helpers; the time is an argument.
 *
 * Ranges: rates and bursts are __u32 (up to 4.29e9 tokens/s, far above the
 * ~150M packets/s of 100 Gbit/s), the clock is __u64 nanoseconds. Every
 * product below is bounded so that it fits in 64 bits whatever the idle
 * time; the comments say why.
 */
#ifndef XLB_RATELIMIT_H
#define XLB_RATELIMIT_H

#include <linux/types.h>
#include <stdbool.h>
#include "maps/xlb_maps.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* A network-order mask of the first bits (0..32) of a word. */
static __always_inline __u32 xlb_be32_prefix_mask(__u32 bits)
{
	__u32 m = bits >= 32 ? ~0U : bits ? ~0U << (32 - bits) : 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	m = __builtin_bswap32(m);
#endif
	return m;
}

/*
 * The per-source limits' key address: the source's first `prefix` bits, the
 * rest zero (IPv4 in addr[0]). So the addresses of one client network (an
 * IPv6 host picks any address of its /64) share one limit. Prefix 0: the
 * whole address.
 */
static __always_inline void xlb_src_prefix(__be32 *addr, int family, __u32 prefix)
{
	if (family == XLB_AF_INET) {
		addr[0] &= xlb_be32_prefix_mask(prefix ? prefix : 32);
		return;
	}
	if (!prefix)
		prefix = 128;
	addr[0] &= xlb_be32_prefix_mask(prefix);
	addr[1] &= xlb_be32_prefix_mask(prefix > 32 ? prefix - 32 : 0);
	addr[2] &= xlb_be32_prefix_mask(prefix > 64 ? prefix - 64 : 0);
	addr[3] &= xlb_be32_prefix_mask(prefix > 96 ? prefix - 96 : 0);
}

/* A token is XLB_TB_SCALE units, so rate (tokens/s) * elapsed (ns) is units. */
#define XLB_TB_SCALE 1000000000ULL
/* A clock this far behind a bucket's last refill is taken as a new clock
 * (the count restarts from it); a smaller step back earns nothing until the
 * clock passes the last refill again (CPUs read the clock before taking the
 * bucket's lock, so their reads arrive slightly out of order).
 */
#define XLB_RL_RESYNC_NS 1000000000ULL
/* The sliding window's length. */
#define XLB_SW_WINDOW_NS 1000000000ULL

/*
 * Brings the bucket to now: adds what rate earned since the last refill,
 * capped at burst (also when burst was lowered since).
 *
 * cap = burst * 1e9 < 2^32 * 2^30 = 2^62. elapsed * rate is only formed
 * when it cannot overflow: elapsed < 2^32 (then < 2^64), or elapsed <=
 * room / rate (then <= room < 2^62). The division happens only after more
 * than 4.3 s without a refill.
 */
static __always_inline void xlb_tb_refill(struct xlb_tb *b, __u64 now, __u32 rate, __u32 burst)
{
	__u64 cap = (__u64)burst * XLB_TB_SCALE, room, elapsed, add;

	if (now < b->last_ns) {
		if (b->last_ns - now > XLB_RL_RESYNC_NS)
			b->last_ns = now;
		elapsed = 0;
	} else {
		elapsed = now - b->last_ns;
		b->last_ns = now;
	}
	if (b->units >= cap) {
		b->units = cap;
		return;
	}
	room = cap - b->units;
	if (!rate || !elapsed)
		return;
	if (elapsed <= 0xffffffffULL)
		add = elapsed * rate;
	else
		add = elapsed > room / rate ? room : elapsed * rate;
	b->units += add < room ? add : room;
}

/* Takes up to want whole tokens; returns how many it took. */
static __always_inline __u32 xlb_tb_take(struct xlb_tb *b, __u32 want)
{
	__u64 need = (__u64)want * XLB_TB_SCALE; /* < 2^62 */
	__u32 got;

	if (b->units >= need) {
		b->units -= need;
		return want;
	}
	got = b->units / XLB_TB_SCALE; /* < want */
	b->units -= (__u64)got * XLB_TB_SCALE;
	return got;
}

/*
 * The clock at which a bucket short of a whole token will have one, at
 * rate, counting from its last refill (saturates instead of wrapping).
 */
static __always_inline __u64 xlb_tb_next_token_ns(const struct xlb_tb *b, __u32 rate)
{
	__u64 missing, wait;

	if (b->units >= XLB_TB_SCALE)
		return b->last_ns;
	if (!rate)
		return ~0ULL;
	missing = XLB_TB_SCALE - b->units; /* <= 1e9 */
	wait = (missing + rate - 1) / rate;
	return b->last_ns > ~0ULL - wait ? ~0ULL : b->last_ns + wait;
}

/* A bucket that was never used: full, counting from now. */
static __always_inline void xlb_tb_init(struct xlb_tb *b, __u64 now, __u32 burst)
{
	b->units = (__u64)burst * XLB_TB_SCALE;
	b->last_ns = now;
}

/* One token if there is one, after a refill to now. */
static __always_inline bool xlb_tb_admit(struct xlb_tb *b, __u64 now, __u32 rate, __u32 burst)
{
	xlb_tb_refill(b, now, rate, burst);
	return xlb_tb_take(b, 1) == 1;
}

/*
 * Sliding window: admits an event if the events of the current window plus
 * the previous window's, weighted by how much of it still overlaps the last
 * second, stay within limit:
 *
 *   prev * (W - e) / W + cur + 1 <= limit,   e = now - start, 0 <= e < W
 *
 * compared multiplied out by W: prev * (W - e) and (cur + 1) * W are each
 * below 2^32 * 2^30 = 2^62, so their sum fits in 64 bits, and so does
 * limit * W.
 */
static __always_inline void xlb_sw_init(struct xlb_sw *w, __u64 now)
{
	w->start_ns = now;
	w->cur = 0;
	w->prev = 0;
}

static __always_inline bool xlb_sw_admit(struct xlb_sw *w, __u64 now, __u32 limit)
{
	__u64 e;

	if (now < w->start_ns) {
		if (w->start_ns - now > XLB_RL_RESYNC_NS)
			w->start_ns = now; /* a new clock: keep the counts */
		e = 0;
	} else {
		e = now - w->start_ns;
	}
	if (e >= 2 * XLB_SW_WINDOW_NS) { /* idle for a whole window: both empty */
		w->start_ns = now;
		w->prev = 0;
		w->cur = 0;
		e = 0;
	} else if (e >= XLB_SW_WINDOW_NS) {
		w->start_ns += XLB_SW_WINDOW_NS;
		w->prev = w->cur;
		w->cur = 0;
		e -= XLB_SW_WINDOW_NS;
	}
	if ((__u64)w->prev * (XLB_SW_WINDOW_NS - e) + ((__u64)w->cur + 1) * XLB_SW_WINDOW_NS >
	    (__u64)limit * XLB_SW_WINDOW_NS)
		return false;
	w->cur++;
	return true;
}

/*
 * How many tokens a CPU takes from a VIP's shared bucket at a time when the
 * caller leaves it to us: an eighth of the burst spread over the CPUs, so
 * tokens held idle in leases are at most burst / 8, and 1..XLB_RL_LEASE_MAX.
 */
static __always_inline __u32 xlb_rl_lease_auto(__u32 burst, __u32 ncpus)
{
	__u64 lease = (__u64)burst / (8 * (__u64)(ncpus ? ncpus : 1));

	if (lease < 1)
		return 1;
	return lease > XLB_RL_LEASE_MAX ? XLB_RL_LEASE_MAX : (__u32)lease;
}

#endif /* XLB_RATELIMIT_H */
