// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The floor under `make bench-health` (scripts/bench_health.sh, FLOOR=1):
 * the least a prober can do per HTTP check with a new connection each time,
 * measured where xlbd runs. No libcurl, no libevent, no breaker: one epoll
 * loop doing socket, connect, send of a fixed GET, recv of the status line,
 * close with an RST (with the same socket options as xlbd's checks). What it
 * costs in CPU is what the kernel and the veth path charge any such prober
 * on this machine; xlbd's figure above it is its own work.
 *
 *   bench_health_floor FIRST_ADDR N PORT INTERVAL_MS SECONDS
 *
 * Checks N addresses (FIRST_ADDR counting up, 250 per /24 from .1, as the
 * bench lays them out) every INTERVAL_MS, spread evenly, for SECONDS; then
 * prints one JSON line: checks, failures, its own user and system CPU. A
 * check still open when it is due again (INTERVAL_MS > 500 ms later) counts
 * as failed.
 * Not a health checker: a reference measurement only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define TIMEOUT_MS 500 /* the bench's; the interval must exceed it */

static const char request[] = "GET / HTTP/1.1\r\nHost: backend\r\n"
			      "User-Agent: xlb-health-floor\r\nConnection: close\r\n\r\n";

struct check {
	int fd;
	bool sent;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static double cpu_s(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

static long checks, failures;

static void finish(int ep, struct check *c, bool ok)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	checks++;
	failures += !ok;
}

static void start(int ep, struct check *c, const struct sockaddr_in *sin)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	int off = 0;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		failures++;
		checks++;
		return;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof(off));
	c->sent = false;
	if ((connect(c->fd, (const struct sockaddr *)sin, sizeof(*sin)) && errno != EINPROGRESS) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		finish(ep, c, false);
}

static void on_event(int ep, struct check *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	char buf[256];
	ssize_t n;

	if (!c->sent) {
		n = send(c->fd, request, sizeof(request) - 1, MSG_NOSIGNAL);
		if (n != (ssize_t)sizeof(request) - 1 || epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev)) {
			finish(ep, c, false);
			return;
		}
		c->sent = true;
		return;
	}
	n = recv(c->fd, buf, sizeof(buf) - 1, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	finish(ep, c, n >= 12 && !memcmp(buf, "HTTP/1.1 2", 10));
}

int main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS];
	struct sockaddr_in *addrs;
	struct check *cs;
	long n, port, interval_ms, seconds, next = 0;
	long long t0, end, due_at;
	struct rusage r0, r1;
	struct in_addr first;
	int ep;

	if (argc != 6 || !inet_aton(argv[1], &first) || (n = strtol(argv[2], NULL, 10)) < 1 ||
	    n > 65536 || (port = strtol(argv[3], NULL, 10)) < 1 || port > 65535 ||
	    (interval_ms = strtol(argv[4], NULL, 10)) < TIMEOUT_MS + 1 ||
	    (seconds = strtol(argv[5], NULL, 10)) < 1 || seconds > 600) {
		fprintf(stderr, "usage: %s FIRST_ADDR N PORT INTERVAL_MS(>%d) SECONDS(<=600)\n",
			argv[0], TIMEOUT_MS);
		return 2;
	}
	addrs = calloc(n, sizeof(*addrs));
	cs = calloc(n, sizeof(*cs));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!addrs || !cs || ep < 0) {
		perror("setup");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		uint32_t base = ntohl(first.s_addr) & ~0xffU;

		addrs[i].sin_family = AF_INET;
		addrs[i].sin_port = htons((unsigned short)port);
		addrs[i].sin_addr.s_addr = htonl(base + ((i / 250) << 8) + (i % 250) + 1);
		cs[i].fd = -1;
	}
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ms();
	end = t0 + seconds * 1000;
	while (now_ms() < end) {
		long long now = now_ms();
		int k;

		/* Start every check that is due: check i at t0 + i * interval / n,
		 * then each interval after. */
		for (;;) {
			due_at = t0 + (next / n) * interval_ms + (next % n) * interval_ms / n;
			if (due_at > now)
				break;
			if (cs[next % n].fd >= 0) /* no answer in a whole interval */
				finish(ep, &cs[next % n], false);
			start(ep, &cs[next % n], &addrs[next % n]);
			next++;
		}
		k = epoll_wait(ep, evs, MAX_EVENTS, (int)(due_at - now));
		for (int i = 0; i < k; i++)
			on_event(ep, evs[i].data.ptr);
	}
	getrusage(RUSAGE_SELF, &r1);
	printf(
	    "{\"checks\":%ld,\"failures\":%ld,\"seconds\":%.2f,\"user_s\":%.3f,\"sys_s\":%.3f}\n",
	    checks, failures, (now_ms() - t0) / 1000.0, cpu_s(&r1.ru_utime) - cpu_s(&r0.ru_utime),
	    cpu_s(&r1.ru_stime) - cpu_s(&r0.ru_stime));
	return 0;
}
