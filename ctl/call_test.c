/*
 * call_test.c: reconctl's reading of operator JSON (ctl_read_workload,
 * ctl_read_row): a good record, and the inputs it refuses before json-c
 * builds them: too many bytes, too many values, more after the object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "ctl.h"

struct ctl_opts ctl_opts; /* main.c's, which the test does not link */

static char path[64];

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/call_test.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* The file: head, then fill repeated n times, then tail. */
static void
put_file(const char *head, const char *fill, size_t n, const char *tail)
{
	FILE *f = fopen(path, "w");
	size_t i;

	assert_non_null(f);
	fputs(head, f);
	for (i = 0; i < n; i++)
		fputs(fill, f);
	fputs(tail, f);
	assert_int_equal(fclose(f), 0);
}

/* ctl_read_workload on the file. */
static int
read_wl(struct wire_workload *w, struct arena **a)
{
	*a = arena_new();
	assert_non_null(*a);
	return ctl_read_workload(path, *a, w);
}

static const char good[] = "{\"id\": \"w1\", \"name\": \"W, [one]\", "
                           "\"kind\": \"stack\", \"source_config\": "
                           "\"{\\\"a\\\": [1, 2, {\\\"b\\\": \\\",\\\"}]}\"}";

static void
test_good(void **state)
{
	struct wire_workload w;
	struct arena *a;

	(void)state;
	put_file(good, "", 0, "\n\n  \t\n");
	assert_int_equal(read_wl(&w, &a), 0);
	assert_string_equal(w.id, "w1");
	assert_string_equal(w.name, "W, [one]");
	assert_string_equal(w.source_config, "{\"a\": [1, 2, {\"b\": \",\"}]}");
	arena_free(a);
}

/* Commas and brackets inside strings are no values: a JSON-text field of
 * many thousands of them is a record like any other. */
static void
test_values_in_strings(void **state)
{
	struct wire_workload w;
	struct arena *a;

	(void)state;
	put_file("{\"id\": \"w1\", \"name\": \"w\", \"kind\": \"stack\", "
	         "\"source_config\": \"[",
	         "{\\\"a\\\":[1,2]},", 20000, "0]\"}");
	assert_int_equal(read_wl(&w, &a), 0);
	assert_int_equal(strlen(w.source_config), 1 + 12 * 20000 + 2);
	arena_free(a);
}

static void
test_too_large(void **state)
{
	struct wire_workload w;
	struct arena *a;

	(void)state;
	/* one string past the byte bound: refused before it is parsed */
	put_file("{\"id\": \"w1\", \"name\": \"w\", \"kind\": \"stack\", "
	         "\"source_config\": \"",
	         "xxxxxxxxxxxxxxxx", CTL_INPUT_MAX / 16, "\"}");
	assert_int_equal(read_wl(&w, &a), -1);
	arena_free(a);
	/* white space past the bound after the object, too */
	put_file(good, "                ", CTL_INPUT_MAX / 16, "");
	assert_int_equal(read_wl(&w, &a), -1);
	arena_free(a);
}

static void
test_too_many_values(void **state)
{
	struct wire_workload w;
	struct arena *a;

	(void)state;
	/* 4 MiB of an array: json-c would build 2 million objects */
	put_file("{\"id\": \"w1\", \"junk\": [", "0,", 2u << 20, "0]}");
	assert_int_equal(read_wl(&w, &a), -1);
	arena_free(a);
	put_file("{\"id\": \"w1\"", ", \"k\": 1", CTL_INPUT_VALUES, "}");
	assert_int_equal(read_wl(&w, &a), -1);
	arena_free(a);
}

static void
test_more_after(void **state)
{
	struct wire_workload w;
	struct wire_row row;
	struct arena *a;

	(void)state;
	put_file(good, "", 0, " {}");
	assert_int_equal(read_wl(&w, &a), -1);
	arena_free(a);
	put_file(good, "", 0, "x");
	assert_int_equal(read_wl(&w, &a), -1);
	arena_free(a);
	/* the same reading for rows */
	put_file("{\"id\": \"w1:a\", \"workload_id\": \"w1\"}", "", 0, "]");
	a = arena_new();
	assert_int_equal(ctl_read_row(path, a, &row), -1);
	arena_free(a);
	put_file("{\"id\": \"w1:a\", \"workload_id\": \"w1\"}", "", 0, "\n");
	a = arena_new();
	assert_int_equal(ctl_read_row(path, a, &row), 0);
	assert_string_equal(row.id, "w1:a");
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values_in_strings, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_values, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_more_after, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
