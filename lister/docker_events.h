/*
 * docker_events.h: the lister's Docker events thread. It keeps Docker's
 * /events stream open (type container, the workload label), hands each
 * event to the worker as a hint, and after any break reconnects with a
 * capped, jittered exponential backoff, asking Docker to replay what it
 * missed (docker_events_resume below). Each opening still asks the worker
 * for a full pass: Docker's ring is bounded, and the list stays the truth.
 */
#ifndef RECON_DOCKER_EVENTS_H
#define RECON_DOCKER_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "docker.h"
#include "worker.h"

/* Reconnects back off from the first wait to the cap; a stream open for
 * DOCKER_EVENTS_STABLE_MS starts the backoff over. */
#define DOCKER_EVENTS_BACKOFF_MIN_MS 100
#define DOCKER_EVENTS_BACKOFF_MAX_MS 30000
#define DOCKER_EVENTS_STABLE_MS      60000

struct docker_events_conf {
	const char *docker_host;
	const char *prefix;
	int64_t timeout_ms;    /* the stream must open within it */
	struct worker *worker; /* gets hints and relists */
};

/* A copy of the thread's status, taken under its lock. */
struct docker_events_status {
	bool connected;
	bool ever_connected;
	int64_t since_mono; /* when it opened, or went down */
	int64_t retry_ms;   /* the wait before the next attempt */
	char last_error[DOCKER_ERR_LEN];
	uint64_t attempts;        /* subscriptions tried */
	uint64_t opens;           /* subscriptions that opened */
	uint64_t events;          /* events handed to the worker */
	uint64_t ignored;         /* events not ours to act on */
	uint64_t bad;             /* well-formed JSON, malformed as events */
	uint64_t broken;          /* streams cut for bytes that are not JSON */
	uint64_t daemon_restarts; /* the peer's pid or start time changed */
};

/*
 * Where each stream's replay starts (SPEC §6: nothing falls between two
 * streams). Docker replays from its ring every event at or after a
 * stream's since, so the first stream asks from one second before it
 * opens and every later one from the time of the last event any stream
 * delivered (inclusive: that one comes again, a harmless re-read). The
 * replay is then exactly what the lister did not see while it was away,
 * as far as Docker's ring reaches (its last 256 events; a restarted
 * daemon has none of the old one's): only what the ring lost is left for
 * the relist to find and count as missed. Events older than the opening
 * are older than the full list each opening asks for: they are hints to
 * re-read, never states to apply at once. Times are the daemon's (an
 * event's timeNano), compared with this host's clock only for the first
 * since and the opening.
 */
struct docker_events_resume {
	int64_t since_ns; /* the next stream's since; 0: not yet chosen */
	int64_t open_ns;  /* when the current stream opened */
};

/* The since of a stream about to open at now_ns (ns since the epoch). */
int64_t docker_events_resume_since(struct docker_events_resume *,
                                   int64_t now_ns);
/* The stream opened at now_ns. */
void docker_events_resume_open(struct docker_events_resume *, int64_t now_ns);
/* An event stamped time_ns (0: unstamped) arrived; true when it is a
 * replay, older than the opening. */
bool docker_events_resume_event(struct docker_events_resume *, int64_t time_ns);

struct docker_events;

/* NULL on failure (logged). */
struct docker_events *docker_events_new(const struct docker_events_conf *);
/* Starts the thread; 0, or -1 logged. */
int docker_events_start(struct docker_events *);
void docker_events_status(struct docker_events *,
                          struct docker_events_status *);
/* Stops the thread, waiting at most wait_ms: 0 when it ended and all was
 * freed, -1 when it is stuck (nothing freed; the caller should exit). */
int docker_events_stop(struct docker_events *, int64_t wait_ms);

#endif
