/*
 * hook_test.c: the webhook's pieces that need no receiver: the
 * signature against RFC 4231's vectors, the retry verdicts, and the JSON
 * body built from a published event (and refused for a malformed one).
 * Deliveries themselves are tested end to end
 * (tests/integration/test_dispatcher.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "hook.h"
#include "wire.h"
#include "wirejson.h"

static void
test_sign_rfc4231(void **state)
{
	char hex[65], key[132];

	/* test case 2 */
	hook_sign("Jefe", "what do ya want for nothing?", 28, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
	                         "5a003f089d2739839dec58b964ec3843");
	/* test case 6: a key longer than the block size */
	memset(key, 0xaa, 131);
	key[131] = '\0';
	hook_sign(key, "Test Using Larger Than Block-Size Key - Hash Key First",
	          54, hex);
	assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
	                         "8e0bc6213728c5140546040f0ee37f54");
	/* an empty secret still signs */
	hook_sign("", "", 0, hex);
	assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5"
	                         "ff1697c493715653c6c712144292c5ad");
}

static void
test_verdicts(void **state)
{
	static const struct {
		int curl;
		long status;
		int want;
	} cases[] = {
	    {CURLE_OK, 200, 0},
	    {CURLE_OK, 204, 0},
	    {CURLE_OK, 500, 1},
	    {CURLE_OK, 503, 1},
	    {CURLE_OK, 400, -1},
	    {CURLE_OK, 404, -1},
	    {CURLE_OK, 410, -1},
	    {CURLE_OK, 301, -1},
	    {CURLE_OPERATION_TIMEDOUT, 0, 1},
	    {CURLE_COULDNT_CONNECT, 0, 1},
	    {CURLE_RECV_ERROR, 0, 1},
	    {CURLE_UNSUPPORTED_PROTOCOL, 0, -1},
	    {CURLE_URL_MALFORMAT, 0, -1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (hook_verdict(cases[i].curl, cases[i].status) !=
		    cases[i].want)
			fail_msg("curl %d, HTTP %ld: want %d", cases[i].curl,
			         cases[i].status, cases[i].want);
}

static void
test_body(void **state)
{
	struct wire_row row;
	struct wire_workload wl;
	struct wire_event ev;
	struct wbuf b = {0};
	char err[WIRE_ERR_LEN], event[HOOK_EVENT_MAX], *s;
	json_object *o, *v;
	uint64_t rev = 0;
	size_t i;
	static const char *const bad[] = {
	    "{\"t\":\"container\",\"rev\":5,\"op\":\"upsert\"}",
	    "{\"t\":\"container\",\"rev\":5,\"op\":\"upsert\","
	    "\"row\":{\"id\":\"w1:x\",\"port\":\"eighty\"}}",
	    "{\"t\":\"container\",\"rev\":5,\"op\":\"upsert\","
	    "\"row\":{\"workload_id\":\"w1\"}}",
	    "{\"t\":\"container\",\"rev\":5,\"op\":\"upsert\","
	    "\"row\":{\"id\":\"w1:x\"},\"at\":true}",
	    "{\"t\":\"container\",\"rev\":0,\"op\":\"upsert\","
	    "\"row\":{\"id\":\"w1:x\"}}",
	    "{\"t\":\"container\",\"rev\":5,\"op\":\"Up sert\","
	    "\"row\":{\"id\":\"w1:x\"}}",
	};

	memset(&row, 0, sizeof(row));
	row.id = "w1:site";
	row.workload_id = "w1";
	row.state = "missing";
	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_CONTAINER;
	ev.rev = 77;
	ev.op = "missing";
	ev.row = &row;
	ev.prev_state = "running";
	ev.at = 1234;
	assert_int_equal(wire_encode_event(&b, &ev), 0);
	assert_non_null(s = hook_body("container/w1/w1:site", b.data, b.len,
	                              &rev, event, err));
	assert_int_equal(rev, 77);
	assert_string_equal(event, "container.missing");
	assert_non_null(o = json_tokener_parse(s));
	assert_true(json_object_object_get_ex(o, "topic", &v));
	assert_string_equal(json_object_get_string(v), "container/w1/w1:site");
	assert_true(json_object_object_get_ex(o, "t", &v));
	assert_string_equal(json_object_get_string(v), "container");
	assert_true(json_object_object_get_ex(o, "rev", &v));
	assert_int_equal(json_object_get_int64(v), 77);
	assert_true(json_object_object_get_ex(o, "prev_state", &v));
	assert_string_equal(json_object_get_string(v), "running");
	assert_true(json_object_object_get_ex(o, "row", &v));
	assert_true(json_object_object_get_ex(v, "state", &v));
	assert_string_equal(json_object_get_string(v), "missing");
	json_object_put(o);
	/* byte for byte what the encoded event reads as, plus its topic */
	assert_non_null(o = wire_to_json(b.data, b.len, err));
	json_object_object_add(o, "topic",
	                       json_object_new_string("container/w1/w1:site"));
	assert_string_equal(
	    s, json_object_to_json_string_ext(
	           o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	free(s);
	/* a row of the wrong shape is refused, as the strict decoder says */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_non_null(o = json_tokener_parse(bad[i]));
		wbuf_reset(&b);
		assert_int_equal(wire_from_json(&b, o), 0);
		json_object_put(o);
		if (hook_body("container/w1/x", b.data, b.len, &rev, event,
		              err) != NULL)
			fail_msg("accepted: %s", bad[i]);
	}
	/* garbage is refused, not delivered */
	assert_null(hook_body("container/w1/x", "\xc1", 1, &rev, event, err));
	assert_null(hook_body("container/w1/x", "\x93\x01\x02\x03", 4, &rev,
	                      event, err));
	/* an event of another type is not delivered as a container's */
	memset(&wl, 0, sizeof(wl));
	wl.id = "w1";
	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_WORKLOAD;
	ev.rev = 78;
	ev.op = "put";
	ev.workload = &wl;
	wbuf_reset(&b);
	assert_int_equal(wire_encode_event(&b, &ev), 0);
	assert_null(hook_body("workload/w1", b.data, b.len, &rev, event, err));
	wbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sign_rfc4231),
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
