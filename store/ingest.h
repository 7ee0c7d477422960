/*
 * ingest.h: what arrives on the store's ingest socket (snapshots and
 * deltas from a lister, plugin results from the dispatcher): the peer's
 * trust checked, the message decoded strictly, stale generations
 * dropped, then handed to the rules (rules.c) or the plugin results
 * (results.c). Each message is one write transaction.
 */
#ifndef RECON_STORE_INGEST_H
#define RECON_STORE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "store.h"
#include "wire.h"

/*
 * Takes one ingest message from peer_uid (-1: not known). A peer that may
 * not write, and bad or unknown messages, are counted, logged and
 * dropped (0); -1 only when the database write failed.
 */
int ingest_message(struct store *st, const void *buf, size_t len,
                   int64_t peer_uid);

/*
 * Takes one message that came through the remote ingest listener (SPEC
 * §10): only a snapshot or delta sealed by a host proof that v opens and
 * whose certificate names the message's host is applied (as
 * ingest_snapshot or ingest_delta would); anything else is refused,
 * counted (ingest_forbidden and a remote_refused_* reason) and logged
 * once per peer (its address) and reason a minute. 0, or -1 only when
 * the database write failed.
 */
struct hostproof_verifier;
int ingest_sealed(struct store *st, struct hostproof_verifier *v,
                  const void *buf, size_t len, const char *peer);

/* A decoded snapshot or delta (res may be NULL; res->applied false:
 * dropped as stale: its gen is below the host's). One accepted updates
 * the host's record (last_seen_at, gen, a snapshot's interval). 0, or -1
 * on a failed write (logged, counted, nothing applied). */
int ingest_snapshot(struct store *st, const struct wire_snapshot *s,
                    struct rules_result *res);
int ingest_delta(struct store *st, const struct wire_delta *d,
                 struct rules_result *res);

#endif
