/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The ABI between xlb's XDP data path and its control plane: map keys and
 * values, limits and enums. Included by bpf/ and userspace/ alike; no logic.
 *
 * The maps are pinned and outlive both the program and xlbd, so these layouts
 * are a stable ABI: append fields, keep retired ones as reserved, and rename
 * a map when its key changes.
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */

/* Limits. A VIP owns two table slots (double buffer), so the outer table
 * map has 2 * XLB_MAX_VIPS entries.
 */
#define XLB_MAX_VIPS 1024
#define XLB_MAX_BACKENDS 131072 /* 1,000 VIPs x 100 backends and room */
/* Per VIP: a control-plane limit (config validation, xlbd's bookkeeping,
 * the Maglev builder), not part of any pinned map's layout: the data path
 * only sees backend ids < XLB_MAX_BACKENDS. 8192 so that one VIP can hold
 * 5,000 backends (make bench-health). A table needs size >= backends;
 * for an even spread keep size >= ~100 x backends (docs/CONFIG.md, table_size).
 */
#define XLB_MAX_BACKENDS_PER_VIP 8192
#define XLB_MAGLEV_DEFAULT_SIZE 65537
#define XLB_MAGLEV_MAX_SIZE 655373
#define XLB_CONNTRACK_DEFAULT_SIZE (1 << 20)
#define XLB_WEIGHT_MAX 65535

/* Rate limits (docs/ARCHITECTURE.md, step 3). A CPU takes up to XLB_RL_LEASE_MAX
 * tokens at a time from a VIP's shared bucket; per-source state lives in an
 * LRU map of XLB_SRC_LIMIT_DEFAULT_SIZE entries, serialised by one of
 * XLB_SRC_LOCKS striped locks (LRU maps cannot hold a bpf_spin_lock).
 */
#define XLB_RL_LEASE_MAX 64
#define XLB_SRC_LIMIT_DEFAULT_SIZE 65536
#define XLB_SRC_LOCKS 1024 /* a power of two */
/* Per-source limits count a client network: an IPv4 address, an IPv6 /64
 * (one host may use any address of its /64).
 */
#define XLB_SRC_PREFIX4_DEFAULT 32
#define XLB_SRC_PREFIX6_DEFAULT 64

/* Parser bounds (each loop in the data path has a named bound). */
#define XLB_IPV6_EXT_MAX 4

/* Map names, as pinned under /sys/fs/bpf/xlb/<ifname>/. */
#define XLB_MAP_VIPS4 "xlb_vips4"
#define XLB_MAP_VIPS6 "xlb_vips6"
#define XLB_MAP_TABLES "xlb_tables"
#define XLB_MAP_BACKENDS "xlb_backends"
#define XLB_MAP_FLOWS4 "xlb_flows4"
#define XLB_MAP_FLOWS6 "xlb_flows6"
#define XLB_MAP_CONFIG "xlb_config"
#define XLB_MAP_STATS "xlb_stats"
#define XLB_MAP_VIP_STATS "xlb_vip_stats"
#define XLB_MAP_BACKEND_COUNTERS "xlb_backend_counters"
/* The per-CPU array xlb_backend_counters replaced: removed when found. */
#define XLB_MAP_LEGACY_BACKEND_STATS "xlb_backend_stats"
#define XLB_MAP_VIP_FILTER "xlb_vip_filter"
#define XLB_MAP_STATELESS_FILTER "xlb_stateless_filter"
#define XLB_MAP_DECAP_VIPS "xlb_decap_vips"
#define XLB_MAP_DECAP_STATS "xlb_decap_stats"
#define XLB_MAP_VIP_BUCKETS "xlb_vip_buckets"
#define XLB_MAP_VIP_LEASES "xlb_vip_leases"
#define XLB_MAP_SRC_LIMITS "xlb_src_limits"
#define XLB_MAP_SRC_LOCKS "xlb_src_locks"
#define XLB_MAP_FLOOD_GUARD "xlb_flood_guard"
#define XLB_MAP_WRR_CURSORS "xlb_wrr_cursors"
#define XLB_MAP_BACKEND_LOAD "xlb_backend_load"
#define XLB_MAP_VIPS_BY_ID "xlb_vips_by_id"
#define XLB_MAP_VIP_GUE "xlb_vip_gue"
#define XLB_MAP_DECAP_GUE_PORTS "xlb_decap_gue_ports"
#define XLB_MAP_DECAP_NEIGH_WANTED "xlb_decap_neigh_wanted"
#define XLB_MAP_VIP_ADDRS "xlb_vip_addrs" /* not pinned: rebuilt at every open */
#define XLB_MAP_TOO_BIG_WINDOW "xlb_too_big_window" /* not pinned */

enum xlb_family {
	XLB_AF_INET = 4,
	XLB_AF_INET6 = 6,
};

enum xlb_algo {
	XLB_ALGO_MAGLEV = 0,	  /* weighted Maglev over the 5-tuple */
	XLB_ALGO_SOURCE_HASH = 1, /* weighted Maglev over the source address */
	XLB_ALGO_WRR = 2,	  /* smooth weighted round robin over new flows */
	XLB_ALGO_RR = 3,	  /* the same with equal weights */
	XLB_ALGO_LC = 4,	  /* least active flows per weight, of two candidates */
	XLB_ALGO_MAX,
};

enum xlb_forward {
	XLB_FWD_IPIP = 0,  /* IPv4-in-IPv4, IPv6-in-IPv6, IPv4-in-IPv6 */
	XLB_FWD_L2DSR = 1, /* rewrite the destination MAC only */
	XLB_FWD_GUE = 2,   /* IP in UDP + GUE, with the flow's alternate backend */
	XLB_FWD_MAX,
};

/* Why the data path dropped a packet. Each has a per-CPU counter. */
enum xlb_drop_reason {
	XLB_DROP_MALFORMED = 0, /* truncated or invalid header to a VIP */
	XLB_DROP_FRAGMENT = 1,	/* TCP/UDP fragment to a VIP address: no ports to hash */
	XLB_DROP_NO_BACKEND = 2, /* VIP has no backend in service */
	XLB_DROP_NO_TABLE = 3,	/* VIP's table slot is empty or too small */
	XLB_DROP_ENCAP = 4,	/* the forwarded frame could not be built (headroom, bounds) */
	XLB_DROP_FAMILY = 5,	/* backend family cannot carry this packet */
	XLB_DROP_RATE_VIP = 6,	/* over the VIP's packets/s limit */
	XLB_DROP_RATE_SOURCE = 7, /* new flow over its source's limit */
	/* Too big for the interface's MTU once encapsulated, and the ICMP
	 * "too big" reply was over its rate bound (XLB_TOO_BIG_PER_CPU).
	 */
	XLB_DROP_TOO_BIG = 8,
	XLB_DROP_MAX = 9,
};

/*
 * What an address may be, read before the VIP lookup: two bits for each of
 * XLB_VIP_FILTER_SLOTS slots (slot: xlb_hash_vip_bit() in maps/xlb_hash.h),
 * both in one word. XLB_VIP_FILTER_VIP: a VIP's address, so traffic to
 * other addresses pays one array read, not a hash lookup.
 * XLB_VIP_FILTER_STATELESS: a stateless VIP's address, so only packets to
 * those read xlb_stateless_filter; the others pay nothing for stateless
 * VIPs elsewhere. A set bit may be a false positive; a VIP's bits are
 * always set.
 */
#define XLB_VIP_FILTER_SLOTS 65536
#define XLB_VIP_FILTER_VIP 1U
#define XLB_VIP_FILTER_STATELESS 2U
struct xlb_vip_filter {
	__u64 bits[XLB_VIP_FILTER_SLOTS * 2 / 64];
};

/* The two bits (XLB_VIP_FILTER_*) of slot: bits 2 * (slot % 32) onward of
 * word slot / 32.
 */
#define XLB_VIP_FILTER_WORD(slot) (((slot) / 32) & (XLB_VIP_FILTER_SLOTS / 32 - 1))
#define XLB_VIP_FILTER_SHIFT(slot) ((slot) % 32 * 2)

/*
 * The {address, port} pairs of the stateless VIPs (bit:
 * xlb_hash_vip_port_bit(), port 0 for a VIP of every port). A packet to an
 * address of the XLB_VIP_FILTER_STATELESS class whose pair has its bit set
 * finds its VIP before the flow cache; any other tries the flow cache
 * first. A missing bit would only cost a stateless VIP's packet the cache's
 * miss: the fast path refuses stateless VIPs (docs/ARCHITECTURE.md).
 */
#define XLB_STATELESS_FILTER_BITS 65536
struct xlb_stateless_filter {
	__u64 bits[XLB_STATELESS_FILTER_BITS / 64];
};

/*
 * The {address, protocol} pairs that have a VIP (xlb_vip_addrs), exactly:
 * a fragment to one is dropped even when no VIP's port can be read from it
 * (a later fragment) or none matches (docs/ARCHITECTURE.md, step 2). The
 * value is the vip_id of the pair's VIP of lowest port, whose counters the
 * drop goes to.
 */
struct xlb_vip_addr_key {
	__be32 addr[4]; /* IPv4 in addr[0], the rest 0 */
	__u8 family;	/* enum xlb_family */
	__u8 proto;
	__u8 pad[2];
};
_Static_assert(sizeof(struct xlb_vip_addr_key) == 20, "xlb_vip_addr_key layout");

/* VIP lookup keys. port 0 is the VIP that takes all ports of a protocol. */
struct xlb_vip4_key {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};
_Static_assert(sizeof(struct xlb_vip4_key) == 8, "xlb_vip4_key layout");

struct xlb_vip6_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;
	__u8 pad;
};
_Static_assert(sizeof(struct xlb_vip6_key) == 20, "xlb_vip6_key layout");

/* xlb_vip_meta.flags */
#define XLB_VIP_F_SRC_WINDOW (1U << 0) /* per-source limit: sliding window, not a bucket */
/* Only in xlb_vips_by_id: the slot holds a VIP (a zeroed slot does not). */
#define XLB_VIP_F_LIVE (1U << 1)
/* Stateless: the VIP's packets neither read nor write the connection table
 * or the flow cache (the VIP filters: they find the VIP first); each
 * goes by the Maglev hash (or the source hash). Entries from before the VIP
 * turned stateless are left; userspace moves its backends' generation on
 * when it records flows again, which makes them stale.
 */
#define XLB_VIP_F_STATELESS (1U << 2)

/*
 * A VIP's settings. The value is replaced as a whole (the VIP maps are not
 * preallocated, so an update swaps the element under RCU): a packet sees the
 * old {slot, table_size} or the new one, never a mix. That is how a new
 * Maglev table is published atomically: userspace fills the inactive slot,
 * then flips table_slot here. Rate limits live here for the same reason: a
 * packet sees the old limits or the new ones, never a rate from one and a
 * burst from the other.
 */
struct xlb_vip_meta {
	__u32 vip_id;	  /* index into xlb_vip_stats; slots 2*id, 2*id+1 */
	__u32 table_size; /* entries in the active table (prime) */
	__u8 algo;	  /* enum xlb_algo */
	__u8 forward;	  /* enum xlb_forward */
	__u8 table_slot;  /* 0 or 1: which of the two slots is live */
	__u8 flags;	  /* XLB_VIP_F_* */
	__u32 table_size_cfg; /* the size asked for; table_size is 0 while empty */
	/* Rate limits; a rate of 0 is off and costs the packet nothing. */
	__u32 rate_pps;	  /* per-VIP token bucket: packets/s */
	__u32 rate_burst; /* its capacity, packets (>= 1 when rate_pps is set) */
	__u32 src_rate;	  /* per source address: new flows/s */
	__u32 src_burst;  /* its bucket's capacity, flows (token bucket only) */
	/* Tokens a CPU takes from the VIP bucket at a time (<= XLB_RL_LEASE_MAX).
	 * Once a __u32: its upper half, always 0, now holds the prefixes, so
	 * pinned VIP maps keep their layout (little-endian hosts).
	 */
	__u16 rl_lease;
	/* Per-source limits key on the source's first src_prefix4 (IPv4) or
	 * src_prefix6 (IPv6) bits; 0 (a meta from before): the whole address.
	 */
	__u8 src_prefix4;
	__u8 src_prefix6;
	__u32 rl_gen;	  /* changes with each limit change: CPUs drop their leases */
};
_Static_assert(sizeof(struct xlb_vip_meta) == 40, "xlb_vip_meta layout");

/*
 * Token bucket state (arithmetic in maps/xlb_ratelimit.h): tokens are counted in
 * units of 1e-9 token, so a refill is elapsed_ns * rate with no division.
 */
struct xlb_tb {
	__u64 units;   /* tokens * XLB_TB_SCALE, <= burst * XLB_TB_SCALE */
	__u64 last_ns; /* clock of the last refill */
};
_Static_assert(sizeof(struct xlb_tb) == 16, "xlb_tb layout");

/* Sliding-window state: new flows in the current and previous window. */
struct xlb_sw {
	__u64 start_ns; /* start of the current window */
	__u32 cur;
	__u32 prev;
};
_Static_assert(sizeof(struct xlb_sw) == 16, "xlb_sw layout");

/*
 * A VIP's shared bucket (xlb_vip_buckets, indexed by vip_id). When a CPU
 * finds it dry it also notes, under the lock, when the next token will be
 * in; until then CPUs drop without taking the lock (they read the two
 * fields without it: a torn pair misleads one packet at most).
 */
struct xlb_vip_bucket {
	struct bpf_spin_lock lock;
	__u32 dry_gen;	   /* xlb_vip_meta.rl_gen dry_until_ns was computed under */
	struct xlb_tb tb;
	__u64 dry_until_ns; /* no whole token before this clock */
};
_Static_assert(sizeof(struct xlb_vip_bucket) == 32, "xlb_vip_bucket layout");

/* What one CPU holds of a VIP's bucket (xlb_vip_leases, per CPU, by vip_id). */
struct xlb_vip_lease {
	__u32 tokens; /* left to spend without going to the shared bucket */
	__u32 gen;    /* xlb_vip_meta.rl_gen they were taken under */
};
_Static_assert(sizeof(struct xlb_vip_lease) == 8, "xlb_vip_lease layout");

/* Per-source limit state (xlb_src_limits, LRU): key and value. */
struct xlb_src_key {
	__u32 vip_id;
	__be32 addr[4]; /* client address; IPv4 in addr[0], the rest 0 */
};
_Static_assert(sizeof(struct xlb_src_key) == 20, "xlb_src_key layout");

struct xlb_src_limit {
	union {
		struct xlb_tb tb; /* token bucket */
		struct xlb_sw sw; /* sliding window (XLB_VIP_F_SRC_WINDOW) */
	};
	__u8 window; /* which of the two this holds */
	__u8 pad[7];
};
_Static_assert(sizeof(struct xlb_src_limit) == 24, "xlb_src_limit layout");

struct xlb_src_lock {
	struct bpf_spin_lock lock;
};

/* Backend flags. */
#define XLB_BACKEND_F_ALLOCATED (1U << 0) /* slot holds a backend */
/* established flows may stay; cleared when removed or ejected */
#define XLB_BACKEND_F_SERVING (1U << 1)
/* drained: serving its flows but not in the table (userspace bookkeeping) */
#define XLB_BACKEND_F_DRAINED (1U << 2)

/*
 * One backend of one VIP, indexed by backend id. The generation changes each
 * time an id is given to a new backend, so a flow pinned to a retired id is
 * never sent to its successor.
 */
struct xlb_backend {
	__be32 addr[4]; /* IPv4 in addr[0] */
	__u8 mac[6];	/* next hop: the backend itself (l2dsr) or router */
	__u8 family;	/* enum xlb_family */
	__u8 flags;	/* XLB_BACKEND_F_* */
	__u32 vip_id;
	__u32 gen;
	__u16 weight; /* configured weight, for adoption by a restarted xlbd */
	__u16 reserved16;
	__u32 reserved;
};
_Static_assert(sizeof(struct xlb_backend) == 40, "xlb_backend layout");

/* Connection table keys: the client's 5-tuple as it arrives. 8-byte
 * aligned wherever they are: the data path reads them in 64-bit words (a
 * stack access must be aligned to its width).
 */
struct xlb_flow4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct xlb_flow4_key) == 16, "xlb_flow4_key layout");

struct xlb_flow6_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct xlb_flow6_key) == 40, "xlb_flow6_key layout");

struct xlb_flow {
	__u32 backend_id;
	__u32 backend_gen; /* the backend's gen, | XLB_FLOW_GEN_CLOSED */
};
_Static_assert(sizeof(struct xlb_flow) == 8, "xlb_flow layout");

/*
 * Set in xlb_flow.backend_gen once the client ended the flow with a FIN or
 * RST: an lc VIP takes the backend's active count back then, and only once
 * (a retransmitted FIN finds the mark); a later SYN on the same tuple is a
 * new flow, not a retransmission. Backend generations stay below it
 * (XLB_BACKEND_GEN_MASK).
 */
#define XLB_FLOW_GEN_CLOSED (1U << 31)
#define XLB_BACKEND_GEN_MASK (XLB_FLOW_GEN_CLOSED - 1)

/*
 * The flow cache: each CPU's copy of its recent flows' backends, in front
 * of the connection table (xlb_flow_cache4 before xlb_flows4,
 * xlb_flow_cache6 before xlb_flows6). A lookup in the table walks a bucket
 * array and an element in two places of a table sized for a million flows,
 * ~200 ns a packet when neither is in cache (docs/PERFORMANCE.md); the
 * cache's set is one 64-byte line of the CPU's own sets for IPv4, two for
 * IPv6: a power of two of them, up to XLB_FLOW_CACHE_BYTES_CPU a CPU and
 * XLB_FLOW_CACHE_BYTES_MAX in all, each family (dp.c). Two ways a set, the
 * newest first. Only a hint: every use is checked against the backend's
 * generation and serving flag like a table hit, a flow's SYN, FIN or RST
 * drops its entry and takes the table, and every XLB_FLOW_CACHE_RECHECK-th
 * packet of a flow goes through the table, which keeps the flow recently
 * used there and drops the entry if the table no longer agrees. Not pinned:
 * a new program starts with an empty cache.
 */
/* Per CPU and family: 2 MiB, 65,536 IPv4 or 32,768 IPv6 flows; at most
 * 1 << 15 sets (the set index's bits).
 */
#define XLB_FLOW_CACHE_BYTES_CPU (2U << 20)
#define XLB_FLOW_CACHE_SETS_MAX 32768
#define XLB_FLOW_CACHE_BYTES_MAX (32U << 20) /* all CPUs together */
#define XLB_FLOW_CACHE_RECHECK 64
/* A flow enters the cache when the table records it. A CPU whose cache
 * answers fewer than a quarter of XLB_FLOW_CACHE_SAMPLE packets in a row of
 * flows the table has (more active flows than sets, cycling) stops reading
 * it for XLB_FLOW_CACHE_BYPASS packets, whose lookups would only add a miss
 * to the table's; SYN, FIN and RST still drop their flow's entry meanwhile.
 * New flows' first packets are not counted: no cache could have them.
 */
#define XLB_FLOW_CACHE_SAMPLE 4096
#define XLB_FLOW_CACHE_BYPASS 65536

/* Each CPU's, per family: entry 0 IPv4, 1 IPv6. */
struct xlb_flow_cache_state {
	__u32 lookups; /* in the current sample: packets of the table's flows */
	__u32 hits;
	__u32 bypass; /* packets left that skip the cache */
	__u32 reserved;
};

/* What an entry holds after its key (all zero: empty). */
struct xlb_flow_cache_ref {
	__u32 backend_id;
	__u32 backend_gen;
	__u32 uses; /* packets sent by this entry since the table last agreed */
	__u32 gue;  /* forward: gue: the flow's alternate, XLB_GUE_CACHE_*; 0: unknown */
};

struct xlb_flow_cache_entry {
	struct xlb_flow4_key key;
	struct xlb_flow_cache_ref ref;
};
_Static_assert(sizeof(struct xlb_flow_cache_entry) == 32, "xlb_flow_cache_entry layout");

struct xlb_flow_cache_set {
	struct xlb_flow_cache_entry way[2];
};
_Static_assert(sizeof(struct xlb_flow_cache_set) == 64, "xlb_flow_cache_set layout");

struct xlb_flow_cache_entry6 {
	struct xlb_flow6_key key;
	struct xlb_flow_cache_ref ref;
	__u32 reserved[2]; /* a way a line */
};
_Static_assert(sizeof(struct xlb_flow_cache_entry6) == 64, "xlb_flow_cache_entry6 layout");

struct xlb_flow_cache_set6 {
	struct xlb_flow_cache_entry6 way[2];
};
_Static_assert(sizeof(struct xlb_flow_cache_set6) == 128, "xlb_flow_cache_set6 layout");

/*
 * wrr and rr VIPs. Their table map holds the VIP's Maglev table (entries
 * 0..table_size-1: the choice for packets that miss the connection table
 * without starting a flow it records), then at index table_size the length
 * L of the smooth weighted round-robin sequence, then the L backend ids of
 * that sequence. Each CPU walks the sequence with its own cursor.
 */
#define XLB_WRR_SEQ_MAX 65536

struct xlb_wrr_cursor {
	__u32 pos; /* next index into the sequence; taken modulo L */
	__u32 reserved;
};
_Static_assert(sizeof(struct xlb_wrr_cursor) == 8, "xlb_wrr_cursor layout");

/*
 * lc VIPs: a backend's estimate of its active flows (xlb_backend_load, by
 * backend id): +1 when a flow to it is recorded, -1 when the client's FIN or
 * RST ends it or the entry is found pointing at it after it left service.
 * Updated atomically by all CPUs; xlbd recounts it from the connection
 * table now and then, which drops the flows the LRU evicted silently.
 */
struct xlb_backend_load {
	__s64 active; /* may dip below 0 briefly; read as 0 then */
	__u64 reserved;
};
_Static_assert(sizeof(struct xlb_backend_load) == 16, "xlb_backend_load layout");

/* Per-interface settings, the single entry of xlb_config. */
#define XLB_CFG_F_ANY_PORT4 (1U << 0) /* some IPv4 VIP has port 0 */
#define XLB_CFG_F_ANY_PORT6 (1U << 1) /* some IPv6 VIP has port 0 */
/* (1U << 2) was "some VIP is stateless": the VIP filter's classes say it
 * per address now. Not reused, so an older program never misreads it.
 */

struct xlb_lb_config {
	/* The interface's MAC: the data path acts only on frames sent to it,
	 * and it is the source MAC of forwarded frames. Read from the
	 * interface at every open (it may have changed while xlbd was down).
	 */
	__u8 if_mac[6];
	__u8 flags;		/* XLB_CFG_F_*: spares non-VIP traffic a 2nd lookup */
	__u8 pad;
	__be32 ipip_src4;	/* outer IPv4 source: /16 prefix, low 16 bits vary per flow */
	__be32 ipip_src6[4];	/* outer IPv6 source: /96 prefix, low 32 bits vary per flow */
	/* Flood guard: above this many new flows per second on one CPU, new
	 * flows are still forwarded by the table but not recorded, so a SYN
	 * flood cannot evict established flows. 0 = off.
	 */
	__u32 flood_new_flows;
	/* The interface's MTU (IP bytes): an encapsulated packet that would
	 * not fit is answered with an ICMP "too big". 0: not checked.
	 */
	__u32 mtu;
	__u32 reserved[2];
};
_Static_assert(sizeof(struct xlb_lb_config) == 44, "xlb_lb_config layout");

/*
 * ICMP "fragmentation needed" / ICMPv6 "packet too big" replies to clients
 * whose packet would not fit the MTU once encapsulated: at most this many a
 * second per CPU (a sliding window in xlb_too_big_window); past it the
 * packet is dropped (XLB_DROP_TOO_BIG). The reply quotes the first
 * XLB_TOO_BIG_QUOTE4/6 bytes of the packet: its IP and L4 headers with
 * options, within RFC 1812's 576 bytes and RFC 4443's 1280.
 */
#define XLB_TOO_BIG_PER_CPU 1000
#define XLB_TOO_BIG_QUOTE4 128
#define XLB_TOO_BIG_QUOTE6 256
#define XLB_IPV6_MIN_MTU 1280

/* Data-path counters, one per branch, per CPU (xlb_stats, single entry). */
struct xlb_dp_stats {
	__u64 rx;		/* every packet the program saw */
	__u64 pass_not_ip;	/* not IPv4/IPv6 */
	__u64 pass_not_vip;	/* IP, but no VIP matches */
	__u64 pass_other_l4;	/* to a VIP address, not TCP/UDP/ICMP error */
	__u64 tx_new_flow;	/* connection-table miss, backend chosen */
	__u64 tx_established;	/* connection-table hit */
	__u64 tx_rechosen;	/* hit, but backend gone: chosen again */
	__u64 tx_icmp;		/* ICMP error steered to a flow's backend */
	__u64 drops[XLB_DROP_MAX];
	__u64 rl_vip_pass;   /* packets a VIP bucket let through */
	__u64 rl_vip_leases; /* times a CPU went to a VIP's shared bucket */
	__u64 rl_src_pass;   /* new flows a per-source limit let through */
	__u64 tx_untracked;  /* new flows forwarded but not recorded (flood guard) */
	/* By family, [0] IPv4, [1] IPv6: established packets the flow cache
	 * sent (part of tx_established), and the times a CPU stopped reading
	 * its cache (XLB_FLOW_CACHE_BYPASS).
	 */
	__u64 flow_cache_hits[2];
	__u64 flow_cache_bypasses[2];
	/* Frames not addressed to the interface's MAC (xlb_lb_config.if_mac),
	 * passed untouched: unicast to another host's MAC (a promiscuous NIC, a
	 * bridge port, a switch flooding unknown unicast), and group-addressed
	 * (broadcast, multicast). Only IPv4/IPv6 frames are counted here.
	 */
	__u64 pass_other_host;
	__u64 pass_multicast;
	/* forward: gue. Packets sent in GUE, and of those the ones that carried
	 * an alternate backend (docs/GUE.md).
	 */
	__u64 tx_gue;
	__u64 tx_gue_alt;
	/* Packets too big for the MTU once encapsulated, answered with an
	 * ICMP "too big" to the client (a send: XDP_TX, not forwarded).
	 */
	__u64 tx_too_big;
	__u64 reserved[3]; /* the next counters, without a layout change */
};
/* The pinned xlb_stats' value: a pin of another size is an older layout
 * (dp.c replaces it; the counters restart from 0).
 */
_Static_assert(sizeof(struct xlb_dp_stats) == 264, "xlb_dp_stats layout");

/* Per-VIP counters (xlb_vip_stats, indexed by vip_id). */
struct xlb_vip_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 drops[XLB_DROP_MAX];
	__u64 reserved[4];
};
/* Replaced like xlb_stats when a pin has another size. */
_Static_assert(sizeof(struct xlb_vip_stats) == 128, "xlb_vip_stats layout");

/* Per-backend counters: entry cpu * XLB_MAX_BACKENDS + backend id of
 * xlb_backend_counters, one per CPU and backend.
 */
struct xlb_backend_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 syn_retransmits; /* SYN for a flow already in the table */
	__u64 reserved[4];
};

/* Backend side: which inner destinations xlb_decap strips the outer header
 * for. Keyed by the VIP address; IPv4 in addr[0].
 */
struct xlb_decap_key {
	__be32 addr[4];
	__u8 family;
	__u8 pad[3];
};
_Static_assert(sizeof(struct xlb_decap_key) == 20, "xlb_decap_key layout");

struct xlb_decap_stats {
	__u64 rx;
	__u64 decap4;	   /* IPv4-in-IPv4 stripped (GUE included) */
	__u64 decap6;	   /* IPv6-in-IPv6 stripped (GUE included) */
	__u64 decap4in6;   /* IPv4-in-IPv6 stripped (GUE included) */
	__u64 pass;	   /* not for us: untouched */
	__u64 drop_malformed;
	__u64 pass_other_mac; /* not addressed to the interface's MAC: untouched */
	__u64 reserved;
	/* GUE, one outcome per packet (docs/GUE.md, "The backend"). */
	__u64 gue_local;	  /* SYN, a local socket, or not TCP: decapsulated here */
	__u64 gue_redirected;	  /* no socket: sent on to the alternate */
	__u64 gue_no_alt;	  /* no socket, no alternate: decapsulated here */
	__u64 gue_hops_exhausted; /* no socket, alternate but no hop left: here */
	__u64 gue_bad;		  /* bad GUE header: dropped */
	__u64 gue_no_neigh;	  /* alternate's MAC not known yet: dropped, resolving */
	__u64 gue_no_route;	  /* alternate not reachable out of this interface: here */
};

/*
 * GUE (draft-ietf-intarea-gue, variant 0) as xlb sends it: outer IPv4 or
 * IPv6, UDP to the VIP's gue_port, this 4-byte base header, then xlb's
 * private data. No extension fields (flags 0); Hlen counts the 32-bit
 * words after the base header, which are all private data. Byte by byte in
 * docs/GUE.md.
 */
#define XLB_GUE_DEFAULT_PORT 19523 /* GLB director's GUE port */
#define XLB_GUE_PRIV_TYPE 0x786c   /* "xl"; GLB's private data is type 0 */
#define XLB_GUE_HOPS 1		   /* redirects a packet may take; the balancer's */
#define XLB_GUE_HOPS_MAX 1	   /* more is refused as bad */

struct xlb_gue_hdr {
	__u8 ver_c_hlen; /* version (2 bits, 0), C (1 bit, 0), Hlen (5 bits) */
	__u8 proto;	 /* inner: 4 (IPv4) or 41 (IPv6) */
	__be16 flags;	 /* 0: no extension fields */
};
_Static_assert(sizeof(struct xlb_gue_hdr) == 4, "xlb_gue_hdr layout");

/* xlb's private data; the alternate's address (4 or 16 bytes, the outer
 * header's family) follows when alt_family is not 0.
 */
struct xlb_gue_priv {
	__be16 type;	 /* XLB_GUE_PRIV_TYPE */
	__u8 hops;	 /* redirects left, <= XLB_GUE_HOPS_MAX */
	__u8 alt_family; /* 0 (no alternate), 4 or 6 (= the outer header's) */
	__be32 table_gen; /* the VIP's table generation the packet was sent by */
};
_Static_assert(sizeof(struct xlb_gue_priv) == 8, "xlb_gue_priv layout");

/* Hlen of each form: private data without, with an IPv4, an IPv6 alternate. */
#define XLB_GUE_HLEN_NONE (sizeof(struct xlb_gue_priv) / 4)
#define XLB_GUE_HLEN_ALT4 (XLB_GUE_HLEN_NONE + 1)
#define XLB_GUE_HLEN_ALT6 (XLB_GUE_HLEN_NONE + 4)

/*
 * forward: gue, per VIP (xlb_vip_gue, by vip_id). prev_table_size is the
 * size of the table in the VIP's other slot, the one live before the last
 * publication: 0 while there is none or while that slot is being replaced,
 * and then no alternate is sent. Written by userspace around each flip.
 */
struct xlb_vip_gue {
	__be16 port;	       /* UDP destination port */
	__u16 reserved16;
	__u32 prev_table_size; /* entries of the previous table; 0: none */
	__u32 table_gen;       /* counts the VIP's table publications */
	__u32 reserved;
};
_Static_assert(sizeof(struct xlb_vip_gue) == 16, "xlb_vip_gue layout");

/*
 * A GUE flow's alternate as the flow cache keeps it (xlb_flow_cache_ref.gue):
 * KNOWN, then the low 12 bits of the VIP's table_gen and its live table
 * slot when it was found (the tag), then the alternate's backend id + 1 (0:
 * none). It holds while the tag is the VIP's: any publication changes it.
 * A tag that comes round again after 4,096 publications can only name a
 * wrong alternate, which costs nothing a missing one would not.
 */
#define XLB_GUE_CACHE_KNOWN (1U << 31)
#define XLB_GUE_CACHE_GEN_SHIFT 19
#define XLB_GUE_CACHE_GEN_MASK 0xfffU
#define XLB_GUE_CACHE_SLOT (1U << 18)
#define XLB_GUE_CACHE_ALT 0x3ffffU
_Static_assert(XLB_MAX_BACKENDS + 1 <= XLB_GUE_CACHE_ALT, "backend id + 1 fits the cached alternate");

/*
 * One record of the element-count iterator (bpf/xlb_mapcount.bpf.c): the
 * kernel's count of a map's elements. Not pinned; read once per scrape.
 */
#define XLB_MAPCOUNT_MAX 4
struct xlb_mapcount {
	__u32 id;
	__u32 pad;
	__s64 count;
};
_Static_assert(sizeof(struct xlb_mapcount) == 16, "xlb_mapcount layout");

#endif /* XLB_MAPS_H */
