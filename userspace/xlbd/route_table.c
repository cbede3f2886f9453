/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * RTM_GETROUTE dumps are filtered by the kernel (NETLINK_GET_STRICT_CHK,
 * Linux 4.20+) to the table and protocol asked for, so a host holding a
 * full BGP table in main still answers with a handful of routes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "userspace/lib/log.h"
#include "userspace/lib/nl.h"
#include "userspace/xlbd/route_table.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

struct dump {
	__u32 table;
	struct xlb_route *routes;
	size_t n, cap;
	int err;
};

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = {};
	struct xlb_nl_attrs a = { tb, RTA_MAX };
	struct dump *d = data;
	const struct rtmsg *rtm;
	struct xlb_route *r;
	__u32 table;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*rtm), xlb_nl__attr_cb, &a);
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	/* Older kernels ignore the filter: check again here. */
	if (table != d->table || rtm->rtm_protocol != XLB_RTPROT || !tb[RTA_DST] ||
	    rtm->rtm_dst_len != addr_len(rtm->rtm_family) * 8 ||
	    mnl_attr_get_payload_len(tb[RTA_DST]) != (unsigned int)addr_len(rtm->rtm_family))
		return MNL_CB_OK;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct xlb_route *grown = realloc(d->routes, cap * sizeof(*grown));

		if (!grown) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->routes = grown;
		d->cap = cap;
	}
	r = &d->routes[d->n++];
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	memcpy(r->addr, mnl_attr_get_payload(tb[RTA_DST]), addr_len(r->family));
	r->oif = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	return MNL_CB_OK;
}

static struct nlmsghdr *route_msg(char *buf, __u16 type, __u16 flags, int family, __u32 table,
				  __u8 scope)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = XLB_RTPROT;
	rtm->rtm_scope = scope;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nlh;
}

int xlb_route_table__list(__u32 table, struct xlb_route **out, size_t *n, char *err,
			  size_t errlen)
{
	_Alignas(struct nlmsghdr) char req[XLB_NL_REQ_SIZE];
	static const int families[] = { AF_INET, AF_INET6 };
	struct dump d = { .table = table };
	struct xlb_nl nl;
	int one = 1, ret;

	ret = xlb_nl__open(&nl);
	if (ret)
		return xlb_err(err, errlen, ret, "netlink: %s", strerror(-ret));
	/* Best effort: without it the kernel sends every route, filtered below. */
	setsockopt(mnl_socket_get_fd(nl.sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
		   sizeof(one));
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && !ret; i++) {
		struct nlmsghdr *nlh =
		    route_msg(req, RTM_GETROUTE, NLM_F_DUMP, families[i], table, RT_SCOPE_UNIVERSE);

		ret = xlb_nl__talk(&nl, nlh, route_cb, &d);
		if (ret && d.err)
			ret = d.err;
		else if (ret == -ENOENT) /* a table that holds nothing yet */
			ret = 0;
	}
	xlb_nl__close(&nl);
	if (ret) {
		free(d.routes);
		return xlb_err(err, errlen, ret, "listing routes of table %u: %s", table,
			       strerror(-ret));
	}
	*out = d.routes;
	*n = d.n;
	return 0;
}

static int change(__u16 type, __u16 flags, __u32 table, const struct xlb_route *r, char *err,
		  size_t errlen)
{
	_Alignas(struct nlmsghdr) char req[XLB_NL_REQ_SIZE];
	struct nlmsghdr *nlh = route_msg(req, type, flags, r->family, table, RT_SCOPE_LINK);
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	char a[INET6_ADDRSTRLEN] = "?";
	struct xlb_nl nl;
	int ret;

	rtm->rtm_dst_len = addr_len(r->family) * 8;
	mnl_attr_put(nlh, RTA_DST, addr_len(r->family), r->addr);
	if (type == RTM_NEWROUTE)
		mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
	ret = xlb_nl__open(&nl);
	if (!ret) {
		ret = xlb_nl__talk(&nl, nlh, NULL, NULL);
		xlb_nl__close(&nl);
	}
	if (ret) {
		inet_ntop(r->family, r->addr, a, sizeof(a));
		return xlb_err(err, errlen, ret, "%s route %s/%d in table %u: %s",
			       type == RTM_NEWROUTE ? "adding" : "deleting", a,
			       addr_len(r->family) * 8, table, strerror(-ret));
	}
	return 0;
}

int xlb_route_table__add(__u32 table, const struct xlb_route *r, bool replace, char *err,
			 size_t errlen)
{
	return change(RTM_NEWROUTE, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), table,
		      r, err, errlen);
}

int xlb_route_table__del(__u32 table, const struct xlb_route *r, char *err, size_t errlen)
{
	return change(RTM_DELROUTE, 0, table, r, err, errlen);
}
