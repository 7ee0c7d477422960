/*
 * upstream.c: worker threads that make the dispatcher's calls to
 * store.ctl through the typed store client, all over one dialled
 * connection (common/clnt.c gives each call a context of its own, bounded
 * by the timeout); results go back to the loop through a list and a pipe.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clnt.h"
#include "log.h"
#include "util.h"
#include "wake.h"
#include "store_clnt.h"
#include "upstream.h"

struct upstream {
	struct clnt *clnt; /* store.ctl, dialled once; threads share it */
	pthread_t thr[UPSTREAM_THREADS];
	size_t nthr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct up_call *in_head, *in_tail;   /* waiting */
	struct up_call *out_head, *out_tail; /* done */
	size_t nin, running;
	bool stop;
	struct wake wake; /* a call done */
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

/* One call through the typed store client. Any reply, a refusal too,
 * goes back whole: the caller forwards it or reads it. */
static void
call_one(struct upstream *u, struct up_call *c)
{
	struct clnt_result r = {0};

	if (c->kind == UP_DISPATCH)
		store_clnt_dispatch(u->clnt, c->id, &r, NULL);
	else
		store_clnt_workload_get(u->clnt, c->id, true, &r, NULL);
	if (r.status == CLNT_OK || r.status == CLNT_REFUSED) {
		wbuf_free(&c->reply);
		c->reply = r.reply;
		memset(&r.reply, 0, sizeof(r.reply));
		c->status = CLNT_OK;
	} else {
		snprintf(c->err, sizeof(c->err), "%s", r.err);
		c->status = CLNT_UNREACHABLE;
	}
	clnt_result_free(&r);
}

static void *
upstream_main(void *arg)
{
	struct upstream *u = arg;
	struct up_call *c;

	pthread_mutex_lock(&u->mu);
	for (;;) {
		while (!u->stop && u->in_head == NULL)
			pthread_cond_wait(&u->cv, &u->mu);
		if (u->stop)
			break;
		c = pop(&u->in_head, &u->in_tail);
		u->nin--;
		pthread_mutex_unlock(&u->mu);
		call_one(u, c);
		pthread_mutex_lock(&u->mu);
		push(&u->out_head, &u->out_tail, c);
		wake_poke(&u->wake);
	}
	u->running--;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

struct upstream *
upstream_new(const char *url, int64_t timeout_ms)
{
	struct upstream *u = xcalloc(1, sizeof(*u));
	char err[256];
	size_t i;

	if (wake_open(&u->wake) == -1) {
		log_warn("unable to set up store.ctl calls");
		free(u);
		return NULL;
	}
	/* one connection for every call, a context per call; never
	 * resend (a dispatch must not be applied twice) */
	if ((u->clnt = clnt_dial(url, timeout_ms, NULL, NULL, err,
	                         sizeof(err))) == NULL) {
		log_warnx("unable to set up store.ctl calls: %s", err);
		wake_close(&u->wake);
		free(u);
		return NULL;
	}
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
		clnt_free(u->clnt);
		wake_close(&u->wake);
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
	/* closing the connection ends the calls under way at once */
	clnt_shutdown(u->clnt);
	until = ts_after(CLOCK_REALTIME, wait_ms);
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
	clnt_free(u->clnt);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	wake_close(&u->wake);
	free(u);
}
int
upstream_fd(const struct upstream *u)
{
	return wake_fd(&u->wake);
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

	pthread_mutex_lock(&u->mu);
	c = pop(&u->out_head, &u->out_tail);
	if (c == NULL)
		wake_drain(&u->wake);
	pthread_mutex_unlock(&u->mu);
	return c;
}
