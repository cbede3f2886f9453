/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>

#include "maps/xlb_maps.h"
#include "userspace/wrr.h"

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

int xlb_wrr__build(const __u32 *ids, const __u32 *weights, size_t n, __u32 cap, __u32 *seq)
{
	__s64 *score = NULL;
	__u64 *w = NULL, sum;
	int ret = -EINVAL;

	if (!ids || !weights || !seq || !n || n > cap || cap > (1U << 30))
		return -EINVAL;
	w = calloc(n, sizeof(*w));
	score = calloc(n, sizeof(*score));
	if (!w || !score) {
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
	for (__u64 k = 0; k < sum; k++) {
		size_t best = 0;

		for (size_t i = 0; i < n; i++) {
			score[i] += (__s64)w[i];
			if (score[i] > score[best])
				best = i;
		}
		score[best] -= (__s64)sum;
		seq[k] = ids[best];
	}
	ret = (int)sum;
out:
	free(w);
	free(score);
	return ret;
}
