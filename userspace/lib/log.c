/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "userspace/lib/log.h"

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

/* Library warnings held by xlb_log_libs_hold(): their count and the first. */
static struct {
	bool on;
	int n;
	char first[256];
} held;

/* A library warning: debug while held (remembering the first), else info. */
static void lib_warn(const char *fmt, va_list ap)
{
	va_list copy;
	size_t len;

	if (!held.on) {
		vlog(XLB_LOG_INFO, fmt, ap);
		return;
	}
	if (!held.n++) {
		va_copy(copy, ap);
		vsnprintf(held.first, sizeof(held.first), fmt, copy);
		va_end(copy);
		len = strlen(held.first);
		while (len && held.first[len - 1] == '\n')
			held.first[--len] = '\0';
	}
	vlog(XLB_LOG_DEBUG, fmt, ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings are mostly probes that fail on purpose. */
	if (level == LIBBPF_WARN)
		lib_warn(fmt, ap);
	else
		vlog(XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_WARN)
		lib_warn(fmt, ap);
	else
		vlog(XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

void xlb_log_libs_hold(void)
{
	held.on = true;
	held.n = 0;
	held.first[0] = '\0';
}

int xlb_log_libs_release(char *first, size_t len)
{
	const char *text = held.first;

	held.on = false;
	if (!strncmp(text, "libbpf: ", 8) || !strncmp(text, "libxdp: ", 8))
		text += 8;
	if (first && len)
		snprintf(first, len, "%s", text);
	return held.n;
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
