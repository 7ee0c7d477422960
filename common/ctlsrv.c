/*
 * ctlsrv.c: the ctl server of every daemon. Each slot is one nng context
 * with one aio that alternates between receiving a request and sending
 * its reply; received requests queue for the daemon's loop, which
 * answers them from its command table and starts the send.
 *
 * Why contexts: a raw REP socket in nng 1.5.2 has a send queue of depth
 * 0, and a cooked one answers one request at a time, so a non-blocking
 * reply fails as "busy" whenever two answers go to one pipe. A context's
 * send waits for its pipe instead (bounded by SEND_TIMEOUT_MS), and a
 * client that asks while every slot is busy waits in nng, unread: nothing
 * is dropped, whatever the number of clients.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlsrv.h"
#include "log.h"
#include "nngx.h"
#include "util.h"
#include "wake.h"

/* How long a reply may wait for its asker to read it. */
#define SEND_TIMEOUT_MS 10000

/* The most reply buffer a slot keeps between requests. The slots take
 * requests in turn, so without a cap every slot would hold the buffer of
 * the largest reply it ever built (an events.since of 1,000 events is
 * ~350 KiB): the store's 128 slots crept towards 128 of those, a little
 * more each time a slot met a reply larger than its last. A buffer over
 * this is freed once nng has the reply's copy; the 128 slots keep at
 * most 128 KiB. */
#define SLOT_OUT_KEEP 1024

enum slot_state {
	SLOT_RECV,  /* waiting for a request */
	SLOT_READY, /* a request waits for the loop */
	SLOT_LATER, /* a command keeps it (CTLSRV_LATER) */
	SLOT_SEND,  /* its reply is being sent */
};

struct slot {
	struct ctlsrv *srv;
	nng_ctx ctx;
	nng_aio *aio;
	enum slot_state state;
	nng_msg *msg;      /* the request, while it waits for the loop */
	nng_pipe pipe;     /* where it came from */
	struct slot *next; /* in the ready list */
	struct arena *a;   /* the request's memory while it is answered */
	struct wbuf out;
};

struct ctlsrv {
	struct ctlsrv_config cfg;
	nng_socket sock;
	struct slot *slots;
	size_t nslots;
	pthread_mutex_t mu; /* the ready list and closing */
	struct slot *ready_head, *ready_tail;
	bool closing;
	struct wake wake; /* a slot done: serve */
	int64_t started_mono;
	struct ctlsrv_stats st; /* updated with atomics: nng's threads too */
};

#define COUNT(srv, f)                                                          \
	do {                                                                   \
		if ((srv) != NULL)                                             \
			__atomic_fetch_add(&(srv)->st.f, 1, __ATOMIC_RELAXED); \
	} while (0)

int
ctlsrv_forbid(struct ctlsrv_req *req, const char *what)
{
	const char *name = req->srv != NULL ? req->srv->cfg.name : "ctl";
	char msg[160];

	COUNT(req->srv, forbidden);
	if (req->remote) {
		log_warnx("refused %s on %s: it came through the remote "
		          "listener, which serves reads only",
		          what, name);
		snprintf(msg, sizeof(msg),
		         "the remote listener serves reads only: %s only on "
		         "the local socket",
		         what);
		wbuf_reset(req->out);
		return wire_reply_error(req->out, "forbidden", msg);
	}
	if (req->uid < 0)
		log_warnx("refused %s on %s: peer has no uid (not ipc)", what,
		          name);
	else
		log_warnx("refused %s on %s from uid %lld", what, name,
		          (long long)req->uid);
	if (req->uid < 0)
		snprintf(msg, sizeof(msg), "only local (ipc) peers may %s",
		         what);
	else
		snprintf(msg, sizeof(msg),
		         "uid %lld may not %s (only root, the daemon's own uid "
		         "or --admin-uid)",
		         (long long)req->uid, what);
	wbuf_reset(req->out);
	return wire_reply_error(req->out, "forbidden", msg);
}

size_t
ctlsrv_counters(struct ctlsrv *srv, struct wire_counter *c)
{
	struct ctlsrv_stats s = {0};
	struct nngx_stats n;

	if (srv != NULL)
		ctlsrv_stats(srv, &s);
	nngx_stats(&n);
	c[0] = (struct wire_counter){"ctl_requests", s.requests};
	c[1] = (struct wire_counter){"ctl_bad_requests", s.bad_requests};
	c[2] = (struct wire_counter){"ctl_forbidden", s.forbidden};
	c[3] = (struct wire_counter){"ctl_replies_lost", s.replies_lost};
	c[4] = (struct wire_counter){"ctl_peers_gone", s.peers_gone};
	c[5] = (struct wire_counter){"ctl_send_timeouts", s.send_timeouts};
	c[6] = (struct wire_counter){"ctl_in_flight", s.in_flight};
	c[7] = (struct wire_counter){"pipes_refused", n.pipes_refused};
	c[8] = (struct wire_counter){"pipes_over_cap", n.pipes_over_cap};
	c[9] = (struct wire_counter){"listener_repairs", n.listener_repairs};
	c[10] = (struct wire_counter){"pipes_cut", n.pipes_cut};
	c[11] = (struct wire_counter){"pipes_stuck", n.pipes_stuck};
	c[12] = (struct wire_counter){"remote_handshakes_refused",
	                              n.remote_refused};
	return CTLSRV_NCOUNTERS;
}

/* health [live]: SPEC §7; the daemon fills in its part. */
static int
ctlsrv_health(const struct ctlsrv_config *cfg, struct ctlsrv_req *req)
{
	struct wire_health h;
	struct wire_counter *c;
	int64_t started = req->srv != NULL ? req->srv->started_mono : 0;

	memset(&h, 0, sizeof(h));
	if (cfg->health != NULL)
		cfg->health(cfg->arg, req, req->rq->live, &h);
	h.name = cfg->proc;
	h.pid = (int64_t)getpid();
	h.version = RECON_VERSION;
	h.uptime_s = started > 0 ? (mono_ms() - started) / 1000 : 0;
	c = arena_alloc(req->a, (h.ncounters + CTLSRV_NCOUNTERS) * sizeof(*c));
	if (h.ncounters > 0)
		memcpy(c, h.counters, h.ncounters * sizeof(*c));
	ctlsrv_counters(req->srv, c + h.ncounters);
	h.counters = c;
	h.ncounters += CTLSRV_NCOUNTERS;
	wbuf_reset(req->out);
	return wire_reply_health(req->out, &h);
}

bool
ctlsrv_writes(const char *t)
{
	static const char *const writes[] = {
	    "container.put",   "container.delete", "workload.put",
	    "workload.delete", "dispatch",         "resync",
	    "hosts.forget",
	};
	size_t i;

	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		if (strcmp(t, writes[i]) == 0)
			return true;
	return false;
}

int
ctlsrv_handle(struct ctlsrv *srv, const struct ctlsrv_config *cfg,
              const void *buf, size_t len, int64_t uid, struct arena *a,
              struct wbuf *out, struct ctlsrv_req **reqp)
{
	return ctlsrv_handle_peer(srv, cfg, buf, len, uid, false, a, out, reqp);
}

int
ctlsrv_handle_peer(struct ctlsrv *srv, const struct ctlsrv_config *cfg,
                   const void *buf, size_t len, int64_t uid, bool remote,
                   struct arena *a, struct wbuf *out, struct ctlsrv_req **reqp)
{
	char err[WIRE_ERR_LEN] = "";
	struct wire_request *rq;
	struct ctlsrv_req *req;
	const struct ctlsrv_cmd *cmd = NULL;
	size_t i;
	int r;

	rq = arena_alloc(a, sizeof(*rq));
	req = arena_alloc(a, sizeof(*req));
	memset(rq, 0, sizeof(*rq));
	memset(req, 0, sizeof(*req));
	req->rq = rq;
	req->a = a;
	req->out = out;
	req->uid = uid;
	req->remote = remote;
	/* trust comes from the listener, never from the message */
	req->trusted = !remote && nngx_uid_trusted(uid, cfg->admin_uid);
	req->srv = srv;
	*reqp = req;
	wbuf_reset(out);
	COUNT(srv, requests);
	if (wire_decode_request(buf, len, a, rq, err) == -1) {
		COUNT(srv, bad_requests);
		log_warnx("dropped a bad %s request: %s", cfg->name, err);
		return wire_reply_error(out, "invalid", err) == -1 ? -1 : 0;
	}
	if (strcmp(rq->t, "health") == 0)
		return ctlsrv_health(cfg, req) == -1 ? -1 : 0;
	for (i = 0; i < cfg->ncmds; i++)
		if (strcmp(cfg->cmds[i].name, rq->t) == 0)
			cmd = &cfg->cmds[i];
	if (cmd == NULL) {
		COUNT(srv, bad_requests);
		/* t is UTF-8; cut, it might not be */
		snprintf(err, sizeof(err), "%s has no command %s", cfg->proc,
		         strlen(rq->t) <= 64 ? rq->t
		                             : "(a name over 64 bytes)");
		log_warnx("unable to answer a %s request: %s", cfg->name, err);
		return wire_reply_error(out, "unknown", err) == -1 ? -1 : 0;
	}
	if (ctlsrv_writes(cmd->name) && !req->trusted)
		return ctlsrv_forbid(req, cmd->name) == -1 ? -1 : 0;
	if ((r = cmd->fn(cfg->arg, req)) == CTLSRV_LATER)
		return CTLSRV_LATER;
	if (r == -1) {
		log_error("unable to answer %s on %s", cmd->name, cfg->name);
		wbuf_reset(out);
		return wire_reply_error(out, "internal", "unable to answer") ==
		               -1
		           ? -1
		           : 0;
	}
	return 0;
}

/* ---- the socket side ---- */

static void
slot_recv(struct slot *s)
{
	s->state = SLOT_RECV;
	nng_aio_set_timeout(s->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(s->ctx, s->aio);
}

/* A reply that could not be sent: counted and logged with its reason. */
static void
reply_lost(struct ctlsrv *srv, int rv)
{
	COUNT(srv, replies_lost);
	if (rv == NNG_ETIMEDOUT)
		COUNT(srv, send_timeouts);
	else if (rv == NNG_ECLOSED || rv == NNG_ENOENT)
		COUNT(srv, peers_gone);
	log_warnx("unable to send a %s reply: %s", srv->cfg.name,
	          rv == NNG_ETIMEDOUT ? "the asker did not read it in time"
	          : rv == NNG_ECLOSED || rv == NNG_ENOENT
	              ? "the asker hung up first"
	              : nng_strerror(rv));
}

/* Runs on nng's threads. */
static void
slot_done(void *arg)
{
	struct slot *s = arg;
	struct ctlsrv *srv = s->srv;
	int rv = nng_aio_result(s->aio);
	bool closing;

	pthread_mutex_lock(&srv->mu);
	closing = srv->closing;
	pthread_mutex_unlock(&srv->mu);
	if (s->state == SLOT_SEND) {
		__atomic_fetch_sub(&srv->st.in_flight, 1, __ATOMIC_RELAXED);
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(s->aio));
			if (!closing)
				reply_lost(srv, rv);
		}
	} else if (rv == 0) {
		s->msg = nng_aio_get_msg(s->aio);
		s->pipe = nng_msg_get_pipe(s->msg);
		__atomic_fetch_add(&srv->st.in_flight, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&srv->mu);
		s->state = SLOT_READY;
		s->next = NULL;
		if (srv->ready_tail != NULL)
			srv->ready_tail->next = s;
		else
			srv->ready_head = s;
		srv->ready_tail = s;
		pthread_mutex_unlock(&srv->mu);
		wake_poke(&srv->wake);
		return;
	} else if (rv != NNG_ECLOSED && rv != NNG_ECANCELED)
		log_warnx("unable to receive on %s: %s", srv->cfg.name,
		          nng_strerror(rv));
	if (closing || rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	slot_recv(s);
}

/* s->out has been copied into a message, or given up: a buffer over
 * SLOT_OUT_KEEP is not kept for the next request. */
static void
slot_out_done(struct slot *s)
{
	if (s->out.cap > SLOT_OUT_KEEP)
		wbuf_free(&s->out);
}

/* Sends s->out as the answer to s's request, then receives again. */
static void
slot_send(struct slot *s)
{
	struct ctlsrv *srv = s->srv;
	nng_sockaddr sa;
	nng_msg *m;
	int rv;

	arena_free(s->a);
	s->a = NULL;
	/* nng drops a reply to a closed pipe as if sent: tell it here */
	rv = nng_pipe_get_addr(s->pipe, NNG_OPT_REMADDR, &sa);
	if (rv == NNG_ENOENT || rv == NNG_ECLOSED) {
		__atomic_fetch_sub(&srv->st.in_flight, 1, __ATOMIC_RELAXED);
		reply_lost(srv, NNG_ENOENT);
		slot_out_done(s);
		slot_recv(s);
		return;
	}
	if ((rv = nng_msg_alloc(&m, s->out.len)) != 0) {
		/* the asker times out; the slot receives again */
		__atomic_fetch_sub(&srv->st.in_flight, 1, __ATOMIC_RELAXED);
		reply_lost(srv, rv);
		slot_out_done(s);
		slot_recv(s);
		return;
	}
	if (s->out.len > 0)
		memcpy(nng_msg_body(m), s->out.data, s->out.len);
	slot_out_done(s);
	s->state = SLOT_SEND;
	nng_aio_set_msg(s->aio, m);
	nng_aio_set_timeout(s->aio, SEND_TIMEOUT_MS);
	nng_ctx_send(s->ctx, s->aio);
}

void
ctlsrv_serve(struct ctlsrv *srv)
{
	struct ctlsrv_req *req;
	struct slot *s;
	int r;

	wake_drain(&srv->wake);
	for (;;) {
		pthread_mutex_lock(&srv->mu);
		if ((s = srv->ready_head) != NULL) {
			srv->ready_head = s->next;
			if (srv->ready_head == NULL)
				srv->ready_tail = NULL;
		}
		pthread_mutex_unlock(&srv->mu);
		if (s == NULL)
			break;
		s->a = arena_new();
		r = ctlsrv_handle_peer(
		    srv, &srv->cfg, nng_msg_body(s->msg), nng_msg_len(s->msg),
		    nngx_peer_uid(s->msg), nngx_peer_remote(s->msg), s->a,
		    &s->out, &req);
		nng_msg_free(s->msg);
		s->msg = NULL;
		if (r == CTLSRV_LATER) {
			req->slot = s;
			s->state = SLOT_LATER;
			continue;
		}
		if (r == -1) {
			/* not even an error reply could be encoded */
			wbuf_reset(&s->out);
			log_error("unable to encode a %s reply", srv->cfg.name);
		}
		slot_send(s);
	}
}

void
ctlsrv_answer(struct ctlsrv_req *req)
{
	struct slot *s = req->slot;

	if (s == NULL || s->state != SLOT_LATER) {
		log_error("a %s reply answered twice", req->srv->cfg.name);
		abort();
	}
	slot_send(s);
}

struct ctlsrv *
ctlsrv_new(nng_socket sock, const struct ctlsrv_config *cfg, size_t nslots)
{
	struct ctlsrv *srv;
	size_t i;
	int rv;

	srv = xcalloc(1, sizeof(*srv));
	srv->slots = xcalloc(nslots, sizeof(*srv->slots));
	srv->cfg = *cfg;
	srv->sock = sock;
	srv->started_mono = mono_ms();
	if (wake_open(&srv->wake) == -1) {
		log_warn("unable to serve %s", cfg->name);
		free(srv->slots);
		free(srv);
		return NULL;
	}
	pthread_mutex_init(&srv->mu, NULL);
	for (i = 0; i < nslots; i++) {
		struct slot *s = &srv->slots[i];

		s->srv = srv;
		if ((rv = nng_aio_alloc(&s->aio, slot_done, s)) != 0 ||
		    (rv = nng_ctx_open(&s->ctx, sock)) != 0) {
			log_warnx("unable to serve %s: %s", cfg->name,
			          nng_strerror(rv));
			break;
		}
		srv->nslots++;
	}
	if (srv->nslots == 0) {
		ctlsrv_free(srv);
		return NULL;
	}
	for (i = 0; i < srv->nslots; i++)
		slot_recv(&srv->slots[i]);
	return srv;
}

void
ctlsrv_free(struct ctlsrv *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->mu);
	srv->closing = true;
	pthread_mutex_unlock(&srv->mu);
	/* closing the socket ends every receive and send at once */
	nng_close(srv->sock);
	for (i = 0; i < srv->nslots; i++) {
		struct slot *s = &srv->slots[i];

		if (s->aio == NULL)
			continue;
		nng_aio_stop(s->aio);
		if (s->msg != NULL)
			nng_msg_free(s->msg);
		arena_free(s->a);
		wbuf_free(&s->out);
		nng_aio_free(s->aio);
	}
	pthread_mutex_destroy(&srv->mu);
	wake_close(&srv->wake);
	free(srv->slots);
	free(srv);
}

int
ctlsrv_fd(const struct ctlsrv *srv)
{
	return wake_fd(&srv->wake);
}

void
ctlsrv_stats(struct ctlsrv *srv, struct ctlsrv_stats *out)
{
	out->requests = __atomic_load_n(&srv->st.requests, __ATOMIC_RELAXED);
	out->bad_requests =
	    __atomic_load_n(&srv->st.bad_requests, __ATOMIC_RELAXED);
	out->forbidden = __atomic_load_n(&srv->st.forbidden, __ATOMIC_RELAXED);
	out->replies_lost =
	    __atomic_load_n(&srv->st.replies_lost, __ATOMIC_RELAXED);
	out->peers_gone =
	    __atomic_load_n(&srv->st.peers_gone, __ATOMIC_RELAXED);
	out->send_timeouts =
	    __atomic_load_n(&srv->st.send_timeouts, __ATOMIC_RELAXED);
	out->in_flight = __atomic_load_n(&srv->st.in_flight, __ATOMIC_RELAXED);
}
