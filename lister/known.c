/*
 * known.c: a sorted array of (Docker id, workload id, fingerprint, the
 * record itself). The fingerprint (wire_container_fingerprint) hashes the
 * fields the schema marks as R4's sources, so a change of any of them,
 * and only of them, counts; the
 * record is what an event's state is applied to.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "known.h"
#include "util.h"

struct known_ent {
	char *id;
	char *wid;
	uint64_t fp;
	struct wire_container *c; /* one allocation, strings inside */
	int64_t *run_ports;       /* its ports when last seen running */
	size_t nrun;
	bool ran; /* seen running or paused: run_ports is known */
};

struct known {
	struct known_ent *v;
	size_t n, cap;
	char key[WIRE_LABEL_MAX + 1]; /* <prefix>workload.id */
	bool primed;                  /* a full list set the baseline */
};

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
	struct known *k = xcalloc(1, sizeof(*k));

	snprintf(k->key, sizeof(k->key), "%sworkload.id", prefix);
	return k;
}

static void
ent_free(struct known_ent *e)
{
	free(e->id);
	free(e->wid);
	free(e->c);
	free(e->run_ports);
	e->id = e->wid = NULL;
	e->c = NULL;
	e->run_ports = NULL;
}

static void
ents_free(struct known_ent *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ent_free(&v[i]);
	free(v);
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

static size_t
str_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 1;
}

static char *
str_put(char **p, const char *s)
{
	char *r = *p;
	size_t n = str_size(s);

	memcpy(r, s != NULL ? s : "", n);
	*p += n;
	return r;
}

/* A deep copy of c in one malloc block: the struct, labels, ports, then
 * the strings. */
static struct wire_container *
rec_copy(const struct wire_container *c)
{
	struct wire_container *r;
	size_t i, sz;
	char *p;

	sz = sizeof(*r) + c->nlabels * sizeof(*r->labels) +
	     c->nports * sizeof(*r->ports) + str_size(c->id) +
	     str_size(c->image) + str_size(c->state);
	for (i = 0; i < c->nlabels; i++)
		sz += str_size(c->labels[i].key) + str_size(c->labels[i].val);
	r = xmalloc(sz);
	*r = *c;
	p = (char *)(r + 1);
	r->labels = c->nlabels ? (struct wire_kv *)p : NULL;
	p += c->nlabels * sizeof(*r->labels);
	r->ports = c->nports ? (int64_t *)p : NULL;
	if (c->nports)
		memcpy(r->ports, c->ports, c->nports * sizeof(*r->ports));
	p += c->nports * sizeof(*r->ports);
	r->id = str_put(&p, c->id);
	r->image = str_put(&p, c->image);
	r->state = str_put(&p, c->state);
	for (i = 0; i < c->nlabels; i++) {
		r->labels[i].key = str_put(&p, c->labels[i].key);
		r->labels[i].val = str_put(&p, c->labels[i].val);
	}
	return r;
}

static bool
is_up(const char *state)
{
	return state != NULL &&
	       (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0);
}

/* Docker lists a container's ports only while it runs (or is paused):
 * remembered, they are what a start brings back. */
static void
note_ports(struct known_ent *e, const struct wire_container *c)
{
	int64_t *v = NULL;

	if (!is_up(c->state))
		return;
	if (c->nports > 0) {
		v = xreallocarray(NULL, c->nports, sizeof(*v));
		memcpy(v, c->ports, c->nports * sizeof(*v));
	}
	free(e->run_ports);
	e->run_ports = v;
	e->nrun = c->nports;
	e->ran = true;
}

static void
ent_set(struct known *k, struct known_ent *e, const struct wire_container *c)
{
	memset(e, 0, sizeof(*e));
	e->id = xstrdup(c->id);
	e->wid = xstrdup(wid_of(k, c));
	e->fp = wire_container_fingerprint(c);
	e->c = rec_copy(c);
	note_ports(e, c);
}

/* A new reading of a known container: what it ran with stays known. */
static void
ent_reset(struct known_ent *e, const struct wire_container *c)
{
	free(e->c);
	e->c = rec_copy(c);
	e->fp = wire_container_fingerprint(c);
	note_ports(e, c);
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

	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++)
		ent_set(k, &v[i], &cs[i]);
	qsort(v, n, sizeof(*v), ent_cmp);
	/* Docker ids are unique; should a list repeat one, keep the first. */
	for (i = m = 0; i < n; i++) {
		if (m > 0 && strcmp(v[i].id, v[m - 1].id) == 0) {
			ent_free(&v[i]);
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
	/* What each container last ran with outlives a list that shows it
	 * stopped. */
	for (i = j = 0; i < k->n && j < m;) {
		r = strcmp(k->v[i].id, v[j].id);
		if (r == 0 && !v[j].ran && k->v[i].ran) {
			v[j].run_ports = k->v[i].run_ports;
			v[j].nrun = k->v[i].nrun;
			v[j].ran = true;
			k->v[i].run_ports = NULL;
		}
		if (r <= 0)
			i++;
		if (r >= 0)
			j++;
	}
	ents_free(k->v, k->n);
	k->v = v;
	k->n = m;
	k->cap = n ? n : 1;
	k->primed = true;
	return 0;
}

static void
upsert(struct known *k, const struct wire_container *c)
{
	struct known_ent e;
	size_t at;
	bool found;

	at = find(k, c->id, &found);
	if (found) {
		ent_reset(&k->v[at], c);
		return;
	}
	ent_set(k, &e, c);
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 16;
		k->v = xreallocarray(k->v, k->cap, sizeof(*k->v));
	}
	memmove(&k->v[at + 1], &k->v[at], (k->n - at) * sizeof(*k->v));
	k->v[at] = e;
	k->n++;
}

static void
drop(struct known *k, const char *id)
{
	size_t at;
	bool found;

	at = find(k, id, &found);
	if (!found)
		return;
	ent_free(&k->v[at]);
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
		upsert(k, &cs[i]);
	return 0;
}

bool
known_changed(const struct known *k, const struct wire_container *c)
{
	size_t at;
	bool found;

	at = find(k, c->id, &found);
	return !found || k->v[at].fp != wire_container_fingerprint(c);
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

/* A copy of r in the arena. */
static void
rec_to_arena(const struct wire_container *r, struct arena *a,
             struct wire_container *out)
{
	size_t i;

	*out = *r;
	out->id = arena_strdup(a, r->id);
	out->image = arena_strdup(a, r->image);
	out->state = arena_strdup(a, r->state);
	out->labels = arena_alloc(a, (r->nlabels + 1) * sizeof(*out->labels));
	for (i = 0; i < r->nlabels; i++) {
		out->labels[i].key = arena_strdup(a, r->labels[i].key);
		out->labels[i].val = arena_strdup(a, r->labels[i].val);
	}
	out->ports = arena_alloc(a, (r->nports + 1) * sizeof(*out->ports));
	if (r->nports > 0)
		memcpy(out->ports, r->ports, r->nports * sizeof(*out->ports));
}

int
known_record(const struct known *k, const char *id, struct arena *a,
             struct wire_container *out)
{
	size_t at;
	bool found;

	at = find(k, id, &found);
	if (!found)
		return -1;
	rec_to_arena(k->v[at].c, a, out);
	return 0;
}

int
known_derive(const struct known *k, const char *id, const char *state,
             struct arena *a, struct wire_container *out)
{
	const struct known_ent *e;
	size_t at;
	bool found;

	at = find(k, id, &found);
	if (!found)
		return -1;
	e = &k->v[at];
	if (strcmp(state, "running") == 0 && !is_up(e->c->state)) {
		/* A start: the ports are those it last ran with, if known. */
		if (!e->ran)
			return -1;
		rec_to_arena(e->c, a, out);
		out->ports =
		    arena_alloc(a, (e->nrun + 1) * sizeof(*out->ports));
		if (e->nrun > 0)
			memcpy(out->ports, e->run_ports,
			       e->nrun * sizeof(*out->ports));
		out->nports = e->nrun;
	} else {
		rec_to_arena(e->c, a, out);
		/* Docker lists no ports for a container that is not up. */
		if (!is_up(state))
			out->nports = 0;
	}
	out->state = arena_strdup(a, state);
	return 0;
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
