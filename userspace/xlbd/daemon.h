/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlbd's state: the running configuration, one data path per interface and
 * the state file. Every change goes through xlb_daemon__apply(): validate,
 * change each data path, write the state file, and on any failure put the
 * data paths back as they were. Single-threaded (the event loop owns it).
 */
#ifndef XLB_DAEMON_H
#define XLB_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "userspace/lib/config.h"
#include "userspace/lib/dp.h"
#include "userspace/lib/plan.h"
#include "userspace/xlbd/supervise.h"

struct xlb_daemon_opts {
	const char *config_path; /* --config */
	const char *state_dir;	 /* --state-dir */
	const char *metrics;	 /* --metrics, overrides the config; may be NULL */
	const char *pin_root;	 /* NULL: XLB_PIN_ROOT */
	__u32 conntrack_size;	 /* 0: default */
	struct event_base *base; /* health checks run here; NULL: none run */
};

struct xlb_counter_map;

struct xlb_daemon_if {
	char name[16];
	struct xlb_dp *dp;
	bool adopted;
	bool attached;	      /* xlb's program still on the interface (XLB_ATTACH_CHECK_MS) */
	int attach_query_err; /* the last check's error, logged once */
	struct xlb_counter_map *counter_map; /* counters.c's: config -> counter ids */
};

struct xlb_daemon {
	struct xlb_config *cfg; /* what the operator asked for; the state file */
	unsigned long cfg_gen;	/* changes whenever cfg is replaced (caches of it) */
	struct xlb_supervisor *sup; /* health and breakers: what of cfg is in service */
	struct xlb_daemon_if ifs[XLB_CONFIG_MAX_INTERFACES];
	unsigned int n_ifs;
	char config_path[4096];
	char state_path[4096];
	time_t started;
	struct event *lc_timer; /* recounts lc's active flows (XLB_LC_RECOUNT_MS) */
	struct event *attach_timer; /* checks the programs are attached */
	struct event *mac_timer;    /* polls backends waiting for their MAC */
	int mac_poll_ms;	    /* its next interval */
	unsigned int macs_waiting;  /* backends waiting at the last look */
	struct xlb_announcer *announcer; /* VIP routes for the routing daemon */
};

/* How often xlbd recounts lc backends' active flows from the connection
 * tables (xlb_dp__lc_recount()).
 */
#define XLB_LC_RECOUNT_MS 10000
/* How often xlbd checks that its program is still attached to each
 * interface: something else can detach or replace it (ip link set dev X
 * xdp off, another XDP loader) or remove the interface, and VIP traffic
 * then goes unbalanced. xlbd says so (log, xlb_interface_attached, xlbctl
 * status) but does not attach again by itself: that may be an operator's
 * doing. Restarting xlbd attaches it again.
 */
#define XLB_ATTACH_CHECK_MS 1000
/* The announced routes are checked on the same tick, and at once after
 * every change of what is in service (announce.h).
 */
/* Backends whose MAC is not known yet wait out of the table while the
 * kernel runs ARP/ND (xlb_dp__macs_poll()); the loop asks again after
 * XLB_MAC_POLL_MIN_MS, backing off to XLB_MAC_POLL_MAX_MS while none
 * answers. Nothing on the loop ever waits for a neighbour.
 */
#define XLB_MAC_POLL_MIN_MS 50
#define XLB_MAC_POLL_MAX_MS 1000

/* POST /v1/announce/{drain,undrain}: drained is persisted like any change.
 * -EINVAL with a message when announcing is off.
 */
int xlb_daemon__set_drained(struct xlb_daemon *d, bool drained, char *err, size_t errlen);

/*
 * Loads <state_dir>/state.yaml if present (it is the truth), else the config
 * file; opens and attaches the data path on each interface, adopting pinned
 * maps, and brings them in line. 0 or -errno with a message.
 */
int xlb_daemon__open(const struct xlb_daemon_opts *opts, struct xlb_daemon **out, char *err,
		     size_t errlen);
/* Closes the handles; programs stay attached and maps pinned. */
void xlb_daemon__close(struct xlb_daemon *d);

/*
 * Makes desired the running state, all or nothing. desired must be
 * validated; it stays the caller's. Interfaces and the metrics address are
 * fixed at start: desired's are replaced by the running ones. With dry_run
 * only the plan is computed. plan may be NULL.
 */
int xlb_daemon__apply(struct xlb_daemon *d, const struct xlb_config *desired, bool dry_run,
		      struct xlb_plan *plan, char *err, size_t errlen);

/* SIGHUP: re-read --config and apply it. */
int xlb_daemon__reload(struct xlb_daemon *d, char *err, size_t errlen);

#endif /* XLB_DAEMON_H */
