/*
 * runner_test.c: jobs to results with real shell plugins and a real nng
 * ingest socket (inproc): refusals become error results, stdin carries
 * the workload with its secrets, stderr becomes the error (less the
 * secrets), the timeout ends a run, requests fold into one follow-up run.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nngx.h"
#include "runner.h"
#include "test_proc.h"
#include "util.h"
#include "wire.h"

#define MAXRES 64

struct fx {
	char dir[64], plugins[128];
	char url[64];
	nng_socket pull, push;
	struct runner r;
	struct arena *a;
	struct wire_plugin_result res[MAXRES];
	size_t nres;
};

static int
setup(void **state)
{
	static int seq;
	struct nngx_listen_opts lo = {.max_msg = 1 << 20, .admin_uid = -1};
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/recon-runner-test.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(chmod(fx->dir, 0755), 0);
	snprintf(fx->plugins, sizeof(fx->plugins), "%s/plugins", fx->dir);
	assert_int_equal(mkdir(fx->plugins, 0755), 0);
	assert_int_equal(chmod(fx->plugins, 0755), 0);
	snprintf(fx->url, sizeof(fx->url), "inproc://runner-test-%d", ++seq);
	assert_int_equal(nngx_listen(&fx->pull, NNGX_PULL, fx->url, &lo), 0);
	assert_int_equal(nngx_dial(&fx->push, NNGX_PUSH, fx->url, 1 << 20), 0);
	fx->a = arena_new();
	*state = fx;
	return 0;
}

static void
start(struct fx *fx, int64_t timeout_ms, size_t concurrency)
{
	struct runner_conf c;

	memset(&c, 0, sizeof(c));
	c.plugin_dir = fx->plugins;
	c.env.docker_host = "unix:///nowhere.sock";
	c.env.path = "/usr/bin:/bin";
	c.timeout_ms = timeout_ms;
	c.kill_ms = 300;
	c.concurrency = concurrency;
	c.ingest = fx->push;
	runner_init(&fx->r, &c);
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	runner_fini(&fx->r, 100);
	nng_close(fx->push);
	nng_close(fx->pull);
	arena_free(fx->a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void
plugin(struct fx *fx, const char *name, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->plugins, name);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "#!/bin/sh\nDIR=%s\n%s", fx->dir, body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static void
submit(struct fx *fx, const char *wid, const char *kind, enum q_reason r)
{
	struct wire_job_item it;
	struct wire_row row;

	memset(&it, 0, sizeof(it));
	memset(&row, 0, sizeof(row));
	it.workload.id = (char *)wid;
	it.workload.kind = "stack";
	it.workload.source_kind = (char *)kind;
	it.workload.notification_secret = "s3cret";
	row.id = "row-1";
	row.workload_id = (char *)wid;
	row.state = "missing";
	it.rows = &row;
	it.nrows = 1;
	assert_int_equal(runner_submit(&fx->r, &it, r, 42), 0);
}

/* Runs the loop until n results arrived or ms passed. */
static void
drive(struct fx *fx, size_t n, int ms)
{
	struct pollfd pfd[16];
	char err[WIRE_ERR_LEN];
	int64_t until = mono_ms() + ms;
	size_t k;
	nng_msg *m;

	while (fx->nres < n && mono_ms() < until) {
		runner_tick(&fx->r);
		k = runner_pollfds(&fx->r, pfd, 16);
		poll(pfd, k, 10);
		runner_io(&fx->r, pfd, k);
		while (nngx_try_recv(fx->pull, &m) == 1) {
			assert_true(fx->nres < MAXRES);
			assert_int_equal(wire_decode_plugin_result(
			                     nng_msg_body(m), nng_msg_len(m),
			                     fx->a, &fx->res[fx->nres++], err),
			                 0);
			nng_msg_free(m);
		}
	}
}

static const struct wire_plugin_result *
result(struct fx *fx, const char *wid)
{
	size_t i;

	for (i = 0; i < fx->nres; i++)
		if (strcmp(fx->res[i].workload_id, wid) == 0)
			return &fx->res[i];
	fail_msg("no result for %s", wid);
	return NULL;
}

static void
test_refusals(void **state)
{
	struct fx *fx = *state;
	const struct wire_plugin_result *r;

	start(fx, 5000, 2);
	submit(fx, "bad-kind", "../../bin/sh", Q_PASS);
	submit(fx, "no-plugin", "nosuch", Q_STATE);
	drive(fx, 2, 3000);
	assert_int_equal(fx->nres, 2);
	r = result(fx, "bad-kind");
	assert_false(r->ok);
	assert_non_null(strstr(r->error, "invalid source_kind"));
	assert_string_equal(r->reason, "pass");
	r = result(fx, "no-plugin");
	assert_false(r->ok);
	assert_non_null(strstr(r->error, "no plugin"));
	assert_string_equal(r->reason, "state");
	assert_int_equal(fx->r.ctr[RC_REFUSED], 2);
	assert_int_equal(fx->r.ctr[RC_RUNS], 2);
	assert_int_equal(fx->r.ctr[RC_FAILURES], 2);
	assert_int_equal(fx->r.ctr[RC_RESULTS_SENT], 2);
}

static void
test_success_and_failure(void **state)
{
	struct fx *fx = *state;
	const struct wire_plugin_result *r;
	char path[256], buf[4096];
	json_object *doc, *v;
	FILE *f;
	size_t n;

	start(fx, 5000, 2);
	plugin(fx, "good", "cat >$DIR/stdin.json\nexit 0\n");
	plugin(fx, "bad",
	       "echo starting >&2\necho 'the repo is gone' >&2\n"
	       "exit 1\n");
	submit(fx, "w-good", "good", Q_MANUAL);
	submit(fx, "w-bad", "bad", Q_MANUAL);
	drive(fx, 2, 5000);
	assert_int_equal(fx->nres, 2);
	r = result(fx, "w-good");
	assert_true(r->ok);
	assert_string_equal(r->error, "");
	assert_string_equal(r->reason, "manual");
	assert_true(r->started_at > 0 && r->duration_ms >= 0);
	r = result(fx, "w-bad");
	assert_false(r->ok);
	assert_string_equal(r->error, "starting\nthe repo is gone");
	assert_int_equal(fx->r.ctr[RC_FAILURES], 1);

	/* stdin: the workload with its secret, its rows, reason and rev */
	snprintf(path, sizeof(path), "%s/stdin.json", fx->dir);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(doc = json_tokener_parse(buf));
	assert_true(json_object_object_get_ex(doc, "reason", &v));
	assert_string_equal(json_object_get_string(v), "manual");
	assert_true(json_object_object_get_ex(doc, "rev", &v));
	assert_int_equal(json_object_get_int64(v), 42);
	assert_true(json_object_object_get_ex(doc, "workload", &v));
	assert_true(json_object_object_get_ex(v, "notification_secret", &v));
	assert_string_equal(json_object_get_string(v), "s3cret");
	assert_true(json_object_object_get_ex(doc, "containers", &v));
	assert_int_equal(json_object_array_length(v), 1);
	v = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(v, "state", &v));
	assert_string_equal(json_object_get_string(v), "missing");
	json_object_put(doc);
}

/* A plugin that echoes its secrets: the error the store gets has none. */
static void
test_secrets_redacted(void **state)
{
	struct fx *fx = *state;
	const struct wire_plugin_result *r;
	struct wire_job_item it;

	start(fx, 5000, 1);
	plugin(fx, "echo",
	       "echo 'fatal: https://git:tok3n@example.org/r.git s3cret "
	       "h00k'\"$(cat >/dev/null)\" >&2\nexit 1\n");
	memset(&it, 0, sizeof(it));
	it.workload.id = "w-echo";
	it.workload.kind = "stack";
	it.workload.source_kind = "echo";
	it.workload.notification_url = "https://git:tok3n@example.org/hook";
	it.workload.notification_secret = "s3cret";
	it.workload.webhook_secret = "h00k";
	assert_int_equal(runner_submit(&fx->r, &it, Q_MANUAL, 42), 0);
	drive(fx, 1, 5000);
	assert_int_equal(fx->nres, 1);
	r = result(fx, "w-echo");
	assert_false(r->ok);
	assert_string_equal(r->error,
	                    "fatal: https://git:[redacted]@example.org/r.git "
	                    "[redacted] [redacted]");
	/* it ran to its end: the result names the job's revision */
	assert_int_equal(r->rev, 42);
}

/* The kept tail of stderr may begin inside an echoed secret: that piece
 * goes too. */
static void
test_secret_cut(void **state)
{
	struct fx *fx = *state;
	const struct wire_plugin_result *r;
	struct wire_job_item it;

	start(fx, 5000, 1);
	/* the last 4096 bytes start with "value", the end of the secret */
	plugin(fx, "cut",
	       "cat >/dev/null\nprintf 'zz-secretvalue' >&2\n"
	       "head -c 4091 /dev/zero | tr '\\0' a >&2\nexit 1\n");
	memset(&it, 0, sizeof(it));
	it.workload.id = "w-cut";
	it.workload.kind = "stack";
	it.workload.source_kind = "cut";
	it.workload.webhook_secret = "zz-secretvalue";
	assert_int_equal(runner_submit(&fx->r, &it, Q_MANUAL, 7), 0);
	drive(fx, 1, 5000);
	r = result(fx, "w-cut");
	assert_false(r->ok);
	assert_int_equal(strncmp(r->error, "[redacted]aaa", 13), 0);
	assert_null(strstr(r->error, "value"));
}

static void
test_timeout(void **state)
{
	struct fx *fx = *state;
	const struct wire_plugin_result *r;
	int64_t t0 = mono_ms();

	start(fx, 200, 2);
	/* ignores TERM: only the KILL 300 ms later ends it */
	plugin(fx, "stuck",
	       "trap '' TERM\necho 'still working' >&2\n"
	       "sleep 30\n");
	plugin(fx, "good", "exit 0\n");
	submit(fx, "w-stuck", "stuck", Q_PASS);
	submit(fx, "w-good", "good", Q_PASS);
	drive(fx, 2, 5000);
	assert_int_equal(fx->nres, 2);
	assert_true(mono_ms() - t0 < 3000);
	r = result(fx, "w-stuck");
	assert_false(r->ok);
	assert_string_equal(r->error, "timed out after 200 ms: still working");
	assert_true(r->duration_ms >= 200);
	assert_true(result(fx, "w-good")->ok);
	assert_int_equal(fx->r.ctr[RC_TIMEOUTS], 1);
	assert_int_equal(fx->r.q.running, 0);
}

/* pid in DIR/name once the plugin wrote it, else 0 */
static pid_t
pid_file(struct fx *fx, const char *name)
{
	char path[256];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* A plugin that exits at once, leaving children in its group: its result
 * comes at once, and the children go with the run, TERM and then KILL. */
static void
test_leftovers(void **state)
{
	struct fx *fx = *state;
	pid_t plain, stubborn;
	int64_t t0;

	start(fx, 30000, 2);
	plugin(fx, "leaver",
	       "sleep 30 & echo $! >$DIR/plain.tmp\n"
	       "mv $DIR/plain.tmp $DIR/plain\n"
	       "(trap '' TERM; exec sleep 30) & echo $! >$DIR/stubborn.tmp\n"
	       "mv $DIR/stubborn.tmp $DIR/stubborn\n"
	       "exit 0\n");
	submit(fx, "w", "leaver", Q_PASS);
	t0 = mono_ms();
	drive(fx, 1, 5000);
	assert_int_equal(fx->nres, 1);
	assert_true(result(fx, "w")->ok);
	assert_true(mono_ms() - t0 < 2000);
	plain = pid_file(fx, "plain");
	stubborn = pid_file(fx, "stubborn");
	assert_true(plain > 0 && stubborn > 0);
	/* TERM went with the result: the plain child ends at once */
	while (alive(plain) && mono_ms() - t0 < 2000)
		drive(fx, 2, 10);
	assert_false(alive(plain));
	assert_true(alive(stubborn));
	/* the one that ignores TERM is killed after the grace (300 ms) */
	while (alive(stubborn) && mono_ms() - t0 < 3000)
		drive(fx, 2, 10);
	assert_false(alive(stubborn));
	assert_null(fx->r.lingers);
	assert_int_equal(fx->r.ctr[RC_TIMEOUTS], 0);
}

static void
test_fold(void **state)
{
	struct fx *fx = *state;
	int i;

	start(fx, 5000, 4);
	plugin(fx, "slow", "echo run >>$DIR/runs\nsleep 0.5\n");
	submit(fx, "w", "slow", Q_PASS);
	runner_tick(&fx->r);
	assert_int_equal(fx->r.q.running, 1);
	for (i = 0; i < 20; i++)
		submit(fx, "w", "slow", Q_MANUAL);
	assert_int_equal(fx->r.q.queued, 1);
	drive(fx, 3, 3000); /* a third result never comes */
	assert_int_equal(fx->nres, 2);
	assert_string_equal(fx->res[0].reason, "pass");
	assert_string_equal(fx->res[1].reason, "manual");
	assert_int_equal(fx->r.q.folded, 19);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_success_and_failure, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_secrets_redacted, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_secret_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leftovers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fold, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
