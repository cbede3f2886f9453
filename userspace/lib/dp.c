/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Data-path handle: loads build/xlb.bpf.o through its skeleton, pins the maps
 * under /sys/fs/bpf/xlb/<ifname>/ (or adopts them when already there),
 * attaches with libxdp and keeps the VIP/backend maps in step with what the
 * caller asks for. Writers of one interface are serialised with a flock on
 * the pin directory.
 *
 * This file opens and closes the handle; the parts that write VIPs,
 * backends and tables and read the maps back are listed in dp_int.h.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xlb.skel.h"
#include "xlb_mapcount.skel.h"
#include "userspace/lib/dp_int.h"
#include "userspace/lib/log.h"
#include "userspace/lib/neigh.h"
#include "userspace/lib/privs.h"
#include "userspace/lib/xdp_attach.h"

#define XLB_PROG_NAME "xlb_balance"

int config_write(struct xlb_dp *dp, const struct xlb_lb_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_config), &zero, cfg, BPF_ANY))
		return -errno;
	dp->cfg = *cfg;
	return 0;
}

/* ---- open / adopt / attach ---------------------------------------------- */

static int pinned_max_entries(const char *dir, const char *name, __u32 *out)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX + 64];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	ret = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (!ret)
		*out = info.max_entries;
	return ret;
}

/* Rebuilds the in-memory mirror from pinned maps left by an earlier run. */
static int adopt_state(struct xlb_dp *dp, char *err, size_t errlen)
{
	union {
		struct xlb_vip4_key k4;
		struct xlb_vip6_key k6;
	} key, next;
	struct xlb_backend be;
	struct xlb_vip_meta meta;
	__u32 zero = 0;
	int ret;

	if (bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_config), &zero, &dp->cfg))
		return xlb_err(err, errlen, -errno, "reading pinned config: %s", strerror(errno));

	for (int fam = 0; fam < 2; fam++) {
		__u8 family = fam ? XLB_AF_INET6 : XLB_AF_INET;
		int fd = vip_map_fd(dp, family);
		void *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &next)) {
			struct dp_vip *v;

			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(fd, &key, &meta))
				continue;
			if (meta.vip_id >= XLB_MAX_VIPS || dp->vips[meta.vip_id].used)
				return xlb_err(err, errlen, -EUCLEAN,
					       "pinned VIP map is inconsistent (vip id %u)",
					       meta.vip_id);
			v = &dp->vips[meta.vip_id];
			v->used = true;
			v->meta = meta;
			/* pinned by an xlb without GUE: the default port */
			if (bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_vip_gue), &meta.vip_id,
						&v->gue) || !v->gue.port)
				v->gue.port = htons(XLB_GUE_DEFAULT_PORT);
			/* pinned by an xlb without xlb_vips_by_id, or stale */
			ret = vip_by_id_write(dp, &meta);
			if (ret)
				return xlb_err(err, errlen, ret, "writing %s: %s",
					       XLB_MAP_VIPS_BY_ID, strerror(-ret));
			v->addr.family = family;
			if (family == XLB_AF_INET) {
				v->addr.addr[0] = key.k4.addr;
				v->addr.port = ntohs(key.k4.port);
				v->addr.proto = key.k4.proto;
			} else {
				memcpy(v->addr.addr, key.k6.addr, 16);
				v->addr.port = ntohs(key.k6.port);
				v->addr.proto = key.k6.proto;
			}
		}
	}

	ret = read_array(map_fd(dp->skel->maps.xlb_backends), dp->be_mirror,
			 sizeof(dp->be_mirror[0]), XLB_MAX_BACKENDS);
	if (ret)
		return xlb_err(err, errlen, ret, "reading pinned backends: %s", strerror(-ret));
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++) {
		struct dp_vip *v;

		be = dp->be_mirror[id];
		if (!(be.flags & XLB_BACKEND_F_ALLOCATED))
			continue;
		if (be.vip_id >= XLB_MAX_VIPS || !dp->vips[be.vip_id].used) {
			pr_warn("pinned backend %u belongs to no VIP; retiring it", id);
			be.flags = 0;
			if (!bpf_map_update_elem(map_fd(dp->skel->maps.xlb_backends), &id, &be,
						 BPF_ANY))
				dp->be_mirror[id] = be;
			continue;
		}
		v = &dp->vips[be.vip_id];
		if (v->nids >= XLB_MAX_BACKENDS_PER_VIP)
			return xlb_err(err, errlen, -EUCLEAN, "pinned VIP %u has too many backends",
				       be.vip_id);
		v->ids[v->nids++] = id;
		dp->be_used[id] = 1;
		dp->be_cursor = id + 1;
	}
	/* Retired entries that still name a backend of a VIP keep its counters. */
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++) {
		be = dp->be_mirror[id];
		if (!(be.flags & XLB_BACKEND_F_ALLOCATED) && be.family &&
		    be.vip_id < XLB_MAX_VIPS && dp->vips[be.vip_id].used)
			backend_park(dp, &dp->vips[be.vip_id], id);
	}
	return 0;
}

/*
 * Attaches the freshly loaded program. If an earlier xlb program is attached
 * (restart or upgrade), it is replaced in one atomic netlink operation; the
 * maps are shared, so no flow moves. Records in dp->attach_id what the
 * interface then runs (xlb_dp__attached() compares with it).
 */
static int attach(struct xlb_dp *dp, char *err, size_t errlen)
{
	return xlb_xdp__attach(dp->ifname, dp->ifindex, dp->mode,
			       bpf_program__fd(dp->skel->progs.xlb_balance), XLB_PROG_NAME, "xlb",
			       &dp->attach_id, err, errlen);
}

static int detach(const char *ifname, int ifindex, char *err, size_t errlen)
{
	return xlb_xdp__detach(ifname, ifindex, XLB_PROG_NAME, err, errlen);
}

/* ---- connection-table size ---------------------------------------------- */

static __u32 map_id(struct bpf_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(map_fd(m), &info, &len) ? 0 : info.id;
}

/* A flow cache's sets a CPU, each set_size bytes: the most that fit the
 * limits, a power of two.
 */
static __u32 flow_cache_sets(int ncpus, size_t set_size)
{
	__u32 sets = XLB_FLOW_CACHE_SETS_MAX;

	while (sets > 1 && ((__u64)sets * set_size > XLB_FLOW_CACHE_BYTES_CPU ||
			    (__u64)sets * ncpus * set_size > XLB_FLOW_CACHE_BYTES_MAX))
		sets /= 2;
	return sets;
}

/*
 * Loads the element-count iterator for this handle's flow maps, while xlbd
 * still has the privileges to load programs. Optional: kernels before 6.6
 * lack bpf_map_sum_elem_count(), and then the count is not reported.
 */
static void mapcount_open(struct xlb_dp *dp)
{
	struct xlb_mapcount_bpf *mc = xlb_mapcount_bpf__open();

	dp->flow_map_ids[0] = map_id(dp->skel->maps.xlb_flows4);
	dp->flow_map_ids[1] = map_id(dp->skel->maps.xlb_flows6);
	if (!mc)
		goto fail;
	mc->rodata->xlb_count_ids[0] = dp->flow_map_ids[0];
	mc->rodata->xlb_count_ids[1] = dp->flow_map_ids[1];
	if (xlb_mapcount_bpf__load(mc))
		goto fail;
	dp->mapcount_link = bpf_program__attach_iter(mc->progs.xlb_count_elems, NULL);
	if (!dp->mapcount_link)
		goto fail;
	dp->mapcount = mc;
	return;
fail:
	pr_warn("%s: cannot count connection-table entries (kernel before 6.6?): "
		"xlb_conntrack_entries will be missing", dp->ifname[0] ? dp->ifname : "test");
	xlb_mapcount_bpf__destroy(mc);
}

/*
 * Maps xlb_backend_counters into dp->be_ctr: reading 100,000 backends'
 * counters is then a walk over memory, not a million-entry syscall copy.
 * A pin of the per-CPU array it replaced is dropped: its counts are lost
 * (once, at the upgrade), the new map starts from 0.
 */
static int backend_counters_map(struct xlb_dp *dp, char *err, size_t errlen)
{
	struct bpf_map *m = dp->skel->maps.xlb_backend_counters;
	char legacy[PATH_MAX + 64];
	void *p;

	dp->be_ctr_len = (size_t)bpf_map__max_entries(m) * sizeof(*dp->be_ctr);
	p = mmap(NULL, dp->be_ctr_len, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd(m), 0);
	if (p == MAP_FAILED)
		return xlb_err(err, errlen, -errno, "mapping the backend counters: %s",
			       strerror(errno));
	dp->be_ctr = p;
	if (!dp->pinned)
		return 0;
	snprintf(legacy, sizeof(legacy), "%s/%s", dp->pin_dir, XLB_MAP_LEGACY_BACKEND_STATS);
	if (!unlink(legacy))
		pr_warn("%s: removed %s, the old layout of the backend counters; they restart "
			"from 0", dp->ifname, legacy);
	return 0;
}

/*
 * The pinned counters of an older layout (another value size) would make
 * the object's load fail: unpin them, and the load creates them anew. Their
 * counts are lost once, at the upgrade; a still-attached older program
 * counts into the unpinned map until the new one replaces it.
 */
static void stats_pin_check_one(struct xlb_dp *dp, const char *name, size_t size)
{
	__u32 was;

	if (xlb_pin__drop_other_layout(dp->pin_dir, name, size, &was))
		pr_warn("%s: removed %s/%s, counters of an older layout (%u bytes, now %zu); "
			"they restart from 0",
			dp->ifname, dp->pin_dir, name, was, size);
}

static void stats_pin_check(struct xlb_dp *dp)
{
	__u32 was;

	stats_pin_check_one(dp, XLB_MAP_STATS, sizeof(struct xlb_dp_stats));
	stats_pin_check_one(dp, XLB_MAP_VIP_STATS, sizeof(struct xlb_vip_stats));
	/* Derived from the VIPs and rebuilt at every open: nothing is lost. */
	if (xlb_pin__drop_other_layout(dp->pin_dir, XLB_MAP_VIP_FILTER,
				       sizeof(struct xlb_vip_filter), &was))
		pr_info("%s: replaced %s of an older layout (%u bytes, now %zu)", dp->ifname,
			XLB_MAP_VIP_FILTER, was, sizeof(struct xlb_vip_filter));
}

/*
 * The MTU the data path holds encapsulated packets to: opts->mtu, else
 * the interface's, at every open (it may have changed while xlbd was
 * down). 0 or -errno.
 */
static int mtu_sync(struct xlb_dp *dp, const struct xlb_dp_opts *opts, char *err, size_t errlen)
{
	struct xlb_lb_config cfg = dp->cfg;
	struct ifreq ifr = {};
	int fd, ret;

	cfg.mtu = opts->mtu;
	if (!cfg.mtu && dp->ifindex) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return xlb_err(err, errlen, -errno, "reading the MTU: %s", strerror(errno));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dp->ifname);
		ret = ioctl(fd, SIOCGIFMTU, &ifr) ? -errno : 0;
		close(fd);
		if (ret)
			return xlb_err(err, errlen, ret, "reading the MTU of %s: %s", dp->ifname,
				       strerror(-ret));
		cfg.mtu = ifr.ifr_mtu;
	}
	if (cfg.mtu && cfg.mtu < XLB_IPV6_MIN_MTU) {
		pr_warn("%s: MTU %u is below %u: encapsulated packets are not checked against it",
			dp->ifname, cfg.mtu, XLB_IPV6_MIN_MTU);
		cfg.mtu = 0;
	}
	if (cfg.mtu == dp->cfg.mtu)
		return 0;
	ret = config_write(dp, &cfg);
	if (ret)
		return xlb_err(err, errlen, ret, "writing config map: %s", strerror(-ret));
	return 0;
}

static const char *mac_str(const __u8 mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

/*
 * The data path acts only on frames sent to if_mac, so it must be the
 * interface's MAC now: read it at every open, adoption included (an
 * operator may have changed it while xlbd was down). opts->if_mac, when
 * set, wins (tests; no interface). 0 or -errno.
 */
static int if_mac_sync(struct xlb_dp *dp, const struct xlb_dp_opts *opts, char *err,
		       size_t errlen)
{
	struct xlb_lb_config cfg = dp->cfg;
	char was[18], now[18];
	int ret;

	memcpy(cfg.if_mac, opts->if_mac, 6);
	if (dp->ifindex && mac_missing(cfg.if_mac)) {
		ret = xlb_neigh__if_mac(dp->ifindex, cfg.if_mac, err, errlen);
		if (ret)
			return ret;
	}
	if (dp->ifindex && mac_missing(cfg.if_mac))
		pr_warn("%s: the interface has no MAC: the data path passes every frame untouched",
			dp->ifname);
	if (!memcmp(cfg.if_mac, dp->cfg.if_mac, 6))
		return 0;
	if (!mac_missing(dp->cfg.if_mac))
		pr_info("%s: the interface MAC is now %s (was %s): the data path follows",
			dp->ifname, mac_str(cfg.if_mac, now), mac_str(dp->cfg.if_mac, was));
	ret = config_write(dp, &cfg);
	if (ret)
		return xlb_err(err, errlen, ret, "writing config map: %s", strerror(-ret));
	return 0;
}

int xlb_dp__follow_if_mac(struct xlb_dp *dp, char *err, size_t errlen)
{
	struct xlb_dp_opts none = {};

	if (!dp->ifindex || dp->mac_given)
		return 0;
	return if_mac_sync(dp, &none, err, errlen);
}

int xlb_dp__open(const struct xlb_dp_opts *opts, struct xlb_dp **out, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct xlb_lb_config cfg = {};
	struct xlb_dp *dp;
	__u32 ct_size, src_size;
	char probe[PATH_MAX + 64];
	int ret;

	if (!opts || !out)
		return xlb_err(err, errlen, -EINVAL, "missing options");
	ct_size = opts->conntrack_size ? opts->conntrack_size : XLB_CONNTRACK_DEFAULT_SIZE;
	if (ct_size < 1024 || ct_size > (1U << 26))
		return xlb_err(err, errlen, -EINVAL,
			       "connection table size %u out of range 1024..67108864", ct_size);
	src_size = opts->source_table_size ? opts->source_table_size : XLB_SRC_LIMIT_DEFAULT_SIZE;
	if (src_size < 1024 || src_size > (1U << 24))
		return xlb_err(err, errlen, -EINVAL,
			       "per-source limit table size %u out of range 1024..16777216",
			       src_size);
	if (opts->flow_cache_sets & (opts->flow_cache_sets - 1) ||
	    opts->flow_cache_sets > XLB_FLOW_CACHE_SETS_MAX)
		return xlb_err(err, errlen, -EINVAL,
			       "flow cache sets %u: not a power of two up to %u",
			       opts->flow_cache_sets, XLB_FLOW_CACHE_SETS_MAX);
	/* Without CAP_SYS_ADMIN libxdp cannot read the program's BTF, and the
	 * libxdp of Debian 12 then crashes in xdp_program__attach(); a restart
	 * also opens the attached program by id. Say so instead.
	 */
	if (opts->ifname && !(xlb_privs__has(CAP_SYS_ADMIN) && xlb_privs__has(CAP_NET_ADMIN)))
		return xlb_err(err, errlen, -EPERM,
			       "attaching XDP needs CAP_SYS_ADMIN and CAP_NET_ADMIN at start "
			       "(xlbd keeps only CAP_BPF and CAP_NET_ADMIN once set up)");
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return xlb_err(err, errlen, -ENOMEM, "out of memory");
	dp->lock_fd = -1;
	dp->mode = opts->generic ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	ids_changed(dp);
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		ret = xlb_err(err, errlen, -EINVAL, "cannot count CPUs");
		goto fail;
	}

	if (opts->ifname) {
		if (strlen(opts->ifname) >= IF_NAMESIZE || strchr(opts->ifname, '/')) {
			ret = xlb_err(err, errlen, -EINVAL, "bad interface name '%s'",
				      opts->ifname);
			goto fail;
		}
		snprintf(dp->ifname, sizeof(dp->ifname), "%s", opts->ifname);
		dp->ifindex = if_nametoindex(opts->ifname);
		if (!dp->ifindex) {
			ret = xlb_err(err, errlen, -ENODEV, "no interface '%s'", opts->ifname);
			goto fail;
		}
	}
	if (opts->pin_dir)
		snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", opts->pin_dir);
	else if (opts->ifname)
		snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s/%s", XLB_PIN_ROOT, opts->ifname);
	dp->pinned = dp->pin_dir[0] != 0;

	if (dp->pinned) {
		ret = xlb_pin__lock_dir(dp->pin_dir, &dp->lock_fd, err, errlen);
		if (ret)
			goto fail;
		snprintf(probe, sizeof(probe), "%s/%s", dp->pin_dir, XLB_MAP_VIPS4);
		dp->adopted = access(probe, F_OK) == 0;
		dp->tables_unverified = dp->adopted;
		oopts.pin_root_path = dp->pin_dir;
	}

	dp->skel = xlb_bpf__open_opts(&oopts);
	if (!dp->skel) {
		ret = xlb_err(err, errlen, -errno, "opening BPF object: %s", strerror(errno));
		goto fail;
	}
	dp->skel->rodata->xlb_test_poison_headroom = opts->test_poison;
	dp->skel->rodata->xlb_test_clock = opts->test_clock;
	dp->test_clock = opts->test_clock;
	if (dp->pinned) {
		stats_pin_check(dp);
		/* Reuse needs identical map sizes: take the pinned ones. */
		if (!pinned_max_entries(dp->pin_dir, XLB_MAP_FLOWS4, &ct_size) &&
		    opts->conntrack_size && ct_size != opts->conntrack_size)
			pr_warn("%s: the connection table keeps its pinned size, %u flows (%u asked); "
				"'xlbd --cleanup %s' before starting resizes it, dropping every "
				"flow's entry", dp->ifname, ct_size, opts->conntrack_size, dp->ifname);
		pinned_max_entries(dp->pin_dir, XLB_MAP_SRC_LIMITS, &src_size);
	} else {
		/* Unpinned handles (tests, benchmarks) never share their maps. */
		struct bpf_map *m;

		bpf_object__for_each_map(m, dp->skel->obj)
			bpf_map__set_pin_path(m, NULL);
	}
	bpf_map__set_max_entries(dp->skel->maps.xlb_flows4, ct_size);
	bpf_map__set_max_entries(dp->skel->maps.xlb_flows6, ct_size);
	bpf_map__set_max_entries(dp->skel->maps.xlb_src_limits, src_size);
	bpf_map__set_max_entries(dp->skel->maps.xlb_backend_counters,
				 (__u32)dp->ncpus * XLB_MAX_BACKENDS);
	dp->skel->rodata->xlb_flow_cache_sets =
	    opts->flow_cache_sets ?: flow_cache_sets(dp->ncpus, sizeof(struct xlb_flow_cache_set));
	dp->skel->rodata->xlb_flow_cache6_sets =
	    opts->flow_cache_sets ?: flow_cache_sets(dp->ncpus, sizeof(struct xlb_flow_cache_set6));
	bpf_map__set_max_entries(dp->skel->maps.xlb_flow_cache4,
				 (__u32)dp->ncpus * dp->skel->rodata->xlb_flow_cache_sets);
	bpf_map__set_max_entries(dp->skel->maps.xlb_flow_cache6,
				 (__u32)dp->ncpus * dp->skel->rodata->xlb_flow_cache6_sets);

	ret = xlb_bpf__load(dp->skel);
	if (ret) {
		xlb_err(err, errlen, ret,
			"loading BPF object: %s%s", strerror(-ret),
			dp->adopted ? " (pinned maps from an incompatible version? "
				      "run 'xlbd --cleanup IFACE')" : "");
		goto fail;
	}

	{
		/* forward: gue's program, reached by a tail call (bpf/xlb.bpf.c) */
		int gue_fd = bpf_program__fd(dp->skel->progs.xlb_gue);
		__u32 zero = 0;

		if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_gue_prog), &zero, &gue_fd,
					BPF_ANY)) {
			ret = xlb_err(err, errlen, -errno, "installing xlb_gue: %s",
				      strerror(errno));
			goto fail;
		}
	}
	ret = backend_counters_map(dp, err, errlen);
	if (ret)
		goto fail;
	if (dp->adopted) {
		ret = adopt_state(dp, err, errlen);
		if (ret)
			goto fail;
		/* The filters and the address set are derived state: rebuilt
		 * from the VIPs (the set and the stateless filter are not
		 * pinned: this object's are empty).
		 */
		ret = vip_filter_sync(dp, NULL);
		for (int i = 0; i < XLB_MAX_VIPS && !ret; i++)
			if (dp->vips[i].used)
				ret = vip_addrs_sync(dp, &dp->vips[i].addr);
		if (ret) {
			xlb_err(err, errlen, ret, "writing the VIP filter: %s", strerror(-ret));
			goto fail;
		}
	} else {
		cfg.ipip_src4 = opts->ipip_src4;
		memcpy(cfg.ipip_src6, opts->ipip_src6, sizeof(cfg.ipip_src6));
		ret = config_write(dp, &cfg);
		if (ret) {
			xlb_err(err, errlen, ret, "writing config map: %s", strerror(-ret));
			goto fail;
		}
	}
	dp->mac_given = !mac_missing(opts->if_mac);
	ret = if_mac_sync(dp, opts, err, errlen) ?: mtu_sync(dp, opts, err, errlen);
	if (ret)
		goto fail;

	mapcount_open(dp);
	dp->prog_id = xlb_xdp__prog_id(bpf_program__fd(dp->skel->progs.xlb_balance));
	if (dp->ifindex) {
		ret = attach(dp, err, errlen);
		if (ret)
			goto fail;
	}
	*out = dp;
	return 0;
fail:
	xlb_dp__close(dp);
	return ret;
}

void xlb_dp__close(struct xlb_dp *dp)
{
	if (!dp)
		return;
	bpf_link__destroy(dp->mapcount_link);
	xlb_mapcount_bpf__destroy(dp->mapcount);
	for (__u32 i = 0; i < XLB_MAX_VIPS; i++) {
		table_fds_close(&dp->vips[i]);
		free(dp->vips[i].parked);
	}
	xlb_bpf__destroy(dp->skel);
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	if (dp->be_ctr)
		munmap(dp->be_ctr, dp->be_ctr_len);
	free(dp->ctr.raw);
	free(dp->ctr.keys);
	free(dp->ctr.vip);
	free(dp->ctr.load);
	free(dp);
}

static int unpin_dir(const char *dir, char *err, size_t errlen)
{
	static const char *const names[] = {
		XLB_MAP_VIPS4,	 XLB_MAP_VIPS6, XLB_MAP_TABLES,	   XLB_MAP_BACKENDS,
		XLB_MAP_FLOWS4,	 XLB_MAP_FLOWS6, XLB_MAP_CONFIG,   XLB_MAP_STATS,
		XLB_MAP_VIP_STATS, XLB_MAP_BACKEND_COUNTERS, XLB_MAP_VIP_FILTER,
		XLB_MAP_VIP_BUCKETS, XLB_MAP_VIP_LEASES, XLB_MAP_SRC_LIMITS, XLB_MAP_SRC_LOCKS,
		XLB_MAP_FLOOD_GUARD, XLB_MAP_WRR_CURSORS, XLB_MAP_BACKEND_LOAD, XLB_MAP_VIPS_BY_ID,
		XLB_MAP_VIP_GUE, XLB_MAP_LEGACY_BACKEND_STATS,
	};

	return xlb_pin__unpin_dir(dir, names, sizeof(names) / sizeof(names[0]), err, errlen);
}

int xlb_dp__destroy(struct xlb_dp *dp, char *err, size_t errlen)
{
	int ret = 0;

	if (!dp)
		return 0;
	if (dp->ifindex)
		ret = detach(dp->ifname, dp->ifindex, err, errlen);
	if (!ret && dp->pinned)
		ret = unpin_dir(dp->pin_dir, err, errlen);
	xlb_dp__close(dp);
	return ret;
}

int xlb_dp__cleanup(const char *ifname, const char *pin_dir, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int ifindex, ret;

	if (!ifname || !*ifname || strchr(ifname, '/'))
		return xlb_err(err, errlen, -EINVAL, "bad interface name");
	ifindex = if_nametoindex(ifname);
	if (ifindex) {
		ret = detach(ifname, ifindex, err, errlen);
		if (ret)
			return ret;
	}
	if (pin_dir)
		snprintf(dir, sizeof(dir), "%s", pin_dir);
	else
		snprintf(dir, sizeof(dir), "%s/%s", XLB_PIN_ROOT, ifname);
	ret = unpin_dir(dir, err, errlen);
	if (!ret && !pin_dir)
		rmdir(XLB_PIN_ROOT); /* only if empty */
	return ret;
}

bool xlb_dp__adopted(const struct xlb_dp *dp)
{
	return dp->adopted;
}

int xlb_dp__attached(const struct xlb_dp *dp)
{
	__u32 id = 0;
	int ret;

	if (!dp->ifindex)
		return 1;
	if ((int)if_nametoindex(dp->ifname) != dp->ifindex)
		return 0;
	ret = xlb_xdp__attached_id(dp->ifindex, dp->mode, &id);
	if (ret)
		return ret == -ENODEV ? 0 : ret;
	return id && id == dp->attach_id;
}

__u32 xlb_dp__prog_id(const struct xlb_dp *dp)
{
	return dp->prog_id;
}

bool xlb_dp__tables_unverified(const struct xlb_dp *dp)
{
	return dp->tables_unverified;
}

void xlb_dp__tables_verified(struct xlb_dp *dp)
{
	dp->tables_unverified = false;
}

int xlb_dp__prog_fd(const struct xlb_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.xlb_balance);
}

struct bpf_object *xlb_dp__object(const struct xlb_dp *dp)
{
	return dp->skel->obj;
}

int xlb_dp__test_clock_set(struct xlb_dp *dp, __u64 now_ns)
{
	if (!dp->test_clock || !dp->skel->bss)
		return -EINVAL;
	dp->skel->bss->xlb_test_now_ns = now_ns;
	return 0;
}
