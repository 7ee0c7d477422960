/*
 * routes.c: recon-http's requests: the table of paths, the read-only
 * resources over the store's API (containers, workloads) as JSON with the
 * wire's field names, and the verbs every handler answers with. Streams
 * are sse.c's, health and metrics probe.c's.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "store_clnt.h"
#include "util.h"
#include "wirejson.h"

const char *const http_ctr_names[HC_NCTR] = {
    [HC_REQUESTS] = "requests",         [HC_NOT_FOUND] = "not_found",
    [HC_BAD_REQUESTS] = "bad_requests", [HC_UNAVAILABLE] = "unavailable",
    [HC_STREAMS] = "streams",           [HC_STREAMS_OPEN] = "streams_open",
    [HC_EVENTS_SENT] = "events_sent",   [HC_FILLS] = "fills",
    [HC_COMPACTED] = "compacted",       [HC_KEEPALIVES] = "keepalives",
};

void
http_headers(struct MHD_Response *rs, uint64_t rev)
{
	char v[24];

	if (rev > 0) {
		xsnprintf(v, sizeof(v), "%" PRIu64, rev);
		MHD_add_response_header(rs, "X-Recon-Rev", v);
	}
	MHD_add_response_header(rs, "Cache-Control", "no-store");
	MHD_add_response_header(rs, "X-Content-Type-Options", "nosniff");
}

enum MHD_Result
http_send(struct MHD_Connection *conn, unsigned status, const char *type,
          const void *body, size_t len, uint64_t rev)
{
	struct MHD_Response *rs;
	enum MHD_Result r;

	rs = MHD_create_response_from_buffer(len, (void *)body,
	                                     MHD_RESPMEM_MUST_COPY);
	if (rs == NULL)
		return MHD_NO;
	MHD_add_response_header(rs, "Content-Type", type);
	http_headers(rs, rev);
	r = MHD_queue_response(conn, status, rs);
	MHD_destroy_response(rs);
	return r;
}

enum MHD_Result
http_json(struct MHD_Connection *conn, unsigned status, json_object *o,
          uint64_t rev)
{
	enum MHD_Result r;
	const char *s;
	size_t len;

	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	r = http_send(conn, status, "application/json", s, len, rev);
	json_object_put(o);
	return r;
}

enum MHD_Result
http_error(struct http *h, struct MHD_Connection *conn, unsigned status,
           const char *code, const char *fmt, ...)
{
	json_object *o = json_object_new_object(),
	            *e = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status == MHD_HTTP_NOT_FOUND)
		http_count(h, HC_NOT_FOUND);
	else if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		http_count(h, HC_UNAVAILABLE);
	else if (status < 500 && status != MHD_HTTP_GONE)
		http_count(h, HC_BAD_REQUESTS);
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	return http_json(conn, status, o, 0);
}

enum MHD_Result
http_store_failed(struct http *h, struct MHD_Connection *conn,
                  const struct clnt_result *r)
{
	switch (r->status) {
	case CLNT_REFUSED:
		if (strcmp(r->code, "not_found") == 0)
			return http_error(h, conn, MHD_HTTP_NOT_FOUND,
			                  "not_found", "%s", r->message);
		return http_error(h, conn, MHD_HTTP_BAD_REQUEST, r->code, "%s",
		                  r->message);
	case CLNT_BADREPLY:
		log_warnx("bad reply from the store: %s", r->err);
		return http_error(h, conn, MHD_HTTP_BAD_GATEWAY, "bad_reply",
		                  "the store answered nonsense: %s", r->err);
	default:
		return http_error(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                  "unavailable", "the store did not answer: %s",
		                  r->err);
	}
}

int
http_query_id(struct MHD_Connection *conn, const char *name, const char **v)
{
	*v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
	if (*v != NULL && **v == '\0')
		*v = NULL;
	return *v == NULL || id_valid(*v) ? 0 : -1;
}

static json_object *
list_json(uint64_t rev, json_object *items)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "rev", json_object_new_uint64(rev));
	json_object_object_add(o, "items", items);
	return o;
}

static enum MHD_Result
route_containers(struct http *h, struct MHD_Connection *conn, const char *id)
{
	struct clnt_result r = {0};
	struct wire_rows_reply rows;
	struct wire_row_reply one;
	struct store_filter f;
	static const char *const args[] = {"workload_id", "state", "host"};
	const char **vals[] = {&f.workload_id, &f.state, &f.host};
	enum MHD_Result res;
	json_object *items;
	size_t i;

	if (id != NULL) {
		if (!id_valid(id))
			return http_error(h, conn, MHD_HTTP_NOT_FOUND,
			                  "not_found",
			                  "no container row %.200s", id);
		if (store_clnt_container_get(h->store, id, &r, &one) == CLNT_OK)
			res = http_json(conn, MHD_HTTP_OK,
			                wire_row_json(&one.row), one.rev);
		else
			res = http_store_failed(h, conn, &r);
		clnt_result_free(&r);
		return res;
	}
	for (i = 0; i < 3; i++)
		if (http_query_id(conn, args[i], vals[i]) == -1)
			return http_error(h, conn, MHD_HTTP_BAD_REQUEST,
			                  "invalid", "%s: not an id", args[i]);
	if (store_clnt_containers_list(h->store, &f, &r, &rows) == CLNT_OK) {
		items = json_object_new_array_ext((int)rows.nrows);
		for (i = 0; i < rows.nrows; i++)
			json_object_array_add(items,
			                      wire_row_json(&rows.rows[i]));
		res = http_json(conn, MHD_HTTP_OK, list_json(rows.rev, items),
		                rows.rev);
	} else {
		res = http_store_failed(h, conn, &r);
	}
	clnt_result_free(&r);
	return res;
}

static enum MHD_Result
route_workloads(struct http *h, struct MHD_Connection *conn, const char *id)
{
	struct clnt_result r = {0};
	struct wire_workloads_reply ws;
	struct wire_workload_reply one;
	enum MHD_Result res;
	json_object *items;
	size_t i;

	/* never a secret: not asked for, and not written if sent */
	if (id != NULL) {
		if (!id_valid(id))
			return http_error(h, conn, MHD_HTTP_NOT_FOUND,
			                  "not_found", "no workload %.200s",
			                  id);
		if (store_clnt_workload_get(h->store, id, false, &r, &one) ==
		    CLNT_OK)
			res = http_json(
			    conn, MHD_HTTP_OK,
			    wire_workload_json(&one.workload, false), one.rev);
		else
			res = http_store_failed(h, conn, &r);
		clnt_result_free(&r);
		return res;
	}
	if (store_clnt_workloads_list(h->store, &r, &ws) == CLNT_OK) {
		items = json_object_new_array_ext((int)ws.nworkloads);
		for (i = 0; i < ws.nworkloads; i++)
			json_object_array_add(
			    items, wire_workload_json(&ws.workloads[i], false));
		res = http_json(conn, MHD_HTTP_OK, list_json(ws.rev, items),
		                ws.rev);
	} else {
		res = http_store_failed(h, conn, &r);
	}
	clnt_result_free(&r);
	return res;
}

enum MHD_Result
http_page_answer(struct http *h, struct MHD_Connection *conn, const char *id)
{
	return http_send(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
	                 http_page, http_page_len, 0);
}

/*
 * The paths. An entry whose path ends in '/' takes one more segment, the
 * id, which it gets as its argument; the others take none (NULL).
 */
struct route {
	const char *path;
	http_handler *fn;
};

static const struct route routes[] = {
    {"/v1/containers", route_containers},
    {"/v1/containers/", route_containers},
    {"/v1/workloads", route_workloads},
    {"/v1/workloads/", route_workloads},
    {"/v1/events", sse_answer},
    {"/metrics", probe_metrics},
    {"/livez", probe_livez},
    {"/readyz", probe_readyz},
    {"/", http_page_answer},
};

enum MHD_Result
http_answer(void *cls, struct MHD_Connection *conn, const char *url,
            const char *method, const char *version, const char *upload,
            size_t *upload_size, void **req)
{
	struct http *h = cls;
	const struct route *rt;
	struct MHD_Response *rs;
	enum MHD_Result r;
	size_t n;

	http_count(h, HC_REQUESTS);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		rs = MHD_create_response_from_buffer(0, NULL,
		                                     MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(rs, "Allow", "GET, HEAD");
		http_count(h, HC_BAD_REQUESTS);
		r = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, rs);
		MHD_destroy_response(rs);
		return r;
	}
	for (rt = routes; rt < routes + sizeof(routes) / sizeof(routes[0]);
	     rt++) {
		n = strlen(rt->path);
		if (rt->path[n - 1] == '/' && n > 1) {
			if (strncmp(url, rt->path, n) == 0 && url[n] != '\0' &&
			    strchr(url + n, '/') == NULL)
				return rt->fn(h, conn, url + n);
		} else if (strcmp(url, rt->path) == 0) {
			return rt->fn(h, conn, NULL);
		}
	}
	return http_error(h, conn, MHD_HTTP_NOT_FOUND, "not_found",
	                  "no such resource: %.200s", url);
}
