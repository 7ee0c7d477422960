/*
 * load.c: recon-load, a tool for tests and benchmarks: pushes snapshots of
 * made-up containers on recon-store's ingest socket as a lister would, each
 * flipping every container between running and exited, so that each
 * snapshot makes one container event per container plus one sys/pass.
 * With --plugin-error it sends one plugin_result instead, with
 * --delta-gone one delta, with --dispatch one dispatch job to the
 * dispatcher's jobs socket (the trust tests forge each of them). Gens
 * start from the clock (ms), as recon-lister's do, unless --gen says.
 * With --hosts N it acts as N listers at once, each with its own socket
 * and, towards a remote store, its own certificate (load_hosts.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flags.h"
#include "load.h"
#include "log.h"
#include "nngx.h"
#include "util.h"
#include "wire.h"

static char *run_dir, *ingest_url, *jobs_url, *prefix, *host, *workloads;
static char *plugin_error, *delta_gone, *dispatch_kind, *tls_dir;
static int64_t ncontainers, nsnapshots, rate, gen0, interval_ms;
static int64_t nhosts, duration_ms, change_pct;

static struct flag flagtab[] = {
    {"run-dir", 0, "RECON_RUN_DIR", FLAG_STR, &run_dir, "/run/recon",
     "directory of the store's sockets"},
    {"ingest-url", 0, "RECON_INGEST_URL", FLAG_STR, &ingest_url, NULL,
     "ingest socket (default ipc://RUN_DIR/ingest)"},
    {"label-prefix", 0, "RECON_LABEL_PREFIX", FLAG_STR, &prefix, "tinyforge.",
     "prefix of the labels"},
    {"host", 0, NULL, FLAG_STR, &host, "load",
     "lister host name to send as (with --hosts: the names' prefix)"},
    {"hosts", 0, NULL, FLAG_INT, &nhosts, "0",
     "act as this many hosts HOST1..HOSTN, each its own socket and "
     "schedule, a snapshot each per --interval (0: one host, --host)"},
    {"tls-dir", 0, NULL, FLAG_STR, &tls_dir, NULL,
     "with --hosts and a remote --ingest-url: NAME.pem, NAME.key of each "
     "host (its TLS client and the seal of its snapshots) and ca.pem"},
    {"change", 0, NULL, FLAG_INT, &change_pct, "100",
     "with --hosts: % of a host's containers changing state per pass"},
    {"duration", 0, NULL, FLAG_DURATION, &duration_ms, "0",
     "with --hosts: send for this long instead of --snapshots passes"},
    {"workloads", 'w', NULL, FLAG_STR, &workloads, "load",
     "comma-separated stack workload ids the containers go to, in turn"},
    {"containers", 'c', NULL, FLAG_INT, &ncontainers, "1000",
     "containers per snapshot"},
    {"snapshots", 'n', NULL, FLAG_INT, &nsnapshots, "10", "snapshots to send"},
    {"rate", 'r', NULL, FLAG_INT, &rate, "0",
     "snapshots per second (0: as fast as the store takes them)"},
    {"gen", 0, NULL, FLAG_INT, &gen0, "0",
     "gen of the first snapshot (0: the clock in ms, as recon-lister)"},
    {"interval", 0, NULL, FLAG_DURATION, &interval_ms, "0",
     "interval_ms the snapshots carry, and one snapshot per interval "
     "unless --rate says otherwise (0: none carried)"},
    {"plugin-error", 0, NULL, FLAG_STR, &plugin_error, NULL,
     "send one failed plugin_result of the first workload with this text"},
    {"delta-gone", 0, NULL, FLAG_STR, &delta_gone, NULL,
     "send one delta of --host saying this Docker id is gone"},
    {"dispatch", 0, NULL, FLAG_STR, &dispatch_kind, NULL,
     "send one manual dispatch job of the workloads, with this source_kind, "
     "to the jobs socket"},
    {"jobs-url", 0, NULL, FLAG_STR, &jobs_url, NULL,
     "jobs socket (default ipc://RUN_DIR/jobs)"},
    FLAG_END,
};

/* Splits the comma-separated list in place. */
static char **
split(char *list, size_t *n)
{
	char **v = NULL, *w, *save = NULL;

	*n = 0;
	for (w = strtok_r(list, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save)) {
		if ((v = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			fatal(EXIT_TEMP, "unable to split the workload list");
		v[(*n)++] = w;
	}
	return v;
}

static void
push(nng_socket s, const struct wbuf *b)
{
	/* blocks while the store is away; nng redials */
	if (nngx_send_timeout(s, b->data, b->len, 3600 * 1000) != NNGX_SENT)
		fatalx(EXIT_TEMP, "unable to push to the store");
}

static void
send_plugin_result(nng_socket s, const char *wid)
{
	struct wire_plugin_result pr = {
	    .workload_id = (char *)wid,
	    .reason = "manual",
	    .ok = false,
	    .error = plugin_error,
	    .started_at = now_ms(),
	    .duration_ms = 1,
	};
	struct wbuf b = {0};

	if (wire_encode_plugin_result(&b, &pr) == -1)
		fatalx(EXIT_TEMP, "unable to encode a plugin result");
	push(s, &b);
	wbuf_free(&b);
}

static void
send_delta(nng_socket s)
{
	struct wire_delta d = {
	    .host = host,
	    .gen = (uint64_t)gen0,
	    .gone = &delta_gone,
	    .ngone = 1,
	};
	struct wbuf b = {0};

	if (wire_encode_delta(&b, &d) == -1)
		fatalx(EXIT_TEMP, "unable to encode a delta");
	push(s, &b);
	wbuf_free(&b);
}

static void
send_dispatch(char **wids, size_t nw)
{
	struct wire_job_item *items;
	struct wire_dispatch d;
	struct wbuf b = {0};
	char url[1024];
	nng_socket s;
	size_t i;

	if ((items = calloc(nw, sizeof(*items))) == NULL)
		fatal(EXIT_TEMP, "unable to make the job");
	for (i = 0; i < nw; i++) {
		items[i].workload.id = wids[i];
		items[i].workload.kind = "stack";
		items[i].workload.source_kind = dispatch_kind;
	}
	memset(&d, 0, sizeof(d));
	d.rev = 1;
	d.reason = "manual";
	d.items = items;
	d.nitems = nw;
	if (wire_encode_dispatch(&b, &d) == -1)
		fatalx(EXIT_TEMP, "unable to encode a job");
	if (nngx_url(url, sizeof(url), jobs_url, run_dir, "jobs") == -1 ||
	    nngx_dial(&s, NNGX_PUSH, url, 64u << 20) == -1)
		exit(EXIT_TEMP);
	push(s, &b);
	sleep(1);
	nng_close(s);
	wbuf_free(&b);
	free(items);
}

/* --hosts: N listers in one process (load_hosts.c) */
static int
many_hosts(char **wids, size_t nw)
{
	struct load_hosts_conf c;
	char url[1024], key_id[512], key_role[512];
	int rc;

	if (plugin_error != NULL || delta_gone != NULL || dispatch_kind != NULL)
		fatalx(EXIT_USAGE, "--hosts sends snapshots only");
	if (nngx_url(url, sizeof(url), ingest_url, run_dir, "ingest") == -1)
		fatalx(EXIT_USAGE, "bad --ingest-url");
	snprintf(key_id, sizeof(key_id), "%sworkload.id", prefix);
	snprintf(key_role, sizeof(key_role), "%srole", prefix);
	memset(&c, 0, sizeof(c));
	c.url = url;
	c.prefix = host;
	c.tls_dir = tls_dir;
	c.key_id = key_id;
	c.key_role = key_role;
	c.wids = wids;
	c.nw = nw;
	c.hosts = nhosts;
	c.containers = ncontainers;
	c.snapshots = nsnapshots;
	c.duration_ms = duration_ms;
	c.rate = rate;
	c.interval_ms = interval_ms;
	c.gen0 = gen0;
	c.change_pct = change_pct;
	rc = load_hosts(&c);
	free(wids);
	return rc;
}

int
main(int argc, char **argv)
{
	char url[1024], key_id[512], key_role[512], (*ids)[32], (*roles)[32];
	struct wire_container *cs;
	struct wire_kv *labels;
	struct wire_snapshot snap;
	struct wbuf b = {0};
	struct timespec ts;
	int64_t i, k, t0;
	char **wids;
	size_t nw;
	nng_socket s;

	if (flags_parse("recon-load", "[options]", flagtab, argc, argv, NULL) ==
	    -1)
		return EXIT_USAGE;
	log_init("recon-load", "text", 0);
	if (ncontainers < 0 || nsnapshots < 0 || rate < 0 || gen0 < 0 ||
	    interval_ms < 0 || nhosts < 0)
		fatalx(EXIT_USAGE,
		       "bad --containers, --snapshots, --rate, --gen, "
		       "--interval or --hosts");
	wids = split(workloads, &nw);
	if (nw == 0)
		fatalx(EXIT_USAGE, "bad --workloads: none");
	if (nhosts > 0)
		return many_hosts(wids, nw);
	if (gen0 == 0)
		gen0 = now_ms();
	if (dispatch_kind != NULL) {
		send_dispatch(wids, nw);
		free(wids);
		return 0;
	}
	if (nngx_url(url, sizeof(url), ingest_url, run_dir, "ingest") == -1 ||
	    nngx_dial(&s, NNGX_PUSH, url, 64u << 20) == -1)
		return EXIT_TEMP;
	if (plugin_error != NULL) {
		send_plugin_result(s, wids[0]);
		goto out;
	}
	if (delta_gone != NULL) {
		send_delta(s);
		goto out;
	}
	snprintf(key_id, sizeof(key_id), "%sworkload.id", prefix);
	snprintf(key_role, sizeof(key_role), "%srole", prefix);
	cs = calloc((size_t)ncontainers, sizeof(*cs));
	labels = calloc((size_t)ncontainers * 2, sizeof(*labels));
	ids = calloc((size_t)ncontainers, sizeof(*ids));
	roles = calloc((size_t)ncontainers, sizeof(*roles));
	if (cs == NULL || labels == NULL || ids == NULL || roles == NULL)
		fatal(EXIT_TEMP, "unable to make the containers");
	for (i = 0; i < ncontainers; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s-%06lld", host,
		         (long long)i);
		snprintf(roles[i], sizeof(roles[i]), "r%lld", (long long)i);
		labels[2 * i] = (struct wire_kv){key_id, wids[i % (int64_t)nw]};
		labels[2 * i + 1] = (struct wire_kv){key_role, roles[i]};
		cs[i].id = ids[i];
		cs[i].image = "recon-load:latest";
		cs[i].created = 1700000000 + i;
		cs[i].labels = &labels[2 * i];
		cs[i].nlabels = 2;
	}
	t0 = mono_ms();
	for (k = 0; k < nsnapshots; k++) {
		for (i = 0; i < ncontainers; i++)
			cs[i].state = (k + i) % 2 == 0 ? "running" : "exited";
		memset(&snap, 0, sizeof(snap));
		snap.host = host;
		snap.gen = (uint64_t)(gen0 + k);
		snap.taken_at = now_ms();
		snap.complete = true;
		snap.interval_ms = (uint64_t)interval_ms;
		snap.containers = cs;
		snap.ncontainers = (size_t)ncontainers;
		wbuf_reset(&b);
		if (wire_encode_snapshot(&b, &snap) == -1)
			fatalx(EXIT_TEMP, "unable to encode a snapshot");
		push(s, &b);
		/* --rate: snapshot k + 1 is due (k + 1) / rate s after t0;
		 * else --interval: (k + 1) intervals after it */
		while ((rate > 0 && mono_ms() - t0 < (k + 1) * 1000 / rate) ||
		       (rate == 0 && interval_ms > 0 &&
		        mono_ms() - t0 < (k + 1) * interval_ms)) {
			ts.tv_sec = 0;
			ts.tv_nsec = 1000000;
			nanosleep(&ts, NULL);
		}
	}
	free(cs);
	free(labels);
	free(ids);
	free(roles);
out:
	/* nng drops what is still queued when the socket closes */
	sleep(1);
	wbuf_free(&b);
	free(wids);
	nng_close(s);
	return 0;
}
