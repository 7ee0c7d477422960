/*
 * sub.c: the subscriber client of include/recon-client.h: a SUB socket on
 * `events`, the store client (store_clnt.h) for events.since, and the
 * bookkeeping that turns a lossy stream plus the store's change log into
 * every event once, in order.
 * Over 600 lines as one state machine (position, queue, fills, probes of a
 * quiet stream) that does not split without exposing its state.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "arena.h"
#include "clnt.h"
#include "log.h"
#include "nngx.h"
#include "recon-client.h"
#include "store_clnt.h"
#include "util.h"
#include "wake.h"
#include "wire.h"
#include "wirejson.h"

#define SUB_MAX_MSG    (64u << 20) /* largest event or reply taken */
#define SUB_FILL_LIMIT 1000        /* events asked for per events.since */
#define SUB_RECV_BUF   8192        /* published messages nng queues (max) */
/* A quiet stream is checked against the log this long after its last
 * new message (a lost tail), or after the last check while only copies
 * already had arrive (a subscriber behind its own queue), then every
 * SUB_HEARTBEAT_MS (a lost connection, a store that restarted). */
#define SUB_TAIL_MS      100
#define SUB_HEARTBEAT_MS 1000
#define SUB_RETRY_MS     250  /* after a failed events.since */
#define SUB_CLOSE_MS     2000 /* longest wait for nng to close the sockets */

/* One event waiting to be handed over: topic, NUL, body in one block. */
struct entry {
	char *data;
	size_t tlen; /* topic length, NUL excluded */
	size_t len;  /* the body's */
	bool filled; /* came from events.since */
	struct arena *a;
	struct wire_event ev;
};

struct recon_sub {
	char *events_url, *ctl_url;
	struct nngx_tls tls; /* for tls+tcp:// (recon_sub_set_tls) */
	nng_socket events;
	struct clnt *ctl;       /* store.ctl, dialled once */
	struct clnt_result res; /* the last events.since */
	nng_aio *rx; /* reused for every receive: nng_recvmsg allocates one */
	bool open;
	int recv_fd;
	/* nng's pipe callbacks run on its threads: counters, and a byte in
	 * the wake pipe to wake the poll */
	struct wake wake;        /* an event or a pipe change for the poll */
	atomic_uint events_adds; /* connections made on `events` */
	unsigned events_seen;    /* of them, already acted upon */

	char **follow; /* workload ids; none: everything */
	size_t nfollow;
	int64_t timeout_ms;

	bool started, compacted;
	bool need_fill; /* the position may be behind: ask the log */
	bool probing;   /* the pending fill is a check of a quiet stream */
	bool stale;     /* copies already had arrived since the last check */
	bool in_step;   /* the last published event was the next one */
	uint64_t upto; /* every followed event <= upto is delivered or queued */
	struct entry *q; /* queued, in revision order */
	size_t qhead, qlen, qcap;
	struct entry cur; /* the event last handed over */
	int64_t last_rx_ms, last_check_ms, retry_at_ms;
	bool down;       /* the last fill failed */
	bool unanswered; /* and the store did not answer it */

	struct recon_sub_stats st;
	char err[256];
};

static void sub_err(struct recon_sub *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sub_err(struct recon_sub *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

static void
entry_free(struct entry *e)
{
	free(e->data);
	arena_free(e->a);
	memset(e, 0, sizeof(*e));
}

static void
pending_clear(struct recon_sub *s)
{
	size_t i;

	for (i = s->qhead; i < s->qlen; i++)
		entry_free(&s->q[i]);
	s->qhead = s->qlen = 0;
}

static void
pending_push(struct recon_sub *s, struct entry *e)
{
	if (s->qhead > 0 && s->qhead == s->qlen)
		s->qhead = s->qlen = 0;
	if (s->qlen == s->qcap) {
		s->qcap = s->qcap ? s->qcap * 2 : 64;
		s->q = xreallocarray(s->q, s->qcap, sizeof(*s->q));
	}
	s->q[s->qlen++] = *e;
	memset(e, 0, sizeof(*e));
}

static bool
followed(const struct recon_sub *s, const char *topic)
{
	size_t i;

	if (s->nfollow == 0)
		return true;
	for (i = 0; i < s->nfollow; i++)
		if (wire_topic_in_workload(topic, s->follow[i]))
			return true;
	return false;
}

/*
 * Decodes body into e and keeps a copy of topic, NUL, body. A NULL topic
 * (an event from the log) is rebuilt from the body. -1 if malformed.
 */
static int
entry_make(struct recon_sub *s, struct entry *e, const char *topic,
           const void *body, size_t len)
{
	char err[WIRE_ERR_LEN], tbuf[WIRE_TOPIC_MAX + 1];
	size_t tlen;

	memset(e, 0, sizeof(*e));
	e->a = arena_new();
	if (wire_decode_event(body, len, e->a, &e->ev, err) == -1) {
		s->st.errors++;
		log_warnx("dropping a malformed event (%.64s): %s",
		          topic != NULL ? topic : "from the log", err);
		entry_free(e);
		return -1;
	}
	if (topic == NULL) {
		if (wire_event_topic(tbuf, sizeof(tbuf), &e->ev) == -1) {
			s->st.errors++;
			log_warnx("dropping event %llu: topic too long",
			          (unsigned long long)e->ev.rev);
			entry_free(e);
			return -1;
		}
		topic = tbuf;
	}
	tlen = strlen(topic);
	e->data = xmalloc(tlen + 1 + len);
	memcpy(e->data, topic, tlen + 1);
	memcpy(e->data + tlen + 1, body, len);
	e->tlen = tlen;
	e->len = len;
	return 0;
}

static void
events_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct recon_sub *s = arg;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&s->events_adds, 1);
	wake_poke(&s->wake);
}

/* store.ctl's connections come and go (counted by the client). */
static void
ctl_pipe_cb(void *arg)
{
	struct recon_sub *s = arg;

	wake_poke(&s->wake);
}

static int
pipe_cbs_set(nng_socket sock, nng_pipe_cb cb, void *arg)
{
	static const nng_pipe_ev evs[] = {
	    NNG_PIPE_EV_ADD_PRE,
	    NNG_PIPE_EV_ADD_POST,
	    NNG_PIPE_EV_REM_POST,
	};
	size_t i;
	int rv;

	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if ((rv = nng_pipe_notify(sock, evs[i], cb, arg)) != 0)
			return rv;
	return 0;
}

struct recon_sub *
recon_sub_open_url(const char *events_url, const char *ctl_url)
{
	struct recon_sub *s;

	s = xcalloc(1, sizeof(*s));
	s->recv_fd = -1;
	s->wake = (struct wake)WAKE_CLOSED;
	s->timeout_ms = 5000;
	s->events_url = xstrdup(events_url);
	s->ctl_url = xstrdup(ctl_url);
	if (wake_open(&s->wake) == -1) {
		log_warn("unable to open a subscriber");
		recon_sub_close(s);
		return NULL;
	}
	return s;
}

struct recon_sub *
recon_sub_open(const char *run_dir)
{
	char ev[1024], ctl[1024];

	if (nngx_url(ev, sizeof(ev), NULL, run_dir, "events") == -1 ||
	    nngx_url(ctl, sizeof(ctl), NULL, run_dir, "store.ctl") == -1) {
		log_warnx("unable to open a subscriber: run dir path too "
		          "long");
		return NULL;
	}
	return recon_sub_open_url(ev, ctl);
}

int
recon_sub_follow(struct recon_sub *s, const char *wid)
{
	if (wid == NULL || !id_valid(wid)) {
		sub_err(s, "bad workload id: must match "
		           "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");
		return -1;
	}
	if (s->open) {
		sub_err(s, "follow before start");
		return -1;
	}
	s->follow =
	    xreallocarray(s->follow, s->nfollow + 1, sizeof(*s->follow));
	s->follow[s->nfollow++] = xstrdup(wid);
	return 0;
}

int
recon_sub_set_tls(struct recon_sub *s, const char *cert, const char *key,
                  const char *ca)
{
	struct nngx_tls t;
	char err[256];

	if (s->open) {
		sub_err(s, "TLS before start");
		return -1;
	}
	if (str_empty(cert) || str_empty(key) || str_empty(ca)) {
		sub_err(s, "TLS takes a certificate, its key and a CA file");
		return -1;
	}
	if (nngx_tls_load(&t, cert, key, ca, err, sizeof(err)) == -1) {
		sub_err(s, "%s", err);
		return -1;
	}
	nngx_tls_free(&s->tls);
	s->tls = t;
	return 0;
}

void
recon_sub_set_timeout(struct recon_sub *s, int64_t ms)
{
	s->timeout_ms = ms > 0 ? ms : 1;
	if (s->ctl != NULL)
		clnt_set_timeout(s->ctl, s->timeout_ms);
}

/* Subscribes by byte prefix: container/<wid>/ and workload/<wid> plus the
 * NUL that ends the topic, so that "a" does not take "ab"'s events. */
static int
subscribe(struct recon_sub *s)
{
	char buf[WIRE_TOPIC_MAX + 1];
	size_t i;
	int rv, n;

	if (s->nfollow == 0)
		return nng_socket_set(s->events, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	for (i = 0; i < s->nfollow; i++) {
		n = snprintf(buf, sizeof(buf), "container/%s/", s->follow[i]);
		if ((rv = nng_socket_set(s->events, NNG_OPT_SUB_SUBSCRIBE, buf,
		                         (size_t)n)) != 0)
			return rv;
		n = snprintf(buf, sizeof(buf), "workload/%s", s->follow[i]);
		if ((rv = nng_socket_set(s->events, NNG_OPT_SUB_SUBSCRIBE, buf,
		                         (size_t)n + 1)) != 0)
			return rv;
	}
	return 0;
}

/* Opens both sockets, callbacks first, then dials in the background
 * (nng redials by itself, so a restarted store is found again). */
static int
sockets_open(struct recon_sub *s)
{
	char err[256];
	int rv;

	/* a tls+tcp:// address without recon_sub_set_tls: said now, not
	 * as a wait */
	if (nngx_url_check(s->events_url, &s->tls, true, err, sizeof(err)) ==
	        -1 ||
	    nngx_url_check(s->ctl_url, &s->tls, true, err, sizeof(err)) == -1) {
		sub_err(s, "%s", err);
		return -1;
	}
	if ((rv = nng_sub0_open(&s->events)) != 0) {
		sub_err(s, "unable to open a sub socket: %s", nng_strerror(rv));
		return -1;
	}
	/* events.since is a read, but the client never resends: our own
	 * timeout retries; nng redials a restarted store by itself */
	if ((s->ctl = clnt_dial_tls(s->ctl_url, &s->tls, s->timeout_ms,
	                            ctl_pipe_cb, s, err, sizeof(err))) ==
	    NULL) {
		nng_close(s->events);
		sub_err(s, "%s", err);
		return -1;
	}
	s->open = true;
	if ((rv = nng_aio_alloc(&s->rx, NULL, NULL)) != 0) {
		sub_err(s, "unable to set up the sockets: %s",
		        nng_strerror(rv));
		return -1;
	}
	/* a bigger queue only makes gap fills rarer; nng caps it */
	nng_socket_set_int(s->events, NNG_OPT_RECVBUF, SUB_RECV_BUF);
	if ((rv = nng_socket_set_size(s->events, NNG_OPT_RECVMAXSZ,
	                              SUB_MAX_MSG)) != 0 ||
	    (rv = subscribe(s)) != 0 ||
	    (rv = pipe_cbs_set(s->events, events_pipe_cb, s)) != 0) {
		sub_err(s, "unable to set up the sockets: %s",
		        nng_strerror(rv));
		return -1;
	}
	nng_socket_set_ms(s->events, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(s->events, NNG_OPT_RECONNMAXT, 1000);
	if ((rv = nngx_dial_url(s->events, s->events_url, &s->tls,
	                        NNG_FLAG_NONBLOCK)) != 0) {
		sub_err(s, "unable to dial %s: %s", s->events_url,
		        nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_socket_get_int(s->events, NNG_OPT_RECVFD, &s->recv_fd)) !=
	    0) {
		sub_err(s, "unable to poll %s: %s", s->events_url,
		        nng_strerror(rv));
		return -1;
	}
	return 0;
}

/*
 * One events.since request from the position. Queues what it returns;
 * fewer events than asked for means the log was read to its head, and
 * the position moves there. Returns 0, RECON_SUB_COMPACTED, or -1 when
 * the store did not answer or answered nonsense (retried later).
 */
static int
fill(struct recon_sub *s, uint64_t from, uint64_t limit)
{
	struct clnt_result *res = &s->res;
	struct wire_span *sp = NULL;
	struct entry e;
	struct wire_stats_reply stats;
	uint64_t head = 0, last = from, before;
	size_t i, n = 0;
	int r = -1, rc;

	s->unanswered = false;
	if (clnt_connected(s->ctl) <= 0) {
		sub_err(s, "%s: not connected", s->ctl_url);
		s->unanswered = true;
		s->st.errors++;
		return -1;
	}
	/* from now on: only the head, which the stats reply carries; else
	 * one workload: the store filters; several: we do */
	if (from == RECON_SUB_NOW)
		rc = store_clnt_stats(s->ctl, res, &stats);
	else
		rc = store_clnt_events_since(
		    s->ctl, from, limit, s->nfollow == 1 ? s->follow[0] : NULL,
		    res, &head, &sp, &n);
	switch (rc) {
	case CLNT_OK:
		break;
	case CLNT_REFUSED:
		sub_err(s, "%s: %s: %s",
		        from == RECON_SUB_NOW ? "stats" : "events.since",
		        res->code, res->message);
		/* behind the log, or ahead of a store that lost its history:
		 * either way, list again (SPEC §5) */
		if (strcmp(res->code, "compacted") == 0 ||
		    strcmp(res->code, "ahead") == 0) {
			s->compacted = true;
			r = RECON_SUB_COMPACTED;
		}
		goto out;
	case CLNT_BADREPLY:
		sub_err(s, "bad %s reply: %s",
		        from == RECON_SUB_NOW ? "stats" : "events.since",
		        res->err);
		goto out;
	default:
		sub_err(s, "%s", res->err);
		s->unanswered = true;
		goto out;
	}
	if (from == RECON_SUB_NOW)
		head = stats.rev;
	if (from != RECON_SUB_NOW && head < from) {
		/* a store whose log is younger than our position: another
		 * database, so what we hold means nothing there */
		sub_err(s,
		        "the store's head revision %llu is below our "
		        "position %llu: its history was replaced",
		        (unsigned long long)head, (unsigned long long)from);
		s->compacted = true;
		r = RECON_SUB_COMPACTED;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (entry_make(s, &e, NULL, sp[i].p, sp[i].len) == -1) {
			sub_err(s, "events.since: a malformed event");
			goto out;
		}
		if (e.ev.rev <= last) {
			sub_err(s, "events.since: rev %llu out of order",
			        (unsigned long long)e.ev.rev);
			entry_free(&e);
			goto out;
		}
		last = e.ev.rev;
		if (!followed(s, e.data)) {
			entry_free(&e);
			continue;
		}
		e.filled = true;
		pending_push(s, &e);
	}
	s->st.fills++;
	before = s->upto;
	if (from == RECON_SUB_NOW)
		s->upto = head;
	else if (n == limit)
		s->upto = last; /* more to read */
	else
		s->upto = head > last ? head : last;
	/* the copies of what the log brought may still be on their way */
	if (s->upto != before)
		s->in_step = false;
	s->need_fill = from != RECON_SUB_NOW && n == limit;
	r = 0;
out:
	if (r == -1)
		s->st.errors++;
	return r;
}

int
recon_sub_start(struct recon_sub *s, uint64_t since)
{
	struct pollfd pfd;
	int64_t deadline;
	int r;

	pending_clear(s);
	entry_free(&s->cur);
	s->compacted = s->need_fill = s->probing = s->down = false;
	s->in_step = false;
	s->err[0] = '\0';
	if (!s->open && sockets_open(s) == -1)
		return RECON_SUB_ERROR;
	s->started = true;
	/* both connections first: then nothing published after the head
	 * we read below can slip past us unseen */
	deadline = mono_ms() + s->timeout_ms;
	pfd.fd = wake_fd(&s->wake);
	pfd.events = POLLIN;
	while (clnt_connected(s->ctl) <= 0 ||
	       atomic_load(&s->events_adds) == 0) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			sub_err(s, "%s unreachable",
			        clnt_connected(s->ctl) <= 0 ? s->ctl_url
			                                    : s->events_url);
			return RECON_SUB_UNREACHABLE;
		}
		if (poll(&pfd, 1, (int)left) > 0)
			wake_drain(&s->wake);
	}
	s->events_seen = atomic_load(&s->events_adds);
	if (since == RECON_SUB_NOW)
		r = fill(s, RECON_SUB_NOW, 1);
	else {
		s->upto = since;
		r = fill(s, since, SUB_FILL_LIMIT);
	}
	if (r == RECON_SUB_COMPACTED)
		return r;
	if (r == -1)
		return s->unanswered ? RECON_SUB_UNREACHABLE : RECON_SUB_ERROR;
	s->last_check_ms = mono_ms();
	return RECON_SUB_OK;
}

/*
 * One published message. Returns 1 when it changed what to do next (an
 * event queued, or a fill now needed), 0 when it was dropped.
 *
 * Each event is read once. A subscriber in step gets each event right
 * after the last, and decodes it in full at once. One that fell behind
 * (after a fill, or a copy it already had) drops many copies it already
 * has or will fill: it reads their rev alone, and decodes only the one it
 * keeps, which puts it in step again.
 */
static int
take(struct recon_sub *s, nng_msg *m)
{
	char err[WIRE_ERR_LEN];
	struct wire_topic t;
	struct entry e;
	uint64_t rev;
	bool decoded = false;

	if (wire_topic_split(nng_msg_body(m), nng_msg_len(m), &t, err) == -1) {
		s->st.errors++;
		log_warnx("dropping a published message: %s", err);
		return 0;
	}
	if (!followed(s, t.topic))
		return 0;
	if (s->in_step && !s->need_fill) {
		if (entry_make(s, &e, t.topic, t.body, t.blen) == -1)
			return 0;
		rev = e.ev.rev;
		decoded = true;
	} else if (wire_peek_rev(t.body, t.blen, &rev, err) == -1) {
		s->st.errors++;
		log_warnx("dropping a malformed event (%.64s): %s", t.topic,
		          err);
		return 0;
	}
	if (rev != s->upto + 1 || s->need_fill) {
		/* not kept: read the next ones' rev first */
		if (decoded)
			entry_free(&e);
		s->in_step = false;
	}
	if (rev <= s->upto) {
		/* no sign of new life: a subscriber behind a full queue
		 * of these still checks the log's tail soon */
		s->st.duplicates++;
		s->stale = true;
		return 0;
	}
	s->last_rx_ms = mono_ms();
	if (s->need_fill)
		return 0; /* the fill under way brings it */
	if (rev != s->upto + 1) {
		/* a gap; following workloads, the revisions in between may
		 * all be other workloads' events, but only the log knows */
		s->st.gaps++;
		s->need_fill = true;
		return 1;
	}
	if (!decoded) {
		if (entry_make(s, &e, t.topic, t.body, t.blen) == -1)
			return 0;
		if (e.ev.rev != rev) {
			/* a second `rev` key; decode and peek disagree */
			s->st.errors++;
			log_warnx("dropping a malformed event (%.64s): two "
			          "revs",
			          t.topic);
			entry_free(&e);
			return 0;
		}
	}
	pending_push(s, &e);
	s->upto = rev;
	s->in_step = true;
	return 1;
}

/* Published messages until one matters; 1 then, 0 when none is left. */
static int
take_published(struct recon_sub *s)
{
	nng_msg *m;
	int rv, r;

	for (;;) {
		/* no callback: it completes before nng_recv_aio returns */
		nng_aio_set_timeout(s->rx, NNG_DURATION_ZERO);
		nng_recv_aio(s->events, s->rx);
		nng_aio_wait(s->rx);
		rv = nng_aio_result(s->rx);
		if (rv == NNG_ETIMEDOUT)
			return 0;
		if (rv != 0) {
			s->st.errors++;
			log_warnx("unable to receive an event: %s",
			          nng_strerror(rv));
			return 0;
		}
		m = nng_aio_get_msg(s->rx);
		nng_aio_set_msg(s->rx, NULL);
		r = take(s, m);
		nng_msg_free(m);
		if (r == 1)
			return 1;
	}
}

static void
deliver(struct recon_sub *s, struct recon_event *ev)
{
	const struct wire_event *w;
	static const char *const names[] = {
	    [WIRE_EV_CONTAINER] = "container",
	    [WIRE_EV_WORKLOAD] = "workload",
	    [WIRE_EV_PASS] = "pass",
	};

	s->cur = s->q[s->qhead++];
	if (s->qhead == s->qlen)
		s->qhead = s->qlen = 0;
	w = &s->cur.ev;
	memset(ev, 0, sizeof(*ev));
	ev->rev = w->rev;
	ev->type_name = names[w->type];
	ev->topic = s->cur.data;
	ev->op = w->op != NULL ? w->op : "";
	ev->workload_id = ev->row_id = ev->state = ev->prev_state = "";
	ev->host = w->host != NULL ? w->host : "";
	ev->at = w->at;
	switch (w->type) {
	case WIRE_EV_CONTAINER:
		ev->type = RECON_EVENT_CONTAINER;
		ev->workload_id = w->row->workload_id;
		ev->row_id = w->row->id;
		ev->state = w->row->state;
		ev->prev_state = w->prev_state != NULL ? w->prev_state : "";
		ev->host = w->row->host;
		break;
	case WIRE_EV_WORKLOAD:
		ev->type = RECON_EVENT_WORKLOAD;
		ev->workload_id = w->workload->id;
		break;
	case WIRE_EV_PASS:
		ev->type = RECON_EVENT_PASS;
		ev->gen = w->gen;
		ev->seen = w->seen;
		ev->changed = w->changed;
		ev->missing = w->missing;
		break;
	}
	ev->body = s->cur.data + s->cur.tlen + 1;
	ev->len = s->cur.len;
	ev->rec = w;
	s->st.delivered++;
	if (s->cur.filled)
		s->st.filled++;
	else
		s->st.live++;
}

/* When a quiet stream is next checked against the log. */
static int64_t
check_at(const struct recon_sub *s)
{
	if (s->last_rx_ms > s->last_check_ms)
		return s->last_rx_ms + SUB_TAIL_MS;
	if (s->stale)
		return s->last_check_ms + SUB_TAIL_MS;
	return s->last_check_ms + SUB_HEARTBEAT_MS;
}

/* A fill, with the bookkeeping around it: 0, COMPACTED, or -1 (retry). */
static int
fill_next(struct recon_sub *s, int64_t now)
{
	int r = fill(s, s->upto, SUB_FILL_LIMIT);

	if (r == RECON_SUB_COMPACTED)
		return r;
	if (r == -1) {
		if (!s->down)
			log_warnx("unable to read the store's log (%s): "
			          "retrying",
			          s->err);
		s->down = true;
		s->retry_at_ms = now + SUB_RETRY_MS;
		return -1;
	}
	if (s->down)
		log_info("reading the store's log again from rev %llu",
		         (unsigned long long)s->upto);
	s->down = false;
	if (s->probing)
		s->st.probes++;
	s->probing = s->stale = false;
	s->last_check_ms = mono_ms();
	return 0;
}

int
recon_sub_next(struct recon_sub *s, int64_t timeout_ms, struct recon_event *ev)
{
	int64_t now, wait, deadline;
	struct pollfd pfd[2];
	unsigned adds;

	if (!s->started) {
		sub_err(s, "not started");
		return RECON_SUB_ERROR;
	}
	entry_free(&s->cur);
	now = mono_ms();
	deadline = timeout_ms < 0 ? INT64_MAX : now + timeout_ms;
	for (;;) {
		if (s->qhead < s->qlen) {
			deliver(s, ev);
			return RECON_SUB_EVENT;
		}
		if (s->compacted)
			return RECON_SUB_COMPACTED;
		/* a new connection to `events`: whatever was published
		 * while we had none is only in the log */
		adds = atomic_load(&s->events_adds);
		if (adds != s->events_seen) {
			s->st.reconnects += adds - s->events_seen;
			s->events_seen = adds;
			s->need_fill = true;
		}
		now = mono_ms();
		if (!s->need_fill && now >= check_at(s))
			s->need_fill = s->probing = true;
		if (s->need_fill && now >= s->retry_at_ms) {
			if (fill_next(s, now) == RECON_SUB_COMPACTED)
				return RECON_SUB_COMPACTED;
			if (!s->down)
				continue;
		}
		if (take_published(s) == 1)
			continue;
		now = mono_ms();
		if (now >= deadline)
			return RECON_SUB_TIMEOUT;
		wait = deadline - now;
		if (s->need_fill) {
			if (s->retry_at_ms - now < wait)
				wait = s->retry_at_ms - now;
		} else if (check_at(s) - now < wait)
			wait = check_at(s) - now;
		if (wait < 0)
			wait = 0;
		pfd[0].fd = s->recv_fd;
		pfd[1].fd = wake_fd(&s->wake);
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, wait > INT32_MAX ? INT32_MAX : (int)wait) ==
		        -1 &&
		    errno != EINTR) {
			sub_err(s, "unable to poll: %s", strerror(errno));
			return RECON_SUB_ERROR;
		}
		if (pfd[1].revents & POLLIN)
			wake_drain(&s->wake);
	}
}

uint64_t
recon_sub_position(const struct recon_sub *s)
{
	if (s->qhead < s->qlen)
		return s->q[s->qhead].ev.rev - 1;
	return s->upto;
}

const char *
recon_sub_error(const struct recon_sub *s)
{
	return s->err;
}

void
recon_sub_stats(const struct recon_sub *s, struct recon_sub_stats *st)
{
	*st = s->st;
}

/* A thread closing both sockets, and who of it and its waiter goes last. */
struct closer {
	nng_socket events;
	struct clnt *ctl;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int refs;
};

static void
closer_rele(struct closer *c)
{
	bool last;

	pthread_mutex_lock(&c->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
	}
}

static void *
closer_main(void *arg)
{
	struct closer *c = arg;

	nng_close(c->events);
	clnt_shutdown(c->ctl);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	closer_rele(c);
	return NULL;
}

/*
 * nng 1.5.2 can hang for good in nng_close when a message is arriving on
 * the pipe being closed (fixed upstream after 1.5.2): the close runs in a
 * thread of its own, and a caller is never kept waiting more than
 * SUB_CLOSE_MS. Returns 0 closed, -1 still closing (left behind).
 */
static int
sockets_close(struct recon_sub *s)
{
	struct closer *c;
	struct timespec until;
	pthread_attr_t attr;
	pthread_t thr;
	bool done;

	c = xcalloc(1, sizeof(*c));
	c->events = s->events;
	c->ctl = s->ctl;
	c->refs = 2;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thr, &attr, closer_main, c) != 0) {
		pthread_attr_destroy(&attr);
		c->refs = 1;
		closer_main(c);
		return 0;
	}
	pthread_attr_destroy(&attr);
	until = ts_after(CLOCK_REALTIME, SUB_CLOSE_MS);
	pthread_mutex_lock(&c->mu);
	while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0)
		;
	done = c->done;
	pthread_mutex_unlock(&c->mu);
	closer_rele(c);
	return done ? 0 : -1;
}

void
recon_sub_close(struct recon_sub *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->open) {
		/* no callback may run into freed memory */
		pipe_cbs_set(s->events, NULL, NULL);
		if (sockets_close(s) == -1) {
			/* what nng may still touch stays allocated */
			log_warnx("unable to close the subscriber's sockets "
			          "within %d ms (nng): left behind",
			          SUB_CLOSE_MS);
			return;
		}
	}
	if (s->rx != NULL)
		nng_aio_free(s->rx);
	pending_clear(s);
	free(s->q);
	entry_free(&s->cur);
	for (i = 0; i < s->nfollow; i++)
		free(s->follow[i]);
	free(s->follow);
	wake_close(&s->wake);
	clnt_free(s->ctl);
	clnt_result_free(&s->res);
	free(s->events_url);
	free(s->ctl_url);
	nngx_tls_free(&s->tls);
	free(s);
}

char *
recon_event_json(const struct recon_event *ev)
{
	char *out;

	if (ev->rec == NULL ||
	    (out = wire_event_json_line(ev->rec, ev->topic)) == NULL) {
		log_warnx("unable to write event %llu as JSON",
		          (unsigned long long)ev->rev);
		return NULL;
	}
	return out;
}
