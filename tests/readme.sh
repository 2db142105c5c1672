#!/bin/sh
# tests/readme.sh - README.md says what the binary does: every JSON block
# is a valid flow (for `blueflow check` and for flows/flow.schema.json),
# every `blueflow COMMAND` it shows exists and its options are ones the
# command's --help names, and every file path it links exists.
set -u
. "$SRCDIR/tests/lib.sh"

README=$SRCDIR/README.md

# --- JSON blocks: flows
python3 - "$README" "$T_TMP" <<'PY' >"$T_TMP/blocks"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for n, m in enumerate(re.finditer(r"^```json\n(.*?)^```", text, re.S | re.M)):
    path = "%s/readme_%d.json" % (sys.argv[2], n)
    open(path, "w", encoding="utf-8").write(m.group(1))
    print(path)
PY
[ -s "$T_TMP/blocks" ] && ok json-blocks-found || fail json-blocks-found "no json block in README.md"
while read -r f; do
	run "$BLUEFLOW" check "$f"
	[ "$RC" = 0 ] && ok "check-$(basename "$f")" || fail "check-$(basename "$f")" "$(cat "$T_TMP/err")"
	if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
		/usr/bin/python3 - "$SRCDIR/flows/flow.schema.json" "$f" <<'PY' >"$T_TMP/why" 2>&1 &&
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
PY
			ok "schema-$(basename "$f")" || fail "schema-$(basename "$f")" "$(tail -n 3 "$T_TMP/why")"
	fi
done <"$T_TMP/blocks"

# --- commands in code blocks and spans: `blueflow CMD [SUB] --opt ...`
python3 - "$README" <<'PY' >"$T_TMP/cmds"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
seen = set()
blocks = re.findall(r"^ *```(?:sh|console)\n(.*?)^ *```", text, re.S | re.M)
blocks += re.findall(r"`(blueflow [^`]*)`", text.replace("\n", " "))
for block in blocks:
    for line in block.splitlines():
        line = line.split(" #")[0]
        for m in re.finditer(r"(?:^|[\s;|$(])blueflow ([a-z]+)((?: +[^\s;|)]+)*)", line):
            opts = " ".join(o for o in m.group(2).split() if o.startswith("--"))
            key = (m.group(1), opts)
            if key not in seen:
                seen.add(key)
                print(m.group(1), opts)
PY
[ "$(wc -l <"$T_TMP/cmds")" -ge 10 ] && ok commands-found || fail commands-found "$(cat "$T_TMP/cmds")"
while read -r cmd opts; do
	run "$BLUEFLOW" "$cmd" --help
	if [ "$RC" != 0 ]; then
		fail "command-$cmd" "blueflow $cmd --help: exit $RC"
		continue
	fi
	ok "command-$cmd${opts:+ $opts}"
	for o in $opts; do
		grep -qF -- "$o" "$T_TMP/out" && ok "option-$cmd$o" ||
			fail "option-$cmd$o" "blueflow $cmd --help does not mention $o"
	done
done <"$T_TMP/cmds"

# --- the replay example: the updates and the output shown are the real ones
run "$BLUEFLOW" replay --trace "$SRCDIR/flows/seed_example.json" \
	"$SRCDIR/tests/flows/readme_replay/updates.jsonl"
bad=
grep -v '^#' "$SRCDIR/tests/flows/readme_replay/updates.jsonl" | cat - "$T_TMP/out" >"$T_TMP/replay"
while IFS= read -r line; do
	grep -qxF -- "$line" "$README" || bad="$bad
$line"
done <"$T_TMP/replay"
[ "$RC" = 0 ] && [ -z "$bad" ] && ok replay-example ||
	fail replay-example "exit $RC; README lacks:$bad"

# --- links to files in the tree
python3 - "$README" <<'PY' >"$T_TMP/links"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for target in sorted(set(re.findall(r"\]\(([^)#:]+)\)", text))):
    print(target)
PY
while read -r l; do
	[ -e "$SRCDIR/$l" ] && ok "link-$l" || fail "link-$l" "README links to $l, which does not exist"
done <"$T_TMP/links"
finish
