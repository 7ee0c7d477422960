#!/usr/bin/env bash
# test_remote.sh: SPEC §10, one store indexing several hosts over
# tls+tcp://: certificates made here with the openssl CLI, remote listers
# on fake_docker.py (no dockerd), the store's remote ingest (sealed
# messages of the host the certificate names only), remote store.ctl
# (reads only), remote events (a subscriber resuming across a store
# restart), and the refusals: no certificate, another CA, tcp:// in clear.
# Everything binds 127.0.0.1 on free ports.
# usage: test_remote.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs.sh"

# No Docker here: lib.sh's cleanup would ask dockerd; this one does not.
remote_cleanup() {
	stop_pids
	show_logs
	if [ -n "${KEEP_DIR:-}" ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
}
trap remote_cleanup EXIT
mkdir -p "$RUN"
C=$T/certs

# mkcerts: two CAs; the store's certificate (the address listers dial:
# IP:127.0.0.1, and the same as a DNS name, the one mbedTLS 2.28 matches:
# see the README); hostA, hostB and a reader signed by the first CA; an
# impostor hostA signed by the second.
mkcerts() {
	cert_ca "$C" ca &&
		cert_ca "$C" ca2 &&
		cert_issue "$C" store 127.0.0.1 IP:127.0.0.1,DNS:127.0.0.1 &&
		cert_issue "$C" hostA hostA DNS:hostA &&
		cert_issue "$C" hostB hostB DNS:hostB &&
		cert_issue "$C" hostC hostC DNS:hostC &&
		cert_issue "$C" reader reader DNS:reader &&
		cert_issue "$C" evil hostA DNS:hostA ca2
}
mkcerts 2>>"$T/openssl.log" ||
	{ bad "certificates made with openssl"; finish; exit 1; }

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
P_CTL=$(free_port)
P_IN=$(free_port)
P_EV=$(free_port)
CTL=tls+tcp://127.0.0.1:$P_CTL
ING=tls+tcp://127.0.0.1:$P_IN
EV=tls+tcp://127.0.0.1:$P_EV
tls() { echo --tls-cert "$C/$1.pem" --tls-key "$C/$1.key" --tls-ca "$C/${2:-ca}.pem"; }
# rctl ARGS...: reconctl against the remote store.ctl as the reader
# shellcheck disable=SC2046
rctl() { reconctl --store-ctl-url "$CTL" $(tls reader) "$@"; }

# bg NAME CMD...: CMD in the background, logging to $T/NAME.log.
bg() {
	local name=$1
	shift
	"$@" >>"$T/$name.log" 2>&1 &
	PIDS+=($!)
	BG_PID=$!
}

# shellcheck disable=SC2046
store_up() {
	bg recon-store "$BUILD/recon-store" $(tls store) \
		--remote-ctl-url "$CTL" --remote-ingest-url "$ING" \
		--remote-events-url "$EV"
	STORE_PID=$BG_PID
	wait_for 10 reconctl probe store
}
ctr_ge() { [ "$(store_ctr "$1")" -ge "$2" ]; }

# fake_up NAME WORKLOAD: a fake Docker of 3 containers of WORKLOAD
fake_up() {
	bg "fake-$1" python3 "$HERE/fake_docker.py" "$T/$1.sock" \
		--prefix "$PREFIX" --workload "$2" --containers 3
	wait_for 20 test -S "$T/$1.sock"
}
fake_post() {
	curl -s --unix-socket "$T/$1.sock" -X POST -d "$3" "http://fake$2" \
		>/dev/null
}

LPID_B='' LPID_I='' LPID_E=''
# lister_up NAME FAKE HOST CERT [CA]: a remote lister with its own run
# dir, pushing over tls+tcp; passes every 5 minutes, so that only its
# start and a reconnect explain a snapshot.
# shellcheck disable=SC2046
lister_up() {
	mkdir -p "$T/run-$1"
	bg "lister-$1" "$BUILD/recon-lister" --run-dir "$T/run-$1" \
		--docker-host "unix://$T/$2.sock" --host-name "$3" \
		--ingest-url "$ING" $(tls "$4" "${5:-ca}") --interval 5m \
		--docker-timeout 2s
	eval "LPID_$1=$BG_PID"
	wait_for 10 reconctl --run-dir "$T/run-$1" probe lister --live
}
lister_ctr() {
	reconctl --run-dir "$T/run-$1" probe lister --json 2>/dev/null |
		jq -r ".counters.$2"
}


# ---- configuration refused: exit 100 saying why ----
# code_says CODE TEXT CMD...: CMD exits CODE and its stderr names TEXT
code_says() {
	local want=$1 text=$2 rc
	shift 2
	"$@" >"$T/refused.out" 2>&1
	rc=$?
	if [ "$rc" != "$want" ] || ! grep -q -- "$text" "$T/refused.out"; then
		log "exit $rc: $(head -3 "$T/refused.out")"
		return 1
	fi
}
X=$T/x
check "store: tcp:// without --insecure-tcp exits 100 saying why" \
	code_says 100 "insecure-tcp" "$BUILD/recon-store" --run-dir "$X" \
	--data-dir "$X/d" --remote-ctl-url tcp://127.0.0.1:1
check "lister: tcp:// ingest without --insecure-tcp exits 100" \
	code_says 100 "in clear" "$BUILD/recon-lister" --run-dir "$X" \
	--ingest-url tcp://127.0.0.1:1
check "store: tls+tcp:// without the TLS files exits 100 naming them" \
	code_says 100 "needs --tls-cert, --tls-key and --tls-ca" \
	"$BUILD/recon-store" --run-dir "$X" --data-dir "$X/d" \
	--remote-ctl-url "$CTL"
check "lister: a missing --tls-ca exits 100 naming it" \
	code_says 100 "missing --tls-ca" "$BUILD/recon-lister" --run-dir "$X" \
	--ingest-url "$ING" --tls-cert "$C/hostA.pem" --tls-key "$C/hostA.key"
check "lister: an unreadable --tls-key exits 100 naming the file" \
	code_says 100 "$C/nokey.key" "$BUILD/recon-lister" --run-dir "$X" \
	--ingest-url "$ING" --tls-cert "$C/hostA.pem" \
	--tls-key "$C/nokey.key" --tls-ca "$C/ca.pem"
check "lister: a key that is not the certificate's exits 100 naming both" \
	code_says 100 "does not match certificate $C/hostA.pem" \
	"$BUILD/recon-lister" --run-dir "$X" --ingest-url "$ING" \
	--tls-cert "$C/hostA.pem" --tls-key "$C/hostB.key" \
	--tls-ca "$C/ca.pem"
check "store: a --tls-ca that is no certificate exits 100 naming it" \
	code_says 100 "$C/hostA.key" "$BUILD/recon-store" --run-dir "$X" \
	--data-dir "$X/d" --tls-cert "$C/store.pem" --tls-key "$C/store.key" \
	--tls-ca "$C/hostA.key" --remote-ctl-url "$CTL"
# shellcheck disable=SC2046
check "dispatcher: a remote ingest exits 100 (plugin results stay local)" \
	code_says 100 "local ingest only" "$BUILD/recon-dispatcher" \
	--run-dir "$X" --ingest-url "$ING" $(tls hostA)
check "reconctl: tcp:// without --insecure-tcp is a usage error (64)" \
	code_says 64 "insecure-tcp" reconctl --store-ctl-url \
	tcp://127.0.0.1:1 ps

# ---- the store, two hosts' listers ----
store_up || bad "store with remote listeners came up"
for w in wa wb; do
	printf '{"id":"%s","name":"%s","kind":"stack",
	  "notification_secret":"NSECRET-%s","webhook_secret":"WSECRET-%s"}' \
		"$w" "$w" "$w" "$w" | reconctl workload put - >/dev/null
done
fake_up A wa || bad "fake docker A came up"
fake_up B wb || bad "fake docker B came up"

lister_up A A hostA hostA || bad "lister hostA came up"
check "hostA's lister over tls+tcp: its 3 rows appear with host hostA" \
	wait_for 15 rows_n hostA 3
check "their ids are hostA's containers' (wa:r0..r2)" \
	test "$(host_rows hostA | jq -r 'map(.id) | join(" ")')" = \
	"wa:r0 wa:r1 wa:r2"
check "the store applied sealed snapshots and refused nothing" \
	test "$(store_ctr ingest_forbidden)" = 0

lister_up B B hostB hostB || bad "lister hostB came up"
check "hostB's lister: its rows appear with host hostB" \
	wait_for 15 rows_n hostB 3
kill -TERM "$LPID_B"
wait "$LPID_B" 2>/dev/null
BROWS=$(host_rows hostB)

# The impostor: hostA's certificate claiming hostB, with a fake Docker
# that says hostB's containers are gone: nothing of it may apply.
fake_post B /_fake/config '{"list": []}'
F0=$(store_ctr ingest_forbidden)
lister_up I B hostB hostA || bad "impostor lister came up"
check "hostA's certificate claiming hostB: refused, counted (host)" \
	wait_for 15 ctr_ge remote_refused_host 1
check "... and in ingest_forbidden" ctr_ge ingest_forbidden $((F0 + 1))
check "... logged once with the reason" \
	grep -q "refused a remote ingest message from 127.0.0.1: .*hostB" \
	"$T/recon-store.log"
check "... hostB's rows untouched" test "$(host_rows hostB)" = "$BROWS"
kill -TERM "$LPID_I"
wait "$LPID_I" 2>/dev/null

# A certificate of another CA: the TLS handshake fails; nothing arrives.
H0=$(store_ctr remote_handshakes_refused)
fake_up E wa
lister_up E E hostA evil ca2 || bad "lister with a foreign CA came up"
check "another CA's certificate: handshakes refused and counted" \
	wait_for 10 ctr_ge remote_handshakes_refused $((H0 + 1))
check "... its lister sent nothing the store took" \
	test "$(lister_ctr E snapshots_sent)" = 0
check "... its log says why (nng's count of refused handshakes)" \
	wait_for 10 grep -q "refused our TLS handshake" "$T/lister-E.log"
kill -TERM "$LPID_E"
wait "$LPID_E" 2>/dev/null
# shellcheck disable=SC2046
check "reconctl with another CA's certificate: nng's error, exit 2" \
	code_says 2 "Peer could not be authenticated" reconctl --timeout 2s \
	--store-ctl-url "$CTL" $(tls evil ca2) ps
H1=$(store_ctr remote_handshakes_refused)
# no_cert: openssl s_client without a certificate, its input held open a
# moment so that it reads what the store does after the handshake: the
# store (mbedTLS) closes the connection without an alert.
no_cert() {
	if sleep 1 | openssl s_client -connect "127.0.0.1:$P_CTL" \
		-CAfile "$C/ca.pem" >"$T/s_client.log" 2>&1; then
		return 1
	fi
	grep -Ei "alert|unexpected eof" "$T/s_client.log" | head -1 |
		sed 's/^/    /'
	grep -Eqi "alert|unexpected eof" "$T/s_client.log"
}
check "a client without a certificate: the store refuses the handshake" \
	no_cert
# nng counts a refused handshake only while its listener waits for the
# next connection (not in its 100 ms cool-down after an unknown error, nor
# for a second one under way at once): a lower bound, so ask again
no_cert_counted() {
	no_cert >/dev/null
	ctr_ge remote_handshakes_refused $((H1 + 1))
}
check "... and the store counts such refusals" wait_for 15 no_cert_counted
check "... no rows came of any of them" rows_n hostB 3

# ---- remote store.ctl: reads only, never secrets ----
check "remote ps: the rows" test "$(rctl ps --json | jq length)" = 6
remote_stats() { rctl stats --json 2>/dev/null | jq -e '.store.counters.snapshots > 0' >/dev/null; }
check "remote stats" remote_stats
# no_secret CMD...: CMD answers, and nothing of a secret in it
no_secret() {
	local out
	out=$("$@") || return 1
	grep -q '"wa"' <<<"$out" && ! grep -q SECRET <<<"$out"
}
check "remote workload get: the workload, no secret" \
	no_secret rctl workload get wa --json
check "remote workload ls: no secret" no_secret rctl workload ls --json
check "remote ps -w wa: the rows" \
	test "$(rctl ps -w wa --json | jq length)" = 3
remote_hosts() {
	rctl hosts --json | jq -e 'map(.host) | index("hostA") != null' \
		>/dev/null
}
check "remote hosts: hostA listed" remote_hosts
FB0=$(store_ctr ctl_forbidden)
check "remote workload get --show-secrets: forbidden (exit 1)" \
	code_says 1 forbidden rctl workload get wa --show-secrets
check "remote workload put: forbidden (exit 1), though the reader's uid is root" \
	code_says 1 "remote listener serves reads only" rctl workload put - \
	<<<'{"id":"wz","name":"wz","kind":"site"}'
check "remote workload rm: forbidden" code_says 1 forbidden rctl workload rm wa
check "remote hosts forget: forbidden" code_says 1 forbidden \
	rctl hosts forget hostB
not_written() {
	! reconctl workload get wz >/dev/null 2>&1 &&
		reconctl workload get wa >/dev/null &&
		reconctl hosts --json | jq -e 'map(.host) | index("hostB") != null' \
			>/dev/null
}
check "... the writes were not applied" not_written
check "... counted (ctl_forbidden)" ctr_ge ctl_forbidden $((FB0 + 4))
check "... and logged" grep -q "came through the remote listener" \
	"$T/recon-store.log"

# many clients at once on the remote ctl
par_reads() {
	local i pids=() n=0
	for i in $(seq 50); do
		rctl --timeout 20s ps --json >"$T/par.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" && n=$((n + 1))
	done
	log "$n of 50 answered"
	[ "$n" = 50 ] && [ "$(cat "$T"/par.* | jq -s 'map(length) | unique')" = "[
  6
]" ]
}
check "50 parallel remote reads: all answered, all 6 rows" par_reads

# recon-http as a remote client of the store (its ctl and events)
http_rows() { curl -fsS -m 2 "$HTTP/v1/containers" | jq '.items | length'; }
# shellcheck disable=SC2046
if http_up --store-ctl-url "$CTL" --events-url "$EV" $(tls reader); then
	http_rows6() { [ "$(http_rows)" = 6 ]; }
	check "recon-http over tls+tcp: the rows" wait_for 10 http_rows6
	check "recon-http over tls+tcp: no secret served" \
		bash -c "! curl -fsS -m 2 '$HTTP/v1/workloads/wa' | grep -q SECRET"
	# shellcheck disable=SC2154 # set by lib.sh's start
	kill -TERM "$PID_recon_http"
	wait "$PID_recon_http" 2>/dev/null
fi

# ---- link loss: hostA's lister through a TCP relay that is cut and
# restored (the store stays up); a change made meanwhile arrives with the
# full pass that follows the reconnect, not at the 5-minute interval ----
P_RELAY=$(free_port)
relay_up() {
	bg relay python3 -c '
import socket, sys, threading
lp, tp = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lp))
ls.listen(16)
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", tp))
    for a, b in ((c, u), (u, c)):
        threading.Thread(target=pipe, args=(a, b), daemon=True).start()
' "$P_RELAY" "$P_IN"
	RELAY_PID=$BG_PID
}
relay_up
fake_up R wr || bad "fake docker R came up"
printf '{"id":"wr","name":"wr","kind":"stack"}' | reconctl workload put - >/dev/null
mkdir -p "$T/run-R"
# shellcheck disable=SC2046
bg lister-R "$BUILD/recon-lister" --run-dir "$T/run-R" \
	--docker-host "unix://$T/R.sock" --host-name hostC \
	--ingest-url "tls+tcp://127.0.0.1:$P_RELAY" $(tls hostC) \
	--interval 5m --docker-timeout 2s
LPID_R=$BG_PID
check "a lister of hostC through the relay: its rows" wait_for 15 rows_n hostC 3
RR0=$(lister_ctr R reconnects)
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
fake_post R /_fake/container \
	"{\"id\": \"$(python3 -c 'import hashlib
print(hashlib.sha256(b"wr-2").hexdigest())')\", \"remove\": true}"
relay_up
relinked() { [ "$(lister_ctr R reconnects)" -gt "$RR0" ]; }
check "link cut and restored: the lister reconnected and passed again" \
	wait_for 15 relinked
check "... the change made during the cut arrived (wr:r2 missing)" \
	wait_for 15 row_state_is wr:r2 missing
kill -TERM "$LPID_R" "$RELAY_PID"
wait "$LPID_R" "$RELAY_PID" 2>/dev/null

# ---- a remote subscriber across a store restart, and hostA's lister
# reconnecting by itself ----
R0=$(head_rev)
# shellcheck disable=SC2046
bg watch "$BUILD/reconctl" --events-url "$EV" --store-ctl-url "$CTL" \
	$(tls reader) watch --since "$R0" --json
WATCH_PID=$BG_PID
# the revisions the remote subscriber printed (its log holds stderr too)
revs() { jq -rR 'fromjson? | .rev // empty' "$T/watch.log"; }
revs_ge() { [ "$(revs | grep -c .)" -ge "$1" ]; }
revs_have() { revs | grep -qx "$1"; }
for i in 1 2 3; do
	printf '{"id":"w%s","name":"w%s","kind":"site"}' "$i" "$i" |
		reconctl workload put - >/dev/null
done
check "the remote subscriber sees the first 3 revisions" \
	wait_for 10 revs_ge 3

RC0=$(lister_ctr A reconnects)
reconnected() { [ "$(lister_ctr A reconnects)" -gt "$RC0" ]; }
kill -TERM "$STORE_PID"
wait "$STORE_PID" 2>/dev/null
# while the store is down: hostA loses a container, writes are made
fake_post A /_fake/container \
	"{\"id\": \"$(python3 -c 'import hashlib
print(hashlib.sha256(b"wa-1").hexdigest())')\", \"remove\": true}"
store_up || bad "store came back"
for i in 4 5 6; do
	printf '{"id":"w%s","name":"w%s","kind":"site"}' "$i" "$i" |
		reconctl workload put - >/dev/null
done
check "hostA's lister reconnected by itself and sent a full pass" \
	wait_for 15 reconnected
check "... the rows are back to its fake Docker's list (wa:r1 missing)" \
	wait_for 15 row_state_is wa:r1 missing
present() {
	reconctl ps --json | jq -r '[.[] | select(.host == "hostA" and
		.state != "missing") | .id] | sort | join(" ")'
}
check "... wa:r0 and wa:r2 still there" test "$(present)" = "wa:r0 wa:r2"
HEAD=$(head_rev)
check "the remote subscriber reached the head ($HEAD) after the restart" \
	wait_for 20 revs_have "$HEAD"
check "... every revision from $((R0 + 1)) to $HEAD once, in order" \
	revs_once "$R0" "$HEAD" revs
kill -TERM "$WATCH_PID" 2>/dev/null

# the listers' gens: never an older one after a newer (none stale)
gens_rise() {
	local h prev=0 g
	for h in hostA hostB hostC; do
		prev=0
		for g in $(sed -n "s/.*applied snapshot gen \([0-9]*\) of host $h:.*/\1/p" \
			"$T/recon-store.log"); do
			[ "$g" -gt "$prev" ] || { log "$h: gen $g after $prev"; return 1; }
			prev=$g
		done
	done
	[ "$(store_ctr stale)" = 0 ]
}
check "every host's applied gens rise; nothing stale" gens_rise

finish
