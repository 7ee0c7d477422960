/*
 * testfx.h: what the store's cmocka tests share: a store's LMDB
 * environment in a temporary directory, workloads written straight into
 * it, and requests answered by api_handle as a given uid. Test code:
 * every failure fails the running test. Each test keeps its own fixture
 * (map sizes, admin uid, what it does with publications) around these.
 */
#ifndef RECON_TESTFX_H
#define RECON_TESTFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "wire.h"

struct arena;
struct db;
struct store;
struct wire_request;

/* A new directory /tmp/recon-<name>-test.XXXXXX, its path into dir. */
void testfx_mkdtemp(char *dir, size_t size, const char *name);

/* Removes dir with the LMDB files in it, once the environment is closed. */
void testfx_rmdir(const char *dir);

/* The environment in dir, made or opened again. */
struct db *testfx_db_open(const char *dir, uint64_t map_size,
                          uint64_t max_map_size, uint64_t retain);

/* What a store published, decoded in order: the event in ev, its topic in
 * topic (strings in a, which the test sets before the first). */
#define TESTFX_MAXPUB 1024
struct testfx_pubs {
	struct arena *a;
	struct wire_event ev[TESTFX_MAXPUB];
	char *topic[TESTFX_MAXPUB];
	size_t n;
};

/* A publish callback (db_set_publish) decoding into arg, a testfx_pubs. */
void testfx_capture(void *arg, const void *msg, size_t len);

/*
 * st started (labels tinyforge., no admin uid) on the environment in dir,
 * made or opened again (a 1 MiB map growing to 256 MiB, 100000 events
 * kept), its publications into pubs. Returns the environment.
 */
struct db *testfx_store_open(struct store *st, const char *dir,
                             struct testfx_pubs *pubs);

/* Container id in state of workload wid (label tinyforge.workload.id)
 * with role label role, strings in a. */
struct wire_container testfx_container(struct arena *a, const char *id,
                                       const char *state, const char *wid,
                                       const char *role);

/* A workload written in a transaction of its own, past api_check_workload
 * and without the events a workload.put sends. */
void testfx_workload(struct db *, const char *id, const char *kind);

/* Row id into out (strings in a): 1, or 0 when there is no such row. */
int testfx_row(struct db *, struct arena *a, const char *id,
               struct wire_row *out);

/*
 * Sends rq as uid through api_handle, as the server would; the reply, as
 * JSON, replaces *reply (the caller's to put, NULL at first). Returns its
 * `ok`.
 */
bool testfx_call_as(struct store *, const struct wire_request *rq, int64_t uid,
                    json_object **reply);

/* A dotted path into o ("error.code", "containers.0.id"); NULL when o has
 * no such member or index. */
json_object *testfx_get(json_object *o, const char *path);

#endif
