/*
 * known_test.c: known.c: the first list only sets the baseline, later ones
 * report exactly the containers that are new, gone or changed in a field
 * a snapshot carries; re-reads update it; workloads are looked up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "known.h"

#define PFX "p."

struct seen {
	char ids[16][16];
	int n;
};

static void
note(void *arg, const char *id)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", id);
}

static int
seen_has(const struct seen *s, const char *id)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return 1;
	return 0;
}

static struct wire_kv labels_a[] = {{"p.workload.id", "wa"}, {"p.role", "r"}};
static struct wire_kv labels_b[] = {{"p.workload.id", "wb"}};
static int64_t ports[] = {8080, 9090};

static void
fill(struct wire_container *c)
{
	static const struct wire_container base[] = {
	    {"c1", "img", "running", 100, labels_a, 2, ports, 2},
	    {"c2", "img", "exited", 200, labels_a, 1, NULL, 0},
	    {"c3", "img", "running", 300, labels_b, 1, ports, 1},
	};

	memcpy(c, base, sizeof(base));
}

static void
test_replace(void **state)
{
	struct known *k = known_new(PFX);
	struct wire_container cs[4];
	struct seen s = {.n = 0};

	fill(cs);
	assert_false(known_primed(k));
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	assert_int_equal(s.n, 0); /* the baseline */
	assert_true(known_primed(k));
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	assert_int_equal(s.n, 0); /* nothing changed */

	cs[0].state = "exited"; /* c1 changed */
	cs[1] = cs[2];          /* c2 gone */
	cs[2].id = "c4";        /* c4 new */
	cs[2].ports = &ports[1];
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(seen_has(&s, "c1"));
	assert_true(seen_has(&s, "c2"));
	assert_true(seen_has(&s, "c4"));
	assert_int_equal(known_count(k), 3); /* c1, c3, c4 */
	known_free(k);
}

/* Each field a snapshot carries counts; a different but equal string
 * does not. */
static void
test_fields(void **state)
{
	struct known *k = known_new(PFX);
	struct wire_container cs[3], c;
	struct wire_kv other[] = {{"p.workload.id", "wa"}, {"p.role", "s"}};
	char img[] = "img";
	struct seen s = {.n = 0};

	fill(cs);
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	c = cs[0];
	c.image = img;
	assert_false(known_changed(k, &c));
	c = cs[0];
	c.image = "img2";
	assert_true(known_changed(k, &c));
	c = cs[0];
	c.created = 101;
	assert_true(known_changed(k, &c));
	c = cs[0];
	c.labels = other;
	assert_true(known_changed(k, &c));
	c = cs[0];
	c.nports = 1;
	assert_true(known_changed(k, &c));
	c = cs[0];
	c.id = "c9";
	assert_true(known_changed(k, &c)); /* not known */
	known_free(k);
}

static void
test_update(void **state)
{
	struct known *k = known_new(PFX);
	struct wire_container cs[3], c;
	char *gone[] = {"c2", "zz"};
	struct seen s = {.n = 0};

	fill(cs);
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	assert_string_equal(known_wid(k, "c1"), "wa");
	assert_null(known_wid(k, "c9"));
	known_each_of(k, "wa", note, &s);
	assert_int_equal(s.n, 2);
	c = cs[0];
	c.id = "c0";
	c.labels = labels_b;
	c.nlabels = 1;
	assert_int_equal(known_update(k, &c, 1, gone, 2), 0);
	assert_int_equal(known_count(k), 3); /* c0, c1, c3 */
	assert_null(known_wid(k, "c2"));
	assert_string_equal(known_wid(k, "c0"), "wb");
	s.n = 0;
	known_each_of(k, "wb", note, &s);
	assert_int_equal(s.n, 2);
	assert_true(seen_has(&s, "c0") && seen_has(&s, "c3"));
	/* After the update a pass that lists the same sees no change. */
	cs[1] = c;
	s.n = 0;
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	assert_int_equal(s.n, 0);
	known_free(k);
}

/* The records kept are deep copies: what an event is applied to. */
static void
test_record(void **state)
{
	struct known *k = known_new(PFX);
	struct arena *a = arena_new();
	struct wire_container cs[3], c;
	char id[] = "c1", img[] = "img";
	struct seen s = {.n = 0};

	fill(cs);
	cs[0].id = id;
	cs[0].image = img;
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	id[0] = img[0] = 'x'; /* the caller's buffers are not kept */
	assert_int_equal(known_record(k, "c1", a, &c), 0);
	assert_string_equal(c.id, "c1");
	assert_string_equal(c.image, "img");
	assert_string_equal(c.state, "running");
	assert_true(c.created == 100);
	assert_int_equal(c.nlabels, 2);
	assert_string_equal(c.labels[1].key, "p.role");
	assert_string_equal(c.labels[1].val, "r");
	assert_int_equal(c.nports, 2);
	assert_true(c.ports[1] == 9090);
	assert_false(known_changed(k, &c));
	assert_int_equal(known_record(k, "c9", a, &c), -1);
	arena_free(a);
	known_free(k);
}

/* An event's state on a known record: ports as Docker lists them in that
 * state; a start needs the ports the container last ran with. */
static void
test_derive(void **state)
{
	struct known *k = known_new(PFX);
	struct arena *a = arena_new();
	struct wire_container cs[3], c;
	struct seen s = {.n = 0};

	fill(cs);
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	/* die: exited, no ports, the rest as known */
	assert_int_equal(known_derive(k, "c1", "exited", a, &c), 0);
	assert_string_equal(c.state, "exited");
	assert_int_equal(c.nports, 0);
	assert_string_equal(c.image, "img");
	assert_int_equal(c.nlabels, 2);
	assert_true(known_changed(k, &c));
	/* pause keeps the ports */
	assert_int_equal(known_derive(k, "c1", "paused", a, &c), 0);
	assert_int_equal(c.nports, 2);
	/* a start of a container never seen up: nothing to build on */
	assert_int_equal(known_derive(k, "c2", "running", a, &c), -1);
	assert_int_equal(known_derive(k, "c9", "exited", a, &c), -1);
	/* c1 applied exited; a later list shows it exited too: a start
	 * brings back the ports it ran with */
	assert_int_equal(known_derive(k, "c1", "exited", a, &c), 0);
	assert_int_equal(known_update(k, &c, 1, NULL, 0), 0);
	cs[0].state = "exited";
	cs[0].nports = 0;
	assert_int_equal(known_replace(k, cs, 3, note, &s), 0);
	assert_int_equal(known_derive(k, "c1", "running", a, &c), 0);
	assert_string_equal(c.state, "running");
	assert_int_equal(c.nports, 2);
	assert_true(c.ports[0] == 8080 && c.ports[1] == 9090);
	/* applied, it is what a list of the running container shows */
	assert_int_equal(known_update(k, &c, 1, NULL, 0), 0);
	cs[0].state = "running";
	cs[0].nports = 2;
	assert_false(known_changed(k, &cs[0]));
	/* c2 seen running once (a re-read), then exited: it can start */
	c = cs[1];
	c.state = "running";
	c.ports = &ports[1];
	c.nports = 1;
	assert_int_equal(known_update(k, &c, 1, NULL, 0), 0);
	c.state = "exited";
	c.nports = 0;
	assert_int_equal(known_update(k, &c, 1, NULL, 0), 0);
	assert_int_equal(known_derive(k, "c2", "running", a, &c), 0);
	assert_int_equal(c.nports, 1);
	assert_true(c.ports[0] == 9090);
	arena_free(a);
	known_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replace), cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_update),  cmocka_unit_test(test_record),
	    cmocka_unit_test(test_derive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
