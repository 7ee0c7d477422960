#!/usr/bin/env bash
# bench/fanout.sh: event delivery through the subscriber client
# (include/recon-client.h) with 1, 10 and 100 subscribers (recon-fanout,
# bench/fanout.c) against a real recon-store in a temporary run and data
# dir; prints one table. Nothing is asserted: the numbers go into README.md
# by hand.
#   bench/fanout.sh [BUILD_DIR] [SECONDS]   (default: build, 10)
set -uo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${1:-build}" && pwd)
SECS=${2:-10}
T=$(mktemp -d /tmp/recon-fanout.XXXXXX)
STORE=
# SIGTERM, then SIGKILL: a store wedged in nng's close must not hang this
cleanup() {
	if [ -n "$STORE" ]; then
		kill -TERM "$STORE" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$STORE" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$STORE" 2>/dev/null
		wait "$STORE" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
export RECON_RUN_DIR=$T/run RECON_DATA_DIR=$T/data

"$B/recon-store" 2>"$T/store.log" &
STORE=$!
for _ in $(seq 50); do
	"$B/reconctl" probe store >/dev/null 2>&1 && break
	sleep 0.1
done
echo '{"id":"bench","name":"bench","kind":"stack"}' |
	"$B/reconctl" workload put - >/dev/null

echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); ${SECS}s per row;" \
	"snapshots of 50 containers (51 events each); delay = receipt - the" \
	"event's \`at\` (ms, stamped inside the write transaction, before commit;" \
	"raw: the send time); cores: CPU seconds per second of each part"
# each recon row follows its baseline: the same subscribers and bursts on
# bare nng PUB/SUB between two processes (what ipc itself can carry here)
"$B/recon-fanout" --raw -n 1 -r 0 -s "$SECS"
"$B/recon-fanout" -n 1 -r 0 -s "$SECS" --store-pid "$STORE" --header 0
for n in 1 10 100; do
	"$B/recon-fanout" --raw -n "$n" -r 5000 -s "$SECS" --header 0
	"$B/recon-fanout" -n "$n" -r 5000 -s "$SECS" --store-pid "$STORE" \
		--header 0
done
