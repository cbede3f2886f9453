/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * MAC addresses from rtnetlink: RTM_GETROUTE says which interface and next
 * hop the kernel would use, RTM_GETNEIGH reads the next hop's entry, and
 * RTM_NEWNEIGH with NTF_USE makes the kernel start ARP/ND for it (the same
 * as a packet waiting for resolution would). The kernel sends its own
 * solicitations; xlb only polls the entry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"
#include "userspace/lib/neigh.h"
#include "userspace/lib/nl.h"

/* The kernel's NUD_VALID (include/net/neighbour.h), not in the uapi. */
#define NEIGH_NUD_VALID \
	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)

/* Poll the entry every 1, 2, 4, ... ms, at most every 50 ms. */
#define NEIGH_POLL_MIN_MS 1
#define NEIGH_POLL_MAX_MS 50

#define NEIGH_LLADDR_MAX 32 /* MAX_ADDR_LEN */

struct route {
	bool found;
	__u8 type; /* RTN_* */
	int oif;
	int gw_family; /* AF_UNSPEC when the destination is on-link */
	__u8 gw[16];
};

struct neigh {
	bool found;
	__u16 state; /* NUD_* */
	int lladdr_len;
	__u8 lladdr[NEIGH_LLADDR_MAX];
};

struct link {
	bool found;
	int addr_len;
	__u8 addr[NEIGH_LLADDR_MAX];
};

/* xlb_err() for the callers here, which return their own code. */
#define set_err(err, errlen, ...) ((void)xlb_err(err, errlen, 0, __VA_ARGS__))

static const char *addr_str(int family, const void *addr, char buf[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(family, addr, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

static const char *if_name(int ifindex, char buf[IF_NAMESIZE])
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

static const char *nud_str(bool found, __u16 state)
{
	if (!found)
		return "no entry";
	switch (state) {
	case NUD_NONE:
		return "NONE";
	case NUD_INCOMPLETE:
		return "INCOMPLETE";
	case NUD_FAILED:
		return "FAILED";
	default:
		return "?";
	}
}

static const char *rtn_str(__u8 type)
{
	switch (type) {
	case RTN_LOCAL:
		return "local";
	case RTN_BROADCAST:
		return "broadcast";
	case RTN_MULTICAST:
		return "multicast";
	case RTN_BLACKHOLE:
		return "blackhole";
	case RTN_UNREACHABLE:
		return "unreachable";
	case RTN_PROHIBIT:
		return "prohibit";
	default:
		return "non-unicast";
	}
}

/*
 * The kernel answers RTM_GETROUTE for a destination it cannot send to with
 * the route's error; xlb reports all of them as -ENETUNREACH (-EHOSTUNREACH
 * means "behind a gateway" here). NULL for other errors.
 */
static const char *route_err_str(int err)
{
	switch (err) {
	case -ENETUNREACH:
		return "no matching route";
	case -EHOSTUNREACH:
		return "unreachable route";
	case -EACCES:
		return "prohibit route";
	case -EINVAL:
		return "blackhole route";
	default:
		return NULL;
	}
}

static void sleep_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = {};
	struct xlb_nl_attrs a = { tb, RTA_MAX };
	struct route *rt = data;
	const struct rtmsg *rtm;
	const struct rtvia *via;
	int len;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	rtm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*rtm), xlb_nl__attr_cb, &a);

	rt->found = true;
	rt->type = rtm->rtm_type;
	if (tb[RTA_OIF] && mnl_attr_get_payload_len(tb[RTA_OIF]) == 4)
		rt->oif = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY]) {
		len = mnl_attr_get_payload_len(tb[RTA_GATEWAY]);
		if (len == 4 || len == 16) {
			rt->gw_family = len == 4 ? AF_INET : AF_INET6;
			memcpy(rt->gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), len);
		}
	} else if (tb[RTA_VIA]) {
		/* An IPv4 route with an IPv6 next hop (RFC 5549). */
		len = mnl_attr_get_payload_len(tb[RTA_VIA]);
		via = mnl_attr_get_payload(tb[RTA_VIA]);
		if ((size_t)len >= sizeof(*via) &&
		    (via->rtvia_family == AF_INET || via->rtvia_family == AF_INET6) &&
		    (size_t)len >= sizeof(*via) + addr_len(via->rtvia_family)) {
			rt->gw_family = via->rtvia_family;
			memcpy(rt->gw, via->rtvia_addr, addr_len(via->rtvia_family));
		}
	}
	return MNL_CB_OK;
}

static int route_get(struct xlb_nl *nl, int ifindex, int family, const void *addr, struct route *rt)
{
	_Alignas(struct nlmsghdr) char req[XLB_NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = addr_len(family) * 8;
	mnl_attr_put(nlh, RTA_DST, addr_len(family), addr);
	/*
	 * No RTA_OIF otherwise: given one, the kernel assumes an address it
	 * has no route for is on-link there, which would hide the mistake.
	 * Link-local addresses mean nothing without the interface.
	 */
	if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)addr))
		mnl_attr_put_u32(nlh, RTA_OIF, ifindex);

	memset(rt, 0, sizeof(*rt));
	ret = xlb_nl__talk(nl, nlh, route_cb, rt);
	if (!ret && !rt->found)
		ret = -EPROTO;
	return ret;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NDA_MAX + 1] = {};
	struct xlb_nl_attrs a = { tb, NDA_MAX };
	struct neigh *n = data;
	const struct ndmsg *ndm;
	int len;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	ndm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*ndm), xlb_nl__attr_cb, &a);

	n->found = true;
	n->state = ndm->ndm_state;
	n->lladdr_len = 0;
	if (tb[NDA_LLADDR]) {
		len = mnl_attr_get_payload_len(tb[NDA_LLADDR]);
		if (len <= NEIGH_LLADDR_MAX) {
			n->lladdr_len = len;
			memcpy(n->lladdr, mnl_attr_get_payload(tb[NDA_LLADDR]), len);
		}
	}
	return MNL_CB_OK;
}

/* Read the entry for addr on ifindex; n->found is false when there is none. */
static int neigh_get(struct xlb_nl *nl, int ifindex, int family, const void *addr, struct neigh *n)
{
	_Alignas(struct nlmsghdr) char req[XLB_NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int ret;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, addr_len(family), addr);

	memset(n, 0, sizeof(*n));
	ret = xlb_nl__talk(nl, nlh, neigh_cb, n);
	return ret == -ENOENT ? 0 : ret;
}

/*
 * Make the kernel (re)start resolution of addr on ifindex, as a packet
 * waiting for it would: NTF_USE runs neigh_event_send() on the entry, and
 * NLM_F_CREATE creates the entry first (state NONE) when it is missing.
 */
static int neigh_kick(struct xlb_nl *nl, int ifindex, int family, const void *addr)
{
	_Alignas(struct nlmsghdr) char req[XLB_NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_NONE;
	ndm->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, addr_len(family), addr);

	return xlb_nl__talk(nl, nlh, NULL, NULL);
}

/*
 * Wait until the entry is valid, starting resolution whenever it is missing
 * or has failed (so the kernel keeps trying until our deadline, not just
 * for its own ucast_solicit probes). -ETIMEDOUT leaves the last seen state
 * in n.
 */
static int neigh_wait(struct xlb_nl *nl, int ifindex, int family, const void *addr, int timeout_ms,
		      struct neigh *n)
{
	long long deadline = (long long)xlb_clock__mono_ms() + timeout_ms, left;
	long long interval = NEIGH_POLL_MIN_MS;
	int ret;

	for (;;) {
		ret = neigh_get(nl, ifindex, family, addr, n);
		if (ret)
			return ret;
		if (n->found && (n->state & NEIGH_NUD_VALID)) {
			/*
			 * Forwarded packets never confirm a STALE entry (XDP
			 * bypasses the stack): let the kernel re-probe it so
			 * the next lookup sees a verified or failed one.
			 */
			if (n->state & NUD_STALE)
				neigh_kick(nl, ifindex, family, addr);
			return 0;
		}
		if (!n->found || !(n->state & NUD_INCOMPLETE)) {
			ret = neigh_kick(nl, ifindex, family, addr);
			if (ret)
				return ret;
		}
		left = deadline - (long long)xlb_clock__mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		sleep_ms(interval < left ? interval : left);
		interval = interval * 2 < NEIGH_POLL_MAX_MS ? interval * 2 : NEIGH_POLL_MAX_MS;
	}
}

int xlb_neigh__resolve(int ifindex, int family, const void *addr, bool on_link_only, int timeout_ms,
		       __u8 mac[6], char *err, size_t errlen)
{
	char dst_str[INET6_ADDRSTRLEN], gw_str[INET6_ADDRSTRLEN];
	char ifname[IF_NAMESIZE], oifname[IF_NAMESIZE];
	int hop_family = family;
	const void *hop = addr;
	struct route rt;
	struct neigh n;
	struct xlb_nl nl;
	int ret;

	set_err(err, errlen, "%s", "");
	if (ifindex <= 0 || (family != AF_INET && family != AF_INET6) || !addr || !mac ||
	    timeout_ms < 0) {
		set_err(err, errlen, "invalid argument");
		return -EINVAL;
	}
	addr_str(family, addr, dst_str);
	if_name(ifindex, ifname);

	ret = xlb_nl__open(&nl);
	if (ret) {
		set_err(err, errlen, "rtnetlink socket: %s", strerror(-ret));
		return ret;
	}

	ret = route_get(&nl, ifindex, family, addr, &rt);
	if (ret) {
		if (route_err_str(ret)) {
			set_err(err, errlen, "no route to %s: %s", dst_str, route_err_str(ret));
			ret = -ENETUNREACH;
		} else {
			set_err(err, errlen, "route lookup for %s: %s", dst_str, strerror(-ret));
		}
		goto out;
	}
	if (rt.type == RTN_LOCAL) {
		ret = -ENETUNREACH;
		set_err(err, errlen, "%s is a local address", dst_str);
		goto out;
	}
	if (rt.type != RTN_UNICAST) {
		ret = -ENETUNREACH;
		set_err(err, errlen, "%s has a %s route", dst_str, rtn_str(rt.type));
		goto out;
	}
	if (rt.oif != ifindex) {
		ret = -ENETUNREACH;
		set_err(err, errlen, "%s is routed via %s, not %s", dst_str,
			if_name(rt.oif, oifname), ifname);
		goto out;
	}
	if (rt.gw_family != AF_UNSPEC) {
		addr_str(rt.gw_family, rt.gw, gw_str);
		if (on_link_only) {
			ret = -EHOSTUNREACH;
			set_err(err, errlen, "%s is not on-link on %s (route via %s)", dst_str,
				ifname, gw_str);
			goto out;
		}
		hop_family = rt.gw_family;
		hop = rt.gw;
	}

	ret = neigh_wait(&nl, ifindex, hop_family, hop, timeout_ms, &n);
	if (ret == -ETIMEDOUT && !timeout_ms) { /* asked, not waited for */
		if (hop != addr)
			set_err(err, errlen,
				"gateway %s (next hop to %s) has not answered ARP/ND on %s yet (%s)",
				gw_str, dst_str, ifname, nud_str(n.found, n.state));
		else
			set_err(err, errlen, "%s has not answered ARP/ND on %s yet (%s)", dst_str,
				ifname, nud_str(n.found, n.state));
		goto out;
	}
	if (ret == -ETIMEDOUT) {
		if (hop != addr)
			set_err(err, errlen,
				"gateway %s (next hop to %s) did not answer ARP/ND on %s within %d ms (%s)",
				gw_str, dst_str, ifname, timeout_ms, nud_str(n.found, n.state));
		else
			set_err(err, errlen, "%s did not answer ARP/ND on %s within %d ms (%s)",
				dst_str, ifname, timeout_ms, nud_str(n.found, n.state));
		goto out;
	}
	if (ret) {
		set_err(err, errlen, "neighbour %s on %s: %s", hop != addr ? gw_str : dst_str,
			ifname, strerror(-ret));
		goto out;
	}
	if (n.lladdr_len != ETH_ALEN) {
		ret = -EOPNOTSUPP;
		set_err(err, errlen, "neighbour %s on %s has no Ethernet address (%d bytes)",
			hop != addr ? gw_str : dst_str, ifname, n.lladdr_len);
		goto out;
	}
	memcpy(mac, n.lladdr, ETH_ALEN);
out:
	xlb_nl__close(&nl);
	return ret;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	struct xlb_nl_attrs a = { tb, IFLA_MAX };
	struct link *l = data;
	const struct ifinfomsg *ifi;
	int len;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	ifi = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*ifi), xlb_nl__attr_cb, &a);

	l->found = true;
	if (tb[IFLA_ADDRESS]) {
		len = mnl_attr_get_payload_len(tb[IFLA_ADDRESS]);
		if (len <= NEIGH_LLADDR_MAX) {
			l->addr_len = len;
			memcpy(l->addr, mnl_attr_get_payload(tb[IFLA_ADDRESS]), len);
		}
	}
	return MNL_CB_OK;
}

int xlb_neigh__if_mac(int ifindex, __u8 mac[6], char *err, size_t errlen)
{
	_Alignas(struct nlmsghdr) char req[XLB_NL_REQ_SIZE];
	char ifname[IF_NAMESIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct link l = {};
	struct xlb_nl nl;
	int ret;

	set_err(err, errlen, "%s", "");
	if (ifindex <= 0 || !mac) {
		set_err(err, errlen, "invalid argument");
		return -EINVAL;
	}
	ret = xlb_nl__open(&nl);
	if (ret) {
		set_err(err, errlen, "rtnetlink socket: %s", strerror(-ret));
		return ret;
	}

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ret = xlb_nl__talk(&nl, nlh, link_cb, &l);
	if (!ret && !l.found)
		ret = -EPROTO;
	if (ret) {
		set_err(err, errlen, "interface %d: %s", ifindex, strerror(-ret));
		goto out;
	}
	if (l.addr_len != ETH_ALEN) {
		ret = -EOPNOTSUPP;
		set_err(err, errlen, "%s has no Ethernet address (%d bytes)",
			if_name(ifindex, ifname), l.addr_len);
		goto out;
	}
	memcpy(mac, l.addr, ETH_ALEN);
out:
	xlb_nl__close(&nl);
	return ret;
}
