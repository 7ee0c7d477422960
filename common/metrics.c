/*
 * metrics.c: the Prometheus exposition of the processes' health replies,
 * driven by metric_table: each number a process reports, its family, type,
 * unit and HELP. A number the table does not know is still exported, as a
 * gauge with a generic HELP (and metrics_test fails until it is described).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

const char *const metrics_procs[METRICS_NPROCS] = {"store", "lister",
                                                   "dispatcher", "http"};

/*
 * Naming: one family per meaning. What every process has (its ctl server's
 * and listeners' counters, uptime, readiness) is one family with the
 * process as a label, recon_ctl_requests_total{process="store"}, so one
 * query sums or compares them (and joins recon_up{process}). What only one
 * process counts carries the process in its name, recon_lister_passes_total,
 * as a subsystem does in Prometheus's own names; a label there would never
 * vary. Counters end in _total, units are base units (_seconds, _bytes);
 * counters that are one meaning split by a cause share a family with a
 * label (recon_store_containers_ignored_total{reason="kind"}). Entries of
 * one family must be adjacent here.
 */
#define SHARED(s, k, n, t, h)                                                  \
	{                                                                      \
		.proc = NULL, .src = (s), .key = (k), .name = (n),             \
		.type = (t), .help = (h)                                       \
	}
#define COUNTER(p, k, n, h)                                                    \
	{                                                                      \
		.proc = (p), .src = METRIC_COUNTER, .key = (k), .name = (n),   \
		.type = METRIC_COUNTER_TYPE, .help = (h)                       \
	}
#define GAUGE(p, k, n, h)                                                      \
	{                                                                      \
		.proc = (p), .src = METRIC_COUNTER, .key = (k), .name = (n),   \
		.type = METRIC_GAUGE_TYPE, .help = (h)                         \
	}
#define REASON(p, k, n, l, h)                                                  \
	{                                                                      \
		.proc = (p), .src = METRIC_COUNTER, .key = (k), .name = (n),   \
		.type = METRIC_COUNTER_TYPE, .label = (l), .help = (h)         \
	}
#define STAT(k, n, h)                                                          \
	{                                                                      \
		.proc = "store", .src = METRIC_STATS, .key = (k), .name = (n), \
		.type = METRIC_GAUGE_TYPE, .help = (h)                         \
	}

/* a stats number that is one series of a labelled family */
#define STATL(k, n, l, h)                                                      \
	{                                                                      \
		.proc = "store", .src = METRIC_STATS, .key = (k), .name = (n), \
		.type = METRIC_GAUGE_TYPE, .label = (l), .help = (h)           \
	}

#define IGNORED "Containers the store ignored, by the rule that refused them."
#define NOTIFY  "Webhook notifications"
#define REMOTE                                                                 \
	"Remote ingest messages refused (also in ingest_forbidden), by "       \
	"why: no host proof, a proof that does not open, another host's, "     \
	"a type not taken remotely."
#define HOSTS                                                                  \
	"Lister hosts the store knows, by state: stale when nothing came "     \
	"from one for 3 of its intervals."

static const struct metric_meta metric_table[] = {
    /* every process: health, its ctl server (ctlsrv_counters) */
    SHARED(METRIC_HEALTH, "uptime_s", "recon_uptime_seconds", METRIC_GAUGE_TYPE,
           "Seconds since the process started."),
    SHARED(METRIC_HEALTH, "ready", "recon_ready", METRIC_GAUGE_TYPE,
           "Whether the process says it is ready (1) or not (0)."),
    SHARED(METRIC_COUNTER, "ctl_requests", "recon_ctl_requests_total",
           METRIC_COUNTER_TYPE, "Requests the ctl socket received."),
    SHARED(METRIC_COUNTER, "ctl_bad_requests", "recon_ctl_bad_requests_total",
           METRIC_COUNTER_TYPE,
           "Ctl requests undecodable or of an unknown command."),
    SHARED(METRIC_COUNTER, "ctl_forbidden", "recon_ctl_forbidden_total",
           METRIC_COUNTER_TYPE, "Ctl requests refused for the peer's uid."),
    SHARED(METRIC_COUNTER, "ctl_replies_lost", "recon_ctl_replies_lost_total",
           METRIC_COUNTER_TYPE, "Ctl replies that could not be sent."),
    SHARED(METRIC_COUNTER, "ctl_peers_gone", "recon_ctl_peers_gone_total",
           METRIC_COUNTER_TYPE, "Ctl replies lost: the asker hung up first."),
    SHARED(METRIC_COUNTER, "ctl_send_timeouts", "recon_ctl_send_timeouts_total",
           METRIC_COUNTER_TYPE,
           "Ctl replies lost: the asker did not read in time."),
    SHARED(METRIC_COUNTER, "ctl_in_flight", "recon_ctl_requests_in_flight",
           METRIC_GAUGE_TYPE, "Ctl requests being answered now."),
    SHARED(METRIC_COUNTER, "pipes_refused", "recon_nng_pipes_refused_total",
           METRIC_COUNTER_TYPE,
           "Connections refused: an untrusted peer on a writers' socket."),
    SHARED(METRIC_COUNTER, "pipes_over_cap", "recon_nng_pipes_over_cap_total",
           METRIC_COUNTER_TYPE,
           "Connections refused: an untrusted uid over its share."),
    SHARED(METRIC_COUNTER, "listener_repairs",
           "recon_nng_listener_repairs_total", METRIC_COUNTER_TYPE,
           "Listeners replaced after they stopped accepting (nng bug 1518)."),
    SHARED(METRIC_COUNTER, "pipes_cut", "recon_nng_pipes_cut_total",
           METRIC_COUNTER_TYPE, "Connections closed with a stopped listener."),
    SHARED(METRIC_COUNTER, "pipes_stuck", "recon_nng_pipes_stuck_total",
           METRIC_COUNTER_TYPE, "Connections a listener never handed over."),
    SHARED(METRIC_COUNTER, "remote_handshakes_refused",
           "recon_nng_remote_handshakes_refused_total", METRIC_COUNTER_TYPE,
           "TLS handshakes the remote listeners refused (SPEC 10)."),

    /* the store (store_ctr_names) */
    COUNTER("store", "snapshots", "recon_store_snapshots_total",
            "Lister snapshots applied."),
    COUNTER("store", "incomplete", "recon_store_snapshots_incomplete_total",
            "Snapshots applied without a sweep (complete=false)."),
    COUNTER("store", "deltas", "recon_store_deltas_total",
            "Lister deltas applied."),
    COUNTER("store", "deltas_unchanged", "recon_store_deltas_unchanged_total",
            "Deltas that changed nothing and committed nothing."),
    COUNTER("store", "stale", "recon_store_stale_inputs_total",
            "Snapshots and deltas older than the generation applied."),
    COUNTER("store", "plugin_results", "recon_store_plugin_results_total",
            "Plugin results applied."),
    COUNTER("store", "plugin_unknown",
            "recon_store_plugin_results_unknown_total",
            "Plugin results for no stored workload."),
    COUNTER("store", "bad_messages", "recon_store_ingest_bad_messages_total",
            "Ingest messages that failed to decode."),
    COUNTER("store", "unknown_messages",
            "recon_store_ingest_unknown_messages_total",
            "Ingest messages of a type the store does not take."),
    COUNTER("store", "ingest_forbidden", "recon_store_ingest_forbidden_total",
            "Ingest messages refused for the peer."),
    REASON("store", "remote_refused_unsealed",
           "recon_store_remote_ingest_refused_total", "reason=\"unsealed\"",
           REMOTE),
    REASON("store", "remote_refused_seal",
           "recon_store_remote_ingest_refused_total", "reason=\"seal\"",
           REMOTE),
    REASON("store", "remote_refused_host",
           "recon_store_remote_ingest_refused_total", "reason=\"host\"",
           REMOTE),
    REASON("store", "remote_refused_type",
           "recon_store_remote_ingest_refused_total", "reason=\"type\"",
           REMOTE),
    REASON("store", "ignored_unlabeled", "recon_store_containers_ignored_total",
           "reason=\"unlabeled\"", IGNORED),
    REASON("store", "ignored_invalid", "recon_store_containers_ignored_total",
           "reason=\"invalid\"", IGNORED),
    REASON("store", "ignored_unknown", "recon_store_containers_ignored_total",
           "reason=\"unknown\"", IGNORED),
    REASON("store", "ignored_kind", "recon_store_containers_ignored_total",
           "reason=\"kind\"", IGNORED),
    REASON("store", "ignored_project", "recon_store_containers_ignored_total",
           "reason=\"project\"", IGNORED),
    COUNTER("store", "kind_warnings", "recon_store_kind_warnings_total",
            "Warnings logged for a kind label that differs (once each)."),
    COUNTER("store", "rows_changed", "recon_store_rows_changed_total",
            "Rows upserted with a change by passes and deltas."),
    COUNTER("store", "rows_missing", "recon_store_rows_missing_total",
            "Rows turned missing."),
    COUNTER("store", "sweep_kept", "recon_store_sweep_kept_total",
            "Rows a sweep kept, their input refused."),
    COUNTER("store", "events", "recon_store_events_committed_total",
            "Events committed."),
    COUNTER("store", "commits", "recon_store_commits_total",
            "Write transactions committed."),
    COUNTER("store", "write_errors", "recon_store_write_errors_total",
            "Write transactions that failed."),
    COUNTER("store", "request_errors", "recon_store_request_errors_total",
            "Requests answered with an error."),
    COUNTER("store", "map_resizes", "recon_store_map_resizes_total",
            "LMDB map doublings."),
    COUNTER("store", "jobs_requested", "recon_store_jobs_requested_total",
            "Plugin runs asked for."),
    COUNTER("store", "jobs_folded", "recon_store_jobs_folded_total",
            "Run requests folded into one already waiting."),
    COUNTER("store", "jobs_requests_sent",
            "recon_store_jobs_requests_sent_total",
            "Run requests carried by the jobs sent."),
    COUNTER("store", "jobs_requests_void",
            "recon_store_jobs_requests_void_total",
            "Run requests that named no workload with a source_kind."),
    COUNTER("store", "jobs_sent", "recon_store_jobs_sent_total",
            "Dispatch jobs the dispatcher's socket took."),
    COUNTER("store", "jobs_busy", "recon_store_jobs_busy_total",
            "Dispatch job sends refused as busy."),
    COUNTER("store", "jobs_owed_asked", "recon_store_jobs_owed_asked_total",
            "State runs owed asked for again."),
    COUNTER("store", "hosts_forgotten", "recon_store_hosts_forgotten_total",
            "Lister hosts dropped by hosts.forget."),
    /* the store's stats numbers */
    STAT("rev", "recon_store_revision", "The latest revision committed."),
    STAT("oldest_rev", "recon_store_oldest_revision",
         "The oldest revision the event log still holds."),
    STAT("workloads", "recon_store_workloads", "Workloads stored."),
    STAT("rows", "recon_store_rows", "Container rows stored."),
    STAT("events", "recon_store_log_events", "Events the log holds."),
    STAT("map_size", "recon_store_map_size_bytes", "The LMDB map's size."),
    STAT("map_used", "recon_store_map_used_bytes",
         "Bytes of the LMDB map in use."),
    STAT("map_max", "recon_store_map_max_bytes",
         "The size the LMDB map may grow to."),
    STATL("hosts_live", "recon_store_hosts", "state=\"live\"", HOSTS),
    STATL("hosts_stale", "recon_store_hosts", "state=\"stale\"", HOSTS),

    /* the lister (lister_ctl_counters) */
    COUNTER("lister", "passes", "recon_lister_passes_total",
            "Full passes (list and snapshot) made."),
    COUNTER("lister", "resyncs", "recon_lister_resyncs_total",
            "Passes asked for by resync or SIGHUP."),
    COUNTER("lister", "relists", "recon_lister_relists_total",
            "Passes made after the events stream opened."),
    COUNTER("lister", "reconnects", "recon_lister_reconnects_total",
            "Passes made after ingest connected again (SPEC 10)."),
    COUNTER("lister", "seal_failures", "recon_lister_seal_failures_total",
            "Messages not sent: the host proof could not be made."),
    COUNTER("lister", "list_failures", "recon_lister_list_failures_total",
            "Docker list calls that failed."),
    COUNTER("lister", "snapshots_sent", "recon_lister_snapshots_sent_total",
            "Snapshots sent to the store."),
    COUNTER("lister", "deltas_sent", "recon_lister_deltas_sent_total",
            "Deltas sent to the store."),
    COUNTER("lister", "send_failures", "recon_lister_send_failures_total",
            "Sends to the store that failed."),
    GAUGE("lister", "containers_last", "recon_lister_containers",
          "Containers in the latest snapshot."),
    /* list_us_last carries the same duration, finer */
    {.proc = "lister", .src = METRIC_COUNTER, .key = "list_ms_last"},
    {.proc = "lister",
     .src = METRIC_COUNTER,
     .key = "list_us_last",
     .name = "recon_lister_list_duration_seconds",
     .type = METRIC_GAUGE_TYPE,
     .scale = 1e-6,
     .help = "How long the latest good Docker list call took."},
    COUNTER("lister", "containers_skipped",
            "recon_lister_containers_skipped_total",
            "Containers not representable on the wire."),
    COUNTER("lister", "containers_unlabelled",
            "recon_lister_containers_unlabelled_total",
            "Containers Docker returned despite the label filter."),
    GAUGE("lister", "gen", "recon_lister_generation",
          "The generation of the latest snapshot."),
    COUNTER("lister", "events", "recon_lister_docker_events_total",
            "Docker events received."),
    COUNTER("lister", "events_ignored",
            "recon_lister_docker_events_ignored_total",
            "Docker events not the lister's to act on."),
    COUNTER("lister", "events_bad", "recon_lister_docker_events_bad_total",
            "Docker events dropped as malformed."),
    GAUGE("lister", "events_connected", "recon_lister_docker_events_connected",
          "Whether the Docker events stream is open (1) or not (0)."),
    COUNTER("lister", "events_attempts",
            "recon_lister_docker_events_attempts_total",
            "Docker events subscriptions tried."),
    COUNTER("lister", "events_opens", "recon_lister_docker_events_opens_total",
            "Docker events subscriptions that opened."),
    COUNTER("lister", "events_broken",
            "recon_lister_docker_events_broken_total",
            "Docker events streams cut for bytes that are not JSON."),
    COUNTER("lister", "daemon_restarts", "recon_lister_docker_restarts_total",
            "Docker daemon restarts seen."),
    COUNTER("lister", "hints", "recon_lister_hints_total",
            "Events handed over to the worker."),
    COUNTER("lister", "hint_overflows", "recon_lister_hint_overflows_total",
            "Events dropped for a full pass instead."),
    COUNTER("lister", "rereads", "recon_lister_rereads_total",
            "Containers re-read after an event."),
    COUNTER("lister", "stale_reads", "recon_lister_stale_reads_total",
            "Re-reads that contradicted their event."),
    COUNTER("lister", "reread_failures", "recon_lister_reread_failures_total",
            "Re-reads that failed."),
    COUNTER("lister", "event_applied", "recon_lister_events_applied_total",
            "Event states pushed before any re-read."),
    COUNTER("lister", "event_overruled", "recon_lister_events_overruled_total",
            "Event states the list kept contradicting."),
    COUNTER("lister", "heartbeats", "recon_lister_heartbeats_total",
            "Idle Docker list probes that succeeded."),
    COUNTER("lister", "missed_events", "recon_lister_missed_events_total",
            "Changes a pass found that no event announced."),

    /* the dispatcher (dispatcher_ctl_counters) */
    COUNTER("dispatcher", "runs", "recon_dispatcher_plugin_runs_total",
            "Plugin runs finished, refused ones included."),
    COUNTER("dispatcher", "failures", "recon_dispatcher_plugin_failures_total",
            "Plugin runs that did not end ok."),
    COUNTER("dispatcher", "timeouts", "recon_dispatcher_plugin_timeouts_total",
            "Plugin runs ended by the timeout."),
    COUNTER("dispatcher", "refused", "recon_dispatcher_plugins_refused_total",
            "Plugins refused before they ran."),
    COUNTER("dispatcher", "requested", "recon_dispatcher_runs_requested_total",
            "Plugin runs asked for."),
    COUNTER("dispatcher", "folded", "recon_dispatcher_runs_folded_total",
            "Run requests folded into one already waiting."),
    GAUGE("dispatcher", "queued", "recon_dispatcher_workloads_queued",
          "Workloads waiting for a plugin run."),
    GAUGE("dispatcher", "running", "recon_dispatcher_runs_running",
          "Plugin runs under way."),
    COUNTER("dispatcher", "jobs", "recon_dispatcher_jobs_total",
            "Dispatch jobs taken."),
    COUNTER("dispatcher", "bad_jobs", "recon_dispatcher_bad_jobs_total",
            "Dispatch jobs dropped as malformed."),
    COUNTER("dispatcher", "jobs_forbidden",
            "recon_dispatcher_jobs_forbidden_total",
            "Dispatch jobs refused for the peer's uid."),
    COUNTER("dispatcher", "results_sent", "recon_dispatcher_results_sent_total",
            "Plugin results the store took."),
    GAUGE("dispatcher", "results_waiting", "recon_dispatcher_results_waiting",
          "Plugin results waiting to be sent."),
    COUNTER("dispatcher", "results_lost", "recon_dispatcher_results_lost_total",
            "Plugin results dropped with the outbox full."),
    COUNTER("dispatcher", "results_busy", "recon_dispatcher_results_busy_total",
            "Plugin result sends the store refused as busy."),
    COUNTER("dispatcher", "notifications_sent",
            "recon_dispatcher_notifications_sent_total",
            NOTIFY " delivered (2xx)."),
    COUNTER("dispatcher", "notifications_failed",
            "recon_dispatcher_notifications_failed_total",
            NOTIFY " given up (4xx, 3xx, or out of attempts)."),
    COUNTER("dispatcher", "notifications_retried",
            "recon_dispatcher_notifications_retried_total",
            NOTIFY " attempts after a 5xx or a transport error."),
    COUNTER("dispatcher", "notifications_dropped",
            "recon_dispatcher_notifications_dropped_total",
            NOTIFY " dropped: queue full or workload gone."),
    GAUGE("dispatcher", "notifications_queued",
          "recon_dispatcher_notifications_queued",
          NOTIFY " waiting or under way."),
    COUNTER("dispatcher", "events", "recon_dispatcher_container_events_total",
            "Container events received from the store."),
    COUNTER("dispatcher", "bad_events",
            "recon_dispatcher_container_events_bad_total",
            "Container events dropped as malformed."),
    COUNTER("dispatcher", "workload_fetches",
            "recon_dispatcher_workload_fetches_total",
            "Workload records asked of the store."),
    COUNTER("dispatcher", "workload_fetch_failures",
            "recon_dispatcher_workload_fetch_failures_total",
            "Workload record requests without an answer."),
    COUNTER("dispatcher", "dispatches_forwarded",
            "recon_dispatcher_dispatches_forwarded_total",
            "Dispatch requests passed on to the store."),
    COUNTER("dispatcher", "dispatches_failed",
            "recon_dispatcher_dispatches_failed_total",
            "Dispatch requests without an answer from the store."),

    /* recon-http (http_ctr_names, and its feed) */
    COUNTER("http", "requests", "recon_http_requests_total",
            "HTTP requests answered."),
    COUNTER("http", "not_found", "recon_http_not_found_total",
            "HTTP requests answered 404."),
    COUNTER("http", "bad_requests", "recon_http_bad_requests_total",
            "HTTP requests answered 400 or 405."),
    COUNTER("http", "unavailable", "recon_http_unavailable_total",
            "HTTP requests answered 503: the store did not answer."),
    COUNTER("http", "streams", "recon_http_streams_total",
            "Event streams opened."),
    GAUGE("http", "streams_open", "recon_http_streams_open",
          "Event streams open now."),
    COUNTER("http", "events_sent", "recon_http_events_sent_total",
            "Events written to event streams."),
    COUNTER("http", "fills", "recon_http_log_reads_total",
            "Reads of the store's log by streams behind the memory."),
    COUNTER("http", "compacted", "recon_http_streams_compacted_total",
            "Streams refused (410) or ended: behind what the log keeps."),
    COUNTER("http", "keepalives", "recon_http_keepalives_total",
            "Keep-alive comments written to quiet streams."),
    GAUGE("http", "feed_rev", "recon_http_feed_revision",
          "The newest revision recon-http holds in memory."),
    GAUGE("http", "feed_kept", "recon_http_feed_events",
          "Events held in memory for the streams."),
    COUNTER("http", "feed_events", "recon_http_feed_events_total",
            "Events taken in from the store."),
    COUNTER("http", "feed_restarts", "recon_http_feed_restarts_total",
            "Subscriptions started again from the store's head."),
};
#define NMETRICS (sizeof(metric_table) / sizeof(metric_table[0]))

const struct metric_meta *
metrics_find(const char *proc, enum metric_src src, const char *key)
{
	const struct metric_meta *m;

	for (m = metric_table; m < metric_table + NMETRICS; m++)
		if (m->src == src && strcmp(m->key, key) == 0 &&
		    (m->proc == NULL || strcmp(m->proc, proc) == 0))
			return m;
	return NULL;
}

/* proc's reply in all, NULL when it did not answer. */
static json_object *
reply_of(json_object *all, const char *proc)
{
	json_object *p = json_object_object_get(all, proc);

	return p == NULL || json_object_is_type(p, json_type_null) ? NULL : p;
}

/* The object src's numbers sit in. */
static json_object *
source_of(json_object *p, enum metric_src src)
{
	json_object *o;

	switch (src) {
	case METRIC_HEALTH:
		return p;
	case METRIC_COUNTER:
		return json_object_object_get_ex(p, "counters", &o) ? o : NULL;
	case METRIC_STATS:
		return json_object_object_get_ex(p, "stats", &o) ? o : NULL;
	}
	return NULL;
}

/* v as a sample value times scale (0: as it is); false if not a number. */
static bool
sample_value(json_object *v, double scale, char *out, size_t len)
{
	if (json_object_is_type(v, json_type_boolean)) {
		snprintf(out, len, "%d", json_object_get_boolean(v) ? 1 : 0);
		return true;
	}
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return false;
	if (scale == 0)
		snprintf(out, len, "%s", json_object_get_string(v));
	else
		snprintf(out, len, "%.9g", json_object_get_double(v) * scale);
	return true;
}

static void
family_header(FILE *f, const char *name, const char *help,
              enum metric_type type)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	        type == METRIC_COUNTER_TYPE ? "counter" : "gauge");
}

/* A sample, its labels: process="proc" when proc is not NULL, and label. */
static void
sample(FILE *f, const char *name, const char *proc, const char *label,
       const char *value)
{
	fputs(name, f);
	if (proc != NULL || label != NULL)
		fprintf(f, "{%s%s%s%s%s}", proc != NULL ? "process=\"" : "",
		        proc != NULL ? proc : "", proc != NULL ? "\"" : "",
		        proc != NULL && label != NULL ? "," : "",
		        label != NULL ? label : "");
	fprintf(f, " %s\n", value);
}

static bool
table_has_name(const char *name)
{
	size_t i;

	for (i = 0; i < NMETRICS; i++)
		if (metric_table[i].name != NULL &&
		    strcmp(metric_table[i].name, name) == 0)
			return true;
	return false;
}

/* The numbers of p's src the table does not know: gauges named
 * recon_<proc>_<key> (_unlisted added should that be a table's family). */
static void
write_unlisted(FILE *f, const char *proc, json_object *p, enum metric_src src)
{
	json_object *o = source_of(p, src);
	char name[256], value[64];
	size_t i;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v)
	{
		if (metrics_find(proc, src, k) != NULL ||
		    !sample_value(v, 0, value, sizeof(value)))
			continue;
		snprintf(name, sizeof(name), "recon_%s_%s", proc, k);
		for (i = 0; name[i] != '\0'; i++)
			if (!isalnum((unsigned char)name[i]) && name[i] != '_')
				name[i] = '_';
		if (table_has_name(name))
			strncat(name, "_unlisted",
			        sizeof(name) - strlen(name) - 1);
		fprintf(f,
		        "# HELP %s The %s's number %s (not described "
		        "yet).\n# TYPE %s gauge\n",
		        name, proc, name + strlen("recon_") + strlen(proc) + 1,
		        name);
		sample(f, name, NULL, NULL, value);
	}
}

void
metrics_write(FILE *f, json_object *all)
{
	const struct metric_meta *m;
	const char *family = NULL; /* whose HELP and TYPE are out */
	json_object *p, *o, *v;
	char value[64];
	size_t i;

	family_header(f, "recon_up",
	              "Whether the process answered its health "
	              "request (1) or not (0).",
	              METRIC_GAUGE_TYPE);
	for (i = 0; i < METRICS_NPROCS; i++)
		if (json_object_object_get_ex(all, metrics_procs[i], NULL))
			sample(f, "recon_up", metrics_procs[i], NULL,
			       reply_of(all, metrics_procs[i]) != NULL ? "1"
			                                               : "0");
	for (m = metric_table; m < metric_table + NMETRICS; m++) {
		if (m->name == NULL)
			continue;
		for (i = 0; i < METRICS_NPROCS; i++) {
			if (m->proc != NULL &&
			    strcmp(m->proc, metrics_procs[i]) != 0)
				continue;
			if ((p = reply_of(all, metrics_procs[i])) == NULL ||
			    (o = source_of(p, m->src)) == NULL ||
			    !json_object_object_get_ex(o, m->key, &v) ||
			    !sample_value(v, m->scale, value, sizeof(value)))
				continue;
			if (family == NULL || strcmp(family, m->name) != 0) {
				family_header(f, m->name, m->help, m->type);
				family = m->name;
			}
			sample(f, m->name,
			       m->proc == NULL ? metrics_procs[i] : NULL,
			       m->label, value);
		}
	}
	for (i = 0; i < METRICS_NPROCS; i++) {
		if ((p = reply_of(all, metrics_procs[i])) == NULL)
			continue;
		write_unlisted(f, metrics_procs[i], p, METRIC_COUNTER);
		write_unlisted(f, metrics_procs[i], p, METRIC_STATS);
	}
}
