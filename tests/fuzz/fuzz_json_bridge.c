/*
 * fuzz_json_bridge.c: what `reconctl workload put` and `container put`
 * do with an operator's JSON (json-c, then wire_from_json, then the
 * strict record decoders), and what reconctl prints of a reply
 * (wire_to_json) on arbitrary msgpack.
 */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "wirejson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok;
	struct wire_workload w;
	struct wire_row row;
	struct wbuf b = {0};
	struct arena *a;
	json_object *o;
	char err[WIRE_ERR_LEN];

	if (size > (1 << 20))
		return 0;
	a = arena_new();
	/* reconctl's reading of a file */
	if ((tok = json_tokener_new_ex(32)) == NULL)
		abort();
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (o != NULL && json_object_is_type(o, json_type_object) &&
	    wire_from_json(&b, o) == 0) {
		(void)wire_decode_workload_strict(b.data, b.len, a, &w, err);
		(void)wire_decode_row_strict(b.data, b.len, a, &row, err);
	}
	json_object_put(o);
	json_tokener_free(tok);
	/* a reply printed as JSON */
	o = wire_to_json(data, size, err);
	if (o != NULL && json_object_to_json_string(o) == NULL)
		abort();
	json_object_put(o);
	wbuf_free(&b);
	arena_free(a);
	return 0;
}
