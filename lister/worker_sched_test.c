/*
 * worker_sched_test.c: the Docker thread's scheduler with a fake clock:
 * one table of named cases (which job, or how long to wait, from a state
 * and a time), then runs of the clock through coalescing, backoff, the
 * heartbeat and the suspects' grace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "hints.h"
#include "parse.h"
#include "suspects.h"
#include "worker.h"
#include "worker_sched.h"

#define NEVER INT64_MAX
#define T     100000 /* the fake clock's "now" in the table */

/* Each case states only how it differs from IDLE: a later designator
 * replaces an earlier one, as C says, and on purpose here. */
#pragma GCC diagnostic ignored "-Woverride-init"

/* A worker that listed fine at T - 1000 and has nothing to do until its
 * next pass at T + 60000. */
#define IDLE                                                                   \
	.pass_due = T + 60000, .hint_due = NEVER, .suspect_due = NEVER,        \
	.ever_ok = true, .last_ok = T - 1000, .timeout_ms = 5000,              \
	.stream_up = true

struct sched_case {
	const char *name;
	struct worker_sched s;
	enum worker_job job;
	int64_t at; /* WORKER_WAIT: until; WORKER_PASS, _REREAD: take_due */
};

static const struct sched_case cases[] = {
    {"idle: sleep until the heartbeat", {IDLE}, WORKER_WAIT, T + 4000},
    {"idle, never listed: sleep until the pass",
     {IDLE, .ever_ok = false},
     WORKER_WAIT,
     T + 60000},
    {"idle for long: the sleep is capped",
     {IDLE, .ever_ok = false, .pass_due = NEVER},
     WORKER_WAIT,
     T + WORKER_WAIT_MAX_MS},
    {"stopping beats everything",
     {IDLE, .stop = true, .pending = true, .pass_asked = true, .pass_due = T,
      .hint_due = T, .suspect_due = T},
     WORKER_STOP,
     0},
    {"suspects expire before anything else",
     {IDLE, .pending = true, .pass_due = T, .suspect_due = T},
     WORKER_EXPIRE,
     0},
    {"suspects wait while the stream is down",
     {IDLE, .stream_up = false, .suspect_due = T - 1},
     WORKER_WAIT,
     T + 4000},
    {"a suspect's deadline wakes the thread",
     {IDLE, .suspect_due = T + 1000},
     WORKER_WAIT,
     T + 1000},
    {"events to apply go before a due pass",
     {IDLE, .pending = true, .pass_due = T, .hint_due = T},
     WORKER_APPLY,
     0},
    {"events to apply while calls fail",
     {IDLE, .pending = true, .failing = true},
     WORKER_APPLY,
     0},
    {"a due pass goes before a due re-read, taking every hint",
     {IDLE, .pass_due = T, .hint_due = T - 5},
     WORKER_PASS,
     NEVER},
    {"a resync or relist is a pass now",
     {IDLE, .pass_asked = true},
     WORKER_PASS,
     NEVER},
    {"a resync while calls fail is a pass now",
     {IDLE, .pass_asked = true, .failing = true},
     WORKER_PASS,
     NEVER},
    {"a closed window: a re-read, with those closing within one more",
     {IDLE, .hint_due = T},
     WORKER_REREAD,
     T + WORKER_COALESCE_MS},
    {"an open window wakes the thread at its end",
     {IDLE, .hint_due = T + 7},
     WORKER_WAIT,
     T + 7},
    {"a re-read goes before a heartbeat",
     {IDLE, .hint_due = T, .last_ok = T - 9000},
     WORKER_REREAD,
     T + WORKER_COALESCE_MS},
    {"no list for one timeout: a heartbeat",
     {IDLE, .last_ok = T - 5000},
     WORKER_HEARTBEAT,
     0},
    {"failing: no re-read, no heartbeat, only the pass after the backoff",
     {IDLE, .failing = true, .hint_due = T - 1, .last_ok = T - 9000,
      .pass_due = T + 2000},
     WORKER_WAIT,
     T + 2000},
    {"failing: the backoff is over",
     {IDLE, .failing = true, .hint_due = T - 1, .pass_due = T},
     WORKER_PASS,
     NEVER},
};

static void
test_table(void **state)
{
	const struct sched_case *c;
	struct worker_next n;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		n = worker_sched_next(&c->s, T);
		if (n.job != c->job) {
			print_error("%s: job %d, not %d\n", c->name, n.job,
			            c->job);
			fail();
		}
		if (c->job == WORKER_WAIT && n.until != c->at) {
			print_error("%s: until %lld, not %lld\n", c->name,
			            (long long)n.until, (long long)c->at);
			fail();
		}
		if ((c->job == WORKER_PASS || c->job == WORKER_REREAD) &&
		    n.take_due != c->at) {
			print_error("%s: take_due %lld, not %lld\n", c->name,
			            (long long)n.take_due, (long long)c->at);
			fail();
		}
	}
}

/* A burst of events over a few ms is one re-read of all its containers,
 * WORKER_COALESCE_MS after the first; one just past it waits its own. */
static void
test_coalescing(void **state)
{
	struct worker_sched s = {IDLE};
	struct hints h = {0};
	struct hint out[8];
	struct worker_next n;
	int64_t now = T;

	assert_int_equal(hints_add(&h, "aa", "", false, PARSE_EXPECT_ANY,
	                           PARSE_SETS_NONE, now + WORKER_COALESCE_MS),
	                 0);
	now += 3;
	hints_add(&h, "bb", "", false, PARSE_EXPECT_ANY, PARSE_SETS_NONE,
	          now + WORKER_COALESCE_MS);
	now = T + WORKER_COALESCE_MS - 1;
	hints_add(&h, "cc", "", false, PARSE_EXPECT_ANY, PARSE_SETS_NONE,
	          now + WORKER_COALESCE_MS);
	s.hint_due = hints_next_due(&h);
	/* the first window is still open */
	n = worker_sched_next(&s, T + WORKER_COALESCE_MS - 1);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == T + WORKER_COALESCE_MS);
	/* it closed: aa and bb, and cc whose window ends within one more */
	now = T + WORKER_COALESCE_MS;
	n = worker_sched_next(&s, now);
	assert_int_equal(n.job, WORKER_REREAD);
	assert_int_equal(hints_take(&h, n.take_due, out, 8), 3);
	assert_int_equal(h.n, 0);

	/* one event a full window later is a re-read of its own */
	hints_add(&h, "aa", "", false, PARSE_EXPECT_ANY, PARSE_SETS_NONE,
	          now + 1 + WORKER_COALESCE_MS);
	hints_add(&h, "dd", "", false, PARSE_EXPECT_ANY, PARSE_SETS_NONE,
	          now + 1 + 2 * WORKER_COALESCE_MS + 1);
	s.hint_due = hints_next_due(&h);
	n = worker_sched_next(&s, now + 1 + WORKER_COALESCE_MS);
	assert_int_equal(n.job, WORKER_REREAD);
	assert_int_equal(hints_take(&h, n.take_due, out, 8), 1);
	assert_string_equal(out[0].id, "aa");
	s.hint_due = hints_next_due(&h);
	n = worker_sched_next(&s, now + 1 + WORKER_COALESCE_MS);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == now + 1 + 2 * WORKER_COALESCE_MS + 1);
	hints_free(&h);
}

/* Failed calls back off from 1 s, doubling, to the cap: the interval
 * when shorter than 30 s; each wait 75% to 100% of the step. */
static void
test_backoff(void **state)
{
	static const int64_t steps[] = {1000,  2000,  4000, 8000,
	                                16000, 30000, 30000};
	int64_t b = 0, lo = 0;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_true(worker_sched_backoff(&b, 60000, 0) == steps[i]);
		assert_true(b == steps[i]);
	}
	/* the jitter takes at most a quarter off */
	b = 0;
	for (i = 0; i < 6; i++) {
		lo = worker_sched_backoff(&b, 60000, 0xffffffffu);
		assert_true(lo >= b - b / 4 && lo <= b);
	}
	b = 0;
	assert_true(worker_sched_backoff(&b, 60000, 250) == 750);
	/* capped at a short interval */
	b = 0;
	for (i = 0; i < 5; i++)
		worker_sched_backoff(&b, 5000, 0);
	assert_true(b == 5000);
	/* never a zero wait */
	b = 0;
	assert_true(worker_sched_backoff(&b, 0, 0) == 1);
}

/* A run of the clock: a pass fails, hints pile up and wait, the pass
 * after the backoff takes them all, and the heartbeat comes back once
 * calls succeed and the thread is idle for one timeout. */
static void
test_failing_run(void **state)
{
	struct worker_sched s = {IDLE};
	struct worker_next n;
	int64_t now = T, b = 0;

	/* the pass failed at T */
	s.failing = true;
	s.pass_due = now + worker_sched_backoff(&b, 60000, 0);
	s.hint_due = now + 10;
	n = worker_sched_next(&s, now + 500);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == T + 1000);
	n = worker_sched_next(&s, T + 1000);
	assert_int_equal(n.job, WORKER_PASS);
	assert_true(n.take_due == NEVER);
	/* it failed again: twice the wait */
	now = T + 1000;
	s.pass_due = now + worker_sched_backoff(&b, 60000, 0);
	assert_true(s.pass_due == T + 3000);
	/* then succeeded at T + 3000: back to the interval */
	now = T + 3000;
	s.failing = false;
	s.hint_due = NEVER;
	s.last_ok = now;
	s.pass_due = now + 60000;
	n = worker_sched_next(&s, now + 1);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == now + s.timeout_ms);
	n = worker_sched_next(&s, now + s.timeout_ms);
	assert_int_equal(n.job, WORKER_HEARTBEAT);
}

/* What a list found changed waits for its event for the grace; while
 * the stream is down it cannot come, and the grace starts over when the
 * stream is back. */
static void
test_suspects(void **state)
{
	struct worker_sched s = {IDLE, .last_ok = T + 2900};
	struct suspects sus;
	struct worker_next n;

	suspects_init(&sus);
	assert_int_equal(suspects_add(&sus, "aa", T + 1000), 0);
	assert_int_equal(suspects_add(&sus, "bb", T + 1500), 0);
	assert_int_equal(suspects_add(&sus, "aa", T + 1700), 0);
	assert_true(sus.n == 2);
	s.suspect_due = suspects_next(&sus);
	assert_true(s.suspect_due == T + 1000);
	n = worker_sched_next(&s, T + 999);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == T + 1000);
	/* bb's event came */
	suspects_clear(&sus, "bb");
	/* the stream went down: nothing expires, nothing wakes for it */
	s.stream_up = false;
	n = worker_sched_next(&s, T + 3000);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == T + 7900); /* the heartbeat's */
	/* back at T + 3000: the replay has its grace */
	suspects_grace(&sus, T + 3000 + 1000);
	s.stream_up = true;
	s.suspect_due = suspects_next(&sus);
	n = worker_sched_next(&s, T + 3000);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == T + 4000);
	n = worker_sched_next(&s, T + 4000);
	assert_int_equal(n.job, WORKER_EXPIRE);
	assert_int_equal(suspects_expire(&sus, T + 4000), 1);
	s.suspect_due = suspects_next(&sus);
	assert_true(s.suspect_due == NEVER);
	n = worker_sched_next(&s, T + 4000);
	assert_int_equal(n.job, WORKER_WAIT);
	assert_true(n.until == T + 7900);
	suspects_free(&sus);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),    cmocka_unit_test(test_coalescing),
	    cmocka_unit_test(test_backoff),  cmocka_unit_test(test_failing_run),
	    cmocka_unit_test(test_suspects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
