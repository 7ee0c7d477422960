/*
 * hostproof.h: the proof that an ingest message comes from host H (SPEC
 * §10), sealed by a remote lister and opened by the store.
 *
 * Why in the message: the store must apply a snapshot or delta for host H
 * only from a client holding a certificate signed by --tls-ca whose CN or
 * a DNS SAN is H. nng 1.5.2 verifies the TLS peer against the CA but tells
 * the store nothing of which certificate it was (no tls-peer-cn, only
 * tls-verified), so the TLS layer cannot carry the identity. The lister
 * therefore seals each message with the same certificate and key it uses
 * for TLS: an envelope holding its certificate (DER), the inner message
 * unchanged, and a signature over "recon-ingest-v1\0" + the inner bytes
 * (ECDSA or RSA PKCS#1 v1.5 with SHA-256; Ed25519 pure). Sending the whole
 * certificate every time keeps the store stateless per connection.
 *
 * What it proves: the inner bytes were signed by the holder of the private
 * key of a certificate issued by a certificate of the CA bundle (each one
 * a trust anchor, an intermediate too; the envelope carries no chain),
 * within its dates when opened, fit for a TLS client, at 112 bits of
 * security; and the hosts its subject CNs and DNS SANs name (byte for
 * byte, case included, since the store's host names are: a name in
 * another case would be another host; a wildcard proves nothing). The
 * store then checks that
 * the host the inner message names is one of them (hostproof_check_host).
 * What it does not prove: freshness. A replayed envelope is genuine, on
 * any connection; the store's per-host gen check stops replays, not this
 * module. Nor is revocation checked (no CRL): a host is shut out by a new
 * CA or by its certificate's expiry.
 *
 * Cost: one signature per message on the lister, one signature check per
 * message on the store (the chain is verified once per certificate and
 * kept in a bounded LRU cache keyed by the SHA-256 of its DER, until its
 * notAfter), and the certificate (~0.5 KiB for EC) more on the wire per
 * message. For EC P-256, tens of microseconds a message each side, a few
 * hundred for a chain: bench/hostproof.c measures it.
 *
 * Neither a signer nor a verifier may be used by two threads at once.
 */
#ifndef RECON_HOSTPROOF_H
#define RECON_HOSTPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define HOSTPROOF_CERT_MAX  (16 * 1024) /* DER bytes in an envelope */
#define HOSTPROOF_SIG_MAX   1024        /* RSA-8192 at most */
#define HOSTPROOF_NAMES_MAX 64          /* CNs and DNS SANs of one cert */
#define HOSTPROOF_NAME_MAX  253         /* a DNS name's length */
#define HOSTPROOF_CACHE_MAX 1024        /* default verified certs kept */
#define HOSTPROOF_ERR_LEN   256
/* What the signature covers before the inner message, NUL included, so
 * that no signature made for another purpose with the same key passes. */
#define HOSTPROOF_DOMAIN     "recon-ingest-v1"
#define HOSTPROOF_DOMAIN_LEN sizeof(HOSTPROOF_DOMAIN)

/* Why an envelope or a host was refused: one counter each. */
enum hostproof_reason {
	HOSTPROOF_OK,
	HOSTPROOF_MALFORMED, /* not an envelope, or over its bounds */
	HOSTPROOF_CERT,      /* certificate not parseable or not usable */
	HOSTPROOF_CHAIN,     /* refused by the CA bundle (OpenSSL's reason) */
	HOSTPROOF_SIGNATURE, /* the signature does not verify */
	HOSTPROOF_NAME,      /* the certificate does not name the host */
	HOSTPROOF_NREASONS
};

/* "ok", "malformed", "cert", "chain", "signature", "name": metric labels */
const char *hostproof_reason_name(enum hostproof_reason);

/* A refusal: its reason and one line of printable ASCII saying why. */
struct hostproof_err {
	enum hostproof_reason reason;
	char msg[HOSTPROOF_ERR_LEN];
};

/* ---- lister side ---- */

struct hostproof_signer;

/*
 * The certificate (the first in cert_file, PEM) and its private key
 * (key_file, PEM, unencrypted; EC, Ed25519 or RSA). NULL with err saying
 * which file is wrong: unreadable, not PEM, an unsupported key, a key that
 * is not the certificate's, a certificate over HOSTPROOF_CERT_MAX.
 */
struct hostproof_signer *hostproof_signer_open(const char *cert_file,
                                               const char *key_file,
                                               char err[HOSTPROOF_ERR_LEN]);
void hostproof_signer_close(struct hostproof_signer *);

/*
 * Appends to out the envelope of the len bytes at msg (under 4 GiB), one
 * msgpack map:
 *   {"t": "sealed", "v": 1, "cert": bin DER, "sig": bin, "msg": bin}
 * 0, or -1 (logged) when libcrypto fails to sign.
 */
int hostproof_seal(struct hostproof_signer *, const void *msg, size_t len,
                   struct wbuf *out);

/* ---- store side ---- */

struct hostproof_verifier;

/*
 * Trusts the certificates of the PEM bundle ca_file (at least one) and
 * keeps up to cache_max verified certificates (0: HOSTPROOF_CACHE_MAX).
 * NULL with err.
 */
struct hostproof_verifier *hostproof_verifier_open(const char *ca_file,
                                                   size_t cache_max,
                                                   char err[HOSTPROOF_ERR_LEN]);
void hostproof_verifier_close(struct hostproof_verifier *);
/* Verifies as at unix_s seconds (tests); 0 is the clock again. */
void hostproof_verifier_set_time(struct hostproof_verifier *, int64_t unix_s);

/* An opened envelope. */
struct hostproof_opened {
	const void *msg; /* the inner message, inside the envelope */
	size_t len;
	/* the names the certificate proves (CNs, then DNS SANs; no
	 * wildcard, no duplicate): valid until the verifier's next
	 * hostproof_open or its close */
	const char *const *names;
	size_t nnames;
};

/*
 * Decodes the len bytes at env strictly, verifies the certificate (from
 * the cache, else against the CA: chain, dates, TLS client purpose) and
 * the signature. 0 with *out, or -1 with err (any reason but NAME). Never
 * allocates from what the envelope declares.
 */
int hostproof_open(struct hostproof_verifier *, const void *env, size_t len,
                   struct hostproof_opened *out, struct hostproof_err *err);

/* Is host one of the names proven (exactly, case included)? */
bool hostproof_names_host(const struct hostproof_opened *, const char *host);
/* The same as a refusal: 0, or -1 with err (NAME), counted. */
int hostproof_check_host(struct hostproof_verifier *,
                         const struct hostproof_opened *, const char *host,
                         struct hostproof_err *err);

/* What a verifier has done, for the store's stats and metrics. */
struct hostproof_stats {
	uint64_t opened;                      /* envelopes that opened */
	uint64_t refused[HOSTPROOF_NREASONS]; /* by reason */
	uint64_t chain_verifies;              /* certificates checked */
	uint64_t cache_hits, cache_misses;    /* by certificate */
	uint64_t cache_evictions;             /* least recently used out */
	uint64_t cache_expired;               /* past notAfter, dropped */
	uint64_t cache_entries;               /* now */
};
void hostproof_stats(const struct hostproof_verifier *,
                     struct hostproof_stats *);

#endif
