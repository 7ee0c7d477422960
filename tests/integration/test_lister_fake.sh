#!/usr/bin/env bash
# test_lister_fake.sh: recon-lister against fake_docker.py, for what the real
# dockerd cannot show: Docker 29's minimum API version, an upgrade under a
# running lister, truncated and failed lists (R8), hung calls (health and
# SIGTERM stay prompt). Asserted through the lister's health counters.
# usage: test_lister_fake.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

mkdir -p "$RUN"

# fake_start NAME ARGS...: a fake daemon on $T/NAME.sock.
fake_start() {
	local name=$1
	shift
	python3 "$HERE/fake_docker.py" "$T/$name.sock" --prefix "$PREFIX" \
		"$@" >>"$T/fake-$name.log" 2>&1 &
	PIDS+=($!)
	FAKE_PID=$!
	wait_for 20 test -S "$T/$name.sock" || bad "fake $name came up"
}
fake_stop() { stop_pid "$FAKE_PID"; }
fake_get() { curl -s --unix-socket "$T/$1.sock" "http://fake$2"; }
fake_config() {
	curl -s --unix-socket "$T/$1.sock" -X POST -d "$2" \
		http://fake/_fake/config >/dev/null
}

# lister_start NAME ARGS...: a lister on fake NAME, 1 s passes and calls.
lister_start() {
	local name=$1
	shift
	LOGSTART=$(cat "$T/recon-lister.log" 2>/dev/null | wc -l)
	start recon-lister --docker-host "unix://$T/$name.sock" \
		--interval 1s --docker-timeout 1s "$@"
	LPID=$PID_recon_lister
	wait_for 5 reconctl probe lister --live ||
		bad "lister on $name came up"
}
lister_stop() { stop_pid "$LPID"; }
lister_log() { tail -n +$((LOGSTART + 1)) "$T/recon-lister.log"; }
health() { reconctl probe lister --json 2>/dev/null; }
counter() { health | jq -r ".counters.$1"; }
counter_ge() { [ "$(counter "$1")" -ge "$2" ]; }
log_has() { lister_log | grep -q -- "$1"; }
# failed_only: every pass so far failed (no snapshot ever built).
failed_only() {
	local h
	h=$(health)
	[ "$(jq -r .counters.passes <<<"$h")" -ge 2 ] &&
		[ "$(jq -r .counters.passes <<<"$h")" = \
			"$(jq -r .counters.list_failures <<<"$h")" ] &&
		[ "$(jq -r .ready <<<"$h")" = false ] &&
		[ "$(jq -r .counters.snapshots_sent <<<"$h")" = 0 ] &&
		[ "$(jq -r .counters.send_failures <<<"$h")" = 0 ]
}
# requests NAME PATH: how many requests for PATH fake NAME took ("" any).
requests() {
	fake_get "$1" /_fake/stats |
		jq -r --arg p "$2" '.requests | if $p == "" then ([.[]] | add // 0)
			else (.[$p] // 0) end'
}
requests_ge() { [ "$(requests "$1" "$2")" -ge "$3" ]; }

log "new daemon: API 1.47, refuses below 1.44"
fake_start new --api 1.47 --min-api 1.44 --containers 5 --unlabelled 2
lister_start new
check "lister lists from a 1.44+ daemon" wait_for 5 counter_ge passes 2
check "it spoke 1.47 only" test "$(fake_get new /_fake/stats |
	jq -r '.versions | keys | join(",")')" = 1.47
check "5 labelled containers, the 2 others filtered out" \
	test "$(counter containers_last)" = 5
check "no list failed" test "$(counter list_failures)" = 0
check "docker check ok with API 1.47" \
	test "$(health | jq -r '.checks[0].detail' | cut -d, -f1)" = "API 1.47"
lister_stop

log "daemon upgraded under a running lister"
fake_config new '{"api": "1.41", "min_api": "1.12"}'
lister_start new
check "lister speaks 1.41 to the old daemon" wait_for 5 log_has "API 1.41"
fake_config new '{"api": "1.50", "min_api": "1.44"}'
check "after the upgrade it renegotiates to 1.47" \
	wait_for 8 log_has "docker API 1.47 (daemon 1.50"
api_is() { [ "$(health | jq -r '.checks[0].detail' | cut -d, -f1)" = "API $1" ]; }
check "and lists again" wait_for 5 api_is 1.47
check "the refusal was logged" log_has "too old"
lister_stop
fake_stop

log "truncated list body (R8)"
fake_start trunc --truncate --containers 20
lister_start trunc
check "no snapshot from a truncated list" wait_for 5 failed_only
check "logged as truncated JSON" log_has "unable to list containers: truncated JSON"
check "probe says unhealthy (exit 1)" \
	bash -c "! '$BUILD/reconctl' probe lister >/dev/null 2>&1"
check "probe --live still exits 0" reconctl probe lister --live
lister_stop
fake_stop

log "body shorter than its Content-Length (R8)"
fake_start short --short-body --containers 20
lister_start short
check "no snapshot from a short body" wait_for 5 failed_only
lister_stop
fake_stop

log "daemon answers 500"
fake_start err --status 500
lister_start err
check "no snapshot on HTTP 500" wait_for 5 failed_only
check "logged with Docker's message" \
	log_has "HTTP 500: fake daemon error"
lister_stop
fake_stop

log "container list hangs"
fake_start hanglist --hang-list
lister_start hanglist --docker-timeout 1s
# the first list is in flight (it hangs for the 1 s Docker timeout)
wait_for 5 requests_ge hanglist /containers/json 1 ||
	bad "the list reached the fake"
# probe exits 2 when no reply came within its timeout, 0 or 1 otherwise.
# (2 s: that it answers is the point; how fast is bench/'s to measure)
"$BUILD/reconctl" probe lister --timeout 2s >/dev/null 2>&1
check "health answers during a hung list (rc $?)" test $? != 2
"$BUILD/reconctl" probe lister --live --timeout 2s >/dev/null 2>&1
check "so does a --live probe" test $? = 0
check "timed out lists send nothing" wait_for 6 failed_only
check "logged the timeout" log_has "no answer within 1000 ms"
lister_stop
fake_stop

log "a healthy daemon starts hanging, then comes back"
fake_start flaky --containers 2
lister_start flaky --docker-timeout 1s
check "healthy while lists succeed" wait_for 5 reconctl probe lister
fake_config flaky '{"hang_list": true}'
check "unhealthy once no list succeeded for 3 x timeout" \
	wait_for 8 bash -c "! '$BUILD/reconctl' probe lister >/dev/null 2>&1"
detail=$(health | jq -r '.checks[0].detail')
# The lister's own clock, not one read around process spawns: its last
# list was 3 to 5 s before, so it turned unhealthy within 5 s of the hang
# and not before 3 s without a list.
check "not before 3 s without a list, nor after 5 s, and says why: $detail" \
	grep -Eq '^last list [3-5] s ago: no answer within 1000 ms' <<<"$detail"
check "still ready (a list did succeed once)" \
	test "$(health | jq -r .ready)" = true
fake_config flaky '{"hang_list": false}'
check "healthy again once lists succeed" wait_for 8 reconctl probe lister
lister_stop
fake_stop

log "every call hangs; SIGTERM with a call in flight"
fake_start hang --hang
lister_start hang --docker-timeout 60s
# a call in flight: the fake took a request and never answers it
wait_for 5 requests_ge hang "" 1 || bad "a call reached the fake"
t0=$(now_ms)
kill -TERM "$LPID"
wait "$LPID"
rc=$?
took=$(($(now_ms) - t0))
check "exit 0 on SIGTERM during a hung call (rc $rc)" test "$rc" = 0
check "within 1 s ($took ms)" test "$took" -lt 1000
fake_stop

log "R8: a container whose labels the lister refuses keeps its row"
start recon-store
wait_for 10 reconctl probe store || bad "store came up"
workload_put w8 stack
ctr8() { # ctr8 ID ROLE [EXTRA_LABEL_VALUE]
	jq -nc --arg id "$1" --arg p "$PREFIX" --arg role "$2" --arg x "${3:-}" \
		'{Id: $id, Names: ["/" + $id], Image: "i", State: "running",
		  Created: 1, Ports: [],
		  Labels: ({($p + "workload.id"): "w8", ($p + "role"): $role}
		           + (if $x == "" then {} else {($p + "note"): $x} end))}'
}
C8A=8a$(printf '%062d' 1)
C8B=8b$(printf '%062d' 2)
fake_start r8
fake_config r8 "{\"list\": [$(ctr8 "$C8A" a), $(ctr8 "$C8B" b)]}"
lister_start r8
row_running() { [ "$(reconctl ps --json | jq -r --arg id "$1" \
	'.[] | select(.id == $id) | .state')" = running ]; }
check "both rows are running" wait_for 10 row_running w8:a
wait_for 10 row_running w8:b
# a's labels grow past what the wire carries (a 5,000-byte value)
big=$(head -c 5000 /dev/zero | tr '\0' x)
ctr8 "$C8A" a "$big" | jq -c '{id: .Id, set: {Labels}}' |
	curl -s --unix-socket "$T/r8.sock" -X POST -d @- \
		http://fake/_fake/container >/dev/null
store_counter() { reconctl probe store --json | jq -r ".counters.$1"; }
store_counter_ge() { [ "$(store_counter "$1")" -ge "$2" ]; }
check "the lister skips a" wait_for 10 counter_ge containers_skipped 1
# three complete passes after the skip (absence: a is not swept)
snaps=$(store_counter snapshots)
check "passes go on" wait_for 10 store_counter_ge snapshots $((snaps + 3))
check "a's row is not swept while its container runs" row_running w8:a
check "... kept by the store's sweep (sweep_kept)" \
	store_counter_ge sweep_kept 1
curl -s --unix-socket "$T/r8.sock" -X POST -d "{\"id\": \"$C8A\", \"remove\": true}" \
	http://fake/_fake/container >/dev/null
row_missing() { [ "$(reconctl ps --json | jq -r --arg id "$1" \
	'.[] | select(.id == $id) | .state')" = missing ]; }
check "gone for real, a's row is swept" wait_for 10 row_missing w8:a
check "b's row stayed running throughout" row_running w8:b
lister_stop
fake_stop
stop_pid "$PID_recon_store"

log "options"
fake_start opts
lister_start opts --interval 10m
check "an interval above 5m is clamped, and said" log_has "clamped to 5m"
lister_stop
lister_start opts --interval 0
check "interval 0 means 30s" log_has "every 30000 ms"
check "a second instance exits 111" bash -c \
	"'$BUILD/recon-lister' --docker-host unix://$T/opts.sock 2>/dev/null; \
	test \$? = 111"
lister_stop
fake_stop
for bad_opt in "--docker-timeout 0" "--docker-host ssh://h" \
	"--label-prefix a\"b" "--host-name a/b" "--no-such-flag"; do
	# shellcheck disable=SC2086
	"$BUILD/recon-lister" $bad_opt >/dev/null 2>&1
	check "usage error exits 100: $bad_opt" test $? = 100
done

finish
