/*
 * db.h: recon-store's LMDB database: write transactions that grow the map
 * when it fills up (db.c), records (db_records.c), the Docker id index
 * (db_docker.c), the host index (db_byhost.c), the change log and the
 * head revision (db_log.c). Only those files include <lmdb.h>, through
 * their private db_impl.h.
 *
 * On-disk layout (one LMDB environment in --data-dir, six named DBs):
 *   workloads  workload id -> msgpack workload record (secrets included)
 *   rows       row id      -> msgpack container row
 *   by_docker  Docker id   -> row id (the row bound to that container),
 *              then NUL and the 8-byte digest of that row's
 *              Docker-derived fields (db_docker_find)
 *   by_host    host        -> row id, MDB_DUPSORT: one item per row whose
 *              host it is (none for a row with no host), in row id order
 *              (db_host_rows_each)
 *   changes    8-byte big-endian rev -> topic, one NUL byte, msgpack event
 *              body (exactly the nng message published on `events`)
 *   meta       "head" -> 8-byte big-endian revision of the last change;
 *              "seen/<host>" -> 8-byte big-endian ms of the host's last
 *              complete pass (its taken_at), then 8 bytes of the store's
 *              clock when it was applied (the pass record);
 *              "host/<host>" -> msgpack host record (db_hosts.c);
 *              "by_host" -> 8-byte big-endian id of the last write
 *              transaction that kept by_host in step (each of ours does;
 *              one from a store without the index leaves it behind, and
 *              the next open builds the index again: db_byhost.c)
 */
#ifndef RECON_DB_H
#define RECON_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "wire.h"

#define DB_MAP_MIN (64 * 1024) /* smallest --map-size accepted */

struct db;
struct dbtx; /* one read or write transaction */

struct db_config {
	const char *dir;       /* existing directory */
	uint64_t map_size;     /* initial map size (bytes) */
	uint64_t max_map_size; /* doubling stops here */
	uint64_t retain;       /* change-log entries kept (>= 1) */
	bool readonly;         /* an existing database, never written */
};

/* Called after a commit for each event of the transaction, in rev order,
 * with the whole nng message (topic, NUL, body). */
typedef void (*db_publish_fn)(void *arg, const void *msg, size_t len);

/* Opens (creating) the environment; NULL logged. */
struct db *db_open(const struct db_config *);
void db_close(struct db *);
void db_set_publish(struct db *, db_publish_fn, void *arg);
uint64_t db_map_resizes(const struct db *);
/* Events committed since db_open. */
uint64_t db_events_committed(const struct db *);
/* Write transactions committed (each a durable sync) since db_open. */
uint64_t db_commits(const struct db *);
/*
 * Why writes fail, for the operator: the map is full at --max-map-size,
 * or the data dir's disk refused the commit (full). NULL when the last
 * such write committed, or none failed so. Reads go on either way.
 */
const char *db_trouble(const struct db *);

/*
 * A transaction body. Returns 0 to commit, a positive value to abort
 * without it being an error (e.g. a request found invalid), -1 to abort on
 * an error it logged. A write body can run more than once (the map filled
 * up and was grown): it must be a function of its input and reset whatever
 * it accumulates at its start.
 */
typedef int (*db_txn_fn)(struct dbtx *, void *arg);

/* Runs fn in a write transaction and commits, unless fn wrote nothing
 * (then the transaction is aborted: nothing is synced); on MDB_MAP_FULL
 * aborts, doubles the map (up to max_map_size) and runs fn again. Events
 * are published only after the commit. Returns fn's value, or -1. */
int db_write(struct db *, db_txn_fn, void *arg);
/* Runs fn in a read-only transaction; fn's value, or -1. */
int db_read(struct db *, db_txn_fn, void *arg);

/*
 * Records. Getters return 1 found, 0 not found, -1 error; the record's
 * strings live in the arena. Putters and deleters return 0 / -1; a
 * deleter returns 1 when there was nothing to delete.
 */
int db_workload_get(struct dbtx *, const char *id, struct arena *,
                    struct wire_workload *);
int db_workload_put(struct dbtx *, const struct wire_workload *);
int db_workload_del(struct dbtx *, const char *id);
int db_row_get(struct dbtx *, const char *id, struct arena *,
               struct wire_row *);
int db_row_put(struct dbtx *, const struct wire_row *);
int db_row_del(struct dbtx *, const char *id);
/* by_docker: row id into rowid (WIRE_ID_MAX + 1 bytes). */
int db_docker_get(struct dbtx *, const char *docker_id, char *rowid);
/*
 * As db_docker_get, and *digest gets the digest of that row's
 * Docker-derived fields as stored (0: not known). db_docker.c keeps it
 * in step with every write and delete of the row, so a pass that
 * computes the same digest for the container knows the row needs no
 * change without reading it.
 */
int db_docker_find(struct dbtx *, const char *docker_id, char *rowid,
                   uint64_t *digest);
int db_docker_put(struct dbtx *, const char *docker_id, const char *row_id);
int db_docker_del(struct dbtx *, const char *docker_id);
/* Keeps by_docker in step when row_id's container changes from old_cid
 * to now->container_id (either may be NULL or ""; now NULL: the row is
 * unbound or gone): the old mapping goes if it still points at row_id,
 * the new one is written with the digest of now, the row as it is
 * stored. 0 / -1. */
int db_docker_rebind(struct dbtx *, const char *row_id, const char *old_cid,
                     const struct wire_row *now);

/*
 * Iteration in key order. fn returns 0 to go on, 1 to stop, -1 on error
 * (passed back). With keep set, records are decoded into it and stay
 * valid; with keep NULL each lives only during its call. A stored record
 * that fails to decode is logged and skipped. Do not write to the same
 * DB from fn: collect, then write.
 */
typedef int (*db_workload_fn)(void *arg, struct wire_workload *);
typedef int (*db_row_fn)(void *arg, struct wire_row *);
int db_workloads_each(struct dbtx *, struct arena *keep, db_workload_fn,
                      void *arg);
int db_rows_each(struct dbtx *, struct arena *keep, db_row_fn, void *arg);
/*
 * The rows whose host is host (none for ""), in row id order, read
 * through by_host: a host's pass (R7) and hosts.forget cost that host's
 * rows, not every host's. As db_rows_each (keep NULL), but rows whose id
 * skip (if any) accepts are passed over without being decoded; the id is
 * not NUL-terminated.
 */
typedef bool (*db_key_fn)(void *arg, const char *key, size_t len);
int db_host_rows_each(struct dbtx *, const char *host, db_key_fn skip,
                      db_row_fn fn, void *arg);
/* How many rows by_host lists under host (what db_host_rows_each would
 * walk), from the index alone: hosts.list's row counts. */
int db_host_rows_count(struct dbtx *, const char *host, uint64_t *n);

/*
 * The time of a host's last complete pass (0 if none), and recording it
 * (kept only when later than the one stored). A row read back through
 * db_row_get or db_rows_each that is bound to a container and not missing
 * has a last_seen_at of at least its host's last pass: a pass does not
 * rewrite rows whose only change would be last_seen_at.
 */
int64_t db_host_seen(struct dbtx *, const char *host);
int db_host_seen_set(struct dbtx *, const char *host, int64_t at);
/* Drops a host's pass record (hosts.forget): 0, 1 when there was none,
 * -1 on errors. */
int db_host_seen_del(struct dbtx *, const char *host);

/*
 * The host records (db_hosts.c, SPEC §10): one per lister host whose
 * snapshot or delta the store accepted, with host, gen, last_seen_at and
 * interval_ms (state and rows are not stored). get 1 found, 0 not, -1
 * error; put 0 / -1; del as the record deleters. each walks them in host
 * order, as db_rows_each does.
 */
int db_host_get(struct dbtx *, const char *host, struct arena *,
                struct wire_host *);
int db_host_put(struct dbtx *, const struct wire_host *);
int db_host_del(struct dbtx *, const char *host);
typedef int (*db_host_fn)(void *arg, struct wire_host *);
int db_hosts_each(struct dbtx *, struct arena *keep, db_host_fn, void *arg);
/* Has the write transaction written anything yet (will it commit)? */
bool db_dirty(const struct dbtx *);

/*
 * The state runs owed (db_due.c, SPEC §8): workload wid is owed a plugin
 * run with reason state given the records of revision rev or later. put
 * replaces what was owed; get is 1 with *rev, 0 when nothing is; each
 * calls fn(arg, wid, rev) in wid order (0 go on, 1 stop, -1 error). Do
 * not write from fn.
 */
int db_due_put(struct dbtx *, const char *wid, uint64_t rev);
int db_due_get(struct dbtx *, const char *wid, uint64_t *rev);
int db_due_del(struct dbtx *, const char *wid);
typedef int (*db_due_fn)(void *arg, const char *wid, uint64_t rev);
int db_due_each(struct dbtx *, db_due_fn, void *arg);

/*
 * The change log. db_event assigns ev->rev (the next revision), writes
 * the event to the log, trims the log to the retained count and queues
 * the message for publishing after commit. Topic by type:
 * container/<workload_id>/<row_id>, workload/<workload_id>, sys/pass.
 */
int db_event(struct dbtx *, struct wire_event *ev);
uint64_t db_head(const struct dbtx *);
/* Oldest revision still in the log (head + 1 when the log is empty). */
uint64_t db_oldest(struct dbtx *);
/* Calls fn for each logged event with rev > after, at most limit of
 * them; body points into the database (valid during the call). */
typedef int (*db_event_fn)(void *arg, uint64_t rev, const char *topic,
                           const void *body, size_t len);
int db_events_each(struct dbtx *, uint64_t after, uint64_t limit, db_event_fn,
                   void *arg);

struct db_stats {
	uint64_t workloads, rows, bound, events;
	uint64_t map_size, map_used, map_max; /* bytes */
};
int db_stats(struct dbtx *, struct db_stats *);

#endif
