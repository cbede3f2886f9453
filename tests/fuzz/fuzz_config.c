/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Fuzz target: the configuration loader (userspace/lib/config.h), which reads
 * the operator's file, the state file and every `config apply` body.
 *
 * Input: the bytes of a YAML (or JSON) document, as-is.
 * Invariants, beyond the sanitizers:
 *   - a refused document gives a non-empty one-line message and no model;
 *   - a loaded model serialises (to_string), the text loads again, and the
 *     second model serialises to the same text (a fixed point: the state
 *     file means what the running config meant);
 *   - a deep copy serialises the same, and validates again unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "userspace/lib/config.h"
#include "userspace/lib/log.h"

#define POISON ((struct xlb_config *)0x5a5a5a5a5a5a5a5aULL)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xlb_log_set_level(XLB_LOG_ERROR);
	return 0;
}

/* Loads text (len bytes, not NUL-terminated) or fails the input. */
static struct xlb_config *must_load(const char *what, const char *text, size_t len)
{
	struct xlb_config *cfg = NULL;
	char err[1024];
	int ret = xlb_config__load_string(text, len, &cfg, err, sizeof(err));

	fuzz_assert(!ret && cfg, "%s does not load again: %d: %s\n--- text ---\n%.*s", what, ret,
		    err, (int)len, text);
	return cfg;
}

static char *must_serialise(const char *what, const struct xlb_config *cfg)
{
	char *text = NULL;
	int ret = xlb_config__to_string(cfg, &text);

	fuzz_assert(!ret && text, "to_string of %s: %d", what, ret);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: a read past len is an ASan report. */
	char *buf = malloc(size ? size : 1), err[1024];
	struct xlb_config *cfg = POISON, *again, *copy = NULL;
	char *text1, *text2, *text3;
	int ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(err, 0x5a, sizeof(err));
	ret = xlb_config__load_string(buf, size, &cfg, err, sizeof(err));
	free(buf);
	if (ret) {
		fuzz_assert(ret < 0 && ret >= -4095, "load returned %d, not -errno", ret);
		fuzz_assert(cfg == POISON, "a refused load touched *out");
		fuzz_assert(memchr(err, '\0', sizeof(err)), "error message not NUL-terminated");
		fuzz_assert(err[0], "a refused load gave no message (%d)", ret);
		/* corpus/config/regress-newline-*: a quoted value's line breaks
		 * were copied into the message
		 */
		fuzz_assert(!strchr(err, '\n'), "error message is not one line: %s", err);
		return 0;
	}
	fuzz_assert(cfg && cfg != POISON, "load returned 0 without a model");

	text1 = must_serialise("the loaded model", cfg);
	again = must_load("the serialised model", text1, strlen(text1));
	text2 = must_serialise("the reloaded model", again);
	fuzz_assert(!strcmp(text1, text2),
		    "serialise -> load -> serialise is not a fixed point\n--- first ---\n%s"
		    "--- second ---\n%s",
		    text1, text2);

	ret = xlb_config__dup(cfg, &copy);
	fuzz_assert(!ret && copy, "dup: %d", ret);
	ret = xlb_config__validate(copy, err, sizeof(err));
	fuzz_assert(!ret, "a loaded model does not validate again: %d: %s", ret, err);
	text3 = must_serialise("the validated copy", copy);
	fuzz_assert(!strcmp(text1, text3),
		    "dup + validate changed the model\n--- loaded ---\n%s--- copy ---\n%s", text1,
		    text3);

	free(text1);
	free(text2);
	free(text3);
	xlb_config__free(copy);
	xlb_config__free(again);
	xlb_config__free(cfg);
	return 0;
}
