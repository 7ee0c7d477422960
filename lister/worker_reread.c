/*
 * worker_reread.c: the Docker thread's re-read after events: the
 * containers a batch of hints names, and the other known containers of
 * their workloads (R6), listed by id and sent as a delta; a change among
 * them that no event announced is a suspect, as a pass would count it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse.h"
#include "util.h"
#include "worker_int.h"

/* The containers one re-read round lists. */
struct idset {
	struct arena *a;
	char **ids;
	size_t n;
	bool full; /* more than REREAD_MAX: a pass instead */
};

static void
idset_add(void *arg, const char *id)
{
	struct idset *s = arg;
	size_t i;

	if (!docker_id_ok(id))
		return; /* not Docker's: only a pass can read it */
	for (i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return;
	if (s->n == REREAD_MAX) {
		s->full = true;
		return;
	}
	s->ids[s->n++] = arena_strdup(s->a, id);
}

static bool
listed(const struct wire_container *cs, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(cs[i].id, id) == 0)
			return true;
	return false;
}

/*
 * Lists the containers of the batch, and with each the other known
 * containers of its workload: R6 picks among all containers that map to
 * one row, so a delta must hold them all, as a snapshot would. A
 * container asked for and not listed is gone (unless some answer skipped
 * an element it could not represent: then only destroy events count).
 * Fills d from a; 0, -1 when a call failed, 1 when the batch is too big
 * for a re-read.
 */
static int
reread(struct worker *w, struct arena *a, const struct hint *batch, size_t nb,
       struct wire_delta *d)
{
	struct idset set = {a, NULL, 0, false};
	struct parse_result r;
	const char *wid, *body;
	char err[DOCKER_ERR_LEN];
	size_t i, j, n, len, ncs = 0, cap;
	bool exact = true;
	struct wire_container *cs;

	set.ids = arena_alloc(a, REREAD_MAX * sizeof(*set.ids));
	for (i = 0; i < nb && !set.full; i++) {
		if (!batch[i].gone)
			idset_add(&set, batch[i].id);
		wid = batch[i].wid[0] ? batch[i].wid
		                      : known_wid(w->known, batch[i].id);
		if (wid != NULL && wid[0] != '\0')
			known_each_of(w->known, wid, idset_add, &set);
	}
	if (set.full)
		return 1;
	cap = set.n + 1;
	cs = arena_alloc(a, cap * sizeof(*cs));
	for (i = 0; i < set.n; i += n) {
		n = set.n - i < DOCKER_IDS_MAX ? set.n - i : DOCKER_IDS_MAX;
		if (docker_list_ids(w->dk, w->conf.prefix, set.ids + i, n,
		                    &body, &len, err, sizeof(err)) == -1 ||
		    parse_list(body, len, w->conf.prefix, a, &r, err,
		               sizeof(err)) == -1) {
			worker_list_failed(w, "re-read containers", err);
			return -1;
		}
		if (r.skipped > 0 || r.unlabelled > 0)
			exact = false;
		for (j = 0; j < r.ncontainers; j++) {
			if (listed(cs, ncs, r.containers[j].id))
				continue;
			if (ncs == cap) {
				cs = arena_realloc(a, cs, cap * sizeof(*cs),
				                   2 * cap * sizeof(*cs));
				cap *= 2;
			}
			cs[ncs++] = r.containers[j];
		}
	}
	if (set.n > 0)
		worker_list_ok(w);
	memset(d, 0, sizeof(*d));
	d->containers = cs;
	d->ncontainers = ncs;
	d->gone = arena_alloc(a, (set.n + nb + 1) * sizeof(*d->gone));
	for (i = 0; i < nb; i++)
		if (batch[i].gone && !listed(cs, ncs, batch[i].id))
			d->gone[d->ngone++] = arena_strdup(a, batch[i].id);
	for (i = 0; exact && i < set.n; i++)
		if (!listed(cs, ncs, set.ids[i]) &&
		    !worker_ids_have(d->gone, d->ngone, set.ids[i]))
			d->gone[d->ngone++] = set.ids[i];
	return 0;
}

/*
 * The re-read also lists the other containers of each workload: a change
 * among those that neither the batch nor a waiting hint announced was
 * missed by the stream, as a pass would have found it.
 */
static void
reread_missed(struct worker *w, const struct hint *batch, size_t nb,
              const struct wire_delta *d)
{
	size_t i, j;
	bool announced;

	for (i = 0; i < d->ncontainers + d->ngone; i++) {
		const char *id = i < d->ncontainers
		                     ? d->containers[i].id
		                     : d->gone[i - d->ncontainers];

		announced = false;
		for (j = 0; j < nb && !announced; j++)
			announced = strcmp(batch[j].id, id) == 0;
		if (announced)
			continue;
		if (i < d->ncontainers
		        ? !known_changed(w->known, &d->containers[i])
		        : known_wid(w->known, id) == NULL)
			continue;
		pthread_mutex_lock(&w->mu);
		announced = hints_has(&w->hints, id);
		pthread_mutex_unlock(&w->mu);
		if (!announced && known_primed(w->known))
			worker_suspect(w, id);
	}
}

/* One re-read round: 0 done, -1 a call failed, 1 a pass should do it. */
int
worker_reread(struct worker *w, const struct hint *batch, size_t nb)
{
	struct arena *a = arena_new();
	struct wire_delta d;
	struct wbuf b = {0};
	int64_t t0 = mono_ms();
	size_t i;
	int rc;

	if ((rc = reread(w, a, batch, nb, &d)) != 0) {
		arena_free(a);
		if (rc == 1)
			return 1;
		/* Back to the hints: the pass that follows answers them, and
		 * they were announced, not missed. */
		pthread_mutex_lock(&w->mu);
		w->st.reread_failures++;
		for (i = 0; i < nb; i++)
			if (hints_retry(&w->hints, &batch[i], mono_ms()) == -1)
				break;
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	reread_missed(w, batch, nb, &d);
	worker_recheck(w, a, batch, nb, d.containers, &d.ncontainers);
	known_update(w->known, d.containers, d.ncontainers, d.gone, d.ngone);
	worker_count(w, &w->st.rereads, 1);
	log_debug("re-read for %zu events: %zu containers, %zu gone, %lld ms",
	          nb, d.ncontainers, d.ngone, (long long)(mono_ms() - t0));
	if (d.ncontainers == 0 && d.ngone == 0) {
		arena_free(a);
		return 0;
	}
	d.host = (char *)w->conf.host_name;
	d.gen = w->gen;
	if (wire_encode_delta(&b, &d) == -1)
		abort(); /* only a NULL required field, which we never pass */
	arena_free(a);
	if (worker_push(w, &b, "delta", d.gen) == 0)
		worker_count(w, &w->st.deltas_sent, 1);
	wbuf_free(&b);
	return 0;
}
