/*
 * parse.h: Docker's JSON (container list, /version, error bodies, the
 * /events stream) into the wire's records, with json-c under a depth limit.
 * A list is all or nothing (R8): any syntax error, truncation or malformed
 * element fails it. Events are read incrementally, a half-read one kept.
 */
#ifndef RECON_PARSE_H
#define RECON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "arena.h"
#include "wire.h"

/* Docker's list nests about six levels deep (NetworkSettings.Networks...). */
#define PARSE_DEPTH_MAX 32
/* An event nests three deep (Actor.Attributes); its labels make it big. */
#define PARSE_EVENT_DEPTH 8
#define PARSE_EVENT_MAX   (1u << 20)
/* A longer event is skipped (PARSE_EV_LOST) up to this length; past it
 * the stream is broken. */
#define PARSE_EVENT_SKIP_MAX (64u << 20)

struct parse_result {
	struct wire_container *containers;
	size_t ncontainers;
	size_t skipped;    /* unrepresentable on the wire: over-long, NUL,
	                      not UTF-8 */
	size_t unlabelled; /* lacked <prefix>workload.id despite the filter */
	/* R8: the Docker ids of the skipped containers, whose rows must not
	 * be swept; skipped_unnamed when one had no usable id at all */
	char **skipped_ids;
	size_t nskipped_ids;
	bool skipped_unnamed;
};

/*
 * Parses a /containers/json body. Each element needs Id, Image, State
 * (strings), Created (integer), Labels (object of strings, or null) and
 * Ports (array of {PrivatePort, PublicPort?, Type}, or null); a wrong type
 * fails the whole list. Only labels starting with prefix are kept; ports
 * are the PublicPorts in Docker's order. A container whose id is longer
 * than WIRE_ID_MAX, or whose image, state or kept labels are longer than
 * WIRE_LABEL_MAX, hold a NUL or are not UTF-8, is skipped and counted: a
 * label anyone can set must not stop the whole host from being
 * reconciled. Its Docker id is kept in skipped_ids, so that its row is not
 * swept as if the container were gone (R8).
 * 0 with *res filled from the arena, or -1 with a reason in err.
 */
int parse_list(const char *body, size_t len, const char *prefix, struct arena *,
               struct parse_result *res, char *err, size_t errlen);

/* ApiVersion and MinAPIVersion of a /version body (min_api "" when the
 * daemon does not say). 0, or -1 with a reason in err. */
int parse_version(const char *body, size_t len, char *api, size_t apilen,
                  char *min_api, size_t minlen, char *err, size_t errlen);

/* Docker's error body {"message": "..."} into msg; falls back to the first
 * bytes of the body, made printable. Never fails. */
void parse_error_message(const char *body, size_t len, char *msg,
                         size_t msglen);

/* What an event asks of the lister (parse.c's action table decides). */
enum parse_ev_kind {
	PARSE_EV_REREAD,  /* the container may have changed: read it again */
	PARSE_EV_GONE,    /* destroy: the container no longer exists */
	PARSE_EV_IGNORED, /* exec_*, attach, another object type, ... */
	PARSE_EV_BAD,     /* well-formed JSON, not an event of ours */
	PARSE_EV_LOST,    /* longer than PARSE_EVENT_MAX: skipped unread */
};

/*
 * The state an event implies. Docker logs some events before it writes
 * the container to the view that lists read (die and stop before the exit
 * is checkpointed, pause and unpause too), so a re-read right after one
 * may still show the state before it; the worker reads again when the
 * answer contradicts the event.
 */
enum parse_expect {
	PARSE_EXPECT_ANY,
	PARSE_EXPECT_STOPPED,  /* die, stop: neither running nor paused */
	PARSE_EXPECT_PAUSED,   /* pause: not running */
	PARSE_EXPECT_UNPAUSED, /* unpause: not paused */
	PARSE_EXPECT_STARTED,  /* start, restart: neither created nor exited */
};

/*
 * The state an event defines, which the worker applies at once to a
 * container it knows (SPEC §6's hint, read as: apply what the event says,
 * then re-read to confirm). destroy defines "gone" through PARSE_EV_GONE.
 */
enum parse_sets {
	PARSE_SETS_NONE,
	PARSE_SETS_RUNNING, /* start, restart, unpause */
	PARSE_SETS_EXITED,  /* die, stop */
	PARSE_SETS_PAUSED,  /* pause */
};

/* Docker's state word for a parse_sets ("" for NONE). */
const char *parse_sets_state(enum parse_sets);

struct parse_event {
	enum parse_ev_kind kind;
	enum parse_expect expect;
	enum parse_sets sets;
	char action[32];           /* Docker's Action, cut at ':' */
	char id[WIRE_ID_MAX + 1];  /* Actor.ID, lowercase hex */
	char wid[WIRE_ID_MAX + 1]; /* <prefix>workload.id, "" if none */
	int64_t time_ns;           /* timeNano, 0 if absent */
	const char *why;           /* PARSE_EV_BAD: what was wrong */
};

/*
 * The reader of one /events stream: bytes go in as they arrive, whole
 * events come out. One per connection; after an error it reads nothing
 * more (the caller reconnects with a new one).
 */
struct parse_events;

struct parse_events *parse_events_new(const char *prefix);
void parse_events_free(struct parse_events *);

/*
 * Feeds len bytes; fn gets each event completed by them, in order. An
 * event cut across calls is kept until its end arrives. One longer than
 * PARSE_EVENT_MAX (a container's labels can make it so) is not read: its
 * bytes are skipped to its end and fn gets a PARSE_EV_LOST in its place,
 * so that one such event, which Docker replays on every reconnect, does
 * not break every stream. 0, or -1 with a reason in err when the stream
 * is broken: a syntax error in an event's first PARSE_EVENT_MAX bytes,
 * nesting deeper than PARSE_EVENT_DEPTH, or one event longer than
 * PARSE_EVENT_SKIP_MAX. Events before the break were already passed to
 * fn; nothing of the broken one was.
 */
int parse_events_feed(struct parse_events *, const char *buf, size_t len,
                      void (*fn)(void *arg, const struct parse_event *),
                      void *arg, char *err, size_t errlen);

/* Bytes held of an event begun but not finished. */
size_t parse_events_partial(const struct parse_events *);

/* Whether Docker's state word can follow an event with this expectation
 * (false: the read predates the event). */
bool parse_state_fits(enum parse_expect, const char *state);

/*
 * body tokenised by json-c as one JSON value with nothing but whitespace
 * after it (inspect bodies, and the oracle jscan_test checks the scanner
 * against). NULL with a reason in err.
 */
json_object *parse_json(const char *body, size_t len, char *err, size_t errlen);

#endif
