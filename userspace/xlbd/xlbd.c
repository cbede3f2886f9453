/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlbd: the control-plane daemon. One libevent loop owns all state: the API
 * on a Unix socket, /metrics on TCP, SIGHUP (re-read --config) and
 * SIGTERM/SIGINT (stop, leaving the data path forwarding from its pins).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>

#include "userspace/lib/api_socket.h"
#include "userspace/xlbd/daemon.h"
#include "userspace/lib/log.h"
#include "userspace/lib/privs.h"
#include "userspace/xlbd/server.h"
#include "userspace/lib/vipaddr.h"

#define DEFAULT_STATE_DIR "/var/lib/xlb"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xlbd --config FILE [--state-dir DIR] [--socket PATH] [--metrics ADDR:PORT]\n"
		"            [--socket-group GROUP] [--foreground] [--log-level error|warn|info|debug]\n"
		"            [--conntrack-size FLOWS]\n"
		"       xlbd --cleanup IFACE   detach xlb from IFACE and unpin its maps\n"
		"       xlbd --version | --help\n"
		"defaults: --state-dir %s --socket %s --metrics from the config (127.0.0.1:9642)\n"
		"--socket-group: the API socket is root:GROUP 0660 and members may use the API;\n"
		"                without it, root:root 0600 and root only\n"
		"--conntrack-size: flows the connection table holds per address family\n"
		"                (default %u; ~88 bytes each); fixed once the maps are pinned\n",
		DEFAULT_STATE_DIR, XLB_API_SOCKET_DEFAULT, XLB_CONNTRACK_DEFAULT_SIZE);
}

struct loop {
	struct event_base *base;
	struct xlb_daemon *d;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct loop *l = arg;
	char err[1024];

	(void)what;
	if (sig == SIGHUP) {
		pr_info("SIGHUP: re-reading %s", l->d->config_path);
		if (xlb_daemon__reload(l->d, err, sizeof(err)))
			pr_err("reload rejected, running state unchanged: %s", err);
		else
			pr_info("reload applied");
		return;
	}
	pr_info("%s: stopping; the data path keeps forwarding", strsignal(sig));
	event_base_loopbreak(l->base);
}

/*
 * Each health check in flight holds a descriptor: thousands of backends
 * whose checks time out (black-holed) can hold thousands at once, past the
 * usual soft limit of 1024. Take the hard limit; a probe that still finds
 * none fails as "probe not started: Too many open files".
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			pr_warn("cannot raise the open files limit from %llu: %s",
				(unsigned long long)was, strerror(errno));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		pr_debug("open files limit %llu", (unsigned long long)rl.rlim_cur);
}

static int mkdir_parent(const char *path)
{
	char dir[4096], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * A health check changes what libevent watches on its socket three times
 * (connect, request sent, done); the changelist folds the changes made in
 * one loop pass into one epoll_ctl each at the next wait.
 */
static struct event_base *loop_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "cleanup", required_argument, NULL, 'C' },
		{ "conntrack-size", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	struct xlb_daemon_opts opts = { .state_dir = DEFAULT_STATE_DIR };
	const char *sock = XLB_API_SOCKET_DEFAULT, *cleanup = NULL, *group = NULL;
	struct event *sigs[4] = {};
	struct xlb_server *srv = NULL;
	enum xlb_log_level level;
	gid_t sock_gid = (gid_t)-1;
	bool foreground = false;
	struct loop l = {};
	char err[1024];
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 's':
			opts.state_dir = optarg;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'm':
			opts.metrics = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'l':
			if (xlb_log_parse_level(optarg, &level)) {
				fprintf(stderr, "xlbd: unknown log level '%s'\n", optarg);
				return 2;
			}
			xlb_log_set_level(level);
			break;
		case 'C':
			cleanup = optarg;
			break;
		case 'T': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end || n < 1024 || n > (1UL << 26)) {
				fprintf(stderr, "xlbd: --conntrack-size '%s': flows per address "
						"family, 1024..67108864\n", optarg);
				return 2;
			}
			opts.conntrack_size = n;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xlbd %s\n", XLB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xlbd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	xlb_log_capture_libs();
	if (cleanup) {
		if (xlb_dp__cleanup(cleanup, NULL, err, sizeof(err))) {
			pr_err("cleanup %s: %s", cleanup, err);
			return 1;
		}
		pr_info("detached from %s and unpinned its maps", cleanup);
		return 0;
	}
	if (!opts.config_path) {
		fprintf(stderr, "xlbd: --config FILE is required\n");
		usage(stderr);
		return 2;
	}
	if (group && xlb_server__group(group, &sock_gid, err, sizeof(err))) {
		fprintf(stderr, "xlbd: %s\n", err);
		return 2;
	}
	if (!foreground && daemon(0, 0)) {
		pr_err("daemon: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	l.base = loop_base_new();
	if (!l.base) {
		pr_err("event_base_new failed");
		return 1;
	}
	/* Watched before anything starts: a signal during the (long) open is
	 * taken when the loop runs, instead of killing xlbd half set up.
	 */
	sigs[0] = evsignal_new(l.base, SIGTERM, on_signal, &l);
	sigs[1] = evsignal_new(l.base, SIGINT, on_signal, &l);
	sigs[2] = evsignal_new(l.base, SIGHUP, on_signal, &l);
	for (int i = 0; i < 3; i++)
		if (!sigs[i] || evsignal_add(sigs[i], NULL)) {
			pr_err("cannot watch signals");
			goto out;
		}
	opts.base = l.base;
	if (xlb_daemon__open(&opts, &l.d, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	if (mkdir_parent(sock) ||
	    xlb_server__start(l.base, l.d, sock, sock_gid, &srv, err, sizeof(err))) {
		pr_err("api: %s", err);
		goto out;
	}
	{
		char host[256];
		__u16 port;

		if (xlb_hostport__parse(l.d->cfg->metrics.listen, host, sizeof(host), &port, err,
					sizeof(err)) ||
		    xlb_server__listen_metrics(srv, host, port, err, sizeof(err))) {
			pr_err("metrics: %s", err);
			goto out;
		}
		pr_info("serving the API on %s (%s) and /metrics on %s", sock,
			group ? "root and the socket group" : "root only",
			l.d->cfg->metrics.listen);
	}
	/* Set up: from here on only map updates, table maps and neighbours. */
	if (xlb_privs__drop(err, sizeof(err)))
		pr_warn("keeping all privileges: %s", err);
	event_base_dispatch(l.base);
	ret = 0;
out:
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	xlb_server__stop(srv);
	xlb_daemon__close(l.d);
	if (l.base)
		event_base_free(l.base);
	return ret;
}
