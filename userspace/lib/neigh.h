/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend and next-hop MAC addresses from the kernel's routing and
 * neighbour tables (rtnetlink), so operators never type a MAC.
 *
 * Not a hot path: each call opens its own netlink socket and may block for
 * up to timeout_ms while the kernel runs ARP/ND (xlbd passes 0 and polls
 * from its event loop instead).
 */
#ifndef XLB_NEIGH_H
#define XLB_NEIGH_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Find the L2 destination for sending to addr (family AF_INET or AF_INET6,
 * network-order bytes, 4 or 16 of them) out of interface ifindex:
 *
 *  - the kernel's route to addr must leave through ifindex, else -ENETUNREACH
 *    (the message names the interface it would use); no route, a local
 *    address, a blackhole, unreachable or prohibit route: -ENETUNREACH too;
 *  - if that route has a gateway: with on_link_only (L2 direct server return
 *    needs the backend on the same segment) fail with -EHOSTUNREACH;
 *    otherwise resolve the gateway (IPIP forwarding sends to the next hop);
 *  - the neighbour entry on ifindex is used when valid (REACHABLE, STALE,
 *    DELAY, PROBE, PERMANENT, NOARP); otherwise the kernel is asked to start
 *    ARP/ND and the entry is polled until valid or timeout_ms has passed
 *    (-ETIMEDOUT). timeout_ms == 0 starts resolution without waiting for it,
 *    so an event loop can call again later.
 *
 * Writes the MAC into mac[6] on success only. Other errors: -EINVAL (bad
 * argument), -EOPNOTSUPP (interface without Ethernet addresses), -errno from
 * netlink. On error a message goes into err (if err != NULL).
 */
int xlb_neigh__resolve(int ifindex, int family, const void *addr, bool on_link_only, int timeout_ms,
		       __u8 mac[6], char *err, size_t errlen);

/* The interface's own MAC (the source MAC of forwarded frames). */
int xlb_neigh__if_mac(int ifindex, __u8 mac[6], char *err, size_t errlen);

#endif /* XLB_NEIGH_H */
