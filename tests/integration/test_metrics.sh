#!/usr/bin/env bash
# test_metrics.sh: `reconctl stats --prometheus` with the three daemons up,
# and with one down, is text promtool accepts without a complaint (SPEC
# §11's /metrics rules: HELP and TYPE, _total, base units, recon_up).
# usage: test_metrics.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

docker_up
image_up

PLUGINS=$T/plugins
mkdir -p "$PLUGINS"
chmod 755 "$T" "$PLUGINS"
start recon-store
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
start recon-lister --interval 1s --docker-timeout 2s
start recon-dispatcher --plugin-dir "$PLUGINS"
wait_for 10 reconctl probe lister || { bad "lister came up"; exit 1; }
wait_for 10 reconctl probe dispatcher || { bad "dispatcher came up"; exit 1; }

# some numbers that are not zero: a workload, its container, a pass
workload_put m1 site
ctr_run m1 site m1 >/dev/null
check "a container's row" wait_for 10 row_state_is m1:site running

scrape() { reconctl stats --prometheus >"$T/metrics.txt"; }
# promtool_clean: promtool says nothing about the text (or is missing)
promtool_clean() {
	if ! command -v promtool >/dev/null; then
		log "promtool missing (Debian: prometheus): its check skipped"
		return 0
	fi
	promtool check metrics <"$T/metrics.txt" >"$T/promtool.txt" 2>&1
	local rc=$?
	sed 's/^/    promtool: /' "$T/promtool.txt"
	[ $rc -eq 0 ] && [ ! -s "$T/promtool.txt" ]
}
line() { grep -qx -- "$1" "$T/metrics.txt"; }
family() { grep -q "^# TYPE $1 $2\$" "$T/metrics.txt"; }

check "stats --prometheus with all three up exits 0" scrape
check "promtool check metrics: no complaint" promtool_clean
for p in store lister dispatcher; do
	check "recon_up{process=\"$p\"} 1" line "recon_up{process=\"$p\"} 1"
done
check "a family for what every process has, labelled" \
	grep -q '^recon_ctl_requests_total{process="store"} [1-9]' \
	"$T/metrics.txt"
check "counters are counters named _total" \
	family recon_store_snapshots_total counter
check "the list's duration is one series, in seconds" \
	family recon_lister_list_duration_seconds gauge
check "... with no _ms or _us twin" \
	sh -c "! grep -Eq 'list_(ms|us)' '$T/metrics.txt'"
check "the map's size in bytes" family recon_store_map_size_bytes gauge
check "no untyped family" sh -c "! grep -q untyped '$T/metrics.txt'"
check "every TYPE has its HELP" test \
	"$(grep -c '^# TYPE ' "$T/metrics.txt")" = \
	"$(grep -c '^# HELP ' "$T/metrics.txt")"

stop_pid "$PID_recon_dispatcher"
wait_for 5 sh -c "! '$BUILD/reconctl' probe dispatcher" ||
	bad "dispatcher stopped"
scrape
check "with the dispatcher down: recon_up 0" \
	line 'recon_up{process="dispatcher"} 0'
check "... and still no complaint from promtool" promtool_clean

finish
