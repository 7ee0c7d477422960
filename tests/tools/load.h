/*
 * load.h: recon-load's many-hosts mode (load_hosts.c): one process acting
 * as N listers, each host with its own ingest socket, certificate and
 * schedule (bench/many_hosts.sh).
 */
#ifndef RECON_LOAD_H
#define RECON_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct load_hosts_conf {
	const char *url;     /* ingest: ipc:// (bare) or tls+tcp:// (sealed) */
	const char *prefix;  /* host names prefix1 .. prefixN */
	const char *tls_dir; /* NAME.pem, NAME.key and ca.pem; NULL: none */
	const char *key_id;  /* the labels' keys */
	const char *key_role;
	char **wids; /* workloads the containers go to, in turn */
	size_t nw;
	int64_t hosts, containers;
	int64_t snapshots;   /* per host, when duration_ms is 0 */
	int64_t duration_ms; /* how long to send (0: snapshots passes) */
	int64_t rate;        /* snapshots per second per host (0: interval) */
	int64_t interval_ms; /* carried, and the period without a rate */
	int64_t gen0;        /* gens gen0 + pass; 0: the clock in ms */
	int64_t change_pct;  /* containers changing state per pass, % */
};

/* Runs the hosts until done or SIGTERM/SIGINT; prints one summary line on
 * stdout. Exits on a usage error or a failed resource. */
int load_hosts(const struct load_hosts_conf *);

#endif
