/*
 * api_impl.h: what the api*.c files share and nothing else includes: the
 * request being answered, the helpers every command uses, and the
 * commands the table in api.c names.
 */
#ifndef RECON_STORE_API_IMPL_H
#define RECON_STORE_API_IMPL_H

#include <stdint.h>

#include "api.h"
#include "ctlsrv.h"
#include "db.h"
#include "store.h"
#include "wire.h"

#define ID_PATTERN "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

/* One request being answered. */
struct api_call {
	struct store *st;
	struct ctlsrv_req *req;
	const struct wire_request *rq;
	struct arena *a;
	struct wbuf *out;
	/* a write body that refuses sets these and returns 1 */
	const char *code;
	char msg[256];
	uint64_t rev;     /* head after a write */
	uint64_t missing; /* hosts.forget: rows it turned missing */
};

/* The request of req, answered for the store arg, in c. */
struct api_call *api_call_of(struct api_call *c, void *arg,
                             struct ctlsrv_req *req);
/* An error reply in place of whatever c's reply held (counted): 0, or
 * -1 when even that could not be encoded. */
int api_reply_error(struct api_call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A transaction body's refusal, answered once the transaction is over:
 * returns 1 for the body to return. */
int api_refuse(struct api_call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The record the request's id names, in a body: 0 found, 1 refused
 * not_found (the body returns it), -1 on a failed read. */
int api_row_named(struct api_call *, struct dbtx *, struct wire_row *);
int api_workload_named(struct api_call *, struct dbtx *,
                       struct wire_workload *);
/* "unable to read the database". */
int api_read_failed(struct api_call *c);
/* Runs a read body that may refuse (returns 1 with c->code set). */
int api_run_read(struct api_call *c, db_txn_fn fn);
/* 0 when the request names an id, else -1 with the error reply. */
int api_need_id(struct api_call *c);

/* api_read.c */
void api_health(void *arg, struct ctlsrv_req *req, bool live,
                struct wire_health *h);
int api_containers_list(void *arg, struct ctlsrv_req *req);
int api_container_get(void *arg, struct ctlsrv_req *req);
int api_workloads_list(void *arg, struct ctlsrv_req *req);
int api_workload_get(void *arg, struct ctlsrv_req *req);
int api_events_since(void *arg, struct ctlsrv_req *req);
int api_stats(void *arg, struct ctlsrv_req *req);
int api_hosts_list(void *arg, struct ctlsrv_req *req);

/* api_write.c */
int api_container_put(void *arg, struct ctlsrv_req *req);
int api_container_delete(void *arg, struct ctlsrv_req *req);
int api_workload_put(void *arg, struct ctlsrv_req *req);
int api_workload_delete(void *arg, struct ctlsrv_req *req);
int api_dispatch(void *arg, struct ctlsrv_req *req);
int api_hosts_forget(void *arg, struct ctlsrv_req *req);

/* api_check.c: NULL when row may be stored by container.put, else
 * "field: reason" (api_check_workload, in api.h, for workloads). */
const char *api_check_row(const struct wire_row *row);

#endif
