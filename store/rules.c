/*
 * rules.c: SPEC §4's rules R1-R10 applied to a snapshot or a delta: each
 * container resolved to its row (R1-R6), one pick per row (R6), the
 * upserts (R4), R7's sweep and Docker's destroyed containers. One message
 * is one write transaction: readers never see half a pass. Over 600
 * lines because the steps share one struct pass and read best in the
 * order they run; R3's warn-once table is the only part that could
 * stand alone, and it is one screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "log.h"
#include "rules.h"
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
	const struct wire_host *host_rec;
	uint64_t t0; /* mono_us at the start */

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
	struct rules_result r;
};

const char *
rules_state_map(const char *s)
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
	row->state = (char *)rules_state_map(c->state);
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
			st->ctr[STC_KIND_WARNINGS]++;
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
	if (r == 1 && digest != 0) {
		/* R4, the common case: the row bound to this container has
		 * the fields it would get (and exists: db_docker.c drops the
		 * digest with the row). Nothing to write: last_seen_at follows
		 * from the host's pass (rules_last_seen). */
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

/*
 * R4/R6: writes the winner of a row's candidates. A row whose only change
 * would be last_seen_at is not rewritten, by a snapshot or a delta: a
 * bound, present row reads the time of its host's last complete pass
 * (rules_last_seen), so a delta that changes nothing writes nothing and
 * commits nothing. A row that does change gets the time the container
 * was seen.
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
	if (changed && db_row_put(tx, &row) == -1)
		return -1;
	/* bound through by_docker and still naming c: the index is right,
	 * unless it has no digest yet (a database from before digests) */
	if ((cd->old == NULL || !str_eq(old.container_id, c->id) ||
	     cd->undigested) &&
	    db_docker_rebind(tx, row.id, old.container_id, &row) == -1)
		return -1;
	if (!changed)
		return 0;
	p->r.changed++;
	return changes_container(p->st, tx, "upsert", &row,
	                         r == 1 ? old.state : "");
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
	return changes_container(p->st, tx, "missing", &row, prev);
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

/* hosts.forget: picks host's bound rows that are not missing yet. */
static int
forget_pick(void *arg, struct wire_row *row)
{
	struct pass *p = arg;

	if (!str_eq(row->host, p->host) || str_empty(row->container_id) ||
	    str_eq(row->state, STATE_MISSING))
		return 0;
	p->swept = arena_realloc(p->a, p->swept, p->nswept * sizeof(char *),
	                         (p->nswept + 1) * sizeof(char *));
	p->swept[p->nswept++] = arena_strdup(p->a, row->id);
	return 0;
}

int
rules_forget(struct store *st, struct dbtx *tx, const char *host, uint64_t *n)
{
	struct pass p;
	size_t i;
	int r = 0;

	memset(&p, 0, sizeof(p));
	p.st = st;
	p.host = host;
	p.a = arena_new();
	if (db_host_rows_each(tx, host, NULL, forget_pick, &p) == -1)
		r = -1;
	for (i = 0; r == 0 && i < p.nswept; i++)
		r = mark_missing(&p, tx, p.swept[i]);
	arena_free(p.a);
	*n = p.r.missing;
	return r;
}

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
		if (db_host_rows_each(tx, p->host, sweep_skip, sweep_pick, p) ==
		    -1)
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
	/* a snapshot commits (its pass event); a delta that changed
	 * nothing does not, and is not made to for its host's time alone */
	if (p->host_rec != NULL && (p->pass_event || db_dirty(tx))) {
		if (db_host_put(tx, p->host_rec) == -1)
			return -1;
		p->r.host_saved = true;
	}
	p->r.duration_us = mono_us() - p->t0;
	if (p->pass_event && changes_pass(tx, p->host, p->gen, &p->r) == -1)
		return -1;
	p->r.rev = db_head(tx);
	return 0;
}

static void
count_result(struct store *st, const struct rules_result *r)
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

int
rules_apply(struct store *st, const struct rules_input *in,
            struct rules_result *res)
{
	struct pass p;
	int r;

	memset(&p, 0, sizeof(p));
	p.st = st;
	p.host = in->host;
	p.gen = in->gen;
	p.seen_at = in->seen_at;
	p.cs = in->cs;
	p.ncs = in->ncs;
	p.gone = in->gone;
	p.ngone = in->ngone;
	p.skipped = in->skipped;
	p.nskipped = in->nskipped;
	p.sweep = in->sweep;
	p.pass_event = in->pass_event;
	p.host_rec = in->host_rec;
	p.t0 = mono_us();
	r = changes_write(st, pass_run, &p);
	arena_free(p.a);
	if (r != 0) {
		st->ctr[STC_WRITE_ERRORS]++;
		log_error(
		    "unable to apply %s gen %llu of host %s: write failed",
		    in->what, (unsigned long long)p.gen, p.host);
		return -1;
	}
	count_result(st, &p.r);
	*res = p.r;
	res->applied = true;
	if (p.r.changed > 0 || p.r.missing > 0)
		log_info("applied %s gen %llu of host %s: %llu seen, %llu "
		         "changed, %llu missing, rev %llu, %llu us",
		         in->what, (unsigned long long)p.gen, p.host,
		         (unsigned long long)p.r.seen,
		         (unsigned long long)p.r.changed,
		         (unsigned long long)p.r.missing,
		         (unsigned long long)p.r.rev,
		         (unsigned long long)p.r.duration_us);
	else
		log_debug("applied %s gen %llu of host %s: %llu seen, no "
		          "change, rev %llu, %llu us",
		          in->what, (unsigned long long)p.gen, p.host,
		          (unsigned long long)p.r.seen,
		          (unsigned long long)p.r.rev,
		          (unsigned long long)p.r.duration_us);
	return 0;
}

/*
 * A bound, present row of a host was seen by every complete pass of that
 * host since it was written (else R7 would have made it missing), so its
 * last_seen_at is at least the host's last pass. Passes rely on this and
 * do not rewrite rows whose only change would be last_seen_at. A row
 * created (both times are the store's clock) after that pass was not seen
 * by it. A row the deployer re-binds between passes shows the last pass
 * until the next one sees it or sweeps it.
 */
int64_t
rules_last_seen(const struct wire_row *row, int64_t pass_at,
                int64_t pass_stored)
{
	if (str_empty(row->container_id) || row->state == NULL ||
	    str_eq(row->state, STATE_MISSING))
		return row->last_seen_at;
	if (pass_at > row->last_seen_at && pass_stored >= row->created_at)
		return pass_at;
	return row->last_seen_at;
}
