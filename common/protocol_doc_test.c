/*
 * protocol_doc_test.c: docs/PROTOCOL.md cannot drift from the code. Every
 * hex example in it must be the bytes of the vector file it names, decode
 * strictly with the decoder of its type and encode back byte for byte;
 * every command of the three ctl tables must have a request example.
 * RECON_WRITE_VECTORS=1 writes this file's vectors with the real encoders.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"
#include "ctlsrv.h"
#include "dispatcher_ctl.h"
#include "lister_ctl.h"
#include "store.h"
#include "wire.h"
#include "test_vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the vectors this document adds, from fixtures ---- */

static struct wire_row row_fx = {
    .id = "shop:web",
    .workload_id = "shop",
    .workload_kind = "site",
    .role = "web",
    .container_id = "4f1c9a0e2b7d",
    .image_ref = "shop:1.2",
    .host = "local",
    .state = "running",
    .port = 8080,
    .last_seen_at = 1700000000123,
    .subdomain = "www",
    .image_tag = "1.2",
    .created_at = 1690000000500,
};
static struct wire_workload workload_fx = {
    .id = "shop",
    .name = "Shop",
    .kind = "site",
    .source_kind = "git",
    .source_config = "{\"repo\":\"https://git.local/shop.git\"}",
    .notification_url = "https://hooks.local/recon",
    .notification_secret = "n-secret",
    .created_at = 1690000000000,
    .updated_at = 1700000000000,
    .plugin = {.last_run_at = 1700000001000,
               .last_ok_at = 1700000001000,
               .last_ok = true,
               .last_reason = "pass",
               .duration_ms = 850,
               .runs = 3},
};
static struct wire_event ev_container_fx = {
    .type = WIRE_EV_CONTAINER,
    .rev = 1001,
    .op = "upsert",
    .row = &row_fx,
    .prev_state = "stopped",
    .at = 1700000000124,
};
static struct wire_event ev_workload_fx = {
    .type = WIRE_EV_WORKLOAD,
    .rev = 1002,
    .op = "put",
    .workload = &workload_fx,
};
static struct wire_event ev_pass_fx = {
    .type = WIRE_EV_PASS,
    .rev = 1003,
    .host = "local",
    .gen = 42,
    .seen = 5,
    .changed = 1,
    .duration_us = 1830,
};

static int
enc_request(struct wbuf *b, const char *t, const char *id)
{
	struct wire_request rq = {.t = (char *)t, .id = (char *)id};

	return wire_encode_request(b, &rq);
}

static int
v_health(struct wbuf *b)
{
	return enc_request(b, "health", NULL);
}
static int
v_health_live(struct wbuf *b)
{
	struct wire_request rq = {.t = "health", .live = true};

	return wire_encode_request(b, &rq);
}
static int
v_container_get(struct wbuf *b)
{
	return enc_request(b, "container.get", "shop:web");
}
static int
v_container_put(struct wbuf *b)
{
	struct wire_request rq = {.t = "container.put", .row = &row_fx};

	return wire_encode_request(b, &rq);
}
static int
v_container_delete(struct wbuf *b)
{
	return enc_request(b, "container.delete", "shop:web");
}
static int
v_workloads_list(struct wbuf *b)
{
	return enc_request(b, "workloads.list", NULL);
}
static int
v_workload_get(struct wbuf *b)
{
	struct wire_request rq = {
	    .t = "workload.get", .id = "shop", .secrets = true};

	return wire_encode_request(b, &rq);
}
static int
v_workload_put(struct wbuf *b)
{
	struct wire_request rq = {.t = "workload.put",
	                          .workload = &workload_fx};

	return wire_encode_request(b, &rq);
}
static int
v_workload_delete(struct wbuf *b)
{
	return enc_request(b, "workload.delete", "shop");
}
static int
v_events_since(struct wbuf *b)
{
	struct wire_request rq = {.t = "events.since",
	                          .workload_id = "shop",
	                          .rev = 1000,
	                          .limit = 500};

	return wire_encode_request(b, &rq);
}
static int
v_stats(struct wbuf *b)
{
	return enc_request(b, "stats", NULL);
}
static int
v_dispatch(struct wbuf *b)
{
	return enc_request(b, "dispatch", "shop");
}
static int
v_hosts_list(struct wbuf *b)
{
	return enc_request(b, "hosts.list", NULL);
}
static int
v_hosts_forget(struct wbuf *b)
{
	struct wire_request rq = {.t = "hosts.forget", .host = "node-2"};

	return wire_encode_request(b, &rq);
}
static int
v_reply_forget(struct wbuf *b)
{
	return wire_reply_begin(b, 2) || wire_reply_u64(b, "rev", 1005) ||
	       wire_reply_u64(b, "missing", 3);
}
static int
v_reply_not_found_host(struct wbuf *b)
{
	return wire_reply_error(b, "not_found",
	                        "no host node-9 (hosts.list names the hosts "
	                        "the store knows)");
}
static int
v_resync(struct wbuf *b)
{
	return enc_request(b, "resync", NULL);
}
static int
v_reply_ok(struct wbuf *b)
{
	return wire_reply_begin(b, 0);
}
static int
v_reply_containers(struct wbuf *b)
{
	return wire_reply_begin(b, 2) || wire_reply_u64(b, "rev", 1003) ||
	       wire_reply_rows(b, "containers", &row_fx, 1);
}
static int
v_reply_container(struct wbuf *b)
{
	return wire_reply_begin(b, 2) || wire_reply_u64(b, "rev", 1003) ||
	       wire_reply_row(b, "container", &row_fx);
}
static int
v_reply_workloads(struct wbuf *b)
{
	return wire_reply_begin(b, 2) || wire_reply_u64(b, "rev", 1003) ||
	       wire_reply_workloads(b, "workloads", &workload_fx, 1, false);
}
static int
v_reply_workload(struct wbuf *b)
{
	return wire_reply_begin(b, 2) || wire_reply_u64(b, "rev", 1003) ||
	       wire_reply_workload(b, "workload", &workload_fx, true);
}
static int
v_reply_write(struct wbuf *b)
{
	return wire_reply_begin(b, 1) || wire_reply_u64(b, "rev", 1004);
}
static int
v_reply_dispatch(struct wbuf *b)
{
	return wire_reply_begin(b, 2) || wire_reply_u64(b, "rev", 1003) ||
	       wire_reply_str(b, "job", "sent");
}
static int
v_reply_events(struct wbuf *b)
{
	struct wbuf items = {0};
	int rc;

	rc = wire_encode_event(&items, &ev_container_fx) ||
	     wire_encode_event(&items, &ev_pass_fx) || wire_reply_begin(b, 2) ||
	     wire_reply_u64(b, "rev", 1003) ||
	     wire_reply_raw_array(b, "events", &items, 2);
	wbuf_free(&items);
	return rc;
}
static const struct wire_counter stats_ctr_fx[] = {
    {"snapshots", 120},
    {"ctl_forbidden", 0},
};
static int
v_reply_stats(struct wbuf *b)
{
	return wire_reply_begin(b, 11) || wire_reply_u64(b, "rev", 1003) ||
	       wire_reply_u64(b, "oldest_rev", 1) ||
	       wire_reply_u64(b, "workloads", 1) ||
	       wire_reply_u64(b, "rows", 1) ||
	       wire_reply_u64(b, "events", 1003) ||
	       wire_reply_u64(b, "map_size", 67108864) ||
	       wire_reply_u64(b, "map_used", 1212416) ||
	       wire_reply_u64(b, "map_max", 8589934592) ||
	       wire_reply_u64(b, "hosts_live", 2) ||
	       wire_reply_u64(b, "hosts_stale", 1) ||
	       wire_reply_counters(b, "counters", stats_ctr_fx,
	                           NELEM(stats_ctr_fx));
}
static int
v_reply_ahead(struct wbuf *b)
{
	return wire_reply_error(b, "ahead",
	                        "rev 2000 is ahead of the store's head 1003 "
	                        "(the store lost data or is another store): "
	                        "list again");
}
static int
v_reply_forbidden(struct wbuf *b)
{
	return wire_reply_error(b, "forbidden",
	                        "uid 1000 may not workload.put (only root, the "
	                        "daemon's own uid or --admin-uid)");
}
static int
v_plugin_result_rev(struct wbuf *b)
{
	struct wire_plugin_result m = {
	    .workload_id = "shop",
	    .reason = "state",
	    .ok = true,
	    .started_at = 1700000001000,
	    .duration_ms = 850,
	    .rev = 1001,
	};

	return wire_encode_plugin_result(b, &m);
}
static int
v_dispatch_job(struct wbuf *b)
{
	struct wire_job_item it = {
	    .workload = workload_fx, .rows = &row_fx, .nrows = 1};
	struct wire_dispatch d = {
	    .rev = 1001, .reason = "state", .items = &it, .nitems = 1};

	return wire_encode_dispatch(b, &d);
}
static int
published(struct wbuf *b, const struct wire_event *ev)
{
	char topic[WIRE_TOPIC_MAX];

	if (wire_event_topic(topic, sizeof(topic), ev) == -1)
		return -1;
	wbuf_append(b, topic, strlen(topic) + 1);
	return wire_encode_event(b, ev);
}
static int
v_published_container(struct wbuf *b)
{
	return published(b, &ev_container_fx);
}
static int
v_published_workload(struct wbuf *b)
{
	return published(b, &ev_workload_fx);
}
static int
v_published_pass(struct wbuf *b)
{
	return published(b, &ev_pass_fx);
}

static const struct vector {
	const char *name; /* tests/vectors/NAME.hex */
	int (*enc)(struct wbuf *);
} vectors[] = {
    {"request_health", v_health},
    {"request_health_live", v_health_live},
    {"request_container_get", v_container_get},
    {"request_container_put", v_container_put},
    {"request_container_delete", v_container_delete},
    {"request_workloads_list", v_workloads_list},
    {"request_workload_get", v_workload_get},
    {"request_workload_put_doc", v_workload_put},
    {"request_workload_delete", v_workload_delete},
    {"request_events_since", v_events_since},
    {"request_stats", v_stats},
    {"request_dispatch", v_dispatch},
    {"request_resync", v_resync},
    {"request_hosts_list", v_hosts_list},
    {"request_hosts_forget", v_hosts_forget},
    {"reply_forget", v_reply_forget},
    {"reply_error_not_found_host", v_reply_not_found_host},
    {"reply_ok", v_reply_ok},
    {"reply_containers", v_reply_containers},
    {"reply_container", v_reply_container},
    {"reply_workloads", v_reply_workloads},
    {"reply_workload_secrets", v_reply_workload},
    {"reply_write", v_reply_write},
    {"reply_dispatch", v_reply_dispatch},
    {"reply_events", v_reply_events},
    {"reply_stats", v_reply_stats},
    {"reply_error_ahead", v_reply_ahead},
    {"reply_error_forbidden", v_reply_forbidden},
    {"plugin_result_rev", v_plugin_result_rev},
    {"dispatch_job", v_dispatch_job},
    {"published_container", v_published_container},
    {"published_workload", v_published_workload},
    {"published_pass", v_published_pass},
};

/* ---- files ---- */

static char *
path_in(const char *dir, const char *rel)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%.3000s/%.900s", dir, rel);
	return path;
}

/* ---- decoding and encoding back, by the example's type ---- */

/* The `t` of the request examples seen, for the command check. */
static char seen_t[64][WIRE_ID_MAX + 1];
static size_t nseen_t;

static int
again_event(struct arena *a, const void *p, size_t len, struct wbuf *out,
            char *err)
{
	struct wire_event e;

	if (wire_decode_event(p, len, a, &e, err) == -1)
		return -1;
	return wire_encode_event(out, &e);
}

/*
 * Decodes buf as type and writes what our encoders make of the result
 * into out; -1 with err when it does not decode or the type is unknown.
 */
static int
again(const char *type, const void *buf, size_t len, struct arena *a,
      struct wbuf *out, char *err)
{
	union {
		struct wire_snapshot snapshot;
		struct wire_delta delta;
		struct wire_plugin_result result;
		struct wire_dispatch dispatch;
		struct wire_request request;
		struct wire_rows_reply rows;
		struct wire_row_reply row;
		struct wire_workloads_reply workloads;
		struct wire_workload_reply workload;
		struct wire_write_reply write;
		struct wire_stats_reply stats;
		struct wire_hosts_reply hosts;
		struct wire_health health;
		struct wire_topic topic;
	} m;
	struct wire_span *sp;
	struct wbuf items = {0};
	char *code, *msg;
	uint64_t rev;
	size_t i, n;
	bool ok;
	int rc;

	snprintf(err, WIRE_ERR_LEN, "unknown example type %s", type);
	if (strcmp(type, "snapshot") == 0)
		return wire_decode_snapshot(buf, len, a, &m.snapshot, err) ||
		       wire_encode_snapshot(out, &m.snapshot);
	if (strcmp(type, "delta") == 0)
		return wire_decode_delta(buf, len, a, &m.delta, err) ||
		       wire_encode_delta(out, &m.delta);
	if (strcmp(type, "plugin_result") == 0)
		return wire_decode_plugin_result(buf, len, a, &m.result, err) ||
		       wire_encode_plugin_result(out, &m.result);
	if (strcmp(type, "dispatch") == 0)
		return wire_decode_dispatch(buf, len, a, &m.dispatch, err) ||
		       wire_encode_dispatch(out, &m.dispatch);
	if (strcmp(type, "event") == 0)
		return again_event(a, buf, len, out, err);
	if (strcmp(type, "published") == 0) {
		if (wire_topic_split(buf, len, &m.topic, err) == -1)
			return -1;
		wbuf_append(out, m.topic.topic, m.topic.tlen + 1);
		return again_event(a, m.topic.body, m.topic.blen, out, err);
	}
	if (strcmp(type, "request") == 0) {
		if (wire_decode_request(buf, len, a, &m.request, err) == -1)
			return -1;
		if (nseen_t < NELEM(seen_t))
			snprintf(seen_t[nseen_t++], sizeof(seen_t[0]), "%s",
			         m.request.t);
		return wire_encode_request(out, &m.request);
	}
	if (strcmp(type, "reply_error") == 0) {
		if (wire_decode_reply_status(buf, len, a, &ok, &code, &msg,
		                             err) == -1)
			return -1;
		if (ok) {
			snprintf(err, WIRE_ERR_LEN, "not an error reply");
			return -1;
		}
		return wire_reply_error(out, code, msg);
	}
	if (strcmp(type, "reply_ok") == 0) {
		if (wire_decode_reply_status(buf, len, a, &ok, &code, &msg,
		                             err) == -1)
			return -1;
		if (!ok) {
			snprintf(err, WIRE_ERR_LEN, "not an ok reply");
			return -1;
		}
		return wire_reply_begin(out, 0);
	}
	if (strcmp(type, "reply_containers") == 0)
		return wire_decode_rows_reply(buf, len, a, &m.rows, err) ||
		       wire_reply_begin(out, 2) ||
		       wire_reply_u64(out, "rev", m.rows.rev) ||
		       wire_reply_rows(out, "containers", m.rows.rows,
		                       m.rows.nrows);
	if (strcmp(type, "reply_container") == 0)
		return wire_decode_row_reply(buf, len, a, &m.row, err) ||
		       wire_reply_begin(out, 2) ||
		       wire_reply_u64(out, "rev", m.row.rev) ||
		       wire_reply_row(out, "container", &m.row.row);
	if (strcmp(type, "reply_workloads") == 0)
		return wire_decode_workloads_reply(buf, len, a, &m.workloads,
		                                   err) ||
		       wire_reply_begin(out, 2) ||
		       wire_reply_u64(out, "rev", m.workloads.rev) ||
		       wire_reply_workloads(out, "workloads",
		                            m.workloads.workloads,
		                            m.workloads.nworkloads, false);
	if (strcmp(type, "reply_workload") == 0 ||
	    strcmp(type, "reply_workload_secrets") == 0)
		return wire_decode_workload_reply(buf, len, a, &m.workload,
		                                  err) ||
		       wire_reply_begin(out, 2) ||
		       wire_reply_u64(out, "rev", m.workload.rev) ||
		       wire_reply_workload(
		           out, "workload", &m.workload.workload,
		           strcmp(type, "reply_workload_secrets") == 0);
	if (strcmp(type, "reply_write") == 0) {
		if (wire_decode_write_reply(buf, len, a, &m.write, err) == -1)
			return -1;
		if (m.write.job[0] == '\0')
			return wire_reply_begin(out, 1) ||
			       wire_reply_u64(out, "rev", m.write.rev);
		return wire_reply_begin(out, 2) ||
		       wire_reply_u64(out, "rev", m.write.rev) ||
		       wire_reply_str(out, "job", m.write.job);
	}
	if (strcmp(type, "reply_forget") == 0)
		return wire_decode_write_reply(buf, len, a, &m.write, err) ||
		       wire_reply_begin(out, 2) ||
		       wire_reply_u64(out, "rev", m.write.rev) ||
		       wire_reply_u64(out, "missing", m.write.missing);
	if (strcmp(type, "reply_hosts") == 0)
		return wire_decode_hosts_reply(buf, len, a, &m.hosts, err) ||
		       wire_reply_begin(out, 2) ||
		       wire_reply_u64(out, "rev", m.hosts.rev) ||
		       wire_reply_hosts(out, "hosts", m.hosts.hosts,
		                        m.hosts.nhosts);
	if (strcmp(type, "reply_stats") == 0)
		return wire_decode_stats_reply(buf, len, a, &m.stats, err) ||
		       wire_reply_begin(out, 11) ||
		       wire_reply_u64(out, "rev", m.stats.rev) ||
		       wire_reply_u64(out, "oldest_rev", m.stats.oldest_rev) ||
		       wire_reply_u64(out, "workloads", m.stats.workloads) ||
		       wire_reply_u64(out, "rows", m.stats.rows) ||
		       wire_reply_u64(out, "events", m.stats.events) ||
		       wire_reply_u64(out, "map_size", m.stats.map_size) ||
		       wire_reply_u64(out, "map_used", m.stats.map_used) ||
		       wire_reply_u64(out, "map_max", m.stats.map_max) ||
		       wire_reply_u64(out, "hosts_live", m.stats.hosts_live) ||
		       wire_reply_u64(out, "hosts_stale",
		                      m.stats.hosts_stale) ||
		       wire_reply_counters(out, "counters", m.stats.counters,
		                           m.stats.ncounters);
	if (strcmp(type, "reply_health") == 0)
		return wire_decode_health_reply(buf, len, a, &m.health, err) ||
		       wire_reply_health(out, &m.health);
	if (strcmp(type, "reply_events") == 0) {
		if (wire_decode_events_reply(buf, len, a, &rev, &sp, &n, err) ==
		    -1)
			return -1;
		for (i = 0, rc = 0; i < n && rc == 0; i++)
			rc = again_event(a, sp[i].p, sp[i].len, &items, err);
		if (rc == 0)
			rc = wire_reply_begin(out, 2) ||
			     wire_reply_u64(out, "rev", rev) ||
			     wire_reply_raw_array(out, "events",
			                          n > 0 ? &items : NULL, n);
		wbuf_free(&items);
		return rc;
	}
	return -1;
}

/* ---- the document ---- */

#define MARK "<!-- vector: "

struct example {
	char path[256], type[64];
	size_t line;
	struct wbuf hex; /* the bytes the document shows */
};

/*
 * Reads every example: a line `<!-- vector: PATH type: TYPE -->`, then a
 * line "```hex", the hex, and "```". Returns how many; fails on a marker
 * without its block.
 */
static size_t
read_examples(const char *doc, struct example *ex, size_t max)
{
	const char *p = doc, *eol, *end;
	size_t n = 0, line = 1;
	int k;

	for (; *p != '\0'; p = *eol ? eol + 1 : eol, line++) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if (strncmp(p, MARK, strlen(MARK)) != 0)
			continue;
		assert_true(n < max);
		memset(&ex[n], 0, sizeof(ex[n]));
		ex[n].line = line;
		k = sscanf(p, MARK "%255s type: %63s -->", ex[n].path,
		           ex[n].type);
		if (k != 2)
			fail_msg("PROTOCOL.md:%zu: a marker that does not read "
			         "`" MARK "PATH type: TYPE -->`",
			         line);
		if (*eol == '\0' || strncmp(eol + 1, "```hex\n", 7) != 0)
			fail_msg("PROTOCOL.md:%zu: no ```hex block after the "
			         "marker",
			         line);
		p = eol + 8;
		line++;
		end = strstr(p, "\n```");
		if (end == NULL ||
		    tv_unhex(p, (size_t)(end - p), &ex[n].hex) == -1)
			fail_msg("PROTOCOL.md:%zu: the hex block is not hex "
			         "or not closed",
			         ex[n].line);
		for (; p < end; p++)
			if (*p == '\n')
				line++;
		eol = end;
		n++;
	}
	return n;
}

static const char *
source_dir(void)
{
	const char *dir = getenv("RECON_TEST_VECTORS");
	static char root[4096];
	size_t n;

	/* the vectors are tests/vectors/ of the source tree */
	if (dir == NULL)
		return NULL;
	n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (n < 14 || strncmp(dir + n - 13, "tests/vectors", 13) != 0)
		return NULL;
	snprintf(root, sizeof(root), "%.*s", (int)(n - 14), dir);
	return root;
}

static void
test_write_vectors(void **state)
{
	const char *dir = getenv("RECON_TEST_VECTORS");
	struct wbuf b = {0}, file = {0};
	size_t i;

	(void)state;
	if (dir == NULL)
		skip();
	for (i = 0; i < NELEM(vectors); i++) {
		wbuf_reset(&b);
		assert_int_equal(vectors[i].enc(&b), 0);
		/* the files are what the encoders write today */
		tv_check(dir, vectors[i].name, &b, &file);
	}
	wbuf_free(&b);
	wbuf_free(&file);
}

static void
test_examples(void **state)
{
	static struct example ex[128];
	const char *root = source_dir();
	struct arena *a;
	struct wbuf file = {0}, out = {0};
	char err[WIRE_ERR_LEN], *doc;
	size_t i, n, len, k;

	(void)state;
	assert_non_null(root);
	doc = tv_slurp(path_in(root, "docs/PROTOCOL.md"), &len);
	n = read_examples(doc, ex, NELEM(ex));
	free(doc);
	assert_true(n >= 20);
	for (i = 0; i < n; i++) {
		print_message("PROTOCOL.md:%zu %s (%s)\n", ex[i].line,
		              ex[i].path, ex[i].type);
		if (strncmp(ex[i].path, "tests/vectors/", 14) != 0)
			fail_msg("PROTOCOL.md:%zu: %s is not in tests/vectors/",
			         ex[i].line, ex[i].path);
		/* the document shows the vector's bytes */
		tv_read(path_in(root, ex[i].path), &file);
		for (k = 0; k < file.len && k < ex[i].hex.len; k++)
			if (file.data[k] != ex[i].hex.data[k])
				break;
		if (file.len != ex[i].hex.len || k < file.len)
			fail_msg("PROTOCOL.md:%zu: the hex differs from %s at "
			         "byte %zu (lengths %zu, %zu)",
			         ex[i].line, ex[i].path, k, ex[i].hex.len,
			         file.len);
		/* which decodes strictly and encodes back to itself */
		a = arena_new();
		wbuf_reset(&out);
		if (again(ex[i].type, file.data, file.len, a, &out, err) != 0)
			fail_msg("PROTOCOL.md:%zu: %s does not decode as %s: "
			         "%s",
			         ex[i].line, ex[i].path, ex[i].type, err);
		if (out.len != file.len ||
		    memcmp(out.data, file.data, file.len) != 0)
			fail_msg("PROTOCOL.md:%zu: %s does not encode back to "
			         "the same bytes",
			         ex[i].line, ex[i].path);
		/* and one byte more is refused (trailing bytes) */
		wbuf_append(&file, "\xc0", 1);
		wbuf_reset(&out);
		if (again(ex[i].type, file.data, file.len, a, &out, err) == 0)
			fail_msg("PROTOCOL.md:%zu: %s with a trailing byte "
			         "decodes",
			         ex[i].line, ex[i].path);
		arena_free(a);
		wbuf_free(&ex[i].hex);
	}
	wbuf_free(&file);
	wbuf_free(&out);
}

static void
need_documented(const struct ctlsrv_config *cfg)
{
	size_t i, k;

	for (i = 0; i < cfg->ncmds; i++) {
		for (k = 0; k < nseen_t; k++)
			if (strcmp(seen_t[k], cfg->cmds[i].name) == 0)
				break;
		if (k == nseen_t)
			fail_msg("%s's command %s has no request example in "
			         "docs/PROTOCOL.md",
			         cfg->proc, cfg->cmds[i].name);
	}
}

/* Every command of the three ctl tables, and health, has an example. */
static void
test_commands_documented(void **state)
{
	static struct store st;
	static struct lister_ctl lc;
	static struct dispatcher_ctl dc;
	struct ctlsrv_config cfg;
	struct ctlsrv_cmd health = {"health", NULL};

	(void)state;
	assert_true(nseen_t > 0); /* test_examples ran first */
	api_config(&st, &cfg);
	need_documented(&cfg);
	lister_ctl_config(&lc, &cfg);
	need_documented(&cfg);
	dispatcher_ctl_config(&dc, &cfg);
	need_documented(&cfg);
	cfg.cmds = &health;
	cfg.ncmds = 1;
	cfg.proc = "every process";
	need_documented(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_vectors),
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_commands_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
