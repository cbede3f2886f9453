/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Weighted Maglev lookup table builder (pure logic, no I/O).
 *
 * The table is a function of the backend set only: the input order and the
 * ids do not change which address owns which entry, so two xlb hosts with
 * the same configuration send every flow to the same backend.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

struct xlb_maglev_backend {
	__u32 id;	/* value written into the table (the data path's backend id) */
	__u8 family;	/* XLB_AF_INET or XLB_AF_INET6 */
	__be32 addr[4]; /* IPv4 in addr[0], network byte order */
	__u16 weight;	/* 1..65535 */
};

bool xlb_maglev__is_prime(__u32 n);

/*
 * Fill table[0..size-1] with backend ids; each backend's share of the entries
 * is proportional to its weight. size must be prime, >= n and
 * <= XLB_MAGLEV_MAX_SIZE; 1 <= n <= XLB_MAX_BACKENDS_PER_VIP.
 *
 * Returns 0, -EINVAL (bad size, weight 0, unknown family, duplicate address,
 * n out of range, NULL argument) or -ENOMEM. On error table is untouched.
 */
int xlb_maglev__build(const struct xlb_maglev_backend *backends, size_t n, __u32 size,
		      __u32 *table);

#endif /* XLB_MAGLEV_H */
