/*
 * jscan_test.c: the JSON grammar (jscan.c) and the list scanner built on
 * it (listscan.c) against JSON's grammar, truncations, and json-c itself:
 * mutated bodies must be taken or refused as json-c (strict, same depth)
 * does, and give the records that the json-c reading gave. Long because
 * the json-c reading the scanner replaced is kept here, as the oracle.
 */
#include <ctype.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "jscan.h"
#include "listscan.h"
#include "util.h"

#define PFX "tinyforge."

/*
 * The oracle: parse_list as it was before jscan, on json-c's tree. Kept
 * here only, to say what the scanner must give for any body.
 */

/* What a container element is, after its types were checked. */
enum oracle_verdict { ORACLE_OK, ORACLE_SKIP, ORACLE_UNLABELLED, ORACLE_BAD };

/* The member key of o if it has the given type, else NULL. */
static json_object *
oracle_member(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* Whether a string fits the wire: at most max bytes, no NUL inside,
 * UTF-8. */
static bool
oracle_wire_fits(json_object *s, size_t max)
{
	size_t n = (size_t)json_object_get_string_len(s);

	return n <= max && strlen(json_object_get_string(s)) == n &&
	       utf8_valid(json_object_get_string(s), n);
}

static char *
oracle_dup_str(struct arena *a, json_object *s)
{
	return arena_strndup(a, json_object_get_string(s),
	                     (size_t)json_object_get_string_len(s));
}

/* Fills c->labels with the <prefix> labels of Labels (object or null). */
static enum oracle_verdict
oracle_elem_labels(json_object *labels, const char *prefix, struct arena *a,
                   struct wire_container *c, const char **why)
{
	size_t plen = strlen(prefix), n = 0, cap;
	bool has_wid = false, skip = false;

	if (labels == NULL || json_object_is_type(labels, json_type_null))
		return ORACLE_UNLABELLED;
	if (!json_object_is_type(labels, json_type_object)) {
		*why = "Labels is not an object";
		return ORACLE_BAD;
	}
	cap = (size_t)json_object_object_length(labels);
	c->labels = arena_alloc(a, (cap ? cap : 1) * sizeof(*c->labels));
	json_object_object_foreach(labels, key, val)
	{
		if (!json_object_is_type(val, json_type_string)) {
			*why = "a label value is not a string";
			return ORACLE_BAD;
		}
		if (skip || strncmp(key, prefix, plen) != 0)
			continue;
		if (strlen(key) > WIRE_LABEL_MAX ||
		    !utf8_valid(key, strlen(key)) ||
		    !oracle_wire_fits(val, WIRE_LABEL_MAX)) {
			*why =
			    "a label is too long, holds a NUL or is not UTF-8";
			skip = true; /* but go on checking the types */
			continue;
		}
		if (strcmp(key + plen, "workload.id") == 0)
			has_wid = true;
		c->labels[n].key = arena_strdup(a, key);
		c->labels[n].val = oracle_dup_str(a, val);
		n++;
	}
	c->nlabels = n;
	if (skip)
		return ORACLE_SKIP;
	return has_wid ? ORACLE_OK : ORACLE_UNLABELLED;
}

/* Fills c->ports with the PublicPorts of Ports (array or null), in order. */
static enum oracle_verdict
oracle_elem_ports(json_object *ports, struct arena *a, struct wire_container *c,
                  const char **why)
{
	size_t i, n;
	json_object *p, *pub, *priv, *type;
	int64_t v;

	if (ports == NULL || json_object_is_type(ports, json_type_null))
		return ORACLE_OK;
	if (!json_object_is_type(ports, json_type_array)) {
		*why = "Ports is not an array";
		return ORACLE_BAD;
	}
	n = json_object_array_length(ports);
	c->ports = arena_alloc(a, (n ? n : 1) * sizeof(*c->ports));
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(ports, i);
		if (!json_object_is_type(p, json_type_object)) {
			*why = "a Ports element is not an object";
			return ORACLE_BAD;
		}
		priv = oracle_member(p, "PrivatePort", json_type_int);
		type = oracle_member(p, "Type", json_type_string);
		if (priv == NULL || type == NULL) {
			*why = "a Ports element lacks PrivatePort or Type";
			return ORACLE_BAD;
		}
		if (!json_object_object_get_ex(p, "PublicPort", &pub) ||
		    pub == NULL)
			continue; /* exposed, not published */
		if (!json_object_is_type(pub, json_type_int) ||
		    (v = json_object_get_int64(pub)) < 0 || v > 65535) {
			*why = "a PublicPort is not a port number";
			return ORACLE_BAD;
		}
		if (v > 0)
			c->ports[c->nports++] = v;
	}
	return ORACLE_OK;
}

static enum oracle_verdict
oracle_parse_elem(json_object *e, const char *prefix, struct arena *a,
                  struct wire_container *c, const char **why)
{
	json_object *id, *image, *state, *created, *labels = NULL,
	                                           *ports = NULL;
	enum oracle_verdict v, lv;

	if (!json_object_is_type(e, json_type_object)) {
		*why = "an element is not an object";
		return ORACLE_BAD;
	}
	id = oracle_member(e, "Id", json_type_string);
	image = oracle_member(e, "Image", json_type_string);
	state = oracle_member(e, "State", json_type_string);
	created = oracle_member(e, "Created", json_type_int);
	if (id == NULL || image == NULL || state == NULL || created == NULL) {
		*why = "an element lacks Id, Image, State or Created, or has "
		       "the wrong type";
		return ORACLE_BAD;
	}
	json_object_object_get_ex(e, "Labels", &labels);
	json_object_object_get_ex(e, "Ports", &ports);
	memset(c, 0, sizeof(*c));
	/* Type errors anywhere fail the list, so check all before skipping. */
	lv = oracle_elem_labels(labels, prefix, a, c, why);
	if (lv == ORACLE_BAD)
		return ORACLE_BAD;
	if ((v = oracle_elem_ports(ports, a, c, why)) != ORACLE_OK)
		return v;
	if (lv != ORACLE_OK)
		return lv;
	if (json_object_get_string_len(id) == 0 ||
	    !oracle_wire_fits(id, WIRE_ID_MAX) ||
	    !oracle_wire_fits(image, WIRE_LABEL_MAX) ||
	    !oracle_wire_fits(state, WIRE_LABEL_MAX)) {
		*why = "Id, Image or State is empty, too long, holds a NUL or "
		       "is not UTF-8";
		return ORACLE_SKIP;
	}
	c->id = oracle_dup_str(a, id);
	c->image = oracle_dup_str(a, image);
	c->state = oracle_dup_str(a, state);
	c->created = json_object_get_int64(created);
	return ORACLE_OK;
}

static int
oracle_list(const char *body, size_t len, const char *prefix, struct arena *a,
            struct parse_result *res, char *err, size_t errlen)
{
	json_object *arr, *e;
	size_t i, n;
	const char *why = "";

	memset(res, 0, sizeof(*res));
	if ((arr = parse_json(body, len, err, errlen)) == NULL)
		return -1;
	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "container list is not a JSON array");
		json_object_put(arr);
		return -1;
	}
	n = json_object_array_length(arr);
	res->containers =
	    arena_alloc(a, (n ? n : 1) * sizeof(*res->containers));
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		switch (oracle_parse_elem(
		    e, prefix, a, &res->containers[res->ncontainers], &why)) {
		case ORACLE_OK:
			res->ncontainers++;
			break;
		case ORACLE_UNLABELLED:
			res->unlabelled++;
			break;
		case ORACLE_SKIP:
			res->skipped++;
			break;
		case ORACLE_BAD:
			snprintf(err, errlen, "container %zu: %s", i, why);
			json_object_put(arr);
			return -1;
		}
	}
	json_object_put(arr);
	return 0;
}

/*
 * Where json-c's strict mode takes what JSON's grammar does not, and the
 * scanner refuses: control characters inside strings, single-quoted member
 * names, NaN and Infinity, numbers like 01, -01, 00, 1. or -.5. Run only on
 * bodies json-c took, so a plain walk over them finds their tokens.
 */
static bool
number_ok(const char *p, size_t n)
{
	size_t i = 0;

	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (i < n && p[i] >= '1' && p[i] <= '9')
		while (i < n && isdigit((unsigned char)p[i]))
			i++;
	else
		return false;
	if (i < n && p[i] == '.') {
		if (++i == n || !isdigit((unsigned char)p[i]))
			return false;
		while (i < n && isdigit((unsigned char)p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i == n || !isdigit((unsigned char)p[i]))
			return false;
		while (i < n && isdigit((unsigned char)p[i]))
			i++;
	}
	return i == n;
}

static bool
lax(const char *b, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		if (b[i] == '\'' || b[i] == 'N' || b[i] == 'I')
			return true;
		if (b[i] == '"') {
			for (i++; i < n && b[i] != '"'; i++)
				if (b[i] == '\\')
					i++;
				else if ((unsigned char)b[i] < 0x20)
					return true;
			i++;
		} else if (b[i] == '-' || isdigit((unsigned char)b[i])) {
			for (j = i; j < n && b[j] != '\0' &&
			            strchr("0123456789+-.eE", b[j]) != NULL;
			     j++)
				;
			if (!number_ok(b + i, j - i))
				return true;
			i = j;
		} else {
			i++;
		}
	}
	return false;
}

static bool
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether two results hold the same records; says where they differ. */
static bool
same_result(const struct parse_result *a, const struct parse_result *b,
            char *why, size_t whylen)
{
	const struct wire_container *x, *y;
	size_t i, j;

	if (a->ncontainers != b->ncontainers || a->skipped != b->skipped ||
	    a->unlabelled != b->unlabelled) {
		snprintf(why, whylen, "counts %zu/%zu/%zu vs %zu/%zu/%zu",
		         a->ncontainers, a->skipped, a->unlabelled,
		         b->ncontainers, b->skipped, b->unlabelled);
		return false;
	}
	for (i = 0; i < a->ncontainers; i++) {
		x = &a->containers[i];
		y = &b->containers[i];
		if (!str_same(x->id, y->id) || !str_same(x->image, y->image) ||
		    !str_same(x->state, y->state) || x->created != y->created ||
		    x->nlabels != y->nlabels || x->nports != y->nports) {
			snprintf(why, whylen, "container %zu differs", i);
			return false;
		}
		for (j = 0; j < x->nlabels; j++)
			if (!str_same(x->labels[j].key, y->labels[j].key) ||
			    !str_same(x->labels[j].val, y->labels[j].val)) {
				snprintf(why, whylen, "container %zu label %zu",
				         i, j);
				return false;
			}
		for (j = 0; j < x->nports; j++)
			if (x->ports[j] != y->ports[j]) {
				snprintf(why, whylen, "container %zu port %zu",
				         i, j);
				return false;
			}
	}
	return true;
}

/* What a comparison of one body found. */
enum verdict { V_BOTH_OK, V_BOTH_FAIL, V_LAX };

/*
 * Runs both readings of body and fails the test where they disagree:
 * taking or refusing it, the records, or (for an element json-c's reading
 * refused) the reason. Bodies json-c takes only by its laxness are V_LAX.
 */
static bool quiet; /* the scanner's warnings of skipped ones unshown */

static enum verdict
compare(const char *body, size_t len, const char *prefix)
{
	int saved = -1, null;

	struct arena *a = arena_new(), *b = arena_new();
	struct parse_result ra, rb;
	char ea[WIRE_ERR_LEN] = "", eb[WIRE_ERR_LEN] = "", why[64];
	int rca, rcb;
	enum verdict v = V_BOTH_FAIL;
	bool ca, cb;

	rca = oracle_list(body, len, prefix, a, &ra, ea, sizeof(ea));
	if (quiet && (null = open("/dev/null", O_WRONLY)) != -1) {
		saved = dup(2);
		dup2(null, 2);
		close(null);
	}
	rcb = listscan(body, len, prefix, b, &rb, eb, sizeof(eb));
	if (saved != -1) {
		dup2(saved, 2);
		close(saved);
	}
	ca = strncmp(ea, "container ", 10) == 0;
	cb = strncmp(eb, "container ", 10) == 0;
	if ((rca == 0 || ca) && lax(body, len)) {
		assert_true(rcb == -1 && !cb); /* refused as bad JSON */
		v = V_LAX;
	} else if (rca != rcb) {
		fail_msg("json-c %s (%s), jscan %s (%s) on %.*s",
		         rca ? "refused" : "took", ea, rcb ? "refused" : "took",
		         eb, (int)(len < 400 ? len : 400), body);
	} else if (rca == 0) {
		if (!same_result(&ra, &rb, why, sizeof(why)))
			fail_msg("records differ: %s, on %.*s", why,
			         (int)(len < 400 ? len : 400), body);
		v = V_BOTH_OK;
	} else {
		if (ca != cb || (ca && strcmp(ea, eb) != 0))
			fail_msg(
			    "reasons differ: json-c \"%s\", jscan \"%s\" on "
			    "%.*s",
			    ea, eb, (int)(len < 400 ? len : 400), body);
		v = V_BOTH_FAIL;
	}
	arena_free(a);
	arena_free(b);
	return v;
}

#define EL(rest)                                                               \
	"{\"Id\":\"a1\",\"Image\":\"i\",\"State\":\"running\","                \
	"\"Created\":1," rest "}"
#define WID "\"tinyforge.workload.id\":\"w\""

/* Three containers as dockerd 20.10 (API 1.41) lists them. */
static const char docker_body[] =
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
    "\"Gateway\":\"172.17.0.1\",\"IPPrefixLen\":16,\"IPv6Gateway\":\"\","
    "\"GlobalIPv6PrefixLen\":0,\"DriverOpts\":null}}},"
    "\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"wl1-data\","
    "\"RW\":true,\"Propagation\":\"\"}]},\n"
    " {\"Id\":\"b2\",\"Names\":[\"/wl2-worker\"],\"Image\":\"busybox\","
    "\"Command\":\"sleep 1000\",\"Created\":1714000000,\"Ports\":[],"
    "\"Labels\":{\"tinyforge.workload.id\":\"wl-2\",\"other\":\"x\"},"
    "\"State\":\"exited\",\"Status\":\"Exited (0) 2 days ago\","
    "\"HostConfig\":{\"NetworkMode\":\"none\"},"
    "\"NetworkSettings\":{\"Networks\":{}},\"Mounts\":[]},\n"
    " {\"Id\":\"c3\",\"Image\":\"sha256:77aa\",\"Created\":1716000000,"
    "\"Ports\":[{\"IP\":\"0.0.0.0\",\"PrivatePort\":53,\"PublicPort\":9053,"
    "\"Type\":\"udp\"},{\"PrivatePort\":22,\"Type\":\"tcp\"},"
    "{\"IP\":\"0.0.0.0\",\"PrivatePort\":443,\"PublicPort\":8443,"
    "\"Type\":\"tcp\"}],"
    "\"Labels\":{\"tinyforge.workload.id\":\"wl-3\",\"tinyforge.\":\"bare\"},"
    "\"State\":\"created\",\"HostConfig\":{},\"Mounts\":[]}\n"
    "]\n";

/* The corners: escapes, surrogates, repeated keys, nulls, numbers of
 * every form in fields nobody reads, nesting close to the limit. */
/* clang-format off */
static const char corner_body[] =
    "[ "
    EL("\"Labels\":{\"tinyforge.workload.id\":\"w\\u00e9\\/\\\"\","
       "\"tinyforge.e\":\"\\b\\f\\n\\r\\t\\\\\","
       "\"tinyforge.s\":\"\\ud83d\\ude00|\\ud800|\\udc00|\\ud800\\n\","
       "\"tinyforge.\\u0061\":\"x\\ud800\\ud800\\udc00\","
       "\"tinyforge.z\\u0000tail\":\"cut key\","
       "\"tinyforge.e\":\"again\",\"x\":1,\"x\":\"fine\"},"
       "\"N\":[0,-0,1.5,-2.5e-3,1E+2,0.0e0,99999999999999999999,"
       "-99999999999999999999,true,false,null,{},[],\"\"],"
       "\"Ports\":null,\"Ports\":[{\"PrivatePort\":1,\"PublicPort\":null,"
       "\"Type\":\"tcp\"},{\"PrivatePort\":2,\"PublicPort\":0,"
       "\"Type\":\"udp\"},{\"PrivatePort\":3,\"PublicPort\":7,"
       "\"PublicPort\":65535,\"Type\":\"tcp\"}]")
    ",\r\n\t"
    EL("\"Id\":\"b\\u0032\",\"Created\":-99999999999999999999,"
       "\"Labels\":{\"tinyforge.workload.id\":\"w\",\"tinyforge.r\":\"\"},"
       "\"Labels\":{" WID ",\"tinyforge.n\":\"a\\u0000b\"},"
       "\"D\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")
    ","
    EL("\"Labels\":null,\"Image\":\"\",\"State\":\"\"")
    ","
    EL("\"Labels\":{\"tinyforge.b\":\"1\"," WID ",\"tinyforge.a\":\"2\","
       "\"tinyforge.b\":\"3\"},\"Created\":18446744073709551616")
    ","
    EL("\"Labels\":{" WID "},\"Image\":\"img\\u0000\"")
    " ]";
/* clang-format on */

/* Reads that the json-c reading and the scanner must agree on. */
static const char *const agree_bodies[] = {
    docker_body,
    corner_body,
    "[]",
    "[" EL("\"Labels\":{" WID "}") "]",
    /* Repeated keys: the last value counts, the first place stays. */
    "[" EL("\"Labels\":{\"tinyforge.a\":1,\"tinyforge.b\":\"x\"," WID
           ",\"tinyforge.a\":\"y\"}") "]",
    "[" EL("\"Labels\":{\"tinyforge.a\":1,\"tinyforge.a\":\"y\","
           "\"tinyforge.a\":[]," WID "}") "]",
    "[" EL("\"Labels\":{\"x\":\"s\",\"x\":1," WID "}") "]",
    "[" EL("\"Labels\":[],\"Labels\":{" WID "}") "]",
    "[" EL("\"Labels\":{" WID "},\"Labels\":7") "]",
    "[" EL("\"Ports\":[1],\"Ports\":[],\"Labels\":{" WID "}") "]",
    "[" EL("\"Id\":7,\"Labels\":{" WID "}") "]",
    "[" EL("\"Id\":null,\"Id\":\"z\",\"Labels\":{" WID "}") "]",
    "[" EL("\"Created\":1.0,\"Labels\":{" WID "}") "]",
    "[" EL("\"Created\":1e3,\"Labels\":{" WID "}") "]",
    "[" EL("\"Created\":-0,\"Labels\":{" WID "}") "]",
    "[" EL("\"Labels\":{" WID "},\"Ports\":[{\"PrivatePort\":1,"
           "\"PublicPort\":-1,\"Type\":\"t\"}]") "]",
    "[" EL("\"Labels\":{" WID "},\"Ports\":[{\"PrivatePort\":1,"
           "\"PublicPort\":65536,\"Type\":\"t\"}]") "]",
    "[" EL("\"Labels\":{" WID "},\"Ports\":[{\"PrivatePort\":1,"
           "\"PublicPort\":1e2,\"Type\":\"t\"}]") "]",
    "[" EL("\"Labels\":{" WID "},\"Ports\":[{\"PrivatePort\":1.5,"
           "\"Type\":\"t\"}]") "]",
    "[" EL("\"Labels\":{" WID "},\"Ports\":[{\"PrivatePort\":1,"
           "\"PublicPort\":99999999999999999999,\"Type\":\"t\"}]") "]",
    "[" EL("\"Labels\":{" WID "},\"Ports\":[null]") "]",
    "[" EL("\"Labels\":{\"tinyforge.workload.id\":\"\\u0000\"}") "]",
    "[" EL("\"Labels\":{\"tinyforge.workload\\u0000.id\":\"w\"}") "]",
    "[" EL("\"Labels\":{\"tinyforge\\u002eworkload.id\":\"w\"}") "]",
    "[" EL("\"Id\":\"\",\"Labels\":{" WID "}") "]",
    "[" EL("\"Id\":\"\\u0000\",\"Labels\":{" WID "}") "]",
    "[null]",
    "[" EL("\"Labels\":{" WID "}") ",1]",
    "[" EL("\"Labels\":{" WID "}") ",{\"Id\":\"x\"}]",
    "[{\"Id\":\"x\"}, [1,]]",
    "{\"a\":1}",
    "null",
    "[] \n",
};

static void
test_agree(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(agree_bodies) / sizeof(agree_bodies[0]); i++)
		assert_int_not_equal(
		    compare(agree_bodies[i], strlen(agree_bodies[i]), PFX),
		    V_LAX);
}

static const char *
label(const struct wire_container *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nlabels; i++)
		if (strcmp(c->labels[i].key, key) == 0)
			return c->labels[i].val;
	return NULL;
}

/* The corners read as written down here, not only as json-c reads them. */
static void
test_corners(void **state)
{
	struct arena *a = arena_new();
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";
	const struct wire_container *c;

	assert_int_equal(listscan(corner_body, strlen(corner_body), PFX, a, &r,
	                          err, sizeof(err)),
	                 0);
	assert_int_equal(r.ncontainers, 2);
	assert_int_equal(r.skipped, 2);
	assert_int_equal(r.unlabelled, 1);
	c = &r.containers[0];
	assert_string_equal(label(c, PFX "workload.id"), "w\xc3\xa9/\"");
	assert_string_equal(label(c, PFX "e"), "again");
	assert_string_equal(label(c, PFX "s"),
	                    "\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd|"
	                    "\xef\xbf\xbd\n");
	assert_string_equal(label(c, PFX "a"), "x\xef\xbf\xbd\xf0\x90\x80\x80");
	assert_string_equal(label(c, PFX "z"), "cut key");
	assert_int_equal(c->nlabels, 5);
	/* The repeated key stays where it first was. */
	assert_string_equal(c->labels[1].key, PFX "e");
	assert_int_equal(c->nports, 1);
	assert_int_equal(c->ports[0], 65535);
	c = &r.containers[1];
	assert_string_equal(c->id, "a1");
	assert_int_equal(c->created, INT64_MAX);
	assert_int_equal(c->nlabels, 3);
	assert_string_equal(c->labels[0].key, PFX "b");
	assert_string_equal(c->labels[0].val, "3");
	assert_string_equal(c->labels[2].key, PFX "a");
	arena_free(a);
}

/* A body of n containers in the fake Docker's shape (Python's json). */
static char *
fake_body(size_t n, size_t *len)
{
	size_t cap = n * 1200 + 16, off = 0, i;
	char *b = malloc(cap);

	off += (size_t)snprintf(b + off, cap - off, "[");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(
		    b + off, cap - off,
		    "%s{\"Id\": \"%064zx\", \"Names\": [\"/bench-%zu\"], "
		    "\"Image\": \"recon-test-busybox:latest\", \"ImageID\": "
		    "\"sha256:6105d6cc76af400325e94d588ce511be5bfdbb73b437dc51e"
		    "ca43917d7a43e3d\", \"Command\": \"sleep 3600\", "
		    "\"Created\": %zu, \"Ports\": [%s{\"PrivatePort\": 22, "
		    "\"Type\": \"tcp\"}], \"Labels\": {\"com.example.other\": "
		    "\"x\", \"maintainer\": \"fake\"%s, \"tinyforge.role\": "
		    "\"r%zu\"}, \"State\": \"%s\", \"Status\": \"Up 2 minutes\", "
		    "\"HostConfig\": {\"NetworkMode\": \"default\"}, "
		    "\"NetworkSettings\": {\"Networks\": {\"bridge\": "
		    "{\"IPAMConfig\": null, \"Links\": null, \"Aliases\": null, "
		    "\"NetworkID\": \"7ea29fc1412292a2\", \"EndpointID\": \"\", "
		    "\"Gateway\": \"172.17.0.1\", \"IPAddress\": \"172.17.0.3\", "
		    "\"IPPrefixLen\": 16, \"IPv6Gateway\": \"\", "
		    "\"GlobalIPv6Address\": \"\", \"GlobalIPv6PrefixLen\": 0, "
		    "\"MacAddress\": \"02:42:ac:11:00:02\", \"DriverOpts\": "
		    "null}}}, \"Mounts\": []}",
		    i ? ", " : "", i * 7919 + 1, i, 1715000000 + i,
		    i % 3 ? ""
		          : "{\"IP\": \"0.0.0.0\", \"PrivatePort\": 80, "
		            "\"PublicPort\": 20000, \"Type\": \"tcp\"}, ",
		    i % 10 == 9 ? "" : ", \"tinyforge.workload.id\": \"bench\"",
		    i, i % 2 ? "exited" : "running");
	off += (size_t)snprintf(b + off, cap - off, "]");
	*len = off;
	return b;
}

/* A big body reads the same both ways, and the arena holds about what the
 * json-c reading kept there: not the strings nobody reads. */
static void
test_big(void **state)
{
	struct arena *a = arena_new(), *o;
	struct parse_result r;
	char err[WIRE_ERR_LEN] = "";
	size_t len;
	char *body = fake_body(3000, &len);

	assert_int_equal(compare(body, len, PFX), V_BOTH_OK);
	assert_int_equal(listscan(body, len, PFX, a, &r, err, sizeof(err)), 0);
	assert_int_equal(r.ncontainers, 2700);
	assert_int_equal(r.unlabelled, 300);
	o = arena_new();
	assert_int_equal(oracle_list(body, len, PFX, o, &r, err, sizeof(err)),
	                 0);
	assert_true(arena_used(a) < arena_used(o) + arena_used(o) / 10);
	arena_free(a);
	arena_free(o);
	free(body);
}

/* Every proper prefix of a list fails, down to the closing ']'. */
static void
test_truncated(void **state)
{
	static const char *const bodies[] = {docker_body, corner_body};
	struct arena *a;
	struct parse_result r;
	char err[WIRE_ERR_LEN];
	size_t i, cut, len, end;
	int rc;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		len = strlen(bodies[i]);
		end = (size_t)(strrchr(bodies[i], ']') - bodies[i]) + 1;
		for (cut = 0; cut <= len; cut++) {
			a = arena_new();
			err[0] = '\0';
			rc = listscan(bodies[i], cut, PFX, a, &r, err,
			              sizeof(err));
			if (cut < end) {
				assert_int_equal(rc, -1);
				assert_non_null(strstr(err, "truncated"));
			} else {
				assert_int_equal(rc, 0);
			}
			arena_free(a);
		}
	}
}

/* R8: a skipped container's id goes with the snapshot so its row stays;
 * one whose id itself is unusable makes the pass unnamed (no sweep). */
static void
test_skipped_ids(void **state)
{
	static const char body[] =
	    "[{\"Id\":\"aa11\",\"Image\":\"i\",\"State\":\"run\xff\",\"Created\":1,"
	    "\"Labels\":{\"" PFX "workload.id\":\"w\"},\"Ports\":[]},"
	    "{\"Id\":\"bb22\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Labels\":{\"" PFX "workload.id\":\"w\",\"" PFX
	    "role\":\"\xc0\xaf\"},"
	    "\"Ports\":[]},"
	    "{\"Id\":\"cc33\",\"Image\":\"i\",\"State\":\"running\",\"Created\":1,"
	    "\"Labels\":{\"" PFX "workload.id\":\"w\"},\"Ports\":[]}]";
	static const char unnamed[] =
	    "[{\"Id\":\"a/b\\u0000\",\"Image\":\"i\",\"State\":\"x\\ud800\","
	    "\"Created\":1,\"Labels\":{\"" PFX
	    "workload.id\":\"w\"},\"Ports\":[]}]";
	struct arena *a = arena_new();
	struct parse_result r;
	char err[WIRE_ERR_LEN];

	assert_int_equal(
	    listscan(body, sizeof(body) - 1, PFX, a, &r, err, sizeof(err)), 0);
	assert_int_equal(r.ncontainers, 1);
	assert_string_equal(r.containers[0].id, "cc33");
	assert_int_equal(r.skipped, 2);
	assert_int_equal(r.nskipped_ids, 2);
	assert_string_equal(r.skipped_ids[0], "aa11");
	assert_string_equal(r.skipped_ids[1], "bb22");
	assert_false(r.skipped_unnamed);
	assert_int_equal(listscan(unnamed, sizeof(unnamed) - 1, PFX, a, &r, err,
	                          sizeof(err)),
	                 0);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(r.nskipped_ids, 0);
	assert_true(r.skipped_unnamed);
	arena_free(a);
}

/* One value against JSON's grammar, alone and inside a list element. */
struct grammar_case {
	const char *text;
	bool ok;
	size_t len;
};

/* sizeof, not strlen: a case may hold a NUL */
#define G(text, ok)                                                            \
	{                                                                      \
		text, ok, sizeof(text) - 1                                     \
	}

static const struct grammar_case grammar_cases[] = {
    G("0", true),
    G("-0", true),
    G("12", true),
    G("-12", true),
    G("1.5", true),
    G("-0.5e-3", true),
    G("1E+2", true),
    G("1e02", true),
    G("123456789012345678901234567890", true),
    G("1e999", true),
    G("01", false),
    G("-01", false),
    G("00", false),
    G("1.", false),
    G(".5", false),
    G("-.5", false),
    G("-", false),
    G("+1", false),
    G("1e", false),
    G("1e+", false),
    G("1.e3", false),
    G("--1", false),
    G("0x10", false),
    G("1.5.3", false),
    G("NaN", false),
    G("Infinity", false),
    G("-Infinity", false),
    G("true", true),
    G("false", true),
    G("null", true),
    G("True", false),
    G("nul", false),
    G("nulll", false),
    G("\"\"", true),
    G("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", true),
    G("\"\\u00e9\\uD83D\\uDE00\\ud800\\udc00\"", true),
    G("\"\\uD800\"", true),
    G("\"\\x\"", false),
    G("\"\\u12\"", false),
    G("\"\\u12G4\"", false),
    G("\"\\U0041\"", false),
    G("\"a\x01z\"", false),
    G("\"a\tz\"", false),
    G("\"a\nz\"", false),
    G("\"a\x7fz\xff\"", true),
    G("'a'", false),
    G("\"abc", false),
    G(" \t\r\n[ ]\r\n", true),
    G("\f[]", false),
    G("[]\v", false),
    G("[1,]", false),
    G("[,1]", false),
    G("[1 2]", false),
    G("[1,,2]", false),
    G("{}", true),
    G("{\"a\":1,\"a\":[{}]}", true),
    G("{\"a\":1,}", false),
    G("{\"a\"}", false),
    G("{\"a\" 1}", false),
    G("{1:2}", false),
    G("{'a':1}", false),
    G("{\"a\":1 \"b\":2}", false),
    G("[1]x", false),
    G("[][]", false),
    G("[]\0", false),
};

static void
test_grammar(void **state)
{
	const struct grammar_case *g;
	static const char head[] = "[{\"Id\":\"a1\",\"Image\":\"i\","
	                           "\"State\":\"s\",\"Created\":1,"
	                           "\"Labels\":{" WID "},\"X\":";
	char err[WIRE_ERR_LEN], body[256];
	struct arena *a;
	struct parse_result r;
	size_t i, len, n;

	for (i = 0; i < sizeof(grammar_cases) / sizeof(grammar_cases[0]); i++) {
		g = &grammar_cases[i];
		len = g->len;
		if ((jscan_check(g->text, len, PARSE_DEPTH_MAX, err,
		                 sizeof(err)) == 0) != g->ok)
			fail_msg("\"%s\": want %s, got %s", g->text,
			         g->ok ? "taken" : "refused", err);
		/* In a field nobody reads, it decides the whole list. */
		n = strlen(head);
		memcpy(body, head, n);
		memcpy(body + n, g->text, len);
		n += len;
		memcpy(body + n, "}]", 2);
		n += 2;
		a = arena_new();
		if ((listscan(body, n, PFX, a, &r, err, sizeof(err)) == 0) !=
		    g->ok)
			fail_msg("list with \"%s\": want %s, got %s", g->text,
			         g->ok ? "taken" : "refused", err);
		arena_free(a);
		compare(body, n, PFX);
	}
}

/* Nesting at the limit and past it, as json-c counts it. */
static bool
jsonc_takes(const char *body, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(PARSE_DEPTH_MAX);
	json_object *o;
	bool ok;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	ok = json_tokener_get_error(tok) == json_tokener_success &&
	     json_tokener_get_parse_end(tok) == len;
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

static void
test_depth(void **state)
{
	char body[512], err[WIRE_ERR_LEN];
	size_t k, i, n, inner;
	bool ok;

	for (k = PARSE_DEPTH_MAX - 3; k <= PARSE_DEPTH_MAX + 2; k++)
		for (inner = 0; inner < 3; inner++) {
			/* k arrays, or k objects, around nothing or a 1 */
			n = 0;
			for (i = 0; i < k; i++)
				n += (size_t)snprintf(
				    body + n, sizeof(body) - n, "%s",
				    inner == 2 ? "{\"a\":" : "[");
			if (inner != 0)
				body[n++] = '1';
			for (i = 0; i < k; i++)
				body[n++] = inner == 2 ? '}' : ']';
			ok = jsonc_takes(body, n);
			assert_int_equal(jscan_check(body, n, PARSE_DEPTH_MAX,
			                             err, sizeof(err)) == 0,
			                 ok);
			if (!ok)
				assert_non_null(strstr(err, "too deep"));
			if (body[0] == '[')
				compare(body, n, PFX);
		}
}

/* xorshift64: the same mutants on every run. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Bytes a mutation puts in: JSON's own, and some it refuses. */
static const char mut_bytes[] =
    "{}[]\",:\\ \t\n\r0123456789-+.eEuntrfalsxyzIdN'/"
    "\x01\x1f\x7f\x80\xff";

#define MUTANTS 6000

/*
 * Mutants of three bodies (a byte replaced, a bit flipped, one inserted or
 * one deleted, up to three times): the scanner takes exactly the ones
 * json-c takes (but for json-c's laxness), with the same records.
 */
static void
test_mutants(void **state)
{
	const char *bases[3];
	size_t blen[3], len, pos, i, m, nm, counts[3] = {0, 0, 0};
	uint64_t seed = 0x9e3779b97f4a7c15u;
	char *fake = fake_body(4, &blen[2]), *buf;

	bases[0] = docker_body;
	blen[0] = strlen(docker_body);
	bases[1] = corner_body;
	blen[1] = strlen(corner_body);
	bases[2] = fake;
	buf = malloc(blen[0] + blen[1] + blen[2] + 8);
	quiet = true;
	for (i = 0; i < MUTANTS; i++) {
		len = blen[i % 3];
		memcpy(buf, bases[i % 3], len);
		nm = 1 + rnd(&seed) % 3;
		for (m = 0; m < nm; m++) {
			pos = rnd(&seed) % (len + 1);
			switch (rnd(&seed) % 4) {
			case 0:
				if (pos < len)
					buf[pos] =
					    mut_bytes[rnd(&seed) %
					              (sizeof(mut_bytes) - 1)];
				break;
			case 1:
				if (pos < len)
					buf[pos] ^= (char)(1 << rnd(&seed) % 8);
				break;
			case 2:
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = mut_bytes[rnd(&seed) %
				                     (sizeof(mut_bytes) - 1)];
				len++;
				break;
			default:
				if (pos < len) {
					memmove(buf + pos, buf + pos + 1,
					        len - pos - 1);
					len--;
				}
				break;
			}
		}
		counts[compare(buf, len, i % 5 == 4 ? "tinyforge.w" : PFX)]++;
	}
	quiet = false;
	print_message("%d mutants: %zu taken by both, %zu refused by both, "
	              "%zu taken by json-c's laxness only\n",
	              MUTANTS, counts[V_BOTH_OK], counts[V_BOTH_FAIL],
	              counts[V_LAX]);
	/* Enough of both kinds for the comparison to mean something. */
	assert_true(counts[V_BOTH_OK] > MUTANTS / 10);
	assert_true(counts[V_BOTH_FAIL] > MUTANTS / 10);
	free(buf);
	free(fake);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grammar),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_agree),
	    cmocka_unit_test(test_corners),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_skipped_ids),
	    cmocka_unit_test(test_big),
	    cmocka_unit_test(test_mutants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
