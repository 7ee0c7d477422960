/*
 * queue_test.c: the run queue's rules, one named case each: folding into
 * one follow-up run, the concurrency cap, urgent requests first, and the
 * precedence of reasons in a fold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue.h"

static struct q_req *
req(enum q_reason r, uint64_t rev)
{
	struct q_req *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	q->reason = r;
	q->rev = rev;
	q->source_kind = strdup("git");
	q->doc = json_object_new_object();
	return q;
}

static void
test_fold_while_running(void **state)
{
	struct queue q;
	struct q_wl *wl;
	int i;

	queue_init(&q, 4);
	queue_submit(&q, "a", req(Q_PASS, 1));
	assert_non_null(wl = queue_next(&q));
	assert_string_equal(wl->id, "a");
	assert_int_equal(q.running, 1);
	for (i = 0; i < 20; i++)
		queue_submit(&q, "a", req(Q_MANUAL, 2 + (uint64_t)i));
	assert_int_equal(q.queued, 1);
	assert_int_equal(q.folded, 19);
	/* one run per workload: nothing starts while a runs */
	assert_null(queue_next(&q));
	queue_done(&q, wl);
	assert_non_null(wl = queue_next(&q));
	assert_string_equal(wl->id, "a");
	assert_int_equal(wl->current->reason, Q_MANUAL);
	assert_int_equal(wl->current->rev, 21); /* the newest records */
	assert_null(queue_next(&q));
	queue_done(&q, wl);
	assert_int_equal(q.wls.n, 0); /* idle workloads are forgotten */
	assert_int_equal(q.queued, 0);
	assert_int_equal(q.running, 0);
	queue_fini(&q);
}

static void
test_concurrency_cap(void **state)
{
	struct q_wl *a, *b, *c;
	struct queue q;

	queue_init(&q, 2);
	queue_submit(&q, "a", req(Q_PASS, 1));
	queue_submit(&q, "b", req(Q_PASS, 1));
	queue_submit(&q, "c", req(Q_PASS, 1));
	assert_non_null(a = queue_next(&q));
	assert_non_null(b = queue_next(&q));
	assert_null(queue_next(&q));
	assert_int_equal(q.running, 2);
	assert_int_equal(q.queued, 1);
	queue_done(&q, b);
	assert_non_null(c = queue_next(&q));
	assert_string_equal(c->id, "c");
	assert_null(queue_next(&q));
	queue_fini(&q); /* frees running ones too */
}

static void
test_urgent_first(void **state)
{
	const char *want[] = {"s", "m", "p1", "p2"};
	struct q_wl *wl;
	struct queue q;
	size_t i;

	queue_init(&q, 10);
	queue_submit(&q, "p1", req(Q_PASS, 1));
	queue_submit(&q, "p2", req(Q_PASS, 1));
	queue_submit(&q, "s", req(Q_STATE, 1));
	queue_submit(&q, "m", req(Q_MANUAL, 1));
	for (i = 0; i < 4; i++) {
		assert_non_null(wl = queue_next(&q));
		assert_string_equal(wl->id, want[i]);
	}
	queue_fini(&q);
}

static void
test_fold_keeps_highest_reason(void **state)
{
	struct q_wl *wl;
	struct queue q;

	queue_init(&q, 1);
	queue_submit(&q, "x", req(Q_PASS, 1));
	queue_submit(&q, "y", req(Q_PASS, 1));
	/* y is upgraded by a state request: it moves ahead of x */
	queue_submit(&q, "y", req(Q_STATE, 2));
	/* and a later pass does not take the state away */
	queue_submit(&q, "y", req(Q_PASS, 3));
	assert_non_null(wl = queue_next(&q));
	assert_string_equal(wl->id, "y");
	assert_int_equal(wl->current->reason, Q_STATE);
	assert_int_equal(wl->current->rev, 3);
	queue_done(&q, wl);
	assert_non_null(wl = queue_next(&q));
	assert_string_equal(wl->id, "x");
	assert_int_equal(wl->current->reason, Q_PASS);
	queue_fini(&q);
}

static void
test_reason_names(void **state)
{
	enum q_reason r;

	assert_int_equal(q_reason_parse("state", &r), 0);
	assert_int_equal(r, Q_STATE);
	assert_string_equal(q_reason_name(r), "state");
	assert_int_equal(q_reason_parse("pass", &r), 0);
	assert_int_equal(r, Q_PASS);
	assert_int_equal(q_reason_parse("manual", &r), 0);
	assert_int_equal(r, Q_MANUAL);
	assert_int_equal(q_reason_parse("reboot", &r), -1);
	assert_int_equal(q_reason_parse(NULL, &r), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold_while_running),
	    cmocka_unit_test(test_concurrency_cap),
	    cmocka_unit_test(test_urgent_first),
	    cmocka_unit_test(test_fold_keeps_highest_reason),
	    cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
