#!/usr/bin/env bash
# test_netns_hosts.sh: SPEC §10 (issue 16) with hosts that are network
# namespaces made here: a namespace "hub" holding a bridge at 198.18.0.1
# (the benchmarking range, private) and the store, and three host
# namespaces hA, hB, hC on veth pairs into that bridge (.11, .12, .13),
# each with a dockerd of its own and a recon-lister pushing over
# tls+tcp:// to the store. Checks: every host's rows with its host; R7
# per host; a host whose link is cut goes stale with its rows as they
# were while the others go on, and catches up when the link is back (the
# time it took is logged, read from the store's own clock); a store
# restart that the listers ride out, after which the index equals each
# host's docker ps -a; a remote subscriber in hA resuming across it,
# every revision once in order; 30 remote clients at once from the hosts.
# The store's ipc sockets are in the temp dir as usual (ipc crosses
# network namespaces), its remote listeners on fixed ports of hub's
# address (hub is the test's own). Needs root, ip and nsenter.
# usage: test_netns_hosts.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs.sh"

HOSTS=(hA hB hC)
# The hosts' dockerds are the test's own: their containers carry the
# default label, tinyforge.workload.id. ($PREFIX stays lib.sh's, which
# its cleanup removes from the shared dockerd.)
LABELS=tinyforge.
export RECON_LABEL_PREFIX=$LABELS
IV=2       # the listers' --interval, s
NS=recon$$ # namespace names: $NS-hub, $NS-hA, ...
HUB=198.18.0.1
P_IN=7450
P_EV=7451
P_CTL=7452
ING=tls+tcp://$HUB:$P_IN
EV=tls+tcp://$HUB:$P_EV
CTL=tls+tcp://$HUB:$P_CTL
C=$T/certs
NETNS_MADE=()
DOCKERDS=() # hosts whose dockerd this test started

# inns HOST CMD...: CMD in HOST's network namespace (hub, hA, ...).
# nsenter, not ip netns exec: that remounts /sys, and a dockerd started
# under it dies ("Devices cgroup isn't mounted").
inns() {
	local h=$1
	shift
	nsenter --net="/run/netns/$NS-$h" "$@"
}

# dk HOST ARGS...: the docker CLI against HOST's own dockerd
dk() {
	local h=$1
	shift
	docker -H "unix://$T/$h/docker.sock" "$@"
}

# gone PID: no such process, or only its zombie
gone() {
	[ ! -e "/proc/$1" ] ||
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# dockerd_down HOST: its containers removed, SIGTERM to the dockerd by its
# pid file, waited for; then whatever it left mounted under its roots
# (its netns/default) unmounted.
dockerd_down() {
	local h=$1 pid m
	dk "$h" ps -aq | xargs -r docker -H "unix://$T/$h/docker.sock" rm -f \
		>/dev/null 2>&1
	pid=$(cat "$T/$h/docker.pid" 2>/dev/null)
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
		kill -TERM "$pid"
		wait_for 30 gone "$pid" || log "dockerd of $h (pid $pid) did not stop"
	fi
	# the deepest mount points first
	awk -v r="$T/$h/" 'index($2, r) == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

netns_cleanup() {
	local h n
	stop_pids
	PIDS=()
	for h in "${DOCKERDS[@]}"; do
		dockerd_down "$h"
	done
	for n in "${NETNS_MADE[@]}"; do
		ip netns delete "$NS-$n" 2>/dev/null
	done
	cleanup
}
trap netns_cleanup EXIT
mkdir -p "$RUN"

# ---- the network: hub's bridge, a veth pair per host ----
# net_up: every step, stopping at the first that fails
net_up() {
	local h i=11
	ip netns add "$NS-hub" || return 1
	NETNS_MADE+=(hub)
	inns hub ip link set lo up &&
		inns hub ip link add br0 type bridge &&
		inns hub ip addr add "$HUB/24" dev br0 &&
		inns hub ip link set br0 up || return 1
	for h in "${HOSTS[@]}"; do
		ip netns add "$NS-$h" || return 1
		NETNS_MADE+=("$h")
		# each end made in its namespace: the names are theirs alone
		ip link add eth0 netns "$NS-$h" type veth \
			peer name "p$h" netns "$NS-hub" &&
			inns hub ip link set "p$h" master br0 up &&
			inns "$h" ip link set lo up &&
			inns "$h" ip addr add "198.18.0.$i/24" dev eth0 &&
			inns "$h" ip link set eth0 up || return 1
		i=$((i + 1))
	done
}
net_up || { bad "the namespaces, bridge and veth pairs made"; exit 1; }

# ---- certificates: a CA, the store (named by its address), a host each ----
mkcerts() {
	cert_ca "$C" || return 1
	# mbedTLS matches the address dialled against DNS SANs only
	cert_issue "$C" store "$HUB" "IP:$HUB,DNS:$HUB" || return 1
	for h in "${HOSTS[@]}"; do
		cert_issue "$C" "$h" "$h" "DNS:$h" || return 1
	done
}
mkcerts 2>>"$T/openssl.log" ||
	{ bad "certificates made with openssl"; exit 1; }
tls() {
	echo --tls-cert "$C/$1.pem" --tls-key "$C/$1.key" --tls-ca "$C/ca.pem"
}

# ---- a dockerd per host namespace, the test image loaded into each ----
docker_up
image_up
# hdockerd_up HOST: HOST's dockerd, its roots and socket under $T/HOST
hdockerd_up() {
	local h=$1 d=$T/$1
	mkdir -p "$d"
	DOCKERDS+=("$h")
	spawn_daemon "$T/dockerd-$h.log" / \
		nsenter --net="/run/netns/$NS-$h" dockerd \
		--data-root "$d/data" --exec-root "$d/exec" \
		--pidfile "$d/docker.pid" -H "unix://$d/docker.sock" \
		--iptables=false --ip-forward=false --bridge=none
	wait_for 60 dk "$h" info &&
		docker save "$IMAGE" | dk "$h" load >/dev/null
}
for h in "${HOSTS[@]}"; do
	hdockerd_up "$h" || { bad "dockerd of $h up, image loaded"; exit 1; }
done
ok "a dockerd in each of hA, hB, hC, the image loaded"

# wid HOST: the workload of HOST's containers (hA: wa, ...)
wid() { echo "w$(tr '[:upper:]' '[:lower:]' <<<"${1#h}")"; }
# hctr HOST ROLE: a container of HOST's workload with that role (row
# <wid>:<role>), created and started; named HOST-ROLE
hctr() {
	dk "$1" run -d --network none --name "$1-$2" \
		--label "${LABELS}workload.id=$(wid "$1")" \
		--label "${LABELS}role=$2" "$IMAGE" sleep 3600 >/dev/null
}
for h in "${HOSTS[@]}"; do
	{ hctr "$h" r0 && hctr "$h" r1; } || bad "containers of $h started"
done

# ---- the store in hub, a lister in each host ----
# shellcheck disable=SC2046
store_up() {
	spawn_daemon "$T/recon-store.log" "$T" \
		nsenter --net="/run/netns/$NS-hub" "$BUILD/recon-store" \
		$(tls store) --remote-ingest-url "$ING" \
		--remote-events-url "$EV" --remote-ctl-url "$CTL"
	STORE_PID=$!
	PIDS+=("$STORE_PID")
	wait_for 10 reconctl probe store
}
store_up || { bad "the store came up in hub"; exit 1; }
for h in "${HOSTS[@]}"; do workload_put "$(wid "$h")" stack; done

# shellcheck disable=SC2046
lister_up() {
	local h=$1
	mkdir -p "$T/run-$h"
	spawn_daemon "$T/lister-$h.log" "$T" \
		nsenter --net="/run/netns/$NS-$h" "$BUILD/recon-lister" \
		--run-dir "$T/run-$h" --host-name "$h" \
		--docker-host "unix://$T/$h/docker.sock" --ingest-url "$ING" \
		$(tls "$h") --interval "${IV}s"
	PIDS+=($!)
	wait_for 10 reconctl --run-dir "$T/run-$h" probe lister --live
}
for h in "${HOSTS[@]}"; do
	lister_up "$h" || bad "the lister of $h came up in its namespace"
done
lister_ctr() {
	reconctl --run-dir "$T/run-$1" probe lister --json 2>/dev/null |
		jq -r ".counters.$2"
}
host_field() {
	reconctl hosts --json | jq -r --arg h "$1" --arg f "$2" \
		'.[] | select(.host == $h) | .[$f]'
}
host_is() { [ "$(host_field "$1" state)" = "$2" ]; }
seen_above() { [ "$(host_field "$1" last_seen_at)" -gt "$2" ]; }

# ---- a: every host's containers, with its host ----
# right_rows HOST: 2 rows, <wid>:r0 and :r1, running, bound to the ids
# HOST's dockerd gives
right_rows() {
	local h=$1 w want
	w=$(wid "$h")
	want=$(jq -cn --arg h "$h" --arg w "$w" \
		--arg c0 "$(dk "$h" inspect -f '{{.Id}}' "$h-r0")" \
		--arg c1 "$(dk "$h" inspect -f '{{.Id}}' "$h-r1")" \
		'[{id: "\($w):r0", state: "running", host: $h, container_id: $c0},
		  {id: "\($w):r1", state: "running", host: $h, container_id: $c1}]')
	[ "$(host_rows "$h")" = "$want" ] || {
		host_rows "$h"
		return 1
	}
}
for h in "${HOSTS[@]}"; do
	check "a: ps --json: $h's 2 containers, host $h, its dockerd's ids" \
		wait_for 20 right_rows "$h"
done
all_live() {
	[ "$(reconctl hosts --json | jq -c 'map(select(.state == "live"))
		| map(.host) | sort')" = '["hA","hB","hC"]' ]
}
check "a: hosts: hA, hB, hC live" wait_for 10 all_live
check "a: the store refused nothing" test "$(store_ctr ingest_forbidden)" = 0

# ---- b: R7 per host ----
A0=$(host_rows hA)
C0=$(host_rows hC)
dk hB rm -f hB-r1 >/dev/null
check "b: hB's container removed: its row wb:r1 missing" \
	wait_for 10 row_state_is wb:r1 missing
check "b: ... wb:r0 still running" row_state_is wb:r0 running
# a pass of each host after the sweep, then their rows again
SA=$(host_field hA last_seen_at)
SC=$(host_field hC last_seen_at)
wait_for $((4 * IV)) seen_above hA "$SA" &&
	wait_for $((4 * IV)) seen_above hC "$SC"
check "b: hA's rows untouched" test "$(host_rows hA)" = "$A0"
check "b: hC's rows untouched" test "$(host_rows hC)" = "$C0"

# ---- c: hC's link cut, then restored ----
# a subscriber of hC's rows over ipc: the store's time of each change
start reconctl watch -w wc --json
# shellcheck disable=SC2154 # set by lib.sh's start
WATCH_C=$PID_reconctl
C0=$(host_rows hC)
log "c: hC's link down (phC, its end on hub's bridge)"
inns hub ip link set phC down
CUT_MS=$(now_ms)
# the change on hC's dockerd during the cut: wc:r1 stops
dk hC kill hC-r1 >/dev/null
check "c: hC stale after 3 of its intervals without a word" \
	wait_for $((6 * IV)) host_is hC stale
others_live() { host_is hA live && host_is hB live; }
check "c: ... while hA and hB stay live" others_live
check "c: ... and hC's rows stay as they were (R8)" \
	test "$(host_rows hC)" = "$C0"
SA=$(host_field hA last_seen_at)
SB=$(host_field hB last_seen_at)
dk hA stop -t 0 hA-r0 >/dev/null
check "c: during the cut, hA's wa:r0 stopped lands" \
	wait_for 10 row_state_is wa:r0 stopped
dk hA start hA-r0 >/dev/null
check "c: ... and its start" wait_for 10 row_state_is wa:r0 running
others_pass() { seen_above hA "$SA" && seen_above hB "$SB"; }
check "c: hA and hB keep passing (last seen rises)" \
	wait_for $((3 * IV)) others_pass
c_as_cut() {
	host_is hC stale && [ "$(host_rows hC)" = "$C0" ] && others_live
}
check "c: hC still stale, its rows as they were, hA and hB live" c_as_cut
# what the restore finds: the lister's TCP connection to the store (its
# unacknowledged bytes, retransmission timer: timer:(on,LEFT,N)) and
# hC's neighbour entry for the store
inns hC ss -tnio state established "( dport = :$P_IN )" >"$T/ss-cut.txt" 2>&1
inns hC ip neigh show "$HUB" >>"$T/ss-cut.txt" 2>&1
SC=$(host_field hC last_seen_at)
inns hub ip link set phC up
UP_MS=$(now_ms)
log "c: hC's link up after $((UP_MS - CUT_MS)) ms; its lister's connection:"
sed 's/^/    /' "$T/ss-cut.txt"
# first_seen: hC's first last_seen_at after the restore (polled every 50 ms)
FIRST_SEEN=
first_seen() {
	local s
	s=$(host_field hC last_seen_at)
	[ -n "$s" ] && [ "$s" -gt "$SC" ] && FIRST_SEEN=$s
}
check "c: link back: hC heard again" wait_for 60 first_seen
check "c: ... live again" wait_for 10 host_is hC live
check "c: ... the change made during the cut arrived (wc:r1 stopped)" \
	wait_for 10 row_state_is wc:r1 stopped
# at: the store's time of the event that turned wc:r1 stopped
CHANGE_AT=$(jq -rR 'fromjson? | select(.row.id == "wc:r1" and
	.row.state == "stopped") | .at' "$T/reconctl.log" | head -1)
log "c: catch-up after the restore, by the store's clock: first word" \
	"from hC $((FIRST_SEEN - UP_MS)) ms, the change" \
	"$((${CHANGE_AT:-0} - UP_MS)) ms (interval ${IV} s)"
check "c: what hC sent during the cut came in order (nothing stale)" \
	test "$(store_ctr stale)" = 0
stop_pid "$WATCH_C"

# ---- d, e: a store restart with the listers running, containers
# changing, a remote subscriber in hA resuming across it ----
R0=$(head_rev)
# shellcheck disable=SC2046
bg_watch() {
	spawn_daemon "$T/watch-hA.log" "$T" \
		nsenter --net="/run/netns/$NS-hA" "$BUILD/reconctl" \
		--events-url "$EV" --store-ctl-url "$CTL" $(tls hA) \
		watch --since "$R0" --json
	WATCH_A=$!
	PIDS+=("$WATCH_A")
}
bg_watch
# and 15 more at once, 5 from each host, with each host's certificate
WATCHES=()
for h in "${HOSTS[@]}"; do
	for i in 1 2 3 4 5; do
		# shellcheck disable=SC2046
		spawn_daemon "$T/watch-$h-$i.log" "$T" \
			nsenter --net="/run/netns/$NS-$h" "$BUILD/reconctl" \
			--events-url "$EV" --store-ctl-url "$CTL" $(tls "$h") \
			watch --since "$R0" --json
		WATCHES+=("$h-$i")
		PIDS+=($!)
	done
done
# the revisions a remote subscriber printed (its log holds stderr too)
revs() { jq -rR 'fromjson? | .rev // empty' "$T/watch-${1:-hA}.log"; }
revs_have() { revs "${2:-hA}" | grep -qx "$1"; }
dk hB start hB-r0 >/dev/null # a no-op: the watch comes up first
dk hA stop -t 0 hA-r1 >/dev/null
check "e: the remote subscriber in hA sees a change" \
	wait_for 10 bash -c "jq -R 'fromjson? | select(.row.id == \"wa:r1\")' \
		'$T/watch-hA.log' | grep -q stopped"
# churn: hA's r1 stopped and started over and over until told to end
churn() {
	while [ ! -e "$T/churn.stop" ]; do
		dk hA start hA-r1 >/dev/null
		dk hA stop -t 0 hA-r1 >/dev/null
	done
}
churn &
CHURN=$!
PIDS+=("$CHURN")
declare -A RC0
for h in "${HOSTS[@]}"; do RC0[$h]=$(lister_ctr "$h" reconnects); done
stop_pid "$STORE_PID"
# while the store is down, every host changes
dk hA rm -f hA-r0 >/dev/null
hctr hB r2
dk hC start hC-r1 >/dev/null
store_up || bad "the store came back on the same data dir"
reconnected() { [ "$(lister_ctr "$1" reconnects)" -gt "${RC0[$1]}" ]; }
for h in "${HOSTS[@]}"; do
	check "d: $h's lister reconnected by itself" wait_for 30 reconnected "$h"
done
touch "$T/churn.stop"
wait "$CHURN"
# same_as_docker HOST: the rows of HOST that are not missing are HOST's
# containers (docker ps -a), ids and states (R9), and no other
same_as_docker() {
	local h=$1 want got
	want=$(dk "$h" ps -a --no-trunc --filter "label=${LABELS}workload.id" \
		--format '{{.ID}} {{.State}}' | sed -e 's/ exited$/ stopped/' \
		-e 's/ dead$/ stopped/' | sort)
	got=$(reconctl ps --json | jq -r --arg h "$h" '.[] | select(.host == $h
		and .state != "missing") | "\(.container_id) \(.state)"' | sort)
	[ "$want" = "$got" ] || {
		echo "docker: $want"
		echo "index: $got"
		return 1
	}
}
for h in "${HOSTS[@]}"; do
	check "d: the index equals $h's docker ps -a (ids and states)" \
		wait_for 20 same_as_docker "$h"
done
check "d: ... wa:r0, removed while the store was down, missing" \
	row_state_is wa:r0 missing
check "d: hA, hB, hC live" wait_for 10 all_live
HEAD=$(head_rev)
check "e: the remote subscriber reached the head ($HEAD)" \
	wait_for 20 revs_have "$HEAD"
check "e: ... every revision from $((R0 + 1)) to $HEAD once, in order" \
	revs_once "$R0" "$HEAD" revs hA
all_watches_once() {
	local w n=0
	for w in "${WATCHES[@]}"; do
		wait_for 20 revs_have "$HEAD" "$w" &&
			revs_once "$R0" "$HEAD" revs "$w" &&
			n=$((n + 1))
	done
	log "$n of ${#WATCHES[@]} remote subscribers had every revision once"
	[ "$n" = "${#WATCHES[@]}" ]
}
check "e: 15 more remote subscribers at once (5 per host): each every revision once, in order" \
	all_watches_once
stop_pid "$WATCH_A"

# ---- f: 30 remote clients at once, 10 from each host ----
# shellcheck disable=SC2046
par_reads() {
	local h i pids=() n=0 want
	want=$(reconctl ps --json | jq length)
	for h in "${HOSTS[@]}"; do
		for i in $(seq 10); do
			inns "$h" "$BUILD/reconctl" --store-ctl-url "$CTL" $(tls "$h") \
				--timeout 20s ps --json >"$T/par.$h.$i" 2>&1 &
			pids+=($!)
		done
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" && n=$((n + 1))
	done
	log "$n of 30 answered"
	[ "$n" = 30 ] &&
		[ "$(cat "$T"/par.* | jq -s -c 'map(length) | unique')" = "[$want]" ]
}
check "f: 30 remote ps --json from the hosts at once: all answered, all rows" \
	par_reads

finish
