#!/usr/bin/env bash
# test_chaos.sh: kill -9 under churn (SPEC §2's promise: an acknowledged
# write, a committed change and a pending plugin run survive whatever
# happens to a process). While a churn loop starts, stops and removes
# labelled containers and writes workloads through the API, a random one
# of the three daemons is killed with SIGKILL every 0.5-3 s and started
# again at once, as a supervisor would; a subscriber follows throughout
# and is itself killed and resumed from its last revision. Afterwards:
#   - the database passes mdb_stat -a;
#   - every acknowledged workload write is there;
#   - the index equals `docker ps -a` for the test's label within one
#     interval;
#   - the subscriber saw every revision once, in order;
#   - every container stopped during the run had its workload's plugin run
#     with reason state after the stop, seeing it stopped or gone.
# usage: test_chaos.sh BUILD_DIR   (KILLS=N: how many kills, default 100)
. "$(dirname "$0")/lib.sh"
trap 'stop_churn; cleanup' EXIT

KILLS=${KILLS:-100}
NW=8 # workloads
PLUGINS=$T/plugins
OUT=$T/out
mkdir -p "$PLUGINS" "$OUT"
chmod 755 "$T" "$PLUGINS" "$OUT"

# The plugin records "WID REASON START_MS" and what it was told of the
# workload's containers ("CONTAINER_ID:STATE ...").
cat >"$PLUGINS/rec" <<EOF
#!/bin/sh
t=\$((\$(date +%s%N) / 1000000))
doc=\$(cat)
cs=\$(printf '%s' "\$doc" | jq -r '[.containers[] | "\(.container_id):\(.state)"] | join(" ")' 2>/dev/null)
echo "\$RECON_WORKLOAD_ID \$RECON_REASON \$t \$cs" >>$OUT/runs
sleep \${PLUGIN_SLEEP:-0.2}
EOF
chmod 755 "$PLUGINS/rec"

docker_up
image_up

declare -A DPID ARGS KILLED
ARGS[recon-store]=""
ARGS[recon-lister]="--interval 5s --docker-timeout 2s"
ARGS[recon-dispatcher]="--plugin-dir $PLUGINS --plugin-concurrency 2"
DAEMONS=(recon-store recon-lister recon-dispatcher)

# up NAME: starts the daemon (its old instance is gone: a lock file held
# by a dying process is waited for by the daemon itself failing and us
# starting it again, as a supervisor does).
up() {
	# shellcheck disable=SC2086
	"$BUILD/$1" ${ARGS[$1]} >>"$T/$1.log" 2>&1 &
	DPID[$1]=$!
	PIDS+=($!)
}

# alive NAME: its latest instance runs (one that lost the race for the
# lock exits 111 at once and is started again).
alive() {
	kill -0 "${DPID[$1]}" 2>/dev/null && return 0
	wait "${DPID[$1]}" 2>/dev/null
	up "$1"
	return 1
}

for d in "${DAEMONS[@]}"; do up "$d"; done
check "the store answers" wait_for 10 reconctl probe store
check "the dispatcher answers" wait_for 10 reconctl probe dispatcher
for i in $(seq $NW); do workload_put "cw$i" stack rec; done

# ---- the subscriber: from the first revision, resumed after each kill ----
SUBN=0
sub_start() {
	local since=0
	# resumed after the last revision it printed (a line is one write)
	[ "$SUBN" -gt 0 ] &&
		since=$(tail -n 1 "$OUT/sub.$((SUBN - 1))" | awk '{print $1}')
	"$BUILD/recon-subscriber" "$RUN" -s "${since:-0}" >"$OUT/sub.$SUBN" 2>>"$T/sub.log" &
	SUB=$!
	PIDS+=("$SUB")
	SUBN=$((SUBN + 1))
}
sub_start

# state_run_after WID CID MS: a state run of WID started at MS or later
# and saw container CID not running, or no longer saw it.
state_run_after() {
	awk -v w="$1" -v c="$2" -v t="$3" '
		$1 == w && $2 == "state" && $3 >= t {
			seen = 0
			for (i = 4; i <= NF; i++)
				if (index($i, c ":") == 1) { seen = 1; if ($i != c ":running") ok = 1 }
			if (!seen) ok = 1
		}
		END { exit !ok }' "$OUT/runs" 2>/dev/null
}

# ---- the churn: one container at a time per workload ----
CHURN=
churn() {
	local n=0 w cid st t
	declare -A cur stopped
	while :; do
		n=$((n + 1))
		w=cw$((RANDOM % NW + 1))
		case $((RANDOM % 4)) in
		0)
			# a workload write, acknowledged or not
			printf '{"id":"%s","name":"n%d","kind":"stack","source_kind":"rec"}' "$w" "$n" |
				"$BUILD/reconctl" --timeout 2s workload put - >/dev/null 2>&1
			echo "put $w n$n $?" >>"$OUT/puts"
			;;
		*)
			cid=${cur[$w]:-}
			if [ -z "$cid" ]; then
				cid=$(docker run -d --network none \
					--label "${PREFIX}workload.id=$w" \
					--label "${PREFIX}workload.kind=stack" \
					--label "${PREFIX}role=r$n" "$IMAGE" sleep 3600 2>/dev/null) || continue
				cur[$w]=$cid
				continue
			fi
			st=$(docker inspect -f '{{.State.Status}}' "$cid" 2>/dev/null)
			if [ "$st" = running ]; then
				# only a stop the index had seen running makes a
				# state transition to check
				"$BUILD/reconctl" --timeout 1s ps -w "$w" --json 2>/dev/null |
					jq -e --arg c "$cid" 'any(.[]; .container_id == $c and .state == "running")' >/dev/null ||
					continue
				t=$(now_ms)
				docker stop -t 0 "$cid" >/dev/null 2>&1 &&
					echo "stop $w $cid $t" >>"$OUT/stops" &&
					stopped[$w]=$t
			elif [ -z "${stopped[$w]:-}" ] ||
				state_run_after "$w" "$cid" "${stopped[$w]}"; then
				# removed once its stop was dispatched: a later
				# event of the workload cannot hide a lost one
				docker rm -f "$cid" >/dev/null 2>&1
				unset "cur[$w]" "stopped[$w]"
			fi
			;;
		esac
	done
}
stop_churn() {
	[ -n "$CHURN" ] || return 0
	kill "$CHURN" 2>/dev/null
	wait "$CHURN" 2>/dev/null
	CHURN=
}
churn &
CHURN=$!

# ---- the killer ----
for d in "${DAEMONS[@]}"; do KILLED[$d]=0; done
SUBKILLS=0
for k in $(seq "$KILLS"); do
	# the pace of the chaos, not a wait for a condition
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.5 + 2.5 * r / 32767 }')"
	for d in "${DAEMONS[@]}"; do alive "$d"; done
	d=${DAEMONS[$((RANDOM % 3))]}
	kill -KILL "${DPID[$d]}" 2>/dev/null
	wait "${DPID[$d]}" 2>/dev/null
	KILLED[$d]=$((KILLED[$d] + 1))
	up "$d"
	if [ $((k % 20)) -eq 10 ]; then
		kill -KILL "$SUB" 2>/dev/null
		wait "$SUB" 2>/dev/null
		SUBKILLS=$((SUBKILLS + 1))
		sub_start
	fi
done
stop_churn
log "kills: store ${KILLED[recon-store]}, lister ${KILLED[recon-lister]}, dispatcher ${KILLED[recon-dispatcher]}, subscriber $SUBKILLS"

all_up() {
	local d
	for d in "${DAEMONS[@]}"; do alive "$d" || return 1; done
	reconctl probe store >/dev/null && reconctl probe lister >/dev/null &&
		reconctl probe dispatcher >/dev/null
}
check "all three healthy after the chaos" wait_for 30 all_up

# only mdb_stat's output is quieted: check's PASS line stays in the log
db_stat_ok() { mdb_stat -a "$DATA" >/dev/null; }
check "the database passes mdb_stat -a" db_stat_ok

# ---- every acknowledged workload write is there ----
reconctl workload ls --json >"$T/wls.json"
puts_ok() {
	local w name bad=0 n=0 want later
	for i in $(seq $NW); do
		w=cw$i
		name=$(jq -r --arg w "$w" '.[] | select(.id == $w) | .name' "$T/wls.json")
		# the last acknowledged write, and any unacknowledged after it
		# (applied or not: both are right)
		want=$(awk -v w="$w" '$2 == w && $4 == 0 { v = $3 } END { print v }' "$OUT/puts")
		[ -n "$want" ] || continue
		n=$((n + 1))
		later=$(awk -v w="$w" -v v="$want" '$2 == w && $4 == 0 { seen = ($3 == v); next } seen && $2 == w { print $3 }' "$OUT/puts")
		if [ "$name" != "$want" ] && ! grep -qx -- "$name" <<<"$later"; then
			log "workload $w: name $name, acknowledged $want"
			bad=$((bad + 1))
		fi
	done
	log "acknowledged writes: $(awk '$4 == 0' "$OUT/puts" | wc -l) of $(wc -l <"$OUT/puts") (last per workload checked: $n)"
	[ "$bad" -eq 0 ] && [ "$n" -gt 0 ]
}
check "every acknowledged workload write is stored" puts_ok

# ---- the index equals docker ps -a ----
docker_set() {
	docker ps -a --no-trunc --filter "label=${PREFIX}workload.id" \
		--format '{{.ID}} {{.State}}' |
		awk '{ print $1, ($2 == "running" ? "running" : "other") }' | sort
}
index_set() {
	reconctl ps --json | jq -r '.[] | select(.state != "missing") |
		"\(.container_id) \(if .state == "running" then "running" else "other" end)"' | sort
}
same_index() { [ "$(docker_set)" = "$(index_set)" ]; }
check "the index equals docker ps -a within one interval" wait_for 10 same_index

# ---- the subscriber saw every revision once, in order ----
# the head may still move (state runs asked for again once the dispatcher
# is back report their results): the subscriber must reach the head of
# the moment
sub_caught_up() {
	HEAD=$(head_rev)
	[ "$(tail -n 1 "$OUT/sub.$((SUBN - 1))" | awk '{print $1}')" = "$HEAD" ]
}
check "the subscriber reaches the head" wait_for 20 sub_caught_up
# every revision from 1 once, in order, up to that head at least: the
# head may have moved on since, and the subscriber with it
revs_ok() {
	local i
	for i in $(seq 0 $((SUBN - 1))); do cat "$OUT/sub.$i"; done |
		awk -v head="$HEAD" '
			$1 != last + 1 { print "after " last ": " $1; bad = 1 }
			{ last = $1; n++ }
			END { print n " revisions"; exit !(bad == 0 && last >= head) }' >"$T/revs.txt"
	local rc=$?
	log "subscriber: $(tr '\n' ' ' <"$T/revs.txt")"
	return $rc
}
check "the subscriber saw revisions 1..$HEAD once each, in order" revs_ok

# ---- no state dispatch lost ----
stops_ok() {
	local w cid t n=0 bad=0
	[ -s "$OUT/stops" ] || return 1
	while read -r _ w cid t; do
		n=$((n + 1))
		# a state run of w that started after the stop and saw the
		# container stopped, or no longer saw it
		if ! state_run_after "$w" "$cid" "$t"; then
			log "no state run of $w after the stop of ${cid:0:12} at $t"
			bad=$((bad + 1))
		fi
	done <"$OUT/stops"
	log "stops checked: $n, without a state run after them: $bad"
	[ "$bad" -eq 0 ]
}
check "every stop had a state run of its workload after it" wait_for 30 stops_ok
stops_ok

finish
