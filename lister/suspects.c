/*
 * suspects.c: the changes waiting for the event that announces them, in
 * no order. At most SUSPECTS_MAX and looked up only per event or list
 * difference, so a linear search is fine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "suspects.h"
#include "util.h"

void
suspects_init(struct suspects *s)
{
	s->v = xcalloc(SUSPECTS_MAX, sizeof(*s->v));
	s->n = 0;
}

void
suspects_free(struct suspects *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int
suspects_add(struct suspects *s, const char *id, int64_t deadline)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return 0; /* already waiting */
	if (s->n == SUSPECTS_MAX)
		return -1;
	snprintf(s->v[s->n].id, sizeof(s->v[0].id), "%s", id);
	s->v[s->n++].deadline = deadline;
	return 0;
}

void
suspects_clear(struct suspects *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

void
suspects_grace(struct suspects *s, int64_t due)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].deadline < due)
			s->v[i].deadline = due;
}

int64_t
suspects_next(const struct suspects *s)
{
	int64_t next = INT64_MAX;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].deadline < next)
			next = s->v[i].deadline;
	return next;
}

uint64_t
suspects_expire(struct suspects *s, int64_t now)
{
	uint64_t missed = 0;
	size_t i = 0;

	while (i < s->n) {
		if (s->v[i].deadline > now) {
			i++;
			continue;
		}
		log_debug("container %.12s changed and no event said so",
		          s->v[i].id);
		missed++;
		s->v[i] = s->v[--s->n];
	}
	return missed;
}
