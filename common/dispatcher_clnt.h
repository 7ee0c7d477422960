/*
 * dispatcher_clnt.h: the dispatcher's ctl socket (SPEC §7) as functions:
 * health and dispatch. Same shape as store_clnt.h.
 */
#ifndef RECON_DISPATCHER_CLNT_H
#define RECON_DISPATCHER_CLNT_H

#include "clnt.h"

int dispatcher_clnt_health(struct clnt *, bool live, struct clnt_result *r,
                           struct wire_health *out);
/* A manual plugin run of workload id (the dispatcher asks the store and
 * forwards its answer): out->rev and out->job (sent | queued). */
int dispatcher_clnt_dispatch(struct clnt *, const char *id,
                             struct clnt_result *r,
                             struct wire_write_reply *out);

#endif
