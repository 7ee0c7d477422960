/*
 * wire_dec.c: the generic strict decoder: a record, as its schema table
 * says, read through the bounded msgpack cursor (mpack.h), into memory
 * from an arena that grows only as elements are actually read. Errors
 * name the path of keys and indexes to the bad value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wire_impl.h"

/* Label maps larger than this are checked for duplicates by sorting. */
#define WIRE_DUP_LINEAR 16

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
void
wire_cur_key(struct cur *c, const char *key, size_t len)
{
	if (c->nframes < WIRE_FRAMES) {
		c->frames[c->nframes].key = key;
		c->frames[c->nframes].keylen = len > 32 ? 32 : (int)len;
	}
	c->nframes++;
}

void
wire_cur_idx(struct cur *c, size_t idx)
{
	if (c->nframes < WIRE_FRAMES) {
		c->frames[c->nframes].key = NULL;
		c->frames[c->nframes].idx = idx;
	}
	c->nframes++;
}

void
wire_cur_pop(struct cur *c)
{
	c->nframes--;
}

int
wire_cur_string(struct cur *c, size_t limit, char **out)
{
	const char *s = NULL;
	size_t len = 0;

	if (mpr_str(&c->r, &s, &len) == -1)
		return -1;
	if (len > limit)
		return wire_fail(c, "string over %zu bytes", limit);
	if (memchr(s, '\0', len) != NULL)
		return wire_fail(c, "string contains NUL");
	if (!utf8_valid(s, len))
		return wire_fail(c, "string is not UTF-8");
	*out = len ? arena_strndup(c->a, s, len) : c->empty;
	return 0;
}

/* Makes room for element n of an array that has room for *cap. */
void *
wire_cur_grow(struct cur *c, void *arr, size_t *cap, size_t n, size_t elsz)
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
		return wire_fail(c, "duplicate label \"%.32s\"", dup);
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
		return wire_fail(c, "map key is %s, not str", mpr_tname(b));
	return wire_cur_string(c, WIRE_LABEL_MAX, out);
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
		kv = wire_cur_grow(c, kv, &cap, i, sizeof(*kv));
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
		ctr = wire_cur_grow(c, ctr, &cap, i, sizeof(*ctr));
		if (rd_label(c, true, &name) == -1)
			return -1;
		ctr[i].name = name;
		wire_cur_key(c, name, strlen(name));
		if (mpr_u64(&c->r, &ctr[i].value) == -1)
			return -1;
		wire_cur_pop(c);
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
		arr = wire_cur_grow(c, arr, &cap, i, elsz);
		wire_cur_idx(c, i);
		if (f->type == FT_I64ARR)
			rc =
			    mpr_i64(&c->r, (int64_t *)(void *)(arr + i * elsz));
		else if (f->type == FT_STRARR)
			rc = wire_cur_string(c, f->limit,
			                     (char **)(void *)(arr + i * elsz));
		else
			rc = dec_record(c, f->sub, arr + i * elsz);
		wire_cur_pop(c);
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
		return wire_cur_string(c, f->limit, AT(rec, f->off, char *));
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
	return wire_fail(c, "unknown field type");
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

	wire_cur_key(c, "t", 1);
	if (mpr_str(&c->r, &v, &vlen) == -1)
		return -1;
	if (vlen != strlen(s->t) || memcmp(v, s->t, vlen) != 0)
		return wire_fail(c, "\"%.*s\" is not %s",
		                 vlen > 32 ? 32 : (int)vlen, v, s->t);
	wire_cur_pop(c);
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
				return wire_fail(c, "duplicate key \"t\"");
			tseen = true;
			if (dec_t(c, s) == -1)
				return -1;
			continue;
		}
		if ((f = lookup(s, k, klen, &hint)) == NULL) {
			/* Unknown: skipped, bounded. Its duplicates are
			 * harmless since no reader ever sees it. */
			wire_cur_key(c, k, klen);
			if (c->strict)
				return wire_fail(c, "unknown field");
			if (mpr_skip(&c->r, WIRE_SKIP_DEPTH) == -1)
				return -1;
			wire_cur_pop(c);
			continue;
		}
		fi = (size_t)(f - s->fields);
		if (seen & (uint64_t)1 << fi)
			return wire_fail(c, "duplicate key \"%s\"", f->key);
		seen |= (uint64_t)1 << fi;
		wire_cur_key(c, f->key, klen);
		if (dec_field(c, f, rec) == -1)
			return -1;
		wire_cur_pop(c);
	}
	mpr_leave(&c->r);
	if (s->t != NULL && !tseen)
		return wire_fail(c, "missing key \"t\"");
	for (fi = 0; fi < s->nfields; fi++)
		if ((s->fields[fi].flags & F_REQ) &&
		    !(seen & (uint64_t)1 << fi))
			return wire_fail(c, "missing key \"%s\"",
			                 s->fields[fi].key);
	if (!s->sparse)
		fill_defaults(c, s, rec);
	return 0;
}

void
wire_cur_init(struct cur *c, const void *buf, size_t len, struct arena *a,
              const char *name, char *err)
{
	memset(c, 0, sizeof(*c));
	mpr_init(&c->r, buf, len, WIRE_DEPTH_MAX, err);
	c->r.where = cur_where;
	c->a = a;
	c->name = name;
}

/* A whole message: one record and nothing after it. */
int
wire_dec_top_strict(const struct schema *s, const void *buf, size_t len,
                    struct arena *a, void *out, char *err, bool strict)
{
	struct cur c;

	if (out == NULL)
		return -1;
	memset(out, 0, s->size);
	wire_cur_init(&c, buf, len, a, s->name, err);
	c.strict = strict;
	if (buf == NULL || a == NULL)
		return wire_fail(&c, "no message");
	c.empty = arena_strndup(a, "", 0);
	if (dec_record(&c, s, out) == -1 || mpr_end(&c.r) == -1) {
		memset(out, 0, s->size);
		return -1;
	}
	return 0;
}

int
wire_dec_top(const struct schema *s, const void *buf, size_t len,
             struct arena *a, void *out, char *err)
{
	return wire_dec_top_strict(s, buf, len, a, out, err, false);
}
