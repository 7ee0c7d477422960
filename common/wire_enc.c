/*
 * wire_enc.c: the generic encoder: a record, as its schema table says,
 * written with the msgpack writer (mpack.h). Secrets and sparse fields
 * are left out here, and URL passwords redacted: rules the JSON writer
 * (wirejson.c) shares.
 */
#include <stdio.h>
#include <string.h>

#include "wire_impl.h"

/* Whether a field goes into a sparse (request) map. */
static bool
field_set(const struct field *f, const void *rec)
{
	switch (f->type) {
	case FT_STR:
	case FT_RECPTR:
		return *CAT(rec, f->off, void *) != NULL;
	case FT_I64:
		return *CAT(rec, f->off, int64_t) != 0;
	case FT_U64:
		return *CAT(rec, f->off, uint64_t) != 0;
	case FT_BOOL:
		return *CAT(rec, f->off, bool);
	case FT_LABELS:
	case FT_I64ARR:
	case FT_STRARR:
	case FT_RECARR:
	case FT_COUNTERS:
		return *CAT(rec, f->noff, size_t) != 0;
	case FT_REC:
		return true;
	}
	return true;
}

bool
wire_field_written(const struct schema *s, const struct field *f,
                   const void *rec, unsigned opts)
{
	if ((f->flags & F_SECRET) && !(opts & ENC_SECRETS))
		return false;
	return !(s->sparse || (f->flags & F_SPARSE)) || field_set(f, rec);
}

/*
 * Reads the authority as RFC 3986 does: after "://", up to the first / ?
 * or #, the user information before its last @.
 */
const char *
wire_url_redacted(const char *url, char *buf, size_t len)
{
	const char *auth, *at = NULL, *colon, *p;
	int n;

	if (url == NULL || (auth = strstr(url, "://")) == NULL)
		return url;
	auth += 3;
	for (p = auth; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			at = p;
	if (at == NULL ||
	    (colon = memchr(auth, ':', (size_t)(at - auth))) == NULL)
		return url;
	n = snprintf(buf, len, "%.*s***%s", (int)(colon + 1 - url), url, at);
	return n >= 0 && (size_t)n < len ? buf : "***";
}

static int
enc_field(struct mpw *pk, const struct field *f, const void *rec, unsigned opts)
{
	size_t i, n = 0;
	const void *arr = NULL;

	if (f->type == FT_LABELS || f->type == FT_I64ARR ||
	    f->type == FT_STRARR || f->type == FT_RECARR ||
	    f->type == FT_COUNTERS) {
		n = *CAT(rec, f->noff, size_t);
		arr = *CAT(rec, f->off, void *);
		if (n > 0 && arr == NULL)
			return -1;
	}
	if (f->flags & F_NOSECRETS)
		opts &= ~ENC_SECRETS;
	switch (f->type) {
	case FT_STR:
		if ((f->flags & F_URLPASS) && !(opts & ENC_SECRETS)) {
			char buf[WIRE_URL_REDACTED];
			mpw_str(pk, wire_url_redacted(*CAT(rec, f->off, char *),
			                              buf, sizeof(buf)));
			return 0;
		}
		mpw_str(pk, *CAT(rec, f->off, char *));
		return 0;
	case FT_I64:
		mpw_int64(pk, *CAT(rec, f->off, int64_t));
		return 0;
	case FT_U64:
		mpw_uint64(pk, *CAT(rec, f->off, uint64_t));
		return 0;
	case FT_BOOL:
		mpw_bool(pk, *CAT(rec, f->off, bool));
		return 0;
	case FT_LABELS:
		mpw_map(pk, n);
		for (i = 0; i < n; i++) {
			mpw_str(pk, ((const struct wire_kv *)arr)[i].key);
			mpw_str(pk, ((const struct wire_kv *)arr)[i].val);
		}
		return 0;
	case FT_I64ARR:
		mpw_array(pk, n);
		for (i = 0; i < n; i++)
			mpw_int64(pk, ((const int64_t *)arr)[i]);
		return 0;
	case FT_STRARR:
		mpw_array(pk, n);
		for (i = 0; i < n; i++)
			mpw_str(pk, ((char *const *)arr)[i]);
		return 0;
	case FT_REC:
		return wire_enc_record(pk, f->sub, CAT(rec, f->off, void),
		                       opts);
	case FT_RECPTR:
		if (*CAT(rec, f->off, void *) == NULL)
			return -1;
		return wire_enc_record(pk, f->sub, *CAT(rec, f->off, void *),
		                       opts);
	case FT_RECARR:
		mpw_array(pk, n);
		for (i = 0; i < n; i++)
			if (wire_enc_record(pk, f->sub,
			                    (const char *)arr +
			                        i * f->sub->size,
			                    opts) == -1)
				return -1;
		return 0;
	case FT_COUNTERS:
		wire_enc_counters(pk, arr, n);
		return 0;
	}
	return -1;
}

int
wire_enc_record(struct mpw *pk, const struct schema *s, const void *rec,
                unsigned opts)
{
	size_t i, n = s->t ? 1 : 0;
	const struct field *f;

	if (rec == NULL)
		return -1;
	for (i = 0; i < s->nfields; i++)
		if (wire_field_written(s, &s->fields[i], rec, opts))
			n++;
	mpw_map(pk, n);
	if (s->t) {
		mpw_str(pk, "t");
		mpw_str(pk, s->t);
	}
	for (i = 0; i < s->nfields; i++) {
		f = &s->fields[i];
		if (!wire_field_written(s, f, rec, opts))
			continue;
		mpw_str(pk, f->key);
		if (enc_field(pk, f, rec, opts) == -1)
			return -1;
	}
	return 0;
}

/* One whole record; on a programming error nothing is left in b. */
int
wire_enc_top(struct wbuf *b, const struct schema *s, const void *rec,
             unsigned opts)
{
	struct mpw pk;
	size_t len0;

	if (b == NULL || rec == NULL)
		return -1;
	len0 = b->len;
	mpw_init(&pk, b);
	if (wire_enc_record(&pk, s, rec, opts) == -1) {
		b->len = len0;
		return -1;
	}
	return 0;
}

void
wire_enc_counters(struct mpw *pk, const struct wire_counter *c, size_t n)
{
	size_t i;

	mpw_map(pk, n);
	for (i = 0; i < n; i++) {
		mpw_str(pk, c[i].name);
		mpw_uint64(pk, c[i].value);
	}
}
