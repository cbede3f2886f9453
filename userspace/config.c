/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The configuration model: YAML in and out through libcyaml schemas, then
 * defaults and validation.
 *
 * Two schemas describe the one YAML shape:
 *  - the load schema fills "raw" structs whose optional scalars are pointers,
 *    so an omitted key (NULL) is told apart from an explicit 0 and gets its
 *    default;
 *  - the save schema reads the validated model (struct xlb_config) directly
 *    and writes every key, so a saved file loads into an identical model.
 *
 * libcyaml reports problems through its log callback; we capture that text
 * and turn its backtrace into a field path. Lines come from a second pass
 * with libyaml's event parser that finds the node at a field path; it runs
 * only when there is an error to report, so good files are parsed once.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "userspace/config.h"

_Static_assert(XLB_CONFIG_ALGO_MAGLEV == (int)XLB_ALGO_MAGLEV,
	       "config and data-path algorithm numbers agree");
_Static_assert(XLB_CONFIG_ALGO_SOURCE_HASH == (int)XLB_ALGO_SOURCE_HASH,
	       "config and data-path algorithm numbers agree");

/* Defaults (documented in config.h). */
#define DEF_WEIGHT 100
#define DEF_HC_PATH "/"
#define DEF_HC_EXPECT "200-399"
#define DEF_HC_INTERVAL_MS 1000
#define DEF_HC_TIMEOUT_MS 500
#define DEF_HC_RISE 2
#define DEF_HC_FALL 3
#define DEF_HC_JITTER_PERCENT 10
#define MAX_HC_JITTER_PERCENT 50
#define DEF_CB_BASE_MS 5000
#define DEF_CB_MAX_MS 300000
#define DEF_CB_MAX_PERCENT 50
#define DEF_CB_SLOW_START_MS 10000

#define IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define PATH_MAX_COMPS 16
#define KEY_MAX 64
#define YAML_DEPTH_MAX 64

/* ---- names ---------------------------------------------------------- */

/* clang-format off */
static const cyaml_strval_t algo_names[] = {
	{ "maglev", XLB_CONFIG_ALGO_MAGLEV },
	{ "source-hash", XLB_CONFIG_ALGO_SOURCE_HASH },
	{ "wrr", XLB_CONFIG_ALGO_WRR },
	{ "rr", XLB_CONFIG_ALGO_RR },
	{ "lc", XLB_CONFIG_ALGO_LC },
};
/* clang-format on */

static const cyaml_strval_t source_algo_names[] = {
	{ "token-bucket", XLB_CONFIG_SRC_TOKEN_BUCKET },
	{ "sliding-window", XLB_CONFIG_SRC_SLIDING_WINDOW },
};

static const cyaml_strval_t forward_names[] = {
    {"ipip", XLB_FWD_IPIP},
    {"l2dsr", XLB_FWD_L2DSR},
    {"gue", XLB_FWD_GUE},
};

static const cyaml_strval_t hc_type_names[] = {
    {"none", XLB_CONFIG_HC_NONE},
    {"tcp", XLB_CONFIG_HC_TCP},
    {"http", XLB_CONFIG_HC_HTTP},
    {"udp", XLB_CONFIG_HC_UDP},
    {"https", XLB_CONFIG_HC_HTTPS},
};

static const cyaml_strval_t xdp_mode_names[] = {
    {"native", XLB_CONFIG_XDP_NATIVE},
    {"generic", XLB_CONFIG_XDP_GENERIC},
};

/*
 * libcyaml's own boolean takes any unknown word as true ("drain: flase"
 * would drain), so booleans load as a strict enum of YAML 1.1's words.
 */
static const cyaml_strval_t bool_names[] = {
    {"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}, {"on", 1}, {"off", 0},
};

#define N(a) ((uint32_t)CYAML_ARRAY_LEN(a))

static const char *strval_name(const cyaml_strval_t *t, uint32_t n, int v)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (t[i].val == v)
			return t[i].str;
	return "?";
}

static int strval_parse(const cyaml_strval_t *t, uint32_t n, const char *s, int *v)
{
	uint32_t i;

	for (i = 0; s && i < n; i++) {
		if (!strcmp(t[i].str, s)) {
			*v = (int)t[i].val;
			return 0;
		}
	}
	return -EINVAL;
}

/* "a, b or c" for error messages */
static void strval_list(const cyaml_strval_t *t, uint32_t n, char *buf, size_t len)
{
	size_t off = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i == 0	     ? ""
					: i == n - 1 ? " or "
						     : ", ",
					t[i].str);
}

const char *xlb_config__algo_name(enum xlb_config_algo a)
{
	return strval_name(algo_names, N(algo_names), (int)a);
}

int xlb_config__algo_parse(const char *s, enum xlb_config_algo *out)
{
	int v, ret = strval_parse(algo_names, N(algo_names), s, &v);

	if (!ret)
		*out = (enum xlb_config_algo)v;
	return ret;
}

const char *xlb_config__forward_name(enum xlb_forward f)
{
	return strval_name(forward_names, N(forward_names), (int)f);
}

int xlb_config__forward_parse(const char *s, enum xlb_forward *out)
{
	int v, ret = strval_parse(forward_names, N(forward_names), s, &v);

	if (!ret)
		*out = (enum xlb_forward)v;
	return ret;
}

const char *xlb_config__hc_type_name(enum xlb_config_hc_type t)
{
	return strval_name(hc_type_names, N(hc_type_names), (int)t);
}

int xlb_config__hc_type_parse(const char *s, enum xlb_config_hc_type *out)
{
	int v, ret = strval_parse(hc_type_names, N(hc_type_names), s, &v);

	if (!ret)
		*out = (enum xlb_config_hc_type)v;
	return ret;
}

const char *xlb_config__xdp_mode_name(enum xlb_config_xdp_mode m)
{
	return strval_name(xdp_mode_names, N(xdp_mode_names), (int)m);
}

int xlb_config__xdp_mode_parse(const char *s, enum xlb_config_xdp_mode *out)
{
	int v, ret = strval_parse(xdp_mode_names, N(xdp_mode_names), s, &v);

	if (!ret)
		*out = (enum xlb_config_xdp_mode)v;
	return ret;
}

/* ---- load schema: raw structs, optional scalars as pointers ---------- */

struct raw_interface {
	char *name;
	int *mode;
};

struct raw_metrics {
	char *listen;
};

struct raw_backend {
	char *address;
	uint32_t *weight;
	int *drain;
};

struct raw_rate_limit {
	uint32_t pps, burst, source_new_flows, source_burst;
	int source_algorithm;
};

struct raw_health_check {
	int *type;
	uint32_t *port;
	char *path;
	char *expect;
	char *host;
	uint32_t *interval_ms, *timeout_ms, *rise, *fall, *jitter_percent;
	char *payload, *payload_hex, *response, *response_hex;
};

struct raw_circuit_breaker {
	uint32_t *base_ejection_ms, *max_ejection_ms, *max_ejection_percent, *slow_start_ms;
};

struct raw_passive {
	double syn_retransmit_ratio;
	uint32_t min_syns;
};

struct raw_vip {
	char *vip;
	int *algorithm;
	int *forward;
	uint32_t *gue_port; /* forward: gue */
	uint32_t *table_size;
	int *stateless;
	struct raw_rate_limit rate_limit;
	struct raw_health_check health_check;
	struct raw_circuit_breaker circuit_breaker;
	struct raw_passive passive;
	struct raw_backend *backends;
	unsigned int n_backends;
};

struct raw_conntrack {
	uint32_t flood_guard_new_flows_per_cpu;
};

/* table as 64 bits, so a value past 2^32-1 gets our message, not libcyaml's */
struct raw_announce {
	uint64_t table;
	uint32_t *min_healthy;
	int *drained;
};

struct raw_config {
	struct raw_interface *interfaces;
	unsigned int n_interfaces;
	struct raw_metrics *metrics;
	struct raw_conntrack conntrack;
	struct raw_announce announce;
	struct raw_vip *vips;
	unsigned int n_vips;
};

#define OPT CYAML_FLAG_OPTIONAL
#define OPT_PTR (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
/* "vips:" with nothing after it is as good as leaving it out */
#define OPT_SEQ (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL)
#define OPT_ENUM (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER | CYAML_FLAG_STRICT)
#define STR_MAX 1024

static const cyaml_schema_field_t ld_interface_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct raw_interface, name, 0, KEY_MAX),
    CYAML_FIELD_ENUM_PTR("mode", OPT_ENUM, struct raw_interface, mode, xdp_mode_names,
			 N(xdp_mode_names)),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t ld_interface = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_interface, ld_interface_fields),
};

static const cyaml_schema_field_t ld_metrics_fields[] = {
    CYAML_FIELD_STRING_PTR("listen", OPT_PTR, struct raw_metrics, listen, 0, STR_MAX),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_backend_fields[] = {
    CYAML_FIELD_STRING_PTR("address", CYAML_FLAG_POINTER, struct raw_backend, address, 0, STR_MAX),
    CYAML_FIELD_UINT_PTR("weight", OPT_PTR, struct raw_backend, weight),
    CYAML_FIELD_ENUM_PTR("drain", OPT_ENUM | CYAML_FLAG_CASE_INSENSITIVE, struct raw_backend, drain,
			 bool_names, N(bool_names)),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t ld_backend = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_backend, ld_backend_fields),
};

static const cyaml_schema_field_t ld_rate_limit_fields[] = {
    CYAML_FIELD_UINT("pps", OPT, struct raw_rate_limit, pps),
    CYAML_FIELD_UINT("burst", OPT, struct raw_rate_limit, burst),
    CYAML_FIELD_UINT("source_new_flows", OPT, struct raw_rate_limit, source_new_flows),
    CYAML_FIELD_UINT("source_burst", OPT, struct raw_rate_limit, source_burst),
    CYAML_FIELD_ENUM("source_algorithm", OPT, struct raw_rate_limit, source_algorithm,
		     source_algo_names, N(source_algo_names)),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_health_check_fields[] = {
    CYAML_FIELD_ENUM_PTR("type", OPT_ENUM, struct raw_health_check, type, hc_type_names,
			 N(hc_type_names)),
    CYAML_FIELD_UINT_PTR("port", OPT_PTR, struct raw_health_check, port),
    CYAML_FIELD_STRING_PTR("path", OPT_PTR, struct raw_health_check, path, 0, STR_MAX),
    CYAML_FIELD_STRING_PTR("expect", OPT_PTR, struct raw_health_check, expect, 0, STR_MAX),
    CYAML_FIELD_STRING_PTR("host", OPT_PTR, struct raw_health_check, host, 0, STR_MAX),
    CYAML_FIELD_UINT_PTR("interval_ms", OPT_PTR, struct raw_health_check, interval_ms),
    CYAML_FIELD_UINT_PTR("timeout_ms", OPT_PTR, struct raw_health_check, timeout_ms),
    CYAML_FIELD_UINT_PTR("rise", OPT_PTR, struct raw_health_check, rise),
    CYAML_FIELD_UINT_PTR("fall", OPT_PTR, struct raw_health_check, fall),
    CYAML_FIELD_UINT_PTR("jitter_percent", OPT_PTR, struct raw_health_check, jitter_percent),
    /* lengths are checked by validation, which names the limit in bytes */
    CYAML_FIELD_STRING_PTR("payload", OPT_PTR, struct raw_health_check, payload, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("payload_hex", OPT_PTR, struct raw_health_check, payload_hex, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("response", OPT_PTR, struct raw_health_check, response, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("response_hex", OPT_PTR, struct raw_health_check, response_hex, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_circuit_breaker_fields[] = {
    CYAML_FIELD_UINT_PTR("base_ejection_ms", OPT_PTR, struct raw_circuit_breaker, base_ejection_ms),
    CYAML_FIELD_UINT_PTR("max_ejection_ms", OPT_PTR, struct raw_circuit_breaker, max_ejection_ms),
    CYAML_FIELD_UINT_PTR("max_ejection_percent", OPT_PTR, struct raw_circuit_breaker,
			 max_ejection_percent),
    CYAML_FIELD_UINT_PTR("slow_start_ms", OPT_PTR, struct raw_circuit_breaker, slow_start_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_passive_fields[] = {
    CYAML_FIELD_FLOAT("syn_retransmit_ratio", OPT, struct raw_passive, syn_retransmit_ratio),
    CYAML_FIELD_UINT("min_syns", OPT, struct raw_passive, min_syns),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_vip_fields[] = {
    CYAML_FIELD_STRING_PTR("vip", CYAML_FLAG_POINTER, struct raw_vip, vip, 0, STR_MAX),
    CYAML_FIELD_ENUM_PTR("algorithm", OPT_ENUM, struct raw_vip, algorithm, algo_names,
			 N(algo_names)),
    CYAML_FIELD_ENUM_PTR("forward", OPT_ENUM, struct raw_vip, forward, forward_names,
			 N(forward_names)),
    CYAML_FIELD_UINT_PTR("gue_port", OPT_PTR, struct raw_vip, gue_port),
    CYAML_FIELD_UINT_PTR("table_size", OPT_PTR, struct raw_vip, table_size),
    CYAML_FIELD_ENUM_PTR("stateless", OPT_ENUM | CYAML_FLAG_CASE_INSENSITIVE, struct raw_vip,
			 stateless, bool_names, N(bool_names)),
    CYAML_FIELD_MAPPING("rate_limit", OPT, struct raw_vip, rate_limit, ld_rate_limit_fields),
    CYAML_FIELD_MAPPING("health_check", OPT, struct raw_vip, health_check, ld_health_check_fields),
    CYAML_FIELD_MAPPING("circuit_breaker", OPT, struct raw_vip, circuit_breaker,
			ld_circuit_breaker_fields),
    CYAML_FIELD_MAPPING("passive", OPT, struct raw_vip, passive, ld_passive_fields),
    CYAML_FIELD_SEQUENCE_COUNT("backends", OPT_SEQ, struct raw_vip, backends, n_backends,
			       &ld_backend, 0, XLB_MAX_BACKENDS_PER_VIP),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t ld_vip = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_vip, ld_vip_fields),
};

static const cyaml_schema_field_t ld_conntrack_fields[] = {
    CYAML_FIELD_UINT("flood_guard_new_flows_per_cpu", OPT, struct raw_conntrack,
		     flood_guard_new_flows_per_cpu),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_announce_fields[] = {
    CYAML_FIELD_UINT("table", OPT, struct raw_announce, table),
    CYAML_FIELD_UINT_PTR("min_healthy", OPT_PTR, struct raw_announce, min_healthy),
    CYAML_FIELD_ENUM_PTR("drained", OPT_ENUM | CYAML_FLAG_CASE_INSENSITIVE, struct raw_announce,
			 drained, bool_names, N(bool_names)),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_config_fields[] = {
    CYAML_FIELD_SEQUENCE_COUNT("interfaces", OPT_SEQ, struct raw_config, interfaces, n_interfaces,
			       &ld_interface, 0, XLB_CONFIG_MAX_INTERFACES),
    CYAML_FIELD_MAPPING_PTR("metrics", OPT_SEQ, struct raw_config, metrics, ld_metrics_fields),
    CYAML_FIELD_MAPPING("conntrack", OPT, struct raw_config, conntrack, ld_conntrack_fields),
    CYAML_FIELD_MAPPING("announce", OPT, struct raw_config, announce, ld_announce_fields),
    CYAML_FIELD_SEQUENCE_COUNT("vips", OPT_SEQ, struct raw_config, vips, n_vips, &ld_vip, 0,
			       XLB_MAX_VIPS),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t ld_config = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, ld_config_fields),
};

/* ---- save schema: the validated model, every key -------------------- */

#define FLOW CYAML_FLAG_FLOW

static const cyaml_schema_field_t sv_interface_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct xlb_config_interface, name, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_ENUM("mode", CYAML_FLAG_DEFAULT, struct xlb_config_interface, mode, xdp_mode_names,
		     N(xdp_mode_names)),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t sv_interface = {
    CYAML_VALUE_MAPPING(FLOW, struct xlb_config_interface, sv_interface_fields),
};

static const cyaml_schema_field_t sv_metrics_fields[] = {
    CYAML_FIELD_STRING_PTR("listen", CYAML_FLAG_POINTER, struct xlb_config_metrics, listen, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_conntrack_fields[] = {
    CYAML_FIELD_UINT("flood_guard_new_flows_per_cpu", CYAML_FLAG_DEFAULT,
		     struct xlb_config_conntrack, flood_guard_new_flows_per_cpu),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_announce_fields[] = {
    CYAML_FIELD_UINT("table", CYAML_FLAG_DEFAULT, struct xlb_config_announce, table),
    CYAML_FIELD_UINT("min_healthy", CYAML_FLAG_DEFAULT, struct xlb_config_announce, min_healthy),
    CYAML_FIELD_BOOL("drained", CYAML_FLAG_DEFAULT, struct xlb_config_announce, drained),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_backend_fields[] = {
    CYAML_FIELD_STRING_PTR("address", CYAML_FLAG_POINTER, struct xlb_config_backend, address, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_UINT("weight", CYAML_FLAG_DEFAULT, struct xlb_config_backend, weight),
    CYAML_FIELD_BOOL("drain", CYAML_FLAG_DEFAULT, struct xlb_config_backend, drain),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t sv_backend = {
    CYAML_VALUE_MAPPING(FLOW, struct xlb_config_backend, sv_backend_fields),
};

static const cyaml_schema_field_t sv_rate_limit_fields[] = {
    CYAML_FIELD_UINT("pps", CYAML_FLAG_DEFAULT, struct xlb_config_rate_limit, pps),
    CYAML_FIELD_UINT("burst", CYAML_FLAG_DEFAULT, struct xlb_config_rate_limit, burst),
    CYAML_FIELD_UINT("source_new_flows", CYAML_FLAG_DEFAULT, struct xlb_config_rate_limit,
		     source_new_flows),
    CYAML_FIELD_UINT("source_burst", CYAML_FLAG_DEFAULT, struct xlb_config_rate_limit,
		     source_burst),
    CYAML_FIELD_ENUM("source_algorithm", CYAML_FLAG_DEFAULT, struct xlb_config_rate_limit,
		     source_algorithm, source_algo_names, N(source_algo_names)),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_health_check_fields[] = {
    CYAML_FIELD_ENUM("type", CYAML_FLAG_DEFAULT, struct xlb_config_health_check, type,
		     hc_type_names, N(hc_type_names)),
    CYAML_FIELD_UINT("port", CYAML_FLAG_DEFAULT, struct xlb_config_health_check, port),
    CYAML_FIELD_STRING_PTR("path", CYAML_FLAG_POINTER, struct xlb_config_health_check, path, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("expect", CYAML_FLAG_POINTER, struct xlb_config_health_check, expect, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("host", OPT_PTR, struct xlb_config_health_check, host, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_UINT("interval_ms", CYAML_FLAG_DEFAULT, struct xlb_config_health_check,
		     interval_ms),
    CYAML_FIELD_UINT("timeout_ms", CYAML_FLAG_DEFAULT, struct xlb_config_health_check, timeout_ms),
    CYAML_FIELD_UINT("rise", CYAML_FLAG_DEFAULT, struct xlb_config_health_check, rise),
    CYAML_FIELD_UINT("fall", CYAML_FLAG_DEFAULT, struct xlb_config_health_check, fall),
    CYAML_FIELD_UINT("jitter_percent", CYAML_FLAG_DEFAULT, struct xlb_config_health_check,
		     jitter_percent),
    CYAML_FIELD_STRING_PTR("payload_hex", OPT_PTR, struct xlb_config_health_check, payload_hex, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("response_hex", OPT_PTR, struct xlb_config_health_check, response_hex, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_circuit_breaker_fields[] = {
    CYAML_FIELD_UINT("base_ejection_ms", CYAML_FLAG_DEFAULT, struct xlb_config_circuit_breaker,
		     base_ejection_ms),
    CYAML_FIELD_UINT("max_ejection_ms", CYAML_FLAG_DEFAULT, struct xlb_config_circuit_breaker,
		     max_ejection_ms),
    CYAML_FIELD_UINT("max_ejection_percent", CYAML_FLAG_DEFAULT, struct xlb_config_circuit_breaker,
		     max_ejection_percent),
    CYAML_FIELD_UINT("slow_start_ms", CYAML_FLAG_DEFAULT, struct xlb_config_circuit_breaker,
		     slow_start_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_passive_fields[] = {
    CYAML_FIELD_FLOAT("syn_retransmit_ratio", CYAML_FLAG_DEFAULT, struct xlb_config_passive,
		      syn_retransmit_ratio),
    CYAML_FIELD_UINT("min_syns", CYAML_FLAG_DEFAULT, struct xlb_config_passive, min_syns),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_vip_fields[] = {
    CYAML_FIELD_STRING_PTR("vip", CYAML_FLAG_POINTER, struct xlb_config_vip, vip, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_ENUM("algorithm", CYAML_FLAG_DEFAULT, struct xlb_config_vip, algorithm, algo_names,
		     N(algo_names)),
    CYAML_FIELD_ENUM("forward", CYAML_FLAG_DEFAULT, struct xlb_config_vip, forward, forward_names,
		     N(forward_names)),
    CYAML_FIELD_UINT("gue_port", CYAML_FLAG_DEFAULT, struct xlb_config_vip, gue_port),
    CYAML_FIELD_UINT("table_size", CYAML_FLAG_DEFAULT, struct xlb_config_vip, table_size),
    CYAML_FIELD_BOOL("stateless", CYAML_FLAG_DEFAULT, struct xlb_config_vip, stateless),
    CYAML_FIELD_MAPPING("rate_limit", FLOW, struct xlb_config_vip, rate_limit,
			sv_rate_limit_fields),
    CYAML_FIELD_MAPPING("health_check", FLOW, struct xlb_config_vip, health_check,
			sv_health_check_fields),
    CYAML_FIELD_MAPPING("circuit_breaker", FLOW, struct xlb_config_vip, circuit_breaker,
			sv_circuit_breaker_fields),
    CYAML_FIELD_MAPPING("passive", FLOW, struct xlb_config_vip, passive, sv_passive_fields),
    CYAML_FIELD_SEQUENCE_COUNT("backends", CYAML_FLAG_POINTER, struct xlb_config_vip, backends,
			       n_backends, &sv_backend, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t sv_vip = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_BLOCK, struct xlb_config_vip, sv_vip_fields),
};

static const cyaml_schema_field_t sv_config_fields[] = {
    CYAML_FIELD_SEQUENCE_COUNT("interfaces", CYAML_FLAG_POINTER, struct xlb_config, interfaces,
			       n_interfaces, &sv_interface, 0, CYAML_UNLIMITED),
    CYAML_FIELD_MAPPING("metrics", FLOW, struct xlb_config, metrics, sv_metrics_fields),
    CYAML_FIELD_MAPPING("conntrack", FLOW, struct xlb_config, conntrack, sv_conntrack_fields),
    CYAML_FIELD_MAPPING("announce", FLOW, struct xlb_config, announce, sv_announce_fields),
    CYAML_FIELD_SEQUENCE_COUNT("vips", CYAML_FLAG_POINTER, struct xlb_config, vips, n_vips, &sv_vip,
			       0, CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t sv_config = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER | CYAML_FLAG_BLOCK, struct xlb_config, sv_config_fields),
};

/* ---- libcyaml log capture ------------------------------------------- */

struct cylog {
	char buf[4096];
	size_t len;
};

static void cylog_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct cylog *l = ctx;
	int n;

	if (level < CYAML_LOG_ERROR || l->len >= sizeof(l->buf) - 1)
		return;
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, args);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len > sizeof(l->buf) - 1)
		l->len = sizeof(l->buf) - 1;
}

static cyaml_config_t cyaml_cfg(struct cylog *log)
{
	cyaml_config_t c = {
	    .log_fn = log ? cylog_fn : NULL,
	    .log_ctx = log,
	    .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_ERROR,
	    .flags = CYAML_CFG_DEFAULT,
	};
	return c;
}

/* ---- finding a field's line with libyaml ----------------------------- */

struct path_comp {
	char key[KEY_MAX];
	long idx; /* >= 0: sequence index; -1: mapping key */
};

/* "vips[1].backends[2].weight" -> vips, [1], backends, [2], weight */
static int path_split(const char *path, struct path_comp *c, int max)
{
	const char *p = path;
	int n = 0;

	while (*p) {
		if (n == max)
			return -E2BIG;
		if (*p == '[') {
			char *end;

			c[n].idx = strtol(p + 1, &end, 10);
			if (*end != ']' || c[n].idx < 0)
				return -EINVAL;
			c[n].key[0] = '\0';
			p = end + 1;
		} else {
			size_t k = strcspn(p, ".[");

			if (k >= KEY_MAX)
				return -EINVAL;
			memcpy(c[n].key, p, k);
			c[n].key[k] = '\0';
			c[n].idx = -1;
			p += k;
		}
		n++;
		if (*p == '.')
			p++;
	}
	return n;
}

struct yfind {
	int depth;	 /* path components matched by the deepest node found */
	int line;	 /* that node's line, 1-based */
	bool found;	 /* the whole path */
	char value[128]; /* its scalar value, when found and a scalar */
	/* syntax error, when the text does not parse */
	bool syntax;
	int err_line, err_col;
	char problem[192];
};

struct yframe {
	bool map;
	bool want_key;
	bool key_ok;
	bool on_path;
	int depth;
	int key_line; /* of the current key: where a field is named */
	long idx;
	char key[KEY_MAX];
};

static void node_done(struct yframe *parent)
{
	if (!parent)
		return;
	if (parent->map)
		parent->want_key = !parent->want_key;
	else
		parent->idx++;
}

/*
 * Walk the first document of text and locate path (NULL: only look for a
 * syntax error); last: its last occurrence (a duplicate key), not its first.
 * Aliases are not followed: a path through one stops at it.
 */
static void yaml_find(const char *text, size_t len, const char *path, bool last, struct yfind *r)
{
	struct path_comp comps[PATH_MAX_COMPS];
	struct yframe st[YAML_DEPTH_MAX];
	int ncomp = 0, n = 0, overflow = 0;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;

	memset(r, 0, sizeof(*r));
	r->depth = -1;
	if (path) {
		ncomp = path_split(path, comps, PATH_MAX_COMPS);
		if (ncomp < 0)
			return;
	}
	if (!yaml_parser_initialize(&parser))
		return;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	while (!done) {
		struct yframe *parent;
		bool is_key, on = false;
		int d;

		if (!yaml_parser_parse(&parser, &ev)) {
			r->syntax = true;
			r->err_line = (int)parser.problem_mark.line + 1;
			r->err_col = (int)parser.problem_mark.column + 1;
			snprintf(r->problem, sizeof(r->problem), "%s%s%s",
				 parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (path)
				done = true;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (overflow) {
				overflow--;
				break;
			}
			if (n > 0)
				n--;
			if (!overflow)
				node_done(n ? &st[n - 1] : NULL);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (overflow) {
				if (ev.type == YAML_MAPPING_START_EVENT ||
				    ev.type == YAML_SEQUENCE_START_EVENT)
					overflow++;
				break;
			}
			parent = n ? &st[n - 1] : NULL;
			is_key = parent && parent->map && parent->want_key;
			d = parent ? parent->depth + 1 : 0;
			if (!parent) {
				on = true;
			} else if (!is_key && parent->on_path && parent->depth < ncomp) {
				const struct path_comp *c = &comps[parent->depth];

				if (parent->map)
					on = c->idx < 0 && parent->key_ok &&
					     !strcmp(parent->key, c->key);
				else
					on = c->idx == parent->idx;
			}
			if (on && path && (d > r->depth || (last && d == ncomp))) {
				r->depth = d;
				r->line = parent && parent->map ? parent->key_line
								: (int)ev.start_mark.line + 1;
				if (d == ncomp) {
					r->found = true;
					if (ev.type == YAML_SCALAR_EVENT)
						snprintf(r->value, sizeof(r->value), "%.*s",
							 (int)ev.data.scalar.length,
							 (const char *)ev.data.scalar.value);
					if (!last) {
						done = true;
						break;
					}
				}
			}
			if (is_key) {
				parent->key_line = (int)ev.start_mark.line + 1;
				parent->key_ok =
				    ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length < KEY_MAX;
				if (parent->key_ok) {
					memcpy(parent->key, ev.data.scalar.value,
					       ev.data.scalar.length);
					parent->key[ev.data.scalar.length] = '\0';
				}
			}
			if (ev.type == YAML_MAPPING_START_EVENT ||
			    ev.type == YAML_SEQUENCE_START_EVENT) {
				if (n == YAML_DEPTH_MAX) {
					overflow = 1;
					break;
				}
				memset(&st[n], 0, sizeof(st[n]));
				st[n].map = ev.type == YAML_MAPPING_START_EVENT;
				st[n].want_key = st[n].map;
				st[n].on_path = on;
				st[n].depth = d;
				n++;
			} else {
				node_done(parent);
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
}

/* ---- error messages -------------------------------------------------- */

/* The text being loaded, for line numbers; NULL when validating a model
 * built in code.
 */
struct src {
	const char *text;
	size_t len;
};

/*
 * err = "[line N: ]vips[i] (NAME): REST MSG" or "[line N: ]PATH MSG".
 * path is the field path ("vips[1].backends[2].weight"); name is the VIP's
 * canonical name when known, else it is looked up in the text. msg starts
 * with its own separator (" 0 out of range", ": unknown key").
 */
static void format_err(char *err, size_t errlen, const struct src *src, const char *path,
		       const char *name, const char *msg, bool last)
{
	char where[32] = "", vipname[160] = "", head[32];
	const char *rest = path;
	struct yfind f;
	int vi, nc = 0;

	if (!err || !errlen)
		return;
	if (src && src->text) {
		yaml_find(src->text, src->len, path, last, &f);
		if (f.depth > 0)
			snprintf(where, sizeof(where), "line %d: ", f.line);
	}
	if (sscanf(path, "vips[%d]%n", &vi, &nc) == 1 && nc > 0) {
		rest = path + nc;
		if (*rest == '.')
			rest++;
		snprintf(head, sizeof(head), "vips[%d]", vi);
		if (!name && src && src->text && strcmp(rest, "vip")) {
			char vp[48];

			snprintf(vp, sizeof(vp), "vips[%d].vip", vi);
			yaml_find(src->text, src->len, vp, false, &f);
			if (f.found && f.value[0])
				name = f.value;
		}
		if (name && strcmp(rest, "vip"))
			snprintf(vipname, sizeof(vipname), " (%s)", name);
		snprintf(err, errlen, "%s%s%s%s%s%s", where, head, vipname, *rest ? ": " : "", rest,
			 msg);
		return;
	}
	snprintf(err, errlen, "%s%s%s", where, path, msg);
}

struct vctx {
	const struct src *src;
	char *err;
	size_t errlen;
};

static int verr(struct vctx *c, int vi, const char *name, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * A validation error about field (relative to vips[vi] when vi >= 0). fmt
 * continues the sentence after the field name, with its own separator.
 */
static int verr(struct vctx *c, int vi, const char *name, const char *field, const char *fmt, ...)
{
	char path[160], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vi >= 0)
		snprintf(path, sizeof(path), "vips[%d]%s%s", vi, *field ? "." : "", field);
	else
		snprintf(path, sizeof(path), "%s", field);
	format_err(c->err, c->errlen, c->src, path, name, msg, false);
	return -EINVAL;
}

/*
 * Turn libcyaml's log into one message. It logs, innermost first:
 *   Load: Invalid UINT value: '-1'
 *   Load: Backtrace:
 *     in mapping field 'weight' (line: 6, column: 36)
 *     in sequence entry '2' (line: 6, column: 9)      <- 1-based
 *     in mapping field 'backends' (line: 5, column: 7)
 *     ...
 */
static void cyaml_err_msg(const struct cylog *log, cyaml_err_t cerr, const struct src *src,
			  char *err, size_t errlen)
{
	char comps[PATH_MAX_COMPS][KEY_MAX + 8], path[256] = "", msg[512] = "";
	char text[sizeof(log->buf)], *line, *save = NULL, what[KEY_MAX] = "";
	bool first_frame = true, drop_field = false, dup_key = false;
	bool drop_entry = false;
	int ncomp = 0, i;
	struct yfind f;

	if (cerr == CYAML_ERR_LIBYAML_PARSER && src->text) {
		yaml_find(src->text, src->len, NULL, false, &f);
		if (f.syntax) {
			snprintf(err, errlen, "line %d, column %d: malformed YAML: %s", f.err_line,
				 f.err_col, f.problem);
			return;
		}
	}

	memcpy(text, log->buf, log->len);
	text[log->len] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *q;
		unsigned int idx;

		if (!strncmp(line, "Load: ", 6))
			line += 6;
		if (!strcmp(line, "Backtrace:"))
			continue;
		while (*line == ' ')
			line++;
		if (!strncmp(line, "in ", 3)) {
			if (ncomp == PATH_MAX_COMPS)
				continue;
			if (sscanf(line, "in mapping field '%63[^']'", comps[ncomp]) == 1) {
				/* for a missing field, libcyaml names the last
				 * field it saw: not where the problem is
				 */
				if (first_frame && drop_field) {
					first_frame = false;
					continue;
				}
				ncomp++;
			} else if (sscanf(line, "in sequence entry '%u'", &idx) == 1) {
				/* too many entries: the sequence is the problem */
				if (first_frame && drop_entry) {
					first_frame = false;
					continue;
				}
				snprintf(comps[ncomp], sizeof(comps[ncomp]), "[%u]",
					 idx ? idx - 1 : 0);
				ncomp++;
			}
			first_frame = false;
			continue;
		}
		if (msg[0])
			continue;
		if ((q = strstr(line, "Unexpected key: "))) {
			snprintf(what, sizeof(what), "%s", q + 16);
			snprintf(msg, sizeof(msg), ": unknown key");
		} else if ((q = strstr(line, "Missing required mapping field: "))) {
			snprintf(what, sizeof(what), "%s", q + 32);
			snprintf(msg, sizeof(msg), ": required key missing");
			drop_field = true;
		} else if ((q = strstr(line, "Mapping field already seen: "))) {
			snprintf(msg, sizeof(msg), ": duplicate key");
			dup_key = true;
		} else if ((q = strstr(line, "Excessive entries ("))) {
			snprintf(msg, sizeof(msg), ": too many entries (at most %u)",
				 (unsigned int)strtoul(q + 19, NULL, 10));
			drop_entry = true;
		} else if ((q = strstr(line, "Invalid ENUM value: "))) {
			snprintf(msg, sizeof(msg), ": unknown value '%s'", q + 20);
		} else {
			snprintf(msg, sizeof(msg), ": %s (%s)", line, cyaml_strerror(cerr));
		}
	}
	if (!msg[0])
		snprintf(msg, sizeof(msg), ": %s", cyaml_strerror(cerr));

	/* outermost first */
	for (i = ncomp - 1; i >= 0; i--) {
		size_t off = strlen(path);

		snprintf(path + off, sizeof(path) - off, "%s%s",
			 off && comps[i][0] != '[' ? "." : "", comps[i]);
	}
	if (what[0]) {
		size_t off = strlen(path);

		snprintf(path + off, sizeof(path) - off, "%s%s", off ? "." : "", what);
	}

	/* name the accepted values of an enum field */
	if (!strncmp(msg, ": unknown value", 15) && ncomp) {
		static const struct {
			const char *key;
			const cyaml_strval_t *t;
			uint32_t n;
		} enums[] = {
		    {"algorithm", algo_names, N(algo_names)},
		    {"forward", forward_names, N(forward_names)},
		    {"type", hc_type_names, N(hc_type_names)},
		    {"mode", xdp_mode_names, N(xdp_mode_names)},
		    {"drain", bool_names, N(bool_names)},
		    {"stateless", bool_names, N(bool_names)},
		    {"drained", bool_names, N(bool_names)},
		};
		size_t k;

		for (k = 0; k < CYAML_ARRAY_LEN(enums); k++) {
			char list[128];
			size_t off = strlen(msg);

			if (strcmp(comps[0], enums[k].key))
				continue;
			strval_list(enums[k].t, enums[k].n, list, sizeof(list));
			snprintf(msg + off, sizeof(msg) - off, " (expected %s)", list);
		}
	}
	if (!path[0]) {
		/* the document itself, e.g. a list instead of a mapping */
		snprintf(err, errlen, "top level%s", msg);
		return;
	}
	format_err(err, errlen, src, path, NULL, msg, dup_key);
}

/* ---- raw -> model with defaults -------------------------------------- */

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

void xlb_config__backend_defaults(struct xlb_config_backend *be)
{
	be->weight = DEF_WEIGHT;
	be->drain = false;
}

void xlb_config__vip_defaults(struct xlb_config_vip *v)
{
	struct xlb_config_health_check *hc = &v->health_check;
	struct xlb_config_circuit_breaker *cb = &v->circuit_breaker;

	v->algorithm = XLB_CONFIG_ALGO_MAGLEV;
	v->forward = XLB_FWD_IPIP;
	v->gue_port = XLB_GUE_DEFAULT_PORT;
	v->table_size = XLB_MAGLEV_DEFAULT_SIZE;
	v->stateless = false;
	memset(&v->rate_limit, 0, sizeof(v->rate_limit));
	memset(&v->passive, 0, sizeof(v->passive));
	hc->type = XLB_CONFIG_HC_NONE;
	hc->port = 0;
	hc->interval_ms = DEF_HC_INTERVAL_MS;
	hc->timeout_ms = DEF_HC_TIMEOUT_MS;
	hc->rise = DEF_HC_RISE;
	hc->fall = DEF_HC_FALL;
	hc->jitter_percent = DEF_HC_JITTER_PERCENT;
	cb->base_ejection_ms = DEF_CB_BASE_MS;
	cb->max_ejection_ms = DEF_CB_MAX_MS;
	cb->max_ejection_percent = DEF_CB_MAX_PERCENT;
	cb->slow_start_ms = DEF_CB_SLOW_START_MS;
}

static void convert_vip(const struct raw_vip *r, struct xlb_config_vip *v, bool *oom)
{
	const struct raw_health_check *rh = &r->health_check;
	const struct raw_circuit_breaker *rc = &r->circuit_breaker;
	struct xlb_config_health_check *hc = &v->health_check;
	struct xlb_config_circuit_breaker *cb = &v->circuit_breaker;
	unsigned int i;

	xlb_config__vip_defaults(v);
	v->vip = dup_or_null(r->vip, oom);
	if (r->algorithm)
		v->algorithm = (enum xlb_config_algo) * r->algorithm;
	if (r->forward)
		v->forward = (enum xlb_forward) * r->forward;
	if (r->gue_port)
		v->gue_port = *r->gue_port;
	if (r->table_size)
		v->table_size = *r->table_size;
	if (r->stateless)
		v->stateless = *r->stateless != 0;
	v->rate_limit.pps = r->rate_limit.pps;
	v->rate_limit.burst = r->rate_limit.burst;
	v->rate_limit.source_new_flows = r->rate_limit.source_new_flows;
	v->rate_limit.source_burst = r->rate_limit.source_burst;
	v->rate_limit.source_algorithm = (enum xlb_config_source_algo)r->rate_limit.source_algorithm;
	v->passive.syn_retransmit_ratio = r->passive.syn_retransmit_ratio;
	v->passive.min_syns = r->passive.min_syns;

	if (rh->type)
		hc->type = (enum xlb_config_hc_type) * rh->type;
	if (rh->port)
		hc->port = *rh->port;
	hc->path = dup_or_null(rh->path, oom);
	hc->expect = dup_or_null(rh->expect, oom);
	hc->host = dup_or_null(rh->host, oom);
	if (rh->interval_ms)
		hc->interval_ms = *rh->interval_ms;
	if (rh->timeout_ms)
		hc->timeout_ms = *rh->timeout_ms;
	else if (hc->interval_ms && hc->interval_ms <= hc->timeout_ms)
		hc->timeout_ms = hc->interval_ms / 2; /* below the interval */
	if (rh->rise)
		hc->rise = *rh->rise;
	if (rh->fall)
		hc->fall = *rh->fall;
	if (rh->jitter_percent)
		hc->jitter_percent = *rh->jitter_percent;
	hc->payload = dup_or_null(rh->payload, oom);
	hc->payload_hex = dup_or_null(rh->payload_hex, oom);
	hc->response = dup_or_null(rh->response, oom);
	hc->response_hex = dup_or_null(rh->response_hex, oom);

	if (rc->base_ejection_ms)
		cb->base_ejection_ms = *rc->base_ejection_ms;
	if (rc->max_ejection_ms)
		cb->max_ejection_ms = *rc->max_ejection_ms;
	else if (cb->max_ejection_ms < cb->base_ejection_ms)
		cb->max_ejection_ms = cb->base_ejection_ms;
	if (rc->max_ejection_percent)
		cb->max_ejection_percent = *rc->max_ejection_percent;
	if (rc->slow_start_ms)
		cb->slow_start_ms = *rc->slow_start_ms;

	if (!r->n_backends)
		return;
	v->backends = calloc(r->n_backends, sizeof(*v->backends));
	if (!v->backends) {
		*oom = true;
		return;
	}
	v->n_backends = r->n_backends;
	for (i = 0; i < r->n_backends; i++) {
		const struct raw_backend *rb = &r->backends[i];
		struct xlb_config_backend *b = &v->backends[i];

		xlb_config__backend_defaults(b);
		b->address = dup_or_null(rb->address, oom);
		if (rb->weight)
			b->weight = *rb->weight;
		if (rb->drain)
			b->drain = *rb->drain != 0;
	}
}

static struct xlb_config *convert(const struct raw_config *r)
{
	struct xlb_config *cfg;
	bool oom = false;
	unsigned int i;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	if (!r)
		return cfg; /* "{}": every key omitted */

	if (r->metrics)
		cfg->metrics.listen = dup_or_null(r->metrics->listen, &oom);
	cfg->conntrack.flood_guard_new_flows_per_cpu = r->conntrack.flood_guard_new_flows_per_cpu;
	/* out of range stays out of range, for validate() to name */
	cfg->announce.table = r->announce.table > UINT32_MAX ? UINT32_MAX : (__u32)r->announce.table;
	cfg->announce.min_healthy = r->announce.min_healthy ? *r->announce.min_healthy : 0;
	cfg->announce.drained = r->announce.drained && *r->announce.drained;

	if (r->n_interfaces) {
		cfg->interfaces = calloc(r->n_interfaces, sizeof(*cfg->interfaces));
		if (!cfg->interfaces)
			goto oom;
		cfg->n_interfaces = r->n_interfaces;
		for (i = 0; i < r->n_interfaces; i++) {
			const struct raw_interface *ri = &r->interfaces[i];

			cfg->interfaces[i].name = dup_or_null(ri->name, &oom);
			cfg->interfaces[i].mode = ri->mode ? (enum xlb_config_xdp_mode) * ri->mode
							   : XLB_CONFIG_XDP_NATIVE;
		}
	}

	if (r->n_vips) {
		cfg->vips = calloc(r->n_vips, sizeof(*cfg->vips));
		if (!cfg->vips)
			goto oom;
		cfg->n_vips = r->n_vips;
		for (i = 0; i < r->n_vips; i++)
			convert_vip(&r->vips[i], &cfg->vips[i], &oom);
	}
	if (oom)
		goto oom;
	return cfg;
oom:
	xlb_config__free(cfg);
	return NULL;
}

/* ---- validation ------------------------------------------------------ */

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

static bool is_http_path(const char *s)
{
	size_t i;

	if (s[0] != '/' || strlen(s) > XLB_CONFIG_HC_PATH_MAX)
		return false;
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
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
	int found;

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

		snprintf(field, sizeof(field), "backends[%u].weight", j);
		if (b->weight < 1 || b->weight > XLB_WEIGHT_MAX)
			return verr(c, vi, name, field, " %u out of range 1..%u", b->weight,
				    XLB_WEIGHT_MAX);
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
	char msg[256], canon[XLB_VIP_NAME_MAX], list[128];
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

	if ((unsigned int)v->algorithm >= XLB_CONFIG_ALGO_MAX) {
		strval_list(algo_names, N(algo_names), list, sizeof(list));
		return verr(c, vi, name, "algorithm", ": unknown value %d (expected %s)",
			    v->algorithm, list);
	}
	if ((unsigned int)v->forward >= XLB_FWD_MAX) {
		strval_list(forward_names, N(forward_names), list, sizeof(list));
		return verr(c, vi, name, "forward", ": unknown value %d (expected %s)", v->forward,
			    list);
	}

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

	if (!rl->pps && rl->burst)
		return verr(c, vi, name, "rate_limit.burst",
			    " %u set but rate_limit.pps is 0 (off)", rl->burst);
	if (!rl->source_new_flows && rl->source_burst)
		return verr(c, vi, name, "rate_limit.source_burst",
			    " %u set but rate_limit.source_new_flows is 0 (off)", rl->source_burst);
	if (!(v->passive.syn_retransmit_ratio >= 0 && v->passive.syn_retransmit_ratio <= 1))
		return verr(c, vi, name, "passive.syn_retransmit_ratio",
			    " %g out of range 0..1 (0 = off)", v->passive.syn_retransmit_ratio);
	if (v->passive.syn_retransmit_ratio > 0 && !v->passive.min_syns)
		v->passive.min_syns = 20;
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

	if ((unsigned int)hc->type >= XLB_CONFIG_HC_MAX) {
		strval_list(hc_type_names, N(hc_type_names), list, sizeof(list));
		return verr(c, vi, name, "health_check.type", ": unknown value %d (expected %s)",
			    hc->type, list);
	}
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
	if (!is_http_path(hc->path))
		return verr(c, vi, name, "health_check.path",
			    " '%s' must start with '/' and have no spaces or control characters",
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
	if (hc->interval_ms < 2)
		return verr(c, vi, name, "health_check.interval_ms",
			    " must be at least 2 (a timeout below it must fit)");
	if (!hc->timeout_ms)
		return verr(c, vi, name, "health_check.timeout_ms", " must be at least 1");
	/* A check must end before the next is due. */
	if (hc->timeout_ms >= hc->interval_ms)
		return verr(c, vi, name, "health_check.timeout_ms",
			    " %u must be below interval_ms %u", hc->timeout_ms, hc->interval_ms);
	if (!hc->rise)
		return verr(c, vi, name, "health_check.rise", " must be at least 1");
	if (!hc->fall)
		return verr(c, vi, name, "health_check.fall", " must be at least 1");
	if (hc->jitter_percent > MAX_HC_JITTER_PERCENT)
		return verr(c, vi, name, "health_check.jitter_percent", " %u out of range 0..%u",
			    hc->jitter_percent, MAX_HC_JITTER_PERCENT);

	if (!cb->base_ejection_ms)
		return verr(c, vi, name, "circuit_breaker.base_ejection_ms", " must be at least 1");
	if (cb->max_ejection_ms < cb->base_ejection_ms)
		return verr(c, vi, name, "circuit_breaker.max_ejection_ms",
			    " %u is below base_ejection_ms %u", cb->max_ejection_ms,
			    cb->base_ejection_ms);
	if (cb->max_ejection_percent > 100)
		return verr(c, vi, name, "circuit_breaker.max_ejection_percent",
			    " %u out of range 0..100", cb->max_ejection_percent);

	return validate_backends(c, vi, v);
}

/*
 * The kernel's own tables (253 default, 254 main, 255 local) hold routes
 * that are not xlb's; 2^32-1 is not a table the kernel accepts.
 */
static int validate_announce(struct vctx *c, struct xlb_config *cfg)
{
	struct xlb_config_announce *a = &cfg->announce;

	if (a->table >= 253 && a->table <= 255)
		return verr(c, -1, NULL, "announce.table",
			    " %u is the kernel's %s table: use one of xlb's own (1..252 or "
			    "256..4294967294)",
			    a->table, a->table == 253 ? "default" : a->table == 254 ? "main" : "local");
	if (a->table == UINT32_MAX)
		return verr(c, -1, NULL, "announce.table", " out of range 1..4294967294 (0 = off)");
	if (!a->min_healthy) /* a VIP without backends is never announced */
		a->min_healthy = XLB_CONFIG_ANNOUNCE_MIN_HEALTHY_DEFAULT;
	if (!a->table) {
		if (a->drained)
			return verr(c, -1, NULL, "announce.drained",
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

/*
 * forward: gue. Backends take UDP to gue_port as GUE (xlb-decap), so no
 * UDP traffic may reach a backend on that port other than GUE: not the
 * VIP's own port, nor an l2dsr UDP VIP's (sent unencapsulated), nor a UDP
 * health check. Other forward modes keep gue_port, unused.
 */
static int validate_gue(struct vctx *c, struct xlb_config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		if (!v->gue_port || v->gue_port > 65535)
			return verr(c, (int)i, v->vip, "gue_port", " %u out of range 1..65535",
				    v->gue_port);
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

static int validate(struct xlb_config *cfg, const struct src *src, char *err, size_t errlen)
{
	struct vctx c = {.src = src, .err = err, .errlen = errlen};
	unsigned int i, j, total = 0, dup = 0, orig = 0;
	char msg[256], field[48], list[64];
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
		if ((unsigned int)ifc->mode >= XLB_CONFIG_XDP_MAX) {
			snprintf(field, sizeof(field), "interfaces[%u].mode", i);
			strval_list(xdp_mode_names, N(xdp_mode_names), list, sizeof(list));
			return verr(&c, -1, NULL, field, ": unknown value %d (expected %s)",
				    ifc->mode, list);
		}
	}

	if (!cfg->metrics.listen && set_str(&cfg->metrics.listen, XLB_CONFIG_METRICS_DEFAULT))
		return -ENOMEM;
	if (xlb_hostport__parse(cfg->metrics.listen, cfg->metrics.host, sizeof(cfg->metrics.host),
				&cfg->metrics.port, msg, sizeof(msg)))
		return verr(&c, -1, NULL, "metrics.listen", ": %s", msg);

	if (cfg->conntrack.flood_guard_new_flows_per_cpu > XLB_CONFIG_FLOOD_GUARD_MAX)
		return verr(&c, -1, NULL, "conntrack.flood_guard_new_flows_per_cpu",
			    " %u out of range 0..%u (0 = off)",
			    cfg->conntrack.flood_guard_new_flows_per_cpu,
			    XLB_CONFIG_FLOOD_GUARD_MAX);

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
	ret = validate_gue(&c, cfg);
	if (ret)
		return ret;
	return validate_announce(&c, cfg);
}

int xlb_config__validate(struct xlb_config *cfg, char *err, size_t errlen)
{
	int ret;

	if (!cfg) {
		snprintf(err, errlen, "no configuration");
		return -EINVAL;
	}
	ret = validate(cfg, NULL, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

/* ---- load ------------------------------------------------------------ */

/* True when text holds nothing but blanks and comments. */
static bool yaml_empty(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
		} else if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
			   text[i] == '\n') {
			i++;
		} else {
			return false;
		}
	}
	return true;
}

static int load_string(const char *buf, size_t len, struct xlb_config **out, char *err,
		       size_t errlen)
{
	struct src src = {.text = buf, .len = len};
	struct raw_config *raw = NULL;
	struct xlb_config *cfg;
	struct cylog log;
	cyaml_config_t cc;
	cyaml_err_t cerr;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!buf || yaml_empty(buf, len)) {
		snprintf(err, errlen, "empty configuration (for no VIPs, write \"vips: []\")");
		return -EINVAL;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "configuration contains a NUL byte");
		return -EINVAL;
	}

	log.len = 0;
	log.buf[0] = '\0';
	cc = cyaml_cfg(&log);
	cerr = cyaml_load_data((const uint8_t *)buf, len, &cc, &ld_config, (cyaml_data_t **)&raw,
			       NULL);
	if (cerr != CYAML_OK) {
		if (cerr == CYAML_ERR_OOM) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		cyaml_err_msg(&log, cerr, &src, err, errlen);
		return -EINVAL;
	}

	cfg = convert(raw);
	cc = cyaml_cfg(NULL);
	cyaml_free(&cc, &ld_config, raw, 0);
	if (!cfg) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = validate(cfg, &src, err, errlen);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		xlb_config__free(cfg);
		return ret;
	}
	*out = cfg;
	return 0;
}

/* Errors are one line: a value quoted from the input may hold a newline. */
static void one_line(char *msg)
{
	for (; msg && *msg; msg++)
		if ((unsigned char)*msg < 0x20)
			*msg = ' ';
}

int xlb_config__load_string(const char *buf, size_t len, struct xlb_config **out, char *err,
			    size_t errlen)
{
	int ret = load_string(buf, len, out, err, errlen);

	if (ret && err && errlen)
		one_line(err);
	return ret;
}

int xlb_config__load_file(const char *path, struct xlb_config **out, char *err, size_t errlen)
{
	char *buf = NULL, msg[1024];
	size_t len = 0;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > XLB_CONFIG_FILE_MAX) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: %lld bytes, at most %d", path, (long long)st.st_size,
			 XLB_CONFIG_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	ret = xlb_config__load_string(buf, len, out, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "%s: %s", path, msg);
out:
	free(buf);
	close(fd);
	return ret;
}

/* ---- save ------------------------------------------------------------ */

int xlb_config__to_string(const struct xlb_config *cfg, char **out)
{
	static struct xlb_config_interface no_interface;
	static struct xlb_config_backend no_backend;
	static struct xlb_config_vip no_vip;
	cyaml_config_t cc = cyaml_cfg(NULL);
	struct xlb_config view;
	char *yaml = NULL, *s;
	unsigned int i;
	cyaml_err_t cerr;
	size_t len = 0;

	if (!cfg || !cfg->metrics.listen)
		return -EINVAL;

	/*
	 * libcyaml refuses a NULL array even when its count is 0, so save a
	 * view whose empty arrays point at a dummy it will not read.
	 */
	view = *cfg;
	if (!view.interfaces)
		view.interfaces = &no_interface;
	if (!view.vips)
		view.vips = &no_vip;
	if (cfg->vips) {
		view.vips = malloc(cfg->n_vips * sizeof(*view.vips) + 1);
		if (!view.vips)
			return -ENOMEM;
		memcpy(view.vips, cfg->vips, cfg->n_vips * sizeof(*view.vips));
		for (i = 0; i < cfg->n_vips; i++)
			if (!view.vips[i].backends)
				view.vips[i].backends = &no_backend;
	}
	cerr = cyaml_save_data(&yaml, &len, &cc, &sv_config, &view, 0);
	if (cfg->vips)
		free(view.vips);
	if (cerr == CYAML_ERR_OOM)
		return -ENOMEM;
	if (cerr != CYAML_OK)
		return -EINVAL; /* a NULL string: the model was not validated */
	s = malloc(len + 1);
	if (!s) {
		cc.mem_fn(cc.mem_ctx, yaml, 0);
		return -ENOMEM;
	}
	memcpy(s, yaml, len);
	s[len] = '\0';
	cc.mem_fn(cc.mem_ctx, yaml, 0);
	*out = s;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int xlb_config__save_prepare(const struct xlb_config *cfg, const char *path,
			     struct xlb_config_save *sv, char *err, size_t errlen)
{
	char *text = NULL, *slash;
	const char *base;
	struct stat st;
	int fd = -1, ret;

	memset(sv, 0, sizeof(*sv));
	ret = xlb_config__to_string(cfg, &text);
	if (ret) {
		snprintf(err, errlen, "%s: cannot serialise: %s", path, strerror(-ret));
		return ret;
	}

	snprintf(sv->dir, sizeof(sv->dir), "%s", path);
	slash = strrchr(sv->dir, '/');
	if (slash == sv->dir) {
		sv->dir[1] = '\0';
		base = path + 1;
	} else if (slash) {
		*slash = '\0';
		base = path + (slash - sv->dir) + 1;
	} else {
		snprintf(sv->dir, sizeof(sv->dir), ".");
		base = path;
	}
	if (!*base) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a file name", path);
		goto out;
	}
	if (strlen(sv->dir) + strlen(base) + 16 > PATH_MAX) {
		ret = -ENAMETOOLONG;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	snprintf(sv->path, sizeof(sv->path), "%s", path);
	snprintf(sv->tmp, sizeof(sv->tmp), "%s/.%s.XXXXXX", sv->dir, base);

	fd = mkostemp(sv->tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot create temporary file: %s", sv->tmp,
			 strerror(-ret));
		goto out;
	}
	/* keep an existing file's permissions; new ones are 0600 */
	if (!stat(path, &st) && fchmod(fd, st.st_mode & 07777)) {
		ret = -errno;
		snprintf(err, errlen, "%s: chmod: %s", sv->tmp, strerror(-ret));
		goto out_unlink;
	}
	ret = write_all(fd, text, strlen(text));
	if (!ret && fsync(fd))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "%s: write: %s", sv->tmp, strerror(-ret));
		goto out_unlink;
	}
	ret = close(fd) ? -errno : 0;
	fd = -1;
	if (ret) {
		snprintf(err, errlen, "%s: close: %s", sv->tmp, strerror(-ret));
		goto out_unlink;
	}
	sv->prepared = true;
	goto out;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(sv->tmp);
out:
	free(text);
	return ret;
}

int xlb_config__save_commit(struct xlb_config_save *sv, char *err, size_t errlen)
{
	int dfd, ret = 0;

	if (!sv->prepared) {
		snprintf(err, errlen, "%s: nothing prepared", sv->path);
		return -EINVAL;
	}
	sv->prepared = false;
	if (rename(sv->tmp, sv->path)) {
		ret = -errno;
		snprintf(err, errlen, "%s: rename from %s: %s", sv->path, sv->tmp, strerror(-ret));
		unlink(sv->tmp);
		return ret;
	}
	sv->renamed = true;
	/* make the rename itself durable */
	dfd = open(sv->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		ret = -errno;
		snprintf(err, errlen, "%s: fsync directory %s: %s", sv->path, sv->dir,
			 strerror(-ret));
	}
	if (dfd >= 0)
		close(dfd);
	return ret;
}

void xlb_config__save_abort(struct xlb_config_save *sv)
{
	if (sv->prepared)
		unlink(sv->tmp);
	sv->prepared = false;
}

int xlb_config__save_file(const struct xlb_config *cfg, const char *path, char *err, size_t errlen)
{
	struct xlb_config_save sv;

	int ret = xlb_config__save_prepare(cfg, path, &sv, err, errlen);

	return ret ? ret : xlb_config__save_commit(&sv, err, errlen);
}

/* ---- copy, free, lookup ---------------------------------------------- */

void xlb_config__hc_free(struct xlb_config_health_check *hc)
{
	free(hc->path);
	free(hc->expect);
	free(hc->host);
	free(hc->payload);
	free(hc->payload_hex);
	free(hc->response);
	free(hc->response_hex);
	hc->path = hc->expect = hc->host = hc->payload = hc->payload_hex = NULL;
	hc->response = hc->response_hex = NULL;
}

/* hc's strings replaced by copies of them (*oom set when one fails). */
static void hc_dup_strings(struct xlb_config_health_check *hc, bool *oom)
{
	hc->path = dup_or_null(hc->path, oom);
	hc->expect = dup_or_null(hc->expect, oom);
	hc->host = dup_or_null(hc->host, oom);
	hc->payload = dup_or_null(hc->payload, oom);
	hc->payload_hex = dup_or_null(hc->payload_hex, oom);
	hc->response = dup_or_null(hc->response, oom);
	hc->response_hex = dup_or_null(hc->response_hex, oom);
}

/* Equal strings, NULL equal only to NULL. */
static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool xlb_config__hc_equal(const struct xlb_config_health_check *a,
			  const struct xlb_config_health_check *b)
{
	return a->type == b->type && a->port == b->port && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->rise == b->rise && a->fall == b->fall &&
	       a->jitter_percent == b->jitter_percent && str_same(a->path, b->path) &&
	       str_same(a->expect, b->expect) && str_same(a->host, b->host) &&
	       str_same(a->payload_hex, b->payload_hex) &&
	       str_same(a->response_hex, b->response_hex);
}

void xlb_config__free(struct xlb_config *cfg)
{
	unsigned int i, j;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_interfaces && cfg->interfaces; i++)
		free(cfg->interfaces[i].name);
	free(cfg->interfaces);
	free(cfg->metrics.listen);
	for (i = 0; i < cfg->n_vips && cfg->vips; i++) {
		struct xlb_config_vip *v = &cfg->vips[i];

		free(v->vip);
		xlb_config__hc_free(&v->health_check);
		for (j = 0; j < v->n_backends && v->backends; j++)
			free(v->backends[j].address);
		free(v->backends);
	}
	free(cfg->vips);
	free(cfg);
}

int xlb_config__dup(const struct xlb_config *src, struct xlb_config **out)
{
	struct xlb_config *cfg;
	bool oom = false;
	unsigned int i, j;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	cfg->metrics = src->metrics;
	cfg->metrics.listen = dup_or_null(src->metrics.listen, &oom);
	cfg->conntrack = src->conntrack;
	cfg->announce = src->announce;
	if (src->n_interfaces) {
		cfg->interfaces = calloc(src->n_interfaces, sizeof(*cfg->interfaces));
		if (!cfg->interfaces)
			goto oom;
		cfg->n_interfaces = src->n_interfaces;
		for (i = 0; i < src->n_interfaces; i++) {
			cfg->interfaces[i] = src->interfaces[i];
			cfg->interfaces[i].name = dup_or_null(src->interfaces[i].name, &oom);
		}
	}
	if (src->n_vips) {
		cfg->vips = calloc(src->n_vips, sizeof(*cfg->vips));
		if (!cfg->vips)
			goto oom;
		cfg->n_vips = src->n_vips;
	}
	for (i = 0; i < src->n_vips; i++) {
		const struct xlb_config_vip *s = &src->vips[i];
		struct xlb_config_vip *d = &cfg->vips[i];

		*d = *s;
		d->vip = dup_or_null(s->vip, &oom);
		hc_dup_strings(&d->health_check, &oom);
		d->backends = NULL;
		d->n_backends = 0;
		if (!s->n_backends)
			continue;
		d->backends = calloc(s->n_backends, sizeof(*d->backends));
		if (!d->backends)
			goto oom;
		d->n_backends = s->n_backends;
		for (j = 0; j < s->n_backends; j++) {
			d->backends[j] = s->backends[j];
			d->backends[j].address = dup_or_null(s->backends[j].address, &oom);
		}
	}
	if (oom)
		goto oom;
	*out = cfg;
	return 0;
oom:
	xlb_config__free(cfg);
	return -ENOMEM;
}

struct xlb_config_vip *xlb_config__find_vip(const struct xlb_config *cfg,
					    const struct xlb_vip_addr *addr)
{
	unsigned int i;

	for (i = 0; i < cfg->n_vips; i++)
		if (!xlb_vip_addr__cmp(&cfg->vips[i].addr, addr))
			return &cfg->vips[i];
	return NULL;
}
