#!/bin/sh
# tests/config_ref.sh - README's "## Configuration" reference names every
# key the config file may hold, and no other, under the right section. The
# code's keys come from the binary itself: a key it does not know makes it
# list the section's known keys. A README copy with one key dropped and one
# made up shows the comparison catches both.
. "$SRCDIR/tests/lib.sh"
LC_ALL=C	# sort and comm agree on one order
export LC_ALL

UNKNOWN=zz_no_such_key_zz

# code_keys SECTION: the keys the binary lists for SECTION ("server" or
# "bot"), one a line, sorted.
code_keys() {
	sed -n "s/^.*\\[$1[^]]*\\] unknown key \"$UNKNOWN\"; the known keys are //p" \
		"$T_TMP/known.err" | tr ',' '\n' | sed 's/^ *//; /^$/d' | sort
}

# source_keys ARRAY: the strings of `const char *const ARRAY[]` in
# engine/config.c, one a line, sorted.
source_keys() {
	awk -v name="$1" '
		index($0, "const char *const " name "[] = {") { on = 1; next }
		on && /};/ { on = 0 }
		on { while (match($0, /"[^"]*"/)) {
			print substr($0, RSTART + 1, RLENGTH - 2)
			$0 = substr($0, RSTART + RLENGTH) } }
	' "$SRCDIR/engine/config.c" | sort
}

# readme_keys FILE HEADING: the keys in the first column of the tables under
# "### HEADING" inside "## Configuration" of FILE, one a line, sorted (a
# key written twice stays twice).
readme_keys() {
	awk -v want="$2" '
		/^## / { conf = ($0 == "## Configuration"); sub3 = ""; next }
		/^### / { sub3 = substr($0, 5); next }
		conf && sub3 == want && /^\| `[^`]*` \|/ {
			k = $0; sub(/^\| `/, "", k); sub(/`.*/, "", k); print k }
	' "$1" | sort
}

# readme_rows_short FILE: key rows of the reference with an empty cell (a
# key without its default, values or meaning).
readme_rows_short() {
	awk '
		/^## / { conf = ($0 == "## Configuration"); next }
		conf && /^\| `[^`]*` \|/ {
			n = split($0, cell, "|")
			for (i = 2; i < n; i++) if (cell[i] ~ /^ *$/) { print; break }
			if (n != 6) print
		}
	' "$1"
}

# ref_diff CODE_LIST README_FILE HEADING: "missing KEY" for each key the code
# has and the README lacks, "extra KEY" for each one the other way round,
# "twice KEY" for a key with two rows.
ref_diff() {
	readme_keys "$2" "$3" >"$T_TMP/readme.keys"
	uniq "$T_TMP/readme.keys" >"$T_TMP/readme.once"
	comm -23 "$1" "$T_TMP/readme.once" | sed 's/^/missing /'
	comm -13 "$1" "$T_TMP/readme.once" | sed 's/^/extra /'
	uniq -d "$T_TMP/readme.keys" | sed 's/^/twice /'
}

# The binary's lists: one unknown key in each section.
printf '[server]\n%s = 1\n\n[bot ref]\n%s = 1\n' "$UNKNOWN" "$UNKNOWN" >"$T_TMP/ref.conf"
run "$BLUEFLOW" db migrate -c "$T_TMP/ref.conf"
cp "$T_TMP/err" "$T_TMP/known.err"
expect_rc unknown-key-refused 1
code_keys server >"$T_TMP/server.keys"
code_keys bot >"$T_TMP/bot.keys"
for s in server bot; do
	n=$(wc -l <"$T_TMP/$s.keys")
	if [ "$n" -ge 5 ]; then ok "binary-lists-$s-keys"; else
		fail "binary-lists-$s-keys" "$n keys; stderr: $(head -c 600 "$T_TMP/known.err")"
	fi
done

# The list the binary prints is the whole array (nothing cut off).
source_keys config_server_keys >"$T_TMP/server.src"
source_keys config_bot_keys >"$T_TMP/bot.src"
for s in server bot; do
	if cmp -s "$T_TMP/$s.src" "$T_TMP/$s.keys"; then ok "binary-list-is-array-$s"; else
		fail "binary-list-is-array-$s" "engine/config.c vs binary: $(diff "$T_TMP/$s.src" "$T_TMP/$s.keys" | tr '\n' ' ')"
	fi
done

# README.md agrees, both ways, section by section.
check_readme() {	# NAME README_FILE
	for s in server bot; do
		[ "$s" = server ] && h='[server]' || h='[bot NAME]'
		ref_diff "$T_TMP/$s.keys" "$2" "$h" >"$T_TMP/$1-$s.diff"
		if [ -s "$T_TMP/$1-$s.diff" ]; then
			while IFS= read -r line; do
				fail "$1-$s" "README \"### $h\": $line"
			done <"$T_TMP/$1-$s.diff"
		else
			ok "$1-$s"
		fi
	done
}
check_readme readme-reference "$SRCDIR/README.md"

readme_rows_short "$SRCDIR/README.md" >"$T_TMP/short"
if [ -s "$T_TMP/short" ]; then
	fail readme-rows-complete "rows lacking a default, values or meaning: $(head -c 600 "$T_TMP/short")"
else
	ok readme-rows-complete
fi

# The comparison can fail: a README without one server key and with a bot
# key the code does not have gives exactly those two findings.
drop=$(head -n 1 "$T_TMP/server.keys")
after=$(head -n 1 "$T_TMP/bot.keys")
awk -v drop="$drop" -v after="$after" '
	index($0, "| `" drop "` |") == 1 { next }
	{ print }
	index($0, "| `" after "` |") == 1 { print "| `made_up_key` | none | on/off | not a key |" }
' "$SRCDIR/README.md" >"$T_TMP/README.broken"
# each mutant's findings are README.md's own (none, when it is right) and
# the one planted
for s in server bot; do
	[ "$s" = server ] && h='[server]' || h='[bot NAME]'
	[ "$s" = server ] && planted="missing $drop" || planted="extra made_up_key"
	ref_diff "$T_TMP/$s.keys" "$T_TMP/README.broken" "$h" | sort >"$T_TMP/broken-$s"
	{ cat "$T_TMP/readme-reference-$s.diff"; echo "$planted"; } | sort >"$T_TMP/wanted-$s"
	if cmp -s "$T_TMP/wanted-$s" "$T_TMP/broken-$s"; then
		ok "mutant-$s-reported"
	else
		fail "mutant-$s-reported" "wanted: $(tr '\n' ';' <"$T_TMP/wanted-$s") got: $(tr '\n' ';' <"$T_TMP/broken-$s")"
	fi
done

# Comments: README, the manual and the sample config say the same, and the
# binary does what they say (# and ; lines; " ;" after a value; a # after
# a value belongs to it).
comments_rule() {	# FILE: the "Comments: ..." sentence, on one line
	sed -e 's/^# //' -e 's/\\-/-/g' "$1" | tr '\n' ' ' |
		grep -o 'Comments: .*part of the value)\.' | sed 's/  */ /g'
}
rule=$(comments_rule "$SRCDIR/README.md")
[ -n "$rule" ] && ok comments-rule-in-readme || fail comments-rule-in-readme "README.md has no \"Comments: ...\" sentence"
for f in docs/blueflow.1.in dist/blueflow.conf.in; do
	[ "$(comments_rule "$SRCDIR/$f")" = "$rule" ] && ok "comments-rule-$f" ||
		fail "comments-rule-$f" "says \"$(comments_rule "$SRCDIR/$f")\", README \"$rule\""
done
printf '[server]\n# a comment\n; a comment\nworkers = 2 ; two\n\n[bot demo]\nflow = %s\ntoken_env = T\n' \
	"$SRCDIR/flows/onboarding.json" >"$T_TMP/comments.conf"
run "$BLUEFLOW" check -q -c "$T_TMP/comments.conf"
expect_rc comments-as-said 0
sed -i 's/^workers = 2 ; two$/workers = 2 # two/' "$T_TMP/comments.conf"
run "$BLUEFLOW" check -q -c "$T_TMP/comments.conf"
expect_rc comments-hash-after-value-is-value 1
expect_err comments-hash-after-value-says "workers = 2 # two: must be a whole number"

finish
