/*
 * watch.c: `reconctl watch [-w WID] [--since REV | --list] [--json]`: one
 * line per change, through the subscriber client (recon-client.h), so every
 * change comes once, in revision order, across store restarts; exit 3 when
 * the store no longer keeps what was missed and the caller must list again.
 * With --list the current rows come first, then a "synced" line with the
 * revision they were read at, then every change after it (SPEC §5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "nngx.h"
#include "recon-client.h"
#include "store_clnt.h"
#include "util.h"
#include "wirejson.h"

/* --list: how often a list is read again when the change log no longer
 * holds its revision by the time the subscriber asks (heavy churn). */
#define WATCH_LIST_TRIES 3

/* rev, time and type: the start of each line for people. */
static void
watch_print_head(uint64_t rev, int64_t at, const char *type)
{
	char ts[32];
	time_t sec = (time_t)(at / 1000);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%-8llu %s.%03d  %-9s ", (unsigned long long)rev, ts,
	       (int)(at % 1000), type);
}

/* For people: rev, time, type, then what changed. */
static void
watch_print_text(const struct recon_event *ev)
{
	watch_print_head(ev->rev, ev->at, ev->type_name);
	switch (ev->type) {
	case RECON_EVENT_CONTAINER:
		printf("%-7s %s  %s -> %s\n", ev->op, ev->row_id,
		       *ev->prev_state != '\0' ? ev->prev_state : "-",
		       ev->state);
		break;
	case RECON_EVENT_WORKLOAD:
		printf("%-7s %s\n", ev->op, ev->workload_id);
		break;
	case RECON_EVENT_PASS:
		printf("%s gen %llu: %llu seen, %llu changed, %llu missing\n",
		       ev->host, (unsigned long long)ev->gen,
		       (unsigned long long)ev->seen,
		       (unsigned long long)ev->changed,
		       (unsigned long long)ev->missing);
		break;
	}
}

static int
watch_print(const struct recon_event *ev)
{
	char *j;

	if (!ctl_opts.json) {
		watch_print_text(ev);
		return 0;
	}
	if ((j = recon_event_json(ev)) == NULL)
		return -1;
	puts(j);
	free(j);
	return 0;
}

static int
watch_compacted(struct recon_sub *s)
{
	fprintf(stderr,
	        "reconctl: compacted: %s\n"
	        "reconctl: events after rev %llu are no longer kept: list "
	        "again (reconctl ps --json carries the rev) and watch "
	        "--since that rev\n",
	        recon_sub_error(s), (unsigned long long)recon_sub_position(s));
	return CTL_EXIT_COMPACTED;
}

/*
 * One listed row, shaped as the body of a container event with op "list"
 * (its rev the list's, no prev_state, `at` when the list was read) and
 * written by the events' own JSON writer, so that a script reads list
 * lines and change lines alike.
 */
static int
watch_print_row(struct wire_row *row, uint64_t rev, int64_t at)
{
	char topic[WIRE_TOPIC_MAX + 1], *j;
	struct wire_event ev = {
	    .type = WIRE_EV_CONTAINER,
	    .rev = rev,
	    .op = "list",
	    .row = row,
	    .at = at,
	};

	if (wire_event_topic(topic, sizeof(topic), &ev) == -1) {
		fprintf(stderr, "reconctl: row %.64s: topic too long\n",
		        row->id);
		return -1;
	}
	if (!ctl_opts.json) {
		watch_print_head(rev, at, "container");
		printf("%-7s %s  %s\n", ev.op, row->id, row->state);
		return 0;
	}
	if ((j = wire_event_json_line(&ev, topic)) == NULL) {
		fprintf(stderr, "reconctl: unable to write row %.64s as JSON\n",
		        row->id);
		return -1;
	}
	puts(j);
	free(j);
	return 0;
}

/*
 * --list: reads the rows (containers.list, -w's workload only) and starts
 * the subscriber at the revision the list carries; only then prints the
 * rows and the synced line, so that nothing is printed for a start that
 * fails. A list whose revision the log no longer holds when the
 * subscriber asks is read again. Returns recon_sub_start's code; when
 * the list itself failed, RECON_SUB_ERROR with its exit code in *fail
 * (said on stderr).
 */
static int
watch_list(struct recon_sub *s, int *fail)
{
	struct store_filter f = {.workload_id = ctl_opts.workload};
	struct clnt_result res = {0};
	struct wire_rows_reply rows = {0};
	struct clnt *c;
	size_t i;
	int64_t at = 0;
	int r = RECON_SUB_COMPACTED, tries, rc;

	if ((c = ctl_clnt("store")) == NULL) {
		*fail = CTL_EXIT_USAGE;
		return RECON_SUB_ERROR;
	}
	for (tries = 0; tries < WATCH_LIST_TRIES && r == RECON_SUB_COMPACTED;
	     tries++) {
		store_clnt_containers_list(c, &f, &res, &rows);
		if ((rc = ctl_status("store", &res)) != CTL_EXIT_OK) {
			*fail = rc;
			r = RECON_SUB_ERROR;
			break;
		}
		at = now_ms();
		r = recon_sub_start(s, rows.rev);
	}
	if (r == RECON_SUB_OK) {
		for (i = 0; i < rows.nrows; i++)
			if (watch_print_row(&rows.rows[i], rows.rev, at) ==
			    -1) {
				r = RECON_SUB_ERROR;
				break;
			}
	}
	if (r == RECON_SUB_OK) {
		if (ctl_opts.json)
			printf("{\"t\":\"synced\",\"rev\":%llu}\n",
			       (unsigned long long)rows.rev);
		else
			printf("synced at rev %llu\n",
			       (unsigned long long)rows.rev);
		fflush(stdout);
	}
	clnt_result_free(&res);
	clnt_free(c);
	return r;
}

int
ctl_watch(char **args)
{
	char evurl[4200], ctlurl[4200];
	struct recon_sub *s;
	struct recon_event ev;
	int r, fail = CTL_EXIT_OK;

	if (nngx_url(evurl, sizeof(evurl), ctl_opts.events_url,
	             ctl_opts.run_dir, "events") == -1 ||
	    nngx_url(ctlurl, sizeof(ctlurl), ctl_opts.store_url,
	             ctl_opts.run_dir, "store.ctl") == -1) {
		fprintf(stderr, "reconctl: run dir path too long\n");
		return CTL_EXIT_USAGE;
	}
	if (ctl_opts.list && ctl_opts.since != CTL_SINCE_NONE) {
		fprintf(stderr,
		        "reconctl: watch: --list and --since exclude "
		        "each other: --list prints the rows, then the "
		        "changes after the revision they were read at\n");
		return CTL_EXIT_USAGE;
	}
	if (ctl_opts.since < -1 && ctl_opts.since != CTL_SINCE_NONE) {
		fprintf(stderr, "reconctl: bad --since: a revision\n");
		return CTL_EXIT_USAGE;
	}
	if (ctl_url_check("events-url", evurl) == -1 ||
	    ctl_url_check("store-ctl-url", ctlurl) == -1)
		return CTL_EXIT_USAGE;
	if ((s = recon_sub_open_url(evurl, ctlurl)) == NULL)
		return CTL_EXIT_NO;
	if (nngx_tls_default() != NULL &&
	    recon_sub_set_tls(s, ctl_opts.tls_cert, ctl_opts.tls_key,
	                      ctl_opts.tls_ca) == -1) {
		fprintf(stderr, "reconctl: watch: %s\n", recon_sub_error(s));
		recon_sub_close(s);
		return CTL_EXIT_USAGE;
	}
	if (ctl_opts.workload != NULL &&
	    recon_sub_follow(s, ctl_opts.workload) == -1) {
		fprintf(stderr, "reconctl: bad -w: %s\n", recon_sub_error(s));
		recon_sub_close(s);
		return CTL_EXIT_USAGE;
	}
	recon_sub_set_timeout(s, ctl_opts.timeout_ms);
	if (ctl_opts.list)
		r = watch_list(s, &fail);
	else
		r = recon_sub_start(s, ctl_opts.since < 0
		                           ? RECON_SUB_NOW
		                           : (uint64_t)ctl_opts.since);
	while (r == RECON_SUB_OK || r == RECON_SUB_EVENT) {
		if (r == RECON_SUB_EVENT) {
			if (watch_print(&ev) == -1) {
				r = RECON_SUB_ERROR;
				break;
			}
			/* a reader sees each change as it happens */
			fflush(stdout);
		}
		r = recon_sub_next(s, -1, &ev);
	}
	switch (r) {
	case RECON_SUB_ERROR:
		if (fail != CTL_EXIT_OK) {
			r = fail; /* the list's: said */
			break;
		}
		fprintf(stderr, "reconctl: watch: %s\n", recon_sub_error(s));
		r = CTL_EXIT_NO;
		break;
	case RECON_SUB_UNREACHABLE:
		fprintf(stderr, "reconctl: store unreachable: %s\n",
		        recon_sub_error(s));
		r = CTL_EXIT_UNREACHABLE;
		break;
	case RECON_SUB_COMPACTED:
		r = watch_compacted(s);
		break;
	default:
		fprintf(stderr, "reconctl: watch: %s\n", recon_sub_error(s));
		r = CTL_EXIT_NO;
		break;
	}
	recon_sub_close(s);
	return r;
}
