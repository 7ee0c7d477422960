/*
 * ingest.c: the store's ingest socket: trust, strict decoding by a table
 * of the message types it takes, the stale check of snapshots and deltas
 * (per lister host, by gen) before the rules apply them, and the host's
 * record (SPEC §10) taken with each one accepted.
 */
#include <string.h>

#include "ingest.h"
#include "jobs.h"
#include "log.h"
#include "nngx.h"
#include "results.h"
#include "util.h"

/*
 * The gen order a lister keeps (docs/PROTOCOL.md §8): a snapshot takes
 * the next gen, a delta carries the latest snapshot's (or the start
 * seed), and gens never go back, across the lister's restarts too:
 * recon-lister seeds its counter from its clock (ms) at start, so a
 * restarted lister begins above whatever it sent before. A message whose
 * gen is below the highest one the store accepted from its host is stale
 * and dropped: a late or replayed message never rolls the host back, and
 * since the highest gen is in the host record, not across a store
 * restart either.
 *
 * There used to be an exception for a lower gen on a new nng pipe (a
 * restarted lister whose counter began again). It is gone: the clock seed
 * makes it needless for recon's listers, and any replay comes on a new
 * pipe, so it let exactly the replays through after a store restart. A
 * lister whose clock stepped back below its own last gen is refused
 * until it catches up, logged; `hosts.forget` drops the record.
 */
static bool
is_stale(struct store *st, const char *host, uint64_t gen, uint64_t *last)
{
	const struct store_host *h = store_host_find(st, host);

	*last = h != NULL ? h->gen : 0;
	return h != NULL && gen < h->gen;
}

/* The host's record once msg (a snapshot when sn is set) is taken. */
static void
host_record(struct store *st, const char *host, uint64_t gen,
            const struct wire_snapshot *sn, struct wire_host *rec)
{
	const struct store_host *h = store_host_find(st, host);

	memset(rec, 0, sizeof(*rec));
	rec->host = (char *)host;
	rec->gen = h != NULL && h->gen > gen ? h->gen : gen;
	rec->last_seen_at = now_ms();
	if (sn != NULL)
		rec->interval_ms = store_interval(sn->interval_ms);
	else
		rec->interval_ms =
		    store_interval(h != NULL ? h->interval_ms : 0);
}

int
ingest_snapshot(struct store *st, const struct wire_snapshot *s,
                struct rules_result *res)
{
	struct rules_input in;
	struct rules_result r;
	struct wire_host rec;
	uint64_t last;

	if (res == NULL)
		res = &r;
	memset(res, 0, sizeof(*res));
	if (str_empty(s->host)) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("unable to apply a snapshot: no host");
		return 0;
	}
	if (is_stale(st, s->host, s->gen, &last)) {
		st->ctr[STC_STALE]++;
		log_warnx("ignoring snapshot gen %llu of host %s: older than "
		          "the host's gen %llu (a lister's gen never goes "
		          "back)",
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
	host_record(st, s->host, s->gen, s, &rec);
	in.host_rec = &rec;
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
	store_host_take(st, &rec, res->host_saved);
	st->ctr[STC_SNAPSHOTS]++;
	if (s->complete)
		jobs_pass(st->jobs); /* R11 */
	return 0;
}

int
ingest_delta(struct store *st, const struct wire_delta *d,
             struct rules_result *res)
{
	struct rules_input in;
	struct rules_result r;
	struct wire_host rec;
	uint64_t last, commits;

	if (res == NULL)
		res = &r;
	memset(res, 0, sizeof(*res));
	if (str_empty(d->host)) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("unable to apply a delta: no host");
		return 0;
	}
	if (is_stale(st, d->host, d->gen, &last)) {
		st->ctr[STC_STALE]++;
		log_warnx("ignoring delta gen %llu of host %s: older than the "
		          "host's gen %llu (a lister's gen never goes back)",
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
	host_record(st, d->host, d->gen, NULL, &rec);
	in.host_rec = &rec;
	commits = db_commits(st->db);
	if (rules_apply(st, &in, res) == -1)
		return -1;
	store_host_take(st, &rec, res->host_saved);
	st->ctr[STC_DELTAS]++;
	/* a re-read after a Docker event that shows what is stored */
	if (db_commits(st->db) == commits)
		st->ctr[STC_DELTAS_UNCHANGED]++;
	return 0;
}

static int
take_snapshot(struct store *st, const void *buf, size_t len, struct arena *a,
              char *err)
{
	struct wire_snapshot s;

	if (wire_decode_snapshot(buf, len, a, &s, err) == -1)
		return 1;
	return ingest_snapshot(st, &s, NULL);
}

static int
take_delta(struct store *st, const void *buf, size_t len, struct arena *a,
           char *err)
{
	struct wire_delta d;

	if (wire_decode_delta(buf, len, a, &d, err) == -1)
		return 1;
	return ingest_delta(st, &d, NULL);
}

static int
take_plugin_result(struct store *st, const void *buf, size_t len,
                   struct arena *a, char *err)
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
	          char *err);
} ingest_handlers[] = {
    {WIRE_T_SNAPSHOT, "snapshot", take_snapshot},
    {WIRE_T_DELTA, "delta", take_delta},
    {WIRE_T_PLUGIN_RESULT, "plugin_result", take_plugin_result},
};

int
ingest_message(struct store *st, const void *buf, size_t len, int64_t peer_uid)
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
	r = h->fn(st, buf, len, a, err);
	arena_free(a);
	if (r == 1) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("dropping a %s: %s", h->name, err);
		return 0;
	}
	return r;
}
