/*
 * ingest_remote.c: what arrives through the store's remote ingest
 * listener (SPEC §10): only a snapshot or delta sealed by a host proof
 * (common/hostproof.h) whose certificate names the host the message is
 * for. A thin layer before ingest_snapshot and ingest_delta, which apply
 * it as they apply a local one (their stale check included).
 */
#include <stdio.h>
#include <string.h>

#include "hostproof.h"
#include "ingest.h"
#include "log.h"
#include "util.h"

/*
 * A refusal is logged once per peer and reason, then at most once per
 * QUIET_MS of that pair with the count not logged since: a misconfigured
 * lister sending every few seconds, or a hostile one flooding, costs one
 * line a minute. Beyond PEERS_MAX pairs the oldest is forgotten.
 */
#define QUIET_MS  60000
#define PEERS_MAX 64

static struct refusal {
	char peer[64];
	enum store_ctr why;
	int64_t last;
	uint64_t skipped;
} refusals[PEERS_MAX];

static void
refuse(struct store *st, enum store_ctr why, const char *peer, const char *fmt,
       const char *detail)
{
	struct refusal *r = NULL, *old = &refusals[0];
	int64_t now = mono_ms();
	char line[HOSTPROOF_ERR_LEN + 128];
	size_t i;

	st->ctr[STC_INGEST_FORBIDDEN]++;
	st->ctr[why]++;
	for (i = 0; i < PEERS_MAX; i++) {
		if (refusals[i].last != 0 && refusals[i].why == why &&
		    strcmp(refusals[i].peer, peer) == 0) {
			r = &refusals[i];
			break;
		}
		if (refusals[i].last < old->last)
			old = &refusals[i];
	}
	if (r != NULL && now - r->last < QUIET_MS) {
		r->skipped++;
		return;
	}
	if (r == NULL) {
		r = old;
		memset(r, 0, sizeof(*r));
		snprintf(r->peer, sizeof(r->peer), "%s", peer);
		r->why = why;
	}
	snprintf(line, sizeof(line), fmt, detail);
	if (r->skipped > 0)
		log_warnx("refused a remote ingest message from %s: %s (the "
		          "host's rows are untouched; %llu more such from it "
		          "since the last line)",
		          peer, line, (unsigned long long)r->skipped);
	else
		log_warnx("refused a remote ingest message from %s: %s (the "
		          "host's rows are untouched)",
		          peer, line);
	r->last = now;
	r->skipped = 0;
}

/* The inner message's host is one the certificate proves; 0 or -1. */
static int
host_proven(struct store *st, struct hostproof_verifier *v,
            const struct hostproof_opened *o, const char *host,
            const char *peer)
{
	struct hostproof_err he;

	if (str_empty(host)) {
		refuse(st, STC_REMOTE_HOST, peer, "%s",
		       "a sealed message naming no host");
		return -1;
	}
	if (hostproof_check_host(v, o, host, &he) == -1) {
		refuse(st, STC_REMOTE_HOST, peer, "%s", he.msg);
		return -1;
	}
	return 0;
}

int
ingest_sealed(struct store *st, struct hostproof_verifier *v, const void *buf,
              size_t len, const char *peer)
{
	char err[WIRE_ERR_LEN] = "";
	struct hostproof_opened o;
	struct hostproof_err he;
	enum wire_msgtype type;
	struct wire_snapshot s;
	struct wire_delta d;
	struct arena *a;
	int r = 0;

	if (v == NULL) {
		refuse(st, STC_REMOTE_SEAL, peer, "%s",
		       "no --tls-ca to open host proofs with");
		return 0;
	}
	if (hostproof_open(v, buf, len, &o, &he) == -1) {
		/* a bare message is told apart: a lister without its
		 * certificate, most likely */
		if (he.reason == HOSTPROOF_MALFORMED &&
		    wire_peek_type(buf, len, &type, err) == 0 &&
		    type != WIRE_T_UNKNOWN)
			refuse(st, STC_REMOTE_UNSEALED, peer, "%s",
			       "a bare message without a host proof (a "
			       "remote lister seals with --tls-cert and "
			       "--tls-key)");
		else
			refuse(st, STC_REMOTE_SEAL, peer, "%s", he.msg);
		return 0;
	}
	if (wire_peek_type(o.msg, o.len, &type, err) == -1) {
		st->ctr[STC_BAD_MESSAGES]++;
		log_warnx("dropping a sealed message from %s: %s", peer, err);
		return 0;
	}
	a = arena_new();
	switch (type) {
	case WIRE_T_SNAPSHOT:
		if (wire_decode_snapshot(o.msg, o.len, a, &s, err) == -1)
			goto bad;
		if (host_proven(st, v, &o, s.host, peer) == 0)
			r = ingest_snapshot(st, &s, NULL);
		break;
	case WIRE_T_DELTA:
		if (wire_decode_delta(o.msg, o.len, a, &d, err) == -1)
			goto bad;
		if (host_proven(st, v, &o, d.host, peer) == 0)
			r = ingest_delta(st, &d, NULL);
		break;
	default:
		/* plugin results and the rest are the local dispatcher's */
		refuse(st, STC_REMOTE_TYPE, peer, "%s",
		       "a sealed message of a type remote ingest does not "
		       "take (snapshots and deltas only)");
		break;
	}
	arena_free(a);
	return r;
bad:
	st->ctr[STC_BAD_MESSAGES]++;
	log_warnx("dropping a sealed message from %s: %s", peer, err);
	arena_free(a);
	return 0;
}
