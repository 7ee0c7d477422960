/*
 * wirejson.c: any msgpack value to json-c and back, for reconctl --json
 * and its file input, through the one msgpack codec (mpack.h): its
 * bounded reader, its writer. And a decoded record straight to the JSON
 * that reading its encoded form would give, by the schema's tables, for
 * plugin stdin, webhook bodies and `reconctl watch --json`.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpack.h"
#include "util.h"
#include "wire_impl.h"
#include "wirejson.h"

/* Replies nest a little deeper than messages (a list of event bodies). */
#define WJ_DEPTH_MAX (2 * WIRE_DEPTH_MAX)

static int to_json(struct mpr *, json_object **);

/* A str or bin of at most WIRE_TEXT_MAX bytes, as a JSON string. */
static int
j_string(struct mpr *r, json_object **o)
{
	const char *s;
	size_t n;

	if (mpr_strhdr(r, true, &n) == -1)
		return -1;
	if (n <= mpr_left(r) && n > WIRE_TEXT_MAX)
		return mpr_fail(r, "string over %d bytes", WIRE_TEXT_MAX);
	if (mpr_body(r, n, "string", &s) == -1)
		return -1;
	*o = json_object_new_string_len(s, (int)n);
	return 0;
}

static int
j_array(struct mpr *r, json_object **o)
{
	json_object *a, *v;
	uint32_t i, n;

	if (mpr_enter(r) == -1 || mpr_array(r, &n) == -1)
		return -1;
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		if (to_json(r, &v) == -1) {
			json_object_put(a);
			return -1;
		}
		json_object_array_add(a, v);
	}
	mpr_leave(r);
	*o = a;
	return 0;
}

/* A map key: a str of at most WIRE_LABEL_MAX bytes and no NUL, copied. */
static int
j_key(struct mpr *r, char **key)
{
	const char *k;
	size_t klen;
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	if (mpr_type(b) != MPR_STR)
		return mpr_fail(r, "map key is not a str");
	if (mpr_strhdr(r, false, &klen) == -1)
		return -1;
	if (klen > mpr_left(r) || klen > WIRE_LABEL_MAX)
		return mpr_fail(r, "map key of %zu bytes too long", klen);
	if (memchr(r->p, '\0', klen) != NULL)
		return mpr_fail(r, "map key contains NUL");
	if (mpr_body(r, klen, "map key", &k) == -1)
		return -1;
	*key = xstrndup(k, klen);
	return 0;
}

static int
j_map(struct mpr *r, json_object **o)
{
	json_object *m, *v;
	uint32_t i, n;
	char *key = NULL;

	if (mpr_enter(r) == -1 || mpr_map(r, &n) == -1)
		return -1;
	m = json_object_new_object();
	for (i = 0; i < n; i++) {
		if (j_key(r, &key) == -1)
			goto bad;
		if (json_object_object_get_ex(m, key, NULL)) {
			mpr_fail(r, "duplicate key \"%.32s\"", key);
			free(key);
			goto bad;
		}
		if (to_json(r, &v) == -1) {
			free(key);
			goto bad;
		}
		json_object_object_add(m, key, v);
		free(key);
	}
	mpr_leave(r);
	*o = m;
	return 0;
bad:
	json_object_put(m);
	return -1;
}

/* One value; *o stays NULL for nil (json-c's null is NULL). */
static int
to_json(struct mpr *r, json_object **o)
{
	const unsigned char *at = r->p;
	struct mpr_int iv;
	double d;
	bool v;
	int b;

	*o = NULL;
	if ((b = mpr_peek(r)) == -1)
		return -1;
	switch (mpr_type(b)) {
	case MPR_NIL:
		return mpr_nil(r);
	case MPR_BOOL:
		if (mpr_bool(r, &v) == -1)
			return -1;
		*o = json_object_new_boolean(v);
		return 0;
	case MPR_INT:
		if (mpr_int(r, &iv) == -1)
			return -1;
		if (iv.neg)
			*o = json_object_new_int64(iv.i);
		else if (iv.u > INT64_MAX)
			*o = json_object_new_uint64(iv.u);
		else
			*o = json_object_new_int64((int64_t)iv.u);
		return 0;
	case MPR_FLOAT:
		if (mpr_float(r, &d) == -1)
			return -1;
		if (!isfinite(d)) {
			r->p = at; /* the error points at the value */
			return mpr_fail(r, "non-finite float");
		}
		*o = json_object_new_double(d);
		return 0;
	case MPR_STR:
	case MPR_BIN:
		return j_string(r, o);
	case MPR_ARRAY:
		return j_array(r, o);
	case MPR_MAP:
		return j_map(r, o);
	case MPR_EXT:
	case MPR_INVALID:
		break;
	}
	return mpr_fail(r, "unsupported msgpack type 0x%02x", b);
}

/* A lone msgpack nil is json-c's null, which is NULL: err is then "". */
json_object *
wire_to_json(const void *buf, size_t len, char *err)
{
	struct mpr r;
	json_object *o;

	mpr_init(&r, buf, len, WJ_DEPTH_MAX, err);
	if (buf == NULL) {
		if (err != NULL)
			snprintf(err, WIRE_ERR_LEN, "no message");
		return NULL;
	}
	if (to_json(&r, &o) == -1)
		return NULL;
	if (mpr_end(&r) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- JSON to msgpack ---- */

/* depth: containers open around o. */
static int
from_json(struct mpw *pk, json_object *o, int depth)
{
	int64_t i;
	size_t k, n;

	switch (json_object_get_type(o)) {
	case json_type_null:
		mpw_nil(pk);
		return 0;
	case json_type_boolean:
		mpw_bool(pk, json_object_get_boolean(o));
		return 0;
	case json_type_double:
		mpw_double(pk, json_object_get_double(o));
		return 0;
	case json_type_int:
		/* a value above INT64_MAX is only readable as uint64 */
		i = json_object_get_int64(o);
		if (i < 0)
			mpw_int64(pk, i);
		else
			mpw_uint64(pk, json_object_get_uint64(o));
		return 0;
	case json_type_string:
		mpw_strn(pk, json_object_get_string(o),
		         (size_t)json_object_get_string_len(o));
		return 0;
	case json_type_array:
		if (depth >= WIRE_DEPTH_MAX)
			return -1;
		n = json_object_array_length(o);
		mpw_array(pk, n);
		for (k = 0; k < n; k++)
			if (from_json(pk, json_object_array_get_idx(o, k),
			              depth + 1) == -1)
				return -1;
		return 0;
	case json_type_object:
		if (depth >= WIRE_DEPTH_MAX)
			return -1;
		mpw_map(pk, (size_t)json_object_object_length(o));
		json_object_object_foreach(o, key, val)
		{
			mpw_strn(pk, key, strlen(key));
			if (from_json(pk, val, depth + 1) == -1)
				return -1;
		}
		return 0;
	}
	return -1;
}

int
wire_from_json(struct wbuf *b, json_object *o)
{
	struct mpw pk;
	size_t len0;

	if (b == NULL)
		return -1;
	len0 = b->len;
	mpw_init(&pk, b);
	if (from_json(&pk, o, 0) == -1) {
		b->len = len0;
		return -1;
	}
	return 0;
}

/* ---- records to JSON ---- */

/*
 * What wire_to_json makes of wire_enc_record's map, without the map: the
 * same keys in the same order, the same fields written (wire_field_written),
 * the same number types (a u64 above INT64_MAX is json-c's uint64, any
 * other integer its int64), and NULL where the encoder fails (a NULL
 * required record) or wire_to_json would (a string over WIRE_TEXT_MAX, a
 * map key over WIRE_LABEL_MAX, a duplicate key).
 */

/* NULL encodes as "". */
static json_object *
str_json(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > WIRE_TEXT_MAX)
		return NULL;
	return json_object_new_string_len(s != NULL ? s : "", (int)n);
}

static json_object *
u64_json(uint64_t v)
{
	return v > INT64_MAX ? json_object_new_uint64(v)
	                     : json_object_new_int64((int64_t)v);
}

/* m[key] = v, taking v; -1 (v freed) where j_map would refuse the key. */
static int
map_add(json_object *m, const char *key, json_object *v)
{
	key = key != NULL ? key : "";
	if (v == NULL || strlen(key) > WIRE_LABEL_MAX ||
	    json_object_object_get_ex(m, key, NULL)) {
		json_object_put(v);
		return -1;
	}
	json_object_object_add(m, key, v);
	return 0;
}

/* An array of n values made by one(arr, i, aux); NULL if one fails. */
static json_object *
arr_json(const void *arr, size_t n, const void *aux,
         json_object *(*one)(const void *, size_t, const void *))
{
	json_object *a = json_object_new_array_ext((int)n), *v;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((v = one(arr, i, aux)) == NULL) {
			json_object_put(a);
			return NULL;
		}
		json_object_array_add(a, v);
	}
	return a;
}

static json_object *
i64_at(const void *arr, size_t i, const void *aux)
{
	(void)aux;
	return json_object_new_int64(((const int64_t *)arr)[i]);
}

static json_object *
str_at(const void *arr, size_t i, const void *aux)
{
	(void)aux;
	return str_json(((char *const *)arr)[i]);
}

struct rec_aux {
	const struct schema *s;
	unsigned opts;
};

static json_object *
rec_at(const void *arr, size_t i, const void *aux)
{
	const struct rec_aux *ra = aux;

	return wire_json_record(ra->s, (const char *)arr + i * ra->s->size,
	                        ra->opts);
}

static json_object *
labels_json(const struct wire_kv *kv, size_t n)
{
	json_object *m = json_object_new_object();
	size_t i;

	for (i = 0; i < n; i++)
		if (map_add(m, kv[i].key, str_json(kv[i].val)) == -1) {
			json_object_put(m);
			return NULL;
		}
	return m;
}

static json_object *
counters_json(const struct wire_counter *c, size_t n)
{
	json_object *m = json_object_new_object();
	size_t i;

	for (i = 0; i < n; i++)
		if (map_add(m, c[i].name, u64_json(c[i].value)) == -1) {
			json_object_put(m);
			return NULL;
		}
	return m;
}

/* One field's value, as enc_field (wire_enc.c) writes it. */
static json_object *
field_json(const struct field *f, const void *rec, unsigned opts)
{
	char buf[WIRE_URL_REDACTED];
	struct rec_aux ra;
	const char *s;
	const void *arr = NULL;
	size_t n = 0;

	if (f->type == FT_LABELS || f->type == FT_I64ARR ||
	    f->type == FT_STRARR || f->type == FT_RECARR ||
	    f->type == FT_COUNTERS) {
		n = *CAT(rec, f->noff, size_t);
		arr = *CAT(rec, f->off, void *);
		if (n > 0 && arr == NULL)
			return NULL;
	}
	if (f->flags & F_NOSECRETS)
		opts &= ~ENC_SECRETS;
	switch (f->type) {
	case FT_STR:
		s = *CAT(rec, f->off, char *);
		if ((f->flags & F_URLPASS) && !(opts & ENC_SECRETS))
			s = wire_url_redacted(s, buf, sizeof(buf));
		return str_json(s);
	case FT_I64:
		return json_object_new_int64(*CAT(rec, f->off, int64_t));
	case FT_U64:
		return u64_json(*CAT(rec, f->off, uint64_t));
	case FT_BOOL:
		return json_object_new_boolean(*CAT(rec, f->off, bool));
	case FT_LABELS:
		return labels_json(arr, n);
	case FT_I64ARR:
		return arr_json(arr, n, NULL, i64_at);
	case FT_STRARR:
		return arr_json(arr, n, NULL, str_at);
	case FT_REC:
		return wire_json_record(f->sub, CAT(rec, f->off, void), opts);
	case FT_RECPTR:
		return wire_json_record(f->sub, *CAT(rec, f->off, void *),
		                        opts);
	case FT_RECARR:
		ra.s = f->sub;
		ra.opts = opts;
		return arr_json(arr, n, &ra, rec_at);
	case FT_COUNTERS:
		return counters_json(arr, n);
	}
	return NULL;
}

/* A record's map, as wire_enc_record writes it: `t` first, then the
 * fields written in the table's order. */
json_object *
wire_json_record(const struct schema *s, const void *rec, unsigned opts)
{
	json_object *o, *v;
	const struct field *f;
	size_t i;

	if (rec == NULL)
		return NULL;
	o = json_object_new_object();
	if (s->t != NULL)
		json_object_object_add_ex(o, "t", json_object_new_string(s->t),
		                          JSON_C_OBJECT_ADD_KEY_IS_NEW |
		                              JSON_C_OBJECT_KEY_IS_CONSTANT);
	for (i = 0; i < s->nfields; i++) {
		f = &s->fields[i];
		if (!wire_field_written(s, f, rec, opts))
			continue;
		if ((v = field_json(f, rec, opts)) == NULL) {
			json_object_put(o);
			return NULL;
		}
		/* the tables' keys are constants, and unique */
		json_object_object_add_ex(o, f->key, v,
		                          JSON_C_OBJECT_ADD_KEY_IS_NEW |
		                              JSON_C_OBJECT_KEY_IS_CONSTANT);
	}
	return o;
}

json_object *
wire_event_json(const struct wire_event *ev)
{
	const struct schema *s;

	if (ev == NULL || (s = wire_event_schema(ev->type)) == NULL)
		return NULL;
	return wire_json_record(s, ev, ENC_SECRETS);
}

char *
wire_event_json_line(const struct wire_event *ev, const char *topic)
{
	json_object *o;
	char *out;

	if ((o = wire_event_json(ev)) == NULL)
		return NULL;
	json_object_object_add(o, "topic", json_object_new_string(topic));
	out = xstrdup(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

json_object *
wire_workload_json(const struct wire_workload *wl, bool secrets)
{
	return wire_json_record(&wire_workload_schema, wl,
	                        secrets ? ENC_SECRETS : 0);
}

json_object *
wire_row_json(const struct wire_row *row)
{
	return wire_json_record(&wire_row_schema, row, ENC_SECRETS);
}
