/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the parts of the configuration module share (private; the API is
 * config.h):
 *   config.c           loading from text or a file, saving to a file
 *   config_schema.c    libcyaml's load and save schemas, raw -> model
 *   config_errors.c    libcyaml's log and validation errors -> one message
 *                      with the line and the field path
 *   config_validate.c  defaults and validation
 *   config_model.c     copy, free, compare, look up
 *   config_names.c     the words of each enum
 *   config_keys.h      every key, once
 */
#ifndef XLB_CONFIG_INT_H
#define XLB_CONFIG_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <cyaml/cyaml.h>

#include "userspace/lib/config.h"
#include "userspace/lib/config_keys.h"

/* ---- names (config_names.c) ---- */

extern const cyaml_strval_t algo_names[5];
extern const cyaml_strval_t source_algo_names[2];
extern const cyaml_strval_t forward_names[XLB_FWD_MAX];
extern const cyaml_strval_t hc_type_names[5];
extern const cyaml_strval_t xdp_mode_names[2];
extern const cyaml_strval_t bool_names[6];

#define N(a) ((uint32_t)CYAML_ARRAY_LEN(a))

/* t[i].str for the value v, or "?". */
const char *strval_name(const cyaml_strval_t *t, uint32_t n, int v);
/* "a, b or c", for error messages. */
void strval_list(const cyaml_strval_t *t, uint32_t n, char *buf, size_t len);

/* ---- schema (config_schema.c) ---- */

/* What libcyaml logged while loading: the text of its errors. */
struct cylog {
	char buf[4096];
	size_t len;
};

/*
 * Text -> model with defaults, not yet validated. Returns CYAML_OK and
 * *out; CYAML_ERR_OOM; or another error with its text in log.
 */
cyaml_err_t cfg_schema__load(const char *buf, size_t len, struct cylog *log,
			     struct xlb_config **out);

/* ---- error messages (config_errors.c) ---- */

/* The text being loaded, for line numbers; NULL text when validating a
 * model built in code.
 */
struct src {
	const char *text;
	size_t len;
};

/* Where validation writes its one error. */
struct vctx {
	const struct src *src;
	char *err;
	size_t errlen;
};

/*
 * A validation error about field (relative to vips[vi] when vi >= 0; name
 * is that VIP's, when known). fmt continues the sentence after the field
 * name, with its own separator (" 0 out of range", ": unknown key").
 * Returns -EINVAL.
 */
int verr(struct vctx *c, int vi, const char *name, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* libcyaml's failure to load src (its log, its code) -> err. */
void cyaml_err_msg(const struct cylog *log, cyaml_err_t cerr, const struct src *src, char *err,
		   size_t errlen);

/* ---- validation (config_validate.c) ---- */

/* Derive, canonicalise and check; src for line numbers (may be NULL). */
int cfg_validate(struct xlb_config *cfg, const struct src *src, char *err, size_t errlen);
/* The defaults of the top-level sections, and of one interface. */
void cfg_defaults(struct xlb_config *cfg);
void cfg_interface_defaults(struct xlb_config_interface *ifc);

/* ---- model helpers (config_model.c) ---- */

/* A copy of s (NULL for NULL); *oom set when the copy fails. */
char *dup_or_null(const char *s, bool *oom);

#endif /* XLB_CONFIG_INT_H */
