/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "userspace/xlbd/api.h"
#include "userspace/lib/log.h"
#include "userspace/xlbd/metrics.h"
#include "userspace/xlbd/server.h"

struct xlb_server {
	struct xlb_daemon *d;
	struct evhttp *api;
	struct evhttp *metrics;
	gid_t sock_gid; /* members may use the API besides root; (gid_t)-1: none */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

#define PEER_GROUPS_MAX 256

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	default:
		return "OTHER";
	}
}

/*
 * libevent writes 16 KiB per loop pass by default: a 2.5 MB answer
 * (/v1/health at 5,000 backends) took 150 passes of a loop busy with health
 * checks, over 10 s. Let each pass fill the socket buffer.
 */
static void allow_big_writes(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;

	if (bev)
		bufferevent_set_max_single_write(bev, 1 << 20);
}

static void send_response(struct evhttp_request *req, int status, const char *ctype,
			  const char *body)
{
	struct evbuffer *out = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	if (body)
		evbuffer_add(out, body, strlen(body));
	allow_big_writes(req);
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
}

/*
 * Who may use the API: uid 0, or a peer whose primary or supplementary
 * groups hold the socket group. The kernel reports the credentials the
 * peer had when it connected (SO_PEERCRED, SO_PEERGROUPS), so a file mode
 * changed behind our back or a descriptor passed on does not widen access.
 * 0 when allowed, else -EACCES with *uid set (or -errno if unknown).
 */
static int peer_allowed(const struct xlb_server *s, int fd, uid_t *uid)
{
	gid_t groups[PEER_GROUPS_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*uid = (uid_t)-1;
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return fd < 0 ? -EBADF : -errno;
	*uid = cred.uid;
	if (cred.uid == 0)
		return 0;
	if (s->sock_gid == (gid_t)-1)
		return -EACCES;
	if (cred.gid == s->sock_gid)
		return 0;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return -errno; /* ERANGE: more groups than we look at; refused */
	for (size_t i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == s->sock_gid)
			return 0;
	return -EACCES;
}

static int request_fd(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;

	return bev ? bufferevent_getfd(bev) : -1;
}

static void on_api(struct evhttp_request *req, void *arg)
{
	struct xlb_server *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct xlb_api_response resp;
	char *body;
	uid_t uid;
	int ret;

	ret = peer_allowed(s, request_fd(req), &uid);
	if (ret) {
		if (ret == -EACCES)
			pr_warn("api: refused %s %s from uid %u: not root, not in the socket group",
				method_name(evhttp_request_get_command(req)), evhttp_request_get_uri(req),
				(unsigned int)uid);
		else
			pr_warn("api: refused a request: peer credentials unknown: %s",
				strerror(-ret));
		xlb_metrics__count_api(403);
		send_response(req, 403, "application/json",
			      "{\"error\": \"permission denied: the xlbd API is for root and "
			      "the socket group\"}");
		return;
	}
	body = malloc(len + 1);
	if (!body) {
		send_response(req, 500, "application/json", "{\"error\": \"out of memory\"}");
		return;
	}
	evbuffer_copyout(in, body, len);
	body[len] = 0;
	xlb_api__handle(s->d, method_name(evhttp_request_get_command(req)),
			evhttp_request_get_uri(req), body, len, &resp);
	xlb_metrics__count_api(resp.status);
	send_response(req, resp.status, resp.content_type, resp.body);
	xlb_api_response__free(&resp);
	free(body);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct xlb_server *s = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *out;

	if (!path || strcmp(path, "/metrics")) {
		send_response(req, 404, "text/plain", "only GET /metrics here\n");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
		send_response(req, 405, "text/plain", "only GET /metrics here\n");
		return;
	}
	/* Rendered straight into the reply buffer: no copy of a large text. */
	out = evbuffer_new();
	if (!out || xlb_metrics__render_evbuffer(s->d, out)) {
		if (out)
			evbuffer_free(out);
		send_response(req, 500, "text/plain", "cannot render metrics\n");
		return;
	}
	allow_big_writes(req);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, NULL, out);
	evbuffer_free(out);
}

static int unix_listener(const char *path, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return xlb_err(err, errlen, -ENAMETOOLONG, "socket path too long: %s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A stale socket from a crashed xlbd is ours to replace; a file is not. */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return xlb_err(err, errlen, -EEXIST, "%s exists and is not a socket", path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xlb_err(err, errlen, -errno, "socket: %s", strerror(errno));
	old = umask(0177); /* born 0600: no window where others may connect */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret) {
		ret = -errno;
		close(fd);
		return xlb_err(err, errlen, ret, "binding %s: %s", path, strerror(-ret));
	}
	/* root:root 0600, or root:GROUP 0660; not listening until it is so */
	if (chown(path, 0, gid) || chmod(path, gid == (gid_t)-1 ? 0600 : 0660)) {
		ret = -errno;
		close(fd);
		unlink(path);
		return xlb_err(err, errlen, ret, "setting owner and mode of %s: %s", path,
			       strerror(-ret));
	}
	if (listen(fd, 64)) {
		ret = -errno;
		close(fd);
		unlink(path);
		return xlb_err(err, errlen, ret, "listening on %s: %s", path, strerror(-ret));
	}
	return fd;
}

int xlb_server__group(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group *g;
	char *end;

	errno = 0;
	g = getgrnam(name);
	if (!g) {
		unsigned long v = strtoul(name, &end, 10);

		if (*name && !*end && v < (gid_t)-1) {
			*gid = v;
			return 0;
		}
		return xlb_err(err, errlen, errno ? -errno : -ENOENT, "--socket-group %s: %s", name,
			       errno ? strerror(errno) : "no such group");
	}
	*gid = g->gr_gid;
	return 0;
}

int xlb_server__start(struct event_base *base, struct xlb_daemon *d, const char *sock_path,
		      gid_t sock_gid, struct xlb_server **out, char *err, size_t errlen)
{
	struct xlb_server *s = calloc(1, sizeof(*s));
	int fd;

	if (!s)
		return xlb_err(err, errlen, -ENOMEM, "out of memory");
	s->d = d;
	s->sock_gid = sock_gid;
	snprintf(s->sock_path, sizeof(s->sock_path), "%s", sock_path);
	s->api = evhttp_new(base);
	s->metrics = evhttp_new(base);
	if (!s->api || !s->metrics) {
		xlb_server__stop(s);
		return xlb_err(err, errlen, -ENOMEM, "evhttp_new failed");
	}
	/* libevent answers a request over these limits with 413 and closes */
	evhttp_set_max_headers_size(s->api, XLB_SERVER_HEADERS_MAX);
	evhttp_set_max_body_size(s->api, XLB_API_BODY_MAX);
	evhttp_set_timeout(s->api, 30);
	evhttp_set_allowed_methods(s->api, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
						   EVHTTP_REQ_PATCH | EVHTTP_REQ_PUT);
	evhttp_set_gencb(s->api, on_api, s);
	evhttp_set_max_headers_size(s->metrics, XLB_SERVER_HEADERS_MAX);
	evhttp_set_max_body_size(s->metrics, 0);
	evhttp_set_timeout(s->metrics, 10);
	evhttp_set_gencb(s->metrics, on_metrics, s);

	fd = unix_listener(sock_path, sock_gid, err, errlen);
	if (fd < 0) {
		xlb_server__stop(s);
		return fd;
	}
	if (!evhttp_accept_socket_with_handle(s->api, fd)) {
		close(fd);
		xlb_server__stop(s);
		return xlb_err(err, errlen, -EIO, "cannot serve on %s", sock_path);
	}
	*out = s;
	return 0;
}

int xlb_server__listen_metrics(struct xlb_server *s, const char *host, unsigned short port,
			       char *err, size_t errlen)
{
	if (!evhttp_bind_socket_with_handle(s->metrics, host, port))
		return xlb_err(err, errlen, -EADDRNOTAVAIL, "cannot listen for /metrics on %s:%u",
			       host, port);
	return 0;
}

void xlb_server__stop(struct xlb_server *s)
{
	if (!s)
		return;
	if (s->api)
		evhttp_free(s->api);
	if (s->metrics)
		evhttp_free(s->metrics);
	if (s->sock_path[0])
		unlink(s->sock_path);
	free(s);
}
