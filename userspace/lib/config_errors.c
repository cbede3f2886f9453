/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Errors as one line that names the field and, for text, its line:
 * "line 9: vips[1] (198.18.1.100:80/tcp): backends[2].weight 0 out of range
 * 1..65535". Validation names its field itself (verr). libcyaml reports
 * through its log callback: its return code says what went wrong, its log
 * says where (a backtrace). Lines come from a second pass with libyaml's
 * event parser that finds the node at a field path; it runs only when there
 * is an error to report, so good files are parsed once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "userspace/lib/config_int.h"

#define PATH_MAX_COMPS 16
#define YAML_DEPTH_MAX 64

/* ---- finding a field's line with libyaml ---- */

struct path_comp {
	char key[KEY_MAX];
	long idx; /* >= 0: sequence index; -1: mapping key */
};

/* "vips[1].backends[2].weight" -> vips, [1], backends, [2], weight */
static int path_split(const char *path, struct path_comp *c, int max)
{
	const char *p = path;
	int n = 0;

	while (*p) {
		if (n == max)
			return -E2BIG;
		if (*p == '[') {
			char *end;

			c[n].idx = strtol(p + 1, &end, 10);
			if (*end != ']' || c[n].idx < 0)
				return -EINVAL;
			c[n].key[0] = '\0';
			p = end + 1;
		} else {
			size_t k = strcspn(p, ".[");

			if (k >= KEY_MAX)
				return -EINVAL;
			memcpy(c[n].key, p, k);
			c[n].key[k] = '\0';
			c[n].idx = -1;
			p += k;
		}
		n++;
		if (*p == '.')
			p++;
	}
	return n;
}

struct yfind {
	int depth;	 /* path components matched by the deepest node found */
	int line;	 /* that node's line, 1-based */
	bool found;	 /* the whole path */
	char value[128]; /* its scalar value, when found and a scalar */
	/* syntax error, when the text does not parse */
	bool syntax;
	int err_line, err_col;
	char problem[192];
};

struct yframe {
	bool map;
	bool want_key;
	bool key_ok;
	bool on_path;
	int depth;
	int key_line; /* of the current key: where a field is named */
	long idx;
	char key[KEY_MAX];
};

static void node_done(struct yframe *parent)
{
	if (!parent)
		return;
	if (parent->map)
		parent->want_key = !parent->want_key;
	else
		parent->idx++;
}

/*
 * Walk the first document of text and locate path (NULL: only look for a
 * syntax error); last: its last occurrence (a duplicate key), not its first.
 * Aliases are not followed: a path through one stops at it.
 */
static void yaml_find(const char *text, size_t len, const char *path, bool last, struct yfind *r)
{
	struct path_comp comps[PATH_MAX_COMPS];
	struct yframe st[YAML_DEPTH_MAX];
	int ncomp = 0, n = 0, overflow = 0;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;

	memset(r, 0, sizeof(*r));
	r->depth = -1;
	if (path) {
		ncomp = path_split(path, comps, PATH_MAX_COMPS);
		if (ncomp < 0)
			return;
	}
	if (!yaml_parser_initialize(&parser))
		return;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	while (!done) {
		struct yframe *parent;
		bool is_key, on = false;
		int d;

		if (!yaml_parser_parse(&parser, &ev)) {
			r->syntax = true;
			r->err_line = (int)parser.problem_mark.line + 1;
			r->err_col = (int)parser.problem_mark.column + 1;
			snprintf(r->problem, sizeof(r->problem), "%s%s%s",
				 parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (path)
				done = true;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (overflow) {
				overflow--;
				break;
			}
			if (n > 0)
				n--;
			if (!overflow)
				node_done(n ? &st[n - 1] : NULL);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (overflow) {
				if (ev.type == YAML_MAPPING_START_EVENT ||
				    ev.type == YAML_SEQUENCE_START_EVENT)
					overflow++;
				break;
			}
			parent = n ? &st[n - 1] : NULL;
			is_key = parent && parent->map && parent->want_key;
			d = parent ? parent->depth + 1 : 0;
			if (!parent) {
				on = true;
			} else if (!is_key && parent->on_path && parent->depth < ncomp) {
				const struct path_comp *c = &comps[parent->depth];

				if (parent->map)
					on = c->idx < 0 && parent->key_ok &&
					     !strcmp(parent->key, c->key);
				else
					on = c->idx == parent->idx;
			}
			if (on && path && (d > r->depth || (last && d == ncomp))) {
				r->depth = d;
				r->line = parent && parent->map ? parent->key_line
								: (int)ev.start_mark.line + 1;
				if (d == ncomp) {
					r->found = true;
					if (ev.type == YAML_SCALAR_EVENT)
						snprintf(r->value, sizeof(r->value), "%.*s",
							 (int)ev.data.scalar.length,
							 (const char *)ev.data.scalar.value);
					if (!last) {
						done = true;
						break;
					}
				}
			}
			if (is_key) {
				parent->key_line = (int)ev.start_mark.line + 1;
				parent->key_ok =
				    ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length < KEY_MAX;
				if (parent->key_ok) {
					memcpy(parent->key, ev.data.scalar.value,
					       ev.data.scalar.length);
					parent->key[ev.data.scalar.length] = '\0';
				}
			}
			if (ev.type == YAML_MAPPING_START_EVENT ||
			    ev.type == YAML_SEQUENCE_START_EVENT) {
				if (n == YAML_DEPTH_MAX) {
					overflow = 1;
					break;
				}
				memset(&st[n], 0, sizeof(st[n]));
				st[n].map = ev.type == YAML_MAPPING_START_EVENT;
				st[n].want_key = st[n].map;
				st[n].on_path = on;
				st[n].depth = d;
				n++;
			} else {
				node_done(parent);
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
}

/* ---- one message ---- */

/*
 * err = "[line N: ]vips[i] (NAME): REST MSG" or "[line N: ]PATH MSG".
 * path is the field path ("vips[1].backends[2].weight"); name is the VIP's
 * canonical name when known, else it is looked up in the text. msg starts
 * with its own separator (" 0 out of range", ": unknown key").
 */
static void format_err(char *err, size_t errlen, const struct src *src, const char *path,
		       const char *name, const char *msg, bool last)
{
	char where[32] = "", vipname[160] = "", head[32];
	const char *rest = path;
	struct yfind f;
	int vi, nc = 0;

	if (!err || !errlen)
		return;
	if (src && src->text) {
		yaml_find(src->text, src->len, path, last, &f);
		if (f.depth > 0)
			snprintf(where, sizeof(where), "line %d: ", f.line);
	}
	if (sscanf(path, "vips[%d]%n", &vi, &nc) == 1 && nc > 0) {
		rest = path + nc;
		if (*rest == '.')
			rest++;
		snprintf(head, sizeof(head), "vips[%d]", vi);
		if (!name && src && src->text && strcmp(rest, "vip")) {
			char vp[48];

			snprintf(vp, sizeof(vp), "vips[%d].vip", vi);
			yaml_find(src->text, src->len, vp, false, &f);
			if (f.found && f.value[0])
				name = f.value;
		}
		if (name && strcmp(rest, "vip"))
			snprintf(vipname, sizeof(vipname), " (%s)", name);
		snprintf(err, errlen, "%s%s%s%s%s%s", where, head, vipname, *rest ? ": " : "", rest,
			 msg);
		return;
	}
	snprintf(err, errlen, "%s%s%s", where, path, msg);
}

int verr(struct vctx *c, int vi, const char *name, const char *field, const char *fmt, ...)
{
	char path[160], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vi >= 0)
		snprintf(path, sizeof(path), "vips[%d]%s%s", vi, *field ? "." : "", field);
	else
		snprintf(path, sizeof(path), "%s", field);
	format_err(c->err, c->errlen, c->src, path, name, msg, false);
	return -EINVAL;
}

/* ---- libcyaml's errors ---- */

/*
 * libcyaml (1.3) has no structured errors: its return code says what went
 * wrong and its log, innermost first, says where:
 *   Load: Invalid UINT value: '-1'
 *   Load: Backtrace:
 *     in mapping field 'weight' (line: 6, column: 36)
 *     in sequence entry '2' (line: 6, column: 9)      <- 1-based
 *     in mapping field 'backends' (line: 5, column: 7)
 *     ...
 * The code picks the message; the text is read only for the backtrace and
 * for the one word a message quotes (a key, a value, a count), each after a
 * head below. tests/test_config.c (test_cyaml_forms) pins every head: a
 * libcyaml that words them otherwise fails it.
 */
#define LOG_PREFIX "Load: "
#define LOG_BACKTRACE "Backtrace:"
#define BT_FRAME "in "
#define BT_FIELD "in mapping field '"
#define BT_ENTRY "in sequence entry '"

enum frame_kind {
	FRAME_NONE,
	FRAME_FIELD, /* a mapping's field: the key */
	FRAME_ENTRY, /* a sequence's entry: its index */
};

enum cyaml_arg {
	ARG_NONE,
	ARG_KEY,   /* the quoted word is a key, the last part of the path */
	ARG_VALUE, /* a value, quoted in the message */
	ARG_COUNT, /* a count, in the message */
};

static const struct cyaml_form {
	cyaml_err_t code;
	const char *head; /* the log line that says what, after LOG_PREFIX */
	enum cyaml_arg arg;
	const char *msg;      /* our words; %s or %u for the argument */
	enum frame_kind drop; /* an innermost frame of this kind is not the place */
	bool last;	      /* the last occurrence of the path (a duplicate) */
} cyaml_forms[] = {
    {CYAML_ERR_INVALID_KEY, "Unexpected key: ", ARG_KEY, ": unknown key"},
    /* libcyaml names the last field it saw: not where the problem is */
    {CYAML_ERR_MAPPING_FIELD_MISSING, "Missing required mapping field: ", ARG_KEY,
     ": required key missing", .drop = FRAME_FIELD},
    {CYAML_ERR_UNEXPECTED_EVENT, "Mapping field already seen: ", ARG_NONE, ": duplicate key",
     .last = true},
    /* too many entries: the sequence is the problem, not the entry */
    {CYAML_ERR_SEQUENCE_ENTRIES_MAX, "Excessive entries (", ARG_COUNT,
     ": too many entries (at most %u)", .drop = FRAME_ENTRY},
    {CYAML_ERR_INVALID_VALUE, "Invalid ENUM value: ", ARG_VALUE, ": unknown value '%s'"},
};

/* The word after head in line, or NULL. */
static const char *after(const char *line, const char *head)
{
	const char *p = strstr(line, head);

	return p ? p + strlen(head) : NULL;
}

#define NAMES_U32(...)
#define NAMES_U32W(...)
#define NAMES_DBL(...)
#define NAMES_STR(...)
#define NAMES_ENUMN(...) /* a number is taken too: no list of words */
#define NAMES_ENUM(T, k, def, names) {#k, names, N(names)},
#define NAMES_BOOL(T, k, def) {#k, bool_names, N(bool_names)},

/* The words a key takes, named when a value is not one of them. */
static const struct {
	const char *key;
	const cyaml_strval_t *t;
	uint32_t n;
} enum_keys[] = {CFG_ALL_KEYS(NAMES, _)};

static void name_words(const char *key, char *msg, size_t len)
{
	for (size_t k = 0; k < CYAML_ARRAY_LEN(enum_keys); k++) {
		char list[128];
		size_t off = strlen(msg);

		if (strcmp(key, enum_keys[k].key))
			continue;
		strval_list(enum_keys[k].t, enum_keys[k].n, list, sizeof(list));
		snprintf(msg + off, len - off, " (expected %s)", list);
		return;
	}
}

/* "in mapping field 'a'" -> "a"; "in sequence entry '3'" -> "[2]" (0-based). */
static enum frame_kind frame(const char *line, char *comp, size_t len)
{
	unsigned int idx;

	if (!strncmp(line, BT_FIELD, strlen(BT_FIELD))) {
		size_t n = strcspn(line + strlen(BT_FIELD), "'");

		if (!n)
			return FRAME_NONE;
		snprintf(comp, len, "%.*s", (int)(n < KEY_MAX - 1 ? n : KEY_MAX - 1),
			 line + strlen(BT_FIELD));
		return FRAME_FIELD;
	}
	if (!strncmp(line, BT_ENTRY, strlen(BT_ENTRY)) &&
	    sscanf(line + strlen(BT_ENTRY), "%u'", &idx) == 1) {
		snprintf(comp, len, "[%u]", idx ? idx - 1 : 0);
		return FRAME_ENTRY;
	}
	return FRAME_NONE;
}

void cyaml_err_msg(const struct cylog *log, cyaml_err_t cerr, const struct src *src, char *err,
		   size_t errlen)
{
	char comps[PATH_MAX_COMPS][KEY_MAX + 8], path[256] = "", msg[512] = "";
	char text[sizeof(log->buf)], *line, *save = NULL, key[KEY_MAX] = "";
	const struct cyaml_form *form = NULL;
	bool first_frame = true;
	int ncomp = 0, i;
	struct yfind f;

	if (cerr == CYAML_ERR_LIBYAML_PARSER && src->text) {
		yaml_find(src->text, src->len, NULL, false, &f);
		if (f.syntax) {
			snprintf(err, errlen, "line %d, column %d: malformed YAML: %s", f.err_line,
				 f.err_col, f.problem);
			return;
		}
	}
	for (size_t k = 0; k < CYAML_ARRAY_LEN(cyaml_forms); k++)
		if (cyaml_forms[k].code == cerr)
			form = &cyaml_forms[k];

	memcpy(text, log->buf, log->len);
	text[log->len] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *arg;

		if (!strncmp(line, LOG_PREFIX, strlen(LOG_PREFIX)))
			line += strlen(LOG_PREFIX);
		if (!strcmp(line, LOG_BACKTRACE))
			continue;
		line += strspn(line, " ");
		if (!strncmp(line, BT_FRAME, strlen(BT_FRAME))) {
			enum frame_kind kind;

			if (ncomp == PATH_MAX_COMPS)
				continue;
			kind = frame(line, comps[ncomp], sizeof(comps[ncomp]));
			if (kind != FRAME_NONE && !(first_frame && form && form->drop == kind))
				ncomp++;
			first_frame = false;
			continue;
		}
		if (msg[0])
			continue;
		arg = form ? after(line, form->head) : NULL;
		if (!arg) {
			/* a form we do not word: libcyaml's own words */
			snprintf(msg, sizeof(msg), ": %s (%s)", line, cyaml_strerror(cerr));
			form = NULL;
			continue;
		}
		switch (form->arg) {
		case ARG_KEY:
			snprintf(key, sizeof(key), "%s", arg);
			/* fall through */
		case ARG_NONE:
			snprintf(msg, sizeof(msg), "%s", form->msg);
			break;
		case ARG_VALUE:
			snprintf(msg, sizeof(msg), form->msg, arg);
			break;
		case ARG_COUNT:
			snprintf(msg, sizeof(msg), form->msg, (unsigned int)strtoul(arg, NULL, 10));
			break;
		}
	}
	if (!msg[0])
		snprintf(msg, sizeof(msg), ": %s", cyaml_strerror(cerr));

	/* outermost first */
	for (i = ncomp - 1; i >= 0; i--) {
		size_t off = strlen(path);

		snprintf(path + off, sizeof(path) - off, "%s%s",
			 off && comps[i][0] != '[' ? "." : "", comps[i]);
	}
	if (key[0]) {
		size_t off = strlen(path);

		snprintf(path + off, sizeof(path) - off, "%s%s", off ? "." : "", key);
	}
	if (form && form->arg == ARG_VALUE && ncomp)
		name_words(comps[0], msg, sizeof(msg));
	if (!path[0]) {
		/* the document itself, e.g. a list instead of a mapping */
		snprintf(err, errlen, "top level%s", msg);
		return;
	}
	format_err(err, errlen, src, path, NULL, msg, form && form->last);
}
