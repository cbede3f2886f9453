/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * GUE in the backend's decapsulator (bpf/gue_decap.h) through
 * BPF_PROG_TEST_RUN, in a network namespace of the test's own where the
 * sockets are real: a SYN and a packet of an established connection stay
 * here; a packet without a socket goes on to its alternate with the exact
 * outer header docs/GUE.md says; without an alternate or a hop left it
 * stays; bad headers are dropped and no truncation is ever sent on.
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
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lib/pkt.h"
#include "lib/pkt_gue.h"
#include "maps/xlb_maps.h"
#include "userspace/xlb-decap/decap.h"

#define IFACE "xgue0"
#define VIP4 "198.18.1.100"
#define VIP6 "2001:2::100"
#define CLIENT4 "198.18.0.1"
#define CLIENT6 "2001:2::1"
#define LB_SRC4 "198.19.0.7"
#define LB_SRC6 "2001:2:0:ffff::7"
#define SELF4 "198.18.0.12" /* this backend, on IFACE */
#define SELF6 "2001:2::12"
#define ALT4 "198.18.0.13" /* the alternate: a permanent neighbour */
#define ALT6 "2001:2::13"
#define NONEIGH4 "198.18.0.14" /* on the segment, MAC unknown */
#define PORT 19523
#define ESTABLISHED_PORT 5555

static const __u8 ALT_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x03 };
static const __u8 ROUTER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c };

struct fixture {
	struct xlb_decap *d;
	int prog_fd, ifindex;
	int fds[8], nfds;
};

static void sh(const char *cmd)
{
	if (system(cmd))
		fail_msg("failed: %s", cmd);
}

/* A connection client:ESTABLISHED_PORT -> vip:80 over lo, kept open. */
static void connect_pair(struct fixture *fx, int af, const char *client, const char *vip)
{
	struct sockaddr_storage ls = {}, cs = {};
	socklen_t len = af == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int one = 1, l = socket(af, SOCK_STREAM, 0), c = socket(af, SOCK_STREAM, 0);

	if (af == AF_INET) {
		struct sockaddr_in *a = (void *)&ls, *b = (void *)&cs;

		a->sin_family = b->sin_family = AF_INET;
		a->sin_port = htons(80);
		b->sin_port = htons(ESTABLISHED_PORT);
		inet_pton(AF_INET, vip, &a->sin_addr);
		inet_pton(AF_INET, client, &b->sin_addr);
	} else {
		struct sockaddr_in6 *a = (void *)&ls, *b = (void *)&cs;

		a->sin6_family = b->sin6_family = AF_INET6;
		a->sin6_port = htons(80);
		b->sin6_port = htons(ESTABLISHED_PORT);
		inet_pton(AF_INET6, vip, &a->sin6_addr);
		inet_pton(AF_INET6, client, &b->sin6_addr);
	}
	assert_true(l >= 0 && c >= 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (void *)&ls, len) || listen(l, 8))
		fail_msg("listen on %s: %s", vip, strerror(errno));
	if (bind(c, (void *)&cs, len) || connect(c, (void *)&ls, len))
		fail_msg("connect %s -> %s: %s", client, vip, strerror(errno));
	fx->fds[fx->nfds++] = l;
	fx->fds[fx->nfds++] = c;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct in6_addr a6;
	struct in_addr a4;
	char err[256] = "";

	/* A network namespace (and bpffs) of our own: sockets and routes. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		fail_msg("unshare: %s", strerror(errno));
	sh("ip link set lo up && "
	   "ip addr add " VIP4 "/32 dev lo && ip addr add " CLIENT4 "/32 dev lo && "
	   "ip addr add " VIP6 "/128 dev lo nodad && ip addr add " CLIENT6 "/128 dev lo nodad && "
	   "ip link add " IFACE " type veth peer name xgue1 && "
	   "ip link set " IFACE " address 02:00:00:00:00:02 && "
	   "ip addr add " SELF4 "/24 dev " IFACE " && "
	   "ip addr add " SELF6 "/64 dev " IFACE " nodad && "
	   "ip link set " IFACE " up && ip link set xgue1 up && "
	   "sysctl -qw net.ipv4.conf." IFACE ".forwarding=1 && "
	   "sysctl -qw net.ipv6.conf." IFACE ".forwarding=1 && "
	   "ip neigh add " ALT4 " lladdr 02:00:00:00:01:03 nud permanent dev " IFACE " && "
	   "ip neigh add " ALT6 " lladdr 02:00:00:00:01:03 nud permanent dev " IFACE);
	connect_pair(fx, AF_INET, CLIENT4, VIP4);
	connect_pair(fx, AF_INET6, CLIENT6, VIP6);
	/* Attached, so the veth has an XDP receive queue test runs can name. */
	if (xlb_decap__open(IFACE, false, &fx->d, err, sizeof(err)))
		fail_msg("xlb_decap__open: %s", err);
	fx->prog_fd = xlb_decap__prog_fd(fx->d);
	fx->ifindex = (int)if_nametoindex(IFACE);
	assert_int_equal(inet_pton(AF_INET, VIP4, &a4), 1);
	assert_int_equal(inet_pton(AF_INET6, VIP6, &a6), 1);
	assert_int_equal(xlb_decap__add_vip(fx->d, 4, &a4), 0);
	assert_int_equal(xlb_decap__add_vip(fx->d, 6, &a6), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	xlb_decap__close(fx->d);
	for (int i = 0; i < fx->nfds; i++)
		close(fx->fds[i]);
	free(fx);
	return 0;
}

/* Runs the program on frame as received on IFACE; out gets the result. */
static int run(struct fixture *fx, const __u8 *in, size_t len, __u8 *out, size_t *out_len)
{
	struct xdp_md ctx = { .data_end = (__u32)len, .ingress_ifindex = (__u32)fx->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(fx->prog_fd, &t))
		fail_msg("test run: %s", strerror(errno));
	*out_len = t.data_size_out;
	return (int)t.retval;
}

static struct xlb_decap_stats stats(struct fixture *fx)
{
	struct xlb_decap_stats s;

	assert_int_equal(xlb_decap__stats(fx->d, &s), 0);
	return s;
}

/* The client's frame for a VIP, and the GUE frame a balancer sends of it. */
struct sample {
	__u8 inner[PKT_MAX], frame[PKT_MAX];
	size_t inner_len, len;
};

/* The client's TCP segment client:sport -> vip:80 of family inner. */
static struct pkt_flow client_tcp(int inner, __u16 sport, __u8 flags)
{
	return (struct pkt_flow){
		.family = inner, .saddr = inner == 4 ? CLIENT4 : CLIENT6,
		.daddr = inner == 4 ? VIP4 : VIP6, .sport = sport, .dport = 80,
		.proto = IPPROTO_TCP, .tcp_flags = flags, .payload_len = 40,
	};
}

static void build_flow(struct sample *s, int outer, const struct pkt_flow *f, const char *alt,
		       __u8 hops)
{
	struct pkt_gue g = {
		.outer_family = outer, .saddr = outer == 4 ? LB_SRC4 : LB_SRC6,
		.daddr = outer == 4 ? SELF4 : SELF6, .dmac = PKT_LB_MAC, .smac = ROUTER_MAC,
		.sport = 0xc123, .dport = PORT, .hops = hops, .alt = alt, .table_gen = 7,
	};

	s->inner_len = pkt_build(f, s->inner);
	assert_true(s->inner_len > 0);
	s->len = pkt_build_gue(&g, s->inner, s->inner_len, s->frame);
	assert_true(s->len > 0);
}

static void build(struct sample *s, int outer, int inner, __u16 sport, __u8 flags,
		  const char *alt, __u8 hops)
{
	struct pkt_flow f = client_tcp(inner, sport, flags);

	build_flow(s, outer, &f, alt, hops);
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

/* Decapsulated and passed: the client's frame, MACs as received. */
static void expect_local(struct fixture *fx, const struct sample *s, const char *what)
{
	__u8 out[PKT_MAX], exp[PKT_MAX];
	size_t out_len;

	assert_int_equal(run(fx, s->frame, s->len, out, &out_len), XDP_PASS);
	memcpy(exp, s->inner, s->inner_len);
	memcpy(exp, PKT_LB_MAC, 6);
	memcpy(exp + 6, ROUTER_MAC, 6);
	assert_frame(what, out, out_len, exp, s->inner_len);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_syn_stays(void **state)
{
	struct fixture *fx = *state;
	struct sample s;

	build(&s, 4, 4, 40000, 0x02, ALT4, 1);
	expect_local(fx, &s, "SYN, 4in4");
	build(&s, 6, 6, 40000, 0x02, ALT6, 1);
	expect_local(fx, &s, "SYN, 6in6");
	assert_int_equal(stats(fx).gue_local, 2);
	assert_int_equal(stats(fx).decap4, 1);
	assert_int_equal(stats(fx).decap6, 1);
	assert_int_equal(stats(fx).gue_redirected, 0);
}

static void test_established_stays(void **state)
{
	struct fixture *fx = *state;
	struct sample s;

	build(&s, 4, 4, ESTABLISHED_PORT, 0x10, ALT4, 1);
	expect_local(fx, &s, "established, 4in4");
	build(&s, 6, 6, ESTABLISHED_PORT, 0x18, ALT6, 1);
	expect_local(fx, &s, "established, 6in6");
	build(&s, 6, 4, ESTABLISHED_PORT, 0x10, ALT6, 1);
	expect_local(fx, &s, "established, 4in6");
	assert_int_equal(stats(fx).gue_local, 3);
	assert_int_equal(stats(fx).decap4in6, 1);
}

/*
 * No socket (a listener on VIP:80 is not one for an ACK without a SYN
 * cookie): on to the alternate, source this host, one hop less, the
 * alternate's MAC from the kernel's neighbour table.
 */
static void test_no_socket_redirected(void **state)
{
	static const struct {
		int outer, inner;
		const char *self, *alt;
	} rows[] = { { 4, 4, SELF4, ALT4 }, { 6, 6, SELF6, ALT6 }, { 6, 4, SELF6, ALT6 } };
	struct fixture *fx = *state;

	for (size_t r = 0; r < 3; r++) {
		__u8 out[PKT_MAX], exp[PKT_MAX];
		size_t out_len, exp_len;
		struct sample s;
		struct pkt_gue g = {
			.outer_family = rows[r].outer, .saddr = rows[r].self,
			.daddr = rows[r].alt, .dmac = ALT_MAC, .smac = PKT_LB_MAC,
			.sport = 0xc123, .dport = PORT, .hops = 0, .alt = rows[r].alt,
			.table_gen = 7,
		};

		build(&s, rows[r].outer, rows[r].inner, 41000, 0x10, rows[r].alt, 1);
		assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_TX);
		exp_len = pkt_build_gue(&g, s.inner, s.inner_len, exp);
		assert_frame(rows[r].alt, out, out_len, exp, exp_len);
		if (rows[r].outer == 4)
			assert_true(pkt_ipv4_csum_ok(out + 14));
	}
	assert_int_equal(stats(fx).gue_redirected, 3);
	assert_int_equal(stats(fx).gue_local, 0);
}

static void test_no_socket_no_alternate_stays(void **state)
{
	struct fixture *fx = *state;
	struct sample s;

	build(&s, 4, 4, 41000, 0x10, NULL, 1);
	expect_local(fx, &s, "no alternate, v4");
	build(&s, 6, 6, 41000, 0x11, NULL, 1);
	expect_local(fx, &s, "no alternate, v6");
	assert_int_equal(stats(fx).gue_no_alt, 2);
}

static void test_hops_exhausted_stays(void **state)
{
	struct fixture *fx = *state;
	struct sample s;

	build(&s, 4, 4, 41000, 0x10, ALT4, 0);
	expect_local(fx, &s, "hops 0, v4");
	build(&s, 6, 6, 41000, 0x10, ALT6, 0);
	expect_local(fx, &s, "hops 0, v6");
	assert_int_equal(stats(fx).gue_hops_exhausted, 2);
	assert_int_equal(stats(fx).gue_redirected, 0);
}

/*
 * The cookie the stack answers a SYN (seq 1, no options) from client:sport
 * to vip:80 with, under net.ipv4.tcp_syncookies=2 (a cookie for every SYN,
 * no request socket kept): the SYN goes in on lo through a packet socket,
 * and the SYN-ACK's sequence number is read off lo.
 */
static __u32 syn_cookie(int family, __u16 sport)
{
	struct pkt_flow f = client_tcp(family, sport, 0x02);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex("lo"), .sll_halen = 6 };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	__u8 frame[PKT_MAX];
	size_t len;
	int fd;

	f.payload_len = 0;
	len = pkt_build(&f, frame);
	assert_true(len > 0);
	memset(frame, 0, 12); /* lo's MAC, or the stack takes it for another host's */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (void *)&sll, sizeof(sll)) ||
	    sendto(fd, frame, len, 0, (void *)&sll, sizeof(sll)) != (ssize_t)len)
		fail_msg("injecting a SYN on lo: %s", strerror(errno));
	/* Bounded: the SYN-ACK follows at once; 50 frames or 10 s at most. */
	for (int i = 0; i < 50; i++) {
		ssize_t n = recv(fd, frame, sizeof(frame), 0);
		size_t l4 = family == 4 ? 14 + 20 : 14 + 40;
		const __u8 *th = frame + l4;

		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < (ssize_t)(l4 + 20) || frame[family == 4 ? 14 + 9 : 14 + 6] != IPPROTO_TCP)
			continue;
		if (((th[0] << 8) | th[1]) == 80 && ((th[2] << 8) | th[3]) == sport &&
		    (th[13] & 0x12) == 0x12) {
			close(fd);
			return (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
		}
	}
	close(fd);
	fail_msg("no SYN-ACK on lo for port %u", sport);
	return 0;
}

/*
 * An ACK completing a SYN cookie handshake with the listener here has no
 * socket yet, but is this host's (bpf_tcp_check_syncookie): it stays, and
 * the stack makes the connection. The same ACK with a wrong cookie is a
 * mid-connection packet of a connection that lives elsewhere: it goes on.
 */
static void test_syncookie_ack_stays(void **state)
{
	static const struct {
		int family;
		const char *alt;
		__u16 sport;
	} rows[] = { { 4, ALT4, 42000 }, { 6, ALT6, 42001 } };
	struct fixture *fx = *state;
	__u8 out[PKT_MAX];
	size_t out_len;

	/* a cookie for every SYN; a SYN put on lo from a local address taken */
	sh("sysctl -qw net.ipv4.tcp_syncookies=2 net.ipv4.conf.lo.accept_local=1");
	for (size_t r = 0; r < 2; r++) {
		struct pkt_flow f = client_tcp(rows[r].family, rows[r].sport, 0x10);
		__u32 cookie = syn_cookie(rows[r].family, rows[r].sport);
		struct sample s;

		f.seqs = true;
		f.seq = 2;
		/* Not the cookie: its top byte counts minutes, one ahead is from the
		 * future (cookie + 2 would only read as another MSS).
		 */
		f.ack_seq = cookie + 1 + (1u << 24);
		build_flow(&s, rows[r].family, &f, rows[r].alt, 1);
		assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_TX);
		f.ack_seq = cookie + 1;
		build_flow(&s, rows[r].family, &f, rows[r].alt, 1);
		expect_local(fx, &s, rows[r].family == 4 ? "cookie ACK, v4" : "cookie ACK, v6");
	}
	assert_int_equal(stats(fx).gue_local, 2);
	assert_int_equal(stats(fx).gue_redirected, 2);
}

/* The alternate's MAC is unknown: dropped for now, and asked for. */
static void test_alternate_without_mac(void **state)
{
	struct fixture *fx = *state;
	__u8 out[PKT_MAX];
	size_t out_len;
	struct sample s;

	build(&s, 4, 4, 41000, 0x10, NONEIGH4, 1);
	assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_DROP);
	assert_int_equal(stats(fx).gue_no_neigh, 1);
	assert_int_equal(xlb_decap__resolve_wanted(fx->d), 1);
	assert_int_equal(xlb_decap__resolve_wanted(fx->d), 0);
	/* off the segment, no route out of IFACE: decapsulated here */
	build(&s, 4, 4, 41000, 0x10, "198.18.200.1", 1);
	expect_local(fx, &s, "alternate without a route");
	assert_int_equal(stats(fx).gue_no_route, 1);
}

/* Each bad header, made from a good redirectable frame: dropped, counted. */
static void test_bad_gue_dropped(void **state)
{
	struct fixture *fx = *state;
	struct sample s4, s6;
	size_t g4, g6;
	int n = 0;
	/* offset from the GUE header, value */
	static const struct {
		int outer;
		size_t off;
		__u8 val;
		const char *what;
	} rows[] = {
		{ 4, 0, 0x43, "version 1" },
		{ 4, 0, 0x23, "C bit" },
		{ 4, 0, 0x02, "Hlen without the alternate" },
		{ 4, 0, 0x06, "Hlen of an IPv6 alternate in IPv4" },
		{ 4, 1, 17, "proto UDP" },
		{ 4, 2, 0x80, "a flag" },
		{ 4, 4, 0x00, "GLB's private data type" },
		{ 4, 6, 2, "hops above the maximum" },
		{ 4, 7, 6, "alternate of the other family" },
		{ 4, 7, 5, "alternate of no family" },
		{ 4, 0, 0x83, "version 2" },
		{ 4, 0, 0xc3, "version 3" },
		{ 4, 3, 0x01, "a flag in the flags' second byte" },
		{ 4, 0, 0x1f, "Hlen 31" },
		{ 6, 0, 0x03, "Hlen of an IPv4 alternate in IPv6" },
		{ 6, 0, 0x02, "Hlen without the IPv6 alternate" },
		{ 6, 7, 4, "IPv4 alternate in IPv6" },
		{ 6, 6, 0xff, "hops 255" },
		{ 6, 6, 2, "hops above the maximum, IPv6" },
		{ 6, 0, 0x46, "version 1, IPv6" },
		{ 6, 0, 0x26, "C bit, IPv6" },
		{ 6, 2, 0x01, "a flag, IPv6" },
		{ 6, 1, 0, "proto 0, IPv6" },
		{ 6, 5, 0x00, "another private data type, IPv6" },
	};

	build(&s4, 4, 4, 41000, 0x10, ALT4, 1);
	build(&s6, 6, 6, 41000, 0x10, ALT6, 1);
	g4 = pkt_gue_offset(s4.frame, s4.len);
	g6 = pkt_gue_offset(s6.frame, s6.len);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct sample s = rows[r].outer == 4 ? s4 : s6;
		__u8 out[PKT_MAX];
		size_t out_len, g = rows[r].outer == 4 ? g4 : g6;

		s.frame[g + rows[r].off] = rows[r].val;
		if (run(fx, s.frame, s.len, out, &out_len) != XDP_DROP)
			fail_msg("%s: not dropped", rows[r].what);
		n++;
	}
	/* a UDP length past the IP packet's, and below the headers' */
	{
		struct sample s = s4;
		__u8 out[PKT_MAX];
		size_t out_len;
		__u16 c;

		s.frame[14 + 20 + 4] = 0x7f;
		assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_DROP);
		s = s4;
		s.frame[14 + 20 + 4] = 0;
		s.frame[14 + 20 + 5] = 8 + 4 + 12 + 19;
		assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_DROP);
		s = s6;
		s.frame[14 + 40 + 4] = 0x7f;
		assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_DROP);
		/* IP lengths past the frame: the frame was cut */
		s = s4;
		s.frame[14 + 2] += 1; /* total length + 256 */
		s.frame[14 + 10] = s.frame[14 + 11] = 0;
		c = pkt_ipv4_csum(s.frame + 14);
		memcpy(s.frame + 14 + 10, &c, 2);
		assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_DROP);
		s = s6;
		s.frame[14 + 4] += 1; /* payload length + 256 */
		assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_DROP);
		n += 5;
	}
	assert_int_equal(stats(fx).gue_bad, n);
	assert_int_equal(stats(fx).gue_redirected, 0);
}

/*
 * Every cut of a frame that, whole, goes on to its alternate: dropped or
 * passed, never sent on.
 */
static void test_truncations_never_sent(void **state)
{
	struct fixture *fx = *state;
	struct sample s[2];

	build(&s[0], 4, 4, 41000, 0x10, ALT4, 1);
	build(&s[1], 6, 6, 41000, 0x10, ALT6, 1);
	for (int k = 0; k < 2; k++) {
		for (size_t cut = 14; cut < s[k].len; cut++) {
			__u8 out[PKT_MAX];
			size_t out_len;
			int v = run(fx, s[k].frame, cut, out, &out_len);

			if (v != XDP_DROP && v != XDP_PASS)
				fail_msg("outer v%d cut at %zu: verdict %d", k ? 6 : 4, cut, v);
		}
	}
	assert_int_equal(stats(fx).gue_redirected, 0);
	/* and whole, it is */
	{
		__u8 out[PKT_MAX];
		size_t out_len;

		assert_int_equal(run(fx, s[0].frame, s[0].len, out, &out_len), XDP_TX);
	}
}

/* Not a VIP inside, or not the GUE port: untouched. */
static void test_not_ours_untouched(void **state)
{
	struct fixture *fx = *state;
	__u8 out[PKT_MAX];
	size_t out_len;
	struct sample s;

	build(&s, 4, 4, 41000, 0x10, ALT4, 1);
	s.frame[14 + 20 + 3] ^= 1; /* UDP port 19522 */
	assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_PASS);
	assert_frame("other port", out, out_len, s.frame, s.len);
	build(&s, 4, 4, 41000, 0x10, ALT4, 1);
	s.frame[s.len - s.inner_len + 14 + 19] ^= 1; /* inner destination VIP4 + 1 */
	assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_PASS);
	assert_frame("not a VIP", out, out_len, s.frame, s.len);
	assert_int_equal(stats(fx).gue_redirected + stats(fx).gue_local + stats(fx).gue_bad, 0);
	/* another port configured */
	assert_int_equal(xlb_decap__add_gue_port(fx->d, 19522), 0);
	build(&s, 4, 4, ESTABLISHED_PORT, 0x10, ALT4, 1);
	s.frame[14 + 20 + 3] ^= 1;
	assert_int_equal(run(fx, s.frame, s.len, out, &out_len), XDP_PASS);
	assert_int_equal(stats(fx).gue_local, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syn_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_established_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_socket_redirected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_socket_no_alternate_stays, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hops_exhausted_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syncookie_ack_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alternate_without_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_gue_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncations_never_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ours_untouched, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("skipped: needs root (BPF, a network namespace)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
