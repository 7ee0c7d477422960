/*
 * notify.c: webhook deliveries. Per workload: what the store last told us
 * of its notification_url and secret, and a queue of signed container
 * events; one transfer at a time per workload, many workloads at once on
 * one curl multi handle driven by the dispatcher's poll loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "clnt.h"
#include "log.h"
#include "notify.h"
#include "util.h"
#include "wirejson.h"

const char *const notify_ctr_names[NC_COUNT] = {
    [NC_SENT] = "notifications_sent",
    [NC_FAILED] = "notifications_failed",
    [NC_RETRIED] = "notifications_retried",
    [NC_DROPPED] = "notifications_dropped",
    [NC_EVENTS] = "events",
    [NC_BAD_EVENTS] = "bad_events",
    [NC_FETCHES] = "workload_fetches",
    [NC_FETCH_FAILURES] = "workload_fetch_failures",
};

/* One event to deliver. */
struct dlv {
	struct dlv *next;
	uint64_t rev;
	char event[64]; /* X-Recon-Event */
	char *body;     /* JSON */
	size_t len;
	int attempts;
	int64_t next_at; /* mono: not before */
};

enum nw_state {
	NW_UNKNOWN,  /* ask the store */
	NW_FETCHING, /* asked */
	NW_KNOWN,
};

struct nwl {
	char *id;
	enum nw_state state;
	char *url, *secret;
	uint64_t known_rev; /* the record we hold was read at this rev */
	uint64_t need_rev;  /* a record older than this is out of date */
	bool deleted;
	struct dlv *head, *tail;
	size_t n;
	CURL *easy; /* the transfer of head under way */
	struct curl_slist *hdrs;
	int64_t fetch_at; /* mono: no fetch before (after a failure) */
	int fetch_failures;
};

struct nsock {
	curl_socket_t fd;
	int what; /* CURL_POLL_* */
};

struct notify {
	struct notify_conf conf;
	CURLM *multi;
	struct nwl **wls; /* sorted by id */
	size_t n, cap;
	struct nsock *socks;
	size_t nsocks, capsocks;
	int64_t timer_at; /* mono, curl's timeout; -1 none */
	size_t inflight, queued;
	uint64_t ctr[NC_COUNT];
};

void
notify_sign(const char *key, const void *body, size_t len, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	HMAC(EVP_sha256(), key, (int)strlen(key), body, len, md, &mdlen);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdlen] = '\0';
}

int
notify_verdict(int curl_code, long status)
{
	if (curl_code != CURLE_OK) {
		/* an address curl will never take is not worth a retry */
		if (curl_code == CURLE_UNSUPPORTED_PROTOCOL ||
		    curl_code == CURLE_URL_MALFORMAT)
			return -1;
		return 1;
	}
	if (status >= 200 && status < 300)
		return 0;
	if (status >= 500 || status == 0)
		return 1;
	/* 4xx is the receiver's no; 3xx is not followed (a redirect
	 * could take the signed body elsewhere) */
	return -1;
}

char *
notify_body(const char *topic, const void *body, size_t len, char *err)
{
	json_object *o;
	char *s;

	if ((o = wire_to_json(body, len, err)) == NULL)
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, WIRE_ERR_LEN, "not a map");
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "topic", json_object_new_string(topic));
	s = strdup(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (s == NULL)
		snprintf(err, WIRE_ERR_LEN, "out of memory");
	return s;
}

/* ---- curl's sockets and timer ---- */

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct notify *n = userp;
	struct nsock *ns;
	size_t i, cap;

	for (i = 0; i < n->nsocks; i++)
		if (n->socks[i].fd == fd)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < n->nsocks)
			n->socks[i] = n->socks[--n->nsocks];
		return 0;
	}
	if (i == n->nsocks) {
		if (n->nsocks == n->capsocks) {
			cap = n->capsocks ? n->capsocks * 2 : 16;
			if ((ns = realloc(n->socks, cap * sizeof(*ns))) ==
			    NULL) {
				log_warn("unable to watch a webhook socket");
				return -1;
			}
			n->socks = ns;
			n->capsocks = cap;
		}
		n->socks[n->nsocks++].fd = fd;
	}
	n->socks[i].what = what;
	return 0;
}

static int
timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct notify *n = userp;

	n->timer_at = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	return 0;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

struct notify *
notify_new(const struct notify_conf *conf)
{
	struct notify *n = calloc(1, sizeof(*n));

	if (n == NULL || (n->multi = curl_multi_init()) == NULL) {
		log_warnx("unable to set up webhooks: libcurl");
		free(n);
		return NULL;
	}
	n->conf = *conf;
	n->timer_at = -1;
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n);
	return n;
}

static void
dlv_free(struct dlv *d)
{
	free(d->body);
	free(d);
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
transfer_end(struct notify *n, struct nwl *w)
{
	if (w->easy == NULL)
		return;
	curl_multi_remove_handle(n->multi, w->easy);
	curl_easy_cleanup(w->easy);
	curl_slist_free_all(w->hdrs);
	w->easy = NULL;
	w->hdrs = NULL;
	n->inflight--;
}

static struct dlv *
dlv_pop(struct notify *n, struct nwl *w)
{
	struct dlv *d = w->head;

	w->head = d->next;
	if (w->head == NULL)
		w->tail = NULL;
	w->n--;
	n->queued--;
	return d;
}

static void
nwl_free(struct notify *n, struct nwl *w)
{
	transfer_end(n, w);
	while (w->head != NULL)
		dlv_free(dlv_pop(n, w));
	free(w->id);
	free(w->url);
	secret_free(w->secret);
	free(w);
}

void
notify_free(struct notify *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		nwl_free(n, n->wls[i]);
	free(n->wls);
	curl_multi_cleanup(n->multi);
	free(n->socks);
	free(n);
}

const uint64_t *
notify_counters(const struct notify *n)
{
	return n->ctr;
}

size_t
notify_queued(const struct notify *n)
{
	return n->queued;
}

/* ---- workloads ---- */

static size_t
nwl_find(const struct notify *n, const char *id, bool *found)
{
	size_t lo = 0, hi = n->n, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(id, n->wls[mid]->id)) == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static struct nwl *
nwl_get(struct notify *n, const char *id, bool create)
{
	struct nwl *w, **v;
	bool found;
	size_t i = nwl_find(n, id, &found), cap;

	if (found)
		return n->wls[i];
	if (!create)
		return NULL;
	if (n->n == n->cap) {
		cap = n->cap ? n->cap * 2 : 16;
		if ((v = realloc(n->wls, cap * sizeof(*v))) == NULL)
			goto nomem;
		n->wls = v;
		n->cap = cap;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto nomem;
	if ((w->id = strdup(id)) == NULL) {
		free(w);
		goto nomem;
	}
	memmove(&n->wls[i + 1], &n->wls[i], (n->n - i) * sizeof(*n->wls));
	n->wls[i] = w;
	n->n++;
	return w;
nomem:
	log_warn("unable to track workload %s for webhooks", id);
	return NULL;
}

static void
nwl_remove(struct notify *n, struct nwl *w)
{
	bool found;
	size_t i = nwl_find(n, w->id, &found);

	if (!found || n->wls[i] != w)
		abort(); /* our own index is broken */
	memmove(&n->wls[i], &n->wls[i + 1], (n->n - i - 1) * sizeof(*n->wls));
	n->n--;
	nwl_free(n, w);
}

static void
nwl_set(struct nwl *w, const char *url, const char *secret, uint64_t rev)
{
	char *u = strdup(url != NULL ? url : "");
	char *s = strdup(secret != NULL ? secret : "");

	if (u == NULL || s == NULL) {
		log_warn("unable to keep the webhook settings of %s", w->id);
		free(u);
		secret_free(s);
		return;
	}
	free(w->url);
	secret_free(w->secret);
	w->url = u;
	w->secret = s;
	w->known_rev = rev;
	w->state = NW_KNOWN;
	w->fetch_failures = 0;
}

void
notify_learn(struct notify *n, const struct wire_workload *wl, uint64_t rev)
{
	struct nwl *w = nwl_get(n, wl->id, true);

	if (w == NULL || rev < w->need_rev ||
	    (w->state == NW_KNOWN && rev < w->known_rev))
		return;
	nwl_set(w, wl->notification_url, wl->notification_secret, rev);
}

/* Drops every waiting delivery of w (not the one under way). */
static void
drop_queue(struct notify *n, struct nwl *w, bool count)
{
	struct dlv *keep = w->easy != NULL ? dlv_pop(n, w) : NULL;

	while (w->head != NULL) {
		if (count)
			n->ctr[NC_DROPPED]++;
		dlv_free(dlv_pop(n, w));
	}
	if (keep != NULL) {
		keep->next = NULL;
		w->head = w->tail = keep;
		w->n = 1;
		n->queued++;
	}
}

static void
container_event(struct notify *n, const char *topic, const char *wid,
                const void *body, size_t len)
{
	char err[WIRE_ERR_LEN];
	struct wire_event ev;
	struct arena *a;
	struct nwl *w;
	struct dlv *d;

	a = arena_new();
	if (wire_decode_event(body, len, a, &ev, err) == -1 ||
	    ev.type != WIRE_EV_CONTAINER) {
		n->ctr[NC_BAD_EVENTS]++;
		log_warnx("dropped an event on %.200s: %s", topic,
		          ev.type != WIRE_EV_CONTAINER ? "not a container event"
		                                       : err);
		arena_free(a);
		return;
	}
	n->ctr[NC_EVENTS]++;
	if ((w = nwl_get(n, wid, true)) == NULL ||
	    (w->state == NW_KNOWN && (w->url == NULL || *w->url == '\0'))) {
		arena_free(a);
		return; /* no webhook for this workload */
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->body = notify_body(topic, body, len, err)) == NULL) {
		log_warnx("dropped the webhook of %s: %s", topic,
		          d == NULL ? "out of memory" : err);
		free(d);
		arena_free(a);
		return;
	}
	d->len = strlen(d->body);
	d->rev = ev.rev;
	snprintf(d->event, sizeof(d->event), "container.%s", ev.op);
	arena_free(a);
	if (w->n >= n->conf.queue_max) {
		/* keep the newest; the one under way stays */
		struct dlv *old = w->head;
		if (w->easy != NULL && old->next != NULL) {
			struct dlv *victim = old->next;
			old->next = victim->next;
			if (w->tail == victim)
				w->tail = old;
			w->n--;
			n->queued--;
			dlv_free(victim);
		} else if (w->easy == NULL)
			dlv_free(dlv_pop(n, w));
		n->ctr[NC_DROPPED]++;
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
	n->queued++;
}

static void
workload_event(struct notify *n, const char *wid, const void *body, size_t len)
{
	char err[WIRE_ERR_LEN];
	struct wire_event ev;
	struct arena *a = arena_new();
	struct nwl *w;

	if (wire_decode_event(body, len, a, &ev, err) == -1 ||
	    ev.type != WIRE_EV_WORKLOAD) {
		n->ctr[NC_BAD_EVENTS]++;
		log_warnx("dropped an event on workload/%s: %s", wid,
		          ev.type != WIRE_EV_WORKLOAD ? "not a workload event"
		                                      : err);
	} else if ((w = nwl_get(n, wid, false)) == NULL) {
		/* not tracked: the next container event asks the store */
	} else if (strcmp(ev.op, "put") == 0) {
		/* the secret may have changed too, and events carry none */
		if (ev.rev > w->need_rev)
			w->need_rev = ev.rev;
		w->deleted = false;
		if (w->known_rev < w->need_rev && w->state == NW_KNOWN)
			w->state = NW_UNKNOWN;
	} else if (strcmp(ev.op, "delete") == 0) {
		/* what is queued still goes (its delete events, say) */
		w->deleted = true;
	}
	arena_free(a);
}

void
notify_message(struct notify *n, const void *msg, size_t len)
{
	char err[WIRE_ERR_LEN];
	struct wire_topic t;

	if (wire_topic_split(msg, len, &t, err) == -1) {
		n->ctr[NC_BAD_EVENTS]++;
		log_warnx("dropped an event: %s", err);
		return;
	}
	if (t.kind == WIRE_TOPIC_CONTAINER)
		container_event(n, t.topic, t.wid, t.body, t.blen);
	else if (t.kind == WIRE_TOPIC_WORKLOAD)
		workload_event(n, t.wid, t.body, t.blen);
}

void
notify_fetched(struct notify *n, const struct up_call *c)
{
	char err[WIRE_ERR_LEN];
	json_object *r = NULL, *v, *w;
	struct nwl *nw = nwl_get(n, c->id, false);
	const char *url = "", *secret = "", *code = "";
	uint64_t rev = 0;
	bool ok = false;

	if (nw == NULL)
		return;
	if (nw->state == NW_FETCHING)
		nw->state = NW_UNKNOWN;
	if (c->status == CLNT_OK &&
	    (r = wire_to_json(c->reply.data, c->reply.len, err)) != NULL) {
		ok = json_object_object_get_ex(r, "ok", &v) &&
		     json_object_get_boolean(v);
		if (!ok && json_object_object_get_ex(r, "error", &v) &&
		    json_object_object_get_ex(v, "code", &v))
			code = json_object_get_string(v);
		if (ok && json_object_object_get_ex(r, "rev", &v))
			rev = (uint64_t)json_object_get_uint64(v);
		if (ok && json_object_object_get_ex(r, "workload", &w)) {
			if (json_object_object_get_ex(w, "notification_url",
			                              &v))
				url = json_object_get_string(v);
			if (json_object_object_get_ex(w, "notification_secret",
			                              &v))
				secret = json_object_get_string(v);
		}
	}
	if (ok) {
		/* a put after the read makes it stale (ask again); a job
		 * may have brought a newer record meanwhile */
		if (rev >= nw->need_rev &&
		    (nw->state != NW_KNOWN || rev >= nw->known_rev))
			nwl_set(nw, url, secret, rev);
	} else if (strcmp(code, "not_found") == 0) {
		log_info("webhooks of %s: no such workload any more; %zu "
		         "events dropped",
		         c->id, nw->n);
		drop_queue(n, nw, true);
		nw->deleted = true;
	} else {
		n->ctr[NC_FETCH_FAILURES]++;
		nw->fetch_failures++;
		nw->fetch_at = mono_ms() + (nw->fetch_failures < 5
		                                ? 1000 << nw->fetch_failures
		                                : 30000);
		log_warnx("unable to read workload %s for its webhooks: %s",
		          c->id,
		          c->status != CLNT_OK ? c->err
		          : *code != '\0'      ? code
		                               : "bad reply");
	}
	json_object_put(r);
}

/* ---- transfers ---- */

static void
transfer_start(struct notify *n, struct nwl *w)
{
	struct dlv *d = w->head;
	struct curl_slist *h = NULL, *t;
	char line[256], hex[2 * EVP_MAX_MD_SIZE + 1];
	CURL *e;

	if ((e = curl_easy_init()) == NULL) {
		log_warnx("unable to start a webhook of %s: libcurl", w->id);
		d->next_at = mono_ms() + n->conf.backoff_ms;
		return;
	}
	notify_sign(w->secret, d->body, d->len, hex);
	const char *lines[] = {
	    "Content-Type: application/json",
	    "User-Agent: recon-dispatcher/" RECON_VERSION,
	    "Expect:",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if ((t = curl_slist_append(h, lines[i])) == NULL)
			goto nomem;
		h = t;
	}
	snprintf(line, sizeof(line), "X-Recon-Event: %s", d->event);
	if ((t = curl_slist_append(h, line)) == NULL)
		goto nomem;
	h = t;
	snprintf(line, sizeof(line), "X-Recon-Delivery: %llu",
	         (unsigned long long)d->rev);
	if ((t = curl_slist_append(h, line)) == NULL)
		goto nomem;
	h = t;
	snprintf(line, sizeof(line), "X-Recon-Signature: sha256=%s", hex);
	if ((t = curl_slist_append(h, line)) == NULL)
		goto nomem;
	h = t;
	curl_easy_setopt(e, CURLOPT_URL, w->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)d->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)n->conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)n->conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PRIVATE, w);
	if (curl_multi_add_handle(n->multi, e) != CURLM_OK) {
		log_warnx("unable to start a webhook of %s: libcurl", w->id);
		d->next_at = mono_ms() + n->conf.backoff_ms;
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		return;
	}
	w->easy = e;
	w->hdrs = h;
	d->attempts++;
	n->inflight++;
	log_debug("webhook of %s: POST rev %llu to %s (attempt %d)", w->id,
	          (unsigned long long)d->rev, w->url, d->attempts);
	return;
nomem:
	log_warnx("unable to start a webhook of %s: out of memory", w->id);
	d->next_at = mono_ms() + n->conf.backoff_ms;
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
}

static void
transfer_done(struct notify *n, CURL *e, CURLcode res)
{
	struct nwl *w = NULL;
	struct dlv *d;
	long status = 0;
	int64_t back;
	int v, i;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&w);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (w == NULL || w->easy != e)
		abort(); /* a transfer we do not know of */
	transfer_end(n, w);
	d = w->head;
	v = notify_verdict((int)res, status);
	if (v == 0) {
		n->ctr[NC_SENT]++;
		log_debug("webhook of %s: rev %llu delivered (%ld)", w->id,
		          (unsigned long long)d->rev, status);
		dlv_free(dlv_pop(n, w));
	} else if (v == 1 && d->attempts < n->conf.attempts) {
		n->ctr[NC_RETRIED]++;
		back = n->conf.backoff_ms;
		for (i = 1; i < d->attempts && back < n->conf.backoff_max_ms;
		     i++)
			back *= 2;
		if (back > n->conf.backoff_max_ms)
			back = n->conf.backoff_max_ms;
		d->next_at = mono_ms() + back;
		log_info("webhook of %s: rev %llu to %s: %s; retry in %lld ms",
		         w->id, (unsigned long long)d->rev, w->url,
		         res != CURLE_OK ? curl_easy_strerror(res) : "HTTP 5xx",
		         (long long)back);
	} else {
		n->ctr[NC_FAILED]++;
		log_warnx("webhook of %s: rev %llu to %s failed after %d "
		          "attempts: %s (HTTP %ld)",
		          w->id, (unsigned long long)d->rev, w->url,
		          d->attempts,
		          res != CURLE_OK ? curl_easy_strerror(res) : "refused",
		          status);
		dlv_free(dlv_pop(n, w));
	}
}

static void
check_done(struct notify *n)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(n->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			transfer_done(n, m->easy_handle, m->data.result);
}

void
notify_tick(struct notify *n)
{
	int64_t now = mono_ms();
	struct up_call *c;
	struct nwl *w;
	size_t i;
	int running;

	if (n->timer_at >= 0 && now >= n->timer_at) {
		n->timer_at = -1;
		curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0,
		                         &running);
	}
	check_done(n);
	for (i = 0; i < n->n; i++) {
		w = n->wls[i];
		if (w->n == 0) {
			if (w->deleted && w->easy == NULL) {
				nwl_remove(n, w);
				i--;
			}
			continue;
		}
		if (w->state == NW_UNKNOWN && now >= w->fetch_at &&
		    n->conf.up != NULL) {
			if ((c = calloc(1, sizeof(*c))) == NULL)
				continue;
			c->kind = UP_FETCH;
			snprintf(c->id, sizeof(c->id), "%s", w->id);
			if (upstream_submit(n->conf.up, c) == -1) {
				free(c);
				w->fetch_at = now + 1000;
				continue;
			}
			n->ctr[NC_FETCHES]++;
			w->state = NW_FETCHING;
		}
		if (w->state != NW_KNOWN || w->easy != NULL)
			continue;
		if (w->url == NULL || *w->url == '\0') {
			drop_queue(n, w, false);
			continue;
		}
		if (w->head->next_at <= now &&
		    n->inflight < n->conf.inflight_max)
			transfer_start(n, w);
	}
}

size_t
notify_nfds(const struct notify *n)
{
	return n->nsocks;
}

size_t
notify_pollfds(const struct notify *n, struct pollfd *pfd, size_t max)
{
	size_t i;

	for (i = 0; i < n->nsocks && i < max; i++) {
		pfd[i].fd = n->socks[i].fd;
		pfd[i].events = 0;
		if (n->socks[i].what & CURL_POLL_IN)
			pfd[i].events |= POLLIN;
		if (n->socks[i].what & CURL_POLL_OUT)
			pfd[i].events |= POLLOUT;
		pfd[i].revents = 0;
	}
	return i;
}

void
notify_io(struct notify *n, const struct pollfd *pfd, size_t cnt)
{
	size_t i;
	int flags, running;

	for (i = 0; i < cnt; i++) {
		if (pfd[i].revents == 0)
			continue;
		flags = 0;
		if (pfd[i].revents & POLLIN)
			flags |= CURL_CSELECT_IN;
		if (pfd[i].revents & POLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(n->multi, pfd[i].fd, flags, &running);
	}
	check_done(n);
}

int64_t
notify_timeout(const struct notify *n)
{
	int64_t t = n->timer_at, now = mono_ms(), at;
	const struct nwl *w;
	size_t i;

	for (i = 0; i < n->n; i++) {
		w = n->wls[i];
		if (w->n == 0 || w->easy != NULL)
			continue;
		if (w->state == NW_UNKNOWN)
			at = w->fetch_at;
		else if (w->state == NW_KNOWN &&
		         n->inflight < n->conf.inflight_max)
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
