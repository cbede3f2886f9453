/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Health checks and breakers per backend. Check results feed the breakers
 * from the check callbacks; a 100 ms tick applies time-driven transitions,
 * panic mode and slow start, and publishes when the effective set changed.
 * Transitions are logged one line each; check results are not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "userspace/xlbd/counters.h"
#include "userspace/lib/health.h"
#include "userspace/lib/log.h"
#include "userspace/xlbd/metrics.h"
#include "userspace/xlbd/supervise.h"

#define TICK_MS 100
#define PASSIVE_EVERY_TICKS 10 /* the passive signal is judged each second */
#define JITTER_PCT 10

static const double hist_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				      0.05,   0.1,   0.25,   0.5,   1,    2.5 };
#define HIST_N (sizeof(hist_bounds) / sizeof(hist_bounds[0]))

/* Entries sort by this, so a VIP's backends are contiguous. */
struct key {
	struct xlb_vip_addr vip;
	__u8 family;
	__u8 pad[3];
	__be32 addr[4];
};

struct entry {
	struct key key;
	struct xlb_supervisor *s;
	char vip_name[XLB_VIP_NAME_MAX];
	char address[XLB_ADDR_STR_MAX];
	struct xlb_breaker br;
	struct xlb_health_check *check;
	enum xlb_config_hc_type type;
	bool drained;
	unsigned int max_pct;
	__u32 weight;	 /* configured */
	__u32 pub;	 /* what was last published: weight, 0 = out */
	bool pub_drained;
	bool has_result, last_ok;
	__u32 latency_us;
	__u64 last_check_ms;
	char detail[64];
	bool seen;
	/* passive signal */
	double passive_ratio;
	__u32 passive_min;
	__u64 last_new_flows, last_retransmits;
	bool passive_primed;
	unsigned long long passive_breaches;
};

struct xlb_supervisor {
	struct xlb_health *health;
	struct xlb_health_sched *sched;
	struct event *tick;
	xlb_supervisor_publish_fn publish;
	xlb_supervisor_counters_fn counters;
	void *arg;
	unsigned int ticks;
	struct entry **e; /* sorted by key */
	size_t n;
	bool pub_valid; /* pub fields match the data path */
	unsigned long long hist[HIST_N + 1];
	double hist_sum;
	unsigned long long hist_count;
	/* vip="..",backend=".." of each entry, in order, for /metrics: built
	 * at the first scrape after a sync, not at every scrape.
	 */
	struct xlb_expo_labels labels;
	bool labels_valid;
	struct xlb_health_udp_bytes udp_bytes; /* configure()'s scratch, copied by the scheduler */
};

static void make_key(struct key *k, const struct xlb_config_vip *v,
		     const struct xlb_config_backend *b)
{
	memset(k, 0, sizeof(*k));
	k->vip.family = v->addr.family;
	k->vip.proto = v->addr.proto;
	k->vip.port = v->addr.port;
	memcpy(k->vip.addr, v->addr.addr, sizeof(k->vip.addr));
	k->family = b->family;
	memcpy(k->addr, b->addr, sizeof(k->addr));
}

static int cmp_key(const struct key *a, const struct key *b)
{
	return memcmp(a, b, sizeof(*a));
}

static int cmp_entry(const void *a, const void *b)
{
	return cmp_key(&(*(struct entry *const *)a)->key, &(*(struct entry *const *)b)->key);
}

static struct entry *find(struct xlb_supervisor *s, const struct key *k)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_key(&s->e[mid]->key, k);

		if (!c)
			return s->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void log_event(struct entry *e, const struct xlb_breaker_event *ev)
{
	char line[160];

	xlb_breaker__event_str(ev, &e->br, line, sizeof(line));
	pr_info("vip %s backend %s: %s%s%s", e->vip_name, e->address, line,
		e->has_result ? ", last check: " : "", e->has_result ? e->detail : "");
}

static void observe(struct xlb_supervisor *s, __u32 latency_us)
{
	double sec = latency_us / 1e6;
	size_t i = 0;

	while (i < HIST_N && sec > hist_bounds[i])
		i++;
	s->hist[i]++;
	s->hist_sum += sec;
	s->hist_count++;
}

static long long on_check(void *arg, const struct xlb_health_result *r)
{
	struct entry *e = arg;
	struct xlb_breaker_event ev;
	__u64 now = xlb_health__now_ms();

	e->has_result = true;
	e->last_ok = r->ok;
	e->latency_us = r->latency_us;
	e->last_check_ms = now;
	snprintf(e->detail, sizeof(e->detail), "%s", r->detail ? r->detail : "");
	observe(e->s, r->latency_us);
	if (xlb_breaker__tick(&e->br, now, &ev))
		log_event(e, &ev);
	if (xlb_breaker__on_result(&e->br, now, r->ok, &ev))
		log_event(e, &ev);
	if (e->br.state == XLB_BREAKER_OPEN)
		return XLB_HEALTH_PAUSE; /* the tick wakes it for HALF_OPEN */
	return (long long)xlb_breaker__next_check_delay(&e->br, now);
}

static void entry_free(struct entry *e)
{
	if (e->check)
		xlb_health_sched__del(e->check);
	free(e);
}

/* Applies panic mode to each VIP's range of entries. */
/* Returns how many backends it moved into or out of panic mode. */
static int apply_panic(struct xlb_supervisor *s)
{
	struct xlb_breaker **brs = calloc(s->n + 1, sizeof(*brs));
	int flipped = 0;

	if (!brs)
		return 0;
	for (size_t i = 0; i < s->n;) {
		size_t j = i, n = 0;

		while (j < s->n && !memcmp(&s->e[j]->key.vip, &s->e[i]->key.vip,
					   sizeof(s->e[i]->key.vip))) {
			if (!s->e[j]->drained)
				brs[n++] = &s->e[j]->br;
			j++;
		}
		if (n) {
			bool panic = false, was = false;
			int ret;

			for (size_t k = i; k < j; k++)
				was |= s->e[k]->br.panic_kept;
			ret = xlb_breaker__vip_apply_panic(brs, n, s->e[i]->max_pct, &panic);
			flipped += ret > 0 ? ret : 0;
			if (panic != was)
				pr_warn("vip %s: %s", s->e[i]->vip_name,
					panic ? "panic: too many backends failing, keeping them in service"
					      : "panic over");
		}
		i = j;
	}
	free(brs);
	return flipped;
}

static __u32 effective_weight(const struct entry *e, __u64 now)
{
	return xlb_breaker__effective_weight(&e->br, e->weight, now);
}

/*
 * The passive signal: SYNs for flows already in the connection table are
 * clients retrying a handshake nobody answered. Over each second, a backend
 * with at least min_syns SYNs (new flows + retransmissions) of which the
 * configured share or more were retransmissions fails a check.
 */
static void judge_passive(struct xlb_supervisor *s, __u64 now)
{
	const struct xlb_config *cfg;
	struct xlb_counters c;
	bool wanted = false;

	for (size_t i = 0; i < s->n && !wanted; i++)
		wanted = s->e[i]->passive_ratio > 0;
	if (!wanted || !s->counters || !(cfg = s->counters(s->arg, &c)))
		return;
	for (unsigned int i = 0; i < cfg->n_vips && i < c.n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		for (unsigned int j = 0; j < v->n_backends; j++) {
			const struct xlb_backend_stats *bs = &c.vips[i].backend[j];
			struct xlb_breaker_event ev;
			struct entry *e;
			__u64 fresh, retx;
			struct key k;

			make_key(&k, v, &v->backends[j]);
			e = find(s, &k);
			if (!e || e->passive_ratio <= 0)
				continue;
			fresh = bs->new_flows - e->last_new_flows;
			retx = bs->syn_retransmits - e->last_retransmits;
			e->last_new_flows = bs->new_flows;
			e->last_retransmits = bs->syn_retransmits;
			if (!e->passive_primed || bs->new_flows < fresh) { /* first look, or reset */
				e->passive_primed = true;
				continue;
			}
			if (fresh + retx < e->passive_min || retx < e->passive_ratio * (fresh + retx) ||
			    e->br.state != XLB_BREAKER_CLOSED)
				continue;
			e->passive_breaches++;
			snprintf(e->detail, sizeof(e->detail), "passive: %llu of %llu SYNs retransmitted",
				 (unsigned long long)retx, (unsigned long long)(fresh + retx));
			e->has_result = true;
			e->last_ok = false;
			e->last_check_ms = now;
			if (xlb_breaker__on_result(&e->br, now, false, &ev))
				log_event(e, &ev);
		}
	}
	xlb_counters__free(&c);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct xlb_supervisor *s = arg;
	__u64 now = xlb_health__now_ms();
	bool changed = !s->pub_valid;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < s->n; i++) {
		struct entry *e = s->e[i];
		struct xlb_breaker_event ev;

		if (xlb_breaker__tick(&e->br, now, &ev)) {
			log_event(e, &ev);
			if (ev.to == XLB_BREAKER_HALF_OPEN && e->check)
				xlb_health_sched__kick(e->check, 0);
		}
	}
	if (++s->ticks % PASSIVE_EVERY_TICKS == 0)
		judge_passive(s, now);
	/*
	 * A backend kept only by panic mode leaves the table as it was, but
	 * no longer counts as healthy for announcing: publish (a no-op for
	 * the data path) so that the daemon looks again at once.
	 */
	if (apply_panic(s) > 0)
		changed = true;
	for (size_t i = 0; i < s->n && !changed; i++) {
		struct entry *e = s->e[i];

		changed = effective_weight(e, now) != e->pub || e->drained != e->pub_drained;
	}
	if (changed && s->publish)
		s->publish(s->arg); /* calls xlb_supervisor__mark_published() on success */
}

void xlb_supervisor__mark_published(struct xlb_supervisor *s, bool ok)
{
	__u64 now = xlb_health__now_ms();

	s->pub_valid = ok;
	for (size_t i = 0; ok && i < s->n; i++) {
		s->e[i]->pub = effective_weight(s->e[i], now);
		s->e[i]->pub_drained = s->e[i]->drained;
	}
}

int xlb_supervisor__new(struct event_base *base, xlb_supervisor_publish_fn publish,
			xlb_supervisor_counters_fn counters, void *arg,
			struct xlb_supervisor **out)
{
	struct xlb_supervisor *s = calloc(1, sizeof(*s));
	struct timeval tv = { .tv_sec = 0, .tv_usec = TICK_MS * 1000 };
	int ret;

	if (!s)
		return -ENOMEM;
	s->publish = publish;
	s->counters = counters;
	s->arg = arg;
	if (base) {
		ret = xlb_health__new(base, &s->health);
		if (!ret)
			ret = xlb_health_sched__new(s->health, JITTER_PCT, 0, &s->sched);
		if (ret) {
			xlb_supervisor__free(s);
			return ret;
		}
		s->tick = event_new(base, -1, EV_PERSIST, on_tick, s);
		if (!s->tick || event_add(s->tick, &tv)) {
			xlb_supervisor__free(s);
			return -ENOMEM;
		}
	}
	*out = s;
	return 0;
}

void xlb_supervisor__free(struct xlb_supervisor *s)
{
	if (!s)
		return;
	if (s->tick)
		event_free(s->tick);
	for (size_t i = 0; i < s->n; i++)
		entry_free(s->e[i]);
	free(s->e);
	xlb_expo_labels__free(&s->labels);
	xlb_health_sched__free(s->sched);
	xlb_health__free(s->health);
	free(s);
}

/* (Re)configures e from its VIP and backend; starts or retargets its check. */
static int configure(struct xlb_supervisor *s, struct entry *e, const struct xlb_config_vip *v,
		     const struct xlb_config_backend *b)
{
	struct xlb_breaker_params p;
	struct xlb_health_target t;
	int ret;

	ret = xlb_breaker__params_from_config(&v->health_check, &v->circuit_breaker, &p);
	if (ret)
		return ret;
	ret = xlb_breaker__set_params(&e->br, &p);
	if (ret)
		return ret;
	e->drained = b->drain;
	e->weight = b->weight;
	e->max_pct = v->circuit_breaker.max_ejection_percent;
	e->passive_ratio = v->passive.syn_retransmit_ratio;
	e->passive_min = v->passive.min_syns;
	if (v->health_check.type != e->type && e->check) {
		xlb_health_sched__del(e->check);
		e->check = NULL;
	}
	e->type = v->health_check.type;
	if (e->type == XLB_CONFIG_HC_NONE || !s->sched)
		return 0;
	ret = xlb_health__target_from_config(v, b, &t, &s->udp_bytes);
	if (ret)
		return ret;
	if (e->check)
		ret = xlb_health_sched__set_target(e->check, &t);
	else
		ret = xlb_health_sched__add(s->sched, &t, v->health_check.interval_ms, on_check, e,
					    &e->check);
	if (!ret)
		xlb_health_sched__set_jitter(e->check, v->health_check.jitter_percent);
	return ret;
}

int xlb_supervisor__check_config(const struct xlb_config *cfg, char *err, size_t errlen)
{
	static struct xlb_health_udp_bytes bytes; /* large; xlbd is single-threaded */
	char why[256];

	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		if (v->health_check.type == XLB_CONFIG_HC_NONE)
			continue;
		for (unsigned int j = 0; j < v->n_backends; j++) {
			struct xlb_health_target t;
			int ret;

			ret = xlb_health__target_from_config(v, &v->backends[j], &t, &bytes);
			if (ret)
				snprintf(why, sizeof(why), "no probe target (%s)", strerror(-ret));
			else
				ret = xlb_health__target_check(&t, why, sizeof(why));
			if (ret)
				return xlb_err(err, errlen, ret,
					       "vips[%u] (%s): backends[%u] %s: the health check "
					       "cannot start: %s",
					       i, v->vip, j, v->backends[j].address, why);
		}
	}
	return 0;
}

static struct entry *entry_new(struct xlb_supervisor *s, const struct key *k,
			       const struct xlb_config_vip *v, const struct xlb_config_backend *b,
			       bool in_service)
{
	struct entry *e = calloc(1, sizeof(*e));
	struct xlb_breaker_params p;
	bool closed = in_service || v->health_check.type == XLB_CONFIG_HC_NONE;

	if (!e)
		return NULL;
	e->key = *k;
	e->s = s;
	e->type = v->health_check.type;
	snprintf(e->vip_name, sizeof(e->vip_name), "%s", v->vip);
	snprintf(e->address, sizeof(e->address), "%s", b->address);
	if (xlb_breaker__params_from_config(&v->health_check, &v->circuit_breaker, &p) ||
	    xlb_breaker__init(&e->br, &p, xlb_health__now_ms(),
			      closed ? XLB_BREAKER_CLOSED : XLB_BREAKER_PENDING) ||
	    configure(s, e, v, b)) {
		entry_free(e);
		return NULL;
	}
	return e;
}

int xlb_supervisor__sync(struct xlb_supervisor *s, const struct xlb_config *cfg,
			 xlb_supervisor_serving_fn serving, void *arg)
{
	size_t total = 0, n = 0;
	struct entry **next;
	int ret = 0;

	for (unsigned int i = 0; i < cfg->n_vips; i++)
		total += cfg->vips[i].n_backends;
	next = calloc(total + 1, sizeof(*next));
	if (!next)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		s->e[i]->seen = false;
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];

		for (unsigned int j = 0; j < v->n_backends; j++) {
			const struct xlb_config_backend *b = &v->backends[j];
			struct entry *e;
			struct key k;

			make_key(&k, v, b);
			e = find(s, &k);
			if (e) {
				if (configure(s, e, v, b))
					pr_warn("vip %s backend %s: keeping the old check settings",
						v->vip, b->address);
			} else {
				e = entry_new(s, &k, v, b, serving && serving(arg, v, b));
				if (!e) {
					ret = -ENOMEM;
					continue;
				}
				pr_debug("vip %s backend %s: supervised (%s)", v->vip, b->address,
					 xlb_breaker__state_name(e->br.state));
			}
			e->seen = true;
			next[n++] = e;
		}
	}
	for (size_t i = 0; i < s->n; i++)
		if (!s->e[i]->seen)
			entry_free(s->e[i]);
	free(s->e);
	qsort(next, n, sizeof(*next), cmp_entry);
	s->e = next;
	s->n = n;
	s->labels_valid = false;
	apply_panic(s);
	return ret;
}

int xlb_supervisor__effective(struct xlb_supervisor *s, const struct xlb_config *cfg,
			      struct xlb_config **out)
{
	__u64 now = xlb_health__now_ms();
	struct xlb_config *eff;
	int ret;

	ret = xlb_config__dup(cfg, &eff);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < eff->n_vips; i++) {
		struct xlb_config_vip *v = &eff->vips[i];
		unsigned int kept = 0;

		for (unsigned int j = 0; j < v->n_backends; j++) {
			struct xlb_config_backend *b = &v->backends[j];
			struct entry *e;
			__u32 w;
			struct key k;

			make_key(&k, v, b);
			e = find(s, &k);
			if (e) /* the config's weight: it may be newer than e's */
				w = xlb_breaker__effective_weight(&e->br, b->weight, now);
			else /* not supervised yet: a new backend */
				w = v->health_check.type == XLB_CONFIG_HC_NONE ? b->weight : 0;
			if (!w) {
				free(b->address);
				continue;
			}
			b->weight = w;
			v->backends[kept++] = *b;
		}
		v->n_backends = kept;
	}
	*out = eff;
	return 0;
}

unsigned int xlb_supervisor__healthy_in_table(struct xlb_supervisor *s,
					      const struct xlb_config_vip *v)
{
	unsigned int n = 0;

	for (unsigned int j = 0; s->pub_valid && j < v->n_backends; j++) {
		struct entry *e;
		struct key k;

		make_key(&k, v, &v->backends[j]);
		e = find(s, &k);
		n += e && e->pub && !e->pub_drained && !e->br.panic_kept;
	}
	return n;
}

static bool vip_panic(struct xlb_supervisor *s, const struct xlb_config_vip *v)
{
	for (unsigned int j = 0; j < v->n_backends; j++) {
		struct entry *e;
		struct key k;

		make_key(&k, v, &v->backends[j]);
		e = find(s, &k);
		if (e && e->br.panic_kept)
			return true;
	}
	return false;
}

json_t *xlb_supervisor__backend_json(struct xlb_supervisor *s, const struct xlb_config_vip *v,
				     const struct xlb_config_backend *b)
{
	__u64 now = xlb_health__now_ms(), next;
	struct entry *e;
	struct key k;
	json_t *o;

	make_key(&k, v, b);
	e = find(s, &k);
	o = json_pack("{s:s, s:b}", "address", b->address, "drain", b->drain);
	if (!e) {
		json_object_set_new(o, "up", json_false());
		json_object_set_new(o, "circuit", json_string("pending"));
		return o;
	}
	next = xlb_breaker__time_to_change(&e->br, now);
	json_object_set_new(o, "up", json_boolean(xlb_breaker__in_service(&e->br) && !b->drain));
	json_object_set_new(o, "circuit", json_string(xlb_breaker__state_name(e->br.state)));
	json_object_set_new(o, "panic_kept", json_boolean(e->br.panic_kept));
	json_object_set_new(o, "weight", json_integer(effective_weight(e, now)));
	/* What the data path's table holds now (weight 0: not in it); it
	 * follows "weight" within a tick. null until a publish succeeds.
	 */
	json_object_set_new(o, "table_weight",
			    s->pub_valid ? json_integer(e->pub_drained ? 0 : e->pub) : json_null());
	json_object_set_new(o, "successes", json_integer(e->br.successes));
	json_object_set_new(o, "failures", json_integer(e->br.failures));
	json_object_set_new(o, "ejections", json_integer(e->br.ejections));
	json_object_set_new(o, "passive_breaches", json_integer(e->passive_breaches));
	json_object_set_new(o, "next_change_ms",
			    next == XLB_BREAKER_NEVER ? json_null() : json_integer(next));
	if (e->has_result) {
		json_object_set_new(o, "last_check_ms", json_integer(now - e->last_check_ms));
		json_object_set_new(o, "last_result", json_string(e->last_ok ? "ok" : "failed"));
		json_object_set_new(o, "detail", json_string(e->detail));
		json_object_set_new(o, "latency_ms", json_real(e->latency_us / 1000.0));
	}
	return o;
}

json_t *xlb_supervisor__health_json(struct xlb_supervisor *s, const struct xlb_config *cfg,
				    const struct xlb_config_vip *only)
{
	return xlb_supervisor__health_json_one(s, cfg, only, NULL);
}

json_t *xlb_supervisor__health_json_one(struct xlb_supervisor *s, const struct xlb_config *cfg,
					const struct xlb_config_vip *only,
					const struct xlb_config_backend *only_be)
{
	json_t *vips = json_array();

	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		const struct xlb_config_vip *v = &cfg->vips[i];
		json_t *backends = json_array();

		if (only && only != v)
			continue;
		for (unsigned int j = 0; j < v->n_backends; j++)
			if (!only_be || only_be == &v->backends[j])
				json_array_append_new(
				    backends, xlb_supervisor__backend_json(s, v, &v->backends[j]));
		json_array_append_new(vips, json_pack("{s:s, s:s, s:b, s:o}", "vip", v->vip,
						      "check",
						      xlb_config__hc_type_name(v->health_check.type),
						      "panic", vip_panic(s, v), "backends", backends));
	}
	return json_pack("{s:o}", "vips", vips);
}

void xlb_supervisor__metrics(struct xlb_supervisor *s, const struct xlb_config *cfg, FILE *f)
{
	static struct row {
		__u32 ejections, weight;
		__u8 state, up;
	} *rows;
	static struct vip_run {
		struct xlb_vip_addr vip;
		bool panic;
	} *runs;
	static size_t cap;
	struct xlb_expo_labels *bl = &s->labels;
	struct xlb_expo *e = malloc(sizeof(*e));
	__u64 now = xlb_health__now_ms();
	unsigned long long cum = 0;
	size_t nruns = 0, len;
	const char *l;

	if (s->n + 1 > cap) {
		struct row *r = realloc(rows, (s->n + 1) * sizeof(*rows));
		struct vip_run *v = r ? realloc(runs, (s->n + 1) * sizeof(*runs)) : NULL;

		rows = r ?: rows;
		runs = v ?: runs;
		cap = r && v ? s->n + 1 : 0;
	}
	if (!s->labels_valid) {
		xlb_expo_labels__clear(bl);
		xlb_expo_labels__reserve(bl, s->n, s->n * 64);
		for (size_t i = 0; i < s->n; i++)
			xlb_expo_labels__add(bl, "vip", s->e[i]->vip_name, "backend",
					     s->e[i]->address);
		s->labels_valid = !bl->err;
	}
	if (!cap || !e || !s->labels_valid) { /* no families rather than broken ones */
		fputs("# xlb_supervisor__metrics: out of memory\n", f);
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *en = s->e[i];

		if (i + 4 < s->n)
			for (size_t off = 0; off < sizeof(*en); off += 64)
				__builtin_prefetch((const char *)s->e[i + 4] + off);
		rows[i].state = en->br.state;
		rows[i].up = xlb_breaker__in_service(&en->br) && !en->drained;
		rows[i].ejections = en->br.ejections;
		rows[i].weight = en->drained ? 0 : effective_weight(en, now);
		if (!nruns || memcmp(&runs[nruns - 1].vip, &en->key.vip, sizeof(en->key.vip))) {
			runs[nruns].vip = en->key.vip;
			runs[nruns++].panic = false;
		}
		runs[nruns - 1].panic |= en->br.panic_kept;
	}
	xlb_expo__init(e, f);

	xlb_expo__family(e, "xlb_backend_up", "gauge", "1 when the backend takes new flows.");
	for (size_t i = 0; i < s->n; i++) {
		l = xlb_expo_labels__get(bl, i, &len);
		xlb_expo__sample(e, "xlb_backend_up", sizeof("xlb_backend_up") - 1, l, len, NULL, 0,
				 rows[i].up);
	}
	/*
	 * One series per backend, its state as a number (docs/METRICS.md):
	 * one 0/1 series per state cost four lines a backend, 40 % of the
	 * text at 1,000 x 100, and made an ejected backend's alert start
	 * over at each open <-> half_open turn (a new series each time).
	 */
	_Static_assert(XLB_BREAKER_CLOSED == 0 && XLB_BREAKER_OPEN == 1 &&
			       XLB_BREAKER_HALF_OPEN == 2 && XLB_BREAKER_PENDING == 3,
		       "xlb_backend_circuit's values are documented");
	xlb_expo__family(e, "xlb_backend_circuit", "gauge",
			 "Circuit breaker state: 0 closed (in service), 1 open (ejected), "
			 "2 half_open (ejected, probing), 3 pending (new, not yet passed a "
			 "check).");
	for (size_t i = 0; i < s->n; i++) {
		l = xlb_expo_labels__get(bl, i, &len);
		xlb_expo__sample(e, "xlb_backend_circuit", sizeof("xlb_backend_circuit") - 1, l,
				 len, NULL, 0, rows[i].state);
	}
	xlb_expo__family(e, "xlb_backend_ejections_total", "counter",
			 "Times the breaker ejected the backend.");
	for (size_t i = 0; i < s->n; i++) {
		l = xlb_expo_labels__get(bl, i, &len);
		xlb_expo__sample(e, "xlb_backend_ejections_total",
				 sizeof("xlb_backend_ejections_total") - 1, l, len, NULL, 0,
				 rows[i].ejections);
	}
	xlb_expo__family(e, "xlb_backend_weight", "gauge",
			 "Effective weight in the table: 0 when out of service or drained; "
			 "slow start shows here.");
	for (size_t i = 0; i < s->n; i++) {
		l = xlb_expo_labels__get(bl, i, &len);
		xlb_expo__sample(e, "xlb_backend_weight", sizeof("xlb_backend_weight") - 1, l, len,
				 NULL, 0, rows[i].weight);
	}
	xlb_expo__family(e, "xlb_vip_panic", "gauge",
			 "1 while failing backends are kept in service (max_ejection_percent).");
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		char vl[2 * XLB_VIP_NAME_MAX + 8];
		size_t lo = 0, hi = nruns, n;
		bool panic = false;

		while (lo < hi) { /* the runs are sorted by VIP, as the entries */
			size_t mid = (lo + hi) / 2;
			int c = memcmp(&runs[mid].vip, &cfg->vips[i].addr, sizeof(runs[mid].vip));

			if (!c) {
				panic = runs[mid].panic;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		n = xlb_expo__label(vl, sizeof(vl), 0, "vip", cfg->vips[i].vip);
		xlb_expo__u64(e, "xlb_vip_panic", vl, n, NULL, panic);
	}
	xlb_expo__family(e, "xlb_healthcheck_duration_seconds", "histogram",
			 "Duration of active health checks, successful or not.");
	for (size_t i = 0; i < HIST_N; i++) {
		char le[32];

		cum += s->hist[i];
		snprintf(le, sizeof(le), "le=\"%g\"", hist_bounds[i]);
		xlb_expo__u64(e, "xlb_healthcheck_duration_seconds_bucket", "", 0, le, cum);
	}
	xlb_expo__u64(e, "xlb_healthcheck_duration_seconds_bucket", "", 0, "le=\"+Inf\"",
		      s->hist_count);
	xlb_expo__double(e, "xlb_healthcheck_duration_seconds_sum", "", 0, NULL, s->hist_sum);
	xlb_expo__u64(e, "xlb_healthcheck_duration_seconds_count", "", 0, NULL, s->hist_count);
	xlb_expo__finish(e);
out:
	free(e);
}
