/*
 * worker.h: the lister's Docker thread. It alone lists Docker and pushes
 * to ingest: a full pass at start, every interval and on request (a
 * snapshot), a re-read of the containers events point at (a delta), and
 * an idle heartbeat list; a hung Docker call never stalls the main loop
 * (SPEC §7), and messages leave in the order their data was read.
 */
#ifndef RECON_WORKER_H
#define RECON_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker.h"
#include "hostproof.h"
#include "nngx.h"

#define WORKER_COALESCE_MS 10 /* events of one container this close fold */
/* A re-read that contradicts its event is repeated every WORKER_RETRY_MS
 * ten times, then doubling: WORKER_RETRIES repeats, about 5 s in all. */
#define WORKER_RETRY_MS 10
#define WORKER_RETRIES  18

struct worker_conf {
	const char *docker_host; /* DOCKER_HOST form */
	const char *prefix;      /* label prefix, e.g. "tinyforge." */
	const char *host_name;   /* snapshot host */
	int64_t interval_ms;     /* between full passes, already clamped */
	int64_t timeout_ms;      /* each Docker call; also each send */
	size_t max_body;         /* largest Docker response */
	nng_socket push;         /* dialled to ingest; the worker owns it */
	/* a remote store's (SPEC §10): every message leaves sealed with our
	 * certificate and key; NULL over ipc. The worker thread's alone. */
	struct hostproof_signer *signer;
};

/* A copy of the worker's status, taken under its lock. */
struct worker_status {
	bool ever_ok;         /* some full pass succeeded since start */
	bool last_ok;         /* the latest finished list call succeeded */
	int64_t last_ok_mono; /* mono_ms of the latest successful list call */
	uint64_t gen;         /* of the latest snapshot */
	char api[DOCKER_VER_LEN];
	char last_error[DOCKER_ERR_LEN];
	uint64_t passes;          /* full passes attempted */
	uint64_t list_failures;   /* passes that sent no snapshot (R8) */
	uint64_t snapshots_sent;  /* accepted by the PUSH socket */
	uint64_t send_failures;   /* snapshots and deltas dropped: no store */
	uint64_t containers_last; /* in the latest snapshot */
	uint64_t list_ms_last;    /* duration of the latest good list */
	uint64_t list_us_last;    /* the same in microseconds */
	uint64_t skipped;         /* containers unrepresentable on the wire */
	uint64_t unlabelled;      /* returned by Docker despite the filter */
	uint64_t resyncs;         /* passes asked for by resync or SIGHUP */
	uint64_t relists;         /* passes after the events stream opened */
	uint64_t reconnects;      /* passes after ingest connected again */
	uint64_t seal_failures;   /* messages not sent: unable to seal */
	uint64_t hints;           /* events handed over by the events thread */
	uint64_t hint_overflows;  /* hints dropped for a full pass */
	uint64_t rereads;         /* re-read rounds that succeeded */
	uint64_t stale_reads;     /* re-reads that contradicted their event */
	uint64_t event_applied;   /* event states pushed before any re-read */
	uint64_t event_overruled; /* ... that the list kept contradicting */
	uint64_t reread_failures; /* re-read rounds that failed */
	uint64_t deltas_sent;     /* accepted by the PUSH socket */
	uint64_t heartbeats;      /* idle list probes that succeeded */
	uint64_t missed_events;   /* changes a pass found, no event announced */
};

struct worker;

/* NULL on failure (logged). The Docker client is created here, so a bad
 * DOCKER_HOST fails before any thread starts. */
struct worker *worker_new(const struct worker_conf *);
/*
 * Starts the thread; 0, or -1 logged. Its first pass waits for
 * worker_relist (the events stream is up, or failed to come up) for at
 * most one Docker timeout, so that nothing falls between list and watch.
 */
int worker_start(struct worker *);
/*
 * Ingest connected (again): nng redials a lost store by itself, but what
 * was sent meanwhile is lost and a restarted store may hold an older
 * index, so a full pass follows (after the first pass: the start's own
 * pass covers the first connection). Safe from any thread (nng's).
 */
void worker_connected(struct worker *);
/* Polls readable after each finished pass; drain with worker_drain. */
int worker_wake_fd(const struct worker *);
void worker_drain(struct worker *);
/* Asks for a full pass now (after the call running, if any). */
void worker_resync(struct worker *);
/* The same, because the events stream (re)opened or its first attempt
 * failed: whatever happened while it was down is only in a list. */
void worker_relist(struct worker *);
/*
 * An event for container id (hex) of workload wid ("" when the event did
 * not say): re-read it, and the other known containers of its workload,
 * once its coalescing window is over; gone: Docker destroyed it; expect:
 * the enum parse_expect of the event, a re-read that contradicts it is
 * repeated; sets: the enum parse_sets of the event, applied at once to a
 * container the lister knows (as is gone). Safe from any thread; never
 * blocks on Docker.
 */
void worker_hint(struct worker *, const char *id, const char *wid, bool gone,
                 int expect, int sets);
/*
 * Whether Docker's event stream is open. A change a list finds while it
 * is down can only be announced by the replay of the next stream, so it
 * counts as missed only if no event names it within the grace after the
 * stream is back. Safe from any thread.
 */
void worker_stream(struct worker *, bool up);
void worker_status(struct worker *, struct worker_status *);
/*
 * Stops the thread: cancels a Docker call in flight, closes the PUSH
 * socket if a send still blocks, and waits at most wait_ms in all. 0 when
 * the thread ended and everything was freed; -1 when it is still stuck,
 * in which case nothing is freed and the caller should just exit.
 */
int worker_stop(struct worker *, int64_t wait_ms);

#endif
