#!/usr/bin/env bash
# test_store_faults.sh: what recon-store promises when a process dies or a
# resource runs out: an acknowledged write and a committed pass survive,
# nothing half done is ever visible, writes are refused clearly and reads
# go on. Store-only (no Docker): recon-load pushes snapshots on ingest.
#
# 1. Killed mid-commit (after etcd's and LMDB's crash tests): a store with
#    N rows of host `load` (N = $RECON_FAULT_CONTAINERS, 2000) gets two
#    snapshots from recon-load that flip every row between running and
#    stopped, and is SIGKILLed a random number of microseconds after they
#    are sent, $RECON_FAULT_KILLS times (200; CI's short form). Container
#    i of snapshot gen g is running iff (g + i) is even, so every row
#    says which pass wrote it: a half pass would leave rows of two
#    parities, or container events with no sys/pass event after them.
#    After each kill, with the store down: `mdb_stat -a` opens every
#    database, the change log's keys (`mdb_dump -s changes`) run without
#    a gap up to the head revision in `meta`. Then the store restarts and
#    is healthy; `reconctl watch --since H0 --json` (H0: the head before
#    the kill) returns H0+1..head, each a whole pass: 0 or N container
#    events, all of the parity of the sys/pass event that ends them and as
#    many as it says it changed; and `reconctl ps --json` shows N rows,
#    all of the parity of the last pass. Whether a kill landed inside a
#    write transaction is read from LMDB's lock file before anything opens
#    it again: the writer mutex (a robust pthread mutex at byte 64 of
#    lock.mdb) is left marked owner-died (0x40000000). The window the
#    random delay is drawn from adapts so that kills fall around the
#    commits; at least 1 in 10 kills must land inside one.
# 2. Stale reader slots: a reader (mdb_dump, blocked writing to a pipe no
#    one reads) SIGKILLed inside its read transaction leaves its slot
#    (`mdb_stat -r`) while another process holds the environment open;
#    the store clears it at start (logged), and, when the map is full at
#    its maximum, before it would refuse the write: 30 rewrites of a
#    workload in a 256K map that such a slot pins all succeed.
# 3. Map full: --map-size 64K --max-map-size 256K, filled with workload
#    puts of 20 KB until one is refused.
# 4. Disk full: the data dir on a 2 MiB tmpfs, the map 64M.
#    For both: the refusal exits 1 as `unavailable` naming the map (and
#    --max-map-size) or the disk; `probe store` exits 1 naming it; ps,
#    workload ls and workload get answer and every acknowledged workload
#    reads back whole; a snapshot on ingest is refused and counted; the
#    store stays up. The map: restarted with --max-map-size 4M it is
#    healthy and takes writes. The disk: a restart on the full disk
#    serves reads and refuses writes; once the tmpfs is grown the next
#    write commits and health is back, with no restart.
# usage: test_store_faults.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

KILLS=${RECON_FAULT_KILLS:-200}
N=${RECON_FAULT_CONTAINERS:-2000}
SPID= # the store of the moment
MNT=  # the tmpfs of part 3
HOLD= # readers of part 2 still alive
WPID= # a watch of part 1

faults_cleanup() {
	local p
	for p in $SPID $HOLD $WPID; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$MNT" ] && umount "$MNT"
	cleanup
}
trap faults_cleanup EXIT

mkdir -p "$RUN" "$DATA"

# store_up DIR ARGS...: a store on DIR; true once it answers.
store_up() {
	local dir=$1
	shift
	"$BUILD/recon-store" --data-dir "$dir" "$@" >>"$T/recon-store.log" 2>&1 &
	SPID=$!
	wait_for 5 reconctl probe store --live
}
# store_down: SIGTERM, and true when it exited 0.
store_down() {
	local rc
	kill -TERM "$SPID"
	wait "$SPID"
	rc=$?
	SPID=
	[ "$rc" = 0 ]
}
store_kill() {
	kill -KILL "$SPID"
	wait "$SPID" 2>/dev/null
	SPID=
}
healthy() { reconctl probe store >/dev/null 2>&1; }
store_counter() {
	reconctl probe store --json 2>/dev/null | jq -r ".counters.$1"
}
store_log_has() { grep -q -- "$1" "$T/recon-store.log"; }

# put_big ID BYTES: a stack workload whose source_config is a JSON string
# of BYTES letters; prints reconctl's stderr, exits with its status.
put_big() {
	printf '{"id":"%s","name":"%s","kind":"stack","source_config":"\\"%s\\""}' \
		"$1" "$1" "$(head -c "$2" /dev/zero | tr '\0' "${3:-a}")" |
		reconctl workload put - 2>&1 >/dev/null
}
# config_len ID: the length of a workload's source_config as read back.
config_len() {
	reconctl workload get "$1" --json | jq -r '.source_config | length'
}

###########################################################################
log "1. the store SIGKILLed at random into large snapshot applies, $KILLS times"

# rows_parity: "COUNT PARITIES" of host load's rows, where a row's parity
# is the pass gen's parity that wrote it ((i + stopped) % 2).
rows_parity() {
	reconctl ps --json | jq -r '[.[] | select(.host == "load") |
		((.id | ltrimstr("load:r") | tonumber) +
		 (if .state == "running" then 0 else 1 end)) % 2] |
		"\(length) \(unique | map(tostring) | join(","))"'
}

# log_passes FILE: reads FILE's events (JSON lines) as passes; prints
# "bad: ..." for the first fault, else "ok PASSES LAST_PARITY".
log_passes() {
	jq -rs --argjson n "$N" '
		reduce .[] as $e ({c: 0, k0: 0, k1: 0, passes: 0, last: null, bad: null};
		  if .bad != null then .
		  elif $e.t == "pass" then
		    if (.k0 > 0 and .k1 > 0) then .bad = "gen \($e.gen): rows of both parities"
		    elif .c != $e.changed or (.c != 0 and .c != $n) then
		      .bad = "gen \($e.gen): \(.c) container events, changed \($e.changed)"
		    elif .c > 0 and ((if .k0 > 0 then 0 else 1 end) != $e.gen % 2) then
		      .bad = "gen \($e.gen): rows of the other parity"
		    else .passes += 1 | .last = ($e.gen % 2) | .c = 0 | .k0 = 0 | .k1 = 0 end
		  elif $e.t == "container" then
		    ((($e.row.id | ltrimstr("load:r") | tonumber) +
		      (if $e.row.state == "running" then 0 else 1 end)) % 2) as $k
		    | .c += 1 | if $k == 0 then .k0 += 1 else .k1 += 1 end
		  else .bad = "unexpected event \($e.t) at rev \($e.rev)" end)
		| if .bad != null then "bad: \(.bad)"
		  elif .c > 0 then "bad: \(.c) container events after the last pass"
		  else "ok \(.passes) \(.last)" end' "$1"
}

# revs_are FILE FROM TO: FILE's events are revisions FROM..TO, in order.
revs_are() {
	[ "$(jq -r .rev "$1" | awk -v a="$2" -v b="$3" '
		$1 != a + NR { print "gap"; exit }
		END { if (NR != b - a) print "count " NR }')" = "" ]
}
lines_ge() { [ "$(wc -l <"$1")" -ge "$2" ]; }

# log_keys DIR: "FIRST LAST COUNT HEAD" of the change log's keys and the
# head revision in meta, read by LMDB's own tools (hex to decimal).
log_keys() {
	local first last count head
	read -r first last count < <(mdb_dump -s changes "$1" | awk '
		/^HEADER=END/ { body = 1; next } /^DATA=END/ { body = 0 }
		body && (++i % 2 == 1) { k = $1; if (!f) f = k; n++ }
		END { print (f ? f : "0"), (k ? k : "0"), n + 0 }')
	head=$(mdb_dump -s meta "$1" | awk '$1 == "68656164" { getline; print $1 }')
	echo "$((16#$first)) $((16#$last)) $count $((16#${head:-0}))"
}

# The writer mutex of lock.mdb: 40000000 when its owner died holding it.
wmutex() { od -An -tx4 -j64 -N4 "$1/lock.mdb" | tr -d ' '; }

LOADARGS=(--label-prefix "$PREFIX" --host load -w load -c "$N" -n 2)
check "store up" store_up "$DATA" --retain-events $((3 * (N + 1)))
check "workload load" workload_put load stack
"$BUILD/recon-load" "${LOADARGS[@]}" --gen 2 >>"$T/load.log" 2>&1
check "first passes applied: $N rows" \
	wait_for 10 test "$(head_rev)" = $((1 + 2 * (N + 1)))
H0=$(head_rev)
PAR=1 # the parity of the last pass (gen 3)
check "rows of gen 3" test "$(rows_parity)" = "$N 1"

W=40000 # the window of the kill delay, in microseconds
killed_in_txn=0 fails=0 revs_checked=0
outcome=(0 0 0)
t0=$(now_ms)
for ((j = 1; j <= KILLS; j++)); do
	gen=$((2 * j + 2))
	"$BUILD/recon-load" "${LOADARGS[@]}" --gen $gen >>"$T/load.log" 2>&1 &
	lpid=$!
	d=$(((RANDOM * 32768 + RANDOM) % W))
	sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"
	store_kill
	kill -KILL $lpid 2>/dev/null
	wait $lpid 2>/dev/null
	why=
	[ "$(wmutex "$DATA")" = 40000000 ] && killed_in_txn=$((killed_in_txn + 1))
	# the database as LMDB's own tools see it, the store down
	if ! mdb_stat -a "$DATA" >"$T/stat.out" 2>&1 ||
		[ "$(grep -c '^Status of \(workloads\|rows\|by_docker\|by_host\|changes\|meta\)$' "$T/stat.out")" != 6 ]; then
		why="mdb_stat -a: $(tail -1 "$T/stat.out")"
	fi
	read -r kfirst klast kcount khead < <(log_keys "$DATA")
	[ -z "$why" ] && [ $((klast - kfirst + 1)) != "$kcount" ] &&
		why="change log keys $kfirst..$klast: $kcount of them"
	[ -z "$why" ] && [ "$klast" != "$khead" ] &&
		why="change log ends at $klast, head is $khead"
	if [ -z "$why" ] && ! { store_up "$DATA" --retain-events $((3 * (N + 1))) &&
		wait_for 5 healthy; }; then
		why="store did not come back healthy"
	fi
	H1=$(head_rev)
	[ -z "$why" ] && [ "$H1" != "$khead" ] && why="store head $H1, meta $khead"
	if [ -z "$why" ] && [ "$H1" -gt "$H0" ]; then
		"$BUILD/reconctl" watch --since "$H0" --json >"$T/watch.out" \
			2>>"$T/watch.err" &
		WPID=$!
		wait_for 10 lines_ge "$T/watch.out" $((H1 - H0)) ||
			why="watch --since $H0 gave $(wc -l <"$T/watch.out") of $((H1 - H0))"
		kill -TERM $WPID
		wait $WPID 2>/dev/null
		WPID=
		[ -z "$why" ] && ! revs_are "$T/watch.out" "$H0" "$H1" &&
			why="revisions $H0..$H1 not contiguous"
		if [ -z "$why" ]; then
			res=$(log_passes "$T/watch.out")
			case $res in
			ok\ *)
				read -r _ np lp <<<"$res"
				outcome[np]=$((outcome[np] + 1))
				[ "$np" -gt 0 ] && PAR=$lp
				# kills after both commits: draw from a shorter window
				if [ "$np" = 2 ]; then W=$((W * 9 / 10)); fi
				;;
			*) why="change log: $res" ;;
			esac
		fi
		revs_checked=$((revs_checked + H1 - H0))
	elif [ -z "$why" ]; then
		outcome[0]=$((outcome[0] + 1))
		W=$((W * 11 / 10))
	fi
	[ -z "$why" ] && [ "$(rows_parity)" != "$N $PAR" ] &&
		why="rows: $(rows_parity), the last pass's parity is $PAR"
	if [ -n "$why" ]; then
		fails=$((fails + 1))
		log "kill $j (gen $gen, ${d} us): $why"
		[ $fails -ge 3 ] && break
	fi
	H0=$H1
	[ $W -lt 2000 ] && W=2000
	[ $W -gt 500000 ] && W=500000
done
log "kills: $((j - 1)) in $((($(now_ms) - t0) / 1000)) s; inside a write" \
	"transaction: $killed_in_txn; passes applied before the kill: none" \
	"${outcome[0]}, one ${outcome[1]}, both ${outcome[2]}; $revs_checked" \
	"revisions read back; window ${W} us"
check "every kill: the database opens, the log is whole, no half pass" \
	test $fails = 0
check "all $KILLS kills done" test $((j - 1)) = "$KILLS"
check "at least 1 kill in 10 landed inside a write transaction" \
	test $((killed_in_txn * 10)) -ge "$KILLS"
check "some kills came before a commit, some after" \
	test $((outcome[0] + outcome[1])) -gt 0 -a $((outcome[1] + outcome[2])) -gt 0

###########################################################################
log "2. stale reader slots"
# Two readers inside a read transaction, each blocked writing into a FIFO
# this shell holds open and never reads; one is then killed.
mkfifo "$T/readers"
exec {RFD}<>"$T/readers"
mdb_dump -a "$DATA" >"$T/readers" 2>/dev/null &
ra=$!
mdb_dump -a "$DATA" >"$T/readers" 2>/dev/null &
rb=$!
HOLD="$ra $rb"
# reader_slot DIR PID: PID holds a reader slot of DIR's environment.
reader_slot() {
	mdb_stat -r "$1" | awk -v p="$2" '$1 == p { f = 1 } END { exit !f }'
}
check "both readers hold a slot" \
	wait_for 5 eval 'reader_slot "$DATA" $ra && reader_slot "$DATA" $rb'
kill -KILL $rb
wait $rb 2>/dev/null
HOLD=$ra
check "the killed reader's slot stays" reader_slot "$DATA" $rb
check "store stops on SIGTERM" store_down
check "store starts beside a live reader" store_up "$DATA" --retain-events $((3 * (N + 1)))
check "it cleared the stale slot at start (logged)" \
	wait_for 5 store_log_has "cleared 1 stale database readers"
check "the killed reader's slot is gone" eval '! reader_slot "$DATA" $rb'
check "the live reader's slot is kept" reader_slot "$DATA" $ra
kill -KILL $ra
wait $ra 2>/dev/null
HOLD=
exec {RFD}>&-
check "healthy" healthy
store_down

log "2b. a full map whose pages a dead reader pins"
MAP2=$T/map2
mkdir -p "$MAP2"
check "store up with a 512K map, at most 512K, one event kept" \
	store_up "$MAP2" --map-size 512K --max-map-size 512K --retain-events 1
check "workloads pad and churn" \
	eval 'put_big pad 40000 >/dev/null && put_big churn 10000 >/dev/null'
exec {RFD}<>"$T/readers"
mdb_dump -a "$MAP2" >"$T/readers" 2>/dev/null &
rb=$!
HOLD=$rb
check "a reader holds a slot" wait_for 5 reader_slot "$MAP2" $rb
kill -KILL $rb
wait $rb 2>/dev/null
HOLD=
exec {RFD}>&-
MARK=$(wc -l <"$T/recon-store.log")
churn() {
	local i
	for ((i = 0; i < 80; i++)); do
		put_big churn 10000 "$(printf '%x' $((i % 16)))" >/dev/null ||
			return 1
	done
}
check "80 rewrites of 10 KB in the 512K map all taken" churn
check "the dead reader's slot was cleared when the map filled (logged)" \
	eval 'tail -n +$((MARK + 1)) "$T/recon-store.log" |
		grep -q "cleared 1 stale database readers"'
check "no write refused" test "$(store_counter write_errors)" = 0
store_down

###########################################################################
log "3. map full"
MAP=$T/map
mkdir -p "$MAP"
check "store up with a 64K map, at most 256K" \
	store_up "$MAP" --map-size 64K --max-map-size 256K
check "workload mf" workload_put mf stack
printf '{"id":"mf:a","workload_id":"mf","state":"running","host":"deploy"}' |
	reconctl container put - >/dev/null
acked=()
for ((i = 0; i < 40; i++)); do
	if ! err=$(put_big "mf$i" 20000); then break; fi
	acked+=("mf$i")
done
log "map full after ${#acked[@]} puts of 20 KB: $err"
check "a write was refused before 40" test "$i" -lt 40
check "refused as unavailable, naming the map and --max-map-size" \
	eval '[[ $err == *"unavailable: unable to write: the database map is full"*"--max-map-size"* ]]'
check "again, exit 1" eval '! put_big mf99 20000 >/dev/null'
# unhealthy WHAT: probe store exits 1 naming the lmdb check and WHAT.
unhealthy() {
	reconctl probe store 2>"$T/probe.err"
	[ $? = 1 ] &&
		grep -q "check lmdb failed: writes refused: $1" "$T/probe.err"
}
check "probe store exits 1 naming the map" \
	unhealthy "the database map is full"
check "probe --live exits 0" eval 'reconctl probe store --live >/dev/null'
check "ps reads" test "$(reconctl ps --json | jq -r '.[0].id')" = mf:a
check "workload ls lists every acknowledged workload" \
	test "$(reconctl workload ls --json | jq -r '[.[].id | select(startswith("mf"))] | length')" = $((${#acked[@]} + 1))
all_whole() {
	local id
	for id in "${acked[@]}"; do
		[ "$(config_len "$id")" = 20002 ] || return 1
	done
}
check "workload get: each acknowledged one whole" all_whole
we=$(store_counter write_errors)
"$BUILD/recon-load" --label-prefix "$PREFIX" --host mf -w mf -c 200 -n 1 \
	>>"$T/load.log" 2>&1 &
lpid=$!
check "a snapshot on ingest is refused and counted" \
	wait_for 10 eval '[ "$(store_counter write_errors)" -gt "$we" ]'
wait $lpid
check "mdb_stat -a reads the full map" mdb_stat -a "$MAP" >/dev/null
check "store stops on SIGTERM" store_down
check "restarted with --max-map-size 4M" \
	store_up "$MAP" --map-size 64K --max-map-size 4M
check "healthy" wait_for 5 healthy
check "a write is taken" eval 'put_big mf99 20000 >/dev/null'
check "every acknowledged workload still whole" all_whole
check "and the row" test "$(reconctl ps --json | jq -r '[.[] | select(.id == "mf:a")] | length')" = 1
check "snapshots apply again" eval '"$BUILD/recon-load" --label-prefix "$PREFIX" --host mf -w mf -c 200 -n 1 >>"$T/load.log" 2>&1'
check "200 rows" wait_for 10 eval '[ "$(reconctl ps -w mf --json | jq length)" = 201 ]'
store_down


###########################################################################
log "4. disk full"
MNT=$T/disk
mkdir -p "$MNT"
check "a 2 MiB tmpfs" mount -t tmpfs -o size=2m tmpfs "$MNT"
check "store up with a 64M map on it" store_up "$MNT" --map-size 64M
check "workload df" workload_put df stack
printf '{"id":"df:a","workload_id":"df","state":"running","host":"deploy"}' |
	reconctl container put - >/dev/null
acked=()
for ((i = 0; i < 200; i++)); do
	if ! err=$(put_big "df$i" 20000); then break; fi
	acked+=("df$i")
done
log "disk full after ${#acked[@]} puts of 20 KB: $err"
check "a write was refused before 200" test "$i" -lt 200
check "refused as unavailable, naming the disk" \
	eval '[[ $err == *"unavailable: unable to write: the disk is full"* ]]'
check "again, exit 1" eval '! put_big df999 20000 >/dev/null'
check "probe store exits 1 naming the disk" unhealthy "the disk is full"
check "store still up" eval 'reconctl probe store --live >/dev/null'
check "ps reads" test "$(reconctl ps --json | jq -r '.[0].id')" = df:a
acked_ls() {
	[ "$(reconctl workload ls --json | jq -r '[.[].id | select(startswith("df"))] | length')" = $((${#acked[@]} + 1)) ]
}
check "workload ls lists every acknowledged workload" acked_ls
check "workload get: each acknowledged one whole" all_whole
we=$(store_counter write_errors)
"$BUILD/recon-load" --label-prefix "$PREFIX" --host df -w df -c 200 -n 1 \
	>>"$T/load.log" 2>&1 &
lpid=$!
check "a snapshot on ingest is refused and counted" \
	wait_for 10 eval '[ "$(store_counter write_errors)" -gt "$we" ]'
wait $lpid
check "store stops on SIGTERM" store_down
check "mdb_stat -a reads the database on the full disk" mdb_stat -a "$MNT" >/dev/null
check "restarted on the full disk" store_up "$MNT" --map-size 64M
check "it serves reads" acked_ls
check "a write is refused, naming the disk" \
	eval '[[ $(put_big df999 20000) == *"the disk is full"* ]]'
check "probe store exits 1 naming the disk" unhealthy "the disk is full"
check "space freed (the tmpfs grown to 8 MiB)" mount -o remount,size=8m "$MNT"
check "the next write is taken, no restart" eval 'put_big df999 20000 >/dev/null'
check "healthy again" healthy
check "every acknowledged workload still whole" all_whole
store_down
umount "$MNT" && MNT=

finish
