/*
 * db_records.c: the workload and row records (msgpack, the wire's own
 * encoding) and their iteration in key order, and each host's last
 * complete pass, from which a row's last_seen_at is read (R7, the rule
 * in rules.c).
 */
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"
#include "log.h"
#include "rules.h"

/* Puts the scratch buffer (an encoded record) under id. */
int
db_rec_put(struct dbtx *tx, MDB_dbi dbi, const char *id, const char *what)
{
	MDB_val k = key_of(id), v = {tx->db->scratch.len, tx->db->scratch.data};
	int rc;

	if ((rc = tx_put(tx, dbi, &k, &v, 0)) != 0)
		return db_tx_fail(tx, rc, "write", what);
	return 0;
}

int
db_rec_del(struct dbtx *tx, MDB_dbi dbi, const char *id, const char *what)
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
		return db_tx_fail(tx, rc, "delete", what);
	return 0;
}

int
db_rec_get(struct dbtx *tx, MDB_dbi dbi, const char *id, MDB_val *v,
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
		return db_tx_fail(tx, rc, "read", what);
	return 1;
}

int
db_workload_get(struct dbtx *tx, const char *id, struct arena *a,
                struct wire_workload *w)
{
	char err[WIRE_ERR_LEN];
	MDB_val v;
	int r;

	if ((r = db_rec_get(tx, tx->db->workloads, id, &v, "a workload")) <= 0)
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
	return db_rec_put(tx, tx->db->workloads, w->id, "a workload");
}

int
db_workload_del(struct dbtx *tx, const char *id)
{
	return db_rec_del(tx, tx->db->workloads, id, "a workload");
}

/* meta key of a host's last complete pass: "seen/<host>" */
static int
seen_key(char *buf, size_t len, const char *host)
{
	return xsnprintf(buf, len, "seen/%s", host);
}

/* A host's last pass (zeros if none); stays valid for the transaction. */
struct host_seen
db_host_pass(struct dbtx *tx, const char *host)
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
	return db_host_pass(tx, host).at;
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
	if (at <= (hs = db_host_pass(tx, host)).at)
		return 0;
	hs.at = at;
	hs.stored = now_ms();
	k = key_of(kb);
	be64_put(b, (uint64_t)hs.at);
	be64_put(b + 8, (uint64_t)hs.stored);
	if ((rc = tx_put(tx, tx->db->meta, &k, &v, 0)) != 0)
		return db_tx_fail(tx, rc, "write", "a host's pass time");
	for (i = 0; i < tx->nseen; i++)
		if (strcmp(tx->seen[i].host, host) == 0)
			tx->seen[i] = hs;
	return 0;
}

int
db_host_seen_del(struct dbtx *tx, const char *host)
{
	char kb[WIRE_ID_MAX + 8];
	size_t i;
	int r;

	if (!key_ok(host) || strlen(host) > WIRE_ID_MAX ||
	    seen_key(kb, sizeof(kb), host) == -1)
		return 1;
	if ((r = db_rec_del(tx, tx->db->meta, kb, "a host's pass time")) != 0)
		return r;
	for (i = 0; i < tx->nseen; i++)
		if (strcmp(tx->seen[i].host, host) == 0)
			tx->seen[i] = tx->seen[--tx->nseen];
	return 0;
}

/* last_seen_at as the rules read it (rules_last_seen, R7); an unbound
 * or missing row, which the rule leaves alone, costs no look-up. */
static int
row_derive(struct dbtx *tx, struct wire_row *row)
{
	struct host_seen hs;

	if (str_empty(row->container_id) || str_eq(row->state, "missing"))
		return 1;
	hs = db_host_pass(tx, row->host);
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

	if ((r = db_rec_get(tx, tx->db->rows, id, &v, "a row")) <= 0)
		return r;
	if (wire_decode_row(v.mv_data, v.mv_size, a, row, err) == -1) {
		log_error("unable to decode stored row %s: %s", id, err);
		return -1;
	}
	return row_derive(tx, row);
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
	/* before the put: a host change unlists the row as stored */
	if (db_byhost_put(tx, row->id, row->host) == -1 ||
	    db_rec_put(tx, tx->db->rows, row->id, "a row") == -1)
		return -1;
	return db_docker_sync(tx, row->container_id, row->id, row);
}

int
db_row_del(struct dbtx *tx, const char *id)
{
	struct arena *a;
	struct wire_row row;
	int r;

	/* its by_docker entry, if any, must stop vouching for it, and its
	 * host must stop listing it */
	a = arena_new();
	r = db_row_get(tx, id, a, &row);
	if (r == 1 && (db_docker_sync(tx, row.container_id, id, NULL) == -1 ||
	               db_byhost_del(tx, id, row.host) == -1))
		r = -1;
	arena_free(a);
	if (r == -1)
		return -1;
	return db_rec_del(tx, tx->db->rows, id, "a row");
}

static int
each_call(struct each_ctx *ec, void *rec)
{
	if (ec->wfn != NULL)
		return ec->wfn(ec->arg, rec);
	if (ec->hfn != NULL)
		return ec->hfn(ec->arg, rec);
	if (ec->host != NULL &&
	    !str_eq(((struct wire_row *)rec)->host, ec->host))
		return 0;
	return ec->rfn(ec->arg, rec);
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
	if (ec->hfn != NULL) {
		*rec = arena_alloc(a, sizeof(struct wire_host));
		return wire_decode_host_record(v->mv_data, v->mv_size, a, *rec,
		                               err);
	}
	*rec = arena_alloc(a, sizeof(struct wire_row));
	if (wire_decode_row(v->mv_data, v->mv_size, a, *rec, err) == -1)
		return -1;
	row_derive(tx, *rec);
	return 0;
}

int
db_each_one(struct dbtx *tx, struct each_ctx *ec, struct arena *keep,
            const MDB_val *k, const MDB_val *v, const char *what)
{
	char err[WIRE_ERR_LEN];
	struct arena *a = keep != NULL ? keep : arena_new();
	void *rec;
	int r = 0;

	if (each_decode(tx, ec, v, a, &rec, err) == -1)
		log_error("unable to decode a stored %s (key %.*s): %s", what,
		          (int)(k->mv_size > DB_LOG_KEY_MAX ? DB_LOG_KEY_MAX
		                                            : k->mv_size),
		          (const char *)k->mv_data, err);
	else
		r = each_call(ec, rec);
	if (keep == NULL)
		arena_free(a);
	return r;
}

int
db_each(struct dbtx *tx, MDB_dbi dbi, const char *prefix, struct arena *keep,
        struct each_ctx *ec, const char *what)
{
	size_t plen = prefix != NULL ? strlen(prefix) : 0;
	MDB_cursor *c;
	MDB_val k = {plen, (void *)prefix}, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(tx->txn, dbi, &c)) != 0)
		return db_tx_fail(tx, rc, "read", what);
	for (rc = mdb_cursor_get(c, &k, &v,
	                         plen > 0 ? MDB_SET_RANGE : MDB_FIRST);
	     rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (plen > 0 &&
		    (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break; /* past the prefix: keys sort bytewise */
		if (ec->skip != NULL && ec->skip(ec->arg, k.mv_data, k.mv_size))
			continue;
		if ((r = db_each_one(tx, ec, keep, &k, &v, what)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != MDB_NOTFOUND && rc != 0)
		return db_tx_fail(tx, rc, "read", what);
	return r < 0 ? -1 : 0;
}

int
db_workloads_each(struct dbtx *tx, struct arena *keep, db_workload_fn fn,
                  void *arg)
{
	struct each_ctx ec = {.wfn = fn, .arg = arg};

	return db_each(tx, tx->db->workloads, NULL, keep, &ec, "workload");
}

int
db_rows_each(struct dbtx *tx, struct arena *keep, db_row_fn fn, void *arg)
{
	struct each_ctx ec = {.rfn = fn, .arg = arg};

	return db_each(tx, tx->db->rows, NULL, keep, &ec, "row");
}
