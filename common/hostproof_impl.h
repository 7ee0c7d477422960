/*
 * hostproof_impl.h: what hostproof.c and its cache of verified
 * certificates (hostproof_cache.c) share: the verifier and its entries.
 */
#ifndef RECON_HOSTPROOF_IMPL_H
#define RECON_HOSTPROOF_IMPL_H

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "hostproof.h"

/* ---- the envelope and its signature (hostproof.c) ---- */

/* The fields of an envelope, inside it. */
struct hp_env {
	const void *cert, *sig, *msg;
	size_t certlen, siglen, msglen;
};

/* Appends an envelope (hostproof.h says its keys). */
void hp_env_write(struct wbuf *, const void *cert, size_t certlen,
                  const void *sig, size_t siglen, const void *msg, size_t len);
/* Decodes one strictly; -1 with err (WIRE_ERR_LEN) saying where and why. */
int hp_env_decode(const void *, size_t, struct hp_env *, char *err);
/* Does the key sign a SHA-256 digest (EC, RSA), or the message itself
 * (Ed25519)? -1 for a key type we do not take. */
int hp_key_digests(EVP_PKEY *, bool *digest);
/* "EC", "ED25519", ...: for a message */
const char *hp_key_type(EVP_PKEY *);
/*
 * Signs (sig != NULL: *siglen is its room, then its length) or verifies
 * (vsig) HOSTPROOF_DOMAIN and msg. 1 done and good, else 0.
 */
int hp_sigop(EVP_PKEY *, const EVP_MD *sha256, bool digest, const void *msg,
             size_t len, unsigned char *sig, size_t *siglen, const void *vsig,
             size_t vsiglen);

/* ---- messages ---- */

/* Makes s one line of printable ASCII (peer bytes end up in logs). */
void hp_printable(char *s);
/* A message of at most HOSTPROOF_ERR_LEN bytes, made printable; -1. */
int hp_errf(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same into a refusal with its reason; returns -1. */
int hp_refuse(struct hostproof_err *, enum hostproof_reason, const char *fmt,
              ...) __attribute__((format(printf, 3, 4)));
/* libcrypto's reason for its last failure. */
const char *hp_ossl_reason(void);
/* p, or abort: libcrypto's constructors fail only out of memory, and the
 * project's policy is to abort then (util.h). */
void *hp_ossl_must(void *p);
/* fopen for reading, or NULL with err: "unable to read WHAT PATH: ..." */
FILE *hp_open_file(const char *path, const char *what, char *err);

/* ---- the verifier and its cache ---- */

#define HP_ID_LEN 32 /* SHA-256 of a certificate's DER */

/* A certificate's names as they are read, NUL-terminated in b. */
struct hp_names {
	struct wbuf b;
	size_t off[HOSTPROOF_NAMES_MAX], len[HOSTPROOF_NAMES_MAX];
	size_t n;
};

/* A verified certificate: what a signature check and a host check need. */
struct hp_entry {
	unsigned char id[HP_ID_LEN];
	EVP_PKEY *key; /* NULL: the entry is free */
	bool digest;   /* SHA-256 (EC, RSA), else pure (Ed25519) */
	char **names;  /* one allocation, the strings after the pointers */
	size_t nnames;
	char label[80]; /* "CN=..." for messages */
	int64_t not_after;
	int32_t prev, next; /* least recently used order, head most recent */
	int32_t chain;      /* the next in its bucket, or in the free list */
};

struct hostproof_verifier {
	X509_STORE *store;
	EVP_MD *sha256;
	int64_t time; /* 0: the clock */
	/* the cache: max entries, a bucket per 2 of them (a power of 2) */
	struct hp_entry *e;
	size_t max, nused;
	int32_t *bucket;
	uint32_t mask;
	int32_t head, tail, free;
	struct hostproof_stats st;
};

void hostproof_cache_init(struct hostproof_verifier *, size_t max);
void hostproof_cache_free(struct hostproof_verifier *);
/* The entry of certificate id, or -1. */
int32_t hostproof_cache_find(struct hostproof_verifier *,
                             const unsigned char *id);
/* Makes an entry the most recently used. */
void hostproof_cache_touch(struct hostproof_verifier *, int32_t);
void hostproof_cache_drop(struct hostproof_verifier *, int32_t);
/* Adds a verified certificate, the least recently used out when full; the
 * entry takes ce's key and copies the names. Its index. */
int32_t hostproof_cache_add(struct hostproof_verifier *,
                            const struct hp_entry *ce, const struct hp_names *);

#endif
