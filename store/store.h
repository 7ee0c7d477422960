/*
 * store.h: the state recon-store carries between messages: the database,
 * the label keys, the counters reported by health and stats, and the last
 * snapshot generation applied per lister host.
 */
#ifndef RECON_STORE_H
#define RECON_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "wire.h"

/* Counters, in the order health and stats report them (store_ctr_names). */
enum store_ctr {
	STC_SNAPSHOTS,         /* snapshots applied */
	STC_DELTAS,            /* deltas applied */
	STC_DELTAS_UNCHANGED,  /* of those, deltas that changed nothing and
	                          committed nothing */
	STC_PLUGIN_RESULTS,    /* plugin results applied */
	STC_INCOMPLETE,        /* snapshots with complete=false (no sweep) */
	STC_STALE,             /* snapshots/deltas older than the applied gen */
	STC_BAD_MESSAGES,      /* ingest messages that failed to decode */
	STC_UNKNOWN_MESSAGES,  /* ingest messages of a type we do not take */
	STC_IGNORED_UNLABELED, /* R1: no workload id label */
	STC_IGNORED_INVALID,   /* id, role or Docker id breaks the pattern */
	STC_IGNORED_UNKNOWN,   /* R2: no such workload */
	STC_IGNORED_KIND,      /* R3: kind label differs from the stored kind */
	STC_KIND_WARNINGS,     /* R3: of those, warnings logged (once each) */
	STC_IGNORED_PROJECT,   /* R5: unbound container of a project */
	STC_PLUGIN_UNKNOWN,    /* plugin result for no stored workload */
	STC_ROWS_CHANGED,     /* rows upserted with a change by passes/deltas */
	STC_ROWS_MISSING,     /* rows turned missing (R7 and gone) */
	STC_SWEEP_KEPT,       /* R8: rows a sweep kept, their input refused */
	STC_EVENTS,           /* events committed (kept by db.c) */
	STC_COMMITS,          /* write transactions committed (kept by db.c) */
	STC_WRITE_ERRORS,     /* write transactions that failed */
	STC_REQUEST_ERRORS,   /* requests answered ok:false */
	STC_INGEST_FORBIDDEN, /* ingest messages refused for the peer */
	/* of them, through the remote ingest listener (ingest_remote.c) */
	STC_REMOTE_UNSEALED, /* no host proof: a bare message */
	STC_REMOTE_SEAL,     /* a proof that does not open (hostproof) */
	STC_REMOTE_HOST,     /* a proof of another host than the message's */
	STC_REMOTE_TYPE,     /* a sealed message of a type not taken remotely */
	STC_MAP_RESIZES,     /* LMDB map doublings (kept by db.c) */
	/* dispatch jobs (kept by jobs.c, see struct jobs) */
	STC_JOBS_REQUESTED,
	STC_JOBS_FOLDED,
	STC_JOBS_REQUESTS_SENT,
	STC_JOBS_REQUESTS_VOID,
	STC_JOBS_SENT,
	STC_JOBS_BUSY,
	STC_JOBS_OWED_ASKED, /* state runs owed asked for again (jobs_owed) */
	STC_COUNT
};

extern const char *const store_ctr_names[STC_COUNT];

/* Per lister host: the gen of the last applied snapshot, and the nng pipe
 * it came on (a new pipe with a lower gen is a restarted lister). */
struct store_gen {
	char *host;
	uint64_t gen;
	uint32_t pipe;
};

/*
 * R3's warning is logged once per container, not on every pass: the
 * containers warned about, with a hash of (kind label, stored kind) so
 * that a changed workload kind warns again. An entry goes when its
 * container passes the kind check again; beyond the bound the oldest
 * slot is reused (a container gone for good just ages out). Every
 * occurrence is still counted (ignored_kind).
 */
#define STORE_KIND_WARNED_MAX 256

struct store_kind_warned {
	char id[WIRE_ID_MAX + 1]; /* Docker id */
	char kind[65];            /* the label, as logged (64 at most) */
	char wkind[16];           /* the stored kind */
};

struct store {
	struct db *db;
	char *key_id, *key_kind, *key_role; /* <prefix>workload.id, ... */
	uint64_t ctr[STC_COUNT];
	struct store_gen *gens;
	size_t ngens;
	int64_t own_uid, admin_uid; /* admin_uid -1: none */
	int64_t started_ms;         /* monotonic, for uptime */
	bool ready;
	struct jobs *jobs; /* dispatch jobs (jobs.c); NULL: none are sent */
	struct store_kind_warned *kind_warned; /* STORE_KIND_WARNED_MAX */
	size_t nkind_warned, kind_warned_next;
	/* workloads of the write transaction under way that a state job is
	 * due for (changes.c): handed to jobs once it commits */
	char **state_notes;
	size_t nstate_notes, capstate_notes;
};

/* Sets up st around an open db; 0, or -1 logged. */
int store_init(struct store *st, struct db *db, const char *label_prefix,
               int64_t admin_uid);
/* Frees what store_init allocated (not the db). */
void store_fini(struct store *st);
/* Fills out[STC_COUNT] with the counter names and current values. */
void store_counters(const struct store *st, struct wire_counter *out);
/* dst = src with the three secrets left out (for events and lists). */
void store_workload_public(struct wire_workload *dst,
                           const struct wire_workload *src);
/* Last applied snapshot gen of host: 1 found (*gen, *pipe set), 0 none. */
int store_gen_get(const struct store *st, const char *host, uint64_t *gen,
                  uint32_t *pipe);
/* Records an applied snapshot's gen; 0, or -1 logged. */
int store_gen_set(struct store *st, const char *host, uint64_t gen,
                  uint32_t pipe);

#endif
