/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Golden tests of the fleet contract (docs/OPERATIONS.md, "Several xlb
 * hosts"): every xlb host with the same backends must send every flow of
 * a maglev or source-hash VIP to the same backend, in every version,
 * because ECMP spreads one client's packets over several hosts and a
 * router change moves flows between them. So the Maglev builder, the
 * flow hash and its seed, and the table digest operators compare are
 * pinned here as constants: a change to
 * any of them fails with a message saying two versions would disagree.
 *
 * The choices are taken from the real balancer object through
 * BPF_PROG_TEST_RUN (the backend is read from the forwarded frame), so the
 * hash the kernel side runs is what is pinned; the tables come from the
 * userspace builder, alone and through the data-path library.
 *
 * If a change is meant to remap flows, it needs a fleet-wide migration
 * plan first; only then update the constants here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lib/pkt.h"
#include "maps/xlb_maps.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/log.h"
#include "userspace/lib/maglev.h"
#include "userspace/lib/table_digest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SIZE XLB_MAGLEV_DEFAULT_SIZE

#define BROKEN "fleet contract broken: "
#define TWO_VERSIONS "two xlb versions in one fleet would send the same flow to different backends"

struct golden_backend {
	const char *addr;
	__u16 weight;
};

/* IPv4 and IPv6 backends, uneven weights: what IPv4 VIPs forward to. */
static const struct golden_backend mixed[] = {
	{ "198.18.0.21", 100 }, { "198.18.0.22", 50 }, { "198.18.0.23", 200 },
	{ "2001:2::21", 100 },	{ "2001:2::22", 1 },   { "2001:2::23", 300 },
};
/* IPv6 VIPs take IPv6 backends only. */
static const struct golden_backend only6[] = {
	{ "2001:2::31", 100 }, { "2001:2::32", 100 }, { "2001:2::33", 25 }, { "2001:2::34", 170 },
};

/* The digests of their tables of SIZE slots (userspace/lib/table_digest.h). */
#define MIXED_DIGEST 0xcee4d0d1892c3695ULL
#define ONLY6_DIGEST 0x24a638972b03f2c9ULL

struct golden_set {
	const char *name;
	const struct golden_backend *b;
	size_t n;
	__u64 digest;
};

static const struct golden_set sets[] = {
	{ "mixed IPv4/IPv6", mixed, ARRAY_SIZE(mixed), MIXED_DIGEST },
	{ "IPv6", only6, ARRAY_SIZE(only6), ONLY6_DIGEST },
};

/* VIPs of the packet test, each over one of the sets (IPIP carries both). */
struct golden_vip {
	const char *vip;
	enum xlb_algo algo;
	const struct golden_set *set;
};

static const struct golden_vip vips[] = {
	{ "198.18.1.200:80/tcp", XLB_ALGO_MAGLEV, &sets[0] },
	{ "198.18.1.200:53/udp", XLB_ALGO_MAGLEV, &sets[0] },
	{ "198.18.1.201:80/tcp", XLB_ALGO_SOURCE_HASH, &sets[0] },
	{ "[2001:2::200]:80/tcp", XLB_ALGO_MAGLEV, &sets[1] },
	{ "[2001:2::200]:53/udp", XLB_ALGO_MAGLEV, &sets[1] },
	{ "[2001:2::201]:443/tcp", XLB_ALGO_SOURCE_HASH, &sets[1] },
};

/* A client flow to vips[vip] and the backend it must reach. */
struct golden_flow {
	int vip;
	const char *client;
	__u16 sport;
	const char *want;
};

static const struct golden_flow flows[] = {
	{ 0, "198.18.0.1", 40000, "2001:2::23" },
	{ 0, "198.18.0.1", 40001, "2001:2::21" },
	{ 0, "198.18.0.2", 40000, "2001:2::21" },
	{ 0, "198.18.7.77", 1024, "2001:2::21" },
	{ 0, "198.19.255.254", 65535, "2001:2::23" },
	{ 0, "198.18.200.3", 33333, "2001:2::21" },
	{ 0, "198.18.2.17", 41259, "198.18.0.21" },
	{ 0, "198.18.1.11", 41037, "198.18.0.22" },
	{ 0, "198.18.2.12", 41074, "198.18.0.23" },
	{ 0, "198.18.0.10", 41000, "2001:2::21" },
	{ 1, "198.18.0.1", 40000, "2001:2::23" },
	{ 1, "198.18.0.9", 5353, "2001:2::23" },
	{ 1, "198.18.3.3", 53, "2001:2::21" },
	{ 1, "198.18.99.1", 61000, "2001:2::23" },
	{ 1, "198.18.4.14", 41148, "198.18.0.21" },
	{ 1, "198.18.4.29", 41703, "198.18.0.22" },
	{ 1, "198.18.0.10", 41000, "198.18.0.23" },
	{ 1, "198.18.3.38", 42036, "2001:2::21" },
	{ 1, "198.18.1.11", 41037, "2001:2::23" },
	{ 2, "198.18.0.1", 40000, "2001:2::23" },
	{ 2, "198.18.0.1", 50000, "2001:2::23" }, /* same source: same backend */
	{ 2, "198.18.0.5", 40000, "198.18.0.21" },
	{ 2, "198.18.44.4", 12345, "2001:2::23" },
	{ 2, "198.18.2.22", 41444, "198.18.0.21" },
	{ 2, "198.18.2.32", 41814, "198.18.0.22" },
	{ 2, "198.18.2.27", 41629, "198.18.0.23" },
	{ 2, "198.18.1.26", 41592, "2001:2::21" },
	{ 3, "2001:2::1", 40000, "2001:2::34" },
	{ 3, "2001:2::1", 40001, "2001:2::32" },
	{ 3, "2001:2:0:1::abcd", 2222, "2001:2::31" },
	{ 3, "2001:2:ffff::7", 65535, "2001:2::34" },
	{ 3, "2001:2::100", 41000, "2001:2::31" },
	{ 3, "2001:2::105", 41185, "2001:2::32" },
	{ 3, "2001:2::102", 41074, "2001:2::33" },
	{ 3, "2001:2::103", 41111, "2001:2::34" },
	{ 4, "2001:2::1", 40000, "2001:2::32" },
	{ 4, "2001:2::5", 5353, "2001:2::34" },
	{ 4, "2001:2:0:9::9", 1, "2001:2::34" },
	{ 4, "2001:2::103", 41111, "2001:2::31" },
	{ 4, "2001:2::107", 41259, "2001:2::32" },
	{ 4, "2001:2::100", 41000, "2001:2::34" },
	{ 5, "2001:2::1", 40000, "2001:2::31" },
	{ 5, "2001:2::1", 50000, "2001:2::31" }, /* same source: same backend */
	{ 5, "2001:2:0:42::1", 40000, "2001:2::32" },
	{ 5, "2001:2::102", 41074, "2001:2::31" },
	{ 5, "2001:2::104", 41148, "2001:2::32" },
	{ 5, "2001:2::10d", 41481, "2001:2::33" },
	{ 5, "2001:2::100", 41000, "2001:2::34" },
};

/* Three hand-made slots and their digest: pins the digest's definition. */
#define DEFINITION_DIGEST 0xa0c475cd6a3b702cULL

static struct xlb_maglev_backend maglev_backend(const struct golden_backend *g, __u32 id)
{
	struct xlb_maglev_backend b = { .id = id, .weight = g->weight };

	if (inet_pton(AF_INET, g->addr, b.addr) == 1)
		b.family = XLB_AF_INET;
	else if (inet_pton(AF_INET6, g->addr, b.addr) == 1)
		b.family = XLB_AF_INET6;
	else
		fail_msg("bad address in test: %s", g->addr);
	return b;
}

/* Builds set s's table with the backends in order[] under ids base + i. */
static void build(const struct golden_set *s, const size_t *order, __u32 base,
		  struct xlb_maglev_backend *mb, __u32 *table)
{
	for (size_t i = 0; i < s->n; i++)
		mb[i] = maglev_backend(&s->b[order ? order[i] : i], base + (__u32)i);
	assert_int_equal(xlb_maglev__build(mb, s->n, SIZE, table), 0);
}

static const struct xlb_maglev_backend *by_id(const struct xlb_maglev_backend *mb, size_t n,
					      __u32 id)
{
	for (size_t i = 0; i < n; i++)
		if (mb[i].id == id)
			return &mb[i];
	fail_msg("table holds id %u, no backend's", id);
	return NULL;
}

static __u64 digest(const __u32 *table, const struct xlb_maglev_backend *mb, size_t n)
{
	__u64 d = xlb_table_digest__begin(SIZE);

	for (__u32 i = 0; i < SIZE; i++) {
		const struct xlb_maglev_backend *b = by_id(mb, n, table[i]);

		d = xlb_table_digest__slot(d, b->family, b->addr);
	}
	return d;
}

static void test_digest_definition(void **state)
{
	struct golden_backend g[] = { { "198.18.0.11", 1 }, { "2001:2::11", 1 } };
	struct xlb_maglev_backend a = maglev_backend(&g[0], 0), b = maglev_backend(&g[1], 1);
	__u64 d = xlb_table_digest__begin(3);

	(void)state;
	d = xlb_table_digest__slot(d, a.family, a.addr);
	d = xlb_table_digest__slot(d, b.family, b.addr);
	d = xlb_table_digest__slot(d, a.family, a.addr);
	if (d != DEFINITION_DIGEST)
		fail_msg(BROKEN "the table digest's definition changed (digest %016llx of a "
			 "3-slot table, want %016llx): operators comparing the digests of two "
			 "xlb versions would see tables differ that agree, or agree that differ",
			 (unsigned long long)d, (unsigned long long)DEFINITION_DIGEST);
}

/* The userspace builder's table of each golden set is the pinned one. */
static void test_maglev_tables(void **state)
{
	__u32 *table = calloc(SIZE, sizeof(*table));
	struct xlb_maglev_backend mb[16];

	(void)state;
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		__u64 d;

		build(&sets[s], NULL, 0, mb, table);
		d = digest(table, mb, sets[s].n);
		if (d != sets[s].digest)
			fail_msg(BROKEN "the Maglev table for the golden backend set \"%s\" changed "
				 "(digest %016llx, want %016llx): " TWO_VERSIONS,
				 sets[s].name, (unsigned long long)d,
				 (unsigned long long)sets[s].digest);
	}
	free(table);
}

/*
 * Two hosts rarely add backends in the same order, and so give them other
 * ids: their tables must still hold the same address in every slot.
 */
static void test_order_and_ids_do_not_count(void **state)
{
	static const size_t reversed[] = { 5, 4, 3, 2, 1, 0 }, shuffled[] = { 3, 0, 5, 1, 4, 2 };
	__u32 *ta = calloc(SIZE, sizeof(*ta)), *tb = calloc(SIZE, sizeof(*tb));
	struct xlb_maglev_backend ma[16], mb[16];
	const struct golden_set *s = &sets[0];

	(void)state;
	build(s, NULL, 0, ma, ta);
	for (int k = 0; k < 2; k++) {
		build(s, k ? shuffled : reversed, k ? 70000 : 17, mb, tb);
		for (__u32 i = 0; i < SIZE; i++) {
			const struct xlb_maglev_backend *x = by_id(ma, s->n, ta[i]);
			const struct xlb_maglev_backend *y = by_id(mb, s->n, tb[i]);

			if (x->family != y->family || memcmp(x->addr, y->addr, sizeof(x->addr)))
				fail_msg(BROKEN "slot %u differs between two tables of the same "
					 "backends added in another order: " TWO_VERSIONS, i);
		}
	}
	free(ta);
	free(tb);
}

/* ---- the data path ------------------------------------------------------ */

static struct xlb_dp *open_dp(void)
{
	struct xlb_dp_opts opts = { .conntrack_size = 4096 };
	struct xlb_dp *dp;
	char err[256];

	memcpy(opts.if_mac, PKT_LB_MAC, 6);
	inet_pton(AF_INET, "198.19.0.0", &opts.ipip_src4);
	inet_pton(AF_INET6, "2001:2:0:ffff::", opts.ipip_src6);
	if (xlb_dp__open(&opts, &dp, err, sizeof(err)))
		fail_msg("xlb_dp__open: %s", err);
	return dp;
}

/* vips[v] with its set's backends, in order[] (NULL: as listed). */
static void add_vip(struct xlb_dp *dp, const struct golden_vip *gv, const size_t *order)
{
	struct xlb_dp_backend b[16] = {};
	struct xlb_vip_addr v;
	char err[256];

	if (xlb_vip_addr__parse(gv->vip, &v, err, sizeof(err)))
		fail_msg("%s: %s", gv->vip, err);
	if (xlb_dp__vip_add(dp, &v, gv->algo, XLB_FWD_IPIP, SIZE, err, sizeof(err)))
		fail_msg("vip_add %s: %s", gv->vip, err);
	for (size_t i = 0; i < gv->set->n; i++) {
		const struct golden_backend *g = &gv->set->b[order ? order[i] : i];

		assert_int_equal(xlb_addr__parse(g->addr, &b[i].family, b[i].addr), 0);
		b[i].weight = g->weight;
		b[i].mac[0] = 0x02;
		b[i].mac[5] = (__u8)(i + 1); /* given: no neighbour lookup */
	}
	if (xlb_dp__set_backends(dp, &v, b, gv->set->n, err, sizeof(err)))
		fail_msg("set_backends %s: %s", gv->vip, err);
}

/* The backend the balancer forwards f to: the outer destination of its frame. */
static void forwarded_to(struct xlb_dp *dp, const struct golden_flow *f, char *got, size_t len)
{
	const struct golden_vip *gv = &vips[f->vip];
	struct xlb_vip_addr v;
	char vaddr[XLB_ADDR_STR_MAX], err[128];
	struct pkt_flow pf = { .sport = f->sport, .payload_len = 16 };
	__u8 in[PKT_MAX], out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = 1);
	struct xlb_dp_stats s0, s1;
	__u16 ethertype;

	assert_int_equal(xlb_vip_addr__parse(gv->vip, &v, err, sizeof(err)), 0);
	xlb_addr__format(v.family, v.addr, vaddr, sizeof(vaddr));
	pf.family = v.family;
	pf.saddr = f->client;
	pf.daddr = vaddr;
	pf.dport = v.port;
	pf.proto = v.proto;
	pf.tcp_flags = v.proto == IPPROTO_TCP ? 0x02 : 0; /* a SYN: a new flow */
	t.data_size_in = pkt_build(&pf, in);
	assert_true(t.data_size_in > 0);
	assert_int_equal(xlb_dp__stats(dp, &s0), 0);
	assert_int_equal(bpf_prog_test_run_opts(xlb_dp__prog_fd(dp), &t), 0);
	assert_int_equal(xlb_dp__stats(dp, &s1), 0);
	if (t.retval != XDP_TX)
		fail_msg("%s from %s:%u: verdict %u, not forwarded", gv->vip, f->client, f->sport,
			 t.retval);
	/* Seen once, sent once as a new flow (a packet is counted once). */
	assert_int_equal(s1.rx - s0.rx, 1);
	assert_int_equal(s1.tx_new_flow - s0.tx_new_flow, 1);
	for (int r = 0; r < XLB_DROP_MAX; r++)
		assert_int_equal(s1.drops[r], s0.drops[r]);
	ethertype = (__u16)(out[12] << 8 | out[13]);
	if (ethertype == 0x0800)
		inet_ntop(AF_INET, out + 14 + 16, got, len);
	else
		inet_ntop(AF_INET6, out + 14 + 24, got, len);
}

static void test_flows_reach_golden_backends(void **state)
{
	struct xlb_dp *dp;
	char got[INET6_ADDRSTRLEN];

	(void)state;
	if (geteuid() != 0)
		skip(); /* BPF_PROG_TEST_RUN */
	dp = open_dp();
	for (size_t i = 0; i < ARRAY_SIZE(vips); i++)
		add_vip(dp, &vips[i], NULL);
	for (size_t i = 0; i < ARRAY_SIZE(flows); i++) {
		const struct golden_flow *f = &flows[i];

		forwarded_to(dp, f, got, sizeof(got));
		if (strcmp(got, f->want))
			fail_msg(BROKEN "flow %s:%u -> %s (%s) went to %s, want %s: the flow "
				 "hash, its seed or the table changed; " TWO_VERSIONS,
				 f->client, f->sport, vips[f->vip].vip,
				 vips[f->vip].algo == XLB_ALGO_SOURCE_HASH ? "source-hash" : "maglev",
				 got, f->want);
	}
	xlb_dp__close(dp);
}

/*
 * The data path's live tables: digests as pinned, and equal between two
 * data paths whose backends came in other orders under other ids (the
 * second gives a throwaway VIP's backends the first ids).
 */
static void test_live_tables(void **state)
{
	static const size_t reversed[] = { 5, 4, 3, 2, 1, 0 };
	static const struct golden_vip shift = { "198.18.1.250:80/tcp", XLB_ALGO_MAGLEV, &sets[1] };
	static struct xlb_dp_vip_info ia, ib;
	struct xlb_dp *a, *b;
	__u32 *ta = calloc(SIZE, sizeof(*ta)), *tb = calloc(SIZE, sizeof(*tb));

	(void)state;
	if (geteuid() != 0)
		skip(); /* loading BPF */
	a = open_dp();
	b = open_dp();
	add_vip(b, &shift, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(vips); i++) {
		struct xlb_vip_addr v;
		char err[128];
		__u64 da, db;

		add_vip(a, &vips[i], NULL);
		add_vip(b, &vips[i], vips[i].set->n == 6 ? reversed : NULL);
		assert_int_equal(xlb_vip_addr__parse(vips[i].vip, &v, err, sizeof(err)), 0);
		assert_int_equal(xlb_dp__table_digest(a, &v, &da), 0);
		assert_int_equal(xlb_dp__table_digest(b, &v, &db), 0);
		if (da != vips[i].set->digest)
			fail_msg(BROKEN "the data path's table of %s (golden set \"%s\") has digest "
				 "%016llx, want %016llx: " TWO_VERSIONS, vips[i].vip,
				 vips[i].set->name, (unsigned long long)da,
				 (unsigned long long)vips[i].set->digest);
		if (db != da)
			fail_msg(BROKEN "two data paths with the same backends for %s disagree "
				 "(digests %016llx, %016llx): " TWO_VERSIONS, vips[i].vip,
				 (unsigned long long)da, (unsigned long long)db);
		/* Slot by slot, as addresses: the ids differ, the backends may not. */
		assert_int_equal(xlb_dp__vip_info(a, &v, &ia), 0);
		assert_int_equal(xlb_dp__vip_info(b, &v, &ib), 0);
		assert_int_equal(xlb_dp__read_table(a, &v, ta, SIZE), 0);
		assert_int_equal(xlb_dp__read_table(b, &v, tb, SIZE), 0);
		assert_memory_not_equal(ta, tb, SIZE * sizeof(*ta));
		for (__u32 s = 0; s < SIZE; s++) {
			const struct xlb_backend *x = NULL, *y = NULL;

			for (size_t k = 0; k < ia.nbackends; k++) {
				if (ia.ids[k] == ta[s])
					x = &ia.backends[k];
				if (ib.ids[k] == tb[s])
					y = &ib.backends[k];
			}
			assert_non_null(x);
			assert_non_null(y);
			if (x->family != y->family || memcmp(x->addr, y->addr, sizeof(x->addr)))
				fail_msg(BROKEN "slot %u of %s differs between two data paths with "
					 "the same backends: " TWO_VERSIONS, s, vips[i].vip);
		}
	}
	xlb_dp__close(a);
	xlb_dp__close(b);
	free(ta);
	free(tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_definition),
		cmocka_unit_test(test_maglev_tables),
		cmocka_unit_test(test_order_and_ids_do_not_count),
		cmocka_unit_test(test_flows_reach_golden_backends),
		cmocka_unit_test(test_live_tables),
	};

	xlb_log_set_level(XLB_LOG_WARN);
	xlb_log_capture_libs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
