#!/bin/sh
# tests/golden.sh - data-driven tests of the engine. Each folder
# tests/flows/CASE/ holds:
#   flow.json       the flow (or a file "flow" naming one, e.g. flows/onboarding.json)
#   updates.jsonl   Telegram updates, one per line (# comments allowed)
#   calls.jsonl     exactly what `blueflow replay --trace` prints for them
#   args            optional: more replay options, e.g. "--bot my_bot"
# A line "tick at T" (unix seconds) in updates.jsonl moves the timers'
# clock to T and fires the timers due by then (tests/flows/timer_*).
# Adding a case needs no C: make the folder, write the flow and updates,
# run `blueflow replay --trace FLOW updates.jsonl > calls.jsonl`, then read
# every line of calls.jsonl and check it is what a user should get.
. "$SRCDIR/tests/lib.sh"
cd "$SRCDIR" || exit 1

n=0
for dir in tests/flows/*/; do
	name=$(basename "$dir")
	n=$((n + 1))
	if [ -f "$dir/flow.json" ]; then
		flow="$dir/flow.json"
	elif [ -f "$dir/flow" ]; then
		flow=$(cat "$dir/flow")
	else
		fail "$name" "no flow.json or flow file"
		continue
	fi
	args=""
	[ -f "$dir/args" ] && args=$(cat "$dir/args")
	# shellcheck disable=SC2086
	"$BLUEFLOW" replay --trace $args "$flow" "$dir/updates.jsonl" >"$T_TMP/got" 2>"$T_TMP/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$name" "replay exited $rc: $(head -c 400 "$T_TMP/err")"
	elif cmp -s "$T_TMP/got" "$dir/calls.jsonl"; then
		ok "$name"
	else
		fail "$name" "output differs: $(diff "$dir/calls.jsonl" "$T_TMP/got" | head -20)"
	fi
done
[ "$n" -gt 0 ] || fail cases "no case found under tests/flows"
finish
