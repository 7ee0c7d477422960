/*
 * many_hosts.c: recon-many-hosts, the measuring end of
 * bench/many_hosts.sh (issue 16): while listers (recon-load --hosts N)
 * push to a running recon-store, it follows every event of the store for
 * --seconds as one subscriber (include/recon-client.h, on the store's
 * local sockets) and prints one line of key=value figures:
 *
 *   passes, passes_s   snapshots the store applied in the window, and per
 *                      second (its stats counter `snapshots`)
 *   apply_us_*         the store's own time per applied snapshot (p50,
 *                      p99, max, mean): duration_us of each sys/pass event,
 *                      the figure its "applied ... us" log line says,
 *                      taken inside the write transaction before the pass
 *                      event and the commit
 *   cpu_cores          the store's utime + stime (/proc/PID/stat) over the
 *                      window, per second; cpu_ms_pass the same per pass;
 *                      load_cores the generator's (--load-pid), -1 unknown
 *   anon_kb_*, rss_kb_*  the store's RssAnon and VmRSS (/proc/PID/status),
 *                      sampled every 100 ms: at the start and the peak
 *   ev_ms_*            event delay: receipt - the container event's `at`
 *                      (ms, stamped in the store's write transaction)
 *   pass_ms_*          snapshot to subscriber: receipt of a sys/pass -
 *                      its gen, which recon-load --hosts takes from the
 *                      clock (ms) when it makes the snapshot: sealing,
 *                      the transport, the store's ingest queue, the
 *                      proof's check, the apply, the commit and the
 *                      publication
 *   events, hosts_live, stale, forbidden, bad  what else the store says
 *
 * Exits 1 when a measure cannot be taken: no snapshot applied, no pass or
 * container event seen, the store's /proc unreadable, a host missing from
 * hosts_live or rows from the store, or a message refused (forbidden,
 * bad).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bench.h"
#include "clnt.h"
#include "flags.h"
#include "log.h"
#include "nngx.h"
#include "recon-client.h"
#include "store_clnt.h"
#include "util.h"
#include "wire.h"

static char *run_dir;
static int64_t seconds, store_pid, load_pid, nhosts, nrows;

static struct flag flagtab[] = {
    {"run-dir", 0, "RECON_RUN_DIR", FLAG_STR, &run_dir, "/run/recon",
     "directory of the store's sockets"},
    {"seconds", 's', NULL, FLAG_INT, &seconds, "10", "how long to measure"},
    {"store-pid", 0, NULL, FLAG_INT, &store_pid, "0",
     "the store's pid: its CPU and memory"},
    {"load-pid", 0, NULL, FLAG_INT, &load_pid, "0",
     "the generator's pid (recon-load): its CPU, for context"},
    {"hosts", 0, NULL, FLAG_INT, &nhosts, "0",
     "hosts that must be live in the store at the end"},
    {"rows", 0, NULL, FLAG_INT, &nrows, "0",
     "container rows the store must hold at the end"},
    FLAG_END,
};

/* A growing array of delays or durations, us. */
struct vec {
	uint32_t *v;
	size_t n, cap;
};

static void
vec_add(struct vec *a, int64_t us)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 4096;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Prints PREFIX_p50, _p99, _max (and _mean) in ms, or us when us. */
static void
vec_print(struct vec *a, const char *prefix, bool us)
{
	double div = us ? 1.0 : 1000.0, sum = 0;
	size_t i;

	qsort(a->v, a->n, sizeof(*a->v), bench_cmp_u32);
	for (i = 0; i < a->n; i++)
		sum += a->v[i];
	printf(" %s_n=%zu %s_p50=%.1f %s_p99=%.1f %s_max=%.1f %s_mean=%.1f",
	       prefix, a->n, prefix, bench_pct(a->v, a->n, 50) / div, prefix,
	       bench_pct(a->v, a->n, 99) / div, prefix,
	       a->n ? a->v[a->n - 1] / div : 0, prefix,
	       a->n ? sum / (double)a->n / div : 0);
}

/* What the store's stats say. */
struct figures {
	uint64_t snapshots, events, stale, forbidden, bad, rows, live;
};

static uint64_t
counter(const struct wire_stats_reply *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->ncounters; i++)
		if (strcmp(st->counters[i].name, name) == 0)
			return st->counters[i].value;
	fatalx(EXIT_TEMP, "the store's stats have no counter %s", name);
}

static void
stats(struct clnt *c, struct figures *f)
{
	struct clnt_result r = {0};
	struct wire_stats_reply st;

	if (store_clnt_stats(c, &r, &st) != CLNT_OK)
		fatalx(EXIT_TEMP, "unable to read the store's stats: %s",
		       r.err);
	f->snapshots = counter(&st, "snapshots");
	f->events = counter(&st, "events");
	f->stale = counter(&st, "stale");
	f->forbidden = counter(&st, "ingest_forbidden");
	f->bad = counter(&st, "bad_messages");
	f->rows = st.rows;
	f->live = st.hosts_live;
	clnt_result_free(&r);
}

/* The store's memory: RssAnon and VmRSS, peaks kept. */
struct mem {
	int64_t anon0, rss0, anon_max, rss_max;
};

static void
mem_sample(struct mem *m)
{
	int64_t anon = bench_pid_status_kb(store_pid, "RssAnon"),
	        rss = bench_pid_status_kb(store_pid, "VmRSS");

	if (anon < 0 || rss < 0)
		fatalx(EXIT_TEMP, "unable to read /proc/%lld/status",
		       (long long)store_pid);
	if (m->anon0 == 0) {
		m->anon0 = anon;
		m->rss0 = rss;
	}
	if (anon > m->anon_max)
		m->anon_max = anon;
	if (rss > m->rss_max)
		m->rss_max = rss;
}

int
main(int argc, char **argv)
{
	struct vec apply = {0}, evd = {0}, passd = {0};
	struct figures f0, f1;
	struct mem mem = {0};
	struct recon_sub *sub;
	struct recon_event ev;
	struct wire_event we;
	struct arena *a;
	struct clnt *c;
	char url[1024], err[WIRE_ERR_LEN];
	int64_t cpu0, cpu1, lcpu0, lcpu1, t0, t1, now, sampled = 0;
	uint64_t got = 0;
	double secs;
	int rc, failed = 0;

	if (flags_parse("recon-many-hosts", "[options]", flagtab, argc, argv,
	                NULL) == -1)
		return EXIT_USAGE;
	log_init("recon-many-hosts", "text", 0);
	if (seconds < 1 || store_pid <= 0 || nhosts < 0 || nrows < 0)
		fatalx(EXIT_USAGE,
		       "bad --seconds, --store-pid, --hosts or --rows");
	if (nngx_url(url, sizeof(url), NULL, run_dir, "store.ctl") == -1)
		fatalx(EXIT_USAGE, "bad --run-dir");
	c = clnt_new(url, 5000);
	if ((sub = recon_sub_open(run_dir)) == NULL)
		fatalx(EXIT_TEMP, "unable to open a subscriber");
	if (recon_sub_start(sub, RECON_SUB_NOW) != RECON_SUB_OK)
		fatalx(EXIT_TEMP, "unable to subscribe: %s",
		       recon_sub_error(sub));
	stats(c, &f0);
	if ((cpu0 = bench_pid_cpu_us(store_pid)) < 0)
		fatalx(EXIT_TEMP, "unable to read /proc/%lld/stat",
		       (long long)store_pid);
	lcpu0 = bench_pid_cpu_us(load_pid);
	t0 = bench_wall_us();
	for (;;) {
		now = bench_wall_us();
		if (now - sampled >= 100000) {
			mem_sample(&mem);
			sampled = now;
		}
		if (now - t0 >= seconds * 1000000)
			break;
		rc = recon_sub_next(sub, 50, &ev);
		if (rc == RECON_SUB_TIMEOUT)
			continue;
		if (rc != RECON_SUB_EVENT)
			fatalx(EXIT_TEMP, "the subscriber failed: %s",
			       recon_sub_error(sub));
		now = bench_wall_us();
		got++;
		if (ev.type == RECON_EVENT_CONTAINER && ev.at > 0) {
			vec_add(&evd, now - ev.at * 1000);
		} else if (ev.type == RECON_EVENT_PASS) {
			a = arena_new();
			if (wire_decode_event(ev.body, ev.len, a, &we, err) ==
			    -1)
				fatalx(EXIT_TEMP, "a pass event: %s", err);
			arena_free(a);
			vec_add(&apply, (int64_t)we.duration_us);
			/* a gen from the clock: ms since the epoch */
			if (we.gen > 1000000000000ull &&
			    we.gen < 100000000000000ull)
				vec_add(&passd, now - (int64_t)we.gen * 1000);
		}
	}
	t1 = bench_wall_us();
	cpu1 = bench_pid_cpu_us(store_pid);
	lcpu1 = bench_pid_cpu_us(load_pid);
	mem_sample(&mem);
	stats(c, &f1);
	secs = (double)(t1 - t0) / 1e6;

	printf("secs=%.1f passes=%llu passes_s=%.2f", secs,
	       (unsigned long long)(f1.snapshots - f0.snapshots),
	       (double)(f1.snapshots - f0.snapshots) / secs);
	vec_print(&apply, "apply_us", true);
	printf(" cpu_cores=%.3f cpu_ms_pass=%.3f",
	       cpu1 >= 0 ? (double)(cpu1 - cpu0) / 1e6 / secs : -1.0,
	       f1.snapshots > f0.snapshots && cpu1 >= 0
	           ? (double)(cpu1 - cpu0) / 1000.0 /
	                 (double)(f1.snapshots - f0.snapshots)
	           : -1.0);
	printf(" load_cores=%.3f", lcpu0 >= 0 && lcpu1 >= 0
	                               ? (double)(lcpu1 - lcpu0) / 1e6 / secs
	                               : -1.0);
	printf(" anon_kb_start=%lld anon_kb_peak=%lld rss_kb_start=%lld "
	       "rss_kb_peak=%lld",
	       (long long)mem.anon0, (long long)mem.anon_max,
	       (long long)mem.rss0, (long long)mem.rss_max);
	vec_print(&evd, "ev_ms", false);
	vec_print(&passd, "pass_ms", false);
	printf(" events=%llu events_s=%.1f received=%llu hosts_live=%llu "
	       "rows=%llu stale=%llu forbidden=%llu bad=%llu\n",
	       (unsigned long long)(f1.events - f0.events),
	       (double)(f1.events - f0.events) / secs, (unsigned long long)got,
	       (unsigned long long)f1.live, (unsigned long long)f1.rows,
	       (unsigned long long)(f1.stale - f0.stale),
	       (unsigned long long)(f1.forbidden - f0.forbidden),
	       (unsigned long long)(f1.bad - f0.bad));
	fflush(stdout);

	if (f1.snapshots == f0.snapshots) {
		log_warnx("the store applied no snapshot in %.1f s", secs);
		failed = 1;
	}
	if (apply.n == 0 || passd.n == 0) {
		log_warnx("no pass event with a clock gen seen: no apply time, "
		          "no pass delay");
		failed = 1;
	}
	if (evd.n == 0) {
		log_warnx("no container event seen: no event delay");
		failed = 1;
	}
	if (cpu1 < 0) {
		log_warnx("the store's CPU could not be read at the end");
		failed = 1;
	}
	if (f1.live < (uint64_t)nhosts) {
		log_warnx("%llu hosts live in the store, not %lld",
		          (unsigned long long)f1.live, (long long)nhosts);
		failed = 1;
	}
	if (f1.rows < (uint64_t)nrows) {
		log_warnx("%llu rows in the store, not %lld",
		          (unsigned long long)f1.rows, (long long)nrows);
		failed = 1;
	}
	if (f1.forbidden > f0.forbidden || f1.bad > f0.bad) {
		log_warnx("the store refused messages: %llu forbidden, %llu "
		          "bad",
		          (unsigned long long)(f1.forbidden - f0.forbidden),
		          (unsigned long long)(f1.bad - f0.bad));
		failed = 1;
	}
	/* no recon_sub_close: see bench/fanout.c (an nng close can hang) */
	clnt_free(c);
	free(apply.v);
	free(evd.v);
	free(passd.v);
	return failed;
}
