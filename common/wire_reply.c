/*
 * wire_reply.c: the ctl sockets' replies (SPEC §5, §7): the encoders a
 * server builds a reply with, field by field, and the decoders of a
 * reply's status, of the typed ok replies (by their schema tables) and of
 * events.since's list of logged event bodies.
 */
#include <stdio.h>
#include <string.h>

#include "wire_impl.h"

/* ---- encoding ---- */

int
wire_reply_error(struct wbuf *b, const char *code, const char *message)
{
	struct mpw pk;

	if (b == NULL)
		return -1;
	mpw_init(&pk, b);
	mpw_map(&pk, 2);
	mpw_str(&pk, "ok");
	mpw_bool(&pk, false);
	mpw_str(&pk, "error");
	mpw_map(&pk, 2);
	mpw_str(&pk, "code");
	mpw_str(&pk, code);
	mpw_str(&pk, "message");
	mpw_str(&pk, message);
	return 0;
}

int
wire_reply_begin(struct wbuf *b, size_t nextra)
{
	struct mpw pk;

	if (b == NULL || nextra >= UINT32_MAX)
		return -1;
	mpw_init(&pk, b);
	mpw_map(&pk, 1 + nextra);
	mpw_str(&pk, "ok");
	mpw_bool(&pk, true);
	return 0;
}

/* Writes key and returns a packer for its value. */
static int
reply_key(struct mpw *pk, struct wbuf *b, const char *key)
{
	if (b == NULL || key == NULL)
		return -1;
	mpw_init(pk, b);
	mpw_str(pk, key);
	return 0;
}

int
wire_reply_u64(struct wbuf *b, const char *key, uint64_t v)
{
	struct mpw pk;

	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_uint64(&pk, v);
	return 0;
}

int
wire_reply_str(struct wbuf *b, const char *key, const char *v)
{
	struct mpw pk;

	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_str(&pk, v);
	return 0;
}

/* key: [records...]; on a programming error nothing is left in b. */
static int
reply_records(struct wbuf *b, const char *key, const struct schema *s,
              const void *recs, size_t n, unsigned opts)
{
	struct mpw pk;
	size_t i, len0;

	if (b == NULL || (n > 0 && recs == NULL))
		return -1;
	len0 = b->len;
	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_array(&pk, n);
	for (i = 0; i < n; i++)
		if (wire_enc_record(&pk, s, (const char *)recs + i * s->size,
		                    opts) == -1) {
			b->len = len0;
			return -1;
		}
	return 0;
}

static int
reply_record(struct wbuf *b, const char *key, const struct schema *s,
             const void *rec, unsigned opts)
{
	struct mpw pk;
	size_t len0;

	if (b == NULL || rec == NULL)
		return -1;
	len0 = b->len;
	if (reply_key(&pk, b, key) == -1 ||
	    wire_enc_record(&pk, s, rec, opts) == -1) {
		b->len = len0;
		return -1;
	}
	return 0;
}

int
wire_reply_rows(struct wbuf *b, const char *key, const struct wire_row *rows,
                size_t n)
{
	return reply_records(b, key, &wire_row_schema, rows, n, ENC_SECRETS);
}

int
wire_reply_row(struct wbuf *b, const char *key, const struct wire_row *row)
{
	return reply_record(b, key, &wire_row_schema, row, ENC_SECRETS);
}

int
wire_reply_workloads(struct wbuf *b, const char *key,
                     const struct wire_workload *w, size_t n, bool secrets)
{
	return reply_records(b, key, &wire_workload_schema, w, n,
	                     secrets ? ENC_SECRETS : 0);
}

int
wire_reply_workload(struct wbuf *b, const char *key,
                    const struct wire_workload *w, bool secrets)
{
	return reply_record(b, key, &wire_workload_schema, w,
	                    secrets ? ENC_SECRETS : 0);
}

int
wire_reply_hosts(struct wbuf *b, const char *key, const struct wire_host *h,
                 size_t n)
{
	return reply_records(b, key, &wire_host_schema, h, n, ENC_SECRETS);
}

int
wire_reply_raw_array(struct wbuf *b, const char *key, const struct wbuf *items,
                     size_t n)
{
	struct mpw pk;

	if (n > 0 && (items == NULL || items->len == 0))
		return -1;
	if (reply_key(&pk, b, key) == -1)
		return -1;
	mpw_array(&pk, n);
	if (items != NULL)
		wbuf_append(b, items->data, items->len);
	return 0;
}

int
wire_reply_counters(struct wbuf *b, const char *key,
                    const struct wire_counter *c, size_t n)
{
	struct mpw pk;

	if (n > 0 && c == NULL)
		return -1;
	if (reply_key(&pk, b, key) == -1)
		return -1;
	wire_enc_counters(&pk, c, n);
	return 0;
}

int
wire_reply_health(struct wbuf *b, const struct wire_health *h)
{
	struct mpw pk;
	size_t i;

	if (b == NULL || h == NULL || (h->nchecks > 0 && h->checks == NULL) ||
	    (h->ncounters > 0 && h->counters == NULL))
		return -1;
	mpw_init(&pk, b);
	mpw_map(&pk, 8);
	mpw_str(&pk, "ok");
	mpw_bool(&pk, true);
	mpw_str(&pk, "name");
	mpw_str(&pk, h->name);
	mpw_str(&pk, "pid");
	mpw_int64(&pk, h->pid);
	mpw_str(&pk, "version");
	mpw_str(&pk, h->version);
	mpw_str(&pk, "uptime_s");
	mpw_int64(&pk, h->uptime_s);
	mpw_str(&pk, "ready");
	mpw_bool(&pk, h->ready);
	mpw_str(&pk, "checks");
	mpw_array(&pk, h->nchecks);
	for (i = 0; i < h->nchecks; i++) {
		mpw_map(&pk, 3);
		mpw_str(&pk, "name");
		mpw_str(&pk, h->checks[i].name);
		mpw_str(&pk, "ok");
		mpw_bool(&pk, h->checks[i].ok);
		mpw_str(&pk, "detail");
		mpw_str(&pk, h->checks[i].detail);
	}
	mpw_str(&pk, "counters");
	wire_enc_counters(&pk, h->counters, h->ncounters);
	return 0;
}

/* ---- decoding ---- */

/* The reply's error map: code and message, other keys skipped. */
static int
dec_reply_error(struct cur *c, char **code, char **message)
{
	const char *k;
	size_t klen;
	uint32_t i, n;
	bool gotcode = false, gotmsg = false;

	if (mpr_map(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c->r, &k, &klen) == -1)
			return -1;
		wire_cur_key(c, k, klen);
		if (klen == 4 && memcmp(k, "code", 4) == 0) {
			if (gotcode)
				return wire_fail(c, "duplicate key");
			gotcode = true;
			if (wire_cur_string(c, WIRE_ID_MAX, code) == -1)
				return -1;
		} else if (klen == 7 && memcmp(k, "message", 7) == 0) {
			if (gotmsg)
				return wire_fail(c, "duplicate key");
			gotmsg = true;
			if (wire_cur_string(c, WIRE_TEXT_MAX, message) == -1)
				return -1;
		} else if (mpr_skip(&c->r, WIRE_SKIP_DEPTH) == -1) {
			return -1;
		}
		wire_cur_pop(c);
	}
	mpr_leave(&c->r);
	return 0;
}

int
wire_decode_reply_status(const void *buf, size_t len, struct arena *a, bool *ok,
                         char **code, char **message, char *err)
{
	struct cur c;
	const char *k;
	size_t klen;
	uint32_t i, n;
	bool gotok = false, goterr = false, v = false;
	char *cd = NULL, *msg = NULL;

	wire_cur_init(&c, buf, len, a, "reply", err);
	if (buf == NULL || a == NULL)
		return wire_fail(&c, "no message");
	c.empty = arena_strndup(a, "", 0);
	if (mpr_map(&c.r, &n) == -1 || mpr_enter(&c.r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c.r, &k, &klen) == -1)
			return -1;
		wire_cur_key(&c, k, klen);
		if (klen == 2 && memcmp(k, "ok", 2) == 0) {
			if (gotok)
				return wire_fail(&c, "duplicate key");
			gotok = true;
			if (mpr_bool(&c.r, &v) == -1)
				return -1;
		} else if (klen == 5 && memcmp(k, "error", 5) == 0) {
			if (goterr)
				return wire_fail(&c, "duplicate key");
			goterr = true;
			if (dec_reply_error(&c, &cd, &msg) == -1)
				return -1;
		} else if (mpr_skip(&c.r, WIRE_DEPTH_MAX) == -1) {
			return -1;
		}
		wire_cur_pop(&c);
	}
	mpr_leave(&c.r);
	if (mpr_end(&c.r) == -1)
		return -1;
	if (!gotok)
		return wire_fail(&c, "missing key \"ok\"");
	if (ok != NULL)
		*ok = v;
	if (code != NULL)
		*code = v ? NULL : cd ? cd : c.empty;
	if (message != NULL)
		*message = v ? NULL : msg ? msg : c.empty;
	return 0;
}

/* An ok reply decoded by its schema: `ok` must be true. */
static int
dec_reply(const struct schema *s, const void *buf, size_t len, struct arena *a,
          void *out, char *err)
{
	char *code = NULL, *msg = NULL;
	bool ok = false;

	if (out == NULL)
		return -1;
	memset(out, 0, s->size);
	if (wire_decode_reply_status(buf, len, a, &ok, &code, &msg, err) == -1)
		return -1;
	if (!ok) {
		if (err != NULL)
			snprintf(err, WIRE_ERR_LEN,
			         "%s: not an ok reply: %.32s", s->name, code);
		return -1;
	}
	return wire_dec_top(s, buf, len, a, out, err);
}

int
wire_decode_rows_reply(const void *buf, size_t len, struct arena *a,
                       struct wire_rows_reply *out, char *err)
{
	return dec_reply(&wire_rows_reply_schema, buf, len, a, out, err);
}

int
wire_decode_hosts_reply(const void *buf, size_t len, struct arena *a,
                        struct wire_hosts_reply *out, char *err)
{
	return dec_reply(&wire_hosts_reply_schema, buf, len, a, out, err);
}

int
wire_decode_workloads_reply(const void *buf, size_t len, struct arena *a,
                            struct wire_workloads_reply *out, char *err)
{
	return dec_reply(&wire_workloads_reply_schema, buf, len, a, out, err);
}

int
wire_decode_row_reply(const void *buf, size_t len, struct arena *a,
                      struct wire_row_reply *out, char *err)
{
	return dec_reply(&wire_row_reply_schema, buf, len, a, out, err);
}

int
wire_decode_workload_reply(const void *buf, size_t len, struct arena *a,
                           struct wire_workload_reply *out, char *err)
{
	return dec_reply(&wire_workload_reply_schema, buf, len, a, out, err);
}

int
wire_decode_write_reply(const void *buf, size_t len, struct arena *a,
                        struct wire_write_reply *out, char *err)
{
	return dec_reply(&wire_write_reply_schema, buf, len, a, out, err);
}

int
wire_decode_stats_reply(const void *buf, size_t len, struct arena *a,
                        struct wire_stats_reply *out, char *err)
{
	return dec_reply(&wire_stats_reply_schema, buf, len, a, out, err);
}

int
wire_decode_health_reply(const void *buf, size_t len, struct arena *a,
                         struct wire_health *out, char *err)
{
	return dec_reply(&wire_health_schema, buf, len, a, out, err);
}

/* events.since's array: each element is skipped to find its extent. */
static int
dec_spans(struct cur *c, struct wire_span **out, size_t *nout)
{
	struct wire_span *sp = NULL;
	size_t cap = 0;
	uint32_t i, n;

	if (mpr_array(&c->r, &n) == -1 || mpr_enter(&c->r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		wire_cur_idx(c, i);
		sp = wire_cur_grow(c, sp, &cap, i, sizeof(*sp));
		sp[i].p = c->r.p;
		if (mpr_skip(&c->r, WIRE_SKIP_DEPTH) == -1)
			return -1;
		sp[i].len = (size_t)(c->r.p - (const unsigned char *)sp[i].p);
		wire_cur_pop(c);
	}
	mpr_leave(&c->r);
	*out = sp;
	*nout = n;
	return 0;
}

static int
dec_events_reply(const void *buf, size_t len, struct arena *a, uint64_t *rev,
                 struct wire_span **events, size_t *nevents, char *err)
{
	struct cur c;
	const char *k;
	size_t klen;
	uint32_t i, n;
	bool ok = false, gotok = false, gotrev = false, gotev = false;

	wire_cur_init(&c, buf, len, a, "events_reply", err);
	*rev = 0;
	*events = NULL;
	*nevents = 0;
	if (buf == NULL || a == NULL)
		return wire_fail(&c, "no message");
	if (mpr_map(&c.r, &n) == -1 || mpr_enter(&c.r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c.r, &k, &klen) == -1)
			return -1;
		wire_cur_key(&c, k, klen);
		if (klen == 2 && memcmp(k, "ok", 2) == 0) {
			if (gotok)
				return wire_fail(&c, "duplicate key");
			gotok = true;
			if (mpr_bool(&c.r, &ok) == -1)
				return -1;
		} else if (klen == 3 && memcmp(k, "rev", 3) == 0) {
			if (gotrev)
				return wire_fail(&c, "duplicate key");
			gotrev = true;
			if (mpr_u64(&c.r, rev) == -1)
				return -1;
		} else if (klen == 6 && memcmp(k, "events", 6) == 0) {
			if (gotev)
				return wire_fail(&c, "duplicate key");
			gotev = true;
			if (dec_spans(&c, events, nevents) == -1)
				return -1;
		} else if (mpr_skip(&c.r, WIRE_DEPTH_MAX) == -1) {
			return -1;
		}
		wire_cur_pop(&c);
	}
	mpr_leave(&c.r);
	if (mpr_end(&c.r) == -1)
		return -1;
	if (!gotok || !ok)
		return wire_fail(&c, "not an ok reply");
	if (!gotrev || !gotev)
		return wire_fail(&c, "missing key \"%s\"",
		                 gotrev ? "events" : "rev");
	return 0;
}

int
wire_decode_events_reply(const void *buf, size_t len, struct arena *a,
                         uint64_t *rev, struct wire_span **events,
                         size_t *nevents, char *err)
{
	if (dec_events_reply(buf, len, a, rev, events, nevents, err) == 0)
		return 0;
	*rev = 0;
	*events = NULL;
	*nevents = 0;
	return -1;
}
