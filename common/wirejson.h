/*
 * wirejson.h: generic msgpack <-> json-c conversion, for reconctl's --json
 * and file input, bounded like the strict decoders: depth, counts against
 * bytes left, string sizes. And decoded records written as JSON directly,
 * for plugin stdin, webhook bodies and `reconctl watch --json`.
 */
#ifndef RECON_WIREJSON_H
#define RECON_WIREJSON_H

#include <stdbool.h>
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

/*
 * A record as a new json-c object: exactly what wire_to_json makes of its
 * encoding (wire_encode_event, _workload, _row), without encoding it. NULL
 * where the encoder fails (a NULL required record) or wire_to_json would
 * (a string over WIRE_TEXT_MAX).
 */
json_object *wire_event_json(const struct wire_event *);
/* secrets: as wire_encode_workload's. */
json_object *wire_workload_json(const struct wire_workload *, bool secrets);
json_object *wire_row_json(const struct wire_row *);
/*
 * An event as one line of JSON, as `reconctl watch --json` prints it: the
 * body's fields (wire_event_json) plus "topic". A malloc'ed string, or
 * NULL where wire_event_json fails.
 */
char *wire_event_json_line(const struct wire_event *, const char *topic);

#endif
