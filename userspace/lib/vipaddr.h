/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * VIP names and addresses as operators write them.
 *
 *   VIP:      198.18.1.100:80/tcp   [2001:2::100]:53/udp   (port 0 = all ports)
 *   address:  198.18.0.11           2001:2::11
 *   host:port 127.0.0.1:9642        [::1]:9642   localhost:9642
 *
 * A VIP's canonical name is what xlb_vip_addr__format() prints: dotted quad
 * or RFC 5952 IPv6 text in brackets, decimal port, lower-case protocol.
 * Formatting a parsed name gives the canonical name, so two names denote the
 * same VIP exactly when their canonical names are equal.
 *
 * Families are enum xlb_family (XLB_AF_INET, XLB_AF_INET6, as in the maps),
 * not AF_*. An IPv4 address is stored in addr[0], the rest zeroed.
 * Pure logic: no I/O.
 */
#ifndef XLB_VIPADDR_H
#define XLB_VIPADDR_H

#include <stddef.h>
#include <linux/types.h>

#include "maps/xlb_maps.h"

/* "[" + 45-char IPv6 text + "]:" + 5-digit port + "/" + proto + NUL */
#define XLB_VIP_NAME_MAX 64
#define XLB_ADDR_STR_MAX 46 /* INET6_ADDRSTRLEN */

struct xlb_vip_addr {
	__u8 family; /* enum xlb_family */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 port;  /* host order; 0 = all ports */
	__be32 addr[4];
};

/*
 * Parse a VIP name. Returns 0, or -EINVAL with a message naming the problem
 * in err (e.g. "port 70000 out of range in '198.18.1.100:70000/tcp'").
 * err may be NULL.
 */
int xlb_vip_addr__parse(const char *s, struct xlb_vip_addr *out, char *err, size_t errlen);

/* Canonical name into buf (XLB_VIP_NAME_MAX is always enough). */
void xlb_vip_addr__format(const struct xlb_vip_addr *v, char *buf, size_t len);

/* Total order (family, address, port, protocol); 0 when the same VIP. */
int xlb_vip_addr__cmp(const struct xlb_vip_addr *a, const struct xlb_vip_addr *b);

/*
 * Parse a bare IPv4 or IPv6 address (no brackets, no port). Returns 0 or
 * -EINVAL. On success *family is XLB_AF_INET or XLB_AF_INET6.
 */
int xlb_addr__parse(const char *s, __u8 *family, __be32 addr[4]);

/* Canonical text of an address into buf (XLB_ADDR_STR_MAX is enough). */
void xlb_addr__format(__u8 family, const __be32 addr[4], char *buf, size_t len);

/*
 * Parse "host:port" for a listening socket: host is an IPv4 address, an IPv6
 * address in brackets, or a host name; port is 1..65535. host receives the
 * host without brackets. Returns 0 or -EINVAL with a message in err.
 */
int xlb_hostport__parse(const char *s, char *host, size_t hostlen, __u16 *port, char *err,
			size_t errlen);

#endif /* XLB_VIPADDR_H */
