/*
 * recon-client.h: recon's C client, the one public header (SPEC §5): the
 * subscriber (SPEC §3, §6), implemented in common/sub.c. It hands its
 * caller every change to what it follows, in revision order, exactly
 * once, across restarts of the caller (resume from a revision) and of
 * recon-store; or it says plainly that the store no longer keeps what was
 * missed (compacted).
 *
 * How: it subscribes to the store's `events` socket first, then fills from
 * `events.since` on store.ctl; a published copy of an event already handed
 * over is dropped; a revision gap (or, when following workloads, any event
 * that does not directly follow the last revision) is filled from the log
 * before anything newer is handed over; a quiet stream is checked against
 * the log now and then, so a lost tail is found too. nng pub/sub alone is
 * best-effort: a slow subscriber loses messages.
 *
 * This header is all an outside C program needs: it includes nothing of
 * recon's or nng's. `cmake --install` installs it with the shared library
 * librecon-client; build with `pkg-config --cflags --libs recon-client`
 * (examples/subscriber.c). One recon_sub is used by one thread at a time;
 * separate ones may be used by separate threads. Out of memory aborts, as
 * everywhere in recon. Each event is decoded once, when it is kept.
 *
 *	struct recon_sub *s = recon_sub_open("/run/recon");
 *	struct recon_event ev;
 *	recon_sub_follow(s, "shop");             (optional: one workload)
 *	if (recon_sub_start(s, RECON_SUB_NOW) != 0) ...
 *	while (recon_sub_next(s, -1, &ev) == RECON_SUB_EVENT)
 *		printf("%llu %s\n", (unsigned long long)ev.rev, ev.topic);
 */
#ifndef RECON_CLIENT_H
#define RECON_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* What the shared library exports: it is built with hidden visibility, so
 * these functions and nothing of recon's internals are its interface. */
#if defined(__GNUC__) || defined(__clang__)
#define RECON_API __attribute__((visibility("default")))
#else
#define RECON_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* recon_sub_start's `since` for "from now on". */
#define RECON_SUB_NOW UINT64_MAX

/* What recon_sub_start and recon_sub_next return. */
enum recon_sub_rc {
	RECON_SUB_EVENT = 1,   /* next: *ev holds the next event */
	RECON_SUB_OK = 0,      /* start: subscribed */
	RECON_SUB_TIMEOUT = 0, /* next: nothing within the timeout */
	RECON_SUB_ERROR = -1,  /* see recon_sub_error() */
	/* start: the store did not answer within the request timeout */
	RECON_SUB_UNREACHABLE = -2,
	/* The store's log no longer holds every event after the position
	 * (or its history went back): list again, then recon_sub_start from
	 * the revision the list carries. */
	RECON_SUB_COMPACTED = -3,
};

enum recon_event_type {
	RECON_EVENT_CONTAINER, /* topic container/<workload_id>/<row_id> */
	RECON_EVENT_WORKLOAD,  /* topic workload/<workload_id> */
	RECON_EVENT_PASS,      /* topic sys/pass */
};

/*
 * One event, valid until the next recon_sub_next or recon_sub_close.
 * Strings are never NULL ("" when the type has no such field).
 */
struct recon_event {
	uint64_t rev;
	enum recon_event_type type;
	const char *type_name; /* "container", "workload", "pass" */
	const char *topic;
	const char *op;          /* upsert|missing|delete, put|delete|plugin */
	const char *workload_id; /* container and workload events */
	const char *row_id;      /* container: the row's id */
	const char *state;       /* container: the row's state now */
	const char *prev_state;  /* container: its state before */
	const char *host;        /* container: the row's host; pass: lister */
	int64_t at;              /* ms since the epoch, when it was made */
	uint64_t gen, seen, changed, missing; /* pass */
	const void *body; /* the msgpack body exactly as the store logged it */
	size_t len;
	const void *rec; /* private: the decoded body, for recon_event_json */
};

/* Counters of one subscriber, for tests and benchmarks. */
struct recon_sub_stats {
	uint64_t delivered;  /* events handed to the caller */
	uint64_t live;       /* of them, as received on `events` */
	uint64_t filled;     /* of them, fetched with events.since */
	uint64_t duplicates; /* published copies dropped as already had */
	uint64_t gaps;       /* published events that could not be used
	                        directly (a gap or, filtered, maybe one) */
	uint64_t fills;      /* events.since requests answered */
	uint64_t probes;     /* of them, checks of a quiet stream */
	uint64_t reconnects; /* `events` connections after the first */
	uint64_t errors;     /* failed requests and malformed messages */
};

/* ipc://RUN_DIR/events and ipc://RUN_DIR/store.ctl. NULL on failure
 * (logged). */
RECON_API struct recon_sub *recon_sub_open(const char *run_dir);
/* Any nng addresses (tcp://, tls+tcp://, ipc://). */
RECON_API struct recon_sub *recon_sub_open_url(const char *events_url,
                                               const char *store_ctl_url);
/*
 * Follows one workload: its container rows' events and its own. Call
 * before recon_sub_start, once per workload; none means every event,
 * sys/pass included. 0, or -1 for an id that is not a workload id.
 */
RECON_API int recon_sub_follow(struct recon_sub *, const char *workload_id);
/*
 * For tls+tcp:// addresses (a store on another host, SPEC §10): mutual
 * TLS with this certificate and its key (PEM files) and the CA bundle the
 * store's certificate must be signed by (the store requires ours to be
 * signed by its own --tls-ca). The files are read now. Call before
 * recon_sub_start. 0, or -1 naming the file (recon_sub_error). Without
 * it a tls+tcp:// address fails at recon_sub_start.
 */
RECON_API int recon_sub_set_tls(struct recon_sub *, const char *cert_file,
                                const char *key_file, const char *ca_file);
/* How long one request to the store may take (default 5000 ms). */
RECON_API void recon_sub_set_timeout(struct recon_sub *, int64_t ms);
/*
 * Connects and sets the position: events with a revision above since are
 * delivered (RECON_SUB_NOW: the store's head now). Returns RECON_SUB_OK,
 * RECON_SUB_UNREACHABLE, RECON_SUB_COMPACTED or RECON_SUB_ERROR. May be
 * called again, e.g. after COMPACTED and a fresh list.
 */
RECON_API int recon_sub_start(struct recon_sub *, uint64_t since);
/*
 * Waits up to timeout_ms (-1: for ever, 0: not at all) for the next event.
 * Returns RECON_SUB_EVENT, RECON_SUB_TIMEOUT, RECON_SUB_COMPACTED (stays
 * so until the next recon_sub_start) or RECON_SUB_ERROR. A store that
 * goes away is waited for: it is not an error.
 */
RECON_API int recon_sub_next(struct recon_sub *, int64_t timeout_ms,
                             struct recon_event *);
/* The position: every followed event up to it has been delivered. A
 * program that keeps it can resume with recon_sub_start(s, position). */
RECON_API uint64_t recon_sub_position(const struct recon_sub *);
/* Why the last call failed ("" if it did not). */
RECON_API const char *recon_sub_error(const struct recon_sub *);
RECON_API void recon_sub_stats(const struct recon_sub *,
                               struct recon_sub_stats *);
RECON_API void recon_sub_close(struct recon_sub *);

/* The event as one line of JSON: the body's fields plus "topic", written
 * from the event as decoded (the body is not read again). A malloc'ed
 * string (free it), NULL for an event recon_sub_next did not fill. */
RECON_API char *recon_event_json(const struct recon_event *);

#ifdef __cplusplus
}
#endif

#endif
