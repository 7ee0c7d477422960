/*
 * sse_fanout.c: recon-sse-fanout, the HTTP face's fan-out benchmark: N
 * Server-Sent Events clients follow URL/v1/events at once, all in one
 * thread on libcurl's multi interface, while something else (recon-load,
 * bench/http_fanout.sh) makes the events. For S seconds from the moment
 * every stream is open it counts what each client receives and prints one
 * table row: events per second in total and per client, the delay from an
 * event's `at` (ms since the epoch, stamped by the store inside the write
 * transaction) to its receipt here (p50, p99, max over all clients), the
 * gaps (a client's ids not consecutive: there should be none), and the
 * CPU (seconds per second) and memory (VmRSS, peak of samples every
 * 100 ms) of the process --pid names (recon-http), beside this one's CPU.
 * --stalled K of the clients stop reading once their stream is open (a
 * paused transfer: the kernel's buffers fill and stay full); they are not
 * in the counts. SIGTERM or SIGINT ends the measure early, with the row.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "flags.h"
#include "log.h"
#include "util.h"

#define LINE_MAX_LEN (64 * 1024) /* an SSE line longer than this: broken */
#define SAMPLE_MS    100         /* --pid's memory is read this often */
#define CONNECT_MS   30000       /* every stream open by then, or fail */

static char *base_url, *workload;
static int64_t nclients, nstalled, seconds, header, http_pid, store_pid;

static struct flag flagtab[] = {
    {"url", 0, NULL, FLAG_STR, &base_url, "http://127.0.0.1:9780",
     "recon-http's base URL"},
    {"workload", 'w', NULL, FLAG_STR, &workload, NULL,
     "follow only this workload (?workload_id=; its ids then skip other "
     "revisions, so gaps are not counted)"},
    {"clients", 'n', NULL, FLAG_INT, &nclients, "1", "SSE clients"},
    {"stalled", 0, NULL, FLAG_INT, &nstalled, "0",
     "of them, clients that never read once connected"},
    {"seconds", 's', NULL, FLAG_INT, &seconds, "10", "how long to measure"},
    {"header", 0, NULL, FLAG_INT, &header, "1", "print the table header"},
    {"pid", 0, NULL, FLAG_INT, &http_pid, "0",
     "recon-http's pid: its CPU and RSS are reported"},
    {"store-pid", 0, NULL, FLAG_INT, &store_pid, "0",
     "the store's pid: its CPU is reported too"},
    FLAG_END,
};

/* One client's stream. */
struct client {
	CURL *easy;
	int idx;
	bool stalled, open, done;
	char *line; /* the partial line carried between writes */
	size_t len;
	uint64_t last_id; /* 0: none yet */
	uint64_t got;     /* events in the window */
	uint64_t gaps, missed, first_id, end_id;
	char err[CURL_ERROR_SIZE];
};

static volatile sig_atomic_t stop;
static int nopen;
static bool measuring;
static uint32_t *delays; /* us, every client's, in the window */
static size_t ndelays, capdelays;
static uint64_t bad_lines;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
delay_add(uint32_t us)
{
	if (ndelays == capdelays) {
		capdelays = capdelays ? capdelays * 2 : 1 << 16;
		delays = xreallocarray(delays, capdelays, sizeof(*delays));
	}
	delays[ndelays++] = us;
}

/* `"at":` in a data line, the stamp in ms; 0 if the event has none (a
 * pass or workload event). The top-level one: the row has no field of
 * that name, and json-c writes no space after the colon. */
static int64_t
scan_at(const char *p, size_t n)
{
	static const char key[] = "\"at\":";
	const char *q = memmem(p, n, key, sizeof(key) - 1);
	int64_t v = 0;

	if (q == NULL)
		return 0;
	for (q += sizeof(key) - 1; q < p + n && *q >= '0' && *q <= '9'; q++)
		v = v * 10 + (*q - '0');
	return v;
}

/* One whole line of a stream (without its newline). */
static void
on_line(struct client *c, const char *p, size_t n, int64_t now)
{
	uint64_t id = 0;
	int64_t at;
	size_t i;

	if (n >= 4 && memcmp(p, "id: ", 4) == 0) {
		for (i = 4; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			id = id * 10 + (uint64_t)(p[i] - '0');
		if (i != n || id == 0) {
			bad_lines++;
			return;
		}
		/* ids are revisions: with no workload filter every one */
		if (c->last_id != 0 && id != c->last_id + 1 &&
		    workload == NULL) {
			if (measuring) {
				c->gaps++;
				c->missed +=
				    id > c->last_id ? id - c->last_id - 1 : 0;
			}
		}
		c->last_id = id;
		if (measuring) {
			if (c->first_id == 0)
				c->first_id = id;
			c->end_id = id;
			c->got++;
		}
		return;
	}
	if (n >= 6 && memcmp(p, "data: ", 6) == 0) {
		if (!measuring)
			return;
		if ((at = scan_at(p + 6, n - 6)) > 0)
			delay_add(now > at * 1000 ? (uint32_t)(now - at * 1000)
			                          : 0);
		return;
	}
	/* "retry:", "event:", comments, the blank line between events */
}

static size_t
on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	size_t n = size * nmemb, i, start = 0;
	int64_t now = bench_wall_us();

	if (!c->open) {
		c->open = true;
		nopen++;
	}
	for (i = 0; i < n; i++) {
		if (data[i] != '\n')
			continue;
		if (c->len > 0) {
			/* the line began in an earlier write */
			if (c->len + (i - start) > LINE_MAX_LEN)
				fatalx(EXIT_TEMP, "client %d: a line too long",
				       c->idx);
			memcpy(c->line + c->len, data + start, i - start);
			on_line(c, c->line, c->len + (i - start), now);
			c->len = 0;
		} else
			on_line(c, data + start, i - start, now);
		start = i + 1;
	}
	if (start < n) {
		if (c->len + (n - start) > LINE_MAX_LEN)
			fatalx(EXIT_TEMP, "client %d: a line too long", c->idx);
		memcpy(c->line + c->len, data + start, n - start);
		c->len += n - start;
	}
	return n;
}

static void
client_open(CURLM *multi, struct client *c, const char *url)
{
	if ((c->easy = curl_easy_init()) == NULL)
		fatalx(EXIT_TEMP, "unable to make a curl handle");
	c->line = xmalloc(LINE_MAX_LEN);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->err);
	curl_easy_setopt(c->easy, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
	if (curl_multi_add_handle(multi, c->easy) != CURLM_OK)
		fatalx(EXIT_TEMP, "unable to add a curl handle");
}

/* Streams that ended: each one is a failure of the measure. */
static int
reap(CURLM *multi)
{
	struct client *c;
	CURLMsg *m;
	int left, ended = 0;

	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		                  (char **)&c);
		c->done = true;
		log_warnx("client %d: the stream ended: %s", c->idx,
		          m->data.result != CURLE_OK
		              ? (c->err[0] ? c->err
		                           : curl_easy_strerror(m->data.result))
		              : "closed by the server");
		ended++;
	}
	return ended;
}

int
main(int argc, char **argv)
{
	struct client *cs;
	struct sigaction sa;
	CURLM *multi;
	char url[2048];
	uint64_t total = 0, gaps = 0, missed = 0, span_lo = 0, span_hi = 0;
	double dur, rmin = 0, r;
	int64_t i, t0 = 0, t_end, tc0 = 0, hc0 = -1, hc1 = -1, sc0 = -1,
	           sc1 = -1, rss, rss0 = -1, rss_max = -1, next_sample,
	           connect_by;
	int running, ended = 0, nreading;

	if (flags_parse("recon-sse-fanout", "[options]", flagtab, argc, argv,
	                NULL) == -1)
		return EXIT_USAGE;
	log_init("recon-sse-fanout", "text", 0);
	if (nclients < 1 || nstalled < 0 || nstalled >= nclients || seconds < 1)
		fatalx(EXIT_USAGE, "bad option values");
	if (workload != NULL)
		xsnprintf(url, sizeof(url), "%s/v1/events?workload_id=%s",
		          base_url, workload);
	else
		xsnprintf(url, sizeof(url), "%s/v1/events", base_url);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (multi = curl_multi_init()) == NULL)
		fatalx(EXIT_TEMP, "unable to start libcurl");
	/* one connection per stream, opened at once: no waiting to see
	 * whether a first one could carry them all */
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)nclients);
	cs = xcalloc((size_t)nclients, sizeof(*cs));
	for (i = 0; i < nclients; i++) {
		cs[i].idx = (int)i;
		cs[i].stalled = i >= nclients - nstalled;
		client_open(multi, &cs[i], url);
	}

	/* until every stream has its first bytes ("retry:"), then the
	 * window; a stalled client stops reading there */
	connect_by = mono_ms() + CONNECT_MS;
	t_end = 0;
	next_sample = 0;
	for (;;) {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			fatalx(EXIT_TEMP, "libcurl failed");
		ended += reap(multi);
		if (ended > 0)
			break;
		if (!measuring && nopen == nclients) {
			for (i = 0; i < nclients; i++)
				if (cs[i].stalled)
					curl_easy_pause(cs[i].easy,
					                CURLPAUSE_RECV);
			measuring = true;
			t0 = bench_wall_us();
			t_end = mono_ms() + seconds * 1000;
			tc0 = bench_proc_cpu_us();
			hc0 = bench_pid_cpu_us(http_pid);
			sc0 = bench_pid_cpu_us(store_pid);
			rss0 = rss_max = bench_pid_rss_kb(http_pid);
			next_sample = mono_ms() + SAMPLE_MS;
		}
		if (!measuring && mono_ms() > connect_by)
			fatalx(EXIT_TEMP, "%d of %lld streams open after %d s",
			       nopen, (long long)nclients, CONNECT_MS / 1000);
		if (measuring && mono_ms() >= next_sample) {
			if ((rss = bench_pid_rss_kb(http_pid)) > rss_max)
				rss_max = rss;
			next_sample += SAMPLE_MS;
		}
		if (stop || (measuring && mono_ms() >= t_end))
			break;
		if (curl_multi_poll(multi, NULL, 0, 50, NULL) != CURLM_OK)
			fatalx(EXIT_TEMP, "libcurl failed to poll");
	}
	if (!measuring)
		fatalx(EXIT_TEMP, "a stream ended before the measure began");
	dur = (double)(bench_wall_us() - t0) / 1e6;
	hc1 = bench_pid_cpu_us(http_pid);
	sc1 = bench_pid_cpu_us(store_pid);
	if ((rss = bench_pid_rss_kb(http_pid)) > rss_max)
		rss_max = rss;

	nreading = (int)(nclients - nstalled);
	for (i = 0; i < nreading; i++) {
		struct client *c = &cs[i];

		total += c->got;
		gaps += c->gaps;
		missed += c->missed;
		r = (double)c->got / dur;
		if (i == 0 || r < rmin)
			rmin = r;
		if (c->first_id != 0 && (span_lo == 0 || c->first_id < span_lo))
			span_lo = c->first_id;
		if (c->end_id > span_hi)
			span_hi = c->end_id;
	}
	qsort(delays, ndelays, sizeof(*delays), bench_cmp_u32);
	if (header)
		printf(
		    "%-4s %5s %10s %10s %8s %9s %9s %7s %7s %7s %5s  "
		    "%s\n",
		    "what", "subs", "store ev/s", "total ev/s", "events",
		    "min ev/s", "mean ev/s", "p50 ms", "p99 ms", "max ms",
		    "gaps",
		    "cores: http store clients, http RSS MB start/peak (wall "
		    "s)");
	printf("%-4s %5lld %10.0f %10.0f %8llu %9.0f %9.0f %7.1f %7.1f %7.1f "
	       "%5llu  ",
	       "sse", (long long)nclients,
	       span_hi > span_lo ? (double)(span_hi - span_lo + 1) / dur : 0,
	       (double)total / dur, (unsigned long long)total, rmin,
	       (double)total / dur / nreading,
	       bench_pct(delays, ndelays, 50) / 1000.0,
	       bench_pct(delays, ndelays, 99) / 1000.0,
	       ndelays ? delays[ndelays - 1] / 1000.0 : 0,
	       (unsigned long long)gaps);
	if (hc0 >= 0 && hc1 >= 0)
		printf("%.2f ", (double)(hc1 - hc0) / 1e6 / dur);
	else
		printf("- ");
	if (sc0 >= 0 && sc1 >= 0)
		printf("%.2f ", (double)(sc1 - sc0) / 1e6 / dur);
	else
		printf("- ");
	printf("%.2f", (double)(bench_proc_cpu_us() - tc0) / 1e6 / dur);
	if (rss0 >= 0)
		printf(", %.1f/%.1f", rss0 / 1024.0, rss_max / 1024.0);
	else
		printf(", -");
	printf(" (%.1f)\n", dur);
	fflush(stdout);
	if (gaps > 0)
		log_warnx("%llu gaps, %llu events missing",
		          (unsigned long long)gaps, (unsigned long long)missed);
	if (bad_lines > 0)
		log_warnx("%llu malformed id lines",
		          (unsigned long long)bad_lines);
	/* no cleanup of the transfers: a stalled one would make the server
	 * wait; the exit closes them all the same */
	_exit(ended > 0 || gaps > 0 || bad_lines > 0 ? 1 : 0);
}
