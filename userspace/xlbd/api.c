/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Routing and handlers of the v1 API. Each change builds the desired config
 * (a copy of the running one, edited), validates it and hands it to
 * xlb_daemon__apply(): one path for every change, all or nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "userspace/xlbd/announce.h"
#include "userspace/xlbd/api.h"
#include "userspace/lib/config_edit.h"
#include "userspace/xlbd/counters.h"
#include "userspace/lib/health.h"
#include "userspace/lib/log.h"
#include "userspace/lib/table_digest.h"

#define MAX_SEGMENTS 6

struct request {
	struct xlb_daemon *d;
	const char *method;
	char *seg[MAX_SEGMENTS]; /* decoded path segments after /v1 */
	int nseg;
	struct evkeyvalq query;
	const char *path; /* as received, for messages */
	const char *body;
	size_t len;
	struct xlb_api_response *resp;
};

static void reply_json(struct request *r, int status, json_t *obj)
{
	r->resp->status = status;
	r->resp->body = obj ? json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	r->resp->content_type = "application/json";
	json_decref(obj);
	if (!r->resp->body) {
		/* jansson refuses strings that are not UTF-8, e.g. a name echoed
		 * from a malformed request: answer, but without echoing it.
		 */
		if (status < 400)
			r->resp->status = 500;
		r->resp->body = strdup("{\"error\": \"the request holds text that is not UTF-8\"}");
	}
}

static void reply_error(struct request *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_error(struct request *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(r, status, json_pack("{s:s}", "error", msg));
}

/* -errno from the daemon to an HTTP status. */
static int status_of(int err)
{
	switch (err) {
	case -ENOENT:
		return 404;
	case -EPERM:
		return 403;
	case -EEXIST:
		return 409;
	case -EINVAL:
	case -EOPNOTSUPP:
	case -EAFNOSUPPORT:
	case -E2BIG:
	case -ERANGE:
		return 400;
	default:
		return 500;
	}
}

/* ---- JSON views ------------------------------------------------------------ */

static json_t *vip_json(const struct xlb_config_vip *v)
{
	json_t *backends = json_array();

	for (unsigned int i = 0; i < v->n_backends; i++) {
		const struct xlb_config_backend *b = &v->backends[i];

		json_array_append_new(backends, json_pack("{s:s, s:i, s:b, s:b}", "address",
							  b->address, "weight", b->weight, "drain",
							  b->drain, "in_table", !b->drain));
	}
	return json_pack(
		"{s:s, s:s, s:s, s:i, s:i, s:b, s:{s:i, s:i, s:i, s:i, s:s, s:i, s:i}, "
		"s:{s:s, s:i, s:s, s:s, s:s*, s:i, s:i, s:i, s:i, s:i, s:s*, s:s*}, "
		"s:{s:i, s:i, s:i, s:i}, "
		"s:{s:f, s:i}, s:o}",
		"vip", v->vip, "algorithm", xlb_config__algo_name(v->algorithm), "forward",
		xlb_config__forward_name(v->forward), "gue_port", v->gue_port, "table_size",
		v->table_size, "stateless",
		v->stateless, "rate_limit", "pps", v->rate_limit.pps, "burst", v->rate_limit.burst,
		"source_new_flows", v->rate_limit.source_new_flows, "source_burst",
		v->rate_limit.source_burst, "source_algorithm",
		v->rate_limit.source_algorithm == XLB_CONFIG_SRC_SLIDING_WINDOW ? "sliding-window"
										 : "token-bucket",
		"source_prefix_v4", v->rate_limit.source_prefix_v4, "source_prefix_v6",
		v->rate_limit.source_prefix_v6, "health_check", "type", xlb_config__hc_type_name(v->health_check.type), "port",
		v->health_check.port, "path", v->health_check.path, "expect", v->health_check.expect,
		"host", v->health_check.host, "interval_ms", v->health_check.interval_ms,
		"timeout_ms", v->health_check.timeout_ms, "rise", v->health_check.rise, "fall",
		v->health_check.fall, "jitter_percent", v->health_check.jitter_percent,
		"payload_hex", v->health_check.payload_hex, "response_hex",
		v->health_check.response_hex, "circuit_breaker", "base_ejection_ms",
		v->circuit_breaker.base_ejection_ms, "max_ejection_ms",
		v->circuit_breaker.max_ejection_ms, "max_ejection_percent",
		v->circuit_breaker.max_ejection_percent, "slow_start_ms",
		v->circuit_breaker.slow_start_ms, "passive", "syn_retransmit_ratio",
		v->passive.syn_retransmit_ratio, "min_syns", v->passive.min_syns, "backends", backends);
}

static json_t *drops_json(const __u64 *drops)
{
	json_t *o = json_object();

	for (int i = 0; i < XLB_DROP_MAX; i++)
		json_object_set_new(o, xlb_dp__drop_name(i), json_integer(drops[i]));
	return o;
}

static json_t *vip_stats_json(const struct xlb_config_vip *v, const struct xlb_vip_counters *c)
{
	json_t *backends = json_array();

	for (unsigned int i = 0; i < v->n_backends; i++) {
		const struct xlb_backend_stats *b = &c->backend[i];

		json_array_append_new(backends,
				      json_pack("{s:s, s:I, s:I, s:I, s:I}", "address",
						v->backends[i].address, "packets",
						(json_int_t)b->packets, "bytes", (json_int_t)b->bytes,
						"new_flows", (json_int_t)b->new_flows,
						"syn_retransmits", (json_int_t)b->syn_retransmits));
	}
	return json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}", "vip", v->vip, "packets",
			 (json_int_t)c->vip.packets, "bytes", (json_int_t)c->vip.bytes, "new_flows",
			 (json_int_t)c->vip.new_flows, "drops", drops_json(c->vip.drops), "backends",
			 backends);
}

static json_t *global_stats_json(const struct xlb_dp_stats *g)
{
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I}, s:I, s:I, "
	    "s:I, s:I, s:I}",
	    "rx",
	    (json_int_t)g->rx, "pass_not_ip", (json_int_t)g->pass_not_ip, "pass_not_vip",
	    (json_int_t)g->pass_not_vip, "pass_other_l4", (json_int_t)g->pass_other_l4,
	    "tx_new_flow", (json_int_t)g->tx_new_flow, "tx_established",
	    (json_int_t)g->tx_established, "tx_rechosen", (json_int_t)g->tx_rechosen, "tx_icmp",
	    (json_int_t)g->tx_icmp, "tx_untracked", (json_int_t)g->tx_untracked, "drops",
	    drops_json(g->drops), "flow_cache", "hits_ipv4", (json_int_t)g->flow_cache_hits[0],
	    "hits_ipv6", (json_int_t)g->flow_cache_hits[1], "bypasses_ipv4",
	    (json_int_t)g->flow_cache_bypasses[0], "bypasses_ipv6",
	    (json_int_t)g->flow_cache_bypasses[1], "pass_other_host",
	    (json_int_t)g->pass_other_host, "pass_multicast", (json_int_t)g->pass_multicast,
	    "tx_gue", (json_int_t)g->tx_gue, "tx_gue_alternate", (json_int_t)g->tx_gue_alt,
	    "tx_too_big", (json_int_t)g->tx_too_big);
}

/* ---- helpers ----------------------------------------------------------------- */

/* Finds the VIP named by a path segment; replies 400/404 when it cannot. */
static struct xlb_config_vip *vip_from_segment(struct request *r, const char *name,
					       struct xlb_config *cfg)
{
	struct xlb_vip_addr addr;
	struct xlb_config_vip *v;
	char msg[256];

	if (xlb_vip_addr__parse(name, &addr, msg, sizeof(msg))) {
		reply_error(r, 400, "%s", msg);
		return NULL;
	}
	v = xlb_config__find_vip(cfg, &addr);
	if (!v)
		reply_error(r, 404, "no VIP %s", name);
	return v;
}

/* Validates and applies an edited copy of the running config. */
static int commit(struct request *r, struct xlb_config *edited)
{
	char msg[1024];
	int ret;

	ret = xlb_config__validate(edited, msg, sizeof(msg));
	if (ret) {
		reply_error(r, 400, "%s", msg);
		return ret;
	}
	ret = xlb_daemon__apply(r->d, edited, false, NULL, msg, sizeof(msg));
	if (ret) {
		reply_error(r, status_of(ret), "%s", msg);
		return ret;
	}
	return 0;
}

/* Loads a JSON object body as one VIP through the config loader, which gives
 * every field its validation and message. wrap: "%s" placeholder for body.
 */
static struct xlb_config *load_wrapped(struct request *r, const char *wrap_fmt, const char *arg)
{
	struct xlb_config *cfg = NULL;
	json_error_t jerr;
	json_t *obj;
	char *text = NULL, msg[1024];
	int ret;

	obj = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj || !json_is_object(obj)) {
		reply_error(r, 400, "request body must be a JSON object%s%s", obj ? "" : ": ",
			    obj ? "" : jerr.text);
		json_decref(obj);
		return NULL;
	}
	json_decref(obj);
	if (arg)
		ret = asprintf(&text, wrap_fmt, arg, (int)r->len, r->body);
	else
		ret = asprintf(&text, wrap_fmt, (int)r->len, r->body);
	if (ret < 0) {
		reply_error(r, 500, "out of memory");
		return NULL;
	}
	if (xlb_config__load_string(text, strlen(text), &cfg, msg, sizeof(msg))) {
		reply_error(r, 400, "%s", msg);
		cfg = NULL;
	}
	free(text);
	return cfg;
}

static struct xlb_config *running_copy(struct request *r)
{
	struct xlb_config *cfg;

	if (xlb_config__dup(r->d->cfg, &cfg)) {
		reply_error(r, 500, "out of memory");
		return NULL;
	}
	return cfg;
}

/* ---- handlers ------------------------------------------------------------------ */

static void get_status(struct request *r)
{
	json_t *ifs = json_array();
	unsigned int nb = 0;

	for (unsigned int i = 0; i < r->d->n_ifs; i++)
		json_array_append_new(
		    ifs, json_pack("{s:s, s:s, s:b, s:I, s:b}", "name", r->d->ifs[i].name, "mode",
				   xlb_config__xdp_mode_name(r->d->cfg->interfaces[i].mode),
				   "adopted", r->d->ifs[i].adopted, "prog_id",
				   (json_int_t)xlb_dp__prog_id(r->d->ifs[i].dp), "attached",
				   r->d->ifs[i].attached));
	for (unsigned int i = 0; i < r->d->cfg->n_vips; i++)
		nb += r->d->cfg->vips[i].n_backends;
	reply_json(r, 200,
		   json_pack("{s:s, s:I, s:s, s:o, s:i, s:i}", "version", XLB_VERSION, "uptime_s",
			     (json_int_t)(time(NULL) - r->d->started), "state_file",
			     r->d->state_path, "interfaces", ifs, "vips", r->d->cfg->n_vips,
			     "backends", nb));
}

static void get_vips(struct request *r)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; i < r->d->cfg->n_vips; i++)
		json_array_append_new(arr, vip_json(&r->d->cfg->vips[i]));
	reply_json(r, 200, json_pack("{s:o}", "vips", arr));
}

/*
 * One VIP, plus "table_digest": its live table's digest in the data path
 * (the first interface's; all are built from the same backends), null
 * while no backend is in the table, absent when xlbd runs without one.
 */
static void get_vip(struct request *r, const char *name)
{
	struct xlb_config_vip *v = vip_from_segment(r, name, r->d->cfg);
	char hex[XLB_TABLE_DIGEST_STR];
	json_t *o;
	__u64 d;
	int ret;

	if (!v)
		return;
	o = vip_json(v);
	if (r->d->n_ifs) {
		ret = xlb_dp__table_digest(r->d->ifs[0].dp, &v->addr, &d);
		if (ret && ret != -ENODATA) {
			json_decref(o);
			reply_error(r, 500, "reading the live table of %s on %s: %s", v->vip,
				    r->d->ifs[0].name, strerror(-ret));
			return;
		}
		json_object_set_new(o, "table_digest",
				    ret ? json_null() : json_string(xlb_table_digest__format(d, hex)));
	}
	reply_json(r, 200, o);
}

static void reply_vip(struct request *r, int status, const struct xlb_vip_addr *addr)
{
	const struct xlb_config_vip *v = xlb_config__find_vip(r->d->cfg, addr);

	if (v)
		reply_json(r, status, vip_json(v));
	else
		reply_error(r, 404, "VIP vanished");
}

static void post_vip(struct request *r)
{
	struct xlb_config *in = load_wrapped(r, "{\"vips\": [%.*s]}", NULL), *cfg;
	struct xlb_vip_addr addr;

	if (!in)
		return;
	if (in->n_vips != 1) {
		reply_error(r, 400, "expected one VIP");
		goto out;
	}
	addr = in->vips[0].addr;
	if (xlb_config__find_vip(r->d->cfg, &addr)) {
		reply_error(r, 409, "VIP %s already exists", in->vips[0].vip);
		goto out;
	}
	cfg = running_copy(r);
	if (!cfg)
		goto out;
	if (xlb_config__move_vip(cfg, in, 0)) {
		reply_error(r, 500, "out of memory");
	} else if (!commit(r, cfg)) {
		reply_vip(r, 201, &addr);
	}
	xlb_config__free(cfg);
out:
	xlb_config__free(in);
}

static void delete_vip(struct request *r, const char *name)
{
	struct xlb_config *cfg = running_copy(r);
	struct xlb_config_vip *v;

	if (!cfg)
		return;
	v = vip_from_segment(r, name, cfg);
	if (v) {
		char canon[XLB_VIP_NAME_MAX];

		snprintf(canon, sizeof(canon), "%s", v->vip);
		xlb_config__remove_vip(cfg, v - cfg->vips);
		if (!commit(r, cfg))
			reply_json(r, 200, json_pack("{s:s}", "deleted", canon));
	}
	xlb_config__free(cfg);
}

static void post_backend(struct request *r, const char *name)
{
	struct xlb_config *cfg = running_copy(r), *in = NULL;
	struct xlb_config_vip *v;
	struct xlb_vip_addr addr;

	if (!cfg)
		return;
	v = vip_from_segment(r, name, cfg);
	if (!v)
		goto out;
	addr = v->addr;
	in = load_wrapped(r, "{\"vips\": [{\"vip\": \"%s\", \"backends\": [%.*s]}]}", v->vip);
	if (!in)
		goto out;
	if (in->vips[0].n_backends != 1) {
		reply_error(r, 400, "expected one backend");
		goto out;
	}
	if (xlb_config__find_backend(v, in->vips[0].backends[0].family,
				     in->vips[0].backends[0].addr) >= 0) {
		reply_error(r, 409, "backend %s already in %s", in->vips[0].backends[0].address,
			    v->vip);
		goto out;
	}
	if (xlb_config__move_backend(v, &in->vips[0], 0))
		reply_error(r, 500, "out of memory");
	else if (!commit(r, cfg))
		reply_vip(r, 201, &addr);
out:
	xlb_config__free(in);
	xlb_config__free(cfg);
}

/* Finds backend `name` of v; replies 400/404 when it cannot. */
static int backend_index(struct request *r, struct xlb_config_vip *v, const char *name)
{
	__be32 a[4] = {};
	__u8 family;
	int i;

	if (xlb_addr__parse(name, &family, a)) {
		reply_error(r, 400, "bad backend address '%s'", name);
		return -1;
	}
	i = xlb_config__find_backend(v, family, a);
	if (i < 0)
		reply_error(r, 404, "no backend %s in %s", name, v->vip);
	return i;
}

static void patch_backend(struct request *r, const char *name, const char *baddr)
{
	struct xlb_config *cfg = running_copy(r);
	struct xlb_config_vip *v;
	json_t *obj = NULL, *w, *dr;
	json_error_t jerr;
	struct xlb_vip_addr addr;
	int i;

	if (!cfg)
		return;
	v = vip_from_segment(r, name, cfg);
	if (!v || (i = backend_index(r, v, baddr)) < 0)
		goto out;
	addr = v->addr;
	obj = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj || !json_is_object(obj)) {
		reply_error(r, 400, "request body must be a JSON object%s%s", obj ? "" : ": ",
			    obj ? "" : jerr.text);
		goto out;
	}
	w = json_object_get(obj, "weight");
	dr = json_object_get(obj, "drain");
	if (json_object_size(obj) != (size_t)(!!w + !!dr) || (!w && !dr)) {
		reply_error(r, 400, "body takes \"weight\" and/or \"drain\" only");
		goto out;
	}
	if (w) {
		json_int_t n = json_is_integer(w) ? json_integer_value(w) : -1;

		if (n < 1 || n > XLB_WEIGHT_MAX) {
			reply_error(r, 400, "weight must be an integer 1..%d", XLB_WEIGHT_MAX);
			goto out;
		}
		v->backends[i].weight = n;
	}
	if (dr) {
		if (!json_is_boolean(dr)) {
			reply_error(r, 400, "drain must be true or false");
			goto out;
		}
		v->backends[i].drain = json_is_true(dr);
	}
	if (!commit(r, cfg))
		reply_vip(r, 200, &addr);
out:
	json_decref(obj);
	xlb_config__free(cfg);
}

static void delete_backend(struct request *r, const char *name, const char *baddr)
{
	struct xlb_config *cfg = running_copy(r);
	struct xlb_config_vip *v;
	struct xlb_vip_addr addr;
	int i;

	if (!cfg)
		return;
	v = vip_from_segment(r, name, cfg);
	if (v && (i = backend_index(r, v, baddr)) >= 0) {
		addr = v->addr;
		xlb_config__remove_backend(v, i);
		if (!commit(r, cfg))
			reply_vip(r, 200, &addr);
	}
	xlb_config__free(cfg);
}

static void get_stats(struct request *r)
{
	const char *only = evhttp_find_header(&r->query, "vip");
	struct xlb_config_vip *one = NULL;
	struct xlb_counters c;
	json_t *vips, *o;

	if (only && !(one = vip_from_segment(r, only, r->d->cfg)))
		return;
	if (xlb_counters__read(r->d, &c)) {
		reply_error(r, 500, "cannot read the data path's counters");
		return;
	}
	vips = json_array();
	for (unsigned int i = 0; i < r->d->cfg->n_vips; i++)
		if (!one || one == &r->d->cfg->vips[i])
			json_array_append_new(vips, vip_stats_json(&r->d->cfg->vips[i], &c.vips[i]));
	/* clock_ms: when the counters were read, for exact rates (stats --watch) */
	o = json_pack("{s:I, s:o, s:o}", "clock_ms", (json_int_t)xlb_health__now_ms(), "global",
		      global_stats_json(&c.global), "vips", vips);
	if (c.conntrack_known)
		json_object_set_new(o, "conntrack_entries",
				    json_pack("{s:I, s:I}", "ipv4",
					      (json_int_t)c.conntrack_entries[0], "ipv6",
					      (json_int_t)c.conntrack_entries[1]));
	reply_json(r, 200, o);
	xlb_counters__free(&c);
}

static int backend_index(struct request *r, struct xlb_config_vip *v, const char *name);

/* ?vip=V for one VIP, &backend=A for one of its backends (cheap to poll
 * when a VIP has thousands).
 */
static void get_health(struct request *r)
{
	const char *only = evhttp_find_header(&r->query, "vip");
	const char *be = evhttp_find_header(&r->query, "backend");
	struct xlb_config_vip *one = NULL;
	int i;

	if (be && !only) {
		reply_error(r, 400, "backend= needs vip=");
		return;
	}
	if (only && !(one = vip_from_segment(r, only, r->d->cfg)))
		return;
	if (!be) {
		reply_json(r, 200, xlb_supervisor__health_json(r->d->sup, r->d->cfg, one));
		return;
	}
	i = backend_index(r, one, be);
	if (i < 0)
		return;
	reply_json(r, 200,
		   xlb_supervisor__health_json_one(r->d->sup, r->d->cfg, one, &one->backends[i]));
}

/* Where a client flow goes and why. */
static void get_explain(struct request *r)
{
	const char *vname = evhttp_find_header(&r->query, "vip");
	const char *src = evhttp_find_header(&r->query, "src");
	const char *dp_s = evhttp_find_header(&r->query, "dport");
	struct xlb_config_vip *v;
	struct xlb_dp_explain ex;
	char host[256], msg[256], a1[XLB_ADDR_STR_MAX], a2[XLB_ADDR_STR_MAX];
	int goes = -1;
	__be32 saddr[4] = {};
	__u16 sport, dport = 0;
	__u8 family;
	json_t *o, *rl;
	int ret;

	if (!vname || !src) {
		reply_error(r, 400, "explain needs ?vip=VIP&src=ADDR:PORT");
		return;
	}
	if (!(v = vip_from_segment(r, vname, r->d->cfg)))
		return;
	if (xlb_hostport__parse(src, host, sizeof(host), &sport, msg, sizeof(msg)) ||
	    xlb_addr__parse(host, &family, saddr)) {
		reply_error(r, 400, "src '%s' is not ADDR:PORT", src);
		return;
	}
	if (dp_s) {
		char *end;
		unsigned long n = strtoul(dp_s, &end, 10);

		if (*end || !n || n > 65535) {
			reply_error(r, 400, "dport '%s' out of range 1..65535", dp_s);
			return;
		}
		dport = n;
	}
	if (!v->addr.port && !dport) {
		reply_error(r, 400, "%s takes every port: give the destination port (dport)", v->vip);
		return;
	}
	if (!r->d->n_ifs) {
		reply_error(r, 500, "no data path: xlbd runs without interfaces");
		return;
	}
	ret = xlb_dp__explain(r->d->ifs[0].dp, &v->addr, family, saddr, sport, dport, &ex);
	if (ret) {
		reply_error(r, status_of(ret), "%s: %s", src,
			    ret == -EAFNOSUPPORT ? "not the VIP's address family" : strerror(-ret));
		return;
	}
	o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:i, s:i}", "vip", v->vip, "src", src,
		      "algorithm", xlb_config__algo_name(v->algorithm), "in_conntrack",
		      ex.in_conntrack, "hash", (json_int_t)ex.hash, "slot", ex.slot, "table_size",
		      ex.table_empty ? 0 : v->table_size);
	if (ex.in_conntrack) {
		xlb_addr__format(ex.conntrack_backend.family, ex.conntrack_backend.addr, a1,
				 sizeof(a1));
		json_object_set_new(o, "conntrack_backend", json_string(a1));
		json_object_set_new(o, "conntrack_backend_serving",
				    json_boolean(ex.conntrack_live));
	}
	if (!ex.table_empty) {
		xlb_addr__format(ex.table_backend.family, ex.table_backend.addr, a2, sizeof(a2));
		json_object_set_new(o, "table_backend", json_string(a2));
	}
	if (ex.in_conntrack && ex.conntrack_live && !v->stateless) {
		json_object_set_new(o, "goes_to", json_string(a1));
		json_object_set_new(o, "why", json_string("an established flow: its connection-table entry"));
		goes = xlb_config__find_backend(v, ex.conntrack_backend.family,
						ex.conntrack_backend.addr);
	} else if (!ex.table_empty) {
		bool stateful = v->algorithm == XLB_CONFIG_ALGO_WRR ||
				v->algorithm == XLB_CONFIG_ALGO_RR || v->algorithm == XLB_CONFIG_ALGO_LC;
		char why[256];

		if (v->stateless)
			snprintf(why, sizeof(why), "a stateless VIP: every packet by Maglev slot %u of %u%s%s",
				 ex.slot, v->table_size,
				 v->algorithm == XLB_CONFIG_ALGO_SOURCE_HASH ? " (hash of the source)"
									     : "",
				 ex.in_conntrack ? "; its entry from before is not used" : "");
		else if (stateful) /* the choice depends on the moment: say what is fixed */
			snprintf(why, sizeof(why),
				 "%s: a SYN (or UDP packet) is chosen by %s at that moment; "
				 "other packets missing the table go by Maglev slot %u of %u",
				 ex.in_conntrack ? "its backend left" : "a new flow",
				 xlb_config__algo_name(v->algorithm), ex.slot, v->table_size);
		else
			snprintf(why, sizeof(why), "%s: Maglev slot %u of %u%s",
				 ex.in_conntrack ? "its backend left, chosen again" : "a new flow",
				 ex.slot, v->table_size,
				 v->algorithm == XLB_CONFIG_ALGO_SOURCE_HASH ? " (hash of the source)"
									     : "");
		json_object_set_new(o, "goes_to", json_string(a2));
		json_object_set_new(o, "why", json_string(why));
		goes = xlb_config__find_backend(v, ex.table_backend.family, ex.table_backend.addr);
	} else {
		json_object_set_new(o, "goes_to", json_null());
		json_object_set_new(o, "why", json_string("no backend takes new flows: dropped (no_backend)"));
	}
	if (goes >= 0)
		json_object_set_new(o, "backend",
				    xlb_supervisor__backend_json(r->d->sup, v, &v->backends[goes]));
	rl = json_pack("{s:i, s:i, s:i, s:i}", "pps", v->rate_limit.pps, "burst",
		       v->rate_limit.burst, "source_new_flows", v->rate_limit.source_new_flows,
		       "source_burst", v->rate_limit.source_burst);
	/* What the limits would do to the flow's next packet now. */
	if (ex.vip_limited) {
		json_object_set_new(rl, "vip_tokens", json_integer((json_int_t)ex.vip_tokens));
		json_object_set_new(rl, "vip_would_drop", json_boolean(!ex.vip_tokens));
	}
	if (ex.source_limited)
		json_object_set_new(rl, "source_would_drop", json_boolean(!ex.source_admits));
	json_object_set_new(o, "rate_limit", rl);
	reply_json(r, 200, o);
}

static void get_config(struct request *r)
{
	char *text;

	if (xlb_config__to_string(r->d->cfg, &text)) {
		reply_error(r, 500, "cannot serialise the configuration");
		return;
	}
	r->resp->status = 200;
	r->resp->body = text;
	r->resp->content_type = "text/yaml";
}

static void post_config(struct request *r)
{
	const char *dry = evhttp_find_header(&r->query, "dry_run");
	bool dry_run = dry && strcmp(dry, "0") && strcmp(dry, "false");
	struct xlb_config *cfg;
	struct xlb_plan plan = {};
	char msg[1024];
	int ret;

	if (!r->len) {
		reply_error(r, 400, "empty body: send a configuration (YAML or JSON)");
		return;
	}
	ret = xlb_config__load_string(r->body, r->len, &cfg, msg, sizeof(msg));
	if (ret) {
		reply_error(r, 400, "%s", msg);
		return;
	}
	xlb_config__keep_drained(cfg, r->d->cfg);
	ret = xlb_daemon__apply(r->d, cfg, dry_run, &plan, msg, sizeof(msg));
	xlb_config__free(cfg);
	if (ret) {
		reply_error(r, status_of(ret), "%s", msg);
		return;
	}
	reply_json(r, 200, xlb_plan__to_json(&plan, !dry_run));
	xlb_plan__free(&plan);
}

static void get_announce(struct request *r)
{
	reply_json(r, 200, xlb_announce__json(r->d->announcer, r->d));
}

static void post_announce(struct request *r, bool drained)
{
	char msg[1024];
	int ret = xlb_daemon__set_drained(r->d, drained, msg, sizeof(msg));

	if (ret)
		reply_error(r, status_of(ret), "%s", msg);
	else
		get_announce(r);
}

/* ---- routing --------------------------------------------------------------- */

static bool is(const struct request *r, const char *method, int nseg)
{
	return !strcmp(r->method, method) && r->nseg == nseg;
}

/* Dispatches; returns false when the path exists but not for this method. */
static bool route(struct request *r)
{
	const char *top = r->seg[0];

	if (!strcmp(top, "status") && r->nseg == 1) {
		if (!strcmp(r->method, "GET"))
			return get_status(r), true;
		return false;
	}
	if (!strcmp(top, "vips") && r->nseg == 1) {
		if (!strcmp(r->method, "GET"))
			return get_vips(r), true;
		if (!strcmp(r->method, "POST"))
			return post_vip(r), true;
		return false;
	}
	if (!strcmp(top, "vips") && r->nseg == 2) {
		if (!strcmp(r->method, "GET"))
			return get_vip(r, r->seg[1]), true;
		if (!strcmp(r->method, "DELETE"))
			return delete_vip(r, r->seg[1]), true;
		return false;
	}
	if (!strcmp(top, "vips") && r->nseg == 3 && !strcmp(r->seg[2], "backends")) {
		if (is(r, "POST", 3))
			return post_backend(r, r->seg[1]), true;
		return false;
	}
	if (!strcmp(top, "vips") && r->nseg == 4 && !strcmp(r->seg[2], "backends")) {
		if (!strcmp(r->method, "PATCH"))
			return patch_backend(r, r->seg[1], r->seg[3]), true;
		if (!strcmp(r->method, "DELETE"))
			return delete_backend(r, r->seg[1], r->seg[3]), true;
		return false;
	}
	if (!strcmp(top, "health") && r->nseg == 1) {
		if (!strcmp(r->method, "GET"))
			return get_health(r), true;
		return false;
	}
	if (!strcmp(top, "explain") && r->nseg == 1) {
		if (!strcmp(r->method, "GET"))
			return get_explain(r), true;
		return false;
	}
	if (!strcmp(top, "stats") && r->nseg == 1) {
		if (!strcmp(r->method, "GET"))
			return get_stats(r), true;
		return false;
	}
	if (!strcmp(top, "announce") && r->nseg == 1) {
		if (!strcmp(r->method, "GET"))
			return get_announce(r), true;
		return false;
	}
	if (!strcmp(top, "announce") && r->nseg == 2 &&
	    (!strcmp(r->seg[1], "drain") || !strcmp(r->seg[1], "undrain"))) {
		if (!strcmp(r->method, "POST"))
			return post_announce(r, !strcmp(r->seg[1], "drain")), true;
		return false;
	}
	if (!strcmp(top, "config") && r->nseg == 1) {
		if (!strcmp(r->method, "GET"))
			return get_config(r), true;
		if (!strcmp(r->method, "POST"))
			return post_config(r), true;
		return false;
	}
	reply_error(r, 404, "no such endpoint: %s (see docs/API.md)", r->path);
	return true;
}

void xlb_api__handle(struct xlb_daemon *d, const char *method, const char *uri,
		     const char *body, size_t len, struct xlb_api_response *resp)
{
	struct request r = { .d = d, .method = method, .body = body, .len = len, .resp = resp };
	struct evhttp_uri *u = evhttp_uri_parse(uri);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	const char *query = u ? evhttp_uri_get_query(u) : NULL;
	char *copy = NULL, *save = NULL, *tok;
	bool too_deep = false;

	memset(resp, 0, sizeof(*resp));
	TAILQ_INIT(&r.query);
	if (!path || strncmp(path, "/v1/", 4)) {
		reply_error(&r, 404, "unknown path %s (the API lives under /v1/)", path ? path : uri);
		goto out;
	}
	if (query && evhttp_parse_query_str(query, &r.query)) {
		reply_error(&r, 400, "malformed query string");
		goto out;
	}
	if (len > XLB_API_BODY_MAX) {
		reply_error(&r, 413, "request body of %zu bytes exceeds %d", len, XLB_API_BODY_MAX);
		goto out;
	}
	/* Split first, then decode: a VIP name holds an encoded '/'. */
	copy = strdup(path + 4);
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (r.nseg == MAX_SEGMENTS) {
			too_deep = true;
			break;
		}
		r.seg[r.nseg++] = evhttp_uridecode(tok, 0, NULL);
	}
	r.path = path;
	if (too_deep || !r.nseg)
		reply_error(&r, 404, "no such endpoint: %s (see docs/API.md)", path);
	else if (!route(&r))
		reply_error(&r, 405, "%s is not allowed on %s", method, path);
	pr_debug("api %s %s -> %d", method, uri, resp->status);
out:
	for (int i = 0; i < r.nseg; i++)
		free(r.seg[i]);
	free(copy);
	evhttp_clear_headers(&r.query);
	if (u)
		evhttp_uri_free(u);
}

void xlb_api_response__free(struct xlb_api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
}
