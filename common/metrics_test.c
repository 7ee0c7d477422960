/*
 * metrics_test.c: every number a process reports has its metadata in
 * metrics.c's table, and the exposition of a fixed set of replies has the
 * names, HELP and TYPE lines, _total and units Prometheus expects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlsrv.h"
#include "dispatcher_ctl.h"
#include "http.h"
#include "lister_ctl.h"
#include "metrics.h"
#include "store.h"

/* The store's stats numbers (store/api_read.c's api_stats). */
static const char *const stats_keys[] = {
    "rev",    "oldest_rev", "workloads", "rows",
    "events", "map_size",   "map_used",  "map_max",
};
static const char *const health_keys[] = {"uptime_s", "ready"};

#define MAXCTR 256

/* Every counter name proc reports, as its health code names them. */
static size_t
counter_names(const char *proc, const char **out)
{
	struct wire_counter c[MAXCTR];
	struct worker_status ws = {0};
	struct docker_events_status es = {0};
	struct runner r = {0};
	struct dispatcher_ctl d = {.runner = &r};
	size_t i, n = 0;

	if (strcmp(proc, "store") == 0) {
		for (i = 0; i < STC_COUNT; i++)
			c[n++].name = store_ctr_names[i];
	} else if (strcmp(proc, "lister") == 0) {
		n = lister_ctl_counters(&ws, &es, c);
	} else if (strcmp(proc, "http") == 0) {
		/* no ctl socket: only its own */
		n = probe_counters(NULL, c);
		goto out;
	} else {
		n = dispatcher_ctl_counters(&d, c);
	}
	n += ctlsrv_counters(NULL, c + n);
out:
	assert_true(n <= MAXCTR);
	for (i = 0; i < n; i++)
		out[i] = c[i].name;
	return n;
}

static void
every_number_described(void **state)
{
	const char *names[MAXCTR];
	char missing[4096] = "";
	size_t i, j, n;

	(void)state;
	for (i = 0; i < METRICS_NPROCS; i++) {
		const char *proc = metrics_procs[i];

		n = counter_names(proc, names);
		for (j = 0; j < n; j++)
			if (metrics_find(proc, METRIC_COUNTER, names[j]) ==
			    NULL)
				snprintf(missing + strlen(missing),
				         sizeof(missing) - strlen(missing),
				         " %s:%s", proc, names[j]);
		for (j = 0; j < sizeof(health_keys) / sizeof(*health_keys); j++)
			if (metrics_find(proc, METRIC_HEALTH, health_keys[j]) ==
			    NULL)
				snprintf(missing + strlen(missing),
				         sizeof(missing) - strlen(missing),
				         " %s:health.%s", proc, health_keys[j]);
	}
	for (j = 0; j < sizeof(stats_keys) / sizeof(*stats_keys); j++)
		if (metrics_find("store", METRIC_STATS, stats_keys[j]) == NULL)
			snprintf(missing + strlen(missing),
			         sizeof(missing) - strlen(missing),
			         " store:stats.%s", stats_keys[j]);
	if (missing[0] != '\0')
		fail_msg("numbers without metadata in common/metrics.c's "
		         "table:%s",
		         missing);
}

/* Replies as reconctl stats builds them: every counter each process has
 * (value: its index + 1, a few set below), and one the table lacks. */
static json_object *
fixture(void)
{
	json_object *all = json_object_new_object(), *p, *ctr, *st;
	const char *names[MAXCTR];
	size_t i, j, n;

	for (i = 0; i < METRICS_NPROCS; i++) {
		p = json_object_new_object();
		ctr = json_object_new_object();
		json_object_object_add(
		    p, "name", json_object_new_string(metrics_procs[i]));
		json_object_object_add(p, "pid", json_object_new_int(100 + i));
		json_object_object_add(p, "uptime_s", json_object_new_int(42));
		json_object_object_add(p, "ready",
		                       json_object_new_boolean(i != 2));
		n = counter_names(metrics_procs[i], names);
		for (j = 0; j < n; j++)
			json_object_object_add(ctr, names[j],
			                       json_object_new_int64(j + 1));
		json_object_object_add(p, "counters", ctr);
		json_object_object_add(all, metrics_procs[i], p);
	}
	ctr = json_object_object_get(json_object_object_get(all, "store"),
	                             "counters");
	json_object_object_add(ctr, "ctl_requests", json_object_new_int(7));
	ctr = json_object_object_get(json_object_object_get(all, "lister"),
	                             "counters");
	json_object_object_add(ctr, "list_ms_last", json_object_new_int(12));
	json_object_object_add(ctr, "list_us_last", json_object_new_int(12500));
	json_object_object_add(ctr, "brand-new", json_object_new_int(3));
	st = json_object_new_object();
	for (j = 0; j < sizeof(stats_keys) / sizeof(*stats_keys); j++)
		json_object_object_add(st, stats_keys[j],
		                       json_object_new_int64(j + 1));
	json_object_object_add(st, "map_size", json_object_new_int(1048576));
	json_object_object_add(json_object_object_get(all, "store"), "stats",
	                       st);
	return all;
}

static char *
render(json_object *all)
{
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	metrics_write(f, all);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

/* The text format's rules promtool checks, on every line: each family
 * has one HELP and one TYPE, before its samples, which are adjacent;
 * counters end in _total, nothing else does. */
static void
check_shape(char *text)
{
	char *save = NULL, *line, fam[256] = "", typed[256] = "";
	char seen[16384] = " ";
	char name[256], type[32], key[260];

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%255s", name), 1);
			snprintf(key, sizeof(key), " %s ", name);
			if (strstr(seen, key) != NULL)
				fail_msg("family %s twice", name);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			snprintf(fam, sizeof(fam), "%s", name);
			typed[0] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(
			    sscanf(line + 7, "%255s %31s", name, type), 2);
			assert_string_equal(name, fam);
			if (strcmp(type, "counter") != 0)
				assert_string_equal(type, "gauge");
			assert_true(
			    (strcmp(type, "counter") == 0) ==
			    (strlen(name) > 6 &&
			     strcmp(name + strlen(name) - 6, "_total") == 0));
			snprintf(typed, sizeof(typed), "%s", name);
			continue;
		}
		assert_true(line[0] != '#');
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, "{ "),
		         line);
		if (strcmp(name, typed) != 0)
			fail_msg("sample \"%s\" outside its family's HELP and "
			         "TYPE",
			         line);
	}
}

static void
exposition(void **state)
{
	json_object *all = fixture();
	char *text = render(all);
	const char *out = getenv("METRICS_TEST_OUT");
	FILE *f;

	(void)state;
	if (out != NULL && (f = fopen(out, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	has_line(text, "# TYPE recon_up gauge");
	has_line(text, "recon_up{process=\"dispatcher\"} 1");
	has_line(text, "# TYPE recon_ctl_requests_total counter");
	has_line(text, "recon_ctl_requests_total{process=\"store\"} 7");
	has_line(text, "# TYPE recon_uptime_seconds gauge");
	has_line(text, "recon_uptime_seconds{process=\"lister\"} 42");
	has_line(text, "recon_ready{process=\"dispatcher\"} 0");
	has_line(text, "# TYPE recon_lister_passes_total counter");
	has_line(text, "recon_lister_passes_total 1");
	/* one series for the list's duration, in seconds */
	has_line(text, "# TYPE recon_lister_list_duration_seconds gauge");
	has_line(text, "recon_lister_list_duration_seconds 0.0125");
	assert_null(strstr(text, "list_ms"));
	assert_null(strstr(text, "list_us"));
	has_line(text, "recon_store_map_size_bytes 1048576");
	has_line(text, "recon_store_containers_ignored_total{reason=\"kind\"} "
	               "12");
	has_line(text, "recon_dispatcher_container_events_total 21");
	/* a number the table lacks: still valid, as a gauge */
	has_line(text, "# TYPE recon_lister_brand_new gauge");
	has_line(text, "recon_lister_brand_new 3");
	assert_null(strstr(text, "untyped"));
	check_shape(text);
	free(text);
	json_object_put(all);
}

/* Down is 0; a process not asked about is left out. */
static void
one_down(void **state)
{
	json_object *all = json_object_new_object();
	char *text;

	(void)state;
	json_object_object_add(all, "store", NULL);
	json_object_object_add(all, "lister", NULL);
	text = render(all);
	has_line(text, "recon_up{process=\"store\"} 0");
	has_line(text, "recon_up{process=\"lister\"} 0");
	/* no member: not one of ours here (reconctl stats, no recon-http) */
	assert_null(strstr(text, "process=\"http\""));
	assert_null(strstr(text, "recon_ctl_"));
	check_shape(text);
	free(text);
	json_object_put(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_number_described),
	    cmocka_unit_test(exposition),
	    cmocka_unit_test(one_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
