/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlbd's HTTP listeners on its libevent loop: the API on a Unix socket
 * (root:root 0600, or root:GROUP 0660 with --socket-group) and GET /metrics
 * on a TCP address. libevent does the HTTP. Every API request is checked
 * against the peer's credentials: root or a member of the socket group.
 */
#ifndef XLB_SERVER_H
#define XLB_SERVER_H

#include <stddef.h>
#include <sys/types.h>
#include <event2/event.h>

#include "userspace/xlbd/daemon.h"

/* Request line plus headers, on both listeners; more is answered 413. */
#define XLB_SERVER_HEADERS_MAX 8192

struct xlb_server;

/* A group name (or number) to its gid; -ENOENT with a message if unknown. */
int xlb_server__group(const char *name, gid_t *gid, char *err, size_t errlen);
/* sock_gid: the socket group, or (gid_t)-1 for root only. */
int xlb_server__start(struct event_base *base, struct xlb_daemon *d, const char *sock_path,
		      gid_t sock_gid, struct xlb_server **out, char *err, size_t errlen);
/* Starts the /metrics listener on host:port. */
int xlb_server__listen_metrics(struct xlb_server *s, const char *host, unsigned short port,
			       char *err, size_t errlen);
void xlb_server__stop(struct xlb_server *s);

#endif /* XLB_SERVER_H */
