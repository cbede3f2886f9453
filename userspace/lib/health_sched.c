/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Health checks: the scheduler (health_sched.c) decides when each backend is
 * probed, with jitter; the probes (health_probe.c) run them. The API of both
 * is health.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "userspace/lib/clock.h"
#include "userspace/lib/health.h"
#include "userspace/lib/health_int.h"

__u64 xlb_health__now_ms(void)
{
	return xlb_clock__mono_ms();
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

struct xlb_health_sched {
	struct xlb_health *h;
	__u32 jitter_pct;
	__u64 rng;
	struct xlb_health_check *checks;
};

struct xlb_health_check {
	struct xlb_health_sched *s;
	struct xlb_health_check *prev, *next;
	struct xlb_health_target t; /* path, host, payload, reply: owned copies */
	struct event *timer;
	struct xlb_health_probe *probe;
	__u32 jitter_pct; /* the scheduler's until set_jitter() */
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
		seed = xlb_clock__mono_ns() ^ ((__u64)getpid() << 32);
	s->rng = seed ? seed : 1; /* xorshift must not start at 0 */
	*out = s;
	return 0;
}

static void target_free(struct xlb_health_target *t)
{
	free((void *)t->path);
	free((void *)t->host);
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
	t.host = NULL;
	t.payload = NULL;
	t.reply = NULL;
	if ((src->path && !(t.path = strdup(src->path))) ||
	    (src->host && !(t.host = strdup(src->host))) ||
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
	struct timeval tv = xlb_health__ms_tv(delay_ms);

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

		check_arm(c, xlb_health__jitter(d, c->jitter_pct, sched_rand(c->s)));
	}
}

static void check_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_health_check *c = arg;
	struct xlb_health_result r = {.ok = false};
	char detail[XLB_HEALTH_DETAIL_MAX];
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
	if (!s || !cb || xlb_health__target_check(t, NULL, 0))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->jitter_pct = s->jitter_pct;
	c->cb = cb;
	c->arg = arg;
	c->timer = evtimer_new(xlb_health__base(s->h), check_timer_cb, c);
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
	if (!c || xlb_health__target_check(t, NULL, 0))
		return -EINVAL;
	if (target_dup(t, &n))
		return -ENOMEM;
	target_free(&c->t);
	c->t = n;
	return 0;
}

void xlb_health_sched__set_jitter(struct xlb_health_check *c, __u32 jitter_pct)
{
	if (c)
		c->jitter_pct = jitter_pct > 100 ? 100 : jitter_pct;
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
