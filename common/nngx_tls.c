/*
 * nngx_tls.c: the network addresses of SPEC §10: which schemes may be
 * used (tcp:// only with --insecure-tcp), mutual TLS for tls+tcp://
 * (--tls-cert, --tls-key, --tls-ca read once, applied to every dialer and
 * listener of such an address), and dialling through it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "log.h"
#include "nngx.h"
#include "util.h"

/* A PEM file is a few KiB; a CA bundle may be some hundred. */
#define TLS_FILE_MAX (4u << 20)

/* The process's TLS, for the sockets that are not given one. */
static struct nngx_tls *tls_default;

enum nngx_scheme
nngx_scheme(const char *url)
{
	static const struct {
		const char *prefix;
		enum nngx_scheme scheme;
	} schemes[] = {
	    {"ipc://", NNGX_LOCAL},      {"inproc://", NNGX_LOCAL},
	    {"abstract://", NNGX_LOCAL}, {"tls+tcp://", NNGX_TLS},
	    {"tls+tcp4://", NNGX_TLS},   {"tls+tcp6://", NNGX_TLS},
	    {"wss://", NNGX_TLS},        {"wss4://", NNGX_TLS},
	    {"wss6://", NNGX_TLS},
	};
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(url, schemes[i].prefix,
		            strlen(schemes[i].prefix)) == 0)
			return schemes[i].scheme;
	/* tcp://, ws:// and whatever else crosses a network in clear */
	return NNGX_PLAIN;
}

/* The whole file path, NUL-terminated, into *out; -1 with err. */
static int
tls_read(const char *flag, const char *path, char **out, char *err,
         size_t errlen)
{
	struct stat sb;
	FILE *f;
	size_t n;
	char *buf;

	if ((f = fopen(path, "r")) == NULL) {
		xsnprintf(err, errlen, "--%s %s: %s", flag, path,
		          strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size <= 0 || (uint64_t)sb.st_size > TLS_FILE_MAX) {
		xsnprintf(err, errlen,
		          "--%s %s: not a PEM file of 1 to %u "
		          "bytes",
		          flag, path, TLS_FILE_MAX);
		fclose(f);
		return -1;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	n = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	if (n != (size_t)sb.st_size) {
		xsnprintf(err, errlen, "--%s %s: unable to read it", flag,
		          path);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* Does the PEM text hold a block whose label ends in what? */
static bool
pem_has(const char *pem, const char *what)
{
	const char *p = pem, *end;
	size_t wl = strlen(what);

	while ((p = strstr(p, "-----BEGIN ")) != NULL) {
		p += 11;
		if ((end = strstr(p, "-----")) == NULL)
			return false;
		if ((size_t)(end - p) >= wl && memcmp(end - wl, what, wl) == 0)
			return true;
	}
	return false;
}

void
nngx_tls_free(struct nngx_tls *t)
{
	if (t == NULL)
		return;
	free(t->cert_pem);
	free(t->key_pem);
	free(t->ca_pem);
	free(t->cert_file);
	free(t->key_file);
	free(t->ca_file);
	memset(t, 0, sizeof(*t));
}

/* Configures cfg (a dialer's or a listener's own) with t. nng's error. */
static int
tls_config(nng_tls_config *cfg, const struct nngx_tls *t)
{
	int rv;

	/* both sides verify the other against the CA (SPEC §10) */
	if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) !=
	        0 ||
	    (rv = nng_tls_config_ca_chain(cfg, t->ca_pem, NULL)) != 0 ||
	    (rv = nng_tls_config_own_cert(cfg, t->cert_pem, t->key_pem,
	                                  NULL)) != 0)
		return rv;
	return 0;
}

int
nngx_tls_load(struct nngx_tls *t, const char *cert, const char *key,
              const char *ca, char *err, size_t errlen)
{
	nng_tls_config *cfg;
	char missing[64] = "";
	int rv;

	memset(t, 0, sizeof(*t));
	if (str_empty(cert) && str_empty(key) && str_empty(ca))
		return 0;
	if (str_empty(cert))
		strcat(missing, " --tls-cert");
	if (str_empty(key))
		strcat(missing, " --tls-key");
	if (str_empty(ca))
		strcat(missing, " --tls-ca");
	if (missing[0] != '\0') {
		xsnprintf(err, errlen,
		          "TLS takes --tls-cert, --tls-key and --tls-ca "
		          "together: missing%s",
		          missing);
		return -1;
	}
	if (tls_read("tls-cert", cert, &t->cert_pem, err, errlen) == -1 ||
	    tls_read("tls-key", key, &t->key_pem, err, errlen) == -1 ||
	    tls_read("tls-ca", ca, &t->ca_pem, err, errlen) == -1)
		goto fail;
	t->cert_file = xstrdup(cert);
	t->key_file = xstrdup(key);
	t->ca_file = xstrdup(ca);
	if (!pem_has(t->cert_pem, "CERTIFICATE")) {
		xsnprintf(err, errlen, "--tls-cert %s: no PEM certificate",
		          cert);
		goto fail;
	}
	if (!pem_has(t->key_pem, "PRIVATE KEY")) {
		xsnprintf(err, errlen, "--tls-key %s: no PEM private key", key);
		goto fail;
	}
	if (!pem_has(t->ca_pem, "CERTIFICATE")) {
		xsnprintf(err, errlen, "--tls-ca %s: no PEM certificate", ca);
		goto fail;
	}
	/* what nng's TLS engine makes of them, each file on its own */
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) != 0) {
		xsnprintf(err, errlen, "unable to set up TLS: %s",
		          nng_strerror(rv));
		goto fail;
	}
	rv = nng_tls_config_ca_chain(cfg, t->ca_pem, NULL);
	nng_tls_config_free(cfg);
	if (rv != 0) {
		xsnprintf(err, errlen, "--tls-ca %s: unusable: %s", ca,
		          nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) != 0) {
		xsnprintf(err, errlen, "unable to set up TLS: %s",
		          nng_strerror(rv));
		goto fail;
	}
	rv = nng_tls_config_own_cert(cfg, t->cert_pem, t->key_pem, NULL);
	nng_tls_config_free(cfg);
	if (rv != 0) {
		xsnprintf(err, errlen,
		          "--tls-cert %s with --tls-key %s: unusable: %s", cert,
		          key, nng_strerror(rv));
		goto fail;
	}
	t->loaded = true;
	return 0;
fail:
	nngx_tls_free(t);
	return -1;
}

void
nngx_tls_set_default(struct nngx_tls *t)
{
	tls_default = t;
}

const struct nngx_tls *
nngx_tls_default(void)
{
	return tls_default;
}

int
nngx_url_check(const char *url, const struct nngx_tls *t, bool insecure,
               char *err, size_t errlen)
{
	switch (nngx_scheme(url)) {
	case NNGX_LOCAL:
		return 0;
	case NNGX_PLAIN:
		if (insecure)
			return 0;
		xsnprintf(
		    err, errlen,
		    "%s would carry messages in clear and unauthenticated "
		    "across the network: use tls+tcp:// with --tls-cert, "
		    "--tls-key and --tls-ca, or say --insecure-tcp",
		    url);
		return -1;
	case NNGX_TLS:
		if (t != NULL && t->loaded)
			return 0;
		xsnprintf(err, errlen,
		          "%s needs --tls-cert, --tls-key and --tls-ca (mutual "
		          "TLS): none given",
		          url);
		return -1;
	}
	return -1;
}

/* The TLS configuration nng made for endpoint, configured with t. */
static int
tls_apply(nng_tls_config *cfg, const struct nngx_tls *t, const char *url)
{
	int rv;

	if (t == NULL || !t->loaded) {
		log_warnx("unable to use %s: no --tls-cert, --tls-key, "
		          "--tls-ca",
		          url);
		nng_tls_config_free(cfg);
		return NNG_EINVAL;
	}
	rv = tls_config(cfg, t);
	nng_tls_config_free(cfg); /* the hold of the get */
	if (rv != 0)
		log_warnx("unable to set up TLS for %s: %s", url,
		          nng_strerror(rv));
	return rv;
}

/* tls_apply on the config an endpoint's get returned (rv: the get's) */
static int
tls_apply_got(int rv, nng_tls_config *cfg, const struct nngx_tls *t,
              const char *url)
{
	if (rv != 0) {
		log_warnx("unable to set up TLS for %s: %s", url,
		          nng_strerror(rv));
		return rv;
	}
	return tls_apply(cfg, t != NULL ? t : tls_default, url);
}

int
nngx_tls_dialer(nng_dialer d, const char *url, const struct nngx_tls *t)
{
	nng_tls_config *cfg = NULL;
	int rv;

	if (nngx_scheme(url) != NNGX_TLS)
		return 0;
	/* the dialer's own config keeps the server name nng took from
	 * the url, which the server's certificate must carry */
	rv = nng_dialer_get_ptr(d, NNG_OPT_TLS_CONFIG, (void **)&cfg);
	return tls_apply_got(rv, cfg, t, url);
}

int
nngx_tls_listener(nng_listener l, const char *url, const struct nngx_tls *t)
{
	nng_tls_config *cfg = NULL;
	int rv;

	if (nngx_scheme(url) != NNGX_TLS)
		return 0;
	rv = nng_listener_get_ptr(l, NNG_OPT_TLS_CONFIG, (void **)&cfg);
	return tls_apply_got(rv, cfg, t, url);
}

int
nngx_dial_url(nng_socket s, const char *url, const struct nngx_tls *t,
              int flags)
{
	nng_dialer d;

	return nngx_dial_ep(s, url, t, flags, &d);
}

int
nngx_dial_ep(nng_socket s, const char *url, const struct nngx_tls *t, int flags,
             nng_dialer *dp)
{
	nng_dialer d;
	int rv;

	if ((rv = nng_dialer_create(&d, s, url)) != 0)
		return rv;
	if ((rv = nngx_tls_dialer(d, url, t)) != 0 ||
	    (rv = nng_dialer_start(d, flags)) != 0) {
		nng_dialer_close(d);
		return rv;
	}
	*dp = d;
	return 0;
}

/* Adds up the errors of the endpoints of kind whose key ("id" or
 * "socket") is id; -1 when there is none. */
static int
ep_sum(const char *kind, const char *key, int id, struct nngx_ep_errors *e)
{
	struct nngx_ep_errors one;
	nng_stat *all, *st, *v;
	bool mine;
	int rv = -1;

	memset(e, 0, sizeof(*e));
	if (nng_stats_get(&all) != 0)
		return -1;
	/* nng 1.5.2's nng_stat_find_dialer returns the first one whatever
	 * it is asked (see nngx_listen.c): walk the top-level scopes */
	for (st = nng_stat_child(all); st != NULL; st = nng_stat_next(st)) {
		if (strcmp(nng_stat_name(st), kind) != 0)
			continue;
		memset(&one, 0, sizeof(one));
		mine = false;
		for (v = nng_stat_child(st); v != NULL; v = nng_stat_next(v)) {
			const char *n = nng_stat_name(v);

			if (strcmp(n, key) == 0)
				mine = nng_stat_value(v) == (uint64_t)id;
			else if (strcmp(n, "auth") == 0)
				one.auth = nng_stat_value(v);
			else if (strcmp(n, "refused") == 0)
				one.refused = nng_stat_value(v);
			else if (strcmp(n, "disconnect") == 0)
				one.disconnect = nng_stat_value(v);
			else if (strcmp(n, "other") == 0)
				one.other = nng_stat_value(v);
		}
		if (!mine)
			continue;
		e->auth += one.auth;
		e->refused += one.refused;
		e->disconnect += one.disconnect;
		e->other += one.other;
		rv = 0;
	}
	nng_stats_free(all);
	return rv;
}

int
nngx_ep_errors(const char *kind, int id, struct nngx_ep_errors *e)
{
	return ep_sum(kind, "id", id, e);
}

int
nngx_dial_errors(nng_socket s, struct nngx_ep_errors *e)
{
	return ep_sum("dialer", "socket", nng_socket_id(s), e);
}
