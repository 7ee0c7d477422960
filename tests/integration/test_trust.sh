#!/usr/bin/env bash
# test_trust.sh: SPEC §2's trust rule against the real processes. An
# unprivileged uid that can open every socket forges a snapshot, a delta
# and a plugin result on ingest and a job on jobs, and asks for writes,
# dispatch, resync and secrets on the ctl sockets: each is refused and
# counted, nothing changes, no plugin runs, no secret leaves. Its reads
# and its subscription work. Without access to the run dir it is told
# "permission denied" at once.
# usage: test_trust.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

NOBODY=65534
SECRET=sekrit-trust-41
PLUGINS=$T/plugins
OUT=$T/out
BIN=$T/bin
# nobody must reach the binaries and the output dir (a clone may sit in
# a private temp dir)
chmod 755 "$T"
mkdir -p "$PLUGINS" "$OUT" "$BIN"
chmod 755 "$PLUGINS" "$BIN"
chmod 777 "$OUT"
cp "$BUILD/reconctl" "$BUILD/recon-load" "$BIN/"
cat >"$PLUGINS/mark" <<EOF
#!/bin/sh
echo "\$RECON_WORKLOAD_ID" >>$OUT/mark.ran
EOF
chmod 755 "$PLUGINS/mark"

# as_nobody CMD...: runs CMD as uid/gid 65534 with no groups.
as_nobody() {
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@"
}
# n_reconctl ARGS...: reconctl as nobody; stdout and stderr in $OUT/last.
n_reconctl() {
	as_nobody "$BIN/reconctl" --run-dir "$RUN" "$@" >"$OUT/last" 2>&1
}
# refused ARGS...: reconctl as nobody exits 1 saying forbidden.
refused() {
	local rc=0
	n_reconctl "$@" || rc=$?
	[ "$rc" -eq 1 ] && grep -q forbidden "$OUT/last"
}
counter() { reconctl probe "$1" --json | jq -r ".counters.$2"; }
counter_is() { [ "$(counter "$1" "$2")" = "$3" ]; }
counter_at_least() { [ "$(counter "$1" "$2")" -ge "$3" ]; }
mode_of() { stat -L -c %a "$1"; }

docker_up
image_up
start recon-store --socket-mode 0666 --reader-socket-mode 0666
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
start recon-dispatcher --plugin-dir "$PLUGINS" --socket-mode 0666
start recon-lister --interval 5m --socket-mode 0666
wait_for 10 reconctl probe dispatcher || { bad "dispatcher came up"; exit 1; }
wait_for 20 reconctl probe lister || { bad "lister came up"; exit 1; }

check "the run dir is created 0750" test "$(mode_of "$RUN")" = 750
check "sockets take --socket-mode" test "$(mode_of "$RUN/ingest")" = 666
check "... and --reader-socket-mode" test "$(mode_of "$RUN/events")" = 666

log "== without access to the run dir"
rc=0
as_nobody "$BIN/reconctl" --run-dir "$RUN" probe store >"$OUT/last" 2>&1 || rc=$?
check "a uid without access to the run dir is unreachable (exit 2)" \
	test "$rc" -eq 2
check "... told permission denied, not a timeout" \
	grep -qi "permission denied" "$OUT/last"

chmod 755 "$RUN"

log "== set up as root"
printf '{"id":"w1","name":"w1","kind":"stack","notification_secret":"%s"}' \
	"$SECRET" | reconctl workload put - >/dev/null
ctr_run c1 stack w1 >/dev/null
reconctl resync >/dev/null
DID=$(docker inspect -f '{{.Id}}' "c1-$$")
ROW="w1:$DID"
check "the container's row is running" wait_for 20 row_state_is "$ROW" running
before=$(reconctl ps --json | jq -S 'map(del(.last_seen_at))')
# applied ingest: snapshots, deltas, plugin results
applied() { echo "$(counter store snapshots) $(counter store deltas) $(counter store plugin_results)"; }
applied0=$(applied)

log "== forged ingest: snapshot, delta, plugin result"
BIG=99999999999999
as_nobody "$BIN/recon-load" --run-dir "$RUN" --host local --containers 0 \
	--snapshots 1 --gen $BIG >/dev/null 2>&1
as_nobody "$BIN/recon-load" --run-dir "$RUN" --host local --gen $BIG \
	--delta-gone "$DID" >/dev/null 2>&1
as_nobody "$BIN/recon-load" --run-dir "$RUN" --workloads w1 \
	--plugin-error forged >/dev/null 2>&1
# ingest takes writers only: a peer that may not write is refused at
# connect, before nng reads a byte from it (nng redials, so each of the
# three is refused at least once)
check "the three are refused at connect and counted (pipes_refused >= 3)" \
	wait_for 10 counter_at_least store pipes_refused 3
check "... none applied" test "$(applied)" = "$applied0"

log "== a forged job"
as_nobody "$BIN/recon-load" --run-dir "$RUN" --workloads w1 \
	--dispatch mark >/dev/null 2>&1
check "refused at connect and counted (pipes_refused >= 1)" \
	wait_for 10 counter_at_least dispatcher pipes_refused 1
check "... no run requested" test "$(counter dispatcher requested)" = 0

log "== writes, dispatch, resync and secrets on the ctl sockets"
check "workload put refused" \
	refused workload put - <<<'{"id":"w9","name":"w9","kind":"stack"}'
check "container put refused" \
	refused container put - <<<'{"id":"r9","workload_id":"w1"}'
check "container rm refused" refused container rm "$ROW"
check "workload rm refused" refused workload rm w1
check "workload get --show-secrets refused" \
	refused workload get w1 --show-secrets
check "... and shows no secret" bash -c "! grep -q $SECRET $OUT/last"
check "dispatch refused" refused dispatch w1
check "resync refused" refused resync
check "store.ctl counted 5 refusals" counter_is store ctl_forbidden 5
check "dispatcher.ctl counted 1" counter_is dispatcher ctl_forbidden 1
check "lister.ctl counted 1" counter_is lister ctl_forbidden 1

log "== reads and subscriptions work"
check "ps" n_reconctl ps --json
check "... shows the running row" \
	test "$(jq -r --arg id "$ROW" '.[] | select(.id == $id) | .state' "$OUT/last")" = running
check "workload get" n_reconctl workload get w1 --json
check "... without its secret" bash -c "! grep -q $SECRET $OUT/last"
check "workload ls" n_reconctl workload ls --json
check "probe store" n_reconctl probe store
check "probe lister" n_reconctl probe lister
check "probe dispatcher" n_reconctl probe dispatcher
# setpriv itself in the background (not the as_nobody function, whose
# subshell would be the pid): it execs reconctl, so $! is the watcher
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
	"$BIN/reconctl" --run-dir "$RUN" watch --json >"$OUT/watch" 2>&1 &
WATCH=$!
PIDS+=($WATCH)
# a put until the watcher, subscribing meanwhile, shows one
rel() { grep -q '"topic":"workload/w2"' "$OUT/watch"; }
for _ in $(seq 50); do
	workload_put w2 stack
	rel && break
	sleep 0.1
done
check "a subscriber as nobody sees a change" wait_for 10 rel
stop_pid "$WATCH"

log "== nothing changed, nothing ran, nothing leaked"
after=$(reconctl ps --json | jq -S 'map(del(.last_seen_at))')
check "every row is as before" test "$before" = "$after"
check "no plugin ran" test ! -e "$OUT/mark.ran"
check "... dispatcher runs 0" counter_is dispatcher runs 0
check "w1's plugin status is untouched" \
	test "$(reconctl workload get w1 --json | jq -r .plugin.runs)" = 0
check "no secret in any log" bash -c "! grep -rq $SECRET $T/*.log"
check "root's writes still apply" reconctl workload get w2

finish
