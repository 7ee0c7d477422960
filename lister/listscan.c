/*
 * listscan.c: Docker's container list scanned in place with jscan.c's
 * grammar. Each element is read once to check it and note where its
 * fields are, then those fields are read again to fill the record;
 * nothing else is kept or allocated.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "listscan.h"
#include "log.h"
#include "util.h"

/* What the lister takes of an element, and of each of its Ports. */
enum { F_ID, F_IMAGE, F_STATE, F_CREATED, F_LABELS, F_PORTS, F_N };
enum { P_PRIVATE, P_PUBLIC, P_TYPE, P_N };

struct key_name {
	const char *name;
	size_t len;
};

static const struct key_name elem_keys[F_N] = {
    [F_ID] = {"Id", 2},         [F_IMAGE] = {"Image", 5},
    [F_STATE] = {"State", 5},   [F_CREATED] = {"Created", 7},
    [F_LABELS] = {"Labels", 6}, [F_PORTS] = {"Ports", 5},
};

static const struct key_name port_keys[P_N] = {
    [P_PRIVATE] = {"PrivatePort", 11},
    [P_PUBLIC] = {"PublicPort", 10},
    [P_TYPE] = {"Type", 4},
};

/* What a container element is, after its types were checked. */
enum elem_verdict { ELEM_OK, ELEM_SKIP, ELEM_UNLABELLED, ELEM_BAD };

/* A label kept, its value to come (a later member has it) or unfit. */
static char label_pending[1], label_unfit[1];
#define LABEL_UNFIT "a label is too long, holds a NUL or is not UTF-8"

/* Lookups of kept labels go through a hash index past this many. */
#define LABELS_LINEAR 8

struct list_ctx {
	const struct jscan *s; /* the body, for reading fields again */
	const char *prefix;
	size_t plen;
	struct arena *a;
	const char *why;
	uint32_t *idx; /* hash index of the labels of one element */
	size_t nidx;
	char kbuf[WIRE_LABEL_MAX + 1], vbuf[WIRE_LABEL_MAX + 1];
};

/* Reading a field again found what the first reading did not: our bug. */
static void
rescan_failed(void)
{
	abort();
}

static uint32_t
label_hash(const char *k, size_t n)
{
	return (uint32_t)fnv64(FNV64_INIT, k, n);
}

static void
label_index(struct list_ctx *x, const struct wire_container *c, size_t i)
{
	uint32_t h = label_hash(c->labels[i].key, strlen(c->labels[i].key));

	while (x->idx[h & (x->nidx - 1)] != 0)
		h++;
	x->idx[h & (x->nidx - 1)] = (uint32_t)i + 1;
}

/*
 * The kept label with key k (n bytes, no NUL), added with value val if
 * there is none; an existing one gets val unless val is label_pending.
 * Members repeat keys only outside Docker (a Go map), but the lookup must
 * not turn quadratic on a container with thousands of labels.
 */
static void
label_put(struct list_ctx *x, struct wire_container *c, size_t cap,
          const char *k, size_t n, char *val)
{
	size_t i;
	uint32_t h;

	if (x->idx == NULL) {
		for (i = 0; i < c->nlabels; i++)
			if (strncmp(c->labels[i].key, k, n) == 0 &&
			    c->labels[i].key[n] == '\0')
				goto found;
	} else {
		for (h = label_hash(k, n);; h++) {
			if ((i = x->idx[h & (x->nidx - 1)]) == 0)
				break;
			i--;
			if (strncmp(c->labels[i].key, k, n) == 0 &&
			    c->labels[i].key[n] == '\0')
				goto found;
		}
	}
	i = c->nlabels++;
	c->labels[i].key = arena_strndup(x->a, k, n);
	c->labels[i].val = val;
	if (x->idx != NULL) {
		label_index(x, c, i);
	} else if (c->nlabels == LABELS_LINEAR) {
		for (x->nidx = 16; x->nidx < 2 * cap; x->nidx *= 2)
			;
		x->idx = arena_alloc(x->a, x->nidx * sizeof(*x->idx));
		for (i = 0; i < c->nlabels; i++)
			label_index(x, c, i);
	}
	return;
found:
	if (val != label_pending)
		c->labels[i].val = val;
}

/* Whether a member after the current one of the object (r at the end of
 * the current value) has the key k. */
static bool
later_key(const struct jscan *r, int depth, const struct jscan_val *k)
{
	struct jscan t = *r;
	struct jscan_val k2, v2;
	bool first = false;
	int rc;

	while ((rc = jscan_obj_step(&t, depth, &first, &k2)) == 1) {
		if (jscan_value(&t, depth + 1, &v2) == -1)
			rescan_failed();
		if (jscan_key_same(k, &k2))
			return true;
	}
	if (rc == -1)
		rescan_failed();
	return false;
}

/* A string value kept in the arena, or label_unfit when longer than max
 * or holding a NUL. */
static char *
keep_string(struct list_ctx *x, const struct jscan_val *v, size_t max)
{
	bool nul;
	size_t n;

	if (!v->esc)
		return v->slen <= max && utf8_valid((const char *)v->s, v->slen)
		           ? arena_strndup(x->a, (const char *)v->s, v->slen)
		           : label_unfit;
	n = jscan_copy(v, x->vbuf, max, false, &nul);
	return n <= max && !nul && utf8_valid(x->vbuf, n)
	           ? arena_strndup(x->a, x->vbuf, n)
	           : label_unfit;
}

/*
 * Fills c->labels with the <prefix> labels of Labels (object or null).
 * As in a json-c object, a repeated key keeps its first place and its last
 * value, and only that value's type counts.
 */
static enum elem_verdict
elem_labels(struct list_ctx *x, const struct jscan_val *labels,
            struct wire_container *c)
{
	struct jscan r = *x->s;
	struct jscan_val k, v;
	bool first = true, skip = false, pfx, nul;
	const char *kp;
	size_t n, i;
	int rc;

	if (labels->kind == JSCAN_NONE || labels->kind == JSCAN_NULL)
		return ELEM_UNLABELLED;
	if (labels->kind != JSCAN_OBJECT) {
		x->why = "Labels is not an object";
		return ELEM_BAD;
	}
	c->labels =
	    arena_alloc(x->a, (labels->n ? labels->n : 1) * sizeof(*c->labels));
	x->idx = NULL;
	r.p = labels->at + 1;
	while ((rc = jscan_obj_step(&r, 2, &first, &k)) == 1) {
		if (jscan_value(&r, 3, &v) == -1)
			rescan_failed();
		pfx = jscan_key_starts(&k, x->prefix, x->plen);
		if (v.kind != JSCAN_STRING && !later_key(&r, 2, &k)) {
			x->why = "a label value is not a string";
			return ELEM_BAD;
		}
		if (skip || !pfx)
			continue;
		kp = (const char *)k.s;
		if ((n = k.slen) > WIRE_LABEL_MAX || k.esc) {
			n = jscan_copy(&k, x->kbuf, WIRE_LABEL_MAX, true, &nul);
			kp = x->kbuf;
		}
		if (n > WIRE_LABEL_MAX || !utf8_valid(kp, n)) {
			x->why = LABEL_UNFIT;
			skip = true; /* but go on checking the types */
			continue;
		}
		label_put(x, c, labels->n, kp, n,
		          v.kind == JSCAN_STRING
		              ? keep_string(x, &v, WIRE_LABEL_MAX)
		              : label_pending);
	}
	if (rc == -1)
		rescan_failed();
	if (skip)
		return ELEM_SKIP;
	for (i = 0; i < c->nlabels; i++)
		if (c->labels[i].val == label_unfit) {
			x->why = LABEL_UNFIT;
			return ELEM_SKIP;
		} else if (c->labels[i].val == label_pending) {
			rescan_failed(); /* its last member was a string */
		}
	for (i = 0; i < c->nlabels; i++)
		if (strncmp(c->labels[i].key, x->prefix, x->plen) == 0 &&
		    strcmp(c->labels[i].key + x->plen, "workload.id") == 0)
			return ELEM_OK;
	return ELEM_UNLABELLED;
}

/* The index of key k in a table of n names, or -1. */
static int
key_find(const struct jscan_val *k, const struct key_name *t, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (jscan_key_is(k, t[i].name, t[i].len))
			return i;
	return -1;
}

/* Fills c->ports with the PublicPorts of Ports (array or null), in order. */
static enum elem_verdict
elem_ports(struct list_ctx *x, const struct jscan_val *ports,
           struct wire_container *c)
{
	struct jscan r = *x->s;
	struct jscan_val k, v, f[P_N];
	bool first = true, pfirst;
	int rc, prc, i;

	if (ports->kind == JSCAN_NONE || ports->kind == JSCAN_NULL)
		return ELEM_OK;
	if (ports->kind != JSCAN_ARRAY) {
		x->why = "Ports is not an array";
		return ELEM_BAD;
	}
	c->ports =
	    arena_alloc(x->a, (ports->n ? ports->n : 1) * sizeof(*c->ports));
	r.p = ports->at + 1;
	while ((rc = jscan_arr_step(&r, 2, &first)) == 1) {
		if (*r.p != '{') {
			x->why = "a Ports element is not an object";
			return ELEM_BAD;
		}
		r.p++;
		pfirst = true;
		for (i = 0; i < P_N; i++)
			f[i].kind = JSCAN_NONE;
		while ((prc = jscan_obj_step(&r, 3, &pfirst, &k)) == 1) {
			if (jscan_value(&r, 4, &v) == -1)
				rescan_failed();
			if ((i = key_find(&k, port_keys, P_N)) >= 0)
				f[i] = v;
		}
		if (prc == -1)
			rescan_failed();
		if (f[P_PRIVATE].kind != JSCAN_INT ||
		    f[P_TYPE].kind != JSCAN_STRING) {
			x->why = "a Ports element lacks PrivatePort or Type";
			return ELEM_BAD;
		}
		if (f[P_PUBLIC].kind == JSCAN_NONE ||
		    f[P_PUBLIC].kind == JSCAN_NULL)
			continue; /* exposed, not published */
		if (f[P_PUBLIC].kind != JSCAN_INT || f[P_PUBLIC].i < 0 ||
		    f[P_PUBLIC].i > 65535) {
			x->why = "a PublicPort is not a port number";
			return ELEM_BAD;
		}
		if (f[P_PUBLIC].i > 0)
			c->ports[c->nports++] = f[P_PUBLIC].i;
	}
	if (rc == -1)
		rescan_failed();
	return ELEM_OK;
}

/* Whether a string fits the wire: at most max bytes, no NUL, UTF-8. */
static bool
fits(struct list_ctx *x, const struct jscan_val *v, size_t max)
{
	bool nul;
	size_t n = jscan_copy(v, x->vbuf, max, false, &nul);

	return n <= max && !nul && utf8_valid(x->vbuf, n);
}

/* An element's record from the fields its first reading found (f). */
static enum elem_verdict
elem_decide(struct list_ctx *x, const struct jscan_val *f,
            struct wire_container *c)
{
	enum elem_verdict v, lv;

	if (f[F_ID].kind != JSCAN_STRING || f[F_IMAGE].kind != JSCAN_STRING ||
	    f[F_STATE].kind != JSCAN_STRING || f[F_CREATED].kind != JSCAN_INT) {
		x->why = "an element lacks Id, Image, State or Created, or has "
		         "the wrong type";
		return ELEM_BAD;
	}
	memset(c, 0, sizeof(*c));
	/* Type errors anywhere fail the list, so check all before skipping. */
	lv = elem_labels(x, &f[F_LABELS], c);
	if (lv == ELEM_BAD)
		return ELEM_BAD;
	if ((v = elem_ports(x, &f[F_PORTS], c)) != ELEM_OK)
		return v;
	if (lv != ELEM_OK)
		return lv;
	if (f[F_ID].slen == 0 || !fits(x, &f[F_ID], WIRE_ID_MAX) ||
	    !fits(x, &f[F_IMAGE], WIRE_LABEL_MAX) ||
	    !fits(x, &f[F_STATE], WIRE_LABEL_MAX)) {
		x->why =
		    "Id, Image or State is empty, too long, holds a NUL or "
		    "is not UTF-8";
		return ELEM_SKIP;
	}
	c->id = keep_string(x, &f[F_ID], WIRE_ID_MAX);
	c->image = keep_string(x, &f[F_IMAGE], WIRE_LABEL_MAX);
	c->state = keep_string(x, &f[F_STATE], WIRE_LABEL_MAX);
	c->created = f[F_CREATED].i;
	return ELEM_OK;
}

/* First reading of an element (s->p at its '{'): checks all of it and
 * notes the fields the record needs, the last of a repeated key. */
static int
elem_scan(struct jscan *s, struct jscan_val *f)
{
	struct jscan_val k, v;
	bool first = true;
	int rc, i;

	for (i = 0; i < F_N; i++)
		f[i].kind = JSCAN_NONE;
	s->p++;
	while ((rc = jscan_obj_step(s, 1, &first, &k)) == 1) {
		if (jscan_value(s, 2, &v) == -1)
			return -1;
		if ((i = key_find(&k, elem_keys, F_N)) >= 0)
			f[i] = v;
	}
	return rc;
}

/*
 * Room for more records. The elements read so far say how many the body
 * holds, if they are alike (Docker's are): room for that many and an
 * eighth, rather than doubling and leaving the copies in the arena.
 */
static size_t
list_grow(const struct jscan *s, size_t nread, struct arena *a,
          struct parse_result *res, size_t cap)
{
	size_t sz = sizeof(*res->containers), want = cap + cap / 2 + 64;
	double guess = (double)nread * (double)(s->end - s->base) /
	               (double)(s->p - s->base);

	if (guess * 1.125 + 16 > (double)want && guess < (double)SIZE_MAX / sz)
		want = (size_t)(guess * 1.125) + 16;
	res->containers =
	    arena_realloc(a, res->containers, cap * sz, want * sz);
	return want;
}

/* A container skipped, logged once the whole body is known good. */
struct skip_note {
	struct skip_note *next;
	char id[13];
	const char *why;
};

static void
note_skip(struct list_ctx *x, const struct jscan_val *id,
          struct skip_note ***tail)
{
	struct skip_note *n = arena_alloc(x->a, sizeof(*n));
	bool nul;
	size_t len = jscan_copy(id, n->id, 12, true, &nul);

	n->id[len < 12 ? len : 12] = '\0';
	n->why = x->why;
	**tail = n;
	*tail = &n->next;
}

/*
 * R8: a skipped container is still there, so the row bound to it must not
 * be swept. Its id goes with the snapshot (skipped_ids) when it can be
 * named; when not even that, nothing may be swept this pass.
 */
static void
skip_keep(struct list_ctx *x, const struct jscan_val *id,
          struct parse_result *res)
{
	char *s;

	if (id->kind != JSCAN_STRING || !fits(x, id, WIRE_ID_MAX) ||
	    (s = keep_string(x, id, WIRE_ID_MAX)) == label_unfit ||
	    !id_valid(s)) {
		res->skipped_unnamed = true;
		return;
	}
	res->skipped_ids =
	    arena_realloc(x->a, res->skipped_ids,
	                  res->nskipped_ids * sizeof(*res->skipped_ids),
	                  (res->nskipped_ids + 1) * sizeof(*res->skipped_ids));
	res->skipped_ids[res->nskipped_ids++] = s;
}

int
listscan(const char *body, size_t len, const char *prefix, struct arena *a,
         struct parse_result *res, char *err, size_t errlen)
{
	struct jscan s;
	struct list_ctx ctx, *x = &ctx;
	struct jscan_val v, f[F_N];
	struct skip_note *notes = NULL, **tail = &notes, *n;
	size_t i = 0, cap = 0, bad = SIZE_MAX;
	const char *why = "";
	bool first = true;
	int rc;

	memset(res, 0, sizeof(*res));
	jscan_init(&s, body, len, PARSE_DEPTH_MAX);
	x->s = &s;
	x->prefix = prefix;
	x->plen = strlen(prefix);
	x->a = a;
	jscan_ws(&s);
	if (s.p == s.end) {
		s.trunc = true;
		goto syntax;
	}
	if (*s.p != '[') {
		if (jscan_value(&s, 0, &v) == -1 || jscan_end(&s) == -1)
			goto syntax;
		if (v.kind ==
		    JSCAN_NULL) /* json-c's answer: no object at all */
			snprintf(err, errlen, "truncated JSON (%zu bytes)",
			         len);
		else
			snprintf(err, errlen,
			         "container list is not a JSON array");
		return -1;
	}
	s.p++;
	while ((rc = jscan_arr_step(&s, 0, &first)) == 1) {
		if (*s.p != '{') {
			if (jscan_value(&s, 1, &v) == -1)
				goto syntax;
			if (bad == SIZE_MAX) {
				bad = i;
				why = "an element is not an object";
			}
			i++;
			continue;
		}
		if (elem_scan(&s, f) == -1)
			goto syntax;
		if (bad != SIZE_MAX) { /* only the syntax counts now */
			i++;
			continue;
		}
		if (res->ncontainers == cap)
			cap = list_grow(&s, i, a, res, cap);
		switch (elem_decide(x, f, &res->containers[res->ncontainers])) {
		case ELEM_OK:
			res->ncontainers++;
			break;
		case ELEM_UNLABELLED:
			res->unlabelled++;
			break;
		case ELEM_SKIP:
			res->skipped++;
			note_skip(x, &f[F_ID], &tail);
			skip_keep(x, &f[F_ID], res);
			break;
		case ELEM_BAD:
			bad = i;
			why = x->why;
			break;
		}
		i++;
	}
	if (rc == -1 || jscan_end(&s) == -1)
		goto syntax;
	for (n = notes; n != NULL; n = n->next)
		log_warnx("ignoring container %s: %s", n->id, n->why);
	if (bad != SIZE_MAX) {
		snprintf(err, errlen, "container %zu: %s", bad, why);
		return -1;
	}
	if (res->containers == NULL)
		res->containers = arena_alloc(a, sizeof(*res->containers));
	return 0;
syntax:
	jscan_error(&s, err, errlen);
	return -1;
}
