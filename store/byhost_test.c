/*
 * byhost_test.c: the by_host index (db_byhost.c) on a real LMDB
 * environment in a temporary directory: it follows every row write,
 * host change, delete and hosts.forget; a host's sweep reads that host's
 * rows alone and marks missing exactly what a walk of every row finds; a
 * database from before the index, or written since by a store that does
 * not keep it, is indexed when opened. With the store closed, LMDB is
 * read directly to check that each row is listed once, under its host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "db.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "testfx.h"
#include "util.h"
#include "wire.h"

struct fx {
	char dir[64];
	struct db *db;
	struct store st;
	struct arena *a;
	struct testfx_pubs pub;
	json_object *last; /* the last reply, as JSON */
};

static void
fx_open(struct fx *fx)
{
	fx->db = testfx_store_open(&fx->st, fx->dir, &fx->pub);
}

static void
fx_close(struct fx *fx)
{
	store_fini(&fx->st);
	db_close(fx->db);
	fx->db = NULL;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testfx_mkdtemp(fx->dir, sizeof(fx->dir), "byhost");
	fx->a = arena_new();
	fx->pub.a = fx->a;
	fx_open(fx);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx->db != NULL)
		fx_close(fx);
	testfx_rmdir(fx->dir);
	json_object_put(fx->last);
	arena_free(fx->a);
	free(fx);
	return 0;
}

/* ---- input ---- */

/* A complete snapshot of host: containers ids[i] of workload wid with
 * role ids[i] (rows wid:ids[i]), and skipped (R8). */
static struct rules_result
sweep(struct fx *fx, const char *host, uint64_t gen, const char *wid,
      const char *const *ids, size_t n, char **skipped, size_t nskipped)
{
	struct wire_container cs[16];
	struct wire_snapshot s;
	struct rules_result r;
	size_t i;

	assert_true(n <= 16);
	for (i = 0; i < n; i++)
		cs[i] = testfx_container(fx->a, ids[i], "running", wid, ids[i]);
	memset(&s, 0, sizeof(s));
	s.host = (char *)host;
	s.gen = gen;
	s.taken_at = now_ms();
	s.complete = true;
	s.interval_ms = 1000;
	s.containers = cs;
	s.ncontainers = n;
	s.skipped = skipped;
	s.nskipped = nskipped;
	assert_int_equal(ingest_snapshot(&fx->st, &s, &r), 0);
	assert_true(r.applied);
	return r;
}

/* Writes row as container.put would (the old row's Docker id let go). */
static int
put_row_body(struct dbtx *tx, void *arg)
{
	struct wire_row *row = arg, old;
	struct arena *a = arena_new();
	int r;

	if ((r = db_row_get(tx, row->id, a, &old)) != -1)
		r = db_row_put(tx, row) == -1 ||
		            db_docker_rebind(tx, row->id,
		                             r == 1 ? old.container_id : NULL,
		                             row) == -1
		        ? -1
		        : 0;
	arena_free(a);
	return r;
}

/* Writes row over one that may not decode (not read first). */
static int
overwrite_row_body(struct dbtx *tx, void *arg)
{
	return db_row_put(tx, arg);
}

/* Row id of workload w1, on host, bound to cid, in state. */
static struct wire_row
mkrow(const char *id, const char *host, const char *cid, const char *state)
{
	struct wire_row row;

	memset(&row, 0, sizeof(row));
	row.id = (char *)id;
	row.workload_id = "w1";
	row.workload_kind = "stack";
	row.host = (char *)host;
	row.container_id = (char *)cid;
	row.state = (char *)state;
	return row;
}

static void
write_row(struct fx *fx, db_txn_fn body, const char *id, const char *host,
          const char *cid, const char *state)
{
	struct wire_row row = mkrow(id, host, cid, state);

	assert_int_equal(db_write(fx->db, body, &row), 0);
}

static void
put_row(struct fx *fx, const char *id, const char *host, const char *cid,
        const char *state)
{
	write_row(fx, put_row_body, id, host, cid, state);
}

static int
del_row_body(struct dbtx *tx, void *arg)
{
	return db_row_del(tx, arg) == 0 ? 0 : -1;
}

static void
del_row(struct fx *fx, const char *id)
{
	assert_int_equal(db_write(fx->db, del_row_body, (void *)id), 0);
}

/* ---- reading through the store ---- */

/* Row ids joined by commas: those a walk hands over, and those its skip
 * was asked about. */
struct ids {
	struct arena *a;
	const char *host;
	bool filter; /* the full walk: rows of host alone */
	char *got, *asked;
};

static char *
join(struct arena *a, const char *s, const char *id, size_t n)
{
	size_t m = s != NULL ? strlen(s) : 0;
	char *t = arena_alloc(a, m + n + 2);

	if (m > 0) {
		memcpy(t, s, m);
		t[m++] = ',';
	}
	memcpy(t + m, id, n);
	return t;
}

static bool
ids_skip(void *arg, const char *key, size_t len)
{
	struct ids *x = arg;

	x->asked = join(x->a, x->asked, key, len);
	return false;
}

static int
ids_add(void *arg, struct wire_row *row)
{
	struct ids *x = arg;

	if (x->filter && !str_eq(row->host, x->host))
		return 0;
	x->got = join(x->a, x->got, row->id, strlen(row->id));
	return 0;
}

static int
host_walk_body(struct dbtx *tx, void *arg)
{
	struct ids *x = arg;

	return db_host_rows_each(tx, x->host, ids_skip, ids_add, x);
}

static int
full_walk_body(struct dbtx *tx, void *arg)
{
	return db_rows_each(tx, NULL, ids_add, arg);
}

/* The rows of host through by_host ("" for none); *asked, when not
 * NULL, the ids its skip saw. */
static const char *
host_rows(struct fx *fx, struct db *db, const char *host, const char **asked)
{
	struct ids x = {fx->a, host, false, NULL, NULL};

	assert_int_equal(db_read(db, host_walk_body, &x), 0);
	if (asked != NULL)
		*asked = x.asked != NULL ? x.asked : "";
	return x.got != NULL ? x.got : "";
}

/* The rows of host as a walk of every row finds them. */
static const char *
all_rows_of(struct fx *fx, struct db *db, const char *host)
{
	struct ids x = {fx->a, host, true, NULL, NULL};

	assert_int_equal(db_read(db, full_walk_body, &x), 0);
	return x.got != NULL ? x.got : "";
}

/* Both walks agree for host, and by_host's skip saw host's rows alone. */
static void
same_rows(struct fx *fx, const char *host)
{
	const char *asked, *all = all_rows_of(fx, fx->db, host);

	assert_string_equal(host_rows(fx, fx->db, host, &asked), all);
	assert_string_equal(asked, all);
}

/* ---- reading LMDB directly (the store closed) ---- */

static void
raw_open(const char *dir, MDB_env **env)
{
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 8), 0);
	assert_int_equal(mdb_env_open(*env, dir, 0, 0640), 0);
}

static uint64_t
be64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

static MDB_val
val_of(const char *s)
{
	MDB_val v = {strlen(s), (void *)s};

	return v;
}

/*
 * Every row with a host is in its host's list, every item of by_host
 * names a stored row of that host, and there are as many items as rows
 * with a host: each row listed exactly once. The mark names the last
 * commit. Returns how many rows are listed.
 */
static size_t
index_check(struct fx *fx)
{
	char err[WIRE_ERR_LEN];
	MDB_val k, v, h, id, mk = val_of("by_host");
	MDB_dbi rows, idx, meta;
	MDB_cursor *c, *ci;
	struct wire_row row;
	MDB_envinfo info;
	struct arena *a;
	MDB_stat st;
	MDB_txn *txn;
	MDB_env *env;
	size_t hosted = 0;
	int rc;

	fx_close(fx);
	raw_open(fx->dir, &env);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "rows", 0, &rows), 0);
	assert_int_equal(mdb_dbi_open(txn, "by_host", MDB_DUPSORT, &idx), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_cursor_open(txn, rows, &c), 0);
	assert_int_equal(mdb_cursor_open(txn, idx, &ci), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		a = arena_new();
		assert_int_equal(
		    wire_decode_row(v.mv_data, v.mv_size, a, &row, err), 0);
		if (!str_empty(row.host)) {
			hosted++;
			h = val_of(row.host);
			id = k;
			assert_int_equal(
			    mdb_cursor_get(ci, &h, &id, MDB_GET_BOTH), 0);
		}
		arena_free(a);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	for (rc = mdb_cursor_get(ci, &h, &id, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(ci, &h, &id, MDB_NEXT)) {
		assert_int_equal(mdb_get(txn, rows, &id, &v), 0);
		a = arena_new();
		assert_int_equal(
		    wire_decode_row(v.mv_data, v.mv_size, a, &row, err), 0);
		assert_int_equal(strlen(row.host), h.mv_size);
		assert_memory_equal(row.host, h.mv_data, h.mv_size);
		arena_free(a);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	assert_int_equal(mdb_stat(txn, idx, &st), 0);
	assert_int_equal(st.ms_entries, hosted);
	assert_int_equal(mdb_env_info(env, &info), 0);
	assert_int_equal(mdb_get(txn, meta, &mk, &v), 0);
	assert_int_equal(v.mv_size, 8);
	assert_int_equal(be64(v.mv_data), info.me_last_txnid);
	mdb_cursor_close(ci);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	fx_open(fx);
	return hosted;
}

/* The id of the last commit, the store closed. */
static uint64_t
last_txnid(struct fx *fx)
{
	MDB_envinfo info;
	MDB_env *env;

	fx_close(fx);
	raw_open(fx->dir, &env);
	assert_int_equal(mdb_env_info(env, &info), 0);
	mdb_env_close(env);
	fx_open(fx);
	return info.me_last_txnid;
}

/* The database as a store from before the index left it: no by_host, no
 * mark. */
static void
unindex(struct fx *fx)
{
	MDB_val mk = val_of("by_host");
	MDB_dbi idx, meta;
	MDB_txn *txn;
	MDB_env *env;

	fx_close(fx);
	raw_open(fx->dir, &env);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "by_host", MDB_DUPSORT, &idx), 0);
	assert_int_equal(mdb_drop(txn, idx, 1), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_del(txn, meta, &mk, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "by_host", 0, &idx), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* Puts value (len bytes) under row id in rows as a store that does not
 * keep the index would; with mark, the mark follows as if it did. */
static void
raw_row(struct fx *fx, const char *id, const void *value, size_t len, bool mark)
{
	MDB_val k = val_of(id), v = {len, (void *)value};
	MDB_val mk = val_of("by_host"), mv;
	unsigned char b[8];
	MDB_dbi rows, meta;
	MDB_txn *txn;
	MDB_env *env;
	uint64_t t;
	int i;

	fx_close(fx);
	raw_open(fx->dir, &env);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "rows", 0, &rows), 0);
	assert_int_equal(mdb_put(txn, rows, &k, &v, 0), 0);
	if (mark) {
		t = mdb_txn_id(txn);
		for (i = 7; i >= 0; i--, t >>= 8)
			b[i] = (unsigned char)(t & 0xff);
		mv.mv_size = 8;
		mv.mv_data = b;
		assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
		assert_int_equal(mdb_put(txn, meta, &mk, &mv, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	fx_open(fx);
}

/* row as a store from before the index writes it */
static void
raw_put_row(struct fx *fx, const char *id, const char *host, const char *cid)
{
	struct wire_row row = mkrow(id, host, cid, "running");
	struct wbuf b = {0};

	assert_int_equal(wire_encode_row(&b, &row), 0);
	raw_row(fx, id, b.data, b.len, false);
	wbuf_free(&b);
}

static const char *
row_host(struct fx *fx, const char *id)
{
	struct wire_row rw;

	assert_int_equal(testfx_row(fx->db, fx->a, id, &rw), 1);
	return rw.host != NULL ? rw.host : "";
}

static const char *
row_state(struct fx *fx, const char *id)
{
	struct wire_row rw;

	assert_int_equal(testfx_row(fx->db, fx->a, id, &rw), 1);
	return rw.state;
}

/* ---- the cases ---- */

/* Writes, host changes both ways and deletes keep each row in its host's
 * list alone; a row with no host is in none. */
static void
follows_writes(void **state)
{
	struct fx *fx = *state;

	put_row(fx, "w1:a", "hA", "c-a", "running");
	put_row(fx, "w1:b", "hA", "c-b", "running");
	put_row(fx, "w1:c", "hB", "c-c", "running");
	put_row(fx, "w1:d", NULL, "c-d", "running");
	put_row(fx, "w1:e", "hA", NULL, "created");
	put_row(fx, "w1:f", "", "c-f", "running");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL),
	                    "w1:a,w1:b,w1:e");
	assert_string_equal(host_rows(fx, fx->db, "hB", NULL), "w1:c");
	assert_string_equal(host_rows(fx, fx->db, "", NULL), "");
	assert_int_equal(index_check(fx), 4);
	/* a state change: the row stays where it is */
	put_row(fx, "w1:a", "hA", "c-a", "stopped");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL),
	                    "w1:a,w1:b,w1:e");
	/* host changes: to another host, to none, from none */
	put_row(fx, "w1:b", "hB", "c-b", "running");
	put_row(fx, "w1:c", NULL, "c-c", "running");
	put_row(fx, "w1:d", "hC", "c-d", "running");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL), "w1:a,w1:e");
	assert_string_equal(host_rows(fx, fx->db, "hB", NULL), "w1:b");
	assert_string_equal(host_rows(fx, fx->db, "hC", NULL), "w1:d");
	del_row(fx, "w1:a");
	del_row(fx, "w1:c");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL), "w1:e");
	same_rows(fx, "hA");
	same_rows(fx, "hB");
	same_rows(fx, "hC");
	assert_int_equal(index_check(fx), 3);
	/* the host's list emptied: the host is gone from by_host */
	del_row(fx, "w1:e");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL), "");
	assert_int_equal(index_check(fx), 2);
}

/* R6: another host's container wins a row; the row moves to that host's
 * list, and the first host's sweep no longer sees it. */
static void
follows_r6_host_change(void **state)
{
	struct fx *fx = *state;
	static const char *const web[] = {"web"};
	struct rules_result r;

	testfx_workload(fx->db, "k1", "stack");
	sweep(fx, "hA", 1, "k1", web, 1, NULL, 0);
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL), "k1:web");
	/* hostB's container of the same role: R6 names the same row */
	sweep(fx, "hB", 1, "k1", web, 1, NULL, 0);
	assert_string_equal(row_host(fx, "k1:web"), "hB");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL), "");
	assert_string_equal(host_rows(fx, fx->db, "hB", NULL), "k1:web");
	assert_int_equal(index_check(fx), 1);
	/* hostA's empty pass: not its row any more */
	r = sweep(fx, "hA", 2, "k1", NULL, 0, NULL, 0);
	assert_int_equal(r.missing, 0);
	r = sweep(fx, "hB", 2, "k1", NULL, 0, NULL, 0);
	assert_int_equal(r.missing, 1);
	assert_string_equal(row_state(fx, "k1:web"), "missing");
	assert_int_equal(index_check(fx), 1);
}

/* One row as read before a pass. */
struct seen_row {
	char *id, *wid, *host, *cid, *state;
};

struct before {
	struct arena *a;
	struct seen_row *rows;
	size_t n;
};

static int
before_add(void *arg, struct wire_row *row)
{
	struct before *b = arg;
	struct seen_row *s;

	b->rows = arena_realloc(b->a, b->rows, b->n * sizeof(*b->rows),
	                        (b->n + 1) * sizeof(*b->rows));
	s = &b->rows[b->n++];
	s->id = arena_strdup(b->a, row->id);
	s->wid = arena_strdup(b->a, row->workload_id);
	s->host = arena_strdup(b->a, row->host != NULL ? row->host : "");
	s->cid = arena_strdup(b->a, row->container_id ? row->container_id : "");
	s->state = arena_strdup(b->a, row->state != NULL ? row->state : "");
	return 0;
}

static int
before_body(struct dbtx *tx, void *arg)
{
	return db_rows_each(tx, NULL, before_add, arg);
}

static bool
listed_in(const char *id, const char *const *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/*
 * A complete snapshot of host (containers ids, skipped) gives exactly
 * what the sweep over every row gave: from a walk of every row before
 * the pass, the rows of host bound to a container it does not list and
 * not missing turn missing, in row id order, one event each with the
 * state they had; those bound to a skipped container are kept and
 * counted; every other row is left as it was. Returns the swept ids.
 */
static const char *
sweep_as_before(struct fx *fx, const char *host, uint64_t gen,
                const char *const *ids, size_t n, char **skipped,
                size_t nskipped)
{
	struct before b = {fx->a, NULL, 0};
	uint64_t missing0 = fx->st.ctr[STC_ROWS_MISSING];
	uint64_t kept0 = fx->st.ctr[STC_SWEEP_KEPT];
	size_t i, nexp = 0, nkept = 0, mark, ev;
	const char *asked, *all;
	char *exp = NULL, topic[300];
	struct rules_result r;
	bool *swept;

	assert_int_equal(db_read(fx->db, before_body, &b), 0);
	swept = arena_alloc(fx->a, (b.n + 1) * sizeof(*swept));
	for (i = 0; i < b.n; i++) {
		if (strcmp(b.rows[i].host, host) != 0 ||
		    *b.rows[i].cid == '\0' ||
		    strcmp(b.rows[i].state, "missing") == 0 ||
		    listed_in(b.rows[i].cid, ids, n))
			continue;
		if (listed_in(b.rows[i].cid, (const char *const *)skipped,
		              nskipped)) {
			nkept++;
			continue;
		}
		swept[i] = true;
		nexp++;
		exp = join(fx->a, exp, b.rows[i].id, strlen(b.rows[i].id));
	}
	/* the index walk's skip is asked about host's rows and no other */
	all = all_rows_of(fx, fx->db, host);
	assert_string_equal(host_rows(fx, fx->db, host, &asked), all);
	assert_string_equal(asked, all);
	mark = fx->pub.n;
	r = sweep(fx, host, gen, "k1", ids, n, skipped, nskipped);
	assert_int_equal(r.missing, nexp);
	assert_int_equal(r.kept, nkept);
	assert_int_equal(fx->st.ctr[STC_ROWS_MISSING], missing0 + nexp);
	assert_int_equal(fx->st.ctr[STC_SWEEP_KEPT], kept0 + nkept);
	for (i = 0, ev = mark; i < b.n; i++) {
		if (!swept[i]) {
			assert_string_equal(row_state(fx, b.rows[i].id),
			                    b.rows[i].state);
			continue;
		}
		assert_string_equal(row_state(fx, b.rows[i].id), "missing");
		/* the events, in row id order */
		while (ev < fx->pub.n &&
		       fx->pub.ev[ev].type != WIRE_EV_CONTAINER)
			ev++;
		assert_true(ev < fx->pub.n);
		snprintf(topic, sizeof(topic), "container/%s/%s", b.rows[i].wid,
		         b.rows[i].id);
		assert_string_equal(fx->pub.topic[ev], topic);
		assert_string_equal(fx->pub.ev[ev].op, "missing");
		assert_string_equal(fx->pub.ev[ev].prev_state, b.rows[i].state);
		ev++;
	}
	for (; ev < fx->pub.n; ev++)
		assert_int_not_equal(fx->pub.ev[ev].type, WIRE_EV_CONTAINER);
	return exp != NULL ? exp : "";
}

/* A database of three hosts, rows with no host, unbound and missing
 * rows: each host's sweep as the walk of every row made it. */
static void
sweep_mixed(void **state)
{
	struct fx *fx = *state;
	static const char *const a[] = {"a0", "a1", "a2", "a3", "a4"};
	static const char *const a_now[] = {"a0", "a2"};
	static const char *const b[] = {"b0", "b1", "b2"};
	static const char *const c[] = {"c0"};
	char *skipped[] = {"a4"};

	testfx_workload(fx->db, "k1", "stack");
	testfx_workload(fx->db, "w1", "stack");
	sweep(fx, "hA", 1, "k1", a, 5, NULL, 0);
	sweep(fx, "hB", 1, "k1", b, 3, NULL, 0);
	sweep(fx, "hC", 1, "k1", c, 1, NULL, 0);
	put_row(fx, "w1:nohost", NULL, "z1", "running");
	put_row(fx, "w1:blank", "", "z2", "running");
	put_row(fx, "w1:planned", "hA", NULL, "created");
	put_row(fx, "w1:gone", "hA", "z3", "missing");
	put_row(fx, "w1:extra", "hA", "z4", "running");
	put_row(fx, "w1:bextra", "hB", "z5", "running");
	put_row(fx, "k1:a9", "hA", "z6", "stopped");
	assert_int_equal(index_check(fx), 14);
	/* a1, a3, k1:a9 and w1:extra go; a4 is skipped: kept */
	assert_string_equal(sweep_as_before(fx, "hA", 2, a_now, 2, skipped, 1),
	                    "k1:a1,k1:a3,k1:a9,w1:extra");
	assert_string_equal(sweep_as_before(fx, "hB", 2, NULL, 0, NULL, 0),
	                    "k1:b0,k1:b1,k1:b2,w1:bextra");
	assert_string_equal(sweep_as_before(fx, "hC", 2, c, 1, NULL, 0), "");
	/* again: what is missing stays so, quietly */
	assert_string_equal(sweep_as_before(fx, "hA", 3, a_now, 2, skipped, 1),
	                    "");
	/* a4 gone from the list for real */
	assert_string_equal(sweep_as_before(fx, "hA", 4, a_now, 2, NULL, 0),
	                    "k1:a4");
	assert_string_equal(row_state(fx, "w1:nohost"), "running");
	assert_string_equal(row_state(fx, "w1:blank"), "running");
	assert_string_equal(row_state(fx, "w1:planned"), "created");
	assert_int_equal(index_check(fx), 14);
}

/* hosts.forget walks the host's list: its bound rows turn missing, and
 * they stay listed under it (their host is unchanged). */
static void
follows_forget(void **state)
{
	struct fx *fx = *state;
	static const char *const a[] = {"a0", "a1"};
	static const char *const b[] = {"b0"};
	struct wire_request rq = {.t = "hosts.forget", .host = "hA"};

	testfx_workload(fx->db, "k1", "stack");
	testfx_workload(fx->db, "w1", "stack");
	sweep(fx, "hA", 1, "k1", a, 2, NULL, 0);
	sweep(fx, "hB", 1, "k1", b, 1, NULL, 0);
	put_row(fx, "w1:nohost", NULL, "z1", "running");
	put_row(fx, "w1:planned", "hA", NULL, "created");
	assert_true(testfx_call_as(&fx->st, &rq, 0, &fx->last));
	assert_int_equal(json_object_get_int64(testfx_get(fx->last, "missing")),
	                 2);
	assert_string_equal(row_state(fx, "k1:a0"), "missing");
	assert_string_equal(row_state(fx, "k1:a1"), "missing");
	assert_string_equal(row_state(fx, "k1:b0"), "running");
	assert_string_equal(row_state(fx, "w1:nohost"), "running");
	assert_string_equal(row_state(fx, "w1:planned"), "created");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL),
	                    "k1:a0,k1:a1,w1:planned");
	same_rows(fx, "hA");
	assert_int_equal(index_check(fx), 4);
}

static int
ro_walk_body(struct dbtx *tx, void *arg)
{
	struct ids *x = arg;

	return db_host_rows_each(tx, x->host, NULL, ids_add, x);
}

/*
 * A database from before the index (no by_host, no mark) is indexed in
 * the transaction that opens it; read-only, it opens as it is and a
 * host's rows are read from every row. Its sweeps then read the index.
 */
static void
old_database_indexed(void **state)
{
	struct fx *fx = *state;
	static const char *const a[] = {"a0", "a1", "a2"};
	static const char *const b[] = {"b0"};
	struct ids x = {fx->a, "hA", false, NULL, NULL};
	struct db_config cfg;
	struct rules_result r;
	struct db *ro;

	testfx_workload(fx->db, "k1", "stack");
	sweep(fx, "hA", 1, "k1", a, 3, NULL, 0);
	sweep(fx, "hB", 1, "k1", b, 1, NULL, 0);
	put_row(fx, "w1:nohost", NULL, "z1", "running");
	unindex(fx);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = fx->dir;
	cfg.map_size = 1 << 20;
	cfg.max_map_size = 1 << 28;
	cfg.retain = 100000;
	cfg.readonly = true;
	assert_non_null(ro = db_open(&cfg));
	assert_int_equal(db_read(ro, ro_walk_body, &x), 0);
	assert_string_equal(x.got, "k1:a0,k1:a1,k1:a2");
	db_close(ro);
	fx_open(fx);
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL),
	                    "k1:a0,k1:a1,k1:a2");
	assert_string_equal(host_rows(fx, fx->db, "hB", NULL), "k1:b0");
	assert_int_equal(index_check(fx), 4);
	r = sweep(fx, "hA", 2, "k1", a, 1, NULL, 0);
	assert_int_equal(r.missing, 2);
	assert_string_equal(row_state(fx, "k1:b0"), "running");
}

/*
 * A store that does not keep the index (an earlier version, run on the
 * database after this one) adds a row and moves another to a new host:
 * the mark is behind its commit, and the next open indexes again. A
 * reopen after our own commit indexes nothing: it commits nothing.
 */
static void
earlier_version_writes_reindexed(void **state)
{
	struct fx *fx = *state;
	static const char *const a[] = {"a0", "a1"};
	static const char *const b[] = {"b0", "b1"};
	uint64_t t;

	testfx_workload(fx->db, "k1", "stack");
	sweep(fx, "hA", 1, "k1", a, 2, NULL, 0);
	sweep(fx, "hB", 1, "k1", b, 2, NULL, 0);
	t = last_txnid(fx);
	assert_int_equal(last_txnid(fx), t);
	raw_put_row(fx, "k1:new", "hA", "n1");
	raw_put_row(fx, "k1:b0", "hA", "b0");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL),
	                    "k1:a0,k1:a1,k1:b0,k1:new");
	assert_string_equal(host_rows(fx, fx->db, "hB", NULL), "k1:b1");
	same_rows(fx, "hA");
	same_rows(fx, "hB");
	assert_int_equal(index_check(fx), 5);
	t = last_txnid(fx);
	assert_int_equal(last_txnid(fx), t);
}

/*
 * A stored row that does not decode: walks pass it over and log it, as
 * the walk of every row does; written anew with another host, its id
 * leaves every list (its old host could not be read).
 */
static void
undecodable_row_unlisted(void **state)
{
	struct fx *fx = *state;
	static const char *const a[] = {"a0", "a1"};

	testfx_workload(fx->db, "k1", "stack");
	sweep(fx, "hA", 1, "k1", a, 2, NULL, 0);
	raw_row(fx, "k1:a0", "\xc1", 1, true); /* msgpack's never-used byte */
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL), "k1:a1");
	assert_string_equal(all_rows_of(fx, fx->db, "hA"), "k1:a1");
	write_row(fx, overwrite_row_body, "k1:a0", "hB", "a0", "running");
	assert_string_equal(host_rows(fx, fx->db, "hA", NULL), "k1:a1");
	assert_string_equal(host_rows(fx, fx->db, "hB", NULL), "k1:a0");
	assert_int_equal(index_check(fx), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(follows_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(follows_r6_host_change, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(sweep_mixed, setup, teardown),
	    cmocka_unit_test_setup_teardown(follows_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(old_database_indexed, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(earlier_version_writes_reindexed,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(undecodable_row_unlisted, setup,
	                                    teardown),
	};

	log_init("recon-byhost-test", "text", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
