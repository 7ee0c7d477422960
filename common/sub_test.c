/*
 * sub_test.c: the subscriber client (recon-client.h) against a fake store: a
 * PUB socket that drops what each test tells it to, and a REP thread serving
 * events.since from an in-memory log (compaction and the workload filter
 * as recon-store does them). Asserts on the revisions delivered.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include "arena.h"
#include "recon-client.h"
#include "util.h"
#include "wire.h"

#define LOG_MAX 4096

struct logged {
	char topic[300];
	struct wbuf body;
};

/* The fake store. */
static struct {
	char dir[64], ev_url[128], ctl_url[128];
	nng_socket pub, rep;
	pthread_t thr;
	pthread_mutex_t mu;
	volatile bool stop;
	struct logged log[LOG_MAX + 1]; /* by rev */
	uint64_t head, oldest;
	bool ignore_filter; /* an older store: answers unfiltered */
	unsigned requests;
} fs;

static void
fs_listen(void)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/events", fs.dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.ctl", fs.dir);
	unlink(path);
	assert_int_equal(nng_pub0_open(&fs.pub), 0);
	assert_int_equal(nng_socket_set_int(fs.pub, NNG_OPT_SENDBUF, 8192), 0);
	assert_int_equal(nng_listen(fs.pub, fs.ev_url, NULL, 0), 0);
	assert_int_equal(nng_rep0_open(&fs.rep), 0);
	assert_int_equal(nng_socket_set_ms(fs.rep, NNG_OPT_RECVTIMEO, 20), 0);
	assert_int_equal(nng_listen(fs.rep, fs.ctl_url, NULL, 0), 0);
}

static bool
of_workload(const char *topic, const char *wid)
{
	size_t n = strlen(wid);

	if (strncmp(topic, "container/", 10) == 0)
		return strncmp(topic + 10, wid, n) == 0 && topic[10 + n] == '/';
	return strncmp(topic, "workload/", 9) == 0 &&
	       strcmp(topic + 9, wid) == 0;
}

/* events.since and stats (its rev, the head) as recon-store answers
 * them. */
static void
fs_answer(const struct wire_request *rq, struct wbuf *out)
{
	struct wbuf items = {0};
	uint64_t r, n = 0, limit = rq->limit ? rq->limit : 1000;
	bool filter = rq->workload_id != NULL && !fs.ignore_filter;

	if (strcmp(rq->t, "stats") == 0) {
		pthread_mutex_lock(&fs.mu);
		fs.requests++;
		wire_reply_begin(out, 1);
		wire_reply_u64(out, "rev", fs.head);
		pthread_mutex_unlock(&fs.mu);
		return;
	}
	if (strcmp(rq->t, "events.since") != 0) {
		wire_reply_error(out, "unknown", "unknown request");
		return;
	}
	pthread_mutex_lock(&fs.mu);
	fs.requests++;
	if (rq->rev > fs.head) {
		pthread_mutex_unlock(&fs.mu);
		wire_reply_error(out, "ahead", "newer than the head");
		return;
	}
	if (rq->rev < fs.head && rq->rev + 1 < fs.oldest) {
		pthread_mutex_unlock(&fs.mu);
		wire_reply_error(out, "compacted", "older than the log keeps");
		return;
	}
	for (r = rq->rev + 1; r <= fs.head && n < limit; r++) {
		struct wbuf *b = &fs.log[r].body;
		char *p;

		if (filter && !of_workload(fs.log[r].topic, rq->workload_id))
			continue;
		p = realloc(items.data, items.len + b->len);
		assert_non_null(p);
		items.data = p;
		memcpy(items.data + items.len, b->data, b->len);
		items.len += b->len;
		items.cap = items.len;
		n++;
	}
	wire_reply_begin(out, 2);
	wire_reply_u64(out, "rev", fs.head);
	wire_reply_raw_array(out, "events", n > 0 ? &items : NULL, n);
	pthread_mutex_unlock(&fs.mu);
	wbuf_free(&items);
}

static void *
fs_serve(void *arg)
{
	struct wire_request rq;
	struct wbuf out = {0};
	struct arena *a;
	char err[WIRE_ERR_LEN];
	nng_msg *m;

	while (!fs.stop) {
		if (nng_recvmsg(fs.rep, &m, 0) != 0)
			continue;
		a = arena_new();
		wbuf_reset(&out);
		if (wire_decode_request(nng_msg_body(m), nng_msg_len(m), a, &rq,
		                        err) == -1)
			wire_reply_error(&out, "invalid", err);
		else
			fs_answer(&rq, &out);
		arena_free(a);
		nng_msg_clear(m);
		nng_msg_append(m, out.data, out.len);
		if (nng_sendmsg(fs.rep, m, 0) != 0)
			nng_msg_free(m);
	}
	wbuf_free(&out);
	return NULL;
}

static void
fs_start(void)
{
	fs.stop = false;
	fs_listen();
	assert_int_equal(pthread_create(&fs.thr, NULL, fs_serve, NULL), 0);
}

static void
fs_halt(void)
{
	fs.stop = true;
	pthread_join(fs.thr, NULL);
	nng_close(fs.pub);
	nng_close(fs.rep);
}

static int
setup(void **state)
{
	memset(&fs, 0, sizeof(fs));
	snprintf(fs.dir, sizeof(fs.dir), "/tmp/recon-subtest.XXXXXX");
	assert_non_null(mkdtemp(fs.dir));
	snprintf(fs.ev_url, sizeof(fs.ev_url), "ipc://%s/events", fs.dir);
	snprintf(fs.ctl_url, sizeof(fs.ctl_url), "ipc://%s/store.ctl", fs.dir);
	pthread_mutex_init(&fs.mu, NULL);
	fs.oldest = 1;
	fs_start();
	return 0;
}

static int
teardown(void **state)
{
	char path[200];
	uint64_t r;

	fs_halt();
	for (r = 0; r <= LOG_MAX; r++)
		wbuf_free(&fs.log[r].body);
	snprintf(path, sizeof(path), "%s/events", fs.dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.ctl", fs.dir);
	unlink(path);
	rmdir(fs.dir);
	pthread_mutex_destroy(&fs.mu);
	return 0;
}

/* Logs the next change (a container row of wid, or with wid NULL a pass)
 * and publishes it unless drop. Returns its revision. */
static uint64_t
change(const char *wid, bool drop)
{
	struct wire_row row;
	struct wire_event ev;
	struct logged *l;
	nng_msg *m;
	char rid[64];
	size_t tlen;
	uint64_t rev;

	pthread_mutex_lock(&fs.mu);
	rev = ++fs.head;
	assert_true(rev <= LOG_MAX);
	l = &fs.log[rev];
	memset(&ev, 0, sizeof(ev));
	memset(&row, 0, sizeof(row));
	ev.rev = rev;
	if (wid != NULL) {
		snprintf(rid, sizeof(rid), "%s:r%llu", wid,
		         (unsigned long long)rev % 3);
		row.id = rid;
		row.workload_id = (char *)wid;
		row.state = rev % 2 ? "running" : "stopped";
		ev.type = WIRE_EV_CONTAINER;
		ev.op = "upsert";
		ev.row = &row;
		ev.prev_state = rev % 2 ? "stopped" : "running";
		ev.at = now_ms();
		snprintf(l->topic, sizeof(l->topic), "container/%s/%s", wid,
		         rid);
	} else {
		ev.type = WIRE_EV_PASS;
		ev.host = "local";
		ev.gen = rev;
		snprintf(l->topic, sizeof(l->topic), "sys/pass");
	}
	wbuf_reset(&l->body);
	assert_int_equal(wire_encode_event(&l->body, &ev), 0);
	pthread_mutex_unlock(&fs.mu);
	if (drop)
		return rev;
	tlen = strlen(l->topic) + 1;
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, l->topic, tlen);
	nng_msg_append(m, l->body.data, l->body.len);
	assert_int_equal(nng_sendmsg(fs.pub, m, 0), 0);
	return rev;
}

static struct recon_sub *
sub_new(const char *follow, uint64_t since)
{
	struct recon_sub *s = recon_sub_open_url(fs.ev_url, fs.ctl_url);

	assert_non_null(s);
	recon_sub_set_timeout(s, 2000);
	if (follow != NULL)
		assert_int_equal(recon_sub_follow(s, follow), 0);
	assert_int_equal(recon_sub_start(s, since), RECON_SUB_OK);
	return s;
}

/* The next n events are exactly want[0..n), in order, each within 5 s. */
static void
expect(struct recon_sub *s, const uint64_t *want, size_t n)
{
	struct recon_event ev;
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(recon_sub_next(s, 5000, &ev), RECON_SUB_EVENT);
		assert_int_equal(ev.rev, want[i]);
		assert_non_null(ev.topic);
		/* following workloads, the position may pass others' events */
		assert_true(recon_sub_position(s) >= want[i]);
		if (i + 1 < n)
			assert_true(recon_sub_position(s) < want[i + 1]);
	}
}

static void
expect_range(struct recon_sub *s, uint64_t from, uint64_t to)
{
	uint64_t *want = calloc(to - from + 1, sizeof(*want)), r;

	assert_non_null(want);
	for (r = from; r <= to; r++)
		want[r - from] = r;
	expect(s, want, to - from + 1);
	free(want);
}

static void
expect_quiet(struct recon_sub *s, int64_t ms)
{
	struct recon_event ev;

	assert_int_equal(recon_sub_next(s, ms, &ev), RECON_SUB_TIMEOUT);
}

static void
test_in_order(void **state)
{
	struct recon_sub *s = sub_new(NULL, RECON_SUB_NOW);
	struct recon_sub_stats st;
	int i;

	for (i = 0; i < 50; i++)
		change("web", false);
	expect_range(s, 1, 50);
	expect_quiet(s, 300);
	recon_sub_stats(s, &st);
	assert_int_equal(st.delivered, 50);
	assert_int_equal(st.live + st.filled, 50);
	recon_sub_close(s);
}

/* Dropped messages in the middle and at the very end: filled from the
 * log, the tail by the check of a quiet stream. */
static void
test_gap_fill(void **state)
{
	struct recon_sub *s = sub_new(NULL, RECON_SUB_NOW);
	struct recon_sub_stats st;
	uint64_t r;

	for (r = 1; r <= 100; r++)
		change(r % 7 ? "web" : NULL,
		       (r >= 10 && r <= 20) || r == 50 || r >= 97);
	expect_range(s, 1, 100);
	expect_quiet(s, 300);
	recon_sub_stats(s, &st);
	assert_true(st.filled >= 15);
	assert_true(st.gaps >= 1);
	assert_int_equal(st.delivered, 100);
	recon_sub_close(s);
}

static void
test_duplicates(void **state)
{
	struct recon_sub *s = sub_new(NULL, RECON_SUB_NOW);
	struct recon_sub_stats st;
	nng_msg *m;
	uint64_t r;

	for (r = 1; r <= 10; r++)
		change("web", false);
	expect_range(s, 1, 10);
	/* the store's PUB sending rev 5 again */
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, fs.log[5].topic, strlen(fs.log[5].topic) + 1);
	nng_msg_append(m, fs.log[5].body.data, fs.log[5].body.len);
	assert_int_equal(nng_sendmsg(fs.pub, m, 0), 0);
	change("web", false);
	expect_range(s, 11, 11);
	recon_sub_stats(s, &st);
	assert_int_equal(st.duplicates, 1);
	recon_sub_close(s);
}

static void
test_resume(void **state)
{
	struct recon_sub *s;
	uint64_t r;

	for (r = 1; r <= 2500; r++)
		change("web", true);
	/* more than one page of the log, none of it published */
	s = sub_new(NULL, 12);
	expect_range(s, 13, 2500);
	change("web", false);
	expect_range(s, 2501, 2501);
	recon_sub_close(s);
}

static void
test_compacted(void **state)
{
	struct recon_sub *s;
	struct recon_event ev;
	uint64_t r;

	for (r = 1; r <= 30; r++)
		change("web", true);
	fs.oldest = 20;
	s = recon_sub_open_url(fs.ev_url, fs.ctl_url);
	assert_int_equal(recon_sub_start(s, 5), RECON_SUB_COMPACTED);
	assert_non_null(strstr(recon_sub_error(s), "compacted"));
	/* listing again and starting from the list's revision works */
	assert_int_equal(recon_sub_start(s, 30), RECON_SUB_OK);
	change("web", false);
	expect_range(s, 31, 31);
	/* a subscriber that falls behind the log while running */
	change("web", true);
	change("web", true);
	fs.oldest = 34;
	change("web", false);
	assert_int_equal(recon_sub_next(s, 5000, &ev), RECON_SUB_COMPACTED);
	assert_int_equal(recon_sub_next(s, 0, &ev), RECON_SUB_COMPACTED);
	assert_int_equal(recon_sub_position(s), 31);
	recon_sub_close(s);
}

/* A store whose head is below our position holds another history. */
static void
test_history_replaced(void **state)
{
	struct recon_sub *s;
	uint64_t r;

	for (r = 1; r <= 5; r++)
		change("web", true);
	s = recon_sub_open_url(fs.ev_url, fs.ctl_url);
	assert_int_equal(recon_sub_start(s, 9), RECON_SUB_COMPACTED);
	recon_sub_close(s);
}

/* Following workload "a": not "ab"'s nor "b"'s events, nor sys/pass,
 * with drops, whether or not the store filters events.since. */
static void
filter_case(bool store_filters)
{
	static const char *const wids[] = {"a", "ab", "b", NULL};
	struct recon_sub *s;
	uint64_t want[200], r;
	size_t n = 0;

	fs.ignore_filter = !store_filters;
	s = sub_new("a", RECON_SUB_NOW);
	for (r = 1; r <= 200; r++) {
		const char *w = wids[r % 4];
		change(w, r % 5 == 0);
		if (w != NULL && strcmp(w, "a") == 0)
			want[n++] = r;
	}
	expect(s, want, n);
	expect_quiet(s, 300);
	recon_sub_close(s);
}

static void
test_filter(void **state)
{
	filter_case(true);
}

static void
test_filter_client_side(void **state)
{
	filter_case(false);
}

static void
test_two_workloads(void **state)
{
	struct recon_sub *s = recon_sub_open_url(fs.ev_url, fs.ctl_url);
	struct recon_event ev;
	uint64_t r;

	assert_int_equal(recon_sub_follow(s, "a"), 0);
	assert_int_equal(recon_sub_follow(s, "b"), 0);
	assert_int_equal(recon_sub_follow(s, "no/slash"), -1);
	assert_int_equal(recon_sub_start(s, RECON_SUB_NOW), RECON_SUB_OK);
	for (r = 1; r <= 30; r++)
		change(r % 3 == 0 ? "a" : r % 3 == 1 ? "b" : "c", r % 4 == 0);
	for (r = 1; r <= 30; r++) {
		if (r % 3 == 2)
			continue;
		assert_int_equal(recon_sub_next(s, 5000, &ev), RECON_SUB_EVENT);
		assert_int_equal(ev.rev, r);
		assert_string_equal(ev.workload_id, r % 3 ? "b" : "a");
	}
	expect_quiet(s, 300);
	recon_sub_close(s);
}

/* The store goes away and comes back: what was committed meanwhile, and
 * what its first publications lost, arrive in order. */
static void
test_store_restart(void **state)
{
	struct recon_sub *s = sub_new(NULL, RECON_SUB_NOW);
	struct recon_sub_stats st;
	struct recon_event ev;
	uint64_t r;

	for (r = 1; r <= 10; r++)
		change("web", false);
	expect_range(s, 1, 10);
	fs_halt();
	assert_int_equal(recon_sub_next(s, 300, &ev), RECON_SUB_TIMEOUT);
	for (r = 11; r <= 20; r++)
		change("web", true); /* committed while nobody listens */
	fs_start();
	for (r = 21; r <= 30; r++)
		change("web", false);
	expect_range(s, 11, 30);
	/* `events` is redialled too (nng backs off up to a second) */
	for (r = 0; r < 30; r++) {
		recon_sub_stats(s, &st);
		if (st.reconnects >= 1)
			break;
		expect_quiet(s, 100);
	}
	assert_true(st.reconnects >= 1);
	recon_sub_close(s);
}

static void
test_unreachable(void **state)
{
	struct recon_sub *s =
	    recon_sub_open_url("ipc:///nonexistent/recon/events",
	                       "ipc:///nonexistent/recon/store.ctl");
	struct recon_event ev;

	recon_sub_set_timeout(s, 200);
	assert_int_equal(recon_sub_next(s, 0, &ev), RECON_SUB_ERROR);
	assert_int_equal(recon_sub_start(s, RECON_SUB_NOW),
	                 RECON_SUB_UNREACHABLE);
	assert_non_null(strstr(recon_sub_error(s), "unreachable"));
	recon_sub_close(s);
}

/* Garbage on `events` is counted and dropped; the stream goes on. */
static void
test_garbage(void **state)
{
	static const char notopic[] = "container/web/x";
	static const char badbody[] = "container/web/x\0\x81\xa1t\xc0";
	struct recon_sub *s = sub_new(NULL, RECON_SUB_NOW);
	struct recon_sub_stats st;
	nng_msg *m;

	change("web", false);
	expect_range(s, 1, 1);
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, notopic, strlen(notopic));
	assert_int_equal(nng_sendmsg(fs.pub, m, 0), 0);
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, badbody, sizeof(badbody) - 1);
	assert_int_equal(nng_sendmsg(fs.pub, m, 0), 0);
	change("web", false);
	expect_range(s, 2, 2);
	recon_sub_stats(s, &st);
	assert_int_equal(st.errors, 2);
	recon_sub_close(s);
}

static void
test_event_fields(void **state)
{
	struct recon_sub *s = sub_new(NULL, RECON_SUB_NOW);
	struct recon_event ev;
	char *j;

	change("web", false);
	change(NULL, false);
	assert_int_equal(recon_sub_next(s, 5000, &ev), RECON_SUB_EVENT);
	assert_int_equal(ev.type, RECON_EVENT_CONTAINER);
	assert_string_equal(ev.type_name, "container");
	assert_string_equal(ev.topic, "container/web/web:r1");
	assert_string_equal(ev.workload_id, "web");
	assert_string_equal(ev.row_id, "web:r1");
	assert_string_equal(ev.op, "upsert");
	assert_string_equal(ev.state, "running");
	assert_string_equal(ev.prev_state, "stopped");
	assert_true(ev.at > 0);
	assert_memory_equal(ev.body, fs.log[1].body.data, ev.len);
	j = recon_event_json(&ev);
	assert_non_null(j);
	assert_non_null(strstr(j, "\"topic\":\"container/web/web:r1\""));
	assert_non_null(strstr(j, "\"rev\":1"));
	free(j);
	assert_int_equal(recon_sub_next(s, 5000, &ev), RECON_SUB_EVENT);
	assert_int_equal(ev.type, RECON_EVENT_PASS);
	assert_string_equal(ev.topic, "sys/pass");
	assert_string_equal(ev.workload_id, "");
	assert_int_equal(ev.gen, 2);
	recon_sub_close(s);
}

/* events.since's reply decoder: the spans are the bodies as sent; bad
 * replies are refused whole. */
static void
test_events_reply(void **state)
{
	struct wbuf items = {0}, b = {0}, body = {0};
	struct wire_event ev = {.type = WIRE_EV_PASS, .host = "h", .gen = 1};
	struct wire_span *sp;
	struct arena *a = arena_new();
	char err[WIRE_ERR_LEN];
	uint64_t rev;
	size_t n, i, off[4];

	for (i = 0; i < 3; i++) {
		ev.rev = 7 + i;
		wbuf_reset(&body);
		assert_int_equal(wire_encode_event(&body, &ev), 0);
		off[i] = items.len;
		items.data = realloc(items.data, items.len + body.len);
		assert_non_null(items.data);
		memcpy(items.data + items.len, body.data, body.len);
		items.len += body.len;
		items.cap = items.len;
	}
	off[3] = items.len;
	assert_int_equal(wire_reply_begin(&b, 2), 0);
	assert_int_equal(wire_reply_u64(&b, "rev", 42), 0);
	assert_int_equal(wire_reply_raw_array(&b, "events", &items, 3), 0);
	assert_int_equal(
	    wire_decode_events_reply(b.data, b.len, a, &rev, &sp, &n, err), 0);
	assert_int_equal(rev, 42);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(sp[i].len, off[i + 1] - off[i]);
		assert_memory_equal(sp[i].p, items.data + off[i], sp[i].len);
		assert_int_equal(
		    wire_decode_event(sp[i].p, sp[i].len, a, &ev, err), 0);
		assert_int_equal(ev.rev, 7 + i);
	}
	/* every truncation, and a trailing byte */
	for (i = 0; i < b.len; i++)
		assert_int_equal(
		    wire_decode_events_reply(b.data, i, a, &rev, &sp, &n, err),
		    -1);
	b.data = realloc(b.data, b.len + 1);
	assert_non_null(b.data);
	b.data[b.len] = '\0';
	assert_int_equal(
	    wire_decode_events_reply(b.data, b.len + 1, a, &rev, &sp, &n, err),
	    -1);
	assert_null(sp);
	assert_int_equal(n, 0);
	/* an error reply, and an ok one without events */
	wbuf_reset(&b);
	wire_reply_error(&b, "compacted", "gone");
	assert_int_equal(
	    wire_decode_events_reply(b.data, b.len, a, &rev, &sp, &n, err), -1);
	wbuf_reset(&b);
	wire_reply_begin(&b, 1);
	wire_reply_u64(&b, "rev", 1);
	assert_int_equal(
	    wire_decode_events_reply(b.data, b.len, a, &rev, &sp, &n, err), -1);
	assert_non_null(strstr(err, "events"));
	wbuf_free(&b);
	wbuf_free(&items);
	wbuf_free(&body);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gap_fill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compacted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history_replaced, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_client_side, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_two_workloads, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_store_restart, setup,
	                                    teardown),
	    cmocka_unit_test(test_unreachable),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_fields, setup, teardown),
	    cmocka_unit_test(test_events_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
