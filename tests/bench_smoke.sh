#!/bin/sh
# tests/bench_smoke.sh - bench/run --smoke against the built binary: the
# load generator, the transport and store ceilings and blueflow on both
# stores all run, and every answer is right (never timings). Loopback only;
# skipped (77) without nginx, and PostgreSQL is left out when missing.
. "$SRCDIR/tests/lib.sh"

run sh "$SRCDIR/bench/run" --smoke "$(dirname "$BLUEFLOW")"
if [ "$RC" -eq 77 ]; then
	echo "skip: $(tail -n 1 "$T_TMP/err")"
	exit 77
fi
expect_rc bench-smoke-ran 0
expect_out bench-smoke-table '| blueflow, sqlite | two-state |'
expect_out bench-smoke-onboarding '| blueflow, sqlite | onboarding |'
expect_out bench-smoke-memory '## Memory of the pool'
# every load line: some answers, none wrong, none without a 200
if grep -q '^bench/run: .*: sent=' "$T_TMP/err" &&
	! grep '^bench/run: .*: sent=' "$T_TMP/err" | grep -qv ' wrong=0 failed=0 '; then
	ok bench-smoke-answers-right
else
	fail bench-smoke-answers-right "$(grep '^bench/run: ' "$T_TMP/err" | head -n 12)"
fi
[ "$RC" -eq 0 ] || sed 's/^/  /' "$T_TMP/err" | tail -n 20
finish
