/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Unit tests of the configuration model and the VIP notation: the full
 * example loads with every field right, defaults, round trips through YAML
 * and through the atomic state-file writer, and each bad file fails with a
 * message naming the field and its line. Run from the repository root (data
 * files are under tests/data/config/).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/config_edit.h"
#include "userspace/lib/config.h"
#include "userspace/lib/plan.h"
#include "userspace/lib/vipaddr.h"

#define DATA "tests/data/config/"

static char err[1024];

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

static struct xlb_config *load_ok(const char *path)
{
	struct xlb_config *cfg = NULL;
	int ret;

	ret = xlb_config__load_file(path, &cfg, err, sizeof(err));
	if (ret)
		fail_msg("%s: %d: %s", path, ret, err);
	assert_non_null(cfg);
	return cfg;
}

static struct xlb_config *load_str_ok(const char *text)
{
	struct xlb_config *cfg = NULL;
	int ret;

	ret = xlb_config__load_string(text, strlen(text), &cfg, err, sizeof(err));
	if (ret)
		fail_msg("%d: %s\n%s", ret, err, text);
	assert_non_null(cfg);
	return cfg;
}

/* Loading text must fail; returns the message. */
static const char *load_str_bad(const char *text)
{
	struct xlb_config *cfg = (struct xlb_config *)0x1;
	int ret;

	err[0] = '\0';
	ret = xlb_config__load_string(text, strlen(text), &cfg, err, sizeof(err));
	if (!ret)
		fail_msg("loaded, but should not have:\n%s", text);
	assert_int_equal(ret, -EINVAL);
	assert_ptr_equal(cfg, (struct xlb_config *)0x1); /* untouched */
	assert_true(strlen(err) > 0);
	return err;
}

static __be32 ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void ip6(const char *s, __be32 out[4])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

/* ---- VIP notation ---------------------------------------------------- */

static void test_vip_parse_good(void **state)
{
	static const struct {
		const char *in, *canon;
		__u8 family;
		__u16 port;
		__u8 proto;
	} cases[] = {
	    {"198.18.1.100:80/tcp", "198.18.1.100:80/tcp", XLB_AF_INET, 80, IPPROTO_TCP},
	    {"[2001:2::100]:53/udp", "[2001:2::100]:53/udp", XLB_AF_INET6, 53, IPPROTO_UDP},
	    {"[2001:2:0:0::100]:053/UDP", "[2001:2::100]:53/udp", XLB_AF_INET6, 53, IPPROTO_UDP},
	    {"[2001:0002:0000:0000:0000:0000:0000:0100]:53/Udp", "[2001:2::100]:53/udp",
	     XLB_AF_INET6, 53, IPPROTO_UDP},
	    {"198.18.1.100:0/tcp", "198.18.1.100:0/tcp", XLB_AF_INET, 0, IPPROTO_TCP},
	    {"0.0.0.0:65535/udp", "0.0.0.0:65535/udp", XLB_AF_INET, 65535, IPPROTO_UDP},
	    {"[::]:0/tcp", "[::]:0/tcp", XLB_AF_INET6, 0, IPPROTO_TCP},
	    {"[::ffff:198.18.1.1]:80/tcp", "[::ffff:198.18.1.1]:80/tcp", XLB_AF_INET6, 80,
	     IPPROTO_TCP},
	};
	char buf[XLB_VIP_NAME_MAX], buf2[XLB_VIP_NAME_MAX];
	struct xlb_vip_addr v, w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&v, 0xaa, sizeof(v));
		if (xlb_vip_addr__parse(cases[i].in, &v, err, sizeof(err)))
			fail_msg("%s: %s", cases[i].in, err);
		assert_int_equal(v.family, cases[i].family);
		assert_int_equal(v.port, cases[i].port);
		assert_int_equal(v.proto, cases[i].proto);
		xlb_vip_addr__format(&v, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].canon);

		/* the canonical name parses to the same VIP and formats the same */
		assert_int_equal(xlb_vip_addr__parse(buf, &w, NULL, 0), 0);
		assert_int_equal(xlb_vip_addr__cmp(&v, &w), 0);
		xlb_vip_addr__format(&w, buf2, sizeof(buf2));
		assert_string_equal(buf2, buf);
	}

	/* address bytes, network order, IPv4 in addr[0] and the rest zero */
	assert_int_equal(xlb_vip_addr__parse("198.18.1.100:80/tcp", &v, NULL, 0), 0);
	assert_int_equal(v.addr[0], ip4("198.18.1.100"));
	assert_int_equal(v.addr[1] | v.addr[2] | v.addr[3], 0);
	assert_int_equal(xlb_vip_addr__parse("[2001:2::100]:53/udp", &v, NULL, 0), 0);
	ip6("2001:2::100", w.addr);
	assert_memory_equal(v.addr, w.addr, 16);
}

static void test_vip_parse_bad(void **state)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
	    {"198.18.1.100:70000/tcp", "port 70000 out of range in '198.18.1.100:70000/tcp'"},
	    {"198.18.1.100:99999999999999999999/tcp", "out of range"},
	    {"198.18.1.100:80/sctp", "unknown protocol 'sctp'"},
	    {"198.18.1.100:80/", "unknown protocol ''"},
	    {"2001:2::100:53/udp", "IPv6 address must be in brackets"},
	    {"2001:2::100/udp", "IPv6 address must be in brackets"},
	    {"198.18.1.100:80", "missing protocol"},
	    {"198.18.1.100/tcp", "missing port"},
	    {"198.18.1.100:/tcp", "missing port"},
	    {"198.18.1.100:8o/tcp", "bad port '8o'"},
	    {"198.18.1.100:-1/tcp", "bad port '-1'"},
	    {"198.18.1.100:+80/tcp", "bad port '+80'"},
	    {"198.18.1.300:80/tcp", "bad IPv4 address '198.18.1.300'"},
	    {" 198.18.1.100:80/tcp", "bad IPv4 address"},
	    {"example.com:80/tcp", "bad IPv4 address 'example.com'"},
	    {"[2001:2::100:53/udp", "missing ']'"},
	    {"[2001:2::zz]:53/udp", "bad IPv6 address '2001:2::zz'"},
	    {"[198.18.1.1]:53/udp", "bad IPv6 address '198.18.1.1'"},
	    {"[2001:2::1]53/udp", "missing port"},
	    {"[2001:2::1]/udp", "missing port"},
	    {"", "empty VIP name"},
	};
	struct xlb_vip_addr v, before;
	char longname[400];
	size_t i;

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = before;
		err[0] = '\0';
		if (!xlb_vip_addr__parse(cases[i].in, &v, err, sizeof(err)))
			fail_msg("'%s' parsed", cases[i].in);
		assert_contains(err, cases[i].msg);
		assert_memory_equal(&v, &before, sizeof(v)); /* untouched */
		/* err may be NULL */
		assert_int_equal(xlb_vip_addr__parse(cases[i].in, &v, NULL, 0), -EINVAL);
	}
	assert_int_equal(xlb_vip_addr__parse(NULL, &v, err, sizeof(err)), -EINVAL);
	memset(longname, '1', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(xlb_vip_addr__parse(longname, &v, err, sizeof(err)), -EINVAL);
	assert_contains(err, "too long");
}

static void test_vip_cmp(void **state)
{
	struct xlb_vip_addr a, b;

	(void)state;
	assert_int_equal(xlb_vip_addr__parse("198.18.1.100:80/tcp", &a, NULL, 0), 0);
	assert_int_equal(xlb_vip_addr__parse("198.18.1.100:80/udp", &b, NULL, 0), 0);
	assert_true(xlb_vip_addr__cmp(&a, &b) != 0);
	assert_int_equal(xlb_vip_addr__cmp(&a, &b), -xlb_vip_addr__cmp(&b, &a));
	assert_int_equal(xlb_vip_addr__parse("198.18.1.100:81/tcp", &b, NULL, 0), 0);
	assert_true(xlb_vip_addr__cmp(&a, &b) < 0);
	assert_int_equal(xlb_vip_addr__parse("[::c612:164]:80/tcp", &b, NULL, 0), 0);
	assert_true(xlb_vip_addr__cmp(&a, &b) < 0); /* IPv4 sorts first */
	assert_int_equal(xlb_vip_addr__parse("198.18.1.100:080/TCP", &b, NULL, 0), 0);
	assert_int_equal(xlb_vip_addr__cmp(&a, &b), 0);
}

static void test_addr(void **state)
{
	static const struct {
		const char *in, *canon;
		__u8 family;
	} good[] = {
	    {"198.18.0.11", "198.18.0.11", XLB_AF_INET},
	    {"2001:2::11", "2001:2::11", XLB_AF_INET6},
	    {"2001:0002:0:0:0:0:0:0011", "2001:2::11", XLB_AF_INET6},
	    {"2001:2::AB", "2001:2::ab", XLB_AF_INET6},
	    {"::", "::", XLB_AF_INET6},
	};
	static const char *const bad[] = {
	    "",
	    "198.18.0",
	    "198.18.0.256",
	    "[2001:2::11]",
	    "198.18.0.1:80",
	    "2001:2::11/64",
	    "fe80::1%eth0",
	    "host.example",
	    " 198.18.0.1",
	};
	char buf[XLB_ADDR_STR_MAX];
	__be32 addr[4], want[4];
	__u8 family;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(addr, 0xff, sizeof(addr));
		assert_int_equal(xlb_addr__parse(good[i].in, &family, addr), 0);
		assert_int_equal(family, good[i].family);
		xlb_addr__format(family, addr, buf, sizeof(buf));
		assert_string_equal(buf, good[i].canon);
	}
	assert_int_equal(xlb_addr__parse("198.18.0.11", &family, addr), 0);
	assert_int_equal(addr[0], ip4("198.18.0.11"));
	assert_int_equal(addr[1] | addr[2] | addr[3], 0);
	assert_int_equal(xlb_addr__parse("2001:2::11", &family, addr), 0);
	ip6("2001:2::11", want);
	assert_memory_equal(addr, want, sizeof(want));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xlb_addr__parse(bad[i], &family, addr) != -EINVAL)
			fail_msg("'%s' parsed as an address", bad[i]);
	assert_int_equal(xlb_addr__parse(NULL, &family, addr), -EINVAL);
}

static void test_hostport(void **state)
{
	static const struct {
		const char *in, *host;
		__u16 port;
	} good[] = {
	    {"127.0.0.1:9642", "127.0.0.1", 9642},
	    {"[::1]:9642", "::1", 9642},
	    {"localhost:80", "localhost", 80},
	    {"metrics.example-1.net:65535", "metrics.example-1.net", 65535},
	    {"0.0.0.0:1", "0.0.0.0", 1},
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
	    {"127.0.0.1", "missing port"},
	    {"9642", "missing port"},
	    {":9642", "bad host ''"},
	    {"::1:9642", "IPv6 address must be in brackets"},
	    {"[::1]9642", "missing port"},
	    {"[::zz]:9642", "bad IPv6 address"},
	    {"127.0.0.1:0", "port 0 out of range"},
	    {"127.0.0.1:65536", "port 65536 out of range"},
	    {"127.0.0.1:http", "bad port 'http'"},
	    {"bad_host:80", "bad host 'bad_host'"},
	    {"", "empty"},
	};
	char host[64];
	__u16 port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (xlb_hostport__parse(good[i].in, host, sizeof(host), &port, err, sizeof(err)))
			fail_msg("%s: %s", good[i].in, err);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = 7;
		err[0] = '\0';
		if (!xlb_hostport__parse(bad[i].in, host, sizeof(host), &port, err, sizeof(err)))
			fail_msg("'%s' parsed", bad[i].in);
		assert_contains(err, bad[i].msg);
		assert_int_equal(port, 7);
	}
	/* host buffer too small */
	assert_int_equal(xlb_hostport__parse("localhost:80", host, 4, &port, err, sizeof(err)),
			 -EINVAL);
}

/* ---- the full example ------------------------------------------------ */

static void assert_backend(const struct xlb_config_backend *b, const char *addr, __u32 weight,
			   bool drain)
{
	__be32 want[4] = {0};
	__u8 family;

	assert_string_equal(b->address, addr);
	assert_int_equal(b->weight, weight);
	assert_int_equal(b->drain, drain);
	assert_int_equal(xlb_addr__parse(addr, &family, want), 0);
	assert_int_equal(b->family, family);
	assert_memory_equal(b->addr, want, sizeof(want));
}

static void test_load_full(void **state)
{
	const struct xlb_config_health_check *hc;
	const struct xlb_config_circuit_breaker *cb;
	const struct xlb_config_vip *v;
	struct xlb_config *cfg;
	struct xlb_vip_addr a;

	(void)state;
	cfg = load_ok(DATA "good-full.yaml");

	assert_int_equal(cfg->n_interfaces, 2);
	assert_string_equal(cfg->interfaces[0].name, "eth0");
	assert_int_equal(cfg->interfaces[0].mode, XLB_CONFIG_XDP_NATIVE);
	assert_string_equal(cfg->interfaces[1].name, "eth1");
	assert_int_equal(cfg->interfaces[1].mode, XLB_CONFIG_XDP_GENERIC);
	assert_string_equal(cfg->metrics.listen, "127.0.0.1:9642");
	assert_string_equal(cfg->metrics.host, "127.0.0.1");
	assert_int_equal(cfg->metrics.port, 9642);
	assert_int_equal(cfg->n_vips, 4);

	/* vips[0]: the documented example, its keys written out */
	v = &cfg->vips[0];
	assert_string_equal(v->vip, "198.18.1.100:80/tcp");
	assert_int_equal(v->addr.family, XLB_AF_INET);
	assert_int_equal(v->addr.addr[0], ip4("198.18.1.100"));
	assert_int_equal(v->addr.port, 80);
	assert_int_equal(v->addr.proto, IPPROTO_TCP);
	assert_int_equal(v->algorithm, XLB_CONFIG_ALGO_MAGLEV);
	assert_int_equal(v->forward, XLB_FWD_L2DSR);
	assert_int_equal(v->table_size, 65537);
	assert_false(v->stateless);
	assert_int_equal(v->rate_limit.pps, 0);
	assert_int_equal(v->rate_limit.burst, 0);
	assert_int_equal(v->rate_limit.source_new_flows, 0);
	assert_int_equal(v->rate_limit.source_burst, 0);
	hc = &v->health_check;
	assert_int_equal(hc->type, XLB_CONFIG_HC_HTTP);
	assert_int_equal(hc->port, 80);
	assert_string_equal(hc->path, "/");
	assert_string_equal(hc->expect, "200-399");
	assert_int_equal(hc->expect_lo, 200);
	assert_int_equal(hc->expect_hi, 399);
	assert_int_equal(hc->interval_ms, 1000);
	assert_int_equal(hc->timeout_ms, 500);
	assert_int_equal(hc->rise, 2);
	assert_int_equal(hc->fall, 3);
	cb = &v->circuit_breaker;
	assert_int_equal(cb->base_ejection_ms, 5000);
	assert_int_equal(cb->max_ejection_ms, 300000);
	assert_int_equal(cb->max_ejection_percent, 50);
	assert_int_equal(cb->slow_start_ms, 10000);
	assert_int_equal(v->n_backends, 3);
	assert_backend(&v->backends[0], "198.18.0.11", 100, false);
	assert_backend(&v->backends[1], "198.18.0.12", 200, false);
	assert_backend(&v->backends[2], "198.18.0.13", 50, true);

	/* IPv6, written non-canonically */
	v = &cfg->vips[1];
	assert_string_equal(v->vip, "[2001:2::100]:53/udp");
	assert_int_equal(v->addr.family, XLB_AF_INET6);
	assert_int_equal(v->addr.port, 53);
	assert_int_equal(v->addr.proto, IPPROTO_UDP);
	assert_int_equal(v->algorithm, XLB_CONFIG_ALGO_SOURCE_HASH);
	assert_int_equal(v->forward, XLB_FWD_IPIP);
	assert_int_equal(v->table_size, 251);
	assert_true(v->stateless);
	assert_int_equal(v->rate_limit.pps, 100000);
	assert_int_equal(v->rate_limit.burst, 20000);
	assert_int_equal(v->rate_limit.source_new_flows, 50);
	assert_int_equal(v->rate_limit.source_burst, 50); /* one second's worth */
	hc = &v->health_check;
	assert_int_equal(hc->type, XLB_CONFIG_HC_UDP);
	assert_int_equal(hc->port, 53); /* the VIP's */
	assert_int_equal(hc->interval_ms, 2000);
	assert_int_equal(hc->timeout_ms, 1500);
	assert_int_equal(hc->rise, 1);
	assert_int_equal(hc->fall, 5);
	cb = &v->circuit_breaker;
	assert_int_equal(cb->base_ejection_ms, 1000);
	assert_int_equal(cb->max_ejection_ms, 60000);
	assert_int_equal(cb->max_ejection_percent, 100);
	assert_int_equal(cb->slow_start_ms, 0);
	assert_int_equal(v->n_backends, 2);
	assert_backend(&v->backends[0], "2001:2::11", 1, false);
	assert_backend(&v->backends[1], "2001:2::12", 65535, false);

	/* all ports, IPv6 backend of an IPv4 VIP over ipip */
	v = &cfg->vips[2];
	assert_string_equal(v->vip, "198.18.1.101:0/tcp");
	assert_int_equal(v->addr.port, 0);
	assert_int_equal(v->algorithm, XLB_CONFIG_ALGO_WRR);
	assert_int_equal(v->forward, XLB_FWD_IPIP);
	assert_int_equal(v->health_check.type, XLB_CONFIG_HC_TCP);
	assert_int_equal(v->health_check.port, 8080);
	assert_int_equal(v->n_backends, 2);
	assert_backend(&v->backends[0], "198.18.0.21", 100, false);
	assert_backend(&v->backends[1], "2001:2::21", 10, false);

	v = &cfg->vips[3];
	assert_string_equal(v->vip, "198.18.1.102:443/tcp");
	assert_int_equal(v->algorithm, XLB_CONFIG_ALGO_LC);
	assert_int_equal(v->n_backends, 0);

	assert_int_equal(xlb_vip_addr__parse("[2001:2::100]:53/udp", &a, NULL, 0), 0);
	assert_ptr_equal(xlb_config__find_vip(cfg, &a), &cfg->vips[1]);
	assert_int_equal(xlb_vip_addr__parse("[2001:2::100]:53/tcp", &a, NULL, 0), 0);
	assert_null(xlb_config__find_vip(cfg, &a));
	xlb_config__free(cfg);
}

static void test_defaults(void **state)
{
	const struct xlb_config_health_check *hc;
	const struct xlb_config_circuit_breaker *cb;
	const struct xlb_config_vip *v;
	struct xlb_config *cfg;

	(void)state;
	cfg = load_str_ok("vips:\n"
			  "  - vip: 198.18.1.100:80/tcp\n"
			  "    backends:\n"
			  "      - address: 198.18.0.11\n");
	assert_int_equal(cfg->n_interfaces, 0);
	assert_string_equal(cfg->metrics.listen, XLB_CONFIG_METRICS_DEFAULT);
	assert_string_equal(cfg->metrics.host, "127.0.0.1");
	assert_int_equal(cfg->metrics.port, 9642);
	assert_int_equal(cfg->n_vips, 1);
	v = &cfg->vips[0];
	assert_int_equal(v->algorithm, XLB_CONFIG_ALGO_MAGLEV);
	assert_int_equal(v->forward, XLB_FWD_IPIP);
	assert_int_equal(v->table_size, XLB_MAGLEV_DEFAULT_SIZE);
	assert_int_equal(v->rate_limit.pps, 0);
	assert_int_equal(v->rate_limit.burst, 0);
	assert_int_equal(v->rate_limit.source_new_flows, 0);
	assert_int_equal(v->rate_limit.source_burst, 0);
	hc = &v->health_check;
	assert_int_equal(hc->type, XLB_CONFIG_HC_NONE);
	assert_int_equal(hc->port, 80);
	assert_string_equal(hc->path, "/");
	assert_string_equal(hc->expect, "200-399");
	assert_int_equal(hc->expect_lo, 200);
	assert_int_equal(hc->expect_hi, 399);
	assert_int_equal(hc->interval_ms, 1000);
	assert_int_equal(hc->timeout_ms, 500);
	assert_int_equal(hc->rise, 2);
	assert_int_equal(hc->fall, 3);
	assert_int_equal(hc->jitter_percent, 10);
	assert_null(hc->payload_hex);
	assert_null(hc->response_hex);
	cb = &v->circuit_breaker;
	assert_int_equal(cb->base_ejection_ms, 5000);
	assert_int_equal(cb->max_ejection_ms, 300000);
	assert_int_equal(cb->max_ejection_percent, 50);
	assert_int_equal(cb->slow_start_ms, 10000);
	assert_int_equal(v->n_backends, 1);
	assert_backend(&v->backends[0], "198.18.0.11", 100, false);
	xlb_config__free(cfg);

	/* defaults that follow what was given */
	cfg = load_str_ok("interfaces: [{name: eth0}]\n"
			  "vips:\n"
			  "  - vip: '[2001:2::1]:443/tcp'\n"
			  "    rate_limit: {pps: 1000, source_new_flows: 10, source_burst: 30}\n"
			  "    health_check: {type: http, interval_ms: 300, expect: 204}\n"
			  "    circuit_breaker: {base_ejection_ms: 600000}\n"
			  "    backends: [{address: '2001:2::11', drain: yes},\n"
			  "               {address: '2001:2::12', drain: Off}]\n");
	assert_int_equal(cfg->interfaces[0].mode, XLB_CONFIG_XDP_NATIVE);
	v = &cfg->vips[0];
	assert_int_equal(v->rate_limit.burst, 1000);
	assert_int_equal(v->rate_limit.source_burst, 30);
	assert_int_equal(v->health_check.port, 443);
	assert_int_equal(v->health_check.timeout_ms, 150); /* half an interval below 500 */
	assert_string_equal(v->health_check.expect, "204");
	assert_int_equal(v->health_check.expect_lo, 204);
	assert_int_equal(v->health_check.expect_hi, 204);
	assert_int_equal(v->circuit_breaker.max_ejection_ms, 600000);
	assert_true(v->backends[0].drain);
	assert_false(v->backends[1].drain);
	xlb_config__free(cfg);

	/* empty sets are fine when written as such */
	cfg = load_str_ok("{}");
	assert_int_equal(cfg->n_vips, 0);
	assert_int_equal(cfg->n_interfaces, 0);
	assert_string_equal(cfg->metrics.listen, XLB_CONFIG_METRICS_DEFAULT);
	xlb_config__free(cfg);
	cfg = load_str_ok("vips: []\n");
	assert_int_equal(cfg->n_vips, 0);
	xlb_config__free(cfg);
}

/* ---- round trips ----------------------------------------------------- */

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void assert_config_equal(const struct xlb_config *a, const struct xlb_config *b)
{
	unsigned int i, j;

	assert_int_equal(a->n_interfaces, b->n_interfaces);
	for (i = 0; i < a->n_interfaces; i++) {
		assert_string_equal(a->interfaces[i].name, b->interfaces[i].name);
		assert_int_equal(a->interfaces[i].mode, b->interfaces[i].mode);
		assert_int_equal(a->interfaces[i].mtu, b->interfaces[i].mtu);
	}
	assert_string_equal(a->metrics.listen, b->metrics.listen);
	assert_string_equal(a->metrics.host, b->metrics.host);
	assert_int_equal(a->metrics.port, b->metrics.port);
	assert_int_equal(a->conntrack.flood_guard_new_flows_per_cpu,
			 b->conntrack.flood_guard_new_flows_per_cpu);
	assert_int_equal(a->announce.table, b->announce.table);
	assert_int_equal(a->announce.min_healthy, b->announce.min_healthy);
	assert_int_equal(a->announce.drained, b->announce.drained);
	assert_int_equal(a->n_vips, b->n_vips);
	for (i = 0; i < a->n_vips; i++) {
		const struct xlb_config_vip *x = &a->vips[i], *y = &b->vips[i];
		const struct xlb_config_health_check *hx = &x->health_check, *hy = &y->health_check;

		assert_string_equal(x->vip, y->vip);
		assert_int_equal(xlb_vip_addr__cmp(&x->addr, &y->addr), 0);
		assert_int_equal(x->algorithm, y->algorithm);
		assert_int_equal(x->forward, y->forward);
		assert_int_equal(x->table_size, y->table_size);
		assert_int_equal(x->stateless, y->stateless);
		assert_memory_equal(&x->rate_limit, &y->rate_limit, sizeof(x->rate_limit));
		assert_memory_equal(&x->circuit_breaker, &y->circuit_breaker,
				    sizeof(x->circuit_breaker));
		assert_int_equal(hx->type, hy->type);
		assert_int_equal(hx->port, hy->port);
		assert_string_equal(hx->path, hy->path);
		assert_string_equal(hx->expect, hy->expect);
		assert_true(str_same(hx->host, hy->host));
		assert_int_equal(hx->expect_lo, hy->expect_lo);
		assert_int_equal(hx->expect_hi, hy->expect_hi);
		assert_int_equal(hx->interval_ms, hy->interval_ms);
		assert_int_equal(hx->timeout_ms, hy->timeout_ms);
		assert_int_equal(hx->rise, hy->rise);
		assert_int_equal(hx->fall, hy->fall);
		assert_int_equal(hx->jitter_percent, hy->jitter_percent);
		assert_true(str_same(hx->payload_hex, hy->payload_hex));
		assert_true(str_same(hx->response_hex, hy->response_hex));
		assert_int_equal(x->n_backends, y->n_backends);
		for (j = 0; j < x->n_backends; j++) {
			const struct xlb_config_backend *p = &x->backends[j], *q = &y->backends[j];

			assert_string_equal(p->address, q->address);
			assert_int_equal(p->weight, q->weight);
			assert_int_equal(p->drain, q->drain);
			assert_int_equal(p->family, q->family);
			assert_memory_equal(p->addr, q->addr, sizeof(p->addr));
		}
	}
}

static void test_round_trip(void **state)
{
	struct xlb_config *a, *b;
	char *text, *text2;

	(void)state;
	a = load_ok(DATA "good-full.yaml");
	assert_int_equal(xlb_config__to_string(a, &text), 0);
	b = load_str_ok(text);
	assert_config_equal(a, b);
	/* and the text is a fixed point */
	assert_int_equal(xlb_config__to_string(b, &text2), 0);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
	xlb_config__free(b);

	/* a deep copy is equal and independent */
	assert_int_equal(xlb_config__dup(a, &b), 0);
	assert_config_equal(a, b);
	assert_ptr_not_equal(a->vips[0].backends, b->vips[0].backends);
	assert_ptr_not_equal(a->vips[0].vip, b->vips[0].vip);
	b->vips[0].backends[0].weight = 7;
	assert_int_equal(a->vips[0].backends[0].weight, 100);
	xlb_config__free(b);
	xlb_config__free(a);

	/* an empty configuration too */
	a = load_str_ok("vips: []");
	assert_int_equal(xlb_config__to_string(a, &text), 0);
	b = load_str_ok(text);
	assert_config_equal(a, b);
	free(text);
	xlb_config__free(a);
	xlb_config__free(b);
}

/* JSON is YAML: the API's bodies load through the same schema. */
static void test_json(void **state)
{
	struct xlb_config *cfg;
	const char *msg;

	(void)state;
	cfg = load_str_ok("{\"vips\": [{\"vip\": \"[2001:2::100]:80/tcp\", \"algorithm\": \"rr\","
			  " \"health_check\": {\"type\": \"tcp\", \"rise\": 4},"
			  " \"backends\": [{\"address\": \"2001:2::11\", \"weight\": 3,"
			  " \"drain\": true}]}]}");
	assert_int_equal(cfg->n_vips, 1);
	assert_int_equal(cfg->vips[0].algorithm, XLB_CONFIG_ALGO_RR);
	assert_int_equal(cfg->vips[0].health_check.rise, 4);
	assert_int_equal(cfg->vips[0].backends[0].weight, 3);
	assert_true(cfg->vips[0].backends[0].drain);
	xlb_config__free(cfg);

	msg = load_str_bad("{\"vips\": [{\"vip\": \"198.18.1.100:80/tcp\",\n"
			   " \"backends\": [{\"address\": \"198.18.0.11\",\n"
			   "   \"weight\": 0}]}]}");
	assert_contains(msg, "line 3: vips[0] (198.18.1.100:80/tcp): "
			     "backends[0].weight 0 out of range 1..65535");
	msg = load_str_bad("{\"vips\": [{\"vip\": \"198.18.1.100:80/tcp\"}");
	assert_contains(msg, "line ");
	assert_contains(msg, "malformed YAML");
}

static void test_save_file(void **state)
{
	char dir[] = "/tmp/xlb-test-config-XXXXXX", path[128], *text;
	struct xlb_config *a, *b;
	struct dirent *de;
	struct stat st;
	int files = 0;
	DIR *d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.yaml", dir);

	a = load_ok(DATA "good-full.yaml");
	if (xlb_config__save_file(a, path, err, sizeof(err)))
		fail_msg("%s", err);
	b = load_ok(path);
	assert_config_equal(a, b);
	xlb_config__free(b);

	/* what is written is what to_string gives */
	assert_int_equal(xlb_config__to_string(a, &text), 0);
	{
		char buf[8192];
		FILE *f = fopen(path, "r");
		size_t n;

		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		assert_string_equal(buf, text);
	}
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* new files */

	/* replacing keeps the file's mode and leaves no temporary behind */
	assert_int_equal(chmod(path, 0640), 0);
	a->vips[0].backends[0].weight = 1234;
	if (xlb_config__save_file(a, path, err, sizeof(err)))
		fail_msg("%s", err);
	b = load_ok(path);
	assert_int_equal(b->vips[0].backends[0].weight, 1234);
	assert_config_equal(a, b);
	xlb_config__free(b);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		assert_string_equal(de->d_name, "state.yaml");
		files++;
	}
	closedir(d);
	assert_int_equal(files, 1);

	/* a directory that does not exist: an error naming the path */
	snprintf(path, sizeof(path), "%s/missing/state.yaml", dir);
	assert_int_equal(xlb_config__save_file(a, path, err, sizeof(err)), -ENOENT);
	assert_contains(err, "missing/");

	/* a model that was never validated cannot be saved */
	{
		struct xlb_config empty = {0};

		assert_int_equal(xlb_config__to_string(&empty, &text), -EINVAL);
	}

	/*
	 * In two steps: after prepare the old file is still there and the new
	 * one waits beside it; abort removes it, commit puts it in place.
	 */
	snprintf(path, sizeof(path), "%s/state.yaml", dir);
	{
		struct xlb_config_save sv;

		a->vips[0].backends[0].weight = 77;
		if (xlb_config__save_prepare(a, path, &sv, err, sizeof(err)))
			fail_msg("%s", err);
		assert_int_equal(access(sv.tmp, F_OK), 0);
		b = load_ok(path);
		assert_int_equal(b->vips[0].backends[0].weight, 1234);
		xlb_config__free(b);
		xlb_config__save_abort(&sv);
		assert_int_equal(access(sv.tmp, F_OK), -1);

		if (xlb_config__save_prepare(a, path, &sv, err, sizeof(err)) ||
		    xlb_config__save_commit(&sv, err, sizeof(err)))
			fail_msg("%s", err);
		assert_true(sv.renamed);
		assert_int_equal(access(sv.tmp, F_OK), -1);
		b = load_ok(path);
		assert_int_equal(b->vips[0].backends[0].weight, 77);
		xlb_config__free(b);
		/* committed once only */
		assert_int_equal(xlb_config__save_commit(&sv, err, sizeof(err)), -EINVAL);
	}

	xlb_config__free(a);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- models built in code -------------------------------------------- */

static void test_validate_model(void **state)
{
	struct xlb_config_backend be[2] = {{0}};
	struct xlb_config_vip vip = {0};
	struct xlb_config *cfg, *copy;
	char *text;

	(void)state;
	cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	cfg->vips = calloc(1, sizeof(*cfg->vips));
	assert_non_null(cfg->vips);
	cfg->n_vips = 1;

	xlb_config__vip_defaults(&vip);
	vip.vip = strdup("[2001:2:0::5]:0080/TCP");
	xlb_config__backend_defaults(&be[0]);
	xlb_config__backend_defaults(&be[1]);
	be[0].address = strdup("2001:2::0011");
	be[1].address = strdup("2001:2::12");
	be[1].weight = 0;
	vip.backends = malloc(sizeof(be));
	assert_non_null(vip.backends);
	memcpy(vip.backends, be, sizeof(be));
	vip.n_backends = 2;
	cfg->vips[0] = vip;

	/* errors carry the path but no line: there is no text */
	assert_int_equal(xlb_config__validate(cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(
	    err, "vips[0] ([2001:2::5]:80/tcp): backends[1].weight 0 out of range 1..65535");

	cfg->vips[0].backends[1].weight = 65535;
	if (xlb_config__validate(cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg->vips[0].vip, "[2001:2::5]:80/tcp");
	assert_string_equal(cfg->vips[0].backends[0].address, "2001:2::11");
	assert_int_equal(cfg->vips[0].backends[0].family, XLB_AF_INET6);
	assert_string_equal(cfg->vips[0].health_check.path, "/");
	assert_int_equal(cfg->vips[0].health_check.port, 80);
	assert_string_equal(cfg->metrics.listen, XLB_CONFIG_METRICS_DEFAULT);

	/* validated models serialise, and validate again unchanged */
	assert_int_equal(xlb_config__to_string(cfg, &text), 0);
	copy = load_str_ok(text);
	assert_config_equal(cfg, copy);
	assert_int_equal(xlb_config__validate(copy, err, sizeof(err)), 0);
	assert_config_equal(cfg, copy);
	free(text);

	/* out-of-range enums from code */
	copy->vips[0].algorithm = XLB_CONFIG_ALGO_MAX;
	assert_int_equal(xlb_config__validate(copy, err, sizeof(err)), -EINVAL);
	assert_contains(err, "algorithm: unknown value 5");
	xlb_config__free(copy);
	xlb_config__free(cfg);
}

static void test_names(void **state)
{
	enum xlb_config_algo a;
	enum xlb_forward f;
	enum xlb_config_hc_type t;
	enum xlb_config_xdp_mode m;

	(void)state;
	assert_string_equal(xlb_config__algo_name(XLB_CONFIG_ALGO_SOURCE_HASH), "source-hash");
	assert_string_equal(xlb_config__algo_name(XLB_CONFIG_ALGO_MAX), "?");
	assert_int_equal(xlb_config__algo_parse("lc", &a), 0);
	assert_int_equal(a, XLB_CONFIG_ALGO_LC);
	assert_int_equal(xlb_config__algo_parse("LC", &a), -EINVAL);
	assert_int_equal(xlb_config__algo_parse(NULL, &a), -EINVAL);
	assert_string_equal(xlb_config__forward_name(XLB_FWD_L2DSR), "l2dsr");
	assert_int_equal(xlb_config__forward_parse("ipip", &f), 0);
	assert_int_equal(f, XLB_FWD_IPIP);
	assert_int_equal(xlb_config__forward_parse("nat", &f), -EINVAL);
	assert_string_equal(xlb_config__hc_type_name(XLB_CONFIG_HC_HTTP), "http");
	assert_int_equal(xlb_config__hc_type_parse("udp", &t), 0);
	assert_int_equal(t, XLB_CONFIG_HC_UDP);
	assert_string_equal(xlb_config__xdp_mode_name(XLB_CONFIG_XDP_GENERIC), "generic");
	assert_int_equal(xlb_config__xdp_mode_parse("native", &m), 0);
	assert_int_equal(m, XLB_CONFIG_XDP_NATIVE);
}

/* ---- bad input ------------------------------------------------------- */

/* Every tests/data/config/bad-*.yaml, and what its error must say. */
static const struct {
	const char *file;
	const char *want[3];
} bad_files[] = {
    {"bad-malformed.yaml", {"line 7, column 9", "malformed YAML", "flow mapping"}},
    {"bad-tab-indent.yaml", {"line 5", "malformed YAML"}},
    {"bad-unknown-key.yaml",
     {"line 7: vips[0] (198.18.1.100:80/tcp): backends[1].wieght: unknown key"}},
    {"bad-unknown-top-key.yaml", {"line 5: vipz: unknown key"}},
    {"bad-duplicate-key.yaml",
     {"line 6", "vips[0] (198.18.1.100:80/tcp): algorithm: duplicate key"}},
    {"bad-missing-vip.yaml", {"line 5: vips[1]: vip: required key missing"}},
    {"bad-address.yaml",
     {"line 7: vips[0] (198.18.1.100:80/tcp): backends[1].address '198.18.0.300' is not an IPv4 or "
      "IPv6 address"}},
    {"bad-vip-proto.yaml", {"line 5: vips[1]: vip: unknown protocol 'sctp'"}},
    {"bad-vip-brackets.yaml", {"line 4: vips[0]: vip: IPv6 address must be in brackets"}},
    {"bad-vip-port.yaml",
     {"line 4: vips[0]: vip: port 70000 out of range in '198.18.1.100:70000/tcp'"}},
    {"bad-duplicate-vip.yaml", {"line 8: vips[2]: vip: [2001:2::100]:53/udp duplicates vips[0]"}},
    {"bad-duplicate-backend.yaml",
     {"line 8: vips[0] ([2001:2::100]:53/udp): backends[2].address 2001:2::11 duplicates "
      "backends[0]"}},
    {"bad-weight-zero.yaml",
     {"line 9: vips[1] (198.18.1.100:443/tcp): backends[2].weight 0 out of range 1..65535"}},
    {"bad-weight-70000.yaml",
     {"line 7: vips[0] (198.18.1.100:80/tcp): backends[0].weight 70000 out of range 1..65535"}},
    {"bad-weight-negative.yaml",
     {"line 6: vips[0] (198.18.1.100:80/tcp): backends[0].weight: ", "'-1'"}},
    {"bad-algorithm.yaml",
     {"line 5: vips[0] (198.18.1.100:80/tcp): algorithm: unknown value 'random'",
      "expected maglev, source-hash, wrr, rr or lc"}},
    {"bad-forward.yaml",
     {"line 5: vips[0] (198.18.1.100:80/tcp): forward: unknown value 'nat' (expected ipip, "
      "l2dsr or gue)"}},
    {"bad-hc-type.yaml", {"line 6", "health_check.type: unknown value 'icmp'"}},
    {"bad-hc-port.yaml", {"line 5", "health_check.port 70000 out of range 1..65535"}},
    {"bad-hc-port-required.yaml",
     {"line 5: vips[0] (198.18.1.100:0/tcp): health_check.port: required for type http"}},
    {"bad-table-size.yaml",
     {"line 5: vips[0] (198.18.1.100:80/tcp): table_size 65536 is not prime", "65521, 65537"}},
    {"bad-table-size-large.yaml", {"line 5", "table_size 1000003 above the maximum 655373"}},
    {"bad-table-size-small.yaml",
     {"line 5", "table_size 2 is smaller than the number of backends (3)"}},
    {"bad-family.yaml",
     {"line 7: vips[0] ([2001:2::100]:80/tcp): backends[1].address 198.18.0.12 is IPv4 but the VIP "
      "is IPv6"}},
    {"bad-family-l2dsr.yaml",
     {"line 7: vips[0] (198.18.1.100:80/tcp): backends[0].address 2001:2::11 is IPv6 but the VIP "
      "is IPv4",
      "l2dsr"}},
    {"bad-interval-zero.yaml", {"line 5", "health_check.interval_ms must be at least 2"}},
    {"bad-timeout-zero.yaml", {"line 5", "health_check.timeout_ms must be at least 1"}},
    {"bad-timeout-interval.yaml",
     {"line 8", "health_check.timeout_ms 2000 must be below interval_ms 1000"}},
    {"bad-rise-zero.yaml", {"line 5", "health_check.rise must be at least 1"}},
    {"bad-fall-zero.yaml", {"line 5", "health_check.fall must be at least 1"}},
    {"bad-expect.yaml", {"line 5", "health_check.expect '399-200' malformed"}},
    {"bad-expect-text.yaml", {"line 5", "health_check.expect '2xx' malformed"}},
    {"bad-hc-path.yaml", {"line 5", "health_check.path 'healthz' must start with '/'"}},
    {"bad-ejection-percent.yaml",
     {"line 6", "circuit_breaker.max_ejection_percent 150 out of range 0..100"}},
    {"bad-ejection-max.yaml",
     {"line 5", "circuit_breaker.max_ejection_ms 5000 is below base_ejection_ms 10000"}},
    {"bad-burst.yaml", {"line 5", "rate_limit.burst 100 set but rate_limit.pps is 0"}},
    {"bad-interface-mode.yaml",
     {"line 5: interfaces[0].mode: unknown value 'offload' (expected native or generic)"}},
    {"bad-interface-name.yaml",
     {"line 5: interfaces[1].name 'a-very-long-interface-name' is not an interface name"}},
    {"bad-interface-duplicate.yaml",
     {"line 6: interfaces[2].name 'eth0' duplicates interfaces[0]"}},
    {"bad-metrics-listen.yaml", {"line 4: metrics.listen: missing port in '127.0.0.1'"}},
    {"bad-drain.yaml",
     {"line 6: vips[0] (198.18.1.100:80/tcp): backends[0].drain: unknown value 'flase'"}},
    {"bad-vips-not-list.yaml", {"line 3: vips: ", "SEQUENCE"}},
    {"bad-stateless-wrr.yaml",
     {"line 6: vips[0] (198.18.1.100:80/tcp): stateless: needs algorithm maglev or source-hash",
      "wrr picks a flow's backend once"}},
    {"bad-stateless-value.yaml",
     {"line 5: vips[0] (198.18.1.100:53/udp): stateless: unknown value 'sometimes'",
      "expected true, false, yes, no, on or off"}},
    {"bad-stateless-passive.yaml",
     {"vips[0] (198.18.1.100:80/tcp): passive: the SYN retransmission signal needs the "
      "connection table"}},
    {"bad-empty.yaml", {"empty configuration"}},
    {"bad-udp-payload-http.yaml",
     {"vips[0] (198.18.1.100:80/tcp): health_check.payload: only for health_check type udp "
      "(this one is http)"}},
    {"bad-udp-response-hex.yaml",
     {"vips[0] (198.18.1.100:53/udp): health_check.response_hex: not hex at character 5"}},
};

static void test_bad_files(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct xlb_config *cfg = (struct xlb_config *)0x1;
		char path[256];
		int ret;

		snprintf(path, sizeof(path), DATA "%s", bad_files[i].file);
		err[0] = '\0';
		ret = xlb_config__load_file(path, &cfg, err, sizeof(err));
		if (!ret)
			fail_msg("%s loaded, but should not have", path);
		print_message("  %s\n", err);
		assert_int_equal(ret, -EINVAL);
		assert_ptr_equal(cfg, (struct xlb_config *)0x1);
		/* the message starts with the file */
		assert_int_equal(strncmp(err, path, strlen(path)), 0);
		for (k = 0; k < 3 && bad_files[i].want[k]; k++)
			assert_contains(err, bad_files[i].want[k]);
	}
}

/* No bad file without an expectation in the table above. */
static void test_bad_files_covered(void **state)
{
	struct dirent *de;
	int seen = 0;
	DIR *d;

	(void)state;
	d = opendir(DATA);
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t i, n = strlen(de->d_name);
		bool found = false;

		if (strncmp(de->d_name, "bad-", 4) || n < 5 || strcmp(de->d_name + n - 5, ".yaml"))
			continue;
		for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++)
			found |= !strcmp(bad_files[i].file, de->d_name);
		if (!found)
			fail_msg("%s has no entry in bad_files[]", de->d_name);
		seen++;
	}
	closedir(d);
	assert_int_equal(seen, sizeof(bad_files) / sizeof(bad_files[0]));
}

/*
 * libcyaml gives no structured errors: config_errors.c reads a few forms of
 * its log text (cyaml_forms[] and the backtrace's frames). One input per
 * form, with the whole message it must give: a libcyaml that words a form
 * otherwise fails here, not in a user's face.
 */
static void test_cyaml_forms(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} forms[] = {
	    /* "Unexpected key: ", frames "in mapping field" and "in sequence entry" */
	    {"vips:\n  - vip: 198.18.1.100:80/tcp\n    health_check: {bogus: 1}\n",
	     "line 3: vips[0] (198.18.1.100:80/tcp): health_check.bogus: unknown key"},
	    /* "Missing required mapping field: " */
	    {"vips: [{vip: 198.18.1.100:80/tcp, backends: [{weight: 3}, {address: 1.2.3.4}]}]",
	     "line 1: vips[0] (198.18.1.100:80/tcp): backends[0].address: required key missing"},
	    {"vips: [{vip: 198.18.1.100:80/tcp, backends: [{}]}]",
	     "line 1: vips[0] (198.18.1.100:80/tcp): backends[0].address: required key missing"},
	    /* "Mapping field already seen: " */
	    {"vips:\n  - vip: 198.18.1.100:80/tcp\n    forward: ipip\n    forward: l2dsr\n",
	     "line 4: vips[0] (198.18.1.100:80/tcp): forward: duplicate key"},
	    /* "Excessive entries (" */
	    {"interfaces: [{name: a}, {name: b}, {name: c}, {name: d}, {name: e}, {name: f}, "
	     "{name: g}, {name: h}, {name: i}, {name: j}, {name: k}, {name: l}, {name: m}, "
	     "{name: n}, {name: o}, {name: p}, {name: q}, {name: r}, {name: s}, {name: t}, "
	     "{name: u}, {name: v}, {name: w}, {name: x}, {name: y}, {name: z}, {name: aa}, "
	     "{name: ab}, {name: ac}, {name: ad}, {name: ae}, {name: af}, {name: ag}, {name: ah}, "
	     "{name: ai}, {name: aj}, {name: ak}, {name: al}, {name: am}, {name: an}, {name: ao}, "
	     "{name: ap}, {name: aq}, {name: ar}, {name: as}, {name: at}, {name: au}, {name: av}, "
	     "{name: aw}, {name: ax}, {name: ay}, {name: az}, {name: ba}, {name: bb}, {name: bc}, "
	     "{name: bd}, {name: be}, {name: bf}, {name: bg}, {name: bh}, {name: bi}, {name: bj}, "
	     "{name: bk}, {name: bl}, {name: bm}]",
	     "line 1: interfaces: too many entries (at most 64)"},
	    /* "Invalid ENUM value: " */
	    {"interfaces:\n  - {name: eth0, mode: x}\n",
	     "line 2: interfaces[0].mode: unknown value 'x' (expected native or generic)"},
	    {"announce: {table: 5, drained: maybe}",
	     "line 1: announce.drained: unknown value 'maybe' (expected true, false, yes, no, on or "
	     "off)"},
	    /* any other form: libcyaml's own words, at the right place */
	    {"vips: [{vip: 198.18.1.100:80/tcp, table_size: {a: 1}}]",
	     "line 1: vips[0] (198.18.1.100:80/tcp): table_size: Expecting UINT, got event: "
	     "MAPPING_START (Invalid value)"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		assert_string_equal(load_str_bad(forms[i].yaml), forms[i].msg);
}

static char *gen_vips(unsigned int n_vips, unsigned int n_backends)
{
	size_t cap = 64 + (size_t)n_vips * 64 + (size_t)n_backends * 48, off;
	char *s = malloc(cap);
	unsigned int i;

	assert_non_null(s);
	off = (size_t)snprintf(s, cap, "vips:\n");
	for (i = 0; i < n_vips; i++)
		off += (size_t)snprintf(s + off, cap - off, "  - vip: 198.18.%u.%u:80/tcp\n",
					i / 250, i % 250 + 1);
	if (n_backends)
		off += (size_t)snprintf(s + off, cap - off, "    backends:\n");
	for (i = 0; i < n_backends; i++)
		off += (size_t)snprintf(s + off, cap - off, "      - {address: 198.19.%u.%u}\n",
					i / 250, i % 250 + 1);
	return s;
}

/* Health-check and breaker settings: every bad value named, edges kept. */
static void test_check_settings(void **state)
{
	static const struct {
		const char *hc, *cb, *want;
	} bad[] = {
	    {"expect: \"600\"", "", "health_check.expect '600' malformed"},
	    {"expect: \"99\"", "", "health_check.expect '99' malformed"},
	    {"expect: \"200-600\"", "", "health_check.expect '200-600' malformed"},
	    {"expect: \"200-\"", "", "health_check.expect '200-' malformed"},
	    {"expect: \"-200\"", "", "health_check.expect '-200' malformed"},
	    {"expect: \"200-300-400\"", "", "health_check.expect '200-300-400' malformed"},
	    {"expect: \"\"", "", "health_check.expect '' malformed"},
	    {"expect: \" 200\"", "", "health_check.expect ' 200' malformed"},
	    {"expect: \"2OO\"", "", "health_check.expect '2OO' malformed"},
	    {"expect: \"200 - 399\"", "", "health_check.expect '200 - 399' malformed"},
	    {"interval_ms: 500, timeout_ms: 501", "", "timeout_ms 501 must be below interval_ms 500"},
	    {"interval_ms: 300, timeout_ms: 300", "", "timeout_ms 300 must be below interval_ms 300"},
	    {"interval_ms: 0", "", "health_check.interval_ms must be at least 2"},
	    {"interval_ms: 1", "", "health_check.interval_ms must be at least 2"},
	    {"interval_ms: -1", "", "interval_ms"},
	    {"timeout_ms: 0", "", "health_check.timeout_ms must be at least 1"},
	    {"rise: 0", "", "health_check.rise must be at least 1"},
	    {"fall: 0", "", "health_check.fall must be at least 1"},
	    {"fall: -3", "", "fall"},
	    {"", "max_ejection_percent: 101", "max_ejection_percent 101 out of range 0..100"},
	    {"", "max_ejection_percent: 4294967295",
	     "max_ejection_percent 4294967295 out of range 0..100"},
	    {"", "max_ejection_percent: -1", "max_ejection_percent"},
	    {"", "base_ejection_ms: 0", "circuit_breaker.base_ejection_ms must be at least 1"},
	    {"", "base_ejection_ms: 5000, max_ejection_ms: 4999",
	     "max_ejection_ms 4999 is below base_ejection_ms 5000"},
	};
	static const struct {
		const char *hc, *cb;
		__u32 interval, timeout, pct;
		__u16 lo, hi;
	} good[] = {
	    {"expect: \"200\"", "", 1000, 500, 50, 200, 200},
	    {"expect: \"100-599\"", "", 1000, 500, 50, 100, 599},
	    {"interval_ms: 300, timeout_ms: 299", "", 300, 299, 50, 200, 399},
	    {"interval_ms: 100", "", 100, 50, 50, 200, 399}, /* default timeout: half */
	    {"interval_ms: 2", "", 2, 1, 50, 200, 399},
	    {"", "max_ejection_percent: 0", 1000, 500, 0, 200, 399},
	    {"", "max_ejection_percent: 100", 1000, 500, 100, 200, 399},
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "vips:\n  - vip: 198.18.1.100:80/tcp\n"
			 "    health_check: {type: http%s%s}\n"
			 "    circuit_breaker: {%s}\n",
			 bad[i].hc[0] ? ", " : "", bad[i].hc, bad[i].cb);
		assert_contains(load_str_bad(text), bad[i].want);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct xlb_config *cfg;

		snprintf(text, sizeof(text),
			 "vips:\n  - vip: 198.18.1.100:80/tcp\n"
			 "    health_check: {type: http%s%s}\n"
			 "    circuit_breaker: {%s}\n",
			 good[i].hc[0] ? ", " : "", good[i].hc, good[i].cb);
		cfg = load_str_ok(text);
		assert_int_equal(cfg->vips[0].health_check.interval_ms, good[i].interval);
		assert_int_equal(cfg->vips[0].health_check.timeout_ms, good[i].timeout);
		assert_int_equal(cfg->vips[0].health_check.expect_lo, good[i].lo);
		assert_int_equal(cfg->vips[0].health_check.expect_hi, good[i].hi);
		assert_int_equal(cfg->vips[0].circuit_breaker.max_ejection_percent, good[i].pct);
		xlb_config__free(cfg);
	}
}

/* cfg exported and loaded back is equal to it; returns the export text
 * (valid until the next call).
 */
static const char *assert_export_loads_back(const struct xlb_config *cfg)
{
	static char *out;
	struct xlb_config *back;

	free(out);
	assert_int_equal(xlb_config__to_string(cfg, &out), 0);
	back = load_str_ok(out);
	assert_config_equal(cfg, back);
	xlb_config__free(back);
	return out;
}

#define HC_FIELD(f) offsetof(struct xlb_config_health_check, f)
/* The health check's compared fields, for test_check_fields. */
static const size_t hc_nums[] = {HC_FIELD(type),	  HC_FIELD(port), HC_FIELD(interval_ms),
				 HC_FIELD(timeout_ms),	  HC_FIELD(rise), HC_FIELD(fall),
				 HC_FIELD(jitter_percent)};
static const size_t hc_strs[] = {HC_FIELD(path), HC_FIELD(expect), HC_FIELD(host),
				 HC_FIELD(payload_hex), HC_FIELD(response_hex)};
#define N_HC_NUMS (sizeof(hc_nums) / sizeof(hc_nums[0]))
#define N_HC_STRS (sizeof(hc_strs) / sizeof(hc_strs[0]))
_Static_assert(sizeof(((struct xlb_config_health_check *)0)->type) == sizeof(__u32),
	       "type is moved as a __u32");

/* A udp check's payload and response: text or hex in, canonical hex kept,
 * exported and loaded back as such; refused elsewhere, twice, or too long.
 * An http check's host and any check's jitter_percent too.
 */
static void test_check_fields(void **state)
{
	static const char head[] = "vips:\n  - vip: \"198.18.1.100:53/udp\"\n"
				   "    health_check: {type: udp, ";
	/* refused keys of that udp check, and the message naming them */
	static const struct {
		const char *keys, *msg;
	} bad[] = {
	    {"jitter_percent: 51", "health_check.jitter_percent 51 out of range 0..50"},
	    {"payload: a, payload_hex: \"61\"", "health_check.payload and payload_hex both set"},
	    {"payload_hex: \"abc\"", "health_check.payload_hex: an odd number of hex digits"},
	    {"response_hex: \"6 2\"", "health_check.response_hex: not hex at character 2"},
	    {"host: www.example.test",
	     "health_check.host: only for health_check type http or https (this one is udp)"},
	};
	const struct xlb_config_health_check *hc;
	struct xlb_config *a, *b;
	char text[4096];
	const char *msg;

	(void)state;
	snprintf(text, sizeof(text), "%s%s}\n", head,
		 "payload: \"ping\\n\", response_hex: \"62 65 0A\"");
	a = load_str_ok(text);
	hc = &a->vips[0].health_check;
	assert_null(hc->payload);
	assert_string_equal(hc->payload_hex, "70696e670a");
	assert_null(hc->response);
	assert_string_equal(hc->response_hex, "62650a");
	assert_non_null(strstr(assert_export_loads_back(a), "payload_hex: 70696e670a"));
	assert_int_equal(xlb_config__dup(a, &b), 0);
	assert_config_equal(a, b);
	assert_ptr_not_equal(b->vips[0].health_check.payload_hex, hc->payload_hex);
	xlb_config__free(b);
	xlb_config__free(a);

	/* empty = the default: an empty datagram, any reply */
	snprintf(text, sizeof(text), "%s%s}\n", head, "payload: \"\", response_hex: \"\"");
	a = load_str_ok(text);
	assert_null(a->vips[0].health_check.payload_hex);
	assert_null(a->vips[0].health_check.response_hex);
	assert_null(strstr(assert_export_loads_back(a), "_hex")); /* left out, not empty */
	xlb_config__free(a);

	/* host: http(s) only, kept through export, no spaces or URL characters */
	snprintf(text, sizeof(text),
		 "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n"
		 "    health_check: {type: http, host: \"www.example.test:8080\"}\n");
	a = load_str_ok(text);
	assert_string_equal(a->vips[0].health_check.host, "www.example.test:8080");
	assert_non_null(strstr(assert_export_loads_back(a), "www.example.test:8080"));
	xlb_config__free(a);
	/* https: the http fields apply */
	snprintf(
	    text, sizeof(text),
	    "vips:\n  - vip: \"198.18.1.100:443/tcp\"\n"
	    "    health_check: {type: https, path: /healthz, expect: \"200\", host: a.test}\n");
	a = load_str_ok(text);
	assert_int_equal(a->vips[0].health_check.type, XLB_CONFIG_HC_HTTPS);
	assert_int_equal(a->vips[0].health_check.port, 443);
	assert_non_null(strstr(assert_export_loads_back(a), "type: https"));
	xlb_config__free(a);
	snprintf(text, sizeof(text),
		 "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n"
		 "    health_check: {type: http, host: \"www.example.test/x\"}\n");
	msg = load_str_bad(text);
	assert_non_null(strstr(msg, "health_check.host 'www.example.test/x': character 17 is not "
				    "allowed"));

	/* jitter_percent: 0..50, kept through export */
	snprintf(text, sizeof(text), "%s%s}\n", head, "jitter_percent: 0");
	a = load_str_ok(text);
	assert_int_equal(a->vips[0].health_check.jitter_percent, 0);
	xlb_config__free(a);
	snprintf(text, sizeof(text), "%s%s}\n", head, "jitter_percent: 50");
	a = load_str_ok(text);
	assert_non_null(strstr(assert_export_loads_back(a), "jitter_percent: 50"));
	xlb_config__free(a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s}\n", head, bad[i].keys);
		msg = load_str_bad(text);
		if (!strstr(msg, bad[i].msg))
			fail_msg("%s: '%s', want '%s'", bad[i].keys, msg, bad[i].msg);
	}
	/* equal health checks: every field counts (numbers moved by one,
	 * strings changed or set)
	 */
	snprintf(text, sizeof(text), "%s%s}\n", head, "payload: a, response: b");
	a = load_str_ok(text);
	for (size_t i = 0; i < N_HC_NUMS + N_HC_STRS; i++) {
		struct xlb_config_health_check *y;
		char **str;

		assert_int_equal(xlb_config__dup(a, &b), 0);
		y = &b->vips[0].health_check;
		assert_true(xlb_config__hc_equal(&a->vips[0].health_check, y));
		if (i < N_HC_NUMS) {
			(*(__u32 *)((char *)y + hc_nums[i]))++;
		} else {
			str = (char **)((char *)y + hc_strs[i - N_HC_NUMS]);
			if (*str)
				(*str)[0] ^= 1;
			else
				*str = strdup("x");
		}
		if (xlb_config__hc_equal(&a->vips[0].health_check, y))
			fail_msg("health checks differing in field %zu compared equal", i);
		xlb_config__free(b);
	}
	xlb_config__free(a);

	snprintf(text, sizeof(text), "%s%s%0*d\"}\n", head, "payload: \"",
		 XLB_CONFIG_HC_UDP_MAX + 1, 0);
	msg = load_str_bad(text);
	assert_non_null(strstr(msg, "health_check.payload: 1473 bytes, at most 1472"));
	snprintf(text, sizeof(text),
		 "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n"
		 "    health_check: {type: tcp, response: ok}\n");
	msg = load_str_bad(text);
	assert_non_null(
	    strstr(msg, "health_check.response: only for health_check type udp (this one is tcp)"));
}

/*
 * rate_limit.source_prefix_v4/v6: defaults 32 and 64, ranges 1..32 and
 * 1..128, kept through export, and a change is a change of the plan.
 */
static void test_source_prefix(void **state)
{
	static const struct {
		const char *keys, *msg;
	} bad[] = {
	    {"source_prefix_v4: 0", "rate_limit.source_prefix_v4 0 out of range 1..32"},
	    {"source_prefix_v4: 33", "rate_limit.source_prefix_v4 33 out of range 1..32"},
	    {"source_prefix_v6: 0", "rate_limit.source_prefix_v6 0 out of range 1..128"},
	    {"source_prefix_v6: 129", "rate_limit.source_prefix_v6 129 out of range 1..128"},
	};
	static const char head[] = "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n"
				   "    rate_limit: {source_new_flows: 10, ";
	struct xlb_config *a, *b;
	struct xlb_plan plan = {};
	const char *out;
	char text[512];
	bool seen = false;

	(void)state;
	snprintf(text, sizeof(text), "%s%s}\n", head, "source_burst: 10");
	a = load_str_ok(text);
	assert_int_equal(a->vips[0].rate_limit.source_prefix_v4, 32);
	assert_int_equal(a->vips[0].rate_limit.source_prefix_v6, 64);
	xlb_config__free(a);

	snprintf(text, sizeof(text), "%s%s}\n", head, "source_prefix_v4: 24, source_prefix_v6: 48");
	a = load_str_ok(text);
	assert_int_equal(a->vips[0].rate_limit.source_prefix_v4, 24);
	assert_int_equal(a->vips[0].rate_limit.source_prefix_v6, 48);
	out = assert_export_loads_back(a);
	assert_non_null(strstr(out, "source_prefix_v4: 24"));
	assert_non_null(strstr(out, "source_prefix_v6: 48"));

	snprintf(text, sizeof(text), "%s%s}\n", head, "source_prefix_v4: 24, source_prefix_v6: 56");
	b = load_str_ok(text);
	assert_int_equal(xlb_plan__build(a, b, &plan), 0);
	for (size_t i = 0; i < plan.n_changes; i++)
		seen |= strstr(plan.changes[i], "rate_limit changed") != NULL;
	assert_true(seen);
	xlb_plan__free(&plan);
	xlb_config__free(b);
	xlb_config__free(a);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s}\n", head, bad[i].keys);
		out = load_str_bad(text);
		if (!strstr(out, bad[i].msg))
			fail_msg("%s: '%s', want '%s'", bad[i].keys, out, bad[i].msg);
	}
}

/* interfaces[].mtu: 0 (the interface's) by default, else 1280..65535, kept. */
static void test_interface_mtu(void **state)
{
	struct xlb_config *a;
	const char *out;

	(void)state;
	a = load_str_ok("interfaces: [{name: eth0}]\n");
	assert_int_equal(a->interfaces[0].mtu, 0);
	xlb_config__free(a);
	a = load_str_ok("interfaces: [{name: eth0, mtu: 9000}, {name: eth1, mtu: 1280}]\n");
	assert_int_equal(a->interfaces[0].mtu, 9000);
	assert_int_equal(a->interfaces[1].mtu, 1280);
	out = assert_export_loads_back(a);
	assert_non_null(strstr(out, "mtu: 9000"));
	xlb_config__free(a);
	out = load_str_bad("interfaces: [{name: eth0, mtu: 1279}]\n");
	assert_non_null(strstr(out, "interfaces[0].mtu 1279 out of range 1280..65535"));
	out = load_str_bad("interfaces: [{name: eth0, mtu: 65536}]\n");
	assert_non_null(strstr(out, "interfaces[0].mtu 65536 out of range"));
}

static void test_bad_strings(void **state)
{
	struct xlb_config *cfg;
	const char *msg;
	char *text;

	(void)state;
	/* limits */
	text = gen_vips(XLB_MAX_VIPS, 0);
	cfg = load_str_ok(text);
	assert_int_equal(cfg->n_vips, XLB_MAX_VIPS);
	xlb_config__free(cfg);
	free(text);
	text = gen_vips(XLB_MAX_VIPS + 1, 0);
	msg = load_str_bad(text);
	assert_contains(msg, "vips");
	free(text);

	text = gen_vips(1, XLB_MAX_BACKENDS_PER_VIP);
	cfg = load_str_ok(text);
	assert_int_equal(cfg->vips[0].n_backends, XLB_MAX_BACKENDS_PER_VIP);
	xlb_config__free(cfg);
	free(text);
	text = gen_vips(1, XLB_MAX_BACKENDS_PER_VIP + 1);
	msg = load_str_bad(text);
	assert_contains(msg, "vips[0] (198.18.0.1:80/tcp): backends");
	free(text);

	/* not a mapping, nothing, NUL bytes */
	msg = load_str_bad("- vip: 198.18.1.100:80/tcp\n");
	assert_contains(msg, "top level");
	load_str_bad("");
	load_str_bad("# only a comment\n\n");
	{
		struct xlb_config *c = NULL;
		static const char nul[] = "vips: []\n\0\n";

		assert_int_equal(
		    xlb_config__load_string(nul, sizeof(nul) - 1, &c, err, sizeof(err)), -EINVAL);
		assert_contains(err, "NUL");
	}

	/* a required key missing in a nested mapping */
	msg = load_str_bad("vips:\n"
			   "  - vip: 198.18.1.100:80/tcp\n"
			   "    backends:\n"
			   "      - {weight: 5}\n");
	assert_contains(msg, "line 4: vips[0] (198.18.1.100:80/tcp): "
			     "backends[0].address: required key missing");
	msg = load_str_bad("interfaces:\n  - {mode: generic}\n");
	assert_contains(msg, "line 2: interfaces[0].name: required key missing");

	/* a mapping where a scalar belongs */
	msg = load_str_bad("vips:\n"
			   "  - vip: 198.18.1.100:80/tcp\n"
			   "    table_size: {a: 1}\n");
	assert_contains(msg, "line 3: vips[0] (198.18.1.100:80/tcp): table_size");

	/* numbers that do not fit */
	msg = load_str_bad("vips:\n"
			   "  - vip: 198.18.1.100:80/tcp\n"
			   "    rate_limit: {pps: 99999999999}\n");
	assert_contains(msg, "line 3");
	assert_contains(msg, "rate_limit.pps");

	/* an http path goes into the request line as it is: ASCII only */
	msg = load_str_bad("vips:\n"
			   "  - vip: 198.18.1.100:80/tcp\n"
			   "    health_check: {type: http, path: \"/caf\\xe9\"}\n");
	assert_contains(msg, "line 3: vips[0] (198.18.1.100:80/tcp): health_check.path '/caf");
	assert_contains(msg, "bytes past ASCII (percent-encode them)");

	/* anchors and aliases are YAML: fine */
	cfg = load_str_ok("vips:\n"
			  "  - vip: 198.18.1.100:80/tcp\n"
			  "    health_check: &hc {type: tcp, fall: 9}\n"
			  "  - vip: 198.18.1.100:81/tcp\n"
			  "    health_check: *hc\n");
	assert_int_equal(cfg->vips[1].health_check.fall, 9);
	assert_int_equal(cfg->vips[1].health_check.port, 81);
	xlb_config__free(cfg);
}

static void test_file_errors(void **state)
{
	struct xlb_config *cfg = NULL;

	(void)state;
	assert_int_equal(xlb_config__load_file(DATA "does-not-exist.yaml", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_contains(err, DATA "does-not-exist.yaml: ");
	assert_null(cfg);
	assert_int_equal(xlb_config__load_file(DATA, &cfg, err, sizeof(err)), -EINVAL);
	assert_contains(err, "not a regular file");
	assert_null(cfg);
}

/* Every shipped example loads, round-trips, and passive settings survive. */
/* The daemon-wide conntrack settings: default off, saved, range-checked. */
static void test_conntrack(void **state)
{
	struct xlb_config *cfg, *again;
	const char *msg;
	char *text;

	(void)state;
	cfg = load_str_ok("vips: []");
	assert_int_equal(cfg->conntrack.flood_guard_new_flows_per_cpu, 0);
	xlb_config__free(cfg);

	cfg = load_str_ok("conntrack: {flood_guard_new_flows_per_cpu: 20000}\n");
	assert_int_equal(cfg->conntrack.flood_guard_new_flows_per_cpu, 20000);
	assert_int_equal(xlb_config__to_string(cfg, &text), 0);
	assert_contains(text, "flood_guard_new_flows_per_cpu: 20000");
	again = load_str_ok(text);
	assert_config_equal(cfg, again);
	free(text);
	xlb_config__free(again);
	assert_int_equal(xlb_config__dup(cfg, &again), 0);
	assert_int_equal(again->conntrack.flood_guard_new_flows_per_cpu, 20000);
	xlb_config__free(again);
	xlb_config__free(cfg);

	msg = load_str_bad("conntrack: {flood_guard_new_flows_per_cpu: 100000001}\n");
	assert_contains(msg, "conntrack.flood_guard_new_flows_per_cpu 100000001 out of range");
	msg = load_str_bad("conntrack: {flood_guard_new_flows_per_cpu: -5}\n");
	assert_contains(msg, "-5");
	msg = load_str_bad("conntrack: {flood_guard: 5}\n");
	assert_contains(msg, "flood_guard");
}

#define TWO_BACKENDS                                                                           \
	"vips:\n  - vip: 198.18.1.100:80/tcp\n    backends: [{address: 198.18.0.11}, "     \
	"{address: 198.18.0.12}]\n"

/* announce: off by default, saved (drained too), and each refusal named. */
static void test_announce(void **state)
{
	struct xlb_config *cfg, *again;
	const char *msg;
	char *text;

	(void)state;
	cfg = load_str_ok("vips: []");
	assert_int_equal(cfg->announce.table, 0);
	assert_int_equal(cfg->announce.min_healthy, 1);
	assert_false(cfg->announce.drained);
	xlb_config__free(cfg);

	cfg = load_str_ok("announce: {table: 4294967294, min_healthy: 2, drained: yes}\n" TWO_BACKENDS);
	assert_int_equal(cfg->announce.table, 4294967294u);
	assert_int_equal(cfg->announce.min_healthy, 2);
	assert_true(cfg->announce.drained);
	assert_int_equal(xlb_config__to_string(cfg, &text), 0);
	assert_contains(text, "announce: {table: 4294967294, min_healthy: 2, drained: true}");
	again = load_str_ok(text);
	assert_config_equal(cfg, again);
	free(text);
	xlb_config__free(again);
	assert_int_equal(xlb_config__dup(cfg, &again), 0);
	assert_config_equal(cfg, again);
	/* a file applied keeps the running drain, unless it turns announcing off */
	again->announce.drained = false;
	xlb_config__keep_drained(again, cfg);
	assert_true(again->announce.drained);
	again->announce.table = 0;
	xlb_config__keep_drained(again, cfg);
	assert_false(again->announce.drained);
	xlb_config__free(again);
	xlb_config__free(cfg);

	/* min_healthy 0 is the default; a VIP without backends is not held to it */
	cfg = load_str_ok("announce: {table: 1, min_healthy: 0}\nvips: [{vip: 198.18.1.1:80/tcp}]\n");
	assert_int_equal(cfg->announce.min_healthy, 1);
	xlb_config__free(cfg);

	msg = load_str_bad("announce: {table: 254}\n");
	assert_contains(msg, "announce.table 254 is the kernel's main table");
	msg = load_str_bad("announce: {table: 255}\n");
	assert_contains(msg, "announce.table 255 is the kernel's local table");
	msg = load_str_bad("announce: {table: 253}\n");
	assert_contains(msg, "announce.table 253 is the kernel's default table");
	msg = load_str_bad("announce: {table: 4294967295}\n");
	assert_contains(msg, "announce.table out of range 1..4294967294");
	msg = load_str_bad("announce: {table: 99999999999}\n");
	assert_contains(msg, "announce.table out of range 1..4294967294");
	msg = load_str_bad("announce: {table: -1}\n");
	assert_contains(msg, "table");
	msg = load_str_bad("announce: {table: 100, min_healthy: 3}\n" TWO_BACKENDS);
	assert_contains(msg, "announce.min_healthy 3 is above the 2 backends of VIP "
			     "198.18.1.100:80/tcp: it could never be announced");
	msg = load_str_bad("announce: {drained: true}\n");
	assert_contains(msg, "announce.drained: there is nothing to drain with announcing off");
	msg = load_str_bad("announce: {table: 100, drained: maybe}\n");
	assert_contains(msg, "announce.drained: unknown value 'maybe'");
	msg = load_str_bad("announce: {tabel: 100}\n");
	assert_contains(msg, "tabel");
}

static void test_examples(void **state)
{
	static const char *const files[] = { "examples/xlb.yaml", "examples/ipip.yaml",
					     "examples/ipv6.yaml", "examples/real-nic.yaml",
					     "examples/starter.yaml" };
	char err[512], *a, *b;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct xlb_config *cfg, *again;

		if (xlb_config__load_file(files[i], &cfg, err, sizeof(err)))
			fail_msg("%s: %s", files[i], err);
		assert_int_equal(xlb_config__to_string(cfg, &a), 0);
		assert_int_equal(xlb_config__load_string(a, strlen(a), &again, err, sizeof(err)), 0);
		assert_int_equal(xlb_config__to_string(again, &b), 0);
		assert_string_equal(a, b);
		if (!strcmp(files[i], "examples/real-nic.yaml")) {
			assert_true(again->vips[0].passive.syn_retransmit_ratio == 0.5);
			assert_int_equal(again->vips[0].passive.min_syns, 50);
		}
		free(a);
		free(b);
		xlb_config__free(cfg);
		xlb_config__free(again);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples),	   cmocka_unit_test(test_conntrack),
	    cmocka_unit_test(test_announce),	   cmocka_unit_test(test_cyaml_forms),
	    cmocka_unit_test(test_vip_parse_good), cmocka_unit_test(test_vip_parse_bad),
	    cmocka_unit_test(test_vip_cmp),	   cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_hostport),	   cmocka_unit_test(test_load_full),
	    cmocka_unit_test(test_defaults),	   cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_json),	   cmocka_unit_test(test_save_file),
	    cmocka_unit_test(test_validate_model), cmocka_unit_test(test_names),
	    cmocka_unit_test(test_bad_files),	   cmocka_unit_test(test_bad_files_covered),
	    cmocka_unit_test(test_bad_strings),	   cmocka_unit_test(test_check_fields),
	    cmocka_unit_test(test_source_prefix),
	    cmocka_unit_test(test_interface_mtu),
	    cmocka_unit_test(test_check_settings), cmocka_unit_test(test_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
