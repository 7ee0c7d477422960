/*
 * mpack.h: recon's msgpack writer, the one every encoder uses (the wire
 * schema in wire.c, the JSON bridge in wirejson.c). It writes straight
 * into a wbuf, choosing the same (smallest) forms as msgpack-c's packer;
 * wire_test checks the two byte for byte. A wbuf grows as needed and
 * aborts when memory runs out (the project's out-of-memory policy for
 * buffers), so no call can fail.
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

#endif
