/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the parts of the data-path handle share (private; the API is dp.h):
 *   dp.c           open and close: load the object, pin or adopt the maps,
 *                  attach and detach; the interface's MAC and MTU and the
 *                  config map
 *   dp_vip.c       VIPs: add, delete, change; their rate limits, GUE port and
 *                  stateless switch; the flood guard
 *   dp_backends.c  backends: ids, retired ids that keep their counters, MACs;
 *                  building and publishing a VIP's table (the two-slot flip)
 *   dp_stats.c     reading the counters and lc's active flows; counter ids;
 *                  batch reads of array maps
 *   dp_explain.c   where a flow goes and why; a VIP's live table and its digest
 */
#ifndef XLB_DP_INT_H
#define XLB_DP_INT_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xlb.skel.h"
#include "userspace/lib/dp.h"

enum mac_wait {
	MAC_KNOWN = 0,
	MAC_WAIT_OUT,	  /* no MAC yet: out of the table until ARP/ND answers */
	MAC_WAIT_CONFIRM, /* in the table with its last MAC, asked again */
};

/* All zero: no MAC known (a backend's) or given (the interface's). */
static inline bool mac_missing(const __u8 mac[6])
{
	return !memcmp(mac, "\0\0\0\0\0\0", 6);
}

struct dp_vip {
	bool used;
	struct xlb_vip_addr addr;
	struct xlb_vip_meta meta;
	__u32 nids;
	__u32 ids[XLB_MAX_BACKENDS_PER_VIP];
	/* Ids of backends that left this VIP with their counters kept
	 * (dp->be_parked); entries whose id was taken since are skipped.
	 */
	__u32 *parked;
	__u32 nparked, parked_cap;
	/*
	 * The table maps this process created, per slot, as fd + 1 (0: none).
	 * Held so that reading a table back (explain) needs no map-by-id
	 * lookup, which takes CAP_SYS_ADMIN that xlbd gives up after setup.
	 */
	int table_fd1[2];
	/* forward: gue's entry of xlb_vip_gue (kept for every VIP). */
	struct xlb_vip_gue gue;
};

struct xlb_mapcount_bpf;

struct xlb_dp {
	struct xlb_bpf *skel;
	char ifname[IF_NAMESIZE];
	int ifindex;
	enum xdp_attach_mode mode;
	__u32 prog_id;	 /* xlb_balance's */
	__u32 attach_id; /* what attach() left on the interface */
	char pin_dir[PATH_MAX];
	bool pinned;
	bool adopted;
	bool mac_given; /* opts.if_mac set: not the interface's to follow */
	bool tables_unverified; /* adopted: backend entries may be ahead of the tables */
	int lock_fd;
	int ncpus;
	/* xlb_backend_counters, mmapped: entry cpu * XLB_MAX_BACKENDS + id */
	struct xlb_backend_stats *be_ctr;
	size_t be_ctr_len;
	bool test_clock;
	struct xlb_lb_config cfg;
	struct dp_vip vips[XLB_MAX_VIPS];
	__u8 be_used[XLB_MAX_BACKENDS];
	/* Copy of xlb_backends: this handle is its only writer (flock), so
	 * reads need no syscall.
	 */
	struct xlb_backend be_mirror[XLB_MAX_BACKENDS];
	/* When be_mirror[id].mac was resolved (CLOCK_MONOTONIC ms); 0: resolve
	 * it on the next publish. A kept backend reuses a MAC younger than
	 * MAC_REUSE_MS, so health-driven publishes of thousands of backends
	 * do not ask netlink thousands of times.
	 */
	__u64 mac_at[XLB_MAX_BACKENDS];
	/* Backends xlb_dp__macs_poll() asks the kernel about again (enum
	 * mac_wait), and since when (CLOCK_MONOTONIC ms).
	 */
	__u8 mac_wait[XLB_MAX_BACKENDS];
	__u64 mac_asked[XLB_MAX_BACKENDS];
	__u32 be_cursor; /* next-fit: a freed id is reused as late as possible */
	/*
	 * Free ids whose counters still belong to the backend in be_mirror[id]
	 * (flags 0, its VIP and address kept): a backend out of the table
	 * (ejected by its breaker, or removed) keeps its counters there, and
	 * gets the same id, counters and all, when it comes back, so that
	 * counters never go backwards. Taken by new backends only when no
	 * other id is free.
	 */
	__u8 be_parked[XLB_MAX_BACKENDS];
	/* Changes with every change of which ids VIPs and backends have (see
	 * xlb_dp__ids_gen()); unique over all handles of the process.
	 */
	unsigned long ids_gen;
	/* Counts the connection tables' entries (NULL: the kernel cannot). */
	struct xlb_mapcount_bpf *mapcount;
	struct bpf_link *mapcount_link;
	__u32 flow_map_ids[2]; /* xlb_flows4, xlb_flows6 */
	/*
	 * xlb_dp__counters_read()'s memory, kept from one read to the next.
	 * The VIPs' per-CPU values come through a small scratch,
	 * COUNTERS_BATCH entries at a time; the sums stay here.
	 */
	struct {
		void *raw;
		size_t raw_size;
		__u32 *keys;
		struct xlb_vip_stats *vip;
		struct xlb_backend_load *load;
	} ctr;
};

static inline int map_fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static inline bool algo_wrr(__u8 algo)
{
	return algo == XLB_ALGO_WRR || algo == XLB_ALGO_RR;
}

/* ---- the handle (dp.c) ---- */

/* Writes the interface's config map; dp->cfg follows. 0 or -errno. */
int config_write(struct xlb_dp *dp, const struct xlb_lb_config *cfg);

/* ---- VIPs (dp_vip.c) ---- */

/* The VIP's bookkeeping, or NULL. */
struct dp_vip *vip_find(struct xlb_dp *dp, const struct xlb_vip_addr *vip);
/* A live VIP by its address, checked; name[64] gets its text; 0 or -errno
 * with a message in err.
 */
int vip_checked(struct xlb_dp *dp, const struct xlb_vip_addr *vip, char *name, char *err,
		size_t errlen, struct dp_vip **out);
/* The VIP hash of a family (xlb_vips4 or xlb_vips6). */
int vip_map_fd(struct xlb_dp *dp, __u8 family);
/* Writes a VIP's meta: its VIP hash entry (flags: BPF_NOEXIST, BPF_EXIST)
 * and the established fast path's copy. 0 or -errno.
 */
int vip_meta_write(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
		   const struct xlb_vip_meta *meta, __u64 flags);
int vip_by_id_write(struct xlb_dp *dp, const struct xlb_vip_meta *meta);
/* forward: gue's entry of a VIP; v->gue follows. 0 or -errno. */
int vip_gue_write(struct xlb_dp *dp, struct dp_vip *v, const struct xlb_vip_gue *g);
/* The state derived from the VIPs: the address filter and the stateless
 * pairs (plus extra, being added) and a's entry of the fragments' address
 * set. 0 or -errno.
 */
int vip_filter_sync(struct xlb_dp *dp, const struct dp_vip *extra);
int vip_addrs_sync(struct xlb_dp *dp, const struct xlb_vip_addr *a);
/* Closes the table maps this process created for v. */
void table_fds_close(struct dp_vip *v);

/* ---- backends and tables (dp_backends.c) ---- */

/* Backend entries, through be_mirror (this handle is their only writer). */
int backend_read(struct xlb_dp *dp, __u32 id, struct xlb_backend *be);
int backend_write(struct xlb_dp *dp, __u32 id, const struct xlb_backend *be);
bool backend_addr_equal(const struct xlb_backend *be, __u8 family, const __be32 *addr);
/* Takes id out of service and frees it; its flows are chosen again. */
void backend_retire(struct xlb_dp *dp, __u32 id);
/* Retired ids that keep a backend's counters for its return (be_parked). */
void backend_park(struct xlb_dp *dp, struct dp_vip *v, __u32 id);
bool parked_valid(const struct xlb_dp *dp, const struct dp_vip *v, __u32 id);
int parked_find(const struct xlb_dp *dp, const struct dp_vip *v, __u8 family, const __be32 *addr);
void backend_forget(struct xlb_dp *dp, __u32 id);
/* lc: forgets a backend id's active-flow count. 0 or -errno. */
int load_zero(struct xlb_dp *dp, __u32 id);
/* Builds and publishes v's table again from the backends it has. */
int republish(struct xlb_dp *dp, struct dp_vip *v, char *err, size_t errlen);

/* ---- reading (dp_stats.c) ---- */

/* The VIPs or backends now have other ids: xlb_dp__ids_gen() changes. */
void ids_changed(struct xlb_dp *dp);
/* Entries 0..size-1 of an array map, in as few syscalls as the kernel
 * allows. 0 or -errno.
 */
int read_array(int fd, void *vals, size_t vsize, __u32 size);

#endif /* XLB_DP_INT_H */
