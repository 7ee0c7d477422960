/*
 * clnt.h: the client side of the ctl sockets (REQ/REP), shared by reconctl,
 * the daemons and tests. Callers use these functions, never the wire.
 */
#ifndef RECON_CLNT_H
#define RECON_CLNT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum clnt_status {
	CLNT_OK = 0,          /* a reply arrived (it may still say ok:false) */
	CLNT_UNREACHABLE = 2, /* could not connect, or no reply in time */
};

/* Sends req to url and waits up to timeout_ms for the reply, which is
 * appended to reply. On CLNT_UNREACHABLE err says why. */
int clnt_call(const char *url, const struct wbuf *req, int64_t timeout_ms,
              struct wbuf *reply, char *err, size_t errlen);

#endif
