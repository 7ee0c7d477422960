/*
 * watch.c: `reconctl watch [-w WID] [--since REV] [--json]`: one line per
 * change, through the subscriber client (common/sub.h), so every change
 * comes once, in revision order, across store restarts; exit 3 when the
 * store no longer keeps what was missed and the caller must list again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "nngx.h"
#include "sub.h"

/* For people: rev, time, type, then what changed. */
static void
watch_print_text(const struct recon_event *ev)
{
	char ts[32];
	time_t sec = (time_t)(ev->at / 1000);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%-8llu %s.%03d  %-9s ", (unsigned long long)ev->rev, ts,
	       (int)(ev->at % 1000), ev->type_name);
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

int
ctl_watch(char **args)
{
	char evurl[4200], ctlurl[4200];
	struct recon_sub *s;
	struct recon_event ev;
	int r;

	if (nngx_url(evurl, sizeof(evurl), ctl_opts.events_url,
	             ctl_opts.run_dir, "events") == -1 ||
	    nngx_url(ctlurl, sizeof(ctlurl), ctl_opts.store_url,
	             ctl_opts.run_dir, "store.ctl") == -1) {
		fprintf(stderr, "reconctl: run dir path too long\n");
		return CTL_EXIT_USAGE;
	}
	if (ctl_opts.since < -1) {
		fprintf(stderr, "reconctl: bad --since: a revision\n");
		return CTL_EXIT_USAGE;
	}
	if ((s = recon_sub_open_url(evurl, ctlurl)) == NULL)
		return CTL_EXIT_NO;
	if (ctl_opts.workload != NULL &&
	    recon_sub_follow(s, ctl_opts.workload) == -1) {
		fprintf(stderr, "reconctl: bad -w: %s\n", recon_sub_error(s));
		recon_sub_close(s);
		return CTL_EXIT_USAGE;
	}
	recon_sub_set_timeout(s, ctl_opts.timeout_ms);
	r = recon_sub_start(s, ctl_opts.since < 0 ? RECON_SUB_NOW
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
