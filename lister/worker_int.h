/*
 * worker_int.h: the Docker thread's state, shared by the files that do
 * its jobs (worker.c the thread and its callers' side, worker_pass.c,
 * worker_reread.c, worker_apply.c); nothing outside them includes it.
 */
#ifndef RECON_WORKER_INT_H
#define RECON_WORKER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "hints.h"
#include "known.h"
#include "suspects.h"
#include "wire.h"
#include "worker.h"

#define REREAD_MAX      64   /* containers in one re-read; more: a pass */
#define MISSED_GRACE_MS 1000 /* an event may trail the change it reports */

/* One thread does every list call and every send: see worker.c. */
struct worker {
	struct worker_conf conf;
	struct docker *dk;
	struct known *known; /* the worker thread's own */
	pthread_t thread;
	bool started;
	int wakefd; /* eventfd: a pass finished */

	/* the worker thread's own */
	uint64_t gen;            /* of the latest snapshot; deltas carry it */
	int64_t backoff_ms;      /* after failed Docker calls */
	int64_t send_backoff_ms; /* after failed sends */
	bool failing;            /* the latest call failed: next is a pass */
	bool send_failed;        /* the latest send failed */
	uint64_t auth_seen;      /* refused TLS handshakes already said */
	int64_t pass_due;        /* mono_ms of the next full pass */
	struct hint *batch;      /* HINTS_MAX, taken out of hints */
	unsigned int rng;        /* jitter */

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	bool stop, resync, relist;
	bool reconnected; /* ingest connected again: a pass is owed */
	struct hints hints;
	struct suspects sus;
	bool stream_up; /* Docker's event stream is open (worker_stream) */
	struct worker_status st;
};

/* The jobs (worker_sched.h), each on the worker thread. */
/* A full pass: 0 when a snapshot was built (sent or not), else -1.
 * covered: the hints taken when it began, which its list answers. */
int worker_pass(struct worker *, const struct hint *covered, size_t ncovered);
/* The cheapest list Docker answers from the same code path as a pass. */
void worker_heartbeat(struct worker *);
/* A re-read round: 0 done, -1 a call failed, 1 a pass should do it. */
int worker_reread(struct worker *, const struct hint *batch, size_t nb);
/* Pushes the states the events of hs define, at once. */
void worker_apply(struct worker *, const struct hint *hs, size_t nh);

/* What the jobs share (worker.c, worker_apply.c). */
/* Adds n to a counter of w->st, under the lock. */
void worker_count(struct worker *, uint64_t *counter, uint64_t n);
bool worker_stopping(struct worker *);
/* Any list call succeeded: Docker answers. */
void worker_list_ok(struct worker *);
/* Any list call failed: the next is a full pass, after the backoff. */
void worker_list_failed(struct worker *, const char *what, const char *why);
/* Pushes one encoded message to ingest: 0, or -1 (logged, counted, and
 * the next pass moved up). */
int worker_push(struct worker *, const struct wbuf *, const char *what,
                uint64_t gen);
/* A list found id changed and no event had said so yet (suspects.h). */
void worker_suspect(struct worker *, const char *id);
/* Whether id is among ids[0..n). */
bool worker_ids_have(char *const *ids, size_t n, const char *id);
/*
 * Holds a list (a pass's, or a re-read's) against the events it may
 * predate, the batch's hints hs and those waiting: replaces or drops
 * elements of cs in place; *ncs shrinks by the dropped.
 */
void worker_recheck(struct worker *, struct arena *, const struct hint *hs,
                    size_t nh, struct wire_container *cs, size_t *ncs);

#endif
