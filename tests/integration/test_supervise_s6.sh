#!/usr/bin/env bash
# test_supervise_s6.sh: the group under a real s6-svscan with deploy/s6/
# (paths pointed at this build and a temp env dir): readiness, restarts
# after kill -9 with the index intact, and no restart loop on exit 100.
# usage: test_supervise_s6.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

SCAN=$T/scan
SVSCAN=
s6_cleanup() {
	if [ -n "$SVSCAN" ]; then
		s6-svscanctl -t "$SCAN" 2>/dev/null
		wait "$SVSCAN" 2>/dev/null
	fi
	cleanup
}
trap s6_cleanup EXIT

docker_up
image_up
deploy_copy s6 "$SCAN"
mkdir -p "$RUN"

s6-svscan "$SCAN" >"$T/s6-svscan.log" 2>&1 &
SVSCAN=$!

svpid() { s6-svstat -o pid "$SCAN/$1"; }
for s in recon-store recon-lister recon-dispatcher; do
	wait_for 5 test -e "$SCAN/$s/supervise/status"
	check "s6: $s reaches ready (s6-svwait -U)" \
		s6-svwait -U -t 15000 "$SCAN/$s"
done
check "reconctl ps works under s6" reconctl ps

workload_put sup1 site
cid=$(ctr_run sup site sup1)
check "the lister indexes a container under s6" \
	wait_for 10 row_state_is sup1:site running
index() { rows_json | jq -c 'map({id, state, container_id}) | sort_by(.id)'; }
before=$(index)
index_intact() { [ "$(index)" = "$before" ]; }

# kill -9 each in turn: restarted and ready again.
for s in recon-store recon-lister recon-dispatcher; do
	old=$(svpid $s)
	t0=$(date +%s%N)
	kill -9 "$old"
	back() {
		local p
		p=$(svpid $s)
		[ "$p" != "$old" ] && [ "$p" != 0 ] &&
			[ "$(s6-svstat -o ready "$SCAN/$s")" = true ] &&
			reconctl probe "${s#recon-}" --timeout 2s
	}
	# (how fast is read around process spawns: logged, not asserted)
	check "s6: $s restarted and ready after kill -9" wait_for 10 back
	log "$s back after $((($(date +%s%N) - t0) / 1000000)) ms"
	check "s6: the index is intact after $s was killed" \
		wait_for 5 index_intact
done
# recon-http, the optional fourth: ready once it serves, back after kill -9
check "s6: recon-http reaches ready (s6-svwait -U)" \
	s6-svwait -U -t 15000 "$SCAN/recon-http"
check "s6: ... and serves /livez" http_ok /livez
check "s6: ... and the index" sh -c "curl -fsS '$HTTP/v1/containers' |
	jq -e '.items | map(.id) | index(\"sup1:site\") != null' >/dev/null"
old=$(svpid recon-http)
check "s6: recon-http runs at nice 10, every thread" test "$(nices "$old")" = 10
check "s6: ... the store at 0" test "$(nices "$(svpid recon-store)")" = 0
kill -9 "$old"
http_back() {
	local p
	p=$(svpid recon-http)
	[ "$p" != "$old" ] && [ "$p" != 0 ] &&
		[ "$(s6-svstat -o ready "$SCAN/recon-http")" = true ] &&
		http_ok /livez
}
check "s6: recon-http restarted and serving after kill -9" wait_for 10 http_back
check "s6: logs went through s6-log" \
	grep -q "recon-store" "$SCAN/recon-store/log/main/current"

# A configuration error (exit 100) is not restarted in a loop: the finish
# script exits 125 and s6-supervise leaves the service down.
echo soon >"$T/env/RECON_INTERVAL"
kill -9 "$(svpid recon-lister)"
down_for_good() {
	[ "$(s6-svstat -o up,wantedup "$SCAN/recon-lister")" = "false false" ]
}
check "s6: exit 100 leaves the lister down" wait_for 10 down_for_good
# Absence: s6-supervise restarts a service 1 s after it ended; wait twice
# that.
sleep 2
check "s6: ... and it stays down" down_for_good
check "s6: ... after a single failed start" \
	test "$(grep -c 'invalid value "soon"' "$SCAN/recon-lister/log/main/current")" = 1
check "s6: the store keeps serving meanwhile" reconctl probe store

finish
