/*
 * arena.h: a bump allocator for one decoded message or one request.
 * Everything a decoder returns lives in the arena and goes with arena_free().
 */
#ifndef RECON_ARENA_H
#define RECON_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *);
/* Zeroed memory; aborts on exhaustion (our invariant, not peer input). */
void *arena_alloc(struct arena *, size_t);
/* Grows an array owned by the arena (old contents copied). */
void *arena_realloc(struct arena *, void *old, size_t oldsz, size_t newsz);
char *arena_strndup(struct arena *, const char *, size_t);
char *arena_strdup(struct arena *, const char *);
/* Bytes handed out so far (for tests that bound decoder allocations). */
size_t arena_used(const struct arena *);

#endif
