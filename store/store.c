/*
 * store.c: the store's carried state: label keys, counters and the per-host
 * generation table used to drop stale snapshots and deltas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "jobs.h"
#include "store.h"
#include "util.h"

const char *const store_ctr_names[STC_COUNT] = {
    [STC_SNAPSHOTS] = "snapshots",
    [STC_DELTAS] = "deltas",
    [STC_DELTAS_UNCHANGED] = "deltas_unchanged",
    [STC_PLUGIN_RESULTS] = "plugin_results",
    [STC_INCOMPLETE] = "incomplete",
    [STC_STALE] = "stale",
    [STC_BAD_MESSAGES] = "bad_messages",
    [STC_UNKNOWN_MESSAGES] = "unknown_messages",
    [STC_IGNORED_UNLABELED] = "ignored_unlabeled",
    [STC_IGNORED_INVALID] = "ignored_invalid",
    [STC_IGNORED_UNKNOWN] = "ignored_unknown",
    [STC_IGNORED_KIND] = "ignored_kind",
    [STC_KIND_WARNINGS] = "kind_warnings",
    [STC_IGNORED_PROJECT] = "ignored_project",
    [STC_PLUGIN_UNKNOWN] = "plugin_unknown",
    [STC_ROWS_CHANGED] = "rows_changed",
    [STC_ROWS_MISSING] = "rows_missing",
    [STC_SWEEP_KEPT] = "sweep_kept",
    [STC_EVENTS] = "events",
    [STC_COMMITS] = "commits",
    [STC_WRITE_ERRORS] = "write_errors",
    [STC_REQUEST_ERRORS] = "request_errors",
    [STC_INGEST_FORBIDDEN] = "ingest_forbidden",
    [STC_REMOTE_UNSEALED] = "remote_refused_unsealed",
    [STC_REMOTE_SEAL] = "remote_refused_seal",
    [STC_REMOTE_HOST] = "remote_refused_host",
    [STC_REMOTE_TYPE] = "remote_refused_type",
    [STC_MAP_RESIZES] = "map_resizes",
    [STC_JOBS_REQUESTED] = "jobs_requested",
    [STC_JOBS_FOLDED] = "jobs_folded",
    [STC_JOBS_REQUESTS_SENT] = "jobs_requests_sent",
    [STC_JOBS_REQUESTS_VOID] = "jobs_requests_void",
    [STC_JOBS_SENT] = "jobs_sent",
    [STC_JOBS_BUSY] = "jobs_busy",
    [STC_JOBS_OWED_ASKED] = "jobs_owed_asked",
};

static char *
label_key(const char *prefix, const char *name)
{
	size_t n = strlen(prefix) + strlen(name) + 1;
	char *k = xmalloc(n);

	snprintf(k, n, "%s%s", prefix, name);
	return k;
}

int
store_init(struct store *st, struct db *db, const char *label_prefix,
           int64_t admin_uid)
{
	memset(st, 0, sizeof(*st));
	st->db = db;
	st->key_id = label_key(label_prefix, "workload.id");
	st->key_kind = label_key(label_prefix, "workload.kind");
	st->key_role = label_key(label_prefix, "role");
	st->kind_warned =
	    xcalloc(STORE_KIND_WARNED_MAX, sizeof(*st->kind_warned));
	st->own_uid = (int64_t)geteuid();
	st->admin_uid = admin_uid;
	st->started_ms = mono_ms();
	return 0;
}

void
store_fini(struct store *st)
{
	size_t i;

	free(st->key_id);
	free(st->key_kind);
	free(st->key_role);
	for (i = 0; i < st->ngens; i++)
		free(st->gens[i].host);
	free(st->gens);
	free(st->kind_warned);
	st->kind_warned = NULL;
	for (i = 0; i < st->nstate_notes; i++)
		free(st->state_notes[i]);
	free(st->state_notes);
	st->state_notes = NULL;
	st->nstate_notes = st->capstate_notes = 0;
	st->nkind_warned = st->kind_warned_next = 0;
	st->key_id = st->key_kind = st->key_role = NULL;
	st->gens = NULL;
	st->ngens = 0;
}

void
store_counters(const struct store *st, struct wire_counter *out)
{
	size_t i;

	for (i = 0; i < STC_COUNT; i++) {
		out[i].name = store_ctr_names[i];
		out[i].value = st->ctr[i];
	}
	if (st->db != NULL) {
		out[STC_MAP_RESIZES].value = db_map_resizes(st->db);
		out[STC_EVENTS].value = db_events_committed(st->db);
		out[STC_COMMITS].value = db_commits(st->db);
	}
	if (st->jobs != NULL) {
		out[STC_JOBS_REQUESTED].value = st->jobs->requested;
		out[STC_JOBS_FOLDED].value = st->jobs->folded;
		out[STC_JOBS_REQUESTS_SENT].value = st->jobs->requests_sent;
		out[STC_JOBS_REQUESTS_VOID].value = st->jobs->requests_void;
		out[STC_JOBS_SENT].value = st->jobs->sent;
		out[STC_JOBS_BUSY].value = st->jobs->busy;
		out[STC_JOBS_OWED_ASKED].value = st->jobs->owed_asked;
	}
}

void
store_workload_public(struct wire_workload *dst,
                      const struct wire_workload *src)
{
	*dst = *src;
	dst->notification_secret = NULL;
	dst->webhook_secret = NULL;
	dst->webhook_signing_secret = NULL;
}

int
store_gen_get(const struct store *st, const char *host, uint64_t *gen,
              uint32_t *pipe)
{
	size_t i;

	for (i = 0; i < st->ngens; i++) {
		if (strcmp(st->gens[i].host, host) == 0) {
			*gen = st->gens[i].gen;
			*pipe = st->gens[i].pipe;
			return 1;
		}
	}
	return 0;
}

int
store_gen_set(struct store *st, const char *host, uint64_t gen, uint32_t pipe)
{
	struct store_gen *g;
	size_t i;

	for (i = 0; i < st->ngens; i++) {
		if (strcmp(st->gens[i].host, host) == 0) {
			st->gens[i].gen = gen;
			st->gens[i].pipe = pipe;
			return 0;
		}
	}
	g = st->gens = xreallocarray(st->gens, st->ngens + 1, sizeof(*g));
	g[st->ngens].host = xstrdup(host);
	g[st->ngens].gen = gen;
	g[st->ngens].pipe = pipe;
	st->ngens++;
	return 0;
}
