/*
 * db_docker.c: the by_docker index (a Docker id -> the row bound to it)
 * and, beside each entry, the digest of that row's Docker-derived fields
 * (R4), kept true on every write and delete of the row so that a pass or
 * a delta can tell a row needs no change without reading it.
 */
#include <string.h>

#include "db_impl.h"
#include "log.h"

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
		return db_tx_fail(tx, rc, "write", "a Docker id");
	return 0;
}

/* Keeps the digest in by_docker in step with a row just written or about
 * to be deleted (row NULL): only when by_docker names this row. */
int
db_docker_sync(struct dbtx *tx, const char *docker_id, const char *row_id,
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
db_docker_find(struct dbtx *tx, const char *docker_id, char *rowid,
               uint64_t *digest)
{
	const unsigned char *nul;
	size_t n;
	MDB_val v;
	int r;

	if (digest != NULL)
		*digest = 0;
	r = db_rec_get(tx, tx->db->by_docker, docker_id, &v, "a Docker id");
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
	return db_rec_del(tx, tx->db->by_docker, docker_id, "a Docker id");
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
