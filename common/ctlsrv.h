/*
 * ctlsrv.h: the one ctl server of every daemon (SPEC §2, §7). Requests
 * arrive on a REP socket through nng contexts, are answered on the
 * daemon's own loop from one command table, and every reply is sent
 * (waited for, never dropped as "busy") however many clients ask at once.
 */
#ifndef RECON_CTLSRV_H
#define RECON_CTLSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "arena.h"
#include "wire.h"

/*
 * Does request t change state? The ctl protocol's one list of writes
 * (SPEC §2, §5): the server refuses them to untrusted peers, and a client
 * never sends one twice.
 */
bool ctlsrv_writes(const char *t);

struct ctlsrv;

/* One request being answered. */
struct ctlsrv_req {
	const struct wire_request *rq;
	struct arena *a;  /* freed with the request */
	struct wbuf *out; /* the reply goes here */
	int64_t uid;      /* the peer's uid over ipc, -1 when not known */
	bool remote;      /* came through a remote listener (SPEC §10) */
	bool trusted;     /* uid 0, the daemon's own uid or --admin-uid, and
	                     never through a remote listener */
	/* the server's */
	struct ctlsrv *srv;
	void *slot;
};

/*
 * A command: its request name `t` and the function that answers it (a
 * write, ctlsrv_writes, only to trusted peers). fn writes the whole reply into
 * req->out and returns 0 (-1: an internal failure, answered with code
 * "internal"), or keeps req and returns CTLSRV_LATER, to answer with
 * ctlsrv_answer.
 */
#define CTLSRV_LATER 1
struct ctlsrv_cmd {
	const char *name;
	int (*fn)(void *arg, struct ctlsrv_req *);
};

/*
 * The daemon's part of its health reply (SPEC §7): ready, checks (none
 * when live) and counters; the server adds name, pid, version, uptime and
 * its own counters. Memory comes from req->a.
 */
typedef void (*ctlsrv_health_fn)(void *arg, struct ctlsrv_req *, bool live,
                                 struct wire_health *);

struct ctlsrv_config {
	const char *name; /* the socket's name in logs: "store.ctl" */
	const char *proc; /* the process in health: "recon-store" */
	const struct ctlsrv_cmd *cmds; /* "health" is the server's own */
	size_t ncmds;
	ctlsrv_health_fn health;
	void *arg;         /* handed to every fn */
	int64_t admin_uid; /* -1: none */
};

/* Counters of one server (all are also in its health reply). */
struct ctlsrv_stats {
	uint64_t requests;      /* received */
	uint64_t bad_requests;  /* undecodable or unknown */
	uint64_t forbidden;     /* refused for the peer's uid */
	uint64_t replies_lost;  /* replies that could not be sent */
	uint64_t peers_gone;    /* of them: the asker hung up first */
	uint64_t send_timeouts; /* of them: the asker did not read in time */
	uint64_t in_flight;     /* requests being answered now */
};

/*
 * Serves cfg's table on sock (a cooked REP socket, which the server takes
 * and closes) with nslots requests answered at once (more wait in nng,
 * unread, not lost). NULL logged. The server hands requests to the loop:
 * poll ctlsrv_fd for POLLIN, then call ctlsrv_serve.
 */
struct ctlsrv *ctlsrv_new(nng_socket sock, const struct ctlsrv_config *cfg,
                          size_t nslots);
/* Closes the socket and frees everything; requests kept for later are
 * dropped, so their holders must let go of them first. */
void ctlsrv_free(struct ctlsrv *);
int ctlsrv_fd(const struct ctlsrv *);
/* Answers every request received so far. */
void ctlsrv_serve(struct ctlsrv *);
/* Sends the reply a CTLSRV_LATER command wrote into req->out since, and
 * frees req. */
void ctlsrv_answer(struct ctlsrv_req *);
void ctlsrv_stats(struct ctlsrv *, struct ctlsrv_stats *);
/* The stats as counters named ctl_* (for health and stats replies), and
 * the process's listeners' (nngx_stats): fills out[CTLSRV_NCOUNTERS]
 * (zeros for a NULL server), returns the count. */
#define CTLSRV_NCOUNTERS 13
size_t ctlsrv_counters(struct ctlsrv *, struct wire_counter *out);

/*
 * Refuses req for the peer's uid (SPEC §2), or because it came through a
 * remote listener (SPEC §10): counts, logs "refused WHAT from uid N" (or
 * "through the remote listener") and writes a `forbidden` error reply
 * naming what. Returns 0
 * (the reply is whole). For refusals a command decides itself, such as
 * workload.get with secrets.
 */
int ctlsrv_forbid(struct ctlsrv_req *, const char *what);

/*
 * Answers one request without a socket (the server's own path, and unit
 * tests): decodes buf, looks the command up, checks the peer's uid, runs
 * it. Returns 0 with the whole reply in out, CTLSRV_LATER (*reqp, from
 * the arena a, waits for ctlsrv_answer), or -1 when not even an error
 * reply could be encoded. A NULL srv counts nothing.
 */
int ctlsrv_handle(struct ctlsrv *, const struct ctlsrv_config *,
                  const void *buf, size_t len, int64_t uid, struct arena *a,
                  struct wbuf *out, struct ctlsrv_req **reqp);
/*
 * The same for a peer that came through a remote listener or not
 * (nngx_peer_remote): a remote peer is never trusted, whatever its uid,
 * so it may read (lists, gets without secrets, events.since, stats,
 * health) and nothing else (SPEC §10: no uid exists across a network).
 */
int ctlsrv_handle_peer(struct ctlsrv *, const struct ctlsrv_config *,
                       const void *buf, size_t len, int64_t uid, bool remote,
                       struct arena *a, struct wbuf *out,
                       struct ctlsrv_req **reqp);

#endif
