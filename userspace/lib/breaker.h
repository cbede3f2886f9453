/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Per-backend circuit breaker (pure logic: no I/O, no globals, no logging;
 * the time is passed in as milliseconds on any monotonic clock).
 *
 *   PENDING   --first success------------------> CLOSED (slow start)
 *   CLOSED    --fall consecutive failures--------> OPEN
 *   OPEN      --ejection time over (tick)--------> HALF_OPEN
 *   HALF_OPEN --rise consecutive successes-------> CLOSED (slow start)
 *   HALF_OPEN --a failure------------------------> OPEN (ejection time doubled)
 *
 * In the table: CLOSED only (and whatever panic mode keeps, below).
 *
 * PENDING: a newly added backend, out of service until its first successful
 *   check. Failures keep it PENDING (no ejection, no backoff: it
 *   was never in); it is checked at the normal interval. A backend that needs
 *   no check (health_check type none), or one adopted in service from pinned
 *   maps on an xlbd restart, is started CLOSED instead, so nothing moves.
 *
 * OPEN: ejected for the current ejection time. Check results reported while
 *   OPEN are ignored (the ejection is a penalty, not a probe), so don't probe:
 *   next_check_delay() is the time left. tick() moves it to HALF_OPEN.
 *
 * Backoff: every ejection (CLOSED -> OPEN or HALF_OPEN -> OPEN) lasts the
 *   current backoff, which starts at base_ejection_ms and doubles after each
 *   ejection, capped at max_ejection_ms: base, 2*base, 4*base, ..., max, max.
 *   It returns to base after the backend has stayed CLOSED without a break
 *   for XLB_BREAKER_RESET_FACTOR times its last ejection time (10 x 5 s = 50 s
 *   after one default ejection; longer after long ones: the worse it flapped,
 *   the longer it must behave).
 *
 * HALF_OPEN: still out of the table, checked every interval/2 (at least
 *   1 ms): rise consecutive successes close it, one failure re-opens it.
 *
 * Slow start: on entering CLOSED (from HALF_OPEN or PENDING) the effective
 *   weight ramps linearly from 10% of the configured weight to 100% over
 *   slow_start_ms, quantised to XLB_BREAKER_SLOW_START_STEPS steps so the
 *   table is republished only a few times. With 4 steps and weight 100 over
 *   10 s: 10 at [0, 2.5 s), 32 at [2.5, 5), 55 at [5, 7.5), 77 at [7.5, 10),
 *   100 from 10 s (never below 1). A backend that panic mode had kept in the
 *   table while it was out (see below) closes without a ramp: it has been
 *   serving at full weight all along.
 *
 * Panic (max_ejection_percent), per VIP, by xlb_breaker__vip_apply_panic():
 *   never eject more than max_pct% of a VIP's (non-drained) backends. The
 *   count of backends out of service by their breaker (OPEN, HALF_OPEN and
 *   PENDING alike) may be at most floor(n * max_pct / 100); when one more
 *   would exceed it, the VIP is in panic: the backends already ejected stay
 *   out, and the newcomers stay in the table ("kept") — the rest of the pool
 *   keeps serving, as Envoy's max_ejection_percent does. With 4 backends at
 *   50%: two may be out, the third to fail stays in and panic is reported.
 *   A kept backend keeps its breaker running (OPEN -> HALF_OPEN -> ...) and
 *   stays kept until it closes; when room frees up (another backend comes
 *   back), kept backends are ejected, longest-failing first. So the choice is
 *   sticky and does not flap with re-ejections. Among backends that left
 *   service at the same instant, the later in the array is kept. PENDING
 *   counts as out: a new VIP whose 4 backends are all pending keeps 2 of
 *   them in (panic) until checks decide. 0% never ejects anything, 100%
 *   never panics.
 *
 * Integration (one struct xlb_breaker per backend, embedded by the caller):
 *   - init CLOSED or PENDING; on each check result call on_result(); call
 *     tick() at or after next_deadline() (calling it more often does no
 *     harm: xlbd calls it on every breaker from one 100 ms tick in
 *     supervise.c, so a time-driven change lands within 100 ms of its
 *     deadline); a return of 1 means one state transition was made,
 *     described by *ev: log it (xlb_breaker__event_str()).
 *   - after any call that may have changed a backend of a VIP, call
 *     xlb_breaker__vip_apply_panic() over that VIP's non-drained backends
 *     BEFORE reading in_service()/effective_weight(): a transition to OPEN
 *     leaves the backend out until panic mode decides to keep it.
 *   - the table holds the backends with effective_weight(b, w, now) > 0;
 *     republish it when any of those weights or the set changes.
 *   - drain is the caller's: a drained backend is not passed to
 *     vip_apply_panic() and is left out of the table whatever its breaker says.
 */
#ifndef XLB_BREAKER_H
#define XLB_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "userspace/lib/config.h"

#define XLB_BREAKER_NEVER ((__u64)-1)	  /* no time-driven change ahead */
#define XLB_BREAKER_SLOW_START_STEPS 4	  /* weight levels below full during the ramp */
#define XLB_BREAKER_SLOW_START_MIN_PCT 10 /* the ramp starts at this % of the weight */
#define XLB_BREAKER_RESET_FACTOR 10	  /* CLOSED this many ejection times resets */

enum xlb_breaker_state {
	XLB_BREAKER_CLOSED = 0,	   /* in service */
	XLB_BREAKER_OPEN = 1,	   /* ejected, waiting out the ejection time */
	XLB_BREAKER_HALF_OPEN = 2, /* out of service, probed faster */
	XLB_BREAKER_PENDING = 3,   /* new, out of service until its first success */
	XLB_BREAKER_STATE_MAX,
};

enum xlb_breaker_reason {
	XLB_BREAKER_R_FAILURES = 0,	 /* CLOSED -> OPEN: fall consecutive failures */
	XLB_BREAKER_R_EJECTION_OVER = 1, /* OPEN -> HALF_OPEN */
	XLB_BREAKER_R_RECOVERED = 2,	 /* HALF_OPEN -> CLOSED: rise consecutive successes */
	XLB_BREAKER_R_PROBE_FAILED = 3,	 /* HALF_OPEN -> OPEN */
	XLB_BREAKER_R_FIRST_SUCCESS = 4, /* PENDING -> CLOSED */
	XLB_BREAKER_R_MAX,
};

struct xlb_breaker_params {
	__u32 rise;		/* >= 1: successes in HALF_OPEN to close */
	__u32 fall;		/* >= 1: failures in CLOSED to open */
	__u32 interval_ms;	/* check interval in CLOSED and PENDING */
	__u32 base_ejection_ms; /* first ejection */
	__u32 max_ejection_ms;	/* cap of the doubling */
	__u32 slow_start_ms;	/* 0 = no ramp */
};

/* A transition, for the caller to log (one line) and count. */
struct xlb_breaker_event {
	enum xlb_breaker_state from, to;
	enum xlb_breaker_reason reason;
	__u32 ejection_ms; /* to == OPEN: how long this ejection lasts; else 0 */
};

/*
 * Plain data, embedded by the caller; read the fields freely (for
 * `xlbctl health`), change them only through the functions below.
 */
struct xlb_breaker {
	struct xlb_breaker_params p;
	enum xlb_breaker_state state;
	__u64 since_ms;		/* entered the current state */
	__u64 out_since_ms;	/* left service (entered PENDING or OPEN from CLOSED) */
	__u64 open_until_ms;	/* OPEN: when it becomes HALF_OPEN */
	__u32 successes;	/* consecutive successes counted (ignored results not) */
	__u32 failures;		/* consecutive failures counted */
	__u32 ejections;	/* transitions to OPEN since init (a counter) */
	__u32 last_ejection_ms; /* duration of the last ejection, 0 = none yet */
	__u32 backoff_ms;	/* duration of the next ejection */
	bool slow_start;	/* the CLOSED state ramps its weight from since_ms */
	bool panic_kept;	/* out by state, kept in the table by panic mode */
};

/*
 * Breaker parameters from a validated VIP config. Returns 0 or -EINVAL
 * (rise or fall 0, interval 0, base ejection 0, max < base).
 */
int xlb_breaker__params_from_config(const struct xlb_config_health_check *hc,
				    const struct xlb_config_circuit_breaker *cb,
				    struct xlb_breaker_params *out);

/*
 * Start a breaker at now_ms in state CLOSED (in service, no slow start:
 * health_check none, or adopted in service) or PENDING (a new backend).
 * Returns 0 or -EINVAL (other state, or bad params as above).
 */
int xlb_breaker__init(struct xlb_breaker *b, const struct xlb_breaker_params *p, __u64 now_ms,
		      enum xlb_breaker_state initial);

/*
 * New parameters (config change), keeping state and counters. The backoff
 * is clamped into [base, max]; an OPEN ejection keeps its end time. A CLOSED
 * breaker whose failure count has reached the new fall is opened by its next
 * failure, not by this call. Returns 0 or -EINVAL.
 */
int xlb_breaker__set_params(struct xlb_breaker *b, const struct xlb_breaker_params *p);

/*
 * Feed one check result at now_ms (time-driven changes due by now_ms are
 * applied first, silently except OPEN -> HALF_OPEN, which is left to tick():
 * call tick() before on_result() when a result and a deadline coincide).
 * Returns 1 and fills *ev (ev may be NULL) when the state changed, else 0.
 */
int xlb_breaker__on_result(struct xlb_breaker *b, __u64 now_ms, bool success,
			   struct xlb_breaker_event *ev);

/*
 * Apply the time-driven changes due by now_ms: OPEN -> HALF_OPEN when the
 * ejection time is over (returned as an event), the end of the slow-start
 * ramp and the backoff reset (no event). Returns 1 with *ev, or 0.
 */
int xlb_breaker__tick(struct xlb_breaker *b, __u64 now_ms, struct xlb_breaker_event *ev);

/* In the VIP's table: CLOSED, or kept there by panic mode. */
bool xlb_breaker__in_service(const struct xlb_breaker *b);

/*
 * The weight to publish for a backend configured with weight at now_ms:
 * 0 when not in service, the slow-start level while ramping (>= 1), else
 * weight. Changes only at next_deadline() instants and on transitions.
 */
__u32 xlb_breaker__effective_weight(const struct xlb_breaker *b, __u32 weight, __u64 now_ms);

/*
 * How long after a check result (or after init) to run the next check:
 * CLOSED and PENDING: interval_ms; HALF_OPEN: max(1, interval_ms / 2);
 * OPEN: the ejection time left (0 when over: tick(), then check at once).
 * The caller adds its jitter.
 */
__u64 xlb_breaker__next_check_delay(const struct xlb_breaker *b, __u64 now_ms);

/*
 * The next instant (absolute ms) at which tick() has something to do:
 * the end of an ejection, the next slow-start step, the backoff reset; or
 * XLB_BREAKER_NEVER. An instant already passed is returned as is.
 */
__u64 xlb_breaker__next_deadline(const struct xlb_breaker *b, __u64 now_ms);

/*
 * For `xlbctl health`: ms until the next state change that time alone will
 * make (OPEN: until HALF_OPEN; 0 when due), or XLB_BREAKER_NEVER when the
 * next change depends on check results.
 */
__u64 xlb_breaker__time_to_change(const struct xlb_breaker *b, __u64 now_ms);

/*
 * Panic mode over one VIP's breakers (its non-drained backends, any order;
 * keep the order stable between calls, it breaks ties): sets or clears each
 * breaker's panic_kept so that at most floor(n * max_pct / 100) of them are
 * out of service by state, as described atop. *panic (may be NULL) is set
 * when any backend is kept. max_pct above 100 counts as 100.
 * Returns how many panic_kept flags it flipped (0..n), or -EINVAL. To know
 * whether to republish, compare in_service()/effective_weight() from before
 * the on_result()/tick() calls with those after this call.
 */
int xlb_breaker__vip_apply_panic(struct xlb_breaker *const *b, size_t n, unsigned int max_pct,
				 bool *panic);

/* "closed", "open", "half_open", "pending" (metric labels); "?" if unknown. */
const char *xlb_breaker__state_name(enum xlb_breaker_state s);
/* "failures", "ejection_over", "recovered", "probe_failed", "first_success". */
const char *xlb_breaker__reason_name(enum xlb_breaker_reason r);

/*
 * One log line's text for an event, e.g. "circuit closed -> open (3
 * consecutive failures), ejected for 5000 ms". The caller prefixes the VIP
 * and backend. Returns what snprintf() returns.
 */
int xlb_breaker__event_str(const struct xlb_breaker_event *ev, const struct xlb_breaker *b,
			   char *buf, size_t len);

#endif /* XLB_BREAKER_H */
