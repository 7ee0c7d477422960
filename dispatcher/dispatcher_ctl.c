/*
 * dispatcher_ctl.c: dispatcher.ctl's commands. A dispatch waits for the store's
 * answer (CTLSRV_LATER) while health, and other dispatches, are answered
 * meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clnt.h"
#include "dispatcher_ctl.h"
#include "log.h"
#include "nngx.h"
#include "util.h"

size_t
dispatcher_ctl_counters(const struct dispatcher_ctl *c,
                        struct wire_counter *out)
{
	static const uint64_t none[HC_COUNT];
	const struct runner *r = c->runner;
	const uint64_t *hc = c->hooks != NULL ? hook_counters(c->hooks) : none;
	uint64_t queued = c->hooks != NULL ? hook_queued(c->hooks) : 0;
	const struct wire_counter counters[] = {
	    {"runs", r->ctr[RC_RUNS]},
	    {"failures", r->ctr[RC_FAILURES]},
	    {"timeouts", r->ctr[RC_TIMEOUTS]},
	    {"refused", r->ctr[RC_REFUSED]},
	    {"requested", r->q.requested},
	    {"queued", r->q.queued},
	    {"running", r->q.running},
	    {"folded", r->q.folded},
	    {"jobs", r->ctr[RC_JOBS]},
	    {"bad_jobs", r->ctr[RC_BAD_JOBS]},
	    {"results_sent", r->ctr[RC_RESULTS_SENT]},
	    {"results_waiting", r->nout},
	    {"results_lost", r->ctr[RC_RESULTS_LOST]},
	    {"results_busy", r->ctr[RC_RESULTS_BUSY]},
	    {"jobs_forbidden", r->ctr[RC_JOBS_FORBIDDEN]},
	    {"notifications_sent", hc[HC_SENT]},
	    {"notifications_failed", hc[HC_FAILED]},
	    {"notifications_retried", hc[HC_RETRIED]},
	    {"notifications_dropped", hc[HC_DROPPED]},
	    {"notifications_queued", queued},
	    {"events", hc[HC_EVENTS]},
	    {"bad_events", hc[HC_BAD_EVENTS]},
	    {"workload_fetches", hc[HC_FETCHES]},
	    {"workload_fetch_failures", hc[HC_FETCH_FAILURES]},
	    {"dispatches_forwarded", c->forwarded},
	    {"dispatches_failed", c->forward_failures},
	};

	_Static_assert(sizeof(counters) / sizeof(counters[0]) ==
	                   DISPATCHER_CTL_NCOUNTERS,
	               "DISPATCHER_CTL_NCOUNTERS is the count of counters");
	memcpy(out, counters, sizeof(counters));
	return DISPATCHER_CTL_NCOUNTERS;
}

/* The dispatcher's part of health: plugin_dir and store checks, counters. */
static void
dispatcher_ctl_health(void *arg, struct ctlsrv_req *req, bool live,
                      struct wire_health *h)
{
	struct dispatcher_ctl *c = arg;
	const struct runner *r = c->runner;
	struct wire_check *checks;
	struct wire_counter *ctr;
	char d0[600], d1[128];
	struct stat sb;

	ctr = arena_alloc(req->a, DISPATCHER_CTL_NCOUNTERS * sizeof(*ctr));
	h->ready = true;
	h->counters = ctr;
	h->ncounters = dispatcher_ctl_counters(c, ctr);
	if (!live) {
		checks = arena_alloc(req->a, 2 * sizeof(*checks));
		/* an insecure plugin dir is the operator's to fix; a missing
		 * one is a dispatcher for webhooks only */
		checks[0].name = "plugin_dir";
		if (stat(c->plugin_dir, &sb) == -1 && errno == ENOENT) {
			checks[0].ok = true;
			snprintf(d0, sizeof(d0),
			         "%s does not exist: no plugins to run",
			         c->plugin_dir);
		} else if ((checks[0].ok = plugin_dir_check(c->plugin_dir, d0,
		                                            sizeof(d0)) == 0))
			snprintf(d0, sizeof(d0), "%s", c->plugin_dir);
		checks[0].detail = arena_strdup(req->a, d0);
		/* results pile up only while the store does not take them */
		checks[1].name = "store";
		checks[1].ok = r->nout < 100;
		snprintf(d1, sizeof(d1),
		         "%zu plugin results wait for the store", r->nout);
		checks[1].detail = arena_strdup(req->a, d1);
		h->checks = checks;
		h->nchecks = 2;
	}
}

/*
 * dispatch id: a manual plugin run, asked of the store (which checks the
 * workload and sends the job); the store's reply is passed back later.
 */
static int
dispatcher_ctl_dispatch(void *arg, struct ctlsrv_req *req)
{
	struct dispatcher_ctl *c = arg;
	const struct wire_request *rq = req->rq;
	struct up_call *uc;

	if (rq->id == NULL || !id_valid(rq->id))
		return wire_reply_error(
		    req->out, "invalid",
		    "id: must match ^[A-Za-z0-9][A-Za-z0-9._:-]"
		    "{0,127}$");
	uc = xcalloc(1, sizeof(*uc));
	uc->kind = UP_DISPATCH;
	snprintf(uc->id, sizeof(uc->id), "%s", rq->id);
	uc->ctx = req;
	if (upstream_submit(c->up, uc) == -1) {
		free(uc);
		c->forward_failures++;
		log_warnx("unable to dispatch %s: %d calls wait for the store",
		          rq->id, UPSTREAM_QUEUE_MAX);
		return wire_reply_error(req->out, "busy",
		                        "too many calls wait for the store");
	}
	c->forwarded++;
	return CTLSRV_LATER;
}

/* The dispatcher.ctl commands (health is the server's, with
 * dispatcher_ctl_health). */
static const struct ctlsrv_cmd dispatcher_ctl_cmds[] = {
    {"dispatch", dispatcher_ctl_dispatch},
};

void
dispatcher_ctl_config(struct dispatcher_ctl *c, struct ctlsrv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "dispatcher.ctl";
	cfg->proc = "recon-dispatcher";
	cfg->cmds = dispatcher_ctl_cmds;
	cfg->ncmds =
	    sizeof(dispatcher_ctl_cmds) / sizeof(dispatcher_ctl_cmds[0]);
	cfg->health = dispatcher_ctl_health;
	cfg->arg = c;
	cfg->admin_uid = c->admin_uid;
}

void
dispatcher_ctl_forwarded(struct dispatcher_ctl *c, struct up_call *uc)
{
	struct ctlsrv_req *req = uc->ctx;
	char msg[300];

	uc->ctx = NULL;
	wbuf_reset(req->out);
	if (uc->status == CLNT_OK) {
		log_info("dispatch %s: passed on to the store", uc->id);
		wbuf_append(req->out, uc->reply.data, uc->reply.len);
	} else {
		c->forward_failures++;
		log_warnx("unable to dispatch %s: store unreachable: %s",
		          uc->id, uc->err);
		snprintf(msg, sizeof(msg), "store unreachable: %s", uc->err);
		wire_reply_error(req->out, "unavailable", msg);
	}
	ctlsrv_answer(req);
}

void
dispatcher_ctl_drop(struct up_call *uc)
{
	/* the request is the ctl server's, freed with it */
	uc->ctx = NULL;
}
