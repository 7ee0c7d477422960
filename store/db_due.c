/*
 * db_due.c: the state runs owed (SPEC §8). A workload whose container
 * stopped running is owed a plugin run with reason state that is given
 * the records of that change or later ones; the debt is written in the
 * transaction that makes the change and paid in the one that records such
 * a run's result (its rev at least the change's), so that no process's
 * death loses it. meta keys "due/<workload id>", values the 8-byte
 * big-endian revision of the latest change that called for the run.
 */
#include <stdio.h>
#include <string.h>

#include "db_impl.h"
#include "log.h"

#define DUE_PREFIX "due/"

static int
due_key(char *buf, size_t len, const char *wid)
{
	if (!id_valid(wid))
		return -1;
	return xsnprintf(buf, len, DUE_PREFIX "%s", wid);
}

int
db_due_put(struct dbtx *tx, const char *wid, uint64_t rev)
{
	char kb[WIRE_ID_MAX + sizeof(DUE_PREFIX)];
	unsigned char b[8];
	MDB_val k, v = {8, b};
	int rc;

	if (due_key(kb, sizeof(kb), wid) == -1) {
		log_error("unable to note a state run: bad workload id");
		return -1;
	}
	k = key_of(kb);
	be64_put(b, rev);
	if ((rc = tx_put(tx, tx->db->meta, &k, &v, 0)) != 0)
		return db_tx_fail(tx, rc, "write", "a state run owed");
	return 0;
}

int
db_due_get(struct dbtx *tx, const char *wid, uint64_t *rev)
{
	char kb[WIRE_ID_MAX + sizeof(DUE_PREFIX)];
	MDB_val k, v;
	int rc;

	*rev = 0;
	if (due_key(kb, sizeof(kb), wid) == -1)
		return 0;
	k = key_of(kb);
	if ((rc = mdb_get(tx->txn, tx->db->meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return db_tx_fail(tx, rc, "read", "a state run owed");
	if (v.mv_size != 8) {
		log_error("unable to use the state run owed to %s: bad value",
		          wid);
		return 0;
	}
	*rev = be64_get(v.mv_data);
	return 1;
}

int
db_due_del(struct dbtx *tx, const char *wid)
{
	char kb[WIRE_ID_MAX + sizeof(DUE_PREFIX)];
	MDB_val k;
	int rc;

	if (due_key(kb, sizeof(kb), wid) == -1)
		return 0;
	k = key_of(kb);
	rc = mdb_del(tx->txn, tx->db->meta, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return db_tx_fail(tx, rc, "delete", "a state run owed");
	tx->dirty = true;
	return 0;
}

int
db_due_each(struct dbtx *tx, db_due_fn fn, void *arg)
{
	char wid[WIRE_ID_MAX + 1];
	MDB_cursor *c;
	MDB_val k = {sizeof(DUE_PREFIX) - 1, DUE_PREFIX}, v;
	size_t n;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(tx->txn, tx->db->meta, &c)) != 0)
		return db_tx_fail(tx, rc, "read", "the state runs owed");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		n = k.mv_size - (sizeof(DUE_PREFIX) - 1);
		if (k.mv_size < sizeof(DUE_PREFIX) - 1 ||
		    memcmp(k.mv_data, DUE_PREFIX, sizeof(DUE_PREFIX) - 1) != 0)
			break;
		if (n == 0 || n > WIRE_ID_MAX || v.mv_size != 8)
			continue;
		memcpy(wid, (char *)k.mv_data + sizeof(DUE_PREFIX) - 1, n);
		wid[n] = '\0';
		if ((r = fn(arg, wid, be64_get(v.mv_data))) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		return db_tx_fail(tx, rc, "read", "the state runs owed");
	return r < 0 ? -1 : 0;
}
