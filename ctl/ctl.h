/*
 * ctl.h: reconctl's shared state and subcommands.
 */
#ifndef RECON_CTL_H
#define RECON_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#define CTL_EXIT_OK          0
#define CTL_EXIT_NO          1
#define CTL_EXIT_UNREACHABLE 2
#define CTL_EXIT_COMPACTED   3
#define CTL_EXIT_USAGE       64

struct ctl_opts {
	char *run_dir;
	bool json;
	int64_t timeout_ms;
	char *workload, *state, *host;
	bool show_secrets, live;
	char *store_url, *lister_url, *dispatcher_url;
	int64_t since; /* watch: -1 from now on */
	char *events_url;
	bool prometheus;
	char *data_dir;
};
extern struct ctl_opts ctl_opts;

/* Sends req (a JSON object {t, ...}) to the named process's ctl socket
 * ("store", "lister", "dispatcher"). On success *reply holds the decoded
 * reply and the return is CTL_EXIT_OK, or CTL_EXIT_NO after printing the
 * server's error; CTL_EXIT_UNREACHABLE when no reply came. Takes req. */
int ctl_call(const char *proc, json_object *req, json_object **reply);
/* {t: name} */
json_object *ctl_req(const char *t);

/* Tables for people: columns of string keys of each object. */
struct ctl_col {
	const char *title;
	const char *key;
	int (*fmt)(json_object *, char *, size_t); /* NULL: the value */
};
void ctl_table(json_object *arr, const struct ctl_col *cols, int ncols);
void ctl_print_json(json_object *);
/* Reads a whole JSON document from a path or "-" (stdin). */
json_object *ctl_read_json(const char *path);

int ctl_ps(char **);
int ctl_container_get(char **);
int ctl_container_put(char **);
int ctl_container_rm(char **);
int ctl_workload_ls(char **);
int ctl_workload_get(char **);
int ctl_workload_put(char **);
int ctl_workload_rm(char **);
int ctl_probe(char **);
int ctl_resync(char **);
int ctl_dispatch(char **);
int ctl_stats(char **);
int ctl_dump(char **);
int ctl_watch(char **);

#endif
