#!/bin/sh
# scripts/deps.sh [--test] - installs the Debian 12 packages blueflow needs
# to build and run (the demo: nginx, openssl, python3); with --test also
# what only the test suite uses (PostgreSQL, Apache, graphviz, node and
# Mermaid's parser, groff, python3-jsonschema, valgrind, and clang with
# libFuzzer for the fuzz targets; for tests/deb.sh git, debhelper,
# lintian, debootstrap and cgi-fcgi). Safe to run again: it does nothing
# when all are present.
set -eu

PKGS="build-essential autoconf automake pkg-config
libfcgi-dev libjson-c-dev libpq-dev libcurl4-openssl-dev libssl-dev
libsqlite3-dev libpcre2-dev libinih-dev libsystemd-dev check
python3 sqlite3 nginx curl openssl"
TEST_PKGS="python3-jsonschema postgresql apache2 libapache2-mod-fcgid
graphviz nodejs groff-base valgrind clang libclang-rt-14-dev
git debhelper lintian debootstrap libfcgi-bin"
tests=
if [ "${1:-}" = --test ]; then
	tests=1
	PKGS="$PKGS $TEST_PKGS"
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

# tests/graph.sh checks `blueflow graph` with Mermaid's own parser: the
# mermaid package from npm, pinned, in a directory of its own (never the
# source tree), so that the test runs offline. Nothing when it is there.
MERMAID_DIR=${BLUEFLOW_MERMAID_DIR:-/usr/local/lib/blueflow-mermaid}
MERMAID_VERSION=11.17.2
deps_mermaid() {
	grep -qs "\"version\": \"$MERMAID_VERSION\"" \
		"$MERMAID_DIR/node_modules/mermaid/package.json" && return 0
	echo "deps: installing mermaid $MERMAID_VERSION (npm) in $MERMAID_DIR"
	s=
	[ "$(id -u)" -eq 0 ] || s=sudo
	command -v npm >/dev/null 2>&1 || { $s apt-get update -q &&
		$s apt-get install -y -q --no-install-recommends npm; } || return 1
	$s mkdir -p "$MERMAID_DIR" &&
		$s npm install --prefix "$MERMAID_DIR" --no-audit --no-fund \
			--omit=dev --ignore-scripts --loglevel=error "mermaid@$MERMAID_VERSION"
}
# Mermaid's parser serves one test (tests/graph.sh, which says so when it
# is missing): without npm's registry the rest still runs.
deps_mermaid_or_warn() {
	deps_mermaid || echo "deps: could not install mermaid from npm; tests/graph.sh will fail" >&2
}
[ -z "$missing" ] && { [ -z "$tests" ] || deps_mermaid_or_warn; exit 0; }

echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# no service may start while installing: nginx and apache2 would fight
# over port 80; the tests start their own on loopback ports
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	policy=1
fi
rc=0
$SUDO apt-get update -q || rc=$?
# shellcheck disable=SC2086
[ $rc -ne 0 ] || $SUDO apt-get install -y -q --no-install-recommends $missing || rc=$?
[ -n "$policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
[ $rc -ne 0 ] || [ -z "$tests" ] || deps_mermaid_or_warn
exit $rc
