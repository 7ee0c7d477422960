/*
 * reconcile_test.c: the reconcile rules R1-R10, change detection, the
 * change log and map growth, run on a real LMDB environment in a
 * temporary directory, one named case per rule.
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

#include "db.h"
#include "log.h"
#include "ingest.h"
#include "results.h"
#include "store.h"
#include "testfx.h"
#include "util.h"
#include "wire.h"

#define MAXPUB 8192

struct pub {
	char *topic;
	struct wire_event ev;
};

struct fx {
	char dir[64];
	struct db *db;
	struct store st;
	struct arena *a;
	struct pub *pubs;
	size_t npubs;
};

/* Keeps every published message, decoded, for the assertions. */
static void
capture(void *arg, const void *msg, size_t len)
{
	struct fx *fx = arg;
	const char *nul = memchr(msg, '\0', len);
	char err[WIRE_ERR_LEN];
	struct pub *p;

	assert_non_null(nul);
	assert_true(fx->npubs < MAXPUB);
	p = &fx->pubs[fx->npubs++];
	p->topic = arena_strndup(fx->a, msg, (size_t)(nul - (const char *)msg));
	assert_int_equal(
	    wire_decode_event(nul + 1,
	                      len - (size_t)(nul + 1 - (const char *)msg),
	                      fx->a, &p->ev, err),
	    0);
}

static struct fx *
fx_open(uint64_t map_size, uint64_t retain)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testfx_mkdtemp(fx->dir, sizeof(fx->dir), "store");
	fx->db = testfx_db_open(fx->dir, map_size, 1ull << 30, retain);
	assert_int_equal(store_init(&fx->st, fx->db, "tinyforge.", -1), 0);
	fx->a = arena_new();
	fx->pubs = calloc(MAXPUB, sizeof(*fx->pubs));
	db_set_publish(fx->db, capture, fx);
	return fx;
}

static int
setup(void **state)
{
	*state = fx_open(1 << 20, 100000);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_fini(&fx->st);
	db_close(fx->db);
	testfx_rmdir(fx->dir);
	arena_free(fx->a);
	free(fx->pubs);
	free(fx);
	return 0;
}

/* ---- building input ---- */

static int
put_row_body(struct dbtx *tx, void *arg)
{
	struct wire_row *row = arg;

	if (db_row_put(tx, row) == -1)
		return -1;
	return db_docker_rebind(tx, row->id, NULL, row);
}

static void
put_row(struct fx *fx, struct wire_row *row)
{
	assert_int_equal(db_write(fx->db, put_row_body, row), 0);
}

/* A container; NULL label values leave the label out. */
static struct wire_container
ctr(struct fx *fx, const char *id, const char *state, int64_t created,
    const char *wid, const char *kind, const char *role)
{
	struct wire_container c;
	const char *vals[3] = {wid, kind, role};
	const char *keys[3] = {"tinyforge.workload.id",
	                       "tinyforge.workload.kind", "tinyforge.role"};
	size_t i;

	memset(&c, 0, sizeof(c));
	c.id = arena_strdup(fx->a, id);
	c.image = "busybox:latest";
	c.state = arena_strdup(fx->a, state);
	c.created = created;
	c.labels = arena_alloc(fx->a, 4 * sizeof(*c.labels));
	for (i = 0; i < 3; i++)
		if (vals[i] != NULL) {
			c.labels[c.nlabels].key = (char *)keys[i];
			c.labels[c.nlabels].val = arena_strdup(fx->a, vals[i]);
			c.nlabels++;
		}
	/* a label of another prefix never counts */
	c.labels[c.nlabels].key = "other.workload.id";
	c.labels[c.nlabels].val = "w-other";
	c.nlabels++;
	return c;
}

static struct wire_snapshot
snap(const char *host, uint64_t gen, bool complete, struct wire_container *cs,
     size_t n)
{
	struct wire_snapshot s;

	memset(&s, 0, sizeof(s));
	s.host = (char *)host;
	s.gen = gen;
	s.taken_at = 1700000000000 + (int64_t)gen;
	s.complete = complete;
	s.containers = cs;
	s.ncontainers = n;
	return s;
}

static struct rules_result
apply(struct fx *fx, struct wire_snapshot s)
{
	struct rules_result r;

	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	return r;
}

static int
row(struct fx *fx, const char *id, struct wire_row *out)
{
	return testfx_row(fx->db, fx->a, id, out);
}

static int
docker_body(struct dbtx *tx, void *arg)
{
	char **a = arg;

	return db_docker_get(tx, a[0], a[1]);
}

/* The row bound to a Docker id, "" if none. */
static const char *
bound(struct fx *fx, const char *docker_id)
{
	static char rid[WIRE_ID_MAX + 1];
	char *args[2] = {(char *)docker_id, rid};

	rid[0] = '\0';
	assert_true(db_read(fx->db, docker_body, args) >= 0);
	return rid;
}

static int
head_body(struct dbtx *tx, void *arg)
{
	uint64_t *h = arg;

	h[0] = db_head(tx);
	h[1] = db_oldest(tx);
	return 0;
}

static uint64_t
head(struct fx *fx)
{
	uint64_t h[2];

	assert_int_equal(db_read(fx->db, head_body, h), 0);
	return h[0];
}

static uint64_t
oldest(struct fx *fx)
{
	uint64_t h[2];

	assert_int_equal(db_read(fx->db, head_body, h), 0);
	return h[1];
}

/* Published events since index from with this op ("pass" for sys/pass). */
static size_t
npub(struct fx *fx, size_t from, const char *op)
{
	size_t i, n = 0;

	for (i = from; i < fx->npubs; i++) {
		if (strcmp(op, "pass") == 0) {
			n += fx->pubs[i].ev.type == WIRE_EV_PASS;
			continue;
		}
		n += fx->pubs[i].ev.type != WIRE_EV_PASS &&
		     strcmp(fx->pubs[i].ev.op, op) == 0;
	}
	return n;
}

/* ---- the cases ---- */

static void
r1_unlabeled_ignored(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct rules_result r;
	struct wire_row rw;

	testfx_workload(fx->db, "w1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, NULL, NULL, "web");
	c[1] = ctr(fx, "d2", "running", 1, "w1", NULL, "web");
	r = apply(fx, snap("h", 1, true, c, 2));
	assert_int_equal(r.ignored_unlabeled, 1);
	assert_int_equal(r.changed, 1);
	assert_int_equal(row(fx, "w1:web", &rw), 1);
	assert_string_equal(rw.container_id, "d2");
	assert_string_equal(bound(fx, "d1"), "");
}

static void
r2_unknown_and_invalid_ids(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[4];
	struct rules_result r;
	struct wire_row rw;

	testfx_workload(fx->db, "w1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "nope", NULL, NULL);
	c[1] = ctr(fx, "d2", "running", 1, "w1/../x", NULL, NULL);
	c[2] = ctr(fx, "d3", "running", 1, "w1", NULL, "bad role");
	c[3] = ctr(fx, "", "running", 1, "w1", NULL, NULL);
	r = apply(fx, snap("h", 1, true, c, 4));
	assert_int_equal(r.ignored_unknown, 1);
	assert_int_equal(r.ignored_invalid, 3);
	assert_int_equal(r.changed, 0);
	assert_int_equal(fx->st.ctr[STC_IGNORED_UNKNOWN], 1);
	assert_int_equal(fx->st.ctr[STC_IGNORED_INVALID], 3);
	assert_int_equal(row(fx, "nope:d1", &rw), 0);
	assert_int_equal(row(fx, "w1:bad role", &rw), 0);
	assert_int_equal(npub(fx, 0, "upsert"), 0);
}

static void
r3_kind_label(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[3];
	struct rules_result r;
	struct wire_row rw;

	testfx_workload(fx->db, "w1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "w1", "site", "a");
	c[1] = ctr(fx, "d2", "running", 1, "w1", "stack", "b");
	c[2] = ctr(fx, "d3", "running", 1, "w1", NULL, "c");
	r = apply(fx, snap("h", 1, true, c, 3));
	assert_int_equal(r.ignored_kind, 1);
	assert_int_equal(r.changed, 2);
	assert_int_equal(row(fx, "w1:a", &rw), 0);
	assert_int_equal(row(fx, "w1:b", &rw), 1);
	assert_string_equal(rw.workload_kind, "stack");
	assert_int_equal(row(fx, "w1:c", &rw), 1);
	assert_string_equal(rw.workload_kind, "stack");
}

/* Runs apply of s with stderr into a file; returns how many lines of it
 * hold needle. */
static size_t
apply_logged(struct fx *fx, struct wire_snapshot s, const char *needle,
             struct rules_result *r)
{
	FILE *f = tmpfile();
	char line[1024];
	size_t n = 0;
	int saved;

	assert_non_null(f);
	fflush(stderr);
	assert_true((saved = dup(2)) != -1);
	assert_true(dup2(fileno(f), 2) != -1);
	*r = apply(fx, s);
	fflush(stderr);
	assert_true(dup2(saved, 2) != -1);
	close(saved);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* R3's warning: once per container while it stays mismatched, though
 * every pass counts it; again once it matched in between, or when the
 * stored kind changes. */
static void
r3_kind_warned_once(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct rules_result r;
	const char *warn = "differs from workload";

	log_init("recon-store-test", "text", 0);
	testfx_workload(fx->db, "w1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "w1", "site", "a");
	c[1] = ctr(fx, "d2", "running", 1, "w1", "stack", "b");
	assert_int_equal(apply_logged(fx, snap("h", 1, true, c, 2), warn, &r),
	                 1);
	assert_int_equal(r.ignored_kind, 1);
	assert_int_equal(apply_logged(fx, snap("h", 2, true, c, 2), warn, &r),
	                 0);
	assert_int_equal(r.ignored_kind, 1);
	assert_int_equal(fx->st.ctr[STC_IGNORED_KIND], 2);
	assert_int_equal(fx->st.ctr[STC_KIND_WARNINGS], 1);

	/* the stored kind changes to another that differs: warned anew */
	testfx_workload(fx->db, "w1", "project");
	assert_int_equal(apply_logged(fx, snap("h", 3, true, c, 2), warn, &r),
	                 2); /* d2's stack label now differs too */
	assert_int_equal(apply_logged(fx, snap("h", 4, true, c, 2), warn, &r),
	                 0);
	/* d1 matches for a pass, then differs again: warned again */
	testfx_workload(fx->db, "w1", "site");
	assert_int_equal(apply_logged(fx, snap("h", 5, true, c, 2), warn, &r),
	                 1); /* d2 */
	assert_int_equal(r.ignored_kind, 1);
	testfx_workload(fx->db, "w1", "stack");
	assert_int_equal(apply_logged(fx, snap("h", 6, true, c, 2), warn, &r),
	                 1); /* d1 again; d2 matches */
	assert_int_equal(fx->st.ctr[STC_IGNORED_KIND], 8);
	assert_int_equal(fx->st.ctr[STC_KIND_WARNINGS], 5);
}

/* The table is bounded: more mismatched containers than it holds are all
 * counted, and none is lost from the count when slots are reused. */
static void
r3_kind_warned_bounded(void **state)
{
	struct fx *fx = *state;
	size_t n = STORE_KIND_WARNED_MAX + 10, i;
	struct wire_container *c = calloc(n, sizeof(*c));
	struct rules_result r;
	char id[32];

	assert_non_null(c);
	log_init("recon-store-test", "text", 0);
	testfx_workload(fx->db, "w1", "stack");
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "d%zu", i);
		c[i] = ctr(fx, id, "running", 1, "w1", "site", NULL);
	}
	assert_int_equal(apply_logged(fx, snap("h", 1, true, c, n),
	                              "differs from workload", &r),
	                 n);
	assert_int_equal(r.ignored_kind, n);
	assert_int_equal(fx->st.nkind_warned, STORE_KIND_WARNED_MAX);
	/* a second pass: only what fell out of the table warns again */
	apply_logged(fx, snap("h", 2, true, c, n), "differs from workload", &r);
	assert_int_equal(r.ignored_kind, n);
	assert_true(fx->st.ctr[STC_KIND_WARNINGS] <= 2 * n);
	assert_int_equal(fx->st.ctr[STC_IGNORED_KIND], 2 * n);
	free(c);
}

static void
r4_deployer_fields_kept(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[1];
	struct wire_row rw, before;

	testfx_workload(fx->db, "w1", "project");
	memset(&before, 0, sizeof(before));
	before.id = "p1";
	before.workload_id = "w1";
	before.workload_kind = "project";
	before.container_id = "d1";
	before.state = "created";
	before.host = "h";
	before.subdomain = "shop.example.org";
	before.proxy_route_id = "route-7";
	before.npm_proxy_id = "npm\x01-9";
	before.image_tag = "v1.2.3";
	before.stage_id = "stage-2";
	before.created_at = 1234;
	put_row(fx, &before);
	c[0] = ctr(fx, "d1", "running", 5, "w1", "project", "api");
	c[0].image = "shop:v2";
	c[0].ports = (int64_t[]){8443};
	c[0].nports = 1;
	apply(fx, snap("h2", 1, true, c, 1));
	assert_int_equal(row(fx, "p1", &rw), 1);
	/* Docker-derived: changed */
	assert_string_equal(rw.state, "running");
	assert_string_equal(rw.image_ref, "shop:v2");
	assert_string_equal(rw.role, "api");
	assert_string_equal(rw.host, "h2");
	assert_int_equal(rw.port, 8443);
	assert_int_equal(rw.last_seen_at, 1700000000001);
	/* deployer-owned: byte for byte */
	assert_memory_equal(rw.subdomain, before.subdomain,
	                    strlen(before.subdomain) + 1);
	assert_memory_equal(rw.proxy_route_id, before.proxy_route_id,
	                    strlen(before.proxy_route_id) + 1);
	assert_memory_equal(rw.npm_proxy_id, before.npm_proxy_id,
	                    strlen(before.npm_proxy_id) + 1);
	assert_memory_equal(rw.image_tag, before.image_tag,
	                    strlen(before.image_tag) + 1);
	assert_memory_equal(rw.stage_id, before.stage_id,
	                    strlen(before.stage_id) + 1);
	assert_int_equal(rw.created_at, 1234);
	assert_int_equal(npub(fx, 0, "upsert"), 1);
	assert_string_equal(fx->pubs[0].ev.prev_state, "created");
	assert_string_equal(fx->pubs[0].topic, "container/w1/p1");
}

static void
r5_project_unbound_ignored(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[1];
	struct rules_result r;
	struct wire_row rw;

	testfx_workload(fx->db, "w1", "project");
	c[0] = ctr(fx, "d9", "running", 1, "w1", NULL, "web");
	r = apply(fx, snap("h", 1, true, c, 1));
	assert_int_equal(r.ignored_project, 1);
	assert_int_equal(r.changed, 0);
	assert_int_equal(row(fx, "w1:web", &rw), 0);
	assert_int_equal(row(fx, "w1:d9", &rw), 0);
	assert_string_equal(bound(fx, "d9"), "");
	assert_int_equal(fx->st.ctr[STC_IGNORED_PROJECT], 1);
}

static void
r6_row_naming(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[3];
	struct wire_row rw;

	testfx_workload(fx->db, "s1", "site");
	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "s1", NULL, "ignored-role");
	c[1] = ctr(fx, "d2", "running", 1, "k1", NULL, "db");
	c[2] = ctr(fx, "d3", "running", 1, "k1", NULL, NULL);
	apply(fx, snap("h", 1, true, c, 3));
	assert_int_equal(row(fx, "s1:site", &rw), 1);
	assert_string_equal(rw.container_id, "d1");
	assert_string_equal(rw.workload_kind, "site");
	assert_int_equal(row(fx, "k1:db", &rw), 1);
	assert_string_equal(rw.role, "db");
	assert_int_equal(row(fx, "k1:d3", &rw), 1);
	assert_string_equal(rw.role, "");
	assert_string_equal(bound(fx, "d1"), "s1:site");
	assert_string_equal(bound(fx, "d2"), "k1:db");
	assert_string_equal(bound(fx, "d3"), "k1:d3");
	assert_true(rw.created_at > 0);
}

static void
r6_running_beats_newer(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct rules_result r;
	struct wire_row rw;

	testfx_workload(fx->db, "s1", "site");
	c[0] = ctr(fx, "dnew", "exited", 200, "s1", NULL, NULL);
	c[1] = ctr(fx, "dold", "running", 100, "s1", NULL, NULL);
	r = apply(fx, snap("h", 1, true, c, 2));
	assert_int_equal(r.changed, 1);
	assert_int_equal(row(fx, "s1:site", &rw), 1);
	assert_string_equal(rw.container_id, "dold");
	assert_string_equal(rw.state, "running");
	/* the same, listed the other way round */
	c[0] = ctr(fx, "dold", "running", 100, "s1", NULL, NULL);
	c[1] = ctr(fx, "dnew", "exited", 200, "s1", NULL, NULL);
	r = apply(fx, snap("h", 2, true, c, 2));
	assert_int_equal(r.changed, 0);
	assert_int_equal(row(fx, "s1:site", &rw), 1);
	assert_string_equal(rw.container_id, "dold");
}

static void
r6_newer_created_wins(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[3];
	struct wire_row rw;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "dA", "exited", 100, "k1", NULL, "web");
	c[1] = ctr(fx, "dB", "exited", 300, "k1", NULL, "web");
	c[2] = ctr(fx, "dC", "dead", 200, "k1", NULL, "web");
	apply(fx, snap("h", 1, true, c, 3));
	assert_int_equal(row(fx, "k1:web", &rw), 1);
	assert_string_equal(rw.container_id, "dB");
	/* equal created: the greater Docker id, whatever the order */
	testfx_workload(fx->db, "k2", "stack");
	c[0] = ctr(fx, "e2", "running", 7, "k2", NULL, "api");
	c[1] = ctr(fx, "e9", "running", 7, "k2", NULL, "api");
	c[2] = ctr(fx, "e5", "running", 7, "k2", NULL, "api");
	apply(fx, snap("h", 2, true, c, 3));
	assert_int_equal(row(fx, "k2:api", &rw), 1);
	assert_string_equal(rw.container_id, "e9");
	/* the row moved off dB: its mapping went with it */
	c[0] = ctr(fx, "dB", "exited", 300, "k1", NULL, "web");
	c[1] = ctr(fx, "dD", "running", 50, "k1", NULL, "web");
	c[2] = ctr(fx, "e9", "running", 7, "k2", NULL, "api");
	apply(fx, snap("h", 3, true, c, 3));
	assert_int_equal(row(fx, "k1:web", &rw), 1);
	assert_string_equal(rw.container_id, "dD");
	assert_string_equal(bound(fx, "dB"), "");
	assert_string_equal(bound(fx, "dD"), "k1:web");
}

static void
r7_sweep_per_host(void **state)
{
	struct fx *fx = *state;
	struct wire_container a[2], b[1];
	struct rules_result r;
	struct wire_row rw;
	size_t mark;

	testfx_workload(fx->db, "k1", "stack");
	a[0] = ctr(fx, "a1", "running", 1, "k1", NULL, "a1");
	a[1] = ctr(fx, "a2", "running", 1, "k1", NULL, "a2");
	b[0] = ctr(fx, "b1", "running", 1, "k1", NULL, "b1");
	apply(fx, snap("hostA", 1, true, a, 2));
	apply(fx, snap("hostB", 1, true, b, 1));
	mark = fx->npubs;
	/* hostA lists only a1: a2 goes missing, hostB's b1 stays */
	r = apply(fx, snap("hostA", 2, true, a, 1));
	assert_int_equal(r.missing, 1);
	assert_int_equal(r.changed, 0);
	assert_int_equal(row(fx, "k1:a2", &rw), 1);
	assert_string_equal(rw.state, "missing");
	assert_string_equal(rw.container_id, "a2");
	assert_int_equal(row(fx, "k1:b1", &rw), 1);
	assert_string_equal(rw.state, "running");
	assert_int_equal(row(fx, "k1:a1", &rw), 1);
	assert_string_equal(rw.state, "running");
	assert_int_equal(npub(fx, mark, "missing"), 1);
	assert_string_equal(fx->pubs[mark].ev.prev_state, "running");
	assert_string_equal(fx->pubs[mark].topic, "container/k1/k1:a2");
	/* already missing: not again */
	r = apply(fx, snap("hostA", 3, true, a, 1));
	assert_int_equal(r.missing, 0);
	/* an empty complete snapshot of hostB sweeps b1 only */
	r = apply(fx, snap("hostB", 2, true, NULL, 0));
	assert_int_equal(r.missing, 1);
	assert_int_equal(row(fx, "k1:a1", &rw), 1);
	assert_string_equal(rw.state, "running");
	assert_int_equal(fx->st.ctr[STC_ROWS_MISSING], 2);
}

/* R8: a container that is there but whose input was refused (by the
 * lister: the snapshot's skipped; by the store: a role breaking the id
 * pattern) keeps its row: only a container gone from the list is swept. */
static void
r8_refused_input_keeps_row(void **state)
{
	struct fx *fx = *state;
	struct wire_container a[2];
	struct wire_snapshot s;
	struct rules_result r;
	struct wire_row rw;
	char *skipped[] = {"a1"};

	testfx_workload(fx->db, "k1", "stack");
	a[0] = ctr(fx, "a1", "running", 1, "k1", NULL, "one");
	a[1] = ctr(fx, "a2", "running", 1, "k1", NULL, "two");
	apply(fx, snap("h", 1, true, a, 2));
	/* a1's labels grew too long for the lister: it names a1 skipped */
	s = snap("h", 2, true, &a[1], 1);
	s.skipped = skipped;
	s.nskipped = 1;
	r = apply(fx, s);
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.kept, 1);
	assert_int_equal(row(fx, "k1:one", &rw), 1);
	assert_string_equal(rw.state, "running");
	/* a2's role now breaks the id pattern: ignored, its row kept */
	a[1] = ctr(fx, "a2", "running", 1, "k1", NULL, "bad/role");
	r = apply(fx, snap("h", 3, true, a, 2));
	assert_int_equal(r.ignored_invalid, 1);
	assert_int_equal(r.missing, 0);
	assert_int_equal(row(fx, "k1:two", &rw), 1);
	assert_string_equal(rw.state, "running");
	assert_int_equal(fx->st.ctr[STC_SWEEP_KEPT], 2);
	/* gone from the list for real: swept */
	r = apply(fx, snap("h", 4, true, a, 1));
	assert_int_equal(r.missing, 1);
	assert_int_equal(row(fx, "k1:two", &rw), 1);
	assert_string_equal(rw.state, "missing");
}

static void
r7_unbound_rows_not_swept(void **state)
{
	struct fx *fx = *state;
	struct wire_row rw, pending;
	struct rules_result r;

	testfx_workload(fx->db, "p", "project");
	memset(&pending, 0, sizeof(pending));
	pending.id = "p:planned";
	pending.workload_id = "p";
	pending.host = "h";
	pending.state = "created";
	put_row(fx, &pending);
	r = apply(fx, snap("h", 1, true, NULL, 0));
	assert_int_equal(r.missing, 0);
	assert_int_equal(row(fx, "p:planned", &rw), 1);
	assert_string_equal(rw.state, "created");
}

static void
r8_incomplete_sweeps_nothing(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct rules_result r;
	struct wire_row rw;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	c[1] = ctr(fx, "d2", "running", 1, "k1", NULL, "y");
	apply(fx, snap("h", 1, true, c, 2));
	c[0] = ctr(fx, "d1", "exited", 1, "k1", NULL, "x");
	r = apply(fx, snap("h", 2, false, c, 1));
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.changed, 1); /* its upserts still apply */
	assert_int_equal(row(fx, "k1:y", &rw), 1);
	assert_string_equal(rw.state, "running");
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	assert_string_equal(rw.state, "stopped");
	assert_int_equal(fx->st.ctr[STC_INCOMPLETE], 1);
}

static void
r9_state_mapping(void **state)
{
	static const struct {
		const char *docker, *row;
	} cases[] = {
	    {"running", "running"},
	    {"exited", "stopped"},
	    {"dead", "stopped"},
	    {"stopped", "stopped"},
	    {"created", "created"},
	    {"restarting", "restarting"},
	    {"paused", "paused"},
	    {"removing", "removing"},
	    {"hibernating", "hibernating"},
	    {"", ""},
	};
	struct fx *fx = *state;
	struct wire_container c[1];
	struct wire_row rw;
	char role[16];
	size_t i;

	testfx_workload(fx->db, "k1", "stack");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(rules_state_map(cases[i].docker),
		                    cases[i].row);
		snprintf(role, sizeof(role), "r%zu", i);
		c[0] = ctr(fx, role, cases[i].docker, 1, "k1", NULL, role);
		apply(fx, snap("h", i + 1, false, c, 1));
		snprintf(role, sizeof(role), "k1:r%zu", i);
		assert_int_equal(row(fx, role, &rw), 1);
		assert_string_equal(rw.state, cases[i].row);
	}
}

static void
r10_first_public_port(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct wire_row rw;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "a");
	c[0].ports = (int64_t[]){8080, 443, 9090};
	c[0].nports = 3;
	c[1] = ctr(fx, "d2", "running", 1, "k1", NULL, "b");
	apply(fx, snap("h", 1, true, c, 2));
	assert_int_equal(row(fx, "k1:a", &rw), 1);
	assert_int_equal(rw.port, 8080);
	assert_int_equal(row(fx, "k1:b", &rw), 1);
	assert_int_equal(rw.port, 0);
	/* a port change is a change */
	c[1].ports = (int64_t[]){3000};
	c[1].nports = 1;
	assert_int_equal(apply(fx, snap("h", 2, true, c, 2)).changed, 1);
	assert_int_equal(row(fx, "k1:b", &rw), 1);
	assert_int_equal(rw.port, 3000);
}

static void
unchanged_snapshot_is_quiet(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct rules_result r;
	struct wire_row rw;
	uint64_t h;
	size_t mark;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	c[1] = ctr(fx, "d2", "exited", 1, "k1", NULL, "y");
	r = apply(fx, snap("h", 1, true, c, 2));
	assert_int_equal(r.changed, 2);
	assert_int_equal(head(fx), 3); /* two upserts and the pass */
	h = head(fx);
	mark = fx->npubs;
	r = apply(fx, snap("h", 2, true, c, 2));
	assert_int_equal(r.changed, 0);
	assert_int_equal(r.missing, 0);
	assert_int_equal(head(fx), h + 1); /* the pass alone */
	assert_int_equal(fx->npubs, mark + 1);
	assert_int_equal(npub(fx, mark, "pass"), 1);
	assert_string_equal(fx->pubs[mark].topic, "sys/pass");
	assert_int_equal(fx->pubs[mark].ev.rev, h + 1);
	assert_int_equal(fx->pubs[mark].ev.seen, 2);
	assert_int_equal(fx->pubs[mark].ev.changed, 0);
	assert_int_equal(fx->pubs[mark].ev.gen, 2);
	/* but last_seen_at moved on, quietly */
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	assert_int_equal(rw.last_seen_at, 1700000000002);
}

static int
del_row_body(struct dbtx *tx, void *arg)
{
	return db_row_del(tx, arg) == -1 ? -1 : 0;
}

/* by_docker as a database from before digests has it */
static int
undigest_body(struct dbtx *tx, void *arg)
{
	(void)arg;
	return db_docker_put(tx, "d1", "k1:x");
}

static int
digest_body(struct dbtx *tx, void *arg)
{
	char rid[WIRE_ID_MAX + 1];

	return db_docker_find(tx, "d1", rid, arg) == 1 ? 0 : -1;
}

static uint64_t
digest_of_d1(struct fx *fx)
{
	uint64_t d = 0;

	assert_int_equal(db_read(fx->db, digest_body, &d), 0);
	return d;
}

/*
 * A pass that finds nothing to change reads no row: by_docker vouches for
 * the row's Docker-derived fields with a digest. Every other write of the
 * row must keep that digest true, and last_seen_at, not rewritten, must
 * still read right.
 */
static void
quiet_passes_stay_right(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct wire_row rw;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	c[1] = ctr(fx, "d2", "running", 1, "k1", NULL, "y");
	assert_int_equal(apply(fx, snap("h", 1, true, c, 2)).changed, 2);
	assert_true(digest_of_d1(fx) != 0);
	/* an index entry without a digest gets one from the next pass */
	assert_int_equal(db_write(fx->db, undigest_body, NULL), 0);
	assert_true(digest_of_d1(fx) == 0);
	assert_int_equal(apply(fx, snap("h", 2, true, c, 2)).changed, 0);
	assert_true(digest_of_d1(fx) != 0);

	/* the deployer overwrites a Docker-derived field: the pass restores
	 * it (R4) */
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	rw.state = "stopped";
	put_row(fx, &rw);
	assert_int_equal(apply(fx, snap("h", 3, true, c, 2)).changed, 1);
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	assert_string_equal(rw.state, "running");

	/* a row deleted behind the index's back is made again (R6) */
	assert_int_equal(db_write(fx->db, del_row_body, "k1:y"), 0);
	assert_int_equal(row(fx, "k1:y", &rw), 0);
	assert_int_equal(apply(fx, snap("h", 4, true, c, 2)).changed, 1);
	assert_int_equal(row(fx, "k1:y", &rw), 1);

	/* the workload's kind changes: every bound row follows (R4) */
	testfx_workload(fx->db, "k1", "project");
	assert_int_equal(apply(fx, snap("h", 5, true, c, 2)).changed, 2);
	assert_int_equal(row(fx, "k1:y", &rw), 1);
	assert_string_equal(rw.workload_kind, "project");
	assert_int_equal(apply(fx, snap("h", 6, true, c, 2)).changed, 0);
	assert_int_equal(rw.last_seen_at, 1700000000005);
	assert_int_equal(row(fx, "k1:y", &rw), 1);
	assert_int_equal(rw.last_seen_at, 1700000000006);

	/* swept: it keeps the time of the last pass that saw it */
	assert_int_equal(apply(fx, snap("h", 7, true, c, 1)).missing, 1);
	assert_int_equal(row(fx, "k1:y", &rw), 1);
	assert_string_equal(rw.state, "missing");
	assert_int_equal(rw.last_seen_at, 1700000000006);
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	assert_int_equal(rw.last_seen_at, 1700000000007);
	/* and comes back when its container does */
	assert_int_equal(apply(fx, snap("h", 8, true, c, 2)).changed, 1);
	assert_int_equal(row(fx, "k1:y", &rw), 1);
	assert_string_equal(rw.state, "running");

	/* a delta that changes nothing writes nothing: the row reads the
	 * time of its host's last pass */
	{
		struct wire_delta d;
		struct rules_result r;

		memset(&d, 0, sizeof(d));
		d.host = "h";
		d.gen = 9;
		d.containers = c;
		d.ncontainers = 1;
		assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
		assert_int_equal(r.changed, 0);
		assert_int_equal(row(fx, "k1:x", &rw), 1);
		assert_int_equal(rw.last_seen_at, 1700000000008);
	}
}

/*
 * A delta (a re-read after a Docker event) whose containers show what is
 * stored changes nothing and commits nothing: the head revision and the
 * commit counter stay, no event goes out. One that changes a row commits
 * once, with the row's event.
 */
static void
delta_unchanged_commits_nothing(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct wire_delta d;
	struct rules_result r;
	struct wire_row rw;
	uint64_t h0, c0;
	size_t n0;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	c[1] = ctr(fx, "d2", "running", 1, "k1", NULL, "y");
	apply(fx, snap("h", 1, true, c, 2));
	h0 = head(fx);
	c0 = db_commits(fx->db);
	n0 = fx->npubs;
	memset(&d, 0, sizeof(d));
	d.host = "h";
	d.gen = 2;
	d.containers = c;
	d.ncontainers = 2;
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_true(r.applied);
	assert_int_equal(r.changed, 0);
	assert_int_equal(head(fx), h0);
	assert_int_equal(db_commits(fx->db), c0);
	assert_int_equal(fx->npubs, n0);
	assert_int_equal(fx->st.ctr[STC_DELTAS], 1);
	assert_int_equal(fx->st.ctr[STC_DELTAS_UNCHANGED], 1);
	assert_int_equal(row(fx, "k1:y", &rw), 1);
	assert_int_equal(rw.last_seen_at, 1700000000001);

	c[1] = ctr(fx, "d2", "exited", 1, "k1", NULL, "y");
	d.gen = 3;
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_int_equal(r.changed, 1);
	assert_int_equal(head(fx), h0 + 1);
	assert_int_equal(db_commits(fx->db), c0 + 1);
	assert_int_equal(fx->npubs, n0 + 1);
	assert_int_equal(fx->st.ctr[STC_DELTAS_UNCHANGED], 1);
	assert_int_equal(row(fx, "k1:y", &rw), 1);
	assert_string_equal(rw.state, "stopped");
	assert_true(rw.last_seen_at > 1700000000001);
}

static int
log_collect(void *arg, uint64_t rev, const char *topic, const void *body,
            size_t len)
{
	struct fx *fx = ((void **)arg)[0];
	size_t *n = ((void **)arg)[1];
	struct wire_event ev;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_event(body, len, fx->a, &ev, err), 0);
	assert_int_equal(ev.rev, rev);
	/* the log holds what was published (revs start at 1, none lost) */
	assert_true(rev >= 1 && rev <= fx->npubs);
	assert_string_equal(topic, fx->pubs[rev - 1].topic);
	assert_int_equal(rev, fx->pubs[rev - 1].ev.rev);
	(*n)++;
	return 0;
}

static int
log_body(struct dbtx *tx, void *arg)
{
	return db_events_each(tx, 0, UINT64_MAX, log_collect, arg);
}

static void
revisions_and_change_log(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[3];
	size_t n = 0, i;
	void *args[2] = {fx, &n};

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	c[1] = ctr(fx, "d2", "running", 1, "k1", NULL, "y");
	c[2] = ctr(fx, "d3", "running", 1, "k1", NULL, "z");
	apply(fx, snap("h", 1, true, c, 3));
	apply(fx, snap("h", 2, true, c, 1));
	/* 3 upserts + pass, 2 missing + pass */
	assert_int_equal(head(fx), 7);
	assert_int_equal(fx->npubs, 7);
	for (i = 0; i < fx->npubs; i++)
		assert_int_equal(fx->pubs[i].ev.rev, i + 1);
	assert_int_equal(db_read(fx->db, log_body, args), 0);
	assert_int_equal(n, 7);
	assert_int_equal(oldest(fx), 1);
	assert_int_equal(fx->st.ctr[STC_SNAPSHOTS], 2);
	assert_int_equal(db_events_committed(fx->db), 7);
}

static int
failing_body(struct dbtx *tx, void *arg)
{
	struct wire_event ev;
	struct wire_row rw;

	memset(&rw, 0, sizeof(rw));
	rw.id = "r";
	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_CONTAINER;
	ev.op = "upsert";
	ev.row = &rw;
	if (db_row_put(tx, &rw) == -1 || db_event(tx, &ev) == -1)
		return -1;
	return -1; /* abort after writing: nothing may stay */
}

static void
aborted_write_leaves_nothing(void **state)
{
	struct fx *fx = *state;
	struct wire_row rw;

	assert_int_equal(db_write(fx->db, failing_body, NULL), -1);
	assert_int_equal(head(fx), 0);
	assert_int_equal(fx->npubs, 0);
	assert_int_equal(row(fx, "r", &rw), 0);
}

static void
retain_trims_log(void **state)
{
	struct fx *fx = teardown(state) == 0 ? fx_open(1 << 20, 5) : NULL;
	struct wire_container c[1];
	size_t n = 0;
	void *args[2] = {fx, &n};
	uint64_t i;

	*state = fx;
	testfx_workload(fx->db, "k1", "stack");
	for (i = 1; i <= 10; i++) {
		c[0] = ctr(fx, "d1", i % 2 ? "running" : "exited", 1, "k1",
		           NULL, "x");
		apply(fx, snap("h", i, true, c, 1));
	}
	assert_int_equal(head(fx), 20);
	assert_int_equal(fx->npubs, 20);
	assert_int_equal(oldest(fx), 16);
	assert_int_equal(db_read(fx->db, log_body, args), 0);
	assert_int_equal(n, 5); /* revs 16..20 */
}

static int
count_body(struct dbtx *tx, void *arg)
{
	struct db_stats *s = arg;

	return db_stats(tx, s);
}

static void
map_full_grows(void **state)
{
	struct fx *fx =
	    teardown(state) == 0 ? fx_open(DB_MAP_MIN, 100000) : NULL;
	enum { N = 3000 };
	struct wire_container *c = calloc(N, sizeof(*c));
	struct rules_result r;
	struct db_stats s;
	struct wire_row rw;
	char id[80], role[32];
	size_t i;

	*state = fx;
	testfx_workload(fx->db, "k1", "stack");
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%064zx", i);
		snprintf(role, sizeof(role), "role-%zu", i);
		c[i] = ctr(fx, id, "running", (int64_t)i, "k1", NULL, role);
	}
	r = apply(fx, snap("h", 1, true, c, N));
	assert_int_equal(r.changed, N);
	assert_true(db_map_resizes(fx->db) > 0);
	assert_int_equal(fx->st.ctr[STC_WRITE_ERRORS], 0);
	assert_int_equal(db_read(fx->db, count_body, &s), 0);
	assert_int_equal(s.rows, N);
	assert_int_equal(s.bound, N);
	assert_true(s.map_size > DB_MAP_MIN);
	/* each event published once, after the one commit that counted */
	assert_int_equal(fx->npubs, N + 1);
	assert_int_equal(head(fx), N + 1);
	assert_int_equal(row(fx, "k1:role-2999", &rw), 1);
	free(c);
}

static void
delta_upserts_and_gone(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[2];
	struct wire_delta d;
	struct rules_result r;
	struct wire_row rw;
	char *gone[2] = {"d1", "never-seen"};

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	c[1] = ctr(fx, "d2", "running", 1, "k1", NULL, "y");
	apply(fx, snap("h", 5, true, c, 2));
	memset(&d, 0, sizeof(d));
	d.host = "h";
	d.gen = 6;
	c[0] = ctr(fx, "d3", "created", 1, "k1", NULL, "z");
	d.containers = c;
	d.ncontainers = 1;
	d.gone = gone;
	d.ngone = 2;
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_int_equal(r.changed, 1);
	assert_int_equal(r.missing, 1);
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	assert_string_equal(rw.state, "missing");
	assert_int_equal(row(fx, "k1:y", &rw), 1); /* no sweep */
	assert_string_equal(rw.state, "running");
	assert_int_equal(row(fx, "k1:z", &rw), 1);
	assert_string_equal(rw.state, "created");
	assert_int_equal(npub(fx, 0, "pass"), 1); /* none for the delta */
	assert_int_equal(fx->st.ctr[STC_DELTAS], 1);
}

static void
stale_gens_dropped(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[1];
	struct wire_snapshot s;
	struct wire_delta d;
	struct rules_result r;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	s = snap("h", 10, true, c, 1);
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	assert_true(r.applied);
	s = snap("h", 9, true, NULL, 0);
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	assert_false(r.applied);
	memset(&d, 0, sizeof(d));
	d.host = "h";
	d.gen = 3;
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_false(r.applied);
	assert_int_equal(fx->st.ctr[STC_STALE], 2);
	/* another host has its own gen */
	s = snap("other", 1, true, NULL, 0);
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	assert_true(r.applied);
	/* a lower gen is stale however it comes (no pipe exception: a
	 * lister's gen never goes back), and a delta's gen counts too */
	s = snap("h", 1, true, NULL, 0);
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	assert_false(r.applied);
	d.gen = 12;
	assert_int_equal(ingest_delta(&fx->st, &d, &r), 0);
	assert_true(r.applied);
	s = snap("h", 11, true, NULL, 0);
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	assert_false(r.applied);
	assert_int_equal(fx->st.ctr[STC_STALE], 4);
	/* the same gen again is not stale */
	s = snap("h", 12, true, NULL, 0);
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	assert_true(r.applied);
	assert_int_equal(r.missing, 1);
	assert_int_equal(fx->st.ctr[STC_SNAPSHOTS], 3);
}

static void
plugin_results(void **state)
{
	struct fx *fx = *state;
	struct wire_plugin_result pr;
	struct wire_workload w;
	size_t mark = 0;

	testfx_workload(fx->db, "k1", "stack");
	memset(&pr, 0, sizeof(pr));
	pr.workload_id = "k1";
	pr.reason = "pass";
	pr.ok = false;
	pr.error = "exit 3";
	pr.started_at = 1000;
	pr.duration_ms = 42;
	assert_int_equal(results_apply(&fx->st, &pr), 0);
	pr.ok = true;
	pr.error = "";
	pr.started_at = 2000;
	pr.reason = "manual";
	assert_int_equal(results_apply(&fx->st, &pr), 0);
	assert_int_equal(npub(fx, mark, "plugin"), 2);
	w = *fx->pubs[1].ev.workload;
	assert_string_equal(fx->pubs[1].topic, "workload/k1");
	assert_int_equal(w.plugin.runs, 2);
	assert_int_equal(w.plugin.failures, 1);
	assert_true(w.plugin.last_ok);
	assert_int_equal(w.plugin.last_ok_at, 2000);
	assert_int_equal(w.plugin.last_run_at, 2000);
	assert_string_equal(w.plugin.last_reason, "manual");
	assert_int_equal(w.plugin.duration_ms, 42);
	pr.workload_id = "ghost";
	assert_int_equal(results_apply(&fx->st, &pr), 0);
	assert_int_equal(fx->st.ctr[STC_PLUGIN_UNKNOWN], 1);
	assert_int_equal(fx->st.ctr[STC_PLUGIN_RESULTS], 2);
	assert_int_equal(head(fx), 2);
}

static void
ingest_decodes_and_counts(void **state)
{
	struct fx *fx = *state;
	static const unsigned char garbage[] = {0x93, 0x01, 0xc1, 0xff};
	struct wire_container c[1];
	struct wire_snapshot s;
	struct wire_dispatch dj;
	struct wbuf b = {0};
	struct wire_row rw;

	testfx_workload(fx->db, "k1", "stack");
	assert_int_equal(ingest_message(&fx->st, garbage, sizeof(garbage), 0),
	                 0);
	assert_int_equal(fx->st.ctr[STC_BAD_MESSAGES], 1);
	memset(&dj, 0, sizeof(dj));
	dj.reason = "pass";
	assert_int_equal(wire_encode_dispatch(&b, &dj), 0);
	assert_int_equal(ingest_message(&fx->st, b.data, b.len, 0), 0);
	assert_int_equal(fx->st.ctr[STC_UNKNOWN_MESSAGES], 1);
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	s = snap("h", 1, true, c, 1);
	wbuf_reset(&b);
	assert_int_equal(wire_encode_snapshot(&b, &s), 0);
	/* truncated: rejected whole, nothing applied */
	assert_int_equal(ingest_message(&fx->st, b.data, b.len - 3, 0), 0);
	assert_int_equal(fx->st.ctr[STC_BAD_MESSAGES], 2);
	assert_int_equal(row(fx, "k1:x", &rw), 0);
	assert_int_equal(ingest_message(&fx->st, b.data, b.len, 0), 0);
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	assert_int_equal(fx->st.ctr[STC_SNAPSHOTS], 1);
	wbuf_free(&b);
}

static void
pass_event_counts(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[4];
	const struct wire_event *ev;

	testfx_workload(fx->db, "k1", "stack");
	testfx_workload(fx->db, "s1", "site");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	c[1] = ctr(fx, "d2", "running", 1, "ghost", NULL, NULL);
	c[2] = ctr(fx, "d3", "running", 1, "s1", "stack", NULL);
	c[3] = ctr(fx, "d4", "running", 1, "k1", NULL, "y");
	apply(fx, snap("h", 1, true, c, 4));
	apply(fx, snap("h", 2, true, c, 1));
	ev = &fx->pubs[fx->npubs - 1].ev;
	assert_int_equal(ev->type, WIRE_EV_PASS);
	assert_string_equal(ev->host, "h");
	assert_int_equal(ev->gen, 2);
	assert_int_equal(ev->seen, 1);
	assert_int_equal(ev->changed, 0);
	assert_int_equal(ev->missing, 1);
	ev = &fx->pubs[2].ev;
	assert_int_equal(ev->type, WIRE_EV_PASS);
	assert_int_equal(ev->seen, 4);
	assert_int_equal(ev->changed, 2);
	assert_int_equal(ev->ignored_unknown, 1);
	assert_int_equal(ev->ignored_kind, 1);
}

static void
reopen_keeps_state(void **state)
{
	struct fx *fx = *state;
	struct wire_container c[1];
	struct db_stats s;
	struct wire_row rw;

	testfx_workload(fx->db, "k1", "stack");
	c[0] = ctr(fx, "d1", "running", 1, "k1", NULL, "x");
	apply(fx, snap("h", 1, true, c, 1));
	db_close(fx->db);
	fx->db = testfx_db_open(fx->dir, DB_MAP_MIN, 1ull << 30, 100);
	fx->st.db = fx->db;
	/* the stored map size wins over a smaller configured one */
	assert_int_equal(db_read(fx->db, count_body, &s), 0);
	assert_int_equal(s.map_size, 1 << 20);
	assert_int_equal(head(fx), 2);
	assert_int_equal(row(fx, "k1:x", &rw), 1);
	assert_string_equal(bound(fx, "d1"), "k1:x");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(r1_unlabeled_ignored, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r2_unknown_and_invalid_ids, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r3_kind_label, setup, teardown),
	    cmocka_unit_test_setup_teardown(r3_kind_warned_once, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r3_kind_warned_bounded, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r4_deployer_fields_kept, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r5_project_unbound_ignored, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r6_row_naming, setup, teardown),
	    cmocka_unit_test_setup_teardown(r6_running_beats_newer, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r6_newer_created_wins, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r7_sweep_per_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(r8_refused_input_keeps_row, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r7_unbound_rows_not_swept, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r8_incomplete_sweeps_nothing, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(r9_state_mapping, setup, teardown),
	    cmocka_unit_test_setup_teardown(r10_first_public_port, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(quiet_passes_stay_right, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(unchanged_snapshot_is_quiet, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(delta_unchanged_commits_nothing,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(revisions_and_change_log, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(aborted_write_leaves_nothing, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(retain_trims_log, setup, teardown),
	    cmocka_unit_test_setup_teardown(map_full_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(delta_upserts_and_gone, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(stale_gens_dropped, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(plugin_results, setup, teardown),
	    cmocka_unit_test_setup_teardown(ingest_decodes_and_counts, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(pass_event_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(reopen_keeps_state, setup,
	                                    teardown),
	};

	log_init("reconcile_test", "text", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
