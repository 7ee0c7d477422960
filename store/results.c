/*
 * results.c: plugin results folded into the workload's plugin status,
 * with the workload's secrets cut out of the error text before it goes
 * into an event.
 */
#include <string.h>

#include "changes.h"
#include "log.h"
#include "results.h"
#include "util.h"

struct plugin_apply {
	const struct wire_plugin_result *pr;
	struct arena *a;
	bool unknown;
};

/*
 * A plugin's error text (its stderr) with the workload's secret values
 * cut out: the plugin had them on stdin and may echo them, and the text
 * goes into a workload event, which must never carry a secret.
 */
static char *
redact_secrets(struct arena *a, const struct wire_workload *w, const char *text)
{
	const char *secrets[] = {w->notification_secret, w->webhook_secret,
	                         w->webhook_signing_secret};
	const char *mark = "[redacted]", *hit;
	char *out = (char *)(text != NULL ? text : ""), *next;
	size_t i, n, slen, mlen = strlen(mark);

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (str_empty(secrets[i]) || strstr(out, secrets[i]) == NULL)
			continue;
		slen = strlen(secrets[i]);
		/* a secret shorter than the mark can only grow the text by
		 * (mlen - slen) per hit: at most mlen per input byte */
		n = strlen(out) * (mlen > slen ? mlen : 1) + 1;
		next = arena_alloc(a, n);
		for (n = 0; (hit = strstr(out, secrets[i])) != NULL;
		     out = (char *)hit + slen) {
			memcpy(next + n, out, (size_t)(hit - out));
			n += (size_t)(hit - out);
			memcpy(next + n, mark, mlen);
			n += mlen;
		}
		memcpy(next + n, out, strlen(out) + 1);
		out = next;
	}
	/* marks in place of one-byte secrets could outgrow the wire's limit */
	if (strlen(out) > WIRE_TEXT_MAX)
		out[WIRE_TEXT_MAX] = '\0';
	return out;
}

static int
plugin_run(struct dbtx *tx, void *arg)
{
	struct plugin_apply *pa = arg;
	const struct wire_plugin_result *pr = pa->pr;
	struct wire_workload w;
	uint64_t due;
	int r;

	arena_free(pa->a);
	pa->a = arena_new();
	pa->unknown = false;
	if ((r = db_workload_get(tx, pr->workload_id, pa->a, &w)) == -1)
		return -1;
	if (r == 0) {
		pa->unknown = true;
		return 1;
	}
	w.plugin.runs++;
	if (!pr->ok)
		w.plugin.failures++;
	w.plugin.last_run_at = pr->started_at;
	w.plugin.last_ok = pr->ok;
	if (pr->ok)
		w.plugin.last_ok_at = pr->started_at;
	w.plugin.last_error = redact_secrets(pa->a, &w, pr->error);
	w.plugin.last_reason = pr->reason;
	w.plugin.duration_ms = pr->duration_ms;
	if (db_workload_put(tx, &w) == -1)
		return -1;
	/* a state run given the records of the change that called for it,
	 * or later ones, pays what was owed (db_due.c) */
	if (str_eq(pr->reason, "state") &&
	    (r = db_due_get(tx, w.id, &due)) != 0) {
		if (r == -1 || (pr->rev >= due && db_due_del(tx, w.id) == -1))
			return -1;
	}
	return changes_workload(tx, "plugin", &w);
}

int
results_apply(struct store *st, const struct wire_plugin_result *pr)
{
	struct plugin_apply pa = {pr, NULL, false};
	int r;

	if (!id_valid(pr->workload_id)) {
		st->ctr[STC_PLUGIN_UNKNOWN]++;
		log_warnx("dropping a plugin result: bad workload id");
		return 0;
	}
	r = changes_write(st, plugin_run, &pa);
	arena_free(pa.a);
	if (r < 0) {
		st->ctr[STC_WRITE_ERRORS]++;
		log_error("unable to record the plugin result of %s: write "
		          "failed",
		          pr->workload_id);
		return -1;
	}
	if (pa.unknown) {
		st->ctr[STC_PLUGIN_UNKNOWN]++;
		log_warnx("dropping the plugin result of %s: no such workload",
		          pr->workload_id);
		return 0;
	}
	st->ctr[STC_PLUGIN_RESULTS]++;
	log_info("plugin of %s (%s) %s in %lld ms", pr->workload_id,
	         pr->reason != NULL ? pr->reason : "",
	         pr->ok ? "succeeded" : "failed", (long long)pr->duration_ms);
	return 0;
}
