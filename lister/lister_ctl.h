/*
 * lister_ctl.h: the lister's lister.ctl commands (health, resync), answered by
 * the main thread from the worker's and the events thread's status, never
 * waiting on Docker.
 */
#ifndef RECON_LISTER_CTL_H
#define RECON_LISTER_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "ctlsrv.h"
#include "docker_events.h"
#include "wire.h"
#include "worker.h"

struct lister_ctl {
	struct worker *worker;
	struct docker_events *events;
	int64_t timeout_ms;
	int64_t admin_uid; /* -1: none */
};

/* The lister's counters (health reports them, reconctl stats exports
 * them): fills out[LISTER_CTL_NCOUNTERS], returns the count. */
#define LISTER_CTL_NCOUNTERS 32
size_t lister_ctl_counters(const struct worker_status *,
                           const struct docker_events_status *,
                           struct wire_counter *out);
/* The lister.ctl server's table, health and trust, around c. */
void lister_ctl_config(struct lister_ctl *, struct ctlsrv_config *);

/*
 * The docker check: ok when a full pass has succeeded since start and
 * some list call (a pass, an event's re-read, or the heartbeat the worker
 * makes whenever no list succeeded for one timeout) succeeded at most
 * 3 x timeout ago. So a hung or dead Docker turns it unhealthy 3 x timeout
 * after the last good list, whatever the interval.
 */
int lister_ctl_docker_ok(const struct worker_status *, int64_t now_mono,
                         int64_t timeout_ms);

/*
 * The events check: ok while the stream is open, and for 3 x timeout
 * after it went down (or after start), the time a reconnect may take
 * before it counts: meanwhile changes show only at the next pass.
 */
int lister_ctl_events_ok(const struct docker_events_status *, int64_t now_mono,
                         int64_t timeout_ms);

#endif
