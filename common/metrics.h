/*
 * metrics.h: the Prometheus text exposition of every process's health reply
 * (and the store's stats), from one table of metric metadata: what
 * `reconctl stats --prometheus` prints and an HTTP /metrics can serve.
 */
#ifndef RECON_METRICS_H
#define RECON_METRICS_H

#include <stdio.h>

#include <json-c/json.h>

/* Where a reply's number sits. */
enum metric_src {
	METRIC_HEALTH,  /* a health reply's own field (uptime_s, ready) */
	METRIC_COUNTER, /* a member of its counters */
	METRIC_STATS,   /* a member of the store's stats numbers */
};

enum metric_type {
	METRIC_COUNTER_TYPE, /* only ever grows: named ..._total */
	METRIC_GAUGE_TYPE,
};

struct metric_meta {
	const char *proc; /* NULL: every process, labelled process="..." */
	enum metric_src src;
	const char *key;  /* its name in the reply */
	const char *name; /* the family; NULL: not exported (another
	                     entry's series carries the same value) */
	enum metric_type type;
	double scale;      /* to the base unit; 0: as it is */
	const char *label; /* one more label pair (reason="kind") or NULL */
	const char *help;
};

/* The processes, in the order they are exported: the three daemons, then
 * recon-http, which reports itself (it has no ctl socket). */
#define METRICS_NPROCS   4
#define METRICS_NDAEMONS 3
extern const char *const metrics_procs[METRICS_NPROCS];

/* proc's number key from src, or NULL when the table does not know it
 * (it is still exported, as a gauge recon_<proc>_<key>). */
const struct metric_meta *metrics_find(const char *proc, enum metric_src,
                                       const char *key);

/*
 * Writes all to f in the Prometheus text format. all holds a member per
 * metrics_procs name: its health reply as JSON (counters an object of
 * numbers; the store's with its stats numbers under "stats"), or null when
 * it did not answer (recon_up 0). A process with no member is left out.
 */
void metrics_write(FILE *f, json_object *all);

struct clnt;
struct clnt_result;
/*
 * Asks the daemons for what metrics_write reads: c[i] reaches
 * metrics_procs[i]; the store is asked for its stats too. One that did
 * not answer is null in the object returned, and failed (if set) is told
 * why: r->status and r->err, or the server's r->code and r->message.
 */
json_object *metrics_collect(struct clnt *const c[METRICS_NDAEMONS],
                             void (*failed)(const char *proc,
                                            const struct clnt_result *r,
                                            void *arg),
                             void *arg);

#endif
