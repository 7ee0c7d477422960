/*
 * testfx.c: the store tests' shared fixture (testfx.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api.h"
#include "arena.h"
#include "db.h"
#include "store.h"
#include "testfx.h"
#include "wire.h"
#include "wirejson.h"

void
testfx_mkdtemp(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "/tmp/recon-%s-test.XXXXXX", name);

	assert_true(n > 0 && (size_t)n < size);
	assert_non_null(mkdtemp(dir));
}

void
testfx_rmdir(const char *dir)
{
	static const char *const files[] = {"data.mdb", "lock.mdb"};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	/* fails on anything else left behind */
	assert_int_equal(rmdir(dir), 0);
}

struct db *
testfx_db_open(const char *dir, uint64_t map_size, uint64_t max_map_size,
               uint64_t retain)
{
	struct db_config cfg;
	struct db *db;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.map_size = map_size;
	cfg.max_map_size = max_map_size;
	cfg.retain = retain;
	assert_non_null(db = db_open(&cfg));
	return db;
}

void
testfx_capture(void *arg, const void *msg, size_t len)
{
	struct testfx_pubs *p = arg;
	const char *nul = memchr(msg, '\0', len);
	char err[WIRE_ERR_LEN];

	assert_non_null(nul);
	assert_true(p->n < TESTFX_MAXPUB);
	p->topic[p->n] =
	    arena_strndup(p->a, msg, (size_t)(nul - (const char *)msg));
	assert_int_equal(
	    wire_decode_event(nul + 1,
	                      len - (size_t)(nul + 1 - (const char *)msg), p->a,
	                      &p->ev[p->n++], err),
	    0);
}

struct db *
testfx_store_open(struct store *st, const char *dir, struct testfx_pubs *pubs)
{
	struct db *db = testfx_db_open(dir, 1 << 20, 1 << 28, 100000);

	assert_int_equal(store_init(st, db, "tinyforge.", -1), 0);
	db_set_publish(db, testfx_capture, pubs);
	return db;
}

struct wire_container
testfx_container(struct arena *a, const char *id, const char *state,
                 const char *wid, const char *role)
{
	struct wire_container c;

	memset(&c, 0, sizeof(c));
	c.id = arena_strdup(a, id);
	c.image = "busybox:latest";
	c.state = arena_strdup(a, state);
	c.created = 1700000000;
	c.labels = arena_alloc(a, 2 * sizeof(*c.labels));
	c.labels[0].key = "tinyforge.workload.id";
	c.labels[0].val = arena_strdup(a, wid);
	c.labels[1].key = "tinyforge.role";
	c.labels[1].val = arena_strdup(a, role);
	c.nlabels = 2;
	return c;
}

static int
put_workload_body(struct dbtx *tx, void *arg)
{
	return db_workload_put(tx, arg);
}

void
testfx_workload(struct db *db, const char *id, const char *kind)
{
	struct wire_workload w;

	memset(&w, 0, sizeof(w));
	w.id = (char *)id;
	w.kind = (char *)kind;
	assert_int_equal(db_write(db, put_workload_body, &w), 0);
}

static int
get_row_body(struct dbtx *tx, void *arg)
{
	void **a = arg;

	return db_row_get(tx, a[0], a[1], a[2]);
}

int
testfx_row(struct db *db, struct arena *a, const char *id, struct wire_row *out)
{
	void *args[3] = {(void *)id, a, out};

	memset(out, 0, sizeof(*out));
	return db_read(db, get_row_body, args);
}

bool
testfx_call_as(struct store *st, const struct wire_request *rq, int64_t uid,
               json_object **reply)
{
	struct wbuf req = {0}, rep = {0};
	char err[WIRE_ERR_LEN];
	json_object *ok;

	assert_int_equal(wire_encode_request(&req, rq), 0);
	assert_int_equal(api_handle(st, req.data, req.len, uid, &rep), 0);
	json_object_put(*reply);
	*reply = wire_to_json(rep.data, rep.len, err);
	assert_non_null(*reply);
	wbuf_free(&req);
	wbuf_free(&rep);
	assert_true(json_object_object_get_ex(*reply, "ok", &ok));
	return json_object_get_boolean(ok);
}

json_object *
testfx_get(json_object *o, const char *path)
{
	char buf[256], *part, *save = NULL;
	json_object *next;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part != NULL;
	     part = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			next = json_object_array_get_idx(o, (size_t)atoi(part));
		else if (!json_object_object_get_ex(o, part, &next))
			next = NULL;
		if (next == NULL)
			return NULL;
		o = next;
	}
	return o;
}
