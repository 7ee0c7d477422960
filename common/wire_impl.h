/*
 * wire_impl.h: what the files of the wire codec share, private to them
 * (wire.h is the API). The schema's field descriptions (wire.c holds the
 * tables), the generic record encoder (wire_enc.c) and the decoder's
 * cursor with its error path (wire_dec.c), used by wire.c, wire_reply.c
 * and wire_topic.c; wirejson.c writes records as JSON by the same tables.
 */
#ifndef RECON_WIRE_IMPL_H
#define RECON_WIRE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpack.h"
#include "wire.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * How many container levels an unknown key's value may hold. Enough for a
 * future field that is a list of small records; bounded so that garbage
 * cannot make the skipper recurse (and the total stays <= WIRE_DEPTH_MAX).
 */
#define WIRE_SKIP_DEPTH 3

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

/* A field of a record, at its offset. */
#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))
#define CAT(base, off, type)                                                   \
	((const type *)(const void *)((const char *)(base) + (off)))

/* The tables other files read (wire.c). */
extern const struct schema wire_row_schema;
extern const struct schema wire_workload_schema;
extern const struct schema wire_host_schema;
extern const struct schema wire_rows_reply_schema;
extern const struct schema wire_hosts_reply_schema;
extern const struct schema wire_workloads_reply_schema;
extern const struct schema wire_row_reply_schema;
extern const struct schema wire_workload_reply_schema;
extern const struct schema wire_write_reply_schema;
extern const struct schema wire_stats_reply_schema;
extern const struct schema wire_health_schema;

/* Indexed by enum wire_event_type; NULL for a type out of range. */
const struct schema *wire_event_schema(enum wire_event_type);

/* ---- encoder (wire_enc.c) ---- */

/* opts: write the secret fields too (F_SECRET; URL passwords) */
#define ENC_SECRETS 0x1

/* Whether field f of rec is written (secrets only when asked for, sparse
 * fields only when set): the encoder's rule, and the JSON writer's
 * (wirejson.c). */
bool wire_field_written(const struct schema *, const struct field *,
                        const void *rec, unsigned opts);
/* url with the password of its user information written as "***" (a
 * secret, SPEC §2), in buf; url itself when it has none, "***" when buf
 * (WIRE_URL_REDACTED bytes will do) is too small. */
#define WIRE_URL_REDACTED (WIRE_LABEL_MAX + 8)
const char *wire_url_redacted(const char *url, char *buf, size_t len);

/* A record's map, its fields as the schema says; -1 on a NULL required
 * pointer (a programming error). */
int wire_enc_record(struct mpw *, const struct schema *, const void *,
                    unsigned opts);
/* One whole record appended to b; on a programming error nothing is left
 * in b. */
int wire_enc_top(struct wbuf *, const struct schema *, const void *,
                 unsigned opts);
/* A map of counter names to values. */
void wire_enc_counters(struct mpw *, const struct wire_counter *, size_t);

/* ---- JSON writer (wirejson.c) ---- */

/* A record as the JSON wire_to_json makes of wire_enc_record's map; NULL
 * where either fails. */
struct json_object;
struct json_object *wire_json_record(const struct schema *, const void *rec,
                                     unsigned opts);

/* ---- decoder (wire_dec.c) ---- */

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

/* Every decoder error: the path, then the reason. */
#define wire_fail(c, ...) mpr_fail(&(c)->r, __VA_ARGS__)

void wire_cur_init(struct cur *, const void *buf, size_t len, struct arena *,
                   const char *name, char *err);
/* The path: a key or an index entered, the last one left. */
void wire_cur_key(struct cur *, const char *key, size_t len);
void wire_cur_idx(struct cur *, size_t idx);
void wire_cur_pop(struct cur *);
/* A str of at most limit bytes, no NUL, UTF-8, copied to the arena. */
int wire_cur_string(struct cur *, size_t limit, char **out);
/* Room for element n of an arena array that has room for *cap. */
void *wire_cur_grow(struct cur *, void *arr, size_t *cap, size_t n,
                    size_t elsz);
/* A whole message decoded by its schema: one record, nothing after it;
 * strict: an unknown key is an error. */
int wire_dec_top(const struct schema *, const void *buf, size_t len,
                 struct arena *, void *out, char *err);
int wire_dec_top_strict(const struct schema *, const void *buf, size_t len,
                        struct arena *, void *out, char *err, bool strict);

#endif
