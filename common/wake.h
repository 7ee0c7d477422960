/*
 * wake.h: a wake-up that another thread (nng's callbacks, a worker) gives
 * a poll loop: a nonblocking pipe whose read end the loop polls.
 */
#ifndef RECON_WAKE_H
#define RECON_WAKE_H

struct wake {
	int fd[2]; /* -1 when not open */
};

#define WAKE_CLOSED                                                            \
	{                                                                      \
		{                                                              \
			-1, -1                                                 \
		}                                                              \
	}

/* 0, or -1 with errno. */
int wake_open(struct wake *);
/* From any thread. A full pipe is a wake-up already pending. */
void wake_poke(struct wake *);
/* Empties the pipe: call when woken, before looking for work. */
void wake_drain(struct wake *);
/* What the loop polls for POLLIN. */
int wake_fd(const struct wake *);
/* Closes what is open. */
void wake_close(struct wake *);

#endif
