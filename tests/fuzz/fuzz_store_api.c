/*
 * fuzz_store_api.c: the store's request handler and its ingest against a
 * real LMDB in a temp dir, as root (so writes run): every request gets a
 * whole reply, and no input breaks an invariant of the store (db.c and
 * the rules abort on those).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "db.h"
#include "log.h"
#include "ingest.h"
#include "results.h"
#include "store.h"

static struct store st;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/fuzz_store_api.XXXXXX";
	struct db_config cfg;
	struct db *db;

	log_init("fuzz_store_api", "text", 0);
	if (mkdtemp(dir) == NULL)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.map_size = 64 << 20;
	cfg.max_map_size = 1ULL << 30;
	cfg.retain = 1000;
	if ((db = db_open(&cfg)) == NULL ||
	    store_init(&st, db, "tinyforge.", -1) == -1)
		abort();
	fprintf(stderr, "fuzz_store_api: database in %s\n", dir);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbuf reply = {0};
	struct arena *a;
	char *code, *msg, err[WIRE_ERR_LEN];
	bool ok;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		(void)ingest_message(&st, data + 1, size - 1, 0);
		return 0;
	}
	if (api_handle(&st, data + 1, size - 1, 0, &reply) != 0)
		abort(); /* not even an error reply: our bug */
	a = arena_new();
	if (wire_decode_reply_status(reply.data, reply.len, a, &ok, &code, &msg,
	                             err) != 0) {
		fprintf(stderr, "a reply that is not a reply: %s\n", err);
		abort();
	}
	arena_free(a);
	wbuf_free(&reply);
	return 0;
}
