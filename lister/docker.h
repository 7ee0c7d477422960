/*
 * docker.h: the lister's only HTTP client of the Docker Engine API (libcurl
 * over a unix socket or tcp), with API version negotiation, a timeout and a
 * size cap on every call, and cancellation from another thread.
 */
#ifndef RECON_DOCKER_H
#define RECON_DOCKER_H

#include <stddef.h>
#include <stdint.h>

#define DOCKER_API_MAX  "1.47"       /* newest API version we speak */
#define DOCKER_BODY_MAX (256u << 20) /* default response size cap */
#define DOCKER_ERR_LEN  256
#define DOCKER_VER_LEN  16

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

#endif
