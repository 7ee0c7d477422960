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

struct nngx_tls;

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

/*
 * Adds a listener on a network url (tls+tcp://; tcp:// once the caller
 * allowed it) to a socket that nngx_listen opened. Its peers have no uid:
 * the socket's uid rules do not apply to them (TLS verified them against
 * the CA), and every message they send is known as remote
 * (nngx_peer_remote), for the caller to decide what such a peer may do.
 * 0, or -1 logged.
 */
int nngx_listen_remote(nng_socket, const char *url);
/* Whether m came through a remote listener (decided by the listener of
 * its pipe, never by its contents). */
bool nngx_peer_remote(nng_msg *);

/* The address m's peer connected from (its IP for tcp), for logs. */
void nngx_peer_addr(nng_msg *, char *buf, size_t len);

/* What the listeners of this process refused or repaired. */
struct nngx_stats {
	uint64_t pipes_refused;    /* a writers' socket, an untrusted peer */
	uint64_t pipes_over_cap;   /* an untrusted uid over its share */
	uint64_t listener_repairs; /* listeners replaced (bug 1518) */
	uint64_t pipes_cut;        /* pipes closed with a stopped listener */
	uint64_t pipes_stuck;      /* connections it never handed over */
	/* TLS handshakes the remote listeners refused (no certificate, or
	 * another CA's), from nng's statistics: a lower bound, as nng counts
	 * one only while its listener waits for the next connection */
	uint64_t remote_refused;
};
void nngx_stats(struct nngx_stats *);
/* Opens a socket and dials url in the background (nng redials by itself).
 * 0, or -1 logged. */
int nngx_dial(nng_socket *, enum nngx_proto, const char *url, uint64_t max_msg);
/* The same with a TLS of its own for a tls+tcp:// url (NULL: the
 * process's default): one process dialling as several certificates
 * (recon-load --hosts). t must outlive the socket. */
int nngx_dial_tls(nng_socket *, enum nngx_proto, const char *url,
                  uint64_t max_msg, const struct nngx_tls *t);
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

/* ---- network addresses (SPEC §10): nngx_tls.c ---- */

/* What an address's scheme is: local (ipc://, inproc://), TLS
 * (tls+tcp://, wss://), or plain across a network (tcp://, ws://). */
enum nngx_scheme {
	NNGX_LOCAL,
	NNGX_TLS,
	NNGX_PLAIN,
};
enum nngx_scheme nngx_scheme(const char *url);

/* Mutual TLS: our certificate and key, and the CA both sides verify the
 * other against, read once (PEM text). */
struct nngx_tls {
	bool loaded; /* all three given and usable */
	char *cert_pem, *key_pem, *ca_pem;
	char *cert_file, *key_file, *ca_file;
};
/*
 * Reads --tls-cert, --tls-key, --tls-ca (all NULL or "": no TLS, 0 and
 * t->loaded false). -1 with err naming what is missing, or the file that
 * is unreadable or that nng's TLS engine refuses.
 */
int nngx_tls_load(struct nngx_tls *, const char *cert, const char *key,
                  const char *ca, char *err, size_t errlen);
void nngx_tls_free(struct nngx_tls *);
/* The TLS of every socket this process dials or listens on without one
 * of its own (nngx_dial, nngx_listen, clnt); t must outlive them. */
void nngx_tls_set_default(struct nngx_tls *);
const struct nngx_tls *nngx_tls_default(void);
/*
 * May url be used? A local one always; tcp:// (and ws://) only when
 * insecure (--insecure-tcp); tls+tcp:// only with t loaded. -1 with err
 * saying why.
 */
int nngx_url_check(const char *url, const struct nngx_tls *, bool insecure,
                   char *err, size_t errlen);
/* Applies t (NULL: the default) to a dialer or listener of a TLS url
 * before it starts; nothing for other urls. 0, or nng's error (logged). */
int nngx_tls_dialer(nng_dialer, const char *url, const struct nngx_tls *);
int nngx_tls_listener(nng_listener, const char *url, const struct nngx_tls *);
/* nng_dial with t (NULL: the default) applied. 0, or nng's error. */
int nngx_dial_url(nng_socket, const char *url, const struct nngx_tls *,
                  int flags);
/* The same, giving the dialer (for nngx_ep_errors). */
int nngx_dial_ep(nng_socket, const char *url, const struct nngx_tls *,
                 int flags, nng_dialer *);
/*
 * What went wrong on an endpoint so far, from nng's statistics (nng does
 * not tell a background dial's failures otherwise): kind "dialer" or
 * "listener", id its nng id. auth counts failed TLS handshakes (the
 * peer's certificate refused, or ours). 0, or -1 when nng has none.
 */
struct nngx_ep_errors {
	uint64_t auth, refused, disconnect, other;
};
int nngx_ep_errors(const char *kind, int id, struct nngx_ep_errors *);
/* The same for every dialer of a socket, added up. */
int nngx_dial_errors(nng_socket, struct nngx_ep_errors *);

#endif
