/*
 * store.c: the store's carried state: label keys, counters and the lister
 * hosts (their gens, used to drop stale snapshots and deltas, and when
 * each was last heard from), read from their LMDB records at start.
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
    [STC_HOSTS_FORGOTTEN] = "hosts_forgotten",
};

static char *
label_key(const char *prefix, const char *name)
{
	size_t n = strlen(prefix) + strlen(name) + 1;
	char *k = xmalloc(n);

	snprintf(k, n, "%s%s", prefix, name);
	return k;
}

static int
host_load(void *arg, struct wire_host *h)
{
	store_host_take(arg, h, true);
	return 0;
}

static int
hosts_load_body(struct dbtx *tx, void *arg)
{
	return db_hosts_each(tx, NULL, host_load, arg);
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
	if (db != NULL && db_read(db, hosts_load_body, st) != 0) {
		log_warnx("unable to read the host records");
		store_fini(st);
		return -1;
	}
	if (st->nhosts > 0)
		log_info("%zu lister hosts known", st->nhosts);
	return 0;
}

void
store_fini(struct store *st)
{
	size_t i;

	free(st->key_id);
	free(st->key_kind);
	free(st->key_role);
	for (i = 0; i < st->nhosts; i++)
		free(st->hosts[i].host);
	free(st->hosts);
	free(st->kind_warned);
	st->kind_warned = NULL;
	for (i = 0; i < st->nstate_notes; i++)
		free(st->state_notes[i]);
	free(st->state_notes);
	st->state_notes = NULL;
	st->nstate_notes = st->capstate_notes = 0;
	st->nkind_warned = st->kind_warned_next = 0;
	st->key_id = st->key_kind = st->key_role = NULL;
	st->hosts = NULL;
	st->nhosts = 0;
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

struct store_host *
store_host_find(const struct store *st, const char *host)
{
	size_t i;

	for (i = 0; i < st->nhosts; i++)
		if (strcmp(st->hosts[i].host, host) == 0)
			return &st->hosts[i];
	return NULL;
}

void
store_host_take(struct store *st, const struct wire_host *rec, bool saved)
{
	struct store_host *h;

	if ((h = store_host_find(st, rec->host)) == NULL) {
		st->hosts = xreallocarray(st->hosts, st->nhosts + 1,
		                          sizeof(*st->hosts));
		h = &st->hosts[st->nhosts++];
		h->host = xstrdup(rec->host);
	}
	h->gen = rec->gen;
	h->last_seen_at = rec->last_seen_at;
	h->interval_ms = store_interval(rec->interval_ms);
	h->unsaved = !saved;
}

void
store_host_drop(struct store *st, const char *host)
{
	struct store_host *h;

	if ((h = store_host_find(st, host)) == NULL)
		return;
	free(h->host);
	*h = st->hosts[--st->nhosts];
}

uint64_t
store_interval(uint64_t interval_ms)
{
	if (interval_ms == 0)
		return STORE_INTERVAL_DEFAULT_MS;
	return interval_ms < STORE_INTERVAL_MAX_MS ? interval_ms
	                                           : STORE_INTERVAL_MAX_MS;
}

bool
store_host_stale(const struct store_host *h, int64_t now)
{
	/* the interval is clamped: no overflow, whatever the record says */
	return h->last_seen_at <
	       now - (int64_t)(STORE_STALE_INTERVALS *
	                       store_interval(h->interval_ms));
}

void
store_hosts_count(const struct store *st, int64_t now, uint64_t *live,
                  uint64_t *stale)
{
	size_t i;

	*live = *stale = 0;
	for (i = 0; i < st->nhosts; i++) {
		if (store_host_stale(&st->hosts[i], now))
			(*stale)++;
		else
			(*live)++;
	}
}
