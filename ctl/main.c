/*
 * main.c: reconctl, the operators' and scripts' command line (SPEC §5).
 * A table of subcommands; each builds a request, calls a ctl socket and
 * prints the reply as a table for people or as JSON for scripts.
 * Exit codes: 0 ok, 1 the server said no, 2 unreachable, 3 (watch) list
 * again, 64 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "flags.h"
#include "util.h"

struct ctl_opts ctl_opts = {.since = CTL_SINCE_NONE};

static struct flag ctl_flags[] = {
    {"run-dir", 0, "RECON_RUN_DIR", FLAG_STR, &ctl_opts.run_dir, "/run/recon",
     "directory holding the daemons' sockets"},
    {"json", 0, NULL, FLAG_BOOL, &ctl_opts.json, NULL,
     "print JSON with the wire's field names"},
    {"timeout", 0, "RECON_TIMEOUT", FLAG_DURATION, &ctl_opts.timeout_ms, "5s",
     "how long to wait for a reply"},
    {"workload", 'w', NULL, FLAG_STR, &ctl_opts.workload, NULL,
     "ps, watch: only this workload's rows or events"},
    {"state", 's', NULL, FLAG_STR, &ctl_opts.state, NULL,
     "ps: only rows in this state"},
    {"host", 'H', NULL, FLAG_STR, &ctl_opts.host, NULL,
     "ps: only rows of this lister host"},
    {"show-secrets", 0, NULL, FLAG_BOOL, &ctl_opts.show_secrets, NULL,
     "workload get: include the secrets"},
    {"live", 0, NULL, FLAG_BOOL, &ctl_opts.live, NULL,
     "probe: ask only whether the process's loop turns"},
    {"data-dir", 0, NULL, FLAG_STR, &ctl_opts.data_dir, NULL,
     "dump: the store's data directory"},
    {"prometheus", 0, NULL, FLAG_BOOL, &ctl_opts.prometheus, NULL,
     "stats: print the Prometheus text format"},
    {"since", 0, NULL, FLAG_INT, &ctl_opts.since, NULL,
     "watch: events after this revision (default: from now on)"},
    {"list", 0, NULL, FLAG_BOOL, &ctl_opts.list, NULL,
     "watch: the current rows first (op list), a synced line with their "
     "rev, then every change after it; not with --since"},
    {"events-url", 0, NULL, FLAG_STR, &ctl_opts.events_url, NULL,
     "events address (default ipc://RUN_DIR/events)"},
    {"store-ctl-url", 0, NULL, FLAG_STR, &ctl_opts.store_url, NULL,
     "store.ctl address (default ipc://RUN_DIR/store.ctl)"},
    {"lister-ctl-url", 0, NULL, FLAG_STR, &ctl_opts.lister_url, NULL,
     "lister.ctl address (default ipc://RUN_DIR/lister.ctl)"},
    {"dispatcher-ctl-url", 0, NULL, FLAG_STR, &ctl_opts.dispatcher_url, NULL,
     "dispatcher.ctl address (default ipc://RUN_DIR/dispatcher.ctl)"},
    FLAGS_TLS(&ctl_opts.tls_cert, &ctl_opts.tls_key, &ctl_opts.tls_ca,
              &ctl_opts.insecure_tcp),
    FLAG_END,
};

/*
 * The subcommands. `words` is what the user types (one or two words),
 * `args` the usage shown for it, `nargs` how many arguments follow the
 * words, and `fn` runs it with those arguments and returns the exit code.
 */
static const struct ctl_cmd {
	const char *words;
	const char *args;
	int nargs;
	int (*fn)(char **args);
	const char *help;
} ctl_cmds[] = {
    {"ps", "[-w WID] [-s STATE] [-H HOST]", 0, ctl_ps, "list container rows"},
    {"container get", "ID", 1, ctl_container_get, "show one container row"},
    {"container put", "FILE|-", 1, ctl_container_put,
     "create or replace a container row from JSON (deployer-owned rows)"},
    {"container rm", "ID", 1, ctl_container_rm, "delete a container row"},
    {"workload ls", "", 0, ctl_workload_ls, "list workloads"},
    {"workload get", "ID [--show-secrets]", 1, ctl_workload_get,
     "show one workload"},
    {"workload put", "FILE|-", 1, ctl_workload_put,
     "create or replace a workload from JSON"},
    {"workload rm", "ID", 1, ctl_workload_rm,
     "delete a workload and its container rows"},
    {"probe", "lister|store|dispatcher [--live] [--timeout DUR]", 1, ctl_probe,
     "exit 0 healthy, 1 unhealthy, 2 unreachable"},
    {"resync", "", 0, ctl_resync, "ask the lister for a full pass now"},
    {"dispatch", "WID", 1, ctl_dispatch,
     "run the workload's source plugin now (reason manual)"},
    {"watch", "[-w WID] [--since REV | --list] [--json]", 0, ctl_watch,
     "print each change as it happens; --list: the rows and a synced "
     "line first (exit 3: list again)"},
    /* before "hosts": the first entry whose words match is taken */
    {"hosts forget", "HOST", 1, ctl_hosts_forget,
     "forget a lister host gone for good: its rows turn missing, its "
     "record goes"},
    {"hosts", "[--json]", 0, ctl_hosts,
     "list the lister hosts: live, or stale (nothing heard for 3 of "
     "their intervals; their rows are left as they are)"},
    {"stats", "[--prometheus]", 0, ctl_stats,
     "the three processes' counters and the store's revisions"},
    {"dump", "--data-dir DIR [--show-secrets]", 0, ctl_dump,
     "the store's database as JSON, offline and read-only"},
};

static void
ctl_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: reconctl [options] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(f, "  %s %s\n        %s\n", ctl_cmds[i].words,
		        ctl_cmds[i].args, ctl_cmds[i].help);
	fprintf(f, "\nexit codes: 0 ok, 1 the server said no, 2 unreachable "
	           "or timed out, 3 compacted, 64 usage\n\n");
}

/* Does the command's word list equal the first positional arguments? */
static int
ctl_match(const char *words, char **pos, int npos)
{
	char buf[64];
	int n = 0;
	char *w, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", words);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (n >= npos || strcmp(w, pos[n]) != 0)
			return 0;
		n++;
	}
	return n;
}

int
main(int argc, char **argv)
{
	static struct nngx_tls tls; /* the sockets' for the whole run */
	char err[768];
	size_t i;
	int argind, npos, nw;
	char **pos;

	for (i = 1; i < (size_t)argc; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			ctl_usage(stdout);
			flags_usage("reconctl", "[options] COMMAND [ARGS]",
			            ctl_flags);
			return 0;
		}
	if (flags_parse("reconctl", "[options] COMMAND [ARGS]", ctl_flags, argc,
	                argv, &argind) < 0)
		return CTL_EXIT_USAGE;
	if (flags_tls_load(&tls, ctl_opts.tls_cert, ctl_opts.tls_key,
	                   ctl_opts.tls_ca, err, sizeof(err)) == -1) {
		fprintf(stderr, "reconctl: bad TLS options: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	if (tls.loaded)
		nngx_tls_set_default(&tls);
	pos = argv + argind;
	npos = argc - argind;
	if (npos == 0) {
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if ((nw = ctl_match(ctl_cmds[i].words, pos, npos)) == 0)
			continue;
		if (npos - nw != ctl_cmds[i].nargs) {
			fprintf(stderr, "usage: reconctl %s %s\n",
			        ctl_cmds[i].words, ctl_cmds[i].args);
			return CTL_EXIT_USAGE;
		}
		return ctl_cmds[i].fn(pos + nw);
	}
	fprintf(stderr, "reconctl: unknown command \"%s\" (see --help)\n",
	        pos[0]);
	return CTL_EXIT_USAGE;
}
