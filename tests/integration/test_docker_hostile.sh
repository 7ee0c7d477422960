#!/usr/bin/env bash
# test_docker_hostile.sh: a Docker daemon that misbehaves (fake_docker.py):
# a list body that never ends, invalid UTF-8 in a string, a 1 MiB label
# value, 100,000 labels, garbage between the events of the stream. After
# each: the pass is refused with a logged reason (or the container is
# skipped, R8), no row is swept, the lister answers, its memory is bounded,
# and the next good answer reaches the index.
# usage: test_docker_hostile.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

mkdir -p "$RUN"
SOCK=$T/fake.sock
W=wl-hostile
MIB=1048576
BODY_MAX=$((256 * MIB)) # lister/docker.h DOCKER_BODY_MAX

python3 "$HERE/fake_docker.py" "$SOCK" --prefix "$PREFIX" --workload $W \
	--containers 3 --unlabelled 1 >>"$T/fake.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -S "$SOCK" || bad "fake came up"
fake() { curl -s --unix-socket "$SOCK" "$@"; }
post() { fake -X POST -d "$2" "http://fake/_fake/$1" >/dev/null; }
# post_file WHAT: the request body on stdin (too large for an argument).
post_file() { fake -X POST --data-binary @- "http://fake/_fake/$1" >/dev/null; }
stat_of() { fake http://fake/_fake/stats | jq -r "$1"; }
cid() { fake http://fake/containers/json | jq -r ".[$1].Id"; }
set_field() { post container "{\"id\":\"$1\",\"set\":{\"$2\":$3}}"; }
# event ID ACTION: one event's text, as the fake would send it.
event() {
	fake -X POST -d "{\"id\":\"$1\",\"action\":\"$2\",\"dry\":true}" \
		http://fake/_fake/emit | jq -r .event
}
# raw_events CHUNK...: each string one chunk of the open stream (latin-1).
raw_events() {
	jq -cn '{chunks: $ARGS.positional, then: "keep"}' --args "$@" |
		post_file events
}

health() { reconctl probe lister --json 2>/dev/null; }
counter() { health | jq -r ".counters.$1"; }
counter_ge() { [ "$(counter "$1")" -ge "$2" ]; }
scounter() { reconctl probe store --json 2>/dev/null | jq -r ".counters.$1"; }
scounter_ge() { [ "$(scounter "$1")" -ge "$2" ]; }
state_is() { [ "$(row_field "$W:$1" state)" = "$2" ]; }
live() { reconctl probe lister --live >/dev/null; }
events_up() { [ "$(counter events_connected)" = 1 ]; }
endless_sent_ge() { [ "$(stat_of .endless_bytes)" -ge "$1" ]; }
log_has() { grep -q -- "$1" "$T/recon-lister.log"; }
# kB of the process's resident set (VmRSS) or its peak (VmHWM).
rss_kb() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"; }

start recon-store
wait_for 10 reconctl probe store || bad "store came up"
workload_put $W stack
start recon-lister --docker-host "unix://$SOCK" --interval 1s \
	--docker-timeout 10s
LPID=$PID_recon_lister
SPID=$PID_recon_store
check "lister lists the three containers" wait_for 10 state_is r2 running
C0=$(cid 0)
C1=$(cid 1)
C2=$(cid 2)
LABELS2=$(fake http://fake/containers/json | jq -c '.[2].Labels')
check "rows: r0 running, r1 stopped, r2 running" \
	bash -c "[ \"\$('$BUILD/reconctl' ps --json | jq -r 'map(.state) | join(\",\")')\" = running,stopped,running ]"
RSS0=$(rss_kb "$LPID")
log "lister RSS at start: $RSS0 kB"

# intact: no row was ever swept (the store counts every row it made
# missing), the rows are as they were, the index is valid JSON and the
# lister's loop answers.
intact() {
	check "$1: no row swept (rows_missing 0)" test "$(scounter rows_missing)" = 0
	check "$1: r0 running" state_is r0 running
	check "$1: r1 stopped" state_is r1 stopped
	check "$1: r2 ${2:-running}" state_is r2 "${2:-running}"
	check "$1: reconctl ps --json is JSON" \
		bash -c "'$BUILD/reconctl' ps --json | jq -e 'length == 3' >/dev/null"
	check "$1: the lister answers (probe --live)" live
}
# passes_go_on N: N more snapshots reach the store.
passes_go_on() {
	local n
	n=$(scounter snapshots)
	wait_for 15 scounter_ge snapshots $((n + $1))
}
# recovers WHAT: a change Docker makes now (r1 starts, with no event)
# reaches the index with the next pass; then r1 stops again.
recovers() {
	local t0
	t0=$(now_ms)
	set_field "$C1" State '"running"'
	check "$1: the next good answer reaches the index (r1 running)" \
		wait_for 10 state_is r1 running
	log "$1: recovered in $(($(now_ms) - t0)) ms"
	set_field "$C1" State '"exited"'
	wait_for 10 state_is r1 stopped || bad "$1: r1 stopped again"
}

log "a list body that never ends"
fails=$(counter list_failures)
post config '{"endless": true}'
check "endless: the pass is refused at the body cap" \
	wait_for 20 log_has "unable to list containers: response larger than $BODY_MAX bytes"
check "endless: counted (list_failures)" counter_ge list_failures $((fails + 1))
check "endless: the fake sent at least the cap" \
	wait_for 5 endless_sent_ge $BODY_MAX
# a second refused pass, then back to a good list
check "endless: refused again" wait_for 20 counter_ge list_failures $((fails + 2))
post config '{"endless": false}'
intact endless
HWM=$(rss_kb "$LPID" VmHWM)
recovers endless
RSS1=$(rss_kb "$LPID")
log "endless: lister RSS peak $HWM kB, $RSS1 kB after the next good pass"
check "endless: peak RSS within the body cap + 64 MiB ($HWM kB)" \
	test "$HWM" -le $(((BODY_MAX + 64 * MIB) / 1024))
check "endless: the body's memory is given back ($RSS1 kB <= 64 MiB)" \
	test "$RSS1" -le $((64 * 1024))

log "invalid UTF-8 in a string (State)"
skipped=$(counter containers_skipped)
kept=$(scounter sweep_kept)
set_field "$C2" State '"run@FF@ning"'
post config '{"body_subst": [["@FF@", "\u00ff\u00fe"]]}'
check "utf8: the container is skipped (R8)" \
	wait_for 10 counter_ge containers_skipped $((skipped + 1))
check "utf8: and logged" log_has "ignoring container ${C2:0:12}: .*not UTF-8"
check "utf8: three passes go on" passes_go_on 3
check "utf8: r2's row kept by the sweep (sweep_kept)" \
	scounter_ge sweep_kept $((kept + 1))
intact utf8
# the same bytes as a JSON escape of a lone surrogate: read as U+FFFD, as
# json-c does; the index stays valid UTF-8
post config '{"body_subst": [["@FF@", "\\ud800"]]}'
check "utf8: a lone surrogate escape reads as U+FFFD" \
	wait_for 10 state_is r2 $'run\xef\xbf\xbdning'
check "utf8: ps --json still JSON" \
	bash -c "'$BUILD/reconctl' ps --json | jq -e . >/dev/null"
post config '{"body_subst": null}'
set_field "$C2" State '"running"'
check "utf8: r2 running again" wait_for 10 state_is r2 running
recovers utf8
log "utf8: lister RSS $(rss_kb "$LPID") kB"

log "a 1 MiB label value"
skipped=$(counter containers_skipped)
post container "{\"id\":\"$C2\",\"labels_fill\":{\"prefix\":\"${PREFIX}big\",\"count\":1,\"size\":$MIB}}"
check "1mib: the container is skipped (R8)" \
	wait_for 10 counter_ge containers_skipped $((skipped + 1))
check "1mib: and logged" \
	log_has "ignoring container ${C2:0:12}: a label is too long"
check "1mib: three passes go on" passes_go_on 3
intact 1mib
# its event carries the label too: longer than an event may be read.
# Docker replays it on every reconnect, so it must not break the stream:
# it is skipped, and a list finds what it said.
broken=$(counter events_broken)
opens=$(counter events_opens)
evbad=$(counter events_bad)
relists=$(counter relists)
set_field "$C1" State '"running"'
post emit "{\"id\":\"$C2\",\"action\":\"die\"}"
post emit "{\"id\":\"$C1\",\"action\":\"start\"}"
check "1mib: its event is skipped, counted" \
	wait_for 5 counter_ge events_bad $((evbad + 1))
check "1mib: logged" log_has "an event longer than 1 MiB (PARSE_EVENT_MAX), skipped unread"
check "1mib: and a list asked for" wait_for 5 counter_ge relists $((relists + 1))
check "1mib: the next event reads (r1 running)" wait_for 5 state_is r1 running
check "1mib: the stream was not broken" \
	test "$(counter events_broken)" = "$broken"
check "1mib: nor reopened" test "$(counter events_opens)" = "$opens"
set_field "$C1" State '"exited"'
post emit "{\"id\":\"$C1\",\"action\":\"die\"}"
check "1mib: r1 stopped again" wait_for 5 state_is r1 stopped
intact 1mib-event
log "1mib: lister RSS $(rss_kb "$LPID") kB"
# the same value under a label that is not ours: not kept, so not refused
set_field "$C2" Labels "$LABELS2"
post container "{\"id\":\"$C2\",\"labels_fill\":{\"prefix\":\"com.example.big\",\"count\":1,\"size\":$MIB}}"
passes_go_on 2 || bad "1mib (not ours): passes"
skipped=$(counter containers_skipped)
check "1mib (not ours): passes go on" passes_go_on 3
check "1mib (not ours): not skipped" \
	test "$(counter containers_skipped)" = "$skipped"
check "1mib (not ours): three containers listed" \
	test "$(counter containers_last)" = 3
set_field "$C2" Labels "$LABELS2"
recovers 1mib

log "100,000 labels"
post container "{\"id\":\"$C2\",\"labels_fill\":{\"prefix\":\"com.example.l\",\"count\":100000,\"size\":8}}"
check "100k (not ours): passes go on" passes_go_on 3
check "100k (not ours): three containers listed" \
	test "$(counter containers_last)" = 3
intact 100k
log "100k (not ours): list took $(counter list_ms_last) ms, lister RSS $(rss_kb "$LPID") kB"
set_field "$C2" Labels "$LABELS2"
# ours: every one goes to the store with the snapshot
post container "{\"id\":\"$C2\",\"labels_fill\":{\"prefix\":\"${PREFIX}l\",\"count\":100000,\"size\":8}}"
check "100k (ours): passes go on" passes_go_on 3
intact 100k-ours
HWM=$(rss_kb "$LPID" VmHWM)
log "100k (ours): list took $(counter list_ms_last) ms, lister RSS $(rss_kb "$LPID") kB, store RSS $(rss_kb "$SPID") kB"
set_field "$C2" Labels "$LABELS2"
recovers 100k
RSS1=$(rss_kb "$LPID")
log "100k: lister RSS $RSS1 kB after the next good pass"
check "100k: lister RSS bounded ($RSS1 kB <= 64 MiB)" test "$RSS1" -le $((64 * 1024))

log "garbage between the events of the stream"
wait_for 5 events_up || bad "events stream is up"
opens=$(counter events_opens)
broken=$(counter events_broken)
evbad=$(counter events_bad)
# JSON that is no event between two events: each ignored, the stream lives
set_field "$C0" State '"exited"'
set_field "$C2" State '"exited"'
raw_events "$(event "$C0" die)" $'{"hello": 1}\n[1, 2]\n"text"\n' \
	"$(event "$C2" die)"
check "json garbage: the events around it are applied (r0 stopped)" \
	wait_for 5 state_is r0 stopped
check "json garbage: (r2 stopped)" wait_for 5 state_is r2 stopped
check "json garbage: counted as bad events (3)" \
	wait_for 5 counter_ge events_bad $((evbad + 3))
check "json garbage: the stream was not broken" \
	test "$(counter events_broken)" = "$broken"
check "json garbage: nor reopened" test "$(counter events_opens)" = "$opens"
set_field "$C0" State '"running"'
set_field "$C2" State '"running"'
raw_events "$(event "$C0" start)$(event "$C2" start)"
wait_for 5 state_is r2 running || bad "json garbage: r2 running again"
wait_for 5 state_is r0 running || bad "json garbage: r0 running again"
intact json-garbage
# bytes that are no JSON: the stream breaks after the first event; the
# second event is lost with it, and the relist after the reconnect finds
# what it said
set_field "$C0" State '"exited"'
set_field "$C2" State '"exited"'
# (\xc3\xbf is U+00FF, sent as the byte 0xff)
raw_events "$(event "$C0" die)" $'\x01\xc3\xbfgarbage\n' "$(event "$C2" die)"
check "garbage: the event before it is applied (r0 stopped)" \
	wait_for 5 state_is r0 stopped
check "garbage: the stream breaks, counted" \
	wait_for 5 counter_ge events_broken $((broken + 1))
check "garbage: logged" log_has "bad JSON in the event stream"
check "garbage: the lister subscribes again" \
	wait_for 5 counter_ge events_opens $((opens + 1))
check "garbage: the relist finds what the lost event said (r2 stopped)" \
	wait_for 5 state_is r2 stopped
set_field "$C0" State '"running"'
set_field "$C2" State '"running"'
check "garbage: r0 running again" wait_for 10 state_is r0 running
check "garbage: r2 running again" wait_for 10 state_is r2 running
intact garbage
# 2 MiB of garbage JSON in one event, in two chunks: skipped to its end,
# and the event after it reads
wait_for 5 events_up || bad "events stream is up"
broken=$(counter events_broken)
opens=$(counter events_opens)
evbad=$(counter events_bad)
set_field "$C0" State '"exited"'
{
	printf '{"chunks": ["{\\"status\\": [\\"'
	head -c $((2 * MIB)) /dev/zero | tr '\0' x
	printf '", "\\\\\\"}]{[\\"]}\\n%s"], "then": "keep"}' \
		"$(event "$C0" die | jq -R . | sed 's/^"//; s/"$//')"
} | post_file events
check "long garbage: skipped, counted" \
	wait_for 5 counter_ge events_bad $((evbad + 1))
check "long garbage: the event after it reads (r0 stopped)" \
	wait_for 5 state_is r0 stopped
check "long garbage: the stream was not broken" \
	test "$(counter events_broken)" = "$broken"
check "long garbage: nor reopened" test "$(counter events_opens)" = "$opens"
set_field "$C0" State '"running"'
raw_events "$(event "$C0" start)"
check "long garbage: r0 running again" wait_for 5 state_is r0 running
intact long-garbage
recovers events
RSS1=$(rss_kb "$LPID")
log "events: lister RSS $RSS1 kB"
check "events: lister RSS bounded ($RSS1 kB <= 64 MiB)" test "$RSS1" -le $((64 * 1024))
check "the lister never stopped" kill -0 "$LPID"
check "nor did the store" kill -0 "$SPID"

finish
