/*
 * cmds.c: reconctl's subcommands. Each calls its typed client (store_clnt.h,
 * lister_clnt.h, dispatcher_clnt.h) and prints a table for people or the
 * reply as JSON with the wire's field names for scripts.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clnt.h"
#include "ctl.h"
#include "dispatcher_clnt.h"
#include "lister_clnt.h"
#include "store_clnt.h"
#include "util.h"

static const char *
str_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return "";
	return json_object_get_string(v);
}

static int64_t
int_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

/* "12s ago" style for a ms timestamp; "-" for never. */
static int
fmt_ago(int64_t ms, char *buf, size_t len)
{
	int64_t d = (now_ms() - ms) / 1000;

	if (ms <= 0)
		return snprintf(buf, len, "-");
	if (d < 0)
		d = 0;
	if (d < 120)
		return snprintf(buf, len, "%llds ago", (long long)d);
	if (d < 7200)
		return snprintf(buf, len, "%lldm ago", (long long)(d / 60));
	if (d < 172800)
		return snprintf(buf, len, "%lldh ago", (long long)(d / 3600));
	return snprintf(buf, len, "%lldd ago", (long long)(d / 86400));
}

static int
fmt_last_seen(json_object *o, char *buf, size_t len)
{
	return fmt_ago(int_of(o, "last_seen_at"), buf, len);
}

static int
fmt_short_cid(json_object *o, char *buf, size_t len)
{
	return snprintf(buf, len, "%.12s", str_of(o, "container_id"));
}

static int
fmt_port(json_object *o, char *buf, size_t len)
{
	int64_t p = int_of(o, "port");

	return p ? snprintf(buf, len, "%lld", (long long)p) : 0;
}

static int
fmt_plugin(json_object *o, char *buf, size_t len)
{
	json_object *p;

	if (!json_object_object_get_ex(o, "plugin", &p) ||
	    int_of(p, "runs") == 0)
		return 0;
	return snprintf(
	    buf, len, "%s (%lld runs, %lld failed)",
	    json_object_get_boolean(json_object_object_get(p, "last_ok"))
	        ? "ok"
	        : "failed",
	    (long long)int_of(p, "runs"), (long long)int_of(p, "failures"));
}

/* Prints the ok reply's [key] as JSON, or hands it to the human printer. */
static int
ctl_show(const char *proc, const struct clnt_result *r, const char *key,
         void (*human)(json_object *))
{
	json_object *reply, *v = NULL;

	if ((reply = ctl_reply_json(proc, &r->reply)) == NULL)
		return CTL_EXIT_UNREACHABLE;
	json_object_object_get_ex(reply, key, &v);
	if (v == NULL) {
		fprintf(stderr, "reconctl: reply has no \"%s\"\n", key);
		json_object_put(reply);
		return CTL_EXIT_NO;
	}
	if (ctl_opts.json)
		ctl_print_json(v);
	else
		human(v);
	json_object_put(reply);
	return CTL_EXIT_OK;
}

int
ctl_done(const char *proc, const struct clnt_result *r, const char *line)
{
	json_object *reply;

	if (!ctl_opts.json) {
		fputs(line, stdout);
		return CTL_EXIT_OK;
	}
	if ((reply = ctl_reply_json(proc, &r->reply)) == NULL)
		return CTL_EXIT_UNREACHABLE;
	ctl_print_json(reply);
	json_object_put(reply);
	return CTL_EXIT_OK;
}

static void
print_rows(json_object *rows)
{
	static const struct ctl_col cols[] = {
	    {"ID", "id", NULL},
	    {"WORKLOAD", "workload_id", NULL},
	    {"KIND", "workload_kind", NULL},
	    {"STATE", "state", NULL},
	    {"PORT", NULL, fmt_port},
	    {"CONTAINER", NULL, fmt_short_cid},
	    {"IMAGE", "image_ref", NULL},
	    {"HOST", "host", NULL},
	    {"SEEN", NULL, fmt_last_seen},
	};

	ctl_table(rows, cols, sizeof(cols) / sizeof(cols[0]));
}

static int
fmt_interval(json_object *o, char *buf, size_t len)
{
	int64_t ms = int_of(o, "interval_ms");

	if (ms % 1000 == 0)
		return snprintf(buf, len, "%llds", (long long)(ms / 1000));
	return snprintf(buf, len, "%lldms", (long long)ms);
}

static void
print_hosts(json_object *hs)
{
	static const struct ctl_col cols[] = {
	    {"HOST", "host", NULL},        {"STATE", "state", NULL},
	    {"SEEN", NULL, fmt_last_seen}, {"INTERVAL", NULL, fmt_interval},
	    {"GEN", "gen", NULL},          {"ROWS", "rows", NULL},
	};

	ctl_table(hs, cols, sizeof(cols) / sizeof(cols[0]));
}

static void
print_workloads(json_object *ws)
{
	static const struct ctl_col cols[] = {
	    {"ID", "id", NULL},           {"NAME", "name", NULL},
	    {"KIND", "kind", NULL},       {"SOURCE", "source_kind", NULL},
	    {"PLUGIN", NULL, fmt_plugin},
	};

	ctl_table(ws, cols, sizeof(cols) / sizeof(cols[0]));
}

/* key: value lines, nested objects indented once. */
static void
print_object(json_object *o)
{
	json_object_object_foreach(o, k, v)
	{
		if (json_object_is_type(v, json_type_object)) {
			printf("%s:\n", k);
			json_object_object_foreach(v, k2, v2) printf(
			    "  %-22s %s\n", k2, json_object_get_string(v2));
		} else
			printf("%-24s %s\n", k, json_object_get_string(v));
	}
}

/* The end of a read: its status, the reply shown under key, the client
 * and the result freed. */
static int
ctl_read_done(struct clnt *c, struct clnt_result *r, const char *key,
              void (*print)(json_object *))
{
	int rc;

	if ((rc = ctl_status("store", r)) == CTL_EXIT_OK)
		rc = ctl_show("store", r, key, print);
	clnt_result_free(r);
	clnt_free(c);
	return rc;
}

int
ctl_ps(char **args)
{
	struct store_filter f = {
	    .workload_id = ctl_opts.workload,
	    .state = ctl_opts.state,
	    .host = ctl_opts.host,
	};
	struct clnt_result r = {0};
	struct wire_rows_reply rows;
	struct clnt *c;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_containers_list(c, &f, &r, &rows);
	return ctl_read_done(c, &r, "containers", print_rows);
}

int
ctl_container_get(char **args)
{
	struct clnt_result r = {0};
	struct wire_row_reply row;
	struct clnt *c;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_container_get(c, args[0], &r, &row);
	return ctl_read_done(c, &r, "container", print_object);
}

/* A write's outcome: the reply for scripts, its rev for people. */
static int
ctl_written(const struct clnt_result *r, const struct wire_write_reply *w)
{
	char line[64];
	int rc;

	if ((rc = ctl_status("store", r)) != CTL_EXIT_OK)
		return rc;
	snprintf(line, sizeof(line), "ok, rev %llu\n",
	         (unsigned long long)w->rev);
	return ctl_done("store", r, line);
}

int
ctl_container_put(char **args)
{
	struct clnt_result r = {0};
	struct wire_write_reply w;
	struct wire_row row;
	struct arena *a = arena_new();
	struct clnt *c;
	int rc = CTL_EXIT_USAGE;

	if (ctl_read_row(args[0], a, &row) == 0 &&
	    (c = ctl_clnt("store")) != NULL) {
		store_clnt_container_put(c, &row, &r, &w);
		rc = ctl_written(&r, &w);
		clnt_result_free(&r);
		clnt_free(c);
	}
	arena_free(a);
	return rc;
}

/* A delete's outcome: the reply for scripts, a line for people. */
static int
ctl_deleted(const struct clnt_result *r, const char *id)
{
	char line[WIRE_ID_MAX + 32];
	int rc;

	if ((rc = ctl_status("store", r)) != CTL_EXIT_OK)
		return rc;
	snprintf(line, sizeof(line), "deleted %s\n", id);
	return ctl_done("store", r, line);
}

int
ctl_container_rm(char **args)
{
	struct clnt_result r = {0};
	struct wire_write_reply w;
	struct clnt *c;
	int rc;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_container_delete(c, args[0], &r, &w);
	rc = ctl_deleted(&r, args[0]);
	clnt_result_free(&r);
	clnt_free(c);
	return rc;
}

int
ctl_workload_ls(char **args)
{
	struct clnt_result r = {0};
	struct wire_workloads_reply ws;
	struct clnt *c;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_workloads_list(c, &r, &ws);
	return ctl_read_done(c, &r, "workloads", print_workloads);
}

int
ctl_workload_get(char **args)
{
	struct clnt_result r = {0};
	struct wire_workload_reply w;
	struct clnt *c;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_workload_get(c, args[0], ctl_opts.show_secrets, &r, &w);
	return ctl_read_done(c, &r, "workload", print_object);
}

int
ctl_workload_put(char **args)
{
	struct clnt_result r = {0};
	struct wire_write_reply w;
	struct wire_workload wl;
	struct arena *a = arena_new();
	struct clnt *c;
	int rc = CTL_EXIT_USAGE;

	if (ctl_read_workload(args[0], a, &wl) == 0 &&
	    (c = ctl_clnt("store")) != NULL) {
		store_clnt_workload_put(c, &wl, &r, &w);
		rc = ctl_written(&r, &w);
		clnt_result_free(&r);
		clnt_free(c);
	}
	arena_free(a);
	return rc;
}

int
ctl_workload_rm(char **args)
{
	struct clnt_result r = {0};
	struct wire_write_reply w;
	struct clnt *c;
	int rc;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_workload_delete(c, args[0], &r, &w);
	rc = ctl_deleted(&r, args[0]);
	clnt_result_free(&r);
	clnt_free(c);
	return rc;
}

/*
 * probe: exit 0 healthy, 1 unhealthy (naming the failed checks), 2
 * unreachable. --live asks only whether the loop turns.
 */
int
ctl_probe(char **args)
{
	static const struct {
		const char *name;
		int (*health)(struct clnt *, bool, struct clnt_result *,
		              struct wire_health *);
	} procs[] = {
	    {"lister", lister_clnt_health},
	    {"store", store_clnt_health},
	    {"dispatcher", dispatcher_clnt_health},
	};
	const char *proc = args[0];
	struct clnt_result r = {0};
	struct wire_health h;
	struct clnt *c;
	int rc, healthy = 1;
	size_t i, p;

	for (p = 0; p < sizeof(procs) / sizeof(procs[0]); p++)
		if (strcmp(proc, procs[p].name) == 0)
			break;
	if (p == sizeof(procs) / sizeof(procs[0])) {
		fprintf(stderr,
		        "usage: reconctl probe lister|store|dispatcher\n");
		return CTL_EXIT_USAGE;
	}
	if ((c = ctl_clnt(proc)) == NULL)
		return CTL_EXIT_USAGE;
	procs[p].health(c, ctl_opts.live, &r, &h);
	if ((rc = ctl_status(proc, &r)) != CTL_EXIT_OK)
		goto out;
	if (!ctl_opts.live && !h.ready) {
		healthy = 0;
		fprintf(stderr, "reconctl: %s is not ready\n", proc);
	}
	for (i = 0; i < h.nchecks; i++) {
		if (h.checks[i].ok)
			continue;
		healthy = 0;
		fprintf(stderr, "reconctl: %s check %s failed: %s\n", proc,
		        h.checks[i].name, h.checks[i].detail);
	}
	if (healthy) {
		char line[128];
		snprintf(line, sizeof(line),
		         "%s healthy (pid %lld, up %llds)\n", proc,
		         (long long)h.pid, (long long)h.uptime_s);
		rc = ctl_done(proc, &r, line);
	} else
		rc = ctl_done(proc, &r, "");
	if (rc == CTL_EXIT_OK && !healthy)
		rc = CTL_EXIT_NO;
out:
	clnt_result_free(&r);
	clnt_free(c);
	return rc;
}

int
ctl_resync(char **args)
{
	struct clnt_result r = {0};
	struct clnt *c;
	int rc;

	if ((c = ctl_clnt("lister")) == NULL)
		return CTL_EXIT_USAGE;
	lister_clnt_resync(c, &r);
	if ((rc = ctl_status("lister", &r)) == CTL_EXIT_OK)
		rc = ctl_done("lister", &r, "resync requested\n");
	clnt_result_free(&r);
	clnt_free(c);
	return rc;
}

int
ctl_hosts(char **args)
{
	struct clnt_result r = {0};
	struct wire_hosts_reply hs;
	struct clnt *c;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_hosts_list(c, &r, &hs);
	return ctl_read_done(c, &r, "hosts", print_hosts);
}

int
ctl_hosts_forget(char **args)
{
	struct clnt_result r = {0};
	struct wire_write_reply w;
	char line[WIRE_ID_MAX + 96];
	struct clnt *c;
	int rc;

	if ((c = ctl_clnt("store")) == NULL)
		return CTL_EXIT_USAGE;
	store_clnt_hosts_forget(c, args[0], &r, &w);
	if ((rc = ctl_status("store", &r)) == CTL_EXIT_OK) {
		snprintf(line, sizeof(line),
		         "forgot host %s: %llu rows missing, rev %llu\n",
		         args[0], (unsigned long long)w.missing,
		         (unsigned long long)w.rev);
		rc = ctl_done("store", &r, line);
	}
	clnt_result_free(&r);
	clnt_free(c);
	return rc;
}
