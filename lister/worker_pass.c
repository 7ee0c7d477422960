/*
 * worker_pass.c: the Docker thread's lists of every labelled container:
 * the full pass that builds a snapshot (R8: all or nothing; R12: its gen
 * and time), counting on the way the changes no event announced, and the
 * idle heartbeat, the same list cut to one container.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse.h"
#include "util.h"
#include "worker_int.h"

static int
str_pcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids some event announced since the pass began taking hints. */
struct announced {
	struct worker *w;
	char **ids;
	size_t n;
};

static void
count_missed(void *arg, const char *id)
{
	struct announced *an = arg;
	const char *key = id;

	if (bsearch(&key, an->ids, an->n, sizeof(*an->ids), str_pcmp) == NULL)
		worker_suspect(an->w, id);
}

/*
 * Compares the list with what the lister knew: every difference that is
 * neither among the hints the pass took (covered) nor among those that
 * arrived while it listed may be a change no event announced.
 */
static void
pass_missed(struct worker *w, struct arena *a, const struct hint *covered,
            size_t ncovered, const struct parse_result *r)
{
	struct announced an = {w, NULL, 0};
	size_t i, cap;

	pthread_mutex_lock(&w->mu);
	cap = ncovered + w->hints.n;
	an.ids = arena_alloc(a, (cap ? cap : 1) * sizeof(*an.ids));
	for (i = 0; i < w->hints.n; i++)
		an.ids[an.n++] = arena_strdup(a, w->hints.v[i].id);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < ncovered; i++)
		an.ids[an.n++] = (char *)covered[i].id;
	qsort(an.ids, an.n, sizeof(*an.ids), str_pcmp);
	known_replace(w->known, r->containers, r->ncontainers, count_missed,
	              &an);
}

/*
 * One full pass: 0 when a snapshot was built (sent or not), else -1.
 * covered: the hints taken when it began, which its list answers.
 */
int
worker_pass(struct worker *w, const struct hint *covered, size_t ncovered)
{
	struct arena *a;
	struct parse_result r;
	struct wire_snapshot s;
	struct wbuf b = {0};
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN];
	int64_t t0 = mono_ms(), taken = now_ms();
	uint64_t t0us = mono_us();
	uint64_t failures;
	bool big;

	worker_count(w, &w->st.passes, 1);
	a = arena_new();
	if (docker_list(w->dk, w->conf.prefix, &body, &len, err, sizeof(err)) ==
	        -1 ||
	    parse_list(body, len, w->conf.prefix, a, &r, err, sizeof(err)) ==
	        -1) {
		worker_list_failed(w, "list containers", err);
		worker_count(w, &w->st.list_failures, 1);
		arena_free(a);
		mem_release(); /* what a broken or endless body used */
		return -1;
	}
	worker_list_ok(w);
	/* Before known takes the list: it must take the held records. */
	worker_recheck(w, a, covered, ncovered, r.containers, &r.ncontainers);
	pass_missed(w, a, covered, ncovered, &r);
	memset(&s, 0, sizeof(s));
	s.host = (char *)w->conf.host_name;
	s.gen = ++w->gen;
	s.taken_at = taken;
	/* the store judges the host stale after 3 of these (SPEC §10) */
	s.interval_ms = (uint64_t)w->conf.interval_ms;
	/* R8: a container skipped but there keeps its row (skipped);
	 * one that cannot even be named stops this pass's sweep */
	s.complete = !r.skipped_unnamed;
	s.containers = r.containers;
	s.ncontainers = r.ncontainers;
	s.skipped = r.skipped_ids;
	s.nskipped = r.nskipped_ids;
	if (r.skipped_unnamed)
		log_warnx("a container without a usable id was skipped: this "
		          "pass sweeps nothing (R8)");
	if (wire_encode_snapshot(&b, &s) == -1)
		abort(); /* only a NULL required field, which we never pass */
	arena_free(a);

	pthread_mutex_lock(&w->mu);
	failures = w->failing ? w->st.list_failures : 0;
	w->st.ever_ok = true;
	w->st.gen = s.gen;
	w->st.containers_last = r.ncontainers;
	w->st.list_ms_last = (uint64_t)(mono_ms() - t0);
	w->st.list_us_last = mono_us() - t0us;
	w->st.skipped += r.skipped;
	w->st.unlabelled += r.unlabelled;
	pthread_mutex_unlock(&w->mu);
	if (failures > 0)
		log_info("listing containers again (%llu failed passes so far)",
		         (unsigned long long)failures);
	log_debug("listed %zu containers in %lld ms, snapshot %llu",
	          r.ncontainers, (long long)(mono_ms() - t0),
	          (unsigned long long)s.gen);

	if (worker_push(w, &b, "snapshot", s.gen) == 0)
		worker_count(w, &w->st.snapshots_sent, 1);
	big = b.len >= MEM_BIG || len >= MEM_BIG;
	wbuf_free(&b);
	if (big)
		mem_release();
	return 0;
}

void
worker_heartbeat(struct worker *w)
{
	struct arena *a = arena_new();
	struct parse_result r;
	const char *body;
	size_t len;
	char err[DOCKER_ERR_LEN];

	if (docker_list_probe(w->dk, w->conf.prefix, &body, &len, err,
	                      sizeof(err)) == -1 ||
	    parse_list(body, len, w->conf.prefix, a, &r, err, sizeof(err)) ==
	        -1) {
		worker_list_failed(w, "probe the container list", err);
	} else {
		worker_list_ok(w);
		worker_count(w, &w->st.heartbeats, 1);
	}
	arena_free(a);
}
