/*
 * clnt.c: one request, one reply on a ctl socket (REQ/REP), bounded by a
 * timeout and never resent; on a fresh socket per call, or on one dialled
 * socket with a context per call. The typed clients share clnt_rpc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "clnt.h"
#include "ctlsrv.h"
#include "nngx.h"
#include "util.h"

#define CLNT_MAX_REPLY (256u << 20)
#define CLNT_PAUSE_MIN 20  /* ms before a cut read is sent again, */
#define CLNT_PAUSE_MAX 200 /* doubling up to this */

struct clnt {
	char *url;
	_Atomic int64_t timeout_ms;
	bool dialled;
	nng_socket sock; /* dialled handles only */
	atomic_bool closed;
	atomic_int pipes; /* connections up */
	void (*notify)(void *);
	void *notify_arg;
	const struct nngx_tls *tls; /* NULL: the process's (nngx_tls) */
};

/*
 * An ipc address that cannot answer us: a socket file that is missing,
 * or one we may not open (its mode, or a directory on the way that is not
 * ours). Said at once instead of waiting out the timeout; a stat and an
 * access check, never a connect (SPEC §7, nng bug 1518). The check uses
 * the effective ids, as the connect would.
 */
static int
clnt_ipc_check(const char *url, char *err, size_t errlen)
{
	const char *path;
	struct stat st;

	if (strncmp(url, "ipc://", 6) != 0)
		return 0;
	path = url + 6;
	if (stat(path, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			xsnprintf(err, errlen, "%s: no such socket", url);
			return -1;
		}
		if (errno == EACCES) {
			xsnprintf(err, errlen, "%s: permission denied", url);
			return -1;
		}
		return 0; /* let the connect say what it is */
	}
	if (faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) == -1 &&
	    errno == EACCES) {
		xsnprintf(err, errlen, "%s: permission denied", url);
		return -1;
	}
	return 0;
}

/* Copies a received message's body into reply. 0, or an nng error. */
static int
clnt_take(nng_msg *m, struct wbuf *reply)
{
	size_t len = nng_msg_len(m);

	wbuf_reset(reply);
	if (len > reply->cap) {
		reply->data = xrealloc(reply->data, len);
		reply->cap = len;
	}
	if (len > 0)
		memcpy(reply->data, nng_msg_body(m), len);
	reply->len = len;
	return 0;
}

static void
clnt_opts(nng_socket s)
{
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, CLNT_MAX_REPLY);
	/* Never resend: a write request must not be applied twice. */
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
}

/* A call on a socket of its own. */
static int
clnt_once(const char *url, const struct nngx_tls *tls, const struct wbuf *req,
          int64_t timeout_ms, struct wbuf *reply)
{
	nng_socket s;
	nng_dialer d = NNG_DIALER_INITIALIZER;
	nng_msg *m = NULL;
	struct nngx_ep_errors e;
	int64_t deadline = mono_ms() + timeout_ms, left;
	int rv;

	if ((rv = nng_req0_open(&s)) != 0)
		return rv;
	clnt_opts(s);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, (nng_duration)timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 200);
	/* A blocking dial waits out nng's own negotiation timeout when the
	 * peer is stopped; dial in the background and let the send timeout
	 * bound the whole call. */
	if ((rv = nngx_dial_ep(s, url, tls, NNG_FLAG_NONBLOCK, &d)) != 0)
		goto out;
	if ((rv = nng_msg_alloc(&m, 0)) != 0 ||
	    (rv = nng_msg_append(m, req->data, req->len)) != 0)
		goto out;
	if ((rv = nng_sendmsg(s, m, 0)) != 0)
		goto out;
	m = NULL;
	left = deadline - mono_ms();
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO,
	                  (nng_duration)(left > 0 ? left : 1));
	if ((rv = nng_recvmsg(s, &m, 0)) != 0)
		goto out;
	rv = clnt_take(m, reply);
out:
	/* a background dial's failure is only a timeout to us: a TLS
	 * handshake refused says more (nng counted it) */
	if ((rv == NNG_ETIMEDOUT || rv == NNG_ECLOSED) &&
	    nngx_scheme(url) == NNGX_TLS &&
	    nngx_ep_errors("dialer", nng_dialer_id(d), &e) == 0 && e.auth > 0)
		rv = NNG_EPEERAUTH;
	if (m != NULL)
		nng_msg_free(m);
	nng_close(s);
	return rv;
}

/* One step on a context: 0, or nng's error. */
static int
ctx_step(nng_ctx ctx, nng_aio *aio, nng_msg *send, nng_msg **recv,
         int64_t timeout_ms)
{
	int rv;

	nng_aio_set_timeout(aio,
	                    (nng_duration)(timeout_ms > 0 ? timeout_ms : 1));
	if (send != NULL) {
		nng_aio_set_msg(aio, send);
		nng_ctx_send(ctx, aio);
	} else
		nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		if (send != NULL)
			nng_msg_free(nng_aio_get_msg(aio)); /* still ours */
		return rv;
	}
	if (recv != NULL)
		*recv = nng_aio_get_msg(aio);
	return 0;
}

/* A call on a context of the dialled socket: threads call at once. */
static int
clnt_ctx_call(struct clnt *c, const struct wbuf *req, struct wbuf *reply,
              int64_t timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	nng_aio *aio = NULL;
	nng_msg *m = NULL;
	nng_ctx ctx;
	int rv;

	if (atomic_load(&c->closed))
		return NNG_ECLOSED;
	if ((rv = nng_ctx_open(&ctx, c->sock)) != 0)
		return rv;
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (rv = nng_msg_alloc(&m, 0)) != 0 ||
	    (rv = nng_msg_append(m, req->data, req->len)) != 0)
		goto out;
	/* one deadline for both steps: a server that is away fails the
	 * send, a busy one the receive */
	rv = ctx_step(ctx, aio, m, NULL, timeout_ms);
	m = NULL;
	if (rv != 0 ||
	    (rv = ctx_step(ctx, aio, NULL, &m, deadline - mono_ms())) != 0)
		goto out;
	rv = clnt_take(m, reply);
out:
	if (m != NULL)
		nng_msg_free(m);
	if (aio != NULL)
		nng_aio_free(aio);
	nng_ctx_close(ctx);
	return rv;
}

struct clnt *
clnt_new(const char *url, int64_t timeout_ms)
{
	struct clnt *c = xcalloc(1, sizeof(*c));

	c->url = xstrdup(url);
	atomic_store(&c->timeout_ms, timeout_ms);
	return c;
}

static void
clnt_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct clnt *c = arg;

	if (ev == NNG_PIPE_EV_ADD_PRE)
		atomic_fetch_add(&c->pipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&c->pipes, 1);
	if (c->notify != NULL)
		c->notify(c->notify_arg);
}

struct clnt *
clnt_dial(const char *url, int64_t timeout_ms, void (*notify)(void *),
          void *arg, char *err, size_t errlen)
{
	return clnt_dial_tls(url, NULL, timeout_ms, notify, arg, err, errlen);
}

struct clnt *
clnt_dial_tls(const char *url, const struct nngx_tls *tls, int64_t timeout_ms,
              void (*notify)(void *), void *arg, char *err, size_t errlen)
{
	struct clnt *c = clnt_new(url, timeout_ms);
	int rv;

	c->tls = tls;
	c->notify = notify;
	c->notify_arg = arg;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		xsnprintf(err, errlen, "unable to open a req socket: %s",
		          nng_strerror(rv));
		free(c->url);
		free(c);
		return NULL;
	}
	c->dialled = true;
	clnt_opts(c->sock);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	if ((rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_PRE, clnt_pipe_cb,
	                          c)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, clnt_pipe_cb,
	                          c)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, clnt_pipe_cb,
	                          c)) != 0 ||
	    (rv = nngx_dial_url(c->sock, url, tls, NNG_FLAG_NONBLOCK)) != 0) {
		xsnprintf(err, errlen, "unable to dial %s: %s", url,
		          nng_strerror(rv));
		clnt_free(c);
		return NULL;
	}
	return c;
}

int
clnt_connected(const struct clnt *c)
{
	return c->dialled ? atomic_load(&c->pipes) : 0;
}

void
clnt_set_timeout(struct clnt *c, int64_t timeout_ms)
{
	atomic_store(&c->timeout_ms, timeout_ms > 0 ? timeout_ms : 1);
}

const char *
clnt_url(const struct clnt *c)
{
	return c->url;
}

void
clnt_shutdown(struct clnt *c)
{
	if (c == NULL || atomic_exchange(&c->closed, true))
		return;
	if (c->dialled) {
		/* no callback may run into a freed handle */
		nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_PRE, NULL, NULL);
		nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
		nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
		nng_close(c->sock);
	}
}

void
clnt_free(struct clnt *c)
{
	if (c == NULL)
		return;
	clnt_shutdown(c);
	free(c->url);
	free(c);
}

/* clnt_request; again may send a read again when its connection was cut
 * before the reply (a server replacing a stopped listener closes the
 * connections that were never handed to it: see nngx.c). */
static int
clnt_call(struct clnt *c, const struct wbuf *req, struct wbuf *reply,
          bool again, char *err, size_t errlen)
{
	int64_t timeout_ms = atomic_load(&c->timeout_ms), left = timeout_ms;
	int64_t deadline = mono_ms() + timeout_ms, pause_ms = CLNT_PAUSE_MIN;
	int rv;

	if (clnt_ipc_check(c->url, err, errlen) == -1)
		return CLNT_UNREACHABLE;
	for (;;) {
		if (c->dialled)
			rv = clnt_ctx_call(c, req, reply, left);
		else
			rv = clnt_once(c->url, c->tls, req, left, reply);
		if (rv != NNG_ECONNRESET || !again ||
		    (left = deadline - mono_ms()) <= 0)
			break;
		/* a pause before asking again, doubling, within the time */
		pause_ms = pause_ms < left ? pause_ms : left;
		nanosleep(&(struct timespec){pause_ms / 1000,
		                             (pause_ms % 1000) * 1000000L},
		          NULL);
		pause_ms = pause_ms * 2 > CLNT_PAUSE_MAX ? CLNT_PAUSE_MAX
		                                         : pause_ms * 2;
		if ((left = deadline - mono_ms()) <= 0)
			break;
	}
	if (rv != 0) {
		xsnprintf(err, errlen, "%s: %s", c->url, nng_strerror(rv));
		return CLNT_UNREACHABLE;
	}
	return CLNT_OK;
}

int
clnt_request(struct clnt *c, const struct wbuf *req, struct wbuf *reply,
             char *err, size_t errlen)
{
	return clnt_call(c, req, reply, false, err, errlen);
}

void
clnt_result_free(struct clnt_result *r)
{
	wbuf_free(&r->reply);
	arena_free(r->a);
	memset(r, 0, sizeof(*r));
}

int
clnt_bad_reply(struct clnt_result *r, const char *werr)
{
	xsnprintf(r->err, sizeof(r->err), "bad reply: %s", werr);
	r->status = CLNT_BADREPLY;
	return r->status;
}

int
clnt_rpc(struct clnt *c, const struct wire_request *rq, struct clnt_result *r)
{
	struct wbuf req = {0};
	char werr[WIRE_ERR_LEN], *code, *msg;
	bool ok;

	arena_free(r->a);
	r->a = arena_new();
	wbuf_reset(&r->reply);
	r->code = r->message = NULL;
	r->err[0] = '\0';
	if (wire_encode_request(&req, rq) == -1)
		abort(); /* our own request: a programming error */
	r->status = clnt_call(c, &req, &r->reply, !ctlsrv_writes(rq->t), r->err,
	                      sizeof(r->err));
	wbuf_free(&req);
	if (r->status != CLNT_OK)
		return r->status;
	if (wire_decode_reply_status(r->reply.data, r->reply.len, r->a, &ok,
	                             &code, &msg, werr) == -1)
		return clnt_bad_reply(r, werr);
	if (!ok) {
		r->code = code;
		r->message = msg;
		xsnprintf(r->err, sizeof(r->err), "%s: %s", code, msg);
		r->status = CLNT_REFUSED;
	}
	return r->status;
}

int
clnt_health(struct clnt *c, bool live, struct clnt_result *r,
            struct wire_health *out)
{
	struct wire_request rq = {.t = "health", .live = live};
	char werr[WIRE_ERR_LEN];

	if (clnt_rpc(c, &rq, r) == CLNT_OK && out != NULL &&
	    wire_decode_health_reply(r->reply.data, r->reply.len, r->a, out,
	                             werr) == -1)
		return clnt_bad_reply(r, werr);
	return r->status;
}
