/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "userspace/xlbctl/ctl_http.h"
#include "userspace/lib/log.h"

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct ctl_http_resp *resp = arg;
	size_t add = size * n;
	char *body;

	body = realloc(resp->body, resp->len + add + 1);
	if (!body)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	memcpy(body + resp->len, data, add);
	resp->len += add;
	body[resp->len] = '\0';
	resp->body = body;
	return add;
}

int ctl_http__request(const char *sock, const char *method, const char *path,
		      const char *body, size_t len, const char *ctype,
		      struct ctl_http_resp *resp, char *err, size_t errlen)
{
	char url[4096], hdr[128], cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	long os_errno = 0;
	CURLcode rc;
	CURL *curl;
	int ret = 0;

	memset(resp, 0, sizeof(*resp));
	if (snprintf(url, sizeof(url), "http://xlb%s", path) >= (int)sizeof(url))
		return xlb_err(err, errlen, -ENAMETOOLONG, "request path too long");
	curl = curl_easy_init();
	if (!curl)
		return xlb_err(err, errlen, -ENOMEM, "cannot initialise libcurl");

	/* Disable "Expect: 100-continue": it only adds a round trip here. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (body) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, hdr);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CTL_HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)CTL_HTTP_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
		if (rc == CURLE_WRITE_ERROR)
			ret = xlb_err(err, errlen, -ENOMEM, "out of memory reading the answer");
		else if (os_errno && rc == CURLE_COULDNT_CONNECT)
			ret = xlb_err(err, errlen, -EHOSTUNREACH, "%s", strerror((int)os_errno));
		else
			ret = xlb_err(err, errlen, -EHOSTUNREACH, "%s",
				      cerr[0] ? cerr : curl_easy_strerror(rc));
		ctl_http_resp__free(resp);
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
		if (!resp->body)
			resp->body = strdup("");
		if (!resp->body)
			ret = xlb_err(err, errlen, -ENOMEM, "out of memory");
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return ret;
}

void ctl_http_resp__free(struct ctl_http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

int ctl_http__escape(const char *s, char *buf, size_t len)
{
	char *e = curl_easy_escape(NULL, s, 0);
	int ret = 0;

	if (!e)
		return -ENOMEM;
	if (strlen(e) >= len)
		ret = -ENAMETOOLONG;
	else
		strcpy(buf, e);
	curl_free(e);
	return ret;
}
