/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backend-side decapsulation handle: loads bpf/xlb_decap.bpf.c, optionally
 * attaches it to an interface with libxdp, and keeps the set of VIPs whose
 * inner packets it strips the outer header from.
 *
 * Two kinds of handle. xlb_decap__open()'s maps are its own and closing it
 * detaches the program (tests, benchmarks). xlb_decap__open_pinned()'s maps
 * are pinned, and closing it leaves the program attached and the maps
 * pinned, so the data path outlives the process; the next open adopts them
 * (xlb-decap's restarts). xlb_decap__destroy() and xlb_decap__cleanup()
 * remove both.
 *
 * Functions return 0 or -errno; err/errlen (may be NULL/0) receive a message.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct xlb_decap;
struct xlb_decap_key;

/* Where xlb_decap__open_pinned() pins by default: XLB_DECAP_PIN_ROOT/<ifname>. */
#define XLB_DECAP_PIN_ROOT "/sys/fs/bpf/xlb-decap"

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
 * Loads the program against the maps pinned in pin_dir (NULL:
 * XLB_DECAP_PIN_ROOT/<ifname>), pinning them there when there are none,
 * and attaches it to ifname. An xlb_decap program already attached there
 * (an earlier run's) is replaced in one atomic operation: the maps are the
 * same, so no packet goes undecapsulated. Holds an exclusive lock on
 * pin_dir while open (-EBUSY when another process holds it).
 *
 * A fresh handle starts with XLB_GUE_DEFAULT_PORT; an adopted one with the
 * VIPs and GUE ports it finds (xlb_decap__adopted()).
 */
int xlb_decap__open_pinned(const char *ifname, bool generic, const char *pin_dir,
			   struct xlb_decap **out, char *err, size_t errlen);
bool xlb_decap__adopted(const struct xlb_decap *d);

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
 * What the maps hold: up to max VIPs (keys as in xlb_decap_vips) or GUE
 * ports (host order). Returns how many, or -errno.
 */
int xlb_decap__vips(struct xlb_decap *d, struct xlb_decap_key *out, unsigned int max);
int xlb_decap__gue_ports(struct xlb_decap *d, __u16 *out, unsigned int max);

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

/*
 * Frees the handle. An xlb_decap__open() handle's program is detached; a
 * pinned handle's stays attached with its pinned maps. NULL is a no-op.
 */
void xlb_decap__close(struct xlb_decap *d);

/* Detaches the program, unpins the maps (pinned handles) and closes. */
int xlb_decap__destroy(struct xlb_decap *d, char *err, size_t errlen);

/*
 * Without a handle: detaches any xlb_decap program from ifname and removes
 * the pins in pin_dir (NULL: XLB_DECAP_PIN_ROOT/<ifname>). -EBUSY while an
 * open handle (a running xlb-decap) holds pin_dir. *found (may be NULL) says
 * whether there was anything to remove. An ifname that no longer exists
 * only has its pins removed.
 */
int xlb_decap__cleanup(const char *ifname, const char *pin_dir, bool *found, char *err,
		       size_t errlen);

#endif /* XLB_DECAP_H */
