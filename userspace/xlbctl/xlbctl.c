/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlbctl: the operator's CLI, `xlbctl [--socket PATH] [-j] OBJECT COMMAND`.
 *
 * Commands are rows of one table (as bpftool's src/main.c). Each checks its
 * arguments before anything is sent, makes one request to xlbd's API
 * (docs/API.md) and prints the answer as an aligned table, or prints xlbd's
 * JSON as it came with -j.
 *
 * Exit codes: 0 ok, 1 rejected by xlbd, 2 usage error, 3 xlbd unreachable.
 * Inside, errors are -errno: -EINVAL a usage error, -EHOSTUNREACH xlbd not
 * reachable, anything else (-EREMOTEIO: xlbd said no) exit code 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "userspace/lib/api_socket.h"
#include "userspace/lib/clock.h"
#include "userspace/lib/config.h"
#include "userspace/xlbctl/ctl_http.h"
#include "userspace/lib/vipaddr.h"

#define XLBCTL_FILE_MAX (64 << 20) /* bytes of a config file to send */
#define ESC_MAX 256		   /* a percent-encoded VIP name or address */
#define PATH_LEN 1024

enum { EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

struct cmd;

struct ctl {
	const char *sock;
	bool json;
	const struct cmd *cmd;
};

/* Everything a command line can carry; each command accepts a subset. */
struct args {
	const char *pos[2];
	int npos;
	const char *algo, *forward, *gue_port, *rate, *source_rate, *weight;
	const char *interval, *count;
	bool drain, undrain, dry_run, watch, stateless;
};

struct cmd {
	const char *obj;
	const char *verb; /* NULL: the object is the whole command ("status") */
	int (*fn)(struct ctl *ctl, const struct args *a);
	const char *params[2]; /* positional arguments */
	int nreq;	       /* how many of them are required */
	const char *opts;      /* codes of the long options it takes */
	const char *usage;     /* after "xlbctl " */
	const char *help;
};

/* Long-only options have these codes, which are not in the short string. */
static const struct option long_opts[] = {
	{ "algo", required_argument, NULL, 'a' },
	{ "forward", required_argument, NULL, 'f' },
	{ "gue-port", required_argument, NULL, 'g' },
	{ "rate", required_argument, NULL, 'r' },
	{ "source-rate", required_argument, NULL, 's' },
	{ "stateless", no_argument, NULL, 't' },
	{ "weight", required_argument, NULL, 'w' },
	{ "drain", no_argument, NULL, 'd' },
	{ "undrain", no_argument, NULL, 'u' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "watch", no_argument, NULL, 'W' },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "socket", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{},
};


static int usage_err(struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_err(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fputs("xlbctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: xlbctl %s\n", ctl->cmd->usage);
	return -EINVAL;
}

/* ---- argument checks ---- */

static int parse_u32(const char *s, unsigned long min, unsigned long max, __u32 *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v < min || v > max)
		return -EINVAL;
	*out = (__u32)v;
	return 0;
}

/* "RATE" or "RATE/BURST"; a burst left out is 0 (xlbd's default). */
static int parse_rate(struct ctl *ctl, const char *opt, const char *s, __u32 *rate,
		      __u32 *burst)
{
	const char *slash = strchr(s, '/');
	char num[24];

	*burst = 0;
	if (slash && (size_t)(slash - s) < sizeof(num)) {
		memcpy(num, s, slash - s);
		num[slash - s] = '\0';
		if (!parse_u32(num, 0, UINT32_MAX, rate) &&
		    !parse_u32(slash + 1, 0, UINT32_MAX, burst))
			return 0;
	} else if (!slash && !parse_u32(s, 0, UINT32_MAX, rate)) {
		return 0;
	}
	return usage_err(ctl, "bad %s '%s' (expected RATE[/BURST], integers 0..%u)", opt, s,
			 UINT32_MAX);
}

static int parse_weight(struct ctl *ctl, const char *s, __u32 *w)
{
	if (parse_u32(s, 1, 65535, w))
		return usage_err(ctl, "bad weight '%s' (expected an integer 1..65535)", s);
	return 0;
}

/* Checks a VIP name; its canonical name goes into name, percent-encoded into esc. */
static int parse_vip(struct ctl *ctl, const char *s, char *name, char *esc)
{
	struct xlb_vip_addr vip;
	char err[160];

	if (xlb_vip_addr__parse(s, &vip, err, sizeof(err)))
		return usage_err(ctl, "bad VIP: %s", err);
	xlb_vip_addr__format(&vip, name, XLB_VIP_NAME_MAX);
	return ctl_http__escape(name, esc, ESC_MAX);
}

static int parse_addr(struct ctl *ctl, const char *s, char *name, char *esc)
{
	__be32 addr[4];
	__u8 family;

	if (xlb_addr__parse(s, &family, addr))
		return usage_err(ctl, "bad backend address '%s' (expected an IPv4 or IPv6 address)",
				 s);
	xlb_addr__format(family, addr, name, XLB_ADDR_STR_MAX);
	return ctl_http__escape(name, esc, ESC_MAX);
}

/* ---- talking to xlbd ---- */

static int rejected(const struct ctl_http_resp *resp)
{
	json_t *j = json_loads(resp->body, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));
	int n = (int)strcspn(resp->body, "\r\n"); /* the first line of any other text */

	if (msg)
		fprintf(stderr, "xlbctl: %s\n", msg);
	else
		fprintf(stderr, "xlbctl: xlbd answered HTTP %ld%s%.*s\n", resp->status,
			n ? ": " : "", n < 200 ? n : 200, resp->body);
	json_decref(j);
	return -EREMOTEIO;
}

/* 0 on a 2xx answer; -EREMOTEIO on any other, left to the caller to report. */
static int request(struct ctl *ctl, const char *method, const char *path, const char *body,
		   size_t len, const char *ctype, struct ctl_http_resp *resp)
{
	char err[256];
	int ret;

	ret = ctl_http__request(ctl->sock, method, path, body, len, ctype, resp, err,
				sizeof(err));
	if (ret == -EHOSTUNREACH)
		fprintf(stderr, "xlbctl: cannot reach xlbd at %s: %s\n", ctl->sock, err);
	else if (ret)
		fprintf(stderr, "xlbctl: %s\n", err);
	else if (resp->status < 200 || resp->status > 299)
		ret = -EREMOTEIO;
	return ret;
}

/*
 * A 2xx answer: with -j it is printed as it came; otherwise it is parsed
 * into *out for the command to print, unless out is NULL (not needed).
 */
static int take_answer(struct ctl *ctl, const struct ctl_http_resp *resp, json_t **out)
{
	json_error_t jerr;

	if (ctl->json) {
		fwrite(resp->body, 1, resp->len, stdout);
		if (resp->len && resp->body[resp->len - 1] != '\n')
			putchar('\n');
	}
	if (ctl->json || !out)
		return 0;
	*out = json_loads(resp->body, 0, &jerr);
	if (!*out) {
		fprintf(stderr, "xlbctl: bad answer from xlbd: %s\n", jerr.text);
		return -EBADMSG;
	}
	return 0;
}

/* One request, failures reported; *out as for take_answer(), or NULL. */
static int call_raw(struct ctl *ctl, const char *method, const char *path, const char *body,
		    size_t len, const char *ctype, json_t **out)
{
	struct ctl_http_resp resp;
	int ret;

	if (out)
		*out = NULL;
	ret = request(ctl, method, path, body, len, ctype, &resp);
	if (ret == -EREMOTEIO)
		ret = rejected(&resp);
	if (!ret)
		ret = take_answer(ctl, &resp, out);
	ctl_http_resp__free(&resp);
	return ret;
}

/* The same with a JSON body (or none when body is NULL). */
static int call(struct ctl *ctl, const char *method, const char *path, json_t *body,
		json_t **out)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int ret;

	if (body && !text)
		return -ENOMEM;
	ret = call_raw(ctl, method, path, text, text ? strlen(text) : 0, "application/json",
		       out);
	free(text);
	return ret;
}

/* ---- printing ---- */

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static long long jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* 123456 -> "123456", 12345678 -> "12.3M"; bytes: 1536 -> "1.5KiB". */
static const char *human(char *buf, size_t len, long long n, bool bytes)
{
	const char *units = "KMGTPE";
	double v = (double)n, base = bytes ? 1024 : 1000;
	int i = -1;

	if (n < (bytes ? 1024 : 1000000)) {
		snprintf(buf, len, bytes ? "%lldB" : "%lld", n);
		return buf;
	}
	while (v >= base && i < 5) {
		v /= base;
		i++;
	}
	snprintf(buf, len, "%.1f%c%s", v, units[i], bytes ? "iB" : "");
	return buf;
}

static const char *duration(char *buf, size_t len, long long s)
{
	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh%02lldm", s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
	return buf;
}

/* Width of the first column: the title, a VIP name, or "  -> " + address. */
static int name_width(json_t *vips, const char *title)
{
	size_t w = strlen(title), i, k;
	json_t *v, *b;

	json_array_foreach(vips, i, v) {
		if (strlen(jstr(v, "vip")) > w)
			w = strlen(jstr(v, "vip"));
		json_array_foreach(json_object_get(v, "backends"), k, b) {
			if (5 + strlen(jstr(b, "address")) > w)
				w = 5 + strlen(jstr(b, "address"));
		}
	}
	return (int)w;
}

/* "key value" pairs of an object's integers, wrapped at 80 columns. */
static void print_counters(const char *title, json_t *obj, bool skip_zero)
{
	int col = printf("%s", title), n = 0;
	const char *key;
	char num[32];
	json_t *val;

	json_object_foreach(obj, key, val) {
		if (!json_is_integer(val) || (skip_zero && !json_integer_value(val)))
			continue;
		human(num, sizeof(num), json_integer_value(val), !strcmp(key, "bytes"));
		if (n++ && col + strlen(key) + strlen(num) + 3 > 80)
			col = printf("\n%*s", (int)strlen(title), "") - 1;
		col += printf("  %s %s", key, num);
	}
	printf("%s\n", n ? "" : "  none");
}

static void print_status(json_t *j)
{
	json_t *ifs = json_object_get(j, "interfaces"), *it;
	char up[32];
	size_t i;

	printf("xlbd %s, up %s, %lld VIPs, %lld backends\n", jstr(j, "version"),
	       duration(up, sizeof(up), jint(j, "uptime_s")), jint(j, "vips"),
	       jint(j, "backends"));
	printf("state file: %s\n", jstr(j, "state_file"));
	if (!json_array_size(ifs))
		return;
	printf("%-16s  %-8s  %8s  %-8s  %s\n", "INTERFACE", "MODE", "PROG ID", "ADOPTED",
	       "ATTACHED");
	json_array_foreach(ifs, i, it) {
		json_t *att = json_object_get(it, "attached");
		const char *attached = "-"; /* absent: an xlbd from before the check */

		if (att)
			attached = json_is_true(att) ? "yes" : "NO, restart xlbd";
		printf("%-16s  %-8s  %8lld  %-8s  %s\n", jstr(it, "name"), jstr(it, "mode"),
		       jint(it, "prog_id"),
		       json_is_true(json_object_get(it, "adopted")) ? "yes" : "no", attached);
	}
}

static const char *rate_text(char *buf, size_t len, json_t *rl)
{
	long long pps = jint(rl, "pps"), src = jint(rl, "source_new_flows");
	int n = 0;

	buf[0] = '\0';
	if (pps)
		n = snprintf(buf, len, "%lld/%lld pps", pps, jint(rl, "burst"));
	if (src)
		snprintf(buf + n, len - n, "%ssource %lld/%lld flows/s", n ? ", " : "", src,
			 jint(rl, "source_burst"));
	return buf[0] ? buf : "-";
}

static const char *backend_state(json_t *b)
{
	bool drain = json_is_true(json_object_get(b, "drain"));
	bool in_table = json_is_true(json_object_get(b, "in_table"));

	if (drain)
		return in_table ? "drained, in table" : "drained";
	return in_table ? "in table" : "not in table";
}

static void print_vips(json_t *j)
{
	json_t *vips = json_object_get(j, "vips"), *v, *b, *bs;
	int w = name_width(vips, "  -> BACKEND");
	char rate[96], algo[48];
	size_t i, k;

	if (!json_array_size(vips)) {
		printf("no VIPs\n");
		return;
	}
	printf("%-*s  %-22s  %-7s  %8s  %s\n", w, "VIP", "ALGORITHM", "FORWARD", "BACKENDS",
	       "RATE LIMIT");
	printf("%-*s  %6s  %s\n", w, "  -> BACKEND", "WEIGHT", "STATE");
	json_array_foreach(vips, i, v) {
		bs = json_object_get(v, "backends");
		snprintf(algo, sizeof(algo), "%s%s", jstr(v, "algorithm"),
			 json_is_true(json_object_get(v, "stateless")) ? ", stateless" : "");
		printf("%-*s  %-22s  %-7s  %8zu  %s\n", w, jstr(v, "vip"), algo, jstr(v, "forward"),
		       json_array_size(bs),
		       rate_text(rate, sizeof(rate), json_object_get(v, "rate_limit")));
		json_array_foreach(bs, k, b)
			printf("  -> %-*s  %6lld  %s\n", w - 5, jstr(b, "address"),
			       jint(b, "weight"), backend_state(b));
	}
}

/* `vip show`: one VIP's settings, its backends and its live table's digest. */
static void print_vip(json_t *v)
{
	json_t *bs = json_object_get(v, "backends"), *b, *hc = json_object_get(v, "health_check");
	json_t *digest = json_object_get(v, "table_digest");
	size_t k, w = strlen("BACKEND");
	char rate[96];

	printf("vip %s\n", jstr(v, "vip"));
	printf("  algorithm     %s%s\n", jstr(v, "algorithm"),
	       json_is_true(json_object_get(v, "stateless")) ? ", stateless" : "");
	if (!strcmp(jstr(v, "forward"), "gue"))
		printf("  forward       gue, to UDP port %lld\n", jint(v, "gue_port"));
	else
		printf("  forward       %s\n", jstr(v, "forward"));
	printf("  rate limit    %s\n", rate_text(rate, sizeof(rate), json_object_get(v, "rate_limit")));
	printf("  health check  %s\n", jstr(hc, "type"));
	printf("  table size    %lld\n", jint(v, "table_size"));
	if (json_is_string(digest))
		printf("  table digest  %s\n", json_string_value(digest));
	else if (digest) /* null */
		printf("  table digest  none: no backend takes new flows\n");
	else
		printf("  table digest  -: xlbd runs without a data path\n");
	json_array_foreach(bs, k, b) {
		if (strlen(jstr(b, "address")) > w)
			w = strlen(jstr(b, "address"));
	}
	printf("  %-*s  %6s  %s\n", (int)w, "BACKEND", "WEIGHT", "STATE");
	json_array_foreach(bs, k, b)
		printf("  %-*s  %6lld  %s\n", (int)w, jstr(b, "address"), jint(b, "weight"),
		       backend_state(b));
	if (!json_array_size(bs))
		printf("  (no backends)\n");
}

static void print_stats(json_t *j)
{
	json_t *global = json_object_get(j, "global");
	json_t *vips = json_object_get(j, "vips"), *v, *b;
	int w = name_width(vips, "VIP / BACKEND");
	char n[4][32];
	size_t i, k;

	if (global) {
		print_counters("all packets:", global, false);
		print_counters("drops:", json_object_get(global, "drops"), false);
		if (json_object_get(global, "flow_cache")) /* absent from an older xlbd */
			print_counters("flow cache:", json_object_get(global, "flow_cache"), false);
	}
	if (!json_array_size(vips))
		return;
	if (global)
		putchar('\n');
	printf("%-*s  %10s  %10s  %10s  %11s\n", w, "VIP / BACKEND", "PACKETS", "BYTES",
	       "NEW FLOWS", "SYN RETRANS");
	json_array_foreach(vips, i, v) {
		printf("%-*s  %10s  %10s  %10s\n", w, jstr(v, "vip"),
		       human(n[0], 32, jint(v, "packets"), false),
		       human(n[1], 32, jint(v, "bytes"), true),
		       human(n[2], 32, jint(v, "new_flows"), false));
		print_counters("  drops:", json_object_get(v, "drops"), true);
		json_array_foreach(json_object_get(v, "backends"), k, b)
			printf("  -> %-*s  %10s  %10s  %10s  %11s\n", w - 5, jstr(b, "address"),
			       human(n[0], 32, jint(b, "packets"), false),
			       human(n[1], 32, jint(b, "bytes"), true),
			       human(n[2], 32, jint(b, "new_flows"), false),
			       human(n[3], 32, jint(b, "syn_retransmits"), false));
	}
}

/* A number as text with its unit, "-" when absent. */
static const char *value_text(char *buf, size_t len, json_t *v, const char *unit)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%lld%s", (long long)json_integer_value(v), unit);
	else if (json_is_real(v))
		snprintf(buf, len, "%.1f%s", json_real_value(v), unit);
	else
		return "-";
	return buf;
}

/*
 * GET /v1/health answers {"vips":[{"vip","check","panic","backends":[{"address",
 * "up","drain","circuit","successes","failures","ejections","next_change_ms",
 * "last_check_ms","last_result","detail","latency_ms","weight"}]}]};
 * last_check_ms is the time since the last check.
 */
static void print_health(json_t *j)
{
	json_t *vips = json_object_get(j, "vips"), *v, *b;
	int w = name_width(vips, "VIP / BACKEND");
	char last[32], lat[32], next[32], ok[16], fails[16], ej[16], wt[16];
	size_t i, k;

	printf("%-*s  %-7s  %-9s  %6s  %4s  %4s  %5s  %9s  %8s  %10s  %s\n", w, "VIP / BACKEND",
	       "STATE", "CIRCUIT", "WEIGHT", "OK", "FAIL", "EJECT", "NEXT", "LATENCY", "LAST CHECK",
	       "RESULT");
	json_array_foreach(vips, i, v) {
		printf("%s  (check: %s)%s\n", jstr(v, "vip"), jstr(v, "check"),
		       json_is_true(json_object_get(v, "panic")) ?
			       "  PANIC: too many backends failing, failing ones kept in service" : "");
		json_array_foreach(json_object_get(v, "backends"), k, b) {
			const char *state = json_is_true(json_object_get(b, "drain")) ? "drained"
					    : json_is_true(json_object_get(b, "up"))  ? "up"
										      : "down";

			printf("  -> %-*s  %-7s  %-9s  %6s  %4s  %4s  %5s  %9s  %8s  %10s  %s\n", w - 5,
			       jstr(b, "address"), state, jstr(b, "circuit"),
			       value_text(wt, 16, json_object_get(b, "weight"), ""),
			       value_text(ok, 16, json_object_get(b, "successes"), ""),
			       value_text(fails, 16, json_object_get(b, "failures"), ""),
			       value_text(ej, 16, json_object_get(b, "ejections"), ""),
			       value_text(next, 32, json_object_get(b, "next_change_ms"), "ms"),
			       value_text(lat, 32, json_object_get(b, "latency_ms"), "ms"),
			       value_text(last, 32, json_object_get(b, "last_check_ms"), "ms ago"),
			       json_is_string(json_object_get(b, "detail")) ? jstr(b, "detail") : "-");
		}
	}
}

static void print_plan(json_t *j)
{
	json_t *changes = json_object_get(j, "changes"), *c, *share, *algo;
	bool applied = json_is_true(json_object_get(j, "applied"));
	size_t i, n = json_array_size(changes);
	const char *vip;

	if (!n)
		printf("no changes\n");
	else
		printf("%s %zu change%s:\n", applied ? "applied" : "dry run, would apply", n,
		       n == 1 ? "" : "s");
	json_array_foreach(changes, i, c)
		printf("  %s\n", json_string_value(c) ? json_string_value(c) : "?");
	json_object_foreach(json_object_get(j, "moved"), vip, share)
		printf("%s: %.1f%% of the hash space goes to another backend\n", vip,
		       100 * json_number_value(share));
	/* wrr/rr/lc have no fixed mapping of flows to move */
	json_object_foreach(json_object_get(j, "rebalanced"), vip, algo)
		printf("%s: %s: new flows are rebalanced, established flows keep their backend\n",
		       vip, json_string_value(algo) ? json_string_value(algo) : "?");
}

/* ---- commands ---- */

/*
 * A command whose answer is printed by show, or not at all when show is NULL
 * (changes are quiet unless -j). Takes the reference to body.
 */
static int simple(struct ctl *ctl, const char *method, const char *path, json_t *body,
		  void (*show)(json_t *j))
{
	json_t *out = NULL;
	int ret;

	ret = call(ctl, method, path, body, show ? &out : NULL);
	json_decref(body);
	if (out)
		show(out);
	json_decref(out);
	return ret;
}

static int do_status(struct ctl *ctl, const struct args *a)
{
	(void)a;
	return simple(ctl, "GET", "/v1/status", NULL, print_status);
}

static int do_vip_add(struct ctl *ctl, const struct args *a)
{
	char name[XLB_VIP_NAME_MAX], esc[ESC_MAX];
	__u32 pps = 0, burst = 0, src = 0, src_burst = 0;
	enum xlb_config_algo algo;
	enum xlb_forward fwd;
	unsigned long gue_port = 0;
	json_t *body;
	char *end;
	int ret;

	if (a->gue_port) {
		errno = 0;
		gue_port = strtoul(a->gue_port, &end, 10);
		if (errno || *end || !*a->gue_port || !gue_port || gue_port > 65535)
			return usage_err(ctl, "--gue-port '%s': expected 1..65535", a->gue_port);
	}
	if ((ret = parse_vip(ctl, a->pos[0], name, esc)) ||
	    (a->algo && xlb_config__algo_parse(a->algo, &algo) &&
	     (ret = usage_err(ctl, "unknown algorithm '%s'", a->algo))) ||
	    (a->forward && xlb_config__forward_parse(a->forward, &fwd) &&
	     (ret = usage_err(ctl, "unknown forward mode '%s'", a->forward))) ||
	    (a->rate && (ret = parse_rate(ctl, "--rate", a->rate, &pps, &burst))) ||
	    (a->source_rate &&
	     (ret = parse_rate(ctl, "--source-rate", a->source_rate, &src, &src_burst))))
		return ret;

	body = json_pack("{s:s}", "vip", name);
	if (a->algo)
		json_object_set_new(body, "algorithm", json_string(a->algo));
	if (a->forward)
		json_object_set_new(body, "forward", json_string(a->forward));
	if (a->gue_port)
		json_object_set_new(body, "gue_port", json_integer((json_int_t)gue_port));
	if (a->stateless)
		json_object_set_new(body, "stateless", json_true());
	if (a->rate || a->source_rate)
		json_object_set_new(body, "rate_limit",
				    json_pack("{s:I,s:I,s:I,s:I}", "pps", (json_int_t)pps,
					      "burst", (json_int_t)burst, "source_new_flows",
					      (json_int_t)src, "source_burst",
					      (json_int_t)src_burst));
	return simple(ctl, "POST", "/v1/vips", body, NULL);
}

static int do_vip_del(struct ctl *ctl, const struct args *a)
{
	char name[XLB_VIP_NAME_MAX], esc[ESC_MAX], path[PATH_LEN];
	int ret;

	if ((ret = parse_vip(ctl, a->pos[0], name, esc)))
		return ret;
	snprintf(path, sizeof(path), "/v1/vips/%s", esc);
	return simple(ctl, "DELETE", path, NULL, NULL);
}

static int do_vip_list(struct ctl *ctl, const struct args *a)
{
	(void)a;
	return simple(ctl, "GET", "/v1/vips", NULL, print_vips);
}

static int do_vip_show(struct ctl *ctl, const struct args *a)
{
	char name[XLB_VIP_NAME_MAX], esc[ESC_MAX], path[PATH_LEN];
	int ret;

	if ((ret = parse_vip(ctl, a->pos[0], name, esc)))
		return ret;
	snprintf(path, sizeof(path), "/v1/vips/%s", esc);
	return simple(ctl, "GET", path, NULL, print_vip);
}

static int do_backend_add(struct ctl *ctl, const struct args *a)
{
	char name[XLB_VIP_NAME_MAX], esc[ESC_MAX], addr[XLB_ADDR_STR_MAX], aesc[ESC_MAX];
	char path[PATH_LEN];
	json_t *body;
	__u32 weight;
	int ret;

	if ((ret = parse_vip(ctl, a->pos[0], name, esc)) ||
	    (ret = parse_addr(ctl, a->pos[1], addr, aesc)) ||
	    (a->weight && (ret = parse_weight(ctl, a->weight, &weight))))
		return ret;
	body = json_pack("{s:s}", "address", addr);
	if (a->weight)
		json_object_set_new(body, "weight", json_integer(weight));
	snprintf(path, sizeof(path), "/v1/vips/%s/backends", esc);
	return simple(ctl, "POST", path, body, NULL);
}

static int do_backend_set(struct ctl *ctl, const struct args *a)
{
	char name[XLB_VIP_NAME_MAX], esc[ESC_MAX], addr[XLB_ADDR_STR_MAX], aesc[ESC_MAX];
	char path[PATH_LEN];
	json_t *body;
	__u32 weight;
	int ret;

	if ((ret = parse_vip(ctl, a->pos[0], name, esc)) ||
	    (ret = parse_addr(ctl, a->pos[1], addr, aesc)) ||
	    (a->weight && (ret = parse_weight(ctl, a->weight, &weight))))
		return ret;
	if (a->drain && a->undrain)
		return usage_err(ctl, "--drain and --undrain contradict each other");
	if (!a->weight && !a->drain && !a->undrain)
		return usage_err(ctl, "nothing to set (give --weight N, --drain or --undrain)");
	body = json_object();
	if (a->weight)
		json_object_set_new(body, "weight", json_integer(weight));
	if (a->drain || a->undrain)
		json_object_set_new(body, "drain", json_boolean(a->drain));
	snprintf(path, sizeof(path), "/v1/vips/%s/backends/%s", esc, aesc);
	return simple(ctl, "PATCH", path, body, NULL);
}

static int do_backend_del(struct ctl *ctl, const struct args *a)
{
	char name[XLB_VIP_NAME_MAX], esc[ESC_MAX], addr[XLB_ADDR_STR_MAX], aesc[ESC_MAX];
	char path[PATH_LEN];
	int ret;

	if ((ret = parse_vip(ctl, a->pos[0], name, esc)) ||
	    (ret = parse_addr(ctl, a->pos[1], addr, aesc)))
		return ret;
	snprintf(path, sizeof(path), "/v1/vips/%s/backends/%s", esc, aesc);
	return simple(ctl, "DELETE", path, NULL, NULL);
}

/* "/v1/stats" or "/v1/stats?vip=NAME"; name gets the canonical VIP name or "". */
static int vip_query(struct ctl *ctl, const char *base, const char *vip, char *path, char *name)
{
	char esc[ESC_MAX];
	int ret;

	name[0] = '\0';
	if (!vip) {
		snprintf(path, PATH_LEN, "%s", base);
		return 0;
	}
	if ((ret = parse_vip(ctl, vip, name, esc)))
		return ret;
	snprintf(path, PATH_LEN, "%s?vip=%s", base, esc);
	return 0;
}

/*
 * ---- stats --watch ----
 *
 * Rates between two GET /v1/stats answers: per VIP and backend packets/s,
 * bits/s and new flows/s, and drops/s by reason. The time between the two
 * is xlbd's "clock_ms" (when it read the counters) when both answers have
 * it, else this process's monotonic clock around the requests. A counter
 * that went down (its VIP or backend was re-created) counts from 0.
 */

#define WATCH_INTERVAL_MAX 3600.0
#define WATCH_INTERVAL_MIN 0.01

struct sample {
	json_t *j;	/* the answer */
	double time_s;	/* xlbd's clock, or ours */
	bool xlbd_time;
};

static double mono_s(void)
{
	return xlb_clock__mono_ns() / 1e9;
}

static void sleep_until(double t)
{
	double left = t - mono_s();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One answer, failures reported (exit codes as for any command). */
static int watch_fetch(struct ctl *ctl, const char *path, struct sample *s)
{
	struct ctl_http_resp resp;
	json_error_t jerr;
	double t0 = mono_s();
	json_t *clock;
	int ret;

	ret = request(ctl, "GET", path, NULL, 0, NULL, &resp);
	if (ret == -EREMOTEIO)
		ret = rejected(&resp);
	if (!ret) {
		s->j = json_loads(resp.body, 0, &jerr);
		if (!s->j) {
			fprintf(stderr, "xlbctl: bad answer from xlbd: %s\n", jerr.text);
			ret = -EBADMSG;
		}
	}
	ctl_http_resp__free(&resp);
	if (ret)
		return ret;
	clock = json_object_get(s->j, "clock_ms");
	s->xlbd_time = json_is_number(clock);
	s->time_s = s->xlbd_time ? json_number_value(clock) / 1e3 : (t0 + mono_s()) / 2;
	return 0;
}

/* Per second, of the counter key between two objects; a reset counts from 0. */
static double per_s(json_t *cur, json_t *prev, const char *key, double dt)
{
	long long c = jint(cur, key), p = jint(prev, key);

	return (c >= p ? c - p : c) / dt;
}

/* The element of arr whose key is name; tries index hint first. */
static json_t *find_by(json_t *arr, size_t hint, const char *key, const char *name)
{
	json_t *o = json_array_get(arr, hint);
	size_t i;

	if (o && !strcmp(jstr(o, key), name))
		return o;
	json_array_foreach(arr, i, o)
		if (!strcmp(jstr(o, key), name))
			return o;
	return NULL;
}

/* 999.5 -> "999.5", 12345 -> "12.3K", 1.5e9 -> "1.5G" (SI, as rates are). */
static const char *rate_str(char *buf, size_t len, double v)
{
	const char *units = "KMGTPE";
	int i = -1;

	if (v < 1000) {
		snprintf(buf, len, "%.1f", v);
		return buf;
	}
	while (v >= 1000 && i < 5) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, "%.1f%c", v, units[i]);
	return buf;
}

/* {"reason": per second} of the drops objects, non-zero ones only. */
static json_t *drop_rates(json_t *cur, json_t *prev, double dt, double *total)
{
	json_t *out = json_object(), *v;
	const char *reason;

	*total = 0;
	json_object_foreach(cur, reason, v) {
		double r = per_s(cur, prev, reason, dt);

		*total += r;
		if (r > 0)
			json_object_set_new(out, reason, json_real(r));
	}
	return out;
}

/*
 * The rates as JSON: {"interval_s", "global": {"rx_pps", "drops_ps"},
 * "vips": [{"vip", "pps", "bps", "new_flows_ps", "drops_ps",
 * "backends": [{"address", "pps", "bps", "new_flows_ps"}]}]}; a VIP or
 * backend missing from the previous answer has no rates yet (null).
 */
static json_t *watch_rates(const struct sample *cur, const struct sample *prev)
{
	double dt = cur->time_s - prev->time_s, total;
	json_t *vips = json_array(), *v, *pv, *b, *pb, *g, *pg;
	size_t i, k;

	g = json_object_get(cur->j, "global");
	pg = json_object_get(prev->j, "global");
	json_array_foreach(json_object_get(cur->j, "vips"), i, v) {
		json_t *backends = json_array(), *o;

		pv = find_by(json_object_get(prev->j, "vips"), i, "vip", jstr(v, "vip"));
		json_array_foreach(json_object_get(v, "backends"), k, b) {
			pb = pv ? find_by(json_object_get(pv, "backends"), k, "address",
					  jstr(b, "address")) : NULL;
			o = json_pack("{s:s}", "address", jstr(b, "address"));
			json_object_set_new(o, "pps", pb ? json_real(per_s(b, pb, "packets", dt))
							 : json_null());
			json_object_set_new(o, "bps", pb ? json_real(8 * per_s(b, pb, "bytes", dt))
							 : json_null());
			json_object_set_new(o, "new_flows_ps",
					    pb ? json_real(per_s(b, pb, "new_flows", dt)) : json_null());
			json_array_append_new(backends, o);
		}
		o = json_pack("{s:s}", "vip", jstr(v, "vip"));
		json_object_set_new(o, "pps", pv ? json_real(per_s(v, pv, "packets", dt)) : json_null());
		json_object_set_new(o, "bps", pv ? json_real(8 * per_s(v, pv, "bytes", dt)) : json_null());
		json_object_set_new(o, "new_flows_ps",
				    pv ? json_real(per_s(v, pv, "new_flows", dt)) : json_null());
		json_object_set_new(o, "drops_ps",
				    pv ? drop_rates(json_object_get(v, "drops"),
						    json_object_get(pv, "drops"), dt, &total)
				       : json_null());
		json_object_set_new(o, "backends", backends);
		json_array_append_new(vips, o);
	}
	return json_pack("{s:f, s:{s:o, s:o}, s:o}", "interval_s", dt, "global", "rx_pps",
			 g && pg ? json_real(per_s(g, pg, "rx", dt)) : json_null(), "drops_ps",
			 g && pg ? drop_rates(json_object_get(g, "drops"),
					      json_object_get(pg, "drops"), dt, &total)
				 : json_null(),
			 "vips", vips);
}

static const char *rate_cell(char *buf, size_t len, json_t *v, double scale)
{
	if (!json_is_number(v))
		return "-";
	return rate_str(buf, len, json_number_value(v) * scale);
}

/* "  drops/s: no_backend 3.0, rate_vip 12.5K" when any. */
static void print_drop_rates(const char *title, json_t *drops)
{
	const char *reason, *sep = "";
	char num[32];
	json_t *r;

	if (!json_object_size(drops))
		return;
	printf("%s", title);
	json_object_foreach(drops, reason, r) {
		printf("%s %s %s", sep, reason, rate_str(num, sizeof(num), json_number_value(r)));
		sep = ",";
	}
	putchar('\n');
}

static void print_rates(json_t *r, double interval, bool tty)
{
	json_t *vips = json_object_get(r, "vips"), *g = json_object_get(r, "global"), *v, *b;
	int w = name_width(vips, "VIP / BACKEND");
	char n[4][32], when[32];
	time_t now = time(NULL);
	double drops;
	size_t i, k;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
	if (tty)
		fputs("\033[H\033[2J", stdout); /* home, clear: redrawn in place */
	printf("%s  every %gs  over the last %.2fs  rx %s pkt/s\n", when, interval,
	       json_number_value(json_object_get(r, "interval_s")),
	       rate_cell(n[0], 32, json_object_get(g, "rx_pps"), 1));
	print_drop_rates("drops/s:", json_object_get(g, "drops_ps"));
	printf("%-*s  %10s  %10s  %10s  %10s\n", w, "VIP / BACKEND", "PKTS/S", "BITS/S",
	       "NEWFLOWS/S", "DROPS/S");
	json_array_foreach(vips, i, v) {
		json_t *d = json_object_get(v, "drops_ps"), *x;
		const char *reason;

		drops = 0;
		json_object_foreach(d, reason, x)
			drops += json_number_value(x);
		printf("%-*s  %10s  %10s  %10s  %10s\n", w, jstr(v, "vip"),
		       rate_cell(n[0], 32, json_object_get(v, "pps"), 1),
		       rate_cell(n[1], 32, json_object_get(v, "bps"), 1),
		       rate_cell(n[2], 32, json_object_get(v, "new_flows_ps"), 1),
		       json_is_object(d) ? rate_str(n[3], 32, drops) : "-");
		print_drop_rates("  drops/s:", d);
		json_array_foreach(json_object_get(v, "backends"), k, b)
			printf("  -> %-*s  %10s  %10s  %10s\n", w - 5, jstr(b, "address"),
			       rate_cell(n[0], 32, json_object_get(b, "pps"), 1),
			       rate_cell(n[1], 32, json_object_get(b, "bps"), 1),
			       rate_cell(n[2], 32, json_object_get(b, "new_flows_ps"), 1));
	}
	if (!tty)
		putchar('\n'); /* a blank line between refreshes */
	fflush(stdout);
}

/* Parses "S" as seconds, WATCH_INTERVAL_MIN..WATCH_INTERVAL_MAX. */
static int parse_interval(struct ctl *ctl, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (*s < '0' || *s > '9' || *end || errno || *out < WATCH_INTERVAL_MIN ||
	    *out > WATCH_INTERVAL_MAX)
		return usage_err(ctl, "bad --interval '%s' (expected seconds, %g..%g)", s,
				 WATCH_INTERVAL_MIN, WATCH_INTERVAL_MAX);
	return 0;
}

static int do_stats_watch(struct ctl *ctl, const char *path, double interval, __u32 count)
{
	bool tty = isatty(STDOUT_FILENO) && !ctl->json;
	struct sample prev = {}, cur = {};
	double next;
	int ret;

	ret = watch_fetch(ctl, path, &prev);
	next = mono_s() + interval;
	for (__u32 n = 0; !ret && (!count || n < count);) {
		json_t *r;

		sleep_until(next);
		next += interval;
		ret = watch_fetch(ctl, path, &cur);
		if (ret)
			break;
		if (cur.time_s <= prev.time_s || cur.xlbd_time != prev.xlbd_time) {
			/* xlbd restarted (its clock went back): start again from here */
			json_decref(prev.j);
			prev = cur;
			cur.j = NULL;
			continue;
		}
		n++;
		r = watch_rates(&cur, &prev);
		if (ctl->json) {
			char *line = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(10));

			printf("%s\n", line ? line : "{}");
			fflush(stdout);
			free(line);
		} else {
			print_rates(r, interval, tty);
		}
		json_decref(r);
		json_decref(prev.j);
		prev = cur;
		cur.j = NULL;
	}
	json_decref(prev.j);
	json_decref(cur.j);
	return ret;
}

static int do_stats(struct ctl *ctl, const struct args *a)
{
	char path[PATH_LEN], name[XLB_VIP_NAME_MAX];
	double interval = 1;
	__u32 count = 0;
	int ret;

	if ((ret = vip_query(ctl, "/v1/stats", a->pos[0], path, name)))
		return ret;
	if (!a->watch && (a->interval || a->count))
		return usage_err(ctl, "--%s needs --watch", a->interval ? "interval" : "count");
	if (!a->watch)
		return simple(ctl, "GET", path, NULL, print_stats);
	if ((a->interval && (ret = parse_interval(ctl, a->interval, &interval))) ||
	    (a->count && parse_u32(a->count, 1, UINT32_MAX, &count)))
		return ret ?: usage_err(ctl, "bad --count '%s' (expected an integer >= 1)", a->count);
	return do_stats_watch(ctl, path, interval, count);
}

/*
 * An xlbd without health checks answers 404 for the path. One with them
 * answers 404 for an unknown VIP too, but then its message names the VIP.
 */
static void print_explain(json_t *j)
{
	json_t *b = json_object_get(j, "backend"), *rl = json_object_get(j, "rate_limit");

	printf("flow %s -> %s (%s)\n", jstr(j, "src"), jstr(j, "vip"), jstr(j, "algorithm"));
	if (json_is_true(json_object_get(j, "in_conntrack")))
		printf("  connection table  hit: %s (%s)\n", jstr(j, "conntrack_backend"),
		       json_is_true(json_object_get(j, "conntrack_backend_serving")) ? "serving"
										: "gone");
	else
		printf("  connection table  miss\n");
	if (json_object_get(j, "table_backend"))
		printf("  maglev            hash %lld, slot %lld of %lld -> %s\n", jint(j, "hash"),
		       jint(j, "slot"), jint(j, "table_size"), jstr(j, "table_backend"));
	else
		printf("  maglev            empty table: no backend takes new flows\n");
	printf("  goes to           %s: %s\n", jstr(j, "goes_to"), jstr(j, "why"));
	if (b)
		printf("  backend           %s, circuit %s, weight %lld%s%s\n",
		       json_is_true(json_object_get(b, "up")) ? "up" : "down", jstr(b, "circuit"),
		       jint(b, "weight"), json_object_get(b, "detail") ? ", last check: " : "",
		       json_object_get(b, "detail") ? jstr(b, "detail") : "");
	if (!jint(rl, "pps") && !jint(rl, "source_new_flows")) {
		printf("  rate limits       none\n");
		return;
	}
	if (jint(rl, "pps"))
		printf("  VIP limit         %lld pkt/s (burst %lld): %lld tokens now, next packet %s\n",
		       jint(rl, "pps"), jint(rl, "burst"), jint(rl, "vip_tokens"),
		       json_is_true(json_object_get(rl, "vip_would_drop")) ? "DROPPED (rate_vip)"
									   : "passes");
	if (!jint(rl, "source_new_flows"))
		return;
	printf("  source limit      %lld new flows/s (burst %lld): ", jint(rl, "source_new_flows"),
	       jint(rl, "source_burst"));
	if (!json_object_get(rl, "source_would_drop"))
		printf("not counted (an established flow)\n");
	else if (json_is_true(json_object_get(rl, "source_would_drop")))
		printf("a new flow now is DROPPED (rate_source)\n");
	else
		printf("a new flow now passes\n");
}

static int do_explain(struct ctl *ctl, const struct args *a)
{
	char name[XLB_VIP_NAME_MAX], esc[ESC_MAX], host[64], src[96], sesc[ESC_MAX], path[PATH_LEN];
	char err[160];
	__be32 addr[4];
	__u16 port;
	__u8 family;
	int ret;

	if ((ret = parse_vip(ctl, a->pos[0], name, esc)))
		return ret;
	if (xlb_hostport__parse(a->pos[1], host, sizeof(host), &port, err, sizeof(err)) ||
	    xlb_addr__parse(host, &family, addr))
		return usage_err(ctl, "bad client '%s' (expected ADDR:PORT, [IPv6]:PORT)",
				 a->pos[1]);
	xlb_addr__format(family, addr, host, sizeof(host));
	snprintf(src, sizeof(src), family == XLB_AF_INET ? "%s:%u" : "[%s]:%u", host, port);
	if ((ret = ctl_http__escape(src, sesc, ESC_MAX)))
		return usage_err(ctl, "client too long");
	snprintf(path, sizeof(path), "/v1/explain?vip=%s&src=%s", esc, sesc);
	return simple(ctl, "GET", path, NULL, print_explain);
}

static int do_health(struct ctl *ctl, const struct args *a)
{
	char path[PATH_LEN], name[XLB_VIP_NAME_MAX];
	struct ctl_http_resp resp;
	const char *msg;
	json_t *j;
	int ret;

	if ((ret = vip_query(ctl, "/v1/health", a->pos[0], path, name)))
		return ret;
	ret = request(ctl, "GET", path, NULL, 0, NULL, &resp);
	if (ret == -EREMOTEIO && resp.status == 404) {
		j = json_loads(resp.body, 0, NULL);
		msg = json_string_value(json_object_get(j, "error"));
		if (!name[0] || !msg || !strstr(msg, name))
			fprintf(stderr, "xlbctl: health checks are not available in this xlbd\n");
		else
			rejected(&resp);
		json_decref(j);
	} else if (ret == -EREMOTEIO) {
		rejected(&resp);
	} else if (!ret) {
		j = NULL;
		ret = take_answer(ctl, &resp, &j);
		if (j)
			print_health(j);
		json_decref(j);
	}
	ctl_http_resp__free(&resp);
	return ret;
}

static void print_announce(json_t *j)
{
	json_t *addrs = json_object_get(j, "addresses"), *ad, *v;
	size_t i, k;

	if (!jint(j, "table")) {
		printf("announcing is off (announce.table is 0)\n");
		return;
	}
	printf("table %lld (routes of protocol %lld), min_healthy %lld%s\n", jint(j, "table"),
	       jint(j, "protocol"), jint(j, "min_healthy"),
	       json_is_true(json_object_get(j, "drained")) ? ", DRAINED" : "");
	printf("%-40s  %-9s  %s\n", "ADDRESS / VIP", "ANNOUNCED", "DETAIL");
	json_array_foreach(addrs, i, ad) {
		bool on = json_is_true(json_object_get(ad, "announced"));
		char via[64];

		snprintf(via, sizeof(via), "via %s", jstr(ad, "interface"));
		printf("%-40s  %-9s  %s\n", jstr(ad, "address"), on ? "yes" : "NO",
		       on ? via : jstr(ad, "reason"));
		json_array_foreach(json_object_get(ad, "vips"), k, v) {
			const char *warn = json_string_value(json_object_get(v, "warning"));

			printf("  %-38s  %-9s  %lld of %lld backends up%s%s\n", jstr(v, "vip"),
			       jstr(v, "algorithm"), jint(v, "backends_up"), jint(v, "backends"),
			       warn ? "; warning: " : "", warn ? warn : "");
		}
	}
}

static int do_announce(struct ctl *ctl, const struct args *a)
{
	(void)a;
	return simple(ctl, "GET", "/v1/announce", NULL, print_announce);
}

static int do_announce_drain(struct ctl *ctl, const struct args *a)
{
	(void)a;
	return simple(ctl, "POST", "/v1/announce/drain", NULL, print_announce);
}

static int do_announce_undrain(struct ctl *ctl, const struct args *a)
{
	(void)a;
	return simple(ctl, "POST", "/v1/announce/undrain", NULL, print_announce);
}

static int do_config_export(struct ctl *ctl, const struct args *a)
{
	struct ctl_http_resp resp;
	int ret;

	(void)a;
	ret = request(ctl, "GET", "/v1/config", NULL, 0, NULL, &resp);
	if (ret == -EREMOTEIO)
		ret = rejected(&resp);
	if (!ret)
		fwrite(resp.body, 1, resp.len, stdout);
	ctl_http_resp__free(&resp);
	return ret;
}

static int read_file(struct ctl *ctl, const char *file, char **buf, size_t *len)
{
	FILE *f = fopen(file, "r");
	size_t cap = 0, n;
	int ret = 0;
	char *p;

	*buf = NULL;
	*len = 0;
	if (!f)
		return usage_err(ctl, "cannot open '%s': %s", file, strerror(errno));
	do {
		if (*len == cap) {
			cap = cap ? 2 * cap : 65536;
			if (cap > XLBCTL_FILE_MAX) {
				ret = usage_err(ctl, "'%s' is too large", file);
				break;
			}
			p = realloc(*buf, cap + 1);
			if (!p) {
				ret = -ENOMEM;
				break;
			}
			*buf = p;
		}
		n = fread(*buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	if (!ret && ferror(f))
		ret = usage_err(ctl, "cannot read '%s': %s", file, strerror(errno));
	if (!ret)
		(*buf)[*len] = '\0';
	fclose(f);
	return ret;
}

static int do_config_apply(struct ctl *ctl, const struct args *a)
{
	const char *path = a->dry_run ? "/v1/config?dry_run=1" : "/v1/config";
	json_t *plan = NULL;
	const char *ctype;
	size_t len;
	char *buf;
	int ret;

	ret = read_file(ctl, a->pos[0], &buf, &len);
	if (!ret) {
		ctype = buf[strspn(buf, " \t\r\n")] == '{' ? "application/json" : "text/yaml";
		ret = call_raw(ctl, "POST", path, buf, len, ctype, &plan);
	}
	if (plan)
		print_plan(plan);
	json_decref(plan);
	free(buf);
	return ret;
}

static const struct cmd cmds[] = {
	{ "status", NULL, do_status, {}, 0, "",
	  "status",
	  "Show xlbd's version, uptime, state file, interfaces and counts." },
	{ "vip", "add", do_vip_add, { "VIP" }, 1, "afgrst",
	  "vip add VIP [--algo maglev|source-hash|wrr|rr|lc] [--forward ipip|l2dsr|gue] "
	  "[--gue-port PORT] [--rate PPS[/BURST]] [--source-rate NEWFLOWS[/BURST]] [--stateless]",
	  "Add a VIP, e.g. 198.18.1.100:80/tcp or [2001:2::100]:53/udp (port 0: all ports).\n"
	  "  --algo          how new flows pick a backend (default maglev)\n"
	  "  --forward       ipip encapsulation, l2dsr MAC rewrite, or gue: UDP\n"
	  "                  encapsulation naming the flow's previous backend, so a\n"
	  "                  connection survives a backend change on any xlb host\n"
	  "                  (backends run xlb-decap; default ipip)\n"
	  "  --gue-port      gue: the backends' UDP port (default 19523)\n"
	  "  --rate          packets/s limit for the VIP, and its burst (0: off)\n"
	  "  --source-rate   new flows/s limit per source address, and its burst\n"
	  "  --stateless     no connection table: every packet goes by its hash\n"
	  "                  (maglev or source-hash; a backend change moves flows)" },
	{ "vip", "del", do_vip_del, { "VIP" }, 1, "",
	  "vip del VIP",
	  "Delete a VIP and its backends." },
	{ "vip", "list", do_vip_list, {}, 0, "",
	  "vip list",
	  "List the VIPs with their backends, weights and table state." },
	{ "vip", "show", do_vip_show, { "VIP" }, 1, "",
	  "vip show VIP",
	  "Show one VIP: algorithm, forwarding, limits, backends, table size, and the\n"
	  "digest of its live lookup table (backend addresses per slot, 16 hex digits):\n"
	  "for a maglev or source-hash VIP, hosts showing the same digest send each new\n"
	  "flow of the VIP to the same backend." },
	{ "backend", "add", do_backend_add, { "VIP", "ADDR" }, 2, "w",
	  "backend add VIP ADDR [--weight N]",
	  "Add a backend (an IPv4 or IPv6 address) to a VIP; weight 1..65535, default 100." },
	{ "backend", "set", do_backend_set, { "VIP", "ADDR" }, 2, "wdu",
	  "backend set VIP ADDR --weight N | --drain | --undrain",
	  "Change a backend's weight, or drain it (no new flows; established flows stay)\n"
	  "or undrain it." },
	{ "backend", "del", do_backend_del, { "VIP", "ADDR" }, 2, "",
	  "backend del VIP ADDR",
	  "Remove a backend from a VIP." },
	{ "health", NULL, do_health, { "VIP" }, 0, "",
	  "health [VIP]",
	  "Show each backend's health: up/down, circuit state, last check, latency, failures." },
	{ "explain", NULL, do_explain, { "VIP", "SRC:PORT" }, 2, "",
	  "explain VIP SRC:PORT",
	  "Where a client's flow goes and why: connection table, Maglev slot, backend health." },
	{ "stats", NULL, do_stats, { "VIP" }, 0, "Wic",
	  "stats [VIP] [--watch [--interval S] [--count N]]",
	  "Show packets, bytes, new flows and drops by reason, per VIP and per backend,\n"
	  "summed over CPUs. Large numbers are rounded; -j gives them exactly.\n"
	  "  --watch         live rates: packets/s, bits/s, new flows/s and drops/s by\n"
	  "                  reason, redrawn in place on a terminal, else printed as\n"
	  "                  blocks of lines; with -j one JSON object per refresh\n"
	  "  --interval S    seconds between refreshes (default 1)\n"
	  "  --count N       stop after N refreshes (default: until interrupted)" },
	/* the verbs before the bare object: run() takes the first match */
	{ "announce", "drain", do_announce_drain, {}, 0, "",
	  "announce drain",
	  "Withdraw every VIP of this host from the routers (maintenance: drain, wait,\n"
	  "stop). The data path keeps forwarding whatever still arrives. Persisted." },
	{ "announce", "undrain", do_announce_undrain, {}, 0, "",
	  "announce undrain",
	  "Announce this host's ready VIPs again." },
	{ "announce", NULL, do_announce, {}, 0, "",
	  "announce",
	  "Show each VIP address: announced to the routers (its route in announce.table)\n"
	  "or why not, and its VIPs' backends in service." },
	{ "config", "export", do_config_export, {}, 0, "",
	  "config export",
	  "Print the current state as YAML, loadable by xlbd --config." },
	{ "config", "apply", do_config_apply, { "FILE" }, 1, "n",
	  "config apply [--dry-run] FILE",
	  "Make the state what FILE (YAML, as for xlbd --config) says, all or nothing;\n"
	  "print the changes and, per VIP, the share of the hash space that goes to\n"
	  "another backend (wrr, rr, lc: new flows rebalanced, established ones kept).\n"
	  "  --dry-run       only show what would change" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void cmd_help(const struct cmd *cmd)
{
	printf("Usage: xlbctl [--socket PATH] [-j] %s\n\n%s\n", cmd->usage, cmd->help);
}

static void overview(FILE *f)
{
	fprintf(f, "Usage: xlbctl [--socket PATH] [-j] OBJECT COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  xlbctl %s\n", cmds[i].usage);
	fprintf(f, "\n"
		   "  --socket PATH   xlbd's API socket ($XLB_SOCKET, default %s)\n"
		   "  -j, --json      print xlbd's JSON answers\n"
		   "  -h, --help      this text; 'xlbctl OBJECT COMMAND --help' for one command\n"
		   "  --version       xlbctl's version (xlbctl status: xlbd's)\n"
		   "\nExit codes: 0 ok, 1 rejected by xlbd, 2 usage error, 3 xlbd unreachable.\n",
		XLB_API_SOCKET_DEFAULT);
}

/* "vip {add|del|list}" */
static void obj_usage(FILE *f, const char *obj)
{
	const char *sep = "{";

	fprintf(f, "usage: xlbctl %s ", obj);
	for (size_t i = 0; i < NCMDS; i++) {
		if (!strcmp(cmds[i].obj, obj)) {
			fprintf(f, "%s%s", sep, cmds[i].verb);
			sep = "|";
		}
	}
	fprintf(f, "} ... (see 'xlbctl %s --help')\n", obj);
}

static int run_cmd(struct ctl *ctl, const struct cmd *cmd, int argc, char **argv)
{
	struct args a = {};
	int c, idx;

	ctl->cmd = cmd;
	optind = 0; /* argv[0] is the verb; 0 also resets getopt's state */
	opterr = 0;
	for (idx = -1; (c = getopt_long(argc, argv, ":jh", long_opts, &idx)) != -1; idx = -1) {
		if (c == 'h') {
			cmd_help(cmd);
			return 0;
		}
		if (c == ':')
			return usage_err(ctl, "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return optopt ? usage_err(ctl, "unknown option '-%c'", optopt) :
					usage_err(ctl, "unknown option '%s'", argv[optind - 1]);
		if (c != 'j' && c != 'S' && !strchr(cmd->opts, c))
			return usage_err(ctl, "unknown option '--%s'", long_opts[idx].name);
		switch (c) {
		case 'j':
			ctl->json = true;
			break;
		case 'S':
			ctl->sock = optarg;
			break;
		case 'a':
			a.algo = optarg;
			break;
		case 'f':
			a.forward = optarg;
			break;
		case 'g':
			a.gue_port = optarg;
			break;
		case 'r':
			a.rate = optarg;
			break;
		case 's':
			a.source_rate = optarg;
			break;
		case 't':
			a.stateless = true;
			break;
		case 'w':
			a.weight = optarg;
			break;
		case 'd':
			a.drain = true;
			break;
		case 'u':
			a.undrain = true;
			break;
		case 'n':
			a.dry_run = true;
			break;
		case 'W':
			a.watch = true;
			break;
		case 'i':
			a.interval = optarg;
			break;
		case 'c':
			a.count = optarg;
			break;
		}
	}
	for (; optind < argc; optind++) {
		if (a.npos == 2 || !cmd->params[a.npos])
			return usage_err(ctl, "unexpected argument '%s'", argv[optind]);
		a.pos[a.npos++] = argv[optind];
	}
	if (a.npos < cmd->nreq)
		return usage_err(ctl, "missing %s", cmd->params[a.npos]);
	return cmd->fn(ctl, &a);
}

static bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "--help") || !strcmp(s, "-h");
}

/* argv[0] is the object. */
static int run(struct ctl *ctl, int argc, char **argv)
{
	bool known = false;

	if (is_help(argv[0])) {
		overview(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].obj, argv[0]))
			continue;
		known = true;
		if (!cmds[i].verb)
			return run_cmd(ctl, &cmds[i], argc, argv);
		if (argc > 1 && !strcmp(cmds[i].verb, argv[1]))
			return run_cmd(ctl, &cmds[i], argc - 1, argv + 1);
	}
	if (!known) {
		fprintf(stderr, "xlbctl: unknown object '%s'\n"
				"usage: xlbctl [--socket PATH] [-j] "
				"{status|vip|backend|health|explain|stats|announce|config} ... (see 'xlbctl --help')\n",
			argv[0]);
		return -EINVAL;
	}
	if (argc > 1 && is_help(argv[1])) {
		for (size_t i = 0; i < NCMDS; i++)
			if (!strcmp(cmds[i].obj, argv[0]))
				printf("Usage: xlbctl %s\n", cmds[i].usage);
		return 0;
	}
	if (argc > 1)
		fprintf(stderr, "xlbctl: unknown command '%s %s'\n", argv[0], argv[1]);
	else
		fprintf(stderr, "xlbctl: missing command after '%s'\n", argv[0]);
	obj_usage(stderr, argv[0]);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	struct ctl ctl = { .sock = getenv("XLB_SOCKET") };
	int c, ret;

	if (!ctl.sock || !*ctl.sock)
		ctl.sock = XLB_API_SOCKET_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctl.json = true;
			break;
		case 'S':
			ctl.sock = optarg;
			break;
		case 'h':
			overview(stdout);
			return 0;
		case 'V':
			printf("xlbctl %s\n", XLB_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "xlbctl: option '%s' needs a value\n", argv[optind - 1]);
			goto usage;
		default:
			if (optopt)
				fprintf(stderr, "xlbctl: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "xlbctl: unknown option '%s'\n", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind == argc) {
		overview(stderr);
		return EXIT_USAGE;
	}
	ret = run(&ctl, argc - optind, argv + optind);
	if (!ret)
		return 0;
	if (ret == -EINVAL)
		return EXIT_USAGE;
	if (ret == -EHOSTUNREACH)
		return EXIT_UNREACHABLE;
	return EXIT_REJECTED;
usage:
	fprintf(stderr, "usage: xlbctl [--socket PATH] [-j] OBJECT COMMAND [ARGS] "
			"(see 'xlbctl --help')\n");
	return EXIT_USAGE;
}
