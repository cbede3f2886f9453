/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The xlbd API (docs/API.md) as a function: request in, response out. No
 * sockets here, so the handlers are tested directly.
 */
#ifndef XLB_API_H
#define XLB_API_H

#include <stddef.h>

#include "userspace/xlbd/daemon.h"

#define XLB_API_BODY_MAX (1 << 20)

struct xlb_api_response {
	int status;
	char *body; /* malloc()ed, NUL-terminated */
	const char *content_type;
};

/* method: "GET", "POST", ...; uri: path with optional ?query, percent-encoded. */
void xlb_api__handle(struct xlb_daemon *d, const char *method, const char *uri,
		     const char *body, size_t len, struct xlb_api_response *resp);
void xlb_api_response__free(struct xlb_api_response *resp);

#endif /* XLB_API_H */
