/*
 * main.c: recon-store, the sole LMDB writer. Applies what arrives on
 * `ingest`, answers `store.ctl`, publishes committed changes on `events`;
 * one thread, one poll loop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "ctlsrv.h"
#include "daemon.h"
#include "db.h"
#include "flags.h"
#include "hostproof.h"
#include "ingest.h"
#include "jobs.h"
#include "log.h"
#include "nngx.h"
#include "sig.h"
#include "store.h"
#include "util.h"
#include "wake.h"
#include "wire.h"

/* Each wake applies at most this many ingest messages, or stops after
 * this long, before answering store.ctl again: health stays prompt while
 * a lister floods ingest. */
#define INGEST_BATCH     16
#define INGEST_BUDGET_MS 50
#define EVENTS_QUEUE     1024 /* messages queued per subscriber */
#define CTL_SLOTS        128  /* store.ctl requests answered at once */

static struct daemon_opts opts;
static char *data_dir, *label_prefix;
static char *ingest_url, *events_url, *jobs_url, *ctl_url;
static char *remote_ingest_url, *remote_events_url, *remote_ctl_url;
static uint64_t map_size, max_map_size;
static int64_t retain_events, reader_mode;

static struct flag flagtab[] = {
    FLAGS_DAEMON(&opts),
    {"data-dir", 0, "RECON_DATA_DIR", FLAG_STR, &data_dir, "/var/lib/recon",
     "directory of the LMDB database (created 0750)"},
    FLAG_LABEL_PREFIX(&label_prefix),
    FLAG_SOCKET_URL("ingest-url", "RECON_INGEST_URL", &ingest_url,
                    "ingest socket, PULL", "ingest"),
    FLAG_SOCKET_URL("events-url", "RECON_EVENTS_URL", &events_url,
                    "events socket, PUB", "events"),
    FLAG_SOCKET_URL("jobs-url", "RECON_JOBS_URL", &jobs_url,
                    "dispatcher's jobs socket, PUSH", "jobs"),
    FLAG_SOCKET_URL("store-ctl-url", "RECON_STORE_CTL_URL", &ctl_url,
                    "store.ctl socket, REP", "store.ctl"),
    {"remote-ingest-url", 0, "RECON_REMOTE_INGEST_URL", FLAG_STR,
     &remote_ingest_url, NULL,
     "remote listers' ingest beside the local one, e.g. "
     "tls+tcp://0.0.0.0:7450: sealed snapshots and deltas only (none)"},
    {"remote-events-url", 0, "RECON_REMOTE_EVENTS_URL", FLAG_STR,
     &remote_events_url, NULL,
     "remote subscribers' events beside the local one (none)"},
    {"remote-ctl-url", 0, "RECON_REMOTE_CTL_URL", FLAG_STR, &remote_ctl_url,
     NULL, "remote clients' store.ctl beside the local one: reads only (none)"},
    {"map-size", 0, "RECON_MAP_SIZE", FLAG_SIZE, &map_size, "64M",
     "initial LMDB map size (at least 64K)"},
    {"max-map-size", 0, "RECON_MAX_MAP_SIZE", FLAG_SIZE, &max_map_size, "8G",
     "the map doubles when full, up to this size"},
    {"reader-socket-mode", 0, "RECON_READER_SOCKET_MODE", FLAG_MODE,
     &reader_mode, "0660",
     "mode of the sockets readers need (events, store.ctl), which serve "
     "writes and secrets only to trusted uids"},
    {"retain-events", 0, "RECON_RETAIN_EVENTS", FLAG_INT, &retain_events,
     "100000", "change-log entries kept for events.since (at least 1)"},
    FLAG_END,
};

static void
check_options(void)
{
	flags_label_prefix_check(label_prefix);
	if (map_size < DB_MAP_MIN)
		fatalx(EXIT_USAGE, "bad --map-size: at least %d bytes",
		       DB_MAP_MIN);
	if (max_map_size < map_size)
		fatalx(EXIT_USAGE, "bad --max-map-size: below --map-size");
	if (retain_events < 1)
		fatalx(EXIT_USAGE, "bad --retain-events: at least 1");
}

/* A missing data dir is created; one that exists but cannot be used is a
 * configuration error (100), not worth restarting over. */
static void
data_dir_make(void)
{
	struct stat sb;

	if (stat(data_dir, &sb) == -1) {
		if (errno != ENOENT)
			fatal(EXIT_USAGE, "unable to use --data-dir %s",
			      data_dir);
		if (rundir_make(data_dir) == -1)
			exit(EXIT_TEMP);
		return;
	}
	if (!S_ISDIR(sb.st_mode))
		fatalx(EXIT_USAGE,
		       "unable to use --data-dir %s: not a "
		       "directory",
		       data_dir);
	if (access(data_dir, R_OK | W_OK | X_OK) == -1)
		fatal(EXIT_USAGE, "unable to use --data-dir %s", data_dir);
}

static void
publish(void *arg, const void *msg, size_t len)
{
	nng_socket *events = arg;

	/* PUB never blocks; a slow subscriber loses messages and catches
	 * up through events.since (SPEC §6) */
	nngx_send_nb(*events, msg, len);
}

/* Poked when the dispatcher connects to our jobs PUSH: the loop then asks
 * again for the state runs owed (nng calls this on its own thread). */
static struct wake owed_wake = WAKE_CLOSED;

static void
dispatcher_connected(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	(void)arg;
	wake_poke(&owed_wake);
}

/* Opens the remote listers' host proofs (--tls-ca). */
static struct hostproof_verifier *verifier;

/* Applies a bounded batch; true when more may be waiting. A message
 * that came through the remote listener must carry its host's proof;
 * the local ones are trusted by their uid. */
static bool
serve_ingest(nng_socket sock, struct store *st)
{
	int64_t t0 = mono_ms();
	char peer[64];
	nng_msg *m;
	size_t len;
	int n;

	for (n = 0; n < INGEST_BATCH && mono_ms() - t0 < INGEST_BUDGET_MS;
	     n++) {
		if (nngx_try_recv(sock, &m) != 1)
			return false;
		len = nng_msg_len(m);
		if (nngx_peer_remote(m)) {
			nngx_peer_addr(m, peer, sizeof(peer));
			ingest_sealed(st, verifier, nng_msg_body(m), len, peer);
		} else
			ingest_message(st, nng_msg_body(m), len,
			               nngx_peer_uid(m));
		nng_msg_free(m);
		if (len >= MEM_BIG)
			mem_release();
	}
	return true;
}

/*
 * The remote listeners (SPEC §10), beside the local ones on the same
 * sockets: their peers have no uid, so ingest takes sealed messages only
 * and store.ctl serves reads only, decided by the listener a message came
 * through. Exits 100 on a bad address; -1 when one cannot listen.
 */
static int
listen_remote(const struct daemon *d, nng_socket ingest, nng_socket events,
              nng_socket ctl)
{
	char buf[4200], err[HOSTPROOF_ERR_LEN];

	if (!str_empty(remote_ingest_url)) {
		daemon_url(d, buf, sizeof(buf), remote_ingest_url,
		           "remote-ingest");
		if (str_empty(opts.tls_ca))
			fatalx(EXIT_USAGE,
			       "bad --remote-ingest-url: remote listers' host "
			       "proofs are opened with --tls-ca, not given");
		if ((verifier = hostproof_verifier_open(opts.tls_ca, 0, err)) ==
		    NULL)
			fatalx(EXIT_USAGE, "bad --tls-ca: %s", err);
		if (nngx_listen_remote(ingest, buf) == -1)
			return -1;
		log_info("remote ingest on %s (sealed snapshots and deltas "
		         "of the hosts their certificates name)",
		         buf);
	}
	if (!str_empty(remote_events_url)) {
		daemon_url(d, buf, sizeof(buf), remote_events_url,
		           "remote-events");
		if (nngx_listen_remote(events, buf) == -1)
			return -1;
		log_info("remote events on %s", buf);
	}
	if (!str_empty(remote_ctl_url)) {
		daemon_url(d, buf, sizeof(buf), remote_ctl_url, "remote-ctl");
		if (nngx_listen_remote(ctl, buf) == -1)
			return -1;
		log_info("remote store.ctl on %s (reads only)", buf);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	nng_socket ingest, events, ctl, jobs;
	struct daemon d;
	struct ctlsrv_config ccfg;
	struct ctlsrv *srv;
	struct jobs jq;
	struct db_config cfg;
	struct pollfd pfd[4];
	struct store st;
	struct db *db;
	int sig;
	bool running = true, more = false;

	daemon_start(&d, "recon-store", flagtab, &opts, check_options, 0, argc,
	             argv);
	data_dir_make();

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = data_dir;
	cfg.map_size = map_size;
	cfg.max_map_size = max_map_size;
	cfg.retain = (uint64_t)retain_events;
	if ((db = db_open(&cfg)) == NULL)
		return EXIT_TEMP;
	if (store_init(&st, db, label_prefix, opts.admin_uid) == -1)
		return EXIT_TEMP;
	pfd[0].fd = d.sigfd;

	/* readers need events and store.ctl, writers ingest (SPEC §2) */
	if (daemon_listen(&d, &events, NNGX_PUB, LISTEN_EVENTS, events_url,
	                  "events", reader_mode) == -1 ||
	    daemon_listen(&d, &ingest, NNGX_PULL, LISTEN_WRITERS, ingest_url,
	                  "ingest", opts.socket_mode) == -1 ||
	    daemon_listen(&d, &ctl, NNGX_REP, LISTEN_CTL, ctl_url, "store.ctl",
	                  reader_mode) == -1 ||
	    listen_remote(&d, ingest, events, ctl) == -1)
		return EXIT_TEMP;
	/* nng queues 16 messages per subscriber by default: less than one
	 * pass's burst of events, so even a quick subscriber would fill most
	 * of them from the log. Beyond this a slow one still does, and the
	 * queue, oldest dropped first, bounds what a subscriber that stopped
	 * reading holds (messages are shared between the queues). */
	nng_socket_set_int(events, NNG_OPT_SENDBUF, EVENTS_QUEUE);
	/* Dispatch jobs (R11, SPEC §8): changes.c notes the state reason
	 * where a row's change is made and hands it to jobs on commit. */
	if (daemon_dial(&d, &jobs, NNGX_PUSH, jobs_url, "jobs") == -1 ||
	    nngx_send_buffer(jobs, JOBS_SENDBUF) == -1)
		return EXIT_TEMP;
	/* what is owed is asked for now, and again each time the dispatcher
	 * connects (a first connection made before the notification is set
	 * up is covered by asking now) */
	if (wake_open(&owed_wake) == -1)
		fatal(EXIT_TEMP, "unable to make a pipe");
	if (nng_pipe_notify(jobs, NNG_PIPE_EV_ADD_POST, dispatcher_connected,
	                    NULL) != 0)
		fatalx(EXIT_TEMP, "unable to watch the jobs socket");
	jobs_init(&jq, db, jobs);
	st.jobs = &jq;
	jobs_owed(&jq);
	db_set_publish(db, publish, &events);

	api_config(&st, &ccfg);
	if ((srv = ctlsrv_new(ctl, &ccfg, CTL_SLOTS)) == NULL)
		return EXIT_TEMP;
	pfd[1].fd = ctlsrv_fd(srv);
	if ((pfd[2].fd = nngx_recv_fd(ingest)) == -1)
		return EXIT_TEMP;
	pfd[3].fd = wake_fd(&owed_wake);
	pfd[0].events = pfd[1].events = pfd[2].events = pfd[3].events = POLLIN;
	st.ready = true;
	daemon_ready(&d);
	log_info("serving %s (labels %sworkload.id)", data_dir, label_prefix);

	while (running) {
		if (poll(pfd, 4, more ? 0 : (int)jobs_timeout(&jq)) == -1) {
			if (errno == EINTR)
				continue;
			fatal(EXIT_TEMP, "unable to poll");
		}
		if (pfd[0].revents & POLLIN) {
			sig = sig_drain(pfd[0].fd);
			if (sig == SIGTERM || sig == SIGINT)
				running = false;
			else if (sig == SIGHUP)
				log_info("SIGHUP: nothing to reload");
		}
		if (!running)
			break;
		if (pfd[1].revents & POLLIN)
			ctlsrv_serve(srv);
		if ((pfd[2].revents & POLLIN) || more)
			more = serve_ingest(ingest, &st);
		if (pfd[3].revents & POLLIN) {
			wake_drain(&owed_wake);
			jobs_owed(&jq);
		}
		jobs_flush(&jq, false);
	}

	nng_close(ingest);
	ctlsrv_free(srv);
	nng_close(jobs);
	nng_close(events);
	jobs_fini(&jq);
	store_fini(&st);
	db_close(db);
	wake_close(&owed_wake);
	hostproof_verifier_close(verifier);
	daemon_stop(&d);
	return 0;
}
