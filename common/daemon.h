/*
 * daemon.h: what every recon daemon does around its poll loop, written
 * once: flags, logging, the shared checks, standard fds, the run dir and
 * its lock, signals, the sockets' addresses, readiness and the lock's
 * release. A daemon's main() is its own checks, its sockets, its loop.
 */
#ifndef RECON_DAEMON_H
#define RECON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "flags.h"
#include "nngx.h"

#define DAEMON_CURL    0x1 /* initialise libcurl */
#define DAEMON_SIGCHLD 0x2 /* SIGCHLD wakes the loop too */

struct daemon {
	const char *name;         /* "recon-store": logs, lock, usage */
	struct daemon_opts *opts; /* the shared options, in the table */
	int lockfd;
	int sigfd;     /* sig_drain it when readable */
	unsigned what; /* DAEMON_ flags */
};

/*
 * Parses tab (which holds FLAGS_DAEMON(opts)), starts logging, runs
 * check (the daemon's own option checks, exiting 100 naming the bad one;
 * may be NULL) and the shared checks, tunes memory, opens /dev/null on
 * any of fds 0-2 that is closed, makes the run dir, takes its lock,
 * initialises libcurl when asked, and opens the signal pipe. On failure
 * it exits: 100 for bad usage, 111 when the system refuses.
 */
void daemon_start(struct daemon *, const char *name, struct flag *tab,
                  struct daemon_opts *, void (*check)(void), unsigned what,
                  int argc, char **argv);
/*
 * The nng address of socket `name` (e.g. "store.ctl"): url when set,
 * else ipc://RUN_DIR/name. A url too long, a tcp:// one without
 * --insecure-tcp or a tls+tcp:// one without the TLS files exits 100
 * naming its flag, --NAME-url with dots as dashes.
 */
void daemon_url(const struct daemon *, char *buf, size_t len, const char *url,
                const char *name);
/* The process's TLS (--tls-cert, --tls-key, --tls-ca), NULL when not
 * given; checked and loaded by daemon_start. */
const struct nngx_tls *daemon_tls_get(void);
/* Listens on socket `name` as a socket of kind (SPEC §2) with file mode
 * mode. 0, or -1 logged. */
int daemon_listen(const struct daemon *, nng_socket *, enum nngx_proto,
                  enum listen_kind, const char *url, const char *name,
                  int64_t mode);
/* Dials socket `name` (in the background: it may not be up yet). */
int daemon_dial(const struct daemon *, nng_socket *, enum nngx_proto,
                const char *url, const char *name);
/* Tells the supervisor we serve (--notify-fd). */
void daemon_ready(const struct daemon *);
/* Releases the lock and logs that we stopped: the last call of main(),
 * after the caller closed its sockets and files. */
void daemon_stop(struct daemon *);

#endif
