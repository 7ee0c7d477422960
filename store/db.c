/*
 * db.c: the LMDB side of recon-store (the only file that includes
 * <lmdb.h>). Single-threaded: one write transaction at a time, commits
 * synced to disk (LMDB's default), the map grown on demand.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "db.h"
#include "log.h"
#include "rules.h"
#include "util.h"

#define DB_KEY_MAX 511 /* LMDB's default key size limit */

struct db {
	MDB_env *env;
	MDB_dbi workloads, rows, by_docker, changes, meta;
	uint64_t map_size, max_map_size;
	uint64_t retain;
	uint64_t resizes;
	uint64_t committed;  /* events committed since open */
	uint64_t commits;    /* write transactions committed since open */
	bool readonly;       /* opened MDB_RDONLY (reconctl dump) */
	struct wbuf scratch; /* encoding buffer for puts */
	db_publish_fn publish;
	void *publish_arg;
};

/* A host's last complete pass, cached for one transaction. */
struct host_seen {
	char host[WIRE_ID_MAX + 1];
	int64_t at;     /* the snapshot's taken_at */
	int64_t stored; /* the store's clock when it was applied */
};

#define HOST_SEEN_CACHE 8

struct dbtx {
	struct db *db;
	MDB_txn *txn;
	bool write;
	struct host_seen seen[HOST_SEEN_CACHE];
	size_t nseen;
	bool map_full;    /* a put hit MDB_MAP_FULL: grow and rerun */
	bool dirty;       /* something was written: commit, else abort */
	uint64_t head;    /* revision of the last change, this txn's view */
	uint64_t head0;   /* head when the txn began */
	struct wbuf *out; /* messages to publish once committed */
	size_t nout, capout;
};

static MDB_val
key_of(const char *s)
{
	MDB_val k = {strlen(s), (void *)s};

	return k;
}

/* A key LMDB would refuse (empty, too long) names no record. */
static bool
key_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n > 0 && n <= DB_KEY_MAX;
}

static void
be64_put(unsigned char *b, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
be64_get(const unsigned char *b)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

/* Notes an LMDB failure: MDB_MAP_FULL only flags the txn for a rerun. */
static int
tx_fail(struct dbtx *tx, int rc, const char *verb, const char *what)
{
	if (rc == MDB_MAP_FULL) {
		tx->map_full = true;
		log_debug("map full while %s %s", verb, what);
		return -1;
	}
	log_error("unable to %s %s: %s", verb, what, mdb_strerror(rc));
	return -1;
}

/* Every write of a transaction goes through here (or deletes): one that
 * wrote nothing is not committed. */
static int
tx_put(struct dbtx *tx, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags)
{
	tx->dirty = true;
	return mdb_put(tx->txn, dbi, k, v, flags);
}

static int
db_grow(struct db *db)
{
	uint64_t n;
	int rc;

	if (db->map_size >= db->max_map_size) {
		log_error("unable to grow the database map: already at "
		          "--max-map-size (%llu bytes)",
		          (unsigned long long)db->max_map_size);
		return -1;
	}
	n = db->map_size * 2;
	if (n > db->max_map_size)
		n = db->max_map_size;
	if ((rc = mdb_env_set_mapsize(db->env, (size_t)n)) != 0) {
		log_error("unable to grow the database map to %llu bytes: %s",
		          (unsigned long long)n, mdb_strerror(rc));
		return -1;
	}
	db->map_size = n;
	db->resizes++;
	log_info("database map grown to %llu bytes", (unsigned long long)n);
	return 0;
}

/*
 * Grows the map before a write when more than half of it is in use: a
 * write that fills the map is aborted and run again after growing, which
 * for a first pass over many containers means doing all of it twice.
 * Best effort: MDB_MAP_FULL stays the backstop.
 */
static void
grow_early(struct db *db)
{
	MDB_envinfo info;
	MDB_stat st;

	if (db->map_size >= db->max_map_size ||
	    mdb_env_info(db->env, &info) != 0 ||
	    mdb_env_stat(db->env, &st) != 0)
		return;
	if (((uint64_t)info.me_last_pgno + 1) * st.ms_psize > db->map_size / 2)
		db_grow(db);
}

static uint64_t
round_page(uint64_t n)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t p = ps > 0 ? (uint64_t)ps : 4096;

	return (n + p - 1) / p * p;
}

static int
open_dbis(struct db *db)
{
	static const struct {
		const char *name;
		size_t off;
	} dbis[] = {
	    {"workloads", offsetof(struct db, workloads)},
	    {"rows", offsetof(struct db, rows)},
	    {"by_docker", offsetof(struct db, by_docker)},
	    {"changes", offsetof(struct db, changes)},
	    {"meta", offsetof(struct db, meta)},
	};
	MDB_txn *txn;
	size_t i;
	int rc;

	for (;;) {
		if ((rc = mdb_txn_begin(db->env, NULL,
		                        db->readonly ? MDB_RDONLY : 0, &txn)) !=
		    0) {
			log_error("unable to begin a transaction: %s",
			          mdb_strerror(rc));
			return -1;
		}
		for (i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
			rc = mdb_dbi_open(
			    txn, dbis[i].name, db->readonly ? 0 : MDB_CREATE,
			    (MDB_dbi *)((char *)db + dbis[i].off));
			if (rc != 0)
				break;
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == 0)
			return 0;
		if (rc != MDB_MAP_FULL || db_grow(db) == -1) {
			log_error("unable to open the databases: %s",
			          mdb_strerror(rc));
			return -1;
		}
	}
}

struct db *
db_open(const struct db_config *cfg)
{
	char path[PATH_MAX];
	struct stat sb;
	MDB_envinfo info;
	struct db *db;
	bool exists;
	int rc, dead = 0;

	if (xsnprintf(path, sizeof(path), "%s/data.mdb", cfg->dir) == -1) {
		log_error("unable to open the database: path too long");
		return NULL;
	}
	exists = stat(path, &sb) == 0;
	if (cfg->readonly && !exists) {
		log_error("unable to open the database: no %s", path);
		return NULL;
	}
	db = xcalloc(1, sizeof(*db));
	db->readonly = cfg->readonly;
	db->map_size = round_page(cfg->map_size);
	db->max_map_size = round_page(cfg->max_map_size);
	if (db->max_map_size < db->map_size)
		db->max_map_size = db->map_size;
	db->retain = cfg->retain > 0 ? cfg->retain : 1;
	if ((rc = mdb_env_create(&db->env)) != 0) {
		log_error("unable to create the database environment: %s",
		          mdb_strerror(rc));
		free(db);
		return NULL;
	}
	mdb_env_set_maxdbs(db->env, 8);
	/* An existing environment keeps the size it grew to: LMDB takes a
	 * configured size over the stored one, so configure only new ones. */
	if (!exists)
		mdb_env_set_mapsize(db->env, (size_t)db->map_size);
	if ((rc = mdb_env_open(db->env, cfg->dir,
	                       cfg->readonly ? MDB_RDONLY : 0, 0640)) != 0) {
		log_error("unable to open the database in %s: %s", cfg->dir,
		          mdb_strerror(rc));
		goto fail;
	}
	mdb_env_info(db->env, &info);
	if (cfg->readonly) {
		db->map_size = db->max_map_size = info.me_mapsize;
		if (open_dbis(db) == -1)
			goto fail;
		return db;
	}
	if (info.me_mapsize < db->map_size) {
		if ((rc = mdb_env_set_mapsize(db->env, (size_t)db->map_size)) !=
		    0) {
			log_error("unable to set the map size: %s",
			          mdb_strerror(rc));
			goto fail;
		}
	} else
		db->map_size = info.me_mapsize;
	if (db->max_map_size < db->map_size)
		db->max_map_size = db->map_size;
	/* Readers that died (e.g. a killed `reconctl dump`) hold slots and
	 * pin old pages; clear them once at start. */
	if (mdb_reader_check(db->env, &dead) == 0 && dead > 0)
		log_info("cleared %d stale database readers", dead);
	if (open_dbis(db) == -1)
		goto fail;
	return db;
fail:
	mdb_env_close(db->env);
	free(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	mdb_env_close(db->env);
	wbuf_free(&db->scratch);
	free(db);
}

void
db_set_publish(struct db *db, db_publish_fn fn, void *arg)
{
	db->publish = fn;
	db->publish_arg = arg;
}

uint64_t
db_map_resizes(const struct db *db)
{
	return db->resizes;
}

uint64_t
db_events_committed(const struct db *db)
{
	return db->committed;
}

uint64_t
db_commits(const struct db *db)
{
	return db->commits;
}

static void
tx_clear_out(struct dbtx *tx)
{
	size_t i;

	for (i = 0; i < tx->nout; i++)
		wbuf_free(&tx->out[i]);
	free(tx->out);
	tx->out = NULL;
	tx->nout = tx->capout = 0;
}

static int
tx_begin(struct db *db, struct dbtx *tx, bool write)
{
	MDB_val k = key_of("head"), v;
	MDB_envinfo info;
	int rc;

	memset(tx, 0, sizeof(*tx));
	tx->db = db;
	tx->write = write;
	for (;;) {
		rc = mdb_txn_begin(db->env, NULL, write ? 0 : MDB_RDONLY,
		                   &tx->txn);
		if (rc != MDB_MAP_RESIZED)
			break;
		/* another process grew the map: adopt its size */
		mdb_env_set_mapsize(db->env, 0);
		mdb_env_info(db->env, &info);
		db->map_size = info.me_mapsize;
	}
	if (rc != 0) {
		log_error("unable to begin a transaction: %s",
		          mdb_strerror(rc));
		return -1;
	}
	rc = mdb_get(tx->txn, db->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		tx->head = be64_get(v.mv_data);
	else if (rc != MDB_NOTFOUND && rc != 0) {
		log_error("unable to read the head revision: %s",
		          mdb_strerror(rc));
		mdb_txn_abort(tx->txn);
		return -1;
	}
	tx->head0 = tx->head;
	return 0;
}

static int trim_log(struct dbtx *);

static int
tx_put_head(struct dbtx *tx)
{
	unsigned char b[8];
	MDB_val k = key_of("head"), v = {8, b};
	int rc;

	if (tx->head == tx->head0)
		return 0;
	be64_put(b, tx->head);
	if ((rc = tx_put(tx, tx->db->meta, &k, &v, 0)) != 0)
		return tx_fail(tx, rc, "write", "the head revision");
	return 0;
}

int
db_write(struct db *db, db_txn_fn fn, void *arg)
{
	struct dbtx tx;
	size_t i;
	int r, rc;

	if (db->readonly) {
		log_error("unable to write: the database is open read-only");
		return -1;
	}
	grow_early(db);
	for (;;) {
		if (tx_begin(db, &tx, true) == -1)
			return -1;
		r = fn(&tx, arg);
		/* the log is trimmed once per transaction, not per event */
		if (r == 0 && tx.head != tx.head0 &&
		    (tx_put_head(&tx) == -1 || trim_log(&tx) == -1))
			r = -1;
		if (r != 0 || !tx.dirty) {
			/* refused, failed, or wrote nothing: no commit */
			mdb_txn_abort(tx.txn);
			tx_clear_out(&tx);
			if (r < 0 && tx.map_full) {
				if (db_grow(db) == -1)
					return -1;
				continue;
			}
			return r;
		}
		rc = mdb_txn_commit(tx.txn);
		if (rc == MDB_MAP_FULL) {
			tx_clear_out(&tx);
			if (db_grow(db) == -1)
				return -1;
			continue;
		}
		if (rc != 0) {
			log_error("unable to commit a transaction: %s",
			          mdb_strerror(rc));
			tx_clear_out(&tx);
			return -1;
		}
		db->commits++;
		db->committed += tx.nout;
		for (i = 0; i < tx.nout && db->publish != NULL; i++)
			db->publish(db->publish_arg, tx.out[i].data,
			            tx.out[i].len);
		tx_clear_out(&tx);
		return 0;
	}
}

int
db_read(struct db *db, db_txn_fn fn, void *arg)
{
	struct dbtx tx;
	int r;

	if (tx_begin(db, &tx, false) == -1)
		return -1;
	r = fn(&tx, arg);
	mdb_txn_abort(tx.txn);
	return r;
}

/* Puts the scratch buffer (an encoded record) under id. */
static int
put_record(struct dbtx *tx, MDB_dbi dbi, const char *id, const char *what)
{
	MDB_val k = key_of(id), v = {tx->db->scratch.len, tx->db->scratch.data};
	int rc;

	if ((rc = tx_put(tx, dbi, &k, &v, 0)) != 0)
		return tx_fail(tx, rc, "write", what);
	return 0;
}

static int
del_record(struct dbtx *tx, MDB_dbi dbi, const char *id, const char *what)
{
	MDB_val k;
	int rc;

	if (!key_ok(id))
		return 1;
	k = key_of(id);
	rc = mdb_del(tx->txn, dbi, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 1;
	tx->dirty = true;
	if (rc != 0)
		return tx_fail(tx, rc, "delete", what);
	return 0;
}

static int
get_record(struct dbtx *tx, MDB_dbi dbi, const char *id, MDB_val *v,
           const char *what)
{
	MDB_val k;
	int rc;

	if (!key_ok(id))
		return 0;
	k = key_of(id);
	rc = mdb_get(tx->txn, dbi, &k, v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return tx_fail(tx, rc, "read", what);
	return 1;
}

int
db_workload_get(struct dbtx *tx, const char *id, struct arena *a,
                struct wire_workload *w)
{
	char err[WIRE_ERR_LEN];
	MDB_val v;
	int r;

	if ((r = get_record(tx, tx->db->workloads, id, &v, "a workload")) <= 0)
		return r;
	if (wire_decode_workload(v.mv_data, v.mv_size, a, w, err) == -1) {
		log_error("unable to decode stored workload %s: %s", id, err);
		return -1;
	}
	return 1;
}

int
db_workload_put(struct dbtx *tx, const struct wire_workload *w)
{
	if (!key_ok(w->id)) {
		log_error("unable to write a workload: bad id");
		return -1;
	}
	wbuf_reset(&tx->db->scratch);
	if (wire_encode_workload(&tx->db->scratch, w, true) == -1) {
		log_error("unable to encode workload %s", w->id);
		return -1;
	}
	return put_record(tx, tx->db->workloads, w->id, "a workload");
}

int
db_workload_del(struct dbtx *tx, const char *id)
{
	return del_record(tx, tx->db->workloads, id, "a workload");
}

/* meta key of a host's last complete pass: "seen/<host>" */
static int
seen_key(char *buf, size_t len, const char *host)
{
	return xsnprintf(buf, len, "seen/%s", host);
}

/* A host's last pass (zeros if none); stays valid for the transaction. */
static struct host_seen
host_seen(struct dbtx *tx, const char *host)
{
	struct host_seen hs = {"", 0, 0};
	char kb[WIRE_ID_MAX + 8];
	MDB_val k, v;
	size_t i;
	int rc;

	if (host == NULL || *host == '\0' || strlen(host) > WIRE_ID_MAX ||
	    seen_key(kb, sizeof(kb), host) == -1)
		return hs;
	for (i = 0; i < tx->nseen; i++)
		if (strcmp(tx->seen[i].host, host) == 0)
			return tx->seen[i];
	memcpy(hs.host, host, strlen(host) + 1);
	k = key_of(kb);
	rc = mdb_get(tx->txn, tx->db->meta, &k, &v);
	if (rc == 0 && v.mv_size == 16) {
		hs.at = (int64_t)be64_get(v.mv_data);
		hs.stored = (int64_t)be64_get((unsigned char *)v.mv_data + 8);
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		log_warnx("unable to read %s: %s", kb, mdb_strerror(rc));
	if (tx->nseen < HOST_SEEN_CACHE)
		tx->seen[tx->nseen++] = hs;
	return hs;
}

int64_t
db_host_seen(struct dbtx *tx, const char *host)
{
	return host_seen(tx, host).at;
}

int
db_host_seen_set(struct dbtx *tx, const char *host, int64_t at)
{
	struct host_seen hs;
	char kb[WIRE_ID_MAX + 8];
	unsigned char b[16];
	MDB_val k, v = {16, b};
	size_t i;
	int rc;

	if (!key_ok(host) || strlen(host) > WIRE_ID_MAX ||
	    seen_key(kb, sizeof(kb), host) == -1) {
		log_error("unable to record a pass: bad host name");
		return -1;
	}
	if (at <= (hs = host_seen(tx, host)).at)
		return 0;
	hs.at = at;
	hs.stored = now_ms();
	k = key_of(kb);
	be64_put(b, (uint64_t)hs.at);
	be64_put(b + 8, (uint64_t)hs.stored);
	if ((rc = tx_put(tx, tx->db->meta, &k, &v, 0)) != 0)
		return tx_fail(tx, rc, "write", "a host's pass time");
	for (i = 0; i < tx->nseen; i++)
		if (strcmp(tx->seen[i].host, host) == 0)
			tx->seen[i] = hs;
	return 0;
}

/* last_seen_at as the rules read it (rules_last_seen, R7). */
static int
row_derive(struct dbtx *tx, struct wire_row *row)
{
	struct host_seen hs;

	if (str_empty(row->container_id) || str_eq(row->state, "missing"))
		return 1;
	hs = host_seen(tx, row->host);
	row->last_seen_at = rules_last_seen(row, hs.at, hs.stored);
	return 1;
}

int
db_row_get(struct dbtx *tx, const char *id, struct arena *a,
           struct wire_row *row)
{
	char err[WIRE_ERR_LEN];
	MDB_val v;
	int r;

	if ((r = get_record(tx, tx->db->rows, id, &v, "a row")) <= 0)
		return r;
	if (wire_decode_row(v.mv_data, v.mv_size, a, row, err) == -1) {
		log_error("unable to decode stored row %s: %s", id, err);
		return -1;
	}
	return row_derive(tx, row);
}

/* by_docker's value: the row id, then optionally one NUL byte and the
 * 8-byte big-endian digest of that row's Docker-derived fields. */
static int
docker_put(struct dbtx *tx, const char *docker_id, const char *row_id,
           uint64_t digest)
{
	unsigned char b[WIRE_ID_MAX + 9];
	size_t n = strlen(row_id);
	MDB_val k, v = {n, b};
	int rc;

	if (!key_ok(docker_id) || n == 0 || n > WIRE_ID_MAX) {
		log_error("unable to index a Docker id: bad key");
		return -1;
	}
	memcpy(b, row_id, n);
	if (digest != 0) {
		b[n] = '\0';
		be64_put(b + n + 1, digest);
		v.mv_size = n + 9;
	}
	k = key_of(docker_id);
	if ((rc = tx_put(tx, tx->db->by_docker, &k, &v, 0)) != 0)
		return tx_fail(tx, rc, "write", "a Docker id");
	return 0;
}

/* Keeps the digest in by_docker in step with a row just written or about
 * to be deleted (row NULL): only when by_docker names this row. */
static int
docker_digest(struct dbtx *tx, const char *docker_id, const char *row_id,
              const struct wire_row *row)
{
	char cur[WIRE_ID_MAX + 1];
	uint64_t d, want = row != NULL ? wire_row_docker_digest(row) : 0;
	int r;

	if (!key_ok(docker_id))
		return 0;
	if ((r = db_docker_find(tx, docker_id, cur, &d)) <= 0)
		return r;
	if (strcmp(cur, row_id) != 0 || d == want)
		return 0;
	return docker_put(tx, docker_id, row_id, want);
}

int
db_row_put(struct dbtx *tx, const struct wire_row *row)
{
	if (!key_ok(row->id)) {
		log_error("unable to write a row: bad id");
		return -1;
	}
	wbuf_reset(&tx->db->scratch);
	if (wire_encode_row(&tx->db->scratch, row) == -1) {
		log_error("unable to encode row %s", row->id);
		return -1;
	}
	if (put_record(tx, tx->db->rows, row->id, "a row") == -1)
		return -1;
	return docker_digest(tx, row->container_id, row->id, row);
}

int
db_row_del(struct dbtx *tx, const char *id)
{
	struct arena *a;
	struct wire_row row;
	int r;

	/* its by_docker entry, if any, must stop vouching for it */
	a = arena_new();
	r = db_row_get(tx, id, a, &row);
	if (r == 1)
		r = docker_digest(tx, row.container_id, id, NULL);
	arena_free(a);
	if (r == -1)
		return -1;
	return del_record(tx, tx->db->rows, id, "a row");
}

int
db_docker_find(struct dbtx *tx, const char *docker_id, char *rowid,
               uint64_t *digest)
{
	const unsigned char *nul;
	size_t n;
	MDB_val v;
	int r;

	if (digest != NULL)
		*digest = 0;
	r = get_record(tx, tx->db->by_docker, docker_id, &v, "a Docker id");
	if (r <= 0)
		return r;
	n = v.mv_size;
	if ((nul = memchr(v.mv_data, '\0', v.mv_size)) != NULL) {
		n = (size_t)(nul - (const unsigned char *)v.mv_data);
		if (v.mv_size == n + 9 && digest != NULL)
			*digest = be64_get(nul + 1);
	}
	if (n == 0 || n > WIRE_ID_MAX) {
		log_error("unable to use stored Docker id %s: bad row id",
		          docker_id);
		return 0;
	}
	memcpy(rowid, v.mv_data, n);
	rowid[n] = '\0';
	return 1;
}

int
db_docker_get(struct dbtx *tx, const char *docker_id, char *rowid)
{
	return db_docker_find(tx, docker_id, rowid, NULL);
}

int
db_docker_put(struct dbtx *tx, const char *docker_id, const char *row_id)
{
	return docker_put(tx, docker_id, row_id, 0);
}

int
db_docker_del(struct dbtx *tx, const char *docker_id)
{
	return del_record(tx, tx->db->by_docker, docker_id, "a Docker id");
}

int
db_docker_rebind(struct dbtx *tx, const char *row_id, const char *old_cid,
                 const struct wire_row *now)
{
	const char *new_cid = now != NULL ? now->container_id : NULL;
	char cur[WIRE_ID_MAX + 1];
	uint64_t d;
	int r;

	if (key_ok(old_cid) && !str_eq(old_cid, new_cid)) {
		if ((r = db_docker_get(tx, old_cid, cur)) == -1)
			return -1;
		if (r == 1 && strcmp(cur, row_id) == 0 &&
		    db_docker_del(tx, old_cid) == -1)
			return -1;
	}
	if (key_ok(new_cid)) {
		if ((r = db_docker_find(tx, new_cid, cur, &d)) == -1)
			return -1;
		if (r == 0 || strcmp(cur, row_id) != 0 ||
		    d != wire_row_docker_digest(now))
			return docker_put(tx, new_cid, row_id,
			                  wire_row_docker_digest(now));
	}
	return 0;
}

/* Hands one decoded record to the caller's typed callback. */
struct each_ctx {
	db_workload_fn wfn;
	db_row_fn rfn;
	void *arg;
	db_key_fn skip; /* rows whose key it accepts are not decoded */
};

static int
each_call(struct each_ctx *ec, void *rec)
{
	return ec->wfn != NULL ? ec->wfn(ec->arg, rec) : ec->rfn(ec->arg, rec);
}

static int
each_decode(struct dbtx *tx, const struct each_ctx *ec, const MDB_val *v,
            struct arena *a, void **rec, char *err)
{
	if (ec->wfn != NULL) {
		*rec = arena_alloc(a, sizeof(struct wire_workload));
		return wire_decode_workload(v->mv_data, v->mv_size, a, *rec,
		                            err);
	}
	*rec = arena_alloc(a, sizeof(struct wire_row));
	if (wire_decode_row(v->mv_data, v->mv_size, a, *rec, err) == -1)
		return -1;
	row_derive(tx, *rec);
	return 0;
}

/* Walks dbi, decoding each value into keep or a per-record arena. */
static int
each(struct dbtx *tx, MDB_dbi dbi, struct arena *keep, struct each_ctx *ec,
     const char *what)
{
	char err[WIRE_ERR_LEN];
	MDB_cursor *c;
	MDB_val k, v;
	struct arena *a;
	void *rec;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(tx->txn, dbi, &c)) != 0)
		return tx_fail(tx, rc, "read", what);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (ec->skip != NULL && ec->skip(ec->arg, k.mv_data, k.mv_size))
			continue;
		a = keep != NULL ? keep : arena_new();
		if (each_decode(tx, ec, &v, a, &rec, err) == -1) {
			log_error("unable to decode a stored %s (key %.*s): %s",
			          what,
			          (int)(k.mv_size > 128 ? 128 : k.mv_size),
			          (const char *)k.mv_data, err);
			r = 0;
		} else
			r = each_call(ec, rec);
		if (keep == NULL)
			arena_free(a);
		if (r != 0)
			break;
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != MDB_NOTFOUND && rc != 0)
		return tx_fail(tx, rc, "read", what);
	return r < 0 ? -1 : 0;
}

int
db_workloads_each(struct dbtx *tx, struct arena *keep, db_workload_fn fn,
                  void *arg)
{
	struct each_ctx ec = {fn, NULL, arg, NULL};

	return each(tx, tx->db->workloads, keep, &ec, "workload");
}

int
db_rows_each(struct dbtx *tx, struct arena *keep, db_row_fn fn, void *arg)
{
	struct each_ctx ec = {NULL, fn, arg, NULL};

	return each(tx, tx->db->rows, keep, &ec, "row");
}

int
db_rows_each_unless(struct dbtx *tx, db_key_fn skip, db_row_fn fn, void *arg)
{
	struct each_ctx ec = {NULL, fn, arg, skip};

	return each(tx, tx->db->rows, NULL, &ec, "row");
}

/* Drops the oldest log entries beyond the retained count. */
static int
trim_log(struct dbtx *tx)
{
	MDB_stat ms;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t n;
	int rc;

	if ((rc = mdb_stat(tx->txn, tx->db->changes, &ms)) != 0)
		return tx_fail(tx, rc, "count", "the change log");
	if (ms.ms_entries <= tx->db->retain)
		return 0;
	if ((rc = mdb_cursor_open(tx->txn, tx->db->changes, &c)) != 0)
		return tx_fail(tx, rc, "trim", "the change log");
	for (n = ms.ms_entries - tx->db->retain; n > 0; n--) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = mdb_cursor_del(c, 0);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0)
		return tx_fail(tx, rc, "trim", "the change log");
	return 0;
}

int
db_event(struct dbtx *tx, struct wire_event *ev)
{
	char topic[WIRE_TOPIC_MAX + 1];
	unsigned char kb[8];
	struct wbuf *m, body;
	MDB_val k = {8, kb}, v;
	size_t tlen, cap;
	int rc;

	if (!tx->write)
		abort(); /* our own bug: events only in write transactions */
	if (wire_event_topic(topic, sizeof(topic), ev) == -1) {
		log_error("unable to log an event: topic too long");
		return -1;
	}
	if (tx->nout == tx->capout) {
		cap = tx->capout ? tx->capout * 2 : 16;
		tx->out = xreallocarray(tx->out, cap, sizeof(*tx->out));
		tx->capout = cap;
	}
	m = &tx->out[tx->nout];
	memset(&body, 0, sizeof(body));
	ev->rev = tx->head + 1;
	if (wire_encode_event(&body, ev) == -1) {
		log_error("unable to encode an event");
		wbuf_free(&body);
		return -1;
	}
	/* the nng message: topic, one NUL, the body */
	tlen = strlen(topic) + 1;
	memset(m, 0, sizeof(*m));
	m->data = xmalloc(tlen + body.len);
	memcpy(m->data, topic, tlen);
	memcpy(m->data + tlen, body.data, body.len);
	m->len = m->cap = tlen + body.len;
	wbuf_free(&body);
	tx->nout++;
	be64_put(kb, ev->rev);
	v.mv_size = m->len;
	v.mv_data = m->data;
	if ((rc = tx_put(tx, tx->db->changes, &k, &v, MDB_APPEND)) != 0)
		return tx_fail(tx, rc, "write", "the change log");
	tx->head = ev->rev;
	return 0;
}

uint64_t
db_head(const struct dbtx *tx)
{
	return tx->head;
}

uint64_t
db_oldest(struct dbtx *tx)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t rev = tx->head + 1;
	int rc;

	if ((rc = mdb_cursor_open(tx->txn, tx->db->changes, &c)) != 0) {
		tx_fail(tx, rc, "read", "the change log");
		return rev;
	}
	if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8)
		rev = be64_get(k.mv_data);
	mdb_cursor_close(c);
	return rev;
}

int
db_events_each(struct dbtx *tx, uint64_t after, uint64_t limit, db_event_fn fn,
               void *arg)
{
	unsigned char kb[8];
	MDB_cursor *c;
	MDB_val k = {8, kb}, v;
	char err[WIRE_ERR_LEN];
	struct wire_topic t;
	uint64_t n = 0;
	int rc, r = 0;

	if (after == UINT64_MAX || limit == 0)
		return 0;
	if ((rc = mdb_cursor_open(tx->txn, tx->db->changes, &c)) != 0)
		return tx_fail(tx, rc, "read", "the change log");
	be64_put(kb, after + 1);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && n < limit; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 ||
		    wire_topic_split(v.mv_data, v.mv_size, &t, err) == -1) {
			log_error("unable to read a logged event: bad entry");
			continue;
		}
		n++;
		r = fn(arg, be64_get(k.mv_data), t.topic, t.body, t.blen);
		if (r != 0)
			break;
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		return tx_fail(tx, rc, "read", "the change log");
	return r < 0 ? -1 : 0;
}

int
db_stats(struct dbtx *tx, struct db_stats *s)
{
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = mdb_stat(tx->txn, tx->db->workloads, &ms)) != 0)
		return tx_fail(tx, rc, "count", "workloads");
	s->workloads = ms.ms_entries;
	if ((rc = mdb_stat(tx->txn, tx->db->rows, &ms)) != 0)
		return tx_fail(tx, rc, "count", "rows");
	s->rows = ms.ms_entries;
	if ((rc = mdb_stat(tx->txn, tx->db->by_docker, &ms)) != 0)
		return tx_fail(tx, rc, "count", "Docker ids");
	s->bound = ms.ms_entries;
	if ((rc = mdb_stat(tx->txn, tx->db->changes, &ms)) != 0)
		return tx_fail(tx, rc, "count", "the change log");
	s->events = ms.ms_entries;
	mdb_env_info(tx->db->env, &info);
	if ((rc = mdb_env_stat(tx->db->env, &ms)) != 0)
		return tx_fail(tx, rc, "read", "the environment");
	s->map_size = info.me_mapsize;
	s->map_max = tx->db->max_map_size;
	s->map_used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	return 0;
}
