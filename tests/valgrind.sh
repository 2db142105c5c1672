#!/bin/sh
# tests/valgrind.sh - the unit tests and `blueflow replay` of every golden
# case (tests/flows/*) under valgrind's memcheck: no error and no definite
# leak, or the run fails. `make check-valgrind` runs it (BLUEFLOW, SRCDIR
# and BUILDDIR, the build folder holding tests/unit/, come from there);
# scripts/test runs that on the plain build. Skips (77) without valgrind.
. "$SRCDIR/tests/lib.sh"
: "${BUILDDIR:?run through make check-valgrind}"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "skip: valgrind missing (sh scripts/deps.sh --test)"
	exit 77
fi
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no"

# the unit tests, in one process each (no fork: memcheck sees all)
for t in test_flow test_update test_apply; do
	if CK_FORK=no $VG "$BUILDDIR/tests/unit/$t" >"$T_TMP/$t.out" 2>&1; then
		ok "unit-$t"
	else
		fail "unit-$t" "$(grep -E '==[0-9]+==|Checks|Failures|Errors' "$T_TMP/$t.out" | head -20)"
	fi
done

# replay of each golden case: the same output as without valgrind, and clean
cd "$SRCDIR" || exit 1
for dir in tests/flows/*/; do
	name=$(basename "$dir")
	if [ -f "$dir/flow.json" ]; then flow="$dir/flow.json"; else flow=$(cat "$dir/flow"); fi
	args=""
	[ -f "$dir/args" ] && args=$(cat "$dir/args")
	# shellcheck disable=SC2086
	$VG "$BLUEFLOW" replay --trace $args "$flow" "$dir/updates.jsonl" >"$T_TMP/got" 2>"$T_TMP/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "replay-$name" "exit $rc: $(head -c 1500 "$T_TMP/err")"
	elif ! cmp -s "$T_TMP/got" "$dir/calls.jsonl"; then
		fail "replay-$name" "output differs under valgrind"
	else
		ok "replay-$name"
	fi
done
finish
