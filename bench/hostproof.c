/*
 * hostproof.c: the cost of the host proof (common/hostproof.c): sealing a
 * message, opening it with its certificate in the verifier's cache (a
 * signature check) and not (the chain verified too), for each key type and
 * a few message sizes, beside a bare SHA-256 of the message. CPU time of
 * this thread per operation, so that a loaded machine inflates it little.
 * usage: bench_hostproof [SECONDS]   (per measure; one TSV line each)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bench.h"
#include "hostproof.h"
#include "testca.h"

static double secs = 0.5;

struct fix {
	struct hostproof_signer *s[2];         /* two hosts of one CA */
	struct hostproof_verifier *hit, *miss; /* cache of 1024, of 1 */
};

static void
fix_open(const char *dir, enum testca_keytype type, struct fix *f)
{
	struct testca_opts cao = {.cn = "bench CA", .ca = true};
	struct testca_opts ho = {.eku = "clientAuth"};
	char ca[256], cert[256], key[256], err[HOSTPROOF_ERR_LEN];
	EVP_PKEY *cakey = testca_key(TESTCA_EC), *k;
	X509 *cacert = testca_cert(&cao, cakey, NULL, NULL), *c;
	int i;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	testca_write_certs(ca, &cacert, 1);
	for (i = 0; i < 2; i++) {
		ho.cn = i == 0 ? "bench-a" : "bench-b";
		ho.dns[0] = ho.cn;
		k = testca_key(type);
		c = testca_cert(&ho, k, cacert, cakey);
		snprintf(cert, sizeof(cert), "%s/%d.pem", dir, i);
		snprintf(key, sizeof(key), "%s/%d.key", dir, i);
		testca_write_certs(cert, &c, 1);
		testca_write_key(key, k);
		if ((f->s[i] = hostproof_signer_open(cert, key, err)) == NULL) {
			fprintf(stderr, "bench_hostproof: %s\n", err);
			exit(1);
		}
		X509_free(c);
		EVP_PKEY_free(k);
	}
	f->hit = hostproof_verifier_open(ca, 0, err);
	f->miss = hostproof_verifier_open(ca, 1, err);
	if (f->hit == NULL || f->miss == NULL) {
		fprintf(stderr, "bench_hostproof: %s\n", err);
		exit(1);
	}
	X509_free(cacert);
	EVP_PKEY_free(cakey);
}

static void
fix_close(struct fix *f)
{
	hostproof_signer_close(f->s[0]);
	hostproof_signer_close(f->s[1]);
	hostproof_verifier_close(f->hit);
	hostproof_verifier_close(f->miss);
}

enum op { OP_SEAL, OP_OPEN_HIT, OP_OPEN_MISS, OP_SHA256 };

/* us of CPU per operation, run for secs. */
static double
measure(struct fix *f, enum op op, const char *msg, size_t len)
{
	struct wbuf env[2] = {{0}, {0}}, out = {0};
	struct hostproof_opened o;
	struct hostproof_err e;
	unsigned char md[EVP_MAX_MD_SIZE];
	int64_t t0, t;
	uint64_t n = 0;
	int i;

	for (i = 0; i < 2; i++)
		if (hostproof_seal(f->s[i], msg, len, &env[i]) != 0)
			exit(1);
	t0 = bench_thread_cpu_us();
	do {
		for (i = 0; i < 16; i++, n++) {
			switch (op) {
			case OP_SEAL:
				wbuf_reset(&out);
				if (hostproof_seal(f->s[0], msg, len, &out))
					exit(1);
				break;
			case OP_OPEN_HIT:
				if (hostproof_open(f->hit, env[0].data,
				                   env[0].len, &o, &e) != 0)
					goto fail;
				break;
			case OP_OPEN_MISS: /* two certificates, a cache of one
			                    */
				if (hostproof_open(f->miss, env[n & 1].data,
				                   env[n & 1].len, &o, &e) != 0)
					goto fail;
				break;
			case OP_SHA256:
				EVP_Digest(msg, len, md, NULL, EVP_sha256(),
				           NULL);
				break;
			}
		}
		t = bench_thread_cpu_us() - t0;
	} while (t < secs * 1e6);
	wbuf_free(&env[0]);
	wbuf_free(&env[1]);
	wbuf_free(&out);
	return (double)t / (double)n;
fail:
	fprintf(stderr, "bench_hostproof: %s\n", e.msg);
	exit(1);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum testca_keytype type;
	} keys[] = {{"ec-p256", TESTCA_EC},
	            {"ed25519", TESTCA_ED25519},
	            {"rsa-2048", TESTCA_RSA}};
	static const size_t sizes[] = {256, 64 << 10, 1 << 20};
	static const char *const ops[] = {"seal", "open_cache_hit",
	                                  "open_cache_miss", "sha256"};
	char dir[] = "/tmp/bench_hostproof.XXXXXX", cmd[64];
	struct hostproof_stats st;
	struct wbuf env = {0};
	struct fix f;
	size_t k, s;
	char *msg;
	int op;

	if (argc > 1)
		secs = atof(argv[1]);
	if (mkdtemp(dir) == NULL)
		return 1;
	msg = malloc(sizes[2]);
	memset(msg, 'x', sizes[2]);
	printf("measure\tkey\tmsg_bytes\tus_cpu_per_op\n");
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		fix_open(dir, keys[k].type, &f);
		hostproof_seal(f.s[0], "", 0, &env);
		printf("envelope_overhead_bytes\t%s\t0\t%zu\n", keys[k].name,
		       env.len);
		wbuf_reset(&env);
		for (s = 0; s < 3; s++) {
			/* the other key types at the smallest size only */
			if (k > 0 && s > 0)
				break;
			for (op = OP_SEAL; op <= OP_SHA256; op++)
				printf("%s\t%s\t%zu\t%.1f\n", ops[op],
				       keys[k].name, sizes[s],
				       measure(&f, op, msg, sizes[s]));
			fflush(stdout);
		}
		hostproof_stats(f.miss, &st);
		fprintf(stderr,
		        "%s: cache of 1: %llu chain verifies for %llu "
		        "opened\n",
		        keys[k].name, (unsigned long long)st.chain_verifies,
		        (unsigned long long)st.opened);
		fix_close(&f);
	}
	wbuf_free(&env);
	free(msg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
