/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "userspace/lib/log.h"
#include "userspace/lib/privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* The highest capability this kernel knows; CAP_LAST_CAP of our headers if unsure. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

bool xlb_privs__has(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (cap < 0 || cap / 32 >= _LINUX_CAPABILITY_U32S_3 || syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

int xlb_privs__drop(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	int last = last_cap(), keep[2] = { CAP_BPF, CAP_NET_ADMIN };

	if (last < CAP_BPF)
		keep[0] = CAP_SYS_ADMIN;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return xlb_err(err, errlen, -errno, "no_new_privs: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return xlb_err(err, errlen, -errno, "clearing ambient capabilities: %s",
			       strerror(errno));
	/* The bounding set first: dropping from it needs CAP_SETPCAP, dropped
	 * next. What is not in it (a service manager's CapabilityBoundingSet=)
	 * needs no drop.
	 */
	for (int c = 0; c <= last; c++) {
		if (c == keep[0] || c == keep[1] || prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return xlb_err(err, errlen, -errno,
				       "dropping capability %d from the bounding set: %s", c,
				       strerror(errno));
	}
	if (syscall(SYS_capget, &hdr, data))
		return xlb_err(err, errlen, -errno, "capget: %s", strerror(errno));
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		__u32 mask = 0;

		for (int k = 0; k < 2; k++)
			if (keep[k] / 32 == i)
				mask |= 1u << (keep[k] % 32);
		data[i].effective &= mask;
		data[i].permitted &= mask;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data))
		return xlb_err(err, errlen, -errno, "capset: %s", strerror(errno));
	pr_info("privileges dropped: keeping CAP_%s and CAP_NET_ADMIN only",
		keep[0] == CAP_BPF ? "BPF" : "SYS_ADMIN");
	return 0;
}
