/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/wrr.h"

static __u64 gcd(__u64 a, __u64 b)
{
	while (b) {
		__u64 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Divides w[] by its gcd; returns the new sum. */
static __u64 reduce(__u64 *w, size_t n)
{
	__u64 g = 0, sum = 0;

	for (size_t i = 0; i < n; i++)
		g = gcd(w[i], g);
	for (size_t i = 0; i < n; i++) {
		w[i] /= g;
		sum += w[i];
	}
	return sum;
}

/*
 * nginx's rule picks, at step t (1, 2, ...), the backend with the largest
 * score t * w - sum * picks (ties: the lowest index). Scanning all backends
 * each step costs O(n) a step; instead a tournament tree keeps each match's
 * winner together with the first step at which its loser would overtake it
 * (scores grow linearly with t, so that step is a division). A step replays
 * only the matches that expire, then the picked backend's path to the root:
 * about O(log n) a step, with the same sequence, ties included.
 */
#define NEVER INT64_MAX

struct tourney {
	__u32 leaves;	/* a power of two >= n */
	const __u64 *w; /* reduced weights */
	__u64 *picks;
	__s64 sum;
	int *win;	/* per node: the winning backend, -1 for none */
	__s64 *soonest; /* per node: the first step at which its loser, or a
			 * loser below it, would win */
};

static __s64 fdiv(__s64 a, __s64 b) /* floor(a / b), b > 0 */
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static __s64 score(const struct tourney *m, int i, __s64 t)
{
	return (__s64)m->w[i] * t - m->sum * (__s64)m->picks[i];
}

/* Replays match `node` at step t. */
static void play(struct tourney *m, __u32 node, __s64 t)
{
	int a = m->win[2 * node], b = m->win[2 * node + 1], x, y;
	__s64 sa, sb, first = NEVER;

	if (a < 0 || b < 0) {
		x = a < 0 ? b : a;
		y = -1;
	} else {
		sa = score(m, a, t);
		sb = score(m, b, t);
		x = sa > sb || (sa == sb && a < b) ? a : b;
		y = x == a ? b : a;
	}
	if (y >= 0 && m->w[y] > m->w[x]) {
		/* first t' > t with (w_y - w_x) t' - sum (p_y - p_x) > 0, or == 0
		 * when y wins ties
		 */
		__s64 dw = (__s64)(m->w[y] - m->w[x]);
		__s64 k = m->sum * ((__s64)m->picks[y] - (__s64)m->picks[x]);

		first = y < x ? -fdiv(-k, dw) : fdiv(k, dw) + 1;
		if (first <= t)
			first = t + 1;
	}
	m->win[node] = x;
	m->soonest[node] = first;
	if (m->soonest[2 * node] < m->soonest[node])
		m->soonest[node] = m->soonest[2 * node];
	if (m->soonest[2 * node + 1] < m->soonest[node])
		m->soonest[node] = m->soonest[2 * node + 1];
}

/* Replays every match of the subtree whose result may have changed by t. */
static void refresh(struct tourney *m, __u32 node, __s64 t)
{
	if (node >= m->leaves || m->soonest[node] > t)
		return;
	refresh(m, 2 * node, t);
	refresh(m, 2 * node + 1, t);
	play(m, node, t);
}

int xlb_wrr__build(const __u32 *ids, const __u32 *weights, size_t n, __u32 cap, __u32 *seq)
{
	struct tourney m = {};
	__u64 *w = NULL, sum;
	int ret = -EINVAL;

	if (!ids || !weights || !seq || !n || n > cap || cap > (1U << 30))
		return -EINVAL;
	w = calloc(n, sizeof(*w));
	m.picks = calloc(n, sizeof(*m.picks));
	for (m.leaves = 1; m.leaves < n; m.leaves *= 2)
		;
	m.win = calloc(2 * m.leaves, sizeof(*m.win));
	m.soonest = calloc(2 * m.leaves, sizeof(*m.soonest));
	if (!w || !m.picks || !m.win || !m.soonest) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!weights[i] || weights[i] > XLB_WEIGHT_MAX)
			goto out;
		w[i] = weights[i];
	}
	sum = reduce(w, n);
	if (sum > cap) {
		/* Scale to cap - n, then give everyone its turn back: <= cap. */
		__u64 room = cap - n, total = sum;

		for (size_t i = 0; i < n; i++)
			w[i] = w[i] * room / total + 1;
		sum = reduce(w, n);
	}
	m.w = w;
	m.sum = (__s64)sum;
	for (__u32 i = 0; i < m.leaves; i++) {
		m.win[m.leaves + i] = i < n ? (int)i : -1;
		m.soonest[m.leaves + i] = NEVER;
	}
	for (__u32 node = m.leaves - 1; node >= 1; node--)
		play(&m, node, 1);
	for (__s64 t = 1; t <= (__s64)sum; t++) {
		int best;

		refresh(&m, 1, t);
		best = m.leaves > 1 ? m.win[1] : 0;
		seq[t - 1] = ids[best];
		m.picks[best]++;
		for (__u32 node = (m.leaves + best) / 2; node >= 1; node /= 2)
			play(&m, node, t);
	}
	ret = (int)sum;
out:
	free(w);
	free(m.picks);
	free(m.win);
	free(m.soonest);
	return ret;
}
