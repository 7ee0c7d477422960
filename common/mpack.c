/*
 * mpack.c: recon's msgpack writer and reader (see mpack.h). msgpack-c's
 * packer hands every header and body to a callback, which made encoding
 * most of the cost of a store write; this writer writes in place. The
 * reader is the one strict cursor every decoder reads through. Over 600
 * lines because it is the whole format both ways: each form the writer
 * picks sits in the same file as the reader's reading of it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpack.h"
#include "util.h"

/* ---- the writer's buffer (wire.h) ---- */

/* Room for n more bytes. */
static void
wbuf_grow(struct wbuf *b, size_t n)
{
	size_t ncap;

	if (b->cap - b->len >= n)
		return;
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len < n) {
		if (ncap > SIZE_MAX / 2)
			abort(); /* no buffer of ours is that large */
		ncap *= 2;
	}
	b->data = xrealloc(b->data, ncap);
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

/* ---- writer ---- */

void
mpw_init(struct mpw *pk, struct wbuf *b)
{
	pk->b = b;
}

/* n bytes at the end of the buffer, to be filled in */
static unsigned char *
mpw_room(struct mpw *pk, size_t n)
{
	return wbuf_room(pk->b, n);
}

static void
mpw_be(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* A code byte followed by n big-endian bytes of v. */
static void
mpw_code(struct mpw *pk, unsigned char code, uint64_t v, int n)
{
	unsigned char *p = mpw_room(pk, 1 + (size_t)n);

	p[0] = code;
	mpw_be(p + 1, v, n);
}

void
mpw_uint64(struct mpw *pk, uint64_t v)
{
	if (v < 128)
		*mpw_room(pk, 1) = (unsigned char)v;
	else if (v < 1u << 8)
		mpw_code(pk, 0xcc, v, 1);
	else if (v < 1u << 16)
		mpw_code(pk, 0xcd, v, 2);
	else if (v < 1ull << 32)
		mpw_code(pk, 0xce, v, 4);
	else
		mpw_code(pk, 0xcf, v, 8);
}

void
mpw_int64(struct mpw *pk, int64_t v)
{
	if (v >= -32 && v < 128)
		*mpw_room(pk, 1) = (unsigned char)(v & 0xff); /* fixint */
	else if (v >= 0)
		mpw_uint64(pk, (uint64_t)v);
	else if (v >= -(1 << 7))
		mpw_code(pk, 0xd0, (uint64_t)v, 1);
	else if (v >= -(1 << 15))
		mpw_code(pk, 0xd1, (uint64_t)v, 2);
	else if (v >= -(1ll << 31))
		mpw_code(pk, 0xd2, (uint64_t)v, 4);
	else
		mpw_code(pk, 0xd3, (uint64_t)v, 8);
}

/* A map or array header: fix form below 16 entries. */
static void
mpw_count(struct mpw *pk, unsigned char fix, unsigned char c16, size_t n)
{
	if (n < 16)
		*mpw_room(pk, 1) = (unsigned char)(fix | n);
	else if (n < 1u << 16)
		mpw_code(pk, c16, n, 2);
	else
		mpw_code(pk, (unsigned char)(c16 + 1), n, 4);
}

void
mpw_map(struct mpw *pk, size_t n)
{
	mpw_count(pk, 0x80, 0xde, n);
}

void
mpw_array(struct mpw *pk, size_t n)
{
	mpw_count(pk, 0x90, 0xdc, n);
}

void
mpw_strn(struct mpw *pk, const char *s, size_t n)
{
	unsigned char *p;

	if (n < 32) {
		p = mpw_room(pk, 1 + n);
		*p++ = (unsigned char)(0xa0 | n);
	} else if (n < 1u << 8) {
		p = mpw_room(pk, 2 + n);
		p[0] = 0xd9;
		p[1] = (unsigned char)n;
		p += 2;
	} else if (n < 1u << 16) {
		p = mpw_room(pk, 3 + n);
		p[0] = 0xda;
		mpw_be(p + 1, n, 2);
		p += 3;
	} else {
		p = mpw_room(pk, 5 + n);
		p[0] = 0xdb;
		mpw_be(p + 1, n, 4);
		p += 5;
	}
	if (n > 0)
		memcpy(p, s, n);
}

void
mpw_str(struct mpw *pk, const char *s)
{
	mpw_strn(pk, s, s != NULL ? strlen(s) : 0);
}

void
mpw_bin(struct mpw *pk, const void *s, size_t n)
{
	if (n > UINT32_MAX)
		abort(); /* no message of ours is that large */
	if (n < 1u << 8)
		mpw_code(pk, 0xc4, n, 1);
	else if (n < 1u << 16)
		mpw_code(pk, 0xc5, n, 2);
	else
		mpw_code(pk, 0xc6, n, 4);
	wbuf_append(pk->b, s, n);
}

void
mpw_bool(struct mpw *pk, bool v)
{
	*mpw_room(pk, 1) = v ? 0xc3 : 0xc2;
}

void
mpw_double(struct mpw *pk, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	mpw_code(pk, 0xcb, bits, 8);
}

void
mpw_nil(struct mpw *pk)
{
	*mpw_room(pk, 1) = 0xc0;
}

/* ---- reader ---- */

void
mpr_init(struct mpr *r, const void *buf, size_t len, int depth_max, char *err)
{
	memset(r, 0, sizeof(*r));
	r->base = r->p = buf;
	r->end = r->p != NULL ? r->p + len : NULL;
	r->depth_max = depth_max;
	r->err = err;
	if (err != NULL)
		err[0] = '\0';
}

int
mpr_fail(struct mpr *r, const char *fmt, ...)
{
	char *e = r->err;
	size_t n;
	va_list ap;

	if (e == NULL)
		return -1;
	/* where first, then the reason, cut at WIRE_ERR_LEN */
	if (r->where != NULL)
		n = r->where(r, e, WIRE_ERR_LEN);
	else
		n = (size_t)snprintf(e, WIRE_ERR_LEN, "msgpack at byte %zu",
		                     (size_t)(r->p - r->base));
	if (n < WIRE_ERR_LEN)
		n += (size_t)snprintf(e + n, WIRE_ERR_LEN - n, ": ");
	if (n < WIRE_ERR_LEN) {
		va_start(ap, fmt);
		vsnprintf(e + n, WIRE_ERR_LEN - n, fmt, ap);
		va_end(ap);
	}
	/* peer bytes (keys, t) end up in logs and in error replies: one
	 * line of printable ASCII, so that no cut or stray byte makes the
	 * reply's message anything but UTF-8 (found by fuzz_store_api) */
	for (; *e != '\0'; e++)
		if ((unsigned char)*e < 0x20 || (unsigned char)*e >= 0x7f)
			*e = '?';
	return -1;
}

size_t
mpr_left(const struct mpr *r)
{
	return (size_t)(r->end - r->p);
}

int
mpr_end(struct mpr *r)
{
	if (r->p != r->end)
		return mpr_fail(r, "%zu trailing bytes", mpr_left(r));
	return 0;
}

static uint64_t
mpr_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

enum mpr_type
mpr_type(int b)
{
	if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3))
		return MPR_INT;
	if (b <= 0x8f || b == 0xde || b == 0xdf)
		return MPR_MAP;
	if (b <= 0x9f || b == 0xdc || b == 0xdd)
		return MPR_ARRAY;
	if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb))
		return MPR_STR;
	switch (b) {
	case 0xc0:
		return MPR_NIL;
	case 0xc1:
		return MPR_INVALID;
	case 0xc2:
	case 0xc3:
		return MPR_BOOL;
	case 0xc4:
	case 0xc5:
	case 0xc6:
		return MPR_BIN;
	case 0xca:
	case 0xcb:
		return MPR_FLOAT;
	}
	return MPR_EXT; /* 0xc7-0xc9, 0xd4-0xd8 */
}

const char *
mpr_tname(int b)
{
	static const char *const names[] = {
	    [MPR_INT] = "int",     [MPR_NIL] = "nil",
	    [MPR_BOOL] = "bool",   [MPR_FLOAT] = "float",
	    [MPR_STR] = "str",     [MPR_BIN] = "bin",
	    [MPR_ARRAY] = "array", [MPR_MAP] = "map",
	    [MPR_EXT] = "ext",     [MPR_INVALID] = "invalid byte 0xc1",
	};

	return names[mpr_type(b)];
}

int
mpr_peek(struct mpr *r)
{
	if (r->p >= r->end)
		return mpr_fail(r, "truncated");
	return *r->p;
}

/* n bytes of a fixed-size header or body, counting the header byte. */
static int
mpr_need(struct mpr *r, size_t n)
{
	if (mpr_left(r) < n)
		return mpr_fail(r, "truncated");
	return 0;
}

/* The header byte and a w-byte big-endian length or count after it. */
static int
mpr_len(struct mpr *r, int w, uint64_t *n)
{
	if (mpr_need(r, 1 + (size_t)w) == -1)
		return -1;
	*n = mpr_be(r->p + 1, w);
	r->p += 1 + w;
	return 0;
}

/* A map or array header: fix form (low nibble) or 16/32-bit count. */
static int
mpr_count(struct mpr *r, enum mpr_type want, uint32_t *n)
{
	uint64_t v;
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	if (mpr_type(b) != want)
		return mpr_fail(r, "expected %s, got %s",
		                want == MPR_MAP ? "map" : "array",
		                mpr_tname(b));
	if (b < 0xa0) {
		*n = (uint32_t)b & 0x0f;
		r->p++;
		return 0;
	}
	/* 0xdc/0xde: 16 bits; 0xdd/0xdf: 32 */
	if (mpr_len(r, b & 1 ? 4 : 2, &v) == -1)
		return -1;
	*n = (uint32_t)v;
	return 0;
}

int
mpr_map(struct mpr *r, uint32_t *n)
{
	if (mpr_count(r, MPR_MAP, n) == -1)
		return -1;
	/* each entry is a key and a value, at least one byte each */
	if ((uint64_t)*n * 2 > mpr_left(r))
		return mpr_fail(r,
		                "map of %u entries exceeds the %zu bytes left",
		                *n, mpr_left(r));
	return 0;
}

int
mpr_array(struct mpr *r, uint32_t *n)
{
	if (mpr_count(r, MPR_ARRAY, n) == -1)
		return -1;
	if (*n > mpr_left(r))
		return mpr_fail(
		    r, "array of %u elements exceeds the %zu bytes left", *n,
		    mpr_left(r));
	return 0;
}

int
mpr_enter(struct mpr *r)
{
	if (++r->depth > r->depth_max)
		return mpr_fail(r, "nested deeper than %d", r->depth_max);
	return 0;
}

void
mpr_leave(struct mpr *r)
{
	r->depth--;
}

int
mpr_strhdr(struct mpr *r, bool bin, size_t *len)
{
	enum mpr_type t;
	uint64_t v;
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	t = mpr_type(b);
	if (t != MPR_STR && !(bin && t == MPR_BIN))
		return mpr_fail(r, "expected str, got %s", mpr_tname(b));
	if (b >= 0xa0 && b <= 0xbf) {
		*len = (size_t)b & 0x1f;
		r->p++;
		return 0;
	}
	/* str 8/16/32 (0xd9-0xdb), bin 8/16/32 (0xc4-0xc6) */
	if (mpr_len(r, 1 << (b - (t == MPR_STR ? 0xd9 : 0xc4)), &v) == -1)
		return -1;
	*len = (size_t)v;
	return 0;
}

int
mpr_body(struct mpr *r, size_t len, const char *what, const char **p)
{
	if (len > mpr_left(r))
		return mpr_fail(r, "%s of %zu bytes exceeds the %zu bytes left",
		                what, len, mpr_left(r));
	*p = (const char *)r->p;
	r->p += len;
	return 0;
}

int
mpr_bin(struct mpr *r, const void **p, size_t *len)
{
	const char *body = NULL;
	uint64_t v;
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	if (mpr_type(b) != MPR_BIN)
		return mpr_fail(r, "expected bin, got %s", mpr_tname(b));
	/* bin 8/16/32 (0xc4-0xc6) */
	if (mpr_len(r, 1 << (b - 0xc4), &v) == -1 ||
	    mpr_body(r, (size_t)v, "bin", &body) == -1)
		return -1;
	*p = body;
	*len = (size_t)v;
	return 0;
}

int
mpr_str_any(struct mpr *r, const char **s, size_t *len)
{
	if (mpr_strhdr(r, false, len) == -1)
		return -1;
	return mpr_body(r, *len, "string", s);
}

int
mpr_key_any(struct mpr *r, const char **s, size_t *len)
{
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	if (mpr_type(b) != MPR_STR)
		return mpr_fail(r, "map key is %s, not str", mpr_tname(b));
	return mpr_str_any(r, s, len);
}

int
mpr_int(struct mpr *r, struct mpr_int *v)
{
	uint64_t raw, sign;
	int b, w;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	memset(v, 0, sizeof(*v));
	if (b <= 0x7f) {
		v->u = (uint64_t)b;
		r->p++;
		return 0;
	}
	if (b >= 0xe0) {
		v->neg = true;
		v->i = (int8_t)b;
		r->p++;
		return 0;
	}
	if (b >= 0xcc && b <= 0xcf)
		return mpr_len(r, 1 << (b - 0xcc), &v->u);
	if (b < 0xd0 || b > 0xd3)
		return mpr_fail(r, "expected int, got %s", mpr_tname(b));
	w = 1 << (b - 0xd0);
	if (mpr_len(r, w, &raw) == -1)
		return -1;
	sign = (uint64_t)1 << (8 * w - 1);
	if (raw & sign) {
		/* sign-extend without signed overflow */
		v->neg = true;
		v->i = w == 8 ? (int64_t)raw : (int64_t)(raw - (sign << 1));
	} else {
		v->u = raw;
	}
	return 0;
}

int
mpr_i64(struct mpr *r, int64_t *out)
{
	struct mpr_int v;

	if (mpr_int(r, &v) == -1)
		return -1;
	if (v.neg) {
		*out = v.i;
		return 0;
	}
	if (v.u > INT64_MAX)
		return mpr_fail(r, "integer %llu out of range",
		                (unsigned long long)v.u);
	*out = (int64_t)v.u;
	return 0;
}

int
mpr_u64(struct mpr *r, uint64_t *out)
{
	struct mpr_int v;

	if (mpr_int(r, &v) == -1)
		return -1;
	if (v.neg)
		return mpr_fail(r, "negative integer %lld", (long long)v.i);
	*out = v.u;
	return 0;
}

int
mpr_bool(struct mpr *r, bool *out)
{
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	if (mpr_type(b) != MPR_BOOL)
		return mpr_fail(r, "expected bool, got %s", mpr_tname(b));
	*out = b == 0xc3;
	r->p++;
	return 0;
}

int
mpr_nil(struct mpr *r)
{
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	if (b != 0xc0)
		return mpr_fail(r, "expected nil, got %s", mpr_tname(b));
	r->p++;
	return 0;
}

int
mpr_float(struct mpr *r, double *out)
{
	uint64_t bits;
	uint32_t b32;
	float f;
	int b;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	if (mpr_type(b) != MPR_FLOAT)
		return mpr_fail(r, "expected float, got %s", mpr_tname(b));
	if (mpr_len(r, b == 0xca ? 4 : 8, &bits) == -1)
		return -1;
	if (b == 0xca) {
		b32 = (uint32_t)bits;
		memcpy(&f, &b32, sizeof(f));
		*out = f;
	} else {
		memcpy(out, &bits, sizeof(*out));
	}
	return 0;
}

int
mpr_skip(struct mpr *r, int budget)
{
	struct mpr_int iv;
	const char *s;
	uint64_t len;
	size_t slen;
	uint32_t i, n;
	bool ismap;
	int b, w;

	if ((b = mpr_peek(r)) == -1)
		return -1;
	switch (mpr_type(b)) {
	case MPR_INT:
		return mpr_int(r, &iv);
	case MPR_STR:
		return mpr_str(r, &s, &slen);
	case MPR_MAP:
	case MPR_ARRAY:
		ismap = mpr_type(b) == MPR_MAP;
		if (budget <= 0)
			return mpr_fail(r,
			                "nested deeper than the schema allows");
		if ((ismap ? mpr_map(r, &n) : mpr_array(r, &n)) == -1 ||
		    mpr_enter(r) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if ((ismap && mpr_key(r, &s, &slen) == -1) ||
			    mpr_skip(r, budget - 1) == -1)
				return -1;
		mpr_leave(r);
		return 0;
	case MPR_NIL:
	case MPR_BOOL:
		r->p++;
		return 0;
	case MPR_FLOAT:
		return mpr_len(r, b == 0xca ? 4 : 8, &len);
	case MPR_BIN:
	case MPR_EXT:
		if (b >= 0xd4 && b <= 0xd8) { /* fixext 1..16: type, data */
			if (mpr_need(r, 2 + ((size_t)1 << (b - 0xd4))) == -1)
				return -1;
			r->p += 2 + (1 << (b - 0xd4));
			return 0;
		}
		/* bin 8/16/32: length, data; ext 8/16/32: length, type, data */
		w = b <= 0xc6 ? 1 << (b - 0xc4) : 1 << (b - 0xc7);
		if (mpr_len(r, w, &len) == -1)
			return -1;
		return mpr_body(r, (size_t)len + (b >= 0xc7 ? 1 : 0),
		                mpr_tname(b), &s);
	case MPR_INVALID:
		break;
	}
	return mpr_fail(r, "invalid byte 0x%02x", b);
}
