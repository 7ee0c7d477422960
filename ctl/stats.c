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
#define NPROCS METRICS_NPROCS

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

/* Keeps the store's own numbers (not its counters, health has those). */
static json_object *
store_numbers(json_object *stats)
{
	json_object *o = json_object_new_object();

	json_object_object_foreach(stats, k, v)
	{
		if (strcmp(k, "ok") == 0 || strcmp(k, "counters") == 0 ||
		    json_object_is_type(v, json_type_object))
			continue;
		json_object_object_add(o, k, json_object_get(v));
	}
	return o;
}

/* proc's health reply as JSON without its `ok`; NULL when it did not
 * answer (said on stderr). */
static json_object *
health_of(const char *proc)
{
	struct clnt_result r = {0};
	struct wire_health h;
	json_object *o = NULL;
	struct clnt *c;

	if ((c = ctl_clnt(proc)) == NULL)
		return NULL;
	clnt_health(c, false, &r, &h);
	if (ctl_status(proc, &r) == CTL_EXIT_OK &&
	    (o = ctl_reply_json(proc, &r.reply)) != NULL)
		json_object_object_del(o, "ok");
	clnt_result_free(&r);
	clnt_free(c);
	return o;
}

/* The store's own numbers as JSON; NULL when it did not answer. */
static json_object *
store_stats(void)
{
	struct clnt_result r = {0};
	struct wire_stats_reply st;
	json_object *o = NULL, *reply;
	struct clnt *c;

	if ((c = ctl_clnt("store")) == NULL)
		return NULL;
	store_clnt_stats(c, &r, &st);
	if (ctl_status("store", &r) == CTL_EXIT_OK &&
	    (reply = ctl_reply_json("store", &r.reply)) != NULL) {
		o = store_numbers(reply);
		json_object_put(reply);
	}
	clnt_result_free(&r);
	clnt_free(c);
	return o;
}

int
ctl_stats(char **args)
{
	json_object *all = json_object_new_object(), *reply, *stats;
	size_t i;
	int answered = 0;

	for (i = 0; i < NPROCS; i++) {
		if ((reply = health_of(procs[i])) == NULL) {
			json_object_object_add(all, procs[i], NULL);
			continue;
		}
		answered++;
		if (i == 0 && (stats = store_stats()) != NULL)
			json_object_object_add(reply, "stats", stats);
		json_object_object_add(all, procs[i], reply);
	}
	if (ctl_opts.prometheus)
		metrics_write(stdout, all);
	else if (ctl_opts.json)
		ctl_print_json(all);
	else
		print_human(all);
	json_object_put(all);
	return answered > 0 ? CTL_EXIT_OK : CTL_EXIT_UNREACHABLE;
}
