/*
 * nngx.c: nng sockets by SPEC §2 name: open, cap, listen or dial, poll,
 * send without blocking, peer credentials; and the guard that keeps ipc
 * listeners accepting despite nng 1.5.2's bug 1518.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* Each protocol, and the one that talks to it (the guard dials with it). */
static const struct {
	const char *name;
	int (*open)(nng_socket *);
	enum nngx_proto peer;
} protos[] = {
    [NNGX_PULL] = {"pull", nng_pull0_open, NNGX_PUSH},
    [NNGX_PUSH] = {"push", nng_push0_open, NNGX_PULL},
    [NNGX_PUB] = {"pub", nng_pub0_open, NNGX_SUB},
    [NNGX_SUB] = {"sub", nng_sub0_open, NNGX_PUB},
    [NNGX_REP] = {"rep", nng_rep0_open, NNGX_REQ},
    [NNGX_REQ] = {"req", nng_req0_open, NNGX_REP},
};

/*
 * nng 1.5.2's ipc listener stops handing new connections to its socket for
 * good once a peer disconnects during the SP negotiation (upstream bug 1518,
 * fixed in 1.6): one client that times out against a stopped daemon is
 * enough. The client side cannot tell: its handshake still completes. So
 * the guard, a thread per ipc listener, counts the pipes the listening
 * socket really adds (NNG_PIPE_EV_ADD_POST on it belongs to the guard),
 * dials it every GUARD_PERIOD_MS with a real SP handshake (never a bare
 * connect, which is the trigger), and re-creates the listener when no pipe
 * was added within GUARD_WAIT_MS. nng's threads add pipes, not our loop, so
 * a busy loop never looks wedged; a stopped process stops its guard too.
 */
#define GUARD_PERIOD_MS 2000
#define GUARD_WAIT_MS   3000

struct nngx_guard {
	nng_socket s;
	nng_listener l;
	enum nngx_proto proto;
	int mode;
	char url[4200];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t added; /* pipes the listening socket added */
};

static int nngx_listener_start(struct nngx_guard *);

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

/* Creates and starts g's listener; an ipc path is unlinked first (the
 * caller holds the run dir's lock, so a socket file there is stale, and
 * removing it spares nng's own connect-probe of it). */
static int
nngx_listener_start(struct nngx_guard *g)
{
	const char *path = NULL;
	int rv;

	if ((rv = nng_listener_create(&g->l, g->s, g->url)) != 0)
		goto fail;
	if (strncmp(g->url, "ipc://", 6) == 0) {
		path = g->url + 6;
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("unable to remove stale %s", path);
		if ((rv = nng_listener_set_int(g->l, NNG_OPT_IPC_PERMISSIONS,
		                               g->mode)) != 0)
			goto fail;
	}
	if ((rv = nng_listener_start(g->l, 0)) != 0)
		goto fail;
	/* nng applies the permissions itself; chmod again in case the umask
	 * was stricter than the mode asked for. */
	if (path != NULL && chmod(path, (mode_t)g->mode) < 0)
		log_warn("unable to chmod %s", path);
	return 0;
fail:
	log_warnx("unable to listen on %s: %s", g->url, nng_strerror(rv));
	return -1;
}

static void
guard_pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct nngx_guard *g = arg;

	pthread_mutex_lock(&g->mu);
	g->added++;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* One dial of our own listener: 1 the listening socket added a pipe
 * meanwhile, 0 it did not, -1 the probe itself could not run. */
static int
guard_probe(struct nngx_guard *g)
{
	struct timespec until;
	nng_socket c;
	uint64_t before;
	int ok;

	if (protos[protos[g->proto].peer].open(&c) != 0)
		return -1;
	/* The probe of a PUB listener receives the published stream, and a
	 * socket closed while a message body is being read can wedge nng
	 * 1.5.2's reaper for good (every later close in the process hangs).
	 * A 1-byte cap fails each message at its header: no body read. */
	nng_socket_set_size(c, NNG_OPT_RECVMAXSZ, 1);
	pthread_mutex_lock(&g->mu);
	before = g->added;
	pthread_mutex_unlock(&g->mu);
	if (nng_dial(c, g->url, NULL, NNG_FLAG_NONBLOCK) != 0) {
		nng_close(c);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += GUARD_WAIT_MS / 1000;
	pthread_mutex_lock(&g->mu);
	while (g->added == before &&
	       pthread_cond_timedwait(&g->cv, &g->mu, &until) == 0)
		;
	ok = g->added != before;
	pthread_mutex_unlock(&g->mu);
	nng_close(c);
	return ok;
}

static void *
guard_main(void *arg)
{
	struct nngx_guard *g = arg;
	struct timespec period = {GUARD_PERIOD_MS / 1000,
	                          (GUARD_PERIOD_MS % 1000) * 1000000L};
	int fd;

	for (;;) {
		nanosleep(&period, NULL);
		/* the socket was closed: the process is shutting down */
		if (nng_socket_get_int(g->s, NNG_OPT_RECVFD, &fd) ==
		    NNG_ECLOSED)
			break;
		if (guard_probe(g) != 0)
			continue;
		log_warnx("listener on %s stopped accepting (nng bug 1518); "
		          "re-creating it",
		          g->url);
		nng_listener_close(g->l);
		nngx_listener_start(g);
	}
	return NULL;
}

int
nngx_listen(nng_socket *s, enum nngx_proto proto, const char *url,
            uint64_t max_msg, int mode)
{
	struct nngx_guard *g;
	pthread_t thr;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		log_warn("unable to listen on %s", url);
		return -1;
	}
	if (nngx_open(s, proto, url, max_msg) < 0) {
		free(g);
		return -1;
	}
	g->s = *s;
	g->proto = proto;
	g->mode = mode;
	if (xsnprintf(g->url, sizeof(g->url), "%s", url) < 0 ||
	    nngx_listener_start(g) < 0) {
		nng_close(*s);
		free(g);
		return -1;
	}
	if (strncmp(url, "ipc://", 6) != 0) {
		free(g);
		return 0;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	nng_pipe_notify(*s, NNG_PIPE_EV_ADD_POST, guard_pipe_added, g);
	/* The guard lives as long as the process: it is never joined, and
	 * stops by itself once the socket is closed. */
	if (pthread_create(&thr, NULL, guard_main, g) != 0)
		log_warnx("unable to guard %s: no thread", url);
	else
		pthread_detach(thr);
	return 0;
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

	if (nng_pipe_id(p) < 0 ||
	    nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) != 0 ||
	    uid > INT64_MAX)
		return -1;
	return (int64_t)uid;
}

bool
nngx_uid_trusted(int64_t uid, int64_t admin_uid)
{
	return uid >= 0 && (uid == 0 || uid == (int64_t)geteuid() ||
	                    (admin_uid >= 0 && uid == admin_uid));
}
