/*
 * main.c: recon-lister. Reads Docker's containers carrying the workload
 * label and pushes full snapshots, and deltas after Docker's events, to the
 * store's ingest socket; the Docker I/O runs on a worker thread and an
 * events thread, the main loop answers lister.ctl.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "docker.h"
#include "docker_events.h"
#include "lister_ctl.h"
#include "flags.h"
#include "hostproof.h"
#include "log.h"
#include "nngx.h"
#include "sig.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

#define INTERVAL_DEFAULT_MS (30 * 1000)
#define INTERVAL_MAX_MS     (5 * 60 * 1000)
#define STOP_WAIT_MS        800 /* SIGTERM to exit: SPEC §7 allows 1 s */
#define EVENTS_STOP_MS      200 /* of which the events thread gets this */
#define CTL_SLOTS           32  /* lister.ctl requests answered at once */

static struct daemon_opts opts;
static char *docker_host, *label_prefix, *host_name;
static char *ingest_url, *ctl_url;
static int64_t interval_ms, docker_timeout_ms;

static struct flag flagtab[] = {
    FLAGS_DAEMON(&opts),
    {"docker-host", 0, "DOCKER_HOST", FLAG_STR, &docker_host,
     "unix:///var/run/docker.sock",
     "Docker daemon: unix:///path or tcp://host:port"},
    {"interval", 0, "RECON_INTERVAL", FLAG_DURATION, &interval_ms, "30s",
     "time between full passes (<= 0: 30s, at most 5m); snapshots "
     "carry it, and the store calls the host stale after 3 without a word"},
    FLAG_LABEL_PREFIX(&label_prefix),
    {"host-name", 0, "RECON_HOST", FLAG_STR, &host_name, "local",
     "this Docker host's name in snapshots"},
    {"docker-timeout", 0, "RECON_DOCKER_TIMEOUT", FLAG_DURATION,
     &docker_timeout_ms, "10s",
     "bound on each Docker call, the events stream's answer and each send"},
    FLAG_SOCKET_URL("ingest-url", "RECON_INGEST_URL", &ingest_url,
                    "store's ingest socket", "ingest"),
    FLAG_SOCKET_URL("lister-ctl-url", "RECON_LISTER_CTL_URL", &ctl_url,
                    "lister.ctl socket", "lister.ctl"),
    FLAG_END,
};

/* Checks and normalises the options; exits 100 on a bad one. */
static void
check_options(void)
{
	char sock[108], base[256], err[DOCKER_ERR_LEN];

	if (docker_host_parse(docker_host, sock, sizeof(sock), base,
	                      sizeof(base), err, sizeof(err)) == -1)
		fatalx(EXIT_USAGE, "bad --docker-host %s", err);
	flags_label_prefix_check(label_prefix);
	if (!id_valid(host_name))
		fatalx(EXIT_USAGE,
		       "bad --host-name \"%s\": want "
		       "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}",
		       host_name);
	if (docker_timeout_ms <= 0)
		fatalx(EXIT_USAGE, "bad --docker-timeout: must be above 0");
	if (interval_ms <= 0) {
		interval_ms = INTERVAL_DEFAULT_MS;
	} else if (interval_ms > INTERVAL_MAX_MS) {
		log_warnx("--interval of %lld ms clamped to 5m",
		          (long long)interval_ms);
		interval_ms = INTERVAL_MAX_MS;
	}
}

/* nng's thread: ingest connected; after a loss, a full pass is owed. */
static void
ingest_connected(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	worker_connected(arg);
}

/*
 * A store on another host (SPEC §10) applies a host's snapshots and
 * deltas only when they prove the host: each is sealed with --tls-cert
 * and --tls-key, whose CN or DNS SAN must be --host-name. NULL over ipc.
 * Exits 100 when the files cannot sign.
 */
static struct hostproof_signer *
signer_open(const struct daemon *d)
{
	char url[4200], err[HOSTPROOF_ERR_LEN];
	struct hostproof_signer *sg;

	daemon_url(d, url, sizeof(url), ingest_url, "ingest");
	if (nngx_scheme(url) == NNGX_LOCAL)
		return NULL;
	if (str_empty(opts.tls_cert) || str_empty(opts.tls_key))
		fatalx(EXIT_USAGE,
		       "bad --ingest-url %s: a remote store takes only "
		       "messages sealed with this host's certificate: give "
		       "--tls-cert and --tls-key",
		       url);
	if ((sg = hostproof_signer_open(opts.tls_cert, opts.tls_key, err)) ==
	    NULL)
		fatalx(EXIT_USAGE, "bad --tls-cert/--tls-key: %s", err);
	log_info("sealing snapshots and deltas for %s with %s", url,
	         opts.tls_cert);
	return sg;
}

int
main(int argc, char **argv)
{
	struct daemon d;
	nng_socket ctlsock, push;
	struct worker_conf wc;
	struct worker *w;
	struct docker_events_conf ec;
	struct docker_events *ev;
	struct ctlsrv_config ccfg;
	struct ctlsrv *srv;
	struct lister_ctl c;
	struct pollfd pfd[3];
	int sig;
	bool running = true;

	daemon_start(&d, "recon-lister", flagtab, &opts, check_options,
	             DAEMON_CURL, argc, argv);
	if (daemon_listen(&d, &ctlsock, NNGX_REP, LISTEN_CTL, ctl_url,
	                  "lister.ctl", opts.socket_mode) == -1 ||
	    daemon_dial(&d, &push, NNGX_PUSH, ingest_url, "ingest") == -1)
		return EXIT_TEMP;

	memset(&wc, 0, sizeof(wc));
	wc.docker_host = docker_host;
	wc.prefix = label_prefix;
	wc.host_name = host_name;
	wc.interval_ms = interval_ms;
	wc.timeout_ms = docker_timeout_ms;
	wc.max_body = DOCKER_BODY_MAX;
	wc.push = push;
	wc.signer = signer_open(&d);
	memset(&ec, 0, sizeof(ec));
	ec.docker_host = docker_host;
	ec.prefix = label_prefix;
	ec.timeout_ms = docker_timeout_ms;
	if ((w = worker_new(&wc)) == NULL)
		return EXIT_TEMP;
	/* nng redials a lost store by itself; each new connection to a
	 * remote one owes a full pass (worker_connected). Not over ipc,
	 * where the store's keeper cuts pipes to repair a listener (nng bug
	 * 1518) and each cut would cost a Docker list: there the next
	 * interval's pass, or a send's failure, does it. */
	if (wc.signer != NULL && nng_pipe_notify(push, NNG_PIPE_EV_ADD_POST,
	                                         ingest_connected, w) != 0)
		fatalx(EXIT_TEMP, "unable to watch the ingest socket");
	ec.worker = w;
	if ((ev = docker_events_new(&ec)) == NULL || worker_start(w) == -1 ||
	    docker_events_start(ev) == -1)
		return EXIT_TEMP;
	memset(&c, 0, sizeof(c));
	c.worker = w;
	c.events = ev;
	c.timeout_ms = docker_timeout_ms;
	c.admin_uid = opts.admin_uid;
	lister_ctl_config(&c, &ccfg);
	if ((srv = ctlsrv_new(ctlsock, &ccfg, CTL_SLOTS)) == NULL)
		return EXIT_TEMP;
	pfd[1].fd = ctlsrv_fd(srv);
	pfd[0].fd = d.sigfd;
	pfd[2].fd = worker_wake_fd(w);
	pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
	daemon_ready(&d);
	log_info("listing %s every %lld ms (labels %sworkload.id, host %s)",
	         docker_host, (long long)interval_ms, label_prefix, host_name);

	while (running) {
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal(EXIT_TEMP, "unable to poll");
		}
		if (pfd[0].revents & POLLIN) {
			sig = sig_drain(d.sigfd);
			if (sig == SIGTERM || sig == SIGINT) {
				running = false;
			} else if (sig == SIGHUP) {
				log_info("SIGHUP: full pass now");
				worker_resync(w);
			}
		}
		if (pfd[1].revents & POLLIN)
			ctlsrv_serve(srv);
		if (pfd[2].revents & POLLIN)
			worker_drain(w);
	}

	log_info("stopping");
	if (docker_events_stop(ev, EVENTS_STOP_MS) == -1 ||
	    worker_stop(w, STOP_WAIT_MS - EVENTS_STOP_MS) == -1)
		_exit(0); /* a thread still hangs in a call: leave it */
	ctlsrv_free(srv);
	hostproof_signer_close(wc.signer);
	daemon_stop(&d);
	return 0;
}
