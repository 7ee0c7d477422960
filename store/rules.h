/*
 * rules.h: the reconcile rules of SPEC §4 (R1-R10, R7's sweep) applied to
 * one snapshot or delta in one write transaction, and R7's consequence
 * for reading a row's last_seen_at.
 */
#ifndef RECON_STORE_RULES_H
#define RECON_STORE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "wire.h"

/* What one applied snapshot or delta did (also the sys/pass body). */
struct rules_result {
	uint64_t rev; /* head after the commit */
	uint64_t seen, changed, missing;
	uint64_t ignored_unlabeled, ignored_invalid, ignored_unknown;
	uint64_t ignored_kind, ignored_project;
	uint64_t kept; /* R8: rows not swept, their container's input refused */
	uint64_t duration_us;
	bool applied;    /* false: dropped as stale */
	bool host_saved; /* the host record was written with it */
};

/* One snapshot or delta to apply, as ingest.c checked it. */
struct rules_input {
	const char *what; /* "snapshot" or "delta", for the log */
	const char *host;
	uint64_t gen;
	int64_t seen_at; /* last_seen_at written to rows */
	const struct wire_container *cs;
	size_t ncs;
	char *const *gone; /* a delta's: Docker ids destroyed */
	size_t ngone;
	char *const *skipped; /* a snapshot's (R8) */
	size_t nskipped;
	bool sweep;      /* R7: a complete snapshot */
	bool pass_event; /* a snapshot: sys/pass after it */
	/* the host's record after this message (SPEC §10), written in its
	 * transaction when that commits anyway; NULL: none */
	const struct wire_host *host_rec;
};

/*
 * Applies in in one write transaction and counts what it did in st's
 * counters; *res (never NULL) gets the result. 0, or -1 on a failed write
 * (logged, counted, nothing applied).
 */
int rules_apply(struct store *st, const struct rules_input *in,
                struct rules_result *res);

/*
 * hosts.forget (SPEC §10): every row of host that is bound to a
 * container and not missing yet becomes missing, each with its event, as
 * R7's sweep would make it; in the caller's write transaction. *n gets
 * how many. 0, or -1 on a failed write.
 */
int rules_forget(struct store *st, struct dbtx *tx, const char *host,
                 uint64_t *n);

/* R9: the row state for Docker's state word. */
const char *rules_state_map(const char *docker_state);

/*
 * R7's consequence: a bound, present row was seen by every complete pass
 * of its host since it was written, so its last_seen_at is at least that
 * host's last pass (pass_at, taken at the lister; applied at pass_stored
 * by the store's clock). Returns the last_seen_at to read for row. The
 * records layer (db_records.c) applies it to every row it reads.
 */
int64_t rules_last_seen(const struct wire_row *row, int64_t pass_at,
                        int64_t pass_stored);

#endif
