/*
 * hints.c: the containers waiting for a re-read, in arrival order. Small
 * (a burst of events, not the host), so a linear search is fine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"
#include "util.h"

static struct hint *
find(const struct hints *h, const char *id)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->v[i].id, id) == 0)
			return &h->v[i];
	return NULL;
}

/* A new entry at the end; NULL when full. */
static struct hint *
append(struct hints *h)
{
	if (h->n == HINTS_MAX)
		return NULL;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	return &h->v[h->n++];
}

int
hints_add(struct hints *h, const char *id, const char *wid, bool gone,
          int expect, int sets, int64_t due)
{
	struct hint *e;

	if ((e = find(h, id)) != NULL) {
		e->gone |= gone;
		if (expect != 0)
			e->expect = expect;
		if (sets != 0)
			e->sets = sets;
		e->apply_gone |= gone;
		e->tries = 0;
		if (due < e->due) /* a retry waiting longer than a window */
			e->due = due;
		if (e->wid[0] == '\0')
			snprintf(e->wid, sizeof(e->wid), "%s", wid);
		return 0;
	}
	if ((e = append(h)) == NULL)
		return -1;
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->wid, sizeof(e->wid), "%s", wid);
	e->due = due;
	e->gone = gone;
	e->expect = expect;
	e->tries = 0;
	e->sets = sets;
	e->apply_gone = gone;
	e->applied = false;
	return 0;
}

int
hints_retry(struct hints *h, const struct hint *old, int64_t due)
{
	struct hint *e;

	if ((e = find(h, old->id)) != NULL) {
		if (e->expect == 0)
			e->expect = old->expect;
		e->applied |= old->applied;
		return 0;
	}
	if ((e = append(h)) == NULL)
		return -1;
	*e = *old;
	e->tries++;
	e->due = due;
	e->sets = 0;
	e->apply_gone = false;
	return 0;
}

const struct hint *
hints_get(const struct hints *h, const char *id)
{
	return find(h, id);
}

bool
hints_pending(const struct hints *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->v[i].sets != 0 || h->v[i].apply_gone)
			return true;
	return false;
}

size_t
hints_take_pending(struct hints *h, struct hint *out, size_t max)
{
	size_t i, got = 0;

	for (i = 0; i < h->n && got < max; i++) {
		if (h->v[i].sets == 0 && !h->v[i].apply_gone)
			continue;
		out[got++] = h->v[i];
		h->v[i].sets = 0;
		h->v[i].apply_gone = false;
		h->v[i].applied = true;
	}
	return got;
}

int64_t
hints_next_due(const struct hints *h)
{
	int64_t due = INT64_MAX;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->v[i].due < due)
			due = h->v[i].due;
	return due;
}

size_t
hints_take(struct hints *h, int64_t now, struct hint *out, size_t max)
{
	size_t i, kept = 0, got = 0;

	for (i = 0; i < h->n; i++) {
		if (got < max && h->v[i].due <= now)
			out[got++] = h->v[i];
		else
			h->v[kept++] = h->v[i];
	}
	h->n = kept;
	return got;
}

bool
hints_has(const struct hints *h, const char *id)
{
	return find(h, id) != NULL;
}

void
hints_free(struct hints *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
