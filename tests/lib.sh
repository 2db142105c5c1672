# tests/lib.sh - helpers for the shell tests. Source it, call the checks,
# end with `finish`. Each check prints "ok NAME" or "FAIL NAME: why".
# BLUEFLOW (the binary) and SRCDIR (the source tree) come from make check.

: "${BLUEFLOW:?run through make check, or set BLUEFLOW}"
: "${SRCDIR:?run through make check, or set SRCDIR}"
T_PASS=0
T_FAIL=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/blueflow-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT

ok() { T_PASS=$((T_PASS + 1)); echo "ok $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: $2"; }

# run CMD...: runs a command, keeping its status in RC and its output in
# $T_TMP/out and $T_TMP/err.
run() {
	"$@" >"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
}

# expect NAME STATUS: the last run exited with STATUS.
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1"; else
		fail "$1" "exit $RC, wanted $2; stderr: $(head -c 600 "$T_TMP/err")"
	fi
}

# expect_err NAME TEXT: the last run's stderr contains TEXT.
expect_err() {
	if grep -qF -- "$2" "$T_TMP/err"; then ok "$1"; else
		fail "$1" "stderr lacks '$2'; it was: $(head -c 600 "$T_TMP/err")"
	fi
}

# expect_out NAME TEXT: the last run's stdout contains TEXT.
expect_out() {
	if grep -qF -- "$2" "$T_TMP/out"; then ok "$1"; else
		fail "$1" "stdout lacks '$2'; it was: $(head -c 600 "$T_TMP/out")"
	fi
}

# expect_lines NAME FILE N: FILE has exactly N lines.
expect_lines() {
	n=$(wc -l <"$2")
	if [ "$n" -eq "$3" ]; then ok "$1"; else
		fail "$1" "$n lines, wanted $3: $(head -c 600 "$2")"
	fi
}

finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
