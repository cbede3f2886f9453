/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Announcing VIPs to the fleet's routers: xlbd keeps one host route per
 * ready VIP address in kernel table announce.table (route_table.h), and
 * the host's routing daemon exports that table over BGP. An address is
 * ready while the host is not drained, xlb's program is attached to an
 * interface that is up, the data path's tables are verified, and at least
 * one of the VIPs on that address has announce.min_healthy backends in its
 * table by their own health (not drained, not kept there by panic mode).
 * Nothing is withdrawn when xlbd stops: the data path keeps forwarding, so
 * the routes stay (docs/OPERATIONS.md, "Several xlb hosts").
 */
#ifndef XLB_ANNOUNCE_H
#define XLB_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "userspace/lib/config.h"

struct xlb_daemon;
struct xlb_announcer;

int xlb_announce__new(struct xlb_announcer **out);
void xlb_announce__free(struct xlb_announcer *a);

/*
 * Brings the table in line with what d makes ready: adds the routes of
 * ready addresses, removes xlb's other routes (a VIP that is gone, a table
 * that changed). Logs each address that changes state. 0, or -errno with a
 * message when the table could not be read or written at all (EPERM: no
 * CAP_NET_ADMIN); one address's failure only marks that address.
 */
int xlb_announce__sync(struct xlb_announcer *a, struct xlb_daemon *d, char *err, size_t errlen);

/* sync() on the daemon's tick and after each change: an error is logged
 * once, until it changes or goes away.
 */
void xlb_announce__tick(struct xlb_announcer *a, struct xlb_daemon *d);

/* GET /v1/announce: {"table":..,"drained":..,"addresses":[..]}, as of the last sync. */
json_t *xlb_announce__json(const struct xlb_announcer *a, const struct xlb_daemon *d);

/* Whether v's address was announced at the last sync. */
bool xlb_announce__vip_announced(const struct xlb_announcer *a, const struct xlb_config_vip *v);

#endif /* XLB_ANNOUNCE_H */
