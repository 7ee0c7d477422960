/*
 * wirejson_test.c: msgpack <-> json-c conversion: round trips of JSON
 * text, exact msgpack bytes both ways, and the bounds on hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "wire.h"
#include "wirejson.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static size_t
unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	for (; hex[0] && hex[1]; hex += 2) {
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		assert_true(n < cap);
		out[n++] = (unsigned char)v;
	}
	assert_int_equal(*hex, '\0');
	return n;
}

static const char *
plain(json_object *o)
{
	return json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* JSON text -> msgpack -> JSON text gives the same text. */
static void
test_roundtrip_text(void **state)
{
	static const char *texts[] = {
	    "null",
	    "true",
	    "false",
	    "0",
	    "-1",
	    "-32",
	    "-33",
	    "127",
	    "128",
	    "-9223372036854775808",
	    "9223372036854775807",
	    "18446744073709551615",
	    "1.5",
	    "-0.25",
	    "\"\"",
	    "\"h\\u00e9llo \\\"w\\\"\"",
	    "[]",
	    "{}",
	    "[1,\"a\",null,true,{\"b\":[2.5]}]",
	    "{\"t\":\"container\",\"rev\":12,\"row\":{\"id\":\"w:site\","
	    "\"port\":8080,\"labels\":{\"a\":\"b\"}},\"ok\":false}",
	    "[[[[[[1]]]]]]",
	};
	struct wbuf b = {0};
	char err[WIRE_ERR_LEN];
	json_object *in, *out;
	size_t i;

	for (i = 0; i < NELEM(texts); i++) {
		in = json_tokener_parse(texts[i]);
		if (in == NULL && strcmp(texts[i], "null") != 0)
			fail_msg("unparsable: %s", texts[i]);
		wbuf_reset(&b);
		assert_int_equal(wire_from_json(&b, in), 0);
		out = wire_to_json(b.data, b.len, err);
		if (out == NULL && (strcmp(texts[i], "null") != 0 || *err))
			fail_msg("%s: %s", texts[i], err);
		/* json-c renders its parsed input the same way */
		assert_string_equal(plain(in), plain(out));
		assert_int_equal(json_object_get_type(in),
		                 json_object_get_type(out));
		json_object_put(in);
		json_object_put(out);
	}
	wbuf_free(&b);
}

/* The exact msgpack of JSON values: smallest ints, float64, str. */
static void
test_from_json_bytes(void **state)
{
	static const struct {
		const char *json, *hex;
	} cases[] = {
	    {"null", "c0"},
	    {"true", "c3"},
	    {"false", "c2"},
	    {"5", "05"},
	    {"-1", "ff"},
	    {"-33", "d0df"},
	    {"300", "cd012c"},
	    {"18446744073709551615", "cfffffffffffffffff"},
	    {"-9223372036854775808", "d38000000000000000"},
	    {"1.5", "cb3ff8000000000000"},
	    {"1.0", "cb3ff0000000000000"},
	    {"\"ab\"", "a26162"},
	    {"[1,[]]", "920190"},
	    {"{\"a\":{}}", "81a16180"},
	};
	unsigned char want[64];
	struct wbuf b = {0};
	json_object *o;
	size_t i, n;

	for (i = 0; i < NELEM(cases); i++) {
		o = json_tokener_parse(cases[i].json);
		wbuf_reset(&b);
		assert_int_equal(wire_from_json(&b, o), 0);
		n = unhex(cases[i].hex, want, sizeof(want));
		if (b.len != n || memcmp(b.data, want, n) != 0)
			fail_msg("%s: wrong bytes", cases[i].json);
		json_object_put(o);
	}
	wbuf_free(&b);
}

/* msgpack values json-c has no twin for, and the rejects. */
static void
test_to_json_cases(void **state)
{
	static const struct {
		const char *name, *hex;
		const char *json; /* NULL: rejected */
		const char *err;  /* substring of the reason */
	} cases[] = {
	    {"fixint", "7f", "127", NULL},
	    {"negative fixint", "e0", "-32", NULL},
	    {"uint8", "ccff", "255", NULL},
	    {"uint16", "cdffff", "65535", NULL},
	    {"uint32", "ceffffffff", "4294967295", NULL},
	    {"uint64", "cfffffffffffffffff", "18446744073709551615", NULL},
	    {"int8", "d080", "-128", NULL},
	    {"int16", "d18000", "-32768", NULL},
	    {"int32", "d280000000", "-2147483648", NULL},
	    {"int64", "d38000000000000000", "-9223372036854775808", NULL},
	    {"positive int8", "d005", "5", NULL},
	    {"float32", "ca3fc00000", "1.5", NULL},
	    {"float64", "cb4004000000000000", "2.5", NULL},
	    {"bin", "c403616263", "\"abc\"", NULL},
	    {"bin16", "c50002ffff", NULL, NULL},
	    {"str8", "d903616263", "\"abc\"", NULL},
	    {"nested", "81a17892c0c3", "{\"x\":[null,true]}", NULL},
	    {"ext", "d40102", NULL, "unsupported msgpack type 0xd4"},
	    {"ext8", "c7010102", NULL, "unsupported"},
	    {"invalid byte", "c1", NULL, "unsupported msgpack type 0xc1"},
	    {"nan", "cb7ff8000000000000", NULL, "non-finite float"},
	    {"infinity", "ca7f800000", NULL, "non-finite float"},
	    {"int key", "810102", NULL, "map key is not a str"},
	    {"bin key", "81c4016101", NULL, "map key is not a str"},
	    {"NUL in key", "81a2610001", NULL, "map key contains NUL"},
	    {"duplicate key", "82a16101a16102", NULL, "duplicate key \"a\""},
	    {"trailing", "c0c0", NULL, "at byte 1: 1 trailing bytes"},
	    {"empty", "", NULL, "at byte 0: truncated"},
	    {"truncated uint64", "cf0000", NULL, "truncated"},
	    {"truncated float", "cb00", NULL, "truncated"},
	    {"truncated map", "82a16101", NULL, "exceeds"},
	    {"truncated map value", "81a161", NULL, "truncated"},
	    {"array32 of 2^32-1", "ddffffffff", NULL,
	     "array of 4294967295 elements exceeds the 0 bytes left"},
	    {"array16 short", "dc0003c0c0", NULL,
	     "array of 3 elements exceeds the 2 bytes left"},
	    {"map32 of 2^32-1", "dfffffffff", NULL,
	     "map of 4294967295 entries exceeds the 0 bytes left"},
	    {"map with odd bytes", "83a161c0a162", NULL, "exceeds"},
	    {"str32 of 2^32-1", "dbffffffff", NULL,
	     "string of 4294967295 bytes exceeds the 0 bytes left"},
	    {"bin32 of 2^32-1", "c6ffffffff", NULL,
	     "string of 4294967295 bytes exceeds"},
	    {"key str32", "81dbffffffff", NULL, "too long"},
	};
	static unsigned char buf[64];
	char err[WIRE_ERR_LEN];
	json_object *o;
	size_t i, n;

	for (i = 0; i < NELEM(cases); i++) {
		n = unhex(cases[i].hex, buf, sizeof(buf));
		memset(err, 'z', sizeof(err));
		o = wire_to_json(buf, n, err);
		if (cases[i].json == NULL && cases[i].err == NULL) {
			/* bin16 of 2 bytes: a string of two 0xff bytes */
			assert_non_null(o);
			assert_int_equal(json_object_get_string_len(o), 2);
			json_object_put(o);
			continue;
		}
		if (cases[i].json != NULL) {
			if (o == NULL)
				fail_msg("%s: %s", cases[i].name, err);
			assert_string_equal(plain(o), cases[i].json);
			json_object_put(o);
			continue;
		}
		if (o != NULL)
			fail_msg("%s: accepted as %s", cases[i].name, plain(o));
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("%s: want \"%s\", got \"%s\"", cases[i].name,
			         cases[i].err, err);
	}
}

/* A whole wire message reads as the JSON a script would expect. */
static void
test_message_to_json(void **state)
{
	struct wire_kv labels[] = {{"tinyforge.role", "web"}};
	int64_t ports[] = {8080};
	struct wire_container c = {.id = "c1",
	                           .image = "img",
	                           .state = "running",
	                           .created = 5,
	                           .labels = labels,
	                           .nlabels = 1,
	                           .ports = ports,
	                           .nports = 1};
	struct wire_snapshot s = {.host = "h",
	                          .gen = UINT64_MAX,
	                          .taken_at = -7,
	                          .complete = true,
	                          .containers = &c,
	                          .ncontainers = 1};
	struct wire_snapshot back;
	struct arena *a = arena_new();
	struct wbuf b = {0}, b2 = {0};
	char err[WIRE_ERR_LEN];
	json_object *o;

	assert_int_equal(wire_encode_snapshot(&b, &s), 0);
	o = wire_to_json(b.data, b.len, err);
	assert_non_null(o);
	assert_string_equal(
	    plain(o),
	    "{\"t\":\"snapshot\",\"host\":\"h\",\"gen\":18446744073709551615,"
	    "\"taken_at\":-7,\"complete\":true,\"containers\":[{\"id\":\"c1\","
	    "\"image\":\"img\",\"state\":\"running\",\"created\":5,"
	    "\"labels\":{\"tinyforge.role\":\"web\"},\"ports\":[8080]}]}");
	/* and back: the very same bytes, which decode strictly */
	assert_int_equal(wire_from_json(&b2, o), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	assert_int_equal(wire_decode_snapshot(b2.data, b2.len, a, &back, err),
	                 0);
	assert_true(back.gen == UINT64_MAX);
	assert_string_equal(back.containers[0].labels[0].val, "web");
	json_object_put(o);
	wbuf_free(&b);
	wbuf_free(&b2);
	arena_free(a);
}

/* Nesting: msgpack to JSON up to 2 * WIRE_DEPTH_MAX, JSON to msgpack up
 * to WIRE_DEPTH_MAX; deeper is refused and leaves the buffer as it was. */
static void
test_depth(void **state)
{
	unsigned char buf[256];
	char text[256], err[WIRE_ERR_LEN];
	struct wbuf b = {0};
	json_object *o, *one;
	size_t n;
	int d, i;

	for (d = 1; d <= 2 * WIRE_DEPTH_MAX + 1; d++) {
		memset(buf, 0x91, (size_t)d - 1); /* fixarray of 1 */
		buf[d - 1] = 0x90;                /* the innermost, empty */
		o = wire_to_json(buf, (size_t)d, err);
		if (d <= 2 * WIRE_DEPTH_MAX) {
			assert_non_null(o);
			json_object_put(o);
		} else {
			assert_null(o);
			assert_non_null(strstr(err, "nested deeper than 12"));
		}
	}
	memset(buf, 0x91, 200);
	assert_null(wire_to_json(buf, 200, err));

	one = json_object_new_int(1);
	for (d = 1; d <= WIRE_DEPTH_MAX + 1; d++) {
		/* {"a":[{"a":[ ... 1 ]}]} with d containers */
		n = 0;
		for (i = 0; i < d; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
			                      i % 2 ? "[" : "{\"a\":");
		n += (size_t)snprintf(text + n, sizeof(text) - n, "1");
		for (i = d - 1; i >= 0; i--)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
			                      i % 2 ? "]" : "}");
		o = json_tokener_parse(text);
		assert_non_null(o);
		/* something already in the buffer must survive a refusal */
		wbuf_reset(&b);
		assert_int_equal(wire_from_json(&b, one), 0);
		assert_int_equal(b.len, 1);
		assert_int_equal(wire_from_json(&b, o),
		                 d <= WIRE_DEPTH_MAX ? 0 : -1);
		if (d > WIRE_DEPTH_MAX)
			assert_int_equal(b.len, 1);
		if (d <= WIRE_DEPTH_MAX) {
			json_object *back =
			    wire_to_json(b.data + 1, b.len - 1, err);
			assert_non_null(back);
			assert_string_equal(plain(back), plain(o));
			json_object_put(back);
		}
		json_object_put(o);
	}
	json_object_put(one);
	wbuf_free(&b);
}

/* Every proper prefix of a reply with every kind of value fails. */
static void
test_truncation(void **state)
{
	static const char *text =
	    "{\"ok\":true,\"n\":[0,-1,-200,70000,5000000000,-5000000000,"
	    "18446744073709551615,1.25,null,false,\"x\",\"" /* str8 */
	    "0123456789012345678901234567890123456789\"],\"m\":{\"k\":{}}}";
	struct wbuf b = {0};
	char err[WIRE_ERR_LEN];
	json_object *o;
	size_t len;

	o = json_tokener_parse(text);
	assert_non_null(o);
	assert_int_equal(wire_from_json(&b, o), 0);
	json_object_put(o);
	o = wire_to_json(b.data, b.len, err);
	assert_non_null(o);
	json_object_put(o);
	for (len = 0; len < b.len; len++) {
		char *cut = malloc(len ? len : 1);
		memcpy(cut, b.data, len);
		if ((o = wire_to_json(cut, len, err)) != NULL)
			fail_msg("prefix %zu of %zu converted", len, b.len);
		free(cut);
	}
	assert_null(wire_to_json(NULL, 0, err));
	assert_int_equal(wire_from_json(NULL, NULL), -1);
	wbuf_free(&b);
}

/* A large string survives both ways; one over WIRE_TEXT_MAX does not. */
static void
test_sizes(void **state)
{
	size_t n = WIRE_TEXT_MAX;
	char *s = malloc(n + 1), err[WIRE_ERR_LEN];
	unsigned char *buf;
	struct wbuf b = {0};
	json_object *o, *back;

	memset(s, 'q', n);
	s[n] = '\0';
	o = json_object_new_string(s);
	assert_int_equal(wire_from_json(&b, o), 0);
	assert_int_equal(b.len, n + 5);
	back = wire_to_json(b.data, b.len, err);
	assert_non_null(back);
	assert_int_equal(json_object_get_string_len(back), (int)n);
	json_object_put(back);
	json_object_put(o);

	/* str32 of n + 1 bytes */
	buf = malloc(n + 6);
	buf[0] = 0xdb;
	buf[1] = (unsigned char)((n + 1) >> 24);
	buf[2] = (unsigned char)((n + 1) >> 16);
	buf[3] = (unsigned char)((n + 1) >> 8);
	buf[4] = (unsigned char)(n + 1);
	memset(buf + 5, 'x', n + 1);
	assert_null(wire_to_json(buf, n + 6, err));
	assert_non_null(strstr(err, "string over 1048576 bytes"));
	free(buf);
	wbuf_free(&b);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_text),
	    cmocka_unit_test(test_from_json_bytes),
	    cmocka_unit_test(test_to_json_cases),
	    cmocka_unit_test(test_message_to_json),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
