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
	int expect;                /* enum parse_expect of the latest event */
	int tries;                 /* re-reads that contradicted it */
};

struct hints {
	struct hint *v;
	size_t n, cap;
};

/*
 * Adds an event for id. The first event of a container opens its window
 * (due); later ones before it is taken fold into it, keeping that due
 * time (and the latest event's expect), so a burst costs one re-read and
 * waits at most one window. 0, or -1 when HINTS_MAX containers are
 * waiting already or memory ran out (nothing added: the caller asks for
 * a full pass instead).
 */
int hints_add(struct hints *, const char *id, const char *wid, bool gone,
              int expect, int64_t due);
/* Puts back a hint whose re-read contradicted its event, due again at
 * due, unless a newer event for it waits already. 0 or -1 as above. */
int hints_retry(struct hints *, const struct hint *, int64_t due);
/* The earliest due time, INT64_MAX when empty. */
int64_t hints_next_due(const struct hints *);
/* Moves up to max hints due at now (all: now = INT64_MAX) into out;
 * returns how many. */
size_t hints_take(struct hints *, int64_t now, struct hint *out, size_t max);
/* Whether a hint for id waits. */
bool hints_has(const struct hints *, const char *id);
void hints_free(struct hints *);

#endif
