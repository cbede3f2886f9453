/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* One logging module: terse lines on stderr, filtered by level. */
#ifndef XLB_LOG_H
#define XLB_LOG_H

#include <stddef.h>

enum xlb_log_level {
	XLB_LOG_ERROR = 0,
	XLB_LOG_WARN,
	XLB_LOG_INFO,
	XLB_LOG_DEBUG,
};

void xlb_log_set_level(enum xlb_log_level level);
/* Parses "error|warn|info|debug"; -EINVAL for anything else. */
int xlb_log_parse_level(const char *name, enum xlb_log_level *out);
void xlb_log(enum xlb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Routes libbpf and libxdp messages here, one level lower than they claim. */
void xlb_log_capture_libs(void);
/*
 * Around a library call whose warnings are expected (libxdp probing its
 * dispatcher, which fails on some kernels before its fallback succeeds):
 * between hold and release libbpf's and libxdp's messages go to debug only.
 * release returns how many warnings were held and copies the first, without
 * its library prefix, into first (may be NULL), for the caller's own line.
 */
void xlb_log_libs_hold(void);
int xlb_log_libs_release(char *first, size_t len);

/* Formats an error for the caller's buffer (err may be NULL); returns ret. */
int xlb_err(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define pr_err(...) xlb_log(XLB_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) xlb_log(XLB_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xlb_log(XLB_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xlb_log(XLB_LOG_DEBUG, __VA_ARGS__)

#endif /* XLB_LOG_H */
