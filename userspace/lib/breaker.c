/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Per-backend circuit breaker and per-VIP panic mode; see breaker.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/lib/breaker.h"

static const char *const state_names[XLB_BREAKER_STATE_MAX] = {
	[XLB_BREAKER_CLOSED] = "closed",
	[XLB_BREAKER_OPEN] = "open",
	[XLB_BREAKER_HALF_OPEN] = "half_open",
	[XLB_BREAKER_PENDING] = "pending",
};

static const char *const reason_names[XLB_BREAKER_R_MAX] = {
	[XLB_BREAKER_R_FAILURES] = "failures",
	[XLB_BREAKER_R_EJECTION_OVER] = "ejection_over",
	[XLB_BREAKER_R_RECOVERED] = "recovered",
	[XLB_BREAKER_R_PROBE_FAILED] = "probe_failed",
	[XLB_BREAKER_R_FIRST_SUCCESS] = "first_success",
};

const char *xlb_breaker__state_name(enum xlb_breaker_state s)
{
	return (unsigned int)s < XLB_BREAKER_STATE_MAX ? state_names[s] : "?";
}

const char *xlb_breaker__reason_name(enum xlb_breaker_reason r)
{
	return (unsigned int)r < XLB_BREAKER_R_MAX ? reason_names[r] : "?";
}

static int check_params(const struct xlb_breaker_params *p)
{
	if (!p || !p->rise || !p->fall || !p->interval_ms || !p->base_ejection_ms ||
	    p->max_ejection_ms < p->base_ejection_ms)
		return -EINVAL;
	return 0;
}

int xlb_breaker__params_from_config(const struct xlb_config_health_check *hc,
				    const struct xlb_config_circuit_breaker *cb,
				    struct xlb_breaker_params *out)
{
	struct xlb_breaker_params p;

	if (!hc || !cb || !out)
		return -EINVAL;
	p = (struct xlb_breaker_params){
		.rise = hc->rise,
		.fall = hc->fall,
		.interval_ms = hc->interval_ms,
		.base_ejection_ms = cb->base_ejection_ms,
		.max_ejection_ms = cb->max_ejection_ms,
		.slow_start_ms = cb->slow_start_ms,
	};
	if (check_params(&p))
		return -EINVAL;
	*out = p;
	return 0;
}

int xlb_breaker__init(struct xlb_breaker *b, const struct xlb_breaker_params *p, __u64 now_ms,
		      enum xlb_breaker_state initial)
{
	if (!b || check_params(p) ||
	    (initial != XLB_BREAKER_CLOSED && initial != XLB_BREAKER_PENDING))
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->p = *p;
	b->state = initial;
	b->since_ms = now_ms;
	b->out_since_ms = now_ms;
	b->backoff_ms = p->base_ejection_ms;
	return 0;
}

static __u32 clamp_u32(__u32 v, __u32 lo, __u32 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int xlb_breaker__set_params(struct xlb_breaker *b, const struct xlb_breaker_params *p)
{
	if (!b || check_params(p))
		return -EINVAL;
	b->p = *p;
	b->backoff_ms = clamp_u32(b->backoff_ms, p->base_ejection_ms, p->max_ejection_ms);
	if (!p->slow_start_ms)
		b->slow_start = false;
	return 0;
}

/* CLOSED continuously until this instant resets the backoff; NEVER if n/a. */
static __u64 reset_at(const struct xlb_breaker *b)
{
	if (b->state != XLB_BREAKER_CLOSED || b->backoff_ms == b->p.base_ejection_ms)
		return XLB_BREAKER_NEVER;
	return b->since_ms + (__u64)XLB_BREAKER_RESET_FACTOR * b->last_ejection_ms;
}

static __u64 slow_start_end(const struct xlb_breaker *b)
{
	return b->since_ms + b->p.slow_start_ms;
}

/* The silent, time-driven changes: end of the ramp, backoff reset. */
static void maintain(struct xlb_breaker *b, __u64 now_ms)
{
	if (b->state != XLB_BREAKER_CLOSED)
		return;
	if (b->slow_start && now_ms >= slow_start_end(b))
		b->slow_start = false;
	if (now_ms >= reset_at(b))
		b->backoff_ms = b->p.base_ejection_ms;
}

static int transition(struct xlb_breaker *b, __u64 now_ms, enum xlb_breaker_state to,
		      enum xlb_breaker_reason reason, struct xlb_breaker_event *ev)
{
	struct xlb_breaker_event e = {
		.from = b->state,
		.to = to,
		.reason = reason,
	};

	if (to == XLB_BREAKER_OPEN) {
		__u32 d = clamp_u32(b->backoff_ms, b->p.base_ejection_ms, b->p.max_ejection_ms);
		__u64 next = (__u64)d * 2;

		if (b->state == XLB_BREAKER_CLOSED) {
			b->out_since_ms = now_ms;
			b->panic_kept = false;
		}
		b->open_until_ms = now_ms + d;
		b->last_ejection_ms = d;
		b->backoff_ms = next > b->p.max_ejection_ms ? b->p.max_ejection_ms : (__u32)next;
		b->ejections++;
		e.ejection_ms = d;
	} else if (to == XLB_BREAKER_CLOSED) {
		/* A backend panic mode kept in the table needs no ramp. */
		b->slow_start = b->p.slow_start_ms && !b->panic_kept;
		b->panic_kept = false;
	}
	b->state = to;
	b->since_ms = now_ms;
	if (ev)
		*ev = e;
	return 1;
}

int xlb_breaker__on_result(struct xlb_breaker *b, __u64 now_ms, bool success,
			   struct xlb_breaker_event *ev)
{
	maintain(b, now_ms);
	if (b->state == XLB_BREAKER_OPEN)
		return 0; /* a penalty, not a probe: ignored */

	if (success) {
		b->successes++;
		b->failures = 0;
	} else {
		b->failures++;
		b->successes = 0;
	}

	switch (b->state) {
	case XLB_BREAKER_CLOSED:
		if (b->failures >= b->p.fall)
			return transition(b, now_ms, XLB_BREAKER_OPEN, XLB_BREAKER_R_FAILURES, ev);
		break;
	case XLB_BREAKER_HALF_OPEN:
		if (!success)
			return transition(b, now_ms, XLB_BREAKER_OPEN, XLB_BREAKER_R_PROBE_FAILED,
					  ev);
		if (b->successes >= b->p.rise)
			return transition(b, now_ms, XLB_BREAKER_CLOSED, XLB_BREAKER_R_RECOVERED,
					  ev);
		break;
	case XLB_BREAKER_PENDING:
		if (success)
			return transition(b, now_ms, XLB_BREAKER_CLOSED,
					  XLB_BREAKER_R_FIRST_SUCCESS, ev);
		break;
	default:
		break;
	}
	return 0;
}

int xlb_breaker__tick(struct xlb_breaker *b, __u64 now_ms, struct xlb_breaker_event *ev)
{
	maintain(b, now_ms);
	if (b->state == XLB_BREAKER_OPEN && now_ms >= b->open_until_ms) {
		b->successes = 0;
		return transition(b, now_ms, XLB_BREAKER_HALF_OPEN, XLB_BREAKER_R_EJECTION_OVER,
				  ev);
	}
	return 0;
}

bool xlb_breaker__in_service(const struct xlb_breaker *b)
{
	return b->state == XLB_BREAKER_CLOSED || b->panic_kept;
}

/* Slow-start step at now_ms (0..STEPS-1), or -1 when not ramping. */
static int slow_start_step(const struct xlb_breaker *b, __u64 now_ms)
{
	__u64 elapsed;

	if (b->state != XLB_BREAKER_CLOSED || !b->slow_start || !b->p.slow_start_ms ||
	    now_ms >= slow_start_end(b))
		return -1;
	elapsed = now_ms > b->since_ms ? now_ms - b->since_ms : 0;
	return (int)(elapsed * XLB_BREAKER_SLOW_START_STEPS / b->p.slow_start_ms);
}

__u32 xlb_breaker__effective_weight(const struct xlb_breaker *b, __u32 weight, __u64 now_ms)
{
	const __u64 steps = XLB_BREAKER_SLOW_START_STEPS, min = XLB_BREAKER_SLOW_START_MIN_PCT;
	int k;
	__u64 w;

	if (!xlb_breaker__in_service(b))
		return 0;
	k = slow_start_step(b, now_ms);
	if (k < 0)
		return weight;
	/* Linear from min% at step 0 to 100% at step STEPS (the end). */
	w = (__u64)weight * (min * steps + (100 - min) * (__u64)k) / (100 * steps);
	return w ? (__u32)w : 1;
}

__u64 xlb_breaker__next_check_delay(const struct xlb_breaker *b, __u64 now_ms)
{
	switch (b->state) {
	case XLB_BREAKER_OPEN:
		return now_ms >= b->open_until_ms ? 0 : b->open_until_ms - now_ms;
	case XLB_BREAKER_HALF_OPEN:
		return b->p.interval_ms / 2 ? b->p.interval_ms / 2 : 1;
	default:
		return b->p.interval_ms;
	}
}

static __u64 min_u64(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

__u64 xlb_breaker__next_deadline(const struct xlb_breaker *b, __u64 now_ms)
{
	__u64 t = XLB_BREAKER_NEVER;
	int k;

	switch (b->state) {
	case XLB_BREAKER_OPEN:
		return b->open_until_ms;
	case XLB_BREAKER_CLOSED:
		k = slow_start_step(b, now_ms);
		if (k >= 0)
			/* the first instant of step k + 1: ceil((k + 1) * ramp / steps) */
			t = b->since_ms + ((__u64)(k + 1) * b->p.slow_start_ms +
					   XLB_BREAKER_SLOW_START_STEPS - 1) /
						  XLB_BREAKER_SLOW_START_STEPS;
		return min_u64(t, reset_at(b));
	default:
		return t;
	}
}

__u64 xlb_breaker__time_to_change(const struct xlb_breaker *b, __u64 now_ms)
{
	if (b->state != XLB_BREAKER_OPEN)
		return XLB_BREAKER_NEVER;
	return now_ms >= b->open_until_ms ? 0 : b->open_until_ms - now_ms;
}

static bool out_by_state(const struct xlb_breaker *b)
{
	return b->state != XLB_BREAKER_CLOSED;
}

/*
 * Pick, among the out-of-service breakers whose panic_kept == kept, the
 * one to flip next: to keep (kept == false), the most recently out, ties to
 * the higher index; to eject (kept == true), the longest out, ties to the
 * lower index. Returns its index or n.
 */
static size_t pick(struct xlb_breaker *const *b, size_t n, bool kept)
{
	size_t i, best = n;

	for (i = 0; i < n; i++) {
		if (!out_by_state(b[i]) || b[i]->panic_kept != kept)
			continue;
		if (best == n)
			best = i;
		else if (!kept && b[i]->out_since_ms >= b[best]->out_since_ms)
			best = i;
		else if (kept && b[i]->out_since_ms < b[best]->out_since_ms)
			best = i;
	}
	return best;
}

int xlb_breaker__vip_apply_panic(struct xlb_breaker *const *b, size_t n, unsigned int max_pct,
				 bool *panic)
{
	size_t i, ejected = 0, kept = 0, allowed, changed = 0;
	bool any = false;

	if (!b && n)
		return -EINVAL;
	if (max_pct > 100)
		max_pct = 100;
	for (i = 0; i < n; i++) {
		if (!b[i])
			return -EINVAL;
		if (!out_by_state(b[i]))
			b[i]->panic_kept = false; /* closing clears it; be sure */
		else if (b[i]->panic_kept)
			kept++;
		else
			ejected++;
	}
	allowed = (size_t)((__u64)n * max_pct / 100);

	while (ejected > allowed) {
		i = pick(b, n, false);
		b[i]->panic_kept = true;
		ejected--;
		kept++;
		changed++;
	}
	while (ejected < allowed && kept) {
		i = pick(b, n, true);
		b[i]->panic_kept = false;
		ejected++;
		kept--;
		changed++;
	}
	any = kept > 0;
	if (panic)
		*panic = any;
	return (int)changed;
}

int xlb_breaker__event_str(const struct xlb_breaker_event *ev, const struct xlb_breaker *b,
			   char *buf, size_t len)
{
	char why[48] = "", tail[48] = "";

	switch (ev->reason) {
	case XLB_BREAKER_R_FAILURES:
		snprintf(why, sizeof(why), "%u consecutive failures", b->failures);
		break;
	case XLB_BREAKER_R_EJECTION_OVER:
		snprintf(why, sizeof(why), "ejection of %u ms over", b->last_ejection_ms);
		snprintf(tail, sizeof(tail), ", probing");
		break;
	case XLB_BREAKER_R_RECOVERED:
		snprintf(why, sizeof(why), "%u consecutive successes", b->successes);
		break;
	case XLB_BREAKER_R_PROBE_FAILED:
		snprintf(why, sizeof(why), "check failed while probing");
		break;
	case XLB_BREAKER_R_FIRST_SUCCESS:
		snprintf(why, sizeof(why), "first successful check");
		break;
	default:
		snprintf(why, sizeof(why), "?");
		break;
	}
	if (ev->to == XLB_BREAKER_OPEN)
		snprintf(tail, sizeof(tail), ", ejected for %u ms", ev->ejection_ms);
	else if (ev->to == XLB_BREAKER_CLOSED && b->slow_start)
		snprintf(tail, sizeof(tail), ", slow start over %u ms", b->p.slow_start_ms);
	return snprintf(buf, len, "circuit %s -> %s (%s)%s", xlb_breaker__state_name(ev->from),
			xlb_breaker__state_name(ev->to), why, tail);
}
