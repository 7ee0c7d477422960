/*
 * fuzz_docker_events.c: the reader of Docker's /events stream fed the
 * input in chunks whose sizes the input itself picks, as a socket would
 * deliver them: the events out must not depend on where the cuts fall.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

struct tally {
	size_t n;
	uint32_t sum; /* of the ids' bytes, order included */
};

static void
on_event(void *arg, const struct parse_event *ev)
{
	struct tally *t = arg;
	const char *s;

	t->n++;
	for (s = ev->id; *s != '\0'; s++)
		t->sum = t->sum * 31 + (unsigned char)*s;
}

/* Feeds body in chunks of the sizes cuts gives (cycled); -1 on a break. */
static int
feed(const char *body, size_t len, const uint8_t *cuts, size_t ncuts,
     struct tally *t)
{
	struct parse_events *pe = parse_events_new("tinyforge.");
	char err[256];
	size_t off = 0, k = 0, step;
	int rc = 0;

	if (pe == NULL)
		abort();
	while (off < len && rc == 0) {
		step = ncuts > 0 ? (size_t)cuts[k++ % ncuts] % 64 + 1 : len;
		if (step > len - off)
			step = len - off;
		rc = parse_events_feed(pe, body + off, step, on_event, t, err,
		                       sizeof(err));
		off += step;
	}
	parse_events_free(pe);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally whole = {0, 0}, cut = {0, 0};
	size_t ncuts;
	int rw, rc;

	if (size < 1)
		return 0;
	ncuts = data[0] % 8;
	if (size < 1 + ncuts)
		return 0;
	rw = feed((const char *)data + 1 + ncuts, size - 1 - ncuts, NULL, 0,
	          &whole);
	rc = feed((const char *)data + 1 + ncuts, size - 1 - ncuts, data + 1,
	          ncuts, &cut);
	/* a stream read whole without a break reads the same in pieces */
	if (rw == 0 && rc == 0 && (whole.n != cut.n || whole.sum != cut.sum))
		abort();
	return 0;
}
