/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Packet tests of the real balancer object through BPF_PROG_TEST_RUN, with
 * the maps set up by the userspace library. Every forwarded packet is
 * compared byte for byte with the frame the test builds independently, and
 * the chosen backend with the one the Maglev table and flow hash predict.
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
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "maps/xlb_hash.h"
#include "maps/xlb_ratelimit.h"
#include "lib/outcomes.h"
#include "lib/pkt.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/log.h"
#include "userspace/lib/maglev.h"
#include "userspace/xlbd/reconcile.h"
#include "userspace/lib/table_digest.h"

/* The balancer's interface MAC: the address pkt_build() sends frames to, as
 * the data path acts only on frames addressed to its interface.
 */
#define LB_IF_MAC PKT_LB_MAC

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

/* Backend i of a test pool: 198.18.0.(10+i) or 2001:2::(10+i), MAC 02:..:01:i. */
static struct xlb_dp_backend backend(int family, int i, __u16 weight)
{
	struct xlb_dp_backend b = { .family = family, .weight = weight };
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

static void add_vip(struct fixture *fx, const char *name, enum xlb_algo algo,
		    enum xlb_forward fwd, int family, int nbackends)
{
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_backend b[64];

	assert_true(nbackends <= 64);
	if (xlb_dp__vip_add(fx->dp, &v, algo, fwd, 0, fx->err, sizeof(fx->err)))
		fail_msg("vip_add %s: %s", name, fx->err);
	for (int i = 0; i < nbackends; i++)
		b[i] = backend(family, i + 1, 100);
	if (xlb_dp__set_backends(fx->dp, &v, b, nbackends, fx->err, sizeof(fx->err)))
		fail_msg("set_backends %s: %s", name, fx->err);
}

/* The fixture: a connection table of conntrack_size flows a family,
 * flow_cache_sets sets a CPU in the flow cache (0: as xlbd has it).
 */
static int setup_sized(void **state, __u32 conntrack_size, __u32 flow_cache_sets)
{
	struct xlb_dp_opts opts = { .conntrack_size = conntrack_size, .test_poison = true,
				    .test_clock = true, .flow_cache_sets = flow_cache_sets,
				    .mtu = 1500 };
	struct fixture *fx = calloc(1, sizeof(*fx));

	memcpy(opts.if_mac, LB_IF_MAC, 6);
	inet_pton(AF_INET, "198.19.0.0", &opts.ipip_src4);
	inet_pton(AF_INET6, "2001:2:0:ffff::", opts.ipip_src6);
	if (xlb_dp__open(&opts, &fx->dp, fx->err, sizeof(fx->err)))
		fail_msg("xlb_dp__open: %s", fx->err);
	add_vip(fx, "198.18.1.100:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, XLB_AF_INET, 3);
	add_vip(fx, "198.18.1.100:53/udp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	add_vip(fx, "198.18.1.100:443/tcp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	add_vip(fx, "198.18.1.100:54/udp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, XLB_AF_INET, 3);
	add_vip(fx, "[2001:2::100]:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, XLB_AF_INET6, 3);
	add_vip(fx, "[2001:2::100]:53/udp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET6, 3);
	add_vip(fx, "[2001:2::100]:443/tcp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET6, 3);
	add_vip(fx, "[2001:2::100]:54/udp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, XLB_AF_INET6, 3);
	add_vip(fx, "198.18.1.101:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, XLB_AF_INET6, 3);
	add_vip(fx, "198.18.1.102:0/tcp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	add_vip(fx, "198.18.1.103:80/tcp", XLB_ALGO_SOURCE_HASH, XLB_FWD_L2DSR, XLB_AF_INET, 10);
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_sized(state, 4096, 0);
}

/* One set a CPU: any three flows take turns in its two ways. */
static int setup_one_set(void **state)
{
	return setup_sized(state, 4096, 1);
}

/* Room in the table for more flows than a flow cache sample; 16,384 sets a
 * CPU, whatever the CPU count.
 */
static int setup_big_table(void **state)
{
	return setup_sized(state, 4 * XLB_FLOW_CACHE_SAMPLE, 16384);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	xlb_dp__close(fx->dp);
	free(fx);
	return 0;
}

/* The outcome counters summed: what every packet seen must add up to. */
static struct outcomes outcomes(struct fixture *fx)
{
	struct xlb_dp_stats s;

	assert_int_equal(xlb_dp__stats(fx->dp, &s), 0);
	return outcomes_of(&s);
}

/* Every packet run is accounted for (lib/outcomes.h). */
static void assert_accounted(const struct outcomes *a, const struct outcomes *b, __u64 n,
			     int verdict)
{
	char msg[160];

	if (outcomes_unaccounted(a, b, n, verdict, msg, sizeof(msg)))
		fail_msg("%s", msg);
}

/* Runs the balancer once on pkt. Returns the verdict; out gets the result. */
static int run(struct fixture *fx, const __u8 *pkt, size_t len, __u8 *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = 1);
	struct outcomes before = outcomes(fx), after;
	int ret = bpf_prog_test_run_opts(xlb_dp__prog_fd(fx->dp), &t);

	if (ret)
		ret = -errno;
	after = outcomes(fx);
	/* A frame the kernel refused was never seen. */
	assert_accounted(&before, &after, ret ? 0 : 1, ret ? -1 : (int)t.retval);
	if (ret)
		return ret;
	*out_len = t.data_size_out;
	return t.retval;
}

static struct xlb_dp_stats stats(struct fixture *fx)
{
	struct xlb_dp_stats s;

	assert_int_equal(xlb_dp__stats(fx->dp, &s), 0);
	return s;
}

/* A VIP's counters, read as a scrape reads them. 0 or -errno. */
static int vip_stats(struct xlb_dp *dp, const struct xlb_vip_addr *v, struct xlb_vip_stats *out)
{
	struct xlb_dp_counters c;
	int id = xlb_dp__vip_id(dp, v), ret;

	if (id < 0)
		return id;
	ret = xlb_dp__counters_read(dp, &c);
	if (!ret)
		*out = c.vip[id];
	xlb_dp__counters_free(&c);
	return ret;
}

/*
 * A backend's counters, read as a scrape reads them; also for a backend out
 * of the table (ejected, removed): what it left. 0 or -errno.
 */
static int backend_stats(struct xlb_dp *dp, const struct xlb_vip_addr *v, __u8 family,
			 const __be32 addr[4], struct xlb_backend_stats *out)
{
	struct xlb_dp_backend_key k = { .family = family };
	int id, ret;

	memcpy(k.addr, addr, sizeof(k.addr));
	ret = xlb_dp__counter_ids(dp, v, 1, &k, &id);
	if (ret < 0)
		return ret;
	if (id < 0)
		return id;
	memset(out, 0, sizeof(*out));
	xlb_dp__backend_counters_add(dp, id, out);
	return 0;
}

/* ---- the prediction: what the table and flow hash say ---------------------- */

static __u32 flow_hash(const struct xlb_vip_addr *v, __u8 algo, const struct pkt_flow *f)
{
	__u32 s[4] = {}, d[4] = {}, ports;
	__u8 fam;

	xlb_addr__parse(f->saddr, &fam, s);
	xlb_addr__parse(f->daddr, &fam, d);
	ports = ((__u32)htons(f->sport) << 16) | htons(f->dport);
	if (v->family == XLB_AF_INET)
		return algo == XLB_ALGO_SOURCE_HASH ? xlb_hash_src4(s[0])
						    : xlb_hash_flow4(s[0], d[0], ports, f->proto);
	return algo == XLB_ALGO_SOURCE_HASH ? xlb_hash_src6(s) : xlb_hash_flow6(s, d, ports, f->proto);
}

/* The backend the live table gives this flow. */
static struct xlb_backend predict(struct fixture *fx, const char *vipname,
				  const struct pkt_flow *f)
{
	static struct xlb_dp_vip_info info;
	struct xlb_vip_addr v = vip(vipname);
	__u32 *table, id;

	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &info), 0);
	assert_true(info.meta.table_size > 0);
	table = calloc(info.meta.table_size, sizeof(*table));
	assert_int_equal(xlb_dp__read_table(fx->dp, &v, table, info.meta.table_size), 0);
	id = table[flow_hash(&v, info.meta.algo, f) % info.meta.table_size];
	free(table);
	for (size_t i = 0; i < info.nbackends; i++)
		if (info.ids[i] == id)
			return info.backends[i];
	fail_msg("table entry %u is not a backend of %s", id, vipname);
	return info.backends[0];
}

/* ---- expected frames, built independently of the data path ----------------- */

static size_t l2_len(const struct pkt_flow *f)
{
	return f->vlan ? 18 : 14;
}

static size_t expect_l2dsr(const __u8 *in, size_t len, const struct xlb_backend *be, __u8 *exp)
{
	memcpy(exp, in, len);
	memcpy(exp, be->mac, 6);
	memcpy(exp + 6, LB_IF_MAC, 6);
	return len;
}

/* IPIP as xlb emits it; in is the client's frame, l2 its link header length. */
static size_t expect_ipip(const __u8 *in, size_t len, size_t l2, int inner_family,
			  const struct xlb_backend *be, __be32 csaddr_last, __u16 csport,
			  __u8 *exp)
{
	const __u8 *inner = in + l2;
	size_t ip_len = len - l2, n = 0;
	__u32 entropy = ntohl(csaddr_last) ^ csport;
	__u8 tos = inner_family == XLB_AF_INET ? inner[1]
					       : (__u8)(((inner[0] & 0x0f) << 4) | (inner[1] >> 4));

	memcpy(exp, be->mac, 6);
	memcpy(exp + 6, LB_IF_MAC, 6);
	if (l2 == 18) {
		memcpy(exp + 12, in + 12, 4); /* TPID and TCI kept */
		n = 16;
	} else {
		n = 12;
	}
	if (be->family == XLB_AF_INET) {
		struct iphdr ip = {
			.ihl = 5, .version = 4, .tos = tos, .tot_len = htons(ip_len + 20),
			.frag_off = htons(0x4000), .ttl = 64, .protocol = IPPROTO_IPIP,
			.daddr = be->addr[0],
		};
		__u32 src;

		inet_pton(AF_INET, "198.19.0.0", &src);
		ip.saddr = src | htonl(entropy & 0xffff);
		ip.check = pkt_ipv4_csum(&ip);
		exp[n++] = 0x08;
		exp[n++] = 0x00;
		memcpy(exp + n, &ip, sizeof(ip));
		n += sizeof(ip);
	} else {
		struct ipv6hdr ip6 = {};
		__u32 first = htonl((6U << 28) | ((__u32)tos << 20) | (entropy & 0xfffff));

		exp[n++] = 0x86;
		exp[n++] = 0xdd;
		memcpy(&ip6, &first, 4);
		ip6.payload_len = htons(ip_len);
		ip6.nexthdr = inner_family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
		ip6.hop_limit = 64;
		inet_pton(AF_INET6, "2001:2:0:ffff::", &ip6.saddr);
		ip6.saddr.s6_addr32[3] = htonl(entropy);
		memcpy(&ip6.daddr, be->addr, 16);
		memcpy(exp + n, &ip6, sizeof(ip6));
		n += sizeof(ip6);
	}
	memcpy(exp + n, inner, ip_len);
	return n + ip_len;
}

static __be32 last_word(const char *addr)
{
	__be32 a[4] = {};
	__u8 fam;

	xlb_addr__parse(addr, &fam, a);
	return fam == XLB_AF_INET ? a[0] : a[3];
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

/* Sends f to vipname and checks verdict, bytes and the chosen backend. */
static struct xlb_backend send_and_check(struct fixture *fx, const char *vipname,
					 const struct pkt_flow *f)
{
	__u8 in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	struct xlb_vip_addr v = vip(vipname);
	static struct xlb_dp_vip_info info;
	struct xlb_backend be = predict(fx, vipname, f);
	size_t len = pkt_build(f, in), out_len = 0, exp_len;
	int verdict = run(fx, in, len, out, &out_len);

	assert_int_equal(verdict, XDP_TX);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &info), 0);
	if (info.meta.forward == XLB_FWD_L2DSR)
		exp_len = expect_l2dsr(in, len, &be, exp);
	else
		exp_len = expect_ipip(in, len, l2_len(f), v.family, &be, last_word(f->saddr),
				      f->sport, exp);
	assert_frame(vipname, out, out_len, exp, exp_len);
	if (info.meta.forward == XLB_FWD_IPIP && be.family == XLB_AF_INET)
		assert_true(pkt_ipv4_csum_ok(out + l2_len(f)));
	return be;
}

static struct pkt_flow tcp4(const char *daddr, __u16 dport, __u16 sport)
{
	return (struct pkt_flow){ .family = 4, .saddr = "198.18.0.1", .daddr = daddr,
				  .sport = sport, .dport = dport, .proto = IPPROTO_TCP,
				  .tcp_flags = 0x02, .payload_len = 32 };
}

static struct pkt_flow tcp6(const char *daddr, __u16 dport, __u16 sport)
{
	return (struct pkt_flow){ .family = 6, .saddr = "2001:2::1", .daddr = daddr,
				  .sport = sport, .dport = dport, .proto = IPPROTO_TCP,
				  .tcp_flags = 0x02, .payload_len = 32 };
}

/* ---- tests -------------------------------------------------------------------- */

static void test_forward_each_family_proto_mode(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *vip;
		int family;
		__u8 proto;
		__u16 dport;
		const char *daddr;
	} rows[] = {
		{ "198.18.1.100:80/tcp", 4, IPPROTO_TCP, 80, "198.18.1.100" },	 /* ipip 4in4 */
		{ "198.18.1.100:54/udp", 4, IPPROTO_UDP, 54, "198.18.1.100" },	 /* ipip 4in4 */
		{ "198.18.1.100:443/tcp", 4, IPPROTO_TCP, 443, "198.18.1.100" }, /* l2dsr */
		{ "198.18.1.100:53/udp", 4, IPPROTO_UDP, 53, "198.18.1.100" },	 /* l2dsr */
		{ "[2001:2::100]:80/tcp", 6, IPPROTO_TCP, 80, "2001:2::100" },	 /* ipip 6in6 */
		{ "[2001:2::100]:54/udp", 6, IPPROTO_UDP, 54, "2001:2::100" },	 /* ipip 6in6 */
		{ "[2001:2::100]:443/tcp", 6, IPPROTO_TCP, 443, "2001:2::100" }, /* l2dsr */
		{ "[2001:2::100]:53/udp", 6, IPPROTO_UDP, 53, "2001:2::100" },	 /* l2dsr */
		{ "198.18.1.101:80/tcp", 4, IPPROTO_TCP, 80, "198.18.1.101" },	 /* ipip 4in6 */
		{ "198.18.1.102:0/tcp", 4, IPPROTO_TCP, 8080, "198.18.1.102" },	 /* any port */
		{ "198.18.1.103:80/tcp", 4, IPPROTO_TCP, 80, "198.18.1.103" },	 /* source-hash */
	};
	int seen[4] = {};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		for (int port = 0; port < 24; port++) {
			struct pkt_flow f = {
				.family = rows[r].family,
				.saddr = rows[r].family == 4 ? "198.18.0.1" : "2001:2::1",
				.daddr = rows[r].daddr,
				.sport = 10000 + port * 7,
				.dport = rows[r].dport,
				.proto = rows[r].proto,
				.tcp_flags = 0x02,
				.payload_len = 10 + port,
			};
			struct xlb_backend be = send_and_check(fx, rows[r].vip, &f);

			if (r == 0)
				seen[be.mac[5]]++;
		}
	}
	/* Flows spread: every backend of the first VIP got some of 24. */
	for (int i = 1; i <= 3; i++)
		assert_true(seen[i] > 0);
	assert_int_equal(stats(fx).tx_new_flow, 11 * 24);
}

static void test_source_hash_affinity(void **state)
{
	struct fixture *fx = *state;
	struct pkt_flow f = tcp4("198.18.1.103", 80, 1000);
	struct xlb_backend first = send_and_check(fx, "198.18.1.103:80/tcp", &f);

	/* Same client, other ports: same backend (10 backends to choose from). */
	for (__u16 p = 1001; p < 1040; p++) {
		struct xlb_backend be;

		f.sport = p;
		be = send_and_check(fx, "198.18.1.103:80/tcp", &f);
		assert_memory_equal(be.addr, first.addr, 16);
	}
}

static void test_vlan_tagged(void **state)
{
	struct fixture *fx = *state;
	struct pkt_flow f = tcp4("198.18.1.100", 80, 4242);

	f.vlan = 42;
	send_and_check(fx, "198.18.1.100:80/tcp", &f); /* ipip keeps the tag */
	f.dport = 443;
	send_and_check(fx, "198.18.1.100:443/tcp", &f); /* l2dsr keeps the tag */
	f = tcp6("2001:2::100", 80, 4242);
	f.vlan = 7;
	send_and_check(fx, "[2001:2::100]:80/tcp", &f);
}

static void test_non_vip_passes_untouched(void **state)
{
	struct fixture *fx = *state;
	const struct pkt_flow rows[] = {
		tcp4("198.18.1.200", 80, 1),  /* other address */
		tcp4("198.18.1.100", 81, 1),  /* VIP address, other port */
		tcp6("2001:2::200", 80, 1),   /* other IPv6 address */
		tcp6("2001:2::100", 8080, 1), /* IPv6 VIP address, other port */
		{ .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.100", .sport = 5,
		  .dport = 80, .proto = IPPROTO_UDP, .payload_len = 8 }, /* TCP VIP, UDP packet */
	};
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	__u64 before = stats(fx).pass_not_vip;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		len = pkt_build(&rows[i], in);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
		assert_frame("non-VIP", out, out_len, in, len);
	}
	assert_int_equal(stats(fx).pass_not_vip - before, 5);

	/* Not IP at all (ARP), and an ICMP echo to the VIP address. */
	memset(in, 0, 60);
	memcpy(in, PKT_LB_MAC, 6);
	in[12] = 0x08;
	in[13] = 0x06;
	assert_int_equal(run(fx, in, 60, out, &out_len), XDP_PASS);
	assert_frame("ARP", out, out_len, in, 60);
	len = pkt_build_icmp_too_big(4, "198.18.0.254", "198.18.1.100", 80, "198.18.0.1", 1,
				     IPPROTO_TCP, 1400, in);
	in[14 + 20] = 8; /* turn it into an echo request */
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("ICMP echo", out, out_len, in, len);
}

/* Does the connection table hold the flow f to VIP vipname? */
static bool in_conntrack(struct fixture *fx, const char *vipname, const struct pkt_flow *f)
{
	struct xlb_vip_addr v = vip(vipname);
	struct xlb_dp_explain ex;
	__be32 saddr[4] = {};
	__u8 family;

	assert_int_equal(xlb_addr__parse(f->saddr, &family, saddr), 0);
	assert_int_equal(xlb_dp__explain(fx->dp, &v, family, saddr, f->sport, f->dport, &ex), 0);
	return ex.in_conntrack;
}

/*
 * Frames to another MAC pass untouched, whatever they carry: a promiscuous
 * NIC or a flooding switch hands the balancer frames for another xlb host,
 * which balances them itself. Unicast to another host and group addresses
 * (broadcast, IPv4 and IPv6 multicast) have their own counters; nothing is
 * recorded or counted for the VIP. MACs that differ from the balancer's in
 * the first four bytes only, or in the last two only, catch a compare of
 * half the address.
 */
static void test_frames_for_other_macs_pass(void **state)
{
	static const struct {
		const char *what;
		__u8 mac[6];
		bool group;
	} rows[] = {
		{ "another host", { 0x02, 0, 0, 0, 0, 0xbb }, false },
		{ "another host, first 4 bytes differ", { 0x06, 0, 0, 0x01, 0, 0x02 }, false },
		{ "another host, last 2 bytes differ", { 0x02, 0, 0, 0, 0x01, 0x02 }, false },
		{ "broadcast", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, true },
		{ "IPv4 multicast", { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, true },
		{ "IPv6 multicast", { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, true },
	};
	struct fixture *fx = *state;
	struct pkt_flow flows[] = {
		tcp4("198.18.1.100", 80, 7001),	  /* ipip */
		tcp4("198.18.1.100", 443, 7002),  /* l2dsr */
		tcp6("2001:2::100", 80, 7003),	  /* ipip */
		tcp4("198.18.1.102", 8080, 7004), /* all ports */
	};
	struct xlb_vip_addr v = vip("198.18.1.100:80/tcp");
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct xlb_vip_stats vs0, vs1;
	struct xlb_dp_stats s0, s1;
	size_t len, out_len;
	__u64 hosts = 0, groups = 0;

	flows[1].vlan = 7; /* the tag does not hide the address */
	s0 = stats(fx);
	assert_int_equal(vip_stats(fx->dp, &v, &vs0), 0);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
			len = pkt_build(&flows[i], in);
			memcpy(in, rows[r].mac, 6);
			if (run(fx, in, len, out, &out_len) != XDP_PASS)
				fail_msg("%s, flow %zu: not passed", rows[r].what, i);
			assert_frame(rows[r].what, out, out_len, in, len);
			hosts += !rows[r].group;
			groups += rows[r].group;
		}
	}
	s1 = stats(fx);
	assert_int_equal(s1.pass_other_host - s0.pass_other_host, hosts);
	assert_int_equal(s1.pass_multicast - s0.pass_multicast, groups);
	assert_int_equal(s1.rx - s0.rx, hosts + groups);
	assert_int_equal(s1.tx_new_flow, s0.tx_new_flow);
	assert_int_equal(s1.pass_not_vip, s0.pass_not_vip);
	assert_int_equal(vip_stats(fx->dp, &v, &vs1), 0);
	assert_int_equal(vs1.packets, vs0.packets);
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		assert_false(in_conntrack(fx, i == 1   ? "198.18.1.100:443/tcp"
					      : i == 2 ? "[2001:2::100]:80/tcp"
					      : i == 3 ? "198.18.1.102:0/tcp"
						       : "198.18.1.100:80/tcp",
					  &flows[i]));

	/* The same frames to the balancer's own MAC: balanced as ever. */
	send_and_check(fx, "198.18.1.100:80/tcp", &flows[0]);
	send_and_check(fx, "198.18.1.100:443/tcp", &flows[1]);
	send_and_check(fx, "[2001:2::100]:80/tcp", &flows[2]);
	send_and_check(fx, "198.18.1.102:0/tcp", &flows[3]);
	assert_true(in_conntrack(fx, "198.18.1.100:80/tcp", &flows[0]));
	assert_int_equal(stats(fx).tx_new_flow - s1.tx_new_flow, 4);
	assert_int_equal(stats(fx).pass_other_host, s1.pass_other_host);

	/* An established flow's later frames to another host pass too: the
	 * connection table does not make a frame ours.
	 */
	flows[0].tcp_flags = 0x10;
	len = pkt_build(&flows[0], in);
	memcpy(in, rows[0].mac, 6);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("established, another host", out, out_len, in, len);
	assert_int_equal(stats(fx).tx_established, s1.tx_established);
}

static void set_pool(struct fixture *fx, const char *vipname, int family, int first, int n)
{
	struct xlb_vip_addr v = vip(vipname);
	struct xlb_dp_backend b[64];

	for (int i = 0; i < n; i++)
		b[i] = backend(family, first + i, 100);
	if (xlb_dp__set_backends(fx->dp, &v, b, n, fx->err, sizeof(fx->err)))
		fail_msg("set_backends: %s", fx->err);
}

static void test_established_flow_survives_backend_change(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:80/tcp";
	struct xlb_backend before[64], after;
	struct pkt_flow f[64];
	int moved_new = 0;

	for (int i = 0; i < 64; i++) {
		f[i] = tcp4("198.18.1.100", 80, 20000 + i);
		before[i] = send_and_check(fx, name, &f[i]);
	}
	/* Grow the pool from 3 to 10: the table changes under the flows. */
	set_pool(fx, name, XLB_AF_INET, 1, 10);
	for (int i = 0; i < 64; i++) {
		__u8 in[PKT_MAX], out[PKT_MAX];
		size_t len, out_len;

		f[i].tcp_flags = 0x10; /* ACK: established */
		len = pkt_build(&f[i], in);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
		/* outer destination = the backend the flow started on */
		assert_memory_equal(out + 14 + 16, before[i].addr, 4);
	}
	assert_int_equal(stats(fx).tx_established, 64);
	/* New flows follow the new table, including to the new backends. */
	for (int i = 0; i < 64; i++) {
		struct pkt_flow g = tcp4("198.18.1.100", 80, 30000 + i);

		after = send_and_check(fx, name, &g);
		moved_new += after.mac[5] > 3;
	}
	assert_true(moved_new > 0);
}

/*
 * Established packets take a fast path that finds the VIP through the
 * flow's backend (xlb_vips_by_id): it must see a VIP's mode change at once
 * and nothing of a deleted VIP.
 */
static void test_established_follows_vip_changes(void **state)
{
	static const char *const names[] = { "198.18.1.100:443/tcp", "[2001:2::100]:443/tcp" };
	struct fixture *fx = *state;

	for (int n = 0; n < 2; n++) {
		struct xlb_vip_addr v = vip(names[n]);
		struct pkt_flow f = n ? tcp6("2001:2::100", 443, 21000) :
					tcp4("198.18.1.100", 443, 21000);
		__u8 in[PKT_MAX], out[PKT_MAX];
		size_t len, out_len;
		struct xlb_dp_stats s0;

		send_and_check(fx, names[n], &f); /* SYN: recorded */
		f.tcp_flags = 0x10;
		len = pkt_build(&f, in);
		s0 = stats(fx);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
		assert_int_equal(out_len, len); /* l2dsr */
		assert_int_equal(stats(fx).tx_established, s0.tx_established + 1);

		assert_int_equal(xlb_dp__vip_update(fx->dp, &v, XLB_ALGO_MAGLEV, XLB_FWD_IPIP,
						    fx->err, sizeof(fx->err)),
				 0);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
		assert_int_equal(out_len, len + (n ? 40 : 20)); /* now encapsulated */
		assert_int_equal(stats(fx).tx_established, s0.tx_established + 2);

		assert_int_equal(xlb_dp__vip_del(fx->dp, &v, fx->err, sizeof(fx->err)), 0);
		s0 = stats(fx);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
		assert_int_equal(stats(fx).pass_not_vip, s0.pass_not_vip + 1);
		assert_int_equal(stats(fx).tx_established, s0.tx_established);
	}
}

static void test_removed_backend_flows_move(void **state)
{
	struct fixture *fx = *state;
	const char *name = "[2001:2::100]:80/tcp";
	struct xlb_backend be[48];
	struct pkt_flow f[48];
	int on_victim = 0;
	__u64 rechosen;

	for (int i = 0; i < 48; i++) {
		f[i] = tcp6("2001:2::100", 80, 40000 + i);
		be[i] = send_and_check(fx, name, &f[i]);
	}
	/* Remove backend 2 (keep 1 and 3). */
	{
		struct xlb_vip_addr v = vip(name);
		struct xlb_dp_backend b[2] = { backend(XLB_AF_INET6, 1, 100),
					       backend(XLB_AF_INET6, 3, 100) };

		assert_int_equal(xlb_dp__set_backends(fx->dp, &v, b, 2, fx->err, sizeof(fx->err)),
				 0);
	}
	for (int i = 0; i < 48; i++) {
		struct xlb_backend now;

		f[i].tcp_flags = 0x10;
		now = send_and_check(fx, name, &f[i]); /* checks bytes vs the new table */
		if (be[i].mac[5] == 2) {
			on_victim++;
			assert_int_not_equal(now.mac[5], 2);
		} else {
			/* the others stay where they were */
			assert_memory_equal(now.addr, be[i].addr, 16);
		}
	}
	assert_true(on_victim > 0);
	rechosen = stats(fx).tx_rechosen;
	assert_int_equal(rechosen, on_victim);
}

static void test_drained_backend_keeps_flows(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:443/tcp";
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_backend b[3];
	struct xlb_backend be[32];
	struct pkt_flow f[32];
	int on_drained = 0;

	for (int i = 0; i < 32; i++) {
		f[i] = tcp4("198.18.1.100", 443, 50000 + i);
		be[i] = send_and_check(fx, name, &f[i]);
		on_drained += be[i].mac[5] == 1;
	}
	assert_true(on_drained > 0);
	for (int i = 0; i < 3; i++)
		b[i] = backend(XLB_AF_INET, i + 1, 100);
	b[0].drain = true;
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, b, 3, fx->err, sizeof(fx->err)), 0);
	for (int i = 0; i < 32; i++) {
		__u8 in[PKT_MAX], out[PKT_MAX];
		size_t len, out_len;

		f[i].tcp_flags = 0x10;
		len = pkt_build(&f[i], in);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
		assert_memory_equal(out, be[i].mac, 6); /* established: unchanged */
	}
	for (int i = 0; i < 64; i++) {
		struct pkt_flow g = tcp4("198.18.1.100", 443, 60000 + i);

		assert_int_not_equal(send_and_check(fx, name, &g).mac[5], 1);
	}
}

static void test_icmp_too_big_reaches_flow_backend(void **state)
{
	struct fixture *fx = *state;
	__u8 in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	size_t len, out_len, exp_len;

	for (int fam = 4; fam <= 6; fam += 2) {
		const char *name = fam == 4 ? "198.18.1.100:80/tcp" : "[2001:2::100]:80/tcp";
		const char *vaddr = fam == 4 ? "198.18.1.100" : "2001:2::100";
		const char *client = fam == 4 ? "198.18.0.1" : "2001:2::1";
		const char *router = fam == 4 ? "198.18.0.254" : "2001:2::fe";

		for (__u16 cport = 7000; cport < 7016; cport++) {
			struct pkt_flow f = fam == 4 ? tcp4(vaddr, 80, cport) : tcp6(vaddr, 80, cport);
			struct xlb_backend be = send_and_check(fx, name, &f);

			len = pkt_build_icmp_too_big(fam, router, vaddr, 80, client, cport,
						     IPPROTO_TCP, 1400, in);
			assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
			exp_len = expect_ipip(in, len, 14, fam == 4 ? XLB_AF_INET : XLB_AF_INET6, &be,
					      last_word(client), cport, exp);
			assert_frame("ICMP too big", out, out_len, exp, exp_len);
		}
	}
	assert_int_equal(stats(fx).tx_icmp, 32);
}

static void test_icmp_without_flow_follows_table(void **state)
{
	struct fixture *fx = *state;
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct pkt_flow f = tcp4("198.18.1.100", 80, 9999);
	struct xlb_backend be = predict(fx, "198.18.1.100:80/tcp", &f);
	size_t len, out_len;

	/* The flow never passed here (another xlb host): same answer. */
	len = pkt_build_icmp_too_big(4, "198.18.0.254", "198.18.1.100", 80, "198.18.0.1", 9999,
				     IPPROTO_TCP, 1400, in);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
	assert_memory_equal(out + 14 + 16, be.addr, 4);
}

static void check_truncations(struct fixture *fx, const struct pkt_flow *f)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t full = pkt_build(f, in), out_len;

	for (size_t len = 0; len < full; len++) {
		int v = run(fx, in, len, out, &out_len);

		if (len < ETH_HLEN) {
			/* the kernel refuses frames shorter than Ethernet */
			assert_int_equal(v, -EINVAL);
			continue;
		}
		if (v != XDP_DROP && v != XDP_PASS)
			fail_msg("truncated to %zu of %zu bytes: verdict %d", len, full, v);
		if (v == XDP_PASS)
			assert_frame("truncated pass", out, out_len, in, len);
	}
}

static void test_truncated_never_forwarded(void **state)
{
	struct fixture *fx = *state;
	struct pkt_flow rows[] = {
		tcp4("198.18.1.100", 80, 1234),
		tcp6("2001:2::100", 80, 1234),
		{ .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.100", .sport = 9,
		  .dport = 53, .proto = IPPROTO_UDP, .payload_len = 16 },
		{ .family = 6, .saddr = "2001:2::1", .daddr = "2001:2::100", .sport = 9,
		  .dport = 53, .proto = IPPROTO_UDP, .payload_len = 16 },
		tcp4("198.18.1.102", 9000, 1234), /* any-port VIP */
	};
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;

	rows[0].vlan = 5;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_truncations(fx, &rows[i]);
	/* VIP-bound with a header cut short: dropped and counted as malformed. */
	assert_true(stats(fx).drops[XLB_DROP_MALFORMED] > 0);
	/* An ICMP error cut anywhere is never forwarded either. */
	len = pkt_build_icmp_too_big(4, "198.18.0.254", "198.18.1.100", 80, "198.18.0.1", 1,
				     IPPROTO_TCP, 1400, in);
	for (size_t l = ETH_HLEN; l < len; l++) {
		int v = run(fx, in, l, out, &out_len);

		assert_true(v == XDP_DROP || v == XDP_PASS);
	}
}

static void test_fragments_and_options(void **state)
{
	struct fixture *fx = *state;
	struct pkt_flow f = tcp4("198.18.1.100", 80, 777);
	__u8 in[PKT_MAX], out[PKT_MAX], opt[PKT_MAX];
	size_t len = pkt_build(&f, in), out_len;
	struct iphdr ip; /* edited here, copied in: the header is not aligned in the frame */

	/* First fragment of a VIP flow: no reassembly here, dropped and counted. */
	memcpy(&ip, in + 14, sizeof(ip));
	ip.frag_off = htons(0x2000);
	ip.check = 0;
	ip.check = pkt_ipv4_csum(&ip);
	memcpy(in + 14, &ip, sizeof(ip));
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_DROP);
	assert_int_equal(stats(fx).drops[XLB_DROP_FRAGMENT], 1);

	/* IPv4 with 8 bytes of options (NOPs + EOL) is balanced like any other. */
	len = pkt_build(&f, in);
	memcpy(opt, in, 14 + 20);
	memset(opt + 34, 1, 7);
	opt[41] = 0;
	memcpy(opt + 42, in + 34, len - 34);
	memcpy(&ip, opt + 14, sizeof(ip));
	ip.ihl = 7;
	ip.tot_len = htons(ntohs(ip.tot_len) + 8);
	ip.check = 0;
	memcpy(opt + 14, &ip, sizeof(ip));
	ip.check = pkt_ipv4_csum(opt + 14); /* over the options too */
	memcpy(opt + 14, &ip, sizeof(ip));
	assert_int_equal(run(fx, opt, len + 8, out, &out_len), XDP_TX);
	assert_int_equal(out_len, len + 8 + 20);
	assert_memory_equal(out + 34, opt + 14, len + 8 - 14); /* inner intact */
}

/*
 * f as a fragment at offset off (8-byte units), more fragments to come or
 * not: IPv4 by its header's fields, IPv6 by a Fragment header after the
 * fixed one. A later fragment's bytes where a header would be are data;
 * the frame keeps f's L4 header there, so its dport must be no VIP's.
 */
static size_t build_fragment(const struct pkt_flow *f, __u16 off, bool more, __u8 *buf)
{
	__u8 whole[PKT_MAX];
	size_t len = pkt_build(f, whole);

	if (f->family == 4) {
		struct iphdr ip;

		memcpy(&ip, whole + 14, sizeof(ip));
		ip.frag_off = htons((more ? 0x2000 : 0) | off);
		ip.check = 0;
		ip.check = pkt_ipv4_csum(&ip);
		memcpy(whole + 14, &ip, sizeof(ip));
		memcpy(buf, whole, len);
		return len;
	} else {
		struct ipv6hdr ip6;
		__u8 fh[8] = { f->proto, 0, (__u8)(off >> 5), (__u8)((off << 3) | more), 0, 0, 0, 7 };

		memcpy(&ip6, whole + 14, sizeof(ip6));
		ip6.nexthdr = 44; /* Fragment */
		ip6.payload_len = htons(ntohs(ip6.payload_len) + sizeof(fh));
		memcpy(buf, whole, 14);
		memcpy(buf + 14, &ip6, sizeof(ip6));
		memcpy(buf + 54, fh, sizeof(fh));
		memcpy(buf + 62, whole + 54, len - 54);
		return len + sizeof(fh);
	}
}

/*
 * Every TCP or UDP fragment to an address and protocol some VIP has is
 * dropped and counted, first or later, IPv4 or IPv6, whatever its port
 * (a later one has none): for the VIP of lowest port there. Fragments of
 * a protocol no VIP of the address has, or to other addresses, pass.
 */
static void test_fragments_to_vip_addresses(void **state)
{
	static const struct {
		const char *what;
		int family;
		const char *daddr;
		__u8 proto;
		__u16 dport, off;
		bool more;
		const char *counted; /* the VIP the drop is counted for; NULL: passes */
	} rows[] = {
		{ "v4 first, VIP's port", 4, "198.18.1.100", IPPROTO_TCP, 443, 0, true,
		  "198.18.1.100:443/tcp" },
		{ "v4 first, no VIP's port", 4, "198.18.1.100", IPPROTO_TCP, 81, 0, true,
		  "198.18.1.100:80/tcp" },
		{ "v4 middle", 4, "198.18.1.100", IPPROTO_TCP, 9999, 185, true,
		  "198.18.1.100:80/tcp" },
		{ "v4 last", 4, "198.18.1.100", IPPROTO_TCP, 9999, 370, false,
		  "198.18.1.100:80/tcp" },
		{ "v4 later UDP", 4, "198.18.1.100", IPPROTO_UDP, 9999, 185, false,
		  "198.18.1.100:53/udp" },
		{ "v4 later, any-port VIP", 4, "198.18.1.102", IPPROTO_TCP, 9999, 185, true,
		  "198.18.1.102:0/tcp" },
		{ "v4 later UDP, TCP-only address", 4, "198.18.1.101", IPPROTO_UDP, 9999, 185,
		  false, NULL },
		{ "v4 later, not a VIP", 4, "198.18.1.200", IPPROTO_TCP, 9999, 185, false, NULL },
		{ "v6 first, VIP's port", 6, "2001:2::100", IPPROTO_TCP, 443, 0, true,
		  "[2001:2::100]:443/tcp" },
		{ "v6 first, no VIP's port", 6, "2001:2::100", IPPROTO_UDP, 55, 0, true,
		  "[2001:2::100]:53/udp" },
		{ "v6 middle", 6, "2001:2::100", IPPROTO_TCP, 9999, 185, true,
		  "[2001:2::100]:80/tcp" },
		{ "v6 last UDP", 6, "2001:2::100", IPPROTO_UDP, 9999, 370, false,
		  "[2001:2::100]:53/udp" },
		{ "v6 later, not a VIP", 6, "2001:2::200", IPPROTO_TCP, 9999, 185, false, NULL },
	};
	struct fixture *fx = *state;
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	struct pkt_flow f;

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct xlb_dp_stats s0 = stats(fx);
		struct xlb_vip_stats vs0 = {}, vs1 = {};
		struct xlb_vip_addr v;

		f = rows[r].family == 4 ? tcp4(rows[r].daddr, rows[r].dport, 1000 + r)
					: tcp6(rows[r].daddr, rows[r].dport, 1000 + r);
		f.proto = rows[r].proto;
		len = build_fragment(&f, rows[r].off, rows[r].more, in);
		if (rows[r].counted) {
			v = vip(rows[r].counted);
			assert_int_equal(vip_stats(fx->dp, &v, &vs0), 0);
		}
		if (run(fx, in, len, out, &out_len) != (rows[r].counted ? XDP_DROP : XDP_PASS))
			fail_msg("%s: wrong verdict", rows[r].what);
		if (!rows[r].counted) {
			assert_frame(rows[r].what, out, out_len, in, len);
			continue;
		}
		assert_int_equal(vip_stats(fx->dp, &v, &vs1), 0);
		if (stats(fx).drops[XLB_DROP_FRAGMENT] != s0.drops[XLB_DROP_FRAGMENT] + 1 ||
		    vs1.drops[XLB_DROP_FRAGMENT] != vs0.drops[XLB_DROP_FRAGMENT] + 1)
			fail_msg("%s: not counted as a fragment of %s", rows[r].what,
				 rows[r].counted);
	}

	/* The address's last TCP VIP gone, its fragments pass again. */
	f = tcp4("198.18.1.101", 9999, 7);
	len = build_fragment(&f, 185, true, in);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_DROP);
	{
		struct xlb_vip_addr v = vip("198.18.1.101:80/tcp");

		assert_int_equal(xlb_dp__vip_del(fx->dp, &v, fx->err, sizeof(fx->err)), 0);
	}
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
}

static void test_empty_vip_drops(void **state)
{
	struct fixture *fx = *state;
	struct xlb_vip_addr v = vip("198.18.1.100:80/tcp");
	struct pkt_flow f = tcp4("198.18.1.100", 80, 31337);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&f, in), out_len;
	struct xlb_vip_stats vs;

	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, NULL, 0, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_DROP);
	assert_int_equal(stats(fx).drops[XLB_DROP_NO_BACKEND], 1);
	assert_int_equal(vip_stats(fx->dp, &v, &vs), 0);
	assert_int_equal(vs.drops[XLB_DROP_NO_BACKEND], 1);
}

/*
 * A packet the data path cannot forward is one drop, not a send and a drop.
 * The library lets an ipip VIP with IPv6 backends turn l2dsr (the
 * configuration refuses it; a reconcile may pass through it): every
 * packet, new or established, is then dropped as `family` and only so.
 */
static void test_forward_failure_is_one_drop(void **state)
{
	struct fixture *fx = *state;
	struct xlb_vip_addr v = vip("198.18.1.101:80/tcp");
	struct pkt_flow f = tcp4("198.18.1.101", 80, 4242);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	struct xlb_dp_stats s0, s1;
	struct xlb_vip_stats vs0, vs1;

	send_and_check(fx, "198.18.1.101:80/tcp", &f); /* a flow, in the table and cache */
	assert_int_equal(xlb_dp__vip_update(fx->dp, &v, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, fx->err,
					    sizeof(fx->err)),
			 0);
	s0 = stats(fx);
	assert_int_equal(vip_stats(fx->dp, &v, &vs0), 0);
	f.tcp_flags = 0x10; /* established: the flow cache, then the table */
	len = pkt_build(&f, in);
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_DROP);
	f = tcp4("198.18.1.101", 80, 4343); /* a new flow */
	len = pkt_build(&f, in);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_DROP);
	s1 = stats(fx);
	assert_int_equal(vip_stats(fx->dp, &v, &vs1), 0);
	assert_int_equal(s1.drops[XLB_DROP_FAMILY] - s0.drops[XLB_DROP_FAMILY], 4);
	assert_int_equal(vs1.drops[XLB_DROP_FAMILY] - vs0.drops[XLB_DROP_FAMILY], 4);
	assert_int_equal(s1.tx_established, s0.tx_established);
	assert_int_equal(s1.tx_new_flow, s0.tx_new_flow);
	assert_int_equal(s1.flow_cache_hits[0], s0.flow_cache_hits[0]);
	assert_int_equal(vs1.packets, vs0.packets);
	assert_int_equal(vs1.bytes, vs0.bytes);
}

/*
 * The live table's digest is over backend addresses: two VIPs given the
 * same backends in opposite orders hold different ids in their tables but
 * get the same digest, the one the userspace builder's table of those
 * addresses has; a weight changed changes it; it follows the change back.
 */
static void test_table_digest(void **state)
{
	static const __u16 weights[] = { 100, 50, 300, 1, 100, 7 };
	struct fixture *fx = *state;
	struct xlb_vip_addr a = vip("198.18.1.110:80/tcp"), b = vip("198.18.1.111:80/tcp");
	struct xlb_vip_addr none = vip("198.18.1.112:80/tcp");
	struct xlb_dp_backend fwd[6], rev[6];
	struct xlb_maglev_backend mb[6];
	__u32 *ta = calloc(XLB_MAGLEV_DEFAULT_SIZE, sizeof(*ta));
	__u32 *tb = calloc(XLB_MAGLEV_DEFAULT_SIZE, sizeof(*tb));
	__u64 da, db, want;

	for (int i = 0; i < 6; i++) {
		fwd[i] = backend(i < 3 ? XLB_AF_INET : XLB_AF_INET6, 20 + i, weights[i]);
		rev[5 - i] = fwd[i];
		mb[i] = (struct xlb_maglev_backend){ .id = 1000 + i, .family = fwd[i].family,
						     .weight = fwd[i].weight };
		memcpy(mb[i].addr, fwd[i].addr, sizeof(mb[i].addr));
	}
	assert_int_equal(xlb_dp__vip_add(fx->dp, &a, XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 0, fx->err,
					 sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__vip_add(fx->dp, &b, XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 0, fx->err,
					 sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__set_backends(fx->dp, &a, fwd, 6, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__set_backends(fx->dp, &b, rev, 6, fx->err, sizeof(fx->err)), 0);

	assert_int_equal(xlb_dp__read_table(fx->dp, &a, ta, XLB_MAGLEV_DEFAULT_SIZE), 0);
	assert_int_equal(xlb_dp__read_table(fx->dp, &b, tb, XLB_MAGLEV_DEFAULT_SIZE), 0);
	assert_memory_not_equal(ta, tb, XLB_MAGLEV_DEFAULT_SIZE * sizeof(*ta)); /* other ids */
	assert_int_equal(xlb_dp__table_digest(fx->dp, &a, &da), 0);
	assert_int_equal(xlb_dp__table_digest(fx->dp, &b, &db), 0);
	assert_true(da == db);

	/* The userspace builder's table of the same addresses, under its own ids. */
	assert_int_equal(xlb_maglev__build(mb, 6, XLB_MAGLEV_DEFAULT_SIZE, ta), 0);
	want = xlb_table_digest__begin(XLB_MAGLEV_DEFAULT_SIZE);
	for (__u32 i = 0; i < XLB_MAGLEV_DEFAULT_SIZE; i++)
		want = xlb_table_digest__slot(want, mb[ta[i] - 1000].family, mb[ta[i] - 1000].addr);
	assert_true(da == want);

	rev[0].weight = 99;
	assert_int_equal(xlb_dp__set_backends(fx->dp, &b, rev, 6, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__table_digest(fx->dp, &b, &db), 0);
	assert_true(da != db);
	rev[0].weight = fwd[5].weight;
	assert_int_equal(xlb_dp__set_backends(fx->dp, &b, rev, 6, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__table_digest(fx->dp, &b, &db), 0);
	assert_true(da == db);

	assert_int_equal(xlb_dp__table_digest(fx->dp, &none, &db), -ENOENT);
	assert_int_equal(xlb_dp__set_backends(fx->dp, &b, NULL, 0, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__table_digest(fx->dp, &b, &db), -ENODATA);
	free(ta);
	free(tb);
}

static void test_counters(void **state)
{
	struct fixture *fx = *state;
	struct xlb_vip_addr v = vip("198.18.1.100:53/udp");
	struct xlb_vip_stats vs;
	struct xlb_backend_stats bs, sum = {};
	struct pkt_flow f = { .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.100",
			      .sport = 1, .dport = 53, .proto = IPPROTO_UDP, .payload_len = 100 };
	__u8 in[PKT_MAX];
	size_t len = pkt_build(&f, in);

	for (int i = 0; i < 10; i++) {
		f.sport = 100 + i % 5; /* 5 flows, 2 packets each */
		send_and_check(fx, "198.18.1.100:53/udp", &f);
	}
	assert_int_equal(vip_stats(fx->dp, &v, &vs), 0);
	assert_int_equal(vs.packets, 10);
	assert_int_equal(vs.bytes, 10 * len);
	assert_int_equal(vs.new_flows, 5);
	for (int i = 1; i <= 3; i++) {
		struct xlb_dp_backend b = backend(XLB_AF_INET, i, 1);

		assert_int_equal(backend_stats(fx->dp, &v, b.family, b.addr, &bs), 0);
		sum.packets += bs.packets;
		sum.new_flows += bs.new_flows;
	}
	assert_int_equal(sum.packets, 10);
	assert_int_equal(sum.new_flows, 5);
}

static void test_syn_retransmit_counted(void **state)
{
	struct fixture *fx = *state;
	struct xlb_vip_addr v = vip("198.18.1.100:80/tcp");
	struct pkt_flow f = tcp4("198.18.1.100", 80, 5555);
	struct xlb_backend be = send_and_check(fx, "198.18.1.100:80/tcp", &f);
	struct xlb_backend_stats bs;

	send_and_check(fx, "198.18.1.100:80/tcp", &f); /* the same SYN again */
	send_and_check(fx, "198.18.1.100:80/tcp", &f);
	assert_int_equal(backend_stats(fx->dp, &v, be.family, be.addr, &bs), 0);
	assert_int_equal(bs.syn_retransmits, 2);
}

/*
 * A backend out of the table (ejected by its breaker, or removed) keeps its
 * counters, a backend added meanwhile does not take them, and it picks them
 * up again when it comes back: per-backend counters never go backwards.
 */
static void test_backend_counters_kept_out_of_table(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.150:5353/udp";
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_backend b1 = backend(XLB_AF_INET, 1, 100), b4 = backend(XLB_AF_INET, 4, 100);
	struct xlb_backend_stats before, bs;
	struct pkt_flow f = { .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.150",
			      .dport = 5353, .proto = IPPROTO_UDP, .payload_len = 10 };
	__u64 to1 = 0, to4 = 0;

	add_vip(fx, name, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	for (int i = 0; i < 60; i++) {
		f.sport = 1000 + i;
		send_and_check(fx, name, &f);
	}
	assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &before), 0);
	assert_true(before.packets > 0);

	set_pool(fx, name, XLB_AF_INET, 2, 3); /* 1 out, 4 in */
	for (int i = 0; i < 60; i++) {
		struct xlb_backend be;

		f.sport = 2000 + i;
		be = send_and_check(fx, name, &f);
		assert_memory_not_equal(be.addr, b1.addr, 4);
		to4 += !memcmp(be.addr, b4.addr, 4);
	}
	assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &bs), 0);
	assert_int_equal(bs.packets, before.packets);
	assert_int_equal(bs.bytes, before.bytes);
	assert_int_equal(backend_stats(fx->dp, &v, b4.family, b4.addr, &bs), 0);
	assert_true(to4 > 0);
	assert_int_equal(bs.packets, to4);

	set_pool(fx, name, XLB_AF_INET, 1, 4); /* 1 back */
	assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &bs), 0);
	assert_int_equal(bs.packets, before.packets);
	for (int i = 0; i < 60; i++) {
		struct xlb_backend be;

		f.sport = 3000 + i;
		be = send_and_check(fx, name, &f);
		to1 += !memcmp(be.addr, b1.addr, 4);
	}
	assert_true(to1 > 0);
	assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &bs), 0);
	assert_int_equal(bs.packets, before.packets + to1);

	/* A deleted VIP's counters are gone with it. */
	assert_int_equal(xlb_dp__vip_del(fx->dp, &v, fx->err, sizeof(fx->err)), 0);
	add_vip(fx, name, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &bs), 0);
	assert_int_equal(bs.packets, 0);
}

/*
 * xlb_dp__ids_gen(), which keeps xlbd's config-to-counter-id map: unchanged
 * when a set changes only weights (slow start republishes that way), changed
 * when a backend leaves or comes in; the ids it vouches for stay right.
 */
static void test_ids_gen(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.151:5353/udp";
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_backend b[3];
	struct xlb_dp_backend_key keys[3];
	int ids[3], again[3];
	unsigned long gen;

	add_vip(fx, name, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	for (int i = 0; i < 3; i++) {
		b[i] = backend(XLB_AF_INET, i + 1, 100);
		keys[i].family = b[i].family;
		memcpy(keys[i].addr, b[i].addr, sizeof(keys[i].addr));
	}
	assert_true(xlb_dp__counter_ids(fx->dp, &v, 3, keys, ids) >= 0);
	gen = xlb_dp__ids_gen(fx->dp);
	assert_int_not_equal(gen, 0);

	b[2].weight = 10; /* a slow-start step */
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, b, 3, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__ids_gen(fx->dp), gen);
	assert_true(xlb_dp__counter_ids(fx->dp, &v, 3, keys, again) >= 0);
	assert_memory_equal(again, ids, sizeof(ids));

	/* backend 3 ejected: out of the table, its counters parked */
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, b, 2, fx->err, sizeof(fx->err)), 0);
	assert_int_not_equal(xlb_dp__ids_gen(fx->dp), gen);
	gen = xlb_dp__ids_gen(fx->dp);
	assert_true(xlb_dp__counter_ids(fx->dp, &v, 3, keys, again) >= 0);
	assert_memory_equal(again, ids, sizeof(ids));

	/* back in */
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, b, 3, fx->err, sizeof(fx->err)), 0);
	assert_int_not_equal(xlb_dp__ids_gen(fx->dp), gen);
	assert_true(xlb_dp__counter_ids(fx->dp, &v, 3, keys, again) >= 0);
	assert_memory_equal(again, ids, sizeof(ids));
}

/* ---- wrr, rr, lc --------------------------------------------------------------- */

/* A VIP of algorithm algo with backends 1..n of the given weights (l2dsr, so
 * the output frame's destination MAC names the backend: mac[5] = i).
 */
static void add_algo_vip(struct fixture *fx, const char *name, enum xlb_algo algo,
			 const __u16 *weights, int n)
{
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_backend b[16];

	assert_true(n <= 16);
	if (xlb_dp__vip_add(fx->dp, &v, algo, XLB_FWD_L2DSR, 0, fx->err, sizeof(fx->err)))
		fail_msg("vip_add %s: %s", name, fx->err);
	for (int i = 0; i < n; i++)
		b[i] = backend(v.family, i + 1, weights[i]);
	if (xlb_dp__set_backends(fx->dp, &v, b, n, fx->err, sizeof(fx->err)))
		fail_msg("set_backends %s: %s", name, fx->err);
}

/* Client flow k to dport of 198.18.1.110: distinct sources and ports. The
 * source text lives in a ring of 64 buffers: copy it to keep a flow longer.
 */
static struct pkt_flow client_flow(int k, __u16 dport, __u8 flags)
{
	static char saddr[64][32];
	char *a = saddr[k % 64];

	snprintf(a, 32, "198.18.%d.%d", 100 + (k >> 8) % 100, k & 0xff);
	return (struct pkt_flow){ .family = 4, .saddr = a, .daddr = "198.18.1.110",
				  .sport = (__u16)(10000 + k % 50000), .dport = dport,
				  .proto = IPPROTO_TCP, .tcp_flags = flags, .payload_len = 0 };
}

/* Sends f; returns the backend number (mac[5]) it was forwarded to. */
static int send_to(struct fixture *fx, const struct pkt_flow *f)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(f, in), out_len = 0;

	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
	assert_int_equal(out_len, len);
	return out[5];
}

/* Where this CPU's cursor starts in a sequence of length len (dp_vip.c). */
static __u32 cursor_start(__u32 len)
{
	int cpu = sched_getcpu(), ncpus = libbpf_num_possible_cpus();

	assert_true(cpu >= 0 && ncpus > 0);
	return (__u32)((__u64)cpu * XLB_WRR_SEQ_MAX / ncpus) % len;
}

static void assert_share(const char *what, int got, int total, double want)
{
	double share = (double)got / total;

	if (share < want * 0.98 || share > want * 1.02)
		fail_msg("%s: share %.4f, expected %.4f +- 2%%", what, share, want);
}

static void test_wrr_weights_interleaved(void **state)
{
	static const int smooth[6] = { 3, 2, 1, 3, 2, 3 }; /* weights 1:2:3 */
	static const __u16 w[3] = { 1, 2, 3 };
	struct fixture *fx = *state;
	const int N = 10000;
	struct xlb_dp_stats s0 = stats(fx), s1;
	int count[4] = {}, prev = 0, run_len = 0, max_run = 0;
	__u32 start = cursor_start(6);

	add_algo_vip(fx, "198.18.1.110:80/tcp", XLB_ALGO_WRR, w, 3);
	for (int k = 0; k < N; k++) {
		struct pkt_flow f = client_flow(k, 80, 0x02);
		int b = send_to(fx, &f);

		assert_true(b >= 1 && b <= 3);
		if (k < 6 && b != smooth[(start + k) % 6])
			fail_msg("choice %d went to backend %d, smooth wrr says %d", k, b,
				 smooth[(start + k) % 6]);
		count[b]++;
		run_len = b == prev ? run_len + 1 : 1;
		prev = b;
		if (run_len > max_run)
			max_run = run_len;
	}
	assert_share("weight 1", count[1], N, 1.0 / 6);
	assert_share("weight 2", count[2], N, 2.0 / 6);
	assert_share("weight 3", count[3], N, 3.0 / 6);
	/* C B A C B C C B A ...: never more than two in a row (blocks would
	 * give runs of three).
	 */
	assert_true(max_run <= 2);
	s1 = stats(fx);
	assert_int_equal(s1.tx_new_flow - s0.tx_new_flow, N);
}

static void test_rr_equal(void **state)
{
	static const __u16 w[4] = { 1, 5, 10, 100 }; /* ignored by rr */
	struct fixture *fx = *state;
	const int N = 10000;
	int count[5] = {};

	add_algo_vip(fx, "198.18.1.110:81/tcp", XLB_ALGO_RR, w, 4);
	for (int k = 0; k < N; k++) {
		struct pkt_flow f = client_flow(k, 81, 0x02);

		count[send_to(fx, &f)]++;
	}
	for (int b = 1; b <= 4; b++)
		assert_share("rr", count[b], N, 0.25);
}

/* A SYN for a flow already recorded is a retransmission: same backend, not
 * a new flow, and the wrr cursor does not move.
 */
static void test_wrr_syn_retransmit_not_new(void **state)
{
	static const int smooth[6] = { 3, 2, 1, 3, 2, 3 };
	static const __u16 w[3] = { 1, 2, 3 };
	struct fixture *fx = *state;
	struct pkt_flow f = client_flow(1, 82, 0x02), g = client_flow(2, 82, 0x02);
	__u32 start = cursor_start(6);
	struct xlb_dp_stats s0, s1;
	int b;

	add_algo_vip(fx, "198.18.1.110:82/tcp", XLB_ALGO_WRR, w, 3);
	b = send_to(fx, &f);
	assert_int_equal(b, smooth[start]);
	s0 = stats(fx);
	for (int i = 0; i < 5; i++)
		assert_int_equal(send_to(fx, &f), b);
	s1 = stats(fx);
	assert_int_equal(s1.tx_new_flow, s0.tx_new_flow);
	assert_int_equal(s1.tx_established - s0.tx_established, 5);
	assert_int_equal(send_to(fx, &g), smooth[(start + 1) % 6]);
}

/* lc's estimate of backend i's active flows, read as a scrape reads it. */
static __s64 active(struct fixture *fx, const char *name, int i)
{
	struct xlb_dp_backend b = backend(XLB_AF_INET, i, 1);
	struct xlb_vip_addr v = vip(name);
	int id = xlb_dp__backend_id(fx->dp, &v, b.family, b.addr);
	struct xlb_dp_counters c;
	__s64 a;

	assert_true(id >= 0);
	assert_int_equal(xlb_dp__counters_read(fx->dp, &c), 0);
	assert_non_null(c.load);
	a = c.load[id].active;
	xlb_dp__counters_free(&c);
	return a;
}

static void test_lc_avoids_loaded_backend(void **state)
{
	static const __u16 w[3] = { 1, 1, 1 };
	const char *name = "198.18.1.110:83/tcp";
	struct fixture *fx = *state;
	int first[300], count[4] = {}, k, open1;

	add_algo_vip(fx, name, XLB_ALGO_LC, w, 3);
	/* 300 flows; then every flow on backends 2 and 3 ends (FIN), so
	 * backend 1 alone holds open flows.
	 */
	for (k = 0; k < 300; k++) {
		struct pkt_flow f = client_flow(k, 83, 0x02);

		first[k] = send_to(fx, &f);
		count[first[k]]++;
	}
	/* lc on an empty pool spreads like the others: 2 random candidates */
	for (int b = 1; b <= 3; b++)
		assert_true(count[b] > 60);
	assert_int_equal(active(fx, name, 1) + active(fx, name, 2) + active(fx, name, 3), 300);
	for (k = 0; k < 300; k++) {
		struct pkt_flow f = client_flow(k, 83, 0x11); /* FIN|ACK */

		if (first[k] != 1)
			assert_int_equal(send_to(fx, &f), first[k]);
	}
	assert_int_equal(active(fx, name, 1), count[1]);
	assert_int_equal(active(fx, name, 2), 0);
	assert_int_equal(active(fx, name, 3), 0);
	/* 200 new flows, which leave backends 2 and 3 below backend 1: it
	 * wins only when both candidates are it (1 in 9, about 22 +- 4.4);
	 * chosen at random it would get a third (67).
	 */
	open1 = count[1];
	memset(count, 0, sizeof(count));
	for (k = 1000; k < 1200; k++) {
		struct pkt_flow f = client_flow(k, 83, 0x02);

		count[send_to(fx, &f)]++;
	}
	if (count[1] > 40)
		fail_msg("backend 1 with %d open flows took %d of 200 new ones", open1, count[1]);
	assert_int_equal(count[1] + count[2] + count[3], 200);
	assert_int_equal(active(fx, name, 1), open1 + count[1]);
}

/* The client's FIN or RST takes a flow's count back, once; a SYN for an
 * open flow counts nothing; a new connection on a closed tuple counts again.
 */
/* lc: a backend out of the table shows no active flows in the counters,
 * though its entry still holds the count it left with.
 */
static void test_lc_out_of_table_not_active(void **state)
{
	static const __u16 w[2] = { 1, 1 };
	const char *name = "198.18.1.110:84/tcp";
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_backend b2 = backend(XLB_AF_INET, 2, 1);
	struct xlb_dp_backend_key keys[2];
	struct fixture *fx = *state;
	struct xlb_dp_counters c;
	int ids[2];

	add_algo_vip(fx, name, XLB_ALGO_LC, w, 2);
	for (int k = 0; k < 40; k++) {
		struct pkt_flow f = client_flow(k, 84, 0x02);

		send_to(fx, &f);
	}
	assert_true(active(fx, name, 1) > 0);
	/* backend 1 leaves the table (its breaker ejected it) */
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, &b2, 1, fx->err, sizeof(fx->err)), 0);
	for (int i = 0; i < 2; i++) {
		struct xlb_dp_backend b = backend(XLB_AF_INET, i + 1, 1);

		keys[i].family = b.family;
		memcpy(keys[i].addr, b.addr, sizeof(keys[i].addr));
	}
	assert_true(xlb_dp__counter_ids(fx->dp, &v, 2, keys, ids) >= 0);
	assert_true(ids[0] >= 0); /* its counters are still found */
	assert_int_equal(xlb_dp__counters_read(fx->dp, &c), 0);
	assert_non_null(c.load);
	assert_int_equal(c.load[ids[0]].active, 0);
	assert_true(c.load[ids[1]].active > 0);
	xlb_dp__counters_free(&c);
	{
		struct xlb_backend_stats bs = {};

		xlb_dp__backend_counters_add(fx->dp, ids[0], &bs);
		assert_true(bs.packets > 0);
	}
}

static void test_lc_fin_rst_decrement(void **state)
{
	static const __u16 w[2] = { 1, 1 };
	const char *name = "198.18.1.110:84/tcp";
	struct fixture *fx = *state;
	struct pkt_flow f = client_flow(7, 84, 0x02), g = client_flow(8, 84, 0x02);
	struct xlb_dp_stats s0, s1;
	int bf, bg;

	add_algo_vip(fx, name, XLB_ALGO_LC, w, 2);
	bf = send_to(fx, &f);
	assert_int_equal(active(fx, name, bf), 1);
	s0 = stats(fx);
	assert_int_equal(send_to(fx, &f), bf); /* SYN retransmitted */
	s1 = stats(fx);
	assert_int_equal(s1.tx_new_flow, s0.tx_new_flow);
	assert_int_equal(active(fx, name, bf), 1);
	f.tcp_flags = 0x10; /* ACK, data */
	assert_int_equal(send_to(fx, &f), bf);
	assert_int_equal(active(fx, name, bf), 1);
	f.tcp_flags = 0x11; /* FIN|ACK, twice (retransmitted) */
	assert_int_equal(send_to(fx, &f), bf);
	assert_int_equal(send_to(fx, &f), bf);
	assert_int_equal(active(fx, name, bf), 0);
	f.tcp_flags = 0x10; /* the last ACK still reaches the backend */
	assert_int_equal(send_to(fx, &f), bf);
	assert_int_equal(active(fx, name, bf), 0);

	bg = send_to(fx, &g);
	assert_int_equal(active(fx, name, bg), 1);
	g.tcp_flags = 0x04; /* RST */
	assert_int_equal(send_to(fx, &g), bg);
	assert_int_equal(active(fx, name, bg), 0);

	/* The client reuses the closed tuple: a new flow, counted again. */
	s0 = stats(fx);
	g.tcp_flags = 0x02;
	bg = send_to(fx, &g);
	s1 = stats(fx);
	assert_int_equal(s1.tx_new_flow - s0.tx_new_flow, 1);
	assert_int_equal(active(fx, name, bg), 1);

	/* what a scrape reads (xlb_backend_active_flows) */
	{
		struct xlb_dp_backend b = backend(XLB_AF_INET, bg, 1);
		struct xlb_vip_addr v = vip(name);
		struct xlb_dp_counters c;
		int id = xlb_dp__backend_id(fx->dp, &v, b.family, b.addr);

		assert_true(id >= 0);
		assert_int_equal(xlb_dp__counters_read(fx->dp, &c), 0);
		assert_non_null(c.load);
		assert_int_equal(c.load[id].active, 1);
		xlb_dp__counters_free(&c);
	}
}

/* The flow cache tests' VIP on dport, of the family, and flow k to it. */
static const char *cache_vip(int family, __u16 dport)
{
	static char name[64];

	snprintf(name, sizeof(name),
		 family == XLB_AF_INET ? "198.18.1.110:%u/tcp" : "[2001:2::110]:%u/tcp", dport);
	return name;
}

static struct pkt_flow cache_flow(int family, int k, __u16 dport, __u8 flags)
{
	static char saddr[64][48];
	struct pkt_flow f = client_flow(k, dport, flags);

	if (family == XLB_AF_INET6) {
		snprintf(saddr[k % 64], sizeof(saddr[0]), "2001:2::1:%x", k);
		f.family = 6;
		f.saddr = saddr[k % 64];
		f.daddr = "2001:2::110";
	}
	return f;
}

/*
 * The flow cache never outlives what the connection table says. One CPU
 * (the test is pinned), an rr VIP: a tuple closed and opened again goes to
 * the new connection's backend, not to the one the cache held for the old
 * connection; a flow whose backend leaves is re-chosen at its next packet
 * and stays there; a flow's packets past XLB_FLOW_CACHE_RECHECK (when the
 * table is asked again) stay on its backend throughout.
 */
static void flow_cache_follows_table(struct fixture *fx, int family)
{
	static const __u16 w[3] = { 1, 1, 1 };
	const char *name = cache_vip(family, 85);
	struct xlb_vip_addr v = vip(name);
	struct pkt_flow f = cache_flow(family, 9, 85, 0x02);
	const int fi = family == XLB_AF_INET6; /* the counters' index */
	struct xlb_dp_backend rest[2];
	struct xlb_dp_stats s0, s1;
	int a, b, c, n = 0;

	add_algo_vip(fx, name, XLB_ALGO_RR, w, 3);
	a = send_to(fx, &f);
	/* ACKs from the cache, which the SYN filled when the table recorded
	 * the flow. XLB_FLOW_CACHE_RECHECK + 37 a run: the next packet, the
	 * first after a change, would come from the cache, not from a
	 * recheck. The cache sends all but the XLB_FLOW_CACHE_RECHECK-th.
	 */
	f.tcp_flags = 0x10;
	s0 = stats(fx);
	for (int i = 0; i < XLB_FLOW_CACHE_RECHECK + 37; i++)
		assert_int_equal(send_to(fx, &f), a);
	s1 = stats(fx);
	assert_int_equal(s1.flow_cache_hits[fi] - s0.flow_cache_hits[fi],
			 XLB_FLOW_CACHE_RECHECK + 37 - 1);
	f.tcp_flags = 0x11; /* FIN|ACK */
	assert_int_equal(send_to(fx, &f), a);
	f.tcp_flags = 0x02; /* the tuple again: a new flow, rr's next backend */
	s0 = stats(fx);
	b = send_to(fx, &f);
	s1 = stats(fx);
	assert_int_equal(s1.tx_new_flow - s0.tx_new_flow, 1);
	assert_int_not_equal(b, a);
	f.tcp_flags = 0x10;
	for (int i = 0; i < XLB_FLOW_CACHE_RECHECK + 37; i++)
		assert_int_equal(send_to(fx, &f), b);

	for (int i = 1; i <= 3; i++)
		if (i != b)
			rest[n++] = backend(family, i, 1);
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, rest, 2, fx->err, sizeof(fx->err)), 0);
	s0 = stats(fx);
	c = send_to(fx, &f);
	s1 = stats(fx);
	assert_int_not_equal(c, b);
	assert_int_equal(s1.tx_rechosen - s0.tx_rechosen, 1);
	for (int i = 0; i < XLB_FLOW_CACHE_RECHECK + 37; i++)
		assert_int_equal(send_to(fx, &f), c);
	s0 = s1;
	s1 = stats(fx);
	assert_int_equal(s1.tx_established - s0.tx_established, XLB_FLOW_CACHE_RECHECK + 37);
}

static void test_flow_cache_follows_table(void **state)
{
	flow_cache_follows_table(*state, XLB_AF_INET);
}

static void test_flow_cache6_follows_table(void **state)
{
	flow_cache_follows_table(*state, XLB_AF_INET6);
}

/* Runs pkt `repeat` times in one call; returns the last verdict. */
static int run_repeat(struct fixture *fx, const struct pkt_flow *f, __u32 repeat)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(f, in);
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = repeat);
	struct outcomes before = outcomes(fx), after;

	assert_int_equal(bpf_prog_test_run_opts(xlb_dp__prog_fd(fx->dp), &t), 0);
	after = outcomes(fx);
	/* The repeats may take other paths (docs/KERNEL.md, "Test runs reuse
	 * the buffer"): only the sums.
	 */
	assert_accounted(&before, &after, repeat, -1);
	return t.retval;
}

/* This CPU's flow cache state for the family (the test is pinned). */
static struct xlb_flow_cache_state cache_state(struct fixture *fx, int family)
{
	struct bpf_map *m =
		bpf_object__find_map_by_name(xlb_dp__object(fx->dp), "xlb_flow_cache_state");
	int ncpus = libbpf_num_possible_cpus(), cpu = sched_getcpu();
	struct xlb_flow_cache_state *all, one;
	__u32 slot = family == XLB_AF_INET6;

	assert_non_null(m);
	assert_true(ncpus > 0 && cpu >= 0 && cpu < ncpus);
	all = calloc(ncpus, sizeof(*all));
	assert_non_null(all);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m), &slot, all), 0);
	one = all[cpu];
	free(all);
	return one;
}

/*
 * A CPU whose flow cache keeps missing stops reading it for
 * XLB_FLOW_CACHE_BYPASS packets (setup_one_set: three flows take turns in
 * two ways, so every packet misses and the table sends it); a flow closed
 * and opened again on another backend meanwhile still loses its entry, so
 * when the cache is read again it does not send the new connection to the
 * old backend. The other family's cache is not affected.
 */
static void flow_cache_bypass(struct fixture *fx, int family)
{
	static const __u16 w[4] = { 1, 1, 1, 1 };
	const int other = family == XLB_AF_INET ? XLB_AF_INET6 : XLB_AF_INET;
	const char *name = cache_vip(family, 86);
	/* The VIP's address, not a VIP port: reads no entry, then passes. */
	struct pkt_flow g = cache_flow(family, 12, 9999, 0x10);
	const int fi = family == XLB_AF_INET6, oi = !fi; /* the counters' index */
	struct xlb_dp_stats s0, s1;
	struct pkt_flow f[3];
	int a[3], b;

	add_algo_vip(fx, name, XLB_ALGO_RR, w, 4);
	for (int i = 0; i < 3; i++) {
		f[i] = cache_flow(family, 13 + i, 86, 0x02);
		a[i] = send_to(fx, &f[i]);
		f[i].tcp_flags = 0x10;
	}
	s0 = stats(fx);
	for (int i = 0; i < XLB_FLOW_CACHE_SAMPLE - 1; i++)
		assert_int_equal(send_to(fx, &f[i % 3]), a[i % 3]);
	assert_int_equal(cache_state(fx, family).lookups, XLB_FLOW_CACHE_SAMPLE - 1);
	assert_int_equal(cache_state(fx, family).bypass, 0);
	/* The sample's last packet: no hit in the whole sample. */
	assert_int_equal(send_to(fx, &f[0]), a[0]);
	assert_int_equal(cache_state(fx, family).bypass, XLB_FLOW_CACHE_BYPASS);
	s1 = stats(fx); /* what xlb_flow_cache_*_total export */
	assert_int_equal(s1.flow_cache_hits[fi] - s0.flow_cache_hits[fi], 0);
	assert_int_equal(s1.tx_established - s0.tx_established, XLB_FLOW_CACHE_SAMPLE);
	assert_int_equal(s1.flow_cache_bypasses[fi] - s0.flow_cache_bypasses[fi], 1);
	assert_int_equal(s1.flow_cache_hits[oi] - s0.flow_cache_hits[oi], 0);
	assert_int_equal(s1.flow_cache_bypasses[oi] - s0.flow_cache_bypasses[oi], 0);

	/* f[0] was sent last: its entry is in the set. FIN|ACK, then the
	 * tuple again: rr's next backend, the fourth.
	 */
	f[0].tcp_flags = 0x11;
	assert_int_equal(send_to(fx, &f[0]), a[0]);
	f[0].tcp_flags = 0x02;
	b = send_to(fx, &f[0]);
	for (int i = 0; i < 3; i++)
		assert_int_not_equal(b, a[i]);
	f[0].tcp_flags = 0x10;
	assert_int_equal(send_to(fx, &f[0]), b); /* from the table, in the bypass */
	assert_int_equal(cache_state(fx, family).bypass, XLB_FLOW_CACHE_BYPASS - 1);

	assert_int_equal(run_repeat(fx, &g, XLB_FLOW_CACHE_BYPASS - 1), XDP_PASS);
	assert_int_equal(cache_state(fx, family).bypass, 0);
	for (int i = 0; i < 10; i++) /* the cache again: refilled from the table */
		assert_int_equal(send_to(fx, &f[0]), b);
	assert_int_equal(cache_state(fx, family).hits, 9);
	assert_int_equal(cache_state(fx, other).bypass, 0);
}

static void test_flow_cache_bypass(void **state)
{
	flow_cache_bypass(*state, XLB_AF_INET);
}

static void test_flow_cache6_bypass(void **state)
{
	flow_cache_bypass(*state, XLB_AF_INET6);
}

/* Flow k of flow_cache_bursts(): one client's consecutive ports. */
static struct pkt_flow burst_flow(int family, int k)
{
	struct pkt_flow f = cache_flow(family, 100, 87, 0);

	f.proto = IPPROTO_UDP;
	f.sport = (__u16)(10000 + k);
	return f;
}

/*
 * Sends each of flow_cache_bursts()' first n flows `times` packets, flow
 * after flow: every one established, to the flow's backend in first[],
 * and none turning the cache off. Returns how many the cache sent.
 */
static __u64 burst_turn(struct fixture *fx, int family, int n, const int *first, int times)
{
	const int fi = family == XLB_AF_INET6;
	struct xlb_dp_stats s0 = stats(fx), s1;

	for (int k = 0; k < n; k++) {
		struct pkt_flow f = burst_flow(family, k);

		for (int i = 0; i < times; i++)
			assert_int_equal(send_to(fx, &f), first[k]);
	}
	s1 = stats(fx);
	assert_int_equal(s1.tx_established - s0.tx_established, (__u64)n * times);
	assert_int_equal(s1.flow_cache_bypasses[fi] - s0.flow_cache_bypasses[fi], 0);
	return s1.flow_cache_hits[fi] - s0.flow_cache_hits[fi];
}

/*
 * More flows than a sample, each sent in turn as a client's would be, do
 * not turn the cache off. Their first packets, which no cache could have
 * had, do not count as misses, and a flow enters the cache when the table
 * records it, so the flows' second packets come from the cache: all but
 * those of sets that drew three or more flows (none for one client's
 * consecutive ports under the multiplicative set index; ~3% of 4,608 flows
 * over 16,384 sets for an index that spread them at random). Then every
 * flow reaches its XLB_FLOW_CACHE_RECHECK-th packet in the same turn: the
 * table sends them all, and the cache, which held each of them, counts as
 * answering.
 */
static void flow_cache_bursts(struct fixture *fx, int family)
{
	static const __u16 w[3] = { 1, 1, 1 };
	const int n = XLB_FLOW_CACHE_SAMPLE + 512;
	static int first[XLB_FLOW_CACHE_SAMPLE + 512];
	__u64 hits;

	add_algo_vip(fx, family == XLB_AF_INET ? "198.18.1.110:87/udp" : "[2001:2::110]:87/udp",
		     XLB_ALGO_MAGLEV, w, 3);
	for (int k = 0; k < n; k++) {
		struct pkt_flow f = burst_flow(family, k);

		first[k] = send_to(fx, &f);
	}
	hits = burst_turn(fx, family, n, first, 1);
	assert_true(hits >= (__u64)n * 95 / 100 && hits <= (__u64)n);
	/* Each flow to one packet short of its recheck (one packet at a time:
	 * a repeating test run swaps the XDP dispatcher, ~20 ms), then all in
	 * turn: the table's turn.
	 */
	burst_turn(fx, family, n, first, XLB_FLOW_CACHE_RECHECK - 2);
	hits = burst_turn(fx, family, n, first, 1);
	assert_true(hits <= (__u64)n * 5 / 100);
	assert_int_equal(cache_state(fx, family).bypass, 0);
}

static void test_flow_cache_bursts(void **state)
{
	flow_cache_bursts(*state, XLB_AF_INET);
}

static void test_flow_cache6_bursts(void **state)
{
	flow_cache_bursts(*state, XLB_AF_INET6);
}

/* xlbd's recount ages out flows that left the connection table silently
 * (LRU eviction, no FIN) and agrees with the data path otherwise.
 */
static void test_lc_recount(void **state)
{
	static const __u16 w[2] = { 1, 1 };
	const char *name = "198.18.1.110:89/tcp";
	struct fixture *fx = *state;
	struct bpf_map *flows = bpf_object__find_map_by_name(xlb_dp__object(fx->dp), "xlb_flows4");
	struct xlb_flow4_key key = { .daddr = htonl(0xc612016e), .dport = htons(89),
				     .proto = IPPROTO_TCP };
	__s64 before;

	assert_non_null(flows);
	add_algo_vip(fx, name, XLB_ALGO_LC, w, 2);
	for (int k = 0; k < 20; k++) {
		struct pkt_flow f = client_flow(k, 89, 0x02);

		send_to(fx, &f);
		if (k < 5) { /* five end with a FIN */
			f.tcp_flags = 0x11;
			send_to(fx, &f);
		}
	}
	assert_int_equal(active(fx, name, 1) + active(fx, name, 2), 15);
	assert_int_equal(xlb_dp__lc_recount(fx->dp, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(active(fx, name, 1) + active(fx, name, 2), 15);
	/* four open flows vanish from the table without a word */
	for (int k = 5; k < 9; k++) {
		struct pkt_flow f = client_flow(k, 89, 0x02);
		__be32 a[4];
		__u8 fam;

		assert_int_equal(xlb_addr__parse(f.saddr, &fam, a), 0);
		key.saddr = a[0];
		key.sport = htons(f.sport);
		assert_int_equal(bpf_map_delete_elem(bpf_map__fd(flows), &key), 0);
	}
	before = active(fx, name, 1) + active(fx, name, 2);
	assert_int_equal(before, 15);
	assert_int_equal(xlb_dp__lc_recount(fx->dp, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(active(fx, name, 1) + active(fx, name, 2), 11);

	/* Flows closed while the VIP was maglev do not come back as active
	 * when it turns lc: the FIN marks the entry whatever the algorithm.
	 */
	{
		const char *mname = "198.18.1.110:90/tcp";
		struct xlb_vip_addr mv = vip(mname);

		add_algo_vip(fx, mname, XLB_ALGO_MAGLEV, w, 2);
		for (int k = 0; k < 3; k++) {
			struct pkt_flow f = client_flow(100 + k, 90, 0x02);

			send_to(fx, &f);
			if (k < 2) {
				f.tcp_flags = 0x11;
				send_to(fx, &f);
			}
		}
		assert_int_equal(xlb_dp__vip_update(fx->dp, &mv, XLB_ALGO_LC, XLB_FWD_L2DSR,
						    fx->err, sizeof(fx->err)),
				 0);
		assert_int_equal(active(fx, mname, 1) + active(fx, mname, 2), 0);
		assert_int_equal(xlb_dp__lc_recount(fx->dp, fx->err, sizeof(fx->err)), 0);
		assert_int_equal(active(fx, mname, 1) + active(fx, mname, 2), 1);
	}
}

/* Loads yaml and applies it to the fixture's data path; the caller frees it. */
static struct xlb_config *reconcile_yaml(struct fixture *fx, const char *yaml)
{
	struct xlb_config *cfg;
	char err[512];

	assert_int_equal(xlb_config__load_string(yaml, strlen(yaml), &cfg, err, sizeof(err)), 0);
	if (xlb_reconcile__apply(fx->dp, cfg, err, sizeof(err)))
		fail_msg("reconcile: %s", err);
	return cfg;
}

/* A config reaches the data path through reconcile: the algorithms and the
 * flood guard; an algorithm value it does not know is refused, named, and
 * nothing is applied. (VIPs without backends: no interface here to resolve
 * backend MACs on.)
 */
static void test_reconcile_algos_and_flood_guard(void **state)
{
	static const char yaml[] = "conntrack: {flood_guard_new_flows_per_cpu: 1234}\n"
				   "vips:\n"
				   "  - {vip: \"198.18.1.120:80/tcp\", algorithm: wrr}\n"
				   "  - {vip: \"198.18.1.120:81/tcp\", algorithm: lc}\n"
				   "  - {vip: \"198.18.1.120:82/tcp\", algorithm: rr}\n";
	static const enum xlb_algo want[3] = { XLB_ALGO_WRR, XLB_ALGO_LC, XLB_ALGO_RR };
	struct fixture *fx = *state;
	static struct xlb_dp_vip_info info;
	struct xlb_config *cfg = reconcile_yaml(fx, yaml);
	char err[512];

	assert_int_equal(xlb_dp__flood_guard(fx->dp), 1234);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(xlb_dp__vip_info(fx->dp, &cfg->vips[i].addr, &info), 0);
		assert_int_equal(info.meta.algo, want[i]);
	}

	/* refused: an unknown algorithm value, with other changes in the config */
	cfg->conntrack.flood_guard_new_flows_per_cpu = 99;
	cfg->vips[1].algorithm = XLB_CONFIG_ALGO_MAX;
	cfg->vips[0].algorithm = XLB_CONFIG_ALGO_MAGLEV;
	assert_int_equal(xlb_reconcile__apply(fx->dp, cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown algorithm 5"));
	assert_non_null(strstr(err, "198.18.1.120:81/tcp"));
	assert_int_equal(xlb_dp__flood_guard(fx->dp), 1234);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &cfg->vips[0].addr, &info), 0);
	assert_int_equal(info.meta.algo, XLB_ALGO_WRR);

	/* and the guard goes off again */
	cfg->conntrack.flood_guard_new_flows_per_cpu = 0;
	cfg->vips[1].algorithm = XLB_CONFIG_ALGO_LC;
	assert_int_equal(xlb_reconcile__apply(fx->dp, cfg, err, sizeof(err)), 0);
	assert_int_equal(xlb_dp__flood_guard(fx->dp), 0);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &cfg->vips[0].addr, &info), 0);
	assert_int_equal(info.meta.algo, XLB_ALGO_MAGLEV);
	xlb_config__free(cfg);
}

/* The config's stateless flag reaches the VIP's entry, both ways. */
static void test_reconcile_stateless(void **state)
{
	static const char yaml[] = "vips:\n"
				   "  - {vip: \"198.18.1.121:53/udp\", stateless: true}\n"
				   "  - {vip: \"198.18.1.121:80/tcp\"}\n";
	struct fixture *fx = *state;
	static struct xlb_dp_vip_info info;
	struct xlb_config *cfg = reconcile_yaml(fx, yaml);
	char err[512];

	assert_int_equal(xlb_dp__vip_info(fx->dp, &cfg->vips[0].addr, &info), 0);
	assert_true(info.meta.flags & XLB_VIP_F_STATELESS);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &cfg->vips[1].addr, &info), 0);
	assert_false(info.meta.flags & XLB_VIP_F_STATELESS);

	cfg->vips[0].stateless = false;
	cfg->vips[1].stateless = true;
	assert_int_equal(xlb_reconcile__apply(fx->dp, cfg, err, sizeof(err)), 0);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &cfg->vips[0].addr, &info), 0);
	assert_false(info.meta.flags & XLB_VIP_F_STATELESS);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &cfg->vips[1].addr, &info), 0);
	assert_true(info.meta.flags & XLB_VIP_F_STATELESS);
	xlb_config__free(cfg);
}

/* wrr and lc take backends from the published set: a drained backend gets
 * no new flow but keeps its own.
 */
static void test_algos_skip_drained(void **state)
{
	static const __u16 w[3] = { 1, 2, 3 };
	static const struct {
		const char *name;
		enum xlb_algo algo;
		__u16 port;
	} vips[] = {
		{ "198.18.1.110:85/tcp", XLB_ALGO_WRR, 85 },
		{ "198.18.1.110:86/tcp", XLB_ALGO_RR, 86 },
		{ "198.18.1.110:87/tcp", XLB_ALGO_LC, 87 },
	};
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(vips) / sizeof(vips[0]); i++) {
		struct xlb_vip_addr v = vip(vips[i].name);
		struct xlb_dp_backend b[3];
		struct pkt_flow held = client_flow(0, vips[i].port, 0x02);
		int held_on = 0, k = 1;
		char held_saddr[32];

		add_algo_vip(fx, vips[i].name, vips[i].algo, w, 3);
		/* a flow on backend 3, to see it stay */
		for (; held_on != 3 && k < 100; k++) {
			held = client_flow(k, vips[i].port, 0x02);
			held_on = send_to(fx, &held);
		}
		assert_int_equal(held_on, 3);
		snprintf(held_saddr, sizeof(held_saddr), "%s", held.saddr); /* client_flow reuses it */
		held.saddr = held_saddr;
		for (int j = 0; j < 3; j++)
			b[j] = backend(XLB_AF_INET, j + 1, w[j]);
		b[2].drain = true;
		assert_int_equal(xlb_dp__set_backends(fx->dp, &v, b, 3, fx->err, sizeof(fx->err)),
				 0);
		for (int n = 0; n < 1000; n++) { /* fewer than the LRU holds */
			struct pkt_flow f = client_flow(2000 + n, vips[i].port, 0x02);

			if (send_to(fx, &f) == 3)
				fail_msg("%s: new flow %d sent to the drained backend",
					 vips[i].name, n);
		}
		held.tcp_flags = 0x10;
		assert_int_equal(send_to(fx, &held), 3);
	}
}

/* A VIP switched to wrr gets its sequence with the switch; back to maglev,
 * new flows follow the Maglev table again.
 */
static void test_algo_switch_to_wrr(void **state)
{
	static const int smooth[6] = { 3, 2, 1, 3, 2, 3 };
	static const __u16 w[3] = { 1, 2, 3 };
	const char *name = "198.18.1.110:88/tcp";
	struct fixture *fx = *state;
	struct xlb_vip_addr v = vip(name);
	__u32 start = cursor_start(6);

	add_algo_vip(fx, name, XLB_ALGO_MAGLEV, w, 3);
	assert_int_equal(xlb_dp__vip_update(fx->dp, &v, XLB_ALGO_WRR, XLB_FWD_L2DSR, fx->err,
					    sizeof(fx->err)),
			 0);
	for (int k = 0; k < 12; k++) {
		struct pkt_flow f = client_flow(k, 88, 0x02);

		assert_int_equal(send_to(fx, &f), smooth[(start + k) % 6]);
	}
	assert_int_equal(xlb_dp__vip_update(fx->dp, &v, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, fx->err,
					    sizeof(fx->err)),
			 0);
	for (int k = 100; k < 140; k++) {
		struct pkt_flow f = client_flow(k, 88, 0x02);

		assert_int_equal(send_to(fx, &f), predict(fx, name, &f).mac[5]);
	}
}

/* ---- bad input: clear errors, maps untouched -------------------------------- */

struct snapshot {
	struct xlb_dp_vip_info info;
	__u32 table[XLB_MAGLEV_DEFAULT_SIZE];
};

static void snap(struct fixture *fx, const char *name, struct snapshot *s)
{
	struct xlb_vip_addr v = vip(name);

	memset(s, 0, sizeof(*s));
	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &s->info), 0);
	assert_int_equal(xlb_dp__read_table(fx->dp, &v, s->table, s->info.meta.table_size), 0);
}

static void test_bad_input_rejected_maps_untouched(void **state)
{
	struct fixture *fx = *state;
	static struct snapshot a, b;
	const char *name = "198.18.1.100:80/tcp";
	struct xlb_vip_addr v = vip(name), missing = vip("198.18.9.9:80/tcp");
	struct xlb_vip_addr l2v = vip("198.18.1.100:443/tcp");
	struct xlb_vip_addr v6 = vip("[2001:2::100]:80/tcp");
	struct xlb_dp_backend bk[3] = { backend(XLB_AF_INET, 1, 100), backend(XLB_AF_INET, 2, 100),
					backend(XLB_AF_INET, 3, 100) };
	static struct xlb_dp_backend many[XLB_MAX_BACKENDS_PER_VIP + 1];
	struct xlb_dp_backend bad[3];

	snap(fx, name, &a);

	memcpy(bad, bk, sizeof(bad));
	bad[1].weight = 0;
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, bad, 3, fx->err, sizeof(fx->err)),
			 -EINVAL);
	assert_non_null(strstr(fx->err, "weight 0"));

	memcpy(bad, bk, sizeof(bad));
	bad[2] = bad[0];
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, bad, 3, fx->err, sizeof(fx->err)),
			 -EINVAL);
	assert_non_null(strstr(fx->err, "twice"));

	/* IPv4 backend behind an IPv6 VIP; IPv6 backend behind an l2dsr IPv4 VIP. */
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v6, bk, 3, fx->err, sizeof(fx->err)),
			 -EAFNOSUPPORT);
	assert_non_null(strstr(fx->err, "IPv4 but the VIP is IPv6"));
	bad[0] = backend(XLB_AF_INET6, 1, 100);
	assert_int_equal(xlb_dp__set_backends(fx->dp, &l2v, bad, 1, fx->err, sizeof(fx->err)),
			 -EAFNOSUPPORT);
	assert_non_null(strstr(fx->err, "l2dsr"));

	for (int i = 0; i <= XLB_MAX_BACKENDS_PER_VIP; i++)
		many[i] = bk[0];
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, many, XLB_MAX_BACKENDS_PER_VIP + 1,
					      fx->err, sizeof(fx->err)),
			 -E2BIG);

	assert_int_equal(xlb_dp__set_backends(fx->dp, &missing, bk, 3, fx->err, sizeof(fx->err)),
			 -ENOENT);
	assert_non_null(strstr(fx->err, "198.18.9.9:80/tcp"));
	assert_int_equal(xlb_dp__vip_del(fx->dp, &missing, fx->err, sizeof(fx->err)), -ENOENT);

	assert_int_equal(xlb_dp__vip_add(fx->dp, &missing, XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 65536,
					 fx->err, sizeof(fx->err)),
			 -EINVAL);
	assert_non_null(strstr(fx->err, "prime"));
	assert_int_equal(xlb_dp__vip_add(fx->dp, &missing, XLB_ALGO_MAX, XLB_FWD_IPIP, 0, fx->err,
					 sizeof(fx->err)),
			 -EINVAL);
	assert_int_equal(xlb_dp__vip_add(fx->dp, &v, XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 0, fx->err,
					 sizeof(fx->err)),
			 -EEXIST);
	missing.family = 5;
	assert_int_equal(xlb_dp__vip_add(fx->dp, &missing, XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 0,
					 fx->err, sizeof(fx->err)),
			 -EINVAL);

	/* MAC unknown and no interface to resolve it on. */
	memcpy(bad, bk, sizeof(bad));
	memset(bad[2].mac, 0, 6);
	bad[2].addr[0] = htonl(0xc6120063); /* 198.18.0.99, a new backend */
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, bad, 3, fx->err, sizeof(fx->err)),
			 -EINVAL);
	assert_non_null(strstr(fx->err, "198.18.0.99"));

	snap(fx, name, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_table_size_and_algo_update(void **state)
{
	struct fixture *fx = *state;
	struct xlb_vip_addr v = vip("198.18.1.104:80/tcp");
	struct xlb_dp_backend bk[3] = { backend(XLB_AF_INET, 1, 1), backend(XLB_AF_INET, 2, 2),
					backend(XLB_AF_INET, 3, 3) };
	struct pkt_flow f = tcp4("198.18.1.104", 80, 1);
	static struct xlb_dp_vip_info info;

	assert_int_equal(xlb_dp__vip_add(fx->dp, &v, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, 251, fx->err,
					 sizeof(fx->err)),
			 0);
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, bk, 3, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &info), 0);
	assert_int_equal(info.meta.table_size, 251);
	for (__u16 p = 1; p < 40; p++) {
		f.sport = p;
		send_and_check(fx, "198.18.1.104:80/tcp", &f);
	}
	assert_int_equal(xlb_dp__vip_update(fx->dp, &v, XLB_ALGO_SOURCE_HASH, XLB_FWD_L2DSR,
					    fx->err, sizeof(fx->err)),
			 0);
	for (__u16 p = 100; p < 140; p++) {
		f.sport = p;
		send_and_check(fx, "198.18.1.104:80/tcp", &f);
	}
	assert_int_equal(xlb_dp__vip_del(fx->dp, &v, fx->err, sizeof(fx->err)), 0);
	{
		__u8 in[PKT_MAX], out[PKT_MAX];
		size_t len = pkt_build(&f, in), out_len;

		assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	}
}

/* ---- rate limits (the data path's clock is the test's) ------------------ */

#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (1000 * SEC)

static void clock_at(struct fixture *fx, __u64 ns)
{
	assert_int_equal(xlb_dp__test_clock_set(fx->dp, ns), 0);
}

static void set_limits(struct fixture *fx, const char *name, const struct xlb_dp_limits *l)
{
	struct xlb_vip_addr v = vip(name);

	if (xlb_dp__vip_set_limits(fx->dp, &v, l, fx->err, sizeof(fx->err)))
		fail_msg("set_limits %s: %s", name, fx->err);
}

static struct xlb_vip_stats vstats(struct fixture *fx, const char *name)
{
	struct xlb_vip_addr v = vip(name);
	struct xlb_vip_stats vs;

	assert_int_equal(vip_stats(fx->dp, &v, &vs), 0);
	return vs;
}

/* Sends f n times; returns how many were forwarded (the rest must drop). */
static int send_n(struct fixture *fx, const struct pkt_flow *f, int n)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(f, in), out_len;
	int tx = 0;

	for (int i = 0; i < n; i++) {
		int v = run(fx, in, len, out, &out_len);

		if (v != XDP_TX && v != XDP_DROP)
			fail_msg("verdict %d", v);
		tx += v == XDP_TX;
	}
	return tx;
}

static struct pkt_flow udp4(const char *saddr, __u16 sport, __u16 dport)
{
	return (struct pkt_flow){ .family = 4, .saddr = saddr, .daddr = "198.18.1.100",
				  .sport = sport, .dport = dport, .proto = IPPROTO_UDP,
				  .payload_len = 16 };
}

/*
 * The ICMP "too big" reply xlb owes the client of frame in (l2 bytes of link
 * header), built independently: back to the client's MAC from ours, the tag
 * kept, from the VIP, quoting the first XLB_TOO_BIG_QUOTE4/6 bytes of the
 * client's IP packet, every checksum right.
 */
static size_t expect_too_big(const __u8 *in, size_t l2, int family, __u32 mtu, __u8 *exp)
{
	const __u8 *ip = in + l2;
	size_t n;

	memcpy(exp, in + 6, 6);
	memcpy(exp + 6, LB_IF_MAC, 6);
	memcpy(exp + 12, in + 12, l2 - 12); /* (TPID, TCI and) ethertype */
	n = l2;
	if (family == 4) {
		struct iphdr h = { .ihl = 5, .version = 4, .tos = 0xc0,
				   .tot_len = htons(20 + 8 + XLB_TOO_BIG_QUOTE4), .ttl = 64,
				   .protocol = IPPROTO_ICMP };
		__u8 *ic;
		__u16 c;

		memcpy(&h.saddr, ip + 16, 4);
		memcpy(&h.daddr, ip + 12, 4);
		h.check = pkt_ipv4_csum(&h);
		memcpy(exp + n, &h, 20);
		ic = exp + n + 20;
		memset(ic, 0, 8);
		ic[0] = 3;
		ic[1] = 4;
		ic[6] = (__u8)(mtu >> 8);
		ic[7] = (__u8)mtu;
		memcpy(ic + 8, ip, XLB_TOO_BIG_QUOTE4);
		c = pkt_csum_fold(pkt_csum_partial(ic, 8 + XLB_TOO_BIG_QUOTE4, 0));
		memcpy(ic + 2, &c, 2);
		return n + 20 + 8 + XLB_TOO_BIG_QUOTE4;
	} else {
		__u8 *h = exp + n, *ic = h + 40;
		__u32 plen = htonl(8 + XLB_TOO_BIG_QUOTE6), nh = htonl(58), sum;
		__u16 c;

		memset(h, 0, 48);
		h[0] = 0x60;
		h[4] = (__u8)((8 + XLB_TOO_BIG_QUOTE6) >> 8);
		h[5] = (__u8)(8 + XLB_TOO_BIG_QUOTE6);
		h[6] = 58;
		h[7] = 64;
		memcpy(h + 8, ip + 24, 16);
		memcpy(h + 24, ip + 8, 16);
		ic[0] = 2;
		ic[4] = (__u8)(mtu >> 24);
		ic[5] = (__u8)(mtu >> 16);
		ic[6] = (__u8)(mtu >> 8);
		ic[7] = (__u8)mtu;
		memcpy(ic + 8, ip, XLB_TOO_BIG_QUOTE6);
		sum = pkt_csum_partial(h + 8, 32, 0);
		sum = pkt_csum_partial(&plen, 4, sum);
		sum = pkt_csum_partial(&nh, 4, sum);
		sum = pkt_csum_partial(ic, 8 + XLB_TOO_BIG_QUOTE6, sum);
		c = pkt_csum_fold(sum);
		memcpy(ic + 2, &c, 2);
		return n + 48 + XLB_TOO_BIG_QUOTE6;
	}
}

/*
 * A client packet that would not fit the MTU (1500 here) once
 * encapsulated is answered with an ICMP "fragmentation needed" / ICMPv6
 * "packet too big" carrying the MTU less the outer header, exact to the
 * byte, whether it takes the full path or the established one; one that
 * fits, or that is not encapsulated (l2dsr), is forwarded. At most
 * XLB_TOO_BIG_PER_CPU replies a second a CPU; past that, dropped as
 * too_big.
 */
static void test_too_big_reply(void **state)
{
	static const struct {
		const char *what, *vip;
		int family;
		__u16 dport, vlan;
		size_t ip_len;
		__u8 flags;
		__u32 mtu; /* 0: forwarded */
	} rows[] = {
		{ "4in4, table miss", "198.18.1.100", 4, 80, 0, 1481, 0x10, 1480 },
		{ "4in4, fits", "198.18.1.100", 4, 80, 0, 1480, 0x10, 0 },
		{ "4in4, tagged", "198.18.1.100", 4, 80, 7, 1500, 0x10, 1480 },
		{ "4in6", "198.18.1.101", 4, 80, 0, 1461, 0x10, 1460 },
		{ "4in6, fits", "198.18.1.101", 4, 80, 0, 1460, 0x10, 0 },
		{ "6in6", "2001:2::100", 6, 80, 0, 1461, 0x10, 1460 },
		{ "6in6, fits", "2001:2::100", 6, 80, 0, 1460, 0x10, 0 },
		{ "l2dsr grows nothing", "198.18.1.100", 4, 443, 0, 1500, 0x10, 0 },
		{ "6 l2dsr", "2001:2::100", 6, 443, 0, 1500, 0x10, 0 },
	};
	struct fixture *fx = *state;
	__u8 in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	size_t len, out_len, exp_len;
	struct xlb_dp_stats s0, s1;
	struct pkt_flow f;
	int sent = 0, v;

	clock_at(fx, T0);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		char name[64];

		f = rows[r].family == 4 ? tcp4(rows[r].vip, rows[r].dport, 2000 + r)
					: tcp6(rows[r].vip, rows[r].dport, 2000 + r);
		f.vlan = rows[r].vlan;
		f.payload_len = rows[r].ip_len - (rows[r].family == 4 ? 40 : 60);
		snprintf(name, sizeof(name), rows[r].family == 4 ? "%s:%u/tcp" : "[%s]:%u/tcp",
			 rows[r].vip, rows[r].dport);
		for (int established = 0; established < 2; established++) {
			/* second time: a SYN records the flow, its packets go by the cache */
			if (established) {
				f.tcp_flags = 0x02;
				f.payload_len = 0;
				send_and_check(fx, name, &f);
				f.payload_len = rows[r].ip_len - (rows[r].family == 4 ? 40 : 60);
			}
			f.tcp_flags = rows[r].flags;
			len = pkt_build(&f, in);
			assert_int_equal(len, l2_len(&f) + rows[r].ip_len);
			if (!rows[r].mtu) {
				send_and_check(fx, name, &f);
				continue;
			}
			s0 = stats(fx);
			if (run(fx, in, len, out, &out_len) != XDP_TX)
				fail_msg("%s: not answered", rows[r].what);
			sent++;
			exp_len = expect_too_big(in, l2_len(&f), rows[r].family, rows[r].mtu, exp);
			assert_frame(rows[r].what, out, out_len, exp, exp_len);
			assert_true(pkt_l4_csum_ok(out, out_len));
			s1 = stats(fx);
			assert_int_equal(s1.tx_too_big, s0.tx_too_big + 1);
			assert_int_equal(s1.tx_established, s0.tx_established);
			assert_int_equal(s1.flow_cache_hits[rows[r].family == 6],
					 s0.flow_cache_hits[rows[r].family == 6]);
		}
	}

	/* The bound: this CPU's replies in a second, then drops. */
	f = tcp4("198.18.1.100", 80, 3000);
	f.tcp_flags = 0x10;
	f.payload_len = 1500 - 40;
	len = pkt_build(&f, in);
	while ((v = run(fx, in, len, out, &out_len)) == XDP_TX)
		sent++;
	assert_int_equal(v, XDP_DROP);
	assert_int_equal(sent, XLB_TOO_BIG_PER_CPU);
	assert_int_equal(stats(fx).drops[XLB_DROP_TOO_BIG], 1);
	assert_int_equal(vstats(fx, "198.18.1.100:80/tcp").drops[XLB_DROP_TOO_BIG], 1);
	assert_string_equal(xlb_dp__drop_name(XLB_DROP_TOO_BIG), "too_big");
	clock_at(fx, T0 + 2 * SEC);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
}

static void test_rate_vip_burst_then_drops(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:53/udp";
	struct xlb_dp_limits l = { .pps = 100, .burst = 10 };
	struct pkt_flow f = udp4("198.18.0.1", 1000, 53), other = udp4("198.18.0.1", 1000, 54);
	struct xlb_dp_stats st;
	struct xlb_vip_stats vs;

	clock_at(fx, T0);
	set_limits(fx, name, &l);
	/* each of 10 is checked byte for byte; then the bucket is empty */
	for (int i = 0; i < 10; i++) {
		f.sport = 1000 + i; /* new flows too: only the per-VIP limit is set */
		send_and_check(fx, name, &f);
	}
	assert_int_equal(send_n(fx, &f, 5), 0);
	st = stats(fx);
	vs = vstats(fx, name);
	assert_int_equal(st.drops[XLB_DROP_RATE_VIP], 5);
	assert_int_equal(vs.drops[XLB_DROP_RATE_VIP], 5);
	assert_int_equal(vs.drops[XLB_DROP_RATE_SOURCE], 0);
	assert_int_equal(vs.packets, 10);
	assert_int_equal(st.rl_vip_pass, 10);
	assert_string_equal(xlb_dp__drop_name(XLB_DROP_RATE_VIP), "rate_vip");
	assert_string_equal(xlb_dp__drop_name(XLB_DROP_RATE_SOURCE), "rate_source");
	/* a VIP without limits on the same address pays nothing for them */
	assert_int_equal(send_n(fx, &other, 20), 20);
	assert_int_equal(stats(fx).rl_vip_pass, 10);
	assert_int_equal(stats(fx).rl_vip_leases, st.rl_vip_leases);

	/* IPv6 and TCP the same */
	l.burst = 3;
	set_limits(fx, "[2001:2::100]:80/tcp", &l);
	f = tcp6("2001:2::100", 80, 7);
	assert_int_equal(send_n(fx, &f, 5), 3);
	assert_int_equal(vstats(fx, "[2001:2::100]:80/tcp").drops[XLB_DROP_RATE_VIP], 2);
}

static void test_rate_vip_refill(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:53/udp";
	struct xlb_dp_limits l = { .pps = 100, .burst = 10, .lease = 1 };
	struct pkt_flow f = udp4("198.18.0.1", 1000, 53);

	clock_at(fx, T0);
	set_limits(fx, name, &l);
	assert_int_equal(send_n(fx, &f, 20), 10);
	clock_at(fx, T0 + 9 * MS); /* 0.9 of a token */
	assert_int_equal(send_n(fx, &f, 5), 0);
	clock_at(fx, T0 + 50 * MS); /* 5 tokens since T0 */
	assert_int_equal(send_n(fx, &f, 20), 5);
	clock_at(fx, T0 + 3600 * SEC); /* an hour idle: the burst, no more */
	assert_int_equal(send_n(fx, &f, 20), 10);
	clock_at(fx, T0 + 3600 * SEC - 20 * MS); /* back a little: nothing */
	assert_int_equal(send_n(fx, &f, 5), 0);
	clock_at(fx, T0 + 3600 * SEC + 10 * MS); /* and no double credit */
	assert_int_equal(send_n(fx, &f, 5), 1);
	assert_int_equal(stats(fx).drops[XLB_DROP_RATE_VIP], 10 + 5 + 15 + 10 + 5 + 4);
}

/* A CPU takes lease tokens at a time; on one CPU the burst is exact. */
static void test_rate_vip_leases(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:53/udp";
	struct xlb_dp_limits l = { .pps = 1000, .burst = 1000 }, got;
	struct xlb_vip_addr v = vip(name);
	struct pkt_flow f = udp4("198.18.0.1", 1000, 53);
	__u64 trips;

	clock_at(fx, T0);
	set_limits(fx, name, &l);
	assert_int_equal(xlb_dp__vip_limits(fx->dp, &v, &got), 0);
	assert_true(got.lease > 1 && got.lease <= XLB_RL_LEASE_MAX);
	assert_int_equal(got.lease, xlb_rl_lease_auto(1000, libbpf_num_possible_cpus()));
	assert_int_equal(send_n(fx, &f, 1100), 1000);
	/* then one more finds it dry; the other drops wait for the next token
	 * without asking
	 */
	trips = (1000 + got.lease - 1) / got.lease + 1;
	assert_int_equal(stats(fx).rl_vip_leases, trips);
	assert_int_equal(stats(fx).rl_vip_pass, 1000);
	/* 100 ms: 100 tokens, leased out the same way */
	clock_at(fx, T0 + 100 * MS);
	assert_int_equal(send_n(fx, &f, 150), 100);
}

static void test_rate_vip_live_change(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:53/udp";
	struct xlb_dp_limits l = { .pps = 1000, .burst = 1000, .lease = 64 };
	struct xlb_vip_addr v = vip(name);
	struct pkt_flow f = udp4("198.18.0.1", 1000, 53);
	static struct xlb_dp_vip_info info;
	__u32 gen;

	clock_at(fx, T0);
	set_limits(fx, name, &l);
	assert_int_equal(send_n(fx, &f, 5), 5); /* this CPU holds 59 of a lease */
	l = (struct xlb_dp_limits){ .pps = 1, .burst = 2 };
	set_limits(fx, name, &l); /* the lease is void, the bucket capped at 2 */
	assert_int_equal(send_n(fx, &f, 10), 2);
	/* dry until T0 + 1 s at 1/s; raised, 10 ms give 10 tokens at once */
	l = (struct xlb_dp_limits){ .pps = 1000, .burst = 1000, .lease = 1 };
	set_limits(fx, name, &l);
	clock_at(fx, T0 + 10 * MS);
	assert_int_equal(send_n(fx, &f, 20), 10);
	l = (struct xlb_dp_limits){ .pps = 1, .burst = 2 };
	set_limits(fx, name, &l);
	/* the same limits again: nothing changes, no lease dropped */
	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &info), 0);
	gen = info.meta.rl_gen;
	set_limits(fx, name, &l);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &info), 0);
	assert_int_equal(info.meta.rl_gen, gen);
	/* off: everything passes; on again: a full bucket */
	l = (struct xlb_dp_limits){ 0 };
	set_limits(fx, name, &l);
	assert_int_equal(send_n(fx, &f, 50), 50);
	l = (struct xlb_dp_limits){ .pps = 1, .burst = 3 };
	set_limits(fx, name, &l);
	assert_int_equal(send_n(fx, &f, 10), 3);
	/* an algorithm change keeps the limits */
	assert_int_equal(xlb_dp__vip_update(fx->dp, &v, XLB_ALGO_SOURCE_HASH, XLB_FWD_L2DSR,
					    fx->err, sizeof(fx->err)),
			 0);
	assert_int_equal(send_n(fx, &f, 3), 0);
	/* a VIP deleted and added again (same id) starts with no state */
	assert_int_equal(xlb_dp__vip_del(fx->dp, &v, fx->err, sizeof(fx->err)), 0);
	add_vip(fx, name, XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	assert_int_equal(send_n(fx, &f, 10), 10);
	set_limits(fx, name, &l);
	assert_int_equal(send_n(fx, &f, 10), 3);
}

static void test_rate_source_isolation(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:80/tcp";
	struct xlb_dp_limits l = { .source_new_flows = 1, .source_burst = 3 };
	struct pkt_flow a = tcp4("198.18.1.100", 80, 1), b = a;
	struct xlb_vip_stats vs;

	b.saddr = "198.18.0.2";
	clock_at(fx, T0);
	set_limits(fx, name, &l);
	for (__u16 p = 1; p <= 3; p++) {
		a.sport = p;
		send_and_check(fx, name, &a);
	}
	a.sport = 4;
	assert_int_equal(send_n(fx, &a, 3), 0); /* over, and never recorded */
	for (__u16 p = 1; p <= 3; p++) { /* the other source is not limited */
		b.sport = p;
		send_and_check(fx, name, &b);
	}
	b.sport = 4;
	assert_int_equal(send_n(fx, &b, 1), 0);
	/* A's admitted flows go on; a non-SYN miss is not a new flow */
	a.tcp_flags = 0x10;
	for (__u16 p = 1; p <= 3; p++) {
		a.sport = p;
		send_and_check(fx, name, &a);
	}
	a.sport = 999;
	send_and_check(fx, name, &a);
	a.tcp_flags = 0x12; /* SYN+ACK: not a flow start either */
	a.sport = 998;
	send_and_check(fx, name, &a);
	vs = vstats(fx, name);
	assert_int_equal(vs.drops[XLB_DROP_RATE_SOURCE], 4);
	assert_int_equal(stats(fx).drops[XLB_DROP_RATE_SOURCE], 4);
	assert_int_equal(stats(fx).rl_src_pass, 6);
	/* one second: one more flow for each */
	clock_at(fx, T0 + SEC);
	a.tcp_flags = 0x02;
	for (__u16 p = 10; p < 13; p++) {
		a.sport = p;
		b.sport = p;
		assert_int_equal(send_n(fx, &a, 1) + send_n(fx, &b, 1), p == 10 ? 2 : 0);
	}

	/* IPv6 sources, and a per-VIP limit beside: both hold */
	name = "[2001:2::100]:80/tcp";
	l = (struct xlb_dp_limits){ .pps = 1000, .burst = 1000, .source_new_flows = 1,
				    .source_burst = 2 };
	set_limits(fx, name, &l);
	a = tcp6("2001:2::100", 80, 1);
	b = a;
	b.saddr = "2001:2:0:1::2"; /* another /64: another source */
	for (__u16 p = 1; p <= 3; p++) {
		a.sport = p;
		b.sport = p;
		assert_int_equal(send_n(fx, &a, 1), p <= 2);
		assert_int_equal(send_n(fx, &b, 1), p <= 2);
	}
	vs = vstats(fx, name);
	assert_int_equal(vs.drops[XLB_DROP_RATE_SOURCE], 2);
	assert_int_equal(vs.drops[XLB_DROP_RATE_VIP], 0);
}

/*
 * A per-source limit counts a client network, not an address: 1,000
 * addresses of one IPv6 /64 (a host may pick any) share one limit, another
 * /64 has its own; source_prefix6 128 gives each address its own again;
 * source_prefix4 24 makes a /24 one source.
 */
static void test_rate_source_prefix(void **state)
{
	struct fixture *fx = *state;
	const char *name = "[2001:2::100]:80/tcp";
	struct xlb_dp_limits l = { .source_new_flows = 10, .source_burst = 10 };
	struct xlb_dp_limits got;
	struct xlb_vip_addr v = vip(name);
	char saddr[64];
	struct pkt_flow f;
	int sent = 0;

	clock_at(fx, T0);
	set_limits(fx, name, &l);
	assert_int_equal(xlb_dp__vip_limits(fx->dp, &v, &got), 0);
	assert_int_equal(got.source_prefix4, 32); /* the defaults */
	assert_int_equal(got.source_prefix6, 64);
	f = tcp6("2001:2::100", 80, 5000);
	f.saddr = saddr;
	for (int i = 0; i < 1000; i++) {
		snprintf(saddr, sizeof(saddr), "2001:db8:1:2:%x:%x:%x:%x", i * 7919 % 65536,
			 i, 0xa000 + i, i * 31);
		sent += send_n(fx, &f, 1);
	}
	assert_int_equal(sent, 10);
	assert_int_equal(vstats(fx, name).drops[XLB_DROP_RATE_SOURCE], 990);
	f.saddr = "2001:db8:1:3::1";
	assert_int_equal(send_n(fx, &f, 1), 1);

	/* Each address its own source again. */
	l.source_prefix6 = 128;
	set_limits(fx, name, &l);
	sent = 0;
	f.saddr = saddr;
	f.sport = 5001;
	for (int i = 0; i < 1000; i++) {
		snprintf(saddr, sizeof(saddr), "2001:db8:1:4::%x", i + 1);
		sent += send_n(fx, &f, 1);
	}
	assert_int_equal(sent, 1000);

	/* IPv4: one /24, one limit. */
	name = "198.18.1.100:80/tcp";
	l = (struct xlb_dp_limits){ .source_new_flows = 5, .source_burst = 5,
				    .source_prefix4 = 24 };
	set_limits(fx, name, &l);
	sent = 0;
	f = tcp4("198.18.1.100", 80, 5002);
	f.saddr = saddr;
	for (int i = 1; i <= 200; i++) {
		snprintf(saddr, sizeof(saddr), "198.51.100.%d", i);
		sent += send_n(fx, &f, 1);
	}
	assert_int_equal(sent, 5);
	f.saddr = "198.51.101.1";
	assert_int_equal(send_n(fx, &f, 1), 1);
}

static void test_rate_source_counts_new_flows_only(void **state)
{
	struct fixture *fx = *state;
	struct xlb_dp_limits l = { .source_new_flows = 1, .source_burst = 1 };
	struct pkt_flow f = tcp4("198.18.1.100", 80, 1);
	struct pkt_flow u = udp4("198.18.0.1", 1, 53);

	clock_at(fx, T0);
	set_limits(fx, "198.18.1.100:80/tcp", &l);
	send_and_check(fx, "198.18.1.100:80/tcp", &f);
	/* the same SYN again (a retransmit): in the table, not a new flow */
	for (int i = 0; i < 3; i++)
		send_and_check(fx, "198.18.1.100:80/tcp", &f);
	f.sport = 2; /* a second flow is */
	assert_int_equal(send_n(fx, &f, 1), 0);
	/* UDP: a packet that misses the table starts a flow */
	set_limits(fx, "198.18.1.100:53/udp", &l);
	assert_int_equal(send_n(fx, &u, 5), 5);
	u.sport = 2;
	assert_int_equal(send_n(fx, &u, 2), 0);
	assert_int_equal(stats(fx).drops[XLB_DROP_RATE_SOURCE], 3);
	assert_int_equal(stats(fx).rl_src_pass, 2);
	/* a VIP deleted and added again (same id) forgets its sources */
	{
		struct xlb_vip_addr v = vip("198.18.1.100:53/udp");

		assert_int_equal(xlb_dp__vip_del(fx->dp, &v, fx->err, sizeof(fx->err)), 0);
		add_vip(fx, "198.18.1.100:53/udp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
		set_limits(fx, "198.18.1.100:53/udp", &l);
		u.sport = 3;
		assert_int_equal(send_n(fx, &u, 1), 1);
		u.sport = 4;
		assert_int_equal(send_n(fx, &u, 1), 0);
		/* the other VIP's sources are kept */
		f.sport = 5;
		assert_int_equal(send_n(fx, &f, 1), 0);
	}
}

/* The kernel's count of connection-table entries, as /metrics reports it. */
static void test_conntrack_entries(void **state)
{
	struct fixture *fx = *state;
	struct pkt_flow f4 = tcp4("198.18.1.100", 80, 1), f6 = tcp6("2001:2::100", 80, 1);
	__u64 n[2];

	assert_int_equal(xlb_dp__conntrack_entries(fx->dp, n), 0);
	assert_int_equal(n[0], 0);
	assert_int_equal(n[1], 0);
	for (__u16 p = 1; p <= 50; p++) {
		f4.sport = p;
		assert_int_equal(send_n(fx, &f4, 2), 2); /* the second is a hit */
	}
	for (__u16 p = 1; p <= 7; p++) {
		f6.sport = p;
		assert_int_equal(send_n(fx, &f6, 1), 1);
	}
	assert_int_equal(xlb_dp__conntrack_entries(fx->dp, n), 0);
	assert_int_equal(n[0], 50);
	assert_int_equal(n[1], 7);
}

static struct xlb_dp_explain explain4(struct fixture *fx, const char *name, const char *src,
				      __u16 sport, __u16 dport)
{
	struct xlb_vip_addr v = vip(name);
	struct xlb_dp_explain ex;
	__be32 saddr[4] = {};

	assert_int_equal(inet_pton(AF_INET, src, saddr), 1);
	assert_int_equal(xlb_dp__explain(fx->dp, &v, XLB_AF_INET, saddr, sport, dport, &ex), 0);
	return ex;
}

/* explain says what the limits would do to the next packet, and is right. */
static void test_explain_rate_limits(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:53/udp", *tname = "198.18.1.100:80/tcp";
	struct xlb_dp_limits l = { .pps = 100, .burst = 10, .lease = 1 };
	struct pkt_flow f = udp4("198.18.0.1", 1000, 53), a = tcp4("198.18.1.100", 80, 1);
	struct xlb_dp_explain ex;

	clock_at(fx, T0);
	ex = explain4(fx, name, "198.18.0.1", 1000, 53);
	assert_false(ex.vip_limited);
	assert_false(ex.source_limited);
	set_limits(fx, name, &l);
	ex = explain4(fx, name, "198.18.0.1", 1000, 53);
	assert_true(ex.vip_limited);
	assert_int_equal(ex.vip_tokens, 10);
	assert_int_equal(send_n(fx, &f, 10), 10);
	assert_int_equal(explain4(fx, name, "198.18.0.1", 1000, 53).vip_tokens, 0);
	assert_int_equal(send_n(fx, &f, 1), 0);
	clock_at(fx, T0 + 50 * MS); /* 5 tokens; explain spends none */
	assert_int_equal(explain4(fx, name, "198.18.0.1", 1000, 53).vip_tokens, 5);
	assert_int_equal(explain4(fx, name, "198.18.0.1", 1000, 53).vip_tokens, 5);
	assert_int_equal(send_n(fx, &f, 6), 5);
	/* leases held by the CPUs count as tokens */
	l = (struct xlb_dp_limits){ .pps = 1000, .burst = 1000, .lease = 64 };
	set_limits(fx, name, &l);
	clock_at(fx, T0 + 50 * MS + SEC); /* full again */
	assert_int_equal(send_n(fx, &f, 1), 1); /* takes a lease of 64 */
	assert_int_equal(explain4(fx, name, "198.18.0.1", 1000, 53).vip_tokens, 999);

	/* per source: new flows only, per address */
	l = (struct xlb_dp_limits){ .source_new_flows = 1, .source_burst = 2 };
	set_limits(fx, tname, &l);
	ex = explain4(fx, tname, "198.18.0.1", 1, 80);
	assert_true(ex.source_limited);
	assert_true(ex.source_admits);
	assert_false(ex.vip_limited);
	for (__u16 p = 1; p <= 2; p++) {
		a.sport = p;
		assert_int_equal(send_n(fx, &a, 1), 1);
	}
	ex = explain4(fx, tname, "198.18.0.1", 3, 80);
	assert_true(ex.source_limited);
	assert_false(ex.source_admits);
	a.sport = 3;
	assert_int_equal(send_n(fx, &a, 1), 0);
	ex = explain4(fx, tname, "198.18.0.1", 1, 80); /* established: not counted */
	assert_true(ex.in_conntrack);
	assert_false(ex.source_limited);
	assert_true(explain4(fx, tname, "198.18.0.2", 3, 80).source_admits);
	clock_at(fx, T0 + 50 * MS + 2 * SEC);
	assert_true(explain4(fx, tname, "198.18.0.1", 3, 80).source_admits);
	assert_int_equal(send_n(fx, &a, 1), 1);
	assert_false(explain4(fx, tname, "198.18.0.1", 4, 80).source_admits);
}

static void test_rate_source_window(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:80/tcp";
	struct xlb_dp_limits l = { .source_new_flows = 4, .source_window = true };
	struct pkt_flow f = tcp4("198.18.1.100", 80, 1);
	__u16 port = 1;
	int tx = 0;

	clock_at(fx, T0);
	set_limits(fx, name, &l);
	for (int i = 0; i < 6; i++, port++) {
		f.sport = port;
		tx += send_n(fx, &f, 1);
	}
	assert_int_equal(tx, 4);
	/* half-way through the next window the last one weighs 2: 2 more */
	clock_at(fx, T0 + 3 * SEC / 2);
	for (tx = 0; port < 20; port++) {
		f.sport = port;
		tx += send_n(fx, &f, 1);
	}
	assert_int_equal(tx, 2);
	/* back to a token bucket of burst 2 on the live VIP: a fresh start */
	l = (struct xlb_dp_limits){ .source_new_flows = 1, .source_burst = 2 };
	set_limits(fx, name, &l);
	for (tx = 0; port < 30; port++) {
		f.sport = port;
		tx += send_n(fx, &f, 1);
	}
	assert_int_equal(tx, 2);
}

/* Over the guard's new flows a second, flows are forwarded, not recorded. */
static void test_flood_guard(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:443/tcp";
	struct pkt_flow f = tcp4("198.18.1.100", 443, 1);
	struct xlb_dp_stats st;

	clock_at(fx, T0);
	assert_int_equal(xlb_dp__set_flood_guard(fx->dp, 5, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(xlb_dp__flood_guard(fx->dp), 5);
	for (__u16 p = 1; p <= 10; p++) { /* all forwarded by the table */
		f.sport = p;
		send_and_check(fx, name, &f);
	}
	st = stats(fx);
	assert_int_equal(st.tx_new_flow, 10);
	assert_int_equal(st.tx_untracked, 5);
	/* the first 5 are in the table; the rest miss again, still unrecorded */
	f.tcp_flags = 0x10;
	for (__u16 p = 1; p <= 10; p++) {
		f.sport = p;
		send_and_check(fx, name, &f);
	}
	st = stats(fx);
	assert_int_equal(st.tx_established, 5);
	assert_int_equal(st.tx_untracked, 10);
	/* two seconds on, the window is empty: they are recorded now */
	clock_at(fx, T0 + 2 * SEC);
	for (int round = 0; round < 2; round++) {
		for (__u16 p = 6; p <= 10; p++) {
			f.sport = p;
			send_and_check(fx, name, &f);
		}
	}
	st = stats(fx);
	assert_int_equal(st.tx_untracked, 10);
	assert_int_equal(st.tx_established, 10);
	/* off: every new flow is recorded again */
	assert_int_equal(xlb_dp__set_flood_guard(fx->dp, 0, fx->err, sizeof(fx->err)), 0);
	f.tcp_flags = 0x02;
	for (__u16 p = 100; p < 120; p++) {
		f.sport = p;
		send_and_check(fx, name, &f);
	}
	assert_int_equal(stats(fx).tx_untracked, 10);
}

static void set_stateless(struct fixture *fx, const char *name, bool on)
{
	struct xlb_vip_addr v = vip(name);

	if (xlb_dp__vip_set_stateless(fx->dp, &v, on, fx->err, sizeof(fx->err)))
		fail_msg("set_stateless %s: %s", name, fx->err);
}

/*
 * A stateless VIP: every packet by the live Maglev table, nothing recorded
 * or read; switched back, it records again, and the entries from before are
 * stale: a flow the table moved meanwhile stays where the table sent it.
 */
static void test_stateless_vip(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:443/tcp", *name6 = "[2001:2::100]:443/tcp";
	struct xlb_vip_addr v = vip(name);
	struct pkt_flow f = tcp4("198.18.1.100", 443, 1), f6 = tcp6("2001:2::100", 443, 1);
	struct pkt_flow u = udp4("198.18.0.1", 1000, 53);
	const char *dns = "198.18.1.100:53/udp";
	struct xlb_backend was[41];
	struct xlb_dp_backend b[4];
	struct xlb_dp_stats st0, st;
	__u64 new0, n[2];
	int moved = 0;

	for (__u16 p = 1; p <= 40; p++) { /* recorded while the VIP has 3 backends */
		f.sport = p;
		was[p] = send_and_check(fx, name, &f);
	}
	assert_int_equal(xlb_dp__conntrack_entries(fx->dp, n), 0);
	assert_int_equal(n[0], 40);
	/* a 4th backend takes over some of the flows' table slots */
	for (int i = 0; i < 4; i++)
		b[i] = backend(XLB_AF_INET, i + 1, 100);
	assert_int_equal(xlb_dp__set_backends(fx->dp, &v, b, 4, fx->err, sizeof(fx->err)), 0);
	f.tcp_flags = 0x10;
	for (__u16 p = 1; p <= 40; p++) {
		f.sport = p;
		moved += memcmp(predict(fx, name, &f).mac, was[p].mac, 6) != 0;
	}
	assert_true(moved > 0);
	/* tracked: a moved flow keeps its backend */
	for (__u16 p = 1; p <= 40; p++) {
		f.sport = p;
		if (memcmp(predict(fx, name, &f).mac, was[p].mac, 6)) {
			assert_int_equal(send_to(fx, &f), was[p].mac[5]);
			break;
		}
	}

	set_stateless(fx, name, true);
	st0 = stats(fx);
	new0 = vstats(fx, name).new_flows;
	for (__u16 p = 1; p <= 40; p++) { /* now every packet by the table */
		f.sport = p;
		send_and_check(fx, name, &f);
		send_and_check(fx, name, &f);
	}
	st = stats(fx);
	assert_int_equal(st.tx_established - st0.tx_established, 0);
	assert_int_equal(st.tx_new_flow - st0.tx_new_flow, 80); /* table misses */
	assert_int_equal(vstats(fx, name).new_flows, new0);	/* but no new flows */
	f.tcp_flags = 0x02;
	for (__u16 p = 100; p < 120; p++) { /* new flows: forwarded, not recorded */
		f.sport = p;
		send_and_check(fx, name, &f);
	}
	assert_int_equal(vstats(fx, name).new_flows, new0 + 20);
	assert_int_equal(stats(fx).tx_untracked, st0.tx_untracked); /* not the flood guard's */
	set_stateless(fx, name6, true);
	send_and_check(fx, name6, &f6);
	assert_int_equal(xlb_dp__conntrack_entries(fx->dp, n), 0);
	assert_int_equal(n[0], 40); /* only the 40 from before */
	assert_int_equal(n[1], 0);
	/* UDP (DNS, L2 DSR): every datagram by the table, each a new flow */
	set_stateless(fx, dns, true);
	new0 = vstats(fx, dns).new_flows;
	for (__u16 p = 1000; p < 1010; p++) {
		u.sport = p;
		send_and_check(fx, dns, &u);
		send_and_check(fx, dns, &u);
	}
	assert_int_equal(vstats(fx, dns).new_flows, new0 + 20);
	assert_int_equal(xlb_dp__conntrack_entries(fx->dp, n), 0);
	assert_int_equal(n[0], 40);

	set_stateless(fx, name, false); /* recorded again; the old entries stale */
	f.tcp_flags = 0x10;
	st0 = stats(fx);
	for (__u16 p = 1; p <= 40; p++) { /* by the table, moved flows too */
		f.sport = p;
		send_and_check(fx, name, &f);
		send_and_check(fx, name, &f);
	}
	st = stats(fx);
	assert_int_equal(st.tx_rechosen - st0.tx_rechosen, 40);
	assert_int_equal(st.tx_established - st0.tx_established, 40);
	f.sport = 200;
	f.tcp_flags = 0x02;
	send_and_check(fx, name, &f);
	assert_int_equal(xlb_dp__conntrack_entries(fx->dp, n), 0);
	assert_int_equal(n[0], 41);
	v = vip("198.18.9.9:80/tcp");
	assert_int_equal(xlb_dp__vip_set_stateless(fx->dp, &v, true, fx->err, sizeof(fx->err)),
			 -ENOENT);
}

/* Entry 0 of the balancer's map called name, found among its maps. */
static void map_read0(struct fixture *fx, const char *name, void *value)
{
	struct bpf_prog_info info = {};
	__u32 ids[64], len = sizeof(info), zero = 0;

	info.nr_map_ids = 64;
	info.map_ids = (unsigned long)ids;
	assert_int_equal(bpf_obj_get_info_by_fd(xlb_dp__prog_fd(fx->dp), &info, &len), 0);
	for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		assert_true(fd >= 0);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &mi, &mlen), 0);
		/* map names keep 15 characters */
		if (!strncmp(mi.name, name, BPF_OBJ_NAME_LEN - 1)) {
			assert_int_equal(bpf_map_lookup_elem(fd, &zero, value), 0);
			close(fd);
			return;
		}
		close(fd);
	}
	fail_msg("no %s", name);
}

/* name's address's class in the VIP filter (XLB_VIP_FILTER_*). */
static __u32 vip_class(struct fixture *fx, const char *name)
{
	static struct xlb_vip_filter f;
	struct xlb_vip_addr v = vip(name);
	__u32 slot = xlb_hash_vip_bit(v.addr, v.family);

	map_read0(fx, XLB_MAP_VIP_FILTER, &f);
	return (f.bits[XLB_VIP_FILTER_WORD(slot)] >> XLB_VIP_FILTER_SHIFT(slot)) & 3;
}

/* Whether name's packets find their VIP first: its address of the
 * stateless class and its pair's bit set.
 */
static bool stateless_bit(struct fixture *fx, const char *name)
{
	static struct xlb_stateless_filter f;
	struct xlb_vip_addr v = vip(name);
	__u32 bit = xlb_hash_vip_port_bit(v.addr, v.family, htons(v.port));

	map_read0(fx, XLB_MAP_STATELESS_FILTER, &f);
	return (vip_class(fx, name) & XLB_VIP_FILTER_STATELESS) &&
	       (f.bits[bit / 64] & (1ULL << (bit % 64)));
}

/*
 * Only what may be a stateless VIP's packet finds its VIP before the flow
 * cache: the VIP filter marks the addresses of stateless VIPs, the pairs
 * hold each one's {address, port} (port 0 for every port), and both follow
 * the VIPs both ways. Other VIPs' addresses stay of the plain VIP class,
 * so their packets never read the pairs.
 */
static void test_stateless_filter(void **state)
{
	struct fixture *fx = *state;
	const char *web = "198.18.1.100:443/tcp", *dns = "198.18.1.100:53/udp";
	const char *any = "198.18.1.102:0/tcp", *other = "198.18.1.101:80/tcp";
	struct xlb_vip_addr a = vip(web), b = vip("198.18.1.100:80/tcp"), d = vip(dns);
	struct xlb_vip_addr o = vip(other), y = vip(any);

	/* for this test: two ports of one address, and the three addresses,
	 * must not share a bit or a slot
	 */
	assert_int_not_equal(xlb_hash_vip_port_bit(a.addr, a.family, htons(443)),
			     xlb_hash_vip_port_bit(b.addr, b.family, htons(80)));
	assert_int_not_equal(xlb_hash_vip_bit(a.addr, a.family), xlb_hash_vip_bit(o.addr, o.family));
	assert_int_not_equal(xlb_hash_vip_bit(a.addr, a.family), xlb_hash_vip_bit(y.addr, y.family));
	assert_int_not_equal(xlb_hash_vip_bit(o.addr, o.family), xlb_hash_vip_bit(y.addr, y.family));
	assert_int_equal(vip_class(fx, web), XLB_VIP_FILTER_VIP);
	assert_int_equal(vip_class(fx, "198.18.1.222:80/tcp"), 0); /* no VIP there */
	assert_false(stateless_bit(fx, web));
	set_stateless(fx, web, true);
	assert_true(stateless_bit(fx, web));
	assert_int_equal(vip_class(fx, web), XLB_VIP_FILTER_VIP | XLB_VIP_FILTER_STATELESS);
	assert_false(stateless_bit(fx, "198.18.1.100:80/tcp"));
	assert_int_equal(vip_class(fx, other), XLB_VIP_FILTER_VIP);
	set_stateless(fx, dns, true);
	set_stateless(fx, any, true);
	assert_true(stateless_bit(fx, dns));
	assert_true(stateless_bit(fx, any));
	set_stateless(fx, web, false);
	assert_false(stateless_bit(fx, web));
	assert_true(stateless_bit(fx, dns));
	assert_int_equal(xlb_dp__vip_del(fx->dp, &d, fx->err, sizeof(fx->err)), 0);
	assert_false(stateless_bit(fx, dns));
	/* no stateless VIP left at .100: back to the plain class */
	assert_int_equal(vip_class(fx, web), XLB_VIP_FILTER_VIP);
	assert_true(stateless_bit(fx, any));
	assert_int_equal(vip_class(fx, other), XLB_VIP_FILTER_VIP);
}

static void test_rate_limits_bad_input(void **state)
{
	struct fixture *fx = *state;
	const char *name = "198.18.1.100:80/tcp";
	struct xlb_vip_addr v = vip(name), missing = vip("198.18.9.9:80/tcp");
	static struct xlb_dp_vip_info before, after;
	static const struct {
		struct xlb_dp_limits l;
		const char *msg;
	} rows[] = {
		{ { .pps = 100 }, "burst 0 with a rate of 100" },
		{ { .burst = 5 }, "burst 5 set but the rate is 0" },
		{ { .pps = 100, .burst = 5, .lease = 6 }, "lease 6 out of range" },
		{ { .pps = 100, .burst = 500, .lease = 65 }, "lease 65 out of range" },
		{ { .lease = 2 }, "lease 2 set but the rate is 0" },
		{ { .source_new_flows = 10 }, "source burst 0 with a rate of 10" },
		{ { .source_burst = 10 }, "source burst 10 set but the source rate is 0" },
		{ { .source_window = true }, "sliding window asked for but the source rate is 0" },
	};
	struct xlb_dp_limits ok = { .pps = 1, .burst = 1 };

	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &before), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fx->err[0] = 0;
		assert_int_equal(xlb_dp__vip_set_limits(fx->dp, &v, &rows[i].l, fx->err,
							sizeof(fx->err)),
				 -EINVAL);
		if (!strstr(fx->err, rows[i].msg))
			fail_msg("row %zu: message '%s' lacks '%s'", i, fx->err, rows[i].msg);
	}
	assert_int_equal(xlb_dp__vip_set_limits(fx->dp, &missing, &ok, fx->err, sizeof(fx->err)),
			 -ENOENT);
	assert_non_null(strstr(fx->err, "198.18.9.9:80/tcp"));
	assert_int_equal(xlb_dp__vip_set_limits(fx->dp, &v, NULL, fx->err, sizeof(fx->err)),
			 -EINVAL);
	assert_int_equal(xlb_dp__vip_info(fx->dp, &v, &after), 0);
	assert_memory_equal(&before.meta, &after.meta, sizeof(before.meta));
	/* the extremes are accepted */
	ok = (struct xlb_dp_limits){ .pps = UINT32_MAX, .burst = UINT32_MAX, .lease = 64,
				     .source_new_flows = UINT32_MAX,
				     .source_burst = UINT32_MAX };
	assert_int_equal(xlb_dp__vip_set_limits(fx->dp, &v, &ok, fx->err, sizeof(fx->err)), 0);
	ok.source_window = true;
	ok.source_burst = 0;
	assert_int_equal(xlb_dp__vip_set_limits(fx->dp, &v, &ok, fx->err, sizeof(fx->err)), 0);
}

static char pin_dir[128];

/* Whatever happened in the test, no pinned object stays behind. */
static int unpin_teardown(void **state)
{
	char err[256];

	(void)state;
	if (access(pin_dir, F_OK) == 0 && xlb_dp__cleanup("none", pin_dir, err, sizeof(err)))
		fprintf(stderr, "cleanup of %s: %s\n", pin_dir, err);
	return 0;
}

/* Pinned maps survive the handle; a new handle adopts them, flows unmoved. */
/* Replaces dir's pin of name by an empty map of an older layout. */
static void pin_old_layout(const char *dir, const char *name, enum bpf_map_type type,
			   __u32 value_size, __u32 max_entries)
{
	char path[192];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
	fd = bpf_map_create(type, name, 4, value_size, max_entries, NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
}

/* The value size of dir's pin of name. */
static __u32 pinned_value_size(const char *dir, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[192];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	return info.value_size;
}

static void test_pin_and_adopt(void **state)
{
	struct xlb_dp_opts opts = { .conntrack_size = 4096 };
	struct xlb_vip_addr v = vip("198.18.1.100:80/tcp");
	struct fixture fx2 = {}, *fx = &fx2;
	char *dir = pin_dir, err[256];
	static struct snapshot a, b;
	struct xlb_backend be[16];
	struct pkt_flow f[16];

	(void)state;
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/xlb-test-%d", getpid());
	memcpy(opts.if_mac, LB_IF_MAC, 6);
	inet_pton(AF_INET, "198.19.0.0", &opts.ipip_src4);
	opts.pin_dir = dir;
	if (xlb_dp__open(&opts, &fx->dp, err, sizeof(err)))
		fail_msg("open pinned: %s", err);
	assert_false(xlb_dp__adopted(fx->dp));
	add_vip(fx, "198.18.1.100:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, XLB_AF_INET, 3);
	for (int i = 0; i < 16; i++) {
		f[i] = tcp4("198.18.1.100", 80, 100 + i);
		be[i] = send_and_check(fx, "198.18.1.100:80/tcp", &f[i]);
	}
	snap(fx, "198.18.1.100:80/tcp", &a);

	/* A second writer is refused while the first holds the lock. */
	{
		struct xlb_dp *other;

		assert_int_equal(xlb_dp__open(&opts, &other, err, sizeof(err)), -EBUSY);
	}
	xlb_dp__close(fx->dp);

	if (xlb_dp__open(&opts, &fx->dp, err, sizeof(err)))
		fail_msg("reopen pinned: %s", err);
	assert_true(xlb_dp__adopted(fx->dp));
	snap(fx, "198.18.1.100:80/tcp", &b);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Grow the pool: adopted flows keep their backends (conntrack kept). */
	set_pool(fx, "198.18.1.100:80/tcp", XLB_AF_INET, 1, 8);
	for (int i = 0; i < 16; i++) {
		__u8 in[PKT_MAX], out[PKT_MAX];
		size_t len, out_len;

		f[i].tcp_flags = 0x10;
		len = pkt_build(&f[i], in);
		assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
		assert_memory_equal(out + 14 + 16, be[i].addr, 4);
	}
	assert_int_equal(stats(fx).tx_established, 16);
	{
		/* The set of VIP addresses (for fragments) is rebuilt on adoption. */
		struct pkt_flow g = tcp4("198.18.1.100", 9999, 7);
		__u8 in[PKT_MAX], out[PKT_MAX];
		size_t len = build_fragment(&g, 185, true, in), out_len;

		assert_int_equal(run(fx, in, len, out, &out_len), XDP_DROP);
	}

	/* A backend out of the table keeps its counters across a restart, and
	 * gets them back when it returns; an old-layout counters pin goes.
	 */
	{
		struct xlb_dp_backend b1 = backend(XLB_AF_INET, 1, 100);
		struct xlb_backend_stats out1, bs;
		char legacy[192];
		int fd;

		assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &out1), 0);
		assert_true(out1.packets > 0);
		set_pool(fx, "198.18.1.100:80/tcp", XLB_AF_INET, 2, 7);
		xlb_dp__close(fx->dp);
		snprintf(legacy, sizeof(legacy), "%s/%s", dir, XLB_MAP_LEGACY_BACKEND_STATS);
		fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, XLB_MAP_LEGACY_BACKEND_STATS, 4,
				    sizeof(struct xlb_backend_stats), 16, NULL);
		assert_true(fd >= 0);
		assert_int_equal(bpf_obj_pin(fd, legacy), 0);
		close(fd);
		/* Global counters as pinned before the MAC counters (192 bytes). */
		pin_old_layout(dir, XLB_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 192, 1);
		/* Per-VIP counters as pinned before the too_big reason (120 bytes). */
		pin_old_layout(dir, XLB_MAP_VIP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 120, XLB_MAX_VIPS);
		/* The VIP filter as pinned before its two bits an address (8 KiB,
		 * all clear: every VIP would look absent if it were kept).
		 */
		pin_old_layout(dir, XLB_MAP_VIP_FILTER, BPF_MAP_TYPE_ARRAY, 8192, 1);
		if (xlb_dp__open(&opts, &fx->dp, err, sizeof(err)))
			fail_msg("reopen pinned: %s", err);
		assert_int_equal(access(legacy, F_OK), -1);
		assert_int_equal(pinned_value_size(dir, XLB_MAP_STATS), sizeof(struct xlb_dp_stats));
		assert_int_equal(pinned_value_size(dir, XLB_MAP_VIP_STATS),
				 sizeof(struct xlb_vip_stats));
		assert_int_equal(pinned_value_size(dir, XLB_MAP_VIP_FILTER),
				 sizeof(struct xlb_vip_filter));
		/* rebuilt from the adopted VIPs */
		assert_int_equal(vip_class(fx, "198.18.1.100:80/tcp"), XLB_VIP_FILTER_VIP);
		assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &bs), 0);
		assert_int_equal(bs.packets, out1.packets);
		set_pool(fx, "198.18.1.100:80/tcp", XLB_AF_INET, 1, 8);
		assert_int_equal(backend_stats(fx->dp, &v, b1.family, b1.addr, &bs), 0);
		assert_int_equal(bs.packets, out1.packets);
	}
	assert_int_equal(xlb_dp__destroy(fx->dp, err, sizeof(err)), 0);
	assert_int_equal(access(dir, F_OK), -1);
}

/*
 * The data path learns its interface's MAC at every open: a MAC changed
 * while xlbd was down is followed on adoption, frames to the old one then
 * pass. In a private network namespace (the veth pair goes with the
 * process), XDP generic mode.
 */
static void test_if_mac_follows_interface(void **state)
{
	static const __u8 mac1[6] = { 0x02, 0, 0, 0, 0, 0xc1 }, mac2[6] = { 0x02, 0, 0, 0, 0, 0xc2 };
	struct xlb_dp_opts opts = { .ifname = "xt0", .generic = true, .conntrack_size = 4096 };
	struct pkt_flow f = tcp4("198.18.1.100", 80, 9001);
	struct fixture fx2 = {}, *fx = &fx2;
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	char err[256];
	__u64 other;

	(void)state;
	if (unshare(CLONE_NEWNET))
		skip();
	if (system("ip link add xt0 type veth peer name xt1 && "
		   "ip link set xt0 address 02:00:00:00:00:c1 up && ip link set xt1 up"))
		fail_msg("cannot make the veth pair");
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/xlb-test-mac-%d", getpid());
	opts.pin_dir = pin_dir;
	if (xlb_dp__open(&opts, &fx->dp, err, sizeof(err)))
		fail_msg("open on xt0: %s", err);
	add_vip(fx, "198.18.1.100:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, XLB_AF_INET, 3);
	len = pkt_build(&f, in);
	memcpy(in, mac1, 6);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
	assert_memory_equal(out + 6, mac1, 6);
	memcpy(in, PKT_LB_MAC, 6); /* the tests' usual address, not xt0's */
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	xlb_dp__close(fx->dp);

	if (system("ip link set xt0 address 02:00:00:00:00:c2"))
		fail_msg("cannot change xt0's MAC");
	if (xlb_dp__open(&opts, &fx->dp, err, sizeof(err)))
		fail_msg("reopen on xt0: %s", err);
	assert_true(xlb_dp__adopted(fx->dp));
	other = stats(fx).pass_other_host;
	memcpy(in, mac1, 6);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_PASS);
	assert_frame("to the old MAC", out, out_len, in, len);
	assert_int_equal(stats(fx).pass_other_host - other, 1);
	memcpy(in, mac2, 6);
	assert_int_equal(run(fx, in, len, out, &out_len), XDP_TX);
	assert_memory_equal(out + 6, mac2, 6);
	assert_int_equal(xlb_dp__destroy(fx->dp, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forward_each_family_proto_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_hash_affinity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_tagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_vip_passes_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frames_for_other_macs_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_established_flow_survives_backend_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_established_follows_vip_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_removed_backend_flows_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drained_backend_keeps_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_too_big_reaches_flow_backend, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_icmp_without_flow_follows_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_never_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments_and_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments_to_vip_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_vip_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_failure_is_one_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_retransmit_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_gen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_counters_kept_out_of_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conntrack_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrr_weights_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rr_equal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrr_syn_retransmit_not_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lc_avoids_loaded_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lc_fin_rst_decrement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_cache_follows_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_cache_bypass, setup_one_set, teardown),
		cmocka_unit_test_setup_teardown(test_flow_cache_bursts, setup_big_table, teardown),
		cmocka_unit_test_setup_teardown(test_flow_cache6_follows_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_cache6_bypass, setup_one_set, teardown),
		cmocka_unit_test_setup_teardown(test_flow_cache6_bursts, setup_big_table, teardown),
		cmocka_unit_test_setup_teardown(test_lc_recount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lc_out_of_table_not_active, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_algos_and_flood_guard, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_stateless, setup, teardown),
		cmocka_unit_test_setup_teardown(test_algos_skip_drained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_algo_switch_to_wrr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_rejected_maps_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_table_size_and_algo_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_vip_burst_then_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_vip_refill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_vip_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_vip_live_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_source_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_source_counts_new_flows_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rate_source_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_source_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain_rate_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limits_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stateless_vip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stateless_filter, setup, teardown),
		cmocka_unit_test_teardown(test_pin_and_adopt, unpin_teardown),
		cmocka_unit_test_teardown(test_if_mac_follows_interface, unpin_teardown),
	};

	if (geteuid() != 0) {
		printf("needs root (BPF_PROG_TEST_RUN)\n");
		return 77;
	}
	xlb_log_set_level(XLB_LOG_WARN);
	xlb_log_capture_libs();
	{
		/* One CPU: what a CPU holds of a VIP bucket is then all there is,
		 * so the rate-limit counts are exact.
		 */
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='test_rate_*' */
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
