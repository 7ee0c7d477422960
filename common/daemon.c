/*
 * daemon.c: the start and stop every recon daemon shares (daemon.h).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "lockfile.h"
#include "log.h"
#include "sig.h"
#include "util.h"

/* --tls-cert, --tls-key, --tls-ca, once for the process (SPEC §10). */
static struct nngx_tls daemon_tls;

/* Reads the TLS files (flags_tls_load), exiting 100 naming what is
 * missing or the file at fault. */
static void
tls_setup(const struct daemon_opts *o)
{
	char err[768];

	if (flags_tls_load(&daemon_tls, o->tls_cert, o->tls_key, o->tls_ca, err,
	                   sizeof(err)) == -1)
		fatalx(EXIT_USAGE, "bad TLS options: %s", err);
	if (daemon_tls.loaded)
		nngx_tls_set_default(&daemon_tls);
}

const struct nngx_tls *
daemon_tls_get(void)
{
	return daemon_tls.loaded ? &daemon_tls : NULL;
}

/* A child (a plugin) is given fds 0-2; a closed one would be taken by
 * our first socket or file and a plugin would write into it. */
static void
std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

void
daemon_start(struct daemon *d, const char *name, struct flag *tab,
             struct daemon_opts *opts, void (*check)(void), unsigned what,
             int argc, char **argv)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->opts = opts;
	d->what = what;
	d->lockfd = d->sigfd = -1;
	if (flags_parse(name, "[options]", tab, argc, argv, NULL) == -1)
		exit(EXIT_USAGE);
	if (log_init(name, opts->log_format, opts->verbose) == -1) {
		fprintf(stderr, "%s: bad --log-format %s\n", name,
		        opts->log_format);
		exit(EXIT_USAGE);
	}
	flags_daemon_check(opts);
	if (check != NULL)
		check();
	tls_setup(opts);
	mem_tune();
	std_fds();
	if (rundir_make(opts->run_dir) == -1 ||
	    (d->lockfd = lockfile_take(opts->run_dir, name)) == -1)
		exit(EXIT_TEMP);
	if ((what & DAEMON_CURL) &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx(EXIT_TEMP, "unable to initialise libcurl");
	if ((d->sigfd = sig_setup((what & DAEMON_SIGCHLD) != 0)) == -1)
		exit(EXIT_TEMP);
}

void
daemon_url(const struct daemon *d, char *buf, size_t len, const char *url,
           const char *name)
{
	char flag[64];
	size_t i;

	char err[512];
	int r;

	r = nngx_url(buf, len, url, d->opts->run_dir, name);
	snprintf(flag, sizeof(flag), "%s-url", name);
	for (i = 0; flag[i] != '\0'; i++)
		if (flag[i] == '.')
			flag[i] = '-';
	if (r != 0)
		fatalx(EXIT_USAGE, "bad --%s: too long", flag);
	if (nngx_url_check(buf, daemon_tls_get(), d->opts->insecure_tcp, err,
	                   sizeof(err)) == -1)
		fatalx(EXIT_USAGE, "bad --%s: %s", flag, err);
}

int
daemon_listen(const struct daemon *d, nng_socket *s, enum nngx_proto proto,
              enum listen_kind kind, const char *url, const char *name,
              int64_t mode)
{
	struct nngx_listen_opts lo;
	char buf[4200];

	daemon_url(d, buf, sizeof(buf), url, name);
	flags_listen_opts(d->opts, kind, mode, &lo);
	return nngx_listen(s, proto, buf, &lo);
}

int
daemon_dial(const struct daemon *d, nng_socket *s, enum nngx_proto proto,
            const char *url, const char *name)
{
	char buf[4200];

	daemon_url(d, buf, sizeof(buf), url, name);
	return nngx_dial(s, proto, buf, d->opts->max_message);
}

/* s6's readiness notification: a newline on --notify-fd, which is then
 * closed; none asked for (-1), nothing. */
void
daemon_ready(const struct daemon *d)
{
	int fd = (int)d->opts->notify_fd;
	ssize_t n;

	if (fd < 0)
		return;
	do
		n = write(fd, "\n", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		log_warn("unable to write readiness to fd %d", fd);
	close(fd);
}

void
daemon_stop(struct daemon *d)
{
	if (d->lockfd != -1)
		close(d->lockfd);
	d->lockfd = -1;
	if (d->sigfd != -1)
		close(d->sigfd);
	d->sigfd = -1;
	if (d->what & DAEMON_CURL)
		curl_global_cleanup();
	log_info("stopped");
}
