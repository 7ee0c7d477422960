/*
 * nngx.c: nng sockets by SPEC §2 name: open, cap, dial, poll, send
 * without blocking (busy is not gone), subscribe, and a message's peer
 * credentials. Listeners, who may connect to them and their keeper are
 * nngx_listen.c's.
 */
#include <errno.h>
#include <dirent.h>
#include <glob.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
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
#include "nngx_impl.h"
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

int
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

/* The uid of every ipc pipe of a listening socket, kept SEEN_KEEP_MS
 * after it closes: a message that came in just before its pipe closed is
 * still its sender's (nngx_peer_uid). */
#define SEEN_KEEP_MS 10000

static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen_pipe {
	uint32_t pipe;
	int64_t uid;
	bool remote;  /* came through a remote listener */
	int64_t gone; /* when it closed; 0 while open */
} * seen;
static size_t nseen, seen_cap;

void
nngx_seen_add(nng_pipe p, int64_t uid, bool remote)
{
	size_t cap;

	pthread_mutex_lock(&seen_mu);
	if (nseen == seen_cap) {
		cap = seen_cap ? seen_cap * 2 : 64;
		seen = xreallocarray(seen, cap, sizeof(*seen));
		seen_cap = cap;
	}
	seen[nseen++] =
	    (struct seen_pipe){(uint32_t)nng_pipe_id(p), uid, remote, 0};
	pthread_mutex_unlock(&seen_mu);
}

/* p closed; the ones that closed long ago are forgotten. */
void
nngx_seen_gone(nng_pipe p)
{
	int64_t now = mono_ms();
	size_t i;

	pthread_mutex_lock(&seen_mu);
	for (i = 0; i < nseen;) {
		if (seen[i].pipe == (uint32_t)nng_pipe_id(p))
			seen[i].gone = now;
		if (seen[i].gone != 0 && now - seen[i].gone > SEEN_KEEP_MS)
			seen[i] = seen[--nseen];
		else
			i++;
	}
	pthread_mutex_unlock(&seen_mu);
}

int
nngx_dial(nng_socket *s, enum nngx_proto proto, const char *url,
          uint64_t max_msg)
{
	return nngx_dial_tls(s, proto, url, max_msg, NULL);
}

int
nngx_dial_tls(nng_socket *s, enum nngx_proto proto, const char *url,
              uint64_t max_msg, const struct nngx_tls *t)
{
	int rv;

	if (nngx_open(s, proto, url, max_msg) < 0)
		return -1;
	nng_socket_set_ms(*s, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(*s, NNG_OPT_RECONNMAXT, 1000);
	if ((rv = nngx_dial_url(*s, url, t, NNG_FLAG_NONBLOCK)) != 0) {
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

/* A send's outcome: EAGAIN and a timeout are busy, not gone. */
static int
nngx_sent(int rv, const char *how)
{
	if (rv == 0)
		return NNGX_SENT;
	if (rv == NNG_EAGAIN || rv == NNG_ETIMEDOUT)
		return NNGX_BUSY;
	log_warnx("unable to send%s: %s", how, nng_strerror(rv));
	return NNGX_FAILED;
}

int
nngx_send_nb(nng_socket s, const void *buf, size_t len)
{
	nng_msg *m = nngx_msg(buf, len);
	int rv;

	if (m == NULL)
		return nngx_sent(NNG_ENOMEM, "");
	if ((rv = nng_sendmsg(s, m, NNG_FLAG_NONBLOCK)) != 0)
		nng_msg_free(m);
	return nngx_sent(rv, "");
}

int
nngx_send_timeout(nng_socket s, const void *buf, size_t len, int64_t ms)
{
	nng_msg *m = nngx_msg(buf, len);
	nng_aio *aio;
	int rv;

	if (m == NULL)
		return nngx_sent(NNG_ENOMEM, "");
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		nng_msg_free(m);
		return nngx_sent(rv, "");
	}
	nng_aio_set_msg(aio, m);
	nng_aio_set_timeout(aio, (nng_duration)ms);
	nng_send_aio(s, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		nng_msg_free(nng_aio_get_msg(aio)); /* still ours */
	nng_aio_free(aio);
	return nngx_sent(rv, " within the timeout");
}

int
nngx_send_buffer(nng_socket s, int n)
{
	int rv;

	if ((rv = nng_socket_set_int(s, NNG_OPT_SENDBUF, n)) != 0) {
		log_warnx("unable to set a send buffer of %d: %s", n,
		          nng_strerror(rv));
		return -1;
	}
	return 0;
}

int
nngx_subscribe(nng_socket s, const char *prefix)
{
	int rv;

	if ((rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, prefix,
	                         strlen(prefix))) != 0) {
		log_warnx("unable to subscribe to \"%s\": %s", prefix,
		          nng_strerror(rv));
		return -1;
	}
	return 0;
}

int64_t
nngx_peer_uid(nng_msg *m)
{
	nng_pipe p = nng_msg_get_pipe(m);
	uint64_t uid;
	int64_t known;
	size_t i;

	if (nng_pipe_id(p) < 0)
		return -1;
	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0)
		return uid > INT64_MAX ? -1 : (int64_t)uid;
	/* the pipe closed after its last message came in: its uid as it
	 * connected */
	known = -1;
	pthread_mutex_lock(&seen_mu);
	for (i = 0; i < nseen; i++)
		if (seen[i].pipe == (uint32_t)nng_pipe_id(p)) {
			known = seen[i].uid;
			break;
		}
	pthread_mutex_unlock(&seen_mu);
	return known;
}

void
nngx_peer_addr(nng_msg *m, char *buf, size_t len)
{
	nng_pipe p = nng_msg_get_pipe(m);
	char ip[INET6_ADDRSTRLEN] = "";
	nng_sockaddr sa;

	if (nng_pipe_id(p) < 0 ||
	    nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0) {
		xsnprintf(buf, len, "pipe %d (gone)", nng_pipe_id(p));
		return;
	}
	if (sa.s_family == NNG_AF_INET)
		inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
	else if (sa.s_family == NNG_AF_INET6)
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
	if (ip[0] != '\0')
		xsnprintf(buf, len, "%s", ip);
	else
		xsnprintf(buf, len, "pipe %d", nng_pipe_id(p));
}

bool
nngx_seen_remote(nng_pipe p)
{
	bool remote = false;
	size_t i;

	pthread_mutex_lock(&seen_mu);
	for (i = 0; i < nseen; i++)
		if (seen[i].pipe == (uint32_t)nng_pipe_id(p)) {
			remote = seen[i].remote;
			break;
		}
	pthread_mutex_unlock(&seen_mu);
	return remote;
}

bool
nngx_uid_trusted(int64_t uid, int64_t admin_uid)
{
	return uid >= 0 && (uid == 0 || uid == (int64_t)geteuid() ||
	                    (admin_uid >= 0 && uid == admin_uid));
}
