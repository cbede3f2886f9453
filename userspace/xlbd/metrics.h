/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of xlbd's state and counters,
 * and the writer other modules render their families with (supervise.c).
 *
 * A scrape at 1,000 VIPs x 100 backends is a million lines, so the writer
 * builds lines with memcpy into a 64 KiB buffer in front of the FILE rather
 * than with fprintf, and label sets are escaped once per scrape into an
 * xlb_expo_labels table, then copied into each family's lines.
 *
 * Rules every family follows: HELP and TYPE before its samples, all its
 * samples together, no two samples with the same labels, label values
 * escaped (backslash, double quote, newline), counters end in _total.
 */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct evbuffer;
struct xlb_daemon;

/* The whole /metrics text, malloc()ed and NUL-terminated, or NULL. */
char *xlb_metrics__render(struct xlb_daemon *d);
/*
 * The same text appended to out, for the /metrics handler: cheaper at scale
 * (no copy, no fresh memory: out references chunks of a pool that libevent
 * gives back once they are sent). 0 or -errno; on error out may hold part
 * of the text.
 */
int xlb_metrics__render_evbuffer(struct xlb_daemon *d, struct evbuffer *out);
/* Counts an API answer by HTTP status, for xlb_api_requests_total. */
void xlb_metrics__count_api(int status);

/* ---- the writer ---- */

#define XLB_EXPO_BUF 65536

/*
 * Lines are built in buf. Over a FILE, buf is own and is written out when
 * full; over the FILE of xlb_metrics__render_evbuffer(), buf is a chunk
 * of its pool, handed to the evbuffer when full: the text is written once.
 */
struct xlb_expo {
	FILE *f;
	void *sink, *chunk; /* the pool's, when over its FILE */
	char *buf;
	size_t len, cap;
	int err; /* the first error (-EIO, -ENOMEM); finish() returns it */
	char own[XLB_EXPO_BUF];
};

void xlb_expo__init(struct xlb_expo *e, FILE *f);
/* Writes out what is buffered; 0, or the first error. */
int xlb_expo__finish(struct xlb_expo *e);
/* Writes out what is buffered and makes buf empty. */
void xlb_expo__flush(struct xlb_expo *e);
/* Appends n bytes of s, of any length. */
void xlb_expo__write(struct xlb_expo *e, const char *s, size_t n);

static inline void xlb_expo__put(struct xlb_expo *e, const char *s, size_t n)
{
	if (!n)
		return; /* s may be NULL then, which memcpy does not allow */
	if (e->len + n > e->cap) {
		xlb_expo__write(e, s, n);
		return;
	}
	memcpy(e->buf + e->len, s, n);
	e->len += n;
}

/* # HELP and # TYPE lines; type is counter, gauge or histogram. */
void xlb_expo__family(struct xlb_expo *e, const char *name, const char *type, const char *help);
/*
 * memcpy for the short strings of a line (names, label sets: tens of
 * bytes), inline: a million lines make three library calls each
 * otherwise. Reads only src[0..n), writes only dst[0..n).
 */
static __always_inline void xlb_expo__copy(char *dst, const char *src, size_t n)
{
	if (n >= 16) {
		size_t i;

		for (i = 0; i + 16 <= n; i += 16)
			__builtin_memcpy(dst + i, src + i, 16);
		if (i < n) /* the tail, overlapping what is copied */
			__builtin_memcpy(dst + n - 16, src + n - 16, 16);
	} else if (n >= 8) {
		__builtin_memcpy(dst, src, 8);
		__builtin_memcpy(dst + n - 8, src + n - 8, 8);
	} else if (n >= 4) {
		__builtin_memcpy(dst, src, 4);
		__builtin_memcpy(dst + n - 4, src + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/* Digits of v into out (20 at most); returns how many. Two digits per
 * division: a scrape formats a million numbers of up to 14 digits.
 */
static inline size_t xlb_expo__fmt_u64(char *out, unsigned long long v)
{
	static const char pairs[] = "000102030405060708091011121314151617181920212223242526272829"
				   "303132333435363738394041424344454647484950515253545556575859"
				   "606162636465666768697071727374757677787980818283848586878889"
				   "90919293949596979899";
	char tmp[20], *p = tmp + sizeof(tmp);
	size_t n;

	while (v >= 100) {
		p -= 2;
		memcpy(p, &pairs[(v % 100) * 2], 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, &pairs[v * 2], 2);
	} else {
		*--p = (char)('0' + v);
	}
	n = (size_t)(tmp + sizeof(tmp) - p);
	xlb_expo__copy(out, p, n);
	return n;
}

/* name{labels,more} value, value already formatted; any length. */
void xlb_expo__line(struct xlb_expo *e, const char *name, size_t name_len, const char *labels,
		    size_t labels_len, const char *more, size_t more_len, const char *value,
		    size_t value_len);

/*
 * One sample: name{labels,more} value. labels is an escaped label set
 * (k="v",...) of labels_len bytes, or empty; more another one of more_len
 * bytes to append (0: none). Families pass lengths measured once, not per
 * line.
 */
static __always_inline void xlb_expo__sample(struct xlb_expo *e, const char *name,
					     size_t name_len, const char *labels,
					     size_t labels_len, const char *more, size_t more_len,
					     unsigned long long v)
{
	char *p;

	if (e->len + name_len + labels_len + more_len + 32 > e->cap) {
		char num[24];

		xlb_expo__line(e, name, name_len, labels, labels_len, more, more_len, num,
			       xlb_expo__fmt_u64(num, v));
		return;
	}
	p = e->buf + e->len;
	xlb_expo__copy(p, name, name_len);
	p += name_len;
	if (labels_len || more_len) {
		*p++ = '{';
		xlb_expo__copy(p, labels, labels_len);
		p += labels_len;
		if (labels_len && more_len)
			*p++ = ',';
		xlb_expo__copy(p, more, more_len);
		p += more_len;
		*p++ = '}';
	}
	*p++ = ' ';
	p += xlb_expo__fmt_u64(p, v);
	*p++ = '\n';
	e->len = p - e->buf;
}

/* xlb_expo__sample() with NUL-terminated name and more (NULL: none). */
static inline void xlb_expo__u64(struct xlb_expo *e, const char *name, const char *labels,
				 size_t labels_len, const char *more, unsigned long long v)
{
	xlb_expo__sample(e, name, strlen(name), labels, labels_len, more,
			 more ? strlen(more) : 0, v);
}

void xlb_expo__double(struct xlb_expo *e, const char *name, const char *labels,
		      size_t labels_len, const char *more, double v);

/*
 * Escapes a label value for the text format into dst, which must hold
 * 2 * strlen(src) + 1 bytes; returns the length written (NUL excluded).
 */
size_t xlb_expo__escape(char *dst, const char *src);
/* Appends key="escaped value" (with a comma before it when len > 0) to
 * dst (cap bytes, len used); returns the new length, or cap when it did
 * not fit.
 */
size_t xlb_expo__label(char *dst, size_t cap, size_t len, const char *key, const char *value);

/* A table of label sets, one per series of a family (e.g. per backend). */
struct xlb_expo_labels {
	char *text;
	size_t *end; /* set i is text[i ? end[i - 1] : 0 .. end[i]) */
	size_t n, n_cap, len, cap;
	int err; /* -ENOMEM once an add failed; get() then gives "" */
};

/* Room for n sets of bytes in all, so that adding them does not copy. */
void xlb_expo_labels__reserve(struct xlb_expo_labels *l, size_t n, size_t bytes);
/* Empties the table, keeping its memory for the next scrape. */
static inline void xlb_expo_labels__clear(struct xlb_expo_labels *l)
{
	l->n = l->len = 0;
	l->err = 0;
}
/* Adds k1="v1" or k1="v1",k2="v2" (k2 NULL: one label) as set number n. */
void xlb_expo_labels__add(struct xlb_expo_labels *l, const char *k1, const char *v1,
			  const char *k2, const char *v2);
static inline const char *xlb_expo_labels__get(const struct xlb_expo_labels *l, size_t i,
					       size_t *len)
{
	size_t start = i ? l->end[i - 1] : 0;

	if (l->err || i >= l->n) {
		*len = 0;
		return "";
	}
	*len = l->end[i] - start;
	return l->text + start;
}
void xlb_expo_labels__free(struct xlb_expo_labels *l);

#endif /* XLB_METRICS_H */
