/*
 * hook_intake.c: the webhooks' side of the store. Per workload, what the
 * store last told us of its notification_url and secret (from dispatch
 * jobs, or asked for with workload.get) and a queue of container events
 * as signed-to-be JSON bodies; each event is decoded once, strictly, and
 * its body written from the record.
 * hook_tick walks the workloads and hands each queue's head to
 * hook_http.c when its settings are known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnt.h"
#include "hook_int.h"
#include "log.h"
#include "util.h"
#include "wirejson.h"

struct hook *
hook_new(const struct hook_conf *conf)
{
	struct hook *h = xcalloc(1, sizeof(*h));

	if (hook_http_init(h) == -1) {
		log_warnx("unable to set up webhooks: libcurl");
		free(h);
		return NULL;
	}
	h->conf = *conf;
	return h;
}

void
hook_dlv_free(struct hook_dlv *d)
{
	free(d->body);
	free(d);
}

struct hook_dlv *
hook_dlv_pop(struct hook *h, struct hook_wl *w)
{
	struct hook_dlv *d = w->head;

	w->head = d->next;
	if (w->head == NULL)
		w->tail = NULL;
	w->n--;
	h->queued--;
	return d;
}

static void
secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
wl_free(struct hook *h, struct hook_wl *w)
{
	hook_transfer_end(h, w);
	while (w->head != NULL)
		hook_dlv_free(hook_dlv_pop(h, w));
	free(w->id);
	free(w->url);
	secret_free(w->secret);
	free(w);
}

void
hook_free(struct hook *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->wls.n; i++)
		wl_free(h, h->wls.e[i].val);
	wltab_free(&h->wls);
	hook_http_fini(h);
	free(h);
}

const uint64_t *
hook_counters(const struct hook *h)
{
	return h->ctr;
}

size_t
hook_queued(const struct hook *h)
{
	return h->queued;
}

/* ---- workloads and their settings ---- */

static struct hook_wl *
wl_get(struct hook *h, const char *id)
{
	struct hook_wl *w;

	if ((w = wltab_get(&h->wls, id)) == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->id = xstrdup(id);
		wltab_put(&h->wls, w->id, w);
	}
	return w;
}

static void
wl_remove(struct hook *h, struct hook_wl *w)
{
	if (wltab_del(&h->wls, w->id) != w)
		abort(); /* our own index is broken */
	wl_free(h, w);
}

static void
wl_set(struct hook_wl *w, const char *url, const char *secret, uint64_t rev)
{
	free(w->url);
	secret_free(w->secret);
	w->url = xstrdup(url != NULL ? url : "");
	w->secret = xstrdup(secret != NULL ? secret : "");
	w->known_rev = rev;
	w->state = HW_KNOWN;
	w->fetch_failures = 0;
}

void
hook_learn(struct hook *h, const struct wire_workload *wl, uint64_t rev)
{
	struct hook_wl *w = wl_get(h, wl->id);

	if (rev < w->need_rev || (w->state == HW_KNOWN && rev < w->known_rev))
		return;
	wl_set(w, wl->notification_url, wl->notification_secret, rev);
}

/* Drops every waiting delivery of w (not the one under way). */
static void
drop_queue(struct hook *h, struct hook_wl *w, bool count)
{
	struct hook_dlv *keep = w->easy != NULL ? hook_dlv_pop(h, w) : NULL;

	while (w->head != NULL) {
		if (count)
			h->ctr[HC_DROPPED]++;
		hook_dlv_free(hook_dlv_pop(h, w));
	}
	if (keep != NULL) {
		keep->next = NULL;
		w->head = w->tail = keep;
		w->n = 1;
		h->queued++;
	}
}

void
hook_fetched(struct hook *h, const struct up_call *c)
{
	char err[WIRE_ERR_LEN];
	json_object *r = NULL, *v, *wj;
	struct hook_wl *w = wltab_get(&h->wls, c->id);
	const char *url = "", *secret = "", *code = "";
	uint64_t rev = 0;
	bool ok = false;

	if (w == NULL)
		return;
	if (w->state == HW_FETCHING)
		w->state = HW_UNKNOWN;
	if (c->status == CLNT_OK &&
	    (r = wire_to_json(c->reply.data, c->reply.len, err)) != NULL) {
		ok = json_object_object_get_ex(r, "ok", &v) &&
		     json_object_get_boolean(v);
		if (!ok && json_object_object_get_ex(r, "error", &v) &&
		    json_object_object_get_ex(v, "code", &v))
			code = json_object_get_string(v);
		if (ok && json_object_object_get_ex(r, "rev", &v))
			rev = (uint64_t)json_object_get_uint64(v);
		if (ok && json_object_object_get_ex(r, "workload", &wj)) {
			if (json_object_object_get_ex(wj, "notification_url",
			                              &v))
				url = json_object_get_string(v);
			if (json_object_object_get_ex(wj, "notification_secret",
			                              &v))
				secret = json_object_get_string(v);
		}
	}
	if (ok) {
		/* a put after the read makes it stale (ask again); a job
		 * may have brought a newer record meanwhile */
		if (rev >= w->need_rev &&
		    (w->state != HW_KNOWN || rev >= w->known_rev))
			wl_set(w, url, secret, rev);
	} else if (strcmp(code, "not_found") == 0) {
		log_info("webhooks of %s: no such workload any more; %zu "
		         "events dropped",
		         c->id, w->n);
		drop_queue(h, w, true);
		w->deleted = true;
	} else {
		h->ctr[HC_FETCH_FAILURES]++;
		w->fetch_failures++;
		w->fetch_at =
		    mono_ms() +
		    (w->fetch_failures < 5 ? 1000 << w->fetch_failures : 30000);
		log_warnx("unable to read workload %s for its webhooks: %s",
		          c->id,
		          c->status != CLNT_OK ? c->err
		          : *code != '\0'      ? code
		                               : "bad reply");
	}
	json_object_put(r);
}

/* ---- events ---- */

/* An op as the store writes it (upsert, missing, ...): it goes into a
 * header line. */
static bool
op_valid(const char *op)
{
	size_t i;

	for (i = 0; op[i] != '\0'; i++)
		if ((op[i] < 'a' || op[i] > 'z') && op[i] != '_')
			return false;
	return i > 0 && i < HOOK_EVENT_MAX - sizeof("container.");
}

/*
 * A container event, decoded strictly once into a: its record, and its
 * X-Recon-Event (container.<op>). -1 (err set) when the body is malformed
 * or no container event.
 */
static int
event_read(const void *body, size_t len, struct arena *a, struct wire_event *ev,
           char event[HOOK_EVENT_MAX], char *err)
{
	const char *why = NULL;

	if (wire_decode_event(body, len, a, ev, err) == -1)
		return -1;
	if (ev->type != WIRE_EV_CONTAINER)
		why = "not a container event";
	else if (ev->rev == 0)
		why = "no rev";
	else if (!op_valid(ev->op))
		why = "bad op";
	if (why != NULL) {
		snprintf(err, WIRE_ERR_LEN, "%s", why);
		return -1;
	}
	snprintf(event, HOOK_EVENT_MAX, "container.%s", ev->op);
	return 0;
}

/* The webhook body: the event, as JSON written from its record, plus its
 * topic, as one line. */
static char *
body_of(const struct wire_event *ev, const char *topic)
{
	json_object *o;
	char *s;

	/* a decoded event is within every bound the writer checks */
	if ((o = wire_event_json(ev)) == NULL)
		abort();
	json_object_object_add(o, "topic", json_object_new_string(topic));
	s = xstrdup(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

char *
hook_body(const char *topic, const void *body, size_t len, uint64_t *rev,
          char event[HOOK_EVENT_MAX], char *err)
{
	struct arena *a = arena_new();
	struct wire_event ev;
	char *s = NULL;

	if (event_read(body, len, a, &ev, event, err) == 0) {
		*rev = ev.rev;
		s = body_of(&ev, topic);
	}
	arena_free(a);
	return s;
}

static void
container_event(struct hook *h, const char *topic, const char *wid,
                const void *body, size_t len)
{
	char err[WIRE_ERR_LEN], event[HOOK_EVENT_MAX];
	struct arena *a = arena_new();
	struct wire_event ev;
	struct hook_wl *w;
	struct hook_dlv *d;

	if (event_read(body, len, a, &ev, event, err) == -1) {
		h->ctr[HC_BAD_EVENTS]++;
		log_warnx("dropped an event on %.200s: %s", topic, err);
		goto out;
	}
	h->ctr[HC_EVENTS]++;
	w = wl_get(h, wid);
	if (w->state == HW_KNOWN && (w->url == NULL || *w->url == '\0'))
		goto out; /* no webhook for this workload */
	d = xcalloc(1, sizeof(*d));
	d->body = body_of(&ev, topic);
	d->len = strlen(d->body);
	d->rev = ev.rev;
	memcpy(d->event, event, sizeof(d->event));
	if (w->n >= h->conf.queue_max) {
		/* keep the newest; the one under way stays */
		struct hook_dlv *old = w->head;
		if (w->easy != NULL && old->next != NULL) {
			struct hook_dlv *victim = old->next;
			old->next = victim->next;
			if (w->tail == victim)
				w->tail = old;
			w->n--;
			h->queued--;
			hook_dlv_free(victim);
		} else if (w->easy == NULL)
			hook_dlv_free(hook_dlv_pop(h, w));
		h->ctr[HC_DROPPED]++;
		log_warnx("webhook queue of %s is full: dropped its oldest "
		          "event",
		          wid);
	}
	if (w->tail != NULL)
		w->tail->next = d;
	else
		w->head = d;
	w->tail = d;
	w->n++;
	h->queued++;
out:
	arena_free(a);
}

static void
workload_event(struct hook *h, const char *wid, const void *body, size_t len)
{
	char err[WIRE_ERR_LEN];
	struct wire_event ev;
	struct arena *a = arena_new();
	struct hook_wl *w;
	int rc = wire_decode_event(body, len, a, &ev, err);

	/* ev's type means something only once it decoded */
	if (rc == 0 && ev.type != WIRE_EV_WORKLOAD) {
		snprintf(err, sizeof(err), "not a workload event");
		rc = -1;
	}
	if (rc == -1) {
		h->ctr[HC_BAD_EVENTS]++;
		log_warnx("dropped an event on workload/%s: %s", wid, err);
	} else if ((w = wltab_get(&h->wls, wid)) == NULL) {
		/* not tracked: the next container event asks the store */
	} else if (strcmp(ev.op, "put") == 0) {
		/* the secret may have changed too, and events carry none */
		if (ev.rev > w->need_rev)
			w->need_rev = ev.rev;
		w->deleted = false;
		if (w->known_rev < w->need_rev && w->state == HW_KNOWN)
			w->state = HW_UNKNOWN;
	} else if (strcmp(ev.op, "delete") == 0) {
		/* what is queued still goes (its delete events, say) */
		w->deleted = true;
	}
	arena_free(a);
}

void
hook_intake(struct hook *h, const void *msg, size_t len)
{
	char err[WIRE_ERR_LEN];
	struct wire_topic t;

	if (wire_topic_split(msg, len, &t, err) == -1) {
		h->ctr[HC_BAD_EVENTS]++;
		log_warnx("dropped an event: %s", err);
		return;
	}
	if (t.kind == WIRE_TOPIC_CONTAINER)
		container_event(h, t.topic, t.wid, t.body, t.blen);
	else if (t.kind == WIRE_TOPIC_WORKLOAD)
		workload_event(h, t.wid, t.body, t.blen);
}

/* ---- what goes next ---- */

void
hook_tick(struct hook *h)
{
	int64_t now = mono_ms();
	struct up_call *c;
	struct hook_wl *w;
	size_t i;

	hook_http_tick(h);
	for (i = 0; i < h->wls.n; i++) {
		w = h->wls.e[i].val;
		if (w->n == 0) {
			if (w->deleted && w->easy == NULL) {
				wl_remove(h, w);
				i--;
			}
			continue;
		}
		if (w->state == HW_UNKNOWN && now >= w->fetch_at &&
		    h->conf.up != NULL) {
			c = xcalloc(1, sizeof(*c));
			c->kind = UP_FETCH;
			snprintf(c->id, sizeof(c->id), "%s", w->id);
			if (upstream_submit(h->conf.up, c) == -1) {
				free(c);
				w->fetch_at = now + 1000;
				continue;
			}
			h->ctr[HC_FETCHES]++;
			w->state = HW_FETCHING;
		}
		if (w->state != HW_KNOWN || w->easy != NULL)
			continue;
		if (w->url == NULL || *w->url == '\0') {
			drop_queue(h, w, false);
			continue;
		}
		if (w->head->next_at <= now &&
		    h->inflight < h->conf.inflight_max)
			hook_transfer_start(h, w);
	}
}

int64_t
hook_timeout(const struct hook *h)
{
	int64_t t = h->timer_at, now = mono_ms(), at;
	const struct hook_wl *w;
	size_t i;

	for (i = 0; i < h->wls.n; i++) {
		w = h->wls.e[i].val;
		if (w->n == 0 || w->easy != NULL)
			continue;
		if (w->state == HW_UNKNOWN)
			at = w->fetch_at;
		else if (w->state == HW_KNOWN &&
		         h->inflight < h->conf.inflight_max)
			at = w->head->next_at;
		else
			continue;
		if (t < 0 || at < t)
			t = at;
	}
	if (t < 0)
		return -1;
	return t > now ? t - now : 0;
}
