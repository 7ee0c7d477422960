/*
 * fuzz_json_bridge.c: what `reconctl workload put` and `container put`
 * do with an operator's JSON (json-c, then wire_from_json, then the
 * strict record decoders), what reconctl prints of a reply (wire_to_json)
 * on arbitrary msgpack, and, where that msgpack decodes as an event, a
 * row or a workload, the record's own JSON (wire_event_json, ...) against
 * wire_to_json of the record encoded again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "wirejson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* got, the record's JSON, is what the encoding in b (rc its result) reads
 * as; both are consumed. */
static void
same(json_object *got, int rc, struct wbuf *b)
{
	char err[WIRE_ERR_LEN];
	json_object *want = rc == 0 ? wire_to_json(b->data, b->len, err) : NULL;
	const int fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

	if ((got == NULL) != (want == NULL) ||
	    (got != NULL &&
	     strcmp(json_object_to_json_string_ext(got, fl),
	            json_object_to_json_string_ext(want, fl)) != 0))
		abort();
	json_object_put(got);
	json_object_put(want);
	wbuf_reset(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok;
	struct wire_workload w;
	struct wire_event ev;
	struct wire_row row;
	struct wbuf b = {0};
	struct arena *a;
	json_object *o;
	char err[WIRE_ERR_LEN];
	int secrets;

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
	/* a decoded record written as JSON */
	wbuf_reset(&b);
	if (wire_decode_event(data, size, a, &ev, err) == 0)
		same(wire_event_json(&ev), wire_encode_event(&b, &ev), &b);
	if (wire_decode_row(data, size, a, &row, err) == 0)
		same(wire_row_json(&row), wire_encode_row(&b, &row), &b);
	if (wire_decode_workload(data, size, a, &w, err) == 0)
		for (secrets = 0; secrets < 2; secrets++)
			same(wire_workload_json(&w, secrets),
			     wire_encode_workload(&b, &w, secrets), &b);
	wbuf_free(&b);
	arena_free(a);
	return 0;
}
