/*
 * jobs.c: dispatch jobs for recon-dispatcher, built from the database when
 * sent and sent without ever blocking the store: a job the dispatcher
 * cannot take now waits, folded with later ones of its reason, and is
 * tried again from the poll loop.
 */
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"
#include "nngx.h"
#include "util.h"

static const char *const reason_names[JOBS_NREASONS] = {
    [JOBS_STATE] = "state",
    [JOBS_MANUAL] = "manual",
    [JOBS_PASS] = "pass",
};

void
jobs_init(struct jobs *j, struct db *db, nng_socket sock)
{
	memset(j, 0, sizeof(*j));
	j->db = db;
	j->sock = sock;
}

static void
pending_clear(struct jobs_pending *p)
{
	size_t i;

	for (i = 0; i < p->nwids; i++)
		free(p->wids[i]);
	p->nwids = 0;
	p->waiting = false;
	p->built = false;
	wbuf_reset(&p->msg);
}

void
jobs_fini(struct jobs *j)
{
	int r;

	for (r = 0; r < JOBS_NREASONS; r++) {
		pending_clear(&j->pend[r]);
		free(j->pend[r].wids);
		wbuf_free(&j->pend[r].msg);
	}
	memset(j, 0, sizeof(*j));
}

static int
wid_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
due_now(struct jobs *j)
{
	if (j->due_ms == 0)
		j->due_ms = mono_ms();
}

/* Adds wid to the reason's set (kept sorted); an id already waiting is
 * the fold. */
static void
pending_add(struct jobs *j, enum jobs_reason r, const char *wid)
{
	struct jobs_pending *p = &j->pend[r];
	size_t lo = 0, hi = p->nwids, mid;
	int c;

	j->requested++;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(wid, p->wids[mid])) == 0) {
			j->folded++;
			due_now(j);
			return;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (p->nwids == p->capwids) {
		p->capwids = p->capwids ? p->capwids * 2 : 8;
		p->wids = xreallocarray(p->wids, p->capwids, sizeof(*p->wids));
	}
	memmove(&p->wids[lo + 1], &p->wids[lo],
	        (p->nwids - lo) * sizeof(*p->wids));
	p->wids[lo] = xstrdup(wid);
	p->nwids++;
	p->waiting = true;
	p->built = false;
	due_now(j);
}

bool
jobs_state_worthy(const char *prev, const char *state)
{
	if (str_eq(state, "running") || str_eq(prev, state))
		return false;
	/* gone or dead is news from any state; leaving running for any
	 * other state (paused, restarting, ...) is news too */
	return str_eq(state, "missing") || str_eq(state, "stopped") ||
	       str_eq(prev, "running");
}

void
jobs_state(struct jobs *j, const char *wid)
{
	if (j != NULL)
		pending_add(j, JOBS_STATE, wid);
}

/* What jobs_owed reads: the workloads to ask for, and those to forget. */
struct owed {
	struct arena *a;
	char **ask, **forget;
	size_t nask, nforget, cap;
};

static int
owed_one(void *arg, const char *wid, uint64_t rev)
{
	struct owed *o = arg;

	(void)rev;
	if (o->nask == o->cap || o->nforget == o->cap) {
		o->ask =
		    arena_realloc(o->a, o->ask, o->cap * sizeof(char *),
		                  (o->cap ? o->cap * 2 : 16) * sizeof(char *));
		o->forget =
		    arena_realloc(o->a, o->forget, o->cap * sizeof(char *),
		                  (o->cap ? o->cap * 2 : 16) * sizeof(char *));
		o->cap = o->cap ? o->cap * 2 : 16;
	}
	o->ask[o->nask++] = arena_strdup(o->a, wid);
	return 0;
}

static int
owed_read(struct dbtx *tx, void *arg)
{
	struct owed *o = arg;
	struct wire_workload w;
	size_t i, n;
	int r;

	o->nask = o->nforget = 0;
	if (db_due_each(tx, owed_one, o) == -1)
		return -1;
	for (i = n = 0; i < o->nask; i++) {
		if ((r = db_workload_get(tx, o->ask[i], o->a, &w)) == -1)
			return -1;
		if (r == 1 && !str_empty(w.source_kind))
			o->ask[n++] = o->ask[i];
		else
			o->forget[o->nforget++] = o->ask[i];
	}
	o->nask = n;
	return 0;
}

static int
owed_forget(struct dbtx *tx, void *arg)
{
	struct owed *o = arg;
	size_t i;

	for (i = 0; i < o->nforget; i++)
		if (db_due_del(tx, o->forget[i]) == -1)
			return -1;
	return 0;
}

int
jobs_owed(struct jobs *j)
{
	struct owed o = {arena_new(), NULL, NULL, 0, 0, 0};
	size_t i;
	int r = -1;

	if (j == NULL)
		goto out;
	if (db_read(j->db, owed_read, &o) == -1 ||
	    (o.nforget > 0 && db_write(j->db, owed_forget, &o) == -1)) {
		log_error("unable to read the state runs owed");
		goto out;
	}
	for (i = 0; i < o.nask; i++)
		jobs_state(j, o.ask[i]);
	j->owed_asked += o.nask;
	if (o.nask > 0)
		log_info("asking again for %zu state run%s owed", o.nask,
		         o.nask == 1 ? "" : "s");
	r = (int)o.nask;
out:
	arena_free(o.a);
	return r;
}

void
jobs_pass(struct jobs *j)
{
	if (j == NULL)
		return;
	j->requested++;
	if (j->pend[JOBS_PASS].waiting)
		j->folded++;
	j->pend[JOBS_PASS].waiting = true;
	j->pend[JOBS_PASS].built = false;
	due_now(j);
}

int
jobs_manual(struct jobs *j, const char *wid)
{
	if (j == NULL)
		return -1;
	pending_add(j, JOBS_MANUAL, wid);
	jobs_flush(j, true);
	return j->pend[JOBS_MANUAL].waiting ? 0 : 1;
}

/* One job being built inside a read transaction. */
struct build {
	struct jobs_pending *p;
	bool all; /* pass: every workload with a source_kind */
	struct arena *a;
	struct wire_job_item *items;
	size_t n, cap;
	size_t *rowcap; /* per item */
};

static bool
build_wants(const struct build *b, const char *wid)
{
	if (b->all)
		return true;
	return b->p->nwids > 0 && bsearch(&wid, b->p->wids, b->p->nwids,
	                                  sizeof(*b->p->wids), wid_cmp) != NULL;
}

static int
build_workload(void *arg, struct wire_workload *w)
{
	struct build *b = arg;
	size_t cap;

	if (str_empty(w->source_kind) || !build_wants(b, w->id))
		return 0;
	if (b->n == b->cap) {
		cap = b->cap ? b->cap * 2 : 16;
		b->items =
		    arena_realloc(b->a, b->items, b->cap * sizeof(*b->items),
		                  cap * sizeof(*b->items));
		b->rowcap =
		    arena_realloc(b->a, b->rowcap, b->cap * sizeof(*b->rowcap),
		                  cap * sizeof(*b->rowcap));
		b->cap = cap;
	}
	b->items[b->n++].workload = *w;
	return 0;
}

static int
item_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct wire_job_item *)elem)->workload.id);
}

static int
build_row(void *arg, struct wire_row *row)
{
	struct build *b = arg;
	struct wire_job_item *it;
	size_t i, cap;

	if (b->n == 0 || str_empty(row->workload_id))
		return 0;
	/* workloads come in key order, so the items are sorted by id */
	it = bsearch(row->workload_id, b->items, b->n, sizeof(*b->items),
	             item_cmp);
	if (it == NULL)
		return 0;
	i = (size_t)(it - b->items);
	if (it->nrows == b->rowcap[i]) {
		cap = b->rowcap[i] ? b->rowcap[i] * 2 : 4;
		it->rows =
		    arena_realloc(b->a, it->rows, it->nrows * sizeof(*it->rows),
		                  cap * sizeof(*it->rows));
		b->rowcap[i] = cap;
	}
	it->rows[it->nrows++] = *row;
	return 0;
}

struct build_txn {
	struct build *b;
	enum jobs_reason reason;
};

static int
build_body(struct dbtx *tx, void *arg)
{
	struct build_txn *bt = arg;
	struct build *b = bt->b;
	struct jobs_pending *p = b->p;
	struct wire_dispatch d;
	uint64_t head = db_head(tx);

	if (p->built && p->built_rev == head)
		return 0; /* nothing changed since: the job is the latest */
	if (db_workloads_each(tx, b->a, build_workload, b) == -1)
		return -1;
	/* the rows only for a job that has a workload: decoding every row
	 * for none cost the store a core at 100 hosts x 1,000 rows */
	if (b->n > 0 && db_rows_each(tx, b->a, build_row, b) == -1)
		return -1;
	wbuf_reset(&p->msg);
	p->built = true;
	p->built_rev = head;
	if (b->n == 0)
		return 0;
	memset(&d, 0, sizeof(d));
	d.rev = head;
	d.reason = (char *)reason_names[bt->reason];
	d.items = b->items;
	d.nitems = b->n;
	return wire_encode_dispatch(&p->msg, &d);
}

/* Builds (unless still current) and sends one reason's job: 0 sent or
 * nothing to send, -1 it waits. */
static int
flush_one(struct jobs *j, enum jobs_reason r)
{
	struct jobs_pending *p = &j->pend[r];
	struct build b;
	struct build_txn bt = {&b, r};
	int rv;

	memset(&b, 0, sizeof(b));
	b.p = p;
	b.all = r == JOBS_PASS;
	b.a = arena_new();
	rv = db_read(j->db, build_body, &bt);
	arena_free(b.a);
	if (rv != 0) {
		log_warnx("unable to build a %s job: database read failed",
		          reason_names[r]);
		return -1;
	}
	if (p->msg.len == 0) {
		/* no workload of the job has a source_kind (any more) */
		j->requests_void += r == JOBS_PASS ? 1 : p->nwids;
		pending_clear(p);
		return 0;
	}
	if ((rv = nngx_send_nb(j->sock, p->msg.data, p->msg.len)) !=
	    NNGX_SENT) {
		/* busy: it waits, and later requests fold into it; failed
		 * (closed at exit, logged): it is lost with the process */
		if (rv == NNGX_BUSY)
			j->busy++;
		return -1;
	}
	j->sent++;
	j->requests_sent += r == JOBS_PASS ? 1 : p->nwids;
	log_debug("sent a %s job at rev %llu (%zu bytes)", reason_names[r],
	          (unsigned long long)p->built_rev, p->msg.len);
	pending_clear(p);
	return 0;
}

int
jobs_flush(struct jobs *j, bool force)
{
	int64_t now = mono_ms();
	bool left = false;
	int r;

	if (j->due_ms == 0 || (!force && now < j->due_ms))
		return 0;
	for (r = 0; r < JOBS_NREASONS; r++)
		if (j->pend[r].waiting &&
		    flush_one(j, (enum jobs_reason)r) == -1)
			left = true;
	if (!left) {
		if (j->stalled)
			log_info("the dispatcher takes jobs again");
		j->stalled = false;
		j->due_ms = 0;
		return 0;
	}
	if (!j->stalled)
		log_info("the dispatcher takes no jobs now: they wait, "
		         "folded, and are retried every %d ms",
		         JOBS_RETRY_MS);
	j->stalled = true;
	j->due_ms = now + JOBS_RETRY_MS;
	return -1;
}

int64_t
jobs_timeout(const struct jobs *j)
{
	int64_t d;

	if (j->due_ms == 0)
		return -1;
	d = j->due_ms - mono_ms();
	return d > 0 ? d : 0;
}
