/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * make bench: the connection table at its default size, full. One JSON
 * line per figure.
 *
 * 1. Fills the IPv4 table with XLB_CONNTRACK_DEFAULT_SIZE (1,048,576)
 *    distinct TCP flows through the real program (bench_restore writes a
 *    counter into the source address and port). The table is an LRU with a
 *    list per CPU (BPF_F_NO_COMMON_LRU), each holding size / CPUs flows, so
 *    each CPU inserts its share, as RSS spreads flows on a NIC.
 * 2. Reports the kernel's entry count and the map's memory (fdinfo memlock).
 * 3. Established ns/packet: one flow in a one-flow table, one flow in the
 *    full table, and every flow of the full table in a scattered order
 *    (cache and TLB misses: the realistic case at scale). All must hit.
 * 4. Adds a 101st backend, then overflows one CPU's list with new flows:
 *    the LRU evicts its least recently used flows. Each victim's next
 *    packet is chosen again through Maglev; the share that lands on the
 *    backend it had shows how little an eviction moves (without a backend
 *    change it is 100%: Maglev is a function of the flow and the set).
 */
#include <errno.h>
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
#include "userspace/dp.h"
#include "userspace/log.h"

#define FLOWS XLB_CONNTRACK_DEFAULT_SIZE /* a power of two */
#define OVERFLOW 100000
#define REPEAT 1000000
#define RUNS 5
#define NBACKENDS 100
#define VIP "198.18.1.100:80/tcp"

static struct xlb_dp *dp;
static struct bench_bpf *h;
static int flows_fd;
static __u8 syn[PKT_MAX], ack[PKT_MAX];
static size_t pkt_len;

static int on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static __u64 counter(bool established)
{
	struct xlb_dp_stats s;

	if (xlb_dp__stats(dp, &s))
		return 0;
	return established ? s.tx_established : s.tx_new_flow;
}

/*
 * Runs tpl repeat times from flow first on, moving by step; returns the
 * kernel's ns per iteration, or < 0. want: iterations that must take the
 * path (established, or new flow).
 */
static double run(const __u8 *tpl, __u32 first, __u32 step, __u32 repeat, bool established,
		  __u64 want)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = tpl, .data_size_in = pkt_len,
		    .repeat = repeat);
	__u64 before = counter(established), got;

	memcpy(h->bss->tpl, tpl, pkt_len);
	h->bss->counter = first;
	h->data->counter_step = step;
	if (bpf_prog_test_run_opts(bpf_program__fd(h->progs.bench_restore), &t)) {
		fprintf(stderr, "bench_scale: test run: %s\n", strerror(errno));
		return -1;
	}
	got = counter(established) - before;
	if (t.retval != XDP_TX || got != want) {
		fprintf(stderr, "bench_scale: verdict %u, %llu of %llu iterations on the %s path\n",
			t.retval, (unsigned long long)got, (unsigned long long)want,
			established ? "established" : "new-flow");
		return -1;
	}
	return t.duration;
}

static double median_run(const __u8 *tpl, __u32 step)
{
	double ns[RUNS];

	for (int r = 0; r < RUNS; r++)
		if ((ns[r] = run(tpl, 0, step, REPEAT, true, REPEAT)) < 0)
			return -1;
	qsort(ns, RUNS, sizeof(ns[0]), cmp_double);
	return ns[RUNS / 2];
}

/* The key bench_restore gives flow c (the same bytes it writes). */
static struct xlb_flow4_key flow_key(__u32 c)
{
	struct xlb_flow4_key k;
	__u16 lo = (__u16)c, hi = (__u16)(c >> 16);

	memcpy(&k.saddr, syn + 14 + 12, 4);
	memcpy((__u8 *)&k.saddr + 2, &hi, 2);
	memcpy(&k.daddr, syn + 14 + 16, 4);
	memcpy(&k.sport, &lo, 2);
	memcpy(&k.dport, syn + 14 + 20 + 2, 2);
	k.proto = IPPROTO_TCP;
	memset(k.pad, 0, sizeof(k.pad));
	return k;
}

static long long memlock_bytes(int fd)
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

static int set_backends(int n)
{
	struct xlb_dp_backend b[NBACKENDS + 1];
	struct xlb_vip_addr v;
	char err[256];

	for (int i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].family = XLB_AF_INET;
		b[i].addr[0] = htonl(0xc6120000 | (10 + i)); /* 198.18.0.(10+i) */
		b[i].weight = 100;
		b[i].mac[0] = 0x02;
		b[i].mac[5] = (__u8)i;
	}
	if (xlb_vip_addr__parse(VIP, &v, err, sizeof(err)) ||
	    xlb_dp__set_backends(dp, &v, b, n, err, sizeof(err))) {
		fprintf(stderr, "bench_scale: backends: %s\n", err);
		return -1;
	}
	return 0;
}

static int setup(void)
{
	struct xlb_dp_opts o = { .if_mac = { 0x02, 0, 0, 0, 0, 1 } };
	struct pkt_flow f = { .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.100",
			      .sport = 1, .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = 0x02,
			      .payload_len = 2 }; /* 56 bytes: bench_restore copies 8 at a time */
	struct xlb_vip_addr v;
	struct bpf_map *m;
	char err[256];
	__u32 zero = 0;
	int fd;

	if (xlb_dp__open(&o, &dp, err, sizeof(err)) ||
	    xlb_vip_addr__parse(VIP, &v, err, sizeof(err)) ||
	    xlb_dp__vip_add(dp, &v, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, 0, err, sizeof(err))) {
		fprintf(stderr, "bench_scale: %s\n", err);
		return -1;
	}
	if (set_backends(NBACKENDS))
		return -1;
	m = bpf_object__find_map_by_name(xlb_dp__object(dp), XLB_MAP_FLOWS4);
	flows_fd = m ? bpf_map__fd(m) : -1;
	pkt_len = pkt_build(&f, syn);
	f.tcp_flags = 0x10;
	pkt_build(&f, ack);
	h = bench_bpf__open();
	if (h) {
		h->rodata->tpl_len = pkt_len;
		h->rodata->new_flow_saddr_off = 14 + 12 + 2; /* low half of the source */
		h->rodata->new_flow_sport_off = 14 + 20;
	}
	fd = xlb_dp__prog_fd(dp);
	if (!h || bench_bpf__load(h) || flows_fd < 0 ||
	    bpf_map_update_elem(bpf_map__fd(h->maps.bench_target), &zero, &fd, BPF_ANY)) {
		fprintf(stderr, "bench_scale: cannot load the harness\n");
		return -1;
	}
	h->data->counter_mask = FLOWS - 1;
	return 0;
}

int main(void)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 *orig = calloc(FLOWS, sizeof(*orig)), *victim = calloc(FLOWS, sizeof(*victim));
	__u32 victims = 0, same = 0;
	double fill_ns = 0, one_ns, full_one_ns, full_all_ns, evict_ns;
	struct xlb_flow4_key k;
	struct xlb_flow v;
	__u64 ct[2];
	long long mem;

	xlb_log_set_level(XLB_LOG_WARN);
	if (!orig || !victim || ncpus < 1 || FLOWS % ncpus || setup())
		return 1;

	/* One flow in an otherwise empty table, on CPU 0 (whose share it takes). */
	if (on_cpu(0) || run(syn, 0, 0, 1, false, 1) < 0 || (one_ns = median_run(ack, 0)) < 0)
		return 1;

	/* Fill: each CPU its share of the flows (flow 0 is in already). */
	for (int cpu = 0; cpu < ncpus; cpu++) {
		__u32 first = cpu * (FLOWS / ncpus);
		double ns;

		if (on_cpu(cpu) ||
		    (ns = run(syn, first, 1, FLOWS / ncpus, false, FLOWS / ncpus - !first)) < 0)
			return 1;
		fill_ns += ns / ncpus;
	}
	on_cpu(0);
	if (xlb_dp__conntrack_entries(dp, ct))
		ct[0] = 0;
	mem = memlock_bytes(flows_fd);
	printf("{\"bench\":\"conntrack_full\",\"flows_inserted\":%u,\"entries\":%llu,"
	       "\"cpus\":%d,\"memlock_bytes\":%lld,\"bytes_per_flow\":%.1f,"
	       "\"new_flow_ns_while_filling\":%.1f}\n",
	       FLOWS, (unsigned long long)ct[0], ncpus, mem, (double)mem / FLOWS, fill_ns);

	/* Established: the same flow in the full table, then every flow. */
	if ((full_one_ns = median_run(ack, 0)) < 0 ||
	    (full_all_ns = median_run(ack, 0x9e3779b1U | 1)) < 0)
		return 1;
	printf("{\"path\":\"established\",\"table\":\"1 flow\",\"ns_per_pkt\":%.1f}\n", one_ns);
	printf("{\"path\":\"established\",\"table\":\"full, one flow\",\"ns_per_pkt\":%.1f,"
	       "\"ratio_to_1_flow\":%.2f}\n",
	       full_one_ns, full_one_ns / one_ns);
	printf("{\"path\":\"established\",\"table\":\"full, every flow scattered\","
	       "\"ns_per_pkt\":%.1f,\"ratio_to_1_flow\":%.2f,\"iterations_on_path\":%d}\n",
	       full_all_ns, full_all_ns / one_ns, REPEAT * RUNS);

	/* Each flow's backend, then one more backend, then evictions. */
	for (__u32 c = 0; c < FLOWS; c++) {
		k = flow_key(c);
		if (bpf_map_lookup_elem(flows_fd, &k, &v)) {
			fprintf(stderr, "bench_scale: flow %u missing from the full table\n", c);
			return 1;
		}
		orig[c] = v.backend_id;
	}
	h->data->counter_mask = 0xffffffff; /* flows FLOWS and up: new */
	if (set_backends(NBACKENDS + 1) ||
	    (evict_ns = run(syn, FLOWS, 1, OVERFLOW, false, OVERFLOW)) < 0)
		return 1;
	/* The victims first: sending their packets evicts others in turn. */
	for (__u32 c = 0; c < FLOWS; c++) {
		k = flow_key(c);
		if (bpf_map_lookup_elem(flows_fd, &k, &v))
			victim[victims++] = c;
	}
	for (__u32 i = 0; i < victims; i++) {
		__u32 c = victim[i];

		/* its next packet, then where the table put it */
		k = flow_key(c);
		if (run(ack, c, 0, 1, false, 1) < 0 || bpf_map_lookup_elem(flows_fd, &k, &v))
			return 1;
		same += v.backend_id == orig[c];
	}
	printf("{\"bench\":\"lru_eviction\",\"new_flows_over_full\":%d,"
	       "\"new_flow_ns_evicting\":%.1f,\"victims\":%u,\"backends\":\"%d -> %d\","
	       "\"victims_back_on_their_backend\":%.4f}\n",
	       OVERFLOW, evict_ns, victims, NBACKENDS, NBACKENDS + 1,
	       victims ? (double)same / victims : 0.0);
	xlb_dp__close(dp);
	bench_bpf__destroy(h);
	free(orig);
	free(victim);
	return 0;
}
