/*
 * worker_sched.c: the Docker thread's scheduler (worker_sched.h), a pure
 * function of its state and the time, so that every ordering it promises
 * is a unit test (worker_sched_test.c) with a fake clock.
 */
#include <stdint.h>

#include "worker_sched.h"
#include "worker.h"

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

struct worker_next
worker_sched_next(const struct worker_sched *s, int64_t now)
{
	struct worker_next n = {WORKER_WAIT, INT64_MAX, 0};
	int64_t due, hb;

	if (s->stop) {
		n.job = WORKER_STOP;
		return n;
	}
	if (s->stream_up && s->suspect_due <= now) {
		n.job = WORKER_EXPIRE;
		return n;
	}
	if (s->pending) {
		n.job = WORKER_APPLY;
		return n;
	}
	if (s->pass_asked || now >= s->pass_due) {
		n.job = WORKER_PASS;
		n.take_due = INT64_MAX;
		return n;
	}
	due = s->pass_due;
	if (s->stream_up)
		due = min64(due, s->suspect_due);
	if (!s->failing) {
		if (s->hint_due <= now) {
			/* the call reads the containers whose windows end
			 * within one more window too: events parsed a moment
			 * apart (across a millisecond, or behind an apply)
			 * share one call */
			n.job = WORKER_REREAD;
			n.take_due = now + WORKER_COALESCE_MS;
			return n;
		}
		due = min64(due, s->hint_due);
		if (s->ever_ok) {
			hb = s->last_ok + s->timeout_ms;
			if (hb <= now) {
				n.job = WORKER_HEARTBEAT;
				return n;
			}
			due = min64(due, hb);
		}
	}
	n.until = min64(due, now + WORKER_WAIT_MAX_MS);
	return n;
}

int64_t
worker_sched_backoff(int64_t *b, int64_t interval_ms, unsigned int rnd)
{
	int64_t cap = min64(interval_ms, WORKER_BACKOFF_MAX_MS), d;

	*b = *b ? *b * 2 : WORKER_BACKOFF_MIN_MS;
	if (*b > cap)
		*b = cap;
	d = *b - (int64_t)(rnd % (unsigned int)(*b / 4 + 1));
	return d > 0 ? d : 1;
}
