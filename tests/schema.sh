#!/bin/sh
# tests/schema.sh - what is generated from the node registry is what is
# committed: flows/flow.schema.json equals `blueflow schema`, and the node
# reference in docs/flows.md (between its begin and end markers) equals
# `blueflow schema --markdown`. After changing a node type, run
# `sh scripts/reference.sh PATH/TO/blueflow` from the source root.
. "$SRCDIR/tests/lib.sh"
cd "$SRCDIR" || exit 1

run "$BLUEFLOW" schema
if [ "$RC" -ne 0 ]; then
	fail schema-json "exit $RC: $(head -c 400 "$T_TMP/err")"
elif cmp -s "$T_TMP/out" flows/flow.schema.json; then
	ok schema-json
else
	fail schema-json "flows/flow.schema.json differs from \`blueflow schema\` (run scripts/reference.sh): $(diff flows/flow.schema.json "$T_TMP/out" | head -20)"
fi

run "$BLUEFLOW" schema --markdown
sed -n '/^<!-- begin: blueflow schema --markdown -->$/,/^<!-- end: blueflow schema --markdown -->$/p' \
	docs/flows.md | sed '1d;$d' >"$T_TMP/docs"
if [ "$RC" -ne 0 ]; then
	fail schema-markdown "exit $RC: $(head -c 400 "$T_TMP/err")"
elif [ ! -s "$T_TMP/docs" ]; then
	fail schema-markdown "docs/flows.md has no generated node reference between its markers"
elif cmp -s "$T_TMP/out" "$T_TMP/docs"; then
	ok schema-markdown
else
	fail schema-markdown "docs/flows.md's node reference differs from \`blueflow schema --markdown\` (run scripts/reference.sh): $(diff "$T_TMP/docs" "$T_TMP/out" | head -20)"
fi

# every registered type is in the schema's enum and in the reference
run "$BLUEFLOW" schema --types
types=$(tr -d ',' <"$T_TMP/out")
[ -n "$types" ] && ok schema-types || fail schema-types "no types listed"
for t in $types; do
	grep -q "^### \`$t\`$" docs/flows.md && ok "docs-$t" || fail "docs-$t" "no ### \`$t\` in docs/flows.md"
	grep -q "\"const\": \"$t\"" flows/flow.schema.json && ok "schema-$t" ||
		fail "schema-$t" "no \"const\": \"$t\" in flows/flow.schema.json"
done

run "$BLUEFLOW" schema --frobnicate
expect_rc schema-usage 2
finish
