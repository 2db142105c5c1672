#!/bin/sh
# scripts/build.sh - installs what is missing and builds blueflow in
# ./build; prints the binary's path last. Safe to run again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh >&2
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi >&2
fi
mkdir -p build
cd build
[ -f Makefile ] || "$top/configure" -q >&2
make -s -j"$(nproc 2>/dev/null || echo 2)" >&2
echo "$top/build/blueflow"
