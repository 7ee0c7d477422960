/*
 * stats.c: `reconctl stats`: every process's health counters and the
 * store's revisions, for people, as JSON, or in the Prometheus text format
 * (common/metrics.c; ready for node_exporter's textfile collector). A
 * process that does not answer is reported as down, not as an error, so
 * one dead daemon does not blank the metrics of the others.
 */
#include <stdio.h>
#include <string.h>

#include "clnt.h"
#include "ctl.h"
#include "metrics.h"
#include "store_clnt.h"

static const char *const *const procs = metrics_procs;
#define NPROCS METRICS_NDAEMONS

static void
print_human(json_object *all)
{
	json_object *p, *v, *counters;
	size_t i;

	for (i = 0; i < NPROCS; i++) {
		p = json_object_object_get(all, procs[i]);
		if (p == NULL || json_object_is_type(p, json_type_null)) {
			printf("%s: not answering\n", procs[i]);
			continue;
		}
		printf("%s: pid %s, up %ss\n", procs[i],
		       json_object_get_string(json_object_object_get(p, "pid")),
		       json_object_get_string(
		           json_object_object_get(p, "uptime_s")));
		if (json_object_object_get_ex(p, "stats", &v)) {
			json_object_object_foreach(v, k, sv) printf(
			    "  %-24s %s\n", k, json_object_get_string(sv));
		}
		if (json_object_object_get_ex(p, "counters", &counters)) {
			json_object_object_foreach(counters, k, cv) printf(
			    "  %-24s %s\n", k, json_object_get_string(cv));
		}
	}
}

/* Why a process is reported as down, on stderr. */
static void
stats_failed(const char *proc, const struct clnt_result *r, void *arg)
{
	ctl_status(proc, r);
}

int
ctl_stats(char **args)
{
	struct clnt *c[METRICS_NDAEMONS] = {NULL};
	json_object *all = NULL;
	size_t i;
	int answered = 0, r = CTL_EXIT_UNREACHABLE;

	for (i = 0; i < METRICS_NDAEMONS; i++)
		if ((c[i] = ctl_clnt(procs[i])) == NULL)
			goto out;
	all = metrics_collect(c, stats_failed, NULL);
	for (i = 0; i < METRICS_NDAEMONS; i++)
		if (json_object_object_get(all, procs[i]) != NULL)
			answered++;
	if (ctl_opts.prometheus)
		metrics_write(stdout, all);
	else if (ctl_opts.json)
		ctl_print_json(all);
	else
		print_human(all);
	if (answered > 0)
		r = CTL_EXIT_OK;
out:
	json_object_put(all);
	for (i = 0; i < METRICS_NDAEMONS; i++)
		if (c[i] != NULL)
			clnt_free(c[i]);
	return r;
}
