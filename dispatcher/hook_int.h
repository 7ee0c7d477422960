/*
 * hook_int.h: what the two halves of the webhooks share, and nothing else
 * of the dispatcher sees (it has hook.h): per workload, its settings and a
 * queue of deliveries (hook_intake.c), drained by transfers on one curl
 * multi handle (hook_http.c).
 */
#ifndef RECON_HOOK_INT_H
#define RECON_HOOK_INT_H

#include <curl/curl.h>

#include "hook.h"
#include "wltab.h"

/* One event to deliver. */
struct hook_dlv {
	struct hook_dlv *next;
	uint64_t rev;
	char event[HOOK_EVENT_MAX]; /* X-Recon-Event */
	char *body;                 /* JSON */
	size_t len;
	int attempts;
	int64_t next_at; /* mono: not before */
};

enum hook_wl_state {
	HW_UNKNOWN,  /* ask the store */
	HW_FETCHING, /* asked */
	HW_KNOWN,
};

struct hook_wl {
	char *id;
	enum hook_wl_state state;
	char *url, *secret;
	uint64_t known_rev; /* the record we hold was read at this rev */
	uint64_t need_rev;  /* a record older than this is out of date */
	bool deleted;
	struct hook_dlv *head, *tail;
	size_t n;
	CURL *easy; /* the transfer of head under way */
	struct curl_slist *hdrs;
	int64_t fetch_at; /* mono: no fetch before (after a failure) */
	int fetch_failures;
};

struct hook_sock {
	curl_socket_t fd;
	int what; /* CURL_POLL_* */
};

struct hook {
	struct hook_conf conf;
	CURLM *multi;
	struct wltab wls; /* struct hook_wl by id */
	struct hook_sock *socks;
	size_t nsocks, capsocks;
	int64_t timer_at; /* mono, curl's timeout; -1 none */
	size_t inflight, queued;
	uint64_t ctr[HC_COUNT];
};

/* hook_intake.c: a workload's queue. */
struct hook_dlv *hook_dlv_pop(struct hook *, struct hook_wl *);
void hook_dlv_free(struct hook_dlv *);

/* hook_http.c: the multi handle, and the transfer of a workload's head. */
int hook_http_init(struct hook *);
void hook_http_fini(struct hook *);
void hook_transfer_start(struct hook *, struct hook_wl *);
void hook_transfer_end(struct hook *, struct hook_wl *);
/* curl's timer, when due, and the transfers that finished. */
void hook_http_tick(struct hook *);

#endif
