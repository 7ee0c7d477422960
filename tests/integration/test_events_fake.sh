#!/usr/bin/env bash
# test_events_fake.sh: recon-lister's events stream against fake_docker.py,
# for what the real dockerd cannot be made to send: an event cut across
# chunks, several in one chunk, a stream truncated mid-event, garbage, a
# refused or silent subscription, a clean EOF, changes no event announced,
# and a daemon replaced under the lister.
# usage: test_events_fake.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

mkdir -p "$RUN"
SOCK=$T/fake.sock
W=wl-fake

fake_start() {
	python3 "$HERE/fake_docker.py" "$SOCK" --prefix "$PREFIX" \
		--workload $W "$@" >>"$T/fake.log" 2>&1 &
	FAKE_PID=$!
	PIDS+=($FAKE_PID)
	wait_for 10 test -S "$SOCK" || bad "fake came up"
}
fake_stop() { stop_pid "$FAKE_PID"; }
fake() { curl -s --unix-socket "$SOCK" "$@"; }
post() { fake -X POST -d "$2" "http://fake/_fake/$1" >/dev/null; }
stat_of() { fake http://fake/_fake/stats | jq -r "$1"; }
full_lists_gt() { [ "$(stat_of .lists.full)" -gt "$1" ]; }
cid() { fake http://fake/containers/json | jq -r ".[$1].Id"; }
set_state() { post container "{\"id\":\"$1\",\"set\":{\"State\":\"$2\"}}"; }
emit() { post emit "{\"id\":\"$1\",\"action\":\"$2\"${3:+,\"split_ms\":$3}}"; }
# raw_events THEN CHUNK...: chunks as given (JSON-escaped here).
raw_events() {
	local then=$1
	shift
	post events "$(jq -cn --arg how "$then" \
		'{chunks: $ARGS.positional, "then": $how}' --args "$@")"
}

health() { reconctl probe lister --json 2>/dev/null; }
counter() { health | jq -r ".counters.$1"; }
counter_is() { [ "$(counter "$1")" = "$2" ]; }
counter_ge() { [ "$(counter "$1")" -ge "$2" ]; }
state_is() { [ "$(row_field "$W:$1" state)" = "$2" ]; }
ms() { echo $(($(date +%s%N) / 1000000)); }
log_count() { grep -c -- "$1" "$T/recon-lister.log"; }
# never_missing_since REV ROW: no "missing" event for ROW after REV.
never_missing_since() {
	local evs
	# from REV itself, so that a working watch prints at least one event
	evs=$(timeout 1 "$BUILD/reconctl" watch --since $(($1 - 1)) --json \
		2>/dev/null)
	[ -n "$evs" ] || return 1
	! jq -e --arg r "$W:$2" 'select(.op == "missing" and .row.id == $r)' \
		<<<"$evs" >/dev/null
}
rev_now() { reconctl stats --json 2>/dev/null | jq -r .store.stats.rev; }
lister_start() {
	start recon-lister --docker-host "unix://$SOCK" --interval 5m \
		--docker-timeout 1s -v
}

fake_start --containers 3 --unlabelled 1
start recon-store
wait_for 5 reconctl probe store || bad "store came up"
workload_put $W stack
lister_start
check "lister subscribes and lists" wait_for 5 counter_is events_opens 1
check "the first pass came after the subscription" \
	wait_for 5 state_is r0 running
check "three rows" test "$(rows_json | jq length)" = 3
C0=$(cid 0)
C1=$(cid 1)
C2=$(cid 2)

log "an event cut in two chunks 400 ms apart"
set_state "$C0" exited
SPLIT_MS=400
emit "$C0" die $SPLIT_MS &
emitter=$!
# Absence: halfway between the two chunks the lister holds half an event.
sleep "$(awk -v ms=$SPLIT_MS 'BEGIN { print ms / 2000 }')"
check "half an event does nothing yet" \
	test "$(stat_of ".reread_ids[\"$C0\"] // 0")" = 0
wait $emitter
check "the whole event is applied (r0 stopped)" wait_for 2 state_is r0 stopped
check "with one re-read naming it" \
	test "$(stat_of ".reread_ids[\"$C0\"]")" = 1
check "and no reconnect" counter_is events_opens 1

log "three events in one chunk, two for one container: one re-read"
set_state "$C0" running
set_state "$C2" exited
before=$(stat_of .lists.ids)
ev0=$(jq -c --arg id "$C0" --arg p "${PREFIX}workload.id" \
	'{Type:"container",Action:"start",id:$id,
	  Actor:{ID:$id,Attributes:{($p):"wl-fake"}},timeNano:1}' <<<null)
ev2=$(jq -c --arg id "$C2" --arg p "${PREFIX}workload.id" \
	'{Type:"container",Action:"die",id:$id,
	  Actor:{ID:$id,Attributes:{($p):"wl-fake"}},timeNano:1}' <<<null)
raw_events keep "$ev0"$'\n'"$ev2"$'\n'"$ev2"$'\n'
check "r0 running again" wait_for 2 state_is r0 running
check "r2 stopped" wait_for 2 state_is r2 stopped
check "in one re-read call ($(($(stat_of .lists.ids) - before)))" \
	test "$(($(stat_of .lists.ids) - before))" = 1

log "a die the list does not show yet: dockerd logs it before it saves the exit"
reads0=$(stat_of ".reread_ids[\"$C0\"] // 0")
emit "$C0" die # the fake still lists it running
reread_more() { [ "$(stat_of ".reread_ids[\"$C0\"] // 0")" -gt "$reads0" ]; }
# the lister re-read it while the fake still lists it running
wait_for 3 reread_more || bad "a re-read after the die"
set_state "$C0" exited # no event for this
check "the lister reads again until the list agrees (r0 stopped)" \
	wait_for 3 state_is r0 stopped
check "counted as stale reads ($(counter stale_reads))" counter_ge stale_reads 1
reads=$(($(stat_of ".reread_ids[\"$C0\"]") - reads0))
check "after several re-reads of r0 ($reads)" test "$reads" -ge 3
set_state "$C0" running
emit "$C0" start
check "r0 running again" wait_for 2 state_is r0 running

log "well-formed events that are not ours"
opens=$(counter events_opens)
raw_events keep '{"Type":"container","Action":"die","id":"NOT-HEX!"}'$'\n' \
	'[1,2,3]'$'\n' \
	'{"Type":"network","Action":"connect","Actor":{"ID":"abc"}}'$'\n' \
	"{\"Type\":\"container\",\"Action\":\"exec_start: sh\",\"id\":\"$C1\"}"$'\n'
check "counted as bad (2)" wait_for 2 counter_is events_bad 2
check "or ignored (2)" counter_is events_ignored 2
check "and the stream stays open" counter_is events_opens "$opens"

log "a stream truncated in the middle of a destroy event"
rev=$(rev_now)
reads1=$(stat_of ".reread_ids[\"$C1\"] // 0")
full=$(stat_of .lists.full)
cut="{\"Type\":\"container\",\"Action\":\"destroy\",\"id\":\"$C1\""
raw_events close "$cut,\"Actor\":{\"ID\":\"$C1\""
check "the lister reconnects" wait_for 3 counter_is events_opens $((opens + 1))
check "and lists in full after it" \
	wait_for 3 full_lists_gt "$full"
check "the cut event was dropped, logged" \
	grep -q "dropping .* bytes of an unfinished docker event" \
	"$T/recon-lister.log"
check "r1 never turned missing" never_missing_since "$rev" r1
check "r1 was not re-read" \
	test "$(stat_of ".reread_ids[\"$C1\"] // 0")" = "$reads1"
check "r1 is still stopped" state_is r1 stopped

log "garbage after a good event in the same chunk"
set_state "$C2" running
opens=$(counter events_opens)
broken=$(counter events_broken)
rev=$(rev_now)
full=$(stat_of .lists.full)
ev2=$(jq -c --arg id "$C2" '.Action = "start" | .id = $id' <<<"$ev2")
raw_events keep "$ev2"$'\n'"$cut}}"$'\x01garbage\n'
check "the good event is applied (r2 running)" wait_for 2 state_is r2 running
check "the garbage is counted" \
	wait_for 2 counter_is events_broken $((broken + 1))
check "and logged" grep -q "bad JSON in the event stream" "$T/recon-lister.log"
check "the lister reconnects" wait_for 3 counter_is events_opens $((opens + 1))
check "and lists in full" \
	wait_for 3 full_lists_gt "$full"
check "nothing from the broken part: r1 not missing" \
	never_missing_since "$rev" r1
check "r1 is still stopped" state_is r1 stopped

log "a clean EOF"
opens=$(counter events_opens)
relists=$(counter relists)
raw_events end
check "reconnects after EOF" wait_for 3 counter_is events_opens $((opens + 1))
check "and relists" wait_for 3 counter_ge relists $((relists + 1))

log "changes no event announced: found by a pass or a re-read, counted"
missed=$(counter missed_events)
set_state "$C0" exited # no event
reconctl resync >/dev/null
check "resync: the pass finds r0 stopped" wait_for 2 state_is r0 stopped
missed_is() { [ $(($(counter missed_events) - missed)) = "$1" ]; }
check "1 missed event counted, once no event came within 1 s" \
	wait_for 3 missed_is 1
set_state "$C0" running              # no event
post container "{\"id\":\"$C2\",\"remove\":true}" # no event
set_state "$C1" running
emit "$C1" start # announced; its re-read lists the whole workload
check "the announced change shows (r1 running)" wait_for 2 state_is r1 running
check "the re-read finds r0 running" wait_for 2 state_is r0 running
check "and r2 missing" wait_for 2 state_is r2 missing
check "2 more missed events counted, not the announced one" \
	wait_for 3 missed_is 3
# Absence: a change counts as missed 1 s (the lister's grace) after the
# list that found it; wait that long for one more.
sleep 1
check "and no more" missed_is 3

log "the events endpoint refuses: backoff from 100 ms, lists go on"
# A new lister, so the backoff starts from its floor.
stop_pid "$PID_recon_lister"
post config '{"events_status": 500}'
lister_start
check "the first pass runs without the stream" wait_for 5 counter_ge passes 1
# Absence of a tight loop over time: count the attempts in 3 s.
sleep 3
n=$(counter events_attempts)
# waits of 50-100, 100-200, 200-400, 400-800, 800-1600 ms: 5 to 7 tries
check "4 to 8 attempts in about 3 s, not a tight loop (got $n)" \
	test "$n" -ge 4 -a "$n" -le 8
check "logged with the daemon's message" \
	grep -q "events (attempt .*): HTTP 500: fake events refused" \
	"$T/recon-lister.log"
check "the events check fails after 3 x timeout" wait_for 2 \
	test "$(health | jq -r '.checks[] | select(.name=="events") | .ok')" = false
check "the docker check does not" \
	test "$(health | jq -r '.checks[] | select(.name=="docker") | .ok')" = true
check "probe exits 1" bash -c "! '$BUILD/reconctl' probe lister >/dev/null 2>&1"
post config '{"events_status": 0}'
check "once it accepts, the stream reopens" \
	wait_for 40 counter_is events_connected 1
check "and the events check passes" wait_for 2 reconctl probe lister

log "a subscription that is never answered times out"
post config '{"events_hang": true}'
opens=$(counter events_opens)
attempts=$(counter events_attempts)
raw_events end
check "a new attempt starts" \
	wait_for 15 counter_ge events_attempts $((attempts + 1))
check "and times out after 1 s, logged" \
	wait_for 5 grep -q "events (attempt .*): no answer within 1000 ms" \
	"$T/recon-lister.log"
post config '{"events_hang": false}'
check "then reopens" wait_for 40 counter_ge events_opens $((opens + 1))

log "the daemon is replaced; a container appeared meanwhile"
restarts=$(counter daemon_restarts)
fake_stop
t0=$(ms)
check "the stream goes down" wait_for 3 counter_is events_connected 0
NEW=$(printf 'f%063d' 1)
fake_start --containers 3 --unlabelled 1
post container "$(jq -cn --arg id "$NEW" --arg p "${PREFIX}" \
	'{add: {Id: $id, Image: "img", State: "running", Created: 1800000000,
	  Ports: [], Labels: {($p + "workload.id"): "wl-fake",
	  ($p + "role"): "new"}}}')"
check "the lister reconnects by itself" \
	wait_for 40 counter_is events_connected 1
check "in $(($(ms) - t0)) ms; a new daemon pid is seen" \
	counter_ge daemon_restarts $((restarts + 1))
check "the relist finds the new container" wait_for 3 state_is new running
check "and the original three as the new daemon lists them" \
	wait_for 3 state_is r2 running

finish
