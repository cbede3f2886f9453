/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Active health-check probes on a libevent event_base, and a scheduler that
 * runs them per backend. Single-threaded and non-blocking: every probe is a
 * non-blocking socket on the loop, addresses are numeric (no DNS), no
 * threads, so thousands of backends share one loop. Logs nothing: results
 * go to callbacks.
 *
 * Probe types (enum xlb_config_hc_type):
 *   tcp   non-blocking connect() to addr:port; success when connected within
 *         the timeout. The socket is then closed with an RST (SO_LINGER 0,
 *         as HAProxy's checks do) so checks leave no TIME_WAIT behind.
 *   http  GET /PATH HTTP/1.1 to ADDR:PORT from a small state machine on
 *         the loop (connect, write the request, read the status line):
 *         success when the final status is within [expect_lo, expect_hi].
 *         A fresh connection per check, "Connection: close", no proxy
 *         whatever the environment says, no redirects followed, the
 *         timeout covers the whole exchange. The check ends once the final
 *         response's status line is in (no header after it, no body is
 *         read) and closes with an RST, as tcp; interim 1xx responses are
 *         skipped. The request is the one libcurl sent before: Host (the
 *         address, with the port unless 80, unless the target names a
 *         host), User-Agent xlb-health-check/VERSION, Accept (any type),
 *         Connection: close.
 *   https the same through libcurl's multi interface, over TLS (up to the
 *         end of the final response's head), the certificate not verified
 *         (it names the service, not the address checked); no SNI (the URL
 *         holds an address).
 *   udp   a datagram with the payload (default: empty, zero bytes) to
 *         addr:port from a connected socket; success when any reply arrives
 *         within the timeout, or, with reply_len > 0, a reply starting with
 *         those bytes (another reply fails at once). An ICMP port
 *         unreachable fails at once.
 *   none  not probed: xlb_health__probe() refuses it (-EINVAL).
 *
 * Details (a short reason, for `xlbctl health` and logs): "ok connected",
 * "ok HTTP 200", "ok reply 5 bytes", "HTTP 503", "connect refused",
 * "timeout after 500 ms", "port unreachable", "unexpected reply (3 bytes)",
 * "connect failed: No route to host", "http: not an HTTP response",
 * "http: connection closed before the status line", "http: recv failed:
 * ...", "https: <libcurl's error message>" (e.g. no TLS).
 *
 * Sockets: each probe in flight holds one descriptor. With thousands of
 * backends and a timeout that is a good part of the interval, raise
 * RLIMIT_NOFILE (in flight ~ backends x timeout / interval at worst).
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "userspace/lib/config.h"

struct event_base;
struct xlb_health;
struct xlb_health_probe;

struct xlb_health_target {
	enum xlb_config_hc_type type;
	__u8 family;	 /* XLB_AF_INET or XLB_AF_INET6 */
	__be32 addr[4];	 /* IPv4 in addr[0], network byte order */
	__u16 port;	 /* host byte order, 1..65535 */
	__u32 timeout_ms; /* >= 1 */
	/* http */
	const char *path;	    /* starts with '/'; NULL = "/" */
	const char *host;	    /* the Host header; NULL = the backend's address */
	__u16 expect_lo, expect_hi; /* inclusive; both 0 = 200-399 */
	/* udp */
	const void *payload; /* NULL with payload_len 0: an empty datagram */
	__u32 payload_len;   /* <= XLB_HEALTH_UDP_MAX */
	const void *reply;   /* expected start of the reply; reply_len 0 = any */
	__u32 reply_len;     /* <= XLB_HEALTH_UDP_MAX */
};

#define XLB_HEALTH_UDP_MAX XLB_CONFIG_HC_UDP_MAX

struct xlb_health_result {
	bool ok;
	__u32 latency_us;   /* probe start to outcome (timeouts: ~timeout) */
	int status;	    /* http: the status code, 0 when none came */
	const char *detail; /* a short reason; valid during the callback only */
};

/* The outcome of one probe, called once from the event loop (never from
 * within xlb_health__probe()). The probe handle is gone when it is called.
 */
typedef void (*xlb_health_done_fn)(void *arg, const struct xlb_health_result *r);

/* A prober on base (which must outlive it). Returns 0 or -errno. */
int xlb_health__new(struct event_base *base, struct xlb_health **out);
/* Cancels every probe in flight (no callbacks), then frees. Not from a callback. */
void xlb_health__free(struct xlb_health *h);

/*
 * Start one probe of t (copied: t and its buffers may go after the call).
 * done(arg, result) follows, exactly once, unless cancelled. handle (may be
 * NULL) receives the probe for xlb_health__cancel(); it is valid until done
 * is called or it is cancelled. Returns 0, or -errno (-EINVAL for a bad
 * target or type none, socket errors such as -EMFILE) with nothing started.
 */
int xlb_health__probe(struct xlb_health *h, const struct xlb_health_target *t,
		      xlb_health_done_fn done, void *arg, struct xlb_health_probe **handle);

/*
 * Whether a probe of t can start (what probe() and the scheduler refuse
 * with -EINVAL): 0, or -EINVAL with the reason in err ("port 0").
 */
int xlb_health__target_check(const struct xlb_health_target *t, char *err, size_t errlen);

/* Stop a probe in flight; its done callback will not be called. */
void xlb_health__cancel(struct xlb_health_probe *p);

/* Probes in flight. */
unsigned int xlb_health__in_flight(const struct xlb_health *h);

/* Where xlb_health__target_from_config() decodes a udp check's bytes. */
struct xlb_health_udp_bytes {
	unsigned char payload[XLB_HEALTH_UDP_MAX];
	unsigned char reply[XLB_HEALTH_UDP_MAX];
};

/*
 * The probe target of one backend of a validated VIP config. Borrows
 * vip->health_check.path and host, and points at the udp payload and reply decoded
 * into bytes: keep both alive while t is used, or let the scheduler copy
 * them (xlb_health_sched__add() does). Returns 0 or -EINVAL (port 0 with a
 * type other than none, or a payload or response that is not hex).
 */
int xlb_health__target_from_config(const struct xlb_config_vip *vip,
				   const struct xlb_config_backend *be, struct xlb_health_target *t,
				   struct xlb_health_udp_bytes *bytes);

/*
 * interval_ms moved by a uniformly spread offset within +-pct% of it (pct
 * above 100 counts as 100), chosen by rand: interval - span + rand % (2 *
 * span + 1), span = interval * pct / 100; saturates at UINT32_MAX. Pure.
 */
__u32 xlb_health__jitter(__u32 interval_ms, __u32 pct, __u32 rand);

/* CLOCK_MONOTONIC in ms: the clock to give the breaker. */
__u64 xlb_health__now_ms(void);

/*
 * Scheduler (health_sched.c): one check per backend, each with its own
 * probe timer. A check runs a probe, hands the result to its callback, and
 * the callback says when to probe next (ms after the result; the scheduler
 * jitters it by +-jitter_pct, so probes started together drift apart), or
 * XLB_HEALTH_PAUSE to stop until xlb_health_sched__kick(). Probes of one
 * check never overlap.
 *
 * xlbd's callback (supervise.c, see breaker.h) feeds the result to the
 * backend's breaker and returns xlb_breaker__next_check_delay(), or
 * XLB_HEALTH_PAUSE while the breaker is OPEN. Time-driven breaker changes
 * are not the scheduler's: the supervisor's one 100 ms tick calls
 * xlb_breaker__tick() on every breaker, applies panic mode and republishes
 * when the effective set changed, and kicks a check (kick(c, 0)) when its
 * breaker goes OPEN -> HALF_OPEN.
 */
#define XLB_HEALTH_PAUSE (-1LL)

struct xlb_health_sched;
struct xlb_health_check;

typedef long long (*xlb_health_result_fn)(void *arg, const struct xlb_health_result *r);

/*
 * A scheduler on h's event_base. jitter_pct: 10 for the +-10% default.
 * seed: the jitter's random sequence, 0 = seeded from the clock and pid.
 * h must outlive the scheduler (free the scheduler first). 0 or -errno.
 */
int xlb_health_sched__new(struct xlb_health *h, __u32 jitter_pct, __u64 seed,
			  struct xlb_health_sched **out);
/* Deletes every check (probes cancelled, no callbacks). Not from a callback. */
void xlb_health_sched__free(struct xlb_health_sched *s);

/*
 * Add a check of t (deep-copied). Its first probe runs after a delay drawn
 * uniformly from [0, first_delay_max_ms] (pass the interval to spread a
 * batch of new checks over one interval; 0 to probe at once). Returns 0 or
 * -errno (-EINVAL for a bad target or type none).
 */
int xlb_health_sched__add(struct xlb_health_sched *s, const struct xlb_health_target *t,
			  __u32 first_delay_max_ms, xlb_health_result_fn cb, void *arg,
			  struct xlb_health_check **out);

/* Replace the target (config change): from the next probe on. 0 or -errno. */
int xlb_health_sched__set_target(struct xlb_health_check *c, const struct xlb_health_target *t);

/* This check's jitter from its next probe on: +-jitter_pct (at most 100) of
 * the delay its callback asks for, instead of the scheduler's.
 */
void xlb_health_sched__set_jitter(struct xlb_health_check *c, __u32 jitter_pct);

/*
 * Probe after exactly delay_ms (no jitter), replacing the pending timer.
 * While a probe is in flight, or from within this check's own callback
 * (use the return value there), it does nothing.
 */
void xlb_health_sched__kick(struct xlb_health_check *c, __u32 delay_ms);

/* Whether a probe of c is in flight. */
bool xlb_health_sched__busy(const struct xlb_health_check *c);

/*
 * Delete a check: its probe in flight is cancelled, its callback not called
 * again. Allowed from within any check's callback, its own included.
 */
void xlb_health_sched__del(struct xlb_health_check *c);

#endif /* XLB_HEALTH_H */
