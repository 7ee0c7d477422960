/*
 * reconcile.c: SPEC §4's rules R1-R10 applied to snapshots and deltas,
 * and plugin results folded into workload records. One message is one
 * write transaction: readers never see half a pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"
#include "reconcile.h"
#include "util.h"

#define STATE_MISSING "missing"

/* A container that resolved to a row (R4 or R6), waiting for R6's pick. */
struct cand {
	char *row_id;
	const struct wire_container *c;
	const struct wire_workload *w;
	size_t row_len;
	const char *role;     /* "" when no role label */
	struct wire_row *old; /* R4: the row bound to c, as read; or NULL */
	bool same;            /* R4: that row needs no change (not read) */
	bool undigested;      /* R4: by_docker has no digest for it yet */
};

/* A pass's workload look-ups: many containers share a workload. */
struct wslot {
	const char *id;          /* NULL: empty slot */
	struct wire_workload *w; /* NULL: no such workload (R2) */
};

/* One snapshot or delta being applied. The inputs stay put; everything
 * below `a` is rebuilt on each run of the transaction body. */
struct pass {
	struct store *st;
	const char *host;
	uint64_t gen;
	int64_t seen_at; /* last_seen_at written to rows */
	const struct wire_container *cs;
	size_t ncs;
	char *const *gone;
	size_t ngone;
	char *const *skipped; /* the snapshot's (R8) */
	size_t nskipped;
	bool sweep;      /* R7: a complete snapshot */
	bool pass_event; /* a snapshot: sys/pass after it */
	uint64_t t0;     /* mono_us at the start */

	struct arena *a;
	struct cand *cands;
	size_t ncands;
	struct cand **won; /* R6: each row's pick, open addressing by row id */
	size_t wonmask;    /* its size - 1, a power of two */
	char **swept;      /* R7: rows to turn missing */
	size_t nswept;
	/* R8: Docker ids of containers that are there but whose input was
	 * refused (by the lister: the snapshot's skipped; by us: an id that
	 * breaks the pattern): the rows bound to them are not swept */
	const char **kept;
	size_t nkept;
	struct wslot *wc; /* open addressing, a power of two */
	size_t wcap, wn;
	struct recon_result r;
};

const char *
recon_state_map(const char *s)
{
	static const struct {
		const char *docker, *row;
	} map[] = {
	    {"running", "running"},
	    {"exited", "stopped"},
	    {"dead", "stopped"},
	    {"stopped", "stopped"},
	};
	size_t i;

	if (s == NULL)
		return "";
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i].docker) == 0)
			return map[i].row;
	/* created, restarting, paused, removing and anything else: kept */
	return s;
}

static const char *
label(const struct wire_container *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nlabels; i++)
		if (c->labels[i].key != NULL &&
		    strcmp(c->labels[i].key, key) == 0)
			return c->labels[i].val != NULL ? c->labels[i].val : "";
	return NULL;
}

static size_t
str_hash(const char *s, size_t n)
{
	return (size_t)fnv64(FNV64_INIT, s, n);
}

static struct wslot *
wslot_find(struct wslot *t, size_t cap, const char *id)
{
	size_t i = str_hash(id, strlen(id)) & (cap - 1);

	while (t[i].id != NULL && strcmp(t[i].id, id) != 0)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

/* The slot of the kind warning for Docker id, or NULL. */
static struct store_kind_warned *
kind_warned_find(struct store *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->nkind_warned; i++)
		if (strcmp(st->kind_warned[i].id, id) == 0)
			return &st->kind_warned[i];
	return NULL;
}

/* R3: true when the mismatch of Docker id (label kind vs the stored
 * wkind) has to be logged, i.e. was not logged already; remembers it. */
static bool
kind_warn_due(struct store *st, const char *id, const char *kind,
              const char *wkind)
{
	struct store_kind_warned *e;

	if (st->kind_warned == NULL)
		return true;
	if ((e = kind_warned_find(st, id)) != NULL) {
		if (strncmp(e->kind, kind, sizeof(e->kind) - 1) == 0 &&
		    strncmp(e->wkind, wkind, sizeof(e->wkind) - 1) == 0)
			return false;
	} else if (st->nkind_warned < STORE_KIND_WARNED_MAX) {
		e = &st->kind_warned[st->nkind_warned++];
	} else {
		/* full: reuse the slots in turn, the oldest first */
		e = &st->kind_warned[st->kind_warned_next];
		st->kind_warned_next =
		    (st->kind_warned_next + 1) % STORE_KIND_WARNED_MAX;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	snprintf(e->wkind, sizeof(e->wkind), "%s", wkind);
	return true;
}

/* R3: Docker id passed the kind check: a later mismatch warns again. */
static void
kind_warn_clear(struct store *st, const char *id)
{
	struct store_kind_warned *e;

	if (st->nkind_warned == 0 || (e = kind_warned_find(st, id)) == NULL)
		return;
	*e = st->kind_warned[--st->nkind_warned];
	if (st->kind_warned_next >= st->nkind_warned)
		st->kind_warned_next = 0;
}

/* R8: container id is there, its input refused: its row stays. */
static void
kept_add(struct pass *p, const char *id)
{
	if (!id_valid(id))
		return; /* no row can be bound to it */
	p->kept = arena_realloc(p->a, p->kept, p->nkept * sizeof(*p->kept),
	                        (p->nkept + 1) * sizeof(*p->kept));
	p->kept[p->nkept++] = id;
}

static int
str_pcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The workload named wid, read once per pass: 1 found (*w set), 0 no
 * such workload, -1 error. */
static int
workload_of(struct pass *p, struct dbtx *tx, const char *wid,
            struct wire_workload **w)
{
	struct wslot *slot, *old = p->wc;
	size_t i, ocap = p->wcap;
	int r;

	if (p->wn * 2 >= p->wcap) {
		p->wcap = ocap != 0 ? ocap * 2 : 64;
		p->wc = arena_alloc(p->a, p->wcap * sizeof(*p->wc));
		for (i = 0; i < ocap; i++)
			if (old[i].id != NULL)
				*wslot_find(p->wc, p->wcap, old[i].id) = old[i];
	}
	slot = wslot_find(p->wc, p->wcap, wid);
	if (slot->id == NULL) {
		slot->w = arena_alloc(p->a, sizeof(*slot->w));
		if ((r = db_workload_get(tx, wid, p->a, slot->w)) == -1)
			return -1;
		if (r == 0)
			slot->w = NULL;
		slot->id = wid;
		p->wn++;
	}
	*w = slot->w;
	return *w != NULL;
}

/* R4's Docker-derived fields of the row for container c (all but
 * last_seen_at). */
static void
derive(const struct pass *p, const struct wire_workload *w, const char *role,
       const struct wire_container *c, struct wire_row *row)
{
	row->workload_id = w->id;
	row->workload_kind = w->kind;
	row->role = (char *)role;
	row->container_id = c->id;
	row->image_ref = c->image != NULL ? c->image : "";
	row->host = (char *)p->host;
	row->state = (char *)recon_state_map(c->state);
	row->port = c->nports > 0 ? c->ports[0] : 0; /* R10 */
}

/*
 * R1-R6 for one container: finds the row it belongs to, or counts why it
 * is ignored. An empty role or kind label counts as absent (compose and
 * templating tools write empty labels for unset values).
 */
static int
resolve(struct pass *p, struct dbtx *tx, const struct wire_container *c)
{
	struct store *st = p->st;
	const char *wid, *kind, *role;
	char bound[WIRE_ID_MAX + 1], rid[3 * WIRE_ID_MAX];
	struct wire_workload *w;
	struct wire_row *row = NULL, want;
	struct cand *cd;
	uint64_t digest = 0;
	bool same = false;
	int r;

	if ((wid = label(c, st->key_id)) == NULL) {
		p->r.ignored_unlabeled++; /* R1 */
		return 0;
	}
	kind = label(c, st->key_kind);
	role = label(c, st->key_role);
	if (role == NULL)
		role = "";
	if (!id_valid(wid) || !id_valid(c->id) ||
	    (*role != '\0' && !id_valid(role))) {
		log_debug("container %.128s: workload id, role or Docker id "
		          "breaks the id pattern: ignored",
		          c->id != NULL ? c->id : "");
		p->r.ignored_invalid++;
		kept_add(p, c->id);
		return 0;
	}
	if ((r = workload_of(p, tx, wid, &w)) == -1)
		return -1;
	if (r == 0) {
		log_debug("container %s: no workload %s: ignored", c->id, wid);
		kind_warn_clear(st, c->id);
		p->r.ignored_unknown++; /* R2 */
		return 0;
	}
	if (!str_empty(kind) && !str_eq(kind, w->kind)) {
		/* once per container and kinds, not on every pass */
		if (kind_warn_due(st, c->id, kind, w->kind)) {
			st->kind_warnings++;
			log_warnx("container %s: kind label %.64s differs from "
			          "workload %s's kind %s: ignored (warned "
			          "once while it does)",
			          c->id, kind, wid, w->kind);
		}
		p->r.ignored_kind++; /* R3 */
		return 0;
	}
	kind_warn_clear(st, c->id);
	rid[0] = '\0';
	if ((r = db_docker_find(tx, c->id, bound, &digest)) == -1)
		return -1;
	if (r == 1 && p->sweep && digest != 0) {
		/* R4, the common case: the row bound to this container has
		 * the fields it would get (and exists: db.c drops the digest
		 * with the row). last_seen_at follows from the pass. */
		memset(&want, 0, sizeof(want));
		derive(p, w, role, c, &want);
		same = wire_row_docker_digest(&want) == digest;
	}
	if (same)
		memcpy(rid, bound, strlen(bound) + 1);
	else if (r == 1) {
		/* R4: the row bound to this container, if it still exists */
		row = arena_alloc(p->a, sizeof(*row));
		if ((r = db_row_get(tx, bound, p->a, row)) == -1)
			return -1;
		if (r == 1)
			memcpy(rid, bound, strlen(bound) + 1);
		else
			row = NULL;
	}
	if (rid[0] == '\0') {
		if (str_eq(w->kind, "project")) {
			p->r.ignored_project++; /* R5 */
			return 0;
		}
		/* R6 naming */
		if (str_eq(w->kind, "site"))
			snprintf(rid, sizeof(rid), "%s:site", wid);
		else if (*role != '\0')
			snprintf(rid, sizeof(rid), "%s:%s", wid, role);
		else
			snprintf(rid, sizeof(rid), "%s:%s", wid, c->id);
		if (!id_valid(rid)) {
			log_debug("container %s: row id %s too long: ignored",
			          c->id, rid);
			p->r.ignored_invalid++;
			kept_add(p, c->id);
			return 0;
		}
	}
	cd = &p->cands[p->ncands++];
	cd->row_id = arena_strdup(p->a, rid);
	cd->row_len = strlen(rid);
	cd->c = c;
	cd->w = w;
	cd->role = role;
	cd->old = row;
	cd->same = same;
	cd->undigested = row != NULL && digest == 0;
	return 0;
}

/* R6's preference between two candidates for one row: running first,
 * then the most recently created, then (for determinism) the greater id. */
static bool
cand_better(const struct cand *a, const struct cand *b)
{
	int ra = str_eq(a->c->state, "running");
	int rb = str_eq(b->c->state, "running");

	if (ra != rb)
		return ra;
	if (a->c->created != b->c->created)
		return a->c->created > b->c->created;
	return strcmp(a->c->id, b->c->id) > 0;
}

/* The slot of the row id given by (key, len): its pick, or an empty one. */
static struct cand **
won_slot(const struct pass *p, const char *key, size_t len)
{
	size_t i = str_hash(key, len) & p->wonmask;
	struct cand *cd;

	while ((cd = p->won[i]) != NULL &&
	       (cd->row_len != len || memcmp(cd->row_id, key, len) != 0))
		i = (i + 1) & p->wonmask;
	return &p->won[i];
}

/* R6: picks one candidate per row. */
static void
pick(struct pass *p)
{
	struct cand **slot;
	size_t i, cap = 16;

	while (cap < 2 * p->ncands)
		cap *= 2;
	p->won = arena_alloc(p->a, cap * sizeof(*p->won));
	p->wonmask = cap - 1;
	for (i = 0; i < p->ncands; i++) {
		slot = won_slot(p, p->cands[i].row_id, p->cands[i].row_len);
		if (*slot == NULL || cand_better(&p->cands[i], *slot))
			*slot = &p->cands[i];
	}
}

static int
row_event(struct dbtx *tx, const char *op, struct wire_row *row,
          const char *prev_state)
{
	struct wire_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_CONTAINER;
	ev.op = (char *)op;
	ev.row = row;
	ev.prev_state = (char *)(prev_state != NULL ? prev_state : "");
	ev.at = now_ms();
	return db_event(tx, &ev);
}

/*
 * R4/R6: writes the winner of a row's candidates. In a complete snapshot
 * a row whose only change would be last_seen_at is not rewritten: the
 * host's pass time, recorded at the end of the pass, stands for it (see
 * db_host_seen).
 */
static int
upsert(struct pass *p, struct dbtx *tx, const struct cand *cd)
{
	const struct wire_container *c = cd->c;
	struct wire_row old, row;
	bool changed;
	int r = 1;

	if (cd->same)
		return 0;
	if (cd->old != NULL)
		old = *cd->old;
	else if ((r = db_row_get(tx, cd->row_id, p->a, &old)) == -1)
		return -1;
	if (r == 1)
		row = old; /* deployer-owned fields and created_at stay */
	else {
		memset(&old, 0, sizeof(old));
		memset(&row, 0, sizeof(row));
		row.id = cd->row_id;
		row.created_at = now_ms();
	}
	derive(p, cd->w, cd->role, c, &row);
	row.last_seen_at = p->seen_at;
	changed = r == 0 || wire_row_docker_differ(&old, &row);
	if (changed || (!p->sweep && old.last_seen_at < row.last_seen_at)) {
		if (db_row_put(tx, &row) == -1)
			return -1;
	}
	/* bound through by_docker and still naming c: the index is right,
	 * unless it has no digest yet (a database from before digests) */
	if ((cd->old == NULL || !str_eq(old.container_id, c->id) ||
	     cd->undigested) &&
	    db_docker_rebind(tx, row.id, old.container_id, &row) == -1)
		return -1;
	if (!changed)
		return 0;
	p->r.changed++;
	return row_event(tx, "upsert", &row, r == 1 ? old.state : "");
}

static int
mark_missing(struct pass *p, struct dbtx *tx, const char *row_id)
{
	struct wire_row row;
	char *prev;
	int r;

	if ((r = db_row_get(tx, row_id, p->a, &row)) <= 0)
		return r;
	if (str_eq(row.state, STATE_MISSING))
		return 0;
	prev = row.state;
	row.state = STATE_MISSING;
	if (db_row_put(tx, &row) == -1)
		return -1;
	p->r.missing++;
	return row_event(tx, "missing", &row, prev);
}

/* R7: rows the snapshot named are passed over undecoded. */
static bool
sweep_skip(void *arg, const char *key, size_t len)
{
	return *won_slot(arg, key, len) != NULL;
}

/* R7: picks this host's bound, present rows the snapshot did not name. */
static int
sweep_pick(void *arg, struct wire_row *row)
{
	struct pass *p = arg;

	if (!str_eq(row->host, p->host) || str_empty(row->container_id) ||
	    str_eq(row->state, STATE_MISSING))
		return 0;
	if (p->nkept > 0 && bsearch(&row->container_id, p->kept, p->nkept,
	                            sizeof(*p->kept), str_pcmp) != NULL) {
		p->r.kept++;
		return 0;
	}
	p->swept = arena_realloc(p->a, p->swept, p->nswept * sizeof(char *),
	                         (p->nswept + 1) * sizeof(char *));
	p->swept[p->nswept++] = arena_strdup(p->a, row->id);
	return 0;
}

/* A container Docker reported destroyed: its row (if still bound to it)
 * becomes missing. */
static int
gone_one(struct pass *p, struct dbtx *tx, const char *docker_id)
{
	char rid[WIRE_ID_MAX + 1];
	struct wire_row row;
	int r;

	if (!id_valid(docker_id)) {
		p->r.ignored_invalid++;
		return 0;
	}
	if ((r = db_docker_get(tx, docker_id, rid)) <= 0)
		return r;
	if ((r = db_row_get(tx, rid, p->a, &row)) <= 0)
		return r;
	if (!str_eq(row.container_id, docker_id))
		return 0;
	return mark_missing(p, tx, rid);
}

static int
pass_event(struct pass *p, struct dbtx *tx)
{
	struct wire_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_PASS;
	ev.host = (char *)p->host;
	ev.gen = p->gen;
	ev.seen = p->r.seen;
	ev.changed = p->r.changed;
	ev.missing = p->r.missing;
	ev.ignored_unknown = p->r.ignored_unknown;
	ev.ignored_kind = p->r.ignored_kind;
	ev.duration_us = p->r.duration_us;
	ev.at = now_ms();
	return db_event(tx, &ev);
}

/* The transaction body; reruns from scratch after a map resize. */
static int
pass_run(struct dbtx *tx, void *arg)
{
	struct pass *p = arg;
	size_t i;

	arena_free(p->a);
	p->a = arena_new();
	memset(&p->r, 0, sizeof(p->r));
	p->r.seen = p->ncs;
	p->ncands = p->nswept = 0;
	p->swept = NULL;
	p->kept = NULL;
	p->nkept = 0;
	for (i = 0; i < p->nskipped; i++)
		kept_add(p, p->skipped[i]);
	p->wc = NULL;
	p->wcap = p->wn = 0;
	p->cands = arena_alloc(p->a, (p->ncs + 1) * sizeof(*p->cands));
	for (i = 0; i < p->ncs; i++)
		if (resolve(p, tx, &p->cs[i]) == -1)
			return -1;
	pick(p);
	for (i = 0; i < p->ncands; i++) {
		if (*won_slot(p, p->cands[i].row_id, p->cands[i].row_len) !=
		    &p->cands[i])
			continue; /* R6: another container won this row */
		if (upsert(p, tx, &p->cands[i]) == -1)
			return -1;
	}
	if (p->sweep) {
		if (p->nkept > 1)
			qsort(p->kept, p->nkept, sizeof(*p->kept), str_pcmp);
		if (db_rows_each_unless(tx, sweep_skip, sweep_pick, p) == -1)
			return -1;
		for (i = 0; i < p->nswept; i++)
			if (mark_missing(p, tx, p->swept[i]) == -1)
				return -1;
	}
	for (i = 0; i < p->ngone; i++)
		if (gone_one(p, tx, p->gone[i]) == -1)
			return -1;
	/* after the sweep: the rows it turned missing keep their old time */
	if (p->sweep && db_host_seen_set(tx, p->host, p->seen_at) == -1)
		return -1;
	p->r.duration_us = mono_us() - p->t0;
	if (p->pass_event && pass_event(p, tx) == -1)
		return -1;
	p->r.rev = db_head(tx);
	return 0;
}

/* A lower gen than the host's last applied snapshot is stale, unless it
 * comes on another pipe than that snapshot did: then the lister restarted
 * and its counter began again. */
static bool
is_stale(struct store *st, const char *host, uint64_t gen, uint32_t pipe,
         uint64_t *last)
{
	uint32_t lpipe;

	if (store_gen_get(st, host, last, &lpipe) == 0 || gen >= *last)
		return false;
	return pipe == 0 || lpipe == 0 || pipe == lpipe;
}

static void
count_result(struct store *st, const struct recon_result *r)
{
	st->ctr[STC_IGNORED_UNLABELED] += r->ignored_unlabeled;
	st->ctr[STC_IGNORED_INVALID] += r->ignored_invalid;
	st->ctr[STC_SWEEP_KEPT] += r->kept;
	st->ctr[STC_IGNORED_UNKNOWN] += r->ignored_unknown;
	st->ctr[STC_IGNORED_KIND] += r->ignored_kind;
	st->ctr[STC_IGNORED_PROJECT] += r->ignored_project;
	st->ctr[STC_ROWS_CHANGED] += r->changed;
	st->ctr[STC_ROWS_MISSING] += r->missing;
}

static int
run_pass(struct store *st, struct pass *p, const char *what,
         struct recon_result *res)
{
	int r;

	p->st = st;
	p->t0 = mono_us();
	r = db_write(st->db, pass_run, p);
	arena_free(p->a);
	p->a = NULL;
	if (r != 0) {
		st->ctr[STC_WRITE_ERRORS]++;
		log_error(
		    "unable to apply %s gen %llu of host %s: write failed",
		    what, (unsigned long long)p->gen, p->host);
		return -1;
	}
	count_result(st, &p->r);
	if (res != NULL) {
		*res = p->r;
		res->applied = true;
	}
	if (p->r.changed > 0 || p->r.missing > 0)
		log_info("applied %s gen %llu of host %s: %llu seen, %llu "
		         "changed, %llu missing, rev %llu, %llu us",
		         what, (unsigned long long)p->gen, p->host,
		         (unsigned long long)p->r.seen,
		         (unsigned long long)p->r.changed,
		         (unsigned long long)p->r.missing,
		         (unsigned long long)p->r.rev,
		         (unsigned long long)p->r.duration_us);
	else
		log_debug("applied %s gen %llu of host %s: %llu seen, no "
		          "change, rev %llu, %llu us",
		          what, (unsigned long long)p->gen, p->host,
		          (unsigned long long)p->r.seen,
		          (unsigned long long)p->r.rev,
		          (unsigned long long)p->r.duration_us);
	return 0;
}

int
recon_apply_snapshot(struct store *st, const struct wire_snapshot *s,
                     uint32_t pipe, struct recon_result *res)
{
	struct pass p;
	uint64_t last;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (str_empty(s->host)) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("unable to apply a snapshot: no host");
		return 0;
	}
	if (is_stale(st, s->host, s->gen, pipe, &last)) {
		st->ctr[STC_STALE]++;
		log_warnx("ignoring snapshot gen %llu of host %s: older than "
		          "the applied gen %llu",
		          (unsigned long long)s->gen, s->host,
		          (unsigned long long)last);
		return 0;
	}
	memset(&p, 0, sizeof(p));
	p.host = s->host;
	p.gen = s->gen;
	p.seen_at = s->taken_at > 0 ? s->taken_at : now_ms();
	p.cs = s->containers;
	p.ncs = s->ncontainers;
	p.skipped = s->skipped;
	p.nskipped = s->nskipped;
	p.pass_event = true;
	/*
	 * R8: the lister sends no snapshot for a failed list. Should an
	 * incomplete one arrive anyway, what it does list is still true, so
	 * its upserts apply; but it proves nothing about absent containers,
	 * so nothing is swept.
	 */
	p.sweep = s->complete;
	if (!s->complete) {
		st->ctr[STC_INCOMPLETE]++;
		log_warnx("snapshot gen %llu of host %s is incomplete: "
		          "applying upserts only, no sweep",
		          (unsigned long long)s->gen, s->host);
	}
	if (run_pass(st, &p, "snapshot", res) == -1)
		return -1;
	st->ctr[STC_SNAPSHOTS]++;
	if (s->complete)
		jobs_pass(st->jobs); /* R11 */
	return store_gen_set(st, s->host, s->gen, pipe);
}

int
recon_apply_delta(struct store *st, const struct wire_delta *d, uint32_t pipe,
                  struct recon_result *res)
{
	struct pass p;
	uint64_t last;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (str_empty(d->host)) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("unable to apply a delta: no host");
		return 0;
	}
	if (is_stale(st, d->host, d->gen, pipe, &last)) {
		st->ctr[STC_STALE]++;
		log_warnx("ignoring delta gen %llu of host %s: older than the "
		          "applied snapshot gen %llu",
		          (unsigned long long)d->gen, d->host,
		          (unsigned long long)last);
		return 0;
	}
	memset(&p, 0, sizeof(p));
	p.host = d->host;
	p.gen = d->gen;
	p.seen_at = now_ms();
	p.cs = d->containers;
	p.ncs = d->ncontainers;
	p.gone = d->gone;
	p.ngone = d->ngone;
	if (run_pass(st, &p, "delta", res) == -1)
		return -1;
	st->ctr[STC_DELTAS]++;
	return 0;
}

struct plugin_apply {
	const struct wire_plugin_result *pr;
	struct arena *a;
	bool unknown;
};

/*
 * A plugin's error text (its stderr) with the workload's secret values
 * cut out: the plugin had them on stdin and may echo them, and the text
 * goes into a workload event, which must never carry a secret.
 */
static char *
redact_secrets(struct arena *a, const struct wire_workload *w, const char *text)
{
	const char *secrets[] = {w->notification_secret, w->webhook_secret,
	                         w->webhook_signing_secret};
	const char *mark = "[redacted]", *hit;
	char *out = (char *)(text != NULL ? text : ""), *next;
	size_t i, n, slen, mlen = strlen(mark);

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (str_empty(secrets[i]) || strstr(out, secrets[i]) == NULL)
			continue;
		slen = strlen(secrets[i]);
		/* a secret shorter than the mark can only grow the text by
		 * (mlen - slen) per hit: at most mlen per input byte */
		n = strlen(out) * (mlen > slen ? mlen : 1) + 1;
		next = arena_alloc(a, n);
		for (n = 0; (hit = strstr(out, secrets[i])) != NULL;
		     out = (char *)hit + slen) {
			memcpy(next + n, out, (size_t)(hit - out));
			n += (size_t)(hit - out);
			memcpy(next + n, mark, mlen);
			n += mlen;
		}
		memcpy(next + n, out, strlen(out) + 1);
		out = next;
	}
	/* marks in place of one-byte secrets could outgrow the wire's limit */
	if (strlen(out) > WIRE_TEXT_MAX)
		out[WIRE_TEXT_MAX] = '\0';
	return out;
}

static int
plugin_run(struct dbtx *tx, void *arg)
{
	struct plugin_apply *pa = arg;
	const struct wire_plugin_result *pr = pa->pr;
	struct wire_workload w, pub;
	struct wire_event ev;
	int r;

	arena_free(pa->a);
	pa->a = arena_new();
	pa->unknown = false;
	if ((r = db_workload_get(tx, pr->workload_id, pa->a, &w)) == -1)
		return -1;
	if (r == 0) {
		pa->unknown = true;
		return 1;
	}
	w.plugin.runs++;
	if (!pr->ok)
		w.plugin.failures++;
	w.plugin.last_run_at = pr->started_at;
	w.plugin.last_ok = pr->ok;
	if (pr->ok)
		w.plugin.last_ok_at = pr->started_at;
	w.plugin.last_error = redact_secrets(pa->a, &w, pr->error);
	w.plugin.last_reason = pr->reason;
	w.plugin.duration_ms = pr->duration_ms;
	if (db_workload_put(tx, &w) == -1)
		return -1;
	store_workload_public(&pub, &w);
	memset(&ev, 0, sizeof(ev));
	ev.type = WIRE_EV_WORKLOAD;
	ev.op = "plugin";
	ev.workload = &pub;
	ev.at = now_ms();
	return db_event(tx, &ev);
}

int
recon_apply_plugin_result(struct store *st, const struct wire_plugin_result *pr)
{
	struct plugin_apply pa = {pr, NULL, false};
	int r;

	if (!id_valid(pr->workload_id)) {
		st->ctr[STC_PLUGIN_UNKNOWN]++;
		log_warnx("dropping a plugin result: bad workload id");
		return 0;
	}
	r = db_write(st->db, plugin_run, &pa);
	arena_free(pa.a);
	if (r < 0) {
		st->ctr[STC_WRITE_ERRORS]++;
		log_error("unable to record the plugin result of %s: write "
		          "failed",
		          pr->workload_id);
		return -1;
	}
	if (pa.unknown) {
		st->ctr[STC_PLUGIN_UNKNOWN]++;
		log_warnx("dropping the plugin result of %s: no such workload",
		          pr->workload_id);
		return 0;
	}
	st->ctr[STC_PLUGIN_RESULTS]++;
	log_info("plugin of %s (%s) %s in %lld ms", pr->workload_id,
	         pr->reason != NULL ? pr->reason : "",
	         pr->ok ? "succeeded" : "failed", (long long)pr->duration_ms);
	return 0;
}

static int
ingest_snapshot(struct store *st, const void *buf, size_t len, struct arena *a,
                uint32_t pipe, char *err)
{
	struct wire_snapshot s;

	if (wire_decode_snapshot(buf, len, a, &s, err) == -1)
		return 1;
	return recon_apply_snapshot(st, &s, pipe, NULL);
}

static int
ingest_delta(struct store *st, const void *buf, size_t len, struct arena *a,
             uint32_t pipe, char *err)
{
	struct wire_delta d;

	if (wire_decode_delta(buf, len, a, &d, err) == -1)
		return 1;
	return recon_apply_delta(st, &d, pipe, NULL);
}

static int
ingest_plugin_result(struct store *st, const void *buf, size_t len,
                     struct arena *a, uint32_t pipe, char *err)
{
	struct wire_plugin_result pr;

	if (wire_decode_plugin_result(buf, len, a, &pr, err) == -1)
		return 1;
	return recon_apply_plugin_result(st, &pr);
}

/*
 * The messages the store takes on `ingest`. fn decodes and applies one:
 * 0 done (or dropped and counted), 1 it failed to decode (reason in err),
 * -1 the write failed.
 */
static const struct ingest_handler {
	enum wire_msgtype type;
	const char *name;
	int (*fn)(struct store *, const void *, size_t, struct arena *,
	          uint32_t pipe, char *err);
} ingest_handlers[] = {
    {WIRE_T_SNAPSHOT, "snapshot", ingest_snapshot},
    {WIRE_T_DELTA, "delta", ingest_delta},
    {WIRE_T_PLUGIN_RESULT, "plugin_result", ingest_plugin_result},
};

int
recon_ingest(struct store *st, const void *buf, size_t len, uint32_t pipe)
{
	const struct ingest_handler *h = NULL;
	char err[WIRE_ERR_LEN] = "";
	enum wire_msgtype type;
	struct arena *a;
	size_t i;
	int r;

	if (wire_peek_type(buf, len, &type, err) == -1) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("dropping an ingest message: %s", err);
		return 0;
	}
	for (i = 0; i < sizeof(ingest_handlers) / sizeof(ingest_handlers[0]);
	     i++)
		if (ingest_handlers[i].type == type)
			h = &ingest_handlers[i];
	if (h == NULL) {
		st->ctr[STC_UNKNOWN_MESSAGES]++;
		log_warnx("dropping an ingest message of type %d: not taken "
		          "here",
		          (int)type);
		return 0;
	}
	a = arena_new();
	r = h->fn(st, buf, len, a, pipe, err);
	arena_free(a);
	if (r == 1) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("dropping a %s: %s", h->name, err);
		return 0;
	}
	return r;
}
