/*
 * worker.c: the Docker thread of the lister: its life (new, start, stop),
 * what other threads hand it (hints, resyncs, the stream's state) and
 * read of it (status), and its loop: take the lock, copy the state into
 * worker_sched_next (worker_sched.c), act. The jobs are in worker_pass.c
 * (full passes, the heartbeat), worker_reread.c (re-reads after events)
 * and worker_apply.c (event states applied at once, and lists held
 * against them), all run by this one thread (worker_main says why).
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

#include "log.h"
#include "worker_sched.h"
#include "util.h"
#include "worker_int.h"

struct worker *
worker_new(const struct worker_conf *conf)
{
	struct worker *w;
	pthread_condattr_t ca;

	w = xcalloc(1, sizeof(*w));
	w->conf = *conf;
	w->wakefd = -1;
	w->batch = xcalloc(HINTS_MAX, sizeof(*w->batch));
	suspects_init(&w->sus);
	w->known = known_new(conf->prefix);
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
	/* Seeded from the clock so gens keep rising across restarts: the
	 * store keeps each host's highest gen, across its own restarts too,
	 * and drops anything below it (store/ingest.c). A new seed is above
	 * the last gen sent unless the clock stepped back further than the
	 * time since, or passes came faster than one per ms. */
	w->gen = (uint64_t)now_ms();
	w->rng = (unsigned int)(getpid() ^ now_ms());
	return w;
fail:
	docker_free(w->dk);
	known_free(w->known);
	suspects_free(&w->sus);
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
worker_connected(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	if (w->st.passes > 0) {
		w->reconnected = true;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

void
worker_stream(struct worker *w, bool up)
{
	int64_t due = mono_ms() + MISSED_GRACE_MS;

	pthread_mutex_lock(&w->mu);
	w->stream_up = up;
	/* the replay of the new stream may announce what a list found
	 * meanwhile: each suspect gets its grace from now */
	if (up)
		suspects_grace(&w->sus, due);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
worker_hint(struct worker *w, const char *id, const char *wid, bool gone,
            int expect, int sets)
{
	pthread_mutex_lock(&w->mu);
	w->st.hints++;
	suspects_clear(&w->sus, id);
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

void
worker_count(struct worker *w, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&w->mu);
	*counter += n;
	pthread_mutex_unlock(&w->mu);
}

bool
worker_stopping(struct worker *w)
{
	bool s;

	pthread_mutex_lock(&w->mu);
	s = w->stop;
	pthread_mutex_unlock(&w->mu);
	return s;
}

bool
worker_ids_have(char *const *ids, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/*
 * A list found id changed and no event had said so yet. Docker emits the
 * event at the change, but it may still be on its way: only if none comes
 * within MISSED_GRACE_MS does it count as missed.
 */
void
worker_suspect(struct worker *w, const char *id)
{
	pthread_mutex_lock(&w->mu);
	if (suspects_add(&w->sus, id, mono_ms() + MISSED_GRACE_MS) == -1)
		w->st.missed_events++;
	pthread_mutex_unlock(&w->mu);
}

static void
wake_main(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("unable to wake the main loop");
}

static int64_t
backoff_next(struct worker *w, int64_t *b)
{
	return worker_sched_backoff(b, w->conf.interval_ms,
	                            (unsigned int)rand_r(&w->rng));
}

void
worker_list_ok(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->st.last_ok = true;
	w->st.last_ok_mono = mono_ms();
	w->st.last_error[0] = '\0';
	snprintf(w->st.api, sizeof(w->st.api), "%s", docker_version(w->dk));
	pthread_mutex_unlock(&w->mu);
}

void
worker_list_failed(struct worker *w, const char *what, const char *why)
{
	if (worker_stopping(w))
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

/*
 * A remote store that took nothing: nng redials in the background and
 * says nothing of why it fails, but counts refused TLS handshakes; said
 * once for each new run of them.
 */
static void
push_why(struct worker *w)
{
	struct nngx_ep_errors e;

	if (nngx_dial_errors(w->conf.push, &e) == -1 || e.auth <= w->auth_seen)
		return;
	log_warnx("ingest: the store refused our TLS handshake or we refused "
	          "its (%llu times so far): is --tls-cert signed by the "
	          "store's CA, and the store's certificate by --tls-ca, "
	          "naming the address dialled?",
	          (unsigned long long)e.auth);
	w->auth_seen = e.auth;
}

/* A store that is down costs at most the send timeout, and the next pass,
 * moved up, sends a fresh snapshot. */
int
worker_push(struct worker *w, const struct wbuf *b, const char *what,
            uint64_t gen)
{
	struct wbuf sealed = {0};
	int64_t due;
	int rc;

	/* a remote store applies a host's message only with its proof */
	if (w->conf.signer != NULL) {
		if (hostproof_seal(w->conf.signer, b->data, b->len, &sealed) ==
		    -1) {
			log_warnx("unable to seal %s %llu: not sent", what,
			          (unsigned long long)gen);
			wbuf_free(&sealed);
			worker_count(w, &w->st.seal_failures, 1);
			worker_count(w, &w->st.send_failures, 1);
			w->send_failed = true;
			return -1;
		}
		b = &sealed;
	}
	rc = nngx_send_timeout(w->conf.push, b->data, b->len,
	                       w->conf.timeout_ms) == NNGX_SENT
	         ? 0
	         : -1;
	wbuf_free(&sealed);
	if (rc == -1 && !worker_stopping(w))
		log_warnx("unable to send %s %llu: ingest did not take it "
		          "within %lld ms",
		          what, (unsigned long long)gen,
		          (long long)w->conf.timeout_ms);
	w->send_failed = rc == -1;
	if (rc == -1 && w->conf.signer != NULL)
		push_why(w);
	if (rc == 0) {
		w->send_backoff_ms = 0;
	} else {
		due = mono_ms() + backoff_next(w, &w->send_backoff_ms);
		if (due < w->pass_due)
			w->pass_due = due;
		worker_count(w, &w->st.send_failures, 1);
	}
	return rc;
}

/* Under the lock: the scheduler's copy of the state. */
static void
worker_sched_fill(const struct worker *w, struct worker_sched *s)
{
	s->stop = w->stop;
	s->pass_asked = w->resync || w->relist || w->reconnected;
	s->pending = hints_pending(&w->hints);
	s->failing = w->failing;
	s->stream_up = w->stream_up;
	s->ever_ok = w->st.ever_ok;
	s->pass_due = w->pass_due;
	s->hint_due = hints_next_due(&w->hints);
	s->suspect_due = suspects_next(&w->sus);
	s->last_ok = w->st.last_ok_mono;
	s->timeout_ms = w->conf.timeout_ms;
}

/* Under the lock: counts the suspects whose grace is over. */
static void
expire(struct worker *w, int64_t now)
{
	uint64_t missed = suspects_expire(&w->sus, now);

	if (missed == 0)
		return;
	w->st.missed_events += missed;
	log_info("%llu changes found by listing were announced by no event",
	         (unsigned long long)missed);
}

/*
 * Under the lock: waits for the next job and takes its hints into
 * w->batch (*nb of them).
 */
static enum worker_job
next_job(struct worker *w, size_t *nb)
{
	struct worker_sched s;
	struct worker_next n;
	struct timespec ts;
	int64_t now;

	for (;;) {
		now = mono_ms();
		worker_sched_fill(w, &s);
		n = worker_sched_next(&s, now);
		switch (n.job) {
		case WORKER_STOP:
		case WORKER_HEARTBEAT:
			return n.job;
		case WORKER_WAIT:
			ts = ts_after(CLOCK_MONOTONIC, n.until - now);
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
			break;
		case WORKER_EXPIRE:
			expire(w, now);
			break;
		case WORKER_APPLY:
			*nb =
			    hints_take_pending(&w->hints, w->batch, HINTS_MAX);
			return n.job;
		case WORKER_PASS:
			if (w->resync)
				w->st.resyncs++;
			if (w->relist)
				w->st.relists++;
			if (w->reconnected)
				w->st.reconnects++;
			w->resync = w->relist = w->reconnected = false;
			*nb = hints_take(&w->hints, n.take_due, w->batch,
			                 HINTS_MAX);
			return n.job;
		case WORKER_REREAD:
			*nb = hints_take(&w->hints, n.take_due, w->batch,
			                 REREAD_MAX);
			return n.job;
		}
	}
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
	wake_main(w);
}

/*
 * Why one thread does all of it: the store applies messages in the order
 * they arrive on the one PUSH socket, so a delta must never carry an
 * older reading of a container than a snapshot sent before it, nor a
 * snapshot one older than a delta sent before it. With every list call
 * and every send on this thread, in program order, arrival order is read
 * order. A delta carries the gen of the latest snapshot (or the start
 * seed), which the store's stale check (a gen below the highest it took
 * from this host) never drops.
 */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	enum worker_job job;
	size_t nb = 0;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		job = next_job(w, &nb);
		pthread_mutex_unlock(&w->mu);
		switch (job) {
		case WORKER_STOP:
			return NULL;
		case WORKER_APPLY:
			worker_apply(w, w->batch, nb);
			break;
		case WORKER_PASS:
			run_pass(w, nb);
			break;
		case WORKER_REREAD:
			if (worker_reread(w, w->batch, nb) == 1)
				run_pass(w, nb);
			break;
		case WORKER_HEARTBEAT:
			worker_heartbeat(w);
			break;
		case WORKER_WAIT:
		case WORKER_EXPIRE:
			break; /* next_job does them */
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
	suspects_free(&w->sus);
	free(w->batch);
	close(w->wakefd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return 0;
}
