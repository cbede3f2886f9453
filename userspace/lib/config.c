/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The configuration model in and out: load from text or a file (libcyaml,
 * then defaults and validation, all-or-nothing), save to a file atomically.
 * The parts are listed in config_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "userspace/lib/config_int.h"

/* ---- load ------------------------------------------------------------ */

/* True when text holds nothing but blanks and comments. */
static bool yaml_empty(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
		} else if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
			   text[i] == '\n') {
			i++;
		} else {
			return false;
		}
	}
	return true;
}

static int load_string(const char *buf, size_t len, struct xlb_config **out, char *err,
		       size_t errlen)
{
	struct src src = {.text = buf, .len = len};
	struct xlb_config *cfg = NULL;
	struct cylog log;
	cyaml_err_t cerr;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!buf || yaml_empty(buf, len)) {
		snprintf(err, errlen, "empty configuration (for no VIPs, write \"vips: []\")");
		return -EINVAL;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "configuration contains a NUL byte");
		return -EINVAL;
	}

	cerr = cfg_schema__load(buf, len, &log, &cfg);
	if (cerr == CYAML_ERR_OOM) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (cerr != CYAML_OK) {
		cyaml_err_msg(&log, cerr, &src, err, errlen);
		return -EINVAL;
	}
	ret = cfg_validate(cfg, &src, err, errlen);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		xlb_config__free(cfg);
		return ret;
	}
	*out = cfg;
	return 0;
}

/* Errors are one line: a value quoted from the input may hold a newline. */
static void one_line(char *msg)
{
	for (; msg && *msg; msg++)
		if ((unsigned char)*msg < 0x20)
			*msg = ' ';
}

int xlb_config__load_string(const char *buf, size_t len, struct xlb_config **out, char *err,
			    size_t errlen)
{
	int ret = load_string(buf, len, out, err, errlen);

	if (ret && err && errlen)
		one_line(err);
	return ret;
}

int xlb_config__load_file(const char *path, struct xlb_config **out, char *err, size_t errlen)
{
	char *buf = NULL, msg[1024];
	size_t len = 0;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > XLB_CONFIG_FILE_MAX) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: %lld bytes, at most %d", path, (long long)st.st_size,
			 XLB_CONFIG_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	ret = xlb_config__load_string(buf, len, out, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "%s: %s", path, msg);
out:
	free(buf);
	close(fd);
	return ret;
}

/* ---- save ------------------------------------------------------------ */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int xlb_config__save_prepare(const struct xlb_config *cfg, const char *path,
			     struct xlb_config_save *sv, char *err, size_t errlen)
{
	char *text = NULL, *slash;
	const char *base;
	struct stat st;
	int fd = -1, ret;

	memset(sv, 0, sizeof(*sv));
	ret = xlb_config__to_string(cfg, &text);
	if (ret) {
		snprintf(err, errlen, "%s: cannot serialise: %s", path, strerror(-ret));
		return ret;
	}

	snprintf(sv->dir, sizeof(sv->dir), "%s", path);
	slash = strrchr(sv->dir, '/');
	if (slash == sv->dir) {
		sv->dir[1] = '\0';
		base = path + 1;
	} else if (slash) {
		*slash = '\0';
		base = path + (slash - sv->dir) + 1;
	} else {
		snprintf(sv->dir, sizeof(sv->dir), ".");
		base = path;
	}
	if (!*base) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a file name", path);
		goto out;
	}
	if (strlen(sv->dir) + strlen(base) + 16 > PATH_MAX) {
		ret = -ENAMETOOLONG;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	snprintf(sv->path, sizeof(sv->path), "%s", path);
	snprintf(sv->tmp, sizeof(sv->tmp), "%s/.%s.XXXXXX", sv->dir, base);

	fd = mkostemp(sv->tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot create temporary file: %s", sv->tmp,
			 strerror(-ret));
		goto out;
	}
	/* keep an existing file's permissions; new ones are 0600 */
	if (!stat(path, &st) && fchmod(fd, st.st_mode & 07777)) {
		ret = -errno;
		snprintf(err, errlen, "%s: chmod: %s", sv->tmp, strerror(-ret));
		goto out_unlink;
	}
	ret = write_all(fd, text, strlen(text));
	if (!ret && fsync(fd))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "%s: write: %s", sv->tmp, strerror(-ret));
		goto out_unlink;
	}
	ret = close(fd) ? -errno : 0;
	fd = -1;
	if (ret) {
		snprintf(err, errlen, "%s: close: %s", sv->tmp, strerror(-ret));
		goto out_unlink;
	}
	sv->prepared = true;
	goto out;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(sv->tmp);
out:
	free(text);
	return ret;
}

int xlb_config__save_commit(struct xlb_config_save *sv, char *err, size_t errlen)
{
	int dfd, ret = 0;

	if (!sv->prepared) {
		snprintf(err, errlen, "%s: nothing prepared", sv->path);
		return -EINVAL;
	}
	sv->prepared = false;
	if (rename(sv->tmp, sv->path)) {
		ret = -errno;
		snprintf(err, errlen, "%s: rename from %s: %s", sv->path, sv->tmp, strerror(-ret));
		unlink(sv->tmp);
		return ret;
	}
	sv->renamed = true;
	/* make the rename itself durable */
	dfd = open(sv->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		ret = -errno;
		snprintf(err, errlen, "%s: fsync directory %s: %s", sv->path, sv->dir,
			 strerror(-ret));
	}
	if (dfd >= 0)
		close(dfd);
	return ret;
}

void xlb_config__save_abort(struct xlb_config_save *sv)
{
	if (sv->prepared)
		unlink(sv->tmp);
	sv->prepared = false;
}

int xlb_config__save_file(const struct xlb_config *cfg, const char *path, char *err, size_t errlen)
{
	struct xlb_config_save sv;

	int ret = xlb_config__save_prepare(cfg, path, &sv, err, errlen);

	return ret ? ret : xlb_config__save_commit(&sv, err, errlen);
}
