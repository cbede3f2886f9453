/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <event2/buffer.h>

#include "userspace/xlbd/announce.h"
#include "userspace/xlbd/counters.h"
#include "userspace/xlbd/daemon.h"
#include "userspace/xlbd/metrics.h"

#define API_CODES 600

static unsigned long long api_requests[API_CODES];

void xlb_metrics__count_api(int status)
{
	if (status > 0 && status < API_CODES)
		api_requests[status]++;
}

/* ---- the chunk pool ---- */

/*
 * A scrape at 1,000 VIPs x 100 backends is about 70 MB of text. Written
 * into freshly allocated memory, faulting the pages in costs more than the
 * rendering, and copying it into the evbuffer as much again. So
 * xlb_metrics__render_evbuffer() has the writers fill CHUNK_SIZE chunks of
 * a pool, which the evbuffer references (evbuffer_add_reference) and gives
 * back once libevent has sent them. The pool keeps as many chunks as the
 * last scrape used. The event loop is the only thread: no locks.
 */
#define CHUNK_SIZE (1U << 20)

struct chunk {
	struct chunk *next;
	size_t len;
	char data[CHUNK_SIZE];
};

static struct {
	struct chunk *free;
	size_t n_free;
	size_t keep; /* chunks to keep: the last render's */
} pool;

static struct chunk *chunk_get(void)
{
	struct chunk *c = pool.free;

	if (c) {
		pool.free = c->next;
		pool.n_free--;
	} else {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
	}
	c->len = 0;
	return c;
}

static void chunk_put(const void *data, size_t len, void *arg)
{
	struct chunk *c = arg;

	(void)data;
	(void)len;
	if (pool.n_free >= pool.keep) {
		free(c);
		return;
	}
	c->next = pool.free;
	pool.free = c;
	pool.n_free++;
}

/*
 * What xlb_metrics__render_evbuffer() writes to: out, and a FILE that
 * stands for it. A writer made over that FILE (xlb_expo__init) fills pool
 * chunks and hands them to out; what is written to the FILE itself goes to
 * out through chunks_write().
 */
struct chunks {
	FILE *f;
	struct evbuffer *out;
	size_t used; /* chunks handed to out */
	int err;
};

/* The chunks being written while xlb_metrics__render_evbuffer() runs. */
static struct chunks *active;

/* Gives e a chunk to fill; without one, e fills (and discards) its own buffer. */
static int chunk_take(struct xlb_expo *e)
{
	struct chunk *c = chunk_get();

	e->len = 0;
	e->chunk = c;
	e->buf = c ? c->data : e->own;
	e->cap = c ? CHUNK_SIZE : sizeof(e->own);
	if (!c)
		e->err = e->err ?: -ENOMEM;
	return c ? 0 : -ENOMEM;
}

/* Hands e's chunk, as filled, to the evbuffer. */
static int chunk_give(struct xlb_expo *e)
{
	struct chunks *k = e->sink;
	struct chunk *c = e->chunk;

	e->chunk = NULL;
	e->buf = e->own;
	e->cap = sizeof(e->own);
	if (!c) { /* the text is incomplete: e->err says so */
		e->len = 0;
		return e->err;
	}
	c->len = e->len;
	e->len = 0;
	if (!c->len) {
		chunk_put(NULL, 0, c);
		return 0;
	}
	if (evbuffer_add_reference(k->out, c->data, c->len, chunk_put, c)) {
		chunk_put(NULL, 0, c);
		e->err = e->err ?: -ENOMEM;
		return -ENOMEM;
	}
	k->used++;
	return 0;
}

/* What is written to the FILE itself, not through a writer (an error note). */
static ssize_t chunks_write(void *cookie, const char *buf, size_t n)
{
	struct chunks *k = cookie;

	if (evbuffer_add(k->out, buf, n)) {
		k->err = -ENOMEM;
		return -1;
	}
	return (ssize_t)n;
}

/* ---- the writer ---- */

void xlb_expo__init(struct xlb_expo *e, FILE *f)
{
	e->f = f;
	e->sink = active && active->f == f ? active : NULL;
	e->chunk = NULL;
	e->buf = e->own;
	e->cap = sizeof(e->own);
	e->len = 0;
	e->err = 0;
	if (e->sink)
		chunk_take(e);
}

void xlb_expo__flush(struct xlb_expo *e)
{
	if (e->sink) {
		chunk_give(e);
		chunk_take(e);
		return;
	}
	if (e->len && fwrite_unlocked(e->buf, 1, e->len, e->f) != e->len)
		e->err = -EIO;
	e->len = 0;
}

int xlb_expo__finish(struct xlb_expo *e)
{
	if (e->sink) {
		chunk_give(e);
		return e->err;
	}
	xlb_expo__flush(e);
	if (fflush(e->f))
		e->err = -EIO;
	return e->err;
}

void xlb_expo__write(struct xlb_expo *e, const char *s, size_t n)
{
	while (n) {
		size_t room = e->cap - e->len;

		if (!room) {
			xlb_expo__flush(e);
			continue;
		}
		if (room > n)
			room = n;
		memcpy(e->buf + e->len, s, room);
		e->len += room;
		s += room;
		n -= room;
	}
}

size_t xlb_expo__escape(char *dst, const char *src)
{
	char *d = dst;

	for (;;) {
		size_t plain = strcspn(src, "\\\"\n");

		memcpy(d, src, plain);
		d += plain;
		src += plain;
		if (!*src)
			break;
		*d++ = '\\';
		*d++ = *src == '\n' ? 'n' : *src;
		src++;
	}
	*d = '\0';
	return d - dst;
}

size_t xlb_expo__label(char *dst, size_t cap, size_t len, const char *key, const char *value)
{
	size_t klen = strlen(key), need = (len ? 1 : 0) + klen + 2 + 2 * strlen(value) + 2;

	if (len >= cap || need > cap - len)
		return cap;
	if (len)
		dst[len++] = ',';
	memcpy(dst + len, key, klen);
	len += klen;
	dst[len++] = '=';
	dst[len++] = '"';
	len += xlb_expo__escape(dst + len, value);
	dst[len++] = '"';
	dst[len] = '\0';
	return len;
}

/* HELP text escapes backslash and newline (not the double quote). */
static void put_help(struct xlb_expo *e, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			xlb_expo__put(e, "\\\\", 2);
		else if (*s == '\n')
			xlb_expo__put(e, "\\n", 2);
		else
			xlb_expo__put(e, s, 1);
	}
}

void xlb_expo__family(struct xlb_expo *e, const char *name, const char *type, const char *help)
{
	xlb_expo__put(e, "# HELP ", 7);
	xlb_expo__put(e, name, strlen(name));
	xlb_expo__put(e, " ", 1);
	put_help(e, help);
	xlb_expo__put(e, "\n# TYPE ", 8);
	xlb_expo__put(e, name, strlen(name));
	xlb_expo__put(e, " ", 1);
	xlb_expo__put(e, type, strlen(type));
	xlb_expo__put(e, "\n", 1);
}

/* Shortest text that reads back as v; Prometheus' spellings of the specials. */
static size_t fmt_double(char *out, size_t cap, double v)
{
	if (isnan(v))
		return snprintf(out, cap, "NaN");
	if (isinf(v))
		return snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
	for (int prec = 15; prec <= 17; prec++) {
		int n = snprintf(out, cap, "%.*g", prec, v);

		if (prec == 17 || strtod(out, NULL) == v)
			return n;
	}
	return 0; /* not reached */
}

void xlb_expo__line(struct xlb_expo *e, const char *name, size_t name_len, const char *labels,
		    size_t labels_len, const char *more, size_t more_len, const char *value,
		    size_t value_len)
{
	xlb_expo__put(e, name, name_len);
	if (labels_len || more_len) {
		xlb_expo__put(e, "{", 1);
		xlb_expo__put(e, labels, labels_len);
		if (labels_len && more_len)
			xlb_expo__put(e, ",", 1);
		xlb_expo__put(e, more, more_len);
		xlb_expo__put(e, "}", 1);
	}
	xlb_expo__put(e, " ", 1);
	xlb_expo__put(e, value, value_len);
	xlb_expo__put(e, "\n", 1);
}

void xlb_expo__double(struct xlb_expo *e, const char *name, const char *labels,
		      size_t labels_len, const char *more, double v)
{
	char num[40];

	xlb_expo__line(e, name, strlen(name), labels, labels_len, more, more ? strlen(more) : 0,
		       num, fmt_double(num, sizeof(num), v));
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return 0;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

void xlb_expo_labels__reserve(struct xlb_expo_labels *l, size_t n, size_t bytes)
{
	if (!l->err && (grow((void **)&l->text, &l->cap, bytes + 1, 1) ||
			grow((void **)&l->end, &l->n_cap, n + 1, sizeof(*l->end))))
		l->err = -ENOMEM;
}

void xlb_expo_labels__add(struct xlb_expo_labels *l, const char *k1, const char *v1,
			  const char *k2, const char *v2)
{
	size_t need = strlen(k1) + 2 * strlen(v1) + 4 + (k2 ? strlen(k2) + 2 * strlen(v2) + 4 : 0);
	size_t n;

	if (l->err)
		return;
	if (grow((void **)&l->text, &l->cap, l->len + need + 1, 1) ||
	    grow((void **)&l->end, &l->n_cap, l->n + 1, sizeof(*l->end))) {
		l->err = -ENOMEM;
		return;
	}
	n = xlb_expo__label(l->text + l->len, need + 1, 0, k1, v1);
	if (k2)
		n = xlb_expo__label(l->text + l->len, need + 1, n, k2, v2);
	l->len += n;
	l->end[l->n++] = l->len;
}

void xlb_expo_labels__free(struct xlb_expo_labels *l)
{
	free(l->text);
	free(l->end);
	memset(l, 0, sizeof(*l));
}

/* ---- the malloc()ed text: a FILE over one growing buffer ---- */

struct text {
	char *p;
	size_t len, cap;
};

/* Size of the last text: the next one is about as large. */
static size_t last_text_len;

/*
 * Grows t to cap bytes. Tens of megabytes of fresh memory cost more to
 * fault in by 4 KiB pages than to fill, so large texts ask for huge pages.
 */
static int text_reserve(struct text *t, size_t cap)
{
	const uintptr_t huge = 2U << 20;
	uintptr_t start, end;
	char *p;

	if (cap <= t->cap)
		return 0;
	p = realloc(t->p, cap);
	if (!p)
		return -ENOMEM;
	t->p = p;
	t->cap = cap;
	start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	end = ((uintptr_t)p + cap) & ~(huge - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE); /* a hint: errors do not matter */
	return 0;
}

static ssize_t text_write(void *cookie, const char *buf, size_t n)
{
	struct text *t = cookie;
	size_t cap = t->cap ? t->cap : 65536;

	while (cap < t->len + n + 1)
		cap *= 2;
	if (text_reserve(t, cap))
		return -1;
	memcpy(t->p + t->len, buf, n);
	t->len += n;
	return (ssize_t)n;
}

/* ---- the families ---- */

static const char *const drop_more[XLB_DROP_MAX] = {
	[XLB_DROP_MALFORMED] = "reason=\"malformed\"",
	[XLB_DROP_FRAGMENT] = "reason=\"fragment\"",
	[XLB_DROP_NO_BACKEND] = "reason=\"no_backend\"",
	[XLB_DROP_NO_TABLE] = "reason=\"no_table\"",
	[XLB_DROP_ENCAP] = "reason=\"encap\"",
	[XLB_DROP_FAMILY] = "reason=\"family\"",
	[XLB_DROP_RATE_VIP] = "reason=\"rate_vip\"",
	[XLB_DROP_RATE_SOURCE] = "reason=\"rate_source\"",
	[XLB_DROP_TOO_BIG] = "reason=\"too_big\"",
};

static void build_info(struct xlb_expo *e, const struct xlb_daemon *d)
{
	char labels[256];
	size_t n;

	n = xlb_expo__label(labels, sizeof(labels), 0, "version", XLB_VERSION);
	n = xlb_expo__label(labels, sizeof(labels), n, "commit", XLB_COMMIT);
	xlb_expo__family(e, "xlb_build_info", "gauge", "xlbd's version and commit; always 1.");
	xlb_expo__u64(e, "xlb_build_info", labels, n, NULL, 1);
	xlb_expo__family(e, "xlb_start_time_seconds", "gauge",
			 "When xlbd started, seconds since the epoch.");
	xlb_expo__u64(e, "xlb_start_time_seconds", "", 0, NULL, (unsigned long long)d->started);
	xlb_expo__family(e, "xlb_interface_attached", "gauge",
			 "1 while xlb's XDP program is attached to the interface, 0 once it "
			 "was detached or replaced or the interface removed (checked every "
			 "second; restart xlbd to attach it).");
	for (unsigned int i = 0; i < d->n_ifs; i++) {
		n = xlb_expo__label(labels, sizeof(labels), 0, "interface", d->ifs[i].name);
		xlb_expo__u64(e, "xlb_interface_attached", labels, n, NULL, d->ifs[i].attached);
	}
}

static void announce_family(struct xlb_expo *e, const struct xlb_daemon *d)
{
	char labels[256];
	size_t n;

	xlb_expo__family(e, "xlb_vip_announced", "gauge",
			 "1 while the VIP's address is announced to the routers (its route is "
			 "in announce.table), else 0; always 0 with announcing off.");
	for (unsigned int i = 0; i < d->cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &d->cfg->vips[i];

		n = xlb_expo__label(labels, sizeof(labels), 0, "vip", v->vip);
		xlb_expo__u64(e, "xlb_vip_announced", labels, n, NULL,
			      d->announcer && xlb_announce__vip_announced(d->announcer, v));
	}
}

/* One sample per VIP of a per-VIP counter at byte offset off in xlb_vip_stats. */
static void vip_family(struct xlb_expo *e, const struct xlb_counters *c,
		       const struct xlb_expo_labels *vl, const char *name, const char *help,
		       size_t off)
{
	size_t name_len = strlen(name);

	xlb_expo__family(e, name, "counter", help);
	for (unsigned int i = 0; i < c->n_vips; i++) {
		size_t len;
		const char *l = xlb_expo_labels__get(vl, i, &len);

		xlb_expo__sample(e, name, name_len, l, len, NULL, 0,
				 *(const __u64 *)((const char *)&c->vips[i].vip + off));
	}
}

static void backend_family(struct xlb_expo *e, const struct xlb_config *cfg,
			   const struct xlb_counters *c, const struct xlb_expo_labels *bl,
			   const char *name, const char *help, size_t off)
{
	size_t k = 0, name_len = strlen(name);

	xlb_expo__family(e, name, "counter", help);
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_backend_stats *bs = c->vips[i].backend;

		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++, k++) {
			size_t len;
			const char *l = xlb_expo_labels__get(bl, k, &len);

			xlb_expo__sample(e, name, name_len, l, len, NULL, 0,
					 *(const __u64 *)((const char *)&bs[j] + off));
		}
	}
}

static void vip_families(struct xlb_expo *e, const struct xlb_config *cfg,
			 const struct xlb_counters *c, const struct xlb_expo_labels *vl)
{
	vip_family(e, c, vl, "xlb_vip_packets_total", "Packets forwarded for a VIP.",
		   offsetof(struct xlb_vip_stats, packets));
	vip_family(e, c, vl, "xlb_vip_bytes_total", "Bytes forwarded for a VIP, as received.",
		   offsetof(struct xlb_vip_stats, bytes));
	vip_family(e, c, vl, "xlb_vip_new_flows_total",
		   "Flows given a backend for a VIP (connection-table misses).",
		   offsetof(struct xlb_vip_stats, new_flows));

	xlb_expo__family(e, "xlb_vip_drops_total", "counter",
			 "Packets to a VIP dropped by the data path, by reason.");
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		size_t len;
		const char *l = xlb_expo_labels__get(vl, i, &len);

		for (int r = 0; r < XLB_DROP_MAX; r++)
			xlb_expo__u64(e, "xlb_vip_drops_total", l, len, drop_more[r],
				      c->vips[i].vip.drops[r]);
	}

	xlb_expo__family(e, "xlb_ratelimit_drops_total", "counter",
			 "Packets dropped by a VIP's rate limits: scope vip (its packets/s "
			 "bucket) or source (new flows/s per source address).");
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		size_t len;
		const char *l = xlb_expo_labels__get(vl, i, &len);

		xlb_expo__u64(e, "xlb_ratelimit_drops_total", l, len, "scope=\"vip\"",
			      c->vips[i].vip.drops[XLB_DROP_RATE_VIP]);
		xlb_expo__u64(e, "xlb_ratelimit_drops_total", l, len, "scope=\"source\"",
			      c->vips[i].vip.drops[XLB_DROP_RATE_SOURCE]);
	}
}

static void backend_families(struct xlb_expo *e, const struct xlb_config *cfg,
			     const struct xlb_counters *c, const struct xlb_expo_labels *bl)
{
	backend_family(e, cfg, c, bl, "xlb_backend_packets_total",
		       "Packets forwarded to a backend.",
		       offsetof(struct xlb_backend_stats, packets));
	backend_family(e, cfg, c, bl, "xlb_backend_bytes_total",
		       "Bytes forwarded to a backend, as received.",
		       offsetof(struct xlb_backend_stats, bytes));
	backend_family(e, cfg, c, bl, "xlb_backend_new_flows_total",
		       "Flows given to a backend.", offsetof(struct xlb_backend_stats, new_flows));
	backend_family(e, cfg, c, bl, "xlb_backend_syn_retransmits_total",
		       "SYNs for flows already in the connection table (unanswered handshakes).",
		       offsetof(struct xlb_backend_stats, syn_retransmits));

	/* lc VIPs only: the estimate the algorithm compares */
	xlb_expo__family(e, "xlb_backend_active_flows", "gauge",
			 "lc VIPs: the data path's estimate of a backend's open flows.");
	for (unsigned int i = 0, k = 0; i < cfg->n_vips; i++) {
		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++, k++) {
			size_t len;
			const char *l;

			if (i >= c->n_vips || !c->vips[i].active)
				continue;
			l = xlb_expo_labels__get(bl, k, &len);
			xlb_expo__u64(e, "xlb_backend_active_flows", l, len, NULL,
				      (unsigned long long)c->vips[i].active[j]);
		}
	}
}

/* A family with one series per address family: v[0] IPv4, v[1] IPv6. */
static void by_ip_family(struct xlb_expo *e, const char *name, const char *type, const char *help,
			 const __u64 v[2])
{
	xlb_expo__family(e, name, type, help);
	xlb_expo__u64(e, name, "", 0, "family=\"ipv4\"", v[0]);
	xlb_expo__u64(e, name, "", 0, "family=\"ipv6\"", v[1]);
}

static void global_families(struct xlb_expo *e, const struct xlb_counters *c)
{
	const struct xlb_dp_stats *g = &c->global;

	xlb_expo__family(e, "xlb_packets_received_total", "counter",
			 "Packets the XDP program saw, on every interface.");
	xlb_expo__u64(e, "xlb_packets_received_total", "", 0, NULL, g->rx);

	xlb_expo__family(e, "xlb_drops_total", "counter",
			 "Packets dropped by the data path, by reason.");
	for (int r = 0; r < XLB_DROP_MAX; r++)
		xlb_expo__u64(e, "xlb_drops_total", "", 0, drop_more[r], g->drops[r]);

	xlb_expo__family(e, "xlb_conntrack_lookups_total", "counter",
			 "Connection-table lookups of VIP packets, by result: hit, miss "
			 "(backend chosen), stale (backend gone, chosen again).");
	xlb_expo__u64(e, "xlb_conntrack_lookups_total", "", 0, "result=\"hit\"",
		      g->tx_established);
	xlb_expo__u64(e, "xlb_conntrack_lookups_total", "", 0, "result=\"miss\"", g->tx_new_flow);
	xlb_expo__u64(e, "xlb_conntrack_lookups_total", "", 0, "result=\"stale\"", g->tx_rechosen);

	xlb_expo__family(e, "xlb_conntrack_untracked_total", "counter",
			 "New flows forwarded by the Maglev hash without a connection-table "
			 "entry: the flood guard's (conntrack.flood_guard_new_flows_per_cpu).");
	xlb_expo__u64(e, "xlb_conntrack_untracked_total", "", 0, NULL, g->tx_untracked);

	by_ip_family(e, "xlb_flow_cache_hits_total", "counter",
		     "Established packets a CPU's flow cache sent without a connection-table "
		     "lookup (part of xlb_conntrack_lookups_total{result=\"hit\"}).",
		     g->flow_cache_hits);
	by_ip_family(e, "xlb_flow_cache_bypasses_total", "counter",
		     "Times a CPU stopped reading its flow cache for a while: it answered under "
		     "a quarter of its recent lookups (more active flows than it holds).",
		     g->flow_cache_bypasses);
	if (c->conntrack_known)
		by_ip_family(e, "xlb_conntrack_entries", "gauge",
			     "Flows in the connection table, by address family, as the kernel "
			     "counts them (entries of expired flows stay until evicted).",
			     c->conntrack_entries);

	xlb_expo__family(e, "xlb_gue_packets_total", "counter",
			 "Packets sent in GUE (forward: gue), by whether they named an alternate "
			 "backend: the one the VIP's previous table gave the flow's slot to.");
	xlb_expo__u64(e, "xlb_gue_packets_total", "", 0, "alternate=\"yes\"", g->tx_gue_alt);
	xlb_expo__u64(e, "xlb_gue_packets_total", "", 0, "alternate=\"no\"",
		      g->tx_gue - g->tx_gue_alt);

	xlb_expo__family(e, "xlb_icmp_errors_forwarded_total", "counter",
			 "ICMP errors about a VIP flow sent to that flow's backend.");
	xlb_expo__u64(e, "xlb_icmp_errors_forwarded_total", "", 0, NULL, g->tx_icmp);

	xlb_expo__family(e, "xlb_icmp_too_big_sent_total", "counter",
			 "Client packets too big for the interface's MTU once encapsulated, "
			 "answered with an ICMP \"fragmentation needed\" / ICMPv6 \"packet too "
			 "big\" instead of being forwarded.");
	xlb_expo__u64(e, "xlb_icmp_too_big_sent_total", "", 0, NULL, g->tx_too_big);

	xlb_expo__family(e, "xlb_packets_passed_total", "counter",
			 "Packets handed to the kernel untouched, by reason.");
	xlb_expo__u64(e, "xlb_packets_passed_total", "", 0, "reason=\"not_ip\"", g->pass_not_ip);
	xlb_expo__u64(e, "xlb_packets_passed_total", "", 0, "reason=\"not_vip\"", g->pass_not_vip);
	xlb_expo__u64(e, "xlb_packets_passed_total", "", 0, "reason=\"other_l4\"",
		      g->pass_other_l4);
	xlb_expo__u64(e, "xlb_packets_passed_total", "", 0, "reason=\"other_host\"",
		      g->pass_other_host);
	xlb_expo__u64(e, "xlb_packets_passed_total", "", 0, "reason=\"multicast\"",
		      g->pass_multicast);
}

static void api_family(struct xlb_expo *e)
{
	xlb_expo__family(e, "xlb_api_requests_total", "counter",
			 "API requests answered since xlbd started, by HTTP status.");
	for (int code = 0; code < API_CODES; code++) {
		char more[16];

		if (!api_requests[code])
			continue;
		snprintf(more, sizeof(more), "code=\"%d\"", code);
		xlb_expo__u64(e, "xlb_api_requests_total", "", 0, more, api_requests[code]);
	}
}

static int label_tables(const struct xlb_config *cfg, struct xlb_expo_labels *vl,
			struct xlb_expo_labels *bl)
{
	size_t nb = 0, vbytes = 0, bbytes = 0;

	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		size_t vlen = 2 * strlen(cfg->vips[i].vip) + 8;

		vbytes += vlen;
		nb += cfg->vips[i].n_backends;
		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++)
			bbytes += vlen + 2 * strlen(cfg->vips[i].backends[j].address) + 12;
	}
	xlb_expo_labels__reserve(vl, cfg->n_vips, vbytes);
	xlb_expo_labels__reserve(bl, nb, bbytes);
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		xlb_expo_labels__add(vl, "vip", v->vip, NULL, NULL);
		for (unsigned int j = 0; j < v->n_backends; j++)
			xlb_expo_labels__add(bl, "vip", v->vip, "backend", v->backends[j].address);
	}
	return vl->err ?: bl->err;
}

/*
 * The whole text into f; 0 or -errno. The label tables are built once per
 * configuration (d->cfg_gen) and kept: escaping 100,000 label sets costs
 * more than copying them.
 */
static int render(struct xlb_daemon *d, FILE *f)
{
	static struct xlb_expo_labels vl, bl;
	static unsigned long labels_gen; /* d->cfg_gen they were built for; 0: none */
	static struct xlb_counters c;	 /* its memory kept from scrape to scrape */
	struct xlb_expo *e = NULL;
	int ret;

	ret = xlb_counters__reread(d, &c);
	if (ret)
		return ret;
	e = malloc(sizeof(*e));
	ret = e ? 0 : -ENOMEM;
	if (!ret && (!labels_gen || labels_gen != d->cfg_gen)) {
		xlb_expo_labels__clear(&vl);
		xlb_expo_labels__clear(&bl);
		ret = label_tables(d->cfg, &vl, &bl);
		labels_gen = ret ? 0 : d->cfg_gen;
	}
	if (ret)
		goto out;
	xlb_expo__init(e, f);
	build_info(e, d);
	announce_family(e, d);
	vip_families(e, d->cfg, &c, &vl);
	backend_families(e, d->cfg, &c, &bl);
	xlb_expo__flush(e);
	xlb_supervisor__metrics(d->sup, d->cfg, f);
	global_families(e, &c);
	api_family(e);
	ret = xlb_expo__finish(e);
out:
	free(e);
	return ret;
}

char *xlb_metrics__render(struct xlb_daemon *d)
{
	static const cookie_io_functions_t io = { .write = text_write };
	struct text t = {};
	FILE *f;
	int ret;

	if (text_reserve(&t, last_text_len + last_text_len / 8 + 65536))
		return NULL;
	f = fopencookie(&t, "w", io);
	if (!f) {
		free(t.p);
		return NULL;
	}
	setvbuf(f, NULL, _IONBF, 0); /* the writers buffer */
	ret = render(d, f);
	if (fclose(f) || !t.p)
		ret = ret ?: -EIO;
	if (ret) {
		free(t.p);
		return NULL;
	}
	t.p[t.len] = '\0';
	last_text_len = t.len;
	return t.p;
}

int xlb_metrics__render_evbuffer(struct xlb_daemon *d, struct evbuffer *out)
{
	static const cookie_io_functions_t io = { .write = chunks_write };
	struct chunks k = { .out = out };
	int ret;

	if (active)
		return -EBUSY; /* not reentrant */
	k.f = fopencookie(&k, "w", io);
	if (!k.f)
		return -ENOMEM;
	setvbuf(k.f, NULL, _IONBF, 0);
	active = &k;
	ret = render(d, k.f);
	active = NULL;
	if (fclose(k.f))
		ret = ret ?: -EIO;
	pool.keep = k.used;
	return ret ?: k.err;
}
