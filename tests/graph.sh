#!/bin/sh
# tests/graph.sh - `blueflow graph`: the Mermaid output passes Mermaid's
# own parser and the DOT output renders with Graphviz, for the sample
# flows, every golden test flow and a flow of hostile ids and texts; the
# SVG names every node; edges, labels and the start, end, never-finishing
# and unreachable markings are where a small flow counted by hand puts them;
# usage and flow errors exit as documented; --stats colours a bot's flow by
# drop-off from the store's funnel, with the counts in the labels. Needs graphviz and the mermaid
# npm package that scripts/deps.sh installs (in $BLUEFLOW_MERMAID_DIR,
# default /usr/local/lib/blueflow-mermaid); without them those checks fail.
. "$SRCDIR/tests/lib.sh"
cd "$SRCDIR" || exit 1

MERMAID_DIR=${BLUEFLOW_MERMAID_DIR:-/usr/local/lib/blueflow-mermaid}

# Mermaid's parser under node. mermaid imports DOMPurify, which without a
# browser's window has no sanitize() or hooks; parsing needs them only to
# clean labels, so they are stubbed on the one shared instance (resolved
# through the node_modules link, as mermaid resolves it) before mermaid
# loads. Prints "FILE: ok: TYPE" or "FILE: ERROR" per file; exit 1 if any
# fails.
cat >"$T_TMP/mermaid_check.mjs" <<'EOF'
import { readFileSync } from 'node:fs';
import DOMPurify from 'dompurify';
if (typeof DOMPurify.sanitize !== 'function') {
	DOMPurify.addHook = () => {};
	DOMPurify.removeHook = () => {};
	DOMPurify.removeHooks = () => {};
	DOMPurify.sanitize = (s) => String(s);
}
const { default: mermaid } = await import('mermaid');
let bad = 0;
for (const file of process.argv.slice(2)) {
	try {
		const r = await mermaid.parse(readFileSync(file, 'utf8'));
		console.log(`${file}: ok: ${r.diagramType}`);
	} catch (e) {
		bad++;
		console.log(`${file}: ${String(e.message || e).replace(/\n/g, ' | ')}`);
	}
}
process.exit(bad ? 1 : 0);
EOF
have_mermaid=
if command -v node >/dev/null 2>&1 && [ -f "$MERMAID_DIR/node_modules/mermaid/package.json" ]; then
	ln -s "$MERMAID_DIR/node_modules" "$T_TMP/node_modules"
	have_mermaid=1
fi
have_dot=
command -v dot >/dev/null 2>&1 && have_dot=1

# Mermaid checks are queued and run in one node process at the end
# (loading mermaid takes most of a second).
# mermaid_ok NAME FILE...: Mermaid's parser accepts every FILE as a
# flowchart. mermaid_rejects NAME FILE: it refuses FILE with a parse error.
: >"$T_TMP/mm.want"
mermaid_ok() {
	t__name=$1
	shift
	for t__f in "$@"; do
		printf '%s\tok\t%s\n' "$t__name" "$t__f" >>"$T_TMP/mm.want"
	done
}
mermaid_rejects() {
	printf '%s\treject\t%s\n' "$1" "$2" >>"$T_TMP/mm.want"
}

# mermaid_verdicts: runs the parser on every queued file and reports each
# NAME once.
mermaid_verdicts() {
	if [ -n "$have_mermaid" ]; then
		# shellcheck disable=SC2046
		(cd "$T_TMP" && node mermaid_check.mjs $(cut -f3 mm.want)) >"$T_TMP/mm.out" 2>&1
	fi
	for t__name in $(cut -f1 "$T_TMP/mm.want" | uniq); do
		if [ -z "$have_mermaid" ]; then
			fail "$t__name" "no mermaid in $MERMAID_DIR or no node: run scripts/deps.sh"
			continue
		fi
		t__bad=
		while IFS='	' read -r t__n t__want t__f; do
			[ "$t__n" = "$t__name" ] || continue
			t__line=$(grep -F -- "$t__f: " "$T_TMP/mm.out" | head -n 1)
			case "$t__want:$t__line" in
			"ok:$t__f: ok: flowchart"*|"reject:$t__f: Parse error"*) ;;
			*) t__bad="$t__bad [$t__want] ${t__line:-$t__f: no verdict: $(head -c 300 "$T_TMP/mm.out")}" ;;
			esac
		done <"$T_TMP/mm.want"
		if [ -z "$t__bad" ]; then ok "$t__name"; else
			fail "$t__name" "$(printf '%s' "$t__bad" | head -c 900)"
		fi
	done
}

# svg_names_nodes FLOW SVG...: every node id of each FLOW is in the text
# of the SVG after it (as Graphviz wrote it, XML-escaped, read back by an
# XML parser). Prints what is missing. One python for all the pairs.
svg_names_nodes() {
	python3 - "$@" <<'EOF'
import json, sys
import xml.etree.ElementTree as ET
bad = 0
args = sys.argv[1:]
for flow_file, svg_file in zip(args[0::2], args[1::2]):
    flow = json.load(open(flow_file, encoding="utf-8"))
    nodes = flow.get("nodes")
    if not (isinstance(nodes, dict) and not isinstance(nodes.get("type"), str)):
        nodes = flow
    texts = "\n".join(t.text or "" for t in ET.parse(svg_file).iter()
                      if t.tag.endswith("}text"))
    missing = [i for i in nodes if i + " (" not in texts]
    if missing:
        print("%s: missing %s" % (flow_file, ", ".join(missing)))
        bad = 1
sys.exit(bad)
EOF
}

# draw NAME FLOW: both diagrams of FLOW; DOT rendered to SVG. Leaves
# $T_TMP/NAME.mmd, .dot, .svg.
draw() {
	run "$BLUEFLOW" graph "$2"
	cp "$T_TMP/out" "$T_TMP/$1.mmd"
	if [ "$RC" -ne 0 ] || [ -s "$T_TMP/err" ]; then
		fail "$1-mermaid-runs" "exit $RC: $(head -c 600 "$T_TMP/err")"
	fi
	run "$BLUEFLOW" graph --dot "$2"
	cp "$T_TMP/out" "$T_TMP/$1.dot"
	if [ "$RC" -ne 0 ] || [ -s "$T_TMP/err" ]; then
		fail "$1-dot-runs" "exit $RC: $(head -c 600 "$T_TMP/err")"
	fi
	if [ -z "$have_dot" ]; then
		fail "$1-dot-renders" "no dot: run scripts/deps.sh (graphviz)"
	elif dot -Tsvg "$T_TMP/$1.dot" >"$T_TMP/$1.svg" 2>"$T_TMP/dot.err" &&
	    [ ! -s "$T_TMP/dot.err" ]; then
		ok "$1-dot-renders"
		if svg_names_nodes "$2" "$T_TMP/$1.svg" >"$T_TMP/ids.out" 2>&1; then
			ok "$1-svg-names-every-node"
		else
			fail "$1-svg-names-every-node" "$(head -c 600 "$T_TMP/ids.out")"
		fi
	else
		fail "$1-dot-renders" "$(head -c 600 "$T_TMP/dot.err")"
	fi
	mermaid_ok "$1-mermaid-parses" "$T_TMP/$1.mmd"
}

# A flow whose ids and texts hold every character the two syntaxes care
# about; "orphan\" is unreachable, which is a warning only.
cat >"$T_TMP/hostile.json" <<'EOF'
{
  "start": "a \"quoted\" [id]",
  "commands": {"/go": "end"},
  "on_missing_node": "x|y",
  "nodes": {
    "a \"quoted\" [id]": {"type": "choice",
      "node_text": "Pick <b>one</b> &amp; \"two\" #1 `code` {x} |pipe| \\ back\nline",
      "choices": {"k\"1": "Yes \"sir\" <i>", "k]2": "No ] # ;", "k3": "a|b\\"},
      "next_for_choice": {"k\"1": "end", "k]2": "x|y", "k3": "graph"}},
    "end": {"type": "cutscene", "node_text": "The end &amp; &lt;bye&gt; #quot; `x`"},
    "x|y": {"type": "text", "node_text": "-->|x| n1 \"]) end", "key_to_save": "v",
      "next": "graph"},
    "graph": {"type": "branch", "conditions": [
      {"key": "v", "equals": "a\"b]", "next": "end"},
      {"key": "v", "one_of": ["x", "y;z"], "next": "end"},
      {"key": "v", "matches": "^a\"|[]#]%%{x}$", "next": "end"}], "else": "class"},
    "class": {"type": "cutscene", "node_text": "classDef x fill:#fff; style n0 fill:#f00"},
    "orphan\\": {"type": "cutscene", "node_text": "nobody comes here", "next": "end"},
    "%% <script>alert(1)</script> --> end": {"type": "cutscene", "node_text": "%%{init: {}}%%"}
  }
}
EOF

draw onboarding flows/onboarding.json
# a matches condition is labelled with its pattern, in both syntaxes
grep -qF '|"buddy matches /@?atlas_[A-Za-z0-9_]+/"|' "$T_TMP/onboarding.mmd" &&
	grep -qF 'label="buddy matches /@?atlas_[A-Za-z0-9_]+/"' "$T_TMP/onboarding.dot" &&
	ok matches-label-shows-pattern || fail matches-label-shows-pattern "$(grep -h matches "$T_TMP/onboarding.mmd" "$T_TMP/onboarding.dot")"
draw seed flows/seed_example.json
draw hostile "$T_TMP/hostile.json"

# Every golden test flow of its own (the others name a sample flow): all
# the Mermaid in one parser run, each DOT rendered, each SVG naming every
# node.
bad_draw=
pairs=
mmds=
for d in tests/flows/*/; do
	name=$(basename "$d")
	[ -f "$d/flow.json" ] || continue
	"$BLUEFLOW" graph "$d/flow.json" >"$T_TMP/t-$name.mmd" 2>"$T_TMP/err" ||
		bad_draw="$bad_draw $name(graph exit $?)"
	mmds="$mmds $T_TMP/t-$name.mmd"
	"$BLUEFLOW" graph --dot "$d/flow.json" >"$T_TMP/t-$name.dot" 2>"$T_TMP/err" ||
		bad_draw="$bad_draw $name(graph --dot exit $?)"
	[ -n "$have_dot" ] || continue
	if dot -Tsvg "$T_TMP/t-$name.dot" >"$T_TMP/t-$name.svg" 2>"$T_TMP/dot.err" &&
	    [ ! -s "$T_TMP/dot.err" ]; then
		pairs="$pairs $d/flow.json $T_TMP/t-$name.svg"
	else
		bad_draw="$bad_draw $name(dot -Tsvg)"
	fi
done
if [ -z "$have_dot" ]; then
	fail test-flows-draw-and-render "no dot: run scripts/deps.sh (graphviz)"
	fail test-flows-svg-name-every-node "no dot: run scripts/deps.sh (graphviz)"
else
	if [ -z "$bad_draw" ]; then ok test-flows-draw-and-render; else
		fail test-flows-draw-and-render "$bad_draw"
	fi
	# shellcheck disable=SC2086
	if svg_names_nodes $pairs >"$T_TMP/ids.out" 2>&1; then
		ok test-flows-svg-name-every-node
	else
		fail test-flows-svg-name-every-node "$(head -c 900 "$T_TMP/ids.out")"
	fi
fi
# shellcheck disable=SC2086
mermaid_ok test-flows-mermaid-parse $mmds

# The checkers can fail: a label whose quote is gone, a line Mermaid does
# not know, an edge to nowhere, and DOT cut short.
sed '0,/"]/s/"]/]/' "$T_TMP/seed.mmd" >"$T_TMP/broken1.mmd"
mermaid_rejects mermaid-rejects-unbalanced-quote "$T_TMP/broken1.mmd"
{ cat "$T_TMP/seed.mmd"; echo "	n0 is not an edge"; } >"$T_TMP/broken2.mmd"
mermaid_rejects mermaid-rejects-unknown-line "$T_TMP/broken2.mmd"
{ cat "$T_TMP/seed.mmd"; echo "	n0 -->|\"x\"|"; } >"$T_TMP/broken3.mmd"
mermaid_rejects mermaid-rejects-dangling-edge "$T_TMP/broken3.mmd"
if [ -n "$have_dot" ]; then
	sed '$d' "$T_TMP/seed.dot" >"$T_TMP/broken.dot"
	if dot -Tsvg "$T_TMP/broken.dot" >/dev/null 2>&1; then
		fail dot-rejects-unclosed-graph "dot accepted it"
	else
		ok dot-rejects-unclosed-graph
	fi
fi

# A small flow counted by hand. Ids in the diagram follow the file:
# n0 ask, n1 route, n2 name, n3 dev_bye, n4 bye, n5 help, n6 old.
# Transitions: ask 3 buttons (two of them by "next") + 1 after bad
# answers, route 2 conditions + else, name 1, help 1, old 1: 10; and two
# entries (/start, /help). Ends: dev_bye, bye (no node is stuck: each
# leads to one); unreachable: old.
cat >"$T_TMP/small.json" <<'EOF'
{
  "start": "ask",
  "commands": {"/help": "help"},
  "nodes": {
    "ask": {"type": "choice", "node_text": "Your role?",
      "choices": {"dev": "Developer", "ops": "Operations", "other": "Something else"},
      "next_for_choice": {"dev": "route"}, "next": "route", "key_to_save": "role",
      "max_attempts": 2, "on_max_attempts": "help"},
    "route": {"type": "branch", "conditions": [
      {"key": "role", "equals": "dev", "next": "dev_bye"},
      {"key": "role", "one_of": ["ops", "sre"], "next": "bye"}], "else": "name"},
    "name": {"type": "text", "node_text": "Your <b>name</b>?", "key_to_save": "name", "next": "bye"},
    "dev_bye": {"type": "cutscene", "node_text": "Happy hacking! This text is longer than forty characters, so it is cut."},
    "bye": {"type": "cutscene", "node_text": "Bye, {{name}}!"},
    "help": {"type": "cutscene", "node_text": "Ask @ops.", "next": "ask"},
    "old": {"type": "cutscene", "node_text": "No longer used", "next": "bye"}
  }
}
EOF
run "$BLUEFLOW" check "$T_TMP/small.json"
expect_rc small-loads 0
expect_err small-unreachable-is-a-warning 'warning: unreachable: node "old"'
draw small "$T_TMP/small.json"
m=$T_TMP/small.mmd
edges=$(grep -cE '^	[a-z][0-9]+ (-->|-\.->|==>)' "$m")
if [ "$edges" -eq 12 ]; then ok small-mermaid-12-edges; else
	fail small-mermaid-12-edges "$edges edges: $(cat "$m")"
fi
edges=$(grep -c ' -> ' "$T_TMP/small.dot")
if [ "$edges" -eq 12 ]; then ok small-dot-12-edges; else
	fail small-dot-12-edges "$edges edges: $(cat "$T_TMP/small.dot")"
fi
# expect_line NAME FILE LINE: FILE has LINE (after its tab) exactly.
expect_line() {
	if grep -qxF -- "	$3" "$2"; then ok "$1"; else
		fail "$1" "no line '$3' in: $(head -c 1500 "$2")"
	fi
}
expect_line small-entry "$m" 's0 ==> n0'
expect_line small-command "$m" 'c0 -.-> n5'
expect_line small-command-node "$m" 'c0(["/help"])'
expect_line small-button "$m" 'n0 -->|"Developer"| n1'
expect_line small-button-by-next "$m" 'n0 -->|"Something else"| n1'
expect_line small-bad-answers "$m" 'n0 -.->|"after 2 bad answers"| n5'
expect_line small-condition "$m" 'n1 -->|"role == dev"| n3'
expect_line small-one-of "$m" 'n1 -->|"role in ops, sre"| n4'
expect_line small-else "$m" 'n1 -->|"else"| n2'
expect_line small-plain-next "$m" 'n2 --> n4'
expect_line small-choice-shape "$m" 'n0{{"ask (choice)<br/>Your role?"}}'
expect_line small-branch-shape "$m" 'n1{"route (branch)"}'
expect_line small-html-dropped "$m" 'n2["name (text)<br/>Your name?"]'
expect_line small-text-cut "$m" 'n3("dev_bye (cutscene)<br/>Happy hacking! This text is longer than...")'
expect_line small-start-class "$m" 'class n0 start'
expect_line small-end-class "$m" 'class n3,n4 finish'
if grep -q '^	class .* stuck$' "$m"; then fail small-none-stuck "$(grep stuck "$m")"; else
	ok small-none-stuck
fi
expect_line small-unreachable-class "$m" 'class n6 unreachable'
expect_line small-entry-class "$m" 'class s0,c0 entry'
d=$T_TMP/small.dot
expect_line small-dot-button "$d" 'n0 -> n1 [label="Developer"];'
expect_line small-dot-bad-answers "$d" 'n0 -> n5 [label="after 2 bad answers", style=dashed];'
expect_line small-dot-plain-next "$d" 'n2 -> n4;'
expect_line small-dot-entry "$d" 's0 -> n0 [penwidth=2];'
if [ -n "$have_dot" ]; then
	for c in 'node choice start:1' 'node cutscene finish:2' 'node cutscene unreachable:1' 'node entry:2'; do
		n=$(grep -c "class=\"${c%:*}\"" "$T_TMP/small.svg")
		if [ "$n" -eq "${c#*:}" ]; then ok "small-svg-class-${c%:*}"; else
			fail "small-svg-class-${c%:*}" "$n, wanted ${c#*:}"
		fi
	done
fi

# An end the author wrote is blue, not red; red is for a node from which
# no end can be reached. n0 menu goes to n1 bye (an end), to the loop
# n2 name <-> n3 again (which finishes through n4 after bad answers), or
# to n5, which asks again and again and never finishes.
cat >"$T_TMP/loop.json" <<'EOF'
{"0": {"type": "choice", "node_text": "Menu", "choices": {"a": "A", "b": "B", "c": "C"},
  "next_for_choice": {"a": "1", "b": "2", "c": "5"}},
 "1": {"type": "cutscene", "node_text": "Bye"},
 "2": {"type": "text", "node_text": "Name?", "key_to_save": "name", "next": "3",
  "max_attempts": 2, "on_max_attempts": "4"},
 "3": {"type": "text", "node_text": "Again?", "key_to_save": "again", "next": "2"},
 "4": {"type": "cutscene", "node_text": "Too many tries"},
 "5": {"type": "text", "node_text": "Forever?", "key_to_save": "more", "next": "5"}}
EOF
draw loop "$T_TMP/loop.json"
expect_line loop-end-class "$T_TMP/loop.mmd" 'class n1,n4 finish'
expect_line loop-stuck-class "$T_TMP/loop.mmd" 'class n5 stuck'
expect_line loop-stuck-red "$T_TMP/loop.mmd" 'classDef stuck fill:#fdd,stroke:#c00'
grep -qF 'fillcolor="#ffdddd", color="#cc0000", class="text stuck"' "$T_TMP/loop.dot" &&
	grep -qF 'fillcolor="#ddeeff", color="#3366cc", class="cutscene finish"' "$T_TMP/loop.dot" &&
	ok loop-dot-classes || fail loop-dot-classes "$(grep class= "$T_TMP/loop.dot")"

# The hostile flow: quotes, brackets and HTML never reach the syntax raw.
expect_line hostile-mermaid-quotes "$T_TMP/hostile.mmd" 'n0 -->|"Yes #quot;sir#quot; #lt;i#gt;"| n1'
expect_line hostile-dot-quotes "$T_TMP/hostile.dot" 'n0 -> n1 [label="Yes \"sir\" <i>"];'
if grep -e '<script>' -e '%%' "$T_TMP/hostile.mmd" >"$T_TMP/raw.out"; then
	fail hostile-no-raw-html-or-directive "$(cat "$T_TMP/raw.out")"
else
	ok hostile-no-raw-html-or-directive
fi

# A button label of "x", 509 spaces and a two-byte character: the label
# is built in 512 bytes, so the character is cut in half there, and the
# diagram must end the label before it, not read past it.
printf '{"0": {"type": "choice", "node_text": "Cut?", "choices": {"k": "x%509s\303\251"},
 "next": "1"}, "1": {"type": "cutscene", "node_text": "Bye"}}\n' '' >"$T_TMP/cut.json"
run "$BLUEFLOW" graph "$T_TMP/cut.json"
expect_rc cut-label-exit 0
expect_line cut-label-whole-characters "$T_TMP/out" 'n0 -->|"x"| n1'

# Keyword intents enter their nodes like commands: "intent ID", dashed.
draw intents "$SRCDIR/tests/flows/intent_jump/flow.json"
expect_line intent-node "$T_TMP/intents.mmd" 'k0(["intent help"])'
expect_line intent-edge "$T_TMP/intents.mmd" 'k0 -.-> n2'
expect_line intent-entry-class "$T_TMP/intents.mmd" 'class s0,k0,k1 entry'
expect_line intent-dot-edge "$T_TMP/intents.dot" 'k1 -> n3 [style=dashed];'

# The README's diagram is this command's output, byte for byte, and the
# command prints nothing but the diagram (checked whole by the parser).
run "$BLUEFLOW" graph flows/onboarding.json
expect_rc readme-graph-exit 0
if [ -s "$T_TMP/err" ]; then fail readme-graph-quiet "stderr: $(head -c 300 "$T_TMP/err")"; else
	ok readme-graph-quiet
fi
if [ "$(head -n 1 "$T_TMP/out")" = "flowchart TD" ]; then ok readme-graph-first-line; else
	fail readme-graph-first-line "$(head -n 1 "$T_TMP/out")"
fi
awk '/^```mermaid$/ { on = 1; next } on && /^```$/ { exit } on' README.md >"$T_TMP/readme.mmd"
if [ ! -s "$T_TMP/readme.mmd" ]; then
	ok readme-has-no-diagram-yet
elif cmp -s "$T_TMP/readme.mmd" "$T_TMP/out"; then
	ok readme-diagram-current
else
	fail readme-diagram-current "README.md's mermaid block differs from \`blueflow graph flows/onboarding.json\`: $(diff "$T_TMP/readme.mmd" "$T_TMP/out" | head -20)"
fi
cp "$T_TMP/out" "$T_TMP/readme-out.mmd"
mermaid_ok readme-graph-parses-whole "$T_TMP/readme-out.mmd"

# an http node: its on_error edge dashed and labelled, like on_timeout
"$BLUEFLOW" graph tests/flows/http_save/flow.json >"$T_TMP/http.mmd"
if grep -qxF '	n2 -.->|"on_error"| n4' "$T_TMP/http.mmd" && grep -qxF '	n2 --> n3' "$T_TMP/http.mmd"; then
	ok http-on-error-edge
else
	fail http-on-error-edge "$(cat "$T_TMP/http.mmd")"
fi

# Errors: a missing file and a broken flow print the validator's errors
# (as `blueflow check -q` does) and nothing on stdout; usage exits 2.
run "$BLUEFLOW" graph "$T_TMP/nope.json"
expect_rc missing-file 1
expect_err missing-file-says "nope.json: /: schema: cannot open: No such file or directory"
expect_lines missing-file-no-diagram "$T_TMP/out" 0
run "$BLUEFLOW" check -q tests/invalid/73_readme_example.json
cp "$T_TMP/err" "$T_TMP/check.err"
run "$BLUEFLOW" graph --dot tests/invalid/73_readme_example.json
expect_rc broken-flow 1
if [ -s "$T_TMP/err" ] && cmp -s "$T_TMP/err" "$T_TMP/check.err"; then ok broken-flow-check-errors; else
	fail broken-flow-check-errors "$(diff "$T_TMP/check.err" "$T_TMP/err" | head -c 600)"
fi
expect_lines broken-flow-no-diagram "$T_TMP/out" 0
run "$BLUEFLOW" graph
expect_rc no-file 2
expect_err no-file-says "no flow file given"
run "$BLUEFLOW" graph flows/onboarding.json flows/seed_example.json
expect_rc two-files 2
expect_err two-files-says "one flow file at a time"
run "$BLUEFLOW" graph --svg flows/onboarding.json
expect_rc bad-option 2
expect_err bad-option-says "unknown option \"--svg\""
run "$BLUEFLOW" graph --help
expect_rc help 0
expect_out help-dot "--dot"
expect_out help-example "blueflow graph --dot flows/onboarding.json | dot -Tsvg"

# --stats: the bot's flow coloured by drop-off, from the store's funnel (as
# `blueflow stats` counts it): three chats, one finished, one left at
# "city" (after reaching it), one left at "name" (after a refused answer
# of another): name 1 of 3 left, city 1 of 2, bye none.
cat >"$T_TMP/st_flow.json" <<'JSON'
{"start": "name", "nodes": {
 "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "city"},
 "city": {"type": "text", "node_text": "Your city?", "key_to_save": "city", "next": "bye"},
 "bye": {"type": "cutscene", "node_text": "Thanks."}}}
JSON
printf '[server]\ndb = sqlite:%s\n\n[bot shop]\nflow = %s\ntoken_env = GS_TOKEN\n' \
	"$T_TMP/st.db" "$T_TMP/st_flow.json" >"$T_TMP/st.conf"
"$BLUEFLOW" db migrate -c "$T_TMP/st.conf" >/dev/null
sqlite3 "$T_TMP/st.db" "insert into transcript (bot, chat_id, update_id, said, node_from, node_to, outcome) values
	('shop', 1, 1, 'a', '', 'name', 'moved'), ('shop', 1, 2, 'a', 'name', 'city', 'moved'),
	('shop', 1, 3, 'a', 'city', 'bye', 'finished'), ('shop', 2, 4, 'a', '', 'name', 'moved'),
	('shop', 2, 5, 'a', 'name', 'name', 'stayed'), ('shop', 2, 6, 'a', 'name', 'city', 'moved'),
	('shop', 3, 7, 'a', '', 'name', 'moved'), ('other', 4, 8, 'a', '', 'name', 'moved')"
run "$BLUEFLOW" graph --stats shop -c "$T_TMP/st.conf"
expect_rc stats-mermaid-rc 0
cp "$T_TMP/out" "$T_TMP/stats.mmd"
mermaid_ok stats-mermaid-parses "$T_TMP/stats.mmd"
m=$T_TMP/stats.mmd
expect_line stats-counts-in-label "$m" 'n0["name (text)<br/>Your name?<br/>3 reached, 1 left (33%), 1 refused"]'
expect_line stats-finished-in-label "$m" 'n2("bye (cutscene)<br/>Thanks.<br/>1 reached, 0 left (0%), 1 finished")'
expect_line stats-none-left-green "$m" 'style n2 fill:#c8f0c8'
expect_line stats-half-left-yellow "$m" 'style n1 fill:#fff0a8'
expect_line stats-third-left-between "$m" 'style n0 fill:#edf0b3'
sqlite3 "$T_TMP/st.db" "insert into transcript (bot, chat_id, update_id, said, node_from, node_to, outcome) values
	('shop', 5, 9, 'a', '', 'name', 'moved'), ('shop', 5, 10, 'a', 'name', 'city', 'moved')"
run "$BLUEFLOW" graph --dot --stats shop --since all -c "$T_TMP/st.conf"
expect_rc stats-dot-rc 0
cp "$T_TMP/out" "$T_TMP/stats.dot"
expect_out stats-dot-toward-red 'n1 [label="city (text)\nYour city?\n3 reached, 2 left (66%)", shape=box, style="filled", fillcolor="#fbd3a3"'
if [ -n "$have_dot" ] && dot -Tsvg "$T_TMP/stats.dot" >/dev/null 2>"$T_TMP/dot.err" && [ ! -s "$T_TMP/dot.err" ]; then
	ok stats-dot-renders
else
	fail stats-dot-renders "$(cat "$T_TMP/dot.err" 2>/dev/null)"
fi
run "$BLUEFLOW" graph --stats shop "$T_TMP/st_flow.json" -c "$T_TMP/st.conf"
expect_rc stats-and-file 2
run "$BLUEFLOW" graph --since 7d "$T_TMP/st_flow.json"
expect_rc since-without-stats 2
run "$BLUEFLOW" graph --stats nobot -c "$T_TMP/st.conf"
expect_rc stats-unknown-bot 1

mermaid_verdicts
finish
