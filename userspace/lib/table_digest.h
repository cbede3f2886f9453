/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A digest of a VIP's lookup table as the fleet sees it (pure logic, no I/O):
 * the backend address in each slot, not the backend id the data path
 * stores there, which differs between hosts with the same backends (ids
 * follow each host's history). Two hosts whose digests of a VIP are equal
 * send every new flow of that VIP to the same backend.
 *
 * 64-bit FNV-1a over the table size (4 bytes, most significant first), then
 * per slot the backend's family (1 byte: 4 or 6) and address (4 or 16
 * bytes, network order), shown as 16 hex digits. Operators compare digests
 * across hosts and xlb versions, so this definition is part of the fleet
 * contract (tests/test_golden.c pins it).
 */
#ifndef XLB_TABLE_DIGEST_H
#define XLB_TABLE_DIGEST_H

#include <linux/types.h>

#define XLB_TABLE_DIGEST_STR 17 /* 16 hex digits and a NUL */

/* A digest of a table of size slots, before its first slot. */
__u64 xlb_table_digest__begin(__u32 size);
/* d with the next slot added: the backend (family 4 or 6) it holds. */
__u64 xlb_table_digest__slot(__u64 d, __u8 family, const __be32 addr[4]);
/* buf: XLB_TABLE_DIGEST_STR bytes. Returns buf. */
const char *xlb_table_digest__format(__u64 d, char *buf);

#endif /* XLB_TABLE_DIGEST_H */
