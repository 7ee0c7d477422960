/*
 * changes.c: the one builder of the store's events, and the state jobs
 * noted where a row's change is made (not rediscovered from the events
 * once published): kept per transaction, handed to jobs.c after commit.
 */
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "jobs.h"
#include "log.h"
#include "util.h"

/* Forgets what the transaction noted (it aborted, runs again, or its
 * notes were handed on). */
static void
notes_clear(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nstate_notes; i++)
		free(st->state_notes[i]);
	st->nstate_notes = 0;
}

static void
note_state(struct store *st, const char *wid)
{
	if (st->nstate_notes == st->capstate_notes) {
		st->capstate_notes =
		    st->capstate_notes ? st->capstate_notes * 2 : 8;
		st->state_notes =
		    xreallocarray(st->state_notes, st->capstate_notes,
		                  sizeof(*st->state_notes));
	}
	st->state_notes[st->nstate_notes++] = xstrdup(wid);
}

struct change_txn {
	struct store *st;
	db_txn_fn fn;
	void *arg;
};

static int
change_body(struct dbtx *tx, void *arg)
{
	struct change_txn *ct = arg;

	notes_clear(ct->st); /* a rerun starts over */
	return ct->fn(tx, ct->arg);
}

int
changes_write(struct store *st, db_txn_fn fn, void *arg)
{
	struct change_txn ct = {st, fn, arg};
	size_t i;
	int r;

	r = db_write(st->db, change_body, &ct);
	if (r == 0) {
		for (i = 0; i < st->nstate_notes; i++) {
			log_debug("a container of %s stopped running: state "
			          "job",
			          st->state_notes[i]);
			jobs_state(st->jobs, st->state_notes[i]);
		}
	}
	notes_clear(st);
	return r;
}

int
changes_container(struct store *st, struct dbtx *tx, const char *op,
                  struct wire_row *row, const char *prev_state)
{
	struct wire_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_CONTAINER;
	ev.op = (char *)op;
	ev.row = row;
	ev.prev_state = (char *)(prev_state != NULL ? prev_state : "");
	ev.at = now_ms();
	if (db_event(tx, &ev) == -1)
		return -1;
	if (st->jobs != NULL && !str_eq(op, "delete") &&
	    !str_empty(row->workload_id) &&
	    jobs_state_worthy(ev.prev_state, row->state)) {
		/* owed until a state run that starts after now reports
		 * back, whoever dies meanwhile (jobs_owed) */
		if (db_due_put(tx, row->workload_id, ev.rev) == -1)
			return -1;
		note_state(st, row->workload_id);
	}
	return 0;
}

int
changes_workload(struct dbtx *tx, const char *op, const struct wire_workload *w)
{
	struct wire_workload pub;
	struct wire_event ev;

	store_workload_public(&pub, w);
	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_WORKLOAD;
	ev.op = (char *)op;
	ev.workload = &pub;
	ev.at = now_ms();
	return db_event(tx, &ev);
}

int
changes_pass(struct dbtx *tx, const char *host, uint64_t gen,
             const struct rules_result *r)
{
	struct wire_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_PASS;
	ev.host = (char *)host;
	ev.gen = gen;
	ev.seen = r->seen;
	ev.changed = r->changed;
	ev.missing = r->missing;
	ev.ignored_unknown = r->ignored_unknown;
	ev.ignored_kind = r->ignored_kind;
	ev.duration_us = r->duration_us;
	ev.at = now_ms();
	return db_event(tx, &ev);
}
