#!/bin/sh
# tests/invalid_flows.sh - `blueflow check` on the sample flows and on the
# broken ones.
#
#   flows/*.json          must be valid: exit 0 and nothing at all on stderr
#                         (no warnings either). flows/*.schema.json (JSON
#                         Schemas, not flows) are skipped.
#   tests/invalid/*.json  must be invalid: exit 1, and stderr must be
#                         byte-identical to the sidecar .expected file.
#
# A validator test that is "this flow gives these errors" belongs here, as
# data; tests/unit/test_flow.c keeps what a file and its errors cannot say
# (what a valid flow loads into, warnings alone, the loader's helpers).
#
# Run by `make check` with BLUEFLOW (absolute path of the binary) and SRCDIR
# (absolute path of the source tree) in the environment; by hand:
#   BLUEFLOW=$PWD/blueflow SRCDIR=/path/to/source sh tests/invalid_flows.sh
#
# Adding a case:
#   1. Write tests/invalid/NN_short_name.json (the next free NN) with ONE
#      mistake, or two closely related ones; keep the rest of it valid.
#   2. From the source root, record what the checker prints:
#        blueflow check tests/invalid/NN_short_name.json \
#            2>tests/invalid/NN_short_name.expected
#      Each line starts with the path exactly as given there.
#   3. Read every line of the .expected: it must be the right, helpful
#      message for the mistake. If it is not, write the line it should be
#      (the test then fails until the validator is fixed).
#   4. Every .json needs its .expected and every .expected its .json.
# In an .expected, @TYPES@ stands for the node types as `blueflow schema
# --types` lists them ("choice, text, ..."), and @REASONS@ for the message
# reasons a flow can override ("stale_button", "upload_failed", ...), as
# the schema's flowMessages lists them, so a new type changes none.
#
# Prints "ok NAME" or "FAIL NAME: why" (with a diff) per case; exits 1 if
# any case failed, 0 otherwise.
. "$SRCDIR/tests/lib.sh"
cd "$SRCDIR" || exit 1

for f in flows/*.json; do
	[ -e "$f" ] || continue
	case $f in *.schema.json) continue ;; esac
	run "$BLUEFLOW" check "$f"
	if [ "$RC" -ne 0 ]; then
		fail "$f" "exit $RC, wanted 0; stderr:"
		sed 's/^/  /' "$T_TMP/err"
	elif [ -s "$T_TMP/err" ]; then
		fail "$f" "valid, but stderr is not empty:"
		sed 's/^/  /' "$T_TMP/err"
	else
		ok "$f"
	fi
done

"$BLUEFLOW" schema --types >"$T_TMP/types" || fail types "blueflow schema --types failed"
types=$(cat "$T_TMP/types")
reasons=$("$BLUEFLOW" schema | python3 -c 'import json, sys
print(", ".join("\"%s\"" % r for r in
	json.load(sys.stdin)["$defs"]["flowMessages"]["propertyNames"]["enum"]))') ||
	fail reasons "blueflow schema gave no flowMessages reasons"
for f in tests/invalid/*.json; do
	[ -e "$f" ] || continue
	exp=${f%.json}.expected
	if [ ! -f "$exp" ]; then
		fail "$f" "no $exp (the top of tests/invalid_flows.sh says how to make it)"
		continue
	fi
	awk -v types="$types" -v reasons="$reasons" \
		'{ gsub(/@TYPES@/, types); gsub(/@REASONS@/, reasons); print }' "$exp" >"$T_TMP/expected"
	run "$BLUEFLOW" check "$f"
	if [ "$RC" -ne 1 ]; then
		fail "$f" "exit $RC, wanted 1; stderr (- expected, + actual):"
		diff -u "$T_TMP/expected" "$T_TMP/err" | sed '1,2d; s/^/  /'
	elif ! cmp -s "$T_TMP/expected" "$T_TMP/err"; then
		fail "$f" "stderr differs from $exp (- expected, + actual):"
		diff -u "$T_TMP/expected" "$T_TMP/err" | sed '1,2d; s/^/  /'
	else
		ok "$f"
	fi
done

for exp in tests/invalid/*.expected; do
	[ -e "$exp" ] || continue
	[ -f "${exp%.expected}.json" ] ||
		fail "$exp" "no ${exp%.expected}.json for this .expected"
done

[ $((T_PASS + T_FAIL)) -gt 0 ] || fail flows "no flows found under $SRCDIR/flows or $SRCDIR/tests/invalid"
finish || exit 1
exit 0
