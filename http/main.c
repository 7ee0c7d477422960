/*
 * main.c: recon-http, the read-only HTTP face (SPEC §11): JSON over the
 * store's API, the store's events as Server-Sent Events, health, metrics
 * and a status page. A client of the store like reconctl; it holds no
 * state. libmicrohttpd serves each connection on a thread of its own
 * (routes.c, sse.c, probe.c); one more thread follows the store's events
 * (feed.c); this one waits for a signal.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "flags.h"
#include "http.h"
#include "log.h"
#include "sig.h"
#include "util.h"

#define STORE_CALL_MS    4000 /* a store.ctl call (reconctl waits 5 s) */
#define PROBE_CALL_MS    1000 /* a health call for /readyz and /metrics */
#define IDLE_TIMEOUT_S   30   /* a connection between requests */
#define THREAD_STACK     (256 * 1024)
#define CONN_MEMORY      (64 * 1024) /* libmicrohttpd's buffers, each */
#define FEED_STOP_MS     600
#define MALLOC_ARENAS    2
#define STREAM_RESERVE   16 /* connections streams leave to the rest */
#define CLIENTS_MAX      10000
#define EVENT_BUFFER_MAX 1000000

static struct daemon_opts opts;
static char *listen_addr, *events_url, *store_ctl_url, *lister_ctl_url;
static char *dispatcher_ctl_url;
static int64_t clients, event_buffer, stream_timeout_ms, keepalive_ms;

static struct flag flagtab[] = {
    FLAGS_DAEMON_BASE(&opts),
    {"http-listen", 0, "RECON_HTTP_LISTEN", FLAG_STR, &listen_addr,
     "127.0.0.1:9780", "address and port to serve (ADDR:PORT, [V6]:PORT)"},
    {"http-clients", 0, "RECON_HTTP_CLIENTS", FLAG_INT, &clients, "256",
     "connections served at once (an event stream is one; the last 16 "
     "are kept for other requests)"},
    {"event-buffer", 0, "RECON_HTTP_EVENT_BUFFER", FLAG_INT, &event_buffer,
     "4096", "recent events kept in memory for the streams"},
    {"stream-timeout", 0, "RECON_HTTP_STREAM_TIMEOUT", FLAG_DURATION,
     &stream_timeout_ms, "5m",
     "a stream whose client takes nothing this "
     "long is closed"},
    {"keepalive", 0, "RECON_HTTP_KEEPALIVE", FLAG_DURATION, &keepalive_ms,
     "15s", "a comment on a quiet stream this often"},
    FLAG_SOCKET_URL("events-url", "RECON_EVENTS_URL", &events_url,
                    "store's events socket", "events"),
    FLAG_SOCKET_URL("store-ctl-url", "RECON_STORE_CTL_URL", &store_ctl_url,
                    "store.ctl socket", "store.ctl"),
    FLAG_SOCKET_URL("lister-ctl-url", "RECON_LISTER_CTL_URL", &lister_ctl_url,
                    "lister.ctl socket (for /readyz)", "lister.ctl"),
    FLAG_SOCKET_URL("dispatcher-ctl-url", "RECON_DISPATCHER_CTL_URL",
                    &dispatcher_ctl_url, "dispatcher.ctl socket (for /readyz)",
                    "dispatcher.ctl"),
    FLAG_END,
};

static struct addrinfo *bind_ai;

/* ADDR:PORT or [V6]:PORT, resolved once. */
static void
check_options(void)
{
	struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	                         .ai_socktype = SOCK_STREAM};
	char host[256];
	const char *colon, *h = listen_addr;
	size_t n;
	int e;

	if (*h == '[') {
		colon = strstr(h, "]:");
		h++;
		n = colon != NULL ? (size_t)(colon - h) : 0;
		colon = colon != NULL ? colon + 1 : NULL;
	} else {
		colon = strrchr(h, ':');
		n = colon != NULL ? (size_t)(colon - h) : 0;
	}
	if (colon == NULL || n == 0 || n >= sizeof(host) || colon[1] == '\0')
		fatalx(EXIT_USAGE, "bad --http-listen %s: ADDR:PORT",
		       listen_addr);
	memcpy(host, h, n);
	host[n] = '\0';
	if ((e = getaddrinfo(host, colon + 1, &hints, &bind_ai)) != 0)
		fatalx(EXIT_USAGE, "bad --http-listen %s: %s", listen_addr,
		       gai_strerror(e));
	if (clients < 1 || clients > CLIENTS_MAX)
		fatalx(EXIT_USAGE, "bad --http-clients: 1 to %d", CLIENTS_MAX);
	if (event_buffer < 1 || event_buffer > EVENT_BUFFER_MAX)
		fatalx(EXIT_USAGE, "bad --event-buffer: 1 to %d",
		       EVENT_BUFFER_MAX);
	if (stream_timeout_ms < 1000)
		fatalx(EXIT_USAGE, "bad --stream-timeout: 1s or more");
	if (keepalive_ms <= 0 || keepalive_ms > stream_timeout_ms)
		fatalx(EXIT_USAGE,
		       "bad --keepalive: above 0, at most --stream-timeout");
}

static void
mhd_log(void *arg, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warnx("http: %s", line);
}

static struct clnt *
dial(const struct daemon *d, const char *url, const char *name,
     int64_t timeout_ms)
{
	char buf[4200], err[256];
	struct clnt *c;

	daemon_url(d, buf, sizeof(buf), url, name);
	if ((c = clnt_dial(buf, timeout_ms, NULL, NULL, err, sizeof(err))) ==
	    NULL)
		fatalx(EXIT_TEMP, "unable to dial %s: %s", buf, err);
	return c;
}

int
main(int argc, char **argv)
{
	struct daemon d;
	struct http h;
	struct MHD_Daemon *mhd;
	const union MHD_DaemonInfo *info;
	char evurl[4200], ctlurl[4200], host[NI_MAXHOST];
	struct pollfd pfd;
	unsigned flags;
	int sig;
	bool running = true;

	/* no nng socket listens here: the shared limits do not apply */
	opts.max_message = opts.max_request = 1;
	daemon_start(&d, "recon-http", flagtab, &opts, check_options, 0, argc,
	             argv);
	/* a thread per connection: without a bound glibc gives each of the
	 * first 8 per core an arena of its own, each keeping what it freed */
	mallopt(M_ARENA_MAX, MALLOC_ARENAS);

	memset(&h, 0, sizeof(h));
	h.keepalive_ms = keepalive_ms;
	h.max_streams = (uint64_t)(clients - (clients / 4 < STREAM_RESERVE
	                                          ? clients / 4
	                                          : STREAM_RESERVE));
	h.stream_timeout_s = (unsigned)((stream_timeout_ms + 999) / 1000);
	h.started_ms = mono_ms();
	h.store = dial(&d, store_ctl_url, "store.ctl", STORE_CALL_MS);
	h.store_probe = dial(&d, store_ctl_url, "store.ctl", PROBE_CALL_MS);
	h.lister = dial(&d, lister_ctl_url, "lister.ctl", PROBE_CALL_MS);
	h.dispatcher =
	    dial(&d, dispatcher_ctl_url, "dispatcher.ctl", PROBE_CALL_MS);
	daemon_url(&d, evurl, sizeof(evurl), events_url, "events");
	daemon_url(&d, ctlurl, sizeof(ctlurl), store_ctl_url, "store.ctl");
	h.feed = feed_new(evurl, ctlurl, (uint64_t)event_buffer);
	if (feed_start(h.feed) == -1)
		return EXIT_TEMP;

	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO_INTERNAL_THREAD |
	        MHD_USE_ERROR_LOG;
	if (bind_ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the logger first, or libmicrohttpd logs the options' errors to
	 * stderr by itself */
	mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, http_answer, &h, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_SOCK_ADDR, bind_ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)clients,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_END);
	if (mhd == NULL)
		fatalx(EXIT_TEMP, "unable to serve HTTP on %s", listen_addr);
	getnameinfo(bind_ai->ai_addr, bind_ai->ai_addrlen, host, sizeof(host),
	            NULL, 0, NI_NUMERICHOST);
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	daemon_ready(&d);
	log_info(bind_ai->ai_family == AF_INET6 ? "serving http://[%s]:%u/"
	                                        : "serving http://%s:%u/",
	         host, info != NULL ? (unsigned)info->port : 0);

	pfd.fd = d.sigfd;
	pfd.events = POLLIN;
	while (running) {
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal(EXIT_TEMP, "unable to poll");
		}
		sig = sig_drain(d.sigfd);
		if (sig == SIGTERM || sig == SIGINT)
			running = false;
	}

	log_info("stopping");
	/* the streams waiting for events end first, then the calls under
	 * way; libmicrohttpd then joins its threads */
	if (feed_stop(h.feed, FEED_STOP_MS) == -1)
		_exit(0); /* a store call hangs in the feed thread: leave it */
	clnt_shutdown(h.store);
	clnt_shutdown(h.store_probe);
	clnt_shutdown(h.lister);
	clnt_shutdown(h.dispatcher);
	MHD_stop_daemon(mhd);
	feed_free(h.feed);
	clnt_free(h.store);
	clnt_free(h.store_probe);
	clnt_free(h.lister);
	clnt_free(h.dispatcher);
	freeaddrinfo(bind_ai);
	daemon_stop(&d);
	return 0;
}
