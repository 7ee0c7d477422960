/*
 * store.h: the state recon-store carries between messages: the database,
 * the label keys, the counters reported by health and stats, and what it
 * knows of each lister host (SPEC §10), kept in LMDB too.
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
	STC_HOSTS_FORGOTTEN, /* hosts dropped by hosts.forget */
	STC_COUNT
};

extern const char *const store_ctr_names[STC_COUNT];

/*
 * The lister hosts (SPEC §10). A host's interval is what its snapshots
 * say (interval_ms), STORE_INTERVAL_DEFAULT_MS when they say nothing (an
 * older lister: its own default --interval), at most
 * STORE_INTERVAL_MAX_MS (the lister clamps --interval so). A host whose
 * last accepted message is older than STORE_STALE_INTERVALS of its
 * intervals is stale: shown so, its rows left as they are (R8).
 */
#define STORE_INTERVAL_DEFAULT_MS 30000
#define STORE_INTERVAL_MAX_MS     300000
#define STORE_STALE_INTERVALS     3

/*
 * One lister host, as its host record (db_host_put) says, the store's
 * clock and gen up to date: a delta that changed nothing commits nothing
 * (no sync for a no-op), so its last_seen_at and gen are kept here only
 * (unsaved) until the host's next write that commits, at the latest its
 * next snapshot. A store restart in between reads the record's older
 * time.
 */
struct store_host {
	char *host;
	uint64_t gen;         /* the highest gen accepted */
	int64_t last_seen_at; /* ms, the store's clock */
	uint64_t interval_ms; /* as used, see above */
	bool unsaved;
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
	struct store_host *hosts; /* in no order */
	size_t nhosts;
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

/* Sets up st around an open db (NULL: none), reading the host records;
 * 0, or -1 logged. */
int store_init(struct store *st, struct db *db, const char *label_prefix,
               int64_t admin_uid);
/* Frees what store_init allocated (not the db). */
void store_fini(struct store *st);
/* Fills out[STC_COUNT] with the counter names and current values. */
void store_counters(const struct store *st, struct wire_counter *out);
/* dst = src with the three secrets left out (for events and lists). */
void store_workload_public(struct wire_workload *dst,
                           const struct wire_workload *src);
/* The host named host, or NULL. */
struct store_host *store_host_find(const struct store *st, const char *host);
/* A host's record as taken from an accepted message (saved: written in
 * the message's transaction), replacing what st held. */
void store_host_take(struct store *st, const struct wire_host *rec, bool saved);
/* Forgets a host (hosts.forget, once its transaction committed). */
void store_host_drop(struct store *st, const char *host);
/* The interval a snapshot's interval_ms (0: not said) stands for. */
uint64_t store_interval(uint64_t interval_ms);
/* Is h stale at now (ms, the store's clock)? */
bool store_host_stale(const struct store_host *h, int64_t now);
/* How many hosts are live and stale at now. */
void store_hosts_count(const struct store *st, int64_t now, uint64_t *live,
                       uint64_t *stale);

#endif
