/*
 * nngx.c: nng sockets by SPEC §2 name: open, cap, listen or dial, poll,
 * send without blocking, peer credentials.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "log.h"
#include "nngx.h"
#include "util.h"

static const struct {
	const char *name;
	int (*open)(nng_socket *);
} protos[] = {
    [NNGX_PULL] = {"pull", nng_pull0_open},
    [NNGX_PUSH] = {"push", nng_push0_open},
    [NNGX_PUB] = {"pub", nng_pub0_open},
    [NNGX_SUB] = {"sub", nng_sub0_open},
    [NNGX_REP] = {"rep", nng_rep0_open},
    [NNGX_REQ] = {"req", nng_req0_open},
};

int
nngx_url(char *buf, size_t len, const char *url, const char *run_dir,
         const char *name)
{
	if (url != NULL && *url != '\0')
		return xsnprintf(buf, len, "%s", url);
	return xsnprintf(buf, len, "ipc://%s/%s", run_dir, name);
}

static int
nngx_open(nng_socket *s, enum nngx_proto proto, const char *url,
          uint64_t max_msg)
{
	int rv;

	if ((rv = protos[proto].open(s)) != 0) {
		log_warnx("unable to open %s socket for %s: %s",
		          protos[proto].name, url, nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ,
	                              (size_t)max_msg)) != 0) {
		log_warnx("unable to cap messages on %s: %s", url,
		          nng_strerror(rv));
		nng_close(*s);
		return -1;
	}
	return 0;
}

int
nngx_listen(nng_socket *s, enum nngx_proto proto, const char *url,
            uint64_t max_msg, int mode)
{
	nng_listener l;
	const char *path = NULL;
	int rv;

	if (nngx_open(s, proto, url, max_msg) < 0)
		return -1;
	if ((rv = nng_listener_create(&l, *s, url)) != 0)
		goto fail;
	if (strncmp(url, "ipc://", 6) == 0) {
		path = url + 6;
		/* We hold the run dir's lock: a socket file left here is
		 * stale. Removing it avoids nng's connect-probe of it. */
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("unable to remove stale %s", path);
		if ((rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS,
		                               mode)) != 0)
			goto fail;
	}
	if ((rv = nng_listener_start(l, 0)) != 0)
		goto fail;
	/* nng applies the permissions itself; chmod again in case the umask
	 * was stricter than the mode asked for. */
	if (path != NULL && chmod(path, (mode_t)mode) < 0)
		log_warn("unable to chmod %s", path);
	return 0;
fail:
	log_warnx("unable to listen on %s: %s", url, nng_strerror(rv));
	nng_close(*s);
	return -1;
}

int
nngx_dial(nng_socket *s, enum nngx_proto proto, const char *url,
          uint64_t max_msg)
{
	int rv;

	if (nngx_open(s, proto, url, max_msg) < 0)
		return -1;
	nng_socket_set_ms(*s, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(*s, NNG_OPT_RECONNMAXT, 1000);
	if ((rv = nng_dial(*s, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_warnx("unable to dial %s: %s", url, nng_strerror(rv));
		nng_close(*s);
		return -1;
	}
	return 0;
}

int
nngx_recv_fd(nng_socket s)
{
	int fd, rv;

	if ((rv = nng_socket_get_int(s, NNG_OPT_RECVFD, &fd)) != 0) {
		log_warnx("unable to get receive fd: %s", nng_strerror(rv));
		return -1;
	}
	return fd;
}

int
nngx_try_recv(nng_socket s, nng_msg **m)
{
	int rv = nng_recvmsg(s, m, NNG_FLAG_NONBLOCK);

	if (rv == 0)
		return 1;
	if (rv == NNG_EAGAIN)
		return 0;
	log_warnx("unable to receive: %s", nng_strerror(rv));
	return -1;
}

static nng_msg *
nngx_msg(const void *buf, size_t len)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) != 0)
		return NULL;
	if (nng_msg_append(m, buf, len) != 0) {
		nng_msg_free(m);
		return NULL;
	}
	return m;
}

int
nngx_send_nb(nng_socket s, const void *buf, size_t len)
{
	nng_msg *m = nngx_msg(buf, len);
	int rv;

	if (m == NULL)
		return -1;
	if ((rv = nng_sendmsg(s, m, NNG_FLAG_NONBLOCK)) != 0) {
		log_debug("unable to send: %s", nng_strerror(rv));
		nng_msg_free(m);
		return -1;
	}
	return 0;
}

int
nngx_send_timeout(nng_socket s, const void *buf, size_t len, int64_t ms)
{
	nng_msg *m = nngx_msg(buf, len);
	nng_aio *aio;
	int rv;

	if (m == NULL)
		return -1;
	if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
		nng_msg_free(m);
		return -1;
	}
	nng_aio_set_msg(aio, m);
	nng_aio_set_timeout(aio, (nng_duration)ms);
	nng_send_aio(s, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		/* on failure the message is still ours */
		nng_msg_free(nng_aio_get_msg(aio));
		log_debug("unable to send: %s", nng_strerror(rv));
	}
	nng_aio_free(aio);
	return rv == 0 ? 0 : -1;
}

int
nngx_peer_uid(nng_msg *m, uint64_t *uid)
{
	nng_pipe p = nng_msg_get_pipe(m);

	if (nng_pipe_id(p) < 0)
		return -1;
	return nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, uid) == 0 ? 0 : -1;
}
