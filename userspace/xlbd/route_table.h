/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlb's host routes in one kernel routing table: the announcement a routing
 * daemon (BIRD, FRR) exports to the fleet's routers. Every route written
 * here carries protocol XLB_RTPROT, and only routes with that protocol are
 * ever listed, replaced or deleted, so an operator's own routes in the same
 * table are left alone. Blocking rtnetlink calls; the table holds one route
 * per VIP address, so a call is cheap.
 */
#ifndef XLB_ROUTE_TABLE_H
#define XLB_ROUTE_TABLE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

/* xlb's route protocol number (rtm_protocol; `ip route ... proto 173`).
 * Not in iproute2's rt_protos list, so it is nobody else's.
 */
#define XLB_RTPROT 173

struct xlb_route {
	int family;	/* AF_INET or AF_INET6 */
	__u8 addr[16];	/* network order; 4 bytes used for AF_INET */
	int oif;	/* the interface the route names */
};

/* Every route of protocol XLB_RTPROT in table (host routes only). *out is
 * malloc()ed (NULL when none). 0 or -errno with a message.
 */
int xlb_route_table__list(__u32 table, struct xlb_route **out, size_t *n, char *err,
			  size_t errlen);

/*
 * Adds a host route (/32, /128) for r in table, scope link through r->oif.
 * replace: the route is known to be xlb's already (another oif): replaced.
 * Otherwise a route for the address that is not xlb's makes it fail with
 * -EEXIST rather than be overwritten. 0 or -errno with a message.
 */
int xlb_route_table__add(__u32 table, const struct xlb_route *r, bool replace, char *err,
			 size_t errlen);

/* Deletes xlb's host route for r's address from table (-ESRCH: none). */
int xlb_route_table__del(__u32 table, const struct xlb_route *r, char *err, size_t errlen);

#endif /* XLB_ROUTE_TABLE_H */
