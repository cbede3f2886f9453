/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlbd's HTTP listeners on its libevent loop: the API on a Unix socket
 * (mode 0600) and GET /metrics on a TCP address. libevent does the HTTP.
 */
#ifndef XLB_SERVER_H
#define XLB_SERVER_H

#include <stddef.h>
#include <event2/event.h>

#include "userspace/daemon.h"

struct xlb_server;

int xlb_server__start(struct event_base *base, struct xlb_daemon *d, const char *sock_path,
		      struct xlb_server **out, char *err, size_t errlen);
/* Starts the /metrics listener on host:port. */
int xlb_server__listen_metrics(struct xlb_server *s, const char *host, unsigned short port,
			       char *err, size_t errlen);
void xlb_server__stop(struct xlb_server *s);

#endif /* XLB_SERVER_H */
