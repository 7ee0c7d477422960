/*
 * queue.h: who runs next. Per workload at most one run and one waiting
 * request, into which later requests fold; a concurrency cap; state and
 * manual requests ahead of pass ones. No processes here (runner.c).
 */
#ifndef RECON_QUEUE_H
#define RECON_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "wltab.h"

/* In order of precedence: a fold keeps the highest. */
enum q_reason { Q_PASS, Q_MANUAL, Q_STATE };

/* One request for a run: what the plugin gets on stdin, less the reason,
 * which is known only once folding is over. */
struct q_req {
	enum q_reason reason;
	uint64_t rev;      /* the job's store revision */
	char *source_kind; /* as the job's record says */
	json_object *doc;  /* {workload, containers, rev} (owned) */
};

struct q_wl {
	char *id;
	bool running;
	struct q_req *pending;    /* the waiting request, NULL: none */
	struct q_req *current;    /* the running one */
	struct q_wl *prev, *next; /* in a ready list while pending */
	bool listed;
	void *run; /* the runner's state of the current run */
};

struct q_list {
	struct q_wl *head, *tail;
};

struct queue {
	struct wltab wls;           /* struct q_wl by id */
	struct q_list urgent, pass; /* ready to start, oldest first */
	size_t concurrency;
	size_t running, queued; /* runs under way; workloads waiting */
	/* requested = runs started + folded + queued */
	uint64_t requested; /* runs asked for (one per job item, dispatch) */
	uint64_t folded;    /* requests folded into a waiting one */
};

const char *q_reason_name(enum q_reason);
/* -1 for a word that is none of pass, state, manual. */
int q_reason_parse(const char *, enum q_reason *);

void queue_init(struct queue *, size_t concurrency);
/* Frees every workload and request (running ones included). */
void queue_fini(struct queue *);
void q_req_free(struct q_req *);

/*
 * Takes req for workload wid. With none waiting it waits (and, when the
 * workload is idle, joins the line); with one waiting the two fold into
 * one: the newer request's records, the higher reason.
 */
void queue_submit(struct queue *, const char *wid, struct q_req *req);
/* The next workload to run while a slot is free: its waiting request
 * becomes current and it counts as running. NULL: none. */
struct q_wl *queue_next(struct queue *);
/* wl's run ended: its request is freed; one that waited meanwhile puts
 * it back in line, else it is forgotten (wl is invalid after). */
void queue_done(struct queue *, struct q_wl *wl);

#endif
