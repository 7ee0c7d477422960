/*
 * ingest.c: the store's ingest socket: trust, strict decoding by a table
 * of the message types it takes, and the stale check of snapshots and
 * deltas (per lister host and nng pipe) before the rules apply them.
 */
#include <string.h>

#include "ingest.h"
#include "jobs.h"
#include "log.h"
#include "nngx.h"
#include "results.h"
#include "util.h"

/* A lower gen than the host's last applied snapshot is stale, unless it
 * comes on another pipe than that snapshot did: then the lister restarted
 * and its counter began again. */
static bool
is_stale(struct store *st, const char *host, uint64_t gen, uint32_t pipe,
         uint64_t *last)
{
	uint32_t lpipe;

	if (store_gen_get(st, host, last, &lpipe) == 0 || gen >= *last)
		return false;
	return pipe == 0 || lpipe == 0 || pipe == lpipe;
}

int
ingest_snapshot(struct store *st, const struct wire_snapshot *s, uint32_t pipe,
                struct rules_result *res)
{
	struct rules_input in;
	struct rules_result r;
	uint64_t last;

	if (res == NULL)
		res = &r;
	memset(res, 0, sizeof(*res));
	if (str_empty(s->host)) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("unable to apply a snapshot: no host");
		return 0;
	}
	if (is_stale(st, s->host, s->gen, pipe, &last)) {
		st->ctr[STC_STALE]++;
		log_warnx("ignoring snapshot gen %llu of host %s: older than "
		          "the applied gen %llu",
		          (unsigned long long)s->gen, s->host,
		          (unsigned long long)last);
		return 0;
	}
	memset(&in, 0, sizeof(in));
	in.what = "snapshot";
	in.host = s->host;
	in.gen = s->gen;
	in.seen_at = s->taken_at > 0 ? s->taken_at : now_ms();
	in.cs = s->containers;
	in.ncs = s->ncontainers;
	in.skipped = s->skipped;
	in.nskipped = s->nskipped;
	in.pass_event = true;
	/*
	 * R8: the lister sends no snapshot for a failed list. Should an
	 * incomplete one arrive anyway, what it does list is still true, so
	 * its upserts apply; but it proves nothing about absent containers,
	 * so nothing is swept.
	 */
	in.sweep = s->complete;
	if (!s->complete) {
		st->ctr[STC_INCOMPLETE]++;
		log_warnx("snapshot gen %llu of host %s is incomplete: "
		          "applying upserts only, no sweep",
		          (unsigned long long)s->gen, s->host);
	}
	if (rules_apply(st, &in, res) == -1)
		return -1;
	st->ctr[STC_SNAPSHOTS]++;
	if (s->complete)
		jobs_pass(st->jobs); /* R11 */
	return store_gen_set(st, s->host, s->gen, pipe);
}

int
ingest_delta(struct store *st, const struct wire_delta *d, uint32_t pipe,
             struct rules_result *res)
{
	struct rules_input in;
	struct rules_result r;
	uint64_t last, commits;

	if (res == NULL)
		res = &r;
	memset(res, 0, sizeof(*res));
	if (str_empty(d->host)) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("unable to apply a delta: no host");
		return 0;
	}
	if (is_stale(st, d->host, d->gen, pipe, &last)) {
		st->ctr[STC_STALE]++;
		log_warnx("ignoring delta gen %llu of host %s: older than the "
		          "applied snapshot gen %llu",
		          (unsigned long long)d->gen, d->host,
		          (unsigned long long)last);
		return 0;
	}
	memset(&in, 0, sizeof(in));
	in.what = "delta";
	in.host = d->host;
	in.gen = d->gen;
	in.seen_at = now_ms();
	in.cs = d->containers;
	in.ncs = d->ncontainers;
	in.gone = d->gone;
	in.ngone = d->ngone;
	commits = db_commits(st->db);
	if (rules_apply(st, &in, res) == -1)
		return -1;
	st->ctr[STC_DELTAS]++;
	/* a re-read after a Docker event that shows what is stored */
	if (db_commits(st->db) == commits)
		st->ctr[STC_DELTAS_UNCHANGED]++;
	return 0;
}

static int
take_snapshot(struct store *st, const void *buf, size_t len, struct arena *a,
              uint32_t pipe, char *err)
{
	struct wire_snapshot s;

	if (wire_decode_snapshot(buf, len, a, &s, err) == -1)
		return 1;
	return ingest_snapshot(st, &s, pipe, NULL);
}

static int
take_delta(struct store *st, const void *buf, size_t len, struct arena *a,
           uint32_t pipe, char *err)
{
	struct wire_delta d;

	if (wire_decode_delta(buf, len, a, &d, err) == -1)
		return 1;
	return ingest_delta(st, &d, pipe, NULL);
}

static int
take_plugin_result(struct store *st, const void *buf, size_t len,
                   struct arena *a, uint32_t pipe, char *err)
{
	struct wire_plugin_result pr;

	if (wire_decode_plugin_result(buf, len, a, &pr, err) == -1)
		return 1;
	return results_apply(st, &pr);
}

/*
 * The messages the store takes on `ingest`. fn decodes and applies one:
 * 0 done (or dropped and counted), 1 it failed to decode (reason in err),
 * -1 the write failed.
 */
static const struct ingest_handler {
	enum wire_msgtype type;
	const char *name;
	int (*fn)(struct store *, const void *, size_t, struct arena *,
	          uint32_t pipe, char *err);
} ingest_handlers[] = {
    {WIRE_T_SNAPSHOT, "snapshot", take_snapshot},
    {WIRE_T_DELTA, "delta", take_delta},
    {WIRE_T_PLUGIN_RESULT, "plugin_result", take_plugin_result},
};

int
ingest_message(struct store *st, const void *buf, size_t len, uint32_t pipe,
               int64_t peer_uid)
{
	const struct ingest_handler *h = NULL;
	char err[WIRE_ERR_LEN] = "";
	enum wire_msgtype type;
	struct arena *a;
	size_t i;
	int r;

	/* everything on ingest changes state (SPEC §2) */
	if (!nngx_uid_trusted(peer_uid, st->admin_uid)) {
		st->ctr[STC_INGEST_FORBIDDEN]++;
		log_warnx("refused an ingest message from %s %lld",
		          peer_uid < 0 ? "a peer with no uid" : "uid",
		          (long long)peer_uid);
		return 0;
	}
	if (wire_peek_type(buf, len, &type, err) == -1) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("dropping an ingest message: %s", err);
		return 0;
	}
	for (i = 0; i < sizeof(ingest_handlers) / sizeof(ingest_handlers[0]);
	     i++)
		if (ingest_handlers[i].type == type)
			h = &ingest_handlers[i];
	if (h == NULL) {
		st->ctr[STC_UNKNOWN_MESSAGES]++;
		log_warnx("dropping an ingest message of type %d: not taken "
		          "here",
		          (int)type);
		return 0;
	}
	a = arena_new();
	r = h->fn(st, buf, len, a, pipe, err);
	arena_free(a);
	if (r == 1) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("dropping a %s: %s", h->name, err);
		return 0;
	}
	return r;
}
