/*
 * sig.h: signals arrive through a self-pipe into the one poll loop.
 */
#ifndef RECON_SIG_H
#define RECON_SIG_H

/* Catches TERM, INT, HUP (and CHLD when want_chld); ignores PIPE.
 * Returns the pipe's read end to poll, or -1. */
int sig_setup(int want_chld);
/* Reads what is pending; returns the most urgent signal seen (TERM/INT
 * before HUP before CHLD), 0 if none. */
int sig_drain(int fd);

#endif
