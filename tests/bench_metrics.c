/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The cost of one /metrics scrape at its target scale, 1,000 VIPs x 100
 * backends (half the VIPs IPv6), against the 50 ms budget. One JSON line
 * per measurement (ms: median wall time; max_ms: the slowest; cpu_ms: the
 * median CPU time, which a busy machine inflates less):
 *
 *   render        xlb_metrics__render_evbuffer() (what GET /metrics runs)
 *                 on a daemon without interfaces: no data path, every
 *                 counter reads 0, the text has the same series and about
 *                 the same length.
 *   render_text   xlb_metrics__render(): the same into one malloc()ed
 *                 string, fresh memory each time.
 *   dp_counters   as root: xlb_dp__counters_read() on a load-only data path
 *                 holding the same VIPs and backends (the global and VIP
 *                 per-CPU arrays, read and summed over CPUs).
 *   counters      xlb_counters__reread(), as a scrape reads: that read
 *                 plus each backend's counters summed from the mmapped
 *                 map, matched to the config, into the previous read's
 *                 memory.
 *   render        again, data_path true: read + render, with every counter
 *                 at a production-like 9 to 14 digits.
 *   http          as root: the whole scrape as a scraper sees it, from
 *                 connect to the last byte: GET /metrics through xlbd's
 *                 own listener (xlb_server) on its event loop, read by a
 *                 client thread in 1 MiB reads (as Prometheus reads a body)
 *                 over loopback in a network namespace of the bench's own
 *                 (nothing leaves it). cpu_ms: the event loop's thread.
 *                 first_byte_ms: the median time to the first byte.
 *                 XLB_BENCH_LINK=RATE (tc's units: 10gbit) shapes that
 *                 loopback to RATE, for a scraper across a network link.
 *   scrape        the summary: http against the budget (render without
 *                 root, where there is no http figure).
 *
 * Each figure is the median of RUNS runs after one warm-up. Exit 0 even
 * over budget: it measures; budget_ok says.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "userspace/xlbd/counters.h"
#include "userspace/xlbd/daemon.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/log.h"
#include "userspace/xlbd/metrics.h"
#include "userspace/xlbd/server.h"

#define N_VIPS 1000
#define N_BACKENDS 100
#define RUNS 7
#define BUDGET_MS 50.0
#define HTTP_PORT 9642	/* in the bench's own network namespace */
#define TABLE_SIZE 1031 /* prime > N_BACKENDS: keeps the setup fast; reads do not depend on it */

static double clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct figure {
	double median, max, cpu; /* wall ms, its slowest, CPU ms (median) */
	double first_byte;	 /* http: time to the first byte, ms (median) */
};

/* What a run measured itself (http), instead of measure()'s clocks. */
static struct {
	bool set;
	double wall, cpu, first_byte;
} own;

/* Runs fn once to warm up, then RUNS times; NULL when a run failed. */
static const struct figure *measure(int (*fn)(void *arg), void *arg, struct figure *f)
{
	double wall[RUNS], cpu[RUNS], first[RUNS];

	if (fn(arg))
		return NULL;
	for (int r = 0; r < RUNS; r++) {
		double w0 = now_ms(), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);

		own.set = false;
		if (fn(arg))
			return NULL;
		wall[r] = own.set ? own.wall : now_ms() - w0;
		cpu[r] = own.set ? own.cpu : clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
		first[r] = own.set ? own.first_byte : 0;
	}
	qsort(wall, RUNS, sizeof(double), cmp_double);
	qsort(cpu, RUNS, sizeof(double), cmp_double);
	qsort(first, RUNS, sizeof(double), cmp_double);
	f->median = wall[RUNS / 2];
	f->max = wall[RUNS - 1];
	f->cpu = cpu[RUNS / 2];
	f->first_byte = first[RUNS / 2];
	return f;
}

static int write_config(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "interfaces: []\nvips:\n");
	for (int i = 0; i < N_VIPS; i++) {
		bool v6 = i % 2;

		if (v6)
			fprintf(f, "  - vip: \"[2001:2::1:%x]:80/tcp\"\n", i);
		else
			fprintf(f, "  - vip: \"198.18.%d.%d:80/tcp\"\n", 1 + i / 250, i % 250 + 1);
		fprintf(f, "    backends:\n");
		for (int j = 0; j < N_BACKENDS; j++) {
			if (v6)
				fprintf(f, "      - {address: \"2001:2::b:%x:%x\"}\n", i, j + 1);
			else
				fprintf(f, "      - {address: 198.19.%d.%d}\n", i % 250, j + 1);
		}
	}
	return fclose(f) ? -errno : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Renders once; its size and line count for the report. */

/* What /metrics does: the text into an evbuffer, which is then sent and freed. */
static size_t last_bytes;

static int run_render(void *arg)
{
	struct evbuffer *out = evbuffer_new();
	int ret;

	if (!out)
		return -ENOMEM;
	ret = xlb_metrics__render_evbuffer(arg, out);
	last_bytes = evbuffer_get_length(out);
	evbuffer_free(out); /* the chunks go back to the pool, as once sent */
	return ret;
}

static int run_render_text(void *arg)
{
	char *text = xlb_metrics__render(arg);

	free(text);
	return text ? 0 : -ENOMEM;
}

static int run_dp_counters(void *arg)
{
	struct xlb_dp_counters c;
	int ret = xlb_dp__counters_read(arg, &c);

	if (!ret)
		xlb_dp__counters_free(&c);
	return ret;
}

/* As a scrape reads them: into the memory of the previous read. */
static struct xlb_counters kept;

static int run_counters(void *arg)
{
	return xlb_counters__reread(arg, &kept);
}

static size_t count_lines(struct xlb_daemon *d)
{
	char *text = xlb_metrics__render(d);
	size_t n = 0;

	for (const char *p = text; p && (p = strchr(p, '\n')); p++)
		n++;
	free(text);
	return n;
}

/*
 * Counters of the size a busy balancer shows after a while (9 to 14
 * digits), so that the text is as long as in production, not made of zeros.
 */
static int fill_counters(struct xlb_dp *dp, const struct xlb_config *cfg)
{
	struct bpf_object *obj = xlb_dp__object(dp);
	int be_fd = bpf_object__find_map_fd_by_name(obj, XLB_MAP_BACKEND_COUNTERS);
	int vip_fd = bpf_object__find_map_fd_by_name(obj, XLB_MAP_VIP_STATS);
	int ncpus = libbpf_num_possible_cpus();
	struct xlb_vip_stats *vs;
	__u32 n_be = 0;
	int ret = 0;

	if (be_fd < 0 || vip_fd < 0 || ncpus <= 0)
		return -ENOENT;
	vs = calloc(ncpus, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		n_be += cfg->vips[i].n_backends;
	for (int cpu = 0; cpu < ncpus && !ret; cpu++) {
		for (__u32 id = 0; id < n_be && !ret; id++) {
			struct xlb_backend_stats b = {
				.packets = 1234567890ULL + id,
				.bytes = 987654321098ULL + id,
				.new_flows = 12345678ULL + id,
				.syn_retransmits = 4321 + id % 100,
			};
			__u32 key = (__u32)cpu * XLB_MAX_BACKENDS + id;

			if (bpf_map_update_elem(be_fd, &key, &b, BPF_ANY))
				ret = -errno;
		}
	}
	for (__u32 id = 0; id < cfg->n_vips && !ret; id++) {
		for (int cpu = 0; cpu < ncpus; cpu++)
			vs[cpu] = (struct xlb_vip_stats){ .packets = 123456789012ULL + id,
							  .bytes = 98765432109876ULL + id,
							  .new_flows = 1234567890ULL + id };
		if (bpf_map_update_elem(vip_fd, &id, vs, BPF_ANY))
			ret = -errno;
	}
	free(vs);
	return ret;
}

/* A load-only data path holding the config's VIPs and backends. */
static int load_dp(const struct xlb_config *cfg, struct xlb_dp **out, double *setup_s)
{
	struct xlb_dp_opts opts = { .conntrack_size = 4096, .source_table_size = 1024 };
	static struct xlb_dp_backend b[N_BACKENDS];
	double t0 = now_ms();
	struct xlb_dp *dp;
	char err[512];
	int ret;

	ret = xlb_dp__open(&opts, &dp, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "bench_metrics: no data path (%s); skipping its figures\n", err);
		return ret;
	}
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		for (unsigned int j = 0; j < v->n_backends; j++) {
			memset(&b[j], 0, sizeof(b[j]));
			b[j].family = v->backends[j].family;
			memcpy(b[j].addr, v->backends[j].addr, sizeof(b[j].addr));
			b[j].weight = v->backends[j].weight;
			memcpy(b[j].mac, "\x02\x00\x00\x00\x00\x01", 6);
		}
		ret = xlb_dp__vip_add(dp, &v->addr, XLB_ALGO_MAGLEV, XLB_FWD_IPIP, TABLE_SIZE, err,
				      sizeof(err)) ?:
		      xlb_dp__set_backends(dp, &v->addr, b, v->n_backends, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "bench_metrics: vip %s: %s\n", v->vip, err);
			xlb_dp__destroy(dp, err, sizeof(err));
			return ret;
		}
	}
	ret = fill_counters(dp, cfg);
	if (ret) {
		fprintf(stderr, "bench_metrics: filling counters: %s\n", strerror(-ret));
		xlb_dp__destroy(dp, err, sizeof(err));
		return ret;
	}
	*setup_s = (now_ms() - t0) / 1e3;
	*out = dp;
	return 0;
}

/* ---- the whole scrape over HTTP ---- */

struct http_bench {
	struct event_base *base;
	struct xlb_server *srv;
	struct event *done_ev;
	int done[2]; /* the client writes a byte when it is done */
	size_t bytes;
};

struct http_client {
	int done_fd;
	double t0, first, end; /* now_ms() */
	size_t bytes;
	char head[16];
	int err;
};

/* One GET /metrics, read to the end in 1 MiB reads. */
static void *http_client_main(void *arg)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\n"
				  "Connection: close\r\n\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(HTTP_PORT) };
	struct http_client *c = arg;
	size_t cap = 1U << 20;
	char *buf = malloc(cap);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->t0 = now_ms();
	if (!buf || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1) {
		c->err = -errno ?: -EIO;
	} else {
		for (;;) {
			ssize_t n = recv(fd, buf, cap, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				c->err = -errno;
			if (n <= 0)
				break;
			if (!c->bytes) {
				c->first = now_ms();
				memcpy(c->head, buf,
				       (size_t)n < sizeof(c->head) ? (size_t)n : sizeof(c->head));
			}
			c->bytes += n;
		}
	}
	c->end = now_ms();
	if (fd >= 0)
		close(fd);
	free(buf);
	if (write(c->done_fd, "x", 1) != 1)
		c->err = c->err ?: -EIO;
	return NULL;
}

static void on_client_done(evutil_socket_t fd, short what, void *arg)
{
	struct http_bench *h = arg;
	char x;

	(void)what;
	if (read(fd, &x, 1) == 1)
		event_base_loopbreak(h->base);
}

/* The event loop serves one scrape while the client thread reads it. */
static int run_http(void *arg)
{
	struct http_bench *h = arg;
	struct http_client c = { .done_fd = h->done[1] };
	pthread_t t;
	double cpu0;

	if (pthread_create(&t, NULL, http_client_main, &c))
		return -EAGAIN;
	cpu0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
	event_base_dispatch(h->base);
	own.cpu = clock_ms(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	pthread_join(t, NULL);
	if (c.err || strncmp(c.head, "HTTP/1.1 200 ", 13)) {
		fprintf(stderr, "bench_metrics: GET /metrics: %s, answer '%.12s'\n",
			strerror(-c.err), c.head);
		return c.err ?: -EPROTO;
	}
	own.set = true;
	own.wall = c.end - c.t0;
	own.first_byte = c.first - c.t0;
	h->bytes = c.bytes;
	return 0;
}

/*
 * A network namespace of the bench's own with its loopback up: the scrape
 * on 127.0.0.1 stays in it and no port of the host's is taken.
 */
static int private_loopback(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, ret = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(fd);
	if (!ret && getenv("XLB_BENCH_LINK")) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd),
			 "tc qdisc add dev lo root tbf rate '%s' burst 4mb latency 50ms",
			 getenv("XLB_BENCH_LINK"));
		if (system(cmd))
			ret = -EINVAL;
	}
	return ret;
}

static int http_open(struct http_bench *h, struct xlb_daemon *d, const char *sock)
{
	char err[512];

	h->done[0] = h->done[1] = -1;
	h->base = event_base_new();
	if (!h->base || pipe2(h->done, O_CLOEXEC))
		return -ENOMEM;
	h->done_ev = event_new(h->base, h->done[0], EV_READ | EV_PERSIST, on_client_done, h);
	if (!h->done_ev || event_add(h->done_ev, NULL))
		return -ENOMEM;
	if (xlb_server__start(h->base, d, sock, (gid_t)-1, &h->srv, err, sizeof(err)) ||
	    xlb_server__listen_metrics(h->srv, "127.0.0.1", HTTP_PORT, err, sizeof(err))) {
		fprintf(stderr, "bench_metrics: %s\n", err);
		return -EIO;
	}
	return 0;
}

static void http_close(struct http_bench *h)
{
	xlb_server__stop(h->srv);
	if (h->done_ev)
		event_free(h->done_ev);
	if (h->base)
		event_base_free(h->base);
	for (int i = 0; i < 2; i++)
		if (h->done[i] >= 0)
			close(h->done[i]);
}

static void report(const char *what, bool dp, const struct figure *f)
{
	printf("{\"bench\":\"metrics\",\"what\":\"%s\",\"vips\":%d,\"backends\":%d,"
	       "\"data_path\":%s,\"ms\":%.2f,\"max_ms\":%.2f,\"cpu_ms\":%.2f,",
	       what, N_VIPS, N_VIPS * N_BACKENDS, dp ? "true" : "false", f->median, f->max, f->cpu);
	if (f->first_byte > 0)
		printf("\"first_byte_ms\":%.2f,", f->first_byte);
	printf("\"runs\":%d}\n", RUNS);
}

int main(void)
{
	char dir[] = "/tmp/xlb-bench-metrics.XXXXXX", config[96], state[96], sock[96];
	struct xlb_daemon_opts opts = { .config_path = config, .state_dir = state };
	struct http_bench h = { .done = { -1, -1 } };
	struct figure fig, whole, render;
	struct xlb_daemon *d = NULL;
	struct xlb_dp *dp = NULL;
	bool http = false;
	double setup_s = 0;
	char err[1024];
	size_t lines;
	int ret = 1;

	xlb_log_set_level(XLB_LOG_WARN);
	signal(SIGPIPE, SIG_IGN); /* as xlbd */
	if (geteuid() == 0) {
		int e = private_loopback();

		http = !e;
		if (e)
			fprintf(stderr,
				"bench_metrics: no network namespace (%s); no http figure\n",
				strerror(-e));
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(config, sizeof(config), "%s/xlb.yaml", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(sock, sizeof(sock), "%s/xlbd.sock", dir);
	if (write_config(config)) {
		perror("config");
		goto out;
	}
	if (xlb_daemon__open(&opts, &d, err, sizeof(err))) {
		fprintf(stderr, "bench_metrics: %s\n", err);
		goto out;
	}
	lines = count_lines(d);
	if (!measure(run_render, d, &render))
		goto out;
	report("render", false, &render);
	whole = render;
	if (!measure(run_render_text, d, &fig))
		goto out;
	report("render_text", false, &fig);

	if (geteuid() == 0 && !load_dp(d->cfg, &dp, &setup_s)) {
		d->ifs[0].dp = dp;
		d->n_ifs = 1;
		if (!measure(run_dp_counters, dp, &fig))
			goto out;
		report("dp_counters", true, &fig);
		if (!measure(run_counters, d, &fig))
			goto out;
		report("counters", true, &fig);
		if (!measure(run_render, d, &render))
			goto out;
		report("render", true, &render);
		whole = render;
		lines = count_lines(d);
	}
	if (http) {
		if (http_open(&h, d, sock) || !measure(run_http, &h, &whole))
			goto out;
		report("http", dp, &whole);
	}
	printf("{\"bench\":\"metrics\",\"what\":\"scrape\",\"vips\":%d,\"backends\":%d,"
	       "\"data_path\":%s,\"http\":%s,\"bytes\":%zu,\"lines\":%zu,\"ms\":%.2f,"
	       "\"cpu_ms\":%.2f,\"budget_ms\":%.0f,\"budget_ok\":%s,\"dp_setup_s\":%.1f}\n",
	       N_VIPS, N_VIPS * N_BACKENDS, dp ? "true" : "false", http ? "true" : "false",
	       last_bytes, lines, whole.median, whole.cpu, BUDGET_MS,
	       whole.median <= BUDGET_MS ? "true" : "false", setup_s);
	ret = 0;
out:
	http_close(&h);
	xlb_counters__free(&kept);
	if (d) {
		d->n_ifs = 0; /* the data path is ours, not the daemon's */
		xlb_daemon__close(d);
	}
	if (dp)
		xlb_dp__destroy(dp, err, sizeof(err));
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return ret;
}
