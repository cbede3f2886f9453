// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The backend of `make bench-health` (scripts/bench_health.sh): one HTTP
 * listener on 0.0.0.0:PORT answering every request "200 ok" and closing,
 * from one epoll loop, so that 5,000 health checks a second cost the
 * server little next to xlbd on a 2-CPU machine (python's http.server
 * spends a thread per connection). Not a general server: it answers once
 * the request head ("\r\n\r\n") is in, and reads nothing after it.
 *
 *   bench_health_server PORT [SECONDS]
 *
 * Prints "listening" once it accepts; exits after SECONDS (default 600) so
 * a forgotten one cannot run on, or on SIGTERM/SIGINT. On SIGUSR1 it prints
 * "served N": the requests answered so far, the checks the backends saw,
 * whoever made them (the bench compares every prober by this count).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define HEAD_MAX 4096

static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";

struct conn {
	int fd;
	size_t len;
	char head[HEAD_MAX];
};

static volatile sig_atomic_t stop, report;
static unsigned long served;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Read what is there; answer and close once the head is complete. */
static void conn_read(int ep, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->head + c->len, sizeof(c->head) - 1 - c->len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(ep, c);
			return;
		}
		c->len += (size_t)n;
		c->head[c->len] = 0;
		if (strstr(c->head, "\r\n\r\n") || c->len >= sizeof(c->head) - 1) {
			/* A tiny reply fits any fresh socket buffer. */
			if (write(c->fd, reply, sizeof(reply) - 1) < 0)
				perror("write");
			else
				served++;
			conn_close(ep, c);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct epoll_event ev, evs[MAX_EVENTS];
	struct sigaction sa = { .sa_handler = on_signal };
	long port, seconds = 600;
	int one = 1, lfd, ep;
	time_t end;

	if (argc < 2 || argc > 3 || (port = strtol(argv[1], NULL, 10)) < 1 || port > 65535 ||
	    (argc == 3 && (seconds = strtol(argv[2], NULL, 10)) < 1)) {
		fprintf(stderr, "usage: %s PORT [SECONDS]\n", argv[0]);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sin.sin_port = htons((unsigned short)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4096)) {
		perror("listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL; /* the listener */
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) {
		perror("epoll");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 1000);

		if (report) {
			report = 0;
			printf("served %lu\n", served);
			fflush(stdout);
		}

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c) {
				conn_read(ep, c);
				continue;
			}
			for (;;) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (fd < 0)
					break;
				c = calloc(1, sizeof(*c));
				if (!c) {
					close(fd);
					continue;
				}
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
					close(fd);
					free(c);
				}
			}
		}
	}
	return 0;
}
