/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Fuzz target: the xlbd API handlers (userspace/xlbd/api.h) on a real daemon
 * opened without interfaces, as tests/test_api.c does: no data path, no
 * root. Its state directory is under $TMPDIR (default /dev/shm, where the
 * state file's fsyncs cost nothing).
 *
 * Input: up to MAX_REQUESTS requests separated by a line "%%":
 *
 *   METHOD URI\n
 *   BODY (any bytes, possibly empty)
 *   \n%%\n
 *   METHOD URI\n ...
 *
 * Each input starts from the same daemon state (two VIPs, six backends).
 * Invariants, beyond the sanitizers (leaks included):
 *   - every response has a status 200..599, a body and a content type, and a
 *     body that is JSON when the type says so;
 *   - after every request the state file loads and says what the running
 *     configuration says;
 *   - a refused request (status >= 400) leaves the running configuration
 *     and the state file as they were;
 *   - after the last request the daemon opens again from its state file
 *     (a restart) into the same configuration.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"
#include "userspace/xlbd/api.h"
#include "userspace/lib/config.h"
#include "userspace/xlbd/daemon.h"
#include "userspace/lib/log.h"

#define MAX_REQUESTS 8
#define SEPARATOR "\n%%\n"

static const char start_config[] = "interfaces: []\n"
				   "vips:\n"
				   "  - vip: \"198.18.1.100:80/tcp\"\n"
				   "    table_size: 251\n"
				   "    backends:\n"
				   "      - {address: 198.18.0.11}\n"
				   "      - {address: 198.18.0.12}\n"
				   "      - {address: 198.18.0.13}\n"
				   "      - {address: 198.18.0.14}\n"
				   "  - vip: \"[2001:2::100]:53/udp\"\n"
				   "    algorithm: source-hash\n"
				   "    table_size: 257\n"
				   "    backends:\n"
				   "      - {address: \"2001:2::11\", weight: 50}\n"
				   "      - {address: \"2001:2::12\"}\n";

static char dir[256], config_path[300], state_dir[300], state_path[320];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_dir(void)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	(void)argc;
	(void)argv;
	xlb_log_set_level(XLB_LOG_ERROR);
	if (!tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/xlb-fuzz-api.XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		perror(dir);
		exit(1);
	}
	atexit(remove_dir);
	snprintf(config_path, sizeof(config_path), "%s/config.yaml", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(state_path, sizeof(state_path), "%s/state.yaml", state_dir);
	f = fopen(config_path, "w");
	if (!f || fputs(start_config, f) < 0 || fclose(f)) {
		perror(config_path);
		exit(1);
	}
	return 0;
}

static struct xlb_daemon *open_daemon(const char *why)
{
	struct xlb_daemon_opts opts = {.config_path = config_path, .state_dir = state_dir};
	struct xlb_daemon *d = NULL;
	char err[1024] = "";
	int ret = xlb_daemon__open(&opts, &d, err, sizeof(err));

	fuzz_assert(!ret && d, "%s: xlb_daemon__open: %d: %s", why, ret, err);
	return d;
}

static char *running_yaml(const struct xlb_daemon *d)
{
	char *text = NULL;
	int ret = xlb_config__to_string(d->cfg, &text);

	fuzz_assert(!ret && text, "to_string of the running config: %d", ret);
	return text;
}

/* The state file's bytes (NUL-terminated), or fails. */
static char *state_bytes(void)
{
	FILE *f = fopen(state_path, "r");
	char *buf = NULL;
	size_t len = 0;

	fuzz_assert(f, "state file %s: %s", state_path, strerror(errno));
	fuzz_assert(getdelim(&buf, &len, '\0', f) >= 0 || feof(f), "reading the state file");
	fclose(f);
	if (!buf)
		buf = strdup("");
	return buf;
}

/*
 * The state file says what the running configuration says (it is its
 * to_string), and, when it changed, loads.
 */
static void check_state(const char *state, const char *prev_state, const char *running,
			const char *req)
{
	struct xlb_config *cfg = NULL;
	char err[1024];
	int ret;

	fuzz_assert(!strcmp(state, running),
		    "after %s: the state file is not the running config\n--- state ---\n%s"
		    "--- running ---\n%s",
		    req, state, running);
	if (!strcmp(state, prev_state))
		return;
	ret = xlb_config__load_file(state_path, &cfg, err, sizeof(err));
	fuzz_assert(!ret, "after %s: the state file does not load: %s", req, err);
	xlb_config__free(cfg);
}

static void check_response(const struct xlb_api_response *r, const char *req)
{
	fuzz_assert(r->status >= 200 && r->status <= 599, "%s: status %d", req, r->status);
	fuzz_assert(r->content_type, "%s: no content type", req);
	/* corpus/api/regress-*-not-utf8: error replies echoing such bytes had none */
	fuzz_assert(r->body, "%s: %d response without a body", req, r->status);
	if (!strcmp(r->content_type, "application/json")) {
		json_error_t jerr;
		json_t *j = json_loads(r->body, 0, &jerr);

		fuzz_assert(j, "%s: %d response is not JSON (%s): %s", req, r->status, jerr.text,
			    r->body);
		if (r->status >= 400)
			fuzz_assert(json_is_string(json_object_get(j, "error")),
				    "%s: %d response without an \"error\" string: %s", req,
				    r->status, r->body);
		json_decref(j);
	}
}

/*
 * One request: "METHOD URI\nBODY" in req[0..len). *running and *state are
 * the running config's YAML and the state file before it, replaced by what
 * they are after it.
 */
static void one_request(struct xlb_daemon *d, const char *req, size_t len, char **running,
			char **state)
{
	const char *nl = memchr(req, '\n', len), *sp;
	size_t line = nl ? (size_t)(nl - req) : len;
	char *method, *uri, *body, *after, *state_after, what[160];
	size_t body_len = nl ? len - line - 1 : 0;
	struct xlb_api_response resp;

	sp = memchr(req, ' ', line);
	method = strndup(req, sp ? (size_t)(sp - req) : line);
	uri = sp ? strndup(sp + 1, line - (size_t)(sp + 1 - req)) : strdup("");
	/* An exact-size copy of the body: a read past len is an ASan report. */
	body = malloc(body_len ? body_len : 1);
	fuzz_assert(method && uri && body, "out of memory");
	if (body_len)
		memcpy(body, nl + 1, body_len);
	snprintf(what, sizeof(what), "%.20s %.120s", method, uri);

	memset(&resp, 0x5a, sizeof(resp));
	xlb_api__handle(d, method, uri, body_len ? body : NULL, body_len, &resp);
	check_response(&resp, what);

	after = running_yaml(d);
	state_after = state_bytes();
	check_state(state_after, *state, after, what);
	if (resp.status >= 400) {
		fuzz_assert(!strcmp(*running, after),
			    "%s: refused (%d) but the running config changed: %s", what,
			    resp.status, resp.body);
		fuzz_assert(!strcmp(*state, state_after),
			    "%s: refused (%d) but the state file changed: %s", what, resp.status,
			    resp.body);
	}
	xlb_api_response__free(&resp);
	free(*running);
	free(*state);
	*running = after;
	*state = state_after;
	free(method);
	free(uri);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct xlb_daemon *d;
	char *last, *state;

	/* Each input starts from the config file, not the last input's state. */
	unlink(state_path);
	d = open_daemon("fresh start");
	last = running_yaml(d);
	state = state_bytes();
	for (int n = 0; n < MAX_REQUESTS && p < end; n++) {
		const char *sep = memmem(p, end - p, SEPARATOR, strlen(SEPARATOR));
		size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);

		one_request(d, p, len, &last, &state);
		p += len + (sep ? strlen(SEPARATOR) : 0);
	}
	free(state);
	xlb_daemon__close(d);

	/* A restart adopts the state file as it was left. */
	d = open_daemon("restart from the state file");
	{
		char *now = running_yaml(d);

		fuzz_assert(
		    !strcmp(last, now),
		    "restart changed the configuration\n--- before ---\n%s--- after ---\n%s", last,
		    now);
		free(now);
	}
	free(last);
	xlb_daemon__close(d);
	return 0;
}
