/*
 * wirejson.c: any msgpack value to json-c and back, for reconctl --json,
 * plugin stdin and webhook bodies. The reader is bounded like wire.c's.
 */
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpack.h"
#include "wirejson.h"

/* Replies nest a little deeper than messages (a list of event bodies). */
#define WJ_DEPTH_MAX (2 * WIRE_DEPTH_MAX)

struct jcur {
	const unsigned char *base, *p, *end;
	char *err;
	bool failed; /* a NULL value alone is JSON null, not a failure */
};

static int jfail(struct jcur *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
jfail(struct jcur *c, const char *fmt, ...)
{
	va_list ap;
	char *e;
	int n;

	c->failed = true;
	if (c->err == NULL)
		return -1;
	n = snprintf(c->err, WIRE_ERR_LEN,
	             "msgpack at byte %zu: ", (size_t)(c->p - c->base));
	if (n > 0 && n < WIRE_ERR_LEN) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, WIRE_ERR_LEN - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* peer bytes (keys) end up in logs: one line, printable */
	for (e = c->err; *e != '\0'; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = '?';
	return -1;
}

static size_t
jleft(const struct jcur *c)
{
	return (size_t)(c->end - c->p);
}

static uint64_t
jbe(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The w-byte big-endian length or count after the header byte. */
static int
jlen(struct jcur *c, int w, size_t *n)
{
	if (jleft(c) < (size_t)1 + w)
		return jfail(c, "truncated");
	*n = w ? (size_t)jbe(c->p + 1, w) : 0;
	c->p += 1 + w;
	return 0;
}

static json_object *to_json(struct jcur *, int depth);

/* str or bin body of n bytes, as a JSON string. */
static json_object *
j_string(struct jcur *c, size_t n)
{
	json_object *o;

	if (n > jleft(c)) {
		jfail(c, "string of %zu bytes exceeds the %zu bytes left", n,
		      jleft(c));
		return NULL;
	}
	if (n > WIRE_TEXT_MAX) {
		jfail(c, "string over %d bytes", WIRE_TEXT_MAX);
		return NULL;
	}
	o = json_object_new_string_len((const char *)c->p, (int)n);
	c->p += n;
	return o;
}

static json_object *
j_array(struct jcur *c, size_t n, int depth)
{
	json_object *a, *v;
	size_t i;

	if (n > jleft(c)) {
		jfail(c, "array of %zu elements exceeds the %zu bytes left", n,
		      jleft(c));
		return NULL;
	}
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		if ((v = to_json(c, depth + 1)) == NULL && c->failed) {
			json_object_put(a);
			return NULL;
		}
		json_object_array_add(a, v);
	}
	return a;
}

static json_object *
j_map(struct jcur *c, size_t n, int depth)
{
	json_object *m, *v;
	size_t i, klen = 0;
	char *key;
	int b, w;

	if (n > jleft(c) / 2) {
		jfail(c, "map of %zu entries exceeds the %zu bytes left", n,
		      jleft(c));
		return NULL;
	}
	m = json_object_new_object();
	for (i = 0; i < n; i++) {
		b = c->p < c->end ? *c->p : -1;
		if (b >= 0xa0 && b <= 0xbf) {
			klen = (size_t)b & 0x1f;
			c->p++;
		} else if (b >= 0xd9 && b <= 0xdb) {
			w = 1 << (b - 0xd9);
			if (jlen(c, w, &klen) == -1)
				goto bad;
		} else {
			jfail(c, "%s",
			      b < 0 ? "truncated" : "map key is not a str");
			goto bad;
		}
		if (klen > jleft(c) || klen > WIRE_LABEL_MAX) {
			jfail(c, "map key of %zu bytes too long", klen);
			goto bad;
		}
		if (memchr(c->p, '\0', klen) != NULL) {
			jfail(c, "map key contains NUL");
			goto bad;
		}
		if ((key = strndup((const char *)c->p, klen)) == NULL)
			abort();
		c->p += klen;
		if (json_object_object_get_ex(m, key, NULL)) {
			jfail(c, "duplicate key \"%.32s\"", key);
			free(key);
			goto bad;
		}
		if ((v = to_json(c, depth + 1)) == NULL && c->failed) {
			free(key);
			goto bad;
		}
		json_object_object_add(m, key, v);
		free(key);
	}
	return m;
bad:
	json_object_put(m);
	return NULL;
}

static json_object *
to_json(struct jcur *c, int depth)
{
	size_t n = 0;
	uint64_t u;
	int64_t i;
	uint32_t f32;
	float f;
	double d;
	int b, w;

	if (c->p >= c->end) {
		jfail(c, "truncated");
		return NULL;
	}
	b = *c->p;
	if ((b <= 0x9f && b >= 0x80) || (b >= 0xdc && b <= 0xdf)) {
		if (depth >= WJ_DEPTH_MAX) {
			jfail(c, "nested deeper than %d", WJ_DEPTH_MAX);
			return NULL;
		}
	}
	if (b <= 0x7f) {
		c->p++;
		return json_object_new_int64(b);
	}
	if (b >= 0xe0) {
		c->p++;
		return json_object_new_int64((int8_t)b);
	}
	if (b <= 0x8f) {
		c->p++;
		return j_map(c, (size_t)b & 0x0f, depth);
	}
	if (b <= 0x9f) {
		c->p++;
		return j_array(c, (size_t)b & 0x0f, depth);
	}
	if (b <= 0xbf) {
		c->p++;
		return j_string(c, (size_t)b & 0x1f);
	}
	switch (b) {
	case 0xc0:
		c->p++;
		return json_object_new_null();
	case 0xc2:
	case 0xc3:
		c->p++;
		return json_object_new_boolean(b == 0xc3);
	case 0xc4: /* bin 8/16/32 */
	case 0xc5:
	case 0xc6:
		if (jlen(c, 1 << (b - 0xc4), &n) == -1)
			return NULL;
		return j_string(c, n);
	case 0xd9: /* str 8/16/32 */
	case 0xda:
	case 0xdb:
		if (jlen(c, 1 << (b - 0xd9), &n) == -1)
			return NULL;
		return j_string(c, n);
	case 0xdc:
	case 0xdd:
		if (jlen(c, b == 0xdc ? 2 : 4, &n) == -1)
			return NULL;
		return j_array(c, n, depth);
	case 0xde:
	case 0xdf:
		if (jlen(c, b == 0xde ? 2 : 4, &n) == -1)
			return NULL;
		return j_map(c, n, depth);
	case 0xca:
	case 0xcb:
		w = b == 0xca ? 4 : 8;
		if (jleft(c) < (size_t)1 + w) {
			jfail(c, "truncated");
			return NULL;
		}
		u = jbe(c->p + 1, w);
		if (w == 4) {
			f32 = (uint32_t)u;
			memcpy(&f, &f32, sizeof(f));
			d = f;
		} else {
			memcpy(&d, &u, sizeof(d));
		}
		if (!isfinite(d)) {
			jfail(c, "non-finite float");
			return NULL;
		}
		c->p += 1 + w;
		return json_object_new_double(d);
	case 0xcc: /* uint 8..64 */
	case 0xcd:
	case 0xce:
	case 0xcf:
		w = 1 << (b - 0xcc);
		if (jleft(c) < (size_t)1 + w) {
			jfail(c, "truncated");
			return NULL;
		}
		u = jbe(c->p + 1, w);
		c->p += 1 + w;
		if (u > INT64_MAX)
			return json_object_new_uint64(u);
		return json_object_new_int64((int64_t)u);
	case 0xd0: /* int 8..64 */
	case 0xd1:
	case 0xd2:
	case 0xd3:
		w = 1 << (b - 0xd0);
		if (jleft(c) < (size_t)1 + w) {
			jfail(c, "truncated");
			return NULL;
		}
		u = jbe(c->p + 1, w);
		c->p += 1 + w;
		if (w < 8 && (u & (uint64_t)1 << (8 * w - 1)))
			u -= (uint64_t)1 << (8 * w); /* sign-extend */
		i = (int64_t)u;
		return json_object_new_int64(i);
	}
	jfail(c, "unsupported msgpack type 0x%02x", b);
	return NULL;
}

/* A lone msgpack nil is json-c's null, which is NULL: err is then "". */
json_object *
wire_to_json(const void *buf, size_t len, char *err)
{
	struct jcur c = {.base = buf, .p = buf, .end = NULL, .err = err};
	json_object *o;

	if (err != NULL)
		err[0] = '\0';
	if (buf == NULL) {
		if (err != NULL)
			snprintf(err, WIRE_ERR_LEN, "no message");
		return NULL;
	}
	c.end = c.p + len;
	if ((o = to_json(&c, 0)) == NULL && c.failed)
		return NULL;
	if (c.p != c.end) {
		jfail(&c, "%zu trailing bytes", jleft(&c));
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
