#!/usr/bin/env bash
# test_http_fanout.sh: 100 event streams of recon-http at once, one of
# which reads nothing (SPEC §11: a slow client costs only itself). While
# the store takes 5,252 events: the 99 readers get every revision once, in
# order; recon-http's memory stays bounded; the store is not held up (it
# applies everything while the stalled stream sits). Then the stalled
# client reads: it is refilled from the store's log (it fell off the
# memory's 512 events) and gets every revision too. And with a log that
# keeps 1,000 events, a stalled client that falls behind the log gets
# `event: compacted` and the end of the stream, and a too-old since a 410.
# Streams leave the last connections to probes and JSON requests.
# Clients are Python's standard library; load comes from recon-load.
# usage: test_http_fanout.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

NREAD=99
NCTR=100
NSNAP=52 # two bursts of an even number: the second flips every container again

start recon-store
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
workload_put load stack
http_up --keepalive 1s --event-buffer 512 || exit 1

metric() {
	curl -s "$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'
}
streams_open_is() { [ "$(metric recon_http_streams_open)" = "$1" ]; }
head_at_least() { [ "$(head_rev)" -ge "$1" ]; }

# ---- 99 readers and one stalled client, during a burst ----
R=$(head_rev)
mkfifo "$T/target"
python3 "$HERE/sse_clients.py" "$HTTP" "$R" $NREAD 1 "$T/clients.json" \
	<"$T/target" >"$T/clients.log" 2>&1 &
CLIENTS=$!
exec 7>"$T/target"
check "100 clients connected" wait_for 30 test -e "$T/clients.json.ready"
check "... 100 streams open" wait_for 10 streams_open_is 100
RSS0=$(rss_kb "$PID_recon_http")
# two bursts: memory that grew with what the stalled client missed would
# grow again in the second
sent_at_least() { [ "$(metric recon_http_events_sent_total)" -ge "$1" ]; }
burst() {
	"$BUILD/recon-load" --run-dir "$RUN" -w load -c $NCTR -n $((NSNAP / 2)) \
		--gen "$1" >>"$T/load.log" 2>&1
}
burst 1
W1=$((R + NSNAP / 2 * (NCTR + 1)))
check "the store reached revision $W1" wait_for 60 head_at_least $W1
check "... and the 99 readers had it" \
	wait_for 60 sent_at_least $((NREAD * (W1 - R)))
RSS1=$(rss_kb "$PID_recon_http")
burst $((NSNAP / 2 + 1))
WANT=$((R + NSNAP * (NCTR + 1)))
# the store applies every snapshot while one stream stalls
check "the store reached revision $WANT" wait_for 60 head_at_least $WANT
check "... and the 99 readers had it" \
	wait_for 60 sent_at_least $((NREAD * (WANT - R)))
RSS2=$(rss_kb "$PID_recon_http")
H=$(head_rev)
echo "$H" >&7
exec 7>&-
check "every client ended" wait_for 120 test -s "$T/clients.json"
wait "$CLIENTS"
log "recon-http RSS: $RSS0 KiB with 100 idle streams, $RSS1 after" \
	"$((W1 - R)) events, $RSS2 after $((WANT - R))"
jqc() { jq -e "$1" "$T/clients.json" >/dev/null; }
check "the 99 readers got revisions $((R + 1))..$H, once each, in order" \
	jqc "[.[] | select(.stalled | not) | select(.end == \"reached\" and
	     .in_order and .n == $((H - R)))] | length == $NREAD"
check "the stalled client, reading at last, got them all too" \
	jqc "[.[] | select(.stalled) | select(.end == \"reached\" and
	     .in_order and .n == $((H - R)))] | length == 1"
check "... from the store's log: it had fallen off the memory" \
	test "$(metric recon_http_log_reads_total)" -gt 0
# bounded: per stream a buffer and a thread's stack touched, not the
# events the stalled one missed (2,525 more, ~1.5 MB of text)
check "recon-http's RSS did not grow with what the stalled one missed" \
	test $((RSS2 - RSS1)) -lt 2048
check "no stream left open" wait_for 10 streams_open_is 0

# a workload with no events, from a revision the memory no longer holds:
# one read of the log takes the stream to the head (not a read per turn)
reads0=$(metric recon_http_log_reads_total)
curl -s -N "$HTTP/v1/events?workload_id=quiet&since=$R" >"$T/quiet.sse" &
QUIET=$!
check "a quiet workload's stream opened" wait_for 10 streams_open_is 1
workload_put quiet stack
check "... gets its one event" wait_for 10 grep -q '^event: workload' "$T/quiet.sse"
kill $QUIET
wait $QUIET 2>/dev/null
check "... after one or two reads of the log" \
	test $(($(metric recon_http_log_reads_total) - reads0)) -le 2

# ---- behind the log: compacted ----
stop_pid "$PID_recon_store"
start recon-store --retain-events 1000
wait_for 10 reconctl probe store || bad "store came back"
wait_for 20 sh -c "curl -s '$HTTP/readyz?verbose' | grep -q '^.+.events ok'"
R=$(head_rev)
mkfifo "$T/target2"
python3 "$HERE/sse_clients.py" "$HTTP" "$R" 1 1 "$T/clients2.json" \
	<"$T/target2" >"$T/clients2.log" 2>&1 &
CLIENTS=$!
exec 7>"$T/target2"
check "2 clients connected" wait_for 30 test -e "$T/clients2.json.ready"
# at 1,010 events/s: the reader keeps up, the stalled client falls 2,000
# behind the log's 1,000
"$BUILD/recon-load" --run-dir "$RUN" -w load -c $NCTR -n 30 -r 10 \
	>>"$T/load.log" 2>&1
check "the store took 3,030 more" wait_for 60 head_at_least $((R + 3030))
echo "$(head_rev)" >&7
exec 7>&-
check "both clients ended" wait_for 120 test -s "$T/clients2.json"
wait "$CLIENTS"
check "the reader kept up: every revision, once, in order" \
	jq -e '.[0].end == "reached" and .[0].in_order' "$T/clients2.json"
check "the stalled one: what it got in order, then compacted" \
	jq -e '.[1].end == "compacted" and .[1].in_order' "$T/clients2.json"
code=$(curl -s -o "$T/410.json" -w '%{http_code}' "$HTTP/v1/events?since=1")
check "since=1, older than the log: 410" test "$code" = 410
check "... with the error code compacted" \
	jq -e '.error.code == "compacted"' "$T/410.json"
code=$(curl -s -o /dev/null -w '%{http_code}' \
	-H 'Last-Event-ID: 1' "$HTTP/v1/events?list=1")
check "Last-Event-ID 1 (with list=1): 410 too" test "$code" = 410

# ---- connections: streams leave room for the probes ----
stop_pid "$PID_recon_http"
: >"$T/recon-http.log"
http_up --keepalive 1s --http-clients 8 || exit 1
SPIDS=()
for i in 1 2 3 4 5 6; do
	curl -s -N "$HTTP/v1/events" >/dev/null &
	SPIDS+=($!)
done
check "--http-clients 8: 6 streams open" wait_for 10 streams_open_is 6
code=$(curl -s -o "$T/full.json" -w '%{http_code}' "$HTTP/v1/events")
check "... a seventh: 503" test "$code" = 503
check "... saying why" jq -e '.error.message | test("streams")' "$T/full.json"
check "... while /livez and /v1/containers still answer" \
	sh -c "curl -fsS -o /dev/null '$HTTP/livez' &&
	       curl -fsS -o /dev/null '$HTTP/v1/containers'"
kill "${SPIDS[@]}"
wait "${SPIDS[@]}" 2>/dev/null

finish
