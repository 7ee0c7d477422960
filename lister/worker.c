/*
 * worker.c: the Docker thread of the lister: full passes (R8, R12),
 * re-reads after events (deltas), the idle heartbeat, retries with a
 * jittered backoff, and the status the main thread reports in health.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_timedjoin_np */
#endif

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "hints.h"
#include "known.h"
#include "log.h"
#include "parse.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

#define BACKOFF_MIN_MS  1000  /* first retry after a failed call or send */
#define BACKOFF_MAX_MS  30000 /* and the longest wait, if the interval is */
#define REREAD_MAX      64    /* containers in one re-read; more: a pass */
#define MISSED_GRACE_MS 1000  /* an event may trail the change it reports */
#define SUSPECTS_MAX    4096

/*
 * Why one thread does all of it: the store applies messages in the order
 * they arrive on the one PUSH socket, so a delta must never carry an
 * older reading of a container than a snapshot sent before it, nor a
 * snapshot one older than a delta sent before it. With every list call
 * and every send on this thread, in program order, arrival order is read
 * order. A delta carries the gen of the latest snapshot (or the start
 * seed), which the store's stale check (gen below the last applied
 * snapshot's, same pipe) never drops.
 */
enum job { JOB_NONE, JOB_APPLY, JOB_PASS, JOB_REREAD, JOB_HEARTBEAT };

/* A change some list found that no event announced yet. */
struct suspect {
	char id[WIRE_ID_MAX + 1];
	int64_t deadline; /* mono_ms: no event by then, it was missed */
};

struct worker {
	struct worker_conf conf;
	struct docker *dk;
	struct known *known; /* the worker thread's own */
	pthread_t thread;
	bool started;
	int wakefd;              /* eventfd: a pass finished */
	uint64_t gen;            /* of the latest snapshot; deltas carry it */
	int64_t backoff_ms;      /* after failed Docker calls */
	int64_t send_backoff_ms; /* after failed sends */
	bool failing;            /* the latest call failed: next is a pass */
	bool send_failed;        /* the latest send failed */
	int64_t pass_due;        /* mono_ms of the next full pass */
	struct hint *batch;      /* HINTS_MAX, taken out of hints */
	unsigned int rng;        /* jitter */

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	bool stop, resync, relist;
	struct hints hints;
	struct suspect *sus; /* SUSPECTS_MAX */
	size_t nsus;
	bool stream_up; /* Docker's event stream is open (worker_stream) */
	struct worker_status st;
};

struct worker *
worker_new(const struct worker_conf *conf)
{
	struct worker *w;
	pthread_condattr_t ca;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("unable to create worker");
		return NULL;
	}
	w->conf = *conf;
	w->wakefd = -1;
	if ((w->batch = calloc(HINTS_MAX, sizeof(*w->batch))) == NULL ||
	    (w->sus = calloc(SUSPECTS_MAX, sizeof(*w->sus))) == NULL ||
	    (w->known = known_new(conf->prefix)) == NULL) {
		log_warn("unable to create worker");
		goto fail;
	}
	if ((w->dk = docker_new(conf->docker_host, conf->timeout_ms,
	                        conf->max_body)) == NULL)
		goto fail;
	if ((w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("unable to create worker eventfd");
		goto fail;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Seeded from the clock so gens keep rising across restarts. */
	w->gen = (uint64_t)now_ms();
	w->rng = (unsigned int)(getpid() ^ now_ms());
	return w;
fail:
	docker_free(w->dk);
	known_free(w->known);
	free(w->sus);
	free(w->batch);
	free(w);
	return NULL;
}

int
worker_wake_fd(const struct worker *w)
{
	return w->wakefd;
}

void
worker_drain(struct worker *w)
{
	uint64_t n;

	while (read(w->wakefd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		continue;
}

void
worker_resync(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->resync = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
worker_relist(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->relist = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
worker_stream(struct worker *w, bool up)
{
	int64_t due = mono_ms() + MISSED_GRACE_MS;
	size_t i;

	pthread_mutex_lock(&w->mu);
	w->stream_up = up;
	/* the replay of the new stream may announce what a list found
	 * meanwhile: each suspect gets its grace from now */
	for (i = 0; up && i < w->nsus; i++)
		if (w->sus[i].deadline < due)
			w->sus[i].deadline = due;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Under the lock: an event for id clears it of having been missed. */
static void
suspect_clear(struct worker *w, const char *id)
{
	size_t i;

	for (i = 0; i < w->nsus; i++)
		if (strcmp(w->sus[i].id, id) == 0) {
			w->sus[i] = w->sus[--w->nsus];
			return;
		}
}

/*
 * A list found id changed and no event had said so yet. Docker emits the
 * event at the change, but it may still be on its way: only if none comes
 * within MISSED_GRACE_MS does it count as missed.
 */
static void
suspect_add(struct worker *w, const char *id)
{
	size_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->nsus; i++)
		if (strcmp(w->sus[i].id, id) == 0)
			break;
	if (i < w->nsus) {
		/* already waiting */
	} else if (w->nsus == SUSPECTS_MAX) {
		w->st.missed_events++;
	} else {
		snprintf(w->sus[w->nsus].id, sizeof(w->sus[0].id), "%s", id);
		w->sus[w->nsus++].deadline = mono_ms() + MISSED_GRACE_MS;
	}
	pthread_mutex_unlock(&w->mu);
}

/* Under the lock: counts the suspects whose grace is over; returns the
 * next deadline (INT64_MAX: none). */
static int64_t
suspects_expire(struct worker *w, int64_t now)
{
	int64_t next = INT64_MAX;
	uint64_t missed = 0;
	size_t i = 0;

	/* no stream, no event could have said so yet (worker_stream) */
	if (!w->stream_up)
		return next;
	while (i < w->nsus) {
		if (w->sus[i].deadline <= now) {
			log_debug("container %.12s changed and no event said "
			          "so",
			          w->sus[i].id);
			missed++;
			w->sus[i] = w->sus[--w->nsus];
			continue;
		}
		if (w->sus[i].deadline < next)
			next = w->sus[i].deadline;
		i++;
	}
	if (missed > 0) {
		w->st.missed_events += missed;
		log_info("%llu changes found by listing were announced by no "
		         "event",
		         (unsigned long long)missed);
	}
	return next;
}

void
worker_hint(struct worker *w, const char *id, const char *wid, bool gone,
            int expect, int sets)
{
	pthread_mutex_lock(&w->mu);
	w->st.hints++;
	suspect_clear(w, id);
	if (hints_add(&w->hints, id, wid, gone, expect, sets,
	              mono_ms() + WORKER_COALESCE_MS) == -1) {
		/* A pass reads everything the hints would have. */
		w->st.hint_overflows++;
		w->resync = true;
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
worker_status(struct worker *w, struct worker_status *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
}

static bool
stopping(struct worker *w)
{
	bool s;

	pthread_mutex_lock(&w->mu);
	s = w->stop;
	pthread_mutex_unlock(&w->mu);
	return s;
}

static void
wake_main(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("unable to wake the main loop");
}

/* The next wait of a doubling backoff from BACKOFF_MIN_MS, capped at the
 * interval and BACKOFF_MAX_MS, at 75% to 100% so that many listers do
 * not retry as one. */
static int64_t
backoff_next(struct worker *w, int64_t *b)
{
	int64_t cap = w->conf.interval_ms < BACKOFF_MAX_MS ? w->conf.interval_ms
	                                                   : BACKOFF_MAX_MS,
	        d;

	*b = *b ? *b * 2 : BACKOFF_MIN_MS;
	if (*b > cap)
		*b = cap;
	d = *b - (int64_t)(rand_r(&w->rng) % (*b / 4 + 1));
	return d > 0 ? d : 1;
}

/* Any list call succeeded: Docker answers. */
static void
list_ok(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->st.last_ok = true;
	w->st.last_ok_mono = mono_ms();
	w->st.last_error[0] = '\0';
	snprintf(w->st.api, sizeof(w->st.api), "%s", docker_version(w->dk));
	pthread_mutex_unlock(&w->mu);
}

/* Any list call failed: the next is a full pass, after the backoff. */
static void
list_failed(struct worker *w, const char *what, const char *why)
{
	if (stopping(w))
		return;
	log_warnx("unable to %s: %s", what, why);
	pthread_mutex_lock(&w->mu);
	w->st.last_ok = false;
	snprintf(w->st.last_error, sizeof(w->st.last_error), "%s", why);
	snprintf(w->st.api, sizeof(w->st.api), "%s", docker_version(w->dk));
	pthread_mutex_unlock(&w->mu);
	w->failing = true;
	w->pass_due = mono_ms() + backoff_next(w, &w->backoff_ms);
}

/* Pushes one encoded message; a store that is down costs at most the send
 * timeout, and the next pass, moved up, sends a fresh snapshot. */
static int
push(struct worker *w, const struct wbuf *b, const char *what, uint64_t gen)
{
	int64_t due;
	int rc;

	rc = nngx_send_timeout(w->conf.push, b->data, b->len,
	                       w->conf.timeout_ms) == NNGX_SENT
	         ? 0
	         : -1;
	if (rc == -1 && !stopping(w))
		log_warnx("unable to send %s %llu: ingest did not take it "
		          "within %lld ms",
		          what, (unsigned long long)gen,
		          (long long)w->conf.timeout_ms);
	w->send_failed = rc == -1;
	if (rc == 0) {
		w->send_backoff_ms = 0;
	} else {
		due = mono_ms() + backoff_next(w, &w->send_backoff_ms);
		if (due < w->pass_due)
			w->pass_due = due;
	}
	pthread_mutex_lock(&w->mu);
	if (rc == -1)
		w->st.send_failures++;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int
str_pcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
ctr_pcmp(const void *a, const void *b)
{
	return strcmp((*(const struct wire_container *const *)a)->id,
	              (*(const struct wire_container *const *)b)->id);
}

/*
 * Docker logs die, stop, pause and unpause before the lists it answers
 * show them (dockerd 20.10 writes the exit to the view lists read after
 * the die event and the container's cleanup: 10-100 ms here), so a list
 * may predate an event that came before it. h is a hint of the batch
 * (mine) or one still waiting; when the list shows its container in a
 * state that cannot follow its event (or, its destroy applied, at all):
 * mine goes back for another read a little later, unless a newer event
 * came, and after WORKER_RETRIES the list has the last word; and where
 * the index already holds the event's state (applied), the listed record
 * is replaced by the known one, or dropped for a destroy, so that a stale
 * read never flips the row back.
 */
static void
hold_one(struct worker *w, struct arena *a, const struct hint *h, bool mine,
         struct wire_container **idx, struct wire_container *cs, size_t ncs,
         bool *drop)
{
	struct wire_container key, *kp = &key, **hit, rec;
	int64_t due;
	size_t k;

	key.id = (char *)h->id;
	if ((hit = bsearch(&kp, idx, ncs, sizeof(*idx), ctr_pcmp)) == NULL)
		return;
	k = (size_t)(*hit - cs);
	if (h->gone ? !h->applied : parse_state_fits(h->expect, cs[k].state))
		return;
	if (mine && h->tries >= WORKER_RETRIES) {
		/* The list has the last word: it may flip the row back. */
		log_warnx("container %.12s still listed %s after its event: "
		          "taking the list's word",
		          h->id, cs[k].state);
		if (h->applied) {
			pthread_mutex_lock(&w->mu);
			w->st.event_overruled++;
			pthread_mutex_unlock(&w->mu);
		}
		return;
	}
	if (mine) {
		/* Read again a little later, unless a newer event came. */
		due = mono_ms() + (h->tries < 10 ? WORKER_RETRY_MS
		                                 : (int64_t)WORKER_RETRY_MS
		                                       << (h->tries - 9));
		log_debug("container %.12s listed %s after its event: "
		          "reading it again",
		          h->id, cs[k].state);
		pthread_mutex_lock(&w->mu);
		w->st.stale_reads++;
		if (hints_retry(&w->hints, h, due) == -1)
			w->resync = true;
		pthread_mutex_unlock(&w->mu);
	}
	if (!h->applied)
		return; /* the index still holds what this list says */
	/* The index holds the event's state: send it that again, not the
	 * stale reading that would flip the row back. */
	if (h->gone)
		drop[k] = true;
	else if (known_record(w->known, h->id, a, &rec) == 0)
		cs[k] = rec;
}

/*
 * Holds a list (a pass's, or a re-read's) against the events it may
 * predate: hold_one for the batch's hints and the waiting ones. Replaces
 * or drops elements of cs in place; *ncs shrinks by the dropped.
 */
static void
recheck(struct worker *w, struct arena *a, const struct hint *hs, size_t nh,
        struct wire_container *cs, size_t *ncs)
{
	struct wire_container **idx;
	struct hint *wait = NULL;
	bool *drop;
	size_t i, j, nw = 0;

	if (*ncs == 0)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->hints.n > 0) {
		wait = arena_alloc(a, w->hints.n * sizeof(*wait));
		for (i = 0; i < w->hints.n; i++)
			if (w->hints.v[i].applied)
				wait[nw++] = w->hints.v[i];
	}
	pthread_mutex_unlock(&w->mu);
	if (nh == 0 && nw == 0)
		return;
	idx = arena_alloc(a, *ncs * sizeof(*idx));
	drop = arena_alloc(a, *ncs * sizeof(*drop));
	for (i = 0; i < *ncs; i++)
		idx[i] = &cs[i];
	qsort(idx, *ncs, sizeof(*idx), ctr_pcmp);
	for (i = 0; i < nh; i++)
		hold_one(w, a, &hs[i], true, idx, cs, *ncs, drop);
	for (i = 0; i < nw; i++)
		hold_one(w, a, &wait[i], false, idx, cs, *ncs, drop);
	for (i = j = 0; i < *ncs; i++)
		if (!drop[i])
			cs[j++] = cs[i];
	*ncs = j;
}

/* The ids some event announced since the pass began taking hints. */
struct announced {
	struct worker *w;
	char **ids;
	size_t n;
};

static void
count_missed(void *arg, const char *id)
{
	struct announced *an = arg;
	const char *key = id;

	if (bsearch(&key, an->ids, an->n, sizeof(*an->ids), str_pcmp) == NULL)
		suspect_add(an->w, id);
}

/*
 * Compares the list with what the lister knew: every difference that is
 * neither among the hints the pass took (covered) nor among those that
 * arrived while it listed may be a change no event announced.
 */
static void
pass_missed(struct worker *w, struct arena *a, const struct hint *covered,
            size_t ncovered, const struct parse_result *r)
{
	struct announced an = {w, NULL, 0};
	size_t i, cap;

	pthread_mutex_lock(&w->mu);
	cap = ncovered + w->hints.n;
	an.ids = arena_alloc(a, (cap ? cap : 1) * sizeof(*an.ids));
	for (i = 0; i < w->hints.n; i++)
		an.ids[an.n++] = arena_strdup(a, w->hints.v[i].id);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < ncovered; i++)
		an.ids[an.n++] = (char *)covered[i].id;
	qsort(an.ids, an.n, sizeof(*an.ids), str_pcmp);
	if (known_replace(w->known, r->containers, r->ncontainers, count_missed,
	                  &an) == -1)
		log_warnx("unable to remember the listed containers: out of "
		          "memory");
}

/*
 * One full pass: 0 when a snapshot was built (sent or not), else -1.
 * covered: the hints taken when it began, which its list answers.
 */
static int
worker_pass(struct worker *w, const struct hint *covered, size_t ncovered)
{
	struct arena *a;
	struct parse_result r;
	struct wire_snapshot s;
	struct wbuf b = {0};
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN];
	int64_t t0 = mono_ms(), taken = now_ms();
	uint64_t t0us = mono_us();
	uint64_t failures;
	bool big;

	pthread_mutex_lock(&w->mu);
	w->st.passes++;
	pthread_mutex_unlock(&w->mu);
	if ((a = arena_new()) == NULL) {
		list_failed(w, "list containers", "out of memory");
		return -1;
	}
	if (docker_list(w->dk, w->conf.prefix, &body, &len, err, sizeof(err)) ==
	        -1 ||
	    parse_list(body, len, w->conf.prefix, a, &r, err, sizeof(err)) ==
	        -1) {
		list_failed(w, "list containers", err);
		pthread_mutex_lock(&w->mu);
		w->st.list_failures++;
		pthread_mutex_unlock(&w->mu);
		arena_free(a);
		mem_release(); /* what a broken or endless body used */
		return -1;
	}
	list_ok(w);
	/* Before known takes the list: it must take the held records. */
	recheck(w, a, covered, ncovered, r.containers, &r.ncontainers);
	pass_missed(w, a, covered, ncovered, &r);
	memset(&s, 0, sizeof(s));
	s.host = (char *)w->conf.host_name;
	s.gen = ++w->gen;
	s.taken_at = taken;
	/* R8: a container skipped but there keeps its row (skipped);
	 * one that cannot even be named stops this pass's sweep */
	s.complete = !r.skipped_unnamed;
	s.containers = r.containers;
	s.ncontainers = r.ncontainers;
	s.skipped = r.skipped_ids;
	s.nskipped = r.nskipped_ids;
	if (r.skipped_unnamed)
		log_warnx("a container without a usable id was skipped: this "
		          "pass sweeps nothing (R8)");
	if (wire_encode_snapshot(&b, &s) == -1)
		abort(); /* only a NULL required field, which we never pass */
	arena_free(a);

	pthread_mutex_lock(&w->mu);
	failures = w->failing ? w->st.list_failures : 0;
	w->st.ever_ok = true;
	w->st.gen = s.gen;
	w->st.containers_last = r.ncontainers;
	w->st.list_ms_last = (uint64_t)(mono_ms() - t0);
	w->st.list_us_last = mono_us() - t0us;
	w->st.skipped += r.skipped;
	w->st.unlabelled += r.unlabelled;
	pthread_mutex_unlock(&w->mu);
	if (failures > 0)
		log_info("listing containers again (%llu failed passes so far)",
		         (unsigned long long)failures);
	log_debug("listed %zu containers in %lld ms, snapshot %llu",
	          r.ncontainers, (long long)(mono_ms() - t0),
	          (unsigned long long)s.gen);

	if (push(w, &b, "snapshot", s.gen) == 0) {
		pthread_mutex_lock(&w->mu);
		w->st.snapshots_sent++;
		pthread_mutex_unlock(&w->mu);
	}
	big = b.len >= MEM_BIG || len >= MEM_BIG;
	wbuf_free(&b);
	if (big)
		mem_release();
	return 0;
}

/* The containers one re-read round lists. */
struct idset {
	struct arena *a;
	char **ids;
	size_t n;
	bool full; /* more than REREAD_MAX: a pass instead */
};

static void
idset_add(void *arg, const char *id)
{
	struct idset *s = arg;
	size_t i;

	if (!docker_id_ok(id))
		return; /* not Docker's: only a pass can read it */
	for (i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return;
	if (s->n == REREAD_MAX) {
		s->full = true;
		return;
	}
	s->ids[s->n++] = arena_strdup(s->a, id);
}

static bool
listed(const struct wire_container *cs, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(cs[i].id, id) == 0)
			return true;
	return false;
}

static bool
among(char *const *ids, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/*
 * Lists the containers of the batch, and with each the other known
 * containers of its workload: R6 picks among all containers that map to
 * one row, so a delta must hold them all, as a snapshot would. A
 * container asked for and not listed is gone (unless some answer skipped
 * an element it could not represent: then only destroy events count).
 * Fills d from a; 0, -1 when a call failed, 1 when the batch is too big
 * for a re-read.
 */
static int
reread(struct worker *w, struct arena *a, const struct hint *batch, size_t nb,
       struct wire_delta *d)
{
	struct idset set = {a, NULL, 0, false};
	struct parse_result r;
	const char *wid, *body;
	char err[DOCKER_ERR_LEN];
	size_t i, j, n, len, ncs = 0, cap;
	bool exact = true;
	struct wire_container *cs;

	set.ids = arena_alloc(a, REREAD_MAX * sizeof(*set.ids));
	for (i = 0; i < nb && !set.full; i++) {
		if (!batch[i].gone)
			idset_add(&set, batch[i].id);
		wid = batch[i].wid[0] ? batch[i].wid
		                      : known_wid(w->known, batch[i].id);
		if (wid != NULL && wid[0] != '\0')
			known_each_of(w->known, wid, idset_add, &set);
	}
	if (set.full)
		return 1;
	cap = set.n + 1;
	cs = arena_alloc(a, cap * sizeof(*cs));
	for (i = 0; i < set.n; i += n) {
		n = set.n - i < DOCKER_IDS_MAX ? set.n - i : DOCKER_IDS_MAX;
		if (docker_list_ids(w->dk, w->conf.prefix, set.ids + i, n,
		                    &body, &len, err, sizeof(err)) == -1 ||
		    parse_list(body, len, w->conf.prefix, a, &r, err,
		               sizeof(err)) == -1) {
			list_failed(w, "re-read containers", err);
			return -1;
		}
		if (r.skipped > 0 || r.unlabelled > 0)
			exact = false;
		for (j = 0; j < r.ncontainers; j++) {
			if (listed(cs, ncs, r.containers[j].id))
				continue;
			if (ncs == cap) {
				cs = arena_realloc(a, cs, cap * sizeof(*cs),
				                   2 * cap * sizeof(*cs));
				cap *= 2;
			}
			cs[ncs++] = r.containers[j];
		}
	}
	if (set.n > 0)
		list_ok(w);
	memset(d, 0, sizeof(*d));
	d->containers = cs;
	d->ncontainers = ncs;
	d->gone = arena_alloc(a, (set.n + nb + 1) * sizeof(*d->gone));
	for (i = 0; i < nb; i++)
		if (batch[i].gone && !listed(cs, ncs, batch[i].id))
			d->gone[d->ngone++] = arena_strdup(a, batch[i].id);
	for (i = 0; exact && i < set.n; i++)
		if (!listed(cs, ncs, set.ids[i]) &&
		    !among(d->gone, d->ngone, set.ids[i]))
			d->gone[d->ngone++] = set.ids[i];
	return 0;
}

/*
 * The re-read also lists the other containers of each workload: a change
 * among those that neither the batch nor a waiting hint announced was
 * missed by the stream, as a pass would have found it.
 */
static void
reread_missed(struct worker *w, const struct hint *batch, size_t nb,
              const struct wire_delta *d)
{
	size_t i, j;
	bool announced;

	for (i = 0; i < d->ncontainers + d->ngone; i++) {
		const char *id = i < d->ncontainers
		                     ? d->containers[i].id
		                     : d->gone[i - d->ncontainers];

		announced = false;
		for (j = 0; j < nb && !announced; j++)
			announced = strcmp(batch[j].id, id) == 0;
		if (announced)
			continue;
		if (i < d->ncontainers
		        ? !known_changed(w->known, &d->containers[i])
		        : known_wid(w->known, id) == NULL)
			continue;
		pthread_mutex_lock(&w->mu);
		announced = hints_has(&w->hints, id);
		pthread_mutex_unlock(&w->mu);
		if (!announced && known_primed(w->known))
			suspect_add(w, id);
	}
}

/* One re-read round: 0 done, -1 a call failed, 1 a pass should do it. */
static int
worker_reread(struct worker *w, const struct hint *batch, size_t nb)
{
	struct arena *a;
	struct wire_delta d;
	struct wbuf b = {0};
	int64_t t0 = mono_ms();
	size_t i;
	int rc;

	if ((a = arena_new()) == NULL)
		return 1;
	if ((rc = reread(w, a, batch, nb, &d)) != 0) {
		arena_free(a);
		if (rc == 1)
			return 1;
		/* Back to the hints: the pass that follows answers them, and
		 * they were announced, not missed. */
		pthread_mutex_lock(&w->mu);
		w->st.reread_failures++;
		for (i = 0; i < nb; i++)
			if (hints_retry(&w->hints, &batch[i], mono_ms()) == -1)
				break;
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	reread_missed(w, batch, nb, &d);
	recheck(w, a, batch, nb, d.containers, &d.ncontainers);
	if (known_update(w->known, d.containers, d.ncontainers, d.gone,
	                 d.ngone) == -1)
		log_warnx("unable to remember the re-read containers: out of "
		          "memory");
	pthread_mutex_lock(&w->mu);
	w->st.rereads++;
	pthread_mutex_unlock(&w->mu);
	log_debug("re-read for %zu events: %zu containers, %zu gone, %lld ms",
	          nb, d.ncontainers, d.ngone, (long long)(mono_ms() - t0));
	if (d.ncontainers == 0 && d.ngone == 0) {
		arena_free(a);
		return 0;
	}
	d.host = (char *)w->conf.host_name;
	d.gen = w->gen;
	if (wire_encode_delta(&b, &d) == -1)
		abort(); /* only a NULL required field, which we never pass */
	arena_free(a);
	if (push(w, &b, "delta", d.gen) == 0) {
		pthread_mutex_lock(&w->mu);
		w->st.deltas_sent++;
		pthread_mutex_unlock(&w->mu);
	}
	wbuf_free(&b);
	return 0;
}

/* The records an applied event sends: grows, later entries replace. */
struct recs {
	struct arena *a;
	struct wire_container *v;
	size_t n, cap;
	const struct known *known;
};

static struct wire_container *
recs_find(struct recs *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0)
			return &r->v[i];
	return NULL;
}

static void
recs_put(struct recs *r, const struct wire_container *c)
{
	struct wire_container *e;

	if ((e = recs_find(r, c->id)) != NULL) {
		*e = *c;
		return;
	}
	if (r->n == r->cap) {
		r->v = arena_realloc(r->a, r->v, r->cap * sizeof(*r->v),
		                     2 * r->cap * sizeof(*r->v));
		r->cap *= 2;
	}
	r->v[r->n++] = *c;
}

/* known_each_of: a sibling goes in as known, unless already in. */
static void
recs_sibling(void *arg, const char *id)
{
	struct recs *r = arg;
	struct wire_container c;

	if (recs_find(r, id) == NULL &&
	    known_record(r->known, id, r->a, &c) == 0)
		recs_put(r, &c);
}

/*
 * Applies the events of hs at once. Docker logs die (stop, pause) before
 * its lists show them (see hold_one), some 10-100 ms: re-reading alone,
 * the index trails Docker's own event by that much. So the state an event
 * defines is applied to what the lister knows of the container (image,
 * created, labels from the last list or re-read; its ports as Docker
 * lists them in that state) and pushed now. This is SPEC 6's "hint to
 * re-read" kept: the re-read still follows, hold_one keeps a stale one
 * from flipping the row back, and a list that goes on contradicting the
 * event past WORKER_RETRIES reads has the last word. A container never
 * listed has no record to build on: only its re-read reads it. Like a
 * re-read, the delta holds the workload's other known containers (R6).
 */
static void
worker_apply(struct worker *w, const struct hint *hs, size_t nh)
{
	struct arena *a;
	struct wire_delta d;
	struct wire_container c, *e;
	struct recs r;
	struct wbuf b = {0};
	const char *wid;
	size_t i, j, napplied = 0;

	if ((a = arena_new()) == NULL)
		return;
	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	r.a = a;
	r.cap = 8;
	r.v = arena_alloc(a, r.cap * sizeof(*r.v));
	r.known = w->known;
	d.gone = arena_alloc(a, (nh + 1) * sizeof(*d.gone));
	for (i = 0; i < nh; i++) {
		if ((wid = known_wid(w->known, hs[i].id)) == NULL)
			continue;
		if (hs[i].apply_gone) {
			d.gone[d.ngone++] = arena_strdup(a, hs[i].id);
		} else if (hs[i].sets != 0 &&
		           known_derive(w->known, hs[i].id,
		                        parse_sets_state(hs[i].sets), a,
		                        &c) == 0 &&
		           known_changed(w->known, &c)) {
			recs_put(&r, &c);
		} else {
			continue;
		}
		napplied++;
		log_debug("container %.12s: applying its event (%s)", hs[i].id,
		          hs[i].apply_gone ? "destroyed"
		                           : parse_sets_state(hs[i].sets));
		known_each_of(w->known, wid, recs_sibling, &r);
	}
	if (napplied == 0) {
		arena_free(a);
		return;
	}
	/* A destroyed container is not sent as a sibling too. */
	for (i = j = 0; i < r.n; i++) {
		e = &r.v[i];
		if (!among(d.gone, d.ngone, e->id))
			r.v[j++] = *e;
	}
	r.n = j;
	d.host = (char *)w->conf.host_name;
	d.gen = w->gen;
	d.containers = r.v;
	d.ncontainers = r.n;
	if (wire_encode_delta(&b, &d) == -1)
		abort(); /* only a NULL required field, which we never pass */
	if (known_update(w->known, d.containers, d.ncontainers, d.gone,
	                 d.ngone) == -1)
		log_warnx("unable to remember the applied events: out of "
		          "memory");
	arena_free(a);
	pthread_mutex_lock(&w->mu);
	w->st.event_applied += napplied;
	pthread_mutex_unlock(&w->mu);
	if (push(w, &b, "delta", d.gen) == 0) {
		pthread_mutex_lock(&w->mu);
		w->st.deltas_sent++;
		pthread_mutex_unlock(&w->mu);
	}
	wbuf_free(&b);
}

/* The cheapest list Docker answers from the same code path as a pass. */
static void
worker_heartbeat(struct worker *w)
{
	struct arena *a;
	struct parse_result r;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN];

	if ((a = arena_new()) == NULL)
		return;
	if (docker_list_probe(w->dk, w->conf.prefix, &body, &len, err,
	                      sizeof(err)) == -1 ||
	    parse_list(body, len, w->conf.prefix, a, &r, err, sizeof(err)) ==
	        -1) {
		list_failed(w, "probe the container list", err);
	} else {
		list_ok(w);
		pthread_mutex_lock(&w->mu);
		w->st.heartbeats++;
		pthread_mutex_unlock(&w->mu);
	}
	arena_free(a);
}

static void
wait_until(struct worker *w, int64_t due)
{
	struct timespec ts;
	int64_t wait = due - mono_ms();

	if (wait > 3600 * 1000)
		wait = 3600 * 1000;
	ts = ts_after(CLOCK_MONOTONIC, wait);
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

/*
 * Under the lock: waits for the next job and takes its hints into
 * w->batch. A pass comes first (it answers every hint); while calls fail,
 * only passes run, after the backoff; the heartbeat runs when no list has
 * succeeded for one timeout.
 */
static enum job
next_job(struct worker *w, size_t *nb)
{
	int64_t now, due, t;

	while (!w->stop) {
		now = mono_ms();
		t = suspects_expire(w, now);
		/* First: no Docker call, and a list run before it would
		 * predate the event. */
		if (hints_pending(&w->hints)) {
			*nb =
			    hints_take_pending(&w->hints, w->batch, HINTS_MAX);
			return JOB_APPLY;
		}
		if (w->resync || w->relist || now >= w->pass_due) {
			if (w->resync)
				w->st.resyncs++;
			if (w->relist)
				w->st.relists++;
			w->resync = w->relist = false;
			*nb = hints_take(&w->hints, INT64_MAX, w->batch,
			                 HINTS_MAX);
			return JOB_PASS;
		}
		due = w->pass_due < t ? w->pass_due : t;
		if (!w->failing) {
			if ((t = hints_next_due(&w->hints)) <= now) {
				/* the call reads the containers whose windows
				 * end within one more window too: events
				 * parsed a moment apart (across a millisecond,
				 * or behind an apply) share one call */
				*nb = hints_take(&w->hints,
				                 now + WORKER_COALESCE_MS,
				                 w->batch, REREAD_MAX);
				return JOB_REREAD;
			}
			if (t < due)
				due = t;
			if (w->st.ever_ok) {
				t = w->st.last_ok_mono + w->conf.timeout_ms;
				if (t <= now)
					return JOB_HEARTBEAT;
				if (t < due)
					due = t;
			}
		}
		wait_until(w, due);
	}
	return JOB_NONE;
}

static void
run_pass(struct worker *w, size_t nb)
{
	if (worker_pass(w, w->batch, nb) == 0) {
		w->failing = false;
		w->backoff_ms = 0;
		w->pass_due = mono_ms() + w->conf.interval_ms;
		if (w->send_failed)
			w->pass_due =
			    mono_ms() + backoff_next(w, &w->send_backoff_ms);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	enum job job;
	size_t nb = 0;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		job = next_job(w, &nb);
		pthread_mutex_unlock(&w->mu);
		switch (job) {
		case JOB_NONE:
			return NULL;
		case JOB_APPLY:
			worker_apply(w, w->batch, nb);
			break;
		case JOB_PASS:
			run_pass(w, nb);
			wake_main(w);
			break;
		case JOB_REREAD:
			if (worker_reread(w, w->batch, nb) == 1) {
				run_pass(w, nb);
				wake_main(w);
			}
			break;
		case JOB_HEARTBEAT:
			worker_heartbeat(w);
			break;
		}
	}
}

int
worker_start(struct worker *w)
{
	int rc;

	/* The events stream gets one timeout to open before the first list
	 * (worker_relist); then the pass runs without it. */
	w->pass_due = mono_ms() + w->conf.timeout_ms;
	if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		errno = rc;
		log_warn("unable to start the docker thread");
		return -1;
	}
	w->started = true;
	return 0;
}

/* Joins the thread if it ends by mono_ms() deadline. */
static int
join_by(struct worker *w, int64_t deadline)
{
	struct timespec ts;
	int64_t left = deadline - mono_ms();

	if (left < 0)
		left = 0;
	ts = ts_after(CLOCK_REALTIME, left);
	return pthread_timedjoin_np(w->thread, NULL, &ts) == 0 ? 0 : -1;
}

int
worker_stop(struct worker *w, int64_t wait_ms)
{
	int64_t deadline = mono_ms() + wait_ms;
	bool closed = false;

	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	docker_cancel(w->dk);
	if (w->started && join_by(w, mono_ms() + wait_ms / 3) == -1) {
		/* Most likely blocked sending to a store that is gone. */
		nng_close(w->conf.push);
		closed = true;
		if (join_by(w, deadline) == -1) {
			log_warnx("unable to stop the docker thread within "
			          "%lld ms",
			          (long long)wait_ms);
			return -1;
		}
	}
	if (!closed)
		nng_close(w->conf.push);
	docker_free(w->dk);
	known_free(w->known);
	hints_free(&w->hints);
	free(w->sus);
	free(w->batch);
	close(w->wakefd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return 0;
}
