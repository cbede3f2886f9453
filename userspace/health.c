/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Health-check probes (tcp, http, udp: non-blocking sockets) on
 * a libevent loop, and the per-backend check scheduler; see health.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "maps/xlb_maps.h"
#include "userspace/health.h"

#ifndef XLB_VERSION
#define XLB_VERSION "0"
#endif

#define HTTP_BODY_MAX (64 << 10) /* read and discarded, then the check ends */
#define DETAIL_MAX 128

struct xlb_health {
	struct event_base *base;
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
	char detail[DETAIL_MAX];
	void *reply;
	__u32 reply_len;
	/* http */
	char *req;
	size_t req_len, req_off;
	__u16 lo, hi;
	bool skip_head; /* inside a 1xx response's head */
	size_t body;	/* bytes received */
	size_t rlen;
	char rbuf[512]; /* the status line must fit */
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

__u64 xlb_health__now_ms(void)
{
	return now_ns() / 1000000ULL;
}

__u32 xlb_health__jitter(__u32 interval_ms, __u32 pct, __u32 rand)
{
	__u64 span, v;

	if (pct > 100)
		pct = 100;
	span = (__u64)interval_ms * pct / 100;
	v = interval_ms - span + rand % (2 * span + 1);
	return v > UINT32_MAX ? UINT32_MAX : (__u32)v;
}

static struct timeval ms_tv(__u64 ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000,
	};

	return tv;
}

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

/* A path fit for a URL without escaping, as config validation requires. */
static bool path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

static int check_target(const struct xlb_health_target *t)
{
	if (!t || !t->port || !t->timeout_ms ||
	    (t->family != XLB_AF_INET && t->family != XLB_AF_INET6))
		return -EINVAL;
	switch (t->type) {
	case XLB_CONFIG_HC_TCP:
		return 0;
	case XLB_CONFIG_HC_HTTP:
		if (t->path && !path_ok(t->path))
			return -EINVAL;
		if (t->expect_lo > t->expect_hi)
			return -EINVAL;
		return 0;
	case XLB_CONFIG_HC_UDP:
		if (t->payload_len > XLB_HEALTH_UDP_MAX || t->reply_len > XLB_HEALTH_UDP_MAX ||
		    (t->payload_len && !t->payload) || (t->reply_len && !t->reply))
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
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

	if (p->io)
		event_free(p->io);
	if (p->timer)
		event_free(p->timer);
	if (p->fd >= 0)
		close(p->fd);
	p->io = p->timer = NULL;
	p->fd = -1;
	free(p->reply);
	free(p->req);
	p->reply = p->req = NULL;
	if (p->in_timer)
		p->released = true; /* timer_cb frees it when the callback returns */
	else
		free(p);
}

static void probe_finish(struct xlb_health_probe *p, bool ok, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void probe_finish(struct xlb_health_probe *p, bool ok, int status, const char *fmt, ...)
{
	char detail[DETAIL_MAX];
	struct xlb_health_result r = {
		.ok = ok,
		.status = status,
		.detail = detail,
	};
	xlb_health_done_fn done = p->done;
	void *arg = p->arg;
	__u64 us = (now_ns() - p->start_ns) / 1000;
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
	elapsed_us = (now_ns() - p->start_ns) / 1000;
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
	if (p->io && p->fd >= 0) {
		short want = event_get_events(p->io) & (EV_READ | EV_WRITE);
		struct pollfd pfd = {
			.fd = p->fd,
			.events = (want & EV_READ ? POLLIN : 0) | (want & EV_WRITE ? POLLOUT : 0),
		};

		if (want && poll(&pfd, 1, 0) == 1) {
			event_callback_fn cb = event_get_callback(p->io);

			p->in_timer = true;
			cb(p->fd, want, p);
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
	char buf[DETAIL_MAX];

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

/* ---- http: our own HTTP/1.1 client on the probe's socket ---- */

/*
 * One request on a fresh connection, "Connection: close"; the status line
 * decides, so the probe ends (with an RST) as soon as it is in: no body is
 * read. Interim 1xx responses are skipped. No proxy, no redirects, no DNS:
 * nothing a check needs, and per check it costs a few system calls and no
 * allocation beyond the request text (libcurl's easy handles cost ~10x the
 * CPU at thousands of checks a second).
 */
static void http_read_cb(evutil_socket_t fd, short what, void *arg);

/* "HTTP/1.x NNN" at the start of a line ending in buf[0..len). */
static int http_status(const char *line, size_t len)
{
	if (len < 12 || memcmp(line, "HTTP/1.", 7) || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' ||
	    line[10] > '9' || line[11] < '0' || line[11] > '9' ||
	    (len > 12 && line[12] != ' ' && line[12] != '\r'))
		return -1;
	return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

static void http_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_probe *p = arg;
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	(void)what;
	if (!p->req_off) { /* first writability: the connect's outcome */
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			finish_errno(p, err);
			return;
		}
	}
	n = send(fd, p->req + p->req_off, p->req_len - p->req_off, MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		probe_finish(p, false, 0, "http: sending the request: %s", strerror(errno));
		return;
	}
	if (n > 0)
		p->req_off += (size_t)n;
	event_free(p->io);
	p->io = event_new(p->h->base, fd, p->req_off < p->req_len ? EV_WRITE : EV_READ | EV_PERSIST,
			  p->req_off < p->req_len ? http_write_cb : http_read_cb, p);
	if (!p->io || event_add(p->io, NULL))
		probe_finish(p, false, 0, "http: out of memory");
}

/* Acts on what p->rbuf holds; true when the probe has finished. */
static bool http_parse(struct xlb_health_probe *p)
{
	for (;;) {
		char *eol, *end;
		int code;

		if (p->skip_head) { /* after a 1xx: drop up to its blank line */
			end = strstr(p->rbuf, "\r\n\r\n");
			if (!end) {
				/* keep a tail that may hold a split "\r\n\r\n" */
				if (p->rlen > 3) {
					memmove(p->rbuf, p->rbuf + p->rlen - 3, 4);
					p->rlen = 3;
				}
				break;
			}
			end += 4;
			p->rlen -= (size_t)(end - p->rbuf);
			memmove(p->rbuf, end, p->rlen + 1);
			p->skip_head = false;
		}
		eol = memchr(p->rbuf, '\n', p->rlen);
		if (!eol) {
			if (p->rlen >= sizeof(p->rbuf) - 1)
				break; /* a status line longer than the buffer */
			return false;
		}
		code = http_status(p->rbuf, (size_t)(eol - p->rbuf));
		if (code < 0) {
			probe_finish(p, false, 0, "http: malformed status line");
			return true;
		}
		if (code >= 200) {
			bool ok = code >= p->lo && code <= p->hi;

			probe_finish(p, ok, code, "%sHTTP %d", ok ? "ok " : "", code);
			return true;
		}
		p->skip_head = true; /* 1xx: the real status follows */
	}
	if (p->body > HTTP_BODY_MAX || !p->skip_head) {
		probe_finish(p, false, 0, "http: no status line in %zu bytes", p->body);
		return true;
	}
	return false;
}

static void http_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_probe *p = arg;
	ssize_t n;

	(void)what;
	for (;;) {
		n = recv(fd, p->rbuf + p->rlen, sizeof(p->rbuf) - 1 - p->rlen, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return; /* EV_PERSIST: wait on */
			probe_finish(p, false, 0, "http: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			probe_finish(p, false, 0, "http: connection closed before a status line");
			return;
		}
		p->rlen += (size_t)n;
		p->body += (size_t)n;
		p->rbuf[p->rlen] = 0;
		if (http_parse(p))
			return;
	}
}

static int http_start(struct xlb_health_probe *p, const struct xlb_health_target *t,
		      const struct sockaddr *sa, socklen_t salen)
{
	char addr[INET6_ADDRSTRLEN];
	const char *path = t->path ? t->path : "/";
	int len;

	if (!inet_ntop(t->family == XLB_AF_INET ? AF_INET : AF_INET6, t->addr, addr, sizeof(addr)))
		return -EINVAL;
	p->lo = t->expect_lo || t->expect_hi ? t->expect_lo : 200;
	p->hi = t->expect_lo || t->expect_hi ? t->expect_hi : 399;
	len = asprintf(&p->req,
		       "GET %s HTTP/1.1\r\nHost: %s%s%s:%u\r\n"
		       "User-Agent: xlb-health-check/" XLB_VERSION "\r\n"
		       "Accept: */*\r\nConnection: close\r\n\r\n",
		       path, t->family == XLB_AF_INET ? "" : "[", addr,
		       t->family == XLB_AF_INET ? "" : "]", t->port);
	if (len < 0) {
		p->req = NULL;
		return -ENOMEM;
	}
	p->req_len = (size_t)len;
	set_linger0(p->fd); /* however it ends: an RST, no TIME_WAIT */
	if (connect(p->fd, sa, salen) < 0 && errno != EINPROGRESS) {
		defer_errno(p, errno);
		return 0;
	}
	p->io = event_new(p->h->base, p->fd, EV_WRITE, http_write_cb, p);
	if (!p->io || event_add(p->io, NULL))
		return -ENOMEM;
	return 0;
}

/* ---- the prober ---- */

int xlb_health__new(struct event_base *base, struct xlb_health **out)
{
	struct xlb_health *h;

	if (!base || !out)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->base = base;
	*out = h;
	return 0;
}

void xlb_health__free(struct xlb_health *h)
{
	if (!h)
		return;
	while (h->probes)
		probe_release(h->probes);
	free(h);
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
	p->start_ns = now_ns();
	p->next = h->probes;
	if (h->probes)
		h->probes->prev = p;
	h->probes = p;
	h->in_flight++;

	{
		struct timeval tv = ms_tv(t->timeout_ms);
		int type = t->type == XLB_CONFIG_HC_UDP ? SOCK_DGRAM : SOCK_STREAM;

		/* From a callback, the loop's cached time may be stale. */
		event_base_update_cache_time(h->base);
		p->timer = evtimer_new(h->base, timer_cb, p);
		if (!p->timer || evtimer_add(p->timer, &tv)) {
			err = -ENOMEM;
			goto err;
		}
		p->fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (p->fd < 0) {
			err = -errno;
			goto err;
		}
		if (t->type == XLB_CONFIG_HC_TCP)
			err = tcp_start(p, (struct sockaddr *)&ss, salen);
		else if (t->type == XLB_CONFIG_HC_HTTP)
			err = http_start(p, t, (struct sockaddr *)&ss, salen);
		else
			err = udp_start(p, t, (struct sockaddr *)&ss, salen);
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

int xlb_health__target_from_config(const struct xlb_config_vip *vip,
				   const struct xlb_config_backend *be,
				   struct xlb_health_target *t)
{
	const struct xlb_config_health_check *hc;
	__u32 port;

	if (!vip || !be || !t)
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
	t->expect_lo = hc->expect_lo;
	t->expect_hi = hc->expect_hi;
	return 0;
}

/* ---- the scheduler ---- */

struct xlb_health_sched {
	struct xlb_health *h;
	__u32 jitter_pct;
	__u64 rng;
	struct xlb_health_check *checks;
};

struct xlb_health_check {
	struct xlb_health_sched *s;
	struct xlb_health_check *prev, *next;
	struct xlb_health_target t; /* path, payload, reply: owned copies */
	struct event *timer;
	struct xlb_health_probe *probe;
	xlb_health_result_fn cb;
	void *arg;
	bool in_cb, dead;
};

/* xorshift64*: enough to spread timers, not for secrets. */
static __u32 sched_rand(struct xlb_health_sched *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (__u32)((s->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

int xlb_health_sched__new(struct xlb_health *h, __u32 jitter_pct, __u64 seed,
			  struct xlb_health_sched **out)
{
	struct xlb_health_sched *s;

	if (!h || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->h = h;
	s->jitter_pct = jitter_pct > 100 ? 100 : jitter_pct;
	if (!seed)
		seed = now_ns() ^ ((__u64)getpid() << 32);
	s->rng = seed ? seed : 1; /* xorshift must not start at 0 */
	*out = s;
	return 0;
}

static void target_free(struct xlb_health_target *t)
{
	free((void *)t->path);
	free((void *)t->payload);
	free((void *)t->reply);
	memset(t, 0, sizeof(*t));
}

static void *dup_mem(const void *p, size_t n)
{
	void *q;

	if (!n)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

static int target_dup(const struct xlb_health_target *src, struct xlb_health_target *dst)
{
	struct xlb_health_target t = *src;

	t.path = NULL;
	t.payload = NULL;
	t.reply = NULL;
	if ((src->path && !(t.path = strdup(src->path))) ||
	    (src->payload_len && !(t.payload = dup_mem(src->payload, src->payload_len))) ||
	    (src->reply_len && !(t.reply = dup_mem(src->reply, src->reply_len)))) {
		target_free(&t);
		return -ENOMEM;
	}
	*dst = t;
	return 0;
}

static void check_free(struct xlb_health_check *c)
{
	struct xlb_health_sched *s = c->s;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->checks = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->probe)
		xlb_health__cancel(c->probe);
	event_free(c->timer);
	target_free(&c->t);
	free(c);
}

static void check_arm(struct xlb_health_check *c, __u64 delay_ms)
{
	struct timeval tv = ms_tv(delay_ms);

	evtimer_add(c->timer, &tv);
}

static void check_done(void *arg, const struct xlb_health_result *r)
{
	struct xlb_health_check *c = arg;
	long long next;

	c->probe = NULL;
	c->in_cb = true;
	next = c->cb(c->arg, r);
	c->in_cb = false;
	if (c->dead) {
		check_free(c);
		return;
	}
	if (next >= 0) {
		__u32 d = next > UINT32_MAX ? UINT32_MAX : (__u32)next;

		check_arm(c, xlb_health__jitter(d, c->s->jitter_pct, sched_rand(c->s)));
	}
}

static void check_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_check *c = arg;
	struct xlb_health_result r = {.ok = false};
	char detail[DETAIL_MAX];
	int err;

	(void)fd;
	(void)what;
	err = xlb_health__probe(c->s->h, &c->t, check_done, c, &c->probe);
	if (!err)
		return;
	/* Could not even start (e.g. out of descriptors): a failed check. */
	c->probe = NULL;
	snprintf(detail, sizeof(detail), "probe not started: %s", strerror(-err));
	r.detail = detail;
	check_done(c, &r);
}

int xlb_health_sched__add(struct xlb_health_sched *s, const struct xlb_health_target *t,
			  __u32 first_delay_max_ms, xlb_health_result_fn cb, void *arg,
			  struct xlb_health_check **out)
{
	struct xlb_health_check *c;
	struct sockaddr_storage ss;
	socklen_t salen;

	if (!s || !cb || check_target(t) || target_sockaddr(t, &ss, &salen))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->cb = cb;
	c->arg = arg;
	c->timer = evtimer_new(s->h->base, check_timer_cb, c);
	if (!c->timer || target_dup(t, &c->t)) {
		if (c->timer)
			event_free(c->timer);
		free(c);
		return -ENOMEM;
	}
	c->next = s->checks;
	if (s->checks)
		s->checks->prev = c;
	s->checks = c;
	check_arm(c, first_delay_max_ms ? sched_rand(s) % ((__u64)first_delay_max_ms + 1) : 0);
	if (out)
		*out = c;
	return 0;
}

int xlb_health_sched__set_target(struct xlb_health_check *c, const struct xlb_health_target *t)
{
	struct xlb_health_target n;
	struct sockaddr_storage ss;
	socklen_t salen;

	if (!c || check_target(t) || target_sockaddr(t, &ss, &salen))
		return -EINVAL;
	if (target_dup(t, &n))
		return -ENOMEM;
	target_free(&c->t);
	c->t = n;
	return 0;
}

void xlb_health_sched__kick(struct xlb_health_check *c, __u32 delay_ms)
{
	if (c->probe || c->in_cb || c->dead)
		return;
	check_arm(c, delay_ms);
}

bool xlb_health_sched__busy(const struct xlb_health_check *c)
{
	return c->probe != NULL;
}

void xlb_health_sched__del(struct xlb_health_check *c)
{
	if (!c)
		return;
	if (c->in_cb) {
		c->dead = true; /* freed when its callback returns */
		return;
	}
	check_free(c);
}

void xlb_health_sched__free(struct xlb_health_sched *s)
{
	if (!s)
		return;
	while (s->checks)
		check_free(s->checks);
	free(s);
}
