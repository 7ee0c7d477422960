/*
 * nngx_listen.c: listening sockets (nngx_listen): who may connect (the
 * writers' sockets take trusted peers only, an untrusted uid holds at
 * most --peer-pipes connections) and the keeper that keeps ipc listeners
 * accepting despite nng 1.5.2's bug 1518. Over 600 lines because it is
 * one listener's life: the admission callbacks, the keeper's probes and
 * the retired listeners share its state under one lock.
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
/*
 * Listeners. nng 1.5.2's ipc listener stops handing new connections to its
 * socket for good once a peer disconnects during the SP negotiation
 * (upstream bug 1518, fixed in 1.6): one bare connect-then-close is
 * enough, and the client cannot tell, as its handshake still completes.
 * Closing the listener would also close every pipe it accepted. So the
 * file clients dial is a symlink to the listener of the moment, a socket
 * named .NAME.GEN beside it, and a stopped listener is replaced, not
 * re-created: the keeper (one thread per process) starts a new one and
 * swaps the symlink (rename(2): the name never goes missing).
 *
 * The old listener is retired, not closed, so its pipes keep working.
 * But a client that reached it after it stopped is stuck there, never
 * handed to the socket, and once such a client hangs up, nng's poller
 * spins on its connection until the listener closes. So a retired
 * listener is closed once it has no pipes, or once a connection has been
 * stuck on it for STUCK_MS (its socket file has more connections open in
 * this process than pipes); then its pipes are cut too, and their peers
 * redial. Not before RETIRE_MIN_MS, for a listener that was only slow to
 * answer the probe. The probe that found it stopped stays open until then: it
 * is a stuck client itself.
 *
 * Finding a stopped listener: nng counts the failed negotiation as one
 * of the listener's "other" errors (as it counts the error of an accepted
 * pipe that closes). Every KEEP_MS the keeper reads nng's statistics;
 * when a listener's other errors grew, and every BACKSTOP_MS anyway, it
 * dials the listener (a real handshake, never a bare connect) and
 * replaces it when no pipe is added within PROBE_GRACE_MS of the
 * handshake's end on the probe's side (or within PROBE_MS at all). The
 * one error the probe's own close adds within SETTLE_MS is not a reason
 * for the next probe.
 */
#define KEEP_MS        250
#define KEEP_BUSY_MS   5 /* while a probe is under way */
#define PROBE_MS       5000
#define PROBE_GRACE_MS 20
#define STORM_MS       2000 /* after a repair, look every KEEP_STORM_MS */
#define KEEP_STORM_MS  50
#define SETTLE_MS      100
#define BACKSTOP_MS    5000
#define RETIRE_MIN_MS  100
#define STUCK_MS       200
#define RETIRED_MAX    16    /* retired listeners kept per socket */
#define UIDS_MAX       64    /* untrusted uids counted per socket */
#define QUIET_MS       10000 /* between two log lines of a kind */

struct lsn_retired {
	nng_listener l;
	int64_t since;
	char path[4096];     /* its socket file */
	bool has_probe;      /* the probe that found it stopped, kept open */
	int64_t stuck_since; /* a connection looked stuck since; 0 */
	nng_socket probe;    /* (closing it would make nng spin: see below) */
};

struct lsn_peer {
	uint32_t pipe;
	int64_t uid;
};

struct lsn {
	nng_socket s;
	enum nngx_proto proto;
	struct nngx_listen_opts o;
	char url[4200];
	char path[4096]; /* the name clients dial; "" when not ipc */
	bool closed;
	/* the keeper's, under keep_mu */
	nng_listener l;
	char lurl[4200]; /* l's own: ipc://DIR/.NAME.GEN */
	unsigned gen;
	uint64_t other; /* l's other errors, as last seen */
	int64_t settle; /* until then, other counts our probe's close */
	int64_t last_probe;
	bool replacing; /* l stopped; a replacement failed: again */
	bool probing;   /* a probe is dialling l: */
	nng_socket probe;
	int64_t probe_since;
	_Atomic int64_t probe_up; /* when its own side had the pipe; 0 */
	uint64_t probe_added;
	struct lsn_retired retired[RETIRED_MAX];
	int nretired;
	/* the pipe callbacks', under pmu */
	pthread_mutex_t pmu;
	uint64_t added;      /* pipes the listener of the moment added */
	_Atomic int32_t lid; /* its id, for the callbacks */
	struct {
		int64_t uid;
		int n;
	} uids[UIDS_MAX]; /* untrusted pipes by uid */
	struct lsn_peer *peers;
	size_t npeers, peers_cap;
	struct lsn *next;
};

/* The remote listeners of the process (nngx_listen_remote), by id: their
 * pipes have no uid; what they may do is decided by the listener they
 * came through, never by anything a message says. Set before the
 * listener starts, never removed (a process has a few). */
#define REMOTE_MAX 16
static _Atomic int32_t remote_lids[REMOTE_MAX];
static _Atomic int nremote;

static bool
lid_remote(int32_t id)
{
	int i, n = atomic_load(&nremote);

	if (id <= 0)
		return false;
	for (i = 0; i < n; i++)
		if (atomic_load(&remote_lids[i]) == id)
			return true;
	return false;
}

static pthread_mutex_t keep_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lsn *lsns;
static pthread_once_t keep_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t st_refused, st_over_cap, st_repairs, st_cut, st_stuck;
static int64_t last_repair = INT64_MIN / 2; /* under keep_mu */

/* A log line that may come in a storm: one per QUIET_MS of each kind,
 * saying how many were not written in between. */
struct quiet {
	pthread_mutex_t mu;
	int64_t last;
	uint64_t skipped;
};

static struct quiet q_refused = {PTHREAD_MUTEX_INITIALIZER, INT64_MIN / 2, 0};
static struct quiet q_stopped = {PTHREAD_MUTEX_INITIALIZER, INT64_MIN / 2, 0};

/* Whether to log now; *skipped is how many were not logged before. */
static bool
quiet_allow(struct quiet *q, uint64_t *skipped)
{
	int64_t now = mono_ms();
	bool ok;

	pthread_mutex_lock(&q->mu);
	ok = now - q->last >= QUIET_MS;
	if (ok) {
		q->last = now;
		*skipped = q->skipped;
		q->skipped = 0;
	} else
		q->skipped++;
	pthread_mutex_unlock(&q->mu);
	return ok;
}

static void
refusal_log(const struct lsn *ls, int64_t uid, const char *why)
{
	uint64_t skipped;

	if (quiet_allow(&q_refused, &skipped))
		log_warnx("refused a connection to %s from uid %lld: %s "
		          "(%llu more refusals since the last line)",
		          ls->url, (long long)uid, why,
		          (unsigned long long)skipped);
}

/* One more untrusted pipe of uid: false when uid holds its share. */
static bool
peer_add(struct lsn *ls, nng_pipe p, int64_t uid)
{
	int i, free_slot = -1;

	for (i = 0; i < UIDS_MAX; i++) {
		if (ls->uids[i].n > 0 && ls->uids[i].uid == uid)
			break;
		if (ls->uids[i].n == 0 && free_slot < 0)
			free_slot = i;
	}
	if (i == UIDS_MAX) {
		if (free_slot < 0)
			return false;
		i = free_slot;
		ls->uids[i].uid = uid;
	}
	if (ls->uids[i].n >= ls->o.peer_pipes)
		return false;
	if (ls->npeers == ls->peers_cap) {
		size_t cap = ls->peers_cap ? ls->peers_cap * 2 : 64;

		ls->peers = xreallocarray(ls->peers, cap, sizeof(*ls->peers));
		ls->peers_cap = cap;
	}
	ls->peers[ls->npeers++] =
	    (struct lsn_peer){(uint32_t)nng_pipe_id(p), uid};
	ls->uids[i].n++;
	return true;
}

static void
peer_remove(struct lsn *ls, nng_pipe p)
{
	uint32_t id = (uint32_t)nng_pipe_id(p);
	size_t k;
	int i;

	for (k = 0; k < ls->npeers; k++)
		if (ls->peers[k].pipe == id)
			break;
	if (k == ls->npeers)
		return;
	for (i = 0; i < UIDS_MAX; i++)
		if (ls->uids[i].n > 0 && ls->uids[i].uid == ls->peers[k].uid) {
			ls->uids[i].n--;
			break;
		}
	ls->peers[k] = ls->peers[--ls->npeers];
}

/* Who may connect: SPEC §2's writers to a socket that only takes writes;
 * to the others, an untrusted uid up to o.peer_pipes pipes at once. A
 * pipe closed here is never added to the socket: nothing is read from it.
 * And the pipes added, for the keeper's probe. */
static void
lsn_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct lsn *ls = arg;
	bool remote = lid_remote(nng_listener_id(nng_pipe_listener(p)));
	int64_t uid;
	uint64_t u;
	bool ok;

	if (ev == NNG_PIPE_EV_REM_POST)
		nngx_seen_gone(p);
	/* the uid of a pipe taken in, kept past its close; a remote pipe
	 * has none, but is known as remote past its close too */
	if (ev == NNG_PIPE_EV_ADD_POST && remote)
		nngx_seen_add(p, -1, true);
	else if (ev == NNG_PIPE_EV_ADD_POST &&
	         nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &u) == 0 &&
	         u <= INT64_MAX)
		nngx_seen_add(p, (int64_t)u, false);
	pthread_mutex_lock(&ls->pmu);
	if (ev == NNG_PIPE_EV_REM_POST)
		peer_remove(ls, p);
	else if (ev == NNG_PIPE_EV_ADD_POST &&
	         nng_listener_id(nng_pipe_listener(p)) == atomic_load(&ls->lid))
		ls->added++;
	pthread_mutex_unlock(&ls->pmu);
	/* A remote peer's TLS handshake verified its certificate against
	 * the CA: it may connect; what it may do is its messages' business
	 * (nngx_peer_remote), and no uid share applies, as it has no uid. */
	if (ev != NNG_PIPE_EV_ADD_PRE || remote)
		return;
	uid = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &u) == 0 &&
	              u <= INT64_MAX
	          ? (int64_t)u
	          : -1;
	if (nngx_uid_trusted(uid, ls->o.admin_uid))
		return;
	if (ls->o.writers_only) {
		st_refused++;
		refusal_log(ls, uid, "it may not write (SPEC 2)");
		nng_pipe_close(p);
		return;
	}
	if (ls->o.peer_pipes <= 0)
		return;
	pthread_mutex_lock(&ls->pmu);
	ok = peer_add(ls, p, uid);
	pthread_mutex_unlock(&ls->pmu);
	if (!ok) {
		st_over_cap++;
		refusal_log(ls, uid, "it holds its share of connections");
		nng_pipe_close(p);
	}
}

/* DIR/.NAME.SUFFIX for path DIR/NAME; -1 if it does not fit. */
static int
side_path(char *buf, size_t len, const char *path, const char *suffix)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash == NULL ? 0 : (int)(slash - path + 1);

	return xsnprintf(buf, len, "%.*s.%s.%s", dirlen, path, path + dirlen,
	                 suffix);
}

/* Starts a listener on url (an ipc one at mode); 0, or -1 logged. */
static int
lsn_start(struct lsn *ls, const char *url, nng_listener *l)
{
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	int rv;

	if ((rv = nng_listener_create(l, ls->s, url)) != 0)
		goto fail;
	if ((rv = nngx_tls_listener(*l, url, NULL)) != 0 ||
	    (ipc && (rv = nng_listener_set_int(*l, NNG_OPT_IPC_PERMISSIONS,
	                                       ls->o.mode)) != 0) ||
	    (rv = nng_listener_start(*l, 0)) != 0) {
		nng_listener_close(*l);
		goto fail;
	}
	/* nng applies the permissions itself; chmod again in case the umask
	 * was stricter than the mode asked for. */
	if (ipc && chmod(url + 6, (mode_t)ls->o.mode) < 0)
		log_warn("unable to chmod %s", url + 6);
	return 0;
fail:
	log_warnx("unable to listen on %s: %s", url, nng_strerror(rv));
	return -1;
}

static uint64_t sock_conns(const char *path);

/* Closes ls's retired listener i, which has pipes connections handed
 * over, and the probe kept with it. Under keep_mu. */
static void
retired_close(struct lsn *ls, int i, uint64_t pipes)
{
	struct lsn_retired *r = &ls->retired[i];
	uint64_t conns = sock_conns(r->path), stuck = 0;

	if (pipes == UINT64_MAX)
		pipes = 0;
	if (conns > pipes + (r->has_probe ? 1 : 0))
		stuck = conns - pipes - (r->has_probe ? 1 : 0);
	st_cut += pipes;
	st_stuck += stuck;
	/* What a stuck client sent is lost with its connection: said here,
	 * as its sender cannot know. */
	if (stuck > 0)
		log_warnx("closing a stopped listener on %s: %llu connections "
		          "reached it after it stopped (anything sent on them "
		          "is lost) and %llu it had accepted are cut; they "
		          "redial",
		          ls->url, (unsigned long long)stuck,
		          (unsigned long long)pipes);
	log_debug("closing retired %s (%llu pipes, %llu stuck)", r->path,
	          (unsigned long long)pipes, (unsigned long long)stuck);
	nng_listener_close(r->l);
	if (r->has_probe)
		nng_close(r->probe);
	*r = ls->retired[--ls->nretired];
}

/* The connections accepted on the ipc socket file path and still open in
 * this process: its sockets whose own address is path. */
static uint64_t
sock_conns(const char *path)
{
	struct sockaddr_un sa;
	struct dirent *e;
	socklen_t len;
	uint64_t n = 0;
	int fd, on;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		len = sizeof(sa);
		if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0 ||
		    sa.sun_family != AF_UNIX ||
		    len <= offsetof(struct sockaddr_un, sun_path) ||
		    strncmp(sa.sun_path, path, sizeof(sa.sun_path)) != 0)
			continue;
		len = sizeof(on);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
		    !on)
			n++;
	}
	closedir(d);
	return n;
}

/* A new listener generation for ls, and the name pointed at it; the old
 * one, if any, is retired. Under keep_mu, or before the keeper knows ls.
 * 0, or -1 logged. */
static int
lsn_next(struct lsn *ls, bool first, const nng_socket *stuck_probe)
{
	struct lsn_retired *r;
	char gen[32], sock[4200], url[4200], lnk[4200];
	const char *base;
	nng_listener l;

	snprintf(gen, sizeof(gen), "%u", ls->gen + 1);
	if (side_path(sock, sizeof(sock), ls->path, gen) < 0 ||
	    side_path(lnk, sizeof(lnk), ls->path, "lnk") < 0 ||
	    xsnprintf(url, sizeof(url), "ipc://%s", sock) < 0) {
		log_warnx("unable to listen on %s: the path is too long",
		          ls->url);
		return -1;
	}
	(void)unlink(sock); /* stale: we hold the run dir's lock */
	if (lsn_start(ls, url, &l) < 0)
		return -1;
	base = strrchr(sock, '/') == NULL ? sock : strrchr(sock, '/') + 1;
	(void)unlink(lnk);
	if (symlink(base, lnk) < 0 || rename(lnk, ls->path) < 0) {
		log_warn("unable to point %s at %s", ls->path, sock);
		(void)unlink(lnk);
		nng_listener_close(l);
		return -1;
	}
	ls->gen++;
	if (!first) {
		if (ls->nretired == RETIRED_MAX) {
			int i, old = 0;

			for (i = 1; i < ls->nretired; i++)
				if (ls->retired[i].since <
				    ls->retired[old].since)
					old = i;
			retired_close(ls, old, UINT64_MAX);
		}
		r = &ls->retired[ls->nretired++];
		r->l = ls->l;
		r->since = mono_ms();
		memcpy(r->path, ls->lurl + 6, sizeof(r->path));
		r->has_probe = stuck_probe != NULL;
		r->stuck_since = 0;
		if (stuck_probe != NULL) {
			r->probe = *stuck_probe;
			nng_pipe_notify(r->probe, NNG_PIPE_EV_ADD_POST, NULL,
			                NULL);
		}
	}
	ls->l = l;
	atomic_store(&ls->lid, nng_listener_id(l));
	memcpy(ls->lurl, url, sizeof(ls->lurl));
	ls->other = 0;
	ls->settle = 0;
	ls->last_probe = mono_ms();
	return 0;
}

/* A listener's statistics, as nng last counted them. */
struct lsn_counts {
	uint64_t other, accept, pipes;
};

/* l's counts in all; -1 when nng has none for it. */
static int
lsn_counts(nng_stat *all, nng_listener l, struct lsn_counts *c)
{
	nng_stat *st, *v;
	bool mine;

	/* nng 1.5.2's nng_stat_find_listener returns the first listener
	 * whatever it is asked, and nng_stat_find searches on past the node
	 * it is given: walk the top-level "listener" scopes. */
	for (st = nng_stat_child(all); st != NULL; st = nng_stat_next(st)) {
		if (strcmp(nng_stat_name(st), "listener") != 0)
			continue;
		memset(c, 0, sizeof(*c));
		mine = false;
		for (v = nng_stat_child(st); v != NULL; v = nng_stat_next(v)) {
			const char *n = nng_stat_name(v);

			if (strcmp(n, "id") == 0)
				mine = nng_stat_value(v) ==
				       (uint64_t)nng_listener_id(l);
			else if (strcmp(n, "other") == 0)
				c->other = nng_stat_value(v);
			else if (strcmp(n, "accept") == 0)
				c->accept = nng_stat_value(v);
			else if (strcmp(n, "pipes") == 0)
				c->pipes = nng_stat_value(v);
		}
		if (mine)
			return 0;
	}
	return -1;
}

static void
probe_up(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct lsn *ls = arg;

	(void)p;
	(void)ev;
	atomic_store(&ls->probe_up, mono_ms());
}

/* Starts a dial of ls's listener of the moment, or takes its outcome:
 * any pipe added since it started shows the listener accepts. 1 it does,
 * 0 it did not, -1 the probe is under way or could not start. Under
 * keep_mu. */
static int
lsn_probe(struct lsn *ls, int64_t now)
{
	static int (*const open[])(nng_socket *) = {
	    [NNGX_PULL] = nng_push0_open, [NNGX_PUSH] = nng_pull0_open,
	    [NNGX_PUB] = nng_sub0_open,   [NNGX_SUB] = nng_pub0_open,
	    [NNGX_REP] = nng_req0_open,   [NNGX_REQ] = nng_rep0_open,
	};
	uint64_t added;
	int64_t up;

	pthread_mutex_lock(&ls->pmu);
	added = ls->added;
	pthread_mutex_unlock(&ls->pmu);
	if (ls->probing) {
		up = atomic_load(&ls->probe_up);
		/* Once the handshake is done on our side, a listener that
		 * accepts adds the pipe as it ends on its side: one that has
		 * not within PROBE_GRACE_MS stopped. Another client's pipe
		 * added meanwhile shows it accepts, but the probe still
		 * waits for its own: nng 1.5.2 keeps ~2-3 KiB of a socket
		 * closed while its dial is under way, for good (under a
		 * stream of connections, most probes: ~20 KiB a minute). And
		 * no longer than that: on events, the first message fails
		 * the probe's pipe (its 1-byte cap), which nng pays for
		 * alike. */
		if ((up == 0 ||
		     (added == ls->probe_added && now - up < PROBE_GRACE_MS)) &&
		    now - ls->probe_since < PROBE_MS)
			return -1;
		ls->probing = false;
		log_debug("probe of %s: %s after %lld ms", ls->lurl,
		          added == ls->probe_added ? "stopped" : "accepting",
		          (long long)(now - ls->probe_since));
		if (added == ls->probe_added)
			return 0; /* the caller has the probe */
		nng_close(ls->probe);
		return 1;
	}
	if (open[ls->proto](&ls->probe) != 0)
		return -1;
	/* The probe of a PUB listener receives the published stream, and a
	 * socket closed while a message body is being read can wedge nng
	 * 1.5.2's reaper for good (every later close in the process hangs).
	 * A 1-byte cap fails each message at its header: no body read. */
	nng_socket_set_size(ls->probe, NNG_OPT_RECVMAXSZ, 1);
	atomic_store(&ls->probe_up, 0);
	nng_pipe_notify(ls->probe, NNG_PIPE_EV_ADD_POST, probe_up, ls);
	if (nng_dial(ls->probe, ls->lurl, NULL, NNG_FLAG_NONBLOCK) != 0) {
		nng_close(ls->probe);
		return -1;
	}
	ls->probing = true;
	ls->probe_since = now;
	ls->probe_added = added;
	ls->last_probe = now;
	return -1;
}

/* Replaces ls's listener, which stopped. */
static void
lsn_replace(struct lsn *ls)
{
	uint64_t skipped;

	if (quiet_allow(&q_stopped, &skipped))
		log_warnx("listener on %s stopped accepting (nng bug 1518); "
		          "starting another (%llu more since the last line)",
		          ls->url, (unsigned long long)skipped);
	/* On failure (no descriptor left, say) the stuck probe stays open
	 * (closing it would make nng spin) and the next look tries again. */
	ls->replacing = lsn_next(ls, false, &ls->probe) != 0;
	if (!ls->replacing) {
		st_repairs++;
		last_repair = mono_ms();
	}
}

/* One look at ls: a probe's outcome; with nng's statistics (all), a new
 * probe when one is due, and the retired listeners that may close. */
static void
keep_one(struct lsn *ls, nng_stat *all, int64_t now)
{
	struct lsn_retired *r;
	struct lsn_counts c;
	uint64_t conns;
	int i, probed = -1;

	if (ls->probing)
		probed = lsn_probe(ls, now);
	if (probed >= 0)
		ls->settle = now + SETTLE_MS;
	if (probed == 0 || (ls->replacing && all != NULL))
		lsn_replace(ls);
	if (all == NULL || ls->probing || ls->replacing)
		return;
	if (lsn_counts(all, ls->l, &c) == 0) {
		/* the one error the probe's own close adds is not a reason;
		 * more are */
		if (ls->settle != 0 && now >= ls->settle) {
			if (c.other <= ls->other + 1)
				ls->other = c.other;
			ls->settle = 0;
		}
		if (ls->settle == 0 && (c.other != ls->other ||
		                        now - ls->last_probe >= BACKSTOP_MS)) {
			ls->other = c.other;
			lsn_probe(ls, now);
		}
	}
	for (i = 0; i < ls->nretired;) {
		r = &ls->retired[i];
		if (lsn_counts(all, r->l, &c) < 0)
			c.pipes = 0;
		/* Not before RETIRE_MIN_MS: a listener that did not stop (a
		 * probe can be late) still hands over what reached it before
		 * the swap. Then not while it has pipes, unless a connection
		 * is stuck on it: one that reached it after it stopped. */
		if (now - r->since < RETIRE_MIN_MS) {
			i++;
			continue;
		}
		/* A connection being accepted looks stuck for a moment (a
		 * bare connect, until nng sees it gone): stuck is what stays
		 * so for STUCK_MS. */
		if (c.pipes != 0) {
			conns = sock_conns(r->path);
			/* a probe that was only late is a pipe of it now */
			if (r->has_probe && conns <= c.pipes) {
				nng_close(r->probe);
				r->has_probe = false;
			}
			if (conns <= c.pipes + (r->has_probe ? 1 : 0))
				r->stuck_since = 0;
			else if (r->stuck_since == 0)
				r->stuck_since = now;
			if (r->stuck_since == 0 ||
			    now - r->stuck_since < STUCK_MS) {
				i++;
				continue;
			}
		}
		retired_close(ls, i, c.pipes);
	}
}

/* ls's socket closed: its probes go too. */
static void
lsn_drop_probes(struct lsn *ls)
{
	int i;

	if (ls->probing || ls->replacing)
		nng_close(ls->probe);
	ls->probing = ls->replacing = false;
	for (i = 0; i < ls->nretired; i++)
		if (ls->retired[i].has_probe)
			nng_close(ls->retired[i].probe);
	ls->nretired = 0;
}

static void *
keep_main(void *arg)
{
	struct timespec period;
	bool warned = false, busy = false;
	int64_t now, next_look = 0, wait;
	nng_stat *all;
	struct lsn *ls;
	int fd, rv;

	(void)arg;
	for (;;) {
		wait = busy ? KEEP_BUSY_MS : next_look - mono_ms();
		wait = wait < 1 ? 1 : wait > KEEP_MS ? KEEP_MS : wait;
		period.tv_sec = 0;
		period.tv_nsec = wait * 1000000L;
		nanosleep(&period, NULL);
		/* nng's statistics cost a copy of them all: every KEEP_MS;
		 * a probe under way needs none */
		all = NULL;
		if ((now = mono_ms()) >= next_look) {
			/* under a storm of stops, more often */
			next_look =
			    now + (now - last_repair < STORM_MS ? KEEP_STORM_MS
			                                        : KEEP_MS);
			if ((rv = nng_stats_get(&all)) != 0) {
				if (!warned)
					log_warnx("unable to watch listeners "
					          "for nng bug 1518: %s",
					          nng_strerror(rv));
				warned = true;
				all = NULL;
			}
		}
		pthread_mutex_lock(&keep_mu);
		busy = false;
		for (ls = lsns; ls != NULL; ls = ls->next) {
			if (ls->closed || ls->path[0] == '\0')
				continue;
			/* the socket was closed: the process is stopping */
			if (nng_socket_get_int(ls->s, NNG_OPT_RECVFD, &fd) ==
			    NNG_ECLOSED) {
				ls->closed = true;
				lsn_drop_probes(ls);
				continue;
			}
			keep_one(ls, all, now);
			busy = busy || ls->probing;
		}
		pthread_mutex_unlock(&keep_mu);
		if (all != NULL)
			nng_stats_free(all);
	}
	return NULL;
}

static void
keep_start(void)
{
	pthread_t thr;

	/* It lives as long as the process: never joined. */
	if (pthread_create(&thr, NULL, keep_main, NULL) != 0)
		log_warnx("unable to watch listeners for nng bug 1518: no "
		          "thread");
	else
		pthread_detach(thr);
}

/* Removes what an earlier run left of path's listeners: the name and its
 * .NAME.* sockets (the caller holds the run dir's lock). */
static void
lsn_clean(const char *path)
{
	char pat[4200];
	glob_t g;
	size_t i;

	(void)unlink(path);
	if (side_path(pat, sizeof(pat), path, "*") < 0 ||
	    glob(pat, GLOB_NOSORT, NULL, &g) != 0)
		return;
	for (i = 0; i < g.gl_pathc; i++)
		(void)unlink(g.gl_pathv[i]);
	globfree(&g);
}

int
nngx_listen(nng_socket *s, enum nngx_proto proto, const char *url,
            const struct nngx_listen_opts *o)
{
	struct lsn *ls;

	ls = xcalloc(1, sizeof(*ls));
	if (nngx_open(s, proto, url, o->max_msg) < 0) {
		free(ls);
		return -1;
	}
	ls->s = *s;
	ls->proto = proto;
	ls->o = *o;
	pthread_mutex_init(&ls->pmu, NULL);
	if (xsnprintf(ls->url, sizeof(ls->url), "%s", url) < 0 ||
	    (strncmp(url, "ipc://", 6) == 0 &&
	     xsnprintf(ls->path, sizeof(ls->path), "%s", url + 6) < 0))
		goto fail;
	nng_pipe_notify(*s, NNG_PIPE_EV_ADD_PRE, lsn_pipe_cb, ls);
	nng_pipe_notify(*s, NNG_PIPE_EV_ADD_POST, lsn_pipe_cb, ls);
	nng_pipe_notify(*s, NNG_PIPE_EV_REM_POST, lsn_pipe_cb, ls);
	if (ls->path[0] == '\0') {
		/* not ipc: no bug 1518, nothing to keep; ls stays listed
		 * for the pipe callbacks */
		if (lsn_start(ls, url, &ls->l) < 0)
			goto fail;
	} else {
		lsn_clean(ls->path);
		if (lsn_next(ls, true, NULL) < 0)
			goto fail;
	}
	pthread_mutex_lock(&keep_mu);
	ls->next = lsns;
	lsns = ls;
	pthread_mutex_unlock(&keep_mu);
	if (ls->path[0] != '\0')
		pthread_once(&keep_once, keep_start);
	return 0;
fail:
	nng_close(*s);
	pthread_mutex_destroy(&ls->pmu);
	free(ls);
	return -1;
}

int
nngx_listen_remote(nng_socket s, const char *url)
{
	nng_listener l;
	int n, rv;

	if ((rv = nng_listener_create(&l, s, url)) != 0 ||
	    (rv = nngx_tls_listener(l, url, NULL)) != 0) {
		log_warnx("unable to listen on %s: %s", url, nng_strerror(rv));
		return -1;
	}
	/* known as remote before its first pipe can come */
	if ((n = atomic_fetch_add(&nremote, 1)) >= REMOTE_MAX) {
		atomic_fetch_sub(&nremote, 1);
		log_warnx("unable to listen on %s: over %d remote listeners",
		          url, REMOTE_MAX);
		nng_listener_close(l);
		return -1;
	}
	atomic_store(&remote_lids[n], nng_listener_id(l));
	if ((rv = nng_listener_start(l, 0)) != 0) {
		log_warnx("unable to listen on %s: %s", url, nng_strerror(rv));
		nng_listener_close(l);
		return -1;
	}
	return 0;
}

bool
nngx_peer_remote(nng_msg *m)
{
	nng_pipe p = nng_msg_get_pipe(m);

	if (nng_pipe_id(p) < 0)
		return false;
	if (lid_remote(nng_listener_id(nng_pipe_listener(p))))
		return true;
	/* the pipe closed after its last message came in */
	return nngx_seen_remote(p);
}

void
nngx_stats(struct nngx_stats *st)
{
	struct nngx_ep_errors e;
	int i;

	st->pipes_refused = st_refused;
	st->pipes_over_cap = st_over_cap;
	st->listener_repairs = st_repairs;
	st->pipes_cut = st_cut;
	st->pipes_stuck = st_stuck;
	st->remote_refused = 0;
	/* nng counts them (its statistics are copied: only when asked, and
	 * only in a process with remote listeners) */
	for (i = 0; i < atomic_load(&nremote); i++)
		if (nngx_ep_errors("listener", atomic_load(&remote_lids[i]),
		                   &e) == 0)
			st->remote_refused += e.auth;
}
