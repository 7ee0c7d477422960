/*
 * upstream.c: worker threads that make the dispatcher's calls to
 * store.ctl over one REQ socket, a context each, every step bounded by a
 * timeout; results go back to the loop through a list and a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "clnt.h"
#include "log.h"
#include "nngx.h"
#include "upstream.h"
#include "util.h"

#define UPSTREAM_MAX_REPLY (64u << 20)

struct upstream {
	nng_socket sock; /* REQ, dialled once; a context per thread */
	int64_t timeout_ms;
	pthread_t thr[UPSTREAM_THREADS];
	size_t nthr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct up_call *in_head, *in_tail;   /* waiting */
	struct up_call *out_head, *out_tail; /* done */
	size_t nin, running;
	bool stop;
	int wake[2];
};

static void
push(struct up_call **head, struct up_call **tail, struct up_call *c)
{
	c->next = NULL;
	if (*tail != NULL)
		(*tail)->next = c;
	else
		*head = c;
	*tail = c;
}

static struct up_call *
pop(struct up_call **head, struct up_call **tail)
{
	struct up_call *c = *head;

	if (c != NULL) {
		*head = c->next;
		if (*head == NULL)
			*tail = NULL;
		c->next = NULL;
	}
	return c;
}

/* One step of a call on the context: 0, or nng's error. */
static int
ctx_step(nng_ctx ctx, nng_aio *aio, nng_msg *send, nng_msg **recv,
         int64_t timeout_ms)
{
	int rv;

	nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
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

static void
call_one(struct upstream *u, nng_ctx ctx, nng_aio *aio, struct up_call *c)
{
	struct wire_request rq;
	struct wbuf req = {0};
	nng_msg *m = NULL;
	int64_t deadline;
	size_t len;
	char *p;
	int rv;

	memset(&rq, 0, sizeof(rq));
	rq.id = c->id;
	if (c->kind == UP_DISPATCH)
		rq.t = "dispatch";
	else {
		rq.t = "workload.get";
		rq.secrets = true;
	}
	c->status = CLNT_UNREACHABLE;
	if (wire_encode_request(&req, &rq) == -1 || nng_msg_alloc(&m, 0) != 0 ||
	    nng_msg_append(m, req.data, req.len) != 0) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		if (m != NULL)
			nng_msg_free(m);
		wbuf_free(&req);
		return;
	}
	wbuf_free(&req);
	/* one deadline for both steps: a store that is away fails the
	 * send, a busy one the receive */
	deadline = mono_ms() + u->timeout_ms;
	if ((rv = ctx_step(ctx, aio, m, NULL, u->timeout_ms)) != 0 ||
	    (rv = ctx_step(ctx, aio, NULL, &m,
	                   deadline - mono_ms() > 1 ? deadline - mono_ms()
	                                            : 1)) != 0) {
		snprintf(c->err, sizeof(c->err), "store.ctl: %s",
		         nng_strerror(rv));
		return;
	}
	len = nng_msg_len(m);
	if ((p = realloc(c->reply.data, len > 0 ? len : 1)) == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		nng_msg_free(m);
		return;
	}
	memcpy(p, nng_msg_body(m), len);
	c->reply.data = p;
	c->reply.len = len;
	c->reply.cap = len > 0 ? len : 1;
	c->status = CLNT_OK;
	nng_msg_free(m);
}

static void *
upstream_main(void *arg)
{
	struct upstream *u = arg;
	struct up_call *c;
	nng_aio *aio = NULL;
	nng_ctx ctx;
	char b = 1;
	bool ok;

	ok = nng_ctx_open(&ctx, u->sock) == 0;
	if (ok && nng_aio_alloc(&aio, NULL, NULL) != 0) {
		nng_ctx_close(ctx);
		ok = false;
	}
	if (!ok)
		log_warnx("unable to set up a store.ctl context");
	pthread_mutex_lock(&u->mu);
	for (;;) {
		while (!u->stop && u->in_head == NULL)
			pthread_cond_wait(&u->cv, &u->mu);
		if (u->stop)
			break;
		c = pop(&u->in_head, &u->in_tail);
		u->nin--;
		pthread_mutex_unlock(&u->mu);
		if (ok)
			call_one(u, ctx, aio, c);
		else {
			c->status = CLNT_UNREACHABLE;
			snprintf(c->err, sizeof(c->err), "no nng context");
		}
		pthread_mutex_lock(&u->mu);
		push(&u->out_head, &u->out_tail, c);
		if (write(u->wake[1], &b, 1) == -1 && errno != EAGAIN)
			log_warn("unable to wake the loop");
	}
	u->running--;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	if (ok) {
		nng_aio_free(aio);
		nng_ctx_close(ctx);
	}
	return NULL;
}

struct upstream *
upstream_new(const char *url, int64_t timeout_ms)
{
	struct upstream *u = calloc(1, sizeof(*u));
	size_t i;

	if (u == NULL) {
		log_warn("unable to set up store.ctl calls");
		return NULL;
	}
	u->timeout_ms = timeout_ms;
	if (pipe2(u->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("unable to set up store.ctl calls");
		free(u);
		return NULL;
	}
	/* one connection for every call; never resend (a dispatch must
	 * not be applied twice) */
	if (nngx_dial(&u->sock, NNGX_REQ, url, UPSTREAM_MAX_REPLY) == -1) {
		close(u->wake[0]);
		close(u->wake[1]);
		free(u);
		return NULL;
	}
	nng_socket_set_ms(u->sock, NNG_OPT_REQ_RESENDTIME,
	                  NNG_DURATION_INFINITE);
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	for (i = 0; i < UPSTREAM_THREADS; i++) {
		if (pthread_create(&u->thr[i], NULL, upstream_main, u) != 0) {
			log_warnx("unable to start a store.ctl thread");
			break;
		}
		u->nthr++;
		u->running++;
	}
	if (u->nthr == 0) {
		nng_close(u->sock);
		close(u->wake[0]);
		close(u->wake[1]);
		free(u);
		return NULL;
	}
	return u;
}

void
up_call_free(struct up_call *c)
{
	if (c == NULL)
		return;
	wbuf_free(&c->reply);
	free(c);
}

void
upstream_free(struct upstream *u, int64_t wait_ms,
              void (*drop)(struct up_call *))
{
	struct timespec until;
	struct up_call *c;
	size_t i;
	bool done;

	pthread_mutex_lock(&u->mu);
	u->stop = true;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	/* closing the socket ends the calls under way at once */
	nng_close(u->sock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&u->mu);
	while (u->running > 0 &&
	       pthread_cond_timedwait(&u->cv, &u->mu, &until) == 0)
		;
	done = u->running == 0;
	pthread_mutex_unlock(&u->mu);
	if (!done) {
		log_warnx("a store.ctl call is still under way at exit");
		return;
	}
	for (i = 0; i < u->nthr; i++)
		pthread_join(u->thr[i], NULL);
	while ((c = pop(&u->in_head, &u->in_tail)) != NULL ||
	       (c = pop(&u->out_head, &u->out_tail)) != NULL) {
		if (drop != NULL)
			drop(c);
		up_call_free(c);
	}
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	close(u->wake[0]);
	close(u->wake[1]);
	free(u);
}
int
upstream_fd(const struct upstream *u)
{
	return u->wake[0];
}

int
upstream_submit(struct upstream *u, struct up_call *c)
{
	int r = 0;

	pthread_mutex_lock(&u->mu);
	if (u->nin >= UPSTREAM_QUEUE_MAX)
		r = -1;
	else {
		push(&u->in_head, &u->in_tail, c);
		u->nin++;
		pthread_cond_signal(&u->cv);
	}
	pthread_mutex_unlock(&u->mu);
	return r;
}

struct up_call *
upstream_done(struct upstream *u)
{
	struct up_call *c;
	char buf[64];

	pthread_mutex_lock(&u->mu);
	c = pop(&u->out_head, &u->out_tail);
	if (c == NULL)
		while (read(u->wake[0], buf, sizeof(buf)) > 0)
			;
	pthread_mutex_unlock(&u->mu);
	return c;
}
