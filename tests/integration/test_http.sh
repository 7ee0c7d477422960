#!/usr/bin/env bash
# test_http.sh: recon-http against a real store, lister and dispatcher on
# the real dockerd, read by clients that share no code with recon: curl,
# promtool and examples/consumer.py (Python's standard library).
#   - lists carry the rev they were read at (body and X-Recon-Rev), filters
#     work, an unknown id is 404, no secret is ever served;
#   - 100 concurrent requests all answer;
#   - a consumer killed -9 three times while containers churn, resumed
#     each time with Last-Event-ID, ends with every revision, in order;
#   - list=1 (curl), then its changes, equals the final `reconctl ps`;
#   - /readyz goes 503 naming the lister when it stops, 200 after;
#   - promtool accepts /metrics; SIGTERM ends recon-http with 0.
# usage: test_http.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

CONSUMER=$HERE/../../examples/consumer.py
W=hw
NCTR=4

docker_up
image_up
PLUGINS=$T/plugins
mkdir -p "$PLUGINS"
chmod 755 "$T" "$PLUGINS"
start recon-store
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
start recon-lister --interval 2s
start recon-dispatcher --plugin-dir "$PLUGINS"
http_up --keepalive 1s || exit 1

printf '{"id":"%s","kind":"stack","notification_url":"http://127.0.0.1:9/",
  "notification_secret":"hunter2-secret"}' $W |
	reconctl workload put - >/dev/null
CIDS=()
for i in $(seq $NCTR); do
	CIDS+=("$(ctr_run "h$i" stack $W "r$i")")
done
running_rows() {
	[ "$(reconctl ps -w $W -s running --json | jq length)" = $NCTR ]
}
check "$NCTR rows running" wait_for 30 running_rows

# ---- the JSON resources ----
get() { curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' "$HTTP$1"; }
header() { tr -d '\r' <"$T/headers" | awk -v h="$1:" 'tolower($1) == tolower(h) {print $2}'; }
check "GET /v1/containers: 200" test "$(get /v1/containers)" = 200
check "... a list with its rev and items" \
	jq -e '(.rev | type) == "number" and (.items | length) >= 4' "$T/body"
check "... X-Recon-Rev is the body's rev" \
	test "$(header X-Recon-Rev)" = "$(jq .rev "$T/body")"
check "... the rev is the store's head" \
	test "$(jq .rev "$T/body")" -le "$(head_rev)"
check "?workload_id=$W&state=running: the $NCTR rows" \
	sh -c "test \"\$(curl -s '$HTTP/v1/containers?workload_id=$W&state=running' |
	       jq '.items | length')\" = $NCTR"
check "?workload_id=nosuch: none" \
	sh -c "test \"\$(curl -s '$HTTP/v1/containers?workload_id=nosuch' |
	       jq '.items | length')\" = 0"
check "?workload_id=a/b: 400" \
	test "$(get '/v1/containers?workload_id=a%2Fb')" = 400
check "GET /v1/containers/$W:r1: 200" test "$(get "/v1/containers/$W:r1")" = 200
check "... the row, with its state" \
	jq -e ".id == \"$W:r1\" and .state == \"running\"" "$T/body"
check "GET /v1/containers/nope: 404" test "$(get /v1/containers/nope)" = 404
check "... with error code not_found" \
	jq -e '.error.code == "not_found" and (.error.message | length) > 0' \
	"$T/body"
check "GET /v1/workloads/$W: 200" test "$(get "/v1/workloads/$W")" = 200
check "... no secret in it" sh -c "! grep -q hunter2 '$T/body'"
check "... nor a secret field" \
	jq -e 'keys | map(select(test("secret"))) == []' "$T/body"
check "GET /v1/workloads: no secret in the list" \
	sh -c "test \"\$(curl -s '$HTTP/v1/workloads' | grep -c hunter2)\" = 0"
check "POST /v1/workloads: 405" \
	test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HTTP/v1/workloads")" = 405
check "GET /nope: 404" test "$(get /nope)" = 404
check "GET /: the status page" sh -c "test \"\$(curl -s -o /dev/null \
	-w '%{http_code} %{content_type}' '$HTTP/')\" = '200 text/html; charset=utf-8'"

# 100 at once, on every JSON resource
many() {
	local i
	for i in $(seq 25); do
		printf '%s\n' /v1/containers /v1/workloads "/v1/containers/$W:r1" \
			"/v1/workloads/$W"
	done | xargs -P 100 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
		"$HTTP{}" >"$T/many.txt"
	[ "$(grep -c '^200$' "$T/many.txt")" = 100 ]
}
check "100 concurrent requests: 100 answered 200" many

# ---- events: a resuming consumer, and a list=1 stream ----
R=$(head_rev)
STATE=$T/consumer.state
printf '%-64s' "$R" >"$STATE"
CN=0
consumer_start() {
	python3 "$CONSUMER" "$HTTP" "$STATE" >"$T/consumer.$CN" 2>>"$T/consumer.log" &
	CPID=$!
	PIDS+=($CPID)
	CN=$((CN + 1))
}
consumer_start
curl -s -N "$HTTP/v1/events?list=1" >"$T/list.sse" &
LPID=$!
PIDS+=($LPID)
check "the list=1 stream synced" wait_for 10 grep -q '^event: synced' "$T/list.sse"

churn() {
	local k c
	for k in $(seq 24); do
		c=${CIDS[$((k % NCTR))]}
		if [ $((k / NCTR % 2)) = 0 ]; then
			docker stop -t 0 "$c" >/dev/null
		else
			docker start "$c" >/dev/null
		fi
	done
	touch "$T/churned"
}
churn &
CHURN=$!
PIDS+=($CHURN)
lines() { cat "$T"/consumer.* 2>/dev/null | wc -l; }
for kill in 1 2 3; do
	n=$(($(lines) + 3))
	wait_for 60 sh -c "[ \$(cat '$T'/consumer.* | wc -l) -ge $n ]" ||
		bad "consumer $kill got events"
	kill -9 $CPID
	wait $CPID 2>/dev/null
	consumer_start
done
check "the churn ended" wait_for 120 test -e "$T/churned"
wait $CHURN
# after the churn, the lister's next pass changes nothing: the head stays
H=
consumer_at_head() {
	H=$(head_rev)
	[ "$(tail -n 1 "$T/consumer.$((CN - 1))" | jq .rev)" = "$H" ] &&
		grep -q "^id: $H\$" "$T/list.sse"
}
check "the consumer and the list stream reached the head" \
	wait_for 60 consumer_at_head
kill -TERM $CPID $LPID
wait $CPID $LPID 2>/dev/null

# every revision R+1..H once, in order; a kill between a print and the
# state's write may print that one event again (its rev tells)
# (an event after H, the lister's last word on the churn, may come before
# the consumer is stopped: every revision from R+1 to at least H)
revs_ok() {
	local last
	cat "$T"/consumer.[0-9]* | jq -r .rev | uniq >"$T/revs"
	last=$(tail -n 1 "$T/revs")
	[ "$last" -ge "$H" ] && seq $((R + 1)) "$last" | diff -q - "$T/revs" >/dev/null
}
check "the consumer: revisions $((R + 1))..$H (at least), in order, none missing" revs_ok || {
	# what it got, run by run, for the one who reads this
	seq $((R + 1)) "$H" | diff - "$T/revs" | head -20
	for f in "$T"/consumer.[0-9]*; do
		echo "    $f: $(jq -c '[.rev, .t, .op]' "$f" 2>&1 | tr '\n' ' ')"
	done
}
log "consumer: $(cat "$T"/consumer.[0-9]* | wc -l) lines for $((H - R)) revisions, $CN starts"
check "... repeats only where it was killed (at most 3)" \
	test $(($(cat "$T"/consumer.[0-9]* | wc -l) - $(wc -l <"$T/revs"))) -le 3

# list=1: the rows, then every change, applied, equal the index now
apply_list() {
	sed -n 's/^data: //p' "$T/list.sse" | jq -s -S '
	  reduce .[] as $e ({};
	    if $e.t == "container" then
	      (if $e.op == "delete" then del(.[$e.row.id])
	       else .[$e.row.id] = $e.row.state end)
	    else . end)'
}
ps_now() { reconctl ps --json | jq -S 'map({(.id): .state}) | add // {}'; }
apply_list >"$T/applied.json"
ps_now >"$T/ps.json"
check "list=1 then its changes equals reconctl ps" \
	diff -q "$T/applied.json" "$T/ps.json"
check "... which lists the $NCTR rows" \
	test "$(jq length "$T/applied.json")" -ge $NCTR

# ---- readiness ----
ready_is() {
	[ "$(curl -s -o "$T/readyz" -w '%{http_code}' "$HTTP/readyz?verbose")" = "$1" ]
}
check "/readyz: 200 with all up" wait_for 10 ready_is 200
check "/livez: 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP/livez")" = 200
stop_pid "$PID_recon_lister"
check "/readyz: 503 with the lister stopped" wait_for 10 ready_is 503
check "... naming it" grep -q '^\[-\]lister failed' "$T/readyz"
check "... and the others ok" grep -q '^\[+\]store ok' "$T/readyz"
start recon-lister --interval 2s
check "/readyz: 200 again with the lister back" wait_for 20 ready_is 200

# ---- metrics ----
curl -s "$HTTP/metrics" >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.txt" 2>&1
check "promtool check metrics on /metrics: exit 0" test $? = 0
sed 's/^/    promtool: /' "$T/promtool.txt"
check "... and no complaint" test ! -s "$T/promtool.txt"
for p in store lister dispatcher http; do
	check "recon_up{process=\"$p\"} 1" grep -qx "recon_up{process=\"$p\"} 1" "$T/metrics.txt"
done
check "recon-http's streams counted" \
	grep -q '^recon_http_streams_total [1-9]' "$T/metrics.txt"

# ---- SIGTERM with a stream open ----
curl -s -N "$HTTP/v1/events" >/dev/null &
PIDS+=($!)
check "a stream open" wait_for 10 \
	sh -c "curl -s '$HTTP/metrics' | grep -q '^recon_http_streams_open 1'"
kill -TERM "$PID_recon_http"
wait "$PID_recon_http"
check "SIGTERM with a stream open: recon-http exits 0" test $? = 0

finish
