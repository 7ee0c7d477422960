#!/usr/bin/env bash
# test_lifecycle.sh: SPEC §7 outside a supervisor: exit codes (100 usage or
# configuration, 111 resource), one instance per run dir, readiness on
# --notify-fd, SIGTERM under load, probes with a frozen dockerd.
# usage: test_lifecycle.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

docker_up
mkdir -p "$RUN"

# exit_code CMD...: runs a daemon that must exit by itself within 5 s.
exit_code() {
	timeout 5 "$@" >"$T/out.txt" 2>"$T/err.txt"
	echo $?
}
one_line_reason() { [ "$(wc -l <"$T/err.txt")" -ge 1 ] && [ -s "$T/err.txt" ]; }

for d in recon-store recon-lister recon-dispatcher; do
	check "$d: a bad flag exits 100" \
		test "$(exit_code "$BUILD/$d" --no-such-flag)" = 100
	check "$d: ... with a reason on stderr" \
		grep -q "no-such-flag" "$T/err.txt"
	check "$d: a bad log format exits 100" \
		test "$(exit_code "$BUILD/$d" --log-format xml)" = 100
	check "$d: --help exits 0 and documents --run-dir" \
		sh -c "'$BUILD/$d' --help | grep -q -- --run-dir"
	check "$d: --version exits 0" "$BUILD/$d" --version
done
check "recon-lister: a bad interval from the environment exits 100" \
	test "$(RECON_INTERVAL=soon exit_code "$BUILD/recon-lister")" = 100

# A data dir that is a file, and one the store's user cannot read.
touch "$T/afile"
check "recon-store: a data dir that is a file exits 100" \
	test "$(exit_code "$BUILD/recon-store" --data-dir "$T/afile")" = 100
check "... saying why in one line" one_line_reason
mkdir -p "$T/locked" "$T/nobody-run"
chmod 000 "$T/locked"
chmod 777 "$T/nobody-run"
chmod 755 "$T"
rc=$(exit_code setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$BUILD/recon-store" --run-dir "$T/nobody-run" --data-dir "$T/locked/data")
check "recon-store: an unreadable data dir exits 100 (got $rc)" test "$rc" = 100
check "... saying why" grep -q "locked" "$T/err.txt"

# Readiness: a newline on the notify fd once the sockets are bound.
exec 9>"$T/ready"
start recon-store --notify-fd 9
exec 9>&-
check "recon-store writes readiness to --notify-fd" \
	wait_for 5 test -s "$T/ready"
# (2 s: answering is the point; how fast is bench/'s to measure)
check "... and answers once ready" reconctl probe store --timeout 2s

# One instance per run dir.
rc=$(exit_code "$BUILD/recon-store")
check "a second recon-store exits 111" test "$rc" = 111
check "... naming the holder" grep -q "pid $PID_recon_store" "$T/err.txt"
check "the first store keeps serving" reconctl probe store --timeout 2s

start recon-lister --interval 500ms --docker-timeout 1s
start recon-dispatcher
check "lister ready" wait_for 10 reconctl probe lister
check "dispatcher ready" wait_for 10 reconctl probe dispatcher

# A frozen dockerd: the default probe of the lister fails (exit 1: it
# answers, naming the docker check) once no list succeeded for 3 x the
# Docker timeout; --live still succeeds, so a supervisor would not restart
# it in a loop.
probe_rc() {
	reconctl probe lister --timeout 2s 2>"$T/probe.txt"
	echo $?
}
lister_unhealthy() { [ "$(probe_rc)" = 1 ]; }
check "dockerd frozen" dockerd_freeze
dpid=$DPID
wait_for 15 lister_unhealthy
rc=$(probe_rc)
reconctl probe lister --live --timeout 2s >/dev/null 2>&1
live=$?
reconctl probe store --timeout 2s >/dev/null 2>&1
store_ok=$?
kill -CONT "$dpid"
check "frozen dockerd: probe lister answers and exits 1 (got $rc)" test "$rc" = 1
check "... naming the docker check" grep -q "docker" "$T/probe.txt"
check "frozen dockerd: probe lister --live exits 0" test "$live" = 0
check "frozen dockerd: the store stays healthy" test "$store_ok" = 0
check "lister healthy again after the thaw" \
	wait_for 10 reconctl probe lister

# nng 1.5.2's bug 1518: a client that gives up during the SP negotiation
# (here: against a stopped store) stops the ipc listener from handing over
# new connections. The keeper notices and puts a new listener in its
# place.
# (timeout 10: a guard; exit 2 says the probe gave up by itself)
kill -STOP "$PID_recon_store"
timeout 10 "$BUILD/reconctl" probe store --timeout 300ms >/dev/null 2>&1
rc=$?
kill -CONT "$PID_recon_store"
check "a probe of a stopped store gives up by itself with exit 2 (got $rc)" \
	test "$rc" = 2
check "the store answers again after the wedge" \
	wait_for 20 reconctl probe store --timeout 500ms
check "... and counted the listener it replaced" \
	test "$(reconctl probe store --json | jq .counters.listener_repairs)" -ge 1

# Unreachable is 2.
check "probe of a process that is not running exits 2" \
	sh -c "'$BUILD/reconctl' --run-dir '$T/nowhere' probe store --timeout 200ms 2>/dev/null; test \$? = 2"

# SIGTERM under load: each exits 0 within a second; the LMDB passes
# mdb_stat afterwards.
workload_put load1 site
(for i in $(seq 2000); do
	printf '{"id":"w%d","name":"n","kind":"stack"}' "$i" |
		"$BUILD/reconctl" workload put - >/dev/null 2>&1 || break
done) &
loader=$!
loaded() { [ "$(reconctl workload ls --json | jq length)" -ge 20 ]; }
wait_for 30 loaded || bad "the loader wrote 20 workloads"
for d in recon-lister recon-dispatcher recon-store; do
	var="PID_${d//-/_}"
	pid=${!var}
	t0=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "$d: SIGTERM under load exits 0 (got $rc)" test "$rc" = 0
	check "$d: ... within 1 s (${ms} ms)" test "$ms" -lt 1000
done
kill "$loader" 2>/dev/null
wait "$loader" 2>/dev/null
PIDS=()
check "the data passes mdb_stat after SIGTERM" mdb_stat -a "$DATA" >/dev/null
check "reconctl dump reads the stopped store's data" \
	sh -c "'$BUILD/reconctl' dump --data-dir '$DATA' >'$T/dump.json'"
check "... with the workloads, without secrets" \
	test "$(jq '[.workloads[] | select(.id == "load1")] | length' "$T/dump.json")" = 1
check "... and its head revision" \
	test "$(jq '.rev > 0' "$T/dump.json")" = true
start recon-store
check "the store reopens its data" wait_for 5 reconctl probe store
check "... with the workloads written before the stop" \
	test "$(reconctl workload ls --json | jq 'map(select(.id == "load1")) | length')" = 1

finish
