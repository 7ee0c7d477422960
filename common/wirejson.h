/*
 * wirejson.h: generic msgpack <-> json-c conversion, for reconctl's --json
 * and file input, plugin stdin and webhook bodies. Bounded like the strict
 * decoders: depth, counts against bytes left, string sizes.
 */
#ifndef RECON_WIREJSON_H
#define RECON_WIREJSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "wire.h"

/* One msgpack value (the whole buffer, no trailing bytes) to a new json-c
 * object; NULL with a reason in err (WIRE_ERR_LEN). Binary values become
 * strings; non-string map keys are rejected. */
json_object *wire_to_json(const void *buf, size_t len, char *err);
/* Appends the msgpack form of a JSON value; integers stay integers,
 * doubles stay doubles. -1 on a value nested deeper than WIRE_DEPTH_MAX. */
int wire_from_json(struct wbuf *, json_object *);

#endif
