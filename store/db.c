/*
 * db.c: recon-store's LMDB environment and its transactions: opening
 * (read-write, or read-only for reconctl dump), write transactions that
 * commit only what they wrote, publish their events after the commit and
 * grow the map when it fills up, and the database's figures. One thread:
 * one write transaction at a time, commits synced to disk (LMDB's
 * default). A write refused because the map or the disk is full is
 * noted for health and the API's reply (db_trouble) until one commits.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "db_impl.h"
#include "log.h"

int
db_tx_fail(struct dbtx *tx, int rc, const char *verb, const char *what)
{
	if (rc == MDB_MAP_FULL) {
		tx->map_full = true;
		log_debug("map full while %s %s", verb, what);
		return -1;
	}
	log_error("unable to %s %s: %s", verb, what, mdb_strerror(rc));
	return -1;
}

static int
db_grow(struct db *db)
{
	uint64_t n;
	int rc;

	if (db->map_size >= db->max_map_size) {
		snprintf(db->trouble, sizeof(db->trouble),
		         "the database map is full: %llu bytes, its "
		         "--max-map-size; restart the store with a larger "
		         "--max-map-size",
		         (unsigned long long)db->max_map_size);
		log_error("unable to write: %s", db->trouble);
		return -1;
	}
	n = db->map_size * 2;
	if (n > db->max_map_size)
		n = db->max_map_size;
	if ((rc = mdb_env_set_mapsize(db->env, (size_t)n)) != 0) {
		snprintf(db->trouble, sizeof(db->trouble),
		         "unable to grow the database map to %llu bytes: %s",
		         (unsigned long long)n, mdb_strerror(rc));
		log_error("%s", db->trouble);
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

/*
 * The map filled up. Readers that died inside a read transaction (a
 * killed `reconctl dump`) pin the pages a write would reuse: clear them
 * and run the write again before growing. 0 to rerun, -1 to give up.
 */
static int
map_full(struct db *db)
{
	int dead = 0;

	if (mdb_reader_check(db->env, &dead) == 0 && dead > 0) {
		log_info("cleared %d stale database readers", dead);
		return 0;
	}
	return db_grow(db);
}

/*
 * A commit failed. LMDB reports a full disk as ENOSPC, or as EIO when a
 * write of its pages came back short; either way the database is left as
 * the last commit made it. Below this much free space the disk is taken
 * as full.
 */
#define DISK_LOW (1024 * 1024)

static void
commit_failed(struct db *db, int rc)
{
	unsigned long long avail = 0;
	struct statvfs vfs;
	bool known;

	known = statvfs(db->dir, &vfs) == 0;
	if (known)
		avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	if (rc == ENOSPC || rc == EDQUOT || (known && avail < DISK_LOW))
		snprintf(db->trouble, sizeof(db->trouble),
		         "the disk is full: %s, %llu bytes free in %s; free "
		         "space there",
		         mdb_strerror(rc), avail, db->dir);
	else
		snprintf(db->trouble, sizeof(db->trouble),
		         "unable to commit: %s", mdb_strerror(rc));
	log_error("unable to commit a transaction: %s", db->trouble);
}

static uint64_t
round_page(uint64_t n)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t p = ps > 0 ? (uint64_t)ps : 4096;

	return (n + p - 1) / p * p;
}

/*
 * Opens the named DBs, and read-write makes sure by_host indexes every
 * row (db_byhost.c), all in one transaction: a database from before the
 * index gets it at its first open. Read-only (reconctl dump) by_host is
 * left shut: such a database may not have it, and nothing read-only
 * walks one host's rows through it.
 */
static int
open_dbis(struct db *db)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned flags;
		bool rw; /* opened read-write only */
	} dbis[] = {
	    {"workloads", offsetof(struct db, workloads), 0, false},
	    {"rows", offsetof(struct db, rows), 0, false},
	    {"by_docker", offsetof(struct db, by_docker), 0, false},
	    {"by_host", offsetof(struct db, by_host), MDB_DUPSORT, true},
	    {"changes", offsetof(struct db, changes), 0, false},
	    {"meta", offsetof(struct db, meta), 0, false},
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
			if (dbis[i].rw && db->readonly)
				continue;
			rc = mdb_dbi_open(
			    txn, dbis[i].name,
			    dbis[i].flags | (db->readonly ? 0 : MDB_CREATE),
			    (MDB_dbi *)((char *)db + dbis[i].off));
			if (rc != 0)
				break;
		}
		if (rc == 0 && !db->readonly)
			rc = db_byhost_open(db, txn);
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
	db->dir = xstrdup(cfg->dir);
	db->map_size = round_page(cfg->map_size);
	db->max_map_size = round_page(cfg->max_map_size);
	if (db->max_map_size < db->map_size)
		db->max_map_size = db->map_size;
	db->retain = cfg->retain > 0 ? cfg->retain : 1;
	if ((rc = mdb_env_create(&db->env)) != 0) {
		log_error("unable to create the database environment: %s",
		          mdb_strerror(rc));
		free(db->dir);
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
	free(db->dir);
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
	free(db->dir);
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

const char *
db_trouble(const struct db *db)
{
	return db->trouble[0] != '\0' ? db->trouble : NULL;
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
		if (r == 0 && db_log_finish(&tx) == -1)
			r = -1;
		/* a commit notes that it kept by_host (db_byhost.c) */
		if (r == 0 && tx.dirty && db_byhost_commit(&tx) == -1)
			r = -1;
		if (r != 0 || !tx.dirty) {
			/* refused, failed, or wrote nothing: no commit */
			mdb_txn_abort(tx.txn);
			tx_clear_out(&tx);
			if (r < 0 && tx.map_full) {
				if (map_full(db) == -1)
					return -1;
				continue;
			}
			return r;
		}
		rc = mdb_txn_commit(tx.txn);
		if (rc == MDB_MAP_FULL) {
			tx_clear_out(&tx);
			if (map_full(db) == -1)
				return -1;
			continue;
		}
		if (rc != 0) {
			commit_failed(db, rc);
			tx_clear_out(&tx);
			return -1;
		}
		db->trouble[0] = '\0';
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

int
db_stats(struct dbtx *tx, struct db_stats *s)
{
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = mdb_stat(tx->txn, tx->db->workloads, &ms)) != 0)
		return db_tx_fail(tx, rc, "count", "workloads");
	s->workloads = ms.ms_entries;
	if ((rc = mdb_stat(tx->txn, tx->db->rows, &ms)) != 0)
		return db_tx_fail(tx, rc, "count", "rows");
	s->rows = ms.ms_entries;
	if ((rc = mdb_stat(tx->txn, tx->db->by_docker, &ms)) != 0)
		return db_tx_fail(tx, rc, "count", "Docker ids");
	s->bound = ms.ms_entries;
	if ((rc = mdb_stat(tx->txn, tx->db->changes, &ms)) != 0)
		return db_tx_fail(tx, rc, "count", "the change log");
	s->events = ms.ms_entries;
	mdb_env_info(tx->db->env, &info);
	if ((rc = mdb_env_stat(tx->db->env, &ms)) != 0)
		return db_tx_fail(tx, rc, "read", "the environment");
	s->map_size = info.me_mapsize;
	s->map_max = tx->db->max_map_size;
	s->map_used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	return 0;
}
