/*
 * runner.c: dispatch jobs become queued requests, requests become plugin
 * processes, processes become plugin_result messages for the store. A
 * run's deadline is enforced on its whole process group.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "nngx.h"
#include "runner.h"
#include "util.h"
#include "wirejson.h"

const char *const runner_ctr_names[RC_COUNT] = {
    [RC_RUNS] = "runs",
    [RC_FAILURES] = "failures",
    [RC_TIMEOUTS] = "timeouts",
    [RC_REFUSED] = "refused",
    [RC_JOBS] = "jobs",
    [RC_BAD_JOBS] = "bad_jobs",
    [RC_RESULTS_SENT] = "results_sent",
    [RC_RESULTS_LOST] = "results_lost",
    [RC_RESULTS_BUSY] = "results_busy",
    [RC_JOBS_FORBIDDEN] = "jobs_forbidden",
};

struct run {
	struct run *next;
	struct q_wl *wl; /* NULL once its result is out (lingering) */
	char *wid;
	enum q_reason reason;
	struct plugin_proc p;
	int64_t started_at; /* wall ms */
	int64_t t0;         /* mono ms */
	int64_t term_at, kill_at;
	bool termed;
};

struct outbox_msg {
	struct outbox_msg *next;
	struct wbuf b;
};

void
runner_init(struct runner *r, const struct runner_conf *conf)
{
	memset(r, 0, sizeof(*r));
	r->conf = *conf;
	queue_init(&r->q, conf->concurrency);
}

static void
outbox_flush(struct runner *r)
{
	struct outbox_msg *m;
	int rv;

	while ((m = r->out_head) != NULL) {
		/* busy or not: the result stays, offered again later */
		if ((rv = nngx_send_nb(r->conf.ingest, m->b.data, m->b.len)) !=
		    NNGX_SENT) {
			if (rv == NNGX_BUSY)
				r->ctr[RC_RESULTS_BUSY]++;
			r->out_due = mono_ms() + RUNNER_RETRY_MS;
			return;
		}
		r->ctr[RC_RESULTS_SENT]++;
		r->out_head = m->next;
		if (r->out_head == NULL)
			r->out_tail = NULL;
		r->nout--;
		wbuf_free(&m->b);
		free(m);
	}
	r->out_due = 0;
}

static void
outbox_put(struct runner *r, const struct wire_plugin_result *pr)
{
	struct outbox_msg *m, *old;

	m = xcalloc(1, sizeof(*m));
	if (wire_encode_plugin_result(&m->b, pr) == -1) {
		log_warnx("unable to encode the plugin result of %s",
		          pr->workload_id);
		wbuf_free(&m->b);
		free(m);
		r->ctr[RC_RESULTS_LOST]++;
		return;
	}
	if (r->nout >= RUNNER_OUTBOX_MAX) {
		/* the store has been away long: the oldest result goes */
		old = r->out_head;
		r->out_head = old->next;
		r->nout--;
		wbuf_free(&old->b);
		free(old);
		r->ctr[RC_RESULTS_LOST]++;
		if (r->out_head == NULL)
			r->out_tail = NULL;
		log_warnx("dropped the oldest plugin result: %d wait for the "
		          "store",
		          RUNNER_OUTBOX_MAX);
	}
	if (r->out_tail != NULL)
		r->out_tail->next = m;
	else
		r->out_head = m;
	r->out_tail = m;
	r->nout++;
	if (r->out_due == 0 || r->out_head == m)
		outbox_flush(r);
}

/* The run of wl is over: its result goes out, the queue moves on. ran:
 * the plugin ran to its end, so the result names the revision of the
 * records it was given (what pays a state run owed, store/db_due.c). */
static void
finish(struct runner *r, struct q_wl *wl, bool ran, bool ok, const char *error,
       int64_t started_at, int64_t duration_ms)
{
	struct wire_plugin_result pr;
	char line[201];
	size_t i;

	memset(&pr, 0, sizeof(pr));
	pr.workload_id = wl->id;
	pr.reason = (char *)q_reason_name(wl->current->reason);
	pr.ok = ok;
	pr.error = (char *)error;
	pr.started_at = started_at;
	pr.duration_ms = duration_ms;
	pr.rev = ran ? wl->current->rev : 0;
	r->ctr[RC_RUNS]++;
	if (ok)
		log_info("plugin of %s (%s) succeeded in %lld ms", wl->id,
		         pr.reason, (long long)duration_ms);
	else {
		/* one log line: the error's first 200 bytes, newlines as
		 * spaces */
		snprintf(line, sizeof(line), "%s", error);
		for (i = 0; line[i] != '\0'; i++)
			if (line[i] == '\n' || line[i] == '\t')
				line[i] = ' ';
		r->ctr[RC_FAILURES]++;
		log_warnx("plugin of %s (%s) failed in %lld ms: %s", wl->id,
		          pr.reason, (long long)duration_ms, line);
	}
	outbox_put(r, &pr);
	queue_done(&r->q, wl);
}

static struct q_req *
req_new(const struct wire_job_item *it, enum q_reason reason, uint64_t rev)
{
	json_object *w, *rows, *row;
	struct q_req *req;
	size_t i;

	req = xcalloc(1, sizeof(*req));
	req->reason = reason;
	req->rev = rev;
	req->source_kind = xstrdup(
	    it->workload.source_kind != NULL ? it->workload.source_kind : "");
	req->doc = json_object_new_object();
	rows = json_object_new_array();
	if (req->doc == NULL || rows == NULL)
		goto fail;
	json_object_object_add(req->doc, "containers", rows);
	/* as the wire's encoder would write them, so plugins see the
	 * wire's names */
	if ((w = wire_workload_json(&it->workload, true)) == NULL)
		goto fail;
	json_object_object_add(req->doc, "workload", w);
	for (i = 0; i < it->nrows; i++) {
		if ((row = wire_row_json(&it->rows[i])) == NULL)
			goto fail;
		json_object_array_add(rows, row);
	}
	json_object_object_add(req->doc, "rev", json_object_new_uint64(rev));
	return req;
fail:
	q_req_free(req);
	return NULL;
}

int
runner_submit(struct runner *r, const struct wire_job_item *it,
              enum q_reason reason, uint64_t rev)
{
	struct q_req *req;

	if (it->workload.id == NULL || !id_valid(it->workload.id)) {
		log_warnx("dropped a job's workload: bad id");
		return -1;
	}
	if ((req = req_new(it, reason, rev)) == NULL) {
		log_warnx("unable to queue a run of %s: its records as JSON",
		          it->workload.id);
		return -1;
	}
	queue_submit(&r->q, it->workload.id, req);
	return 0;
}

int
runner_job(struct runner *r, const void *msg, size_t len, struct arena *a,
           struct wire_dispatch *d)
{
	char err[WIRE_ERR_LEN];
	enum q_reason reason;
	size_t i;

	if (wire_decode_dispatch(msg, len, a, d, err) == -1) {
		r->ctr[RC_BAD_JOBS]++;
		log_warnx("dropped a dispatch job: %s", err);
		return -1;
	}
	if (q_reason_parse(d->reason, &reason) == -1) {
		r->ctr[RC_BAD_JOBS]++;
		log_warnx("dropped a dispatch job: unknown reason");
		return -1;
	}
	r->ctr[RC_JOBS]++;
	log_debug("dispatch job rev %llu, %s, %zu workloads",
	          (unsigned long long)d->rev, d->reason, d->nitems);
	for (i = 0; i < d->nitems; i++)
		runner_submit(r, &d->items[i], reason, d->rev);
	return 0;
}

static void
run_start(struct runner *r, struct q_wl *wl)
{
	struct q_req *req = wl->current;
	char path[PLUGIN_PATH_MAX], err[PLUGIN_PATH_MAX + 256], *in;
	const char *doc;
	struct plugin_args args;
	struct run *run;
	size_t len;
	int64_t started = now_ms();

	if (plugin_check(r->conf.plugin_dir, req->source_kind, path,
	                 sizeof(path), err, sizeof(err)) == -1) {
		r->ctr[RC_REFUSED]++;
		finish(r, wl, false, false, err, started, 0);
		return;
	}
	run = xcalloc(1, sizeof(*run));
	run->wid = xstrdup(wl->id);
	json_object_object_add(
	    req->doc, "reason",
	    json_object_new_string(q_reason_name(req->reason)));
	doc = json_object_to_json_string_ext(
	    req->doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(doc);
	in = xmalloc(len + 1);
	memcpy(in, doc, len);
	in[len] = '\n';
	args.workload_id = wl->id;
	args.source_kind = req->source_kind;
	args.reason = q_reason_name(req->reason);
	run->started_at = started;
	run->t0 = mono_ms();
	run->reason = req->reason;
	if (plugin_spawn(&run->p, path, &r->conf.env, &args, in, len + 1, err,
	                 sizeof(err)) == -1) {
		explicit_bzero(in, len + 1); /* the secrets */
		free(in);
		free(run->wid);
		free(run);
		finish(r, wl, false, false, err, started, 0);
		return;
	}
	explicit_bzero(in, len + 1);
	free(in);
	run->wl = wl;
	run->term_at = run->t0 + r->conf.timeout_ms;
	wl->run = run;
	run->next = r->runs;
	r->runs = run;
	log_info("plugin %s of %s started (%s, pid %d)", path, wl->id,
	         args.reason, (int)run->p.pid);
}

/* text with secret as "[redacted]", cut to cap bytes. */
static void
redact_one(char *text, size_t cap, const char *secret)
{
	static const char mark[] = "[redacted]";
	const char *p = text, *hit;
	size_t n = 0, k, slen;
	char *out;

	if (str_empty(secret) || strstr(text, secret) == NULL)
		return;
	slen = strlen(secret);
	out = xmalloc(cap);
	for (;;) {
		hit = strstr(p, secret);
		k = hit != NULL ? (size_t)(hit - p) : strlen(p);
		k = k < cap - 1 - n ? k : cap - 1 - n;
		memcpy(out + n, p, k);
		n += k;
		if (hit == NULL)
			break;
		k = sizeof(mark) - 1 < cap - 1 - n ? sizeof(mark) - 1
		                                   : cap - 1 - n;
		memcpy(out + n, mark, k);
		n += k;
		p = hit + slen;
	}
	out[n] = '\0';
	memcpy(text, out, n + 1);
	free(out);
}

/* A text cut from the end of a longer one may start with the end of an
 * echoed secret, which strstr cannot find: the longest such start goes. */
static void
redact_head(char *text, size_t cap, const char *secret)
{
	static const char mark[] = "[redacted]";
	size_t k, slen = str_empty(secret) ? 0 : strlen(secret);
	size_t tlen = strlen(text);

	for (k = slen > 0 ? slen - 1 : 0; k > 0; k--)
		if (k <= tlen && memcmp(text, secret + slen - k, k) == 0)
			break;
	if (k == 0 || tlen - k + sizeof(mark) > cap)
		return;
	memmove(text + sizeof(mark) - 1, text + k, tlen - k + 1);
	memcpy(text, mark, sizeof(mark) - 1);
}

/*
 * The run's error text with the workload's secret values, its
 * notification_url's password among them, as "[redacted]": the plugin had
 * them on stdin and may echo them (a failed clone prints its URL), and
 * the text goes to our log and, as the result, into a workload event.
 */
static void
run_redact(const struct run *run, char *text, size_t cap, bool cut)
{
	static const char *const secrets[] = {
	    "notification_secret", "webhook_secret", "webhook_signing_secret"};
	json_object *w, *v;
	const char *url;
	char *pass;
	size_t i, off, len;

	if (!json_object_object_get_ex(run->wl->current->doc, "workload", &w))
		return;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (json_object_object_get_ex(w, secrets[i], &v)) {
			if (cut)
				redact_head(text, cap,
				            json_object_get_string(v));
			redact_one(text, cap, json_object_get_string(v));
		}
	if (json_object_object_get_ex(w, "notification_url", &v) &&
	    (url = json_object_get_string(v)) != NULL &&
	    url_password(url, &off, &len)) {
		pass = xstrndup(url + off, len);
		if (cut)
			redact_head(text, cap, pass);
		redact_one(text, cap, pass);
		explicit_bzero(pass, len);
		free(pass);
	}
}

/* The run's outcome from its exit and stderr. */
static void
run_result(struct runner *r, struct run *run)
{
	char tail[PLUGIN_ERR_MAX + 8], error[PLUGIN_ERR_MAX + 128];
	int64_t dur = mono_ms() - run->t0;
	bool ok;

	plugin_err_text(&run->p, tail, sizeof(tail));
	run_redact(run, tail, sizeof(tail), plugin_err_cut(&run->p));
	ok = !run->termed && run->p.signo == 0 && run->p.exit_code == 0;
	if (run->termed)
		snprintf(error, sizeof(error), "timed out after %lld ms%s%s",
		         (long long)r->conf.timeout_ms, tail[0] ? ": " : "",
		         tail);
	else if (ok)
		error[0] = '\0';
	else if (tail[0] != '\0')
		snprintf(error, sizeof(error), "%s", tail);
	else if (run->p.signo != 0)
		snprintf(error, sizeof(error), "killed by signal %d",
		         run->p.signo);
	else
		snprintf(error, sizeof(error), "exit status %d",
		         run->p.exit_code);
	run_redact(run, error, sizeof(error), false);
	finish(r, run->wl, true, ok, error, run->started_at, dur);
	run->wl = NULL;
}

static void
run_free(struct run *run)
{
	free(run->wid);
	free(run);
}

void
runner_tick(struct runner *r)
{
	struct run **pp, *run;
	struct q_wl *wl;
	int64_t now = mono_ms();

	for (pp = &r->runs; (run = *pp) != NULL;) {
		if (plugin_exited(&run->p)) {
			*pp = run->next;
			plugin_read_err(&run->p);
			run_result(r, run);
			if (!run->termed) {
				/* The run is over, and so is whatever the
				 * plugin left in its group: SIGTERM now,
				 * SIGKILL after the grace. Else a plugin that
				 * leaves children at every run piles them
				 * up for good. */
				plugin_kill(&run->p, SIGTERM);
				run->termed = true;
				run->kill_at = now + r->conf.kill_ms;
			}
			if (now < run->kill_at) {
				/* its group gets the rest of its grace; the
				 * zombie holds the group id till then */
				plugin_close_err(&run->p);
				run->next = r->lingers;
				r->lingers = run;
				continue;
			}
			plugin_kill(&run->p, SIGKILL);
			plugin_reap(&run->p);
			run_free(run);
			continue;
		}
		if (!run->termed && now >= run->term_at) {
			r->ctr[RC_TIMEOUTS]++;
			log_warnx("plugin of %s (pid %d) timed out after %lld "
			          "ms: SIGTERM to its group",
			          run->wid, (int)run->p.pid,
			          (long long)r->conf.timeout_ms);
			plugin_kill(&run->p, SIGTERM);
			run->termed = true;
			run->kill_at = now + r->conf.kill_ms;
		} else if (run->termed && now >= run->kill_at) {
			log_warnx("plugin of %s (pid %d) outlived SIGTERM: "
			          "SIGKILL to its group",
			          run->wid, (int)run->p.pid);
			plugin_kill(&run->p, SIGKILL);
			run->kill_at = now + r->conf.kill_ms;
		}
		pp = &run->next;
	}
	for (pp = &r->lingers; (run = *pp) != NULL;) {
		if (now < run->kill_at) {
			pp = &run->next;
			continue;
		}
		plugin_kill(&run->p, SIGKILL);
		plugin_reap(&run->p);
		*pp = run->next;
		run_free(run);
	}
	while ((wl = queue_next(&r->q)) != NULL)
		run_start(r, wl);
	if (r->out_head != NULL && now >= r->out_due)
		outbox_flush(r);
}

size_t
runner_pollfds(const struct runner *r, struct pollfd *pfd, size_t max)
{
	const struct run *run;
	size_t n = 0;

	for (run = r->runs; run != NULL && n < max; run = run->next)
		if (run->p.errfd != -1) {
			pfd[n].fd = run->p.errfd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	return n;
}

void
runner_io(struct runner *r, const struct pollfd *pfd, size_t n)
{
	struct run *run;
	size_t i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		for (run = r->runs; run != NULL; run = run->next)
			if (run->p.errfd == pfd[i].fd)
				plugin_read_err(&run->p);
	}
}

static void
earliest(int64_t *t, int64_t at)
{
	if (*t < 0 || at < *t)
		*t = at;
}

int64_t
runner_timeout(const struct runner *r)
{
	const struct run *run;
	int64_t t = -1, now;

	for (run = r->runs; run != NULL; run = run->next)
		earliest(&t, run->termed ? run->kill_at : run->term_at);
	for (run = r->lingers; run != NULL; run = run->next)
		earliest(&t, run->kill_at);
	if (r->out_head != NULL)
		earliest(&t, r->out_due);
	if (t < 0)
		return -1;
	now = mono_ms();
	return t > now ? t - now : 0;
}

void
runner_fini(struct runner *r, int64_t wait_ms)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	int64_t until = mono_ms() + wait_ms;
	struct run *run;
	bool all;

	for (run = r->runs; run != NULL; run = run->next)
		plugin_kill(&run->p, SIGTERM);
	do {
		all = true;
		for (run = r->runs; run != NULL; run = run->next)
			all = all && plugin_exited(&run->p);
		if (!all)
			nanosleep(&ts, NULL);
	} while (!all && mono_ms() < until);
	while ((run = r->runs) != NULL) {
		r->runs = run->next;
		plugin_kill(&run->p, SIGKILL);
		plugin_reap(&run->p);
		finish(r, run->wl, false, false,
		       "ended: recon-dispatcher stopped", run->started_at,
		       mono_ms() - run->t0);
		run_free(run);
	}
	while ((run = r->lingers) != NULL) {
		r->lingers = run->next;
		plugin_kill(&run->p, SIGKILL);
		plugin_reap(&run->p);
		run_free(run);
	}
	outbox_flush(r);
	while (r->out_head != NULL) {
		struct outbox_msg *m = r->out_head;
		r->out_head = m->next;
		wbuf_free(&m->b);
		free(m);
	}
	r->out_tail = NULL;
	r->nout = 0;
	queue_fini(&r->q);
}
