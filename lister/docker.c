/*
 * docker.c: the only code that speaks HTTP to Docker. One curl multi handle
 * per struct docker, so a call can be woken and cancelled from another
 * thread (curl_multi_wakeup) while it waits on a hung daemon; calls buffer
 * their body, the events stream hands it over as it arrives. Over 600
 * lines because it is one curl handle's life: negotiation, the bounded
 * body, the peer's identity and cancellation share its callbacks.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "docker.h"
#include "log.h"
#include "parse.h"
#include "util.h"

#define ERRBODY_MAX 4096 /* kept of a failed stream's body, for its message */
/* A body buffer larger than this is given back once its body is done with
 * (at the next call, or at once when the call failed): one huge or endless
 * answer must not hold its up to max_body bytes for the process's life. */
#define BUF_KEEP (1u << 20)

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
	/* set during docker_stream only */
	const struct docker_stream_ops *sops;
	void *sarg;
	bool opened;          /* 200 and the headers are in: body to sops */
	bool aborted;         /* sops->data said stop */
	curl_socket_t sockfd; /* the latest socket curl opened */
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

/* Room for n more bytes and a NUL in the body buffer (n is bounded by
 * max_body before). */
static void
buf_reserve(struct docker *d, size_t n)
{
	size_t cap;

	if (d->len + n + 1 <= d->cap)
		return;
	cap = d->cap ? d->cap : 16384;
	while (cap < d->len + n + 1)
		cap *= 2;
	d->buf = xrealloc(d->buf, cap);
	d->cap = cap;
}

/* Gives back a buffer grown past BUF_KEEP. */
static void
buf_release(struct docker *d)
{
	if (d->cap <= BUF_KEEP)
		return;
	free(d->buf);
	d->buf = NULL;
	d->cap = d->len = 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct docker *d = arg;
	size_t n = size * nmemb, max = d->max_body;

	if (d->opened) {
		if (d->sops->data(d->sarg, data, n) == -1) {
			d->aborted = true;
			return 0;
		}
		return n;
	}
	if (d->sops != NULL)
		max = ERRBODY_MAX; /* the error body of a refused stream */
	if (n > max - d->len) {
		d->too_big = true;
		return 0; /* aborts the transfer */
	}
	buf_reserve(d, n);
	memcpy(d->buf + d->len, data, n);
	d->len += n;
	d->buf[d->len] = '\0';
	return n;
}

/* /proc/<pid>/stat's 22nd field, after the parenthesised command name. */
static unsigned long long
proc_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	size_t n;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* the fields from the 3rd to the 21st come first */
	for (i = 0; i < 20 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return start;
}

/* curl tells the socket of each new connection; a stream always has one
 * (CURLOPT_FRESH_CONNECT), so during it this is the stream's. */
static int
on_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct docker *d = arg;

	d->sockfd = fd;
	return CURL_SOCKOPT_OK;
}

/* Who answers on the stream's socket. */
static void
peer_of(struct docker *d, struct docker_peer *peer)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	peer->pid = 0;
	peer->start = 0;
	if (d->sock[0] == '\0' || d->sockfd == CURL_SOCKET_BAD ||
	    getsockopt(d->sockfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ==
	        -1 ||
	    cred.pid <= 0)
		return;
	peer->pid = (long)cred.pid;
	peer->start = proc_start(peer->pid);
}

/* The blank line that ends a stream's headers opens it when the status is
 * 200 (an interim 1xx response has a blank line of its own: skipped). */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct docker *d = arg;
	size_t n = size * nmemb;
	struct docker_peer peer;
	long status = 0;

	if (d->sops == NULL || d->opened ||
	    !(n == 2 && data[0] == '\r' && data[1] == '\n'))
		return n;
	curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return n;
	d->opened = true;
	peer_of(d, &peer);
	d->sops->open(d->sarg, &peer);
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

	d = xcalloc(1, sizeof(*d));
	if (docker_host_parse(host, d->sock, sizeof(d->sock), d->base,
	                      sizeof(d->base), err, sizeof(err)) == -1) {
		log_warnx("unable to use docker host %s", err);
		free(d);
		return NULL;
	}
	d->timeout_ms = timeout_ms;
	d->max_body = max_body;
	d->sockfd = CURL_SOCKET_BAD;
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
	curl_easy_setopt(d->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(d->easy, CURLOPT_HEADERDATA, d);
	curl_easy_setopt(d->easy, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	curl_easy_setopt(d->easy, CURLOPT_SOCKOPTDATA, d);
	curl_easy_setopt(d->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(d->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(d->easy, CURLOPT_XFERINFODATA, d);
	curl_easy_setopt(d->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(d->easy, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(d->easy, CURLOPT_USERAGENT, "recon-lister");
	if (d->sock[0] != '\0')
		curl_easy_setopt(d->easy, CURLOPT_UNIX_SOCKET_PATH, d->sock);
	else
		/* a stream over tcp must notice a peer that vanished */
		curl_easy_setopt(d->easy, CURLOPT_TCP_KEEPALIVE, 1L);
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
 * can interrupt the wait. A call is bounded in full by the timeout; a
 * stream (d->sops set) only until its headers are in.
 */
static int
http_call(struct docker *d, const char *path, char *err, size_t errlen)
{
	char url[4096];
	int running = 1, nq, wait;
	CURLMsg *m;
	CURLcode res = CURLE_OK;
	long status = 0;
	char msg[DOCKER_ERR_LEN];
	bool stream = d->sops != NULL, late = false;
	int64_t deadline = mono_ms() + d->timeout_ms;

	if (snprintf(url, sizeof(url), "%s%s", d->base, path) >=
	    (int)sizeof(url)) {
		snprintf(err, errlen, "URL too long");
		return -1;
	}
	if (atomic_load(&d->cancelled)) {
		snprintf(err, errlen, "cancelled");
		return -1;
	}
	buf_release(d); /* the last body is no longer wanted */
	d->len = 0;
	d->too_big = false;
	d->opened = d->aborted = false;
	buf_reserve(d, 0);
	d->buf[0] = '\0';
	curl_easy_setopt(d->easy, CURLOPT_URL, url);
	curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS,
	                 stream ? 0L : (long)d->timeout_ms);
	if (curl_multi_add_handle(d->multi, d->easy) != CURLM_OK) {
		snprintf(err, errlen, "curl_multi_add_handle failed");
		return -1;
	}
	while (running) {
		if (curl_multi_perform(d->multi, &running) != CURLM_OK)
			break;
		if (!running || atomic_load(&d->cancelled))
			break;
		wait = 1000;
		if (stream && !d->opened) {
			if (mono_ms() >= deadline) {
				late = true;
				break;
			}
			if (deadline - mono_ms() < wait)
				wait = (int)(deadline - mono_ms()) + 1;
		}
		if (curl_multi_poll(d->multi, NULL, 0, wait, NULL) != CURLM_OK)
			break;
	}
	res = CURLE_ABORTED_BY_CALLBACK;
	while ((m = curl_multi_info_read(d->multi, &nq)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == d->easy)
			res = m->data.result;
	curl_multi_remove_handle(d->multi, d->easy);
	if (late) {
		snprintf(err, errlen, "no answer within %lld ms",
		         (long long)d->timeout_ms);
		return -1;
	}
	if (res != CURLE_OK) {
		if (atomic_load(&d->cancelled))
			snprintf(err, errlen, "cancelled");
		else if (d->aborted)
			snprintf(err, errlen, "stopped by the reader");
		else if (d->too_big)
			snprintf(err, errlen, "response larger than %zu bytes",
			         stream ? (size_t)ERRBODY_MAX : d->max_body);
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

/* http_call; a failed call's body goes at once, however large it grew. */
static int
http_get(struct docker *d, const char *path, char *err, size_t errlen)
{
	if (http_call(d, path, err, errlen) == 0)
		return 0;
	buf_release(d);
	return -1;
}

size_t
docker_held(const struct docker *d)
{
	return d->cap;
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

/* Appends s, URL-escaped when asked, to path at *off; -1 when it does not
 * fit. */
static int
path_add(struct docker *d, char *path, size_t size, size_t *off, const char *s,
         bool escape)
{
	char *esc = NULL;
	int n;

	if (escape && (esc = curl_easy_escape(d->easy, s, 0)) == NULL)
		return -1;
	n = snprintf(path + *off, size - *off, "%s", escape ? esc : s);
	curl_free(esc);
	if (n < 0 || (size_t)n >= size - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

bool
docker_id_ok(const char *id)
{
	size_t n;

	for (n = 0; id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') ||
		      (id[n] >= 'a' && id[n] <= 'f')))
			return false;
	return n > 0 && n <= 128;
}

/*
 * GET /containers/json?all=1[&limit=1]&filters={"label":["<prefix>
 * workload.id"][,"id":[ids]]}. The prefix was checked at start-up to need
 * no JSON escaping, the ids are hex.
 */
static int
list_filtered(struct docker *d, const char *prefix, char *const *ids,
              size_t nids, bool limit1, const char **body, size_t *len,
              char *err, size_t errlen)
{
	char path[4096], part[512];
	size_t off = 0, i;
	int bad = 0;

	if (nids > DOCKER_IDS_MAX) {
		snprintf(err, errlen, "more than %d ids", DOCKER_IDS_MAX);
		return -1;
	}
	if (snprintf(part, sizeof(part), "{\"label\":[\"%sworkload.id\"]",
	             prefix) >= (int)sizeof(part)) {
		snprintf(err, errlen, "label prefix too long");
		return -1;
	}
	bad |= path_add(d, path, sizeof(path), &off,
	                limit1 ? "/containers/json?all=1&limit=1&filters="
	                       : "/containers/json?all=1&filters=",
	                false);
	bad |= path_add(d, path, sizeof(path), &off, part, true);
	for (i = 0; i < nids && !bad; i++) {
		if (!docker_id_ok(ids[i])) {
			snprintf(err, errlen, "container id %.16s is not hex",
			         ids[i]);
			return -1;
		}
		snprintf(part, sizeof(part), "%s\"%s\"",
		         i == 0 ? ",\"id\":[" : ",", ids[i]);
		bad |= path_add(d, path, sizeof(path), &off, part, true);
	}
	if (nids > 0)
		bad |= path_add(d, path, sizeof(path), &off, "]", true);
	bad |= path_add(d, path, sizeof(path), &off, "}", true);
	if (bad) {
		snprintf(err, errlen, "list filter too long");
		return -1;
	}
	return docker_get(d, path, body, len, err, errlen);
}

int
docker_list(struct docker *d, const char *prefix, const char **body,
            size_t *len, char *err, size_t errlen)
{
	return list_filtered(d, prefix, NULL, 0, false, body, len, err, errlen);
}

int
docker_list_ids(struct docker *d, const char *prefix, char *const *ids,
                size_t nids, const char **body, size_t *len, char *err,
                size_t errlen)
{
	if (nids == 0) {
		snprintf(err, errlen, "no ids to list");
		return -1;
	}
	return list_filtered(d, prefix, ids, nids, false, body, len, err,
	                     errlen);
}

int
docker_list_probe(struct docker *d, const char *prefix, const char **body,
                  size_t *len, char *err, size_t errlen)
{
	return list_filtered(d, prefix, NULL, 0, true, body, len, err, errlen);
}

int
docker_stream(struct docker *d, const char *prefix, int64_t since_ns,
              const struct docker_stream_ops *ops, void *arg, char *err,
              size_t errlen)
{
	char path[1024], filter[512], *esc;
	int rc;

	if (d->version[0] == '\0' && docker_negotiate(d, err, errlen) == -1)
		return -1;
	if (snprintf(filter, sizeof(filter),
	             "{\"type\":[\"container\"],\"label\":[\"%sworkload.id\"]}",
	             prefix) >= (int)sizeof(filter)) {
		snprintf(err, errlen, "label prefix too long");
		return -1;
	}
	if ((esc = curl_easy_escape(d->easy, filter, 0)) == NULL) {
		snprintf(err, errlen, "unable to escape the filter");
		return -1;
	}
	/*
	 * Docker sends the headers before it registers the subscriber; a
	 * since of one second ago replays (from its ring) whatever came
	 * between, so the list that follows the opening misses nothing. A
	 * later stream asks from where the one before it got to
	 * (docker_events.c). Docker reads since as seconds[.nanoseconds],
	 * inclusive.
	 */
	if (since_ns <= 0)
		since_ns = (now_ms() / 1000 - 1) * 1000000000LL;
	rc = snprintf(path, sizeof(path),
	              "/v%s/events?since=%lld.%09lld&filters=%s", d->version,
	              (long long)(since_ns / 1000000000LL),
	              (long long)(since_ns % 1000000000LL), esc);
	curl_free(esc);
	if (rc >= (int)sizeof(path)) {
		snprintf(err, errlen, "label prefix too long");
		return -1;
	}
	d->sops = ops;
	d->sarg = arg;
	d->sockfd = CURL_SOCKET_BAD;
	curl_easy_setopt(d->easy, CURLOPT_FRESH_CONNECT, 1L);
	rc = http_get(d, path, err, errlen);
	curl_easy_setopt(d->easy, CURLOPT_FRESH_CONNECT, 0L);
	/* as docker_get: a daemon that never took the stream may have been
	 * replaced, so negotiate again */
	if (rc == -1 && !d->opened)
		d->version[0] = '\0';
	d->sops = NULL;
	d->sarg = NULL;
	d->opened = false;
	return rc;
}
