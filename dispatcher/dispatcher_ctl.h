/*
 * dispatcher_ctl.h: the dispatcher.ctl command table (SPEC §2, §7): health,
 * answered at once from the loop's own state however long plugins hang, and
 * dispatch, passed on to the store and answered when it replies.
 */
#ifndef RECON_DISPATCHER_CTL_H
#define RECON_DISPATCHER_CTL_H

#include <stdint.h>

#include "ctlsrv.h"
#include "hook.h"
#include "runner.h"
#include "upstream.h"

struct dispatcher_ctl {
	struct runner *runner;
	struct hook *hooks;
	struct upstream *up;
	const char *plugin_dir;
	int64_t admin_uid;         /* -1: none */
	uint64_t forwarded;        /* dispatches passed on to the store */
	uint64_t forward_failures; /* of them or before: no answer */
};

/* The dispatcher's counters (health reports them, reconctl stats exports
 * them); c's hooks may be NULL (zeros): fills
 * out[DISPATCHER_CTL_NCOUNTERS], returns the count. */
#define DISPATCHER_CTL_NCOUNTERS 26
size_t dispatcher_ctl_counters(const struct dispatcher_ctl *,
                               struct wire_counter *out);
/* The dispatcher.ctl server's table, health and trust, around c; a
 * dispatch is answered later, by dispatcher_ctl_forwarded. */
void dispatcher_ctl_config(struct dispatcher_ctl *, struct ctlsrv_config *);
/* The store's answer to a dispatch (a finished UP_DISPATCH call, not
 * freed here) goes back to whoever asked. */
void dispatcher_ctl_forwarded(struct dispatcher_ctl *, struct up_call *);
/* Lets go of the request a dispatch call still holds (at exit, before
 * the ctl server is freed). */
void dispatcher_ctl_drop(struct up_call *);

#endif
