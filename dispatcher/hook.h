/*
 * hook.h: webhooks (SPEC §8). Each container event of a workload with a
 * notification_url is POSTed as JSON, signed with HMAC-SHA256 of its
 * notification_secret, by libcurl's multi interface in the dispatcher's
 * loop. Deliveries of one workload go one at a time, in revision order;
 * workloads never wait for each other. hook_intake.c takes events and
 * workload settings, hook_http.c makes the transfers.
 */
#ifndef RECON_HOOK_H
#define RECON_HOOK_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upstream.h"
#include "wire.h"

struct hook_conf {
	int64_t timeout_ms;     /* each attempt, connect included */
	int attempts;           /* tries per delivery */
	int64_t backoff_ms;     /* first retry after this, then doubling */
	int64_t backoff_max_ms; /* and never longer than this */
	size_t queue_max;       /* deliveries kept per workload */
	size_t inflight_max;    /* transfers under way at once */
	struct upstream *up;    /* asks the store for unknown workloads */
};

enum hook_ctr {
	HC_SENT,           /* delivered (2xx) */
	HC_FAILED,         /* given up: 4xx, 3xx, or out of attempts */
	HC_RETRIED,        /* attempts after a 5xx or a transport error */
	HC_DROPPED,        /* queue full, or the workload gone */
	HC_EVENTS,         /* container events received */
	HC_BAD_EVENTS,     /* events dropped as malformed */
	HC_FETCHES,        /* workload.get calls made to the store */
	HC_FETCH_FAILURES, /* of which without an answer */
	HC_COUNT
};

struct hook;

/* NULL logged (libcurl). */
struct hook *hook_new(const struct hook_conf *);
void hook_free(struct hook *);
const uint64_t *hook_counters(const struct hook *);
/* Deliveries waiting or under way. */
size_t hook_queued(const struct hook *);

/* A workload record from a dispatch job (secrets included), as the store
 * had it at rev. */
void hook_learn(struct hook *, const struct wire_workload *, uint64_t rev);
/* One message of the events socket: topic, a NUL byte, the msgpack body.
 * Container events are queued for delivery; workload events tell which
 * records are out of date. */
void hook_intake(struct hook *, const void *msg, size_t len);
/* A finished UP_FETCH call (not freed here). */
void hook_fetched(struct hook *, const struct up_call *);

/* Starts what may start, finishes what finished: call after every wake. */
void hook_tick(struct hook *);
/* curl's sockets to poll (at most max); their count. */
size_t hook_pollfds(const struct hook *, struct pollfd *, size_t max);
size_t hook_nfds(const struct hook *);
/* Hands curl the sockets poll found ready (the slice hook_pollfds
 * filled). */
void hook_io(struct hook *, const struct pollfd *, size_t n);
/* ms until hook_tick has something to do; -1 nothing. */
int64_t hook_timeout(const struct hook *);

/* hex = lowercase hex of HMAC-SHA256(key, body) (65 bytes with NUL). */
void hook_sign(const char *key, const void *body, size_t len, char *hex);
/* What an attempt's outcome means: 0 delivered, 1 try again, -1 give up.
 * curl_code is libcurl's result (0 ok), status the HTTP status. */
int hook_verdict(int curl_code, long status);

#define HOOK_EVENT_MAX 64 /* X-Recon-Event's value, NUL included */
/*
 * The delivery of a container event, reading its body once: the JSON body
 * (the event plus its topic; caller frees), and from it the event's rev
 * and its X-Recon-Event (container.<op>). NULL (err set) when the body is
 * not a container event.
 */
char *hook_body(const char *topic, const void *body, size_t len, uint64_t *rev,
                char event[HOOK_EVENT_MAX], char *err);

#endif
