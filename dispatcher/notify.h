/*
 * notify.h: webhook notifications (SPEC §8). Each container event of a
 * workload with a notification_url is POSTed as JSON, signed with
 * HMAC-SHA256 of its notification_secret, by libcurl's multi interface in
 * the dispatcher's loop. Deliveries of one workload go one at a time, in
 * revision order; workloads never wait for each other.
 */
#ifndef RECON_NOTIFY_H
#define RECON_NOTIFY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upstream.h"
#include "wire.h"

struct notify_conf {
	int64_t timeout_ms;     /* each attempt, connect included */
	int attempts;           /* tries per delivery */
	int64_t backoff_ms;     /* first retry after this, then doubling */
	int64_t backoff_max_ms; /* and never longer than this */
	size_t queue_max;       /* deliveries kept per workload */
	size_t inflight_max;    /* transfers under way at once */
	struct upstream *up;    /* asks the store for unknown workloads */
};

enum notify_ctr {
	NC_SENT,           /* delivered (2xx) */
	NC_FAILED,         /* given up: 4xx, 3xx, or out of attempts */
	NC_RETRIED,        /* attempts after a 5xx or a transport error */
	NC_DROPPED,        /* queue full, or the workload gone */
	NC_EVENTS,         /* container events received */
	NC_BAD_EVENTS,     /* events dropped as malformed */
	NC_FETCHES,        /* workload.get calls made to the store */
	NC_FETCH_FAILURES, /* of which without an answer */
	NC_COUNT
};

extern const char *const notify_ctr_names[NC_COUNT];

struct notify;

/* NULL logged. */
struct notify *notify_new(const struct notify_conf *);
void notify_free(struct notify *);
const uint64_t *notify_counters(const struct notify *);
/* Deliveries waiting or under way. */
size_t notify_queued(const struct notify *);

/* A workload record from a dispatch job (secrets included), as the store
 * had it at rev. */
void notify_learn(struct notify *, const struct wire_workload *, uint64_t rev);
/* One message of the events socket: topic, a NUL byte, the msgpack body.
 * Container events are queued for delivery; workload events tell which
 * records are out of date. */
void notify_message(struct notify *, const void *msg, size_t len);
/* A finished UP_FETCH call (not freed here). */
void notify_fetched(struct notify *, const struct up_call *);

/* Starts what may start, finishes what finished: call after every wake. */
void notify_tick(struct notify *);
/* curl's sockets to poll (at most max); their count. */
size_t notify_pollfds(const struct notify *, struct pollfd *, size_t max);
size_t notify_nfds(const struct notify *);
/* Hands curl the sockets poll found ready (the slice notify_pollfds
 * filled). */
void notify_io(struct notify *, const struct pollfd *, size_t n);
/* ms until notify_tick has something to do; -1 nothing. */
int64_t notify_timeout(const struct notify *);

/* hex = lowercase hex of HMAC-SHA256(key, body) (65 bytes with NUL). */
void notify_sign(const char *key, const void *body, size_t len, char *hex);
/* What an attempt's outcome means: 0 delivered, 1 try again, -1 give up.
 * curl_code is libcurl's result (0 ok), status the HTTP status. */
int notify_verdict(int curl_code, long status);
/* The JSON body of a container event: the event plus its topic; NULL
 * (err set) when the body is not a valid event. Caller frees. */
char *notify_body(const char *topic, const void *body, size_t len, char *err);

#endif
