/*
 * hostproof_test.c: the host proof against CAs and host certificates made
 * here with libcrypto (tests/tools/testca.c), in PEM files of a temporary
 * directory: seals of each key type open, the names a certificate proves,
 * every refusal with its reason, the cache, and envelopes cut, garbled or
 * hand-made wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>

#include "hostproof.h"
#include "mpack.h"
#include "testca.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The fixtures: a CA the verifier trusts (in a bundle with another), a CA
 * it does not, and the files of each host below. */
static char dir[64];
static X509 *ca, *ca2;
static EVP_PKEY *cakey, *ca2key;
static char bundle[128];

struct host {
	const char *name; /* its files: NAME.pem, NAME.key */
	enum testca_keytype type;
	struct testca_opts o; /* "other": signed by ca2 */
};

static struct host hosts[] = {
    {"ec",
     TESTCA_EC,
     {.cn = "host-ec",
      .dns = {"alias-ec.example", "HOST-EC"},
      .eku = "clientAuth"}},
    {"ed", TESTCA_ED25519, {.cn = "host-ed", .eku = "clientAuth"}},
    {"rsa", TESTCA_RSA, {.cn = "host-rsa"}},
    {"wild", TESTCA_EC, {.cn = "*.example", .dns = {"*.example"}}},
    {"nul",
     TESTCA_EC,
     {.cn = "nul-host", .dns = {"host-ec\0.evil"}, .dns_len = {13}}},
    {"other", TESTCA_EC, {.cn = "host-ec"}},
    {"expired",
     TESTCA_EC,
     {.cn = "host-old", .not_before = -2 * 86400, .not_after = -86400}},
    {"server", TESTCA_EC, {.cn = "host-srv", .eku = "serverAuth"}},
    {"short",
     TESTCA_EC,
     {.cn = "host-short", .not_before = -60, .not_after = 3600}},
    {"b", TESTCA_EC, {.cn = "host-b"}},
    {"c", TESTCA_EC, {.cn = "host-c"}},
    {"many", TESTCA_EC, {.cn = "host-many"}},
};

static struct host *
host(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(hosts); i++)
		if (strcmp(hosts[i].name, name) == 0)
			return &hosts[i];
	fail_msg("no host %s", name);
	return NULL;
}

static void
path(char *buf, size_t len, const char *name, const char *ext)
{
	snprintf(buf, len, "%s/%s.%s", dir, name, ext);
}

static int
setup(void **state)
{
	static char names[HOSTPROOF_NAMES_MAX + 1][16];
	struct testca_opts cao = {.cn = "recon test CA", .ca = true};
	struct testca_opts ca2o = {.cn = "another CA", .ca = true};
	struct host *h;
	bool other;
	X509 *c, *both[2];
	EVP_PKEY *k, *k3;
	char p[128];
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/hostproof_test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	cakey = testca_key(TESTCA_EC);
	ca = testca_cert(&cao, cakey, NULL, NULL);
	ca2key = testca_key(TESTCA_EC);
	ca2 = testca_cert(&ca2o, ca2key, NULL, NULL);
	/* the trusted bundle holds an unrelated CA first */
	k3 = testca_key(TESTCA_EC);
	both[0] = testca_cert(&cao, k3, NULL, NULL);
	both[1] = ca;
	snprintf(bundle, sizeof(bundle), "%s/bundle.pem", dir);
	testca_write_certs(bundle, both, 2);
	X509_free(both[0]);
	EVP_PKEY_free(k3);
	/* more names than a certificate may prove */
	h = host("many");
	for (i = 0; i <= HOSTPROOF_NAMES_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "n%zu.example", i);
		h->o.dns[i] = names[i];
	}
	for (i = 0; i < NELEM(hosts); i++) {
		h = &hosts[i];
		k = testca_key(h->type);
		other = strcmp(h->name, "other") == 0;
		c = testca_cert(&h->o, k, other ? ca2 : ca,
		                other ? ca2key : cakey);
		path(p, sizeof(p), h->name, "pem");
		testca_write_certs(p, &c, 1);
		path(p, sizeof(p), h->name, "key");
		testca_write_key(p, k);
		X509_free(c);
		EVP_PKEY_free(k);
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	X509_free(ca);
	X509_free(ca2);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(ca2key);
	return 0;
}

static struct hostproof_signer *
signer(const char *name)
{
	char cert[128], key[128], err[HOSTPROOF_ERR_LEN];
	struct hostproof_signer *s;

	path(cert, sizeof(cert), name, "pem");
	path(key, sizeof(key), name, "key");
	s = hostproof_signer_open(cert, key, err);
	if (s == NULL)
		fail_msg("signer %s: %s", name, err);
	return s;
}

static struct hostproof_verifier *
verifier(size_t cache_max)
{
	char err[HOSTPROOF_ERR_LEN];
	struct hostproof_verifier *v;

	v = hostproof_verifier_open(bundle, cache_max, err);
	if (v == NULL)
		fail_msg("verifier: %s", err);
	return v;
}

/* The envelope of msg sealed by host name. */
static void
seal(const char *name, const char *msg, struct wbuf *b)
{
	struct hostproof_signer *s = signer(name);

	wbuf_reset(b);
	assert_int_equal(hostproof_seal(s, msg, strlen(msg), b), 0);
	hostproof_signer_close(s);
}

/* Opening fails with reason, its message holding want. */
static void
refused(struct hostproof_verifier *v, const void *env, size_t len,
        enum hostproof_reason reason, const char *want)
{
	struct hostproof_opened o;
	struct hostproof_err e;

	if (hostproof_open(v, env, len, &o, &e) != -1)
		fail_msg("opened, want %s \"%s\"",
		         hostproof_reason_name(reason), want);
	if (e.reason != reason || strstr(e.msg, want) == NULL)
		fail_msg("want %s \"%s\", got %s \"%s\"",
		         hostproof_reason_name(reason), want,
		         hostproof_reason_name(e.reason), e.msg);
	assert_null(o.msg);
}

/* An envelope of the given parts. */
static void
mix(struct wbuf *out, const void *cert, size_t certlen, const void *sig,
    size_t siglen, const char *msg)
{
	struct mpw w;

	wbuf_reset(out);
	mpw_init(&w, out);
	mpw_map(&w, 5);
	mpw_str(&w, "t");
	mpw_str(&w, "sealed");
	mpw_str(&w, "v");
	mpw_uint64(&w, 1);
	mpw_str(&w, "cert");
	mpw_bin(&w, cert, certlen);
	mpw_str(&w, "sig");
	mpw_bin(&w, sig, siglen);
	mpw_str(&w, "msg");
	mpw_bin(&w, msg, strlen(msg));
}

/* Each key type seals, and the seal opens to the same bytes. */
static void
test_key_types(void **state)
{
	static const char *const names[][2] = {
	    {"ec", "host-ec"}, {"ed", "host-ed"}, {"rsa", "host-rsa"}};
	struct hostproof_verifier *v = verifier(0);
	const char *msg = "\x82\xa1t\xa8snapshot\xa4host\xa7host-ec";
	struct hostproof_opened o;
	struct hostproof_err e;
	struct hostproof_stats st;
	struct wbuf b = {0};
	size_t i;

	for (i = 0; i < NELEM(names); i++) {
		seal(names[i][0], msg, &b);
		if (hostproof_open(v, b.data, b.len, &o, &e) != 0)
			fail_msg("%s: %s", names[i][0], e.msg);
		assert_int_equal(e.reason, HOSTPROOF_OK);
		assert_int_equal(o.len, strlen(msg));
		assert_memory_equal(o.msg, msg, o.len);
		/* the inner bytes are the envelope's, unchanged */
		assert_true((const char *)o.msg > b.data &&
		            (const char *)o.msg + o.len == b.data + b.len);
		assert_true(hostproof_names_host(&o, names[i][1]));
		assert_int_equal(hostproof_check_host(v, &o, names[i][1], &e),
		                 0);
	}
	hostproof_stats(v, &st);
	assert_int_equal(st.opened, 3);
	assert_int_equal(st.cache_entries, 3);
	wbuf_free(&b);
	hostproof_verifier_close(v);
}

/* Large messages: Ed25519 signs them in one piece, the others hashed. */
static void
test_large_message(void **state)
{
	static const char *const names[] = {"ec", "ed", "rsa"};
	struct hostproof_verifier *v = verifier(0);
	struct hostproof_signer *s;
	struct hostproof_opened o;
	struct hostproof_err e;
	struct wbuf b = {0};
	size_t n = 3 << 20, i;
	char *msg = malloc(n);

	assert_non_null(msg);
	for (i = 0; i < n; i++)
		msg[i] = (char)(i * 7);
	for (i = 0; i < NELEM(names); i++) {
		s = signer(names[i]);
		wbuf_reset(&b);
		assert_int_equal(hostproof_seal(s, msg, n, &b), 0);
		hostproof_signer_close(s);
		assert_int_equal(hostproof_open(v, b.data, b.len, &o, &e), 0);
		assert_int_equal(o.len, n);
		assert_memory_equal(o.msg, msg, n);
		/* the last byte is signed too */
		b.data[b.len - 1] ^= 1;
		refused(v, b.data, b.len, HOSTPROOF_SIGNATURE, "bad signature");
	}
	free(msg);
	wbuf_free(&b);
	hostproof_verifier_close(v);
}

/* The names a certificate proves: CN and DNS SANs, exactly, in any ASCII
 * case; no wildcard, nothing after a NUL. */
static void
test_names(void **state)
{
	static const struct {
		const char *signer, *host;
		bool proven;
	} cases[] = {
	    {"ec", "host-ec", true},           {"ec", "HOST-EC", true},
	    {"ec", "Host-Ec", false},          {"ec", "alias-ec.example", true},
	    {"ec", "ALIAS-EC.example", false}, {"ec", "host-ed", false},
	    {"ec", "host-e", false},           {"ec", "host-ecx", false},
	    {"ec", "host-ec.", false},         {"ec", "", false},
	    {"ec", "example", false},          {"ed", "host-ed", true},
	    {"ed", "host-ec", false},          {"wild", "a.example", false},
	    {"wild", "*.example", false},      {"wild", "example", false},
	    {"nul", "nul-host", true},         {"nul", "host-ec", false},
	    {"nul", "host-ec.evil", false},
	};
	struct hostproof_verifier *v = verifier(0);
	struct hostproof_opened o;
	struct hostproof_err e;
	struct hostproof_stats st;
	struct wbuf b = {0};
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		seal(cases[i].signer, "m", &b);
		assert_int_equal(hostproof_open(v, b.data, b.len, &o, &e), 0);
		if (hostproof_names_host(&o, cases[i].host) != cases[i].proven)
			fail_msg("%s proves \"%s\": want %d", cases[i].signer,
			         cases[i].host, cases[i].proven);
	}
	/* names are kept as written: the SAN HOST-EC is one more name (the
	 * store's host names are case-sensitive) */
	seal("ec", "m", &b);
	assert_int_equal(hostproof_open(v, b.data, b.len, &o, &e), 0);
	assert_int_equal(o.nnames, 3);
	assert_string_equal(o.names[0], "host-ec");
	assert_string_equal(o.names[1], "alias-ec.example");
	assert_string_equal(o.names[2], "HOST-EC");
	assert_false(hostproof_names_host(&o, NULL));
	assert_int_equal(hostproof_check_host(v, &o, "host-ed", &e), -1);
	assert_int_equal(e.reason, HOSTPROOF_NAME);
	assert_string_equal(e.msg,
	                    "the certificate proves host-ec, "
	                    "alias-ec.example, HOST-EC, not host host-ed");
	/* a wildcard proves nothing */
	seal("wild", "m", &b);
	assert_int_equal(hostproof_open(v, b.data, b.len, &o, &e), 0);
	assert_int_equal(o.nnames, 0);
	assert_int_equal(hostproof_check_host(v, &o, "a\nb", &e), -1);
	assert_string_equal(e.msg, "the certificate proves no host name, not "
	                           "host a?b");
	hostproof_stats(v, &st);
	assert_int_equal(st.refused[HOSTPROOF_NAME], 2);
	wbuf_free(&b);
	hostproof_verifier_close(v);
}

/* A certificate the CA did sign, with a key that does not sign here. */
static void
test_key_refused(void **state)
{
	struct testca_opts o = {.cn = "host-448"};
	struct hostproof_verifier *v = verifier(0);
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	unsigned char *der = NULL;
	struct wbuf b = {0};
	X509 *c;
	int n;

	assert_non_null(k);
	c = testca_cert(&o, k, ca, cakey);
	n = i2d_X509(c, &der);
	assert_true(n > 0);
	mix(&b, der, (size_t)n, "sig", 3, "m");
	refused(v, b.data, b.len, HOSTPROOF_CERT,
	        "certificate CN=host-448: a ED448 key; EC, Ed25519 and RSA "
	        "keys sign");
	OPENSSL_free(der);
	X509_free(c);
	EVP_PKEY_free(k);
	wbuf_free(&b);
	hostproof_verifier_close(v);
}

/* A bundle of an intermediate CA alone trusts what it signs. */
static void
test_intermediate(void **state)
{
	struct testca_opts ro = {.cn = "root", .ca = true};
	struct testca_opts io = {.cn = "intermediate", .ca = true};
	struct testca_opts ho = {.cn = "host-i"};
	char cert[128], key[128], inter[128], err[HOSTPROOF_ERR_LEN];
	EVP_PKEY *rk = testca_key(TESTCA_EC), *ik = testca_key(TESTCA_EC);
	EVP_PKEY *hk = testca_key(TESTCA_EC);
	X509 *r = testca_cert(&ro, rk, NULL, NULL);
	X509 *i = testca_cert(&io, ik, r, rk);
	X509 *h = testca_cert(&ho, hk, i, ik);
	struct hostproof_verifier *v;
	struct hostproof_signer *s;
	struct hostproof_opened o;
	struct hostproof_err e;
	struct wbuf b = {0};

	path(inter, sizeof(inter), "inter", "pem");
	path(cert, sizeof(cert), "host-i", "pem");
	path(key, sizeof(key), "host-i", "key");
	testca_write_certs(inter, &i, 1);
	testca_write_certs(cert, &h, 1);
	testca_write_key(key, hk);
	s = hostproof_signer_open(cert, key, err);
	assert_non_null(s);
	assert_int_equal(hostproof_seal(s, "m", 1, &b), 0);
	v = hostproof_verifier_open(inter, 0, err);
	assert_non_null(v);
	if (hostproof_open(v, b.data, b.len, &o, &e) != 0)
		fail_msg("%s", e.msg);
	assert_true(hostproof_names_host(&o, "host-i"));
	hostproof_verifier_close(v);
	/* the root's bundle does not hold the intermediate: refused */
	v = verifier(0);
	refused(v, b.data, b.len, HOSTPROOF_CHAIN,
	        "unable to get local issuer certificate");
	hostproof_verifier_close(v);
	hostproof_signer_close(s);
	wbuf_free(&b);
	X509_free(r);
	X509_free(i);
	X509_free(h);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(hk);
}

/* A certificate the CA bundle does not vouch for, now, as a client. */
static void
test_chain(void **state)
{
	static const struct {
		const char *signer, *want;
	} cases[] = {
	    {"other", "certificate CN=host-ec refused: unable to get local "
	              "issuer certificate (at depth 0)"},
	    {"expired", "certificate CN=host-old refused: certificate has "
	                "expired"},
	    {"server", "certificate CN=host-srv refused: unsuitable "
	               "certificate purpose (at depth 0)"},
	};
	struct hostproof_verifier *v = verifier(0);
	struct hostproof_stats st;
	struct wbuf b = {0};
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		seal(cases[i].signer, "m", &b);
		refused(v, b.data, b.len, HOSTPROOF_CHAIN, cases[i].want);
		/* a refused certificate is not kept: checked again */
		refused(v, b.data, b.len, HOSTPROOF_CHAIN, cases[i].want);
	}
	/* more names than HOSTPROOF_NAMES_MAX: not one is taken */
	seal("many", "m", &b);
	refused(v, b.data, b.len, HOSTPROOF_CERT,
	        "certificate CN=host-many names more than 64 hosts");
	hostproof_stats(v, &st);
	assert_int_equal(st.refused[HOSTPROOF_CHAIN], 6);
	assert_int_equal(st.refused[HOSTPROOF_CERT], 1);
	assert_int_equal(st.chain_verifies, 7);
	assert_int_equal(st.cache_entries, 0);
	wbuf_free(&b);
	hostproof_verifier_close(v);
}

/* Where the envelope's bin fields lie. */
struct spans {
	size_t cert, certlen, sig, siglen, msg, msglen;
};

static void
spans(const struct wbuf *b, struct spans *sp)
{
	const void *p;
	const char *k;
	size_t klen, len;
	struct mpr r;
	uint32_t n, i;

	mpr_init(&r, b->data, b->len, 2, NULL);
	assert_int_equal(mpr_map(&r, &n), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(mpr_key(&r, &k, &klen), 0);
		if (mpr_peek(&r) < 0xc4 || mpr_peek(&r) > 0xc6) {
			assert_int_equal(mpr_skip(&r, 1), 0);
			continue;
		}
		assert_int_equal(mpr_bin(&r, &p, &len), 0);
		if (klen == 4 && memcmp(k, "cert", 4) == 0) {
			sp->cert = (size_t)((const char *)p - b->data);
			sp->certlen = len;
		} else if (klen == 3 && memcmp(k, "sig", 3) == 0) {
			sp->sig = (size_t)((const char *)p - b->data);
			sp->siglen = len;
		} else {
			sp->msg = (size_t)((const char *)p - b->data);
			sp->msglen = len;
		}
	}
}

/* A byte changed in the message, the signature or the certificate. */
static void
test_tamper(void **state)
{
	struct hostproof_verifier *v = verifier(0);
	struct wbuf b = {0}, b2 = {0}, c = {0};
	struct spans sp;
	char *cn;
	size_t i;

	seal("ec", "the inner message", &b);
	spans(&b, &sp);
	assert_int_equal(sp.msglen, strlen("the inner message"));
	for (i = 0; i < sp.msglen; i++) {
		b.data[sp.msg + i] ^= 0x20;
		refused(v, b.data, b.len, HOSTPROOF_SIGNATURE,
		        "bad signature by certificate CN=host-ec");
		b.data[sp.msg + i] ^= 0x20;
	}
	for (i = 0; i < sp.siglen; i++) {
		b.data[sp.sig + i] ^= 0x01;
		refused(v, b.data, b.len, HOSTPROOF_SIGNATURE, "bad signature");
		b.data[sp.sig + i] ^= 0x01;
	}
	/* the CN changed: the CA's signature on it fails */
	cn = memmem(b.data + sp.cert, sp.certlen, "host-ec", 7);
	assert_non_null(cn);
	cn[0] ^= 0x01;
	refused(v, b.data, b.len, HOSTPROOF_CHAIN,
	        "certificate CN=iost-ec refused: certificate signature "
	        "failure");
	cn[0] ^= 0x01;
	/* its DER broken */
	b.data[sp.cert] ^= 0xff;
	refused(v, b.data, b.len, HOSTPROOF_CERT, "certificate not parseable");
	b.data[sp.cert] ^= 0xff;
	b.data[sp.cert + 1] ^= 0x01;
	refused(v, b.data, b.len, HOSTPROOF_CERT, "certificate not parseable");
	b.data[sp.cert + 1] ^= 0x01;
	/* a byte after the certificate's DER, in its field */
	wbuf_append(&c, b.data + sp.cert, sp.certlen);
	wbuf_append(&c, "", 1);
	mix(&b2, c.data, c.len, b.data + sp.sig, sp.siglen, "m");
	refused(v, b2.data, b2.len, HOSTPROOF_CERT,
	        "certificate followed by 1 bytes in its field");
	wbuf_free(&c);
	/* the signature of another message */
	mix(&b2, b.data + sp.cert, sp.certlen, b.data + sp.sig, sp.siglen,
	    "the other message");
	assert_true(b2.len == b.len);
	refused(v, b2.data, b2.len, HOSTPROOF_SIGNATURE, "bad signature");
	mix(&b2, b.data + sp.cert, sp.certlen, b.data + sp.sig, sp.siglen,
	    "the inner message");
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.data, b.data, b.len);
	wbuf_free(&b);
	wbuf_free(&b2);
	hostproof_verifier_close(v);
}

/* host-ec's certificate with host-b's signature of the same message. */
static void
test_other_key(void **state)
{
	struct hostproof_verifier *v = verifier(0);
	struct wbuf a = {0}, b = {0}, m = {0};
	struct spans sa, sb;

	seal("ec", "same", &a);
	seal("b", "same", &b);
	spans(&a, &sa);
	spans(&b, &sb);
	mix(&m, a.data + sa.cert, sa.certlen, b.data + sb.sig, sb.siglen,
	    "same");
	refused(v, m.data, m.len, HOSTPROOF_SIGNATURE,
	        "bad signature by certificate CN=host-ec");
	wbuf_free(&a);
	wbuf_free(&b);
	wbuf_free(&m);
	hostproof_verifier_close(v);
}

/* A certificate's chain is verified once, until its notAfter; the least
 * recently used goes out of a full cache. */
static void
test_cache(void **state)
{
	struct hostproof_verifier *v = verifier(2);
	struct wbuf ec = {0}, b = {0}, c = {0}, sh = {0};
	struct hostproof_opened o;
	struct hostproof_err e;
	struct hostproof_stats st;

	seal("ec", "1", &ec);
	seal("b", "2", &b);
	seal("c", "3", &c);
	seal("short", "4", &sh);
	assert_int_equal(hostproof_open(v, ec.data, ec.len, &o, &e), 0);
	assert_int_equal(hostproof_open(v, ec.data, ec.len, &o, &e), 0);
	hostproof_stats(v, &st);
	assert_int_equal(st.chain_verifies, 1);
	assert_int_equal(st.cache_misses, 1);
	assert_int_equal(st.cache_hits, 1);
	/* the signature is checked on a hit all the same */
	ec.data[ec.len - 1] ^= 1;
	refused(v, ec.data, ec.len, HOSTPROOF_SIGNATURE, "bad signature");
	ec.data[ec.len - 1] ^= 1;
	/* ec, b; ec used; c takes b's place */
	assert_int_equal(hostproof_open(v, b.data, b.len, &o, &e), 0);
	assert_int_equal(hostproof_open(v, ec.data, ec.len, &o, &e), 0);
	assert_int_equal(hostproof_open(v, c.data, c.len, &o, &e), 0);
	hostproof_stats(v, &st);
	assert_int_equal(st.chain_verifies, 3);
	assert_int_equal(st.cache_evictions, 1);
	assert_int_equal(st.cache_entries, 2);
	assert_int_equal(hostproof_open(v, ec.data, ec.len, &o, &e), 0);
	assert_string_equal(o.names[0], "host-ec");
	hostproof_stats(v, &st);
	assert_int_equal(st.chain_verifies, 3);
	assert_int_equal(hostproof_open(v, b.data, b.len, &o, &e), 0);
	assert_string_equal(o.names[0], "host-b");
	hostproof_stats(v, &st);
	assert_int_equal(st.chain_verifies, 4);
	assert_int_equal(st.cache_evictions, 2); /* c, the least used */

	/* past notAfter: dropped and verified again, which fails */
	assert_int_equal(hostproof_open(v, sh.data, sh.len, &o, &e), 0);
	hostproof_verifier_set_time(v, (int64_t)time(NULL) + 2 * 3600);
	refused(v, sh.data, sh.len, HOSTPROOF_CHAIN,
	        "certificate CN=host-short refused: certificate has expired");
	hostproof_stats(v, &st);
	assert_int_equal(st.cache_expired, 1);
	assert_int_equal(st.chain_verifies, 6);
	assert_int_equal(st.cache_entries, 1);
	/* host-b's, valid for a day, is still a hit then */
	assert_int_equal(hostproof_open(v, b.data, b.len, &o, &e), 0);
	hostproof_stats(v, &st);
	assert_int_equal(st.chain_verifies, 6);
	hostproof_verifier_set_time(v, 0);
	assert_int_equal(hostproof_open(v, sh.data, sh.len, &o, &e), 0);
	hostproof_stats(v, &st);
	assert_int_equal(st.refused[HOSTPROOF_SIGNATURE], 1);
	assert_int_equal(st.refused[HOSTPROOF_CHAIN], 1);
	assert_int_equal(st.opened, 10);
	wbuf_free(&ec);
	wbuf_free(&b);
	wbuf_free(&c);
	wbuf_free(&sh);
	hostproof_verifier_close(v);
}

/* Hand-made envelopes: the reason and where. A valid certificate and
 * signature are spliced in where a case needs them (@C, @S; @M the
 * message "m"). */
static void
test_malformed(void **state)
{
	static const struct {
		const char *name, *hex, *want;
	} cases[] = {
	    {"empty", "", "envelope at byte 0: truncated"},
	    {"array", "90", "expected map, got array"},
	    {"nil", "c0", "expected map, got nil"},
	    {"empty map", "80", "no key t"},
	    {"map count over the bytes", "8f", "map of 15 entries exceeds"},
	    {"int key", "8101c0", "map key is int, not str"},
	    {"t wrong", "81a174a6736561786564", "t is \"seaxed\", not"},
	    {"t int", "81a17401", "envelope key t at byte 3: expected str"},
	    {"v 2", "81a17602", "version 2, not 1"},
	    {"v negative", "81a176ff", "negative integer -1"},
	    {"cert str", "81a463657274a3616263", "expected bin, got str"},
	    {"cert empty", "81a463657274c400", "0 bytes, not 1 to 16384"},
	    {"cert over the bytes left", "81a463657274c5400161",
	     "bin of 16385 bytes exceeds the 1 bytes left"},
	    {"sig empty", "81a3736967c400", "0 bytes, not 1 to 1024"},
	    {"duplicate t", "82a174a67365616c6564a174a67365616c6564",
	     "envelope key t at byte 12: duplicate key"},
	    {"no msg", "84a174a67365616c6564a17601a463657274@Ca3736967@S",
	     "no key msg"},
	    {"no sig", "84a174a67365616c6564a17601a463657274@Ca36d7367@M",
	     "no key sig"},
	    {"trailing byte",
	     "85a174a67365616c6564a17601a463657274@Ca3736967@Sa36d7367@Mc0",
	     "1 trailing bytes"},
	    {"unknown nested too deep",
	     "86a178919191c0a174a67365616c6564a17601a463657274@Ca3736967@"
	     "Sa36d7367@M",
	     "nested deeper than the schema allows"},
	};
	struct hostproof_verifier *v = verifier(0);
	struct hostproof_opened o;
	struct hostproof_err e;
	struct wbuf env = {0}, in = {0}, big = {0};
	struct spans sp;
	struct mpw w;
	const char *h;
	unsigned x;
	size_t i;

	seal("ec", "m", &env);
	spans(&env, &sp);
	for (i = 0; i < NELEM(cases); i++) {
		wbuf_reset(&in);
		mpw_init(&w, &in);
		for (h = cases[i].hex; *h != '\0';) {
			if (*h == '@') {
				if (h[1] == 'C')
					mpw_bin(&w, env.data + sp.cert,
					        sp.certlen);
				else if (h[1] == 'S')
					mpw_bin(&w, env.data + sp.sig,
					        sp.siglen);
				else
					mpw_bin(&w, "m", 1);
				h += 2;
				continue;
			}
			assert_int_equal(sscanf(h, "%2x", &x), 1);
			*(char *)wbuf_room(&in, 1) = (char)x;
			h += 2;
		}
		if (hostproof_open(v, in.data, in.len, &o, &e) != -1 ||
		    e.reason != HOSTPROOF_MALFORMED ||
		    strstr(e.msg, cases[i].want) == NULL)
			fail_msg("%s: want \"%s\", got %s \"%s\"",
			         cases[i].name, cases[i].want,
			         hostproof_reason_name(e.reason), e.msg);
		if (strncmp(e.msg, "malformed envelope: envelope ", 29) != 0)
			fail_msg("%s: %s", cases[i].name, e.msg);
	}
	/* a certificate over 16 KiB, a signature over 1 KiB */
	wbuf_reset(&in);
	wbuf_room(&in, HOSTPROOF_CERT_MAX + 1);
	memset(in.data, 0x30, in.len);
	mix(&big, in.data, in.len, env.data + sp.sig, sp.siglen, "m");
	refused(v, big.data, big.len, HOSTPROOF_MALFORMED,
	        "envelope key cert at byte 16406: 16385 bytes, not 1 to "
	        "16384");
	mix(&big, env.data + sp.cert, sp.certlen, in.data,
	    HOSTPROOF_SIG_MAX + 1, "m");
	refused(v, big.data, big.len, HOSTPROOF_MALFORMED,
	        "1025 bytes, not 1 to 1024");
	/* an unknown key, before or after: ignored (SPEC §3) */
	wbuf_reset(&in);
	mpw_init(&w, &in);
	mpw_map(&w, 6);
	mpw_str(&w, "x");
	mpw_array(&w, 1);
	mpw_str(&w, "y");
	wbuf_append(&in, env.data + 1, env.len - 1);
	assert_int_equal(hostproof_open(v, in.data, in.len, &o, &e), 0);
	assert_int_equal(o.len, 1);
	wbuf_free(&env);
	wbuf_free(&in);
	wbuf_free(&big);
	hostproof_verifier_close(v);
}

/* Every cut of an envelope, random bytes, random changes to a good
 * envelope: refused, never a crash; a change that opens changed nothing
 * that is signed. */
static void
test_cut_and_garbage(void **state)
{
	struct hostproof_verifier *v = verifier(4);
	struct hostproof_opened o;
	struct hostproof_err e;
	struct hostproof_stats st;
	struct wbuf env = {0}, g = {0};
	unsigned seed = 42;
	size_t i, j, n;

	seal("ed", "the inner message", &env);
	for (i = 0; i < env.len; i++)
		refused(v, env.data, i, HOSTPROOF_MALFORMED, "envelope");
	assert_int_equal(hostproof_open(v, NULL, 0, &o, &e), -1);
	assert_int_equal(e.reason, HOSTPROOF_MALFORMED);
	for (i = 0; i < 5000; i++) {
		n = (size_t)rand_r(&seed) % 600;
		wbuf_reset(&g);
		wbuf_room(&g, n);
		for (j = 0; j < n; j++)
			g.data[j] = (char)rand_r(&seed);
		/* half of them look like a map of the right keys at first */
		if (i % 2 == 0 && n > 12)
			memcpy(g.data, env.data, 12);
		assert_int_equal(hostproof_open(v, g.data, g.len, &o, &e), -1);
		assert_int_not_equal(e.reason, HOSTPROOF_OK);
		for (j = 0; e.msg[j] != '\0'; j++)
			assert_true(e.msg[j] >= 0x20 && e.msg[j] < 0x7f);
	}
	for (i = 0; i < 3000; i++) {
		wbuf_reset(&g);
		wbuf_append(&g, env.data, env.len);
		for (j = 0; j < 1 + i % 3; j++)
			g.data[(size_t)rand_r(&seed) % g.len] ^=
			    (char)(1 + rand_r(&seed) % 255);
		if (hostproof_open(v, g.data, g.len, &o, &e) == 0)
			assert_memory_equal(o.msg, "the inner message", 17);
	}
	hostproof_stats(v, &st);
	assert_true(st.refused[HOSTPROOF_MALFORMED] > 5000);
	wbuf_free(&env);
	wbuf_free(&g);
	hostproof_verifier_close(v);
}

/* Opening a signer or a verifier says which file is wrong. */
static void
test_open_errors(void **state)
{
	char ec[128], eckey[128], edkey[128], enc[128], bad[128], empty[128];
	char err[HOSTPROOF_ERR_LEN], want[512];
	EVP_PKEY *k = testca_key(TESTCA_EC);
	FILE *f;

	path(ec, sizeof(ec), "ec", "pem");
	path(eckey, sizeof(eckey), "ec", "key");
	path(edkey, sizeof(edkey), "ed", "key");
	path(enc, sizeof(enc), "encrypted", "key");
	path(bad, sizeof(bad), "garbage", "pem");
	path(empty, sizeof(empty), "empty", "pem");
	f = fopen(enc, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, EVP_aes_128_cbc(),
	                                      (unsigned char *)"pw", 2, NULL,
	                                      NULL),
	                 1);
	fclose(f);
	EVP_PKEY_free(k);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
	      "-----END CERTIFICATE-----\n",
	      f);
	fclose(f);
	f = fopen(empty, "w");
	assert_non_null(f);
	fclose(f);

	assert_null(hostproof_signer_open("/nonexistent/c.pem", eckey, err));
	assert_string_equal(err, "unable to read certificate "
	                         "/nonexistent/c.pem: No such file or "
	                         "directory");
	assert_null(hostproof_signer_open(ec, "/nonexistent/k", err));
	assert_string_equal(err, "unable to read private key /nonexistent/k: "
	                         "No such file or directory");
	snprintf(want, sizeof(want),
	         "private key %s does not match certificate %s: one of the "
	         "two files is wrong",
	         edkey, ec);
	assert_null(hostproof_signer_open(ec, edkey, err));
	assert_string_equal(err, want);
	/* the two swapped */
	snprintf(want, sizeof(want),
	         "unable to read certificate %s: no PEM certificate in it",
	         eckey);
	assert_null(hostproof_signer_open(eckey, ec, err));
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want),
	         "unable to read private key %s: no PEM private key in it", ec);
	assert_null(hostproof_signer_open(ec, ec, err));
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want),
	         "unable to use private key %s: it is "
	         "encrypted",
	         enc);
	assert_null(hostproof_signer_open(ec, enc, err));
	assert_non_null(strstr(err, want));

	/* a key the store would refuse: RSA of 1024 bits */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	assert_non_null(k);
	testca_write_key(enc, k);
	EVP_PKEY_free(k);
	snprintf(want, sizeof(want),
	         "unable to use private key %s: 80 bits of security, under "
	         "the 112 the store takes",
	         enc);
	assert_null(hostproof_signer_open(ec, enc, err));
	assert_string_equal(err, want);

	assert_null(hostproof_verifier_open("/nonexistent/ca.pem", 0, err));
	assert_string_equal(err, "unable to read CA bundle "
	                         "/nonexistent/ca.pem: No such file or "
	                         "directory");
	snprintf(want, sizeof(want), "unable to read CA bundle %s: ", empty);
	assert_null(hostproof_verifier_open(empty, 0, err));
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "after 0 certificates"));
	assert_null(hostproof_verifier_open(bad, 0, err));
	assert_non_null(strstr(err, "after 0 certificates"));
	assert_null(hostproof_verifier_open(eckey, 0, err));
	assert_non_null(strstr(err, "after 0 certificates"));
}

static void
test_reason_names(void **state)
{
	assert_string_equal(hostproof_reason_name(HOSTPROOF_OK), "ok");
	assert_string_equal(hostproof_reason_name(HOSTPROOF_MALFORMED),
	                    "malformed");
	assert_string_equal(hostproof_reason_name(HOSTPROOF_CERT), "cert");
	assert_string_equal(hostproof_reason_name(HOSTPROOF_CHAIN), "chain");
	assert_string_equal(hostproof_reason_name(HOSTPROOF_SIGNATURE),
	                    "signature");
	assert_string_equal(hostproof_reason_name(HOSTPROOF_NAME), "name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_types),
	    cmocka_unit_test(test_large_message),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_chain),
	    cmocka_unit_test(test_intermediate),
	    cmocka_unit_test(test_key_refused),
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_other_key),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_cut_and_garbage),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
