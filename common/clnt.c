/*
 * clnt.c: one request, one reply on a ctl socket (REQ/REP), bounded by a
 * timeout. A fresh socket per call keeps callers free of nng state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "clnt.h"
#include "nngx.h"
#include "util.h"

#define CLNT_MAX_REPLY (256u << 20)

/* An ipc address whose socket file is missing cannot answer: say so at
 * once instead of waiting out the timeout (a stat, never a connect). */
static int
clnt_ipc_absent(const char *url)
{
	struct stat st;

	return strncmp(url, "ipc://", 6) == 0 && stat(url + 6, &st) < 0 &&
	       errno == ENOENT;
}

int
clnt_call(const char *url, const struct wbuf *req, int64_t timeout_ms,
          struct wbuf *reply, char *err, size_t errlen)
{
	nng_socket s;
	nng_msg *m = NULL;
	int64_t deadline = mono_ms() + timeout_ms, left;
	int rv;

	if (clnt_ipc_absent(url)) {
		xsnprintf(err, errlen, "%s: no such socket", url);
		return CLNT_UNREACHABLE;
	}
	if ((rv = nng_req0_open(&s)) != 0) {
		xsnprintf(err, errlen, "%s", nng_strerror(rv));
		return CLNT_UNREACHABLE;
	}
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, CLNT_MAX_REPLY);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, (nng_duration)timeout_ms);
	/* Never resend: a write request must not be applied twice. */
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 200);
	/* A blocking dial waits out nng's own negotiation timeout when the
	 * peer is stopped; dial in the background and let the send timeout
	 * bound the whole call. */
	if ((rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		goto out;
	if ((rv = nng_msg_alloc(&m, 0)) != 0 ||
	    (rv = nng_msg_append(m, req->data, req->len)) != 0)
		goto out;
	if ((rv = nng_sendmsg(s, m, 0)) != 0)
		goto out;
	m = NULL;
	left = deadline - mono_ms();
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO,
	                  (nng_duration)(left > 0 ? left : 1));
	if ((rv = nng_recvmsg(s, &m, 0)) != 0)
		goto out;
	wbuf_reset(reply);
	{
		size_t len = nng_msg_len(m);
		char *p = realloc(reply->data, len ? len : 1);
		if (p == NULL) {
			rv = NNG_ENOMEM;
			goto out;
		}
		reply->data = p;
		reply->cap = len ? len : 1;
		memcpy(p, nng_msg_body(m), len);
		reply->len = len;
	}
out:
	if (m != NULL)
		nng_msg_free(m);
	nng_close(s);
	if (rv != 0) {
		xsnprintf(err, errlen, "%s: %s", url, nng_strerror(rv));
		return CLNT_UNREACHABLE;
	}
	return CLNT_OK;
}
