/*
 * wire_test.c: the wire codec: round trips of every message and record,
 * golden vectors (tests/vectors/NAME.hex), and a table of malformed input.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
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
#include <msgpack.h>

#include "arena.h"
#include "mpack.h"
#include "wire.h"
#include "wirejson.h"
#include "test_vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures: every field set, so a lost field shows ---- */

static struct wire_kv labels_fx[] = {
    {"tinyforge.workload.id", "wl-1"},
    {"tinyforge.workload.kind", "site"},
    {"tinyforge.role", "web"},
};
static int64_t ports_fx[] = {8080, 8443, 65535};
static struct wire_container containers_fx[] = {
    {.id = "4f1c9a0e2b7d",
     .image = "registry.local/site:1.2",
     .state = "running",
     .created = 1700000000,
     .labels = labels_fx,
     .nlabels = NELEM(labels_fx),
     .ports = ports_fx,
     .nports = NELEM(ports_fx)},
    {.id = "9a8b7c6d5e4f",
     .image = "busybox",
     .state = "exited",
     .created = -1},
};
static struct wire_snapshot snapshot_fx = {
    .host = "node-1",
    .gen = 42,
    .taken_at = 1700000000123,
    .complete = true,
    .containers = containers_fx,
    .ncontainers = NELEM(containers_fx),
};
static char *gone_fx[] = {"0123456789ab", "ba9876543210"};
/* the same from a lister that says its interval (SPEC §10) */
static struct wire_snapshot snapshot_interval_fx = {
    .host = "node-1",
    .gen = 43,
    .taken_at = 1700000030123,
    .complete = true,
    .interval_ms = 30000,
    .containers = containers_fx,
    .ncontainers = 1,
};
static struct wire_host hosts_fx[] = {
    {.host = "node-1",
     .state = "live",
     .last_seen_at = 1700000030125,
     .gen = 43,
     .interval_ms = 30000,
     .rows = 12},
    {.host = "node-2",
     .state = "stale",
     .last_seen_at = 1699999000000,
     .gen = UINT64_MAX,
     .interval_ms = 300000,
     .rows = 0},
};
static struct wire_delta delta_fx = {
    .host = "node-1",
    .gen = UINT64_MAX,
    .containers = containers_fx,
    .ncontainers = 1,
    .gone = gone_fx,
    .ngone = NELEM(gone_fx),
};
static struct wire_plugin_result result_fx = {
    .workload_id = "wl-1",
    .reason = "pass",
    .ok = false,
    .error = "exit 3: git fetch failed",
    .started_at = 1700000001000,
    .duration_ms = 2345,
};
#define WORKLOAD_FX                                                            \
	{                                                                      \
		.id = "wl-1", .name = "Marketing site", .kind = "site",        \
		.app_id = "app-7", .parent_workload_id = "wl-0",               \
		.source_kind = "git",                                          \
		.source_config = "{\"repo\":\"https://git.local/s.git\"}",     \
		.trigger_kind = "push", .trigger_config = "{}",                \
		.public_faces = "[{\"host\":\"www.example.org\"}]",            \
		.notification_url = "https://hooks.local/recon",               \
		.notification_secret = "n-secret",                             \
		.webhook_secret = "w-secret",                                  \
		.webhook_signing_secret = "s-secret",                          \
		.webhook_require_signature = true,                             \
		.created_at = 1690000000000, .updated_at = 1700000000000,      \
		.plugin = {                                                    \
			.last_run_at = 1700000001000,                          \
			.last_ok_at = 1699990000000,                           \
			.last_ok = true,                                       \
			.last_reason = "manual",                               \
			.last_error = "exit 3",                                \
			.duration_ms = 2345,                                   \
			.runs = 17,                                            \
			.failures = 2                                          \
		}                                                              \
	}
static struct wire_workload workload_fx = WORKLOAD_FX;
static struct wire_row rows_fx[] = {
    {.id = "wl-1:site",
     .workload_id = "wl-1",
     .workload_kind = "site",
     .role = "web",
     .container_id = "4f1c9a0e2b7d",
     .image_ref = "registry.local/site:1.2",
     .host = "node-1",
     .state = "running",
     .port = 8080,
     .last_seen_at = 1700000000123,
     .subdomain = "www",
     .proxy_route_id = "route-9",
     .npm_proxy_id = "17",
     .image_tag = "1.2",
     .stage_id = "prod",
     .created_at = 1690000000500},
    {.id = "wl-1:worker",
     .workload_id = "wl-1",
     .workload_kind = "site",
     .role = "worker",
     .container_id = "",
     .image_ref = "",
     .host = "node-2",
     .state = "missing",
     .port = 0,
     .last_seen_at = INT64_MIN,
     .subdomain = "",
     .proxy_route_id = "",
     .npm_proxy_id = "",
     .image_tag = "",
     .stage_id = "",
     .created_at = INT64_MAX},
};
static struct wire_job_item items_fx[] = {
    {.workload = WORKLOAD_FX, .rows = rows_fx, .nrows = NELEM(rows_fx)},
    {.workload = WORKLOAD_FX},
};
static struct wire_dispatch dispatch_fx = {
    .rev = 1000,
    .reason = "state",
    .items = items_fx,
    .nitems = NELEM(items_fx),
};
static struct wire_event ev_container_fx = {
    .type = WIRE_EV_CONTAINER,
    .rev = 1001,
    .op = "upsert",
    .row = &rows_fx[0],
    .prev_state = "stopped",
    .at = 1700000000124,
};
static struct wire_event ev_workload_fx = {
    .type = WIRE_EV_WORKLOAD,
    .rev = 1002,
    .op = "plugin",
    .workload = &workload_fx,
};
static struct wire_event ev_pass_fx = {
    .type = WIRE_EV_PASS,
    .rev = 1003,
    .host = "node-1",
    .gen = 42,
    .seen = 5,
    .changed = 2,
    .missing = 1,
    .ignored_unknown = 3,
    .ignored_kind = 4,
    .duration_us = 123456,
};
static struct wire_request req_put_fx = {
    .t = "workload.put",
    .workload = &workload_fx,
};
static struct wire_request req_list_fx = {
    .t = "containers.list",
    .workload_id = "wl-1",
    .state = "running",
    .host = "node-1",
};
static struct wire_request req_full_fx = {
    .t = "x.everything",
    .id = "wl-1:site",
    .workload_id = "wl-1",
    .state = "running",
    .host = "node-1",
    .rev = 77,
    .limit = 500,
    .secrets = true,
    .live = true,
    .workload = &workload_fx,
    .row = &rows_fx[1],
};

/* ---- comparisons: every field ---- */

static void
cmp_str(const char *want, const char *got)
{
	assert_non_null(got);
	assert_string_equal(want ? want : "", got);
}

static void
cmp_container(const struct wire_container *a, const struct wire_container *b)
{
	size_t i;

	cmp_str(a->id, b->id);
	cmp_str(a->image, b->image);
	cmp_str(a->state, b->state);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->nlabels, b->nlabels);
	for (i = 0; i < a->nlabels; i++) {
		cmp_str(a->labels[i].key, b->labels[i].key);
		cmp_str(a->labels[i].val, b->labels[i].val);
	}
	assert_int_equal(a->nports, b->nports);
	for (i = 0; i < a->nports; i++)
		assert_int_equal(a->ports[i], b->ports[i]);
}

static void
cmp_snapshot(const struct wire_snapshot *a, const struct wire_snapshot *b)
{
	size_t i;

	cmp_str(a->host, b->host);
	assert_int_equal(a->gen, b->gen);
	assert_int_equal(a->taken_at, b->taken_at);
	assert_int_equal(a->complete, b->complete);
	assert_int_equal(a->interval_ms, b->interval_ms);
	assert_int_equal(a->ncontainers, b->ncontainers);
	for (i = 0; i < a->ncontainers; i++)
		cmp_container(&a->containers[i], &b->containers[i]);
}

static void
cmp_delta(const struct wire_delta *a, const struct wire_delta *b)
{
	size_t i;

	cmp_str(a->host, b->host);
	assert_true(a->gen == b->gen);
	assert_int_equal(a->ncontainers, b->ncontainers);
	for (i = 0; i < a->ncontainers; i++)
		cmp_container(&a->containers[i], &b->containers[i]);
	assert_int_equal(a->ngone, b->ngone);
	for (i = 0; i < a->ngone; i++)
		cmp_str(a->gone[i], b->gone[i]);
}

static void
cmp_result(const struct wire_plugin_result *a,
           const struct wire_plugin_result *b)
{
	cmp_str(a->workload_id, b->workload_id);
	cmp_str(a->reason, b->reason);
	assert_int_equal(a->ok, b->ok);
	cmp_str(a->error, b->error);
	assert_int_equal(a->started_at, b->started_at);
	assert_int_equal(a->duration_ms, b->duration_ms);
}

/* secrets false: b must have come through without them. */
static void
cmp_workload(const struct wire_workload *a, const struct wire_workload *b,
             bool secrets)
{
	cmp_str(a->id, b->id);
	cmp_str(a->name, b->name);
	cmp_str(a->kind, b->kind);
	cmp_str(a->app_id, b->app_id);
	cmp_str(a->parent_workload_id, b->parent_workload_id);
	cmp_str(a->source_kind, b->source_kind);
	cmp_str(a->source_config, b->source_config);
	cmp_str(a->trigger_kind, b->trigger_kind);
	cmp_str(a->trigger_config, b->trigger_config);
	cmp_str(a->public_faces, b->public_faces);
	cmp_str(a->notification_url, b->notification_url);
	cmp_str(secrets ? a->notification_secret : "", b->notification_secret);
	cmp_str(secrets ? a->webhook_secret : "", b->webhook_secret);
	cmp_str(secrets ? a->webhook_signing_secret : "",
	        b->webhook_signing_secret);
	assert_int_equal(a->webhook_require_signature,
	                 b->webhook_require_signature);
	assert_int_equal(a->created_at, b->created_at);
	assert_int_equal(a->updated_at, b->updated_at);
	assert_int_equal(a->plugin.last_run_at, b->plugin.last_run_at);
	assert_int_equal(a->plugin.last_ok_at, b->plugin.last_ok_at);
	assert_int_equal(a->plugin.last_ok, b->plugin.last_ok);
	cmp_str(a->plugin.last_reason, b->plugin.last_reason);
	cmp_str(a->plugin.last_error, b->plugin.last_error);
	assert_int_equal(a->plugin.duration_ms, b->plugin.duration_ms);
	assert_int_equal(a->plugin.runs, b->plugin.runs);
	assert_int_equal(a->plugin.failures, b->plugin.failures);
}

static void
cmp_row(const struct wire_row *a, const struct wire_row *b)
{
	cmp_str(a->id, b->id);
	cmp_str(a->workload_id, b->workload_id);
	cmp_str(a->workload_kind, b->workload_kind);
	cmp_str(a->role, b->role);
	cmp_str(a->container_id, b->container_id);
	cmp_str(a->image_ref, b->image_ref);
	cmp_str(a->host, b->host);
	cmp_str(a->state, b->state);
	assert_int_equal(a->port, b->port);
	assert_true(a->last_seen_at == b->last_seen_at);
	cmp_str(a->subdomain, b->subdomain);
	cmp_str(a->proxy_route_id, b->proxy_route_id);
	cmp_str(a->npm_proxy_id, b->npm_proxy_id);
	cmp_str(a->image_tag, b->image_tag);
	cmp_str(a->stage_id, b->stage_id);
	assert_true(a->created_at == b->created_at);
}

static void
cmp_dispatch(const struct wire_dispatch *a, const struct wire_dispatch *b)
{
	size_t i, j;

	assert_int_equal(a->rev, b->rev);
	cmp_str(a->reason, b->reason);
	assert_int_equal(a->nitems, b->nitems);
	for (i = 0; i < a->nitems; i++) {
		cmp_workload(&a->items[i].workload, &b->items[i].workload,
		             true);
		assert_int_equal(a->items[i].nrows, b->items[i].nrows);
		for (j = 0; j < a->items[i].nrows; j++)
			cmp_row(&a->items[i].rows[j], &b->items[i].rows[j]);
	}
}

static void
cmp_event(const struct wire_event *a, const struct wire_event *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->rev, b->rev);
	switch (a->type) {
	case WIRE_EV_CONTAINER:
		cmp_str(a->op, b->op);
		assert_non_null(b->row);
		cmp_row(a->row, b->row);
		cmp_str(a->prev_state, b->prev_state);
		assert_int_equal(a->at, b->at);
		break;
	case WIRE_EV_WORKLOAD:
		cmp_str(a->op, b->op);
		assert_non_null(b->workload);
		cmp_workload(a->workload, b->workload, false);
		break;
	case WIRE_EV_PASS:
		cmp_str(a->host, b->host);
		assert_int_equal(a->gen, b->gen);
		assert_int_equal(a->seen, b->seen);
		assert_int_equal(a->changed, b->changed);
		assert_int_equal(a->missing, b->missing);
		assert_int_equal(a->ignored_unknown, b->ignored_unknown);
		assert_int_equal(a->ignored_kind, b->ignored_kind);
		assert_int_equal(a->duration_us, b->duration_us);
		break;
	}
}

/* Requests: absent stays NULL/0, present compares. */
static void
cmp_opt(const char *want, const char *got)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(want, got);
}

static void
cmp_request(const struct wire_request *a, const struct wire_request *b)
{
	cmp_opt(a->t, b->t);
	cmp_opt(a->id, b->id);
	cmp_opt(a->workload_id, b->workload_id);
	cmp_opt(a->state, b->state);
	cmp_opt(a->host, b->host);
	assert_int_equal(a->rev, b->rev);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->secrets, b->secrets);
	assert_int_equal(a->live, b->live);
	if (a->workload == NULL) {
		assert_null(b->workload);
	} else {
		assert_non_null(b->workload);
		cmp_workload(a->workload, b->workload, true);
	}
	if (a->row == NULL) {
		assert_null(b->row);
	} else {
		assert_non_null(b->row);
		cmp_row(a->row, b->row);
	}
}

static int tbuf_write(void *, const char *, size_t);

/* ---- the codec table: encode a fixture, check a decoded copy ---- */

static int
enc_snapshot(struct wbuf *b)
{
	return wire_encode_snapshot(b, &snapshot_fx);
}

static void
chk_snapshot(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_snapshot m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_snapshot(buf, len, a, &m, err), 0);
	cmp_snapshot(&snapshot_fx, &m);
	arena_free(a);
}

static int
enc_snapshot_interval(struct wbuf *b)
{
	return wire_encode_snapshot(b, &snapshot_interval_fx);
}

static void
chk_snapshot_interval(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_snapshot m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_snapshot(buf, len, a, &m, err), 0);
	cmp_snapshot(&snapshot_interval_fx, &m);
	assert_int_equal(m.interval_ms, 30000);
	arena_free(a);
}

static void
cmp_host(const struct wire_host *a, const struct wire_host *b, bool stored)
{
	cmp_str(a->host, b->host);
	assert_true(a->gen == b->gen);
	assert_int_equal(a->last_seen_at, b->last_seen_at);
	assert_int_equal(a->interval_ms, b->interval_ms);
	if (stored) {
		/* the record keeps neither */
		assert_null(b->state);
		assert_int_equal(b->rows, 0);
		return;
	}
	cmp_str(a->state, b->state);
	assert_int_equal(a->rows, b->rows);
}

static int
enc_host_record(struct wbuf *b)
{
	return wire_encode_host_record(b, &hosts_fx[1]);
}

static void
chk_host_record(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_host m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_host_record(buf, len, a, &m, err), 0);
	cmp_host(&hosts_fx[1], &m, true);
	arena_free(a);
}

static int
enc_reply_hosts(struct wbuf *b)
{
	return wire_reply_begin(b, 2) || wire_reply_u64(b, "rev", 1003) ||
	       wire_reply_hosts(b, "hosts", hosts_fx, NELEM(hosts_fx));
}

static void
chk_reply_hosts(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_hosts_reply m;
	char err[WIRE_ERR_LEN];
	size_t i;

	assert_int_equal(wire_decode_hosts_reply(buf, len, a, &m, err), 0);
	assert_int_equal(m.rev, 1003);
	assert_int_equal(m.nhosts, NELEM(hosts_fx));
	for (i = 0; i < m.nhosts; i++)
		cmp_host(&hosts_fx[i], &m.hosts[i], false);
	arena_free(a);
}

static int
enc_delta(struct wbuf *b)
{
	return wire_encode_delta(b, &delta_fx);
}

static void
chk_delta(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_delta m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_delta(buf, len, a, &m, err), 0);
	cmp_delta(&delta_fx, &m);
	arena_free(a);
}

static int
enc_result(struct wbuf *b)
{
	return wire_encode_plugin_result(b, &result_fx);
}

static void
chk_result(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_plugin_result m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_plugin_result(buf, len, a, &m, err), 0);
	cmp_result(&result_fx, &m);
	arena_free(a);
}

static int
enc_dispatch(struct wbuf *b)
{
	return wire_encode_dispatch(b, &dispatch_fx);
}

static void
chk_dispatch(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_dispatch m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_dispatch(buf, len, a, &m, err), 0);
	cmp_dispatch(&dispatch_fx, &m);
	arena_free(a);
}

static void
chk_event(const struct wire_event *want, const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_event m;
	enum wire_msgtype t;
	char err[WIRE_ERR_LEN];
	static const enum wire_msgtype types[] = {
	    [WIRE_EV_CONTAINER] = WIRE_T_CONTAINER_EVENT,
	    [WIRE_EV_WORKLOAD] = WIRE_T_WORKLOAD_EVENT,
	    [WIRE_EV_PASS] = WIRE_T_PASS_EVENT,
	};

	assert_int_equal(wire_peek_type(buf, len, &t, err), 0);
	assert_int_equal(t, types[want->type]);
	assert_int_equal(wire_decode_event(buf, len, a, &m, err), 0);
	cmp_event(want, &m);
	arena_free(a);
}

static int
enc_ev_container(struct wbuf *b)
{
	return wire_encode_event(b, &ev_container_fx);
}

static void
chk_ev_container(const void *buf, size_t len)
{
	chk_event(&ev_container_fx, buf, len);
}

static int
enc_ev_workload(struct wbuf *b)
{
	return wire_encode_event(b, &ev_workload_fx);
}

static void
chk_ev_workload(const void *buf, size_t len)
{
	/* the fixture has secrets: none may travel in an event */
	assert_null(memmem(buf, len, "secret", 6));
	chk_event(&ev_workload_fx, buf, len);
}

static int
enc_ev_pass(struct wbuf *b)
{
	return wire_encode_event(b, &ev_pass_fx);
}

static void
chk_ev_pass(const void *buf, size_t len)
{
	chk_event(&ev_pass_fx, buf, len);
}

static void
chk_request(const struct wire_request *want, const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_request m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_request(buf, len, a, &m, err), 0);
	cmp_request(want, &m);
	arena_free(a);
}

static int
enc_req_put(struct wbuf *b)
{
	return wire_encode_request(b, &req_put_fx);
}

static void
chk_req_put(const void *buf, size_t len)
{
	/* fixmap of 2: t and workload, nothing else */
	assert_int_equal((unsigned char)((const char *)buf)[0], 0x82);
	chk_request(&req_put_fx, buf, len);
}

static int
enc_req_list(struct wbuf *b)
{
	return wire_encode_request(b, &req_list_fx);
}

static void
chk_req_list(const void *buf, size_t len)
{
	assert_int_equal((unsigned char)((const char *)buf)[0], 0x84);
	chk_request(&req_list_fx, buf, len);
}

static int
enc_req_full(struct wbuf *b)
{
	return wire_encode_request(b, &req_full_fx);
}

static void
chk_req_full(const void *buf, size_t len)
{
	assert_int_equal((unsigned char)((const char *)buf)[0], 0x8b);
	chk_request(&req_full_fx, buf, len);
}

static int
enc_workload(struct wbuf *b)
{
	return wire_encode_workload(b, &workload_fx, true);
}

static void
chk_workload(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_workload m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_workload(buf, len, a, &m, err), 0);
	cmp_workload(&workload_fx, &m, true);
	arena_free(a);
}

static int
enc_workload_public(struct wbuf *b)
{
	return wire_encode_workload(b, &workload_fx, false);
}

static void
chk_workload_public(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_workload m;
	char err[WIRE_ERR_LEN];

	/* the keys themselves are left out, not sent empty */
	assert_null(memmem(buf, len, "secret", 6));
	assert_int_equal(wire_decode_workload(buf, len, a, &m, err), 0);
	cmp_workload(&workload_fx, &m, false);
	arena_free(a);
}

static int
enc_row(struct wbuf *b)
{
	return wire_encode_row(b, &rows_fx[0]);
}

static void
chk_row(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	struct wire_row m;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_decode_row(buf, len, a, &m, err), 0);
	cmp_row(&rows_fx[0], &m);
	arena_free(a);
}

static int
enc_reply_error(struct wbuf *b)
{
	return wire_reply_error(b, "compacted", "rev 5 is older than 900");
}

static void
chk_reply_error(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	char err[WIRE_ERR_LEN], *code, *msg;
	bool ok = true;

	assert_int_equal(
	    wire_decode_reply_status(buf, len, a, &ok, &code, &msg, err), 0);
	assert_false(ok);
	assert_string_equal(code, "compacted");
	assert_string_equal(msg, "rev 5 is older than 900");
	arena_free(a);
}

static const struct wire_check checks_fx[] = {
    {"docker", false, "connect: no such file"},
    {"store", true, ""},
};
static const struct wire_counter counters_fx[] = {
    {"passes", 12},
    {"snapshots_sent", UINT64_MAX},
};
static const struct wire_health health_fx = {
    .name = "lister",
    .pid = 4242,
    .version = "0.1.0",
    .uptime_s = 3600,
    .ready = true,
    .checks = checks_fx,
    .nchecks = NELEM(checks_fx),
    .counters = counters_fx,
    .ncounters = NELEM(counters_fx),
};

static int
enc_reply_health(struct wbuf *b)
{
	return wire_reply_health(b, &health_fx);
}

static json_object *
jget(json_object *o, const char *path)
{
	json_object *v = o;
	char key[64];
	const char *p = path, *dot;
	size_t n;

	while (*p) {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		assert_true(n < sizeof(key));
		memcpy(key, p, n);
		key[n] = '\0';
		if (isdigit((unsigned char)key[0]))
			v = json_object_array_get_idx(v, (size_t)atoi(key));
		else if (!json_object_object_get_ex(v, key, &v))
			v = NULL;
		if (v == NULL)
			fail_msg("no %s in reply", path);
		p += n + (dot ? 1 : 0);
	}
	return v;
}

static void
chk_reply_health(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	char err[WIRE_ERR_LEN];
	json_object *o;
	bool ok = false;

	assert_int_equal(
	    wire_decode_reply_status(buf, len, a, &ok, NULL, NULL, err), 0);
	assert_true(ok);
	o = wire_to_json(buf, len, err);
	assert_non_null(o);
	assert_int_equal(json_object_object_length(o), 8);
	assert_string_equal(json_object_get_string(jget(o, "name")), "lister");
	assert_int_equal(json_object_get_int64(jget(o, "pid")), 4242);
	assert_string_equal(json_object_get_string(jget(o, "version")),
	                    "0.1.0");
	assert_int_equal(json_object_get_int64(jget(o, "uptime_s")), 3600);
	assert_true(json_object_get_boolean(jget(o, "ready")));
	assert_int_equal(json_object_array_length(jget(o, "checks")), 2);
	assert_string_equal(json_object_get_string(jget(o, "checks.0.name")),
	                    "docker");
	assert_false(json_object_get_boolean(jget(o, "checks.0.ok")));
	assert_string_equal(json_object_get_string(jget(o, "checks.0.detail")),
	                    "connect: no such file");
	assert_true(json_object_get_boolean(jget(o, "checks.1.ok")));
	assert_int_equal(json_object_get_int64(jget(o, "counters.passes")), 12);
	assert_true(json_object_get_uint64(
	                jget(o, "counters.snapshots_sent")) == UINT64_MAX);
	json_object_put(o);
	arena_free(a);
}

/* A list reply: ok, rev, rows, workloads (public), raw events. */
static int
enc_reply_list(struct wbuf *b)
{
	struct wbuf items = {0};
	int rc;

	if (wire_encode_event(&items, &ev_pass_fx) == -1 ||
	    wire_encode_event(&items, &ev_container_fx) == -1)
		return -1;
	rc = wire_reply_begin(b, 6) || wire_reply_u64(b, "rev", 1003) ||
	     wire_reply_str(b, "note", NULL) ||
	     wire_reply_rows(b, "rows", rows_fx, NELEM(rows_fx)) ||
	     wire_reply_workloads(b, "workloads", &workload_fx, 1, false) ||
	     wire_reply_workload(b, "workload", &workload_fx, true) ||
	     wire_reply_raw_array(b, "events", &items, 2);
	wbuf_free(&items);
	return rc ? -1 : 0;
}

static void
chk_reply_list(const void *buf, size_t len)
{
	struct arena *a = arena_new();
	char err[WIRE_ERR_LEN], *code = (char *)"x";
	json_object *o;
	struct wbuf ev = {0};
	struct wire_event e;
	bool ok = false;
	const char *js;

	assert_int_equal(
	    wire_decode_reply_status(buf, len, a, &ok, &code, NULL, err), 0);
	assert_true(ok);
	assert_null(code);
	o = wire_to_json(buf, len, err);
	assert_non_null(o);
	assert_int_equal(json_object_object_length(o), 7);
	assert_true(json_object_get_boolean(jget(o, "ok")));
	assert_int_equal(json_object_get_int64(jget(o, "rev")), 1003);
	assert_string_equal(json_object_get_string(jget(o, "note")), "");
	assert_string_equal(json_object_get_string(jget(o, "rows.1.id")),
	                    "wl-1:worker");
	assert_string_equal(json_object_get_string(jget(o, "workloads.0.name")),
	                    "Marketing site");
	assert_false(json_object_object_get_ex(jget(o, "workloads.0"),
	                                       "webhook_secret", NULL));
	assert_string_equal(
	    json_object_get_string(jget(o, "workload.webhook_secret")),
	    "w-secret");
	assert_string_equal(json_object_get_string(jget(o, "events.0.t")),
	                    "pass");
	/* the raw event comes back out intact */
	assert_int_equal(wire_from_json(&ev, jget(o, "events.1")), 0);
	assert_int_equal(wire_decode_event(ev.data, ev.len, a, &e, err), 0);
	cmp_event(&ev_container_fx, &e);
	js = json_object_to_json_string_ext(jget(o, "rows.0"),
	                                    JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(js, "\"stage_id\":\"prod\""));
	wbuf_free(&ev);
	json_object_put(o);
	arena_free(a);
}

static const struct codec {
	const char *name; /* also the vector file: NAME.hex */
	int (*enc)(struct wbuf *);
	void (*chk)(const void *, size_t);
} codecs[] = {
    {"snapshot", enc_snapshot, chk_snapshot},
    {"snapshot_interval", enc_snapshot_interval, chk_snapshot_interval},
    {"host_record", enc_host_record, chk_host_record},
    {"reply_hosts", enc_reply_hosts, chk_reply_hosts},
    {"delta", enc_delta, chk_delta},
    {"plugin_result", enc_result, chk_result},
    {"dispatch", enc_dispatch, chk_dispatch},
    {"event_container", enc_ev_container, chk_ev_container},
    {"event_workload", enc_ev_workload, chk_ev_workload},
    {"event_pass", enc_ev_pass, chk_ev_pass},
    {"request_workload_put", enc_req_put, chk_req_put},
    {"request_containers_list", enc_req_list, chk_req_list},
    {"request_all_fields", enc_req_full, chk_req_full},
    {"workload", enc_workload, chk_workload},
    {"workload_public", enc_workload_public, chk_workload_public},
    {"row", enc_row, chk_row},
    {"reply_error", enc_reply_error, chk_reply_error},
    {"reply_health", enc_reply_health, chk_reply_health},
    {"reply_list", enc_reply_list, chk_reply_list},
};

/* Encode, decode, compare; then the message must survive a second trip
 * byte for byte (for the decodable ones) and appended to other output. */
static void
test_roundtrip(void **state)
{
	struct wbuf b = {0}, b2 = {0};
	size_t i;

	for (i = 0; i < NELEM(codecs); i++) {
		print_message("round trip %s\n", codecs[i].name);
		wbuf_reset(&b);
		assert_int_equal(codecs[i].enc(&b), 0);
		assert_true(b.len > 0);
		codecs[i].chk(b.data, b.len);
		/* appended after other bytes, the encoding is the same */
		wbuf_reset(&b2);
		tbuf_write(&b2, "abc", 3);
		assert_int_equal(codecs[i].enc(&b2), 0);
		assert_int_equal(b.len + 3, b2.len);
		assert_memory_equal(b2.data, "abc", 3);
		assert_memory_equal(b.data, b2.data + 3, b.len);
	}
	wbuf_free(&b);
	wbuf_free(&b2);
}

/* Decoded messages re-encode to the very same bytes. */
static void
test_reencode(void **state)
{
	struct arena *a = arena_new();
	struct wbuf b = {0}, b2 = {0};
	struct wire_snapshot s;
	struct wire_dispatch d;
	struct wire_workload w;
	char err[WIRE_ERR_LEN];

	assert_int_equal(wire_encode_snapshot(&b, &snapshot_fx), 0);
	assert_int_equal(wire_decode_snapshot(b.data, b.len, a, &s, err), 0);
	assert_int_equal(wire_encode_snapshot(&b2, &s), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);

	wbuf_reset(&b);
	wbuf_reset(&b2);
	assert_int_equal(wire_encode_dispatch(&b, &dispatch_fx), 0);
	assert_int_equal(wire_decode_dispatch(b.data, b.len, a, &d, err), 0);
	assert_int_equal(wire_encode_dispatch(&b2, &d), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);

	/* a record with nothing set: all strings come back "" */
	wbuf_reset(&b);
	memset(&w, 0, sizeof(w));
	w.id = "only-id";
	assert_int_equal(wire_encode_workload(&b, &w, true), 0);
	assert_int_equal(wire_decode_workload(b.data, b.len, a, &w, err), 0);
	assert_string_equal(w.id, "only-id");
	assert_string_equal(w.name, "");
	assert_string_equal(w.webhook_secret, "");
	assert_string_equal(w.plugin.last_error, "");
	wbuf_free(&b);
	wbuf_free(&b2);
	arena_free(a);
}

/* ---- golden vectors ---- */

static void
test_vectors(void **state)
{
	const char *dir = getenv("RECON_TEST_VECTORS");
	struct wbuf b = {0}, file = {0};
	size_t i;

	if (dir == NULL)
		skip();
	for (i = 0; i < NELEM(codecs); i++) {
		wbuf_reset(&b);
		assert_int_equal(codecs[i].enc(&b), 0);
		if (tv_check(dir, codecs[i].name, &b, &file))
			codecs[i].chk(file.data, file.len);
	}
	wbuf_free(&b);
	wbuf_free(&file);
}

/* ---- a tiny msgpack writer for hand-made (bad) input ----
 *
 * {k: v, ...} map (keys: bare words are strings, anything else a value),
 * [v, ...] array, 'text' str, L<n> a str of n 'a's, T F N true false nil,
 * ~1.5 float64, 12 / -3 ints (smallest encoding), x<hex> raw bytes that
 * count as one value. Several top-level values are written one after
 * the other.
 */

static int
tbuf_write(void *data, const char *buf, size_t len)
{
	struct wbuf *b = data;

	if (len == 0)
		return 0;
	if (b->cap - b->len < len) {
		b->cap = (b->len + len) * 2;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

static void
ws(const char **s)
{
	while (isspace((unsigned char)**s) || **s == ',')
		(*s)++;
}

static void mp_value(const char **s, struct wbuf *out);

/* A container: elements into a side buffer, then header and body. */
static void
mp_container(const char **s, struct wbuf *out, bool map)
{
	struct wbuf body = {0};
	msgpack_packer pk;
	const char *k;
	size_t n = 0;
	char close = map ? '}' : ']';

	msgpack_packer_init(&pk, &body, tbuf_write);
	(*s)++;
	for (ws(s); **s != close; ws(s)) {
		assert_true(**s != '\0');
		if (map) {
			/* a bare word; x, L, T, F, N start values */
			if ((islower((unsigned char)**s) && **s != 'x') ||
			    **s == '_') {
				for (k = *s; isalnum((unsigned char)**s) ||
				             **s == '_' || **s == '.';
				     (*s)++)
					;
				msgpack_pack_str_with_body(&pk, k,
				                           (size_t)(*s - k));
			} else {
				mp_value(s, &body);
			}
			ws(s);
			assert_int_equal(**s, ':');
			(*s)++;
			ws(s);
		}
		mp_value(s, &body);
		n++;
	}
	(*s)++;
	msgpack_packer_init(&pk, out, tbuf_write);
	if (map)
		msgpack_pack_map(&pk, n);
	else
		msgpack_pack_array(&pk, n);
	tbuf_write(out, body.data, body.len);
	free(body.data);
}

static void
mp_value(const char **s, struct wbuf *out)
{
	msgpack_packer pk;
	const char *p;
	char *end, *str;
	long long v;
	size_t n;
	int hi;

	msgpack_packer_init(&pk, out, tbuf_write);
	ws(s);
	switch (**s) {
	case '{':
	case '[':
		mp_container(s, out, **s == '{');
		return;
	case '\'':
		p = ++*s;
		while (**s != '\'')
			assert_true(*(*s)++ != '\0');
		msgpack_pack_str_with_body(&pk, p, (size_t)(*s - p));
		(*s)++;
		return;
	case 'L':
		n = strtoul(*s + 1, &end, 10);
		*s = end;
		str = malloc(n + 1);
		memset(str, 'a', n);
		msgpack_pack_str_with_body(&pk, str, n);
		free(str);
		return;
	case 'T':
	case 'F':
	case 'N':
		if (**s == 'N')
			msgpack_pack_nil(&pk);
		else if (**s == 'T')
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
		(*s)++;
		return;
	case '~':
		msgpack_pack_double(&pk, strtod(*s + 1, &end));
		*s = end;
		return;
	case 'x':
		for ((*s)++, hi = -1; isxdigit((unsigned char)**s); (*s)++) {
			int d = isdigit((unsigned char)**s)
			            ? **s - '0'
			            : tolower((unsigned char)**s) - 'a' + 10;
			if (hi < 0) {
				hi = d;
			} else {
				unsigned char byte =
				    (unsigned char)(hi << 4 | d);
				tbuf_write(out, (const char *)&byte, 1);
				hi = -1;
			}
		}
		assert_int_equal(hi, -1);
		return;
	}
	if (**s == '-' || isdigit((unsigned char)**s)) {
		if (**s == '-') {
			v = strtoll(*s, &end, 10);
			msgpack_pack_int64(&pk, v);
		} else {
			msgpack_pack_uint64(&pk, strtoull(*s, &end, 10));
		}
		*s = end;
		return;
	}
	fail_msg("mp: bad input at \"%s\"", *s);
}

static void
mp(struct wbuf *out, const char *s)
{
	out->len = 0;
	for (ws(&s); *s != '\0'; ws(&s))
		mp_value(&s, out);
}

/* ---- decoding hand-made input ---- */

enum dec {
	D_SNAPSHOT,
	D_DELTA,
	D_RESULT,
	D_DISPATCH,
	D_EVENT,
	D_REQUEST,
	D_WORKLOAD,
	D_ROW,
	D_REPLY,
	D_PEEK,
	D_JSON,
};

static int
decode_as(enum dec d, const void *buf, size_t len, struct arena *a, char *err)
{
	union {
		struct wire_snapshot s;
		struct wire_delta d;
		struct wire_plugin_result r;
		struct wire_dispatch j;
		struct wire_event e;
		struct wire_request q;
		struct wire_workload w;
		struct wire_row row;
	} u;
	enum wire_msgtype t;
	json_object *o;
	char *code, *msg;
	bool ok;

	switch (d) {
	case D_SNAPSHOT:
		return wire_decode_snapshot(buf, len, a, &u.s, err);
	case D_DELTA:
		return wire_decode_delta(buf, len, a, &u.d, err);
	case D_RESULT:
		return wire_decode_plugin_result(buf, len, a, &u.r, err);
	case D_DISPATCH:
		return wire_decode_dispatch(buf, len, a, &u.j, err);
	case D_EVENT:
		return wire_decode_event(buf, len, a, &u.e, err);
	case D_REQUEST:
		return wire_decode_request(buf, len, a, &u.q, err);
	case D_WORKLOAD:
		return wire_decode_workload(buf, len, a, &u.w, err);
	case D_ROW:
		return wire_decode_row(buf, len, a, &u.row, err);
	case D_REPLY:
		return wire_decode_reply_status(buf, len, a, &ok, &code, &msg,
		                                err);
	case D_PEEK:
		return wire_peek_type(buf, len, &t, err);
	case D_JSON:
		if ((o = wire_to_json(buf, len, err)) == NULL)
			return -1;
		json_object_put(o);
		return 0;
	}
	return -1;
}

#define SNAP_HEAD  "t:'snapshot', host:'h', gen:1, complete:T, "
#define SNAP(rest) "{" SNAP_HEAD rest "}"
#define SNAPC(c)   SNAP("containers:[{" c "}]")
#define EVC(rest)  "{t:'container', rev:1, op:'upsert', " rest "}"

/*
 * Hand-made messages and what the decoder must say: want NULL means it
 * must decode; otherwise the error must contain want.
 */
static const struct bad {
	const char *name;
	enum dec dec;
	const char *msg;
	const char *want;
} bads[] = {
    /* the baseline decodes */
    {"minimal snapshot", D_SNAPSHOT, SNAP("containers:[]"), NULL},
    {"minimal container", D_SNAPSHOT, SNAPC("id:'c1'"), NULL},
    {"interval given", D_SNAPSHOT, SNAP("containers:[], interval_ms:500"),
     NULL},
    {"interval negative", D_SNAPSHOT, SNAP("containers:[], interval_ms:-500"),
     "snapshot.interval_ms: negative integer -500"},
    {"interval is str", D_SNAPSHOT, SNAP("containers:[], interval_ms:'30s'"),
     "snapshot.interval_ms: expected int, got str"},
    {"interval twice", D_SNAPSHOT,
     SNAP("containers:[], interval_ms:1, interval_ms:2"), "duplicate key"},
    /* wrong types, one per field kind */
    {"string is int", D_SNAPSHOT,
     "{t:'snapshot', host:42, gen:1, complete:T, containers:[]}",
     "snapshot.host: expected str, got int"},
    {"string is bin", D_SNAPSHOT,
     "{t:'snapshot', host:xc40161, gen:1, complete:T, containers:[]}",
     "snapshot.host: expected str, got bin"},
    {"string is nil", D_SNAPSHOT, SNAPC("id:N"),
     "snapshot.containers[0].id: expected str, got nil"},
    {"uint64 is str", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:'1', complete:T, containers:[]}",
     "snapshot.gen: expected int, got str"},
    {"uint64 is negative", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:-1, complete:T, containers:[]}",
     "snapshot.gen: negative integer -1"},
    {"uint64 is negative int64", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:xd38000000000000000, complete:T, "
     "containers:[]}",
     "negative integer"},
    {"uint64 is float", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:~1.0, complete:T, containers:[]}",
     "snapshot.gen: expected int, got float"},
    {"int64 over INT64_MAX", D_SNAPSHOT,
     SNAP("taken_at:xcf8000000000000000, containers:[]"),
     "snapshot.taken_at: integer 9223372036854775808 out of range"},
    {"int64 is bool", D_SNAPSHOT, SNAPC("id:'c', created:T"),
     "snapshot.containers[0].created: expected int, got bool"},
    {"bool is int", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:1, complete:1, containers:[]}",
     "snapshot.complete: expected bool, got int"},
    {"t is nil", D_PEEK, "{t:N}", "message.t: expected str, got nil"},
    {"record array is map", D_SNAPSHOT, SNAP("containers:{}"),
     "snapshot.containers: expected array, got map"},
    {"record is array", D_SNAPSHOT, SNAP("containers:[[]]"),
     "snapshot.containers[0]: expected map, got array"},
    {"labels is array", D_SNAPSHOT, SNAPC("id:'c', labels:['a']"),
     "snapshot.containers[0].labels: expected map, got array"},
    {"label value is int", D_SNAPSHOT, SNAPC("id:'c', labels:{a:1}"),
     "snapshot.containers[0].labels: expected str, got int"},
    {"label key is int", D_SNAPSHOT, SNAPC("id:'c', labels:{1:'a'}"),
     "snapshot.containers[0].labels: map key is int, not str"},
    {"ports is str", D_SNAPSHOT, SNAPC("id:'c', ports:'80'"),
     "snapshot.containers[0].ports: expected array, got str"},
    {"port is str", D_SNAPSHOT, SNAPC("id:'c', ports:[80, '443']"),
     "snapshot.containers[0].ports[1]: expected int, got str"},
    {"gone is str", D_DELTA, "{t:'delta', host:'h', gen:1, gone:'x'}",
     "delta.gone: expected array, got str"},
    {"gone element is int", D_DELTA,
     "{t:'delta', host:'h', gen:1, gone:['a', 'b', 3]}",
     "delta.gone[2]: expected str, got int"},
    {"row pointer is str", D_EVENT, EVC("row:'r'"),
     "container_event.row: expected map, got str"},
    {"nested record is array", D_WORKLOAD, "{id:'w', plugin:[]}",
     "workload.plugin: expected map, got array"},
    {"nested record field", D_WORKLOAD, "{id:'w', plugin:{runs:-2}}",
     "workload.plugin.runs: negative integer -2"},
    {"request workload", D_REQUEST,
     "{t:'workload.put', workload:{id:'w', kind:5}}",
     "request.workload.kind: expected str, got int"},
    {"request bool", D_REQUEST, "{t:'workload.get', secrets:'yes'}",
     "request.secrets: expected bool, got str"},
    {"dispatch deep field", D_DISPATCH,
     "{t:'dispatch', rev:1, reason:'pass', workloads:[{workload:{id:'"
     "w'}, containers:[{id:'r', port:'80'}]}]}",
     "dispatch.workloads[0].containers[0].port: expected int, got str"},
    {"top level is array", D_SNAPSHOT, "[]",
     "snapshot: expected map, got array"},
    /* integer encodings that fit are all fine */
    {"uint8 for uint64", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:xcc05, complete:T, containers:[]}", NULL},
    {"positive int8 for uint64", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:xd005, complete:T, containers:[]}", NULL},
    {"uint64 max", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:xcfffffffffffffffff, complete:T, "
     "containers:[]}",
     NULL},
    {"int64 min", D_SNAPSHOT,
     SNAP("taken_at:xd38000000000000000, containers:[]"), NULL},
    {"int16 negative", D_SNAPSHOT, SNAP("taken_at:xd1ff00, containers:[]"),
     NULL},
    {"uint32 for int64", D_SNAPSHOT,
     SNAP("taken_at:xceffffffff, containers:[]"), NULL},
    /* sizes */
    {"id of 128 bytes", D_SNAPSHOT, SNAPC("id:L128"), NULL},
    {"id of 129 bytes", D_SNAPSHOT, SNAPC("id:L129"),
     "snapshot.containers[0].id: string over 128 bytes"},
    {"label value of 4096 bytes", D_SNAPSHOT, SNAPC("id:'c', labels:{a:L4096}"),
     NULL},
    {"label value of 4097 bytes", D_SNAPSHOT, SNAPC("id:'c', labels:{a:L4097}"),
     "snapshot.containers[0].labels: string over 4096 bytes"},
    {"label key of 4097 bytes", D_SNAPSHOT, SNAPC("id:'c', labels:{L4097:'a'}"),
     "snapshot.containers[0].labels: string over 4096 bytes"},
    {"t of 129 bytes", D_REQUEST, "{t:L129}",
     "request.t: string over 128 bytes"},
    {"image of 4097 bytes", D_SNAPSHOT, SNAPC("id:'c', image:L4097"),
     "snapshot.containers[0].image: string over 4096 bytes"},
    {"error text of 1 MiB", D_RESULT,
     "{t:'plugin_result', workload_id:'w', ok:F, error:L1048576}", NULL},
    {"error text over 1 MiB", D_RESULT,
     "{t:'plugin_result', workload_id:'w', ok:F, error:L1048577}",
     "plugin_result.error: string over 1048576 bytes"},
    {"embedded NUL", D_SNAPSHOT,
     "{t:'snapshot', host:xa3610062, gen:1, complete:T, containers:[]}",
     "snapshot.host: string contains NUL"},
    {"embedded NUL in label", D_SNAPSHOT, SNAPC("id:'c', labels:{a:xa2000a}"),
     "snapshot.containers[0].labels: string contains NUL"},
    {"embedded NUL in gone", D_DELTA,
     "{t:'delta', host:'h', gen:1, gone:[xa100]}",
     "delta.gone[0]: string contains NUL"},
    /* every string is UTF-8: else the JSON made of it is not JSON */
    {"invalid UTF-8 in a state", D_SNAPSHOT,
     SNAPC("id:'c', state:xa8727566ff66656e67"),
     "snapshot.containers[0].state: string is not UTF-8"},
    {"overlong UTF-8", D_SNAPSHOT,
     "{t:'snapshot', host:xa2c0af, gen:1, complete:T, containers:[]}",
     "snapshot.host: string is not UTF-8"},
    {"UTF-8 surrogate", D_SNAPSHOT,
     "{t:'snapshot', host:xa3eda080, gen:1, complete:T, containers:[]}",
     "snapshot.host: string is not UTF-8"},
    {"UTF-8 above U+10FFFF", D_SNAPSHOT,
     "{t:'snapshot', host:xa4f4908080, gen:1, complete:T, containers:[]}",
     "snapshot.host: string is not UTF-8"},
    {"UTF-8 cut short", D_DELTA, "{t:'delta', host:'h', gen:1, gone:[xa261e2]}",
     "delta.gone[0]: string is not UTF-8"},
    {"UTF-8 in a label value", D_SNAPSHOT, SNAPC("id:'c', labels:{a:xa2ff61}"),
     "snapshot.containers[0].labels: string is not UTF-8"},
    {"UTF-8 of every length decodes", D_SNAPSHOT,
     "{t:'snapshot', host:xa9c3a9e282acf09f9880, gen:1, complete:T, "
     "containers:[]}",
     NULL},
    /* declared counts larger than what follows */
    {"array32 of 2^32-1", D_SNAPSHOT, SNAP("containers:xddffffffff"),
     "snapshot.containers: array of 4294967295 elements exceeds the 0 "
     "bytes left"},
    {"array16 over the bytes left", D_SNAPSHOT,
     SNAP("containers:xdc0005c0c0c0c0"),
     "snapshot.containers: array of 5 elements exceeds the 4 bytes "
     "left"},
    {"map32 of 2^32-1", D_SNAPSHOT, SNAPC("id:'c', labels:xdfffffffff"),
     "snapshot.containers[0].labels: map of 4294967295 entries "
     "exceeds"},
    {"map32 top level", D_SNAPSHOT, "xdfffffffff",
     "snapshot: map of 4294967295 entries exceeds the 0 bytes left"},
    {"str32 of 2^32-1", D_SNAPSHOT,
     "{t:'snapshot', host:xdbffffffff, gen:1, complete:T, "
     "containers:[]}",
     "snapshot.host: string of 4294967295 bytes exceeds"},
    {"array32 in unknown key", D_SNAPSHOT,
     SNAP("zz:xddffffffff, containers:[]"),
     "snapshot.zz: array of 4294967295 elements exceeds"},
    {"bin32 in unknown key", D_SNAPSHOT, SNAP("zz:xc6ffffffff, containers:[]"),
     "snapshot.zz: bin of 4294967295 bytes exceeds"},
    {"ext32 in unknown key", D_SNAPSHOT,
     SNAP("zz:xc9ffffffff01, containers:[]"),
     "snapshot.zz: ext of 4294967296 bytes exceeds"},
    {"bare array32", D_SNAPSHOT, "xddffffffff",
     "snapshot: expected map, got array"},
    {"bare array32 to json", D_JSON, "xddffffffff",
     "array of 4294967295 elements exceeds the 0 bytes left"},
    {"bare map32 to json", D_JSON, "xdfffffffff",
     "map of 4294967295 entries exceeds the 0 bytes left"},
    {"bare str32 to json", D_JSON, "xdbffffffff",
     "string of 4294967295 bytes exceeds the 0 bytes left"},
    {"bare array32 peek", D_PEEK, "xddffffffff",
     "message: expected map, got array"},
    {"map32 reply", D_REPLY, "xdfffffffff",
     "reply: map of 4294967295 entries exceeds"},
    /* trailing bytes */
    {"trailing nil", D_SNAPSHOT, SNAP("containers:[]") " N",
     "snapshot: 1 trailing bytes"},
    {"trailing map", D_ROW, "{id:'r'} {id:'r'}", "row: 6 trailing bytes"},
    {"trailing to json", D_JSON, "1 2", "1 trailing bytes"},
    {"trailing reply", D_REPLY, "{ok:T} N", "reply: 1 trailing bytes"},
    /* duplicate keys */
    {"duplicate host", D_SNAPSHOT,
     "{t:'snapshot', host:'a', host:'b', gen:1, complete:T, "
     "containers:[]}",
     "snapshot: duplicate key \"host\""},
    {"duplicate t", D_SNAPSHOT, "{t:'snapshot', t:'snapshot'}",
     "snapshot: duplicate key \"t\""},
    {"duplicate t in request", D_REQUEST, "{t:'health', t:'stats'}",
     "request: duplicate key \"t\""},
    {"duplicate label", D_SNAPSHOT,
     SNAPC("id:'c', labels:{a:'1', b:'2', a:'3'}"),
     "snapshot.containers[0].labels: duplicate label \"a\""},
    {"duplicate in nested", D_WORKLOAD, "{id:'w', plugin:{runs:1, runs:2}}",
     "workload.plugin: duplicate key \"runs\""},
    {"duplicate ok", D_REPLY, "{ok:T, ok:F}", "reply.ok: duplicate key"},
    {"duplicate to json", D_JSON, "{a:1, a:2}", "duplicate key \"a\""},
    {"duplicate unknown is ignored", D_ROW, "{id:'r', zz:1, zz:2}", NULL},
    /* nesting */
    {"unknown 3 deep", D_SNAPSHOT, SNAP("zz:[[{a:[]}]], containers:[]"),
     "snapshot.zz: nested deeper than the schema allows"},
    {"unknown 3 levels", D_SNAPSHOT, SNAP("zz:[[{a:1}]], containers:[]"), NULL},
    {"unknown deep in dispatch", D_DISPATCH,
     "{t:'dispatch', rev:1, reason:'pass', workloads:[{workload:{id:'"
     "w', plugin:{zz:[[1]]}}}]}",
     "dispatch.workloads[0].workload.plugin.zz: nested deeper than 6"},
    {"unknown at depth 6", D_DISPATCH,
     "{t:'dispatch', rev:1, reason:'pass', workloads:[{workload:{id:'"
     "w', plugin:{zz:[1]}}}]}",
     NULL},
    /* non-string keys */
    {"int key", D_SNAPSHOT, "{t:'snapshot', 1:'x'}",
     "snapshot: map key is int, not str"},
    {"bin key", D_ROW, "{xc4026964:'r'}", "row: map key is bin, not str"},
    {"map key in unknown", D_ROW, "{id:'r', zz:{N:1}}",
     "row.zz: map key is nil, not str"},
    {"int key to json", D_JSON, "{1:2}", "map key is not a str"},
    {"NUL in a key is not the key", D_ROW, "{xa6696400787a7a:'r'}",
     "row: missing key \"id\""},
    {"control bytes in an error", D_ROW, "{id:'r', xa3610a62:xc1}",
     "row.a?b: invalid byte 0xc1"},
    /* t and required keys */
    {"missing t", D_SNAPSHOT, "{host:'h', gen:1, complete:T, containers:[]}",
     "snapshot: missing key \"t\""},
    {"wrong t", D_SNAPSHOT,
     "{t:'delta', host:'h', gen:1, complete:T, containers:[]}",
     "snapshot.t: \"delta\" is not snapshot"},
    {"t not a string", D_SNAPSHOT, "{t:5}",
     "snapshot.t: expected str, got int"},
    {"missing containers", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:1, complete:T}",
     "snapshot: missing key \"containers\""},
    {"missing complete", D_SNAPSHOT,
     "{t:'snapshot', host:'h', gen:1, containers:[]}",
     "snapshot: missing key \"complete\""},
    {"missing container id", D_SNAPSHOT, SNAPC("image:'x'"),
     "snapshot.containers[0]: missing key \"id\""},
    {"missing row id", D_ROW, "{state:'running'}", "row: missing key \"id\""},
    {"missing workload id", D_REQUEST, "{t:'workload.put', workload:{}}",
     "request.workload: missing key \"id\""},
    {"missing event row", D_EVENT, "{t:'container', rev:1, op:'upsert'}",
     "container_event: missing key \"row\""},
    {"missing ok", D_RESULT, "{t:'plugin_result', workload_id:'w'}",
     "plugin_result: missing key \"ok\""},
    {"missing request t", D_REQUEST, "{id:'x'}", "request: missing key \"t\""},
    {"event with unknown t", D_EVENT, "{t:'snapshot'}",
     "event: t is not an event type"},
    {"peek without t", D_PEEK, "{a:1}", "message: missing key \"t\""},
    {"reply without ok", D_REPLY, "{rev:1}", "reply: missing key \"ok\""},
    {"reply error not a map", D_REPLY, "{ok:F, error:'x'}",
     "reply.error: expected map, got str"},
    /* unknown keys, of every type, are skipped */
    {"unknown keys", D_SNAPSHOT,
     "{zz0:N, zz1:~2.5, zz2:xca3fc00000, zz3:xc40100, zz4:xd40102, "
     "zz5:xc702010304, zz6:{a:[1, 'x', {}]}, zz7:-5, zz8:L300, "
     "t:'snapshot', host:'h', gen:1, complete:T, containers:[{id:'c', "
     "t:'x', zz:[]}]}",
     NULL},
    {"unknown invalid byte", D_ROW, "{id:'r', zz:xc1}",
     "row.zz: invalid byte 0xc1"},
    {"unknown truncated ext", D_ROW, "{id:'r', zz:xd801}", "truncated"},
    {"request of any subset", D_REQUEST, "{t:'stats'}", NULL},
    {"reply with extra keys", D_REPLY,
     "{rows:[{id:'a', plugin:{a:[1]}}], ok:F, error:{code:'invalid', "
     "message:'kind', field:'kind'}}",
     NULL},
};

static void
test_bad(void **state)
{
	char err[WIRE_ERR_LEN];
	struct wbuf b = {0};
	struct arena *a;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(bads); i++) {
		mp(&b, bads[i].msg);
		a = arena_new();
		memset(err, 'z', sizeof(err));
		rc = decode_as(bads[i].dec, b.data, b.len, a, err);
		if (bads[i].want == NULL && rc != 0)
			fail_msg("%s: want success, got \"%s\"", bads[i].name,
			         err);
		if (bads[i].want != NULL &&
		    (rc != -1 || strstr(err, bads[i].want) == NULL))
			fail_msg("%s: want \"%s\", got rc %d \"%s\"",
			         bads[i].name, bads[i].want, rc, rc ? err : "");
		if (rc == -1)
			assert_true(strlen(err) < WIRE_ERR_LEN);
		/* nothing is ever allocated from a declared count */
		if (arena_used(a) > 2 * b.len + 64 * 1024)
			fail_msg("%s: arena used %zu for %zu bytes",
			         bads[i].name, arena_used(a), b.len);
		arena_free(a);
	}
	free(b.data);
}

/* The decoded values of hand-made integers and skipped keys. */
static void
test_values(void **state)
{
	struct arena *a = arena_new();
	char err[WIRE_ERR_LEN];
	struct wire_snapshot s;
	struct wire_request q;
	struct wbuf b = {0};

	mp(&b, "{zz:{a:[1]}, t:'snapshot', host:'h', gen:xcfffffffffffffffff,"
	       " taken_at:xd38000000000000000, complete:F, containers:[{id:'c',"
	       " ports:[xcc50, xd1fc18, xd0ff], zz:1}]}");
	assert_int_equal(wire_decode_snapshot(b.data, b.len, a, &s, err), 0);
	assert_true(s.gen == UINT64_MAX);
	assert_true(s.taken_at == INT64_MIN);
	assert_false(s.complete);
	assert_int_equal(s.ncontainers, 1);
	assert_int_equal(s.containers[0].nports, 3);
	assert_int_equal(s.containers[0].ports[0], 80);
	assert_int_equal(s.containers[0].ports[1], -1000);
	assert_int_equal(s.containers[0].ports[2], -1);
	assert_string_equal(s.containers[0].image, "");
	assert_null(s.containers[0].labels);

	/* a request keeps what is absent NULL */
	mp(&b, "{t:'events.since', rev:12, limit:0, zz:'x'}");
	assert_int_equal(wire_decode_request(b.data, b.len, a, &q, err), 0);
	assert_string_equal(q.t, "events.since");
	assert_int_equal(q.rev, 12);
	assert_null(q.id);
	assert_null(q.workload);
	assert_false(q.live);
	free(b.data);
	arena_free(a);
}

/* The exact error text, path and all. */
static void
test_error_text(void **state)
{
	struct wire_kv big[] = {{"tinyforge.x", NULL}};
	struct wire_container c[4];
	struct wire_snapshot s = snapshot_fx;
	struct wire_snapshot out;
	struct wbuf b = {0};
	struct arena *a = arena_new();
	char err[WIRE_ERR_LEN];
	char *v = malloc(4098);

	memset(v, 'v', 4097);
	v[4097] = '\0';
	big[0].val = v;
	c[0] = c[1] = c[2] = containers_fx[0];
	c[3] = containers_fx[1];
	c[3].labels = big;
	c[3].nlabels = 1;
	s.containers = c;
	s.ncontainers = 4;
	assert_int_equal(wire_encode_snapshot(&b, &s), 0);
	assert_int_equal(wire_decode_snapshot(b.data, b.len, a, &out, err), -1);
	assert_string_equal(
	    err, "snapshot.containers[3].labels: string over 4096 bytes");
	/* a failed decode leaves nothing half-filled behind */
	assert_null(out.containers);
	assert_int_equal(out.ncontainers, 0);

	/* err may be NULL */
	assert_int_equal(wire_decode_snapshot(b.data, b.len, a, &out, NULL),
	                 -1);
	wbuf_free(&b);
	free(v);
	arena_free(a);
}

/* Every proper prefix of a valid message is rejected. */
static void
test_truncation(void **state)
{
	struct wbuf b = {0};
	char err[WIRE_ERR_LEN];
	struct arena *a;
	size_t i, n, len;
	static const enum dec decs[] = {D_SNAPSHOT, D_DISPATCH, D_EVENT,
	                                D_REQUEST, D_JSON};
	int (*encs[])(struct wbuf *) = {enc_snapshot, enc_dispatch,
	                                enc_ev_workload, enc_req_full,
	                                enc_reply_list};

	for (n = 0; n < NELEM(decs); n++) {
		wbuf_reset(&b);
		assert_int_equal(encs[n](&b), 0);
		a = arena_new();
		assert_int_equal(decode_as(decs[n], b.data, b.len, a, err), 0);
		for (len = 0; len < b.len; len++) {
			/* a copy of exactly len bytes, so ASan sees overreads
			 */
			char *cut = malloc(len ? len : 1);
			memcpy(cut, b.data, len);
			if (decode_as(decs[n], cut, len, a, err) != -1)
				fail_msg("prefix %zu of %zu decoded", len,
				         b.len);
			if (decs[n] == D_SNAPSHOT &&
			    wire_peek_type(cut, len, NULL, err) == 0)
				assert_true(len >= 12); /* got past t */
			free(cut);
		}
		/* and one byte more is trailing garbage */
		i = b.len;
		tbuf_write(&b, "\xc0", 1);
		assert_int_equal(decode_as(decs[n], b.data, i + 1, a, err), -1);
		arena_free(a);
	}
	wbuf_free(&b);
}

/* Declared counts never drive allocation. */
static void
test_huge_counts(void **state)
{
	static const char *msgs[] = {
	    SNAP("containers:xddffffffff"),
	    SNAP("containers:xdd7fffffff"),
	    SNAPC("id:'c', labels:xdfffffffff"),
	    SNAPC("id:'c', ports:xddffffffff"),
	    "{t:'delta', host:'h', gen:1, gone:xddffffffff}",
	    "{t:'snapshot', host:xdbffffffff}",
	    "{id:'r', zz:xddffffffff}",
	    "xddffffffff",
	    "xdfffffffff",
	    "xdbffffffff",
	};
	static const enum dec decs[] = {D_SNAPSHOT, D_DELTA, D_ROW, D_EVENT,
	                                D_REQUEST,  D_REPLY, D_JSON};
	struct wbuf b = {0};
	char err[WIRE_ERR_LEN];
	struct arena *a;
	size_t i, j, n;

	for (i = 0; i < NELEM(msgs); i++) {
		mp(&b, msgs[i]);
		for (j = 0; j < NELEM(decs); j++) {
			a = arena_new();
			assert_int_equal(
			    decode_as(decs[j], b.data, b.len, a, err), -1);
			assert_true(arena_used(a) < 64 * 1024);
			arena_free(a);
		}
	}

	/* A count that fits the bytes left, elements that are garbage:
	 * one element is decoded, and only then does it fail. */
	n = 1000000;
	mp(&b, SNAP("containers:xdd000f4240"));
	for (i = 0; i < n; i++)
		tbuf_write(&b, "\xc0", 1);
	a = arena_new();
	assert_int_equal(wire_decode_snapshot(b.data, b.len, a,
	                                      &(struct wire_snapshot){0}, err),
	                 -1);
	assert_string_equal(err,
	                    "snapshot.containers[0]: expected map, got nil");
	assert_true(arena_used(a) < 64 * 1024);
	arena_free(a);
	free(b.data);
}

/* 100 nested arrays under an unknown key; also as a whole message. */
static void
test_deep(void **state)
{
	char msg[512], err[WIRE_ERR_LEN];
	struct wbuf b = {0};
	struct arena *a = arena_new();
	size_t n = 0;
	int i, d;

	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "{id:'r', zz:");
	for (i = 0; i < 100; i++)
		msg[n++] = '[';
	for (i = 0; i < 100; i++)
		msg[n++] = ']';
	snprintf(msg + n, sizeof(msg) - n, "}");
	mp(&b, msg);
	assert_int_equal(
	    wire_decode_row(b.data, b.len, a, &(struct wire_row){0}, err), -1);
	assert_non_null(strstr(err, "row.zz: nested deeper"));
	assert_int_equal(
	    wire_decode_reply_status(b.data, b.len, a, NULL, NULL, NULL, err),
	    -1);
	assert_int_equal(wire_peek_type(b.data, b.len, NULL, err), -1);
	assert_null(wire_to_json(b.data, b.len, err));

	/* the reply skipper goes as deep as WIRE_DEPTH_MAX, no further */
	for (d = 2; d <= WIRE_DEPTH_MAX + 1; d++) {
		n = (size_t)snprintf(msg, sizeof(msg), "{ok:T, zz:");
		for (i = 1; i < d; i++)
			msg[n++] = '[';
		for (i = 1; i < d; i++)
			msg[n++] = ']';
		snprintf(msg + n, sizeof(msg) - n, "}");
		mp(&b, msg);
		assert_int_equal(wire_decode_reply_status(
		                     b.data, b.len, a, NULL, NULL, NULL, err),
		                 d <= WIRE_DEPTH_MAX ? 0 : -1);
	}
	free(b.data);
	arena_free(a);
}

/* Label duplicates in a large map are found too (the sorting path). */
static void
test_label_dups(void **state)
{
	char msg[2048], err[WIRE_ERR_LEN];
	struct wbuf b = {0};
	struct arena *a = arena_new();
	struct wire_snapshot s;
	size_t n;
	int i;

	for (int dup = 0; dup < 2; dup++) {
		n = (size_t)snprintf(msg, sizeof(msg), "%s",
		                     "{" SNAP_HEAD
		                     "containers:[{id:'c', labels:{");
		for (i = 0; i < 40; i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n,
			                      "k%d:'v%d', ",
			                      dup && i == 39 ? 7 : i, i);
		snprintf(msg + n, sizeof(msg) - n, "}}]}");
		mp(&b, msg);
		if (dup) {
			assert_int_equal(
			    wire_decode_snapshot(b.data, b.len, a, &s, err),
			    -1);
			assert_non_null(strstr(err, "duplicate label \"k7\""));
		} else {
			assert_int_equal(
			    wire_decode_snapshot(b.data, b.len, a, &s, err), 0);
			assert_int_equal(s.containers[0].nlabels, 40);
			assert_string_equal(s.containers[0].labels[39].key,
			                    "k39");
			assert_string_equal(s.containers[0].labels[39].val,
			                    "v39");
		}
	}
	free(b.data);
	arena_free(a);
}

static void
test_peek(void **state)
{
	static const struct {
		const char *msg;
		int rc;
		enum wire_msgtype type;
	} cases[] = {
	    {"{t:'snapshot'}", 0, WIRE_T_SNAPSHOT},
	    {"{t:'delta'}", 0, WIRE_T_DELTA},
	    {"{t:'plugin_result'}", 0, WIRE_T_PLUGIN_RESULT},
	    {"{t:'dispatch'}", 0, WIRE_T_DISPATCH},
	    {"{t:'container'}", 0, WIRE_T_CONTAINER_EVENT},
	    {"{t:'workload'}", 0, WIRE_T_WORKLOAD_EVENT},
	    {"{a:[1, {b:2}], t:'pass', z:xc1}", 0, WIRE_T_PASS_EVENT},
	    {"{t:'health'}", 0, WIRE_T_UNKNOWN},
	    {"{t:'snapshotx'}", 0, WIRE_T_UNKNOWN},
	    {"{t:''}", 0, WIRE_T_UNKNOWN},
	    {"{t:1}", -1, WIRE_T_UNKNOWN},
	    {"{}", -1, WIRE_T_UNKNOWN},
	    {"['t', 'snapshot']", -1, WIRE_T_UNKNOWN},
	    {"'snapshot'", -1, WIRE_T_UNKNOWN},
	    {"{1:'snapshot'}", -1, WIRE_T_UNKNOWN},
	};
	char err[WIRE_ERR_LEN];
	struct wbuf b = {0};
	enum wire_msgtype t;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		mp(&b, cases[i].msg);
		t = WIRE_T_DISPATCH;
		assert_int_equal(wire_peek_type(b.data, b.len, &t, err),
		                 cases[i].rc);
		assert_int_equal(t, cases[i].type);
	}
	assert_int_equal(wire_peek_type(b.data, 0, &t, err), -1);
	assert_string_equal(err, "message: truncated");
	free(b.data);
}

/* Programming errors: -1 and nothing written. */
static void
test_encode_errors(void **state)
{
	struct wbuf b = {0};
	struct wire_event ev = ev_container_fx;
	struct wire_snapshot s = snapshot_fx;
	struct wire_dispatch d = dispatch_fx;
	struct wire_job_item item = items_fx[0];

	assert_int_equal(wire_reply_begin(&b, 0), 0);
	assert_int_equal(b.len, 5);

	ev.row = NULL;
	assert_int_equal(wire_encode_event(&b, &ev), -1);
	ev = ev_workload_fx;
	ev.workload = NULL;
	assert_int_equal(wire_encode_event(&b, &ev), -1);
	ev = ev_pass_fx;
	ev.type = (enum wire_event_type)7;
	assert_int_equal(wire_encode_event(&b, &ev), -1);
	s.containers = NULL;
	assert_int_equal(wire_encode_snapshot(&b, &s), -1);
	item.rows = NULL;
	d.items = &item;
	d.nitems = 1;
	assert_int_equal(wire_encode_dispatch(&b, &d), -1);
	assert_int_equal(wire_encode_row(&b, NULL), -1);
	assert_int_equal(wire_reply_rows(&b, "rows", NULL, 2), -1);
	assert_int_equal(wire_reply_raw_array(&b, "x", NULL, 1), -1);
	assert_int_equal(wire_reply_health(&b, NULL), -1);
	assert_int_equal(b.len, 5);

	/* a snapshot with no containers is fine and says so */
	s.ncontainers = 0;
	assert_int_equal(wire_encode_snapshot(&b, &s), 0);
	wbuf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

/* A password inside notification_url is a secret: "***" unless secrets
 * are asked for, in records, lists and events alike. */
static void
test_url_password(void **state)
{
	static const struct {
		const char *url, *shown;
	} cases[] = {
	    {"https://u:pw@h.example/x", "https://u:***@h.example/x"},
	    {"http://u:p%40ss:w@h:8080/a@b?c", "http://u:***@h:8080/a@b?c"},
	    {"https://u@h.example/x", "https://u@h.example/x"},
	    {"https://h.example/x?u=a:b@c", "https://h.example/x?u=a:b@c"},
	    {"", ""},
	};
	char err[WIRE_ERR_LEN];
	struct wire_workload w = workload_fx, got;
	struct wire_event ev = ev_workload_fx, gev;
	struct wbuf b = {0};
	struct arena *a;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("url: %s\n", cases[i].url);
		a = arena_new();
		w.notification_url = (char *)cases[i].url;
		wbuf_reset(&b);
		assert_int_equal(wire_encode_workload(&b, &w, false), 0);
		assert_int_equal(
		    wire_decode_workload(b.data, b.len, a, &got, err), 0);
		assert_string_equal(got.notification_url, cases[i].shown);
		wbuf_reset(&b);
		assert_int_equal(wire_encode_workload(&b, &w, true), 0);
		assert_int_equal(
		    wire_decode_workload(b.data, b.len, a, &got, err), 0);
		assert_string_equal(got.notification_url, cases[i].url);
		ev.workload = &w;
		wbuf_reset(&b);
		assert_int_equal(wire_encode_event(&b, &ev), 0);
		assert_int_equal(wire_decode_event(b.data, b.len, a, &gev, err),
		                 0);
		assert_string_equal(gev.workload->notification_url,
		                    cases[i].shown);
		arena_free(a);
	}
	wbuf_free(&b);
}

static void
test_reply_status(void **state)
{
	struct arena *a = arena_new();
	char err[WIRE_ERR_LEN], *code = NULL, *msg = NULL;
	struct wbuf b = {0};
	bool ok = true;

	assert_int_equal(wire_reply_error(&b, NULL, NULL), 0);
	assert_int_equal(
	    wire_decode_reply_status(b.data, b.len, a, &ok, &code, &msg, err),
	    0);
	assert_false(ok);
	assert_string_equal(code, "");
	assert_string_equal(msg, "");

	/* ok:false without an error map still reads */
	mp(&b, "{ok:F}");
	assert_int_equal(
	    wire_decode_reply_status(b.data, b.len, a, &ok, &code, &msg, err),
	    0);
	assert_false(ok);
	assert_string_equal(code, "");

	wbuf_reset(&b);
	assert_int_equal(wire_reply_begin(&b, 1), 0);
	assert_int_equal(wire_reply_counters(&b, "counters", counters_fx, 2),
	                 0);
	assert_int_equal(
	    wire_decode_reply_status(b.data, b.len, a, &ok, &code, &msg, err),
	    0);
	assert_true(ok);
	assert_null(code);
	assert_null(msg);

	mp(&b, "{ok:1}");
	assert_int_equal(
	    wire_decode_reply_status(b.data, b.len, a, &ok, &code, &msg, err),
	    -1);
	assert_string_equal(err, "reply.ok: expected bool, got int");
	mp(&b, "{ok:F, error:{code:L129}}");
	assert_int_equal(
	    wire_decode_reply_status(b.data, b.len, a, &ok, &code, &msg, err),
	    -1);
	assert_string_equal(err, "reply.error.code: string over 128 bytes");
	free(b.data);
	arena_free(a);
}

static void
test_arena(void **state)
{
	struct arena *a = arena_new();
	unsigned char *p, *q, *big;
	char *s;
	size_t i, used;

	assert_int_equal(arena_used(a), 0);
	p = arena_alloc(a, 3);
	q = arena_alloc(a, 40);
	assert_int_equal((uintptr_t)p % 16, 0);
	assert_int_equal((uintptr_t)q % 16, 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(q[i], 0);
	assert_true(arena_used(a) >= 43);

	/* the last allocation grows in place, zeroed */
	memset(q, 7, 40);
	used = arena_used(a);
	p = arena_realloc(a, q, 40, 400);
	assert_ptr_equal(p, q);
	assert_int_equal(p[39], 7);
	assert_int_equal(p[399], 0);
	assert_int_equal(arena_used(a), used + 360);
	/* an earlier one is copied */
	q = arena_alloc(a, 16);
	big = arena_realloc(a, p, 400, 800);
	assert_ptr_not_equal(big, p);
	assert_int_equal(big[0], 7);
	assert_int_equal(big[799], 0);

	/* a large allocation has its own chunk; small ones carry on */
	big = arena_alloc(a, 1 << 20);
	assert_int_equal((uintptr_t)big % 16, 0);
	assert_int_equal(big[(1 << 20) - 1], 0);
	memset(big, 1, 1 << 20);
	p = arena_alloc(a, 16);
	assert_int_equal(p[0], 0);
	assert_true(arena_used(a) >= (1 << 20) + 800);

	s = arena_strndup(a, "hello world", 5);
	assert_string_equal(s, "hello");
	s = arena_strndup(a, "ab\0cd", 5);
	assert_string_equal(s, "ab");
	s = arena_strdup(a, "");
	assert_string_equal(s, "");
	for (i = 0; i < 10000; i++) {
		p = arena_alloc(a, i % 300);
		assert_int_equal((uintptr_t)p % 16, 0);
	}
	arena_free(a);
	arena_free(NULL);
}

/* wire_peek_rev finds `rev` wherever it sits, and is as strict as the
 * decoder about what it reads to get there. */
static void
test_peek_rev(void **state)
{
	static const struct {
		const char *msg;
		int rc;
		uint64_t rev;
	} cases[] = {
	    {"{rev:42}", 0, 42},
	    {"{t:'container', zz:[1, {a:[2, 3]}, 'x'], rev:7, at:1}", 0, 7},
	    {"{t:'pass', rev:xcfffffffffffffffff}", 0, UINT64_MAX},
	    {"{t:'pass'}", -1, 0},
	    {"{t:'pass', rev:'7'}", -1, 0},
	    {"{t:'pass', rev:-1}", -1, 0},
	    {"[1, 2]", -1, 0},
	    {"{1:2, rev:3}", -1, 0},
	};
	char err[WIRE_ERR_LEN];
	struct wbuf b = {0};
	uint64_t rev;
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wbuf_reset(&b);
		mp(&b, cases[i].msg);
		rev = 0;
		assert_int_equal(wire_peek_rev(b.data, b.len, &rev, err),
		                 cases[i].rc);
		if (cases[i].rc == 0)
			assert_true(rev == cases[i].rev);
		else
			assert_true(err[0] != '\0');
	}
	/* a real event, and every truncation of it short of its rev */
	wbuf_reset(&b);
	assert_int_equal(wire_encode_event(&b, &ev_container_fx), 0);
	assert_int_equal(wire_peek_rev(b.data, b.len, &rev, err), 0);
	assert_true(rev == ev_container_fx.rev);
	for (cut = 0; cut < 8 && cut < b.len; cut++)
		assert_int_equal(wire_peek_rev(b.data, cut, &rev, err), -1);
	assert_int_equal(wire_peek_rev(NULL, 0, &rev, err), -1);
	wbuf_free(&b);
}

/* msgpack-c re-packs what it unpacks in the smallest forms: our writer
 * must have chosen the same bytes, at every size boundary. */
static void
same_as_msgpack_c(const struct wbuf *b)
{
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, b->data, b->len, &off),
	                 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, b->len);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(msgpack_pack_object(&pk, u.data), 0);
	assert_int_equal(sb.size, b->len);
	assert_memory_equal(sb.data, b->data, b->len);
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_destroy(&u);
}

/* The writer's forms the schema never uses (the JSON bridge does): the
 * same bytes as msgpack-c's packer. */
static void
test_mpack_scalars(void **state)
{
	static const double ds[] = {0.0, -0.5, 1e300, 3.25};
	static const size_t lens[] = {0, 1, 255, 256, 65535, 65536};
	struct wbuf b = {0};
	struct mpw w;
	char *bin;
	size_t i;

	(void)state;
	mpw_init(&w, &b);
	mpw_array(&w, 3 + sizeof(ds) / sizeof(ds[0]));
	mpw_nil(&w);
	mpw_bool(&w, true);
	mpw_bool(&w, false);
	for (i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
		mpw_double(&w, ds[i]);
	same_as_msgpack_c(&b);
	/* bin (the host proof's envelope) at every size boundary */
	bin = calloc(1, 65536);
	assert_non_null(bin);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		wbuf_reset(&b);
		mpw_bin(&w, bin, lens[i]);
		same_as_msgpack_c(&b);
	}
	free(bin);
	wbuf_free(&b);
}

static void
test_packer_forms(void **state)
{
	static const int64_t ints[] = {0,          1,
	                               31,         32,
	                               127,        128,
	                               255,        256,
	                               65535,      65536,
	                               4294967295, 4294967296,
	                               INT64_MAX,  -1,
	                               -32,        -33,
	                               -128,       -129,
	                               -32768,     -32769,
	                               INT32_MIN,  -2147483649LL,
	                               INT64_MIN};
	static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
	static const size_t counts[] = {0, 1, 15, 16, 65535, 65536};
	struct wire_container *cs;
	struct wire_snapshot sn;
	struct wire_row r;
	struct wbuf b = {0};
	char *str;
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = "w:x";
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		r.port = ints[i];
		r.last_seen_at = -ints[i] / 3;
		wbuf_reset(&b);
		assert_int_equal(wire_encode_row(&b, &r), 0);
		same_as_msgpack_c(&b);
	}
	str = malloc(65537);
	assert_non_null(str);
	memset(str, 'a', 65536);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		str[lens[i]] = '\0';
		r.image_ref = str;
		wbuf_reset(&b);
		assert_int_equal(wire_encode_row(&b, &r), 0);
		same_as_msgpack_c(&b);
		str[lens[i]] = 'a';
	}
	free(str);
	/* array counts (containers) and map counts (each one's labels) */
	cs = calloc(65536, sizeof(*cs));
	assert_non_null(cs);
	memset(&sn, 0, sizeof(sn));
	sn.host = "h";
	sn.containers = cs;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		sn.ncontainers = counts[i];
		wbuf_reset(&b);
		assert_int_equal(wire_encode_snapshot(&b, &sn), 0);
		same_as_msgpack_c(&b);
	}
	free(cs);
	wbuf_free(&b);
}

/* Operator input: the strict record decoders name an unknown field. */
static void
test_strict_records(void **state)
{
	struct arena *a = arena_new();
	struct wire_workload w;
	struct wire_row row;
	struct wbuf b = {0};
	char err[WIRE_ERR_LEN];
	json_object *o;

	o = json_tokener_parse("{\"id\":\"w1\",\"kind\":\"stack\"}");
	assert_int_equal(wire_from_json(&b, o), 0);
	json_object_put(o);
	assert_int_equal(wire_decode_workload_strict(b.data, b.len, a, &w, err),
	                 0);
	assert_string_equal(w.kind, "stack");
	assert_string_equal(w.name, "");

	wbuf_reset(&b);
	o = json_tokener_parse("{\"id\":\"w1\",\"plugin\":{\"runz\":1}}");
	assert_int_equal(wire_from_json(&b, o), 0);
	json_object_put(o);
	assert_int_equal(wire_decode_workload_strict(b.data, b.len, a, &w, err),
	                 -1);
	assert_string_equal(err, "workload.plugin.runz: unknown field");
	/* the lenient decoder skips it */
	assert_int_equal(wire_decode_workload(b.data, b.len, a, &w, err), 0);

	wbuf_reset(&b);
	o = json_tokener_parse("{\"id\":\"r1\",\"port\":\"80\"}");
	assert_int_equal(wire_from_json(&b, o), 0);
	json_object_put(o);
	assert_int_equal(wire_decode_row_strict(b.data, b.len, a, &row, err),
	                 -1);
	assert_string_equal(err, "row.port: expected int, got str");
	wbuf_free(&b);
	arena_free(a);
}

/* The typed replies: built by the reply encoders, read back; an error
 * reply or a missing payload fails them. */
static void
test_typed_replies(void **state)
{
	struct arena *a = arena_new();
	struct wbuf b = {0};
	struct wire_rows_reply rows;
	struct wire_write_reply w;
	struct wire_stats_reply st;
	struct wire_hosts_reply hs;
	struct wire_row row = {.id = "r1", .port = 80};
	char err[WIRE_ERR_LEN];

	wire_reply_begin(&b, 2);
	wire_reply_u64(&b, "rev", 5);
	wire_reply_rows(&b, "containers", &row, 1);
	assert_int_equal(wire_decode_rows_reply(b.data, b.len, a, &rows, err),
	                 0);
	assert_int_equal(rows.rev, 5);
	assert_int_equal(rows.nrows, 1);
	assert_int_equal(rows.rows[0].port, 80);
	assert_string_equal(rows.rows[0].state, "");
	/* a write reply needs rev */
	assert_int_equal(wire_decode_write_reply(b.data, b.len, a, &w, err), 0);
	wbuf_reset(&b);
	wire_reply_begin(&b, 0);
	assert_int_equal(wire_decode_rows_reply(b.data, b.len, a, &rows, err),
	                 -1);
	assert_int_equal(wire_decode_write_reply(b.data, b.len, a, &w, err),
	                 -1);
	assert_string_equal(err, "write_reply: missing key \"rev\"");
	wbuf_reset(&b);
	wire_reply_error(&b, "forbidden", "no");
	assert_int_equal(wire_decode_write_reply(b.data, b.len, a, &w, err),
	                 -1);
	/* hosts.forget's reply: rev and missing */
	wbuf_reset(&b);
	wire_reply_begin(&b, 2);
	wire_reply_u64(&b, "rev", 9);
	wire_reply_u64(&b, "missing", 4);
	assert_int_equal(wire_decode_write_reply(b.data, b.len, a, &w, err), 0);
	assert_int_equal(w.rev, 9);
	assert_int_equal(w.missing, 4);
	assert_string_equal(w.job, "");
	/* stats: the hosts by state; an older store's reply has none */
	wbuf_reset(&b);
	wire_reply_begin(&b, 3);
	wire_reply_u64(&b, "rev", 9);
	wire_reply_u64(&b, "hosts_live", 2);
	wire_reply_u64(&b, "hosts_stale", 1);
	assert_int_equal(wire_decode_stats_reply(b.data, b.len, a, &st, err),
	                 0);
	assert_int_equal(st.hosts_live, 2);
	assert_int_equal(st.hosts_stale, 1);
	wbuf_reset(&b);
	wire_reply_begin(&b, 1);
	wire_reply_u64(&b, "rev", 9);
	assert_int_equal(wire_decode_stats_reply(b.data, b.len, a, &st, err),
	                 0);
	assert_int_equal(st.hosts_live + st.hosts_stale, 0);
	/* hosts.list: hosts required, each with its host */
	assert_int_equal(wire_decode_hosts_reply(b.data, b.len, a, &hs, err),
	                 -1);
	assert_string_equal(err, "hosts_reply: missing key \"hosts\"");
	wbuf_reset(&b);
	wire_reply_begin(&b, 2);
	wire_reply_u64(&b, "rev", 9);
	wire_reply_workloads(&b, "hosts", &workload_fx, 1, false);
	assert_int_equal(wire_decode_hosts_reply(b.data, b.len, a, &hs, err),
	                 -1);
	assert_string_equal(err, "hosts_reply.hosts[0]: missing key \"host\"");
	wbuf_free(&b);
	arena_free(a);
}

/* R4 read from the schema's marks: the digest keeps the value stored
 * databases hold; only the marked fields count. */
static void
test_docker_fields(void **state)
{
	struct wire_row a = {.id = "r1",
	                     .workload_id = "w1",
	                     .workload_kind = "web",
	                     .role = "app",
	                     .container_id = "c0ffee",
	                     .image_ref = "img:1",
	                     .host = "h1",
	                     .state = "running",
	                     .port = 8080,
	                     .last_seen_at = 5};
	struct wire_row b = a;
	struct wire_container c = {.id = "c0ffee", .image = "img:1"};
	struct wire_container d = c;
	uint64_t fp;

	(void)state;
	/* computed by the digest of stores before the schema marked R4 */
	assert_true(wire_row_docker_digest(&a) == 0x7b97c882498e449bull);
	assert_true(wire_row_equal(&a, &b));
	b.last_seen_at = 6; /* quiet: not a Docker-derived change */
	assert_false(wire_row_docker_differ(&a, &b));
	assert_false(wire_row_equal(&a, &b));
	assert_true(wire_row_docker_digest(&b) == wire_row_docker_digest(&a));
	b.subdomain = "x"; /* deployer-owned */
	assert_false(wire_row_docker_differ(&a, &b));
	b.port = 8081;
	assert_true(wire_row_docker_differ(&a, &b));
	b = a;
	b.state = NULL; /* NULL reads as "" */
	a.state = "";
	assert_false(wire_row_docker_differ(&a, &b));
	assert_true(wire_row_docker_digest(&a) == wire_row_docker_digest(&b));

	fp = wire_container_fingerprint(&c);
	assert_true(fp == wire_container_fingerprint(&d));
	d.id = "other"; /* the key, not a field of the index */
	assert_true(fp == wire_container_fingerprint(&d));
	d.state = "exited";
	assert_true(fp != wire_container_fingerprint(&d));
}

/* SPEC §3's topic grammar, read in one place. */
static void
test_topic_split(void **state)
{
	static const char c[] = "container/w1/w1:app\0BODY";
	static const char w[] = "workload/w1\0B";
	static const char p[] = "sys/pass\0";
	static const char *bad[] = {
	    "container/w1\0x",   /* no row id */
	    "container/w1/\0x",  /* an empty one */
	    "container//r\0x",   /* no workload id */
	    "container/W!/r\0x", /* not an id */
	    "workload/\0x",      "workload/a/b\0x", "no nul at all",
	};
	char err[WIRE_ERR_LEN], big[WIRE_TOPIC_MAX + 8];
	struct wire_topic t;
	size_t i;

	(void)state;
	assert_int_equal(wire_topic_split(c, sizeof(c) - 1, &t, err), 0);
	assert_int_equal(t.kind, WIRE_TOPIC_CONTAINER);
	assert_string_equal(t.wid, "w1");
	assert_string_equal(t.row_id, "w1:app");
	assert_string_equal(t.topic, "container/w1/w1:app");
	assert_int_equal(t.tlen, 19);
	assert_int_equal(t.blen, 4);
	assert_memory_equal(t.body, "BODY", 4);
	assert_int_equal(wire_topic_split(w, sizeof(w) - 1, &t, err), 0);
	assert_int_equal(t.kind, WIRE_TOPIC_WORKLOAD);
	assert_string_equal(t.wid, "w1");
	assert_int_equal(wire_topic_split(p, sizeof(p) - 1, &t, err), 0);
	assert_int_equal(t.kind, WIRE_TOPIC_OTHER);
	assert_int_equal(t.blen, 0);
	for (i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    wire_topic_split(bad[i], strlen(bad[i]) + 2, &t, err), -1);
	assert_int_equal(wire_topic_split(bad[6], strlen(bad[6]), &t, err), -1);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(wire_topic_split(big, sizeof(big), &t, err), -1);
	assert_true(wire_topic_in_workload("container/w1/r", "w1"));
	assert_false(wire_topic_in_workload("container/w10/r", "w1"));
	assert_true(wire_topic_in_workload("workload/w1", "w1"));
	assert_false(wire_topic_in_workload("sys/pass", "w1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_reencode),
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_error_text),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_huge_counts),
	    cmocka_unit_test(test_peek_rev),
	    cmocka_unit_test(test_packer_forms),
	    cmocka_unit_test(test_mpack_scalars),
	    cmocka_unit_test(test_deep),
	    cmocka_unit_test(test_label_dups),
	    cmocka_unit_test(test_peek),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_url_password),
	    cmocka_unit_test(test_reply_status),
	    cmocka_unit_test(test_arena),
	    cmocka_unit_test(test_strict_records),
	    cmocka_unit_test(test_typed_replies),
	    cmocka_unit_test(test_docker_fields),
	    cmocka_unit_test(test_topic_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
