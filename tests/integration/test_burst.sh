#!/usr/bin/env bash
# test_burst.sh: SPEC §2's delivery rule under load. 200 clients at once
# on each ctl socket (probe, ps, dispatch, workload put, resync mixed) all
# get their answer; every dispatch is run or folded, and the counters add
# up exactly. Then 10,000 state jobs pile up while the dispatcher is
# stopped: once it is back every workload's latest job runs, and every
# request is accounted for as sent or folded.
# usage: test_burst.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

N=200
PLUGINS=$T/plugins
OUT=$T/out
mkdir -p "$PLUGINS" "$OUT"
chmod 755 "$T" "$PLUGINS"
cat >"$PLUGINS/noop" <<EOF
#!/bin/sh
echo "\$RECON_WORKLOAD_ID \$RECON_REASON" >>$OUT/runs
EOF
chmod 755 "$PLUGINS/noop"

counter() { reconctl probe "$1" --json | jq -r ".counters.$2"; }
# sum PROC NAME...: the sum of the named counters.
sum() {
	local proc=$1 n=0 c
	shift
	for c in "$@"; do n=$((n + $(counter "$proc" "$c"))); done
	echo $n
}
# The dispatcher's books balance: every run asked for was started or
# folded, and none waits or runs now.
dispatcher_settled() {
	[ "$(counter dispatcher queued) $(counter dispatcher running)" = "0 0" ] &&
		[ "$(counter dispatcher requested)" = "$(sum dispatcher runs folded)" ]
}
# The store's books balance: every job request was folded or sent.
store_settled() {
	[ "$(counter store jobs_requested)" = \
		"$(sum store jobs_folded jobs_requests_sent jobs_requests_void)" ]
}

# many NAME CMD...: runs CMD N times at once (the i-th with $i in the
# environment as I); true when every one exited 0. Exit codes go to
# $OUT/NAME.rc, one per line.
many() {
	local name=$1 pids=() p
	shift
	for i in $(seq "$N"); do
		(I=$i "$@" >/dev/null 2>>"$OUT/$name.err"; echo $? >>"$OUT/$name.rc") &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	[ "$(grep -c '^0$' "$OUT/$name.rc")" -eq "$N" ]
}

docker_up
image_up
start recon-store
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
start recon-dispatcher --plugin-dir "$PLUGINS" --plugin-concurrency 4
start recon-lister --interval 5m
wait_for 10 reconctl probe dispatcher || { bad "dispatcher came up"; exit 1; }
wait_for 20 reconctl probe lister || { bad "lister came up"; exit 1; }
for i in $(seq 0 9); do workload_put "n$i" stack noop; done

log "== $N clients at once on each ctl socket"
store_client() {
	case $((I % 3)) in
	0) reconctl --timeout 60s probe store ;;
	1) reconctl --timeout 60s ps --json ;;
	2) printf '{"id":"p%s","name":"p","kind":"stack"}' "$I" |
		reconctl --timeout 60s workload put - ;;
	esac
}
dispatcher_client() {
	case $((I % 2)) in
	0) reconctl --timeout 60s probe dispatcher ;;
	1) reconctl --timeout 60s dispatch "n$((I / 2 % 10))" ;;
	esac
}
lister_client() {
	case $((I % 2)) in
	0) reconctl --timeout 60s probe lister ;;
	1) reconctl --timeout 60s resync ;;
	esac
}
check "store.ctl: all $N answered ok" many store store_client
check "dispatcher.ctl: all $N answered ok" many dispatcher dispatcher_client
check "lister.ctl: all $N answered ok" many lister lister_client
for p in store dispatcher lister; do
	check "$p.ctl lost no reply" test "$(counter "$p" ctl_replies_lost)" = 0
done
check "the dispatcher passed every dispatch on" \
	test "$(counter dispatcher dispatches_forwarded)" -ge $((N / 2))
check "the store's job books balance" wait_for 30 store_settled
check "the dispatcher's books balance (requested = runs + folded)" \
	wait_for 60 dispatcher_settled
ran_manual() {
	local i
	for i in $(seq 0 9); do
		grep -q "^n$i manual" "$OUT/runs" || return 1
	done
}
check "every dispatched workload ran with reason manual" ran_manual
ran_manual || sort "$OUT/runs" | uniq -c
log "store: $(counter store jobs_requested) requested, $(counter store jobs_folded) folded, $(counter store jobs_requests_sent) sent, $(counter store jobs_requests_void) void; dispatcher: $(counter dispatcher requested) requested, $(counter dispatcher runs) runs, $(counter dispatcher folded) folded"

log "== 10,000 state jobs while the dispatcher is stopped"
stop_pid "$PID_recon_dispatcher"
W=50
wl=""
for i in $(seq 1 $W); do
	workload_put "s$i" stack noop
	wl="$wl${wl:+,}s$i"
done
req0=$(counter store jobs_requested)
snaps0=$(counter store snapshots)
# 21 snapshots of 1,000 containers flipping between running and exited:
# about 500 rows stop with each, a state request each
"$BUILD/recon-load" --host burst --workloads "$wl" --containers 1000 \
	--snapshots 21 --label-prefix "$PREFIX" >/dev/null 2>&1
applied() { [ "$(counter store snapshots)" -ge $((snaps0 + 21)) ]; }
check "the store applied the 21 snapshots" wait_for 60 applied
reqs=$(($(counter store jobs_requested) - req0))
check "at least 10,000 job requests were made ($reqs)" test "$reqs" -ge 10000
check "... and folded while nobody takes them" \
	test "$(counter store jobs_folded)" -ge 9900
: >"$OUT/runs"
start recon-dispatcher --plugin-dir "$PLUGINS" --plugin-concurrency 4
wait_for 10 reconctl probe dispatcher || bad "dispatcher came back"
all_ran() {
	local i
	for i in $(seq 1 $W); do
		grep -q "^s$i state" "$OUT/runs" || return 1
	done
}
check "every workload's state job ran once the dispatcher was back" \
	wait_for 120 all_ran
check "the store's books balance: every request sent or folded" \
	wait_for 30 store_settled
check "the dispatcher's books balance" wait_for 120 dispatcher_settled
log "store: $(counter store jobs_requested) requested, $(counter store jobs_folded) folded, $(counter store jobs_requests_sent) sent in $(counter store jobs_sent) jobs, $(counter store jobs_busy) busy; dispatcher: $(counter dispatcher requested) requested, $(counter dispatcher runs) runs, $(counter dispatcher folded) folded"

finish
