/*
 * mpack_test.c: the msgpack reader on its own: one table of named cases
 * (each call's value or error), every integer form read back from the
 * writer at its boundaries, and the cursor's bounds (counts against the
 * bytes left, depth, the error's place). The writer is checked against
 * msgpack-c in wire_test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpack.h"

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

enum op {
	OP_MAP,
	OP_ARRAY,
	OP_STR,
	OP_KEY,
	OP_I64,
	OP_U64,
	OP_BOOL,
	OP_NIL,
	OP_FLOAT,
	OP_SKIP,
	OP_BIN,
	OP_BIN_ONLY
};

/* One read of the value in hex; want: the value read, or the error. */
static const struct rcase {
	const char *name;
	enum op op;
	const char *hex;
	const char *want; /* "=VALUE" read, else a substring of the error */
} rcases[] = {
    {"fixmap", OP_MAP, "82a161c0a162c0", "=2"},
    {"map16", OP_MAP, "de0001a161c0", "=1"},
    {"map32 of 2^32-1", OP_MAP, "dfffffffff",
     "msgpack at byte 5: map of 4294967295 entries exceeds the 0 bytes "
     "left"},
    {"map of odd bytes", OP_MAP, "83a161c0a162", "map of 3 entries exceeds"},
    {"map is array", OP_MAP, "90", "expected map, got array"},
    {"fixarray", OP_ARRAY, "93010203", "=3"},
    {"array16 short", OP_ARRAY, "dc0003c0c0",
     "array of 3 elements exceeds the 2 bytes left"},
    {"array32 truncated", OP_ARRAY, "dd0000", "msgpack at byte 0: truncated"},
    {"fixstr", OP_STR, "a3616263", "=abc"},
    {"str8", OP_STR, "d903616263", "=abc"},
    {"str16", OP_STR, "da0003616263", "=abc"},
    {"str32 of 2^32-1", OP_STR, "dbffffffff",
     "string of 4294967295 bytes exceeds the 0 bytes left"},
    {"str is bin", OP_STR, "c403616263", "expected str, got bin"},
    {"bin as string", OP_BIN, "c403616263", "=abc"},
    {"bin16", OP_BIN, "c50001ff", "=\xff"},
    {"mpr_bin bin8", OP_BIN_ONLY, "c403616263", "=abc"},
    {"mpr_bin empty", OP_BIN_ONLY, "c400", "="},
    {"mpr_bin bin16", OP_BIN_ONLY, "c50002ffee", "=\xff\xee"},
    {"mpr_bin bin32", OP_BIN_ONLY, "c60000000161", "=a"},
    {"mpr_bin of a str", OP_BIN_ONLY, "a3616263", "expected bin, got str"},
    {"mpr_bin of nil", OP_BIN_ONLY, "c0", "expected bin, got nil"},
    {"mpr_bin truncated header", OP_BIN_ONLY, "c500",
     "msgpack at byte 0: truncated"},
    {"mpr_bin bin32 of 2^32-1", OP_BIN_ONLY, "c6ffffffff",
     "msgpack at byte 5: bin of 4294967295 bytes exceeds the 0 bytes left"},
    {"mpr_bin body short", OP_BIN_ONLY, "c40461",
     "bin of 4 bytes exceeds the 1 bytes left"},
    {"key", OP_KEY, "a16b", "=k"},
    {"int key", OP_KEY, "01", "map key is int, not str"},
    {"nil key", OP_KEY, "c0", "map key is nil, not str"},
    {"fixint", OP_I64, "7f", "=127"},
    {"negative fixint", OP_I64, "e0", "=-32"},
    {"int8", OP_I64, "d080", "=-128"},
    {"positive int8", OP_I64, "d005", "=5"},
    {"int16", OP_I64, "d18000", "=-32768"},
    {"int32", OP_I64, "d280000000", "=-2147483648"},
    {"int64 min", OP_I64, "d38000000000000000", "=-9223372036854775808"},
    {"uint64 over int64", OP_I64, "cf8000000000000000",
     "integer 9223372036854775808 out of range"},
    {"uint64 max", OP_U64, "cfffffffffffffffff", "=18446744073709551615"},
    {"uint8", OP_U64, "ccff", "=255"},
    {"negative as u64", OP_U64, "ff", "negative integer -1"},
    {"int is float", OP_U64, "cb0000000000000000", "expected int, got float"},
    {"truncated uint32", OP_U64, "ce0000", "truncated"},
    {"true", OP_BOOL, "c3", "=1"},
    {"false", OP_BOOL, "c2", "=0"},
    {"bool is int", OP_BOOL, "01", "expected bool, got int"},
    {"nil", OP_NIL, "c0", "=0"},
    {"float32", OP_FLOAT, "ca3fc00000", "=1.5"},
    {"float64", OP_FLOAT, "cb4004000000000000", "=2.5"},
    {"truncated float", OP_FLOAT, "cb00", "truncated"},
    {"empty", OP_NIL, "", "msgpack at byte 0: truncated"},
    {"invalid byte", OP_SKIP, "c1", "invalid byte 0xc1"},
    {"skip ext", OP_SKIP, "c702010304", "=0"},
    {"skip fixext", OP_SKIP, "d40102", "=0"},
    {"skip truncated fixext", OP_SKIP, "d801", "truncated"},
    {"skip ext32", OP_SKIP, "c9ffffffff01", "ext of 4294967296 bytes exceeds"},
    {"skip bin32", OP_SKIP, "c6ffffffff", "bin of 4294967295 bytes exceeds"},
    {"skip nested", OP_SKIP, "81a16192c0cb0000000000000000", "=0"},
    {"skip too deep", OP_SKIP, "91919190", "nested deeper than the schema"},
    {"skip map key", OP_SKIP, "81c0c0", "map key is nil, not str"},
};

/* Does the case's read give its want? The value is printed to compare. */
static void
run_case(const struct rcase *rc)
{
	unsigned char buf[64];
	char err[WIRE_ERR_LEN], got[64];
	struct mpr r;
	const char *s = NULL;
	size_t n = 0, len;
	uint32_t cnt = 0;
	uint64_t u = 0;
	int64_t i = 0;
	double d = 0;
	bool b = false;
	int rv = -1;

	n = unhex(rc->hex, buf, sizeof(buf));
	mpr_init(&r, buf, n, 3, err);
	got[0] = '\0';
	switch (rc->op) {
	case OP_MAP:
	case OP_ARRAY:
		rv = rc->op == OP_MAP ? mpr_map(&r, &cnt) : mpr_array(&r, &cnt);
		snprintf(got, sizeof(got), "%u", cnt);
		break;
	case OP_STR:
	case OP_KEY:
	case OP_BIN:
	case OP_BIN_ONLY:
		if (rc->op == OP_BIN_ONLY)
			rv = mpr_bin(&r, (const void **)&s, &len);
		else if (rc->op == OP_BIN)
			rv = mpr_strhdr(&r, true, &len) == -1
			         ? -1
			         : mpr_body(&r, len, "string", &s);
		else
			rv = (rc->op == OP_STR ? mpr_str : mpr_key)(&r, &s,
			                                            &len);
		if (rv == 0)
			snprintf(got, sizeof(got), "%.*s", (int)len, s);
		break;
	case OP_I64:
		rv = mpr_i64(&r, &i);
		snprintf(got, sizeof(got), "%lld", (long long)i);
		break;
	case OP_U64:
		rv = mpr_u64(&r, &u);
		snprintf(got, sizeof(got), "%llu", (unsigned long long)u);
		break;
	case OP_BOOL:
		rv = mpr_bool(&r, &b);
		snprintf(got, sizeof(got), "%d", b);
		break;
	case OP_NIL:
		rv = mpr_nil(&r);
		snprintf(got, sizeof(got), "0");
		break;
	case OP_FLOAT:
		rv = mpr_float(&r, &d);
		snprintf(got, sizeof(got), "%g", d);
		break;
	case OP_SKIP:
		rv = mpr_skip(&r, 2);
		snprintf(got, sizeof(got), "0");
		break;
	}
	if (rc->want[0] == '=') {
		if (rv != 0)
			fail_msg("%s: want %s, got \"%s\"", rc->name, rc->want,
			         err);
		if (strcmp(got, rc->want + 1) != 0)
			fail_msg("%s: want %s, got %s", rc->name, rc->want + 1,
			         got);
		/* a good read takes the whole value (of a container, the
		 * header) */
		if (rc->op != OP_MAP && rc->op != OP_ARRAY && mpr_end(&r) != 0)
			fail_msg("%s: %s", rc->name, err);
		return;
	}
	if (rv != -1 || strstr(err, rc->want) == NULL)
		fail_msg("%s: want \"%s\", got rc %d \"%s\"", rc->name,
		         rc->want, rv, err);
}

static void
test_cases(void **state)
{
	size_t i;

	for (i = 0; i < NELEM(rcases); i++)
		run_case(&rcases[i]);
}

/* Every integer form the writer picks reads back as the same value. */
static void
test_int_boundaries(void **state)
{
	static const int64_t is[] = {
	    0,         -1,     -32,        -33,         -128,
	    -129,      -32768, -32769,     -2147483648, -2147483649,
	    INT64_MIN, 127,    128,        255,         256,
	    65535,     65536,  4294967295, 4294967296,  INT64_MAX,
	};
	static const uint64_t us[] = {
	    0,     127,   128,         255,         256,
	    65535, 65536, 4294967295u, 4294967296u, UINT64_MAX};
	struct wbuf b = {0};
	struct mpw pk;
	struct mpr r;
	char err[WIRE_ERR_LEN];
	int64_t i;
	uint64_t u;
	size_t k;

	mpw_init(&pk, &b);
	for (k = 0; k < NELEM(is); k++)
		mpw_int64(&pk, is[k]);
	for (k = 0; k < NELEM(us); k++)
		mpw_uint64(&pk, us[k]);
	mpr_init(&r, b.data, b.len, 1, err);
	for (k = 0; k < NELEM(is); k++) {
		assert_int_equal(mpr_i64(&r, &i), 0);
		assert_true(i == is[k]);
	}
	for (k = 0; k < NELEM(us); k++) {
		assert_int_equal(mpr_u64(&r, &u), 0);
		assert_true(u == us[k]);
	}
	assert_int_equal(mpr_end(&r), 0);
	wbuf_free(&b);
}

/* Depth: mpr_enter fails past depth_max; errors name the byte, or what
 * the where hook writes; peer bytes in an error are printable. */
static size_t
where_here(const struct mpr *r, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "here");
}

static void
test_bounds(void **state)
{
	unsigned char buf[] = {0x91, 0x91, 0x90, 0xc0};
	char err[WIRE_ERR_LEN];
	struct mpr r;
	uint32_t n;

	mpr_init(&r, buf, sizeof(buf), 2, err);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(mpr_enter(&r), 0);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(mpr_enter(&r), 0);
	assert_int_equal(mpr_array(&r, &n), 0);
	assert_int_equal(mpr_enter(&r), -1);
	assert_string_equal(err, "msgpack at byte 3: nested deeper than 2");
	mpr_leave(&r);
	mpr_leave(&r);
	assert_int_equal(mpr_end(&r), -1);
	assert_string_equal(err, "msgpack at byte 3: 1 trailing bytes");

	r.where = where_here;
	assert_int_equal(mpr_fail(&r, "key \"%s\"", "a\nb\xc3\xa9"), -1);
	assert_string_equal(err, "here: key \"a?b??\"");

	/* no err: the reads still fail */
	mpr_init(&r, buf, 1, 2, NULL);
	assert_int_equal(mpr_array(&r, &n), -1);
	mpr_init(&r, NULL, 0, 2, err);
	assert_int_equal(mpr_peek(&r), -1);
	assert_string_equal(err, "msgpack at byte 0: truncated");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_int_boundaries),
	    cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
