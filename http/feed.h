/*
 * feed.h: the recent events, shared by every event stream of recon-http.
 * One thread follows the store through the subscriber client (sub.h) and
 * keeps the last events, rendered once as Server-Sent Events text, in a
 * ring: a hundred streams cost one subscription and one rendering. A
 * stream that falls off the ring's tail reads the store's log itself
 * (sse.c), so the ring's size bounds memory, not what a stream may miss.
 */
#ifndef RECON_HTTP_FEED_H
#define RECON_HTTP_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

struct feed;

/* What feed_read found besides events. */
enum feed_rc {
	FEED_STOPPED = -1, /* the process is stopping */
	FEED_BEHIND = -2,  /* the ring no longer holds the event after the
	                      cursor: read the store's log */
	FEED_REPLACED = -3 /* the store's history went back below the
	                      cursor (another database): list again */
};

/* keep: events in the ring. NULL when the subscriber cannot be opened. */
struct feed *feed_new(const char *events_url, const char *store_ctl_url,
                      uint64_t keep);
/* Starts the following thread. 0, or -1 logged. */
int feed_start(struct feed *);
/* Ends every wait of feed_read (FEED_STOPPED from now on) and joins the
 * thread: 0, or -1 when it did not end within wait_ms (a store call
 * hangs in it). */
int feed_stop(struct feed *, int64_t wait_ms);
/* After a feed_stop that returned 0 (or none: it stops first). */
void feed_free(struct feed *);

/*
 * Appends to out the text of the events after *cursor that belong to
 * workload wid (NULL: every event), whole events, until out holds budget
 * bytes (at least one event), and moves *cursor past every event it
 * looked at. When there is none it waits up to wait_ms. Returns the
 * number of events appended (0: none came in time), or an enum feed_rc.
 * *epoch is the caller's: 0 at first, kept between calls.
 */
int feed_read(struct feed *, uint64_t *cursor, uint64_t *epoch, const char *wid,
              struct wbuf *out, size_t budget, int64_t wait_ms);

/* Waits ms, or less when the process stops: FEED_STOPPED then, else 0. */
int feed_wait(struct feed *, int64_t ms);

/* The SSE text of one event body (msgpack as the store logged it):
 * "id: REV\nevent: TYPE\ndata: JSON\n\n", JSON the body plus its topic.
 * Its revision in *rev and its workload in wid (WIRE_ID_MAX + 1 bytes, ""
 * for a pass). -1 for a body that does not decode (logged). */
int feed_render(struct wbuf *out, const void *body, size_t len, uint64_t *rev,
                char *wid);

/* For /metrics and /livez. */
struct feed_stats {
	uint64_t head;     /* the newest revision held; 0 before the first */
	uint64_t oldest;   /* the oldest held */
	uint64_t events;   /* events taken in since the start */
	uint64_t restarts; /* subscriptions started again from the head */
	int64_t last_turn; /* mono_ms() when the thread last turned */
	bool following;    /* subscribed to the store now */
};
void feed_stats(struct feed *, struct feed_stats *);

#endif
