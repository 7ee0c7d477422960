/*
 * ctl.c: dispatcher.ctl. Requests arrive on a raw REP socket, so a
 * dispatch can wait for the store's answer while health, and other
 * dispatches, are answered meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clnt.h"
#include "ctl.h"
#include "log.h"
#include "nngx.h"
#include "util.h"

/*
 * A command: its request name `t`, and the function that answers it.
 * fn either writes a whole reply into b and returns 0, or takes the
 * request m for a later answer and returns 1.
 */
struct ctl_cmd {
	const char *name;
	int (*fn)(struct ctl *, const struct wire_request *, nng_msg *m,
	          struct wbuf *b);
};

static int ctl_health(struct ctl *, const struct wire_request *, nng_msg *,
                      struct wbuf *);
static int ctl_dispatch(struct ctl *, const struct wire_request *, nng_msg *,
                        struct wbuf *);

static const struct ctl_cmd ctl_cmds[] = {
    /* health [live]: the SPEC §7 reply; live: only "the loop turns". */
    {"health", ctl_health},
    /* dispatch id: a manual plugin run, asked of the store (which checks
     * the workload and sends the job); its reply is passed back. */
    {"dispatch", ctl_dispatch},
};

static int
ctl_health(struct ctl *c, const struct wire_request *rq, nng_msg *m,
           struct wbuf *b)
{
	const struct runner *r = c->runner;
	const uint64_t *nc = notify_counters(c->notify);
	struct wire_check checks[2];
	char d0[600], d1[128];
	struct wire_health h;
	struct stat sb;
	const struct wire_counter ctr[] = {
	    {"runs", r->ctr[RC_RUNS]},
	    {"failures", r->ctr[RC_FAILURES]},
	    {"timeouts", r->ctr[RC_TIMEOUTS]},
	    {"refused", r->ctr[RC_REFUSED]},
	    {"queued", r->q.queued},
	    {"running", r->q.running},
	    {"folded", r->q.folded},
	    {"jobs", r->ctr[RC_JOBS]},
	    {"bad_jobs", r->ctr[RC_BAD_JOBS]},
	    {"results_sent", r->ctr[RC_RESULTS_SENT]},
	    {"results_waiting", r->nout},
	    {"results_lost", r->ctr[RC_RESULTS_LOST]},
	    {"notifications_sent", nc[NC_SENT]},
	    {"notifications_failed", nc[NC_FAILED]},
	    {"notifications_retried", nc[NC_RETRIED]},
	    {"notifications_dropped", nc[NC_DROPPED]},
	    {"notifications_queued", notify_queued(c->notify)},
	    {"events", nc[NC_EVENTS]},
	    {"bad_events", nc[NC_BAD_EVENTS]},
	    {"workload_fetches", nc[NC_FETCHES]},
	    {"workload_fetch_failures", nc[NC_FETCH_FAILURES]},
	    {"ctl_requests", c->requests},
	    {"ctl_bad_requests", c->bad_requests},
	    {"ctl_denied", c->denied},
	    {"dispatches_forwarded", c->forwarded},
	};

	memset(&h, 0, sizeof(h));
	h.name = "recon-dispatcher";
	h.pid = (int64_t)getpid();
	h.version = RECON_VERSION;
	h.uptime_s = (mono_ms() - c->started_mono) / 1000;
	h.ready = true;
	h.counters = ctr;
	h.ncounters = sizeof(ctr) / sizeof(ctr[0]);
	if (!rq->live) {
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
		checks[0].detail = d0;
		/* results pile up only while the store does not take them */
		checks[1].name = "store";
		checks[1].ok = r->nout < 100;
		snprintf(d1, sizeof(d1),
		         "%zu plugin results wait for the store", r->nout);
		checks[1].detail = d1;
		h.checks = checks;
		h.nchecks = 2;
	}
	wire_reply_health(b, &h);
	return 0;
}

/* Manual runs come from the same peers as the store's writes. */
static bool
may_write(const struct ctl *c, nng_msg *m)
{
	uint64_t uid;

	if (nngx_peer_uid(m, &uid) == -1)
		return true; /* tcp: the operator's network decides */
	return uid == 0 || (int64_t)uid == c->own_uid ||
	       (c->admin_uid >= 0 && (int64_t)uid == c->admin_uid);
}

static int
ctl_dispatch(struct ctl *c, const struct wire_request *rq, nng_msg *m,
             struct wbuf *b)
{
	struct up_call *uc;

	if (!may_write(c, m)) {
		c->denied++;
		log_warnx("refused a dispatch: peer uid may not write");
		wire_reply_error(b, "denied", "this uid may not dispatch");
		return 0;
	}
	if (rq->id == NULL || !id_valid(rq->id)) {
		wire_reply_error(b, "invalid",
		                 "id: must match ^[A-Za-z0-9][A-Za-z0-9._:-]"
		                 "{0,127}$");
		return 0;
	}
	if ((uc = calloc(1, sizeof(*uc))) == NULL) {
		wire_reply_error(b, "internal", "out of memory");
		return 0;
	}
	uc->kind = UP_DISPATCH;
	snprintf(uc->id, sizeof(uc->id), "%s", rq->id);
	uc->ctx = m;
	if (upstream_submit(c->up, uc) == -1) {
		free(uc);
		wire_reply_error(b, "busy",
		                 "too many calls wait for the store");
		return 0;
	}
	c->forwarded++;
	return 1;
}

void
ctl_serve(struct ctl *c)
{
	char err[WIRE_ERR_LEN];
	const struct ctl_cmd *cmd;
	struct wire_request rq;
	struct wbuf b = {0};
	struct arena *a;
	nng_msg *m;
	size_t i;
	int r;

	while (nngx_try_recv(c->sock, &m) == 1) {
		c->requests++;
		a = arena_new();
		wbuf_reset(&b);
		cmd = NULL;
		r = 0;
		if (wire_decode_request(nng_msg_body(m), nng_msg_len(m), a, &rq,
		                        err) == -1) {
			c->bad_requests++;
			log_warnx("dropped a bad dispatcher.ctl request: %s",
			          err);
			wire_reply_error(&b, "invalid", err);
		} else {
			for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);
			     i++)
				if (strcmp(ctl_cmds[i].name, rq.t) == 0)
					cmd = &ctl_cmds[i];
			if (cmd == NULL)
				wire_reply_error(&b, "unknown",
				                 "unknown request");
			else
				r = cmd->fn(c, &rq, m, &b);
		}
		if (r == 0 && nngx_reply_nb(c->sock, m, b.data, b.len) == -1)
			log_warnx("unable to answer on dispatcher.ctl: peer "
			          "gone");
		arena_free(a);
	}
	wbuf_free(&b);
}

void
ctl_forwarded(struct ctl *c, struct up_call *uc)
{
	struct wbuf b = {0};
	nng_msg *m = uc->ctx;
	char msg[300];

	uc->ctx = NULL;
	if (uc->status == CLNT_OK) {
		log_info("dispatch %s: passed on to the store", uc->id);
		if (nngx_reply_nb(c->sock, m, uc->reply.data, uc->reply.len) ==
		    -1)
			log_warnx("unable to answer dispatch %s: peer gone",
			          uc->id);
		return;
	}
	log_warnx("unable to dispatch %s: store unreachable: %s", uc->id,
	          uc->err);
	snprintf(msg, sizeof(msg), "store unreachable: %s", uc->err);
	wire_reply_error(&b, "unavailable", msg);
	if (nngx_reply_nb(c->sock, m, b.data, b.len) == -1)
		log_warnx("unable to answer dispatch %s: peer gone", uc->id);
	wbuf_free(&b);
}

void
ctl_drop(struct up_call *uc)
{
	if (uc->kind == UP_DISPATCH && uc->ctx != NULL)
		nng_msg_free(uc->ctx);
	uc->ctx = NULL;
}
