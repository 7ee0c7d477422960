#!/usr/bin/env bash
# test_input_hostile.sh: operators' and plugins' input. reconctl: oversized
# fields, bad ids, JSON-text fields that are no JSON, 64 MiB files: a clear
# error naming the field or the bound, exit 64 (refused by reconctl) or 1
# (by the store), nothing written, the store answering others meanwhile.
# Plugins: 1 GiB on stderr, stdin closed at once, a thousand children, a
# run that never ends, children left behind: the dispatcher's memory stays
# bounded, each whole process group is killed, other plugins' results land.
# usage: test_input_hostile.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

PLUGINS=$T/plugins
OUT=$T/out
mkdir -p "$RUN" "$PLUGINS" "$OUT"
chmod 755 "$T" "$PLUGINS" "$OUT"

# in the argv of every process the plugins start, to find survivors
MARK=$(($$ % 90000 + 10000))
marked() { pgrep -f "sleep 100[0-9]\.$MARK" 2>/dev/null; }
marked_count() { marked | wc -l; }
none_marked() { [ "$(marked_count)" = 0 ]; }
end_marked() {
	local p
	for p in $(marked); do kill -KILL "$p" 2>/dev/null; done
}
trap 'end_marked; cleanup' EXIT

rss_kb() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"; }
# maxrss_kb CMD...: the peak RSS of CMD (kB); its output is dropped.
maxrss_kb() {
	python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

start recon-store
wait_for 10 reconctl probe store || {
	bad "store came up"
	exit 1
}
SPID=$PID_recon_store

########################################################################
log "== reconctl: bad records"
workload_put w-base stack
REV0=$(head_rev)
# refused KIND RC REGEX JSON: KIND put of JSON (on stdin) exits RC,
# saying REGEX.
refused() {
	local kind=$1 rc=$2 re=$3 err got
	err=$("$BUILD/reconctl" "$kind" put - 2>&1 >/dev/null <<<"$4")
	got=$?
	check "$kind put exits $rc: $re" test "$got" = "$rc"
	check "... says it ($err)" grep -Eq -- "$re" <<<"$err"
}
long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }
wl() { printf '{"id": "w-x", "name": "x", "kind": "stack"%s}' "${1:+, $1}"; }

refused workload 64 "workload\.id: string over 128 bytes" \
	"$(wl "\"id\": \"$(long 200)\"")"
refused workload 1 "invalid: id: must match" \
	"$(wl '"id": "a/b"')"
refused workload 1 "invalid: id: must match" \
	"$(wl '"id": ""')"
refused workload 1 "invalid: app_id: must match" \
	"$(wl '"app_id": "a b"')"
refused workload 64 "workload\.name: string over 4096 bytes" \
	"$(wl "\"name\": \"$(long 5000)\"")"
refused workload 64 "workload\.name: expected str, got int" \
	"$(wl '"name": 7')"
refused workload 1 "invalid: kind" \
	"$(wl '"kind": "blah"')"
refused workload 1 "invalid: source_kind" \
	"$(wl '"source_kind": "../x"')"
refused workload 1 "invalid: notification_url" \
	"$(wl '"notification_url": "http://"')"
refused workload 1 "invalid: source_config: not JSON" \
	"$(wl '"source_config": "not json"')"
refused workload 1 "invalid: public_faces: not JSON" \
	"$(wl '"public_faces": "{"')"
refused workload 64 "workload\.source_config: expected str, got map" \
	"$(wl '"source_config": {"a": 1}')"
refused workload 64 "workload\.color: unknown field" \
	"$(wl '"color": "red"')"
refused workload 64 "workload\.name: string contains NUL" \
	"$(wl '"name": "a\u0000b"')"
refused workload 64 "more after the JSON value" "$(wl)$(wl)"
refused workload 64 "unable to parse" \
	garbage
refused workload 64 "expected a JSON object" \
	'[1]'
ctr() { printf '{"id": "w-base:a", "workload_id": "w-base"%s}' "${1:+, $1}"; }
refused container 1 "invalid: id: must match" \
	"$(ctr '"id": "x/y"')"
refused container 64 "row\.container_id: string over 128 bytes" \
	"$(ctr "\"container_id\": \"$(long 200)\"")"
refused container 1 "invalid: container_id: must match" \
	"$(ctr '"container_id": "zz top"')"
refused container 1 "invalid: workload_id: no workload nosuch" \
	"$(ctr '"workload_id": "nosuch"')"
refused container 64 "row\.port: expected int, got str" \
	"$(ctr '"port": "80"')"
refused container 1 "invalid: port" \
	"$(ctr '"port": 70000')"
refused container 64 "row\.state: string over" \
	"$(ctr "\"state\": \"$(long 5000)\"")"

log "== reconctl: large files"
python3 - "$T" <<'EOF'
import json, sys
d, M = sys.argv[1], 64 << 20
w = {"id": "w-big", "name": "big", "kind": "stack"}
def dump(name, obj):
    with open(f"{d}/{name}.json", "w") as f:
        json.dump(obj, f)
# 64 MiB: one string, one array, four million members
dump("str64", dict(w, source_config="a" * M))
with open(f"{d}/arr64.json", "w") as f:
    f.write('{"id": "w-big", "junk": [' + "0," * (M // 2 - 1) + "0]}")
with open(f"{d}/keys64.json", "w") as f:
    f.write('{"id": "w-big"' + "".join(', "k%07d": 1' % i
                                       for i in range(M // 16)) + "}")
# the largest the store takes: three JSON-text fields of 1 MiB
t = '["' + "x" * (1048576 - 4) + '"]'
big = dict(w, id="w-max", source_config=t, trigger_config=t, public_faces=t)
dump("max", big)
# as large, refused by the store: 1 MiB of nesting, 1 MiB that is no JSON
dump("maxdeep", dict(big, id="w-maxdeep", public_faces="[" * 1048576))
dump("maxbad", dict(big, id="w-maxbad", trigger_config="x" * 1048576))
# one byte over the field's limit: refused by reconctl
dump("maxover", dict(big, id="w-maxover", public_faces="[" * 1048577))
EOF
# refused_file FILE RC REGEX
refused_file() {
	local err got t0
	t0=$(now_ms)
	err=$("$BUILD/reconctl" workload put "$T/$1.json" 2>&1 >/dev/null)
	got=$?
	check "$1: exits $2 ($(($(now_ms) - t0)) ms)" test "$got" = "$2"
	check "$1: says $3 ($err)" grep -Eq -- "$3" <<<"$err"
}
refused_file str64 64 "str64\.json: larger than 8 MiB: refused"
refused_file arr64 64 "arr64\.json: more than 1024 JSON values: refused"
refused_file keys64 64 "keys64\.json: more than 1024 JSON values: refused"
refused_file maxdeep 1 "invalid: public_faces: not JSON: nesting too deep"
refused_file maxbad 1 "invalid: trigger_config: not JSON"
refused_file maxover 64 "workload\.public_faces: string over 1048576 bytes"
err=$("$BUILD/reconctl" workload put - <"$T/arr64.json" 2>&1 >/dev/null)
check "arr64 on stdin: exit 64 ($err)" test $? = 64
for f in str64 arr64 keys64; do
	kb=$(maxrss_kb "$BUILD/reconctl" workload put "$T/$f.json")
	log "reconctl on $f: peak RSS $kb kB"
	check "reconctl on $f: within 32 MiB ($kb kB)" test "$kb" -le $((32 * 1024))
done
check "nothing was written (rev $REV0)" test "$(head_rev)" = "$REV0"
check "only w-base is there" \
	test "$(reconctl workload ls --json | jq -r 'map(.id) | join(",")')" = w-base
check "no row" test "$(rows_json | jq length)" = 0

log "== reconctl: the store answers others meanwhile"
SRSS0=$(rss_kb "$SPID")
(
	for _ in 1 2 3 4 5; do
		for f in max maxdeep maxbad arr64 str64; do
			"$BUILD/reconctl" workload put "$T/$f.json" \
				>>"$T/puts.out" 2>&1
			echo "$f $?" >>"$T/puts.rc"
		done
	done
) &
PUTS=$!
PIDS+=("$PUTS")
ps_ok=0
ps_n=0
ps_max=0
while kill -0 "$PUTS" 2>/dev/null || [ $ps_n -lt 20 ]; do
	t0=$(now_ms)
	reconctl ps --timeout 2s --json >/dev/null && ps_ok=$((ps_ok + 1))
	dt=$(($(now_ms) - t0))
	[ $dt -gt $ps_max ] && ps_max=$dt
	ps_n=$((ps_n + 1))
done
wait "$PUTS"
log "reconctl ps during the puts: $ps_ok of $ps_n answered, slowest $ps_max ms"
check "every ps answered ($ps_ok of $ps_n)" test "$ps_ok" = "$ps_n"
check "the good 3 MiB workload was written 5 times" \
	test "$(grep -c '^max 0$' "$T/puts.rc")" = 5
check "every bad one refused (20)" \
	test "$(grep -Ec '^(maxdeep|maxbad) 1$|^(arr64|str64) 64$' "$T/puts.rc")" = 20
check "workloads: w-base, w-max" \
	test "$(reconctl workload ls --json | jq -r 'map(.id) | sort | join(",")')" = w-base,w-max
SRSS1=$(rss_kb "$SPID")
SHWM=$(rss_kb "$SPID" VmHWM)
log "store RSS $SRSS0 kB before, $SRSS1 kB after, peak $SHWM kB"
check "store RSS bounded (peak $SHWM kB <= 128 MiB)" test "$SHWM" -le $((128 * 1024))

########################################################################
log "== plugins"
# plugin NAME BODY: an executable shell plugin with OUT and MARK set.
plugin() {
	printf '#!/bin/sh\nOUT=%s\nMARK=%s\n%s\n' "$OUT" "$MARK" "$2" \
		>"$PLUGINS/$1"
	chmod 755 "$PLUGINS/$1"
}
plugin spew 'head -c 1073741824 /dev/zero >&2
echo spew-end-marker >&2
exit 3'
plugin closein 'exec <&-
echo stdin closed >&2
exit 0'
plugin forker 'for i in $(seq 1000); do sleep 1000.$MARK & done
touch $OUT/forked
wait'
plugin never 'trap "" TERM
exec sleep 1001.$MARK'
plugin leaver 'for i in $(seq 100); do sleep 1002.$MARK & done
exit 0'
plugin good 'cat >/dev/null
echo ran >>$OUT/good.runs'

start recon-dispatcher --plugin-dir "$PLUGINS" --plugin-timeout 5s \
	--plugin-concurrency 6
DPID=$PID_recon_dispatcher
wait_for 10 reconctl probe dispatcher --live || bad "dispatcher came up"
for k in spew closein forker never leaver good; do
	printf '{"id": "w-%s", "name": "%s", "kind": "stack", "source_kind": "%s"}' \
		$k $k $k | reconctl workload put - >/dev/null ||
		bad "workload w-$k put"
done
pfield() { reconctl workload get "$1" --json | jq -r ".plugin.$2"; }
runs_ge() { [ "$(pfield "$1" runs)" -ge "$2" ] 2>/dev/null; }
not_run() { ! runs_ge "$1" 1; }
dcounter() { reconctl probe dispatcher --json | jq -r ".counters.$1"; }
DRSS0=$(rss_kb "$DPID")

t0=$(now_ms)
for k in forker never spew closein leaver; do
	reconctl dispatch w-$k >/dev/null || bad "dispatch w-$k"
done
check "the forker forked its thousand" wait_for 10 test -e "$OUT/forked"
check "... all running" wait_for 5 bash -c \
	"[ \$(pgrep -fc 'sleep 1000\\.$MARK') -ge 1000 ]"
d_live() { reconctl probe dispatcher --live --timeout 2s >/dev/null; }
check "the dispatcher answers meanwhile" d_live
reconctl dispatch w-good >/dev/null
check "another plugin's result lands meanwhile" wait_for 3 runs_ge w-good 1
check "... before the forker's run ended" not_run w-forker
check "... ok" test "$(pfield w-good last_ok)" = true

check "1 GiB on stderr: its result lands" wait_for 20 runs_ge w-spew 1
err=$(pfield w-spew last_error)
check "... a failure" test "$(pfield w-spew last_ok)" = false
check "... its error is the last of stderr (${#err} bytes)" \
	test "${#err}" -le 4096 -a "${err: -15}" = spew-end-marker
check "stdin closed at once: ok" wait_for 5 runs_ge w-closein 1
check "... last_ok" test "$(pfield w-closein last_ok)" = true
check "children left behind: the run is ok" wait_for 5 runs_ge w-leaver 1
check "... last_ok" test "$(pfield w-leaver last_ok)" = true

check "the forker times out" wait_for 8 runs_ge w-forker 1
check "... said so" bash -c "'$BUILD/reconctl' workload get w-forker --json |
	jq -r .plugin.last_error | grep -q '^timed out after 5000 ms'"
log "forker's result $(($(now_ms) - t0)) ms after the dispatch"
forker_gone() { ! pgrep -f "sleep 1000\.$MARK" >/dev/null; }
check "... and not one of its thousand children survives" \
	wait_for 8 forker_gone
check "the one that ignores SIGTERM: its result after the SIGKILL" \
	wait_for 10 runs_ge w-never 1
log "never's result $(($(now_ms) - t0)) ms after the dispatch"
check "... timed out" bash -c "'$BUILD/reconctl' workload get w-never --json |
	jq -r .plugin.last_error | grep -q '^timed out after 5000 ms'"
check "no process of any plugin survives" wait_for 8 none_marked
check "timeouts counted (2)" test "$(dcounter timeouts)" = 2
DHWM=$(rss_kb "$DPID" VmHWM)
DRSS1=$(rss_kb "$DPID")
log "dispatcher RSS $DRSS0 kB before, $DRSS1 kB after, peak $DHWM kB"
check "dispatcher RSS bounded (peak $DHWM kB <= 64 MiB)" \
	test "$DHWM" -le $((64 * 1024))
reconctl dispatch w-good >/dev/null
check "and the next run lands" wait_for 5 runs_ge w-good 2
check "the dispatcher never stopped" kill -0 "$DPID"
check "nor did the store" kill -0 "$SPID"

finish
