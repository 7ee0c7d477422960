#!/usr/bin/env bash
# bench/http_fanout.sh: the HTTP face's fan-out. A recon-store and a
# recon-http in a temporary run and data dir; recon-load pushes snapshots
# of 99 containers flipping state at 10 snapshots/s (1,000 events/s) while
# 1, 10 and 100 Server-Sent Events clients (recon-sse-fanout,
# bench/sse_fanout.c) follow /v1/events; beside each, the same load (100
# events a snapshot, 1,000 events/s) to as many nng subscribers through
# recon-fanout (bench/fanout.c), with no recon-http running. Then the
# store's throughput with 100 SSE clients connected, one of which never
# reads, against none, and against 100 of which 99 never read (what the
# connections and stalled streams cost, apart from the reading):
# recon-load as fast as the store takes it, a fixed number of snapshots,
# time until the store's head has them all. Prints
# tables; nothing is asserted, but a measure that cannot be taken fails.
#   bench/http_fanout.sh [BUILD_DIR] [SECONDS] [--smoke]
#   (defaults: build, 10; --smoke: one row, 10 SSE clients, for bench/run
#   --quick)
set -uo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${1:-build}" && pwd)
SECS=${2:-10}
SMOKE=
[ "${3:-}" = "--smoke" ] && SMOKE=1
T=$(mktemp -d /tmp/recon-http-fanout.XXXXXX)
RUN=$T/run
W=bench
K=${HTTP_FANOUT_SNAPSHOTS:-400} # snapshots of the throughput runs
REPS=${HTTP_FANOUT_REPS:-3}
# e.g. "--event-buffer 100000": more of recon-http's options
STORE= HTTPD= LOAD= CLIENTS=
# HTTP_FANOUT_NICE=N: recon-http and the SSE clients at nice N (the
# store and the load at 0), as the run scripts in deploy/ start recon-http
NICE=()
[ -n "${HTTP_FANOUT_NICE:-}" ] && NICE=(nice -n "$HTTP_FANOUT_NICE")

# stop PID: SIGTERM, then SIGKILL after 5 s (a process wedged in nng's
# close must not hang this)
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	stop "$CLIENTS"
	stop "$LOAD"
	stop "$HTTPD"
	stop "$STORE"
	rm -rf "$T"
}
trap cleanup EXIT
die() {
	echo "http_fanout: $*" >&2
	exit 1
}
export RECON_RUN_DIR=$RUN RECON_DATA_DIR=$T/data

wait_for() {
	local i
	for i in $(seq $(($1 * 20))); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
head_rev() {
	"$B/reconctl" stats --json 2>/dev/null |
		jq -r '[.. | objects | select(has("oldest_rev")) | .rev][0]'
}
metric() {
	curl -s "$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'
}
streams_open_is() { [ "$(metric recon_http_streams_open)" = "$1" ]; }
sent_at_least() { [ "$(metric recon_http_events_sent_total)" -ge "$1" ]; }
head_at_least() { [ "$(head_rev)" -ge "$1" ]; }
sent_settled() {
	local a
	a=$(metric recon_http_events_sent_total)
	sleep 0.5
	[ "$(metric recon_http_events_sent_total)" = "$a" ]
}

http_start() {
	: >"$T/http.log"
	"${NICE[@]}" "$B/recon-http" --run-dir "$RUN" --http-listen 127.0.0.1:0 \
		--keepalive 1s ${HTTP_FANOUT_HTTP_ARGS:-} 2>"$T/http.log" &
	HTTPD=$!
	wait_for 10 grep -q 'serving http://' "$T/http.log" ||
		die "recon-http did not start: $(tail -3 "$T/http.log")"
	HTTP=$(grep -o 'serving http://[0-9.:]*' "$T/http.log" | tail -1 |
		cut -d' ' -f2)
	wait_for 10 grep -q 'following the store' "$T/http.log" ||
		die "recon-http does not follow the store"
}
http_stop() {
	stop "$HTTPD"
	HTTPD=
}
# load_start: 99 containers of W flipping at 10 snapshots/s, for longer
# than a row takes (stopped after it); gens from the clock, so that each
# run's come after the last's
load_start() {
	"$B/recon-load" --run-dir "$RUN" -w $W -c 99 -r 10 \
		-n $((10 * (SECS + 20))) --gen $(($(date +%s%N) / 1000)) \
		>>"$T/load.log" 2>&1 &
	LOAD=$!
}
load_stop() {
	stop "$LOAD"
	LOAD=
}

"$B/recon-store" 2>"$T/store.log" &
STORE=$!
wait_for 10 "$B/reconctl" probe store ||
	die "recon-store did not start: $(tail -3 "$T/store.log")"
printf '{"id":"%s","kind":"stack"}' $W |
	"$B/reconctl" --run-dir "$RUN" workload put - >/dev/null ||
	die "unable to put workload $W"

# sse_row N HEADER: N SSE clients for SECS seconds at 1,000 events/s
sse_row() {
	http_start
	load_start
	sleep 1 # the load's first snapshots: every container exists
	"${NICE[@]}" "$B/recon-sse-fanout" --url "$HTTP" -n "$1" -s "$SECS" \
		--pid "$HTTPD" --store-pid "$STORE" --header "$2" ||
		die "recon-sse-fanout -n $1 failed"
	FILLS+=("$1 clients: $(metric recon_http_log_reads_total)")
	load_stop
	http_stop
}

echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); ${SECS}s per" \
	"row; 1,000 events/s (snapshots of 99 containers, 100 events each, 10/s);" \
	"delay = receipt - the event's \`at\` (ms, stamped inside the store's" \
	"write transaction, before commit); cores: CPU seconds per second"
if [ -n "$SMOKE" ]; then
	sse_row 10 1
	exit 0
fi

echo "## SSE clients of recon-http (recon-sse-fanout)"
h=1
FILLS=()
for n in 1 10 100; do
	sse_row "$n" $h
	h=0
done
echo "# reads of the store's log by streams behind recon-http's ring" \
	"(recon_http_log_reads_total, a fresh recon-http each row):" \
	"$(IFS=,; echo "${FILLS[*]}" | sed 's/,/, /g')"
echo "## the same load to nng subscribers (recon-fanout -b 99 -r 1000; no recon-http)"
h=1
for n in 1 10 100; do
	"$B/recon-fanout" --run-dir "$RUN" -w $W -n "$n" -b 99 -r 1000 \
		-s "$SECS" --store-pid "$STORE" --header $h ||
		die "recon-fanout -n $n failed"
	h=0
done

# ---- the store's throughput, with and without 100 SSE clients ----
# each run: a workload and a host of its own, K snapshots of 99
# containers as fast as the store takes them: K * 100 events exactly (the
# first snapshot's 99 are new, each later one flips all 99; one pass each)
echo "## the store's throughput: recon-load -r 0, $K snapshots" \
	"($((K * 100)) events), time until the store's head has them," \
	"without and with 100 SSE clients on recon-http (1 of them never" \
	"reads; then 99 of them never read)"
http_start
run=0
# throughput: sets EV and MS (events, and ms until the head had them)
throughput() {
	local wid="tp$run" h0 t0 t1 want
	run=$((run + 1))
	printf '{"id":"%s","kind":"stack"}' "$wid" |
		"$B/reconctl" workload put - >/dev/null ||
		die "unable to put workload $wid"
	h0=$(head_rev)
	want=$((h0 + K * 100))
	t0=$(date +%s%N)
	"$B/recon-load" --run-dir "$RUN" -w "$wid" --host "$wid" -c 99 -r 0 \
		-n "$K" >>"$T/load.log" 2>&1 &
	LOAD=$!
	until head_at_least "$want"; do
		[ $((($(date +%s%N) - t0) / 1000000)) -gt 120000 ] &&
			die "the store did not reach $want in 120 s (at $(head_rev))"
		sleep 0.01
	done
	t1=$(date +%s%N)
	load_stop
	EV=$((K * 100)) MS=$(((t1 - t0) / 1000000))
}
# with_clients NAME STALLED: a throughput run with 100 SSE clients
# connected, STALLED of them never reading; then until the readers had
# every event (or 120 s), and the clients' row (they print it when
# SIGTERMed)
with_clients() {
	local name=$1 nst=$2 nread=$((100 - $2)) sent0 fills0 fills caught t0
	"${NICE[@]}" "$B/recon-sse-fanout" --url "$HTTP" -n 100 --stalled "$nst" -s 3600 \
		--pid "$HTTPD" --store-pid "$STORE" --header 0 \
		>"$T/clients.txt" 2>"$T/clients.log" &
	CLIENTS=$!
	wait_for 30 streams_open_is 100 || die "100 streams did not open"
	sleep 1
	sent0=$(metric recon_http_events_sent_total)
	fills0=$(metric recon_http_log_reads_total)
	throughput
	echo "$name $EV $MS" >>"$T/tp.txt"
	# the stalled streams' sends count too (what their buffers took), so:
	# at least the readers' share, and no more sends for 0.5 s
	t0=$(date +%s%N)
	if wait_for 120 sent_at_least $((sent0 + nread * EV)) &&
		wait_for 120 sent_settled; then
		caught="had all $EV events about $((($(date +%s%N) - t0) / 1000000 - 500)) ms"
	else
		caught="had not all $EV events 120 s"
	fi
	fills=$(($(metric recon_http_log_reads_total) - fills0))
	kill -TERM "$CLIENTS"
	wait "$CLIENTS"
	CLIENTS=
	echo "# rep $r, $nst stalled: with the store at ${MS} ms, the $nread" \
		"readers $caught after the store's head; streams behind the" \
		"ring read the store's log $fills times; the clients' row over" \
		"the whole connection:"
	cat "$T/clients.txt"
}
: >"$T/tp.txt"
for r in $(seq "$REPS"); do
	throughput
	echo "none $EV $MS" >>"$T/tp.txt"
	with_clients with 1
	# the same connections, but only one reads: what reading costs
	with_clients idle 99
done
python3 - "$T/tp.txt" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ev = int(rows[0][1])
runs = {w: [int(ms) for x, _, ms in rows if x == w]
        for w in ("none", "with", "idle")}
names = {"none": "no SSE clients", "with": "100 SSE clients, 1 stalled",
         "idle": "100 SSE clients, 99 stalled"}
print("%-30s %8s %10s %7s  %s" % ("", "ms (med)", "events/s", "ratio",
                                  "each run, ms"))
base = statistics.median(runs["none"])
for w in ("none", "with", "idle"):
    m = statistics.median(runs[w])
    print("%-30s %8.0f %10.0f %6.2fx  %s" % (names[w], m, ev * 1000 / m,
          m / base, " ".join(map(str, runs[w]))))
print("ratio: time with the clients / time without (1.00x: unchanged)")
EOF
