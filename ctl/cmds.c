/*
 * cmds.c: reconctl's subcommands. Each builds its request as JSON, calls
 * ctl_call() and prints a table for people or the wire's JSON for scripts.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
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

/* Prints reply[key] as JSON, or hands it to the human printer. */
static int
ctl_show(json_object *reply, const char *key, void (*human)(json_object *))
{
	json_object *v = NULL;

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

int
ctl_ps(char **args)
{
	json_object *req = ctl_req("containers.list"), *reply;
	int rc;

	if (ctl_opts.workload)
		json_object_object_add(
		    req, "workload_id",
		    json_object_new_string(ctl_opts.workload));
	if (ctl_opts.state)
		json_object_object_add(req, "state",
		                       json_object_new_string(ctl_opts.state));
	if (ctl_opts.host)
		json_object_object_add(req, "host",
		                       json_object_new_string(ctl_opts.host));
	if ((rc = ctl_call("store", req, &reply)) != CTL_EXIT_OK)
		return rc;
	return ctl_show(reply, "containers", print_rows);
}

/* {t, id} requests whose reply holds one record under `key`. */
static int
ctl_get(const char *t, const char *id, const char *key, bool secrets)
{
	json_object *req = ctl_req(t), *reply;
	int rc;

	json_object_object_add(req, "id", json_object_new_string(id));
	if (secrets)
		json_object_object_add(req, "secrets",
		                       json_object_new_boolean(1));
	if ((rc = ctl_call("store", req, &reply)) != CTL_EXIT_OK)
		return rc;
	return ctl_show(reply, key, print_object);
}

static int
ctl_put(const char *t, const char *key, const char *path)
{
	json_object *obj = ctl_read_json(path), *req, *reply, *rev;
	int rc;

	if (obj == NULL)
		return CTL_EXIT_USAGE;
	req = ctl_req(t);
	json_object_object_add(req, key, obj);
	if ((rc = ctl_call("store", req, &reply)) != CTL_EXIT_OK)
		return rc;
	if (ctl_opts.json)
		ctl_print_json(reply);
	else if (json_object_object_get_ex(reply, "rev", &rev))
		printf("ok, rev %s\n", json_object_get_string(rev));
	json_object_put(reply);
	return CTL_EXIT_OK;
}

static int
ctl_rm(const char *t, const char *id)
{
	json_object *req = ctl_req(t), *reply;
	int rc;

	json_object_object_add(req, "id", json_object_new_string(id));
	if ((rc = ctl_call("store", req, &reply)) != CTL_EXIT_OK)
		return rc;
	if (ctl_opts.json)
		ctl_print_json(reply);
	else
		printf("deleted %s\n", id);
	json_object_put(reply);
	return CTL_EXIT_OK;
}

int
ctl_container_get(char **args)
{
	return ctl_get("container.get", args[0], "container", false);
}

int
ctl_container_put(char **args)
{
	return ctl_put("container.put", "row", args[0]);
}

int
ctl_container_rm(char **args)
{
	return ctl_rm("container.delete", args[0]);
}

int
ctl_workload_ls(char **args)
{
	json_object *reply;
	int rc;

	if ((rc = ctl_call("store", ctl_req("workloads.list"), &reply)) !=
	    CTL_EXIT_OK)
		return rc;
	return ctl_show(reply, "workloads", print_workloads);
}

int
ctl_workload_get(char **args)
{
	return ctl_get("workload.get", args[0], "workload",
	               ctl_opts.show_secrets);
}

int
ctl_workload_put(char **args)
{
	return ctl_put("workload.put", "workload", args[0]);
}

int
ctl_workload_rm(char **args)
{
	return ctl_rm("workload.delete", args[0]);
}

/*
 * probe: exit 0 healthy, 1 unhealthy (naming the failed checks), 2
 * unreachable. --live asks only whether the loop turns.
 */
int
ctl_probe(char **args)
{
	json_object *req, *reply, *checks, *ready;
	const char *proc = args[0];
	int rc, healthy = 1;
	size_t i;

	if (strcmp(proc, "lister") != 0 && strcmp(proc, "store") != 0 &&
	    strcmp(proc, "dispatcher") != 0) {
		fprintf(stderr,
		        "usage: reconctl probe lister|store|dispatcher\n");
		return CTL_EXIT_USAGE;
	}
	req = ctl_req("health");
	if (ctl_opts.live)
		json_object_object_add(req, "live", json_object_new_boolean(1));
	if ((rc = ctl_call(proc, req, &reply)) != CTL_EXIT_OK)
		return rc == CTL_EXIT_NO ? CTL_EXIT_NO : rc;
	if (!ctl_opts.live &&
	    json_object_object_get_ex(reply, "ready", &ready) &&
	    !json_object_get_boolean(ready)) {
		healthy = 0;
		fprintf(stderr, "reconctl: %s is not ready\n", proc);
	}
	if (json_object_object_get_ex(reply, "checks", &checks))
		for (i = 0; i < json_object_array_length(checks); i++) {
			json_object *c = json_object_array_get_idx(checks, i);
			json_object *ok = json_object_object_get(c, "ok");
			if (ok && json_object_get_boolean(ok))
				continue;
			healthy = 0;
			fprintf(stderr, "reconctl: %s check %s failed: %s\n",
			        proc, str_of(c, "name"), str_of(c, "detail"));
		}
	if (ctl_opts.json)
		ctl_print_json(reply);
	else if (healthy)
		printf("%s healthy (pid %lld, up %llds)\n", proc,
		       (long long)int_of(reply, "pid"),
		       (long long)int_of(reply, "uptime_s"));
	json_object_put(reply);
	return healthy ? CTL_EXIT_OK : CTL_EXIT_NO;
}

int
ctl_resync(char **args)
{
	json_object *reply;
	int rc;

	if ((rc = ctl_call("lister", ctl_req("resync"), &reply)) != CTL_EXIT_OK)
		return rc;
	if (ctl_opts.json)
		ctl_print_json(reply);
	else
		printf("resync requested\n");
	json_object_put(reply);
	return CTL_EXIT_OK;
}
