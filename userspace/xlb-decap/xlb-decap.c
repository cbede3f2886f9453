/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlb-decap: the backend-side tool. Attaches xlb's decapsulation XDP
 * program (bpf/xlb_decap.bpf.c, through userspace/xlb-decap/decap.h) to an
 * interface and keeps the set of VIP addresses it decapsulates for.
 *
 *   xlb-decap attach IFACE [--generic] [--gue-port PORT]... [--pin-dir DIR] [VIP_ADDR...]
 *   xlb-decap detach IFACE [--pin-dir DIR]
 *   xlb-decap add IFACE VIP_ADDR
 *   xlb-decap del IFACE VIP_ADDR
 *   xlb-decap list IFACE
 *   xlb-decap stats IFACE
 *
 * The maps are pinned (XLB_DECAP_PIN_ROOT/IFACE unless --pin-dir), and
 * the program stays attached when `attach` ends on SIGTERM or SIGINT or is
 * killed: a restarted `attach` adopts the pinned VIPs and counters, adds
 * the VIPs it is given and replaces the program atomically, so a restart
 * (or an upgrade) never stops decapsulation. `detach` detaches the program
 * and removes the pins, through the running `attach` or, when none runs,
 * itself.
 *
 * While `attach` runs, the other commands reach it over an abstract Unix
 * socket named after the interface. Abstract names are per network
 * namespace, exactly like interface names, so backends in different
 * namespaces may all use "eth0"; binding the name also keeps a second
 * `attach` off the same interface.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "maps/xlb_maps.h"
#include "userspace/xlb-decap/decap.h"
#include "userspace/lib/log.h"
#include "userspace/lib/vipaddr.h"

#define EXIT_USAGE 2
#define CTL_NAME_FMT "xlb-decap/%s" /* abstract socket, per network namespace */
#define CTL_REQ_MAX 128
#define CTL_TIMEOUT_MS 2000
#define GUE_PORTS_MAX 16 /* xlb_decap_gue_ports' size */

static void usage(FILE *f)
{
	fprintf(f, "Usage: xlb-decap [--log-level error|warn|info|debug] COMMAND IFACE ...\n"
		   "       xlb-decap --version | --help\n"
		   "  attach IFACE [--generic] [--gue-port PORT]... [--pin-dir DIR] [VIP_ADDR...]\n"
		   "         attach the decap program (native XDP; --generic: skb mode),\n"
		   "         decapsulate IPIP and GUE (UDP to PORT, 19523 unless given)\n"
		   "         for VIP_ADDRs, maps pinned in DIR (" XLB_DECAP_PIN_ROOT "/IFACE);\n"
		   "         adopt what an earlier run left there; stay in the foreground\n"
		   "         until SIGTERM, SIGINT or `detach`; on a signal the program\n"
		   "         stays attached\n"
		   "  detach IFACE [--pin-dir DIR]\n"
		   "         detach the program and remove its pins (through the running\n"
		   "         `attach`, which then ends, or without one)\n"
		   "  add IFACE VIP_ADDR     decapsulate packets for VIP_ADDR too\n"
		   "  del IFACE VIP_ADDR     stop decapsulating for VIP_ADDR\n"
		   "  list IFACE             print the VIP addresses, one per line\n"
		   "  stats IFACE            print the counters, one per line\n"
		   "VIP_ADDR is an IPv4 or IPv6 address. Exit codes: 0 ok, 1 failure, 2 usage.\n");
}

static int ctl_addr(const char *ifname, struct sockaddr_un *sun, socklen_t *len)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* sun_path[0] = 0: abstract namespace */
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, CTL_NAME_FMT, ifname);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path) - 1)
		return -ENAMETOOLONG;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return 0;
}

static int check_ifname(const char *ifname)
{
	if (!*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/')) {
		pr_err("bad interface name '%s'", ifname);
		return -EINVAL;
	}
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = CTL_TIMEOUT_MS / 1000,
			     .tv_usec = (CTL_TIMEOUT_MS % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- the attached side ---------------------------------------------------- */

static int vip_add(struct xlb_decap *d, const char *text, char *err, size_t errlen)
{
	__be32 addr[4];
	__u8 family;
	int ret;

	if (xlb_addr__parse(text, &family, addr))
		return xlb_err(err, errlen, -EINVAL, "'%s' is not an IPv4 or IPv6 address", text);
	ret = xlb_decap__add_vip(d, family, addr);
	if (ret == -E2BIG)
		return xlb_err(err, errlen, -ENOSPC, "already %d VIPs", XLB_MAX_VIPS);
	if (ret)
		return xlb_err(err, errlen, ret, "adding VIP %s: %s", text, strerror(-ret));
	pr_info("decapsulating for %s", text);
	return 0;
}

static int vip_del(struct xlb_decap *d, const char *text, char *err, size_t errlen)
{
	__be32 addr[4];
	__u8 family;
	int ret;

	if (xlb_addr__parse(text, &family, addr))
		return xlb_err(err, errlen, -EINVAL, "'%s' is not an IPv4 or IPv6 address", text);
	ret = xlb_decap__del_vip(d, family, addr);
	if (ret == -ENOENT)
		return xlb_err(err, errlen, ret, "%s is not a VIP here", text);
	if (ret)
		return xlb_err(err, errlen, ret, "deleting VIP %s: %s", text, strerror(-ret));
	pr_info("no longer decapsulating for %s", text);
	return 0;
}

/* The VIPs in the map, one per line, into a malloc'ed string (NULL: error). */
static char *vips_text(struct xlb_decap *d, unsigned int *count)
{
	static struct xlb_decap_key keys[XLB_MAX_VIPS];
	char *text, *p;
	int n = xlb_decap__vips(d, keys, XLB_MAX_VIPS);

	if (n < 0)
		return NULL;
	text = calloc((size_t)n + 1, XLB_ADDR_STR_MAX + 1);
	if (!text)
		return NULL;
	p = text;
	for (int i = 0; i < n; i++) {
		xlb_addr__format(keys[i].family, keys[i].addr, p, XLB_ADDR_STR_MAX);
		p += strlen(p);
		*p++ = '\n';
	}
	*count = (unsigned int)n;
	return text;
}

/*
 * The GUE ports become exactly want[0..n-1]: the new ones first, then the
 * others go, so a port kept across a restart is never missing.
 */
static int gue_ports_set(struct xlb_decap *d, const __u16 *want, int n)
{
	__u16 have[GUE_PORTS_MAX];
	int nhave, ret;

	for (int i = 0; i < n; i++) {
		ret = xlb_decap__add_gue_port(d, want[i]);
		if (ret) {
			pr_err("GUE port %u: %s", want[i], strerror(-ret));
			return ret;
		}
	}
	nhave = xlb_decap__gue_ports(d, have, GUE_PORTS_MAX);
	if (nhave < 0) {
		pr_err("reading the GUE ports: %s", strerror(-nhave));
		return nhave;
	}
	for (int i = 0; i < nhave; i++) {
		bool keep = false;

		for (int j = 0; j < n; j++)
			keep |= have[i] == want[j];
		if (!keep) {
			pr_info("no longer taking UDP port %u as GUE", have[i]);
			xlb_decap__del_gue_port(d, have[i]);
		}
	}
	return 0;
}

/* The counters as "name value" lines (docs/GUE.md names the GUE ones). */
static void stats_format(const struct xlb_decap_stats *st, char *buf, size_t len)
{
	snprintf(buf, len,
		 "rx %llu\ndecap4 %llu\ndecap6 %llu\ndecap4in6 %llu\npass %llu\n"
		 "drop_malformed %llu\npass_other_mac %llu\ngue_local %llu\n"
		 "gue_redirected %llu\ngue_no_alternate %llu\ngue_hops_exhausted %llu\n"
		 "gue_bad %llu\ngue_no_neigh %llu\ngue_no_route %llu\n",
		 (unsigned long long)st->rx, (unsigned long long)st->decap4,
		 (unsigned long long)st->decap6, (unsigned long long)st->decap4in6,
		 (unsigned long long)st->pass, (unsigned long long)st->drop_malformed,
		 (unsigned long long)st->pass_other_mac, (unsigned long long)st->gue_local,
		 (unsigned long long)st->gue_redirected, (unsigned long long)st->gue_no_alt,
		 (unsigned long long)st->gue_hops_exhausted, (unsigned long long)st->gue_bad,
		 (unsigned long long)st->gue_no_neigh, (unsigned long long)st->gue_no_route);
}

/*
 * bpf_fib_lookup(), which finds an alternate's MAC, answers only where
 * the interface forwards: without it GUE packets for an alternate are
 * decapsulated here (gue_no_route), so say so once.
 */
static void check_forwarding(const char *ifname)
{
	static const char *const fmt[] = { "/proc/sys/net/ipv4/conf/%s/forwarding",
					   "/proc/sys/net/ipv6/conf/%s/forwarding" };
	char path[128], c = '0';

	for (int i = 0; i < 2; i++) {
		FILE *f;

		snprintf(path, sizeof(path), fmt[i], ifname);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fread(&c, 1, 1, f) == 1 && c == '0')
			pr_warn("%s is 0: GUE packets this host has no socket for cannot go on "
				"to their alternate (bpf_fib_lookup needs forwarding on %s); "
				"see docs/GUE.md",
				path, ifname);
		fclose(f);
	}
}

/* Reads "VERB [ARG]\n" from a connected client. */
static int read_request(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1) {
		ssize_t n = recv(fd, buf + got, len - 1 - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return got ? 0 : -ENODATA;
}

/*
 * Answers one request. "detach" detaches the program and removes the pins
 * (the handle is gone after it: *d is NULL), sets *stop and returns its
 * result; anything else returns 0.
 */
static int serve_one(int lfd, struct xlb_decap **d, bool *stop)
{
	char req[CTL_REQ_MAX], err[256] = "", *arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, ret = 0, detached = 0;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return 0;
	set_timeouts(fd);
	/* Abstract sockets have no file mode: check who is asking. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		write_all(fd, "error: permission denied\n", 25);
		goto out;
	}
	if (read_request(fd, req, sizeof(req))) {
		write_all(fd, "error: no request\n", 18);
		goto out;
	}
	arg = strchr(req, ' ');
	if (arg)
		*arg++ = 0;
	if (!strcmp(req, "add") && arg) {
		ret = vip_add(*d, arg, err, sizeof(err));
	} else if (!strcmp(req, "del") && arg) {
		ret = vip_del(*d, arg, err, sizeof(err));
	} else if (!strcmp(req, "detach") && !arg) {
		pr_info("detach requested");
		*stop = true;
		ret = detached = xlb_decap__destroy(*d, err, sizeof(err));
		*d = NULL;
		if (!ret)
			pr_info("detached, pins removed");
	} else if (!strcmp(req, "stats") && !arg) {
		struct xlb_decap_stats st;
		char text[1024];

		ret = xlb_decap__stats(*d, &st);
		if (ret) {
			xlb_err(err, sizeof(err), ret, "reading counters: %s", strerror(-ret));
		} else {
			stats_format(&st, text, sizeof(text));
			write_all(fd, "ok\n", 3);
			write_all(fd, text, strlen(text));
			goto out;
		}
	} else if (!strcmp(req, "list") && !arg) {
		unsigned int n;
		char *text = vips_text(*d, &n);

		if (text) {
			write_all(fd, "ok\n", 3);
			write_all(fd, text, strlen(text));
			free(text);
			goto out;
		}
		ret = xlb_err(err, sizeof(err), -EIO, "reading the VIPs");
	} else {
		ret = xlb_err(err, sizeof(err), -EINVAL, "unknown request '%s'", req);
	}
	if (ret) {
		char line[300];

		snprintf(line, sizeof(line), "error: %s\n", err);
		write_all(fd, line, strlen(line));
	} else {
		write_all(fd, "ok\n", 3);
	}
out:
	close(fd);
	return detached;
}

static int ctl_listen(const char *ifname)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, ret;

	ret = ctl_addr(ifname, &sun, &len);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, len) || listen(fd, 8)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static int cmd_attach(int argc, char **argv)
{
	const char *ifname = NULL, *pin_dir = NULL;
	struct xlb_decap *d = NULL;
	struct pollfd pfd[2];
	bool generic = false, stop = false, serving = false;
	__u16 gue_ports[GUE_PORTS_MAX];
	int n_gue_ports = 0;
	char err[256] = "", *end, *text;
	unsigned long port;
	unsigned int nvips = 0;
	__be32 addr[4];
	__u8 family;
	sigset_t sigs;
	int lfd = -1, sfd = -1, ret, n_addrs = 0, rc = 1, detached = 0;
	char **addrs;

	/* attach IFACE [--generic] [--gue-port PORT]... [--pin-dir DIR] [VIP_ADDR...],
	 * options anywhere
	 */
	addrs = calloc((size_t)argc, sizeof(*addrs));
	if (!addrs)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--generic")) {
			generic = true;
		} else if (!strcmp(argv[i], "--gue-port")) {
			if (i + 1 == argc || n_gue_ports == GUE_PORTS_MAX) {
				fprintf(stderr, "xlb-decap attach: --gue-port needs a port "
						"(at most %d)\n",
					GUE_PORTS_MAX);
				goto usage;
			}
			errno = 0;
			port = strtoul(argv[++i], &end, 10);
			if (errno || *end || !port || port > 65535) {
				fprintf(stderr, "xlb-decap attach: bad --gue-port '%s'\n",
					argv[i]);
				goto usage;
			}
			gue_ports[n_gue_ports++] = (__u16)port;
		} else if (!strcmp(argv[i], "--pin-dir")) {
			if (i + 1 == argc || !argv[i + 1][0]) {
				fprintf(stderr, "xlb-decap attach: --pin-dir needs a directory\n");
				goto usage;
			}
			pin_dir = argv[++i];
		} else if (argv[i][0] == '-' && strcmp(argv[i], "-")) {
			fprintf(stderr, "xlb-decap attach: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (!ifname) {
			ifname = argv[i];
		} else {
			if (xlb_addr__parse(argv[i], &family, addr)) {
				fprintf(stderr,
					"xlb-decap attach: '%s' is not an IPv4 or IPv6 address\n",
					argv[i]);
				goto usage;
			}
			addrs[n_addrs++] = argv[i];
		}
	}
	if (!ifname) {
		fprintf(stderr, "xlb-decap attach: missing IFACE\n");
		goto usage;
	}
	if (check_ifname(ifname))
		goto usage;
	if (n_addrs > XLB_MAX_VIPS) {
		fprintf(stderr, "xlb-decap attach: at most %d VIPs\n", XLB_MAX_VIPS);
		goto usage;
	}
	/* Ports given replace the default. */
	if (!n_gue_ports)
		gue_ports[n_gue_ports++] = XLB_GUE_DEFAULT_PORT;

	/* Signals are taken through the poll loop, also while loading. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		goto out;
	}

	/* Bind first: the name is also the lock against a second attach. */
	lfd = ctl_listen(ifname);
	if (lfd == -EADDRINUSE) {
		pr_err("xlb-decap is already attached to %s in this network namespace", ifname);
		goto out;
	} else if (lfd < 0) {
		pr_err("control socket for %s: %s", ifname, strerror(-lfd));
		goto out;
	}

	ret = xlb_decap__open_pinned(ifname, generic, pin_dir, &d, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		goto out;
	}
	if (xlb_decap__adopted(d)) {
		text = vips_text(d, &nvips);
		pr_info("adopted the pinned maps of %s: %u VIP(s) kept", ifname, nvips);
		free(text);
	}
	for (int i = 0; i < n_addrs; i++) {
		if (vip_add(d, addrs[i], err, sizeof(err))) {
			pr_err("%s", err);
			goto out;
		}
	}
	if (gue_ports_set(d, gue_ports, n_gue_ports))
		goto out;
	check_forwarding(ifname);
	text = vips_text(d, &nvips);
	free(text);
	pr_info("attached to %s with %u VIP(s); `xlb-decap detach %s` detaches it", ifname, nvips,
		ifname);

	pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = lfd, .events = POLLIN};
	serving = true;
	while (!stop) {
		/* Every 100 ms: start ARP/ND for GUE alternates without a MAC. */
		xlb_decap__resolve_wanted(d);
		if (poll(pfd, 2, 100) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					continue; /* nothing to reload */
				pr_info("signal %u: ending; xlb_decap stays attached to %s with its "
					"pinned maps (`xlb-decap detach %s` removes them)",
					si.ssi_signo, ifname, ifname);
				stop = true;
			}
		}
		if (pfd[1].revents & POLLIN)
			detached = serve_one(lfd, &d, &stop);
	}
	rc = detached ? 1 : 0;
	goto out;

usage:
	free(addrs);
	usage(stderr);
	return EXIT_USAGE;
out:
	if (lfd >= 0)
		close(lfd);
	/* A fresh start that failed half way takes its program and pins back;
	 * once serving, or adopted, they stay.
	 */
	if (d && !serving && !xlb_decap__adopted(d))
		xlb_decap__destroy(d, NULL, 0);
	else
		xlb_decap__close(d);
	if (sfd >= 0)
		close(sfd);
	free(addrs);
	return rc;
}

/* ---- the other commands: requests to the attached process ----------------- */

#define REQ_NOBODY 3 /* request(): no attach process answers for the interface */

/* 0: answered "ok"; 1: failed (said why); REQ_NOBODY: nothing said. */
static int request(const char *ifname, const char *req, bool print_data)
{
	size_t got = 0, cap = 4096;
	struct sockaddr_un sun;
	char *buf, *data;
	socklen_t len;
	int fd, ret = 1;

	if (ctl_addr(ifname, &sun, &len)) {
		pr_err("bad interface name '%s'", ifname);
		return 1;
	}
	buf = malloc(cap);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!buf || fd < 0) {
		pr_err("socket: %s", strerror(errno));
		goto out;
	}
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&sun, len)) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			ret = REQ_NOBODY;
		else
			pr_err("reaching xlb-decap for %s: %s", ifname, strerror(errno));
		goto out;
	}
	if (write_all(fd, req, strlen(req)) || write_all(fd, "\n", 1)) {
		pr_err("sending request: %s", strerror(errno));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	/* The whole reply, up to EOF: "ok" or "error: MESSAGE", then data. */
	for (;;) {
		ssize_t n;

		if (got == cap - 1) {
			char *nb = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				pr_err("reply too long");
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("reading reply: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	data = strchr(buf, '\n');
	if (!data) {
		pr_err("xlb-decap for %s closed the connection without answering", ifname);
		goto out;
	}
	*data++ = 0;
	if (strcmp(buf, "ok")) {
		pr_err("%s", strncmp(buf, "error: ", 7) ? buf : buf + 7);
		goto out;
	}
	if (print_data)
		fputs(data, stdout);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static int cmd_simple(int argc, char **argv)
{
	const char *verb = argv[0];
	bool takes_addr = !strcmp(verb, "add") || !strcmp(verb, "del");
	char req[CTL_REQ_MAX];
	__be32 addr[4];
	__u8 family;
	int ret;

	if (argc != (takes_addr ? 3 : 2)) {
		fprintf(stderr, "xlb-decap %s: wrong number of arguments\n", verb);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (check_ifname(argv[1]))
		return EXIT_USAGE;
	if (takes_addr && xlb_addr__parse(argv[2], &family, addr)) {
		fprintf(stderr, "xlb-decap %s: '%s' is not an IPv4 or IPv6 address\n", verb,
			argv[2]);
		return EXIT_USAGE;
	}
	snprintf(req, sizeof(req), "%s%s%s", verb, takes_addr ? " " : "",
		 takes_addr ? argv[2] : "");
	ret = request(argv[1], req, !strcmp(verb, "list") || !strcmp(verb, "stats"));
	if (ret == REQ_NOBODY) {
		pr_err("no xlb-decap runs for %s in this network namespace (a program it left "
		       "attached keeps decapsulating; `xlb-decap attach %s` adopts it)",
		       argv[1], argv[1]);
		return 1;
	}
	return ret;
}

/*
 * detach IFACE [--pin-dir DIR]: the running attach does it and ends; with
 * none running, this process detaches the program and removes the pins.
 */
static int cmd_detach(int argc, char **argv)
{
	const char *ifname = NULL, *pin_dir = NULL;
	char err[256] = "";
	bool found;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pin-dir")) {
			if (i + 1 == argc || !argv[i + 1][0]) {
				fprintf(stderr, "xlb-decap detach: --pin-dir needs a directory\n");
				goto usage;
			}
			pin_dir = argv[++i];
		} else if (argv[i][0] == '-' || ifname) {
			fprintf(stderr, "xlb-decap detach: unexpected '%s'\n", argv[i]);
			goto usage;
		} else {
			ifname = argv[i];
		}
	}
	if (!ifname) {
		fprintf(stderr, "xlb-decap detach: missing IFACE\n");
		goto usage;
	}
	if (check_ifname(ifname))
		return EXIT_USAGE;
	ret = request(ifname, "detach", false);
	if (ret != REQ_NOBODY)
		return ret;
	ret = xlb_decap__cleanup(ifname, pin_dir, &found, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return 1;
	}
	if (found)
		pr_info("detached xlb_decap from %s and removed its pins", ifname);
	else
		pr_info("nothing to detach: no xlb_decap on %s, no pins", ifname);
	return 0;
usage:
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'}, {}};
	enum xlb_log_level level;
	int c;

	xlb_log_capture_libs();
	/* "+": stop at the command; its own arguments are parsed below. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (xlb_log_parse_level(optarg, &level)) {
				fprintf(stderr, "xlb-decap: bad log level '%s'\n", optarg);
				return EXIT_USAGE;
			}
			xlb_log_set_level(level);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xlb-decap %s\n", XLB_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[0], "attach"))
		return cmd_attach(argc, argv);
	if (!strcmp(argv[0], "detach"))
		return cmd_detach(argc, argv);
	if (!strcmp(argv[0], "add") || !strcmp(argv[0], "del") || !strcmp(argv[0], "list") ||
	    !strcmp(argv[0], "stats"))
		return cmd_simple(argc, argv);
	fprintf(stderr, "xlb-decap: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return EXIT_USAGE;
}
