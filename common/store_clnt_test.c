/*
 * store_clnt_test.c: the typed clients (store_clnt.h, lister_clnt.h,
 * dispatcher_clnt.h) and their transport (clnt.h) against a real nng REP
 * server on a thread, in a mkdtemp dir, answering canned replies built
 * with the wire_reply_* encoders. Checks what arrives, what decodes, and
 * how fast a missing or forbidden socket fails.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "arena.h"
#include "clnt.h"
#include "dispatcher_clnt.h"
#include "lister_clnt.h"
#include "store_clnt.h"
#include "util.h"
#include "wire.h"

/* The fake server: one REP socket, one thread, the last request kept. */
static struct {
	char dir[64], url[160], path[128];
	nng_socket rep;
	pthread_t thr;
	pthread_mutex_t mu;
	volatile bool stop;
	struct wbuf last; /* the last request's bytes */
	unsigned requests;
} fs;

static const struct wire_row row_fx = {
    .id = "w1:web",
    .workload_id = "w1",
    .workload_kind = "stack",
    .role = "web",
    .container_id = "c0ffee",
    .image_ref = "img:1",
    .host = "local",
    .state = "running",
    .port = 8080,
    .last_seen_at = 1700000000000,
    .subdomain = "shop",
    .created_at = 1600000000000,
};

static const struct wire_workload wl_fx = {
    .id = "w1",
    .name = "one",
    .kind = "stack",
    .source_kind = "git",
    .source_config = "{}",
    .notification_secret = "s3cret",
    .webhook_secret = "wh",
    .webhook_signing_secret = "sig",
    .created_at = 5,
    .plugin = {.runs = 3, .failures = 1, .last_error = "boom"},
};

/* One canned answer for a decoded request. */
static void
fs_answer(const struct wire_request *rq, struct wbuf *out)
{
	const char *t = rq->t;

	if (strcmp(t, "health") == 0) {
		static const struct wire_check checks[] = {
		    {"loop", true, ""},
		    {"docker", false, "no answer in 2s"},
		};
		static const struct wire_counter ctr[] = {
		    {"requests", 41},
		    {"errors", 2},
		};
		struct wire_health h = {
		    .name = "store",
		    .pid = 1234,
		    .version = "0.1.0",
		    .uptime_s = 77,
		    .ready = !rq->live,
		    .checks = checks,
		    .nchecks = rq->live ? 1 : 2,
		    .counters = ctr,
		    .ncounters = 2,
		};
		wire_reply_health(out, &h);
	} else if (strcmp(t, "containers.list") == 0) {
		struct wire_row rows[2] = {row_fx, row_fx};
		rows[1].id = "w1:db";
		wire_reply_begin(out, 2);
		wire_reply_u64(out, "rev", 7);
		wire_reply_rows(out, "containers", rows, 2);
	} else if (strcmp(t, "container.get") == 0) {
		if (strcmp(rq->id, "garbage") == 0) {
			/* a map that says ok but has no container */
			wire_reply_begin(out, 1);
			wire_reply_u64(out, "rev", 1);
		} else if (strcmp(rq->id, "nosuch") == 0) {
			wire_reply_error(out, "not_found",
			                 "no container row nosuch");
		} else {
			struct wire_row r = row_fx;
			r.id = rq->id;
			wire_reply_begin(out, 2);
			wire_reply_u64(out, "rev", 8);
			wire_reply_row(out, "container", &r);
		}
	} else if (strcmp(t, "container.put") == 0 ||
	           strcmp(t, "container.delete") == 0 ||
	           strcmp(t, "workload.delete") == 0) {
		wire_reply_begin(out, 1);
		wire_reply_u64(out, "rev", 9);
	} else if (strcmp(t, "workload.put") == 0) {
		if (strcmp(rq->workload->id, "deny") == 0)
			wire_reply_error(out, "forbidden",
			                 "this uid may not write");
		else {
			wire_reply_begin(out, 1);
			wire_reply_u64(out, "rev", 10);
		}
	} else if (strcmp(t, "workloads.list") == 0) {
		wire_reply_begin(out, 2);
		wire_reply_u64(out, "rev", 11);
		wire_reply_workloads(out, "workloads", &wl_fx, 1, false);
	} else if (strcmp(t, "workload.get") == 0) {
		struct wire_workload w = wl_fx;
		w.id = rq->id; /* the threads test tells answers apart */
		wire_reply_begin(out, 2);
		wire_reply_u64(out, "rev", 12);
		wire_reply_workload(out, "workload", &w, rq->secrets);
	} else if (strcmp(t, "events.since") == 0) {
		if (rq->rev == 1) {
			wire_reply_error(out, "compacted", "kept from rev 5");
			return;
		}
		struct wbuf items = {0};
		struct wire_row r = row_fx;
		struct wire_event ev = {.type = WIRE_EV_CONTAINER,
		                        .op = "upsert",
		                        .row = &r,
		                        .prev_state = "",
		                        .at = 3};
		ev.rev = rq->rev + 1;
		wire_encode_event(&items, &ev);
		ev.rev = rq->rev + 2;
		wire_encode_event(&items, &ev);
		wire_reply_begin(out, 2);
		wire_reply_u64(out, "rev", 100);
		wire_reply_raw_array(out, "events", &items, 2);
		wbuf_free(&items);
	} else if (strcmp(t, "stats") == 0) {
		static const struct wire_counter ctr[] = {{"passes", 4}};
		wire_reply_begin(out, 4);
		wire_reply_u64(out, "rev", 13);
		wire_reply_u64(out, "oldest_rev", 2);
		wire_reply_u64(out, "rows", 6);
		wire_reply_counters(out, "counters", ctr, 1);
	} else if (strcmp(t, "dispatch") == 0) {
		wire_reply_begin(out, 2);
		wire_reply_u64(out, "rev", 14);
		wire_reply_str(out, "job", "sent");
	} else if (strcmp(t, "resync") == 0) {
		wire_reply_begin(out, 0);
	} else if (strcmp(t, "hosts.list") == 0) {
		static const struct wire_host hs[] = {
		    {"h1", "live", 1700000000000, 7, 30000, 3},
		    {"h2", "stale", 1690000000000, 9, 500, 0},
		};
		wire_reply_begin(out, 2);
		wire_reply_u64(out, "rev", 15);
		wire_reply_hosts(out, "hosts", hs, 2);
	} else if (strcmp(t, "hosts.forget") == 0) {
		if (strcmp(rq->host, "h9") == 0) {
			wire_reply_error(out, "not_found", "no host h9");
			return;
		}
		wire_reply_begin(out, 2);
		wire_reply_u64(out, "rev", 16);
		wire_reply_u64(out, "missing", 3);
	} else {
		wire_reply_error(out, "unknown", t);
	}
}

static void *
fs_main(void *arg)
{
	struct wire_request rq;
	struct wbuf out = {0};
	struct arena *a;
	char err[WIRE_ERR_LEN];
	nng_msg *m;

	while (!fs.stop) {
		if (nng_recvmsg(fs.rep, &m, 0) != 0)
			continue; /* the receive timeout: look at stop */
		a = arena_new();
		wbuf_reset(&out);
		pthread_mutex_lock(&fs.mu);
		wbuf_reset(&fs.last);
		fs.last.len = 0;
		fs.last.data = realloc(fs.last.data, nng_msg_len(m) + 1);
		memcpy(fs.last.data, nng_msg_body(m), nng_msg_len(m));
		fs.last.len = fs.last.cap = nng_msg_len(m);
		fs.requests++;
		pthread_mutex_unlock(&fs.mu);
		if (wire_decode_request(nng_msg_body(m), nng_msg_len(m), a, &rq,
		                        err) == -1)
			wire_reply_error(&out, "invalid", err);
		else
			fs_answer(&rq, &out);
		nng_msg_clear(m);
		nng_msg_append(m, out.data, out.len);
		if (nng_sendmsg(fs.rep, m, 0) != 0)
			nng_msg_free(m);
		arena_free(a);
	}
	wbuf_free(&out);
	return NULL;
}

static int
setup(void **state)
{
	snprintf(fs.dir, sizeof(fs.dir), "/tmp/clnt_test.XXXXXX");
	if (mkdtemp(fs.dir) == NULL)
		return -1;
	snprintf(fs.path, sizeof(fs.path), "%s/store.ctl", fs.dir);
	snprintf(fs.url, sizeof(fs.url), "ipc://%s", fs.path);
	pthread_mutex_init(&fs.mu, NULL);
	if (nng_rep0_open(&fs.rep) != 0 ||
	    nng_socket_set_ms(fs.rep, NNG_OPT_RECVTIMEO, 50) != 0 ||
	    nng_listen(fs.rep, fs.url, NULL, 0) != 0)
		return -1;
	fs.stop = false;
	return pthread_create(&fs.thr, NULL, fs_main, NULL) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	fs.stop = true;
	pthread_join(fs.thr, NULL);
	nng_close(fs.rep);
	unlink(fs.path);
	rmdir(fs.dir);
	wbuf_free(&fs.last);
	return 0;
}

/* The last request as the server decoded it (arena a). */
static struct wire_request
last_request(struct arena *a)
{
	struct wire_request rq;
	char err[WIRE_ERR_LEN];

	pthread_mutex_lock(&fs.mu);
	assert_int_equal(
	    wire_decode_request(fs.last.data, fs.last.len, a, &rq, err), 0);
	pthread_mutex_unlock(&fs.mu);
	return rq;
}

static void
test_health(void **state)
{
	struct clnt *c = clnt_new(fs.url, 2000);
	struct clnt_result r = {0};
	struct wire_health h;
	struct arena *a = arena_new();
	struct wire_request rq;

	assert_int_equal(store_clnt_health(c, false, &r, &h), CLNT_OK);
	assert_string_equal(h.name, "store");
	assert_int_equal(h.pid, 1234);
	assert_string_equal(h.version, "0.1.0");
	assert_int_equal(h.uptime_s, 77);
	assert_true(h.ready);
	assert_int_equal(h.nchecks, 2);
	assert_string_equal(h.checks[1].name, "docker");
	assert_false(h.checks[1].ok);
	assert_string_equal(h.checks[1].detail, "no answer in 2s");
	assert_int_equal(h.ncounters, 2);
	assert_string_equal(h.counters[0].name, "requests");
	assert_int_equal(h.counters[0].value, 41);
	rq = last_request(a);
	assert_string_equal(rq.t, "health");
	assert_false(rq.live);
	/* the raw reply stays for printing */
	assert_true(r.reply.len > 0);

	assert_int_equal(lister_clnt_health(c, true, &r, &h), CLNT_OK);
	assert_false(h.ready);
	rq = last_request(a);
	assert_true(rq.live);
	assert_int_equal(dispatcher_clnt_health(c, false, &r, NULL), CLNT_OK);
	clnt_result_free(&r);
	clnt_free(c);
	arena_free(a);
}

static void
test_containers(void **state)
{
	struct clnt *c = clnt_new(fs.url, 2000);
	struct clnt_result r = {0};
	struct store_filter f = {.workload_id = "w1", .state = "running"};
	struct wire_rows_reply rows;
	struct wire_row_reply one;
	struct wire_write_reply w;
	struct arena *a = arena_new();
	struct wire_request rq;

	assert_int_equal(store_clnt_containers_list(c, &f, &r, &rows), CLNT_OK);
	assert_int_equal(rows.rev, 7);
	assert_int_equal(rows.nrows, 2);
	assert_string_equal(rows.rows[1].id, "w1:db");
	assert_int_equal(rows.rows[0].port, 8080);
	assert_string_equal(rows.rows[0].subdomain, "shop");
	rq = last_request(a);
	assert_string_equal(rq.t, "containers.list");
	assert_string_equal(rq.workload_id, "w1");
	assert_string_equal(rq.state, "running");
	assert_null(rq.host);

	assert_int_equal(store_clnt_container_get(c, "w1:x", &r, &one),
	                 CLNT_OK);
	assert_int_equal(one.rev, 8);
	assert_string_equal(one.row.id, "w1:x");
	assert_string_equal(one.row.image_ref, "img:1");

	assert_int_equal(store_clnt_container_put(c, &row_fx, &r, &w), CLNT_OK);
	assert_int_equal(w.rev, 9);
	assert_string_equal(w.job, "");
	rq = last_request(a);
	assert_string_equal(rq.t, "container.put");
	assert_non_null(rq.row);
	assert_string_equal(rq.row->id, "w1:web");
	assert_string_equal(rq.row->container_id, "c0ffee");
	assert_int_equal(rq.row->port, 8080);

	assert_int_equal(store_clnt_container_delete(c, "w1:web", &r, &w),
	                 CLNT_OK);
	assert_int_equal(w.rev, 9);
	rq = last_request(a);
	assert_string_equal(rq.t, "container.delete");
	assert_string_equal(rq.id, "w1:web");
	clnt_result_free(&r);
	clnt_free(c);
	arena_free(a);
}

static void
test_workloads(void **state)
{
	struct clnt *c = clnt_new(fs.url, 2000);
	struct clnt_result r = {0};
	struct wire_workloads_reply ws;
	struct wire_workload_reply one;
	struct wire_write_reply w;
	struct arena *a = arena_new();
	struct wire_request rq;

	assert_int_equal(store_clnt_workloads_list(c, &r, &ws), CLNT_OK);
	assert_int_equal(ws.rev, 11);
	assert_int_equal(ws.nworkloads, 1);
	assert_string_equal(ws.workloads[0].source_kind, "git");
	assert_string_equal(ws.workloads[0].notification_secret, "");
	assert_int_equal(ws.workloads[0].plugin.runs, 3);
	assert_string_equal(ws.workloads[0].plugin.last_error, "boom");

	assert_int_equal(store_clnt_workload_get(c, "w1", true, &r, &one),
	                 CLNT_OK);
	assert_string_equal(one.workload.notification_secret, "s3cret");
	rq = last_request(a);
	assert_string_equal(rq.t, "workload.get");
	assert_true(rq.secrets);
	assert_int_equal(store_clnt_workload_get(c, "w1", false, &r, &one),
	                 CLNT_OK);
	assert_string_equal(one.workload.notification_secret, "");
	rq = last_request(a);
	assert_false(rq.secrets);

	assert_int_equal(store_clnt_workload_put(c, &wl_fx, &r, &w), CLNT_OK);
	assert_int_equal(w.rev, 10);
	rq = last_request(a);
	assert_string_equal(rq.t, "workload.put");
	assert_string_equal(rq.workload->name, "one");
	/* a put carries the secrets */
	assert_string_equal(rq.workload->webhook_signing_secret, "sig");

	assert_int_equal(store_clnt_workload_delete(c, "w1", &r, NULL),
	                 CLNT_OK);
	rq = last_request(a);
	assert_string_equal(rq.t, "workload.delete");
	assert_string_equal(rq.id, "w1");
	clnt_result_free(&r);
	clnt_free(c);
	arena_free(a);
}

static void
test_refused(void **state)
{
	struct clnt *c = clnt_new(fs.url, 2000);
	struct clnt_result r = {0};
	struct wire_workload w = wl_fx;
	struct wire_row_reply one;

	w.id = "deny";
	assert_int_equal(store_clnt_workload_put(c, &w, &r, NULL),
	                 CLNT_REFUSED);
	assert_string_equal(r.code, "forbidden");
	assert_string_equal(r.message, "this uid may not write");
	assert_non_null(strstr(r.err, "forbidden"));
	assert_true(r.reply.len > 0);

	assert_int_equal(store_clnt_container_get(c, "nosuch", &r, &one),
	                 CLNT_REFUSED);
	assert_string_equal(r.code, "not_found");
	/* ok, but not the shape asked for */
	assert_int_equal(store_clnt_container_get(c, "garbage", &r, &one),
	                 CLNT_BADREPLY);
	assert_non_null(strstr(r.err, "container"));
	/* without an out-param only the status is read */
	assert_int_equal(store_clnt_container_get(c, "garbage", &r, NULL),
	                 CLNT_OK);
	clnt_result_free(&r);
	clnt_free(c);
}

static void
test_events_since(void **state)
{
	struct clnt *c = clnt_new(fs.url, 2000);
	struct clnt_result r = {0};
	struct wire_span *sp;
	struct wire_event ev;
	struct arena *a = arena_new();
	struct wire_request rq;
	char err[WIRE_ERR_LEN];
	uint64_t head;
	size_t n;

	assert_int_equal(
	    store_clnt_events_since(c, 40, 10, "w1", &r, &head, &sp, &n),
	    CLNT_OK);
	assert_int_equal(head, 100);
	assert_int_equal(n, 2);
	assert_int_equal(wire_decode_event(sp[1].p, sp[1].len, a, &ev, err), 0);
	assert_int_equal(ev.rev, 42);
	assert_string_equal(ev.row->id, "w1:web");
	rq = last_request(a);
	assert_string_equal(rq.t, "events.since");
	assert_int_equal(rq.rev, 40);
	assert_int_equal(rq.limit, 10);
	assert_string_equal(rq.workload_id, "w1");

	assert_int_equal(
	    store_clnt_events_since(c, 1, 10, NULL, &r, &head, &sp, &n),
	    CLNT_REFUSED);
	assert_string_equal(r.code, "compacted");
	clnt_result_free(&r);
	clnt_free(c);
	arena_free(a);
}

static void
test_stats_dispatch_resync(void **state)
{
	struct clnt *c = clnt_new(fs.url, 2000);
	struct clnt_result r = {0};
	struct wire_stats_reply st;
	struct wire_write_reply w;
	struct arena *a = arena_new();
	struct wire_request rq;

	assert_int_equal(store_clnt_stats(c, &r, &st), CLNT_OK);
	assert_int_equal(st.rev, 13);
	assert_int_equal(st.oldest_rev, 2);
	assert_int_equal(st.rows, 6);
	assert_int_equal(st.ncounters, 1);
	assert_string_equal(st.counters[0].name, "passes");
	assert_int_equal(st.counters[0].value, 4);

	assert_int_equal(store_clnt_dispatch(c, "w1", &r, &w), CLNT_OK);
	assert_int_equal(w.rev, 14);
	assert_string_equal(w.job, "sent");
	assert_int_equal(dispatcher_clnt_dispatch(c, "w2", &r, &w), CLNT_OK);
	assert_string_equal(w.job, "sent");
	rq = last_request(a);
	assert_string_equal(rq.t, "dispatch");
	assert_string_equal(rq.id, "w2");

	assert_int_equal(lister_clnt_resync(c, &r), CLNT_OK);
	rq = last_request(a);
	assert_string_equal(rq.t, "resync");
	clnt_result_free(&r);
	clnt_free(c);
	arena_free(a);
}

static void
test_hosts(void **state)
{
	struct clnt *c = clnt_new(fs.url, 2000);
	struct clnt_result r = {0};
	struct wire_hosts_reply hs;
	struct wire_write_reply w;
	struct arena *a = arena_new();
	struct wire_request rq;

	assert_int_equal(store_clnt_hosts_list(c, &r, &hs), CLNT_OK);
	assert_int_equal(hs.rev, 15);
	assert_int_equal(hs.nhosts, 2);
	assert_string_equal(hs.hosts[0].host, "h1");
	assert_string_equal(hs.hosts[0].state, "live");
	assert_int_equal(hs.hosts[0].last_seen_at, 1700000000000);
	assert_int_equal(hs.hosts[0].gen, 7);
	assert_int_equal(hs.hosts[0].interval_ms, 30000);
	assert_int_equal(hs.hosts[0].rows, 3);
	assert_string_equal(hs.hosts[1].state, "stale");

	assert_int_equal(store_clnt_hosts_forget(c, "h2", &r, &w), CLNT_OK);
	assert_int_equal(w.rev, 16);
	assert_int_equal(w.missing, 3);
	rq = last_request(a);
	assert_string_equal(rq.t, "hosts.forget");
	assert_string_equal(rq.host, "h2");
	assert_null(rq.id);
	/* refused: the server's code */
	assert_int_equal(store_clnt_hosts_forget(c, "h9", &r, &w),
	                 CLNT_REFUSED);
	assert_string_equal(r.code, "not_found");
	clnt_result_free(&r);
	clnt_free(c);
	arena_free(a);
}

static void
test_no_socket(void **state)
{
	char url[200];
	struct clnt *c;
	struct clnt_result r = {0};
	int64_t t0;

	snprintf(url, sizeof(url), "ipc://%s/nosuch.ctl", fs.dir);
	c = clnt_new(url, 5000);
	t0 = mono_ms();
	assert_int_equal(store_clnt_health(c, false, &r, NULL),
	                 CLNT_UNREACHABLE);
	assert_true(mono_ms() - t0 < 100);
	assert_non_null(strstr(r.err, "no such socket"));
	clnt_result_free(&r);
	clnt_free(c);
}

/* A server that takes requests and never answers: the timeout bounds it. */
static void
test_timeout(void **state)
{
	char url[200];
	nng_socket mute;
	struct clnt *c;
	struct clnt_result r = {0};
	int64_t t0, dt;

	snprintf(url, sizeof(url), "ipc://%s/mute.ctl", fs.dir);
	assert_int_equal(nng_rep0_open(&mute), 0);
	assert_int_equal(nng_listen(mute, url, NULL, 0), 0);
	c = clnt_new(url, 200);
	t0 = mono_ms();
	assert_int_equal(store_clnt_stats(c, &r, NULL), CLNT_UNREACHABLE);
	dt = mono_ms() - t0;
	assert_true(dt >= 150 && dt < 2000);
	clnt_result_free(&r);
	clnt_free(c);
	nng_close(mute);
	unlink(url + 6);
}

/*
 * A socket we may not open fails at once with "permission denied". Root
 * passes every mode check, so the call runs in a child that drops to
 * nobody (uid 65534) first; the child does no nng call (nng is not
 * fork-safe): the check comes before any socket is opened. Exit codes:
 * 0 as expected, 1 wrong status, 2 wrong text, 3 too slow, 4 setup.
 */
static int
denied_child(const char *url)
{
	struct clnt_result r = {0};
	struct clnt *c;
	int64_t t0;

	if (geteuid() == 0 && setresgid(65534, 65534, 65534) == -1)
		return 4;
	if (geteuid() == 0 && setresuid(65534, 65534, 65534) == -1)
		return 4;
	if ((c = clnt_new(url, 5000)) == NULL)
		return 4;
	t0 = mono_ms();
	if (clnt_request(c, &(struct wbuf){"", 0, 0}, &r.reply, r.err,
	                 sizeof(r.err)) != CLNT_UNREACHABLE)
		return 1;
	if (strstr(r.err, "permission denied") == NULL)
		return 2;
	if (mono_ms() - t0 > 100)
		return 3;
	return 0;
}

static int
run_denied(const char *url)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) == 0)
		_exit(denied_child(url));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_permission_denied(void **state)
{
	/* the socket's own mode: the dir open, the file 0000 */
	assert_int_equal(chmod(fs.dir, 0755), 0);
	assert_int_equal(chmod(fs.path, 0000), 0);
	assert_int_equal(run_denied(fs.url), 0);
	/* a run dir that is not ours: stat itself fails */
	assert_int_equal(chmod(fs.path, 0666), 0);
	assert_int_equal(chmod(fs.dir, 0700), 0);
	if (geteuid() == 0)
		assert_int_equal(run_denied(fs.url), 0);
	assert_int_equal(chmod(fs.path, 0660), 0);
}

/* Many threads through one dialled handle: each gets its own answer. */
#define NTHREADS 8
#define NCALLS   50

static struct clnt *shared;

static void *
caller_main(void *arg)
{
	struct clnt_result r = {0};
	struct wire_workload_reply w;
	char id[64];
	int i, bad = 0;

	for (i = 0; i < NCALLS; i++) {
		snprintf(id, sizeof(id), "t%d-%d", (int)(intptr_t)arg, i);
		if (store_clnt_workload_get(shared, id, false, &r, &w) !=
		        CLNT_OK ||
		    strcmp(w.workload.id, id) != 0)
			bad++;
	}
	clnt_result_free(&r);
	return (void *)(intptr_t)bad;
}

static void
test_threads(void **state)
{
	pthread_t thr[NTHREADS];
	char err[256];
	void *bad;
	int i, total = 0;
	unsigned before = fs.requests;

	shared = clnt_dial(fs.url, 5000, NULL, NULL, err, sizeof(err));
	assert_non_null(shared);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&thr[i], NULL, caller_main,
		                                (void *)(intptr_t)i),
		                 0);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(thr[i], &bad);
		total += (int)(intptr_t)bad;
	}
	assert_int_equal(total, 0);
	assert_true(clnt_connected(shared) >= 1);
	/* never resent: one request per call */
	assert_int_equal(fs.requests - before, NTHREADS * NCALLS);
	clnt_free(shared);
}

/* A dialled handle ends its calls when shut down, and refuses more. */
static void
test_shutdown(void **state)
{
	struct clnt_result r = {0};
	char err[256];
	struct clnt *c = clnt_dial(fs.url, 2000, NULL, NULL, err, sizeof(err));

	assert_non_null(c);
	assert_int_equal(store_clnt_health(c, false, &r, NULL), CLNT_OK);
	clnt_shutdown(c);
	assert_int_equal(store_clnt_health(c, false, &r, NULL),
	                 CLNT_UNREACHABLE);
	clnt_result_free(&r);
	clnt_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health),
	    cmocka_unit_test(test_containers),
	    cmocka_unit_test(test_workloads),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_events_since),
	    cmocka_unit_test(test_stats_dispatch_resync),
	    cmocka_unit_test(test_hosts),
	    cmocka_unit_test(test_no_socket),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_permission_denied),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_shutdown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
