/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * VIP names ("198.18.1.100:80/tcp", "[2001:2::100]:53/udp") and addresses:
 * parsing with errors that name the problem, and canonical formatting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "userspace/lib/log.h"
#include "userspace/lib/vipaddr.h"

/* Longer input than this is not a VIP name; refuse before copying. */
#define XLB_VIP_INPUT_MAX 256

/* Every refusal here is -EINVAL with a message. */
#define fail(err, errlen, ...) xlb_err(err, errlen, -EINVAL, __VA_ARGS__)

/* Decimal port, no sign, no spaces. -EINVAL if not a number, -ERANGE if
 * above 65535.
 */
static int parse_port(const char *s, __u16 *port)
{
	unsigned long v = 0;
	size_t i;

	if (!*s)
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -ERANGE;
	*port = (__u16)v;
	return 0;
}

int xlb_addr__parse(const char *s, __u8 *family, __be32 addr[4])
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a4) == 1) {
		*family = XLB_AF_INET;
		addr[0] = a4.s_addr;
		addr[1] = addr[2] = addr[3] = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		*family = XLB_AF_INET6;
		memcpy(addr, &a6, sizeof(a6));
		return 0;
	}
	return -EINVAL;
}

void xlb_addr__format(__u8 family, const __be32 addr[4], char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!len)
		return;
	if (family == XLB_AF_INET)
		inet_ntop(AF_INET, &addr[0], tmp, sizeof(tmp));
	else if (family == XLB_AF_INET6)
		inet_ntop(AF_INET6, addr, tmp, sizeof(tmp));
	else
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(buf, len, "%s", tmp);
}

int xlb_vip_addr__parse(const char *s, struct xlb_vip_addr *out, char *err, size_t errlen)
{
	char buf[XLB_VIP_INPUT_MAX + 1];
	char *slash, *proto, *host, *port, *p;
	struct xlb_vip_addr v;
	struct in6_addr a6;
	struct in_addr a4;
	int ret;

	if (!s || !*s)
		return fail(err, errlen, "empty VIP name");
	if (strlen(s) > XLB_VIP_INPUT_MAX)
		return fail(err, errlen, "VIP name too long (%zu characters)", strlen(s));
	memset(&v, 0, sizeof(v));
	snprintf(buf, sizeof(buf), "%s", s);

	slash = strrchr(buf, '/');
	if (!slash)
		return fail(err, errlen,
			    "missing protocol in '%s' (expected ADDR:PORT/tcp or ADDR:PORT/udp)",
			    s);
	*slash = '\0';
	proto = slash + 1;
	if (!strcasecmp(proto, "tcp"))
		v.proto = IPPROTO_TCP;
	else if (!strcasecmp(proto, "udp"))
		v.proto = IPPROTO_UDP;
	else
		return fail(err, errlen, "unknown protocol '%s' in '%s' (expected tcp or udp)",
			    proto, s);

	if (buf[0] == '[') {
		host = buf + 1;
		p = strchr(host, ']');
		if (!p)
			return fail(err, errlen, "missing ']' in '%s'", s);
		*p++ = '\0';
		if (*p != ':')
			return fail(err, errlen,
				    "missing port in '%s' (expected [ADDR]:PORT/PROTO)", s);
		port = p + 1;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return fail(err, errlen, "bad IPv6 address '%s' in '%s'", host, s);
		v.family = XLB_AF_INET6;
		memcpy(v.addr, &a6, sizeof(a6));
	} else {
		host = buf;
		p = strrchr(buf, ':');
		if (!p)
			return fail(err, errlen, "missing port in '%s' (expected ADDR:PORT/PROTO)",
				    s);
		*p = '\0';
		port = p + 1;
		if (strchr(host, ':'))
			return fail(
			    err, errlen,
			    "IPv6 address must be in brackets in '%s' (e.g. [2001:2::100]:53/udp)",
			    s);
		if (inet_pton(AF_INET, host, &a4) != 1)
			return fail(err, errlen, "bad IPv4 address '%s' in '%s'", host, s);
		v.family = XLB_AF_INET;
		v.addr[0] = a4.s_addr;
	}

	ret = parse_port(port, &v.port);
	if (ret == -ERANGE)
		return fail(err, errlen, "port %s out of range in '%s' (0..65535)", port, s);
	if (ret)
		return fail(err, errlen, "%s port '%s' in '%s'", *port ? "bad" : "missing", port,
			    s);
	*out = v;
	return 0;
}

void xlb_vip_addr__format(const struct xlb_vip_addr *v, char *buf, size_t len)
{
	char a[XLB_ADDR_STR_MAX];
	const char *proto;

	proto = v->proto == IPPROTO_TCP ? "tcp" : v->proto == IPPROTO_UDP ? "udp" : "?";
	xlb_addr__format(v->family, v->addr, a, sizeof(a));
	if (v->family == XLB_AF_INET6)
		snprintf(buf, len, "[%s]:%u/%s", a, v->port, proto);
	else
		snprintf(buf, len, "%s:%u/%s", a, v->port, proto);
}

int xlb_vip_addr__cmp(const struct xlb_vip_addr *a, const struct xlb_vip_addr *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r)
		return r < 0 ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return 0;
}

static bool is_hostname(const char *s)
{
	size_t i;

	if (!*s || strlen(s) > 253)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return s[0] != '-' && s[0] != '.';
}

int xlb_hostport__parse(const char *s, char *host, size_t hostlen, __u16 *port, char *err,
			size_t errlen)
{
	char buf[XLB_VIP_INPUT_MAX + 1];
	struct in6_addr a6;
	char *h, *p;
	__u16 v;
	int ret;

	if (!s || !*s)
		return fail(err, errlen, "empty address (expected HOST:PORT)");
	if (strlen(s) > XLB_VIP_INPUT_MAX)
		return fail(err, errlen, "address too long (%zu characters)", strlen(s));
	snprintf(buf, sizeof(buf), "%s", s);

	if (buf[0] == '[') {
		h = buf + 1;
		p = strchr(h, ']');
		if (!p)
			return fail(err, errlen, "missing ']' in '%s'", s);
		*p++ = '\0';
		if (*p != ':')
			return fail(err, errlen, "missing port in '%s' (expected [ADDR]:PORT)", s);
		p++;
		if (inet_pton(AF_INET6, h, &a6) != 1)
			return fail(err, errlen, "bad IPv6 address '%s' in '%s'", h, s);
	} else {
		h = buf;
		p = strrchr(buf, ':');
		if (!p)
			return fail(err, errlen, "missing port in '%s' (expected HOST:PORT)", s);
		*p++ = '\0';
		if (strchr(h, ':'))
			return fail(err, errlen,
				    "IPv6 address must be in brackets in '%s' (e.g. [::1]:9642)",
				    s);
		if (!is_hostname(h))
			return fail(err, errlen, "bad host '%s' in '%s'", h, s);
	}

	ret = parse_port(p, &v);
	if (ret == -ERANGE || (!ret && v == 0))
		return fail(err, errlen, "port %s out of range in '%s' (1..65535)", p, s);
	if (ret)
		return fail(err, errlen, "%s port '%s' in '%s'", *p ? "bad" : "missing", p, s);
	if (strlen(h) >= hostlen)
		return fail(err, errlen, "host too long in '%s'", s);
	memcpy(host, h, strlen(h) + 1);
	*port = v;
	return 0;
}
