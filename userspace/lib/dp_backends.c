/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Backends and tables: a VIP's backend set made the one asked for (a
 * backend that stays keeps its id, hence its flows; a retired id keeps its
 * counters for the backend's return), next-hop MACs found without waiting,
 * and the VIP's Maglev table (with wrr's sequence) built in its idle slot
 * and published with one flip.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "userspace/lib/clock.h"
#include "userspace/lib/dp_int.h"
#include "userspace/lib/log.h"
#include "userspace/lib/maglev.h"
#include "userspace/lib/neigh.h"
#include "userspace/lib/wrr.h"

#define MAC_REUSE_MS 30000
/* A kept backend's neighbour asked again: time to answer before the last
 * MAC is kept with a warning (the kernel's ARP gives up after ~3 s).
 */
#define MAC_CONFIRM_MS 3000

static const char *af_name(__u8 family)
{
	return family == XLB_AF_INET ? "IPv4" : "IPv6";
}

/* ---- backends --------------------------------------------------------------- */

int backend_read(struct xlb_dp *dp, __u32 id, struct xlb_backend *be)
{
	if (id >= XLB_MAX_BACKENDS)
		return -EINVAL;
	*be = dp->be_mirror[id];
	return 0;
}

int backend_write(struct xlb_dp *dp, __u32 id, const struct xlb_backend *be)
{
	if (dp->be_used[id] && !memcmp(&dp->be_mirror[id], be, sizeof(*be)))
		return 0; /* unchanged: one system call saved per kept backend */
	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_backends), &id, be, BPF_ANY))
		return -errno;
	dp->be_mirror[id] = *be;
	return 0;
}

void backend_retire(struct xlb_dp *dp, __u32 id)
{
	struct xlb_backend be;

	/* Clearing SERVING sends the backend's flows to a new choice. */
	if (!backend_read(dp, id, &be)) {
		be.flags = 0;
		backend_write(dp, id, &be);
	}
	dp->be_used[id] = 0;
	dp->mac_at[id] = 0;
	dp->mac_wait[id] = 0;
}

bool backend_addr_equal(const struct xlb_backend *be, __u8 family, const __be32 *addr)
{
	return be->family == family &&
	       !memcmp(be->addr, addr, family == XLB_AF_INET ? 4 : 16);
}

/* id, on v's parked list, still holds the counters of a backend of v. */
bool parked_valid(const struct xlb_dp *dp, const struct dp_vip *v, __u32 id)
{
	return dp->be_parked[id] && dp->be_mirror[id].family &&
	       dp->be_mirror[id].vip_id == v->meta.vip_id;
}

/* The parked id of v's backend family/addr, or -ENOENT. */
int parked_find(const struct xlb_dp *dp, const struct dp_vip *v, __u8 family, const __be32 *addr)
{
	for (__u32 i = v->nparked; i-- > 0;) {
		__u32 id = v->parked[i];

		if (parked_valid(dp, v, id) && backend_addr_equal(&dp->be_mirror[id], family, addr))
			return (int)id;
	}
	return -ENOENT;
}

/*
 * Parks retired id, a backend of v, with its counters. Out of memory, or
 * with XLB_MAX_BACKENDS_PER_VIP parked, the oldest goes: its counters would
 * restart from 0 when it comes back.
 */
void backend_park(struct xlb_dp *dp, struct dp_vip *v, __u32 id)
{
	__u32 n = 0;

	for (__u32 i = 0; i < v->nparked; i++) /* drop what is no longer parked */
		if (v->parked[i] != id && parked_valid(dp, v, v->parked[i]))
			v->parked[n++] = v->parked[i];
	v->nparked = n;
	if (n == XLB_MAX_BACKENDS_PER_VIP) {
		dp->be_parked[v->parked[0]] = 0;
		memmove(v->parked, v->parked + 1, --n * sizeof(*v->parked));
		v->nparked = n;
	}
	if (n == v->parked_cap) {
		__u32 cap = n ? 2 * n : 16;
		__u32 *p = realloc(v->parked, cap * sizeof(*p));

		if (!p)
			return;
		v->parked = p;
		v->parked_cap = cap;
	}
	v->parked[v->nparked++] = id;
	dp->be_parked[id] = 1;
}

/* A retired id's counters will not be claimed: the entry forgets its backend. */
void backend_forget(struct xlb_dp *dp, __u32 id)
{
	struct xlb_backend be;

	dp->be_parked[id] = 0;
	if (!backend_read(dp, id, &be) && be.family) {
		be.family = 0;
		backend_write(dp, id, &be);
	}
}

/* A free id for a new backend: one that holds no parked counters if any. */
static int backend_alloc(struct xlb_dp *dp, __u32 *id)
{
	for (int pass = 0; pass < 2; pass++) {
		for (__u32 n = 0; n < XLB_MAX_BACKENDS; n++) {
			__u32 i = (dp->be_cursor + n) % XLB_MAX_BACKENDS;

			if (dp->be_used[i] || (!pass && dp->be_parked[i]))
				continue;
			if (dp->be_parked[i])
				backend_forget(dp, i);
			dp->be_used[i] = 1;
			dp->be_cursor = i + 1;
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Zeroes backend id's counters on every CPU (a reused id). */
static void backend_counters_zero(struct xlb_dp *dp, __u32 id)
{
	for (int cpu = 0; cpu < dp->ncpus; cpu++)
		memset(&dp->be_ctr[(size_t)cpu * XLB_MAX_BACKENDS + id], 0, sizeof(*dp->be_ctr));
}

/* lc: forgets a backend id's active-flow count (a new backend, a VIP that
 * turns lc: the old count was kept by nobody).
 */
int load_zero(struct xlb_dp *dp, __u32 id)
{
	struct xlb_backend_load zero = {};

	if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_backend_load), &id, &zero, BPF_ANY))
		return -errno;
	return 0;
}

/* A backend address with its position, to sort and search lists of them. */
struct addr_pos {
	__u8 family;
	__u8 pad[3];
	__be32 addr[4]; /* IPv4: addr[0], the rest zero */
	__u32 pos;
};

static void addr_pos_set(struct addr_pos *k, __u8 family, const __be32 *addr, __u32 pos)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	memcpy(k->addr, addr, family == XLB_AF_INET ? 4 : 16);
	k->pos = pos;
}

static int addr_pos_cmp(const void *a, const void *b)
{
	const struct addr_pos *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int check_backends(struct xlb_dp *dp, const struct dp_vip *v,
			  const struct xlb_dp_backend *b, size_t n, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN];

	if (n && !b)
		return xlb_err(err, errlen, -EINVAL, "missing backend list");
	if (n > XLB_MAX_BACKENDS_PER_VIP)
		return xlb_err(err, errlen, -E2BIG, "%zu backends, more than the limit of %d",
			       n, XLB_MAX_BACKENDS_PER_VIP);
	for (size_t i = 0; i < n; i++) {
		if (b[i].family != XLB_AF_INET && b[i].family != XLB_AF_INET6)
			return xlb_err(err, errlen, -EINVAL, "backend %zu: unknown family %u", i,
				       b[i].family);
		xlb_addr__format(b[i].family, b[i].addr, addr, sizeof(addr));
		if (!b[i].weight)
			return xlb_err(err, errlen, -EINVAL,
				       "backend %s: weight 0 out of range 1..%d", addr,
				       XLB_WEIGHT_MAX);
		if (b[i].family != v->addr.family &&
		    !(v->addr.family == XLB_AF_INET && b[i].family == XLB_AF_INET6 &&
		      (v->meta.forward == XLB_FWD_IPIP || v->meta.forward == XLB_FWD_GUE)))
			return xlb_err(err, errlen, -EAFNOSUPPORT,
				       "backend %s is %s but the VIP is %s%s", addr,
				       af_name(b[i].family), af_name(v->addr.family),
				       v->meta.forward == XLB_FWD_L2DSR ? " (l2dsr cannot change family)"
									 : "");
	}
	(void)dp;
	if (n > 1) { /* duplicates, sorted: O(n log n) for thousands */
		struct addr_pos *k = calloc(n, sizeof(*k));

		if (!k)
			return xlb_err(err, errlen, -ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++)
			addr_pos_set(&k[i], b[i].family, b[i].addr, (__u32)i);
		qsort(k, n, sizeof(*k), addr_pos_cmp);
		for (size_t i = 1; i < n; i++) {
			if (!addr_pos_cmp(&k[i - 1], &k[i])) {
				xlb_addr__format(k[i].family, k[i].addr, addr, sizeof(addr));
				free(k);
				return xlb_err(err, errlen, -EINVAL, "backend %s listed twice",
					       addr);
			}
		}
		free(k);
	}
	return 0;
}

/* For log lines: one buffer, used before the next call. */
static const char *backend_name(const struct xlb_dp_backend *b)
{
	static char buf[INET6_ADDRSTRLEN];

	xlb_addr__format(b->family, b->addr, buf, sizeof(buf));
	return buf;
}

/*
 * Finds each backend's next-hop MAC unless the caller gave it, without
 * waiting: a neighbour the kernel does not know yet is asked for (ARP/ND)
 * and the backend's MAC left zero, to wait out of the table. Sleeping here
 * would stall the event loop, a second per dark backend. A backend already
 * in the data path whose neighbour does not answer keeps the MAC it had
 * (last[i], when known): it may be down, which its health checks will
 * tell, and a restart or republish must not fail because of it.
 */
static int resolve_macs(struct xlb_dp *dp, const struct dp_vip *v, struct xlb_dp_backend *b,
			const __u8 (*last)[6], bool *confirm, size_t n, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN], msg[256];
	int ret;

	for (size_t i = 0; i < n; i++) {
		if (!mac_missing(b[i].mac))
			continue;
		xlb_addr__format(b[i].family, b[i].addr, addr, sizeof(addr));
		if (!dp->ifindex)
			return xlb_err(err, errlen, -EINVAL,
				       "backend %s has no MAC and there is no interface to resolve it on",
				       addr);
		ret = xlb_neigh__resolve(dp->ifindex, b[i].family == XLB_AF_INET ? AF_INET : AF_INET6,
					 b[i].addr, v->meta.forward == XLB_FWD_L2DSR, 0, b[i].mac,
					 msg, sizeof(msg));
		if (ret == -ETIMEDOUT && mac_missing(last[i]))
			continue; /* waits for its MAC */
		if (ret == -ETIMEDOUT) { /* its last MAC, until it answers or not */
			memcpy(b[i].mac, last[i], 6);
			confirm[i] = true;
			continue;
		}
		if (ret)
			return xlb_err(err, errlen, ret, "backend %s: %s", addr, msg);
	}
	return 0;
}

/* ---- tables ------------------------------------------------------------- */

/*
 * wrr/rr: appends the sequence length and the smooth WRR sequence after the
 * Maglev table in table[] (room for size + 1 + XLB_WRR_SEQ_MAX entries);
 * returns the entries used in all.
 */
static int append_wrr(const struct dp_vip *v, const struct xlb_maglev_backend *mb, size_t n,
		      __u32 size, __u32 *table)
{
	__u32 *ids = calloc(n, sizeof(*ids)), *w = calloc(n, sizeof(*w));
	int len = -ENOMEM;

	if (!ids || !w)
		goto out;
	for (size_t i = 0; i < n; i++) {
		ids[i] = mb[i].id;
		w[i] = v->meta.algo == XLB_ALGO_RR ? 1 : mb[i].weight;
	}
	len = xlb_wrr__build(ids, w, n, XLB_WRR_SEQ_MAX, table + size + 1);
	if (len > 0)
		table[size] = len;
out:
	free(ids);
	free(w);
	return len < 0 ? len : (int)(size + 1 + len);
}

/* Builds the table in the idle slot and flips the VIP to it. */
static int publish_table(struct xlb_dp *dp, struct dp_vip *v,
			 const struct xlb_maglev_backend *mb, size_t n, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, copts, .map_flags = BPF_F_INNER_MAP);
	struct xlb_vip_meta meta = v->meta;
	__u32 size = meta.table_size_cfg, slot, *table = NULL, *keys = NULL, count, entries;
	int inner = -1, ret;

	meta.table_slot = !v->meta.table_slot;
	meta.table_size = n ? size : 0;
	slot = meta.vip_id * 2 + meta.table_slot;
	/* The idle slot holds the previous table, which GUE's alternates come
	 * from: none while it is being replaced.
	 */
	if (v->gue.prev_table_size) {
		struct xlb_vip_gue g = v->gue;

		g.prev_table_size = 0;
		ret = vip_gue_write(dp, v, &g);
		if (ret) {
			xlb_err(err, errlen, ret, "writing %s: %s", XLB_MAP_VIP_GUE,
				strerror(-ret));
			goto out;
		}
	}
	if (n) {
		/* Room for a wrr sequence whatever the algorithm: a VIP may
		 * switch to wrr between publications.
		 */
		entries = size + 1 + XLB_WRR_SEQ_MAX;
		table = malloc(entries * sizeof(*table));
		keys = malloc(entries * sizeof(*keys));
		if (!table || !keys) {
			ret = xlb_err(err, errlen, -ENOMEM, "out of memory for a %u-entry table",
				      size);
			goto out;
		}
		ret = xlb_maglev__build(mb, n, size, table);
		if (ret) {
			xlb_err(err, errlen, ret, "building the Maglev table: %s", strerror(-ret));
			goto out;
		}
		entries = size;
		if (algo_wrr(meta.algo)) {
			ret = append_wrr(v, mb, n, size, table);
			if (ret < 0) {
				xlb_err(err, errlen, ret, "building the wrr sequence: %s",
					strerror(-ret));
				goto out;
			}
			entries = ret;
		}
		for (__u32 i = 0; i < entries; i++)
			keys[i] = i;
		inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32), sizeof(__u32),
				       entries, &copts);
		if (inner < 0) {
			ret = xlb_err(err, errlen, -errno, "creating a table map: %s",
				      strerror(errno));
			goto out;
		}
		count = entries;
		if (bpf_map_update_batch(inner, keys, table, &count, NULL)) {
			ret = xlb_err(err, errlen, -errno, "filling the table map: %s",
				      strerror(errno));
			goto out;
		}
		if (bpf_map_update_elem(map_fd(dp->skel->maps.xlb_tables), &slot, &inner,
					BPF_ANY)) {
			ret = xlb_err(err, errlen, -errno, "installing the table: %s",
				      strerror(errno));
			goto out;
		}
	}
	/* The commit point: one element replaced under RCU. */
	ret = vip_meta_write(dp, &v->addr, &meta, BPF_EXIST);
	if (ret) {
		xlb_err(err, errlen, ret, "publishing the table: %s", strerror(-ret));
		goto out;
	}
	{
		/* The table live until now is the previous one from here on. */
		struct xlb_vip_gue g = v->gue;

		g.prev_table_size = v->meta.table_size;
		g.table_gen++;
		int gret = vip_gue_write(dp, v, &g);

		if (gret)
			pr_warn("%s: no GUE alternates until the next publication: %s",
				dp->ifname, strerror(-gret));
	}
	v->meta = meta;
	if (inner >= 0) {
		if (v->table_fd1[meta.table_slot])
			close(v->table_fd1[meta.table_slot] - 1);
		v->table_fd1[meta.table_slot] = inner + 1;
		inner = -1;
	}
out:
	if (inner >= 0)
		close(inner); /* the outer map holds its own reference */
	free(table);
	free(keys);
	return ret;
}

/*
 * Republishes a VIP's table from the backends it has (after an algorithm
 * change: a wrr table carries its sequence). Drained backends stay out.
 */
int republish(struct xlb_dp *dp, struct dp_vip *v, char *err, size_t errlen)
{
	struct xlb_maglev_backend *mb = calloc(v->nids + 1, sizeof(*mb));
	size_t n = 0;
	int ret;

	if (!mb)
		return xlb_err(err, errlen, -ENOMEM, "out of memory");
	for (__u32 i = 0; i < v->nids; i++) {
		const struct xlb_backend *be = &dp->be_mirror[v->ids[i]];

		if ((be->flags & XLB_BACKEND_F_DRAINED) || mac_missing(be->mac))
			continue;
		mb[n].id = v->ids[i];
		mb[n].family = be->family;
		memcpy(mb[n].addr, be->addr, sizeof(mb[n].addr));
		mb[n].weight = be->weight;
		n++;
	}
	ret = publish_table(dp, v, mb, n, err, errlen);
	free(mb);
	return ret;
}

int xlb_dp__set_backends(struct xlb_dp *dp, const struct xlb_vip_addr *vip,
			 const struct xlb_dp_backend *b, size_t n, char *err, size_t errlen)
{
	struct xlb_dp_backend *want = NULL;
	struct xlb_maglev_backend *mb = NULL;
	struct xlb_backend *old = NULL;
	struct addr_pos *oldk = NULL;
	__u32 *ids = NULL, nold, nmb = 0, nkept = 0;
	bool *is_new = NULL, *kept = NULL, *resolved = NULL, *revived = NULL, *confirm = NULL;
	__u8 (*last)[6] = NULL; /* a kept backend's MAC, the fallback */
	__u64 now;
	struct dp_vip *v;
	char name[64];
	int ret;

	ret = vip_checked(dp, vip, name, err, errlen, &v);
	if (ret)
		return ret;
	ret = check_backends(dp, v, b, n, err, errlen);
	if (ret)
		return ret;

	nold = v->nids;
	want = calloc(n + 1, sizeof(*want));
	mb = calloc(n + 1, sizeof(*mb));
	ids = calloc(n + 1, sizeof(*ids));
	is_new = calloc(n + 1, sizeof(*is_new));
	resolved = calloc(n + 1, sizeof(*resolved));
	revived = calloc(n + 1, sizeof(*revived));
	confirm = calloc(n + 1, sizeof(*confirm));
	last = calloc(n + 1, sizeof(*last));
	kept = calloc(nold + 1, sizeof(*kept));
	old = calloc(nold + 1, sizeof(*old));
	oldk = calloc(nold + 1, sizeof(*oldk));
	if (!want || !mb || !ids || !is_new || !resolved || !revived || !confirm || !last ||
	    !kept || !old || !oldk) {
		ret = xlb_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (n)
		memcpy(want, b, n * sizeof(*want));
	for (__u32 j = 0; j < nold; j++) {
		ret = backend_read(dp, v->ids[j], &old[j]);
		if (ret) {
			xlb_err(err, errlen, ret, "reading backend %u: %s", v->ids[j],
				strerror(-ret));
			goto out;
		}
		addr_pos_set(&oldk[j], old[j].family, old[j].addr, j);
	}
	qsort(oldk, nold, sizeof(*oldk), addr_pos_cmp);

	/* Match by address: a kept backend keeps its id, hence its flows, and
	 * its MAC while that is fresh.
	 */
	now = xlb_clock__mono_ms();
	for (size_t i = 0; i < n; i++) {
		struct addr_pos k, *hit;

		addr_pos_set(&k, want[i].family, want[i].addr, 0);
		hit = nold ? bsearch(&k, oldk, nold, sizeof(*oldk), addr_pos_cmp) : NULL;
		is_new[i] = !hit;
		if (!hit)
			continue;
		kept[hit->pos] = true;
		ids[i] = v->ids[hit->pos];
		if (mac_missing(want[i].mac) && dp->mac_at[ids[i]] &&
		    now - dp->mac_at[ids[i]] < MAC_REUSE_MS)
			memcpy(want[i].mac, old[hit->pos].mac, 6);
		else
			resolved[i] = mac_missing(want[i].mac);
		memcpy(last[i], old[hit->pos].mac, 6);
	}
	for (size_t i = 0; i < n; i++) {
		if (is_new[i])
			resolved[i] = mac_missing(want[i].mac);
		nkept += !is_new[i];
	}
	/* A backend in or out changes ids (and may take a parked one); weights,
	 * MACs and slow-start steps do not, and keep counter-id caches good.
	 */
	if (nkept < n || nkept < nold)
		ids_changed(dp);
	ret = resolve_macs(dp, v, want, (const __u8(*)[6])last, confirm, n, err, errlen);
	if (ret)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int id;

		if (!is_new[i])
			continue;
		id = parked_find(dp, v, want[i].family, want[i].addr);
		if (id >= 0) { /* back in: its id, and its counters, again */
			ids[i] = (__u32)id;
			dp->be_used[id] = 1;
			dp->be_parked[id] = 0;
			revived[i] = true;
			continue;
		}
		if (backend_alloc(dp, &ids[i])) {
			ret = xlb_err(err, errlen, -ENOSPC, "no free backend slot (limit %d)",
				      XLB_MAX_BACKENDS);
			for (size_t j = i; j < n; j++)
				is_new[j] = false; /* not allocated: nothing to roll back */
			goto rollback;
		}
	}

	/* Write entries: new ones are unreachable until the table flips. */
	for (size_t i = 0; i < n; i++) {
		struct xlb_backend be = {};

		if (backend_read(dp, ids[i], &be) == 0 && is_new[i]) {
			/* below the flows' XLB_FLOW_GEN_CLOSED bit */
			__u32 gen = (be.gen + 1) & XLB_BACKEND_GEN_MASK;

			memset(&be, 0, sizeof(be));
			be.gen = gen;
			if (!revived[i])
				backend_counters_zero(dp, ids[i]);
			ret = load_zero(dp, ids[i]);
			if (ret) {
				xlb_err(err, errlen, ret, "resetting a backend's active flows: %s",
					strerror(-ret));
				goto rollback;
			}
		}
		be.family = want[i].family;
		memcpy(be.addr, want[i].addr, sizeof(be.addr));
		memcpy(be.mac, want[i].mac, 6);
		be.flags = XLB_BACKEND_F_ALLOCATED | XLB_BACKEND_F_SERVING |
			   (want[i].drain ? XLB_BACKEND_F_DRAINED : 0);
		be.vip_id = v->meta.vip_id;
		be.weight = want[i].weight;
		ret = backend_write(dp, ids[i], &be);
		if (ret) {
			xlb_err(err, errlen, ret, "writing backend: %s", strerror(-ret));
			goto rollback;
		}
		if (resolved[i] && !mac_missing(want[i].mac))
			dp->mac_at[ids[i]] = now;
		if (!want[i].drain && !mac_missing(want[i].mac)) {
			mb[nmb].id = ids[i];
			mb[nmb].family = be.family;
			memcpy(mb[nmb].addr, be.addr, sizeof(be.addr));
			mb[nmb].weight = be.weight;
			nmb++;
		}
	}

	ret = publish_table(dp, v, mb, nmb, err, errlen);
	if (ret)
		goto rollback;

	/* Committed. Retire what left; its flows are chosen again. */
	for (__u32 j = 0; j < nold; j++) {
		if (kept[j])
			continue;
		backend_retire(dp, v->ids[j]);
		backend_park(dp, v, v->ids[j]);
	}
	v->nids = n;
	memcpy(v->ids, ids, n * sizeof(*ids));
	{
		size_t newly = 0, first = 0;

		for (size_t i = 0; i < n; i++) {
			__u8 was = dp->mac_wait[ids[i]];

			if (mac_missing(want[i].mac)) {
				if (was != MAC_WAIT_OUT && !newly++)
					first = i;
				dp->mac_wait[ids[i]] = MAC_WAIT_OUT;
			} else if (confirm[i]) {
				dp->mac_wait[ids[i]] = MAC_WAIT_CONFIRM;
			} else {
				dp->mac_wait[ids[i]] = MAC_KNOWN;
			}
			if (dp->mac_wait[ids[i]] && dp->mac_wait[ids[i]] != was)
				dp->mac_asked[ids[i]] = now;
		}
		if (newly == 1)
			pr_info("vip %s: backend %s waits for its MAC (ARP/ND asked), out of "
				"the table until it answers",
				name, backend_name(&want[first]));
		else if (newly)
			pr_info("vip %s: %zu backends (%s, ...) wait for their MAC (ARP/ND "
				"asked), out of the table until they answer",
				name, newly, backend_name(&want[first]));
	}
	pr_debug("vip %s: %zu backends, %u in the table", name, n, nmb);
	goto out;

rollback:
	for (size_t i = 0; i < n; i++) {
		if (is_new[i] && ids[i] < XLB_MAX_BACKENDS && dp->be_used[ids[i]]) {
			backend_retire(dp, ids[i]);
			if (revived[i])
				backend_park(dp, v, ids[i]);
		}
	}
	for (__u32 j = 0; j < nold; j++)
		if (kept[j])
			backend_write(dp, v->ids[j], &old[j]);
out:
	free(want);
	free(mb);
	free(ids);
	free(is_new);
	free(kept);
	free(old);
	free(oldk);
	free(resolved);
	free(revived);
	free(confirm);
	free(last);
	return ret;
}

/* ---- backends waiting for their MAC ------------------------------------- */

unsigned int xlb_dp__macs_waiting(const struct xlb_dp *dp)
{
	unsigned int n = 0;

	for (__u32 vid = 0; vid < XLB_MAX_VIPS; vid++)
		for (__u32 j = 0; dp->vips[vid].used && j < dp->vips[vid].nids; j++)
			n += dp->mac_wait[dp->vips[vid].ids[j]] != MAC_KNOWN;
	return n;
}

/* A kept backend that did not answer in time keeps its last MAC: it may be
 * down, which its health checks will tell.
 */
static void mac_confirm_expired(struct xlb_dp *dp, __u32 id, const char *addr, const char *msg,
				__u64 now)
{
	const __u8 *m = dp->be_mirror[id].mac;

	pr_warn("backend %s: %s, %llu ms after asking; keeping its last known MAC "
		"%02x:%02x:%02x:%02x:%02x:%02x",
		addr, msg, (unsigned long long)(now - dp->mac_asked[id]), m[0], m[1], m[2], m[3],
		m[4], m[5]);
	dp->mac_wait[id] = MAC_KNOWN;
	dp->mac_at[id] = now; /* asked again after MAC_REUSE_MS */
}

int xlb_dp__macs_poll(struct xlb_dp *dp, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN], name[64], msg[256];
	unsigned int waiting = 0;
	__u64 now = xlb_clock__mono_ms();
	int ret;

	for (__u32 vid = 0; vid < XLB_MAX_VIPS; vid++) {
		struct dp_vip *v = &dp->vips[vid];
		bool got = false;

		for (__u32 j = 0; v->used && j < v->nids; j++) {
			__u32 id = v->ids[j];
			struct xlb_backend be = dp->be_mirror[id];
			__u8 wait = dp->mac_wait[id];

			if (wait == MAC_KNOWN)
				continue;
			xlb_addr__format(be.family, be.addr, addr, sizeof(addr));
			ret = xlb_neigh__resolve(dp->ifindex,
						 be.family == XLB_AF_INET ? AF_INET : AF_INET6, be.addr,
						 v->meta.forward == XLB_FWD_L2DSR, 0, be.mac, msg,
						 sizeof(msg));
			if (ret && wait == MAC_WAIT_CONFIRM &&
			    now - dp->mac_asked[id] >= MAC_CONFIRM_MS) {
				mac_confirm_expired(dp, id, addr, msg, now);
				continue;
			}
			if (ret) { /* not yet, or its route went: asked again next time */
				if (ret != -ETIMEDOUT)
					pr_debug("backend %s: %s", addr, msg);
				waiting++;
				continue;
			}
			ret = backend_write(dp, id, &be); /* a no-op when confirmed unchanged */
			if (ret)
				return xlb_err(err, errlen, ret, "writing backend %s: %s", addr,
					       strerror(-ret));
			dp->mac_wait[id] = MAC_KNOWN;
			dp->mac_at[id] = now;
			got |= wait == MAC_WAIT_OUT;
		}
		if (!got)
			continue;
		xlb_vip_addr__format(&v->addr, name, sizeof(name));
		ret = republish(dp, v, msg, sizeof(msg));
		if (ret)
			return xlb_err(err, errlen, ret, "vip %s: %s", name, msg);
		pr_info("vip %s: backends that waited for their MAC are in the table", name);
	}
	return (int)waiting;
}
