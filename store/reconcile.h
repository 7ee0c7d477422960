/*
 * reconcile.h: the reconcile rules of SPEC §4 applied to what arrives on
 * the ingest socket: snapshots and deltas from a lister, plugin results
 * from the dispatcher. Each message is one write transaction.
 */
#ifndef RECON_RECONCILE_H
#define RECON_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "wire.h"

/* What one applied snapshot or delta did (also the sys/pass body). */
struct recon_result {
	uint64_t rev; /* head after the commit */
	uint64_t seen, changed, missing;
	uint64_t ignored_unlabeled, ignored_invalid, ignored_unknown;
	uint64_t ignored_kind, ignored_project;
	uint64_t kept; /* R8: rows not swept, their container's input refused */
	uint64_t duration_us;
	bool applied; /* false: dropped as stale */
};

/*
 * Decodes one ingest message and applies it. pipe identifies the nng pipe
 * it came on (0: unknown) so a restarted lister, whose gen starts over, is
 * told apart from a stale message. Bad or unknown messages are counted,
 * logged and dropped (0); -1 only when the database write failed.
 */
int recon_ingest(struct store *, const void *buf, size_t len, uint32_t pipe);

/* The rules on decoded messages (res may be NULL). 0, or -1 on a failed
 * write (logged, counted, nothing applied). */
int recon_apply_snapshot(struct store *, const struct wire_snapshot *,
                         uint32_t pipe, struct recon_result *res);
int recon_apply_delta(struct store *, const struct wire_delta *, uint32_t pipe,
                      struct recon_result *res);
int recon_apply_plugin_result(struct store *,
                              const struct wire_plugin_result *);

/* R9: the row state for Docker's state word. */
const char *recon_state_map(const char *docker_state);

#endif
