/*
 * dispatcher_clnt.c: the dispatcher's ctl requests.
 */
#include "dispatcher_clnt.h"

int
dispatcher_clnt_health(struct clnt *c, bool live, struct clnt_result *r,
                       struct wire_health *out)
{
	return clnt_health(c, live, r, out);
}

int
dispatcher_clnt_dispatch(struct clnt *c, const char *id, struct clnt_result *r,
                         struct wire_write_reply *out)
{
	struct wire_request rq = {.t = "dispatch", .id = (char *)id};
	char werr[WIRE_ERR_LEN];

	if (clnt_rpc(c, &rq, r) == CLNT_OK && out != NULL &&
	    wire_decode_write_reply(r->reply.data, r->reply.len, r->a, out,
	                            werr) == -1)
		return clnt_bad_reply(r, werr);
	return r->status;
}
