/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Tests of the xlbd API handlers (docs/API.md): request -> state change ->
 * response, through xlb_api__handle() on a real daemon. The daemon is opened
 * from a config without interfaces, so no data path is loaded and neither
 * root nor BPF is needed; its state directory is a fresh temporary directory.
 *
 * Every request is checked on three sides: the status and JSON of the
 * response, the running configuration (d->cfg) and the state file. A refused
 * request must leave both the running configuration and the state file
 * exactly as they were (same bytes, same inode: not even rewritten).
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "userspace/xlbd/api.h"
#include "userspace/lib/config.h"
#include "userspace/xlbd/daemon.h"
#include "userspace/lib/log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The two VIPs of the starting config, and their URIs (percent-encoded). */
#define VIP4 "198.18.1.100:80/tcp"
#define VIP4_URI "/v1/vips/198.18.1.100%3A80%2Ftcp"
#define VIP6 "[2001:2::100]:53/udp"
#define VIP6_URI "/v1/vips/%5B2001%3A2%3A%3A100%5D%3A53%2Fudp"

/* Two VIPs, six backends, no interfaces: the daemon needs no data path. */
static const char start_config[] = "# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause\n"
				   "interfaces: []\n"
				   "vips:\n"
				   "  - vip: \"" VIP4 "\"\n"
				   "    backends:\n"
				   "      - {address: 198.18.0.11}\n"
				   "      - {address: 198.18.0.12}\n"
				   "      - {address: 198.18.0.13}\n"
				   "      - {address: 198.18.0.14}\n"
				   "  - vip: \"" VIP6 "\"\n"
				   "    algorithm: source-hash\n"
				   "    backends:\n"
				   "      - {address: \"2001:2::11\", weight: 50}\n"
				   "      - {address: \"2001:2::12\"}\n";

struct fixture {
	char dir[64]; /* mkdtemp()ed, removed at teardown */
	char config[128];
	char state_dir[96];
	char state_file[128];
	struct xlb_daemon *d;
};

struct reply {
	int status;
	char *text; /* the body as sent */
	const char *content_type;
	json_t *json; /* NULL when the body is not JSON */
};

/* ---- helpers ---------------------------------------------------------- */

static void assert_contains(const char *haystack, const char *needle)
{
	if (!haystack || !strstr(haystack, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, NUL-terminated; *len without the NUL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	do {
		if (cap - n < 4096) {
			cap += 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void open_daemon(struct fixture *f)
{
	struct xlb_daemon_opts opts = {
	    .config_path = f->config,
	    .state_dir = f->state_dir,
	};
	char err[1024] = "";
	int ret;

	f->d = NULL;
	ret = xlb_daemon__open(&opts, &f->d, err, sizeof(err));
	if (ret)
		fail_msg("xlb_daemon__open: %d: %s", ret, err);
	assert_non_null(f->d);
}

/* The current fixture's directory, for when a crash skipped its teardown. */
static char live_dir[64];

static void remove_live_dir(void)
{
	if (live_dir[0])
		nftw(live_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	live_dir[0] = '\0';
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	remove_live_dir();
	snprintf(f->dir, sizeof(f->dir), "/tmp/xlb-test-api.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	memcpy(live_dir, f->dir, sizeof(live_dir));
	snprintf(f->config, sizeof(f->config), "%s/config.yaml", f->dir);
	snprintf(f->state_dir, sizeof(f->state_dir), "%s/state", f->dir);
	snprintf(f->state_file, sizeof(f->state_file), "%s/state.yaml", f->state_dir);
	write_file(f->config, start_config);
	open_daemon(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xlb_daemon__close(f->d);
	remove_live_dir();
	free(f);
	return 0;
}

static void reply_free(struct reply *r)
{
	free(r->text);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static void call_len(struct fixture *f, const char *method, const char *uri, const char *body,
		     size_t len, struct reply *out)
{
	struct xlb_api_response resp;

	memset(&resp, 0x5a, sizeof(resp));
	xlb_api__handle(f->d, method, uri, body, len, &resp);
	assert_non_null(resp.body);
	assert_non_null(resp.content_type);
	out->status = resp.status;
	out->text = resp.body;
	out->content_type = resp.content_type;
	out->json = NULL;
	if (!strcmp(resp.content_type, "application/json")) {
		json_error_t jerr;

		out->json = json_loads(resp.body, 0, &jerr);
		if (!out->json)
			fail_msg("%s %s: response is not JSON (%s): %s", method, uri, jerr.text,
				 resp.body);
	}
}

/* One request; the status must be `status`. */
static void call(struct fixture *f, const char *method, const char *uri, const char *body,
		 int status, struct reply *out)
{
	call_len(f, method, uri, body, body ? strlen(body) : 0, out);
	if (out->status != status)
		fail_msg("%s %s: status %d, expected %d: %s", method, uri, out->status, status,
			 out->text);
}

static const char *str_field(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		fail_msg("no string \"%s\" in the response", key);
	return json_string_value(v);
}

static json_int_t int_field(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		fail_msg("no integer \"%s\" in the response", key);
	return json_integer_value(v);
}

/* The running configuration as YAML (malloc()ed). */
static char *running_yaml(const struct fixture *f)
{
	char *text = NULL;

	assert_int_equal(xlb_config__to_string(f->d->cfg, &text), 0);
	return text;
}

/* A config (file or text) re-serialised, for comparing two models. */
static char *yaml_of_file(const char *path)
{
	struct xlb_config *cfg = NULL;
	char err[1024], *text = NULL;

	if (xlb_config__load_file(path, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(xlb_config__to_string(cfg, &text), 0);
	xlb_config__free(cfg);
	return text;
}

static char *yaml_of_string(const char *s)
{
	struct xlb_config *cfg = NULL;
	char err[1024], *text = NULL;

	if (xlb_config__load_string(s, strlen(s), &cfg, err, sizeof(err)))
		fail_msg("%s\n%s", err, s);
	assert_int_equal(xlb_config__to_string(cfg, &text), 0);
	xlb_config__free(cfg);
	return text;
}

/* The state file must hold exactly the running configuration. */
static void assert_state_is_running(const struct fixture *f)
{
	char *running = running_yaml(f), *saved = yaml_of_file(f->state_file);

	assert_string_equal(saved, running);
	free(running);
	free(saved);
}

/* What must not change across a refused request. */
struct snapshot {
	char *state; /* state file bytes */
	size_t len;
	ino_t ino;     /* a rewrite (rename over) changes it */
	char *running; /* d->cfg as YAML */
};

static void snap(const struct fixture *f, struct snapshot *s)
{
	struct stat st;

	assert_int_equal(stat(f->state_file, &st), 0);
	s->ino = st.st_ino;
	s->state = slurp(f->state_file, &s->len);
	s->running = running_yaml(f);
}

static void assert_unchanged(const struct fixture *f, struct snapshot *s, const char *what)
{
	struct snapshot now;

	snap(f, &now);
	if (now.len != s->len || memcmp(now.state, s->state, s->len))
		fail_msg("%s: state file changed:\n--- before\n%s\n--- after\n%s", what, s->state,
			 now.state);
	if (now.ino != s->ino)
		fail_msg("%s: state file was rewritten", what);
	if (strcmp(now.running, s->running))
		fail_msg("%s: running config changed:\n--- before\n%s\n--- after\n%s", what,
			 s->running, now.running);
	free(now.state);
	free(now.running);
	free(s->state);
	free(s->running);
}

/*
 * A request that must be refused: `status`, a JSON {"error": ...} holding
 * `error`, and nothing changed.
 */
static void expect_refused_len(struct fixture *f, const char *method, const char *uri,
			       const char *body, size_t len, int status, const char *error)
{
	struct snapshot s;
	struct reply r;
	char what[512];

	snprintf(what, sizeof(what), "%s %s %.*s", method, uri, len > 200 ? 200 : (int)len,
		 body ? body : "");
	snap(f, &s);
	call_len(f, method, uri, body, len, &r);
	if (r.status != status)
		fail_msg("%s: status %d, expected %d: %s", what, r.status, status, r.text);
	if (!r.json)
		fail_msg("%s: error is not JSON: %s", what, r.text);
	if (!strstr(str_field(r.json, "error"), error))
		fail_msg("%s: expected \"%s\" in the error: %s", what, error,
			 str_field(r.json, "error"));
	assert_int_equal(json_object_size(r.json), 1);
	assert_unchanged(f, &s, what);
	reply_free(&r);
}

static void expect_refused(struct fixture *f, const char *method, const char *uri, const char *body,
			   int status, const char *error)
{
	expect_refused_len(f, method, uri, body, body ? strlen(body) : 0, status, error);
}

/* The backend `addr` of a VIP object, or NULL. */
static json_t *find_backend(json_t *vip, const char *addr)
{
	json_t *backends = json_object_get(vip, "backends");

	for (size_t i = 0; i < json_array_size(backends); i++) {
		json_t *b = json_array_get(backends, i);

		if (!strcmp(str_field(b, "address"), addr))
			return b;
	}
	return NULL;
}

static const struct xlb_config_vip *running_vip(const struct fixture *f, const char *name)
{
	struct xlb_vip_addr addr;
	char err[256];

	assert_int_equal(xlb_vip_addr__parse(name, &addr, err, sizeof(err)), 0);
	return xlb_config__find_vip(f->d->cfg, &addr);
}

static const struct xlb_config_backend *running_backend(const struct fixture *f, const char *vip,
							const char *addr)
{
	const struct xlb_config_vip *v = running_vip(f, vip);

	assert_non_null(v);
	for (unsigned int i = 0; i < v->n_backends; i++)
		if (!strcmp(v->backends[i].address, addr))
			return &v->backends[i];
	return NULL;
}

/* ---- reads --------------------------------------------------------------- */

static void test_status(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	call(f, "GET", "/v1/status", NULL, 200, &r);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(str_field(r.json, "version"), XLB_VERSION);
	assert_string_equal(str_field(r.json, "state_file"), f->state_file);
	assert_true(int_field(r.json, "uptime_s") >= 0);
	assert_int_equal(int_field(r.json, "vips"), 2);
	assert_int_equal(int_field(r.json, "backends"), 6);
	assert_true(json_is_array(json_object_get(r.json, "interfaces")));
	assert_int_equal(json_array_size(json_object_get(r.json, "interfaces")), 0);
	reply_free(&r);
}

/* Every field of a VIP object against the running model. */
static void assert_vip_json(json_t *o, const struct xlb_config_vip *v)
{
	json_t *rl = json_object_get(o, "rate_limit"), *hc = json_object_get(o, "health_check");
	json_t *cb = json_object_get(o, "circuit_breaker");
	json_t *backends = json_object_get(o, "backends");

	assert_string_equal(str_field(o, "vip"), v->vip);
	assert_string_equal(str_field(o, "algorithm"), xlb_config__algo_name(v->algorithm));
	assert_string_equal(str_field(o, "forward"), xlb_config__forward_name(v->forward));
	assert_int_equal(int_field(o, "table_size"), v->table_size);
	assert_int_equal(json_is_true(json_object_get(o, "stateless")), v->stateless);
	assert_int_equal(int_field(rl, "pps"), v->rate_limit.pps);
	assert_int_equal(int_field(rl, "burst"), v->rate_limit.burst);
	assert_int_equal(int_field(rl, "source_new_flows"), v->rate_limit.source_new_flows);
	assert_int_equal(int_field(rl, "source_burst"), v->rate_limit.source_burst);
	assert_int_equal(int_field(rl, "source_prefix_v4"), v->rate_limit.source_prefix_v4);
	assert_int_equal(int_field(rl, "source_prefix_v6"), v->rate_limit.source_prefix_v6);
	assert_string_equal(str_field(hc, "type"), xlb_config__hc_type_name(v->health_check.type));
	assert_int_equal(int_field(hc, "port"), v->health_check.port);
	assert_string_equal(str_field(hc, "path"), v->health_check.path);
	assert_string_equal(str_field(hc, "expect"), v->health_check.expect);
	assert_int_equal(int_field(hc, "interval_ms"), v->health_check.interval_ms);
	assert_int_equal(int_field(hc, "timeout_ms"), v->health_check.timeout_ms);
	assert_int_equal(int_field(hc, "rise"), v->health_check.rise);
	assert_int_equal(int_field(hc, "fall"), v->health_check.fall);
	assert_int_equal(int_field(cb, "base_ejection_ms"), v->circuit_breaker.base_ejection_ms);
	assert_int_equal(int_field(cb, "max_ejection_ms"), v->circuit_breaker.max_ejection_ms);
	assert_int_equal(int_field(cb, "max_ejection_percent"),
			 v->circuit_breaker.max_ejection_percent);
	assert_int_equal(int_field(cb, "slow_start_ms"), v->circuit_breaker.slow_start_ms);
	assert_int_equal(json_array_size(backends), v->n_backends);
	for (unsigned int i = 0; i < v->n_backends; i++) {
		json_t *b = json_array_get(backends, i);

		assert_string_equal(str_field(b, "address"), v->backends[i].address);
		assert_int_equal(int_field(b, "weight"), v->backends[i].weight);
		assert_int_equal(json_is_true(json_object_get(b, "drain")), v->backends[i].drain);
		assert_true(json_is_boolean(json_object_get(b, "in_table")));
	}
}

/* Announcing off (the fixture's config): shown as off, drain refused. The
 * routes themselves are tested in namespaces (tests/e2e/test_announce.sh).
 */
static void test_announce_off(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char *before = running_yaml(f), *after;

	call(f, "GET", "/v1/announce", NULL, 200, &r);
	assert_int_equal(int_field(r.json, "table"), 0);
	assert_int_equal(int_field(r.json, "protocol"), 173);
	assert_int_equal(json_array_size(json_object_get(r.json, "addresses")), 0);
	reply_free(&r);
	call(f, "POST", "/v1/announce/drain", NULL, 400, &r);
	assert_non_null(strstr(str_field(r.json, "error"),
				"announcing is off (announce.table is 0): there is nothing to drain"));
	reply_free(&r);
	call(f, "POST", "/v1/announce/undrain", NULL, 400, &r);
	reply_free(&r);
	call(f, "GET", "/v1/announce/drain", NULL, 405, &r);
	reply_free(&r);
	call(f, "POST", "/v1/announce/sideways", NULL, 404, &r);
	reply_free(&r);
	after = running_yaml(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_get_vips(void **state)
{
	struct fixture *f = *state;
	json_t *vips;
	struct reply r;

	call(f, "GET", "/v1/vips", NULL, 200, &r);
	vips = json_object_get(r.json, "vips");
	assert_int_equal(json_array_size(vips), 2);
	assert_vip_json(json_array_get(vips, 0), &f->d->cfg->vips[0]);
	assert_vip_json(json_array_get(vips, 1), &f->d->cfg->vips[1]);
	reply_free(&r);

	call(f, "GET", VIP4_URI, NULL, 200, &r);
	assert_string_equal(str_field(r.json, "vip"), VIP4);
	assert_string_equal(str_field(r.json, "algorithm"), "maglev");
	assert_string_equal(str_field(r.json, "forward"), "ipip");
	assert_int_equal(int_field(r.json, "table_size"), 65537);
	assert_int_equal(json_array_size(json_object_get(r.json, "backends")), 4);
	assert_int_equal(int_field(find_backend(r.json, "198.18.0.13"), "weight"), 100);
	assert_vip_json(r.json, running_vip(f, VIP4));
	reply_free(&r);

	call(f, "GET", VIP6_URI, NULL, 200, &r);
	assert_string_equal(str_field(r.json, "vip"), VIP6);
	assert_string_equal(str_field(r.json, "algorithm"), "source-hash");
	assert_int_equal(int_field(find_backend(r.json, "2001:2::11"), "weight"), 50);
	assert_true(json_is_true(json_object_get(find_backend(r.json, "2001:2::12"), "in_table")));
	assert_vip_json(r.json, running_vip(f, VIP6));
	reply_free(&r);

	/* Any spelling of the same VIP finds it; the answer is canonical. */
	call(f, "GET", "/v1/vips/%5B2001%3A2%3A0%3A0%3A%3A100%5D%3A053%2FUDP", NULL, 200, &r);
	assert_string_equal(str_field(r.json, "vip"), VIP6);
	reply_free(&r);
	/* Without a data path there is no live table to digest. */
	call(f, "GET", VIP4_URI, NULL, 200, &r);
	assert_null(json_object_get(r.json, "table_digest"));
	reply_free(&r);
	call(f, "GET", "/v1/vips/198.18.1.99%3A80%2Ftcp", NULL, 404, &r);
	assert_string_equal(str_field(r.json, "error"), "no VIP 198.18.1.99:80/tcp");
	reply_free(&r);

	call(f, "GET", "/v1/stats", NULL, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "vips")), 2);
	assert_non_null(json_object_get(r.json, "global"));
	reply_free(&r);
	call(f, "GET", "/v1/stats?vip=198.18.1.100%3A80%2Ftcp", NULL, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "vips")), 1);
	reply_free(&r);
}

/* ---- VIPs ------------------------------------------------------------------ */

static void test_post_vip(void **state)
{
	struct fixture *f = *state;
	const struct xlb_config_vip *v;
	json_t *hc, *cb, *rl;
	struct reply r;

	call(f, "POST", "/v1/vips", "{\"vip\": \"198.18.1.101:443/tcp\"}", 201, &r);
	/* Defaults filled in (config.h) */
	assert_string_equal(str_field(r.json, "vip"), "198.18.1.101:443/tcp");
	assert_string_equal(str_field(r.json, "algorithm"), "maglev");
	assert_string_equal(str_field(r.json, "forward"), "ipip");
	assert_int_equal(int_field(r.json, "table_size"), 65537);
	assert_true(json_is_false(json_object_get(r.json, "stateless")));
	rl = json_object_get(r.json, "rate_limit");
	assert_int_equal(int_field(rl, "pps"), 0);
	assert_int_equal(int_field(rl, "source_new_flows"), 0);
	hc = json_object_get(r.json, "health_check");
	assert_string_equal(str_field(hc, "type"), "none");
	assert_int_equal(int_field(hc, "port"), 443);
	assert_string_equal(str_field(hc, "path"), "/");
	assert_string_equal(str_field(hc, "expect"), "200-399");
	assert_int_equal(int_field(hc, "interval_ms"), 1000);
	assert_int_equal(int_field(hc, "timeout_ms"), 500);
	assert_int_equal(int_field(hc, "rise"), 2);
	assert_int_equal(int_field(hc, "fall"), 3);
	cb = json_object_get(r.json, "circuit_breaker");
	assert_int_equal(int_field(cb, "base_ejection_ms"), 5000);
	assert_int_equal(int_field(cb, "max_ejection_ms"), 300000);
	assert_int_equal(int_field(cb, "max_ejection_percent"), 50);
	assert_int_equal(int_field(cb, "slow_start_ms"), 10000);
	assert_int_equal(json_array_size(json_object_get(r.json, "backends")), 0);
	reply_free(&r);

	assert_int_equal(f->d->cfg->n_vips, 3);
	v = running_vip(f, "198.18.1.101:443/tcp");
	assert_non_null(v);
	assert_int_equal(v->n_backends, 0);
	assert_state_is_running(f);

	/* A full one, with a non-canonical name and backends */
	call(f, "POST", "/v1/vips",
	     "{\"vip\": \"[2001:2:0::101]:0080/TCP\", \"algorithm\": \"source-hash\","
	     " \"forward\": \"l2dsr\", \"table_size\": 257, \"stateless\": true,"
	     " \"rate_limit\": {\"pps\": 1000, \"source_new_flows\": 10, \"source_prefix_v6\": 56},"
	     " \"health_check\": {\"type\": \"http\", \"path\": \"/healthz\", \"expect\": \"200\"},"
	     " \"backends\": [{\"address\": \"2001:2::21\", \"weight\": 7},"
	     "                {\"address\": \"2001:2::22\", \"drain\": true}]}",
	     201, &r);
	assert_string_equal(str_field(r.json, "vip"), "[2001:2::101]:80/tcp");
	assert_string_equal(str_field(r.json, "algorithm"), "source-hash");
	assert_string_equal(str_field(r.json, "forward"), "l2dsr");
	assert_int_equal(int_field(r.json, "table_size"), 257);
	assert_true(json_is_true(json_object_get(r.json, "stateless")));
	assert_true(running_vip(f, "[2001:2::101]:80/tcp")->stateless);
	rl = json_object_get(r.json, "rate_limit");
	assert_int_equal(int_field(rl, "pps"), 1000);
	assert_int_equal(int_field(rl, "burst"), 1000);
	assert_int_equal(int_field(rl, "source_burst"), 10);
	assert_int_equal(int_field(rl, "source_prefix_v4"), 32);
	assert_int_equal(int_field(rl, "source_prefix_v6"), 56);
	hc = json_object_get(r.json, "health_check");
	assert_string_equal(str_field(hc, "type"), "http");
	assert_int_equal(int_field(hc, "port"), 80);
	assert_string_equal(str_field(hc, "path"), "/healthz");
	assert_int_equal(int_field(find_backend(r.json, "2001:2::21"), "weight"), 7);
	assert_true(json_is_true(json_object_get(find_backend(r.json, "2001:2::22"), "drain")));
	assert_true(json_is_false(json_object_get(find_backend(r.json, "2001:2::22"), "in_table")));
	assert_vip_json(r.json, running_vip(f, "[2001:2::101]:80/tcp"));
	reply_free(&r);
	assert_int_equal(f->d->cfg->n_vips, 4);
	assert_state_is_running(f);
}

static void test_delete_vip(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	call(f, "DELETE", VIP6_URI, NULL, 200, &r);
	assert_string_equal(str_field(r.json, "deleted"), VIP6);
	reply_free(&r);
	assert_int_equal(f->d->cfg->n_vips, 1);
	assert_null(running_vip(f, VIP6));
	assert_state_is_running(f);

	expect_refused(f, "GET", VIP6_URI, NULL, 404, VIP6);
	expect_refused(f, "DELETE", VIP6_URI, NULL, 404, VIP6);
	expect_refused(f, "POST", VIP6_URI "/backends", "{\"address\": \"2001:2::13\"}", 404, VIP6);

	/* Gone, so it can be made again */
	call(f, "POST", "/v1/vips", "{\"vip\": \"" VIP6 "\"}", 201, &r);
	reply_free(&r);
	assert_int_equal(f->d->cfg->n_vips, 2);
	assert_state_is_running(f);

	/* The last one too: an empty config is fine */
	call(f, "DELETE", VIP4_URI, NULL, 200, &r);
	reply_free(&r);
	call(f, "DELETE", VIP6_URI, NULL, 200, &r);
	reply_free(&r);
	assert_int_equal(f->d->cfg->n_vips, 0);
	assert_state_is_running(f);
	call(f, "GET", "/v1/vips", NULL, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "vips")), 0);
	reply_free(&r);
}

/* ---- backends --------------------------------------------------------------- */

static void test_backends(void **state)
{
	struct fixture *f = *state;
	const struct xlb_config_backend *b;
	struct reply r;

	/* add */
	call(f, "POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.15\", \"weight\": 300}",
	     201, &r);
	assert_string_equal(str_field(r.json, "vip"), VIP4);
	assert_int_equal(json_array_size(json_object_get(r.json, "backends")), 5);
	assert_int_equal(int_field(find_backend(r.json, "198.18.0.15"), "weight"), 300);
	reply_free(&r);
	b = running_backend(f, VIP4, "198.18.0.15");
	assert_non_null(b);
	assert_int_equal(b->weight, 300);
	assert_false(b->drain);
	assert_state_is_running(f);

	/* default weight, non-canonical IPv6 address */
	call(f, "POST", VIP6_URI "/backends", "{\"address\": \"2001:2:0:0::13\"}", 201, &r);
	assert_int_equal(int_field(find_backend(r.json, "2001:2::13"), "weight"), 100);
	reply_free(&r);
	assert_non_null(running_backend(f, VIP6, "2001:2::13"));
	assert_state_is_running(f);

	/* weight, both bounds */
	call(f, "PATCH", VIP4_URI "/backends/198.18.0.15", "{\"weight\": 65535}", 200, &r);
	assert_int_equal(int_field(find_backend(r.json, "198.18.0.15"), "weight"), 65535);
	reply_free(&r);
	call(f, "PATCH", VIP4_URI "/backends/198.18.0.15", "{\"weight\": 1}", 200, &r);
	assert_int_equal(int_field(find_backend(r.json, "198.18.0.15"), "weight"), 1);
	reply_free(&r);
	assert_int_equal(running_backend(f, VIP4, "198.18.0.15")->weight, 1);
	assert_state_is_running(f);

	/* drain, undrain; the address in the path may be percent-encoded */
	call(f, "PATCH", VIP6_URI "/backends/2001%3A2%3A%3A11", "{\"drain\": true}", 200, &r);
	assert_true(json_is_true(json_object_get(find_backend(r.json, "2001:2::11"), "drain")));
	assert_true(json_is_false(json_object_get(find_backend(r.json, "2001:2::11"), "in_table")));
	assert_int_equal(int_field(find_backend(r.json, "2001:2::11"), "weight"), 50);
	reply_free(&r);
	assert_true(running_backend(f, VIP6, "2001:2::11")->drain);
	assert_state_is_running(f);

	call(f, "PATCH", VIP6_URI "/backends/2001%3A2%3A%3A11", "{\"drain\": false}", 200, &r);
	assert_true(json_is_false(json_object_get(find_backend(r.json, "2001:2::11"), "drain")));
	assert_true(json_is_true(json_object_get(find_backend(r.json, "2001:2::11"), "in_table")));
	reply_free(&r);
	assert_false(running_backend(f, VIP6, "2001:2::11")->drain);
	assert_state_is_running(f);

	/* both at once */
	call(f, "PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 5, \"drain\": true}", 200,
	     &r);
	reply_free(&r);
	b = running_backend(f, VIP4, "198.18.0.11");
	assert_int_equal(b->weight, 5);
	assert_true(b->drain);
	assert_state_is_running(f);

	/* delete */
	call(f, "DELETE", VIP4_URI "/backends/198.18.0.15", NULL, 200, &r);
	assert_string_equal(str_field(r.json, "vip"), VIP4);
	assert_null(find_backend(r.json, "198.18.0.15"));
	assert_int_equal(json_array_size(json_object_get(r.json, "backends")), 4);
	reply_free(&r);
	assert_null(running_backend(f, VIP4, "198.18.0.15"));
	assert_state_is_running(f);
	expect_refused(f, "DELETE", VIP4_URI "/backends/198.18.0.15", NULL, 404, "198.18.0.15");
	expect_refused(f, "PATCH", VIP4_URI "/backends/198.18.0.15", "{\"weight\": 2}", 404,
		       "198.18.0.15");

	/* found by any spelling of the address */
	call(f, "DELETE", VIP6_URI "/backends/2001%3A2%3A0%3A0%3A0%3A0%3A0%3A13", NULL, 200, &r);
	reply_free(&r);
	assert_null(running_backend(f, VIP6, "2001:2::13"));
	assert_state_is_running(f);
}

/* ---- bad requests ------------------------------------------------------------ */

static const struct bad_request {
	const char *method, *uri, *body;
	int status;
	const char *error; /* must be in the "error" message */
} bad_requests[] = {
    /* POST /v1/vips */
    {"POST", "/v1/vips", "{\"vip\": \"" VIP4 "\"}", 409, "already exists"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.100:080/TCP\"}", 409, "already exists"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\"", 400, "JSON"},
    {"POST", "/v1/vips", "{\"vip\": '198.18.1.101:80/tcp'}", 400, "JSON"},
    {"POST", "/v1/vips", "", 400, "JSON object"},
    {"POST", "/v1/vips", NULL, 400, "JSON object"},
    {"POST", "/v1/vips", "[{\"vip\": \"198.18.1.101:80/tcp\"}]", 400, "JSON object"},
    {"POST", "/v1/vips", "\"198.18.1.101:80/tcp\"", 400, "JSON object"},
    {"POST", "/v1/vips", "42", 400, "JSON object"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\", \"vip\": \"198.18.1.102:80/tcp\"}",
     400, "duplicate"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\", \"colour\": \"blue\"}", 400, "colour"},
    {"POST", "/v1/vips",
     "{\"vip\": \"198.18.1.101:80/tcp\", \"health_check\": {\"tpye\": \"tcp\"}}", 400, "tpye"},
    {"POST", "/v1/vips", "{}", 400, "vip"},
    {"POST", "/v1/vips", "{\"algorithm\": \"maglev\"}", 400, "vip"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.300:80/tcp\"}", 400, "198.18.1.300"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101\"}", 400, "vip"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/sctp\"}", 400, "sctp"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:70000/tcp\"}", 400, "70000"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\", \"algorithm\": \"fastest\"}", 400,
     "algorithm"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\", \"forward\": \"nat\"}", 400,
     "forward"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\", \"algorithm\": \"wrr2\"}", 400,
     "wrr2"},
    {"POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\", \"table_size\": 1000}", 400,
     "table_size"},
    {"POST", "/v1/vips",
     "{\"vip\": \"198.18.1.101:80/tcp\", \"backends\": [{\"address\": \"198.18.0.21\", "
     "\"weight\": 0}]}",
     400, "weight"},
    {"POST", "/v1/vips",
     "{\"vip\": \"198.18.1.101:80/tcp\", \"backends\": [{\"address\": \"2001:2::21\"}], "
     "\"forward\": \"l2dsr\"}",
     400, "2001:2::21"},
    {"POST", "/v1/vips/", "{\"vip\": 42}", 400, "42"},

    /* POST /v1/vips/{vip}/backends */
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.21\", \"weight\": 0}", 400, "weight"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.21\", \"weight\": 70000}", 400,
     "weight"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.21\", \"weight\": -1}", 400, "weight"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.21\", \"weight\": \"heavy\"}", 400,
     "weight"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.256\"}", 400, "198.18.0.256"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"backend-1\"}", 400, "backend-1"},
    {"POST", VIP4_URI "/backends", "{\"weight\": 5}", 400, "address"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.21\", \"port\": 8080}", 400, "port"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.11\"}", 409, "198.18.0.11"},
    {"POST", VIP6_URI "/backends", "{\"address\": \"2001:2:0::11\"}", 409, "2001:2::11"},
    {"POST", VIP6_URI "/backends", "{\"address\": \"198.18.0.21\"}", 400, "198.18.0.21"},
    {"POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.21\"", 400, "JSON"},
    {"POST", VIP4_URI "/backends", "[{\"address\": \"198.18.0.21\"}]", 400, "JSON object"},
    {"POST", VIP4_URI "/backends", "", 400, "JSON object"},
    {"POST", "/v1/vips/198.18.1.99%3A80%2Ftcp/backends", "{\"address\": \"198.18.0.21\"}", 404,
     "198.18.1.99:80/tcp"},
    {"POST", "/v1/vips/198.18.1.99%3A99999%2Ftcp/backends", "{\"address\": \"198.18.0.21\"}", 400,
     "99999"},

    /* PATCH /v1/vips/{vip}/backends/{addr} */
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 0}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 70000}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": \"5\"}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 5.5}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": null}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"drain\": \"yes\"}", 400, "drain"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"drain\": 1}", 400, "drain"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 5, \"colour\": 1}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"address\": \"198.18.0.12\"}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{}", 400, "weight"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 5", 400, "JSON"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "[5]", 400, "JSON object"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "", 400, "JSON object"},
    {"PATCH", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 5, \"weight\": 6}", 400, ""},
    {"PATCH", VIP4_URI "/backends/198.18.0.99", "{\"weight\": 5}", 404, "198.18.0.99"},
    {"PATCH", VIP4_URI "/backends/2001%3A2%3A%3A11", "{\"weight\": 5}", 404, "2001:2::11"},
    {"PATCH", VIP4_URI "/backends/not-an-address", "{\"weight\": 5}", 400, "not-an-address"},
    {"PATCH", "/v1/vips/198.18.1.99%3A80%2Ftcp/backends/198.18.0.11", "{\"weight\": 5}", 404,
     "198.18.1.99:80/tcp"},

    /* DELETE */
    {"DELETE", VIP4_URI "/backends/198.18.0.99", NULL, 404, "198.18.0.99"},
    {"DELETE", VIP4_URI "/backends/198.18.0.", NULL, 400, "198.18.0."},
    {"DELETE", "/v1/vips/198.18.1.99%3A80%2Ftcp/backends/198.18.0.11", NULL, 404,
     "198.18.1.99:80/tcp"},
    {"DELETE", "/v1/vips/198.18.1.99%3A80%2Ftcp", NULL, 404, "198.18.1.99:80/tcp"},
    {"DELETE", "/v1/vips/nonsense", NULL, 400, "nonsense"},

    /* GET */
    {"GET", "/v1/vips/198.18.1.99%3A80%2Ftcp", NULL, 404, "198.18.1.99:80/tcp"},
    {"GET", "/v1/vips/%5B2001%3A2%3A%3A99%5D%3A53%2Fudp", NULL, 404, "[2001:2::99]:53/udp"},
    {"GET", "/v1/vips/198.18.1.100%3A80%2Fudp", NULL, 404, "198.18.1.100:80/udp"},
    {"GET", "/v1/vips/198.18.1.100%3A80", NULL, 400, "198.18.1.100:80"},
    {"GET", "/v1/stats?vip=198.18.1.99%3A80%2Ftcp", NULL, 404, "198.18.1.99:80/tcp"},

    /* paths (404) and methods (405, as docs/API.md says) */
    {"GET", "/v1/nothing", NULL, 404, "no such endpoint"},
    {"GET", "/v1/", NULL, 404, ""},
    {"GET", "/v1", NULL, 404, "/v1/"},
    {"GET", "/v2/status", NULL, 404, "/v1/"},
    {"GET", "/status", NULL, 404, "/v1/"},
    {"GET", "/", NULL, 404, "/v1/"},
    {"GET", "", NULL, 404, ""},
    {"GET", "/v1/vips/a/b/c/d/e/f/g", NULL, 404, "no such endpoint"},
    {"GET", VIP4_URI "/backends", NULL, 405, "not allowed"},
    {"GET", VIP4_URI "/backends/198.18.0.11", NULL, 405, "not allowed"},
    {"DELETE", "/v1/status", NULL, 405, "not allowed"},
    {"PUT", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\"}", 405, "not allowed"},
    {"DELETE", "/v1/vips", NULL, 405, "not allowed"},
    {"POST", VIP4_URI, "{\"vip\": \"198.18.1.101:80/tcp\"}", 405, "not allowed"},
    {"PUT", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 5}", 405, "not allowed"},
    {"POST", VIP4_URI "/backends/198.18.0.11", "{\"weight\": 5}", 405, "not allowed"},
    {"DELETE", "/v1/config", NULL, 405, "not allowed"},
    {"POST", "/v1/stats", "{}", 405, "not allowed"},

    /* POST /v1/config */
    {"POST", "/v1/config", "", 400, "empty"},
    {"POST", "/v1/config?dry_run=1", "", 400, "empty"},
    {"POST", "/v1/config", "vips:\n  - vip: \"198.18.1.100:80/tcp\n    backends: []\n", 400,
     "line"},
    {"POST", "/v1/config?dry_run=1", "vips: [\n  {vip: \"198.18.1.100:80/tcp\"\n", 400, "line"},
    {"POST", "/v1/config", "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n    colour: blue\n", 400,
     "colour"},
    {"POST", "/v1/config",
     "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n  - vip: \"198.18.1.100:80/tcp\"\n", 400,
     "198.18.1.100:80/tcp"},
    {"POST", "/v1/config",
     "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n    backends:\n"
     "      - {address: 198.18.0.11, weight: 70000}\n",
     400, "weight"},
};

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bad_requests); i++) {
		const struct bad_request *b = &bad_requests[i];

		expect_refused(f, b->method, b->uri, b->body, b->status, b->error);
	}
	/* Still all there, and still answering. */
	assert_int_equal(f->d->cfg->n_vips, 2);
	assert_state_is_running(f);
}

/* Malformed JSON: the message says what is wrong, not only that it is. */
static void test_malformed_json_message(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	call(f, "POST", "/v1/vips", "{\"vip\": \"198.18.1.101:80/tcp\",}", 400, &r);
	/* jansson: "string or '}' expected near '}'" */
	assert_contains(str_field(r.json, "error"), "expected");
	reply_free(&r);
}

static void test_oversized_body(void **state)
{
	static const char *const uris[] = {
	    "/v1/vips",	  VIP4_URI "/backends",	  VIP4_URI "/backends/198.18.0.11",
	    "/v1/config", "/v1/config?dry_run=1",
	};
	static const char *const methods[] = {"POST", "POST", "PATCH", "POST", "POST"};
	static const char head[] = "{\"vip\": \"198.18.1.101:80/tcp\", \"padding\": \"";
	struct fixture *f = *state;
	size_t len = XLB_API_BODY_MAX + 1;
	char *body = malloc(len + 1);

	assert_non_null(body);
	/* A well-formed JSON object, only too large: {"vip": "...", "x": "aaaa..."} */
	memset(body, 'a', len);
	memcpy(body, head, strlen(head));
	memcpy(body + len - 2, "\"}", 2);
	body[len] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(uris); i++)
		expect_refused_len(f, methods[i], uris[i], body, len, 413, "exceeds");
	/* Exactly the limit is not too large (it fails later, for the unknown key). */
	memcpy(body + len - 3, "\"}", 3);
	expect_refused_len(f, "POST", "/v1/vips", body, len - 1, 400, "padding");
	free(body);
}

/* ---- POST /v1/config ----------------------------------------------------------- */

/* The start config with 198.18.0.14 removed, 2001:2::11's weight doubled
 * and a VIP added.
 */
static const char next_config[] = "vips:\n"
				  "  - vip: \"" VIP4 "\"\n"
				  "    backends:\n"
				  "      - {address: 198.18.0.11}\n"
				  "      - {address: 198.18.0.12}\n"
				  "      - {address: 198.18.0.13}\n"
				  "  - vip: \"" VIP6 "\"\n"
				  "    algorithm: source-hash\n"
				  "    backends:\n"
				  "      - {address: \"2001:2::11\", weight: 100}\n"
				  "      - {address: \"2001:2::12\"}\n"
				  "  - vip: \"198.18.1.101:80/tcp\"\n"
				  "    backends:\n"
				  "      - {address: 198.18.0.21}\n";

static const char *const next_changes[] = {
    "vip " VIP4 ": remove backend 198.18.0.14",
    "vip " VIP6 ": backend 2001:2::11 weight 50 -> 100",
    "add vip 198.18.1.101:80/tcp (maglev, ipip, 1 backends)",
};

static void assert_plan(json_t *plan, bool applied)
{
	json_t *changes = json_object_get(plan, "changes"), *moved = json_object_get(plan, "moved");
	double share;

	assert_int_equal(json_is_true(json_object_get(plan, "applied")), applied);
	assert_true(json_is_boolean(json_object_get(plan, "applied")));
	if (json_array_size(changes) != ARRAY_SIZE(next_changes)) {
		char *s = json_dumps(changes, 0);

		fail_msg("changes: %s", s);
	}
	for (size_t i = 0; i < ARRAY_SIZE(next_changes); i++) {
		bool found = false;

		for (size_t j = 0; j < json_array_size(changes); j++) {
			json_t *c = json_array_get(changes, j);

			found |=
			    json_is_string(c) && !strcmp(json_string_value(c), next_changes[i]);
		}
		if (!found) {
			char *s = json_dumps(changes, 0);

			fail_msg("no change \"%s\" in %s", next_changes[i], s);
		}
	}
	/* Per VIP present before and after; the new VIP has none. */
	assert_int_equal(json_object_size(moved), 2);
	assert_true(json_is_number(json_object_get(moved, VIP4)));
	/* 1 of 4 equal backends removed: its quarter of the slots, about. */
	share = json_number_value(json_object_get(moved, VIP4));
	if (share < 0.2 || share > 0.3)
		fail_msg("%s moved %f, expected about 0.25", VIP4, share);
	/* 2001:2::11 goes from 1/3 to 1/2 of the table: about 1/6 moves. */
	share = json_number_value(json_object_get(moved, VIP6));
	if (share < 0.12 || share > 0.25)
		fail_msg("%s moved %f, expected about 0.17", VIP6, share);
	assert_null(json_object_get(moved, "198.18.1.101:80/tcp"));
}

static void test_config_apply(void **state)
{
	static const char *const dry_uris[] = {
	    "/v1/config?dry_run=1",
	    "/v1/config?dry_run=true",
	    "/v1/config?dry_run=yes",
	};
	struct fixture *f = *state;
	char *want;
	struct snapshot s;
	struct reply r;

	for (size_t i = 0; i < ARRAY_SIZE(dry_uris); i++) {
		snap(f, &s);
		call(f, "POST", dry_uris[i], next_config, 200, &r);
		assert_plan(r.json, false);
		reply_free(&r);
		assert_unchanged(f, &s, dry_uris[i]);
	}
	assert_int_equal(f->d->cfg->n_vips, 2);
	assert_non_null(running_backend(f, VIP4, "198.18.0.14"));

	/* The same plan, applied this time */
	call(f, "POST", "/v1/config?dry_run=0", next_config, 200, &r);
	assert_plan(r.json, true);
	reply_free(&r);
	want = yaml_of_string(next_config);
	{
		char *running = running_yaml(f), *saved = yaml_of_file(f->state_file);

		assert_string_equal(running, want);
		assert_string_equal(saved, want);
		free(running);
		free(saved);
	}
	assert_int_equal(f->d->cfg->n_vips, 3);
	assert_null(running_backend(f, VIP4, "198.18.0.14"));
	assert_int_equal(running_backend(f, VIP6, "2001:2::11")->weight, 100);

	/* Applying it again changes nothing and moves nothing. */
	call(f, "POST", "/v1/config", next_config, 200, &r);
	assert_true(json_is_true(json_object_get(r.json, "applied")));
	assert_int_equal(json_array_size(json_object_get(r.json, "changes")), 0);
	assert_true(json_number_value(json_object_get(json_object_get(r.json, "moved"), VIP4)) ==
		    0.0);
	reply_free(&r);
	free(want);
	assert_state_is_running(f);

	/* JSON is YAML too; an empty set of VIPs removes them all. */
	call(f, "POST", "/v1/config", "{\"vips\": []}", 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "changes")), 3);
	assert_contains(json_string_value(json_array_get(json_object_get(r.json, "changes"), 0)),
			"remove vip");
	reply_free(&r);
	assert_int_equal(f->d->cfg->n_vips, 0);
	assert_state_is_running(f);
}

/* A body's interfaces and metrics are not the API's to change. */
static void test_config_apply_keeps_runtime(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	call(f, "POST", "/v1/config",
	     "interfaces: [{name: eth9}]\nmetrics: {listen: \"127.0.0.1:9999\"}\nvips: []\n", 200,
	     &r);
	reply_free(&r);
	assert_int_equal(f->d->cfg->n_interfaces, 0);
	assert_string_equal(f->d->cfg->metrics.listen, XLB_CONFIG_METRICS_DEFAULT);
	assert_int_equal(f->d->cfg->n_vips, 0);
	assert_state_is_running(f);
}

/* However dry_run is spelled, a dry run never applies: it answers a plan
 * with "applied": false, or refuses.
 */
static void test_config_dry_run_spellings(void **state)
{
	static const char *const uris[] = {
	    "/v1/config?dry_run",
	    "/v1/config?dry_run=",
	    "/v1/config?dry_run=on",
	    "/v1/config?other=1&dry_run=1",
	};
	struct fixture *f = *state;
	struct snapshot s;
	struct reply r;

	for (size_t i = 0; i < ARRAY_SIZE(uris); i++) {
		snap(f, &s);
		call_len(f, "POST", uris[i], next_config, strlen(next_config), &r);
		if (r.status == 200)
			assert_true(json_is_false(json_object_get(r.json, "applied")));
		else if (r.status != 400)
			fail_msg("POST %s: status %d: %s", uris[i], r.status, r.text);
		else
			assert_non_null(json_object_get(r.json, "error"));
		reply_free(&r);
		assert_unchanged(f, &s, uris[i]);
	}
}

static void test_config_malformed_yaml(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	/* The error names the line (and the offending key) */
	call(f, "POST", "/v1/config",
	     "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n    backends:\n"
	     "      - {address: 198.18.0.11, wieght: 5}\n",
	     400, &r);
	assert_contains(str_field(r.json, "error"), "line 4");
	assert_contains(str_field(r.json, "error"), "wieght");
	reply_free(&r);

	call(f, "POST", "/v1/config", "vips:\n  - vip: [\n", 400, &r);
	assert_contains(str_field(r.json, "error"), "line");
	reply_free(&r);
	assert_state_is_running(f);
}

/* ---- GET /v1/config and the state file --------------------------------------- */

static void test_get_config(void **state)
{
	struct fixture *f = *state;
	char *exported, *running;
	struct reply r;

	/* some state that is not the config file's */
	call(f, "POST", "/v1/vips",
	     "{\"vip\": \"[2001:2::101]:443/tcp\", \"forward\": \"l2dsr\","
	     " \"health_check\": {\"type\": \"tcp\", \"interval_ms\": 200},"
	     " \"circuit_breaker\": {\"max_ejection_percent\": 100},"
	     " \"backends\": [{\"address\": \"2001:2::31\", \"weight\": 3}]}",
	     201, &r);
	reply_free(&r);
	call(f, "PATCH", VIP4_URI "/backends/198.18.0.12", "{\"drain\": true}", 200, &r);
	reply_free(&r);

	call(f, "GET", "/v1/config", NULL, 200, &r);
	assert_string_equal(r.content_type, "text/yaml");
	assert_null(r.json);
	exported = yaml_of_string(r.text);
	running = running_yaml(f);
	assert_string_equal(exported, running);
	free(exported);
	free(running);
	assert_state_is_running(f);

	/* Applying the export changes nothing. */
	{
		char *text = strdup(r.text);
		struct reply p;

		call(f, "POST", "/v1/config", text, 200, &p);
		assert_int_equal(json_array_size(json_object_get(p.json, "changes")), 0);
		reply_free(&p);
		free(text);
	}
	reply_free(&r);
}

/*
 * wrr, rr and lc are taken by a whole config and reach the data path; an
 * unknown algorithm is refused with its name, before any plan exists (so
 * nothing may free the caller's never-built plan), and changes nothing.
 */
static void test_config_algorithms(void **state)
{
	static const char *const algos[] = { "wrr", "rr", "lc", "maglev" };
	struct fixture *f = *state;
	char body[256];
	struct reply r;

	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		snprintf(body, sizeof(body),
			 "vips:\n  - vip: \"" VIP4 "\"\n    algorithm: %s\n"
			 "    backends: [{address: 198.18.0.21}, {address: 198.18.0.22, weight: 300}]\n",
			 algos[i]);
		call(f, "POST", "/v1/config", body, 200, &r);
		reply_free(&r);
		call(f, "GET", VIP4_URI, NULL, 200, &r);
		assert_string_equal(str_field(r.json, "algorithm"), algos[i]);
		reply_free(&r);
	}
	expect_refused(f, "POST", "/v1/config?dry_run=1",
		       "vips:\n  - vip: \"" VIP4 "\"\n    algorithm: fastest\n", 400, "'fastest'");
	expect_refused(f, "POST", "/v1/config", "vips:\n  - vip: \"" VIP4 "\"\n    algorithm: lcx\n",
		       400, "'lcx'");
}

/* ---- restart ------------------------------------------------------------------ */

static void test_restart_state_wins(void **state)
{
	struct fixture *f = *state;
	char *before, *after;
	struct reply r;

	call(f, "POST", "/v1/vips",
	     "{\"vip\": \"198.18.1.101:80/udp\", \"backends\": "
	     "[{\"address\": \"198.18.0.41\"}]}",
	     201, &r);
	reply_free(&r);
	call(f, "POST", VIP4_URI "/backends", "{\"address\": \"198.18.0.15\", \"weight\": 9}", 201,
	     &r);
	reply_free(&r);
	call(f, "PATCH", VIP6_URI "/backends/2001%3A2%3A%3A12", "{\"drain\": true}", 200, &r);
	reply_free(&r);
	call(f, "DELETE", VIP4_URI "/backends/198.18.0.11", NULL, 200, &r);
	reply_free(&r);
	before = running_yaml(f);
	xlb_daemon__close(f->d);
	f->d = NULL;

	/* A different --config: the state file is the truth. */
	snprintf(f->config, sizeof(f->config), "%s/other.yaml", f->dir);
	write_file(f->config, "interfaces: []\nvips: []\n");
	open_daemon(f);
	after = running_yaml(f);
	assert_string_equal(after, before);
	assert_state_is_running(f);
	free(before);
	free(after);

	call(f, "GET", "/v1/vips/198.18.1.101%3A80%2Fudp", NULL, 200, &r);
	assert_non_null(find_backend(r.json, "198.18.0.41"));
	reply_free(&r);
	call(f, "GET", VIP4_URI, NULL, 200, &r);
	assert_int_equal(int_field(find_backend(r.json, "198.18.0.15"), "weight"), 9);
	assert_null(find_backend(r.json, "198.18.0.11"));
	reply_free(&r);
	call(f, "GET", VIP6_URI, NULL, 200, &r);
	assert_true(json_is_true(json_object_get(find_backend(r.json, "2001:2::12"), "drain")));
	reply_free(&r);
	call(f, "GET", "/v1/status", NULL, 200, &r);
	assert_int_equal(int_field(r.json, "vips"), 3);
	reply_free(&r);

	/* Without a state file, the config file seeds it. */
	xlb_daemon__close(f->d);
	f->d = NULL;
	assert_int_equal(unlink(f->state_file), 0);
	open_daemon(f);
	assert_int_equal(f->d->cfg->n_vips, 0);
	assert_state_is_running(f);
}

/* ---- the live table's digest, on two data paths -------------------------- */

/* Runs a shell command; fails the test when it fails. */
static void sh(const char *cmd)
{
	if (system(cmd))
		fail_msg("failed: %s", cmd);
}

/*
 * A host: a veth xa0 in a network namespace of its own (the one this
 * process is in when called), with permanent neighbour entries for the
 * backends, and an xlbd on it in XDP generic mode, pinning under pin_root.
 */
static struct xlb_daemon *open_host(struct fixture *f, int host, const char *config)
{
	struct xlb_daemon_opts opts = {};
	char path[160], state[160], pins[64], err[1024] = "";
	struct xlb_daemon *d = NULL;
	int ret;

	sh("ip link add xa0 type veth peer name xa1 && ip link set xa1 up && "
	   "ip link set xa0 address 02:00:00:00:0a:01 up && "
	   "ip addr add 198.18.0.1/24 dev xa0 && ip -6 addr add 2001:2::1/64 dev xa0 nodad");
	for (int i = 11; i <= 22; i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd),
			 "ip neigh add 198.18.0.%d lladdr 02:00:00:00:01:%d dev xa0 nud permanent && "
			 "ip neigh add 2001:2::%d lladdr 02:00:00:00:02:%d dev xa0 nud permanent",
			 i, i, i, i);
		sh(cmd);
	}
	snprintf(path, sizeof(path), "%s/host%d.yaml", f->dir, host);
	snprintf(state, sizeof(state), "%s/state%d", f->dir, host);
	snprintf(pins, sizeof(pins), "/sys/fs/bpf/host%d", host);
	write_file(path, config);
	opts.config_path = path;
	opts.state_dir = state;
	opts.pin_root = pins;
	ret = xlb_daemon__open(&opts, &d, err, sizeof(err));
	if (ret)
		fail_msg("host %d: xlb_daemon__open: %d: %s", host, ret, err);
	return d;
}

#define HOST_HEAD                                                                          \
	"# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause\n"                        \
	"interfaces:\n"                                                                    \
	"  - {name: xa0, mode: generic}\n"                                                 \
	"vips:\n"

/* Host 0 lists the backends in one order... */
static const char host0_config[] = HOST_HEAD "  - vip: \"" VIP4 "\"\n"
					     "    backends:\n"
					     "      - {address: 198.18.0.11, weight: 100}\n"
					     "      - {address: 198.18.0.12, weight: 50}\n"
					     "      - {address: 198.18.0.13, weight: 200}\n"
					     "      - {address: \"2001:2::11\", weight: 300}\n";
/* ...host 1 in another, after a VIP whose backends take the first ids. */
static const char host1_config[] = HOST_HEAD "  - vip: \"198.18.1.99:80/tcp\"\n"
					     "    backends:\n"
					     "      - {address: 198.18.0.21}\n"
					     "      - {address: 198.18.0.22}\n"
					     "  - vip: \"" VIP4 "\"\n"
					     "    backends:\n"
					     "      - {address: \"2001:2::11\", weight: 300}\n"
					     "      - {address: 198.18.0.13, weight: 200}\n"
					     "      - {address: 198.18.0.12, weight: 50}\n"
					     "      - {address: 198.18.0.11, weight: 100}\n";

/* GET /v1/vips/{VIP4} on d: its table_digest, 16 hex digits (static). */
static const char *digest_of(struct xlb_daemon *d)
{
	struct fixture g = { .d = d };
	static char out[2][17];
	static int n;
	struct reply r;
	const char *hex;
	char *o = out[n++ % 2];

	call(&g, "GET", VIP4_URI, NULL, 200, &r);
	hex = str_field(r.json, "table_digest");
	assert_int_equal(strlen(hex), 16);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 16);
	memcpy(o, hex, 17);
	reply_free(&r);
	return o;
}

/*
 * Two xlb hosts (each an xlbd with a data path, in a network namespace of
 * its own) with the same backends for a VIP, listed in other orders and
 * given other ids: GET /v1/vips/{vip} shows both the same table digest. A
 * weight changed on one host shows; changed back, they agree again. Needs
 * root; pins in a private bpffs.
 */
static void test_table_digest_two_hosts(void **state)
{
	struct fixture *f = *state;
	struct xlb_daemon *h[2];
	int ns0;
	struct reply r;
	struct fixture g;

	if (geteuid() != 0)
		skip();
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) || unshare(CLONE_NEWNET))
		skip();
	ns0 = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(ns0 >= 0);
	h[0] = open_host(f, 0, host0_config);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	h[1] = open_host(f, 1, host1_config);

	assert_string_equal(digest_of(h[0]), digest_of(h[1]));

	g.d = h[1];
	call(&g, "PATCH", VIP4_URI "/backends/198.18.0.12", "{\"weight\": 51}", 200, &r);
	reply_free(&r);
	assert_string_not_equal(digest_of(h[0]), digest_of(h[1]));
	call(&g, "PATCH", VIP4_URI "/backends/198.18.0.12", "{\"weight\": 50}", 200, &r);
	reply_free(&r);
	assert_string_equal(digest_of(h[0]), digest_of(h[1]));

	/* No backend left: no table, no digest. */
	call(&g, "DELETE", "/v1/vips/198.18.1.99%3A80%2Ftcp", NULL, 200, &r);
	reply_free(&r);
	for (int i = 0; i < 4; i++) {
		static const char *const be[] = { "198.18.0.11", "198.18.0.12", "198.18.0.13",
						  "2001%3A2%3A%3A11" };
		char uri[160];

		snprintf(uri, sizeof(uri), "%s/backends/%s", VIP4_URI, be[i]);
		call(&g, "DELETE", uri, NULL, 200, &r);
		reply_free(&r);
	}
	call(&g, "GET", VIP4_URI, NULL, 200, &r);
	assert_true(json_is_null(json_object_get(r.json, "table_digest")));
	reply_free(&r);

	/* Closing leaves the programs attached: their namespaces take them. */
	xlb_daemon__close(h[1]);
	xlb_daemon__close(h[0]);
	close(ns0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_announce_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_vips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_vip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_vip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_json_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_apply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_apply_keeps_runtime, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_dry_run_spellings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_malformed_yaml, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_state_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_digest_two_hosts, setup, teardown),
	    /* last: it crashed xlbd once (freed an uninitialised plan) */
	    cmocka_unit_test_setup_teardown(test_config_algorithms, setup, teardown),
	};

	int failed;

	xlb_log_set_level(XLB_LOG_WARN);
	xlb_log_capture_libs(); /* libbpf's and libxdp's notes, one level down */
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	remove_live_dir();
	return failed;
}
