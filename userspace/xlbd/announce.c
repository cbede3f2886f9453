/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "userspace/xlbd/announce.h"
#include "userspace/xlbd/daemon.h"
#include "userspace/lib/log.h"
#include "userspace/xlbd/route_table.h"

/* One VIP address (every VIP on it, whatever port or protocol). */
struct addr_state {
	__u8 family; /* enum xlb_family */
	__be32 addr[4];
	bool ready;	/* should be announced */
	bool announced; /* the route is in the table */
	int oif;
	char ifname[IF_NAMESIZE];
	char why[256]; /* when not announced */
};

/* One VIP as the last sync saw it. */
struct vip_state {
	struct xlb_vip_addr addr;
	unsigned int up, total; /* backends healthy in the table / configured */
};

struct xlb_announcer {
	__u32 table; /* where xlb's routes are (0: none) */
	struct addr_state *addrs;
	size_t n_addrs;
	struct vip_state *vips;
	size_t n_vips;
	unsigned long warned_gen; /* cfg_gen whose per-host algorithms were warned about */
	char last_err[512];	  /* the last tick's error, logged once */
};

int xlb_announce__new(struct xlb_announcer **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void xlb_announce__free(struct xlb_announcer *a)
{
	if (!a)
		return;
	free(a->addrs);
	free(a->vips);
	free(a);
}

static int sys_family(__u8 family)
{
	return family == XLB_AF_INET ? AF_INET : AF_INET6;
}

static size_t addr_bytes(__u8 family)
{
	return family == XLB_AF_INET ? 4 : 16;
}

static bool same_addr(__u8 family, const __be32 *addr, int rfamily, const __u8 *raddr)
{
	return sys_family(family) == rfamily && !memcmp(addr, raddr, addr_bytes(family));
}

static struct addr_state *find_addr(struct addr_state *s, size_t n, __u8 family,
				    const __be32 *addr)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].family == family && !memcmp(s[i].addr, addr, addr_bytes(family)))
			return &s[i];
	return NULL;
}

/* Administratively up with a carrier. */
static bool if_running(const char *name)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	close(fd);
	return !ret && (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

/*
 * The interface the routes name: the first whose program is attached and
 * which is up. NULL, with the reason in why, when there is none.
 */
static struct xlb_daemon_if *pick_interface(struct xlb_daemon *d, char *why, size_t len)
{
	snprintf(why, len, "no interface");
	for (unsigned int i = 0; i < d->n_ifs; i++) {
		struct xlb_daemon_if *di = &d->ifs[i];

		if (!di->attached) {
			snprintf(why, len, "xlb's program is not attached to %s", di->name);
			continue;
		}
		if (!if_running(di->name)) {
			snprintf(why, len, "interface %s is down", di->name);
			continue;
		}
		if (xlb_dp__tables_unverified(di->dp)) {
			snprintf(why, len, "the data path's tables on %s are not yet verified",
				 di->name);
			continue;
		}
		return di;
	}
	return NULL;
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off >= len - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

/*
 * What should be announced: one state per VIP address of d's config, and
 * one per VIP. 0 or -ENOMEM.
 */
static int compute(struct xlb_daemon *d, struct addr_state **out_a, size_t *n_a,
		   struct vip_state **out_v)
{
	const struct xlb_config *cfg = d->cfg;
	const struct xlb_config_announce *an = &cfg->announce;
	struct addr_state *as = calloc(cfg->n_vips + 1, sizeof(*as));
	struct vip_state *vs = calloc(cfg->n_vips + 1, sizeof(*vs));
	struct xlb_daemon_if *di;
	char ifwhy[128];
	size_t n = 0;

	if (!as || !vs) {
		free(as);
		free(vs);
		return -ENOMEM;
	}
	di = pick_interface(d, ifwhy, sizeof(ifwhy));
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];
		struct addr_state *s = find_addr(as, n, v->addr.family, v->addr.addr);
		bool in_dp = di && xlb_dp__vip_id(di->dp, &v->addr) >= 0;

		vs[i].addr = v->addr;
		vs[i].total = v->n_backends;
		vs[i].up = in_dp ? xlb_supervisor__healthy_in_table(d->sup, v) : 0;
		if (!s) {
			s = &as[n++];
			s->family = v->addr.family;
			memcpy(s->addr, v->addr.addr, addr_bytes(v->addr.family));
		}
		if (vs[i].up >= an->min_healthy && in_dp) {
			s->ready = true;
			continue;
		}
		append(s->why, sizeof(s->why), "%s%s: %u of %u backends up, min_healthy %u",
		       s->why[0] ? "; " : "", v->vip, vs[i].up, vs[i].total, an->min_healthy);
	}
	for (size_t i = 0; i < n; i++) {
		struct addr_state *s = &as[i];

		if (!di || an->drained) {
			s->ready = false;
			snprintf(s->why, sizeof(s->why), "%s", an->drained ? "drained" : ifwhy);
		}
		if (s->ready) {
			s->why[0] = '\0';
			s->oif = (int)if_nametoindex(di->name);
			snprintf(s->ifname, sizeof(s->ifname), "%s", di->name);
			if (!s->oif) {
				s->ready = false;
				snprintf(s->why, sizeof(s->why), "interface %s is gone", di->name);
			}
		}
	}
	*out_a = as;
	*n_a = n;
	*out_v = vs;
	return 0;
}

static void to_route(const struct addr_state *s, struct xlb_route *r)
{
	memset(r, 0, sizeof(*r));
	r->family = sys_family(s->family);
	memcpy(r->addr, s->addr, addr_bytes(s->family));
	r->oif = s->oif;
}

/* Removes every route of xlb's from table. */
static int withdraw_all(__u32 table, char *err, size_t errlen)
{
	struct xlb_route *rs = NULL;
	size_t n = 0;
	int ret = xlb_route_table__list(table, &rs, &n, err, errlen);

	for (size_t i = 0; !ret && i < n; i++) {
		ret = xlb_route_table__del(table, &rs[i], err, errlen);
		if (ret == -ESRCH)
			ret = 0;
	}
	free(rs);
	return ret;
}

/* The routes of table made to match s[0..n-1]: marks each one announced or says why not. */
static int apply(__u32 table, struct addr_state *s, size_t n, char *err, size_t errlen)
{
	struct xlb_route *rs = NULL, r;
	size_t nr = 0;
	char msg[256];
	int ret = xlb_route_table__list(table, &rs, &nr, err, errlen);

	if (ret)
		return ret;
	for (size_t i = 0; i < nr; i++) {
		struct addr_state *want = NULL;

		for (size_t j = 0; j < n && !want; j++)
			if (s[j].ready && same_addr(s[j].family, s[j].addr, rs[i].family, rs[i].addr))
				want = &s[j];
		if (want && want->oif == rs[i].oif) {
			want->announced = true;
			continue;
		}
		if (want)
			continue; /* replaced below */
		ret = xlb_route_table__del(table, &rs[i], err, errlen);
		if (ret && ret != -ESRCH)
			goto out;
		ret = 0;
	}
	for (size_t j = 0; j < n; j++) {
		bool ours = false;

		if (!s[j].ready || s[j].announced)
			continue;
		for (size_t i = 0; i < nr && !ours; i++)
			ours = same_addr(s[j].family, s[j].addr, rs[i].family, rs[i].addr);
		to_route(&s[j], &r);
		ret = xlb_route_table__add(table, &r, ours, msg, sizeof(msg));
		if (ret == -EPERM) {
			snprintf(err, errlen, "%s", msg);
			goto out;
		}
		if (ret == -EEXIST)
			snprintf(s[j].why, sizeof(s[j].why),
				 "table %u already has a route for it that is not xlb's", table);
		else if (ret == -ENETDOWN)
			snprintf(s[j].why, sizeof(s[j].why), "interface %s is down", s[j].ifname);
		else if (ret)
			snprintf(s[j].why, sizeof(s[j].why), "%s", msg);
		s[j].announced = !ret;
		ret = 0;
	}
out:
	free(rs);
	return ret;
}

static void log_changes(const struct xlb_announcer *a, const struct addr_state *s, size_t n,
			__u32 table)
{
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		const struct addr_state *old =
		    find_addr(a->addrs, a->n_addrs, s[i].family, s[i].addr);

		if (old && old->announced == s[i].announced && !strcmp(old->why, s[i].why))
			continue;
		xlb_addr__format(s[i].family, s[i].addr, text, sizeof(text));
		if (s[i].announced)
			pr_info("announce: %s announced in table %u (via %s)", text, table,
				s[i].ifname);
		else if (old || s[i].why[0])
			pr_warn("announce: %s not announced: %s", text, s[i].why);
	}
	for (size_t i = 0; i < a->n_addrs; i++)
		if (a->addrs[i].announced && !find_addr((struct addr_state *)s, n,
							a->addrs[i].family, a->addrs[i].addr)) {
			xlb_addr__format(a->addrs[i].family, a->addrs[i].addr, text, sizeof(text));
			pr_info("announce: %s withdrawn: no VIP uses it any more", text);
		}
}

/* wrr, rr and lc choose by this host's own state, not by the flow alone. */
static void warn_per_host(struct xlb_announcer *a, const struct xlb_daemon *d)
{
	if (a->warned_gen == d->cfg_gen)
		return;
	a->warned_gen = d->cfg_gen;
	for (unsigned int i = 0; i < d->cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &d->cfg->vips[i];

		if (v->algorithm == XLB_CONFIG_ALGO_MAGLEV ||
		    v->algorithm == XLB_CONFIG_ALGO_SOURCE_HASH)
			continue;
		pr_warn("announce: VIP %s uses %s, which keeps per-host state: a connection "
			"that the routers move to another xlb host may reach another backend "
			"there and break (maglev and source-hash give the same answer on every "
			"host)",
			v->vip, xlb_config__algo_name(v->algorithm));
	}
}

int xlb_announce__sync(struct xlb_announcer *a, struct xlb_daemon *d, char *err, size_t errlen)
{
	__u32 table = d->cfg->announce.table;
	struct addr_state *s = NULL;
	struct vip_state *vs = NULL;
	size_t n = 0;
	int ret;

	if (a->table && a->table != table) {
		ret = withdraw_all(a->table, err, errlen);
		if (ret)
			return ret;
		pr_info("announce: withdrew every route from table %u", a->table);
		free(a->addrs);
		a->addrs = NULL;
		a->n_addrs = 0;
	}
	a->table = table;
	if (!table) {
		free(a->vips);
		a->vips = NULL;
		a->n_vips = 0;
		return 0;
	}
	warn_per_host(a, d);
	ret = compute(d, &s, &n, &vs);
	if (ret)
		return xlb_err(err, errlen, ret, "out of memory");
	ret = apply(table, s, n, err, errlen);
	if (ret) {
		free(s);
		free(vs);
		return ret;
	}
	log_changes(a, s, n, table);
	free(a->addrs);
	free(a->vips);
	a->addrs = s;
	a->n_addrs = n;
	a->vips = vs;
	a->n_vips = d->cfg->n_vips;
	return 0;
}

void xlb_announce__tick(struct xlb_announcer *a, struct xlb_daemon *d)
{
	char err[sizeof(a->last_err)];

	if (!xlb_announce__sync(a, d, err, sizeof(err))) {
		if (a->last_err[0])
			pr_info("announce: the routes of table %u are written again", a->table);
		a->last_err[0] = '\0';
		return;
	}
	if (strcmp(err, a->last_err))
		pr_err("announce: %s (retried every second)", err);
	snprintf(a->last_err, sizeof(a->last_err), "%s", err);
}

bool xlb_announce__vip_announced(const struct xlb_announcer *a, const struct xlb_config_vip *v)
{
	const struct addr_state *s;

	if (!a->table)
		return false;
	s = find_addr(a->addrs, a->n_addrs, v->addr.family, v->addr.addr);
	return s && s->announced;
}

static const struct vip_state *find_vip(const struct xlb_announcer *a,
					const struct xlb_vip_addr *addr)
{
	for (size_t i = 0; i < a->n_vips; i++)
		if (!memcmp(&a->vips[i].addr, addr, sizeof(*addr)))
			return &a->vips[i];
	return NULL;
}

json_t *xlb_announce__json(const struct xlb_announcer *a, const struct xlb_daemon *d)
{
	const struct xlb_config *cfg = d->cfg;
	json_t *addrs = json_array();
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; a->table && i < a->n_addrs; i++) {
		const struct addr_state *s = &a->addrs[i];
		json_t *vips = json_array(), *o;

		for (unsigned int j = 0; j < cfg->n_vips; j++) {
			const struct xlb_config_vip *v = &cfg->vips[j];
			const struct vip_state *vs = find_vip(a, &v->addr);
			bool per_host = v->algorithm != XLB_CONFIG_ALGO_MAGLEV &&
					v->algorithm != XLB_CONFIG_ALGO_SOURCE_HASH;

			if (v->addr.family != s->family ||
			    memcmp(v->addr.addr, s->addr, addr_bytes(s->family)))
				continue;
			o = json_pack("{s:s, s:s, s:i, s:i}", "vip", v->vip, "algorithm",
				      xlb_config__algo_name(v->algorithm), "backends_up",
				      vs ? (int)vs->up : 0, "backends", (int)v->n_backends);
			if (per_host)
				json_object_set_new(
				    o, "warning",
				    json_string("per-host state: a connection moved to another "
						"xlb host may reach another backend"));
			json_array_append_new(vips, o);
		}
		xlb_addr__format(s->family, s->addr, text, sizeof(text));
		o = json_pack("{s:s, s:b, s:o}", "address", text, "announced", s->announced,
			      "vips", vips);
		if (s->announced)
			json_object_set_new(o, "interface", json_string(s->ifname));
		else
			json_object_set_new(o, "reason", json_string(s->why));
		json_array_append_new(addrs, o);
	}
	return json_pack("{s:I, s:i, s:b, s:i, s:o}", "table", (json_int_t)cfg->announce.table,
			 "min_healthy", (int)cfg->announce.min_healthy, "drained",
			 cfg->announce.drained, "protocol", XLB_RTPROT, "addresses", addrs);
}
