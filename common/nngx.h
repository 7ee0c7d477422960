/*
 * nngx.h: the nng helpers every process uses: sockets by SPEC §2 name,
 * ipc permissions, receive caps, pollable fds, peer credentials.
 */
#ifndef RECON_NNGX_H
#define RECON_NNGX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

enum nngx_proto {
	NNGX_PULL,
	NNGX_PUSH,
	NNGX_PUB,
	NNGX_SUB,
	NNGX_REP,
	NNGX_REQ,
};

/* What a send without waiting did. Busy is not gone (SPEC §2): the peer
 * or the queue is full now, so the sender keeps the message and tries
 * again later; failed means the socket is closed or memory ran out. */
enum nngx_sent {
	NNGX_SENT = 0,
	NNGX_BUSY = 1,
	NNGX_FAILED = -1,
};

/* ipc://<run_dir>/<name> unless url is set; -1 if it does not fit. */
int nngx_url(char *buf, size_t len, const char *url, const char *run_dir,
             const char *name);
/* How a socket listens, and who may connect (SPEC §2). */
struct nngx_listen_opts {
	uint64_t max_msg; /* largest message received; bigger closes the pipe */
	int mode;         /* of the ipc socket file */
	bool writers_only; /* a peer that may not write is refused at connect */
	int peer_pipes;    /* pipes an untrusted uid may hold (0: any number) */
	int64_t admin_uid; /* trusted besides 0 and our own uid (-1: none) */
};

/* Opens a socket of proto and listens on url. An ipc url's file is a
 * symlink to the listening socket of the moment, .NAME.GEN beside it;
 * what an earlier run left there is removed first (the caller holds the
 * run dir's lock). The keeper thread replaces a listener that nng 1.5.2's
 * bug 1518 stopped (see nngx.c). The socket's NNG_PIPE_EV_ADD_PRE and
 * NNG_PIPE_EV_REM_POST notifications belong to nngx. 0, or -1 logged. */
int nngx_listen(nng_socket *, enum nngx_proto, const char *url,
                const struct nngx_listen_opts *);

/* What the listeners of this process refused or repaired. */
struct nngx_stats {
	uint64_t pipes_refused;    /* a writers' socket, an untrusted peer */
	uint64_t pipes_over_cap;   /* an untrusted uid over its share */
	uint64_t listener_repairs; /* listeners replaced (bug 1518) */
	uint64_t pipes_cut;        /* pipes closed with a stopped listener */
	uint64_t pipes_stuck;      /* connections it never handed over */
};
void nngx_stats(struct nngx_stats *);
/* Opens a socket and dials url in the background (nng redials by itself).
 * 0, or -1 logged. */
int nngx_dial(nng_socket *, enum nngx_proto, const char *url, uint64_t max_msg);
/* A file descriptor that polls readable when a message can be received
 * (NNG_OPT_RECVFD); -1 logged. */
int nngx_recv_fd(nng_socket);
/* Receives one message without blocking: 1 got one, 0 none, -1 error. */
int nngx_try_recv(nng_socket, nng_msg **);
/* Sends len bytes (copied) without blocking: an enum nngx_sent; a
 * failure is logged. */
int nngx_send_nb(nng_socket, const void *, size_t);
/* Sends with a timeout in ms: NNGX_SENT, NNGX_BUSY (timed out: nobody
 * took it) or NNGX_FAILED (logged). */
int nngx_send_timeout(nng_socket, const void *, size_t, int64_t ms);
/* Lets a PUSH or PUB socket queue n messages while its peers are busy
 * (nng's default is none for PUSH). 0, or -1 logged. */
int nngx_send_buffer(nng_socket, int n);
/* Subscribes a SUB socket to the topics starting with prefix ("": all).
 * 0, or -1 logged. */
int nngx_subscribe(nng_socket, const char *prefix);
/* The uid of the peer that sent m over ipc; -1 when not known (tcp). */
int64_t nngx_peer_uid(nng_msg *);
/* Whether a peer of uid (-1: unknown) may change state or read secrets
 * (SPEC §2): 0, our own uid, or admin_uid (-1: none). */
bool nngx_uid_trusted(int64_t uid, int64_t admin_uid);

#endif
