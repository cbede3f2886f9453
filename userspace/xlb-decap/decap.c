/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend-side decapsulation handle: loads build/xlb_decap.bpf.o through its
 * skeleton, attaches it with libxdp and edits the set of VIPs it strips the
 * outer IPIP header for. The maps are not pinned: the program lives as long
 * as the handle, and closing the handle detaches it.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xlb_decap.skel.h"
#include "maps/xlb_maps.h"
#include "userspace/xlb-decap/decap.h"
#include "userspace/lib/log.h"
#include "userspace/lib/neigh.h"

struct xlb_decap {
	struct xlb_decap_bpf *skel;
	struct xdp_program *prog; /* set while attached */
	char ifname[IF_NAMESIZE];
	int ifindex;
	enum xdp_attach_mode mode;
};

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? "generic" : "native";
}

/* Loads the object and attaches it to d->ifindex in one step: libxdp loads
 * the skeleton's object itself, so the skeleton's maps are the program's.
 */
static int attach(struct xlb_decap *d, char *err, size_t errlen)
{
	struct xdp_program *prog;
	char why[256];
	int ret, held;

	prog = xdp_program__from_bpf_obj(d->skel->obj, NULL);
	ret = libxdp_get_error(prog);
	if (ret)
		return xlb_err(err, errlen, ret, "libxdp: %s", strerror(-ret));
	/* libxdp tries its dispatcher first and falls back to attaching the
	 * single program where the kernel refuses the dispatcher (docs/KERNEL.md):
	 * the refusal's library warnings are held for one line of ours.
	 */
	xlb_log_libs_hold();
	ret = xdp_program__attach(prog, d->ifindex, d->mode, 0);
	held = xlb_log_libs_release(why, sizeof(why));
	if (ret) {
		xdp_program__close(prog);
		return xlb_err(err, errlen, ret, "attaching xlb_decap to %s in %s mode: %s%s%s%s",
			       d->ifname, mode_name(d->mode), strerror(-ret), held ? " (" : "",
			       held ? why : "", held ? ")" : "");
	}
	d->prog = prog;
	pr_info("attached xlb_decap to %s (%s)", d->ifname, mode_name(d->mode));
	/* warnings and yet attached: libxdp fell back to a direct attach */
	if (held)
		pr_info("libxdp's dispatcher is not usable here (%s); xlb_decap is attached "
			"directly, so it must be %s's only XDP program",
			why, d->ifname);
	return 0;
}

int xlb_decap__open(const char *ifname, bool generic, struct xlb_decap **out, char *err,
		    size_t errlen)
{
	struct xlb_decap *d;
	int ret;

	if (!out)
		return xlb_err(err, errlen, -EINVAL, "xlb_decap__open: out is NULL");
	*out = NULL;
	if (ifname && strlen(ifname) >= IF_NAMESIZE)
		return xlb_err(err, errlen, -EINVAL, "interface name too long: %s", ifname);
	d = calloc(1, sizeof(*d));
	if (!d)
		return xlb_err(err, errlen, -ENOMEM, "out of memory");
	d->mode = generic ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	if (ifname) {
		snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
		d->ifindex = (int)if_nametoindex(ifname);
		if (!d->ifindex) {
			ret = xlb_err(err, errlen, -errno, "interface %s: %s", ifname,
				      strerror(errno));
			goto err_free;
		}
	}

	d->skel = xlb_decap_bpf__open();
	if (!d->skel) {
		ret = xlb_err(err, errlen, -errno, "opening xlb_decap: %s", strerror(errno));
		goto err_free;
	}
	if (ifname) {
		/* Before the load: the program starts out knowing its MAC. */
		ret = xlb_neigh__if_mac(d->ifindex, d->skel->bss->xlb_decap_if_mac, err, errlen);
		if (!ret)
			ret = attach(d, err, errlen);
	} else {
		ret = xlb_decap_bpf__load(d->skel);
		if (ret)
			xlb_err(err, errlen, ret, "loading xlb_decap: %s", strerror(-ret));
	}
	if (ret)
		goto err_destroy;
	ret = xlb_decap__add_gue_port(d, XLB_GUE_DEFAULT_PORT);
	if (ret) {
		xlb_err(err, errlen, ret, "adding the GUE port: %s", strerror(-ret));
		goto err_destroy;
	}
	*out = d;
	return 0;

err_destroy:
	xlb_decap_bpf__destroy(d->skel);
err_free:
	free(d);
	return ret;
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
	int ret;

	if (!d)
		return;
	if (d->prog) {
		ret = xdp_program__detach(d->prog, d->ifindex, d->mode, 0);
		if (ret)
			pr_warn("detaching xlb_decap from %s: %s", d->ifname, strerror(-ret));
		xdp_program__close(d->prog);
	}
	xlb_decap_bpf__destroy(d->skel);
	free(d);
}
