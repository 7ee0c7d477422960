/*
 * wire_topic.c: published messages, "TOPIC\0BODY" (SPEC §3): the topic
 * of an event, the one reader of the topic grammar, and an event's rev
 * read without decoding the rest (a subscriber drops its duplicates so).
 */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "wire_impl.h"

int
wire_event_topic(char *buf, size_t len, const struct wire_event *ev)
{
	int n = -1;

	switch (ev->type) {
	case WIRE_EV_CONTAINER:
		if (ev->row == NULL)
			return -1;
		n = snprintf(buf, len, "container/%s/%s",
		             ev->row->workload_id != NULL ? ev->row->workload_id
		                                          : "",
		             ev->row->id != NULL ? ev->row->id : "");
		break;
	case WIRE_EV_WORKLOAD:
		if (ev->workload == NULL)
			return -1;
		n = snprintf(buf, len, "workload/%s",
		             ev->workload->id != NULL ? ev->workload->id : "");
		break;
	case WIRE_EV_PASS:
		n = snprintf(buf, len, "sys/pass");
		break;
	}
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

/* Copies n bytes of s into out (WIRE_ID_MAX + 1 bytes): 0, or -1 when
 * they are too many, none or hold a NUL. */
static int
topic_part(char *out, const char *s, size_t n)
{
	if (n == 0 || n > WIRE_ID_MAX || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The topic of tlen bytes at topic into t's kind, wid and row_id. */
static int
topic_read(const char *topic, size_t tlen, struct wire_topic *t, char *err)
{
	const char *wid = NULL, *slash;
	size_t n;

	t->wid[0] = t->row_id[0] = '\0';
	if (tlen >= 10 && memcmp(topic, "container/", 10) == 0) {
		t->kind = WIRE_TOPIC_CONTAINER;
		wid = topic + 10;
		if ((slash = memchr(wid, '/', tlen - 10)) == NULL)
			goto bad;
		n = (size_t)(slash - wid);
		if (topic_part(t->wid, wid, n) == -1 ||
		    topic_part(t->row_id, slash + 1, tlen - 11 - n) == -1)
			goto bad;
	} else if (tlen >= 9 && memcmp(topic, "workload/", 9) == 0) {
		t->kind = WIRE_TOPIC_WORKLOAD;
		if (topic_part(t->wid, topic + 9, tlen - 9) == -1)
			goto bad;
	} else {
		t->kind = WIRE_TOPIC_OTHER;
		return 0;
	}
	if (id_valid(t->wid))
		return 0;
bad:
	snprintf(err, WIRE_ERR_LEN, "bad topic %.*s",
	         (int)(tlen < 100 ? tlen : 100), topic);
	return -1;
}

int
wire_topic_split(const void *msg, size_t len, struct wire_topic *t, char *err)
{
	const char *nul;

	memset(t, 0, sizeof(*t));
	nul = msg != NULL
	          ? memchr(msg, '\0',
	                   len < WIRE_TOPIC_MAX + 1 ? len : WIRE_TOPIC_MAX + 1)
	          : NULL;
	if (nul == NULL) {
		snprintf(err, WIRE_ERR_LEN, "no topic");
		return -1;
	}
	t->topic = msg;
	t->tlen = (size_t)(nul - t->topic);
	t->body = nul + 1;
	t->blen = len - t->tlen - 1;
	return topic_read(t->topic, t->tlen, t, err);
}

bool
wire_topic_in_workload(const char *topic, const char *wid)
{
	char err[WIRE_ERR_LEN];
	struct wire_topic t;
	size_t n = strnlen(topic, WIRE_TOPIC_MAX + 1);

	return n <= WIRE_TOPIC_MAX && topic_read(topic, n, &t, err) == 0 &&
	       t.kind != WIRE_TOPIC_OTHER && strcmp(t.wid, wid) == 0;
}

int
wire_peek_rev(const void *buf, size_t len, uint64_t *rev, char *err)
{
	struct cur c;
	const char *k;
	size_t klen;
	uint32_t i, n;

	wire_cur_init(&c, buf, len, NULL, "event", err);
	if (buf == NULL)
		return wire_fail(&c, "no message");
	if (mpr_map(&c.r, &n) == -1 || mpr_enter(&c.r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mpr_key(&c.r, &k, &klen) == -1)
			return -1;
		wire_cur_key(&c, k, klen);
		if (klen == 3 && memcmp(k, "rev", 3) == 0)
			return mpr_u64(&c.r, rev);
		if (mpr_skip(&c.r, WIRE_DEPTH_MAX) == -1)
			return -1;
		wire_cur_pop(&c);
	}
	return wire_fail(&c, "missing key \"rev\"");
}
