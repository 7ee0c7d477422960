/*
 * api_write.c: the store.ctl writes (trusted peers only): each validated,
 * committed with its events in one write transaction (changes.c), and
 * answered with the new head revision; dispatch, a manual job; and
 * hosts.forget.
 */
#include <string.h>

#include "api_impl.h"
#include "changes.h"
#include "jobs.h"
#include "log.h"
#include "rules.h"
#include "util.h"

/* Runs a write body: 0 committed, else 1 with the refusal or failure
 * answered (-1: not even that could be). */
static int
write_txn(struct api_call *c, db_txn_fn fn)
{
	int r = changes_write(c->st, fn, c);
	const char *why;

	if (r == 0)
		return 0;
	if (r == 1)
		r = api_reply_error(c, c->code, "%s", c->msg);
	else {
		c->st->ctr[STC_WRITE_ERRORS]++;
		/* a full map or disk: the operator's to fix, reads go on */
		if ((why = db_trouble(c->st->db)) != NULL)
			r = api_reply_error(c, "unavailable",
			                    "unable to write: %s", why);
		else
			r = api_reply_error(c, "internal",
			                    "unable to write the database");
	}
	return r == -1 ? -1 : 1;
}

/* Runs a write body on the record named what and answers {ok, rev} or
 * the refusal. */
static int
api_run_write(struct api_call *c, db_txn_fn fn, const char *what)
{
	int r;

	if ((r = write_txn(c, fn)) != 0)
		return r == 1 ? 0 : -1;
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
	struct api_call *c = arg;
	struct wire_row row = *c->rq->row, old;
	struct wire_workload w;
	char owner[WIRE_ID_MAX + 1];
	int r;

	if ((r = db_workload_get(tx, row.workload_id, c->a, &w)) == -1)
		return -1;
	if (r == 0)
		return api_refuse(c, "invalid", "workload_id: no workload %s",
		                  row.workload_id);
	if (str_empty(row.workload_kind))
		row.workload_kind = w.kind;
	else if (!str_eq(row.workload_kind, w.kind))
		return api_refuse(c, "invalid",
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
			return api_refuse(c, "invalid",
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

int
api_container_put(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	const struct wire_row *row = c->rq->row;
	const char *why;

	if (row == NULL)
		return api_reply_error(c, "invalid", "row: required");
	if ((why = api_check_row(row)) != NULL)
		return api_reply_error(c, "invalid", "%s", why);
	return api_run_write(c, container_put_body, row->id);
}

static int
container_delete_body(struct dbtx *tx, void *arg)
{
	struct api_call *c = arg;
	struct wire_row old;
	int r;

	if ((r = api_row_named(c, tx, &old)) != 0)
		return r;
	if (db_row_del(tx, old.id) == -1 ||
	    db_docker_rebind(tx, old.id, old.container_id, NULL) == -1 ||
	    changes_container(c->st, tx, "delete", &old, old.state) == -1)
		return -1;
	c->rev = db_head(tx);
	return 0;
}

int
api_container_delete(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	if (api_need_id(c) == -1)
		return 0;
	return api_run_write(c, container_delete_body, c->rq->id);
}

/* A new record gets created_at; an existing one keeps it and the plugin
 * status the store keeps (a put never carries them). */
static int
workload_put_body(struct dbtx *tx, void *arg)
{
	struct api_call *c = arg;
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

int
api_workload_put(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	const char *why;

	if (c->rq->workload == NULL)
		return api_reply_error(c, "invalid", "workload: required");
	if ((why = api_check_workload(c->rq->workload)) != NULL)
		return api_reply_error(c, "invalid", "%s", why);
	return api_run_write(c, workload_put_body, c->rq->workload->id);
}

struct doomed {
	struct api_call *c;
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
	struct api_call *c = arg;
	struct doomed d = {c, c->rq->id, NULL, 0};
	struct wire_workload old;
	size_t i;
	int r;

	if ((r = api_workload_named(c, tx, &old)) != 0)
		return r;
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

int
api_workload_delete(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	if (api_need_id(c) == -1)
		return 0;
	return api_run_write(c, workload_delete_body, c->rq->id);
}

static int
dispatch_body(struct dbtx *tx, void *arg)
{
	struct api_call *c = arg;
	struct wire_workload w;
	int r;

	if ((r = api_workload_named(c, tx, &w)) != 0)
		return r;
	if (str_empty(w.source_kind))
		return api_refuse(c, "invalid",
		                  "workload %s has no source_kind", c->rq->id);
	c->rev = db_head(tx);
	return 0;
}

/*
 * dispatch: a plugin run of one workload now (reason manual, SPEC §8).
 * The job goes to the dispatcher at once, or waits for it; the reply's
 * `job` says which ("sent" or "queued").
 */
int
api_dispatch(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	int r;

	if (api_need_id(c) == -1)
		return 0;
	if ((r = db_read(c->st->db, dispatch_body, c)) == 1)
		return api_reply_error(c, c->code, "%s", c->msg);
	if (r != 0)
		return api_read_failed(c);
	if ((r = jobs_manual(c->st->jobs, c->rq->id)) == -1)
		return api_reply_error(c, "unavailable",
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
 * hosts.forget (SPEC §10): a host gone for good. Its bound rows turn
 * missing through the change path (events, revisions, state jobs, as R7
 * would), and its host record and pass record go, all in one
 * transaction. A host is known by its record (or, in a database from
 * before host records, by its pass record). Should its lister send
 * again, the host comes back as new.
 */
static int
hosts_forget_body(struct dbtx *tx, void *arg)
{
	struct api_call *c = arg;
	const char *host = c->rq->host;
	struct wire_host h;
	int r;

	if ((r = db_host_get(tx, host, c->a, &h)) == -1)
		return -1;
	if (r == 0 && store_host_find(c->st, host) == NULL &&
	    db_host_seen(tx, host) == 0)
		return api_refuse(c, "not_found",
		                  "no host %s (hosts.list names the hosts the "
		                  "store knows)",
		                  host);
	if (rules_forget(c->st, tx, host, &c->missing) == -1 ||
	    db_host_seen_del(tx, host) == -1 || db_host_del(tx, host) == -1)
		return -1;
	c->rev = db_head(tx);
	return 0;
}

int
api_hosts_forget(void *arg, struct ctlsrv_req *req)
{
	struct api_call cb, *c = api_call_of(&cb, arg, req);
	int r;

	if (str_empty(c->rq->host))
		return api_reply_error(c, "invalid", "host: required");
	if ((r = write_txn(c, hosts_forget_body)) != 0)
		return r == 1 ? 0 : -1;
	store_host_drop(c->st, c->rq->host);
	c->st->ctr[STC_HOSTS_FORGOTTEN]++;
	log_info("hosts.forget %s: %llu rows missing, rev %llu", c->rq->host,
	         (unsigned long long)c->missing, (unsigned long long)c->rev);
	wbuf_reset(c->out);
	if (wire_reply_begin(c->out, 2) == -1 ||
	    wire_reply_u64(c->out, "rev", c->rev) == -1 ||
	    wire_reply_u64(c->out, "missing", c->missing) == -1)
		return -1;
	return 0;
}
