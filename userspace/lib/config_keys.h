/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Every key of the configuration, declared once (private to config*.c).
 *
 * Each section of the YAML has a list of rows, one a key, in the order the
 * saver writes them. The rest of the code expands a list with a prefix P:
 * the row KIND(...) becomes P_KIND(T, ...), where T is what that expansion
 * works on (a struct type, a field-path prefix). The expansions are:
 *   RAW   the loader's struct: optional scalars as pointers, so an omitted
 *         key (NULL) is told apart from an explicit 0    (config_schema.c)
 *   LD    the load schema; SV the save schema; CONV raw -> model (ditto)
 *   DEF   defaults; CHK the range checks           (config_validate.c)
 *   EQ    equality; DUP copy; FREE                      (config_model.c)
 *   NAMES the accepted words of each enum, for error messages
 *
 * Row kinds:
 *   U32(key, default, min, max, note)  a number; outside min..max refused
 *       with " V out of range MIN..MAX<note>", or " must be at least
 *       MIN<note>" when max is NOMAX.
 *   U32W(...)  the same, read as 64 bits: a value past 2^32-1 is refused by
 *       validation (its hook) rather than by libcyaml.
 *   DBL(key, default, min, max, note)  a fraction, refused as U32's.
 *   BOOL(key, default)  true/false, yes/no, on/off (any case).
 *   ENUM(key, default, names)  one of the words of names (a cyaml_strval_t
 *       table in config_names.c).
 *   ENUMN(key, default, names)  the same, but a number is taken as well
 *       (rate_limit.source_algorithm always took one).
 *   STR(key, load, max, save)  text; load REQ (required) or OPT; at most
 *       max bytes on load; save ALWAYS, IFSET (when not NULL) or NEVER
 *       (validation turns it into another key). Text has no generic check:
 *       each has a hook in config_validate.c.
 *
 * A plain key is one row here plus its field in config.h's model struct.
 * Mappings and sequences (rate_limit, backends, ...) are written out in
 * config_schema.c; a key with more to it than a range (the VIP's name,
 * table_size's primes, the port 0 that means the VIP's) has its hook in
 * config_validate.c, and its row still gives load, save, copy and compare.
 */
#ifndef XLB_CONFIG_KEYS_H
#define XLB_CONFIG_KEYS_H

/* Defaults (documented in config.h). */
#define DEF_WEIGHT 100
#define DEF_HC_PATH "/"
#define DEF_HC_EXPECT "200-399"
#define DEF_HC_INTERVAL_MS 1000
#define DEF_HC_TIMEOUT_MS 500
#define DEF_HC_RISE 2
#define DEF_HC_FALL 3
#define DEF_HC_JITTER_PERCENT 10
#define MAX_HC_JITTER_PERCENT 50
#define DEF_CB_BASE_MS 5000
#define DEF_CB_MAX_MS 300000
#define DEF_CB_MAX_PERCENT 50
#define DEF_CB_SLOW_START_MS 10000
#define DEF_PASSIVE_MIN_SYNS 20 /* when syn_retransmit_ratio is set */

#define NOMAX UINT32_MAX
#define STR_MAX 1024
#define KEY_MAX 64

/* clang-format off */
#define CFG_INTERFACE_KEYS(P, T)                                                          \
	P##_STR(T, name, REQ, KEY_MAX, ALWAYS)                                            \
	P##_ENUM(T, mode, XLB_CONFIG_XDP_NATIVE, xdp_mode_names)                          \
	/* 1..1279 is refused by validation's hook */                                     \
	P##_U32(T, mtu, 0, 0, 65535, " (0: the interface's)")

#define CFG_METRICS_KEYS(P, T)                                                            \
	P##_STR(T, listen, OPT, STR_MAX, ALWAYS)

#define CFG_CONNTRACK_KEYS(P, T)                                                          \
	P##_U32(T, flood_guard_new_flows_per_cpu, 0, 0, XLB_CONFIG_FLOOD_GUARD_MAX, " (0 = off)")

#define CFG_ANNOUNCE_KEYS(P, T)                                                           \
	P##_U32W(T, table, 0, 0, NOMAX, "")                                               \
	P##_U32(T, min_healthy, 0, 0, NOMAX, "")                                          \
	P##_BOOL(T, drained, false)

#define CFG_VIP_KEYS(P, T)                                                                \
	P##_STR(T, vip, REQ, STR_MAX, ALWAYS)                                             \
	P##_ENUM(T, algorithm, XLB_CONFIG_ALGO_MAGLEV, algo_names)                        \
	P##_ENUM(T, forward, XLB_FWD_IPIP, forward_names)                                 \
	P##_U32(T, gue_port, XLB_GUE_DEFAULT_PORT, 1, 65535, "")                          \
	P##_U32(T, table_size, XLB_MAGLEV_DEFAULT_SIZE, 0, NOMAX, "")                     \
	P##_BOOL(T, stateless, false)

#define CFG_RATE_LIMIT_KEYS(P, T)                                                         \
	P##_U32(T, pps, 0, 0, NOMAX, "")                                                  \
	P##_U32(T, burst, 0, 0, NOMAX, "")                                                \
	P##_U32(T, source_new_flows, 0, 0, NOMAX, "")                                     \
	P##_U32(T, source_burst, 0, 0, NOMAX, "")                                         \
	P##_ENUMN(T, source_algorithm, XLB_CONFIG_SRC_TOKEN_BUCKET, source_algo_names)    \
	P##_U32(T, source_prefix_v4, XLB_SRC_PREFIX4_DEFAULT, 1, 32, "")                  \
	P##_U32(T, source_prefix_v6, XLB_SRC_PREFIX6_DEFAULT, 1, 128, "")

#define CFG_HEALTH_CHECK_KEYS(P, T)                                                       \
	P##_ENUM(T, type, XLB_CONFIG_HC_NONE, hc_type_names)                              \
	P##_U32(T, port, 0, 0, NOMAX, "")                                                 \
	P##_STR(T, path, OPT, STR_MAX, ALWAYS)                                            \
	P##_STR(T, expect, OPT, STR_MAX, ALWAYS)                                          \
	P##_STR(T, host, OPT, STR_MAX, IFSET)                                             \
	P##_U32(T, interval_ms, DEF_HC_INTERVAL_MS, 2, NOMAX,                             \
		" (a timeout below it must fit)")                                         \
	P##_U32(T, timeout_ms, DEF_HC_TIMEOUT_MS, 1, NOMAX, "")                           \
	P##_U32(T, rise, DEF_HC_RISE, 1, NOMAX, "")                                       \
	P##_U32(T, fall, DEF_HC_FALL, 1, NOMAX, "")                                       \
	P##_U32(T, jitter_percent, DEF_HC_JITTER_PERCENT, 0, MAX_HC_JITTER_PERCENT, "")   \
	/* lengths are checked by validation, which names the limit in bytes */           \
	P##_STR(T, payload, OPT, CYAML_UNLIMITED, NEVER)                                  \
	P##_STR(T, payload_hex, OPT, CYAML_UNLIMITED, IFSET)                              \
	P##_STR(T, response, OPT, CYAML_UNLIMITED, NEVER)                                 \
	P##_STR(T, response_hex, OPT, CYAML_UNLIMITED, IFSET)

#define CFG_CIRCUIT_BREAKER_KEYS(P, T)                                                    \
	P##_U32(T, base_ejection_ms, DEF_CB_BASE_MS, 1, NOMAX, "")                        \
	P##_U32(T, max_ejection_ms, DEF_CB_MAX_MS, 0, NOMAX, "")                          \
	P##_U32(T, max_ejection_percent, DEF_CB_MAX_PERCENT, 0, 100, "")                  \
	P##_U32(T, slow_start_ms, DEF_CB_SLOW_START_MS, 0, NOMAX, "")

#define CFG_PASSIVE_KEYS(P, T)                                                            \
	P##_DBL(T, syn_retransmit_ratio, 0, 0, 1, " (0 = off)")                           \
	P##_U32(T, min_syns, 0, 0, NOMAX, "")

#define CFG_BACKEND_KEYS(P, T)                                                            \
	P##_STR(T, address, REQ, STR_MAX, ALWAYS)                                         \
	P##_U32(T, weight, DEF_WEIGHT, 1, XLB_WEIGHT_MAX, "")                             \
	P##_BOOL(T, drain, false)

/* Every section, for expansions that do not care where a key lives. */
#define CFG_ALL_KEYS(P, T)                                                                \
	CFG_INTERFACE_KEYS(P, T) CFG_METRICS_KEYS(P, T) CFG_CONNTRACK_KEYS(P, T)          \
	CFG_ANNOUNCE_KEYS(P, T) CFG_VIP_KEYS(P, T) CFG_RATE_LIMIT_KEYS(P, T)              \
	CFG_HEALTH_CHECK_KEYS(P, T) CFG_CIRCUIT_BREAKER_KEYS(P, T)                        \
	CFG_PASSIVE_KEYS(P, T) CFG_BACKEND_KEYS(P, T)
/* clang-format on */

#endif /* XLB_CONFIG_KEYS_H */
