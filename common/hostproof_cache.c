/*
 * hostproof_cache.c: the verifier's cache of verified certificates, keyed
 * by the SHA-256 of their DER: a fixed array of entries, a hash of buckets
 * over it, and a list in order of use whose tail goes out when it is full.
 * The ids are digests, so their first bytes hash well enough.
 */
#include <stdlib.h>
#include <string.h>

#include "hostproof_impl.h"
#include "util.h"

void
hostproof_cache_init(struct hostproof_verifier *v, size_t max)
{
	size_t i, nb = 2;

	if (max > INT32_MAX / 4)
		abort(); /* a cache of ours is never that large */
	while (nb < 2 * max)
		nb *= 2;
	v->e = xcalloc(max, sizeof(*v->e));
	v->bucket = xcalloc(nb, sizeof(*v->bucket));
	v->max = max;
	v->mask = (uint32_t)nb - 1;
	for (i = 0; i < nb; i++)
		v->bucket[i] = -1;
	/* every entry free, chained in order */
	for (i = 0; i < max; i++)
		v->e[i].chain = i + 1 < max ? (int32_t)i + 1 : -1;
	v->free = 0;
	v->head = v->tail = -1;
	v->nused = 0;
}

void
hostproof_cache_free(struct hostproof_verifier *v)
{
	size_t i;

	for (i = 0; i < v->max; i++)
		if (v->e[i].key != NULL) {
			EVP_PKEY_free(v->e[i].key);
			free(v->e[i].names);
		}
	free(v->e);
	free(v->bucket);
	v->e = NULL;
	v->bucket = NULL;
}

static uint32_t
bucket_of(const struct hostproof_verifier *v, const unsigned char *id)
{
	uint32_t h;

	memcpy(&h, id, sizeof(h));
	return h & v->mask;
}

int32_t
hostproof_cache_find(struct hostproof_verifier *v, const unsigned char *id)
{
	int32_t i;

	for (i = v->bucket[bucket_of(v, id)]; i >= 0; i = v->e[i].chain)
		if (memcmp(v->e[i].id, id, HP_ID_LEN) == 0)
			return i;
	return -1;
}

static void
lru_unlink(struct hostproof_verifier *v, int32_t i)
{
	struct hp_entry *e = &v->e[i];

	if (e->prev >= 0)
		v->e[e->prev].next = e->next;
	else
		v->head = e->next;
	if (e->next >= 0)
		v->e[e->next].prev = e->prev;
	else
		v->tail = e->prev;
}

static void
lru_push(struct hostproof_verifier *v, int32_t i)
{
	struct hp_entry *e = &v->e[i];

	e->prev = -1;
	e->next = v->head;
	if (v->head >= 0)
		v->e[v->head].prev = i;
	v->head = i;
	if (v->tail < 0)
		v->tail = i;
}

void
hostproof_cache_touch(struct hostproof_verifier *v, int32_t i)
{
	if (v->head == i)
		return;
	lru_unlink(v, i);
	lru_push(v, i);
}

void
hostproof_cache_drop(struct hostproof_verifier *v, int32_t i)
{
	struct hp_entry *e = &v->e[i];
	int32_t *pp = &v->bucket[bucket_of(v, e->id)];

	if (e->key == NULL)
		abort(); /* dropping a free entry: the lists are broken */
	while (*pp != i) {
		if (*pp < 0)
			abort(); /* a used entry is in its bucket */
		pp = &v->e[*pp].chain;
	}
	*pp = e->chain;
	lru_unlink(v, i);
	EVP_PKEY_free(e->key);
	free(e->names);
	memset(e, 0, sizeof(*e));
	e->chain = v->free;
	v->free = i;
	v->nused--;
}

/* The names in one allocation: the pointers, then the strings. */
static void
names_copy(struct hp_entry *e, const struct hp_names *nm)
{
	size_t i, ptrs = nm->n * sizeof(char *);
	char *s;

	e->names = xmalloc(ptrs + nm->b.len);
	s = (char *)e->names + ptrs;
	if (nm->b.len > 0)
		memcpy(s, nm->b.data, nm->b.len);
	for (i = 0; i < nm->n; i++)
		e->names[i] = s + nm->off[i];
	e->nnames = nm->n;
}

int32_t
hostproof_cache_add(struct hostproof_verifier *v, const struct hp_entry *ce,
                    const struct hp_names *nm)
{
	struct hp_entry *e;
	uint32_t b;
	int32_t i;

	if (v->free < 0) {
		v->st.cache_evictions++;
		hostproof_cache_drop(v, v->tail);
	}
	i = v->free;
	e = &v->e[i];
	v->free = e->chain;
	*e = *ce;
	names_copy(e, nm);
	b = bucket_of(v, e->id);
	e->chain = v->bucket[b];
	v->bucket[b] = i;
	lru_push(v, i);
	v->nused++;
	return i;
}
