/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Attach, replace and detach by program name; pin directories. Shared by
 * userspace/lib/dp.c (xlbd) and userspace/xlb-decap/decap.c (xlb-decap).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "userspace/lib/log.h"
#include "userspace/lib/xdp_attach.h"

#define BPF_FS_MAGIC_NUMBER 0xcafe4a11

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? "generic" : "native";
}

static __u32 mode_flag(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

int xlb_xdp__attached_id(int ifindex, enum xdp_attach_mode mode, __u32 *id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, (int)mode_flag(mode), &q))
		return -errno;
	*id = mode == XDP_MODE_SKB ? q.skb_prog_id : q.drv_prog_id;
	if (!*id)
		*id = q.prog_id;
	return 0;
}

__u32 xlb_xdp__prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int prog_name_by_id(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		close(fd);
		return -errno;
	}
	close(fd);
	snprintf(name, len, "%s", info.name);
	return 0;
}

/* old_id, a program named name, replaced by prog_fd in one operation. */
static int replace(const char *ifname, int ifindex, enum xdp_attach_mode mode, int prog_fd,
		   __u32 old_id, const char *name, const char *label, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	char old_name[BPF_OBJ_NAME_LEN] = "?";
	int ret;

	if (prog_name_by_id(old_id, old_name, sizeof(old_name)) || strcmp(old_name, name))
		return xlb_err(err, errlen, -EBUSY,
			       "%s already has XDP program %u (%s) attached; not replacing a "
			       "program that is not %s's",
			       ifname, old_id, old_name, label);
	opts.old_prog_fd = bpf_prog_get_fd_by_id(old_id);
	if (opts.old_prog_fd < 0)
		return xlb_err(err, errlen, -errno, "opening attached program %u: %s", old_id,
			       strerror(errno));
	ret = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_REPLACE | mode_flag(mode), &opts) ? -errno
											   : 0;
	close(opts.old_prog_fd);
	if (ret)
		return xlb_err(err, errlen, ret, "replacing program on %s: %s", ifname,
			       strerror(-ret));
	pr_info("replaced %s program %u on %s atomically", label, old_id, ifname);
	return 0;
}

int xlb_xdp__attach(const char *ifname, int ifindex, enum xdp_attach_mode mode, int prog_fd,
		    const char *name, const char *label, __u32 *attach_id, char *err, size_t errlen)
{
	struct xdp_program *prog;
	__u32 old_id = 0, id = xlb_xdp__prog_id(prog_fd);
	char why[256];
	int ret, held;

	ret = xlb_xdp__attached_id(ifindex, mode, &old_id);
	if (ret)
		return xlb_err(err, errlen, ret, "querying XDP on %s: %s", ifname, strerror(-ret));
	if (old_id) {
		ret = replace(ifname, ifindex, mode, prog_fd, old_id, name, label, err, errlen);
		if (!ret)
			*attach_id = id;
		return ret;
	}

	prog = xdp_program__from_fd(prog_fd);
	ret = libxdp_get_error(prog);
	if (ret)
		return xlb_err(err, errlen, ret, "libxdp: %s", strerror(-ret));
	/* libxdp tries its dispatcher first and falls back to a plain attach
	 * where the kernel refuses it (docs/KERNEL.md, "libxdp's dispatcher"):
	 * the refusal's library warnings are held for one line of ours.
	 */
	xlb_log_libs_hold();
	ret = xdp_program__attach(prog, ifindex, mode, 0);
	held = xlb_log_libs_release(why, sizeof(why));
	xdp_program__close(prog);
	if (ret)
		return xlb_err(err, errlen, ret, "attaching %s to %s in %s mode: %s%s%s%s", label,
			       ifname, mode_name(mode), strerror(-ret), held ? " (" : "",
			       held ? why : "", held ? ")" : "");
	pr_info("attached %s to %s (%s)", label, ifname, mode_name(mode));
	/* ours, or libxdp's dispatcher in front of it */
	ret = xlb_xdp__attached_id(ifindex, mode, attach_id);
	if (ret)
		return xlb_err(err, errlen, ret, "querying XDP on %s: %s", ifname, strerror(-ret));
	if (*attach_id == id)
		pr_info("libxdp's dispatcher is not usable here (%s); %s is attached directly, "
			"so it must be %s's only XDP program",
			held ? why : "not loaded", label, ifname);
	return 0;
}

int xlb_xdp__detach(const char *ifname, int ifindex, const char *name, char *err, size_t errlen)
{
	static const enum xdp_attach_mode modes[] = {XDP_MODE_NATIVE, XDP_MODE_SKB};

	for (size_t i = 0; i < 2; i++) {
		struct xdp_multiprog *mp;
		char pname[BPF_OBJ_NAME_LEN];
		__u32 id = 0;

		if (xlb_xdp__attached_id(ifindex, modes[i], &id) || !id)
			continue;
		if (!prog_name_by_id(id, pname, sizeof(pname)) && !strcmp(pname, name)) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, opts);

			if (bpf_xdp_detach(ifindex, mode_flag(modes[i]), &opts))
				return xlb_err(err, errlen, -errno, "detaching from %s: %s", ifname,
					       strerror(errno));
			continue;
		}
		/* Behind a libxdp dispatcher: remove only our program. */
		mp = xdp_multiprog__get_from_ifindex(ifindex);
		if (libxdp_get_error(mp))
			continue;
		for (struct xdp_program *p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (!strcmp(xdp_program__name(p), name))
				xdp_program__detach(p, ifindex, modes[i], 0);
		}
		xdp_multiprog__close(mp);
	}
	return 0;
}

static int ensure_bpffs(char *err, size_t errlen)
{
	struct statfs st;

	if (!statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC_NUMBER)
		return 0;
	/* `ip netns exec` gives a fresh /sys without a bpffs (docs/KERNEL.md, veth trap 3) */
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return xlb_err(err, errlen, -errno, "cannot mount bpffs on /sys/fs/bpf: %s",
			       strerror(errno));
	pr_info("mounted bpffs on /sys/fs/bpf");
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int xlb_pin__lock_dir(const char *dir, int *lock_fd, char *err, size_t errlen)
{
	int ret, fd;

	*lock_fd = -1;
	ret = ensure_bpffs(err, errlen);
	if (ret)
		return ret;
	ret = mkdir_p(dir);
	if (ret)
		return xlb_err(err, errlen, ret, "creating %s: %s", dir, strerror(-ret));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return xlb_err(err, errlen, -errno, "opening %s: %s", dir, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return xlb_err(err, errlen, -EBUSY, "%s is in use by another xlb process", dir);
	}
	*lock_fd = fd;
	return 0;
}

int xlb_pin__unpin_dir(const char *dir, const char *const *names, size_t n, char *err,
		       size_t errlen)
{
	char path[PATH_MAX + 64];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) && errno != ENOENT)
			return xlb_err(err, errlen, -errno, "unpinning %s: %s", path,
				       strerror(errno));
	}
	if (rmdir(dir) && errno != ENOENT)
		return xlb_err(err, errlen, -errno, "removing %s: %s", dir, strerror(errno));
	return 0;
}

bool xlb_pin__drop_other_layout(const char *dir, const char *name, size_t value_size,
				__u32 *was)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX + 64];
	bool dropped = false;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.value_size != value_size &&
	    !unlink(path)) {
		*was = info.value_size;
		dropped = true;
	}
	close(fd);
	return dropped;
}
