/*
 * testca.h: certificate authorities, host certificates and keys made with
 * libcrypto in the process, for hostproof's test, fuzz target and bench (no
 * openssl CLI, no key checked in). Test code: every failure aborts.
 */
#ifndef RECON_TESTCA_H
#define RECON_TESTCA_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum testca_keytype { TESTCA_EC, TESTCA_ED25519, TESTCA_RSA };

/* A new key: EC P-256, Ed25519, or RSA of 2048 bits. */
EVP_PKEY *testca_key(enum testca_keytype);

#define TESTCA_DNS_MAX 80

struct testca_opts {
	const char *cn; /* subject CN, NULL none */
	/* DNS SANs, NULL-terminated; dns_len[i] > 0 gives a length (a name
	 * with a NUL in it), 0 strlen */
	const char *dns[TESTCA_DNS_MAX + 1];
	size_t dns_len[TESTCA_DNS_MAX];
	long not_before, not_after; /* seconds from now (0, 0: -1h, +1d) */
	bool ca;                    /* basicConstraints CA:TRUE, keyCertSign */
	const char *eku;            /* extendedKeyUsage value, NULL none */
};

/* A certificate for key's public half, signed by issuer_key as issuer
 * (both NULL: self-signed by key). */
X509 *testca_cert(const struct testca_opts *, EVP_PKEY *key, X509 *issuer,
                  EVP_PKEY *issuer_key);

/* PEM files: n certificates in one file, or one private key. */
void testca_write_certs(const char *path, X509 *const *certs, size_t n);
void testca_write_key(const char *path, EVP_PKEY *key);

/* A CA (EC P-256) and a host certificate with its key, in PEM files under
 * dir (ca.pem, NAME.pem, NAME.key); cn is also a DNS SAN. */
struct testca_host {
	char ca[256], cert[256], key[256];
};
void testca_make_host(const char *dir, const char *cn, enum testca_keytype,
                      struct testca_host *out);

#endif
