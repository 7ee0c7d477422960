/*
 * wake.c: the pipe that wakes a poll loop from another thread (wake.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "wake.h"

int
wake_open(struct wake *w)
{
	w->fd[0] = w->fd[1] = -1;
	return pipe2(w->fd, O_CLOEXEC | O_NONBLOCK);
}

void
wake_poke(struct wake *w)
{
	char b = 1;

	if (write(w->fd[1], &b, 1) == -1 && errno != EAGAIN)
		log_warn("unable to wake a poll loop");
}

void
wake_drain(struct wake *w)
{
	char buf[64];

	while (read(w->fd[0], buf, sizeof(buf)) > 0)
		;
}

int
wake_fd(const struct wake *w)
{
	return w->fd[0];
}

void
wake_close(struct wake *w)
{
	if (w->fd[0] != -1)
		close(w->fd[0]);
	if (w->fd[1] != -1)
		close(w->fd[1]);
	w->fd[0] = w->fd[1] = -1;
}
