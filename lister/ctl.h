/*
 * ctl.h: the lister's lister.ctl commands (health, resync), answered by the
 * main thread from the worker's status, never waiting on Docker.
 */
#ifndef RECON_LISTER_CTL_H
#define RECON_LISTER_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"
#include "worker.h"

struct ctl {
	struct worker *worker;
	int64_t started_mono; /* for uptime_s */
	int64_t interval_ms;
	int64_t timeout_ms;
	uint64_t requests;     /* answered, errors included */
	uint64_t bad_requests; /* undecodable or unknown */
};

/* Decodes one request and appends its reply to reply (always one: REP
 * must answer every request). */
void ctl_handle(struct ctl *, const void *req, size_t len, struct wbuf *reply);

/*
 * The docker check: ok when a list has succeeded and either the latest
 * list succeeded or the last success is at most 3 x timeout old; and in
 * any case the last success is at most interval + 3 x timeout old (a
 * worker that stopped passing). Failing lists are retried with a backoff
 * of 1 s doubling up to the interval, so a dead Docker turns the check
 * unhealthy about 3 x timeout after the last good list.
 */
int ctl_docker_ok(const struct worker_status *, int64_t now_mono,
                  int64_t interval_ms, int64_t timeout_ms);

#endif
