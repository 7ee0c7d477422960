/*
 * lister_ctl.c: the lister.ctl command table. Every answer is built from a copy
 * of the worker's status, so health answers at once even while a Docker call
 * hangs (SPEC §7).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "lister_ctl.h"
#include "log.h"
#include "util.h"

int
lister_ctl_docker_ok(const struct worker_status *st, int64_t now_mono,
                     int64_t timeout_ms)
{
	return st->ever_ok && now_mono - st->last_ok_mono <= 3 * timeout_ms;
}

int
lister_ctl_events_ok(const struct docker_events_status *es, int64_t now_mono,
                     int64_t timeout_ms)
{
	return es->connected || now_mono - es->since_mono <= 3 * timeout_ms;
}

/* The events check's one line. */
static void
events_detail(const struct docker_events_status *es, int64_t now, char *buf,
              size_t len)
{
	long long age = (long long)(now - es->since_mono) / 1000;

	if (es->connected)
		snprintf(buf, len, "subscribed %lld s ago, %llu events", age,
		         (unsigned long long)es->events);
	else
		snprintf(buf, len, "%s for %lld s%s%s; next attempt in %lld ms",
		         es->ever_connected ? "down" : "not subscribed", age,
		         es->last_error[0] ? ": " : "", es->last_error,
		         (long long)es->retry_ms);
}

size_t
lister_ctl_counters(const struct worker_status *st,
                    const struct docker_events_status *es,
                    struct wire_counter *out)
{
	const struct wire_counter counters[] = {
	    {"passes", st->passes},
	    {"list_failures", st->list_failures},
	    {"snapshots_sent", st->snapshots_sent},
	    {"send_failures", st->send_failures},
	    {"containers_last", st->containers_last},
	    {"list_ms_last", st->list_ms_last},
	    {"list_us_last", st->list_us_last},
	    {"containers_skipped", st->skipped},
	    {"containers_unlabelled", st->unlabelled},
	    {"resyncs", st->resyncs},
	    {"relists", st->relists},
	    {"reconnects", st->reconnects},
	    {"seal_failures", st->seal_failures},
	    {"gen", st->gen},
	    {"events", es->events},
	    {"events_ignored", es->ignored},
	    {"events_bad", es->bad},
	    {"events_connected", es->connected ? 1 : 0},
	    {"events_attempts", es->attempts},
	    {"events_opens", es->opens},
	    {"events_broken", es->broken},
	    {"daemon_restarts", es->daemon_restarts},
	    {"hints", st->hints},
	    {"hint_overflows", st->hint_overflows},
	    {"rereads", st->rereads},
	    {"stale_reads", st->stale_reads},
	    {"event_applied", st->event_applied},
	    {"event_overruled", st->event_overruled},
	    {"reread_failures", st->reread_failures},
	    {"deltas_sent", st->deltas_sent},
	    {"heartbeats", st->heartbeats},
	    {"missed_events", st->missed_events},
	};

	_Static_assert(sizeof(counters) / sizeof(counters[0]) ==
	                   LISTER_CTL_NCOUNTERS,
	               "LISTER_CTL_NCOUNTERS is the count of counters");
	memcpy(out, counters, sizeof(counters));
	return LISTER_CTL_NCOUNTERS;
}

/* The lister's part of health: the docker and events checks, counters. */
static void
lister_ctl_health(void *arg, struct ctlsrv_req *req, bool live,
                  struct wire_health *h)
{
	struct lister_ctl *c = arg;
	struct worker_status st;
	struct docker_events_status es;
	struct wire_check *checks;
	struct wire_counter *ctr;
	char detail[DOCKER_ERR_LEN + 64], edetail[DOCKER_ERR_LEN + 96];
	int64_t now = mono_ms(), age;

	worker_status(c->worker, &st);
	docker_events_status(c->events, &es);

	ctr = arena_alloc(req->a, LISTER_CTL_NCOUNTERS * sizeof(*ctr));
	h->counters = ctr;
	h->ncounters = lister_ctl_counters(&st, &es, ctr);
	if (live) {
		h->ready = true;
		return;
	}
	checks = arena_alloc(req->a, 2 * sizeof(*checks));
	age = (now - st.last_ok_mono) / 1000;
	checks[0].name = "docker";
	checks[0].ok = lister_ctl_docker_ok(&st, now, c->timeout_ms);

	if (!st.ever_ok)
		snprintf(detail, sizeof(detail), "no list yet%s%s",
		         st.last_error[0] ? ": " : "", st.last_error);
	else if (checks[0].ok && st.last_ok)
		snprintf(detail, sizeof(detail), "API %s, listed %lld s ago",
		         st.api, (long long)age);
	else
		snprintf(detail, sizeof(detail), "last list %lld s ago%s%s",
		         (long long)age, st.last_error[0] ? ": " : "",
		         st.last_error);
	checks[1].name = "events";
	checks[1].ok = lister_ctl_events_ok(&es, now, c->timeout_ms);
	events_detail(&es, now, edetail, sizeof(edetail));
	checks[0].detail = arena_strdup(req->a, detail);
	checks[1].detail = arena_strdup(req->a, edetail);
	h->ready = st.ever_ok;
	h->checks = checks;
	h->nchecks = 2;
}

/* resync: a full pass now (after the one running); replies at once. */
static int
lister_ctl_resync(void *arg, struct ctlsrv_req *req)
{
	struct lister_ctl *c = arg;

	worker_resync(c->worker);
	log_info("full pass asked for on lister.ctl");
	return wire_reply_begin(req->out, 0);
}

/* The lister.ctl commands (health is the server's, with lister_ctl_health). */
static const struct ctlsrv_cmd lister_ctl_cmds[] = {
    {"resync", lister_ctl_resync},
};

void
lister_ctl_config(struct lister_ctl *c, struct ctlsrv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "lister.ctl";
	cfg->proc = "recon-lister";
	cfg->cmds = lister_ctl_cmds;
	cfg->ncmds = sizeof(lister_ctl_cmds) / sizeof(lister_ctl_cmds[0]);
	cfg->health = lister_ctl_health;
	cfg->arg = c;
	cfg->admin_uid = c->admin_uid;
}
