/*
 * wltab.h: the dispatcher's tables of workloads, sorted by workload id:
 * the run queue's (queue.c) and the webhooks' (hook_intake.c). A value is
 * the caller's; the id it is filed under must live as long as its entry
 * (the value's own copy, usually).
 */
#ifndef RECON_WLTAB_H
#define RECON_WLTAB_H

#include <stddef.h>

struct wltab_ent {
	const char *id;
	void *val;
};

struct wltab {
	struct wltab_ent *e; /* sorted by id, strcmp order */
	size_t n, cap;
};

/* The value filed under id, NULL: none. */
void *wltab_get(const struct wltab *, const char *id);
/* Files val under id, which must not be there yet (else abort). */
void wltab_put(struct wltab *, const char *id, void *val);
/* Takes id's entry out and returns its value, NULL: none. */
void *wltab_del(struct wltab *, const char *id);
/* Frees the table, not the values. */
void wltab_free(struct wltab *);

#endif
