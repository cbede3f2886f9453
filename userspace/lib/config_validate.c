/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Defaults and validation of the model. The plain keys' defaults and range
 * checks are expanded from config_keys.h; what is more than a range (names,
 * addresses, primes, keys that depend on each other) is written out here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "userspace/lib/config_int.h"

#define IFNAME_MAX 15 /* IFNAMSIZ - 1 */

/* ---- defaults ---- */

/* In scope: model *m. */
#define DFLT_U32(T, k, def, ...) m->k = (def);
#define DFLT_U32W DFLT_U32
#define DFLT_DBL DFLT_U32
#define DFLT_BOOL DFLT_U32
#define DFLT_ENUM DFLT_U32
#define DFLT_ENUMN DFLT_U32
#define DFLT_STR(...)

#define DFLT_FN(fn, model_t, KEYS)                                                                 \
	static void fn(model_t *m)                                                                 \
	{                                                                                          \
		KEYS(DFLT, _)                                                                      \
		(void)m;                                                                           \
	}

DFLT_FN(dflt_interface, struct xlb_config_interface, CFG_INTERFACE_KEYS)
DFLT_FN(dflt_metrics, struct xlb_config_metrics, CFG_METRICS_KEYS)
DFLT_FN(dflt_conntrack, struct xlb_config_conntrack, CFG_CONNTRACK_KEYS)
DFLT_FN(dflt_announce, struct xlb_config_announce, CFG_ANNOUNCE_KEYS)
DFLT_FN(dflt_vip, struct xlb_config_vip, CFG_VIP_KEYS)
DFLT_FN(dflt_rate_limit, struct xlb_config_rate_limit, CFG_RATE_LIMIT_KEYS)
DFLT_FN(dflt_health_check, struct xlb_config_health_check, CFG_HEALTH_CHECK_KEYS)
DFLT_FN(dflt_circuit_breaker, struct xlb_config_circuit_breaker, CFG_CIRCUIT_BREAKER_KEYS)
DFLT_FN(dflt_passive, struct xlb_config_passive, CFG_PASSIVE_KEYS)
DFLT_FN(dflt_backend, struct xlb_config_backend, CFG_BACKEND_KEYS)

void xlb_config__backend_defaults(struct xlb_config_backend *be)
{
	dflt_backend(be);
}

void xlb_config__vip_defaults(struct xlb_config_vip *v)
{
	dflt_vip(v);
	dflt_rate_limit(&v->rate_limit);
	dflt_health_check(&v->health_check);
	dflt_circuit_breaker(&v->circuit_breaker);
	dflt_passive(&v->passive);
}

void cfg_interface_defaults(struct xlb_config_interface *ifc)
{
	dflt_interface(ifc);
}

void cfg_defaults(struct xlb_config *cfg)
{
	dflt_metrics(&cfg->metrics);
	dflt_conntrack(&cfg->conntrack);
	dflt_announce(&cfg->announce);
}

/* ---- range checks of the plain keys ---- */

/* " V out of range LO..HI<note>", or " must be at least LO<note>" */
static int chk_u32(struct vctx *c, int vi, const char *name, const char *pfx, const char *key,
		   __u32 v, __u32 lo, __u32 hi, const char *note)
{
	char field[96];

	if (v >= lo && v <= hi)
		return 0;
	snprintf(field, sizeof(field), "%s%s", pfx, key);
	if (hi == NOMAX)
		return verr(c, vi, name, field, " must be at least %u%s", lo, note);
	return verr(c, vi, name, field, " %u out of range %u..%u%s", v, lo, hi, note);
}

static int chk_dbl(struct vctx *c, int vi, const char *name, const char *pfx, const char *key,
		   double v, double lo, double hi, const char *note)
{
	char field[96];

	if (v >= lo && v <= hi)
		return 0;
	snprintf(field, sizeof(field), "%s%s", pfx, key);
	return verr(c, vi, name, field, " %g out of range %g..%g%s", v, lo, hi, note);
}

static int chk_enum(struct vctx *c, int vi, const char *name, const char *pfx, const char *key,
		    int v, const cyaml_strval_t *t, uint32_t n)
{
	char field[96], list[128];

	if (strcmp(strval_name(t, n, v), "?"))
		return 0;
	snprintf(field, sizeof(field), "%s%s", pfx, key);
	strval_list(t, n, list, sizeof(list));
	return verr(c, vi, name, field, ": unknown value %d (expected %s)", v, list);
}

/* In scope: struct vctx *c, int vi, const char *name, const char *pfx, model *m, int ret. */
#define CHK_U32(T, k, def, lo, hi, note)                                                           \
	if (!ret)                                                                                  \
		ret = chk_u32(c, vi, name, pfx, #k, m->k, lo, hi, note);
#define CHK_U32W(...) /* validation's hook names its range */
#define CHK_DBL(T, k, def, lo, hi, note)                                                           \
	if (!ret)                                                                                  \
		ret = chk_dbl(c, vi, name, pfx, #k, m->k, lo, hi, note);
#define CHK_BOOL(...)
#define CHK_ENUM(T, k, def, names)                                                                 \
	if (!ret)                                                                                  \
		ret = chk_enum(c, vi, name, pfx, #k, (int)m->k, names, N(names));
#define CHK_ENUMN(...) /* a number is taken as it is */
#define CHK_STR(...)   /* text has its hooks */

/* One function a section: 0, or -EINVAL for its first key out of range.
 * pfx: the section's path within vips[vi] ("health_check.").
 */
#define CHK_FN(fn, model_t, KEYS)                                                                  \
	static int fn(struct vctx *c, int vi, const char *name, const char *pfx, const model_t *m) \
	{                                                                                          \
		int ret = 0;                                                                       \
                                                                                                   \
		KEYS(CHK, _)                                                                       \
		(void)c, (void)vi, (void)name, (void)pfx, (void)m;                                 \
		return ret;                                                                        \
	}

CHK_FN(chk_interface, struct xlb_config_interface, CFG_INTERFACE_KEYS)
CHK_FN(chk_metrics, struct xlb_config_metrics, CFG_METRICS_KEYS)
CHK_FN(chk_conntrack, struct xlb_config_conntrack, CFG_CONNTRACK_KEYS)
CHK_FN(chk_announce, struct xlb_config_announce, CFG_ANNOUNCE_KEYS)
CHK_FN(chk_vip, struct xlb_config_vip, CFG_VIP_KEYS)
CHK_FN(chk_rate_limit, struct xlb_config_rate_limit, CFG_RATE_LIMIT_KEYS)
CHK_FN(chk_health_check, struct xlb_config_health_check, CFG_HEALTH_CHECK_KEYS)
CHK_FN(chk_circuit_breaker, struct xlb_config_circuit_breaker, CFG_CIRCUIT_BREAKER_KEYS)
CHK_FN(chk_passive, struct xlb_config_passive, CFG_PASSIVE_KEYS)
CHK_FN(chk_backend, struct xlb_config_backend, CFG_BACKEND_KEYS)

/* ---- hooks: what is more than a range ---- */

static bool is_prime(__u32 n)
{
	__u32 d;

	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (d = 3; d <= n / d; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

/*
 * An http check's host: the Host header's value, a name or address with an
 * optional port as a client would send it; empty = the default (NULL).
 */
static int hc_host(struct vctx *c, int vi, const char *name, struct xlb_config_health_check *hc)
{
	size_t n;

	if (!hc->host)
		return 0;
	if (hc->type != XLB_CONFIG_HC_HTTP && hc->type != XLB_CONFIG_HC_HTTPS)
		return verr(c, vi, name, "health_check.host",
			    ": only for health_check type http or https (this one is %s)",
			    xlb_config__hc_type_name(hc->type));
	n = strlen(hc->host);
	if (!n) {
		free(hc->host);
		hc->host = NULL;
		return 0;
	}
	if (n > XLB_CONFIG_HC_HOST_MAX)
		return verr(c, vi, name, "health_check.host", ": %zu characters, at most %u", n,
			    XLB_CONFIG_HC_HOST_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)hc->host[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("/?#@\\\"", ch))
			return verr(c, vi, name, "health_check.host",
				    " '%s': character %zu is not allowed in a host name "
				    "(name or address, optional :port)",
				    hc->host, i + 1);
	}
	return 0;
}

/*
 * hex in place as lowercase digits without the spaces (allowed between
 * bytes); *bytes gets its length in bytes. -EINVAL at the first character
 * that is neither a hex digit nor a space between bytes (its offset in
 * *bad), -EDOM for an odd number of digits.
 */
static int hex_canon(char *hex, size_t *bytes, size_t *bad)
{
	size_t digits = 0, i;

	for (i = 0; hex[i]; i++) {
		char ch = hex[i];

		if (ch == ' ' && !(digits % 2))
			continue;
		if (!isxdigit((unsigned char)ch)) {
			*bad = i;
			return -EINVAL;
		}
		hex[digits++] = (char)tolower((unsigned char)ch);
	}
	hex[digits] = '\0';
	*bytes = digits / 2;
	return digits % 2 ? -EDOM : 0;
}

/*
 * A udp check's payload or response (what = "payload" or "response"): the
 * text or the hex form, at most one, only for type udp, at most
 * XLB_CONFIG_HC_UDP_MAX bytes. Leaves only the canonical hex (NULL when
 * empty) and the text NULL, so validating again changes nothing.
 */
static int hc_udp_bytes(struct vctx *c, int vi, const char *name,
			const struct xlb_config_health_check *hc, const char *what, char **text,
			char **hex)
{
	char field[64], field_hex[64];
	size_t bytes, bad = 0;
	int ret;

	snprintf(field, sizeof(field), "health_check.%s", what);
	snprintf(field_hex, sizeof(field_hex), "health_check.%s_hex", what);
	if ((*text || *hex) && hc->type != XLB_CONFIG_HC_UDP)
		return verr(c, vi, name, *text ? field : field_hex,
			    ": only for health_check type udp (this one is %s)",
			    xlb_config__hc_type_name(hc->type));
	if (*text && *hex)
		return verr(c, vi, name, field, " and %s_hex both set: give one of them", what);
	if (*text) {
		bytes = strlen(*text);
		if (bytes > XLB_CONFIG_HC_UDP_MAX)
			return verr(c, vi, name, field, ": %zu bytes, at most %u (one datagram)",
				    bytes, XLB_CONFIG_HC_UDP_MAX);
		*hex = malloc(2 * bytes + 1);
		if (!*hex)
			return -ENOMEM;
		for (size_t i = 0; i < bytes; i++)
			snprintf(*hex + 2 * i, 3, "%02x", (unsigned char)(*text)[i]);
		(*hex)[2 * bytes] = '\0';
		free(*text);
		*text = NULL;
	} else if (*hex) {
		ret = hex_canon(*hex, &bytes, &bad);
		if (ret == -EINVAL)
			return verr(c, vi, name, field_hex,
				    ": not hex at character %zu (two digits a byte, spaces only "
				    "between bytes)",
				    bad + 1);
		if (ret)
			return verr(c, vi, name, field_hex,
				    ": an odd number of hex digits (two digits a byte)");
		if (bytes > XLB_CONFIG_HC_UDP_MAX)
			return verr(c, vi, name, field_hex,
				    ": %zu bytes, at most %u (one datagram)", bytes,
				    XLB_CONFIG_HC_UDP_MAX);
	}
	if (*hex && !**hex) { /* empty: the default */
		free(*hex);
		*hex = NULL;
	}
	return 0;
}

/* Replace *s with a copy of canon when they differ. */
static int set_str(char **s, const char *canon)
{
	char *d;

	if (*s && !strcmp(*s, canon))
		return 0;
	d = strdup(canon);
	if (!d)
		return -ENOMEM;
	free(*s);
	*s = d;
	return 0;
}

/* "200-399" or "200", statuses 100..599. */
static int parse_expect(const char *s, __u16 *lo, __u16 *hi)
{
	unsigned int a, b;
	int n = 0;

	if (sscanf(s, "%3u-%3u%n", &a, &b, &n) == 2 && s[n] == '\0') {
		if (s[0] < '0' || s[0] > '9' || strchr(s, ' ') || strchr(s, '+'))
			return -EINVAL;
	} else if (sscanf(s, "%3u%n", &a, &n) == 1 && s[n] == '\0' && s[0] >= '0' && s[0] <= '9') {
		b = a;
	} else {
		return -EINVAL;
	}
	if (a < 100 || b > 599 || a > b)
		return -EINVAL;
	*lo = (__u16)a;
	*hi = (__u16)b;
	return 0;
}

bool xlb_config__hc_path_ok(const char *s)
{
	size_t i;

	if (!s || s[0] != '/' || strlen(s) > XLB_CONFIG_HC_PATH_MAX)
		return false;
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int cmp_backend_addr(const struct xlb_config_backend *a, const struct xlb_config_backend *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/*
 * Duplicates: sort indices by (key, index) and look at neighbours, so a run
 * of equal elements starts with the earliest in the file. key_cmp compares
 * the elements at two indices of the array ctx.
 */
typedef int (*key_cmp_fn)(const void *ctx, unsigned int a, unsigned int b);

struct dup_sort {
	const void *ctx;
	key_cmp_fn cmp;
};

static int cmp_backends(const void *ctx, unsigned int a, unsigned int b)
{
	const struct xlb_config_backend *be = ctx;

	return cmp_backend_addr(&be[a], &be[b]);
}

static int cmp_vips(const void *ctx, unsigned int a, unsigned int b)
{
	const struct xlb_config_vip *v = ctx;

	return xlb_vip_addr__cmp(&v[a].addr, &v[b].addr);
}

static int cmp_idx(const void *pa, const void *pb, void *arg)
{
	unsigned int a = *(const unsigned int *)pa, b = *(const unsigned int *)pb;
	const struct dup_sort *ds = arg;
	int r = ds->cmp(ds->ctx, a, b);

	return r ? r : (a < b ? -1 : a > b);
}

/*
 * The duplicate that comes first in file order among n elements of ctx:
 * returns 1 with *dup its index and *orig the earliest element equal to it,
 * 0 when all differ, -ENOMEM.
 */
static int first_duplicate(const void *ctx, unsigned int n, key_cmp_fn cmp, unsigned int *dup,
			   unsigned int *orig)
{
	struct dup_sort ds = {.ctx = ctx, .cmp = cmp};
	unsigned int i, run = 0, *idx;
	int found = 0;

	if (n < 2)
		return 0;
	idx = malloc(n * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_idx, &ds);
	for (i = 1; i < n; i++) {
		if (cmp(ctx, idx[run], idx[i])) {
			run = i;
			continue;
		}
		if (!found || idx[i] < *dup) {
			*dup = idx[i];
			*orig = idx[run];
			found = 1;
		}
	}
	free(idx);
	return found;
}

static int validate_backends(struct vctx *c, int vi, struct xlb_config_vip *v)
{
	const char *name = v->vip;
	unsigned int j, dup = 0, orig = 0;
	char a[XLB_ADDR_STR_MAX];
	int found, ret;

	if (v->n_backends > XLB_MAX_BACKENDS_PER_VIP)
		return verr(c, vi, name, "backends", ": %u backends, at most %u", v->n_backends,
			    XLB_MAX_BACKENDS_PER_VIP);
	if (v->n_backends && !v->backends)
		return verr(c, vi, name, "backends", ": missing");
	for (j = 0; j < v->n_backends; j++) {
		struct xlb_config_backend *b = &v->backends[j];
		char field[48];

		snprintf(field, sizeof(field), "backends[%u].address", j);
		if (!b->address)
			return verr(c, vi, name, field, ": required key missing");
		if (xlb_addr__parse(b->address, &b->family, b->addr))
			return verr(c, vi, name, field, " '%s' is not an IPv4 or IPv6 address",
				    b->address);
		xlb_addr__format(b->family, b->addr, a, sizeof(a));
		if (set_str(&b->address, a))
			return -ENOMEM;
		if (v->addr.family == XLB_AF_INET6 && b->family == XLB_AF_INET)
			return verr(
			    c, vi, name, field,
			    " %s is IPv4 but the VIP is IPv6 (IPv6 cannot be carried in IPv4)", a);
		if (v->addr.family == XLB_AF_INET && b->family == XLB_AF_INET6 &&
		    v->forward == XLB_FWD_L2DSR)
			return verr(c, vi, name, field,
				    " %s is IPv6 but the VIP is IPv4: forward %s needs the same "
				    "family (only ipip and gue carry IPv4 in IPv6)",
				    a, xlb_config__forward_name(v->forward));

		snprintf(field, sizeof(field), "backends[%u].", j);
		ret = chk_backend(c, vi, name, field, b);
		if (ret)
			return ret;
	}

	found = first_duplicate(v->backends, v->n_backends, cmp_backends, &dup, &orig);
	if (found < 0)
		return found;
	if (found) {
		char field[48];

		snprintf(field, sizeof(field), "backends[%u].address", dup);
		return verr(c, vi, name, field, " %s duplicates backends[%u]",
			    v->backends[dup].address, orig);
	}
	return 0;
}

static int validate_vip(struct vctx *c, int vi, struct xlb_config_vip *v)
{
	struct xlb_config_health_check *hc = &v->health_check;
	struct xlb_config_circuit_breaker *cb = &v->circuit_breaker;
	struct xlb_config_rate_limit *rl = &v->rate_limit;
	char msg[256], canon[XLB_VIP_NAME_MAX];
	const char *name;
	int ret;

	if (!v->vip)
		return verr(c, vi, NULL, "vip", ": required key missing");
	if (xlb_vip_addr__parse(v->vip, &v->addr, msg, sizeof(msg)))
		return verr(c, vi, NULL, "vip", ": %s", msg);
	xlb_vip_addr__format(&v->addr, canon, sizeof(canon));
	if (set_str(&v->vip, canon))
		return -ENOMEM;
	name = v->vip;

	ret = chk_vip(c, vi, name, "", v);
	if (ret)
		return ret;

	if (v->table_size > XLB_MAGLEV_MAX_SIZE)
		return verr(c, vi, name, "table_size", " %u above the maximum %u", v->table_size,
			    XLB_MAGLEV_MAX_SIZE);
	if (!is_prime(v->table_size)) {
		__u32 lo = v->table_size, hi = v->table_size;

		while (lo > 2 && !is_prime(lo))
			lo--;
		while (hi < XLB_MAGLEV_MAX_SIZE && !is_prime(hi))
			hi++;
		return verr(c, vi, name, "table_size", " %u is not prime (nearest primes: %u, %u)",
			    v->table_size, lo, hi);
	}
	if (v->table_size < v->n_backends)
		return verr(c, vi, name, "table_size",
			    " %u is smaller than the number of backends (%u)", v->table_size,
			    v->n_backends);

	ret = chk_rate_limit(c, vi, name, "rate_limit.", rl);
	if (ret)
		return ret;
	if (!rl->pps && rl->burst)
		return verr(c, vi, name, "rate_limit.burst",
			    " %u set but rate_limit.pps is 0 (off)", rl->burst);
	if (!rl->source_new_flows && rl->source_burst)
		return verr(c, vi, name, "rate_limit.source_burst",
			    " %u set but rate_limit.source_new_flows is 0 (off)", rl->source_burst);
	ret = chk_passive(c, vi, name, "passive.", &v->passive);
	if (ret)
		return ret;
	if (v->passive.syn_retransmit_ratio > 0 && !v->passive.min_syns)
		v->passive.min_syns = DEF_PASSIVE_MIN_SYNS;
	if (v->passive.syn_retransmit_ratio > 0 && v->addr.proto != IPPROTO_TCP)
		return verr(c, vi, name, "passive",
			    ": SYN retransmissions only exist for TCP VIPs");
	if (v->stateless && v->algorithm != XLB_CONFIG_ALGO_MAGLEV &&
	    v->algorithm != XLB_CONFIG_ALGO_SOURCE_HASH)
		return verr(c, vi, name, "stateless",
			    ": needs algorithm maglev or source-hash (%s picks a flow's backend "
			    "once and needs the connection table to keep it)",
			    xlb_config__algo_name(v->algorithm));
	if (v->stateless && v->passive.syn_retransmit_ratio > 0)
		return verr(c, vi, name, "passive",
			    ": the SYN retransmission signal needs the connection table, which a "
			    "stateless VIP does not use");
	if (rl->pps && !rl->burst)
		rl->burst = rl->pps;
	if (rl->source_algorithm == XLB_CONFIG_SRC_SLIDING_WINDOW && !rl->source_new_flows)
		return verr(c, vi, name, "rate_limit.source_algorithm",
			    " sliding-window set but rate_limit.source_new_flows is 0 (off)");
	if (rl->source_new_flows && !rl->source_burst)
		rl->source_burst = rl->source_new_flows;

	ret = chk_health_check(c, vi, name, "health_check.", hc);
	if (ret)
		return ret;
	if (hc->port > 65535)
		return verr(c, vi, name, "health_check.port", " %u out of range 1..65535",
			    hc->port);
	if (!hc->port)
		hc->port = v->addr.port;
	if (!hc->port && hc->type != XLB_CONFIG_HC_NONE)
		return verr(c, vi, name, "health_check.port",
			    ": required for type %s, as the VIP takes all ports",
			    xlb_config__hc_type_name(hc->type));
	if (!hc->path && set_str(&hc->path, DEF_HC_PATH))
		return -ENOMEM;
	if (!xlb_config__hc_path_ok(hc->path))
		return verr(c, vi, name, "health_check.path",
			    " '%s' must start with '/' and have no spaces, control characters or "
			    "bytes past ASCII (percent-encode them)",
			    hc->path);
	if (!hc->expect && set_str(&hc->expect, DEF_HC_EXPECT))
		return -ENOMEM;
	if (parse_expect(hc->expect, &hc->expect_lo, &hc->expect_hi))
		return verr(c, vi, name, "health_check.expect",
			    " '%s' malformed (expected a status or a range within 100..599, like "
			    "\"200\" or \"200-399\")",
			    hc->expect);
	if (hc->expect_lo == hc->expect_hi)
		snprintf(msg, sizeof(msg), "%u", hc->expect_lo);
	else
		snprintf(msg, sizeof(msg), "%u-%u", hc->expect_lo, hc->expect_hi);
	if (set_str(&hc->expect, msg))
		return -ENOMEM;
	ret = hc_host(c, vi, name, hc);
	if (ret)
		return ret;
	ret = hc_udp_bytes(c, vi, name, hc, "payload", &hc->payload, &hc->payload_hex);
	if (ret)
		return ret;
	ret = hc_udp_bytes(c, vi, name, hc, "response", &hc->response, &hc->response_hex);
	if (ret)
		return ret;
	/* A check must end before the next is due. */
	if (hc->timeout_ms >= hc->interval_ms)
		return verr(c, vi, name, "health_check.timeout_ms",
			    " %u must be below interval_ms %u", hc->timeout_ms, hc->interval_ms);

	ret = chk_circuit_breaker(c, vi, name, "circuit_breaker.", cb);
	if (ret)
		return ret;
	if (cb->max_ejection_ms < cb->base_ejection_ms)
		return verr(c, vi, name, "circuit_breaker.max_ejection_ms",
			    " %u is below base_ejection_ms %u", cb->max_ejection_ms,
			    cb->base_ejection_ms);

	return validate_backends(c, vi, v);
}

/*
 * The kernel's own tables (253 default, 254 main, 255 local) hold routes
 * that are not xlb's; 2^32-1 is not a table the kernel accepts.
 */
/*
 * forward: gue. Backends take UDP to gue_port as GUE (xlb-decap), so no
 * UDP traffic may reach a backend on that port other than GUE: not the
 * VIP's own port, nor an l2dsr UDP VIP's (sent unencapsulated), nor a UDP
 * health check. Other forward modes keep gue_port, unused. (Its range is
 * config_keys.h's.)
 */
static int validate_gue(struct vctx *c, const struct xlb_config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		if (v->forward != XLB_FWD_GUE)
			continue;
		if (v->addr.port == v->gue_port)
			return verr(c, (int)i, v->vip, "gue_port",
				    " %u is the VIP's own port: backends take it for GUE",
				    v->gue_port);
		if (v->health_check.type == XLB_CONFIG_HC_UDP &&
		    v->health_check.port == v->gue_port)
			return verr(c, (int)i, v->vip, "gue_port",
				    " %u is the UDP health check's port: backends take it for GUE",
				    v->gue_port);
		for (unsigned int j = 0; j < cfg->n_vips; j++) {
			const struct xlb_config_vip *u = &cfg->vips[j];

			if (u->forward == XLB_FWD_L2DSR && u->addr.proto == IPPROTO_UDP &&
			    (u->addr.port == v->gue_port || !u->addr.port))
				return verr(c, (int)i, v->vip, "gue_port",
					    " %u: l2dsr VIP %s sends it to backends unencapsulated, "
					    "and backends take it for GUE",
					    v->gue_port, u->vip);
		}
	}
	return 0;
}

static int validate_announce(struct vctx *c, struct xlb_config *cfg)
{
	struct xlb_config_announce *a = &cfg->announce;
	int ret = chk_announce(c, -1, NULL, "announce.", a);

	if (ret)
		return ret;
	if (a->table >= 253 && a->table <= 255)
		return verr(c, -1, NULL, "announce.table",
			    " %u is the kernel's %s table: use one of xlb's own (1..252 or "
			    "256..4294967294)",
			    a->table,
			    a->table == 253   ? "default"
			    : a->table == 254 ? "main"
					      : "local");
	if (a->table == UINT32_MAX)
		return verr(c, -1, NULL, "announce.table", " out of range 1..4294967294 (0 = off)");
	if (!a->min_healthy) /* a VIP without backends is never announced */
		a->min_healthy = XLB_CONFIG_ANNOUNCE_MIN_HEALTHY_DEFAULT;
	if (!a->table) {
		if (a->drained)
			return verr(
			    c, -1, NULL, "announce.drained",
			    ": there is nothing to drain with announcing off (announce.table "
			    "is 0)");
		return 0;
	}
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		if (v->n_backends && v->n_backends < a->min_healthy)
			return verr(c, -1, NULL, "announce.min_healthy",
				    " %u is above the %u backend%s of VIP %s: it could never be "
				    "announced",
				    a->min_healthy, v->n_backends, v->n_backends == 1 ? "" : "s",
				    v->vip ? v->vip : "?");
	}
	return 0;
}

int cfg_validate(struct xlb_config *cfg, const struct src *src, char *err, size_t errlen)
{
	struct vctx c = {.src = src, .err = err, .errlen = errlen};
	unsigned int i, j, total = 0, dup = 0, orig = 0;
	char msg[256], field[48];
	int found;
	int ret;

	if (cfg->n_interfaces > XLB_CONFIG_MAX_INTERFACES)
		return verr(&c, -1, NULL, "interfaces", ": %u, at most %u", cfg->n_interfaces,
			    XLB_CONFIG_MAX_INTERFACES);
	for (i = 0; i < cfg->n_interfaces; i++) {
		const struct xlb_config_interface *ifc = &cfg->interfaces[i];
		size_t len = ifc->name ? strlen(ifc->name) : 0;

		snprintf(field, sizeof(field), "interfaces[%u].name", i);
		if (!len || len > IFNAME_MAX || strpbrk(ifc->name, "/: \t"))
			return verr(&c, -1, NULL, field,
				    " '%s' is not an interface name (1..%d characters, no '/', ':' "
				    "or spaces)",
				    ifc->name ? ifc->name : "", IFNAME_MAX);
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->interfaces[j].name, ifc->name))
				return verr(&c, -1, NULL, field, " '%s' duplicates interfaces[%u]",
					    ifc->name, j);
		snprintf(field, sizeof(field), "interfaces[%u].", i);
		ret = chk_interface(&c, -1, NULL, field, ifc);
		if (ret)
			return ret;
		if (ifc->mtu && ifc->mtu < XLB_IPV6_MIN_MTU) {
			snprintf(field, sizeof(field), "interfaces[%u].mtu", i);
			return verr(&c, -1, NULL, field,
				    " %u out of range %u..65535 (0: the interface's)", ifc->mtu,
				    XLB_IPV6_MIN_MTU);
		}
	}

	if (!cfg->metrics.listen && set_str(&cfg->metrics.listen, XLB_CONFIG_METRICS_DEFAULT))
		return -ENOMEM;
	ret = chk_metrics(&c, -1, NULL, "metrics.", &cfg->metrics);
	if (ret)
		return ret;
	if (xlb_hostport__parse(cfg->metrics.listen, cfg->metrics.host, sizeof(cfg->metrics.host),
				&cfg->metrics.port, msg, sizeof(msg)))
		return verr(&c, -1, NULL, "metrics.listen", ": %s", msg);

	ret = chk_conntrack(&c, -1, NULL, "conntrack.", &cfg->conntrack);
	if (ret)
		return ret;

	if (cfg->n_vips > XLB_MAX_VIPS)
		return verr(&c, -1, NULL, "vips", ": %u VIPs, at most %u", cfg->n_vips,
			    XLB_MAX_VIPS);
	if (cfg->n_vips && !cfg->vips)
		return verr(&c, -1, NULL, "vips", ": missing");
	for (i = 0; i < cfg->n_vips; i++) {
		ret = validate_vip(&c, (int)i, &cfg->vips[i]);
		if (ret)
			return ret;
		total += cfg->vips[i].n_backends;
	}
	if (total > XLB_MAX_BACKENDS)
		return verr(&c, -1, NULL, "vips", ": %u backends in all, at most %u", total,
			    XLB_MAX_BACKENDS);

	found = first_duplicate(cfg->vips, cfg->n_vips, cmp_vips, &dup, &orig);
	if (found < 0)
		return found;
	if (found)
		return verr(&c, (int)dup, cfg->vips[dup].vip, "vip", ": %s duplicates vips[%u]",
			    cfg->vips[dup].vip, orig);
	return validate_gue(&c, cfg) ?: validate_announce(&c, cfg);
}

int xlb_config__validate(struct xlb_config *cfg, char *err, size_t errlen)
{
	int ret;

	if (!cfg) {
		snprintf(err, errlen, "no configuration");
		return -EINVAL;
	}
	ret = cfg_validate(cfg, NULL, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}
