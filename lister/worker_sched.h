/*
 * worker_sched.h: what the Docker thread does next, decided from a plain
 * copy of its state and the time: no lock, no clock, no I/O. The worker
 * takes its lock, fills a struct worker_sched, calls worker_sched_next,
 * and acts.
 */
#ifndef RECON_WORKER_SCHED_H
#define RECON_WORKER_SCHED_H

#include <stdbool.h>
#include <stdint.h>

/* The longest sleep when idle; backoffs after failed calls or sends go
 * from the first to the last, at most the pass interval. */
#define WORKER_WAIT_MAX_MS    (3600 * 1000)
#define WORKER_BACKOFF_MIN_MS 1000
#define WORKER_BACKOFF_MAX_MS 30000

enum worker_job {
	WORKER_STOP,      /* the worker is stopping: end the thread */
	WORKER_WAIT,      /* nothing due: sleep until worker_next.until */
	WORKER_EXPIRE,    /* suspects' grace is over: count them as missed */
	WORKER_APPLY,     /* event states wait: apply them (no Docker call) */
	WORKER_PASS,      /* a full pass, taking every hint */
	WORKER_REREAD,    /* re-read the hints due by worker_next.take_due */
	WORKER_HEARTBEAT, /* no list succeeded for one timeout: probe */
};

/* The worker's scheduling state; times are mono_ms, INT64_MAX for never. */
struct worker_sched {
	bool stop;
	bool pass_asked;     /* a resync or a relist waits */
	bool pending;        /* some hint has an event state to apply */
	bool failing;        /* the latest call failed: passes only */
	bool stream_up;      /* Docker's event stream is open */
	bool ever_ok;        /* some full pass succeeded */
	int64_t pass_due;    /* the next full pass (interval or backoff) */
	int64_t hint_due;    /* the earliest hint's re-read */
	int64_t suspect_due; /* the earliest suspect's deadline */
	int64_t last_ok;     /* the latest successful list call */
	int64_t timeout_ms;  /* heartbeat after this long without one */
};

struct worker_next {
	enum worker_job job;
	int64_t until;    /* WORKER_WAIT: wake by then at the latest */
	int64_t take_due; /* WORKER_PASS, WORKER_REREAD: take hints due by it */
};

/*
 * The next job at now. In order: stop; the suspects' expiry (only while
 * the stream is up: without it no event could have announced them yet);
 * event states to apply (no Docker call, and a list run first would
 * predate the event); a pass asked for or due (it answers every hint);
 * then, unless calls are failing (passes only, after the backoff), a
 * re-read of the hints whose window closed, coalescing those that close
 * within one more WORKER_COALESCE_MS, and the heartbeat once no list has
 * succeeded for one timeout; else a wait for the earliest of these.
 */
struct worker_next worker_sched_next(const struct worker_sched *, int64_t now);

/*
 * The next wait of a doubling backoff kept in *b (0: none yet): from
 * WORKER_BACKOFF_MIN_MS, capped at interval_ms and WORKER_BACKOFF_MAX_MS,
 * and taken at 75% to 100% by rnd (any random number) so that many
 * listers do not retry as one. At least 1.
 */
int64_t worker_sched_backoff(int64_t *b, int64_t interval_ms, unsigned int rnd);

#endif
