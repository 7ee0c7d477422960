/*
 * hook_http.c: webhook transfers: one curl multi handle driven by the
 * dispatcher's poll loop, the signed POST of a workload's oldest delivery,
 * and what its outcome means (delivered, retried with backoff, given up).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hook_int.h"
#include "log.h"
#include "util.h"

void
hook_sign(const char *key, const void *body, size_t len, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	HMAC(EVP_sha256(), key, (int)strlen(key), body, len, md, &mdlen);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdlen] = '\0';
}

int
hook_verdict(int curl_code, long status)
{
	if (curl_code != CURLE_OK) {
		/* an address curl will never take is not worth a retry */
		if (curl_code == CURLE_UNSUPPORTED_PROTOCOL ||
		    curl_code == CURLE_URL_MALFORMAT)
			return -1;
		return 1;
	}
	if (status >= 200 && status < 300)
		return 0;
	if (status >= 500 || status == 0)
		return 1;
	/* 4xx is the receiver's no; 3xx is not followed (a redirect
	 * could take the signed body elsewhere) */
	return -1;
}

/* ---- curl's sockets and timer ---- */

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct hook *h = userp;
	size_t i;

	for (i = 0; i < h->nsocks; i++)
		if (h->socks[i].fd == fd)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < h->nsocks)
			h->socks[i] = h->socks[--h->nsocks];
		return 0;
	}
	if (i == h->nsocks) {
		if (h->nsocks == h->capsocks) {
			h->capsocks = h->capsocks ? h->capsocks * 2 : 16;
			h->socks = xreallocarray(h->socks, h->capsocks,
			                         sizeof(*h->socks));
		}
		h->socks[h->nsocks++].fd = fd;
	}
	h->socks[i].what = what;
	return 0;
}

static int
timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct hook *h = userp;

	h->timer_at = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	return 0;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

int
hook_http_init(struct hook *h)
{
	if ((h->multi = curl_multi_init()) == NULL)
		return -1;
	h->timer_at = -1;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return 0;
}

void
hook_http_fini(struct hook *h)
{
	curl_multi_cleanup(h->multi);
	free(h->socks);
}

/* ---- transfers ---- */

void
hook_transfer_end(struct hook *h, struct hook_wl *w)
{
	if (w->easy == NULL)
		return;
	curl_multi_remove_handle(h->multi, w->easy);
	curl_easy_cleanup(w->easy);
	curl_slist_free_all(w->hdrs);
	w->easy = NULL;
	w->hdrs = NULL;
	h->inflight--;
}

/* The request's headers, signature included; NULL: libcurl failed. */
static struct curl_slist *
headers(const struct hook_wl *w, const struct hook_dlv *d)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1], event[HOOK_EVENT_MAX + 16];
	char delivery[48], sig[sizeof(hex) + 32];
	const char *const lines[] = {
	    "Content-Type: application/json",
	    "User-Agent: recon-dispatcher/" RECON_VERSION,
	    "Expect:",
	    event,
	    delivery,
	    sig,
	};
	struct curl_slist *l = NULL, *t;
	size_t i;

	hook_sign(w->secret, d->body, d->len, hex);
	snprintf(event, sizeof(event), "X-Recon-Event: %s", d->event);
	snprintf(delivery, sizeof(delivery), "X-Recon-Delivery: %llu",
	         (unsigned long long)d->rev);
	snprintf(sig, sizeof(sig), "X-Recon-Signature: sha256=%s", hex);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if ((t = curl_slist_append(l, lines[i])) == NULL) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = t;
	}
	return l;
}

void
hook_transfer_start(struct hook *h, struct hook_wl *w)
{
	struct hook_dlv *d = w->head;
	struct curl_slist *hdrs;
	CURL *e;

	if ((e = curl_easy_init()) == NULL || (hdrs = headers(w, d)) == NULL) {
		log_warnx("unable to start a webhook of %s: libcurl", w->id);
		d->next_at = mono_ms() + h->conf.backoff_ms;
		curl_easy_cleanup(e);
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, w->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)d->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)h->conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PRIVATE, w);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		log_warnx("unable to start a webhook of %s: libcurl", w->id);
		d->next_at = mono_ms() + h->conf.backoff_ms;
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(e);
		return;
	}
	w->easy = e;
	w->hdrs = hdrs;
	d->attempts++;
	h->inflight++;
	log_debug("webhook of %s: POST rev %llu to %s (attempt %d)", w->id,
	          (unsigned long long)d->rev, w->url, d->attempts);
}

static void
transfer_done(struct hook *h, CURL *e, CURLcode res)
{
	struct hook_wl *w = NULL;
	struct hook_dlv *d;
	long status = 0;
	int64_t back;
	int v, i;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&w);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (w == NULL || w->easy != e)
		abort(); /* a transfer we do not know of */
	hook_transfer_end(h, w);
	d = w->head;
	v = hook_verdict((int)res, status);
	if (v == 0) {
		h->ctr[HC_SENT]++;
		log_debug("webhook of %s: rev %llu delivered (%ld)", w->id,
		          (unsigned long long)d->rev, status);
		hook_dlv_free(hook_dlv_pop(h, w));
	} else if (v == 1 && d->attempts < h->conf.attempts) {
		h->ctr[HC_RETRIED]++;
		back = h->conf.backoff_ms;
		for (i = 1; i < d->attempts && back < h->conf.backoff_max_ms;
		     i++)
			back *= 2;
		if (back > h->conf.backoff_max_ms)
			back = h->conf.backoff_max_ms;
		d->next_at = mono_ms() + back;
		log_info("webhook of %s: rev %llu to %s: %s; retry in %lld ms",
		         w->id, (unsigned long long)d->rev, w->url,
		         res != CURLE_OK ? curl_easy_strerror(res) : "HTTP 5xx",
		         (long long)back);
	} else {
		h->ctr[HC_FAILED]++;
		log_warnx("webhook of %s: rev %llu to %s failed after %d "
		          "attempts: %s (HTTP %ld)",
		          w->id, (unsigned long long)d->rev, w->url,
		          d->attempts,
		          res != CURLE_OK ? curl_easy_strerror(res) : "refused",
		          status);
		hook_dlv_free(hook_dlv_pop(h, w));
	}
}

static void
check_done(struct hook *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			transfer_done(h, m->easy_handle, m->data.result);
}

void
hook_http_tick(struct hook *h)
{
	int running;

	if (h->timer_at >= 0 && mono_ms() >= h->timer_at) {
		h->timer_at = -1;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
		                         &running);
	}
	check_done(h);
}

size_t
hook_nfds(const struct hook *h)
{
	return h->nsocks;
}

size_t
hook_pollfds(const struct hook *h, struct pollfd *pfd, size_t max)
{
	size_t i;

	for (i = 0; i < h->nsocks && i < max; i++) {
		pfd[i].fd = h->socks[i].fd;
		pfd[i].events = 0;
		if (h->socks[i].what & CURL_POLL_IN)
			pfd[i].events |= POLLIN;
		if (h->socks[i].what & CURL_POLL_OUT)
			pfd[i].events |= POLLOUT;
		pfd[i].revents = 0;
	}
	return i;
}

void
hook_io(struct hook *h, const struct pollfd *pfd, size_t cnt)
{
	size_t i;
	int flags, running;

	for (i = 0; i < cnt; i++) {
		if (pfd[i].revents == 0)
			continue;
		flags = 0;
		if (pfd[i].revents & POLLIN)
			flags |= CURL_CSELECT_IN;
		if (pfd[i].revents & POLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(h->multi, pfd[i].fd, flags, &running);
	}
	check_done(h);
}
