/*
 * parse_events_test.c: parse.c's reader of Docker's /events stream: a
 * recorded dockerd 20.10 stream fed whole, split at every byte and byte by
 * byte; a table of single events and what each asks of the lister; and
 * the ways a stream breaks (garbage, depth, size), none of which passes
 * on any part of the broken event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

#define PFX "tinyforge."
#define ID1 "f1612bba882a5d5d4e14012a82d66aac92b20bd0c80637ea9d06611f783a9554"
#define ID2 "8dfafdbc3a40a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829ff"

/* As dockerd 20.10 wrote them (docker stop, then docker rm -f of another),
 * labels in Actor.Attributes. */
static const char stream[] =
    "{\"status\":\"kill\",\"id\":\"" ID1 "\",\"from\":\"busybox\","
    "\"Type\":\"container\",\"Action\":\"kill\",\"Actor\":{\"ID\":\"" ID1
    "\",\"Attributes\":{\"tinyforge.role\":\"r\",\"tinyforge.workload.id\":"
    "\"w1\",\"image\":\"busybox\",\"name\":\"x\",\"signal\":\"15\"}},"
    "\"scope\":\"local\",\"time\":1795731304,\"timeNano\":"
    "1795731304227121768}\n"
    "{\"status\":\"die\",\"id\":\"" ID1 "\",\"from\":\"busybox\","
    "\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"" ID1
    "\",\"Attributes\":{\"exitCode\":\"0\",\"tinyforge.workload.id\":"
    "\"w1\",\"image\":\"busybox\",\"name\":\"x\"}},\"scope\":\"local\","
    "\"time\":1795731304,\"timeNano\":1795731304297776772}\n"
    "{\"status\":\"stop\",\"id\":\"" ID1 "\",\"from\":\"busybox\","
    "\"Type\":\"container\",\"Action\":\"stop\",\"Actor\":{\"ID\":\"" ID1
    "\",\"Attributes\":{\"tinyforge.workload.id\":\"w1\"}},"
    "\"scope\":\"local\",\"time\":1795731304,\"timeNano\":"
    "1795731304310782705}\n"
    "{\"status\":\"destroy\",\"id\":\"" ID2 "\",\"from\":\"busybox\","
    "\"Type\":\"container\",\"Action\":\"destroy\",\"Actor\":{\"ID\":\"" ID2
    "\",\"Attributes\":{\"tinyforge.workload.id\":\"w/2\"}},"
    "\"scope\":\"local\",\"time\":1795731305,\"timeNano\":"
    "1795731305000000001}\n";

struct got {
	struct parse_event ev[8];
	size_t n;
};

static void
collect(void *arg, const struct parse_event *ev)
{
	struct got *g = arg;

	assert_true(g->n < 8);
	g->ev[g->n++] = *ev;
}

static void
check_stream(const struct got *g)
{
	assert_int_equal(g->n, 4);
	/* kill only signals: die follows if it worked */
	assert_int_equal(g->ev[0].kind, PARSE_EV_IGNORED);
	assert_string_equal(g->ev[0].action, "kill");
	assert_int_equal(g->ev[1].kind, PARSE_EV_REREAD);
	assert_int_equal(g->ev[1].expect, PARSE_EXPECT_STOPPED);
	assert_string_equal(g->ev[1].id, ID1);
	assert_string_equal(g->ev[1].wid, "w1");
	assert_true(g->ev[1].time_ns == 1795731304297776772LL);
	assert_int_equal(g->ev[2].kind, PARSE_EV_REREAD);
	assert_string_equal(g->ev[2].action, "stop");
	assert_int_equal(g->ev[3].kind, PARSE_EV_GONE);
	assert_string_equal(g->ev[3].id, ID2);
	/* "w/2" breaks the id pattern: not a workload id to go by */
	assert_string_equal(g->ev[3].wid, "");
}

static void
test_whole(void **state)
{
	struct parse_events *pe = parse_events_new(PFX);
	struct got g = {.n = 0};
	char err[128];

	assert_non_null(pe);
	assert_int_equal(parse_events_feed(pe, stream, strlen(stream), collect,
	                                   &g, err, sizeof(err)),
	                 0);
	check_stream(&g);
	assert_int_equal(parse_events_partial(pe), 0);
	parse_events_free(pe);
}

/* Cut anywhere, the stream gives the same events, none early. */
static void
test_every_split(void **state)
{
	size_t len = strlen(stream), cut, first_end;
	struct parse_events *pe;
	struct got g;
	char err[128];

	first_end = (size_t)(strchr(stream, '\n') - stream);
	for (cut = 0; cut <= len; cut++) {
		pe = parse_events_new(PFX);
		g.n = 0;
		assert_int_equal(parse_events_feed(pe, stream, cut, collect, &g,
		                                   err, sizeof(err)),
		                 0);
		if (cut < first_end) {
			assert_int_equal(g.n, 0);
			/* a half-read event is held, not dropped */
			assert_int_equal(parse_events_partial(pe), cut);
		}
		assert_int_equal(parse_events_feed(pe, stream + cut, len - cut,
		                                   collect, &g, err,
		                                   sizeof(err)),
		                 0);
		check_stream(&g);
		parse_events_free(pe);
	}
}

static void
test_byte_by_byte(void **state)
{
	struct parse_events *pe = parse_events_new(PFX);
	struct got g = {.n = 0};
	char err[128];
	size_t i;

	for (i = 0; stream[i] != '\0'; i++)
		assert_int_equal(parse_events_feed(pe, stream + i, 1, collect,
		                                   &g, err, sizeof(err)),
		                 0);
	check_stream(&g);
	parse_events_free(pe);
}

struct ev_case {
	const char *name, *json;
	enum parse_ev_kind kind;
	enum parse_expect expect;
	const char *id, *wid;
};

static const struct ev_case ev_cases[] = {
    {"start", "{\"Type\":\"container\",\"Action\":\"start\",\"id\":\"ab12\"}",
     PARSE_EV_REREAD, PARSE_EXPECT_STARTED, "ab12", ""},
    {"pause", "{\"Type\":\"container\",\"Action\":\"pause\",\"id\":\"ab12\"}",
     PARSE_EV_REREAD, PARSE_EXPECT_PAUSED, "ab12", ""},
    {"unpause",
     "{\"Type\":\"container\",\"Action\":\"unpause\",\"id\":\"ab12\"}",
     PARSE_EV_REREAD, PARSE_EXPECT_UNPAUSED, "ab12", ""},
    {"unknown action: re-read",
     "{\"Type\":\"container\",\"Action\":\"frobnicate\",\"id\":\"ab\"}",
     PARSE_EV_REREAD, PARSE_EXPECT_ANY, "ab", ""},
    {"Actor.ID wins over id",
     "{\"Type\":\"container\",\"Action\":\"create\",\"id\":\"aa\","
     "\"Actor\":{\"ID\":\"bb\",\"Attributes\":{\"tinyforge.workload.id\":"
     "\"w-1\"}}}",
     PARSE_EV_REREAD, PARSE_EXPECT_ANY, "bb", "w-1"},
    {"another prefix's label is not ours",
     "{\"Type\":\"container\",\"Action\":\"create\",\"id\":\"aa\","
     "\"Actor\":{\"Attributes\":{\"other.workload.id\":\"w\"}}}",
     PARSE_EV_REREAD, PARSE_EXPECT_ANY, "aa", ""},
    {"exec_start with its command",
     "{\"Type\":\"container\",\"Action\":\"exec_start: sh -c x\","
     "\"id\":\"ab\"}",
     PARSE_EV_IGNORED, PARSE_EXPECT_ANY, "", ""},
    {"health_status",
     "{\"Type\":\"container\",\"Action\":\"health_status: healthy\"}",
     PARSE_EV_IGNORED, PARSE_EXPECT_ANY, "", ""},
    {"another object type",
     "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"n\"}}",
     PARSE_EV_IGNORED, PARSE_EXPECT_ANY, "", ""},
    {"not an object", "[1,2]", PARSE_EV_BAD, PARSE_EXPECT_ANY, "", ""},
    {"a bare string", "\"die\"", PARSE_EV_BAD, PARSE_EXPECT_ANY, "", ""},
    {"no Action", "{\"Type\":\"container\",\"id\":\"ab\"}", PARSE_EV_BAD,
     PARSE_EXPECT_ANY, "", ""},
    {"Action not a string",
     "{\"Type\":\"container\",\"Action\":5,\"id\":\"ab\"}", PARSE_EV_BAD,
     PARSE_EXPECT_ANY, "", ""},
    {"no id", "{\"Type\":\"container\",\"Action\":\"die\"}", PARSE_EV_BAD,
     PARSE_EXPECT_ANY, "", ""},
    {"id not hex (a regex for Docker's filter)",
     "{\"Type\":\"container\",\"Action\":\"die\",\"id\":\".*\"}", PARSE_EV_BAD,
     PARSE_EXPECT_ANY, "", ""},
    {"id upper case",
     "{\"Type\":\"container\",\"Action\":\"die\",\"id\":\"AB\"}", PARSE_EV_BAD,
     PARSE_EXPECT_ANY, "", ""},
    {"id with a NUL",
     "{\"Type\":\"container\",\"Action\":\"die\",\"id\":\"ab\\u0000cd\"}",
     PARSE_EV_BAD, PARSE_EXPECT_ANY, "", ""},
};

static void
test_event(void **state)
{
	const struct ev_case *c = *state;
	struct parse_events *pe = parse_events_new(PFX);
	struct got g = {.n = 0};
	char buf[512], err[128];

	snprintf(buf, sizeof(buf), "%s\n", c->json);
	assert_int_equal(parse_events_feed(pe, buf, strlen(buf), collect, &g,
	                                   err, sizeof(err)),
	                 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ev[0].kind, c->kind);
	if (c->kind == PARSE_EV_BAD) {
		assert_non_null(g.ev[0].why);
	} else {
		assert_int_equal(g.ev[0].expect, c->expect);
		if (c->kind != PARSE_EV_IGNORED) {
			assert_string_equal(g.ev[0].id, c->id);
			assert_string_equal(g.ev[0].wid, c->wid);
		}
	}
	parse_events_free(pe);
}

struct broken_case {
	const char *name, *bytes;
	size_t good; /* whole events before the break */
};

static const struct broken_case broken_cases[] = {
    {"garbage", "\x01garbage\n", 0},
    {"garbage after a good event",
     "{\"Type\":\"container\",\"Action\":\"die\",\"id\":\"ab\"}\n}}x", 1},
    {"garbage inside an event",
     "{\"Type\":\"container\",\"Action\":\"destroy\",\"id\":\"ab\"}}\n", 1},
    {"an event cut by garbage",
     "{\"Type\":\"container\",\"Action\":\"destroy\",\"id\":\"ab\" x}", 0},
    {"deeper than an event nests", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}\n", 0},
    {"a lone close", "]\n", 0},
    /* a bare number has no end of its own, so pieces would read it
     * differently (found by fuzz_docker_events) */
    {"a bare number", "00-0\n\n\n8", 0},
    {"a number after a good event",
     "{\"Type\":\"container\",\"Action\":\"die\",\"id\":\"ab\"}\n12\n", 1},
    {"a bare literal", "true\n", 0},
};

static void
test_broken(void **state)
{
	const struct broken_case *c = *state;
	struct parse_events *pe = parse_events_new(PFX);
	struct got g = {.n = 0};
	char err[128] = "";

	assert_int_equal(parse_events_feed(pe, c->bytes, strlen(c->bytes),
	                                   collect, &g, err, sizeof(err)),
	                 -1);
	assert_true(err[0] != '\0');
	assert_int_equal(g.n, c->good);
	/* and nothing more is read from it */
	assert_int_equal(
	    parse_events_feed(pe, "{}\n", 3, collect, &g, err, sizeof(err)),
	    -1);
	assert_int_equal(g.n, c->good);
	parse_events_free(pe);
}

/* The event "{"a":"<n x>"}" with a string escape, braces and brackets
 * in the string, then a good event; in big (malloc'd), its length in *len. */
static char *
oversize(size_t n, size_t *len)
{
	static const char tricky[] = "\\\"}]{[";
	static const char good[] =
	    "\n{\"Type\":\"container\",\"Action\":\"die\",\"id\":\"ab\","
	    "\"Actor\":{\"ID\":\"ab\"}}\n";
	char *big = malloc(n + sizeof(tricky) + sizeof(good) + 16);
	size_t k;

	assert_non_null(big);
	memcpy(big, "{\"a\":[\"", 7);
	memset(big + 7, 'x', n);
	k = 7 + n;
	memcpy(big + k, tricky, sizeof(tricky) - 1);
	k += sizeof(tricky) - 1;
	memcpy(big + k, "\"]}", 3);
	k += 3;
	memcpy(big + k, good, sizeof(good) - 1);
	*len = k + sizeof(good) - 1;
	return big;
}

/* Feeds buf in pieces of step bytes; the last rc. */
static int
feed_steps(struct parse_events *pe, const char *buf, size_t len, size_t step,
           struct got *g, char *err, size_t errlen)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < len && rc == 0; i += step)
		rc = parse_events_feed(pe, buf + i,
		                       len - i < step ? len - i : step, collect,
		                       g, err, errlen);
	return rc;
}

/* One event longer than PARSE_EVENT_MAX is skipped to its end, fed at
 * once or in pieces: a PARSE_EV_LOST in its place, and the event after it
 * reads. Docker replays such an event on every reconnect, so breaking the
 * stream on it would break every stream. */
static void
test_oversize(void **state)
{
	size_t len, steps[] = {0, 4096, 1, 7};
	char *big, err[128];
	struct parse_events *pe;
	struct got g;
	size_t i;

	(void)state;
	big = oversize(PARSE_EVENT_MAX + 64, &len);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		memset(&g, 0, sizeof(g));
		pe = parse_events_new(PFX);
		assert_int_equal(feed_steps(pe, big, len,
		                            steps[i] ? steps[i] : len, &g, err,
		                            sizeof(err)),
		                 0);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.ev[0].kind, PARSE_EV_LOST);
		assert_non_null(strstr(g.ev[0].why, "longer than"));
		assert_int_equal(g.ev[1].kind, PARSE_EV_REREAD);
		assert_string_equal(g.ev[1].id, "ab");
		assert_int_equal(parse_events_partial(pe), 0);
		parse_events_free(pe);
	}
	free(big);
	/* exactly PARSE_EVENT_MAX bytes still read */
	big = oversize(PARSE_EVENT_MAX - 16, &len);
	memset(&g, 0, sizeof(g));
	pe = parse_events_new(PFX);
	assert_int_equal(
	    parse_events_feed(pe, big, len, collect, &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.ev[0].kind, PARSE_EV_BAD); /* read: no Action */
	parse_events_free(pe);
	free(big);
	/* a syntax error in the first PARSE_EVENT_MAX bytes still breaks */
	big = oversize(PARSE_EVENT_MAX + 64, &len);
	big[6] = 'x'; /* {"a":[x... */
	memset(&g, 0, sizeof(g));
	pe = parse_events_new(PFX);
	assert_int_equal(
	    parse_events_feed(pe, big, len, collect, &g, err, sizeof(err)), -1);
	assert_int_equal(g.n, 0);
	parse_events_free(pe);
	free(big);
}

/* An event that never ends is skipped until PARSE_EVENT_SKIP_MAX, then
 * the stream is broken. */
static void
test_endless_event(void **state)
{
	char *chunk = malloc(1u << 20), err[128];
	struct parse_events *pe;
	struct got g = {.n = 0};
	size_t fed = 0;
	int rc = 0;

	(void)state;
	assert_non_null(chunk);
	memset(chunk, 'x', 1u << 20);
	memcpy(chunk, "{\"a\":\"", 6);
	pe = parse_events_new(PFX);
	while (rc == 0 && fed <= PARSE_EVENT_SKIP_MAX + (2u << 20)) {
		rc = parse_events_feed(pe, chunk, 1u << 20, collect, &g, err,
		                       sizeof(err));
		fed += 1u << 20;
		if (fed == 1u << 20)
			memset(chunk, 'x', 6);
	}
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "longer than 67108864"));
	assert_true(fed > PARSE_EVENT_SKIP_MAX);
	assert_int_equal(g.n, 0);
	parse_events_free(pe);
	free(chunk);
}

static void
test_state_fits(void **state)
{
	assert_true(parse_state_fits(PARSE_EXPECT_ANY, "running"));
	assert_true(parse_state_fits(PARSE_EXPECT_STOPPED, "exited"));
	assert_true(parse_state_fits(PARSE_EXPECT_STOPPED, "dead"));
	assert_true(parse_state_fits(PARSE_EXPECT_STOPPED, "restarting"));
	assert_false(parse_state_fits(PARSE_EXPECT_STOPPED, "running"));
	assert_false(parse_state_fits(PARSE_EXPECT_STOPPED, "paused"));
	assert_true(parse_state_fits(PARSE_EXPECT_PAUSED, "paused"));
	assert_true(parse_state_fits(PARSE_EXPECT_PAUSED, "exited"));
	assert_false(parse_state_fits(PARSE_EXPECT_PAUSED, "running"));
	assert_true(parse_state_fits(PARSE_EXPECT_UNPAUSED, "running"));
	assert_false(parse_state_fits(PARSE_EXPECT_UNPAUSED, "paused"));
	assert_true(parse_state_fits(PARSE_EXPECT_STARTED, "running"));
	assert_true(parse_state_fits(PARSE_EXPECT_STARTED, "paused"));
	assert_true(parse_state_fits(PARSE_EXPECT_STARTED, "restarting"));
	assert_false(parse_state_fits(PARSE_EXPECT_STARTED, "exited"));
	assert_false(parse_state_fits(PARSE_EXPECT_STARTED, "created"));
	assert_false(parse_state_fits(PARSE_EXPECT_STARTED, "dead"));
}

/* The state each action defines (applied at once by the worker), and
 * that its expectation accepts that very state and rejects the one it
 * left. */
static void
test_action_sets(void **state)
{
	static const struct {
		const char *action;
		enum parse_ev_kind kind;
		enum parse_sets sets;
		const char *before; /* the state the event ends */
	} cases[] = {
	    {"die", PARSE_EV_REREAD, PARSE_SETS_EXITED, "running"},
	    {"stop", PARSE_EV_REREAD, PARSE_SETS_EXITED, "running"},
	    {"pause", PARSE_EV_REREAD, PARSE_SETS_PAUSED, "running"},
	    {"unpause", PARSE_EV_REREAD, PARSE_SETS_RUNNING, "paused"},
	    {"start", PARSE_EV_REREAD, PARSE_SETS_RUNNING, "exited"},
	    {"restart", PARSE_EV_REREAD, PARSE_SETS_RUNNING, "created"},
	    {"destroy", PARSE_EV_GONE, PARSE_SETS_NONE, NULL},
	    {"create", PARSE_EV_REREAD, PARSE_SETS_NONE, NULL},
	    {"rename", PARSE_EV_REREAD, PARSE_SETS_NONE, NULL},
	    {"kill", PARSE_EV_IGNORED, PARSE_SETS_NONE, NULL},
	    {"oom", PARSE_EV_REREAD, PARSE_SETS_NONE, NULL},
	};
	struct parse_events *pe = parse_events_new(PFX);
	struct got g;
	char buf[512], err[128];
	size_t i;

	assert_string_equal(parse_sets_state(PARSE_SETS_NONE), "");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		g.n = 0;
		snprintf(buf, sizeof(buf),
		         "{\"Type\":\"container\",\"Action\":\"%s\","
		         "\"Actor\":{\"ID\":\"ab\",\"Attributes\":"
		         "{\"tinyforge.workload.id\":\"w\"}}}\n",
		         cases[i].action);
		assert_int_equal(parse_events_feed(pe, buf, strlen(buf),
		                                   collect, &g, err,
		                                   sizeof(err)),
		                 0);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.ev[0].kind, cases[i].kind);
		assert_int_equal(g.ev[0].sets, cases[i].sets);
		if (cases[i].sets == PARSE_SETS_NONE) {
			if (cases[i].kind != PARSE_EV_GONE)
				assert_int_equal(g.ev[0].expect,
				                 PARSE_EXPECT_ANY);
			continue;
		}
		assert_string_equal(g.ev[0].wid, "w");
		assert_true(parse_state_fits(g.ev[0].expect,
		                             parse_sets_state(cases[i].sets)));
		assert_false(parse_state_fits(g.ev[0].expect, cases[i].before));
	}
	parse_events_free(pe);
}

int
main(void)
{
	struct CMUnitTest tests[64];
	size_t n = 0, i;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_whole);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_split);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_byte_by_byte);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_oversize);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_endless_event);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_state_fits);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_action_sets);
	for (i = 0; i < sizeof(ev_cases) / sizeof(ev_cases[0]); i++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(
		    test_event, (void *)&ev_cases[i]);
		tests[n++].name = ev_cases[i].name;
	}
	for (i = 0; i < sizeof(broken_cases) / sizeof(broken_cases[0]); i++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(
		    test_broken, (void *)&broken_cases[i]);
		tests[n++].name = broken_cases[i].name;
	}
	return _cmocka_run_group_tests("parse_events", tests, n, NULL, NULL);
}
