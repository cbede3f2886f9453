/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/lib/maglev.h"
#include "userspace/lib/plan.h"

static int add_change(struct xlb_plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_change(struct xlb_plan *p, const char *fmt, ...)
{
	char **grown = realloc(p->changes, (p->n_changes + 1) * sizeof(*grown));
	va_list ap;
	int ret;

	if (!grown)
		return -ENOMEM;
	p->changes = grown;
	va_start(ap, fmt);
	ret = vasprintf(&p->changes[p->n_changes], fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;
	p->n_changes++;
	return 0;
}

static const struct xlb_config_backend *find_backend(const struct xlb_config_vip *v,
						     const struct xlb_config_backend *b)
{
	for (unsigned int i = 0; i < v->n_backends; i++)
		if (v->backends[i].family == b->family &&
		    !memcmp(v->backends[i].addr, b->addr, sizeof(b->addr)))
			return &v->backends[i];
	return NULL;
}

/* The VIP's Maglev table over its in-table backends; ids index v->backends.
 * NULL when no backend takes new flows.
 */
static __u32 *build_table(const struct xlb_config_vip *v, int *err)
{
	struct xlb_maglev_backend *mb = calloc(v->n_backends + 1, sizeof(*mb));
	__u32 *table = malloc(v->table_size * sizeof(*table));
	size_t n = 0;

	*err = 0;
	if (!mb || !table) {
		*err = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < v->n_backends; i++) {
		if (v->backends[i].drain)
			continue;
		mb[n].id = i;
		mb[n].family = v->backends[i].family;
		memcpy(mb[n].addr, v->backends[i].addr, sizeof(mb[n].addr));
		mb[n].weight = v->backends[i].weight;
		n++;
	}
	if (!n || xlb_maglev__build(mb, n, v->table_size, table))
		goto fail;
	free(mb);
	return table;
fail:
	free(mb);
	free(table);
	return NULL;
}

static bool same_backend(const struct xlb_config_backend *x, const struct xlb_config_backend *y)
{
	return x->family == y->family && !memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* Same hash, same or other table size: the hash values whose slot names
 * another backend. Same size: slot by slot, exact. Else the 32-bit hash
 * space sampled evenly (a multiplicative sequence), as many points as the
 * larger table has slots.
 */
static double moved_same_hash(const struct xlb_config_vip *a, const __u32 *ta,
			      const struct xlb_config_vip *b, const __u32 *tb)
{
	__u32 n = a->table_size > b->table_size ? a->table_size : b->table_size, moved = 0;

	for (__u32 i = 0; i < n; i++) {
		__u32 h = a->table_size == b->table_size ? i : (__u32)(i * 2654435761u);

		moved += !same_backend(&a->backends[ta[h % a->table_size]],
				       &b->backends[tb[h % b->table_size]]);
	}
	return (double)moved / n;
}

/*
 * maglev <-> source-hash: before, a flow's slot comes from its 5-tuple's
 * hash; after, from its source address's (or the other way round). The
 * two hashes are independent functions of the flow, so which slot it had
 * says nothing of which it gets: a flow keeps its backend x with
 * probability share_a(x) * share_b(x), its slot shares in the two tables.
 * The share that moves is 1 - sum over backends of share_a * share_b,
 * computed exactly from the tables. Comparing the tables slot by slot
 * would say 0 % for the same backends, where in fact (with N equal ones)
 * 1 - 1/N of the flows move.
 */
static int moved_other_hash(const struct xlb_config_vip *a, const __u32 *ta,
			    const struct xlb_config_vip *b, const __u32 *tb, double *share)
{
	__u32 *na = calloc(a->n_backends + 1, sizeof(*na)), *nb = calloc(b->n_backends + 1, sizeof(*nb));
	double kept = 0;

	if (!na || !nb) {
		free(na);
		free(nb);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < a->table_size; i++)
		na[ta[i]]++;
	for (__u32 i = 0; i < b->table_size; i++)
		nb[tb[i]]++;
	for (unsigned int i = 0; i < a->n_backends; i++) {
		const struct xlb_config_backend *o = find_backend(b, &a->backends[i]);

		if (o && na[i])
			kept += (double)na[i] / a->table_size *
				((double)nb[o - b->backends] / b->table_size);
	}
	*share = kept >= 1.0 ? 0.0 : 1.0 - kept;
	free(na);
	free(nb);
	return 0;
}

/* Share of flows (hash values) whose backend differs between a and b. */
static int moved_share(const struct xlb_config_vip *a, const struct xlb_config_vip *b,
		       double *share)
{
	int err_a, err_b, ret = 0;
	__u32 *ta = build_table(a, &err_a), *tb = build_table(b, &err_b);

	if (err_a || err_b) {
		ret = -ENOMEM;
		goto out;
	}
	if (!ta || !tb)
		*share = ta || tb ? 1.0 : 0.0;
	else if (a->algorithm == b->algorithm)
		*share = moved_same_hash(a, ta, b, tb);
	else
		ret = moved_other_hash(a, ta, b, tb, share);
out:
	free(ta);
	free(tb);
	return ret;
}

/* maglev and source-hash map a hash to a backend by the table alone. */
static bool by_table(enum xlb_config_algo algo)
{
	return algo == XLB_CONFIG_ALGO_MAGLEV || algo == XLB_CONFIG_ALGO_SOURCE_HASH;
}

/* Would a wrr/rr/lc VIP balance new flows otherwise? */
static bool balance_changed(const struct xlb_config_vip *a, const struct xlb_config_vip *b)
{
	if (a->algorithm != b->algorithm || a->n_backends != b->n_backends)
		return true;
	for (unsigned int i = 0; i < b->n_backends; i++) {
		const struct xlb_config_backend *o = find_backend(a, &b->backends[i]);

		if (!o || o->weight != b->backends[i].weight || o->drain != b->backends[i].drain)
			return true;
	}
	return false;
}

static int diff_vip(struct xlb_plan *p, const struct xlb_config_vip *a,
		    const struct xlb_config_vip *b)
{
	int ret = 0;

	if (a->algorithm != b->algorithm)
		ret = ret ?: add_change(p, "vip %s: algorithm %s -> %s", b->vip,
					xlb_config__algo_name(a->algorithm),
					xlb_config__algo_name(b->algorithm));
	if (a->forward != b->forward)
		ret = ret ?: add_change(p, "vip %s: forward %s -> %s", b->vip,
					xlb_config__forward_name(a->forward),
					xlb_config__forward_name(b->forward));
	if (a->table_size != b->table_size)
		ret = ret ?: add_change(p, "vip %s: table_size %u -> %u (flows are re-chosen)",
					b->vip, a->table_size, b->table_size);
	if (memcmp(&a->rate_limit, &b->rate_limit, sizeof(a->rate_limit)))
		ret = ret ?: add_change(p, "vip %s: rate_limit changed", b->vip);
	if (a->passive.syn_retransmit_ratio != b->passive.syn_retransmit_ratio ||
	    a->passive.min_syns != b->passive.min_syns)
		ret = ret ?: add_change(p, "vip %s: passive health changed", b->vip);
	if (memcmp(&a->circuit_breaker, &b->circuit_breaker, sizeof(a->circuit_breaker)))
		ret = ret ?: add_change(p, "vip %s: circuit_breaker changed", b->vip);
	if (!xlb_config__hc_equal(&a->health_check, &b->health_check))
		ret = ret ?: add_change(p, "vip %s: health_check changed", b->vip);
	for (unsigned int i = 0; i < a->n_backends && !ret; i++)
		if (!find_backend(b, &a->backends[i]))
			ret = add_change(p, "vip %s: remove backend %s", b->vip,
					 a->backends[i].address);
	for (unsigned int i = 0; i < b->n_backends && !ret; i++) {
		const struct xlb_config_backend *nb = &b->backends[i];
		const struct xlb_config_backend *ob = find_backend(a, nb);

		if (!ob)
			ret = add_change(p, "vip %s: add backend %s weight %u%s", b->vip,
					 nb->address, nb->weight, nb->drain ? " (drained)" : "");
		else if (ob->weight != nb->weight)
			ret = add_change(p, "vip %s: backend %s weight %u -> %u", b->vip,
					 nb->address, ob->weight, nb->weight);
		if (!ret && ob && ob->drain != nb->drain)
			ret = add_change(p, "vip %s: backend %s %s", b->vip, nb->address,
					 nb->drain ? "drain" : "undrain");
	}
	return ret;
}

int xlb_plan__build(const struct xlb_config *from, const struct xlb_config *to,
		    struct xlb_plan *out)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->moved = calloc(to->n_vips + 1, sizeof(*out->moved));
	out->rebalanced = calloc(to->n_vips + 1, sizeof(*out->rebalanced));
	if (!out->moved || !out->rebalanced) {
		xlb_plan__free(out);
		return -ENOMEM;
	}
	for (unsigned int i = 0; from && i < from->n_vips && !ret; i++)
		if (!xlb_config__find_vip(to, &from->vips[i].addr))
			ret = add_change(out, "remove vip %s", from->vips[i].vip);
	for (unsigned int i = 0; i < to->n_vips && !ret; i++) {
		const struct xlb_config_vip *b = &to->vips[i];
		const struct xlb_config_vip *a = from ? xlb_config__find_vip(from, &b->addr) : NULL;
		struct xlb_plan_moved *m = &out->moved[out->n_moved];
		struct xlb_plan_rebalanced *r = &out->rebalanced[out->n_rebalanced];

		if (!a) {
			ret = add_change(out, "add vip %s (%s, %s, %u backends)", b->vip,
					 xlb_config__algo_name(b->algorithm),
					 xlb_config__forward_name(b->forward), b->n_backends);
			continue;
		}
		ret = diff_vip(out, a, b);
		if (ret)
			break;
		if (!by_table(a->algorithm) || !by_table(b->algorithm)) {
			if (balance_changed(a, b)) {
				snprintf(r->vip, sizeof(r->vip), "%s", b->vip);
				r->algorithm = b->algorithm;
				out->n_rebalanced++;
			}
			continue;
		}
		snprintf(m->vip, sizeof(m->vip), "%s", b->vip);
		ret = moved_share(a, b, &m->share);
		out->n_moved++;
	}
	if (ret)
		xlb_plan__free(out);
	return ret;
}

void xlb_plan__free(struct xlb_plan *plan)
{
	for (size_t i = 0; i < plan->n_changes; i++)
		free(plan->changes[i]);
	free(plan->changes);
	free(plan->moved);
	free(plan->rebalanced);
	memset(plan, 0, sizeof(*plan));
}

json_t *xlb_plan__to_json(const struct xlb_plan *plan, bool applied)
{
	json_t *changes = json_array(), *moved = json_object(), *rebalanced = json_object();

	for (size_t i = 0; i < plan->n_changes; i++)
		json_array_append_new(changes, json_string(plan->changes[i]));
	for (size_t i = 0; i < plan->n_moved; i++)
		json_object_set_new(moved, plan->moved[i].vip, json_real(plan->moved[i].share));
	for (size_t i = 0; i < plan->n_rebalanced; i++)
		json_object_set_new(rebalanced, plan->rebalanced[i].vip,
				    json_string(xlb_config__algo_name(plan->rebalanced[i].algorithm)));
	return json_pack("{s:b, s:o, s:o, s:o}", "applied", applied, "changes", changes, "moved",
			 moved, "rebalanced", rebalanced);
}
