/*
 * sig.c: the self-pipe that brings signals into the poll loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"

static int sig_pipe[2] = {-1, -1};

static void
sig_handler(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* full pipe: a signal is already pending */
	}
	errno = saved;
}

int
sig_setup(int want_chld)
{
	struct sigaction sa;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_warn("unable to create signal pipe");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (want_chld) {
		sa.sa_flags |= SA_NOCLDSTOP;
		sigaction(SIGCHLD, &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	return sig_pipe[0];
}

static int
sig_rank(int s)
{
	switch (s) {
	case SIGTERM:
	case SIGINT:
		return 3;
	case SIGHUP:
		return 2;
	case SIGCHLD:
		return 1;
	default:
		return 0;
	}
}

int
sig_drain(int fd)
{
	unsigned char buf[64];
	ssize_t n, i;
	int best = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			if (sig_rank(buf[i]) > sig_rank(best))
				best = buf[i];
	return best;
}
