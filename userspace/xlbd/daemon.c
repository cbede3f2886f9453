/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <linux/capability.h>

#include "userspace/xlbd/announce.h"
#include "userspace/lib/config_edit.h"
#include "userspace/xlbd/counters.h"
#include "userspace/xlbd/daemon.h"
#include "userspace/lib/log.h"
#include "userspace/lib/privs.h"
#include "userspace/xlbd/reconcile.h"

/* Unique over every daemon of the process, so a cache keyed on it cannot
 * mistake one daemon's config for another's.
 */
static unsigned long next_cfg_gen(void)
{
	static unsigned long gen;

	return ++gen;
}

static int open_interfaces(struct xlb_daemon *d, const struct xlb_daemon_opts *opts, char *err,
			   size_t errlen)
{
	for (unsigned int i = 0; i < d->cfg->n_interfaces; i++) {
		const struct xlb_config_interface *ci = &d->cfg->interfaces[i];
		struct xlb_daemon_if *di = &d->ifs[i];
		struct xlb_dp_opts o = {
			.ifname = ci->name,
			.generic = ci->mode == XLB_CONFIG_XDP_GENERIC,
			.conntrack_size = opts->conntrack_size,
			.mtu = ci->mtu,
		};
		char pin[PATH_MAX], msg[512];
		int ret;

		/* Outer IPIP sources: a per-flow value under fixed prefixes. */
		o.ipip_src4 = htonl(0xc6130000);	   /* 198.19.0.0/16 */
		o.ipip_src6[0] = htonl(0x20010002);  /* 2001:2:0:ffff::/96 */
		o.ipip_src6[1] = htonl(0x0000ffff);
		if (opts->pin_root) {
			snprintf(pin, sizeof(pin), "%s/%s", opts->pin_root, ci->name);
			o.pin_dir = pin;
		}
		ret = xlb_dp__open(&o, &di->dp, msg, sizeof(msg));
		if (ret)
			return xlb_err(err, errlen, ret, "interface %s: %s", ci->name, msg);
		snprintf(di->name, sizeof(di->name), "%s", ci->name);
		di->adopted = xlb_dp__adopted(di->dp);
		di->attached = true;
		d->n_ifs++;
		pr_info("interface %s: %s", ci->name,
			di->adopted ? "adopted pinned state" : "fresh data path");
	}
	return 0;
}

static void macs_watch(struct xlb_daemon *d, bool again);

/* Brings interfaces 0..n-1 to what the supervisor makes of cfg. */
static int publish_config(struct xlb_daemon *d, const struct xlb_config *cfg, unsigned int n,
			  char *err, size_t errlen)
{
	struct xlb_config *eff;
	char msg[1024];
	int ret;

	ret = xlb_supervisor__effective(d->sup, cfg, &eff);
	if (ret)
		return xlb_err(err, errlen, ret, "out of memory");
	for (unsigned int i = 0; i < n && !ret; i++) {
		ret = xlb_reconcile__apply(d->ifs[i].dp, eff, msg, sizeof(msg));
		if (ret)
			xlb_err(err, errlen, ret, "interface %s: %s", d->ifs[i].name, msg);
	}
	xlb_config__free(eff);
	macs_watch(d, false);
	return ret;
}

/* After any change, and every second: the routes follow. */
static void announce_sync(struct xlb_daemon *d)
{
	if (d->announcer)
		xlb_announce__tick(d->announcer, d);
}

/* The supervisor's call: health changed what is in service. */
static void on_health_change(void *arg)
{
	struct xlb_daemon *d = arg;
	char err[1024];
	int ret = publish_config(d, d->cfg, d->n_ifs, err, sizeof(err));

	if (ret)
		pr_err("publishing health changes failed, retrying: %s", err);
	xlb_supervisor__mark_published(d->sup, !ret);
	announce_sync(d);
}

/* The supervisor's call: counters for the passive health signal. */
static const struct xlb_config *read_counters(void *arg, struct xlb_counters *out)
{
	struct xlb_daemon *d = arg;

	return xlb_counters__read(d, out) ? NULL : d->cfg;
}

/* At start: backends the adopted data path serves stay in service. */
static bool was_serving(void *arg, const struct xlb_config_vip *v,
			const struct xlb_config_backend *b)
{
	struct xlb_daemon *d = arg;

	return d->n_ifs && d->ifs[0].adopted &&
	       xlb_dp__backend_id(d->ifs[0].dp, &v->addr, b->family, b->addr) >= 0;
}

/* The lc timer: the data path's active-flow counts miss flows the LRU evicted
 * or that never saw a client FIN; recounting the tables ages them out.
 */
static void on_lc_recount(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_daemon *d = arg;
	char msg[512];

	(void)fd;
	(void)what;
	for (unsigned int i = 0; i < d->n_ifs; i++)
		if (xlb_dp__lc_recount(d->ifs[i].dp, msg, sizeof(msg)))
			pr_warn("interface %s: recounting lc flows: %s", d->ifs[i].name, msg);
}

/* The attach timer: logs each change of an interface's attach state, and
 * follows a change of its MAC.
 */
static void on_attach_check(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_daemon *d = arg;

	(void)fd;
	(void)what;
	for (unsigned int i = 0; i < d->n_ifs; i++) {
		struct xlb_daemon_if *di = &d->ifs[i];
		int ret = xlb_dp__attached(di->dp);
		char msg[256];

		if (ret < 0) {
			if (ret != di->attach_query_err)
				pr_warn("interface %s: cannot query its XDP program: %s", di->name,
					strerror(-ret));
			di->attach_query_err = ret;
			continue;
		}
		di->attach_query_err = 0;
		if (ret && xlb_dp__follow_if_mac(di->dp, msg, sizeof(msg)))
			pr_warn("interface %s: reading its MAC: %s", di->name, msg);
		if (ret == di->attached)
			continue;
		di->attached = ret;
		if (ret)
			pr_info("interface %s: xlb's XDP program %u is attached again", di->name,
				xlb_dp__prog_id(di->dp));
		else
			pr_err("interface %s: xlb's XDP program %u is no longer attached "
			       "(detached, replaced, or the interface removed): VIP traffic "
			       "is not balanced; restart xlbd to attach it",
			       di->name, xlb_dp__prog_id(di->dp));
	}
	announce_sync(d);
}

/*
 * Arms the MAC poll while a backend waits for its MAC: soon after a
 * publish (again false) that added waiting backends, later and later
 * while they keep waiting (again true).
 */
static void macs_watch(struct xlb_daemon *d, bool again)
{
	unsigned int waiting = 0;
	struct timeval tv;
	bool grew;

	if (!d->mac_timer)
		return;
	for (unsigned int i = 0; i < d->n_ifs; i++)
		waiting += xlb_dp__macs_waiting(d->ifs[i].dp);
	grew = waiting > d->macs_waiting;
	d->macs_waiting = waiting;
	if (!waiting || (!again && !grew && evtimer_pending(d->mac_timer, NULL)))
		return;
	if (!again) {
		d->mac_poll_ms = XLB_MAC_POLL_MIN_MS;
		evtimer_del(d->mac_timer);
	} else if (d->mac_poll_ms < XLB_MAC_POLL_MAX_MS) {
		d->mac_poll_ms = d->mac_poll_ms * 2 < XLB_MAC_POLL_MAX_MS ? d->mac_poll_ms * 2
									   : XLB_MAC_POLL_MAX_MS;
	}
	tv.tv_sec = d->mac_poll_ms / 1000;
	tv.tv_usec = d->mac_poll_ms % 1000 * 1000;
	evtimer_add(d->mac_timer, &tv);
}

/* The MAC poll: asks the kernel again, without waiting, for each backend
 * that waits for its MAC; those that have it enter their VIP's table.
 */
static void on_macs_poll(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_daemon *d = arg;
	char msg[512];

	(void)fd;
	(void)what;
	for (unsigned int i = 0; i < d->n_ifs; i++)
		if (xlb_dp__macs_poll(d->ifs[i].dp, msg, sizeof(msg)) < 0)
			pr_err("interface %s: %s", d->ifs[i].name, msg);
	macs_watch(d, true);
	announce_sync(d);
}

static struct event *timer_start(struct event_base *base, int ms, event_callback_fn fn, void *arg)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
	struct event *ev = event_new(base, -1, EV_PERSIST, fn, arg);

	if (ev && event_add(ev, &tv)) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

/*
 * A kill between creating the state file's temporary copy and renaming it
 * leaves ".state.yaml.XXXXXX" behind (xlb_config__save_file); nothing reads
 * it, so remove it rather than let them pile up.
 */
static void remove_stale_temps(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *e;

	if (!dh)
		return;
	while ((e = readdir(dh))) {
		if (strncmp(e->d_name, ".state.yaml.", 12) || strlen(e->d_name) != 18)
			continue;
		if (unlinkat(dirfd(dh), e->d_name, 0))
			pr_warn("state directory %s: cannot remove %s: %s", dir, e->d_name,
				strerror(errno));
		else
			pr_info("state directory %s: removed %s, left by an interrupted write", dir,
				e->d_name);
	}
	closedir(dh);
}

/* Writing routes needs CAP_NET_ADMIN, which xlbd keeps (privs.h). */
static int announce_allowed(const struct xlb_config *cfg, char *err, size_t errlen)
{
	if (cfg->announce.table && !xlb_privs__has(CAP_NET_ADMIN))
		return xlb_err(err, errlen, -EPERM,
			       "announce.table %u: xlbd cannot write routes without "
			       "CAP_NET_ADMIN",
			       cfg->announce.table);
	return 0;
}

/*
 * Takes over the table as it is: a restart after kill -9 finds its routes
 * in place and leaves those that are still right; routes of VIPs that are
 * gone are removed.
 */
static int announce_start(struct xlb_daemon *d, char *err, size_t errlen)
{
	char msg[512];
	int ret = xlb_announce__new(&d->announcer);

	if (ret)
		return xlb_err(err, errlen, ret, "out of memory");
	/* announce_allowed() was checked before attaching */
	ret = xlb_announce__sync(d->announcer, d, msg, sizeof(msg));
	if (ret)
		return xlb_err(err, errlen, ret, "announce: %s", msg);
	return 0;
}

int xlb_daemon__open(const struct xlb_daemon_opts *opts, struct xlb_daemon **out, char *err,
		     size_t errlen)
{
	struct xlb_daemon *d = calloc(1, sizeof(*d));
	const char *source;
	char msg[1024];
	int ret;

	if (!d)
		return xlb_err(err, errlen, -ENOMEM, "out of memory");
	d->started = time(NULL);
	snprintf(d->config_path, sizeof(d->config_path), "%s", opts->config_path);
	snprintf(d->state_path, sizeof(d->state_path), "%s/state.yaml", opts->state_dir);
	if (mkdir(opts->state_dir, 0700) && errno != EEXIST) {
		ret = xlb_err(err, errlen, -errno, "state directory %s: %s", opts->state_dir,
			      strerror(errno));
		goto fail;
	}
	remove_stale_temps(opts->state_dir);
	/* An existing state file is the truth; the config file seeds it. */
	source = access(d->state_path, F_OK) == 0 ? d->state_path : d->config_path;
	ret = xlb_config__load_file(source, &d->cfg, msg, sizeof(msg));
	if (ret) {
		xlb_err(err, errlen, ret, "%s", msg);
		goto fail;
	}
	d->cfg_gen = next_cfg_gen();
	pr_info("loaded %s (%u VIPs)", source, d->cfg->n_vips);
	if (opts->metrics) {
		struct xlb_config *edited;

		ret = xlb_config__dup(d->cfg, &edited);
		if (ret)
			goto fail;
		free(edited->metrics.listen);
		edited->metrics.listen = strdup(opts->metrics);
		ret = xlb_config__validate(edited, msg, sizeof(msg));
		if (ret) {
			xlb_config__free(edited);
			xlb_err(err, errlen, ret, "--metrics: %s", msg);
			goto fail;
		}
		xlb_config__free(d->cfg);
		d->cfg = edited;
		d->cfg_gen = next_cfg_gen();
	}
	/* before attaching, which needs CAP_NET_ADMIN too: the message names
	 * what the operator asked for
	 */
	ret = xlb_reconcile__check(d->cfg, err, errlen) ?: announce_allowed(d->cfg, err, errlen);
	if (ret)
		goto fail;
	ret = open_interfaces(d, opts, err, errlen);
	if (ret)
		goto fail;
	if (opts->base) {
		d->mac_timer = evtimer_new(opts->base, on_macs_poll, d);
		if (!d->mac_timer) {
			ret = xlb_err(err, errlen, -ENOMEM, "starting the daemon's timers");
			goto fail;
		}
	}
	ret = xlb_supervisor__new(opts->base, on_health_change, read_counters, d, &d->sup);
	if (ret) {
		xlb_err(err, errlen, ret, "starting health checks: %s", strerror(-ret));
		goto fail;
	}
	ret = xlb_supervisor__sync(d->sup, d->cfg, was_serving, d) ?:
	      publish_config(d, d->cfg, d->n_ifs, err, errlen);
	if (ret)
		goto fail;
	xlb_supervisor__mark_published(d->sup, true);
	ret = announce_start(d, err, errlen);
	if (ret)
		goto fail;
	if (opts->base) {
		d->lc_timer = timer_start(opts->base, XLB_LC_RECOUNT_MS, on_lc_recount, d);
		d->attach_timer = timer_start(opts->base, XLB_ATTACH_CHECK_MS, on_attach_check, d);
		if (!d->lc_timer || !d->attach_timer) {
			ret = xlb_err(err, errlen, -ENOMEM, "starting the daemon's timers");
			goto fail;
		}
	}
	ret = xlb_config__save_file(d->cfg, d->state_path, msg, sizeof(msg));
	if (ret) {
		xlb_err(err, errlen, ret, "%s", msg);
		goto fail;
	}
	*out = d;
	return 0;
fail:
	xlb_daemon__close(d);
	return ret;
}

void xlb_daemon__close(struct xlb_daemon *d)
{
	if (!d)
		return;
	if (d->lc_timer)
		event_free(d->lc_timer);
	if (d->attach_timer)
		event_free(d->attach_timer);
	if (d->mac_timer)
		event_free(d->mac_timer);
	xlb_announce__free(d->announcer); /* the routes stay: the data path forwards */
	xlb_supervisor__free(d->sup);
	for (unsigned int i = 0; i < d->n_ifs; i++)
		xlb_dp__close(d->ifs[i].dp);
	for (unsigned int i = 0; i < XLB_CONFIG_MAX_INTERFACES; i++)
		xlb_counters__map_free(d->ifs[i].counter_map);
	xlb_config__free(d->cfg);
	free(d);
}

/* Puts interfaces 0..n-1 back to the running config after a failure. */
static void roll_back(struct xlb_daemon *d, unsigned int n)
{
	char msg[1024];

	if (publish_config(d, d->cfg, n, msg, sizeof(msg)))
		pr_err("rolling back failed: %s", msg);
}

int xlb_daemon__apply(struct xlb_daemon *d, const struct xlb_config *desired, bool dry_run,
		      struct xlb_plan *plan, char *err, size_t errlen)
{
	struct xlb_config *next = NULL;
	struct xlb_config_save save;
	struct xlb_plan local;
	char msg[1024];
	int ret;

	if (plan)
		memset(plan, 0, sizeof(*plan)); /* freed on every error path below */
	ret = xlb_config__dup(desired, &next);
	if (ret)
		return xlb_err(err, errlen, ret, "out of memory");
	ret = xlb_config__copy_runtime(next, d->cfg);
	if (ret) {
		xlb_err(err, errlen, ret, "out of memory");
		goto out;
	}
	ret = xlb_reconcile__check(next, err, errlen) ?: announce_allowed(next, err, errlen) ?:
	      xlb_supervisor__check_config(next, err, errlen);
	if (ret)
		goto out;
	ret = xlb_plan__build(d->cfg, next, plan ? plan : &local);
	if (ret) {
		xlb_err(err, errlen, ret, "out of memory");
		goto out;
	}
	if (!plan)
		xlb_plan__free(&local);
	if (dry_run)
		goto out;

	/*
	 * Acknowledged only once on disk. The new state file is written and
	 * synced before the data path is touched, so a full or read-only disk
	 * refuses the change without it ever being live (a refused backend
	 * removal would otherwise re-choose that backend's flows); only the
	 * rename comes after, and if that fails, the change is undone.
	 */
	ret = xlb_config__save_prepare(next, d->state_path, &save, msg, sizeof(msg));
	if (ret) {
		xlb_err(err, errlen, ret, "state not saved, nothing changed: %s", msg);
		goto out;
	}
	ret = publish_config(d, next, d->n_ifs, err, errlen);
	if (ret) {
		xlb_config__save_abort(&save);
		roll_back(d, d->n_ifs);
		goto out;
	}
	ret = xlb_config__save_commit(&save, msg, sizeof(msg));
	if (ret && save.renamed) {
		/* The new file is in place, only its directory entry may not be durable. */
		pr_warn("state saved, but %s", msg);
		ret = 0;
	} else if (ret) {
		xlb_err(err, errlen, ret, "state not saved, change undone: %s", msg);
		roll_back(d, d->n_ifs);
		goto out;
	}
	xlb_config__free(d->cfg);
	d->cfg = next;
	d->cfg_gen = next_cfg_gen();
	next = NULL;
	if (xlb_supervisor__sync(d->sup, d->cfg, NULL, NULL))
		pr_err("health checks: out of memory following the change");
	xlb_supervisor__mark_published(d->sup, true);
	announce_sync(d);
out:
	if (ret && plan)
		xlb_plan__free(plan);
	xlb_config__free(next);
	return ret;
}

int xlb_daemon__set_drained(struct xlb_daemon *d, bool drained, char *err, size_t errlen)
{
	struct xlb_config *next;
	int ret;

	if (!d->cfg->announce.table)
		return xlb_err(err, errlen, -EINVAL,
			       "announcing is off (announce.table is 0): there is nothing to %s",
			       drained ? "drain" : "undrain");
	ret = xlb_config__dup(d->cfg, &next);
	if (ret)
		return xlb_err(err, errlen, ret, "out of memory");
	next->announce.drained = drained;
	ret = xlb_daemon__apply(d, next, false, NULL, err, errlen);
	xlb_config__free(next);
	if (!ret)
		pr_info("announce: %s", drained ? "drained: every VIP withdrawn" : "undrained");
	return ret;
}

int xlb_daemon__reload(struct xlb_daemon *d, char *err, size_t errlen)
{
	struct xlb_config *cfg;
	char msg[1024];
	int ret;

	ret = xlb_config__load_file(d->config_path, &cfg, msg, sizeof(msg));
	if (ret)
		return xlb_err(err, errlen, ret, "%s", msg);
	xlb_config__keep_drained(cfg, d->cfg);
	ret = xlb_daemon__apply(d, cfg, false, NULL, err, errlen);
	xlb_config__free(cfg);
	return ret;
}
