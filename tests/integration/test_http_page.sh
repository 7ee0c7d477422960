#!/usr/bin/env bash
# test_http_page.sh: recon-http's status page (GET /, SPEC §11) in a
# headless Chromium driven over the DevTools protocol (cdp.py): it lists a
# workload's containers live, shows a docker stop within 2 s with no
# reload, and its console stays free of errors. The screenshot is kept in
# $PAGE_SHOT (default BUILD_DIR/page-shot.png).
# usage: test_http_page.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM # so that the EXIT trap runs

SHOT=${PAGE_SHOT:-$BUILD/page-shot.png}
W=page

docker_up
image_up
if ! command -v chromium >/dev/null; then
	log "FATAL: chromium not installed (Debian: chromium)"
	exit 1
fi

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
HPORT=$(free_port)
URL=http://127.0.0.1:$HPORT

start recon-store
wait_for 10 reconctl probe store || { bad "store came up"; exit 1; }
# a pass a second: the page follows a stream that never rests
start recon-lister --interval 1s --docker-timeout 5s
start recon-http --http-listen "127.0.0.1:$HPORT"
wait_for 10 reconctl probe lister || { bad "lister came up"; exit 1; }
wait_for 10 curl -sf --noproxy '*' "$URL/livez" ||
	{ bad "recon-http came up"; exit 1; }
check "GET / is http/status.html verbatim" cmp -s \
	<(curl -sf --noproxy '*' "$URL/") "$HERE/../../http/status.html"

workload_put $W stack
declare -A CID
for r in a b c; do CID[$r]=$(ctr_run "$W-$r" stack $W "$r"); done

mkdir -p "$T/chrome"
chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
	--remote-debugging-port=0 --user-data-dir="$T/chrome" \
	--window-size=1000,600 about:blank >>"$T/chromium.log" 2>&1 &
PIDS+=($!)
port_known() { grep -qx '[0-9]*' <(head -1 "$T/chrome/DevToolsActivePort"); }
wait_for 20 port_known || { bad "chromium came up"; exit 1; }
CDP_PORT=$(head -1 "$T/chrome/DevToolsActivePort")

cdp() { python3 "$HERE/cdp.py" "$CDP_PORT" "$@"; }
# js_is EXPR JSON: EXPR evaluated in the page is JSON.
js_is() { [ "$(cdp eval "$1")" = "$2" ]; }

# Every console error, uncaught exception and error log entry of the page.
python3 "$HERE/cdp.py" "$CDP_PORT" watch >"$T/console.json" \
	2>"$T/cdp-watch.log" &
PIDS+=($!)
wait_for 10 grep -q attached "$T/cdp-watch.log" || bad "console watch attached"
check "the page loads" cdp open "$URL/"
check "its title is recon" js_is document.title '"recon"'

# rows_of WID: "row=state ..." of the page's section for WID, sorted.
rows_of() {
	printf '[...document.querySelectorAll("[data-workload=\\"%s\\"] [data-row]")]
		.map(e => e.dataset.row + "=" +
			e.querySelector(".state").dataset.state).sort().join(" ")' "$1"
}
# of_row ID EXPR: EXPR of the element of row ID (e).
of_row() {
	printf '(e => e && %s)([...document.querySelectorAll("[data-row]")]
		.find(e => e.dataset.row === "%s"))' "$2" "$1"
}
check "the page lists the 3 containers running" wait_for 15 \
	js_is "$(rows_of $W)" "\"$W:a=running $W:b=running $W:c=running\""
check "the indicator says live" \
	js_is 'document.getElementById("conn").dataset.conn' '"live"'
check "and the rev is a number" \
	js_is '/^[0-9]+$/.test(document.getElementById("rev").textContent)' true

# A mark in this document: a reload would lose it.
cdp eval 'window.testMark = performance.timeOrigin' >/dev/null
# (busybox's sleep as pid 1 ignores SIGTERM: -t 1 kills it a second later)
docker stop -t 1 "${CID[b]}" >/dev/null
t_stop=$(now_ms)
check "the stopped row turns stopped on the page" wait_for 10 \
	js_is "$(of_row $W:b 'e.querySelector(".state").dataset.state')" \
	'"stopped"'
changed=$(cdp eval "$(of_row $W:b 'Number(e.dataset.changedAt)')")
dt=$((changed - t_stop))
check "its data-changed-at is within 2000 ms of docker stop (${dt} ms)" \
	test "${dt#-}" -le 2000
check "the others stay running" \
	js_is "$(rows_of $W)" "\"$W:a=running $W:b=stopped $W:c=running\""
check "with no reload" js_is 'window.testMark === performance.timeOrigin &&
	performance.getEntriesByType("navigation").length === 1' true
docker rm -f "${CID[c]}" >/dev/null
check "a removed container's row turns missing" wait_for 10 \
	js_is "$(of_row $W:c 'e.querySelector(".state").dataset.state')" \
	'"missing"'

check "a screenshot" cdp shot "$T/status.png"
check "... is a PNG" grep -q PNG <(head -c 8 "$T/status.png")
cp "$T/status.png" "$SHOT" && log "screenshot: $SHOT"

check "the page's console has no error" test ! -s "$T/console.json"
[ -s "$T/console.json" ] && head -5 "$T/console.json"
# the watch is not blind: an error of our own shows in it
cdp eval 'console.error("test_http_page probe")' >/dev/null
check "the console watch sees an error logged" \
	wait_for 5 grep -q "test_http_page probe" "$T/console.json"

finish
