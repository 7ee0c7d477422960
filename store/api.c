/*
 * api.c: the store.ctl API of SPEC §5 as a command table, and what every
 * command shares: the request being answered, error replies and
 * refusals, running a read body. The reads are in api_read.c, the writes
 * in api_write.c, the checks of what a write may store in api_check.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api_impl.h"
#include "log.h"
#include "util.h"

struct api_call *
api_call_of(struct api_call *c, void *arg, struct ctlsrv_req *req)
{
	memset(c, 0, sizeof(*c));
	c->st = arg;
	c->req = req;
	c->rq = req->rq;
	c->a = req->a;
	c->out = req->out;
	return c;
}

int
api_reply_error(struct api_call *c, const char *code, const char *fmt, ...)
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
int
api_refuse(struct api_call *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->code = code;
	return 1;
}

int
api_row_named(struct api_call *c, struct dbtx *tx, struct wire_row *row)
{
	int r;

	if ((r = db_row_get(tx, c->rq->id, c->a, row)) == -1)
		return -1;
	return r == 1 ? 0
	              : api_refuse(c, "not_found", "no container row %s",
	                           c->rq->id);
}

int
api_workload_named(struct api_call *c, struct dbtx *tx, struct wire_workload *w)
{
	int r;

	if ((r = db_workload_get(tx, c->rq->id, c->a, w)) == -1)
		return -1;
	return r == 1 ? 0
	              : api_refuse(c, "not_found", "no workload %s", c->rq->id);
}

int
api_read_failed(struct api_call *c)
{
	return api_reply_error(c, "internal", "unable to read the database");
}

/* Runs a read body that may refuse (returns 1 with c->code set). */
int
api_run_read(struct api_call *c, db_txn_fn fn)
{
	int r = db_read(c->st->db, fn, c);

	if (r == 1)
		return api_reply_error(c, c->code, "%s", c->msg);
	if (r != 0)
		return api_read_failed(c);
	return 0;
}

int
api_need_id(struct api_call *c)
{
	if (str_empty(c->rq->id)) {
		api_reply_error(c, "invalid", "id: required");
		return -1;
	}
	return 0;
}

/*
 * The store.ctl commands, looked up by the request's `t` (health is the
 * ctl server's own, with api_health's part).
 *  name   the request type
 *  fn     writes the whole reply: 0, or -1 on an internal failure
 * The writes among them (ctlsrv_writes) are refused to untrusted peers.
 */
static const struct ctlsrv_cmd api_cmds[] = {
    {"containers.list", api_containers_list},
    {"container.get", api_container_get},
    {"container.put", api_container_put},
    {"container.delete", api_container_delete},
    {"workloads.list", api_workloads_list},
    /* with secrets: trusted peers only, checked by the command */
    {"workload.get", api_workload_get},
    {"workload.put", api_workload_put},
    {"workload.delete", api_workload_delete},
    {"events.since", api_events_since},
    {"stats", api_stats},
    {"dispatch", api_dispatch},
    /* the lister hosts (SPEC §10) */
    {"hosts.list", api_hosts_list},
    {"hosts.forget", api_hosts_forget},
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
