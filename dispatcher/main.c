/*
 * main.c: recon-dispatcher. Takes dispatch jobs from the store and runs
 * each workload's source plugin (runner.c), posts container events to
 * workloads' webhooks (hook_*.c), answers dispatcher.ctl (dispatcher_ctl.c);
 * one thread, one poll loop, plus one thread for calls to store.ctl.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "dispatcher_ctl.h"
#include "flags.h"
#include "hook.h"
#include "log.h"
#include "nngx.h"
#include "runner.h"
#include "sig.h"
#include "upstream.h"
#include "util.h"
#include "wire.h"

#define PLUGIN_KILL_MS      5000 /* SIGTERM to SIGKILL (SPEC §8) */
#define STORE_CALL_MS       4000 /* a store.ctl call (reconctl waits 5 s) */
#define STOP_WAIT_MS        500  /* plugins get this long after SIGTERM */
#define CONCURRENCY_MAX     1024
#define WEBHOOK_BACKOFF_MS  1000
#define WEBHOOK_BACKOFF_MAX 60000
#define WEBHOOK_QUEUE_MAX   1000
#define WEBHOOK_INFLIGHT    64
#define EVENTS_RECVBUF      1024 /* events buffered before PUB drops */
#define RESULTS_SENDBUF     64   /* plugin results nng queues for ingest */
#define CTL_SLOTS           256  /* dispatcher.ctl requests answered at once */
#define DEFAULT_PATH                                                           \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum { PFD_SIG, PFD_JOBS, PFD_CTL, PFD_EVENTS, PFD_UP, PFD_FIXED };

static struct daemon_opts opts;
static char *docker_host, *plugin_dir;
static char *jobs_url, *ingest_url, *events_url, *store_ctl_url, *ctl_url;
static int64_t plugin_timeout_ms, concurrency, webhook_timeout_ms;
static int64_t webhook_attempts;

static struct flag flagtab[] = {
    FLAGS_DAEMON(&opts),
    {"docker-host", 0, "DOCKER_HOST", FLAG_STR, &docker_host,
     "unix:///var/run/docker.sock", "DOCKER_HOST given to plugins"},
    {"plugin-dir", 0, "RECON_PLUGIN_DIR", FLAG_STR, &plugin_dir,
     "/etc/recon/plugins", "directory of the plugins, one per source_kind"},
    {"plugin-timeout", 0, "RECON_PLUGIN_TIMEOUT", FLAG_DURATION,
     &plugin_timeout_ms, "30s",
     "then SIGTERM to the plugin's group, SIGKILL 5s later"},
    {"plugin-concurrency", 0, "RECON_PLUGIN_CONCURRENCY", FLAG_INT,
     &concurrency, "4", "plugins running at once"},
    {"webhook-timeout", 0, "RECON_WEBHOOK_TIMEOUT", FLAG_DURATION,
     &webhook_timeout_ms, "10s", "bound on each webhook attempt"},
    {"webhook-attempts", 0, "RECON_WEBHOOK_ATTEMPTS", FLAG_INT,
     &webhook_attempts, "6",
     "tries per webhook (5xx and errors retry, backoff 1s doubling)"},
    FLAG_SOCKET_URL("jobs-url", "RECON_JOBS_URL", &jobs_url,
                    "jobs socket, PULL", "jobs"),
    FLAG_SOCKET_URL("ingest-url", "RECON_INGEST_URL", &ingest_url,
                    "store's ingest socket", "ingest"),
    FLAG_SOCKET_URL("events-url", "RECON_EVENTS_URL", &events_url,
                    "store's events socket", "events"),
    FLAG_SOCKET_URL("store-ctl-url", "RECON_STORE_CTL_URL", &store_ctl_url,
                    "store.ctl socket", "store.ctl"),
    FLAG_SOCKET_URL("dispatcher-ctl-url", "RECON_DISPATCHER_CTL_URL", &ctl_url,
                    "dispatcher.ctl socket", "dispatcher.ctl"),
    FLAG_END,
};

static void
check_options(void)
{
	if (plugin_timeout_ms <= 0)
		fatalx(EXIT_USAGE, "bad --plugin-timeout: must be above 0");
	if (concurrency < 1 || concurrency > CONCURRENCY_MAX)
		fatalx(EXIT_USAGE, "bad --plugin-concurrency: 1 to %d",
		       CONCURRENCY_MAX);
	if (webhook_timeout_ms <= 0)
		fatalx(EXIT_USAGE, "bad --webhook-timeout: must be above 0");
	if (webhook_attempts < 1 || webhook_attempts > 100)
		fatalx(EXIT_USAGE, "bad --webhook-attempts: 1 to 100");
	if (*plugin_dir != '/')
		fatalx(EXIT_USAGE, "bad --plugin-dir %s: not an absolute path",
		       plugin_dir);
}

/* Jobs from the store: their workloads queue for runs, and their records
 * teach the webhooks each workload's settings. */
static void
dispatcher_dispatch_jobs(nng_socket s, struct runner *r, struct hook *hooks)
{
	struct wire_dispatch d;
	struct arena *a;
	nng_msg *m;
	size_t i;

	while (nngx_try_recv(s, &m) == 1) {
		/* a job runs plugins as us: trusted peers only (SPEC §2) */
		if (!nngx_uid_trusted(nngx_peer_uid(m), opts.admin_uid)) {
			r->ctr[RC_JOBS_FORBIDDEN]++;
			log_warnx("refused a dispatch job from uid %lld",
			          (long long)nngx_peer_uid(m));
			nng_msg_free(m);
			continue;
		}
		a = arena_new();
		if (runner_job(r, nng_msg_body(m), nng_msg_len(m), a, &d) == 0)
			for (i = 0; i < d.nitems; i++)
				hook_learn(hooks, &d.items[i].workload, d.rev);
		arena_free(a);
		nng_msg_free(m);
	}
}

static void
dispatcher_dispatch_events(nng_socket s, struct hook *hooks)
{
	nng_msg *m;

	while (nngx_try_recv(s, &m) == 1) {
		hook_intake(hooks, nng_msg_body(m), nng_msg_len(m));
		nng_msg_free(m);
	}
}

static void
dispatcher_dispatch_upstream(struct upstream *up, struct dispatcher_ctl *c,
                             struct hook *hooks)
{
	struct up_call *uc;

	while ((uc = upstream_done(up)) != NULL) {
		if (uc->kind == UP_DISPATCH)
			dispatcher_ctl_forwarded(c, uc);
		else
			hook_fetched(hooks, uc);
		up_call_free(uc);
	}
}

static int
min_timeout(int64_t a, int64_t b)
{
	int64_t t = a < 0 ? b : b < 0 ? a : a < b ? a : b;

	return t > 60000 ? 60000 : (int)t;
}

int
main(int argc, char **argv)
{
	struct daemon d;
	char store_url[4200];
	nng_socket jobs, ctlsock, events, ingest;
	struct runner_conf rc;
	struct hook_conf hc;
	struct runner runner;
	struct hook *hooks;
	struct upstream *up;
	struct ctlsrv_config ccfg;
	struct ctlsrv *srv;
	struct dispatcher_ctl c;
	struct pollfd *pfd = NULL;
	size_t cap = 0, n, nr, nn;
	int sig, fixed[PFD_FIXED];
	bool running = true;

	daemon_start(&d, "recon-dispatcher", flagtab, &opts, check_options,
	             DAEMON_CURL | DAEMON_SIGCHLD, argc, argv);
	fixed[PFD_SIG] = d.sigfd;
	/* plugin results are the store's local ingest's only (SPEC §10: a
	 * remote ingest takes the sealed snapshots and deltas of listers),
	 * and the store sends jobs to trusted uids only: the dispatcher
	 * runs beside the store */
	daemon_url(&d, store_url, sizeof(store_url), ingest_url, "ingest");
	if (nngx_scheme(store_url) != NNGX_LOCAL)
		fatalx(EXIT_USAGE,
		       "bad --ingest-url %s: the store takes plugin results "
		       "on its local ingest only; run the dispatcher beside "
		       "the store",
		       store_url);

	/* jobs and dispatcher.ctl are ours (SPEC §2); ingest, events and
	 * store.ctl are the store's, dialled in the background */
	if (daemon_listen(&d, &ctlsock, NNGX_REP, LISTEN_CTL, ctl_url,
	                  "dispatcher.ctl", opts.socket_mode) == -1 ||
	    daemon_listen(&d, &jobs, NNGX_PULL, LISTEN_WRITERS, jobs_url,
	                  "jobs", opts.socket_mode) == -1 ||
	    daemon_dial(&d, &ingest, NNGX_PUSH, ingest_url, "ingest") == -1 ||
	    nngx_send_buffer(ingest, RESULTS_SENDBUF) == -1 ||
	    daemon_dial(&d, &events, NNGX_SUB, events_url, "events") == -1 ||
	    nngx_subscribe(events, "container/") == -1 ||
	    nngx_subscribe(events, "workload/") == -1)
		return EXIT_TEMP;
	nng_socket_set_int(events, NNG_OPT_RECVBUF, EVENTS_RECVBUF);
	daemon_url(&d, store_url, sizeof(store_url), store_ctl_url,
	           "store.ctl");
	if ((up = upstream_new(store_url, STORE_CALL_MS)) == NULL)
		return EXIT_TEMP;

	memset(&rc, 0, sizeof(rc));
	rc.plugin_dir = plugin_dir;
	rc.env.docker_host = docker_host;
	rc.env.path = getenv("PATH") != NULL ? getenv("PATH") : DEFAULT_PATH;
	rc.timeout_ms = plugin_timeout_ms;
	rc.kill_ms = PLUGIN_KILL_MS;
	rc.concurrency = (size_t)concurrency;
	rc.ingest = ingest;
	runner_init(&runner, &rc);
	memset(&hc, 0, sizeof(hc));
	hc.timeout_ms = webhook_timeout_ms;
	hc.attempts = (int)webhook_attempts;
	hc.backoff_ms = WEBHOOK_BACKOFF_MS;
	hc.backoff_max_ms = WEBHOOK_BACKOFF_MAX;
	hc.queue_max = WEBHOOK_QUEUE_MAX;
	hc.inflight_max = WEBHOOK_INFLIGHT;
	hc.up = up;
	if ((hooks = hook_new(&hc)) == NULL)
		return EXIT_TEMP;
	memset(&c, 0, sizeof(c));
	c.runner = &runner;
	c.hooks = hooks;
	c.up = up;
	c.plugin_dir = plugin_dir;
	c.admin_uid = opts.admin_uid;
	dispatcher_ctl_config(&c, &ccfg);
	if ((srv = ctlsrv_new(ctlsock, &ccfg, CTL_SLOTS)) == NULL)
		return EXIT_TEMP;
	fixed[PFD_CTL] = ctlsrv_fd(srv);
	if ((fixed[PFD_JOBS] = nngx_recv_fd(jobs)) == -1 ||
	    (fixed[PFD_EVENTS] = nngx_recv_fd(events)) == -1)
		return EXIT_TEMP;
	fixed[PFD_UP] = upstream_fd(up);

	daemon_ready(&d);
	log_info("running plugins of %s (%lld at once, timeout %lld ms)",
	         plugin_dir, (long long)concurrency,
	         (long long)plugin_timeout_ms);

	while (running) {
		n = PFD_FIXED + rc.concurrency + hook_nfds(hooks);
		if (n > cap) {
			pfd = xreallocarray(pfd, n, sizeof(*pfd));
			cap = n;
		}
		for (n = 0; n < PFD_FIXED; n++) {
			pfd[n].fd = fixed[n];
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
		}
		nr = runner_pollfds(&runner, pfd + n, cap - n);
		nn = hook_pollfds(hooks, pfd + n + nr, cap - n - nr);
		if (poll(pfd, n + nr + nn,
		         min_timeout(runner_timeout(&runner),
		                     hook_timeout(hooks))) == -1) {
			if (errno == EINTR)
				continue;
			fatal(EXIT_TEMP, "unable to poll");
		}
		if (pfd[PFD_SIG].revents & POLLIN) {
			sig = sig_drain(pfd[PFD_SIG].fd);
			if (sig == SIGTERM || sig == SIGINT)
				running = false;
			else if (sig == SIGHUP)
				log_info("SIGHUP: nothing to reload");
		}
		if (!running)
			break;
		if (pfd[PFD_CTL].revents & POLLIN)
			ctlsrv_serve(srv);
		if (pfd[PFD_JOBS].revents & POLLIN)
			dispatcher_dispatch_jobs(jobs, &runner, hooks);
		if (pfd[PFD_EVENTS].revents & POLLIN)
			dispatcher_dispatch_events(events, hooks);
		if (pfd[PFD_UP].revents & POLLIN)
			dispatcher_dispatch_upstream(up, &c, hooks);
		runner_io(&runner, pfd + n, nr);
		hook_io(hooks, pfd + n + nr, nn);
		/* exits are checked on every wake: SIGCHLD may have come
		 * with another signal that sig_drain ranked above it */
		runner_tick(&runner);
		hook_tick(hooks);
	}

	log_info("stopping");
	runner_fini(&runner, STOP_WAIT_MS);
	upstream_free(up, 200, dispatcher_ctl_drop);
	hook_free(hooks);
	ctlsrv_free(srv);
	nng_close(jobs);
	/* events is not closed: it has nothing to flush, and nng 1.5.2 was
	 * seen waiting for ever in the close of this SUB socket after its
	 * receive queue had overflowed; the exit closes it */
	nng_close(ingest);
	free(pfd);
	daemon_stop(&d);
	return 0;
}
