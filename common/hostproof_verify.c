/*
 * hostproof_verify.c: the store's side of the host proof: the CA bundle,
 * a certificate verified (chain, dates, TLS client purpose) and its names
 * read once per certificate, the signature checked on every envelope, and
 * the host check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "hostproof.h"
#include "hostproof_impl.h"
#include "util.h"

static int
load_ca(X509_STORE *store, const char *path, char *err)
{
	FILE *f = hp_open_file(path, "CA bundle", err);
	unsigned long e;
	int n = 0;
	X509 *c;

	if (f == NULL)
		return -1;
	while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, c) != 1) {
			X509_free(c);
			fclose(f);
			return hp_errf(err,
			               "unable to trust certificate %d of %s: "
			               "%s",
			               n + 1, path, hp_ossl_reason());
		}
		X509_free(c);
		n++;
	}
	fclose(f);
	/* the end of the file is "no start line"; anything else is not */
	e = ERR_peek_last_error();
	if (n == 0 || ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		return hp_errf(err,
		               "unable to read CA bundle %s: %s after %d "
		               "certificates",
		               path, hp_ossl_reason(), n);
	return 0;
}

struct hostproof_verifier *
hostproof_verifier_open(const char *ca_file, size_t cache_max,
                        char err[HOSTPROOF_ERR_LEN])
{
	struct hostproof_verifier *v = xcalloc(1, sizeof(*v));
	X509_VERIFY_PARAM *param;

	err[0] = '\0';
	v->store = hp_ossl_must(X509_STORE_new());
	if (load_ca(v->store, ca_file, err) == -1) {
		X509_STORE_free(v->store);
		free(v);
		ERR_clear_error();
		return NULL;
	}
	ERR_clear_error();
	/* at least 112 bits of security all along the chain: RSA and DH
	 * of 2048 bits, EC of 224, no SHA-1 signatures */
	param = X509_STORE_get0_param(v->store);
	X509_VERIFY_PARAM_set_auth_level(param, 2);
	/* every certificate of the bundle is trusted, a root or not: an
	 * intermediate given as --tls-ca vouches for what it signs, as it
	 * does in nng's TLS (mbedTLS) */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	v->sha256 = hp_ossl_must(EVP_MD_fetch(NULL, "SHA2-256", NULL));
	hostproof_cache_init(v, cache_max ? cache_max : HOSTPROOF_CACHE_MAX);
	return v;
}

void
hostproof_verifier_close(struct hostproof_verifier *v)
{
	if (v == NULL)
		return;
	hostproof_cache_free(v);
	EVP_MD_free(v->sha256);
	X509_STORE_free(v->store);
	free(v);
}

void
hostproof_verifier_set_time(struct hostproof_verifier *v, int64_t unix_s)
{
	v->time = unix_s;
}

static int64_t
verifier_now(const struct hostproof_verifier *v)
{
	return v->time != 0 ? v->time : (int64_t)time(NULL);
}

/* A name a certificate proves a host by: 1 to HOSTPROOF_NAME_MAX bytes of
 * printable ASCII, no space, no wildcard (nor a NUL: "h\0.evil"). */
static bool
name_ok(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > HOSTPROOF_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '*')
			return false;
	return true;
}

/* Adds a name that proves something and is not there yet; -1 past
 * HOSTPROOF_NAMES_MAX. */
static int
names_add(struct hp_names *nm, const unsigned char *s, size_t n)
{
	size_t i;

	if (!name_ok(s, n))
		return 0;
	for (i = 0; i < nm->n; i++)
		if (nm->len[i] == n &&
		    memcmp(nm->b.data + nm->off[i], s, n) == 0)
			return 0;
	if (nm->n == HOSTPROOF_NAMES_MAX)
		return -1;
	nm->off[nm->n] = nm->b.len;
	nm->len[nm->n++] = n;
	wbuf_append(&nm->b, s, n);
	wbuf_append(&nm->b, "", 1);
	return 0;
}

/* "CN=..." of the first CN, for messages. */
static void
cert_label(X509 *c, char *label, size_t len)
{
	X509_NAME *subj = X509_get_subject_name(c);
	unsigned char *u;
	int i, n;

	snprintf(label, len, "(no CN)");
	if ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0 ||
	    (n = ASN1_STRING_to_UTF8(
	         &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)))) <
	        0)
		return;
	snprintf(label, len, "CN=%.*s", n < 64 ? n : 64, (char *)u);
	OPENSSL_free(u);
	hp_printable(label);
}

/* The subject's CNs, then the DNS SANs. */
static int
cert_names(X509 *c, struct hp_names *nm, const char *label,
           struct hostproof_err *err)
{
	X509_NAME *subj = X509_get_subject_name(c);
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;
	unsigned char *u;
	int i = -1, n, crit = 0, rc = 0;

	while (rc == 0 &&
	       (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0) {
		n = ASN1_STRING_to_UTF8(
		    &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
		if (n < 0)
			continue;
		rc = names_add(nm, u, (size_t)n);
		OPENSSL_free(u);
	}
	gens = X509_get_ext_d2i(c, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && crit != -1)
		return hp_refuse(err, HOSTPROOF_CERT,
		                 "certificate %s: subjectAltName unreadable or "
		                 "repeated",
		                 label);
	for (i = 0; rc == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS)
			rc =
			    names_add(nm, ASN1_STRING_get0_data(g->d.dNSName),
			              (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	if (rc == -1)
		return hp_refuse(err, HOSTPROOF_CERT,
		                 "certificate %s names more than %d hosts",
		                 label, HOSTPROOF_NAMES_MAX);
	return 0;
}

/* The chain to the CA, the dates (at the verifier's time) and the TLS
 * client purpose. */
static int
cert_chain(struct hostproof_verifier *v, X509 *c, const char *label,
           struct hostproof_err *err)
{
	X509_STORE_CTX *ctx = hp_ossl_must(X509_STORE_CTX_new());
	int ok, e;

	v->st.chain_verifies++;
	ok = X509_STORE_CTX_init(ctx, v->store, c, NULL) == 1 &&
	     X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1;
	if (ok && v->time != 0)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)v->time);
	if (!ok) {
		X509_STORE_CTX_free(ctx);
		return hp_refuse(err, HOSTPROOF_CHAIN,
		                 "unable to verify certificate %s: %s", label,
		                 hp_ossl_reason());
	}
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		hp_refuse(err, HOSTPROOF_CHAIN,
		          "certificate %s refused: %s (at depth %d)", label,
		          X509_verify_cert_error_string(e),
		          X509_STORE_CTX_get_error_depth(ctx));
		X509_STORE_CTX_free(ctx);
		return -1;
	}
	X509_STORE_CTX_free(ctx);
	return 0;
}

/* A certificate not in the cache: parsed whole, verified, cached. */
static int32_t
cert_verify(struct hostproof_verifier *v, const struct hp_env *e,
            const unsigned char *id, struct hostproof_err *err)
{
	const unsigned char *p = e->cert;
	struct hp_names nm = {.n = 0};
	struct hp_entry ce = {.key = NULL};
	struct tm tm;
	X509 *c;
	int32_t i = -1;

	if ((c = d2i_X509(NULL, &p, (long)e->certlen)) == NULL)
		return hp_refuse(err, HOSTPROOF_CERT,
		                 "certificate not parseable: %s",
		                 hp_ossl_reason());
	if (p != (const unsigned char *)e->cert + e->certlen) {
		hp_refuse(err, HOSTPROOF_CERT,
		          "certificate followed by %zu bytes in its field",
		          e->certlen -
		              (size_t)(p - (const unsigned char *)e->cert));
		goto out;
	}
	cert_label(c, ce.label, sizeof(ce.label));
	if (cert_chain(v, c, ce.label, err) == -1 ||
	    cert_names(c, &nm, ce.label, err) == -1)
		goto out;
	if ((ce.key = X509_get_pubkey(c)) == NULL ||
	    hp_key_digests(ce.key, &ce.digest) == -1) {
		hp_refuse(err, HOSTPROOF_CERT,
		          "certificate %s: a %s key; EC, Ed25519 and RSA "
		          "keys sign",
		          ce.label,
		          ce.key != NULL ? hp_key_type(ce.key) : "unreadable");
		EVP_PKEY_free(ce.key);
		goto out;
	}
	if (ASN1_TIME_to_tm(X509_get0_notAfter(c), &tm) != 1) {
		hp_refuse(err, HOSTPROOF_CERT,
		          "certificate %s: notAfter unreadable", ce.label);
		EVP_PKEY_free(ce.key);
		goto out;
	}
	ce.not_after = (int64_t)timegm(&tm);
	memcpy(ce.id, id, sizeof(ce.id));
	i = hostproof_cache_add(v, &ce, &nm); /* the key is the cache's now */
out:
	wbuf_free(&nm.b);
	X509_free(c);
	return i;
}

/* The certificate's entry: from the cache while within its notAfter,
 * else verified again. */
static int32_t
cert_get(struct hostproof_verifier *v, const struct hp_env *e,
         struct hostproof_err *err)
{
	unsigned char id[HP_ID_LEN];
	int32_t i;

	if (EVP_Digest(e->cert, e->certlen, id, NULL, v->sha256, NULL) != 1)
		return hp_refuse(err, HOSTPROOF_CERT,
		                 "unable to hash the certificate: %s",
		                 hp_ossl_reason());
	if ((i = hostproof_cache_find(v, id)) >= 0) {
		if (v->e[i].not_after >= verifier_now(v)) {
			v->st.cache_hits++;
			hostproof_cache_touch(v, i);
			return i;
		}
		v->st.cache_expired++;
		hostproof_cache_drop(v, i);
	}
	v->st.cache_misses++;
	return cert_verify(v, e, id, err);
}

int
hostproof_open(struct hostproof_verifier *v, const void *env, size_t len,
               struct hostproof_opened *out, struct hostproof_err *err)
{
	char derr[WIRE_ERR_LEN];
	struct hp_entry *ce;
	struct hp_env e;
	int32_t i;

	memset(out, 0, sizeof(*out));
	err->reason = HOSTPROOF_OK;
	err->msg[0] = '\0';
	if (hp_env_decode(env, len, &e, derr) == -1)
		hp_refuse(err, HOSTPROOF_MALFORMED, "malformed envelope: %s",
		          derr);
	else if ((i = cert_get(v, &e, err)) >= 0) {
		ce = &v->e[i];
		if (!hp_sigop(ce->key, v->sha256, ce->digest, e.msg, e.msglen,
		              NULL, NULL, e.sig, e.siglen))
			hp_refuse(err, HOSTPROOF_SIGNATURE,
			          "bad signature by certificate %s", ce->label);
		else {
			out->msg = e.msg;
			out->len = e.msglen;
			out->names = (const char *const *)ce->names;
			out->nnames = ce->nnames;
		}
	}
	/* nothing of a peer's failure stays for the next libcrypto user */
	ERR_clear_error();
	if (err->reason != HOSTPROOF_OK) {
		v->st.refused[err->reason]++;
		return -1;
	}
	v->st.opened++;
	return 0;
}

bool
hostproof_names_host(const struct hostproof_opened *o, const char *host)
{
	size_t i, n;

	if (host == NULL || (n = strlen(host)) == 0)
		return false;
	for (i = 0; i < o->nnames; i++)
		if (strlen(o->names[i]) == n &&
		    memcmp(o->names[i], host, n) == 0)
			return true;
	return false;
}

int
hostproof_check_host(struct hostproof_verifier *v,
                     const struct hostproof_opened *o, const char *host,
                     struct hostproof_err *err)
{
	char names[HOSTPROOF_ERR_LEN / 2];
	size_t i, at = 0;

	if (hostproof_names_host(o, host))
		return 0;
	v->st.refused[HOSTPROOF_NAME]++;
	names[0] = '\0';
	for (i = 0; i < o->nnames && at < sizeof(names); i++)
		at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s",
		                       i > 0 ? ", " : "", o->names[i]);
	return hp_refuse(
	    err, HOSTPROOF_NAME, "the certificate proves %s, not host %.64s",
	    o->nnames > 0 ? names : "no host name", host != NULL ? host : "");
}

void
hostproof_stats(const struct hostproof_verifier *v, struct hostproof_stats *s)
{
	*s = v->st;
	s->cache_entries = v->nused;
}
