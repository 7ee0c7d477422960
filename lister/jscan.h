/*
 * jscan.h: JSON's grammar (RFC 8259), strictly, in one pass over a body
 * held in memory, with no tree: a cursor steps through arrays and objects
 * and each value is checked whole; strings are decoded only when asked.
 * The container list (listscan.c) is read with it.
 */
#ifndef RECON_JSCAN_H
#define RECON_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jscan_kind {
	JSCAN_NONE,
	JSCAN_NULL,
	JSCAN_BOOL,
	JSCAN_INT,
	JSCAN_DOUBLE,
	JSCAN_STRING,
	JSCAN_ARRAY,
	JSCAN_OBJECT
};

/* One scanned value; JSCAN_NONE stands for a member that is not there. */
struct jscan_val {
	enum jscan_kind kind;
	const unsigned char *at; /* its first byte */
	const unsigned char *s; /* JSCAN_STRING: the bytes between the quotes */
	size_t slen;
	bool esc;  /* JSCAN_STRING: holds a backslash escape */
	int64_t i; /* JSCAN_INT: saturated at INT64_MIN and INT64_MAX */
	size_t n;  /* JSCAN_ARRAY, JSCAN_OBJECT: elements or members */
};

/* The cursor over one body; p is where the next step reads. */
struct jscan {
	const unsigned char *p, *base, *end;
	int depth_max; /* a value at this depth is too deep */
	bool trunc;    /* the body ended inside a value */
	const char *why;
	size_t at;
};

/* A cursor at the start of body; a value at depth_max is too deep. */
void jscan_init(struct jscan *, const char *body, size_t len, int depth_max);
/* Skips JSON whitespace. */
void jscan_ws(struct jscan *);
/* Any value at s->p (no whitespace before it), all of it checked; depth
 * is its own. 0 with *v filled, or -1 (jscan_error says why). */
int jscan_value(struct jscan *, int depth, struct jscan_val *);
/*
 * Steps to the next element of an array whose '[' (*first) or previous
 * element was just read: 1 with s->p at it, 0 past the closing ']', -1 on
 * an error. depth is the array's own.
 */
int jscan_arr_step(struct jscan *, int depth, bool *first);
/* The same for an object's members: 1 with the key in *k and s->p at its
 * value. */
int jscan_obj_step(struct jscan *, int depth, bool *first, struct jscan_val *k);
/* After the outermost value: nothing but whitespace. 0 or -1. */
int jscan_end(struct jscan *);
/* Why the scan failed: "truncated JSON (N bytes)" or "bad JSON at byte N:
 * why". */
void jscan_error(const struct jscan *, char *err, size_t errlen);

/*
 * Copies a scanned string's decoded bytes to out, at most cap of them;
 * returns how many it has, or cap + 1 for more than cap. A key ends at
 * its first NUL, as json-c's keys are C strings; a value's NUL sets *nul.
 * A surrogate without its pair becomes U+FFFD, as json-c has it.
 */
size_t jscan_copy(const struct jscan_val *, char *out, size_t cap, bool key,
                  bool *nul);
/* Whether key k (to its first NUL) is the word w of n bytes. */
bool jscan_key_is(const struct jscan_val *k, const char *w, size_t n);
/* Whether key k starts with the n bytes of w. */
bool jscan_key_starts(const struct jscan_val *k, const char *w, size_t n);
/* Whether two keys are the same, each to its first NUL. */
bool jscan_key_same(const struct jscan_val *, const struct jscan_val *);

/* Whether body is one JSON value, with whitespace around it, nested at most
 * depth deep (the outermost value is at depth 0, so depth 1 admits only
 * scalars and empty arrays and objects). 0, or -1 with a reason in err. */
int jscan_check(const char *body, size_t len, int depth, char *err,
                size_t errlen);

#endif
