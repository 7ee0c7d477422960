/*
 * mpack.h: recon's one msgpack codec, used by the wire schema (wire*.c)
 * and by the JSON bridge (wirejson.c).
 *
 * The writer (mpw_) writes straight into a wbuf, choosing the same
 * (smallest) forms as msgpack-c's packer; wire_test checks the two byte
 * for byte. A wbuf grows as needed and aborts when memory runs out (the
 * project's out-of-memory policy), so no call can fail.
 *
 * The reader (mpr_) is a strict, bounded cursor over one buffer: every
 * read checks the bytes left first, every declared count is checked
 * against them before a caller loops over it, nothing is allocated, and
 * containers nest at most depth_max deep. A failed read returns -1 and
 * writes one line of printable ASCII to err: where the cursor stands,
 * then the reason.
 */
#ifndef RECON_MPACK_H
#define RECON_MPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct mpw {
	struct wbuf *b;
};

void mpw_init(struct mpw *, struct wbuf *);
void mpw_uint64(struct mpw *, uint64_t);
void mpw_int64(struct mpw *, int64_t);
void mpw_double(struct mpw *, double);
void mpw_nil(struct mpw *);
void mpw_bool(struct mpw *, bool);
/* map and array headers: the n entries follow */
void mpw_map(struct mpw *, size_t n);
void mpw_array(struct mpw *, size_t n);
void mpw_strn(struct mpw *, const char *, size_t n);
/* NULL writes an empty string */
void mpw_str(struct mpw *, const char *);
/* A bin of n bytes (bin 8/16/32, the smallest that holds n). */
void mpw_bin(struct mpw *, const void *, size_t n);

/* ---- reader ---- */

/* What a value is, from its first byte. */
enum mpr_type {
	MPR_INT,
	MPR_NIL,
	MPR_BOOL,
	MPR_FLOAT,
	MPR_STR,
	MPR_BIN,
	MPR_ARRAY,
	MPR_MAP,
	MPR_EXT,
	MPR_INVALID, /* 0xc1, never used */
};

struct mpr {
	const unsigned char *base, *p, *end;
	int depth;     /* containers entered now (mpr_enter) */
	int depth_max; /* mpr_enter fails past it */
	char *err;     /* WIRE_ERR_LEN bytes, or NULL */
	/*
	 * Writes where the cursor stands, the start of every error (at most
	 * len bytes, returning what snprintf would); NULL writes "msgpack at
	 * byte N". The wire decoder writes the path of keys and indexes.
	 */
	size_t (*where)(const struct mpr *, char *buf, size_t len);
};

/* Any msgpack integer: neg and i when negative, else u. */
struct mpr_int {
	bool neg;
	int64_t i;
	uint64_t u;
};

/* A cursor over len bytes at buf; err, when not NULL, is cleared. */
void mpr_init(struct mpr *, const void *buf, size_t len, int depth_max,
              char *err);
/* Writes the error (where, ": ", the reason) and returns -1. */
int mpr_fail(struct mpr *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t mpr_left(const struct mpr *);
/* "N trailing bytes" unless the cursor is at the end. */
int mpr_end(struct mpr *);

enum mpr_type mpr_type(int b);
/* "int", "map", "str", ...: the type of a value starting with byte b */
const char *mpr_tname(int b);
/* The first byte of the next value, not consumed; -1 "truncated". */
int mpr_peek(struct mpr *);

/* Container headers: the count, already checked against the bytes left
 * (a map's entries need two bytes each, an array's elements one). The
 * caller brackets the elements with mpr_enter and mpr_leave. */
int mpr_map(struct mpr *, uint32_t *n);
int mpr_array(struct mpr *, uint32_t *n);
/* One more container open: -1 "nested deeper than depth_max". */
int mpr_enter(struct mpr *);
void mpr_leave(struct mpr *);

/* A str in place (not NUL-terminated; it may hold anything). */
int mpr_str_any(struct mpr *, const char **s, size_t *len);
/* A fixstr, most of a message's strings and keys, read inline. */
static inline bool
mpr_fixstr(struct mpr *r, const char **s, size_t *len)
{
	size_t n;

	if (r->p >= r->end || (*r->p & 0xe0) != 0xa0)
		return false;
	n = *r->p & 0x1f;
	if ((size_t)(r->end - r->p) <= n)
		return false; /* the slow path says what is wrong */
	*s = (const char *)r->p + 1;
	*len = n;
	r->p += 1 + n;
	return true;
}
static inline int
mpr_str(struct mpr *r, const char **s, size_t *len)
{
	return mpr_fixstr(r, s, len) ? 0 : mpr_str_any(r, s, len);
}
/* A map key: a str, else -1 "map key is int, not str". */
int mpr_key_any(struct mpr *, const char **s, size_t *len);
static inline int
mpr_key(struct mpr *r, const char **s, size_t *len)
{
	return mpr_fixstr(r, s, len) ? 0 : mpr_key_any(r, s, len);
}
/* The header of a str (or, with bin, of a str or a bin): the length of
 * the body that follows, which is neither read nor checked yet. */
int mpr_strhdr(struct mpr *, bool bin, size_t *len);
/* The len bytes of a body, checked against the bytes left: "what of N
 * bytes exceeds the M bytes left". */
int mpr_body(struct mpr *, size_t len, const char *what, const char **p);
/* A bin in place, and nothing else ("expected bin, got str"). */
int mpr_bin(struct mpr *, const void **p, size_t *len);

int mpr_int(struct mpr *, struct mpr_int *);
/* Integers out of the range of the type fail ("integer N out of range",
 * "negative integer N"). */
int mpr_i64(struct mpr *, int64_t *);
int mpr_u64(struct mpr *, uint64_t *);
/* true or false only */
int mpr_bool(struct mpr *, bool *);
int mpr_nil(struct mpr *);
/* float 32 or 64 */
int mpr_float(struct mpr *, double *);
/*
 * Skips one well-formed value of any type (ext included), with at most
 * budget levels of containers in it (the schema's bound: "nested deeper
 * than the schema allows"), and never past depth_max in all.
 */
int mpr_skip(struct mpr *, int budget);

#endif
