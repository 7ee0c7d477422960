/*
 * fanout.c: recon-fanout, the pub/sub benchmark: N subscribers (threads,
 * each its own common/sub.h client) follow everything while a generator
 * pushes snapshots on ingest at a set rate; prints one table row: the
 * delivery rate per subscriber, the delay from an event's commit to its
 * receipt (p50/p99/max), and any loss or duplicate after gap fill.
 * Needs a running recon-store whose workloads include --workloads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "clnt.h"
#include "flags.h"
#include "log.h"
#include "nngx.h"
#include "sub.h"
#include "util.h"
#include "wire.h"

static char *run_dir, *prefix, *workload;
static int64_t nsubs, rate, seconds, batch, header;

static struct flag flagtab[] = {
    {"run-dir", 0, "RECON_RUN_DIR", FLAG_STR, &run_dir, "/run/recon",
     "directory of the store's sockets"},
    {"label-prefix", 0, "RECON_LABEL_PREFIX", FLAG_STR, &prefix, "tinyforge.",
     "prefix of the labels"},
    {"workload", 'w', NULL, FLAG_STR, &workload, "bench",
     "stack workload the generated containers belong to"},
    {"subscribers", 'n', NULL, FLAG_INT, &nsubs, "1", "subscribers"},
    {"rate", 'r', NULL, FLAG_INT, &rate, "5000",
     "events per second to generate (0: as fast as the store commits)"},
    {"seconds", 's', NULL, FLAG_INT, &seconds, "10", "how long to generate"},
    {"batch", 'b', NULL, FLAG_INT, &batch, "50",
     "containers per snapshot (each snapshot: batch + 1 events)"},
    {"header", 0, NULL, FLAG_INT, &header, "1", "print the table header"},
    FLAG_END,
};

/* One subscriber's view of the run. */
struct subr {
	pthread_t thr;
	struct recon_sub *s;
	uint64_t from, want; /* revisions from+1 .. from+want */
	uint64_t got, dups, ndelay;
	int64_t first_us, last_us;
	uint32_t *delay_us; /* per event, from its commit stamp */
	struct recon_sub_stats st;
	int rc;
};

static atomic_int gen_done;
static int64_t gen_ms; /* how long generating took */
static atomic_ullong expected;

static int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *
sub_main(void *arg)
{
	struct subr *r = arg;
	struct recon_event ev;
	uint64_t next = r->from + 1, want;
	int64_t now, idle_since = 0;
	int rc;

	for (;;) {
		want = atomic_load(&expected);
		if (atomic_load(&gen_done) && r->got >= want)
			break;
		rc = recon_sub_next(r->s, 200, &ev);
		now = wall_us();
		if (rc == RECON_SUB_TIMEOUT) {
			/* the generator is done and nothing came for 10 s */
			if (atomic_load(&gen_done) && idle_since == 0)
				idle_since = now;
			if (idle_since != 0 && now - idle_since > 10000000)
				break;
			continue;
		}
		if (rc != RECON_SUB_EVENT) {
			r->rc = rc;
			break;
		}
		idle_since = 0;
		/* out of order or twice; a gap shows as too few at the end */
		if (ev.rev < next)
			r->dups++;
		else
			next = ev.rev + 1;
		if (r->got == 0)
			r->first_us = now;
		r->last_us = now;
		/* `at` (container events only) is ms, stamped in the write
		 * transaction before its commit */
		if (ev.at > 0 && r->ndelay < r->want)
			r->delay_us[r->ndelay++] =
			    now > ev.at * 1000 ? (uint32_t)(now - ev.at * 1000)
			                       : 0;
		r->got++;
	}
	recon_sub_stats(r->s, &r->st);
	return NULL;
}

/* Pushes snapshots of batch containers at the rate; returns the number of
 * events they make. */
/* The store's head revision, from events.since at "now". */
static uint64_t
head_rev(void)
{
	struct wire_request rq = {
	    .t = "events.since", .rev = UINT64_MAX, .limit = 1};
	struct wbuf req = {0}, rep = {0};
	struct wire_span *sp;
	struct arena *a = arena_new();
	char url[1024], err[256];
	uint64_t head;
	size_t n;

	if (nngx_url(url, sizeof(url), NULL, run_dir, "store.ctl") == -1 ||
	    wire_encode_request(&req, &rq) == -1 ||
	    clnt_call(url, &req, 5000, &rep, err, sizeof(err)) != CLNT_OK ||
	    wire_decode_events_reply(rep.data, rep.len, a, &head, &sp, &n,
	                             err) == -1)
		fatalx(EXIT_TEMP, "unable to read the store's head: %s", err);
	wbuf_free(&req);
	wbuf_free(&rep);
	arena_free(a);
	return head;
}

static uint64_t
generate(void)
{
	char url[1024], key_id[512], key_role[512], (*ids)[64], (*roles)[64];
	char host[64];
	struct wire_container *cs;
	struct wire_kv *labels;
	struct wire_snapshot snap;
	struct wbuf b = {0};
	struct timespec ts = {0, 200000};
	uint64_t events = 0, per = (uint64_t)batch + 1;
	int64_t i, k, t0, total;
	nng_socket s;

	if (nngx_url(url, sizeof(url), NULL, run_dir, "ingest") == -1 ||
	    nngx_dial(&s, NNGX_PUSH, url, 64u << 20) == -1)
		fatalx(EXIT_TEMP, "unable to reach ingest");
	snprintf(key_id, sizeof(key_id), "%sworkload.id", prefix);
	snprintf(key_role, sizeof(key_role), "%srole", prefix);
	cs = calloc((size_t)batch, sizeof(*cs));
	labels = calloc((size_t)batch * 2, sizeof(*labels));
	ids = calloc((size_t)batch, sizeof(*ids));
	roles = calloc((size_t)batch, sizeof(*roles));
	if (cs == NULL || labels == NULL || ids == NULL || roles == NULL)
		fatal(EXIT_TEMP, "unable to make the containers");
	for (i = 0; i < batch; i++) {
		/* rows of their own: each run's first snapshot makes one
		 * event per container, like every later one */
		snprintf(ids[i], sizeof(ids[i]), "fanout-%ld-%lld",
		         (long)getpid(), (long long)i);
		snprintf(roles[i], sizeof(roles[i]), "f%ld-%lld",
		         (long)getpid(), (long long)i);
		labels[2 * i] = (struct wire_kv){key_id, workload};
		labels[2 * i + 1] = (struct wire_kv){key_role, roles[i]};
		cs[i].id = ids[i];
		cs[i].image = "recon-fanout:latest";
		cs[i].labels = &labels[2 * i];
		cs[i].nlabels = 2;
	}
	/* a host of its own: no other run's rows are swept missing */
	snprintf(host, sizeof(host), "fanout-%ld", (long)getpid());
	/* rate 0: as many snapshots as 200k events/s would need; the store's
	 * ingest queue then paces the generator */
	total = (rate > 0 ? rate : 200000) * seconds / (int64_t)per;
	t0 = mono_ms();
	for (k = 0; k < total; k++) {
		for (i = 0; i < batch; i++)
			cs[i].state = (k + i) % 2 == 0 ? "running" : "exited";
		memset(&snap, 0, sizeof(snap));
		snap.host = host;
		snap.gen = (uint64_t)now_ms() * 1000 + (uint64_t)k;
		snap.taken_at = now_ms();
		snap.complete = true;
		snap.containers = cs;
		snap.ncontainers = (size_t)batch;
		wbuf_reset(&b);
		if (wire_encode_snapshot(&b, &snap) == -1 ||
		    nngx_send_timeout(s, b.data, b.len, 60000) == -1)
			fatalx(EXIT_TEMP, "unable to push a snapshot");
		events += per;
		atomic_store(&expected, events);
		if (rate == 0 && mono_ms() - t0 > seconds * 1000)
			break;
		while (rate > 0 &&
		       (mono_ms() - t0) * rate < (int64_t)events * 1000)
			nanosleep(&ts, NULL);
	}
	gen_ms = mono_ms() - t0;
	sleep(1); /* nng drops what is queued when the socket closes */
	nng_close(s);
	wbuf_free(&b);
	free(cs);
	free(labels);
	free(ids);
	free(roles);
	return events;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct subr *subs;
	struct recon_sub_stats tot;
	uint64_t events, committed, n = 0, lost = 0, dups = 0, live = 0,
	                            filled = 0;
	uint32_t *all;
	double rate_min = 0, rate_sum = 0, dur;
	int64_t i, j, maxcap;
	int rc;

	if (flags_parse("recon-fanout", "[options]", flagtab, argc, argv,
	                NULL) == -1)
		return EXIT_USAGE;
	log_init("recon-fanout", "text", 0);
	if (nsubs < 1 || rate < 0 || seconds < 1 || batch < 1)
		fatalx(EXIT_USAGE, "bad option values");
	if ((subs = calloc((size_t)nsubs, sizeof(*subs))) == NULL)
		fatal(EXIT_TEMP, "unable to allocate");
	maxcap = (rate > 0 ? rate : 200000) * seconds + batch + 1;
	for (i = 0; i < nsubs; i++) {
		subs[i].want = (uint64_t)maxcap;
		subs[i].delay_us = calloc((size_t)maxcap, sizeof(uint32_t));
		if (subs[i].delay_us == NULL ||
		    (subs[i].s = recon_sub_open(run_dir)) == NULL)
			fatal(EXIT_TEMP, "unable to open subscriber %lld",
			      (long long)i);
		if ((rc = recon_sub_start(subs[i].s, RECON_SUB_NOW)) != 0)
			fatalx(EXIT_TEMP, "unable to start subscriber: %s",
			       recon_sub_error(subs[i].s));
		subs[i].from = recon_sub_position(subs[i].s);
	}
	/* every subscriber starts at the same head: nothing else writes */
	for (i = 0; i < nsubs; i++)
		if (subs[i].from != subs[0].from)
			fatalx(EXIT_TEMP, "the store changed while starting");
	for (i = 0; i < nsubs; i++)
		pthread_create(&subs[i].thr, NULL, sub_main, &subs[i]);
	events = generate();
	/* what the store took: nng drops what a closing socket still held */
	committed = head_rev() - subs[0].from;
	if (committed != events)
		log_warnx("generated %llu events, the store committed %llu",
		          (unsigned long long)events,
		          (unsigned long long)committed);
	events = committed;
	atomic_store(&expected, events);
	atomic_store(&gen_done, 1);
	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < nsubs; i++) {
		pthread_join(subs[i].thr, NULL);
		n += subs[i].ndelay;
		/* each revision from+1 .. from+events exactly once */
		if (subs[i].got - subs[i].dups < events)
			lost += events - (subs[i].got - subs[i].dups);
		dups += subs[i].dups;
		live += subs[i].st.live;
		filled += subs[i].st.filled;
		tot.fills += subs[i].st.fills;
		dur = (double)(subs[i].last_us - subs[i].first_us) / 1e6;
		if (dur > 0) {
			double r = (double)subs[i].got / dur;
			rate_sum += r;
			if (i == 0 || r < rate_min)
				rate_min = r;
		}
	}
	if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL)
		fatal(EXIT_TEMP, "unable to allocate");
	for (i = 0, n = 0; i < nsubs; i++)
		for (j = 0; j < (int64_t)subs[i].ndelay; j++)
			all[n++] = subs[i].delay_us[j];
	qsort(all, n, sizeof(*all), cmp_u32);
	if (header)
		printf("%5s %9s %8s %10s %10s %8s %8s %8s %7s %6s %6s\n",
		       "subs", "gen ev/s", "events", "min ev/s", "mean ev/s",
		       "p50 ms", "p99 ms", "max ms", "filled%", "lost", "dups");
	printf("%5lld %9.0f %8llu %10.0f %10.0f %8.1f %8.1f %8.1f %7.1f %6llu "
	       "%6llu\n",
	       (long long)nsubs,
	       (double)events * 1000.0 / (double)(gen_ms > 0 ? gen_ms : 1),
	       (unsigned long long)events, rate_min, rate_sum / (double)nsubs,
	       n ? all[n / 2] / 1000.0 : 0, n ? all[n * 99 / 100] / 1000.0 : 0,
	       n ? all[n - 1] / 1000.0 : 0,
	       live + filled ? 100.0 * (double)filled / (double)(live + filled)
	                     : 0,
	       (unsigned long long)lost, (unsigned long long)dups);
	/* no recon_sub_close: once one nng close hangs (see sub.c) every
	 * later one waits it out, and the exit frees all the same */
	free(all);
	return lost == 0 && dups == 0 ? 0 : 1;
}
