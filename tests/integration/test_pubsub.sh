#!/usr/bin/env bash
# test_pubsub.sh: SPEC §3's events and §6's resume, black-box: the real
# recon-store (fed by recon-load, a lister-like snapshot pusher, and by the
# real recon-lister against dockerd), `reconctl watch` and the example
# subscriber (examples/subscriber.c). Every check is on revisions: each
# subscriber must get exactly the committed ones, in order, once.
# usage: test_pubsub.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

STORE_ARGS=(--retain-events 300000)
LOADS=0


# load ARGS...: pushes snapshots as a new lister host (its first snapshot
# then also makes one event per container, like every later one).
load() {
	LOADS=$((LOADS + 1))
	"$BUILD/recon-load" --host "load$LOADS" "$@"
}

# revs FILE: the revisions of a `watch --json` file, complete lines only.
revs() { head -n "$(wc -l <"$1")" "$1" | jq -r .rev; }

# is_range FILE FROM TO: FILE's lines are exactly FROM, FROM+1 .. TO.
is_range() {
	awk -v f="$2" -v t="$3" 'BEGIN { n = f }
		$1 != n { print "  at line " NR ": rev " $1 ", want " n; exit 1 }
		{ n++ } END { if (n != t + 1) { print "  ends at " n - 1 ", want " t; exit 1 } }' "$1"
}

has_lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
is_dead() { ! kill -0 "$1" 2>/dev/null; }

# watch_bg OUT ARGS...: reconctl watch --json ARGS > OUT in the background.
watch_bg() {
	local out=$1
	shift
	"$BUILD/reconctl" watch --json "$@" >"$out" 2>"$out.err" &
	WATCH_PID=$!
	PIDS+=($WATCH_PID)
}

store_up() {
	start recon-store "${STORE_ARGS[@]}" "$@"
	wait_for 10 reconctl probe store
}

# store_down: SIGTERM, and SIGKILL should it not be gone in 10 s (a store
# that hangs in nng's socket close must not hang the test; logged).
store_down() {
	kill -TERM "$PID_recon_store"
	if ! wait_for 10 is_dead "$PID_recon_store"; then
		log "WARN: recon-store did not exit within 10 s of SIGTERM: killed"
		kill -KILL "$PID_recon_store"
	fi
	wait "$PID_recon_store" 2>/dev/null
}

check "store came up" store_up
for w in wa wa2 wb; do
	workload_put "$w" stack
done

# ---- 1. a slow subscriber and 100,000 changes as fast as they commit ----
# 50 snapshots of 2,000 containers, each flipping every container's
# state: 50 * (2,000 + sys/pass) = 100,050 events. The example subscriber
# sleeps after each event, falls behind the stream and fills the gaps from
# the log; a fast `reconctl watch` and a `watch -w wa` run beside it.
N=100050
S=$(head_rev)
"$BUILD/recon-subscriber" "$RUN" -s "$S" -n "$N" -d 40 >"$T/slow.out" \
	2>"$T/slow.err" &
SLOW=$!
PIDS+=($SLOW)
watch_bg "$T/all.json" --since "$S"
ALL=$WATCH_PID
watch_bg "$T/wa.json" --since "$S" -w wa
WA=$WATCH_PID
t0=$(date +%s%N)
load -w wa,wa2,wb -c 2000 -n 50
E=$(head_rev)
t1=$(date +%s%N)
log "100,050 changes committed in $(((t1 - t0) / 1000000)) ms (rev $S -> $E)"
check "the store committed 100,050 changes" test "$E" = $((S + N))
check "slow subscriber ended (all events counted)" wait_for 180 is_dead "$SLOW"
wait "$SLOW"
check "slow subscriber exited 0" test $? = 0
log "slow subscriber: $(tail -1 "$T/slow.err")"
check "slow subscriber: revisions $((S + 1))..$E, in order, once each" \
	is_range "$T/slow.out" $((S + 1)) "$E"
check "slow subscriber: gaps were filled from the log" \
	grep -Eq ' [1-9][0-9]* from the log' "$T/slow.err"
check "watch: all 100,050 events" wait_for 60 has_lines "$T/all.json" "$N"
revs "$T/all.json" >"$T/all.revs"
check "watch: revisions in order, once each" is_range "$T/all.revs" \
	$((S + 1)) "$E"

# ---- 2. prefix filtering ----
# wa's events are every container/wa/... of the full stream; wa2's
# (a longer id with wa as its prefix) and wb's must not come.
jq -r 'select((.topic | startswith("container/wa/")) or .topic == "workload/wa") | .rev' \
	"$T/all.json" >"$T/wa.want"
NWA=$(wc -l <"$T/wa.want")
check "watch -w wa: its $NWA events" wait_for 30 has_lines "$T/wa.json" "$NWA"
# Absence: it has all it should; 0.5 s for anything more (another
# workload's event, a repeat) to show before the exact comparison.
sleep 0.5
revs "$T/wa.json" >"$T/wa.revs"
check "watch -w wa: exactly wa's revisions, in order" \
	cmp -s "$T/wa.revs" "$T/wa.want"
check "watch -w wa: no other workload's topic" \
	test "$(jq -r .topic "$T/wa.json" | grep -cv '^container/wa/')" = 0
kill "$ALL" "$WA"
wait "$ALL" "$WA" 2>/dev/null

# ---- 3. killed halfway, resumed with --since its last revision ----
S=$(head_rev)
watch_bg "$T/p1.json" --since "$S"
P1=$WATCH_PID
load -w wa,wb -c 1000 -n 20 -r 10 &
LOADER=$!
check "first watch got some of the stream" wait_for 30 has_lines "$T/p1.json" 5000
kill -KILL "$P1"
wait "$P1" 2>/dev/null
revs "$T/p1.json" >"$T/p1.revs"
LAST=$(tail -1 "$T/p1.revs")
log "first watch killed at rev $LAST ($(wc -l <"$T/p1.revs") events)"
watch_bg "$T/p2.json" --since "$LAST"
P2=$WATCH_PID
wait "$LOADER"
E=$(head_rev)
check "second watch got the rest" wait_for 60 has_lines "$T/p2.json" $((E - LAST))
# Absence: 0.5 s for a repeat to show before the exact comparison.
sleep 0.5
kill "$P2"
wait "$P2" 2>/dev/null
revs "$T/p2.json" >"$T/p2.revs"
check "resumed watch: exactly the revisions after $LAST" \
	is_range "$T/p2.revs" $((LAST + 1)) "$E"
cat "$T/p1.revs" "$T/p2.revs" >"$T/p12.revs"
check "both watches together: every revision once" \
	is_range "$T/p12.revs" $((S + 1)) "$E"

# ---- 4. recon-store restarted mid-stream ----
S=$(head_rev)
watch_bg "$T/r.json" --since "$S"
RW=$WATCH_PID
"$BUILD/recon-subscriber" "$RUN" -s "$S" >"$T/r.sub" 2>"$T/r.sub.err" &
RS=$!
PIDS+=($RS)
load -w wa,wb -c 1000 -n 40 -r 10 &
LOADER=$!
wait_for 30 has_lines "$T/r.json" 10000
store_down
BEFORE=$(revs "$T/r.json" | tail -1)
log "store stopped; watch had reached rev $BEFORE"
# the store stays away for a while, the loader and the watch meanwhile
# retrying against a stopped store (a scenario, not an assertion)
sleep 1
check "store came back" store_up
wait "$LOADER"
E=$(head_rev)
log "after the restart the head is $E"
check "watch survived the restart" kill -0 "$RW"
check "watch after the restart: all events" \
	wait_for 60 has_lines "$T/r.json" $((E - S))
check "subscriber after the restart: all events" \
	wait_for 60 has_lines "$T/r.sub" $((E - S))
# Absence: 0.5 s for a repeat to show before the exact comparisons.
sleep 0.5
revs "$T/r.json" >"$T/r.revs"
check "watch: revisions continue across the restart, once each" \
	is_range "$T/r.revs" $((S + 1)) "$E"
check "subscriber: revisions continue across the restart, once each" \
	is_range "$T/r.sub" $((S + 1)) "$E"
kill "$RW" "$RS"
wait "$RW" "$RS" 2>/dev/null

# ---- 5. secrets never appear in an event ----
SECRETS=("ns-$$-$RANDOM" "wh-$$-$RANDOM" "whs-$$-$RANDOM")
S=$(head_rev)
watch_bg "$T/sec.json" --since "$S"
SW=$WATCH_PID
printf '{"id":"sec","name":"sec","kind":"stack","notification_url":"https://example.invalid/hook","notification_secret":"%s","webhook_secret":"%s","webhook_signing_secret":"%s"}' \
	"${SECRETS[@]}" | reconctl workload put - >/dev/null
load -w sec -c 5 -n 2
# a plugin that echoes a secret to its stderr (the error text)
load -w sec --plugin-error "auth failed: token ${SECRETS[1]} rejected"
printf '{"id":"sec","name":"sec2","kind":"stack","notification_secret":"%s","webhook_secret":"%s","webhook_signing_secret":"%s"}' \
	"${SECRETS[@]}" | reconctl workload put - >/dev/null
reconctl workload rm sec >/dev/null
E=$(head_rev)
check "secret workload's events arrived" \
	wait_for 30 has_lines "$T/sec.json" $((E - S))
kill "$SW"
wait "$SW" 2>/dev/null
# the same events again, all of them read from the log this time
"$BUILD/reconctl" watch --json --since "$S" >"$T/sec2.json" 2>/dev/null &
SW2=$!
PIDS+=($SW2)
wait_for 30 has_lines "$T/sec2.json" $((E - S))
kill "$SW2"
wait "$SW2" 2>/dev/null
check "workload events (put, plugin, delete) were published" \
	test "$(jq -r 'select(.t == "workload") | .op' "$T/sec.json" | sort -u | tr '\n' ' ')" = "delete plugin put "
check "a plugin's error text has the secret cut out" \
	grep -q 'auth failed: token \[redacted\] rejected' "$T/sec.json"
for f in sec.json sec2.json; do
	for x in "${SECRETS[@]}"; do
		check "no secret in $f (${x%%-*})" \
			test "$(grep -c -- "$x" "$T/$f")" = 0
	done
done

# ---- 6. watch --list: the rows, one synced line, then the changes ----
# While recon-load flips 300 containers of wa and wb ten times a second,
# `watch --list --json` (and one of wa alone) starts. Its list lines and
# then its changes, applied by row id, must give what `ps --json` shows
# once the churn has stopped: the condition is waited for, so it is the
# assertion, and the shape and the revisions are checked exactly.
"$BUILD/reconctl" watch --list --since 1 >/dev/null 2>"$T/ls.err"
check "watch --list --since: usage error (64)" test $? = 64
check "  saying so" grep -q -- "--list and --since" "$T/ls.err"

# complete FILE: its complete lines (the watch may be writing the last).
complete() { head -n "$(wc -l <"$1")" "$1"; }
# applied FILE: row id -> state, from its list lines and then its changes.
applied() {
	complete "$1" | jq -S -s 'reduce (.[] | select(.t == "container")) as $l
		({}; if $l.op == "delete" then del(.[$l.row.id])
		else .[$l.row.id] = $l.row.state end)'
}
# indexed [ARGS]: row id -> state as `ps --json ARGS` shows it.
indexed() { reconctl ps --json "$@" | jq -S 'map({(.id): .state}) | add // {}'; }
# same_as_ps FILE [ARGS]: FILE applied equals the index.
same_as_ps() {
	local f=$1
	shift
	[ "$(applied "$f")" = "$(indexed "$@")" ]
}
# list_shape FILE: "ok N" when FILE is list lines (op list, rev N), one
# synced line of rev N, then only changes after N; else what is wrong.
list_shape() {
	complete "$1" | jq -r -s '(map(.t) | index("synced")) as $i
		| if $i == null then "no synced line"
		elif $i == 0 then "no list line"
		else .[$i].rev as $n
		| if ([.[:$i][] | select(.t != "container" or .op != "list"
			or .rev != $n or (.topic | startswith("container/") | not))]
			| length) > 0 then "a line before synced not a list line of rev \($n)"
		elif (map(select(.t == "synced")) | length) != 1 then "two synced lines"
		elif ([.[$i + 1:][] | select(.op == "list" or .rev <= $n)]
			| length) > 0 then "a list line or rev <= \($n) after synced"
		else "ok \($n)" end end'
}
shape_ok() { list_shape "$1" | grep -q '^ok '; }
# only_listed FILE: how many listed rows no change after the list names.
only_listed() {
	complete "$1" | jq -s '(map(.t) | index("synced")) as $i
		| [.[:$i][].row.id] - [.[$i + 1:][] | select(.t == "container")
		| .row.id] | length'
}

# 40 rows the churn leaves alone (wa2:r0, r2, ... and wa:r1, r3, ...; the
# churn's wa rows are wa:r0, r2, ...): only the list lines carry them
load -w wa2,wa -c 40 -n 1
S=$(head_rev)
load -w wa,wb -c 300 -n 60 -r 10 &
LOADER=$!
churning() { [ "$(head_rev)" -ge $((S + 2 * 301)) ]; }
check "the churn began" wait_for 30 churning
watch_bg "$T/ls.json" --list
LW=$WATCH_PID
watch_bg "$T/lswa.json" --list -w wa
LWA=$WATCH_PID
wait "$LOADER"
E=$(head_rev)
check "watch --list: applied, it equals ps" wait_for 60 same_as_ps "$T/ls.json"
check "watch --list -w wa: applied, it equals ps -w wa" \
	wait_for 60 same_as_ps "$T/lswa.json" -w wa
kill "$LW" "$LWA"
wait "$LW" "$LWA" 2>/dev/null
for f in ls lswa; do
	log "watch --list ($f): $(list_shape "$T/$f.json"), $(grep -c '"op":"list"' "$T/$f.json") list lines, $(wc -l <"$T/$f.json") lines, head $E"
	check "watch --list ($f): list lines, one synced line, then changes" \
		shape_ok "$T/$f.json"
done
N=$(list_shape "$T/ls.json" | awk '{print $2}')
check "watch --list: listed mid-churn (rev $S < ${N:-?} < $E)" \
	test "${N:-0}" -gt "$S" -a "${N:-0}" -lt "$E"
complete "$T/ls.json" | jq -r 'select(.t != "synced" and .op != "list") | .rev' \
	>"$T/ls.revs"
check "watch --list: then every revision after ${N:-?}, once, in order" \
	is_range "$T/ls.revs" $((${N:-0} + 1)) "$E"
check "watch --list: the list carried the 40 rows no change names" \
	test "$(only_listed "$T/ls.json")" -ge 40
check "watch --list -w wa: and wa's 20 of them" \
	test "$(only_listed "$T/lswa.json")" -ge 20
check "watch --list -w wa: only wa's rows listed" \
	test "$(jq -r 'select(.op == "list") | .row.workload_id' "$T/lswa.json" | sort -u)" = wa

# ---- 7. docker stop: exactly one container event, running -> stopped ----
docker_up
image_up
workload_put dk stack
start recon-lister --interval 1s --docker-timeout 5s
check "lister came up" wait_for 10 reconctl probe lister
cid=$(ctr_run dkweb "" dk web)
check "dk:web indexed running" wait_for 20 row_state_is dk:web running
S=$(head_rev)
watch_bg "$T/dk.json" -w dk --since "$S"
DW=$WATCH_PID
docker stop -t 1 "$cid" >/dev/null
check "dk:web shows stopped" wait_for 20 row_state_is dk:web stopped
# Absence: three more passes (counted, not timed), none may repeat the
# change.
lister_passes() { reconctl probe lister --json | jq -r .counters.passes; }
passes_ge() { [ "$(lister_passes)" -ge "$1" ]; }
check "three more passes ran" wait_for 15 passes_ge $(($(lister_passes) + 3))
kill "$DW"
wait "$DW" 2>/dev/null
check "docker stop: exactly one container event" \
	test "$(jq -c 'select(.t == "container")' "$T/dk.json" | wc -l)" = 1
check "docker stop: the event says running -> stopped" \
	test "$(jq -r 'select(.t == "container") | [.op, .prev_state, .row.state, .row.container_id, .topic] | join(" ")' "$T/dk.json")" = \
	"upsert running stopped $cid container/dk/dk:web"
stop_pid "$PID_recon_lister"

# ---- 8. compacted: a subscriber behind by more than --retain-events ----
store_down
STORE_ARGS=(--retain-events 1000)
check "store came up with --retain-events 1000" store_up
S=$(head_rev)
# a watch that stops reading: more events than all the queues between it
# and the store hold, so some are lost on the way and the log no longer
# has them when it reads again
watch_bg "$T/cmp.json" --since "$S"
CW=$WATCH_PID
# it reads: one event of our own has come through it
workload_put cmp-probe stack
wait_for 10 has_lines "$T/cmp.json" 1 || bad "the watch printed the probe event"
kill -STOP "$CW"
load -w wa,wb -c 2000 -n 15
kill -CONT "$CW"
check "stopped watch ended" wait_for 60 is_dead "$CW"
wait "$CW"
check "stopped watch exited 3 (compacted)" test $? = 3
check "it said to list again" grep -q "list again" "$T/cmp.json.err"
revs "$T/cmp.json" >"$T/cmp.revs"
LAST=$(tail -1 "$T/cmp.revs")
log "it had printed up to rev ${LAST:-$S} of $(head_rev)"
check "what it printed before was in order" \
	is_range "$T/cmp.revs" $((S + 1)) "${LAST:-$S}"
"$BUILD/reconctl" watch --since 1 >/dev/null 2>"$T/cmp2.err"
check "watch --since an old revision exits 3" test $? = 3
check "  saying to list again" grep -q "list again" "$T/cmp2.err"
"$BUILD/recon-subscriber" "$RUN" -s 1 >/dev/null 2>&1
check "the example subscriber exits 3 too" test $? = 3

finish
