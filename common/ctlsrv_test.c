/*
 * ctlsrv_test.c: the ctl server on a real ipc socket: many clients at
 * once each get their own answer, answers kept for later are sent, a
 * reply to a client that hung up is counted, writes need a trusted uid,
 * the slots do not keep the buffers of large replies.
 */
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "clnt.h"
#include "ctlsrv.h"
#include "nngx.h"
#include "testfx.h"
#include "wirejson.h"

#define NTHREADS 16
#define NCALLS   50
#define NSLOTS   8
#define BIG      (200 * 1024) /* bytes of a "big" reply's string */

/* The loop's state: requests kept for later, answered on the next turn. */
struct loop {
	struct ctlsrv *srv;
	struct ctlsrv_req *later[NTHREADS * NCALLS];
	size_t nlater;
	volatile bool stop;
	uint64_t writes;
};

static struct loop L;
static char dir[64], url[128];
static volatile int pipes_removed;

static void
pipe_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	__atomic_fetch_add(&pipes_removed, 1, __ATOMIC_SEQ_CST);
}

/* echo id: {ok, job: id} at once. */
static int
cmd_echo(void *arg, struct ctlsrv_req *req)
{
	if (wire_reply_begin(req->out, 1) == -1)
		return -1;
	return wire_reply_str(req->out, "job", req->rq->id ? req->rq->id : "");
}

/* later id: the same answer, sent on the loop's next turn. */
static int
cmd_later(void *arg, struct ctlsrv_req *req)
{
	struct loop *l = arg;

	l->later[l->nlater++] = req;
	return CTLSRV_LATER;
}

static int
cmd_write(void *arg, struct ctlsrv_req *req)
{
	struct loop *l = arg;

	l->writes++;
	return wire_reply_begin(req->out, 0);
}

static void
health(void *arg, struct ctlsrv_req *req, bool live, struct wire_health *h)
{
	h->ready = true;
}

/* big: {ok, job: BIG bytes}, an events.since's size. */
static int
cmd_big(void *arg, struct ctlsrv_req *req)
{
	static char s[BIG + 1];

	memset(s, 'x', BIG);
	if (wire_reply_begin(req->out, 1) == -1)
		return -1;
	return wire_reply_str(req->out, "job", s);
}

static const struct ctlsrv_cmd cmds[] = {
    {"big", cmd_big},
    {"echo", cmd_echo},
    {"later", cmd_later},
    {"resync", cmd_write},
};

static const struct ctlsrv_config cfg = {
    .name = "test.ctl",
    .proc = "recon-test",
    .cmds = cmds,
    .ncmds = sizeof(cmds) / sizeof(cmds[0]),
    .health = health,
    .arg = &L,
    .admin_uid = 4242,
};

static void *
loop_main(void *arg)
{
	struct pollfd pfd = {ctlsrv_fd(L.srv), POLLIN, 0};
	size_t i;

	while (!L.stop) {
		poll(&pfd, 1, 20);
		ctlsrv_serve(L.srv);
		for (i = 0; i < L.nlater; i++) {
			cmd_echo(NULL, L.later[i]);
			ctlsrv_answer(L.later[i]);
		}
		L.nlater = 0;
	}
	return NULL;
}

static pthread_t loop_thr;
static nng_socket srv_sock;

static int
setup(void **state)
{
	struct nngx_listen_opts lo = {
	    .max_msg = 1 << 20, .mode = 0600, .admin_uid = -1};
	nng_socket s;

	memset(&L, 0, sizeof(L));
	snprintf(dir, sizeof(dir), "/tmp/ctlsrv_test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/test.ctl", dir);
	assert_int_equal(nngx_listen(&s, NNGX_REP, url, &lo), 0);
	nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, pipe_removed, NULL);
	srv_sock = s;
	assert_non_null(L.srv = ctlsrv_new(s, &cfg, NSLOTS));
	assert_int_equal(pthread_create(&loop_thr, NULL, loop_main, NULL), 0);
	return 0;
}

static int
teardown(void **state)
{
	char path[160];

	L.stop = true;
	pthread_join(loop_thr, NULL);
	ctlsrv_free(L.srv);
	snprintf(path, sizeof(path), "%s/test.ctl", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* One call to address to; the reply as JSON (NULL when none came). */
static json_object *
call_to(const char *to, const char *t, const char *id)
{
	struct wire_request rq;
	struct wbuf req = {0}, rep = {0};
	char err[256], werr[WIRE_ERR_LEN];
	json_object *o = NULL;
	struct clnt *c = clnt_new(to, 10000);

	memset(&rq, 0, sizeof(rq));
	rq.t = (char *)t;
	rq.id = (char *)id;
	assert_non_null(c);
	if (wire_encode_request(&req, &rq) == 0 &&
	    clnt_request(c, &req, &rep, err, sizeof(err)) == CLNT_OK)
		o = wire_to_json(rep.data, rep.len, werr);
	clnt_free(c);
	wbuf_free(&req);
	wbuf_free(&rep);
	return o;
}

static json_object *
call(const char *t, const char *id)
{
	return call_to(url, t, id);
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v)
	                                             : NULL;
}

static void *
client_main(void *arg)
{
	long n = (long)arg, i, good = 0;
	char id[32];
	json_object *o;
	const char *got;

	for (i = 0; i < NCALLS; i++) {
		snprintf(id, sizeof(id), "c%ld-%ld", n, i);
		o = call(i % 2 ? "later" : "echo", id);
		got = o != NULL ? jstr(o, "job") : NULL;
		if (got != NULL && strcmp(got, id) == 0)
			good++;
		json_object_put(o);
	}
	return (void *)good;
}

/* 16 clients at once, twice as many as the server has slots: every one
 * of 800 calls gets its own answer, none is lost. */
static void
many_clients(void **state)
{
	pthread_t thr[NTHREADS];
	struct ctlsrv_stats st;
	void *good;
	long i, total = 0;

	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(
		    pthread_create(&thr[i], NULL, client_main, (void *)i), 0);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(thr[i], &good);
		total += (long)good;
	}
	assert_int_equal(total, NTHREADS * NCALLS);
	ctlsrv_stats(L.srv, &st);
	assert_int_equal(st.requests, NTHREADS * NCALLS);
	assert_int_equal(st.replies_lost, 0);
	assert_int_equal(st.in_flight, 0);
}

/* A client that hangs up before its answer: the reply is counted lost,
 * its reason "peer gone", and the server goes on answering. */
static void
peer_gone_counted(void **state)
{
	struct wire_request rq;
	struct wbuf req = {0};
	struct ctlsrv_stats st;
	json_object *o;
	nng_socket s;
	nng_msg *m;
	int i, gone0;

	memset(&rq, 0, sizeof(rq));
	rq.t = "later";
	rq.id = "gone";
	assert_int_equal(wire_encode_request(&req, &rq), 0);
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	/* the loop holds "later" requests until its next turn; stop it
	 * answering until this client is gone */
	L.stop = true;
	pthread_join(loop_thr, NULL);
	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	assert_int_equal(nng_msg_append(m, req.data, req.len), 0);
	assert_int_equal(nng_sendmsg(s, m, 0), 0);
	/* wait until the server has it, then hang up */
	for (i = 0; i < 500; i++) {
		ctlsrv_serve(L.srv);
		if (L.nlater == 1)
			break;
		usleep(10000);
	}
	assert_int_equal(L.nlater, 1);
	gone0 = __atomic_load_n(&pipes_removed, __ATOMIC_SEQ_CST);
	nng_close(s);
	/* nng removes the server's pipe on its own threads */
	for (i = 0; i < 500; i++) {
		if (__atomic_load_n(&pipes_removed, __ATOMIC_SEQ_CST) > gone0)
			break;
		usleep(10000);
	}
	assert_true(__atomic_load_n(&pipes_removed, __ATOMIC_SEQ_CST) > gone0);
	cmd_echo(NULL, L.later[0]);
	ctlsrv_answer(L.later[0]);
	L.nlater = 0;
	L.stop = false;
	assert_int_equal(pthread_create(&loop_thr, NULL, loop_main, NULL), 0);
	ctlsrv_stats(L.srv, &st);
	assert_int_equal(st.replies_lost, 1);
	assert_int_equal(st.peers_gone, 1);
	o = call("echo", "after");
	assert_non_null(o);
	assert_string_equal(jstr(o, "job"), "after");
	json_object_put(o);
	wbuf_free(&req);
}

/* Writes need uid 0, ours or --admin-uid; the health reply carries the
 * server's counters. Through ctlsrv_handle, as the server calls it. */
static void
trust_and_health(void **state)
{
	struct wire_request rq;
	struct wbuf req = {0}, out = {0};
	struct ctlsrv_req *r;
	struct arena *a;
	json_object *o, *v;
	char err[WIRE_ERR_LEN];
	static const int64_t uids[] = {12345, -1, 0, 4242};
	static const bool allowed[] = {false, false, true, true};
	size_t i;

	memset(&rq, 0, sizeof(rq));
	rq.t = "resync";
	assert_int_equal(wire_encode_request(&req, &rq), 0);
	for (i = 0; i < 4; i++) {
		a = arena_new();
		assert_int_equal(ctlsrv_handle(NULL, &cfg, req.data, req.len,
		                               uids[i], a, &out, &r),
		                 0);
		o = wire_to_json(out.data, out.len, err);
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "ok", &v));
		assert_int_equal(json_object_get_boolean(v), allowed[i]);
		if (!allowed[i]) {
			assert_true(json_object_object_get_ex(o, "error", &v));
			assert_string_equal(jstr(v, "code"), "forbidden");
		}
		json_object_put(o);
		arena_free(a);
	}
	assert_int_equal(L.writes, 2);
	o = call("health", NULL);
	assert_non_null(o);
	assert_string_equal(jstr(o, "name"), "recon-test");
	assert_true(json_object_object_get_ex(o, "counters", &v));
	assert_true(json_object_object_get_ex(v, "ctl_replies_lost", NULL));
	json_object_put(o);
	o = call("nosuch", NULL);
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_string_equal(jstr(v, "code"), "unknown");
	json_object_put(o);
	wbuf_free(&req);
	wbuf_free(&out);
}

/* SPEC §10: a request that came through a remote listener may read and
 * nothing else, whatever uid the asker has (the test runs as a trusted
 * one): decided by the listener of its pipe, never by the message. */
static void
remote_reads_only(void **state)
{
	char rurl[64], err[WIRE_ERR_LEN];
	struct wire_request rq;
	struct wbuf req = {0}, out = {0};
	struct ctlsrv_req *r;
	struct ctlsrv_stats st;
	struct arena *a;
	json_object *o, *v;

	snprintf(rurl, sizeof(rurl), "tcp://127.0.0.1:%d", testfx_free_port());
	assert_int_equal(nngx_listen_remote(srv_sock, rurl), 0);
	o = call_to(rurl, "resync", NULL);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_string_equal(jstr(v, "code"), "forbidden");
	assert_non_null(strstr(jstr(v, "message"), "remote listener"));
	json_object_put(o);
	o = call_to(rurl, "echo", "far");
	assert_non_null(o);
	assert_string_equal(jstr(o, "job"), "far");
	json_object_put(o);
	o = call_to(rurl, "health", NULL);
	assert_non_null(o);
	assert_string_equal(jstr(o, "name"), "recon-test");
	json_object_put(o);
	assert_int_equal(L.writes, 0);
	ctlsrv_stats(L.srv, &st);
	assert_int_equal(st.forbidden, 1);
	/* the same peer locally may write */
	o = call("resync", NULL);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "ok", &v));
	assert_true(json_object_get_boolean(v));
	json_object_put(o);
	assert_int_equal(L.writes, 1);
	/* and uid 0 through a remote listener is still refused */
	memset(&rq, 0, sizeof(rq));
	rq.t = "resync";
	assert_int_equal(wire_encode_request(&req, &rq), 0);
	a = arena_new();
	assert_int_equal(ctlsrv_handle_peer(NULL, &cfg, req.data, req.len, 0,
	                                    true, a, &out, &r),
	                 0);
	assert_false(r->trusted);
	o = wire_to_json(out.data, out.len, err);
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_string_equal(jstr(v, "code"), "forbidden");
	json_object_put(o);
	arena_free(a);
	assert_int_equal(L.writes, 1);
	wbuf_free(&req);
	wbuf_free(&out);
}

/* What the heap holds, mapped blocks included. */
static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Three rounds of big replies through every slot (the slots take
 * requests in turn): the heap holds no more after them than after the
 * first. Each slot used to keep the buffer of the largest reply it had
 * sent, here 7 more slots of 256 KiB; in the store, 128 slots of up to
 * ~512 KiB each (events.since), growing through a soak. */
static void
big_replies_not_kept(void **state)
{
	struct wire_request rq;
	struct wbuf req = {0}, rep = {0};
	struct clnt *c;
	char err[256];
	size_t before, after;
	int i;

#if defined(__SANITIZE_ADDRESS__)
	skip(); /* the sanitizer's allocator is not glibc's heap */
#endif
	/* one connection: no sockets opened and reaped in between */
	c = clnt_dial(url, 10000, NULL, NULL, err, sizeof(err));
	assert_non_null(c);
	for (i = 0; i < 500 && clnt_connected(c) <= 0; i++)
		usleep(10000);
	memset(&rq, 0, sizeof(rq));
	rq.t = "big";
	assert_int_equal(wire_encode_request(&req, &rq), 0);
	/* the first call: the client's reply buffer and nng's own */
	assert_int_equal(clnt_request(c, &req, &rep, err, sizeof(err)),
	                 CLNT_OK);
	before = heap_used();
	for (i = 0; i < 3 * NSLOTS; i++) {
		assert_int_equal(clnt_request(c, &req, &rep, err, sizeof(err)),
		                 CLNT_OK);
		assert_true(rep.len > BIG);
	}
	/* the server's copy of the last reply is freed on nng's thread,
	 * maybe after the client has it */
	for (i = 0; i < 100 && (after = heap_used()) >= before + 128 * 1024;
	     i++)
		usleep(10000);
	printf("heap in use: %zu bytes before, %zu after %d big replies\n",
	       before, after, 3 * NSLOTS);
	assert_true(after < before + 128 * 1024);
	clnt_free(c);
	wbuf_free(&req);
	wbuf_free(&rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(many_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(peer_gone_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(trust_and_health, setup, teardown),
	    cmocka_unit_test_setup_teardown(remote_reads_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(big_replies_not_kept, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
