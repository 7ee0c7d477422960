/*
 * changes.h: every change the store commits goes through here. One
 * builder for the events of SPEC §3 (container, workload, pass), each
 * logged in the write transaction that makes the change; and the state
 * jobs (SPEC §8) those changes call for, noted as they are made and
 * handed to jobs.c once the transaction has committed.
 */
#ifndef RECON_STORE_CHANGES_H
#define RECON_STORE_CHANGES_H

#include "db.h"
#include "rules.h"
#include "store.h"
#include "wire.h"

/*
 * Runs fn in a write transaction (db_write) and, once it has committed,
 * hands the state jobs noted in it to st->jobs; a transaction that aborts
 * or runs again (the map grew) hands nothing of what it noted. fn's
 * value, or -1.
 */
int changes_write(struct store *st, db_txn_fn fn, void *arg);

/*
 * A container event (op upsert, missing or delete) for row, which went
 * from prev_state (NULL or "": a new row). A row of a workload that
 * stopped running (jobs_state_worthy) notes a state job, except on a
 * delete, and records the run as owed (db_due_put) in the same
 * transaction. 0, or -1 logged.
 */
int changes_container(struct store *st, struct dbtx *tx, const char *op,
                      struct wire_row *row, const char *prev_state);
/* A workload event (op put, delete or plugin), secrets left out. */
int changes_workload(struct dbtx *tx, const char *op,
                     const struct wire_workload *w);
/* The sys/pass event of an applied snapshot of host. */
int changes_pass(struct dbtx *tx, const char *host, uint64_t gen,
                 const struct rules_result *r);

#endif
