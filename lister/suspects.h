/*
 * suspects.h: changes a list found that no Docker event announced yet.
 * Docker emits the event at the change, but it may still be on its way:
 * only if none names the container within its grace does the change count
 * as missed. Not locked itself: the worker's mutex guards it.
 */
#ifndef RECON_SUSPECTS_H
#define RECON_SUSPECTS_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define SUSPECTS_MAX 4096

struct suspect {
	char id[WIRE_ID_MAX + 1];
	int64_t deadline; /* mono_ms: no event by then, it was missed */
};

struct suspects {
	struct suspect *v; /* SUSPECTS_MAX, allocated by suspects_init */
	size_t n;
};

void suspects_init(struct suspects *);
void suspects_free(struct suspects *);
/* id changed with no event yet: missed unless one comes by deadline. 0
 * (also when id waits already, keeping its deadline), or -1 when
 * SUSPECTS_MAX wait: the caller counts it as missed at once. */
int suspects_add(struct suspects *, const char *id, int64_t deadline);
/* An event named id: it was not missed. */
void suspects_clear(struct suspects *, const char *id);
/* Moves every deadline before due to due (a new stream's replay may
 * still announce them). */
void suspects_grace(struct suspects *, int64_t due);
/* The earliest deadline, INT64_MAX when none waits. */
int64_t suspects_next(const struct suspects *);
/* Removes those whose deadline is at or before now; returns how many:
 * changes that no event announced. */
uint64_t suspects_expire(struct suspects *, int64_t now);

#endif
