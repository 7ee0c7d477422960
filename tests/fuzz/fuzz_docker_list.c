/*
 * fuzz_docker_list.c: the lister's scanner of Docker's container list
 * (lister/listscan.c) and the JSON grammar under it (lister/jscan.c), on
 * arbitrary bodies.
 */
#include <stdint.h>
#include <stdlib.h>

#include "jscan.h"
#include "listscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_result r;
	struct arena *a = arena_new();
	char err[256];
	size_t i;

	if (listscan((const char *)data, size, "tinyforge.", a, &r, err,
	             sizeof(err)) == 0) {
		/* what it kept is what the wire may carry */
		for (i = 0; i < r.ncontainers; i++)
			if (r.containers[i].id == NULL ||
			    r.containers[i].state == NULL)
				abort();
		if (r.nskipped_ids > r.skipped)
			abort();
	}
	(void)jscan_check((const char *)data, size, 4, err, sizeof(err));
	arena_free(a);
	return 0;
}
