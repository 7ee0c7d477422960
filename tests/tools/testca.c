/*
 * testca.c: keys and certificates made with libcrypto for the host proof's
 * test, fuzz target and bench (see testca.h). Any failure aborts: these
 * are our own test fixtures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testca.h"

static void
must(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "testca: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

EVP_PKEY *
testca_key(enum testca_keytype type)
{
	EVP_PKEY *k = NULL;

	switch (type) {
	case TESTCA_EC:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case TESTCA_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case TESTCA_RSA:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	}
	must(k != NULL, "keygen");
	return k;
}

/* One X509v3 extension from its config text, e.g. "critical,CA:TRUE". */
static void
add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	must(ext != NULL, value);
	must(X509_add_ext(c, ext, -1), "X509_add_ext");
	X509_EXTENSION_free(ext);
}

/* The DNS SANs, built by hand so that a name may hold a NUL. */
static void
add_sans(X509 *c, const struct testca_opts *o)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *g;
	ASN1_IA5STRING *s;
	size_t i, len;

	for (i = 0; i < TESTCA_DNS_MAX && o->dns[i] != NULL; i++) {
		len = o->dns_len[i] ? o->dns_len[i] : strlen(o->dns[i]);
		s = ASN1_IA5STRING_new();
		must(s != NULL && ASN1_STRING_set(s, o->dns[i], (int)len),
		     "ASN1_STRING_set");
		g = GENERAL_NAME_new();
		must(g != NULL, "GENERAL_NAME_new");
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		must(sk_GENERAL_NAME_push(gens, g) > 0, "push");
	}
	if (i > 0)
		must(X509_add1_ext_i2d(c, NID_subject_alt_name, gens, 0,
		                       X509V3_ADD_DEFAULT) == 1,
		     "subjectAltName");
	GENERAL_NAMES_free(gens);
}

X509 *
testca_cert(const struct testca_opts *o, EVP_PKEY *key, X509 *issuer,
            EVP_PKEY *issuer_key)
{
	static long serial = 1;
	long nb = o->not_before, na = o->not_after;
	X509 *c = X509_new();
	X509_NAME *name;

	if (nb == 0 && na == 0) {
		nb = -3600;
		na = 86400;
	}
	must(c != NULL && X509_set_version(c, 2), "X509_new");
	must(ASN1_INTEGER_set(X509_get_serialNumber(c), serial++), "serial");
	must(X509_gmtime_adj(X509_getm_notBefore(c), nb) != NULL &&
	         X509_gmtime_adj(X509_getm_notAfter(c), na) != NULL,
	     "validity");
	must(X509_set_pubkey(c, key), "X509_set_pubkey");
	name = X509_get_subject_name(c);
	if (o->cn != NULL)
		must(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		                                (const unsigned char *)o->cn,
		                                -1, -1, 0),
		     "CN");
	must(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	                                (const unsigned char *)"recon test", -1,
	                                -1, 0),
	     "O");
	if (issuer == NULL) {
		issuer = c;
		issuer_key = key;
	}
	must(X509_set_issuer_name(c, X509_get_subject_name(issuer)), "issuer");
	add_ext(c, issuer, NID_subject_key_identifier, "hash");
	if (issuer != c)
		add_ext(c, issuer, NID_authority_key_identifier,
		        "keyid:always");
	if (o->ca) {
		add_ext(c, issuer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(c, issuer, NID_key_usage,
		        "critical,keyCertSign,cRLSign");
	} else {
		add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(c, issuer, NID_key_usage, "critical,digitalSignature");
	}
	if (o->eku != NULL)
		add_ext(c, issuer, NID_ext_key_usage, o->eku);
	add_sans(c, o);
	/* Ed25519 signs without a digest */
	must(X509_sign(c, issuer_key,
	               EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_ED25519
	                   ? NULL
	                   : EVP_sha256()) > 0,
	     "X509_sign");
	return c;
}

void
testca_write_certs(const char *path, X509 *const *certs, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	must(f != NULL, path);
	for (i = 0; i < n; i++)
		must(PEM_write_X509(f, certs[i]), "PEM_write_X509");
	must(fclose(f) == 0, path);
}

void
testca_write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");

	must(f != NULL, path);
	must(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL),
	     "PEM_write_PrivateKey");
	must(fclose(f) == 0, path);
}

void
testca_make_host(const char *dir, const char *cn, enum testca_keytype type,
                 struct testca_host *out)
{
	struct testca_opts ca = {.cn = "recon test CA", .ca = true};
	struct testca_opts h = {.cn = cn, .dns = {cn}, .eku = "clientAuth"};
	EVP_PKEY *cakey = testca_key(TESTCA_EC), *key = testca_key(type);
	X509 *cacert = testca_cert(&ca, cakey, NULL, NULL);
	X509 *cert = testca_cert(&h, key, cacert, cakey);

	snprintf(out->ca, sizeof(out->ca), "%s/ca.pem", dir);
	snprintf(out->cert, sizeof(out->cert), "%s/%s.pem", dir, cn);
	snprintf(out->key, sizeof(out->key), "%s/%s.key", dir, cn);
	testca_write_certs(out->ca, &cacert, 1);
	testca_write_certs(out->cert, &cert, 1);
	testca_write_key(out->key, key);
	X509_free(cert);
	X509_free(cacert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
}
