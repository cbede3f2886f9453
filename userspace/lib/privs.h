/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlbd gives up the privileges it no longer needs once it is set up (data
 * path attached, pins adopted, listeners bound). What a running xlbd still
 * does, and the capability each needs:
 *   CAP_BPF       creating the Maglev lookup tables (inner array maps) on
 *                 every backend change; map updates through the descriptors
 *                 it holds need no capability (explain reads tables through
 *                 kept descriptors too: by id would need CAP_SYS_ADMIN);
 *   CAP_NET_ADMIN RTM_NEWNEIGH with NTF_USE, to make the kernel resolve a
 *                 new backend's (or next hop's) MAC address; RTM_NEWROUTE
 *                 and RTM_DELROUTE for the announced VIP routes.
 * Everything else goes from the effective, permitted, inheritable, ambient
 * and bounding sets, and no_new_privs is set. On a kernel without CAP_BPF
 * (before 5.8), CAP_SYS_ADMIN is kept in its place.
 */
#ifndef XLB_PRIVS_H
#define XLB_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether cap (CAP_*) is in this process's effective set. */
bool xlb_privs__has(int cap);

/* 0 or -errno with a message; on failure the process may be half dropped. */
int xlb_privs__drop(char *err, size_t errlen);

#endif /* XLB_PRIVS_H */
