/*
 * api.h: the store.ctl request table (SPEC §5): reads in one LMDB read
 * transaction, admin writes validated and committed with their events.
 */
#ifndef RECON_API_H
#define RECON_API_H

#include <stddef.h>
#include <stdint.h>

#include "ctlsrv.h"
#include "store.h"
#include "wire.h"

#define API_EVENTS_LIMIT     1000  /* events.since without a limit */
#define API_EVENTS_LIMIT_MAX 10000 /* and the most it returns */

/* The store.ctl server's table, health and trust, around st. */
void api_config(struct store *st, struct ctlsrv_config *cfg);

/*
 * Answers one request (the msgpack body of a store.ctl message) without a
 * socket, as the server would: for tests and benchmarks. peer_uid is the
 * sender's uid, -1 when not known (not ipc). reply is reset and always
 * receives a whole reply, ok or not. Returns 0, or -1 when not even an
 * error reply could be encoded (a programming error).
 */
int api_handle(struct store *, const void *req, size_t len, int64_t peer_uid,
               struct wbuf *reply);

/* The checks of SPEC §5; NULL when valid, else "field: reason". */
const char *api_check_workload(const struct wire_workload *);

#endif
