/*
 * test_proc.h: for the dispatcher's unit tests (runner_test, plugin_test),
 * which check that a plugin's processes end: whether a pid still runs.
 */
#ifndef RECON_DISPATCHER_TEST_PROC_H
#define RECON_DISPATCHER_TEST_PROC_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* Whether pid runs: not gone, not a zombie (its state in /proc). */
static inline bool
alive(pid_t pid)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] != 'Z' &&
	       p[2] != 'X';
}

#endif
