/*
 * parse_test.c: parse.c against a hand-written body in the shape of
 * Docker's /containers/json, its truncations, and a table of bad bodies.
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

/* Three containers as dockerd 20.10 (API 1.41) lists them. */
static const char list_body[] =
    "[\n"
    " {\"Id\":\"8dfafdbc3a40a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182"
    "93a\",\"Names\":[\"/wl1-web\"],\"Image\":\"registry.example/site:1.2\","
    "\"ImageID\":\"sha256:4f3c1b\",\"Command\":\"/bin/httpd -f\","
    "\"Created\":1715000000,"
    "\"Ports\":[{\"IP\":\"0.0.0.0\",\"PrivatePort\":80,\"PublicPort\":8080,"
    "\"Type\":\"tcp\"},{\"IP\":\"::\",\"PrivatePort\":80,\"PublicPort\":8080,"
    "\"Type\":\"tcp\"},{\"PrivatePort\":443,\"Type\":\"tcp\"}],"
    "\"Labels\":{\"com.docker.compose.project\":\"wl1\","
    "\"tinyforge.role\":\"web\",\"tinyforge.workload.id\":\"wl-1\","
    "\"tinyforge.workload.kind\":\"site\",\"maintainer\":\"ops\"},"
    "\"State\":\"running\",\"Status\":\"Up 3 hours\","
    "\"HostConfig\":{\"NetworkMode\":\"default\"},"
    "\"NetworkSettings\":{\"Networks\":{\"bridge\":{\"IPAMConfig\":null,"
    "\"Links\":null,\"Aliases\":null,\"NetworkID\":\"7ea29fc1412292a2\","
    "\"EndpointID\":\"2cdc4edb1ded3631\",\"Gateway\":\"172.17.0.1\","
    "\"IPAddress\":\"172.17.0.2\",\"IPPrefixLen\":16,\"IPv6Gateway\":\"\","
    "\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,"
    "\"MacAddress\":\"02:42:ac:11:00:02\",\"DriverOpts\":null}}},"
    "\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"wl1-data\","
    "\"Source\":\"/var/lib/docker/volumes/wl1-data/_data\","
    "\"Destination\":\"/data\",\"Driver\":\"local\",\"Mode\":\"z\","
    "\"RW\":true,\"Propagation\":\"\"}]},\n"
    " {\"Id\":\"b2\",\"Names\":[\"/wl2-worker\"],\"Image\":\"busybox\","
    "\"ImageID\":\"sha256:9e41\",\"Command\":\"sleep 1000\","
    "\"Created\":1714000000,\"Ports\":[],"
    "\"Labels\":{\"tinyforge.workload.id\":\"wl-2\",\"other\":\"x\"},"
    "\"State\":\"exited\",\"Status\":\"Exited (0) 2 days ago\","
    "\"HostConfig\":{\"NetworkMode\":\"none\"},"
    "\"NetworkSettings\":{\"Networks\":{}},\"Mounts\":[]},\n"
    " {\"Id\":\"c3\",\"Names\":[\"/wl3\"],\"Image\":\"sha256:77aa\","
    "\"ImageID\":\"sha256:77aa\",\"Command\":\"\",\"Created\":1716000000,"
    "\"Ports\":[{\"IP\":\"0.0.0.0\",\"PrivatePort\":53,\"PublicPort\":9053,"
    "\"Type\":\"udp\"},{\"PrivatePort\":22,\"Type\":\"tcp\"},"
    "{\"IP\":\"0.0.0.0\",\"PrivatePort\":443,\"PublicPort\":8443,"
    "\"Type\":\"tcp\"}],"
    "\"Labels\":{\"tinyforge.workload.id\":\"wl-3\","
    "\"tinyforge.\":\"bare\"},"
    "\"State\":\"created\",\"Status\":\"Created\","
    "\"HostConfig\":{},\"NetworkSettings\":{\"Networks\":{}},"
    "\"Mounts\":[]}\n"
    "]\n";

static const char *
label(const struct wire_container *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nlabels; i++)
		if (strcmp(c->labels[i].key, key) == 0)
			return c->labels[i].val;
	return NULL;
}

static int
parse(const char *body, size_t len, const char *prefix, struct arena **a,
      struct parse_result *r, char *err)
{
	*a = arena_new();
	return parse_list(body, len, prefix, *a, r, err, WIRE_ERR_LEN);
}

static void
test_realistic(void **state)
{
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";
	const struct wire_container *c;

	assert_int_equal(parse(list_body, strlen(list_body), PFX, &a, &r, err),
	                 0);
	assert_int_equal(r.ncontainers, 3);
	assert_int_equal(r.skipped, 0);
	assert_int_equal(r.unlabelled, 0);

	c = &r.containers[0];
	assert_int_equal(strlen(c->id), 64);
	assert_string_equal(c->image, "registry.example/site:1.2");
	assert_string_equal(c->state, "running");
	assert_int_equal(c->created, 1715000000);
	/* Only the prefixed ones, none of compose's or maintainer. */
	assert_int_equal(c->nlabels, 3);
	assert_string_equal(label(c, "tinyforge.workload.id"), "wl-1");
	assert_string_equal(label(c, "tinyforge.workload.kind"), "site");
	assert_string_equal(label(c, "tinyforge.role"), "web");
	assert_null(label(c, "maintainer"));
	/* Published ports as listed (IPv4 and IPv6 both), not the exposed. */
	assert_int_equal(c->nports, 2);
	assert_int_equal(c->ports[0], 8080);
	assert_int_equal(c->ports[1], 8080);

	c = &r.containers[1];
	assert_string_equal(c->id, "b2");
	assert_string_equal(c->state, "exited");
	assert_int_equal(c->nlabels, 1);
	assert_null(label(c, "other"));
	assert_int_equal(c->nports, 0);

	c = &r.containers[2];
	assert_string_equal(c->image, "sha256:77aa");
	assert_int_equal(c->nlabels, 2);
	assert_string_equal(label(c, "tinyforge."), "bare");
	/* Docker's order kept: udp 9053 first, then 8443. */
	assert_int_equal(c->nports, 2);
	assert_int_equal(c->ports[0], 9053);
	assert_int_equal(c->ports[1], 8443);
	arena_free(a);
}

/* Another prefix sees other labels, and containers without its
 * workload.id are dropped as unlabelled. */
static void
test_other_prefix(void **state)
{
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";
	static const char body[] =
	    "[{\"Id\":\"a\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":{\"acme.workload.id\":\"w\","
	    "\"tinyforge.workload.id\":\"t\",\"acme.role\":\"db\"}},"
	    "{\"Id\":\"b\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":null,\"Labels\":{\"tinyforge.workload.id\":\"t\"}},"
	    "{\"Id\":\"c\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":null}]";

	assert_int_equal(parse(body, strlen(body), "acme.", &a, &r, err), 0);
	assert_int_equal(r.ncontainers, 1);
	assert_int_equal(r.unlabelled, 2);
	assert_string_equal(r.containers[0].id, "a");
	assert_int_equal(r.containers[0].nlabels, 2);
	assert_string_equal(label(&r.containers[0], "acme.role"), "db");
	assert_null(label(&r.containers[0], "tinyforge.workload.id"));
	arena_free(a);
}

static void
test_empty(void **state)
{
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";

	assert_int_equal(parse(" [ ]\n", 5, PFX, &a, &r, err), 0);
	assert_int_equal(r.ncontainers, 0);
	arena_free(a);
}

/* Every proper prefix of the body fails: R8 sends nothing then. */
static void
test_truncated(void **state)
{
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN];
	size_t len = strlen(list_body), cut, fails = 0;

	/* The closing "]\n": cutting only the newline still parses. */
	for (cut = 0; cut < len - 1; cut++) {
		err[0] = '\0';
		if (parse(list_body, cut, PFX, &a, &r, err) == -1) {
			fails++;
			assert_true(err[0] != '\0');
		}
		arena_free(a);
	}
	assert_int_equal(fails, len - 1);
}

/* An over-long value skips its container only; the others still go. */
static void
test_skip_oversize(void **state)
{
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "", *body, *big, *longid;
	size_t n = WIRE_LABEL_MAX + 1;

	big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	longid = malloc(WIRE_ID_MAX + 2);
	memset(longid, 'f', WIRE_ID_MAX + 1);
	longid[WIRE_ID_MAX + 1] = '\0';
	body = malloc(3 * n + 1024);
	sprintf(
	    body,
	    "[{\"Id\":\"a\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":{\"tinyforge.workload.id\":\"w\","
	    "\"tinyforge.role\":\"%s\"}},"
	    "{\"Id\":\"%s\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":{\"tinyforge.workload.id\":\"w\"}},"
	    "{\"Id\":\"n\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":{\"tinyforge.workload.id\":\"a\\u0000b\"}},"
	    "{\"Id\":\"b\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":{\"tinyforge.workload.id\":\"w\","
	    "\"other\":\"%s\"}}]",
	    big, longid, big);
	assert_int_equal(parse(body, strlen(body), PFX, &a, &r, err), 0);
	assert_int_equal(r.ncontainers, 1);
	assert_int_equal(r.skipped, 3);
	assert_string_equal(r.containers[0].id, "b");
	arena_free(a);
	free(body);
	free(longid);
	free(big);
}

/* Deep nesting fails on the depth limit without recursing to a crash. */
static void
test_deep(void **state)
{
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";
	size_t depth = 1000000, i;
	char *body = malloc(2 * depth);

	for (i = 0; i < depth; i++) {
		body[i] = '[';
		body[2 * depth - 1 - i] = ']';
	}
	assert_int_equal(parse(body, 2 * depth, PFX, &a, &r, err), -1);
	if (strstr(err, "too deep") == NULL)
		fail_msg("reason \"%s\" lacks \"too deep\"", err);
	arena_free(a);
	free(body);
}

/* A body that must fail as a whole, and a word its reason must hold. */
struct bad_case {
	const char *name;
	const char *body;
	const char *why;
};

#define ELEM(id, image, state, created, ports, labels)                         \
	"[{\"Id\":" id ",\"Image\":" image ",\"State\":" state                 \
	",\"Created\":" created ",\"Ports\":" ports ",\"Labels\":" labels "}]"
#define WID "{\"tinyforge.workload.id\":\"w\"}"

static const struct bad_case bad_cases[] = {
    {"not an array", "{\"Id\":\"a\"}", "not a JSON array"},
    {"a string", "\"[]\"", "not a JSON array"},
    {"empty body", "", "truncated"},
    {"garbage", "<html>", "bad JSON"},
    {"trailing bytes", "[] []", "bad JSON"},
    {"element not object", "[1]", "not an object"},
    {"missing Id",
     "[{\"Image\":\"i\",\"State\":\"s\",\"Created\":1,\"Labels\":" WID "}]",
     "lacks"},
    {"Id not string", ELEM("7", "\"i\"", "\"s\"", "1", "[]", WID), "lacks"},
    {"Image null", ELEM("\"a\"", "null", "\"s\"", "1", "[]", WID), "lacks"},
    {"State number", ELEM("\"a\"", "\"i\"", "3", "1", "[]", WID), "lacks"},
    {"Created string", ELEM("\"a\"", "\"i\"", "\"s\"", "\"1\"", "[]", WID),
     "lacks"},
    {"Created double", ELEM("\"a\"", "\"i\"", "\"s\"", "1.5", "[]", WID),
     "lacks"},
    {"Labels array", ELEM("\"a\"", "\"i\"", "\"s\"", "1", "[]", "[]"),
     "Labels"},
    {"label value number",
     ELEM("\"a\"", "\"i\"", "\"s\"", "1", "[]",
          "{\"tinyforge.workload.id\":\"w\",\"x\":1}"),
     "label value"},
    {"Ports object", ELEM("\"a\"", "\"i\"", "\"s\"", "1", "{}", WID), "Ports"},
    {"port element string",
     ELEM("\"a\"", "\"i\"", "\"s\"", "1", "[\"80\"]", WID), "Ports element"},
    {"port lacks Type",
     ELEM("\"a\"", "\"i\"", "\"s\"", "1", "[{\"PrivatePort\":80}]", WID),
     "Type"},
    {"PublicPort string",
     ELEM("\"a\"", "\"i\"", "\"s\"", "1",
          "[{\"PrivatePort\":80,\"PublicPort\":\"80\",\"Type\":\"tcp\"}]", WID),
     "PublicPort"},
    {"PublicPort too big",
     ELEM("\"a\"", "\"i\"", "\"s\"", "1",
          "[{\"PrivatePort\":80,\"PublicPort\":70000,\"Type\":\"tcp\"}]", WID),
     "PublicPort"},
    {"single quotes", "[{'Id':'a'}]", "bad JSON"},
    {"trailing comma", "[{\"Id\":\"a\"},]", "bad JSON"},
};

static void
test_bad(void **state)
{
	const struct bad_case *bc = *state;
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";

	assert_int_equal(parse(bc->body, strlen(bc->body), PFX, &a, &r, err),
	                 -1);
	if (strstr(err, bc->why) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", bc->name, err,
		         bc->why);
	arena_free(a);
}

/* A bad element fails the list even after good ones. */
static void
test_bad_after_good(void **state)
{
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";
	static const char body[] =
	    "[{\"Id\":\"a\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":" WID "},"
	    "{\"Id\":\"b\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Ports\":[],\"Labels\":{\"tinyforge.workload.id\":true}}]";

	assert_int_equal(parse(body, strlen(body), PFX, &a, &r, err), -1);
	assert_non_null(strstr(err, "container 1"));
	arena_free(a);
}

static void
test_version(void **state)
{
	char api[16], min[16], err[WIRE_ERR_LEN];
	static const char v41[] =
	    "{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\","
	    "\"MinAPIVersion\":\"1.12\",\"Os\":\"linux\"}";
	static const char nomin[] = "{\"ApiVersion\":\"1.24\"}";

	assert_int_equal(parse_version(v41, strlen(v41), api, sizeof(api), min,
	                               sizeof(min), err, sizeof(err)),
	                 0);
	assert_string_equal(api, "1.41");
	assert_string_equal(min, "1.12");
	assert_int_equal(parse_version(nomin, strlen(nomin), api, sizeof(api),
	                               min, sizeof(min), err, sizeof(err)),
	                 0);
	assert_string_equal(min, "");
	assert_int_equal(parse_version("{}", 2, api, sizeof(api), min,
	                               sizeof(min), err, sizeof(err)),
	                 -1);
	assert_int_equal(parse_version("{\"ApiVersion\":1.4}", 18, api,
	                               sizeof(api), min, sizeof(min), err,
	                               sizeof(err)),
	                 -1);
	assert_int_equal(parse_version("{\"ApiVersion\":\"1.41\"", 20, api,
	                               sizeof(api), min, sizeof(min), err,
	                               sizeof(err)),
	                 -1);
}

static void
test_error_message(void **state)
{
	char msg[64];
	static const char longj[] = "{\"message\":\"01234567890123456789\"}";
	static const char j[] = "{\"message\":\"client version 1.41 is too "
	                        "old.\\nMinimum is 1.44\"}";

	parse_error_message(j, strlen(j), msg, sizeof(msg));
	assert_string_equal(msg, "client version 1.41 is too old. Minimum is "
	                         "1.44");
	parse_error_message("page not found\n", 15, msg, sizeof(msg));
	assert_string_equal(msg, "page not found");
	parse_error_message("", 0, msg, sizeof(msg));
	assert_string_equal(msg, "");
	parse_error_message(longj, strlen(longj), msg, 16);
	assert_string_equal(msg, "012345678901234");
}

int
main(void)
{
	struct CMUnitTest tests[64];
	size_t n = 0, i;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_realistic);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_other_prefix);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_empty);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_truncated);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_skip_oversize);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_deep);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bad_after_good);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_version);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_error_message);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(
		    test_bad, (void *)&bad_cases[i]);
		tests[n++].name = bad_cases[i].name;
	}
	return _cmocka_run_group_tests("parse", tests, n, NULL, NULL);
}
