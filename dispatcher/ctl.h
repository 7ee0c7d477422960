/*
 * ctl.h: the dispatcher.ctl command table (SPEC §2, §7): health, answered
 * at once from the loop's own state however long plugins hang, and
 * dispatch, passed on to the store and answered when it replies.
 */
#ifndef RECON_DISPATCHER_CTL_H
#define RECON_DISPATCHER_CTL_H

#include <stdint.h>

#include <nng/nng.h>

#include "notify.h"
#include "runner.h"
#include "upstream.h"

struct ctl {
	nng_socket sock; /* raw REP: a dispatch may wait while health is
	                  * answered */
	struct runner *runner;
	struct notify *notify;
	struct upstream *up;
	const char *plugin_dir;
	int64_t started_mono;
	int64_t own_uid, admin_uid; /* admin_uid -1: none */
	uint64_t requests, bad_requests, denied, forwarded;
};

/* Answers every request waiting on the socket; a dispatch is answered
 * later, by ctl_forwarded. */
void ctl_serve(struct ctl *);
/* The store's answer to a dispatch (a finished UP_DISPATCH call, not
 * freed here) goes back to whoever asked. */
void ctl_forwarded(struct ctl *, struct up_call *);
/* Frees the request a dispatch call still holds (at exit). */
void ctl_drop(struct up_call *);

#endif
