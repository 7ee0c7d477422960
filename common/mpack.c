/*
 * mpack.c: recon's msgpack writer (see mpack.h). msgpack-c's packer hands
 * every header and body to a callback, which made encoding most of the
 * cost of a store write; this one writes in place.
 */
#include <string.h>

#include "mpack.h"

void
mpw_init(struct mpw *pk, struct wbuf *b)
{
	pk->b = b;
}

/* n bytes at the end of the buffer, to be filled in */
static unsigned char *
mpw_room(struct mpw *pk, size_t n)
{
	return wbuf_room(pk->b, n);
}

static void
mpw_be(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* A code byte followed by n big-endian bytes of v. */
static void
mpw_code(struct mpw *pk, unsigned char code, uint64_t v, int n)
{
	unsigned char *p = mpw_room(pk, 1 + (size_t)n);

	p[0] = code;
	mpw_be(p + 1, v, n);
}

void
mpw_uint64(struct mpw *pk, uint64_t v)
{
	if (v < 128)
		*mpw_room(pk, 1) = (unsigned char)v;
	else if (v < 1u << 8)
		mpw_code(pk, 0xcc, v, 1);
	else if (v < 1u << 16)
		mpw_code(pk, 0xcd, v, 2);
	else if (v < 1ull << 32)
		mpw_code(pk, 0xce, v, 4);
	else
		mpw_code(pk, 0xcf, v, 8);
}

void
mpw_int64(struct mpw *pk, int64_t v)
{
	if (v >= -32 && v < 128)
		*mpw_room(pk, 1) = (unsigned char)(v & 0xff); /* fixint */
	else if (v >= 0)
		mpw_uint64(pk, (uint64_t)v);
	else if (v >= -(1 << 7))
		mpw_code(pk, 0xd0, (uint64_t)v, 1);
	else if (v >= -(1 << 15))
		mpw_code(pk, 0xd1, (uint64_t)v, 2);
	else if (v >= -(1ll << 31))
		mpw_code(pk, 0xd2, (uint64_t)v, 4);
	else
		mpw_code(pk, 0xd3, (uint64_t)v, 8);
}

/* A map or array header: fix form below 16 entries. */
static void
mpw_count(struct mpw *pk, unsigned char fix, unsigned char c16, size_t n)
{
	if (n < 16)
		*mpw_room(pk, 1) = (unsigned char)(fix | n);
	else if (n < 1u << 16)
		mpw_code(pk, c16, n, 2);
	else
		mpw_code(pk, (unsigned char)(c16 + 1), n, 4);
}

void
mpw_map(struct mpw *pk, size_t n)
{
	mpw_count(pk, 0x80, 0xde, n);
}

void
mpw_array(struct mpw *pk, size_t n)
{
	mpw_count(pk, 0x90, 0xdc, n);
}

void
mpw_strn(struct mpw *pk, const char *s, size_t n)
{
	unsigned char *p;

	if (n < 32) {
		p = mpw_room(pk, 1 + n);
		*p++ = (unsigned char)(0xa0 | n);
	} else if (n < 1u << 8) {
		p = mpw_room(pk, 2 + n);
		p[0] = 0xd9;
		p[1] = (unsigned char)n;
		p += 2;
	} else if (n < 1u << 16) {
		p = mpw_room(pk, 3 + n);
		p[0] = 0xda;
		mpw_be(p + 1, n, 2);
		p += 3;
	} else {
		p = mpw_room(pk, 5 + n);
		p[0] = 0xdb;
		mpw_be(p + 1, n, 4);
		p += 5;
	}
	if (n > 0)
		memcpy(p, s, n);
}

void
mpw_str(struct mpw *pk, const char *s)
{
	mpw_strn(pk, s, s != NULL ? strlen(s) : 0);
}

void
mpw_bool(struct mpw *pk, bool v)
{
	*mpw_room(pk, 1) = v ? 0xc3 : 0xc2;
}

void
mpw_double(struct mpw *pk, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	mpw_code(pk, 0xcb, bits, 8);
}

void
mpw_nil(struct mpw *pk)
{
	*mpw_room(pk, 1) = 0xc0;
}
