/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * make bench, part 2: the connection table at its default size (1,048,576
 * flows a family) filled with concurrent flows through BPF_PROG_TEST_RUN.
 * One JSON line per figure:
 *
 * - scale_fill: flows recorded (the table is per-CPU LRU, so each CPU fills
 *   its share: size / possible CPUs) and what the maps hold against the
 *   memlock limit (fdinfo "memlock", per map and in total);
 * - scale_established: ns/packet of established packets, each iteration a
 *   different flow (tests/bpf/bench.bpf.c bench_restore cycling through
 *   `flows` flows), in the full table and in a near-empty one, against the
 *   floor of the same run; the harness's own cost is measured and shown;
 *   IPv4 and then IPv6 ("family"), each through its own table and cache;
 * - scale_evict: with the table full, new flows evict the least recently
 *   used; a sample of evicted flows then sends again (ACK, not SYN) and is
 *   chosen again by Maglev: the share that lands on its old backend, with
 *   the backend set unchanged and after one of the 100 backends was removed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/bench.skel.h"
#include "lib/pkt.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/log.h"

#define REPEAT 1000000
#define RUNS 5
#define NBACKENDS 100
#define SAMPLE 10000
/*
 * The family measured: its VIP, where bench_restore writes a flow's number
 * (the source address's low half and the source port) and the source
 * address byte that tells fill()'s CPUs apart.
 */
struct family {
	int family; /* XLB_AF_INET or XLB_AF_INET6 */
	const char *vip, *saddr, *daddr, *flows_map;
	size_t saddr_off, sport_off, cpu_off;
	int payload_len; /* bench_restore copies frames in 8-byte words */
};

static const struct family ipv4 = {
    .family = XLB_AF_INET,
    .vip = "198.18.1.100:443/tcp",
    .saddr = "198.18.0.1",
    .daddr = "198.18.1.100",
    .flows_map = XLB_MAP_FLOWS4,
    .saddr_off = 14 + 12 + 2,
    .sport_off = 14 + 20,
    .cpu_off = 14 + 12 + 1,
    .payload_len = 2, /* 56 bytes */
};
/* The source's byte 13 is 18 (0x12), as CPU 0's fill() writes it. */
static const struct family ipv6 = {
    .family = XLB_AF_INET6,
    .vip = "[2001:2::100]:443/tcp",
    .saddr = "2001:2::12:1",
    .daddr = "2001:2::100",
    .flows_map = XLB_MAP_FLOWS6,
    .saddr_off = 14 + 8 + 14,
    .sport_off = 14 + 40,
    .cpu_off = 14 + 8 + 13,
    .payload_len = 6, /* 80 bytes */
};
static const struct family *fam = &ipv4;

static __u8 tpl_syn[PKT_MAX], tpl_ack[PKT_MAX];
static size_t tpl_len;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) ? -EINVAL : 0;
}

static int run_prog(int fd, const __u8 *pkt, size_t len, __u32 repeat, __u8 *out, __u32 *retval,
		    double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	*retval = t.retval;
	*ns = t.duration;
	return 0;
}

/* Flow number c as bench_restore writes it into a frame. */
static void apply_flow(__u8 *pkt, __u32 c)
{
	__u16 sport = (__u16)c, saddr = (__u16)(c >> 16);

	memcpy(pkt + fam->sport_off, &sport, 2);
	memcpy(pkt + fam->saddr_off, &saddr, 2);
}

static void flow_key(__u32 c, struct xlb_flow4_key *k)
{
	__u8 pkt[PKT_MAX];

	memcpy(pkt, tpl_ack, tpl_len);
	apply_flow(pkt, c);
	memset(k, 0, sizeof(*k));
	memcpy(&k->saddr, pkt + 14 + 12, 4);
	memcpy(&k->daddr, pkt + 14 + 16, 4);
	memcpy(&k->sport, pkt + fam->sport_off, 2);
	memcpy(&k->dport, pkt + fam->sport_off + 2, 2);
	k->proto = IPPROTO_TCP;
}

/* A harness that tail-calls target_fd; tpl with flow numbers from `first`,
 * wrapping at mod (0: never).
 */
static struct bench_bpf *harness(const __u8 *tpl, __u32 first, __u32 mod, int target_fd)
{
	struct bench_bpf *h = bench_bpf__open();
	__u32 zero = 0;

	if (!h)
		return NULL;
	h->rodata->tpl_len = tpl_len;
	h->rodata->new_flow_saddr_off = fam->saddr_off;
	h->rodata->new_flow_sport_off = fam->sport_off;
	h->rodata->flow_mod = mod;
	if (bench_bpf__load(h))
		goto fail;
	memcpy(h->bss->tpl, tpl, tpl_len);
	h->bss->counter = first;
	if (bpf_map_update_elem(bpf_map__fd(h->maps.bench_target), &zero, &target_fd, BPF_ANY))
		goto fail;
	return h;
fail:
	bench_bpf__destroy(h);
	return NULL;
}

/* Backend i of the VIP's pool: 198.18.0.(10+i) or 2001:2::(10+i), MAC's
 * last byte i.
 */
static struct xlb_dp_backend pool_backend(int i)
{
	struct xlb_dp_backend b = {.family = fam->family, .weight = 100};

	if (fam->family == XLB_AF_INET) {
		b.addr[0] = htonl(0xc6120000 | (10 + i));
	} else {
		b.addr[0] = htonl(0x20010002);
		b.addr[3] = htonl(10 + i);
	}
	b.mac[0] = 0x02;
	b.mac[5] = (__u8)i;
	return b;
}

static int setup(struct xlb_dp **out, int nbackends)
{
	struct xlb_dp_opts opts = {0}; /* production sizes */
	struct xlb_dp_backend b[NBACKENDS];
	struct xlb_vip_addr v;
	char err[256];

	inet_pton(AF_INET, "198.19.0.0", &opts.ipip_src4);
	memcpy(opts.if_mac, PKT_LB_MAC, 6);
	if (xlb_dp__open(&opts, out, err, sizeof(err)))
		goto fail;
	if (xlb_vip_addr__parse(fam->vip, &v, err, sizeof(err)) ||
	    xlb_dp__vip_add(*out, &v, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, 0, err, sizeof(err)))
		goto fail;
	for (int i = 0; i < nbackends; i++)
		b[i] = pool_backend(i);
	if (xlb_dp__set_backends(*out, &v, b, nbackends, err, sizeof(err)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "bench_scale: %s\n", err);
	return -1;
}

/* Backends 1..99: backend 0 is removed. */
static int remove_backend0(struct xlb_dp *dp)
{
	struct xlb_dp_backend b[NBACKENDS];
	struct xlb_vip_addr v;
	char err[256];

	for (int i = 1; i < NBACKENDS; i++)
		b[i] = pool_backend(i);
	if (xlb_vip_addr__parse(fam->vip, &v, err, sizeof(err)) ||
	    xlb_dp__set_backends(dp, &v, b + 1, NBACKENDS - 1, err, sizeof(err))) {
		fprintf(stderr, "bench_scale: %s\n", err);
		return -1;
	}
	return 0;
}

static int map_fd(struct xlb_dp *dp, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(xlb_dp__object(dp), name);

	return m ? bpf_map__fd(m) : -1;
}

static long long flows_in(struct xlb_dp *dp)
{
	struct xlb_flow6_key k, next; /* room for either family's key */
	int fd = map_fd(dp, fam->flows_map);
	long long n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static long long memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Runs harness h, `repeat` iterations, on cpu; returns -errno. */
struct fill {
	int fd, cpu, ret;
	__u32 repeat;
};

static void *fill_run(void *arg)
{
	struct fill *f = arg;
	__u8 out[PKT_MAX];
	__u32 rv;
	double ns;

	f->ret = pin_cpu(f->cpu);
	if (!f->ret)
		f->ret = run_prog(f->fd, tpl_syn, tpl_len, f->repeat, out, &rv, &ns);
	if (!f->ret && rv != XDP_TX)
		f->ret = -EPROTO;
	return NULL;
}

/* Records n flows on each of ncpu CPUs: flow numbers 0..n-1, the CPUs'
 * sources told apart by one byte (IPv4: 198.18.x.x on CPU 0, 198.19.x.x
 * on CPU 1).
 */
static int fill(struct xlb_dp *dp, int ncpu, __u32 n)
{
	struct bench_bpf *h[2] = {};
	struct fill f[2] = {};
	pthread_t t[2];
	int ret = 0;

	for (int c = 0; c < ncpu; c++) {
		__u8 tpl[PKT_MAX];

		memcpy(tpl, tpl_syn, tpl_len);
		tpl[fam->cpu_off] = 18 + c;
		h[c] = harness(tpl, 0, 0, xlb_dp__prog_fd(dp));
		if (!h[c]) {
			ret = -EINVAL;
			goto out;
		}
		f[c] = (struct fill){
		    .fd = bpf_program__fd(h[c]->progs.bench_restore), .cpu = c, .repeat = n};
		pthread_create(&t[c], NULL, fill_run, &f[c]);
	}
	for (int c = 0; c < ncpu; c++) {
		pthread_join(t[c], NULL);
		if (f[c].ret)
			ret = f[c].ret;
	}
out:
	for (int c = 0; c < ncpu; c++)
		bench_bpf__destroy(h[c]);
	return ret;
}

/*
 * Established packets cycling through flows 0..flows-1 (from CPU 0's fill):
 * median ns/packet, its harness cost and the floor, all on CPU 0.
 */
static int established(struct xlb_dp *dp, struct bench_bpf *floor_h, const char *table,
		       long long in_table, __u32 flows)
{
	double ns[RUNS], hns[RUNS], fns[RUNS], est, har, flo;
	struct xlb_dp_stats before, after;
	struct bench_bpf *h, *hf;
	__u8 out[PKT_MAX];
	__u32 rv;

	h = harness(tpl_ack, 0, flows, xlb_dp__prog_fd(dp));
	hf = harness(tpl_ack, 0, flows, bpf_program__fd(floor_h->progs.bench_floor));
	if (!h || !hf)
		goto fail;
	for (int r = 0; r < RUNS; r++) {
		if (xlb_dp__stats(dp, &before) ||
		    run_prog(bpf_program__fd(h->progs.bench_restore), tpl_ack, tpl_len, REPEAT, out,
			     &rv, &ns[r]) ||
		    xlb_dp__stats(dp, &after) || rv != XDP_TX)
			goto fail;
		if (after.tx_established - before.tx_established != REPEAT) {
			fprintf(stderr,
				"bench_scale: %llu of %d iterations established; rejected\n",
				(unsigned long long)(after.tx_established - before.tx_established),
				REPEAT);
			goto fail;
		}
		if (run_prog(bpf_program__fd(hf->progs.bench_restore), tpl_ack, tpl_len, REPEAT,
			     out, &rv, &hns[r]) ||
		    run_prog(bpf_program__fd(floor_h->progs.bench_floor), tpl_ack, tpl_len, REPEAT,
			     out, &rv, &fns[r]))
			goto fail;
	}
	est = median(ns, RUNS);
	har = median(hns, RUNS);
	flo = median(fns, RUNS);
	printf("{\"bench\":\"scale_established\",\"family\":%d,\"table\":\"%s\","
	       "\"flows_in_table\":%lld,\"flows_cycled\":%u,\"ns_per_pkt\":%.1f,"
	       "\"harness_ns_per_pkt\":%.1f,"
	       "\"floor_ns_per_pkt\":%.1f,\"ratio\":%.2f,\"ratio_without_harness\":%.2f,"
	       "\"repeat\":%d,\"runs\":%d}\n",
	       fam->family == XLB_AF_INET ? 4 : 6, table, in_table, flows, est, har - flo, flo,
	       est / flo, (est - (har - flo)) / flo, REPEAT, RUNS);
	fflush(stdout);
	bench_bpf__destroy(h);
	bench_bpf__destroy(hf);
	return 0;
fail:
	fprintf(stderr, "bench_scale: established run failed\n");
	bench_bpf__destroy(h);
	bench_bpf__destroy(hf);
	return -EPROTO;
}

/* Backend index (MAC's last byte) of flow c in the table, -1 if absent. */
static int table_backend(struct xlb_dp *dp, __u32 c)
{
	struct xlb_flow4_key k;
	struct xlb_backend be;
	struct xlb_flow f;

	flow_key(c, &k);
	if (bpf_map_lookup_elem(map_fd(dp, XLB_MAP_FLOWS4), &k, &f) ||
	    bpf_map_lookup_elem(map_fd(dp, XLB_MAP_BACKENDS), &f.backend_id, &be))
		return -1;
	return be.mac[5];
}

/*
 * `evict` new flows on CPU 0 push out its least recently used ones. Then
 * each sampled flow (the first SAMPLE in the table from number `first` on,
 * their backends recorded before) sends an ACK: where does it go now?
 */
static int evict_and_replay(struct xlb_dp *dp, __u32 first, __u32 evict, __u32 *next_new,
			    bool drop_backend0)
{
	static int orig[SAMPLE];
	static __u32 num[SAMPLE];
	int evicted = 0, same = 0, moved_ok = 0, on_removed = 0, fd = xlb_dp__prog_fd(dp);
	struct bench_bpf *h;
	__u8 pkt[PKT_MAX], out[PKT_MAX];
	__u32 rv;
	double ns;

	/* the first SAMPLE flows from `first` on that are in the table */
	for (int i = 0; i < SAMPLE; first++) {
		if (first >= XLB_CONNTRACK_DEFAULT_SIZE) {
			fprintf(stderr, "bench_scale: too few flows left in the table\n");
			return -EPROTO;
		}
		orig[i] = table_backend(dp, first);
		if (orig[i] >= 0)
			num[i++] = first;
	}
	h = harness(tpl_syn, *next_new, 0, fd);
	if (!h || run_prog(bpf_program__fd(h->progs.bench_restore), tpl_syn, tpl_len, evict, out,
			   &rv, &ns)) {
		bench_bpf__destroy(h);
		return -EPROTO;
	}
	bench_bpf__destroy(h);
	*next_new += evict;
	if (drop_backend0 && remove_backend0(dp))
		return -EPROTO;
	for (int i = 0; i < SAMPLE; i++) {
		bool gone = table_backend(dp, num[i]) < 0;

		memcpy(pkt, tpl_ack, tpl_len);
		apply_flow(pkt, num[i]);
		if (run_prog(fd, pkt, tpl_len, 1, out, &rv, &ns) || rv != XDP_TX)
			return -EPROTO;
		if (!gone)
			continue;
		evicted++;
		if (drop_backend0 && orig[i] == 0) {
			on_removed++;
			continue;
		}
		moved_ok++;
		same += out[5] == orig[i];
	}
	printf("{\"bench\":\"scale_evict\",\"backends\":%d,\"backend_removed\":%s,"
	       "\"new_flows_inserted\":%u,\"sampled_flows\":%d,\"sampled_evicted\":%d,"
	       "\"evicted_on_removed_backend\":%d,\"evicted_same_backend\":%d,"
	       "\"same_backend_share\":%.4f}\n",
	       NBACKENDS, drop_backend0 ? "true" : "false", evict, SAMPLE, evicted, on_removed,
	       same, moved_ok ? (double)same / moved_ok : 0);
	fflush(stdout);
	return 0;
}

/* Measures family f from now on: its SYN and ACK templates. */
static void use_family(const struct family *f)
{
	struct pkt_flow p = {.family = f->family == XLB_AF_INET ? 4 : 6,
			     .saddr = f->saddr,
			     .daddr = f->daddr,
			     .sport = 12345,
			     .dport = 443,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x02,
			     .payload_len = f->payload_len};

	fam = f;
	tpl_len = pkt_build(&p, tpl_syn);
	p.tcp_flags = 0x10;
	pkt_build(&p, tpl_ack);
}

/*
 * IPv6: established packets through xlb_flows6 (and its flow cache), near
 * empty and full, as for IPv4.
 */
static int scale_ipv6(struct bench_bpf *floor_h, int ncpu, __u32 per_cpu)
{
	struct xlb_dp *dp = NULL;
	int ret = -1;

	use_family(&ipv6);
	if (setup(&dp, NBACKENDS) || fill(dp, 1, 1024) ||
	    established(dp, floor_h, "near_empty", flows_in(dp), 1024))
		goto out;
	xlb_dp__close(dp);
	dp = NULL;
	if (setup(&dp, NBACKENDS) || fill(dp, ncpu, per_cpu))
		goto out;
	if (established(dp, floor_h, "full", flows_in(dp), 1024) ||
	    established(dp, floor_h, "full", flows_in(dp), 16384))
		goto out;
	ret = 0;
out:
	xlb_dp__close(dp);
	return ret;
}

int main(void)
{
	/* XLB_BENCH_FAMILY=4 or 6: that family alone (experiments) */
	const char *only = getenv("XLB_BENCH_FAMILY");
	int ncpu = libbpf_num_possible_cpus();
	struct bench_bpf *floor_h = NULL;
	struct xlb_dp *dp = NULL;
	long long total = 0, in_table;
	__u32 per_cpu, next_new;
	struct bpf_map *m;
	int ret = 1;

	if (geteuid() != 0) {
		fprintf(stderr, "bench_scale: needs root (BPF_PROG_TEST_RUN)\n");
		return 77;
	}
	if (ncpu < 1 || ncpu > 2 || sysconf(_SC_NPROCESSORS_ONLN) < ncpu) {
		fprintf(stderr, "bench_scale: written for 1 or 2 CPUs, all online\n");
		return 77;
	}
	xlb_log_set_level(XLB_LOG_WARN);
	xlb_log_capture_libs();
	per_cpu = XLB_CONNTRACK_DEFAULT_SIZE / ncpu; /* BPF_F_NO_COMMON_LRU splits it */
	floor_h = bench_bpf__open_and_load();
	if (!floor_h || pin_cpu(0))
		goto out;
	if (only && !strcmp(only, "6")) {
		ret = scale_ipv6(floor_h, ncpu, per_cpu) ? 1 : 0;
		goto out;
	}
	use_family(&ipv4);

	/* Near-empty: 1,024 flows in a table sized for 1,048,576. */
	if (setup(&dp, NBACKENDS) || fill(dp, 1, 1024))
		goto out;
	in_table = flows_in(dp);
	if (established(dp, floor_h, "near_empty", in_table, 1024))
		goto out;
	xlb_dp__close(dp);
	dp = NULL;

	if (setup(&dp, NBACKENDS) || fill(dp, ncpu, per_cpu))
		goto out;
	in_table = flows_in(dp);
	printf(
	    "{\"bench\":\"scale_fill\",\"conntrack_size\":%d,\"cpus\":%d,\"flows_in_table\":%lld",
	    XLB_CONNTRACK_DEFAULT_SIZE, ncpu, in_table);
	bpf_object__for_each_map(m, xlb_dp__object(dp))
	{
		long long b = memlock(bpf_map__fd(m));

		if (b < 0)
			continue;
		total += b;
		if (!strcmp(bpf_map__name(m), XLB_MAP_FLOWS4) ||
		    !strcmp(bpf_map__name(m), XLB_MAP_FLOWS6))
			printf(",\"memlock_%s\":%lld", bpf_map__name(m), b);
	}
	printf(",\"memlock_all_maps\":%lld,\"bytes_per_flow4\":%.1f}\n", total,
	       (double)memlock(map_fd(dp, XLB_MAP_FLOWS4)) / XLB_CONNTRACK_DEFAULT_SIZE);
	fflush(stdout);
	if (established(dp, floor_h, "full", in_table, 1024) ||
	    established(dp, floor_h, "full", in_table, 16384) ||
	    established(dp, floor_h, "full", in_table, per_cpu))
		goto out;

	/* New flows beyond the table: CPU 0's oldest flows go first. */
	next_new = 1U << 24;
	if (evict_and_replay(dp, 0, per_cpu / 2, &next_new, false) ||
	    evict_and_replay(dp, 0, per_cpu / 2, &next_new, true))
		goto out;
	xlb_dp__close(dp);
	dp = NULL;
	if ((!only || strcmp(only, "4")) && scale_ipv6(floor_h, ncpu, per_cpu))
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench_scale: failed\n");
	xlb_dp__close(dp);
	bench_bpf__destroy(floor_h);
	return ret;
}
