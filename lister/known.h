/*
 * known.h: what the lister last read of each labelled container, as a
 * fingerprint of the fields the index keeps. A full pass compares against
 * it to count changes no event announced (missed_events); a re-read looks
 * up the other containers of a workload in it.
 */
#ifndef RECON_KNOWN_H
#define RECON_KNOWN_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "wire.h"

struct known;

/* prefix: the label prefix, for workload ids. */
struct known *known_new(const char *prefix);
void known_free(struct known *);

/*
 * Replaces the table with a full list, calling changed(arg, id) for each
 * container that is new, different or no longer listed compared with the
 * table; not for the first list, which only sets the baseline. 0.
 */
int known_replace(struct known *, const struct wire_container *, size_t n,
                  void (*changed)(void *arg, const char *id), void *arg);

/* A re-read: the listed containers replace their entries, the gone ids
 * are dropped. 0. */
int known_update(struct known *, const struct wire_container *, size_t n,
                 char *const *gone, size_t ngone);

/* Whether c differs from what is known of it (or is not known). */
bool known_changed(const struct known *, const struct wire_container *c);

/* The workload id of a known container; NULL when not known. */
const char *known_wid(const struct known *, const char *id);

/* A copy in a of what is known of id: 0, or -1 when not known. */
int known_record(const struct known *, const char *id, struct arena *,
                 struct wire_container *out);

/*
 * The record an event says id now has: the known one with Docker's state
 * word state, and the ports Docker would list in it (none unless running
 * or paused; for a start, those it last ran with). 0, or -1 when id is
 * not known or, for a start, its ports are not (it was never seen up).
 */
int known_derive(const struct known *, const char *id, const char *state,
                 struct arena *, struct wire_container *out);

/* Whether a full list has set the baseline. */
bool known_primed(const struct known *);

/* Calls fn(arg, id) for each known container of workload wid. */
void known_each_of(const struct known *, const char *wid,
                   void (*fn)(void *arg, const char *id), void *arg);

size_t known_count(const struct known *);

#endif
