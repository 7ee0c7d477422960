/*
 * queue.c: per-workload run state and the line of workloads waiting for a
 * slot. A workload is listed only while it has a waiting request and no
 * run, so it is in line at most once however many requests fold.
 */
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "util.h"

static const char *const reason_names[] = {
    [Q_PASS] = "pass",
    [Q_MANUAL] = "manual",
    [Q_STATE] = "state",
};

const char *
q_reason_name(enum q_reason r)
{
	return reason_names[r];
}

int
q_reason_parse(const char *s, enum q_reason *r)
{
	size_t i;

	for (i = 0;
	     s != NULL && i < sizeof(reason_names) / sizeof(*reason_names); i++)
		if (strcmp(s, reason_names[i]) == 0) {
			*r = (enum q_reason)i;
			return 0;
		}
	return -1;
}

void
queue_init(struct queue *q, size_t concurrency)
{
	memset(q, 0, sizeof(*q));
	q->concurrency = concurrency > 0 ? concurrency : 1;
}

void
q_req_free(struct q_req *r)
{
	if (r == NULL)
		return;
	free(r->source_kind);
	json_object_put(r->doc);
	free(r);
}

static void
wl_free(struct q_wl *wl)
{
	q_req_free(wl->pending);
	q_req_free(wl->current);
	free(wl->id);
	free(wl);
}

void
queue_fini(struct queue *q)
{
	size_t i;

	for (i = 0; i < q->wls.n; i++)
		wl_free(q->wls.e[i].val);
	wltab_free(&q->wls);
	memset(q, 0, sizeof(*q));
}

static struct q_list *
list_of(struct queue *q, const struct q_wl *wl)
{
	return wl->pending->reason == Q_PASS ? &q->pass : &q->urgent;
}

static void
list_add(struct queue *q, struct q_wl *wl)
{
	struct q_list *l = list_of(q, wl);

	wl->next = NULL;
	wl->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = wl;
	else
		l->head = wl;
	l->tail = wl;
	wl->listed = true;
}

static void
list_del(struct queue *q, struct q_wl *wl)
{
	struct q_list *l = list_of(q, wl);

	if (wl->prev != NULL)
		wl->prev->next = wl->next;
	else
		l->head = wl->next;
	if (wl->next != NULL)
		wl->next->prev = wl->prev;
	else
		l->tail = wl->prev;
	wl->prev = wl->next = NULL;
	wl->listed = false;
}

void
queue_submit(struct queue *q, const char *wid, struct q_req *req)
{
	struct q_wl *wl;
	enum q_reason r;

	q->requested++;
	if ((wl = wltab_get(&q->wls, wid)) == NULL) {
		wl = xcalloc(1, sizeof(*wl));
		wl->id = xstrdup(wid);
		wltab_put(&q->wls, wl->id, wl);
	}
	if (wl->pending == NULL) {
		wl->pending = req;
		q->queued++;
		if (!wl->running)
			list_add(q, wl);
		return;
	}
	/* fold: the newer records, the higher reason; an upgrade from
	 * pass moves the workload to the urgent line */
	q->folded++;
	r = req->reason > wl->pending->reason ? req->reason
	                                      : wl->pending->reason;
	if (wl->listed)
		list_del(q, wl);
	q_req_free(wl->pending);
	wl->pending = req;
	req->reason = r;
	if (!wl->running)
		list_add(q, wl);
}

struct q_wl *
queue_next(struct queue *q)
{
	struct q_wl *wl;

	if (q->running >= q->concurrency)
		return NULL;
	if ((wl = q->urgent.head) == NULL && (wl = q->pass.head) == NULL)
		return NULL;
	list_del(q, wl);
	wl->current = wl->pending;
	wl->pending = NULL;
	wl->running = true;
	q->queued--;
	q->running++;
	return wl;
}

void
queue_done(struct queue *q, struct q_wl *wl)
{
	if (!wl->running)
		abort(); /* our own bookkeeping is broken */
	q_req_free(wl->current);
	wl->current = NULL;
	wl->running = false;
	wl->run = NULL;
	q->running--;
	if (wl->pending != NULL) {
		list_add(q, wl);
		return;
	}
	if (wltab_del(&q->wls, wl->id) != wl)
		abort();
	wl_free(wl);
}
