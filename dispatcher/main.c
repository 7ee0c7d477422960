/*
 * main.c: recon-dispatcher. For now it holds its run-dir lock and answers
 * `health` on dispatcher.ctl; source plugins and webhook notifications
 * (SPEC §8) come with the dispatcher issue.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flags.h"
#include "lockfile.h"
#include "log.h"
#include "nngx.h"
#include "sig.h"
#include "util.h"
#include "wire.h"

static struct daemon_opts opts;
static char *ctl_url_opt;
static int64_t start_ms;

static struct flag dispatcher_flags[] = {
    FLAGS_DAEMON(&opts),
    {"dispatcher-ctl-url", 0, NULL, FLAG_STR, &ctl_url_opt, NULL,
     "dispatcher.ctl address (default ipc://RUN_DIR/dispatcher.ctl)"},
    FLAG_END,
};

static void
dispatcher_dispatch_ctl(nng_socket s, nng_msg *m)
{
	struct arena *a = arena_new();
	struct wire_request req;
	struct wbuf b = {0};
	char err[WIRE_ERR_LEN];

	if (wire_decode_request(nng_msg_body(m), nng_msg_len(m), a, &req, err) <
	    0) {
		log_warnx("dropped bad ctl request: %s", err);
		wire_reply_error(&b, "invalid", err);
	} else if (strcmp(req.t, "health") == 0) {
		struct wire_health h = {
		    .name = "recon-dispatcher",
		    .pid = getpid(),
		    .version = RECON_VERSION,
		    .uptime_s = (mono_ms() - start_ms) / 1000,
		    .ready = true,
		};
		wire_reply_health(&b, &h);
	} else
		wire_reply_error(&b, "unknown", "unknown request");
	nngx_send_nb(s, b.data, b.len);
	wbuf_free(&b);
	arena_free(a);
	nng_msg_free(m);
}

int
main(int argc, char **argv)
{
	char url[4200];
	nng_socket ctl;
	struct pollfd pfd[2];
	nng_msg *m;

	if (flags_parse("recon-dispatcher", "[options]", dispatcher_flags, argc,
	                argv, NULL) < 0)
		return EXIT_USAGE;
	if (log_init("recon-dispatcher", opts.log_format, opts.verbose) < 0) {
		log_warnx("unable to use log format \"%s\": text or json",
		          opts.log_format);
		return EXIT_USAGE;
	}
	start_ms = mono_ms();
	if (rundir_make(opts.run_dir) < 0)
		return EXIT_TEMP;
	if (lockfile_take(opts.run_dir, "recon-dispatcher") < 0)
		return EXIT_TEMP;
	if ((pfd[0].fd = sig_setup(1)) < 0)
		return EXIT_TEMP;
	if (nngx_url(url, sizeof(url), ctl_url_opt, opts.run_dir,
	             "dispatcher.ctl") < 0)
		fatalx(EXIT_USAGE, "dispatcher.ctl address too long");
	if (nngx_listen(&ctl, NNGX_REP, url, opts.max_message,
	                (int)opts.socket_mode) < 0)
		return EXIT_TEMP;
	if ((pfd[1].fd = nngx_recv_fd(ctl)) < 0)
		return EXIT_TEMP;
	pfd[0].events = pfd[1].events = POLLIN;
	notify_ready((int)opts.notify_fd);
	log_info("ready: ctl %s", url);
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			fatal(EXIT_TEMP, "poll");
		if (pfd[0].revents) {
			int s = sig_drain(pfd[0].fd);
			if (s == SIGTERM || s == SIGINT)
				break;
		}
		while (pfd[1].revents && nngx_try_recv(ctl, &m) == 1)
			dispatcher_dispatch_ctl(ctl, m);
	}
	log_info("exiting on signal");
	nng_close(ctl);
	return 0;
}
