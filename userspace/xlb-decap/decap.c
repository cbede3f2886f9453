/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend-side decapsulation handle: loads build/xlb_decap.bpf.o through its
 * skeleton, attaches it with libxdp and edits the set of VIPs it strips the
 * outer IPIP or GUE header for. An xlb_decap__open() handle's maps are its
 * own and it detaches on close; an xlb_decap__open_pinned() handle pins the
 * maps under XLB_DECAP_PIN_ROOT/<ifname>/, adopts them when already there,
 * and leaves the program attached on close (the way xlbd's data path
 * outlives xlbd, userspace/lib/dp.c).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xlb_decap.skel.h"
#include "maps/xlb_maps.h"
#include "userspace/xlb-decap/decap.h"
#include "userspace/lib/log.h"
#include "userspace/lib/neigh.h"
#include "userspace/lib/xdp_attach.h"

#define DECAP_PROG_NAME "xlb_decap"

/* Everything pinned, for unpinning. */
static const char *const pinned_maps[] = {
	XLB_MAP_DECAP_VIPS,
	XLB_MAP_DECAP_STATS,
	XLB_MAP_DECAP_GUE_PORTS,
	XLB_MAP_DECAP_NEIGH_WANTED,
};
#define N_PINNED (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

struct xlb_decap {
	struct xlb_decap_bpf *skel;
	char ifname[IF_NAMESIZE];
	int ifindex;
	enum xdp_attach_mode mode;
	bool attached;
	char pin_dir[PATH_MAX]; /* "" when the maps are not pinned */
	int lock_fd;		/* flock on pin_dir */
	bool adopted;		/* the pins were there at open */
};

static void pin_dir_of(const char *ifname, const char *pin_dir, char *out, size_t len)
{
	if (pin_dir)
		snprintf(out, len, "%s", pin_dir);
	else
		snprintf(out, len, "%s/%s", XLB_DECAP_PIN_ROOT, ifname);
}

/*
 * Counters of another layout (an older xlb-decap's, with fewer of them)
 * would make the load fail: unpin them, and the load makes them anew.
 */
static void stats_pin_check(const struct xlb_decap *d)
{
	__u32 was;

	if (xlb_pin__drop_other_layout(d->pin_dir, XLB_MAP_DECAP_STATS,
				       sizeof(struct xlb_decap_stats), &was))
		pr_warn("%s: pinned counters of another layout (%u bytes, not %zu): they "
			"start again from 0",
			d->ifname, was, sizeof(struct xlb_decap_stats));
}

static int open_common(const char *ifname, bool generic, const char *pin_dir,
		       struct xlb_decap **out, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct xlb_decap *d;
	char probe[PATH_MAX + 64];
	int ret;

	if (!out)
		return xlb_err(err, errlen, -EINVAL, "xlb_decap__open: out is NULL");
	*out = NULL;
	if (ifname && (strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/')))
		return xlb_err(err, errlen, -EINVAL, "bad interface name: %s", ifname);
	d = calloc(1, sizeof(*d));
	if (!d)
		return xlb_err(err, errlen, -ENOMEM, "out of memory");
	d->lock_fd = -1;
	d->mode = generic ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	if (ifname) {
		snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
		d->ifindex = (int)if_nametoindex(ifname);
		if (!d->ifindex) {
			ret = xlb_err(err, errlen, -errno, "interface %s: %s", ifname,
				      strerror(errno));
			goto fail;
		}
	}
	if (pin_dir) {
		snprintf(d->pin_dir, sizeof(d->pin_dir), "%s", pin_dir);
		ret = xlb_pin__lock_dir(d->pin_dir, &d->lock_fd, err, errlen);
		if (ret)
			goto fail;
		snprintf(probe, sizeof(probe), "%s/%s", d->pin_dir, XLB_MAP_DECAP_VIPS);
		d->adopted = access(probe, F_OK) == 0;
		oopts.pin_root_path = d->pin_dir;
	}

	d->skel = xlb_decap_bpf__open_opts(&oopts);
	if (!d->skel) {
		ret = xlb_err(err, errlen, -errno, "opening xlb_decap: %s", strerror(errno));
		goto fail;
	}
	if (pin_dir) {
		stats_pin_check(d);
	} else {
		/* Unpinned handles (tests) never share their maps. */
		struct bpf_map *m;

		bpf_object__for_each_map(m, d->skel->obj)
			bpf_map__set_pin_path(m, NULL);
	}
	/* Before the load: the program starts out knowing its MAC. */
	if (ifname) {
		ret = xlb_neigh__if_mac(d->ifindex, d->skel->bss->xlb_decap_if_mac, err, errlen);
		if (ret)
			goto fail;
	}
	ret = xlb_decap_bpf__load(d->skel);
	if (ret) {
		xlb_err(err, errlen, ret, "loading xlb_decap: %s%s", strerror(-ret),
			d->adopted ? " (pinned maps of an incompatible version? "
				     "`xlb-decap detach IFACE` removes them)"
				   : "");
		goto fail;
	}
	if (!d->adopted) {
		ret = xlb_decap__add_gue_port(d, XLB_GUE_DEFAULT_PORT);
		if (ret) {
			xlb_err(err, errlen, ret, "adding the GUE port: %s", strerror(-ret));
			goto fail;
		}
	}
	if (ifname) {
		__u32 attach_id;

		ret = xlb_xdp__attach(d->ifname, d->ifindex, d->mode,
				      bpf_program__fd(d->skel->progs.xlb_decap), DECAP_PROG_NAME,
				      DECAP_PROG_NAME, &attach_id, err, errlen);
		if (ret)
			goto fail;
		d->attached = true;
	}
	*out = d;
	return 0;

fail:
	/* Pins (and the directory) this open made are not left behind;
	 * adopted ones are kept.
	 */
	if (d->lock_fd >= 0 && !d->adopted)
		xlb_pin__unpin_dir(d->pin_dir, pinned_maps, N_PINNED, NULL, 0);
	xlb_decap_bpf__destroy(d->skel);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	free(d);
	return ret;
}

int xlb_decap__open(const char *ifname, bool generic, struct xlb_decap **out, char *err,
		    size_t errlen)
{
	return open_common(ifname, generic, NULL, out, err, errlen);
}

int xlb_decap__open_pinned(const char *ifname, bool generic, const char *pin_dir,
			   struct xlb_decap **out, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	if (out)
		*out = NULL;
	if (!ifname)
		return xlb_err(err, errlen, -EINVAL, "xlb_decap__open_pinned: no interface");
	if (strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return xlb_err(err, errlen, -EINVAL, "bad interface name: %s", ifname);
	pin_dir_of(ifname, pin_dir, dir, sizeof(dir));
	return open_common(ifname, generic, dir, out, err, errlen);
}

bool xlb_decap__adopted(const struct xlb_decap *d)
{
	return d && d->adopted;
}

static int make_key(int family, const void *addr, struct xlb_decap_key *key, const char *what)
{
	if (family != XLB_AF_INET && family != XLB_AF_INET6) {
		pr_err("%s: family must be 4 or 6, not %d", what, family);
		return -EINVAL;
	}
	if (!addr) {
		pr_err("%s: address is NULL", what);
		return -EINVAL;
	}
	memset(key, 0, sizeof(*key));
	memcpy(key->addr, addr, family == XLB_AF_INET ? 4 : 16);
	key->family = (__u8)family;
	return 0;
}

int xlb_decap__add_vip(struct xlb_decap *d, int family, const void *addr)
{
	struct xlb_decap_key key;
	__u8 one = 1;
	int ret;

	if (!d) {
		pr_err("xlb_decap__add_vip: handle is NULL");
		return -EINVAL;
	}
	ret = make_key(family, addr, &key, "xlb_decap__add_vip");
	if (ret)
		return ret;
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.xlb_decap_vips), &key, &one, BPF_ANY)) {
		ret = -errno;
		pr_err("adding decap VIP: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int xlb_decap__del_vip(struct xlb_decap *d, int family, const void *addr)
{
	struct xlb_decap_key key;
	int ret;

	if (!d) {
		pr_err("xlb_decap__del_vip: handle is NULL");
		return -EINVAL;
	}
	ret = make_key(family, addr, &key, "xlb_decap__del_vip");
	if (ret)
		return ret;
	if (bpf_map_delete_elem(bpf_map__fd(d->skel->maps.xlb_decap_vips), &key))
		return -errno; /* -ENOENT: was not a VIP; the caller decides */
	return 0;
}

int xlb_decap__set_if_mac(struct xlb_decap *d, const unsigned char mac[6])
{
	struct bpf_map *bss;
	__u32 zero = 0;
	void *val;
	int ret = 0;

	if (!d || !mac)
		return -EINVAL;
	/* The whole .bss is the map's one value: change our six bytes of it. */
	bss = d->skel->maps.bss;
	val = calloc(1, bpf_map__value_size(bss));
	if (!val)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(bss), &zero, val)) {
		ret = -errno;
		goto out;
	}
	memcpy((char *)val + ((char *)d->skel->bss->xlb_decap_if_mac - (char *)d->skel->bss), mac,
	       6);
	if (bpf_map_update_elem(bpf_map__fd(bss), &zero, val, BPF_ANY))
		ret = -errno;
out:
	free(val);
	return ret;
}

int xlb_decap__add_gue_port(struct xlb_decap *d, __u16 port)
{
	__u8 one = 1;

	if (!d || !port)
		return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.xlb_decap_gue_ports), &port, &one,
				BPF_ANY))
		return -errno;
	return 0;
}

int xlb_decap__del_gue_port(struct xlb_decap *d, __u16 port)
{
	if (!d)
		return -EINVAL;
	if (bpf_map_delete_elem(bpf_map__fd(d->skel->maps.xlb_decap_gue_ports), &port))
		return -errno;
	return 0;
}

/* Up to max keys of a hash map, key_size bytes each, into out. */
static int map_keys(int fd, void *out, size_t key_size, unsigned int max)
{
	char *prev = NULL, *keys = out;
	unsigned int n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, keys + n * key_size)) {
		prev = keys + n * key_size;
		n++;
	}
	if (n < max && errno != ENOENT)
		return -errno;
	return (int)n;
}

int xlb_decap__vips(struct xlb_decap *d, struct xlb_decap_key *out, unsigned int max)
{
	if (!d || (!out && max))
		return -EINVAL;
	return map_keys(bpf_map__fd(d->skel->maps.xlb_decap_vips), out, sizeof(*out), max);
}

int xlb_decap__gue_ports(struct xlb_decap *d, __u16 *out, unsigned int max)
{
	if (!d || (!out && max))
		return -EINVAL;
	return map_keys(bpf_map__fd(d->skel->maps.xlb_decap_gue_ports), out, sizeof(*out), max);
}

int xlb_decap__resolve_wanted(struct xlb_decap *d)
{
	int fd, n = 0, ret;
	struct xlb_decap_key key, next;
	void *prev = NULL;
	char err[256], text[INET6_ADDRSTRLEN];
	__u8 mac[6];

	if (!d || !d->ifindex)
		return -EINVAL;
	fd = bpf_map__fd(d->skel->maps.xlb_decap_neigh_wanted);
	/* Bounded by the map's size; entries deleted as they are handled. */
	while (n < 256 && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		ret = xlb_neigh__resolve(d->ifindex, key.family == XLB_AF_INET ? AF_INET : AF_INET6,
					 key.addr, false, 0, mac, err, sizeof(err));
		inet_ntop(key.family == XLB_AF_INET ? AF_INET : AF_INET6, key.addr, text,
			  sizeof(text));
		if (ret && ret != -ETIMEDOUT)
			pr_warn("GUE alternate %s: %s", text, err);
		else
			pr_debug("GUE alternate %s: resolving its MAC", text);
		bpf_map_delete_elem(fd, &key);
		n++;
	}
	return n;
}

int xlb_decap__prog_fd(struct xlb_decap *d)
{
	if (!d)
		return -EINVAL;
	return bpf_program__fd(d->skel->progs.xlb_decap);
}

int xlb_decap__stats(struct xlb_decap *d, struct xlb_decap_stats *out)
{
	struct xlb_decap_stats *vals;
	__u32 zero = 0;
	int ncpus, ret = 0;

	if (!d || !out)
		return -EINVAL;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.xlb_decap_stats), &zero, vals)) {
		ret = -errno;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ncpus; i++) {
		out->rx += vals[i].rx;
		out->decap4 += vals[i].decap4;
		out->decap6 += vals[i].decap6;
		out->decap4in6 += vals[i].decap4in6;
		out->pass += vals[i].pass;
		out->drop_malformed += vals[i].drop_malformed;
		out->pass_other_mac += vals[i].pass_other_mac;
		out->gue_local += vals[i].gue_local;
		out->gue_redirected += vals[i].gue_redirected;
		out->gue_no_alt += vals[i].gue_no_alt;
		out->gue_hops_exhausted += vals[i].gue_hops_exhausted;
		out->gue_bad += vals[i].gue_bad;
		out->gue_no_neigh += vals[i].gue_no_neigh;
		out->gue_no_route += vals[i].gue_no_route;
	}
out:
	free(vals);
	return ret;
}

void xlb_decap__close(struct xlb_decap *d)
{
	char err[256];

	if (!d)
		return;
	/* Unpinned, the program's maps go with the handle: so does the program. */
	if (d->attached && !d->pin_dir[0] &&
	    xlb_xdp__detach(d->ifname, d->ifindex, DECAP_PROG_NAME, err, sizeof(err)))
		pr_warn("%s", err);
	xlb_decap_bpf__destroy(d->skel);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	free(d);
}

int xlb_decap__destroy(struct xlb_decap *d, char *err, size_t errlen)
{
	int ret = 0;

	if (!d)
		return 0;
	if (d->attached)
		ret = xlb_xdp__detach(d->ifname, d->ifindex, DECAP_PROG_NAME, err, errlen);
	if (!ret && d->pin_dir[0]) {
		ret = xlb_pin__unpin_dir(d->pin_dir, pinned_maps, N_PINNED, err, errlen);
		rmdir(XLB_DECAP_PIN_ROOT); /* only if empty */
	}
	d->attached = false;
	xlb_decap__close(d);
	return ret;
}

int xlb_decap__cleanup(const char *ifname, const char *pin_dir, bool *found, char *err,
		       size_t errlen)
{
	char dir[PATH_MAX], probe[PATH_MAX + 64];
	int ifindex, lock_fd, ret;
	__u32 before[2] = {}, after[2] = {};

	if (found)
		*found = false;
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return xlb_err(err, errlen, -EINVAL, "bad interface name");
	pin_dir_of(ifname, pin_dir, dir, sizeof(dir));
	ret = xlb_pin__lock_dir(dir, &lock_fd, err, errlen);
	if (ret == -EBUSY)
		return xlb_err(err, errlen, ret, "%s is held by a running xlb-decap", dir);
	if (ret)
		return ret;
	snprintf(probe, sizeof(probe), "%s/%s", dir, XLB_MAP_DECAP_VIPS);
	if (found && !access(probe, F_OK))
		*found = true;
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex) {
		xlb_xdp__attached_id(ifindex, XDP_MODE_NATIVE, &before[0]);
		xlb_xdp__attached_id(ifindex, XDP_MODE_SKB, &before[1]);
		ret = xlb_xdp__detach(ifname, ifindex, DECAP_PROG_NAME, err, errlen);
		xlb_xdp__attached_id(ifindex, XDP_MODE_NATIVE, &after[0]);
		xlb_xdp__attached_id(ifindex, XDP_MODE_SKB, &after[1]);
		if (found && (before[0] != after[0] || before[1] != after[1]))
			*found = true;
	}
	if (!ret)
		ret = xlb_pin__unpin_dir(dir, pinned_maps, N_PINNED, err, errlen);
	if (!ret && !pin_dir)
		rmdir(XLB_DECAP_PIN_ROOT); /* only if empty */
	close(lock_fd);
	return ret;
}
