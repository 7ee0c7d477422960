/*
 * hints_test.c: hints.c's coalescing: a burst for one container is one
 * hint due at the end of the first event's window, destroy and the latest
 * expectation fold in, retries give way to newer events, and the set is
 * bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hints.h"
#include "parse.h"

static void
test_burst(void **state)
{
	struct hints h = {0};
	struct hint out[4];

	assert_int_equal(hints_add(&h, "aa", "w", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 10),
	                 0);
	assert_int_equal(hints_add(&h, "aa", "", false, PARSE_EXPECT_STOPPED,
	                           PARSE_SETS_NONE, 15),
	                 0);
	assert_int_equal(hints_add(&h, "bb", "", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 12),
	                 0);
	assert_int_equal(hints_add(&h, "aa", "", true, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 18),
	                 0);
	assert_int_equal(h.n, 2);
	assert_true(hints_next_due(&h) == 10);
	assert_true(hints_has(&h, "aa"));
	assert_false(hints_has(&h, "cc"));
	/* Nothing is due before the first window ends. */
	assert_int_equal(hints_take(&h, 9, out, 4), 0);
	assert_int_equal(hints_take(&h, 10, out, 4), 1);
	assert_string_equal(out[0].id, "aa");
	assert_string_equal(out[0].wid, "w"); /* kept from the first event */
	assert_true(out[0].gone);
	/* the latest that implied a state: a destroy implies none */
	assert_int_equal(out[0].expect, PARSE_EXPECT_STOPPED);
	assert_true(hints_next_due(&h) == 12);
	assert_int_equal(hints_take(&h, INT64_MAX, out, 4), 1);
	assert_string_equal(out[0].id, "bb");
	assert_int_equal(h.n, 0);
	assert_true(hints_next_due(&h) == INT64_MAX);
	hints_free(&h);
}

static void
test_take_max(void **state)
{
	struct hints h = {0};
	struct hint out[2];
	char id[8];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "%02x", i);
		assert_int_equal(hints_add(&h, id, "", false, PARSE_EXPECT_ANY,
		                           PARSE_SETS_NONE, i),
		                 0);
	}
	assert_int_equal(hints_take(&h, 100, out, 2), 2);
	assert_string_equal(out[0].id, "00");
	assert_string_equal(out[1].id, "01");
	assert_int_equal(h.n, 3);
	assert_true(hints_next_due(&h) == 2);
	hints_free(&h);
}

static void
test_retry(void **state)
{
	struct hints h = {0};
	struct hint out[2], r;

	assert_int_equal(hints_add(&h, "aa", "w", false, PARSE_EXPECT_STOPPED,
	                           PARSE_SETS_NONE, 10),
	                 0);
	assert_int_equal(hints_take(&h, 10, out, 2), 1);
	r = out[0];
	/* The re-read contradicted the event: again later, one try more. */
	assert_int_equal(hints_retry(&h, &r, 50), 0);
	assert_int_equal(hints_take(&h, 49, out, 2), 0);
	assert_int_equal(hints_take(&h, 50, out, 2), 1);
	assert_int_equal(out[0].tries, 1);
	assert_int_equal(out[0].expect, PARSE_EXPECT_STOPPED);
	/* A newer event waiting wins over a retry... */
	assert_int_equal(hints_add(&h, "aa", "", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 60),
	                 0);
	assert_int_equal(hints_retry(&h, &out[0], 90), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(hints_take(&h, 60, out, 2), 1);
	/* ...inheriting the expectation it lacked */
	assert_int_equal(out[0].expect, PARSE_EXPECT_STOPPED);
	assert_int_equal(out[0].tries, 0);
	/* ...and an event for a retried container is not held back by it. */
	r.tries = 5;
	assert_int_equal(hints_retry(&h, &r, 400), 0);
	assert_int_equal(hints_add(&h, "aa", "", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 70),
	                 0);
	assert_true(hints_next_due(&h) == 70);
	hints_free(&h);
}

static void
test_bounded(void **state)
{
	struct hints h = {0};
	char id[16];
	int i;

	for (i = 0; i < HINTS_MAX; i++) {
		snprintf(id, sizeof(id), "%x", i);
		assert_int_equal(hints_add(&h, id, "", false, PARSE_EXPECT_ANY,
		                           PARSE_SETS_NONE, 0),
		                 0);
	}
	assert_int_equal(hints_add(&h, "ffffff", "", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 0),
	                 -1);
	/* Folding into one that waits still works when full. */
	assert_int_equal(
	    hints_add(&h, "0", "", true, PARSE_EXPECT_ANY, PARSE_SETS_NONE, 0),
	    0);
	assert_int_equal(h.n, HINTS_MAX);
	hints_free(&h);
}

/* An event's state waits to be applied once; after that the hint stays
 * for its re-read, marked applied, and a retry or a newer event keeps the
 * mark. */
static void
test_pending(void **state)
{
	struct hints h = {0};
	struct hint out[4];

	assert_false(hints_pending(&h));
	assert_int_equal(hints_add(&h, "aa", "w", false, PARSE_EXPECT_STOPPED,
	                           PARSE_SETS_EXITED, 10),
	                 0);
	assert_int_equal(hints_add(&h, "bb", "w", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 10),
	                 0);
	assert_true(hints_pending(&h));
	/* a die then a restart before the worker came: the latest state */
	assert_int_equal(hints_add(&h, "aa", "", false, PARSE_EXPECT_STARTED,
	                           PARSE_SETS_RUNNING, 12),
	                 0);
	assert_int_equal(hints_take_pending(&h, out, 4), 1);
	assert_string_equal(out[0].id, "aa");
	assert_int_equal(out[0].sets, PARSE_SETS_RUNNING);
	assert_int_equal(out[0].expect, PARSE_EXPECT_STARTED);
	assert_false(hints_pending(&h));
	assert_int_equal(hints_take_pending(&h, out, 4), 0);
	assert_true(hints_get(&h, "aa")->applied);
	assert_false(hints_get(&h, "bb")->applied);
	assert_null(hints_get(&h, "cc"));
	/* still waiting for its re-read, as applied */
	assert_int_equal(hints_take(&h, 10, out, 4), 2);
	assert_true(out[0].applied);
	assert_int_equal(out[0].sets, PARSE_SETS_NONE);
	/* a newer event that implies no state waits when the stale re-read
	 * is retried: it takes the retried hint's expectation and mark */
	assert_int_equal(hints_add(&h, "aa", "", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 20),
	                 0);
	assert_false(hints_get(&h, "aa")->applied);
	assert_int_equal(hints_retry(&h, &out[0], 30), 0);
	assert_true(hints_get(&h, "aa")->applied);
	assert_int_equal(hints_get(&h, "aa")->expect, PARSE_EXPECT_STARTED);
	assert_false(hints_pending(&h));
	/* a destroy is applied too */
	assert_int_equal(hints_add(&h, "cc", "", true, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, 40),
	                 0);
	assert_true(hints_pending(&h));
	assert_int_equal(hints_take_pending(&h, out, 4), 1);
	assert_true(out[0].apply_gone);
	assert_true(hints_get(&h, "cc")->applied);
	assert_false(hints_get(&h, "cc")->apply_gone);
	hints_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst),   cmocka_unit_test(test_take_max),
	    cmocka_unit_test(test_retry),   cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
