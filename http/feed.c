/*
 * feed.c: the ring of recent events that recon-http's streams read from
 * (feed.h), and the one thread that fills it from the store's events
 * through the subscriber client, which hands over every event once, in
 * order: so the ring's revisions are contiguous, and a stream's cursor is
 * all it needs to know where it is.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "feed.h"
#include "log.h"
#include "nngx.h"
#include "recon-client.h"
#include "util.h"
#include "wirejson.h"

#define FEED_TURN_MS  250  /* the thread looks at `stopping` this often */
#define FEED_RETRY_MS 500  /* between attempts to subscribe */
#define FEED_CALL_MS  2000 /* one request to the store */

struct slot {
	uint64_t rev;
	char wid[WIRE_ID_MAX + 1];
	char *text; /* SSE text, malloc'ed */
	size_t len;
};

struct feed {
	char *events_url, *store_url;
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC: an event came, or stopping */
	bool stopping;
	/* the ring: revisions first .. next-1, slot of rev r at r % cap */
	struct slot *ring;
	uint64_t cap, first, next, epoch;
	bool synced; /* first and next are known */
	struct feed_stats st;
};

static const char *const type_names[] = {
    [WIRE_EV_CONTAINER] = "container",
    [WIRE_EV_WORKLOAD] = "workload",
    [WIRE_EV_PASS] = "pass",
};

int
feed_render(struct wbuf *out, const void *body, size_t len, uint64_t *rev,
            char *wid)
{
	char err[WIRE_ERR_LEN], topic[WIRE_TOPIC_MAX + 1];
	struct arena *a = arena_new();
	struct wire_event ev;
	const char *w = "";
	char *json = NULL;
	int r = -1;

	if (wire_decode_event(body, len, a, &ev, err) == -1) {
		log_warnx("unable to render an event: %s", err);
		goto out;
	}
	if (wire_event_topic(topic, sizeof(topic), &ev) == -1 ||
	    (json = wire_event_json_line(&ev, topic)) == NULL) {
		log_warnx("unable to render event %" PRIu64, ev.rev);
		goto out;
	}
	/* one line: json-c escapes every control character in strings */
	feed_sse(out, type_names[ev.type], ev.rev, json);
	if (ev.type == WIRE_EV_CONTAINER)
		w = ev.row->workload_id;
	else if (ev.type == WIRE_EV_WORKLOAD)
		w = ev.workload->id;
	xsnprintf(wid, WIRE_ID_MAX + 1, "%s", w != NULL ? w : "");
	*rev = ev.rev;
	r = 0;
out:
	free(json);
	arena_free(a);
	return r;
}

void
feed_sse(struct wbuf *out, const char *event, uint64_t id, const char *data)
{
	char head[96];

	if (id > 0)
		xsnprintf(head, sizeof(head),
		          "id: %" PRIu64 "\nevent: %s\ndata: ", id, event);
	else
		xsnprintf(head, sizeof(head), "event: %s\ndata: ", event);
	wbuf_append(out, head, strlen(head));
	wbuf_append(out, data, strlen(data));
	wbuf_append(out, "\n\n", 2);
}

struct feed *
feed_new(const char *events_url, const char *store_url, uint64_t keep)
{
	struct feed *f = xcalloc(1, sizeof(*f));
	pthread_condattr_t ca;

	f->events_url = xstrdup(events_url);
	f->store_url = xstrdup(store_url);
	f->cap = keep > 0 ? keep : 1;
	f->ring = xcalloc(f->cap, sizeof(*f->ring));
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	f->st.last_turn = mono_ms();
	return f;
}

/* Empties the ring for a subscription that starts after head: the
 * streams' cursors are checked against the new history (f->epoch). */
static void
ring_restart(struct feed *f, uint64_t head)
{
	uint64_t r;

	pthread_mutex_lock(&f->mu);
	for (r = f->first; r < f->next; r++) {
		free(f->ring[r % f->cap].text);
		f->ring[r % f->cap].text = NULL;
	}
	f->first = f->next = head + 1;
	f->epoch++;
	f->synced = true;
	f->st.head = head;
	f->st.oldest = head + 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Takes one rendered event in, dropping the oldest when the ring is
 * full. */
static void
ring_push(struct feed *f, struct wbuf *text, uint64_t rev, const char *wid)
{
	struct slot *s;

	pthread_mutex_lock(&f->mu);
	if (rev != f->next) {
		/* the subscriber promises every revision in order */
		log_error("event %" PRIu64 " where %" PRIu64 " was due", rev,
		          f->next);
		abort();
	}
	if (f->next - f->first == f->cap) {
		s = &f->ring[f->first % f->cap];
		free(s->text);
		s->text = NULL;
		f->first++;
	}
	s = &f->ring[rev % f->cap];
	s->rev = rev;
	memcpy(s->wid, wid, sizeof(s->wid));
	s->text = text->data;
	s->len = text->len;
	memset(text, 0, sizeof(*text));
	f->next = rev + 1;
	f->st.head = rev;
	f->st.oldest = f->first;
	f->st.events++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static bool
feed_stopping(struct feed *f)
{
	bool s;

	pthread_mutex_lock(&f->mu);
	s = f->stopping;
	f->st.last_turn = mono_ms();
	pthread_mutex_unlock(&f->mu);
	return s;
}

static void
feed_set_following(struct feed *f, bool on)
{
	pthread_mutex_lock(&f->mu);
	f->st.following = on;
	pthread_mutex_unlock(&f->mu);
}

int
feed_wait(struct feed *f, int64_t ms)
{
	struct timespec until = ts_after(CLOCK_MONOTONIC, ms);
	bool s;

	pthread_mutex_lock(&f->mu);
	while (!f->stopping &&
	       pthread_cond_timedwait(&f->cv, &f->mu, &until) != ETIMEDOUT)
		;
	s = f->stopping;
	pthread_mutex_unlock(&f->mu);
	return s ? FEED_STOPPED : 0;
}

/* Subscribes from the store's head, again and again until it works. */
static int
feed_subscribe(struct feed *f, struct recon_sub *s)
{
	bool said = false;
	int r;

	while (!feed_stopping(f)) {
		if ((r = recon_sub_start(s, RECON_SUB_NOW)) == RECON_SUB_OK) {
			ring_restart(f, recon_sub_position(s));
			feed_set_following(f, true);
			log_info("following the store's events from revision "
			         "%" PRIu64,
			         recon_sub_position(s));
			return 0;
		}
		if (!said)
			log_warnx("unable to subscribe to the store: %s",
			          recon_sub_error(s));
		said = true;
		if (feed_wait(f, FEED_RETRY_MS) == FEED_STOPPED)
			break;
	}
	return -1;
}

static void *
feed_main(void *arg)
{
	struct feed *f = arg;
	struct recon_sub *s;
	struct recon_event ev;
	struct wbuf text = {0};
	char wid[WIRE_ID_MAX + 1];
	uint64_t rev;
	int r;
	const struct nngx_tls *t = nngx_tls_default();

	if ((s = recon_sub_open_url(f->events_url, f->store_url)) == NULL)
		fatalx(EXIT_TEMP, "unable to open the store's events");
	/* a remote store (SPEC §10): the process's --tls-* files */
	if (t != NULL &&
	    recon_sub_set_tls(s, t->cert_file, t->key_file, t->ca_file) == -1)
		fatalx(EXIT_USAGE,
		       "unable to use TLS for the store's events: %s",
		       recon_sub_error(s));
	recon_sub_set_timeout(s, FEED_CALL_MS);
	if (feed_subscribe(f, s) == -1)
		goto out;
	while (!feed_stopping(f)) {
		r = recon_sub_next(s, FEED_TURN_MS, &ev);
		if (r == RECON_SUB_TIMEOUT)
			continue;
		if (r == RECON_SUB_EVENT) {
			wbuf_reset(&text);
			if (feed_render(&text, ev.body, ev.len, &rev, wid) ==
			    -1) {
				/* the store logged what it cannot read: our
				 * own data, broken */
				log_error("event %" PRIu64 " does not render",
				          ev.rev);
				abort();
			}
			ring_push(f, &text, rev, wid);
			continue;
		}
		/* compacted (we were away longer than the log keeps, or the
		 * store's history was replaced) or broken: from the head
		 * again; the streams find out by their cursors */
		log_warnx("the store's events: %s; following from its head "
		          "again",
		          recon_sub_error(s));
		feed_set_following(f, false);
		pthread_mutex_lock(&f->mu);
		f->st.restarts++;
		pthread_mutex_unlock(&f->mu);
		if (feed_subscribe(f, s) == -1)
			break;
	}
out:
	wbuf_free(&text);
	recon_sub_close(s);
	return NULL;
}

int
feed_start(struct feed *f)
{
	int e;

	if ((e = pthread_create(&f->thread, NULL, feed_main, f)) != 0) {
		log_warnx("unable to start the feed thread: %s", strerror(e));
		return -1;
	}
	f->started = true;
	return 0;
}

int
feed_stop(struct feed *f, int64_t wait_ms)
{
	struct timespec until = ts_after(CLOCK_REALTIME, wait_ms);

	pthread_mutex_lock(&f->mu);
	f->stopping = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->started && pthread_timedjoin_np(f->thread, NULL, &until) != 0)
		return -1;
	f->started = false;
	return 0;
}

void
feed_free(struct feed *f)
{
	uint64_t r;

	if (f == NULL)
		return;
	if (f->started && feed_stop(f, INT32_MAX) == -1)
		abort(); /* freeing what the thread still uses */
	for (r = f->first; r < f->next; r++)
		free(f->ring[r % f->cap].text);
	free(f->ring);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->events_url);
	free(f->store_url);
	free(f);
}

int
feed_read(struct feed *f, uint64_t *cursor, uint64_t *epoch, const char *wid,
          struct wbuf *out, size_t budget, int64_t wait_ms)
{
	struct timespec until = ts_after(CLOCK_MONOTONIC, wait_ms);
	struct slot *s;
	int n = 0;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		if (f->stopping) {
			n = FEED_STOPPED;
			break;
		}
		if (f->synced && *epoch != f->epoch) {
			/* a new subscription: a cursor past its start
			 * belongs to a history the store no longer has */
			if (*epoch != 0 && *cursor >= f->next) {
				n = FEED_REPLACED;
				break;
			}
			*epoch = f->epoch;
		}
		if (f->synced && *cursor + 1 < f->first) {
			n = FEED_BEHIND;
			break;
		}
		while (f->synced && *cursor + 1 < f->next &&
		       (n == 0 || out->len < budget)) {
			s = &f->ring[(*cursor + 1) % f->cap];
			(*cursor)++;
			if (wid != NULL && strcmp(wid, s->wid) != 0)
				continue;
			wbuf_append(out, s->text, s->len);
			n++;
		}
		if (n > 0 || wait_ms <= 0 ||
		    pthread_cond_timedwait(&f->cv, &f->mu, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&f->mu);
	return n;
}

void
feed_stats(struct feed *f, struct feed_stats *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	pthread_mutex_unlock(&f->mu);
}
