/*
 * ctl.c: the lister.ctl command table. Every answer is built from a copy of
 * the worker's status, so health answers at once even while a Docker call
 * hangs (SPEC §7).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "ctl.h"
#include "log.h"
#include "util.h"

/*
 * A command: its request name `t`, and the function that appends the
 * reply (0, or -1 after appending an error reply itself).
 */
struct ctl_cmd {
	const char *name;
	int (*fn)(struct ctl *, const struct wire_request *, struct wbuf *);
};

static int ctl_health(struct ctl *, const struct wire_request *, struct wbuf *);
static int ctl_resync(struct ctl *, const struct wire_request *, struct wbuf *);

static const struct ctl_cmd ctl_cmds[] = {
    /* health [live]: the SPEC §7 reply; live: only "the loop turns". */
    {"health", ctl_health},
    /* resync: a full pass now (after the one running); replies at once. */
    {"resync", ctl_resync},
};

int
ctl_docker_ok(const struct worker_status *st, int64_t now_mono,
              int64_t timeout_ms)
{
	return st->ever_ok && now_mono - st->last_ok_mono <= 3 * timeout_ms;
}

int
ctl_events_ok(const struct events_status *es, int64_t now_mono,
              int64_t timeout_ms)
{
	return es->connected || now_mono - es->since_mono <= 3 * timeout_ms;
}

/* The events check's one line. */
static void
events_detail(const struct events_status *es, int64_t now, char *buf,
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

static int
ctl_health(struct ctl *c, const struct wire_request *req, struct wbuf *b)
{
	struct worker_status st;
	struct events_status es;
	struct wire_check checks[2];
	struct wire_health h;
	char detail[DOCKER_ERR_LEN + 64], edetail[DOCKER_ERR_LEN + 96];
	int64_t now = mono_ms(), age;

	worker_status(c->worker, &st);
	events_status(c->events, &es);
	const struct wire_counter counters[] = {
	    {"passes", st.passes},
	    {"list_failures", st.list_failures},
	    {"snapshots_sent", st.snapshots_sent},
	    {"send_failures", st.send_failures},
	    {"containers_last", st.containers_last},
	    {"list_ms_last", st.list_ms_last},
	    {"list_us_last", st.list_us_last},
	    {"containers_skipped", st.skipped},
	    {"containers_unlabelled", st.unlabelled},
	    {"resyncs", st.resyncs},
	    {"relists", st.relists},
	    {"gen", st.gen},
	    {"events", es.events},
	    {"events_ignored", es.ignored},
	    {"events_bad", es.bad},
	    {"events_connected", es.connected ? 1 : 0},
	    {"events_attempts", es.attempts},
	    {"events_opens", es.opens},
	    {"events_broken", es.broken},
	    {"daemon_restarts", es.daemon_restarts},
	    {"hints", st.hints},
	    {"hint_overflows", st.hint_overflows},
	    {"rereads", st.rereads},
	    {"stale_reads", st.stale_reads},
	    {"event_applied", st.event_applied},
	    {"event_overruled", st.event_overruled},
	    {"reread_failures", st.reread_failures},
	    {"deltas_sent", st.deltas_sent},
	    {"heartbeats", st.heartbeats},
	    {"missed_events", st.missed_events},
	    {"ctl_requests", c->requests},
	    {"ctl_bad_requests", c->bad_requests},
	};

	memset(&h, 0, sizeof(h));
	h.name = "recon-lister";
	h.pid = (int64_t)getpid();
	h.version = RECON_VERSION;
	h.uptime_s = (now - c->started_mono) / 1000;
	h.counters = counters;
	h.ncounters = sizeof(counters) / sizeof(counters[0]);
	if (req->live) {
		h.ready = true;
		return wire_reply_health(b, &h);
	}
	age = (now - st.last_ok_mono) / 1000;
	checks[0].name = "docker";
	checks[0].ok = ctl_docker_ok(&st, now, c->timeout_ms);
	checks[0].detail = detail;
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
	checks[1].ok = ctl_events_ok(&es, now, c->timeout_ms);
	checks[1].detail = edetail;
	events_detail(&es, now, edetail, sizeof(edetail));
	h.ready = st.ever_ok;
	h.checks = checks;
	h.nchecks = 2;
	return wire_reply_health(b, &h);
}

static int
ctl_resync(struct ctl *c, const struct wire_request *req, struct wbuf *b)
{
	worker_resync(c->worker);
	log_info("full pass asked for on lister.ctl");
	return wire_reply_begin(b, 0);
}

void
ctl_handle(struct ctl *c, const void *buf, size_t len, struct wbuf *reply)
{
	struct arena *a = arena_new();
	struct wire_request req;
	char err[WIRE_ERR_LEN];
	size_t i;

	c->requests++;
	if (wire_decode_request(buf, len, a, &req, err) == -1) {
		c->bad_requests++;
		log_warnx("unable to decode lister.ctl request: %s", err);
		wire_reply_error(reply, "invalid", err);
		arena_free(a);
		return;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (req.t != NULL && strcmp(req.t, ctl_cmds[i].name) == 0)
			break;
	if (i == sizeof(ctl_cmds) / sizeof(ctl_cmds[0])) {
		c->bad_requests++;
		snprintf(err, sizeof(err), "recon-lister has no command %.64s",
		         req.t ? req.t : "");
		log_warnx("unable to answer lister.ctl request: %s", err);
		wire_reply_error(reply, "unknown", err);
	} else if (ctl_cmds[i].fn(c, &req, reply) == -1) {
		/* Only a programming error: the encoders fail on NULLs. */
		wbuf_reset(reply);
		wire_reply_error(reply, "internal", "unable to encode reply");
	}
	arena_free(a);
}
