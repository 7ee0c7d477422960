#!/usr/bin/env bash
# event_latency.sh: how long after `docker stop` returns the index shows the
# container stopped, beside a raw `curl --unix-socket ... /events` reader
# on the same daemon, so that recon's own delay (index change minus the
# moment the raw reader saw Docker's "die") stands apart from Docker's;
# and beside a raw poller of Docker's list, since dockerd logs "die" before
# its list shows the exit, a floor no list-based reader can go below.
# Beside the nng subscriber (`reconctl watch --json`), the HTTP face: a
# recon-http and a `curl -sN .../v1/events?workload_id=` reader of its
# Server-Sent Events, stamped the same way.
# Runs a store, a lister (passes 5 min apart: only events can explain a
# change) and a recon-http in a temp dir against the machine's dockerd.
# usage: bench/event_latency.sh [BUILD_DIR] [N]   (defaults: build, 100)
set -u
BUILD=$(cd "${1:-build}" && pwd)
N=${2:-100}
SOCK=/var/run/docker.sock
T=$(mktemp -d /tmp/recon-bench.XXXXXX)
PREFIX="benchev$$."
IMAGE=recon-test-busybox:latest
W=bench
PIDS=()
export RECON_RUN_DIR=$T/run RECON_DATA_DIR=$T/data RECON_LABEL_PREFIX=$PREFIX

cleanup() {
	local p
	# the readers first (the last started), then the lister and the store
	for ((p = ${#PIDS[@]} - 1; p >= 0; p--)); do
		kill -TERM "${PIDS[p]}" 2>/dev/null
		wait "${PIDS[p]}" 2>/dev/null
	done
	docker rm -f "bench$$" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
# stamp FILE: each line of stdin, prefixed with the wall clock in ms at
# which it arrived.
stamp() {
	python3 -u -c '
import sys, time
out = open(sys.argv[1], "w", buffering=1)
for line in sys.stdin:
    out.write("%.3f %s" % (time.time() * 1000, line))
' "$1"
}

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
	echo "bench: no $IMAGE (run tests/integration once to import it)" >&2
	exit 1
fi
mkdir -p "$T/run"
"$BUILD/recon-store" 2>"$T/store.log" &
PIDS+=($!)
sleep 0.5
printf '{"id":"%s","name":"%s","kind":"stack"}' $W $W |
	"$BUILD/reconctl" workload put - >/dev/null
"$BUILD/recon-lister" --interval 5m 2>"$T/lister.log" &
PIDS+=($!)
# The HTTP face, on a port of its own choosing (it logs it).
"$BUILD/recon-http" --http-listen 127.0.0.1:0 --keepalive 1s \
	2>"$T/http.log" &
PIDS+=($!)
for i in $(seq 100); do
	grep -q 'following the store' "$T/http.log" && break
	sleep 0.05
done
HTTP=$(grep -o 'serving http://[0-9.:]*' "$T/http.log" | tail -1 |
	cut -d' ' -f2)
if [ -z "$HTTP" ]; then
	echo "bench: recon-http did not start: $(tail -3 "$T/http.log")" >&2
	exit 1
fi

# The raw reader: Docker's own stream, same filter as the lister's. The
# readers are the background jobs (their stampers end at their EOF).
filter=$(python3 -c 'import json, sys, urllib.parse
print(urllib.parse.quote(json.dumps({"type": ["container"],
    "label": [sys.argv[1] + "workload.id"]})))' "$PREFIX")
curl -sN --unix-socket $SOCK "http://docker/v1.41/events?filters=$filter" \
	> >(stamp "$T/raw.txt") &
PIDS+=($!)
# The index: every change the store publishes.
"$BUILD/reconctl" watch --json -w $W > >(stamp "$T/index.txt") &
PIDS+=($!)
# The same through recon-http: its event stream of the workload.
curl -sN "$HTTP/v1/events?workload_id=$W" > >(stamp "$T/sse.txt") &
PIDS+=($!)

# poll.py SOCK CID READY: from now until Docker's own list shows CID not
# running, one list call every 2 ms on a kept-alive connection; creates
# READY once it polls, prints the wall clock in ms of the first answer
# that showed the exit.
cat >"$T/poll.py" <<'EOF'
import http.client, json, socket, sys, time, urllib.parse
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
c = Conn("docker")
q = urllib.parse.quote(json.dumps({"id": [sys.argv[2]]}))
deadline = time.time() + 20
while time.time() < deadline:
    c.request("GET", "/v1.41/containers/json?all=1&filters=" + q)
    r = json.loads(c.getresponse().read())
    t = time.time() * 1000
    open(sys.argv[3], "w").close()
    if r and r[0]["State"] not in ("running", "paused"):
        print("%.3f" % t)
        break
    time.sleep(0.002)
EOF
cid=$(docker run -d --network none --name "bench$$" \
	--label "${PREFIX}workload.id=$W" --label "${PREFIX}role=r" "$IMAGE" \
	sh -c 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done')
# wait_row STATE: until the row shows STATE (10 s at most).
wait_row() {
	local i
	for i in $(seq 200); do
		"$BUILD/reconctl" ps -w $W -s "$1" --json 2>/dev/null |
			grep -q "\"id\":\"$W:r\"" && return 0
		sleep 0.05
	done
	echo "bench: row never $1" >&2
	return 1
}
wait_row running || exit 1
: >"$T/ops.txt"
for i in $(seq "$N"); do
	rm -f "$T/poll.ready"
	python3 "$T/poll.py" $SOCK "$cid" "$T/poll.ready" >"$T/poll.txt" &
	poller=$!
	until [ -e "$T/poll.ready" ]; do sleep 0.01; done
	t0=$(ms)
	docker stop "$cid" >/dev/null
	t1=$(ms)
	wait_row stopped || exit 1
	wait $poller
	echo "$t0 $t1 $(cat "$T/poll.txt")" >>"$T/ops.txt"
	docker start "$cid" >/dev/null
	wait_row running || exit 1
done
sleep 0.5

python3 - "$T" "$cid" "$W:r" <<'EOF'
import json, sys
T, cid, row = sys.argv[1:4]
ops = [tuple(map(float, l.split())) for l in open(T + "/ops.txt")]
def stamped(name, prefix=""):
    out = []
    for l in open(T + "/" + name):
        t, _, rest = l.partition(" ")
        if prefix:
            if not rest.startswith(prefix):
                continue
            rest = rest[len(prefix):]
        try:
            out.append((float(t), json.loads(rest)))
        except ValueError:
            pass
    return out
raw = [(t, e) for t, e in stamped("raw.txt")
       if e.get("Action") == "die" and e.get("id") == cid]
def stopped(events):
    return [(t, e) for t, e in events
            if e.get("t") == "container"
            and (e.get("row") or {}).get("id") == row
            and (e.get("row") or {}).get("state") == "stopped"]
idx = stopped(stamped("index.txt"))
# SSE: the data: lines, each one JSON line
sse = stopped(stamped("sse.txt", "data: "))
cols = {"docker: raw reader sees die": [],
        "docker: its list shows exited": [],
        "recon: index shows stopped": [],
        "recon-http: SSE shows stopped": [],
        "recon minus raw die": [], "recon minus docker's list": [],
        "index minus die timeNano": [],
        "SSE minus nng subscriber": []}
for op in ops:
    t0, t1 = op[0], op[1]
    r = next(((t, e) for t, e in raw if t >= t0), None)
    x = next(((t, e) for t, e in idx if t >= t0), None)
    if r is None or x is None:
        continue
    cols["docker: raw reader sees die"].append(r[0] - t1)
    cols["recon: index shows stopped"].append(x[0] - t1)
    cols["recon minus raw die"].append(x[0] - r[0])
    if len(op) > 2:
        cols["docker: its list shows exited"].append(op[2] - t1)
        cols["recon minus docker's list"].append(x[0] - op[2])
    cols["index minus die timeNano"].append(x[0] - r[1]["timeNano"] / 1e6)
    # the SSE reader's receipt of the same event (same rev as the index's)
    y = next(((t, e) for t, e in sse if e.get("rev") == x[1].get("rev")),
             None)
    if y is not None:
        cols["recon-http: SSE shows stopped"].append(y[0] - t1)
        cols["SSE minus nng subscriber"].append(y[0] - x[0])
def pct(v, p):
    v = sorted(v)
    return v[max(0, min(len(v) - 1, -(-p * len(v) // 100) - 1))]
n = len(cols["recon minus raw die"])
print("docker stop x %d (of %d; %d seen by the SSE reader); ms after "
      "`docker stop` returned (negative: before it returned)"
      % (n, len(ops), len(cols["SSE minus nng subscriber"])))
print("%-32s %8s %8s %8s %8s" % ("", "p50", "p99", "max", "min"))
for k, v in cols.items():
    if v:
        print("%-32s %8.1f %8.1f %8.1f %8.1f" % (k, pct(v, 50), pct(v, 99),
              max(v), min(v)))
EOF
echo "lister: $("$BUILD/reconctl" probe lister --json 2>/dev/null |
	python3 -c 'import json, sys; c = json.load(sys.stdin)["counters"]
print(", ".join("%s %d" % (k, c[k]) for k in ("events", "rereads",
      "stale_reads", "event_applied", "event_overruled", "deltas_sent",
      "passes", "missed_events")))')"
