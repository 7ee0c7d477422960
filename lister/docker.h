/*
 * docker.h: the lister's only HTTP client of the Docker Engine API (libcurl
 * over a unix socket or tcp), with API version negotiation, a timeout and a
 * size cap on every call, the /events stream, and cancellation from another
 * thread.
 */
#ifndef RECON_DOCKER_H
#define RECON_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOCKER_API_MAX  "1.47"       /* newest API version we speak */
#define DOCKER_BODY_MAX (256u << 20) /* default response size cap */
#define DOCKER_ERR_LEN  256
#define DOCKER_VER_LEN  16
#define DOCKER_IDS_MAX  32 /* ids in one docker_list_ids call */

/* One per thread: a curl handle (connections are reused), the negotiated
 * version and the response buffer of the last call. */
struct docker;

/*
 * Splits DOCKER_HOST: "unix:///path" gives the socket path and base URL
 * "http://docker"; "tcp://host:port" gives "http://host:port". 0, or -1
 * with a reason in err.
 */
int docker_host_parse(const char *host, char *sock, size_t socklen, char *base,
                      size_t baselen, char *err, size_t errlen);

/*
 * The version to speak given the daemon's ApiVersion and MinAPIVersion
 * (empty: unknown, taken as 0): min(api, DOCKER_API_MAX), raised to
 * min_api when below it. 0, or -1 when a version is not "N.N".
 */
int docker_pick_version(const char *api, const char *min_api, char *out,
                        size_t outlen);

/* NULL on a bad host (logged). timeout_ms bounds each call in full;
 * max_body caps a response (bigger is a failure). */
struct docker *docker_new(const char *host, int64_t timeout_ms,
                          size_t max_body);
void docker_free(struct docker *);

/* Makes every call in progress or to come fail at once. Safe from any
 * thread; used on shutdown. */
void docker_cancel(struct docker *);

/* Bytes held for response bodies: the last body's buffer while it may be
 * read, at most a small reserve after a failed call or once the next call
 * starts. */
size_t docker_held(const struct docker *);

/* GET /version and choose the API version (docker_pick_version); later
 * calls use /v<version>/... 0, or -1 with a reason in err. */
int docker_negotiate(struct docker *, char *err, size_t errlen);
/* The negotiated version, "" before negotiation or after a failure. */
const char *docker_version(const struct docker *);

/*
 * GET /v<version><path> (path starts with '/', query included),
 * negotiating first when needed. Any failure (transport, timeout, status
 * other than 200, oversize body) forgets the version so the next call
 * negotiates again: the daemon may have been restarted or upgraded.
 * On 0, *body and *len hold the response until the next call.
 */
int docker_get(struct docker *, const char *path, const char **body,
               size_t *len, char *err, size_t errlen);

/*
 * GET /containers/json?all=1 with a label filter on <prefix>workload.id
 * (R1). Same contract as docker_get.
 */
int docker_list(struct docker *, const char *prefix, const char **body,
                size_t *len, char *err, size_t errlen);

/* Whether id can go into an id filter: lowercase hex, 1 to 128 long
 * (Docker takes filter ids as regular expressions). */
bool docker_id_ok(const char *id);

/*
 * The same list narrowed to the given containers: a label and an id
 * filter (Docker ORs the ids), so an event's re-read costs one call for up
 * to DOCKER_IDS_MAX containers. Every id must pass docker_id_ok. Same
 * contract as docker_get.
 */
int docker_list_ids(struct docker *, const char *prefix, char *const *ids,
                    size_t nids, const char **body, size_t *len, char *err,
                    size_t errlen);

/*
 * The labelled list cut to one container (limit=1): the heartbeat that
 * proves the list path of the daemon answers while nothing else is due.
 */
int docker_list_probe(struct docker *, const char *prefix, const char **body,
                      size_t *len, char *err, size_t errlen);

/* The process behind a unix socket, from SO_PEERCRED and /proc: pid 0 when
 * unknown (tcp, another pid namespace). A restart changes pid or start. */
struct docker_peer {
	long pid;
	unsigned long long start; /* /proc/<pid>/stat starttime, clock ticks */
};

/* What docker_stream calls back, on the thread that called it. */
struct docker_stream_ops {
	/* The daemon answered 200: the subscription is live. */
	void (*open)(void *arg, const struct docker_peer *);
	/* Body bytes as they arrive; -1 aborts the stream. */
	int (*data)(void *arg, const char *buf, size_t len);
};

/*
 * GET /v<version>/events?filters={"type":["container"],"label":[
 * "<prefix>workload.id"]}, negotiating first when needed, and feeds the
 * body to ops as it arrives. The response must start within the timeout;
 * after that the stream has no time limit (a quiet daemon is normal).
 * Docker first replays from its ring (its last 256 events, before the
 * filter) every event at or after since_ns, daemon time in ns since the
 * epoch; since_ns <= 0 asks from one second before now (see docker.c).
 * Returns when it ends: 0 when the daemon closed it cleanly, -1 with a
 * reason in err on any error (transport, status, a reader's abort,
 * cancellation). Either way the caller reconnects.
 */
int docker_stream(struct docker *, const char *prefix, int64_t since_ns,
                  const struct docker_stream_ops *, void *arg, char *err,
                  size_t errlen);

#endif
