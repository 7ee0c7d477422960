#!/usr/bin/env bash
# test_second_user.sh: a second user next to the daemons, set up as the
# README's "Who may do what" says: the daemons run with a group of their
# own (here root's uid with a fresh gid, under a strict umask), the reader
# is an unprivileged uid in that group. As created, the run dir is 0750
# and every socket 0660, group-owned, so the reader gets in: its reads
# work, its writes, secrets, dispatch and resync are refused (forbidden)
# and change nothing. While plugins and webhooks run, no secret shows in
# any process's argv or environment, in a log, in an event, in reconctl's
# output without --show-secrets or in what a webhook receiver is sent
# beside the body. A plugin's process group is gone after it exits, with
# success or failure, children that ignore SIGTERM included.
# usage: test_second_user.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap 'stop_helpers; cleanup' EXIT

READER=65534
PLUGINS=$T/plugins
OUT=$T/out
BIN=$T/bin
# distinct values per secret, found by a plain grep
S_NOTIFY=nsec-$$-q7Vx
S_HOOK=wsec-$$-k3Rb
S_SIGN=ssec-$$-z9Lm
S_PASS=upass-$$-r5Tc
SECRETS=("$S_NOTIFY" "$S_HOOK" "$S_SIGN" "$S_PASS")

# A gid no group uses: the daemons' group, which the reader is given.
# Nothing is written to /etc/group, so nothing is left behind.
GID=$((50000 + $$ % 10000))
while getent group "$GID" >/dev/null; do GID=$((GID + 1)); done

# the reader must reach the binaries and the test dir (mktemp made 0700)
chmod 755 "$T"
mkdir -p "$PLUGINS" "$OUT" "$BIN"
chmod 755 "$PLUGINS" "$BIN"
cp "$BUILD/reconctl" "$BIN/"

SCANNER=
RECEIVER=
stop_helpers() {
	local p
	for p in $SCANNER $RECEIVER; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SCANNER= RECEIVER=
}

# start_gid NAME ARGS...: like start, the daemon's group being $GID and
# its umask 077 (a supervisor's strict one): what it creates for readers
# must be so by its own modes. setpriv execs, so $! is the daemon.
start_gid() {
	local name=$1
	shift
	(
		umask 077
		exec setpriv --regid="$GID" --keep-groups -- \
			"$BUILD/$name" "$@" >>"$T/$name.log" 2>&1
	) &
	PIDS+=($!)
	eval "PID_${name//-/_}=$!"
}

# as_reader CMD...: CMD as the second user: uid 65534 in group $GID only.
as_reader() {
	setpriv --reuid=$READER --regid="$GID" --groups="$GID" \
		--inh-caps=-all -- "$@"
}
# r_ctl ARGS...: reconctl --json as the reader; stdout in $OUT/last,
# stderr in $OUT/last.err.
r_ctl() {
	as_reader "$BIN/reconctl" --run-dir "$RUN" --json "$@" \
		>"$OUT/last" 2>"$OUT/last.err"
}
# refused ARGS...: reconctl as the reader exits 1 and its --json reply's
# error code is forbidden.
refused() {
	local rc=0
	r_ctl "$@" || rc=$?
	[ "$rc" -eq 1 ] &&
		[ "$(jq -r '.error.code' "$OUT/last")" = forbidden ]
}
counter() { reconctl probe "$1" --json | jq -r ".counters.$2"; }
mode_of() { stat -L -c %a "$1"; }
group_of() { stat -L -c %g "$1"; }
# no_secret FILE...: none of the secret values is in the files.
no_secret() {
	local s
	for s in "${SECRETS[@]}"; do
		grep -rqF -- "$s" "$@" && { echo "$s in $(grep -rlF -- "$s" "$@")"; return 1; }
	done
	return 0
}
# the index as the writer sees it, less what passes move on their own
state_json() {
	reconctl ps --json | jq -S 'map(del(.last_seen_at))'
	reconctl workload ls --json | jq -S .
}

########################################################################
# plugin NAME BODY: a shell plugin; each run appends its pid and its
# process group to $OUT/NAME.pids and $OUT/NAME.pgids.
plugin() {
	cat >"$PLUGINS/$1" <<EOF
#!/bin/sh
OUT=$OUT
echo \$\$ >>\$OUT/$1.pids
cut -d' ' -f5 /proc/\$\$/stat >>\$OUT/$1.pgids
$2
EOF
	chmod 755 "$PLUGINS/$1"
}
# a plain child and one that ignores SIGTERM, then exit 0 or 1
BG='sleep 1000 &
(trap "" TERM; exec sleep 1000) &'
plugin bgok "$BG
exit 0"
plugin bgfail "$BG
echo failing >&2
exit 1"
# Has its secrets on stdin, starts a child, lets the scanner see both
# (at most 5 s), then fails echoing every secret to stderr, as a
# failing git clone prints its URL: the error text must lose them.
plugin leaky 'in=$(cat)
sleep 1000 &
kid=$!
echo $kid >$OUT/leaky.kid
i=0
until [ -e $OUT/scanned.$$ ] && [ -e $OUT/scanned.$kid ] || [ $i -ge 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
echo "$in" | tr ",{}" "\n\n\n" | grep -i -e secret -e notification_url >&2
exit 1'

# The scanner: every 50 ms until $OUT/scan.stop, the argv and environment
# of every process on the host, for the secrets. It counts the processes
# of this test it saw (by exe under the build or bin dir, by a command
# line naming a plugin, or by a plugin's process group), marks each
# plugin-group pid it scanned in $OUT/scanned.PID, and writes a summary.
cat >"$T/scan.py" <<'EOF'
import json, os, sys, time
out, build, bindir, plugins, sfile = sys.argv[1:6]
secrets = open(sfile, "rb").read().split()
seen, hits, rounds, procs = {}, [], 0, set()
def rd(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None
while not os.path.exists(out + "/scan.stop"):
    rounds += 1
    table = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        stat = rd("/proc/%s/stat" % pid)
        cmd = rd("/proc/%s/cmdline" % pid)
        env = rd("/proc/%s/environ" % pid)
        if stat is None or cmd is None:
            continue
        f = stat[stat.rindex(b")") + 2:].split()
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            exe = ""
        table.append((pid, f[19], int(f[2]), exe, cmd, env or b""))
    # a plugin is a script: its argv[1] is in the plugin dir
    groups = {t[2] for t in table
              if t[4].split(b"\0")[1:2] and
              t[4].split(b"\0")[1].startswith(plugins.encode() + b"/")}
    for pid, start, pgid, exe, cmd, env in table:
        procs.add((pid, start))
        for s in secrets:
            for where, data in (("cmdline", cmd), ("environ", env)):
                if s in data:
                    hits.append({"pid": pid, "exe": exe, "where": where,
                                 "cmd": cmd.replace(b"\0", b" ").decode("utf-8", "replace")})
        kind = None
        if exe.startswith(build + "/") or exe.startswith(bindir + "/"):
            kind = os.path.basename(exe).replace(" (deleted)", "")
        elif pgid in groups:
            kind = "plugin"
            open(out + "/scanned." + pid, "w").close()
        if kind:
            seen[(pid, start)] = kind
    if rounds == 1:
        open(out + "/scan.ready", "w").close()
    time.sleep(0.05)
kinds = {}
for k in seen.values():
    kinds[k] = kinds.get(k, 0) + 1
with open(out + "/scan.json.tmp", "w") as f:
    json.dump({"rounds": rounds, "processes": len(procs), "ours": len(seen),
               "kinds": kinds, "hits": hits[:20]}, f)
os.rename(out + "/scan.json.tmp", out + "/scan.json")
EOF

########################################################################
log "== the daemons, with a group of their own and umask 077"
docker_up
start_gid recon-store
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
start_gid recon-dispatcher --plugin-dir "$PLUGINS" --plugin-timeout 20s
start_gid recon-lister --interval 5m
wait_for 10 reconctl probe dispatcher || { bad "dispatcher came up"; exit 1; }
wait_for 20 reconctl probe lister || { bad "lister came up"; exit 1; }
lister_passed() { [ "$(counter lister passes)" -ge 1 ]; }
wait_for 20 lister_passed || bad "the lister's first pass"

check "the run dir is created 0750" test "$(mode_of "$RUN")" = 750
check "... in the daemons' group" test "$(group_of "$RUN")" = "$GID"
n=0
for s in ingest events store.ctl jobs dispatcher.ctl lister.ctl; do
	check "$s is a symlink to a socket file" \
		test -L "$RUN/$s" -a -S "$RUN/$s"
	check "... created 0660 in the daemons' group" \
		test "$(mode_of "$RUN/$s") $(group_of "$RUN/$s")" = "660 $GID"
	n=$((n + 1))
done
log "$n socket files checked"

log "== the reader's reads"
python3 "$HERE/webhook_receiver.py" "$OUT/hooks" "$T/port" &
RECEIVER=$!
wait_for 10 test -s "$T/port" || bad "receiver came up"
PORT=$(cat "$T/port")
# wl_json ID SOURCE_KIND PATH: a workload with every secret set and the
# password in its notification_url
wl_json() {
	printf '{"id":"%s","name":"%s","kind":"stack","source_kind":"%s",' "$1" "$1" "$2"
	printf '"notification_url":"http://hook:%s@127.0.0.1:%s/%s",' "$S_PASS" "$PORT" "$3"
	printf '"notification_secret":"%s","webhook_secret":"%s",' "$S_NOTIFY" "$S_HOOK"
	printf '"webhook_signing_secret":"%s","webhook_require_signature":true}' "$S_SIGN"
}
# from files, not argv: the scanner would see an argv
wl_json w1 leaky flaky >"$T/w1.json"
wl_json w2 bgok gone >"$T/w2.json"
wl_json w3 bgfail ok >"$T/w3.json"
chmod 600 "$T"/w?.json
for w in w1 w2 w3; do
	reconctl workload put "$T/$w.json" >/dev/null || bad "put $w"
done
printf '{"id":"w1:web","workload_id":"w1","state":"running"}' |
	reconctl container put - >/dev/null
check "ps" r_ctl ps
check "... shows the row" test "$(jq -r '.[].id' "$OUT/last")" = w1:web
check "workload ls" r_ctl workload ls
check "... shows the three" test "$(jq -r 'map(.id) | join(" ")' "$OUT/last")" = "w1 w2 w3"
check "workload get" r_ctl workload get w1
check "... without a secret field" \
	test "$(jq -r '[has("notification_secret", "webhook_secret", "webhook_signing_secret")] | any' "$OUT/last")" = false
check "... and the URL's password redacted" \
	test "$(jq -r .notification_url "$OUT/last")" = "http://hook:***@127.0.0.1:$PORT/flaky"
cp "$OUT/last" "$OUT/reader-get.json"
check "stats" r_ctl stats
check "... of the three processes" \
	test "$(jq -r '[.. | objects | select(has("oldest_rev"))] | length' "$OUT/last")" -ge 1
for p in store lister dispatcher; do
	check "probe $p" r_ctl probe "$p"
done

log "== the reader's writes, secrets, dispatch and resync"
before=$(state_json)
rev0=$(head_rev)
f0="$(counter store ctl_forbidden) $(counter dispatcher ctl_forbidden) $(counter lister ctl_forbidden)"
passes0=$(counter lister passes)
check "workload put refused: forbidden" \
	refused workload put - <<<'{"id":"w9","name":"w9","kind":"stack"}'
check "container put refused: forbidden" \
	refused container put - <<<'{"id":"w1:r9","workload_id":"w1","state":"running"}'
check "container rm refused: forbidden" refused container rm w1:web
check "workload rm refused: forbidden" refused workload rm w1
check "workload get --show-secrets refused: forbidden" \
	refused workload get w1 --show-secrets
check "... showing no secret" no_secret "$OUT/last" "$OUT/last.err"
check "dispatch refused: forbidden" refused dispatch w1
check "resync refused: forbidden" refused resync
f1="$(counter store ctl_forbidden) $(counter dispatcher ctl_forbidden) $(counter lister ctl_forbidden)"
read -r a b c <<<"$f0"
check "refusals counted: store 5, dispatcher 1, lister 1 ($f0 -> $f1)" \
	test "$f1" = "$((a + 5)) $((b + 1)) $((c + 1))"
check "nothing changed: the head revision" test "$(head_rev)" = "$rev0"
check "... and the index" test "$(state_json)" = "$before"
check "... no plugin ran" test "$(counter dispatcher runs)" = 0
check "... no pass asked for" test "$(counter lister passes)" = "$passes0"

log "== plugins and webhooks run while every process is scanned"
# the secrets in a file: in its argv they would be a hit
printf '%s\n' "${SECRETS[@]}" >"$T/secrets"
chmod 600 "$T/secrets"
python3 "$T/scan.py" "$OUT" "$BUILD" "$BIN" "$PLUGINS" "$T/secrets" &
SCANNER=$!
wait_for 10 test -e "$OUT/scan.ready" || bad "the scanner started"
# the commands themselves in the background, not as_reader's or lib.sh's
# reconctl function, whose subshell would be $!: setpriv execs reconctl
setpriv --reuid=$READER --regid="$GID" --groups="$GID" --inh-caps=-all -- \
	"$BIN/reconctl" --run-dir "$RUN" --json watch >"$OUT/watch.reader" 2>&1 &
WATCH_R=$!
PIDS+=($WATCH_R)
"$BUILD/reconctl" --json watch >"$OUT/watch.root" 2>&1 &
WATCH_W=$!
PIDS+=($WATCH_W)
# both watchers subscribed: a new row of w0 (no plugin, no webhook)
# shows to each
subscribed() { grep -q '"w0:sub' "$OUT/watch.reader" && grep -q '"w0:sub' "$OUT/watch.root"; }
SUB=0
sub_put() {
	SUB=$((SUB + 1))
	printf '{"id":"w0:sub%d","workload_id":"w0","state":"running"}' $SUB |
		reconctl container put - >/dev/null
	subscribed
}
workload_put w0 stack
wait_for 10 sub_put || bad "the watchers subscribed"
for w in w1 w2 w3; do reconctl dispatch "$w" >/dev/null; done
# a row of each stops: events, webhooks (/flaky retried, /gone 4xx, /ok)
for w in w1 w2 w3; do
	printf '{"id":"%s:web","workload_id":"%s","state":"exited"}' "$w" "$w" |
		reconctl container put - >/dev/null
done
runs_ge() { [ "$(reconctl workload get "$1" --json | jq -r .plugin.runs)" -ge "$2" ]; }
all_ran() { runs_ge w1 1 && runs_ge w2 1 && runs_ge w3 1; }
check "the three plugins ran" wait_for 20 all_ran
hooks() { grep -c "\"path\": \"/$1\"" "$OUT/hooks" 2>/dev/null; }
hooks_ge() { [ "$(hooks "$1")" -ge "$2" ]; }
check "webhooks: /flaky retried" wait_for 10 hooks_ge flaky 2
check "... /gone and /ok asked" wait_for 5 bash -c "grep -q '\"/gone' $OUT/hooks && grep -q '\"/ok' $OUT/hooks"
check "the leaky plugin was scanned with its child" \
	test -e "$OUT/scanned.$(head -1 "$OUT/leaky.pids")" \
	-a -e "$OUT/scanned.$(cat "$OUT/leaky.kid")"
check "its failure is recorded" \
	test "$(reconctl workload get w1 --json | jq -r .plugin.last_ok)" = false
last_error_has() { reconctl workload get "$1" --json | jq -r .plugin.last_error | grep -q -- "$2"; }
check "... its error text has the secrets' lines, with them cut out" \
	last_error_has w1 '"webhook_secret":"\[redacted\]"'
check "... the URL's password too" \
	last_error_has w1 '"notification_url":"http://hook:\[redacted\]@127.0.0.1'

log "== plugins clean up their process group"
# pgid_gone PGID: no process is left in the group
pgid_gone() {
	local f
	for f in /proc/[0-9]*/stat; do
		[ "$(sed 's/.*) //' "$f" 2>/dev/null | cut -d' ' -f3)" = "$1" ] &&
			{ echo "left: $f"; return 1; }
	done
	return 0
}
groups_gone() {
	local g
	for g in $(cat "$OUT/$1.pgids"); do pgid_gone "$g" || return 1; done
}
for p in bgok bgfail leaky; do
	check "$p ran in its own process group, every run ($(wc -l <"$OUT/$p.pids") runs)" \
		cmp -s "$OUT/$p.pids" "$OUT/$p.pgids"
	check "... nothing of it is left, children ignoring SIGTERM too" \
		wait_for 8 groups_gone "$p"
done
check "bgok succeeded, bgfail failed" \
	test "$(reconctl workload get w2 --json | jq -r .plugin.last_ok) $(reconctl workload get w3 --json | jq -r .plugin.last_ok)" = "true false"

log "== nothing leaked"
touch "$OUT/scan.stop"
check "the scanner finished" wait_for 5 test -s "$OUT/scan.json"
SCANNER=
jq -c . "$OUT/scan.json"
check "no process had a secret in its argv or environment" \
	test "$(jq '.hits | length' "$OUT/scan.json")" = 0
check "... the three daemons, both watchers and the plugins scanned" \
	jq -e '.kinds["recon-store"] >= 1 and .kinds["recon-lister"] >= 1 and
		.kinds["recon-dispatcher"] >= 1 and .kinds.reconctl >= 2 and
		.kinds.plugin >= 2' "$OUT/scan.json" >/dev/null
stop_pid "$WATCH_R"
stop_pid "$WATCH_W"
check "the reader's watch saw the plugin events" \
	grep -q '"op":"plugin"' "$OUT/watch.reader"
setpriv --reuid=$READER --regid="$GID" --groups="$GID" --inh-caps=-all -- \
	"$BIN/reconctl" --run-dir "$RUN" --json watch --since 1 \
	>"$OUT/replay.reader" 2>&1 &
REPLAY=$!
PIDS+=($REPLAY)
# the last change is w1's last plugin result
replayed() { grep -q "\"rev\":$(head_rev)[,}]" "$OUT/replay.reader"; }
check "the reader replays the change log to the head" wait_for 10 replayed
stop_pid "$REPLAY"
for a in "ps" "workload ls" "workload get w1" "workload get w2" "stats"; do
	# shellcheck disable=SC2086
	r_ctl $a && cp "$OUT/last" "$OUT/reader.$(echo $a | tr ' ' _).json"
	# shellcheck disable=SC2086
	reconctl $a >"$OUT/root.$(echo $a | tr ' ' _).txt" 2>&1
done
jq -c '{path, headers}' "$OUT/hooks" >"$OUT/hooks.sent"
files=("$T"/*.log "$OUT"/watch.* "$OUT"/replay.reader "$OUT"/reader.* \
	"$OUT"/root.* "$OUT"/reader-get.json "$OUT"/hooks.sent)
check "no secret in ${#files[@]} files: logs, events, reconctl output, webhook URLs and headers" \
	no_secret "${files[@]}"
check "... the events there are: the watchers' and the replay's" \
	test "$(cat "$OUT"/watch.* "$OUT/replay.reader" | grep -c '"topic"')" -ge 10
auth=$(jq -r '.headers.authorization // empty' "$OUT/hooks" | sort -u)
check "the URL's own credentials reach its receiver as basic auth only" \
	test "$auth" = "Basic $(printf 'hook:%s' "$S_PASS" | base64)"

finish
