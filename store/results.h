/*
 * results.h: a plugin run's result (SPEC §8), pushed back by the
 * dispatcher, kept in the workload's plugin status and published as a
 * workload event.
 */
#ifndef RECON_STORE_RESULTS_H
#define RECON_STORE_RESULTS_H

#include "store.h"
#include "wire.h"

/* 0 (applied, or dropped and counted: no such workload), or -1 on a
 * failed write (logged, counted). */
int results_apply(struct store *st, const struct wire_plugin_result *pr);

#endif
