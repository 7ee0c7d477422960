/*
 * bench.h: what the benchmark programs (recon-fanout, recon-sse-fanout)
 * share: clocks, another process's CPU and memory from /proc, and the
 * percentile of a sorted array of delays. Header-only, static: each
 * program takes what it uses.
 */
#ifndef RECON_BENCH_H
#define RECON_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The wall clock in us (what a stamp in ms since the epoch compares to). */
static inline int64_t
bench_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The calling thread's CPU time, us. */
static inline int64_t
bench_thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* This process's CPU time (user + system, all threads), us. */
static inline int64_t
bench_proc_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* utime + stime of another process, in us; -1 if unknown. */
static inline int64_t
bench_pid_cpu_us(int64_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields 14 and 15, counted after the ")" that ends the name */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	           " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	           &ut, &st) != 2)
		return -1;
	return (int64_t)(ut + st) * 1000000 / sysconf(_SC_CLK_TCK);
}

/* A line "KEY: N kB" of another process's /proc/PID/status (VmRSS,
 * RssAnon, VmHWM ...), KiB; -1 if unknown. */
static inline int64_t
bench_pid_status_kb(int64_t pid, const char *key)
{
	char path[64], line[256];
	long long kb = -1;
	size_t kl = strlen(key);
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%lld/status", (long long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, kl) == 0 && line[kl] == ':' &&
		    sscanf(line + kl + 1, "%lld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A process's resident memory now (VmRSS), KiB; -1 if unknown. */
static inline int64_t
bench_pid_rss_kb(int64_t pid)
{
	return bench_pid_status_kb(pid, "VmRSS");
}

static inline int
bench_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile of n sorted values (the value at index n * p / 100),
 * 0 when there are none. */
static inline uint32_t
bench_pct(const uint32_t *sorted, size_t n, unsigned p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = n * p / 100;
	return sorted[i < n ? i : n - 1];
}

#endif
