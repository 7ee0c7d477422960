/*
 * worker.h: the lister's Docker thread. It lists at start, every interval
 * and on request, and pushes each complete snapshot to ingest itself, so
 * a hung Docker call never stalls the main loop (SPEC §7).
 */
#ifndef RECON_WORKER_H
#define RECON_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker.h"
#include "nngx.h"

struct worker_conf {
	const char *docker_host; /* DOCKER_HOST form */
	const char *prefix;      /* label prefix, e.g. "tinyforge." */
	const char *host_name;   /* snapshot host */
	int64_t interval_ms;     /* between full passes, already clamped */
	int64_t timeout_ms;      /* each Docker call; also each snapshot send */
	size_t max_body;         /* largest Docker response */
	nng_socket push;         /* dialled to ingest; the worker owns it */
};

/* A copy of the worker's status, taken under its lock. */
struct worker_status {
	bool ever_ok;         /* some list succeeded since start */
	bool last_ok;         /* the latest finished list succeeded */
	int64_t last_ok_mono; /* mono_ms of the latest successful list */
	uint64_t gen;         /* of the latest snapshot */
	char api[DOCKER_VER_LEN];
	char last_error[DOCKER_ERR_LEN];
	uint64_t passes;          /* lists attempted */
	uint64_t list_failures;   /* lists that sent no snapshot (R8) */
	uint64_t snapshots_sent;  /* accepted by the PUSH socket */
	uint64_t send_failures;   /* snapshots dropped: no store in time */
	uint64_t containers_last; /* in the latest snapshot */
	uint64_t list_ms_last;    /* duration of the latest good list */
	uint64_t skipped;         /* containers unrepresentable on the wire */
	uint64_t unlabelled;      /* returned by Docker despite the filter */
	uint64_t resyncs;         /* passes asked for by resync */
};

struct worker;

/* NULL on failure (logged). The Docker client is created here, so a bad
 * DOCKER_HOST fails before any thread starts. */
struct worker *worker_new(const struct worker_conf *);
/* Starts the thread; 0, or -1 logged. */
int worker_start(struct worker *);
/* Polls readable after each finished pass; drain with worker_drain. */
int worker_wake_fd(const struct worker *);
void worker_drain(struct worker *);
/* Asks for a full pass now (after the one running, if any). */
void worker_resync(struct worker *);
void worker_status(struct worker *, struct worker_status *);
/*
 * Stops the thread: cancels a Docker call in flight, closes the PUSH
 * socket if a send still blocks, and waits at most wait_ms in all. 0 when
 * the thread ended and everything was freed; -1 when it is still stuck,
 * in which case nothing is freed and the caller should just exit.
 */
int worker_stop(struct worker *, int64_t wait_ms);

#endif
