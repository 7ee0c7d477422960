/*
 * hostproof.c: the host proof's envelope (its msgpack codec) and its
 * signature (what is signed, by which digest for which key), shared by
 * the signer (hostproof_signer.c) and the verifier (hostproof_verify.c),
 * and their messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "hostproof.h"
#include "hostproof_impl.h"
#include "log.h"
#include "mpack.h"
#include "util.h"

static const char *const reason_names[HOSTPROOF_NREASONS] = {
    [HOSTPROOF_OK] = "ok",
    [HOSTPROOF_MALFORMED] = "malformed",
    [HOSTPROOF_CERT] = "cert",
    [HOSTPROOF_CHAIN] = "chain",
    [HOSTPROOF_SIGNATURE] = "signature",
    [HOSTPROOF_NAME] = "name",
};

const char *
hostproof_reason_name(enum hostproof_reason r)
{
	if ((unsigned)r >= HOSTPROOF_NREASONS)
		abort(); /* not one of ours */
	return reason_names[r];
}

/* ---- messages ---- */

/* Peer bytes (a CN, a host, a key) end up in logs: printable ASCII only. */
void
hp_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static void
vset(char *buf, const char *fmt, va_list ap)
{
	vsnprintf(buf, HOSTPROOF_ERR_LEN, fmt, ap);
	hp_printable(buf);
}

int
hp_errf(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, fmt, ap);
	va_end(ap);
	return -1;
}

int
hp_refuse(struct hostproof_err *e, enum hostproof_reason r, const char *fmt,
          ...)
{
	va_list ap;

	e->reason = r;
	va_start(ap, fmt);
	vset(e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* libcrypto's reason for its last failure, for a message. */
const char *
hp_ossl_reason(void)
{
	const char *s = ERR_reason_error_string(ERR_peek_last_error());

	return s != NULL ? s : "no reason given";
}

/* libcrypto returns NULL from a constructor only when out of memory: the
 * project's policy is to abort then (util.h). */
void *
hp_ossl_must(void *p)
{
	if (p == NULL) {
		log_error("out of memory in libcrypto: aborting");
		abort();
	}
	return p;
}

/* ---- keys and signatures ---- */

/* Does the key sign a SHA-256 digest (EC, RSA), or the message itself
 * (Ed25519)? -1 for a key type we do not take. */
int
hp_key_digests(EVP_PKEY *k, bool *digest)
{
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_EC:
	case EVP_PKEY_RSA:
		*digest = true;
		return 0;
	case EVP_PKEY_ED25519:
		*digest = false;
		return 0;
	}
	return -1;
}

const char *
hp_key_type(EVP_PKEY *k)
{
	const char *s = EVP_PKEY_get0_type_name(k);

	return s != NULL ? s : "unknown";
}

/*
 * Signs (sig != NULL: *siglen is its room, then its length) or verifies
 * (vsig) the domain and msg. Ed25519 signs one buffer in one call, so the
 * two are copied together for it; the others hash them in two steps.
 * 1 done and good, else 0.
 */
int
hp_sigop(EVP_PKEY *k, const EVP_MD *sha256, bool digest, const void *msg,
         size_t len, unsigned char *sig, size_t *siglen, const void *vsig,
         size_t vsiglen)
{
	EVP_MD_CTX *ctx = hp_ossl_must(EVP_MD_CTX_new());
	const EVP_MD *md = digest ? sha256 : NULL;
	struct wbuf tbs = {0};
	int ok;

	if (sig != NULL)
		ok = EVP_DigestSignInit(ctx, NULL, md, NULL, k) == 1;
	else
		ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, k) == 1;
	if (ok && digest) {
		if (sig != NULL)
			ok = EVP_DigestSignUpdate(ctx, HOSTPROOF_DOMAIN,
			                          HOSTPROOF_DOMAIN_LEN) == 1 &&
			     EVP_DigestSignUpdate(ctx, msg, len) == 1 &&
			     EVP_DigestSignFinal(ctx, sig, siglen) == 1;
		else
			ok =
			    EVP_DigestVerifyUpdate(ctx, HOSTPROOF_DOMAIN,
			                           HOSTPROOF_DOMAIN_LEN) == 1 &&
			    EVP_DigestVerifyUpdate(ctx, msg, len) == 1 &&
			    EVP_DigestVerifyFinal(ctx, vsig, vsiglen) == 1;
	} else if (ok) {
		wbuf_append(&tbs, HOSTPROOF_DOMAIN, HOSTPROOF_DOMAIN_LEN);
		wbuf_append(&tbs, msg, len);
		if (sig != NULL)
			ok = EVP_DigestSign(ctx, sig, siglen,
			                    (unsigned char *)tbs.data,
			                    tbs.len) == 1;
		else
			ok = EVP_DigestVerify(ctx, vsig, vsiglen,
			                      (unsigned char *)tbs.data,
			                      tbs.len) == 1;
		wbuf_free(&tbs);
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* ---- the envelope ---- */

enum { K_T, K_V, K_CERT, K_SIG, K_MSG, NKEYS };
static const char *const env_keys[NKEYS] = {"t", "v", "cert", "sig", "msg"};

void
hp_env_write(struct wbuf *out, const void *cert, size_t certlen,
             const void *sig, size_t siglen, const void *msg, size_t len)
{
	struct mpw w;

	mpw_init(&w, out);
	mpw_map(&w, NKEYS);
	mpw_str(&w, env_keys[K_T]);
	mpw_str(&w, "sealed");
	mpw_str(&w, env_keys[K_V]);
	mpw_uint64(&w, 1);
	mpw_str(&w, env_keys[K_CERT]);
	mpw_bin(&w, cert, certlen);
	mpw_str(&w, env_keys[K_SIG]);
	mpw_bin(&w, sig, siglen);
	mpw_str(&w, env_keys[K_MSG]);
	mpw_bin(&w, msg, len);
}

/* The reader and the key it is in, for the error's place. */
struct env_dec {
	struct mpr r; /* first: env_where casts back from it */
	const char *key;
};

static size_t
env_where(const struct mpr *r, char *buf, size_t len)
{
	const struct env_dec *d = (const struct env_dec *)r;
	size_t at = (size_t)(r->p - r->base);

	if (d->key != NULL)
		return (size_t)snprintf(buf, len, "envelope key %s at byte %zu",
		                        d->key, at);
	return (size_t)snprintf(buf, len, "envelope at byte %zu", at);
}

/* A bin of min to max bytes. */
static int
env_bin(struct mpr *r, const void **p, size_t *len, size_t min, size_t max)
{
	if (mpr_bin(r, p, len) == -1)
		return -1;
	if (*len < min || *len > max)
		return mpr_fail(r, "%zu bytes, not %zu to %zu", *len, min, max);
	return 0;
}

static int
env_field(struct mpr *r, int k, struct hp_env *e)
{
	const char *s;
	uint64_t v;
	size_t n;

	switch (k) {
	case K_T:
		if (mpr_str(r, &s, &n) == -1)
			return -1;
		if (n != 6 || memcmp(s, "sealed", 6) != 0)
			return mpr_fail(r, "t is \"%.*s\", not \"sealed\"",
			                n < 32 ? (int)n : 32, s);
		return 0;
	case K_V:
		if (mpr_u64(r, &v) == -1)
			return -1;
		if (v != 1)
			return mpr_fail(r, "version %llu, not 1",
			                (unsigned long long)v);
		return 0;
	case K_CERT:
		return env_bin(r, &e->cert, &e->certlen, 1, HOSTPROOF_CERT_MAX);
	case K_SIG:
		return env_bin(r, &e->sig, &e->siglen, 1, HOSTPROOF_SIG_MAX);
	case K_MSG:
		return env_bin(r, &e->msg, &e->msglen, 0, SIZE_MAX);
	}
	abort(); /* k comes from env_keys */
}

/*
 * The envelope, strictly: a map with each of env_keys once (other keys
 * skipped, their values at most two levels deep), nothing after it.
 */
int
hp_env_decode(const void *buf, size_t len, struct hp_env *e, char *err)
{
	struct env_dec d = {.key = NULL};
	struct mpr *r = &d.r;
	unsigned seen = 0;
	const char *k;
	size_t klen;
	uint32_t i, n;
	int f;

	memset(e, 0, sizeof(*e));
	mpr_init(r, buf, len, 3, err);
	r->where = env_where;
	if (mpr_map(r, &n) == -1 || mpr_enter(r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		d.key = NULL;
		if (mpr_key(r, &k, &klen) == -1)
			return -1;
		for (f = 0; f < NKEYS; f++)
			if (strlen(env_keys[f]) == klen &&
			    memcmp(env_keys[f], k, klen) == 0)
				break;
		if (f == NKEYS) {
			if (mpr_skip(r, 2) == -1)
				return -1;
			continue;
		}
		d.key = env_keys[f];
		if (seen & 1u << f)
			return mpr_fail(r, "duplicate key");
		seen |= 1u << f;
		if (env_field(r, f, e) == -1)
			return -1;
	}
	d.key = NULL;
	mpr_leave(r);
	if (mpr_end(r) == -1)
		return -1;
	for (f = 0; f < NKEYS; f++)
		if (!(seen & 1u << f))
			return mpr_fail(r, "no key %s", env_keys[f]);
	return 0;
}

FILE *
hp_open_file(const char *path, const char *what, char *err)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		hp_errf(err, "unable to read %s %s: %s", what, path,
		        strerror(errno));
	return f;
}
