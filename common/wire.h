/*
 * wire.h: the one codec for every message of SPEC §3 (msgpack maps with
 * string keys, "t" names the type). Decoding is strict and bounded: it never
 * allocates from a declared count, only as elements are actually read.
 */
#ifndef RECON_WIRE_H
#define RECON_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define WIRE_ID_MAX    128       /* ids: workload, row, app, docker, t */
#define WIRE_LABEL_MAX 4096      /* label keys and values, short strings */
#define WIRE_TEXT_MAX  (1 << 20) /* JSON text fields, error text */
#define WIRE_DEPTH_MAX 6         /* deepest nesting any schema has, +slack */

/* A growable output buffer; encoders append to it. */
struct wbuf {
	char *data;
	size_t len, cap;
};
void wbuf_reset(struct wbuf *);
/* Appends n bytes (out of memory aborts, as every encoder's growth does). */
void wbuf_append(struct wbuf *, const void *, size_t);
/* Appends n bytes for the caller to fill in, and returns them. */
void *wbuf_room(struct wbuf *, size_t n);
void wbuf_free(struct wbuf *);

struct wire_kv {
	char *key, *val;
};

/* One container as Docker reported it (lister → store). */
struct wire_container {
	char *id; /* Docker id, <= 128 */
	char *image;
	char *state; /* Docker's own word: running, exited, ... */
	int64_t created;
	struct wire_kv *labels; /* only the <prefix> ones */
	size_t nlabels;
	int64_t *ports; /* public ports in Docker's order */
	size_t nports;
};

struct wire_snapshot {
	char *host;
	uint64_t gen;
	int64_t taken_at; /* ms */
	bool complete;
	/* the lister's --interval between full passes, ms; 0 (absent: an
	 * older lister): the store takes STORE_INTERVAL_DEFAULT_MS */
	uint64_t interval_ms;
	struct wire_container *containers;
	size_t ncontainers;
	/* R8: Docker ids of containers that are there but whose input the
	 * lister refused: their rows are not swept */
	char **skipped;
	size_t nskipped;
};

struct wire_delta {
	char *host;
	uint64_t gen;
	struct wire_container *containers;
	size_t ncontainers;
	char **gone; /* Docker ids reported destroyed */
	size_t ngone;
};

struct wire_plugin_result {
	char *workload_id;
	char *reason; /* pass | state | manual */
	bool ok;
	char *error;
	int64_t started_at; /* ms */
	int64_t duration_ms;
	/* the store revision of the records the plugin was given; 0 when it
	 * did not run to its end (refused, not started, cut at shutdown) */
	uint64_t rev;
};

/* The store's own record of a workload's plugin runs. */
struct wire_plugin_status {
	int64_t last_run_at; /* ms, 0 never */
	int64_t last_ok_at;
	bool last_ok;
	char *last_reason;
	char *last_error;
	int64_t duration_ms;
	uint64_t runs, failures;
};

struct wire_workload {
	char *id, *name, *kind, *app_id, *parent_workload_id;
	char *source_kind, *source_config; /* source_config: JSON text */
	char *trigger_kind, *trigger_config;
	char *public_faces; /* JSON text */
	char *notification_url;
	char *notification_secret, *webhook_secret,
	    *webhook_signing_secret; /* the secrets */
	bool webhook_require_signature;
	int64_t created_at, updated_at; /* ms */
	struct wire_plugin_status plugin;
};

struct wire_row {
	char *id;
	/* Docker-derived (R4): a pass changes only these */
	char *workload_id, *workload_kind, *role, *container_id, *image_ref;
	char *host, *state;
	int64_t port;
	int64_t last_seen_at; /* ms */
	/* deployer-owned: never touched by a pass */
	char *subdomain, *proxy_route_id, *npm_proxy_id, *image_tag, *stage_id;
	int64_t created_at; /* ms */
};

/*
 * What the store knows of a lister host (SPEC §10). The store keeps
 * host, gen, last_seen_at and interval_ms in LMDB (the host record);
 * hosts.list adds state and rows.
 */
struct wire_host {
	char *host;
	char *state;          /* live | stale */
	int64_t last_seen_at; /* ms, the store's clock: last accepted message */
	uint64_t gen;         /* the highest gen accepted */
	uint64_t interval_ms; /* the lister's interval, as the store uses it */
	uint64_t rows;        /* rows whose host this is */
};

/* One workload of a dispatch job, with its current container rows. */
struct wire_job_item {
	struct wire_workload workload; /* secrets included */
	struct wire_row *rows;
	size_t nrows;
};

struct wire_dispatch {
	uint64_t rev;
	char *reason; /* pass | state | manual */
	struct wire_job_item *items;
	size_t nitems;
};

/*
 * Events published by the store. One struct for the three bodies; `t`
 * says which fields mean something.
 *  container: rev, op (upsert|missing|delete), row, prev_state, at
 *  workload:  rev, op (put|delete|plugin), workload (secrets removed)
 *  pass:      rev, host, gen, seen, changed, missing, ignored_unknown,
 *             ignored_kind, duration_us
 */
enum wire_event_type { WIRE_EV_CONTAINER, WIRE_EV_WORKLOAD, WIRE_EV_PASS };

struct wire_event {
	enum wire_event_type type;
	uint64_t rev;
	char *op;
	struct wire_row *row;
	char *prev_state;
	int64_t at; /* ms */
	struct wire_workload *workload;
	char *host;
	uint64_t gen, seen, changed, missing, ignored_unknown, ignored_kind;
	uint64_t duration_us;
};

/* A request on any ctl socket: {t: NAME, ...}. Absent fields stay 0/NULL. */
struct wire_request {
	char *t;  /* health, containers.list, ... */
	char *id; /* container.get/delete, workload.get/delete, dispatch */
	char *workload_id; /* containers.list filter */
	char *state;       /* containers.list filter */
	char *host;        /* containers.list filter; hosts.forget: the host */
	uint64_t rev;      /* events.since */
	uint64_t limit;    /* events.since */
	bool secrets;      /* workload.get */
	bool live;         /* health: liveness only */
	struct wire_workload *workload; /* workload.put */
	struct wire_row *row;           /* container.put */
};

struct wire_check {
	char *name;
	bool ok;
	char *detail;
};

struct wire_counter {
	const char *name;
	uint64_t value;
};

/* The health reply of every process (SPEC §7). */
struct wire_health {
	const char *name;
	int64_t pid;
	const char *version;
	int64_t uptime_s;
	bool ready;
	const struct wire_check *checks;
	size_t nchecks;
	const struct wire_counter *counters;
	size_t ncounters;
};

/*
 * Decoding. Every decoder takes the whole message, returns 0 and fills
 * *out with memory from the arena, or returns -1 and writes a one-line
 * reason to err (type mismatch, truncation, trailing bytes, a count larger
 * than the bytes left, an oversize string, an embedded NUL, deeper nesting
 * than the schema, a duplicate or missing required key, wrong `t`).
 * Unknown keys are skipped (their values bounded by the same checks).
 */
#define WIRE_ERR_LEN 160

enum wire_msgtype {
	WIRE_T_UNKNOWN,
	WIRE_T_SNAPSHOT,
	WIRE_T_DELTA,
	WIRE_T_PLUGIN_RESULT,
	WIRE_T_DISPATCH,
	WIRE_T_CONTAINER_EVENT,
	WIRE_T_WORKLOAD_EVENT,
	WIRE_T_PASS_EVENT,
};

/* Reads `t` of a message without decoding the rest; -1 if not a map with
 * a string `t`. Request names are not message types: see wire_decode_request.
 */
int wire_peek_type(const void *buf, size_t len, enum wire_msgtype *type,
                   char *err);

int wire_decode_snapshot(const void *, size_t, struct arena *,
                         struct wire_snapshot *, char *err);
int wire_decode_delta(const void *, size_t, struct arena *, struct wire_delta *,
                      char *err);
int wire_decode_plugin_result(const void *, size_t, struct arena *,
                              struct wire_plugin_result *, char *err);
int wire_decode_dispatch(const void *, size_t, struct arena *,
                         struct wire_dispatch *, char *err);
int wire_decode_event(const void *, size_t, struct arena *, struct wire_event *,
                      char *err);
/* Reads an event's `rev` without decoding the rest (a subscriber drops
 * the copies it already has this cheaply); -1 if there is none. */
int wire_peek_rev(const void *, size_t, uint64_t *rev, char *err);
int wire_decode_request(const void *, size_t, struct arena *,
                        struct wire_request *, char *err);
/* Records as the store keeps them in LMDB (same map as on the wire). */
int wire_decode_workload(const void *, size_t, struct arena *,
                         struct wire_workload *, char *err);
int wire_decode_row(const void *, size_t, struct arena *, struct wire_row *,
                    char *err);
/* The same for operator input (reconctl's put FILE): a key the schema does
 * not know is an error too, so that a misspelt field never passes. */
int wire_decode_workload_strict(const void *, size_t, struct arena *,
                                struct wire_workload *, char *err);
int wire_decode_row_strict(const void *, size_t, struct arena *,
                           struct wire_row *, char *err);
/* A host record as the store keeps it: host, gen, last_seen_at and
 * interval_ms (state and rows are not stored). */
int wire_decode_host_record(const void *, size_t, struct arena *,
                            struct wire_host *, char *err);

/*
 * Encoding appends one message to b. NULL strings encode as "". Returns 0,
 * -1 only on a programming error (NULL required pointer).
 */
int wire_encode_snapshot(struct wbuf *, const struct wire_snapshot *);
int wire_encode_delta(struct wbuf *, const struct wire_delta *);
int wire_encode_plugin_result(struct wbuf *, const struct wire_plugin_result *);
int wire_encode_dispatch(struct wbuf *, const struct wire_dispatch *);
int wire_encode_event(struct wbuf *, const struct wire_event *);
int wire_encode_request(struct wbuf *, const struct wire_request *);
/* secrets: include the three secret fields (else they are left out). */
int wire_encode_workload(struct wbuf *, const struct wire_workload *,
                         bool secrets);
int wire_encode_row(struct wbuf *, const struct wire_row *);
int wire_encode_host_record(struct wbuf *, const struct wire_host *);

/*
 * Replies: {ok: true, ...} or {ok: false, error: {code, message}}.
 * A reply is built with wire_reply_begin(b, nextra) — the number of
 * fields after `ok` — followed by exactly that many wire_reply_* field
 * calls. Error replies stand alone.
 */
int wire_reply_error(struct wbuf *, const char *code, const char *message);
int wire_reply_begin(struct wbuf *, size_t nextra);
int wire_reply_u64(struct wbuf *, const char *key, uint64_t);
int wire_reply_str(struct wbuf *, const char *key, const char *);
int wire_reply_rows(struct wbuf *, const char *key, const struct wire_row *,
                    size_t n);
int wire_reply_row(struct wbuf *, const char *key, const struct wire_row *);
int wire_reply_workloads(struct wbuf *, const char *key,
                         const struct wire_workload *, size_t n, bool secrets);
int wire_reply_workload(struct wbuf *, const char *key,
                        const struct wire_workload *, bool secrets);
/* An array of n already-encoded msgpack values laid back to back in one
 * buffer (e.g. change-log bodies). */
int wire_reply_raw_array(struct wbuf *, const char *key,
                         const struct wbuf *items, size_t n);
/* hosts.list's items: every field of each host. */
int wire_reply_hosts(struct wbuf *, const char *key, const struct wire_host *,
                     size_t n);
int wire_reply_counters(struct wbuf *, const char *key,
                        const struct wire_counter *, size_t n);
/* The whole health reply, ok included. */
int wire_reply_health(struct wbuf *, const struct wire_health *);

/*
 * R4, written once: the fields derived from Docker are marked in the
 * schema, and these read the marks. A row's Docker-derived fields (all
 * but last_seen_at, which is written quietly) differ; their 64-bit digest
 * (never 0; stored in the Docker index, so it never changes); every field
 * equal; and the fingerprint of the container fields those are derived
 * from, for the lister's index.
 */
bool wire_row_docker_differ(const struct wire_row *, const struct wire_row *);
uint64_t wire_row_docker_digest(const struct wire_row *);
bool wire_row_equal(const struct wire_row *, const struct wire_row *);
uint64_t wire_container_fingerprint(const struct wire_container *);

/* The topic an event is published under (SPEC §3): container/<wid>/<row>,
 * workload/<wid> or sys/pass, NUL-terminated in buf. -1 when it does not
 * fit or the event has no record. */
int wire_event_topic(char *buf, size_t len, const struct wire_event *);
/*
 * A published message (SPEC §3), "TOPIC\0BODY", split and its topic read:
 * the one reading of the topic grammar. A container or workload topic
 * names a valid workload id, and a container topic a row id of at most
 * WIRE_ID_MAX bytes; any other topic (sys/pass) is WIRE_TOPIC_OTHER. -1
 * with err when there is no NUL within WIRE_TOPIC_MAX bytes or a
 * container or workload topic is malformed.
 */
#define WIRE_TOPIC_MAX (2 * WIRE_ID_MAX + 32)
enum wire_topic_kind {
	WIRE_TOPIC_CONTAINER,
	WIRE_TOPIC_WORKLOAD,
	WIRE_TOPIC_OTHER,
};
struct wire_topic {
	enum wire_topic_kind kind;
	const char *topic;            /* in the message, NUL-terminated */
	size_t tlen;                  /* its length, NUL excluded */
	char wid[WIRE_ID_MAX + 1];    /* container and workload topics */
	char row_id[WIRE_ID_MAX + 1]; /* container topics */
	const void *body;             /* the event, after the NUL */
	size_t blen;
};
int wire_topic_split(const void *msg, size_t len, struct wire_topic *,
                     char *err);
/* Does an event topic belong to workload wid (container/<wid>/<row_id> or
 * workload/<wid>)? Read by wire_topic_split's rules. */
bool wire_topic_in_workload(const char *topic, const char *wid);

/* A reply's `ok` and, when false, its error code and message (arena). */
int wire_decode_reply_status(const void *, size_t, struct arena *, bool *ok,
                             char **code, char **message, char *err);

/* One encoded value inside a larger buffer. */
struct wire_span {
	const void *p;
	size_t len;
};

/* An ok reply to events.since: rev (the head it was read at) and the
 * logged bodies as spans of buf, each to be decoded with
 * wire_decode_event; the span array lives in the arena. */
int wire_decode_events_reply(const void *, size_t, struct arena *,
                             uint64_t *rev, struct wire_span **events,
                             size_t *nevents, char *err);

/*
 * The typed ok replies of the ctl sockets (SPEC §5, §7). Each decoder
 * checks `ok` is true (an error reply fails it: read that one with
 * wire_decode_reply_status), then decodes its fields as strictly as a
 * message; unknown keys are skipped. Memory comes from the arena.
 */
struct wire_rows_reply { /* containers.list */
	uint64_t rev;
	struct wire_row *rows; /* key "containers" */
	size_t nrows;
};
struct wire_workloads_reply { /* workloads.list */
	uint64_t rev;
	struct wire_workload *workloads;
	size_t nworkloads;
};
struct wire_row_reply { /* container.get */
	uint64_t rev;
	struct wire_row row; /* key "container" */
};
struct wire_workload_reply { /* workload.get */
	uint64_t rev;
	struct wire_workload workload;
};
/* Writes (container/workload put and delete, hosts.forget) and
 * dispatch. */
struct wire_write_reply {
	uint64_t rev;
	char *job;        /* dispatch: sent | queued; "" otherwise */
	uint64_t missing; /* hosts.forget: rows it turned missing */
};
struct wire_stats_reply { /* the store's stats */
	uint64_t rev, oldest_rev, workloads, rows, events;
	uint64_t map_size, map_used, map_max;
	uint64_t hosts_live, hosts_stale; /* lister hosts by state */
	struct wire_counter *counters;
	size_t ncounters;
};

struct wire_hosts_reply { /* hosts.list */
	uint64_t rev;
	struct wire_host *hosts;
	size_t nhosts;
};

int wire_decode_rows_reply(const void *, size_t, struct arena *,
                           struct wire_rows_reply *, char *err);
int wire_decode_hosts_reply(const void *, size_t, struct arena *,
                            struct wire_hosts_reply *, char *err);
int wire_decode_workloads_reply(const void *, size_t, struct arena *,
                                struct wire_workloads_reply *, char *err);
int wire_decode_row_reply(const void *, size_t, struct arena *,
                          struct wire_row_reply *, char *err);
int wire_decode_workload_reply(const void *, size_t, struct arena *,
                               struct wire_workload_reply *, char *err);
int wire_decode_write_reply(const void *, size_t, struct arena *,
                            struct wire_write_reply *, char *err);
int wire_decode_stats_reply(const void *, size_t, struct arena *,
                            struct wire_stats_reply *, char *err);
/* health (every process): name and ready required. */
int wire_decode_health_reply(const void *, size_t, struct arena *,
                             struct wire_health *, char *err);

#endif
