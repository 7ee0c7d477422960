/*
 * hosts_test.c: what the store knows of lister hosts (SPEC §10), on a real
 * LMDB environment in a temporary directory: the host record each
 * accepted snapshot or delta writes, stale after 3 intervals with its
 * rows left alone, R7 per host, the records and gens across a store
 * restart, hosts.list, hosts.forget, stats and health.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "testfx.h"
#include "util.h"
#include "wire.h"
#include "wirejson.h"

struct fx {
	char dir[64];
	struct db *db;
	struct store st;
	struct arena *a;
	struct testfx_pubs pub;
	json_object *last; /* the last reply, as JSON */
};

/* The store stopped and started again on the same data dir. */
static void
fx_restart(struct fx *fx)
{
	store_fini(&fx->st);
	db_close(fx->db);
	fx->db = testfx_store_open(&fx->st, fx->dir, &fx->pub);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testfx_mkdtemp(fx->dir, sizeof(fx->dir), "hosts");
	fx->a = arena_new();
	fx->pub.a = fx->a;
	fx->db = testfx_store_open(&fx->st, fx->dir, &fx->pub);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_fini(&fx->st);
	db_close(fx->db);
	testfx_rmdir(fx->dir);
	json_object_put(fx->last);
	arena_free(fx->a);
	free(fx);
	return 0;
}

/* ---- input ---- */

static struct rules_result
snapshot(struct fx *fx, const char *host, uint64_t gen, uint64_t interval_ms,
         struct wire_container *cs, size_t n)
{
	struct wire_snapshot s;
	struct rules_result r;

	memset(&s, 0, sizeof(s));
	s.host = (char *)host;
	s.gen = gen;
	s.taken_at = now_ms();
	s.complete = true;
	s.interval_ms = interval_ms;
	s.containers = cs;
	s.ncontainers = n;
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	return r;
}

/* Host hN with containers hN-c0.. of workload wN, roles r0..: rows
 * wN:r0.. */
static struct rules_result
host_pass(struct fx *fx, int h, uint64_t gen, int ncs, const char *state)
{
	struct wire_container cs[8];
	char host[16], wid[16], id[32], role[16];
	int i;

	assert_true(ncs <= 8);
	snprintf(host, sizeof(host), "h%d", h);
	snprintf(wid, sizeof(wid), "w%d", h);
	for (i = 0; i < ncs; i++) {
		snprintf(id, sizeof(id), "h%d-c%d", h, i);
		snprintf(role, sizeof(role), "r%d", i);
		cs[i] = testfx_container(fx->a, id, state, wid, role);
	}
	return snapshot(fx, host, gen, 500, cs, (size_t)ncs);
}

/* ---- reading ---- */

static bool
call_as(struct fx *fx, const struct wire_request *rq, int64_t uid)
{
	return testfx_call_as(&fx->st, rq, uid, &fx->last);
}

static bool
ask(struct fx *fx, const char *t, const char *host)
{
	struct wire_request rq = {.t = (char *)t, .host = (char *)host};

	return call_as(fx, &rq, 0);
}

/* A missing member fails with the whole reply, to see what came instead. */
static json_object *
get(struct fx *fx, const char *path)
{
	json_object *o = testfx_get(fx->last, path);

	if (o == NULL)
		fail_msg("no %s in the reply %s", path,
		         json_object_to_json_string(fx->last));
	return o;
}

static const char *
gets(struct fx *fx, const char *path)
{
	return json_object_get_string(get(fx, path));
}

static int64_t
geti(struct fx *fx, const char *path)
{
	return json_object_get_int64(get(fx, path));
}

/* hosts.list's entry for host, as JSON (NULL: not listed). */
static json_object *
host_entry(struct fx *fx, const char *host)
{
	json_object *hs, *h, *v;
	size_t i;

	assert_true(ask(fx, "hosts.list", NULL));
	hs = get(fx, "hosts");
	for (i = 0; i < json_object_array_length(hs); i++) {
		h = json_object_array_get_idx(hs, i);
		if (json_object_object_get_ex(h, "host", &v) &&
		    strcmp(json_object_get_string(v), host) == 0)
			return h;
	}
	return NULL;
}

static const char *
host_state(struct fx *fx, const char *host)
{
	json_object *h = host_entry(fx, host), *v;

	if (h == NULL || !json_object_object_get_ex(h, "state", &v))
		return "";
	return json_object_get_string(v);
}

static int64_t
host_num(struct fx *fx, const char *host, const char *key)
{
	json_object *h = host_entry(fx, host), *v;

	assert_non_null(h);
	assert_true(json_object_object_get_ex(h, key, &v));
	return json_object_get_int64(v);
}

/* The row's state, "" when there is no such row. */
static const char *
row_state(struct fx *fx, const char *id)
{
	struct wire_row row;

	if (testfx_row(fx->db, fx->a, id, &row) != 1)
		return "";
	return row.state;
}

struct stored {
	const char *host;
	struct wire_host h;
	int found;
	int64_t pass_at;
	struct arena *a;
};

static int
stored_body(struct dbtx *tx, void *arg)
{
	struct stored *s = arg;

	if ((s->found = db_host_get(tx, s->host, s->a, &s->h)) == -1)
		return -1;
	s->pass_at = db_host_seen(tx, s->host);
	return 0;
}

/* The host's record and pass time as LMDB holds them. */
static struct stored
stored(struct fx *fx, const char *host)
{
	struct stored s = {.host = host, .a = fx->a};

	assert_int_equal(db_read(fx->db, stored_body, &s), 0);
	return s;
}

/* Makes host's last message older than n ms. */
static void
age(struct fx *fx, const char *host, int64_t n)
{
	struct store_host *h = store_host_find(&fx->st, host);

	assert_non_null(h);
	h->last_seen_at -= n;
}

/* ---- the cases ---- */

/* Each accepted snapshot writes the host record: gen, the store's clock,
 * the interval the lister said; hosts.list shows it with its rows. */
static void
record_on_snapshot(void **state)
{
	struct fx *fx = *state;
	struct stored s;
	int64_t t0 = now_ms();

	testfx_workload(fx->db, "w1", "stack");
	assert_true(ask(fx, "hosts.list", NULL));
	assert_int_equal(json_object_array_length(get(fx, "hosts")), 0);
	assert_true(host_pass(fx, 1, 100, 3, "running").applied);
	s = stored(fx, "h1");
	assert_int_equal(s.found, 1);
	assert_int_equal(s.h.gen, 100);
	assert_int_equal(s.h.interval_ms, 500);
	assert_true(s.h.last_seen_at >= t0 && s.h.last_seen_at <= now_ms());
	assert_string_equal(host_state(fx, "h1"), "live");
	assert_int_equal(host_num(fx, "h1", "gen"), 100);
	assert_int_equal(host_num(fx, "h1", "rows"), 3);
	assert_int_equal(host_num(fx, "h1", "interval_ms"), 500);
	assert_int_equal(host_num(fx, "h1", "last_seen_at"), s.h.last_seen_at);
	assert_true(geti(fx, "rev") > 0);
}

/* No interval_ms (an older lister): 30 s; more than 5 min: 5 min. */
static void
interval_default_and_clamp(void **state)
{
	struct fx *fx = *state;

	snapshot(fx, "old", 1, 0, NULL, 0);
	assert_int_equal(host_num(fx, "old", "interval_ms"),
	                 STORE_INTERVAL_DEFAULT_MS);
	snapshot(fx, "slow", 1, UINT64_MAX, NULL, 0);
	assert_int_equal(host_num(fx, "slow", "interval_ms"),
	                 STORE_INTERVAL_MAX_MS);
	/* 89 s since an older lister's last word: live; past 90 s: stale */
	age(fx, "old", 3 * STORE_INTERVAL_DEFAULT_MS - 1000);
	assert_string_equal(host_state(fx, "old"), "live");
	age(fx, "old", 2000);
	assert_string_equal(host_state(fx, "old"), "stale");
	/* a record that says anything is read safely */
	store_host_find(&fx->st, "slow")->last_seen_at = INT64_MIN;
	assert_string_equal(host_state(fx, "slow"), "stale");
}

/*
 * Stale after 3 intervals: shown so in hosts.list, stats and health
 * (which stays ok), its rows left exactly as they are (R8); its next
 * complete snapshot makes it live and sweeps as usual (R7).
 */
static void
stale_host_left_alone(void **state)
{
	struct fx *fx = *state;
	json_object *before, *after;
	struct wbuf req = {0}, rep = {0};
	struct wire_request rq = {.t = "health"};
	struct wire_health h;
	char err[WIRE_ERR_LEN];
	size_t pubs;

	testfx_workload(fx->db, "w1", "stack");
	testfx_workload(fx->db, "w2", "stack");
	host_pass(fx, 1, 10, 2, "running");
	host_pass(fx, 2, 10, 3, "running");
	assert_true(ask(fx, "containers.list", NULL));
	before = json_object_get(get(fx, "containers"));
	pubs = fx->pub.n;
	age(fx, "h2", 3 * 500 + 1);
	assert_string_equal(host_state(fx, "h2"), "stale");
	assert_string_equal(host_state(fx, "h1"), "live");
	assert_true(ask(fx, "stats", NULL));
	assert_int_equal(geti(fx, "hosts_live"), 1);
	assert_int_equal(geti(fx, "hosts_stale"), 1);
	/* health names it, and is not failed for it */
	assert_int_equal(wire_encode_request(&req, &rq), 0);
	assert_int_equal(api_handle(&fx->st, req.data, req.len, 0, &rep), 0);
	assert_int_equal(
	    wire_decode_health_reply(rep.data, rep.len, fx->a, &h, err), 0);
	assert_int_equal(h.nchecks, 2);
	assert_string_equal(h.checks[1].name, "hosts");
	assert_true(h.checks[1].ok);
	assert_string_equal(h.checks[1].detail, "1 live, 1 stale: h2");
	wbuf_free(&req);
	wbuf_free(&rep);
	/* nothing was written for it: rows and log as they were */
	assert_int_equal(fx->pub.n, pubs);
	assert_true(ask(fx, "containers.list", NULL));
	after = get(fx, "containers");
	assert_true(json_object_equal(before, after));
	json_object_put(before);
	/* back: its next complete snapshot, without w2:r2, sweeps that one */
	assert_int_equal(host_pass(fx, 2, 11, 2, "running").missing, 1);
	assert_string_equal(host_state(fx, "h2"), "live");
	assert_string_equal(row_state(fx, "w2:r2"), "missing");
	assert_string_equal(row_state(fx, "w1:r0"), "running");
}

/* R7 per host: one host's complete snapshot sweeps only its own rows. */
static void
sweep_per_host(void **state)
{
	struct fx *fx = *state;
	struct rules_result r;

	testfx_workload(fx->db, "w1", "stack");
	testfx_workload(fx->db, "w2", "stack");
	testfx_workload(fx->db, "w3", "stack");
	host_pass(fx, 1, 1, 3, "running");
	host_pass(fx, 2, 1, 3, "running");
	host_pass(fx, 3, 1, 3, "exited");
	r = host_pass(fx, 1, 2, 1, "running");
	assert_int_equal(r.missing, 2);
	assert_string_equal(row_state(fx, "w1:r0"), "running");
	assert_string_equal(row_state(fx, "w1:r1"), "missing");
	assert_string_equal(row_state(fx, "w1:r2"), "missing");
	assert_string_equal(row_state(fx, "w2:r2"), "running");
	assert_string_equal(row_state(fx, "w3:r2"), "stopped");
	/* an empty complete snapshot of h2 leaves h1's and h3's rows */
	r = host_pass(fx, 2, 2, 0, "running");
	assert_int_equal(r.missing, 3);
	assert_string_equal(row_state(fx, "w1:r0"), "running");
	assert_string_equal(row_state(fx, "w3:r0"), "stopped");
	/* hosts.list counts each host's rows in any state (by_host) */
	assert_true(ask(fx, "hosts.list", NULL));
	assert_int_equal(host_num(fx, "h1", "rows"), 3);
	assert_int_equal(host_num(fx, "h2", "rows"), 3);
	assert_int_equal(host_num(fx, "h3", "rows"), 3);
}

/*
 * A store restart reads the host records back: gens, times, intervals.
 * A replayed older snapshot is then stale, and rolls nothing back.
 */
static void
records_survive_restart(void **state)
{
	struct fx *fx = *state;
	struct store_host *h;
	int64_t seen;

	testfx_workload(fx->db, "w1", "stack");
	host_pass(fx, 1, 1000, 3, "running");
	seen = store_host_find(&fx->st, "h1")->last_seen_at;
	fx_restart(fx);
	assert_int_equal(fx->st.nhosts, 1);
	h = store_host_find(&fx->st, "h1");
	assert_non_null(h);
	assert_int_equal(h->gen, 1000);
	assert_int_equal(h->last_seen_at, seen);
	assert_int_equal(h->interval_ms, 500);
	assert_false(h->unsaved);
	/* a replay of an old, emptier pass: stale, nothing swept */
	assert_false(host_pass(fx, 1, 999, 1, "exited").applied);
	assert_int_equal(fx->st.ctr[STC_STALE], 1);
	assert_string_equal(row_state(fx, "w1:r0"), "running");
	assert_string_equal(row_state(fx, "w1:r2"), "running");
	assert_int_equal(store_host_find(&fx->st, "h1")->last_seen_at, seen);
	/* the lister itself goes on */
	assert_true(host_pass(fx, 1, 1001, 3, "running").applied);
}

/*
 * A delta counts as a sign of life too. One that changes nothing
 * commits nothing: its time and gen are held in memory (unsaved) until
 * the host's next commit, and a write-free delta stays write-free.
 */
static void
deltas_and_the_record(void **state)
{
	struct fx *fx = *state;
	struct wire_container c;
	struct wire_delta d;
	struct rules_result r;
	struct store_host *h;
	uint64_t commits;
	int64_t saved;

	testfx_workload(fx->db, "w1", "stack");
	host_pass(fx, 1, 5, 1, "running");
	age(fx, "h1", 10000);
	saved = store_host_find(&fx->st, "h1")->last_seen_at;
	c = testfx_container(fx->a, "h1-c0", "running", "w1", "r0");
	memset(&d, 0, sizeof(d));
	d.host = "h1";
	d.gen = 7;
	d.containers = &c;
	d.ncontainers = 1;
	commits = db_commits(fx->db);
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_true(r.applied);
	assert_false(r.host_saved);
	assert_int_equal(db_commits(fx->db), commits);
	h = store_host_find(&fx->st, "h1");
	assert_true(h->unsaved);
	assert_int_equal(h->gen, 7);
	assert_true(h->last_seen_at >= saved + 10000);
	assert_int_equal(h->interval_ms, 500);
	/* the record as the snapshot wrote it */
	assert_int_equal(stored(fx, "h1").h.gen, 5);
	/* one that changes the row commits, and the record with it */
	c.state = "exited";
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_true(r.host_saved);
	assert_false(store_host_find(&fx->st, "h1")->unsaved);
	assert_int_equal(stored(fx, "h1").h.gen, 7);
	/* a delta's gen counts: a snapshot below it is stale */
	assert_false(host_pass(fx, 1, 6, 1, "running").applied);
	/* a stale message is no sign of life */
	age(fx, "h1", 10000);
	saved = store_host_find(&fx->st, "h1")->last_seen_at;
	d.gen = 3;
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_false(r.applied);
	assert_int_equal(store_host_find(&fx->st, "h1")->last_seen_at, saved);
}

/*
 * hosts.forget: the host's bound rows turn missing through the change
 * path (one event each, revisions advance), its records go, other hosts
 * are untouched; unknown hosts, a missing host and untrusted uids are
 * refused. Its lister sending again brings it back as new.
 */
static void
forget(void **state)
{
	struct fx *fx = *state;
	struct wire_request rq = {.t = "hosts.forget", .host = "h3"};
	uint64_t rev0;
	size_t pubs, i;

	testfx_workload(fx->db, "w1", "stack");
	testfx_workload(fx->db, "w3", "stack");
	host_pass(fx, 1, 1, 2, "running");
	host_pass(fx, 3, 1, 3, "running");
	host_pass(fx, 3, 2, 2, "running"); /* w3:r2 missing already */
	assert_string_equal(row_state(fx, "w3:r2"), "missing");
	/* refusals first: nothing changes */
	assert_false(call_as(fx, &rq, 1000));
	assert_string_equal(gets(fx, "error.code"), "forbidden");
	assert_false(ask(fx, "hosts.forget", "h9"));
	assert_string_equal(gets(fx, "error.code"), "not_found");
	assert_non_null(strstr(gets(fx, "error.message"), "h9"));
	assert_false(ask(fx, "hosts.forget", NULL));
	assert_string_equal(gets(fx, "error.code"), "invalid");
	assert_string_equal(host_state(fx, "h3"), "live");
	rev0 = (uint64_t)geti(fx, "rev");
	pubs = fx->pub.n;
	assert_true(call_as(fx, &rq, 0));
	assert_int_equal(geti(fx, "missing"), 2);
	assert_int_equal(geti(fx, "rev"), rev0 + 2);
	assert_int_equal(fx->pub.n, pubs + 2);
	for (i = pubs; i < fx->pub.n; i++) {
		assert_int_equal(fx->pub.ev[i].type, WIRE_EV_CONTAINER);
		assert_string_equal(fx->pub.ev[i].op, "missing");
		assert_string_equal(fx->pub.ev[i].prev_state, "running");
		assert_string_equal(fx->pub.ev[i].row->host, "h3");
		assert_int_equal(fx->pub.ev[i].rev, rev0 + 1 + (i - pubs));
	}
	assert_string_equal(row_state(fx, "w3:r0"), "missing");
	assert_string_equal(row_state(fx, "w3:r1"), "missing");
	assert_string_equal(row_state(fx, "w1:r0"), "running");
	assert_null(host_entry(fx, "h3"));
	assert_non_null(host_entry(fx, "h1"));
	assert_int_equal(stored(fx, "h3").found, 0);
	assert_int_equal(stored(fx, "h3").pass_at, 0);
	assert_int_equal(fx->st.ctr[STC_HOSTS_FORGOTTEN], 1);
	/* twice: it is not known any more */
	assert_false(ask(fx, "hosts.forget", "h3"));
	assert_string_equal(gets(fx, "error.code"), "not_found");
	/* and after a restart neither */
	fx_restart(fx);
	assert_null(host_entry(fx, "h3"));
	assert_non_null(host_entry(fx, "h1"));
	/* its lister back, with any gen: a new host, rows bound again */
	assert_true(host_pass(fx, 3, 1, 2, "running").applied);
	assert_string_equal(row_state(fx, "w3:r0"), "running");
	assert_string_equal(host_state(fx, "h3"), "live");
}

/* A database from before host records knows a host by its pass record:
 * it can be forgotten too. */
static int
drop_record_body(struct dbtx *tx, void *arg)
{
	return db_host_del(tx, arg) == -1 ? -1 : 0;
}

static void
forget_without_record(void **state)
{
	struct fx *fx = *state;

	testfx_workload(fx->db, "w1", "stack");
	host_pass(fx, 1, 1, 2, "running");
	assert_int_equal(db_write(fx->db, drop_record_body, "h1"), 0);
	fx_restart(fx);
	assert_null(host_entry(fx, "h1"));
	assert_true(ask(fx, "hosts.forget", "h1"));
	assert_int_equal(geti(fx, "missing"), 2);
	assert_string_equal(row_state(fx, "w1:r1"), "missing");
	assert_int_equal(stored(fx, "h1").pass_at, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(record_on_snapshot, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(interval_default_and_clamp, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(stale_host_left_alone, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(sweep_per_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(records_survive_restart, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(deltas_and_the_record, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(forget_without_record, setup,
	                                    teardown),
	};

	log_init("recon-hosts-test", "text", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
