/*
 * lister_clnt.c: the lister's ctl requests.
 */
#include "lister_clnt.h"

int
lister_clnt_health(struct clnt *c, bool live, struct clnt_result *r,
                   struct wire_health *out)
{
	return clnt_health(c, live, r, out);
}

int
lister_clnt_resync(struct clnt *c, struct clnt_result *r)
{
	struct wire_request rq = {.t = "resync"};

	return clnt_rpc(c, &rq, r);
}
