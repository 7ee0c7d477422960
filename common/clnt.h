/*
 * clnt.h: the transport of the ctl sockets (REQ/REP) under the typed
 * clients (store_clnt.h, lister_clnt.h, dispatcher_clnt.h): one request,
 * one reply, bounded by a timeout, never resent. Callers use the typed
 * functions, never the wire.
 */
#ifndef RECON_CLNT_H
#define RECON_CLNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "wire.h"

/* What became of a call. The values double as reconctl's exit codes for
 * the first three. */
enum clnt_status {
	CLNT_OK = 0,          /* the server answered (typed calls: ok:true) */
	CLNT_REFUSED = 1,     /* the server answered ok:false: code, message */
	CLNT_UNREACHABLE = 2, /* no socket, permission denied, or no reply in
	                       * time: err says which */
	CLNT_BADREPLY = 3,    /* a reply came that does not decode: err */
};

/*
 * The outcome of a typed call. Zero it before the first call and
 * clnt_result_free it after the last; a call resets it. The raw reply
 * stays available (reconctl prints it as JSON), typed out-params live in
 * the arena until the next call or clnt_result_free.
 */
struct clnt_result {
	int status;          /* enum clnt_status */
	struct wbuf reply;   /* the reply's bytes when one arrived */
	const char *code;    /* CLNT_REFUSED: the server's error code */
	const char *message; /* CLNT_REFUSED: its message */
	char err[256];       /* why, for every status but CLNT_OK */
	struct arena *a;
};
void clnt_result_free(struct clnt_result *);

/*
 * A client handle: the address and the timeout of each call. A handle
 * from clnt_new opens a fresh socket per call (reconctl, tools). One from
 * clnt_dial keeps one REQ socket dialled in the background (nng redials by
 * itself) and gives each call a context of its own, so that any number of
 * threads may call through it at once; notify(arg), if set, runs on one
 * of nng's threads whenever a connection comes or goes (see
 * clnt_connected). clnt_dial is NULL when the url cannot be dialled (err
 * says why).
 */
struct clnt;
struct clnt *clnt_new(const char *url, int64_t timeout_ms);
struct clnt *clnt_dial(const char *url, int64_t timeout_ms,
                       void (*notify)(void *), void *arg, char *err,
                       size_t errlen);
/* clnt_dial with the TLS of tls+tcp:// urls (NULL: the process's,
 * nngx_tls_set_default); tls must outlive the handle. */
struct nngx_tls;
struct clnt *clnt_dial_tls(const char *url, const struct nngx_tls *tls,
                           int64_t timeout_ms, void (*notify)(void *),
                           void *arg, char *err, size_t errlen);
/* Dialled handles: connections up now (0 when none). */
int clnt_connected(const struct clnt *);
void clnt_set_timeout(struct clnt *, int64_t timeout_ms);
const char *clnt_url(const struct clnt *);
/* Ends the calls under way at once (they fail) and refuses new ones; the
 * handle stays allocated for the callers still inside it. */
void clnt_shutdown(struct clnt *);
/* Frees the handle; no call may be under way. */
void clnt_free(struct clnt *);

/*
 * The transport: sends req and waits for one reply, appended to reply
 * (reset first). CLNT_OK when a reply arrived, whatever it says, or
 * CLNT_UNREACHABLE with err set. An ipc socket that does not exist, or
 * that we may not open (its mode, or a run dir that is not ours), fails at
 * once ("no such socket", "permission denied"): never a wait for the
 * timeout, never a probing connect.
 */
int clnt_request(struct clnt *, const struct wbuf *req, struct wbuf *reply,
                 char *err, size_t errlen);
/*
 * For the typed clients: encodes rq, calls, reads the reply's status into
 * r. Returns r->status; on CLNT_OK the caller decodes its payload from
 * r->reply into r->a and reports a failure with clnt_bad_reply.
 */
int clnt_rpc(struct clnt *, const struct wire_request *rq,
             struct clnt_result *r);
int clnt_bad_reply(struct clnt_result *r, const char *werr);

/* health, the one request every process answers (SPEC §7); live asks
 * only whether the loop turns. out may be NULL. */
int clnt_health(struct clnt *, bool live, struct clnt_result *,
                struct wire_health *out);

#endif
