/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The data-path handle: the only code that opens, loads, attaches, pins and
 * updates the balancer's BPF objects.
 *
 * Every call validates its arguments first and returns 0 or -errno with a
 * message in err; a failed call leaves the maps as they were.
 */
#ifndef XLB_DP_H
#define XLB_DP_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/vipaddr.h"

#define XLB_PIN_ROOT "/sys/fs/bpf/xlb"

struct xlb_dp;

struct xlb_dp_opts {
	const char *ifname;  /* attach here; NULL: load only (tests, benchmarks) */
	const char *pin_dir; /* NULL: XLB_PIN_ROOT/<ifname>, or no pinning without ifname */
	bool generic;	     /* XDP generic (skb) mode, only when asked */
	__u32 conntrack_size; /* flows per family; 0: XLB_CONNTRACK_DEFAULT_SIZE */
	__be32 ipip_src4;     /* outer IPv4 source prefix (/16) */
	__be32 ipip_src6[4];  /* outer IPv6 source prefix (/96) */
	/* The data path acts only on frames sent to this MAC, and sends from
	 * it. All zero: read from ifname, at every open (adoption included).
	 */
	__u8 if_mac[6];
	bool test_poison;     /* tests: fill new headroom with 0xFF */
	bool test_clock;      /* tests: the data path's time is xlb_dp__test_clock_set()'s */
	__u32 source_table_size; /* per-source limit entries; 0: XLB_SRC_LIMIT_DEFAULT_SIZE */
	/* tests: the flow cache's sets a CPU, each family, a power of two up to
	 * XLB_FLOW_CACHE_SETS_MAX; 0: the most that fit its limits
	 */
	__u32 flow_cache_sets;
	/* IP bytes an encapsulated packet may have on this interface; a longer
	 * one is answered with an ICMP "too big". 0: the interface's MTU, read
	 * at every open (none without ifname: not checked).
	 */
	__u32 mtu;
};

/* A backend as the caller wants it. A zero MAC is resolved over netlink
 * (needs an interface).
 */
struct xlb_dp_backend {
	__u8 family;
	__be32 addr[4];
	__u16 weight; /* 1..XLB_WEIGHT_MAX */
	bool drain;   /* keep established flows, take no new ones */
	__u8 mac[6];
};

int xlb_dp__open(const struct xlb_dp_opts *opts, struct xlb_dp **out, char *err, size_t errlen);
/* Closes the handle; the program stays attached and the maps pinned, so
 * forwarding goes on (hitless restart).
 */
void xlb_dp__close(struct xlb_dp *dp);
/* Detaches the program, unpins every map and closes the handle. */
int xlb_dp__destroy(struct xlb_dp *dp, char *err, size_t errlen);
/* Detaches and unpins whatever xlb left on ifname, without loading. */
int xlb_dp__cleanup(const char *ifname, const char *pin_dir, char *err, size_t errlen);

bool xlb_dp__adopted(const struct xlb_dp *dp); /* found pinned state at open */
/*
 * The data path acts only on frames to the interface's MAC: read it again
 * and follow a change (xlbd's one-second tick). 0 or -errno.
 */
int xlb_dp__follow_if_mac(struct xlb_dp *dp, char *err, size_t errlen);
/*
 * Is xlb's program still what the interface runs? 1 yes; 0 when it was
 * detached or replaced, or the interface is gone or was created anew (a
 * new index: the handle's program is on none of it); -errno when asking
 * failed. Compares the attached program's id with what attach() left
 * there (libxdp's dispatcher, when it used one: a new dispatcher reads as
 * replaced; looking inside it would need CAP_SYS_ADMIN). Needs no
 * privilege (netlink RTM_GETLINK). Handles without an interface: 1.
 */
int xlb_dp__attached(const struct xlb_dp *dp);
__u32 xlb_dp__prog_id(const struct xlb_dp *dp); /* the balancer program's id */
/*
 * Adopted maps may hold backend entries whose table was never published:
 * xlb_dp__set_backends() writes the entries, then flips the table, and a
 * SIGKILL can land in between. Until the first full reconcile says it has
 * republished every table, the entries alone prove nothing.
 */
bool xlb_dp__tables_unverified(const struct xlb_dp *dp);
void xlb_dp__tables_verified(struct xlb_dp *dp);
int xlb_dp__prog_fd(const struct xlb_dp *dp);
struct bpf_object *xlb_dp__object(const struct xlb_dp *dp);

int xlb_dp__vip_add(struct xlb_dp *dp, const struct xlb_vip_addr *vip, enum xlb_algo algo,
		    enum xlb_forward fwd, __u32 table_size, char *err, size_t errlen);
int xlb_dp__vip_del(struct xlb_dp *dp, const struct xlb_vip_addr *vip, char *err, size_t errlen);
/* Changes algorithm and forwarding mode of a live VIP (one atomic update). */
int xlb_dp__vip_update(struct xlb_dp *dp, const struct xlb_vip_addr *vip, enum xlb_algo algo,
		       enum xlb_forward fwd, char *err, size_t errlen);

/*
 * forward: gue: the UDP port a VIP's GUE packets go to (host order, not 0;
 * a new VIP has XLB_GUE_DEFAULT_PORT), and what the data path holds for
 * it: port, the previous table's size, the table generation.
 */
int xlb_dp__vip_set_gue_port(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u16 port,
			     char *err, size_t errlen);
int xlb_dp__vip_gue(struct xlb_dp *dp, const struct xlb_vip_addr *vip, struct xlb_vip_gue *out);

/*
 * A VIP's rate limits (docs/ARCHITECTURE.md, step 3). A rate of 0 is off and costs the
 * VIP's packets nothing. Every field is a __u32, which the arithmetic
 * (maps/xlb_ratelimit.h) handles whole: rates up to 4,294,967,295/s, bursts as
 * large, any idle time.
 */
struct xlb_dp_limits {
	__u32 pps;		/* per-VIP token bucket: packets/s */
	__u32 burst;		/* its capacity: >= 1 when pps is set, 0 when not */
	__u32 source_new_flows; /* per source address: new flows/s (TCP SYN or
				 * UDP packet missing the connection table) */
	__u32 source_burst;	/* its capacity: >= 1 when source_new_flows is set,
				 * 0 when not; unused by the sliding window */
	bool source_window;	/* per-source limit as a sliding window instead of
				 * a token bucket: two windows of 1 s, the last
				 * one's count weighted by its overlap with the
				 * last second; no burst above the rate */
	__u8 source_prefix4;	/* a source is its address's first bits: 1..32, */
	__u8 source_prefix6;	/* 1..128; 0: XLB_SRC_PREFIX4/6_DEFAULT */
	__u32 lease;		/* tokens a CPU takes from the VIP's bucket at a
				 * time, 1..XLB_RL_LEASE_MAX and <= burst; 0: auto
				 * (burst / (8 * CPUs), 1..XLB_RL_LEASE_MAX) */
};

/*
 * Sets a live VIP's limits in one atomic update of its entry: a packet sees
 * the old limits or the new ones. CPUs drop what they hold of the old VIP
 * bucket; the bucket keeps its tokens, capped at the new burst (a limit
 * switched on starts full). Setting the limits the VIP already has changes
 * nothing. Errors: -EINVAL (a burst of 0 under a rate, a burst or lease
 * without a rate, a lease out of range), -ENOENT (no such VIP); the maps are
 * then untouched.
 */
int xlb_dp__vip_set_limits(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
			   const struct xlb_dp_limits *l, char *err, size_t errlen);
/*
 * Makes a live VIP stateless or not. A stateless VIP's packets go by the
 * Maglev hash (the source hash for source-hash) without the connection
 * table or the flow cache, found before them (the VIP filter marks the
 * addresses of stateless VIPs). Turned back, the VIP's backends get a new
 * generation first, so that the entries from before are stale (xlb_maps.h,
 * XLB_VIP_F_STATELESS). The control plane keeps it to hash algorithms; the
 * data path hashes whatever the algorithm. -ENOENT: no such VIP.
 */
int xlb_dp__vip_set_stateless(struct xlb_dp *dp, const struct xlb_vip_addr *vip, bool stateless,
			      char *err, size_t errlen);
/* The limits in force (lease as resolved); all 0 for a VIP without. */
int xlb_dp__vip_limits(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
		       struct xlb_dp_limits *out);
/*
 * The flood guard (Katran's): above new_flows_per_cpu new flows a second on
 * one CPU, further new flows are forwarded by the table but not recorded in
 * the connection table (counted as tx_untracked), so a SYN flood cannot
 * evict established flows. 0 turns it off (the default). Kept in the pinned
 * config, so a restarted xlbd finds it.
 */
int xlb_dp__set_flood_guard(struct xlb_dp *dp, __u32 new_flows_per_cpu, char *err,
			    size_t errlen);
__u32 xlb_dp__flood_guard(const struct xlb_dp *dp);

/* Tests (opts.test_clock): the time the data path sees, in ns. */
int xlb_dp__test_clock_set(struct xlb_dp *dp, __u64 now_ns);

/*
 * Makes b[0..n-1] the VIP's backend set. Backends already present keep their
 * id, so their established flows stay; the new Maglev table is built and
 * published with one atomic flip; removed backends are retired after it, and
 * their flows are chosen again on their next packet.
 *
 * Never waits for ARP/ND: a backend given without a MAC whose neighbour is
 * not known yet is written but kept out of the table (it waits for its
 * MAC) while the kernel resolves it; xlb_dp__macs_poll() brings it in. A
 * backend already in the data path keeps its last MAC meanwhile.
 */
int xlb_dp__set_backends(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
			 const struct xlb_dp_backend *b, size_t n, char *err, size_t errlen);
/*
 * Backends waiting for their MAC: asks the kernel for each again, without
 * waiting; one that has it now is written and its VIP's table published
 * again. Returns how many still wait (0: nothing left to poll) or -errno
 * with a message. An event loop calls it on a timer while it is non-zero.
 */
int xlb_dp__macs_poll(struct xlb_dp *dp, char *err, size_t errlen);
/* How many backends wait for their MAC (no system call). */
unsigned int xlb_dp__macs_waiting(const struct xlb_dp *dp);

/* Stable name of a drop reason ("malformed", "no_backend", ...). */
const char *xlb_dp__drop_name(enum xlb_drop_reason r);

/* The global counters summed over CPUs. */
int xlb_dp__stats(struct xlb_dp *dp, struct xlb_dp_stats *out);
/*
 * lc: recounts each lc backend's active flows from the connection tables
 * (entries not closed by a FIN/RST), which ages out the flows the LRU
 * evicted or that ended without a FIN from the client (UDP, a server's
 * close). Reads the whole tables in batches: call it every few seconds, not
 * per packet. Nothing to do, and no cost, without an lc VIP.
 */
int xlb_dp__lc_recount(struct xlb_dp *dp, char *err, size_t errlen);

/* The global and VIP counters at once, summed over CPUs, in a few batch
 * syscalls: what a scrape or `xlbctl stats` reads. Index vip by
 * xlb_dp__vip_id(), load by xlb_dp__backend_id().
 */
struct xlb_dp_counters {
	struct xlb_dp_stats global;
	struct xlb_vip_stats *vip;	/* XLB_MAX_VIPS entries */
	struct xlb_backend_load *load;	/* lc's active flows, XLB_MAX_BACKENDS
					 * entries; NULL without an lc VIP */
};
/* The arrays belong to dp: valid until the next read on it or its close. */
int xlb_dp__counters_read(struct xlb_dp *dp, struct xlb_dp_counters *c);
void xlb_dp__counters_free(struct xlb_dp_counters *c);
/* Adds backend counter id's counts, summed over CPUs, to acc: read from
 * the mmapped map, no system call (ids from xlb_dp__counter_ids()).
 */
void xlb_dp__backend_counters_add(const struct xlb_dp *dp, int id,
				  struct xlb_backend_stats *acc);
/* Index of a VIP / a VIP's backend in the counters, or -ENOENT. */
int xlb_dp__vip_id(struct xlb_dp *dp, const struct xlb_vip_addr *vip);
int xlb_dp__backend_id(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u8 family,
		       const __be32 addr[4]);

/*
 * Entries in the connection tables now, IPv4 then IPv6, as the kernel
 * counts them (cheap: no walk). -EOPNOTSUPP on kernels without the count.
 */
int xlb_dp__conntrack_entries(struct xlb_dp *dp, __u64 counts[2]);

/* Where one client flow goes and why (xlbctl explain). */
struct xlb_dp_explain {
	bool in_conntrack;	  /* the flow has an entry */
	bool conntrack_live;	  /* ... whose backend still serves it */
	struct xlb_backend conntrack_backend;
	__u32 hash;		  /* the VIP algorithm's hash of the flow */
	__u32 slot;		  /* hash % table size */
	bool table_empty;	  /* no backend takes new flows */
	struct xlb_backend table_backend; /* the table's choice for a new flow */
	/* The rate limits as they stand now, for the flow's next packet. */
	bool vip_limited;	  /* the VIP has a packets/s bucket */
	__u64 vip_tokens;	  /* whole tokens: the shared bucket's plus the CPUs' leases */
	bool source_limited;	  /* a per-source new-flow limit applies (a new flow) */
	bool source_admits;	  /* ... and this source has room for one more */
};
/* For the flow saddr:sport -> vip (dport for a port-0 VIP). 0 or -errno. */
int xlb_dp__explain(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u8 family,
		    const __be32 saddr[4], __u16 sport, __u16 dport, struct xlb_dp_explain *out);

/*
 * Counter indexes of a VIP (the return value, or -ENOENT) and of n of its
 * backends (ids[j] for keys[j], -ENOENT when the data path has no counters
 * for it; a backend that left the table keeps its counters), with
 * one VIP lookup: linear when keys come in the order the backends were set
 * (a config's), as xlb_counters__read() gives them.
 */
struct xlb_dp_backend_key {
	__u8 family;
	__be32 addr[4];
};
int xlb_dp__counter_ids(struct xlb_dp *dp, const struct xlb_vip_addr *vip, size_t n,
			const struct xlb_dp_backend_key *keys, int *ids);
/* Changes whenever VIPs are added or removed and whenever a backend enters
 * or leaves a VIP (not when a set changes only weights or MACs), so that
 * counter ids mapped once stay good while it is unchanged; never 0 and
 * never the same for two handles.
 */
unsigned long xlb_dp__ids_gen(const struct xlb_dp *dp);

/* What the data path holds for a VIP (for adoption and status). */
struct xlb_dp_vip_info {
	struct xlb_vip_meta meta;
	size_t nbackends;
	struct xlb_backend backends[XLB_MAX_BACKENDS_PER_VIP];
	__u32 ids[XLB_MAX_BACKENDS_PER_VIP];
};
int xlb_dp__vip_info(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
		     struct xlb_dp_vip_info *out);
/* Calls fn for each VIP in the data path; stops at a non-zero return. */
int xlb_dp__vip_foreach(struct xlb_dp *dp, int (*fn)(const struct xlb_vip_addr *vip, void *arg),
			void *arg);
/* Copies the live table of a VIP (size entries of backend ids). */
int xlb_dp__read_table(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u32 *table,
		       __u32 size);
/*
 * The digest of a VIP's live table (userspace/lib/table_digest.h): read from
 * the data path and taken over the backend addresses in its slots, so it
 * is the same on every host whose table sends each new flow where this one
 * does, whatever ids the hosts gave their backends. 0, -ENOENT (no such
 * VIP), -ENODATA (an empty table: no backend takes new flows), or the
 * read's -errno.
 */
int xlb_dp__table_digest(struct xlb_dp *dp, const struct xlb_vip_addr *vip, __u64 *out);

#endif /* XLB_DP_H */
