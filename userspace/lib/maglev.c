/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Weighted Maglev (Eisenbud et al., NSDI'16, section 3.4) with weights by
 * credit: in every round each backend earns its weight, and it takes its next
 * preferred free entry each time its credit reaches the largest weight. With
 * equal weights every backend takes one entry per round: classic Maglev.
 *
 * A backend's permutation depends on its address only (never on its id or on
 * its position in the caller's array), and backends take turns in address
 * order, so the table is a function of the set of {address, weight, id}.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/maglev.h"

/* Two unrelated seeds, so offset and skip are independent. */
#define MAGLEV_SEED_OFFSET 0x9e3779b97f4a7c15ULL
#define MAGLEV_SEED_SKIP 0xc2b2ae3d27d4eb4fULL

/* Above this many backend visits per entry, round passes lose to the heap. */
#define MAGLEV_ROUNDS_MAX_STEPS 16

struct maglev_state {
	__u32 pos;  /* next entry of this backend's permutation to try */
	__u32 skip; /* permutation step, 1..size-1 */
	__u32 id;   /* value written into the table */
	__u32 weight;
	__u32 credit; /* weight earned and not yet spent on an entry */
};

bool xlb_maglev__is_prime(__u32 n)
{
	__u64 i;

	if (n < 2)
		return false;
	if (n < 4)
		return true;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	for (i = 5; i * i <= n; i += 6)
		if (n % i == 0 || n % (i + 2) == 0)
			return false;
	return true;
}

/* murmur3's 64-bit finalizer: every input bit flips each output bit with
 * probability close to 1/2.
 */
static __u64 mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Hash family and the 16 address bytes, read byte by byte so that hosts of
 * either endianness build the same table.
 */
static __u64 hash_addr(const struct xlb_maglev_backend *b, __u64 seed)
{
	const __u8 *p = (const __u8 *)b->addr;
	__u64 hi = 0, lo = 0, h;
	int i;

	for (i = 0; i < 8; i++) {
		hi = hi << 8 | p[i];
		lo = lo << 8 | p[8 + i];
	}
	h = mix64(seed ^ b->family);
	h = mix64(h ^ hi);
	return mix64(h ^ lo);
}

static int cmp_addr(const void *a, const void *b)
{
	const struct xlb_maglev_backend *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* Min-heap of u64 keys: move heap[i] down to its place. */
static void heap_sift_down(__u64 *heap, __u32 n, __u32 i)
{
	__u64 key = heap[i];

	for (;;) {
		__u32 c = 2 * i + 1;

		if (c >= n)
			break;
		/* Add the comparison, not branch on it: it is a coin toss. */
		if (c + 1 < n)
			c += heap[c + 1] < heap[c];
		if (key <= heap[c])
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = key;
}

/*
 * Rounds until backend s earns max_weight again, and its credit after it
 * spends it then. Credit stays below weight, so this is at least one round.
 */
static __u32 schedule_next(struct maglev_state *s, __u32 max_weight)
{
	__u32 rounds;

	if (s->weight == max_weight)
		return 1;
	rounds = (max_weight - s->credit + s->weight - 1) / s->weight;
	s->credit = s->credit + rounds * s->weight - max_weight;
	return rounds;
}

/* Give backend s the next free entry of its permutation. */
static void place(struct maglev_state *s, __u64 *used, __u32 *table, __u32 size)
{
	__u32 pos = s->pos;

	/* Walk the permutation by adding skip: no modulo per step. */
	while (used[pos / 64] & (1ULL << (pos % 64))) {
		pos += s->skip;
		if (pos >= size)
			pos -= size;
	}
	used[pos / 64] |= 1ULL << (pos % 64);
	table[pos] = s->id;
	pos += s->skip;
	s->pos = pos >= size ? pos - size : pos;
}

/*
 * The credit scheme as written: one pass over the backends per round. A round
 * places sum_weight / max_weight entries, so this costs
 * n * max_weight / sum_weight steps per entry: cheap unless weights are skewed.
 */
static void fill_by_rounds(struct maglev_state *st, __u32 n, __u32 max_weight, __u64 *used,
			   __u32 *table, __u32 size)
{
	__u32 filled = 0, b = 0;

	while (filled < size) {
		struct maglev_state *s = &st[b];

		s->credit += s->weight;
		if (s->credit >= max_weight) {
			s->credit -= max_weight;
			place(s, used, table, size);
			filled++;
		}
		if (++b == n)
			b = 0;
	}
}

/*
 * The same sequence of placements at O(log n) per entry, for skewed weights:
 * a min-heap of (round of the backend's next placement << 32 | index) pops
 * backends in round order, then address order, as the passes would. Both
 * halves fit: index < XLB_MAX_BACKENDS_PER_VIP, and the table is full by
 * round size * max_weight / sum_weight <= size, plus at most max_weight.
 */
static void fill_by_heap(struct maglev_state *st, __u32 n, __u32 max_weight, __u64 *heap,
			 __u64 *used, __u32 *table, __u32 size)
{
	__u32 filled, i;

	for (i = 0; i < n; i++)
		heap[i] = (__u64)schedule_next(&st[i], max_weight) << 32 | i;
	for (i = n / 2; i-- > 0;)
		heap_sift_down(heap, n, i);
	for (filled = 0; filled < size; filled++) {
		__u32 round = heap[0] >> 32, b = (__u32)heap[0];

		place(&st[b], used, table, size);
		heap[0] = (__u64)(round + schedule_next(&st[b], max_weight)) << 32 | b;
		heap_sift_down(heap, n, 0);
	}
}

int xlb_maglev__build(const struct xlb_maglev_backend *backends, size_t n, __u32 size, __u32 *table)
{
	struct xlb_maglev_backend *sorted = NULL;
	struct maglev_state *st = NULL;
	__u64 *heap = NULL, *used = NULL;
	__u32 max_weight = 0, i;
	__u64 sum_weight = 0;
	int err = 0;

	if (!backends || !table || n == 0 || n > XLB_MAX_BACKENDS_PER_VIP)
		return -EINVAL;
	if (size < n || size > XLB_MAGLEV_MAX_SIZE || !xlb_maglev__is_prime(size))
		return -EINVAL;

	sorted = calloc(n, sizeof(*sorted));
	st = calloc(n, sizeof(*st));
	heap = calloc(n, sizeof(*heap));
	used = calloc((size + 63) / 64, sizeof(*used));
	if (!sorted || !st || !heap || !used) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < n; i++) {
		sorted[i] = backends[i];
		if (sorted[i].weight == 0 ||
		    (sorted[i].family != XLB_AF_INET && sorted[i].family != XLB_AF_INET6)) {
			err = -EINVAL;
			goto out;
		}
		/* Only addr[0] is an IPv4 address: ignore whatever follows it. */
		if (sorted[i].family == XLB_AF_INET)
			memset(&sorted[i].addr[1], 0, 3 * sizeof(sorted[i].addr[0]));
		if (sorted[i].weight > max_weight)
			max_weight = sorted[i].weight;
		sum_weight += sorted[i].weight;
	}
	qsort(sorted, n, sizeof(*sorted), cmp_addr);
	for (i = 1; i < n; i++) {
		if (cmp_addr(&sorted[i - 1], &sorted[i]) == 0) {
			err = -EINVAL;
			goto out;
		}
	}

	for (i = 0; i < n; i++) {
		st[i].pos = hash_addr(&sorted[i], MAGLEV_SEED_OFFSET) % size;
		st[i].skip = hash_addr(&sorted[i], MAGLEV_SEED_SKIP) % (size - 1) + 1;
		st[i].id = sorted[i].id;
		st[i].weight = sorted[i].weight;
	}
	/* Both give the same table; pick the cheaper (crossover measured ~20-30). */
	if ((__u64)n * max_weight <= MAGLEV_ROUNDS_MAX_STEPS * sum_weight)
		fill_by_rounds(st, n, max_weight, used, table, size);
	else
		fill_by_heap(st, n, max_weight, heap, used, table, size);

out:
	free(used);
	free(heap);
	free(st);
	free(sorted);
	return err;
}
