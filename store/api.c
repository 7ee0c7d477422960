/*
 * api.c: the store.ctl API of SPEC §5 as a command table. Reads run in one
 * LMDB read transaction and carry the revision they saw; writes validate,
 * commit with their events, and answer the new head revision.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "api.h"
#include "changes.h"
#include "jobs.h"
#include "log.h"
#include "util.h"

#define ID_PATTERN "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

/* One request being answered. */
struct call {
	struct store *st;
	struct ctlsrv_req *req;
	const struct wire_request *rq;
	struct arena *a;
	struct wbuf *out;
	/* a write body that refuses sets these and returns 1 */
	const char *code;
	char msg[256];
	uint64_t rev; /* head after a write */
};

static struct call *
call_of(struct call *c, void *arg, struct ctlsrv_req *req)
{
	memset(c, 0, sizeof(*c));
	c->st = arg;
	c->req = req;
	c->rq = req->rq;
	c->a = req->a;
	c->out = req->out;
	return c;
}

static int reply_error(struct call *, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
reply_error(struct call *c, const char *code, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wbuf_reset(c->out);
	c->st->ctr[STC_REQUEST_ERRORS]++;
	return wire_reply_error(c->out, code, msg);
}

/* A write body's refusal, answered once the transaction is aborted. */
static int refuse(struct call *, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct call *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->code = code;
	return 1;
}

/* Empty, or one JSON value with nothing but white space after it. */
static const char *
json_check(const char *s)
{
	enum json_tokener_error e;
	struct json_tokener *tok;
	json_object *o;
	size_t n, end;

	if (str_empty(s))
		return NULL;
	n = strlen(s);
	if (n > WIRE_TEXT_MAX || (tok = json_tokener_new()) == NULL)
		return "too large";
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* the NUL included: a number or literal at the very end finishes */
	o = json_tokener_parse_ex(tok, s, (int)n + 1);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_object_put(o);
	json_tokener_free(tok);
	if (e != json_tokener_success)
		return json_tokener_error_desc(e);
	for (; end < n; end++)
		if (s[end] != ' ' && s[end] != '\t' && s[end] != '\n' &&
		    s[end] != '\r')
			return "trailing data after the JSON value";
	return NULL;
}

/* NULL when url is an http or https URL with a host, as libcurl reads it
 * (the one that will POST to it), with no space or control byte. */
static const char *
url_check(const char *url)
{
	const char *why = NULL, *p;
	char *scheme = NULL, *host = NULL;
	CURLU *u;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "must not hold spaces or control characters";
	if ((u = curl_url()) == NULL)
		return "unable to check: out of memory";
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		why = "not a URL";
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	         (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		why = "must be an http:// or https:// URL";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	         *host == '\0')
		why = "must name a host";
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

const char *
api_check_workload(const struct wire_workload *w)
{
	static char why[160];
	static const struct {
		const char *name;
		size_t off;
	} json_fields[] = {
	    {"source_config", offsetof(struct wire_workload, source_config)},
	    {"trigger_config", offsetof(struct wire_workload, trigger_config)},
	    {"public_faces", offsetof(struct wire_workload, public_faces)},
	};
	const char *e;
	size_t i;

	if (!id_valid(w->id))
		return "id: " ID_PATTERN;
	if (!kind_valid(w->kind))
		return "kind: must be project, site or stack";
	if (!str_empty(w->app_id) && !id_valid(w->app_id))
		return "app_id: " ID_PATTERN;
	if (!str_empty(w->parent_workload_id) &&
	    !id_valid(w->parent_workload_id))
		return "parent_workload_id: " ID_PATTERN;
	if (!str_empty(w->source_kind) && !source_kind_valid(w->source_kind))
		return "source_kind: must match ^[a-z0-9][a-z0-9_-]{0,63}$";
	if (!str_empty(w->notification_url) &&
	    (e = url_check(w->notification_url)) != NULL) {
		snprintf(why, sizeof(why), "notification_url: %s", e);
		return why;
	}
	for (i = 0; i < sizeof(json_fields) / sizeof(json_fields[0]); i++) {
		e = json_check(
		    *(char *const *)((const char *)w + json_fields[i].off));
		if (e != NULL) {
			snprintf(why, sizeof(why), "%s: not JSON: %s",
			         json_fields[i].name, e);
			return why;
		}
	}
	return NULL;
}

/* ---- reads ---- */

static int
read_failed(struct call *c)
{
	return reply_error(c, "internal", "unable to read the database");
}

static int
health_body(struct dbtx *tx, void *arg)
{
	return db_stats(tx, arg);
}

/* The store's part of health: ready, the lmdb check, its counters. */
static void
api_health(void *arg, struct ctlsrv_req *req, bool live, struct wire_health *h)
{
	struct store *st = arg;
	struct wire_counter *ctr;
	struct wire_check *chk;
	struct db_stats s;
	char detail[160];

	ctr = arena_alloc(req->a, STC_COUNT * sizeof(*ctr));
	store_counters(st, ctr);
	h->ready = st->ready;
	h->counters = ctr;
	h->ncounters = STC_COUNT;
	if (live)
		return;
	/* a read transaction and the map's fill, in microseconds */
	chk = arena_alloc(req->a, sizeof(*chk));
	chk->name = "lmdb";
	chk->ok = db_read(st->db, health_body, &s) == 0;
	if (!chk->ok)
		snprintf(detail, sizeof(detail), "unable to read the database");
	else {
		chk->ok = s.map_used < s.map_max / 10 * 9;
		snprintf(detail, sizeof(detail),
		         "%llu rows, %llu workloads, map %llu of %llu "
		         "bytes used (max %llu)",
		         (unsigned long long)s.rows,
		         (unsigned long long)s.workloads,
		         (unsigned long long)s.map_used,
		         (unsigned long long)s.map_size,
		         (unsigned long long)s.map_max);
	}
	chk->detail = arena_strdup(req->a, detail);
	h->checks = chk;
	h->nchecks = 1;
}

struct row_list {
	struct call *c;
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

static int
cmd_containers_list(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	if (db_read(c->st->db, containers_list_body, c) != 0)
		return read_failed(c);
	return 0;
}

static int
container_get_body(struct dbtx *tx, void *arg)
{
	struct call *c = arg;
	struct wire_row row;
	int r;

	if ((r = db_row_get(tx, c->rq->id, c->a, &row)) == -1)
		return -1;
	if (r == 0)
		return refuse(c, "not_found", "no container row %s", c->rq->id);
	if (wire_reply_begin(c->out, 2) == -1 ||
	    wire_reply_u64(c->out, "rev", db_head(tx)) == -1 ||
	    wire_reply_row(c->out, "container", &row) == -1)
		return -1;
	return 0;
}

/* Runs a read body that may refuse (returns 1 with c->code set). */
static int
run_read(struct call *c, db_txn_fn fn)
{
	int r = db_read(c->st->db, fn, c);

	if (r == 1)
		return reply_error(c, c->code, "%s", c->msg);
	if (r != 0)
		return read_failed(c);
	return 0;
}

static int
need_id(struct call *c)
{
	if (str_empty(c->rq->id)) {
		reply_error(c, "invalid", "id: required");
		return -1;
	}
	return 0;
}

static int
cmd_container_get(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	if (need_id(c) == -1)
		return 0;
	return run_read(c, container_get_body);
}

struct workload_list {
	struct call *c;
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

static int
cmd_workloads_list(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	if (db_read(c->st->db, workloads_list_body, c) != 0)
		return read_failed(c);
	return 0;
}

static int
workload_get_body(struct dbtx *tx, void *arg)
{
	struct call *c = arg;
	struct wire_workload w;
	int r;

	if ((r = db_workload_get(tx, c->rq->id, c->a, &w)) == -1)
		return -1;
	if (r == 0)
		return refuse(c, "not_found", "no workload %s", c->rq->id);
	if (wire_reply_begin(c->out, 2) == -1 ||
	    wire_reply_u64(c->out, "rev", db_head(tx)) == -1 ||
	    wire_reply_workload(c->out, "workload", &w, c->rq->secrets) == -1)
		return -1;
	return 0;
}

static int
cmd_workload_get(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);

	/* secrets are a privileged read (SPEC §2) */
	if (c->rq->secrets && !req->trusted)
		return ctlsrv_forbid(req, "read secrets");
	if (need_id(c) == -1)
		return 0;
	return run_read(c, workload_get_body);
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
	struct call *c = arg;
	struct event_list l;
	uint64_t head = db_head(tx), oldest = db_oldest(tx), limit;
	int r = -1;

	if (c->rq->rev > head)
		return refuse(
		    c, "ahead",
		    "rev %llu is ahead of the store's head %llu (the "
		    "store lost data or is another store): list again",
		    (unsigned long long)c->rq->rev, (unsigned long long)head);
	if (c->rq->rev < head && c->rq->rev + 1 < oldest)
		return refuse(
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

static int
cmd_events_since(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	return run_read(c, events_since_body);
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

static int
cmd_stats(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	struct wire_counter ctr[STC_COUNT + CTLSRV_NCOUNTERS];
	struct stats_read sr;

	if (db_read(c->st->db, stats_body, &sr) != 0)
		return read_failed(c);
	store_counters(c->st, ctr);
	ctlsrv_counters(req->srv, ctr + STC_COUNT);
	if (wire_reply_begin(c->out, 9) == -1 ||
	    wire_reply_u64(c->out, "rev", sr.head) == -1 ||
	    wire_reply_u64(c->out, "oldest_rev", sr.oldest) == -1 ||
	    wire_reply_u64(c->out, "workloads", sr.s.workloads) == -1 ||
	    wire_reply_u64(c->out, "rows", sr.s.rows) == -1 ||
	    wire_reply_u64(c->out, "events", sr.s.events) == -1 ||
	    wire_reply_u64(c->out, "map_size", sr.s.map_size) == -1 ||
	    wire_reply_u64(c->out, "map_used", sr.s.map_used) == -1 ||
	    wire_reply_u64(c->out, "map_max", sr.s.map_max) == -1 ||
	    wire_reply_counters(c->out, "counters", ctr,
	                        STC_COUNT + CTLSRV_NCOUNTERS) == -1)
		return -1;
	return 0;
}

/* ---- writes ---- */

/* Runs a write body on the record named what and answers {ok, rev} or
 * the refusal. */
static int
run_write(struct call *c, db_txn_fn fn, const char *what)
{
	int r = changes_write(c->st, fn, c);

	if (r == 1)
		return reply_error(c, c->code, "%s", c->msg);
	if (r != 0) {
		c->st->ctr[STC_WRITE_ERRORS]++;
		return reply_error(c, "internal",
		                   "unable to write the database");
	}
	log_info("%s %s: rev %llu", c->rq->t, what, (unsigned long long)c->rev);
	wbuf_reset(c->out);
	if (wire_reply_begin(c->out, 1) == -1 ||
	    wire_reply_u64(c->out, "rev", c->rev) == -1)
		return -1;
	return 0;
}

/*
 * container.put writes the row as given, except: created_at is kept from
 * an existing row (now for a new one), a zero last_seen_at keeps the
 * stored one, and an empty workload_kind takes the workload's kind.
 */
static int
container_put_body(struct dbtx *tx, void *arg)
{
	struct call *c = arg;
	struct wire_row row = *c->rq->row, old;
	struct wire_workload w;
	char owner[WIRE_ID_MAX + 1];
	int r;

	if ((r = db_workload_get(tx, row.workload_id, c->a, &w)) == -1)
		return -1;
	if (r == 0)
		return refuse(c, "invalid", "workload_id: no workload %s",
		              row.workload_id);
	if (str_empty(row.workload_kind))
		row.workload_kind = w.kind;
	else if (!str_eq(row.workload_kind, w.kind))
		return refuse(c, "invalid",
		              "workload_kind: workload %s is a %s", w.id,
		              w.kind);
	if ((r = db_row_get(tx, row.id, c->a, &old)) == -1)
		return -1;
	if (r == 1) {
		row.created_at = old.created_at;
		if (row.last_seen_at == 0)
			row.last_seen_at = old.last_seen_at;
		if (wire_row_equal(&old, &row)) {
			c->rev = db_head(tx);
			return 0;
		}
	} else {
		memset(&old, 0, sizeof(old));
		row.created_at = now_ms();
	}
	/* a Docker id binds one row: taking another row's would let the
	 * next pass rewrite the taker and sweep the owner (R7) */
	if (!str_empty(row.container_id) &&
	    !str_eq(row.container_id, old.container_id)) {
		if ((r = db_docker_get(tx, row.container_id, owner)) == -1)
			return -1;
		if (r == 1 && !str_eq(owner, row.id))
			return refuse(c, "invalid",
			              "container_id: %s is bound to row %s",
			              row.container_id, owner);
	}
	if (db_row_put(tx, &row) == -1 ||
	    db_docker_rebind(tx, row.id, old.container_id, &row) == -1 ||
	    changes_container(c->st, tx, "upsert", &row,
	                      r == 1 ? old.state : "") == -1)
		return -1;
	c->rev = db_head(tx);
	return 0;
}

static int
cmd_container_put(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	const struct wire_row *row = c->rq->row;

	if (row == NULL)
		return reply_error(c, "invalid", "row: required");
	if (!id_valid(row->id))
		return reply_error(c, "invalid", "id: " ID_PATTERN);
	if (!id_valid(row->workload_id))
		return reply_error(c, "invalid", "workload_id: " ID_PATTERN);
	if (!str_empty(row->role) && !id_valid(row->role))
		return reply_error(c, "invalid", "role: " ID_PATTERN);
	if (!str_empty(row->container_id) && !id_valid(row->container_id))
		return reply_error(c, "invalid", "container_id: " ID_PATTERN);
	if (row->port < 0 || row->port > 65535)
		return reply_error(c, "invalid", "port: must be 0 to 65535");
	return run_write(c, container_put_body, row->id);
}

static int
container_delete_body(struct dbtx *tx, void *arg)
{
	struct call *c = arg;
	struct wire_row old;
	int r;

	if ((r = db_row_get(tx, c->rq->id, c->a, &old)) == -1)
		return -1;
	if (r == 0)
		return refuse(c, "not_found", "no container row %s", c->rq->id);
	if (db_row_del(tx, old.id) == -1 ||
	    db_docker_rebind(tx, old.id, old.container_id, NULL) == -1 ||
	    changes_container(c->st, tx, "delete", &old, old.state) == -1)
		return -1;
	c->rev = db_head(tx);
	return 0;
}

static int
cmd_container_delete(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	if (need_id(c) == -1)
		return 0;
	return run_write(c, container_delete_body, c->rq->id);
}

/* A new record gets created_at; an existing one keeps it and the plugin
 * status the store keeps (a put never carries them). */
static int
workload_put_body(struct dbtx *tx, void *arg)
{
	struct call *c = arg;
	struct wire_workload w = *c->rq->workload, old;
	int r;

	if ((r = db_workload_get(tx, w.id, c->a, &old)) == -1)
		return -1;
	w.updated_at = now_ms();
	if (r == 1) {
		w.created_at = old.created_at;
		w.plugin = old.plugin;
	} else {
		w.created_at = w.updated_at;
		memset(&w.plugin, 0, sizeof(w.plugin));
	}
	if (db_workload_put(tx, &w) == -1 ||
	    changes_workload(tx, "put", &w) == -1)
		return -1;
	c->rev = db_head(tx);
	return 0;
}

static int
cmd_workload_put(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	const char *why;

	if (c->rq->workload == NULL)
		return reply_error(c, "invalid", "workload: required");
	if ((why = api_check_workload(c->rq->workload)) != NULL)
		return reply_error(c, "invalid", "%s", why);
	return run_write(c, workload_put_body, c->rq->workload->id);
}

struct doomed {
	struct call *c;
	const char *wid;
	struct wire_row *rows;
	size_t n;
};

static int
doomed_add(void *arg, struct wire_row *row)
{
	struct doomed *d = arg;

	if (!str_eq(row->workload_id, d->wid))
		return 0;
	d->rows = arena_realloc(d->c->a, d->rows, d->n * sizeof(*d->rows),
	                        (d->n + 1) * sizeof(*d->rows));
	d->rows[d->n++] = *row;
	return 0;
}

/* Deletes the workload's rows first, each with its own event. */
static int
workload_delete_body(struct dbtx *tx, void *arg)
{
	struct call *c = arg;
	struct doomed d = {c, c->rq->id, NULL, 0};
	struct wire_workload old;
	size_t i;
	int r;

	if ((r = db_workload_get(tx, c->rq->id, c->a, &old)) == -1)
		return -1;
	if (r == 0)
		return refuse(c, "not_found", "no workload %s", c->rq->id);
	if (db_rows_each(tx, c->a, doomed_add, &d) == -1)
		return -1;
	for (i = 0; i < d.n; i++)
		if (db_row_del(tx, d.rows[i].id) == -1 ||
		    db_docker_rebind(tx, d.rows[i].id, d.rows[i].container_id,
		                     NULL) == -1 ||
		    changes_container(c->st, tx, "delete", &d.rows[i],
		                      d.rows[i].state) == -1)
			return -1;
	if (db_workload_del(tx, old.id) == -1 ||
	    changes_workload(tx, "delete", &old) == -1)
		return -1;
	c->rev = db_head(tx);
	return 0;
}

static int
cmd_workload_delete(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	if (need_id(c) == -1)
		return 0;
	return run_write(c, workload_delete_body, c->rq->id);
}

/* ---- dispatch ---- */

static int
dispatch_body(struct dbtx *tx, void *arg)
{
	struct call *c = arg;
	struct wire_workload w;
	int r;

	if ((r = db_workload_get(tx, c->rq->id, c->a, &w)) == -1)
		return -1;
	if (r == 0)
		return refuse(c, "not_found", "no workload %s", c->rq->id);
	if (str_empty(w.source_kind))
		return refuse(c, "invalid", "workload %s has no source_kind",
		              c->rq->id);
	c->rev = db_head(tx);
	return 0;
}

/*
 * dispatch: a plugin run of one workload now (reason manual, SPEC §8).
 * The job goes to the dispatcher at once, or waits for it; the reply's
 * `job` says which ("sent" or "queued").
 */
static int
cmd_dispatch(void *arg, struct ctlsrv_req *req)
{
	struct call cb, *c = call_of(&cb, arg, req);
	int r;

	if (need_id(c) == -1)
		return 0;
	if ((r = db_read(c->st->db, dispatch_body, c)) == 1)
		return reply_error(c, c->code, "%s", c->msg);
	if (r != 0)
		return read_failed(c);
	if ((r = jobs_manual(c->st->jobs, c->rq->id)) == -1)
		return reply_error(c, "unavailable",
		                   "this store sends no dispatch jobs");
	log_info("dispatch %s: job %s", c->rq->id, r == 1 ? "sent" : "queued");
	wbuf_reset(c->out);
	if (wire_reply_begin(c->out, 2) == -1 ||
	    wire_reply_u64(c->out, "rev", c->rev) == -1 ||
	    wire_reply_str(c->out, "job", r == 1 ? "sent" : "queued") == -1)
		return -1;
	return 0;
}

/*
 * The store.ctl commands, looked up by the request's `t` (health is the
 * ctl server's own, with api_health's part).
 *  name   the request type
 *  fn     writes the whole reply: 0, or -1 on an internal failure
 *  flags  CTLSRV_WRITE: changes the database, trusted peers only
 */
static const struct ctlsrv_cmd api_cmds[] = {
    {"containers.list", cmd_containers_list, 0},
    {"container.get", cmd_container_get, 0},
    {"container.put", cmd_container_put, CTLSRV_WRITE},
    {"container.delete", cmd_container_delete, CTLSRV_WRITE},
    {"workloads.list", cmd_workloads_list, 0},
    /* with secrets: trusted peers only, checked by the command */
    {"workload.get", cmd_workload_get, 0},
    {"workload.put", cmd_workload_put, CTLSRV_WRITE},
    {"workload.delete", cmd_workload_delete, CTLSRV_WRITE},
    {"events.since", cmd_events_since, 0},
    {"stats", cmd_stats, 0},
    {"dispatch", cmd_dispatch, CTLSRV_WRITE},
};

void
api_config(struct store *st, struct ctlsrv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "store.ctl";
	cfg->proc = "recon-store";
	cfg->cmds = api_cmds;
	cfg->ncmds = sizeof(api_cmds) / sizeof(api_cmds[0]);
	cfg->health = api_health;
	cfg->arg = st;
	cfg->admin_uid = st->admin_uid;
}

int
api_handle(struct store *st, const void *req, size_t len, int64_t peer_uid,
           struct wbuf *reply)
{
	struct ctlsrv_config cfg;
	struct ctlsrv_req *r;
	struct arena *a = arena_new();
	int rv;

	api_config(st, &cfg);
	rv = ctlsrv_handle(NULL, &cfg, req, len, peer_uid, a, reply, &r);
	arena_free(a);
	return rv;
}
