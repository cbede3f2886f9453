/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * forward: gue in the balancer, through BPF_PROG_TEST_RUN on the real
 * object: every frame is compared byte for byte with one built from
 * docs/GUE.md (tests/lib/pkt_gue.c), and the alternate with what the
 * tables before and after a backend change predict.
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
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "maps/xlb_hash.h"
#include "lib/outcomes.h"
#include "lib/pkt.h"
#include "lib/pkt_gue.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/log.h"

#define V4 "198.18.1.100:80/tcp"
#define V6 "[2001:2::100]:80/tcp"
#define V4IN6 "198.18.1.101:80/tcp"
#define VWRR "198.18.1.102:80/tcp"
#define GUE_PORT 19523
#define MTU 1500

struct fixture {
	struct xlb_dp *dp;
	char err[256];
};

static struct xlb_vip_addr vip(const char *name)
{
	struct xlb_vip_addr v;
	char err[128];

	if (xlb_vip_addr__parse(name, &v, err, sizeof(err)))
		fail_msg("bad VIP in test: %s: %s", name, err);
	return v;
}

/* Backend i: 198.18.0.(10+i) or 2001:2::(10+i), MAC 02:00:00:00:01:i. */
static struct xlb_dp_backend backend(int family, int i)
{
	struct xlb_dp_backend b = { .family = family, .weight = 100 };
	char addr[64];

	if (family == XLB_AF_INET)
		snprintf(addr, sizeof(addr), "198.18.0.%d", 10 + i);
	else
		snprintf(addr, sizeof(addr), "2001:2::%x", 0x10 + i);
	assert_int_equal(xlb_addr__parse(addr, &b.family, b.addr), 0);
	b.mac[0] = 0x02;
	b.mac[4] = 0x01;
	b.mac[5] = (__u8)i;
	return b;
}

/* Backends 1..n of family on name. */
static void set_pool(struct fixture *fx, const char *name, int family, int n)
{
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_backend b[16];

	for (int i = 0; i < n; i++)
		b[i] = backend(family, i + 1);
	if (xlb_dp__set_backends(fx->dp, &v, b, n, fx->err, sizeof(fx->err)))
		fail_msg("set_backends %s: %s", name, fx->err);
}

static void add_vip(struct fixture *fx, const char *name, enum xlb_algo algo, int family)
{
	struct xlb_vip_addr v = vip(name);

	if (xlb_dp__vip_add(fx->dp, &v, algo, XLB_FWD_GUE, 0, fx->err, sizeof(fx->err)))
		fail_msg("vip_add %s: %s", name, fx->err);
	set_pool(fx, name, family, 3);
}

static int setup(void **state)
{
	struct xlb_dp_opts opts = { .conntrack_size = 4096, .test_poison = true,
				    .test_clock = true, .mtu = MTU };
	struct fixture *fx = calloc(1, sizeof(*fx));

	memcpy(opts.if_mac, PKT_LB_MAC, 6);
	inet_pton(AF_INET, "198.19.0.0", &opts.ipip_src4);
	inet_pton(AF_INET6, "2001:2:0:ffff::", opts.ipip_src6);
	if (xlb_dp__open(&opts, &fx->dp, fx->err, sizeof(fx->err)))
		fail_msg("xlb_dp__open: %s", fx->err);
	add_vip(fx, V4, XLB_ALGO_MAGLEV, XLB_AF_INET);
	add_vip(fx, V6, XLB_ALGO_MAGLEV, XLB_AF_INET6);
	add_vip(fx, V4IN6, XLB_ALGO_MAGLEV, XLB_AF_INET6);
	add_vip(fx, VWRR, XLB_ALGO_WRR, XLB_AF_INET);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	xlb_dp__close(fx->dp);
	free(fx);
	return 0;
}

static struct outcomes outcomes(struct fixture *fx)
{
	struct xlb_dp_stats s;

	assert_int_equal(xlb_dp__stats(fx->dp, &s), 0);
	return outcomes_of(&s);
}

/* Runs the balancer (and xlb_gue) once; the packet must be accounted for. */
static int run(struct fixture *fx, const __u8 *pkt, size_t len, __u8 *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = 1);
	struct outcomes before = outcomes(fx), after;
	char msg[160];

	if (bpf_prog_test_run_opts(xlb_dp__prog_fd(fx->dp), &t))
		return -errno;
	after = outcomes(fx);
	if (outcomes_unaccounted(&before, &after, 1, (int)t.retval, msg, sizeof(msg)))
		fail_msg("%s", msg);
	*out_len = t.data_size_out;
	return t.retval;
}

static struct xlb_dp_stats stats(struct fixture *fx)
{
	struct xlb_dp_stats s;

	assert_int_equal(xlb_dp__stats(fx->dp, &s), 0);
	return s;
}

/* The VIP's live table, and the backend entries by id. */
struct table {
	__u32 size;
	__u32 *ids;
	struct xlb_dp_vip_info info;
};

static void table_read(struct fixture *fx, const char *name, struct table *t)
{
	struct xlb_vip_addr v = vip(name);

	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &t->info), 0);
	t->size = t->info.meta.table_size;
	assert_true(t->size > 0);
	t->ids = calloc(t->size, sizeof(*t->ids));
	assert_int_equal(xlb_dp__read_table(fx->dp, &v, t->ids, t->size), 0);
}

static const struct xlb_backend *table_backend(const struct table *t, __u32 id)
{
	for (size_t i = 0; i < t->info.nbackends; i++)
		if (t->info.ids[i] == id)
			return &t->info.backends[i];
	return NULL;
}

static __u32 hash5(const struct pkt_flow *f)
{
	__u32 s[4] = {}, d[4] = {}, ports = ((__u32)htons(f->sport) << 16) | htons(f->dport);
	__u8 fam;

	xlb_addr__parse(f->saddr, &fam, s);
	xlb_addr__parse(f->daddr, &fam, d);
	return f->family == 4 ? xlb_hash_flow4(s[0], d[0], ports, f->proto)
			      : xlb_hash_flow6(s, d, ports, f->proto);
}

static __u32 slot_id(const struct table *t, const struct pkt_flow *f)
{
	return t->ids[hash5(f) % t->size];
}

/*
 * The frame forward: gue sends for f to be, naming alt (NULL: none), with
 * table generation gen: from docs/GUE.md by way of pkt_build_gue().
 */
static size_t expect_gue(const struct pkt_flow *f, const __u8 *in, size_t len,
			 const struct xlb_backend *be, const struct xlb_backend *alt, __u32 gen,
			 __u16 port, __u8 *exp)
{
	char saddr[64], daddr[64], altaddr[64];
	__be32 s[4] = {};
	__u32 entropy;
	__u8 fam;
	struct pkt_gue g = {
		.outer_family = be->family, .saddr = saddr, .daddr = daddr, .dmac = be->mac,
		.smac = PKT_LB_MAC, .dport = port, .hops = 1, .alt = alt ? altaddr : NULL,
		.table_gen = gen,
	};

	xlb_addr__parse(f->saddr, &fam, s);
	/* the client's address (its last 32 bits) ^ its port, as for IPIP */
	entropy = ntohl(fam == XLB_AF_INET ? s[0] : s[3]) ^ f->sport;
	g.sport = 0xc000 | ((entropy ^ (entropy >> 16)) & 0x3fff);
	if (be->family == XLB_AF_INET) {
		snprintf(saddr, sizeof(saddr), "198.19.%u.%u", (entropy >> 8) & 0xff,
			 entropy & 0xff);
	} else {
		snprintf(saddr, sizeof(saddr), "2001:2:0:ffff::%x:%x", entropy >> 16,
			 entropy & 0xffff);
		g.flow_label = entropy & 0xfffff;
	}
	xlb_addr__format(be->family, be->addr, daddr, sizeof(daddr));
	if (alt)
		xlb_addr__format(alt->family, alt->addr, altaddr, sizeof(altaddr));
	return pkt_build_gue(&g, in, len, exp);
}

static void assert_frame(const char *what, const __u8 *got, size_t got_len, const __u8 *exp,
			 size_t exp_len)
{
	if (got_len == exp_len && !memcmp(got, exp, exp_len))
		return;
	pkt_hexdump("expected", exp, exp_len);
	pkt_hexdump("got", got, got_len);
	fail_msg("%s: output frame differs (len %zu, expected %zu)", what, got_len, exp_len);
}

/* Sends f; checks XDP_TX and the frame against be, alt, gen and port. */
static void send_expect(struct fixture *fx, const struct pkt_flow *f,
			const struct xlb_backend *be, const struct xlb_backend *alt, __u32 gen,
			__u16 port)
{
	__u8 in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	size_t len = pkt_build(f, in), out_len = 0, exp_len;

	assert_true(len > 0);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
	exp_len = expect_gue(f, in, len, be, alt, gen, port, exp);
	assert_true(exp_len > 0);
	assert_frame(f->daddr, out, out_len, exp, exp_len);
	if (be->family == XLB_AF_INET)
		assert_true(pkt_ipv4_csum_ok(out + 14));
}

static struct pkt_flow flow(int family, const char *daddr, __u16 sport, __u8 flags)
{
	return (struct pkt_flow){ .family = family,
				  .saddr = family == 4 ? "198.18.0.1" : "2001:2::1",
				  .daddr = daddr, .sport = sport, .dport = 80,
				  .proto = IPPROTO_TCP, .tcp_flags = flags, .payload_len = 24 };
}

/* ---- tests ------------------------------------------------------------------ */

/* The first table has no previous one: no alternate, generation 1. */
static void test_gue_first_table_no_alternate(void **state)
{
	static const struct {
		const char *vip, *daddr;
		int family;
	} rows[] = { { V4, "198.18.1.100", 4 }, { V6, "2001:2::100", 6 },
		     { V4IN6, "198.18.1.101", 4 } };
	struct fixture *fx = *state;

	for (size_t r = 0; r < 3; r++) {
		struct table t;

		table_read(fx, rows[r].vip, &t);
		for (__u16 p = 0; p < 16; p++) {
			struct pkt_flow f = flow(rows[r].family, rows[r].daddr, 1000 + p, 0x02);

			send_expect(fx, &f, table_backend(&t, slot_id(&t, &f)), NULL, 1,
				    GUE_PORT);
			f.tcp_flags = 0x10;
			send_expect(fx, &f, table_backend(&t, slot_id(&t, &f)), NULL, 1,
				    GUE_PORT);
		}
		free(t.ids);
	}
	assert_int_equal(stats(fx).tx_gue, 3 * 32);
	assert_int_equal(stats(fx).tx_gue_alt, 0);
}

/*
 * A backend joins. A packet of a flow this host never saw goes by the new
 * table and names the backend the old table had for its slot when that
 * differs; a flow recorded before the change stays on its backend, which
 * the old table also names, so it carries no alternate.
 */
static void change_and_check(struct fixture *fx, const char *name, const char *daddr, int family,
			     int be_family)
{
	struct table old, cur;
	int moved = 0, kept = 0;
	__u64 alt0 = stats(fx).tx_gue_alt;
	__u32 gen;
	struct xlb_vip_gue g;
	struct xlb_vip_addr v = vip(name);

	table_read(fx, name, &old);
	/* Flows recorded on this host before the change (SYNs). */
	for (__u16 p = 0; p < 64; p++) {
		struct pkt_flow f = flow(family, daddr, 20000 + p, 0x02);

		send_expect(fx, &f, table_backend(&old, slot_id(&old, &f)), NULL, 1, GUE_PORT);
	}
	set_pool(fx, name, be_family, 4);
	table_read(fx, name, &cur);
	assert_int_equal(xlb_dp__vip_gue(fx->dp, &v, &g), 0);
	gen = g.table_gen;
	assert_int_equal(gen, 2);
	assert_int_equal(g.prev_table_size, old.size);
	for (__u16 p = 0; p < 64; p++) {
		struct pkt_flow f = flow(family, daddr, 20000 + p, 0x10);

		/* recorded: the old backend, which the old table names too */
		send_expect(fx, &f, table_backend(&old, slot_id(&old, &f)), NULL, gen, GUE_PORT);
	}
	for (__u16 p = 0; p < 256; p++) {
		struct pkt_flow f = flow(family, daddr, 40000 + p, 0x10);
		__u32 was = slot_id(&old, &f), now = slot_id(&cur, &f);
		const struct xlb_backend *alt = was == now ? NULL : table_backend(&old, was);

		send_expect(fx, &f, table_backend(&cur, now), alt, gen, GUE_PORT);
		moved += alt != NULL;
		kept += alt == NULL;
		/* again: now recorded, the alternate still goes with it */
		send_expect(fx, &f, table_backend(&cur, now), alt, gen, GUE_PORT);
		/* and from the flow cache, which finds it and keeps it */
		send_expect(fx, &f, table_backend(&cur, now), alt, gen, GUE_PORT);
		/* and from the entry that keeps it (gue_cached(), no tail call) */
		send_expect(fx, &f, table_backend(&cur, now), alt, gen, GUE_PORT);
	}
	/* 1 of 4 slots moves to the new backend: both kinds were seen */
	assert_true(moved > 20 && kept > 100);
	assert_int_equal(stats(fx).tx_gue_alt - alt0, 4 * moved);
	free(old.ids);
	free(cur.ids);
}

static void test_gue_alternate_after_change4(void **state)
{
	change_and_check(*state, V4, "198.18.1.100", 4, XLB_AF_INET);
}

static void test_gue_alternate_after_change6(void **state)
{
	change_and_check(*state, V6, "2001:2::100", 6, XLB_AF_INET6);
}

static void test_gue_alternate_after_change4in6(void **state)
{
	change_and_check(*state, V4IN6, "198.18.1.101", 4, XLB_AF_INET6);
}

/*
 * The alternate lasts until the next change: after a second one it comes
 * from the table of the first, and a slot that moved only in the first
 * change carries none.
 */
static void test_gue_alternate_until_next_change(void **state)
{
	struct fixture *fx = *state;
	struct table t1, t2, t3;
	int first_only = 0;

	table_read(fx, V4, &t1);
	set_pool(fx, V4, XLB_AF_INET, 4);
	table_read(fx, V4, &t2);
	set_pool(fx, V4, XLB_AF_INET, 5);
	table_read(fx, V4, &t3);
	for (__u16 p = 0; p < 256; p++) {
		struct pkt_flow f = flow(4, "198.18.1.100", 50000 + p, 0x10);
		__u32 a = slot_id(&t1, &f), b = slot_id(&t2, &f), c = slot_id(&t3, &f);

		send_expect(fx, &f, table_backend(&t3, c), b == c ? NULL : table_backend(&t2, b),
			    3, GUE_PORT);
		first_only += a != b && b == c;
	}
	assert_true(first_only > 10);
	free(t1.ids);
	free(t2.ids);
	free(t3.ids);
}

/*
 * The alternate a flow's cache entry keeps lasts as long as the table it
 * was found with: flows recorded after a change, sent from the flow cache
 * with their alternates, carry none once a second change makes the
 * table they were recorded by the previous one.
 */
static void test_gue_cached_alternate_until_next_change(void **state)
{
	struct fixture *fx = *state;
	struct table t1, t2;
	__u64 alt0;
	int moved = 0;

	table_read(fx, V4, &t1);
	set_pool(fx, V4, XLB_AF_INET, 4);
	table_read(fx, V4, &t2);
	for (__u16 p = 0; p < 256; p++) {
		struct pkt_flow f = flow(4, "198.18.1.100", 52000 + p, 0x10);
		__u32 was = slot_id(&t1, &f), now = slot_id(&t2, &f);
		const struct xlb_backend *alt = was == now ? NULL : table_backend(&t1, was);

		/* new, recorded, from the cache (found), from the cache (kept) */
		for (int i = 0; i < 4; i++)
			send_expect(fx, &f, table_backend(&t2, now), alt, 2, GUE_PORT);
		moved += alt != NULL;
	}
	assert_true(moved > 20);
	alt0 = stats(fx).tx_gue_alt;
	assert_int_equal(alt0, 4 * moved);
	set_pool(fx, V4, XLB_AF_INET, 5); /* backends 1..4 stay */
	for (__u16 p = 0; p < 256; p++) {
		struct pkt_flow f = flow(4, "198.18.1.100", 52000 + p, 0x10);

		for (int i = 0; i < 3; i++) /* on their backend, which t2 names */
			send_expect(fx, &f, table_backend(&t2, slot_id(&t2, &f)), NULL, 3,
				    GUE_PORT);
	}
	assert_int_equal(stats(fx).tx_gue_alt, alt0);
	free(t1.ids);
	free(t2.ids);
}

/* A removed backend is no alternate: its id has left the VIP. */
static void test_gue_removed_backend_not_alternate(void **state)
{
	struct fixture *fx = *state;
	struct table t0, t;
	int gone = 0;

	table_read(fx, V4, &t0);
	set_pool(fx, V4, XLB_AF_INET, 2); /* backend 3 leaves */
	table_read(fx, V4, &t);
	for (__u16 p = 0; p < 128; p++) {
		struct pkt_flow f = flow(4, "198.18.1.100", 60000 + p, 0x10);
		__u32 was = slot_id(&t0, &f), now = slot_id(&t, &f);
		/* NULL when was is backend 3's id: no longer the VIP's */
		const struct xlb_backend *alt = was == now ? NULL : table_backend(&t, was);

		gone += was != now && !alt;
		send_expect(fx, &f, table_backend(&t, now), alt, 2, GUE_PORT);
	}
	assert_true(gone > 10);
	free(t0.ids);
	free(t.ids);
}

/* wrr records choices its table does not hold: never an alternate. */
static void test_gue_wrr_no_alternate(void **state)
{
	struct fixture *fx = *state;
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len, off;

	set_pool(fx, VWRR, XLB_AF_INET, 4);
	for (__u16 p = 0; p < 64; p++) {
		struct pkt_flow f = flow(4, "198.18.1.102", 3000 + p, p & 1 ? 0x10 : 0x02);

		len = pkt_build(&f, in);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
		off = pkt_gue_offset(out, out_len);
		assert_int_equal(out[off], 2); /* Hlen 2: no alternate */
		assert_int_equal(out[off + 7], 0);
	}
	assert_int_equal(stats(fx).tx_gue_alt, 0);
}

/* The port is the VIP's gue_port, and changes live. */
static void test_gue_port(void **state)
{
	struct fixture *fx = *state;
	struct xlb_vip_addr v = vip(V6);
	struct table t;
	struct pkt_flow f = flow(6, "2001:2::100", 777, 0x02);

	assert_int_equal(xlb_dp__vip_set_gue_port(fx->dp, &v, 6080, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__vip_set_gue_port(fx->dp, &v, 0, fx->err, sizeof(fx->err)),
			 -EINVAL);
	table_read(fx, V6, &t);
	send_expect(fx, &f, table_backend(&t, slot_id(&t, &f)), NULL, 1, 6080);
	free(t.ids);
}

/* A frame cut after the ports, inside TCP, is dropped, never encapsulated. */
static void test_gue_truncated_dropped(void **state)
{
	struct fixture *fx = *state;
	struct pkt_flow f = flow(4, "198.18.1.100", 4444, 0x10);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t out_len;

	assert_true(pkt_build(&f, in) > 0);
	for (size_t cut = 14 + 20 + 4; cut < 14 + 20 + 20; cut++)
		assert_int_equal(run(fx, in, cut, out, &out_len), XDP_DROP);
	assert_int_equal(stats(fx).tx_gue, 0);
}

/*
 * A packet that would not fit the MTU in GUE with an alternate gets an ICMP
 * "too big" with the MTU less that overhead (IPv4 outer: 44 bytes, IPv6:
 * 76), whether or not this packet would carry an alternate, so a flow's
 * path MTU does not change with the backend set; one that fits is sent.
 */
static void check_too_big(struct fixture *fx, int family, const char *daddr, size_t fits)
{
	struct pkt_flow f = flow(family, daddr, 5555, 0x10);
	size_t hdrs = family == 4 ? 40 : 60, len, out_len;
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct xlb_dp_stats before;
	__u32 mtu;

	f.payload_len = fits - hdrs;
	len = pkt_build(&f, in);
	before = stats(fx);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
	assert_int_equal(stats(fx).tx_gue, before.tx_gue + 1);
	assert_true(out_len <= 14 + MTU);

	f.payload_len++;
	len = pkt_build(&f, in);
	before = stats(fx);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
	assert_int_equal(stats(fx).tx_too_big, before.tx_too_big + 1);
	assert_int_equal(stats(fx).tx_gue, before.tx_gue);
	if (family == 4) {
		assert_int_equal(out[14 + 9], IPPROTO_ICMP);
		assert_int_equal(out[14 + 20], 3); /* destination unreachable */
		assert_int_equal(out[14 + 21], 4); /* fragmentation needed */
		mtu = (__u32)out[14 + 26] << 8 | out[14 + 27];
	} else {
		assert_int_equal(out[14 + 6], IPPROTO_ICMPV6);
		assert_int_equal(out[14 + 40], 2); /* packet too big */
		mtu = (__u32)out[14 + 44] << 24 | (__u32)out[14 + 45] << 16 |
		      (__u32)out[14 + 46] << 8 | out[14 + 47];
	}
	assert_int_equal(mtu, fits);
}

static void test_gue_too_big(void **state)
{
	struct fixture *fx = *state;

	check_too_big(fx, 4, "198.18.1.100", MTU - (20 + 8 + 4 + 8 + 4));
	check_too_big(fx, 6, "2001:2::100", MTU - (40 + 8 + 4 + 8 + 16));
	check_too_big(fx, 4, "198.18.1.101", MTU - (40 + 8 + 4 + 8 + 16)); /* 4in6 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gue_first_table_no_alternate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gue_alternate_after_change4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gue_alternate_after_change6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gue_alternate_after_change4in6, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gue_alternate_until_next_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gue_cached_alternate_until_next_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gue_removed_backend_not_alternate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gue_wrr_no_alternate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gue_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gue_truncated_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gue_too_big, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("skipped: needs root (BPF)\n");
		return 77;
	}
	xlb_log_set_level(XLB_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
