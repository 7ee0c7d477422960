/*
 * worker.c: the Docker thread of the lister: list, parse, encode and push
 * one snapshot per pass (R8, R12), retry failed lists with a jittered
 * backoff, and keep the status the main thread reports in health.
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
#include "log.h"
#include "parse.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

#define BACKOFF_MIN_MS 1000 /* first retry after a failed list */

struct worker {
	struct worker_conf conf;
	struct docker *dk;
	pthread_t thread;
	bool started;
	int wakefd; /* eventfd: a pass finished */
	uint64_t gen;
	int64_t backoff_ms;

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	bool stop, resync;
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
	if ((w->dk = docker_new(conf->docker_host, conf->timeout_ms,
	                        conf->max_body)) == NULL) {
		free(w);
		return NULL;
	}
	if ((w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("unable to create worker eventfd");
		docker_free(w->dk);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Seeded from the clock so gens keep rising across restarts. */
	w->gen = (uint64_t)now_ms();
	return w;
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

static void
pass_failed(struct worker *w, const char *why)
{
	log_warnx("unable to list containers: %s", why);
	pthread_mutex_lock(&w->mu);
	w->st.list_failures++;
	w->st.last_ok = false;
	snprintf(w->st.last_error, sizeof(w->st.last_error), "%s", why);
	snprintf(w->st.api, sizeof(w->st.api), "%s", docker_version(w->dk));
	pthread_mutex_unlock(&w->mu);
}

/* Pushes one encoded snapshot; a store that is down costs at most the
 * send timeout, and the next pass sends a fresh one anyway. */
static void
pass_send(struct worker *w, const struct wbuf *b, uint64_t gen)
{
	int rc;

	rc = nngx_send_timeout(w->conf.push, b->data, b->len,
	                       w->conf.timeout_ms);
	if (rc == -1 && !stopping(w))
		log_warnx("unable to send snapshot %llu: ingest did not take "
		          "it within %lld ms",
		          (unsigned long long)gen,
		          (long long)w->conf.timeout_ms);
	pthread_mutex_lock(&w->mu);
	if (rc == 0)
		w->st.snapshots_sent++;
	else
		w->st.send_failures++;
	pthread_mutex_unlock(&w->mu);
}

/* One full pass: 0 when a snapshot was built (sent or not), else -1. */
static int
worker_pass(struct worker *w)
{
	struct arena *a;
	struct parse_result r;
	struct wire_snapshot s;
	struct wbuf b = {0};
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN];
	int64_t t0 = mono_ms(), taken = now_ms();
	uint64_t failures;

	pthread_mutex_lock(&w->mu);
	w->st.passes++;
	pthread_mutex_unlock(&w->mu);
	if ((a = arena_new()) == NULL) {
		pass_failed(w, "out of memory");
		return -1;
	}
	if (docker_list(w->dk, w->conf.prefix, &body, &len, err, sizeof(err)) ==
	        -1 ||
	    parse_list(body, len, w->conf.prefix, a, &r, err, sizeof(err)) ==
	        -1) {
		if (!stopping(w))
			pass_failed(w, err);
		arena_free(a);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.host = (char *)w->conf.host_name;
	s.gen = ++w->gen;
	s.taken_at = taken;
	s.complete = true;
	s.containers = r.containers;
	s.ncontainers = r.ncontainers;
	if (wire_encode_snapshot(&b, &s) == -1)
		abort(); /* only a NULL required field, which we never pass */
	arena_free(a);

	pthread_mutex_lock(&w->mu);
	failures = w->st.last_ok || !w->st.ever_ok ? 0 : w->st.list_failures;
	w->st.ever_ok = true;
	w->st.last_ok = true;
	w->st.last_ok_mono = mono_ms();
	w->st.gen = s.gen;
	w->st.containers_last = r.ncontainers;
	w->st.list_ms_last = (uint64_t)(mono_ms() - t0);
	w->st.skipped += r.skipped;
	w->st.unlabelled += r.unlabelled;
	w->st.last_error[0] = '\0';
	snprintf(w->st.api, sizeof(w->st.api), "%s", docker_version(w->dk));
	pthread_mutex_unlock(&w->mu);
	if (failures > 0)
		log_info("listing containers again (%llu failures so far)",
		         (unsigned long long)failures);
	log_debug("listed %zu containers in %lld ms, snapshot %llu",
	          r.ncontainers, (long long)(mono_ms() - t0),
	          (unsigned long long)s.gen);

	pass_send(w, &b, s.gen);
	wbuf_free(&b);
	return 0;
}

/* Next wait after a pass: the interval, or a jittered doubling backoff
 * (capped at the interval) while lists fail. */
static int64_t
next_wait(struct worker *w, bool ok)
{
	int64_t d;

	if (ok) {
		w->backoff_ms = 0;
		return w->conf.interval_ms;
	}
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (w->backoff_ms > w->conf.interval_ms)
		w->backoff_ms = w->conf.interval_ms;
	/* 75% to 100% of the backoff, so many listers do not retry as one. */
	d = w->backoff_ms - (int64_t)(random() % (w->backoff_ms / 4 + 1));
	return d > 0 ? d : 1;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct timespec ts;
	int64_t due = mono_ms(), wait;
	bool resync;
	int ok;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->stop && !w->resync && mono_ms() < due) {
			wait = due - mono_ms();
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		resync = w->resync;
		w->resync = false;
		if (resync)
			w->st.resyncs++;
		pthread_mutex_unlock(&w->mu);

		ok = worker_pass(w);
		due = mono_ms() + next_wait(w, ok == 0);
		wake_main(w);
	}
	return NULL;
}

int
worker_start(struct worker *w)
{
	int rc;

	srandom((unsigned)(getpid() ^ now_ms()));
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
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
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
	close(w->wakefd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return 0;
}
