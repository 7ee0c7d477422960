/*
 * db_byhost.c: the by_host index (a host -> the ids of the rows whose
 * host it is, LMDB duplicates in row id order), kept in the transaction
 * of every row write and delete, so that a host's R7 sweep and
 * hosts.forget read that host's rows and not every host's. Built when
 * the store opens a database whose last commit did not keep it.
 */
#include <string.h>

#include "db_impl.h"
#include "log.h"
#include "util.h"

/* meta key: the 8-byte big-endian id of the last write transaction that
 * kept by_host in step with rows */
#define MARK_KEY "by_host"

/*
 * Whether a row of host is in a list: a name LMDB takes as a key. A row
 * with no host ("", as a row put before its container was seen may
 * have) is in none; no snapshot names such a host, so none sweeps it.
 */
static bool
listed(const char *host)
{
	return key_ok(host);
}

/* 1 when host's list holds row_id, 0 not, -1 error. */
static int
holds(struct dbtx *tx, const char *host, const char *row_id)
{
	MDB_val k = key_of(host), d = key_of(row_id);
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(tx->txn, tx->db->by_host, &c)) != 0)
		return db_tx_fail(tx, rc, "read", "the host index");
	rc = mdb_cursor_get(c, &k, &d, MDB_GET_BOTH);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return db_tx_fail(tx, rc, "read", "the host index");
	return 1;
}

static int
unlist(struct dbtx *tx, const char *host, const char *row_id)
{
	MDB_val k = key_of(host), d = key_of(row_id);
	int rc;

	rc = mdb_del(tx->txn, tx->db->by_host, &k, &d);
	if (rc == MDB_NOTFOUND)
		return 0;
	tx->dirty = true;
	if (rc != 0)
		return db_tx_fail(tx, rc, "write", "the host index");
	return 0;
}

/* A stored row that does not decode has no host we can read: row_id
 * leaves every list that holds it (a walk of the whole index, for that
 * case alone). */
static int
unlist_everywhere(struct dbtx *tx, const char *row_id)
{
	struct arena *a = arena_new();
	size_t n = strlen(row_id), nhosts = 0, i;
	char **hosts = NULL;
	MDB_cursor *c;
	MDB_val k, d;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(tx->txn, tx->db->by_host, &c)) != 0) {
		arena_free(a);
		return db_tx_fail(tx, rc, "read", "the host index");
	}
	/* collected first: no write under the walking cursor */
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (d.mv_size != n || memcmp(d.mv_data, row_id, n) != 0)
			continue;
		hosts = arena_realloc(a, hosts, nhosts * sizeof(*hosts),
		                      (nhosts + 1) * sizeof(*hosts));
		hosts[nhosts++] = arena_strndup(a, k.mv_data, k.mv_size);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		r = db_tx_fail(tx, rc, "read", "the host index");
	for (i = 0; r == 0 && i < nhosts; i++)
		r = unlist(tx, hosts[i], row_id);
	arena_free(a);
	return r;
}

/* The stored row's host into *host (in a): 1, 0 no such row, 2 it does
 * not decode, -1 error. */
static int
stored_host(struct dbtx *tx, const char *row_id, struct arena *a, char **host)
{
	char err[WIRE_ERR_LEN];
	struct wire_row row;
	MDB_val v;
	int r;

	if ((r = db_rec_get(tx, tx->db->rows, row_id, &v, "a row")) <= 0)
		return r;
	if (wire_decode_row(v.mv_data, v.mv_size, a, &row, err) == -1) {
		log_warnx("unable to read the host of stored row %s: %s",
		          row_id, err);
		return 2;
	}
	*host = row.host;
	return 1;
}

int
db_byhost_put(struct dbtx *tx, const char *row_id, const char *host)
{
	struct arena *a;
	char *old = NULL;
	MDB_val k, d;
	int r, rc;

	/* host's list holds it: a row is in its host's list alone, so it is
	 * stored with host; nothing to write, nothing to decode (a pass
	 * that turns a row missing or changes its state lands here) */
	if (listed(host) && (r = holds(tx, host, row_id)) != 0)
		return r < 0 ? -1 : 0;
	/* a new row, or its host changes (R6: another host's container
	 * won the row; a container.put): out of the old host's list */
	a = arena_new();
	r = stored_host(tx, row_id, a, &old);
	if (r == 1 && listed(old))
		r = unlist(tx, old, row_id);
	else if (r == 2)
		r = unlist_everywhere(tx, row_id);
	arena_free(a);
	if (r == -1)
		return -1;
	if (!listed(host))
		return 0;
	k = key_of(host);
	d = key_of(row_id);
	if ((rc = tx_put(tx, tx->db->by_host, &k, &d, 0)) != 0)
		return db_tx_fail(tx, rc, "write", "the host index");
	return 0;
}

int
db_byhost_del(struct dbtx *tx, const char *row_id, const char *host)
{
	if (!listed(host))
		return 0;
	return unlist(tx, host, row_id);
}

int
db_host_rows_each(struct dbtx *tx, const char *host, db_key_fn skip,
                  db_row_fn fn, void *arg)
{
	struct each_ctx ec = {
	    .rfn = fn, .arg = arg, .skip = skip, .host = host};
	MDB_cursor *c;
	MDB_val k, id, v;
	int rc, g, r = 0;

	if (!listed(host))
		return 0;
	/* read-only, the index is neither opened nor checked (an earlier
	 * version may have written since): every row, those of host
	 * passed on */
	if (tx->db->readonly)
		return db_each(tx, tx->db->rows, NULL, NULL, &ec, "row");
	k = key_of(host);
	if ((rc = mdb_cursor_open(tx->txn, tx->db->by_host, &c)) != 0)
		return db_tx_fail(tx, rc, "read", "the host index");
	for (rc = mdb_cursor_get(c, &k, &id, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(c, &k, &id, MDB_NEXT_DUP)) {
		if (skip != NULL && skip(arg, id.mv_data, id.mv_size))
			continue;
		g = mdb_get(tx->txn, tx->db->rows, &id, &v);
		if (g == MDB_NOTFOUND) {
			/* our own invariant broken; the rows are the truth */
			log_error("the host index lists row %.*s under host "
			          "%s, which is not stored: passed over",
			          (int)id.mv_size, (const char *)id.mv_data,
			          host);
			continue;
		}
		if (g != 0) {
			rc = g;
			break;
		}
		/* a row of another host is passed over by ec.host */
		if ((r = db_each_one(tx, &ec, NULL, &id, &v, "row")) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != MDB_NOTFOUND && rc != 0)
		return db_tx_fail(tx, rc, "read", "the host index");
	return r < 0 ? -1 : 0;
}

int
db_host_rows_count(struct dbtx *tx, const char *host, uint64_t *n)
{
	MDB_cursor *c;
	MDB_val k, id;
	size_t dups;
	int rc;

	*n = 0;
	if (!listed(host) || tx->db->readonly)
		return 0;
	k = key_of(host);
	if ((rc = mdb_cursor_open(tx->txn, tx->db->by_host, &c)) != 0)
		return db_tx_fail(tx, rc, "read", "the host index");
	rc = mdb_cursor_get(c, &k, &id, MDB_SET_KEY);
	if (rc == 0 && (rc = mdb_cursor_count(c, &dups)) == 0)
		*n = (uint64_t)dups;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return db_tx_fail(tx, rc, "read", "the host index");
	return 0;
}

static int
mark_put(MDB_txn *txn, MDB_dbi meta)
{
	MDB_val k = key_of(MARK_KEY), v;
	unsigned char b[8];

	be64_put(b, (uint64_t)mdb_txn_id(txn));
	v.mv_size = sizeof(b);
	v.mv_data = b;
	return mdb_put(txn, meta, &k, &v, 0);
}

/*
 * Every commit marks the index in step as of itself, so that a commit
 * by a store that does not keep the index (an earlier version run on
 * the database after this one) leaves the mark behind the last
 * transaction, and the next open builds the index again.
 */
int
db_byhost_commit(struct dbtx *tx)
{
	int rc;

	tx->dirty = true;
	if ((rc = mark_put(tx->txn, tx->db->meta)) != 0)
		return db_tx_fail(tx, rc, "write", "the host index's mark");
	return 0;
}

/* by_host anew from rows, in the open transaction: an LMDB code. */
static int
build(struct db *db, MDB_txn *txn, bool again)
{
	char err[WIRE_ERR_LEN];
	uint64_t t0 = mono_us();
	size_t nrows = 0, n = 0;
	struct wire_row row;
	struct arena *a;
	MDB_cursor *c;
	MDB_val k, v, hk;
	int rc;

	if ((rc = mdb_drop(txn, db->by_host, 0)) != 0 ||
	    (rc = mdb_cursor_open(txn, db->rows, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		nrows++;
		a = arena_new();
		/* as a walk of the rows does: logged, and in no list */
		if (wire_decode_row(v.mv_data, v.mv_size, a, &row, err) == -1)
			log_error("unable to index stored row %.*s by host: %s",
			          (int)(k.mv_size > DB_LOG_KEY_MAX
			                    ? DB_LOG_KEY_MAX
			                    : k.mv_size),
			          (const char *)k.mv_data, err);
		else if (listed(row.host)) {
			hk = key_of(row.host);
			rc = mdb_put(txn, db->by_host, &hk, &k, 0);
			n++;
		}
		arena_free(a);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND || (rc = mark_put(txn, db->meta)) != 0)
		return rc;
	/* a new database says nothing */
	if (nrows > 0 || again)
		log_info("indexed %zu of %zu rows by host in %llu ms: %s", n,
		         nrows, (unsigned long long)((mono_us() - t0) / 1000),
		         again ? "a store that does not keep the index wrote "
		                 "to the database after the last one that did"
		               : "a database from before the index");
	return 0;
}

int
db_byhost_open(struct db *db, MDB_txn *txn)
{
	MDB_val k = key_of(MARK_KEY), v;
	int rc;

	rc = mdb_get(txn, db->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8 &&
	    be64_get(v.mv_data) + 1 == (uint64_t)mdb_txn_id(txn))
		return 0; /* the last commit kept it */
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return build(db, txn, rc == 0);
}
