/*
 * db_hosts.c: the host records (SPEC §10) in the meta DB, one per lister
 * host that ever sent a snapshot or delta the store accepted: the
 * highest gen taken, when the last message was taken and the host's
 * interval; msgpack, as the wire writes it (wire_encode_host_record).
 */
#include <stdio.h>
#include <string.h>

#include "db_impl.h"
#include "log.h"

#define HOST_PREFIX "host/"

/* meta key of a host's record: "host/<host>" */
static int
host_key(char *buf, size_t len, const char *host)
{
	if (!key_ok(host) || strlen(host) > WIRE_ID_MAX)
		return -1;
	return xsnprintf(buf, len, HOST_PREFIX "%s", host);
}

bool
db_dirty(const struct dbtx *tx)
{
	return tx->dirty;
}

int
db_host_get(struct dbtx *tx, const char *host, struct arena *a,
            struct wire_host *h)
{
	char kb[WIRE_ID_MAX + 8], err[WIRE_ERR_LEN];
	MDB_val v;
	int r;

	if (host_key(kb, sizeof(kb), host) == -1)
		return 0;
	if ((r = db_rec_get(tx, tx->db->meta, kb, &v, "a host record")) <= 0)
		return r;
	if (wire_decode_host_record(v.mv_data, v.mv_size, a, h, err) == -1) {
		log_error("unable to decode the stored record of host %s: %s",
		          host, err);
		return -1;
	}
	return 1;
}

int
db_host_put(struct dbtx *tx, const struct wire_host *h)
{
	char kb[WIRE_ID_MAX + 8];

	if (host_key(kb, sizeof(kb), h->host) == -1) {
		log_error("unable to write a host record: bad host name");
		return -1;
	}
	wbuf_reset(&tx->db->scratch);
	if (wire_encode_host_record(&tx->db->scratch, h) == -1) {
		log_error("unable to encode the record of host %s", h->host);
		return -1;
	}
	return db_rec_put(tx, tx->db->meta, kb, "a host record");
}

int
db_host_del(struct dbtx *tx, const char *host)
{
	char kb[WIRE_ID_MAX + 8];

	if (host_key(kb, sizeof(kb), host) == -1)
		return 1;
	return db_rec_del(tx, tx->db->meta, kb, "a host record");
}

int
db_hosts_each(struct dbtx *tx, struct arena *keep, db_host_fn fn, void *arg)
{
	struct each_ctx ec = {.hfn = fn, .arg = arg};

	return db_each(tx, tx->db->meta, HOST_PREFIX, keep, &ec, "host record");
}
