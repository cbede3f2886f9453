/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * End-to-end tests of build/xlbctl against a fake xlbd: an evhttp server on a
 * Unix socket in a temp dir, run by this process's event loop while xlbctl
 * runs as a child. The fake records every request (method, path, query,
 * content type, body) and answers with one canned status and body. Each test
 * checks the exact request a verb makes, its exit code and what it prints;
 * usage errors must exit 2 before any request reaches the fake.
 * Run from the repository root (tests/run.sh does).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#define XLBCTL "build/xlbctl"
#define MAX_REQS 8
#define OUT_MAX 16384
#define VIP "198.18.1.100:80/tcp"
#define VIP_ESC "198.18.1.100%3A80%2Ftcp"

struct req {
	char method[8];
	char path[512];	 /* decoded */
	char raw[512];	 /* as sent, still percent-encoded */
	char query[512]; /* decoded, "" when none */
	char ctype[64];
	char body[4096];
};

static struct {
	struct req reqs[MAX_REQS];
	int n;
	int status;
	const char *ctype;
	const char *body;
	const char *const *seq; /* when set: the n-th request gets seq[n], the last one after */
	int nseq;
} fake;

static struct {
	char dir[64];
	char sock[128];
	struct event_base *base;
	struct evhttp *http;
} env;

struct run {
	int rc;
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static void answer(int status, const char *body)
{
	fake.status = status;
	fake.body = body;
	fake.ctype = "application/json";
	fake.seq = NULL;
	fake.nseq = 0;
}

/* 200 with bodies[0] to the first request, bodies[1] to the second, ... */
static void answer_seq(const char *const *bodies, int n)
{
	answer(200, bodies[0]);
	fake.seq = bodies;
	fake.nseq = n;
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "OTHER";
	}
}

static void decode_into(char *dst, size_t len, const char *src)
{
	char *d = src ? evhttp_uridecode(src, 0, NULL) : NULL;

	snprintf(dst, len, "%s", d ? d : "");
	free(d);
}

static void on_request(struct evhttp_request *r, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
	struct evbuffer *in = evhttp_request_get_input_buffer(r), *out;
	const char *ctype;
	struct req *q;
	size_t len;

	(void)arg;
	if (fake.n < MAX_REQS) {
		q = &fake.reqs[fake.n];
		memset(q, 0, sizeof(*q));
		snprintf(q->method, sizeof(q->method), "%s",
			 method_name(evhttp_request_get_command(r)));
		snprintf(q->raw, sizeof(q->raw), "%s", evhttp_request_get_uri(r));
		decode_into(q->path, sizeof(q->path), evhttp_uri_get_path(uri));
		decode_into(q->query, sizeof(q->query), evhttp_uri_get_query(uri));
		ctype = evhttp_find_header(evhttp_request_get_input_headers(r), "Content-Type");
		snprintf(q->ctype, sizeof(q->ctype), "%s", ctype ? ctype : "");
		len = evbuffer_get_length(in);
		if (len >= sizeof(q->body))
			len = sizeof(q->body) - 1;
		evbuffer_remove(in, q->body, len);
	}
	if (fake.nseq)
		fake.body = fake.seq[fake.n < fake.nseq ? fake.n : fake.nseq - 1];
	fake.n++;
	out = evbuffer_new();
	evbuffer_add(out, fake.body, strlen(fake.body));
	evhttp_add_header(evhttp_request_get_output_headers(r), "Content-Type", fake.ctype);
	evhttp_send_reply(r, fake.status, "canned", out);
	evbuffer_free(out);
}

static int unix_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 16)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int group_setup(void **state)
{
	int fd;

	(void)state;
	if (access(XLBCTL, X_OK)) {
		fprintf(stderr, "%s not built (run from the repository root)\n", XLBCTL);
		return -1;
	}
	snprintf(env.dir, sizeof(env.dir), "/tmp/xlbctl-test.XXXXXX");
	if (!mkdtemp(env.dir))
		return -1;
	snprintf(env.sock, sizeof(env.sock), "%s/xlbd.sock", env.dir);
	unsetenv("XLB_SOCKET");
	env.base = event_base_new();
	env.http = evhttp_new(env.base);
	fd = unix_listen(env.sock);
	if (!env.base || !env.http || fd < 0)
		return -1;
	evhttp_set_allowed_methods(env.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
						     EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
						     EVHTTP_REQ_PUT);
	evhttp_set_gencb(env.http, on_request, NULL);
	if (!evhttp_accept_socket_with_handle(env.http, fd))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	evhttp_free(env.http);
	event_base_free(env.base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env.dir);
	return system(cmd) ? -1 : 0;
}

static int setup(void **state)
{
	(void)state;
	memset(fake.reqs, 0, sizeof(fake.reqs));
	fake.n = 0;
	answer(200, "{}");
	return 0;
}

static void slurp(const char *file, char *buf, size_t len)
{
	int fd = open(file, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Runs argv (NULL-terminated), serving the fake daemon until it exits. */
static void run_argv(struct run *r, char *const argv[])
{
	char out[160], err[160];
	long long deadline = now_ms() + 10000;
	int status = 0;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/stdout", env.dir);
	snprintf(err, sizeof(err), "%s/stderr", env.dir);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("xlbctl did not finish in 10 s");
		}
		event_base_loop(env.base, EVLOOP_NONBLOCK);
		usleep(500);
	}
	assert_true(WIFEXITED(status));
	r->rc = WEXITSTATUS(status);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

/* xlbctl --socket <fake> ARGS... NULL */
static void xlbctl(struct run *r, ...)
{
	char *argv[32] = { XLBCTL, "--socket", env.sock };
	int n = 3;
	va_list ap;

	va_start(ap, r);
	while ((argv[n] = va_arg(ap, char *)) && n < 30)
		n++;
	va_end(ap);
	argv[n] = NULL;
	run_argv(r, argv);
}

#define assert_contains(hay, needle)                                                   \
	do {                                                                           \
		if (!strstr((hay), (needle)))                                          \
			fail_msg("'%s' not found in:\n%s", (needle), (hay));          \
	} while (0)

/* The one request of a run, checked for method, decoded path and query. */
static const struct req *one_req(const char *method, const char *path, const char *query)
{
	const struct req *q = &fake.reqs[0];

	assert_int_equal(fake.n, 1);
	assert_string_equal(q->method, method);
	assert_string_equal(q->path, path);
	assert_string_equal(q->query, query);
	return q;
}

static json_t *body_json(const struct req *q)
{
	json_error_t jerr;
	json_t *j = json_loads(q->body, 0, &jerr);

	if (!j)
		fail_msg("request body is not JSON (%s): '%s'", jerr.text, q->body);
	assert_string_equal(q->ctype, "application/json");
	return j;
}

static const char *STATUS_JSON =
	"{\"version\":\"0.3.1\",\"uptime_s\":3725,\"state_file\":\"/var/lib/xlb/state.yaml\","
	"\"interfaces\":[{\"name\":\"eth0\",\"mode\":\"native\",\"prog_id\":42,\"adopted\":true,"
	"\"attached\":true},{\"name\":\"eth1\",\"mode\":\"generic\",\"prog_id\":43,"
	"\"adopted\":false,\"attached\":false},"
	"{\"name\":\"eth2\",\"mode\":\"native\",\"prog_id\":44,\"adopted\":false}],"
	"\"vips\":2,\"backends\":5}";

static const char *VIPS_JSON =
	"{\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"algorithm\":\"maglev\",\"forward\":\"ipip\","
	"\"table_size\":65537,\"rate_limit\":{\"pps\":1000,\"burst\":2000,\"source_new_flows\":0,"
	"\"source_burst\":0},\"backends\":["
	"{\"address\":\"198.18.0.11\",\"weight\":100,\"drain\":false,\"in_table\":true},"
	"{\"address\":\"2001:2::12\",\"weight\":7,\"drain\":true,\"in_table\":false}]},"
	"{\"vip\":\"[2001:2::100]:53/udp\",\"algorithm\":\"source-hash\",\"forward\":\"l2dsr\","
	"\"stateless\":true,\"backends\":[]}]}";

static void test_status(void **state)
{
	struct run r;

	(void)state;
	answer(200, STATUS_JSON);
	xlbctl(&r, "status", NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/status", "");
	assert_string_equal(fake.reqs[0].body, "");
	assert_contains(r.out, "xlbd 0.3.1, up 1h02m05s, 2 VIPs, 5 backends");
	assert_contains(r.out, "/var/lib/xlb/state.yaml");
	assert_contains(r.out, "eth0              native          42  yes       yes\n");
	assert_contains(r.out, "eth1              generic         43  no        NO, restart xlbd\n");
	/* an xlbd from before the attach check: unknown, not "NO" */
	assert_contains(r.out, "eth2              native          44  no        -\n");
	assert_string_equal(r.err, "");
}

static void test_json_passthrough(void **state)
{
	json_t *got, *want = json_loads(VIPS_JSON, 0, NULL);
	struct run r;

	(void)state;
	answer(200, VIPS_JSON);
	xlbctl(&r, "-j", "vip", "list", NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/vips", "");
	got = json_loads(r.out, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, want));
	json_decref(got);

	/* -j after the verb too, and for a verb that prints nothing without it */
	setup(NULL);
	answer(201, VIPS_JSON);
	xlbctl(&r, "backend", "add", VIP, "198.18.0.11", "-j", NULL);
	assert_int_equal(r.rc, 0);
	got = json_loads(r.out, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
}

static void test_vip_add(void **state)
{
	const struct req *q;
	json_t *b, *rl;
	struct run r;

	(void)state;
	answer(201, "{\"vip\":\"198.18.1.100:80/tcp\"}");
	xlbctl(&r, "vip", "add", VIP, "--algo", "source-hash", "--forward=l2dsr", "--rate",
	       "1000/2000", "--source-rate", "50", "--stateless", NULL);
	assert_int_equal(r.rc, 0);
	q = one_req("POST", "/v1/vips", "");
	b = body_json(q);
	assert_string_equal(json_string_value(json_object_get(b, "vip")), VIP);
	assert_string_equal(json_string_value(json_object_get(b, "algorithm")), "source-hash");
	assert_string_equal(json_string_value(json_object_get(b, "forward")), "l2dsr");
	rl = json_object_get(b, "rate_limit");
	assert_int_equal(json_integer_value(json_object_get(rl, "pps")), 1000);
	assert_int_equal(json_integer_value(json_object_get(rl, "burst")), 2000);
	assert_int_equal(json_integer_value(json_object_get(rl, "source_new_flows")), 50);
	assert_int_equal(json_integer_value(json_object_get(rl, "source_burst")), 0);
	assert_true(json_is_true(json_object_get(b, "stateless")));
	assert_int_equal(json_object_size(b), 5);
	json_decref(b);

	/* Defaults are xlbd's: only the (canonical) name is sent. */
	setup(NULL);
	answer(201, "{}");
	xlbctl(&r, "vip", "add", "[2001:2:0:0::100]:53/udp", NULL);
	assert_int_equal(r.rc, 0);
	b = body_json(one_req("POST", "/v1/vips", ""));
	assert_string_equal(json_string_value(json_object_get(b, "vip")), "[2001:2::100]:53/udp");
	assert_int_equal(json_object_size(b), 1);
	json_decref(b);
}

static void test_vip_del(void **state)
{
	struct run r;

	(void)state;
	answer(200, "{\"deleted\":\"198.18.1.100:80/tcp\"}");
	xlbctl(&r, "vip", "del", VIP, NULL);
	assert_int_equal(r.rc, 0);
	one_req("DELETE", "/v1/vips/" VIP, "");
	assert_string_equal(fake.reqs[0].raw, "/v1/vips/" VIP_ESC);
	assert_string_equal(fake.reqs[0].body, "");

	setup(NULL);
	xlbctl(&r, "vip", "del", "[2001:2::100]:53/udp", NULL);
	assert_int_equal(r.rc, 0);
	one_req("DELETE", "/v1/vips/[2001:2::100]:53/udp", "");
	assert_string_equal(fake.reqs[0].raw, "/v1/vips/%5B2001%3A2%3A%3A100%5D%3A53%2Fudp");
}

static void test_vip_list(void **state)
{
	struct run r;

	(void)state;
	answer(200, VIPS_JSON);
	xlbctl(&r, "vip", "list", NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/vips", "");
	assert_contains(r.out, "ALGORITHM");
	assert_contains(r.out, "198.18.1.100:80/tcp   maglev                  ipip");
	assert_contains(r.out, "1000/2000 pps");
	assert_contains(r.out, "  -> 198.18.0.11         100  in table");
	assert_contains(r.out, "  -> 2001:2::12            7  drained");
	assert_contains(r.out, "[2001:2::100]:53/udp  source-hash, stateless  l2dsr           0  -");

	setup(NULL);
	answer(200, "{\"vips\":[]}");
	xlbctl(&r, "vip", "list", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "no VIPs\n");
}

/* One VIP as GET /v1/vips/{vip} answers it, with the live table's digest. */
#define VIP_JSON(digest)                                                                  \
	"{\"vip\":\"198.18.1.100:80/tcp\",\"algorithm\":\"source-hash\",\"forward\":\"l2dsr\"," \
	"\"table_size\":65537,\"stateless\":false,\"rate_limit\":{\"pps\":1000,\"burst\":2000,"  \
	"\"source_new_flows\":0,\"source_burst\":0},\"health_check\":{\"type\":\"http\"},"     \
	"\"backends\":[{\"address\":\"198.18.0.11\",\"weight\":100,\"drain\":false,"          \
	"\"in_table\":true},{\"address\":\"2001:2::12\",\"weight\":7,\"drain\":true,"           \
	"\"in_table\":false}]" digest "}"

static void test_vip_show(void **state)
{
	struct run r;

	(void)state;
	answer(200, VIP_JSON(",\"table_digest\":\"0123456789abcdef\""));
	xlbctl(&r, "vip", "show", VIP, NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/vips/" VIP, "");
	assert_string_equal(fake.reqs[0].raw, "/v1/vips/" VIP_ESC);
	assert_contains(r.out, "vip 198.18.1.100:80/tcp\n");
	assert_contains(r.out, "  algorithm     source-hash\n");
	assert_contains(r.out, "  forward       l2dsr\n");
	assert_contains(r.out, "  rate limit    1000/2000 pps\n");
	assert_contains(r.out, "  health check  http\n");
	assert_contains(r.out, "  table size    65537\n");
	assert_contains(r.out, "  table digest  0123456789abcdef\n");
	assert_contains(r.out, "  198.18.0.11     100  in table\n");
	assert_contains(r.out, "  2001:2::12        7  drained\n");

	/* No backend in the table; no data path at all. */
	setup(NULL);
	answer(200, VIP_JSON(",\"table_digest\":null"));
	xlbctl(&r, "vip", "show", VIP, NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "  table digest  none: no backend takes new flows\n");
	setup(NULL);
	answer(200, VIP_JSON(""));
	xlbctl(&r, "vip", "show", VIP, NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "  table digest  -: xlbd runs without a data path\n");

	/* -j: xlbd's JSON as it came. */
	setup(NULL);
	answer(200, VIP_JSON(",\"table_digest\":\"0123456789abcdef\""));
	xlbctl(&r, "-j", "vip", "show", "[2001:2::100]:53/udp", NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/vips/[2001:2::100]:53/udp", "");
	assert_string_equal(r.out, VIP_JSON(",\"table_digest\":\"0123456789abcdef\"") "\n");

	/* An unknown VIP: xlbd's message, exit 1. A bad one: usage, nothing sent. */
	setup(NULL);
	answer(404, "{\"error\":\"no VIP 198.18.1.99:80/tcp\"}");
	xlbctl(&r, "vip", "show", "198.18.1.99:80/tcp", NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "xlbctl: no VIP 198.18.1.99:80/tcp\n");
	setup(NULL);
	xlbctl(&r, "vip", "show", "198.18.1.99:80", NULL);
	assert_int_equal(r.rc, 2);
	assert_int_equal(fake.n, 0);
	assert_contains(r.err, "bad VIP");
	setup(NULL);
	xlbctl(&r, "vip", "show", NULL);
	assert_int_equal(r.rc, 2);
	assert_int_equal(fake.n, 0);
	assert_contains(r.err, "missing VIP");
}

static void test_backend_add(void **state)
{
	json_t *b;
	struct run r;

	(void)state;
	answer(201, VIPS_JSON);
	xlbctl(&r, "backend", "add", VIP, "198.18.0.11", "--weight", "50", NULL);
	assert_int_equal(r.rc, 0);
	b = body_json(one_req("POST", "/v1/vips/" VIP "/backends", ""));
	assert_string_equal(fake.reqs[0].raw, "/v1/vips/" VIP_ESC "/backends");
	assert_string_equal(json_string_value(json_object_get(b, "address")), "198.18.0.11");
	assert_int_equal(json_integer_value(json_object_get(b, "weight")), 50);
	assert_int_equal(json_object_size(b), 2);
	json_decref(b);
	assert_string_equal(r.out, "");

	setup(NULL);
	answer(201, VIPS_JSON);
	xlbctl(&r, "backend", "add", VIP, "2001:2:0::11", NULL);
	assert_int_equal(r.rc, 0);
	b = body_json(one_req("POST", "/v1/vips/" VIP "/backends", ""));
	assert_string_equal(json_string_value(json_object_get(b, "address")), "2001:2::11");
	assert_int_equal(json_object_size(b), 1);
	json_decref(b);
}

static void test_backend_set(void **state)
{
	static const struct {
		const char *opt, *val, *key;
		json_int_t want; /* for drain: 1 true, 0 false */
	} cases[] = {
		{ "--weight", "7", "weight", 7 },
		{ "--drain", NULL, "drain", 1 },
		{ "--undrain", NULL, "drain", 0 },
	};
	const char *path = "/v1/vips/" VIP "/backends/198.18.0.11";
	json_t *b, *v;
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup(NULL);
		answer(200, VIPS_JSON);
		xlbctl(&r, "backend", "set", VIP, "198.18.0.11", cases[i].opt, cases[i].val, NULL);
		assert_int_equal(r.rc, 0);
		b = body_json(one_req("PATCH", path, ""));
		assert_string_equal(fake.reqs[0].raw,
				    "/v1/vips/" VIP_ESC "/backends/198.18.0.11");
		assert_int_equal(json_object_size(b), 1);
		v = json_object_get(b, cases[i].key);
		if (!strcmp(cases[i].key, "drain"))
			assert_int_equal(json_is_true(v), cases[i].want);
		else
			assert_int_equal(json_integer_value(v), cases[i].want);
		json_decref(b);
	}

	setup(NULL);
	answer(200, VIPS_JSON);
	xlbctl(&r, "backend", "set", VIP, "2001:2::12", "--weight", "65535", "--drain", NULL);
	assert_int_equal(r.rc, 0);
	b = body_json(one_req("PATCH", "/v1/vips/" VIP "/backends/2001:2::12", ""));
	assert_int_equal(json_integer_value(json_object_get(b, "weight")), 65535);
	assert_true(json_is_true(json_object_get(b, "drain")));
	json_decref(b);
}

static void test_backend_del(void **state)
{
	struct run r;

	(void)state;
	answer(200, VIPS_JSON);
	xlbctl(&r, "backend", "del", VIP, "198.18.0.11", NULL);
	assert_int_equal(r.rc, 0);
	one_req("DELETE", "/v1/vips/" VIP "/backends/198.18.0.11", "");
	assert_string_equal(fake.reqs[0].body, "");
}

static const char *STATS_JSON =
	"{\"global\":{\"rx\":123456789,\"pass_not_ip\":1,\"pass_not_vip\":2,\"pass_other_l4\":3,"
	"\"tx_new_flow\":4,\"tx_established\":5,\"tx_rechosen\":6,\"tx_icmp\":7,"
	"\"drops\":{\"malformed\":8,\"fragment\":0,\"no_backend\":3,\"no_table\":0,\"encap\":0,"
	"\"family\":0},\"flow_cache\":{\"hits_ipv4\":4000,\"hits_ipv6\":0,\"bypasses_ipv4\":2,"
	"\"bypasses_ipv6\":0}},"
	"\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":1234,\"bytes\":1536,"
	"\"new_flows\":12,\"drops\":{\"malformed\":0,\"no_backend\":3},\"backends\":["
	"{\"address\":\"198.18.0.11\",\"packets\":617,\"bytes\":5000000,\"new_flows\":6,"
	"\"syn_retransmits\":2}]}]}";

static void test_stats(void **state)
{
	struct run r;

	(void)state;
	answer(200, STATS_JSON);
	xlbctl(&r, "stats", NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/stats", "");
	assert_contains(r.out, "rx 123.5M");
	assert_contains(r.out, "malformed 8");
	assert_contains(r.out, "no_backend 3");
	assert_contains(r.out, "flow cache:  hits_ipv4 4000  hits_ipv6 0  bypasses_ipv4 2");
	assert_contains(r.out, "198.18.1.100:80/tcp        1234      1.5KiB          12");
	assert_contains(r.out, "  drops:  no_backend 3\n");
	assert_contains(r.out, "  -> 198.18.0.11            617      4.8MiB           6            2");

	setup(NULL);
	answer(200, STATS_JSON);
	xlbctl(&r, "stats", VIP, NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/stats", "vip=" VIP);
	assert_string_equal(fake.reqs[0].raw, "/v1/stats?vip=" VIP_ESC);
}

/*
 * stats --watch: two answers 2 s apart by xlbd's clock. VIP 198.18.1.100:80:
 * packets 1000 -> 5000, bytes 1 MB -> 3 MB, new flows 10 -> 30, drops
 * no_backend 3 -> 7 and rate_vip 0 -> 2000; backend .11 600 -> 2600 packets,
 * 0.5 MB -> 1.5 MB, 6 -> 16 flows; backend .12 and VIP .101 are new in the
 * second answer (no rate yet), VIP .102 is gone from it.
 */
static const char *const WATCH_A =
	"{\"clock_ms\":1000,\"global\":{\"rx\":10000,\"drops\":{\"malformed\":8,\"no_backend\":3}},"
	"\"vips\":[{\"vip\":\"198.18.1.102:80/tcp\",\"packets\":5,\"bytes\":5,\"new_flows\":5,"
	"\"drops\":{},\"backends\":[]},"
	"{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":1000,\"bytes\":1000000,\"new_flows\":10,"
	"\"drops\":{\"no_backend\":3,\"rate_vip\":0},\"backends\":["
	"{\"address\":\"198.18.0.11\",\"packets\":600,\"bytes\":500000,\"new_flows\":6}]}]}";
static const char *const WATCH_B =
	"{\"clock_ms\":3000,\"global\":{\"rx\":30000,\"drops\":{\"malformed\":8,\"no_backend\":7}},"
	"\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":5000,\"bytes\":3000000,"
	"\"new_flows\":30,\"drops\":{\"no_backend\":7,\"rate_vip\":2000},\"backends\":["
	"{\"address\":\"198.18.0.12\",\"packets\":9,\"bytes\":9,\"new_flows\":9},"
	"{\"address\":\"198.18.0.11\",\"packets\":2600,\"bytes\":1500000,\"new_flows\":16}]},"
	"{\"vip\":\"198.18.1.101:80/tcp\",\"packets\":7,\"bytes\":7,\"new_flows\":7,"
	"\"drops\":{},\"backends\":[]}]}";

static void test_stats_watch(void **state)
{
	static const char *const ab[] = { WATCH_A, WATCH_B };
	struct run r;

	(void)state;
	answer_seq(ab, 2);
	xlbctl(&r, "stats", VIP, "--watch", "--interval", "0.05", "--count", "1", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(fake.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(fake.reqs[i].method, "GET");
		assert_string_equal(fake.reqs[i].path, "/v1/stats");
		assert_string_equal(fake.reqs[i].query, "vip=" VIP);
	}
	assert_contains(r.out, "every 0.05s  over the last 2.00s  rx 10.0K pkt/s\n");
	assert_contains(r.out, "drops/s: no_backend 2.0\n");
	assert_contains(r.out, "VIP / BACKEND            PKTS/S      BITS/S  NEWFLOWS/S     DROPS/S\n"
			       "198.18.1.100:80/tcp        2.0K        8.0M        10.0        1.0K\n"
			       "  drops/s: no_backend 2.0, rate_vip 1.0K\n"
			       "  -> 198.18.0.12              -           -           -\n"
			       "  -> 198.18.0.11           1.0K        4.0M         5.0\n"
			       "198.18.1.101:80/tcp           -           -           -           -\n\n");
	assert_null(strstr(r.out, "198.18.1.102"));
	assert_null(strstr(r.out, "\033[")); /* not a terminal: no redrawing */
	assert_string_equal(r.err, "");
}

static void test_stats_watch_json(void **state)
{
	static const char *const ab[] = { WATCH_A, WATCH_B };
	json_t *j, *v, *b;
	struct run r;

	(void)state;
	answer_seq(ab, 2);
	xlbctl(&r, "-j", "stats", "--watch", "--interval", "0.05", "--count", "1", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(fake.n, 2);
	assert_string_equal(fake.reqs[1].query, "");
	assert_non_null(strchr(r.out, '\n'));
	assert_int_equal(strchr(r.out, '\n')[1], '\0'); /* one line per refresh */
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_true(json_number_value(json_object_get(j, "interval_s")) == 2.0);
	v = json_object_get(j, "global");
	assert_true(json_number_value(json_object_get(v, "rx_pps")) == 10000);
	assert_true(json_number_value(json_object_get(json_object_get(v, "drops_ps"), "no_backend")) == 2);
	assert_int_equal(json_object_size(json_object_get(v, "drops_ps")), 1);
	v = json_array_get(json_object_get(j, "vips"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "vip")), VIP);
	assert_true(json_number_value(json_object_get(v, "pps")) == 2000);
	assert_true(json_number_value(json_object_get(v, "bps")) == 8e6);
	assert_true(json_number_value(json_object_get(v, "new_flows_ps")) == 10);
	assert_true(json_number_value(json_object_get(json_object_get(v, "drops_ps"), "rate_vip")) == 1000);
	b = json_array_get(json_object_get(v, "backends"), 1);
	assert_string_equal(json_string_value(json_object_get(b, "address")), "198.18.0.11");
	assert_true(json_number_value(json_object_get(b, "pps")) == 1000);
	assert_true(json_number_value(json_object_get(b, "bps")) == 4e6);
	assert_true(json_number_value(json_object_get(b, "new_flows_ps")) == 5);
	b = json_array_get(json_object_get(v, "backends"), 0);
	assert_true(json_is_null(json_object_get(b, "pps")));
	v = json_array_get(json_object_get(j, "vips"), 1);
	assert_true(json_is_null(json_object_get(v, "pps")));
	assert_true(json_is_null(json_object_get(v, "drops_ps")));
	json_decref(j);
}

/*
 * --count N refreshes; a counter that went down counts from 0; when xlbd's
 * clock goes back (a restart) the next answer starts a new pair.
 */
static void test_stats_watch_count(void **state)
{
	static const char *const seq[] = {
		"{\"clock_ms\":1000,\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":5000}]}",
		"{\"clock_ms\":3000,\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":1000}]}",
		"{\"clock_ms\":100,\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":0}]}",
		"{\"clock_ms\":1100,\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":300}]}",
	};
	const char *p;
	struct run r;

	(void)state;
	answer_seq(seq, 4);
	xlbctl(&r, "stats", "--watch", "--interval", "0.02", "--count", "2", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(fake.n, 4);
	p = strstr(r.out, "198.18.1.100:80/tcp       500.0");
	if (!p)
		fail_msg("no rate 500.0 in:\n%s", r.out);
	/* 1000 packets in 2 s after a reset, then 300 in 1 s */
	assert_non_null(strstr(p, "198.18.1.100:80/tcp       300.0"));
	assert_non_null(strstr(r.out, "over the last 1.00s"));

	/* Without xlbd's clock, this process's: a rate, whatever it is. */
	setup(NULL);
	answer(200, "{\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"packets\":10}]}");
	xlbctl(&r, "stats", "--watch", "--interval", "0.02", "--count", "3", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(fake.n, 4);
	assert_contains(r.out, "198.18.1.100:80/tcp         0.0");

	/* xlbd going away ends the watch with its exit code. */
	setup(NULL);
	answer(404, "{\"error\":\"no VIP 198.18.1.100:80/tcp\"}");
	xlbctl(&r, "stats", VIP, "--watch", "--interval", "0.02", NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "xlbctl: no VIP 198.18.1.100:80/tcp\n");
}

/* On a terminal each refresh homes the cursor and clears the screen. */
static void test_stats_watch_tty(void **state)
{
	static const char *const ab[] = { WATCH_A, WATCH_B,
					  "{\"clock_ms\":5000,\"global\":{},\"vips\":[]}" };
	long long deadline = now_ms() + 10000;
	char out[OUT_MAX];
	size_t len = 0;
	int master, status = 0;
	pid_t pid;

	(void)state;
	answer_seq(ab, 3);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
		int null = open("/dev/null", O_WRONLY);

		if (slave < 0 || null < 0 || dup2(slave, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		execl(XLBCTL, XLBCTL, "--socket", env.sock, "stats", "--watch", "--interval", "0.05",
		      "--count", "2", (char *)NULL);
		_exit(127);
	}
	fcntl(master, F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = read(master, out + len, sizeof(out) - 1 - len);
		bool done;

		if (n > 0)
			len += n;
		done = waitpid(pid, &status, WNOHANG) == pid;
		if (done) {
			while ((n = read(master, out + len, sizeof(out) - 1 - len)) > 0)
				len += n;
			break;
		}
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("xlbctl did not finish in 10 s");
		}
		event_base_loop(env.base, EVLOOP_NONBLOCK);
		usleep(500);
	}
	close(master);
	out[len] = '\0';
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(fake.n, 3);
	/* two refreshes, each drawn from the top of a cleared screen */
	assert_int_equal(strncmp(out, "\033[H\033[2J", 7), 0);
	assert_non_null(strstr(out + 7, "\033[H\033[2J"));
	assert_contains(out, "198.18.1.100:80/tcp        2.0K");
}

static void test_health(void **state)
{
	struct run r;

	(void)state;
	answer(200, "{\"vips\":[{\"vip\":\"198.18.1.100:80/tcp\",\"check\":\"http\","
		    "\"panic\":true,\"backends\":["
		    "{\"address\":\"198.18.0.11\",\"up\":true,\"circuit\":\"closed\","
		    "\"weight\":100,\"successes\":7,\"ejections\":0,\"next_change_ms\":null,"
		    "\"last_check_ms\":350,\"latency_ms\":0.8,\"failures\":0,\"detail\":\"ok HTTP 200\"},"
		    "{\"address\":\"198.18.0.12\",\"up\":false,\"circuit\":\"open\","
		    "\"weight\":0,\"successes\":0,\"ejections\":2,\"next_change_ms\":1500,"
		    "\"last_check_ms\":20,\"latency_ms\":500,\"failures\":4,"
		    "\"detail\":\"timeout after 500 ms\"}]}]}");
	xlbctl(&r, "health", NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/health", "");
	assert_contains(r.out, "198.18.1.100:80/tcp  (check: http)  PANIC");
	assert_contains(r.out, "-> 198.18.0.11     up       closed        100     7     0      0          -"
			       "     0.8ms   350ms ago  ok HTTP 200");
	assert_contains(r.out, "-> 198.18.0.12     down     open            0     0     4      2     1500ms"
			       "     500ms    20ms ago  timeout after 500 ms");

	setup(NULL);
	xlbctl(&r, "health", VIP, NULL);
	one_req("GET", "/v1/health", "vip=" VIP);

	/* An xlbd without health checks */
	setup(NULL);
	answer(404, "{\"error\":\"no such path: /v1/health\"}");
	xlbctl(&r, "health", NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "xlbctl: health checks are not available in this xlbd\n");
	assert_string_equal(r.out, "");

	/* ... and one with them, asked about an unknown VIP */
	setup(NULL);
	answer(404, "{\"error\":\"no VIP 198.18.1.100:80/tcp\"}");
	xlbctl(&r, "health", VIP, NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "xlbctl: no VIP 198.18.1.100:80/tcp\n");
}

static void test_config_export(void **state)
{
	const char *yaml = "vips:\n  - vip: \"198.18.1.100:80/tcp\"\n    backends: []\n";
	struct run r;

	(void)state;
	answer(200, yaml);
	fake.ctype = "text/yaml";
	xlbctl(&r, "config", "export", NULL);
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/config", "");
	assert_string_equal(r.out, yaml);
}

static void test_config_apply(void **state)
{
	const char *yaml = "vips:\n  - vip: \"198.18.1.101:80/tcp\"\n";
	char file[160];
	struct run r;
	FILE *f;

	(void)state;
	snprintf(file, sizeof(file), "%s/desired.yaml", env.dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);

	answer(200, "{\"applied\":false,\"changes\":[\"add vip 198.18.1.101:80/tcp\","
		    "\"add backend 198.18.0.14 to 198.18.1.100:80/tcp\"],"
		    "\"moved\":{\"198.18.1.100:80/tcp\":0.25},"
		    "\"rebalanced\":{\"[2001:2::100]:80/tcp\":\"wrr\"}}");
	xlbctl(&r, "config", "apply", "--dry-run", file, NULL);
	assert_int_equal(r.rc, 0);
	one_req("POST", "/v1/config", "dry_run=1");
	assert_string_equal(fake.reqs[0].body, yaml);
	assert_string_equal(fake.reqs[0].ctype, "text/yaml");
	assert_contains(r.out, "dry run, would apply 2 changes:\n");
	assert_contains(r.out, "  add vip 198.18.1.101:80/tcp\n");
	assert_contains(r.out, "  add backend 198.18.0.14 to 198.18.1.100:80/tcp\n");
	assert_contains(r.out, "198.18.1.100:80/tcp: 25.0% of the hash space goes to another backend\n");
	assert_contains(r.out, "[2001:2::100]:80/tcp: wrr: new flows are rebalanced, established "
			       "flows keep their backend\n");

	setup(NULL);
	answer(200, "{\"applied\":true,\"changes\":[],\"moved\":{}}");
	xlbctl(&r, "config", "apply", file, NULL);
	assert_int_equal(r.rc, 0);
	one_req("POST", "/v1/config", "");
	assert_string_equal(fake.reqs[0].body, yaml);
	assert_string_equal(r.out, "no changes\n");

	/* All or nothing: a rejected file is reported, exit 1. */
	setup(NULL);
	answer(400, "{\"error\":\"line 2: vips[0].vip: bad port\"}");
	xlbctl(&r, "config", "apply", file, NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "xlbctl: line 2: vips[0].vip: bad port\n");
}

static void test_rejected(void **state)
{
	struct run r;

	(void)state;
	answer(409, "{\"error\":\"VIP 198.18.1.100:80/tcp already exists\"}");
	xlbctl(&r, "vip", "add", VIP, NULL);
	assert_int_equal(r.rc, 1);
	assert_int_equal(fake.n, 1);
	assert_string_equal(r.err, "xlbctl: VIP 198.18.1.100:80/tcp already exists\n");
	assert_string_equal(r.out, "");

	setup(NULL);
	answer(404, "{\"error\":\"no backend 198.18.0.99 in 198.18.1.100:80/tcp\"}");
	xlbctl(&r, "backend", "del", VIP, "198.18.0.99", NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "xlbctl: no backend 198.18.0.99 in 198.18.1.100:80/tcp\n");

	/* Not JSON: the status and the text. */
	setup(NULL);
	answer(500, "boom");
	xlbctl(&r, "status", NULL);
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "500");
	assert_contains(r.err, "boom");
}

/* Each is garbage that must fail with exit 2 before anything is sent. */
static void test_usage_errors(void **state)
{
	static const struct {
		const char *argv[10];
		const char *msg;
	} cases[] = {
		{ { "frobnicate" }, "unknown object 'frobnicate'" },
		{ { "vip", "frob" }, "unknown command 'vip frob'" },
		{ { "vip" }, "missing command" },
		{ { "vip", "add" }, "missing VIP" },
		{ { "vip", "add", "1.2.3.4:99999/tcp" }, "port 99999 out of range" },
		{ { "vip", "add", "1.2.3.4" }, "bad VIP" },
		{ { "vip", "add", VIP, "--rate", "abc" }, "bad --rate 'abc'" },
		{ { "vip", "add", VIP, "--rate", "10/" }, "bad --rate '10/'" },
		{ { "vip", "add", VIP, "--source-rate", "-1" }, "bad --source-rate '-1'" },
		{ { "vip", "add", VIP, "--rate" }, "option '--rate' needs a value" },
		{ { "vip", "add", VIP, "--algo", "random" }, "unknown algorithm 'random'" },
		{ { "vip", "add", VIP, "--forward", "nat" }, "unknown forward mode 'nat'" },
		{ { "vip", "add", VIP, "--bogus" }, "unknown option '--bogus'" },
		{ { "vip", "add", VIP, "--weight", "5" }, "unknown option '--weight'" },
		{ { "vip", "add", VIP, "extra" }, "unexpected argument 'extra'" },
		{ { "vip", "del" }, "missing VIP" },
		{ { "vip", "list", "x" }, "unexpected argument 'x'" },
		{ { "backend", "add", VIP }, "missing ADDR" },
		{ { "backend", "add", VIP, "198.18.0.300" }, "bad backend address '198.18.0.300'" },
		{ { "backend", "add", VIP, "198.18.0.11", "--weight", "0" }, "bad weight '0'" },
		{ { "backend", "add", VIP, "198.18.0.11", "--weight", "70000" }, "bad weight '70000'" },
		{ { "backend", "add", VIP, "198.18.0.11", "--weight", "1x" }, "bad weight '1x'" },
		{ { "backend", "set", VIP, "198.18.0.11" }, "nothing to set" },
		{ { "backend", "set", VIP, "198.18.0.11", "--drain", "--undrain" }, "contradict" },
		{ { "backend", "set", VIP, "198.18.0.11", "--weight", "0" }, "bad weight '0'" },
		{ { "backend", "del", "nope", "198.18.0.11" }, "bad VIP" },
		{ { "health", "1.2.3.4:99999/tcp" }, "bad VIP" },
		{ { "stats", VIP, VIP }, "unexpected argument" },
		{ { "stats", "--interval", "1" }, "--interval needs --watch" },
		{ { "stats", "--count", "3" }, "--count needs --watch" },
		{ { "stats", "--watch", "--interval", "0" }, "bad --interval '0'" },
		{ { "stats", "--watch", "--interval", "abc" }, "bad --interval 'abc'" },
		{ { "stats", "--watch", "--interval", "-1" }, "bad --interval '-1'" },
		{ { "stats", "--watch", "--interval", "5000" }, "bad --interval '5000'" },
		{ { "stats", "--watch", "--count", "0" }, "bad --count '0'" },
		{ { "stats", "--watch", "--count", "x" }, "bad --count 'x'" },
		{ { "vip", "list", "--watch" }, "unknown option '--watch'" },
		{ { "status", "-x" }, "unknown option '-x'" },
		{ { "config", "apply" }, "missing FILE" },
		{ { "config", "apply", "/nonexistent/xlb.yaml" }, "cannot open '/nonexistent/xlb.yaml'" },
		{ { "config", "export", "--dry-run" }, "unknown option '--dry-run'" },
		{ { "--bogus", "status" }, "unknown option '--bogus'" },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[16] = { XLBCTL, "--socket", env.sock };
		int n = 3;

		for (int k = 0; cases[i].argv[k]; k++)
			argv[n++] = (char *)cases[i].argv[k];
		setup(NULL);
		run_argv(&r, argv);
		if (r.rc != 2 || !strstr(r.err, cases[i].msg) || !strstr(r.err, "usage: xlbctl"))
			fail_msg("case %zu (%s %s ...): rc %d, stderr:\n%s", i, argv[3],
				 argv[4] ? argv[4] : "", r.rc, r.err);
		assert_string_equal(r.out, "");
		assert_int_equal(fake.n, 0);
	}
}

static void test_unreachable(void **state)
{
	char missing[160], dead[160], want[400];
	struct run r;
	int fd;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing.sock", env.dir);
	{
		char *argv[] = { XLBCTL, "--socket", missing, "vip", "list", NULL };

		run_argv(&r, argv);
	}
	assert_int_equal(r.rc, 3);
	snprintf(want, sizeof(want), "xlbctl: cannot reach xlbd at %s: %s\n", missing,
		 strerror(ENOENT));
	assert_string_equal(r.err, want);

	/* A socket file nobody listens on any more */
	snprintf(dead, sizeof(dead), "%s/dead.sock", env.dir);
	fd = unix_listen(dead);
	assert_true(fd >= 0);
	close(fd);
	{
		char *argv[] = { XLBCTL, "--socket", dead, "status", NULL };

		run_argv(&r, argv);
	}
	assert_int_equal(r.rc, 3);
	snprintf(want, sizeof(want), "xlbctl: cannot reach xlbd at %s: %s\n", dead,
		 strerror(ECONNREFUSED));
	assert_string_equal(r.err, want);
}

static void test_socket_env(void **state)
{
	char *argv[] = { XLBCTL, "status", NULL };
	struct run r;

	(void)state;
	answer(200, STATUS_JSON);
	setenv("XLB_SOCKET", env.sock, 1);
	run_argv(&r, argv);
	unsetenv("XLB_SOCKET");
	assert_int_equal(r.rc, 0);
	one_req("GET", "/v1/status", "");

	/* --socket after the verb wins over the default */
	setup(NULL);
	{
		char *argv2[] = { XLBCTL, "status", "--socket", env.sock, NULL };

		run_argv(&r, argv2);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(fake.n, 1);
}

static void test_help(void **state)
{
	static const char *const verbs[][2] = {
		{ "status" },	       { "vip", "add" },    { "vip", "del" },
		{ "vip", "list" },     { "backend", "add" }, { "backend", "set" },
		{ "backend", "del" },  { "health" },	    { "stats" },
		{ "config", "export" }, { "config", "apply" },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		char *argv[6] = { XLBCTL, (char *)verbs[i][0] };
		char want[64];
		int n = 2;

		if (verbs[i][1])
			argv[n++] = (char *)verbs[i][1];
		argv[n++] = i % 2 ? "-h" : "--help";
		argv[n] = NULL;
		run_argv(&r, argv);
		snprintf(want, sizeof(want), "Usage: xlbctl [--socket PATH] [-j] %s%s%s",
			 verbs[i][0], verbs[i][1] ? " " : "", verbs[i][1] ? verbs[i][1] : "");
		if (r.rc != 0 || !strstr(r.out, want))
			fail_msg("%s %s --help: rc %d, stdout:\n%s", verbs[i][0],
				 verbs[i][1] ? verbs[i][1] : "", r.rc, r.out);
	}
	{
		char *argv[] = { XLBCTL, "--help", NULL };

		run_argv(&r, argv);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, "Usage: xlbctl [--socket PATH] [-j] OBJECT COMMAND");
		assert_contains(r.out, "xlbctl backend set VIP ADDR --weight N | --drain | --undrain");
	}
	{
		char *argv[] = { XLBCTL, "vip", "--help", NULL };

		run_argv(&r, argv);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, "xlbctl vip list");
	}
	{
		char *argv[] = { XLBCTL, NULL };

		run_argv(&r, argv);
		assert_int_equal(r.rc, 2);
		assert_contains(r.err, "Usage: xlbctl [--socket PATH] [-j] OBJECT COMMAND");
	}
	assert_int_equal(fake.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status, setup),
		cmocka_unit_test_setup(test_json_passthrough, setup),
		cmocka_unit_test_setup(test_vip_add, setup),
		cmocka_unit_test_setup(test_vip_del, setup),
		cmocka_unit_test_setup(test_vip_list, setup),
		cmocka_unit_test_setup(test_vip_show, setup),
		cmocka_unit_test_setup(test_backend_add, setup),
		cmocka_unit_test_setup(test_backend_set, setup),
		cmocka_unit_test_setup(test_backend_del, setup),
		cmocka_unit_test_setup(test_stats, setup),
		cmocka_unit_test_setup(test_stats_watch, setup),
		cmocka_unit_test_setup(test_stats_watch_json, setup),
		cmocka_unit_test_setup(test_stats_watch_count, setup),
		cmocka_unit_test_setup(test_stats_watch_tty, setup),
		cmocka_unit_test_setup(test_health, setup),
		cmocka_unit_test_setup(test_config_export, setup),
		cmocka_unit_test_setup(test_config_apply, setup),
		cmocka_unit_test_setup(test_rejected, setup),
		cmocka_unit_test_setup(test_usage_errors, setup),
		cmocka_unit_test_setup(test_unreachable, setup),
		cmocka_unit_test_setup(test_socket_env, setup),
		cmocka_unit_test_setup(test_help, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
