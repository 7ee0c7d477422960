#!/usr/bin/env bash
# client_install.sh: the installed C client (SPEC §5), as a program outside
# the tree uses it: `cmake --install` into a fresh prefix, then
# examples/subscriber.c compiled with nothing but what
# `pkg-config --cflags --libs recon-client` says, the header and the
# library both taken from that prefix, run against a real recon-store
# (no Docker). Also: the library's SONAME and that it exports recon_*
# alone. CTest runs it (label unit).
# usage: client_install.sh BUILD_DIR SOURCE_DIR VERSION CC [CFLAGS]
set -u

BUILD=$(cd "${1:?usage: $0 BUILD_DIR SOURCE_DIR VERSION CC [CFLAGS]}" && pwd)
SRC=$(cd "${2:?}" && pwd)
VERSION=${3:?}
CC=${4:?}
read -r -a CFLAGS <<<"${5:-}"
T=$(mktemp -d /tmp/recon-client.XXXXXX)
P=$T/prefix
STORE=
FAILED=0

cleanup() {
	[ -n "$STORE" ] && kill -TERM "$STORE" 2>/dev/null && wait "$STORE"
	rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "PASS: $*"; }
bad() {
	echo "FAIL: $*"
	FAILED=$((FAILED + 1))
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}
# die WHAT [FILE]: a step the rest depends on failed.
die() {
	bad "$1"
	[ -n "${2:-}" ] && sed 's/^/    /' "$2" | tail -20
	exit 1
}

# wait_until SECONDS CMD...: CMD every 50 ms until it succeeds or time is up.
wait_until() {
	local n=$(($1 * 20))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -le 0 ] && return 1
		sleep 0.05
	done
}

cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 ||
	die "cmake --install --prefix $P" "$T/install.log"
ok "cmake --install --prefix $P"
PC=$(find "$P" -name recon-client.pc -path '*/pkgconfig/*')
[ -n "$PC" ] || die "recon-client.pc installed under a pkgconfig dir"
export PKG_CONFIG_PATH=${PC%/*}
check "pkg-config: version $VERSION" \
	test "$(pkg-config --modversion recon-client)" = "$VERSION"
LIBDIR=$(pkg-config --variable=libdir recon-client)
INCDIR=$(pkg-config --variable=includedir recon-client)
check "the header where includedir says" test -f "$INCDIR/recon-client.h"
LIB=$LIBDIR/librecon-client.so.0
check "the library where libdir says" test -f "$LIB"
check "its SONAME is librecon-client.so.0" \
	bash -c "readelf -d '$LIB' | grep -q 'SONAME.*\[librecon-client\.so\.0\]'"
nm -D --defined-only "$LIB" | awk '{print $3}' | sort >"$T/syms"
check "it exports recon_* only ($(wc -l <"$T/syms") symbols)" \
	test "$(grep -cv '^recon_' "$T/syms")" = 0 -a -s "$T/syms"
[ -s "$T/syms" ] && grep -v '^recon_' "$T/syms" | head -5 | sed 's/^/    /'

BUILT="examples/subscriber.c builds with pkg-config's flags"
# shellcheck disable=SC2046 # pkg-config's flags are words
"$CC" "${CFLAGS[@]}" -Wall -Wextra -Werror -o "$T/subscriber" \
	"$SRC/examples/subscriber.c" $(pkg-config --cflags --libs recon-client) \
	>"$T/cc.log" 2>&1 || die "$BUILT" "$T/cc.log"
ok "$BUILT"
# shellcheck disable=SC2046
"$CC" "${CFLAGS[@]}" -M "$SRC/examples/subscriber.c" \
	$(pkg-config --cflags recon-client) >"$T/deps" 2>&1
check "  with the installed header" grep -q "$INCDIR/recon-client.h" "$T/deps"
grep -o "$SRC/[^ \\]*" "$T/deps" | grep -v 'subscriber\.c$' >"$T/ours"
check "  and no header of the source tree" test ! -s "$T/ours"
export LD_LIBRARY_PATH=$LIBDIR
check "  and the installed library" \
	bash -c "ldd '$T/subscriber' | grep -q 'librecon-client.so.0 => $LIBDIR/'"

"$T/subscriber" >/dev/null 2>&1
check "it runs: no run dir is a usage error (64)" test $? = 64

# Against a real store: a workload written after the subscriber started
# from rev 0 is its one event.
"$BUILD/recon-store" --run-dir "$T/run" --data-dir "$T/data" \
	>"$T/store.log" 2>&1 &
STORE=$!
wait_until 20 "$BUILD/reconctl" --run-dir "$T/run" probe store ||
	die "recon-store came up" "$T/store.log"
"$T/subscriber" "$T/run" -s 0 -n 1 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
echo '{"id":"client","name":"client","kind":"stack"}' |
	"$BUILD/reconctl" --run-dir "$T/run" workload put - >/dev/null ||
	die "workload put"
gone() { ! kill -0 "$SUB"; }
if wait_until 20 gone; then
	wait "$SUB"
	check "the subscriber got its event and exited 0" test $? = 0
else
	kill "$SUB"
	bad "the subscriber got its event within 20 s"
fi
check "  rev 1, workload/client, put" \
	test "$(cat "$T/sub.out")" = "1 workload/client put -"
[ "$FAILED" -gt 0 ] && sed 's/^/    /' "$T/sub.err"

[ "$FAILED" -eq 0 ]
