/*
 * wire.c: the schema of every recon message (one field table per record
 * type) and the one generic encoder and strict, bounded decoder they drive.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "mpack.h"
#include "wire.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * How many container levels an unknown key's value may hold. Enough for a
 * future field that is a list of small records; bounded so that garbage
 * cannot make the skipper recurse (and the total stays <= WIRE_DEPTH_MAX).
 */
#define WIRE_SKIP_DEPTH 3

/* Label maps larger than this are checked for duplicates by sorting. */
#define WIRE_DUP_LINEAR 16

enum ftype {
	FT_STR,      /* char *, at most .limit bytes, no NUL */
	FT_I64,      /* int64_t */
	FT_U64,      /* uint64_t */
	FT_BOOL,     /* bool, msgpack true/false only */
	FT_LABELS,   /* struct wire_kv * + count: a string -> string map */
	FT_I64ARR,   /* int64_t * + count */
	FT_STRARR,   /* char ** + count, each at most .limit bytes */
	FT_REC,      /* an embedded struct described by .sub */
	FT_RECPTR,   /* a pointer to a struct described by .sub */
	FT_RECARR,   /* an array of structs described by .sub + count */
	FT_COUNTERS, /* struct wire_counter * + count: a string -> u64 map */
};

#define F_REQ       0x1  /* decoding fails when the key is absent */
#define F_SECRET    0x2  /* encoded only when secrets are asked for */
#define F_NOSECRETS 0x4  /* the nested record never carries its secrets */
#define F_SPARSE    0x8  /* encoded only when set (a newer, optional field) */
#define F_URLPASS   0x10 /* a URL whose password is a secret (url_redacted) */
/* R4: derived from Docker. In a row, the fields whose change makes a
 * revision (last_seen_at, written quietly, is not marked); in a container,
 * the fields the store derives them from. Read by wire_row_docker_differ,
 * wire_row_docker_digest and wire_container_fingerprint. */
#define F_DOCKER 0x20

struct field {
	const char *key;
	enum ftype type;
	size_t off;   /* the value, or the array pointer */
	size_t noff;  /* the element count of the array types */
	size_t limit; /* strings: maximum length in bytes */
	const struct schema *sub;
	unsigned flags;
};

struct schema {
	const char *name; /* first element of error paths */
	/* Messages: the constant `t`, written first and checked when read.
	 * Records (stored forms, nested maps) have none. */
	const char *t;
	size_t size;
	/* Sparse (requests): only set fields are written, absent strings
	 * decode as NULL. Otherwise every field is written and an absent
	 * string decodes as "" so that readers never meet a NULL. */
	bool sparse;
	const struct field *fields;
	size_t nfields;
};

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
static const struct schema workload_schema =
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
static const struct schema row_schema =
    SCHEMA("row", NULL, S, false, row_fields);
#undef S

#define S struct wire_job_item
static const struct field job_item_fields[] = {
    FREC("workload", FT_REC, S, workload, &workload_schema, F_REQ),
    FARR("containers", FT_RECARR, S, rows, nrows, 0, &row_schema, 0),
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
    FREC("row", FT_RECPTR, S, row, &row_schema, F_REQ),
    FSTR("prev_state", S, prev_state, ID, 0),
    FNUM("at", FT_I64, S, at, 0),
};
static const struct field workload_event_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FSTR("op", S, op, ID, F_REQ),
    FREC("workload", FT_RECPTR, S, workload, &workload_schema,
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
    FREC("workload", FT_RECPTR, S, workload, &workload_schema, 0),
    FREC("row", FT_RECPTR, S, row, &row_schema, 0),
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
    FARR("containers", FT_RECARR, S, rows, nrows, 0, &row_schema, F_REQ),
};
static const struct schema rows_reply_schema =
    SCHEMA("containers_reply", NULL, S, false, rows_reply_fields);
#undef S

#define S struct wire_workloads_reply
static const struct field workloads_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FARR("workloads", FT_RECARR, S, workloads, nworkloads, 0, &workload_schema,
         F_REQ),
};
static const struct schema workloads_reply_schema =
    SCHEMA("workloads_reply", NULL, S, false, workloads_reply_fields);
#undef S

#define S struct wire_row_reply
static const struct field row_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, 0),
    FREC("container", FT_REC, S, row, &row_schema, F_REQ),
};
static const struct schema row_reply_schema =
    SCHEMA("container_reply", NULL, S, false, row_reply_fields);
#undef S

#define S struct wire_workload_reply
static const struct field workload_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, 0),
    FREC("workload", FT_REC, S, workload, &workload_schema, F_REQ),
};
static const struct schema workload_reply_schema =
    SCHEMA("workload_reply", NULL, S, false, workload_reply_fields);
#undef S

#define S struct wire_write_reply
static const struct field write_reply_fields[] = {
    FNUM("rev", FT_U64, S, rev, F_REQ),
    FSTR("job", S, job, ID, 0),
};
static const struct schema write_reply_schema =
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
    FARR("counters", FT_COUNTERS, S, counters, ncounters, 0, NULL, 0),
};
static const struct schema stats_reply_schema =
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
static const struct schema health_schema =
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

/* ---- output buffer ---- */

/* Room for n more bytes. */
static void
wbuf_grow(struct wbuf *b, size_t n)
{
	size_t ncap;
	char *d;

	if (b->cap - b->len >= n)
		return;
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len < n) {
		if (ncap > SIZE_MAX / 2)
			abort();
		ncap *= 2;
	}
	if ((d = realloc(b->data, ncap)) == NULL)
		abort();
	b->data = d;
	b->cap = ncap;
}

void
wbuf_append(struct wbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	wbuf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void *
wbuf_room(struct wbuf *b, size_t n)
{
	void *p;

	wbuf_grow(b, n);
	p = b->data + b->len;
	b->len += n;
	return p;
}

void
wbuf_reset(struct wbuf *b)
{
	b->len = 0;
}

void
wbuf_free(struct wbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- encoder ---- */

#define ENC_SECRETS 0x1

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))
#define CAT(base, off, type)                                                   \
	((const type *)(const void *)((const char *)(base) + (off)))

/* Whether a field goes into a sparse (request) map. */
static bool
field_set(const struct field *f, const void *rec)
{
	switch (f->type) {
	case FT_STR:
	case FT_RECPTR:
		return *CAT(rec, f->off, void *) != NULL;
	case FT_I64:
		return *CAT(rec, f->off, int64_t) != 0;
	case FT_U64:
		return *CAT(rec, f->off, uint64_t) != 0;
	case FT_BOOL:
		return *CAT(rec, f->off, bool);
	case FT_LABELS:
	case FT_I64ARR:
	case FT_STRARR:
	case FT_RECARR:
	case FT_COUNTERS:
		return *CAT(rec, f->noff, size_t) != 0;
	case FT_REC:
		return true;
	}
	return true;
}

static bool
field_written(const struct schema *s, const struct field *f, const void *rec,
              unsigned opts)
{
	if ((f->flags & F_SECRET) && !(opts & ENC_SECRETS))
		return false;
	return !(s->sparse || (f->flags & F_SPARSE)) || field_set(f, rec);
}

/*
 * Field-wise equality and hashing, for the rules that compare records
 * (R4). Strings compare and hash with NULL as ""; a string hashes as its
 * bytes and 0xff (no byte of a string), a number as 8 little-endian bytes,
 * an array as its count and then its elements. The stored row digest
 * depends on this: never change it.
 */
static uint64_t
hash_u64(uint64_t h, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	return fnv64(h, b, sizeof(b));
}

static uint64_t
hash_str(uint64_t h, const char *s)
{
	s = s != NULL ? s : "";
	return fnv64(fnv64(h, s, strlen(s)), "\xff", 1);
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

static uint64_t
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
	return record_differ(&row_schema, a, b, F_DOCKER);
}

uint64_t
wire_row_docker_digest(const struct wire_row *row)
{
	uint64_t h = record_hash(&row_schema, row, F_DOCKER);

	return h != 0 ? h : 1;
}

bool
wire_row_equal(const struct wire_row *a, const struct wire_row *b)
{
	return !record_differ(&row_schema, a, b, 0);
}

uint64_t
wire_container_fingerprint(const struct wire_container *c)
{
	return record_hash(&container_schema, c, F_DOCKER);
}

/*
 * url with the password of its user information written as "***" (a
 * secret, SPEC §2), in buf; url itself when it has none. Reads the
 * authority as RFC 3986 does: after "://", up to the first / ? or #, the
 * user information before its last @.
 */
static const char *
url_redacted(const char *url, char *buf, size_t len)
{
	const char *auth, *at = NULL, *colon, *p;
	int n;

	if (url == NULL || (auth = strstr(url, "://")) == NULL)
		return url;
	auth += 3;
	for (p = auth; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			at = p;
	if (at == NULL ||
	    (colon = memchr(auth, ':', (size_t)(at - auth))) == NULL)
		return url;
	n = snprintf(buf, len, "%.*s***%s", (int)(colon + 1 - url), url, at);
	return n >= 0 && (size_t)n < len ? buf : "***";
}

static int enc_record(struct mpw *, const struct schema *, const void *,
                      unsigned);
static void pk_counters(struct mpw *, const struct wire_counter *, size_t);

static int
enc_field(struct mpw *pk, const struct field *f, const void *rec, unsigned opts)
{
	size_t i, n = 0;
	const void *arr = NULL;

	if (f->type == FT_LABELS || f->type == FT_I64ARR ||
	    f->type == FT_STRARR || f->type == FT_RECARR ||
	    f->type == FT_COUNTERS) {
		n = *CAT(rec, f->noff, size_t);
		arr = *CAT(rec, f->off, void *);
		if (n > 0 && arr == NULL)
			return -1;
	}
	if (f->flags & F_NOSECRETS)
		opts &= ~ENC_SECRETS;
	switch (f->type) {
	case FT_STR:
		if ((f->flags & F_URLPASS) && !(opts & ENC_SECRETS)) {
			char buf[WIRE_LABEL_MAX + 8];
			mpw_str(pk, url_redacted(*CAT(rec, f->off, char *), buf,
			                         sizeof(buf)));
			return 0;
		}
		mpw_str(pk, *CAT(rec, f->off, char *));
		return 0;
	case FT_I64:
		mpw_int64(pk, *CAT(rec, f->off, int64_t));
		return 0;
	case FT_U64:
		mpw_uint64(pk, *CAT(rec, f->off, uint64_t));
		return 0;
	case FT_BOOL:
		mpw_bool(pk, *CAT(rec, f->off, bool));
		return 0;
	case FT_LABELS:
		mpw_map(pk, n);
		for (i = 0; i < n; i++) {
			mpw_str(pk, ((const struct wire_kv *)arr)[i].key);
			mpw_str(pk, ((const struct wire_kv *)arr)[i].val);
		}
		return 0;
	case FT_I64ARR:
		mpw_array(pk, n);
		for (i = 0; i < n; i++)
			mpw_int64(pk, ((const int64_t *)arr)[i]);
		return 0;
	case FT_STRARR:
		mpw_array(pk, n);
		for (i = 0; i < n; i++)
			mpw_str(pk, ((char *const *)arr)[i]);
		return 0;
	case FT_REC:
		return enc_record(pk, f->sub, CAT(rec, f->off, void), opts);
	case FT_RECPTR:
		if (*CAT(rec, f->off, void *) == NULL)
			return -1;
		return enc_record(pk, f->sub, *CAT(rec, f->off, void *), opts);
	case FT_RECARR:
		mpw_array(pk, n);
		for (i = 0; i < n; i++)
			if (enc_record(pk, f->sub,
			               (const char *)arr + i * f->sub->size,
			               opts) == -1)
				return -1;
		return 0;
	case FT_COUNTERS:
		pk_counters(pk, arr, n);
		return 0;
	}
	return -1;
}

static int
enc_record(struct mpw *pk, const struct schema *s, const void *rec,
           unsigned opts)
{
	size_t i, n = s->t ? 1 : 0;
	const struct field *f;

	if (rec == NULL)
		return -1;
	for (i = 0; i < s->nfields; i++)
		if (field_written(s, &s->fields[i], rec, opts))
			n++;
	mpw_map(pk, n);
	if (s->t) {
		mpw_str(pk, "t");
		mpw_str(pk, s->t);
	}
	for (i = 0; i < s->nfields; i++) {
		f = &s->fields[i];
		if (!field_written(s, f, rec, opts))
			continue;
		mpw_str(pk, f->key);
		if (enc_field(pk, f, rec, opts) == -1)
			return -1;
	}
	return 0;
}

/* One whole record; on a programming error nothing is left in b. */
static int
enc_top(struct wbuf *b, const struct schema *s, const void *rec, unsigned opts)
{
	struct mpw pk;
	size_t len0;

	if (b == NULL || rec == NULL)
		return -1;
	len0 = b->len;
	mpw_init(&pk, b);
	if (enc_record(&pk, s, rec, opts) == -1) {
		b->len = len0;
		return -1;
	}
	return 0;
}

int
wire_encode_snapshot(struct wbuf *b, const struct wire_snapshot *m)
{
	return enc_top(b, &snapshot_schema, m, ENC_SECRETS);
}

int
wire_encode_delta(struct wbuf *b, const struct wire_delta *m)
{
	return enc_top(b, &delta_schema, m, ENC_SECRETS);
}

int
wire_encode_plugin_result(struct wbuf *b, const struct wire_plugin_result *m)
{
	return enc_top(b, &plugin_result_schema, m, ENC_SECRETS);
}

int
wire_encode_dispatch(struct wbuf *b, const struct wire_dispatch *m)
{
	return enc_top(b, &dispatch_schema, m, ENC_SECRETS);
}

int
wire_encode_event(struct wbuf *b, const struct wire_event *m)
{
	if (m == NULL || (size_t)m->type >= NELEM(event_schemas))
		return -1;
	return enc_top(b, &event_schemas[m->type], m, ENC_SECRETS);
}

int
wire_encode_request(struct wbuf *b, const struct wire_request *m)
{
	return enc_top(b, &request_schema, m, ENC_SECRETS);
}

int
wire_encode_workload(struct wbuf *b, const struct wire_workload *m,
                     bool secrets)
{
	return enc_top(b, &workload_schema, m, secrets ? ENC_SECRETS : 0);
}

int
wire_encode_row(struct wbuf *b, const struct wire_row *m)
{
	return enc_top(b, &row_schema, m, ENC_SECRETS);
}

/* ---- replies ---- */

int
wire_reply_error(struct wbuf *b, const char *code, const char *message)
{
	struct mpw pk;

	if (b == NULL)
		return -1;
	mpw_init(&pk, b);
	mpw_map(&pk, 2);
	mpw_str(&pk, "ok");
	mpw_bool(&pk, false);
	mpw_str(&pk, "error");
	mpw_map(&pk, 2);
	mpw_str(&pk, "code");
	mpw_str(&pk, code);
	mpw_str(&pk, "message");
	mpw_str(&pk, message);
	return 0;
}

int
wire_reply_begin(struct wbuf *b, size_t nextra)
{
	struct mpw pk;

	if (b == NULL || nextra >= UINT32_MAX)
		return -1;
	mpw_init(&pk, b);
	mpw_map(&pk, 1 + nextra);
	mpw_str(&pk, "ok");
	mpw_bool(&pk, true);
	return 0;
}

/* Writes key and returns a packer for its value. */
static int
reply_key(struct mpw *pk, struct wbuf *b, const char *key)
{
	if (b == NULL || key == NULL)
		return -1;
	mpw_init(pk, b);
	mpw_str(pk, key);
	return 0;
}

int
wire_reply_u64(struct wbuf *b, const char *key, uint64_t v)
{
	struct mpw pk;

	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_uint64(&pk, v);
	return 0;
}

int
wire_reply_str(struct wbuf *b, const char *key, const char *v)
{
	struct mpw pk;

	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_str(&pk, v);
	return 0;
}

/* key: [records...]; on a programming error nothing is left in b. */
static int
reply_records(struct wbuf *b, const char *key, const struct schema *s,
              const void *recs, size_t n, unsigned opts)
{
	struct mpw pk;
	size_t i, len0;

	if (b == NULL || (n > 0 && recs == NULL))
		return -1;
	len0 = b->len;
	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_array(&pk, n);
	for (i = 0; i < n; i++)
		if (enc_record(&pk, s, (const char *)recs + i * s->size,
		               opts) == -1) {
			b->len = len0;
			return -1;
		}
	return 0;
}

static int
reply_record(struct wbuf *b, const char *key, const struct schema *s,
             const void *rec, unsigned opts)
{
	struct mpw pk;
	size_t len0;

	if (b == NULL || rec == NULL)
		return -1;
	len0 = b->len;
	if (reply_key(&pk, b, key) == -1 ||
	    enc_record(&pk, s, rec, opts) == -1) {
		b->len = len0;
		return -1;
	}
	return 0;
}

int
wire_reply_rows(struct wbuf *b, const char *key, const struct wire_row *rows,
                size_t n)
{
	return reply_records(b, key, &row_schema, rows, n, ENC_SECRETS);
}

int
wire_reply_row(struct wbuf *b, const char *key, const struct wire_row *row)
{
	return reply_record(b, key, &row_schema, row, ENC_SECRETS);
}

int
wire_reply_workloads(struct wbuf *b, const char *key,
                     const struct wire_workload *w, size_t n, bool secrets)
{
	return reply_records(b, key, &workload_schema, w, n,
	                     secrets ? ENC_SECRETS : 0);
}

int
wire_reply_workload(struct wbuf *b, const char *key,
                    const struct wire_workload *w, bool secrets)
{
	return reply_record(b, key, &workload_schema, w,
	                    secrets ? ENC_SECRETS : 0);
}

int
wire_reply_raw_array(struct wbuf *b, const char *key, const struct wbuf *items,
                     size_t n)
{
	struct mpw pk;

	if (n > 0 && (items == NULL || items->len == 0))
		return -1;
	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_array(&pk, n);
	if (items != NULL)
		wbuf_append(b, items->data, items->len);
	return 0;
}

static void
pk_counters(struct mpw *pk, const struct wire_counter *c, size_t n)
{
	size_t i;

	mpw_map(pk, n);
	for (i = 0; i < n; i++) {
		mpw_str(pk, c[i].name);
		mpw_uint64(pk, c[i].value);
	}
}

int
wire_reply_counters(struct wbuf *b, const char *key,
                    const struct wire_counter *c, size_t n)
{
	struct mpw pk;

	if (n > 0 && c == NULL)
		return -1;
	if (reply_key(&pk, b, key) == -1)
		return -1;
	pk_counters(&pk, c, n);
	return 0;
}

int
wire_reply_health(struct wbuf *b, const struct wire_health *h)
{
	struct mpw pk;
	size_t i;

	if (b == NULL || h == NULL || (h->nchecks > 0 && h->checks == NULL) ||
	    (h->ncounters > 0 && h->counters == NULL))
		return -1;
	mpw_init(&pk, b);
	mpw_map(&pk, 8);
	mpw_str(&pk, "ok");
	mpw_bool(&pk, true);
	mpw_str(&pk, "name");
	mpw_str(&pk, h->name);
	mpw_str(&pk, "pid");
	mpw_int64(&pk, h->pid);
	mpw_str(&pk, "version");
	mpw_str(&pk, h->version);
	mpw_str(&pk, "uptime_s");
	mpw_int64(&pk, h->uptime_s);
	mpw_str(&pk, "ready");
	mpw_bool(&pk, h->ready);
	mpw_str(&pk, "checks");
	mpw_array(&pk, h->nchecks);
	for (i = 0; i < h->nchecks; i++) {
		mpw_map(&pk, 3);
		mpw_str(&pk, "name");
		mpw_str(&pk, h->checks[i].name);
		mpw_str(&pk, "ok");
		mpw_bool(&pk, h->checks[i].ok);
		mpw_str(&pk, "detail");
		mpw_str(&pk, h->checks[i].detail);
	}
	mpw_str(&pk, "counters");
	pk_counters(&pk, h->counters, h->ncounters);
	return 0;
}

/* ---- decoder ---- */

/* One step of the path in error messages: ".key" or "[index]". */
struct frame {
	const char *key; /* NULL: an index */
	int keylen;
	size_t idx;
};

#define WIRE_FRAMES (2 * WIRE_DEPTH_MAX + 2)

/*
 * The decoder's state over one message: the msgpack cursor (bounded, see
 * mpack.h), where memory comes from, and the path of keys and indexes
 * that starts every error ("snapshot.containers[0].id: ...").
 */
struct cur {
	struct mpr r; /* first: cur_where finds the cur from it */
	struct arena *a;
	char *empty; /* the message's one "" */
	const char *name;
	bool strict; /* an unknown key is an error (operator input) */
	struct frame frames[WIRE_FRAMES];
	int nframes;
};

#define fail(c, ...) mpr_fail(&(c)->r, __VA_ARGS__)

/* The path, the start of every error of the decoder. */
static size_t
cur_where(const struct mpr *r, char *e, size_t len)
{
	const struct cur *c = (const struct cur *)(const void *)r;
	size_t n;
	int i;

	n = (size_t)snprintf(e, len, "%s", c->name);
	for (i = 0; i < c->nframes && i < WIRE_FRAMES && n < len; i++) {
		if (c->frames[i].key != NULL)
			n += (size_t)snprintf(e + n, len - n, ".%.*s",
			                      c->frames[i].keylen,
			                      c->frames[i].key);
		else
			n += (size_t)snprintf(e + n, len - n, "[%zu]",
			                      c->frames[i].idx);
	}
	return n;
}

/* Frames past WIRE_FRAMES are not recorded; the depth check fails first. */
static void
push_key(struct cur *c, const char *key, size_t len)
{
	if (c->nframes < WIRE_FRAMES) {
		c->frames[c->nframes].key = key;
		c->frames[c->nframes].keylen = len > 32 ? 32 : (int)len;
	}
	c->nframes++;
}

static void
push_idx(struct cur *c, size_t idx)
{
	if (c->nframes < WIRE_FRAMES) {
		c->frames[c->nframes].key = NULL;
		c->frames[c->nframes].idx = idx;
	}
	c->nframes++;
}

static void
pop(struct cur *c)
{
	c->nframes--;
}

static int
rd_string(struct cur *c, size_t limit, char **out)
{
	const char *s = NULL;
	size_t len = 0;

	if (mpr_str(&c->r, &s, &len) == -1)
		return -1;
	if (len > limit)
		return fail(c, "string over %zu bytes", limit);
	if (memchr(s, '\0', len) != NULL)
		return fail(c, "string contains NUL");
	if (!utf8_valid(s, len))
		return fail(c, "string is not UTF-8");
	*out = len ? arena_strndup(c->a, s, len) : c->empty;
	return 0;
}

/* Makes room for element n of an array that has room for *cap. */
static void *
grow(struct cur *c, void *arr, size_t *cap, size_t n, size_t elsz)
{
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 4;
	if (ncap > SIZE_MAX / elsz)
		abort(); /* n is bounded by the message size */
	arr = arena_realloc(c->a, arr, *cap * elsz, ncap * elsz);
	*cap = ncap;
	return arr;
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
labels_dup(struct cur *c, const struct wire_kv *kv, size_t n)
{
	const char *dup = NULL;
	char **keys;
	size_t i, j;

	if (n <= WIRE_DUP_LINEAR) {
		for (i = 0; i < n && dup == NULL; i++)
			for (j = i + 1; j < n; j++)
				if (strcmp(kv[i].key, kv[j].key) == 0) {
					dup = kv[i].key;
					break;
				}
	} else {
		keys = arena_alloc(c->a, n * sizeof(*keys));
		for (i = 0; i < n; i++)
			keys[i] = kv[i].key;
		qsort(keys, n, sizeof(*keys), cmp_strp);
		for (i = 1; i < n && dup == NULL; i++)
			if (strcmp(keys[i - 1], keys[i]) == 0)
				dup = keys[i];
	}
	if (dup != NULL)
		return fail(c, "duplicate label \"%.32s\"", dup);
	return 0;
}

static int dec_record(struct cur *, const struct schema *, void *);

/* A label key or value: a str within the label limit. */
static int
rd_label(struct cur *c, bool key, char **out)
{
	int b;

	if ((b = mpr_peek(&c->r)) == -1)
		return -1;
	if (key && mpr_type(b) != MPR_STR)
		return fail(c, "map key is %s, not str", mpr_tname(b));
	return rd_string(c, WIRE_LABEL_MAX, out);
}

static int
dec_labels(struct cur *c, const struct field *f, void *rec)
{
	struct wire_kv *kv = NULL;
	size_t cap = 0;
	uint32_t i, n;

	if (mpr_map(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		kv = grow(c, kv, &cap, i, sizeof(*kv));
		if (rd_label(c, true, &kv[i].key) == -1 ||
		    rd_label(c, false, &kv[i].val) == -1)
			return -1;
	}
	mpr_leave(&c->r);
	*AT(rec, f->off, struct wire_kv *) = kv;
	*AT(rec, f->noff, size_t) = n;
	return labels_dup(c, kv, n);
}

/* Counters: a map of names to unsigned integers. */
static int
dec_counters(struct cur *c, const struct field *f, void *rec)
{
	struct wire_counter *ctr = NULL;
	size_t cap = 0;
	uint32_t i, n;
	char *name;

	if (mpr_map(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		ctr = grow(c, ctr, &cap, i, sizeof(*ctr));
		if (rd_label(c, true, &name) == -1)
			return -1;
		ctr[i].name = name;
		push_key(c, name, strlen(name));
		if (mpr_u64(&c->r, &ctr[i].value) == -1)
			return -1;
		pop(c);
	}
	mpr_leave(&c->r);
	*AT(rec, f->off, struct wire_counter *) = ctr;
	*AT(rec, f->noff, size_t) = n;
	return 0;
}

/* The array types: elements decoded one by one into a growing array. */
static int
dec_array(struct cur *c, const struct field *f, void *rec)
{
	size_t elsz, cap = 0;
	char *arr = NULL;
	uint32_t i, n;
	int rc = 0;

	switch (f->type) {
	case FT_I64ARR:
		elsz = sizeof(int64_t);
		break;
	case FT_STRARR:
		elsz = sizeof(char *);
		break;
	default:
		elsz = f->sub->size;
		break;
	}
	if (mpr_array(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		arr = grow(c, arr, &cap, i, elsz);
		push_idx(c, i);
		if (f->type == FT_I64ARR)
			rc =
			    mpr_i64(&c->r, (int64_t *)(void *)(arr + i * elsz));
		else if (f->type == FT_STRARR)
			rc = rd_string(c, f->limit,
			               (char **)(void *)(arr + i * elsz));
		else
			rc = dec_record(c, f->sub, arr + i * elsz);
		pop(c);
	}
	if (rc == -1)
		return -1;
	mpr_leave(&c->r);
	*AT(rec, f->off, void *) = arr;
	*AT(rec, f->noff, size_t) = n;
	return 0;
}

static int
dec_field(struct cur *c, const struct field *f, void *rec)
{
	void *sub;

	switch (f->type) {
	case FT_STR:
		return rd_string(c, f->limit, AT(rec, f->off, char *));
	case FT_I64:
		return mpr_i64(&c->r, AT(rec, f->off, int64_t));
	case FT_U64:
		return mpr_u64(&c->r, AT(rec, f->off, uint64_t));
	case FT_BOOL:
		return mpr_bool(&c->r, AT(rec, f->off, bool));
	case FT_LABELS:
		return dec_labels(c, f, rec);
	case FT_COUNTERS:
		return dec_counters(c, f, rec);
	case FT_I64ARR:
	case FT_STRARR:
	case FT_RECARR:
		return dec_array(c, f, rec);
	case FT_REC:
		return dec_record(c, f->sub, AT(rec, f->off, void));
	case FT_RECPTR:
		sub = arena_alloc(c->a, f->sub->size);
		*AT(rec, f->off, void *) = sub;
		return dec_record(c, f->sub, sub);
	}
	return fail(c, "unknown field type");
}

/* Absent strings of a (non-sparse) record read as "", nested ones too. */
static void
fill_defaults(struct cur *c, const struct schema *s, void *rec)
{
	const struct field *f;
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		f = &s->fields[i];
		if (f->type == FT_STR && *AT(rec, f->off, char *) == NULL)
			*AT(rec, f->off, char *) = c->empty;
		else if (f->type == FT_REC)
			fill_defaults(c, f->sub, AT(rec, f->off, void));
	}
}

/* A schema key (NUL-terminated) equals the klen bytes at k, which may
 * hold anything; never reads past either. */
static bool
key_is(const char *fk, const char *k, size_t klen)
{
	size_t i;

	for (i = 0; i < klen; i++)
		if (fk[i] == '\0' || fk[i] != k[i])
			return false;
	return fk[klen] == '\0';
}

static const struct field *
lookup(const struct schema *s, const char *k, size_t klen, size_t *hint)
{
	size_t i;

	/* our own encoder writes fields in schema order: try the next one */
	if (*hint < s->nfields && key_is(s->fields[*hint].key, k, klen))
		return &s->fields[(*hint)++];
	for (i = 0; i < s->nfields; i++)
		if (key_is(s->fields[i].key, k, klen)) {
			*hint = i + 1;
			return &s->fields[i];
		}
	return NULL;
}

/* The constant `t` of a message. */
static int
dec_t(struct cur *c, const struct schema *s)
{
	const char *v = NULL;
	size_t vlen = 0;

	push_key(c, "t", 1);
	if (mpr_str(&c->r, &v, &vlen) == -1)
		return -1;
	if (vlen != strlen(s->t) || memcmp(v, s->t, vlen) != 0)
		return fail(c, "\"%.*s\" is not %s", vlen > 32 ? 32 : (int)vlen,
		            v, s->t);
	pop(c);
	return 0;
}

static int
dec_record(struct cur *c, const struct schema *s, void *rec)
{
	const struct field *f;
	uint64_t seen = 0; /* a bit per field; no schema has 64 */
	bool tseen = false;
	const char *k;
	size_t klen, fi, hint = 0;
	uint32_t i, n;

	if (mpr_map(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c->r, &k, &klen) == -1)
			return -1;
		if (s->t != NULL && klen == 1 && k[0] == 't') {
			if (tseen)
				return fail(c, "duplicate key \"t\"");
			tseen = true;
			if (dec_t(c, s) == -1)
				return -1;
			continue;
		}
		if ((f = lookup(s, k, klen, &hint)) == NULL) {
			/* Unknown: skipped, bounded. Its duplicates are
			 * harmless since no reader ever sees it. */
			push_key(c, k, klen);
			if (c->strict)
				return fail(c, "unknown field");
			if (mpr_skip(&c->r, WIRE_SKIP_DEPTH) == -1)
				return -1;
			pop(c);
			continue;
		}
		fi = (size_t)(f - s->fields);
		if (seen & (uint64_t)1 << fi)
			return fail(c, "duplicate key \"%s\"", f->key);
		seen |= (uint64_t)1 << fi;
		push_key(c, f->key, klen);
		if (dec_field(c, f, rec) == -1)
			return -1;
		pop(c);
	}
	mpr_leave(&c->r);
	if (s->t != NULL && !tseen)
		return fail(c, "missing key \"t\"");
	for (fi = 0; fi < s->nfields; fi++)
		if ((s->fields[fi].flags & F_REQ) &&
		    !(seen & (uint64_t)1 << fi))
			return fail(c, "missing key \"%s\"", s->fields[fi].key);
	if (!s->sparse)
		fill_defaults(c, s, rec);
	return 0;
}

static void
cur_init(struct cur *c, const void *buf, size_t len, struct arena *a,
         const char *name, char *err)
{
	memset(c, 0, sizeof(*c));
	mpr_init(&c->r, buf, len, WIRE_DEPTH_MAX, err);
	c->r.where = cur_where;
	c->a = a;
	c->name = name;
}

/* A whole message: one record and nothing after it. */
static int
dec_top_strict(const struct schema *s, const void *buf, size_t len,
               struct arena *a, void *out, char *err, bool strict)
{
	struct cur c;

	if (out == NULL)
		return -1;
	memset(out, 0, s->size);
	cur_init(&c, buf, len, a, s->name, err);
	c.strict = strict;
	if (buf == NULL || a == NULL)
		return fail(&c, "no message");
	c.empty = arena_strndup(a, "", 0);
	if (dec_record(&c, s, out) == -1 || mpr_end(&c.r) == -1) {
		memset(out, 0, s->size);
		return -1;
	}
	return 0;
}

static int
dec_top(const struct schema *s, const void *buf, size_t len, struct arena *a,
        void *out, char *err)
{
	return dec_top_strict(s, buf, len, a, out, err, false);
}

int
wire_decode_snapshot(const void *buf, size_t len, struct arena *a,
                     struct wire_snapshot *out, char *err)
{
	return dec_top(&snapshot_schema, buf, len, a, out, err);
}

int
wire_decode_delta(const void *buf, size_t len, struct arena *a,
                  struct wire_delta *out, char *err)
{
	return dec_top(&delta_schema, buf, len, a, out, err);
}

int
wire_decode_plugin_result(const void *buf, size_t len, struct arena *a,
                          struct wire_plugin_result *out, char *err)
{
	return dec_top(&plugin_result_schema, buf, len, a, out, err);
}

int
wire_decode_dispatch(const void *buf, size_t len, struct arena *a,
                     struct wire_dispatch *out, char *err)
{
	return dec_top(&dispatch_schema, buf, len, a, out, err);
}

int
wire_decode_request(const void *buf, size_t len, struct arena *a,
                    struct wire_request *out, char *err)
{
	return dec_top(&request_schema, buf, len, a, out, err);
}

int
wire_decode_workload(const void *buf, size_t len, struct arena *a,
                     struct wire_workload *out, char *err)
{
	return dec_top(&workload_schema, buf, len, a, out, err);
}

int
wire_decode_workload_strict(const void *buf, size_t len, struct arena *a,
                            struct wire_workload *out, char *err)
{
	return dec_top_strict(&workload_schema, buf, len, a, out, err, true);
}

int
wire_decode_row_strict(const void *buf, size_t len, struct arena *a,
                       struct wire_row *out, char *err)
{
	return dec_top_strict(&row_schema, buf, len, a, out, err, true);
}

int
wire_decode_row(const void *buf, size_t len, struct arena *a,
                struct wire_row *out, char *err)
{
	return dec_top(&row_schema, buf, len, a, out, err);
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
		push_key(c, k, klen);
		if (klen == 1 && k[0] == 't')
			return mpr_str(&c->r, t, tlen);
		if (mpr_skip(&c->r, WIRE_DEPTH_MAX) == -1)
			return -1;
		pop(c);
	}
	return fail(c, "missing key \"t\"");
}

int
wire_peek_type(const void *buf, size_t len, enum wire_msgtype *type, char *err)
{
	struct cur c;
	const char *t;
	size_t i, tlen;

	cur_init(&c, buf, len, NULL, "message", err);
	if (type != NULL)
		*type = WIRE_T_UNKNOWN;
	if (buf == NULL)
		return fail(&c, "no message");
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
		if (dec_top(&event_schemas[evtypes[i].ev], buf, len, a, out,
		            err) == -1)
			return -1;
		out->type = evtypes[i].ev;
		return 0;
	}
	if (err != NULL)
		snprintf(err, WIRE_ERR_LEN, "event: t is not an event type");
	return -1;
}

/* The reply's error map: code and message, other keys skipped. */
static int
dec_reply_error(struct cur *c, char **code, char **message)
{
	const char *k;
	size_t klen;
	uint32_t i, n;
	bool gotcode = false, gotmsg = false;

	if (mpr_map(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c->r, &k, &klen) == -1)
			return -1;
		push_key(c, k, klen);
		if (klen == 4 && memcmp(k, "code", 4) == 0) {
			if (gotcode)
				return fail(c, "duplicate key");
			gotcode = true;
			if (rd_string(c, WIRE_ID_MAX, code) == -1)
				return -1;
		} else if (klen == 7 && memcmp(k, "message", 7) == 0) {
			if (gotmsg)
				return fail(c, "duplicate key");
			gotmsg = true;
			if (rd_string(c, WIRE_TEXT_MAX, message) == -1)
				return -1;
		} else if (mpr_skip(&c->r, WIRE_SKIP_DEPTH) == -1) {
			return -1;
		}
		pop(c);
	}
	mpr_leave(&c->r);
	return 0;
}

int
wire_decode_reply_status(const void *buf, size_t len, struct arena *a, bool *ok,
                         char **code, char **message, char *err)
{
	struct cur c;
	const char *k;
	size_t klen;
	uint32_t i, n;
	bool gotok = false, goterr = false, v = false;
	char *cd = NULL, *msg = NULL;

	cur_init(&c, buf, len, a, "reply", err);
	if (buf == NULL || a == NULL)
		return fail(&c, "no message");
	c.empty = arena_strndup(a, "", 0);
	if (mpr_map(&c.r, &n) == -1 || mpr_enter(&c.r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c.r, &k, &klen) == -1)
			return -1;
		push_key(&c, k, klen);
		if (klen == 2 && memcmp(k, "ok", 2) == 0) {
			if (gotok)
				return fail(&c, "duplicate key");
			gotok = true;
			if (mpr_bool(&c.r, &v) == -1)
				return -1;
		} else if (klen == 5 && memcmp(k, "error", 5) == 0) {
			if (goterr)
				return fail(&c, "duplicate key");
			goterr = true;
			if (dec_reply_error(&c, &cd, &msg) == -1)
				return -1;
		} else if (mpr_skip(&c.r, WIRE_DEPTH_MAX) == -1) {
			return -1;
		}
		pop(&c);
	}
	mpr_leave(&c.r);
	if (mpr_end(&c.r) == -1)
		return -1;
	if (!gotok)
		return fail(&c, "missing key \"ok\"");
	if (ok != NULL)
		*ok = v;
	if (code != NULL)
		*code = v ? NULL : cd ? cd : c.empty;
	if (message != NULL)
		*message = v ? NULL : msg ? msg : c.empty;
	return 0;
}

/* An ok reply decoded by its schema: `ok` must be true. */
static int
dec_reply(const struct schema *s, const void *buf, size_t len, struct arena *a,
          void *out, char *err)
{
	char *code = NULL, *msg = NULL;
	bool ok = false;

	if (out == NULL)
		return -1;
	memset(out, 0, s->size);
	if (wire_decode_reply_status(buf, len, a, &ok, &code, &msg, err) == -1)
		return -1;
	if (!ok) {
		if (err != NULL)
			snprintf(err, WIRE_ERR_LEN,
			         "%s: not an ok reply: %.32s", s->name, code);
		return -1;
	}
	return dec_top(s, buf, len, a, out, err);
}

int
wire_decode_rows_reply(const void *buf, size_t len, struct arena *a,
                       struct wire_rows_reply *out, char *err)
{
	return dec_reply(&rows_reply_schema, buf, len, a, out, err);
}

int
wire_decode_workloads_reply(const void *buf, size_t len, struct arena *a,
                            struct wire_workloads_reply *out, char *err)
{
	return dec_reply(&workloads_reply_schema, buf, len, a, out, err);
}

int
wire_decode_row_reply(const void *buf, size_t len, struct arena *a,
                      struct wire_row_reply *out, char *err)
{
	return dec_reply(&row_reply_schema, buf, len, a, out, err);
}

int
wire_decode_workload_reply(const void *buf, size_t len, struct arena *a,
                           struct wire_workload_reply *out, char *err)
{
	return dec_reply(&workload_reply_schema, buf, len, a, out, err);
}

int
wire_decode_write_reply(const void *buf, size_t len, struct arena *a,
                        struct wire_write_reply *out, char *err)
{
	return dec_reply(&write_reply_schema, buf, len, a, out, err);
}

int
wire_decode_stats_reply(const void *buf, size_t len, struct arena *a,
                        struct wire_stats_reply *out, char *err)
{
	return dec_reply(&stats_reply_schema, buf, len, a, out, err);
}

int
wire_decode_health_reply(const void *buf, size_t len, struct arena *a,
                         struct wire_health *out, char *err)
{
	return dec_reply(&health_schema, buf, len, a, out, err);
}

/* events.since's array: each element is skipped to find its extent. */
static int
dec_spans(struct cur *c, struct wire_span **out, size_t *nout)
{
	struct wire_span *sp = NULL;
	size_t cap = 0;
	uint32_t i, n;

	if (mpr_array(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		push_idx(c, i);
		sp = grow(c, sp, &cap, i, sizeof(*sp));
		sp[i].p = c->r.p;
		if (mpr_skip(&c->r, WIRE_SKIP_DEPTH) == -1)
			return -1;
		sp[i].len = (size_t)(c->r.p - (const unsigned char *)sp[i].p);
		pop(c);
	}
	mpr_leave(&c->r);
	*out = sp;
	*nout = n;
	return 0;
}

static int
dec_events_reply(const void *buf, size_t len, struct arena *a, uint64_t *rev,
                 struct wire_span **events, size_t *nevents, char *err)
{
	struct cur c;
	const char *k;
	size_t klen;
	uint32_t i, n;
	bool ok = false, gotok = false, gotrev = false, gotev = false;

	cur_init(&c, buf, len, a, "events_reply", err);
	*rev = 0;
	*events = NULL;
	*nevents = 0;
	if (buf == NULL || a == NULL)
		return fail(&c, "no message");
	if (mpr_map(&c.r, &n) == -1 || mpr_enter(&c.r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c.r, &k, &klen) == -1)
			return -1;
		push_key(&c, k, klen);
		if (klen == 2 && memcmp(k, "ok", 2) == 0) {
			if (gotok)
				return fail(&c, "duplicate key");
			gotok = true;
			if (mpr_bool(&c.r, &ok) == -1)
				return -1;
		} else if (klen == 3 && memcmp(k, "rev", 3) == 0) {
			if (gotrev)
				return fail(&c, "duplicate key");
			gotrev = true;
			if (mpr_u64(&c.r, rev) == -1)
				return -1;
		} else if (klen == 6 && memcmp(k, "events", 6) == 0) {
			if (gotev)
				return fail(&c, "duplicate key");
			gotev = true;
			if (dec_spans(&c, events, nevents) == -1)
				return -1;
		} else if (mpr_skip(&c.r, WIRE_DEPTH_MAX) == -1) {
			return -1;
		}
		pop(&c);
	}
	mpr_leave(&c.r);
	if (mpr_end(&c.r) == -1)
		return -1;
	if (!gotok || !ok)
		return fail(&c, "not an ok reply");
	if (!gotrev || !gotev)
		return fail(&c, "missing key \"%s\"",
		            gotrev ? "events" : "rev");
	return 0;
}

int
wire_decode_events_reply(const void *buf, size_t len, struct arena *a,
                         uint64_t *rev, struct wire_span **events,
                         size_t *nevents, char *err)
{
	if (dec_events_reply(buf, len, a, rev, events, nevents, err) == 0)
		return 0;
	*rev = 0;
	*events = NULL;
	*nevents = 0;
	return -1;
}

int
wire_event_topic(char *buf, size_t len, const struct wire_event *ev)
{
	int n = -1;

	switch (ev->type) {
	case WIRE_EV_CONTAINER:
		if (ev->row == NULL)
			return -1;
		n = snprintf(buf, len, "container/%s/%s",
		             ev->row->workload_id != NULL ? ev->row->workload_id
		                                          : "",
		             ev->row->id != NULL ? ev->row->id : "");
		break;
	case WIRE_EV_WORKLOAD:
		if (ev->workload == NULL)
			return -1;
		n = snprintf(buf, len, "workload/%s",
		             ev->workload->id != NULL ? ev->workload->id : "");
		break;
	case WIRE_EV_PASS:
		n = snprintf(buf, len, "sys/pass");
		break;
	}
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

/* Copies n bytes of s into out (WIRE_ID_MAX + 1 bytes): 0, or -1 when
 * they are too many, none or hold a NUL. */
static int
topic_part(char *out, const char *s, size_t n)
{
	if (n == 0 || n > WIRE_ID_MAX || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The topic of tlen bytes at topic into t's kind, wid and row_id. */
static int
topic_read(const char *topic, size_t tlen, struct wire_topic *t, char *err)
{
	const char *wid = NULL, *slash;
	size_t n;

	t->wid[0] = t->row_id[0] = '\0';
	if (tlen >= 10 && memcmp(topic, "container/", 10) == 0) {
		t->kind = WIRE_TOPIC_CONTAINER;
		wid = topic + 10;
		if ((slash = memchr(wid, '/', tlen - 10)) == NULL)
			goto bad;
		n = (size_t)(slash - wid);
		if (topic_part(t->wid, wid, n) == -1 ||
		    topic_part(t->row_id, slash + 1, tlen - 11 - n) == -1)
			goto bad;
	} else if (tlen >= 9 && memcmp(topic, "workload/", 9) == 0) {
		t->kind = WIRE_TOPIC_WORKLOAD;
		if (topic_part(t->wid, topic + 9, tlen - 9) == -1)
			goto bad;
	} else {
		t->kind = WIRE_TOPIC_OTHER;
		return 0;
	}
	if (id_valid(t->wid))
		return 0;
bad:
	snprintf(err, WIRE_ERR_LEN, "bad topic %.*s",
	         (int)(tlen < 100 ? tlen : 100), topic);
	return -1;
}

int
wire_topic_split(const void *msg, size_t len, struct wire_topic *t, char *err)
{
	const char *nul;

	memset(t, 0, sizeof(*t));
	nul = msg != NULL
	          ? memchr(msg, '\0',
	                   len < WIRE_TOPIC_MAX + 1 ? len : WIRE_TOPIC_MAX + 1)
	          : NULL;
	if (nul == NULL) {
		snprintf(err, WIRE_ERR_LEN, "no topic");
		return -1;
	}
	t->topic = msg;
	t->tlen = (size_t)(nul - t->topic);
	t->body = nul + 1;
	t->blen = len - t->tlen - 1;
	return topic_read(t->topic, t->tlen, t, err);
}

bool
wire_topic_in_workload(const char *topic, const char *wid)
{
	char err[WIRE_ERR_LEN];
	struct wire_topic t;
	size_t n = strnlen(topic, WIRE_TOPIC_MAX + 1);

	return n <= WIRE_TOPIC_MAX && topic_read(topic, n, &t, err) == 0 &&
	       t.kind != WIRE_TOPIC_OTHER && strcmp(t.wid, wid) == 0;
}

int
wire_peek_rev(const void *buf, size_t len, uint64_t *rev, char *err)
{
	struct cur c;
	const char *k;
	size_t klen;
	uint32_t i, n;

	cur_init(&c, buf, len, NULL, "event", err);
	if (buf == NULL)
		return fail(&c, "no message");
	if (mpr_map(&c.r, &n) == -1 || mpr_enter(&c.r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c.r, &k, &klen) == -1)
			return -1;
		push_key(&c, k, klen);
		if (klen == 3 && memcmp(k, "rev", 3) == 0)
			return mpr_u64(&c.r, rev);
		if (mpr_skip(&c.r, WIRE_DEPTH_MAX) == -1)
			return -1;
		pop(&c);
	}
	return fail(&c, "missing key \"rev\"");
}
