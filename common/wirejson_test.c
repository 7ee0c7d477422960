/*
 * wirejson_test.c: msgpack <-> json-c conversion: round trips of JSON
 * text, exact msgpack bytes both ways, and the bounds on hostile input;
 * and the record writer against wire_to_json of the encoded record.
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
#include "wire_impl.h"
#include "wirejson.h"

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
	    /* one string, cut in two */
	    ("{\"t\":\"container\",\"rev\":12,\"row\":{\"id\":\"w:site\","
	     "\"port\":8080,\"labels\":{\"a\":\"b\"}},\"ok\":false}"),
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

/* ---- the record writer: the same JSON text as encode, then read ---- */

/* got, the writer's object (taken), against want, wire_to_json of the
 * encoding (taken; NULL when encoding or reading failed). */
static void
same_json(const char *what, json_object *got, json_object *want)
{
	if (want == NULL && got != NULL)
		fail_msg("%s: written as %s, encoding refused", what,
		         plain(got));
	if (want != NULL && got == NULL)
		fail_msg("%s: refused, encoded as %s", what, plain(want));
	if (want != NULL && strcmp(plain(got), plain(want)) != 0)
		fail_msg("%s:\n written %s\n encoded %s", what, plain(got),
		         plain(want));
	json_object_put(got);
	json_object_put(want);
}

static json_object *
read_back(int rc, struct wbuf *b)
{
	char err[WIRE_ERR_LEN];
	json_object *o = rc == 0 ? wire_to_json(b->data, b->len, err) : NULL;

	wbuf_free(b);
	return o;
}

static void
same_event(const char *what, const struct wire_event *ev)
{
	struct wbuf b = {0};
	int rc = wire_encode_event(&b, ev);

	same_json(what, wire_event_json(ev), read_back(rc, &b));
}

static void
same_row(const char *what, const struct wire_row *row)
{
	struct wbuf b = {0};
	int rc = wire_encode_row(&b, row);

	same_json(what, wire_row_json(row), read_back(rc, &b));
}

static void
same_workload(const char *what, const struct wire_workload *wl)
{
	struct wbuf b = {0};
	int rc, secrets;

	for (secrets = 0; secrets < 2; secrets++) {
		rc = wire_encode_workload(&b, wl, secrets);
		same_json(what, wire_workload_json(wl, secrets),
		          read_back(rc, &b));
	}
}

static void
full_row(struct wire_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = "shop:web";
	r->workload_id = "shop";
	r->workload_kind = "app";
	r->role = "web";
	r->container_id = "0123456789abcdef";
	r->image_ref = "registry.example/shop:1.2 \"quoted\" / \\ h\xc3\xa9";
	r->host = "h1";
	r->state = "running";
	r->port = 8080;
	r->last_seen_at = 1700000000123;
	r->subdomain = "shop";
	r->proxy_route_id = "r/1";
	r->npm_proxy_id = "7";
	r->image_tag = "1.2";
	r->stage_id = "\t\n\x01";
	r->created_at = -1;
}

static void
full_workload(struct wire_workload *w)
{
	memset(w, 0, sizeof(*w));
	w->id = "shop";
	w->name = "The shop";
	w->kind = "app";
	w->app_id = "a1";
	w->parent_workload_id = "";
	w->source_kind = "git";
	w->source_config = "{\"url\":\"https://x/y\"}";
	w->trigger_kind = "push";
	w->trigger_config = "{}";
	w->public_faces = "[]";
	w->notification_url = "https://user:pass@hooks.example/in?a=b";
	w->notification_secret = "n-secret";
	w->webhook_secret = "w-secret";
	w->webhook_signing_secret = "s-secret";
	w->webhook_require_signature = true;
	w->created_at = 1;
	w->updated_at = INT64_MAX;
	w->plugin.last_run_at = 5;
	w->plugin.last_ok_at = 4;
	w->plugin.last_ok = false;
	w->plugin.last_reason = "state";
	w->plugin.last_error = "exit 1\nline two";
	w->plugin.duration_ms = 250;
	w->plugin.runs = UINT64_MAX;
	w->plugin.failures = (uint64_t)INT64_MAX + 1;
}

static void
test_record_events(void **state)
{
	struct wire_row row, empty = {.id = "w:r"};
	struct wire_workload wl, bare = {.id = "w"};
	struct wire_event ev;

	full_row(&row);
	full_workload(&wl);
	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_CONTAINER;
	ev.rev = 12;
	ev.op = "upsert";
	ev.row = &row;
	ev.prev_state = "stopped";
	ev.at = 1700000000999;
	same_event("container event", &ev);
	ev.rev = UINT64_MAX;
	ev.op = NULL;
	ev.row = &empty;
	ev.prev_state = NULL;
	ev.at = INT64_MIN;
	same_event("container event, NULL strings", &ev);
	ev.row = NULL;
	same_event("container event without its row", &ev);

	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_WORKLOAD;
	ev.rev = (uint64_t)INT64_MAX;
	ev.op = "plugin";
	ev.workload = &wl; /* its secrets are never published */
	same_event("workload event", &ev);
	ev.rev = (uint64_t)INT64_MAX + 1;
	ev.op = "put";
	ev.workload = &bare;
	same_event("workload event, bare workload", &ev);
	ev.workload = NULL;
	same_event("workload event without its workload", &ev);

	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_PASS;
	ev.rev = 1;
	ev.host = "h1";
	ev.gen = 3;
	ev.seen = 100;
	ev.changed = 2;
	ev.missing = 1;
	ev.ignored_unknown = UINT64_MAX;
	ev.ignored_kind = 0;
	ev.duration_us = 123456;
	same_event("pass event", &ev);
	ev.type = (enum wire_event_type)7;
	same_event("an event of no type", &ev);
	same_event("no event", NULL);
}

/* `watch --json`'s line: the event's JSON with "topic" added; a listed
 * row (op "list", no prev_state) reads like any container event. */
static void
test_event_json_line(void **state)
{
	struct wire_row row;
	struct wire_event ev = {
	    .type = WIRE_EV_CONTAINER,
	    .rev = 41,
	    .op = "list",
	    .at = 1700000000999,
	};
	struct wbuf b = {0};
	json_object *want, *got;
	char *line;

	full_row(&row);
	ev.row = &row;
	assert_int_equal(wire_encode_event(&b, &ev), 0);
	want = read_back(0, &b);
	assert_non_null(want);
	json_object_object_add(
	    want, "topic", json_object_new_string("container/shop/shop:web"));
	line = wire_event_json_line(&ev, "container/shop/shop:web");
	assert_non_null(line);
	assert_non_null(got = json_tokener_parse(line));
	assert_string_equal(plain(got), plain(want));
	assert_null(strchr(line, '\n'));
	assert_non_null(strstr(line, "\"op\":\"list\""));
	assert_non_null(strstr(line, "\"prev_state\":\"\""));
	json_object_put(got);
	json_object_put(want);
	free(line);
	ev.row = NULL;
	assert_null(wire_event_json_line(&ev, "container/shop/shop:web"));
}

static void
test_record_rows_workloads(void **state)
{
	static const char *const urls[] = {
	    "https://u:p@h/x",
	    "https://u@h/x",      /* no password */
	    "https://h/p:q@r",    /* @ after the authority */
	    "http://a:b@c@d:8/x", /* the last @ of the authority */
	    "http://u:p@h?x=y@z", /* ? ends the authority */
	    "http://u:p@h#f@g",   /* and # */
	    "u:p@h",              /* no scheme */
	    "",
	    NULL,
	};
	struct wire_row row, empty = {0};
	struct wire_workload wl, bare = {0};
	char *big, *text;
	size_t i;

	full_row(&row);
	same_row("row", &row);
	same_row("row of NULL strings", &empty);
	row.port = INT64_MIN;
	row.last_seen_at = INT64_MAX;
	same_row("row at the limits", &row);
	same_row("no row", NULL);

	full_workload(&wl);
	same_workload("workload", &wl);
	same_workload("workload of NULL strings", &bare);
	for (i = 0; i < NELEM(urls); i++) {
		wl.notification_url = (char *)urls[i];
		same_workload(urls[i] != NULL ? urls[i] : "NULL url", &wl);
	}
	/* a password in a URL too long for the redaction buffer */
	big = malloc(WIRE_LABEL_MAX + 1);
	assert_non_null(big);
	memset(big, 'x', WIRE_LABEL_MAX);
	memcpy(big, "https://u:p@", 12);
	big[WIRE_LABEL_MAX] = '\0';
	wl.notification_url = big;
	same_workload("long URL", &wl);
	wl.notification_url = "https://u:p@h/";
	free(big);
	/* a string wire_to_json refuses */
	text = malloc(WIRE_TEXT_MAX + 2);
	assert_non_null(text);
	memset(text, 'y', WIRE_TEXT_MAX + 1);
	text[WIRE_TEXT_MAX + 1] = '\0';
	wl.source_config = text;
	same_workload("text over WIRE_TEXT_MAX", &wl);
	text[WIRE_TEXT_MAX] = '\0';
	same_workload("text of WIRE_TEXT_MAX", &wl);
	free(text);
	same_workload("no workload", NULL);
}

/*
 * Every field type and flag, on a schema of the test's own: the events,
 * rows and workloads above have no labels, arrays, counters, sparse or
 * secret-less nested fields of their own.
 */
struct every {
	char *s, *secret, *url, *opt;
	int64_t i;
	uint64_t u;
	bool b;
	struct wire_kv *labels;
	size_t nlabels;
	int64_t *ports;
	size_t nports;
	char **names;
	size_t nnames;
	struct wire_row row;
	struct wire_workload *wl; /* never its secrets */
	struct wire_workload *wls;
	size_t nwls;
	struct wire_counter *ctr;
	size_t nctr;
};

#define OFF(m) offsetof(struct every, m)
static const struct field every_fields[] = {
    {.key = "s", .type = FT_STR, .off = OFF(s)},
    {.key = "secret", .type = FT_STR, .off = OFF(secret), .flags = F_SECRET},
    {.key = "url", .type = FT_STR, .off = OFF(url), .flags = F_URLPASS},
    {.key = "opt", .type = FT_STR, .off = OFF(opt), .flags = F_SPARSE},
    {.key = "i", .type = FT_I64, .off = OFF(i)},
    {.key = "u", .type = FT_U64, .off = OFF(u)},
    {.key = "b", .type = FT_BOOL, .off = OFF(b)},
    {.key = "labels",
     .type = FT_LABELS,
     .off = OFF(labels),
     .noff = OFF(nlabels)},
    {.key = "ports", .type = FT_I64ARR, .off = OFF(ports), .noff = OFF(nports)},
    {.key = "names", .type = FT_STRARR, .off = OFF(names), .noff = OFF(nnames)},
    {.key = "row", .type = FT_REC, .off = OFF(row), .sub = &wire_row_schema},
    {.key = "wl",
     .type = FT_RECPTR,
     .off = OFF(wl),
     .sub = &wire_workload_schema,
     .flags = F_NOSECRETS},
    {.key = "wls",
     .type = FT_RECARR,
     .off = OFF(wls),
     .noff = OFF(nwls),
     .sub = &wire_workload_schema},
    {.key = "counters",
     .type = FT_COUNTERS,
     .off = OFF(ctr),
     .noff = OFF(nctr)},
};
#undef OFF
static const struct schema every_schema = {
    .name = "every",
    .t = "every",
    .size = sizeof(struct every),
    .fields = every_fields,
    .nfields = NELEM(every_fields),
};
/* the same fields as a request: only those set are written */
static const struct schema every_sparse = {
    .name = "every",
    .size = sizeof(struct every),
    .sparse = true,
    .fields = every_fields,
    .nfields = NELEM(every_fields),
};

static void
same_every(const char *what, const struct every *e)
{
	static const struct schema *const schemas[] = {&every_schema,
	                                               &every_sparse};
	struct wbuf b = {0};
	unsigned opts;
	size_t k;
	int rc;

	for (k = 0; k < NELEM(schemas); k++)
		for (opts = 0; opts <= ENC_SECRETS; opts += ENC_SECRETS) {
			rc = wire_enc_top(&b, schemas[k], e, opts);
			same_json(what, wire_json_record(schemas[k], e, opts),
			          read_back(rc, &b));
		}
}

static void
test_record_every_type(void **state)
{
	struct wire_kv labels[] = {
	    {"tinyforge.role", "web"}, {"", ""}, {"k", NULL}, {"a/b", "\"v\""}};
	int64_t ports[] = {80, -1, INT64_MAX, INT64_MIN};
	char *names[] = {"a", "", NULL, "z\xc3\xa9"};
	struct wire_counter ctr[] = {
	    {"runs", 1}, {"big", UINT64_MAX}, {"edge", (uint64_t)INT64_MAX}};
	struct wire_workload wls[2], one;
	struct every e = {0}, none = {0};
	char *key;

	full_workload(&wls[0]);
	full_workload(&one);
	memset(&wls[1], 0, sizeof(wls[1]));
	e.s = "s";
	e.secret = "hush";
	e.url = "https://u:p@h/";
	e.opt = "set";
	e.i = -5;
	e.u = (uint64_t)INT64_MAX + 2;
	e.b = true;
	e.labels = labels;
	e.nlabels = NELEM(labels);
	e.ports = ports;
	e.nports = NELEM(ports);
	e.names = names;
	e.nnames = NELEM(names);
	full_row(&e.row);
	e.wl = &one;
	e.wls = wls;
	e.nwls = NELEM(wls);
	e.ctr = ctr;
	e.nctr = NELEM(ctr);
	same_every("every field set", &e);
	none.wl = &one; /* required by the encoder */
	same_every("nothing set", &none);
	none.wl = NULL;
	same_every("a NULL record pointer", &none);

	/* what the encoder or wire_to_json refuses */
	e.nlabels = 2;
	labels[1].key = "tinyforge.role";
	same_every("a duplicate label", &e);
	labels[1].key = "";
	ctr[1].name = "runs";
	same_every("a duplicate counter", &e);
	ctr[1].name = "big";
	key = malloc(WIRE_LABEL_MAX + 2);
	assert_non_null(key);
	memset(key, 'k', WIRE_LABEL_MAX + 1);
	key[WIRE_LABEL_MAX + 1] = '\0';
	labels[0].key = key;
	same_every("a label key over WIRE_LABEL_MAX", &e);
	key[WIRE_LABEL_MAX] = '\0';
	same_every("a label key of WIRE_LABEL_MAX", &e);
	labels[0].key = "tinyforge.role";
	free(key);
	e.ports = NULL;
	same_every("a counted array that is NULL", &e);
	e.nports = 0;
	same_every("an empty array that is NULL", &e);
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
	    cmocka_unit_test(test_record_events),
	    cmocka_unit_test(test_event_json_line),
	    cmocka_unit_test(test_record_rows_workloads),
	    cmocka_unit_test(test_record_every_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
