/*
 * api_test.c: the store.ctl handlers called without sockets on a real
 * LMDB environment: validation, write permission, reads at a revision,
 * events.since and compaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api.h"
#include "db.h"
#include "log.h"
#include "ingest.h"
#include "results.h"
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
	size_t npubs;
	json_object *last; /* the last reply, as JSON */
};

static void
count_pub(void *arg, const void *msg, size_t len)
{
	struct fx *fx = arg;

	assert_non_null(memchr(msg, '\0', len));
	fx->npubs++;
}

static struct fx *
fx_open_map(uint64_t retain, uint64_t map, uint64_t max)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testfx_mkdtemp(fx->dir, sizeof(fx->dir), "api");
	fx->db = testfx_db_open(fx->dir, map, max, retain);
	assert_int_equal(store_init(&fx->st, fx->db, "tinyforge.", 4242), 0);
	fx->a = arena_new();
	db_set_publish(fx->db, count_pub, fx);
	return fx;
}

static struct fx *
fx_open(uint64_t retain)
{
	return fx_open_map(retain, 1 << 20, 1 << 28);
}

static void
fx_close(struct fx *fx)
{
	store_fini(&fx->st);
	db_close(fx->db);
	testfx_rmdir(fx->dir);
	json_object_put(fx->last);
	arena_free(fx->a);
	free(fx);
}

static int
setup(void **state)
{
	*state = fx_open(100000);
	return 0;
}

static int
teardown(void **state)
{
	fx_close(*state);
	return 0;
}

static bool
call_as(struct fx *fx, const struct wire_request *rq, int64_t uid)
{
	return testfx_call_as(&fx->st, rq, uid, &fx->last);
}

static bool
call(struct fx *fx, const struct wire_request *rq)
{
	return call_as(fx, rq, 0);
}

/* NULL when the last reply has no such member: the cases check that
 * secrets are left out. */
static json_object *
get(struct fx *fx, const char *path)
{
	return testfx_get(fx->last, path);
}

static const char *
gets(struct fx *fx, const char *path)
{
	json_object *o = get(fx, path);

	assert_non_null(o);
	return json_object_get_string(o);
}

static int64_t
geti(struct fx *fx, const char *path)
{
	json_object *o = get(fx, path);

	assert_non_null(o);
	return json_object_get_int64(o);
}

static struct wire_workload
wl(const char *id, const char *kind)
{
	struct wire_workload w;

	memset(&w, 0, sizeof(w));
	w.id = (char *)id;
	w.name = "a name";
	w.kind = (char *)kind;
	w.source_kind = "git";
	w.source_config = "{\"url\": \"https://example.org/x.git\"}";
	w.notification_url = "https://hooks.example.org/recon";
	w.notification_secret = "n-secret";
	w.webhook_secret = "w-secret";
	w.webhook_signing_secret = "s-secret";
	return w;
}

static bool
put_workload(struct fx *fx, struct wire_workload *w)
{
	struct wire_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.t = "workload.put";
	rq.workload = w;
	return call(fx, &rq);
}

static bool
simple(struct fx *fx, const char *t, const char *id)
{
	struct wire_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.t = (char *)t;
	rq.id = (char *)id;
	return call(fx, &rq);
}

/* ---- the cases ---- */

static void
workload_put_validation(void **state)
{
	static const struct {
		const char *name, *field;
		size_t off;
		const char *value;
	} cases[] = {
	    {"bad id", "id", offsetof(struct wire_workload, id), "a/b"},
	    {"empty id", "id", offsetof(struct wire_workload, id), ""},
	    {"bad kind", "kind", offsetof(struct wire_workload, kind), "vm"},
	    {"no kind", "kind", offsetof(struct wire_workload, kind), ""},
	    {"bad app_id", "app_id", offsetof(struct wire_workload, app_id),
	     "-app"},
	    {"bad parent", "parent_workload_id",
	     offsetof(struct wire_workload, parent_workload_id), "p q"},
	    {"bad source_kind", "source_kind",
	     offsetof(struct wire_workload, source_kind), "Git"},
	    {"path source_kind", "source_kind",
	     offsetof(struct wire_workload, source_kind), "../x"},
	    {"file url", "notification_url",
	     offsetof(struct wire_workload, notification_url),
	     "file:///etc/passwd"},
	    {"ftp url", "notification_url",
	     offsetof(struct wire_workload, notification_url), "ftp://x.org/"},
	    {"url without a host", "notification_url",
	     offsetof(struct wire_workload, notification_url), "http://"},
	    {"url with a newline", "notification_url",
	     offsetof(struct wire_workload, notification_url),
	     "http://x.org/a\nwarn: forged"},
	    {"url with a space", "notification_url",
	     offsetof(struct wire_workload, notification_url),
	     "http://x.org/a b"},
	    {"not a url", "notification_url",
	     offsetof(struct wire_workload, notification_url), "http//x.org"},
	    {"bad source_config", "source_config",
	     offsetof(struct wire_workload, source_config), "{\"a\":"},
	    {"trailing trigger_config", "trigger_config",
	     offsetof(struct wire_workload, trigger_config), "{} x"},
	    {"lax public_faces", "public_faces",
	     offsetof(struct wire_workload, public_faces), "[1,]"},
	    {"blank public_faces", "public_faces",
	     offsetof(struct wire_workload, public_faces), "  "},
	};
	struct fx *fx = *state;
	struct wire_workload w;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w = wl("w1", "stack");
		*(const char **)((char *)&w + cases[i].off) = cases[i].value;
		print_message("case: %s\n", cases[i].name);
		assert_false(put_workload(fx, &w));
		assert_string_equal(gets(fx, "error.code"), "invalid");
		assert_true(strncmp(gets(fx, "error.message"), cases[i].field,
		                    strlen(cases[i].field)) == 0);
		assert_int_equal(
		    gets(fx, "error.message")[strlen(cases[i].field)], ':');
	}
	assert_int_equal(fx->npubs, 0);
	/* valid: empty optional fields, JSON of any kind, http:// */
	w = wl("w1", "site");
	w.source_kind = "";
	w.source_config = "";
	w.public_faces = " [1, {\"a\": null}] \n";
	w.trigger_config = "42";
	w.notification_url = "HTTP://x.example";
	assert_true(put_workload(fx, &w));
	assert_int_equal(geti(fx, "rev"), 1);
	assert_int_equal(fx->npubs, 1);
}

static void
workload_put_keeps_created_and_plugin(void **state)
{
	struct fx *fx = *state;
	struct wire_workload w = wl("w1", "stack");
	struct wire_plugin_result pr;
	struct wire_request rq;
	int64_t created;

	assert_true(put_workload(fx, &w));
	assert_true(simple(fx, "workload.get", "w1"));
	created = geti(fx, "workload.created_at");
	assert_true(created > 0);
	memset(&pr, 0, sizeof(pr));
	pr.workload_id = "w1";
	pr.ok = true;
	pr.started_at = 77;
	assert_int_equal(results_apply(&fx->st, &pr), 0);
	usleep(2000);
	w.name = "renamed";
	w.created_at = 5;   /* ignored */
	w.plugin.runs = 99; /* ignored */
	assert_true(put_workload(fx, &w));
	assert_int_equal(geti(fx, "rev"), 3);
	assert_true(simple(fx, "workload.get", "w1"));
	assert_string_equal(gets(fx, "workload.name"), "renamed");
	assert_int_equal(geti(fx, "workload.created_at"), created);
	assert_true(geti(fx, "workload.updated_at") > created);
	assert_int_equal(geti(fx, "workload.plugin.runs"), 1);
	assert_int_equal(geti(fx, "workload.plugin.last_run_at"), 77);
	/* secrets: only when asked */
	assert_null(get(fx, "workload.webhook_secret"));
	memset(&rq, 0, sizeof(rq));
	rq.t = "workload.get";
	rq.id = "w1";
	rq.secrets = true;
	assert_true(call(fx, &rq));
	assert_string_equal(gets(fx, "workload.webhook_secret"), "w-secret");
	assert_string_equal(gets(fx, "workload.notification_secret"),
	                    "n-secret");
	assert_true(simple(fx, "workloads.list", NULL));
	assert_int_equal(json_object_array_length(get(fx, "workloads")), 1);
	assert_null(get(fx, "workloads.0.webhook_signing_secret"));
	assert_int_equal(geti(fx, "rev"), 3);
}

static void
container_put_rules(void **state)
{
	struct fx *fx = *state;
	struct wire_workload w = wl("w1", "project");
	struct wire_request rq;
	struct wire_row row;
	int64_t created;
	size_t pubs;

	memset(&row, 0, sizeof(row));
	row.id = "w1:api";
	row.workload_id = "ghost";
	row.container_id = "abc123";
	row.state = "running";
	row.subdomain = "api.example.org";
	memset(&rq, 0, sizeof(rq));
	rq.t = "container.put";
	rq.row = &row;
	/* unknown workload */
	assert_false(call(fx, &rq));
	assert_string_equal(gets(fx, "error.code"), "invalid");
	assert_true(strncmp(gets(fx, "error.message"), "workload_id:", 12) ==
	            0);
	assert_true(put_workload(fx, &w));
	/* bad ids */
	row.workload_id = "w1";
	row.id = "w1/api";
	assert_false(call(fx, &rq));
	assert_true(strncmp(gets(fx, "error.message"), "id:", 3) == 0);
	row.id = "w1:api";
	row.workload_kind = "site";
	assert_false(call(fx, &rq));
	assert_true(strncmp(gets(fx, "error.message"), "workload_kind:", 14) ==
	            0);
	row.workload_kind = NULL;
	row.port = 70000;
	assert_false(call(fx, &rq));
	assert_true(strncmp(gets(fx, "error.message"), "port:", 5) == 0);
	row.port = 8080;
	/* new row */
	pubs = fx->npubs;
	assert_true(call(fx, &rq));
	assert_int_equal(geti(fx, "rev"), 2);
	assert_int_equal(fx->npubs, pubs + 1);
	assert_true(simple(fx, "container.get", "w1:api"));
	created = geti(fx, "container.created_at");
	assert_true(created > 0);
	assert_string_equal(gets(fx, "container.workload_kind"), "project");
	/* the same again: no change, no revision */
	assert_true(call(fx, &rq));
	assert_int_equal(geti(fx, "rev"), 2);
	assert_int_equal(fx->npubs, pubs + 1);
	/* a change: created_at kept, Docker id rebound */
	row.container_id = "def456";
	row.created_at = 1;
	assert_true(call(fx, &rq));
	assert_int_equal(geti(fx, "rev"), 3);
	assert_true(simple(fx, "container.get", "w1:api"));
	assert_int_equal(geti(fx, "container.created_at"), created);
	assert_string_equal(gets(fx, "container.container_id"), "def456");
	/* a pass now finds the project row through its Docker id (R4) */
	{
		struct wire_container c;
		struct wire_kv kv = {"tinyforge.workload.id", "w1"};
		struct wire_snapshot s;
		struct rules_result r;

		memset(&c, 0, sizeof(c));
		c.id = "def456";
		c.state = "exited";
		c.labels = &kv;
		c.nlabels = 1;
		memset(&s, 0, sizeof(s));
		s.host = "h";
		s.gen = 1;
		s.complete = true;
		s.containers = &c;
		s.ncontainers = 1;
		assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
		assert_int_equal(r.changed, 1);
		assert_int_equal(r.ignored_project, 0);
		c.id = "abc123"; /* the old id is no longer bound */
		s.gen = 2;
		assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
		assert_int_equal(r.ignored_project, 1);
	}
	assert_true(simple(fx, "container.get", "w1:api"));
	assert_string_equal(gets(fx, "container.state"), "missing");
	assert_string_equal(gets(fx, "container.subdomain"), "api.example.org");
	/* another row may not take w1:api's Docker id: the next pass would
	 * rewrite the taker and sweep the owner (R7) */
	row.id = "w1:taker";
	pubs = fx->npubs;
	assert_false(call(fx, &rq));
	assert_string_equal(gets(fx, "error.code"), "invalid");
	assert_true(strncmp(gets(fx, "error.message"), "container_id:", 13) ==
	            0);
	assert_int_equal(fx->npubs, pubs);
	assert_false(simple(fx, "container.get", "w1:taker"));
	/* the owner itself may put it again, and a free id may be taken */
	row.id = "w1:api";
	assert_true(call(fx, &rq));
	row.id = "w1:taker";
	row.container_id = "fff999";
	assert_true(call(fx, &rq));
}

static void
deletes(void **state)
{
	struct fx *fx = *state;
	struct wire_workload w = wl("w1", "stack");
	struct wire_request rq;
	struct wire_row row;
	size_t pubs;

	assert_false(simple(fx, "container.delete", "nope"));
	assert_string_equal(gets(fx, "error.code"), "not_found");
	assert_false(simple(fx, "workload.delete", "nope"));
	assert_string_equal(gets(fx, "error.code"), "not_found");
	assert_false(simple(fx, "container.delete", NULL));
	assert_string_equal(gets(fx, "error.code"), "invalid");
	assert_true(put_workload(fx, &w));
	memset(&row, 0, sizeof(row));
	row.workload_id = "w1";
	memset(&rq, 0, sizeof(rq));
	rq.t = "container.put";
	rq.row = &row;
	row.id = "w1:a";
	assert_true(call(fx, &rq));
	row.id = "w1:b";
	assert_true(call(fx, &rq));
	row.id = "w1:c";
	assert_true(call(fx, &rq));
	assert_true(simple(fx, "container.delete", "w1:c"));
	assert_int_equal(geti(fx, "rev"), 5);
	assert_false(simple(fx, "container.get", "w1:c"));
	assert_string_equal(gets(fx, "error.code"), "not_found");
	pubs = fx->npubs;
	assert_true(simple(fx, "workload.delete", "w1"));
	/* two rows deleted, then the workload: three events */
	assert_int_equal(geti(fx, "rev"), 8);
	assert_int_equal(fx->npubs, pubs + 3);
	assert_true(simple(fx, "containers.list", NULL));
	assert_int_equal(json_object_array_length(get(fx, "containers")), 0);
	assert_false(simple(fx, "workload.get", "w1"));
}

static void
writes_need_trusted_uid(void **state)
{
	struct fx *fx = *state;
	struct wire_workload w = wl("w1", "stack");
	struct wire_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.t = "workload.put";
	rq.workload = &w;
	assert_false(call_as(fx, &rq, 12345));
	assert_string_equal(gets(fx, "error.code"), "forbidden");
	assert_int_equal(fx->npubs, 0);
	/* reads are open to any peer */
	memset(&rq, 0, sizeof(rq));
	rq.t = "workloads.list";
	assert_true(call_as(fx, &rq, 12345));
	rq.t = "workload.delete";
	rq.id = "w1";
	assert_false(call_as(fx, &rq, 12345));
	assert_string_equal(gets(fx, "error.code"), "forbidden");
	/* a peer with no uid (not ipc) may not write: SPEC §10 */
	memset(&rq, 0, sizeof(rq));
	rq.t = "workload.put";
	rq.workload = &w;
	assert_false(call_as(fx, &rq, -1));
	assert_string_equal(gets(fx, "error.code"), "forbidden");
	assert_int_equal(fx->npubs, 0);
	/* secrets are a privileged read (SPEC §2) */
	assert_true(call_as(fx, &rq, 0));
	memset(&rq, 0, sizeof(rq));
	rq.t = "workload.get";
	rq.id = "w1";
	rq.secrets = true;
	assert_false(call_as(fx, &rq, 12345));
	assert_string_equal(gets(fx, "error.code"), "forbidden");
	assert_false(call_as(fx, &rq, -1));
	assert_true(call_as(fx, &rq, 0));
	rq.secrets = false;
	assert_true(call_as(fx, &rq, 12345));
	/* --admin-uid, root and our own uid may write */
	memset(&rq, 0, sizeof(rq));
	rq.t = "workload.put";
	rq.workload = &w;
	assert_true(call_as(fx, &rq, 4242));
	assert_true(call_as(fx, &rq, 0));
	assert_true(call_as(fx, &rq, (int64_t)geteuid()));
}

static void
unknown_and_malformed(void **state)
{
	struct fx *fx = *state;
	static const unsigned char junk[] = {0x81, 0xa1, 't', 0x05};
	struct wbuf rep = {0};
	char *code, *msg, err[WIRE_ERR_LEN];
	bool ok;

	assert_false(simple(fx, "containers.drop", NULL));
	assert_string_equal(gets(fx, "error.code"), "unknown");
	assert_int_equal(api_handle(&fx->st, junk, sizeof(junk), 0, &rep), 0);
	assert_int_equal(wire_decode_reply_status(rep.data, rep.len, fx->a, &ok,
	                                          &code, &msg, err),
	                 0);
	assert_false(ok);
	assert_string_equal(code, "invalid");
	/* a key that is not UTF-8: the reply's message still is (the peer's
	 * bytes become '?'; found by fuzz_store_api) */
	{
		static const unsigned char badkey[] = {
		    0x82, 0xa1, 't', 0xa1, 'x', 0xa3,
		    0xff, 0xc0, 'x', 0xa5, 'a'}; /* a cut value */
		assert_int_equal(
		    api_handle(&fx->st, badkey, sizeof(badkey), 0, &rep), 0);
		assert_int_equal(wire_decode_reply_status(rep.data, rep.len,
		                                          fx->a, &ok, &code,
		                                          &msg, err),
		                 0);
		assert_false(ok);
	}
	wbuf_free(&rep);
	assert_false(simple(fx, "workload.put", NULL));
	assert_string_equal(gets(fx, "error.code"), "invalid");
}

static void
lists_and_filters(void **state)
{
	struct fx *fx = *state;
	struct wire_workload w1 = wl("w1", "stack"), w2 = wl("w2", "stack");
	struct wire_request rq;
	struct wire_row row;

	assert_true(put_workload(fx, &w1));
	assert_true(put_workload(fx, &w2));
	memset(&row, 0, sizeof(row));
	memset(&rq, 0, sizeof(rq));
	rq.t = "container.put";
	rq.row = &row;
	row.id = "w1:a", row.workload_id = "w1", row.state = "running",
	row.host = "h1";
	assert_true(call(fx, &rq));
	row.id = "w1:b", row.state = "missing";
	assert_true(call(fx, &rq));
	row.id = "w2:a", row.workload_id = "w2", row.state = "running",
	row.host = "h2";
	assert_true(call(fx, &rq));
	memset(&rq, 0, sizeof(rq));
	rq.t = "containers.list";
	assert_true(call(fx, &rq));
	assert_int_equal(json_object_array_length(get(fx, "containers")), 3);
	assert_int_equal(geti(fx, "rev"), 5);
	rq.workload_id = "w1";
	assert_true(call(fx, &rq));
	assert_int_equal(json_object_array_length(get(fx, "containers")), 2);
	rq.state = "running";
	assert_true(call(fx, &rq));
	assert_int_equal(json_object_array_length(get(fx, "containers")), 1);
	assert_string_equal(gets(fx, "containers.0.id"), "w1:a");
	rq.workload_id = NULL;
	rq.host = "h2";
	assert_true(call(fx, &rq));
	assert_int_equal(json_object_array_length(get(fx, "containers")), 1);
	assert_string_equal(gets(fx, "containers.0.id"), "w2:a");
}

static void
events_since_and_compaction(void **state)
{
	struct fx *fx = *state;
	struct wire_workload w = wl("w1", "stack");
	struct wire_request rq;
	int i;

	fx_close(fx);
	*state = fx = fx_open(4);
	memset(&rq, 0, sizeof(rq));
	rq.t = "events.since";
	assert_true(call(fx, &rq)); /* empty log */
	assert_int_equal(geti(fx, "rev"), 0);
	assert_int_equal(json_object_array_length(get(fx, "events")), 0);
	for (i = 0; i < 6; i++)
		assert_true(put_workload(fx, &w));
	/* head 6, log keeps 3..6 */
	rq.rev = 2;
	assert_true(call(fx, &rq));
	assert_int_equal(geti(fx, "rev"), 6);
	assert_int_equal(json_object_array_length(get(fx, "events")), 4);
	assert_int_equal(geti(fx, "events.0.rev"), 3);
	assert_string_equal(gets(fx, "events.0.t"), "workload");
	assert_string_equal(gets(fx, "events.0.op"), "put");
	assert_null(get(fx, "events.0.workload.webhook_secret"));
	rq.limit = 2;
	assert_true(call(fx, &rq));
	assert_int_equal(json_object_array_length(get(fx, "events")), 2);
	assert_int_equal(geti(fx, "events.1.rev"), 4);
	rq.rev = 1;
	rq.limit = 0;
	assert_false(call(fx, &rq));
	assert_string_equal(gets(fx, "error.code"), "compacted");
	rq.rev = 0;
	assert_false(call(fx, &rq));
	assert_string_equal(gets(fx, "error.code"), "compacted");
	rq.rev = 6;
	assert_true(call(fx, &rq));
	assert_int_equal(json_object_array_length(get(fx, "events")), 0);
	/* ahead of the head: the store lost data or is another (SPEC §5) */
	rq.rev = 7;
	assert_false(call(fx, &rq));
	assert_string_equal(gets(fx, "error.code"), "ahead");
	assert_true(simple(fx, "stats", NULL));
	assert_int_equal(geti(fx, "rev"), 6);
	assert_int_equal(geti(fx, "oldest_rev"), 3);
	assert_int_equal(geti(fx, "events"), 4);
	assert_int_equal(geti(fx, "workloads"), 1);
	assert_true(geti(fx, "counters.request_errors") >= 3);
}

static void
health_reply(void **state)
{
	struct fx *fx = *state;
	struct wire_request rq;

	fx->st.ready = true;
	assert_true(simple(fx, "health", NULL));
	assert_string_equal(gets(fx, "name"), "recon-store");
	assert_int_equal(geti(fx, "pid"), getpid());
	assert_true(json_object_get_boolean(get(fx, "ready")));
	assert_string_equal(gets(fx, "checks.0.name"), "lmdb");
	assert_true(json_object_get_boolean(get(fx, "checks.0.ok")));
	assert_non_null(get(fx, "counters.ctl_requests"));
	assert_non_null(get(fx, "counters.bad_messages"));
	assert_non_null(get(fx, "counters.map_resizes"));
	memset(&rq, 0, sizeof(rq));
	rq.t = "health";
	rq.live = true;
	assert_true(call(fx, &rq));
	assert_int_equal(json_object_array_length(get(fx, "checks")), 0);
}

/*
 * A map full at --max-map-size: the write is refused as unavailable,
 * naming the flag; health fails naming the map; what was acknowledged
 * reads back.
 */
static void
map_full_refuses_writes(void **state)
{
	struct fx *fx = fx_open_map(100000, DB_MAP_MIN, 4 * DB_MAP_MIN);
	static char big[40000];
	struct wire_workload w;
	char id[32];
	int i, acked = 0;

	*state = fx;
	memset(big, 'a', sizeof(big) - 3);
	big[0] = big[sizeof(big) - 3] = '"';
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "w%d", i);
		w = wl(id, "stack");
		w.source_config = big;
		if (!put_workload(fx, &w))
			break;
		acked++;
	}
	assert_true(acked > 0 && acked < 20);
	assert_string_equal(gets(fx, "error.code"), "unavailable");
	assert_non_null(strstr(gets(fx, "error.message"), "map is full"));
	assert_non_null(strstr(gets(fx, "error.message"), "--max-map-size"));
	assert_int_equal(fx->st.ctr[STC_WRITE_ERRORS], 1);
	assert_true(simple(fx, "health", NULL));
	assert_false(json_object_get_boolean(get(fx, "checks.0.ok")));
	assert_non_null(strstr(gets(fx, "checks.0.detail"), "map is full"));
	for (i = 0; i < acked; i++) {
		snprintf(id, sizeof(id), "w%d", i);
		assert_true(simple(fx, "workload.get", id));
		assert_int_equal(strlen(gets(fx, "workload.source_config")),
		                 strlen(big));
	}
	/* opened again with a larger --max-map-size: writes commit */
	store_fini(&fx->st);
	db_close(fx->db);
	fx->db = testfx_db_open(fx->dir, DB_MAP_MIN, 64 * DB_MAP_MIN, 100000);
	assert_int_equal(store_init(&fx->st, fx->db, "tinyforge.", 4242), 0);
	assert_true(put_workload(fx, &w));
	assert_true(simple(fx, "health", NULL));
	assert_true(json_object_get_boolean(get(fx, "checks.0.ok")));
	assert_true(simple(fx, "workload.get", "w0"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(workload_put_validation, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        workload_put_keeps_created_and_plugin, setup, teardown),
	    cmocka_unit_test_setup_teardown(container_put_rules, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(deletes, setup, teardown),
	    cmocka_unit_test_setup_teardown(writes_need_trusted_uid, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(unknown_and_malformed, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(lists_and_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(events_since_and_compaction, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(health_reply, setup, teardown),
	    cmocka_unit_test_teardown(map_full_refuses_writes, teardown),
	};

	log_init("api_test", "text", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
