/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Attaching, replacing and detaching an XDP program by name, and the pin
 * directory its maps live in: what xlbd's data path (userspace/lib/dp.c)
 * and xlb-decap's (userspace/xlb-decap/decap.c) share, so that both
 * survive a restart of their process the same way.
 *
 * Functions return 0 or -errno; err/errlen (may be NULL/0) receive a message.
 */
#ifndef XLB_XDP_ATTACH_H
#define XLB_XDP_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <xdp/libxdp.h>

/* The program attached to ifindex in mode (0: none). */
int xlb_xdp__attached_id(int ifindex, enum xdp_attach_mode mode, __u32 *id);

/* The id of a loaded program, by its descriptor (0 if it cannot be read). */
__u32 xlb_xdp__prog_id(int fd);

/*
 * Attaches the loaded program prog_fd, whose name is name, to ifindex.
 * label names it in messages ("xlb", "xlb_decap").
 *
 * A program of the same name attached directly (an earlier run of the same
 * tool, killed or stopped, or an older version) is replaced in one atomic
 * operation (XDP_FLAGS_REPLACE): no packet meets a missing program. Any
 * other program there: -EBUSY, nothing touched. Otherwise libxdp attaches
 * it, behind its dispatcher where the kernel allows one, directly where it
 * refuses it (docs/KERNEL.md).
 *
 * *attach_id gets what the interface has attached now: the program's id, or
 * libxdp's dispatcher's in front of it.
 */
int xlb_xdp__attach(const char *ifname, int ifindex, enum xdp_attach_mode mode, int prog_fd,
		    const char *name, const char *label, __u32 *attach_id, char *err,
		    size_t errlen);

/*
 * Removes every program named name from ifindex, in native and generic
 * mode, attached directly or behind libxdp's dispatcher. Nothing attached
 * is not an error.
 */
int xlb_xdp__detach(const char *ifname, int ifindex, const char *name, char *err, size_t errlen);

/*
 * Makes the pin directory dir (and its parents), mounting a bpffs on
 * /sys/fs/bpf first if there is none (`ip netns exec` gives a fresh /sys,
 * docs/KERNEL.md veth trap 3), and takes an exclusive lock on it for as
 * long as *lock_fd stays open: -EBUSY when another process holds it.
 */
int xlb_pin__lock_dir(const char *dir, int *lock_fd, char *err, size_t errlen);

/* Unpins names[0..n-1] from dir, then removes dir. Missing ones are fine. */
int xlb_pin__unpin_dir(const char *dir, const char *const *names, size_t n, char *err,
		       size_t errlen);

/*
 * Unpins dir/name when it is a map whose values are not value_size bytes
 * (an older layout, which would make the object's load fail; the load then
 * creates it anew): true when it did, with the old size in *was.
 */
bool xlb_pin__drop_other_layout(const char *dir, const char *name, size_t value_size,
				__u32 *was);

#endif /* XLB_XDP_ATTACH_H */
