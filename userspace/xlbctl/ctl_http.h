/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlbctl's transport: one HTTP/1.1 request to xlbd over its Unix socket
 * (docs/API.md), with libcurl. The only place xlbctl touches libcurl.
 */
#ifndef XLB_CTL_HTTP_H
#define XLB_CTL_HTTP_H

#include <stddef.h>

#define CTL_HTTP_CONNECT_TIMEOUT_MS 2000
#define CTL_HTTP_TIMEOUT_MS 30000

struct ctl_http_resp {
	long status; /* HTTP status; 0 until xlbd answers */
	char *body;  /* NUL-terminated, malloc()ed; free with ctl_http_resp__free() */
	size_t len;
};

/*
 * Send METHOD http://xlb<path> to the socket at sock, with body (len bytes,
 * of content type ctype) when body is not NULL. Returns 0 when xlbd answered,
 * whatever the status; -EHOSTUNREACH when it could not be reached or did not
 * answer in time, with the reason in err ("No such file or directory").
 */
int ctl_http__request(const char *sock, const char *method, const char *path,
		      const char *body, size_t len, const char *ctype,
		      struct ctl_http_resp *resp, char *err, size_t errlen);

void ctl_http_resp__free(struct ctl_http_resp *resp);

/*
 * Percent-encode s for a path segment or query value (everything but
 * A-Z a-z 0-9 - . _ ~). Returns 0, or -ENAMETOOLONG if buf is too small.
 */
int ctl_http__escape(const char *s, char *buf, size_t len);

#endif /* XLB_CTL_HTTP_H */
