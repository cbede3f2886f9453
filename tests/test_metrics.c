/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Tests of the /metrics text (userspace/xlbd/metrics.c and the health families
 * of supervise.c), rendered from a real daemon opened without interfaces
 * (no data path: no root, every data-path counter 0), as tests/test_api.c
 * does:
 *  - the writer: label escaping, lines longer than its buffer;
 *  - the text: every family has HELP and TYPE before its samples and its
 *    samples together, no series twice, counters end in _total, histogram
 *    buckets cumulative with +Inf equal to _count, the main families of
 *    docs/METRICS.md are there;
 *  - `promtool check metrics` (Debian package prometheus) accepts it;
 *  - xlb_metrics__render_evbuffer() gives the same bytes as
 *    xlb_metrics__render(), across many pool chunks and twice in a row;
 *  - the whole text of a small configuration, byte for byte, against
 *    tests/data/metrics/small.prom (XLB_UPDATE_GOLDEN=1 rewrites it): a
 *    change of the renderer must not change a byte unless meant to, and
 *    a change of the series shows in that file's diff;
 *  - as root, in a network namespace of its own: xlbd's listener serves
 *    GET /metrics (HTTP/1.1, twice on one connection, and 1.0) with the
 *    very text; real
 *    TCP health checks fill the histogram, the breaker's state shows, and
 *    no counter goes backwards between scrapes.
 *
 * Without promtool the other tests still run; the binary then exits 77.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "userspace/xlbd/daemon.h"
#include "userspace/lib/log.h"
#include "userspace/xlbd/metrics.h"
#include "userspace/xlbd/server.h"

#define VIP4 "198.18.1.100:80/tcp"
#define VIP6 "[2001:2::100]:53/udp"
#define VIP_ANY "198.18.1.101:0/tcp"

static bool promtool_missing;

/* ---- a daemon without interfaces ---- */

struct fixture {
	char dir[64];
	char config[128];
	char state_dir[128];
	struct xlb_daemon *d;
	struct event_base *base;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void open_daemon(struct fixture *f, const char *config, struct event_base *base)
{
	struct xlb_daemon_opts opts = { .config_path = f->config, .state_dir = f->state_dir,
					.base = base };
	char err[1024] = "";
	FILE *cf;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/xlb-test-metrics.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->config, sizeof(f->config), "%s/xlb.yaml", f->dir);
	snprintf(f->state_dir, sizeof(f->state_dir), "%s/state", f->dir);
	opts.config_path = f->config;
	opts.state_dir = f->state_dir;
	cf = fopen(f->config, "w");
	assert_non_null(cf);
	fputs(config, cf);
	assert_int_equal(fclose(cf), 0);
	f->base = base;
	if (xlb_daemon__open(&opts, &f->d, err, sizeof(err)))
		fail_msg("xlb_daemon__open: %s", err);
}

static void close_daemon(struct fixture *f)
{
	xlb_daemon__close(f->d);
	f->d = NULL;
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Two VIPs of each family, one taking all ports, one without backends. */
static const char small_config[] = "interfaces: []\n"
				   "vips:\n"
				   "  - vip: \"" VIP4 "\"\n"
				   "    backends:\n"
				   "      - {address: 198.18.0.11}\n"
				   "      - {address: 198.18.0.12, weight: 50}\n"
				   "  - vip: \"" VIP6 "\"\n"
				   "    algorithm: source-hash\n"
				   "    rate_limit: {pps: 1000, source_new_flows: 10}\n"
				   "    backends:\n"
				   "      - {address: \"2001:2::11\"}\n"
				   "      - {address: \"2001:2::12\", drain: true}\n"
				   "  - vip: \"" VIP_ANY "\"\n"
				   "    backends: []\n";

/* ---- the text, parsed ---- */

#define LABELS_MAX 4

struct label {
	char key[32];
	char value[128]; /* unescaped */
};

struct sample {
	char name[64];
	struct label labels[LABELS_MAX];
	int nlabels;
	char key[384]; /* name{k="v",...} with labels sorted: the series */
	double value;
};

struct family {
	char name[128];
	char type[16];
	bool help;
	bool left; /* its samples ended: no more may come */
};

struct parsed {
	struct sample *s;
	size_t n;
	struct family fam[256];
	size_t nfam;
};

static struct family *family_find(struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->nfam; i++)
		if (!strcmp(p->fam[i].name, name))
			return &p->fam[i];
	return NULL;
}

static struct family *family_get(struct parsed *p, const char *name)
{
	struct family *f = family_find(p, name);

	if (f)
		return f;
	assert_true(p->nfam < 256);
	f = &p->fam[p->nfam++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

/* The family a sample belongs to: histogram series carry a suffix. */
static struct family *family_of(struct parsed *p, const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	char base[128];

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(name), k = strlen(sfx[i]);
		struct family *f;

		if (n <= k || strcmp(name + n - k, sfx[i]))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
		f = family_find(p, base);
		if (f && !strcmp(f->type, "histogram"))
			return f;
	}
	return family_find(p, name);
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->key, ((const struct label *)b)->key);
}

/* One sample line; fails the test on anything the format does not allow. */
static void parse_sample(const char *line, struct sample *s)
{
	const char *p = line;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
	struct label sorted[LABELS_MAX];
	char *end;
	int len;

	memset(s, 0, sizeof(*s));
	if (!n || n >= sizeof(s->name))
		fail_msg("bad metric name in '%s'", line);
	memcpy(s->name, p, n);
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			struct label *l = &s->labels[s->nlabels];
			size_t v = 0;

			if (s->nlabels == LABELS_MAX)
				fail_msg("too many labels in '%s'", line);
			n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
			if (!n || n >= sizeof(l->key) || p[n] != '=' || p[n + 1] != '"')
				fail_msg("bad label in '%s'", line);
			memcpy(l->key, p, n);
			p += n + 2;
			while (*p != '"') {
				char c = *p++;

				if (!c || c == '\n')
					fail_msg("unterminated label value in '%s'", line);
				if (c == '\\') {
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						fail_msg("bad escape in '%s'", line);
				}
				assert_true(v + 1 < sizeof(l->value));
				l->value[v++] = c;
			}
			p++;
			s->nlabels++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				fail_msg("expected , or } in '%s'", line);
		}
		p++;
	}
	if (*p++ != ' ')
		fail_msg("expected a space before the value in '%s'", line);
	s->value = strtod(p, &end);
	if (end == p || *end)
		fail_msg("bad value in '%s'", line);
	memcpy(sorted, s->labels, s->nlabels * sizeof(sorted[0]));
	qsort(sorted, s->nlabels, sizeof(sorted[0]), cmp_label);
	len = snprintf(s->key, sizeof(s->key), "%s{", s->name);
	for (int i = 0; i < s->nlabels; i++) {
		if (i && !strcmp(sorted[i].key, sorted[i - 1].key))
			fail_msg("label %s twice in '%s'", sorted[i].key, line);
		len += snprintf(s->key + len, sizeof(s->key) - len, "%s%s=\"%s\"", i ? "," : "",
				sorted[i].key, sorted[i].value);
	}
	if (len + 2 > (int)sizeof(s->key))
		fail_msg("series too long for this test: %s", line);
	snprintf(s->key + len, sizeof(s->key) - len, "}");
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct sample *)a)->key, ((const struct sample *)b)->key);
}

/*
 * Parses text and checks what holds for any valid exposition: each family
 * announced (HELP and TYPE) before its samples, its samples together, no
 * series twice.
 */
static void parse(const char *text, struct parsed *p)
{
	char *copy = strdup(text), *save = NULL, *line;
	struct family *cur = NULL;
	size_t cap = 1024;

	memset(p, 0, sizeof(*p));
	p->s = malloc(cap * sizeof(*p->s));
	assert_non_null(copy);
	assert_non_null(p->s);
	assert_true(text[0] && text[strlen(text) - 1] == '\n');
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], rest[16];
		struct family *f;

		if (sscanf(line, "# HELP %127s", name) == 1) {
			f = family_get(p, name);
			if (f->help)
				fail_msg("HELP for %s twice", name);
			f->help = true;
			continue;
		}
		if (sscanf(line, "# TYPE %127s %15s", name, rest) == 2) {
			f = family_get(p, name);
			if (f->type[0])
				fail_msg("TYPE for %s twice", name);
			snprintf(f->type, sizeof(f->type), "%s", rest);
			continue;
		}
		if (line[0] == '#')
			continue;
		if (p->n == cap) {
			cap *= 2;
			p->s = realloc(p->s, cap * sizeof(*p->s));
			assert_non_null(p->s);
		}
		parse_sample(line, &p->s[p->n]);
		f = family_of(p, p->s[p->n].name);
		if (!f || !f->help || !f->type[0])
			fail_msg("%s: sample before its HELP and TYPE", p->s[p->n].name);
		if (f != cur) {
			if (f->left)
				fail_msg("samples of %s are not together", f->name);
			if (cur)
				cur->left = true;
			cur = f;
		}
		p->n++;
	}
	free(copy);
	{
		struct sample *sorted = malloc((p->n + 1) * sizeof(*sorted));

		assert_non_null(sorted);
		memcpy(sorted, p->s, p->n * sizeof(*sorted));
		qsort(sorted, p->n, sizeof(*sorted), cmp_key);
		for (size_t i = 1; i < p->n; i++)
			if (!strcmp(sorted[i].key, sorted[i - 1].key))
				fail_msg("series twice: %s", sorted[i].key);
		free(sorted);
	}
}

static void parsed_free(struct parsed *p)
{
	free(p->s);
	memset(p, 0, sizeof(*p));
}

/* The value of the series name{labels} (labels as k="v",..., sorted by key). */
static const struct sample *series(const struct parsed *p, const char *name, const char *labels)
{
	char key[1024];

	snprintf(key, sizeof(key), "%s{%s}", name, labels);
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].key, key))
			return &p->s[i];
	return NULL;
}

static double value_of(const struct parsed *p, const char *name, const char *labels)
{
	const struct sample *s = series(p, name, labels);

	if (!s)
		fail_msg("no series %s{%s}", name, labels);
	return s->value;
}

/* Rules of this text beyond the format: names, counters, histograms. */
static void check_conventions(struct parsed *p)
{
	for (size_t i = 0; i < p->nfam; i++) {
		const struct family *f = &p->fam[i];
		size_t n = strlen(f->name);

		assert_true(f->help && f->type[0]);
		assert_memory_equal(f->name, "xlb_", 4);
		if (!strcmp(f->type, "counter") && (n < 6 || strcmp(f->name + n - 6, "_total")))
			fail_msg("counter %s does not end in _total", f->name);
		if (strcmp(f->type, "counter") && n >= 6 && !strcmp(f->name + n - 6, "_total"))
			fail_msg("%s ends in _total but is a %s", f->name, f->type);
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct family *f = family_of(p, p->s[i].name);

		if (!strcmp(f->type, "counter") &&
		    (p->s[i].value < 0 || p->s[i].value != floor(p->s[i].value)))
			fail_msg("counter %s is %g", p->s[i].key, p->s[i].value);
	}
}

/* Buckets of each histogram: le ascending, counts cumulative, +Inf = _count. */
static void check_histogram(struct parsed *p, const char *name, double *count_out)
{
	char bucket[160], count[160], sum[160];
	double prev_le = -INFINITY, prev = 0, inf = -1, cnt;
	int nb = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	snprintf(count, sizeof(count), "%s_count", name);
	snprintf(sum, sizeof(sum), "%s_sum", name);
	for (size_t i = 0; i < p->n; i++) {
		const struct sample *s = &p->s[i];
		double le;

		if (strcmp(s->name, bucket))
			continue;
		assert_int_equal(s->nlabels, 1);
		assert_string_equal(s->labels[0].key, "le");
		le = !strcmp(s->labels[0].value, "+Inf") ? INFINITY : strtod(s->labels[0].value, NULL);
		if (!(le > prev_le))
			fail_msg("%s: le %s after %g", name, s->labels[0].value, prev_le);
		if (s->value < prev)
			fail_msg("%s: bucket le=%s %g below the one before (%g)", name,
				 s->labels[0].value, s->value, prev);
		prev_le = le;
		prev = s->value;
		if (isinf(le))
			inf = s->value;
		nb++;
	}
	assert_true(nb >= 2);
	assert_true(isinf(prev_le)); /* +Inf is the last */
	cnt = value_of(p, count, "");
	assert_true(inf == cnt);
	assert_true(value_of(p, sum, "") >= 0);
	if (count_out)
		*count_out = cnt;
}

/* ---- promtool ---- */

static char *promtool_path(void)
{
	static char path[256];
	const char *env = getenv("PATH");
	char *dirs, *save = NULL;

	if (!env)
		env = "/usr/bin:/bin";
	dirs = strdup(env);
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/promtool", d);
		if (!access(path, X_OK)) {
			free(dirs);
			return path;
		}
	}
	free(dirs);
	return NULL;
}

/* promtool check metrics on text: passes when it exits 0 and says nothing. */
static void promtool_check(const char *text)
{
	char file[] = "/tmp/xlb-test-metrics-text.XXXXXX", cmd[512], out[4096] = "";
	const char *promtool = promtool_path();
	size_t n = 0, got;
	FILE *p;
	int fd, status;

	if (!promtool) {
		promtool_missing = true;
		skip();
	}
	fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "'%s' check metrics < '%s' 2>&1", promtool, file);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((got = fread(out + n, 1, sizeof(out) - 1 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	status = pclose(p);
	unlink(file);
	if (status != 0 || n)
		fail_msg("promtool check metrics: status %d:\n%s", status, out);
}

/* ---- tests ---- */

static void test_escape(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = xlb_expo__escape(buf, "a\\b\"c\nd");
	assert_string_equal(buf, "a\\\\b\\\"c\\nd");
	assert_int_equal(n, strlen(buf));
	n = xlb_expo__escape(buf, VIP6);
	assert_string_equal(buf, VIP6); /* brackets, colons and slashes stay */
	n = xlb_expo__escape(buf, "");
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");

	n = xlb_expo__label(buf, sizeof(buf), 0, "vip", VIP6);
	n = xlb_expo__label(buf, sizeof(buf), n, "backend", "2001:2::11");
	assert_string_equal(buf, "vip=\"" VIP6 "\",backend=\"2001:2::11\"");
	assert_int_equal(n, strlen(buf));
	/* What does not fit says so (cap), the buffer keeps what it had. */
	assert_int_equal(xlb_expo__label(buf, 8, 0, "vip", VIP6), 8);
	assert_int_equal(xlb_expo__label(buf, sizeof(buf), sizeof(buf), "k", "v"), sizeof(buf));
}

/* A family whose label values need every escape, written and read back. */
static void test_writer_escapes(void **state)
{
	static const char *const values[] = { "back\\slash", "say \"hi\"", "two\nlines", VIP6,
					      "\\\"\n" };
	struct xlb_expo_labels l = {};
	struct xlb_expo *e = malloc(sizeof(*e));
	char *text = NULL;
	struct parsed p;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(e);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	xlb_expo__init(e, f);
	xlb_expo__family(e, "xlb_test_total", "counter", "A test: back\\slash and\nnewline.");
	for (size_t i = 0; i < 5; i++) {
		const char *lab;
		size_t n;

		xlb_expo_labels__add(&l, "value", values[i], "i", i % 2 ? "odd" : "even");
		lab = xlb_expo_labels__get(&l, i, &n);
		xlb_expo__u64(e, "xlb_test_total", lab, n, NULL, 18446744073709551615ULL - i);
	}
	xlb_expo__family(e, "xlb_test_ratio", "gauge", "Doubles.");
	xlb_expo__double(e, "xlb_test_ratio", "", 0, "k=\"a\"", 0.1);
	xlb_expo__double(e, "xlb_test_ratio", "", 0, "k=\"b\"", NAN);
	xlb_expo__double(e, "xlb_test_ratio", "", 0, "k=\"c\"", -INFINITY);
	assert_int_equal(xlb_expo__finish(e), 0);
	fclose(f);

	assert_non_null(strstr(text, "# HELP xlb_test_total A test: back\\\\slash and\\nnewline.\n"
				     "# TYPE xlb_test_total counter\n"
				     "xlb_test_total{value=\"back\\\\slash\",i=\"even\"} "
				     "18446744073709551615\n"
				     "xlb_test_total{value=\"say \\\"hi\\\"\",i=\"odd\"} "
				     "18446744073709551614\n"
				     "xlb_test_total{value=\"two\\nlines\",i=\"even\"} "
				     "18446744073709551613\n"
				     "xlb_test_total{value=\"" VIP6 "\",i=\"odd\"} "
				     "18446744073709551612\n"));
	assert_non_null(strstr(text, "xlb_test_ratio{k=\"a\"} 0.1\n"
				     "xlb_test_ratio{k=\"b\"} NaN\n"
				     "xlb_test_ratio{k=\"c\"} -Inf\n"));
	parse(text, &p);
	assert_int_equal(p.n, 8);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(p.s[i].labels[0].value, values[i]);
	parsed_free(&p);
	xlb_expo_labels__free(&l);
	free(e);
	promtool_check(text);
	free(text);
}

/* Lines longer than the writer's buffer come out whole. */
static void test_writer_long_line(void **state)
{
	size_t vlen = 3 * XLB_EXPO_BUF, len;
	char *value = malloc(vlen + 1), *labels = malloc(2 * vlen + 64), *text = NULL, *want;
	struct xlb_expo *e = malloc(sizeof(*e));
	size_t n;
	FILE *f;

	(void)state;
	assert_non_null(value);
	assert_non_null(labels);
	assert_non_null(e);
	for (size_t i = 0; i < vlen; i++)
		value[i] = i % 97 ? 'a' + i % 26 : '"';
	value[vlen] = '\0';
	n = xlb_expo__label(labels, 2 * vlen + 64, 0, "long", value);
	assert_true(n < 2 * vlen + 64);
	f = open_memstream(&text, &len);
	xlb_expo__init(e, f);
	xlb_expo__family(e, "xlb_test", "gauge", "Long.");
	xlb_expo__u64(e, "xlb_test", "", 0, NULL, 1); /* something already buffered */
	xlb_expo__u64(e, "xlb_test", labels, n, NULL, 7);
	xlb_expo__u64(e, "xlb_test", "", 0, "short=\"1\"", 8);
	assert_int_equal(xlb_expo__finish(e), 0);
	fclose(f);
	assert_true(asprintf(&want,
			     "# HELP xlb_test Long.\n# TYPE xlb_test gauge\nxlb_test 1\n"
			     "xlb_test{%s} 7\nxlb_test{short=\"1\"} 8\n",
			     labels) > 0);
	assert_string_equal(text, want);
	free(want);
	free(text);
	free(value);
	free(labels);
	free(e);
}

static void test_render_promtool(void **state)
{
	struct fixture f;
	char *text;

	(void)state;
	open_daemon(&f, small_config, NULL);
	text = xlb_metrics__render(f.d);
	assert_non_null(text);
	promtool_check(text);
	free(text);
	close_daemon(&f);
}

/* The main families of docs/METRICS.md, with the right labels. */
static void test_render_families(void **state)
{
	static const struct {
		const char *name, *type;
	} want[] = {
		{ "xlb_build_info", "gauge" },
		{ "xlb_interface_attached", "gauge" },
		{ "xlb_vip_packets_total", "counter" },
		{ "xlb_vip_bytes_total", "counter" },
		{ "xlb_vip_new_flows_total", "counter" },
		{ "xlb_backend_packets_total", "counter" },
		{ "xlb_backend_up", "gauge" },
		{ "xlb_backend_circuit", "gauge" },
		{ "xlb_backend_ejections_total", "counter" },
		{ "xlb_drops_total", "counter" },
		{ "xlb_ratelimit_drops_total", "counter" },
		{ "xlb_conntrack_lookups_total", "counter" },
		{ "xlb_conntrack_untracked_total", "counter" },
		{ "xlb_flow_cache_hits_total", "counter" },
		{ "xlb_flow_cache_bypasses_total", "counter" },
		{ "xlb_healthcheck_duration_seconds", "histogram" },
		{ "xlb_vip_panic", "gauge" },
		{ "xlb_backend_weight", "gauge" },
		{ "xlb_backend_syn_retransmits_total", "counter" },
		{ "xlb_api_requests_total", "counter" },
		{ "xlb_icmp_too_big_sent_total", "counter" },
	};
	static const char *const vips[] = { VIP4, VIP6, VIP_ANY };
	static const char *const backends[][2] = {
		{ VIP4, "198.18.0.11" }, { VIP4, "198.18.0.12" },
		{ VIP6, "2001:2::11" },	 { VIP6, "2001:2::12" },
	};
	static const char *const reasons[] = { "malformed", "fragment", "no_backend", "no_table",
					       "encap",	    "family",	"rate_vip",   "rate_source",
					       "too_big" };
	struct fixture f;
	char labels[256];
	struct parsed p;
	char *text;

	(void)state;
	open_daemon(&f, small_config, NULL);
	for (int i = 0; i < 3; i++)
		xlb_metrics__count_api(200);
	xlb_metrics__count_api(404);
	text = xlb_metrics__render(f.d);
	assert_non_null(text);
	parse(text, &p);
	check_conventions(&p);
	check_histogram(&p, "xlb_healthcheck_duration_seconds", NULL);

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct family *fam = family_find(&p, want[i].name);

		if (!fam)
			fail_msg("no family %s", want[i].name);
		assert_string_equal(fam->type, want[i].type);
	}
	/* one series; the commit is the library's, which may be older than this test's */
	{
		int n = 0;

		for (size_t i = 0; i < p.n; i++) {
			if (strcmp(p.s[i].name, "xlb_build_info"))
				continue;
			n++;
			assert_int_equal(p.s[i].nlabels, 2);
			assert_string_equal(p.s[i].labels[0].key, "version");
			assert_string_equal(p.s[i].labels[0].value, XLB_VERSION);
			assert_string_equal(p.s[i].labels[1].key, "commit");
			assert_true(p.s[i].labels[1].value[0]);
			assert_true(p.s[i].value == 1);
		}
		assert_int_equal(n, 1);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(labels, sizeof(labels), "vip=\"%s\"", vips[i]);
		assert_true(value_of(&p, "xlb_vip_packets_total", labels) == 0);
		assert_true(value_of(&p, "xlb_vip_panic", labels) == 0);
		snprintf(labels, sizeof(labels), "scope=\"vip\",vip=\"%s\"", vips[i]);
		assert_true(value_of(&p, "xlb_ratelimit_drops_total", labels) == 0);
		snprintf(labels, sizeof(labels), "scope=\"source\",vip=\"%s\"", vips[i]);
		assert_true(value_of(&p, "xlb_ratelimit_drops_total", labels) == 0);
	}
	for (size_t i = 0; i < 4; i++) {
		bool drained = i == 3;

		snprintf(labels, sizeof(labels), "backend=\"%s\",vip=\"%s\"", backends[i][1],
			 backends[i][0]);
		assert_true(value_of(&p, "xlb_backend_packets_total", labels) == 0);
		assert_true(value_of(&p, "xlb_backend_up", labels) == !drained);
		assert_true(value_of(&p, "xlb_backend_weight", labels) ==
			    (drained ? 0 : i == 1 ? 50 : 100));
		assert_true(value_of(&p, "xlb_backend_circuit", labels) == 0); /* closed */
	}
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reasons[i]);
		assert_true(value_of(&p, "xlb_drops_total", labels) == 0);
	}
	assert_true(value_of(&p, "xlb_conntrack_lookups_total", "result=\"hit\"") == 0);
	assert_true(value_of(&p, "xlb_conntrack_lookups_total", "result=\"miss\"") == 0);
	assert_true(value_of(&p, "xlb_conntrack_untracked_total", "") == 0);
	assert_true(value_of(&p, "xlb_flow_cache_hits_total", "family=\"ipv6\"") == 0);
	assert_true(value_of(&p, "xlb_flow_cache_bypasses_total", "family=\"ipv4\"") == 0);
	assert_true(value_of(&p, "xlb_packets_passed_total", "reason=\"other_host\"") == 0);
	assert_true(value_of(&p, "xlb_packets_passed_total", "reason=\"multicast\"") == 0);
	assert_true(value_of(&p, "xlb_api_requests_total", "code=\"200\"") >= 3);
	assert_true(value_of(&p, "xlb_api_requests_total", "code=\"404\"") >= 1);
	assert_null(series(&p, "xlb_api_requests_total", "code=\"500\""));
	parsed_free(&p);
	free(text);
	close_daemon(&f);
}

/* 20 VIPs x 250 backends: some 4 MB, several chunks of the pool. */
static char *big_config(void)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "interfaces: []\nvips:\n");
	for (int i = 0; i < 20; i++) {
		if (i % 2)
			fprintf(f, "  - vip: \"[2001:2::1:%x]:443/tcp\"\n    backends:\n", i);
		else
			fprintf(f, "  - vip: \"198.18.2.%d:443/tcp\"\n    backends:\n", i + 1);
		for (int j = 0; j < 250; j++) {
			if (i % 2)
				fprintf(f, "      - {address: \"2001:2::b:%x:%x\"}\n", i, j + 1);
			else
				fprintf(f, "      - {address: 198.19.%d.%d}\n", j / 250, j % 250 + 1);
		}
	}
	fclose(f);
	return buf;
}

static char *evbuffer_text(struct xlb_daemon *d)
{
	struct evbuffer *out = evbuffer_new();
	size_t len;
	char *text;

	assert_non_null(out);
	assert_int_equal(xlb_metrics__render_evbuffer(d, out), 0);
	len = evbuffer_get_length(out);
	text = malloc(len + 1);
	assert_non_null(text);
	assert_int_equal(evbuffer_remove(out, text, len), (int)len);
	text[len] = '\0';
	evbuffer_free(out);
	return text;
}

static void test_evbuffer_same_text(void **state)
{
	char *config = big_config(), *a, *b, *c;
	struct fixture f;
	struct parsed p;

	(void)state;
	open_daemon(&f, config, NULL);
	a = xlb_metrics__render(f.d);
	b = evbuffer_text(f.d);
	c = evbuffer_text(f.d); /* the pool's chunks again */
	assert_non_null(a);
	assert_true(strlen(a) > 3 * (1 << 20));
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	parse(b, &p);
	check_conventions(&p);
	assert_true(p.n > 20 * 250 * 8);
	parsed_free(&p);
	free(a);
	free(b);
	free(c);
	close_daemon(&f);

	/* and for a small text, which fits in one chunk */
	open_daemon(&f, small_config, NULL);
	a = xlb_metrics__render(f.d);
	b = evbuffer_text(f.d);
	assert_string_equal(a, b);
	free(a);
	free(b);
	close_daemon(&f);
	free(config);
}

/*
 * The text of small_config, byte for byte. Lines that differ from build to
 * build or run to run are left out: xlb_build_info's sample (version,
 * commit), xlb_start_time_seconds' and xlb_api_requests_total's (counted
 * by the other tests of this process).
 */
#define GOLDEN "tests/data/metrics/small.prom"
#define GOLDEN_HEAD                                                                                \
	"# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause\n"                                \
	"# /metrics of tests/test_metrics.c's small_config, less build_info, start time\n"         \
	"# and API counts; test_render_golden compares it byte for byte.\n"

static char *golden_text(const char *text)
{
	static const char *const skip[] = { "xlb_build_info{", "xlb_start_time_seconds ",
					     "xlb_api_requests_total{" };
	char *out = malloc(strlen(text) + 1), *o = out;

	assert_non_null(out);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) + 1 : strlen(text);
		bool keep = true;

		for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			keep &= strncmp(text, skip[i], strlen(skip[i])) != 0;
		if (keep) {
			memcpy(o, text, n);
			o += n;
		}
		text += n;
	}
	*o = '\0';
	return out;
}

static void test_render_golden(void **state)
{
	char *text, *got, *want = NULL, *w;
	size_t len = 0, line = 1;
	struct fixture f;
	FILE *g;

	(void)state;
	open_daemon(&f, small_config, NULL);
	text = xlb_metrics__render(f.d);
	assert_non_null(text);
	got = golden_text(text);
	if (getenv("XLB_UPDATE_GOLDEN")) {
		g = fopen(GOLDEN, "w");
		assert_non_null(g);
		fputs(GOLDEN_HEAD, g);
		fputs(got, g);
		assert_int_equal(fclose(g), 0);
	}
	g = fopen(GOLDEN, "r");
	if (!g)
		fail_msg("%s: %s (run from the repository's root)", GOLDEN, strerror(errno));
	assert_int_not_equal(getdelim(&want, &len, '\0', g), -1);
	fclose(g);
	if (strncmp(want, GOLDEN_HEAD, strlen(GOLDEN_HEAD)))
		fail_msg("%s does not start with its header comment", GOLDEN);
	w = want;
	want = strdup(want + strlen(GOLDEN_HEAD));
	free(w);
	line += 3;
	for (size_t i = 0; got[i] || want[i]; i++) {
		if (got[i] != want[i]) {
			const char *a = got + i, *b = want + i;

			while (a > got && a[-1] != '\n')
				a--, b--;
			fail_msg("%s line %zu differs:\n  want: %.*s\n  got:  %.*s", GOLDEN, line,
				 (int)strcspn(b, "\n"), b, (int)strcspn(a, "\n"), a);
		}
		line += got[i] == '\n';
	}
	/* the evbuffer's text is the same */
	free(text);
	text = evbuffer_text(f.d);
	free(got);
	got = golden_text(text);
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(text);
	close_daemon(&f);
}

/* Label sets are kept between scrapes: a change of config must show. */
static void test_render_follows_changes(void **state)
{
	static const char changed[] = "interfaces: []\n"
				      "vips:\n"
				      "  - vip: \"" VIP4 "\"\n"
				      "    backends:\n"
				      "      - {address: 198.18.0.11}\n"
				      "      - {address: 198.18.0.13}\n";
	struct xlb_config *cfg = NULL;
	char err[1024] = "", *a, *b, *c;
	struct fixture f;

	(void)state;
	open_daemon(&f, small_config, NULL);
	a = xlb_metrics__render(f.d);
	assert_non_null(a);
	assert_non_null(strstr(a, "backend=\"198.18.0.12\""));
	assert_non_null(strstr(a, "vip=\"" VIP6 "\""));
	if (xlb_config__load_string(changed, strlen(changed), &cfg, err, sizeof(err)) ||
	    xlb_config__validate(cfg, err, sizeof(err)) ||
	    xlb_daemon__apply(f.d, cfg, false, NULL, err, sizeof(err)))
		fail_msg("applying the change: %s", err);
	b = xlb_metrics__render(f.d);
	c = xlb_metrics__render(f.d); /* and from the kept tables */
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(strstr(b, "xlb_backend_packets_total{vip=\"" VIP4 "\",backend=\"198.18.0.13\"} 0\n"));
	assert_non_null(strstr(b, "xlb_backend_up{vip=\"" VIP4 "\",backend=\"198.18.0.13\"}"));
	assert_null(strstr(b, "198.18.0.12"));
	assert_null(strstr(b, VIP6));
	assert_string_equal(b, c);
	promtool_check(b);
	xlb_config__free(cfg);
	free(a);
	free(b);
	free(c);
	close_daemon(&f);
}

/* ---- as root: GET /metrics over HTTP in a network namespace ---- */

struct http_get {
	const char *request;
	int done_fd;
	char *answer; /* everything the server sent, to the end of the connection */
	size_t len;
	int err;
};

static void *http_get_main(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9642) };
	struct http_get *g = arg;
	size_t cap = 1 << 16;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g->answer = malloc(cap);
	if (fd < 0 || !g->answer || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, g->request, strlen(g->request), MSG_NOSIGNAL) != (ssize_t)strlen(g->request))
		g->err = errno ?: EIO;
	while (!g->err) {
		ssize_t n;

		if (g->len + 1 == cap) {
			char *bigger = realloc(g->answer, 2 * cap);

			if (!bigger) {
				g->err = ENOMEM;
				break;
			}
			g->answer = bigger;
			cap *= 2;
		}
		n = recv(fd, g->answer + g->len, cap - 1 - g->len, 0);
		if (n < 0 && errno != EINTR)
			g->err = errno;
		if (n == 0)
			break;
		if (n > 0)
			g->len += n;
	}
	if (g->answer)
		g->answer[g->len] = '\0';
	if (fd >= 0)
		close(fd);
	if (write(g->done_fd, "x", 1) != 1)
		g->err = g->err ?: EIO;
	return NULL;
}

static void on_get_done(evutil_socket_t fd, short what, void *arg)
{
	char x;

	(void)what;
	if (read(fd, &x, 1) == 1)
		event_base_loopbreak(arg);
}

/* Sends request from a thread while base serves it; the whole answer. */
static char *http_exchange(struct event_base *base, const char *request, size_t *len)
{
	struct http_get g = { .request = request };
	struct event *ev;
	pthread_t t;
	int p[2];

	assert_int_equal(pipe(p), 0);
	g.done_fd = p[1];
	ev = event_new(base, p[0], EV_READ | EV_PERSIST, on_get_done, base);
	assert_non_null(ev);
	assert_int_equal(event_add(ev, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, http_get_main, &g), 0);
	event_base_dispatch(base);
	pthread_join(t, NULL);
	event_free(ev);
	close(p[0]);
	close(p[1]);
	if (g.err)
		fail_msg("GET /metrics: %s", strerror(g.err));
	*len = g.len;
	return g.answer;
}

/*
 * The body of the answer at *at (status line, headers, Content-Length
 * bytes), NULL when it is not whole; *at moves past it.
 */
static char *answer_body(const char **at)
{
	const char *head = *at, *body = strstr(head, "\r\n\r\n"), *cl;
	unsigned long n;
	char *out;

	if (!body)
		return NULL;
	body += 4;
	cl = strcasestr(head, "\r\nContent-Length: ");
	if (!cl || cl > body)
		return NULL;
	n = strtoul(cl + 18, NULL, 10);
	if (strlen(body) < n)
		return NULL;
	out = strndup(body, n);
	assert_non_null(out);
	*at = body + n;
	return out;
}

/*
 * xlbd's own /metrics listener (xlb_server): HTTP/1.1 twice on one
 * connection and HTTP/1.0, each answer the very text of
 * xlb_metrics__render() (3 MB: several pool chunks); other paths 404.
 */
static void test_http_scrape(void **state)
{
	char *config = big_config(), *whole, *answer, *body, err[512];
	struct xlb_server *srv = NULL;
	struct event_base *base;
	struct fixture f;
	size_t len;

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_http_scrape: needs root (a network namespace)\n");
		skip();
	}
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	assert_int_equal(system("ip link set lo up"), 0);
	base = event_base_new();
	assert_non_null(base);
	open_daemon(&f, config, NULL);
	snprintf(err, sizeof(err), "%s/xlbd.sock", f.dir);
	if (xlb_server__start(base, f.d, err, (gid_t)-1, &srv, err, sizeof(err)) ||
	    xlb_server__listen_metrics(srv, "127.0.0.1", 9642, err, sizeof(err)))
		fail_msg("xlb_server: %s", err);
	whole = xlb_metrics__render(f.d);
	assert_non_null(whole);
	assert_true(strlen(whole) > 3 << 20);

	/* twice on one connection, as Prometheus keeps it open */
	answer = http_exchange(base, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"
				     "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
			       &len);
	{
		const char *next = answer;

		for (int i = 0; i < 2; i++) {
			assert_memory_equal(next, "HTTP/1.1 200 OK\r\n", 17);
			assert_non_null(
			    strcasestr(next, "\r\nContent-Type: text/plain; version=0.0.4"));
			body = answer_body(&next);
			if (!body)
				fail_msg("answer %d is not whole", i + 1);
			assert_string_equal(body, whole);
			free(body);
		}
		assert_string_equal(next, "");
	}
	free(answer);

	answer = http_exchange(base, "GET /metrics HTTP/1.0\r\n\r\n", &len);
	assert_memory_equal(answer, "HTTP/1.0 200 OK\r\n", 17);
	body = strstr(answer, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, whole);
	free(answer);

	answer = http_exchange(base, "GET /other HTTP/1.1\r\nHost: t\r\n"
				     "Connection: close\r\n\r\n", &len);
	assert_memory_equal(answer, "HTTP/1.1 404 ", 13);
	free(answer);

	free(whole);
	xlb_server__stop(srv);
	close_daemon(&f);
	event_base_free(base);
	free(config);
}

/* ---- as root: real health checks in a network namespace ---- */

static void run_loop(struct event_base *base, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* A series' value, or -1 when absent (no assertion: polled). */
static double value_or(const struct parsed *p, const char *name, const char *labels)
{
	const struct sample *v = series(p, name, labels);

	return v ? v->value : -1;
}

#define UP_11 "backend=\"198.18.0.11\",vip=\"" VIP4 "\""
#define UP_12 "backend=\"198.18.0.12\",vip=\"" VIP4 "\""
#define HC_COUNT "xlb_healthcheck_duration_seconds_count"

/*
 * Runs the loop 20 ms at a time until the checks have counted more than
 * min and each backend's up is what its server makes it, and returns that
 * text; fails after timeout_ms. A wait on the outcome, not a fixed time:
 * a slow machine fails loudly instead of checking less.
 */
static char *render_when_checked(struct fixture *f, double min, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		char *t;

		run_loop(f->base, 20);
		struct parsed p;
		bool done;

		t = xlb_metrics__render(f->d);
		assert_non_null(t);
		parse(t, &p);
		done = value_or(&p, HC_COUNT, "") > min &&
		       value_or(&p, "xlb_backend_up", UP_11) == 1 &&
		       value_or(&p, "xlb_backend_up", UP_12) == 0;
		parsed_free(&p);
		if (done)
			return t;
		free(t);
	}
	fail_msg("after %d ms: health checks counted no more than %g, or the backends "
		 "not up/down as their servers are",
		 timeout_ms, min);
	return NULL;
}

/* A namespace of our own with 198.18.0.11 on lo: checks never leave it. */
static int private_net(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	if (system("ip link set lo up && ip addr add 198.18.0.11/32 dev lo && "
		   "ip addr add 198.18.0.12/32 dev lo"))
		return -EIO;
	return 0;
}

static void test_health_histogram(void **state)
{
	static const char config[] =
		"interfaces: []\n"
		"vips:\n"
		"  - vip: \"" VIP4 "\"\n"
		"    health_check: {type: tcp, port: 8080, interval_ms: 40, timeout_ms: 30,\n"
		"                   rise: 1, fall: 1}\n"
		"    circuit_breaker: {base_ejection_ms: 100, max_ejection_percent: 100}\n"
		"    backends:\n"
		"      - {address: 198.18.0.11}\n"
		"      - {address: 198.18.0.12}\n";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8080) };
	struct parsed p1, p2;
	double count1, count2;
	struct fixture f;
	char *t1, *t2;
	int fd, one = 1;

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_health_histogram: needs root (a network namespace)\n");
		skip();
	}
	if (private_net())
		fail_msg("cannot make a private network namespace");
	/* 198.18.0.11 answers; nothing listens on 198.18.0.12 (refused). */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "198.18.0.11", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 128), 0);

	open_daemon(&f, config, event_base_new());
	/* two backends every 40 ms: 10 checks in ~200 ms; 10 s is for a slow machine */
	t1 = render_when_checked(&f, 9, 10000);
	parse(t1, &p1);
	t2 = render_when_checked(&f, value_or(&p1, HC_COUNT, ""), 5000);
	parse(t2, &p2);
	check_histogram(&p1, "xlb_healthcheck_duration_seconds", &count1);
	check_histogram(&p2, "xlb_healthcheck_duration_seconds", &count2);
	assert_true(count1 >= 10);
	assert_true(count2 > count1);
	assert_true(value_of(&p2, "xlb_healthcheck_duration_seconds_sum", "") > 0);
	assert_true(value_of(&p2, "xlb_backend_up",
			     "backend=\"198.18.0.11\",vip=\"" VIP4 "\"") == 1);
	assert_true(value_of(&p2, "xlb_backend_up",
			     "backend=\"198.18.0.12\",vip=\"" VIP4 "\"") == 0);
	/* the refused one never passed a check: pending (3); the other closed (0) */
	assert_true(value_of(&p2, "xlb_backend_circuit", UP_11) == 0);
	assert_true(value_of(&p2, "xlb_backend_circuit", UP_12) == 3);

	/* Counters and buckets never go backwards; the series stay the same. */
	assert_int_equal(p1.n, p2.n);
	for (size_t i = 0; i < p1.n; i++) {
		const struct family *fam = family_of(&p1, p1.s[i].name);
		const struct sample *later;
		char labels[1024];

		if (strcmp(fam->type, "counter") && strcmp(fam->type, "histogram"))
			continue;
		/* the key is name{labels}: the labels without the braces */
		snprintf(labels, sizeof(labels), "%s", strchr(p1.s[i].key, '{') + 1);
		labels[strlen(labels) - 1] = '\0';
		later = series(&p2, p1.s[i].name, labels);
		if (!later)
			fail_msg("%s gone in the second scrape", p1.s[i].key);
		if (later->value < p1.s[i].value)
			fail_msg("%s went from %g to %g", p1.s[i].key, p1.s[i].value, later->value);
	}
	promtool_check(t2);
	parsed_free(&p1);
	parsed_free(&p2);
	free(t1);
	free(t2);

	/* 198.18.0.11 stops answering: ejected, its breaker open (1) or probing (2) */
	close(fd);
	for (int waited = 0;; waited += 20) {
		double up, circuit;

		run_loop(f.base, 20);
		t1 = xlb_metrics__render(f.d);
		assert_non_null(t1);
		parse(t1, &p1);
		up = value_of(&p1, "xlb_backend_up", UP_11);
		circuit = value_of(&p1, "xlb_backend_circuit", UP_11);
		parsed_free(&p1);
		free(t1);
		if (!up) {
			assert_true(circuit == 1 || circuit == 2);
			break;
		}
		if (waited > 5000)
			fail_msg("198.18.0.11 still up 5 s after its server closed");
	}
	{
		struct event_base *base = f.base;

		close_daemon(&f);
		event_base_free(base);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_writer_escapes),
		cmocka_unit_test(test_writer_long_line),
		cmocka_unit_test(test_render_promtool),
		cmocka_unit_test(test_render_families),
		cmocka_unit_test(test_evbuffer_same_text),
		cmocka_unit_test(test_render_golden),
		cmocka_unit_test(test_render_follows_changes),
		cmocka_unit_test(test_http_scrape),
		cmocka_unit_test(test_health_histogram),
	};
	int failed;

	xlb_log_set_level(XLB_LOG_ERROR);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (failed)
		return failed;
	if (promtool_missing) {
		printf("needs promtool (Debian package prometheus)\n");
		return 77;
	}
	return 0;
}
