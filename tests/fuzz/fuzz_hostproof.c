/*
 * fuzz_hostproof.c: the host proof's verifier (common/hostproof*.c) on
 * arbitrary bytes, against a CA and a host certificate made once here
 * with libcrypto. The first byte picks: the rest as an envelope; the rest
 * as a message sealed and opened (it opens to the same bytes and proves
 * the host); or a good envelope with the rest XORed over it at the offset
 * its first two bytes give (whatever still opens carries the message that
 * was sealed: no change to a sealed envelope may forge one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostproof.h"
#include "testca.h"

#define HOST "fuzz-host"
#define INNER                                                                  \
	"\x83\xa1t\xa5"                                                        \
	"delta\xa4host\xa9" HOST "\xa3gen\x07"

static struct hostproof_signer *signer;
static struct hostproof_verifier *verifier;
static struct wbuf sealed; /* INNER sealed */

static void
init(void)
{
	char dir[] = "/tmp/fuzz_hostproof.XXXXXX", err[HOSTPROOF_ERR_LEN];
	struct testca_host h;

	if (mkdtemp(dir) == NULL)
		abort();
	testca_make_host(dir, HOST, TESTCA_EC, &h);
	signer = hostproof_signer_open(h.cert, h.key, err);
	verifier = hostproof_verifier_open(h.ca, 8, err);
	if (signer == NULL || verifier == NULL) {
		fprintf(stderr, "fuzz_hostproof: %s\n", err);
		abort();
	}
	if (hostproof_seal(signer, INNER, sizeof(INNER) - 1, &sealed) != 0)
		abort();
	unlink(h.ca);
	unlink(h.cert);
	unlink(h.key);
	rmdir(dir);
}

static void
check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_hostproof: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostproof_opened o;
	struct hostproof_err e;
	struct wbuf b = {0};
	size_t off, i;

	if (signer == NULL)
		init();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (hostproof_open(verifier, data + 1, size - 1, &o, &e) == 0)
			(void)hostproof_check_host(verifier, &o, HOST, &e);
		else
			check(e.reason != HOSTPROOF_OK && e.msg[0] != '\0',
			      "a refusal with no reason");
		break;
	case 1:
		check(hostproof_seal(signer, data + 1, size - 1, &b) == 0,
		      "seal");
		check(hostproof_open(verifier, b.data, b.len, &o, &e) == 0,
		      e.msg);
		check(o.len == size - 1 &&
		          (o.len == 0 || memcmp(o.msg, data + 1, o.len) == 0),
		      "opened to other bytes");
		check(hostproof_check_host(verifier, &o, HOST, &e) == 0, e.msg);
		break;
	case 2:
		if (size < 3)
			break;
		wbuf_append(&b, sealed.data, sealed.len);
		off = ((size_t)data[1] << 8 | data[2]) % b.len;
		for (i = 3; i < size && off < b.len; i++, off++)
			b.data[off] ^= (char)data[i];
		if (hostproof_open(verifier, b.data, b.len, &o, &e) == 0)
			check(o.len == sizeof(INNER) - 1 &&
			          memcmp(o.msg, INNER, o.len) == 0 &&
			          hostproof_names_host(&o, HOST),
			      "a changed envelope opened to other bytes");
		break;
	}
	wbuf_free(&b);
	return 0;
}
