/*
 * probe.c: what a supervisor, a load balancer and Prometheus ask
 * recon-http: /livez (this process turns), /readyz (the store, the lister
 * and the dispatcher are healthy, as Kubernetes' probes answer) and
 * /metrics (every process's counters, common/metrics.c, with
 * recon-http's own as process "http").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "util.h"

#define LIVEZ_STUCK_MS 10000 /* the feed thread turns 4 times a second */

enum MHD_Result
probe_livez(struct http *h, struct MHD_Connection *conn, const char *id)
{
	struct feed_stats st;
	char text[128];
	int64_t idle;

	feed_stats(h->feed, &st);
	idle = mono_ms() - st.last_turn;
	if (idle > LIVEZ_STUCK_MS) {
		xsnprintf(text, sizeof(text),
		          "[-]feed failed: no turn for %" PRId64 " ms\n", idle);
		return http_send(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                 "text/plain", text, strlen(text), 0);
	}
	return http_send(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3, 0);
}

/* One daemon's readiness as a check line; true when it passes. */
static bool
probe_daemon(FILE *f, const char *name, struct clnt *c)
{
	struct clnt_result r = {0};
	struct wire_health hl;
	bool ok = false;
	size_t i;

	switch (clnt_health(c, false, &r, &hl)) {
	case CLNT_OK:
		for (i = 0; i < hl.nchecks; i++)
			if (!hl.checks[i].ok)
				break;
		if (i < hl.nchecks)
			fprintf(f, "[-]%s failed: %s: %s\n", name,
			        hl.checks[i].name, hl.checks[i].detail);
		else if (!hl.ready)
			fprintf(f, "[-]%s failed: not ready\n", name);
		else
			ok = true;
		break;
	case CLNT_REFUSED:
		fprintf(f, "[-]%s failed: %s: %s\n", name, r.code, r.message);
		break;
	default:
		fprintf(f, "[-]%s failed: unreachable: %s\n", name, r.err);
		break;
	}
	if (ok)
		fprintf(f, "[+]%s ok\n", name);
	clnt_result_free(&r);
	return ok;
}

enum MHD_Result
probe_readyz(struct http *h, struct MHD_Connection *conn, const char *id)
{
	struct clnt *const c[] = {h->store_probe, h->lister, h->dispatcher};
	static const char *const names[] = {"store", "lister", "dispatcher"};
	struct feed_stats st;
	enum MHD_Result r;
	char *text = NULL;
	size_t len = 0, i;
	bool ok = true, verbose;
	FILE *f;

	verbose = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	                                      "verbose") != NULL;
	if ((f = open_memstream(&text, &len)) == NULL)
		return MHD_NO;
	for (i = 0; i < 3; i++)
		ok &= probe_daemon(f, names[i], c[i]);
	feed_stats(h->feed, &st);
	if (st.following)
		fprintf(f, "[+]events ok\n");
	else
		fprintf(f, "[-]events failed: not following the store's "
		           "events\n");
	ok &= st.following;
	fprintf(f, "readyz check %s\n", ok ? "passed" : "failed");
	fclose(f);
	if (ok && !verbose)
		r = http_send(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3, 0);
	else
		r = http_send(conn,
		              ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		              "text/plain", text, len, 0);
	free(text);
	return r;
}

size_t
probe_counters(struct http *h, struct wire_counter *c)
{
	struct feed_stats st = {0};
	size_t i;

	if (h != NULL)
		feed_stats(h->feed, &st);
	for (i = 0; i < HC_NCTR; i++)
		c[i] = (struct wire_counter){
		    http_ctr_names[i],
		    h != NULL
		        ? atomic_load_explicit(&h->ctr[i], memory_order_relaxed)
		        : 0};
	c[i++] = (struct wire_counter){"feed_rev", st.head};
	c[i++] = (struct wire_counter){
	    "feed_kept", st.head >= st.oldest ? st.head + 1 - st.oldest : 0};
	c[i++] = (struct wire_counter){"feed_events", st.events};
	c[i++] = (struct wire_counter){"feed_restarts", st.restarts};
	return i;
}

/* recon-http's own health, shaped like a daemon's health reply. */
static json_object *
probe_self(struct http *h)
{
	json_object *o = json_object_new_object(),
	            *c = json_object_new_object();
	struct wire_counter ctr[HTTP_NCOUNTERS];
	struct feed_stats st;
	size_t i, n;

	feed_stats(h->feed, &st);
	n = probe_counters(h, ctr);
	for (i = 0; i < n; i++)
		json_object_object_add(c, ctr[i].name,
		                       json_object_new_uint64(ctr[i].value));
	json_object_object_add(
	    o, "uptime_s",
	    json_object_new_int64((mono_ms() - h->started_ms) / 1000));
	json_object_object_add(o, "ready",
	                       json_object_new_boolean(st.following));
	json_object_object_add(o, "counters", c);
	return o;
}

enum MHD_Result
probe_metrics(struct http *h, struct MHD_Connection *conn, const char *id)
{
	struct clnt *const c[METRICS_NDAEMONS] = {h->store_probe, h->lister,
	                                          h->dispatcher};
	json_object *all;
	enum MHD_Result r;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return MHD_NO;
	all = metrics_collect(c, NULL, NULL);
	json_object_object_add(all, "http", probe_self(h));
	metrics_write(f, all);
	fclose(f);
	json_object_put(all);
	r = http_send(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", text, len,
	              0);
	free(text);
	return r;
}
