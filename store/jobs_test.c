/*
 * jobs_test.c: dispatch jobs on a real LMDB environment and real nng
 * sockets (inproc): what a pass, a state change and a manual request
 * send, and how jobs wait and fold while no dispatcher listens.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "jobs.h"
#include "nngx.h"
#include "ingest.h"
#include "results.h"
#include "store.h"
#include "testfx.h"
#include "util.h"
#include "wire.h"
#include "wirejson.h"

struct fx {
	char dir[64];
	char url[64];
	struct db *db;
	struct store st;
	struct jobs j;
	nng_socket push, pull;
	bool listening;
	struct arena *a;
	uint64_t gen;
	size_t npubs;
};

static void
count_pub(void *arg, const void *msg, size_t len)
{
	struct fx *fx = arg;

	assert_non_null(memchr(msg, '\0', len));
	fx->npubs++;
}

static void
fx_listen(struct fx *fx)
{
	struct nngx_listen_opts lo = {.max_msg = 1 << 24, .admin_uid = -1};

	assert_int_equal(nngx_listen(&fx->pull, NNGX_PULL, fx->url, &lo), 0);
	fx->listening = true;
}

static struct fx *
fx_open(bool listen)
{
	static int seq;
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testfx_mkdtemp(fx->dir, sizeof(fx->dir), "jobs");
	snprintf(fx->url, sizeof(fx->url), "inproc://jobs-test-%d", ++seq);
	fx->db = testfx_db_open(fx->dir, 1 << 20, 1 << 28, 100000);
	assert_int_equal(store_init(&fx->st, fx->db, "tinyforge.", -1), 0);
	if (listen)
		fx_listen(fx);
	assert_int_equal(nngx_dial(&fx->push, NNGX_PUSH, fx->url, 1 << 24), 0);
	jobs_init(&fx->j, fx->db, fx->push);
	fx->st.jobs = &fx->j;
	db_set_publish(fx->db, count_pub, fx);
	fx->a = arena_new();
	return fx;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	nng_close(fx->push);
	if (fx->listening)
		nng_close(fx->pull);
	jobs_fini(&fx->j);
	store_fini(&fx->st);
	db_close(fx->db);
	testfx_rmdir(fx->dir);
	arena_free(fx->a);
	free(fx);
	return 0;
}

static int
setup(void **state)
{
	*state = fx_open(true);
	return 0;
}

static int
setup_down(void **state)
{
	*state = fx_open(false);
	return 0;
}

/* Sends rq as uid; returns the reply as JSON (caller puts it). */
static json_object *
call_as(struct fx *fx, const struct wire_request *rq, int64_t uid)
{
	json_object *o = NULL;

	testfx_call_as(&fx->st, rq, uid, &o);
	return o;
}

static const char *
jstr(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return "";
	if (b != NULL && !json_object_object_get_ex(v, b, &v))
		return "";
	return json_object_get_string(v);
}

static void
put_workload(struct fx *fx, const char *id, const char *kind,
             const char *source_kind, const char *name)
{
	struct wire_request rq = {.t = "workload.put"};
	struct wire_workload w = {0};
	json_object *o;

	w.id = (char *)id;
	w.name = (char *)name;
	w.kind = (char *)kind;
	w.source_kind = (char *)source_kind;
	w.notification_secret = "s3cret";
	rq.workload = &w;
	o = call_as(fx, &rq, 0);
	assert_string_equal(jstr(o, "ok", NULL), "true");
	json_object_put(o);
}

/* A snapshot of host h1 naming the containers c-<wid> with these states. */
static void
snapshot(struct fx *fx, bool complete, int n, const char *const *wids,
         const char *const *states)
{
	struct wire_container cs[8];
	struct wire_kv lbl[8];
	struct wire_snapshot s = {0};
	char ids[8][64];
	int i;

	assert_true(n <= 8);
	for (i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "c-%s", wids[i]);
		memset(&cs[i], 0, sizeof(cs[i]));
		lbl[i].key = "tinyforge.workload.id";
		lbl[i].val = (char *)wids[i];
		cs[i].id = ids[i];
		cs[i].image = "img";
		cs[i].state = (char *)states[i];
		cs[i].created = 1;
		cs[i].labels = &lbl[i];
		cs[i].nlabels = 1;
	}
	s.host = "h1";
	s.gen = ++fx->gen;
	s.taken_at = now_ms();
	s.complete = complete;
	s.containers = cs;
	s.ncontainers = (size_t)n;
	assert_int_equal(ingest_snapshot(&fx->st, &s, NULL), 0);
}

/* The next job on the pull socket within ms, decoded into fx->a; -1 if
 * none came. */
static int
recv_job(struct fx *fx, int ms, struct wire_dispatch *d)
{
	struct pollfd pfd = {nngx_recv_fd(fx->pull), POLLIN, 0};
	char err[WIRE_ERR_LEN];
	nng_msg *m;
	int r;

	if (nngx_try_recv(fx->pull, &m) != 1) {
		if (poll(&pfd, 1, ms) != 1 || nngx_try_recv(fx->pull, &m) != 1)
			return -1;
	}
	r = wire_decode_dispatch(nng_msg_body(m), nng_msg_len(m), fx->a, d,
	                         err);
	nng_msg_free(m);
	assert_int_equal(r, 0);
	return 0;
}

/* Flushes until nothing waits (the dialer connects in the background). */
static void
flush_all(struct fx *fx)
{
	int i;

	for (i = 0; i < 200 && jobs_flush(&fx->j, true) == -1; i++)
		usleep(10000);
	assert_int_equal(jobs_timeout(&fx->j), -1);
}

static const struct wire_job_item *
item(const struct wire_dispatch *d, const char *wid)
{
	size_t i;

	for (i = 0; i < d->nitems; i++)
		if (strcmp(d->items[i].workload.id, wid) == 0)
			return &d->items[i];
	return NULL;
}

static void
test_state_worthy(void **state)
{
	static const struct {
		const char *prev, *now;
		bool want;
	} cases[] = {
	    {"running", "missing", true},
	    {"running", "stopped", true},
	    {"running", "paused", true},
	    {"running", "restarting", true},
	    {"stopped", "missing", true},
	    {"created", "stopped", true},
	    {"", "stopped", true},
	    {"", "running", false},
	    {"stopped", "running", false},
	    {"missing", "running", false},
	    {"missing", "missing", false},
	    {"stopped", "stopped", false},
	    {"created", "restarting", false},
	    {"", "created", false},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (jobs_state_worthy(cases[i].prev, cases[i].now) !=
		    cases[i].want)
			fail_msg("%s -> %s: want %d", cases[i].prev,
			         cases[i].now, cases[i].want);
	}
}

/* R11: a complete snapshot sends every workload with a source_kind, with
 * its secrets and rows; an incomplete one sends nothing. */
static void
test_pass_job(void **state)
{
	struct fx *fx = *state;
	const char *wids[] = {"w1", "w2", "w3"};
	const char *run3[] = {"running", "running", "running"};
	const struct wire_job_item *it;
	struct wire_dispatch d;

	put_workload(fx, "w1", "site", "git", "one");
	put_workload(fx, "w2", "stack", "", "two");
	put_workload(fx, "w3", "stack", "x", "three");
	snapshot(fx, false, 3, wids, run3);
	jobs_flush(&fx->j, true);
	assert_int_equal(recv_job(fx, 100, &d), -1);

	snapshot(fx, true, 3, wids, run3);
	flush_all(fx);
	assert_int_equal(recv_job(fx, 1000, &d), 0);
	assert_string_equal(d.reason, "pass");
	assert_int_equal(d.nitems, 2);
	assert_null(item(&d, "w2"));
	assert_non_null(it = item(&d, "w1"));
	assert_string_equal(it->workload.source_kind, "git");
	assert_string_equal(it->workload.notification_secret, "s3cret");
	assert_int_equal(it->nrows, 1);
	assert_string_equal(it->rows[0].id, "w1:site");
	assert_string_equal(it->rows[0].state, "running");
	assert_non_null(it = item(&d, "w3"));
	assert_int_equal(it->nrows, 1);
	assert_string_equal(it->rows[0].container_id, "c-w3");
	assert_int_equal(recv_job(fx, 100, &d), -1);
}

/* A row that goes missing or stops sends a state job for its workload
 * alone, besides the pass job of the snapshot that saw it. */
static void
test_state_job(void **state)
{
	struct fx *fx = *state;
	const char *wids[] = {"w1", "w2", "w3"};
	const char *run3[] = {"running", "running", "running"};
	const char *later[] = {"w2", "w3"};
	const char *exited[] = {"exited", "exited"};
	struct wire_dispatch d;
	bool seen_state = false, seen_pass = false;
	int i;

	put_workload(fx, "w1", "site", "git", "one");
	put_workload(fx, "w2", "stack", "", "two");
	put_workload(fx, "w3", "stack", "x", "three");
	snapshot(fx, true, 3, wids, run3);
	flush_all(fx);
	assert_int_equal(recv_job(fx, 1000, &d), 0);

	/* w1's container is gone, w2's (no source_kind) and w3's stopped */
	snapshot(fx, true, 2, later, exited);
	flush_all(fx);
	for (i = 0; i < 2; i++) {
		assert_int_equal(recv_job(fx, 1000, &d), 0);
		if (strcmp(d.reason, "state") == 0) {
			seen_state = true;
			assert_int_equal(d.nitems, 2);
			assert_string_equal(item(&d, "w1")->rows[0].state,
			                    "missing");
			assert_string_equal(item(&d, "w3")->rows[0].state,
			                    "stopped");
			assert_null(item(&d, "w2"));
		} else {
			seen_pass = true;
			assert_string_equal(d.reason, "pass");
		}
	}
	assert_true(seen_state && seen_pass);
	assert_int_equal(recv_job(fx, 100, &d), -1);

	/* the same state again is no news */
	snapshot(fx, true, 2, later, exited);
	flush_all(fx);
	assert_int_equal(recv_job(fx, 1000, &d), 0);
	assert_string_equal(d.reason, "pass");
	assert_int_equal(recv_job(fx, 100, &d), -1);
}

/* The store's head revision. */
static uint64_t
head(struct fx *fx)
{
	struct wire_request rq = {.t = "stats"};
	json_object *o = call_as(fx, &rq, 0), *v;
	uint64_t rev;

	assert_true(json_object_object_get_ex(o, "rev", &v));
	rev = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	return rev;
}

/* Drains the jobs sent: how many named wid with reason. */
static int
drain(struct fx *fx, const char *reason, const char *wid)
{
	struct wire_dispatch d;
	int n = 0;

	flush_all(fx);
	while (recv_job(fx, 200, &d) == 0)
		if (strcmp(d.reason, reason) == 0 && item(&d, wid) != NULL)
			n++;
	return n;
}

/* A plugin result of wid, given the records of rev (0: it did not run). */
static void
result(struct fx *fx, const char *wid, const char *reason, uint64_t rev)
{
	struct wire_plugin_result pr = {0};

	pr.workload_id = (char *)wid;
	pr.reason = (char *)reason;
	pr.ok = true;
	pr.started_at = now_ms();
	pr.rev = rev;
	assert_int_equal(results_apply(&fx->st, &pr), 0);
}

/* A state run is owed from the change that calls for it until a state
 * run given that change's records reports back: asked for again (a
 * dispatcher that died, a store that restarted) until then, and only
 * then paid. */
static void
test_state_owed(void **state)
{
	struct fx *fx = *state;
	const char *wids[] = {"w1", "w2"};
	const char *run[] = {"running", "running"};
	const char *exited[] = {"exited", "exited"};
	uint64_t before, after;

	put_workload(fx, "w1", "site", "git", "one");
	put_workload(fx, "w2", "stack", "", "two");
	snapshot(fx, true, 2, wids, run);
	assert_int_equal(drain(fx, "pass", "w1"), 1);
	assert_int_equal(jobs_owed(&fx->j), 0);

	before = head(fx);
	snapshot(fx, true, 2, wids, exited);
	after = head(fx);
	assert_int_equal(drain(fx, "state", "w1"), 1);
	/* the job went, but no run reported back: owed still (w2 has no
	 * plugin: forgotten) */
	assert_int_equal(jobs_owed(&fx->j), 1);
	assert_int_equal(drain(fx, "state", "w1"), 1);
	/* a state run given records from before the change, one that did
	 * not run (rev 0) or a pass run pays nothing */
	result(fx, "w1", "state", before);
	result(fx, "w1", "state", 0);
	result(fx, "w1", "pass", after);
	assert_int_equal(jobs_owed(&fx->j), 1);
	assert_int_equal(drain(fx, "state", "w1"), 1);
	result(fx, "w1", "state", after);
	assert_int_equal(jobs_owed(&fx->j), 0);
	assert_int_equal(drain(fx, "state", "w1"), 0);
	assert_int_equal(fx->j.owed_asked, 2);
}

/* A workload without a source_kind gets no state job, and a job left
 * with no workload is not sent at all. */
static void
test_state_without_source_kind(void **state)
{
	struct fx *fx = *state;
	const char *wids[] = {"w2"};
	const char *run[] = {"running"};
	const char *none[] = {NULL};
	struct wire_dispatch d;

	put_workload(fx, "w2", "stack", "", "two");
	snapshot(fx, true, 1, wids, run);
	snapshot(fx, true, 0, none, none);
	assert_int_equal(fx->st.ctr[STC_ROWS_MISSING], 1);
	flush_all(fx);
	assert_int_equal(recv_job(fx, 200, &d), -1);
	assert_int_equal(fx->j.sent, 0);
}

/* The manual request: validated like a write, answered sent or queued. */
static void
test_dispatch_request(void **state)
{
	struct fx *fx = *state;
	struct wire_request rq = {.t = "dispatch", .id = "w1"};
	struct wire_dispatch d;
	json_object *o;

	put_workload(fx, "w1", "site", "git", "one");
	put_workload(fx, "w2", "stack", "", "two");
	o = call_as(fx, &rq, 0);
	assert_string_equal(jstr(o, "ok", NULL), "true");
	assert_string_equal(jstr(o, "job", NULL), "sent");
	json_object_put(o);
	assert_int_equal(recv_job(fx, 1000, &d), 0);
	assert_string_equal(d.reason, "manual");
	assert_int_equal(d.nitems, 1);
	assert_string_equal(d.items[0].workload.id, "w1");

	o = call_as(fx, &rq, 999);
	assert_string_equal(jstr(o, "error", "code"), "forbidden");
	json_object_put(o);
	rq.id = "nosuch";
	o = call_as(fx, &rq, 0);
	assert_string_equal(jstr(o, "error", "code"), "not_found");
	json_object_put(o);
	rq.id = "w2";
	o = call_as(fx, &rq, 0);
	assert_string_equal(jstr(o, "error", "code"), "invalid");
	json_object_put(o);
	rq.id = NULL;
	o = call_as(fx, &rq, 0);
	assert_string_equal(jstr(o, "error", "code"), "invalid");
	json_object_put(o);
	assert_int_equal(recv_job(fx, 100, &d), -1);
}

/* No dispatcher: nothing blocks, jobs wait folded per reason, and go with
 * the latest records once one listens. */
static void
test_fold_while_down(void **state)
{
	struct fx *fx = *state;
	struct wire_request rq = {.t = "dispatch", .id = "w1"};
	const char *wids[] = {"w1"};
	const char *run[] = {"running"};
	struct wire_dispatch d;
	json_object *o;
	int64_t t0;
	int i, n;

	put_workload(fx, "w1", "site", "git", "one");
	put_workload(fx, "w3", "stack", "x", "three");
	t0 = mono_ms();
	for (i = 0; i < 5; i++) {
		snapshot(fx, true, 1, wids, run);
		o = call_as(fx, &rq, 0);
		assert_string_equal(jstr(o, "job", NULL), "queued");
		json_object_put(o);
		assert_int_equal(jobs_flush(&fx->j, true), -1);
	}
	assert_true(mono_ms() - t0 < 1000);
	assert_true(jobs_timeout(&fx->j) >= 0);
	assert_true(jobs_timeout(&fx->j) <= JOBS_RETRY_MS);
	assert_true(fx->j.folded >= 8);
	put_workload(fx, "w1", "site", "git", "renamed");

	fx_listen(fx);
	flush_all(fx);
	for (n = 0; recv_job(fx, 300, &d) == 0; n++) {
		assert_true(strcmp(d.reason, "manual") == 0 ||
		            strcmp(d.reason, "pass") == 0);
		assert_string_equal(item(&d, "w1")->workload.name, "renamed");
		if (strcmp(d.reason, "manual") == 0)
			assert_int_equal(d.nitems, 1);
		else
			assert_int_equal(d.nitems, 2);
	}
	assert_int_equal(n, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_worthy),
	    cmocka_unit_test_setup_teardown(test_pass_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_owed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_without_source_kind,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispatch_request, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_fold_while_down, setup_down,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
