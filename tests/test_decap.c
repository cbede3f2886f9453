/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The backend-side decapsulation program (bpf/xlb_decap.bpf.c) run through
 * BPF_PROG_TEST_RUN on frames from the packet builder: every supported
 * encapsulation is stripped back to the exact inner frame, everything else
 * passes untouched, truncated frames are never mangled, counters add up.
 * Also a few checks of the packet builder itself, and of attaching the
 * program to a veth in a private network namespace.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mount.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lib/pkt.h"
#include "maps/xlb_maps.h"
#include "userspace/xlb-decap/decap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define VIP4 "198.18.1.100"
#define VIP6 "2001:2::100"
#define OTHER4 "198.18.1.101" /* not a decap VIP */
#define OTHER6 "2001:2::101"
#define CLIENT4 "198.18.0.1"
#define CLIENT6 "2001:2::1"
#define LB_SRC4 "198.19.0.7"	/* outer source, as an xlb host sends */
#define LB_SRC6 "2001:2:0:ffff::7"
#define BACKEND4 "198.18.0.11" /* outer destination: this backend */
#define BACKEND6 "2001:2::11"

static const __u8 BACKEND_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b }; /* the interface's */
static const __u8 LB_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c };	    /* an xlb host's */

/* Eight bytes of IPv4 options: Router Alert, then NOP, NOP, NOP, EOL. */
static const __u8 OPTS8[8] = { 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00 };
/* The 40-byte maximum: NOPs, then EOL. */
static const __u8 OPTS40[40] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

struct fixture {
	struct xlb_decap *d;
	int prog_fd;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct in6_addr a6;
	struct in_addr a4;
	char err[256] = "";

	assert_non_null(fx);
	if (xlb_decap__open(NULL, false, &fx->d, err, sizeof(err)))
		fail_msg("xlb_decap__open: %s", err);
	fx->prog_fd = xlb_decap__prog_fd(fx->d);
	assert_true(fx->prog_fd >= 0);
	assert_int_equal(inet_pton(AF_INET, VIP4, &a4), 1);
	assert_int_equal(inet_pton(AF_INET6, VIP6, &a6), 1);
	assert_int_equal(xlb_decap__add_vip(fx->d, 4, &a4), 0);
	assert_int_equal(xlb_decap__add_vip(fx->d, 6, &a6), 0);
	assert_int_equal(xlb_decap__set_if_mac(fx->d, BACKEND_MAC), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	xlb_decap__close(fx->d);
	free(fx);
	return 0;
}

/* Runs the program once on pkt. Returns the verdict, or -errno. */
static int run(struct fixture *fx, const __u8 *pkt, size_t len, __u8 *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);

	if (bpf_prog_test_run_opts(fx->prog_fd, &t))
		return -errno;
	*out_len = t.data_size_out;
	return (int)t.retval;
}

static struct xlb_decap_stats stats(struct fixture *fx)
{
	struct xlb_decap_stats s;

	assert_int_equal(xlb_decap__stats(fx->d, &s), 0);
	return s;
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

/* ---- the packets --------------------------------------------------------- */

/* Client flows, as table-row initialisers and as values. */
#define TCP4(d, v)                                                                      \
	{ .family = 4, .saddr = CLIENT4, .daddr = (d), .sport = 40000, .dport = 80,     \
	  .proto = IPPROTO_TCP, .tcp_flags = 0x02, .vlan = (v), .payload_len = 32 }
#define TCP6(d, v)                                                                      \
	{ .family = 6, .saddr = CLIENT6, .daddr = (d), .sport = 40000, .dport = 80,     \
	  .proto = IPPROTO_TCP, .tcp_flags = 0x10, .vlan = (v), .payload_len = 100 }
#define UDP4(d, v)                                                                      \
	{ .family = 4, .saddr = CLIENT4, .daddr = (d), .sport = 5353, .dport = 53,      \
	  .proto = IPPROTO_UDP, .vlan = (v), .payload_len = 17 }
#define UDP6(d, v)                                                                      \
	{ .family = 6, .saddr = CLIENT6, .daddr = (d), .sport = 5353, .dport = 53,      \
	  .proto = IPPROTO_UDP, .vlan = (v), .payload_len = 0 }
#define tcp4(d, v) ((struct pkt_flow)TCP4(d, v))
#define tcp6(d, v) ((struct pkt_flow)TCP6(d, v))
#define udp6(d, v) ((struct pkt_flow)UDP6(d, v))

enum outer {
	OUTER_NONE, /* the plain client frame */
	OUTER_4,
	OUTER_6,
};

enum counter {
	CNT_DECAP4,
	CNT_DECAP6,
	CNT_DECAP4IN6,
	CNT_PASS,
	CNT_DROP,
};

static __u64 counter(const struct xlb_decap_stats *s, enum counter c)
{
	switch (c) {
	case CNT_DECAP4:
		return s->decap4;
	case CNT_DECAP6:
		return s->decap6;
	case CNT_DECAP4IN6:
		return s->decap4in6;
	case CNT_PASS:
		return s->pass;
	default:
		return s->drop_malformed;
	}
}

/* Changes a built frame after the fact; off is the outer L3 header. */
typedef void (*patch_fn)(__u8 *frame, size_t off);

struct row {
	const char *desc;
	struct pkt_flow inner;
	enum outer outer;
	const __u8 *opts; /* outer IPv4 options */
	size_t opts_len;
	bool new_macs;	  /* outer frame's MACs differ from the inner frame's */
	patch_fn patch;
	int verdict;
	bool decapsulated; /* else the output must equal the input */
	enum counter cnt;
};

/* Builds row r's input frame; *inner gets the client's frame (expected output). */
static size_t build_row(const struct row *r, __u8 *in, __u8 *inner, size_t *inner_len)
{
	struct pkt_encap e = {
		.outer_family = r->outer == OUTER_4 ? 4 : 6,
		.saddr = r->outer == OUTER_4 ? LB_SRC4 : LB_SRC6,
		.daddr = r->outer == OUTER_4 ? BACKEND4 : BACKEND6,
		.ip4_opts = r->opts,
		.ip4_opts_len = r->opts_len,
		.flow_label = 0x12345,
	};
	size_t len;

	*inner_len = pkt_build(&r->inner, inner);
	assert_true(*inner_len > 0);
	/* Every frame comes to this backend's MAC. */
	memcpy(inner, BACKEND_MAC, 6);
	if (r->outer == OUTER_NONE) {
		memcpy(in, inner, *inner_len);
		len = *inner_len;
	} else {
		if (r->new_macs) {
			e.dmac = BACKEND_MAC;
			e.smac = LB_MAC;
		}
		len = pkt_build_encap_ex(&e, inner, *inner_len, in);
		assert_true(len > *inner_len);
		/* The decapsulated frame carries the outer frame's MACs. */
		memcpy(inner, in, 12);
	}
	if (r->patch)
		r->patch(in, pkt_l3_offset(in, len));
	return len;
}

/* Sets MF on the outer IPv4 header: a first fragment of a tunnelled packet. */
static void patch_outer_mf(__u8 *frame, size_t off)
{
	__u8 *ip = frame + off;

	ip[6] |= 0x20;
	memset(ip + 10, 0, 2);
	__u16 c = pkt_ipv4_csum(ip);
	memcpy(ip + 10, &c, 2);
}

/* Turns 6-in-4 (protocol 41) into protocol 4 carrying an IPv6 packet. */
static void patch_proto_4(__u8 *frame, size_t off)
{
	__u8 *ip = frame + off;
	__u16 c;

	ip[9] = IPPROTO_IPIP;
	c = pkt_ipv4_csum(ip);
	memcpy(ip + 10, &c, 2);
}

/* An outer IPv4 header whose total length cannot hold an inner header. */
static void patch_short_tot_len(__u8 *frame, size_t off)
{
	__u8 *ip = frame + off;
	__u16 c;

	ip[2] = 0;
	ip[3] = 30;
	c = pkt_ipv4_csum(ip);
	memcpy(ip + 10, &c, 2);
}

/* An outer IPv6 header with a Hop-by-Hop header first: not what xlb emits. */
static void patch_outer_hbh(__u8 *frame, size_t off)
{
	frame[off + 6] = 0; /* nexthdr: Hop-by-Hop */
}

static const struct row rows[] = {
	{ "IPv4-in-IPv4 TCP", TCP4(VIP4, 0), OUTER_4, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP4 },
	{ "IPv4-in-IPv4 UDP", UDP4(VIP4, 0), OUTER_4, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP4 },
	{ "IPv6-in-IPv6 TCP", TCP6(VIP6, 0), OUTER_6, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP6 },
	{ "IPv6-in-IPv6 UDP, no payload", UDP6(VIP6, 0), OUTER_6, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP6 },
	{ "IPv4-in-IPv6 TCP", TCP4(VIP4, 0), OUTER_6, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP4IN6 },
	{ "IPv4-in-IPv6 UDP", UDP4(VIP4, 0), OUTER_6, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP4IN6 },
	{ "IPv4-in-IPv4, outer with 8 bytes of options", TCP4(VIP4, 0), OUTER_4, OPTS8, 8,
	  .verdict = XDP_PASS, .decapsulated = true, .cnt = CNT_DECAP4 },
	{ "IPv4-in-IPv4, outer with 40 bytes of options", UDP4(VIP4, 0), OUTER_4, OPTS40, 40,
	  .verdict = XDP_PASS, .decapsulated = true, .cnt = CNT_DECAP4 },
	{ "IPv4-in-IPv4, VLAN 100", TCP4(VIP4, 100), OUTER_4, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP4 },
	{ "IPv4-in-IPv4, VLAN 4094, options", TCP4(VIP4, 4094), OUTER_4, OPTS8, 8,
	  .verdict = XDP_PASS, .decapsulated = true, .cnt = CNT_DECAP4 },
	{ "IPv6-in-IPv6, VLAN 7", TCP6(VIP6, 7), OUTER_6, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP6 },
	{ "IPv4-in-IPv6, VLAN 1", UDP4(VIP4, 1), OUTER_6, .verdict = XDP_PASS,
	  .decapsulated = true, .cnt = CNT_DECAP4IN6 },
	{ "IPv4-in-IPv4, outer MACs kept", TCP4(VIP4, 0), OUTER_4, .new_macs = true,
	  .verdict = XDP_PASS, .decapsulated = true, .cnt = CNT_DECAP4 },
	{ "IPv6-in-IPv6, VLAN, outer MACs kept", TCP6(VIP6, 9), OUTER_6, .new_macs = true,
	  .verdict = XDP_PASS, .decapsulated = true, .cnt = CNT_DECAP6 },
	{ "IPv4-in-IPv4 to a non-VIP", TCP4(OTHER4, 0), OUTER_4, .verdict = XDP_PASS,
	  .cnt = CNT_PASS },
	{ "IPv6-in-IPv6 to a non-VIP", TCP6(OTHER6, 0), OUTER_6, .verdict = XDP_PASS,
	  .cnt = CNT_PASS },
	{ "IPv4-in-IPv6 to a non-VIP, VLAN", UDP4(OTHER4, 3), OUTER_6, .verdict = XDP_PASS,
	  .cnt = CNT_PASS },
	{ "IPv6-in-IPv4 (not a form xlb emits)", TCP6(VIP6, 0), OUTER_4, .verdict = XDP_PASS,
	  .cnt = CNT_PASS },
	{ "plain IPv4 to the VIP", TCP4(VIP4, 0), OUTER_NONE, .verdict = XDP_PASS,
	  .cnt = CNT_PASS },
	{ "plain IPv6 to the VIP", UDP6(VIP6, 0), OUTER_NONE, .verdict = XDP_PASS,
	  .cnt = CNT_PASS },
	{ "plain IPv4 to the VIP, VLAN", TCP4(VIP4, 12), OUTER_NONE, .verdict = XDP_PASS,
	  .cnt = CNT_PASS },
	{ "outer IPv4 fragment: left to the stack", TCP4(VIP4, 0), OUTER_4,
	  .patch = patch_outer_mf, .verdict = XDP_PASS, .cnt = CNT_PASS },
	{ "outer IPv6 with an extension header: not ours", TCP6(VIP6, 0), OUTER_6,
	  .patch = patch_outer_hbh, .verdict = XDP_PASS, .cnt = CNT_PASS },
	{ "protocol 4 carrying IPv6: malformed", TCP6(VIP6, 0), OUTER_4,
	  .patch = patch_proto_4, .verdict = XDP_DROP, .cnt = CNT_DROP },
	{ "outer total length too short: malformed", TCP4(VIP4, 0), OUTER_4,
	  .patch = patch_short_tot_len, .verdict = XDP_DROP, .cnt = CNT_DROP },
};

static void check_row(struct fixture *fx, const struct row *r)
{
	__u8 in[PKT_MAX], inner[PKT_MAX], out[PKT_MAX];
	size_t len, inner_len, out_len = 0;
	struct xlb_decap_stats before = stats(fx), after;
	int v;

	len = build_row(r, in, inner, &inner_len);
	v = run(fx, in, len, out, &out_len);
	if (v != r->verdict)
		fail_msg("%s: verdict %d, expected %d", r->desc, v, r->verdict);
	if (r->verdict == XDP_PASS) {
		if (r->decapsulated)
			assert_frame(r->desc, out, out_len, inner, inner_len);
		else
			assert_frame(r->desc, out, out_len, in, len);
	}
	after = stats(fx);
	assert_int_equal(after.rx, before.rx + 1);
	for (enum counter c = CNT_DECAP4; c <= CNT_DROP; c++) {
		__u64 want = counter(&before, c) + (c == r->cnt ? 1 : 0);

		if (counter(&after, c) != want)
			fail_msg("%s: counter %d is %llu, expected %llu", r->desc, c,
				 (unsigned long long)counter(&after, c), (unsigned long long)want);
	}
}

static void test_rows(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		check_row(*state, &rows[i]);
}

/*
 * Every cut of an encapsulated frame: passed untouched while the outer
 * header is incomplete (it cannot be told from any other packet), dropped
 * while the inner header is incomplete, decapsulated (to the equally cut
 * inner frame) after that. Never XDP_ABORTED or XDP_TX, never longer.
 */
static void check_truncations(struct fixture *fx, const struct row *r, __u64 *drops)
{
	__u8 in[PKT_MAX], inner[PKT_MAX], out[PKT_MAX];
	size_t len, inner_len, l2, outer_fixed, outer_len, inner_hdr;

	len = build_row(r, in, inner, &inner_len);
	l2 = pkt_l3_offset(in, len);
	outer_fixed = r->outer == OUTER_4 ? 20 : 40;
	outer_len = len - inner_len;
	inner_hdr = r->inner.family == 4 ? 20 : 40;
	for (size_t cut = 14; cut <= len; cut++) {
		size_t out_len = 0;
		int v = run(fx, in, cut, out, &out_len);

		if (v != XDP_PASS && v != XDP_DROP)
			fail_msg("%s cut to %zu of %zu: verdict %d", r->desc, cut, len, v);
		if (v == XDP_PASS && out_len > cut)
			fail_msg("%s cut to %zu: output of %zu bytes", r->desc, cut, out_len);
		if (cut < l2 + outer_fixed) {
			assert_int_equal(v, XDP_PASS);
			assert_frame(r->desc, out, out_len, in, cut);
		} else if (cut < l2 + outer_len + inner_hdr) {
			if (v != XDP_DROP)
				fail_msg("%s cut to %zu (inner header incomplete): verdict %d",
					 r->desc, cut, v);
			(*drops)++;
		} else if (r->decapsulated) {
			assert_int_equal(v, XDP_PASS);
			assert_frame(r->desc, out, out_len, inner, cut - outer_len);
		} else {
			assert_int_equal(v, XDP_PASS);
			assert_frame(r->desc, out, out_len, in, cut);
		}
	}
}

static void test_truncations(void **state)
{
	struct fixture *fx = *state;
	struct xlb_decap_stats before = stats(fx), after;
	__u64 drops = 0;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		if (rows[i].outer == OUTER_NONE || rows[i].patch ||
		    (rows[i].outer == OUTER_4 && rows[i].inner.family == 6))
			continue;
		check_truncations(fx, &rows[i], &drops);
	}
	after = stats(fx);
	assert_true(drops > 0);
	assert_int_equal(after.drop_malformed - before.drop_malformed, drops);
}

/* Counters across a mixed batch; rx is the sum of the branches. */
static void test_stats_add_up(void **state)
{
	struct fixture *fx = *state;
	struct xlb_decap_stats s;
	__u8 in[PKT_MAX], inner[PKT_MAX], out[PKT_MAX];
	size_t len, inner_len, out_len;
	__u64 want[CNT_DROP + 1] = {};

	for (int rep = 0; rep < 3; rep++) {
		for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
			len = build_row(&rows[i], in, inner, &inner_len);
			assert_int_equal(run(fx, in, len, out, &out_len), rows[i].verdict);
			want[rows[i].cnt]++;
		}
	}
	s = stats(fx);
	assert_int_equal(s.rx, 3 * ARRAY_SIZE(rows));
	for (enum counter c = CNT_DECAP4; c <= CNT_DROP; c++)
		assert_int_equal(counter(&s, c), want[c]);
	assert_int_equal(s.rx, s.decap4 + s.decap6 + s.decap4in6 + s.pass + s.drop_malformed +
				   s.pass_other_mac);
}

/*
 * Frames not addressed to this backend pass untouched, whatever they carry:
 * a promiscuous NIC or a flooding switch hands it the IPIP frames of
 * another backend of the same VIP. Unicast differing in the first four or
 * the last two bytes (a compare of half the address would miss it),
 * broadcast, multicast; with no MAC set, nothing is decapsulated.
 */
static void test_frames_for_other_macs_pass(void **state)
{
	static const __u8 zero[6], macs[][6] = {
		{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x0d }, /* another backend */
		{ 0x06, 0x00, 0x00, 0x01, 0x00, 0x0b },
		{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x0b },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
	};
	struct fixture *fx = *state;
	__u8 in[PKT_MAX], inner[PKT_MAX], out[PKT_MAX];
	size_t len, inner_len, out_len, n = 0;
	struct xlb_decap_stats s0 = stats(fx), s1;

	for (size_t m = 0; m < ARRAY_SIZE(macs); m++) {
		for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
			if (!rows[i].decapsulated)
				continue;
			len = build_row(&rows[i], in, inner, &inner_len);
			memcpy(in, macs[m], 6);
			assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
			assert_frame(rows[i].desc, out, out_len, in, len);
			n++;
		}
	}
	s1 = stats(fx);
	assert_int_equal(s1.pass_other_mac - s0.pass_other_mac, n);
	assert_int_equal(s1.rx - s0.rx, n);
	assert_int_equal(s1.decap4 + s1.decap6 + s1.decap4in6,
			 s0.decap4 + s0.decap6 + s0.decap4in6);
	assert_int_equal(s1.pass, s0.pass);

	/* The same frames to this backend's MAC are stripped as ever. */
	len = build_row(&rows[0], in, inner, &inner_len);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_frame(rows[0].desc, out, out_len, inner, inner_len);

	assert_int_equal(xlb_decap__set_if_mac(fx->d, zero), 0);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("no MAC set", out, out_len, in, len);
	assert_int_equal(xlb_decap__set_if_mac(NULL, zero), -EINVAL);
}

/* Removing a VIP stops its decapsulation; bad arguments are refused. */
static void test_vip_add_del(void **state)
{
	struct fixture *fx = *state;
	__u8 in[PKT_MAX], inner[PKT_MAX], out[PKT_MAX];
	size_t len, inner_len, out_len;
	struct in_addr a4;

	assert_int_equal(inet_pton(AF_INET, VIP4, &a4), 1);
	len = build_row(&rows[0], in, inner, &inner_len);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_int_equal(out_len, inner_len);

	assert_int_equal(xlb_decap__del_vip(fx->d, 4, &a4), 0);
	assert_int_equal(xlb_decap__del_vip(fx->d, 4, &a4), -ENOENT);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("after del", out, out_len, in, len);

	/* The IPv4 address as an IPv6 family key is a different VIP. */
	assert_int_equal(xlb_decap__add_vip(fx->d, 6, &(struct in6_addr){ .s6_addr32[0] =
										   a4.s_addr }),
			 0);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_int_equal(out_len, len);

	assert_int_equal(xlb_decap__add_vip(fx->d, 4, &a4), 0);
	assert_int_equal(xlb_decap__add_vip(fx->d, 4, &a4), 0); /* twice is fine */
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("after re-add", out, out_len, inner, inner_len);

	assert_int_equal(xlb_decap__add_vip(fx->d, 5, &a4), -EINVAL);
	assert_int_equal(xlb_decap__add_vip(fx->d, 0, &a4), -EINVAL);
	assert_int_equal(xlb_decap__add_vip(fx->d, 4, NULL), -EINVAL);
	assert_int_equal(xlb_decap__del_vip(fx->d, 41, &a4), -EINVAL);
	assert_int_equal(xlb_decap__del_vip(fx->d, 6, NULL), -EINVAL);
	assert_int_equal(xlb_decap__add_vip(NULL, 4, &a4), -EINVAL);
}

static void test_open_bad_args(void **state)
{
	struct xlb_decap *d = (void *)1;
	char err[256] = "";

	(void)state;
	assert_int_equal(xlb_decap__open(NULL, false, NULL, err, sizeof(err)), -EINVAL);
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_int_equal(xlb_decap__open("xlb-no-such-if0", false, &d, err, sizeof(err)), -ENODEV);
	assert_null(d);
	assert_non_null(strstr(err, "xlb-no-such-if0"));
	xlb_decap__close(NULL);
}

/* ---- attaching, in a private network namespace ---------------------------- */

static __u32 attached_id(int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	assert_int_equal(bpf_xdp_query(ifindex, flags, &q), 0);
	return flags == XDP_FLAGS_SKB_MODE ? q.skb_prog_id : q.drv_prog_id;
}

/* A handle opened on xdec0 (MAC 02:..:d0) strips frames to that MAC only. */
static void check_if_mac(struct xlb_decap *d)
{
	static const __u8 xdec0_mac[6] = { 0x02, 0, 0, 0, 0, 0xd0 };
	struct fixture fx = { .d = d, .prog_fd = xlb_decap__prog_fd(d) };
	__u8 in[PKT_MAX], inner[PKT_MAX], out[PKT_MAX];
	size_t len, inner_len, out_len;
	struct in_addr a4;

	assert_int_equal(inet_pton(AF_INET, VIP4, &a4), 1);
	assert_int_equal(xlb_decap__add_vip(d, 4, &a4), 0);
	len = build_row(&rows[0], in, inner, &inner_len); /* to BACKEND_MAC */
	assert_int_equal(run(&fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("to another MAC", out, out_len, in, len);
	memcpy(in, xdec0_mac, 6);
	memcpy(inner, xdec0_mac, 6);
	assert_int_equal(run(&fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("to xdec0's MAC", out, out_len, inner, inner_len);
}

/* A private network namespace and bpffs, with veth xdec0 (MAC 02:..:d0). */
static void private_ns_with_veth(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
		print_message("no private namespace and bpffs: %s\n", strerror(errno));
		skip();
	}
	if (system("ip link add xdec0 type veth peer name xdec1 >/dev/null 2>&1 && "
		   "ip link set xdec0 address 02:00:00:00:00:d0 up && ip link set xdec1 up")) {
		print_message("cannot make a veth pair\n");
		skip();
	}
}

static void test_attach_detach(void **state)
{
	static const bool modes[] = { false, true };
	char err[256] = "";

	(void)state;
	/* A private bpffs too: libxdp makes its pin directory (xdp/) in the
	 * first bpffs it finds, which would outlive the test in the host's. */
	private_ns_with_veth();
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		__u32 flags = modes[i] ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
		int ifindex = (int)if_nametoindex("xdec0");
		struct xlb_decap *d = NULL;
		struct bpf_prog_info info = {};
		__u32 ilen = sizeof(info), id;
		int fd;

		assert_true(ifindex > 0);
		if (xlb_decap__open("xdec0", modes[i], &d, err, sizeof(err)))
			fail_msg("attach (%s): %s", modes[i] ? "generic" : "native", err);
		id = attached_id(ifindex, flags);
		assert_true(id != 0);
		/* Ours directly, or a libxdp dispatcher in front of it. */
		fd = bpf_prog_get_fd_by_id(id);
		assert_true(fd >= 0);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &ilen), 0);
		close(fd);
		if (strcmp(info.name, "xlb_decap") && strcmp(info.name, "xdp_dispatcher"))
			fail_msg("attached program is %s", info.name);
		check_if_mac(d);
		xlb_decap__close(d);
		assert_int_equal(attached_id(ifindex, flags), 0);
	}
	assert_int_equal(system("ip link del xdec0"), 0);
}

#define PIN_DIR XLB_DECAP_PIN_ROOT "/xdec0"

static bool pinned(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", PIN_DIR, name);
	return access(path, F_OK) == 0;
}

static bool all_pinned(void)
{
	return pinned(XLB_MAP_DECAP_VIPS) && pinned(XLB_MAP_DECAP_STATS) &&
	       pinned(XLB_MAP_DECAP_GUE_PORTS) && pinned(XLB_MAP_DECAP_NEIGH_WANTED);
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/*
 * xlb-decap's restart: a pinned handle closed leaves its program attached
 * and its maps pinned; the next one adopts them (VIPs, ports, counters) and
 * replaces the program in place; destroy and cleanup remove both.
 */
static void test_pinned_restart(void **state)
{
	static const __u8 xdec0_mac[6] = { 0x02, 0, 0, 0, 0, 0xd0 };
	struct xlb_decap *d = NULL, *d2 = NULL;
	struct fixture fx;
	struct xlb_decap_key keys[4];
	__u8 in[PKT_MAX], inner[PKT_MAX], out[PKT_MAX];
	size_t len, inner_len, out_len;
	char err[256] = "";
	struct in_addr a4;
	__u32 first_id, ifindex;
	__u16 ports[4];
	bool found = true;

	(void)state;
	private_ns_with_veth();
	ifindex = if_nametoindex("xdec0");
	assert_true(ifindex > 0);
	assert_int_equal(inet_pton(AF_INET, VIP4, &a4), 1);
	len = build_row(&rows[0], in, inner, &inner_len); /* IPv4-in-IPv4 to VIP4 */
	memcpy(in, xdec0_mac, 6);
	memcpy(inner, xdec0_mac, 6);

	/* First run: nothing pinned yet. */
	if (xlb_decap__open_pinned("xdec0", false, NULL, &d, err, sizeof(err)))
		fail_msg("open_pinned: %s", err);
	assert_false(xlb_decap__adopted(d));
	assert_true(all_pinned());
	assert_int_equal(xlb_decap__add_vip(d, 4, &a4), 0);
	first_id = prog_id_of(xlb_decap__prog_fd(d));
	assert_int_equal(attached_id((int)ifindex, XDP_FLAGS_DRV_MODE), first_id);
	fx = (struct fixture){ .d = d, .prog_fd = xlb_decap__prog_fd(d) };
	assert_int_equal(run(&fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("first run", out, out_len, inner, inner_len);
	/* A second process on the same pins is refused while this one runs. */
	assert_int_equal(xlb_decap__open_pinned("xdec0", false, NULL, &d2, err, sizeof(err)),
			 -EBUSY);
	assert_null(d2);

	/* Closed (SIGTERM, or a kill): the program and the pins stay. */
	xlb_decap__close(d);
	assert_int_equal(attached_id((int)ifindex, XDP_FLAGS_DRV_MODE), first_id);
	assert_true(all_pinned());

	/* Restarted: adopted, the program replaced in place, the state kept. */
	if (xlb_decap__open_pinned("xdec0", false, NULL, &d, err, sizeof(err)))
		fail_msg("open_pinned again: %s", err);
	assert_true(xlb_decap__adopted(d));
	assert_int_not_equal(prog_id_of(xlb_decap__prog_fd(d)), first_id);
	assert_int_equal(attached_id((int)ifindex, XDP_FLAGS_DRV_MODE),
			 prog_id_of(xlb_decap__prog_fd(d)));
	assert_int_equal(xlb_decap__vips(d, keys, ARRAY_SIZE(keys)), 1);
	assert_int_equal(keys[0].family, 4);
	assert_memory_equal(keys[0].addr, &a4, 4);
	assert_int_equal(xlb_decap__gue_ports(d, ports, ARRAY_SIZE(ports)), 1);
	assert_int_equal(ports[0], XLB_GUE_DEFAULT_PORT);
	fx = (struct fixture){ .d = d, .prog_fd = xlb_decap__prog_fd(d) };
	assert_int_equal(stats(&fx).decap4, 1); /* counted by the first program */
	assert_int_equal(run(&fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("after the restart", out, out_len, inner, inner_len);
	assert_int_equal(stats(&fx).decap4, 2);

	/* destroy: detached and unpinned. */
	assert_int_equal(xlb_decap__destroy(d, err, sizeof(err)), 0);
	assert_int_equal(attached_id((int)ifindex, XDP_FLAGS_DRV_MODE), 0);
	assert_int_equal(access(PIN_DIR, F_OK), -1);
	assert_int_equal(access(XLB_DECAP_PIN_ROOT, F_OK), -1);
	assert_int_equal(xlb_decap__cleanup("xdec0", NULL, &found, err, sizeof(err)), 0);
	assert_false(found);

	/* cleanup, without a handle, of what a closed one left. */
	if (xlb_decap__open_pinned("xdec0", true, NULL, &d, err, sizeof(err)))
		fail_msg("open_pinned, generic: %s", err);
	xlb_decap__close(d);
	assert_true(attached_id((int)ifindex, XDP_FLAGS_SKB_MODE) != 0);
	assert_int_equal(xlb_decap__cleanup("xdec0", NULL, &found, err, sizeof(err)), 0);
	assert_true(found);
	assert_int_equal(attached_id((int)ifindex, XDP_FLAGS_SKB_MODE), 0);
	assert_int_equal(access(PIN_DIR, F_OK), -1);
	/* unpinned handles never pin */
	if (xlb_decap__open("xdec0", false, &d, err, sizeof(err)))
		fail_msg("open: %s", err);
	assert_int_equal(access(XLB_DECAP_PIN_ROOT, F_OK), -1);
	xlb_decap__close(d);
	assert_int_equal(system("ip link del xdec0"), 0);
}

/* ---- the packet builder itself ------------------------------------------- */

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static void test_pkt_build(void **state)
{
	__u8 b[PKT_MAX];
	struct pkt_flow f = tcp4(VIP4, 0);
	size_t len;

	(void)state;
	len = pkt_build(&f, b);
	assert_int_equal(len, 14 + 20 + 20 + 32);
	assert_memory_equal(b, PKT_LB_MAC, 6);
	assert_memory_equal(b + 6, PKT_CLIENT_MAC, 6);
	assert_int_equal(get16(b + 12), 0x0800);
	assert_int_equal(b[14], 0x45);
	assert_int_equal(get16(b + 16), 20 + 20 + 32);
	assert_int_equal(get16(b + 20), 0x4000); /* DF */
	assert_int_equal(b[22], 64);
	assert_int_equal(b[23], IPPROTO_TCP);
	assert_int_equal(get16(b + 34), 40000);
	assert_int_equal(get16(b + 36), 80);
	assert_int_equal(b[34 + 13], 0x02);
	assert_true(pkt_ipv4_csum_ok(b + 14));
	assert_int_equal(pkt_ipv4_csum(b + 14), *(__u16 *)(b + 24));
	assert_true(pkt_l4_csum_ok(b, len));
	b[len - 1] ^= 0x40;
	assert_false(pkt_l4_csum_ok(b, len));
	b[24] ^= 1;
	assert_false(pkt_ipv4_csum_ok(b + 14));

	f = udp6(VIP6, 42);
	f.payload_len = 1001; /* odd */
	len = pkt_build(&f, b);
	assert_int_equal(len, 18 + 40 + 8 + 1001);
	assert_int_equal(get16(b + 12), 0x8100);
	assert_int_equal(get16(b + 14), 42);
	assert_int_equal(get16(b + 16), 0x86dd);
	assert_int_equal(b[18] >> 4, 6);
	assert_int_equal(get16(b + 22), 8 + 1001);
	assert_int_equal(b[24], IPPROTO_UDP);
	assert_int_equal(b[25], 64);
	assert_int_equal(get16(b + 58 + 4), 8 + 1001);
	assert_int_equal(pkt_l3_offset(b, len), 18);
	assert_true(pkt_l4_csum_ok(b, len));
	assert_false(pkt_l4_csum_ok(b, len - 1)); /* truncated */

	f = tcp6(VIP6, 0);
	len = pkt_build(&f, b);
	assert_int_equal(len, 14 + 40 + 20 + 100);
	assert_true(pkt_l4_csum_ok(b, len));

	/* Bad input: nothing built. */
	f = tcp4("198.18.1.300", 0);
	assert_int_equal(pkt_build(&f, b), 0);
	f = tcp4(VIP4, 0);
	f.family = 5;
	assert_int_equal(pkt_build(&f, b), 0);
	f = tcp4(VIP4, 0);
	f.proto = IPPROTO_ICMP;
	assert_int_equal(pkt_build(&f, b), 0);
	f = tcp4(VIP4, 0);
	f.payload_len = PKT_MAX;
	assert_int_equal(pkt_build(&f, b), 0);
	f.payload_len = PKT_MAX - 14 - 20 - 20;
	assert_int_equal(pkt_build(&f, b), PKT_MAX);
}

static void test_pkt_icmp_too_big(void **state)
{
	__u8 b[PKT_MAX], orig[PKT_MAX];
	struct pkt_flow o4 = { .family = 4, .saddr = VIP4, .daddr = CLIENT4, .sport = 80,
			       .dport = 40001, .proto = IPPROTO_TCP, .tcp_flags = 0x10,
			       .payload_len = 1401 - 40 };
	struct pkt_flow o6 = { .family = 6, .saddr = VIP6, .daddr = CLIENT6, .sport = 53,
			       .dport = 40002, .proto = IPPROTO_UDP,
			       .payload_len = 1281 - 40 - 8 };
	__u8 router[16];
	size_t len;

	(void)state;
	len = pkt_build_icmp_too_big(4, "198.18.0.254", VIP4, 80, CLIENT4, 40001, IPPROTO_TCP,
				     1400, b);
	assert_int_equal(len, 14 + 20 + 8 + 20 + 8);
	assert_int_equal(get16(b + 12), 0x0800);
	assert_true(pkt_ipv4_csum_ok(b + 14));
	assert_int_equal(b[23], IPPROTO_ICMP);
	assert_int_equal(inet_pton(AF_INET, "198.18.0.254", router), 1);
	assert_memory_equal(b + 26, router, 4);
	assert_int_equal(b[34], 3);
	assert_int_equal(b[35], 4);
	assert_int_equal(get16(b + 38), 0);
	assert_int_equal(get16(b + 40), 1400);
	assert_true(pkt_l4_csum_ok(b, len)); /* the ICMP checksum */
	assert_int_equal(pkt_build(&o4, orig), 14 + 1401);
	assert_memory_equal(b + 42, orig + 14, 28); /* IP header + 8 bytes of TCP */
	assert_true(pkt_ipv4_csum_ok(b + 42));

	len = pkt_build_icmp_too_big(6, "2001:2::fe", VIP6, 53, CLIENT6, 40002, IPPROTO_UDP,
				     1280, b);
	assert_int_equal(len, 14 + 40 + 8 + 40 + 8);
	assert_int_equal(get16(b + 12), 0x86dd);
	assert_int_equal(get16(b + 18), 8 + 48);
	assert_int_equal(b[20], IPPROTO_ICMPV6);
	assert_int_equal(b[54], 2);
	assert_int_equal(b[55], 0);
	assert_int_equal(get16(b + 58), 0);
	assert_int_equal(get16(b + 60), 1280);
	assert_true(pkt_l4_csum_ok(b, len)); /* the ICMPv6 checksum */
	assert_int_equal(pkt_build(&o6, orig), 14 + 1281);
	assert_memory_equal(b + 62, orig + 14, 48); /* IPv6 header + UDP header */

	assert_int_equal(pkt_build_icmp_too_big(4, "x", VIP4, 80, CLIENT4, 1, IPPROTO_TCP, 1400,
						b),
			 0);
	assert_int_equal(pkt_build_icmp_too_big(4, "198.18.0.254", VIP4, 80, CLIENT4, 1,
						IPPROTO_TCP, 70000, b),
			 0);
	assert_int_equal(pkt_build_icmp_too_big(6, "2001:2::fe", VIP6, 80, CLIENT6, 1,
						IPPROTO_ICMPV6, 1280, b),
			 0);
}

static void test_pkt_encap(void **state)
{
	__u8 inner[PKT_MAX], b[PKT_MAX];
	struct pkt_flow f = tcp4(VIP4, 0);
	size_t ilen = pkt_build(&f, inner), len;
	struct pkt_encap e = { .outer_family = 4, .saddr = LB_SRC4, .daddr = BACKEND4,
			       .ip4_opts = OPTS8, .ip4_opts_len = 8 };

	(void)state;
	len = pkt_build_encap(4, LB_SRC4, BACKEND4, inner, ilen, b);
	assert_int_equal(len, ilen + 20);
	assert_memory_equal(b, inner, 12);
	assert_int_equal(get16(b + 12), 0x0800);
	assert_int_equal(b[14], 0x45);
	assert_int_equal(get16(b + 16), ilen - 14 + 20);
	assert_int_equal(get16(b + 20), 0x4000);
	assert_int_equal(b[22], 64);
	assert_int_equal(b[23], IPPROTO_IPIP);
	assert_true(pkt_ipv4_csum_ok(b + 14));
	assert_memory_equal(b + 34, inner + 14, ilen - 14);
	assert_true(pkt_l4_csum_ok(b, len)); /* outer header + inner L4 */

	len = pkt_build_encap(6, LB_SRC6, BACKEND6, inner, ilen, b);
	assert_int_equal(len, ilen + 40);
	assert_int_equal(get16(b + 12), 0x86dd);
	assert_int_equal(get16(b + 18), ilen - 14);
	assert_int_equal(b[20], IPPROTO_IPIP);
	assert_int_equal(b[21], 64);
	assert_memory_equal(b + 54, inner + 14, ilen - 14);
	assert_true(pkt_l4_csum_ok(b, len));

	len = pkt_build_encap_ex(&e, inner, ilen, b);
	assert_int_equal(len, ilen + 28);
	assert_int_equal(b[14], 0x47);
	assert_memory_equal(b + 34, OPTS8, 8);
	assert_true(pkt_ipv4_csum_ok(b + 14));
	assert_true(pkt_l4_csum_ok(b, len));

	f = tcp6(VIP6, 33);
	ilen = pkt_build(&f, inner);
	len = pkt_build_encap(6, LB_SRC6, BACKEND6, inner, ilen, b);
	assert_int_equal(len, ilen + 40);
	assert_memory_equal(b, inner, 16); /* MACs and the VLAN tag */
	assert_int_equal(get16(b + 16), 0x86dd);
	assert_int_equal(b[24], IPPROTO_IPV6);
	assert_true(pkt_l4_csum_ok(b, len));

	assert_int_equal(pkt_build_encap(5, LB_SRC4, BACKEND4, inner, ilen, b), 0);
	assert_int_equal(pkt_build_encap(4, LB_SRC6, BACKEND4, inner, ilen, b), 0);
	assert_int_equal(pkt_build_encap(4, LB_SRC4, BACKEND4, inner, 14, b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt_build),
		cmocka_unit_test(test_pkt_icmp_too_big),
		cmocka_unit_test(test_pkt_encap),
		cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vip_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frames_for_other_macs_pass, setup, teardown),
		cmocka_unit_test(test_open_bad_args),
		cmocka_unit_test(test_attach_detach),
		cmocka_unit_test(test_pinned_restart),
	};

	if (geteuid() != 0) {
		printf("test_decap needs root (BPF_PROG_TEST_RUN, XDP attach)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
