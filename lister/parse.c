/*
 * parse.c: Docker's JSON into wire records. A list body is scanned in
 * place (listscan.c) under a depth limit; anything short of one complete,
 * well-typed array fails the list, so a bad read can never sweep rows
 * (R8). The events stream is tokenised as it arrives, one object per event.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "listscan.h"
#include "log.h"
#include "parse.h"
#include "util.h"

json_object *
parse_json(const char *body, size_t len, char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT32_MAX) {
		snprintf(err, errlen, "body of %zu bytes is too large", len);
		return NULL;
	}
	if ((tok = json_tokener_new_ex(PARSE_DEPTH_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue ||
	    (obj == NULL && jerr == json_tokener_success)) {
		snprintf(err, errlen, "truncated JSON (%zu bytes)", len);
		return NULL;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "bad JSON at byte %zu: %s", end,
		         json_tokener_error_desc(jerr));
		json_object_put(obj);
		return NULL;
	}
	while (end < len && isspace((unsigned char)body[end]))
		end++;
	if (end != len) {
		snprintf(err, errlen, "trailing bytes after JSON at byte %zu",
		         end);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* The member key of o if it has the given type, else NULL. */
static json_object *
member(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* A tree of every object cost ten times the fetch; the scanner keeps
 * only what a record needs. */
int
parse_list(const char *body, size_t len, const char *prefix, struct arena *a,
           struct parse_result *res, char *err, size_t errlen)
{
	return listscan(body, len, prefix, a, res, err, errlen);
}

/* A version member (its form is checked by the caller); missing is ""
 * when optional. */
static int
version_member(json_object *o, const char *key, bool optional, char *out,
               size_t outlen, char *err, size_t errlen)
{
	json_object *v = member(o, key, json_type_string);

	if (v == NULL) {
		if (optional && !json_object_object_get_ex(o, key, NULL)) {
			snprintf(out, outlen, "%s", "");
			return 0;
		}
		snprintf(err, errlen, "/version lacks a string %s", key);
		return -1;
	}
	if ((size_t)json_object_get_string_len(v) >= outlen) {
		snprintf(err, errlen, "/version has an over-long %s", key);
		return -1;
	}
	snprintf(out, outlen, "%s", json_object_get_string(v));
	return 0;
}

int
parse_version(const char *body, size_t len, char *api, size_t apilen,
              char *min_api, size_t minlen, char *err, size_t errlen)
{
	json_object *o;
	int rc = -1;

	if ((o = parse_json(body, len, err, errlen)) == NULL)
		return -1;
	if (!json_object_is_type(o, json_type_object))
		snprintf(err, errlen, "/version is not a JSON object");
	else if (version_member(o, "ApiVersion", false, api, apilen, err,
	                        errlen) == 0 &&
	         version_member(o, "MinAPIVersion", true, min_api, minlen, err,
	                        errlen) == 0)
		rc = 0;
	json_object_put(o);
	return rc;
}

void
parse_error_message(const char *body, size_t len, char *msg, size_t msglen)
{
	json_object *o, *m = NULL;
	char tmp[WIRE_ERR_LEN];
	const char *src = body;
	size_t i, n = len;

	if (msglen == 0)
		return;
	o = parse_json(body, len, tmp, sizeof(tmp));
	if (o != NULL && json_object_is_type(o, json_type_object))
		m = member(o, "message", json_type_string);
	if (m != NULL) {
		src = json_object_get_string(m);
		n = (size_t)json_object_get_string_len(m);
	}
	/* It goes into one log line: keep it printable. */
	if (n > msglen - 1)
		n = msglen - 1;
	for (i = 0; i < n; i++)
		msg[i] = isprint((unsigned char)src[i]) ? src[i] : ' ';
	msg[n] = '\0';
	while (n > 0 && msg[n - 1] == ' ')
		msg[--n] = '\0';
	json_object_put(o);
}

/*
 * The container actions Docker reports (docs: "docker events"), and what
 * each asks of the lister. An action not listed here is taken as a hint
 * to re-read: a new Docker may add state changes, and a wasted read costs
 * less than a missed change.
 */
static const struct {
	const char *action;
	enum parse_ev_kind kind;
	enum parse_expect expect;
	enum parse_sets sets;
} ev_actions[] = {
    {"destroy", PARSE_EV_GONE, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"die", PARSE_EV_REREAD, PARSE_EXPECT_STOPPED, PARSE_SETS_EXITED},
    {"stop", PARSE_EV_REREAD, PARSE_EXPECT_STOPPED, PARSE_SETS_EXITED},
    {"pause", PARSE_EV_REREAD, PARSE_EXPECT_PAUSED, PARSE_SETS_PAUSED},
    {"unpause", PARSE_EV_REREAD, PARSE_EXPECT_UNPAUSED, PARSE_SETS_RUNNING},
    {"start", PARSE_EV_REREAD, PARSE_EXPECT_STARTED, PARSE_SETS_RUNNING},
    {"restart", PARSE_EV_REREAD, PARSE_EXPECT_STARTED, PARSE_SETS_RUNNING},
    /*
     * No change to what the index keeps (state, image, labels, ports).
     * kill only sends a signal: if the container dies, "die" follows, and
     * a re-read between the two would read it still running.
     */
    {"kill", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"attach", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"detach", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"resize", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"top", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"copy", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"archive-path", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"extract-to-dir", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"export", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"commit", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"health_status", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"exec_create", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"exec_start", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"exec_die", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"exec_detach", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
    {"prune", PARSE_EV_IGNORED, PARSE_EXPECT_ANY, PARSE_SETS_NONE},
};

struct parse_events {
	json_tokener *tok;
	char key[WIRE_LABEL_MAX + 1]; /* <prefix>workload.id */
	size_t partial;               /* bytes of the event being read */
	bool broken;
	/* The event's structure as its bytes go by, to find the end of one
	 * too long to read: depth of [ and {, inside a string, after a
	 * backslash in one. */
	long depth;
	bool in_str, esc;
	bool skipping; /* past PARSE_EVENT_MAX: read to its end, unparsed */
};

static enum parse_ev_kind
action_kind(const char *action, enum parse_expect *expect,
            enum parse_sets *sets)
{
	size_t i;

	*expect = PARSE_EXPECT_ANY;
	*sets = PARSE_SETS_NONE;
	for (i = 0; i < sizeof(ev_actions) / sizeof(ev_actions[0]); i++)
		if (strcmp(action, ev_actions[i].action) == 0) {
			*expect = ev_actions[i].expect;
			*sets = ev_actions[i].sets;
			return ev_actions[i].kind;
		}
	return PARSE_EV_REREAD;
}

const char *
parse_sets_state(enum parse_sets s)
{
	switch (s) {
	case PARSE_SETS_RUNNING:
		return "running";
	case PARSE_SETS_EXITED:
		return "exited";
	case PARSE_SETS_PAUSED:
		return "paused";
	case PARSE_SETS_NONE:
		break;
	}
	return "";
}

bool
parse_state_fits(enum parse_expect e, const char *state)
{
	switch (e) {
	case PARSE_EXPECT_STOPPED:
		return strcmp(state, "running") != 0 &&
		       strcmp(state, "paused") != 0;
	case PARSE_EXPECT_PAUSED:
		return strcmp(state, "running") != 0;
	case PARSE_EXPECT_UNPAUSED:
		return strcmp(state, "paused") != 0;
	case PARSE_EXPECT_STARTED:
		/* A container that exits at once says so with a later die. */
		return strcmp(state, "created") != 0 &&
		       strcmp(state, "exited") != 0 &&
		       strcmp(state, "dead") != 0;
	case PARSE_EXPECT_ANY:
		break;
	}
	return true;
}

/* Docker's container ids: lowercase hex, as its filters take them. */
static bool
hex_fits(json_object *s)
{
	const char *p = json_object_get_string(s);
	size_t n = (size_t)json_object_get_string_len(s), i;

	if (n == 0 || n > WIRE_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static void
event_decode(json_object *o, const char *key, struct parse_event *ev)
{
	json_object *type, *action, *actor, *id = NULL, *attrs = NULL, *wid,
	                                    *tn;
	const char *a;
	size_t n;

	memset(ev, 0, sizeof(*ev));
	ev->kind = PARSE_EV_BAD;
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		ev->why = "not a JSON object";
		return;
	}
	type = member(o, "Type", json_type_string);
	action = member(o, "Action", json_type_string);
	if (type == NULL || action == NULL) {
		ev->why = "no string Type or Action";
		return;
	}
	a = json_object_get_string(action);
	n = strcspn(a, ":");
	if (n >= sizeof(ev->action))
		n = sizeof(ev->action) - 1;
	memcpy(ev->action, a, n);
	ev->action[n] = '\0';
	if (strcmp(json_object_get_string(type), "container") != 0) {
		ev->kind = PARSE_EV_IGNORED;
		return;
	}
	if ((ev->kind = action_kind(ev->action, &ev->expect, &ev->sets)) ==
	    PARSE_EV_IGNORED)
		return;
	if ((actor = member(o, "Actor", json_type_object)) != NULL) {
		id = member(actor, "ID", json_type_string);
		attrs = member(actor, "Attributes", json_type_object);
	}
	if (id == NULL)
		id = member(o, "id", json_type_string);
	if (id == NULL || !hex_fits(id)) {
		ev->kind = PARSE_EV_BAD;
		ev->why = "no container id, or not a hex one";
		return;
	}
	memcpy(ev->id, json_object_get_string(id),
	       (size_t)json_object_get_string_len(id));
	if (attrs != NULL && (wid = member(attrs, key, json_type_string)) &&
	    id_valid(json_object_get_string(wid)))
		snprintf(ev->wid, sizeof(ev->wid), "%s",
		         json_object_get_string(wid));
	if ((tn = member(o, "timeNano", json_type_int)) != NULL)
		ev->time_ns = json_object_get_int64(tn);
}

struct parse_events *
parse_events_new(const char *prefix)
{
	struct parse_events *pe;

	pe = xcalloc(1, sizeof(*pe));
	if ((pe->tok = json_tokener_new_ex(PARSE_EVENT_DEPTH)) == NULL) {
		free(pe);
		return NULL;
	}
	/* Strict JSON, but another event may follow in the same buffer. */
	json_tokener_set_flags(pe->tok, JSON_TOKENER_STRICT |
	                                    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	snprintf(pe->key, sizeof(pe->key), "%sworkload.id", prefix);
	return pe;
}

void
parse_events_free(struct parse_events *pe)
{
	if (pe == NULL)
		return;
	json_tokener_free(pe->tok);
	free(pe);
}

size_t
parse_events_partial(const struct parse_events *pe)
{
	return pe->partial;
}

/*
 * Follows the structure of the event being read over n bytes: the bytes
 * up to and including its end (*end set), or n when it goes on. Only
 * ever fed bytes the tokener accepted, or those after them while
 * skipping, so strings and nesting are told apart right.
 */
static size_t
event_scan(struct parse_events *pe, const unsigned char *p, size_t n, bool *end)
{
	size_t i;

	*end = false;
	for (i = 0; i < n; i++) {
		if (pe->in_str) {
			if (pe->esc)
				pe->esc = false;
			else if (p[i] == '\\')
				pe->esc = true;
			else if (p[i] == '"') {
				pe->in_str = false;
				if (pe->depth == 0)
					break;
			}
		} else if (p[i] == '"')
			pe->in_str = true;
		else if (p[i] == '{' || p[i] == '[')
			pe->depth++;
		else if ((p[i] == '}' || p[i] == ']') && --pe->depth <= 0)
			break;
	}
	if (i == n)
		return n;
	*end = true;
	return i + 1;
}

/* The next event starts from scratch. */
static void
event_reset(struct parse_events *pe)
{
	pe->partial = 0;
	pe->depth = 0;
	pe->in_str = pe->esc = pe->skipping = false;
}

/* Reads on through an event too long to read, to its end. */
static int
event_skip(struct parse_events *pe, const char *buf, size_t len, size_t *off,
           void (*fn)(void *arg, const struct parse_event *), void *arg,
           char *err, size_t errlen)
{
	struct parse_event ev;
	size_t used;
	bool end;

	used =
	    event_scan(pe, (const unsigned char *)buf + *off, len - *off, &end);
	*off += used;
	pe->partial += used;
	if (pe->partial > PARSE_EVENT_SKIP_MAX) {
		pe->broken = true;
		snprintf(err, errlen, "an event longer than %u bytes",
		         PARSE_EVENT_SKIP_MAX);
		return -1;
	}
	if (!end)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.kind = PARSE_EV_LOST;
	ev.why = "an event longer than 1 MiB (PARSE_EVENT_MAX), skipped "
	         "unread";
	event_reset(pe);
	fn(arg, &ev);
	return 0;
}

int
parse_events_feed(struct parse_events *pe, const char *buf, size_t len,
                  void (*fn)(void *arg, const struct parse_event *), void *arg,
                  char *err, size_t errlen)
{
	struct parse_event ev;
	enum json_tokener_error jerr;
	json_object *o;
	size_t off = 0, chunk, used;
	bool end;

	if (pe->broken) {
		snprintf(err, errlen, "event stream already broken");
		return -1;
	}
	while (off < len) {
		if (pe->skipping) {
			if (event_skip(pe, buf, len, &off, fn, arg, err,
			               errlen) == -1)
				return -1;
			continue;
		}
		/* Between events: skip the newlines Docker puts after each. */
		if (pe->partial == 0) {
			while (off < len && isspace((unsigned char)buf[off]))
				off++;
			if (off == len)
				break;
			/* a number or literal has no end of its own: where
			 * the bytes are cut would decide how it reads */
			if (buf[off] != '{' && buf[off] != '[' &&
			    buf[off] != '"') {
				pe->broken = true;
				snprintf(err, errlen,
				         "bad JSON in the event stream: %s "
				         "where an event should start",
				         isdigit((unsigned char)buf[off]) ||
				                 buf[off] == '-'
				             ? "a bare number"
				             : "a byte that starts no object");
				return -1;
			}
		}
		/* The tokener sees at most PARSE_EVENT_MAX bytes of an event
		 * however the stream is cut, so it reads the same. */
		chunk = len - off;
		if (chunk > PARSE_EVENT_MAX - pe->partial)
			chunk = PARSE_EVENT_MAX - pe->partial;
		o = json_tokener_parse_ex(pe->tok, buf + off, (int)chunk);
		jerr = json_tokener_get_error(pe->tok);
		used = json_tokener_get_parse_end(pe->tok);
		if (jerr == json_tokener_continue) {
			used = chunk; /* all of it is held in the tokener */
		} else if (jerr != json_tokener_success) {
			pe->broken = true;
			snprintf(err, errlen,
			         "bad JSON in the event stream, %zu bytes into "
			         "an event: %s",
			         pe->partial + used,
			         json_tokener_error_desc(jerr));
			return -1;
		}
		event_scan(pe, (const unsigned char *)buf + off, used, &end);
		pe->partial += used;
		off += used;
		if (jerr == json_tokener_continue) {
			if (pe->partial >= PARSE_EVENT_MAX) {
				/* too long to read: its end is looked for */
				json_tokener_reset(pe->tok);
				pe->skipping = true;
			}
			continue;
		}
		event_reset(pe);
		event_decode(o, pe->key, &ev);
		json_object_put(o);
		fn(arg, &ev);
	}
	return 0;
}
