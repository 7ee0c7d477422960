/*
 * sse.c: GET /v1/events, the store's events as Server-Sent Events (SPEC
 * §11). A stream starts after a revision (Last-Event-ID, since, the rows
 * of list=1, or the head now) and writes every event after it, once, in
 * order: from the shared ring of recent events (feed.c) while it keeps
 * up, from the store's log (events.since) when it fell off the ring, and
 * `event: compacted` when the log no longer holds what it missed. Each
 * stream has a thread of libmicrohttpd's that may wait here; what it
 * holds is bounded: the text of one buffer's worth of events and, while
 * it reads the log, one events.since reply.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "log.h"
#include "store_clnt.h"
#include "util.h"
#include "wirejson.h"

#define SSE_BLOCK      (32 * 1024) /* bytes libmicrohttpd asks for at most */
#define SSE_FILL_LIMIT 256         /* events per read of the store's log */
#define SSE_RETRY_MS   1000        /* a store that did not answer, again */
/* The kernel's send buffer of a stream (Linux doubles it): a client that
 * does not read holds this much, not megabytes; what it has not taken
 * stays in the store's log. */
#define SSE_SNDBUF (64 * 1024)

struct sse {
	struct http *h;
	uint64_t cursor; /* every event up to it has been written */
	uint64_t epoch;  /* the feed's, for feed_read */
	const char *wid; /* NULL, or the workload followed (wid_buf) */
	char wid_buf[WIRE_ID_MAX + 1];
	struct wbuf out; /* text not yet handed to libmicrohttpd */
	size_t off;
	int64_t last_write; /* mono_ms() */
	bool ended;         /* nothing more after out */

	/* what one store reply still holds: list=1's rows, or events */
	struct clnt_result res;
	struct wire_row *rows;
	size_t nrows, ri;
	bool listing;         /* rows, then the synced line, are due */
	uint64_t list_rev;    /* the revision the rows were read at */
	int64_t list_at;      /* when (ms since the epoch) */
	struct wire_span *ev; /* events from events.since */
	size_t nev, ei;
	uint64_t fill_upto; /* the cursor once they are written */
};

static void
sse_text(struct sse *s, const char *event, uint64_t id, json_object *data)
{
	feed_sse(
	    &s->out, event, id,
	    json_object_to_json_string_ext(
	        data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(data);
}

/* The last thing a stream says: it must list again. */
static void
sse_compacted(struct sse *s, const char *code, const char *message)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "rev", json_object_new_uint64(s->cursor));
	sse_text(s, "compacted", 0, o);
	s->ended = true;
	http_count(s->h, HC_COMPACTED);
}

/* list=1: the rows as container events with op "list" (rev the list's,
 * at when it was read: as `reconctl watch --list` writes them), then the
 * line that says at which revision they were read; as many as budget
 * takes. */
static void
sse_list(struct sse *s, size_t budget)
{
	char topic[WIRE_TOPIC_MAX + 1], *json;
	json_object *o;
	struct wire_event ev = {
	    .type = WIRE_EV_CONTAINER,
	    .rev = s->list_rev,
	    .op = "list",
	    .at = s->list_at,
	};

	while (s->ri < s->nrows && s->out.len < budget) {
		ev.row = &s->rows[s->ri++];
		if (wire_event_topic(topic, sizeof(topic), &ev) == -1 ||
		    (json = wire_event_json_line(&ev, topic)) == NULL) {
			log_warnx("unable to write row %s", ev.row->id);
			continue;
		}
		feed_sse(&s->out, "container", 0, json);
		free(json);
	}
	if (s->ri < s->nrows)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "t", json_object_new_string("synced"));
	json_object_object_add(o, "rev", json_object_new_uint64(s->list_rev));
	sse_text(s, "synced", s->list_rev, o);
	s->listing = false;
	s->cursor = s->list_rev;
	clnt_result_free(&s->res);
	memset(&s->res, 0, sizeof(s->res));
}

/*
 * Reads the store's log after the cursor (the stream is behind the ring,
 * or starts from a revision). 0 with the events kept for sse_events; 1
 * when the stream must list again (compacted is written); -1 when the
 * store did not answer (r->err says why).
 */
static int
sse_fill(struct sse *s)
{
	uint64_t head, last;
	int rc;

	clnt_result_free(&s->res);
	memset(&s->res, 0, sizeof(s->res));
	s->ev = NULL;
	s->nev = s->ei = 0;
	rc = store_clnt_events_since(s->h->store, s->cursor, SSE_FILL_LIMIT,
	                             s->wid, &s->res, &head, &s->ev, &s->nev);
	if (rc == CLNT_REFUSED && (strcmp(s->res.code, "compacted") == 0 ||
	                           strcmp(s->res.code, "ahead") == 0)) {
		sse_compacted(s, s->res.code, s->res.message);
		return 1;
	}
	if (rc != CLNT_OK)
		return -1;
	http_count(s->h, HC_FILLS);
	last = s->cursor;
	if (s->nev > 0 &&
	    wire_peek_rev(s->ev[s->nev - 1].p, s->ev[s->nev - 1].len, &last,
	                  s->res.err) == -1)
		last = s->cursor;
	/* fewer than asked for: the log was read to its head */
	s->fill_upto = s->nev == SSE_FILL_LIMIT ? last
	               : head > last            ? head
	                                        : last;
	/* none (a workload's events are sparse): past them at once, or the
	 * stream would ask again and again */
	if (s->nev == 0 && s->fill_upto > s->cursor)
		s->cursor = s->fill_upto;
	return 0;
}

/* The events of the last fill, as many as budget takes. */
static void
sse_events(struct sse *s, size_t budget)
{
	char wid[WIRE_ID_MAX + 1];
	uint64_t rev;

	while (s->ei < s->nev && s->out.len < budget) {
		if (feed_render(&s->out, s->ev[s->ei].p, s->ev[s->ei].len, &rev,
		                wid) == 0) {
			s->cursor = rev;
			http_count(s->h, HC_EVENTS_SENT);
		}
		s->ei++;
	}
	if (s->ei == s->nev) {
		if (s->fill_upto > s->cursor)
			s->cursor = s->fill_upto;
		clnt_result_free(&s->res);
		memset(&s->res, 0, sizeof(s->res));
		s->ev = NULL;
		s->nev = s->ei = 0;
	}
}

/* Fills s->out with what comes next, waiting for it up to the next
 * keep-alive. -1 when the process stops. */
static int
sse_next(struct sse *s, size_t budget)
{
	int64_t quiet = mono_ms() - s->last_write;
	int r;

	if (s->listing) {
		sse_list(s, budget);
		return 0;
	}
	if (s->ei < s->nev) {
		sse_events(s, budget);
		return 0;
	}
	if (quiet >= s->h->keepalive_ms) {
		wbuf_append(&s->out, ": keep-alive\n\n", 14);
		http_count(s->h, HC_KEEPALIVES);
		return 0;
	}
	r = feed_read(s->h->feed, &s->cursor, &s->epoch, s->wid, &s->out,
	              budget, s->h->keepalive_ms - quiet);
	if (r > 0) {
		atomic_fetch_add_explicit(&s->h->ctr[HC_EVENTS_SENT],
		                          (uint64_t)r, memory_order_relaxed);
		return 0;
	}
	switch (r) {
	case 0:
		return 0;
	case FEED_BEHIND:
		if (sse_fill(s) == -1) {
			log_debug("a stream could not read the store's log: %s",
			          s->res.err);
			if (feed_wait(s->h->feed, SSE_RETRY_MS) == FEED_STOPPED)
				return -1;
		}
		return 0;
	case FEED_REPLACED:
		sse_compacted(s, "ahead",
		              "the store's history was replaced: list again");
		return 0;
	default:
		return -1;
	}
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	size_t n;

	for (;;) {
		if (s->off < s->out.len) {
			n = s->out.len - s->off;
			if (n > max)
				n = max;
			memcpy(buf, s->out.data + s->off, n);
			s->off += n;
			if (s->off == s->out.len) {
				wbuf_reset(&s->out);
				s->off = 0;
			}
			s->last_write = mono_ms();
			return (ssize_t)n;
		}
		if (s->ended || sse_next(s, max) == -1)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
}

static void
sse_free(void *cls)
{
	struct sse *s = cls;

	atomic_fetch_sub_explicit(&s->h->ctr[HC_STREAMS_OPEN], 1,
	                          memory_order_relaxed);
	clnt_result_free(&s->res);
	wbuf_free(&s->out);
	free(s);
}

/* A revision in decimal: the whole string, nothing else. */
static int
parse_rev(const char *v, uint64_t *rev)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*rev = strtoull(v, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/*
 * Where the stream starts, read from the store before the answer, so
 * that a revision the log no longer holds is a 410 and not a stream.
 * Returns MHD_YES with the stream ready, or the error answer queued
 * (*answered).
 */
static enum MHD_Result
sse_begin(struct sse *s, struct MHD_Connection *conn, const char *resume,
          bool list, uint64_t *rev, bool *answered)
{
	struct http *h = s->h;
	struct wire_rows_reply rows;
	struct wire_stats_reply st;
	struct store_filter f = {.workload_id = s->wid};
	uint64_t since;
	int rc;

	*answered = true;
	if (resume != NULL) {
		if (parse_rev(resume, &since) == -1)
			return http_error(h, conn, MHD_HTTP_BAD_REQUEST,
			                  "invalid",
			                  "since or Last-Event-ID: not a "
			                  "revision");
		s->cursor = since;
		if ((rc = sse_fill(s)) == 1) {
			/* the error answer, not a stream */
			wbuf_reset(&s->out);
			s->ended = false;
			return http_error(h, conn, MHD_HTTP_GONE, s->res.code,
			                  "%s", s->res.message);
		}
		if (rc == -1)
			return http_store_failed(h, conn, &s->res);
		*rev = since;
	} else if (list) {
		if (store_clnt_containers_list(h->store, &f, &s->res, &rows) !=
		    CLNT_OK)
			return http_store_failed(h, conn, &s->res);
		s->rows = rows.rows;
		s->nrows = rows.nrows;
		s->listing = true;
		s->list_rev = rows.rev;
		s->list_at = now_ms();
		s->cursor = rows.rev;
		*rev = rows.rev;
	} else {
		if (store_clnt_stats(h->store, &s->res, &st) != CLNT_OK)
			return http_store_failed(h, conn, &s->res);
		s->cursor = st.rev;
		*rev = st.rev;
	}
	*answered = false;
	return MHD_YES;
}

static void
sse_sndbuf(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	int n = SSE_SNDBUF;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL && setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &n,
	                             sizeof(n)) == -1)
		log_warn("unable to bound a stream's send buffer");
}

enum MHD_Result
sse_answer(struct http *h, struct MHD_Connection *conn, const char *id)
{
	struct MHD_Response *rs;
	struct sse *s;
	const char *wid, *since, *last_id, *list;
	enum MHD_Result r;
	uint64_t rev = 0;
	bool answered;

	if (http_query_id(conn, "workload_id", &wid) == -1)
		return http_error(h, conn, MHD_HTTP_BAD_REQUEST, "invalid",
		                  "workload_id: not an id");
	since =
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
	list = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "list");
	last_id =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	if (list != NULL && strcmp(list, "1") != 0 &&
	    strcmp(list, "true") != 0 && strcmp(list, "0") != 0 &&
	    strcmp(list, "false") != 0)
		return http_error(h, conn, MHD_HTTP_BAD_REQUEST, "invalid",
		                  "list: 1 or 0");
	if (list != NULL &&
	    (strcmp(list, "0") == 0 || strcmp(list, "false") == 0))
		list = NULL;
	if (list != NULL && since != NULL && last_id == NULL)
		return http_error(h, conn, MHD_HTTP_BAD_REQUEST, "invalid",
		                  "list and since: one or the other");

	/* the last connections stay for /readyz, /metrics and the JSON */
	if (atomic_load_explicit(&h->ctr[HC_STREAMS_OPEN],
	                         memory_order_relaxed) >= h->max_streams)
		return http_error(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                  "unavailable",
		                  "%llu event streams are open, the most "
		                  "--http-clients leaves room for",
		                  (unsigned long long)h->max_streams);
	s = xcalloc(1, sizeof(*s));
	s->h = h;
	if (wid != NULL) {
		xsnprintf(s->wid_buf, sizeof(s->wid_buf), "%s", wid);
		s->wid = s->wid_buf;
	}
	/* a reconnecting EventSource resumes after what it had, whatever
	 * its URL asked for the first time */
	r = sse_begin(s, conn, last_id != NULL ? last_id : since,
	              last_id == NULL && list != NULL, &rev, &answered);
	if (answered) {
		clnt_result_free(&s->res);
		wbuf_free(&s->out);
		free(s);
		return r;
	}
	/* reconnect after a second, not the default three */
	wbuf_append(&s->out, "retry: 1000\n\n", 13);
	s->last_write = mono_ms();
	rs = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK,
	                                       sse_read, s, sse_free);
	if (rs == NULL) {
		clnt_result_free(&s->res);
		wbuf_free(&s->out);
		free(s);
		return MHD_NO;
	}
	http_count(h, HC_STREAMS);
	http_count(h, HC_STREAMS_OPEN);
	MHD_add_response_header(rs, "Content-Type", "text/event-stream");
	http_headers(rs, rev);
	MHD_add_response_header(rs, "X-Accel-Buffering", "no");
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
	                          h->stream_timeout_s);
	sse_sndbuf(conn);
	r = MHD_queue_response(conn, MHD_HTTP_OK, rs);
	MHD_destroy_response(rs);
	return r;
}
