/*
 * hostproof_signer.c: the lister's side of the host proof: its
 * certificate and key read and checked against each other, and the seal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "hostproof.h"
#include "hostproof_impl.h"
#include "log.h"
#include "util.h"

struct hostproof_signer {
	EVP_PKEY *key;
	bool digest; /* SHA-256 (EC, RSA), else pure (Ed25519) */
	EVP_MD *sha256;
	unsigned char *der; /* the certificate, sent in every envelope */
	size_t derlen;
};

static X509 *
read_cert(const char *path, char *err)
{
	FILE *f = hp_open_file(path, "certificate", err);
	X509 *c;

	if (f == NULL)
		return NULL;
	if ((c = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		hp_errf(err,
		        "unable to read certificate %s: no PEM certificate "
		        "in it (%s)",
		        path, hp_ossl_reason());
	fclose(f);
	return c;
}

/* A passphrase is never asked for (a daemon has no terminal): an
 * encrypted key is refused, and said to be. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	*(bool *)u = true;
	return -1;
}

static EVP_PKEY *
read_key(const char *path, char *err)
{
	FILE *f = hp_open_file(path, "private key", err);
	bool encrypted = false;
	EVP_PKEY *k;

	if (f == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, no_passphrase, &encrypted);
	fclose(f);
	if (k == NULL && encrypted)
		hp_errf(err,
		        "unable to use private key %s: it is encrypted; give "
		        "an unencrypted key readable by this user only",
		        path);
	else if (k == NULL)
		hp_errf(err,
		        "unable to read private key %s: no PEM private key "
		        "in it (%s)",
		        path, hp_ossl_reason());
	return k;
}

/* The key suits the certificate and the store; its DER is taken. */
static int
signer_check(struct hostproof_signer *s, X509 *cert, const char *cert_file,
             const char *key_file, char *err)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	unsigned char *der = NULL;
	int n;

	if (hp_key_digests(s->key, &s->digest) == -1)
		return hp_errf(err,
		               "unable to use private key %s: a %s key; "
		               "EC, Ed25519 and RSA keys sign",
		               key_file, hp_key_type(s->key));
	/* the store verifies at 112 bits of security (RSA of 2048) */
	if (EVP_PKEY_get_security_bits(s->key) < 112)
		return hp_errf(err,
		               "unable to use private key %s: %d bits of "
		               "security, under the 112 the store takes",
		               key_file, EVP_PKEY_get_security_bits(s->key));
	if (EVP_PKEY_get_size(s->key) > HOSTPROOF_SIG_MAX)
		return hp_errf(err,
		               "unable to use private key %s: its "
		               "signatures of %d bytes exceed the %d the "
		               "store takes",
		               key_file, EVP_PKEY_get_size(s->key),
		               HOSTPROOF_SIG_MAX);
	if (pub == NULL)
		return hp_errf(err,
		               "unable to use certificate %s: its public "
		               "key is unreadable (%s)",
		               cert_file, hp_ossl_reason());
	if (EVP_PKEY_eq(pub, s->key) != 1)
		return hp_errf(err,
		               "private key %s does not match certificate "
		               "%s: one of the two files is wrong",
		               key_file, cert_file);
	if ((n = i2d_X509(cert, &der)) <= 0)
		return hp_errf(err, "unable to encode certificate %s: %s",
		               cert_file, hp_ossl_reason());
	if (n > HOSTPROOF_CERT_MAX) {
		OPENSSL_free(der);
		return hp_errf(err,
		               "unable to use certificate %s: its %d bytes "
		               "of DER exceed the %d the store takes",
		               cert_file, n, HOSTPROOF_CERT_MAX);
	}
	s->der = der;
	s->derlen = (size_t)n;
	return 0;
}

struct hostproof_signer *
hostproof_signer_open(const char *cert_file, const char *key_file,
                      char err[HOSTPROOF_ERR_LEN])
{
	struct hostproof_signer *s = xcalloc(1, sizeof(*s));
	X509 *cert;

	err[0] = '\0';
	if ((cert = read_cert(cert_file, err)) == NULL ||
	    (s->key = read_key(key_file, err)) == NULL ||
	    signer_check(s, cert, cert_file, key_file, err) == -1) {
		X509_free(cert);
		hostproof_signer_close(s);
		ERR_clear_error();
		return NULL;
	}
	X509_free(cert);
	s->sha256 = hp_ossl_must(EVP_MD_fetch(NULL, "SHA2-256", NULL));
	return s;
}

void
hostproof_signer_close(struct hostproof_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	EVP_MD_free(s->sha256);
	OPENSSL_free(s->der);
	free(s);
}

int
hostproof_seal(struct hostproof_signer *s, const void *msg, size_t len,
               struct wbuf *out)
{
	unsigned char sig[HOSTPROOF_SIG_MAX];
	size_t siglen = sizeof(sig);

	if (!hp_sigop(s->key, s->sha256, s->digest, msg, len, sig, &siglen,
	              NULL, 0)) {
		log_warnx("unable to seal a message: %s", hp_ossl_reason());
		ERR_clear_error();
		return -1;
	}
	hp_env_write(out, s->der, s->derlen, sig, siglen, msg, len);
	return 0;
}
