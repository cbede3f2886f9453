/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Fuzz target: the data path. Each input is one Ethernet frame, run through
 * the real balancer object (build/xlb.bpf.o, load only, no interface) with
 * BPF_PROG_TEST_RUN, with the VIPs below configured by the userspace library
 * as tests/test_dataplane.c does. Needs root (CAP_BPF); exits 77 (skipped)
 * otherwise.
 *
 * Invariants on every frame:
 *   - the verdict is XDP_PASS, XDP_DROP or XDP_TX: never XDP_ABORTED;
 *   - XDP_PASS leaves the frame untouched;
 *   - a frame the balancer cannot claim (not IPv4/IPv6 after at most one
 *     VLAN tag, or not to a VIP address) passes;
 *   - an XDP_TX frame is well formed: to a backend's MAC from the LB's, the
 *     VLAN tag kept, then either (L2 DSR) the same IP packet of a family the
 *     backend has, or (IPIP) an outer header to a backend of the right
 *     family, with the right protocol, lengths, TTL, IPv4 header checksum
 *     and source prefix, and the client's IP packet intact behind it, the
 *     whole within the MTU; and the forwarded IP packet's own length fits
 *     the frame;
 *   - or, when the counters say the packet would not fit the MTU once
 *     encapsulated, an exact ICMP "too big" back to the client;
 *   - rx moved by one, and exactly one pass, send or drop counter.
 *
 * The flow table lives across inputs (small, so the LRU evicts), as on a
 * real interface; so do the rate limits of two VIPs (a token bucket with a
 * per-source bucket, a per-source sliding window) and the flood guard, on a
 * test clock that moves 1 ms a frame. Every 1024 frames one VIP's backend
 * set changes (one removed, one drained, none, all again), so flows meet
 * backends that left, came back or drain. `fuzz_packet -write_seeds=DIR` writes the seed frames
 * (valid v4/v6, TCP/UDP/ICMP, VLAN, IPIP, built by tests/lib/pkt.h) to DIR;
 * tests/fuzz/corpus/packet/ holds them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fuzz.h"
#include "lib/outcomes.h"
#include "lib/pkt.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/log.h"

/* Frames longer than this are cut: BPF_PROG_TEST_RUN takes one page. */
#define FRAME_MAX 1600

/* The seeds' frames are addressed to the balancer's interface: the data
 * path acts only on those.
 */
#define LB_IF_MAC PKT_LB_MAC
#define IPIP_SRC4 "198.19.0.0"	    /* /16 */
#define IPIP_SRC6 "2001:2:0:ffff::" /* /96 */
#define NBACKENDS 3
#define MTU 1500 /* full-size frames to IPIP VIPs get an ICMP "too big" */
#define TABLE_SIZE 251	 /* small: the churn below rebuilds tables often */
#define CHURN_EVERY 1024 /* frames between changes of the backend sets */

/* Rate limits of the VIPs that have them (fuzz time: 1 ms a frame). */
static const struct xlb_dp_limits limits_bucket = {
    .pps = 200, .burst = 20, .source_new_flows = 50, .source_burst = 5};
static const struct xlb_dp_limits limits_window = {.source_new_flows = 20, .source_window = true};

/* Flood guard: new flows a second a CPU records; the rest go unrecorded. */
#define FLOOD_NEW_FLOWS 500
#define CLOCK_STEP_NS 1000000ULL

/* The VIPs: every path of the data path. */
static const struct {
	const char *name;
	enum xlb_algo algo;
	enum xlb_forward fwd;
	int be_family; /* 0: no backends */
	bool drain_one;
	const struct xlb_dp_limits *limits;
	/* Turned l2dsr after its backends of the other family were set (the
	 * library allows it, the configuration does not): every packet is a
	 * `family` drop. Its backends never change.
	 */
	bool to_l2dsr;
} vips[] = {
    {"198.18.1.100:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 4},	/* 4in4 */
    {"198.18.1.100:53/udp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, 4}, /* l2dsr */
    {"198.18.1.100:443/tcp", XLB_ALGO_RR, XLB_FWD_L2DSR, 4, true},
    {"198.18.1.101:80/tcp", XLB_ALGO_WRR, XLB_FWD_IPIP, 6},	   /* 4in6 */
    {"198.18.1.102:0/tcp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, 4},	   /* any port */
    {"198.18.1.102:0/udp", XLB_ALGO_SOURCE_HASH, XLB_FWD_IPIP, 4}, /* any port */
    {"198.18.1.103:80/tcp", XLB_ALGO_SOURCE_HASH, XLB_FWD_L2DSR, 4},
    {"198.18.1.104:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 0},	/* empty */
    {"[2001:2::100]:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 6}, /* 6in6 */
    {"[2001:2::100]:53/udp", XLB_ALGO_LC, XLB_FWD_L2DSR, 6},
    {"[2001:2::102]:0/udp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 6, true}, /* any port */
    {"[2001:2::102]:0/tcp", XLB_ALGO_SOURCE_HASH, XLB_FWD_L2DSR, 6},
    {"198.18.1.105:80/tcp", XLB_ALGO_LC, XLB_FWD_IPIP, 4, false, &limits_bucket},
    {"[2001:2::105]:0/udp", XLB_ALGO_MAGLEV, XLB_FWD_L2DSR, 6, false, &limits_window},
    {"198.18.1.106:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_IPIP, 6, false, NULL, true},
    {"198.18.1.107:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_GUE, 4},	      /* GUE 4in4 */
    {"[2001:2::107]:80/tcp", XLB_ALGO_MAGLEV, XLB_FWD_GUE, 6, true}, /* GUE 6in6 */
    {"198.18.1.108:0/udp", XLB_ALGO_SOURCE_HASH, XLB_FWD_GUE, 6},    /* GUE 4in6 */
};
#define NVIPS (sizeof(vips) / sizeof(vips[0]))

static struct xlb_dp *dp;
static struct xlb_vip_addr vip_addr[NVIPS];
static __u64 clock_ns = 1000000000ULL;

/*
 * libFuzzer sees no coverage inside the BPF program. The data path's own
 * counters say which way a frame went, so each counter a frame moved, per
 * verdict, is a feature; and so is the frame's shape (family, tag, protocol
 * byte), to spread the corpus over headers.
 */
#define NSTATS (sizeof(struct xlb_dp_stats) / sizeof(__u64))
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t bpf_paths[4][NSTATS];
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t shapes[2][2][256];

/* Backend i of a family: 198.18.0.(10+i) / 2001:2::(10+i), MAC 02:0:0:0:f:i. */
static struct xlb_dp_backend backend(int family, int i)
{
	struct xlb_dp_backend b = {.weight = (__u16)(100 + 50 * (i % 3))}; /* wrr: unequal */
	char text[64];

	if (family == 4)
		snprintf(text, sizeof(text), "198.18.0.%d", 10 + i);
	else
		snprintf(text, sizeof(text), "2001:2::%d", 10 + i);
	if (xlb_addr__parse(text, &b.family, b.addr))
		fuzz_fail("bad backend address %s", text);
	b.mac[0] = 0x02;
	b.mac[4] = (__u8)family;
	b.mac[5] = (__u8)i;
	return b;
}

/* ---- seeds -------------------------------------------------------------------- */

static void put_seed(const char *dir, const char *name, const __u8 *frame, size_t len)
{
	char path[512];
	FILE *f;

	if (!len)
		fuzz_fail("seed %s: the packet builder refused it", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(frame, 1, len, f) != len || fclose(f))
		fuzz_fail("%s: %s", path, strerror(errno));
}

static size_t flow(__u8 *buf, int family, const char *daddr, __u8 proto, __u16 dport, __u8 flags,
		   __u16 vlan)
{
	struct pkt_flow f = {
	    .family = family,
	    .saddr = family == 4 ? "198.18.0.1" : "2001:2::1",
	    .daddr = daddr,
	    .sport = 40000,
	    .dport = dport,
	    .proto = proto,
	    .tcp_flags = flags,
	    .vlan = vlan,
	    .payload_len = 24,
	};

	return pkt_build(&f, buf);
}

static void write_seeds(const char *dir)
{
	static const struct {
		const char *name;
		int family;
		const char *daddr;
		__u8 proto;
		__u16 dport, vlan;
		__u8 flags;
	} rows[] = {
	    {"tcp4-syn-ipip4", 4, "198.18.1.100", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp4-ack-ipip4", 4, "198.18.1.100", IPPROTO_TCP, 80, 0, 0x10},
	    {"udp4-l2dsr", 4, "198.18.1.100", IPPROTO_UDP, 53, 0, 0},
	    {"tcp4-l2dsr-drain", 4, "198.18.1.100", IPPROTO_TCP, 443, 0, 0x02},
	    {"tcp4-ipip6", 4, "198.18.1.101", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp4-anyport", 4, "198.18.1.102", IPPROTO_TCP, 8080, 0, 0x02},
	    {"udp4-anyport-ipip", 4, "198.18.1.102", IPPROTO_UDP, 9999, 0, 0},
	    {"tcp4-source-hash", 4, "198.18.1.103", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp4-empty-vip", 4, "198.18.1.104", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp4-vlan", 4, "198.18.1.100", IPPROTO_TCP, 80, 42, 0x02},
	    {"tcp4-other-port", 4, "198.18.1.100", IPPROTO_TCP, 81, 0, 0x02},
	    {"tcp4-not-vip", 4, "198.18.1.200", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp6-syn-ipip6", 6, "2001:2::100", IPPROTO_TCP, 80, 0, 0x02},
	    {"udp6-l2dsr", 6, "2001:2::100", IPPROTO_UDP, 53, 0, 0},
	    {"udp6-anyport-ipip", 6, "2001:2::102", IPPROTO_UDP, 5000, 0, 0},
	    {"tcp6-anyport-l2dsr", 6, "2001:2::102", IPPROTO_TCP, 22, 0, 0x02},
	    {"tcp6-vlan", 6, "2001:2::100", IPPROTO_TCP, 80, 7, 0x10},
	    {"tcp6-not-vip", 6, "2001:2::200", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp4-rate-limited", 4, "198.18.1.105", IPPROTO_TCP, 80, 0, 0x02},
	    {"udp6-source-window", 6, "2001:2::105", IPPROTO_UDP, 4242, 0, 0},
	    {"tcp4-family-drop", 4, "198.18.1.106", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp4-syn-gue4", 4, "198.18.1.107", IPPROTO_TCP, 80, 0, 0x02},
	    {"tcp6-ack-gue6", 6, "2001:2::107", IPPROTO_TCP, 80, 0, 0x10},
	    {"udp4-anyport-gue6", 4, "198.18.1.108", IPPROTO_UDP, 5353, 9, 0},
	};
	__u8 buf[PKT_MAX], inner[PKT_MAX];
	size_t len, n;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		len = flow(buf, rows[i].family, rows[i].daddr, rows[i].proto, rows[i].dport,
			   rows[i].flags, rows[i].vlan);
		put_seed(dir, rows[i].name, buf, len);
	}
	/* 802.1ad (QinQ outer tag) instead of 802.1Q */
	len = flow(buf, 4, "198.18.1.100", IPPROTO_TCP, 80, 0x02, 5);
	buf[12] = 0x88;
	buf[13] = 0xa8;
	put_seed(dir, "tcp4-8021ad", buf, len);

	/* ICMP "too big" about VIP flows, and an echo request to a VIP */
	len = pkt_build_icmp_too_big(4, "198.18.0.254", "198.18.1.100", 80, "198.18.0.1", 40000,
				     IPPROTO_TCP, 1400, buf);
	put_seed(dir, "icmp4-too-big", buf, len);
	buf[14 + 20] = 8;
	put_seed(dir, "icmp4-echo-vip", buf, len);
	len = pkt_build_icmp_too_big(6, "2001:2::fe", "2001:2::100", 53, "2001:2::1", 40000,
				     IPPROTO_UDP, 1280, buf);
	put_seed(dir, "icmp6-too-big", buf, len);

	/* IPIP as xlb emits it (to a backend: not VIP traffic), and IPIP to a VIP */
	n = flow(inner, 4, "198.18.1.100", IPPROTO_TCP, 80, 0x02, 0);
	put_seed(dir, "ipip4in4", buf,
		 pkt_build_encap(4, "198.19.0.1", "198.18.0.11", inner, n, buf));
	put_seed(dir, "ipip4in6", buf,
		 pkt_build_encap(6, "2001:2:0:ffff::1", "2001:2::11", inner, n, buf));
	put_seed(dir, "ipip4-to-vip", buf,
		 pkt_build_encap(4, "198.18.0.1", "198.18.1.100", inner, n, buf));
	n = flow(inner, 6, "2001:2::100", IPPROTO_TCP, 80, 0x02, 0);
	put_seed(dir, "ipip6in6", buf,
		 pkt_build_encap(6, "2001:2:0:ffff::1", "2001:2::11", inner, n, buf));

	/* IPv4 with 8 bytes of options, and a first fragment, to a VIP */
	len = flow(buf, 4, "198.18.1.100", IPPROTO_TCP, 80, 0x02, 0);
	memcpy(inner, buf, 34);
	memset(inner + 34, 1, 7);
	inner[41] = 0;
	memcpy(inner + 42, buf + 34, len - 34);
	inner[14] = 0x47;
	n = ((size_t)inner[16] << 8 | inner[17]) + 8;
	inner[16] = (__u8)(n >> 8);
	inner[17] = (__u8)n;
	inner[24] = inner[25] = 0;
	{
		__u16 c = pkt_ipv4_csum(inner + 14);

		memcpy(inner + 24, &c, 2);
	}
	put_seed(dir, "tcp4-options", inner, len + 8);
	buf[20] = 0x20; /* MF */
	buf[24] = buf[25] = 0;
	{
		__u16 c = pkt_ipv4_csum(buf + 14);

		memcpy(buf + 24, &c, 2);
	}
	put_seed(dir, "tcp4-first-fragment", buf, len);
	buf[20] = 0x00; /* a last fragment, at offset 185 * 8, to another port */
	buf[21] = 185;
	buf[14 + 20 + 2] = 0x27;
	buf[14 + 20 + 3] = 0x0f;
	buf[24] = buf[25] = 0;
	{
		__u16 c = pkt_ipv4_csum(buf + 14);

		memcpy(buf + 24, &c, 2);
	}
	put_seed(dir, "tcp4-later-fragment", buf, len);

	/* IPv6 with a Fragment header: a later fragment (offset 185, more) */
	len = flow(buf, 6, "2001:2::100", IPPROTO_UDP, 53, 0, 0);
	memcpy(inner, buf, 54);
	inner[20] = 44;
	inner[54] = IPPROTO_UDP;
	inner[55] = 0;
	inner[56] = 185 >> 5;
	inner[57] = (__u8)(185 << 3) | 1;
	memset(inner + 58, 7, 4);
	memcpy(inner + 62, buf + 54, len - 54);
	n = ((size_t)buf[18] << 8 | buf[19]) + 8;
	inner[18] = (__u8)(n >> 8);
	inner[19] = (__u8)n;
	put_seed(dir, "udp6-later-fragment", inner, len + 8);

	/* IPv6 with a hop-by-hop and a destination options header, to a VIP */
	len = flow(buf, 6, "2001:2::100", IPPROTO_TCP, 80, 0x02, 0);
	memcpy(inner, buf, 54);
	inner[20] = 0; /* next header: hop-by-hop */
	memset(inner + 54, 0, 16);
	inner[54] = 60; /* then destination options */
	inner[55] = 0;
	inner[56] = 1; /* PadN of 4 */
	inner[57] = 4;
	inner[62] = IPPROTO_TCP;
	inner[63] = 0;
	inner[64] = 1;
	inner[65] = 4;
	memcpy(inner + 70, buf + 54, len - 54);
	n = ((size_t)buf[18] << 8 | buf[19]) + 16;
	inner[18] = (__u8)(n >> 8);
	inner[19] = (__u8)n;
	put_seed(dir, "tcp6-ext-headers", inner, len + 16);

	/* Full-size frames to IPIP VIPs: 20 or 40 bytes too big once encapsulated */
	{
		struct pkt_flow big = {.family = 4, .saddr = "198.18.0.1",
				       .daddr = "198.18.1.100", .sport = 40001, .dport = 80,
				       .proto = IPPROTO_TCP, .tcp_flags = 0x10,
				       .payload_len = 1500 - 40};

		put_seed(dir, "tcp4-too-big-ipip4", buf, pkt_build(&big, buf));
		big.family = 6;
		big.saddr = "2001:2::1";
		big.daddr = "2001:2::100";
		big.payload_len = 1500 - 60;
		put_seed(dir, "tcp6-too-big-ipip6", buf, pkt_build(&big, buf));
		big.daddr = "2001:2::107";
		big.payload_len = 1500 - 60 - 64; /* fits IPIP, not GUE */
		put_seed(dir, "tcp6-too-big-gue6", buf, pkt_build(&big, buf));
	}

	/* not IP: ARP */
	memset(buf, 0, 60);
	memcpy(buf, PKT_LB_MAC, 6);
	memcpy(buf + 6, PKT_CLIENT_MAC, 6);
	buf[12] = 0x08;
	buf[13] = 0x06;
	put_seed(dir, "arp", buf, 60);
}

/*
 * VIP v's backends in one of four sets, in turn: all, without the first
 * (its flows are chosen again), all with the first drained, none. So flows
 * meet removed, returning and draining backends and an emptied VIP.
 */
static void set_pool(size_t v, unsigned int phase)
{
	struct xlb_dp_backend b[NBACKENDS];
	int n = 0;
	char err[256];

	for (int i = 1; vips[v].be_family && i <= NBACKENDS && phase % 4 != 3; i++) {
		if (i == 1 && phase % 4 == 1)
			continue;
		b[n] = backend(vips[v].be_family, i);
		b[n++].drain = i == 1 && (vips[v].drain_one || phase % 4 == 2);
	}
	if (xlb_dp__set_backends(dp, &vip_addr[v], b, n, err, sizeof(err)))
		fuzz_fail("backends of %s: %s", vips[v].name, err);
}

/* ---- setup -------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct xlb_dp_opts opts = {
	    .conntrack_size = 1024, .test_poison = true, .test_clock = true, .mtu = MTU};
	char err[256];

	for (int i = 1; i < *argc; i++) {
		if (!strncmp((*argv)[i], "-write_seeds=", 13)) {
			write_seeds((*argv)[i] + 13);
			exit(0);
		}
	}
	if (geteuid() != 0) {
		printf("needs root (BPF_PROG_TEST_RUN)\n");
		exit(FUZZ_SKIP);
	}
	xlb_log_set_level(XLB_LOG_ERROR);
	xlb_log_capture_libs();
	memcpy(opts.if_mac, LB_IF_MAC, 6);
	inet_pton(AF_INET, IPIP_SRC4, &opts.ipip_src4);
	inet_pton(AF_INET6, IPIP_SRC6, opts.ipip_src6);
	if (xlb_dp__open(&opts, &dp, err, sizeof(err)))
		fuzz_fail("xlb_dp__open: %s", err);
	for (size_t v = 0; v < NVIPS; v++) {
		if (xlb_vip_addr__parse(vips[v].name, &vip_addr[v], err, sizeof(err)) ||
		    xlb_dp__vip_add(dp, &vip_addr[v], vips[v].algo, vips[v].fwd, TABLE_SIZE, err,
				    sizeof(err)))
			fuzz_fail("VIP %s: %s", vips[v].name, err);
		set_pool(v, 0);
		if (vips[v].limits &&
		    xlb_dp__vip_set_limits(dp, &vip_addr[v], vips[v].limits, err, sizeof(err)))
			fuzz_fail("limits of %s: %s", vips[v].name, err);
		if (vips[v].to_l2dsr && xlb_dp__vip_update(dp, &vip_addr[v], vips[v].algo,
							   XLB_FWD_L2DSR, err, sizeof(err)))
			fuzz_fail("l2dsr for %s: %s", vips[v].name, err);
	}
	if (xlb_dp__set_flood_guard(dp, FLOOD_NEW_FLOWS, err, sizeof(err)))
		fuzz_fail("flood guard: %s", err);
	return 0;
}

/* ---- the oracle --------------------------------------------------------------- */

static __u16 be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static bool is_vip_addr(int family, const __u8 *addr)
{
	for (size_t v = 0; v < NVIPS; v++)
		if (vip_addr[v].family == family &&
		    !memcmp(vip_addr[v].addr, addr, family == 4 ? 4 : 16))
			return true;
	return false;
}

/* Does a backend of this family have this MAC? */
static bool is_backend_mac(int family, const __u8 *mac)
{
	for (int i = 1; i <= NBACKENDS; i++) {
		struct xlb_dp_backend b = backend(family, i);

		if (!memcmp(b.mac, mac, 6))
			return true;
	}
	return false;
}

static bool is_backend_addr(int family, const __u8 *addr)
{
	for (int i = 1; i <= NBACKENDS; i++) {
		struct xlb_dp_backend b = backend(family, i);

		if (!memcmp(b.addr, addr, family == 4 ? 4 : 16))
			return true;
	}
	return false;
}

/* The IP packet at p (avail bytes in the frame) of this family: its own
 * length fits, and it is at least a header.
 */
static void check_ip_packet(int family, const __u8 *p, size_t avail, const char *what)
{
	size_t len;

	if (family == 4) {
		fuzz_assert(avail >= 20 && p[0] >> 4 == 4 && (p[0] & 15) >= 5,
			    "%s: forwarded an IPv4 packet without a header (%02x)", what, p[0]);
		len = be16(p + 2);
		fuzz_assert(len >= (size_t)(p[0] & 15) * 4 && len <= avail,
			    "%s: forwarded IPv4 length %zu, header %d, %zu bytes in the frame",
			    what, len, (p[0] & 15) * 4, avail);
	} else {
		fuzz_assert(avail >= 40 && p[0] >> 4 == 6,
			    "%s: forwarded an IPv6 packet without a header", what);
		len = 40 + (size_t)be16(p + 4);
		fuzz_assert(len <= avail, "%s: forwarded IPv6 length %zu, %zu bytes in the frame",
			    what, len, avail);
	}
}

/*
 * An ICMP "too big" reply to the client: back to its MAC from the LB's, the
 * VLAN tag kept, from the VIP to the client, the MTU less an outer header,
 * the client's packet quoted, checksums right; and that packet did not fit.
 */
static void check_too_big(const __u8 *in, size_t len, size_t l2, int family, const __u8 *out,
			  size_t out_len)
{
	const __u8 *ip = in + l2, *r = out + l2;
	size_t ip_len, quote = family == 4 ? XLB_TOO_BIG_QUOTE4 : XLB_TOO_BIG_QUOTE6;
	__u32 mtu;

	fuzz_assert(!memcmp(out, in + 6, 6), "ICMP too big not to the sender's MAC");
	fuzz_assert(!memcmp(out + 12, in + 12, l2 - 12), "ICMP too big changed the L2 header");
	fuzz_assert(pkt_l4_csum_ok(out, out_len), "ICMP too big with a bad checksum");
	check_ip_packet(family, in + l2, len - l2, "too big");
	ip_len = family == 4 ? be16(ip + 2) : 40u + be16(ip + 4);
	if (family == 4) {
		fuzz_assert(out_len == l2 + 28 + quote, "ICMP too big of %zu bytes", out_len);
		fuzz_assert(pkt_ipv4_csum_ok(r) && r[0] == 0x45 && r[9] == IPPROTO_ICMP,
			    "ICMP too big: a bad IPv4 header");
		fuzz_assert(!memcmp(r + 12, ip + 16, 4) && !memcmp(r + 16, ip + 12, 4),
			    "ICMP too big not from the VIP to the client");
		fuzz_assert(r[20] == 3 && r[21] == 4, "ICMP type %d code %d", r[20], r[21]);
		mtu = be16(r + 26);
		fuzz_assert(!memcmp(r + 28, ip, quote), "ICMP too big quotes another packet");
	} else {
		fuzz_assert(out_len == l2 + 48 + quote, "ICMPv6 too big of %zu bytes", out_len);
		fuzz_assert(r[0] >> 4 == 6 && r[6] == 58 && be16(r + 4) == 8 + quote,
			    "ICMPv6 too big: a bad IPv6 header");
		fuzz_assert(!memcmp(r + 8, ip + 24, 16) && !memcmp(r + 24, ip + 8, 16),
			    "ICMPv6 too big not from the VIP to the client");
		fuzz_assert(r[40] == 2 && r[41] == 0, "ICMPv6 type %d code %d", r[40], r[41]);
		mtu = (__u32)be16(r + 44) << 16 | be16(r + 46);
		fuzz_assert(!memcmp(r + 48, ip, quote), "ICMPv6 too big quotes another packet");
	}
	fuzz_assert(mtu == MTU - 20 || mtu == MTU - 40 || mtu == MTU - (20 + 8 + 4 + 8 + 4) ||
			mtu == MTU - (40 + 8 + 4 + 8 + 16),
		    "ICMP too big with MTU %u", mtu);
	fuzz_assert(ip_len + (MTU - mtu) > MTU, "ICMP too big for %zu bytes that fit %u", ip_len,
		    mtu);
}

/* too_big: the counters say the frame was answered, not forwarded. */
/*
 * The UDP + GUE + private data after an outer header of outer_family to
 * daddr (docs/GUE.md): udp_len bytes by the outer header, the inner packet
 * of the family included (a frame may carry bytes past its IP packet).
 * Returns the bytes before the inner packet.
 */
static size_t check_gue(int outer_family, const __u8 *daddr, const __u8 *udp, size_t udp_len,
			int family)
{
	const __u8 *g = udp + 8, *priv = g + 4;
	size_t alen = outer_family == 4 ? 4 : 16, hlen;

	fuzz_assert(udp_len >= 8 + 4 + 8, "GUE: %zu bytes of UDP", udp_len);
	fuzz_assert(be16(udp + 2) == XLB_GUE_DEFAULT_PORT, "GUE to UDP port %u", be16(udp + 2));
	fuzz_assert(be16(udp + 4) == udp_len, "UDP length %u for %zu bytes", be16(udp + 4),
		    udp_len);
	fuzz_assert(!be16(udp + 6), "GUE with a UDP checksum");
	hlen = g[0] & 0x1f;
	fuzz_assert(!(g[0] & 0xe0), "GUE version/C %02x", g[0]);
	fuzz_assert(g[1] == (family == 4 ? 4 : 41), "GUE proto %d for IPv%d", g[1], family);
	fuzz_assert(!be16(g + 2), "GUE flags %04x", be16(g + 2));
	fuzz_assert(be16(priv) == XLB_GUE_PRIV_TYPE && priv[2] == XLB_GUE_HOPS,
		    "GUE private data type %04x, hops %d", be16(priv), priv[2]);
	if (!priv[3]) {
		fuzz_assert(hlen == XLB_GUE_HLEN_NONE, "GUE Hlen %zu without an alternate", hlen);
	} else {
		fuzz_assert(priv[3] == outer_family && hlen == XLB_GUE_HLEN_NONE + alen / 4,
			    "GUE alternate of family %d, Hlen %zu, outer IPv%d", priv[3], hlen,
			    outer_family);
		fuzz_assert(udp_len >= 8 + 4 + hlen * 4, "GUE: %zu bytes of UDP", udp_len);
		fuzz_assert(is_backend_addr(outer_family, priv + 8) &&
				memcmp(priv + 8, daddr, alen),
			    "GUE alternate not another backend of the family");
	}
	return 8 + 4 + hlen * 4;
}

static void check_tx(const __u8 *in, size_t len, size_t l2, int family, const __u8 *out,
		     size_t out_len, bool too_big)
{
	size_t ol2 = l2, ip_len, hdr;
	__u16 proto;

	if (too_big) {
		check_too_big(in, len, l2, family, out, out_len);
		return;
	}

	fuzz_assert(out_len >= l2, "XDP_TX of %zu bytes", out_len);
	fuzz_assert(!memcmp(out + 6, LB_IF_MAC, 6), "XDP_TX from a source MAC not the LB's");
	if (l2 == 18)
		fuzz_assert(!memcmp(out + 12, in + 12, 4), "XDP_TX lost or changed the VLAN tag");
	proto = be16(out + l2 - 2);

	if (out_len == len && proto == be16(in + l2 - 2)) { /* L2 DSR */
		fuzz_assert(is_backend_mac(family, out),
			    "L2 DSR to %02x:%02x:%02x:%02x:%02x:%02x, not a backend of the family",
			    out[0], out[1], out[2], out[3], out[4], out[5]);
		fuzz_assert(!memcmp(out + l2, in + l2, len - l2), "L2 DSR changed the IP packet");
		check_ip_packet(family, out + l2, len - l2, "L2 DSR");
		return;
	}

	/* IPIP: the outer header, then the client's packet as it came */
	if (proto == 0x0800) {
		const __u8 *ip = out + ol2;

		fuzz_assert(out_len >= ol2 + 20, "IPIP4 frame of %zu bytes", out_len);
		fuzz_assert(is_backend_mac(4, out), "IPIP4 to a MAC not an IPv4 backend's");
		fuzz_assert(ip[0] == 0x45, "outer IPv4 version/ihl %02x", ip[0]);
		fuzz_assert(pkt_ipv4_csum_ok(ip), "outer IPv4 header checksum is wrong");
		fuzz_assert(be16(ip + 6) == 0x4000, "outer IPv4 frag_off %04x, not DF",
			    be16(ip + 6));
		fuzz_assert(ip[8] == 64, "outer TTL %d", ip[8]);
		fuzz_assert(ip[9] == IPPROTO_UDP || (ip[9] == IPPROTO_IPIP && family == 4),
			    "outer IPv4 protocol %d for an IPv%d packet", ip[9], family);
		fuzz_assert(is_backend_addr(4, ip + 16), "outer IPv4 destination not a backend");
		fuzz_assert(be16(ip + 12) == 0xc613, "outer IPv4 source not in %s/16", IPIP_SRC4);
		hdr = 20;
		if (ip[9] == IPPROTO_UDP)
			hdr += check_gue(4, ip + 16, ip + 20, be16(ip + 2) - 20u, family);
		fuzz_assert(out_len == len + hdr, "IPIP4 frame of %zu bytes from %zu", out_len, len);
		ip_len = be16(ip + 2);
		fuzz_assert(ip_len <= MTU, "IPIP4 packet of %zu bytes, over the MTU", ip_len);
		fuzz_assert(ip_len >= hdr && ip_len - hdr <= len - l2,
			    "outer IPv4 length %zu for %zu bytes of inner packet", ip_len,
			    len - l2);
		ip_len -= hdr;
		fuzz_assert(!memcmp(ip + hdr, in + l2, len - l2), "IPIP4 changed the inner packet");
	} else if (proto == 0x86dd) {
		static const __u8 src6[12] = {0x20, 0x01, 0, 2, 0, 0, 0xff, 0xff};
		const __u8 *ip = out + ol2;

		fuzz_assert(out_len >= ol2 + 40, "IPIP6 frame of %zu bytes", out_len);
		fuzz_assert(is_backend_mac(6, out), "IPIP6 to a MAC not an IPv6 backend's");
		fuzz_assert(ip[0] >> 4 == 6, "outer IPv6 version %d", ip[0] >> 4);
		fuzz_assert(ip[6] == IPPROTO_UDP ||
				ip[6] == (family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6),
			    "outer IPv6 next header %d for an IPv%d packet", ip[6], family);
		fuzz_assert(ip[7] == 64, "outer hop limit %d", ip[7]);
		fuzz_assert(!memcmp(ip + 8, src6, 12), "outer IPv6 source not in %s/96", IPIP_SRC6);
		fuzz_assert(is_backend_addr(6, ip + 24), "outer IPv6 destination not a backend");
		hdr = 40;
		if (ip[6] == IPPROTO_UDP)
			hdr += check_gue(6, ip + 24, ip + 40, be16(ip + 4), family);
		fuzz_assert(out_len == len + hdr, "IPIP6 frame of %zu bytes from %zu", out_len, len);
		ip_len = be16(ip + 4);
		fuzz_assert(40 + ip_len <= MTU, "IPIP6 packet of %zu bytes, over the MTU", 40 + ip_len);
		fuzz_assert(40 + ip_len >= hdr && 40 + ip_len - hdr <= len - l2,
			    "outer IPv6 payload %zu for %zu bytes of inner packet", ip_len,
			    len - l2);
		ip_len = 40 + ip_len - hdr;
		fuzz_assert(!memcmp(ip + hdr, in + l2, len - l2), "IPIP6 changed the inner packet");
	} else {
		fuzz_fail("XDP_TX with ethertype %04x", proto);
	}
	/* the outer length is the inner packet's own */
	check_ip_packet(family, in + l2, len - l2, "IPIP");
	fuzz_assert(ip_len == (family == 4 ? be16(in + l2 + 2) : 40u + be16(in + l2 + 4)),
		    "outer length %zu is not the inner packet's", ip_len);
}

/*
 * The counters agree with the verdict: rx counts the frame, and exactly one
 * pass, forward or drop counter moved (a drop is never anonymous).
 */
static void check_counters(const struct xlb_dp_stats *a, const struct xlb_dp_stats *b,
			   __u32 verdict)
{
	const __u64 *wa = (const __u64 *)a, *wb = (const __u64 *)b;
	struct outcomes oa = outcomes_of(a), ob = outcomes_of(b);
	char msg[160];

	for (size_t i = 0; i < NSTATS; i++)
		if (wa[i] != wb[i])
			bpf_paths[verdict & 3][i] = 1;
	fuzz_assert(!outcomes_unaccounted(&oa, &ob, 1, (int)verdict, msg, sizeof(msg)), "%s",
		    msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_dp_stats before, after;
	static __u8 in[FRAME_MAX], out[FRAME_MAX + 256];
	static unsigned long frames;
	size_t len = size < FRAME_MAX ? size : FRAME_MAX, l2 = 14;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int family = 0, ret;
	bool claimable;
	__u16 proto;

	if (len < 14) /* BPF_PROG_TEST_RUN wants an Ethernet header */
		return -1;
	memcpy(in, data, len);
	t.data_size_in = len;
	if (++frames % CHURN_EVERY == 0 && /* VIP by VIP, through the four sets */
	    !vips[frames / CHURN_EVERY % NVIPS].to_l2dsr)
		set_pool(frames / CHURN_EVERY % NVIPS,
			 (unsigned int)(frames / CHURN_EVERY / NVIPS));
	clock_ns += CLOCK_STEP_NS;
	fuzz_assert(!xlb_dp__test_clock_set(dp, clock_ns), "setting the test clock");
	fuzz_assert(!xlb_dp__stats(dp, &before), "reading the counters");
	ret = bpf_prog_test_run_opts(xlb_dp__prog_fd(dp), &t);
	fuzz_assert(!ret, "BPF_PROG_TEST_RUN of %zu bytes: %s", len, strerror(errno));
	fuzz_assert(!xlb_dp__stats(dp, &after), "reading the counters");

	fuzz_assert(t.retval == XDP_PASS || t.retval == XDP_DROP || t.retval == XDP_TX,
		    "verdict %u (%s)", t.retval, t.retval == XDP_ABORTED ? "XDP_ABORTED" : "?");
	if (t.retval == XDP_PASS)
		fuzz_assert(t.data_size_out == len && !memcmp(out, in, len),
			    "XDP_PASS changed the frame (%u bytes from %zu)", t.data_size_out, len);

	/* What the balancer may claim: IP after at most one tag, to a VIP address. */
	proto = be16(in + 12);
	if (proto == 0x8100 || proto == 0x88a8) {
		l2 = 18;
		proto = len >= 18 ? be16(in + 16) : 0;
	}
	if (proto == 0x0800 && len >= l2 + 20)
		family = 4;
	else if (proto == 0x86dd && len >= l2 + 40)
		family = 6;
	if (family)
		shapes[family == 6][l2 == 18][in[l2 + (family == 4 ? 9 : 6)]] = 1;
	check_counters(&before, &after, t.retval);
	claimable = family && is_vip_addr(family, in + l2 + (family == 4 ? 16 : 24));
	if (!claimable)
		fuzz_assert(t.retval == XDP_PASS, "verdict %u for a frame not to a VIP", t.retval);
	if (t.retval == XDP_TX)
		check_tx(in, len, l2, family, out, t.data_size_out,
			 after.tx_too_big != before.tx_too_big);
	return 0;
}
