/*
 * wltab_test.c: the sorted workload table against a plain model: every
 * insert and removal keeps the ids in order and each value findable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wltab.h"

#define N 500

static void
check_sorted(const struct wltab *t)
{
	size_t i;

	for (i = 1; i < t->n; i++)
		assert_true(strcmp(t->e[i - 1].id, t->e[i].id) < 0);
}

static void
test_put_get_del(void **state)
{
	static char ids[N][16];
	struct wltab t = {0};
	size_t i, k;

	/* a fixed permutation of 0..N-1 (7 is prime to N) */
	for (i = 0; i < N; i++) {
		k = (i * 7) % N;
		snprintf(ids[k], sizeof(ids[k]), "w%03zu", k);
		assert_null(wltab_get(&t, ids[k]));
		wltab_put(&t, ids[k], ids[k]);
		assert_ptr_equal(wltab_get(&t, ids[k]), ids[k]);
	}
	assert_int_equal(t.n, N);
	check_sorted(&t);
	/* the odd ones go; the even ones stay where they were */
	for (i = 1; i < N; i += 2)
		assert_ptr_equal(wltab_del(&t, ids[i]), ids[i]);
	assert_int_equal(t.n, N / 2);
	check_sorted(&t);
	for (i = 0; i < N; i++)
		if (i % 2 == 0)
			assert_ptr_equal(wltab_get(&t, ids[i]), ids[i]);
		else
			assert_null(wltab_get(&t, ids[i]));
	assert_null(wltab_del(&t, "w001"));
	assert_null(wltab_del(&t, "nobody"));
	wltab_free(&t);
	assert_int_equal(t.n, 0);
}

static void
test_edges(void **state)
{
	struct wltab t = {0};
	int a, b, c;

	/* empty */
	assert_null(wltab_get(&t, "a"));
	assert_null(wltab_del(&t, "a"));
	/* first, last, middle; a prefix sorts before its extension */
	wltab_put(&t, "ab", &b);
	wltab_put(&t, "a", &a);
	wltab_put(&t, "b", &c);
	assert_string_equal(t.e[0].id, "a");
	assert_string_equal(t.e[1].id, "ab");
	assert_string_equal(t.e[2].id, "b");
	assert_ptr_equal(wltab_del(&t, "b"), &c);
	assert_ptr_equal(wltab_del(&t, "a"), &a);
	assert_ptr_equal(wltab_get(&t, "ab"), &b);
	assert_ptr_equal(wltab_del(&t, "ab"), &b);
	assert_int_equal(t.n, 0);
	wltab_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_get_del),
	    cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
