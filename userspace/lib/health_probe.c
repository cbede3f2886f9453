/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Health-check probes: tcp, udp and http on non-blocking sockets (http as a
 * small state machine: connect, write a fixed request, read the status
 * line, close with an RST), https through libcurl's multi interface, all on
 * one libevent loop; see health.h.
 * When to probe is the scheduler's (health_sched.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/clock.h"
#include "userspace/lib/health.h"
#include "userspace/lib/health_int.h"
#include "userspace/lib/log.h"

#ifndef XLB_VERSION
#define XLB_VERSION "0"
#endif

/* Easy handles kept for reuse: enough for the checks in flight at once with
 * thousands of backends; each costs a few KiB. */
#define XLB_HEALTH_IDLE_EASY_MAX 4096

struct xlb_health {
	struct event_base *base;
	CURLM *multi;
	struct event *curl_timer;
	struct curl_slist *headers; /* shared by every http probe */
	CURL *idle[XLB_HEALTH_IDLE_EASY_MAX];
	unsigned int n_idle;
	struct xlb_health_probe *probes;
	unsigned int in_flight;
};

struct xlb_health_probe {
	struct xlb_health *h;
	struct xlb_health_probe *prev, *next;
	enum xlb_config_hc_type type;
	xlb_health_done_fn done;
	void *arg;
	__u64 start_ns;
	__u32 timeout_ms;
	/* tcp, udp */
	int fd;
	struct event *io, *timer;
	bool has_result; /* a result known at start, delivered from the loop */
	bool in_timer, released; /* see timer_cb */
	bool result_ok;
	char detail[XLB_HEALTH_DETAIL_MAX];
	void *reply;
	__u32 reply_len;
	/* http (plain; see http_cb) */
	char *req;		/* the request, req_len bytes, req_off of them sent */
	__u32 req_len, req_off;
	__u32 head_len;		/* response bytes parsed */
	__u32 line_len;		/* bytes of the current status line */
	bool in_interim;	/* skipping the head of a 1xx response */
	bool blank;		/* the head's current line has no character yet */
	char line[16];		/* a status line's first bytes: "HTTP/1.1 200 " */
	/* http, https */
	__u16 lo, hi;
	int status; /* the final status, once its head is in */
	/* https */
	CURL *easy;
	int curl_fd;	 /* curl's socket, -1 when none */
	short curl_what; /* EV_READ/EV_WRITE curl waits for on it */
	struct curl_slist *headers; /* with the target's Host; NULL: h->headers */
	char errbuf[CURL_ERROR_SIZE];
};

static void easy_put(struct xlb_health *h, CURL *e);
static void curl_event_cb(evutil_socket_t fd, short what, void *arg);

static int target_sockaddr(const struct xlb_health_target *t, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (t->family == XLB_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
		sin->sin_addr.s_addr = t->addr[0];
		*len = sizeof(*sin);
	} else if (t->family == XLB_AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
		memcpy(&sin6->sin6_addr, t->addr, 16);
		*len = sizeof(*sin6);
	} else {
		return -EINVAL;
	}
	return 0;
}

int xlb_health__target_check(const struct xlb_health_target *t, char *err, size_t errlen)
{
	if (!t)
		return xlb_err(err, errlen, -EINVAL, "no target");
	if (!t->port)
		return xlb_err(err, errlen, -EINVAL, "port 0");
	if (!t->timeout_ms)
		return xlb_err(err, errlen, -EINVAL, "timeout 0");
	if (t->family != XLB_AF_INET && t->family != XLB_AF_INET6)
		return xlb_err(err, errlen, -EINVAL, "address family %u", t->family);
	switch (t->type) {
	case XLB_CONFIG_HC_TCP:
		return 0;
	case XLB_CONFIG_HC_HTTP:
	case XLB_CONFIG_HC_HTTPS:
		if (t->path && !xlb_config__hc_path_ok(t->path))
			return xlb_err(
			    err, errlen, -EINVAL,
			    "path '%s' is not printable ASCII without spaces after a '/'", t->path);
		if (t->expect_lo > t->expect_hi)
			return xlb_err(err, errlen, -EINVAL, "expected status %u-%u is empty",
				       t->expect_lo, t->expect_hi);
		return 0;
	case XLB_CONFIG_HC_UDP:
		if (t->payload_len > XLB_HEALTH_UDP_MAX || t->reply_len > XLB_HEALTH_UDP_MAX)
			return xlb_err(err, errlen, -EINVAL, "datagram over %u bytes",
				       XLB_HEALTH_UDP_MAX);
		if ((t->payload_len && !t->payload) || (t->reply_len && !t->reply))
			return xlb_err(err, errlen, -EINVAL, "datagram bytes missing");
		return 0;
	default:
		return xlb_err(err, errlen, -EINVAL, "type %s is not probed",
			       xlb_config__hc_type_name(t->type));
	}
}

static int check_target(const struct xlb_health_target *t)
{
	return xlb_health__target_check(t, NULL, 0);
}

/* ---- probe life cycle ---- */

static void probe_release(struct xlb_health_probe *p)
{
	struct xlb_health *h = p->h;

	if (p->prev)
		p->prev->next = p->next;
	else
		h->probes = p->next;
	if (p->next)
		p->next->prev = p->prev;
	h->in_flight--;

	if (p->easy)
		easy_put(h, p->easy);
	p->easy = NULL;
	curl_slist_free_all(p->headers);
	p->headers = NULL;
	if (p->io)
		event_free(p->io);
	if (p->timer)
		event_free(p->timer);
	if (p->fd >= 0)
		close(p->fd);
	p->io = p->timer = NULL;
	p->fd = -1;
	free(p->reply);
	p->reply = NULL;
	free(p->req);
	p->req = NULL;
	if (p->in_timer)
		p->released = true; /* timer_cb frees it when the callback returns */
	else
		free(p);
}

static void probe_finish(struct xlb_health_probe *p, bool ok, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void probe_finish(struct xlb_health_probe *p, bool ok, int status, const char *fmt, ...)
{
	char detail[XLB_HEALTH_DETAIL_MAX];
	struct xlb_health_result r = {
		.ok = ok,
		.status = status,
		.detail = detail,
	};
	xlb_health_done_fn done = p->done;
	void *arg = p->arg;
	__u64 us = (xlb_clock__mono_ns() - p->start_ns) / 1000;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	r.latency_us = us > UINT32_MAX ? UINT32_MAX : (__u32)us;
	probe_release(p);
	done(arg, &r);
}

/* Close a connected TCP socket with an RST: no TIME_WAIT per check. */
static void set_linger0(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

static void finish_errno(struct xlb_health_probe *p, int err)
{
	if (err == ECONNREFUSED)
		probe_finish(p, false, 0, p->type == XLB_CONFIG_HC_UDP ? "port unreachable"
								      : "connect refused");
	else
		probe_finish(p, false, 0, "connect failed: %s", strerror(err));
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_probe *p = arg;

	__u64 elapsed_us, left_us;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (p->has_result) {
		probe_finish(p, p->result_ok, 0, "%s", p->detail);
		return;
	}
	/* libevent may use a coarse clock: never time out early. */
	elapsed_us = (xlb_clock__mono_ns() - p->start_ns) / 1000;
	if (elapsed_us < (__u64)p->timeout_ms * 1000) {
		left_us = (__u64)p->timeout_ms * 1000 - elapsed_us;
		tv.tv_sec = left_us / 1000000;
		tv.tv_usec = left_us % 1000000;
		if (!evtimer_add(p->timer, &tv))
			return;
	}
	/*
	 * When the loop was held up (a big API answer, a publish), the answer
	 * may be waiting on the socket while this timer fires first: take it
	 * rather than fail a healthy backend. Its callback may finish (and
	 * release) the probe; then it is freed here.
	 */
	if ((p->io && p->fd >= 0) || (p->easy && p->curl_fd >= 0)) {
		int fd = p->easy ? p->curl_fd : p->fd;
		short want = p->easy ? p->curl_what : event_get_events(p->io) & (EV_READ | EV_WRITE);
		struct pollfd pfd = {
			.fd = fd,
			.events = (want & EV_READ ? POLLIN : 0) | (want & EV_WRITE ? POLLOUT : 0),
		};

		if (want && poll(&pfd, 1, 0) == 1) {
			p->in_timer = true;
			if (p->easy)
				curl_event_cb(fd, want, p->h);
			else
				event_get_callback(p->io)(fd, want, p);
			p->in_timer = false;
			if (p->released) {
				free(p);
				return;
			}
		}
	}
	probe_finish(p, false, 0, "timeout after %u ms", p->timeout_ms);
}

/* Deliver a result known at start from the loop, not from probe(). */
static void defer_result(struct xlb_health_probe *p, bool ok, const char *detail)
{
	p->has_result = true;
	p->result_ok = ok;
	snprintf(p->detail, sizeof(p->detail), "%s", detail);
	event_active(p->timer, EV_TIMEOUT, 0);
}

static void defer_errno(struct xlb_health_probe *p, int err)
{
	char buf[XLB_HEALTH_DETAIL_MAX];

	if (err == ECONNREFUSED)
		snprintf(buf, sizeof(buf), "%s",
			 p->type == XLB_CONFIG_HC_UDP ? "port unreachable" : "connect refused");
	else
		snprintf(buf, sizeof(buf), "connect failed: %s", strerror(err));
	defer_result(p, false, buf);
}

/* ---- tcp ---- */

static void tcp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_probe *p = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		finish_errno(p, err);
		return;
	}
	set_linger0(fd);
	probe_finish(p, true, 0, "ok connected");
}

static int tcp_start(struct xlb_health_probe *p, const struct sockaddr *sa, socklen_t salen)
{
	if (connect(p->fd, sa, salen) == 0) {
		set_linger0(p->fd);
		defer_result(p, true, "ok connected");
		return 0;
	}
	if (errno != EINPROGRESS) {
		defer_errno(p, errno);
		return 0;
	}
	p->io = event_new(p->h->base, p->fd, EV_WRITE, tcp_cb, p);
	if (!p->io || event_add(p->io, NULL))
		return -ENOMEM;
	return 0;
}

/* ---- udp ---- */

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_probe *p = arg;
	unsigned char buf[XLB_HEALTH_UDP_MAX];
	ssize_t n;

	(void)what;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return; /* EV_PERSIST: wait on */
		finish_errno(p, errno);
		return;
	}
	if (p->reply_len && ((size_t)n < p->reply_len || memcmp(buf, p->reply, p->reply_len))) {
		probe_finish(p, false, 0, "unexpected reply (%zd bytes)", n);
		return;
	}
	probe_finish(p, true, 0, "ok reply %zd bytes", n);
}

static int udp_start(struct xlb_health_probe *p, const struct xlb_health_target *t,
		     const struct sockaddr *sa, socklen_t salen)
{
	if (t->reply_len) {
		p->reply = malloc(t->reply_len);
		if (!p->reply)
			return -ENOMEM;
		memcpy(p->reply, t->reply, t->reply_len);
		p->reply_len = t->reply_len;
	}
	/* Connected, so that an ICMP port unreachable reaches recv(). */
	if (connect(p->fd, sa, salen) < 0 ||
	    send(p->fd, t->payload_len ? t->payload : "", t->payload_len, 0) < 0) {
		defer_errno(p, errno);
		return 0;
	}
	p->io = event_new(p->h->base, p->fd, EV_READ | EV_PERSIST, udp_cb, p);
	if (!p->io || event_add(p->io, NULL))
		return -ENOMEM;
	return 0;
}

/* ---- http: a state machine on the loop ---- */

/*
 * One event, edge-triggered for both directions, so that a check costs one
 * epoll_ctl to watch its socket and one to stop: the connect completes
 * (writable), the request goes out whole (a fresh socket's buffer holds
 * it; a partial write waits for the next edge), then the answer is read
 * until the status line of the final response is in: an interim 1xx
 * response's head is skipped; no header after the final status line and no
 * body is read. The socket has SO_LINGER 0 from the start, so that however
 * the check ends, closing it sends an RST and leaves no TIME_WAIT.
 */

/* Bytes of a response's head read at most; a check reads but a status line
 * (and the heads of interim responses before it). */
#define XLB_HEALTH_HTTP_HEAD_MAX 65536

/* The status code of a status line ("HTTP/1.1 200 OK"), or -1: not HTTP. */
static int http_status_line(const char *l, __u32 len)
{
	__u32 i = 5;

	if (len < 5 || memcmp(l, "HTTP/", 5))
		return -1;
	if (i < len && l[i] >= '0' && l[i] <= '9')
		i++;
	else
		return -1;
	if (i + 1 < len && l[i] == '.' && l[i + 1] >= '0' && l[i + 1] <= '9')
		i += 2;
	if (i + 4 >= len || l[i] != ' ')
		return -1;
	for (int k = 1; k <= 3; k++)
		if (l[i + k] < '0' || l[i + k] > '9')
			return -1;
	if (l[i + 4] != ' ' && l[i + 4] != '\r' && l[i + 4] != '\n')
		return -1;
	return (l[i + 1] - '0') * 100 + (l[i + 2] - '0') * 10 + (l[i + 3] - '0');
}

/*
 * Parse n more bytes of the answer: 1 with p->status set once the final
 * status line is in, 0 for more, -1 when it is not HTTP.
 */
static int http_feed(struct xlb_health_probe *p, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (p->in_interim) { /* up to the blank line that ends this head */
			if (c == '\n') {
				if (p->blank) {
					p->in_interim = false;
					p->line_len = 0;
				}
				p->blank = true;
			} else if (c != '\r') {
				p->blank = false;
			}
			continue;
		}
		if (p->line_len < sizeof(p->line))
			p->line[p->line_len] = c;
		p->line_len++;
		/* Not HTTP from its first bytes on (an SSH banner, say). */
		if (p->line_len <= 5 && c != "HTTP/"[p->line_len - 1])
			return -1;
		if (c == '\n') {
			int code = http_status_line(p->line, p->line_len < sizeof(p->line)
								 ? p->line_len
								 : sizeof(p->line));

			if (code < 0)
				return -1;
			if (code >= 200) {
				p->status = code;
				return 1;
			}
			p->in_interim = true; /* 1xx: its head, then the next */
			p->blank = true;
		}
	}
	return 0;
}

static void http_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_probe *p = arg;
	char buf[512];
	ssize_t n;
	int rc;

	if (p->req_off < p->req_len) {
		n = send(fd, p->req + p->req_off, p->req_len - p->req_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return; /* still connecting: the next edge */
			finish_errno(p, errno); /* a failed connect shows here */
			return;
		}
		p->req_off += (__u32)n;
		if (p->req_off < p->req_len || !(what & EV_READ))
			return; /* the answer comes with a later edge */
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			probe_finish(p, false, 0, "http: recv failed: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			probe_finish(p, false, 0, "http: connection closed before the status line");
			return;
		}
		rc = http_feed(p, buf, (size_t)n);
		if (rc < 0) {
			probe_finish(p, false, 0, "http: not an HTTP response");
			return;
		}
		if (rc > 0) {
			bool ok = p->status >= p->lo && p->status <= p->hi;

			probe_finish(p, ok, p->status, "%sHTTP %d", ok ? "ok " : "", p->status);
			return;
		}
		p->head_len += (__u32)n;
		if (p->head_len > XLB_HEALTH_HTTP_HEAD_MAX) {
			probe_finish(p, false, 0, "http: no status line in %u bytes",
				     XLB_HEALTH_HTTP_HEAD_MAX);
			return;
		}
	}
}

/* The request, as libcurl sent it for these checks before. */
static int http_request(struct xlb_health_probe *p, const struct xlb_health_target *t)
{
	char addr[INET6_ADDRSTRLEN], host[8 + INET6_ADDRSTRLEN + XLB_CONFIG_HC_HOST_MAX];
	const char *path = t->path ? t->path : "/";
	size_t max = strlen(path) + sizeof(host) + 128;
	int n;

	if (t->host) {
		snprintf(host, sizeof(host), "%s", t->host);
	} else {
		if (!inet_ntop(t->family == XLB_AF_INET ? AF_INET : AF_INET6, t->addr, addr,
			       sizeof(addr)))
			return -EINVAL;
		/* the default port stays implicit, as in a URL */
		if (t->port == 80)
			snprintf(host, sizeof(host), t->family == XLB_AF_INET ? "%s" : "[%s]", addr);
		else
			snprintf(host, sizeof(host),
				 t->family == XLB_AF_INET ? "%s:%u" : "[%s]:%u", addr, t->port);
	}
	p->req = malloc(max);
	if (!p->req)
		return -ENOMEM;
	n = snprintf(p->req, max,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: xlb-health-check/" XLB_VERSION
		     "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
		     path, host);
	if (n < 0 || (size_t)n >= max)
		return -EINVAL;
	p->req_len = (__u32)n;
	return 0;
}

static int http_plain_start(struct xlb_health_probe *p, const struct xlb_health_target *t,
			    const struct sockaddr *sa, socklen_t salen)
{
	int off = 0, err;

	p->lo = t->expect_lo || t->expect_hi ? t->expect_lo : 200;
	p->hi = t->expect_lo || t->expect_hi ? t->expect_hi : 399;
	err = http_request(p, t);
	if (err)
		return err;
	set_linger0(p->fd); /* however it ends: an RST, no TIME_WAIT */
	/* Delayed ACKs from the start (HAProxy's tcp-smart-connect): the
	 * handshake's ACK rides on the request, which follows at once, and the
	 * answer's is still pending when the RST ends the check. */
	setsockopt(p->fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof(off));
	if (connect(p->fd, sa, salen) < 0 && errno != EINPROGRESS) {
		defer_errno(p, errno);
		return 0;
	}
	/* Connected or not yet: the first edge says writable (or the error). */
	p->io = event_new(p->h->base, p->fd, EV_READ | EV_WRITE | EV_ET | EV_PERSIST, http_cb, p);
	if (!p->io || event_add(p->io, NULL))
		return -ENOMEM;
	return 0;
}

/* ---- https: libcurl's multi interface on the event loop ---- */

/*
 * curl owns the sockets; libevent watches them for it (socket callback) and
 * runs its one timer. Easy handles are kept for reuse, so a check allocates
 * nothing in steady state. The header callback ends the transfer at the end
 * of the final response's head: the status decides, no body is read.
 * Connections are never reused (a check tests a fresh connect) and closed
 * with an RST. Our probe timer, not curl's, decides the timeout, so that a
 * held-up loop looks at an answer that is waiting before failing the check.
 */
static void curl_check_done(struct xlb_health *h);

static void curl_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health *h = arg;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &running);
	curl_check_done(h);
}

static void curl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health *h = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_check_done(h);
}

/* CURLMOPT_SOCKETFUNCTION: watch what curl wants on a socket. */
static int curl_socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct xlb_health *h = userp;
	struct event *ev = socketp;
	struct xlb_health_probe *p = NULL;
	short kind = EV_PERSIST;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&p);
	if (what == CURL_POLL_REMOVE) {
		if (ev) {
			event_free(ev);
			curl_multi_assign(h->multi, s, NULL);
		}
		if (p && p->curl_fd == s)
			p->curl_fd = -1;
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (ev) { /* what curl waits for changed: the same event, re-aimed */
		event_del(ev);
		if (event_assign(ev, h->base, s, kind, curl_event_cb, h))
			return -1;
	} else {
		ev = event_new(h->base, s, kind, curl_event_cb, h);
		curl_multi_assign(h->multi, s, ev);
	}
	if (!ev || event_add(ev, NULL))
		return -1;
	if (p) { /* for timer_cb's look at a waiting answer */
		p->curl_fd = s;
		p->curl_what = kind & (EV_READ | EV_WRITE);
	}
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. */
static int curl_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct xlb_health *h = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(h->curl_timer);
	tv = xlb_health__ms_tv((__u64)timeout_ms);
	return evtimer_add(h->curl_timer, &tv);
}

static int curl_sockopt_fn(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	int off = 0;

	(void)clientp;
	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	set_linger0(fd); /* however it ends: an RST, no TIME_WAIT */
	/*
	 * Delayed ACKs from the start (HAProxy's tcp-smart-connect): the
	 * handshake's ACK rides on the request, which follows at once, and the
	 * answer's is still pending when the RST ends the check. Measured on
	 * veth: ~4 segments a check to the backend instead of ~6.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof(off));
	return CURL_SOCKOPT_OK;
}

/* A header line; the blank one after a final (>= 200) status ends it all. */
static size_t curl_header_fn(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct xlb_health_probe *p = userdata;
	size_t len = size * nitems;
	long code = 0;

	if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
		curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200) {
			p->status = (int)code;
			return 0; /* curl stops with CURLE_WRITE_ERROR */
		}
	}
	return len;
}

/* Not reached when the head ends the transfer; a backstop for odd servers. */
static size_t curl_write_fn(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)size;
	(void)nmemb;
	(void)userdata;
	return 0;
}

static void http_done(struct xlb_health_probe *p, CURLcode rc)
{
	long code = p->status, oserr = 0;

	if (!code && rc == CURLE_OK)
		curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200) {
		bool ok = code >= p->lo && code <= p->hi;

		probe_finish(p, ok, (int)code, "%sHTTP %ld", ok ? "ok " : "", code);
		return;
	}
	if (rc == CURLE_COULDNT_CONNECT) {
		curl_easy_getinfo(p->easy, CURLINFO_OS_ERRNO, &oserr);
		if (oserr) {
			finish_errno(p, (int)oserr);
			return;
		}
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		probe_finish(p, false, 0, "timeout after %u ms", p->timeout_ms);
		return;
	}
	probe_finish(p, false, 0, "%s: %s", p->type == XLB_CONFIG_HC_HTTPS ? "https" : "http",
		     p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
}

/*
 * Hand finished transfers to their probes, one message at a time: a
 * callback may cancel other probes, which drops their queued messages.
 */
static void curl_check_done(struct xlb_health *h)
{
	struct xlb_health_probe *p;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		if (p)
			http_done(p, msg->data.result);
	}
}

/* An easy handle with every option that is the same for all checks. */
static CURL *easy_new(struct xlb_health *h)
{
	CURL *e = curl_easy_init();
	bool bad;

	if (!e)
		return NULL;
#if LIBCURL_VERSION_NUM >= 0x075500
	bad = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
	bad = curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	      CURLE_OK;
#endif
	bad = bad || curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	      /* https: a backend's certificate names its service, not the
	       * address checked, and is often self-signed; the check asks
	       * whether it answers, as HAProxy's check-ssl with verify none. */
	      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) ||
	      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) ||
	      curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) ||
	      curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) ||
	      curl_easy_setopt(e, CURLOPT_NOPROXY, "*") || curl_easy_setopt(e, CURLOPT_PROXY, "") ||
	      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
	      /* Addresses are numeric; a cache of thousands of them is walked
	       * whole on every transfer (3/4 of xlbd's CPU at 5,000 backends). */
	      curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L) ||
	      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) ||
	      curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers) ||
	      curl_easy_setopt(e, CURLOPT_USERAGENT, "xlb-health-check/" XLB_VERSION) ||
	      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, curl_header_fn) ||
	      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, curl_write_fn) ||
	      curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, curl_sockopt_fn) ||
	      /* A head fits; curl's 16 KiB default per handle adds up. */
	      curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 1024L);
	if (bad) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

static void easy_put(struct xlb_health *h, CURL *e)
{
	curl_multi_remove_handle(h->multi, e);
	curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers); /* a probe's own list goes */
	if (h->n_idle < XLB_HEALTH_IDLE_EASY_MAX)
		h->idle[h->n_idle++] = e;
	else
		curl_easy_cleanup(e);
}

static int http_start(struct xlb_health_probe *p, const struct xlb_health_target *t)
{
	char addr[INET6_ADDRSTRLEN], url[64 + XLB_CONFIG_HC_PATH_MAX];
	const char *path = t->path ? t->path : "/";
	struct xlb_health *h = p->h;
	/* curl's own timeout is a backstop; probe timer decides (see above) */
	long backstop_ms = (long)t->timeout_ms + 1000;
	CURL *e;

	if (!inet_ntop(t->family == XLB_AF_INET ? AF_INET : AF_INET6, t->addr, addr, sizeof(addr)))
		return -EINVAL;
	if ((size_t)snprintf(url, sizeof(url),
			     t->family == XLB_AF_INET ? "%s://%s:%u%s" : "%s://[%s]:%u%s",
			     t->type == XLB_CONFIG_HC_HTTPS ? "https" : "http", addr, t->port,
			     path) >= sizeof(url))
		return -EINVAL;
	p->lo = t->expect_lo || t->expect_hi ? t->expect_lo : 200;
	p->hi = t->expect_lo || t->expect_hi ? t->expect_hi : 399;

	if (t->host) {
		char line[16 + XLB_CONFIG_HC_HOST_MAX];

		snprintf(line, sizeof(line), "Host: %s", t->host);
		p->headers = curl_slist_append(NULL, "Connection: close");
		if (!p->headers || !curl_slist_append(p->headers, line))
			return -ENOMEM; /* probe_release() frees the list */
	}
	e = h->n_idle ? h->idle[--h->n_idle] : easy_new(h);
	if (!e)
		return -ENOMEM;
	p->errbuf[0] = 0;
	if ((p->headers && curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers)) ||
	    curl_easy_setopt(e, CURLOPT_URL, url) || curl_easy_setopt(e, CURLOPT_PRIVATE, p) ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, p) ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, backstop_ms) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, backstop_ms)) {
		curl_easy_cleanup(e);
		return -ENOMEM;
	}
	if (curl_multi_add_handle(h->multi, e)) {
		curl_easy_cleanup(e);
		return -ENOMEM;
	}
	p->easy = e;
	return 0;
}

/* ---- the prober ---- */

int xlb_health__new(struct event_base *base, struct xlb_health **out)
{
	struct xlb_health *h;

	if (!base || !out)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	h = calloc(1, sizeof(*h));
	if (!h)
		goto err_global;
	h->base = base;
	h->curl_timer = evtimer_new(base, curl_timer_cb, h);
	h->headers = curl_slist_append(NULL, "Connection: close");
	h->multi = curl_multi_init();
	if (!h->curl_timer || !h->headers || !h->multi ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_fn) ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, curl_timer_fn) ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h))
		goto err_free;
	*out = h;
	return 0;

err_free:
	if (h->multi)
		curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->headers);
	if (h->curl_timer)
		event_free(h->curl_timer);
	free(h);
err_global:
	curl_global_cleanup();
	return -ENOMEM;
}

void xlb_health__free(struct xlb_health *h)
{
	if (!h)
		return;
	while (h->probes)
		probe_release(h->probes);
	while (h->n_idle)
		curl_easy_cleanup(h->idle[--h->n_idle]);
	curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->headers);
	event_free(h->curl_timer);
	free(h);
	curl_global_cleanup();
}

unsigned int xlb_health__in_flight(const struct xlb_health *h)
{
	return h->in_flight;
}

int xlb_health__probe(struct xlb_health *h, const struct xlb_health_target *t,
		      xlb_health_done_fn done, void *arg, struct xlb_health_probe **handle)
{
	struct sockaddr_storage ss;
	struct xlb_health_probe *p;
	socklen_t salen;
	int err;

	if (!h || !done || check_target(t) || target_sockaddr(t, &ss, &salen))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->h = h;
	p->type = t->type;
	p->done = done;
	p->arg = arg;
	p->timeout_ms = t->timeout_ms;
	p->fd = -1;
	p->curl_fd = -1;
	p->start_ns = xlb_clock__mono_ns();
	p->next = h->probes;
	if (h->probes)
		h->probes->prev = p;
	h->probes = p;
	h->in_flight++;

	{
		struct timeval tv = xlb_health__ms_tv(t->timeout_ms);
		int type = t->type == XLB_CONFIG_HC_UDP ? SOCK_DGRAM : SOCK_STREAM;

		/* From a callback, the loop's cached time may be stale. */
		event_base_update_cache_time(h->base);
		p->timer = evtimer_new(h->base, timer_cb, p);
		if (!p->timer || evtimer_add(p->timer, &tv)) {
			err = -ENOMEM;
			goto err;
		}
		if (t->type == XLB_CONFIG_HC_HTTPS) {
			err = http_start(p, t);
		} else {
			p->fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (p->fd < 0) {
				err = -errno;
				goto err;
			}
			if (t->type == XLB_CONFIG_HC_TCP)
				err = tcp_start(p, (struct sockaddr *)&ss, salen);
			else if (t->type == XLB_CONFIG_HC_HTTP)
				err = http_plain_start(p, t, (struct sockaddr *)&ss, salen);
			else
				err = udp_start(p, t, (struct sockaddr *)&ss, salen);
		}
	}
	if (err)
		goto err;
	if (handle)
		*handle = p;
	return 0;

err:
	probe_release(p);
	return err;
}

void xlb_health__cancel(struct xlb_health_probe *p)
{
	if (p)
		probe_release(p);
}

/* Bytes of canonical hex (config validation made it) into out: the count,
 * or -EINVAL.
 */
static int hex_decode(const char *hex, unsigned char *out, size_t max)
{
	size_t n = 0;

	for (; hex && hex[0] && hex[1]; hex += 2) {
		unsigned int b;

		if (n == max || sscanf(hex, "%2x", &b) != 1)
			return -EINVAL;
		out[n++] = (unsigned char)b;
	}
	return hex && *hex ? -EINVAL : (int)n;
}

int xlb_health__target_from_config(const struct xlb_config_vip *vip,
				   const struct xlb_config_backend *be, struct xlb_health_target *t,
				   struct xlb_health_udp_bytes *bytes)
{
	const struct xlb_config_health_check *hc;
	int payload_len, reply_len;
	__u32 port;

	if (!vip || !be || !t || !bytes)
		return -EINVAL;
	hc = &vip->health_check;
	port = hc->port ? hc->port : vip->addr.port;
	if (port > 65535 || (!port && hc->type != XLB_CONFIG_HC_NONE))
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->type = hc->type;
	t->family = be->family;
	memcpy(t->addr, be->addr, sizeof(t->addr));
	t->port = (__u16)port;
	t->timeout_ms = hc->timeout_ms;
	t->path = hc->path;
	t->host = hc->host;
	t->expect_lo = hc->expect_lo;
	t->expect_hi = hc->expect_hi;
	payload_len = hex_decode(hc->payload_hex, bytes->payload, sizeof(bytes->payload));
	reply_len = hex_decode(hc->response_hex, bytes->reply, sizeof(bytes->reply));
	if (payload_len < 0 || reply_len < 0)
		return -EINVAL;
	t->payload = payload_len ? bytes->payload : NULL;
	t->payload_len = (__u32)payload_len;
	t->reply = reply_len ? bytes->reply : NULL;
	t->reply_len = (__u32)reply_len;
	return 0;
}

struct event_base *xlb_health__base(const struct xlb_health *h)
{
	return h->base;
}
