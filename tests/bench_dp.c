/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * make bench: ns/packet of the balancer's paths through BPF_PROG_TEST_RUN,
 * against a floor (MAC swap + XDP_TX) measured in the same run, and the
 * Maglev build time. One JSON line per measurement.
 *
 * wrr_new_flow and lc_new_flow are new_flow on a VIP of that algorithm (100
 * backends, weights 100..106): the wrr cursor step, or lc's two candidates
 * and their active counts plus the count's atomic increment.
 * stateless_new_flow is new_flow on a stateless maglev VIP: the VIP lookup
 * and the table slot, without the flow cache, the connection table or an
 * insert. The stateless VIPs have an address of their own (198.18.1.101),
 * as a stateless service would: the other VIPs' packets pay nothing for
 * them (the VIP filter marks only their address).
 *
 * Each path runs under bench_restore (tests/bpf/bench.bpf.c), which restores
 * the original frame before every iteration and, for new_flow, writes a
 * counter into the source address and port so that no iteration hits the
 * connection table. The balancer's own per-path counters must then move by
 * exactly the repeat count, or the figure is rejected.
 *
 * ratelimited is established on a VIP with a per-VIP limit too high to
 * drop (each packet spends a token of its CPU's lease; the clock and the
 * bucket's lock once per lease); ratelimited_lease1 takes every token from
 * the shared bucket (clock + spin lock per packet), the design leases
 * replace. Both must also move the "passed a VIP bucket" counter by the
 * repeat count, and lease1 the "went to the shared bucket" one.
 *
 * Then the multi-CPU picture: the same packet from two threads on two CPUs
 * at once (one bucket, so leases and lock contend; established against
 * ideal_est on two CPUs at once), and what one clock read
 * costs here (bench_clock*), the price of any limiter that reads the clock
 * on every packet.
 *
 * gue (forward: gue) is measured on established and stateless_new_flow
 * only, next to ipip in the same run: its VIPs have had one table change
 * (99 backends, then 100), so every packet looks its flow's slot up in
 * the previous table as in service. Its lines carry ratio_to_ipip (over the
 * same path in ipip, the two measured again in alternation, run by run:
 * measure_against_ipip()) and, for stateless_new_flow,
 * ratio_to_recorded_new_flow (over ipip's new_flow: a new flow recorded in
 * the connection table). docs/GUE.md gives the targets: established <=
 * 1.15x ipip, a stateless new flow <= 0.2x a recorded one. No ideal
 * reference is measured for gue.
 *
 * For experiments: `bench_dp PATH` measures only that path (new_flow,
 * established, ...), XLB_BENCH_MODE=MODE only that mode (ipip, gue,
 * l2dsr); XLB_BENCH_PROG_ID_FILE=PATH gets the balancer's program id
 * (scripts/profile_dp.sh); XLB_BENCH_CT=N sizes the connection table (flows per
 * family); XLB_BENCH_RUNS=1 prints every run's figure to stderr. Each line
 * also carries the fastest run (min_ns_per_pkt) of the path and of the floor:
 * on a shared machine the minimum is the less disturbed estimate.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/bench.skel.h"
#include "tests/bpf/ideal.h"
#include "tests/ideal.skel.h"
#include "lib/pkt.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/log.h"
#include "userspace/lib/maglev.h"
#include "userspace/lib/wrr.h"

#define REPEAT 1000000
#define RUNS 5
#define NBACKENDS 100

enum path {
	P_NEW_FLOW,
	P_ESTABLISHED,
	P_PASS,
	P_RATELIMITED,
	P_RATELIMITED_LEASE1,
	P_WRR_NEW_FLOW,	      /* new_flow on a wrr VIP: the next entry at this CPU's cursor */
	P_LC_NEW_FLOW,	      /* new_flow on an lc VIP: two candidates, their active counts */
	P_STATELESS_NEW_FLOW, /* new_flow on a stateless VIP: nothing recorded */
	P_MAX,
	P_RATELIMIT_DROP = P_MAX, /* measured apart: bench_ratelimit_drop() */
};
static const char *const path_names[] = { "new_flow",	   "established",	 "pass",
					  "ratelimited",   "ratelimited_lease1", "wrr_new_flow",
					  "lc_new_flow",   "stateless_new_flow", "ratelimit_drop" };

static bool new_flow_path(int p)
{
	return p == P_NEW_FLOW || p == P_WRR_NEW_FLOW || p == P_LC_NEW_FLOW ||
	       p == P_STATELESS_NEW_FLOW;
}

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

static int run_prog(int fd, const __u8 *pkt, size_t len, __u32 repeat, __u8 *out,
		    size_t *out_len, __u32 *retval, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	*retval = t.retval;
	*ns = t.duration; /* kernel: average ns per iteration */
	if (out_len)
		*out_len = t.data_size_out;
	return 0;
}

/* Measuring forward: gue: tx_gue must move by one per iteration too. */
static bool gue_paths;

/*
 * The counters a path must move by exactly one per iteration, in c[0..n-1];
 * returns n. Each is required: a limiter that never engaged, or a lease
 * that was not taken, rejects the figure.
 */
static int path_counters(struct xlb_dp *dp, enum path p, __u64 c[4])
{
	struct xlb_dp_stats s;
	int n;

	c[0] = c[1] = c[2] = c[3] = 0;
	if (xlb_dp__stats(dp, &s))
		return 3; /* all 0: nothing moves, the figure is rejected */
	switch (p) {
	case P_NEW_FLOW:
	case P_WRR_NEW_FLOW:
	case P_LC_NEW_FLOW:
	case P_STATELESS_NEW_FLOW:
		c[0] = s.tx_new_flow;
		n = 1;
		break;
	case P_PASS:
		c[0] = s.pass_not_vip;
		n = 1;
		break;
	case P_RATELIMIT_DROP: /* dropped, or passed on a token that came in */
		c[0] = s.drops[XLB_DROP_RATE_VIP] + s.rl_vip_pass;
		c[1] = s.drops[XLB_DROP_RATE_VIP];
		n = 2;
		break;
	case P_RATELIMITED_LEASE1:
		c[0] = s.tx_established;
		c[1] = s.rl_vip_pass;
		c[2] = s.rl_vip_leases;
		n = 3;
		break;
	case P_RATELIMITED:
		c[0] = s.tx_established;
		c[1] = s.rl_vip_pass;
		n = 2;
		break;
	default:
		c[0] = s.tx_established;
		n = 1;
		break;
	}
	if (gue_paths)
		c[n++] = s.tx_gue;
	return n;
}

static struct bench_bpf *load_harness(const __u8 *tpl, size_t len, bool new_flow, int target_fd)
{
	struct bench_bpf *h = bench_bpf__open();
	__u32 zero = 0;

	if (!h)
		return NULL;
	h->rodata->tpl_len = len;
	if (new_flow) {
		h->rodata->new_flow_saddr_off = 14 + 12 + 2; /* low half of the IPv4 source */
		h->rodata->new_flow_sport_off = 14 + 20;
	}
	if (bench_bpf__load(h)) {
		bench_bpf__destroy(h);
		return NULL;
	}
	memcpy(h->bss->tpl, tpl, len);
	if (bpf_map_update_elem(bpf_map__fd(h->maps.bench_target), &zero, &target_fd, BPF_ANY)) {
		bench_bpf__destroy(h);
		return NULL;
	}
	return h;
}

static int setup_vip(struct xlb_dp *dp, const char *name, enum xlb_algo algo,
		     enum xlb_forward fwd)
{
	struct xlb_dp_backend b[NBACKENDS];
	struct xlb_vip_addr v;
	char err[256];

	if (xlb_vip_addr__parse(name, &v, err, sizeof(err)) ||
	    xlb_dp__vip_add(dp, &v, algo, fwd, 0, err, sizeof(err)))
		goto fail;
	for (int i = 0; i < NBACKENDS; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].family = v.family; /* IPIP 4in4, 6in6 */
		if (v.family == XLB_AF_INET) {
			b[i].addr[0] = htonl(0xc6120000 | (10 + i)); /* 198.18.0.(10+i) */
		} else {
			b[i].addr[0] = htonl(0x20010002); /* 2001:2::(10+i) */
			b[i].addr[3] = htonl(10 + i);
		}
		b[i].weight = 100 + i % 7; /* wrr: a 10,295-entry sequence */
		b[i].mac[0] = 0x02;
		b[i].mac[5] = (__u8)i;
		/* The balancer acts only on frames to its own MAC: an l2dsr
		 * rewrite to the backend's MAC would make every repeat after the
		 * first pass. Backends with the balancer's MAC leave the frame
		 * addressed to it, so each repeat takes the same path, compare
		 * included (docs/KERNEL.md, "Test runs reuse the buffer").
		 */
		if (fwd == XLB_FWD_L2DSR)
			memcpy(b[i].mac, PKT_LB_MAC, 6);
	}
	/* gue: one table change first, so that packets look at the previous
	 * table as they do in service (the first table has none to look at).
	 */
	if (fwd == XLB_FWD_GUE && xlb_dp__set_backends(dp, &v, b, NBACKENDS - 1, err, sizeof(err)))
		goto fail;
	if (xlb_dp__set_backends(dp, &v, b, NBACKENDS, err, sizeof(err)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "bench: setting up %s: %s\n", name, err);
	return -1;
}

/* The fastest run of the last measure(): less disturbed by other load. */
static double last_min_ns;

/* Runs of REPEAT iterations a measure() takes (RUNS but in alternations). */
static int runs = RUNS;

/* Median ns/packet of fd on pkt; for balancer paths also checks counters. */
static int measure(struct xlb_dp *dp, int fd, const __u8 *pkt, size_t len, int path,
		   __u32 want_retval, double *out_ns, __u64 *on_path)
{
	__u8 out[PKT_MAX];
	double ns[RUNS] = { 0 };
	__u32 retval = 0;

	*on_path = 0;
	for (int r = 0; r < runs; r++) {
		__u64 before[4] = {}, after[4] = {};
		int ret, n = 0;

		if (path >= 0)
			n = path_counters(dp, path, before);
		ret = run_prog(fd, pkt, len, REPEAT, out, NULL, &retval, &ns[r]);

		if (getenv("XLB_BENCH_RUNS"))
			fprintf(stderr, "run %d: %.0f ns\n", r, ns[r]);
		if (ret) {
			fprintf(stderr, "bench: test run failed: %s\n", strerror(-ret));
			return ret;
		}
		if (retval != want_retval) {
			fprintf(stderr, "bench: verdict %u, expected %u\n", retval, want_retval);
			return -EPROTO;
		}
		if (path >= 0) {
			path_counters(dp, path, after);
			for (int i = 0; i < n; i++) {
				__u64 delta = after[i] - before[i];

				if (delta != REPEAT) {
					fprintf(stderr,
						"bench: %s: %llu of %d iterations took the path (counter %d); figure rejected\n",
						path_names[path], (unsigned long long)delta, REPEAT, i);
					return -EPROTO;
				}
			}
			*on_path += after[0] - before[0];
		}
	}
	last_min_ns = ns[0];
	for (int r = 1; r < runs; r++)
		if (ns[r] < last_min_ns)
			last_min_ns = ns[r];
	*out_ns = median(ns, runs);
	return 0;
}

/*
 * Ideal references (tests/bpf/ideal.bpf.c): the least a load balancer does
 * on a path, measured in the same invocation as the path, on the same
 * packet and by the same method (directly, or under bench_restore with the
 * same new-flow rewrite). established and the rate-limited paths are judged
 * against ideal_est (one LRU hit, the MAC from the entry; ipip: plus the
 * least encapsulation), new_flow, wrr_new_flow and lc_new_flow against
 * ideal_new (a miss and an insert); the IPv6 established packet (mode
 * ip6ip6, bench_established6()) against ideal_est_ip6ip6. pass and
 * stateless_new_flow (no table) have none. The references' own counters
 * must show that every iteration took the intended branch, or the bench
 * fails.
 */
static const __u8 ideal_backend_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xbe };
static const __be32 ideal_daddr = __builtin_bswap32(0xc612000a); /* 198.18.0.10 */
static __u32 ideal_next_flow; /* harness counter: new keys across measurements */

static struct ideal_bpf *load_ideal(__u32 ct_size, __be32 ipip_src4, const __be32 *ipip_src6)
{
	struct ideal_bpf *ih = ideal_bpf__open();

	if (!ih)
		return NULL;
	bpf_map__set_max_entries(ih->maps.ideal_flows,
				 ct_size ? ct_size : XLB_CONNTRACK_DEFAULT_SIZE);
	bpf_map__set_max_entries(ih->maps.ideal_flows6,
				 ct_size ? ct_size : XLB_CONNTRACK_DEFAULT_SIZE);
	ih->rodata->ipip_src4 = ipip_src4;
	memcpy((void *)ih->rodata->ipip_src6, ipip_src6, 16);
	if (ideal_bpf__load(ih)) {
		ideal_bpf__destroy(ih);
		return NULL;
	}
	memcpy(ih->bss->new_backend.mac, ideal_backend_mac, 6);
	ih->bss->new_backend.daddr = ideal_daddr;
	return ih;
}

/* Records pkt's IPv6 flow in the references' IPv6 table. */
static int ideal_record6(struct ideal_bpf *ih, const __u8 *pkt)
{
	struct xlb_flow6_key k = { .proto = IPPROTO_TCP };
	struct ideal_flow6 v = {};

	memcpy(k.saddr, pkt + 14 + 8, 16);
	memcpy(k.daddr, pkt + 14 + 24, 16);
	memcpy(&k.sport, pkt + 14 + 40, 2);
	memcpy(&k.dport, pkt + 14 + 42, 2);
	memcpy(v.mac, ideal_backend_mac, 6);
	v.daddr[0] = htonl(0x20010002); /* 2001:2::a */
	v.daddr[3] = htonl(10);
	return bpf_map_update_elem(bpf_map__fd(ih->maps.ideal_flows6), &k, &v, BPF_ANY) ? -errno
										       : 0;
}

/* The references' counters, summed over the CPUs. */
static struct ideal_counts ideal_sum(const struct ideal_bpf *ih)
{
	struct ideal_counts sum = {};

	for (int i = 0; i < IDEAL_MAX_CPUS; i++) {
		sum.hits += ih->bss->counts[i].hits;
		sum.misses += ih->bss->counts[i].misses;
		sum.inserts += ih->bss->counts[i].inserts;
		sum.errors += ih->bss->counts[i].errors;
	}
	return sum;
}

/*
 * Whether a reference hit its table on each of want iterations between the
 * counts c0 and c1, and did nothing else; says which when not.
 */
static bool ideal_all_hits(const char *name, const struct ideal_counts *c0,
			   const struct ideal_counts *c1, __u64 want)
{
	if (c1->hits - c0->hits == want && c1->misses == c0->misses &&
	    c1->inserts == c0->inserts && c1->errors == c0->errors)
		return true;
	fprintf(stderr, "bench: reference %s: %llu hits of %llu iterations; figure rejected\n",
		name, (unsigned long long)(c1->hits - c0->hits), (unsigned long long)want);
	return false;
}

/* Records pkt's flow in the references' table, as the path's is. */
static int ideal_record(struct ideal_bpf *ih, const __u8 *pkt)
{
	struct xlb_flow4_key k = { .proto = IPPROTO_TCP };
	struct ideal_flow v = { .daddr = ideal_daddr };

	memcpy(&k.saddr, pkt + 14 + 12, 4);
	memcpy(&k.daddr, pkt + 14 + 16, 4);
	memcpy(&k.sport, pkt + 14 + 20, 2);
	memcpy(&k.dport, pkt + 14 + 22, 2);
	memcpy(v.mac, ideal_backend_mac, 6);
	return bpf_map_update_elem(bpf_map__fd(ih->maps.ideal_flows), &k, &v, BPF_ANY) ? -errno
										       : 0;
}

static const char *reference_name(int p, bool ipip)
{
	switch (p) {
	case P_ESTABLISHED:
	case P_RATELIMITED:
	case P_RATELIMITED_LEASE1:
		return ipip ? "ideal_est_ipip" : "ideal_est";
	case P_NEW_FLOW:
	case P_WRR_NEW_FLOW:
	case P_LC_NEW_FLOW:
		return ipip ? "ideal_new_ipip" : "ideal_new";
	default:
		return NULL;
	}
}

static __u16 ipv4_csum(const __u8 *h)
{
	__u32 sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (h[i] << 8) | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * Measures path p's reference on pkt (direct: without the harness, as the
 * path was) and writes its JSON columns into cols. Returns 0, or < 0 with a
 * message when the reference did not take its branch on every iteration.
 */
static int measure_reference(struct ideal_bpf *ih, int p, bool ipip, bool direct,
			     const __u8 *pkt, size_t len, double path_ns, double harness_ns,
			     char *cols, size_t n)
{
	const char *name = reference_name(p, ipip);
	bool est = !new_flow_path(p);
	struct bpf_program *prog;
	struct bench_bpf *h = NULL;
	__u64 hits, misses, inserts, errors, want = (__u64)RUNS * REPEAT;
	struct ideal_counts c0, c1;
	__u8 out[PKT_MAX];
	size_t out_len = 0;
	double ref_ns, tmp;
	__u64 ignored;
	__u32 rv;
	int fd;

	if (!name) {
		snprintf(cols, n,
			 ",\"reference\":null,\"reference_ns_per_pkt\":null,\"ratio_to_reference\":null");
		return 0;
	}
	prog = bpf_object__find_program_by_name(ih->obj, name);
	if (!prog)
		return -ENOENT;
	if (est && ideal_record(ih, pkt)) /* the packet's flow recorded, as the path's is */
		return -EIO;
	fd = bpf_program__fd(prog);
	if (!direct) {
		h = load_harness(pkt, len, !est, fd);
		if (!h)
			return -EINVAL;
		h->bss->counter = ideal_next_flow;
		fd = bpf_program__fd(h->progs.bench_restore);
	}
	c0 = ideal_sum(ih);
	if (measure(NULL, fd, pkt, len, -1, XDP_TX, &ref_ns, &ignored)) {
		fprintf(stderr, "bench: reference %s for %s failed; figure rejected\n", name,
			path_names[p]);
		goto fail;
	}
	c1 = ideal_sum(ih);
	hits = c1.hits - c0.hits;
	misses = c1.misses - c0.misses;
	inserts = c1.inserts - c0.inserts;
	errors = c1.errors - c0.errors;
	if (errors || (est && (hits != want || misses || inserts)) ||
	    (!est && (hits || misses != want || inserts != want))) {
		fprintf(stderr,
			"bench: reference %s: %llu hits, %llu misses, %llu inserts, %llu errors in %llu iterations; figure rejected\n",
			name, (unsigned long long)hits, (unsigned long long)misses,
			(unsigned long long)inserts, (unsigned long long)errors,
			(unsigned long long)want);
		goto fail;
	}
	/* The last iteration's output must be the intended packet. */
	if (run_prog(fd, pkt, len, 1, out, &out_len, &rv, &tmp) || rv != XDP_TX ||
	    memcmp(out, ideal_backend_mac, 6) || memcmp(out + 6, PKT_LB_MAC, 6) ||
	    /* new flows: the harness rewrote the source, compare up to it */
	    (!ipip && (out_len != len || memcmp(out + 12, pkt + 12, est ? len - 12 : 14))) ||
	    (ipip && (out_len != len + 20 || out[14] != 0x45 || out[14 + 9] != IPPROTO_IPIP ||
		      ipv4_csum(out + 14) != 0xffff || memcmp(out + 14 + 16, &ideal_daddr, 4) ||
		      memcmp(out + 34, pkt + 14, est ? len - 14 : 12)))) {
		fprintf(stderr, "bench: reference %s: output is not the intended packet\n", name);
		goto fail;
	}
	if (h) {
		ideal_next_flow = h->bss->counter;
		bench_bpf__destroy(h);
	}
	snprintf(cols, n,
		 ",\"reference\":\"%s\",\"reference_ns_per_pkt\":%.1f,\"ratio_to_reference\":%.2f,"
		 "\"delta_vs_reference_ns\":%.1f,\"ratio_to_reference_without_harness\":%.2f,"
		 "\"min_reference_ns_per_pkt\":%.1f",
		 name, ref_ns, path_ns / ref_ns, path_ns - ref_ns,
		 (path_ns - harness_ns) / (ref_ns - harness_ns), last_min_ns);
	return 0;
fail:
	if (h)
		bench_bpf__destroy(h);
	return -EPROTO;
}

/*
 * A gue path against the same path in ipip, in alternation: one run of
 * each, RUNS times, so that load from elsewhere on a shared machine falls
 * on both alike. *ratio is the median of the rounds' gue/ipip ratios,
 * *ipip_ns ipip's median. Counters are checked as in measure().
 */
static int measure_against_ipip(struct xlb_dp *dp, int p, const __u8 *gue_pkt,
				const __u8 *ipip_pkt, size_t len, double *ratio, double *ipip_ns)
{
	struct bench_bpf *hg = load_harness(gue_pkt, len, new_flow_path(p), xlb_dp__prog_fd(dp));
	struct bench_bpf *hi = load_harness(ipip_pkt, len, new_flow_path(p), xlb_dp__prog_fd(dp));
	double g[RUNS], i4[RUNS], r[RUNS];
	__u64 ignored;
	int ret = -EINVAL;

	if (!hg || !hi)
		goto out;
	runs = 1;
	for (int k = 0; k < RUNS; k++) {
		gue_paths = false;
		ret = measure(dp, bpf_program__fd(hi->progs.bench_restore), ipip_pkt, len, p,
			      XDP_TX, &i4[k], &ignored);
		gue_paths = true;
		if (!ret)
			ret = measure(dp, bpf_program__fd(hg->progs.bench_restore), gue_pkt, len, p,
				      XDP_TX, &g[k], &ignored);
		if (ret)
			break;
		r[k] = g[k] / i4[k];
	}
	runs = RUNS;
	if (!ret) {
		*ratio = median(r, RUNS);
		*ipip_ns = median(i4, RUNS);
	}
out:
	if (hg)
		bench_bpf__destroy(hg);
	if (hi)
		bench_bpf__destroy(hi);
	return ret;
}

/* One thread of a two-CPU run. */
struct worker {
	int fd, cpu;
	const __u8 *pkt;
	size_t len;
	pthread_barrier_t *start;
	double ns;
	__u32 retval;
	int ret;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	__u8 out[PKT_MAX];
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) ? -EINVAL : 0;
	pthread_barrier_wait(w->start);
	if (!w->ret)
		w->ret = run_prog(w->fd, w->pkt, w->len, REPEAT, out, NULL, &w->retval, &w->ns);
	return NULL;
}

/* Runs fd on pkt on CPUs 0 and 1 at once, REPEAT times each. */
static void run_2cpu(int fd, const __u8 *pkt, size_t len, struct worker w[2])
{
	pthread_barrier_t start;
	pthread_t t[2];

	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .fd = fd, .cpu = i, .pkt = pkt, .len = len,
					.start = &start };
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
}

/* measure() with two threads on CPUs 0 and 1 at once; ns is their mean. */
static int measure_2cpu(struct xlb_dp *dp, int fd, const __u8 *pkt, size_t len, int path,
			double *out_ns, __u64 *on_path)
{
	double ns[RUNS];

	*on_path = 0;
	for (int r = 0; r < RUNS; r++) {
		struct worker w[2];
		__u64 before[4], after[4];
		int n;

		n = path_counters(dp, path, before);
		run_2cpu(fd, pkt, len, w);
		path_counters(dp, path, after);
		for (int i = 0; i < 2; i++) {
			if (w[i].ret || (w[i].retval != XDP_TX && path != P_RATELIMIT_DROP)) {
				fprintf(stderr, "bench: 2-CPU run failed (%d, verdict %u)\n", w[i].ret,
					w[i].retval);
				return -EPROTO;
			}
		}
		for (int i = 0; i < n; i++) {
			__u64 delta = after[i] - before[i];

			/* a limit of 1/s may let a token through in a run */
			if (path == P_RATELIMIT_DROP && i == 1 && delta + 2 >= 2 * REPEAT)
				continue;
			if (delta != 2 * REPEAT) {
				fprintf(stderr,
					"bench: %s on 2 CPUs: %llu of %d iterations took the path (counter %d); figure rejected\n",
					path_names[path], (unsigned long long)delta, 2 * REPEAT, i);
				return -EPROTO;
			}
		}
		*on_path += path == P_RATELIMIT_DROP ? after[1] - before[1] : after[0] - before[0];
		ns[r] = (w[0].ns + w[1].ns) / 2;
	}
	*out_ns = median(ns, RUNS);
	return 0;
}

/*
 * ideal_est on pkt's flow on one CPU (*one_ns) and on two at once (*two_ns,
 * the same flow on both, as bench_2cpu's established packet): its counters
 * must show a hit for every iteration.
 */
static int measure_ideal_2cpu(struct ideal_bpf *ih, const __u8 *pkt, size_t len,
			      double *one_ns, double *two_ns)
{
	int fd = bpf_program__fd(ih->progs.ideal_est);
	struct ideal_counts c0, c1;
	double ns[RUNS];
	__u64 ignored;

	if (ideal_record(ih, pkt))
		return -EIO;
	c0 = ideal_sum(ih);
	if (measure(NULL, fd, pkt, len, -1, XDP_TX, one_ns, &ignored))
		return -EPROTO;
	for (int r = 0; r < RUNS; r++) {
		struct worker w[2];

		run_2cpu(fd, pkt, len, w);
		if (w[0].ret || w[1].ret || w[0].retval != XDP_TX || w[1].retval != XDP_TX)
			return -EPROTO;
		ns[r] = (w[0].ns + w[1].ns) / 2;
	}
	c1 = ideal_sum(ih);
	if (!ideal_all_hits("ideal_est on 1 and 2 CPUs", &c0, &c1, (__u64)RUNS * REPEAT * 3))
		return -EPROTO;
	*two_ns = median(ns, RUNS);
	return 0;
}

/*
 * The established l2dsr packet on two CPUs: unlimited (against ideal_est on
 * two CPUs, and that on one: what the shared table costs the reference),
 * leased, lease 1.
 */
static int bench_2cpu(struct xlb_dp *dp, struct ideal_bpf *ih, const char *vipname,
		      const __u8 *pkt, size_t len)
{
	static const enum path paths[] = { P_ESTABLISHED, P_RATELIMITED, P_RATELIMITED_LEASE1 };
	struct xlb_dp_limits lim;
	struct xlb_vip_addr va;
	double ns, est_ns = 0, ref1_ns, ref2_ns;
	char err[256], refcols[160];
	__u64 on_path;

	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return 0;
	if (xlb_vip_addr__parse(vipname, &va, err, sizeof(err)))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		memset(&lim, 0, sizeof(lim));
		if (paths[i] != P_ESTABLISHED) {
			lim.pps = lim.burst = 0xffffffffU;
			lim.lease = paths[i] == P_RATELIMITED_LEASE1 ? 1 : 0;
		}
		if (xlb_dp__vip_set_limits(dp, &va, &lim, err, sizeof(err)) ||
		    xlb_dp__vip_limits(dp, &va, &lim)) {
			fprintf(stderr, "bench: setting limits: %s\n", err);
			return -EINVAL;
		}
		if (measure_2cpu(dp, xlb_dp__prog_fd(dp), pkt, len, paths[i], &ns, &on_path))
			return -EPROTO;
		refcols[0] = 0;
		if (paths[i] == P_ESTABLISHED) {
			est_ns = ns;
			if (measure_ideal_2cpu(ih, pkt, len, &ref1_ns, &ref2_ns))
				return -EPROTO;
			snprintf(refcols, sizeof(refcols),
				 ",\"reference\":\"ideal_est\",\"reference_ns_per_pkt\":%.1f,"
				 "\"ratio_to_reference\":%.2f,\"reference_1cpu_ns_per_pkt\":%.1f",
				 ref2_ns, ns / ref2_ns, ref1_ns);
		}
		printf("{\"path\":\"%s\",\"mode\":\"l2dsr\",\"cpus\":2,\"ns_per_pkt\":%.1f,"
		       "\"iterations_on_path\":%llu,\"lease\":%u,\"delta_vs_established_ns\":%.1f,"
		       "\"repeat\":%d,\"runs\":%d%s}\n",
		       path_names[paths[i]], ns, (unsigned long long)on_path, lim.lease, ns - est_ns,
		       REPEAT, RUNS, refcols);
		fflush(stdout);
	}
	memset(&lim, 0, sizeof(lim));
	return xlb_dp__vip_set_limits(dp, &va, &lim, err, sizeof(err));
}

/*
 * established for IPv6 in ipip mode (IP6IP6) on a VIP of its own, with its
 * floor and its reference, ideal_est_ip6ip6, all under the restoring
 * harness (the encapsulation grows the frame). One line, mode "ip6ip6".
 */
static int bench_established6(struct xlb_dp *dp, struct bench_bpf *floor_h,
			      struct ideal_bpf *ih)
{
	struct pkt_flow f = { .family = 6, .saddr = "2001:2::1", .daddr = "2001:2::100",
			      .sport = 12345, .dport = 80, .proto = IPPROTO_TCP,
			      .tcp_flags = 0x10, .payload_len = 6 };
	double ns, min_ns, floor_ns, ref_ns, tmp;
	struct bench_bpf *h = NULL, *rh = NULL;
	__u8 pkt[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&f, pkt), out_len = 0;
	struct ideal_counts c0, c1;
	__u64 on_path, ignored;
	int ret = -EPROTO;
	__u32 rv;

	if (len % 8 || setup_vip(dp, "[2001:2::100]:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP))
		return -EINVAL;
	/* the flow in the table first, as for IPv4 */
	if (run_prog(xlb_dp__prog_fd(dp), pkt, len, 1, out, NULL, &rv, &tmp) || rv != XDP_TX)
		return -EPROTO;
	h = load_harness(pkt, len, false, xlb_dp__prog_fd(dp));
	if (!h || measure(dp, bpf_program__fd(h->progs.bench_restore), pkt, len, P_ESTABLISHED,
			  XDP_TX, &ns, &on_path))
		goto out;
	min_ns = last_min_ns;
	if (run_prog(bpf_program__fd(h->progs.bench_restore), pkt, len, 1, out, &out_len, &rv,
		     &tmp) ||
	    rv != XDP_TX || out_len != len + 40 || out[14 + 6] != IPPROTO_IPV6 ||
	    memcmp(out + 14 + 40, pkt + 14, len - 14)) {
		fprintf(stderr, "bench: established/ip6ip6 output is not the intended packet\n");
		goto out;
	}
	if (measure(dp, bpf_program__fd(floor_h->progs.bench_floor), pkt, len, -1, XDP_TX,
		    &floor_ns, &ignored) ||
	    ideal_record6(ih, pkt))
		goto out;
	rh = load_harness(pkt, len, false, bpf_program__fd(ih->progs.ideal_est_ip6ip6));
	if (!rh)
		goto out;
	c0 = ideal_sum(ih);
	if (measure(NULL, bpf_program__fd(rh->progs.bench_restore), pkt, len, -1, XDP_TX, &ref_ns,
		    &ignored))
		goto out;
	c1 = ideal_sum(ih);
	if (!ideal_all_hits("ideal_est_ip6ip6", &c0, &c1, (__u64)RUNS * REPEAT))
		goto out;
	if (run_prog(bpf_program__fd(rh->progs.bench_restore), pkt, len, 1, out, &out_len, &rv,
		     &tmp) ||
	    rv != XDP_TX || out_len != len + 40 || memcmp(out, ideal_backend_mac, 6) ||
	    out[14 + 6] != IPPROTO_IPV6 || memcmp(out + 14 + 40, pkt + 14, len - 14)) {
		fprintf(stderr, "bench: reference ideal_est_ip6ip6: output is not the intended packet\n");
		goto out;
	}
	printf("{\"path\":\"established\",\"mode\":\"ip6ip6\",\"family\":6,\"ns_per_pkt\":%.1f,"
	       "\"floor_ns_per_pkt\":%.1f,\"iterations_on_path\":%llu,\"min_ns_per_pkt\":%.1f,"
	       "\"repeat\":%d,\"runs\":%d,\"reference\":\"ideal_est_ip6ip6\","
	       "\"reference_ns_per_pkt\":%.1f,\"ratio_to_reference\":%.2f,"
	       "\"delta_vs_reference_ns\":%.1f}\n",
	       ns, floor_ns, (unsigned long long)on_path, min_ns, REPEAT, RUNS, ref_ns, ns / ref_ns,
	       ns - ref_ns);
	fflush(stdout);
	ret = 0;
out:
	if (h)
		bench_bpf__destroy(h);
	if (rh)
		bench_bpf__destroy(rh);
	return ret;
}

/*
 * A flood over a VIP's limit (1 packet/s, burst 1): what each dropped packet
 * costs over the same packet unlimited, on one CPU and on two at once.
 */
static int bench_ratelimit_drop(struct xlb_dp *dp, const char *vipname, const __u8 *pkt,
				size_t len)
{
	struct xlb_dp_limits lim = { .pps = 1, .burst = 1 }, off = {};
	double ns[RUNS], one_ns, two_ns = 0, est1_ns, est2_ns = 0;
	__u64 on_path = 0, on_path2 = 0, ignored;
	struct xlb_vip_addr va;
	__u8 out[PKT_MAX];
	char err[256];
	bool two = libbpf_num_possible_cpus() >= 2 && sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	int fd = xlb_dp__prog_fd(dp);

	if (xlb_vip_addr__parse(vipname, &va, err, sizeof(err)) ||
	    measure(dp, fd, pkt, len, P_ESTABLISHED, XDP_TX, &est1_ns, &ignored) ||
	    (two && measure_2cpu(dp, fd, pkt, len, P_ESTABLISHED, &est2_ns, &ignored)) ||
	    xlb_dp__vip_set_limits(dp, &va, &lim, err, sizeof(err)))
		return -EPROTO;
	for (int r = 0; r < RUNS; r++) {
		__u64 before[4], after[4];
		__u32 rv;

		path_counters(dp, P_RATELIMIT_DROP, before);
		if (run_prog(fd, pkt, len, REPEAT, out, NULL, &rv, &ns[r]))
			return -EPROTO;
		path_counters(dp, P_RATELIMIT_DROP, after);
		if (after[0] - before[0] != REPEAT || after[1] - before[1] + 2 < REPEAT) {
			fprintf(stderr, "bench: ratelimit_drop: %llu of %d dropped; figure rejected\n",
				(unsigned long long)(after[1] - before[1]), REPEAT);
			return -EPROTO;
		}
		on_path += after[1] - before[1];
	}
	one_ns = median(ns, RUNS);
	if (two && measure_2cpu(dp, fd, pkt, len, P_RATELIMIT_DROP, &two_ns, &on_path2))
		return -EPROTO;
	printf("{\"path\":\"ratelimit_drop\",\"mode\":\"l2dsr\",\"cpus\":1,\"ns_per_pkt\":%.1f,"
	       "\"iterations_on_path\":%llu,\"delta_vs_established_ns\":%.1f,\"repeat\":%d,"
	       "\"runs\":%d}\n",
	       one_ns, (unsigned long long)on_path, one_ns - est1_ns, REPEAT, RUNS);
	if (two)
		printf("{\"path\":\"ratelimit_drop\",\"mode\":\"l2dsr\",\"cpus\":2,\"ns_per_pkt\":%.1f,"
		       "\"iterations_on_path\":%llu,\"delta_vs_established_ns\":%.1f,\"repeat\":%d,"
		       "\"runs\":%d}\n",
		       two_ns, (unsigned long long)on_path2, two_ns - est2_ns, REPEAT, RUNS);
	fflush(stdout);
	return xlb_dp__vip_set_limits(dp, &va, &off, err, sizeof(err));
}

/* One clock read per packet, over the floor, on the same packet. */
static int bench_clock(struct bench_bpf *h, const __u8 *pkt, size_t len)
{
	double floor_ns, ktime_ns, coarse_ns;
	__u64 ignored;

	if (measure(NULL, bpf_program__fd(h->progs.bench_floor), pkt, len, -1, XDP_TX, &floor_ns,
		    &ignored) ||
	    measure(NULL, bpf_program__fd(h->progs.bench_clock), pkt, len, -1, XDP_TX, &ktime_ns,
		    &ignored) ||
	    measure(NULL, bpf_program__fd(h->progs.bench_clock_coarse), pkt, len, -1, XDP_TX,
		    &coarse_ns, &ignored))
		return -EPROTO;
	printf("{\"bench\":\"clock\",\"floor_ns_per_pkt\":%.1f,\"ktime_get_ns_extra\":%.1f,"
	       "\"ktime_get_coarse_ns_extra\":%.1f,\"repeat\":%d,\"runs\":%d}\n",
	       floor_ns, ktime_ns - floor_ns, coarse_ns - floor_ns, REPEAT, RUNS);
	fflush(stdout);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Build time, and the spread of slots: the fullest and emptiest backend's
 * share over the mean (equal weights), which a table too small for the
 * backend count makes uneven.
 */
static int bench_maglev(__u32 n, __u32 size)
{
	static struct xlb_maglev_backend b[XLB_MAX_BACKENDS_PER_VIP];
	static __u32 count[XLB_MAX_BACKENDS_PER_VIP];
	double t[RUNS];
	__u32 *table = malloc(size * sizeof(*table)), lo = UINT32_MAX, hi = 0;

	if (!table || n > XLB_MAX_BACKENDS_PER_VIP) {
		free(table);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].id = i;
		b[i].family = XLB_AF_INET;
		b[i].addr[0] = htonl(0xc6120000 + i + 1);
		b[i].weight = 100;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ms();

		if (xlb_maglev__build(b, n, size, table)) {
			free(table);
			return -EINVAL;
		}
		t[r] = now_ms() - t0;
	}
	memset(count, 0, sizeof(count));
	for (__u32 i = 0; i < size; i++)
		count[table[i]]++;
	for (__u32 i = 0; i < n; i++) {
		lo = count[i] < lo ? count[i] : lo;
		hi = count[i] > hi ? count[i] : hi;
	}
	printf("{\"bench\":\"maglev_build\",\"backends\":%u,\"table_size\":%u,\"ms\":%.2f,"
	       "\"runs\":%d,\"max_share_over_mean\":%.3f,\"min_share_over_mean\":%.3f}\n",
	       n, size, median(t, RUNS), RUNS, hi * (double)n / size, lo * (double)n / size);
	free(table);
	return 0;
}

/* The wrr sequence build (O(backends x length)): xlbd pays it on every
 * publication of a wrr VIP, e.g. each step of a slow-start ramp.
 */
static int bench_wrr(__u32 n, __u32 wmin, __u32 spread)
{
	static __u32 ids[XLB_MAX_BACKENDS_PER_VIP], w[XLB_MAX_BACKENDS_PER_VIP];
	static __u32 seq[XLB_WRR_SEQ_MAX];
	double t[RUNS];
	int len = 0;

	for (__u32 i = 0; i < n; i++) {
		ids[i] = i;
		w[i] = wmin + i % spread;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ms();

		len = xlb_wrr__build(ids, w, n, XLB_WRR_SEQ_MAX, seq);
		if (len < 0)
			return len;
		t[r] = now_ms() - t0;
	}
	printf("{\"bench\":\"wrr_build\",\"backends\":%u,\"weights\":\"%u..%u\",\"length\":%d,"
	       "\"ms\":%.2f,\"runs\":%d}\n",
	       n, wmin, wmin + spread - 1, len, median(t, RUNS), RUNS);
	return 0;
}

/* For scripts/profile_dp.sh: which loaded program is this run's balancer. */
static void write_prog_id(const char *path, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	FILE *f;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%u\n", info.id);
	fclose(f);
}

/*
 * One CPU for every single-CPU figure: a VM's vCPUs are disturbed
 * differently (one ran 1.5x slower than the other for minutes here), and a
 * path and the reference it is judged by must share one. The two-CPU
 * workers pin themselves.
 */
static void stay_on_one_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		fprintf(stderr, "bench: could not stay on CPU %d; figures may mix CPUs\n", cpu);
}

int main(int argc, char **argv)
{
	/* production sizes; an interface's MTU, so forwarding pays its check */
	struct xlb_dp_opts opts = { .mtu = 1500 };
	const char *only = argc > 1 ? argv[1] : NULL, *ct = getenv("XLB_BENCH_CT");
	const char *only_mode = getenv("XLB_BENCH_MODE");
	static const struct {
		const char *vip, *wrr_vip, *lc_vip, *stateless_vip;
		enum xlb_forward fwd;
		const char *mode;
		__u16 port, wrr_port, lc_port, stateless_port;
		unsigned int paths; /* 0: all; else a mask of 1 << enum path */
	} modes[] = {
		{ "198.18.1.100:80/tcp", "198.18.1.100:8080/tcp", "198.18.1.100:8081/tcp",
		  "198.18.1.101:8082/tcp", XLB_FWD_IPIP, "ipip", 80, 8080, 8081, 8082, 0 },
		{ "198.18.1.100:9080/tcp", NULL, NULL, "198.18.1.101:9082/tcp", XLB_FWD_GUE, "gue",
		  9080, 0, 0, 9082, 1 << P_ESTABLISHED | 1 << P_STATELESS_NEW_FLOW },
		{ "198.18.1.100:443/tcp", "198.18.1.100:8443/tcp", "198.18.1.100:8444/tcp",
		  "198.18.1.101:8445/tcp", XLB_FWD_L2DSR, "l2dsr", 443, 8443, 8444, 8445, 0 },
	};
	/* ipip's figures, for gue's ratios */
	double ipip_ns[P_MAX] = { 0 };
	const size_t nmodes = sizeof(modes) / sizeof(modes[0]);
	struct xlb_vip_addr sv;
	__u8 pkt[PKT_MAX], out[PKT_MAX];
	struct xlb_dp *dp;
	struct bench_bpf *floor_h;
	struct ideal_bpf *ideal_h = NULL;
	char err[256];
	int ret = 1;

	if (geteuid() != 0) {
		fprintf(stderr, "bench: needs root (BPF_PROG_TEST_RUN)\n");
		return 77;
	}
	xlb_log_set_level(XLB_LOG_WARN);
	xlb_log_capture_libs();
	stay_on_one_cpu();
	inet_pton(AF_INET, "198.19.0.0", &opts.ipip_src4);
	inet_pton(AF_INET6, "2001:2:0:ffff::", opts.ipip_src6);
	memcpy(opts.if_mac, PKT_LB_MAC, 6);
	if (ct)
		opts.conntrack_size = strtoul(ct, NULL, 0);
	if (xlb_dp__open(&opts, &dp, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	for (size_t m = 0; m < nmodes; m++) {
		if (setup_vip(dp, modes[m].vip, XLB_ALGO_MAGLEV, modes[m].fwd) ||
		    (modes[m].wrr_vip &&
		     setup_vip(dp, modes[m].wrr_vip, XLB_ALGO_WRR, modes[m].fwd)) ||
		    (modes[m].lc_vip && setup_vip(dp, modes[m].lc_vip, XLB_ALGO_LC, modes[m].fwd)) ||
		    setup_vip(dp, modes[m].stateless_vip, XLB_ALGO_MAGLEV, modes[m].fwd))
			goto out;
		if (xlb_vip_addr__parse(modes[m].stateless_vip, &sv, err, sizeof(err)) ||
		    xlb_dp__vip_set_stateless(dp, &sv, true, err, sizeof(err))) {
			fprintf(stderr, "bench: making %s stateless: %s\n", modes[m].stateless_vip,
				err);
			goto out;
		}
	}
	if (getenv("XLB_BENCH_PROG_ID_FILE"))
		write_prog_id(getenv("XLB_BENCH_PROG_ID_FILE"), xlb_dp__prog_fd(dp));
	floor_h = bench_bpf__open_and_load();
	if (!floor_h)
		goto out;
	ideal_h = load_ideal(opts.conntrack_size, opts.ipip_src4, opts.ipip_src6);
	if (!ideal_h) {
		fprintf(stderr, "bench: loading the ideal references failed\n");
		goto out;
	}

	for (size_t m = 0; m < nmodes; m++) {
		double established_ns = 0, new_flow_ns = 0;
		bool gue = modes[m].fwd == XLB_FWD_GUE;

		if (only_mode && strcmp(only_mode, modes[m].mode))
			continue;
		gue_paths = gue;
		for (int p = 0; p < P_MAX; p++) {
			/* 56 bytes: the harness restores whole 8-byte words */
			struct pkt_flow f = { .family = 4, .saddr = "198.18.0.1",
					      .daddr = p == P_PASS		    ? "198.18.1.200"
						       : p == P_STATELESS_NEW_FLOW ? "198.18.1.101"
										   : "198.18.1.100",
					      .sport = 12345,
					      .dport = p == P_WRR_NEW_FLOW	 ? modes[m].wrr_port
						       : p == P_LC_NEW_FLOW	 ? modes[m].lc_port
						       : p == P_STATELESS_NEW_FLOW ? modes[m].stateless_port
										   : modes[m].port,
					      .proto = IPPROTO_TCP,
					      .tcp_flags = new_flow_path(p) ? 0x02 : 0x10,
					      .payload_len = 2 };
			size_t len = pkt_build(&f, pkt), out_len = 0;
			struct bench_bpf *h;
			double ns, floor_ns, harness_ns, tmp, min_ns, floor_min_ns;
			bool direct, limited = p == P_RATELIMITED || p == P_RATELIMITED_LEASE1;
			struct xlb_dp_limits lim = {};
			struct xlb_vip_addr va;
			__u64 on_path, ignored;
			__u32 rv;
			char extra[256] = "", refcols[256] = "";

			if ((only && strcmp(only, path_names[p])) ||
			    (modes[m].paths && !(modes[m].paths & 1u << p)))
				continue;
			if (len % 8) {
				fprintf(stderr, "bench: template of %zu bytes\n", len);
				goto out;
			}
			if (limited) { /* counted against the bucket, never over it */
				lim.pps = lim.burst = 0xffffffffU;
				lim.lease = p == P_RATELIMITED_LEASE1 ? 1 : 0;
				if (xlb_vip_addr__parse(modes[m].vip, &va, err, sizeof(err)) ||
				    xlb_dp__vip_set_limits(dp, &va, &lim, err, sizeof(err)) ||
				    xlb_dp__vip_limits(dp, &va, &lim)) {
					fprintf(stderr, "bench: setting limits: %s\n", err);
					goto out;
				}
			}
			if ((p == P_ESTABLISHED || limited) && /* the flow in the table first */
			    run_prog(xlb_dp__prog_fd(dp), pkt, len, 1, out, &out_len, &rv, &tmp))
				goto out;
			/* A packet left as it was (pass) or rewritten in place (l2dsr
			 * MAC rewrite) takes the same path on every repeat: measure
			 * the balancer alone. Otherwise go through the harness and
			 * also measure what the harness itself costs.
			 */
			direct = p == P_PASS ||
				 ((p == P_ESTABLISHED || limited) && modes[m].fwd == XLB_FWD_L2DSR);
			harness_ns = 0;
			if (!direct) {
				h = load_harness(pkt, len, new_flow_path(p),
						 bpf_program__fd(floor_h->progs.bench_floor));
				if (!h || measure(dp, bpf_program__fd(h->progs.bench_restore), pkt,
						  len, -1, XDP_TX, &harness_ns, &ignored))
					goto out;
				bench_bpf__destroy(h);
			}
			h = load_harness(pkt, len, new_flow_path(p), xlb_dp__prog_fd(dp));
			if (!h)
				goto out;
			if (measure(dp, direct ? xlb_dp__prog_fd(dp) : bpf_program__fd(h->progs.bench_restore),
				    pkt, len, p, p == P_PASS ? XDP_PASS : XDP_TX, &ns, &on_path) ||
			    ((min_ns = last_min_ns), 0) ||
			    measure(dp, bpf_program__fd(floor_h->progs.bench_floor), pkt, len, -1,
				    XDP_TX, &floor_ns, &ignored)) {
				bench_bpf__destroy(h);
				goto out;
			}
			floor_min_ns = last_min_ns;
			if (harness_ns)
				harness_ns -= floor_ns; /* restore + tail call only */
			/* The last iteration's output must be the intended result. */
			if (run_prog(bpf_program__fd(h->progs.bench_restore), pkt, len, 1, out,
				     &out_len, &rv, &tmp) ||
			    (p == P_PASS && (out_len != len || memcmp(out, pkt, len))) ||
			    (p != P_PASS && modes[m].fwd == XLB_FWD_IPIP &&
			     (out_len != len + 20 || out[14 + 9] != 4)) ||
			    /* UDP to the GUE port; 4 more bytes with an alternate */
			    (p != P_PASS && gue &&
			     ((out_len != len + 40 && out_len != len + 44) ||
			      out[14 + 9] != IPPROTO_UDP ||
			      (out[14 + 22] << 8 | out[14 + 23]) != XLB_GUE_DEFAULT_PORT)) ||
			    (p != P_PASS && modes[m].fwd == XLB_FWD_L2DSR &&
			     (out_len != len || out[0] != 0x02))) {
				fprintf(stderr, "bench: %s/%s output is not the intended packet\n",
					path_names[p], modes[m].mode);
				bench_bpf__destroy(h);
				goto out;
			}
			bench_bpf__destroy(h);
			/* No ideal GUE program: gue is judged against ipip instead. */
			if (gue)
				snprintf(refcols, sizeof(refcols),
					 ",\"reference\":null,\"reference_ns_per_pkt\":null,"
					 "\"ratio_to_reference\":null");
			else if (measure_reference(ideal_h, p, modes[m].fwd == XLB_FWD_IPIP, direct,
						   pkt, len, ns, harness_ns, refcols,
						   sizeof(refcols)))
				goto out;
			if (modes[m].fwd == XLB_FWD_IPIP)
				ipip_ns[p] = ns;
			if (p == P_ESTABLISHED)
				established_ns = ns;
			if (p == P_NEW_FLOW)
				new_flow_ns = ns;
			if (!gue && (p == P_WRR_NEW_FLOW || p == P_LC_NEW_FLOW ||
				     p == P_STATELESS_NEW_FLOW))
				snprintf(extra, sizeof(extra), ",\"delta_vs_new_flow_ns\":%.1f",
					 ns - new_flow_ns);
			if (gue) {
				struct pkt_flow fi = f;
				__u8 ipip_pkt[PKT_MAX];
				double ratio, ns_ipip;

				fi.dport = p == P_STATELESS_NEW_FLOW ? modes[0].stateless_port
								     : modes[0].port;
				if (pkt_build(&fi, ipip_pkt) != len ||
				    /* its flow recorded first, as for established above */
				    run_prog(xlb_dp__prog_fd(dp), ipip_pkt, len, 1, out, NULL, &rv,
					     &tmp) ||
				    measure_against_ipip(dp, p, pkt, ipip_pkt, len, &ratio, &ns_ipip)) {
					fprintf(stderr, "bench: %s: gue against ipip failed\n",
						path_names[p]);
					goto out;
				}
				snprintf(extra, sizeof(extra),
					 ",\"alternate\":%s,\"ratio_to_ipip\":%.2f,"
					 "\"ipip_ns_per_pkt_alternating\":%.1f",
					 out_len == len + 44 ? "true" : "false", ratio, ns_ipip);
			}
			if (gue && p == P_STATELESS_NEW_FLOW && ipip_ns[P_NEW_FLOW] > 0)
				snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
					 ",\"ratio_to_recorded_new_flow\":%.2f",
					 ns / ipip_ns[P_NEW_FLOW]);
			if (limited) {
				struct xlb_dp_limits off = {};

				snprintf(extra, sizeof(extra),
					 ",\"lease\":%u,\"delta_vs_established_ns\":%.1f", lim.lease,
					 ns - established_ns);
				if (xlb_dp__vip_set_limits(dp, &va, &off, err, sizeof(err))) {
					fprintf(stderr, "bench: clearing limits: %s\n", err);
					goto out;
				}
			}
			printf("{\"path\":\"%s\",\"mode\":\"%s\",\"ns_per_pkt\":%.1f,\"floor_ns_per_pkt\":%.1f,"
			       "\"ratio\":%.2f,\"iterations_on_path\":%llu,\"harness_ns_per_pkt\":%.1f,"
			       "\"ratio_without_harness\":%.2f,\"min_ns_per_pkt\":%.1f,"
			       "\"min_floor_ns_per_pkt\":%.1f,\"repeat\":%d,\"runs\":%d%s%s}\n",
			       path_names[p], modes[m].mode, ns, floor_ns, ns / floor_ns,
			       (unsigned long long)on_path, harness_ns, (ns - harness_ns) / floor_ns,
			       min_ns, floor_min_ns, REPEAT, RUNS, extra, refcols);
			fflush(stdout);
		}
	}
	gue_paths = false;
	if ((!only || !strcmp(only, "established")) && (!only_mode || !strcmp(only_mode, "ip6ip6")) &&
	    bench_established6(dp, floor_h, ideal_h))
		goto out;
	if (only)
		goto done;
	{
		/* the l2dsr established packet (its flow is in the table) */
		struct pkt_flow f = { .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.100",
				      .sport = 12345, .dport = 443, .proto = IPPROTO_TCP,
				      .tcp_flags = 0x10, .payload_len = 2 };
		size_t len = pkt_build(&f, pkt);

		if (bench_clock(floor_h, pkt, len) || bench_2cpu(dp, ideal_h, modes[2].vip, pkt, len) ||
		    bench_ratelimit_drop(dp, modes[2].vip, pkt, len))
			goto out;
	}
	if (bench_maglev(1000, XLB_MAGLEV_DEFAULT_SIZE) || bench_maglev(1000, XLB_MAGLEV_MAX_SIZE) ||
	    bench_maglev(5000, XLB_MAGLEV_DEFAULT_SIZE) || bench_maglev(5000, XLB_MAGLEV_MAX_SIZE))
		goto out;
	if (bench_wrr(100, 100, 7) || bench_wrr(1000, 1, 1000) ||
	    bench_wrr(XLB_MAX_BACKENDS_PER_VIP, XLB_WEIGHT_MAX - 4095, 4096))
		goto out;
done:
	ret = 0;
out:
	if (ideal_h)
		ideal_bpf__destroy(ideal_h);
	xlb_dp__close(dp);
	return ret;
}
