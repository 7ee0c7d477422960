/*
 * subscriber.c: a program outside recon following container-state
 * changes through the installed client alone (<recon-client.h>, linked
 * with `pkg-config --cflags --libs recon-client`). Prints "rev topic op
 * state" per event; a slow reader (-d) still gets every event, once, in
 * order.
 * usage: subscriber RUN_DIR [-w WID] [-s SINCE] [-n COUNT] [-d DELAY_US]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <recon-client.h>

int
main(int argc, char **argv)
{
	unsigned long long since = RECON_SUB_NOW, count = 0, n = 0;
	unsigned delay = 0;
	const char *wids[16];
	struct recon_sub *s;
	struct recon_event ev;
	struct recon_sub_stats st;
	int c, r = 0, nw = 0, i;

	while ((c = getopt(argc, argv, "w:s:n:d:")) != -1) {
		if (c == 'w' && nw < 16)
			wids[nw++] = optarg;
		else if (c == 's')
			since = strtoull(optarg, NULL, 10);
		else if (c == 'n')
			count = strtoull(optarg, NULL, 10);
		else if (c == 'd')
			delay = (unsigned)strtoul(optarg, NULL, 10);
		else
			return 64;
	}
	if (optind + 1 != argc || (s = recon_sub_open(argv[optind])) == NULL)
		return 64;
	for (i = 0; i < nw; i++)
		if (recon_sub_follow(s, wids[i]) == -1)
			return 64;
	if ((r = recon_sub_start(s, since)) != RECON_SUB_OK) {
		fprintf(stderr, "subscriber: %s\n", recon_sub_error(s));
		return r == RECON_SUB_COMPACTED ? 3 : 2;
	}
	while ((count == 0 || n < count) &&
	       (r = recon_sub_next(s, -1, &ev)) == RECON_SUB_EVENT) {
		printf("%llu %s %s %s\n", (unsigned long long)ev.rev, ev.topic,
		       *ev.op ? ev.op : "-", *ev.state ? ev.state : "-");
		fflush(stdout);
		n++;
		if (delay > 0)
			usleep(delay);
	}
	recon_sub_stats(s, &st);
	fprintf(stderr,
	        "subscriber: %llu events (%llu live, %llu from the log) %s\n",
	        n, (unsigned long long)st.live, (unsigned long long)st.filled,
	        recon_sub_error(s));
	recon_sub_close(s);
	return count > 0 && n == count ? 0 : r == RECON_SUB_COMPACTED ? 3 : 1;
}
