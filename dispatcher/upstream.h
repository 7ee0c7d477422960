/*
 * upstream.h: calls to the store's store.ctl on threads of their own, so
 * a slow or absent store never holds up the dispatcher's loop. Calls go
 * in, finished calls come back through a pipe the loop polls.
 */
#ifndef RECON_UPSTREAM_H
#define RECON_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

#define UPSTREAM_QUEUE_MAX 1024 /* calls waiting; more are refused */
#define UPSTREAM_THREADS   4    /* calls under way at once */

enum up_kind {
	UP_DISPATCH, /* {t: dispatch, id} for reconctl dispatch */
	UP_FETCH,    /* {t: workload.get, id, secrets: true} for webhooks */
};

struct up_call {
	struct up_call *next;
	enum up_kind kind;
	char id[WIRE_ID_MAX + 1];
	void *ctx;    /* the caller's: the request to answer, ... */
	uint64_t gen; /* the caller's: which question this answers */
	/* the outcome */
	int status; /* CLNT_OK (reply holds the reply) or not */
	struct wbuf reply;
	char err[256];
};

struct upstream;

/* Dials url (store.ctl) and starts the threads. NULL logged. */
struct upstream *upstream_new(const char *url, int64_t timeout_ms);
/* Stops the threads (calls under way end at once, failed; at most
 * wait_ms) and frees what is left; calls not done are handed to drop. */
void upstream_free(struct upstream *, int64_t wait_ms,
                   void (*drop)(struct up_call *));
/* The fd that polls readable when calls are done. */
int upstream_fd(const struct upstream *);
/* Queues c (taken). 0, or -1 when the queue is full (c not taken). */
int upstream_submit(struct upstream *, struct up_call *c);
/* One finished call, or NULL; the caller frees it (up_call_free). */
struct up_call *upstream_done(struct upstream *);
void up_call_free(struct up_call *);

#endif
