/*
 * jobs.h: the store's dispatch jobs for recon-dispatcher (SPEC §8, R11):
 * reason pass after each applied complete snapshot, state when a
 * workload's container stops running, manual on request.
 */
#ifndef RECON_JOBS_H
#define RECON_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "db.h"
#include "wire.h"

#define JOBS_RETRY_MS                                                          \
	500            /* how often a job the dispatcher refused is retried */
#define JOBS_SENDBUF 4 /* jobs nng queues while the dispatcher reads */

enum jobs_reason { JOBS_STATE, JOBS_MANUAL, JOBS_PASS, JOBS_NREASONS };

/*
 * What waits to be sent for one reason. Jobs are built from the database
 * when they are sent, not when they are asked for, so whatever folds
 * into a waiting job goes with the latest records: pass names every
 * workload with a source_kind, the others a set of workload ids.
 */
struct jobs_pending {
	bool waiting;
	char **wids; /* sorted, unique (state, manual) */
	size_t nwids, capwids;
	struct wbuf msg;    /* the encoded job, kept while it is refused */
	uint64_t built_rev; /* head the message was built at */
	bool built;
};

struct jobs {
	struct db *db;
	nng_socket sock; /* PUSH to the dispatcher's jobs */
	struct jobs_pending pend[JOBS_NREASONS];
	int64_t due_ms; /* mono time of the next try; 0: none waits */
	/* Every request is folded or goes out in a job (or names nothing
	 * to run): requested = folded + requests_sent + requests_void +
	 * what waits. A state or manual request names one workload; a pass
	 * request names them all and counts once. */
	uint64_t requested;
	uint64_t folded;        /* into a request already waiting */
	uint64_t requests_sent; /* unfolded requests the jobs sent carried */
	uint64_t requests_void; /* no workload of theirs has a source_kind */
	uint64_t sent;          /* job messages the dispatcher's socket took */
	uint64_t busy;          /* sends refused as busy: the job waits */
	uint64_t owed_asked;    /* state runs owed asked for again */
	bool stalled;           /* the last send was refused (logged once) */
};

/* Sets up j to send on sock. */
void jobs_init(struct jobs *j, struct db *db, nng_socket sock);
void jobs_fini(struct jobs *j);

/*
 * A state job for wid (j NULL: no-op): a row of it stopped running (it
 * became missing or stopped, or left running for any other state), as
 * changes.c noted in a transaction that has committed.
 */
void jobs_state(struct jobs *j, const char *wid);
/*
 * Asks again for every state run owed (db_due.c): at start, and whenever
 * the dispatcher connects (it may have died with jobs queued or runs
 * under way). What is owed to a workload that is gone or has no
 * source_kind is forgotten. The number asked for, or -1 on a failed
 * read or write.
 */
int jobs_owed(struct jobs *j);
/* R11: a pass job is due (j NULL: no-op). */
void jobs_pass(struct jobs *j);
/* A manual job for wid, tried at once: 1 sent, 0 waiting for the
 * dispatcher, -1 when j is NULL. */
int jobs_manual(struct jobs *j, const char *wid);
/* Whether a row's change from prev to state makes a state job. */
bool jobs_state_worthy(const char *prev, const char *state);

/* Sends what waits once its time has come (force: now). 0, or -1 when
 * something still waits. */
int jobs_flush(struct jobs *j, bool force);
/* ms until jobs_flush has something to try; -1 when nothing waits. */
int64_t jobs_timeout(const struct jobs *j);

#endif
