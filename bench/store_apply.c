/*
 * store_apply.c: the cost of recon-store applying a snapshot of N
 * containers (all new, nothing changed, everything changed), beside bare
 * LMDB loops that put and read the same rows in one transaction: the
 * storage limit. Both use the same environment flags (durable commits).
 * Then deltas that re-read one workload's containers and find them as
 * stored (what most Docker events lead to): the time of each beside a
 * bare read of as many rows, and the durable commits they made.
 * usage: bench_store_apply N [REPS]   (prints one TSV line per measure)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "api.h"
#include "db.h"
#include "log.h"
#include "ingest.h"
#include "results.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define NWORKLOADS 100
#define NDELTAS    100 /* no-change deltas measured */

static struct wire_container *
make_containers(struct arena *a, size_t n, const char *prefix)
{
	struct wire_container *c = arena_alloc(a, n * sizeof(*c));
	char buf[160];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%064zx", i + 1);
		c[i].id = arena_strdup(a, buf);
		c[i].image = "registry.example/app:1.2.3";
		c[i].state = "running";
		c[i].created = 1700000000 + (int64_t)i;
		c[i].labels = arena_alloc(a, sizeof(struct wire_kv));
		c[i].nlabels = 1;
		snprintf(buf, sizeof(buf), "%sworkload.id", prefix);
		c[i].labels[0].key = arena_strdup(a, buf);
		snprintf(buf, sizeof(buf), "w%zu", i % NWORKLOADS);
		c[i].labels[0].val = arena_strdup(a, buf);
		c[i].ports = arena_alloc(a, sizeof(int64_t));
		c[i].ports[0] = 8000 + (int64_t)(i % 1000);
		c[i].nports = 1;
	}
	return c;
}

static __attribute__((noinline)) uint64_t
apply(struct store *st, struct wire_snapshot *snap)
{
	uint64_t t0 = mono_us();

	snap->gen++;
	if (ingest_snapshot(st, snap, NULL) != 0) {
		fprintf(stderr, "apply failed\n");
		exit(1);
	}
	return mono_us() - t0;
}

/* One delta; not inlined, and not under callgrind's toggles. */
static __attribute__((noinline)) uint64_t
apply_delta(struct store *st, struct wire_delta *d)
{
	uint64_t t0 = mono_us();

	d->gen++;
	if (ingest_delta(st, d, NULL) != 0) {
		fprintf(stderr, "delta failed\n");
		exit(1);
	}
	return mono_us() - t0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* The rows the store would hold, encoded the same way. */
static void
encode_rows(struct wire_container *c, size_t n, const char *state,
            struct wbuf *vals, size_t *offs, char (*keys)[160])
{
	size_t i;

	wbuf_reset(vals);
	for (i = 0; i < n; i++) {
		struct wire_row r = {0};
		char wid[16];
		snprintf(wid, sizeof(wid), "w%zu", i % NWORKLOADS);
		snprintf(keys[i], 160, "%s:%s", wid, c[i].id);
		r.id = keys[i];
		r.workload_id = wid;
		r.workload_kind = "stack";
		r.container_id = c[i].id;
		r.image_ref = c[i].image;
		r.host = "local";
		r.state = (char *)state;
		r.port = c[i].ports[0];
		r.last_seen_at = now_ms();
		r.created_at = now_ms();
		offs[i] = vals->len;
		wire_encode_row(vals, &r);
	}
	offs[n] = vals->len;
}

/* One write transaction putting every row (and its Docker id index).
 * Not inlined, so that callgrind --toggle-collect=bare_put counts it. */
static __attribute__((noinline)) uint64_t
bare_put(MDB_env *env, MDB_dbi rows, MDB_dbi idx, struct wire_container *c,
         size_t n, struct wbuf *vals, size_t *offs, char (*keys)[160])
{
	uint64_t t0 = mono_us();
	MDB_txn *txn;
	size_t i;

	mdb_txn_begin(env, NULL, 0, &txn);
	for (i = 0; i < n; i++) {
		MDB_val k = {strlen(keys[i]), keys[i]};
		MDB_val v = {offs[i + 1] - offs[i], vals->data + offs[i]};
		MDB_val dk = {strlen(c[i].id), c[i].id};
		if (mdb_put(txn, rows, &k, &v, 0) != 0 ||
		    mdb_put(txn, idx, &dk, &k, 0) != 0) {
			fprintf(stderr, "bare put failed\n");
			exit(1);
		}
	}
	mdb_txn_commit(txn);
	return mono_us() - t0;
}

/* One write transaction reading every row back (what a no-change pass
 * must at least do), committed like a pass that writes nothing. */
static __attribute__((noinline)) uint64_t
bare_get(MDB_env *env, MDB_dbi rows, size_t n, char (*keys)[160])
{
	uint64_t t0 = mono_us();
	MDB_txn *txn;
	size_t i;

	mdb_txn_begin(env, NULL, 0, &txn);
	for (i = 0; i < n; i++) {
		MDB_val k = {strlen(keys[i]), keys[i]}, v;
		if (mdb_get(txn, rows, &k, &v) != 0) {
			fprintf(stderr, "bare get failed\n");
			exit(1);
		}
	}
	mdb_txn_commit(txn);
	return mono_us() - t0;
}

/* A read-only transaction reading k rows: a no-change delta's floor. */
static __attribute__((noinline)) uint64_t
bare_read(MDB_env *env, MDB_dbi rows, size_t k, char (*keys)[160])
{
	uint64_t t0 = mono_us();
	MDB_txn *txn;
	size_t i;

	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	for (i = 0; i < k; i++) {
		MDB_val key = {strlen(keys[i * NWORKLOADS]),
		               keys[i * NWORKLOADS]},
		        v;
		if (mdb_get(txn, rows, &key, &v) != 0) {
			fprintf(stderr, "bare read failed\n");
			exit(1);
		}
	}
	mdb_txn_abort(txn);
	return mono_us() - t0;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	int reps = argc > 2 ? atoi(argv[2]) : 5, r;
	char dir[] = "/tmp/recon-bench.XXXXXX", bdir[512], cmd[600];
	struct arena *a = arena_new();
	struct wire_snapshot snap = {0};
	struct store st;
	struct db *db;
	uint64_t t_new, t[64], t_none, t_all, b_new, b_all, b_get;
	uint64_t td[NDELTAS], t_delta, b_delta, commits0, commits;
	struct wire_delta delta = {0};
	size_t i, k;

	if (reps < 1 || reps > 64 || n == 0)
		return 64;
	log_init("bench", "text", 0);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(bdir, sizeof(bdir), "%s/bare", dir);
	{
		struct db_config cfg = {.map_size = 64u << 20,
		                        .max_map_size = 64ull << 30,
		                        .retain = 100000};
		char sdir[512];
		snprintf(sdir, sizeof(sdir), "%s/store", dir);
		mkdir(sdir, 0700);
		cfg.dir = sdir;
		if ((db = db_open(&cfg)) == NULL ||
		    store_init(&st, db, "tinyforge.", -1) != 0)
			return 1;
	}
	for (i = 0; i < NWORKLOADS; i++) {
		char id[16];
		struct wbuf req = {0}, rep = {0};
		snprintf(id, sizeof(id), "w%zu", i);
		struct wire_workload w = {
		    .id = id, .name = id, .kind = "stack"};
		struct wire_request q = {.t = "workload.put", .workload = &w};
		wire_encode_request(&req, &q);
		api_handle(&st, req.data, req.len, 0, &rep);
		wbuf_free(&req);
		wbuf_free(&rep);
	}
	snap.host = "local";
	snap.complete = true;
	snap.taken_at = now_ms();
	snap.containers = make_containers(a, n, "tinyforge.");
	snap.ncontainers = n;

	t_new = apply(&st, &snap);
	for (r = 0; r < reps; r++)
		t[r] = apply(&st, &snap);
	t_none = median(t, reps);
	/* deltas of workload w0's containers (every NWORKLOADS-th), as
	 * stored: each changes nothing */
	k = (n + NWORKLOADS - 1) / NWORKLOADS;
	delta.host = "local";
	delta.gen = snap.gen;
	delta.containers = arena_alloc(a, k * sizeof(*delta.containers));
	for (i = 0; i < k; i++)
		delta.containers[i] = snap.containers[i * NWORKLOADS];
	delta.ncontainers = k;
	commits0 = db_commits(db);
	for (r = 0; r < NDELTAS; r++)
		td[r] = apply_delta(&st, &delta);
	t_delta = median(td, NDELTAS);
	commits = db_commits(db) - commits0;
	snap.gen = delta.gen;
	for (r = 0; r < reps; r++) {
		for (i = 0; i < n; i++)
			snap.containers[i].state = r % 2 ? "running" : "exited";
		t[r] = apply(&st, &snap);
	}
	t_all = median(t, reps);
	store_fini(&st);
	db_close(db);

	/* The bare loops, on an environment of their own. */
	{
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi rows, idx;
		struct wbuf vals = {0};
		size_t *offs = malloc((n + 1) * sizeof(*offs));
		char(*keys)[160] = malloc(n * 160);

		mkdir(bdir, 0700);
		mdb_env_create(&env);
		mdb_env_set_maxdbs(env, 4);
		/* room for every rewrite; small enough for valgrind to map */
		mdb_env_set_mapsize(env, (256ull << 20) + (uint64_t)n * 16384);
		if (mdb_env_open(env, bdir, 0, 0600) != 0) {
			fprintf(stderr, "unable to open the bare LMDB\n");
			return 1;
		}
		mdb_txn_begin(env, NULL, 0, &txn);
		mdb_dbi_open(txn, "rows", MDB_CREATE, &rows);
		mdb_dbi_open(txn, "by_docker", MDB_CREATE, &idx);
		mdb_txn_commit(txn);
		encode_rows(snap.containers, n, "running", &vals, offs, keys);
		b_new = bare_put(env, rows, idx, snap.containers, n, &vals,
		                 offs, keys);
		for (r = 0; r < reps; r++) {
			encode_rows(snap.containers, n,
			            r % 2 ? "running" : "stopped", &vals, offs,
			            keys);
			t[r] = bare_put(env, rows, idx, snap.containers, n,
			                &vals, offs, keys);
		}
		b_all = median(t, reps);
		for (r = 0; r < reps; r++)
			t[r] = bare_get(env, rows, n, keys);
		b_get = median(t, reps);
		for (r = 0; r < NDELTAS; r++)
			td[r] = bare_read(env, rows, k, keys);
		b_delta = median(td, NDELTAS);
		mdb_env_close(env);
		wbuf_free(&vals);
		free(offs);
		free(keys);
	}
	printf("N\tmeasure\trecon_us\tbaseline_us\tratio\n");
	printf("%zu\tall new\t%" PRIu64 "\t%" PRIu64 "\t%.2f\n", n, t_new,
	       b_new, (double)t_new / (double)b_new);
	printf("%zu\tnothing changed\t%" PRIu64 "\t%" PRIu64 "\t%.2f\n", n,
	       t_none, b_get, (double)t_none / (double)b_get);
	printf("%zu\teverything changed\t%" PRIu64 "\t%" PRIu64 "\t%.2f\n", n,
	       t_all, b_all, (double)t_all / (double)b_all);
	printf("%zu\tdelta, nothing changed (%zu of the containers)\t%" PRIu64
	       "\t%" PRIu64 "\t%.2f\n",
	       n, k, t_delta, b_delta,
	       (double)t_delta / (double)(b_delta > 0 ? b_delta : 1));
	/* a count, not a time: bench/run prints it as it is */
	printf("%zu\tdelta, nothing changed: durable commits per delta\t%.2f"
	       "\t0\t-\n",
	       n, (double)commits / NDELTAS);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	arena_free(a);
	return 0;
}
