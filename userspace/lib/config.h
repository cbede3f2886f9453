/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlb's configuration model: the YAML file given to `xlbd --config`, the
 * state file xlbd keeps, and the bodies of `config apply` are all this one
 * schema (every key, default and range: docs/CONFIG.md):
 *
 *   interfaces:                      # optional
 *     - {name: eth0, mode: native}   # mode: native (default) | generic
 *   metrics: {listen: "127.0.0.1:9642"}     # optional, this is the default
 *   conntrack: {flood_guard_new_flows_per_cpu: 0}   # optional; 0 = off
 *   vips:                            # optional
 *     - vip: "198.18.1.100:80/tcp"   # required; [v6]:port/proto; port 0 = all
 *       algorithm: maglev            # maglev (default) | source-hash | wrr | rr | lc
 *       forward: ipip                # ipip (default) | l2dsr | gue
 *       gue_port: 19523              # forward gue: the backends' UDP port
 *       table_size: 65537            # prime, backends..XLB_MAGLEV_MAX_SIZE (655373)
 *       rate_limit: {pps: 0, burst: 0, source_new_flows: 0, source_burst: 0}
 *       health_check: {type: none, port: 80, path: /, expect: "200-399",
 *                      interval_ms: 1000, timeout_ms: 500, rise: 2, fall: 3,
 *                      jitter_percent: 10}   # each delay +-10%, 0..50
 *                      # type: none | tcp | http | https | udp
 *                      # http and https only: host, the Host header
 *                      # (default: the backend's address)
 *                      # udp only: payload (text) or payload_hex, the datagram
 *                      # sent; response (text) or response_hex, what a reply
 *                      # must start with (default: any reply)
 *       circuit_breaker: {base_ejection_ms: 5000, max_ejection_ms: 300000,
 *                         max_ejection_percent: 50, slow_start_ms: 10000}
 *       passive: {syn_retransmit_ratio: 0.5, min_syns: 20}   # optional, 0 = off
 *       backends:
 *         - {address: 198.18.0.11, weight: 100, drain: false}
 *
 * Defaults for omitted keys:
 *   algorithm maglev, forward ipip (works for any backend on any L3 path;
 *   l2dsr needs backends on the same L2 segment), table_size 65537 (each
 *   backend gets table_size / backends slots, so past ~1,000 backends the
 *   shares drift apart: at 5,000, 13 or 14 slots each, +-7%; 655373 keeps
 *   them within 1%; the size is never changed for you, as a new size moves
 *   every flow);
 *   rate_limit all 0 (off); a burst left 0 under a non-zero rate is one
 *   second's worth (burst = pps, source_burst = source_new_flows);
 *   health_check type none, port = the VIP's port, path "/", expect
 *   "200-399", interval_ms 1000, timeout_ms min(500, interval_ms), rise 2,
 *   fall 3, jitter_percent 10; circuit_breaker base_ejection_ms 5000,
 *   max_ejection_ms max(300000, base_ejection_ms), max_ejection_percent 50,
 *   slow_start_ms 10000; backend weight 100, drain false; interface mode
 *   native; metrics listen 127.0.0.1:9642.
 *
 * Loading is all-or-nothing: on any error the loader returns -errno, writes
 * one line into err that names the field and, when the text came from a
 * file or buffer, its line ("line 9: vips[1] (198.18.1.100:80/tcp):
 * backends[2].weight 0 out of range 1..65535"), and gives no config.
 *
 * The model is plain data owned by the caller after load: every string and
 * array is malloc()ed, freed by xlb_config__free(). Code that builds or edits
 * a model (e.g. the API adding a backend) fills the text and number fields,
 * then calls xlb_config__validate() to derive the parsed fields and check it.
 */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "maps/xlb_maps.h"
#include "userspace/lib/vipaddr.h"

#define XLB_CONFIG_MAX_INTERFACES 64
#define XLB_CONFIG_FILE_MAX (64 << 20) /* bytes; larger files are refused */
#define XLB_CONFIG_METRICS_DEFAULT "127.0.0.1:9642"
#define XLB_CONFIG_HC_PATH_MAX 1024
#define XLB_CONFIG_FLOOD_GUARD_MAX 100000000 /* new flows/s per CPU */
#define XLB_CONFIG_ANNOUNCE_MIN_HEALTHY_DEFAULT 1

enum xlb_config_algo {
	XLB_CONFIG_ALGO_MAGLEV = 0,	 /* weighted Maglev over the 5-tuple */
	XLB_CONFIG_ALGO_SOURCE_HASH = 1, /* weighted Maglev over the source */
	XLB_CONFIG_ALGO_WRR = 2,	 /* smooth weighted round robin */
	XLB_CONFIG_ALGO_RR = 3,		 /* round robin (weights ignored) */
	XLB_CONFIG_ALGO_LC = 4,		 /* least connections */
	XLB_CONFIG_ALGO_MAX,
};

enum xlb_config_hc_type {
	XLB_CONFIG_HC_NONE = 0,
	XLB_CONFIG_HC_TCP = 1,
	XLB_CONFIG_HC_HTTP = 2,
	XLB_CONFIG_HC_UDP = 3,
	XLB_CONFIG_HC_HTTPS = 4, /* http over TLS; the certificate is not verified */
	XLB_CONFIG_HC_MAX,
};

enum xlb_config_xdp_mode {
	XLB_CONFIG_XDP_NATIVE = 0,
	XLB_CONFIG_XDP_GENERIC = 1,
	XLB_CONFIG_XDP_MAX,
};

struct xlb_config_interface {
	char *name; /* 1..15 characters */
	enum xlb_config_xdp_mode mode;
	__u32 mtu; /* IP bytes an encapsulated packet may have; 0: the interface's */
};

struct xlb_config_metrics {
	char *listen; /* "host:port"; NULL on input = the default */
	/* derived */
	char host[256]; /* without brackets */
	__u16 port;
};

/* Settings of the connection table, for the whole daemon. */
struct xlb_config_conntrack {
	/* Above this many new flows a second on one CPU, new flows are
	 * forwarded (by the Maglev hash) but not recorded, so a SYN flood
	 * cannot evict established flows. 0 = off.
	 */
	__u32 flood_guard_new_flows_per_cpu;
};

/* Announcing VIPs to a routing daemon through kernel routes
 * (docs/OPERATIONS.md, "Several xlb hosts"). table 0 = off.
 */
struct xlb_config_announce {
	__u32 table;	   /* kernel routing table; not 253..255 or 2^32-1 */
	__u32 min_healthy; /* backends in the table for a VIP to be ready; 0 = 1 */
	bool drained;	   /* every VIP withdrawn (xlbctl announce drain) */
};

struct xlb_config_backend {
	char *address; /* canonical text after validation */
	__u32 weight;  /* 1..XLB_WEIGHT_MAX */
	bool drain;    /* keep established flows, take no new ones */
	/* derived */
	__u8 family; /* enum xlb_family */
	__be32 addr[4];
};

enum xlb_config_source_algo {
	XLB_CONFIG_SRC_TOKEN_BUCKET = 0, /* source_burst above the rate, then the rate */
	XLB_CONFIG_SRC_SLIDING_WINDOW = 1, /* weighted two-window count: no burst */
};

struct xlb_config_rate_limit {
	__u32 pps;		/* per VIP packets/s; 0 = off */
	__u32 burst;		/* packets */
	__u32 source_new_flows; /* per source address new flows/s; 0 = off */
	__u32 source_burst;	/* flows */
	enum xlb_config_source_algo source_algorithm; /* token-bucket | sliding-window */
	__u32 source_prefix_v4; /* a source is its address's first bits: 1..32 (32) */
	__u32 source_prefix_v6; /* 1..128 (64: an IPv6 host may use its whole /64) */
};

struct xlb_config_health_check {
	enum xlb_config_hc_type type;
	__u32 port;   /* 0 on input = the VIP's port; resolved by validation */
	char *path;   /* http: request path, starts with '/'; NULL = "/" */
	char *expect; /* http: "200-399" or "200" (NULL = "200-399"); canonical */
	char *host;   /* http(s): the Host header; NULL = the backend's address */
	__u32 interval_ms;
	__u32 timeout_ms; /* 1..interval_ms */
	__u32 rise;	  /* successes to come back in service */
	__u32 fall;	  /* failures to be ejected */
	__u32 jitter_percent; /* each delay between checks +- this share, 0..50 */
	/* udp: the datagram sent and the start a reply must have, each given
	 * as text or as hex (two digits a byte, spaces allowed). Validation
	 * turns text into hex and canonicalises it (lowercase, no spaces),
	 * so afterwards only the _hex fields are set; NULL or empty = an
	 * empty datagram / any reply.
	 */
	char *payload, *payload_hex;
	char *response, *response_hex;
	/* derived */
	__u16 expect_lo, expect_hi; /* inclusive status range */
};

/* The longest http check Host header value. */
#define XLB_CONFIG_HC_HOST_MAX 255
/* The longest udp check payload or response: one datagram in a 1500-byte MTU. */
#define XLB_CONFIG_HC_UDP_MAX 1472

/*
 * An http check's path: '/' first, at most XLB_CONFIG_HC_PATH_MAX bytes of
 * printable ASCII without spaces, as it goes into the request line unescaped
 * (percent-encode anything else). The one rule of the config and the prober.
 */
bool xlb_config__hc_path_ok(const char *path);

/* Frees the health check's strings (not hc itself). */
void xlb_config__hc_free(struct xlb_config_health_check *hc);
/* Two validated health checks ask the same of a backend. */
bool xlb_config__hc_equal(const struct xlb_config_health_check *a,
			  const struct xlb_config_health_check *b);

struct xlb_config_circuit_breaker {
	__u32 base_ejection_ms;	    /* first ejection; doubles on each re-ejection */
	__u32 max_ejection_ms;	    /* cap, >= base_ejection_ms */
	__u32 max_ejection_percent; /* 0..100 of a VIP's backends */
	__u32 slow_start_ms;	    /* weight ramp after coming back; 0 = none */
};

/* Passive health: SYN retransmissions seen by the data path. A breach in a
 * check interval counts as a failed check.
 */
struct xlb_config_passive {
	double syn_retransmit_ratio; /* 0 = off; 0..1 of a backend's SYNs */
	__u32 min_syns;		     /* SYNs needed in an interval to judge; default 20 */
};

struct xlb_config_vip {
	char *vip; /* the name; canonical after validation */
	enum xlb_config_algo algorithm;
	enum xlb_forward forward;
	__u32 gue_port;	  /* forward gue: UDP port on the backends, 1..65535 */
	__u32 table_size; /* prime */
	bool stateless;	  /* no connection table: every packet by its hash */
	struct xlb_config_rate_limit rate_limit;
	struct xlb_config_health_check health_check;
	struct xlb_config_circuit_breaker circuit_breaker;
	struct xlb_config_passive passive;
	struct xlb_config_backend *backends;
	unsigned int n_backends;
	/* derived */
	struct xlb_vip_addr addr;
};

struct xlb_config {
	struct xlb_config_interface *interfaces;
	unsigned int n_interfaces;
	struct xlb_config_metrics metrics;
	struct xlb_config_conntrack conntrack;
	struct xlb_config_announce announce;
	struct xlb_config_vip *vips;
	unsigned int n_vips;
};

/*
 * Load and validate YAML (or JSON, a subset) from a file or a buffer.
 * Returns 0 and *out, or -errno with a message in err (file errors are
 * prefixed with the path) and *out untouched.
 */
int xlb_config__load_file(const char *path, struct xlb_config **out, char *err, size_t errlen);
int xlb_config__load_string(const char *buf, size_t len, struct xlb_config **out, char *err,
			    size_t errlen);

/*
 * Check a model built or edited in code, fill its derived fields and make
 * its text canonical. All-or-nothing about the verdict, but on error the
 * model may have been partly canonicalised: validate a copy if that matters.
 */
int xlb_config__validate(struct xlb_config *cfg, char *err, size_t errlen);

/* Fill a VIP's or backend's settings with the defaults above (the VIP name
 * and backend address are left for the caller).
 */
void xlb_config__vip_defaults(struct xlb_config_vip *vip);
void xlb_config__backend_defaults(struct xlb_config_backend *be);

/*
 * Serialise as YAML, loadable again into an identical model. *out is a
 * NUL-terminated malloc()ed string. Returns 0 or -errno.
 */
int xlb_config__to_string(const struct xlb_config *cfg, char **out);

/*
 * Write the YAML to path atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync the directory. Readers see the old file or
 * the new one, also across a crash. Returns 0 or -errno with a message.
 */
int xlb_config__save_file(const struct xlb_config *cfg, const char *path, char *err, size_t errlen);

/*
 * The same in two steps, so that a caller can find out whether the disk
 * takes the file before it changes anything else: prepare writes and syncs
 * the temporary file (where a full or read-only disk fails), commit renames
 * it over path and syncs the directory, abort removes it. After a failed
 * commit, renamed says whether path already holds the new file.
 */
struct xlb_config_save {
	char dir[PATH_MAX];
	char path[PATH_MAX];
	char tmp[PATH_MAX + 32];
	bool prepared;
	bool renamed;
};
int xlb_config__save_prepare(const struct xlb_config *cfg, const char *path,
			     struct xlb_config_save *sv, char *err, size_t errlen);
int xlb_config__save_commit(struct xlb_config_save *sv, char *err, size_t errlen);
void xlb_config__save_abort(struct xlb_config_save *sv);

/* Deep copy. Returns 0 or -ENOMEM. */
int xlb_config__dup(const struct xlb_config *cfg, struct xlb_config **out);

void xlb_config__free(struct xlb_config *cfg);

/* The VIP with this address, or NULL. */
struct xlb_config_vip *xlb_config__find_vip(const struct xlb_config *cfg,
					    const struct xlb_vip_addr *addr);

/* Names as in the YAML ("maglev", "source-hash", "l2dsr", "http", ...).
 * name() returns "?" for a value out of range; parse() returns 0 or -EINVAL.
 */
const char *xlb_config__algo_name(enum xlb_config_algo a);
int xlb_config__algo_parse(const char *s, enum xlb_config_algo *out);
const char *xlb_config__forward_name(enum xlb_forward f);
int xlb_config__forward_parse(const char *s, enum xlb_forward *out);
const char *xlb_config__hc_type_name(enum xlb_config_hc_type t);
int xlb_config__hc_type_parse(const char *s, enum xlb_config_hc_type *out);
const char *xlb_config__xdp_mode_name(enum xlb_config_xdp_mode m);
int xlb_config__xdp_mode_parse(const char *s, enum xlb_config_xdp_mode *out);

#endif /* XLB_CONFIG_H */
