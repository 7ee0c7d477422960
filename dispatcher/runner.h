/*
 * runner.h: plugin runs from dispatch jobs to results: requests into the
 * queue, runs started while slots are free, their stderr, timeouts (TERM
 * to the group, KILL later), and each run's plugin_result pushed to the
 * store's ingest, kept while the store does not take it.
 */
#ifndef RECON_RUNNER_H
#define RECON_RUNNER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "plugin.h"
#include "queue.h"
#include "wire.h"

#define RUNNER_OUTBOX_MAX 10000 /* results kept while the store is away */
#define RUNNER_RETRY_MS   500   /* how often they are offered again */

struct runner_conf {
	const char *plugin_dir;
	struct plugin_env env;
	int64_t timeout_ms; /* then SIGTERM to the group */
	int64_t kill_ms;    /* after SIGTERM, SIGKILL */
	size_t concurrency;
	nng_socket ingest; /* PUSH */
};

enum runner_ctr {
	RC_RUNS,           /* runs finished (refused ones included) */
	RC_FAILURES,       /* of which not ok */
	RC_TIMEOUTS,       /* runs ended by the timeout */
	RC_REFUSED,        /* plugins refused before they ran */
	RC_JOBS,           /* dispatch jobs taken */
	RC_BAD_JOBS,       /* dispatch jobs dropped as malformed */
	RC_RESULTS_SENT,   /* plugin_result messages the store took */
	RC_RESULTS_LOST,   /* dropped with the outbox full */
	RC_RESULTS_BUSY,   /* sends the store's ingest refused as busy */
	RC_JOBS_FORBIDDEN, /* jobs refused for the peer's uid (SPEC §2) */
	RC_COUNT
};

struct run;
struct outbox_msg;

struct runner {
	struct runner_conf conf;
	struct queue q;
	struct run *runs;    /* under way */
	struct run *lingers; /* timed out, exited, group not yet killed */
	struct outbox_msg *out_head, *out_tail;
	size_t nout;
	int64_t out_due; /* mono time the outbox is tried again, 0: now */
	uint64_t ctr[RC_COUNT];
};

extern const char *const runner_ctr_names[RC_COUNT];

void runner_init(struct runner *, const struct runner_conf *);
/* Ends every run (TERM, then KILL after at most wait_ms) and frees all. */
void runner_fini(struct runner *, int64_t wait_ms);

/* One dispatch job (the msgpack message), decoded into d (memory from
 * a): each workload becomes a request. 0, or -1 when the job is
 * malformed (counted, logged, dropped). */
int runner_job(struct runner *, const void *msg, size_t len, struct arena *a,
               struct wire_dispatch *d);
/* One workload of a decoded job. 0, or -1 logged. */
int runner_submit(struct runner *, const struct wire_job_item *, enum q_reason,
                  uint64_t rev);

/* Exits, timeouts, kills, starts and the outbox: call after every wake. */
void runner_tick(struct runner *);
/* The stderr pipes to poll (at most max); their count. */
size_t runner_pollfds(const struct runner *, struct pollfd *, size_t max);
/* Reads the pipes poll found ready. */
void runner_io(struct runner *, const struct pollfd *, size_t n);
/* ms until runner_tick has a deadline to act on; -1 none. */
int64_t runner_timeout(const struct runner *);

#endif
