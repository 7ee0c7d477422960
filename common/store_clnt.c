/*
 * store_clnt.c: one function per request of the store's API; the
 * encoding and the reply decoders are common/wire.c's.
 */
#include <string.h>

#include "store_clnt.h"

/* Decodes an ok reply with dec when the caller wants the payload. */
#define TYPED(c, rq, r, out, dec)                                              \
	do {                                                                   \
		char werr_[WIRE_ERR_LEN];                                      \
		if (clnt_rpc((c), (rq), (r)) == CLNT_OK && (out) != NULL &&    \
		    dec((r)->reply.data, (r)->reply.len, (r)->a, (out),        \
		        werr_) == -1)                                          \
			return clnt_bad_reply((r), werr_);                     \
		return (r)->status;                                            \
	} while (0)

int
store_clnt_health(struct clnt *c, bool live, struct clnt_result *r,
                  struct wire_health *out)
{
	return clnt_health(c, live, r, out);
}

int
store_clnt_containers_list(struct clnt *c, const struct store_filter *f,
                           struct clnt_result *r, struct wire_rows_reply *out)
{
	struct wire_request rq = {.t = "containers.list"};

	if (f != NULL) {
		rq.workload_id = (char *)f->workload_id;
		rq.state = (char *)f->state;
		rq.host = (char *)f->host;
	}
	TYPED(c, &rq, r, out, wire_decode_rows_reply);
}

int
store_clnt_container_get(struct clnt *c, const char *id, struct clnt_result *r,
                         struct wire_row_reply *out)
{
	struct wire_request rq = {.t = "container.get", .id = (char *)id};

	TYPED(c, &rq, r, out, wire_decode_row_reply);
}

int
store_clnt_container_put(struct clnt *c, const struct wire_row *row,
                         struct clnt_result *r, struct wire_write_reply *out)
{
	struct wire_request rq = {.t = "container.put",
	                          .row = (struct wire_row *)row};

	TYPED(c, &rq, r, out, wire_decode_write_reply);
}

int
store_clnt_container_delete(struct clnt *c, const char *id,
                            struct clnt_result *r, struct wire_write_reply *out)
{
	struct wire_request rq = {.t = "container.delete", .id = (char *)id};

	TYPED(c, &rq, r, out, wire_decode_write_reply);
}

int
store_clnt_workloads_list(struct clnt *c, struct clnt_result *r,
                          struct wire_workloads_reply *out)
{
	struct wire_request rq = {.t = "workloads.list"};

	TYPED(c, &rq, r, out, wire_decode_workloads_reply);
}

int
store_clnt_workload_get(struct clnt *c, const char *id, bool secrets,
                        struct clnt_result *r, struct wire_workload_reply *out)
{
	struct wire_request rq = {
	    .t = "workload.get", .id = (char *)id, .secrets = secrets};

	TYPED(c, &rq, r, out, wire_decode_workload_reply);
}

int
store_clnt_workload_put(struct clnt *c, const struct wire_workload *w,
                        struct clnt_result *r, struct wire_write_reply *out)
{
	struct wire_request rq = {.t = "workload.put",
	                          .workload = (struct wire_workload *)w};

	TYPED(c, &rq, r, out, wire_decode_write_reply);
}

int
store_clnt_workload_delete(struct clnt *c, const char *id,
                           struct clnt_result *r, struct wire_write_reply *out)
{
	struct wire_request rq = {.t = "workload.delete", .id = (char *)id};

	TYPED(c, &rq, r, out, wire_decode_write_reply);
}

int
store_clnt_events_since(struct clnt *c, uint64_t rev, uint64_t limit,
                        const char *workload_id, struct clnt_result *r,
                        uint64_t *head, struct wire_span **events,
                        size_t *nevents)
{
	struct wire_request rq = {.t = "events.since",
	                          .rev = rev,
	                          .limit = limit,
	                          .workload_id = (char *)workload_id};
	struct wire_span *sp;
	char werr[WIRE_ERR_LEN];
	uint64_t h;
	size_t n;

	if (clnt_rpc(c, &rq, r) != CLNT_OK)
		return r->status;
	if (wire_decode_events_reply(r->reply.data, r->reply.len, r->a, &h, &sp,
	                             &n, werr) == -1)
		return clnt_bad_reply(r, werr);
	if (head != NULL)
		*head = h;
	if (events != NULL)
		*events = sp;
	if (nevents != NULL)
		*nevents = n;
	return r->status;
}

int
store_clnt_stats(struct clnt *c, struct clnt_result *r,
                 struct wire_stats_reply *out)
{
	struct wire_request rq = {.t = "stats"};

	TYPED(c, &rq, r, out, wire_decode_stats_reply);
}

int
store_clnt_dispatch(struct clnt *c, const char *id, struct clnt_result *r,
                    struct wire_write_reply *out)
{
	struct wire_request rq = {.t = "dispatch", .id = (char *)id};

	TYPED(c, &rq, r, out, wire_decode_write_reply);
}

int
store_clnt_hosts_list(struct clnt *c, struct clnt_result *r,
                      struct wire_hosts_reply *out)
{
	struct wire_request rq = {.t = "hosts.list"};

	TYPED(c, &rq, r, out, wire_decode_hosts_reply);
}

int
store_clnt_hosts_forget(struct clnt *c, const char *host, struct clnt_result *r,
                        struct wire_write_reply *out)
{
	struct wire_request rq = {.t = "hosts.forget", .host = (char *)host};

	TYPED(c, &rq, r, out, wire_decode_write_reply);
}
