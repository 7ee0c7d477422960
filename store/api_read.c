/*
 * api_read.c: the store.ctl reads, each in one LMDB read transaction and
 * carrying the revision it saw: lists, gets, events.since, stats,
 * hosts.list, and the store's part of health.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "log.h"
#include "util.h"

static int
health_body(struct dbtx *tx, void *arg)
{
	return db_stats(tx, arg);
}

/*
 * The hosts check: how many are live and stale, naming the stale ones. A
 * stale host is a lister the store has not heard from, not a fault of
 * the store (which goes on serving and writing): the check stays ok.
 */
static void
hosts_check(struct store *st, struct wire_check *chk, char *detail, size_t len)
{
	uint64_t live, stale;
	int64_t now = now_ms();
	size_t i, n;
	int k;

	store_hosts_count(st, now, &live, &stale);
	chk->name = "hosts";
	chk->ok = true;
	k = snprintf(detail, len, "%llu live, %llu stale",
	             (unsigned long long)live, (unsigned long long)stale);
	for (i = 0, n = 0; i < st->nhosts && k > 0 && (size_t)k < len; i++) {
		if (!store_host_stale(&st->hosts[i], now))
			continue;
		if ((size_t)k + strlen(st->hosts[i].host) + 8 >= len) {
			snprintf(detail + k, len - (size_t)k, ", ...");
			break;
		}
		k += snprintf(detail + k, len - (size_t)k, "%s%s",
		              n++ == 0 ? ": " : ", ", st->hosts[i].host);
	}
}

/* The store's part of health: ready, the lmdb and hosts checks, its
 * counters. */
void
api_health(void *arg, struct ctlsrv_req *req, bool live, struct wire_health *h)
{
	struct store *st = arg;
	struct wire_counter *ctr;
	struct wire_check *chk;
	struct db_stats s;
	const char *why;
	char detail[512];

	ctr = arena_alloc(req->a, STC_COUNT * sizeof(*ctr));
	store_counters(st, ctr);
	h->ready = st->ready;
	h->counters = ctr;
	h->ncounters = STC_COUNT;
	if (live)
		return;
	/* a read transaction and the map's fill, in microseconds */
	chk = arena_alloc(req->a, 2 * sizeof(*chk));
	chk->name = "lmdb";
	chk->ok = db_read(st->db, health_body, &s) == 0;
	if (!chk->ok)
		snprintf(detail, sizeof(detail), "unable to read the database");
	else {
		/* writes refused (map or disk full) until one commits */
		why = db_trouble(st->db);
		chk->ok = s.map_used < s.map_max / 10 * 9 && why == NULL;
		snprintf(detail, sizeof(detail),
		         "%s%s%s%llu rows, %llu workloads, map %llu of %llu "
		         "bytes used (max %llu)",
		         why != NULL ? "writes refused: " : "",
		         why != NULL ? why : "", why != NULL ? "; " : "",
		         (unsigned long long)s.rows,
		         (unsigned long long)s.workloads,
		         (unsigned long long)s.map_used,
		         (unsigned long long)s.map_size,
		         (unsigned long long)s.map_max);
	}
	chk->detail = arena_strdup(req->a, detail);
	hosts_check(st, &chk[1], detail, sizeof(detail));
	chk[1].detail = arena_strdup(req->a, detail);
	h->checks = chk;
	h->nchecks = 2;
}

struct row_list {
	struct api_call *c;
	struct wire_row *rows;
	size_t n, cap;
};

static int
row_list_add(void *arg, struct wire_row *row)
{
	struct row_list *l = arg;
	const struct wire_request *rq = l->c->rq;
	size_t ncap;

	if ((!str_empty(rq->workload_id) &&
	     !str_eq(rq->workload_id, row->workload_id)) ||
	    (!str_empty(rq->state) && !str_eq(rq->state, row->state)) ||
	    (!str_empty(rq->host) && !str_eq(rq->host, row->host)))
		return 0;
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		l->rows =
		    arena_realloc(l->c->a, l->rows, l->cap * sizeof(*l->rows),
		                  ncap * sizeof(*l->rows));
		l->cap = ncap;
	}
	l->rows[l->n++] = *row;
	return 0;
}

static int
containers_list_body(struct dbtx *tx, void *arg)
{
	struct row_list l = {arg, NULL, 0, 0};

	if (db_rows_each(tx, l.c->a, row_list_add, &l) == -1)
		return -1;
	if (wire_reply_begin(l.c->out, 2) == -1 ||
	    wire_reply_u64(l.c->out, "rev", db_head(tx)) == -1 ||
	    wire_reply_rows(l.c->out, "containers", l.rows, l.n) == -1)
		return -1;
	return 0;
}

int
api_containers_list(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	if (db_read(c->st->db, containers_list_body, c) != 0)
		return api_read_failed(c);
	return 0;
}

static int
container_get_body(struct dbtx *tx, void *arg)
{
	struct api_call *c = arg;
	struct wire_row row;
	int r;

	if ((r = api_row_named(c, tx, &row)) != 0)
		return r;
	if (wire_reply_begin(c->out, 2) == -1 ||
	    wire_reply_u64(c->out, "rev", db_head(tx)) == -1 ||
	    wire_reply_row(c->out, "container", &row) == -1)
		return -1;
	return 0;
}

int
api_container_get(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	if (api_need_id(c) == -1)
		return 0;
	return api_run_read(c, container_get_body);
}

struct workload_list {
	struct api_call *c;
	struct wire_workload *ws;
	size_t n, cap;
};

static int
workload_list_add(void *arg, struct wire_workload *w)
{
	struct workload_list *l = arg;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		l->ws = arena_realloc(l->c->a, l->ws, l->cap * sizeof(*l->ws),
		                      ncap * sizeof(*l->ws));
		l->cap = ncap;
	}
	l->ws[l->n++] = *w;
	return 0;
}

static int
workloads_list_body(struct dbtx *tx, void *arg)
{
	struct workload_list l = {arg, NULL, 0, 0};

	if (db_workloads_each(tx, l.c->a, workload_list_add, &l) == -1)
		return -1;
	if (wire_reply_begin(l.c->out, 2) == -1 ||
	    wire_reply_u64(l.c->out, "rev", db_head(tx)) == -1 ||
	    wire_reply_workloads(l.c->out, "workloads", l.ws, l.n, false) == -1)
		return -1;
	return 0;
}

int
api_workloads_list(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	if (db_read(c->st->db, workloads_list_body, c) != 0)
		return api_read_failed(c);
	return 0;
}

static int
workload_get_body(struct dbtx *tx, void *arg)
{
	struct api_call *c = arg;
	struct wire_workload w;
	int r;

	if ((r = api_workload_named(c, tx, &w)) != 0)
		return r;
	if (wire_reply_begin(c->out, 2) == -1 ||
	    wire_reply_u64(c->out, "rev", db_head(tx)) == -1 ||
	    wire_reply_workload(c->out, "workload", &w, c->rq->secrets) == -1)
		return -1;
	return 0;
}

int
api_workload_get(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);

	/* secrets are a privileged read (SPEC §2) */
	if (c->rq->secrets && !req->trusted)
		return ctlsrv_forbid(req, "read secrets");
	if (api_need_id(c) == -1)
		return 0;
	return api_run_read(c, workload_get_body);
}

/*
 * events.since gathers the logged bodies back to back in one buffer, at
 * most limit of them; with wid set, only that workload's (topics
 * container/<wid>/... and workload/<wid>). Fewer than limit means the
 * reply holds every matching event up to the head it carries.
 */
struct event_list {
	struct wbuf items;
	size_t n;
	uint64_t limit;
	const char *wid;
};

static int
event_list_add(void *arg, uint64_t rev, const char *topic, const void *body,
               size_t len)
{
	struct event_list *l = arg;
	size_t cap;

	if (l->wid != NULL && !wire_topic_in_workload(topic, l->wid))
		return 0;
	if (l->n == l->limit)
		return 1;
	if (l->items.cap - l->items.len < len) {
		cap = l->items.cap ? l->items.cap : 4096;
		while (cap - l->items.len < len)
			cap *= 2;
		l->items.data = xrealloc(l->items.data, cap);
		l->items.cap = cap;
	}
	memcpy(l->items.data + l->items.len, body, len);
	l->items.len += len;
	l->n++;
	return 0;
}

static int
events_since_body(struct dbtx *tx, void *arg)
{
	struct api_call *c = arg;
	struct event_list l;
	uint64_t head = db_head(tx), oldest = db_oldest(tx), limit;
	int r = -1;

	if (c->rq->rev > head)
		return api_refuse(
		    c, "ahead",
		    "rev %llu is ahead of the store's head %llu (the "
		    "store lost data or is another store): list again",
		    (unsigned long long)c->rq->rev, (unsigned long long)head);
	if (c->rq->rev < head && c->rq->rev + 1 < oldest)
		return api_refuse(
		    c, "compacted",
		    "rev %llu is older than the log keeps (oldest %llu, head "
		    "%llu): list again",
		    (unsigned long long)c->rq->rev, (unsigned long long)oldest,
		    (unsigned long long)head);
	limit = c->rq->limit == 0 ? API_EVENTS_LIMIT : c->rq->limit;
	if (limit > API_EVENTS_LIMIT_MAX)
		limit = API_EVENTS_LIMIT_MAX;
	memset(&l, 0, sizeof(l));
	l.limit = limit;
	if (!str_empty(c->rq->workload_id))
		l.wid = c->rq->workload_id;
	if (db_events_each(tx, c->rq->rev, UINT64_MAX, event_list_add, &l) ==
	        0 &&
	    wire_reply_begin(c->out, 2) == 0 &&
	    wire_reply_u64(c->out, "rev", head) == 0 &&
	    wire_reply_raw_array(c->out, "events", l.n > 0 ? &l.items : NULL,
	                         l.n) == 0)
		r = 0;
	wbuf_free(&l.items);
	return r;
}

int
api_events_since(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	return api_run_read(c, events_since_body);
}

struct stats_read {
	struct db_stats s;
	uint64_t head, oldest;
};

static int
stats_body(struct dbtx *tx, void *arg)
{
	struct stats_read *sr = arg;

	sr->head = db_head(tx);
	sr->oldest = db_oldest(tx);
	return db_stats(tx, &sr->s);
}

int
api_stats(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	struct wire_counter ctr[STC_COUNT + CTLSRV_NCOUNTERS];
	struct stats_read sr;
	uint64_t live, stale;

	if (db_read(c->st->db, stats_body, &sr) != 0)
		return api_read_failed(c);
	store_counters(c->st, ctr);
	ctlsrv_counters(req->srv, ctr + STC_COUNT);
	store_hosts_count(c->st, now_ms(), &live, &stale);
	if (wire_reply_begin(c->out, 11) == -1 ||
	    wire_reply_u64(c->out, "rev", sr.head) == -1 ||
	    wire_reply_u64(c->out, "oldest_rev", sr.oldest) == -1 ||
	    wire_reply_u64(c->out, "workloads", sr.s.workloads) == -1 ||
	    wire_reply_u64(c->out, "rows", sr.s.rows) == -1 ||
	    wire_reply_u64(c->out, "events", sr.s.events) == -1 ||
	    wire_reply_u64(c->out, "map_size", sr.s.map_size) == -1 ||
	    wire_reply_u64(c->out, "map_used", sr.s.map_used) == -1 ||
	    wire_reply_u64(c->out, "map_max", sr.s.map_max) == -1 ||
	    wire_reply_u64(c->out, "hosts_live", live) == -1 ||
	    wire_reply_u64(c->out, "hosts_stale", stale) == -1 ||
	    wire_reply_counters(c->out, "counters", ctr,
	                        STC_COUNT + CTLSRV_NCOUNTERS) == -1)
		return -1;
	return 0;
}

/*
 * hosts.list (SPEC §10): every host the store knows, by name, its state
 * now, and how many rows carry it (rows counts them all, missing ones
 * too: what `containers.list` with that host filter lists).
 */
struct host_list {
	struct api_call *c;
	struct wire_host *hosts; /* sorted by name */
	size_t n;
};

static int
host_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wire_host *)a)->host,
	              ((const struct wire_host *)b)->host);
}

static int
hosts_list_body(struct dbtx *tx, void *arg)
{
	struct host_list *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (db_host_rows_count(tx, l->hosts[i].host,
		                       &l->hosts[i].rows) == -1)
			return -1;
	if (wire_reply_begin(l->c->out, 2) == -1 ||
	    wire_reply_u64(l->c->out, "rev", db_head(tx)) == -1 ||
	    wire_reply_hosts(l->c->out, "hosts", l->hosts, l->n) == -1)
		return -1;
	return 0;
}

int
api_hosts_list(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	struct host_list l = {c, NULL, 0};
	const struct store_host *sh;
	int64_t now = now_ms();
	size_t i;

	l.n = c->st->nhosts;
	l.hosts = arena_alloc(c->a, (l.n + 1) * sizeof(*l.hosts));
	for (i = 0; i < l.n; i++) {
		sh = &c->st->hosts[i];
		memset(&l.hosts[i], 0, sizeof(l.hosts[i]));
		l.hosts[i].host = sh->host;
		l.hosts[i].state = store_host_stale(sh, now) ? "stale" : "live";
		l.hosts[i].last_seen_at = sh->last_seen_at;
		l.hosts[i].gen = sh->gen;
		l.hosts[i].interval_ms = sh->interval_ms;
	}
	if (l.n > 1)
		qsort(l.hosts, l.n, sizeof(*l.hosts), host_cmp);
	if (db_read(c->st->db, hosts_list_body, &l) != 0)
		return api_read_failed(c);
	return 0;
}
