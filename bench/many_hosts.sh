#!/usr/bin/env bash
# bench/many_hosts.sh: many hosts into one store (issue 16, SPEC §10).
# A CA, the store's certificate and one per host made with the openssl
# CLI (EC P-256) in a temporary dir; for each size, a fresh recon-store
# listening on tls+tcp://127.0.0.1:PORT (a free port) beside its ipc
# sockets, and recon-load --hosts N acting as N listers (h1..hN), each its
# own TLS connection and certificate, sealing every snapshot as
# recon-lister does; each host a complete snapshot of C containers every
# interval (the hosts spread over it), CHANGE % of them changing state
# per pass. The baseline: the same hosts over the store's local ipc
# ingest, bare (no TLS, no seal): what TLS and the seal cost. After a
# warm-up (every host's first snapshot makes its rows), recon-many-hosts
# (bench/many_hosts.c) follows the store for SECS and reports its figures.
# Prints a table per size and how each figure grows from the smallest
# size to the largest; nothing is asserted, but a measure that cannot be
# taken fails.
#   bench/many_hosts.sh [BUILD_DIR] [--smoke]
#   (default build; --smoke: 2 hosts x 100 containers for 2 s, for
#   bench/run --quick)
# Environment: MANY_HOSTS_SIZES ("10 100"), MANY_HOSTS_CONTAINERS (1000),
# MANY_HOSTS_SECS (60), MANY_HOSTS_INTERVAL_MS (5000), MANY_HOSTS_CHANGE
# (1, %), MANY_HOSTS_TRANSPORTS ("ipc tls").
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/integration/certs.sh
BUILD=build
SMOKE=
for a in "$@"; do
	case $a in
	--smoke) SMOKE=1 ;;
	*) BUILD=$a ;;
	esac
done
B=$(cd "$BUILD" && pwd) || exit 1
if [ -n "$SMOKE" ]; then
	SIZES="2" C=100 SECS=2 INTERVAL_MS=200 CHANGE=10
else
	SIZES=${MANY_HOSTS_SIZES:-10 100}
	C=${MANY_HOSTS_CONTAINERS:-1000}
	SECS=${MANY_HOSTS_SECS:-60}
	INTERVAL_MS=${MANY_HOSTS_INTERVAL_MS:-5000}
	CHANGE=${MANY_HOSTS_CHANGE:-1}
fi
TRANSPORTS=${MANY_HOSTS_TRANSPORTS:-ipc tls}
T=$(mktemp -d /tmp/recon-many-hosts.XXXXXX)
CERTS=$T/certs
STORE=
LOAD=

# stop PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (5) (a process
# wedged in nng's close must not hang this)
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq $((${2:-5} * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	stop "$LOAD"
	stop "$STORE"
	rm -rf "$T"
}
trap cleanup EXIT
die() {
	echo "many_hosts: $*" >&2
	exit 1
}
wait_for() {
	local i
	for i in $(seq $(($1 * 20))); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# certs N: the CA, the store's certificate (the address dialled:
# IP:127.0.0.1, and the same as a DNS name, which mbedTLS 2.28 matches;
# see the README's "Several hosts") and h1..hN's (CN and DNS SAN: the
# host), made by tests/integration/certs.sh as the tests make theirs
certs() {
	local i
	cert_ca "$CERTS" ca "recon bench CA" &&
		cert_issue "$CERTS" store 127.0.0.1 IP:127.0.0.1,DNS:127.0.0.1 ||
		return 1
	for i in $(seq "$1"); do
		cert_issue "$CERTS" "h$i" "h$i" "DNS:h$i" || return 1
	done
}

snapshots() {
	"$B/reconctl" probe store --json 2>/dev/null | jq -r .counters.snapshots
}
snapshots_at_least() { [ "$(snapshots)" -ge "$1" ]; }

# row TRANSPORT N: a fresh store, N hosts of C containers through
# TRANSPORT (ipc: bare on the local ingest; tls: sealed over tls+tcp://),
# a warm-up, SECS of figures; appends a line to $T/rows.txt
row() {
	local tr=$1 n=$2 d=$T/$1-$2 port ing busy
	local sargs=() largs=()
	mkdir -p "$d"
	export RECON_RUN_DIR=$d/run RECON_DATA_DIR=$d/data
	if [ "$tr" = tls ]; then
		port=$(free_port)
		ing=tls+tcp://127.0.0.1:$port
		sargs=(--tls-cert "$CERTS/store.pem" --tls-key "$CERTS/store.key"
			--tls-ca "$CERTS/ca.pem" --remote-ingest-url "$ing")
		largs=(--ingest-url "$ing" --tls-dir "$CERTS")
	fi
	"$B/recon-store" "${sargs[@]}" 2>"$d/store.log" &
	STORE=$!
	wait_for 10 "$B/reconctl" probe store ||
		die "recon-store did not start: $(tail -3 "$d/store.log")"
	printf '{"id":"bench","kind":"stack"}' |
		"$B/reconctl" workload put - >/dev/null ||
		die "unable to put workload bench"
	# long enough for the warm-up and the window; stopped after it
	"$B/recon-load" -w bench --host h --hosts "$n" -c "$C" \
		--interval "${INTERVAL_MS}ms" --change "$CHANGE" \
		--duration "$((WARM + SECS + 30))s" "${largs[@]}" \
		>"$d/load.out" 2>"$d/load.log" &
	LOAD=$!
	# warm-up: every host's first snapshot (all its containers new) and
	# its second applied
	wait_for "$WARM" snapshots_at_least $((2 * n)) ||
		die "$tr, $n hosts: $((2 * n)) snapshots not applied in ${WARM}s" \
			"($(snapshots)): $(tail -3 "$d/load.log") $(tail -3 "$d/store.log")"
	"$B/recon-many-hosts" -s "$SECS" --store-pid "$STORE" --load-pid "$LOAD" \
		--hosts "$n" --rows $((n * C)) >"$d/row.txt" 2>"$d/watch.log" ||
		die "$tr, $n hosts: a measure could not be taken:" \
			"$(cat "$d/watch.log" "$d/row.txt")"
	kill -0 "$LOAD" 2>/dev/null ||
		die "$tr, $n hosts: recon-load ended early: $(tail -3 "$d/load.log")"
	# SIGTERM: each host ends after its send in flight (at most an
	# interval), then the summary line
	stop "$LOAD" $((INTERVAL_MS / 1000 + 10))
	LOAD=
	busy=$(grep -o 'busy=[0-9]* late=[0-9]*' "$d/load.out") ||
		die "$tr, $n hosts: recon-load said no summary: $(tail -3 "$d/load.log")"
	stop "$STORE"
	STORE=
	echo "tr=$tr hosts=$n $(cat "$d/row.txt") $busy" >>"$T/rows.txt"
}

max=0
for n in $SIZES; do [ "$n" -gt "$max" ] && max=$n; done
if [[ " $TRANSPORTS " == *" tls "* ]]; then
	certs "$max" 2>>"$T/openssl.log" || die "openssl could not make the certificates: $(tail -3 "$T/openssl.log")"
fi
: >"$T/rows.txt"
echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); per host a" \
	"complete snapshot of $C containers every ${INTERVAL_MS} ms (hosts" \
	"spread over it), ${CHANGE}% of them changing state per pass;" \
	"${SECS}s of figures per row after a warm-up; ipc: bare on the local" \
	"ingest; tls: tls+tcp://127.0.0.1, each host its own connection and" \
	"certificate, every snapshot sealed"
for n in $SIZES; do
	# the first round makes every row; a second applied round ends it.
	# A limit only: a store that cannot keep up takes longer (busy
	# snapshots are dropped, so the rounds still end)
	WARM=$((60 + 2 * INTERVAL_MS / 1000 + n * C / 1000))
	for tr in $TRANSPORTS; do
		row "$tr" "$n"
	done
done

python3 - "$T/rows.txt" <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    d = {}
    for kv in line.split():
        k, _, v = kv.partition("=")
        d[k] = v
    rows.append(d)
f = lambda r, k: float(r[k])
# (name, how it is shown, the figure the ratios compare)
cols = [
    ("passes/s", lambda r: "%.2f" % f(r, "passes_s"), "passes_s"),
    ("apply p50/p99 ms", lambda r: "%.2f / %.2f" % (f(r, "apply_us_p50") / 1000,
                                                   f(r, "apply_us_p99") / 1000),
     "apply_us_p99"),
    ("store cores", lambda r: "%.3f" % f(r, "cpu_cores"), "cpu_cores"),
    ("CPU ms/pass", lambda r: "%.2f" % f(r, "cpu_ms_pass"), "cpu_ms_pass"),
    ("RssAnon MB start/peak", lambda r: "%.1f / %.1f" % (
        f(r, "anon_kb_start") / 1024, f(r, "anon_kb_peak") / 1024),
     "anon_kb_peak"),
    ("VmRSS MB peak", lambda r: "%.1f" % (f(r, "rss_kb_peak") / 1024),
     "rss_kb_peak"),
    ("event p50/p99 ms", lambda r: "%.1f / %.1f" % (f(r, "ev_ms_p50"),
                                                   f(r, "ev_ms_p99")),
     "ev_ms_p99"),
    ("snapshot->pass p50/p99 ms", lambda r: "%.1f / %.1f" % (
        f(r, "pass_ms_p50"), f(r, "pass_ms_p99")), "pass_ms_p99"),
    ("events/s", lambda r: "%.0f" % f(r, "events_s"), "events_s"),
    ("busy/late", lambda r: "%s / %s" % (r["busy"], r["late"]), None),
    ("load cores", lambda r: "%.3f" % f(r, "load_cores"), None),
]
def ratio(a, b):
    return "%.2fx" % (a / b) if b > 0 else "-"
def table(head, body):
    w = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    for x in [head] + body:
        print("  ".join(str(v).ljust(w[i]) for i, v in enumerate(x)).rstrip())
sizes = []
for r in rows:
    if r["hosts"] not in sizes:
        sizes.append(r["hosts"])
for n in sizes:
    some = [r for r in rows if r["hosts"] == n]
    print("## %s hosts x %d containers" % (n, int(some[0]["rows"]) // int(n)))
    body = [[r["tr"]] + [c[1](r) for c in cols] for r in some]
    byt = {r["tr"]: r for r in some}
    if "ipc" in byt and "tls" in byt:
        body.append(["tls/ipc"] + [ratio(f(byt["tls"], c[2]), f(byt["ipc"], c[2]))
                                   if c[2] else "" for c in cols])
    table(["transport"] + [c[0] for c in cols], body)
if len(sizes) > 1:
    a, b = sizes[0], sizes[-1]
    print("## growth from %s to %s hosts (x: the figure at %s / at %s;"
          " of two figures, the second)" % (a, b, b, a))
    head = ["measure"]
    trs = [t for t in ("ipc", "tls") if any(r["tr"] == t for r in rows)]
    for t in trs:
        head += ["%s %s" % (t, a), "%s %s" % (t, b), "%s x" % t]
    body = []
    for c in cols:
        if not c[2]:
            continue
        line = [c[0]]
        for t in trs:
            ra = [r for r in rows if r["tr"] == t and r["hosts"] == a][0]
            rb = [r for r in rows if r["tr"] == t and r["hosts"] == b][0]
            line += [c[1](ra), c[1](rb), ratio(f(rb, c[2]), f(ra, c[2]))]
        body.append(line)
    table(head, body)
print("# passes/s: snapshots the store applied (stats counter `snapshots`)"
      " per second; apply: the store's own time per pass (duration_us of"
      " each sys/pass event, inside the write transaction, before the"
      " commit); store cores: its utime+stime (/proc/PID/stat) per second;"
      " CPU ms/pass: the same per applied pass (TLS, the seal's check,"
      " decoding, apply and commit); RssAnon, VmRSS: /proc/PID/status every"
      " 100 ms; event: receipt - a container event's `at`; snapshot->pass:"
      " receipt of a sys/pass - its gen (the clock when recon-load made the"
      " snapshot); busy/late: snapshots the store did not take within an"
      " interval / passes a host skipped behind its schedule; load cores:"
      " recon-load's CPU per second (it runs on the same machine)")
EOF
