/*
 * wltab.c: a sorted array and a binary search: lookups in log n, inserts
 * and removals move the tail (tables of some thousands of workloads).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wltab.h"

/* Index of id, or where it would go (*found false). */
static size_t
wltab_find(const struct wltab *t, const char *id, bool *found)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, t->e[mid].id)) == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

void *
wltab_get(const struct wltab *t, const char *id)
{
	bool found;
	size_t i = wltab_find(t, id, &found);

	return found ? t->e[i].val : NULL;
}

void
wltab_put(struct wltab *t, const char *id, void *val)
{
	bool found;
	size_t i = wltab_find(t, id, &found);

	if (found)
		abort(); /* the caller's bookkeeping is broken */
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->e = xreallocarray(t->e, t->cap, sizeof(*t->e));
	}
	memmove(&t->e[i + 1], &t->e[i], (t->n - i) * sizeof(*t->e));
	t->e[i].id = id;
	t->e[i].val = val;
	t->n++;
}

void *
wltab_del(struct wltab *t, const char *id)
{
	bool found;
	size_t i = wltab_find(t, id, &found);
	void *val;

	if (!found)
		return NULL;
	val = t->e[i].val;
	memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof(*t->e));
	t->n--;
	return val;
}

void
wltab_free(struct wltab *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}
