/*
 * flags_test.c: flag and environment parsing, durations, sizes, and the
 * id patterns of SPEC §5 and §8.
 */
#include <setjmp.h>
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flags.h"
#include "util.h"

static void
test_durations(void **state)
{
	static const struct {
		const char *in;
		int ok;
		int64_t ms;
	} cases[] = {
	    {"250ms", 1, 250},  {"30s", 1, 30000}, {"5m", 1, 300000},
	    {"1h", 1, 3600000}, {"7", 1, 7000},    {"-1s", 1, -1000},
	    {"0", 1, 0},        {"", 0, 0},        {"5x", 0, 0},
	    {"s", 0, 0},        {"1.5s", 0, 0},    {"99999999999999999h", 0, 0},
	};
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse_duration_ms(cases[i].in, &v);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(v, cases[i].ms);
		} else
			assert_int_equal(rc, -1);
	}
}

static void
test_sizes(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("64M", &v), 0);
	assert_int_equal(v, 64u << 20);
	assert_int_equal(parse_size("16K", &v), 0);
	assert_int_equal(v, 16u << 10);
	assert_int_equal(parse_size("2G", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("-1", &v), -1);
	assert_int_equal(parse_size("1T", &v), -1);
	assert_int_equal(parse_size("99999999999999999999G", &v), -1);
}

static void
test_precedence(void **state)
{
	char *dir = NULL;
	int64_t ival = 0;
	bool json = false;
	struct flag tab[] = {
	    {"run-dir", 0, "T_RUN_DIR", FLAG_STR, &dir, "/run/recon", "d"},
	    {"interval", 0, "T_INTERVAL", FLAG_DURATION, &ival, "30s", "i"},
	    {"json", 'j', NULL, FLAG_BOOL, &json, NULL, "j"},
	    FLAG_END,
	};
	char *argv1[] = {"p", NULL};
	char *argv2[] = {"p", "--interval=2s", "pos1", "-j", "pos2", NULL};
	int argind;

	unsetenv("T_RUN_DIR");
	unsetenv("T_INTERVAL");
	assert_int_equal(flags_parse("p", "", tab, 1, argv1, NULL), 0);
	assert_string_equal(dir, "/run/recon");
	assert_int_equal(ival, 30000);

	setenv("T_RUN_DIR", "/tmp/x", 1);
	setenv("T_INTERVAL", "5s", 1);
	assert_int_equal(flags_parse("p", "", tab, 5, argv2, &argind), 0);
	assert_string_equal(dir, "/tmp/x");
	assert_int_equal(ival, 2000); /* the flag wins over the env */
	assert_true(json);
	assert_int_equal(argind, 3);
	assert_string_equal(argv2[3], "pos1");
	assert_string_equal(argv2[4], "pos2");

	setenv("T_INTERVAL", "soon", 1);
	assert_int_equal(flags_parse("p", "", tab, 1, argv1, NULL), -1);
	unsetenv("T_INTERVAL");
	unsetenv("T_RUN_DIR");
}

static void
test_bad_flags(void **state)
{
	int64_t ival = 0;
	struct flag tab[] = {
	    {"interval", 0, NULL, FLAG_DURATION, &ival, "30s", "i"},
	    FLAG_END,
	};
	char *unknown[] = {"p", "--nope", NULL};
	char *novalue[] = {"p", "--interval", NULL};
	char *stray[] = {"p", "stray", NULL};

	assert_int_equal(flags_parse("p", "", tab, 2, unknown, NULL), -1);
	assert_int_equal(flags_parse("p", "", tab, 2, novalue, NULL), -1);
	assert_int_equal(flags_parse("p", "", tab, 2, stray, NULL), -1);
}

static void
test_ids(void **state)
{
	char long_id[130];
	int c;

	assert_true(id_valid("a"));
	assert_true(id_valid("shop-1.web_2:db"));
	assert_false(id_valid(""));
	assert_false(id_valid("-a"));
	assert_false(id_valid("a/b"));
	assert_false(id_valid("a b"));
	memset(long_id, 'a', 128);
	long_id[128] = '\0';
	assert_true(id_valid(long_id));
	long_id[128] = 'a';
	long_id[129] = '\0';
	assert_false(id_valid(long_id));
	/* every byte, first and later, against the pattern */
	for (c = 1; c < 256; c++) {
		char one[2] = {(char)c, '\0'}, two[3] = {'a', (char)c, '\0'};
		bool alnum = isalnum(c) && c < 128;

		assert_int_equal(id_valid(one), alnum);
		assert_int_equal(id_valid(two),
		                 alnum || strchr("._:-", c) != NULL);
	}

	assert_true(source_kind_valid("git"));
	assert_true(source_kind_valid("docker-compose_v2"));
	assert_false(source_kind_valid("Git"));
	assert_false(source_kind_valid("../x"));
	assert_false(source_kind_valid("_x"));
	assert_true(kind_valid("site"));
	assert_false(kind_valid("Site"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),  cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_precedence), cmocka_unit_test(test_bad_flags),
	    cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
