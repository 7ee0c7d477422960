/*
 * http.h: what recon-http's request handlers share: the store and the
 * other daemons' ctl clients, the feed of recent events, the counters, and
 * the small verbs that answer a request (JSON, an error, text).
 */
#ifndef RECON_HTTP_H
#define RECON_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "clnt.h"
#include "feed.h"

/* recon-http's counters: reported as its health reply's counters, so
 * /metrics exports them like any process's (common/metrics.c). */
enum http_ctr {
	HC_REQUESTS,     /* HTTP requests answered */
	HC_NOT_FOUND,    /* answered 404 */
	HC_BAD_REQUESTS, /* answered 400 or 405 */
	HC_UNAVAILABLE,  /* answered 503: the store did not answer */
	HC_STREAMS,      /* event streams opened */
	HC_STREAMS_OPEN, /* event streams open now (a gauge) */
	HC_EVENTS_SENT,  /* events written to streams */
	HC_FILLS,        /* reads of the store's log by a stream behind the
	                    ring */
	HC_COMPACTED,    /* streams refused (410) or ended: too far behind */
	HC_KEEPALIVES,   /* keep-alive comments written */
	HC_NCTR
};
extern const char *const http_ctr_names[HC_NCTR];

struct http {
	struct feed *feed;
	struct clnt *store;       /* the API, for every request */
	struct clnt *store_probe; /* health and stats, with a short timeout */
	struct clnt *lister, *dispatcher;
	int64_t keepalive_ms; /* a comment on a quiet stream this often */
	uint64_t max_streams; /* streams at once: --http-clients less a reserve
	                         for probes and JSON requests */
	unsigned stream_timeout_s; /* a stream that takes nothing this long
	                              is closed */
	int64_t started_ms;        /* mono_ms() at start */
	_Atomic uint64_t ctr[HC_NCTR];
};

static inline void
http_count(struct http *h, enum http_ctr c)
{
	atomic_fetch_add_explicit(&h->ctr[c], 1, memory_order_relaxed);
}

/* libmicrohttpd's access handler: every request (routes.c). */
enum MHD_Result http_answer(void *cls, struct MHD_Connection *, const char *url,
                            const char *method, const char *version,
                            const char *upload, size_t *upload_size,
                            void **req);

/* Queues o (taken) as the JSON answer with status; rev > 0 sets
 * X-Recon-Rev. */
enum MHD_Result http_json(struct MHD_Connection *, unsigned status,
                          json_object *o, uint64_t rev);
/* {"error": {"code", "message"}} with status, counted. */
enum MHD_Result http_error(struct http *, struct MHD_Connection *,
                           unsigned status, const char *code, const char *fmt,
                           ...) __attribute__((format(printf, 5, 6)));
/* A failed store call as an answer: 404 for not_found, 503 when the
 * store did not answer, 502 for nonsense. */
enum MHD_Result http_store_failed(struct http *, struct MHD_Connection *,
                                  const struct clnt_result *);
/* Queues body (copied) as the answer with status and Content-Type type,
 * with http_headers' headers. */
enum MHD_Result http_send(struct MHD_Connection *, unsigned status,
                          const char *type, const void *body, size_t len,
                          uint64_t rev);
/* A query argument that names something, in *v: absent or empty is
 * NULL. -1 when it breaks the id pattern. */
int http_query_id(struct MHD_Connection *, const char *name, const char **v);
/* A header's value set on a response, for every answer. */
void http_headers(struct MHD_Response *, uint64_t rev);

/* What answers a path (routes.c's table): id is the path's last segment
 * for the paths that take one, else NULL. */
typedef enum MHD_Result http_handler(struct http *, struct MHD_Connection *,
                                     const char *id);
/* GET /v1/events (sse.c). */
http_handler sse_answer;
/* GET /metrics, /livez, /readyz (probe.c). */
http_handler probe_metrics, probe_livez, probe_readyz;
/* GET /: the status page. */
http_handler http_page_answer;

/* recon-http's counters and its feed's numbers, as a health reply's
 * (names only, values 0, for h NULL). Returns HTTP_NCOUNTERS. */
#define HTTP_NCOUNTERS (HC_NCTR + 4)
size_t probe_counters(struct http *, struct wire_counter *);

/* The status page (status.html, embedded at build time). */
extern const char http_page[];
extern const unsigned long http_page_len;

#endif
