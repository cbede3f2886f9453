/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend-side IPIP decapsulation handle: loads bpf/xlb_decap.bpf.c,
 * optionally attaches it to an interface with libxdp, and keeps the set of
 * VIPs whose inner packets it strips the outer header from.
 *
 * Functions return 0 or -errno; err/errlen (may be NULL/0) receive a message.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct xlb_decap;

/*
 * Loads the program; with ifname, attaches it there (native XDP, or generic
 * "SKB" mode when generic is set). ifname NULL only loads it, for tests
 * that drive it through BPF_PROG_TEST_RUN.
 *
 * The program decapsulates only frames addressed to the interface's MAC,
 * read here; without ifname nothing is, until xlb_decap__set_if_mac().
 */
int xlb_decap__open(const char *ifname, bool generic, struct xlb_decap **out, char *err,
		    size_t errlen);

/*
 * family is 4 or 6; addr points to a struct in_addr / struct in6_addr
 * (network order). Bad arguments: -EINVAL, logged. Adding a VIP twice is
 * fine; deleting one that is not there returns -ENOENT.
 */
int xlb_decap__add_vip(struct xlb_decap *d, int family, const void *addr);
int xlb_decap__del_vip(struct xlb_decap *d, int family, const void *addr);

/* The MAC the program takes frames for (the interface's is read at open). */
int xlb_decap__set_if_mac(struct xlb_decap *d, const unsigned char mac[6]);

/*
 * GUE (forward: gue): UDP destination ports taken as GUE; a handle starts
 * with XLB_GUE_DEFAULT_PORT. Host order.
 */
int xlb_decap__add_gue_port(struct xlb_decap *d, __u16 port);
int xlb_decap__del_gue_port(struct xlb_decap *d, __u16 port);

/*
 * Asks the kernel to resolve the MACs of the GUE alternates the program
 * could not reach for want of one (their packets were dropped; TCP sends
 * them again), without waiting. Returns how many, or -errno. Call it every
 * 100 ms or so.
 */
int xlb_decap__resolve_wanted(struct xlb_decap *d);

int xlb_decap__prog_fd(struct xlb_decap *d);

/* The per-CPU counters summed over all CPUs. */
struct xlb_decap_stats;
int xlb_decap__stats(struct xlb_decap *d, struct xlb_decap_stats *out);

/* Detaches the program if attached, then unloads it. NULL is a no-op. */
void xlb_decap__close(struct xlb_decap *d);

#endif /* XLB_DECAP_H */
