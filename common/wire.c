/*
 * wire.c: the schema of every recon message, one field table per record
 * type, and the typed entry points that run the generic encoder
 * (wire_enc.c) and strict decoder (wire_dec.c) over them; the R4 rules
 * read the schema's Docker marks here too. Over 600 lines because the
 * tables are the schema: every message's fields, in one place.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wire_impl.h"

#define FSTR(k, S, m, lim, fl)                                                 \
	{                                                                      \
		.key = k, .type = FT_STR, .off = offsetof(S, m), .limit = lim, \
		.flags = fl                                                    \
	}
#define FNUM(k, ty, S, m, fl)                                                  \
	{                                                                      \
		.key = k, .type = ty, .off = offsetof(S, m), .flags = fl       \
	}
#define FARR(k, ty, S, m, n, lim, sub_, fl)                                    \
	{                                                                      \
		.key = k, .type = ty, .off = offsetof(S, m),                   \
		.noff = offsetof(S, n), .limit = lim, .sub = sub_, .flags = fl \
	}
#define FREC(k, ty, S, m, sub_, fl)                                            \
	{                                                                      \
		.key = k, .type = ty, .off = offsetof(S, m), .sub = sub_,      \
		.flags = fl                                                    \
	}
#define SCHEMA(nm, t_, S, sparse_, f)                                          \
	{                                                                      \
		.name = nm, .t = t_, .size = sizeof(S), .sparse = sparse_,     \
		.fields = f, .nfields = NELEM(f)                               \
	}

#define ID   WIRE_ID_MAX
#define LBL  WIRE_LABEL_MAX
#define TEXT WIRE_TEXT_MAX

#define S struct wire_container
static const struct field container_fields[] = {
    FSTR("id", S, id, ID, F_REQ),
    FSTR("image", S, image, LBL, F_DOCKER),
    FSTR("state", S, state, ID, F_DOCKER),
    FNUM("created", FT_I64, S, created, F_DOCKER),
    FARR("labels", FT_LABELS, S, labels, nlabels, LBL, NULL, F_DOCKER),
    FARR("ports", FT_I64ARR, S, ports, nports, 0, NULL, F_DOCKER),
};
static const struct schema container_schema =
    SCHEMA("container", NULL, S, false, container_fields);
#undef S

#define S struct wire_snapshot
static const struct field snapshot_fields[] = {
    FSTR("host", S, host, ID, F_REQ),
    FNUM("gen", FT_U64, S, gen, F_REQ),
    FNUM("taken_at", FT_I64, S, taken_at, 0),
    FNUM("complete", FT_BOOL, S, complete, F_REQ),
    /* required: a complete snapshot without it would sweep every row */
    FARR("containers", FT_RECARR, S, containers, ncontainers, 0,
         &container_schema, F_REQ),
    /* R8: ids of containers present but skipped: their rows stay */
    FARR("skipped", FT_STRARR, S, skipped, nskipped, ID, NULL, F_SPARSE),
    /* SPEC §10: optional, so that older listers' snapshots still do */
    FNUM("interval_ms", FT_U64, S, interval_ms, F_SPARSE),
};
static const struct schema snapshot_schema =
    SCHEMA("snapshot", "snapshot", S, false, snapshot_fields);
#undef S

#define S struct wire_delta
static const struct field delta_fields[] = {
    FSTR("host", S, host, ID, F_REQ),
    FNUM("gen", FT_U64, S, gen, F_REQ),
    FARR("containers", FT_RECARR, S, containers, ncontainers, 0,
         &container_schema, 0),
    FARR("gone", FT_STRARR, S, gone, ngone, ID, NULL, 0),
};
static const struct schema delta_schema =
    SCHEMA("delta", "delta", S, false, delta_fields);
#undef S

#define S struct wire_plugin_result
static const struct field plugin_result_fields[] = {
    FSTR("workload_id", S, workload_id, ID, F_REQ),
    FSTR("reason", S, reason, ID, 0),
    FNUM("ok", FT_BOOL, S, ok, F_REQ),
    FSTR("error", S, error, TEXT, 0),
    FNUM("started_at", FT_I64, S, started_at, 0),
    FNUM("duration_ms", FT_I64, S, duration_ms, 0),
    FNUM("rev", FT_U64, S, rev, F_SPARSE),
};
static const struct schema plugin_result_schema =
    SCHEMA("plugin_result", "plugin_result", S, false, plugin_result_fields);
#undef S

#define S struct wire_plugin_status
static const struct field plugin_status_fields[] = {
    FNUM("last_run_at", FT_I64, S, last_run_at, 0),
    FNUM("last_ok_at", FT_I64, S, last_ok_at, 0),
    FNUM("last_ok", FT_BOOL, S, last_ok, 0),
    FSTR("last_reason", S, last_reason, ID, 0),
    FSTR("last_error", S, last_error, TEXT, 0),
    FNUM("duration_ms", FT_I64, S, duration_ms, 0),
    FNUM("runs", FT_U64, S, runs, 0),
    FNUM("failures", FT_U64, S, failures, 0),
};
static const struct schema plugin_status_schema =
    SCHEMA("plugin", NULL, S, false, plugin_status_fields);
#undef S

#define S struct wire_workload
static const struct field workload_fields[] = {
    FSTR("id", S, id, ID, F_REQ),
    FSTR("name", S, name, LBL, 0),
    FSTR("kind", S, kind, ID, 0),
    FSTR("app_id", S, app_id, ID, 0),
    FSTR("parent_workload_id", S, parent_workload_id, ID, 0),
    FSTR("source_kind", S, source_kind, ID, 0),
    FSTR("source_config", S, source_config, TEXT, 0),
    FSTR("trigger_kind", S, trigger_kind, LBL, 0),
    FSTR("trigger_config", S, trigger_config, TEXT, 0),
    FSTR("public_faces", S, public_faces, TEXT, 0),
    FSTR("notification_url", S, notification_url, LBL, F_URLPASS),
    FSTR("notification_secret", S, notification_secret, LBL, F_SECRET),
    FSTR("webhook_secret", S, webhook_secret, LBL, F_SECRET),
    FSTR("webhook_signing_secret", S, webhook_signing_secret, LBL, F_SECRET),
    FNUM("webhook_require_signature", FT_BOOL, S, webhook_require_signature, 0),
    FNUM("created_at", FT_I64, S, created_at, 0),
    FNUM("updated_at", FT_I64, S, updated_at, 0),
    FREC("plugin", FT_REC, S, plugin, &plugin_status_schema, 0),
};
const struct schema wire_workload_schema =
    SCHEMA("workload", NULL, S, false, workload_fields);
#undef S

#define S struct wire_row
static const struct field row_fields[] = {
    FSTR("id", S, id, ID, F_REQ),
    FSTR("workload_id", S, workload_id, ID, F_DOCKER),
    FSTR("workload_kind", S, workload_kind, ID, F_DOCKER),
    FSTR("role", S, role, ID, F_DOCKER),
    FSTR("container_id", S, container_id, ID, F_DOCKER),
    FSTR("image_ref", S, image_ref, LBL, F_DOCKER),
    FSTR("host", S, host, ID, F_DOCKER),
    FSTR("state", S, state, ID, F_DOCKER),
    FNUM("port", FT_I64, S, port, F_DOCKER),
    FNUM("last_seen_at", FT_I64, S, last_seen_at, 0),
    FSTR("subdomain", S, subdomain, LBL, 0),
    FSTR("proxy_route_id", S, proxy_route_id, LBL, 0),
    FSTR("npm_proxy_id", S, npm_proxy_id, LBL, 0),
    FSTR("image_tag", S, image_tag, LBL, 0),
    FSTR("stage_id", S, stage_id, LBL, 0),
    FNUM("created_at", FT_I64, S, created_at, 0),
};
const struct schema wire_row_schema = SCHEMA("row", NULL, S, false, row_fields);
#undef S

/*
 * A lister host: the stored record (host_record: what the store carries
 * across restarts) and hosts.list's item (host: the record, its state
 * and its row count), over one struct.
 */
#define S struct wire_host
static const struct field host_record_fields[] = {
    FSTR("host", S, host, ID, F_REQ),
    FNUM("gen", FT_U64, S, gen, 0),
    FNUM("last_seen_at", FT_I64, S, last_seen_at, 0),
    FNUM("interval_ms", FT_U64, S, interval_ms, 0),
};
static const struct schema host_record_schema =
    SCHEMA("host_record", NULL, S, false, host_record_fields);
static const struct field host_fields[] = {
    FSTR("host", S, host, ID, F_REQ),
    FNUM("last_seen_at", FT_I64, S, last_seen_at, 0),
    FNUM("gen", FT_U64, S, gen, 0),
    FNUM("rows", FT_U64, S, rows, 0),
    FSTR("state", S, state, ID, 0),
    FNUM("interval_ms", FT_U64, S, interval_ms, 0),
};
const struct schema wire_host_schema =
    SCHEMA("host", NULL, S, false, host_fields);
#undef S

#define S struct wire_job_item
static const struct field job_item_fields[] = {
    FREC("workload", FT_REC, S, workload, &wire_workload_schema, F_REQ),
    FARR("containers", FT_RECARR, S, rows, nrows, 0, &wire_row_schema, 0),
};
static const struct schema job_item_schema =
    SCHEMA("job_item", NULL, S, false, job_item_fields);
#undef S

#define S struct wire_dispatch
static const struct field dispatch_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FSTR("reason", S, reason, ID, F_REQ),
    FARR("workloads", FT_RECARR, S, items, nitems, 0, &job_item_schema, F_REQ),
};
static const struct schema dispatch_schema =
    SCHEMA("dispatch", "dispatch", S, false, dispatch_fields);
#undef S

#define S struct wire_event
static const struct field container_event_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FSTR("op", S, op, ID, F_REQ),
    FREC("row", FT_RECPTR, S, row, &wire_row_schema, F_REQ),
    FSTR("prev_state", S, prev_state, ID, 0),
    FNUM("at", FT_I64, S, at, 0),
};
static const struct field workload_event_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FSTR("op", S, op, ID, F_REQ),
    FREC("workload", FT_RECPTR, S, workload, &wire_workload_schema,
         F_REQ | F_NOSECRETS),
};
static const struct field pass_event_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FSTR("host", S, host, ID, F_REQ),
    FNUM("gen", FT_U64, S, gen, F_REQ),
    FNUM("seen", FT_U64, S, seen, 0),
    FNUM("changed", FT_U64, S, changed, 0),
    FNUM("missing", FT_U64, S, missing, 0),
    FNUM("ignored_unknown", FT_U64, S, ignored_unknown, 0),
    FNUM("ignored_kind", FT_U64, S, ignored_kind, 0),
    FNUM("duration_us", FT_U64, S, duration_us, 0),
};
/* Indexed by enum wire_event_type. */
static const struct schema event_schemas[] = {
    [WIRE_EV_CONTAINER] = SCHEMA("container_event", "container", S, false,
                                 container_event_fields),
    [WIRE_EV_WORKLOAD] =
        SCHEMA("workload_event", "workload", S, false, workload_event_fields),
    [WIRE_EV_PASS] = SCHEMA("pass_event", "pass", S, false, pass_event_fields),
};
#undef S

const struct schema *
wire_event_schema(enum wire_event_type type)
{
	return (size_t)type < NELEM(event_schemas) ? &event_schemas[type]
	                                           : NULL;
}

#define S struct wire_request
static const struct field request_fields[] = {
    FSTR("t", S, t, ID, F_REQ),
    FSTR("id", S, id, ID, 0),
    FSTR("workload_id", S, workload_id, ID, 0),
    FSTR("state", S, state, ID, 0),
    FSTR("host", S, host, ID, 0),
    FNUM("rev", FT_U64, S, rev, 0),
    FNUM("limit", FT_U64, S, limit, 0),
    FNUM("secrets", FT_BOOL, S, secrets, 0),
    FNUM("live", FT_BOOL, S, live, 0),
    FREC("workload", FT_RECPTR, S, workload, &wire_workload_schema, 0),
    FREC("row", FT_RECPTR, S, row, &wire_row_schema, 0),
};
static const struct schema request_schema =
    SCHEMA("request", NULL, S, true, request_fields);
#undef S

/*
 * The ok replies of the ctl sockets. `ok` and `error` are not in these
 * tables: wire_decode_reply_status reads them first, and here they are
 * skipped like any unknown key.
 */
#define S struct wire_rows_reply
static const struct field rows_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FARR("containers", FT_RECARR, S, rows, nrows, 0, &wire_row_schema, F_REQ),
};
const struct schema wire_rows_reply_schema =
    SCHEMA("containers_reply", NULL, S, false, rows_reply_fields);
#undef S

#define S struct wire_hosts_reply
static const struct field hosts_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FARR("hosts", FT_RECARR, S, hosts, nhosts, 0, &wire_host_schema, F_REQ),
};
const struct schema wire_hosts_reply_schema =
    SCHEMA("hosts_reply", NULL, S, false, hosts_reply_fields);
#undef S

#define S struct wire_workloads_reply
static const struct field workloads_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FARR("workloads", FT_RECARR, S, workloads, nworkloads, 0,
         &wire_workload_schema, F_REQ),
};
const struct schema wire_workloads_reply_schema =
    SCHEMA("workloads_reply", NULL, S, false, workloads_reply_fields);
#undef S

#define S struct wire_row_reply
static const struct field row_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, 0),
    FREC("container", FT_REC, S, row, &wire_row_schema, F_REQ),
};
const struct schema wire_row_reply_schema =
    SCHEMA("container_reply", NULL, S, false, row_reply_fields);
#undef S

#define S struct wire_workload_reply
static const struct field workload_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, 0),
    FREC("workload", FT_REC, S, workload, &wire_workload_schema, F_REQ),
};
const struct schema wire_workload_reply_schema =
    SCHEMA("workload_reply", NULL, S, false, workload_reply_fields);
#undef S

#define S struct wire_write_reply
static const struct field write_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FSTR("job", S, job, ID, 0),
    FNUM("missing", FT_U64, S, missing, 0),
};
const struct schema wire_write_reply_schema =
    SCHEMA("write_reply", NULL, S, false, write_reply_fields);
#undef S

#define S struct wire_stats_reply
static const struct field stats_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FNUM("oldest_rev", FT_U64, S, oldest_rev, 0),
    FNUM("workloads", FT_U64, S, workloads, 0),
    FNUM("rows", FT_U64, S, rows, 0),
    FNUM("events", FT_U64, S, events, 0),
    FNUM("map_size", FT_U64, S, map_size, 0),
    FNUM("map_used", FT_U64, S, map_used, 0),
    FNUM("map_max", FT_U64, S, map_max, 0),
    FNUM("hosts_live", FT_U64, S, hosts_live, 0),
    FNUM("hosts_stale", FT_U64, S, hosts_stale, 0),
    FARR("counters", FT_COUNTERS, S, counters, ncounters, 0, NULL, 0),
};
const struct schema wire_stats_reply_schema =
    SCHEMA("stats_reply", NULL, S, false, stats_reply_fields);
#undef S

#define S struct wire_check
static const struct field check_fields[] = {
    FSTR("name", S, name, LBL, F_REQ),
    FNUM("ok", FT_BOOL, S, ok, F_REQ),
    FSTR("detail", S, detail, TEXT, 0),
};
static const struct schema check_schema =
    SCHEMA("check", NULL, S, false, check_fields);
#undef S

#define S struct wire_health
static const struct field health_fields[] = {
    FSTR("name", S, name, ID, F_REQ),
    FNUM("pid", FT_I64, S, pid, 0),
    FSTR("version", S, version, LBL, 0),
    FNUM("uptime_s", FT_I64, S, uptime_s, 0),
    FNUM("ready", FT_BOOL, S, ready, F_REQ),
    FARR("checks", FT_RECARR, S, checks, nchecks, 0, &check_schema, 0),
    FARR("counters", FT_COUNTERS, S, counters, ncounters, 0, NULL, 0),
};
const struct schema wire_health_schema =
    SCHEMA("health_reply", NULL, S, false, health_fields);
#undef S

/* The message types wire_peek_type knows. */
static const struct {
	const char *t;
	enum wire_msgtype type;
} msgtypes[] = {
    {"snapshot", WIRE_T_SNAPSHOT},
    {"delta", WIRE_T_DELTA},
    {"plugin_result", WIRE_T_PLUGIN_RESULT},
    {"dispatch", WIRE_T_DISPATCH},
    {"container", WIRE_T_CONTAINER_EVENT},
    {"workload", WIRE_T_WORKLOAD_EVENT},
    {"pass", WIRE_T_PASS_EVENT},
};

/* ---- the typed entry points ---- */

int
wire_encode_snapshot(struct wbuf *b, const struct wire_snapshot *m)
{
	return wire_enc_top(b, &snapshot_schema, m, ENC_SECRETS);
}

int
wire_encode_delta(struct wbuf *b, const struct wire_delta *m)
{
	return wire_enc_top(b, &delta_schema, m, ENC_SECRETS);
}

int
wire_encode_plugin_result(struct wbuf *b, const struct wire_plugin_result *m)
{
	return wire_enc_top(b, &plugin_result_schema, m, ENC_SECRETS);
}

int
wire_encode_dispatch(struct wbuf *b, const struct wire_dispatch *m)
{
	return wire_enc_top(b, &dispatch_schema, m, ENC_SECRETS);
}

int
wire_encode_event(struct wbuf *b, const struct wire_event *m)
{
	if (m == NULL || (size_t)m->type >= NELEM(event_schemas))
		return -1;
	return wire_enc_top(b, &event_schemas[m->type], m, ENC_SECRETS);
}

int
wire_encode_request(struct wbuf *b, const struct wire_request *m)
{
	return wire_enc_top(b, &request_schema, m, ENC_SECRETS);
}

int
wire_encode_workload(struct wbuf *b, const struct wire_workload *m,
                     bool secrets)
{
	return wire_enc_top(b, &wire_workload_schema, m,
	                    secrets ? ENC_SECRETS : 0);
}

int
wire_encode_row(struct wbuf *b, const struct wire_row *m)
{
	return wire_enc_top(b, &wire_row_schema, m, ENC_SECRETS);
}

int
wire_encode_host_record(struct wbuf *b, const struct wire_host *m)
{
	return wire_enc_top(b, &host_record_schema, m, ENC_SECRETS);
}

int
wire_decode_host_record(const void *buf, size_t len, struct arena *a,
                        struct wire_host *out, char *err)
{
	return wire_dec_top(&host_record_schema, buf, len, a, out, err);
}

int
wire_decode_snapshot(const void *buf, size_t len, struct arena *a,
                     struct wire_snapshot *out, char *err)
{
	return wire_dec_top(&snapshot_schema, buf, len, a, out, err);
}

int
wire_decode_delta(const void *buf, size_t len, struct arena *a,
                  struct wire_delta *out, char *err)
{
	return wire_dec_top(&delta_schema, buf, len, a, out, err);
}

int
wire_decode_plugin_result(const void *buf, size_t len, struct arena *a,
                          struct wire_plugin_result *out, char *err)
{
	return wire_dec_top(&plugin_result_schema, buf, len, a, out, err);
}

int
wire_decode_dispatch(const void *buf, size_t len, struct arena *a,
                     struct wire_dispatch *out, char *err)
{
	return wire_dec_top(&dispatch_schema, buf, len, a, out, err);
}

int
wire_decode_request(const void *buf, size_t len, struct arena *a,
                    struct wire_request *out, char *err)
{
	return wire_dec_top(&request_schema, buf, len, a, out, err);
}

int
wire_decode_workload(const void *buf, size_t len, struct arena *a,
                     struct wire_workload *out, char *err)
{
	return wire_dec_top(&wire_workload_schema, buf, len, a, out, err);
}

int
wire_decode_workload_strict(const void *buf, size_t len, struct arena *a,
                            struct wire_workload *out, char *err)
{
	return wire_dec_top_strict(&wire_workload_schema, buf, len, a, out, err,
	                           true);
}

int
wire_decode_row_strict(const void *buf, size_t len, struct arena *a,
                       struct wire_row *out, char *err)
{
	return wire_dec_top_strict(&wire_row_schema, buf, len, a, out, err,
	                           true);
}

int
wire_decode_row(const void *buf, size_t len, struct arena *a,
                struct wire_row *out, char *err)
{
	return wire_dec_top(&wire_row_schema, buf, len, a, out, err);
}

/* Finds the top-level `t` without decoding anything else. */
static int
find_t(struct cur *c, const char **t, size_t *tlen)
{
	const char *k;
	size_t klen;
	uint32_t i, n;

	if (mpr_map(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c->r, &k, &klen) == -1)
			return -1;
		wire_cur_key(c, k, klen);
		if (klen == 1 && k[0] == 't')
			return mpr_str(&c->r, t, tlen);
		if (mpr_skip(&c->r, WIRE_DEPTH_MAX) == -1)
			return -1;
		wire_cur_pop(c);
	}
	return wire_fail(c, "missing key \"t\"");
}

int
wire_peek_type(const void *buf, size_t len, enum wire_msgtype *type, char *err)
{
	struct cur c;
	const char *t;
	size_t i, tlen;

	wire_cur_init(&c, buf, len, NULL, "message", err);
	if (type != NULL)
		*type = WIRE_T_UNKNOWN;
	if (buf == NULL)
		return wire_fail(&c, "no message");
	if (find_t(&c, &t, &tlen) == -1)
		return -1;
	for (i = 0; i < NELEM(msgtypes); i++)
		if (strlen(msgtypes[i].t) == tlen &&
		    memcmp(msgtypes[i].t, t, tlen) == 0 && type != NULL)
			*type = msgtypes[i].type;
	return 0;
}

int
wire_decode_event(const void *buf, size_t len, struct arena *a,
                  struct wire_event *out, char *err)
{
	static const struct {
		enum wire_msgtype msg;
		enum wire_event_type ev;
	} evtypes[] = {
	    {WIRE_T_CONTAINER_EVENT, WIRE_EV_CONTAINER},
	    {WIRE_T_WORKLOAD_EVENT, WIRE_EV_WORKLOAD},
	    {WIRE_T_PASS_EVENT, WIRE_EV_PASS},
	};
	enum wire_msgtype mt;
	size_t i;

	if (wire_peek_type(buf, len, &mt, err) == -1)
		return -1;
	for (i = 0; i < NELEM(evtypes); i++) {
		if (evtypes[i].msg != mt)
			continue;
		if (wire_dec_top(&event_schemas[evtypes[i].ev], buf, len, a,
		                 out, err) == -1)
			return -1;
		out->type = evtypes[i].ev;
		return 0;
	}
	if (err != NULL)
		snprintf(err, WIRE_ERR_LEN, "event: t is not an event type");
	return -1;
}

/* ---- R4: the rules that read the Docker marks ---- */

/*
 * Field-wise equality and hashing, for the rules that compare records
 * (R4). Strings compare and hash with NULL as ""; a string hashes as its
 * bytes and 0xff (no byte of a string), a number as 8 little-endian bytes,
 * an array as its count and then its elements. The stored row digest
 * depends on this: never change it.
 */
#define FNV64_PRIME 1099511628211ull

static inline uint64_t
hash_u64(uint64_t h, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * FNV64_PRIME;
	return h;
}

/* fnv64 over the string's bytes and then 0xff, in one pass. */
static inline uint64_t
hash_str(uint64_t h, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	while (*p != '\0')
		h = (h ^ *p++) * FNV64_PRIME;
	return (h ^ 0xff) * FNV64_PRIME;
}

static bool
field_eq(const struct field *f, const void *a, const void *b)
{
	switch (f->type) {
	case FT_STR:
		return str_eq(*CAT(a, f->off, char *), *CAT(b, f->off, char *));
	case FT_I64:
		return *CAT(a, f->off, int64_t) == *CAT(b, f->off, int64_t);
	case FT_U64:
		return *CAT(a, f->off, uint64_t) == *CAT(b, f->off, uint64_t);
	case FT_BOOL:
		return *CAT(a, f->off, bool) == *CAT(b, f->off, bool);
	default:
		/* no rule compares these: a schema change that needs one
		 * must write it */
		abort();
	}
}

static inline uint64_t
field_hash(uint64_t h, const struct field *f, const void *rec)
{
	const struct wire_kv *kv;
	const int64_t *iv;
	size_t i, n;

	switch (f->type) {
	case FT_STR:
		return hash_str(h, *CAT(rec, f->off, char *));
	case FT_I64:
		return hash_u64(h, (uint64_t)*CAT(rec, f->off, int64_t));
	case FT_LABELS:
		n = *CAT(rec, f->noff, size_t);
		kv = *CAT(rec, f->off, struct wire_kv *);
		h = hash_u64(h, n);
		for (i = 0; i < n; i++)
			h = hash_str(hash_str(h, kv[i].key), kv[i].val);
		return h;
	case FT_I64ARR:
		n = *CAT(rec, f->noff, size_t);
		iv = *CAT(rec, f->off, int64_t *);
		h = hash_u64(h, n);
		for (i = 0; i < n; i++)
			h = hash_u64(h, (uint64_t)iv[i]);
		return h;
	default:
		abort(); /* as in field_eq */
	}
}

/* Do a and b differ in a field marked `mask` (every field when 0)? */
static bool
record_differ(const struct schema *s, const void *a, const void *b,
              unsigned mask)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if ((mask == 0 || (s->fields[i].flags & mask)) &&
		    !field_eq(&s->fields[i], a, b))
			return true;
	return false;
}

static uint64_t
record_hash(const struct schema *s, const void *rec, unsigned mask)
{
	uint64_t h = FNV64_INIT;
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (s->fields[i].flags & mask)
			h = field_hash(h, &s->fields[i], rec);
	return h;
}

bool
wire_row_docker_differ(const struct wire_row *a, const struct wire_row *b)
{
	return record_differ(&wire_row_schema, a, b, F_DOCKER);
}

uint64_t
wire_row_docker_digest(const struct wire_row *row)
{
	uint64_t h = record_hash(&wire_row_schema, row, F_DOCKER);

	return h != 0 ? h : 1;
}

bool
wire_row_equal(const struct wire_row *a, const struct wire_row *b)
{
	return !record_differ(&wire_row_schema, a, b, 0);
}

uint64_t
wire_container_fingerprint(const struct wire_container *c)
{
	return record_hash(&container_schema, c, F_DOCKER);
}
