/*
 * jscan.c: JSON's grammar, checked strictly in place (jscan.h). Strings,
 * most of a list's bytes, are scanned 8 bytes a step; their escapes are
 * decoded only when a caller copies or compares one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"

/* Bytes a string holds as they are: not '"', '\\' nor a control one. */
static const unsigned char str_plain[256] = {
    [0x20] = 1,
    [0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0xff] = 1,
};

/*
 * The high bit of each of the 8 bytes at p that is '"', '\\' or a control
 * character, 0 if none is (the zero-byte and less-than tests of "Bit
 * Twiddling Hacks"; above the first such byte, bits may be set wrongly).
 * Strings are most of a list: they go 8 bytes a step until one ends.
 */
static uint64_t
str_stop8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, highs = ones * 0x80;
	uint64_t x, q, b;

	memcpy(&x, p, sizeof(x));
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return (((q - ones) & ~q) | ((b - ones) & ~b) |
	        ((x - ones * 0x20) & ~x)) &
	       highs;
}

static int
truncated(struct jscan *s)
{
	s->trunc = true;
	return -1;
}

static int
syntax(struct jscan *s, const unsigned char *p, const char *why)
{
	s->at = (size_t)(p - s->base);
	s->why = why;
	return -1;
}

void
jscan_init(struct jscan *s, const char *body, size_t len, int depth_max)
{
	memset(s, 0, sizeof(*s));
	s->p = s->base = (const unsigned char *)body;
	s->end = s->p + len;
	s->depth_max = depth_max;
}

void
jscan_ws(struct jscan *s)
{
	const unsigned char *p = s->p;

	while (p < s->end &&
	       (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	s->p = p;
}

static bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* A string at s->p (its '"'). */
static int
string(struct jscan *s, struct jscan_val *v)
{
	const unsigned char *p = s->p + 1, *end = s->end;
	uint64_t m;
	int i;

	v->kind = JSCAN_STRING;
	v->at = s->p;
	v->s = p;
	v->esc = false;
	for (;;) {
		while (end - p >= 8) {
			if ((m = str_stop8(p)) != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				p += __builtin_ctzll(m) / 8; /* the first */
#endif
				break;
			}
			p += 8;
		}
		while (p < end && str_plain[*p])
			p++;
		if (p == end)
			return truncated(s);
		if (*p == '"')
			break;
		if (*p != '\\')
			return syntax(s, p, "control character in a string");
		v->esc = true;
		if (++p == end)
			return truncated(s);
		switch (*p) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			p++;
			break;
		case 'u':
			for (i = 1; i <= 4; i++) {
				if (p + i == end)
					return truncated(s);
				if (!is_hex(p[i]))
					return syntax(
					    s, p + i,
					    "bad \\u escape in a string");
			}
			p += 5;
			break;
		default:
			return syntax(s, p, "bad escape in a string");
		}
	}
	v->slen = (size_t)(p - v->s);
	s->p = p + 1;
	return 0;
}

/* A number as JSON's grammar has it; an integer is one without fraction
 * or exponent, saturated as strtoll and json-c's int64 getter would. */
static int
number(struct jscan *s, struct jscan_val *v)
{
	const unsigned char *p = s->p, *end = s->end;
	uint64_t mag = 0;
	bool neg = false, big = false;

	v->at = p;
	if (*p == '-') {
		neg = true;
		if (++p == end)
			return truncated(s);
	}
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (mag > (UINT64_MAX - 9) / 10)
				big = true;
			else
				mag = mag * 10 + (uint64_t)(*p - '0');
		}
	} else {
		return syntax(s, p, "number expected");
	}
	v->kind = JSCAN_INT;
	if (p < end && *p == '.') {
		v->kind = JSCAN_DOUBLE;
		if (++p == end)
			return truncated(s);
		if (*p < '0' || *p > '9')
			return syntax(s, p, "digit expected after '.'");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		v->kind = JSCAN_DOUBLE;
		if (++p == end)
			return truncated(s);
		if (*p == '+' || *p == '-')
			if (++p == end)
				return truncated(s);
		if (*p < '0' || *p > '9')
			return syntax(s, p, "digit expected in an exponent");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (neg)
		v->i = big || mag > (uint64_t)INT64_MAX + 1
		           ? INT64_MIN
		           : (int64_t)(0 - mag);
	else
		v->i =
		    big || mag > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)mag;
	s->p = p;
	return 0;
}

static int
literal(struct jscan *s, struct jscan_val *v, const char *word,
        enum jscan_kind kind)
{
	const unsigned char *p = s->p;
	size_t i, n = strlen(word);

	for (i = 0; i < n; i++) {
		if (p + i == s->end)
			return truncated(s);
		if (p[i] != (unsigned char)word[i])
			return syntax(s, p + i, "unexpected character");
	}
	v->kind = kind;
	v->at = p;
	s->p = p + n;
	return 0;
}

/*
 * Steps past the separator after an array's '[' or '{' (*first) or its
 * previous item: 1 with s->p at the next item, 0 past the closing
 * bracket, -1 on an error. A ',' must be followed by an item.
 */
static int
sep_step(struct jscan *s, bool *first, char close, const char *expected)
{
	jscan_ws(s);
	if (s->p == s->end)
		return truncated(s);
	if (*s->p == close) {
		*first = false;
		s->p++;
		return 0;
	}
	if (*first) {
		*first = false;
		return 1;
	}
	if (*s->p != ',')
		return syntax(s, s->p, expected);
	s->p++;
	jscan_ws(s);
	if (s->p == s->end)
		return truncated(s);
	return 1;
}

int
jscan_arr_step(struct jscan *s, int depth, bool *first)
{
	bool was_first = *first;
	int r;

	if ((r = sep_step(s, first, ']', "',' or ']' expected")) != 1)
		return r;
	if (!was_first && *s->p == ']')
		return syntax(s, s->p, "']' after ','");
	if (depth + 1 >= s->depth_max)
		return syntax(s, s->p, "nesting too deep");
	return 1;
}

int
jscan_obj_step(struct jscan *s, int depth, bool *first, struct jscan_val *k)
{
	int r;

	if ((r = sep_step(s, first, '}', "',' or '}' expected")) != 1)
		return r;
	if (*s->p != '"')
		return syntax(s, s->p, "quoted member name expected");
	if (string(s, k) == -1)
		return -1;
	jscan_ws(s);
	if (s->p == s->end)
		return truncated(s);
	if (*s->p != ':')
		return syntax(s, s->p, "':' expected");
	s->p++;
	jscan_ws(s);
	if (s->p == s->end)
		return truncated(s);
	if (depth + 1 >= s->depth_max)
		return syntax(s, s->p, "nesting too deep");
	return 1;
}

int
jscan_value(struct jscan *s, int depth, struct jscan_val *v)
{
	struct jscan_val sub;
	bool first = true;
	int rc;

	switch (*s->p) {
	case '"':
		return string(s, v);
	case '{':
		v->kind = JSCAN_OBJECT;
		v->at = s->p++;
		v->n = 0;
		while ((rc = jscan_obj_step(s, depth, &first, &sub)) == 1) {
			if (jscan_value(s, depth + 1, &sub) == -1)
				return -1;
			v->n++;
		}
		return rc;
	case '[':
		v->kind = JSCAN_ARRAY;
		v->at = s->p++;
		v->n = 0;
		while ((rc = jscan_arr_step(s, depth, &first)) == 1) {
			if (jscan_value(s, depth + 1, &sub) == -1)
				return -1;
			v->n++;
		}
		return rc;
	case 't':
		return literal(s, v, "true", JSCAN_BOOL);
	case 'f':
		return literal(s, v, "false", JSCAN_BOOL);
	case 'n':
		return literal(s, v, "null", JSCAN_NULL);
	case '-':
	case '0' ... '9':
		return number(s, v);
	default:
		return syntax(s, s->p, "unexpected character");
	}
}

/*
 * A scanned string's bytes as they decode, one at a time, without a
 * buffer for all of them. A surrogate without its pair becomes U+FFFD, as
 * json-c has it.
 */
struct dec {
	const unsigned char *p, *end;
	uint32_t hi; /* a high surrogate waiting for its low one */
	unsigned char buf[8];
	unsigned nbuf, ibuf;
};

static void
dec_init(struct dec *d, const struct jscan_val *v)
{
	d->p = v->s;
	d->end = v->s + v->slen;
	d->hi = 0;
	d->nbuf = d->ibuf = 0;
}

static void
dec_put(struct dec *d, uint32_t cp)
{
	unsigned char *b = d->buf + d->nbuf;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		d->nbuf += 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		d->nbuf += 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		d->nbuf += 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		d->nbuf += 4;
	}
}

static uint32_t
hex4(const unsigned char *p)
{
	uint32_t cp = 0;
	int i;

	for (i = 0; i < 4; i++)
		cp = cp << 4 | (uint32_t)(p[i] <= '9'   ? p[i] - '0'
		                          : p[i] <= 'F' ? p[i] - 'A' + 10
		                                        : p[i] - 'a' + 10);
	return cp;
}

/* Decodes the next piece of the string (the scanner checked it). */
static void
dec_fill(struct dec *d)
{
	const unsigned char *p = d->p;
	uint32_t cp;

	if (p[0] == '\\' && p[1] == 'u') {
		cp = hex4(p + 2);
		d->p += 6;
		if (d->hi != 0 && (cp & 0xfc00) == 0xdc00) {
			dec_put(d, (((d->hi & 0x3ff) << 10) | (cp & 0x3ff)) +
			               0x10000);
			d->hi = 0;
			return;
		}
		if (d->hi != 0) {
			dec_put(d, 0xfffd);
			d->hi = 0;
		}
		if ((cp & 0xfc00) == 0xd800)
			d->hi = cp;
		else
			dec_put(d, (cp & 0xfc00) == 0xdc00 ? 0xfffd : cp);
		return;
	}
	if (d->hi != 0) {
		dec_put(d, 0xfffd);
		d->hi = 0;
		return;
	}
	d->p += *p == '\\' ? 2 : 1;
	if (*p != '\\') {
		d->buf[d->nbuf++] = *p;
		return;
	}
	switch (p[1]) {
	case 'b':
		d->buf[d->nbuf++] = '\b';
		break;
	case 'f':
		d->buf[d->nbuf++] = '\f';
		break;
	case 'n':
		d->buf[d->nbuf++] = '\n';
		break;
	case 'r':
		d->buf[d->nbuf++] = '\r';
		break;
	case 't':
		d->buf[d->nbuf++] = '\t';
		break;
	default: /* '"', '\\', '/' */
		d->buf[d->nbuf++] = p[1];
		break;
	}
}

/* The next decoded byte, or -1 at the end of the string. */
static int
dec_byte(struct dec *d)
{
	while (d->ibuf == d->nbuf) {
		d->ibuf = d->nbuf = 0;
		if (d->p == d->end) {
			if (d->hi == 0)
				return -1;
			dec_put(d, 0xfffd);
			d->hi = 0;
		} else {
			dec_fill(d);
		}
	}
	return d->buf[d->ibuf++];
}

size_t
jscan_copy(const struct jscan_val *v, char *out, size_t cap, bool key,
           bool *nul)
{
	struct dec d;
	size_t n = 0;
	int c;

	*nul = false;
	if (!v->esc) { /* raw NULs fail the scan: none here */
		memcpy(out, v->s, v->slen < cap ? v->slen : cap);
		return v->slen <= cap ? v->slen : cap + 1;
	}
	dec_init(&d, v);
	while ((c = dec_byte(&d)) != -1) {
		if (c == 0) {
			*nul = true;
			if (key)
				break;
		}
		if (n == cap)
			return cap + 1;
		out[n++] = (char)c;
	}
	return n;
}

bool
jscan_key_is(const struct jscan_val *k, const char *w, size_t n)
{
	struct dec d;
	size_t i;
	int c;

	if (!k->esc)
		return k->slen == n && k->s[0] == (unsigned char)w[0] &&
		       memcmp(k->s, w, n) == 0;
	dec_init(&d, k);
	for (i = 0; i < n; i++)
		if (dec_byte(&d) != (unsigned char)w[i])
			return false;
	c = dec_byte(&d);
	return c == -1 || c == 0;
}

bool
jscan_key_starts(const struct jscan_val *k, const char *w, size_t n)
{
	struct dec d;
	size_t i;

	if (!k->esc)
		return k->slen >= n && memcmp(k->s, w, n) == 0;
	dec_init(&d, k);
	for (i = 0; i < n; i++)
		if (dec_byte(&d) != (unsigned char)w[i])
			return false;
	return true;
}

bool
jscan_key_same(const struct jscan_val *a, const struct jscan_val *b)
{
	struct dec da, db;
	int ca, cb;

	if (!a->esc && !b->esc)
		return a->slen == b->slen && memcmp(a->s, b->s, a->slen) == 0;
	dec_init(&da, a);
	dec_init(&db, b);
	do {
		if ((ca = dec_byte(&da)) == 0)
			ca = -1;
		if ((cb = dec_byte(&db)) == 0)
			cb = -1;
		if (ca != cb)
			return false;
	} while (ca != -1);
	return true;
}

void
jscan_error(const struct jscan *s, char *err, size_t errlen)
{
	if (s->trunc)
		snprintf(err, errlen, "truncated JSON (%zu bytes)",
		         (size_t)(s->end - s->base));
	else
		snprintf(err, errlen, "bad JSON at byte %zu: %s", s->at,
		         s->why);
}

int
jscan_end(struct jscan *s)
{
	jscan_ws(s);
	if (s->p != s->end)
		return syntax(s, s->p, "trailing bytes after the value");
	return 0;
}

int
jscan_check(const char *body, size_t len, int depth, char *err, size_t errlen)
{
	struct jscan s;
	struct jscan_val v;

	jscan_init(&s, body, len, depth);
	jscan_ws(&s);
	if (s.p == s.end)
		s.trunc = true;
	if (s.trunc || jscan_value(&s, 0, &v) == -1 || jscan_end(&s) == -1) {
		jscan_error(&s, err, errlen);
		return -1;
	}
	return 0;
}
