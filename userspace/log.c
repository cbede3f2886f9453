/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "userspace/log.h"

static enum xlb_log_level log_level = XLB_LOG_INFO;

static const char *const level_names[] = {
	[XLB_LOG_ERROR] = "error",
	[XLB_LOG_WARN] = "warn",
	[XLB_LOG_INFO] = "info",
	[XLB_LOG_DEBUG] = "debug",
};

void xlb_log_set_level(enum xlb_log_level level)
{
	log_level = level;
}

int xlb_log_parse_level(const char *name, enum xlb_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(name, level_names[i])) {
			*out = (enum xlb_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void vlog(enum xlb_log_level level, const char *fmt, va_list ap)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	size_t len = strlen(fmt);

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s ", ts, now.tv_nsec / 1000000, level_names[level]);
	vfprintf(stderr, fmt, ap);
	if (!len || fmt[len - 1] != '\n')
		fputc('\n', stderr);
}

void xlb_log(enum xlb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings are mostly probes that fail on purpose. */
	vlog(level == LIBBPF_WARN ? XLB_LOG_INFO : XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	vlog(level == LIBXDP_WARN ? XLB_LOG_INFO : XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

void xlb_log_capture_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

int xlb_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}
