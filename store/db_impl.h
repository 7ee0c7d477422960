/*
 * db_impl.h: what the db*.c files share and nothing else includes: the
 * LMDB environment and transaction structures, key and number helpers,
 * and the few functions one part of the database calls in another.
 * store/db*.c are the only files that include <lmdb.h>.
 */
#ifndef RECON_STORE_DB_IMPL_H
#define RECON_STORE_DB_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "db.h"
#include "util.h"
#include "wire.h"

#define DB_KEY_MAX 511 /* LMDB's default key size limit */
/* Room to log a whole key of any record ("host/" and an id). */
#define DB_LOG_KEY_MAX 140

struct db {
	MDB_env *env;
	/* by_host: opened read-write only (see db_byhost.c) */
	MDB_dbi workloads, rows, by_docker, by_host, changes, meta;
	uint64_t map_size, max_map_size;
	uint64_t retain;
	uint64_t resizes;
	uint64_t committed;  /* events committed since open */
	uint64_t commits;    /* write transactions committed since open */
	bool readonly;       /* opened MDB_RDONLY (reconctl dump) */
	char *dir;           /* --data-dir, for the disk's free space */
	char trouble[256];   /* why writes fail, "" since one committed */
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

static inline MDB_val
key_of(const char *s)
{
	MDB_val k = {strlen(s), (void *)s};

	return k;
}

/* A key LMDB would refuse (empty, too long) names no record. */
static inline bool
key_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n > 0 && n <= DB_KEY_MAX;
}

static inline void
be64_put(unsigned char *b, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static inline uint64_t
be64_get(const unsigned char *b)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

/* Every write of a transaction goes through here (or a delete that found
 * its record): one that wrote nothing is not committed. */
static inline int
tx_put(struct dbtx *tx, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags)
{
	tx->dirty = true;
	return mdb_put(tx->txn, dbi, k, v, flags);
}

/* db.c: notes an LMDB failure (MDB_MAP_FULL only flags the transaction
 * for a rerun); -1. */
int db_tx_fail(struct dbtx *, int rc, const char *verb, const char *what);

/* db_records.c: a record of dbi by id. db_rec_put puts the db's scratch
 * buffer (the encoded record); db_rec_del returns 1 when there was
 * nothing to delete; db_rec_get 1 found, 0 not. -1 on errors. */
int db_rec_put(struct dbtx *, MDB_dbi, const char *id, const char *what);
int db_rec_del(struct dbtx *, MDB_dbi, const char *id, const char *what);
int db_rec_get(struct dbtx *, MDB_dbi, const char *id, MDB_val *v,
               const char *what);
/* db_records.c: a host's last complete pass (zeros if none). */
struct host_seen db_host_pass(struct dbtx *, const char *host);

/* What db_each hands each decoded record to: the one typed callback set
 * says the record's type (workload, host record, else row). */
struct each_ctx {
	db_workload_fn wfn;
	db_row_fn rfn;
	db_host_fn hfn;
	void *arg;
	db_key_fn skip;   /* records whose key it accepts are not decoded */
	const char *host; /* rows: only those of this host reach rfn */
};

/*
 * db_records.c: walks dbi in key order from the first key (prefix NULL)
 * or from prefix up to the last key that starts with it, decoding each
 * value into keep or a per-record arena; one that fails to decode is
 * logged (as a stored `what`) and passed over. As db_rows_each.
 */
int db_each(struct dbtx *, MDB_dbi, const char *prefix, struct arena *keep,
            struct each_ctx *, const char *what);
/* db_records.c: db_each's step for one record, value v under key k
 * (skip not asked): the callback's value, 0 when passed over. */
int db_each_one(struct dbtx *, struct each_ctx *, struct arena *keep,
                const MDB_val *k, const MDB_val *v, const char *what);

/* db_docker.c: keeps the digest in by_docker in step with a row just
 * written, or about to be deleted (row NULL). */
int db_docker_sync(struct dbtx *, const char *docker_id, const char *row_id,
                   const struct wire_row *row);

/*
 * db_byhost.c: keeps by_host in step with rows: before row_id is written
 * with host (NULL or "": in no host's list), and when it is deleted
 * (host: its stored host).
 */
int db_byhost_put(struct dbtx *, const char *row_id, const char *host);
int db_byhost_del(struct dbtx *, const char *row_id, const char *host);
/* db_byhost.c: once per write transaction about to commit: by_host is
 * in step as of this one. */
int db_byhost_commit(struct dbtx *);
/* db_byhost.c: in the transaction that opens the databases (read-write):
 * builds by_host anew unless the last commit kept it. An LMDB code. */
int db_byhost_open(struct db *, MDB_txn *);

/* db_log.c: once per write transaction that logged events, before it
 * commits: the head revision written, the log trimmed. */
int db_log_finish(struct dbtx *);

#endif
