/*
 * docker.c: the only code that speaks HTTP to Docker. One curl multi handle
 * per struct docker, so a call can be woken and cancelled from another
 * thread (curl_multi_wakeup) while it waits on a hung daemon.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "docker.h"
#include "log.h"
#include "parse.h"

struct docker {
	CURLM *multi;
	CURL *easy;
	char sock[108]; /* sun_path; "" for tcp */
	char base[256]; /* http://docker or http://host:port */
	int64_t timeout_ms;
	size_t max_body;
	atomic_bool cancelled;
	char version[DOCKER_VER_LEN]; /* "" until negotiated */
	char *buf;                    /* the last response body */
	size_t len, cap;
	bool too_big;
};

int
docker_host_parse(const char *host, char *sock, size_t socklen, char *base,
                  size_t baselen, char *err, size_t errlen)
{
	const char *rest;
	int n;

	if (strncmp(host, "unix://", 7) == 0) {
		rest = host + 7;
		if (rest[0] != '/' || rest[1] == '\0') {
			snprintf(err, errlen, "%s: want unix:///absolute/path",
			         host);
			return -1;
		}
		if (strlen(rest) >= socklen) {
			snprintf(err, errlen, "%s: socket path too long", host);
			return -1;
		}
		snprintf(sock, socklen, "%s", rest);
		snprintf(base, baselen, "http://docker");
		return 0;
	}
	if (strncmp(host, "tcp://", 6) == 0) {
		rest = host + 6;
		if (rest[0] == '\0' || strchr(rest, ':') == NULL ||
		    strpbrk(rest, "/?#@ ") != NULL) {
			snprintf(err, errlen, "%s: want tcp://host:port", host);
			return -1;
		}
		n = snprintf(base, baselen, "http://%s", rest);
		if (n < 0 || (size_t)n >= baselen) {
			snprintf(err, errlen, "%s: host too long", host);
			return -1;
		}
		if (socklen > 0)
			sock[0] = '\0';
		return 0;
	}
	snprintf(err, errlen, "%s: only unix:// and tcp:// are supported",
	         host);
	return -1;
}

/* "1.41" -> 1041; -1 when not digits.digits (at most three each). */
static int
version_num(const char *v)
{
	int maj = 0, min = 0, i = 0, j;

	for (j = 0; v[i] >= '0' && v[i] <= '9' && j < 3; i++, j++)
		maj = maj * 10 + (v[i] - '0');
	if (j == 0 || v[i++] != '.')
		return -1;
	for (j = 0; v[i] >= '0' && v[i] <= '9' && j < 3; i++, j++)
		min = min * 10 + (v[i] - '0');
	if (j == 0 || v[i] != '\0')
		return -1;
	return maj * 1000 + min;
}

int
docker_pick_version(const char *api, const char *min_api, char *out,
                    size_t outlen)
{
	int a = version_num(api), lo = 0, pick;

	if (a < 0 || (min_api[0] != '\0' && (lo = version_num(min_api)) < 0))
		return -1;
	pick =
	    a < version_num(DOCKER_API_MAX) ? a : version_num(DOCKER_API_MAX);
	if (pick < lo)
		pick = lo;
	if (snprintf(out, outlen, "%d.%d", pick / 1000, pick % 1000) >=
	    (int)outlen)
		return -1;
	return 0;
}

/* Room for n more bytes and a NUL in the body buffer; -1 when out of
 * memory. */
static int
buf_reserve(struct docker *d, size_t n)
{
	size_t cap;
	char *p;

	if (d->len + n + 1 <= d->cap)
		return 0;
	cap = d->cap ? d->cap : 16384;
	while (cap < d->len + n + 1)
		cap *= 2;
	if ((p = realloc(d->buf, cap)) == NULL)
		return -1;
	d->buf = p;
	d->cap = cap;
	return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct docker *d = arg;
	size_t n = size * nmemb;

	if (n > d->max_body - d->len) {
		d->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (buf_reserve(d, n) == -1)
		return 0;
	memcpy(d->buf + d->len, data, n);
	d->len += n;
	d->buf[d->len] = '\0';
	return n;
}

/* Polled by curl while it waits: a cancelled call stops at once. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
	struct docker *d = arg;

	return atomic_load(&d->cancelled) ? 1 : 0;
}

struct docker *
docker_new(const char *host, int64_t timeout_ms, size_t max_body)
{
	struct docker *d;
	char err[DOCKER_ERR_LEN];

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warn("unable to create docker client");
		return NULL;
	}
	if (docker_host_parse(host, d->sock, sizeof(d->sock), d->base,
	                      sizeof(d->base), err, sizeof(err)) == -1) {
		log_warnx("unable to use docker host %s", err);
		free(d);
		return NULL;
	}
	d->timeout_ms = timeout_ms;
	d->max_body = max_body;
	atomic_init(&d->cancelled, false);
	if ((d->multi = curl_multi_init()) == NULL ||
	    (d->easy = curl_easy_init()) == NULL) {
		log_warnx("unable to create docker client: curl init failed");
		docker_free(d);
		return NULL;
	}
	curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(d->easy, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(d->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(d->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(d->easy, CURLOPT_XFERINFODATA, d);
	curl_easy_setopt(d->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(d->easy, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(d->easy, CURLOPT_USERAGENT, "recon-lister");
	if (d->sock[0] != '\0')
		curl_easy_setopt(d->easy, CURLOPT_UNIX_SOCKET_PATH, d->sock);
	return d;
}

void
docker_free(struct docker *d)
{
	if (d == NULL)
		return;
	if (d->easy != NULL)
		curl_easy_cleanup(d->easy);
	if (d->multi != NULL)
		curl_multi_cleanup(d->multi);
	free(d->buf);
	free(d);
}

void
docker_cancel(struct docker *d)
{
	atomic_store(&d->cancelled, true);
	curl_multi_wakeup(d->multi);
}

const char *
docker_version(const struct docker *d)
{
	return d->version;
}

/*
 * One GET of base+path. Runs the multi loop itself so that docker_cancel
 * can interrupt the wait; CURLOPT_TIMEOUT_MS bounds the whole call.
 */
static int
http_get(struct docker *d, const char *path, char *err, size_t errlen)
{
	char url[4096];
	int running = 1, nq;
	CURLMsg *m;
	CURLcode res = CURLE_OK;
	long status = 0;
	char msg[DOCKER_ERR_LEN];

	if (snprintf(url, sizeof(url), "%s%s", d->base, path) >=
	    (int)sizeof(url)) {
		snprintf(err, errlen, "URL too long");
		return -1;
	}
	if (atomic_load(&d->cancelled)) {
		snprintf(err, errlen, "cancelled");
		return -1;
	}
	d->len = 0;
	d->too_big = false;
	if (buf_reserve(d, 0) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->buf[0] = '\0';
	curl_easy_setopt(d->easy, CURLOPT_URL, url);
	if (curl_multi_add_handle(d->multi, d->easy) != CURLM_OK) {
		snprintf(err, errlen, "curl_multi_add_handle failed");
		return -1;
	}
	while (running) {
		if (curl_multi_perform(d->multi, &running) != CURLM_OK)
			break;
		if (running &&
		    curl_multi_poll(d->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
		if (running && atomic_load(&d->cancelled))
			break;
	}
	res = CURLE_ABORTED_BY_CALLBACK;
	while ((m = curl_multi_info_read(d->multi, &nq)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == d->easy)
			res = m->data.result;
	curl_multi_remove_handle(d->multi, d->easy);
	if (res != CURLE_OK) {
		if (atomic_load(&d->cancelled))
			snprintf(err, errlen, "cancelled");
		else if (d->too_big)
			snprintf(err, errlen, "response larger than %zu bytes",
			         d->max_body);
		else if (res == CURLE_OPERATION_TIMEDOUT)
			snprintf(err, errlen, "no answer within %lld ms",
			         (long long)d->timeout_ms);
		else
			snprintf(err, errlen, "%s", curl_easy_strerror(res));
		return -1;
	}
	curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		parse_error_message(d->buf, d->len, msg, sizeof(msg));
		snprintf(err, errlen, "HTTP %ld: %s", status, msg);
		return -1;
	}
	return 0;
}

int
docker_negotiate(struct docker *d, char *err, size_t errlen)
{
	char api[DOCKER_VER_LEN], min_api[DOCKER_VER_LEN];
	char why[DOCKER_ERR_LEN];

	d->version[0] = '\0';
	if (http_get(d, "/version", why, sizeof(why)) == -1) {
		snprintf(err, errlen, "GET /version: %s", why);
		return -1;
	}
	if (parse_version(d->buf, d->len, api, sizeof(api), min_api,
	                  sizeof(min_api), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "GET /version: %s", why);
		return -1;
	}
	if (docker_pick_version(api, min_api, d->version, sizeof(d->version)) ==
	    -1) {
		snprintf(err, errlen,
		         "GET /version: bad ApiVersion %s or "
		         "MinAPIVersion %s",
		         api, min_api);
		d->version[0] = '\0';
		return -1;
	}
	if (version_num(d->version) > version_num(DOCKER_API_MAX))
		log_warnx(
		    "docker requires API %s, newer than our %s; trying it",
		    d->version, DOCKER_API_MAX);
	log_info("docker API %s (daemon %s, minimum %s)", d->version, api,
	         min_api[0] ? min_api : "unknown");
	return 0;
}

int
docker_get(struct docker *d, const char *path, const char **body, size_t *len,
           char *err, size_t errlen)
{
	char vpath[4096];

	if (d->version[0] == '\0' && docker_negotiate(d, err, errlen) == -1)
		return -1;
	if (snprintf(vpath, sizeof(vpath), "/v%s%s", d->version, path) >=
	    (int)sizeof(vpath)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	if (http_get(d, vpath, err, errlen) == -1) {
		d->version[0] = '\0';
		return -1;
	}
	*body = d->buf;
	*len = d->len;
	return 0;
}

int
docker_list(struct docker *d, const char *prefix, const char **body,
            size_t *len, char *err, size_t errlen)
{
	char filter[1024], path[4096];
	char *esc;
	int rc;

	/* The prefix was checked at start-up to need no JSON escaping. */
	if (snprintf(filter, sizeof(filter), "{\"label\":[\"%sworkload.id\"]}",
	             prefix) >= (int)sizeof(filter)) {
		snprintf(err, errlen, "label prefix too long");
		return -1;
	}
	if ((esc = curl_easy_escape(d->easy, filter, 0)) == NULL) {
		snprintf(err, errlen, "unable to escape the filter");
		return -1;
	}
	rc = snprintf(path, sizeof(path), "/containers/json?all=1&filters=%s",
	              esc);
	curl_free(esc);
	if (rc >= (int)sizeof(path)) {
		snprintf(err, errlen, "label prefix too long");
		return -1;
	}
	return docker_get(d, path, body, len, err, errlen);
}
