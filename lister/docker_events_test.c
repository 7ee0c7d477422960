/*
 * docker_events_test.c: where each Docker events stream's replay starts.
 * The first stream asks from one second before it opens; every later one
 * from the last event any stream delivered, so that a reconnect replays
 * exactly what happened while the stream was down, however long the
 * backoff took; events older than the opening are replays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "docker_events.h"

#define S 1000000000LL /* ns in a second */

static void
test_first_stream(void **state)
{
	struct docker_events_resume r = {0};

	/* whole seconds, one before now: Docker's headers come before it
	 * registers the subscriber */
	assert_int_equal(docker_events_resume_since(&r, 1000 * S + 700000000),
	                 999 * S);
	/* a failed attempt moves nothing: the next asks from the same time */
	assert_int_equal(docker_events_resume_since(&r, 1005 * S), 999 * S);
}

static void
test_resume_after_last_event(void **state)
{
	struct docker_events_resume r = {0};

	docker_events_resume_since(&r, 1000 * S);
	docker_events_resume_open(&r, 1000 * S + 5);
	/* replayed from the ring: older than the opening */
	assert_true(docker_events_resume_event(&r, 999 * S + 300));
	/* live */
	assert_false(docker_events_resume_event(&r, 1002 * S + 42));
	/* unstamped: neither moves the resume point nor counts as a replay */
	assert_false(docker_events_resume_event(&r, 0));
	/* the stream drops; the backoff takes 7 s: the next stream still asks
	 * from the last event, not from its own opening */
	assert_int_equal(docker_events_resume_since(&r, 1009 * S),
	                 1002 * S + 42);
	docker_events_resume_open(&r, 1009 * S + 100);
	/* what happened while it was down comes as a replay */
	assert_true(docker_events_resume_event(&r, 1005 * S));
	assert_true(docker_events_resume_event(&r, 1006 * S));
	assert_false(docker_events_resume_event(&r, 1010 * S));
	assert_int_equal(docker_events_resume_since(&r, 1020 * S), 1010 * S);
}

static void
test_never_backwards(void **state)
{
	struct docker_events_resume r = {0};

	docker_events_resume_since(&r, 1000 * S);
	docker_events_resume_open(&r, 1000 * S);
	assert_false(docker_events_resume_event(&r, 1003 * S));
	/* the inclusive replay of the last one, or an out-of-order stamp */
	assert_true(docker_events_resume_event(&r, 999 * S + 1));
	assert_int_equal(docker_events_resume_since(&r, 1010 * S), 1003 * S);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_stream),
	    cmocka_unit_test(test_resume_after_last_event),
	    cmocka_unit_test(test_never_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
