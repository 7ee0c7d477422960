/*
 * nngx_impl.h: what nngx.c (sockets) and nngx_listen.c (listeners) share;
 * private to them.
 */
#ifndef RECON_NNGX_IMPL_H
#define RECON_NNGX_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#include "nngx.h"

/* A socket of proto for url, its messages capped at max_msg. 0 / -1. */
int nngx_open(nng_socket *, enum nngx_proto, const char *url, uint64_t max_msg);
/* The uid of each pipe a listener admitted, kept a while after it closes
 * (nngx_peer_uid's answer for a message that outlived its pipe). */
void nngx_seen_add(nng_pipe, int64_t uid, bool remote);
/* Whether a pipe seen came through a remote listener. */
bool nngx_seen_remote(nng_pipe);
void nngx_seen_gone(nng_pipe);

#endif
