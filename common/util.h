/*
 * util.h: clocks, id validation, run dir creation, hashing, memory.
 */
#ifndef RECON_UTIL_H
#define RECON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <string.h>

#define RECON_VERSION "0.1.0"

int64_t now_ms(void);  /* wall clock, ms since the epoch */
int64_t mono_ms(void); /* monotonic */
/* The time ms from now on clock (CLOCK_MONOTONIC for a condition variable
 * made so, CLOCK_REALTIME for pthread_timedjoin_np), as an absolute
 * timespec; ms < 0 is now. */
struct timespec ts_after(clockid_t clock, int64_t ms);
uint64_t mono_us(void); /* monotonic */

/* ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ : workload, row and app ids. */
bool id_valid(const char *);
/* ^[a-z0-9][a-z0-9_-]{0,63}$ : a plugin's source_kind. */
bool source_kind_valid(const char *);
/* "project", "site" or "stack". */
bool kind_valid(const char *);
/* n bytes of well-formed UTF-8: no overlong forms, no surrogates, nothing
 * above U+10FFFF (every string recon passes on must be, or its JSON
 * output would not be JSON). */
bool utf8_valid(const char *, size_t n);

/* FNV-1a, 64 bits: fnv64(FNV64_INIT, p, n) hashes n bytes; pass the
 * result as h to hash more after them. For hash tables and the digests
 * of records (the stored row digest depends on it: never change it). */
#define FNV64_INIT 14695981039346656037ull
static inline uint64_t
fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

/* Memory given back (glibc): blocks of MEM_BIG bytes and more are
 * unmapped as they are freed, whatever was freed before (mem_tune, once
 * at start); mem_release returns the free pages of every heap, after
 * work that used MEM_BIG or more. */
#define MEM_BIG (1u << 20)
void mem_tune(void);
void mem_release(void);

/*
 * recon's one out-of-memory policy (README, "Memory bounds"): memory for
 * our own work comes from these (or an arena), which log and abort when
 * the system has none; the supervisor restarts the process, and nothing
 * is lost (the store's state is in LMDB, a restarted lister lists again).
 * What a peer can make us hold is bounded before it is taken, so no peer
 * can make us abort. Callers never test the result.
 */
void *xmalloc(size_t);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *, size_t);
/* realloc of n elements of size bytes, aborting on overflow too */
void *xreallocarray(void *, size_t n, size_t size);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);

/* mkdir -p, each directory it creates 0750 whatever the umask (one that
 * exists is left as it is); 0 or -1 (logged). */
int rundir_make(const char *path);
/* NULL reads as "": records decoded from the wire or LMDB use both. */
static inline bool
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static inline bool
str_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/*
 * The password in the user information of the URL at url
 * ("scheme://user:PASSWORD@host..."), as its offset and length: true, or
 * false when there is none. The authority is read as RFC 3986 does, from
 * "://" up to the first / ? # or byte no authority holds (space, quote,
 * control), so a URL inside a line of text is read as far as it goes; the
 * user information is what comes before its last @.
 */
bool url_password(const char *url, size_t *off, size_t *len);

/* snprintf that reports truncation: 0 fits, -1 truncated. */
int xsnprintf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

#endif
