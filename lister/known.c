/*
 * known.c: a sorted array of (Docker id, workload id, fingerprint). The
 * fingerprint is FNV-1a over the fields a snapshot carries, so a change
 * of any of them, and only of them, counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "known.h"

struct known_ent {
	char *id;
	char *wid;
	uint64_t fp;
};

struct known {
	struct known_ent *v;
	size_t n, cap;
	char key[WIRE_LABEL_MAX + 1]; /* <prefix>workload.id */
	bool primed;                  /* a full list set the baseline */
};

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME  1099511628211ull

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* Strings with their NUL, so "ab","c" and "a","bc" differ. */
static uint64_t
fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
}

static uint64_t
fingerprint(const struct wire_container *c)
{
	uint64_t h = FNV_OFFSET;
	size_t i;

	h = fnv_str(h, c->image);
	h = fnv_str(h, c->state);
	h = fnv(h, &c->created, sizeof(c->created));
	for (i = 0; i < c->nlabels; i++) {
		h = fnv_str(h, c->labels[i].key);
		h = fnv_str(h, c->labels[i].val);
	}
	h = fnv(h, &c->nports, sizeof(c->nports));
	for (i = 0; i < c->nports; i++)
		h = fnv(h, &c->ports[i], sizeof(c->ports[i]));
	return h;
}

static const char *
wid_of(const struct known *k, const struct wire_container *c)
{
	size_t i;

	for (i = 0; i < c->nlabels; i++)
		if (strcmp(c->labels[i].key, k->key) == 0)
			return c->labels[i].val;
	return "";
}

struct known *
known_new(const char *prefix)
{
	struct known *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	snprintf(k->key, sizeof(k->key), "%sworkload.id", prefix);
	return k;
}

static void
ents_free(struct known_ent *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].wid);
	}
	free(v);
}

static void
clear(struct known *k)
{
	ents_free(k->v, k->n);
	k->v = NULL;
	k->n = k->cap = 0;
	k->primed = false;
}

void
known_free(struct known *k)
{
	if (k == NULL)
		return;
	ents_free(k->v, k->n);
	free(k);
}

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct known_ent *)a)->id,
	              ((const struct known_ent *)b)->id);
}

static int
ent_set(struct known *k, struct known_ent *e, const struct wire_container *c)
{
	e->id = strdup(c->id);
	e->wid = strdup(wid_of(k, c));
	e->fp = fingerprint(c);
	return e->id != NULL && e->wid != NULL ? 0 : -1;
}

/* The index of id, or where it would go (*found false). */
static size_t
find(const struct known *k, const char *id, bool *found)
{
	size_t lo = 0, hi = k->n, mid;
	int r;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = strcmp(id, k->v[mid].id)) == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int
known_replace(struct known *k, const struct wire_container *cs, size_t n,
              void (*changed)(void *, const char *), void *arg)
{
	struct known_ent *v;
	size_t i, j, m;
	int r;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL) {
		clear(k);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (ent_set(k, &v[i], &cs[i]) == -1) {
			ents_free(v, n);
			clear(k);
			return -1;
		}
	qsort(v, n, sizeof(*v), ent_cmp);
	/* Docker ids are unique; should a list repeat one, keep the first. */
	for (i = m = 0; i < n; i++) {
		if (m > 0 && strcmp(v[i].id, v[m - 1].id) == 0) {
			free(v[i].id);
			free(v[i].wid);
			continue;
		}
		v[m++] = v[i];
	}
	/* A merge of the two sorted tables. */
	for (i = j = 0; k->primed && (i < k->n || j < m);) {
		r = i == k->n ? 1 : j == m ? -1 : strcmp(k->v[i].id, v[j].id);
		if (r < 0)
			changed(arg, k->v[i++].id); /* gone */
		else if (r > 0)
			changed(arg, v[j++].id); /* new */
		else {
			if (k->v[i].fp != v[j].fp)
				changed(arg, v[j].id);
			i++;
			j++;
		}
	}
	ents_free(k->v, k->n);
	k->v = v;
	k->n = m;
	k->cap = n ? n : 1;
	k->primed = true;
	return 0;
}

static int
upsert(struct known *k, const struct wire_container *c)
{
	struct known_ent e, *v;
	size_t at, cap;
	bool found;

	at = find(k, c->id, &found);
	if (found) {
		k->v[at].fp = fingerprint(c);
		return 0;
	}
	if (ent_set(k, &e, c) == -1) {
		free(e.id);
		free(e.wid);
		return -1;
	}
	if (k->n == k->cap) {
		cap = k->cap ? k->cap * 2 : 16;
		if ((v = realloc(k->v, cap * sizeof(*v))) == NULL) {
			free(e.id);
			free(e.wid);
			return -1;
		}
		k->v = v;
		k->cap = cap;
	}
	memmove(&k->v[at + 1], &k->v[at], (k->n - at) * sizeof(*k->v));
	k->v[at] = e;
	k->n++;
	return 0;
}

static void
drop(struct known *k, const char *id)
{
	size_t at;
	bool found;

	at = find(k, id, &found);
	if (!found)
		return;
	free(k->v[at].id);
	free(k->v[at].wid);
	memmove(&k->v[at], &k->v[at + 1], (k->n - at - 1) * sizeof(*k->v));
	k->n--;
}

int
known_update(struct known *k, const struct wire_container *cs, size_t n,
             char *const *gone, size_t ngone)
{
	size_t i;

	for (i = 0; i < ngone; i++)
		drop(k, gone[i]);
	for (i = 0; i < n; i++)
		if (upsert(k, &cs[i]) == -1) {
			clear(k);
			return -1;
		}
	return 0;
}

bool
known_changed(const struct known *k, const struct wire_container *c)
{
	size_t at;
	bool found;

	at = find(k, c->id, &found);
	return !found || k->v[at].fp != fingerprint(c);
}

const char *
known_wid(const struct known *k, const char *id)
{
	size_t at;
	bool found;

	at = find(k, id, &found);
	return found ? k->v[at].wid : NULL;
}

void
known_each_of(const struct known *k, const char *wid,
              void (*fn)(void *, const char *), void *arg)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i].wid, wid) == 0)
			fn(arg, k->v[i].id);
}

bool
known_primed(const struct known *k)
{
	return k->primed;
}

size_t
known_count(const struct known *k)
{
	return k->n;
}
