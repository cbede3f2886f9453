/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * libcyaml's schemas of the one YAML shape, expanded from config_keys.h:
 *  - the load schema fills "raw" structs whose optional scalars are
 *    pointers, so an omitted key (NULL) is told apart from an explicit 0 and
 *    gets its default when the raw struct becomes the model;
 *  - the save schema reads the validated model (struct xlb_config) directly
 *    and writes every key, so a saved file loads into an identical model.
 * Export (xlb_config__to_string) is the save schema run over the model.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/lib/config_int.h"

#define LD_OPT CYAML_FLAG_OPTIONAL
#define OPT_PTR (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
/* "vips:" with nothing after it is as good as leaving it out */
#define OPT_SEQ (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL)
#define OPT_ENUM (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER | CYAML_FLAG_STRICT)
#define FLOW CYAML_FLAG_FLOW

/* ---- raw structs: what the load schema fills ---- */

#define RAW_U32(T, k, ...) uint32_t *k;
#define RAW_U32W(T, k, ...) uint64_t *k;
#define RAW_DBL(T, k, ...) double *k;
#define RAW_BOOL(T, k, ...) int *k;
#define RAW_ENUM(T, k, ...) int *k;
#define RAW_ENUMN RAW_ENUM
#define RAW_STR(T, k, ...) char *k;

struct raw_interface {
	CFG_INTERFACE_KEYS(RAW, _)
};

struct raw_metrics {
	CFG_METRICS_KEYS(RAW, _)
};

struct raw_conntrack {
	CFG_CONNTRACK_KEYS(RAW, _)
};

struct raw_announce {
	CFG_ANNOUNCE_KEYS(RAW, _)
};

struct raw_backend {
	CFG_BACKEND_KEYS(RAW, _)
};

struct raw_rate_limit {
	CFG_RATE_LIMIT_KEYS(RAW, _)
};

struct raw_health_check {
	CFG_HEALTH_CHECK_KEYS(RAW, _)
};

struct raw_circuit_breaker {
	CFG_CIRCUIT_BREAKER_KEYS(RAW, _)
};

struct raw_passive {
	CFG_PASSIVE_KEYS(RAW, _)
};

struct raw_vip {
	CFG_VIP_KEYS(RAW, _)
	struct raw_rate_limit rate_limit;
	struct raw_health_check health_check;
	struct raw_circuit_breaker circuit_breaker;
	struct raw_passive passive;
	struct raw_backend *backends;
	unsigned int n_backends;
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

/* ---- load schema ---- */

#define LD_U32(T, k, ...) CYAML_FIELD_UINT_PTR(#k, OPT_PTR, T, k),
#define LD_U32W LD_U32
#define LD_DBL(T, k, ...) CYAML_FIELD_FLOAT_PTR(#k, OPT_PTR, T, k),
#define LD_BOOL(T, k, def)                                                                         \
	CYAML_FIELD_ENUM_PTR(#k, OPT_ENUM | CYAML_FLAG_CASE_INSENSITIVE, T, k, bool_names,         \
			     N(bool_names)),
#define LD_ENUM(T, k, def, names) CYAML_FIELD_ENUM_PTR(#k, OPT_ENUM, T, k, names, N(names)),
#define LD_ENUMN(T, k, def, names) CYAML_FIELD_ENUM_PTR(#k, OPT_PTR, T, k, names, N(names)),
#define LD_STR(T, k, load, max, save) CYAML_FIELD_STRING_PTR(#k, LD_STR_##load, T, k, 0, max),
#define LD_STR_REQ CYAML_FLAG_POINTER
#define LD_STR_OPT OPT_PTR

static const cyaml_schema_field_t ld_interface_fields[] = {
    CFG_INTERFACE_KEYS(LD, struct raw_interface) CYAML_FIELD_END,
};

static const cyaml_schema_value_t ld_interface = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_interface, ld_interface_fields),
};

static const cyaml_schema_field_t ld_metrics_fields[] = {
    CFG_METRICS_KEYS(LD, struct raw_metrics) CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_conntrack_fields[] = {
    CFG_CONNTRACK_KEYS(LD, struct raw_conntrack) CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_announce_fields[] = {
    CFG_ANNOUNCE_KEYS(LD, struct raw_announce) CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_backend_fields[] = {
    CFG_BACKEND_KEYS(LD, struct raw_backend) CYAML_FIELD_END,
};

static const cyaml_schema_value_t ld_backend = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_backend, ld_backend_fields),
};

static const cyaml_schema_field_t ld_rate_limit_fields[] = {
    CFG_RATE_LIMIT_KEYS(LD, struct raw_rate_limit) CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_health_check_fields[] = {
    CFG_HEALTH_CHECK_KEYS(LD, struct raw_health_check) CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_circuit_breaker_fields[] = {
    CFG_CIRCUIT_BREAKER_KEYS(LD, struct raw_circuit_breaker) CYAML_FIELD_END,
};

static const cyaml_schema_field_t ld_passive_fields[] = {
    CFG_PASSIVE_KEYS(LD, struct raw_passive) CYAML_FIELD_END,
};

/* clang-format off */
static const cyaml_schema_field_t ld_vip_fields[] = {
    CFG_VIP_KEYS(LD, struct raw_vip)
    CYAML_FIELD_MAPPING("rate_limit", LD_OPT, struct raw_vip, rate_limit, ld_rate_limit_fields),
    CYAML_FIELD_MAPPING("health_check", LD_OPT, struct raw_vip, health_check,
			ld_health_check_fields),
    CYAML_FIELD_MAPPING("circuit_breaker", LD_OPT, struct raw_vip, circuit_breaker,
			ld_circuit_breaker_fields),
    CYAML_FIELD_MAPPING("passive", LD_OPT, struct raw_vip, passive, ld_passive_fields),
    CYAML_FIELD_SEQUENCE_COUNT("backends", OPT_SEQ, struct raw_vip, backends, n_backends,
			       &ld_backend, 0, XLB_MAX_BACKENDS_PER_VIP),
    CYAML_FIELD_END,
};
/* clang-format on */

static const cyaml_schema_value_t ld_vip = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_vip, ld_vip_fields),
};

static const cyaml_schema_field_t ld_config_fields[] = {
    CYAML_FIELD_SEQUENCE_COUNT("interfaces", OPT_SEQ, struct raw_config, interfaces, n_interfaces,
			       &ld_interface, 0, XLB_CONFIG_MAX_INTERFACES),
    CYAML_FIELD_MAPPING_PTR("metrics", OPT_SEQ, struct raw_config, metrics, ld_metrics_fields),
    CYAML_FIELD_MAPPING("conntrack", LD_OPT, struct raw_config, conntrack, ld_conntrack_fields),
    CYAML_FIELD_MAPPING("announce", LD_OPT, struct raw_config, announce, ld_announce_fields),
    CYAML_FIELD_SEQUENCE_COUNT("vips", OPT_SEQ, struct raw_config, vips, n_vips, &ld_vip, 0,
			       XLB_MAX_VIPS),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t ld_config = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, ld_config_fields),
};

/* ---- save schema: the validated model, every key ---- */

#define SV_U32(T, k, ...) CYAML_FIELD_UINT(#k, CYAML_FLAG_DEFAULT, T, k),
#define SV_U32W SV_U32
#define SV_DBL(T, k, ...) CYAML_FIELD_FLOAT(#k, CYAML_FLAG_DEFAULT, T, k),
#define SV_BOOL(T, k, def) CYAML_FIELD_BOOL(#k, CYAML_FLAG_DEFAULT, T, k),
#define SV_ENUM(T, k, def, names) CYAML_FIELD_ENUM(#k, CYAML_FLAG_DEFAULT, T, k, names, N(names)),
#define SV_ENUMN SV_ENUM
#define SV_STR(T, k, load, max, save) SV_STR_##save(T, k)
#define SV_STR_ALWAYS(T, k)                                                                        \
	CYAML_FIELD_STRING_PTR(#k, CYAML_FLAG_POINTER, T, k, 0, CYAML_UNLIMITED),
#define SV_STR_IFSET(T, k) CYAML_FIELD_STRING_PTR(#k, OPT_PTR, T, k, 0, CYAML_UNLIMITED),
#define SV_STR_NEVER(T, k)

static const cyaml_schema_field_t sv_interface_fields[] = {
    CFG_INTERFACE_KEYS(SV, struct xlb_config_interface) CYAML_FIELD_END,
};

static const cyaml_schema_value_t sv_interface = {
    CYAML_VALUE_MAPPING(FLOW, struct xlb_config_interface, sv_interface_fields),
};

static const cyaml_schema_field_t sv_metrics_fields[] = {
    CFG_METRICS_KEYS(SV, struct xlb_config_metrics) CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_conntrack_fields[] = {
    CFG_CONNTRACK_KEYS(SV, struct xlb_config_conntrack) CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_announce_fields[] = {
    CFG_ANNOUNCE_KEYS(SV, struct xlb_config_announce) CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_backend_fields[] = {
    CFG_BACKEND_KEYS(SV, struct xlb_config_backend) CYAML_FIELD_END,
};

static const cyaml_schema_value_t sv_backend = {
    CYAML_VALUE_MAPPING(FLOW, struct xlb_config_backend, sv_backend_fields),
};

static const cyaml_schema_field_t sv_rate_limit_fields[] = {
    CFG_RATE_LIMIT_KEYS(SV, struct xlb_config_rate_limit) CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_health_check_fields[] = {
    CFG_HEALTH_CHECK_KEYS(SV, struct xlb_config_health_check) CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_circuit_breaker_fields[] = {
    CFG_CIRCUIT_BREAKER_KEYS(SV, struct xlb_config_circuit_breaker) CYAML_FIELD_END,
};

static const cyaml_schema_field_t sv_passive_fields[] = {
    CFG_PASSIVE_KEYS(SV, struct xlb_config_passive) CYAML_FIELD_END,
};

/* clang-format off */
static const cyaml_schema_field_t sv_vip_fields[] = {
    CFG_VIP_KEYS(SV, struct xlb_config_vip)
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
/* clang-format on */

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

/* ---- libcyaml's configuration, with or without capturing its log ---- */

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

/* ---- raw -> model, with the defaults for what was left out ---- */

/* In scope: const raw *r, model *m, bool *oom. */
#define CONV_U32(T, k, ...)                                                                        \
	if (r->k)                                                                                  \
		m->k = *r->k;
/* out of range stays out of range, for validation to name */
#define CONV_U32W(T, k, ...)                                                                       \
	if (r->k)                                                                                  \
		m->k = *r->k > UINT32_MAX ? UINT32_MAX : (__u32)*r->k;
#define CONV_DBL CONV_U32
#define CONV_BOOL(T, k, ...)                                                                       \
	if (r->k)                                                                                  \
		m->k = *r->k != 0;
#define CONV_ENUM(T, k, ...)                                                                       \
	if (r->k)                                                                                  \
		m->k = (__typeof__(m->k))*r->k;
#define CONV_ENUMN CONV_ENUM
#define CONV_STR(T, k, ...) m->k = dup_or_null(r->k, oom);

/* One function a section: the keys given replace the defaults. */
#define CONV_FN(fn, raw_t, model_t, KEYS)                                                          \
	static void fn(const raw_t *r, model_t *m, bool *oom)                                      \
	{                                                                                          \
		KEYS(CONV, _)                                                                      \
		(void)oom;                                                                         \
	}

CONV_FN(conv_interface, struct raw_interface, struct xlb_config_interface, CFG_INTERFACE_KEYS)
CONV_FN(conv_metrics, struct raw_metrics, struct xlb_config_metrics, CFG_METRICS_KEYS)
CONV_FN(conv_conntrack, struct raw_conntrack, struct xlb_config_conntrack, CFG_CONNTRACK_KEYS)
CONV_FN(conv_announce, struct raw_announce, struct xlb_config_announce, CFG_ANNOUNCE_KEYS)
CONV_FN(conv_vip_keys, struct raw_vip, struct xlb_config_vip, CFG_VIP_KEYS)
CONV_FN(conv_rate_limit, struct raw_rate_limit, struct xlb_config_rate_limit, CFG_RATE_LIMIT_KEYS)
CONV_FN(conv_health_check, struct raw_health_check, struct xlb_config_health_check,
	CFG_HEALTH_CHECK_KEYS)
CONV_FN(conv_circuit_breaker, struct raw_circuit_breaker, struct xlb_config_circuit_breaker,
	CFG_CIRCUIT_BREAKER_KEYS)
CONV_FN(conv_passive, struct raw_passive, struct xlb_config_passive, CFG_PASSIVE_KEYS)
CONV_FN(conv_backend, struct raw_backend, struct xlb_config_backend, CFG_BACKEND_KEYS)

static void convert_vip(const struct raw_vip *r, struct xlb_config_vip *v, bool *oom)
{
	struct xlb_config_health_check *hc = &v->health_check;
	struct xlb_config_circuit_breaker *cb = &v->circuit_breaker;
	unsigned int i;

	xlb_config__vip_defaults(v);
	conv_vip_keys(r, v, oom);
	conv_rate_limit(&r->rate_limit, &v->rate_limit, oom);
	conv_health_check(&r->health_check, hc, oom);
	conv_circuit_breaker(&r->circuit_breaker, cb, oom);
	conv_passive(&r->passive, &v->passive, oom);
	/* defaults that follow another key */
	if (!r->health_check.timeout_ms && hc->interval_ms && hc->interval_ms <= hc->timeout_ms)
		hc->timeout_ms = hc->interval_ms / 2; /* below the interval */
	if (!r->circuit_breaker.max_ejection_ms && cb->max_ejection_ms < cb->base_ejection_ms)
		cb->max_ejection_ms = cb->base_ejection_ms;

	if (!r->n_backends)
		return;
	v->backends = calloc(r->n_backends, sizeof(*v->backends));
	if (!v->backends) {
		*oom = true;
		return;
	}
	v->n_backends = r->n_backends;
	for (i = 0; i < r->n_backends; i++) {
		xlb_config__backend_defaults(&v->backends[i]);
		conv_backend(&r->backends[i], &v->backends[i], oom);
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
	cfg_defaults(cfg);
	if (!r)
		return cfg; /* "{}": every key omitted */

	if (r->metrics)
		conv_metrics(r->metrics, &cfg->metrics, &oom);
	conv_conntrack(&r->conntrack, &cfg->conntrack, &oom);
	conv_announce(&r->announce, &cfg->announce, &oom);

	if (r->n_interfaces) {
		cfg->interfaces = calloc(r->n_interfaces, sizeof(*cfg->interfaces));
		if (!cfg->interfaces)
			goto oom;
		cfg->n_interfaces = r->n_interfaces;
		for (i = 0; i < r->n_interfaces; i++) {
			cfg_interface_defaults(&cfg->interfaces[i]);
			conv_interface(&r->interfaces[i], &cfg->interfaces[i], &oom);
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

cyaml_err_t cfg_schema__load(const char *buf, size_t len, struct cylog *log,
			     struct xlb_config **out)
{
	struct raw_config *raw = NULL;
	cyaml_config_t cc = cyaml_cfg(log);
	cyaml_err_t cerr;

	log->len = 0;
	log->buf[0] = '\0';
	cerr = cyaml_load_data((const uint8_t *)buf, len, &cc, &ld_config, (cyaml_data_t **)&raw,
			       NULL);
	if (cerr != CYAML_OK)
		return cerr;
	*out = convert(raw);
	cc = cyaml_cfg(NULL);
	cyaml_free(&cc, &ld_config, raw, 0);
	return *out ? CYAML_OK : CYAML_ERR_OOM;
}

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
