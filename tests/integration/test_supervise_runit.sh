#!/usr/bin/env bash
# test_supervise_runit.sh: the group under a real runsvdir with
# deploy/runit/ (paths pointed at this build and a temp env dir): sv check
# through reconctl probe, restarts after kill -9, check failing while a
# probe fails, and no restart loop on exit 100.
# usage: test_supervise_runit.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

SV=$T/sv
RUNSVDIR=
runit_cleanup() {
	if [ -n "$RUNSVDIR" ]; then
		# down first: runsv exits on TERM only once its service is down
		sv -w 5 force-stop "$SV"/recon-* "$SV"/recon-*/log >/dev/null 2>&1
		kill -HUP "$RUNSVDIR" 2>/dev/null
		wait "$RUNSVDIR" 2>/dev/null
	fi
	cleanup
}
trap runit_cleanup EXIT

docker_up
image_up
deploy_copy runit "$SV"
mkdir -p "$RUN"

runsvdir "$SV" >"$T/runsvdir.log" 2>&1 &
RUNSVDIR=$!

# `sv status` exits 0 even for a down service: read its words.
svpid() { cat "$SV/$1/supervise/pid" 2>/dev/null; }
is_up() { sv status "$SV/$1" 2>/dev/null | grep -q '^run:'; }

for s in recon-store recon-lister recon-dispatcher; do
	# runsv makes supervise/control before supervise/ok, which sv reads
	wait_for 5 test -p "$SV/$s/supervise/control" -a -p "$SV/$s/supervise/ok"
	check "runit: sv check $s succeeds" sv -w 15 check "$SV/$s"
done
check "reconctl ps works under runit" reconctl ps

workload_put sup2 site
cid=$(ctr_run sup site sup2)
check "the lister indexes a container under runit" \
	wait_for 10 row_state_is sup2:site running
index() { rows_json | jq -c 'map({id, state, container_id}) | sort_by(.id)'; }
before=$(index)
index_intact() { [ "$(index)" = "$before" ]; }

for s in recon-store recon-lister recon-dispatcher; do
	old=$(svpid $s)
	t0=$(date +%s%N)
	kill -9 "$old"
	back() {
		local p
		p=$(svpid $s)
		[ -n "$p" ] && [ "$p" != "$old" ] && sv -w 1 check "$SV/$s"
	}
	# (how fast is read around process spawns: logged, not asserted)
	check "runit: $s back and checked after kill -9" wait_for 10 back
	log "$s back after $((($(date +%s%N) - t0) / 1000000)) ms"
	check "runit: the index is intact after $s was killed" \
		wait_for 5 index_intact
done

# recon-http, the optional fourth: checked through /livez, back after
# kill -9
check "runit: sv check recon-http succeeds" sv -w 15 check "$SV/recon-http"
check "runit: ... and it serves the index" sh -c "curl -fsS '$HTTP/v1/containers' |
	jq -e '.items | map(.id) | index(\"sup2:site\") != null' >/dev/null"
old=$(svpid recon-http)
check "runit: recon-http runs at nice 10, every thread" test "$(nices "$old")" = 10
check "runit: ... the store at 0" test "$(nices "$(svpid recon-store)")" = 0
kill -9 "$old"
http_back() {
	local p
	p=$(svpid recon-http)
	[ -n "$p" ] && [ "$p" != "$old" ] && sv -w 1 check "$SV/recon-http"
}
check "runit: recon-http back and checked after kill -9" wait_for 10 http_back

# sv check fails while the process's probe fails (a stopped process does
# not answer), and succeeds again once it answers.
pid=$(svpid recon-store)
kill -STOP "$pid"
sv -w 2 check "$SV/recon-store" >/dev/null 2>&1
rc=$?
kill -CONT "$pid"
check "runit: sv check fails while the store's probe fails" test "$rc" != 0
check "runit: ... and succeeds once it answers again (the listener guard repairs nng bug 1518 within 5 s)" \
	sv -w 12 check "$SV/recon-store"
check "runit: logs went through svlogd" \
	wait_for 5 grep -q "recon-store" "$SV/recon-store/log/main/current"

# A configuration error (exit 100): finish takes the service down instead
# of restarting it in a loop.
echo soon >"$T/env/RECON_INTERVAL"
kill -9 "$(svpid recon-lister)"
down_for_good() { sv status "$SV/recon-lister" | grep -q '^down:'; }
check "runit: exit 100 leaves the lister down" wait_for 10 down_for_good
# Absence: runsv restarts a service 1 s after it ended; wait twice that.
sleep 2
check "runit: ... and it stays down" down_for_good
check "runit: ... after a single failed start" \
	test "$(grep -c 'invalid value "soon"' "$SV/recon-lister/log/main/current")" = 1
check "runit: the store keeps serving meanwhile" is_up recon-store

finish
