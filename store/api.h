/*
 * api.h: the store.ctl request table (SPEC §5): reads in one LMDB read
 * transaction, admin writes validated and committed with their events.
 */
#ifndef RECON_API_H
#define RECON_API_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "wire.h"

#define API_EVENTS_LIMIT     1000  /* events.since without a limit */
#define API_EVENTS_LIMIT_MAX 10000 /* and the most it returns */

/*
 * Answers one request (the msgpack body of a store.ctl message). peer_uid
 * is the sender's uid over ipc, -1 when not known (tcp). reply is reset
 * and always receives a whole reply, ok or not. Returns 0, or -1 when not
 * even an error reply could be encoded (a programming error).
 */
int api_handle(struct store *, const void *req, size_t len, int64_t peer_uid,
               struct wbuf *reply);

/* The checks of SPEC §5; NULL when valid, else "field: reason". */
const char *api_check_workload(const struct wire_workload *);

#endif
