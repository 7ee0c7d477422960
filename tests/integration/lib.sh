# lib.sh: shared helpers for the black-box tests: a real dockerd, the
# busybox test image, recon's daemons in a temp run/data dir, and checks
# that count passes and failures. Sourced by the test scripts.

set -u

BUILD=${1:?usage: $0 BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/recon-it.XXXXXX)
RUN=$T/run
DATA=$T/data
# A prefix of our own keeps other containers on this daemon out of the test.
PREFIX="recontest$$."
IMAGE=recon-test-busybox:latest
PASSED=0
FAILED=0
PIDS=()
STARTED_DOCKERD=

export RECON_RUN_DIR=$RUN
export RECON_DATA_DIR=$DATA
export RECON_LABEL_PREFIX=$PREFIX

log() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }

ok() {
	PASSED=$((PASSED + 1))
	log "PASS: $*"
}

bad() {
	FAILED=$((FAILED + 1))
	log "FAIL: $*"
}

# check NAME CMD...: one assertion.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

# now_ms: the wall clock in ms.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_for SECONDS CMD...: runs CMD (in this shell) every 50 ms until it
# succeeds (true) or SECONDS have passed (false, logged with CMD and the
# last lines it printed). SECONDS may have a fraction (0.5). Every wait in
# these tests is one of these: for a condition, with a deadline.
wait_for() {
	local ms deadline out=$T/wait_for.out
	ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')
	deadline=$(($(now_ms) + ms))
	shift
	while :; do
		"$@" >"$out" 2>&1 && return 0
		if [ "$(now_ms)" -ge $deadline ]; then
			log "wait_for: not true within ${ms} ms: $*"
			[ -s "$out" ] && tail -3 "$out" | sed 's/^/    /'
			return 1
		fi
		sleep 0.05
	done
}

reconctl() { "$BUILD/reconctl" "$@"; }

# head_rev: the store's head revision (stats carries it with oldest_rev).
head_rev() {
	reconctl stats --json 2>/dev/null |
		jq -r '[.. | objects | select(has("oldest_rev")) | .rev][0]'
}

# spawn_daemon LOG DIR CMD...: CMD in the background in its own session,
# in DIR, stdin /dev/null, stdout and stderr appended to LOG, holding no
# other file descriptor of this test: a daemon that outlives the test
# (dockerd) must keep neither the lock the test runs under (`flock LOCK
# CMD` hands its locked fd down to CMD and everything CMD starts) nor
# ctest's output pipe. $! is the daemon's pid.
spawn_daemon() {
	local out=$1 dir=$2
	shift 2
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null
		done
		cd "$dir" && exec setsid "$@" >>"$out" 2>&1 </dev/null
	) &
}

# dockerd_pid: the dockerd serving the default socket, by its pid file
# when that names a running dockerd, else any dockerd. (pidof alone skips
# a process in disk sleep, D, and printed nothing for a busy dockerd once:
# the test that froze it then froze nothing.)
dockerd_pid() {
	local p
	p=$(cat /var/run/docker.pid 2>/dev/null)
	if [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = dockerd ]; then
		echo "$p"
		return 0
	fi
	pidof -z dockerd | awk '{print $1}'
}

# dockerd_freeze: SIGSTOP to that dockerd, its pid in DPID; fails unless it
# is found and stopped (state T) within 5 s.
dockerd_frozen() { [ "$(awk '{print $3}' "/proc/$DPID/stat" 2>/dev/null)" = T ]; }
dockerd_freeze() {
	DPID=$(dockerd_pid)
	[ -n "$DPID" ] && kill -STOP "$DPID" && wait_for 5 dockerd_frozen
}

# Starts dockerd when none answers; fails the run when Docker cannot be had
# (a skipped integration test is not a pass).
docker_up() {
	if ! command -v docker >/dev/null; then
		log "FATAL: docker CLI not installed"
		exit 1
	fi
	if docker info >/dev/null 2>&1; then
		return 0
	fi
	if ! command -v dockerd >/dev/null; then
		log "FATAL: no dockerd and none running"
		exit 1
	fi
	log "starting dockerd"
	spawn_daemon "$T/dockerd.log" / \
		dockerd --iptables=false --ip-forward=false --bridge=none
	STARTED_DOCKERD=$!
	if ! wait_for 60 docker info; then
		log "FATAL: dockerd did not come up"
		tail -20 "$T/dockerd.log"
		exit 1
	fi
}

# The test image: busybox-static in an otherwise empty root file system.
image_up() {
	docker image inspect "$IMAGE" >/dev/null 2>&1 && return 0
	local root=$T/rootfs bb
	bb=$(command -v busybox || echo /bin/busybox)
	mkdir -p "$root/bin"
	cp "$bb" "$root/bin/busybox"
	for c in sh sleep true false cat echo; do
		ln -s busybox "$root/bin/$c"
	done
	tar -C "$root" -c . | docker import - "$IMAGE" >/dev/null
}

# start NAME ARGS...: runs build/NAME in the background, logs to $T/NAME.log.
start() {
	local name=$1
	shift
	"$BUILD/$name" "$@" >>"$T/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_${name//-/_}=$!"
}

# http_up ARGS...: recon-http on a free loopback port (it picks it: port
# 0, and logs the address); sets HTTP to its base URL.
http_up() {
	start recon-http --http-listen 127.0.0.1:0 "$@"
	wait_for 10 grep -q 'serving http://' "$T/recon-http.log" ||
		{ bad "recon-http came up"; return 1; }
	HTTP=$(grep -o 'serving http://[0-9.:]*' "$T/recon-http.log" |
		tail -1 | cut -d' ' -f2)
}

# rss_kb PID: the process's resident memory, KiB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# nices PID: the niceness of every thread of PID, each value once
nices() { ps -L -o ni= -p "$1" | tr -d ' ' | sort -u | xargs; }

# stop_pid PID: SIGTERM, then wait.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# revs_once R0 HEAD CMD...: the revisions CMD prints (one a line), up to
# HEAD, are R0+1..HEAD, each once, in order (a subscriber's resume).
revs_once() {
	local r0=$1 head=$2 want got
	shift 2
	want=$(seq $((r0 + 1)) "$head" | xargs)
	got=$("$@" | awk -v h="$head" '$1 <= h' | xargs)
	[ "$want" = "$got" ] || {
		log "$*: want $want, got $got"
		return 1
	}
}

# stop_pids: SIGTERM to every process in PIDS, then each waited for.
stop_pids() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
}

# show_logs: the end of each log in $T, when a check failed or KEEP_LOGS
# is set.
show_logs() {
	local f
	if [ "$FAILED" -gt 0 ] || [ -n "${KEEP_LOGS:-}" ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $f (last 40 lines)"
			tail -40 "$f"
		done
	fi
}

# ctr NAME KIND WID [ROLE] [CMD]: a labelled container, created and started.
ctr_run() {
	local name=$1 kind=$2 wid=$3 role=${4:-}
	local labels=(--label "${PREFIX}workload.id=$wid")
	[ -n "$kind" ] && labels+=(--label "${PREFIX}workload.kind=$kind")
	[ -n "$role" ] && labels+=(--label "${PREFIX}role=$role")
	docker run -d --network none --name "$name-$$" "${labels[@]}" \
		"$IMAGE" sleep 3600
}

# workload_put ID KIND [SOURCE_KIND]
workload_put() {
	printf '{"id":"%s","name":"%s","kind":"%s","source_kind":"%s"}' \
		"$1" "$1" "$2" "${3:-}" | reconctl workload put - >/dev/null
}

# rows_json: the index as JSON (one array).
rows_json() { reconctl ps --json; }

# row_field ROW_ID FIELD: one field of one row ("" when no such row).
row_field() {
	rows_json | jq -r --arg id "$1" --arg f "$2" \
		'.[] | select(.id == $id) | .[$f] // ""'
}

row_state_is() { [ "$(row_field "$1" state)" = "$2" ]; }

# host_rows HOST: that host's rows (SPEC §10), the fields a pass may change
# but last_seen_at, sorted, as one JSON line; rows_n HOST N: N of them
host_rows() {
	reconctl ps --json | jq -c --arg h "$1" \
		'[.[] | select(.host == $h) | {id, state, host, container_id}]
		 | sort_by(.id)'
}
rows_n() { [ "$(host_rows "$1" | jq length)" = "$2" ]; }

# store_ctr NAME: the store's counter NAME
store_ctr() { reconctl probe store --json 2>/dev/null | jq -r ".counters.$1"; }

cleanup() {
	stop_pids
	# dockerd may have been left frozen by a failed test
	[ -n "$(dockerd_pid)" ] && kill -CONT "$(dockerd_pid)" 2>/dev/null
	docker ps -aq --filter "label=${PREFIX}workload.id" |
		xargs -r docker rm -f >/dev/null 2>&1
	if [ -n "$STARTED_DOCKERD" ]; then
		kill -TERM "$STARTED_DOCKERD" 2>/dev/null
		wait "$STARTED_DOCKERD" 2>/dev/null
	fi
	show_logs
	rm -rf "$T"
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}

# deploy_copy KIND DEST: deploy/KIND's service dirs with the binaries of
# this build and an env dir of this test in place of /etc/recon/env.
deploy_copy() {
	local kind=$1 dest=$2 f
	mkdir -p "$dest" "$T/env"
	cp -a "$HERE/../../deploy/$kind/." "$dest/"
	grep -rl -e /usr/local/bin -e /etc/recon/env "$dest" | while read -r f; do
		sed -i -e "s|/usr/local/bin/|$BUILD/|g" -e "s|/etc/recon/env|$T/env|g" "$f"
	done
	echo "$RUN" >"$T/env/RECON_RUN_DIR"
	echo "$DATA" >"$T/env/RECON_DATA_DIR"
	echo "$PREFIX" >"$T/env/RECON_LABEL_PREFIX"
	echo 1s >"$T/env/RECON_INTERVAL"
	# recon-http on a loopback port nobody holds now
	HTTP_PORT=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	HTTP=http://127.0.0.1:$HTTP_PORT
	echo "127.0.0.1:$HTTP_PORT" >"$T/env/RECON_HTTP_LISTEN"
}

# http_ok PATH: recon-http answers PATH with 200.
http_ok() { curl -fsS -m 2 -o /dev/null "$HTTP$1"; }
