/*
 * arena.c: a chunked bump allocator. Memory is zeroed, 16-byte aligned
 * (strings excepted), never freed one by one, all released by arena_free().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "util.h"

#define ARENA_ALIGN 16
#define ARENA_CHUNK 8192              /* payload of an ordinary chunk */
#define ARENA_BIG   (ARENA_CHUNK / 4) /* larger requests get their own */

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct chunk *head; /* the chunk small allocations come from */
	size_t used;
	/* The last allocation from head, so a growing array can extend in
	 * place instead of leaving a copy behind each time it doubles. */
	unsigned char *last;
	size_t lastsz;
};

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		abort();
	/* calloc: the unused tail stays zero, which in-place growth needs */
	c = xcalloc(1, sizeof(*c) + size);
	c->size = size;
	return c;
}

struct arena *
arena_new(void)
{
	struct arena *a;

	a = xcalloc(1, sizeof(*a));
	return a;
}

void
arena_free(struct arena *a)
{
	struct chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

static void *
arena_alloc_align(struct arena *a, size_t size, size_t align)
{
	struct chunk *c;
	size_t off;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ARENA_ALIGN)
		abort();
	if (size > ARENA_BIG) {
		/* Own chunk, linked behind head so head keeps serving. */
		c = chunk_new(size);
		c->used = size;
		if (a->head == NULL) {
			a->head = c;
		} else {
			c->next = a->head->next;
			a->head->next = c;
		}
		a->used += size;
		return c->data;
	}
	c = a->head;
	off = c ? (c->used + align - 1) & ~(align - 1) : 0;
	if (c == NULL || off > c->size || c->size - off < size) {
		c = chunk_new(ARENA_CHUNK);
		c->next = a->head;
		a->head = c;
		off = 0;
	}
	a->used += size + (off - c->used);
	c->used = off + size;
	a->last = c->data + off;
	a->lastsz = size;
	return a->last;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	return arena_alloc_align(a, size, ARENA_ALIGN);
}

void *
arena_realloc(struct arena *a, void *old, size_t oldsz, size_t newsz)
{
	struct chunk *c = a->head;
	void *p;

	if (old == NULL)
		return arena_alloc(a, newsz);
	if (newsz <= oldsz)
		return old;
	if (old == a->last && oldsz == a->lastsz &&
	    (size_t)(a->last - c->data) + newsz <= c->size) {
		/* The tail of head is still zero: extend in place. */
		c->used += newsz - oldsz;
		a->used += newsz - oldsz;
		a->lastsz = newsz;
		return old;
	}
	p = arena_alloc(a, newsz);
	memcpy(p, old, oldsz);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n);
	p = arena_alloc_align(a, n + 1, 1);
	memcpy(p, s, n);
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

size_t
arena_used(const struct arena *a)
{
	return a->used;
}
