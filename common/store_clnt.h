/*
 * store_clnt.h: the store's API (SPEC §5) as functions. Each encodes its
 * request, calls store.ctl through a clnt handle and decodes the reply
 * into r (status, the server's code and message, the raw reply) and the
 * typed out-params, which live in r->a. Every out-param may be NULL: then
 * only the status is read. Returns r->status (enum clnt_status).
 */
#ifndef RECON_STORE_CLNT_H
#define RECON_STORE_CLNT_H

#include "clnt.h"

/* containers.list filters; NULL: any. */
struct store_filter {
	const char *workload_id, *state, *host;
};

int store_clnt_health(struct clnt *, bool live, struct clnt_result *r,
                      struct wire_health *out);
int store_clnt_containers_list(struct clnt *, const struct store_filter *,
                               struct clnt_result *r,
                               struct wire_rows_reply *out);
int store_clnt_container_get(struct clnt *, const char *id,
                             struct clnt_result *r, struct wire_row_reply *out);
int store_clnt_container_put(struct clnt *, const struct wire_row *,
                             struct clnt_result *r,
                             struct wire_write_reply *out);
int store_clnt_container_delete(struct clnt *, const char *id,
                                struct clnt_result *r,
                                struct wire_write_reply *out);
int store_clnt_workloads_list(struct clnt *, struct clnt_result *r,
                              struct wire_workloads_reply *out);
/* secrets: ask for the three secrets (a privileged read, SPEC §2). */
int store_clnt_workload_get(struct clnt *, const char *id, bool secrets,
                            struct clnt_result *r,
                            struct wire_workload_reply *out);
int store_clnt_workload_put(struct clnt *, const struct wire_workload *,
                            struct clnt_result *r,
                            struct wire_write_reply *out);
int store_clnt_workload_delete(struct clnt *, const char *id,
                               struct clnt_result *r,
                               struct wire_write_reply *out);
/*
 * The change log after rev, at most limit bodies, optionally one
 * workload's. *head is the store's head revision; each span is one event
 * body inside r->reply (decode it with wire_decode_event). Refusals with
 * code "compacted" or "ahead" mean: list again.
 */
int store_clnt_events_since(struct clnt *, uint64_t rev, uint64_t limit,
                            const char *workload_id, struct clnt_result *r,
                            uint64_t *head, struct wire_span **events,
                            size_t *nevents);
int store_clnt_stats(struct clnt *, struct clnt_result *r,
                     struct wire_stats_reply *out);
/* A manual dispatch of workload id: out->rev and out->job. */
int store_clnt_dispatch(struct clnt *, const char *id, struct clnt_result *r,
                        struct wire_write_reply *out);
/* The lister hosts the store knows (SPEC §10). */
int store_clnt_hosts_list(struct clnt *, struct clnt_result *r,
                          struct wire_hosts_reply *out);
/* Forgets host (a write): its rows missing, out->rev and out->missing;
 * code not_found for a host the store does not know. */
int store_clnt_hosts_forget(struct clnt *, const char *host,
                            struct clnt_result *r,
                            struct wire_write_reply *out);

#endif
