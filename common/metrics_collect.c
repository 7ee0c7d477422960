/*
 * metrics_collect.c: what `reconctl stats` and recon-http's /metrics
 * export, asked for once: each daemon's health reply and the store's own
 * numbers, as the JSON metrics_write reads. A daemon that does not answer
 * is reported as down, not as an error, so one dead daemon does not blank
 * the metrics of the others.
 */
#include <stdio.h>
#include <string.h>

#include "clnt.h"
#include "metrics.h"
#include "store_clnt.h"
#include "wirejson.h"

typedef void failed_fn(const char *, const struct clnt_result *, void *);

/* r's reply as JSON without its `ok`; NULL when there was none or it did
 * not decode (r says so then). */
static json_object *
reply_json(const char *proc, struct clnt_result *r, failed_fn *failed,
           void *arg)
{
	json_object *o;

	if (r->status == CLNT_OK &&
	    (o = wire_to_json(r->reply.data, r->reply.len, r->err)) != NULL) {
		json_object_object_del(o, "ok");
		return o;
	}
	if (r->status == CLNT_OK)
		r->status = CLNT_BADREPLY;
	if (failed != NULL)
		failed(proc, r, arg);
	return NULL;
}

/* The store's own numbers (not its counters: health has those). */
static json_object *
store_numbers(struct clnt *c, failed_fn *failed, void *arg)
{
	struct clnt_result r = {0};
	json_object *o = NULL, *reply;

	store_clnt_stats(c, &r, NULL);
	if ((reply = reply_json("store", &r, failed, arg)) != NULL) {
		o = json_object_new_object();
		json_object_object_foreach(reply, k, v)
		{
			if (strcmp(k, "counters") == 0 ||
			    json_object_is_type(v, json_type_object))
				continue;
			json_object_object_add(o, k, json_object_get(v));
		}
		json_object_put(reply);
	}
	clnt_result_free(&r);
	return o;
}

json_object *
metrics_collect(struct clnt *const c[METRICS_NDAEMONS], failed_fn *failed,
                void *arg)
{
	json_object *all = json_object_new_object(), *o, *stats;
	struct clnt_result r = {0};
	size_t i;

	for (i = 0; i < METRICS_NDAEMONS; i++) {
		clnt_health(c[i], false, &r, NULL);
		o = reply_json(metrics_procs[i], &r, failed, arg);
		if (o != NULL && strcmp(metrics_procs[i], "store") == 0 &&
		    (stats = store_numbers(c[i], failed, arg)) != NULL)
			json_object_object_add(o, "stats", stats);
		json_object_object_add(all, metrics_procs[i], o);
	}
	clnt_result_free(&r);
	return all;
}
