/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Unit tests of the configuration plan (`config apply --dry-run`): what
 * share of a VIP's flows change backend. maglev and source-hash VIPs get a
 * share, checked against the data path's own hashes over sampled flows;
 * wrr, rr and lc VIPs get none, only "rebalanced".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "maps/xlb_hash.h"
#include "userspace/lib/config.h"
#include "userspace/lib/maglev.h"
#include "userspace/lib/plan.h"

#define VIP "198.18.1.100:80/tcp"
#define SAMPLES 200000

/* A one-VIP config: algorithm and backends as YAML flow sequences. */
static struct xlb_config *config(const char *algo, const char *backends)
{
	struct xlb_config *cfg = NULL;
	char yaml[2048], err[512];
	int ret;

	snprintf(yaml, sizeof(yaml),
		 "vips:\n"
		 "  - vip: \"" VIP "\"\n"
		 "    algorithm: %s\n"
		 "    table_size: 4099\n"
		 "    backends: %s\n",
		 algo, backends);
	ret = xlb_config__load_string(yaml, strlen(yaml), &cfg, err, sizeof(err));
	if (ret)
		fail_msg("config: %s", err);
	return cfg;
}

static void plan(const char *algo_a, const char *backends_a, const char *algo_b,
		 const char *backends_b, struct xlb_plan *p)
{
	struct xlb_config *a = config(algo_a, backends_a), *b = config(algo_b, backends_b);

	assert_int_equal(xlb_plan__build(a, b, p), 0);
	xlb_config__free(a);
	xlb_config__free(b);
}

/* The VIP's table as the data path builds it: ids index the backends. */
static __u32 *table_of(const struct xlb_config_vip *v)
{
	struct xlb_maglev_backend *mb = calloc(v->n_backends, sizeof(*mb));
	__u32 *t = malloc(v->table_size * sizeof(*t));

	assert_non_null(mb);
	assert_non_null(t);
	for (unsigned int i = 0; i < v->n_backends; i++) {
		mb[i].id = i;
		mb[i].family = v->backends[i].family;
		memcpy(mb[i].addr, v->backends[i].addr, sizeof(mb[i].addr));
		mb[i].weight = v->backends[i].weight;
	}
	assert_int_equal(xlb_maglev__build(mb, v->n_backends, v->table_size, t), 0);
	free(mb);
	return t;
}

static __u32 xorshift(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * What the data path would do: SAMPLES IPv4 TCP flows from 2,000 sources,
 * each hashed as bpf/xlb.bpf.c's flow_hash() does for either algorithm;
 * the share whose backend (by address) differs.
 */
static double sampled_share(const char *algo_a, const char *backends_a, const char *algo_b,
			    const char *backends_b)
{
	struct xlb_config *a = config(algo_a, backends_a), *b = config(algo_b, backends_b);
	const struct xlb_config_vip *va = &a->vips[0], *vb = &b->vips[0];
	__u32 *ta = table_of(va), *tb = table_of(vb), seed = 12345, moved = 0;

	for (int i = 0; i < SAMPLES; i++) {
		__u32 saddr = 0xc6120000u | (xorshift(&seed) % 2000), daddr = 0xc6120164u;
		__u32 ports = (xorshift(&seed) << 16) | 80;
		__u32 h5 = xlb_hash_flow4(saddr, daddr, ports, 6), hs = xlb_hash_src4(saddr);
		__u32 ha = va->algorithm == XLB_CONFIG_ALGO_SOURCE_HASH ? hs : h5;
		__u32 hb = vb->algorithm == XLB_CONFIG_ALGO_SOURCE_HASH ? hs : h5;
		const struct xlb_config_backend *x = &va->backends[ta[ha % va->table_size]];
		const struct xlb_config_backend *y = &vb->backends[tb[hb % vb->table_size]];

		moved += memcmp(x->addr, y->addr, sizeof(x->addr)) != 0;
	}
	free(ta);
	free(tb);
	xlb_config__free(a);
	xlb_config__free(b);
	return (double)moved / SAMPLES;
}

static double moved_of(const struct xlb_plan *p, const char *vip)
{
	for (size_t i = 0; i < p->n_moved; i++)
		if (!strcmp(p->moved[i].vip, vip))
			return p->moved[i].share;
	fail_msg("no moved share for %s", vip);
	return -1;
}

static void assert_near(double want, double got, double tol, const char *what)
{
	if (got < want - tol || got > want + tol)
		fail_msg("%s: %.4f, expected %.4f +- %.4f", what, got, want, tol);
}

static const char *const FOUR = "[{address: 198.18.0.11}, {address: 198.18.0.12}, "
				"{address: 198.18.0.13}, {address: 198.18.0.14}]";
static const char *const ONE_TO_THREE = "[{address: 198.18.0.11, weight: 25}, "
					"{address: 198.18.0.12, weight: 75}]";

/* Same backends, other hash: 1 - 1/4 of the flows move, not 0. */
static void test_maglev_to_source_hash(void **state)
{
	struct xlb_plan p;
	double share, sampled;

	(void)state;
	plan("maglev", FOUR, "source-hash", FOUR, &p);
	share = moved_of(&p, VIP);
	xlb_plan__free(&p);
	assert_near(0.75, share, 0.005, "maglev -> source-hash, 4 equal backends");
	sampled = sampled_share("maglev", FOUR, "source-hash", FOUR);
	assert_near(sampled, share, 0.01, "against the data path's hashes");

	plan("source-hash", FOUR, "maglev", FOUR, &p);
	assert_near(share, moved_of(&p, VIP), 1e-9, "the other way round");
	xlb_plan__free(&p);
}

/* Weights 1:3 -> 1 - (1/16 + 9/16) = 0.375; and a backend removed too. */
static void test_source_hash_to_maglev_weighted(void **state)
{
	static const char *const two = "[{address: 198.18.0.11}, {address: 198.18.0.13}]";
	struct xlb_plan p;
	double share;

	(void)state;
	plan("source-hash", ONE_TO_THREE, "maglev", ONE_TO_THREE, &p);
	share = moved_of(&p, VIP);
	xlb_plan__free(&p);
	assert_near(0.375, share, 0.005, "source-hash -> maglev, 1:3");
	assert_near(sampled_share("source-hash", ONE_TO_THREE, "maglev", ONE_TO_THREE), share,
		    0.01, "against the data path's hashes");

	/* .11 keeps 1/4 -> 1/2 of the slots, .12 leaves: 1 - 1/8 move. */
	plan("source-hash", ONE_TO_THREE, "maglev", two, &p);
	share = moved_of(&p, VIP);
	xlb_plan__free(&p);
	assert_near(0.875, share, 0.005, "source-hash -> maglev, other backends");
	assert_near(sampled_share("source-hash", ONE_TO_THREE, "maglev", two), share, 0.01,
		    "against the data path's hashes");
}

/* Same algorithm: slot by slot, as before. */
static void test_same_hash(void **state)
{
	static const char *const three = "[{address: 198.18.0.11}, {address: 198.18.0.12}, "
					 "{address: 198.18.0.13}]";
	struct xlb_plan p;

	(void)state;
	plan("maglev", FOUR, "maglev", FOUR, &p);
	assert_near(0.0, moved_of(&p, VIP), 0, "no change");
	xlb_plan__free(&p);
	plan("source-hash", FOUR, "source-hash", three, &p);
	assert_near(0.25, moved_of(&p, VIP), 0.02, "one of four removed");
	assert_int_equal(p.n_rebalanced, 0);
	xlb_plan__free(&p);
}

static void assert_rebalanced(const struct xlb_plan *p, const char *algo)
{
	json_t *j = xlb_plan__to_json(p, false), *r = json_object_get(j, "rebalanced");

	assert_int_equal(p->n_moved, 0);
	assert_null(json_object_get(json_object_get(j, "moved"), VIP));
	assert_true(json_is_object(r));
	assert_non_null(json_object_get(r, VIP));
	assert_string_equal(json_string_value(json_object_get(r, VIP)), algo);
	json_decref(j);
}

/* wrr/rr/lc: no share, "rebalanced" when their balance changes. */
static void test_stateful_algorithms(void **state)
{
	static const char *const algos[] = { "wrr", "rr", "lc" };
	struct xlb_plan p;

	(void)state;
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		plan(algos[i], FOUR, algos[i], ONE_TO_THREE, &p);
		assert_rebalanced(&p, algos[i]);
		xlb_plan__free(&p);
		/* to and from a hash */
		plan("maglev", FOUR, algos[i], FOUR, &p);
		assert_rebalanced(&p, algos[i]);
		xlb_plan__free(&p);
		plan(algos[i], FOUR, "source-hash", FOUR, &p);
		assert_rebalanced(&p, "source-hash");
		xlb_plan__free(&p);
		/* nothing that balances changes: nothing said */
		plan(algos[i], FOUR, algos[i], FOUR, &p);
		assert_int_equal(p.n_moved, 0);
		assert_int_equal(p.n_rebalanced, 0);
		xlb_plan__free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maglev_to_source_hash),
		cmocka_unit_test(test_source_hash_to_maglev_weighted),
		cmocka_unit_test(test_same_hash),
		cmocka_unit_test(test_stateful_algorithms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
