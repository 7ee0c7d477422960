/*
 * fuzz_wire.c: every decoder of common/wire*.c on arbitrary bytes. The
 * first byte picks the decoder; a message that decodes must encode again
 * and the encoding decode too (a round trip through our own encoder
 * never fails).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire.h"

static int
enc_workload(struct wbuf *b, const struct wire_workload *w)
{
	return wire_encode_workload(b, w, true);
}

/* decode, and when that works: encode, decode the encoding. */
#define ROUND_TRIP(T, dec, enc)                                                \
	do {                                                                   \
		T m_, m2_;                                                     \
		if (dec(p, n, a, &m_, err) == 0 &&                             \
		    (enc(&b, &m_) != 0 ||                                      \
		     dec(b.data, b.len, a, &m2_, err) != 0)) {                 \
			fprintf(stderr, "round trip of %s: %s\n", #T, err);    \
			abort();                                               \
		}                                                              \
	} while (0)

#define DECODE(T, dec)                                                         \
	do {                                                                   \
		T m_;                                                          \
		(void)dec(p, n, a, &m_, err);                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[WIRE_ERR_LEN] = "";
	struct wbuf b = {0};
	struct arena *a;
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	if (size < 1)
		return 0;
	a = arena_new();
	switch (data[0] % 20) {
	case 0:
		ROUND_TRIP(struct wire_snapshot, wire_decode_snapshot,
		           wire_encode_snapshot);
		break;
	case 1:
		ROUND_TRIP(struct wire_delta, wire_decode_delta,
		           wire_encode_delta);
		break;
	case 2:
		ROUND_TRIP(struct wire_plugin_result, wire_decode_plugin_result,
		           wire_encode_plugin_result);
		break;
	case 3:
		ROUND_TRIP(struct wire_dispatch, wire_decode_dispatch,
		           wire_encode_dispatch);
		break;
	case 4:
		ROUND_TRIP(struct wire_event, wire_decode_event,
		           wire_encode_event);
		break;
	case 5:
		ROUND_TRIP(struct wire_request, wire_decode_request,
		           wire_encode_request);
		break;
	case 6:
		ROUND_TRIP(struct wire_workload, wire_decode_workload,
		           enc_workload);
		break;
	case 7:
		ROUND_TRIP(struct wire_row, wire_decode_row, wire_encode_row);
		break;
	case 8:
		DECODE(struct wire_workload, wire_decode_workload_strict);
		break;
	case 9:
		DECODE(struct wire_row, wire_decode_row_strict);
		break;
	case 10:
		DECODE(struct wire_rows_reply, wire_decode_rows_reply);
		break;
	case 11:
		DECODE(struct wire_workloads_reply,
		       wire_decode_workloads_reply);
		break;
	case 12:
		DECODE(struct wire_row_reply, wire_decode_row_reply);
		break;
	case 13:
		DECODE(struct wire_workload_reply, wire_decode_workload_reply);
		break;
	case 14:
		DECODE(struct wire_write_reply, wire_decode_write_reply);
		break;
	case 15:
		DECODE(struct wire_stats_reply, wire_decode_stats_reply);
		break;
	case 16:
		DECODE(struct wire_health, wire_decode_health_reply);
		break;
	case 17: {
		struct wire_span *sp;
		uint64_t rev;
		size_t ne;
		(void)wire_decode_events_reply(p, n, a, &rev, &sp, &ne, err);
		break;
	}
	case 18: {
		char *code, *msg;
		bool ok;
		(void)wire_decode_reply_status(p, n, a, &ok, &code, &msg, err);
		break;
	}
	default: {
		enum wire_msgtype t;
		uint64_t rev;
		(void)wire_peek_type(p, n, &t, err);
		(void)wire_peek_rev(p, n, &rev, err);
		break;
	}
	}
	wbuf_free(&b);
	arena_free(a);
	return 0;
}
