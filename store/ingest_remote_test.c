/*
 * ingest_remote_test.c: the store's remote ingest (ingest_remote.c): a
 * sealed snapshot or delta of the host the certificate names applies;
 * another host's, a bare message, another type, a broken seal, another
 * CA's certificate are refused, counted by reason, and change nothing.
 * Certificates are made with libcrypto (tests/tools/testca.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "hostproof.h"
#include "ingest.h"
#include "store.h"
#include "testca.h"
#include "testfx.h"
#include "util.h"
#include "wire.h"

struct fx {
	char dir[64];
	struct db *db;
	struct store st;
	struct testca_host a, evil; /* hostA; hostA of another CA */
	struct hostproof_verifier *v;
	struct hostproof_signer *sa, *se;
	uint64_t published;
};

static void
count_pub(void *arg, const void *msg, size_t len)
{
	struct fx *fx = arg;

	(void)msg;
	(void)len;
	fx->published++;
}

static struct hostproof_signer *
signer(const struct testca_host *h)
{
	char err[HOSTPROOF_ERR_LEN];
	struct hostproof_signer *s =
	    hostproof_signer_open(h->cert, h->key, err);

	if (s == NULL)
		fail_msg("%s", err);
	return s;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[HOSTPROOF_ERR_LEN], sub[128];

	assert_non_null(fx);
	testfx_mkdtemp(fx->dir, sizeof(fx->dir), "remote");
	fx->db = testfx_db_open(fx->dir, 1 << 20, 1 << 26, 1000);
	assert_int_equal(store_init(&fx->st, fx->db, "tinyforge.", -1), 0);
	db_set_publish(fx->db, count_pub, fx);
	testfx_workload(fx->db, "w", "stack");
	/* hostA of one CA, an impostor hostA of another */
	snprintf(sub, sizeof(sub), "%s/ca1", fx->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	testca_make_host(sub, "hostA", TESTCA_EC, &fx->a);
	snprintf(sub, sizeof(sub), "%s/ca2", fx->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	testca_make_host(sub, "hostA", TESTCA_EC, &fx->evil);
	fx->v = hostproof_verifier_open(fx->a.ca, 0, err);
	assert_non_null(fx->v);
	fx->sa = signer(&fx->a);
	fx->se = signer(&fx->evil);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char path[160];

	hostproof_signer_close(fx->sa);
	hostproof_signer_close(fx->se);
	hostproof_verifier_close(fx->v);
	store_fini(&fx->st);
	db_close(fx->db);
	/* the certificates first: testfx_rmdir takes LMDB's files */
	snprintf(path, sizeof(path), "rm -rf %s/ca1 %s/ca2", fx->dir, fx->dir);
	assert_int_equal(system(path), 0);
	testfx_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* A snapshot (or delta) of host with n containers of workload w. */
static void
encode(struct wbuf *b, const char *t, const char *host, uint64_t gen, size_t n)
{
	static struct wire_kv labels[] = {
	    {"tinyforge.workload.id", "w"},
	};
	struct wire_container cs[4];
	struct wire_snapshot s;
	struct wire_delta d;
	char ids[4][65];
	size_t i;

	memset(cs, 0, sizeof(cs));
	for (i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%.5s%059zu", host, i);
		cs[i].id = ids[i];
		cs[i].image = "busybox";
		cs[i].state = "running";
		cs[i].created = 1700000000 + (int64_t)i;
		cs[i].labels = labels;
		cs[i].nlabels = 1;
	}
	wbuf_reset(b);
	if (strcmp(t, "snapshot") == 0) {
		memset(&s, 0, sizeof(s));
		s.host = (char *)host;
		s.gen = gen;
		s.taken_at = 1700000000000;
		s.complete = true;
		s.containers = cs;
		s.ncontainers = n;
		assert_int_equal(wire_encode_snapshot(b, &s), 0);
	} else {
		memset(&d, 0, sizeof(d));
		d.host = (char *)host;
		d.gen = gen;
		d.containers = cs;
		d.ncontainers = n;
		assert_int_equal(wire_encode_delta(b, &d), 0);
	}
}

static void
seal(struct hostproof_signer *s, const struct wbuf *in, struct wbuf *out)
{
	wbuf_reset(out);
	assert_int_equal(hostproof_seal(s, in->data, in->len, out), 0);
}

static int
take(struct fx *fx, const struct wbuf *b)
{
	return ingest_sealed(&fx->st, fx->v, b->data, b->len, "10.0.0.9");
}

/* The counters a refusal must leave as they were, and those it moves. */
struct snap {
	uint64_t snapshots, deltas, forbidden, published;
	uint64_t why[4];
};

static struct snap
counters(struct fx *fx)
{
	struct snap s = {
	    fx->st.ctr[STC_SNAPSHOTS],
	    fx->st.ctr[STC_DELTAS],
	    fx->st.ctr[STC_INGEST_FORBIDDEN],
	    fx->published,
	    {fx->st.ctr[STC_REMOTE_UNSEALED], fx->st.ctr[STC_REMOTE_SEAL],
	     fx->st.ctr[STC_REMOTE_HOST], fx->st.ctr[STC_REMOTE_TYPE]},
	};
	return s;
}

/* b was refused for why (a STC_REMOTE_*), changing nothing else. */
static void
refused(struct fx *fx, const struct wbuf *b, enum store_ctr why)
{
	struct snap before = counters(fx), after;
	int i;

	assert_int_equal(take(fx, b), 0);
	after = counters(fx);
	assert_int_equal(after.snapshots, before.snapshots);
	assert_int_equal(after.deltas, before.deltas);
	assert_int_equal(after.published, before.published);
	assert_int_equal(after.forbidden, before.forbidden + 1);
	for (i = 0; i < 4; i++)
		assert_int_equal(after.why[i],
		                 before.why[i] +
		                     (i == (int)(why - STC_REMOTE_UNSEALED)));
}

static void
test_own_host_applies(void **state)
{
	struct fx *fx = *state;
	struct wbuf in = {0}, env = {0};

	encode(&in, "snapshot", "hostA", 10, 3);
	seal(fx->sa, &in, &env);
	assert_int_equal(take(fx, &env), 0);
	assert_int_equal(fx->st.ctr[STC_SNAPSHOTS], 1);
	assert_int_equal(fx->st.ctr[STC_INGEST_FORBIDDEN], 0);
	assert_true(fx->published >= 3);
	/* a delta of the same host */
	encode(&in, "delta", "hostA", 10, 1);
	seal(fx->sa, &in, &env);
	assert_int_equal(take(fx, &env), 0);
	assert_int_equal(fx->st.ctr[STC_DELTAS], 1);
	/* the name in another case is another host, which hostA's
	 * certificate does not prove */
	encode(&in, "delta", "HOSTA", 10, 1);
	seal(fx->sa, &in, &env);
	refused(fx, &env, STC_REMOTE_HOST);
	wbuf_free(&in);
	wbuf_free(&env);
}

static void
test_refusals(void **state)
{
	struct fx *fx = *state;
	struct wbuf in = {0}, env = {0};
	struct wire_plugin_result pr;

	/* hostA's rows first: what follows must leave them */
	encode(&in, "snapshot", "hostA", 10, 2);
	seal(fx->sa, &in, &env);
	assert_int_equal(take(fx, &env), 0);
	/* hostA's certificate claiming hostB, or an empty hostA list
	 * sealed by hostA of another CA: neither sweeps a row */
	encode(&in, "snapshot", "hostB", 11, 1);
	seal(fx->sa, &in, &env);
	refused(fx, &env, STC_REMOTE_HOST);
	encode(&in, "delta", "hostB", 11, 1);
	seal(fx->sa, &in, &env);
	refused(fx, &env, STC_REMOTE_HOST);
	encode(&in, "snapshot", "hostA", 12, 0);
	seal(fx->se, &in, &env);
	refused(fx, &env, STC_REMOTE_SEAL);
	/* a bare snapshot: no proof */
	refused(fx, &in, STC_REMOTE_UNSEALED);
	/* a broken signature */
	encode(&in, "snapshot", "hostA", 12, 0);
	seal(fx->sa, &in, &env);
	/* the signature's last bytes lie before "msg" and its bin header */
	env.data[env.len - in.len - 8] ^= 0x40;
	refused(fx, &env, STC_REMOTE_SEAL);
	/* garbage */
	refused(fx, &(struct wbuf){(char *)"\x81\xa1t", 3, 3}, STC_REMOTE_SEAL);
	/* a plugin result, sealed and genuine: the dispatcher's, local */
	memset(&pr, 0, sizeof(pr));
	pr.workload_id = "w";
	pr.reason = "pass";
	pr.ok = true;
	pr.error = "";
	wbuf_reset(&in);
	assert_int_equal(wire_encode_plugin_result(&in, &pr), 0);
	seal(fx->sa, &in, &env);
	refused(fx, &env, STC_REMOTE_TYPE);
	assert_int_equal(fx->st.ctr[STC_PLUGIN_RESULTS], 0);
	/* no verifier (no --tls-ca): nothing opens */
	encode(&in, "snapshot", "hostA", 13, 0);
	seal(fx->sa, &in, &env);
	hostproof_verifier_close(fx->v);
	fx->v = NULL;
	refused(fx, &env, STC_REMOTE_SEAL);
	assert_int_equal(fx->st.ctr[STC_ROWS_MISSING], 0);
	assert_int_equal(fx->st.ctr[STC_SNAPSHOTS], 1);
	wbuf_free(&in);
	wbuf_free(&env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_own_host_applies, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
