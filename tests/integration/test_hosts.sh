#!/usr/bin/env bash
# test_hosts.sh: SPEC §10's hosts without Docker: a store, and recon-load
# playing three listers h1, h2, h3 (one workload each, a snapshot every
# $IV ms carrying interval_ms). A lister stopped turns its host stale
# while its rows stay as they were and the others stay live and go on;
# it comes back live. R7 stays per host. hosts forget marks a host's
# rows missing and drops it; another uid may not. Many clients ask at
# once and all get their answer. A store restart keeps the host records,
# and a replayed older gen is ignored.
# usage: test_hosts.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

IV=500 # ms between a load's snapshots, and the interval_ms they carry
NOBODY=65534
BIN=$T/bin
OUT=$T/out
mkdir -p "$BIN" "$OUT"
# nobody must reach reconctl, its output dir and (below) the sockets
chmod 755 "$T" "$BIN"
chmod 777 "$OUT"
cp "$BUILD/reconctl" "$BIN/"

# load HOST [ARGS...]: a lister of HOST (workload w<N>, 4 containers)
# in the background, until stopped; its pid in LOAD_<HOST>.
load() {
	local h=$1
	shift
	"$BUILD/recon-load" --host "$h" -w "w${h#h}" -c 4 -n 1000000 \
		--interval "${IV}ms" "$@" >>"$T/load-$h.log" 2>&1 &
	PIDS+=($!)
	eval "LOAD_$h=$!"
}
unload() { eval "stop_pid \$LOAD_$1"; }

hosts_json() { reconctl hosts --json; }
# host_field HOST FIELD: one field of one host ("" when not listed)
host_field() {
	hosts_json | jq -r --arg h "$1" --arg f "$2" \
		'.[] | select(.host == $h) | .[$f]'
}
host_is() { [ "$(host_field "$1" state)" = "$2" ]; }
host_gen_above() { [ "$(host_field "$1" gen)" -gt "$2" ]; }
listed() { hosts_json | jq -e --arg h "$1" 'any(.host == $h)' >/dev/null; }
# rows_of HOST: reconctl ps -H HOST --json, keys sorted
rows_of() { reconctl ps -H "$1" --json | jq -S .; }
nrows_in() { [ "$(rows_of "$1" | jq --arg s "$2" 'map(select(.state == $s)) | length')" = "$3" ]; }
none_missing() { nrows_in "$1" missing 0; }
counter() { reconctl probe store --json | jq -r ".counters.$1"; }
counter_at_least() { [ "$(counter "$1")" -ge "$2" ]; }

start recon-store --socket-mode 0666 --reader-socket-mode 0666
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
chmod 755 "$RUN"
for w in w1 w2 w3; do workload_put "$w" stack; done

log "== three listers"
load h1
load h2
load h3
all_live() {
	[ "$(hosts_json | jq '[.[] | select(.state == "live" and .rows == 4
		and .interval_ms == '$IV')] | length')" = 3 ]
}
check "h1, h2, h3 live, 4 rows each, interval_ms $IV" wait_for 10 all_live
check "reconctl hosts: a table" \
	sh -c "'$BUILD/reconctl' hosts | grep -q '^HOST *STATE *SEEN *INTERVAL *GEN *ROWS'"
check "... a row per host" \
	test "$(reconctl hosts | grep -c '^h[123] *live ')" = 3
check "ps -H h2: h2's rows only" \
	test "$(rows_of h2 | jq 'length == 4 and all(.host == "h2")')" = true
check "... the same as --host" \
	test "$(reconctl ps --host h2 --json | jq -S .)" = "$(rows_of h2)"
check "--help tells of hosts, hosts forget and ps -H" sh -c \
	"'$BUILD/reconctl' --help | grep -q 'hosts forget HOST' &&
	 '$BUILD/reconctl' --help | grep -q '^  hosts ' &&
	 '$BUILD/reconctl' --help | grep -q 'ps .*-H HOST'"

log "== h2's lister stops: stale, its rows as they were"
unload h2
check "h2 stale (no word for 3 x ${IV} ms)" wait_for 10 host_is h2 stale
states() { hosts_json | jq -c 'map(.state)'; }
check "... while h1 and h3 are live" test "$(states)" = '["live","stale","live"]'
R2=$(rows_of h2)
G1=$(host_field h1 gen) G3=$(host_field h3 gen)
H1ROWS=$(rows_of h1)
check "h1 and h3 go on (3 more passes each)" \
	wait_for 10 eval 'host_gen_above h1 $((G1 + 2)) && host_gen_above h3 $((G3 + 2))'
check "... and h1's rows keep changing (seen again)" \
	test "$(rows_of h1 | jq -c 'map(.last_seen_at)')" != "$(echo "$H1ROWS" | jq -c 'map(.last_seen_at)')"
check "h2's rows exactly as they were, none missing (R8)" \
	test "$(rows_of h2)" = "$R2"
check "... and still 4 of them" test "$(echo "$R2" | jq 'length')" = 4
check "h1 and h3 still live" test "$(states)" = '["live","stale","live"]'
# (the lister and dispatcher are not run here: stats says they are down)
check "stats: 2 live, 1 stale" test \
	"$(reconctl stats --json 2>/dev/null | jq -c '.store.stats | [.hosts_live, .hosts_stale]')" = "[2,1]"
reconctl stats --prometheus >"$T/metrics.txt" 2>/dev/null
check "metrics: recon_store_hosts{state=\"stale\"} 1" \
	grep -qx 'recon_store_hosts{state="stale"} 1' "$T/metrics.txt"
check "... recon_store_hosts{state=\"live\"} 2, one gauge family" sh -c \
	"grep -qx 'recon_store_hosts{state=\"live\"} 2' '$T/metrics.txt' &&
	 grep -qx '# TYPE recon_store_hosts gauge' '$T/metrics.txt'"
if command -v promtool >/dev/null; then
	check "promtool check metrics: no complaint" sh -c \
		"promtool check metrics <'$T/metrics.txt' >'$T/promtool.txt' 2>&1 && [ ! -s '$T/promtool.txt' ]"
fi
check "the store stays healthy with a stale host" eval 'reconctl probe store >/dev/null'
check "... its health names h2 as stale" test \
	"$(reconctl probe store --json | jq -r '.checks[] | select(.name == "hosts") | .detail')" = "2 live, 1 stale: h2"

log "== R7 per host: h1 drops a container"
unload h1
load h1 -c 3
check "w1:r3 swept missing" wait_for 10 row_state_is w1:r3 missing
check "... h1's other rows not" nrows_in h1 missing 1
check "... h2's rows untouched" test "$(rows_of h2)" = "$R2"
check "... h3's rows none missing" none_missing h3

log "== h2's lister back"
G2=$(host_field h2 gen)
load h2
check "h2 live again" wait_for 10 host_is h2 live
check "... at a higher gen" host_gen_above h2 "$G2"
check "... its rows passed again" \
	wait_for 10 eval '[ "$(rows_of h2 | jq -c "map(.last_seen_at)")" != "$(echo "$R2" | jq -c "map(.last_seen_at)")" ]'

log "== hosts forget h3"
unload h3
# nothing of its lister's still on the way: 3 intervals of silence
check "h3 stale, its lister stopped" wait_for 10 host_is h3 stale
REV0=$(head_rev)
check "hosts forget h3 says 4 rows missing" sh -c \
	"'$BUILD/reconctl' hosts forget h3 | grep -q '^forgot host h3: 4 rows missing, rev '"
check "h3's rows all missing" nrows_in h3 missing 4
check "... through the change path: revisions advanced" \
	test "$(head_rev)" -ge $((REV0 + 4))
"$BUILD/reconctl" --json watch --since "$REV0" >"$OUT/watch" 2>&1 &
WATCH=$!
PIDS+=($WATCH)
h3_missing_events() {
	[ "$(grep '"op":"missing"' "$OUT/watch" | grep -c '"host":"h3"')" = 4 ]
}
check "... 4 container events, op missing, one per row" \
	wait_for 10 h3_missing_events
stop_pid $WATCH
check "h3 left hosts" eval '! listed h3'
rc=0
reconctl hosts forget h3 >"$OUT/forget2" 2>&1 || rc=$?
check "forgetting it again: exit 1, not_found" sh -c \
	"[ $rc = 1 ] && grep -q not_found '$OUT/forget2'"
check "h1's and h2's rows untouched by it" \
	eval 'none_missing h2 && nrows_in h1 missing 1'

log "== another uid"
rc=0
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
	"$BIN/reconctl" --run-dir "$RUN" hosts forget h1 >"$OUT/nobody" 2>&1 || rc=$?
check "uid $NOBODY: hosts forget is forbidden (exit 1)" sh -c \
	"[ $rc = 1 ] && grep -q forbidden '$OUT/nobody'"
check "... h1 still there, its rows as they were" \
	eval 'listed h1 && nrows_in h1 missing 1'
check "... but it may read hosts" eval 'setpriv --reuid=$NOBODY \
	--regid=$NOBODY --clear-groups -- "$BIN/reconctl" --run-dir "$RUN" \
	hosts --json | jq -e "length == 2" >/dev/null'

log "== 50 clients at once"
CL=()
for i in $(seq 1 50); do
	"$BUILD/reconctl" hosts --json >"$OUT/c$i.json" 2>"$OUT/c$i.err" &
	CL+=($!)
done
fails=0
for p in "${CL[@]}"; do wait "$p" || fails=$((fails + 1)); done
answered=0
for i in $(seq 1 50); do
	jq -e 'map(.host) == ["h1", "h2"]' "$OUT/c$i.json" >/dev/null 2>&1 &&
		answered=$((answered + 1))
done
check "all 50 exit 0 ($fails did not)" test "$fails" = 0
check "... each with both hosts ($answered did)" test "$answered" = 50

log "== a store restart"
unload h1
unload h2
check "h1 and h2 stale, their listers stopped" \
	wait_for 10 eval 'host_is h1 stale && host_is h2 stale'
BEFORE=$(hosts_json | jq -S .)
H1ROWS=$(rows_of h1)
stop_pid "$PID_recon_store"
start recon-store --socket-mode 0666 --reader-socket-mode 0666
wait_for 10 reconctl probe store || bad "store came back"
check "the host records as they were (gen, last_seen_at, interval, rows)" \
	test "$(hosts_json | jq -S .)" = "$BEFORE"
check "reconctl dump shows the same records" test \
	"$(reconctl dump --data-dir "$DATA" | jq -c '.hosts | map([.host, .gen, .last_seen_at, .interval_ms])')" = \
	"$(echo "$BEFORE" | jq -c 'map([.host, .gen, .last_seen_at, .interval_ms])')"
"$BUILD/recon-load" --host h1 -w w1 -c 1 -n 1 --gen 1 --interval "${IV}ms" \
	>>"$T/load-replay.log" 2>&1
check "a replayed snapshot of h1 at gen 1 is dropped as stale" \
	wait_for 10 counter_at_least stale 1
check "... h1's rows as they were (nothing swept)" \
	test "$(rows_of h1)" = "$H1ROWS"
check "... h1's gen and time as they were" test \
	"$(hosts_json | jq -S '.[] | select(.host == "h1")')" = \
	"$(echo "$BEFORE" | jq -S '.[] | select(.host == "h1")')"

finish
