/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A blocking rtnetlink request/reply channel over libmnl, shared by the
 * modules that read or write the kernel's tables (neigh, route_table).
 */
#ifndef XLB_NL_H
#define XLB_NL_H

#include <libmnl/libmnl.h>

/* Large enough for any single reply (RTM_NEWLINK ones carry stats). */
#define XLB_NL_BUF_SIZE 32768
#define XLB_NL_REQ_SIZE 512

struct xlb_nl {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
};

/* For mnl_attr_parse(): fills tb[0..max] (newer attributes are skipped). */
struct xlb_nl_attrs {
	const struct nlattr **tb;
	unsigned int max;
};
int xlb_nl__attr_cb(const struct nlattr *attr, void *data);

/* 0 or -errno. */
int xlb_nl__open(struct xlb_nl *nl);
void xlb_nl__close(struct xlb_nl *nl);

/*
 * Send one request (NLM_F_REQUEST | NLM_F_ACK are added) and pass each
 * reply to cb (may be NULL) until the kernel's ACK or the dump's end.
 * Returns 0 or -errno (the kernel's error for the request).
 */
int xlb_nl__talk(struct xlb_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif /* XLB_NL_H */
