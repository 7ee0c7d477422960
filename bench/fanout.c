/*
 * fanout.c: recon-fanout, the pub/sub benchmark: N subscribers (threads,
 * each its own recon-client.h client) follow everything while a generator
 * pushes snapshots on ingest at a set rate; prints one table row: the
 * delivery rate per subscriber, the delay from an event's commit to its
 * receipt (p50/p99/max), and any loss or duplicate after gap fill.
 * Needs a running recon-store whose workloads include --workloads.
 * --raw is the baseline that bounds it: the same N subscribers and the
 * same bursts, but bare nng SUB sockets on a PUB socket of this process
 * (no store, no decoding, no gap fill). Both print the CPU each part
 * used, in cores (CPU seconds per second of the run).
 */
#include <poll.h>
#include <spawn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "bench.h"
#include "clnt.h"
#include "store_clnt.h"
#include "flags.h"
#include "log.h"
#include "nngx.h"

#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include "recon-client.h"
#include "util.h"
#include "wire.h"

static char *run_dir, *prefix, *workload;
static int64_t nsubs, rate, seconds, batch, header, store_pid, msgsize;
static bool raw;
static char *raw_url;

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
    {"store-pid", 0, NULL, FLAG_INT, &store_pid, "0",
     "the store's pid: its CPU is reported too"},
    {"raw", 0, NULL, FLAG_BOOL, &raw, NULL,
     "baseline: bare nng PUB to SUB in this process, no store"},
    {"raw-serve", 0, NULL, FLAG_STR, &raw_url, NULL,
     "(internal) --raw's publisher on this URL"},
    {"size", 0, NULL, FLAG_INT, &msgsize, "360",
     "raw: bytes per message (a container event's topic and body)"},
    FLAG_END,
};

/* One subscriber's view of the run. */
struct subr {
	pthread_t thr;
	struct recon_sub *s;
	nng_socket raw;      /* --raw */
	uint64_t from, want; /* revisions from+1 .. from+want */
	uint64_t got, dups, ndelay;
	uint64_t skipped; /* --raw: sequence numbers never received */
	int64_t first_us, last_us;
	uint32_t *delay_us; /* per event, from its commit stamp */
	struct recon_sub_stats st;
	int64_t cpu_us; /* the thread's */
	uint64_t pos;   /* recon_sub_position at the end */
	int rc;
};

static atomic_int gen_done;
static int64_t gen_ms; /* how long generating took */
static atomic_ullong expected;
static int64_t gen_cpu_us;
static nng_socket raw_pub;
static atomic_int raw_pipes;

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
		now = bench_wall_us();
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
	r->pos = recon_sub_position(r->s);
	r->cpu_us = bench_thread_cpu_us();
	return NULL;
}

/* A bare SUB socket's loop: wait on its fd, take all there is. Each
 * message carries its sequence number and send time (us). */
static void *
raw_sub_main(void *arg)
{
	struct subr *r = arg;
	struct pollfd pfd;
	uint64_t next = 0, seq, want;
	int64_t now, stamp, idle_since = 0;
	const char *body, *nul;
	nng_msg *m;
	int rv;

	nng_socket_get_int(r->raw, NNG_OPT_RECVFD, &pfd.fd);
	pfd.events = POLLIN;
	for (;;) {
		want = atomic_load(&expected);
		if (atomic_load(&gen_done) && r->got + r->skipped >= want)
			break;
		rv = nng_recvmsg(r->raw, &m, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN) {
			if (poll(&pfd, 1, 200) == 0 && atomic_load(&gen_done)) {
				now = bench_wall_us();
				if (idle_since == 0)
					idle_since = now;
				if (now - idle_since > 2000000)
					break;
			}
			continue;
		}
		if (rv != 0)
			fatalx(EXIT_TEMP, "unable to receive: %s",
			       nng_strerror(rv));
		idle_since = 0;
		now = bench_wall_us();
		body = nng_msg_body(m);
		nul = memchr(body, '\0', nng_msg_len(m));
		if (nul == NULL ||
		    (size_t)(nul + 1 - body) + 16 > nng_msg_len(m))
			fatalx(EXIT_TEMP, "a malformed raw message");
		memcpy(&seq, nul + 1, 8);
		memcpy(&stamp, nul + 9, 8);
		nng_msg_free(m);
		/* counted as lost once seen to be skipped */
		if (seq < next)
			r->dups++;
		else {
			r->skipped += seq - next;
			next = seq + 1;
		}
		if (r->got == 0)
			r->first_us = now;
		r->last_us = now;
		if (r->ndelay < r->want)
			r->delay_us[r->ndelay++] =
			    now > stamp ? (uint32_t)(now - stamp) : 0;
		r->got++;
	}
	r->cpu_us = bench_thread_cpu_us();
	return NULL;
}

static void
raw_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)arg;
	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&raw_pipes, 1);
}

static uint64_t raw_generate(void);

/*
 * --raw: a child process (this program with --raw-serve, as the store is
 * a process of its own) listens with a PUB socket, waits for the
 * subscribers and publishes; here one SUB socket per subscriber dials it.
 */
static pid_t
raw_open(struct subr *subs, char *dir, int *out)
{
	char url[1100], nb[32], rb[32], sb[32], bb[32], zb[32];
	char *argv[] = {"recon-fanout",
	                "--raw-serve",
	                url,
	                "-n",
	                nb,
	                "-r",
	                rb,
	                "-s",
	                sb,
	                "-b",
	                bb,
	                "--size",
	                zb,
	                NULL};
	extern char **environ;
	posix_spawn_file_actions_t fa;
	int64_t i;
	pid_t pid;
	int p[2];

	if (mkdtemp(dir) == NULL || pipe(p) == -1)
		fatal(EXIT_TEMP, "unable to make a directory");
	snprintf(url, sizeof(url), "ipc://%s/events", dir);
	snprintf(nb, sizeof(nb), "%lld", (long long)nsubs);
	snprintf(rb, sizeof(rb), "%lld", (long long)rate);
	snprintf(sb, sizeof(sb), "%lld", (long long)seconds);
	snprintf(bb, sizeof(bb), "%lld", (long long)batch);
	snprintf(zb, sizeof(zb), "%lld", (long long)msgsize);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ) != 0)
		fatal(EXIT_TEMP, "unable to start the publisher");
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	*out = p[0];
	for (i = 0; i < nsubs; i++)
		if (nng_sub0_open(&subs[i].raw) != 0 ||
		    nng_socket_set_int(subs[i].raw, NNG_OPT_RECVBUF, 8192) !=
		        0 ||
		    nng_socket_set(subs[i].raw, NNG_OPT_SUB_SUBSCRIBE, "", 0) !=
		        0 ||
		    nng_socket_set_ms(subs[i].raw, NNG_OPT_RECONNMINT, 10) !=
		        0 ||
		    nng_dial(subs[i].raw, url, NULL, NNG_FLAG_NONBLOCK) != 0)
			fatalx(EXIT_TEMP, "unable to dial %s", url);
	return pid;
}

/* The publisher's end of --raw: how many it sent, how long it took, and
 * its own CPU, on one line of stdout. */
static int
raw_serve(const char *url)
{
	struct rusage ru;
	uint64_t events;
	int64_t t0 = mono_ms();

	if (nng_pub0_open(&raw_pub) != 0 ||
	    nng_socket_set_int(raw_pub, NNG_OPT_SENDBUF, 8192) != 0 ||
	    nng_pipe_notify(raw_pub, NNG_PIPE_EV_ADD_POST, raw_pipe_cb, NULL) !=
	        0 ||
	    nng_listen(raw_pub, url, NULL, 0) != 0)
		fatalx(EXIT_TEMP, "unable to listen on %s", url);
	while (atomic_load(&raw_pipes) < nsubs) {
		if (mono_ms() - t0 > 10000)
			fatalx(EXIT_TEMP, "subscribers did not connect");
		usleep(1000);
	}
	events = raw_generate();
	sleep(1); /* nng drops what is queued when the socket closes */
	getrusage(RUSAGE_SELF, &ru);
	printf("%llu %lld %lld %lld\n", (unsigned long long)events,
	       (long long)gen_ms, (long long)gen_cpu_us,
	       (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return 0;
}

/* Bursts of batch + 1 messages at the rate, as the store publishes a
 * snapshot's events; returns how many. */
static uint64_t
raw_generate(void)
{
	struct timespec ts = {0, 200000};
	uint64_t seq = 0, per = (uint64_t)batch + 1;
	int64_t k, t0, total, stamp;
	char topic[64];
	nng_msg *m;
	size_t tl, len;

	total = (rate > 0 ? rate : 200000) * seconds / (int64_t)per;
	t0 = mono_ms();
	for (k = 0; k < total; k++) {
		for (uint64_t i = 0; i < per; i++, seq++) {
			tl = (size_t)snprintf(topic, sizeof(topic),
			                      "container/bench/bench:f%llu",
			                      (unsigned long long)i) +
			     1;
			len = (size_t)msgsize > tl + 16 ? (size_t)msgsize
			                                : tl + 16;
			if (nng_msg_alloc(&m, len) != 0)
				fatalx(EXIT_TEMP, "unable to allocate");
			memset(nng_msg_body(m), 'x', len);
			memcpy(nng_msg_body(m), topic, tl);
			stamp = bench_wall_us();
			memcpy((char *)nng_msg_body(m) + tl, &seq, 8);
			memcpy((char *)nng_msg_body(m) + tl + 8, &stamp, 8);
			if (nng_sendmsg(raw_pub, m, 0) != 0)
				fatalx(EXIT_TEMP, "unable to publish");
		}
		atomic_store(&expected, seq);
		if (rate == 0 && mono_ms() - t0 > seconds * 1000)
			break;
		while (rate > 0 &&
		       (mono_ms() - t0) * rate < (int64_t)seq * 1000)
			nanosleep(&ts, NULL);
	}
	gen_ms = mono_ms() - t0;
	gen_cpu_us = bench_thread_cpu_us();
	return seq;
}

/* The store's head revision, from its stats. */
static uint64_t
head_rev(void)
{
	struct clnt_result r = {0};
	struct wire_stats_reply st;
	struct clnt *c;
	char url[1024];
	uint64_t head;

	if (nngx_url(url, sizeof(url), NULL, run_dir, "store.ctl") == -1)
		fatalx(EXIT_TEMP, "unable to read the store's head: no client");
	c = clnt_new(url, 5000);
	if (store_clnt_stats(c, &r, &st) != CLNT_OK)
		fatalx(EXIT_TEMP, "unable to read the store's head: %s", r.err);
	head = st.rev;
	clnt_result_free(&r);
	clnt_free(c);
	return head;
}

/* Pushes snapshots of batch containers at the rate; returns the number of
 * events they make. */
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
		    nngx_send_timeout(s, b.data, b.len, 60000) != NNGX_SENT)
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
	gen_cpu_us = bench_thread_cpu_us();
	sleep(1); /* nng drops what is queued when the socket closes */
	nng_close(s);
	wbuf_free(&b);
	free(cs);
	free(labels);
	free(ids);
	free(roles);
	return events;
}

int
main(int argc, char **argv)
{
	struct subr *subs;
	uint64_t events, committed, n = 0, lost = 0, dups = 0, live = 0,
	                            filled = 0;
	uint32_t *all;
	double rate_min = 0, rate_sum = 0, dur, wall;
	int64_t i, j, maxcap, sub_cpu = 0, cpu0, gen0, store0, store1 = -1, t0,
	                      last = 0;
	char rawdir[] = "/tmp/recon-fanout-raw.XXXXXX";
	int rc, rawfd = -1;
	pid_t rawpid = 0;
	FILE *f;

	if (flags_parse("recon-fanout", "[options]", flagtab, argc, argv,
	                NULL) == -1)
		return EXIT_USAGE;
	log_init("recon-fanout", "text", 0);
	if (nsubs < 1 || rate < 0 || seconds < 1 || batch < 1 || msgsize < 1)
		fatalx(EXIT_USAGE, "bad option values");
	if (raw_url != NULL)
		return raw_serve(raw_url);
	if ((subs = calloc((size_t)nsubs, sizeof(*subs))) == NULL)
		fatal(EXIT_TEMP, "unable to allocate");
	maxcap = (rate > 0 ? rate : 200000) * seconds + batch + 1;
	for (i = 0; i < nsubs; i++) {
		subs[i].want = (uint64_t)maxcap;
		if ((subs[i].delay_us =
		         calloc((size_t)maxcap, sizeof(uint32_t))) == NULL)
			fatal(EXIT_TEMP, "unable to allocate");
	}
	if (raw)
		rawpid = raw_open(subs, rawdir, &rawfd);
	for (i = 0; i < nsubs && !raw; i++) {
		if ((subs[i].s = recon_sub_open(run_dir)) == NULL)
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
	cpu0 = bench_proc_cpu_us();
	store0 = bench_pid_cpu_us(store_pid);
	t0 = bench_wall_us();
	for (i = 0; i < nsubs; i++)
		pthread_create(&subs[i].thr, NULL,
		               raw ? raw_sub_main : sub_main, &subs[i]);
	gen0 = bench_thread_cpu_us();
	if (raw) {
		struct rusage ru;
		long long ev, gm, gc, pc;
		int st;

		f = fdopen(rawfd, "r");
		if (f == NULL ||
		    fscanf(f, "%lld %lld %lld %lld", &ev, &gm, &gc, &pc) != 4)
			fatalx(EXIT_TEMP, "the publisher failed");
		fclose(f);
		if (wait4(rawpid, &st, 0, &ru) == -1)
			fatal(EXIT_TEMP, "unable to wait for the publisher");
		events = (uint64_t)ev;
		gen_ms = gm;
		/* the publisher's own CPU in the store's column, its
		 * generating in gen's */
		gen_cpu_us = gc;
		store0 = 0;
		store1 = pc - gc;
	} else {
		events = generate();
		gen_cpu_us -= gen0;
	}
	/* what the store took: nng drops what a closing socket still held */
	committed = raw ? events : head_rev() - subs[0].from;
	if (committed != events)
		log_warnx("generated %llu events, the store committed %llu",
		          (unsigned long long)events,
		          (unsigned long long)committed);
	events = committed;
	atomic_store(&expected, events);
	atomic_store(&gen_done, 1);
	for (i = 0; i < nsubs; i++) {
		pthread_join(subs[i].thr, NULL);
		sub_cpu += subs[i].cpu_us;
		n += subs[i].ndelay;
		/* each revision from+1 .. from+events exactly once */
		if (subs[i].got - subs[i].dups < events) {
			lost += events - (subs[i].got - subs[i].dups);
			if (!raw)
				log_warnx(
				    "subscriber %lld: %llu of %llu events (rc %d, "
				    "position %llu, %s)",
				    (long long)i,
				    (unsigned long long)subs[i].got,
				    (unsigned long long)events, subs[i].rc,
				    (unsigned long long)subs[i].pos,
				    subs[i].rc != 0 ? recon_sub_error(subs[i].s)
				                    : "timed out");
		}
		dups += subs[i].dups;
		if (subs[i].last_us > last)
			last = subs[i].last_us;
		live += subs[i].st.live;
		filled += subs[i].st.filled;
		dur = (double)(subs[i].last_us - subs[i].first_us) / 1e6;
		if (dur > 0) {
			double r = (double)subs[i].got / dur;
			rate_sum += r;
			if (i == 0 || r < rate_min)
				rate_min = r;
		}
	}
	/* CPU per second from the start to the last receipt */
	if (!raw)
		store1 = bench_pid_cpu_us(store_pid);
	wall = (double)(last > t0 ? last - t0 : 1);
	if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL)
		fatal(EXIT_TEMP, "unable to allocate");
	for (i = 0, n = 0; i < nsubs; i++)
		for (j = 0; j < (int64_t)subs[i].ndelay; j++)
			all[n++] = subs[i].delay_us[j];
	qsort(all, n, sizeof(*all), bench_cmp_u32);
	if (header)
		printf("%-5s %5s %9s %8s %10s %10s %8s %8s %8s %7s %6s %6s  "
		       "%s\n",
		       "what", "subs", "gen ev/s", "events", "min ev/s",
		       "mean ev/s", "p50 ms", "p99 ms", "max ms", "filled%",
		       "lost", "dups", "cores: store subs nng gen (wall s)");
	printf("%-5s %5lld %9.0f %8llu %10.0f %10.0f %8.1f %8.1f %8.1f %7.1f "
	       "%6llu %6llu  ",
	       raw ? "raw" : "recon", (long long)nsubs,
	       (double)events * 1000.0 / (double)(gen_ms > 0 ? gen_ms : 1),
	       (unsigned long long)events, rate_min, rate_sum / (double)nsubs,
	       bench_pct(all, n, 50) / 1000.0, bench_pct(all, n, 99) / 1000.0,
	       n ? all[n - 1] / 1000.0 : 0,
	       live + filled ? 100.0 * (double)filled / (double)(live + filled)
	                     : 0,
	       (unsigned long long)lost, (unsigned long long)dups);
	if (store0 >= 0 && store1 >= 0)
		printf("%.2f ", (double)(store1 - store0) / wall);
	else
		printf("- ");
	printf("%.2f %.2f %.2f (%.1f)\n", (double)sub_cpu / wall,
	       (double)(bench_proc_cpu_us() - cpu0 - sub_cpu -
	                (raw ? 0 : gen_cpu_us)) /
	           wall,
	       (double)gen_cpu_us / wall, wall / 1e6);
	/* no recon_sub_close: once one nng close hangs (see sub.c) every
	 * later one waits it out, and the exit frees all the same */
	free(all);
	if (raw) {
		char path[sizeof(rawdir) + 16];
		snprintf(path, sizeof(path), "%s/events", rawdir);
		unlink(path);
		rmdir(rawdir);
	}
	return lost == 0 && dups == 0 ? 0 : 1;
}
