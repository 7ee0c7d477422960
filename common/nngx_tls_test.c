/*
 * nngx_tls_test.c: the network addresses of SPEC §10 (nngx_tls.c): which
 * schemes need what, the TLS files' refusals, and mutual TLS over
 * loopback: a REQ/REP exchange with certificates of the CA, none with a
 * certificate of another CA (nng counts the refused handshake).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "nngx.h"
#include "testca.h"
#include "testfx.h"

static char dir[64];

/* dir/NAME.pem and dir/NAME.key signed by ca (its key cakey). */
static void
issue(const char *name, const char *cn, X509 *ca, EVP_PKEY *cakey)
{
	struct testca_opts o = {
	    .cn = cn, .dns = {cn}, .eku = "serverAuth,clientAuth"};
	EVP_PKEY *key = testca_key(TESTCA_EC);
	X509 *cert = testca_cert(&o, key, ca, cakey);
	char path[128];

	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	testca_write_certs(path, &cert, 1);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	testca_write_key(path, key);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static int
setup(void **state)
{
	struct testca_opts co = {.cn = "test CA", .ca = true};
	EVP_PKEY *k1 = testca_key(TESTCA_EC), *k2 = testca_key(TESTCA_EC);
	X509 *ca1 = testca_cert(&co, k1, NULL, NULL);
	X509 *ca2 = testca_cert(&co, k2, NULL, NULL);
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/nngx_tls_test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	testca_write_certs(path, &ca1, 1);
	snprintf(path, sizeof(path), "%s/ca2.pem", dir);
	testca_write_certs(path, &ca2, 1);
	/* mbedTLS 2.28 matches the server name against DNS SANs only */
	issue("server", "127.0.0.1", ca1, k1);
	issue("client", "hostA", ca1, k1);
	issue("other", "hostA", ca2, k2);
	X509_free(ca1);
	X509_free(ca2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const char *
f(const char *name)
{
	static char bufs[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return bufs[i];
}

static void
schemes(void **state)
{
	static const struct {
		const char *url;
		enum nngx_scheme want;
	} cases[] = {
	    {"ipc:///run/recon/ingest", NNGX_LOCAL},
	    {"inproc://x", NNGX_LOCAL},
	    {"tls+tcp://store:7450", NNGX_TLS},
	    {"tls+tcp6://[::1]:7450", NNGX_TLS},
	    {"wss://store/x", NNGX_TLS},
	    {"tcp://store:7450", NNGX_PLAIN},
	    {"tcp4://1.2.3.4:7450", NNGX_PLAIN},
	    {"ws://store/x", NNGX_PLAIN},
	    {"tls+tcpx://odd", NNGX_PLAIN},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(nngx_scheme(cases[i].url), cases[i].want);
}

/* Which addresses may be used, and what the refusals say. */
static void
url_checks(void **state)
{
	struct nngx_tls t;
	char err[512];

	memset(&t, 0, sizeof(t));
	assert_int_equal(
	    nngx_url_check("ipc:///x", NULL, false, err, sizeof(err)), 0);
	assert_int_equal(
	    nngx_url_check("tcp://h:1", &t, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--insecure-tcp"));
	assert_int_equal(
	    nngx_url_check("tcp://h:1", NULL, true, err, sizeof(err)), 0);
	assert_int_equal(
	    nngx_url_check("tls+tcp://h:1", &t, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--tls-cert, --tls-key and --tls-ca"));
	assert_int_equal(nngx_tls_load(&t, f("client.pem"), f("client.key"),
	                               f("ca.pem"), err, sizeof(err)),
	                 0);
	assert_true(t.loaded);
	assert_int_equal(
	    nngx_url_check("tls+tcp://h:1", &t, false, err, sizeof(err)), 0);
	nngx_tls_free(&t);
}

/* The files: all or none; each refusal names the flag or the file. */
static void
loads(void **state)
{
	struct nngx_tls t;
	char err[512];

	assert_int_equal(nngx_tls_load(&t, NULL, "", NULL, err, sizeof(err)),
	                 0);
	assert_false(t.loaded);
	assert_int_equal(
	    nngx_tls_load(&t, f("client.pem"), NULL, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "missing --tls-key --tls-ca"));
	assert_int_equal(nngx_tls_load(&t, f("client.pem"), f("nosuch.key"),
	                               f("ca.pem"), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "--tls-key"));
	assert_non_null(strstr(err, "nosuch.key"));
	assert_int_equal(nngx_tls_load(&t, f("client.key"), f("client.key"),
	                               f("ca.pem"), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "--tls-cert"));
	assert_int_equal(nngx_tls_load(&t, f("client.pem"), f("client.key"),
	                               f("client.key"), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "--tls-ca"));
	assert_false(t.loaded);
}

/* One request from a client with cert/key/ca to the server: 0 answered,
 * else nng's error; *auth the dialer's refused handshakes. */
static int
exchange(const char *url, const char *cert, const char *key, const char *ca,
         uint64_t *auth)
{
	struct nngx_tls t;
	struct nngx_ep_errors e;
	nng_socket s;
	nng_dialer d;
	char err[512], *buf = NULL;
	size_t len;
	int rv;

	assert_int_equal(
	    nngx_tls_load(&t, f(cert), f(key), f(ca), err, sizeof(err)), 0);
	assert_int_equal(nng_req0_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 1500);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 1500);
	assert_int_equal(nngx_dial_ep(s, url, &t, NNG_FLAG_NONBLOCK, &d), 0);
	if ((rv = nng_send(s, "ping", 5, 0)) == 0 &&
	    (rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC)) == 0) {
		assert_string_equal(buf, "pong");
		nng_free(buf, len);
	}
	*auth =
	    nngx_ep_errors("dialer", nng_dialer_id(d), &e) == 0 ? e.auth : 0;
	nng_close(s);
	nngx_tls_free(&t);
	return rv;
}

static void *
server_main(void *arg)
{
	nng_socket *s = arg;
	char *buf;
	size_t len;

	while (nng_recv(*s, &buf, &len, NNG_FLAG_ALLOC) == 0) {
		nng_free(buf, len);
		if (nng_send(*s, "pong", 5, 0) != 0)
			break;
	}
	return NULL;
}

static void
mutual_tls(void **state)
{
	struct nngx_tls t;
	struct nngx_ep_errors e;
	nng_socket s;
	nng_listener l;
	pthread_t thr;
	char url[64], err[512];
	uint64_t auth;

	snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%d",
	         testfx_free_port());
	assert_int_equal(nngx_tls_load(&t, f("server.pem"), f("server.key"),
	                               f("ca.pem"), err, sizeof(err)),
	                 0);
	assert_int_equal(nng_rep0_open(&s), 0);
	assert_int_equal(nng_listener_create(&l, s, url), 0);
	assert_int_equal(nngx_tls_listener(l, url, &t), 0);
	assert_int_equal(nng_listener_start(l, 0), 0);
	assert_int_equal(pthread_create(&thr, NULL, server_main, &s), 0);
	/* a certificate of the CA, verifying the server's against it */
	assert_int_equal(
	    exchange(url, "client.pem", "client.key", "ca.pem", &auth), 0);
	/* another CA's certificate: the server refuses the handshake, and
	 * this client would refuse the server's too */
	assert_int_not_equal(
	    exchange(url, "other.pem", "other.key", "ca2.pem", &auth), 0);
	assert_true(auth > 0);
	/* our certificate is good but we trust another CA: we refuse */
	assert_int_not_equal(
	    exchange(url, "client.pem", "client.key", "ca2.pem", &auth), 0);
	assert_true(auth > 0);
	assert_int_equal(nngx_ep_errors("listener", nng_listener_id(l), &e), 0);
	assert_true(e.auth > 0);
	nng_close(s);
	pthread_join(thr, NULL);
	nngx_tls_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(schemes),
	    cmocka_unit_test(url_checks),
	    cmocka_unit_test(loads),
	    cmocka_unit_test(mutual_tls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
