/*
 * docker_events.c: the Docker events thread: one long GET /events at a
 * time, its body fed to parse.c's incremental reader as it arrives, each
 * event turned into a worker hint; reconnects back off from 100 ms to
 * 30 s, jittered, and resume where the stream before got to
 * (docker_events_resume, docker_events.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_timedjoin_np */
#endif

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "docker_events.h"
#include "log.h"
#include "parse.h"
#include "util.h"

struct docker_events {
	struct docker_events_conf conf;
	struct docker *dk;
	pthread_t thread;
	bool started;
	/* the events thread's own */
	struct parse_events *pe; /* the reader of the current stream */
	char reader_err[DOCKER_ERR_LEN];
	bool opened;             /* the current stream opened */
	int64_t opened_at;       /* mono_ms */
	struct docker_peer peer; /* who answered the last stream */
	int64_t backoff_ms;
	unsigned int rng;
	struct docker_events_resume resume;

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	bool stop;
	struct docker_events_status st;
};

int64_t
docker_events_resume_since(struct docker_events_resume *r, int64_t now_ns)
{
	/* as docker_stream's default: Docker sends the headers before it
	 * registers the subscriber, the replay covers what falls between */
	if (r->since_ns <= 0)
		r->since_ns = (now_ns / 1000000000LL - 1) * 1000000000LL;
	return r->since_ns;
}

void
docker_events_resume_open(struct docker_events_resume *r, int64_t now_ns)
{
	r->open_ns = now_ns;
}

bool
docker_events_resume_event(struct docker_events_resume *r, int64_t time_ns)
{
	if (time_ns <= 0)
		return false;
	if (time_ns > r->since_ns)
		r->since_ns = time_ns;
	return time_ns < r->open_ns;
}

struct docker_events *
docker_events_new(const struct docker_events_conf *conf)
{
	struct docker_events *e;
	pthread_condattr_t ca;

	e = xcalloc(1, sizeof(*e));
	e->conf = *conf;
	/* No size cap applies to a stream; the reader caps each event. */
	if ((e->dk = docker_new(conf->docker_host, conf->timeout_ms,
	                        DOCKER_BODY_MAX)) == NULL) {
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	e->rng = (unsigned int)(getpid() ^ (now_ms() << 8));
	e->st.since_mono = mono_ms();
	return e;
}

void
docker_events_status(struct docker_events *e, struct docker_events_status *out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->st;
	pthread_mutex_unlock(&e->mu);
}

static bool
stopping(struct docker_events *e)
{
	bool s;

	pthread_mutex_lock(&e->mu);
	s = e->stop;
	pthread_mutex_unlock(&e->mu);
	return s;
}

static void
on_open(void *arg, const struct docker_peer *peer)
{
	struct docker_events *e = arg;
	bool restarted;

	e->opened = true;
	e->opened_at = mono_ms();
	docker_events_resume_open(&e->resume, now_ms() * 1000000LL);
	restarted = peer->pid > 0 && e->peer.pid > 0 &&
	            (peer->pid != e->peer.pid || peer->start != e->peer.start);
	if (peer->pid > 0)
		e->peer = *peer;
	pthread_mutex_lock(&e->mu);
	e->st.connected = e->st.ever_connected = true;
	e->st.since_mono = e->opened_at;
	e->st.retry_ms = 0;
	e->st.last_error[0] = '\0';
	e->st.opens++;
	if (restarted)
		e->st.daemon_restarts++;
	pthread_mutex_unlock(&e->mu);
	if (restarted)
		log_info("docker daemon restarted (now pid %ld)", peer->pid);
	log_debug("events stream from pid %ld (started at tick %llu)",
	          peer->pid, peer->start);
	log_info("subscribed to docker events; listing all containers");
	worker_stream(e->conf.worker, true);
	/* After the subscription, so that nothing falls between the two. */
	worker_relist(e->conf.worker);
}

static void
on_event(void *arg, const struct parse_event *ev)
{
	struct docker_events *e = arg;
	bool replayed = docker_events_resume_event(&e->resume, ev->time_ns);

	switch (ev->kind) {
	case PARSE_EV_REREAD:
	case PARSE_EV_GONE:
		log_debug("docker event %s %.12s (%s)%s", ev->action, ev->id,
		          ev->wid[0] ? ev->wid : "?",
		          replayed ? " replayed" : "");
		/* a replayed state is older than the relist: re-read only */
		worker_hint(e->conf.worker, ev->id, ev->wid,
		            ev->kind == PARSE_EV_GONE, (int)ev->expect,
		            replayed ? PARSE_SETS_NONE : (int)ev->sets);
		pthread_mutex_lock(&e->mu);
		e->st.events++;
		pthread_mutex_unlock(&e->mu);
		break;
	case PARSE_EV_IGNORED:
		pthread_mutex_lock(&e->mu);
		e->st.ignored++;
		pthread_mutex_unlock(&e->mu);
		break;
	case PARSE_EV_BAD:
		log_warnx("ignoring a docker event: %s", ev->why);
		pthread_mutex_lock(&e->mu);
		e->st.bad++;
		pthread_mutex_unlock(&e->mu);
		break;
	case PARSE_EV_LOST:
		/* what it said is only in a list now; the stream goes on */
		log_warnx("%s: listing all containers", ev->why);
		pthread_mutex_lock(&e->mu);
		e->st.bad++;
		pthread_mutex_unlock(&e->mu);
		worker_relist(e->conf.worker);
		break;
	}
}

static int
on_data(void *arg, const char *buf, size_t len)
{
	struct docker_events *e = arg;

	if (parse_events_feed(e->pe, buf, len, on_event, e, e->reader_err,
	                      sizeof(e->reader_err)) == 0)
		return 0;
	pthread_mutex_lock(&e->mu);
	e->st.broken++;
	pthread_mutex_unlock(&e->mu);
	return -1;
}

static const struct docker_stream_ops stream_ops = {
    .open = on_open,
    .data = on_data,
};

/* One subscription, from connect to its end; the reason it ended in why. */
static void
subscribe(struct docker_events *e, char *why, size_t whylen)
{
	char err[DOCKER_ERR_LEN] = "";
	size_t partial;
	int rc;

	e->opened = false;
	e->reader_err[0] = '\0';
	if ((e->pe = parse_events_new(e->conf.prefix)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return;
	}
	rc = docker_stream(
	    e->dk, e->conf.prefix,
	    docker_events_resume_since(&e->resume, now_ms() * 1000000LL),
	    &stream_ops, e, err, sizeof(err));
	if (e->opened)
		worker_stream(e->conf.worker, false);
	partial = parse_events_partial(e->pe);
	parse_events_free(e->pe);
	e->pe = NULL;
	if (e->reader_err[0] != '\0')
		snprintf(why, whylen, "%s", e->reader_err);
	else if (rc == 0)
		snprintf(why, whylen, "the daemon closed the stream");
	else
		snprintf(why, whylen, "%s", err);
	/* A cut event is not half applied: it is dropped, and the relist
	 * after the reconnect reads what it would have said. */
	if (partial > 0 && e->reader_err[0] == '\0')
		log_warnx("dropping %zu bytes of an unfinished docker event",
		          partial);
}

/* Equal jitter: half the backoff fixed, half random, so that many
 * listers of one daemon do not reconnect as one. */
static int64_t
backoff_next(struct docker_events *e, int64_t up_ms)
{
	int64_t b;

	if (up_ms >= DOCKER_EVENTS_STABLE_MS)
		e->backoff_ms = 0;
	b = e->backoff_ms ? e->backoff_ms * 2 : DOCKER_EVENTS_BACKOFF_MIN_MS;
	if (b > DOCKER_EVENTS_BACKOFF_MAX_MS)
		b = DOCKER_EVENTS_BACKOFF_MAX_MS;
	e->backoff_ms = b;
	return b / 2 + (int64_t)(rand_r(&e->rng) % (unsigned)(b / 2 + 1));
}

/* Sleeps ms unless stopped; true when stopped. */
static bool
sleep_or_stop(struct docker_events *e, int64_t ms)
{
	struct timespec ts;
	bool s;

	ts = ts_after(CLOCK_MONOTONIC, ms);
	pthread_mutex_lock(&e->mu);
	while (!e->stop &&
	       pthread_cond_timedwait(&e->cv, &e->mu, &ts) != ETIMEDOUT)
		continue;
	s = e->stop;
	pthread_mutex_unlock(&e->mu);
	return s;
}

static void *
docker_events_main(void *arg)
{
	struct docker_events *e = arg;
	char why[DOCKER_ERR_LEN];
	int64_t up, wait;
	uint64_t attempt;
	bool first = true;

	while (!stopping(e)) {
		pthread_mutex_lock(&e->mu);
		attempt = ++e->st.attempts;
		pthread_mutex_unlock(&e->mu);
		subscribe(e, why, sizeof(why));
		if (stopping(e))
			break;
		/* Without a stream the first pass need not wait for it. */
		if (first && !e->opened)
			worker_relist(e->conf.worker);
		first = false;
		up = e->opened ? mono_ms() - e->opened_at : 0;
		wait = backoff_next(e, up);
		pthread_mutex_lock(&e->mu);
		if (e->st.connected)
			e->st.since_mono = mono_ms();
		e->st.connected = false;
		e->st.retry_ms = wait;
		snprintf(e->st.last_error, sizeof(e->st.last_error), "%s", why);
		pthread_mutex_unlock(&e->mu);
		if (e->opened)
			log_warnx("docker events stream ended after %lld ms: "
			          "%s; reconnecting in %lld ms",
			          (long long)up, why, (long long)wait);
		else
			log_warnx("unable to subscribe to docker events "
			          "(attempt %llu): %s; reconnecting in %lld ms",
			          (unsigned long long)attempt, why,
			          (long long)wait);
		if (sleep_or_stop(e, wait))
			break;
	}
	return NULL;
}

int
docker_events_start(struct docker_events *e)
{
	int rc;

	if ((rc = pthread_create(&e->thread, NULL, docker_events_main, e)) !=
	    0) {
		errno = rc;
		log_warn("unable to start the events thread");
		return -1;
	}
	e->started = true;
	return 0;
}

int
docker_events_stop(struct docker_events *e, int64_t wait_ms)
{
	struct timespec ts;

	pthread_mutex_lock(&e->mu);
	e->stop = true;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	docker_cancel(e->dk);
	if (e->started) {
		ts = ts_after(CLOCK_REALTIME, wait_ms);
		if (pthread_timedjoin_np(e->thread, NULL, &ts) != 0) {
			log_warnx("unable to stop the events thread within "
			          "%lld ms",
			          (long long)wait_ms);
			return -1;
		}
	}
	docker_free(e->dk);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
	return 0;
}
