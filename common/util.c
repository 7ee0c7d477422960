/*
 * util.c: clocks, the id patterns of SPEC §5 and §8, run dir, memory.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* SPEC 5's id pattern ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ by byte: 1 may
 * start an id, 2 may follow. A table: passes check every Docker id. */
#define ID_ALNUM 3
#define ID_PUNCT 2
static const unsigned char id_chars[256] = {
    ['0' ... '9'] = ID_ALNUM, ['A' ... 'Z'] = ID_ALNUM,
    ['a' ... 'z'] = ID_ALNUM, ['.'] = ID_PUNCT,
    ['_'] = ID_PUNCT,         [':'] = ID_PUNCT,
    ['-'] = ID_PUNCT,
};

bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	unsigned char lo, hi;
	size_t k;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		/* the sequence's length, and the range of its second byte */
		lo = 0x80;
		hi = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf)
			k = 1;
		else if (*p >= 0xe0 && *p <= 0xef) {
			k = 2;
			if (*p == 0xe0)
				lo = 0xa0; /* overlong */
			else if (*p == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			k = 3;
			if (*p == 0xf0)
				lo = 0x90; /* overlong */
			else if (*p == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else
			return false;
		if ((size_t)(end - p) <= k || p[1] < lo || p[1] > hi)
			return false;
		for (p += 2; --k > 0; p++)
			if (*p < 0x80 || *p > 0xbf)
				return false;
	}
	return true;
}

bool
id_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (p == NULL || !(id_chars[p[0]] & 1))
		return false;
	for (i = 1; p[i] != '\0'; i++)
		if (i > 127 || !(id_chars[p[i]] & 2))
			return false;
	return true;
}

static bool
is_lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool
source_kind_valid(const char *s)
{
	size_t i;

	if (s == NULL || !is_lower_or_digit(s[0]))
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		if (i > 63)
			return false;
		if (!is_lower_or_digit(s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	}
	return true;
}

bool
kind_valid(const char *s)
{
	return s != NULL && (strcmp(s, "project") == 0 ||
	                     strcmp(s, "site") == 0 || strcmp(s, "stack") == 0);
}

int
rundir_make(const char *path)
{
	char buf[4096];
	struct stat st;
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		log_warnx("unable to create run dir: bad path length");
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0750) == 0) {
			/* 0750 whatever the umask (a supervisor's may be
			 * 077): the daemons' group reads through it */
			if (chmod(buf, 0750) < 0) {
				log_warn("unable to chmod %s", buf);
				return -1;
			}
		} else if (errno != EEXIST) {
			log_warn("unable to create %s", buf);
			return -1;
		}
		if (i < len)
			buf[i] = '/';
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_warnx("unable to use %s: not a directory", path);
		return -1;
	}
	return 0;
}

/* Ends an authority: a delimiter after it or a byte it cannot hold. */
static bool
authority_end(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || strchr("/?#\"<>\\^`{|}", c) != NULL;
}

bool
url_password(const char *url, size_t *off, size_t *len)
{
	const char *auth, *at = NULL, *colon, *p;

	if (url == NULL || (auth = strstr(url, "://")) == NULL)
		return false;
	auth += 3;
	for (p = auth; !authority_end((unsigned char)*p); p++)
		if (*p == '@')
			at = p;
	if (at == NULL ||
	    (colon = memchr(auth, ':', (size_t)(at - auth))) == NULL ||
	    colon + 1 == at)
		return false;
	*off = (size_t)(colon + 1 - url);
	*len = (size_t)(at - colon - 1);
	return true;
}

int
xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

void
mem_tune(void)
{
	/* glibc raises its mmap threshold to the largest block freed (up to
	 * 32 MiB), after which big blocks come from the heap and stay there
	 * once freed; a fixed threshold keeps them on pages of their own,
	 * unmapped as they are freed */
	mallopt(M_MMAP_THRESHOLD, MEM_BIG);
}

void
mem_release(void)
{
	malloc_trim(0);
}

struct timespec
ts_after(clockid_t clock, int64_t ms)
{
	struct timespec ts;

	if (ms < 0)
		ms = 0;
	clock_gettime(clock, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void
oom(size_t n)
{
	log_error("out of memory (%zu bytes): aborting", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n != 0 ? n : 1, size != 0 ? size : 1);

	if (p == NULL)
		oom(n * size);
	return p;
}

void *
xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n != 0 ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(old, n * size);
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom(strlen(s) + 1);
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom(n + 1);
	return p;
}
