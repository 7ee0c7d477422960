/*
 * fuzz_flags.c: the parsers of operators' values (durations, sizes) and
 * the id, kind and UTF-8 checks every input goes through.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int64_t ms;
	uint64_t sz;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)parse_duration_ms(s, &ms);
	(void)parse_size(s, &sz);
	/* an id is ASCII, so also UTF-8 */
	if (id_valid(s) && !utf8_valid(s, strlen(s)))
		abort();
	(void)source_kind_valid(s);
	(void)kind_valid(s);
	(void)utf8_valid((const char *)data, size);
	free(s);
	return 0;
}
