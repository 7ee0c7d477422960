/*
 * docker_test.c: docker.c against a small in-process HTTP server on a unix
 * socket: version negotiation (old and new daemons, an upgrade in between),
 * errors, the size cap, the timeout and cancellation of a hung call, the
 * filtered lists, and the events stream (chunks, quiet spells, a cut, a
 * refusal, a silent daemon, the reader's abort, the peer's identity). Long
 * because the fake daemon (its modes and canned answers) lives here too.
 */
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "docker.h"
#include "util.h"

enum mode {
	M_DOCKER,
	M_STATUS500,
	M_BIG,
	M_HUGE, /* a 3 MiB list body */
	M_HANG,
	M_EVENTS,      /* a chunked stream, a quiet spell, a clean end */
	M_EVENTS_CUT,  /* a chunk, then the connection drops */
	M_EVENTS_HANG, /* /version answers, /events never does */
};

/* A fake daemon: one connection at a time, one request per connection. */
struct srv {
	char path[108];
	int lfd;
	pthread_t th;
	atomic_bool stop;
	pthread_mutex_t mu; /* guards what follows */
	enum mode mode;
	char api[8], min_api[8];
	char last_path[1024];
	int requests;
};

#define HUGE_LEN (3 << 20)

static const char list_json[] =
    "[{\"Id\":\"a\",\"Image\":\"i\",\"State\":"
    "\"running\",\"Created\":1,\"Ports\":[],"
    "\"Labels\":{\"tinyforge.workload.id\":\"w\"}}]";

static void
reply(int fd, int status, const char *body)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	             status, strlen(body));
	if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
		return;
}

/* One HTTP chunk; the client may be gone (no SIGPIPE then). */
static void
chunk(int fd, const char *data)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%zx\r\n%s\r\n", strlen(data), data);

	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
		return;
}

/* Until the client gives up or the test ends. */
static void
hang(struct srv *s, int fd)
{
	struct pollfd p;
	char c;

	p.fd = fd;
	p.events = POLLIN;
	while (!atomic_load(&s->stop))
		if (poll(&p, 1, 20) == 1 && read(fd, &c, 1) <= 0)
			break;
}

static const char stream_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

/* "/v1.41/..." -> 1041, else 0. */
static int
path_version(const char *p)
{
	unsigned maj, min;

	if (sscanf(p, "/v%u.%u/", &maj, &min) != 2)
		return 0;
	return (int)(maj * 1000 + min);
}

static int
vnum(const char *v)
{
	unsigned maj, min;

	return sscanf(v, "%u.%u", &maj, &min) == 2 ? (int)(maj * 1000 + min)
	                                           : 0;
}

static void
serve_one(struct srv *s, int fd)
{
	char req[4096] = "", path[1024], body[512];
	size_t got = 0;
	ssize_t n;
	enum mode mode;
	int v;

	while (got < sizeof(req) - 1 && strstr(req, "\r\n\r\n") == NULL) {
		if ((n = read(fd, req + got, sizeof(req) - 1 - got)) <= 0)
			return;
		got += (size_t)n;
		req[got] = '\0';
	}
	if (sscanf(req, "GET %1023s ", path) != 1)
		return;
	pthread_mutex_lock(&s->mu);
	snprintf(s->last_path, sizeof(s->last_path), "%s", path);
	s->requests++;
	mode = s->mode;
	pthread_mutex_unlock(&s->mu);

	switch (mode) {
	case M_DOCKER:
		if (strcmp(path, "/version") == 0) {
			snprintf(
			    body, sizeof(body),
			    "{\"ApiVersion\":\"%s\",\"MinAPIVersion\":\"%s\"}",
			    s->api, s->min_api);
			reply(fd, 200, body);
		} else if ((v = path_version(path)) < vnum(s->min_api)) {
			snprintf(
			    body, sizeof(body),
			    "{\"message\":\"client version %d.%d is too old. "
			    "Minimum supported API version is %s\"}",
			    v / 1000, v % 1000, s->min_api);
			reply(fd, 400, body);
		} else {
			reply(fd, 200, list_json);
		}
		break;
	case M_STATUS500:
		reply(fd, strcmp(path, "/version") == 0 ? 200 : 500,
		      strcmp(path, "/version") == 0
		          ? "{\"ApiVersion\":\"1.41\"}"
		          : "{\"message\":\"boom\"}");
		break;
	case M_BIG:
		if (strcmp(path, "/version") == 0) {
			reply(fd, 200, "{\"ApiVersion\":\"1.41\"}");
		} else {
			memset(body, ' ', sizeof(body));
			snprintf(
			    req, sizeof(req),
			    "HTTP/1.1 200 OK\r\nContent-Length: 5120\r\n\r\n");
			if (write(fd, req, strlen(req)) < 0)
				return;
			for (v = 0; v < 10; v++)
				if (write(fd, body, sizeof(body)) < 0)
					return;
		}
		break;
	case M_HUGE:
		if (strcmp(path, "/version") == 0) {
			reply(fd, 200, "{\"ApiVersion\":\"1.41\"}");
			break;
		}
		memset(body, ' ', sizeof(body));
		snprintf(req, sizeof(req),
		         "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
		         HUGE_LEN);
		if (write(fd, req, strlen(req)) < 0)
			return;
		for (v = 0; v < HUGE_LEN / (int)sizeof(body); v++)
			if (send(fd, body, sizeof(body), MSG_NOSIGNAL) < 0)
				return;
		break;
	case M_HANG:
		hang(s, fd);
		break;
	case M_EVENTS:
	case M_EVENTS_CUT:
	case M_EVENTS_HANG:
		if (strcmp(path, "/version") == 0) {
			reply(fd, 200, "{\"ApiVersion\":\"1.41\"}");
			break;
		}
		if (mode == M_EVENTS_HANG) {
			hang(s, fd);
			break;
		}
		if (write(fd, stream_head, strlen(stream_head)) < 0)
			break;
		chunk(fd, "{\"a\":");
		usleep(50 * 1000);
		chunk(fd, "1}\n{\"b\":2}\n");
		if (mode == M_EVENTS_CUT)
			break;
		usleep(500 * 1000); /* quieter than the timeout */
		chunk(fd, "{\"c\":3}\n");
		if (send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL) < 0)
			break;
		break;
	}
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	int fd;

	while (!atomic_load(&s->stop)) {
		if ((fd = accept(s->lfd, NULL, NULL)) == -1)
			break;
		serve_one(s, fd);
		close(fd);
	}
	return NULL;
}

static int
srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_un sun;

	snprintf(s->path, sizeof(s->path), "/tmp/docker_test.%d.sock",
	         (int)getpid());
	unlink(s->path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	pthread_mutex_init(&s->mu, NULL);
	snprintf(s->api, sizeof(s->api), "1.41");
	snprintf(s->min_api, sizeof(s->min_api), "1.12");
	atomic_init(&s->stop, false);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
	*state = s;
	return 0;
}

static int
srv_teardown(void **state)
{
	struct srv *s = *state;

	atomic_store(&s->stop, true);
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->lfd);
	unlink(s->path);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return 0;
}

static void
srv_set(struct srv *s, enum mode mode, const char *api, const char *min_api)
{
	pthread_mutex_lock(&s->mu);
	s->mode = mode;
	snprintf(s->api, sizeof(s->api), "%s", api);
	snprintf(s->min_api, sizeof(s->min_api), "%s", min_api);
	pthread_mutex_unlock(&s->mu);
}

static struct docker *
client(struct srv *s, int64_t timeout_ms, size_t max_body)
{
	char host[160];
	struct docker *d;

	snprintf(host, sizeof(host), "unix://%s", s->path);
	d = docker_new(host, timeout_ms, max_body);
	assert_non_null(d);
	return d;
}

/* Docker 29 refuses < 1.44: the client must speak 1.47 to it. */
static void
test_negotiate_new(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_DOCKER, "1.47", "1.44");
	d = client(s, 2000, DOCKER_BODY_MAX);
	assert_string_equal(docker_version(d), "");
	if (docker_list(d, "tinyforge.", &body, &len, err, sizeof(err)) == -1)
		fail_msg("list failed: %s", err);
	assert_string_equal(docker_version(d), "1.47");
	assert_string_equal(
	    s->last_path,
	    "/v1.47/containers/json?all=1&filters="
	    "%7B%22label%22%3A%5B%22tinyforge.workload.id%22%5D%7D");
	assert_int_equal(len, strlen(list_json));
	assert_memory_equal(body, list_json, len);
	assert_int_equal(s->requests, 2);
	/* The version is kept: one request per later call. */
	assert_int_equal(
	    docker_list(d, "tinyforge.", &body, &len, err, sizeof(err)), 0);
	assert_int_equal(s->requests, 3);
	docker_free(d);
}

/* dockerd 20.10 speaks at most 1.41. */
static void
test_negotiate_old(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_DOCKER, "1.41", "1.12");
	d = client(s, 2000, DOCKER_BODY_MAX);
	assert_int_equal(docker_negotiate(d, err, sizeof(err)), 0);
	assert_string_equal(docker_version(d), "1.41");
	docker_free(d);
}

/* The daemon is upgraded under us: one failure, then 1.47 again. */
static void
test_upgrade(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_DOCKER, "1.41", "1.12");
	d = client(s, 2000, DOCKER_BODY_MAX);
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 0);
	assert_string_equal(docker_version(d), "1.41");
	srv_set(s, M_DOCKER, "1.50", "1.44");
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "HTTP 400"));
	assert_non_null(strstr(err, "too old"));
	assert_string_equal(docker_version(d), "");
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 0);
	assert_string_equal(docker_version(d), "1.47");
	docker_free(d);
}

static void
test_status(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_STATUS500, "1.41", "1.12");
	d = client(s, 2000, DOCKER_BODY_MAX);
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "HTTP 500: boom");
	docker_free(d);
}

static void
test_too_big(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_BIG, "1.41", "1.12");
	d = client(s, 2000, 4096);
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "response larger than 4096 bytes");
	docker_free(d);
	/* The same body under a larger cap is fine. */
	d = client(s, 2000, 8192);
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 0);
	assert_int_equal(len, 5120);
	docker_free(d);
}

/* A huge answer's buffer is given back: at once when the call fails, at
 * the next call when it succeeded. */
static void
test_huge_released(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_HUGE, "1.41", "1.12");
	d = client(s, 5000, 2u << 20);
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "response larger than 2097152 bytes");
	assert_true(docker_held(d) <= 1u << 20);
	docker_free(d);

	d = client(s, 5000, 8u << 20);
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 0);
	assert_int_equal(len, HUGE_LEN);
	assert_true(docker_held(d) > HUGE_LEN); /* the body, still readable */
	assert_int_equal(body[len - 1], ' ');
	srv_set(s, M_DOCKER, "1.41", "1.12");
	assert_int_equal(docker_list(d, "p.", &body, &len, err, sizeof(err)),
	                 0);
	assert_true(docker_held(d) <= 1u << 20);
	assert_int_equal(len, strlen(list_json));
	docker_free(d);
}

static void
test_timeout(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	char err[DOCKER_ERR_LEN] = "";
	int64_t t0;

	srv_set(s, M_HANG, "1.41", "1.12");
	d = client(s, 300, DOCKER_BODY_MAX);
	t0 = mono_ms();
	assert_int_equal(docker_negotiate(d, err, sizeof(err)), -1);
	assert_true(mono_ms() - t0 >= 250);
	assert_true(mono_ms() - t0 < 1500);
	assert_string_equal(err, "GET /version: no answer within 300 ms");
	docker_free(d);
}

static void *
cancel_later(void *arg)
{
	usleep(200 * 1000);
	docker_cancel(arg);
	return NULL;
}

/* A call hung on a long timeout ends at once when cancelled. */
static void
test_cancel(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	char err[DOCKER_ERR_LEN] = "";
	pthread_t th;
	int64_t t0;

	srv_set(s, M_HANG, "1.41", "1.12");
	d = client(s, 60000, DOCKER_BODY_MAX);
	t0 = mono_ms();
	pthread_create(&th, NULL, cancel_later, d);
	assert_int_equal(docker_negotiate(d, err, sizeof(err)), -1);
	assert_true(mono_ms() - t0 < 500);
	assert_string_equal(err, "GET /version: cancelled");
	pthread_join(th, NULL);
	/* And every later call fails without waiting. */
	assert_int_equal(docker_negotiate(d, err, sizeof(err)), -1);
	docker_free(d);
}

static void
test_refused(void **state)
{
	struct docker *d;
	char err[DOCKER_ERR_LEN] = "";

	d = docker_new("unix:///nonexistent/docker.sock", 1000,
	               DOCKER_BODY_MAX);
	assert_non_null(d);
	assert_int_equal(docker_negotiate(d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "GET /version: "));
	assert_string_equal(docker_version(d), "");
	docker_free(d);
}

struct pick_case {
	const char *api, *min, *want; /* want NULL: must fail */
};

static void
test_pick(void **state)
{
	static const struct pick_case cases[] = {
	    {"1.41", "1.12", "1.41"}, {"1.47", "1.44", "1.47"},
	    {"1.51", "1.44", "1.47"}, {"1.52", "1.50", "1.50"},
	    {"1.24", "", "1.24"},     {"1.9", "1.2", "1.9"},
	    {"2.0", "1.44", "1.47"},  {"x", "1.12", NULL},
	    {"1.41", "1.x", NULL},    {"1.41 ", "", NULL},
	    {"", "", NULL},           {"1.", "", NULL},
	    {".4", "", NULL},         {"1.4444", "", NULL},
	};
	char out[DOCKER_VER_LEN];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = docker_pick_version(cases[i].api, cases[i].min, out,
		                         sizeof(out));
		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("%s/%s: accepted", cases[i].api,
				         cases[i].min);
		} else if (rc != 0 || strcmp(out, cases[i].want) != 0) {
			fail_msg("%s/%s: got %s, want %s", cases[i].api,
			         cases[i].min, rc == 0 ? out : "failure",
			         cases[i].want);
		}
	}
}

struct host_case {
	const char *host, *sock, *base; /* sock NULL: must fail */
};

static void
test_host(void **state)
{
	static const struct host_case cases[] = {
	    {"unix:///var/run/docker.sock", "/var/run/docker.sock",
	     "http://docker"},
	    {"tcp://10.0.0.1:2375", "", "http://10.0.0.1:2375"},
	    {"tcp://[::1]:2375", "", "http://[::1]:2375"},
	    {"unix://relative.sock", NULL, NULL},
	    {"unix://", NULL, NULL},
	    {"unix:///", NULL, NULL},
	    {"tcp://host", NULL, NULL},
	    {"tcp://host:1/x", NULL, NULL},
	    {"ssh://me@host", NULL, NULL},
	    {"/var/run/docker.sock", NULL, NULL},
	};
	char sock[108], base[256], err[DOCKER_ERR_LEN];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = docker_host_parse(cases[i].host, sock, sizeof(sock), base,
		                       sizeof(base), err, sizeof(err));
		if (cases[i].sock == NULL) {
			if (rc != -1)
				fail_msg("%s: accepted", cases[i].host);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", cases[i].host, err);
		assert_string_equal(sock, cases[i].sock);
		assert_string_equal(base, cases[i].base);
	}
	assert_null(docker_new("npipe:////./pipe/docker", 1000, 1));
}

/* What a stream handed over. */
struct sink {
	int opens;
	bool open_first; /* open came before any data */
	struct docker_peer peer;
	char data[256];
	size_t len;
	bool abort; /* answer the first data with -1 */
};

static void
sink_open(void *arg, const struct docker_peer *peer)
{
	struct sink *k = arg;

	k->opens++;
	k->open_first = k->len == 0;
	k->peer = *peer;
}

static int
sink_data(void *arg, const char *buf, size_t len)
{
	struct sink *k = arg;

	if (k->abort)
		return -1;
	assert_true(k->len + len < sizeof(k->data));
	memcpy(k->data + k->len, buf, len);
	k->len += len;
	k->data[k->len] = '\0';
	return 0;
}

static const struct docker_stream_ops sink_ops = {sink_open, sink_data};

/* Chunks as they come, an event cut across two, a quiet spell longer than
 * the timeout (a stream has none once open), a clean end: 0. */
static void
test_events(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	struct sink k = {0};
	char err[DOCKER_ERR_LEN] = "";
	int64_t t0 = mono_ms(), t0wall = now_ms();

	srv_set(s, M_EVENTS, "1.41", "1.12");
	d = client(s, 300, DOCKER_BODY_MAX);
	if (docker_stream(d, "tinyforge.", 0, &sink_ops, &k, err,
	                  sizeof(err)) != 0)
		fail_msg("stream failed: %s", err);
	assert_true(mono_ms() - t0 >= 500);
	assert_int_equal(k.opens, 1);
	assert_true(k.open_first);
	assert_string_equal(k.data, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
	assert_int_equal(strncmp(s->last_path, "/v1.41/events?since=", 20), 0);
	/* no since given: one second before now, in whole seconds */
	{
		long long sec = strtoll(s->last_path + 20, NULL, 10);
		assert_true(sec >= t0wall / 1000 - 2 && sec <= t0wall / 1000);
		assert_non_null(strstr(s->last_path, ".000000000&filters="));
	}
	assert_non_null(strstr(s->last_path,
	                       "&filters=%7B%22type%22%3A%5B%22container%22%5D%"
	                       "2C%22label%22%3A%5B%22tinyforge.workload.id%"
	                       "22%5D%7D"));
	/* The in-process server is this process. */
	assert_int_equal(k.peer.pid, (long)getpid());
	assert_true(k.peer.start > 0);
	docker_free(d);
}

/* A resumed stream asks Docker to replay from the exact time given. */
static void
test_events_since(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	struct sink k = {0};
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_EVENTS, "1.41", "1.12");
	d = client(s, 300, DOCKER_BODY_MAX);
	if (docker_stream(d, "p.", 1700000000000000123LL, &sink_ops, &k, err,
	                  sizeof(err)) != 0)
		fail_msg("stream failed: %s", err);
	assert_int_equal(
	    strncmp(s->last_path,
	            "/v1.41/events?since=1700000000.000000123&filters=", 49),
	    0);
	docker_free(d);
}

static void
test_events_cut(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	struct sink k = {0};
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_EVENTS_CUT, "1.41", "1.12");
	d = client(s, 1000, DOCKER_BODY_MAX);
	assert_int_equal(
	    docker_stream(d, "p.", 0, &sink_ops, &k, err, sizeof(err)), -1);
	assert_int_equal(k.opens, 1);
	assert_string_equal(k.data, "{\"a\":1}\n{\"b\":2}\n");
	assert_true(err[0] != '\0');
	docker_free(d);
}

static void
test_events_abort(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	struct sink k = {0};
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_EVENTS, "1.41", "1.12");
	d = client(s, 1000, DOCKER_BODY_MAX);
	k.abort = true;
	assert_int_equal(
	    docker_stream(d, "p.", 0, &sink_ops, &k, err, sizeof(err)), -1);
	assert_string_equal(err, "stopped by the reader");
	assert_int_equal(k.opens, 1);
	docker_free(d);
}

/* A daemon that takes the request and never answers: the timeout. */
static void
test_events_silent(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	struct sink k = {0};
	char err[DOCKER_ERR_LEN] = "";
	int64_t t0;

	srv_set(s, M_EVENTS_HANG, "1.41", "1.12");
	d = client(s, 300, DOCKER_BODY_MAX);
	assert_int_equal(docker_negotiate(d, err, sizeof(err)), 0);
	t0 = mono_ms();
	assert_int_equal(
	    docker_stream(d, "p.", 0, &sink_ops, &k, err, sizeof(err)), -1);
	assert_true(mono_ms() - t0 >= 250 && mono_ms() - t0 < 1500);
	assert_string_equal(err, "no answer within 300 ms");
	assert_int_equal(k.opens, 0);
	/* It may be another daemon next time: negotiate again. */
	assert_string_equal(docker_version(d), "");
	docker_free(d);
}

static void
test_events_refused(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	struct sink k = {0};
	char err[DOCKER_ERR_LEN] = "";

	srv_set(s, M_STATUS500, "1.41", "1.12");
	d = client(s, 1000, DOCKER_BODY_MAX);
	assert_int_equal(
	    docker_stream(d, "p.", 0, &sink_ops, &k, err, sizeof(err)), -1);
	assert_string_equal(err, "HTTP 500: boom");
	assert_int_equal(k.opens, 0);
	assert_int_equal(k.len, 0);
	docker_free(d);
}

/* An open stream ends at once when cancelled. */
static void
test_events_cancel(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	struct sink k = {0};
	char err[DOCKER_ERR_LEN] = "";
	pthread_t th;
	int64_t t0 = mono_ms();

	srv_set(s, M_EVENTS, "1.41", "1.12");
	d = client(s, 60000, DOCKER_BODY_MAX);
	assert_int_equal(docker_negotiate(d, err, sizeof(err)), 0);
	pthread_create(&th, NULL, cancel_later, d);
	assert_int_equal(
	    docker_stream(d, "p.", 0, &sink_ops, &k, err, sizeof(err)), -1);
	assert_true(mono_ms() - t0 < 450); /* before the stream's end */
	assert_string_equal(err, "cancelled");
	pthread_join(th, NULL);
	docker_free(d);
}

static void
test_list_filters(void **state)
{
	struct srv *s = *state;
	struct docker *d;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN] = "";
	char *ids[] = {"0a1b", "ffee"}, *bad[] = {"0a1b", "x\"],\"y"};
	char *many[DOCKER_IDS_MAX + 1];
	int before, i;

	srv_set(s, M_DOCKER, "1.41", "1.12");
	d = client(s, 2000, DOCKER_BODY_MAX);
	assert_int_equal(
	    docker_list_ids(d, "p.", ids, 2, &body, &len, err, sizeof(err)), 0);
	assert_string_equal(s->last_path,
	                    "/v1.41/containers/json?all=1&filters="
	                    "%7B%22label%22%3A%5B%22p.workload.id%22%5D%2C%22id"
	                    "%22%3A%5B%220a1b%22%2C%22ffee%22%5D%7D");
	assert_int_equal(
	    docker_list_probe(d, "p.", &body, &len, err, sizeof(err)), 0);
	assert_string_equal(s->last_path,
	                    "/v1.41/containers/json?all=1&limit=1&filters="
	                    "%7B%22label%22%3A%5B%22p.workload.id%22%5D%7D");
	before = s->requests;
	assert_int_equal(
	    docker_list_ids(d, "p.", bad, 2, &body, &len, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not hex"));
	assert_int_equal(
	    docker_list_ids(d, "p.", ids, 0, &body, &len, err, sizeof(err)),
	    -1);
	for (i = 0; i <= DOCKER_IDS_MAX; i++)
		many[i] = "abcdef";
	assert_int_equal(docker_list_ids(d, "p.", many, DOCKER_IDS_MAX + 1,
	                                 &body, &len, err, sizeof(err)),
	                 -1);
	/* None of these asked the daemon anything. */
	assert_int_equal(s->requests, before);
	docker_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_host),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test_setup_teardown(test_negotiate_new, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_negotiate_old, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_status, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_too_big, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_huge_released, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_list_filters, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_events, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_events_since, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_events_cut, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_events_abort, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_events_silent, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_events_refused, srv_setup,
	                                    srv_teardown),
	    cmocka_unit_test_setup_teardown(test_events_cancel, srv_setup,
	                                    srv_teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* the fake server writes on after a client gave up: EPIPE, not a
	 * signal, as in the lister (sig_setup) */
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
