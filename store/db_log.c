/*
 * db_log.c: the change log (SPEC §6): each event written under the next
 * revision in the transaction of its change and queued for publishing
 * after the commit, the head revision, the log trimmed to
 * --retain-events, and reading it back for events.since.
 */
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"
#include "log.h"

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
		return db_tx_fail(tx, rc, "write", "the head revision");
	return 0;
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
		return db_tx_fail(tx, rc, "count", "the change log");
	if (ms.ms_entries <= tx->db->retain)
		return 0;
	if ((rc = mdb_cursor_open(tx->txn, tx->db->changes, &c)) != 0)
		return db_tx_fail(tx, rc, "trim", "the change log");
	for (n = ms.ms_entries - tx->db->retain; n > 0; n--) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = mdb_cursor_del(c, 0);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0)
		return db_tx_fail(tx, rc, "trim", "the change log");
	return 0;
}

int
db_log_finish(struct dbtx *tx)
{
	if (tx->head == tx->head0)
		return 0;
	if (tx_put_head(tx) == -1 || trim_log(tx) == -1)
		return -1;
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
		return db_tx_fail(tx, rc, "write", "the change log");
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
		db_tx_fail(tx, rc, "read", "the change log");
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
		return db_tx_fail(tx, rc, "read", "the change log");
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
		return db_tx_fail(tx, rc, "read", "the change log");
	return r < 0 ? -1 : 0;
}
