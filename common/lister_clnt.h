/*
 * lister_clnt.h: the lister's ctl socket (SPEC §7) as functions: health
 * and resync. Same shape as store_clnt.h.
 */
#ifndef RECON_LISTER_CLNT_H
#define RECON_LISTER_CLNT_H

#include "clnt.h"

int lister_clnt_health(struct clnt *, bool live, struct clnt_result *r,
                       struct wire_health *out);
/* Asks for a full pass now. */
int lister_clnt_resync(struct clnt *, struct clnt_result *r);

#endif
