/*
 * ctl.h: reconctl's shared state and subcommands.
 */
#ifndef RECON_CTL_H
#define RECON_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "clnt.h"

#define CTL_EXIT_OK          0
#define CTL_EXIT_NO          1
#define CTL_EXIT_UNREACHABLE 2
#define CTL_EXIT_COMPACTED   3
#define CTL_EXIT_USAGE       64

/* ctl_opts.since when --since was not given (--list refuses it). */
#define CTL_SINCE_NONE INT64_MIN

/*
 * Operator JSON (`workload put`, `container put`) is read up to these
 * bounds, so that a huge or hostile file costs reconctl little memory:
 * the largest record the store takes (a workload whose three JSON-text
 * fields hold 1 MiB each, escaped) fits in the bytes, and a record is a
 * flat object of some twenty members, far fewer than the values.
 */
#define CTL_INPUT_MAX    (8u << 20) /* bytes */
#define CTL_INPUT_VALUES 1024       /* objects, arrays and members */

struct ctl_opts {
	char *run_dir;
	bool json;
	int64_t timeout_ms;
	char *workload, *state, *host;
	bool show_secrets, live;
	char *store_url, *lister_url, *dispatcher_url;
	int64_t since; /* watch: CTL_SINCE_NONE (or -1) from now on */
	bool list;     /* watch: the rows first, then the changes after them */
	char *events_url;
	bool prometheus;
	char *data_dir;
	char *tls_cert, *tls_key, *tls_ca; /* for tls+tcp:// (SPEC §10) */
	bool insecure_tcp;
};
extern struct ctl_opts ctl_opts;

/* The client handle of a process's ctl socket ("store", "lister",
 * "dispatcher") with --timeout; NULL (said on stderr) when its address
 * does not fit. Free with clnt_free. */
struct clnt *ctl_clnt(const char *proc);
/* May reconctl use url (nngx_url_check with the TLS options)? 0, or -1
 * said on stderr naming the flag. */
int ctl_url_check(const char *flag, const char *url);
/*
 * What every subcommand does with a call's outcome: CTL_EXIT_OK; or
 * CTL_EXIT_NO after printing the server's error (and with --json its
 * reply); or CTL_EXIT_UNREACHABLE after saying why no usable reply came.
 */
int ctl_status(const char *proc, const struct clnt_result *r);
/* An ok reply as JSON with the wire's field names, for printing; NULL
 * (said on stderr) when it does not convert. */
json_object *ctl_reply_json(const char *proc, const struct wbuf *reply);
/* An ok reply's end: the whole reply as JSON for scripts (--json), or
 * line for people. */
int ctl_done(const char *proc, const struct clnt_result *r, const char *line);
/* Reads operator JSON (a path or "-") into a record for workload.put or
 * container.put, strictly: an unknown field or a wrong type is a usage
 * error naming the field; so are more than CTL_INPUT_MAX bytes, more than
 * CTL_INPUT_VALUES values and anything after the object. 0, or -1 said
 * on stderr. */
int ctl_read_workload(const char *path, struct arena *, struct wire_workload *);
int ctl_read_row(const char *path, struct arena *, struct wire_row *);

/* Tables for people: columns of string keys of each object. */
struct ctl_col {
	const char *title;
	const char *key;
	int (*fmt)(json_object *, char *, size_t); /* NULL: the value */
};
void ctl_table(json_object *arr, const struct ctl_col *cols, int ncols);
void ctl_print_json(json_object *);

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
int ctl_hosts(char **);
int ctl_hosts_forget(char **);

#endif
