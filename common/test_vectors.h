/*
 * test_vectors.h: the golden vectors of tests/vectors/ for the codec's
 * unit tests (wire_test, protocol_doc_test): files of hex digits, checked
 * against what the encoders write today, or rewritten by them when
 * RECON_WRITE_VECTORS=1. Include after <cmocka.h>.
 */
#ifndef RECON_TEST_VECTORS_H
#define RECON_TEST_VECTORS_H

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpack.h"

/* A whole file, NUL-terminated (free it); the test fails without it. */
static inline char *
tv_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		fail_msg("unable to read %s: %s", path, strerror(errno));
	do {
		if (cap - n < 4096)
			buf = realloc(buf, cap = cap * 2 + 4096);
		assert_non_null(buf);
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Hex digits, whitespace ignored, appended to out; -1 on anything else or
 * an odd count. */
static inline int
tv_unhex(const char *s, size_t len, struct wbuf *out)
{
	size_t i;
	int hi = -1, v;
	unsigned char byte;

	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)s[i]))
			continue;
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		v = isdigit((unsigned char)s[i])
		        ? s[i] - '0'
		        : tolower((unsigned char)s[i]) - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		byte = (unsigned char)(hi << 4 | v);
		wbuf_append(out, &byte, 1);
		hi = -1;
	}
	return hi == -1 ? 0 : -1;
}

/* The bytes of a hex file into out (reset first). */
static inline void
tv_read(const char *path, struct wbuf *out)
{
	size_t len;
	char *text = tv_slurp(path, &len);

	wbuf_reset(out);
	if (tv_unhex(text, len, out) == -1)
		fail_msg("%s: not hex", path);
	free(text);
}

/*
 * Vector name in dir against enc, what the encoder writes today: false
 * after rewriting the file (RECON_WRITE_VECTORS=1); else true, with the
 * file's bytes in file, the test failing where they differ.
 */
static inline bool
tv_check(const char *dir, const char *name, const struct wbuf *enc,
         struct wbuf *file)
{
	const char *wr = getenv("RECON_WRITE_VECTORS");
	char path[4096];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%.3000s/%.900s.hex", dir, name);
	if (wr != NULL && strcmp(wr, "1") == 0) {
		if ((f = fopen(path, "w")) == NULL)
			fail_msg("unable to write %s: %s", path,
			         strerror(errno));
		for (i = 0; i < enc->len; i++)
			fprintf(f, "%02x%s", (unsigned char)enc->data[i],
			        (i % 32 == 31 || i + 1 == enc->len) ? "\n"
			                                            : "");
		fclose(f);
		return false;
	}
	tv_read(path, file);
	for (i = 0; i < file->len && i < enc->len; i++)
		if (file->data[i] != enc->data[i])
			break;
	if (file->len != enc->len || i < file->len)
		fail_msg("tests/vectors/%s.hex: not what the encoder writes, "
		         "from byte %zu (lengths %zu, %zu; "
		         "RECON_WRITE_VECTORS=1 rewrites it)",
		         name, i, enc->len, file->len);
	return true;
}

#endif
