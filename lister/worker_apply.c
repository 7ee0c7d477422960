/*
 * worker_apply.c: Docker events before the lists show them. An event
 * that sets a state is applied at once to the record the lister holds
 * (worker_apply); a list that still predates it is held against it
 * (worker_recheck), read again, and has the last word only after
 * WORKER_RETRIES reads.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse.h"
#include "util.h"
#include "worker_int.h"

static int
ctr_pcmp(const void *a, const void *b)
{
	return strcmp((*(const struct wire_container *const *)a)->id,
	              (*(const struct wire_container *const *)b)->id);
}

/*
 * Docker logs die, stop, pause and unpause before the lists it answers
 * show them (dockerd 20.10 writes the exit to the view lists read after
 * the die event and the container's cleanup: 10-100 ms here), so a list
 * may predate an event that came before it. h is a hint of the batch
 * (mine) or one still waiting; when the list shows its container in a
 * state that cannot follow its event (or, its destroy applied, at all):
 * mine goes back for another read a little later, unless a newer event
 * came, and after WORKER_RETRIES the list has the last word; and where
 * the index already holds the event's state (applied), the listed record
 * is replaced by the known one, or dropped for a destroy, so that a stale
 * read never flips the row back.
 */
static void
hold_one(struct worker *w, struct arena *a, const struct hint *h, bool mine,
         struct wire_container **idx, struct wire_container *cs, size_t ncs,
         bool *drop)
{
	struct wire_container key, *kp = &key, **hit, rec;
	int64_t due;
	size_t k;

	key.id = (char *)h->id;
	if ((hit = bsearch(&kp, idx, ncs, sizeof(*idx), ctr_pcmp)) == NULL)
		return;
	k = (size_t)(*hit - cs);
	if (h->gone ? !h->applied : parse_state_fits(h->expect, cs[k].state))
		return;
	if (mine && h->tries >= WORKER_RETRIES) {
		/* The list has the last word: it may flip the row back. */
		log_warnx("container %.12s still listed %s after its event: "
		          "taking the list's word",
		          h->id, cs[k].state);
		if (h->applied)
			worker_count(w, &w->st.event_overruled, 1);
		return;
	}
	if (mine) {
		/* Read again a little later, unless a newer event came. */
		due = mono_ms() + (h->tries < 10 ? WORKER_RETRY_MS
		                                 : (int64_t)WORKER_RETRY_MS
		                                       << (h->tries - 9));
		log_debug("container %.12s listed %s after its event: "
		          "reading it again",
		          h->id, cs[k].state);
		pthread_mutex_lock(&w->mu);
		w->st.stale_reads++;
		if (hints_retry(&w->hints, h, due) == -1)
			w->resync = true;
		pthread_mutex_unlock(&w->mu);
	}
	if (!h->applied)
		return; /* the index still holds what this list says */
	/* The index holds the event's state: send it that again, not the
	 * stale reading that would flip the row back. */
	if (h->gone)
		drop[k] = true;
	else if (known_record(w->known, h->id, a, &rec) == 0)
		cs[k] = rec;
}

/* hold_one for the batch's hints and the waiting ones. */
void
worker_recheck(struct worker *w, struct arena *a, const struct hint *hs,
               size_t nh, struct wire_container *cs, size_t *ncs)
{
	struct wire_container **idx;
	struct hint *wait = NULL;
	bool *drop;
	size_t i, j, nw = 0;

	if (*ncs == 0)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->hints.n > 0) {
		wait = arena_alloc(a, w->hints.n * sizeof(*wait));
		for (i = 0; i < w->hints.n; i++)
			if (w->hints.v[i].applied)
				wait[nw++] = w->hints.v[i];
	}
	pthread_mutex_unlock(&w->mu);
	if (nh == 0 && nw == 0)
		return;
	idx = arena_alloc(a, *ncs * sizeof(*idx));
	drop = arena_alloc(a, *ncs * sizeof(*drop));
	for (i = 0; i < *ncs; i++)
		idx[i] = &cs[i];
	qsort(idx, *ncs, sizeof(*idx), ctr_pcmp);
	for (i = 0; i < nh; i++)
		hold_one(w, a, &hs[i], true, idx, cs, *ncs, drop);
	for (i = 0; i < nw; i++)
		hold_one(w, a, &wait[i], false, idx, cs, *ncs, drop);
	for (i = j = 0; i < *ncs; i++)
		if (!drop[i])
			cs[j++] = cs[i];
	*ncs = j;
}

/* The records an applied event sends: grows, later entries replace. */
struct recs {
	struct arena *a;
	struct wire_container *v;
	size_t n, cap;
	const struct known *known;
};

static struct wire_container *
recs_find(struct recs *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0)
			return &r->v[i];
	return NULL;
}

static void
recs_put(struct recs *r, const struct wire_container *c)
{
	struct wire_container *e;

	if ((e = recs_find(r, c->id)) != NULL) {
		*e = *c;
		return;
	}
	if (r->n == r->cap) {
		r->v = arena_realloc(r->a, r->v, r->cap * sizeof(*r->v),
		                     2 * r->cap * sizeof(*r->v));
		r->cap *= 2;
	}
	r->v[r->n++] = *c;
}

/* known_each_of: a sibling goes in as known, unless already in. */
static void
recs_sibling(void *arg, const char *id)
{
	struct recs *r = arg;
	struct wire_container c;

	if (recs_find(r, id) == NULL &&
	    known_record(r->known, id, r->a, &c) == 0)
		recs_put(r, &c);
}

/*
 * Applies the events of hs at once. Docker logs die (stop, pause) before
 * its lists show them (see hold_one), some 10-100 ms: re-reading alone,
 * the index trails Docker's own event by that much. So the state an event
 * defines is applied to what the lister knows of the container (image,
 * created, labels from the last list or re-read; its ports as Docker
 * lists them in that state) and pushed now. This is SPEC 6's "hint to
 * re-read" kept: the re-read still follows, hold_one keeps a stale one
 * from flipping the row back, and a list that goes on contradicting the
 * event past WORKER_RETRIES reads has the last word. A container never
 * listed has no record to build on: only its re-read reads it. Like a
 * re-read, the delta holds the workload's other known containers (R6).
 */
void
worker_apply(struct worker *w, const struct hint *hs, size_t nh)
{
	struct arena *a = arena_new();
	struct wire_delta d;
	struct wire_container c, *e;
	struct recs r;
	struct wbuf b = {0};
	const char *wid;
	size_t i, j, napplied = 0;

	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	r.a = a;
	r.cap = 8;
	r.v = arena_alloc(a, r.cap * sizeof(*r.v));
	r.known = w->known;
	d.gone = arena_alloc(a, (nh + 1) * sizeof(*d.gone));
	for (i = 0; i < nh; i++) {
		if ((wid = known_wid(w->known, hs[i].id)) == NULL)
			continue;
		if (hs[i].apply_gone) {
			d.gone[d.ngone++] = arena_strdup(a, hs[i].id);
		} else if (hs[i].sets != 0 &&
		           known_derive(w->known, hs[i].id,
		                        parse_sets_state(hs[i].sets), a,
		                        &c) == 0 &&
		           known_changed(w->known, &c)) {
			recs_put(&r, &c);
		} else {
			continue;
		}
		napplied++;
		log_debug("container %.12s: applying its event (%s)", hs[i].id,
		          hs[i].apply_gone ? "destroyed"
		                           : parse_sets_state(hs[i].sets));
		known_each_of(w->known, wid, recs_sibling, &r);
	}
	if (napplied == 0) {
		arena_free(a);
		return;
	}
	/* A destroyed container is not sent as a sibling too. */
	for (i = j = 0; i < r.n; i++) {
		e = &r.v[i];
		if (!worker_ids_have(d.gone, d.ngone, e->id))
			r.v[j++] = *e;
	}
	r.n = j;
	d.host = (char *)w->conf.host_name;
	d.gen = w->gen;
	d.containers = r.v;
	d.ncontainers = r.n;
	if (wire_encode_delta(&b, &d) == -1)
		abort(); /* only a NULL required field, which we never pass */
	known_update(w->known, d.containers, d.ncontainers, d.gone, d.ngone);
	arena_free(a);
	worker_count(w, &w->st.event_applied, napplied);
	if (worker_push(w, &b, "delta", d.gen) == 0)
		worker_count(w, &w->st.deltas_sent, 1);
	wbuf_free(&b);
}
