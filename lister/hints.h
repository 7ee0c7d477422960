/*
 * hints.h: what the events thread asks the Docker thread to do: per
 * container, a re-read due at the end of its coalescing window, or the
 * news that it was destroyed. Not locked itself: the worker's mutex
 * guards it.
 */
#ifndef RECON_HINTS_H
#define RECON_HINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define HINTS_MAX 4096 /* beyond this a full pass is cheaper */

struct hint {
	char id[WIRE_ID_MAX + 1];
	char wid[WIRE_ID_MAX + 1]; /* from the event; "" unknown */
	int64_t due;               /* mono_ms of the re-read */
	bool gone;                 /* a destroy was seen */
	int expect; /* enum parse_expect of the latest event that had one */
	int tries;  /* re-reads that contradicted it */
	int sets;   /* enum parse_sets waiting to be applied; 0 none */
	bool apply_gone; /* a destroy waiting to be applied */
	bool applied;    /* the index holds what an event said, not a list */
};

struct hints {
	struct hint *v;
	size_t n, cap;
};

/*
 * Adds an event for id. The first event of a container opens its window
 * (due); later ones before it is taken fold into it, keeping that due
 * time, so a burst costs one re-read and waits at most one window. The
 * latest event that implies a state sets expect (one that implies none,
 * 0, keeps it: a rename after a die must not accept a stale read) and the
 * state to apply, sets (0: none; a gone hint applies the destroy). 0, or
 * -1 when HINTS_MAX containers are waiting already (nothing added: the
 * caller asks for a full pass instead).
 */
int hints_add(struct hints *, const char *id, const char *wid, bool gone,
              int expect, int sets, int64_t due);
/* Puts back a hint whose re-read contradicted its event, due again at
 * due, unless a newer event for it waits already (which then inherits
 * its expectation if it has none, and its applied mark). 0 or -1 as
 * above. */
int hints_retry(struct hints *, const struct hint *, int64_t due);
/* The hint waiting for id, NULL if none. */
const struct hint *hints_get(const struct hints *, const char *id);
/* Whether some hint has an event state waiting to be applied. */
bool hints_pending(const struct hints *);
/* Moves up to max hints with an event state to apply into out, clearing
 * that and marking them applied in the table (they stay for their
 * re-read); returns how many. */
size_t hints_take_pending(struct hints *, struct hint *out, size_t max);
/* The earliest due time, INT64_MAX when empty. */
int64_t hints_next_due(const struct hints *);
/* Moves up to max hints due at now (all: now = INT64_MAX) into out;
 * returns how many. */
size_t hints_take(struct hints *, int64_t now, struct hint *out, size_t max);
/* Whether a hint for id waits. */
bool hints_has(const struct hints *, const char *id);
void hints_free(struct hints *);

#endif
