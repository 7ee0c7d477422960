/*
 * jscan.c: the container list scanned in place. Each element is read
 * once to check it and note where its fields are, then those fields are
 * read again to fill the record; nothing else is kept or allocated.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "log.h"
#include "util.h"

enum jkind {
	J_NONE,
	J_NULL,
	J_BOOL,
	J_INT,
	J_DOUBLE,
	J_STRING,
	J_ARRAY,
	J_OBJECT
};

/* One scanned value; J_NONE stands for a member that is not there. */
struct jval {
	enum jkind kind;
	const unsigned char *at; /* its first byte */
	const unsigned char *s;  /* J_STRING: the bytes between the quotes */
	size_t slen;
	bool esc;  /* J_STRING: holds a backslash escape */
	int64_t i; /* J_INT: saturated at INT64_MIN and INT64_MAX */
	size_t n;  /* J_ARRAY, J_OBJECT: elements or members */
};

struct scan {
	const unsigned char *p, *base, *end;
	int depth_max; /* a value at this depth is too deep */
	bool trunc;    /* the body ended inside a value */
	const char *why;
	size_t at;
};

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
truncated(struct scan *s)
{
	s->trunc = true;
	return -1;
}

static int
syntax(struct scan *s, const unsigned char *p, const char *why)
{
	s->at = (size_t)(p - s->base);
	s->why = why;
	return -1;
}

static void
ws(struct scan *s)
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
string(struct scan *s, struct jval *v)
{
	const unsigned char *p = s->p + 1, *end = s->end;
	uint64_t m;
	int i;

	v->kind = J_STRING;
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
number(struct scan *s, struct jval *v)
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
	v->kind = J_INT;
	if (p < end && *p == '.') {
		v->kind = J_DOUBLE;
		if (++p == end)
			return truncated(s);
		if (*p < '0' || *p > '9')
			return syntax(s, p, "digit expected after '.'");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		v->kind = J_DOUBLE;
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
literal(struct scan *s, struct jval *v, const char *word, enum jkind kind)
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

static int value(struct scan *, int depth, struct jval *);

/*
 * Steps past the separator after an array's '[' or '{' (*first) or its
 * previous item: 1 with s->p at the next item, 0 past the closing
 * bracket, -1 on an error. A ',' must be followed by an item.
 */
static int
sep_step(struct scan *s, bool *first, char close, const char *expected)
{
	ws(s);
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
	ws(s);
	if (s->p == s->end)
		return truncated(s);
	return 1;
}

/*
 * Steps to the next element of an array whose '[' (*first) or previous
 * element was just read: 1 with s->p at it, 0 past the closing ']', -1 on
 * an error. depth is the array's own.
 */
static int
arr_step(struct scan *s, int depth, bool *first)
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

/* The same for an object's members: 1 with the key in *k and s->p at its
 * value. */
static int
obj_step(struct scan *s, int depth, bool *first, struct jval *k)
{
	int r;

	if ((r = sep_step(s, first, '}', "',' or '}' expected")) != 1)
		return r;
	if (*s->p != '"')
		return syntax(s, s->p, "quoted member name expected");
	if (string(s, k) == -1)
		return -1;
	ws(s);
	if (s->p == s->end)
		return truncated(s);
	if (*s->p != ':')
		return syntax(s, s->p, "':' expected");
	s->p++;
	ws(s);
	if (s->p == s->end)
		return truncated(s);
	if (depth + 1 >= s->depth_max)
		return syntax(s, s->p, "nesting too deep");
	return 1;
}

/* Any value at s->p (no whitespace before it), all of it checked. */
static int
value(struct scan *s, int depth, struct jval *v)
{
	struct jval sub;
	bool first = true;
	int rc;

	switch (*s->p) {
	case '"':
		return string(s, v);
	case '{':
		v->kind = J_OBJECT;
		v->at = s->p++;
		v->n = 0;
		while ((rc = obj_step(s, depth, &first, &sub)) == 1) {
			if (value(s, depth + 1, &sub) == -1)
				return -1;
			v->n++;
		}
		return rc;
	case '[':
		v->kind = J_ARRAY;
		v->at = s->p++;
		v->n = 0;
		while ((rc = arr_step(s, depth, &first)) == 1) {
			if (value(s, depth + 1, &sub) == -1)
				return -1;
			v->n++;
		}
		return rc;
	case 't':
		return literal(s, v, "true", J_BOOL);
	case 'f':
		return literal(s, v, "false", J_BOOL);
	case 'n':
		return literal(s, v, "null", J_NULL);
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
dec_init(struct dec *d, const struct jval *v)
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

/*
 * Copies a string's decoded bytes to out, at most cap of them; returns how
 * many it has, or cap + 1 for more than cap. A key ends at its first NUL,
 * as json-c's keys are C strings; a value's NUL sets *nul.
 */
static size_t
dec_copy(const struct jval *v, char *out, size_t cap, bool key, bool *nul)
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

/* Whether key k (to its first NUL) is the word w of n bytes. */
static bool
key_is(const struct jval *k, const char *w, size_t n)
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

/* Whether key k starts with the n bytes of w. */
static bool
key_starts(const struct jval *k, const char *w, size_t n)
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

/* Whether two keys are the same, each to its first NUL. */
static bool
key_same(const struct jval *a, const struct jval *b)
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

/* What the lister takes of an element, and of each of its Ports. */
enum { F_ID, F_IMAGE, F_STATE, F_CREATED, F_LABELS, F_PORTS, F_N };
enum { P_PRIVATE, P_PUBLIC, P_TYPE, P_N };

struct key_name {
	const char *name;
	size_t len;
};

static const struct key_name elem_keys[F_N] = {
    [F_ID] = {"Id", 2},         [F_IMAGE] = {"Image", 5},
    [F_STATE] = {"State", 5},   [F_CREATED] = {"Created", 7},
    [F_LABELS] = {"Labels", 6}, [F_PORTS] = {"Ports", 5},
};

static const struct key_name port_keys[P_N] = {
    [P_PRIVATE] = {"PrivatePort", 11},
    [P_PUBLIC] = {"PublicPort", 10},
    [P_TYPE] = {"Type", 4},
};

/* What a container element is, after its types were checked. */
enum elem_verdict { ELEM_OK, ELEM_SKIP, ELEM_UNLABELLED, ELEM_BAD };

/* A label kept, its value to come (a later member has it) or unfit. */
static char label_pending[1], label_unfit[1];
#define LABEL_UNFIT "a label is too long, holds a NUL or is not UTF-8"

/* Lookups of kept labels go through a hash index past this many. */
#define LABELS_LINEAR 8

struct list_ctx {
	const struct scan *s; /* the body, for reading fields again */
	const char *prefix;
	size_t plen;
	struct arena *a;
	const char *why;
	uint32_t *idx; /* hash index of the labels of one element */
	size_t nidx;
	char kbuf[WIRE_LABEL_MAX + 1], vbuf[WIRE_LABEL_MAX + 1];
};

/* Reading a field again found what the first reading did not: our bug. */
static void
rescan_failed(void)
{
	abort();
}

static uint32_t
label_hash(const char *k, size_t n)
{
	return (uint32_t)fnv64(FNV64_INIT, k, n);
}

static void
label_index(struct list_ctx *x, const struct wire_container *c, size_t i)
{
	uint32_t h = label_hash(c->labels[i].key, strlen(c->labels[i].key));

	while (x->idx[h & (x->nidx - 1)] != 0)
		h++;
	x->idx[h & (x->nidx - 1)] = (uint32_t)i + 1;
}

/*
 * The kept label with key k (n bytes, no NUL), added with value val if
 * there is none; an existing one gets val unless val is label_pending.
 * Members repeat keys only outside Docker (a Go map), but the lookup must
 * not turn quadratic on a container with thousands of labels.
 */
static void
label_put(struct list_ctx *x, struct wire_container *c, size_t cap,
          const char *k, size_t n, char *val)
{
	size_t i;
	uint32_t h;

	if (x->idx == NULL) {
		for (i = 0; i < c->nlabels; i++)
			if (strncmp(c->labels[i].key, k, n) == 0 &&
			    c->labels[i].key[n] == '\0')
				goto found;
	} else {
		for (h = label_hash(k, n);; h++) {
			if ((i = x->idx[h & (x->nidx - 1)]) == 0)
				break;
			i--;
			if (strncmp(c->labels[i].key, k, n) == 0 &&
			    c->labels[i].key[n] == '\0')
				goto found;
		}
	}
	i = c->nlabels++;
	c->labels[i].key = arena_strndup(x->a, k, n);
	c->labels[i].val = val;
	if (x->idx != NULL) {
		label_index(x, c, i);
	} else if (c->nlabels == LABELS_LINEAR) {
		for (x->nidx = 16; x->nidx < 2 * cap; x->nidx *= 2)
			;
		x->idx = arena_alloc(x->a, x->nidx * sizeof(*x->idx));
		for (i = 0; i < c->nlabels; i++)
			label_index(x, c, i);
	}
	return;
found:
	if (val != label_pending)
		c->labels[i].val = val;
}

/* Whether a member after the current one of the object (r at the end of
 * the current value) has the key k. */
static bool
later_key(const struct scan *r, int depth, const struct jval *k)
{
	struct scan t = *r;
	struct jval k2, v2;
	bool first = false;
	int rc;

	while ((rc = obj_step(&t, depth, &first, &k2)) == 1) {
		if (value(&t, depth + 1, &v2) == -1)
			rescan_failed();
		if (key_same(k, &k2))
			return true;
	}
	if (rc == -1)
		rescan_failed();
	return false;
}

/* A string value kept in the arena, or label_unfit when longer than max
 * or holding a NUL. */
static char *
keep_string(struct list_ctx *x, const struct jval *v, size_t max)
{
	bool nul;
	size_t n;

	if (!v->esc)
		return v->slen <= max && utf8_valid((const char *)v->s, v->slen)
		           ? arena_strndup(x->a, (const char *)v->s, v->slen)
		           : label_unfit;
	n = dec_copy(v, x->vbuf, max, false, &nul);
	return n <= max && !nul && utf8_valid(x->vbuf, n)
	           ? arena_strndup(x->a, x->vbuf, n)
	           : label_unfit;
}

/*
 * Fills c->labels with the <prefix> labels of Labels (object or null).
 * As in a json-c object, a repeated key keeps its first place and its last
 * value, and only that value's type counts.
 */
static enum elem_verdict
elem_labels(struct list_ctx *x, const struct jval *labels,
            struct wire_container *c)
{
	struct scan r = *x->s;
	struct jval k, v;
	bool first = true, skip = false, pfx, nul;
	const char *kp;
	size_t n, i;
	int rc;

	if (labels->kind == J_NONE || labels->kind == J_NULL)
		return ELEM_UNLABELLED;
	if (labels->kind != J_OBJECT) {
		x->why = "Labels is not an object";
		return ELEM_BAD;
	}
	c->labels =
	    arena_alloc(x->a, (labels->n ? labels->n : 1) * sizeof(*c->labels));
	x->idx = NULL;
	r.p = labels->at + 1;
	while ((rc = obj_step(&r, 2, &first, &k)) == 1) {
		if (value(&r, 3, &v) == -1)
			rescan_failed();
		pfx = key_starts(&k, x->prefix, x->plen);
		if (v.kind != J_STRING && !later_key(&r, 2, &k)) {
			x->why = "a label value is not a string";
			return ELEM_BAD;
		}
		if (skip || !pfx)
			continue;
		kp = (const char *)k.s;
		if ((n = k.slen) > WIRE_LABEL_MAX || k.esc) {
			n = dec_copy(&k, x->kbuf, WIRE_LABEL_MAX, true, &nul);
			kp = x->kbuf;
		}
		if (n > WIRE_LABEL_MAX || !utf8_valid(kp, n)) {
			x->why = LABEL_UNFIT;
			skip = true; /* but go on checking the types */
			continue;
		}
		label_put(x, c, labels->n, kp, n,
		          v.kind == J_STRING
		              ? keep_string(x, &v, WIRE_LABEL_MAX)
		              : label_pending);
	}
	if (rc == -1)
		rescan_failed();
	if (skip)
		return ELEM_SKIP;
	for (i = 0; i < c->nlabels; i++)
		if (c->labels[i].val == label_unfit) {
			x->why = LABEL_UNFIT;
			return ELEM_SKIP;
		} else if (c->labels[i].val == label_pending) {
			rescan_failed(); /* its last member was a string */
		}
	for (i = 0; i < c->nlabels; i++)
		if (strncmp(c->labels[i].key, x->prefix, x->plen) == 0 &&
		    strcmp(c->labels[i].key + x->plen, "workload.id") == 0)
			return ELEM_OK;
	return ELEM_UNLABELLED;
}

/* The index of key k in a table of n names, or -1. */
static int
key_find(const struct jval *k, const struct key_name *t, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (key_is(k, t[i].name, t[i].len))
			return i;
	return -1;
}

/* Fills c->ports with the PublicPorts of Ports (array or null), in order. */
static enum elem_verdict
elem_ports(struct list_ctx *x, const struct jval *ports,
           struct wire_container *c)
{
	struct scan r = *x->s;
	struct jval k, v, f[P_N];
	bool first = true, pfirst;
	int rc, prc, i;

	if (ports->kind == J_NONE || ports->kind == J_NULL)
		return ELEM_OK;
	if (ports->kind != J_ARRAY) {
		x->why = "Ports is not an array";
		return ELEM_BAD;
	}
	c->ports =
	    arena_alloc(x->a, (ports->n ? ports->n : 1) * sizeof(*c->ports));
	r.p = ports->at + 1;
	while ((rc = arr_step(&r, 2, &first)) == 1) {
		if (*r.p != '{') {
			x->why = "a Ports element is not an object";
			return ELEM_BAD;
		}
		r.p++;
		pfirst = true;
		for (i = 0; i < P_N; i++)
			f[i].kind = J_NONE;
		while ((prc = obj_step(&r, 3, &pfirst, &k)) == 1) {
			if (value(&r, 4, &v) == -1)
				rescan_failed();
			if ((i = key_find(&k, port_keys, P_N)) >= 0)
				f[i] = v;
		}
		if (prc == -1)
			rescan_failed();
		if (f[P_PRIVATE].kind != J_INT || f[P_TYPE].kind != J_STRING) {
			x->why = "a Ports element lacks PrivatePort or Type";
			return ELEM_BAD;
		}
		if (f[P_PUBLIC].kind == J_NONE || f[P_PUBLIC].kind == J_NULL)
			continue; /* exposed, not published */
		if (f[P_PUBLIC].kind != J_INT || f[P_PUBLIC].i < 0 ||
		    f[P_PUBLIC].i > 65535) {
			x->why = "a PublicPort is not a port number";
			return ELEM_BAD;
		}
		if (f[P_PUBLIC].i > 0)
			c->ports[c->nports++] = f[P_PUBLIC].i;
	}
	if (rc == -1)
		rescan_failed();
	return ELEM_OK;
}

/* Whether a string fits the wire: at most max bytes, no NUL, UTF-8. */
static bool
fits(struct list_ctx *x, const struct jval *v, size_t max)
{
	bool nul;
	size_t n = dec_copy(v, x->vbuf, max, false, &nul);

	return n <= max && !nul && utf8_valid(x->vbuf, n);
}

/* An element's record from the fields its first reading found (f). */
static enum elem_verdict
elem_decide(struct list_ctx *x, const struct jval *f, struct wire_container *c)
{
	enum elem_verdict v, lv;

	if (f[F_ID].kind != J_STRING || f[F_IMAGE].kind != J_STRING ||
	    f[F_STATE].kind != J_STRING || f[F_CREATED].kind != J_INT) {
		x->why = "an element lacks Id, Image, State or Created, or has "
		         "the wrong type";
		return ELEM_BAD;
	}
	memset(c, 0, sizeof(*c));
	/* Type errors anywhere fail the list, so check all before skipping. */
	lv = elem_labels(x, &f[F_LABELS], c);
	if (lv == ELEM_BAD)
		return ELEM_BAD;
	if ((v = elem_ports(x, &f[F_PORTS], c)) != ELEM_OK)
		return v;
	if (lv != ELEM_OK)
		return lv;
	if (f[F_ID].slen == 0 || !fits(x, &f[F_ID], WIRE_ID_MAX) ||
	    !fits(x, &f[F_IMAGE], WIRE_LABEL_MAX) ||
	    !fits(x, &f[F_STATE], WIRE_LABEL_MAX)) {
		x->why =
		    "Id, Image or State is empty, too long, holds a NUL or "
		    "is not UTF-8";
		return ELEM_SKIP;
	}
	c->id = keep_string(x, &f[F_ID], WIRE_ID_MAX);
	c->image = keep_string(x, &f[F_IMAGE], WIRE_LABEL_MAX);
	c->state = keep_string(x, &f[F_STATE], WIRE_LABEL_MAX);
	c->created = f[F_CREATED].i;
	return ELEM_OK;
}

/* First reading of an element (s->p at its '{'): checks all of it and
 * notes the fields the record needs, the last of a repeated key. */
static int
elem_scan(struct scan *s, struct jval *f)
{
	struct jval k, v;
	bool first = true;
	int rc, i;

	for (i = 0; i < F_N; i++)
		f[i].kind = J_NONE;
	s->p++;
	while ((rc = obj_step(s, 1, &first, &k)) == 1) {
		if (value(s, 2, &v) == -1)
			return -1;
		if ((i = key_find(&k, elem_keys, F_N)) >= 0)
			f[i] = v;
	}
	return rc;
}

/*
 * Room for more records. The elements read so far say how many the body
 * holds, if they are alike (Docker's are): room for that many and an
 * eighth, rather than doubling and leaving the copies in the arena.
 */
static size_t
list_grow(const struct scan *s, size_t nread, struct arena *a,
          struct parse_result *res, size_t cap)
{
	size_t sz = sizeof(*res->containers), want = cap + cap / 2 + 64;
	double guess = (double)nread * (double)(s->end - s->base) /
	               (double)(s->p - s->base);

	if (guess * 1.125 + 16 > (double)want && guess < (double)SIZE_MAX / sz)
		want = (size_t)(guess * 1.125) + 16;
	res->containers =
	    arena_realloc(a, res->containers, cap * sz, want * sz);
	return want;
}

/* A container skipped, logged once the whole body is known good. */
struct skip_note {
	struct skip_note *next;
	char id[13];
	const char *why;
};

static void
note_skip(struct list_ctx *x, const struct jval *id, struct skip_note ***tail)
{
	struct skip_note *n = arena_alloc(x->a, sizeof(*n));
	bool nul;
	size_t len = dec_copy(id, n->id, 12, true, &nul);

	n->id[len < 12 ? len : 12] = '\0';
	n->why = x->why;
	**tail = n;
	*tail = &n->next;
}

/*
 * R8: a skipped container is still there, so the row bound to it must not
 * be swept. Its id goes with the snapshot (skipped_ids) when it can be
 * named; when not even that, nothing may be swept this pass.
 */
static void
skip_keep(struct list_ctx *x, const struct jval *id, struct parse_result *res)
{
	char *s;

	if (id->kind != J_STRING || !fits(x, id, WIRE_ID_MAX) ||
	    (s = keep_string(x, id, WIRE_ID_MAX)) == label_unfit ||
	    !id_valid(s)) {
		res->skipped_unnamed = true;
		return;
	}
	res->skipped_ids =
	    arena_realloc(x->a, res->skipped_ids,
	                  res->nskipped_ids * sizeof(*res->skipped_ids),
	                  (res->nskipped_ids + 1) * sizeof(*res->skipped_ids));
	res->skipped_ids[res->nskipped_ids++] = s;
}

static void
scan_error(const struct scan *s, char *err, size_t errlen)
{
	if (s->trunc)
		snprintf(err, errlen, "truncated JSON (%zu bytes)",
		         (size_t)(s->end - s->base));
	else
		snprintf(err, errlen, "bad JSON at byte %zu: %s", s->at,
		         s->why);
}

/* After the outermost value: nothing but whitespace. */
static int
scan_end(struct scan *s)
{
	ws(s);
	if (s->p != s->end)
		return syntax(s, s->p, "trailing bytes after the value");
	return 0;
}

int
jscan_check(const char *body, size_t len, int depth, char *err, size_t errlen)
{
	struct scan s = {.p = (const unsigned char *)body,
	                 .base = (const unsigned char *)body,
	                 .end = (const unsigned char *)body + len,
	                 .depth_max = depth};
	struct jval v;

	ws(&s);
	if (s.p == s.end)
		s.trunc = true;
	if (s.trunc || value(&s, 0, &v) == -1 || scan_end(&s) == -1) {
		scan_error(&s, err, errlen);
		return -1;
	}
	return 0;
}

int
jscan_list(const char *body, size_t len, const char *prefix, struct arena *a,
           struct parse_result *res, char *err, size_t errlen)
{
	struct scan s = {.p = (const unsigned char *)body,
	                 .base = (const unsigned char *)body,
	                 .end = (const unsigned char *)body + len,
	                 .depth_max = PARSE_DEPTH_MAX};
	struct list_ctx ctx, *x = &ctx;
	struct jval v, f[F_N];
	struct skip_note *notes = NULL, **tail = &notes, *n;
	size_t i = 0, cap = 0, bad = SIZE_MAX;
	const char *why = "";
	bool first = true;
	int rc;

	memset(res, 0, sizeof(*res));
	x->s = &s;
	x->prefix = prefix;
	x->plen = strlen(prefix);
	x->a = a;
	ws(&s);
	if (s.p == s.end) {
		s.trunc = true;
		goto syntax;
	}
	if (*s.p != '[') {
		if (value(&s, 0, &v) == -1 || scan_end(&s) == -1)
			goto syntax;
		if (v.kind == J_NULL) /* json-c's answer: no object at all */
			snprintf(err, errlen, "truncated JSON (%zu bytes)",
			         len);
		else
			snprintf(err, errlen,
			         "container list is not a JSON array");
		return -1;
	}
	s.p++;
	while ((rc = arr_step(&s, 0, &first)) == 1) {
		if (*s.p != '{') {
			if (value(&s, 1, &v) == -1)
				goto syntax;
			if (bad == SIZE_MAX) {
				bad = i;
				why = "an element is not an object";
			}
			i++;
			continue;
		}
		if (elem_scan(&s, f) == -1)
			goto syntax;
		if (bad != SIZE_MAX) { /* only the syntax counts now */
			i++;
			continue;
		}
		if (res->ncontainers == cap)
			cap = list_grow(&s, i, a, res, cap);
		switch (elem_decide(x, f, &res->containers[res->ncontainers])) {
		case ELEM_OK:
			res->ncontainers++;
			break;
		case ELEM_UNLABELLED:
			res->unlabelled++;
			break;
		case ELEM_SKIP:
			res->skipped++;
			note_skip(x, &f[F_ID], &tail);
			skip_keep(x, &f[F_ID], res);
			break;
		case ELEM_BAD:
			bad = i;
			why = x->why;
			break;
		}
		i++;
	}
	if (rc == -1 || scan_end(&s) == -1)
		goto syntax;
	for (n = notes; n != NULL; n = n->next)
		log_warnx("ignoring container %s: %s", n->id, n->why);
	if (bad != SIZE_MAX) {
		snprintf(err, errlen, "container %zu: %s", bad, why);
		return -1;
	}
	if (res->containers == NULL)
		res->containers = arena_alloc(a, sizeof(*res->containers));
	return 0;
syntax:
	scan_error(&s, err, errlen);
	return -1;
}
