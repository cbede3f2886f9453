/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The table digest (table_digest.h): FNV-1a, 64 bits. Not for security:
 * it tells an operator whether two tables agree, and FNV-1a is short
 * enough to be reproduced by hand from its definition.
 */
#include <stdio.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/table_digest.h"

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

static __u64 fnv1a(__u64 h, const __u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

__u64 xlb_table_digest__begin(__u32 size)
{
	const __u8 be[4] = { size >> 24, size >> 16, size >> 8, size };

	return fnv1a(FNV64_OFFSET, be, sizeof(be));
}

__u64 xlb_table_digest__slot(__u64 d, __u8 family, const __be32 addr[4])
{
	d = fnv1a(d, &family, 1);
	/* addr is in network order already: its bytes are the address's */
	return fnv1a(d, (const __u8 *)addr, family == XLB_AF_INET ? 4 : 16);
}

const char *xlb_table_digest__format(__u64 d, char *buf)
{
	snprintf(buf, XLB_TABLE_DIGEST_STR, "%016llx", (unsigned long long)d);
	return buf;
}
