/*
 * load_hosts.c: recon-load --hosts N, a lister-side generator acting as N
 * hosts at once (bench/many_hosts.sh; SPEC §10). Each host has a thread,
 * its own PUSH socket dialling the ingest URL and, towards a remote store
 * (any URL but a local one), its own certificate and key from --tls-dir
 * (NAME.pem, NAME.key, ca.pem): the TLS client of its socket, and the
 * host proof (common/hostproof.h) every snapshot is sealed with, as
 * recon-lister seals its own. Over ipc nothing is sealed, as with the
 * lister.
 *
 * Each host sends a complete snapshot of its containers once a period
 * (--interval, carried as interval_ms; or 1 / --rate), the hosts spread
 * evenly over the period; each pass flips --change % of its containers
 * between running and exited (a window moving along them), so that
 * events flow. Gens come from the clock (ms, rising by at least one per
 * pass), so the pass event's gen says when its snapshot was made.
 *
 * A snapshot the store does not take within a period is busy, not gone
 * (SPEC §2, NNGX_BUSY): it is counted and dropped, and the host's next
 * pass sends a fresh one, as recon-lister's next pass supersedes a
 * snapshot its store did not take. A host that falls more than a period
 * behind its schedule skips the passes it missed (counted as late).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostproof.h"
#include "load.h"
#include "log.h"
#include "nngx.h"
#include "util.h"
#include "wire.h"

struct lhost {
	const struct load_hosts_conf *c;
	char name[HOSTPROOF_NAME_MAX + 1];
	nng_socket s;
	struct nngx_tls tls;
	struct hostproof_signer *sg; /* NULL over ipc */
	struct wire_container *cs;
	struct wire_kv *labels;
	char (*ids)[HOSTPROOF_NAME_MAX + 16];
	char (*roles)[HOSTPROOF_NAME_MAX + 16];
	int64_t t0, offset_ms, period_ms;
	uint64_t sent, busy, late, bytes;
	pthread_t thr;
};

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Sleeps until the monotonic time due, or until told to stop. */
static void
sleep_until(int64_t due)
{
	struct timespec ts;
	int64_t left;

	while (!stopping && (left = due - mono_ms()) > 0) {
		/* a stop is seen within 100 ms; 100 hosts asleep cost
		 * little */
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000;
		nanosleep(&ts, NULL);
	}
}

/* Pass 0 starts every other container running; pass k > 0 flips the
 * k-th window of change_pct % of them (all of them at 100 %). */
static void
flip(struct lhost *h, int64_t pass)
{
	int64_t n = h->c->containers, m, j;

	if (pass == 0) {
		for (j = 0; j < n; j++)
			h->cs[j].state = j % 2 == 0 ? "running" : "exited";
		return;
	}
	m = n * h->c->change_pct / 100;
	if (m == 0 && h->c->change_pct > 0)
		m = 1;
	for (j = 0; j < m; j++) {
		struct wire_container *ct = &h->cs[((pass - 1) * m + j) % n];

		ct->state =
		    strcmp(ct->state, "running") == 0 ? "exited" : "running";
	}
}

static void *
host_main(void *arg)
{
	struct lhost *h = arg;
	const struct load_hosts_conf *c = h->c;
	struct wbuf b = {0}, sealed = {0};
	const struct wbuf *out;
	struct wire_snapshot snap;
	int64_t k = 0, pass = 0, due, now, behind, ms;
	uint64_t gen, last = 0;

	for (;;) {
		due = h->t0 + h->offset_ms + k * h->period_ms;
		sleep_until(due);
		now = mono_ms();
		if (stopping ||
		    (c->duration_ms > 0 ? now - h->t0 >= c->duration_ms
		                        : pass >= c->snapshots))
			break;
		/* more than a period late: the missed passes are skipped */
		if ((behind = (now - due) / h->period_ms) > 0) {
			h->late += (uint64_t)behind;
			k += behind;
		}
		k++;
		flip(h, pass);
		ms = now_ms();
		gen = c->gen0 > 0           ? (uint64_t)(c->gen0 + pass)
		      : (uint64_t)ms > last ? (uint64_t)ms
		                            : last + 1;
		last = gen;
		memset(&snap, 0, sizeof(snap));
		snap.host = h->name;
		snap.gen = gen;
		snap.taken_at = ms;
		snap.complete = true;
		snap.interval_ms = (uint64_t)c->interval_ms;
		snap.containers = h->cs;
		snap.ncontainers = (size_t)c->containers;
		wbuf_reset(&b);
		if (wire_encode_snapshot(&b, &snap) == -1)
			fatalx(EXIT_TEMP, "unable to encode a snapshot of %s",
			       h->name);
		out = &b;
		/* a remote store applies a host's message only with its
		 * proof: the lister's seal, with this host's certificate */
		if (h->sg != NULL) {
			wbuf_reset(&sealed);
			if (hostproof_seal(h->sg, b.data, b.len, &sealed) == -1)
				fatalx(EXIT_TEMP,
				       "unable to seal a snapshot of %s",
				       h->name);
			out = &sealed;
		}
		switch (nngx_send_timeout(h->s, out->data, out->len,
		                          h->period_ms)) {
		case NNGX_SENT:
			h->sent++;
			h->bytes += out->len;
			break;
		case NNGX_BUSY:
			/* not taken within a period: the next pass's
			 * snapshot supersedes it */
			h->busy++;
			break;
		default:
			if (stopping)
				break;
			fatalx(EXIT_TEMP, "unable to push a snapshot of %s",
			       h->name);
		}
		pass++;
	}
	wbuf_free(&b);
	wbuf_free(&sealed);
	return NULL;
}

/* The host's containers: Docker ids and roles of its own, so that rows of
 * different hosts never meet in one workload. */
static void
host_make(struct lhost *h, const struct load_hosts_conf *c)
{
	size_t n = (size_t)c->containers;
	int64_t i;

	h->cs = xcalloc(n ? n : 1, sizeof(*h->cs));
	h->labels = xcalloc(n ? 2 * n : 1, sizeof(*h->labels));
	h->ids = xcalloc(n ? n : 1, sizeof(*h->ids));
	h->roles = xcalloc(n ? n : 1, sizeof(*h->roles));
	for (i = 0; i < c->containers; i++) {
		if (xsnprintf(h->ids[i], sizeof(h->ids[i]), "%s-%06lld",
		              h->name, (long long)i) == -1 ||
		    xsnprintf(h->roles[i], sizeof(h->roles[i]), "%s-r%lld",
		              h->name, (long long)i) == -1)
			fatalx(EXIT_USAGE, "host name %s too long for its ids",
			       h->name);
		h->labels[2 * i] =
		    (struct wire_kv){(char *)c->key_id, c->wids[i % c->nw]};
		h->labels[2 * i + 1] =
		    (struct wire_kv){(char *)c->key_role, h->roles[i]};
		h->cs[i].id = h->ids[i];
		h->cs[i].image = "recon-load:latest";
		h->cs[i].created = 1700000000 + i;
		h->cs[i].labels = &h->labels[2 * i];
		h->cs[i].nlabels = 2;
	}
}

/* The host's socket: over a remote URL with its certificate (TLS and
 * seal), over a local one bare. Exits on a bad file. */
static void
host_dial(struct lhost *h, const struct load_hosts_conf *c)
{
	char cert[4200], key[4200], ca[4200], err[HOSTPROOF_ERR_LEN];
	const struct nngx_tls *t = NULL;

	if (nngx_scheme(c->url) != NNGX_LOCAL) {
		if (str_empty(c->tls_dir))
			fatalx(EXIT_USAGE,
			       "bad --ingest-url %s: a remote store takes only "
			       "messages sealed with the host's certificate: "
			       "give --tls-dir",
			       c->url);
		snprintf(cert, sizeof(cert), "%s/%s.pem", c->tls_dir, h->name);
		snprintf(key, sizeof(key), "%s/%s.key", c->tls_dir, h->name);
		snprintf(ca, sizeof(ca), "%s/ca.pem", c->tls_dir);
		if (nngx_tls_load(&h->tls, cert, key, ca, err, sizeof(err)) ==
		        -1 ||
		    nngx_url_check(c->url, &h->tls, false, err, sizeof(err)) ==
		        -1)
			fatalx(EXIT_USAGE, "host %s: %s", h->name, err);
		if ((h->sg = hostproof_signer_open(cert, key, err)) == NULL)
			fatalx(EXIT_USAGE,
			       "host %s: bad certificate or key: %s", h->name,
			       err);
		t = &h->tls;
	}
	if (nngx_dial_tls(&h->s, NNGX_PUSH, c->url, 64u << 20, t) == -1)
		exit(EXIT_TEMP);
}

int
load_hosts(const struct load_hosts_conf *c)
{
	struct sigaction sa;
	struct lhost *hs;
	uint64_t sent = 0, busy = 0, late = 0, bytes = 0;
	int64_t i, t0, period;

	if (c->hosts < 1 || c->containers < 1 || c->change_pct < 0 ||
	    c->change_pct > 100 || c->duration_ms < 0)
		fatalx(EXIT_USAGE, "bad --hosts, --containers, --change or "
		                   "--duration");
	period = c->rate > 0 ? 1000 / c->rate : c->interval_ms;
	if (period < 1)
		fatalx(EXIT_USAGE, "--hosts takes --interval or --rate: a "
		                   "snapshot per host every period");
	if (strlen(c->prefix) + 20 > HOSTPROOF_NAME_MAX)
		fatalx(EXIT_USAGE, "bad --host: too long a prefix");
	if (!str_empty(c->tls_dir) && nngx_scheme(c->url) == NNGX_LOCAL)
		log_warnx("--tls-dir unused: %s is local, nothing is sealed",
		          c->url);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	hs = xcalloc((size_t)c->hosts, sizeof(*hs));
	for (i = 0; i < c->hosts; i++) {
		hs[i].c = c;
		snprintf(hs[i].name, sizeof(hs[i].name), "%s%lld", c->prefix,
		         (long long)i + 1);
		hs[i].period_ms = period;
		hs[i].offset_ms = period * i / c->hosts;
		host_make(&hs[i], c);
		host_dial(&hs[i], c);
	}
	log_info("%lld hosts (%s1..%s%lld) x %lld containers to %s, %s, a "
	         "snapshot each every %lld ms, %lld%% changing per pass",
	         (long long)c->hosts, c->prefix, c->prefix, (long long)c->hosts,
	         (long long)c->containers, c->url,
	         hs[0].sg != NULL ? "sealed" : "bare", (long long)period,
	         (long long)c->change_pct);
	t0 = mono_ms();
	for (i = 0; i < c->hosts; i++) {
		hs[i].t0 = t0;
		if (pthread_create(&hs[i].thr, NULL, host_main, &hs[i]) != 0)
			fatalx(EXIT_TEMP, "unable to start host %s",
			       hs[i].name);
	}
	for (i = 0; i < c->hosts; i++) {
		pthread_join(hs[i].thr, NULL);
		sent += hs[i].sent;
		busy += hs[i].busy;
		late += hs[i].late;
		bytes += hs[i].bytes;
	}
	/* nng drops what is still queued when the socket closes */
	sleep(1);
	for (i = 0; i < c->hosts; i++) {
		nng_close(hs[i].s);
		hostproof_signer_close(hs[i].sg);
		nngx_tls_free(&hs[i].tls);
		free(hs[i].cs);
		free(hs[i].labels);
		free(hs[i].ids);
		free(hs[i].roles);
	}
	free(hs);
	log_info("%llu snapshots sent in %lld ms, %llu busy (not taken within "
	         "a period: superseded), %llu passes skipped late",
	         (unsigned long long)sent, (long long)(mono_ms() - t0),
	         (unsigned long long)busy, (unsigned long long)late);
	printf("hosts=%lld sent=%llu busy=%llu late=%llu bytes=%llu\n",
	       (long long)c->hosts, (unsigned long long)sent,
	       (unsigned long long)busy, (unsigned long long)late,
	       (unsigned long long)bytes);
	fflush(stdout);
	return 0;
}
